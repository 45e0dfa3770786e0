"""Dask collections for NeuronRegressor: the sums computed by the cluster.

:meth:`NeuronRegressor.fit <skneuron.NeuronRegressor.fit>` reads Dask arrays and
DataFrames through :data:`SOURCE`, a :class:`~skneuron._data._source.Source` as its
in-memory and sparse sources are. Every pass over the rows is one task per row block
that returns a small summary (:class:`~skneuron._moments.Moments`,
:class:`~skneuron._moments.Residuals`, the triangular factor of a badly conditioned
X as a :class:`~skneuron._data._factor.Triangle`: p x p numbers at most), and the
summaries are merged pairwise as a tree on the cluster (factors by the QR of two
stacked: TSQR); only the merged one reaches the client, where the neuron trains on
it. Nothing here gathers the rows.

Bad input raises scikit-learn's errors: the shapes, dtypes and feature names are
checked on the collections' metadata before anything is computed; NaN and infinity
are found by each block's task as it reads the block, inside the pass that needed
the block anyway (so a fit on data with NaN raises when its first pass runs).

Dask is imported only in here, and only when a Dask collection arrives:
``import skneuron`` never imports it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils.validation import (
    _assert_all_finite,
    _check_sample_weight,
    _check_y,
    check_array,
    check_consistent_length,
    check_non_negative,
)

from skneuron._data._factor import Factor, Triangle
from skneuron._data._source import (
    Checked,
    Features,
    Settings,
    require_y,
)
from skneuron._moments import Moments, Residuals
from skneuron._objective import _Standardized

if TYPE_CHECKING:  # pragma: no cover
    import dask.array

# The unit a Moments starts from when the blocks' own data are to set it: below any
# power of two that skneuron._moments._units returns, so ``max`` keeps theirs.
_NO_UNIT = np.finfo(np.float64).smallest_subnormal

_INCREMENTAL = (
    "To train out of core with these settings, wrap the estimator: "
    "dask_ml.wrappers.Incremental(NeuronRegressor(...)).fit(X, y) passes the "
    "blocks through partial_fit one at a time (or call partial_fit on each block "
    "yourself)."
)


# -- the source fit reads Dask collections through -----------------------------------
class _DaskSource:
    """How :meth:`NeuronRegressor.fit <skneuron.NeuronRegressor.fit>` reads Dask
    collections: the four functions of a :class:`~skneuron._data._source.Source`,
    computed by the cluster block by block."""

    @staticmethod
    def validated(
        X: Any, y: Any, sample_weight: Any, *, name: str, features: Features
    ) -> Checked:
        """Checked X and y as aligned Dask arrays, and the sample weights divided
        by their largest (which is returned too), as ``validate_data`` would give.

        Parameters
        ----------
        X : dask array or dask DataFrame of shape (n_samples, n_features)
            Training data (a NumPy array or pandas DataFrame when only y is Dask).
        y : dask array, Series or DataFrame of shape (n_samples,) or \
(n_samples, n_targets)
            Target values.
        sample_weight : dask array or Series, array-like, float or None
            Non-negative weights of the rows.
        name : str
            The estimator's name, for the error messages.
        features : Features
            Records (``fit``) or checks the features seen: the number of X's
            columns and, from a DataFrame with string column names, their names
            (read off its metadata).

        Returns
        -------
        checked : Checked
            X as a dask array of shape (n_samples, n_features), float32 or
            float64 (others converted lazily), one chunk of columns; y a float64
            dask array in the row chunks of X; the weights divided by their
            largest (a ``_SampleWeights``, in the row chunks of X), and that
            largest (1.0 without weights).

        Raises
        ------
        ValueError, TypeError
            scikit-learn's errors for wrong shapes, dtypes, feature names and
            weights. NaN or infinity in X or y raise scikit-learn's error when the
            first pass over the blocks runs.
        """
        require_y(y, name)
        header = _described(X)
        X, y, sample_weight = _with_lengths(X, y, sample_weight)
        X, y = _dask_X(X, y, name), _dask_y(y, X, name)
        check_consistent_length(X, y)
        X, y = _aligned(X, y)
        weights, largest = _weights(sample_weight, X)
        features(header, X)
        return Checked(X, y, weights, largest, sample_weight is not None)

    @staticmethod
    def moments(
        X: dask.array.Array,
        Y: dask.array.Array,
        sample_weight: _SampleWeights | dask.array.Array,
        rows: np.ndarray | None = None,
        like: Moments | None = None,
        cross: bool = True,
    ) -> Moments | None:
        """The moments of ``rows`` of (X, Y), as :meth:`Moments.of
        <skneuron._moments.Moments.of>`, from one pass on the cluster.

        Each row block's moments are taken on one origin (the first selected row,
        fetched once, or ``like``'s) and merged pairwise as a tree; only the
        merged moments (p x p numbers) are brought back.

        Parameters and returns as :meth:`Source.moments
        <skneuron._data._source.Source.moments>`.
        """
        import dask

        weights = _array(sample_weight)
        if (len(X) if rows is None else len(rows)) == 0:
            return None if like is None else like.empty()
        if like is None:  # the first selected row is the origin, as in memory
            first = 0 if rows is None else int(rows[0])
            origin_x, origin_y = dask.compute(X[first], Y[first])
            like = _origin(origin_x, origin_y, cross)
        return _reduced(
            _block_moments,
            _merge,
            X,
            Y,
            weights,
            _selection(X, rows),
            like=like,
            cross=like.cross,
        )

    @staticmethod
    def residuals(
        X: dask.array.Array,
        Y: dask.array.Array,
        sample_weight: _SampleWeights | dask.array.Array,
        coef: np.ndarray,
        intercept: np.ndarray,
        center: np.ndarray | float,
        rows: np.ndarray | None = None,
    ) -> Residuals:
        """The sums of the residuals of ``rows``, as :meth:`Residuals.of
        <skneuron._moments.Residuals.of>`, from one pass on the cluster (block
        by block, summed as a tree).

        Parameters and returns as :meth:`Source.residuals
        <skneuron._data._source.Source.residuals>`.
        """
        coef = np.asarray(coef, dtype=np.float64)
        if (len(X) if rows is None else len(rows)) == 0:
            return Residuals.empty(*coef.shape)
        return _reduced(
            _block_residuals,
            _merge,
            X,
            Y,
            _array(sample_weight),
            _selection(X, rows),
            coef=coef,
            intercept=np.asarray(intercept, dtype=np.float64),
            center=center,
        )

    @staticmethod
    def factor(
        X: dask.array.Array,
        Y: dask.array.Array,
        sample_weight: _SampleWeights | dask.array.Array,
        rows: np.ndarray | None,
        scaling: _Standardized,
    ) -> Factor:
        """The triangular factor of ``rows``, as :meth:`Factor.of
        <skneuron._data._factor.Factor.of>`, from one pass on the cluster: each
        row block's factor (TSQR), merged pairwise as a tree (the QR of two
        factors stacked); only the merged one ((p + t) x (p + t) numbers) is
        brought back."""
        merged = _reduced(
            _block_factor,
            _merge,
            X,
            Y,
            _array(sample_weight),
            _selection(X, rows),
            scaling=scaling,
        )
        return merged.factor(X.shape[1], merged.weight)

    @staticmethod
    def train_on_sums(settings: Settings, shape: tuple[int, int]) -> bool:
        """Dask collections train on the sums of the rows only: True where the
        settings allow it, else a ``ValueError`` that says what to do.

        Parameters as :meth:`Source.train_on_sums
        <skneuron._data._source.Source.train_on_sums>`; it returns True, or raises a
        ``ValueError`` for ``precompute=False`` or a Gram matrix, a loss other than
        ``"squared_error"`` or mini-batches: these pass over the rows every epoch, which
        this estimator does not do on Dask collections (it never gathers them).
        """
        if settings.precompute is False:
            raise ValueError(
                "precompute=False trains on the rows themselves, but "
                "NeuronRegressor trains on Dask collections only from the sums of "
                "their rows (one pass on the cluster): use precompute='auto' or "
                f"True. {_INCREMENTAL}"
            )
        if not settings.sums_possible(shape[0]):
            raise ValueError(
                "NeuronRegressor trains on Dask collections only from the sums of "
                "their rows (one pass on the cluster), which only the full-batch "
                "squared loss allows; "
                f"loss={settings.loss!r} with batch_size={settings.batch_size!r} "
                "passes over the rows every epoch. Use loss='squared_error' and "
                f"batch_size=None. {_INCREMENTAL} The arrays are never computed "
                "into memory for you; if they fit, pass X.compute(), y.compute()."
            )
        if settings.gram_given:
            raise ValueError(
                "precompute as a Gram matrix needs data in memory without "
                "validation_split (it is X'WX of all rows)."
            )
        return True


SOURCE = _DaskSource()
"""What :meth:`NeuronRegressor.fit <skneuron.NeuronRegressor.fit>` reads Dask
collections through."""


@dataclass(frozen=True)
class _SampleWeights:
    """Sample weights on the cluster, divided by their largest, with what
    ``NeuronRegressor._split`` asks of them (their number; the largest weight of
    some rows) answered without gathering them: the largest is 1 for all rows or
    uniform weights, and one scalar computed on the cluster otherwise."""

    array: Any  # dask.array.Array of shape (n_samples,)
    uniform: bool
    rows: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.array) if self.rows is None else len(self.rows)

    def __getitem__(self, rows: Any) -> _SampleWeights:
        if isinstance(rows, slice) and rows == slice(None):
            return self
        if self.rows is not None:
            raise TypeError("Rows of rows of sample weights are not supported.")
        return _SampleWeights(self.array, self.uniform, np.asarray(rows))

    def max(self, initial: float = -np.inf) -> float:
        """The largest weight of these rows (``initial`` if there are none)."""
        if len(self) == 0:
            return float(initial)
        if self.uniform or self.rows is None:  # divided by the largest: 1
            return max(1.0, float(initial))
        selected = _selection(self.array, self.rows)
        parts = _blocks(_select_max, [self.array], selected, dtype=np.float64)
        return max(float(initial), float(parts.max().compute()))


# -- predict and score ---------------------------------------------------------------
def predict(
    X: Any, coef: np.ndarray, intercept: Any, *, name: str, features: Features
) -> dask.array.Array:
    """Predictions ``X @ coef.T + intercept`` as a Dask array, block by block.

    Nothing is computed: the number of features and the feature names are
    checked by ``features`` (as ``validate_data(reset=False)`` checks them), on
    X's metadata; NaN or infinity in a block raise scikit-learn's error when that
    block is computed.

    Parameters
    ----------
    X : dask array or dask DataFrame of shape (n_samples, n_features)
        Samples.
    coef : ndarray of shape (n_features,) or (n_targets, n_features)
        A fitted estimator's ``coef_``.
    intercept : float or ndarray of shape (n_targets,)
        Its ``intercept_``.
    name : str
        Its name, for the error messages.
    features : Features
        Checks the features against those it was fitted on.

    Returns
    -------
    y_pred : dask array of shape (n_samples,) or (n_samples, n_targets)
        float64, in the row chunks of X (unknown ones for a DataFrame).
    """
    header = _described(X)
    if _is_frame(X):
        X = X.to_dask_array()  # row chunks of unknown length: nothing computed
    X = _features(X, name)
    features(header, X)
    coef = np.asarray(coef, dtype=np.float64)
    intercept = np.asarray(intercept, dtype=np.float64)
    given = dict(coef=coef, intercept=intercept, estimator_name=name)
    if coef.ndim == 1:
        return X.map_blocks(_predicted, dtype=np.float64, drop_axis=1, **given)
    chunks = (X.chunks[0], (len(coef),))
    return X.map_blocks(_predicted, dtype=np.float64, chunks=chunks, **given)


def score(
    X: Any,
    y: Any,
    sample_weight: Any,
    coef: np.ndarray,
    intercept: Any,
    *,
    name: str,
    features: Features,
) -> float:
    """R² of the predictions ``X @ coef.T + intercept``, as
    :func:`sklearn.metrics.r2_score` on the computed arrays, from one pass on the
    cluster that brings back a few scalars per target.

    Parameters
    ----------
    X : dask array or dask DataFrame of shape (n_samples, n_features)
        Samples.
    y : dask array, Series or DataFrame of shape (n_samples,) or \
(n_samples, n_targets)
        True values.
    sample_weight : dask array or Series, array-like or None
        Sample weights.
    coef, intercept, name, features
        As for :func:`predict`.

    Returns
    -------
    score : float
        R², averaged uniformly over targets (scikit-learn's default).
    """
    header = _described(X)
    X, y, sample_weight = _with_lengths(X, y, sample_weight)
    X = _features(_dask_like(X, y), name)
    features(header, X)
    y = _dask_like(y, X)
    check_consistent_length(X, y)
    X, y = _aligned(X, y)
    if y.ndim == 1:
        y = y[:, None]
    y = y.astype(np.float64)
    n_outputs = 1 if np.ndim(coef) == 1 else len(coef)
    if y.shape[1] != n_outputs:
        raise ValueError(
            "y_true and y_pred have different number of output "
            f"({y.shape[1]}!={n_outputs})"
        )
    if len(y) < 2:
        warnings.warn(
            "R^2 score is not well-defined with less than two samples.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
        return float("nan")
    spread = _reduced(
        _block_spread,
        _merge,
        X,
        y,
        _score_weights(sample_weight, X, y),
        None,
        coef=np.atleast_2d(coef).astype(np.float64),
        intercept=np.atleast_1d(intercept).astype(np.float64),
        estimator_name=name,
    )
    return spread.r2()


def _score_weights(sample_weight, X, y):
    """The weights of R² in the row chunks of X (ones without weights)."""
    if sample_weight is None:
        return _ones(X)
    if _is_dask(sample_weight):
        return _rows_of(sample_weight.astype(np.float64), X)
    return _rows_of(_check_sample_weight(sample_weight, y, dtype=np.float64), X)


@dataclass(frozen=True)
class _Spread:
    """Of some rows, per target: the total ``weight``, the weighted ``mean`` of y,
    the weighted squared deviations from it ``m2`` and the weighted squared
    residuals ``ssr``; merged with the pairwise update rule."""

    weight: float
    mean: np.ndarray
    m2: np.ndarray
    ssr: np.ndarray

    def merge(self, other: _Spread) -> _Spread:
        weight = self.weight + other.weight
        if not weight > 0:
            return _Spread(weight, self.mean, self.m2 + other.m2, self.ssr + other.ssr)
        share = other.weight / weight
        delta = other.mean - self.mean
        return _Spread(
            weight,
            self.mean + delta * share,
            self.m2 + other.m2 + self.weight * share * delta**2,
            self.ssr + other.ssr,
        )

    def r2(self) -> float:
        """R² per target as :func:`sklearn.metrics.r2_score` (``force_finite``:
        a constant target scores 1 if predicted exactly, else 0), averaged."""
        numerator, denominator = self.ssr, self.m2
        scores = np.ones_like(numerator)
        valid = (numerator != 0) & (denominator != 0)
        scores[valid] = 1 - numerator[valid] / denominator[valid]
        scores[(numerator != 0) & (denominator == 0)] = 0.0
        return float(np.mean(scores))


# -- the blocks' tasks (run on the workers: NumPy only) -------------------------------
def _rows_in(selected: np.ndarray | None) -> np.ndarray | None:
    """A block's selected rows as indices (None: all of them)."""
    if selected is None or selected.all():
        return None
    return np.flatnonzero(selected)


def _block_moments(X, Y, sample_weight, selected=None, *, like, cross):
    rows = _rows_in(selected)
    return _wrapped(Moments.of(X, Y, sample_weight, rows, like, cross=cross))


def _block_residuals(X, Y, sample_weight, selected=None, *, coef, intercept, center):
    rows = _rows_in(selected)
    return _wrapped(Residuals.of(X, Y, sample_weight, coef, intercept, center, rows))


def _block_factor(X, Y, sample_weight, selected=None, *, scaling):
    rows = _rows_in(selected)
    return _wrapped(Triangle.of(X, Y, sample_weight, rows, scaling))


def _block_spread(X, Y, sample_weight, *, coef, intercept, estimator_name):
    _assert_all_finite(Y, input_name="y_true")
    Y_pred = _predicted(
        X, coef=coef, intercept=intercept, estimator_name=estimator_name
    )
    weight = float(sample_weight.sum())
    mean = sample_weight @ Y / weight if weight > 0 else np.zeros(Y.shape[1])
    return _wrapped(
        _Spread(
            weight,
            mean,
            sample_weight @ (Y - mean) ** 2,
            sample_weight @ (Y - Y_pred) ** 2,
        )
    )


def _predicted(X, *, coef, intercept, estimator_name):
    _assert_all_finite(X, input_name="X", estimator_name=estimator_name)
    return X @ coef.T + intercept


def _finite(block, input_name, estimator_name):
    """The block, unchanged, once checked for NaN and infinity."""
    _assert_all_finite(block, input_name=input_name, estimator_name=estimator_name)
    return block


def _checked_max(sample_weight):
    """A block of weights checked as ``_check_sample_weight`` checks them; its
    largest weight."""
    sample_weight = check_array(
        sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight"
    )
    check_non_negative(sample_weight, "`sample_weight`")
    return np.array([sample_weight.max(initial=0.0)])


def _select_max(sample_weight, selected=None):
    if selected is not None:
        sample_weight = sample_weight[selected]
    return np.array([sample_weight.max(initial=0.0)])


def _wrapped(summary):
    """A block's summary as the one element of an object array (its block)."""
    out = np.empty(1, dtype=object)
    out[0] = summary
    return out


def _merge(a, b):
    """Two blocks' (or subtrees') summaries merged."""
    return _unwrapped(a).merge(_unwrapped(b))


def _unwrapped(summary):
    return summary[0] if isinstance(summary, np.ndarray) else summary


# -- how the passes are laid out on the cluster ----------------------------------------
def _blocks(func, arrays, selected=None, dtype=object, **kwargs):
    """One ``func`` task per row block of ``arrays`` (in the same row chunks, one
    chunk of columns), each giving one element of the result (of ``dtype``);
    ``selected`` is a boolean Dask array of the rows to take, or None."""
    import dask.array as da

    pairs = []
    for k, array in enumerate(arrays):
        pairs += [array, "i" if array.ndim == 1 else "ij" if k == 0 else "ik"]
    if selected is not None:
        pairs += [selected, "i"]
    return da.blockwise(
        func,
        "i",
        *pairs,
        dtype=dtype,
        meta=np.empty(0, dtype=dtype),
        concatenate=True,
        adjust_chunks={"i": 1},
        **kwargs,
    )


def _reduced(func, merge, X, Y, weights, selected, **kwargs):
    """One pass: ``func`` on each row block of (X, Y, weights), the results merged
    pairwise as a tree on the cluster, the merged one brought back. Only
    neighbours are merged, the earlier rows first, so that a merge may depend
    on the rows' order (the residuals' Durbin-Watson steps across blocks)."""
    import dask

    parts = _blocks(func, [X, Y, weights], selected, **kwargs)
    nodes = list(parts.to_delayed())
    node = dask.delayed(_unwrapped)(nodes[0]) if len(nodes) == 1 else None
    merge = dask.delayed(merge, pure=True)
    while len(nodes) > 1:
        merged = [merge(a, b) for a, b in zip(nodes[::2], nodes[1::2], strict=False)]
        nodes = merged + nodes[2 * len(merged) :]
        node = nodes[0]
    (total,) = dask.compute(node)
    return total


def _selection(X, rows):
    """The rows as a boolean Dask array in X's row chunks (None: all rows)."""
    if rows is None:
        return None
    import dask.array as da

    mask = np.zeros(len(X), dtype=bool)
    mask[rows] = True
    return da.from_array(mask, chunks=(X.chunks[0],))


def _origin(origin_x, origin_y, cross=True) -> Moments:
    """No rows, on this origin, in units the blocks' data will set."""
    origin_x = np.asarray(origin_x, dtype=np.float64)
    origin_y = np.asarray(origin_y, dtype=np.float64)
    p, t = len(origin_x), len(origin_y)
    cxx = np.zeros((p, p) if cross else p)
    return Moments(
        0, 0.0, origin_x, origin_y, np.full(p, _NO_UNIT), np.full(t, _NO_UNIT),
        np.zeros(p), np.zeros(t), cxx, np.zeros((p, t)), np.zeros(t),
    )  # fmt: skip


# -- validation, on metadata -----------------------------------------------------------
def _is_dask(obj) -> bool:
    return type(obj).__module__.split(".")[0] in ("dask", "dask_expr")


def _is_frame(obj) -> bool:
    return _is_dask(obj) and hasattr(obj, "map_partitions")


def _described(X):
    """What tells X's feature names without computing it: a dask DataFrame's
    metadata (an empty pandas DataFrame), or X itself."""
    return X._meta if _is_frame(X) else X


def _array(weights):
    return weights.array if isinstance(weights, _SampleWeights) else weights


def _with_lengths(*collections):
    """Dask DataFrames and Series as Dask arrays, and Dask arrays with known row
    chunks; other objects unchanged.

    Where the lengths of the row blocks are unknown they are counted, for all the
    collections in one pass (one integer per block comes back), on the arrays
    themselves. A DataFrame's partitions are only settled when its array's graph
    is built: Dask's optimizer may fuse them there (``read_parquet`` of a folder
    combines small files, into fewer partitions for fewer columns), so counting
    the DataFrame's partitions can give another number of lengths than the array
    has blocks. X, y and the weights may thus come in different row chunks;
    ``_aligned`` and ``_rows_of`` bring them to X's.
    """
    import dask

    arrays = [c.to_dask_array() if _is_frame(c) else c for c in collections]
    unknown = [k for k, a in enumerate(arrays) if _is_dask(a) and np.isnan(a.shape[0])]
    counted = dask.compute(*[_block_lengths(arrays[k]) for k in unknown])
    for k, lengths in zip(unknown, counted, strict=True):
        arrays[k] = _with_row_chunks(arrays[k], lengths)
    return tuple(arrays)


def _block_lengths(array):
    """The number of rows of each row block of a Dask array, lazily."""
    import dask

    blocks = array.to_delayed().reshape(array.numblocks[0], -1)[:, 0]
    return [dask.delayed(len)(block) for block in blocks]


def _with_row_chunks(array, lengths):
    """The same Dask array (a new object: not the caller's), its row blocks
    ``lengths`` long."""
    import dask.array as da

    chunks = (tuple(int(n) for n in lengths), *array.chunks[1:])
    return da.Array(array.dask, array.name, chunks, meta=array._meta)


def _dask_like(obj, other):
    """A Dask array of ``obj``: itself, or an in-memory array in ``other``'s
    row chunks."""
    import dask.array as da

    if _is_dask(obj):
        return obj
    array = np.asarray(obj)
    return da.from_array(array, chunks=(other.chunks[0], *array.shape[1:]))


def _dask_X(X, y, name):
    """X checked as ``check_array(X, dtype="numeric")`` checks it, on its
    metadata; float32/float64, NaN and infinity checked lazily in each block."""
    if not _is_dask(X):  # only y is Dask: validate X in memory
        X = check_array(X, dtype="numeric", estimator=name, input_name="X")
        return _dask_like(X, y)
    _check_meta(X, name)
    if 0 in X.shape:  # empty: computing it costs nothing, and gives the error
        check_array(X.compute(), estimator=name, input_name="X")
    if X.dtype not in (np.float64, np.float32):
        X = X.astype(np.float64)
    X = X.rechunk({1: -1})
    return X.map_blocks(_finite, "X", name, dtype=X.dtype)


def _dask_y(y, X, name):
    """y checked as ``_check_y(multi_output=True, y_numeric=True)`` checks it, on
    its metadata; float64, NaN and infinity checked lazily in each block."""
    if not _is_dask(y):
        y = _check_y(y, multi_output=True, y_numeric=True, estimator=name)
        y = _dask_like(np.asarray(y, dtype=np.float64), X)
    check_array(
        y._meta,
        ensure_2d=False,
        dtype=None,
        ensure_all_finite=False,
        ensure_min_samples=0,
        ensure_min_features=0,
        input_name="y",
        estimator=name,
    )
    if 0 in y.shape:  # empty: computing it costs nothing, and gives the error
        _check_y(y.compute(), multi_output=True, y_numeric=True, estimator=name)
    y = y.astype(np.float64)
    return y.map_blocks(_finite, "y", name, dtype=y.dtype)


def _aligned(X, y):
    """X with one chunk of columns, y in X's row chunks."""
    X = X.rechunk({1: -1})
    return X, _rows_of(y, X)


def _rows_of(array, X):
    """``array`` (Dask or NumPy) in the row chunks of X, other axes whole."""
    array = _dask_like(array, X)
    chunks = {0: X.chunks[0]}
    if array.ndim > 1:
        chunks[1] = -1
    return array.rechunk(chunks)


def _ones(X):
    import dask.array as da

    return da.ones(len(X), chunks=(X.chunks[0],), dtype=np.float64)


def _weights(sample_weight, X):
    """The weights as ``_check_sample_weight(ensure_non_negative=True)`` checks
    them, divided by their largest, which one pass over the weights only finds."""
    if sample_weight is None:
        return _SampleWeights(_ones(X), uniform=True), 1.0
    if not _is_dask(sample_weight):
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        largest = sample_weight.max()
        return _SampleWeights(_rows_of(sample_weight / largest, X), False), largest
    n_samples = len(X)
    if sample_weight.ndim != 1:
        raise ValueError(
            "Sample weights must be 1D array or scalar, got "
            f"{sample_weight.ndim}D array. Expected either a scalar value or a 1D "
            f"array of length {n_samples}."
        )
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight.shape == {sample_weight.shape}, expected {(n_samples,)}!"
        )
    sample_weight = _rows_of(sample_weight, X)
    maxima = _blocks(_checked_max, [sample_weight], dtype=np.float64)
    largest = float(maxima.max().compute())
    if not largest > 0:
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return _SampleWeights(sample_weight.astype(np.float64) / largest, False), largest


def _check_meta(X, name):
    """X's dtype and dimensions checked as ``check_array(X, dtype="numeric")``
    checks them, on its metadata (nothing computed)."""
    check_array(
        X._meta,
        dtype="numeric",
        ensure_all_finite=False,
        ensure_min_samples=0,
        ensure_min_features=0,
        estimator=name,
        input_name="X",
    )


def _features(X, name):
    """X (a Dask array) with one chunk of columns, its dtype checked as
    ``validate_data(reset=False)`` checks it, on its metadata."""
    _check_meta(X, name)
    return X.rechunk({1: -1})
