"""SciPy sparse X: the fit from sparse products equals the fit on the dense copy.

Sparse X trains on the sums ``X.T @ X`` (never densified), so every setting that
trains on sums gives the dense copy's answer to rounding: the same coefficients,
epochs and losses. The other settings (robust losses, mini-batches,
``precompute=False``) train on the rows, scaled but not centred and packed, and
reach the dense copy's optimum to within the convergence test's tolerance.
"""

import tracemalloc

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skneuron import NeuronRegressor
from skneuron._data._sparse import SOURCE, SparseRows
from skneuron._moments import Moments, Residuals

RTOL = 1e-9

FORMATS = {
    "csr_matrix": sp.csr_matrix,
    "csc_matrix": sp.csc_matrix,
    "coo_matrix": sp.coo_matrix,
    "csr_array": sp.csr_array,
    "csc_array": sp.csc_array,
    "coo_array": sp.coo_array,
}


@pytest.fixture(scope="module")
def data():
    """Mostly zeros (70 %), columns of very different scales (one of counts, one
    binary), three targets, weights."""
    rng = np.random.default_rng(0)
    n, p = 400, 6
    X = rng.standard_normal((n, p)) * [1.0, 10.0, 0.1, 1e3, 1.0, 1.0]
    X[:, 4] = rng.poisson(3.0, n)
    X[:, 5] = rng.random(n) < 0.5
    X[rng.random((n, p)) < 0.7] = 0.0
    coef = rng.standard_normal((3, p)) / np.abs(X).max(0)
    Y = X @ coef.T + [3.0, -1.0, 0.5] + 0.1 * rng.standard_normal((n, 3))
    w = rng.uniform(0.0, 2.0, n)
    return X, Y, w


def assert_same_fit(on_sparse, on_dense):
    for name in ("coef_", "intercept_", "singular_"):
        np.testing.assert_allclose(
            getattr(on_sparse, name),
            getattr(on_dense, name),
            rtol=RTOL,
            atol=1e-12,
            err_msg=name,
        )
    assert on_sparse.rank_ == on_dense.rank_
    assert on_sparse.n_iter_ == on_dense.n_iter_
    assert on_sparse.history_.keys() == on_dense.history_.keys()
    for key, losses in on_dense.history_.items():
        np.testing.assert_allclose(on_sparse.history_[key], losses, rtol=RTOL)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_fits_as_the_dense_copy(data, fmt):
    X, Y, w = data
    y = Y[:, :2]
    sparse = NeuronRegressor().fit(FORMATS[fmt](X), y, sample_weight=w)
    assert_same_fit(sparse, NeuronRegressor().fit(X, y, sample_weight=w))
    assert sparse.n_features_in_ == X.shape[1]


@pytest.mark.parametrize(
    "params, weighted, targets",
    [
        ({}, False, 0),
        ({}, True, 0),
        ({}, True, 3),
        ({"fit_intercept": False}, True, 2),
        ({"alpha": 0.05}, False, 0),
        ({"alpha": 0.05, "l1_ratio": 0.5, "positive": True}, True, 2),
        ({"validation_split": 0.25, "random_state": 0}, True, 2),
        ({"validation_split": 0.3, "early_stopping": True, "random_state": 1}, 0, 0),
        ({"precompute": True, "optimizer": "adam", "tol": None, "epochs": 50}, 1, 0),
    ],
)
def test_settings_fit_as_the_dense_copy(data, params, weighted, targets):
    X, Y, w = data
    y = Y[:, 0] if targets == 0 else Y[:, :targets]
    w = w if weighted else None
    sparse = NeuronRegressor(**params).fit(sp.csr_matrix(X), y, sample_weight=w)
    assert_same_fit(sparse, NeuronRegressor(**params).fit(X, y, sample_weight=w))


def test_float32_and_integers_fit_as_the_dense_copy(data):
    X, Y, _ = data
    X32 = X.astype(np.float32)
    assert_same_fit(
        NeuronRegressor().fit(sp.csr_matrix(X32), Y[:, 0]),
        NeuronRegressor().fit(X32, Y[:, 0]),
    )
    counts = np.rint(np.abs(X[:, 3:5])).astype(np.int64)
    assert_same_fit(
        NeuronRegressor().fit(sp.csc_matrix(counts), Y[:, 0]),
        NeuronRegressor().fit(counts, Y[:, 0]),
    )


def test_columns_far_from_zero_fit_as_the_dense_copy(data):
    """Columns stored on most rows are centred explicitly (1e6 + noise); those
    stored on fewer are spread by their zeros, and their centred sums are exact
    enough from X'WX (1e6 + noise on 40 % of the rows)."""
    X, Y, w = data
    rng = np.random.default_rng(1)
    X = X.copy()
    X[:, 0] = 1e6 + rng.standard_normal(len(X))
    X[:, 2] = np.where(rng.random(len(X)) < 0.4, 1e6 + rng.standard_normal(len(X)), 0)
    y = X @ [1.0, 0.1, 2.0, 1e-3, 0.5, 1.0] + rng.standard_normal(len(X))
    for weights in (None, w):
        sparse = NeuronRegressor().fit(sp.csr_matrix(X), y, sample_weight=weights)
        dense = NeuronRegressor().fit(X, y, sample_weight=weights)
        np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=RTOL)
        # the intercept (-3e4) offsets terms of 1e6: exact relative to those
        offsets = np.abs(dense.coef_) @ np.abs(X).max(0)
        np.testing.assert_allclose(
            sparse.intercept_, dense.intercept_, rtol=0, atol=RTOL * offsets
        )
        assert sparse.n_iter_ == dense.n_iter_
        # the losses, from sums, are exact relative to y's variance (the first)
        losses = dense.history_["loss"]
        np.testing.assert_allclose(
            sparse.history_["loss"], losses, rtol=0, atol=RTOL * losses[0]
        )


def test_moments_and_residuals_equal_the_in_memory_ones(data):
    """The sparse source's sums, piece by piece (no training): those the neuron
    trains on, X'WX's diagonal alone, rows taken on another's units, and the
    residuals' sums."""
    X, Y, w = data
    X = np.c_[X, 1e6 + np.arange(len(X)) % 7]  # one column stored on every row
    rows = np.arange(0, len(X), 3)
    sparse = SparseRows(sp.csr_matrix(X))

    def grams(moments, like=None):
        like = like or moments
        scaling = like.scaling(True)
        return moments.gram(like, scaling, True), scaling

    for kwargs in ({}, {"rows": rows}):
        expected = Moments.of(X, Y, w, **kwargs)
        got = SOURCE.moments(sparse, Y, w, **kwargs)
        (g_exp, s_exp), (g_got, s_got) = grams(expected), grams(got)
        for name in ("xx", "xy", "yy", "x_mean", "y_mean"):
            np.testing.assert_allclose(
                getattr(g_got, name), getattr(g_exp, name), rtol=1e-12, atol=1e-13
            )
        np.testing.assert_allclose(s_got.X_scale, s_exp.X_scale, rtol=1e-12)
        np.testing.assert_allclose(s_got.X_offset, s_exp.X_offset, rtol=1e-12)
        diagonal = SOURCE.moments(sparse, Y, w, cross=False, **kwargs)
        np.testing.assert_allclose(
            diagonal.diagonal() * diagonal.unit_x**2,
            expected.diagonal() * expected.unit_x**2,
            rtol=1e-12,
        )
    held_out = np.setdiff1d(np.arange(len(X)), rows)
    train = Moments.of(X, Y, w, rows)  # a dense source's origin (its first row)
    expected = Moments.of(X, Y, w, held_out, like=train)
    got = SOURCE.moments(sparse, Y, w, held_out, like=train)
    for name in ("xx", "xy", "yy", "x_mean", "y_mean"):
        np.testing.assert_allclose(
            getattr(grams(got, train)[0], name),
            getattr(grams(expected, train)[0], name),
            rtol=1e-10,
            atol=1e-11,
        )
    assert SOURCE.moments(sparse, Y, w, np.arange(0)) is None
    coef = np.random.default_rng(2).standard_normal((3, X.shape[1]))
    intercept = np.array([1.0, 2.0, 3.0])
    r = Y[rows] - X[rows] @ coef.T - intercept
    for center in (X.mean(0), 0.0):
        expected = Residuals.of(X, Y, w, coef, intercept, center, rows)
        got = SOURCE.residuals(sparse, Y, w, coef, intercept, center, rows)
        np.testing.assert_allclose(got.ssr, expected.ssr, rtol=1e-12)
        np.testing.assert_allclose(got.total, expected.total, rtol=1e-12)
        # sums of terms up to 1e6 * 1e6 (about zero): exact relative to those
        terms = np.abs(w[rows, None] * r).T @ np.abs(X[rows] - center)
        np.testing.assert_allclose(
            got.gradient, expected.gradient, rtol=1e-12, atol=1e-14 * terms.max()
        )


@pytest.mark.slow
def test_singular_values_and_rank_are_linear_regressions(data):
    X, Y, w = data
    reg = NeuronRegressor().fit(sp.csr_matrix(X), Y[:, 0], sample_weight=w)
    lr = LinearRegression().fit(X, Y[:, 0], sample_weight=w)  # the dense copy
    np.testing.assert_allclose(reg.singular_, lr.singular_, rtol=RTOL)
    assert reg.rank_ == lr.rank_ == X.shape[1]
    collinear = np.c_[X, X[:, 0] + 2 * X[:, 1]]
    reg = NeuronRegressor().fit(sp.csr_matrix(collinear), Y[:, 0])
    lr = LinearRegression().fit(collinear, Y[:, 0])
    assert reg.rank_ == lr.rank_ == X.shape[1]
    np.testing.assert_allclose(reg.singular_[: lr.rank_], lr.singular_[: lr.rank_])


def test_more_features_than_samples_give_the_minimum_norm_answer():
    """Wide sparse X trains on its p x p sums (rows would densify it): the answer
    is the minimum-norm least-squares one of the centred data, as lstsq's."""
    rng = np.random.default_rng(3)
    X = sp.random(30, 80, density=0.1, random_state=rng, format="csr")
    y = rng.standard_normal(30)
    reg = NeuronRegressor().fit(X, y)
    dense = X.toarray()
    mean = dense.mean(0)
    coef = np.linalg.lstsq(dense - mean, y - y.mean(), rcond=None)[0]
    np.testing.assert_allclose(reg.coef_, coef, rtol=1e-6, atol=1e-6 * abs(coef).max())
    np.testing.assert_allclose(reg.intercept_, y.mean() - mean @ coef, atol=1e-6)
    assert reg.rank_ == 29  # centred: one fewer than the rows


def test_predict_and_score_take_sparse_x(data):
    X, Y, _ = data
    for y in (Y[:, 0], Y[:, :2]):
        reg = NeuronRegressor().fit(X, y)
        expected = reg.predict(X)
        for make in FORMATS.values():
            predicted = reg.predict(make(X))
            assert type(predicted) is np.ndarray and predicted.shape == y.shape
            np.testing.assert_allclose(predicted, expected, rtol=1e-12, atol=1e-12)
        assert reg.score(sp.csr_matrix(X), y) == pytest.approx(reg.score(X, y))


def test_summary_equals_the_dense_copys(data):
    X, Y, w = data
    dense = NeuronRegressor().fit(X, Y[:, 0], sample_weight=w).summary()
    sparse = NeuronRegressor().fit(sp.csr_matrix(X), Y[:, 0], sample_weight=w)
    res = sparse.summary()
    for name in ("params", "bse", "tvalues", "pvalues"):
        np.testing.assert_allclose(getattr(res, name), getattr(dense, name), rtol=1e-8)
    for name in ("rsquared", "fvalue", "scale", "ssr", "nobs", "df_resid"):
        assert getattr(res, name) == pytest.approx(getattr(dense, name), rel=1e-8)


def test_x_is_left_as_it_was(data):
    X, Y, w = data
    for make in FORMATS.values():
        matrix = make(X)
        before = matrix.copy()
        NeuronRegressor(validation_split=0.2, random_state=0).fit(
            matrix, Y[:, 0], sample_weight=w
        )
        assert type(matrix) is type(before) and matrix.dtype == before.dtype
        np.testing.assert_array_equal(matrix.toarray(), before.toarray())


def test_one_hot_pipeline_equals_linear_regressions():
    """The common pipeline: OneHotEncoder's sparse output (collinear with the
    intercept: the minimum-norm answer) and scaled numbers, into a linear model."""
    rng = np.random.default_rng(4)
    n = 300
    frame = pd.DataFrame(
        {
            "city": rng.choice(["Oslo", "Lima", "Pune", "Kyiv", "Nice"], n),
            "kind": rng.choice(list("abcdefgh"), n),
            "size": rng.gamma(2.0, 50.0, n),
            "age": rng.uniform(0, 80, n),
        }
    )
    effects = {"Oslo": 3.0, "Lima": -1.0, "Pune": 0.5, "Kyiv": 2.0, "Nice": 0.0}
    y = (
        frame["city"].map(effects).to_numpy()
        + 0.02 * frame["size"].to_numpy()
        - 0.05 * frame["age"].to_numpy()
        + rng.standard_normal(n)
    )

    def pipeline(regressor):
        encode = ColumnTransformer(
            [
                ("cat", OneHotEncoder(), ["city", "kind"]),
                ("num", StandardScaler(), ["size", "age"]),
            ]
        )
        return make_pipeline(encode, regressor)

    neuron = pipeline(NeuronRegressor()).fit(frame, y)
    assert sp.issparse(neuron[0].transform(frame))  # the neuron was given sparse X
    # LinearRegression solves sparse X with LSQR, to its tol: make that exact
    lr = pipeline(LinearRegression(tol=1e-14)).fit(frame, y)
    np.testing.assert_allclose(neuron.predict(frame), lr.predict(frame), rtol=1e-8)
    np.testing.assert_allclose(neuron[-1].coef_, lr[-1].coef_, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(neuron[-1].intercept_, lr[-1].intercept_, rtol=1e-8)


@pytest.mark.parametrize(
    "params, weighted, targets",
    [
        ({"loss": "huber"}, False, 0),
        ({"loss": "huber", "epsilon": 0.2}, True, 2),
        ({"loss": "huber", "fit_intercept": False}, True, 0),
        ({"loss": "huber", "alpha": 0.1, "l1_ratio": 0.5}, False, 0),
        ({"loss": "huber", "positive": True}, True, 0),
        ({"precompute": False}, True, 2),
    ],
)
@pytest.mark.slow
def test_settings_that_train_on_rows_reach_the_dense_copys_optimum(
    data, params, weighted, targets
):
    """Sparse rows train in other units (scaled, not centred) than dense rows, so
    the two fits take different paths to the same optimum. Each stops where its
    coefficients are within ``tol`` (1e-6) of it, relative to the largest
    (the convergence test's bound), so they agree to 2 * tol."""
    X, Y, w = data
    y = Y[:, 0] if targets == 0 else Y[:, :targets]
    Y_heavy = y + 0.3 * np.random.default_rng(1).standard_t(2, y.shape)  # outliers
    w = w if weighted else None
    sparse = NeuronRegressor(**params).fit(sp.csr_matrix(X), Y_heavy, sample_weight=w)
    dense = NeuronRegressor(**params).fit(X, Y_heavy, sample_weight=w)
    coef, expected = np.atleast_2d(sparse.coef_), np.atleast_2d(dense.coef_)
    largest = np.abs(expected).max(1, keepdims=True)
    assert np.all(np.abs(coef - expected) <= 2e-6 * largest)
    # the intercept, in y's units: within tol of the coefficients' contribution
    contribution = largest[:, 0] * np.abs(X).max()
    assert np.all(np.abs(sparse.intercept_ - dense.intercept_) <= 2e-6 * contribution)


@pytest.mark.parametrize(
    "params",
    [
        {"loss": "absolute_error", "epochs": 3000},
        {"batch_size": 32, "random_state": 0, "epochs": 100},
        {"loss": "huber", "batch_size": 50, "optimizer": "adam", "epochs": 100,
         "learning_rate": 0.01, "random_state": 0},
    ],
)  # fmt: skip
@pytest.mark.slow
def test_fixed_epochs_on_sparse_rows_fit_as_well_as_the_dense_copy(data, params):
    """A fixed budget (no convergence test) on the packed rows: the mean loss
    reached is within 1 % of the dense copy's, whose path differs (other units)."""
    X, Y, _ = data
    y = Y[:, 0] + 0.3 * np.random.default_rng(2).standard_t(2, len(Y))
    params = {**params, "tol": None}
    sparse = NeuronRegressor(**params).fit(sp.csr_matrix(X), y)
    dense = NeuronRegressor(**params).fit(X, y)
    assert sparse.n_iter_ == dense.n_iter_ == params["epochs"]
    reached = sparse.history_["loss"][-1]
    assert reached == pytest.approx(dense.history_["loss"][-1], rel=1e-2)
    assert sparse.score(X, y) == pytest.approx(dense.score(X, y), abs=1e-2)


def test_sparse_rows_are_packed_to_the_fullest_row(data):
    """The packed rows hold each row's stored values (scaled) in their columns,
    n times the most values one row stores, and equal X @ v for any v."""
    X, Y, w = data
    Xs = sp.csr_matrix(X)
    checked = SOURCE.validated(Xs, Y, w, **NeuronRegressor()._checks(reset=True))
    moments = SOURCE.moments(checked.X, checked.Y, checked.sample_weight)
    scaling = moments.scaling(True)
    active = np.ones(X.shape[1], bool)
    packed = SOURCE.rows(
        checked.X, checked.Y, checked.sample_weight, slice(None), scaling, active
    )
    assert packed.values.shape == (len(X), np.diff(Xs.indptr).max())
    v = np.random.default_rng(3).standard_normal((X.shape[1], 2))
    np.testing.assert_allclose(
        packed.dot(v), (X / scaling.X_scale) @ v, rtol=1e-13, atol=1e-13
    )
    np.testing.assert_allclose(packed.Y, (Y - scaling.Y_offset) / scaling.Y_scale)
    assert packed.varying().tolist() == [1.0] * X.shape[1]
    # a column left out (constant, with an intercept) is stored as zeros
    active[2] = False
    packed = SOURCE.rows(
        checked.X, checked.Y, checked.sample_weight, slice(None), scaling, active
    )
    assert packed.varying()[2] == 0.0


def test_a_gram_matrix_is_refused(data):
    X, Y, _ = data
    reg = NeuronRegressor(precompute=X.T @ X)
    with pytest.raises(ValueError, match="sparse X"):
        reg.fit(sp.csr_matrix(X), Y[:, 0])


def test_partial_fit_takes_dense_chunks_only(data):
    X, Y, _ = data
    with pytest.raises(TypeError, match="dense data is required"):
        NeuronRegressor().partial_fit(sp.csr_matrix(X), Y[:, 0])


@pytest.fixture(scope="module")
def large():
    """200 000 x 300 at 0.02 % non-zeros: 480 MB dense, 0.1 MB of values."""
    n, p = 200_000, 300
    rng = np.random.default_rng(5)
    X = sp.random(n, p, density=2e-4, format="csr", random_state=rng)
    y = np.asarray(X @ rng.standard_normal(p)) + 0.01 * rng.standard_normal(n)
    return X, y


def _refuse_densifying(monkeypatch, too_large):
    """Make toarray/todense of every sparse format raise where ``too_large(matrix)``."""

    def refuse(method):
        def guarded(self, *args, **kwargs):
            if too_large(self):
                raise AssertionError(f"{method.__name__} of a {self.shape} matrix")
            return method(self, *args, **kwargs)

        return guarded

    for cls in FORMATS.values():
        for name in ("toarray", "todense"):
            monkeypatch.setattr(cls, name, refuse(getattr(cls, name)))


def test_large_sparse_x_is_never_densified(large, monkeypatch):
    """No toarray/todense of all rows into more values than twice those stored
    (a few columns stored on most rows would be centred as dense columns)."""
    X, y = large
    n = X.shape[0]
    _refuse_densifying(
        monkeypatch, lambda m: m.shape[0] == n and m.shape[0] * m.shape[1] > 2 * m.nnz
    )
    reg = NeuronRegressor(validation_split=0.1, random_state=0).fit(X, y)
    assert reg.coef_.shape == (X.shape[1],) and np.isfinite(reg.coef_).all()
    assert reg.score(X, y) > 0.99


@pytest.mark.slow
def test_large_sparse_x_trains_on_its_rows_packed(large, monkeypatch):
    """The Huber loss trains on the rows, packed: no toarray or todense of more
    rows than a block, and memory of the rows times the fullest row's values."""
    X, y = large
    _refuse_densifying(monkeypatch, lambda m: m.shape[0] * m.shape[1] > 1 << 20)
    reg = NeuronRegressor(loss="huber", epsilon=0.05).fit(X, y)
    assert reg.score(X, y) > 0.99


def test_passes_over_sparse_x_take_memory_of_its_values_and_p_squared(large):
    """The passes over X (validation, moments of the training and held-out rows,
    residuals) allocate a few arrays of n values, of the stored values and of
    p x p, measured by tracemalloc (NumPy reports its allocations to it); the
    dense X would be 480 MB."""
    X, y = large
    (n, p), reg = X.shape, NeuronRegressor()
    train = np.arange(0, n, 10)
    held_out = np.setdiff1d(np.arange(n), train)
    coef = np.ones((1, p))
    tracemalloc.start()
    try:
        checked = SOURCE.validated(X, y, None, **reg._checks(reset=True))
        Xv, yv, w = checked.X, checked.y, checked.sample_weight
        Y = yv[:, None]
        moments = SOURCE.moments(Xv, Y, w, train)
        SOURCE.moments(Xv, Y, w, held_out, like=moments)
        SOURCE.residuals(Xv, Y, w, coef, np.zeros(1), np.zeros(p), held_out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    budget = 10 * (n * 8 + X.nnz * 16 + p * p * 8)  # about 26 MB
    assert peak < budget < n * p * 8 / 10, f"{peak / 1e6:.0f} MB"
