"""The data seam: where ``fit``'s data comes from, and how it is prepared.

:func:`source_of` picks the :class:`~skneuron._data._source.Source` that reads X
(NumPy arrays, SciPy sparse, Dask collections); :func:`prepare` turns the checked
data into one :class:`~skneuron._data._prepare.Prepared` record, from which the
estimator states the problem and the engine trains. Nothing here knows the
estimator or Keras.
"""

from __future__ import annotations

from typing import Any

from skneuron._data._prepare import RANK_CUTOFF, Prepared, prepare
from skneuron._data._source import (
    IN_MEMORY,
    Checked,
    Features,
    Settings,
    Source,
    is_dask,
    is_sparse,
)

__all__ = [
    "IN_MEMORY",
    "RANK_CUTOFF",
    "Checked",
    "Features",
    "Prepared",
    "Settings",
    "Source",
    "is_dask",
    "is_sparse",
    "prepare",
    "source_of",
]


def source_of(X: Any, y: Any) -> Source:
    """The source that reads (X, y): Dask collections (either of them), SciPy
    sparse X, or arrays in memory. Dask and SciPy are imported only when such
    data arrives."""
    if is_dask(X) or is_dask(y):
        from skneuron._data import _dask

        return _dask.SOURCE
    if is_sparse(X):
        from skneuron._data import _sparse

        return _sparse.SOURCE
    return IN_MEMORY
