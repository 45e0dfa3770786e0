"""The NumPy pieces of training, each on its own: losses, penalty, objective, sums,
step rules and stages. None of them starts TensorFlow."""

import subprocess
import sys

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from skneuron._loss import (
    LOSSES,
    AbsoluteError,
    Huber,
    SmoothedAbsoluteError,
    SquaredError,
    make_loss,
    parameters,
)
from skneuron._moments import Moments
from skneuron._objective import Gram, Objective, Penalty, Rows, _Standardized
from skneuron._schedule import (
    Curvature,
    OptimizerSpec,
    curvature,
    heavy_ball,
    is_keras_sgd,
    stages,
    step_rule,
)

SMOOTH_LOSSES = [SquaredError(), Huber(0.7), SmoothedAbsoluteError(0.3)]
ALL_LOSSES = [*SMOOTH_LOSSES, AbsoluteError()]


def _residuals():
    """Residuals away from every loss's kinks (0 and +-epsilon)."""
    r = np.linspace(-3, 3, 61)
    return r[np.min(np.abs(r[:, None] - [0.0, 0.7, -0.7, 0.3, -0.3]), 1) > 1e-3]


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    Y = X @ rng.normal(size=(3, 2)) + rng.standard_t(3, size=(40, 2))
    return Rows(X, Y, rng.uniform(0.5, 2.0, 40))


# -- losses ---------------------------------------------------------------------
@pytest.mark.parametrize("loss", ALL_LOSSES, ids=lambda loss: loss.name)
def test_loss_derivative_and_curvature_match_finite_differences(loss):
    r, h = _residuals(), 1e-6
    numeric = (loss.pointwise(r + h) - loss.pointwise(r - h)) / (2 * h)
    np.testing.assert_allclose(loss.derivative(r), numeric, rtol=1e-6, atol=1e-8)
    numeric = (loss.derivative(r + h) - loss.derivative(r - h)) / (2 * h)
    np.testing.assert_allclose(loss.curvature(r), numeric, atol=1e-6)
    assert np.all(loss.curvature(r) <= loss.lipschitz() + 1e-12)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_scales_with_the_units_of_y(name):
    """The loss in standardized units times y_scale**degree is the loss in y units:
    what makes the penalty and the reported loss exact after standardizing."""
    loss, scale = make_loss(name, epsilon=0.8), np.array([250.0])
    r = _residuals() * 100
    standardized = loss.standardized(scale)
    np.testing.assert_allclose(
        standardized.pointwise(r / scale) * scale**loss.degree,
        loss.pointwise(r),
        rtol=1e-12,
    )


def test_reported_losses_are_keras_mse_mae_and_huber():
    r, scale = _residuals(), np.array([3.0])
    mean = np.array([SquaredError().pointwise(r / scale).mean()])
    np.testing.assert_allclose(SquaredError().to_y_units(mean, scale), np.mean(r**2))
    mean = np.array([AbsoluteError().pointwise(r / scale).mean()])
    np.testing.assert_allclose(
        AbsoluteError().to_y_units(mean, scale), np.abs(r).mean()
    )


def test_smoothed_absolute_error_tends_to_the_absolute_error():
    r = _residuals()
    for eps in [1.0, 1e-2, 1e-4]:
        gap = np.abs(r) - SmoothedAbsoluteError(eps).pointwise(r)
        assert np.all((gap >= 0) & (gap <= eps / 2 + 1e-15))
    assert AbsoluteError().smoothed(0.1) == SmoothedAbsoluteError(0.1)


def test_make_loss_takes_only_its_own_parameters():
    assert make_loss("huber", epsilon=2.0) == Huber(2.0)
    assert make_loss("squared_error", epsilon=2.0) == SquaredError()
    assert parameters(Huber(2.0)) == {"epsilon": 2.0}
    assert parameters(AbsoluteError()) == {}


# -- penalty --------------------------------------------------------------------
def test_penalty_is_elastic_nets_in_original_units():
    scaling = _Standardized(
        np.zeros(3), np.array([0.5, 2.0, 10.0]), np.zeros(2), np.array([3.0, 0.1])
    )
    kernel = np.array([[0.3, -1.0], [0.0, 2.0], [-0.7, 0.4]])
    coef, _ = scaling.to_original(kernel, np.zeros(2))
    alpha, l1_ratio = 0.4, 0.3
    for loss in [SquaredError(), AbsoluteError()]:
        penalty = Penalty.elastic_net(alpha, l1_ratio, scaling, loss.degree)
        in_y_units = penalty.value(kernel) * scaling.Y_scale**loss.degree
        expected = alpha * l1_ratio * np.abs(coef).sum(1) + alpha * (
            1 - l1_ratio
        ) / 2 * (coef**2).sum(1)
        np.testing.assert_allclose(in_y_units, expected, rtol=1e-12)


def test_penalty_prox_is_the_l1_proximal_step():
    penalty = Penalty(np.zeros((3, 1)), np.array([[0.5], [0.0], [2.0]]))
    kernel = np.array([[1.3], [-0.4], [1.1]])
    step = 0.7
    prox = penalty.prox(kernel, step)
    for j in range(3):
        best = minimize_scalar(
            lambda z, j=j: (
                0.5 * (z - kernel[j, 0]) ** 2 + step * penalty.l1[j, 0] * abs(z)
            ),
            bounds=(-5, 5),
            method="bounded",
            options={"xatol": 1e-12},
        )
        assert prox[j, 0] == pytest.approx(best.x, abs=1e-8)


def test_min_subgradient_vanishes_exactly_at_optima():
    l1 = np.full((3, 1), 0.5)
    penalty = Penalty(np.zeros((3, 1)), l1)
    kernel = np.array([[0.0], [1.0], [0.0]])
    grad = np.array([[0.3], [-0.5], [-0.6]])  # inside, balanced, outside [-l1, l1]
    sub = penalty.min_subgradient(grad, kernel)
    np.testing.assert_allclose(sub[:, 0], [0.0, 0.0, -0.1])
    positive = Penalty(np.zeros((3, 1)), l1, positive=True)
    grad = np.array([[2.0], [-0.5], [-0.6]])  # held at zero while g >= -l1
    np.testing.assert_allclose(
        positive.min_subgradient(grad, kernel)[:, 0], [0.0, 0.0, -0.1]
    )


# -- objective and sums ------------------------------------------------------------
@pytest.mark.parametrize("loss", SMOOTH_LOSSES, ids=lambda loss: loss.name)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_objective_gradient_matches_finite_differences(problem, loss, fit_intercept):
    rng = np.random.default_rng(1)
    l2 = rng.uniform(0, 1, (3, 2))
    objective = Objective(loss, Penalty(l2, np.zeros((3, 2))), fit_intercept)
    kernel, bias = rng.normal(size=(3, 2)), rng.normal(size=2) * fit_intercept
    grad_kernel, grad_bias = objective.gradient(kernel, bias, problem)
    h = 1e-6
    for i in range(3):
        step = np.zeros((3, 2))
        step[i] = h
        numeric = (
            objective.value(kernel + step, bias, problem)
            - objective.value(kernel - step, bias, problem)
        ) / (2 * h)
        np.testing.assert_allclose(grad_kernel[i], numeric, rtol=1e-5, atol=1e-8)
    if fit_intercept:
        numeric = (
            objective.value(kernel, bias + h, problem)
            - objective.value(kernel, bias - h, problem)
        ) / (2 * h)
        np.testing.assert_allclose(grad_bias, numeric, rtol=1e-5, atol=1e-8)


def test_sums_give_the_squared_loss_of_the_rows(problem):
    rng = np.random.default_rng(2)
    kernel, bias = rng.normal(size=(3, 2)), rng.normal(size=2)
    objective = Objective(SquaredError(), Penalty.none(3, 2))
    np.testing.assert_allclose(
        Gram.of(problem).half_mean_squares(kernel, bias),
        objective.value(kernel, bias, problem),
        rtol=1e-12,
    )


def _weighted_data(offset=0.0, scale=1.0, n=1000, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)) * [1.0, 10.0, 0.01, 3.0] * scale + offset
    Y = X @ rng.normal(size=(4, 2)) + rng.normal(size=(n, 2)) * scale
    return X, Y, rng.uniform(0.1, 1.0, n)


@pytest.mark.parametrize("center", [True, False])
def test_moments_in_blocks_equal_moments_at_once(center, monkeypatch):
    X, Y, sw = _weighted_data()
    whole = Moments.of(X, Y, sw)
    monkeypatch.setattr("skneuron._moments._BLOCK_VALUES", 4 * 37)  # 37-row blocks
    blocks = Moments.of(X, Y, sw)
    scaling = whole.scaling(center)
    np.testing.assert_allclose(blocks.scaling(center).X_scale, scaling.X_scale)
    a, b = whole.gram(whole, scaling, center), blocks.gram(blocks, scaling, center)
    for name in ["xx", "xy", "yy", "x_mean", "y_mean"]:
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), atol=1e-13)
    assert blocks.count == whole.count == len(X)


@pytest.mark.parametrize("center", [True, False])
def test_moments_standardize_as_the_rows_do(center):
    X, Y, sw = _weighted_data()
    moments = Moments.of(X, Y, sw)
    scaling = moments.scaling(center)
    for A, offset, scale in [
        (X, scaling.X_offset, scaling.X_scale),
        (Y, scaling.Y_offset, scaling.Y_scale),
    ]:  # two passes in float64
        mean = np.average(A, 0, sw) if center else np.zeros(A.shape[1])
        np.testing.assert_allclose(offset, mean, rtol=1e-12, atol=1e-14)
        spread = np.sqrt(np.average((A - mean) ** 2, 0, sw))
        np.testing.assert_allclose(scale, spread, rtol=1e-12)
    expected = Gram.of(Rows(*scaling.transform(X, Y), sw))
    got = moments.gram(moments, scaling, center)
    for name in ["xx", "xy", "yy", "x_mean", "y_mean"]:
        np.testing.assert_allclose(
            getattr(got, name), getattr(expected, name), atol=1e-12
        )


@pytest.mark.parametrize("offset, scale", [(1e9, 1.0), (0.0, 1e150), (0.0, 1e-150)])
def test_moments_keep_offsets_and_extreme_scales_exact(offset, scale):
    """Data far from zero keep their spread; huge and tiny data do not overflow."""
    X, Y, sw = _weighted_data(offset=offset, scale=scale)
    moments = Moments.of(X, Y, sw)
    scaling = moments.scaling(True)
    gram = moments.gram(moments, scaling, True)
    assert np.all(np.isfinite(gram.xx)) and np.all(np.isfinite(scaling.X_scale))
    # the correlations of the centred data, computed in two passes in float64
    D = (X - np.average(X, 0, sw)) / scale
    C = (D * sw[:, None]).T @ D
    correlation = C / np.sqrt(np.outer(np.diag(C), np.diag(C)))
    np.testing.assert_allclose(gram.xx, correlation, atol=1e-9 if offset else 1e-13)
    np.testing.assert_allclose(
        scaling.X_scale / scale, np.sqrt(np.diag(C) / sw.sum()), rtol=1e-9
    )


def test_held_out_sums_are_in_the_training_units():
    X, Y, sw = _weighted_data()
    train, val = np.arange(700), np.arange(700, 1000)
    moments = Moments.of(X, Y, sw, train)
    scaling = moments.scaling(True)
    held_out = Moments.of(X, Y, sw, val, like=moments).gram(moments, scaling, True)
    expected = Gram.of(Rows(*scaling.transform(X[val], Y[val]), sw[val]))
    for name in ["xx", "xy", "yy", "x_mean", "y_mean"]:
        np.testing.assert_allclose(
            getattr(held_out, name), getattr(expected, name), atol=1e-12
        )


def _exact_residuals(X, y, coef, intercept):
    """``y - X coef - intercept`` in rational arithmetic, rounded once."""
    from fractions import Fraction

    rows = []
    for x, target in zip(X, y, strict=True):
        terms = [Fraction(a) * Fraction(b) for a, b in zip(x, coef, strict=True)]
        rows.append(float(Fraction(target) - Fraction(intercept) - sum(terms)))
    return np.array(rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_residuals_that_cancel_keep_their_digits(seed):
    """Residuals a billion times smaller than their terms (a polynomial basis, as
    NIST's Filip): within a few ulps of the exact ones, where plain arithmetic
    loses most of their digits."""
    from skneuron._moments import residuals

    rng = np.random.default_rng(seed)
    x = rng.uniform(-9, -3, 60)
    X = np.vander(x, 11, increasing=True)
    y = np.sin(x) + rng.normal(scale=1e-6, size=60)
    intercept, *coef = np.linalg.lstsq(X, y, rcond=None)[0]  # terms of 1e5 cancel
    X, coef = X[:, 1:], np.array(coef)
    r = residuals(X, y[:, None], coef[None], np.array([intercept]))[:, 0]
    exact = _exact_residuals(X, y, coef, intercept)
    terms = np.abs(X) @ np.abs(coef) + abs(intercept) + np.abs(y)
    # Dot2's bound: one rounding of the result, and the square of (terms) ulps
    gamma = 2 * (X.shape[1] + 2) * np.finfo(float).eps
    allowance = np.finfo(float).eps * np.abs(exact) + gamma**2 * terms
    assert np.all(np.abs(r - exact) <= allowance)
    plain = y - X @ coef - intercept
    assert np.max(np.abs(plain - exact) / np.abs(exact)) > 1e-8  # what it avoids


def test_residuals_without_cancellation_are_computed_plainly():
    from skneuron._moments import residuals

    X, Y, _ = _weighted_data()
    coef, intercept = np.ones((Y.shape[1], X.shape[1])), np.zeros(Y.shape[1])
    expected = Y - X @ coef.T - intercept
    np.testing.assert_array_equal(residuals(X, Y, coef, intercept), expected)


def test_residuals_of_columns_near_float64s_top_stay_finite():
    """Terms that cancel, but columns too large for the exact split (1e301):
    computed plainly, never NaN."""
    from skneuron._moments import residuals

    X = np.array([[1e301], [2e301], [3e301]])
    Y = np.array([[1.0], [2.0], [3.0000001]])
    r = residuals(X, Y, np.array([[1e-301]]), np.zeros(1))
    np.testing.assert_array_equal(r, Y - X @ np.array([[1e-301]]))


# -- step rules and stages ------------------------------------------------------------
def test_heavy_ball_contracts_every_curvature_between_the_bounds():
    lipschitz, strong = 4.0, 0.01
    rate, momentum = heavy_ball(lipschitz, strong)
    assert momentum == pytest.approx(((np.sqrt(400) - 1) / (np.sqrt(400) + 1)) ** 2)
    for curv in np.linspace(strong, lipschitz, 50):  # x' = x - rate c x + momentum v
        step = np.array([[1 + momentum - rate * curv, -momentum], [1, 0]])
        rate_of_contraction = np.abs(np.linalg.eigvals(step)).max()
        # within 1 % of sqrt(momentum) (the step is a little shorter than Polyak's)
        assert rate_of_contraction <= 1 - 0.99 * (1 - np.sqrt(momentum))


@pytest.mark.parametrize("kappa", [1.0, 1e2, 1e6, 1e8, 1e10, 1e13])
def test_heavy_ball_step_is_a_float32_that_stays_stable(kappa):
    """Keras keeps the learning rate in float32: the step is one already (nothing
    for Keras to round up), and no longer than Polyak's, so it stays stable at the
    largest curvature, where Polyak's step rounded up leaves the stable range once
    kappa exceeds ~1e7."""
    lipschitz, strong = 25.0, 25.0 / kappa
    rate, momentum = heavy_ball(lipschitz, strong)
    polyak = 4 / (np.sqrt(lipschitz) + np.sqrt(strong)) ** 2
    assert float(np.float32(rate)) == rate
    assert polyak * (1 - 2.0**-23) <= rate <= polyak
    for curv in [lipschitz, strong]:
        step = np.array([[1 + momentum - rate * curv, -momentum], [1, 0]])
        assert np.abs(np.linalg.eigvals(step)).max() < 1 - 0.5 * (1 - np.sqrt(momentum))


def test_curvature_of_rows_and_of_their_sums_agree(problem):
    penalty = Penalty(np.full((3, 2), 0.1), np.zeros((3, 2)))
    rows = curvature(problem, True, penalty)
    sums = curvature(Gram.of(problem), True, penalty)
    assert rows.lipschitz == pytest.approx(sums.lipschitz)
    assert rows.strong == pytest.approx(sums.strong)
    w = problem.weights()  # the Hessian of the squared loss in (kernel, bias)
    Xb = np.column_stack([problem.X, np.ones(len(problem.X))])
    hessian = (Xb * w[:, None]).T @ Xb + np.diag([0.1, 0.1, 0.1, 0.0])
    eig = np.linalg.eigvalsh(hessian)
    assert rows.lipschitz == pytest.approx(eig.max())
    assert rows.strong == pytest.approx(eig.min())
    assert rows.row >= (problem.X**2).sum(1).max()
    # more features than rows: the same non-zero spectrum from the rows' products
    wide = Rows(problem.X[:2], problem.Y[:2], problem.sample_weight[:2])
    by_rows = curvature(wide, True, Penalty.none(3, 2))
    by_sums = curvature(Gram.of(wide), True, Penalty.none(3, 2))
    assert by_rows.lipschitz == pytest.approx(by_sums.lipschitz)
    assert by_rows.strong == pytest.approx(by_sums.strong)


def test_step_rule():
    bounds = Curvature(lipschitz=4.0, strong=0.25, row=20.0)
    spec, automatic = step_rule("sgd", "auto", bounds, batched=False)
    assert automatic and spec.config == dict(
        zip(["learning_rate", "momentum"], heavy_ball(4.0, 0.25), strict=True)
    )
    spec, automatic = step_rule("SGD", "auto", bounds, batched=True)
    assert automatic and spec.config == {"learning_rate": 1 / 20.0, "momentum": 0.0}
    spec, automatic = step_rule("adam", "auto", bounds, batched=False)
    assert not automatic and spec == OptimizerSpec("adam")
    spec, automatic = step_rule("sgd", 0.1, bounds, batched=False)
    assert not automatic and spec.config == {"learning_rate": 0.1}


def test_is_keras_sgd_without_keras():
    class SGD:  # a look-alike outside Keras
        pass

    assert is_keras_sgd("sgd") and is_keras_sgd("keras.src.optimizers.sgd:SGD")
    assert not is_keras_sgd("adam") and not is_keras_sgd(SGD) and not is_keras_sgd(None)


def test_stages_smooth_down_to_tol():
    loss = AbsoluteError()
    (only,) = stages(SquaredError(), 1e-6, 100, smooth=False)
    assert only.loss == SquaredError() and only.tol == 1e-6 and only.epochs == 100
    smoothed = stages(loss, 1e-6, 100, smooth=True)
    eps = [stage.loss.epsilon for stage in smoothed]
    assert eps[0] == 1.0 and eps[-1] == pytest.approx(1e-6)
    assert np.allclose(np.diff(np.log10(eps)), -0.5)
    assert [s.step_scale for s in smoothed] == eps
    exact = stages(loss, None, 100, smooth=True)  # tol=None: exactly the epochs
    assert sum(s.epochs for s in exact) == 100 and all(s.tol is None for s in exact)
    (stream,) = stages(loss, None, 1, smooth=True, first_epoch=99)
    assert stream.loss.epsilon == pytest.approx(0.1)


@pytest.mark.slow
def test_the_pieces_do_not_start_tensorflow():
    code = (
        "import sys; import skneuron, skneuron._loss, skneuron._objective, "
        "skneuron._schedule, skneuron._moments, skneuron._progress;"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_curvature_reports_directions_too_weak_to_train():
    """Eigenvalues between 1e-12 (null, as LinearRegression's rank counts them)
    and 1e-10 of the largest are left out of ``strong`` and reported."""
    rng = np.random.default_rng(5)
    U, _ = np.linalg.qr(rng.normal(size=(40, 4)))
    V, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    for smallest, unresolved in [(1e-3, 0.0), (5e-6, 2.5e-11), (1e-8, 0.0)]:
        singular = np.array([1.0, 0.5, 0.1, smallest])
        X = U @ np.diag(singular) @ V.T * np.sqrt(40)  # X'WX has eigenvalues s²
        bounds = curvature(Rows(X, X[:, :1], np.ones(40)), False, Penalty.none(4, 1))
        assert bounds.lipschitz == pytest.approx(1.0)
        assert bounds.unresolved == pytest.approx(unresolved, rel=1e-4, abs=0)
        expected = smallest**2 if smallest**2 > 1e-10 else 0.01
        assert bounds.strong == pytest.approx(expected, rel=1e-4)
