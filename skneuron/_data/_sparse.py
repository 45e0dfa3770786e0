"""SciPy sparse X for NeuronRegressor: the sums from sparse products.

:meth:`NeuronRegressor.fit <skneuron.NeuronRegressor.fit>` reads SciPy sparse
matrices and arrays (CSR, CSC, COO) through :data:`SOURCE`, a
:class:`~skneuron._data._source.Source` as its in-memory and Dask sources are. X is
never densified: the standardization stays implicit, as in scikit-learn's
``_preprocess_data`` for sparse X. The moments come from the sparse products
``X'WX`` (a dense p x p matrix), ``X'WY`` and the weighted column sums, centred
afterwards (``X'WX - W m m'``); the residuals' sums from ``X @ coef'`` and ``X' W
r``, the gradient's centring carried as ``- center (sum W r)``. Columns stored on
more than half the rows, which may lie far from zero, where that centring would
cancel, are centred explicitly as dense columns (fewer values than twice those they
store). Memory is proportional to the values stored in X, plus p² for the sums.
Where the sums would lose digits, the triangular factor of the rows is taken from
blocks of rows made dense one at a time (:meth:`_SparseSource.factor`).

The full-batch squared loss trains on those sums, also with more features than
samples (wide, text-like data), where dense X would train on the rows: those would
have to be densified, the p x p sums need not. The answer is still the minimum-norm
one there, since the columns of rank-deficient X are all scaled alike (see
:func:`skneuron._data._prepare.units`) and gradient descent from zero stays in the
row space. Other losses and mini-batches train on the rows, scaled but not centred
(the bias is trained with them), packed to the width of the fullest row
(:meth:`_SparseSource.rows`): memory the rows times that width, never densified.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.utils.validation import check_X_y

from skneuron._data._factor import Factor
from skneuron._data._source import (
    Checked,
    Features,
    Settings,
    checked_rows,
    require_y,
)
from skneuron._moments import Moments, Residuals, Shape, _units
from skneuron._objective import Packed, _Standardized

if TYPE_CHECKING:  # pragma: no cover
    import scipy.sparse

ACCEPTED = ["csr", "csc", "coo"]  # LinearRegression's accept_sparse


@dataclass(frozen=True)
class SparseRows:
    """Validated sparse X: a CSR matrix or array (float32 or float64) that
    answers ``len()`` with its number of rows, as ``fit`` asks of its X (SciPy's
    sparse containers refuse ``len()``)."""

    matrix: scipy.sparse.csr_matrix | scipy.sparse.csr_array

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def rows(self, rows: np.ndarray | None, copy: bool = False) -> Any:
        """The CSR rows ``rows`` (all rows when None), in float64; a copy (never
        X itself) with ``copy``."""
        X = self.matrix if rows is None else self.matrix[rows]
        out = X.astype(np.float64, copy=False)
        return out.copy() if copy and out is self.matrix else out


class _SparseSource:
    """How :meth:`NeuronRegressor.fit <skneuron.NeuronRegressor.fit>` reads SciPy
    sparse X: the four functions of a :class:`~skneuron._data._source.Source`,
    from sparse products."""

    @staticmethod
    def validated(
        X: Any, y: Any, sample_weight: Any, *, name: str, features: Features
    ) -> Checked:
        """Checked sparse X (as CSR), float64 y and the sample weights divided by
        their largest (which is returned too), as ``LinearRegression`` validates
        sparse input.

        Parameters
        ----------
        X : sparse matrix or array of shape (n_samples, n_features)
            CSR, CSC or COO (others are converted to CSR).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : array-like of shape (n_samples,), float or None
            Non-negative weights of the rows.
        name : str
            The estimator's name, for the error messages.
        features : Features
            Records (``fit``) or checks the number of features seen.

        Returns
        -------
        checked : Checked
            X as :class:`SparseRows` (CSR, float32 or float64, other dtypes
            converted; not copied when it is CSR of those dtypes already), y in
            float64, the weights divided by their largest, and that largest
            (1.0 without weights).

        Raises
        ------
        ValueError, TypeError
            scikit-learn's errors (``LinearRegression``'s) for wrong shapes,
            dtypes, NaN or infinity, and weights.
        """
        require_y(y, name)
        header = X
        X, y = check_X_y(
            X,
            y,
            accept_sparse=ACCEPTED,
            dtype="numeric",
            multi_output=True,
            y_numeric=True,
            estimator=name,
        )
        features(header, X)
        # CSR: rows are taken from it (CSR is returned as it is)
        checked = checked_rows(X.tocsr(), y, sample_weight)
        return replace(checked, X=SparseRows(checked.X))

    @staticmethod
    def moments(
        X: SparseRows,
        Y: np.ndarray,
        sample_weight: np.ndarray,
        rows: np.ndarray | None = None,
        like: Moments | None = None,
        cross: bool = True,
    ) -> Moments | None:
        """The moments of ``rows`` of (X, Y), as :meth:`Moments.of
        <skneuron._moments.Moments.of>`, from sparse products.

        X's deviations are taken from the origin 0 (implicit zeros stay zero), in
        per-column power-of-two units at or above the column's largest absolute
        value (or ``like``'s, where larger), so that no product overflows. The
        weighted column means ``m`` and the cross products ``X'WX`` of X in those
        units are summed over the stored values only, then centred: ``cxx = X'WX -
        W m m'``, and ``cxy = X' W (Y - mean_y)`` with Y (dense) centred exactly,
        as in memory.

        The difference ``X'WX - W m m'`` keeps about ``eps * E[x**2] / Var(x)``
        relative precision: it cancels for a column whose mean is far from zero
        relative to its spread (1e6 + noise). A column stored on a share ``f`` of
        the rows has ``E[x**2] / Var(x) <= 1 / (1 - f)`` (the zeros spread it), at
        most 2 for columns stored on at most half the rows: those are centred
        this way. The others (at most twice as many rows as values stored) are
        centred explicitly, as dense columns, and their cross products taken with
        the centred values, so that they are as exact as on ``X.toarray()``. (With
        sample weights, ``f`` is the weighted share: weights concentrated on the
        rows where a column far from zero is stored can still cost precision.)

        Parameters and returns as :meth:`Source.moments
        <skneuron._data._source.Source.moments>`, but the whole ``X'WX`` always
        (``cross`` is ignored): ``singular_`` needs it, as the rows are not
        densified for it.
        """
        if (len(X) if rows is None else len(rows)) == 0:
            return None if like is None else like.empty()
        Xs = X.rows(rows, copy=True)  # scaled in place below
        Xs.sum_duplicates()
        Y = Y if rows is None else Y[rows]
        w = sample_weight if rows is None else sample_weight[rows]
        p = Xs.shape[1]
        if like is None:
            origin_x, origin_y = np.zeros(p), Y[0].astype(np.float64)
        else:
            origin_x, origin_y = like.origin_x, like.origin_y
        largest = np.zeros(p)
        np.maximum.at(largest, Xs.indices, np.abs(Xs.data))
        if np.any(origin_x != 0):  # another source's origin: deviations reach it
            largest = np.abs(origin_x) + largest
        unit_x = _units(largest[None, :])
        Ey = Y - origin_y
        unit_y = _units(Ey)
        if like is not None:
            unit_x = np.maximum(unit_x, like.unit_x)
            unit_y = np.maximum(unit_y, like.unit_y)
        Xs.data /= unit_x[Xs.indices]  # X / unit_x: all within [-1, 1]
        Ey /= unit_y
        weight = float(w.sum())
        scale = weight if weight > 0 else 1.0
        per_row = np.repeat(w, np.diff(Xs.indptr))  # each stored value's weight
        sums = np.bincount(Xs.indices, weights=per_row * Xs.data, minlength=p)
        mean = sums / scale  # of X / unit_x (about 0)
        mean_y = w @ Ey / scale
        Ey -= mean_y
        mean, cxx, cxy = _centred_products(Xs, w, mean, Ey)
        return Moments(
            count=Xs.shape[0],
            weight=weight,
            origin_x=origin_x,
            origin_y=origin_y,
            unit_x=unit_x,
            unit_y=unit_y,
            mean_x=mean - origin_x / unit_x,
            mean_y=mean_y,
            cxx=cxx,
            cxy=cxy,
            cyy=w @ (Ey * Ey),
        )

    @staticmethod
    def residuals(
        X: SparseRows,
        Y: np.ndarray,
        sample_weight: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        center: np.ndarray | float,
        rows: np.ndarray | None = None,
    ) -> Residuals:
        """The sums of the residuals of ``rows``, as :meth:`Residuals.of
        <skneuron._moments.Residuals.of>`, from sparse products:
        ``r = Y - X @ coef' - intercept`` (n x t, dense), and the gradient
        ``(X - center)' W r = X' W r - center (sum W r)'``; for the columns
        stored on more than half the rows, from ``X - center`` itself (as
        :meth:`moments` centres them).

        Parameters and returns as :meth:`Source.residuals
        <skneuron._data._source.Source.residuals>`.
        """
        coef = np.asarray(coef, dtype=np.float64)
        Xs = X.rows(rows)
        Y = Y if rows is None else Y[rows]
        w = sample_weight if rows is None else sample_weight[rows]
        r = Y - np.asarray(Xs @ coef.T) - intercept
        wr = w[:, None] * r
        total = wr.sum(0)
        center = np.broadcast_to(np.asarray(center, dtype=np.float64), coef.shape[1])
        gradient = np.asarray(Xs.T @ wr).T - np.outer(total, center)
        dense = _dense_columns(Xs)  # maybe far from center: explicitly
        if len(dense):
            gradient[:, dense] = wr.T @ (Xs[:, dense].toarray() - center[dense])
        return Residuals(np.einsum("ij,ij->j", wr, r), gradient, total, Shape.of(r, w))

    @staticmethod
    def factor(
        X: SparseRows,
        Y: np.ndarray,
        sample_weight: np.ndarray,
        rows: np.ndarray | None,
        scaling: _Standardized,
    ) -> Factor:
        """The triangular factor of ``rows``, as :meth:`Factor.of
        <skneuron._data._factor.Factor.of>`: from blocks of rows made dense one
        at a time (as many values as a block of dense rows), never all of X."""
        return Factor.of(_DenseBlocks(X), Y, sample_weight, rows, scaling)

    centres_rows = False  # centring would densify them

    @staticmethod
    def train_on_sums(settings: Settings, shape: tuple[int, int]) -> bool:
        """Whether sparse X trains on the sums of its rows: wherever the settings
        allow it (the full-batch squared loss), unless ``precompute=False``;
        a ``ValueError`` for a Gram matrix.

        The sums (p x p) are formed from sparse products. Sparse X trains on them
        also with more features than samples, where ``precompute="auto"`` would
        train dense X on its rows: memory p² then, and the answer is the
        minimum-norm one all the same. Other losses and mini-batches train on
        the rows, scaled but not centred, packed (:meth:`rows`).

        Parameters as :meth:`Source.train_on_sums
        <skneuron._data._source.Source.train_on_sums>`.
        """
        if settings.gram_given:
            raise ValueError(
                "precompute as a Gram matrix is not used with sparse X: its sums "
                "come from X.T @ X directly. Use precompute='auto' or True."
            )
        possible = settings.sums_possible(shape[0])
        if settings.precompute is True and not possible:
            raise ValueError(
                "precompute=True trains on the sums of the rows, which only the "
                "full-batch squared loss allows: use loss='squared_error' and "
                "batch_size=None, or precompute='auto'."
            )
        return possible and settings.precompute is not False

    @staticmethod
    def rows(
        X: SparseRows,
        Y: np.ndarray,
        sample_weight: np.ndarray,
        rows: Any,
        scaling: _Standardized,
        active: np.ndarray,
    ) -> Packed:
        """The ``rows`` of X scaled by ``scaling.X_scale`` (not centred: its
        ``X_offset`` is zero), packed: each row's stored values in as many slots
        as the fullest row stores (:class:`~skneuron._objective.Packed`). Columns
        not ``active`` are left out; Y is centred and scaled as dense Y is."""
        Xs = X.rows(None if isinstance(rows, slice) else rows, copy=True)
        Xs.sum_duplicates()
        keep = active[Xs.indices]
        Xs.data = np.where(keep, Xs.data / scaling.X_scale[Xs.indices], 0.0)
        Xs.eliminate_zeros()
        n, p = Xs.shape
        stored = np.diff(Xs.indptr)
        slots = max(int(stored.max(initial=0)), 1)
        row_of = np.repeat(np.arange(n), stored)
        slot = np.arange(Xs.nnz) - np.repeat(Xs.indptr[:-1], stored)
        columns = np.zeros((n, slots), np.int32)
        values = np.zeros((n, slots))
        columns[row_of, slot] = Xs.indices
        values[row_of, slot] = Xs.data
        Ys = (Y[rows] - scaling.Y_offset) / scaling.Y_scale
        return Packed(columns, values, Ys, sample_weight[rows], p)


class _DenseBlocks:
    """Sparse X whose ``X[index]`` is that block of rows as a dense array."""

    def __init__(self, X: SparseRows):
        self.X, self.shape = X, X.shape

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, index: Any) -> np.ndarray:
        return self.X.rows(index).toarray()


def _dense_columns(Xs: Any) -> np.ndarray:
    """The columns of CSR ``Xs`` stored on more than half its rows."""
    stored = np.bincount(Xs.indices, minlength=Xs.shape[1])
    return np.flatnonzero(stored > Xs.shape[0] / 2)


def _centred_products(
    Xs: Any, w: np.ndarray, mean: np.ndarray, Ey: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The weighted column means of CSR ``Xs`` (``mean`` as summed, refined)
    and its centred weighted cross products with itself (p x p) and with the
    centred dense ``Ey``: ``X'WX - W m m'`` and
    ``X'W Ey - m (w'Ey)``, except for the columns stored on more than half the
    rows, which are centred explicitly (see :meth:`_SparseSource.moments`)."""
    weight = float(w.sum())
    Xw = Xs.copy()
    Xw.data *= np.repeat(w, np.diff(Xs.indptr))  # each stored value's weight
    cxx = np.asarray((Xw.T @ Xs).toarray()) - weight * np.outer(mean, mean)
    wEy = w[:, None] * Ey
    cxy = np.asarray(Xs.T @ wEy) - np.outer(mean, wEy.sum(0))
    dense = _dense_columns(Xs)
    if not len(dense):
        return mean, cxx, cxy
    # as dense columns (n values each: fewer than twice those they store), centred
    # on their means, refined by a second pass (summed, they are off by eps * mean)
    centred = np.asarray(Xs[:, dense].toarray()) - mean[dense]
    shift = w @ centred / (weight if weight > 0 else 1.0)
    mean = mean.copy()
    mean[dense] += shift
    centred -= shift
    weighted = w[:, None] * centred
    cxy[dense] = weighted.T @ Ey
    cxx[:, dense] = np.asarray(Xs.T @ weighted) - np.outer(mean, weighted.sum(0))
    cxx[np.ix_(dense, dense)] = weighted.T @ centred
    cxx[dense, :] = cxx[:, dense].T
    return mean, cxx, cxy


SOURCE = _SparseSource()
"""What :meth:`NeuronRegressor.fit <skneuron.NeuronRegressor.fit>` reads SciPy
sparse X through."""
