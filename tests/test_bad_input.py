"""Bad inputs: NeuronRegressor fails like LinearRegression, or answers exact OLS.

The test is a table. Each case is data: an id, a function building the inputs
(``X``, ``y`` and optionally ``sample_weight`` and ``X_pred``, the samples given to
``predict``; the training ``X`` otherwise) and the expectation:

``LIKE_LR``
    Derived in the test by running :class:`~sklearn.linear_model.LinearRegression`
    on a copy of the same inputs. Where it raises (in ``fit`` or in ``predict``),
    NeuronRegressor must raise the same exception type at the same stage, with the
    same message (first line, estimator name aside) or, where the case gives
    ``match``, a message naming the same problem. Where it answers, NeuronRegressor
    must return finite ``coef_`` / ``intercept_`` of LinearRegression's shapes and
    predictions equal to exact OLS (``np.linalg.lstsq``, min-norm), not to
    LinearRegression's numbers: scikit-learn truncates small singular values and
    works in float32 or float16 when given them, so on badly scaled data it is
    itself off. Non-``RuntimeWarning`` warnings must be the same as
    LinearRegression's (so no ``ConvergenceWarning``).
``ANSWER_OR_ERROR``
    LinearRegression fails (asserted) although the least-squares problem is valid:
    NeuronRegressor returns the exact OLS answer, or raises a ValueError or
    TypeError whose message matches ``match``.

For rank-deficient X only predictions are compared (on the training X and on
``X_pred`` rows where OLS's prediction is determined); coefficients are compared
when X has full column rank. Every case also checks that the inputs (arrays,
DataFrames, Series, sparse matrices, lists) are unchanged after fit and predict.

Cases where NeuronRegressor misbehaves are ``xfail(strict=True)`` with the reason.
"""

import copy
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LinearRegression

from skneuron import NeuronRegressor

RTOL = 1e-6  # relative to the spread of y
EPOCHS = 5000  # a bound against hangs; every case here converges in a few hundred
EPS = np.finfo(np.float64).eps

LIKE_LR = "like LinearRegression"
ANSWER_OR_ERROR = "exact OLS, or a clear error (LinearRegression fails)"


# -- data ----------------------------------------------------------------------
def _base(n=20, p=3, seed=0):
    """A well-conditioned problem; fresh arrays on every call."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X @ np.array([1.0, -2.0, 3.0, 0.5, -1.5][:p]) + 0.5
    return X, y + 0.1 * rng.standard_normal(n)


def _X():
    return _base()[0]


def _y():
    return _base()[1]


def _set(a, index, value):
    a = np.array(a, dtype=np.result_type(a, type(value)))
    a[index] = value
    return a


def _fit(X, y, sample_weight=None, X_pred=None):
    return {"X": X, "y": y, "sample_weight": sample_weight, "X_pred": X_pred}


def _predict(X_pred):
    """Fit on the base problem, predict on X_pred."""
    return _fit(_X(), _y(), X_pred=X_pred)


def _related(relation, n_pred=6, seed=1):
    """Rank-deficient X built by ``relation`` from base columns; X_pred obeys it too
    (new rows in the span of the training rows, where OLS predictions are unique)."""
    Z = np.random.default_rng(seed).standard_normal((20 + n_pred, 3))
    return _fit(relation(Z[:20]), _y(), X_pred=relation(Z[20:]))


def _wide(n=5, p=40):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((n, p))
    affine = rng.dirichlet(np.ones(n), size=4)  # rows sum to 1: the affine span
    return _fit(X, _y()[:n], X_pred=affine @ X)


def _sparse_X(inputs):
    """The same inputs with X (not X_pred) as a CSR matrix."""
    return {**inputs, "X": sp.csr_matrix(inputs["X"])}


def _timestamps():
    """Nanosecond timestamps (~1.7e18) within one millisecond."""
    offsets = np.sort(np.random.default_rng(3).integers(0, 10**6, 20))
    return _fit((1_700_000_000_000_000_000 + offsets)[:, None], _y())


def _readonly():
    X, y = _base()
    sample_weight = np.linspace(0.5, 2.0, len(y))
    for a in (X, y, sample_weight):
        a.flags.writeable = False
    return _fit(X, y, sample_weight)


def _frame(X=None, **columns):
    X = _X() if X is None else X
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    for name, values in columns.items():
        frame[name] = values
    return frame


def _with_na(dtype, values):
    return _frame(a=pd.array(values, dtype=dtype))


def _f32(a):
    return np.asarray(a, dtype=np.float32)


# -- the table -----------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[], dict]
    expect: str = LIKE_LR
    match: str | None = None  # regex: an error message naming the same problem
    params: dict = field(default_factory=dict)
    xfail: str | None = None  # why NeuronRegressor fails the case


TABLE = [
    # -- NaN / inf ---------------------------------------------------------------
    Case("nan-in-X", lambda: _fit(_set(_X(), (3, 1), np.nan), _y())),
    Case("inf-in-X", lambda: _fit(_set(_X(), (3, 1), np.inf), _y())),
    Case("-inf-in-X", lambda: _fit(_set(_X(), (0, 0), -np.inf), _y())),
    Case("nan-in-y", lambda: _fit(_X(), _set(_y(), 5, np.nan))),
    Case("inf-in-y", lambda: _fit(_X(), _set(_y(), 5, -np.inf))),
    Case(
        "nan-in-sample_weight", lambda: _fit(_X(), _y(), _set(np.ones(20), 2, np.nan))
    ),
    Case(
        "inf-in-sample_weight", lambda: _fit(_X(), _y(), _set(np.ones(20), 2, np.inf))
    ),
    Case("nan-in-X-at-predict", lambda: _predict(_set(_X(), (1, 2), np.nan))),
    Case("inf-in-X-at-predict", lambda: _predict(_set(_X(), (1, 2), np.inf))),
    # -- sample_weight -----------------------------------------------------------
    Case(
        "negative-sample_weight", lambda: _fit(_X(), _y(), _set(np.ones(20), 4, -1.0))
    ),
    Case("all-zero-sample_weight", lambda: _fit(_X(), _y(), np.zeros(20))),
    Case(
        "some-zero-sample_weight",
        lambda: _fit(_X(), _y(), np.r_[np.zeros(5), np.ones(15)]),
    ),
    Case(
        "one-nonzero-sample_weight", lambda: _fit(_X(), _y(), np.r_[1.0, np.zeros(19)])
    ),
    Case("sample_weight-too-short", lambda: _fit(_X(), _y(), np.ones(19))),
    Case("sample_weight-2d", lambda: _fit(_X(), _y(), np.ones((20, 1)))),
    Case("sample_weight-scalar", lambda: _fit(_X(), _y(), 2.0)),
    Case("sample_weight-strings", lambda: _fit(_X(), _y(), np.array(["a"] * 20))),
    Case("sample_weight-complex", lambda: _fit(_X(), _y(), np.ones(20, complex))),
    Case("sample_weight-1e30", lambda: _fit(_X(), _y(), np.full(20, 1e30))),
    Case("sample_weight-1e-30", lambda: _fit(_X(), _y(), np.full(20, 1e-30))),
    Case("sample_weight-1e-300", lambda: _fit(_X(), _y(), np.full(20, 1e-300))),
    Case("sample_weight-1e300", lambda: _fit(_X(), _y(), np.full(20, 1e300))),
    Case(
        "sample_weight-spanning-1e-30-to-1",
        lambda: _fit(_X(), _y(), np.r_[1e-30, np.ones(19)]),
    ),
    Case(
        "sample_weight-subnormal",
        lambda: _fit(_X(), _y(), np.full(20, 1e-310)),
    ),
    Case(
        "sample_weight-sum-overflows",
        lambda: _fit(_X(), _y(), np.full(20, 1e307)),
        expect=ANSWER_OR_ERROR,
        match="sample_weight",
    ),
    # -- shapes ------------------------------------------------------------------
    Case("X-1d", lambda: _fit(_X()[:, 0], _y())),
    Case("X-3d", lambda: _fit(_X()[:, :, None], _y())),
    Case("X-scalar", lambda: _fit(3.0, _y())),
    Case("X-None", lambda: _fit(None, _y())),
    Case("y-None", lambda: _fit(_X(), None)),
    Case("X-ragged-list", lambda: _fit([[1.0, 2.0], [3.0]], [1.0, 2.0])),
    Case("X-list-of-lists", lambda: _fit(_X().tolist(), _y().tolist())),
    Case("X-1d-at-predict", lambda: _predict(_X()[0])),
    Case("X-3d-at-predict", lambda: _predict(_X()[:, :, None])),
    Case("too-few-features-at-predict", lambda: _predict(_X()[:, :2])),
    Case("too-many-features-at-predict", lambda: _predict(np.c_[_X(), _X()[:, 0]])),
    Case("y-too-short", lambda: _fit(_X(), _y()[:-1])),
    Case("y-too-long", lambda: _fit(_X(), np.r_[_y(), 1.0])),
    Case("y-2d-too-short", lambda: _fit(_X(), np.c_[_y(), -_y()][:-1])),
    Case("y-3d", lambda: _fit(_X(), _y()[:, None, None])),
    Case("y-zero-columns", lambda: _fit(_X(), np.empty((20, 0)))),
    Case("y-column-vector", lambda: _fit(_X(), _y()[:, None])),
    Case("y-two-columns", lambda: _fit(_X(), np.c_[_y(), 3 - 2 * _y()])),
    # -- empty data, one sample, more features than samples ----------------------
    Case("zero-samples", lambda: _fit(np.empty((0, 3)), np.empty(0))),
    Case(
        "zero-samples-with-weights",
        lambda: _fit(np.empty((0, 3)), np.empty(0), np.empty(0)),
    ),
    Case("zero-features", lambda: _fit(np.empty((20, 0)), _y())),
    Case("zero-samples-at-predict", lambda: _predict(np.empty((0, 3)))),
    Case("one-sample", lambda: _fit(_X()[:1], _y()[:1])),
    Case("one-sample-weighted", lambda: _fit(_X()[:1], _y()[:1], np.array([2.0]))),
    Case(
        "one-sample-no-intercept",
        lambda: _fit(_X()[:1], _y()[:1]),
        params={"fit_intercept": False},
    ),
    Case("two-samples-three-features", lambda: _fit(_X()[:2], _y()[:2])),
    Case("five-samples-forty-features", _wide),
    # -- dtypes ------------------------------------------------------------------
    Case("X-numeric-strings", lambda: _fit(_X().astype(str), _y())),
    Case(
        "X-letters",
        lambda: _fit(np.array([["a", "b", "c"]] * 20), _y()),
        match="string",
    ),
    Case(
        "X-numeric-strings-at-predict",
        lambda: _predict(_X().astype(str)),
    ),
    Case(
        "X-object-numeric-strings-at-predict",
        lambda: _predict(_X().astype(str).astype(object)),
    ),
    Case("X-object-floats", lambda: _fit(_X().astype(object), _y())),
    Case(
        "X-object-with-None",
        lambda: _fit(np.where(_X() > 1, None, _X()).astype(object), _y()),
    ),
    Case("X-complex", lambda: _fit(_X().astype(complex), _y())),
    Case("X-complex-at-predict", lambda: _predict(_X().astype(complex))),
    Case("X-bool", lambda: _fit(_X() > 0, _y())),
    Case("X-uint8", lambda: _fit((_X() > 0).astype(np.uint8) * 255, _y())),
    Case("X-float16", lambda: _fit(_X().astype(np.float16), _y())),
    Case("X-float32", lambda: _fit(_f32(_X()), _f32(_y()))),
    Case("X-longdouble", lambda: _fit(_X().astype(np.longdouble), _y())),
    Case(
        "X-int64-near-max",  # 2**63 - 1 - i: one float64 value, a constant column
        lambda: _fit(np.iinfo(np.int64).max - np.arange(20)[:, None], _y()),
    ),
    Case(
        "X-ns-timestamps-within-1ms",  # spread 6e-13 of the values' size
        _timestamps,
    ),
    Case("y-numeric-strings", lambda: _fit(_X(), _y().astype(str))),
    Case("y-letters", lambda: _fit(_X(), np.array(["a", "b"] * 10))),
    Case("y-object", lambda: _fit(_X(), _y().astype(object))),
    Case(
        "y-object-numeric-strings", lambda: _fit(_X(), _y().astype(str).astype(object))
    ),
    Case("y-complex", lambda: _fit(_X(), _y().astype(complex))),
    Case("y-bool", lambda: _fit(_X(), _y() > 0)),
    # -- pandas ------------------------------------------------------------------
    Case("frame-Float64-NA", lambda: _fit(_with_na("Float64", [1.0, None] * 10), _y())),
    Case("frame-Int64-NA", lambda: _fit(_with_na("Int64", [1, None] * 10), _y())),
    Case(
        "frame-boolean-NA", lambda: _fit(_with_na("boolean", [True, None] * 10), _y())
    ),
    Case("frame-object-pd.NA", lambda: _fit(_with_na(object, [1.0, pd.NA] * 10), _y())),
    Case("frame-nullable-no-NA", lambda: _fit(_frame().astype("Float64"), _y())),
    Case("frame-numeric-strings", lambda: _fit(_frame().astype(str), _y())),
    Case("frame-string-dtype", lambda: _fit(_frame().astype("string"), _y())),
    Case(
        "frame-categorical-strings",
        lambda: _fit(_frame(c=pd.Categorical(["u", "v"] * 10)), _y()),
    ),
    Case(
        "frame-renamed-at-predict",
        lambda: _fit(_frame(), _y(), X_pred=_frame().rename(columns={"x0": "z"})),
    ),
    Case("frame-fit-array-predict", lambda: _fit(_frame(), _y(), X_pred=_X())),
    Case(
        "y-Series-Float64-NA",
        lambda: _fit(_X(), pd.Series(pd.array([2.0, None] * 10, dtype="Float64"))),
    ),
    Case("y-Int64-NA", lambda: _fit(_X(), pd.array([1, None] * 10, dtype="Int64"))),
    Case(
        "y-DataFrame-two-columns",
        lambda: _fit(_frame(), pd.DataFrame({"u": _y(), "v": -_y()})),
    ),
    Case(
        "sample_weight-Float64-NA",
        lambda: _fit(_X(), _y(), pd.array([1.0, None] * 10, dtype="Float64")),
    ),
    Case(
        "sample_weight-Series",
        lambda: _fit(_frame(), pd.Series(_y()), pd.Series(np.linspace(1, 2, 20))),
    ),
    # -- extreme values (float32 range) --------------------------------------------
    Case("X-and-y-1e30", lambda: _fit(_X() * 1e30, _y() * 1e30)),
    Case("X-and-y-1e-30", lambda: _fit(_X() * 1e-30, _y() * 1e-30)),
    Case("X-1e30", lambda: _fit(_X() * 1e30, _y())),
    Case("X-1e-30", lambda: _fit(_X() * 1e-30, _y())),
    Case("y-1e30", lambda: _fit(_X(), _y() * 1e30)),
    Case("y-1e-30", lambda: _fit(_X(), _y() * 1e-30)),
    Case("X-1e-30-y-1e30", lambda: _fit(_X() * 1e-30, _y() * 1e30)),
    Case("X-1e30-y-1e-30", lambda: _fit(_X() * 1e30, _y() * 1e-30)),
    Case(
        "columns-1e30-1e-30-1", lambda: _fit(_X() * [1e30, 1e-30, 1.0], _y())
    ),  # LR truncates
    Case(
        "columns-1e30-1e-30-1-y-1e30",
        lambda: _fit(_X() * [1e30, 1e-30, 1.0], _y() * 1e30),
    ),
    Case("float32-X-and-y-1e30", lambda: _fit(_f32(_X() * 1e30), _f32(_y() * 1e30))),
    Case("float32-X-and-y-1e-30", lambda: _fit(_f32(_X() * 1e-30), _f32(_y() * 1e-30))),
    Case("float32-X-subnormal", lambda: _fit(_f32(_X() * 1e-40), _y())),  # LR: inf/NaN
    Case("float32-X-at-predict-1e38", lambda: _predict(_f32(_X() * 1e38))),
    Case(
        "float32-X-near-max",  # LR sums in float32 and overflows
        lambda: _fit(_f32(_X() * 1e38), _y()),
        expect=ANSWER_OR_ERROR,
        match="overflow|too large|float32",
    ),
    Case("X-offset-1e30", lambda: _fit(_X() + 1e30, _y())),  # x is lost: constant
    Case("y-offset-1e30", lambda: _fit(_X(), _y() + 1e30)),  # y is lost: constant
    Case("X-offset-1e10", lambda: _fit(_X() + 1e10, _y())),
    # -- extreme values (float64 range): LinearRegression answers them all ---------
    Case("X-1e-160", lambda: _fit(_X() * 1e-160, _y())),
    Case(
        "X-1e160",
        lambda: _fit(_X() * 1e160, _y()),
    ),
    Case(
        "y-1e160",
        lambda: _fit(_X(), _y() * 1e160),
    ),
    Case(
        "X-and-y-1e300",
        lambda: _fit(_X() * 1e300, _y() * 1e300),
    ),
    Case(
        "X-1e-200",
        lambda: _fit(_X() * 1e-200, _y()),
    ),
    Case(
        "y-1e-200",
        lambda: _fit(_X(), _y() * 1e-200),
    ),
    # -- rank deficiency ---------------------------------------------------------
    Case("constant-column", lambda: _related(lambda Z: np.c_[Z, np.full(len(Z), 7.0)])),
    Case(
        "constant-column-no-intercept",
        lambda: _related(lambda Z: np.c_[Z, np.full(len(Z), 7.0)]),
        params={"fit_intercept": False},
    ),
    Case("all-columns-constant", lambda: _fit(np.full((20, 3), 2.0), _y())),
    Case(
        "all-zero-X-no-intercept",
        lambda: _fit(np.zeros((20, 3)), _y()),
        params={"fit_intercept": False},
    ),
    Case("constant-y", lambda: _fit(_X(), np.full(20, 3.0))),
    Case("duplicated-column", lambda: _related(lambda Z: np.c_[Z, Z[:, 0]])),
    Case(
        "duplicated-column-no-intercept",
        lambda: _related(lambda Z: np.c_[Z, Z[:, 0]]),
        params={"fit_intercept": False},
    ),
    Case(
        "collinear-column",
        lambda: _related(lambda Z: np.c_[Z, 2 * Z[:, 0] - 0.1 * Z[:, 1]]),
    ),
    Case(
        "collinear-column-weighted",
        lambda: {
            **_related(lambda Z: np.c_[Z * [1, 10, 100], 5 * Z[:, 1] + 3]),
            "sample_weight": np.linspace(0.1, 3, 20),
        },
    ),
    Case(
        "collinear-columns-1e30-1e-30",
        lambda: _related(lambda Z: np.c_[Z * 1e30, Z[:, 0] * 1e-30]),
    ),
    # -- layouts -----------------------------------------------------------------
    Case("read-only-arrays", _readonly),
    Case("fortran-ordered-X", lambda: _fit(np.asfortranarray(_X()), _y())),
    Case("non-contiguous-X", lambda: _fit(np.c_[_X(), _X()][:, ::2], _y())),
    # -- sparse (trained on the sums from sparse products) -------------------------
    Case("sparse-csr", lambda: _fit(sp.csr_matrix(_X()), _y())),
    Case("sparse-csc", lambda: _fit(sp.csc_matrix(_X()), _y())),
    Case("sparse-coo", lambda: _fit(sp.coo_matrix(_X()), _y())),
    Case("sparse-csr_array", lambda: _fit(sp.csr_array(_X()), _y())),
    Case(
        "sparse-no-intercept",
        lambda: _fit(sp.csr_matrix(_X()), _y()),
        params={"fit_intercept": False},
    ),
    Case(
        "sparse-weighted",
        lambda: _fit(sp.csr_matrix(_X()), _y(), np.linspace(0.1, 3, 20)),
    ),
    Case("sparse-int", lambda: _fit(sp.csr_matrix(np.arange(40).reshape(20, 2)), _y())),
    Case("sparse-float32", lambda: _fit(sp.csr_matrix(_f32(_X())), _y())),
    Case(
        "sparse-mostly-zeros",
        lambda: _fit(sp.csr_matrix(np.where(np.abs(_X()) > 1, _X(), 0.0)), _y()),
    ),
    Case("sparse-wide", lambda: _sparse_X(_wide())),
    Case(
        "sparse-nan",
        lambda: _fit(sp.csr_matrix(_set(_X(), (3, 1), np.nan)), _y()),
    ),
    Case(
        "sparse-inf",
        lambda: _fit(sp.csr_matrix(_set(_X(), (3, 1), np.inf)), _y()),
    ),
    Case("sparse-at-predict", lambda: _predict(sp.csr_matrix(_X()))),
    Case("sparse-csc_array-at-predict", lambda: _predict(sp.csc_array(_X()))),
    Case(
        "sparse-nan-at-predict",
        lambda: _predict(sp.csr_matrix(_set(_X(), (1, 2), np.nan))),
    ),
    Case(
        "sparse-y",
        lambda: _fit(_X(), sp.csr_matrix(_y()[:, None])),
        match="Sparse data was passed",
    ),
]


def _param(case):
    marks = ()
    if case.xfail:
        marks = pytest.mark.xfail(strict=True, raises=AssertionError, reason=case.xfail)
    return pytest.param(case, id=case.id, marks=marks)


CASES = [_param(case) for case in TABLE]


# -- running and checking ------------------------------------------------------
@dataclass
class Outcome:
    error: BaseException | None = None
    stage: str | None = None  # "fit" or "predict", where error was raised
    pred: np.ndarray | None = None
    warned: set = field(default_factory=set)


def _run(estimator, inputs):
    """Fit and predict, recording the error (if any), its stage and the warnings."""
    outcome = Outcome()
    name = type(estimator).__name__
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome.stage = "fit"
            estimator.fit(
                inputs["X"], inputs["y"], sample_weight=inputs["sample_weight"]
            )
            outcome.stage = "predict"
            X_pred = inputs["X"] if inputs["X_pred"] is None else inputs["X_pred"]
            outcome.pred = estimator.predict(X_pred)
            outcome.stage = None
        except Exception as error:  # compared with the other estimator's
            outcome.error = error
    outcome.warned = {
        (w.category.__name__, str(w.message).replace(name, "<estimator>"))
        for w in caught
        if not issubclass(w.category, RuntimeWarning)  # numpy arithmetic noise
    }
    return outcome


def _message(error, name):
    text = str(error).replace(name, "<estimator>").strip()
    return text.splitlines()[0] if text else ""


def _dense(a):
    if sp.issparse(a):
        a = a.toarray()
    if isinstance(a, pd.DataFrame | pd.Series):
        return a.to_numpy(dtype=np.float64)
    return np.asarray(a, dtype=np.float64)


def _maxabs(A):
    scale = np.abs(A).max(0) if len(A) else np.zeros(A.shape[1])
    return np.where(scale > 0, scale, 1.0)


@dataclass
class OLS:
    """Exact least squares: see :func:`exact_ols`."""

    coef: np.ndarray  # (n_targets, n_features)
    full_rank: bool
    spread: np.ndarray  # per target: largest deviation of y from the first sample
    x0: np.ndarray  # the row the data is shifted by
    sx: np.ndarray  # per column: largest deviation from x0 (1 where none)
    am: np.ndarray
    y0: np.ndarray
    sy: np.ndarray
    bm: np.ndarray
    z: np.ndarray

    def predict(self, Xn):
        A = (_dense(Xn) - self.x0) / self.sx
        return self.y0 + self.sy * (self.bm + (A - self.am) @ self.z)

    def reach(self, Xn):
        """1 + the distance of each row from the data, in units of column spread: a
        coefficient error of RTOL * spread / sx moves predictions this many times."""
        return 1 + np.abs((_dense(Xn) - self.x0) / self.sx - self.am).sum(1)


def exact_ols(X, y, sample_weight, fit_intercept):
    """Weighted least squares by ``np.linalg.lstsq`` (min-norm), exactly.

    The data is shifted by one of its rows and its columns are scaled by their
    largest deviation before centring, so every value is O(1): no overflow or
    underflow at 1e±300, and no singular value dropped because a column is on a
    scale of 1e-30 (as LinearRegression's cond=1e-6 does).
    """
    X = _dense(X)
    Y = _dense(y).reshape(len(X), -1)
    w = np.ones(len(X)) if sample_weight is None else _dense(sample_weight)
    w = np.broadcast_to(w, (len(X),))
    keep = w > 0
    X, Y, w = X[keep], Y[keep], w[keep] / w[keep].max()
    x0 = X[0] if fit_intercept else np.zeros(X.shape[1])
    y0 = Y[0] if fit_intercept else np.zeros(Y.shape[1])
    sx, sy = _maxabs(X - x0), _maxabs(Y - y0)
    A, B = (X - x0) / sx, (Y - y0) / sy
    am = np.average(A, 0, w) if fit_intercept else np.zeros(A.shape[1])
    bm = np.average(B, 0, w) if fit_intercept else np.zeros(B.shape[1])
    root = np.sqrt(w)[:, None]
    z, _, rank, _ = np.linalg.lstsq((A - am) * root, (B - bm) * root, rcond=1e-10)
    return OLS(
        coef=(z * sy / sx[:, None]).T,
        full_rank=rank == X.shape[1],
        spread=np.abs(Y - y0).max(0),
        x0=x0,
        sx=sx,
        am=am,
        y0=y0,
        sy=sy,
        bm=bm,
        z=z,
    )


def _assert_ols(reg, inputs, outcome, lr=None, lr_outcome=None):
    """reg answered: finite, and equal to exact OLS (to RTOL of y's spread)."""
    ols = exact_ols(
        inputs["X"], inputs["y"], inputs["sample_weight"], reg.fit_intercept
    )
    coef, intercept = np.atleast_2d(reg.coef_), np.atleast_1d(reg.intercept_)
    assert np.isfinite(coef).all(), f"coef_ not finite: {reg.coef_}"
    assert np.isfinite(intercept).all(), f"intercept_ not finite: {reg.intercept_}"
    if lr is not None:
        assert np.shape(reg.coef_) == np.shape(lr.coef_)
        assert np.shape(reg.intercept_) == np.shape(lr.intercept_)
        assert np.shape(outcome.pred) == np.shape(lr_outcome.pred)

    with warnings.catch_warnings():  # sklearn's finiteness check sums float32
        warnings.simplefilter("ignore", RuntimeWarning)
        samples = [(inputs["X"], reg.predict(inputs["X"]))]
    if inputs["X_pred"] is not None:
        samples.append((inputs["X_pred"], outcome.pred))
    else:
        np.testing.assert_array_equal(outcome.pred, samples[0][1])
    intercept_ref = ols.predict(np.zeros((1, coef.shape[1])))[0]
    for Xn, pred in samples:
        expected = ols.predict(Xn)
        pred = np.asarray(pred, dtype=np.float64).reshape(expected.shape)
        assert np.isfinite(pred).all(), f"predictions not finite: {pred}"
        # predict's own rounding: n_features + 1 terms of these sizes are summed
        terms = np.abs(_dense(Xn)) @ np.abs(ols.coef.T) + np.abs(intercept_ref)
        floor = 8 * (coef.shape[1] + 1) * EPS * terms
        tol = RTOL * ols.spread * ols.reach(Xn)[:, None] + floor
        bad = (np.abs(pred - expected) > tol).any(1)
        assert not bad.any(), (
            f"predictions differ from exact OLS by more than {RTOL} of y's spread "
            f"{ols.spread}:\n{pred[bad][:5]}\nvs\n{expected[bad][:5]}"
        )
    if ols.full_rank:
        err = np.abs(coef - ols.coef) * ols.sx
        tol = RTOL * ols.spread[:, None] + 8 * EPS * np.abs(_dense(inputs["y"])).max()
        assert (err <= tol).all(), f"coef_ {reg.coef_} vs exact OLS {ols.coef}"


def _assert_unchanged(before, after):
    if isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(after, before, check_exact=True)
    elif isinstance(before, pd.Series):
        pd.testing.assert_series_equal(after, before, check_exact=True)
    elif isinstance(before, pd.api.extensions.ExtensionArray):
        pd.testing.assert_extension_array_equal(after, before, check_exact=True)
    elif sp.issparse(before):
        assert type(after) is type(before) and after.dtype == before.dtype
        np.testing.assert_array_equal(after.toarray(), before.toarray())  # NaN too
    elif isinstance(before, np.ndarray):
        assert after.dtype == before.dtype and after.shape == before.shape
        np.testing.assert_array_equal(after, before)
    else:
        assert after == before


@pytest.mark.parametrize("case", CASES)
def test_bad_input(case):
    inputs = case.build()
    snapshot = copy.deepcopy(inputs)
    lr = LinearRegression(**case.params)
    lr_outcome = _run(lr, copy.deepcopy(inputs))
    reg = NeuronRegressor(epochs=EPOCHS, **case.params)
    outcome = _run(reg, inputs)
    error = outcome.error

    if case.expect == LIKE_LR and lr_outcome.error is not None:
        lr_error = lr_outcome.error
        lr_said = (
            f"{type(lr_error).__name__}({_message(lr_error, 'LinearRegression')!r})"
        )
        assert error is not None, (
            f"LinearRegression raised {lr_said} in {lr_outcome.stage}; "
            "NeuronRegressor returned"
        )
        said = f"{type(error).__name__}({_message(error, 'NeuronRegressor')!r})"
        assert (type(error), outcome.stage) == (type(lr_error), lr_outcome.stage), (
            f"NeuronRegressor raised {said} in {outcome.stage}; LinearRegression "
            f"raised {lr_said} in {lr_outcome.stage}"
        )
        if case.match is not None:
            assert re.search(case.match, str(error)), said
        else:
            assert _message(error, "NeuronRegressor") == _message(
                lr_error, "LinearRegression"
            ), f"NeuronRegressor said {said}, LinearRegression {lr_said}"
    elif case.expect == LIKE_LR:
        if error is not None:
            raise AssertionError(
                f"NeuronRegressor raised in {outcome.stage}; LinearRegression answered"
            ) from error
        _assert_ols(reg, inputs, outcome, lr, lr_outcome)
        assert outcome.warned == lr_outcome.warned
    else:  # ANSWER_OR_ERROR
        assert lr_outcome.error is not None, "LinearRegression answers: use LIKE_LR"
        allowed = (ValueError, TypeError)
        if error is None:
            _assert_ols(reg, inputs, outcome)
        elif type(error) not in allowed or not re.search(case.match, str(error)):
            raise AssertionError(
                f"unclear error {type(error).__name__}: {error}; expected "
                f"{' or '.join(t.__name__ for t in allowed)} matching {case.match!r}"
            ) from error

    for key in inputs:
        _assert_unchanged(snapshot[key], inputs[key])


def test_table_ids_are_unique():
    ids = [case.id for case in TABLE]
    assert len(ids) == len(set(ids))
