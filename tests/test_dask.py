"""Dask collections: fits from the sums the cluster computes, predict, score, and
many fits on a cluster (``pip install skneuron[dask]``).

Everything runs on one real ``distributed.LocalCluster`` (2 worker processes of
1 thread, on 127.0.0.1, dashboard on a random local port), started once for the
module and always closed. The fits' passes over the rows are NumPy on the workers;
only the tests that train on the workers (grid search, Incremental) start
TensorFlow there, once per worker.
"""

import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from importlib import import_module

import numpy as np
import pytest
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV

from skneuron import NeuronRegressor

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

import joblib  # noqa: E402

pytestmark = pytest.mark.slow  # a Dask cluster per module, and Parquet/CSV files

ROWS = (700, 300, 1100, 400, 500)  # row chunks of uneven sizes
N = sum(ROWS)
FILE_ROWS = (700, 1, 300, 1100, 2, 400, 497)  # rows per file: uneven, two tiny
FEATURES = ["x0", "x1", "x2", "x3"]

# The allowance for a fit on Dask against the same fit in memory, from the
# arithmetic. The two take the same sums in different orders, which changes them
# by a few ulps (a few 1e-16 relative), and a fit is a smooth function of its
# sums: its results move by that change times the fit's amplification. Measured
# on these data by perturbing X in memory by a relative 1e-15 (random signs: about
# 5 ulps of every value, more than any reordering changes the sums), then 1e-13,
# 1e-12 and 1e-10: the results move linearly, by at most 1300 times the
# perturbation over the fits below and 2000 times for 40 epochs of Adam (the
# intercept, through column 2's offset of 500 standard deviations); the losses by
# 500 times, plus, without an intercept, a rounding floor: the loss is
# y'y - 2 c'X'y + c'X'Xc, which cancels by y'y / ssr = 4e4 here, so its 21 terms
# round to 21 * 1.1e-16 * 4e4 = 1e-10 at worst (1e-11 measured). The fits should
# thus agree to 2e-12, their losses to 1e-10; RTOL allows 500 and 10 times that.
RTOL = 1e-9


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # The grid search and Incremental train on the workers, and each worker
        # starts TensorFlow once: start it now, while the client starts its own.
        warm = [
            client.submit(import_module, "skneuron._keras", workers=[w], pure=False)
            for w in client.scheduler_info()["workers"]
        ]
        yield client
        del warm


@pytest.fixture(scope="module")
def data():
    """Columns far from zero and of different scales; three targets; weights."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 4)) * [1.0, 10.0, 0.1, 3.0] + [1.0, -2.0, 50.0, 0.0]
    coef = np.array([[1.5, -2.0, 4.0, 0.5], [0.0, 1.0, -1.0, 2.0], [3.0, 0, 0, 1]])
    Y = X @ coef.T + [3.0, -1.0, 0.5] + rng.normal(size=(N, 3))
    w = rng.uniform(0.0, 2.0, N)
    return X, Y, w


def chunked(array):
    return da.from_array(array, chunks=(ROWS, *array.shape[1:]))


def assert_same_fit(on_dask, in_memory):
    for name in ("coef_", "intercept_"):
        np.testing.assert_allclose(
            getattr(on_dask, name), getattr(in_memory, name), rtol=RTOL, atol=1e-12
        )
    assert on_dask.n_iter_ == in_memory.n_iter_
    assert on_dask.history_.keys() == in_memory.history_.keys()
    for key, losses in in_memory.history_.items():
        np.testing.assert_allclose(on_dask.history_[key], losses, rtol=RTOL)


def assert_same_predictions(got, expected, X, reg, rtol):
    """``got`` equals ``expected`` to ``rtol`` of the terms each prediction adds
    up, ``|X| @ |coef_|.T + |intercept_|``: what coefficients and intercepts that
    agree to ``rtol`` allow, however much the terms cancel (relative to the
    predictions alone, a target near zero would need far more)."""
    coef = np.atleast_2d(reg.coef_)
    terms = np.abs(np.asarray(X)) @ np.abs(coef).T + np.abs(reg.intercept_)
    difference = np.abs(np.asarray(got) - expected)
    assert np.all(difference <= rtol * terms.reshape(np.shape(expected)))


class Gathered:
    """Counts what the client brings back from the cluster (pickled bytes)."""

    def __init__(self, monkeypatch):
        self.calls, self.nbytes = 0, 0
        gather = distributed.Client.gather

        def counting(client, futures, *args, **kwargs):
            result = gather(client, futures, *args, **kwargs)
            self.calls += 1
            self.nbytes += len(pickle.dumps(result))
            return result

        monkeypatch.setattr(distributed.Client, "gather", counting)


@pytest.mark.parametrize(
    "params, fit_params, targets",
    [
        ({}, {}, 0),
        ({}, {"sample_weight": True}, 0),
        ({}, {}, 3),
        ({"fit_intercept": False}, {}, 1),
        ({"alpha": 0.05, "l1_ratio": 0.5, "positive": True}, {}, 0),
        ({"validation_split": 0.2, "random_state": 0}, {"sample_weight": True}, 2),
        (
            {"validation_split": 0.3, "early_stopping": True, "random_state": 1},
            {},
            0,
        ),
    ],
)
def test_fit_equals_the_in_memory_fit(client, data, params, fit_params, targets):
    X, Y, w = data
    y = Y[:, 0] if targets == 0 else Y[:, :targets]
    weights = {"sample_weight": w} if fit_params else {}
    in_memory = NeuronRegressor(**params).fit(X, y, **weights)
    on_dask = NeuronRegressor(**params).fit(
        chunked(X), chunked(y), **{k: chunked(v) for k, v in weights.items()}
    )
    assert_same_fit(on_dask, in_memory)
    assert on_dask.n_features_in_ == 4
    assert not hasattr(on_dask, "feature_names_in_")
    if not params.get("alpha") and not params.get("early_stopping"):
        # the residuals' pass: the statistics agree too
        ours, theirs = on_dask.summary(), in_memory.summary()
        for a, b in zip(np.atleast_1d(ours), np.atleast_1d(theirs), strict=True):
            np.testing.assert_allclose(a.bse, b.bse, rtol=RTOL)
            np.testing.assert_allclose(a.ssr, b.ssr, rtol=RTOL)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_adam_and_warm_start_equal_the_in_memory_fits(client, data):
    """40 epochs of Adam, far from converged, follow the same path on Dask as in
    memory, and a second fit continues from the first one's coefficients.

    The path amplifies a change of the sums 2000 times (measured, see RTOL): the
    fits differ by 1e-14 to 1e-12, and RTOL allows 500 times the most a change of
    5 ulps in X gives. A difference of 8.6e-4, once reported under load, would
    need the sums to differ by 4e-7 relative, far beyond any summation order; it
    is not allowed for."""
    X, Y, _ = data
    params = dict(optimizer="adam", learning_rate=0.05, epochs=40, warm_start=True)
    in_memory, on_dask = NeuronRegressor(**params), NeuronRegressor(**params)
    for _ in range(2):  # the second fit starts from the first one's coefficients
        in_memory.fit(X, Y[:, 0])
        on_dask.fit(chunked(X), chunked(Y[:, 0]))
        assert_same_fit(on_dask, in_memory)
    # where a fit from zero would be: the allowance tells the two apart
    cold = NeuronRegressor(**params).fit(X, Y[:, 0])
    assert np.all(np.abs(cold.coef_ - on_dask.coef_) > 1e3 * RTOL * np.abs(cold.coef_))


def test_weights_in_memory_with_dask_data(client, data):
    X, Y, w = data
    in_memory = NeuronRegressor().fit(X, Y[:, 0], sample_weight=3 * w)
    on_dask = NeuronRegressor().fit(chunked(X), chunked(Y[:, 0]), sample_weight=3 * w)
    assert_same_fit(on_dask, in_memory)


def test_a_dask_dataframe_keeps_its_feature_names(client, data):
    X, Y, w = data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    target = pd.Series(Y[:, 0], name="y")
    in_memory = NeuronRegressor().fit(frame, target, sample_weight=w)
    on_dask = NeuronRegressor().fit(
        dd.from_pandas(frame, npartitions=3),
        dd.from_pandas(target, npartitions=3),
        sample_weight=dd.from_pandas(pd.Series(w), npartitions=3),
    )
    assert_same_fit(on_dask, in_memory)
    np.testing.assert_array_equal(on_dask.feature_names_in_, ["a", "b", "c", "d"])
    predicted = on_dask.predict(dd.from_pandas(frame, npartitions=2))
    assert isinstance(predicted, da.Array)
    np.testing.assert_allclose(predicted.compute(), in_memory.predict(frame))
    renamed = dd.from_pandas(frame.rename(columns={"a": "z"}), npartitions=2)
    with pytest.raises(ValueError, match="feature names should match"):
        on_dask.predict(renamed)


def write_files(folder, data):
    """The data as files of FILE_ROWS rows each: Parquet files in
    ``folder / "parquet"``, CSV files in ``folder / "csv"``; columns FEATURES,
    y0, y1 and w."""
    X, Y, w = data
    frame = pd.DataFrame(X, columns=FEATURES).assign(y0=Y[:, 0], y1=Y[:, 1], w=w)
    (folder / "parquet").mkdir()
    (folder / "csv").mkdir()
    ends = np.cumsum(FILE_ROWS)
    for k, (start, end) in enumerate(zip(ends - FILE_ROWS, ends, strict=True)):
        part = frame.iloc[start:end]
        part.to_parquet(folder / "parquet" / f"part-{k:02d}.parquet", index=False)
        part.to_csv(folder / "csv" / f"part-{k:02d}.csv", index=False)
    return folder


READERS = {
    "parquet folder": lambda folder: dd.read_parquet(folder / "parquet"),
    "csv glob": lambda folder: dd.read_csv(str(folder / "csv" / "*.csv")),
}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    "target, weights",
    [
        ("y0", None),
        ("y0", "column"),  # a Dask Series read from the same files
        ("y0", "in memory"),
        (["y0", "y1"], "column"),
        ("array", "column"),  # y a Dask array in chunks of its own
    ],
)
def test_parquet_folders_and_csv_globs_fit_predict_and_score_as_in_memory(
    client, data, tmp_path, reader, target, weights
):
    """Frames read from several files have partitions of unknown length, which
    Dask may fuse when it builds their arrays (read_parquet combines small files,
    into fewer partitions for one column than for four): X, y and the weights
    come in different row chunks."""
    frame = READERS[reader](write_files(tmp_path, data))
    assert not frame.known_divisions  # the lengths of the partitions are unknown
    X = frame[FEATURES]
    in_memory_frame = frame.compute()
    X_in_memory = in_memory_frame[FEATURES]
    if target == "array":
        y_in_memory = in_memory_frame["y0"].to_numpy()
        y = da.from_array(y_in_memory, chunks=1000)
    else:
        y, y_in_memory = frame[target], in_memory_frame[target]
    w, w_in_memory = {
        None: (None, None),
        "column": (frame["w"], in_memory_frame["w"]),
        "in memory": (data[2], data[2]),
    }[weights]

    in_memory = NeuronRegressor().fit(
        X_in_memory, y_in_memory, sample_weight=w_in_memory
    )
    on_dask = NeuronRegressor().fit(X, y, sample_weight=w)
    assert_same_fit(on_dask, in_memory)
    np.testing.assert_array_equal(on_dask.feature_names_in_, FEATURES)
    predicted = on_dask.predict(X)
    assert isinstance(predicted, da.Array)
    assert_same_predictions(
        predicted.compute(), in_memory.predict(X_in_memory), X_in_memory, on_dask, RTOL
    )
    assert on_dask.score(X, y, sample_weight=w) == pytest.approx(
        in_memory.score(X_in_memory, y_in_memory, sample_weight=w_in_memory),
        rel=RTOL,
    )


def test_only_the_sums_reach_the_client(client, monkeypatch):
    """What the client gathers does not grow with the rows: p x p numbers."""
    rng = np.random.default_rng(1)
    sizes = {}
    for n in (20_000, 80_000):
        X = rng.normal(size=(n, 5))
        y = X @ [1.0, 2.0, 3.0, 4.0, 5.0] + rng.normal(size=n)
        gathered = Gathered(monkeypatch)
        NeuronRegressor().fit(
            da.from_array(X, chunks=(n // 8, 5)),
            da.from_array(y, chunks=n // 8),
            sample_weight=da.from_array(rng.uniform(1, 2, n), chunks=n // 8),
        )
        # the weights' largest, the origin, the moments, the residuals
        assert gathered.calls == 4, gathered.calls
        sizes[n] = gathered.nbytes
        assert gathered.nbytes < 0.01 * X.nbytes
    assert sizes[80_000] == pytest.approx(sizes[20_000], rel=0.05)


@pytest.mark.parametrize(
    "params",
    [
        {"loss": "huber"},
        {"loss": "absolute_error"},
        {"batch_size": 100},
        {"precompute": False},
    ],
)
def test_settings_that_need_the_rows_refuse_and_point_to_incremental(
    client, data, monkeypatch, params
):
    X, Y, _ = data
    gathered = Gathered(monkeypatch)
    with pytest.raises(
        ValueError, match=r"dask_ml\.wrappers\.Incremental.*partial_fit"
    ):
        NeuronRegressor(**params).fit(chunked(X), chunked(Y[:, 0]))
    assert gathered.calls == 0  # nothing was computed, let alone gathered


def first_line(error):
    return str(error.value).splitlines()[0]


@pytest.mark.parametrize(
    "spoil",
    ["nan in X", "inf in X", "nan in y", "negative weight", "zero weights"],
)
def test_bad_values_raise_scikit_learns_errors(client, data, spoil):
    X, Y, w = data
    X, y, w = X.copy(), Y[:, 0].copy(), w.copy()
    if spoil == "nan in X":
        X[1500, 2] = np.nan
    elif spoil == "inf in X":
        X[2000, 0] = np.inf
    elif spoil == "nan in y":
        y[10] = np.nan
    elif spoil == "negative weight":
        w[2600] = -1.0
    else:
        w[:] = 0.0
    with pytest.raises(ValueError) as in_memory:
        NeuronRegressor().fit(X, y, sample_weight=w)
    with pytest.raises(ValueError) as on_dask:
        NeuronRegressor().fit(chunked(X), chunked(y), sample_weight=chunked(w))
    assert str(on_dask.value) == str(in_memory.value)


@pytest.mark.parametrize(
    "make",
    [
        lambda X, y: (X[:, 0], y),  # 1-D X
        lambda X, y: (X[:, :, None], y),  # 3-D X
        lambda X, y: (X.astype(str), y),  # strings
        lambda X, y: (X, y[:-1]),  # lengths differ
        lambda X, y: (X[:, :0], y),  # no features
    ],
)
def test_bad_shapes_raise_scikit_learns_errors(client, data, make):
    X, Y, _ = data
    X, y = make(X, Y[:, 0])
    with pytest.raises(ValueError) as in_memory:
        NeuronRegressor().fit(X, y)
    with pytest.raises(ValueError) as on_dask:
        NeuronRegressor().fit(
            da.from_array(X, chunks=(500, *X.shape[1:])),
            da.from_array(y, chunks=500),
        )
    assert first_line(on_dask) == first_line(in_memory)


@pytest.fixture(scope="module")
def fitted(data):
    X, Y, _ = data
    return NeuronRegressor().fit(X, Y[:, 0]), NeuronRegressor().fit(X, Y)


@pytest.mark.parametrize("targets", [1, 3])
def test_predict_returns_a_dask_array_block_by_block(client, data, fitted, targets):
    X, _, _ = data
    reg = fitted[targets > 1]
    predicted = reg.predict(chunked(X))
    assert isinstance(predicted, da.Array)
    assert predicted.chunks[0] == ROWS
    assert predicted.shape == reg.predict(X).shape
    # the same coefficients: each prediction rounds by 5 ulps of its terms at most
    # (4 products and the intercept), and 1e-12 is 1800 times that
    assert_same_predictions(predicted.compute(), reg.predict(X), X, reg, 1e-12)
    with pytest.raises(ValueError, match="X has 3 features, but NeuronRegressor"):
        reg.predict(chunked(X[:, :3]))


@pytest.mark.parametrize("targets", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_score_equals_r2_score(client, data, fitted, targets, weighted):
    X, Y, w = data
    reg = fitted[targets > 1]
    y = Y[:, 0] if targets == 1 else Y
    weights = w if weighted else None
    expected = r2_score(y, reg.predict(X), sample_weight=weights)
    got = reg.score(
        chunked(X), chunked(y), None if weights is None else chunked(weights)
    )
    assert isinstance(got, float)
    # Rounding only (the same coefficients): sums of N terms in two orders differ
    # by N ulps at most, and each prediction by 5 ulps of its terms, which bounds
    # the difference of R² by 4e-14 on these data (target 3, R² = 0.95)
    assert got == pytest.approx(expected, rel=1e-12)
    if targets == 1:  # a constant target, as r2_score scores it
        constant = np.full(N, 5.0)
        assert reg.score(chunked(X), chunked(constant)) == r2_score(
            constant, reg.predict(X)
        )


def test_grid_search_on_the_cluster_equals_sequential(client, data):
    X, Y, _ = data
    X, y = X[:600], Y[:600, 0]
    grid = {"alpha": [0.0, 0.1], "fit_intercept": [True, False]}
    sequential = GridSearchCV(NeuronRegressor(), grid, cv=3).fit(X, y)
    with joblib.parallel_backend("dask"):
        on_cluster = GridSearchCV(NeuronRegressor(), grid, cv=3, n_jobs=-1).fit(X, y)
    ours, theirs = on_cluster.cv_results_, sequential.cv_results_
    assert ours["params"] == theirs["params"]
    for key in theirs:
        if ("score" in key and "time" not in key) or key.startswith("param_"):
            np.testing.assert_array_equal(ours[key], theirs[key])
    np.testing.assert_array_equal(
        on_cluster.best_estimator_.coef_, sequential.best_estimator_.coef_
    )


def test_incremental_trains_on_the_workers_like_a_local_loop(client):
    """dask-ml's Incremental ships the estimator to the workers, block by block,
    through partial_fit: the same as a local loop over the same blocks."""
    wrappers = pytest.importorskip("dask_ml.wrappers")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 3)) * [1.0, 3.0, 0.5] + [2.0, -1.0, 0.0]
    y = X @ [1.5, -2.0, 4.0] + 3.0 + 0.1 * rng.normal(size=300)
    inc = wrappers.Incremental(NeuronRegressor(random_state=0), shuffle_blocks=False)
    for _ in range(2):
        inc.partial_fit(da.from_array(X, chunks=100), da.from_array(y, chunks=100))
    local = NeuronRegressor(random_state=0)
    for _ in range(2):
        for rows in np.array_split(np.arange(300), 3):
            local.partial_fit(X[rows], y[rows])
    np.testing.assert_array_equal(inc.estimator_.coef_, local.coef_)
    assert inc.estimator_.n_iter_ == local.n_iter_ > 6  # epochs, several a call
    assert inc.estimator_.history_ == local.history_
    # two whole passes: fit's answer on the rows
    full = NeuronRegressor(tol=1e-10).fit(X, y)
    np.testing.assert_allclose(inc.estimator_.coef_, full.coef_, rtol=1e-6)
    # Incremental's default score is the estimator's: R² from the sums
    assert inc.score(da.from_array(X, chunks=100), da.from_array(y, chunks=100)) == (
        pytest.approx(local.score(X, y), rel=1e-12)
    )


@pytest.mark.xfail(
    raises=ValueError,
    strict=True,
    reason="dask-ml issue #1012: dask_ml.metrics.r2_score assigns into a Dask "
    "array of unknown shape, which current Dask refuses",
)
def test_incremental_with_scoring_r2_is_dask_ml_issue_1012(client):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    rng = np.random.default_rng(6)
    X = da.from_array(rng.normal(size=(200, 2)), chunks=100)
    y = X @ da.from_array(np.array([1.0, 2.0]), chunks=2)
    inc = wrappers.Incremental(NeuronRegressor(), scoring="r2").fit(X, y)
    inc.score(X, y)


def test_import_skneuron_does_not_import_dask():
    code = (
        "import sys, numpy as np; import skneuron;"
        "from skneuron._data import source_of; source_of(np.eye(3), np.arange(3.0));"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'dask'], 'dask'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_a_worker_killed_mid_fit_does_not_change_the_answer(client, tmp_path):
    """A worker is killed (SIGKILL, from the test's thread) while it computes a
    block of the first pass; Dask recomputes what it held and the fit is the same.

    One block pauses the first time it is computed, after writing its worker's
    process id, so that the kill lands mid-task at a known point."""
    n_blocks, rows = 12, 2_000
    started, woke = tmp_path / "started", tmp_path / "woke"

    def pausing(block, block_info=None):
        if block_info[0]["chunk-location"][0] == n_blocks // 2 and not started.exists():
            started.write_text(str(os.getpid()))
            time.sleep(30)  # killed before the end of it
            woke.write_text("")
        return block

    rng = da.random.default_rng(42)
    X = rng.normal(size=(n_blocks * rows, 6), chunks=(rows, 6)) * 2.0 + 1.0
    y = X @ da.from_array(np.arange(1.0, 7.0)) + rng.normal(size=len(X), chunks=rows)
    undisturbed = NeuronRegressor().fit(X, y)
    pids_before = set(client.run(os.getpid).values())

    killed = []

    def kill_when_started():
        deadline = time.monotonic() + 60
        while not started.exists() or not started.read_text():
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        pid = int(started.read_text())
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    killer = threading.Thread(target=kill_when_started, daemon=True)
    killer.start()
    disturbed = NeuronRegressor().fit(X.map_blocks(pausing, dtype=X.dtype), y)
    killer.join(timeout=5)
    assert killed and killed[0] in pids_before  # a worker of the cluster died
    assert not woke.exists()  # the fit used the block recomputed elsewhere
    # the same to rounding: two undisturbed fits differ by about 1e-14 (the
    # blocks' BLAS calls depend on where each array lands in memory). The
    # intercept is mean(y) - mean(X) @ coef_, so coefficients equal to 1e-12 allow
    # it to move by 1e-12 * |mean(X)| @ |coef_| (about 2e-11 here).
    np.testing.assert_allclose(disturbed.coef_, undisturbed.coef_, rtol=1e-12)
    means = np.abs(X.mean(axis=0).compute())
    assert disturbed.intercept_ == pytest.approx(
        undisturbed.intercept_, abs=1e-12 * means @ np.abs(undisturbed.coef_)
    )
    assert disturbed.n_iter_ == undisturbed.n_iter_
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it
