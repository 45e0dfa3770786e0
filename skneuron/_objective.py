"""The problem the neuron is trained on, as data: standardized units, the penalty,
the objective, and the training rows.

Everything here is NumPy. The formulas that the compiled training loop evaluates
(the penalty, the objective's value) take an array namespace ``xp`` (NumPy here,
``keras.ops`` in the loop), so the same code is unit-tested and trained.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from skneuron._loss import Loss


@dataclass(frozen=True)
class _Standardized:
    """X and y standardized (tutorial 4): offsets and scales of their columns.

    The neuron is trained on ``(X - X_offset) / X_scale`` and
    ``(Y - Y_offset) / Y_scale``; its weights are mapped back to the original units
    afterwards. Constant columns keep scale 1. Made from the rows' moments
    (:meth:`skneuron._moments.Moments.scaling`).
    """

    X_offset: np.ndarray
    X_scale: np.ndarray
    Y_offset: np.ndarray
    Y_scale: np.ndarray

    @property
    def centred(self) -> bool:
        """Whether the units are centred (for a model with an intercept)."""
        return bool(np.any(self.X_offset != 0) or np.any(self.Y_offset != 0))

    def transform(self, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """X and Y in standardized units, as new float64 arrays (one each)."""
        Xs = np.subtract(X, self.X_offset, dtype=np.float64)
        Xs /= self.X_scale
        Ys = np.subtract(Y, self.Y_offset, dtype=np.float64)
        Ys /= self.Y_scale
        return Xs, Ys

    def to_original(
        self, kernel: np.ndarray, bias: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Standardized kernel (p, t) and bias (t,) -> coef (t, p), intercept (t,)."""
        coef = (kernel * self.Y_scale / self.X_scale[:, None]).T
        return coef, self.Y_offset + self.Y_scale * bias - coef @ self.X_offset

    def to_standardized(
        self, coef: np.ndarray, intercept: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """coef (t, p), intercept (t,) -> standardized kernel (p, t), bias (t,)."""
        kernel = coef.T * self.X_scale[:, None] / self.Y_scale
        bias = (intercept - self.Y_offset + self.X_offset @ coef.T) / self.Y_scale
        return kernel, np.atleast_1d(bias).astype(float)


@dataclass(frozen=True)
class Penalty:
    """Elastic-net penalty per coefficient and target, and the sign constraint.

    ``sum(l2 * kernel**2) / 2 + sum(l1 * |kernel|)`` on the standardized kernel
    (p, t); with ``positive``, the kernel is kept non-negative.
    """

    l2: np.ndarray
    l1: np.ndarray
    positive: bool = False

    @classmethod
    def none(cls, n_features: int, n_targets: int, positive: bool = False) -> Penalty:
        zeros = np.zeros((n_features, n_targets))
        return cls(zeros, zeros, positive)

    @classmethod
    def elastic_net(
        cls,
        alpha: float,
        l1_ratio: float,
        scaling: _Standardized,
        degree: int,
        positive: bool = False,
    ) -> Penalty:
        """ElasticNet's penalty on the coefficients in the original units,
        ``alpha * l1_ratio * ||w||_1 + alpha * (1 - l1_ratio) / 2 * ||w||^2``, as it
        reads on the standardized kernel of a loss of this ``degree`` (the
        standardized objective is the original one divided by ``Y_scale**degree``).
        """
        X_scale, Y_scale = scaling.X_scale, scaling.Y_scale
        penalty = cls.none(len(X_scale), len(Y_scale), positive)
        l2, l1 = penalty.l2, penalty.l1
        if alpha * (1 - l1_ratio) > 0:
            l2 = alpha * (1 - l1_ratio) * np.outer(X_scale**-2, Y_scale ** (2 - degree))
        if alpha * l1_ratio > 0:
            l1 = alpha * l1_ratio * np.outer(1 / X_scale, Y_scale ** (1 - degree))
        return cls(l2, l1, positive)

    @property
    def has_l1(self) -> bool:
        return bool(np.any(self.l1 > 0))

    def smooth_value(self, kernel: Any, xp: Any = np) -> Any:
        """The L2 part, per target: what the optimizer's gradient includes."""
        return 0.5 * xp.sum(self.l2 * kernel * kernel, axis=0)

    def value(self, kernel: Any, xp: Any = np) -> Any:
        return self.smooth_value(kernel, xp) + xp.sum(self.l1 * xp.abs(kernel), axis=0)

    def prox(self, kernel: Any, step: Any, xp: Any = np) -> Any:
        """The L1 part's proximal step: soft-thresholding by ``step * l1``."""
        return xp.sign(kernel) * xp.maximum(xp.abs(kernel) - step * self.l1, 0.0)

    def min_subgradient(self, grad: Any, kernel: Any, xp: Any = np) -> Any:
        """The smallest subgradient of the objective in the kernel, given the
        gradient ``grad`` of its smooth part: the L1 penalty's subdifferential at
        zero, and the sign constraint, absorb what they can."""
        at_zero = xp.sign(grad) * xp.maximum(xp.abs(grad) - self.l1, 0.0)
        if self.positive:  # held at 0 by the constraint is optimal while g >= -l1
            at_zero = xp.minimum(grad + self.l1, 0.0)
        return xp.where(kernel == 0, at_zero, grad + self.l1 * xp.sign(kernel))


@dataclass(frozen=True)
class Objective:
    """What training minimizes, per target: the mean loss (sample-weighted) of the
    residuals plus the penalty, on the standardized problem."""

    loss: Loss
    penalty: Penalty
    fit_intercept: bool = True

    def value(
        self, kernel: np.ndarray, bias: np.ndarray, data: Rows, loss: Loss | None = None
    ) -> np.ndarray:
        """The objective per target (NumPy), with ``loss`` in place of the
        objective's own when given (a smoothing stage's)."""
        loss = loss or self.loss
        residual = data.Y - data.X @ kernel - bias
        return data.mean(loss.pointwise(residual)) + self.penalty.value(kernel)

    def gradient(
        self, kernel: np.ndarray, bias: np.ndarray, data: Rows, loss: Loss | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient of the smooth part (loss and L2) in the kernel and the bias."""
        loss = loss or self.loss
        residual = data.Y - data.X @ kernel - bias
        weighted = -loss.derivative(residual) * data.weights()[:, None]
        grad_kernel = data.X.T @ weighted + self.penalty.l2 * kernel
        grad_bias = weighted.sum(0) if self.fit_intercept else np.zeros_like(bias)
        return grad_kernel, grad_bias


@dataclass(frozen=True)
class Rows:
    """Training rows, standardized: X (n, p), Y (n, t), sample weights (n,)."""

    X: np.ndarray
    Y: np.ndarray
    sample_weight: np.ndarray

    def weights(self) -> np.ndarray:
        """The sample weights normalized to sum to one."""
        return self.sample_weight / self.sample_weight.sum()

    def mean(self, values: np.ndarray) -> np.ndarray:
        """Sample-weighted mean over rows, per target."""
        return self.weights() @ values


@dataclass(frozen=True)
class Packed:
    """Training rows of sparse X, scaled (not centred) and packed to one width
    (ELLPACK): row i's stored values ``values[i]`` in the columns ``columns[i]``,
    its unused slots value 0 in column 0; Y (n, t) and sample weights (n,) as in
    :class:`Rows`. Rows are gathered, padded and batched as dense rows are, and
    ``X @ kernel`` is a gather and a sum over the slots: memory n times the most
    values stored in one row, never n times the features.

    ``n_features`` is p; ``xx`` and ``x_mean`` are E[x x'] and E[x] of the rows
    in the same units (uncentred), for the curvature bounds, from the moments
    gathered before (None until set).
    """

    columns: np.ndarray
    values: np.ndarray
    Y: np.ndarray
    sample_weight: np.ndarray
    n_features: int
    xx: np.ndarray | None = None
    x_mean: np.ndarray | None = None

    def weights(self) -> np.ndarray:
        """The sample weights normalized to sum to one."""
        return self.sample_weight / self.sample_weight.sum()

    def dot(self, kernel: np.ndarray) -> np.ndarray:
        """``X @ kernel`` (n, t) for a kernel (p, t)."""
        return np.einsum("nk,nkt->nt", self.values, kernel[self.columns])

    def row_norms(self) -> np.ndarray:
        """Each row's squared norm."""
        return (self.values**2).sum(1)

    def varying(self) -> np.ndarray:
        """Whether each column is stored non-zero on some row (float: 1 or 0)."""
        stored = self.columns[self.values != 0]
        return (np.bincount(stored, minlength=self.n_features) > 0).astype(float)


@dataclass(frozen=True)
class Gram:
    """Sums of standardized rows per unit of weight: all the full-batch squared
    loss needs (its value and gradient are exact functions of them).

    ``xx = E[x x']`` (p, p), ``xy = E[x y']`` (p, t), ``yy = E[y**2]`` (t,), the
    means ``x_mean`` (p,) and ``y_mean`` (t,), expectations under the sample
    weights; ``weight`` is the rows' total weight and ``count`` their number.
    """

    xx: np.ndarray
    xy: np.ndarray
    yy: np.ndarray
    x_mean: np.ndarray
    y_mean: np.ndarray
    weight: float
    count: int

    @classmethod
    def of(cls, data: Rows) -> Gram:
        """The sums of standardized rows (for tests and small problems)."""
        w = data.weights()
        return cls(
            xx=(data.X * w[:, None]).T @ data.X,
            xy=(data.X * w[:, None]).T @ data.Y,
            yy=w @ data.Y**2,
            x_mean=w @ data.X,
            y_mean=w @ data.Y,
            weight=float(data.sample_weight.sum()),
            count=len(data.X),
        )

    def half_mean_squares(self, kernel: Any, bias: Any, xp: Any = np) -> Any:
        """Per target, half the mean squared residual ``E[(y - x'k - b)**2] / 2``."""
        products = xp.matmul(self.xx, kernel)
        value = (
            self.yy
            - 2.0 * xp.sum(kernel * self.xy, axis=0)
            + xp.sum(kernel * products, axis=0)
            + bias * bias
            + 2.0 * bias * xp.sum(kernel * self.x_mean[:, None], axis=0)
            - 2.0 * bias * self.y_mean
        )
        return 0.5 * value
