"""A triangular factor of the rows: the sufficient statistic whose condition number
is X's, where the sums X'WX square it.

Where the sums would lose digits (a badly conditioned X, such as a polynomial
basis), the full-batch squared loss is trained from ``R``, the triangular factor
of the weighted, standardized rows ``[X, y]`` (one pass of blockwise QR: each
block is stacked under the factor so far and factored again; ``R'R`` is the sums,
computed without forming them). The training is preconditioned by it, as
standardization preconditions it by the columns' scales: with ``R = U S V'``, the
neuron trains on the features ``z = x V S⁺``, whose sums are the identity, and
its weights are mapped back, ``w = V S⁺ v``. The directions whose singular values
fall below LinearRegression's cut-off are left out (``S⁺`` is 0 there), so the
answer is the minimum-norm one, and the rank is decided once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from skneuron._moments import row_blocks
from skneuron._objective import Gram, _Standardized

RANK_CUTOFF = 1e-6  # singular values below this share of the largest: rank_ (as
# LinearRegression's lstsq with its default tol, 1e-6, as cond)


@dataclass(frozen=True)
class Factor:
    """The triangular factor of the weighted, standardized rows ``[x, y]``, per
    unit of weight: ``R`` (p, p) with ``R'R = E[x x']``, ``Z`` (p, t) with
    ``R'Z = E[x y']``, and ``rest`` (t, t) with ``Z'Z + rest'rest = E[y y']``
    (expectations under the sample weights, in the units of a scaling)."""

    R: np.ndarray
    Z: np.ndarray
    rest: np.ndarray

    def rank(self, floor: float) -> int:
        """X's numerical rank: the number of singular values of X, each column
        scaled to unit spread (as the factor is taken), above ``floor`` times
        the largest (the round-off of those columns: see :func:`round_off`)."""
        s = np.linalg.svd(self.R, compute_uv=False)
        return int((s > floor * s.max(initial=0.0)).sum())

    def singular_values(self, scaling: _Standardized, weight: float) -> np.ndarray:
        """The singular values of the rows the factor is of, in X's own units
        (as ``LinearRegression``'s ``singular_``), ``weight`` their total
        weight as the user gave it: accurate down to round-off times the
        largest, where the sums' eigenvalues lose half the digits."""
        with np.errstate(all="ignore"):
            s = np.linalg.svd(self.R * scaling.X_scale, compute_uv=False)
            return s * np.sqrt(weight)

    @classmethod
    def of(
        cls,
        X: Any,
        Y: np.ndarray,
        sample_weight: np.ndarray,
        rows: np.ndarray | None,
        scaling: _Standardized,
    ) -> Factor:
        """The factor of ``rows`` of (X, Y) in the units of ``scaling``, from one
        pass over blocks of rows (float64, whatever X's dtype). X is an array, or
        anything whose ``X[index]`` is a block of rows as one (sparse X, its
        blocks made dense one at a time)."""
        w = sample_weight if rows is None else sample_weight[rows]
        total = float(w.sum())
        return Triangle.of(X, Y, sample_weight, rows, scaling, total).factor(X.shape[1])


@dataclass(frozen=True)
class Triangle:
    """The triangular factor ``R`` of weighted rows ``[x, y]`` (the rows times
    the square roots of their weights), and the rows' total weight: of one block
    of rows, or of blocks merged (the QR of their factors stacked), as a pass on
    a cluster merges them in a tree."""

    R: np.ndarray
    weight: float

    @classmethod
    def of(
        cls,
        X: Any,
        Y: np.ndarray,
        sample_weight: np.ndarray,
        rows: np.ndarray | None,
        scaling: _Standardized,
        total: float = 1.0,
    ) -> Triangle:
        """The factor of ``rows`` of (X, Y) in the units of ``scaling``, their
        weights divided by ``total``, from one pass over blocks of rows: each
        block stacked under the factor so far and factored again."""
        n = len(X) if rows is None else len(rows)
        w = sample_weight if rows is None else sample_weight[rows]
        width = X.shape[1] + Y.shape[1]
        R = np.zeros((0, width))
        for part, index in row_blocks(n, width, rows):
            Xs, Ys = scaling.transform(X[index], Y[index])
            root = np.sqrt(w[part] / total)[:, None]
            R = np.linalg.qr(np.vstack([R, np.hstack([Xs, Ys]) * root]), mode="r")
        return cls(R, float(w.sum()) / total)

    def merge(self, other: Triangle) -> Triangle:
        R = np.linalg.qr(np.vstack([self.R, other.R]), mode="r")
        return Triangle(R, self.weight + other.weight)

    def factor(self, p: int, weight: float = 1.0) -> Factor:
        """The :class:`Factor` (its first ``p`` columns are x's), per unit of
        ``weight``."""
        width = self.R.shape[1]
        R = np.vstack([self.R, np.zeros((max(width - len(self.R), 0), width))])
        R = R[:width] / np.sqrt(weight)
        return Factor(R[:p, :p], R[:p, p:], R[p:, p:])


def round_off(standard: _Standardized, count: int) -> float:
    """The round-off of X's columns scaled to unit spread by ``standard``, as a
    share of their norm: each centred value carries an error of about eps times
    its column's mean (over its spread), ten times that for safety, summed over
    ``count`` rows. Singular values below it are null: exactly collinear columns
    far from zero (a year, and the year minus 1946) differ by that much."""
    offset = np.abs(standard.X_offset) / standard.X_scale
    eps = np.finfo(np.float64).eps
    return float(10 * np.sqrt(count) * eps * (1 + offset.max(initial=0.0)))


@dataclass(frozen=True)
class Preconditioned(_Standardized):
    """Units preconditioned by a factor: standardized by ``scaling``'s offsets and
    scales, then multiplied by ``T`` (p, p), so that the training features
    ``z = x T`` have the sums ``diag(keep)``. With ``R = U S V'``, ``T = V S⁺``
    where X has full rank; where it has not, the SVD is of ``R`` in X's own
    units and ``T = diag(X_scale) V S⁺``, with ``S⁺`` 0 on the singular values
    below ``RANK_CUTOFF`` of the largest: gradient descent from zero then stays
    off X's null space, and reaches the minimum-norm answer. ``back`` maps
    standardized weights to these units (``T``'s pseudo-inverse)."""

    T: np.ndarray | None = None
    back: np.ndarray | None = None

    @classmethod
    def of(
        cls, scaling: _Standardized, factor: Factor, sums: Gram, rank: int
    ) -> tuple[Preconditioned, Gram]:
        """These units for ``factor`` (taken in the units of ``scaling``) and X's
        ``rank``, and the sums of the training rows in them (their weight and
        count those of ``sums``)."""
        p = len(scaling.X_scale)
        scale = np.ones(p)
        if rank == p:  # full rank: precondition in the standardized units, where
            U, s, Vt = np.linalg.svd(factor.R)  # the factor is better conditioned
            keep = s > 0
        else:  # the minimum-norm answer in X's units: leave out its null space
            scale = scaling.X_scale
            U, s, Vt = np.linalg.svd(factor.R * scale)
            keep = np.arange(p) < rank
        inverse = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)
        T = scale[:, None] * Vt.T * inverse
        back = (Vt * np.where(keep, s, 0.0)[:, None]) / scale
        units = cls(*vars(scaling).values(), T=T, back=back)
        xy = (U.T @ factor.Z) * keep[:, None]
        yy = (factor.Z**2).sum(0) + (factor.rest**2).sum(0)
        gram = Gram(
            xx=np.diag(keep.astype(float)),
            xy=xy,
            yy=yy,
            x_mean=np.zeros(len(s)),
            y_mean=np.zeros(factor.Z.shape[1]),
            weight=sums.weight,
            count=sums.count,
        )
        return units, gram

    def transform(self, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Xs, Ys = super().transform(X, Y)
        return Xs @ self.T, Ys

    def to_original(
        self, kernel: np.ndarray, bias: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        return super().to_original(self.T @ kernel, bias)

    def to_standardized(
        self, coef: np.ndarray, intercept: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        kernel, bias = super().to_standardized(coef, intercept)
        return self.back @ kernel, bias

    def gram(self, gram: Gram) -> Gram:
        """Sums taken in the standardized units, in these."""
        T = self.T
        return Gram(
            xx=T.T @ gram.xx @ T,
            xy=T.T @ gram.xy,
            yy=gram.yy,
            x_mean=T.T @ gram.x_mean,
            y_mean=gram.y_mean,
            weight=gram.weight,
            count=gram.count,
        )
