"""LinearRegression's whole domain: each class of problem against an independent
answer, without a ConvergenceWarning where the answer is reached."""

import warnings

import numpy as np
import pytest
from scipy.optimize import linprog, minimize
from sklearn.datasets import make_low_rank_matrix
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LinearRegression, QuantileRegressor, Ridge

from skneuron import NeuronRegressor


def _quiet_fit(estimator, X, y, **fit_params):
    """Fit, failing on a ConvergenceWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return estimator.fit(X, y, **fit_params)


def _relative(a, b):
    return np.abs(np.asarray(a) - b).max() / np.abs(b).max()


# -- minimum norm ----------------------------------------------------------------
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_duplicated_columns_give_the_minimum_norm_answer(fit_intercept):
    rng = np.random.default_rng(0)
    x = rng.normal(size=50)
    X = np.c_[x, 10 * x, rng.normal(size=50)]
    y = 2 * x - X[:, 2] + rng.normal(size=50)
    ref = LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    reg = _quiet_fit(NeuronRegressor(fit_intercept=fit_intercept), X, y)
    assert _relative(reg.coef_, ref.coef_) < 1e-8
    assert reg.rank_ == ref.rank_ == 2
    np.testing.assert_allclose(reg.singular_, ref.singular_, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("shape", [(5, 20), (30, 200)])
def test_more_features_than_rows_give_the_minimum_norm_answer(shape):
    """Columns of scales from 1e-2 to 1e2: predictions on new rows agree too."""
    rng = np.random.default_rng(1)
    n, p = shape
    scales = np.logspace(-2, 2, p)
    X = rng.normal(size=(n, p)) * scales + rng.normal(size=p)
    y = rng.normal(size=n)
    ref = LinearRegression().fit(X, y)
    reg = _quiet_fit(NeuronRegressor(), X, y)
    assert _relative(reg.coef_, ref.coef_) < 1e-8
    new = rng.normal(size=(10, p)) * scales
    np.testing.assert_allclose(
        reg.predict(new), ref.predict(new), atol=1e-8 * np.std(y)
    )


@pytest.mark.parametrize("precompute", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_wide_x_with_a_constant_column_and_no_intercept_is_minimum_norm(
    seed, precompute
):
    """scikit-learn's test_ridge_regression_unpenalized, wide case: without an
    intercept a constant column is a feature like the others (it was once left
    at its own scale, and the answer was up to 94 % off, silently)."""
    rng = np.random.RandomState(seed)
    X = make_low_rank_matrix(n_samples=4, n_features=12, effective_rank=4,
                             random_state=rng)  # fmt: skip
    X[:, -1] = 1
    y = rng.uniform(-10, 10, size=4)
    ref = np.linalg.lstsq(X, y, rcond=None)[0]
    reg = _quiet_fit(NeuronRegressor(fit_intercept=False, precompute=precompute), X, y)
    assert _relative(reg.coef_, ref) < 1e-6  # tol; seen 1e-9 and better


# -- strong penalties ----------------------------------------------------------------
@pytest.mark.parametrize(
    "alpha, scale",
    [(1.0, 1e-3), (1e6, 1.0), (30.0, 1.0)],
    ids=["1-on-1e-3", "1e6", "30"],
)
def test_strong_l2_penalties_reach_ridge_quickly(diabetes, alpha, scale):
    X, y = diabetes
    X = (X - X.mean(0)) / X.std(0) * scale
    ref = Ridge(alpha=alpha * len(y), tol=1e-14).fit(X, y)
    reg = _quiet_fit(NeuronRegressor(alpha=alpha), X, y)
    assert _relative(reg.coef_, ref.coef_) < 1e-8
    assert reg.intercept_ == pytest.approx(ref.intercept_, rel=1e-10)
    assert reg.n_iter_ < 500


def test_lasso_at_and_beyond_alpha_max_is_all_zero_at_once(diabetes):
    X, y = diabetes
    alpha_max = np.abs((X - X.mean(0)).T @ (y - y.mean())).max() / len(y)
    for alpha in [alpha_max, 3 * alpha_max]:
        reg = _quiet_fit(NeuronRegressor(alpha=alpha, l1_ratio=1.0), X, y)
        assert not reg.coef_.any() and reg.intercept_ == pytest.approx(y.mean())
        assert reg.n_iter_ < 50
    ref = Lasso(alpha=0.99 * alpha_max, tol=1e-14).fit(X, y)
    reg = _quiet_fit(NeuronRegressor(alpha=0.99 * alpha_max, l1_ratio=1.0), X, y)
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=1e-6, atol=1e-9)


def test_positive_against_the_data_is_zero_at_once():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(100, 3))
    y = -X @ [1.0, 2.0, 3.0] + rng.normal(size=100)
    reg = _quiet_fit(NeuronRegressor(positive=True), X, y)
    ref = LinearRegression(positive=True).fit(X, y)
    np.testing.assert_array_equal(reg.coef_, ref.coef_)
    assert reg.n_iter_ < 50


# -- the absolute error on small and degenerate data ---------------------------------
def test_absolute_error_on_a_constant_x_is_the_median():
    X, y = np.ones((3, 1)), np.array([1.0, 2.0, 11.0])
    reg = _quiet_fit(NeuronRegressor(loss="absolute_error"), X, y)
    assert reg.intercept_ == pytest.approx(2.0, rel=1e-8)


@pytest.mark.parametrize("alpha", [0.01, 1.0, 100.0])
def test_absolute_error_with_l1_is_quantile_regression(alpha):
    """scikit-learn's quantile toy problem; QuantileRegressor's alpha is ours / 2
    (its pinball loss is half the absolute error)."""
    X, y = np.array([[0.0], [1.0], [1.0]]), np.array([1.0, 2.0, 11.0])
    ref = QuantileRegressor(quantile=0.5, alpha=alpha / 2, solver="highs").fit(X, y)
    reg = _quiet_fit(
        NeuronRegressor(loss="absolute_error", alpha=alpha, l1_ratio=1.0), X, y
    )
    np.testing.assert_allclose(reg.coef_, ref.coef_, atol=1e-5)
    assert reg.intercept_ == pytest.approx(ref.intercept_, abs=1e-5)


@pytest.mark.slow
def test_absolute_error_on_diabetes_reaches_the_linear_program(diabetes):
    """Badly conditioned and not smooth: within 1e-5 of the objective of the
    exact linear program (scipy's HiGHS)."""
    X, y = diabetes
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1)), np.eye(n), -np.eye(n)])
    cost = np.r_[np.zeros(d + 1), np.ones(2 * n) / n]
    bounds = [(None, None)] * (d + 1) + [(0, None)] * (2 * n)
    best = linprog(cost, A_eq=A, b_eq=y, bounds=bounds, method="highs").fun
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = NeuronRegressor(loss="absolute_error").fit(X, y)
    assert np.mean(np.abs(y - reg.predict(X))) <= best * (1 + 1e-5)


# -- slow convergence ---------------------------------------------------------------
@pytest.mark.slow
def test_a_badly_conditioned_problem_converges_within_the_default_budget():
    """100 x 100, no intercept, condition number 2e3 (4e6 for the Hessian)."""
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.normal(size=(100, 100)))
    V, _ = np.linalg.qr(rng.normal(size=(100, 100)))
    X = U @ np.diag(np.logspace(np.log10(2e3), 0, 100)) @ V.T
    y = X @ rng.normal(size=100) + 0.1 * rng.normal(size=100)
    exact = np.linalg.lstsq(X, y, rcond=None)[0]
    reg = _quiet_fit(NeuronRegressor(fit_intercept=False), X, y)
    assert _relative(reg.coef_, exact) < 1e-8


def test_huber_with_few_inliers_matches_its_objectives_minimum():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = X @ [1.0, 2.0, 3.0] + 10 * rng.standard_t(1, size=30)

    def objective(p, epsilon=0.5):
        r = np.abs(y - X @ p[:-1] - p[-1])
        return np.mean(
            np.where(r <= epsilon, 0.5 * r**2, epsilon * r - 0.5 * epsilon**2)
        )

    ref = minimize(objective, np.zeros(4), method="BFGS", options={"gtol": 1e-12})
    reg = _quiet_fit(NeuronRegressor(loss="huber", epsilon=0.5), X, y)
    assert objective(np.r_[reg.coef_, reg.intercept_]) <= ref.fun * (1 + 1e-9)
    np.testing.assert_allclose(reg.coef_, ref.x[:-1], rtol=1e-5)


# -- other optimizers ---------------------------------------------------------------
@pytest.mark.slow
def test_other_optimizers_stop_on_tol_or_say_what_to_change(diabetes):
    X, y = diabetes
    with pytest.warns(ConvergenceWarning, match="learning_rate.*optimizer='sgd'"):
        NeuronRegressor(optimizer="rmsprop", learning_rate=0.01, epochs=300).fit(X, y)
    line = np.linspace(0, 1, 50)[:, None]
    reg = _quiet_fit(  # a well-conditioned problem: Adam meets tol and stops
        NeuronRegressor(optimizer="adam", learning_rate=0.01, tol=1e-4),
        line,
        3 * line.ravel() + 1,
    )
    assert reg.n_iter_ < reg.epochs if reg.epochs != "auto" else reg.n_iter_ < 10_000


def _nearly_rank_deficient():
    """Singular values down to 5e-6 of the largest: LinearRegression counts them
    (its cut-off is 1e-6); the sums' curvature falls to 2.5e-11 of the largest,
    too little for float64 gradient descent."""
    rng = np.random.default_rng(6)
    U, _ = np.linalg.qr(rng.normal(size=(30, 6)))
    V, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    X = U @ np.diag([1.0, 0.7, 0.3, 0.1, 0.05, 5e-6]) @ V.T
    return X, rng.normal(size=30)


def test_nearly_rank_deficient_x_trains_from_its_factor_to_lstsq():
    """The factor keeps X's own conditioning (2e5), and training in its units
    reaches lstsq's answer to that times eps, with no warning."""
    X, y = _nearly_rank_deficient()
    coef = np.linalg.lstsq(X, y, rcond=None)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = NeuronRegressor(fit_intercept=False).fit(X, y)
    eps = np.finfo(np.float64).eps
    assert np.abs(reg.coef_ - coef).max() <= 1e3 * 2e5 * eps * np.abs(coef).max()


@pytest.mark.slow
def test_nearly_rank_deficient_rows_warn_rather_than_differ_silently():
    """Trained on the rows (no factor there), the weak directions cannot be
    resolved: a warning, which names the line that called fit."""
    X, y = _nearly_rank_deficient()
    with pytest.warns(ConvergenceWarning, match="nearly rank deficient") as caught:
        NeuronRegressor(fit_intercept=False, precompute=False).fit(X, y)
    assert {w.filename for w in caught} == {__file__}
