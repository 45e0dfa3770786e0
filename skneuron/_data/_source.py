"""What a source of training data is, and the rules about which settings it allows.

A source reads one kind of X: NumPy arrays in memory (:data:`IN_MEMORY`, here),
SciPy sparse matrices (:mod:`skneuron._data._sparse`) or Dask collections
(:mod:`skneuron._data._dask`). Each answers the questions of
:class:`Source`, from resolved values: it never sees the estimator. What it must
record on the estimator (the features seen, as scikit-learn's ``validate_data``
does) it hands to a :class:`Features` function that the estimator gives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from sklearn.utils.validation import _check_sample_weight, check_array, check_X_y

from skneuron._data._factor import Factor
from skneuron._loss import LOSSES
from skneuron._moments import Moments, Residuals
from skneuron._objective import Packed, Rows, _Standardized
from skneuron._schedule import is_keras_sgd


class Features(Protocol):
    """Scikit-learn's record of the features an estimator sees (``n_features_in_``,
    ``feature_names_in_``), set by ``fit`` and checked by ``partial_fit``: the
    bookkeeping half of ``validate_data``, bound by the estimator to itself.
    ``header`` is what X's column names are read from, ``X`` the checked 2-D X."""

    def __call__(self, header: Any, X: Any) -> None: ...


@dataclass(frozen=True)
class Settings:
    """The estimator's parameters that decide how its data is read and prepared,
    as given to it (validated, not yet resolved: ``precompute`` may be ``"auto"``
    or a Gram matrix)."""

    fit_intercept: bool = True
    loss: str = "squared_error"
    epsilon: float = 1.0
    alpha: float = 0.0
    l1_ratio: float = 0.0
    batch_size: int | None = None
    shuffle: bool = True
    validation_split: float = 0.0
    random_state: Any = None
    precompute: Any = "auto"
    positive: bool = False
    optimizer: Any = "sgd"
    learning_rate: Any = "auto"

    def sums_possible(self, n_samples: int) -> bool:
        """Whether these settings can train on the sums of ``n_samples`` rows: a
        loss whose value and gradient are sums of the rows' moments, in full
        batches."""
        full = self.batch_size is None or self.batch_size >= n_samples
        return LOSSES[self.loss].sums and full

    def stream_on_sums(self, n_features: int) -> bool:
        """Whether ``partial_fit`` trains on the sums of the rows passed: where
        they are possible (full batches: ``batch_size=None``), unless
        ``precompute=False`` or (with ``"auto"``) over 2048 features, whose
        p x p sums would outweigh the chunks."""
        possible = LOSSES[self.loss].sums and self.batch_size is None
        if self.precompute == "auto":
            return possible and n_features <= 2048
        return possible and bool(self.precompute)

    @property
    def automatic_step(self) -> bool:
        """Whether the step is chosen for the problem's curvature (Keras' plain
        SGD with ``learning_rate="auto"``)."""
        return self.learning_rate == "auto" and is_keras_sgd(self.optimizer)

    @property
    def gram_given(self) -> bool:
        """Whether ``precompute`` is a Gram matrix (not a flag or ``"auto"``)."""
        return not isinstance(self.precompute, str | bool | type(None))


@dataclass(frozen=True)
class Checked:
    """Validated training data: X (float32 or float64, as the source keeps it), y
    in float64, the sample weights divided by their largest, that largest
    (``weight_scale``: the answer does not depend on the weights' scale), and
    whether weights were given at all (``weighted``: WLS rather than OLS)."""

    X: Any
    y: Any
    sample_weight: Any
    weight_scale: float
    weighted: bool = False

    @property
    def Y(self) -> Any:
        """y with one column per target (per Dense unit)."""
        return self.y.reshape(len(self.y), -1)


class Source(Protocol):
    """How ``fit`` reads one kind of X. Rows are selected by sorted indices
    (None for all rows); ``Y`` is y with one column per target."""

    def validated(
        self, X: Any, y: Any, sample_weight: Any, *, name: str, features: Features
    ) -> Checked:
        """X, y and the weights checked as scikit-learn checks them, with
        scikit-learn's errors (naming the estimator ``name``)."""

    def train_on_sums(self, settings: Settings, shape: tuple[int, int]) -> bool:
        """Whether to train on the sums of the rows (``precompute`` resolved for
        X of ``shape``), or a ``ValueError`` that says what to change where
        these settings cannot train on this X."""

    def moments(
        self,
        X: Any,
        Y: Any,
        sample_weight: Any,
        rows: np.ndarray | None = None,
        like: Moments | None = None,
        cross: bool = True,
    ) -> Moments | None:
        """The moments of ``rows``, as :meth:`Moments.of
        <skneuron._moments.Moments.of>`: in one pass, with the whole ``cxx`` or
        (``cross=False``) its diagonal, on ``like``'s origin and units."""

    def residuals(
        self,
        X: Any,
        Y: Any,
        sample_weight: Any,
        coef: np.ndarray,
        intercept: np.ndarray,
        center: np.ndarray | float,
        rows: np.ndarray | None = None,
    ) -> Residuals:
        """The sums of the residuals of ``rows`` at (``coef``, ``intercept``), as
        :meth:`Residuals.of <skneuron._moments.Residuals.of>`, the gradient's X
        centred on ``center``."""

    #: Whether training on rows centres them (dense rows); sparse rows are only
    #: scaled, so that they stay sparse, and the bias is trained with them.
    centres_rows: bool

    def rows(
        self,
        X: Any,
        Y: Any,
        sample_weight: Any,
        rows: Any,
        scaling: _Standardized,
        active: np.ndarray,
    ) -> Rows | Packed:
        """The ``rows`` (sorted indices, or a slice) in the units of ``scaling``,
        for training on them (where :meth:`train_on_sums` is False), the
        columns not ``active`` (constant, with an intercept) left out."""

    def factor(
        self,
        X: Any,
        Y: Any,
        sample_weight: Any,
        rows: np.ndarray | None,
        scaling: _Standardized,
    ) -> Factor | None:
        """The triangular factor of ``rows`` in the units of ``scaling``, as
        :meth:`Factor.of <skneuron._data._factor.Factor.of>`, in one pass."""


def require_y(y: Any, name: str) -> None:
    """scikit-learn's error for a regressor given no y (``validate_data``'s)."""
    if y is None:
        raise ValueError(
            f"This {name} estimator requires y to be passed, but the target y is None."
        )


def checked_rows(X: Any, y: Any, sample_weight: Any) -> Checked:
    """X in float64 or float32 (others converted), y in float64, and the sample
    weights divided by their largest, which is kept too: the answer does not
    depend on the weights' scale, and so their sum cannot overflow, nor tiny ones
    be flushed to zero by TensorFlow. For validated dense or sparse X."""
    weighted = sample_weight is not None
    if X.dtype not in (np.float64, np.float32):
        X = X.astype(np.float64)
    y = check_array(y, dtype=np.float64, ensure_2d=False, input_name="y")
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    largest = sample_weight.max(initial=0)
    if not largest > 0:
        raise ValueError("sample_weight must not be all zeros.")
    return Checked(X, y, sample_weight / largest, largest, weighted)


class InMemory:
    """How ``fit`` reads NumPy arrays (and what converts to them, as pandas
    DataFrames): validated as ``LinearRegression`` validates them, then read in
    blocks of rows (X is not copied)."""

    moments = staticmethod(Moments.of)
    residuals = staticmethod(Residuals.of)
    factor = staticmethod(Factor.of)
    centres_rows = True

    @staticmethod
    def rows(
        X: Any,
        Y: Any,
        sample_weight: Any,
        rows: Any,
        scaling: _Standardized,
        active: np.ndarray,
    ) -> Rows:
        """The rows standardized (one float64 copy); constant columns are zero
        there already."""
        return Rows(*scaling.transform(X[rows], Y[rows]), sample_weight[rows])

    @staticmethod
    def validated(
        X: Any, y: Any, sample_weight: Any, *, name: str, features: Features
    ) -> Checked:
        require_y(y, name)
        header = X
        X, y = check_X_y(
            X, y, dtype="numeric", multi_output=True, y_numeric=True, estimator=name
        )
        features(header, X)
        return checked_rows(X, y, sample_weight)

    @staticmethod
    def train_on_sums(settings: Settings, shape: tuple[int, int]) -> bool:
        """``precompute`` resolved: ``"auto"`` where the p x p sums are no larger
        than the data (``n_features <= n_samples``); True, or a Gram matrix,
        where the settings allow it, else a ``ValueError``."""
        n_samples, n_features = shape
        possible = settings.sums_possible(n_samples)
        if settings.gram_given:
            if not possible:
                raise ValueError(
                    "precompute as a Gram matrix needs the full-batch squared loss: "
                    "use loss='squared_error' and batch_size=None."
                )
            if settings.validation_split:
                raise ValueError(
                    "precompute as a Gram matrix needs data in memory without "
                    "validation_split (it is X'WX of all rows)."
                )
            return True
        if settings.precompute == "auto":
            return possible and n_features <= n_samples
        if settings.precompute and not possible:
            raise ValueError(
                "precompute=True trains on the sums of the rows, which only the "
                "full-batch squared loss allows: use loss='squared_error' and "
                "batch_size=None, or precompute='auto'."
            )
        return bool(settings.precompute)


IN_MEMORY = InMemory()
"""What ``fit`` reads NumPy arrays through."""


def is_dask(obj: Any) -> bool:
    """Whether ``obj`` is a Dask collection (told without importing Dask)."""
    return type(obj).__module__.split(".")[0] in ("dask", "dask_expr")


def is_sparse(obj: Any) -> bool:
    """Whether ``obj`` is a SciPy sparse matrix or array (told without SciPy)."""
    return type(obj).__module__.startswith("scipy.sparse")
