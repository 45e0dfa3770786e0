"""How NeuronRegressor trains, from its parameters: the problem in standardized
units, a :class:`Plan` of how to step and when to stop, and the engine's run with
its warnings and errors.

The parameters arrive as one :class:`Training` record; the engine
(:func:`skneuron._keras.train`, imported when training starts) gets the plan's
specs and hands back one result. Nothing here knows the estimator or Keras.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skneuron._loss import make_loss
from skneuron._objective import Gram, Objective, Penalty, Rows, _Standardized
from skneuron._progress import _Progress
from skneuron._schedule import (
    Curvature,
    Schedule,
    Stop,
    Stopping,
    TrainResult,
    TrainState,
    curvature,
    epoch_budget,
    is_keras_sgd,
    stages,
    step_rule,
)


@dataclass(frozen=True)
class Training:
    """The estimator's parameters that decide what is minimized and how (as
    given to it, validated)."""

    fit_intercept: bool = True
    loss: str = "squared_error"
    epsilon: float = 1.0
    alpha: float = 0.0
    l1_ratio: float = 0.0
    positive: bool = False
    optimizer: Any = "sgd"
    learning_rate: Any = "auto"
    epochs: Any = "auto"
    tol: float | None = 1e-6
    batch_size: int | None = None
    shuffle: bool = True
    n_iter_no_change: int = 5
    early_stopping: bool = False
    verbose: int = 0

    def objective(self, scaling: _Standardized) -> Objective:
        """The loss and penalty in the standardized units of ``scaling``."""
        loss = make_loss(self.loss, epsilon=self.epsilon).standardized(scaling.Y_scale)
        penalty = Penalty.elastic_net(
            self.alpha, self.l1_ratio, scaling, loss.degree, self.positive
        )
        return Objective(loss, penalty, self.fit_intercept)


@dataclass(frozen=True)
class Plan:
    """What training runs: the ``objective`` in the units of ``scaling``, how to
    step (``schedule``) and when to stop (``stopping``), and the curvature
    ``bounds`` both come from."""

    scaling: _Standardized
    objective: Objective
    schedule: Schedule
    stopping: Stopping
    bounds: Curvature

    def to_y_units(self, losses: Any) -> list[float]:
        """Per-epoch losses (epochs, targets), standardized -> y units, averaged
        over targets."""
        to_y = self.objective.loss.to_y_units
        return to_y(np.asarray(losses), self.scaling.Y_scale).mean(1).tolist()


def plan(
    training: Training,
    scaling: _Standardized,
    data: Rows | Gram,
    seed: int,
    *,
    batched: bool,
    first_epoch: int = 0,
) -> Plan:
    """How to step and when to stop, on this standardized data; ``batched``
    whether a step sees fewer than all the rows, ``first_epoch`` the number of
    epochs trained before (a stream's)."""
    objective = training.objective(scaling)
    bounds = curvature(data, training.fit_intercept, objective.penalty)
    optimizer, automatic = step_rule(
        training.optimizer, training.learning_rate, bounds, batched=batched
    )
    smooth = automatic and not objective.loss.differentiable
    epochs, tol = training.epochs, training.tol
    if epochs == "auto":
        n_stages = len(stages(objective.loss, tol, 1, smooth=smooth))
        epochs = epoch_budget(optimizer, bounds, tol, n_stages)
    schedule = Schedule(
        optimizer=optimizer,
        stages=stages(
            objective.loss, tol, epochs, smooth=smooth, first_epoch=first_epoch
        ),
        batch_size=training.batch_size,
        shuffle=training.shuffle,
        seed=seed,
    )
    stopping = Stopping(
        max_epochs=epochs,
        patience=training.n_iter_no_change,
        early_stopping=training.early_stopping and tol is not None,
        strong=bounds.strong,
        lipschitz=bounds.lipschitz,
        # the heavy ball is stable by construction, yet its loss may rise by
        # up to the condition number before it falls: a wider ceiling, and no
        # limit on where it ends; other steps diverge if they end 10x up
        ceiling=1e4 * (bounds.lipschitz / bounds.strong if automatic else 1.0),
        growth=None if automatic else 10.0,
    )
    return Plan(scaling, objective, schedule, stopping, bounds)


def run(
    training: Training,
    plan: Plan,
    data: Rows | Gram,
    state: TrainState,
    validation: Rows | Gram | None = None,
) -> TrainResult:
    """Run the engine (which starts Keras) on ``plan`` from ``state``, with
    progress output; a ``ValueError`` if training diverged, and a
    ``ConvergenceWarning`` (at the estimator's caller) if it ran out of epochs
    before its convergence test held."""
    from skneuron import _keras

    stopping = plan.stopping
    progress = _Progress(
        training.verbose,
        stopping.max_epochs,
        plan.to_y_units,
        validated=validation is not None,
    )
    result = _keras.train(
        data,
        plan.objective,
        plan.schedule,
        stopping,
        state,
        validation=validation,
        on_epochs=progress.update if training.verbose else None,
    )
    progress.close(result.n_epochs)
    if result.stop is Stop.DIVERGED:
        raise _diverged(training, plan.to_y_units(result.losses))
    tested = any(stage.tol is not None for stage in plan.schedule.stages)
    if tested and result.stop is Stop.MAX_EPOCHS:
        warnings.warn(
            f"NeuronRegressor did not converge in {stopping.max_epochs} epochs "
            f"(tol={training.tol}); {_advice(training)}",
            ConvergenceWarning,
            stacklevel=_CALLER,
        )
    return result


#: Refine where the residuals' root mean square is at most this share of y's.
REFINE_BELOW = 1e-2


def refine(
    training: Training, plan: Plan, prepared: Any, result: TrainResult
) -> TrainResult:
    """Iterative refinement (Björck): one more pass over the rows, and training
    on the residuals' sums, where the sums' round-off would cost digits.

    Training on the sums stops at a gradient of the order of their rounding,
    which is relative to y: where the residuals are much smaller than y (an
    almost exact fit), that leaves digits that the rows determine. The pass
    gives the residuals ``r`` at the trained weights, and the gradient ``X'r``
    exactly as the rows give it; the optimizer then trains the correction
    from zero, on the same sums ``X'X`` with ``X'r`` for ``X'y``, in units of
    r's own spread, until its gradient reaches the rounding floor (``tol=0``).
    It is the same loss at the same weights (the weights plus the correction),
    minimized further. Only for the full-batch squared loss on sums, without
    penalty or bounds, with the automatic step and no held-out rows, after a
    fit that converged; otherwise, or if the correction's training does not
    converge, ``result`` as it is. ``prepared`` is the data's
    :class:`~skneuron._data._prepare.Prepared` record."""
    if not _refinable(training, plan, prepared, result):
        return result
    state = result.state
    sums = _residual_sums(plan, prepared, state)
    if sums is None:
        return result
    gram, ratio = sums
    epochs = epoch_budget(plan.schedule.optimizer, plan.bounds, np.finfo(float).eps)
    stage = replace(plan.schedule.stages[0], tol=0.0, epochs=epochs)
    from skneuron import _keras

    correction = _keras.train(
        gram,
        plan.objective,
        replace(plan.schedule, stages=(stage,)),
        replace(plan.stopping, max_epochs=epochs),
        TrainState.zeros(*state.kernel.shape),
    )
    if correction.stop is not Stop.CONVERGED:
        return result
    done = correction.state
    return replace(
        result,
        state=TrainState(
            state.kernel + ratio * done.kernel,
            state.bias + ratio * done.bias,
            None,  # a fresh optimizer to continue with: it is at the optimum
            state.epoch + done.epoch,
        ),
        losses=np.concatenate([result.losses, ratio**2 * correction.losses]),
        gradient=ratio * correction.gradient,
    )


def _refinable(
    training: Training, plan: Plan, prepared: Any, result: TrainResult
) -> bool:
    """Whether :func:`refine` applies: the full-batch squared loss on sums, no
    penalty or bounds, the automatic step, no held-out rows, a fit that
    converged, and residuals under ``REFINE_BELOW`` of y's spread."""
    automatic = (
        plan.schedule.optimizer.config.get("momentum", 0.0) > 0
        and training.learning_rate == "auto"
    )
    if not (
        prepared.sums
        and prepared.validation is None
        and result.stop is Stop.CONVERGED
        and training.tol is not None
        and not training.positive
        and training.alpha == 0
        and automatic
    ):
        return False
    ratio = np.sqrt(2.0 * result.losses[-1])  # r's spread over y's, per target
    return bool(np.all((ratio > 0) & (ratio <= REFINE_BELOW)))


def _residual_sums(plan: Plan, prepared: Any, state: TrainState) -> Any:
    """The sums to train the correction on (``X'X`` with ``X'r`` for ``X'y``, in
    r's units, from one pass over the rows) and r's spread over y's; None where
    the residuals have no spread."""
    scaling = plan.scaling
    residuals = prepared.residuals(*scaling.to_original(state.kernel, state.bias))
    weight = prepared.weight
    spread = np.sqrt(residuals.ssr / weight)  # y units
    if not np.all(np.isfinite(spread) & (spread > 0)):
        return None
    xy = residuals.gradient.T / weight / np.outer(scaling.X_scale, spread)
    T = getattr(scaling, "T", None)  # preconditioned units
    gram = replace(
        prepared.data,
        xy=xy if T is None else T.T @ xy,
        yy=np.ones_like(spread),
        y_mean=residuals.total / weight / spread,
    )
    return gram, spread / scaling.Y_scale


def keras_model(coef: np.ndarray, intercept: Any) -> Any:
    """The trained neuron as a standalone Keras model in the original units, in
    float64 (its input and weights) where the backend allows, so that it predicts
    as ``X @ coef.T + intercept`` does."""
    from skneuron import _keras

    coef = np.atleast_2d(coef)
    dtype = _keras.standalone_dtype()
    model = _keras.build_neuron(  # float64: the weights training produced
        coef.shape[1], coef.shape[0], fit_intercept=True, positive=False, dtype=dtype
    )
    intercept = np.broadcast_to(intercept, coef.shape[:1])
    model.get_layer("neuron").set_weights(
        [coef.T.astype(dtype), intercept.astype(dtype)]
    )
    return model


def warn_unresolved(plan: Plan) -> None:
    """Warn where X is nearly rank deficient in the units training runs in:
    directions LinearRegression counts (singular values above 1e-6 of the
    largest) but too weak for gradient descent to train in float64."""
    if plan.bounds.unresolved:
        warnings.warn(
            "X is nearly rank deficient: in the units NeuronRegressor trains in, "
            f"its curvature falls to {plan.bounds.unresolved:.1e} of the largest, "
            "too little for gradient descent to train in float64, so the "
            "coefficients may differ from the least-squares answer along those "
            "directions. Remove or combine nearly collinear columns, or add an L2 "
            "penalty (alpha).",
            ConvergenceWarning,
            stacklevel=_CALLER,
        )


# the frames between a warning here and the estimator's caller: this function,
# fit (or partial_fit), its all-or-nothing guard, scikit-learn's _fit_context
_CALLER = 5


def _diverged(training: Training, losses: list[float]) -> ValueError:
    """The error for a fit whose loss (per epoch, in y's units) diverged."""
    went = (
        f"went from {losses[0]:.3g} to {losses[-1]:.3g}"
        if len(losses) > 1
        else f"reached {losses[-1]:.3g}"
    )
    return ValueError(
        f"Training diverged: the loss {went} with "
        f"optimizer={training.optimizer!r} and "
        f"learning_rate={training.learning_rate!r}. Use a smaller learning_rate "
        "(or the default 'auto')."
    )


def _advice(training):
    """What to change when training runs out of epochs."""
    if training.learning_rate == "auto" and is_keras_sgd(training.optimizer):
        return "increase epochs (the problem is badly conditioned or not smooth)."
    return (
        f"with optimizer={training.optimizer!r} and learning_rate="
        f"{training.learning_rate!r} the steps may be too large to settle or too "
        "small to arrive: lower or raise learning_rate, increase epochs, or use "
        "the default optimizer='sgd' with learning_rate='auto' (its step is "
        "chosen for the problem's curvature)."
    )
