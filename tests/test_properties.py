"""Hypothesis: the neuron recovers known lines and has least squares' invariances."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from skneuron import NeuronRegressor

coefficient = st.floats(-100, 100).filter(lambda v: abs(v) > 1e-2)


@st.composite
def problems(draw):
    """Well-posed noise-free problems: 1-5 features, 20-300 samples, mixed scales."""
    n_features = draw(st.integers(1, 5))
    n_samples = draw(st.integers(20, 300))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scales = 10.0 ** rng.uniform(-2, 2, n_features)
    offsets = rng.uniform(-10, 10, n_features) * scales
    X = rng.standard_normal((n_samples, n_features)) * scales + offsets
    coef = np.array(
        draw(st.lists(coefficient, min_size=n_features, max_size=n_features))
    )
    coef = coef / scales
    intercept = draw(st.floats(-1e3, 1e3))
    return X, coef, intercept


@given(problems())
def test_recovers_known_coefficients(problem):
    X, coef, intercept = problem
    y = X @ coef + intercept
    reg = NeuronRegressor().fit(X, y)
    np.testing.assert_allclose(reg.coef_, coef, rtol=1e-6)
    # the intercept is exact relative to the size of the targets it offsets
    atol = 1e-7 * np.abs(y).max()
    np.testing.assert_allclose(reg.intercept_, intercept, rtol=1e-6, atol=atol)


@given(problems(), st.floats(1e-3, 1e3), st.floats(-1e3, 1e3), st.randoms())
def test_least_squares_invariances(problem, c, shift, random):
    X, coef, intercept = problem
    rng = np.random.default_rng(random.getrandbits(32))
    y = X @ coef + intercept + rng.standard_normal(len(X))
    base = NeuronRegressor().fit(X, y)
    atol = 1e-7 * (np.abs(y).max() + abs(shift))

    scaled = X.copy()
    scaled[:, 0] *= c  # scaling a feature by c divides its coefficient by c
    reg = NeuronRegressor().fit(scaled, y)
    np.testing.assert_allclose(reg.coef_[0] * c, base.coef_[0], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(reg.coef_[1:], base.coef_[1:], rtol=1e-6, atol=1e-9)

    reg = NeuronRegressor().fit(X, y + shift)  # shifting y shifts the intercept
    np.testing.assert_allclose(reg.coef_, base.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        reg.intercept_, base.intercept_ + shift, rtol=1e-6, atol=atol
    )

    order = rng.permutation(len(X))  # row order does not matter
    reg = NeuronRegressor().fit(X[order], y[order])
    np.testing.assert_allclose(reg.coef_, base.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(reg.intercept_, base.intercept_, rtol=1e-6, atol=atol)
