"""Hypothesis on designs that are hard for least squares (issue 18): polynomial
bases like NIST's, columns far from zero, exact collinearity at unequal scales, and
constant columns with and without an intercept.

Each property asserts that ``NeuronRegressor()`` gives lstsq's minimum-norm answer,
without a ConvergenceWarning. The reference is ``numpy.linalg.lstsq`` on the same
float64 design, centred where the model has an intercept (the intercept is then
the means' difference; see ``_minimum_norm``). Coefficients are compared in
standardized units (each times its column's spread), relative to the largest,
within the convergence test's ``tol`` plus the round-off both solvers incur: a
thousand ulps times the standardized design's condition number.
"""

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from skneuron import NeuronRegressor

pytestmark = pytest.mark.slow  # Hypothesis properties over many fits

EPS = np.finfo(np.float64).eps
seeds = st.integers(0, 2**32 - 1)


@pytest.fixture(scope="module", autouse=True)
def engine():
    """Start TensorFlow before the first example (its import raises the
    recursion limit, which Hypothesis would warn about inside a test)."""
    import skneuron._keras  # noqa: F401


def _minimum_norm(X, y, fit_intercept, rcond=None):
    """lstsq's coefficients, the intercept, the columns' spreads (about the mean
    with an intercept, about zero without) and the condition number of the
    design scaled to unit spread.

    Without ``rcond``, for designs of full rank: lstsq on the scaled design (on X
    as it is, lstsq is 4e-3 off a QR's answer for a degree-5 polynomial about x =
    100, which the neuron matches to 1e-9). With ``rcond``, for designs rank
    deficient by construction: the minimum norm in X's own units, singular values
    below ``rcond`` of the largest cut (centring leaves rounding-sized ones,
    which lstsq's default cutoff would invert)."""
    if fit_intercept:
        x_mean, y_mean = X.mean(0), y.mean()
        A, b = X - x_mean, y - y_mean
    else:
        A, b = X, y
    spread = np.sqrt((A**2).mean(0))
    spread[spread == 0] = 1.0
    if rcond is None:
        coef = np.linalg.lstsq(A / spread, b, rcond=None)[0] / spread
    else:
        coef = np.linalg.lstsq(A, b, rcond=rcond)[0]
    intercept = y_mean - x_mean @ coef if fit_intercept else 0.0
    s = np.linalg.svd(A / spread, compute_uv=False)
    s = s[s > (rcond or 0.0) * s[0]]  # the directions lstsq keeps
    return coef, intercept, spread, s[0] / s[-1]


def _agrees(X, y, fit_intercept, rcond=None):
    """Fit, and compare with lstsq's answer."""
    coef, intercept, spread, kappa = _minimum_norm(X, y, fit_intercept, rcond)
    reg = NeuronRegressor(fit_intercept=fit_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # no half answers
        reg.fit(X, y)
    allowance = 1e-5 + 1e3 * kappa * EPS
    got, want = reg.coef_ * spread, coef * spread
    scale = max(np.abs(want).max(), 1e-300)
    assert np.abs(got - want).max() <= allowance * scale, (kappa, got, want)
    fitted, best = reg.predict(X), X @ coef + intercept
    spread_y = max(np.abs(y - y.mean()).max(), np.abs(y).max() * EPS)
    assert np.abs(fitted - best).max() <= allowance * spread_y * np.sqrt(X.shape[1])
    return reg


# -- polynomial bases like NIST's -----------------------------------------------------
@st.composite
def polynomials(draw):
    """x on an interval (possibly far from zero, as Filip's and Pontius's), its
    powers 1..degree as columns, y a polynomial of x plus noise (or none)."""
    rng = np.random.default_rng(draw(seeds))
    n, degree = draw(st.integers(15, 80)), draw(st.integers(1, 6))
    assume(n > degree + 1)
    center = draw(st.sampled_from([0.0, 1.0, 10.0, 100.0]))
    width = draw(st.sampled_from([1.0, 10.0]))
    x = center + width * rng.uniform(-1, 1, n)
    X = x[:, None] ** np.arange(1, degree + 1)
    noise = draw(st.sampled_from([0.0, 1e-6, 1.0]))
    y = X @ rng.normal(size=degree) + rng.normal() + noise * rng.normal(size=n)
    return X, y


@settings(max_examples=40)
@given(polynomials())
def test_polynomial_bases_give_lstsq_answer(problem):
    X, y = problem
    kappa = _minimum_norm(X, y, True)[3]
    assume(kappa < 1e9)  # beyond, float64 least squares keeps under 7 digits
    _agrees(X, y, fit_intercept=True)


# -- columns far from zero ------------------------------------------------------------
@st.composite
def offset_columns(draw):
    rng = np.random.default_rng(draw(seeds))
    n, p = draw(st.integers(20, 200)), draw(st.integers(1, 5))
    offsets = 10.0 ** rng.uniform(6, 9, p) * rng.choice([-1, 1], p)
    scales = 10.0 ** rng.uniform(-1, 2, p)
    X = rng.standard_normal((n, p)) * scales + offsets
    y = (X - offsets) @ rng.normal(size=p) + 3.0 + rng.normal(size=n)
    return X, y


@settings(max_examples=30)
@given(offset_columns())
def test_columns_offset_by_1e6_to_1e9_give_lstsq_answer(problem):
    X, y = problem
    _agrees(X, y, fit_intercept=True)


# -- exact collinearity with unequal scales -------------------------------------------
@st.composite
def collinear_columns(draw):
    """A column and its multiple by 1e-3..1e3 (and maybe an offset, as a year and
    the year minus 1946), beside independent ones; y noisy."""
    rng = np.random.default_rng(draw(seeds))
    n, p = draw(st.integers(10, 100)), draw(st.integers(1, 4))
    base = rng.standard_normal((n, p)) * 10.0 ** rng.uniform(-1, 1, p)
    factor = 10.0 ** draw(st.floats(-3, 3))
    shift = draw(st.sampled_from([0.0, 1946.0]))
    X = np.column_stack([base, factor * base[:, 0] - shift])
    X = X[:, rng.permutation(p + 1)]
    y = base @ rng.normal(size=p) + rng.normal(size=n)
    return X, y


@settings(max_examples=30)
@given(collinear_columns())
def test_exactly_collinear_columns_give_the_minimum_norm_answer(problem):
    X, y = problem
    assume(len(X) > X.shape[1] + 1)
    reg = _agrees(X, y, fit_intercept=True, rcond=1e-10)
    assert reg.rank_ == X.shape[1] - 1


# -- constant columns -----------------------------------------------------------------
@st.composite
def constant_columns(draw):
    """Varying columns and one or two constant ones (ones, or another value)."""
    rng = np.random.default_rng(draw(seeds))
    n, p = draw(st.integers(5, 60)), draw(st.integers(1, 4))
    X = rng.standard_normal((n, p)) * 10.0 ** rng.uniform(-1, 1, p)
    values = draw(st.lists(st.sampled_from([1.0, -3.0, 250.0]), min_size=1, max_size=2))
    X = np.column_stack([X] + [np.full(n, v) for v in values])
    X = X[:, rng.permutation(X.shape[1])]
    y = X @ rng.normal(size=X.shape[1]) + rng.normal(size=n)
    return X, y


@settings(max_examples=30)
@given(constant_columns(), st.booleans())
def test_constant_columns_give_the_minimum_norm_answer(problem, fit_intercept):
    X, y = problem
    _agrees(X, y, fit_intercept=fit_intercept, rcond=1e-10)  # two: collinear
