"""Meta-estimators, persistence, threads and processes."""

import pickle
import subprocess
import sys
import threading
import warnings

import joblib
import numpy as np
import pytest
from _process import rss_mb
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import BaggingRegressor, StackingRegressor, VotingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_validate
from sklearn.multioutput import MultiOutputRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skneuron import NeuronRegressor


@pytest.fixture(scope="module")
def fitted(diabetes):
    X, y = diabetes
    return NeuronRegressor().fit(X, y)


@pytest.mark.parametrize(
    "make",
    [
        lambda reg: make_pipeline(StandardScaler(), reg),
        lambda reg: TransformedTargetRegressor(reg, func=np.log, inverse_func=np.exp),
        lambda reg: StackingRegressor([("a", reg), ("b", reg)], final_estimator=reg),
        lambda reg: VotingRegressor(
            [("a", reg), ("b", make_pipeline(StandardScaler(), reg))]
        ),
        lambda reg: BaggingRegressor(reg, n_estimators=3, random_state=0),
    ],
    ids=["pipeline", "transformed_target", "stacking", "voting", "bagging"],
)
def test_meta_estimators_match_linear_regression(diabetes, make):
    X, y = diabetes
    neuron = make(NeuronRegressor()).fit(X, y).score(X, y)
    linear = make(LinearRegression()).fit(X, y).score(X, y)
    assert neuron == pytest.approx(linear, abs=1e-3)


def test_multioutput_and_searches(diabetes):
    X, y = diabetes
    Y = np.column_stack([y, X[:, 2]])
    multi = MultiOutputRegressor(NeuronRegressor()).fit(X, Y)
    ref = MultiOutputRegressor(LinearRegression()).fit(X, Y)
    assert multi.score(X, Y) == pytest.approx(ref.score(X, Y), abs=1e-3)
    search = RandomizedSearchCV(
        NeuronRegressor(),
        {"fit_intercept": [True, False], "n_iter_no_change": [3, 5]},
        n_iter=3,
        cv=3,
        random_state=0,
    ).fit(X, y)
    assert search.best_params_["fit_intercept"] is True
    scores = cross_validate(NeuronRegressor(), X, y, cv=3, return_estimator=True)
    ref_scores = cross_validate(LinearRegression(), X, y, cv=3)
    np.testing.assert_allclose(
        scores["test_score"], ref_scores["test_score"], rtol=1e-6
    )


def test_sample_weight_metadata_routing(diabetes):
    from sklearn import config_context

    X, y = diabetes
    sw = np.random.default_rng(1).uniform(0.5, 2, len(y))
    with config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=True),
            NeuronRegressor().set_fit_request(sample_weight=True),
        )
        ref = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=True),
            LinearRegression().set_fit_request(sample_weight=True),
        )
        pipe.fit(X, y, sample_weight=sw)
        ref.fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(pipe[-1].coef_, ref[-1].coef_, rtol=1e-5)


@pytest.mark.parametrize(
    "dumps, loads",
    [
        (pickle.dumps, pickle.loads),
        (lambda o: __import__("cloudpickle").dumps(o), pickle.loads),
    ],
)
def test_pickle_round_trips(fitted, diabetes, dumps, loads):
    X, _ = diabetes
    loaded = loads(dumps(fitted))
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))


def test_joblib_round_trip(fitted, diabetes, tmp_path):
    X, _ = diabetes
    joblib.dump(fitted, tmp_path / "reg.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "reg.joblib").predict(X), fitted.predict(X)
    )


def test_model_saves_to_keras_format(fitted, diabetes, tmp_path):
    import keras

    X, _ = diabetes
    path = tmp_path / "neuron.keras"
    fitted.model_.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        loaded.predict(X, verbose=0)[:, 0], fitted.predict(X), rtol=1e-5, atol=1e-3
    )


def test_inputs_are_not_modified(diabetes):
    pd = pytest.importorskip("pandas")
    X, y = diabetes
    X, y = X.copy(), y.copy()
    df = pd.DataFrame(X.copy())
    sw = np.ones(len(y))
    before = X.copy(), y.copy(), df.copy(), sw.copy()
    NeuronRegressor().fit(X, y, sample_weight=sw).predict(X)
    NeuronRegressor().fit(df, y)
    np.testing.assert_array_equal(X, before[0])
    np.testing.assert_array_equal(y, before[1])
    pd.testing.assert_frame_equal(df, before[2])
    np.testing.assert_array_equal(sw, before[3])


@pytest.mark.parametrize(
    "shape, fit_intercept",
    [
        ((30, 4), True),
        ((30, 4), False),
        ((5, 8), True),  # more features than rows: X'WX is not formed
        ((5, 8), False),  # and not centred: it scaled X in place once
    ],
)
@pytest.mark.parametrize("copy_X", [True, False])
def test_X_is_never_modified_whatever_copy_X(shape, fit_intercept, copy_X):
    rng = np.random.default_rng(0)
    X = rng.normal(size=shape)
    y = rng.normal(size=shape[0])
    sw = rng.uniform(1, 3, shape[0])  # unequal weights: X times sqrt(w) would show
    before = X.copy()
    reg = NeuronRegressor(fit_intercept=fit_intercept, copy_X=copy_X, epochs=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # not what is tested
        reg.fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(X, before)


@pytest.mark.slow
def test_two_threads_match_sequential_fits(diabetes):
    X, y = diabetes
    params = [dict(), dict(batch_size=32, epochs=20, tol=None, random_state=0)]
    sequential = [NeuronRegressor(**p).fit(X, y).coef_ for p in params * 2]
    results = [None] * 4

    def fit(i):
        results[i] = NeuronRegressor(**(params * 2)[i]).fit(X, y).coef_

    threads = [threading.Thread(target=fit, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, sequential, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.slow
def test_grid_search_in_processes_matches_one_process(diabetes):
    X, y = diabetes
    grid = {"learning_rate": ["auto", 0.05], "optimizer": ["sgd", "adam"]}
    est = NeuronRegressor(epochs=30, tol=None)
    one = GridSearchCV(est, grid, cv=2, n_jobs=1).fit(X, y)
    two = GridSearchCV(est, grid, cv=2, n_jobs=2).fit(X, y)
    np.testing.assert_allclose(
        one.cv_results_["mean_test_score"],
        two.cv_results_["mean_test_score"],
        rtol=1e-12,
    )


@pytest.mark.slow
def test_fresh_process_predicts_the_same(fitted, diabetes, tmp_path):
    X, _ = diabetes
    path = tmp_path / "reg.pkl"
    path.write_bytes(pickle.dumps(fitted))
    code = (
        "import pickle, sys;"
        f"reg = pickle.loads(open({str(path)!r}, 'rb').read());"
        "from sklearn.datasets import load_diabetes;"
        "X, _ = load_diabetes(return_X_y=True, scaled=False);"
        "print(repr(float(reg.predict(X).sum())));"
        "print(reg.model_.get_layer('neuron').get_weights()[1][0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    total, bias = out.stdout.split()
    assert float(total) == fitted.predict(X).sum()
    assert float(bias) == pytest.approx(fitted.intercept_, rel=1e-6)


@pytest.mark.slow
def test_many_setups_in_one_process_log_no_retracing_warning(diabetes):
    import logging

    X, y = diabetes
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("tensorflow")
    logger.addHandler(handler)
    try:
        for params in [
            {},
            {"fit_intercept": False},
            {"positive": True},
            {"optimizer": "adam", "tol": None, "epochs": 3},
            {"optimizer": "rmsprop", "tol": None, "epochs": 3},
            {"batch_size": 64, "tol": None, "epochs": 3},
            {"loss": "huber", "epsilon": 50.0},
            {"validation_split": 0.2, "random_state": 0},
            {"validation_split": 0.2, "early_stopping": True, "random_state": 0},
        ]:
            NeuronRegressor(**params).fit(X[:, : 3 + len(records)], y)
    finally:
        logger.removeHandler(handler)
    assert not [r for r in records if "retracing" in r.getMessage()]


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_many_fits_of_clones_do_not_grow(diabetes):
    """A short version of benchmarks/bench_long_run.py: memory and graphs stay put."""
    from sklearn.base import clone

    from skneuron import _keras

    X, y = diabetes
    template = NeuronRegressor()
    first = clone(template).fit(X, y).coef_
    _keras._finish_compiles()  # XLA's first compile takes its memory once
    rss = []
    for _ in range(60):
        coef = clone(template).fit(X, y).coef_
        np.testing.assert_array_equal(coef, first)  # same graph, same answer
        rss.append(rss_mb())
    assert rss[-1] - rss[9] < 20  # MB, generous: the benchmark measures the real
    assert sum(len(idle) for idle in _keras._pool.idle.values()) <= _keras._POOL_SIZE
