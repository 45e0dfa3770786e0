"""Badly conditioned and rank-deficient designs: training from a triangular factor
of the rows, the rank decided once, and the user's Gram matrix checked."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression

from skneuron import NeuronRegressor
from skneuron._data._factor import Factor, Preconditioned
from skneuron._objective import _Standardized

EPS = np.finfo(np.float64).eps


def _lstsq(X, y, fit_intercept=True):
    """Minimum-norm least squares by float64 SVD (numpy's lstsq), centred with an
    intercept; also the condition number of the (centred) X."""
    mean_x = X.mean(0) if fit_intercept else np.zeros(X.shape[1])
    mean_y = y.mean() if fit_intercept else 0.0
    coef, *_, s = np.linalg.lstsq(X - mean_x, y - mean_y, rcond=None)
    return coef, mean_y - mean_x @ coef, s


def _polynomial(n=40, degree=7, seed=0):
    rng = np.random.default_rng(seed)
    x = np.linspace(1.0, 3.0, n)
    X = np.vander(x, degree + 1, increasing=True)[:, 1:]
    y = X @ rng.normal(size=degree) + 1e-3 * rng.normal(size=n)
    return X, y


# -- the factor, as NumPy pieces ---------------------------------------------------
def test_the_factor_squares_to_the_sums_in_blocks_of_rows():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5000, 3)) * [1.0, 1e3, 1e-3] + [5.0, -2.0, 1.0]
    Y = rng.normal(size=(5000, 2))
    w = rng.uniform(0.1, 1.0, 5000)
    scaling = _Standardized(X.mean(0), X.std(0), Y.mean(0), Y.std(0))
    rows = np.arange(0, 5000, 3)
    f = Factor.of(X, Y, w, rows, scaling)
    Xs, Ys = scaling.transform(X[rows], Y[rows])
    W = w[rows] / w[rows].sum()
    A = np.hstack([Xs, Ys]) * np.sqrt(W)[:, None]
    expected = A.T @ A
    got = np.block([[f.R, f.Z], [np.zeros((2, 3)), f.rest]])
    np.testing.assert_allclose(got.T @ got, expected, atol=100 * EPS)


def test_preconditioned_units_map_weights_both_ways_and_drop_null_directions():
    X, y = _polynomial(n=12, degree=3)
    X = np.c_[X, 2.0 * X[:, 0]]  # exactly collinear: one null direction
    Y = y[:, None]
    scaling = _Standardized(X.mean(0), X.std(0), Y.mean(0), Y.std(0))
    f = Factor.of(X, Y, np.ones(len(y)), None, scaling)
    units, gram = Preconditioned.of(scaling, f, _gram_like(len(y)), rank=3)
    assert np.diag(gram.xx).sum() == 3  # rank 3 of 4
    kernel = np.arange(1.0, 5.0)[:, None] * (np.diag(gram.xx) > 0)[:, None]
    coef, intercept = units.to_original(kernel, np.zeros(1))
    back, _ = units.to_standardized(coef, intercept)
    np.testing.assert_allclose(back, kernel, atol=1e-12 * np.abs(kernel).max())


def _gram_like(count):
    from skneuron._objective import Gram

    return Gram(
        np.eye(1), np.zeros((1, 1)), np.zeros(1), np.zeros(1), np.zeros(1), 1.0, count
    )


# -- fits ------------------------------------------------------------------------
@pytest.mark.parametrize("degree", [4, 5])
def test_polynomial_bases_reach_lstsq_to_conditioning_times_eps(degree):
    """A monomial basis on [1, 3]: the sums square its condition number (1e5 to
    1e7); the factor keeps it, and the answer is lstsq's to cond(X) * eps."""
    X, y = _polynomial(degree=degree)
    coef, intercept, s = _lstsq(X, y)
    cond = s[0] / s[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = NeuronRegressor().fit(X, y)
    allowance = 1e3 * cond * EPS * np.abs(coef).max()
    assert np.abs(reg.coef_ - coef).max() <= allowance
    assert reg.rank_ == X.shape[1]
    # each to round-off of the largest (the sums' eigenvalues lose half the digits)
    assert np.all(np.abs(reg.singular_ - s) <= 1e3 * EPS * s[0])


def test_full_rank_below_linear_regressions_cutoff_is_trained_whole():
    """Degree 8: X's smallest singular value is 1e-9 of its largest, below
    LinearRegression's cut-off (1e-6, in X's units), which drops three
    directions and answers off lstsq's. The rank is decided from the factor,
    against the round-off of X's standardized columns (about 1e-13 here): 8,
    and the answer is lstsq's, to X's conditioning times eps."""
    X, y = _polynomial(degree=8)
    coef, intercept, s = _lstsq(X, y)
    assert LinearRegression().fit(X, y).rank_ == 5
    reg = NeuronRegressor().fit(X, y)
    assert reg.rank_ == 8
    cond = s[0] / s[-1]
    assert np.abs(reg.coef_ - coef).max() <= 1e3 * cond * EPS * np.abs(coef).max()


def test_exactly_collinear_columns_of_unequal_scales_give_the_minimum_norm_answer():
    """statsmodels' Longley with its ``Obs`` column, YEAR - 1946: LinearRegression's
    minimum-norm answer, with no warning (it is exactly, not nearly, deficient)."""
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.longley.load_pandas().data
    X = data.drop(columns="TOTEMP").to_numpy()
    X = np.c_[X, X[:, -1] - 1946.0]  # YEAR - 1946
    y = data["TOTEMP"].to_numpy()
    ref = LinearRegression().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = NeuronRegressor().fit(X, y)
    assert reg.rank_ == ref.rank_ == X.shape[1] - 1
    rss = np.sum((y - reg.predict(X)) ** 2)
    best = np.sum((y - ref.predict(X)) ** 2)
    assert rss <= best * (1 + 1e-8)
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-6)


@pytest.mark.parametrize("scale", [1e-200, 1e300])
def test_rank_and_singular_values_hold_for_x_far_from_one(scale):
    X, y = _polynomial(degree=4)
    ref = LinearRegression().fit(X, y)
    reg = NeuronRegressor().fit(X * scale, y)
    assert reg.rank_ == ref.rank_ == X.shape[1]
    np.testing.assert_allclose(reg.singular_, ref.singular_ * scale, rtol=1e-6)
    np.testing.assert_allclose(reg.coef_ * scale, ref.coef_, rtol=1e-6)


def test_an_exact_fit_raises_no_warning_in_fit_or_summary():
    X, _ = _polynomial(degree=5)
    y = X @ [1.0, -2.0, 0.5, 0.25, -0.125] + 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = NeuronRegressor().fit(X, y)
        res = reg.summary()
    np.testing.assert_allclose(res.params, [3.0, 1.0, -2.0, 0.5, 0.25, -0.125])


# -- a user's Gram matrix ------------------------------------------------------------
def test_a_gram_matrix_of_another_x_is_refused():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 3))
    y = X @ [1.0, 2.0, 3.0]
    other = X * [1.0, -1.0, 1.0]  # the same diagonal
    with pytest.raises(ValueError, match="precompute does not match X"):
        NeuronRegressor(precompute=other.T @ other).fit(X, y)
    NeuronRegressor(precompute=X.T @ X).fit(X, y)  # X's own is taken


def test_a_gram_matrix_of_columns_far_from_zero_is_refused_not_trained_on():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3)) + 1e8
    y = (X - 1e8) @ [1.0, 2.0, 3.0] + rng.normal(size=200)
    exact = NeuronRegressor(precompute=True).fit(X, y)
    ref = LinearRegression().fit(X - 1e8, y)
    np.testing.assert_allclose(exact.coef_, ref.coef_, rtol=1e-8)
    with pytest.raises(ValueError, match="far from zero"):
        NeuronRegressor(precompute=X.T @ X).fit(X, y)
