"""Sufficient statistics of the squared loss, gathered in one pass over row blocks.

The full-batch squared loss and its gradient are exact functions of a few weighted
sums of the rows: X'X, X'y, y'y, the column sums and the weight total. They are
gathered block by block (float64 from any input dtype, blocks of bounded size, no
float64 copy of the whole X) and merged with the pairwise update rule (Chan, Golub
and LeVeque), each block centred on its own mean, so that data far from zero
(1e9 + noise, time stamps) keep their spread. Deviations are taken from a fixed
origin (the first row) in units that are per-column powers of two, grown as larger
values arrive, so that neither huge (1e300) nor tiny (1e-300) columns overflow or
underflow and rescaling is exact.

The standardization, the curvature bounds for the step size and the standardized
sums the neuron trains on (:class:`skneuron._objective.Gram`) all come from these.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from skneuron._objective import Gram, _Standardized

_BLOCK_VALUES = 2**20  # values (rows x columns) per block: 8 MB of float64
_EPS = np.finfo(np.float64).eps


def row_blocks(
    n_rows: int, width: int, rows: np.ndarray | None = None
) -> Iterator[tuple[slice, slice | np.ndarray]]:
    """Blocks of about ``_BLOCK_VALUES`` values of rows ``width`` wide: for each,
    its place among the ``n_rows`` rows read (a slice) and the index that reads
    it (that slice, or the part of ``rows`` it covers)."""
    size = max(1, _BLOCK_VALUES // max(width, 1))
    for start in range(0, n_rows, size):
        part = slice(start, start + size)
        yield part, part if rows is None else rows[part]


def _check_spans(deviations: np.ndarray, name: str) -> None:
    """A clear error where a column's values are further apart than float64 can
    hold (their difference overflows; NaN and inf were refused before)."""
    bad = ~np.isfinite(deviations).all(axis=0)
    if bad.any():
        column = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"Column {column} of {name} spans more than float64 can represent: the "
            "difference of two of its values overflows (values of opposite signs "
            "near 1e308). Rescale it, e.g. divide it by 1e10."
        )


def _units(deviations: np.ndarray) -> np.ndarray:
    """Per column, the power of two at or above the largest absolute value."""
    largest = np.abs(deviations).max(axis=0, initial=0.0)
    units = np.ones_like(largest)
    positive = np.isfinite(largest) & (largest > 0)
    units[positive] = np.exp2(np.ceil(np.log2(largest[positive])))
    return units


@dataclass(frozen=True)
class Moments:
    """Weighted moments of rows of X (p columns) and Y (t columns).

    Of the deviations ``D = (X - origin_x) / unit_x`` (and ``E`` likewise for Y):
    the total ``weight`` of ``count`` rows, the weighted means ``mean_x``,
    ``mean_y``, and the centred weighted cross products ``cxx = sum w (D - mean)'
    (D - mean)``, ``cxy``, and ``cyy`` (its diagonal only). ``cxx`` may be its
    diagonal only (``cross=False``): enough to standardize, not to train on sums.
    """

    count: int
    weight: float
    origin_x: np.ndarray
    origin_y: np.ndarray
    unit_x: np.ndarray
    unit_y: np.ndarray
    mean_x: np.ndarray
    mean_y: np.ndarray
    cxx: np.ndarray
    cxy: np.ndarray
    cyy: np.ndarray

    @classmethod
    def of(
        cls,
        X: np.ndarray,
        Y: np.ndarray,
        sample_weight: np.ndarray,
        rows: np.ndarray | None = None,
        like: Moments | None = None,
        cross: bool = True,
    ) -> Moments | None:
        """The moments of ``rows`` of (X, Y) (all rows when None), in one pass over
        blocks; with the origin and (at least) the units of ``like``, if given;
        ``cxx`` whole or (``cross=False``) its diagonal. None when there are no
        rows."""
        n = len(X) if rows is None else len(rows)
        total = like and like.empty()
        for _, index in row_blocks(n, X.shape[1], rows):
            block = cls._block(X[index], Y[index], sample_weight[index], total, cross)
            total = block if total is None else total.merge(block)
        return total

    @classmethod
    def _block(cls, X, Y, sample_weight, like, cross=True):
        """The moments of one block, on ``like``'s origin (or its first row)."""
        origin_x = X[0].astype(float) if like is None else like.origin_x
        origin_y = Y[0].astype(float) if like is None else like.origin_y
        with np.errstate(over="ignore", invalid="ignore"):
            Dx = X - origin_x
            Dy = Y - origin_y
        _check_spans(Dx, "X")
        _check_spans(Dy, "y")
        unit_x, unit_y = _units(Dx), _units(Dy)
        if like is not None:
            unit_x, unit_y = (
                np.maximum(unit_x, like.unit_x),
                np.maximum(unit_y, like.unit_y),
            )
        Dx /= unit_x
        Dy /= unit_y
        weight = float(sample_weight.sum())
        scale = weight if weight > 0 else 1.0
        mean_x = sample_weight @ Dx / scale
        mean_y = sample_weight @ Dy / scale
        Dx -= mean_x
        Dy -= mean_y
        weighted = Dx * sample_weight[:, None]
        return cls(
            count=len(X),
            weight=weight,
            origin_x=origin_x,
            origin_y=origin_y,
            unit_x=unit_x,
            unit_y=unit_y,
            mean_x=mean_x,
            mean_y=mean_y,
            cxx=weighted.T @ Dx if cross else np.einsum("ij,ij->j", weighted, Dx),
            cxy=weighted.T @ Dy,
            cyy=sample_weight @ (Dy * Dy),
        )

    def empty(self) -> Moments:
        """No rows, on this origin and these units."""
        p, t = len(self.mean_x), len(self.mean_y)
        return Moments(
            0, 0.0, self.origin_x, self.origin_y, self.unit_x, self.unit_y,
            np.zeros(p), np.zeros(t), np.zeros_like(self.cxx), np.zeros((p, t)),
            np.zeros(t),
        )  # fmt: skip

    @property
    def cross(self) -> bool:
        """Whether ``cxx`` is whole (not only its diagonal)."""
        return self.cxx.ndim == 2

    def _outer(self, a, b):
        return np.outer(a, b) if self.cross else a * b

    def mean_about_zero(self) -> np.ndarray:
        """The columns' weighted means of X, in units, measured from zero."""
        return self.mean_x + self.origin_x / self.unit_x

    def diagonal(self) -> np.ndarray:
        """The diagonal of ``cxx``."""
        return np.diag(self.cxx) if self.cross else self.cxx

    def in_units(self, unit_x: np.ndarray, unit_y: np.ndarray) -> Moments:
        """The same moments in larger units (powers of two: exact)."""
        fx, fy = self.unit_x / unit_x, self.unit_y / unit_y
        return Moments(
            self.count, self.weight, self.origin_x, self.origin_y, unit_x, unit_y,
            self.mean_x * fx, self.mean_y * fy, self.cxx * self._outer(fx, fx),
            self.cxy * np.outer(fx, fy), self.cyy * fy**2,
        )  # fmt: skip

    def with_gram(self, gram: np.ndarray) -> Moments:
        """These moments with ``cxx`` from a given Gram matrix ``X'WX`` of the
        rows (in original units, about zero, with the weights these moments
        have): centred as ``X'WX - W m m'``. Only as exact as that difference."""
        mean = self.origin_x + self.unit_x * self.mean_x
        centred = gram - self.weight * np.outer(mean, mean)
        return replace(self, cxx=centred / np.outer(self.unit_x, self.unit_x))

    def weighted(self, factor: float) -> Moments:
        """The same rows with every weight multiplied by ``factor``."""
        return Moments(
            self.count, self.weight * factor, self.origin_x, self.origin_y,
            self.unit_x, self.unit_y, self.mean_x, self.mean_y, self.cxx * factor,
            self.cxy * factor, self.cyy * factor,
        )  # fmt: skip

    def merge(self, other: Moments) -> Moments:
        """The moments of both sets of rows (the pairwise update rule)."""
        unit_x = np.maximum(self.unit_x, other.unit_x)
        unit_y = np.maximum(self.unit_y, other.unit_y)
        a, b = self.in_units(unit_x, unit_y), other.in_units(unit_x, unit_y)
        weight = a.weight + b.weight
        if not weight > 0:
            return Moments(a.count + b.count, *_fields(a)[1:])
        share = b.weight / weight
        dx, dy = b.mean_x - a.mean_x, b.mean_y - a.mean_y
        both = a.weight * share  # a.weight * b.weight / weight
        return Moments(
            count=a.count + b.count,
            weight=weight,
            origin_x=a.origin_x,
            origin_y=a.origin_y,
            unit_x=unit_x,
            unit_y=unit_y,
            mean_x=a.mean_x + dx * share,
            mean_y=a.mean_y + dy * share,
            cxx=a.cxx + b.cxx + both * a._outer(dx, dx),
            cxy=a.cxy + b.cxy + both * np.outer(dx, dy),
            cyy=a.cyy + b.cyy + both * dy * dy,
        )

    # -- what training needs ------------------------------------------------------
    def _about(self, center: bool, unit_x, unit_y, mean_x, mean_y):
        """Offsets (in units, from the origin) and root-mean-square spreads about
        them, per column; constant columns keep spread 1 (in original units)."""
        if center:
            off_x, off_y = mean_x, mean_y
        else:  # about zero
            off_x, off_y = -self.origin_x / unit_x, -self.origin_y / unit_y
        return off_x, off_y

    def scaling(self, center: bool) -> _Standardized:
        """The standardization these moments give: weighted means (or zero, without
        ``center``) and standard deviations (root mean squares) of the columns."""
        W = self.weight
        off_x, off_y = self._about(
            center, self.unit_x, self.unit_y, self.mean_x, self.mean_y
        )
        var_x = self.diagonal() / W + (self.mean_x - off_x) ** 2
        var_y = self.cyy / W + (self.mean_y - off_y) ** 2
        return _Standardized(
            np.zeros_like(off_x) if not center else self.origin_x + self.unit_x * off_x,
            _spread(var_x, self.unit_x),
            np.zeros_like(off_y) if not center else self.origin_y + self.unit_y * off_y,
            _spread(var_y, self.unit_y),
        )

    def gram(self, train: Moments, scaling: _Standardized, center: bool) -> Gram:
        """These rows' sums in the standardized units of the ``train`` moments
        (whose ``scaling`` it is): what the full-batch squared loss needs."""
        if not self.cross:
            raise ValueError("Sums need the whole cross products (cross=True).")
        me = self.in_units(
            np.maximum(self.unit_x, train.unit_x), np.maximum(self.unit_y, train.unit_y)
        )
        tr = train.in_units(me.unit_x, me.unit_y)
        off_x, off_y = tr._about(center, me.unit_x, me.unit_y, tr.mean_x, tr.mean_y)
        sx = scaling.X_scale / me.unit_x  # the standard deviations, in units
        sy = scaling.Y_scale / me.unit_y
        W = me.weight
        dx = (me.mean_x - off_x) / sx
        dy = (me.mean_y - off_y) / sy
        return Gram(
            xx=me.cxx / W / np.outer(sx, sx) + np.outer(dx, dx),
            xy=me.cxy / W / np.outer(sx, sy) + np.outer(dx, dy),
            yy=me.cyy / W / sy**2 + dy**2,
            x_mean=dx,
            y_mean=dy,
            weight=W,
            count=me.count,
        )


def _fields(moments: Moments) -> tuple:
    return tuple(getattr(moments, name) for name in Moments.__dataclass_fields__)


def _spread(variance: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Standard deviations in original units; constant columns keep 1."""
    scale = np.sqrt(np.maximum(variance, 0.0)) * unit
    scale[~(scale > 0) | ~np.isfinite(scale)] = 1.0
    return scale


@dataclass(frozen=True)
class Shape:
    """Of the whitened residuals ``u = sqrt(w) r`` of some consecutive rows, per
    target (t,), each row counting once (zero-weight rows as zeros), as
    statsmodels' diagnostics read its ``wresid``: their ``count``, ``mean`` and
    central sums ``m2 = sum (u - mean)**2``, ``m3``, ``m4`` (merged exactly by
    Pébay's rules, each block centred on its own mean); the ``first`` and
    ``last`` rows' ``u`` and ``steps = sum (u[i] - u[i-1])**2`` over the rows
    (Durbin-Watson's numerator: merging ``a`` then ``b`` adds the step across
    their boundary, so blocks must be merged in row order); and ``log_weight
    = sum log w`` (-inf with a zero weight), for WLS's likelihood."""

    count: int
    mean: np.ndarray
    m2: np.ndarray
    m3: np.ndarray
    m4: np.ndarray
    first: np.ndarray
    last: np.ndarray
    steps: np.ndarray
    log_weight: float

    @classmethod
    def empty(cls, t: int) -> Shape:
        """No rows, for t targets."""
        zeros = np.zeros(t)
        return cls(0, zeros, zeros, zeros, zeros, zeros, zeros, zeros, 0.0)

    @classmethod
    def of(cls, r: np.ndarray, sample_weight: np.ndarray) -> Shape:
        """The figures of consecutive rows' residuals ``r`` (n, t) and weights."""
        if not len(r):
            return cls.empty(r.shape[1])
        # residuals near float64's limits overflow their powers: inf or nan
        # figures, as the sums of squares (summary refuses those), no warning
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            log_weight = float(np.log(sample_weight).sum())
            u = np.sqrt(sample_weight)[:, None] * r
            mean = u.mean(0)
            d = u - mean
            mean = mean + d.mean(0)  # refined: the first is off by eps * |u|
            d = u - mean
            d2 = d * d
            return cls(
                count=len(u),
                mean=mean,
                m2=d2.sum(0),
                m3=(d2 * d).sum(0),
                m4=(d2 * d2).sum(0),
                first=u[0],
                last=u[-1],
                steps=(np.diff(u, axis=0) ** 2).sum(0),
                log_weight=log_weight,
            )

    def merge(self, other: Shape) -> Shape:
        """The figures of these rows followed by ``other``'s."""
        if not other.count or not self.count:
            return other if not self.count else self
        with np.errstate(over="ignore", invalid="ignore"):  # as in of()
            return self._merged(other)

    def _merged(self, other: Shape) -> Shape:
        na, nb = self.count, other.count
        n = na + nb
        delta = other.mean - self.mean
        step = other.first - self.last
        a2, b2 = self.m2, other.m2
        return Shape(
            count=n,
            mean=self.mean + delta * (nb / n),
            m2=a2 + b2 + delta**2 * (na * nb / n),
            m3=self.m3
            + other.m3
            + delta**3 * (na * nb * (na - nb) / n**2)
            + 3 * delta * (na * b2 - nb * a2) / n,
            m4=self.m4
            + other.m4
            + delta**4 * (na * nb * (na * na - na * nb + nb * nb) / n**3)
            + 6 * delta**2 * (na * na * b2 + nb * nb * a2) / n**2
            + 4 * delta * (na * other.m3 - nb * self.m3) / n,
            first=self.first,
            last=other.last,
            steps=self.steps + other.steps + step * step,
            log_weight=self.log_weight + other.log_weight,
        )


@dataclass(frozen=True)
class Residuals:
    """Weighted sums of the residuals ``r = y - X coef' - intercept`` of trained
    coefficients, from one pass over row blocks: ``ssr = sum w r**2`` (t,),
    ``gradient = (X - center)' W r`` (t, p) and ``total = sum w r`` (t,); and the
    :class:`Shape` of ``sqrt(w) r`` (None where a source did not gather it)."""

    ssr: np.ndarray
    gradient: np.ndarray
    total: np.ndarray
    shape: Shape | None = None

    @classmethod
    def empty(cls, t: int, p: int) -> Residuals:
        """No rows, for t targets and p features."""
        return cls(np.zeros(t), np.zeros((t, p)), np.zeros(t), Shape.empty(t))

    @classmethod
    def of(
        cls,
        X: np.ndarray,
        Y: np.ndarray,
        sample_weight: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        center: np.ndarray,
        rows: np.ndarray | None = None,
    ) -> Residuals:
        n = len(X) if rows is None else len(rows)
        t, p = coef.shape
        result = cls.empty(t, p)
        for _, index in row_blocks(n, p, rows):
            Xb = np.asarray(X[index], dtype=np.float64)
            r = residuals(Xb, Y[index], coef, intercept)
            result = result.merge(cls.block(r, sample_weight[index], Xb - center))
        return result

    @classmethod
    def block(cls, r: np.ndarray, sample_weight: np.ndarray, Xc: Any) -> Residuals:
        """The sums of one block's residuals ``r`` (n, t), its weights and its
        centred X (dense, or anything whose ``.T @`` gives the gradient)."""
        wr = sample_weight[:, None] * r
        return cls(
            np.einsum("ij,ij->j", wr, r),
            np.asarray(Xc.T @ wr).T,
            wr.sum(0),
            Shape.of(r, sample_weight),
        )

    def merge(self, other: Residuals) -> Residuals:
        """The sums of these rows followed by ``other``'s."""
        shape = None
        if self.shape is not None and other.shape is not None:
            shape = self.shape.merge(other.shape)
        return Residuals(
            self.ssr + other.ssr,
            self.gradient + other.gradient,
            self.total + other.total,
            shape,
        )


# -- residuals to a few ulps -------------------------------------------------------
_SPLIT = 2.0**27 + 1  # Dekker's splitter for float64
_SPLITTABLE = 2.0**996  # beyond, the split overflows
_CANCELLATION = 1e-8  # the relative error of plain residuals worth avoiding
_SAMPLED = 64  # rows of a block that judge it


def residuals(
    X: np.ndarray, Y: np.ndarray, coef: np.ndarray, intercept: np.ndarray
) -> np.ndarray:
    """``Y - X coef' - intercept`` (n, t) for a block of rows, each residual
    with a relative error of 1e-8 or less (typically a few ulps).

    Computed plainly, a residual carries the rounding of its largest term: where
    the terms cancel to a residual a billion times smaller (NIST's polynomial
    designs, columns far from zero), that loses most of its digits, and with
    them the residual sum of squares of the standard errors. Where rows spread
    over the block show such cancellation, its targets are computed again with
    every product's and sum's rounding error carried along (Ogita, Rump and
    Oishi's Dot2: as if in twice the precision), at about ten times the cost.
    """
    r = Y - X @ coef.T - intercept
    # the terms' size against the residuals', on rows spread over the block
    every = slice(None, None, max(1, len(X) // _SAMPLED))
    terms = np.abs(X[every]) @ np.abs(coef.T) + np.abs(intercept) + np.abs(Y[every])
    lost = _EPS * terms.sum(0) > _CANCELLATION * np.abs(r[every]).sum(0)
    if lost.any() and np.abs(X).max(initial=0) < _SPLITTABLE:
        for j in np.flatnonzero(lost & (np.abs(coef).max(1) < _SPLITTABLE)):
            r[:, j] = _dot2_residuals(X, Y[:, j], coef[j], intercept[j])
    return r


def _dot2_residuals(X, y, coef, intercept):
    """``y - X coef - intercept`` by Dot2: each product split exactly into its
    value and rounding error (Dekker), each sum likewise (Knuth's TwoSum), the
    errors summed on the side and added once at the end."""
    total, error = _two_sum(y, -intercept)
    for k in range(X.shape[1]):
        product, product_error = _two_product(X[:, k], -coef[k])
        total, sum_error = _two_sum(total, product)
        error = error + (product_error + sum_error)
    return total + error


def _two_sum(a, b):
    """``a + b`` and its rounding error, exactly."""
    total = a + b
    b_part = total - a
    return total, (a - (total - b_part)) + (b - b_part)


def _two_product(a, b):
    """``a * b`` and its rounding error, exactly (no fused multiply-add)."""
    product = a * b
    a_high, a_low = _halves(a)
    b_high, b_low = _halves(b)
    error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + (
        a_low * b_low
    )
    return product, error


def _halves(a):
    """``a`` as two numbers of 26 significant bits each, summing to it exactly."""
    scaled = _SPLIT * a
    high = scaled - (scaled - a)
    return high, a - high
