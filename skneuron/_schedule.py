"""How the neuron steps and when it stops, as data; and what training hands back.

- :class:`OptimizerSpec`: a Keras optimizer as a value (what to build it from and
  the config entries to set), resolved by the engine, stored and pickled without
  Keras.
- :func:`curvature`, :func:`heavy_ball`, :func:`step_rule`: the automatic step.
- :class:`Stage`, :func:`stages`: the losses trained one after the other (the
  absolute error's smoothing) with their tolerance and epoch budget.
- :class:`Schedule` (stepping) and :class:`Stopping` (stopping rules).
- :class:`TrainState` (weights and optimizer state to start from or continue) and
  :class:`TrainResult`, the one typed answer of the engine's ``train``.

All NumPy: importable and testable without starting TensorFlow.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skneuron._loss import Loss
from skneuron._objective import Gram, Packed, Penalty, Rows


# -- the optimizer ---------------------------------------------------------------
@dataclass(frozen=True)
class OptimizerSpec:
    """A Keras optimizer as a value: ``optimizer`` is a Keras name (``"sgd"``), an
    optimizer class or instance (whose config is copied), or the ``"module:Class"``
    path of a class; ``config`` holds entries set on top of its own config."""

    optimizer: Any = "sgd"
    config: dict = field(default_factory=dict)


def is_keras_sgd(optimizer: Any) -> bool:
    """Whether ``optimizer`` names Keras' plain ``SGD`` (by name or as the class),
    told without importing Keras. An instance carries its own settings: never."""
    if isinstance(optimizer, str):
        return optimizer.lower() == "sgd" or optimizer.endswith(":SGD")
    return (
        isinstance(optimizer, type)
        and optimizer.__name__ == "SGD"
        and optimizer.__module__.split(".")[0] == "keras"
    )


# -- the automatic step ----------------------------------------------------------------
@dataclass(frozen=True)
class Curvature:
    """Bounds on the curvature of the standardized squared loss plus the L2
    penalty: its largest (``lipschitz``) and smallest non-zero (``strong``)
    eigenvalues, and the largest curvature a single row can have (``row``).
    ``unresolved`` is the smallest eigenvalue, relative to the largest, that is
    neither null nor counted in ``strong`` (0.0 if none): see :func:`curvature`."""

    lipschitz: float
    strong: float
    row: float
    unresolved: float = 0.0


_RESOLVED = 1e-10  # eigenvalues counted in the step and the convergence test
_NULL = 1e-12  # below: null directions (LinearRegression's rank cut-off, squared)


def curvature(
    data: Rows | Packed | Gram, fit_intercept: bool, penalty: Penalty
) -> Curvature:
    """The curvature bounds of the standardized problem: the extreme eigenvalues
    of the squared loss's Hessian (the bias direction and the L2 penalty
    included), and the largest curvature of a single row.

    They only set the step size and the convergence test; the weights come from the
    optimizer's updates. Eigenvalues below 1e-12 of the largest belong to collinear
    directions that gradient descent never moves along from zero (LinearRegression
    leaves them out too); those up to 1e-10 are too weak to train in float64 and
    are left out of ``strong``, the smallest reported as ``unresolved``. With more
    features than rows, the non-zero eigenvalues are those of the rows' n x n
    products, which are cheaper.
    """
    l2 = penalty.l2.max(1)
    if isinstance(data, Gram):
        xx, x_mean, row = data.xx, data.x_mean, np.inf
        eig = _spectrum(xx, x_mean, l2, fit_intercept)
    elif isinstance(data, Packed):  # sparse rows: the spectrum from their sums
        row = float((data.row_norms() + fit_intercept + l2.max(initial=0.0)).max())
        eig = _spectrum(data.xx, data.x_mean, l2, fit_intercept)
    else:
        w = data.weights()
        x_mean = w @ data.X
        row = float(((data.X**2).sum(1) + fit_intercept + l2.max(initial=0.0)).max())
        n, p = data.X.shape
        if p > n and not np.any(l2):  # the same non-zero spectrum, from n x n
            Xw = data.X * np.sqrt(w)[:, None]
            rows = np.column_stack([Xw, np.sqrt(w)]) if fit_intercept else Xw
            eig = np.linalg.eigvalsh(rows @ rows.T)
        else:
            eig = _spectrum((data.X * w[:, None]).T @ data.X, x_mean, l2, fit_intercept)
    top = eig.max(initial=0.0)
    if not top > 0:
        return Curvature(1.0, 1.0, max(row, 1.0))
    resolved = eig > _RESOLVED * top
    # between LinearRegression's cut-off (singular values above 1e-6 of the
    # largest count) and ours: directions gradient descent moves along too slowly
    # (and too inexactly, in float64) to reach their optimum
    weak = eig[(eig > _NULL * top) & ~resolved] / top
    unresolved = float(weak.min()) if weak.size else 0.0
    return Curvature(float(top), float(eig[resolved].min()), row, unresolved)


def _spectrum(xx, x_mean, l2, fit_intercept):
    """Eigenvalues of the Hessian: ``xx + diag(l2)``, bordered by the bias."""
    hessian = xx + np.diag(l2)
    if fit_intercept:  # the bias: curvature 1, coupled through the features' means
        hessian = np.block(
            [[hessian, x_mean[:, None]], [x_mean[None], np.ones((1, 1))]]
        )
    return np.linalg.eigvalsh(hessian)


def heavy_ball(lipschitz: float, strong: float) -> tuple[float, float]:
    """Polyak's step size and momentum for a quadratic with these curvature
    bounds: every direction then contracts by about ``sqrt(momentum)`` per epoch.

    The step is rounded down to a float32 value. Keras keeps the learning rate in
    float32, and Polyak's step sits at the edge of stability at the largest
    curvature: the margin there is only ``4 * strong / lipschitz`` of the step (4e-8
    at a condition number of 1e8), less than the 6e-8 by which rounding to float32
    could lengthen it.
    """
    kappa = lipschitz / strong
    momentum = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
    learning_rate = 4 / (np.sqrt(lipschitz) + np.sqrt(strong)) ** 2
    rate = np.float32(learning_rate)
    if rate > learning_rate:
        rate = np.nextafter(rate, np.float32(0))
    return float(rate), float(momentum)


def step_rule(
    optimizer: Any,
    learning_rate: Any,
    bounds: Curvature,
    *,
    batched: bool,
) -> tuple[OptimizerSpec, bool]:
    """The optimizer a fit trains with, and whether its step is the automatic one.

    With ``learning_rate="auto"``, Keras' SGD gets Polyak's heavy-ball step and
    momentum (full batch: a fit, or a stream's call on the sums of the rows
    passed), or a step no single row can overshoot with (mini-batches, a stream's
    chunks of rows). Any other optimizer keeps its own rate. A float sets the
    rate of any optimizer.
    """
    if learning_rate != "auto":
        return OptimizerSpec(optimizer, {"learning_rate": float(learning_rate)}), False
    if not is_keras_sgd(optimizer):
        return OptimizerSpec(optimizer), False
    if batched:
        config = {"learning_rate": 1.0 / bounds.row, "momentum": 0.0}
    else:
        rate, momentum = heavy_ball(bounds.lipschitz, bounds.strong)
        config = {"learning_rate": rate, "momentum": momentum}
    return OptimizerSpec(optimizer, config), True


def epoch_budget(
    optimizer: OptimizerSpec, bounds: Curvature, tol: float | None, n_stages: int = 1
) -> int:
    """The default bound on a fit's epochs: 10 000 a stage (5 stages at most), or
    for the heavy ball on a badly conditioned problem four times the epochs it
    should need to pass the convergence test: to shrink the error by ``tol /
    100`` and by the condition number more (the test bounds the error by the
    gradient over the smallest curvature), at ``sqrt(momentum)`` per epoch."""
    stages = min(n_stages, 5)  # the absolute error's stages: at most 50 000
    momentum = optimizer.config.get("momentum", 0.0)
    if tol is None or not 0 < momentum < 1:
        return 10_000 * stages
    kappa = bounds.lipschitz / bounds.strong
    tol = max(tol, np.finfo(np.float64).eps)  # tol=0: to the rounding floor
    needed = np.log(tol / (100 * kappa)) / np.log(np.sqrt(momentum))
    return int(max(10_000, np.ceil(4 * needed)) * stages)


# -- stages: the losses trained one after another ------------------------------------
@dataclass(frozen=True)
class Stage:
    """One loss trained until ``tol`` holds (``None``: no convergence test) or for
    at most ``epochs`` epochs, at ``step_scale`` times the schedule's step size."""

    loss: Loss
    tol: float | None
    epochs: int
    step_scale: float = 1.0


def stages(
    loss: Loss, tol: float | None, epochs: int, *, smooth: bool, first_epoch: int = 0
) -> tuple[Stage, ...]:
    """The stages of a fit: the loss itself, or (``smooth``, for a loss without a
    gradient under the automatic step) its smoothed stand-ins with thresholds from
    1 down to ``tol`` (standardized units of y) by half-decades, each at a step
    scaled to the smoothed loss's curvature.

    A stream (``first_epoch`` > 0) smooths by ``1 / sqrt(epochs so far)``.
    """
    if not smooth:
        return (Stage(loss, tol, epochs),)
    if first_epoch:
        eps = max((first_epoch + 1) ** -0.5, 1e-8)
        return (Stage(loss.smoothed(eps), None, epochs, eps),)
    if tol is None:  # exactly `epochs` epochs, shared by the stages down to 1e-8
        n = 17
        budgets = [epochs // n + (k < epochs % n) for k in range(n)]
        thresholds = [10 ** (-k / 2) for k in range(n)]
        return tuple(
            Stage(loss.smoothed(eps), None, budget, eps)
            for eps, budget in zip(thresholds, budgets, strict=True)
            if budget
        )
    n = max(1, int(np.ceil(-2 * np.log10(max(tol, 1e-15)) - 1e-9))) + 1
    # a stage's answer is only O(epsilon) from the final one: solve it that well
    return tuple(
        Stage(loss.smoothed(eps), max(tol, eps), epochs, eps)
        for eps in (10 ** (-k / 2) for k in range(n))
    )


# -- the schedule and the stopping rules ----------------------------------------------
@dataclass(frozen=True)
class Schedule:
    """How to step: the optimizer, the stages, and the batches.

    ``batch_size=None`` takes every row in each step (full batch). Mini-batches are
    drawn in a new order each epoch when ``shuffle``, from ``seed`` and the epoch's
    number.
    """

    optimizer: OptimizerSpec
    stages: tuple[Stage, ...]
    batch_size: int | None = None
    shuffle: bool = True
    seed: int = 0


@dataclass(frozen=True)
class Stopping:
    """When to stop, besides each stage's ``tol``: after ``max_epochs`` epochs in
    all; once the convergence test held ``patience`` epochs in a row; with
    ``early_stopping``, once the validation loss has not improved for ``patience``
    epochs. ``strong`` is the smallest curvature of the objective, which turns a
    gradient into a bound on the distance to the optimum. Training diverged when
    a loss is not finite or above ``ceiling`` (standardized units: the zero model's
    loss is about 1), or, with a ``growth`` factor, when the last epoch's loss ends
    that many times above the first's (not for the heavy ball, whose loss may rise
    for a while before it falls)."""

    max_epochs: int
    patience: int = 5
    early_stopping: bool = False
    strong: float = 1.0
    lipschitz: float = 1.0
    ceiling: float = 1e4
    growth: float | None = 10.0


def expected_epochs(schedule: Schedule, stopping: Stopping) -> int:
    """A forecast of how many epochs a fit will run, to choose how to run it (not
    when to stop): for SGD, from its rate of contraction on the standardized
    problem (``sqrt(momentum)`` for the heavy ball, ``1 - rate * strong`` without
    momentum), twice the epochs to shrink the error by ``tol / 100``; otherwise
    the whole budget."""
    config = schedule.optimizer.config
    total = 0
    for stage in schedule.stages:
        epochs = stage.epochs
        if stage.tol is not None and is_keras_sgd(schedule.optimizer.optimizer):
            momentum = config.get("momentum", 0.0)
            rate = config.get("learning_rate", 0.01) * stage.step_scale
            contraction = np.sqrt(momentum) if momentum else 1 - rate * stopping.strong
            if 0 < contraction < 1:
                tol = max(stage.tol, np.finfo(np.float64).eps)  # 0: the floor
                needed = 2 * np.log(tol / 100) / np.log(contraction)
                epochs = min(epochs, int(np.ceil(needed)))
        total += epochs
    return min(total, stopping.max_epochs)


# -- what training starts from and hands back ------------------------------------
@dataclass(frozen=True)
class TrainState:
    """Weights (standardized kernel (p, t) and bias (t,)) and the optimizer's
    variables (``None``: a fresh optimizer), after ``epoch`` epochs."""

    kernel: np.ndarray
    bias: np.ndarray
    slots: tuple[np.ndarray, ...] | None = None
    epoch: int = 0

    @classmethod
    def zeros(cls, n_features: int, n_targets: int) -> TrainState:
        return cls(np.zeros((n_features, n_targets)), np.zeros(n_targets))


class Stop(enum.Enum):
    """Why training stopped."""

    CONVERGED = "converged"
    EARLY_STOPPED = "early_stopped"
    MAX_EPOCHS = "max_epochs"
    DIVERGED = "diverged"


@dataclass(frozen=True)
class TrainResult:
    """The engine's answer.

    ``state`` holds the weights reached (the best epoch's with early stopping) and
    the optimizer's variables; ``optimizer`` the optimizer it trained with, resolved
    to a class path and its whole config (to continue with). ``losses`` (epochs,
    targets) is the objective's loss of each epoch and ``val_losses`` that of the
    held-out rows (or None), standardized units, penalty excluded; ``gradient`` the
    size of the last epoch's smallest subgradient, per target.
    """

    state: TrainState
    optimizer: OptimizerSpec
    losses: np.ndarray
    val_losses: np.ndarray | None
    stop: Stop
    gradient: np.ndarray

    @property
    def n_epochs(self) -> int:
        return len(self.losses)
