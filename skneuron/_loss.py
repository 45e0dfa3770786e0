"""What the neuron minimizes per sample: one class per loss.

A loss owns its formula (the loss of a residual ``r = y - prediction``), its
derivative and curvature in the residual, and the facts a solver needs about it
(whether it has a gradient everywhere, whether its curvature is constant, how it
scales with the units of y). The formulas take an array namespace ``xp``: NumPy here
and in the tests, ``keras.ops`` inside the compiled training loop, so that the one
formula is what is both tested and trained.

A loss's parameters (Huber's ``epsilon``) are dataclass fields, given per target in
the units the loss is evaluated in; :meth:`standardized` converts them to the units
of a standardized y. :data:`LOSSES` is the only place a loss is looked up by name.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class SquaredError:
    """Half the squared residual, ``r**2 / 2``: least squares.

    Reported as Keras' ``"mse"`` reports it, the mean of ``r**2``.
    """

    name: ClassVar[str] = "squared_error"
    degree: ClassVar[int] = 2  # the loss of c * r is c**degree times the loss of r
    differentiable: ClassVar[bool] = True
    constant_curvature: ClassVar[bool] = True
    # its mean and gradient are functions of the rows' sums (X'WX, X'Wy, y'Wy):
    # what training on sums (``precompute``) needs
    sums: ClassVar[bool] = True

    def pointwise(self, r: Any, xp: Any = np) -> Any:
        return 0.5 * r * r

    def derivative(self, r: Any, xp: Any = np) -> Any:
        return r

    def curvature(self, r: Any, xp: Any = np) -> Any:
        return xp.ones_like(r)

    def lipschitz(self, xp: Any = np) -> Any:
        """The largest curvature in the residual."""
        return 1.0

    def standardized(self, y_scale: np.ndarray) -> SquaredError:
        return self

    def to_y_units(self, mean: np.ndarray, y_scale: np.ndarray) -> np.ndarray:
        """Mean loss per target, standardized units -> the reported loss in y units."""
        return 2.0 * mean * y_scale**2


@dataclass(frozen=True)
class Huber:
    """Huber's loss: ``r**2 / 2`` where ``|r| <= epsilon``, else linear,
    ``epsilon * |r| - epsilon**2 / 2`` (Keras' ``Huber(delta=epsilon)``)."""

    epsilon: Any = 1.0

    name: ClassVar[str] = "huber"
    degree: ClassVar[int] = 2
    differentiable: ClassVar[bool] = True
    constant_curvature: ClassVar[bool] = False
    sums: ClassVar[bool] = False

    def pointwise(self, r: Any, xp: Any = np) -> Any:
        size = xp.abs(r)
        return xp.where(
            size <= self.epsilon,
            0.5 * r * r,
            self.epsilon * size - 0.5 * self.epsilon * self.epsilon,
        )

    def derivative(self, r: Any, xp: Any = np) -> Any:
        return xp.clip(r, -self.epsilon, self.epsilon)

    def curvature(self, r: Any, xp: Any = np) -> Any:
        """1 where the loss is quadratic (the inliers), 0 where it is linear."""
        return xp.where(xp.abs(r) <= self.epsilon, xp.ones_like(r), xp.zeros_like(r))

    def lipschitz(self, xp: Any = np) -> Any:
        return 1.0

    def standardized(self, y_scale: np.ndarray) -> Huber:
        return Huber(np.asarray(self.epsilon, dtype=float) / y_scale)

    def to_y_units(self, mean: np.ndarray, y_scale: np.ndarray) -> np.ndarray:
        return mean * y_scale**2


@dataclass(frozen=True)
class AbsoluteError:
    """The absolute residual, ``|r|``: least absolute deviations (Keras' ``"mae"``).

    It has no gradient at ``r = 0``: gradient descent takes its subgradient, and no
    gradient vanishes at the optimum. :meth:`smoothed` gives the differentiable
    stand-in that the automatic step trains in stages.
    """

    name: ClassVar[str] = "absolute_error"
    degree: ClassVar[int] = 1
    differentiable: ClassVar[bool] = False
    constant_curvature: ClassVar[bool] = False
    sums: ClassVar[bool] = False

    def pointwise(self, r: Any, xp: Any = np) -> Any:
        return xp.abs(r)

    def derivative(self, r: Any, xp: Any = np) -> Any:
        return xp.sign(r)

    def curvature(self, r: Any, xp: Any = np) -> Any:
        return xp.zeros_like(r)

    def lipschitz(self, xp: Any = np) -> Any:
        return np.inf

    def standardized(self, y_scale: np.ndarray) -> AbsoluteError:
        return self

    def to_y_units(self, mean: np.ndarray, y_scale: np.ndarray) -> np.ndarray:
        return mean * y_scale

    def smoothed(self, epsilon: Any) -> SmoothedAbsoluteError:
        return SmoothedAbsoluteError(epsilon)


@dataclass(frozen=True)
class SmoothedAbsoluteError:
    """The absolute error smoothed within ``epsilon``: Huber's loss / ``epsilon``.

    Equal to ``|r| - epsilon / 2`` outside ``[-epsilon, epsilon]``, quadratic with
    curvature ``1 / epsilon`` inside; it tends to ``|r|`` as ``epsilon`` shrinks.
    """

    epsilon: Any = 1.0

    name: ClassVar[str] = "smoothed_absolute_error"
    degree: ClassVar[int] = 1
    differentiable: ClassVar[bool] = True
    constant_curvature: ClassVar[bool] = False
    sums: ClassVar[bool] = False

    def pointwise(self, r: Any, xp: Any = np) -> Any:
        return Huber(self.epsilon).pointwise(r, xp) / self.epsilon

    def derivative(self, r: Any, xp: Any = np) -> Any:
        return Huber(self.epsilon).derivative(r, xp) / self.epsilon

    def curvature(self, r: Any, xp: Any = np) -> Any:
        return Huber(self.epsilon).curvature(r, xp) / self.epsilon

    def lipschitz(self, xp: Any = np) -> Any:
        return 1.0 / xp.min(self.epsilon)

    def standardized(self, y_scale: np.ndarray) -> SmoothedAbsoluteError:
        return SmoothedAbsoluteError(np.asarray(self.epsilon, dtype=float) / y_scale)

    def to_y_units(self, mean: np.ndarray, y_scale: np.ndarray) -> np.ndarray:
        return mean * y_scale


Loss = SquaredError | Huber | AbsoluteError | SmoothedAbsoluteError

#: The estimator's ``loss`` names; the only place a loss is looked up by name.
LOSSES: dict[str, type] = {
    cls.name: cls for cls in (SquaredError, AbsoluteError, Huber)
}


def make_loss(name: str, **params: Any) -> Loss:
    """The loss called ``name``, with those of ``params`` that it takes."""
    cls = LOSSES[name]
    return cls(**{f.name: params[f.name] for f in dataclasses.fields(cls)})


def parameters(loss: Loss) -> dict[str, Any]:
    """A loss's parameters by name (what a compiled loop takes as inputs)."""
    return {f.name: getattr(loss, f.name) for f in dataclasses.fields(loss)}
