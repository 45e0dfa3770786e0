"""Hypothesis on the edges of LinearRegression's domain: sparse X, more features
than rows, penalties, sample weights, streams, and predictions linear in X.

Each property fits the neuron a few times per example, so the example counts are
set per test (the slow losses and the streams get fewest); the whole file takes
about a minute on two cores.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, LinearRegression, Ridge

from skneuron import NeuronRegressor

pytestmark = pytest.mark.slow  # Hypothesis properties over many fits

seeds = st.integers(0, 2**32 - 1)


@pytest.fixture(scope="module", autouse=True)
def engine():
    """Start TensorFlow before the first example (its import raises the
    recursion limit, which Hypothesis would warn about inside a test)."""
    import skneuron._keras  # noqa: F401


def _relative(a, b):
    """Largest difference, relative to the largest reference value."""
    b = np.asarray(b)
    return np.abs(np.asarray(a) - b).max() / max(np.abs(b).max(), 1e-300)


def _design(rng, n_samples, n_features):
    """Columns of mixed scales (1e-2..1e2) and offsets, and noisy targets."""
    scales = 10.0 ** rng.uniform(-2, 2, n_features)
    offsets = rng.uniform(-5, 5, n_features) * scales
    X = rng.standard_normal((n_samples, n_features)) * scales + offsets
    coef = rng.normal(size=n_features) / scales
    y = X @ coef + rng.uniform(-10, 10) + rng.standard_normal(n_samples)
    return X, y


def _quiet(estimator, X, y, **fit_params):
    """Fit, failing on a ConvergenceWarning: each property's answer is reached."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return estimator.fit(X, y, **fit_params)


# -- sparse X and its dense copy ------------------------------------------------------
@st.composite
def sparse_problems(draw):
    rng = np.random.default_rng(draw(seeds))
    n, p = draw(st.integers(10, 120)), draw(st.integers(1, 8))
    density = draw(st.floats(0.05, 1.0))
    X = sp.random(n, p, density=density, random_state=rng).toarray()
    X *= 10.0 ** rng.uniform(-2, 2, p)  # stored values of mixed scales
    n_targets = draw(st.sampled_from([1, 2]))
    y = X @ rng.normal(size=(p, n_targets)) + rng.normal(size=(n, n_targets))
    weights = rng.uniform(0.1, 3, n) if draw(st.booleans()) else None
    container = draw(st.sampled_from([sp.csr_matrix, sp.csc_matrix, sp.coo_array]))
    return X, y.ravel() if n_targets == 1 else y, weights, container


@settings(max_examples=15)
@given(sparse_problems(), st.booleans())
def test_sparse_and_dense_copies_give_one_answer(problem, fit_intercept):
    X, y, weights, container = problem
    params = dict(fit_intercept=fit_intercept, epochs=20_000)
    dense = NeuronRegressor(**params).fit(X, y, sample_weight=weights)
    reg = NeuronRegressor(**params).fit(container(X), y, sample_weight=weights)
    assert _relative(reg.coef_, dense.coef_) < 1e-9
    scale = np.abs(y).max()
    np.testing.assert_allclose(reg.intercept_, dense.intercept_, atol=1e-9 * scale)
    np.testing.assert_allclose(
        reg.predict(container(X)), dense.predict(X), atol=1e-9 * scale
    )


# -- more features than rows: the minimum-norm solution -------------------------------
@st.composite
def wide_problems(draw):
    rng = np.random.default_rng(draw(seeds))
    n = draw(st.integers(3, 25))
    p = draw(st.integers(n + 1, 4 * n))
    return _design(rng, n, p)


@settings(max_examples=8)
@given(wide_problems(), st.booleans())
def test_wide_problems_give_the_minimum_norm_solution(problem, fit_intercept):
    """The minimum-norm answer, or a warning that says why not. Without an
    intercept, columns far from zero make some drawn X nearly rank deficient
    (singular values below 1e-5 of the largest, which float64 gradient descent
    cannot resolve), or leave the gradient at its rounding floor before the
    convergence test can tell: a ConvergenceWarning, never a silent difference."""
    X, y = problem
    ref = LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg = NeuronRegressor(fit_intercept=fit_intercept).fit(X, y)
    said = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert len(said) == len(caught), [str(w.message) for w in caught]
    if said:
        assert all(
            "nearly rank deficient" in message or "did not converge" in message
            for message in said
        ), said
        return
    assert _relative(reg.coef_, ref.coef_) < 1e-8
    new = np.random.default_rng(0).standard_normal((5, X.shape[1])) * X.std(0)
    np.testing.assert_allclose(
        reg.predict(new), ref.predict(new), atol=1e-7 * np.abs(y).max()
    )


# -- penalties: ElasticNet's, Lasso's and Ridge's objectives --------------------------
@settings(max_examples=15)
@given(
    seeds,
    st.integers(30, 200),
    st.integers(1, 6),
    st.floats(-3, 1),  # log10 of alpha relative to the data's largest useful one
    st.sampled_from([0.0, 0.25, 0.5, 1.0]),
)
def test_penalties_agree_with_elastic_net(seed, n, p, log_alpha, l1_ratio):
    X, y = _design(np.random.default_rng(seed), n, p)
    centred = X - X.mean(0)
    alpha_max = np.abs(centred.T @ (y - y.mean())).max() / n  # Lasso's, in y units
    alpha = alpha_max * 10.0**log_alpha
    if l1_ratio == 0:  # Ridge's alpha multiplies the sum of squares, not the mean
        ref = Ridge(alpha=alpha * n, tol=1e-14).fit(X, y)
    else:
        ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-15, max_iter=10**6)
        ref.fit(X, y)
    reg = _quiet(NeuronRegressor(alpha=alpha, l1_ratio=l1_ratio), X, y)
    # relative to each coefficient's scale: the columns' scales differ by 1e4
    size = np.abs(ref.coef_ * X.std(0)).max() + np.std(y) * 1e-6
    assert np.abs((reg.coef_ - ref.coef_) * X.std(0)).max() < 1e-6 * size
    np.testing.assert_allclose(
        reg.intercept_, ref.intercept_, atol=1e-6 * np.abs(y).max()
    )
    if l1_ratio > 0:  # the same support: zeros stay (near) zero, others do not
        ours, theirs = np.abs(reg.coef_ * X.std(0)), np.abs(ref.coef_ * X.std(0))
        assert np.all(ours[ref.coef_ == 0] < 1e-7 * np.std(y))
        assert np.all(ours[theirs > 1e-5 * np.std(y)] > 0)


# -- sample weights are repeated rows, for every loss ---------------------------------
@pytest.mark.parametrize(
    "loss, examples",
    [("squared_error", 15), ("huber", 6), ("absolute_error", 3)],
)
def test_integer_weights_equal_repeated_rows(loss, examples):
    @settings(max_examples=examples)
    @given(seeds, st.integers(8, 40), st.integers(1, 3))
    def check(seed, n, p):
        rng = np.random.default_rng(seed)
        X, y = _design(rng, n, p)
        y += rng.standard_t(2, n)  # heavy tails, as robust losses are made for
        weights = rng.integers(0, 4, n)
        weights[: p + 2] = np.maximum(weights[: p + 2], 1)  # enough rows kept
        repeated = np.repeat(np.arange(n), weights)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            a = NeuronRegressor(loss=loss).fit(X, y, sample_weight=weights * 1.0)
            b = NeuronRegressor(loss=loss).fit(X[repeated], y[repeated])
        # the objective, its scaling and the steps are the same
        assert _relative(a.coef_, b.coef_) < 1e-9
        assert a.intercept_ == pytest.approx(b.intercept_, abs=1e-9 * np.abs(y).max())

    check()


# -- partial_fit over any chunking reaches fit's answer at every pass's end ----------
@settings(max_examples=6)
@given(
    seeds,
    st.integers(20, 150),
    st.integers(1, 4),
    st.integers(2, 5),
    st.sampled_from(["shuffled", "by target", "by a feature"]),
)
def test_partial_fit_over_drawn_chunks_reaches_fit(seed, n, p, n_chunks, order):
    rng = np.random.default_rng(seed)
    X, y = _design(rng, n, p)
    rows = {
        "shuffled": rng.permutation(n),
        "by target": np.argsort(y),
        "by a feature": np.argsort(X[:, rng.integers(p)]),
    }[order]
    cuts = np.sort(rng.choice(np.arange(1, n), n_chunks - 1, replace=False))
    chunks = np.split(rows, cuts)
    full = NeuronRegressor().fit(X, y)
    reg = NeuronRegressor()
    for _ in range(2):  # k passes: the rows k times, whose answer is fit's
        for chunk in chunks:
            reg.partial_fit(X[chunk], y[chunk])
        assert _relative(reg.coef_, full.coef_) < 1e-6
        scale = np.abs(y).max()
        assert reg.intercept_ == pytest.approx(full.intercept_, abs=1e-6 * scale)


# -- predictions are affine in X, in predict and in the Keras model -------------------
@pytest.fixture(scope="module")
def fitted():
    X, y = _design(np.random.default_rng(3), 60, 3)
    return NeuronRegressor().fit(X, y), X


@settings(max_examples=10)
@given(seeds, st.floats(-1e3, 1e3), st.integers(1, 20))
def test_predictions_are_affine_in_x(fitted, seed, a, n_rows):
    reg, X = fitted
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n_rows, 3)) * X.std(0) + X.mean(0)
    B = rng.standard_normal((n_rows, 3)) * X.std(0)
    mixed = reg.predict(a * A + (1 - a) * B)
    size = np.abs(a) * np.abs(A) + np.abs(1 - a) * np.abs(B)
    bound = 1e-12 * (size @ np.abs(reg.coef_) + abs(reg.intercept_))
    affine = a * reg.predict(A) + (1 - a) * reg.predict(B)
    assert np.all(np.abs(mixed - affine) <= bound)
    # the Keras neuron holds the same float64 weights as coef_ and intercept_
    # (where its backend has float64 outside the engine: not JAX by default)
    if reg.model_.get_layer("neuron").dtype == "float64":
        keras = np.asarray(reg.model_(A)).ravel()
        np.testing.assert_allclose(keras, reg.predict(A), rtol=1e-12, atol=1e-12)
