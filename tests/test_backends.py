"""Every Keras backend skneuron trains on (TensorFlow, JAX) gives the same answers.

CI runs this module twice: in the README's test command, on the default backend
(TensorFlow), and again with ``KERAS_BACKEND=jax``. The JAX pass fits the cases of
``tests/_backend_cases.py`` in its process and on TensorFlow in a child process,
and compares them. Both passes check the features on the backend in use (one
program per setup, ``model_``, Dask sources); the JAX pass also memory, Ctrl-C,
threads, pickles made on TensorFlow, and that JAX never imports TensorFlow.
"""

import json
import os
import pickle
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import _backend_cases as cases
import numpy as np
import pytest
from _process import rss_mb
from sklearn.base import clone
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import cross_val_score

from skneuron import NeuronRegressor
from skneuron._backends import UNSUPPORTED, configured

pytest.importorskip("jax")  # the test extra installs it

BACKEND = configured()
OTHER = {"tensorflow": "jax", "jax": "tensorflow"}[BACKEND]
# The tests that run only in CI's second pass (KERAS_BACKEND=jax): the comparison
# with the other backend's child process and the pickles across backends (once is
# enough), and what tests/test_engine.py, test_threads.py and test_interop.py
# already check on TensorFlow. They keep the first pass (the README's command)
# within its time.
second_pass = pytest.mark.skipif(
    BACKEND == "tensorflow", reason="CI's KERAS_BACKEND=jax pass runs it"
)
CASES_SCRIPT = Path(__file__).with_name("_backend_cases.py")


def _env(backend, **extra):
    return {**os.environ, "KERAS_BACKEND": backend, **extra}


def _run(code, backend, *args, timeout=600):
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=_env(backend),
        timeout=timeout,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def other_backend(tmp_path_factory):
    """The cases' results under the other backend (a child process)."""
    path = tmp_path_factory.mktemp("other") / "results.npz"
    out = subprocess.run(
        [sys.executable, str(CASES_SCRIPT), str(path)],
        capture_output=True,
        text=True,
        env=_env(OTHER),
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return dict(np.load(path))


@pytest.fixture(scope="module")
def this_backend():
    return cases.results()


@second_pass
@pytest.mark.slow
@pytest.mark.parametrize("case", [*cases.CASES, "partial_fit"])
def test_every_backend_gives_the_same_answers(case, this_backend, other_backend):
    """Coefficients and intercepts equal the other backend's: 1e-9 relative for
    the default fit, the penalties, the losses and each optimizer's fixed-epoch
    run, 1e-6 for Adam's mini-batches (see ``_backend_cases.TOLERANCE``)."""
    rtol = cases.TOLERANCE.get(case, cases.DEFAULT_TOLERANCE)
    for part in ("coef", "intercept"):
        ours, theirs = this_backend[f"{case}.{part}"], other_backend[f"{case}.{part}"]
        scale = np.max(np.abs(theirs), initial=1e-300)
        # relative to each value, but for exact zeros (held by a penalty)
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * 1e-6 * scale)
    if f"{case}.loss" in this_backend:
        ours, theirs = this_backend[f"{case}.loss"], other_backend[f"{case}.loss"]
        # the convergence test may hold one epoch apart at its boundary
        assert abs(len(ours) - len(theirs)) <= 1
        np.testing.assert_allclose(ours[-1], theirs[-1], rtol=max(rtol, 1e-9))
    if case == "default":
        np.testing.assert_allclose(
            this_backend["default.bse"], other_backend["default.bse"], rtol=1e-9
        )


# -- the features, on the backend in use ------------------------------------------
def test_the_default_fit_equals_linear_regression(diabetes):
    X, y = diabetes
    reg = NeuronRegressor().fit(X, y)
    expected = LinearRegression().fit(X, y)
    np.testing.assert_allclose(reg.coef_, expected.coef_, rtol=1e-6)
    np.testing.assert_allclose(reg.intercept_, expected.intercept_, rtol=1e-6)


def test_model_is_a_keras_model_of_the_backend_in_use(diabetes):
    import keras

    X, y = diabetes
    reg = NeuronRegressor().fit(X, y)
    assert keras.backend.backend() == BACKEND
    assert isinstance(reg.model_, keras.Model)
    kernel = reg.model_.get_layer("neuron").kernel.value
    assert (
        type(kernel).__module__.split(".")[0]
        in {
            "tensorflow": {"tensorflow", "tf_keras"},
            "jax": {"jax", "jaxlib"},
        }[BACKEND]
    ), type(kernel)
    # float32 where the backend has no float64 outside the engine (JAX by default)
    rtol = 1e-12 if reg.model_.get_layer("neuron").dtype == "float64" else 1e-4
    predicted = reg.model_(X[:20].astype(reg.model_.get_layer("neuron").dtype))
    np.testing.assert_allclose(
        np.asarray(predicted).ravel(), reg.predict(X[:20]), rtol=rtol
    )


def test_a_dask_source_trains_on_the_backend_in_use(diabetes):
    da = pytest.importorskip("dask.array")
    import dask

    X, y = diabetes
    with dask.config.set(scheduler="synchronous"):
        reg = NeuronRegressor().fit(da.from_array(X, chunks=100), da.from_array(y, 100))
    np.testing.assert_allclose(reg.coef_, LinearRegression().fit(X, y).coef_, rtol=1e-6)


def _traces():
    from skneuron import _keras

    _keras._finish_compiles()
    return sum(v for k, v in _keras.counts.items() if k.endswith("traces"))


def test_one_program_per_setup(diabetes):
    """Cross-validation's folds (353 and 354 rows) and two learning rates share one
    program: shapes are padded to buckets, and numbers that vary are inputs."""
    X, y = diabetes
    before = _traces()
    for rate in [0.05, 0.02]:
        reg = NeuronRegressor(learning_rate=rate, epochs=300, tol=None, batch_size=64)
        cross_val_score(reg, X[:, :7], y, cv=5)
    # TensorFlow traces once for graph mode (and once for XLA, for longer fits)
    assert _traces() - before <= (2 if BACKEND == "tensorflow" else 1)


@second_pass
@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_memory_stays_flat_over_300_fits_of_1_to_30_features():
    """300 fits cycling 1..30 features: after the first cycle (which compiles a
    program per bucket of features), memory stays where it was. The benchmark
    (bench_backends.py) measures it; this allows 30 MB of noise."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 30))
    y = X @ rng.normal(size=30) + rng.normal(size=200)
    rss = []
    for i in range(300):
        p = i % 30 + 1
        NeuronRegressor().fit(X[:, :p], y)
        if p == 30:
            rss.append(rss_mb())
    assert rss[-1] - rss[1] < 30, rss


INTERRUPTED = """
import signal, sys, time, numpy as np
signal.signal(signal.SIGINT, signal.default_int_handler)
from skneuron import NeuronRegressor
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 4)); y = X @ rng.normal(size=4)
reg = NeuronRegressor(learning_rate=1e-4, tol=None, epochs=10**7)
try:
    print("ready", flush=True)
    reg.fit(X, y)
except KeyboardInterrupt:
    print("interrupted", time.monotonic(), hasattr(reg, "coef_"), flush=True)
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
@second_pass
def test_ctrl_c_stops_a_long_fit():
    """SIGINT ends a fit of 10**7 epochs soon (10 s allowed, the promise is
    0.5 s); the estimator stays unfitted; the process exits cleanly."""
    proc = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(BACKEND),
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(3.0)  # past the program's first call
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        line = proc.stdout.readline().split()
        assert line[::2] == ["interrupted", "False"], line
        assert float(line[1]) - sent < 10.0
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
    finally:
        proc.kill()
        proc.communicate()


@pytest.mark.slow
@second_pass
def test_calls_in_threads_give_the_same_bits():
    from test_threads import WORKLOAD

    out = _run(WORKLOAD, BACKEND, "4")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["threads"]["4"] == result["one_by_one"] * 2


# -- across backends -----------------------------------------------------------------
PICKLE = """
import pickle, sys, warnings, numpy as np
from skneuron import NeuronRegressor
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = rng.normal(size=(100, 3)); y = X @ [1.0, 2.0, 3.0] + rng.normal(size=100)
reg = NeuronRegressor(optimizer="adam", learning_rate=0.01).partial_fit(X, y)
open(sys.argv[1], "wb").write(pickle.dumps(reg))
np.save(sys.argv[2], reg.predict(X))
"""


@second_pass
@pytest.mark.slow
def test_a_pickle_from_the_other_backend_predicts_and_trains_on(tmp_path):
    """An estimator fitted and pickled under the other backend loads here: it
    predicts the same, its model_ is this backend's, and partial_fit goes on
    from its optimizer state."""
    import keras

    path, predictions = tmp_path / "reg.pkl", tmp_path / "pred.npy"
    _run(PICKLE, OTHER, str(path), str(predictions))
    reg = pickle.loads(path.read_bytes())
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=100)
    np.testing.assert_array_equal(reg.predict(X), np.load(predictions))
    assert isinstance(reg.model_, keras.Model) and keras.backend.backend() == BACKEND
    before = reg.coef_.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.partial_fit(X, y)
    assert np.all(np.isfinite(reg.coef_)) and not np.array_equal(reg.coef_, before)


NO_TENSORFLOW = """
import sys, warnings, numpy as np, scipy.sparse as sp
from skneuron import NeuronRegressor
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = rng.normal(size=(100, 3)); y = X @ [1.0, 2.0, 3.0] + rng.normal(size=100)
reg = NeuronRegressor().fit(X, y)
reg.summary(); reg.model_.predict(X, verbose=0); reg.predict(X)
NeuronRegressor(loss="huber", batch_size=16, epochs=3).fit(sp.csr_matrix(X), y)
NeuronRegressor(optimizer="adam").partial_fit(X, y)
print(sorted(m for m in sys.modules if m.split(".")[0] == "tensorflow"))
"""


@second_pass
@pytest.mark.slow
def test_jax_never_imports_tensorflow():
    out = _run(NO_TENSORFLOW, "jax")
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_a_backend_skneuron_cannot_train_on_is_a_clear_error(tmp_path, backend):
    """Under a backend without an adapter, fit names the setting and the
    backends it trains on; predict of a fitted estimator still works, as it is
    NumPy. Keras is not imported: the error comes first."""
    path = tmp_path / "reg.pkl"
    X = np.eye(3)
    reg = NeuronRegressor(epochs=5, tol=None).fit(X, np.arange(3.0))
    path.write_bytes(pickle.dumps(reg))
    code = (
        "import pickle, numpy as np, skneuron;"
        f"reg = pickle.loads(open({str(path)!r}, 'rb').read());"
        "print(reg.predict(np.eye(3)).tolist());"
        "skneuron.NeuronRegressor().fit(np.eye(3), np.arange(3.0))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env=_env(backend), timeout=600,
    )  # fmt: skip
    expected = pickle.loads(path.read_bytes()).predict(X)
    np.testing.assert_array_equal(json.loads(out.stdout), expected)
    last = out.stderr.strip().splitlines()[-1]
    assert last == "RuntimeError: " + UNSUPPORTED.format(backend=backend)


def test_clones_fit_alike():
    """Two clones fitted one after the other give the same bits (the second
    reuses the first's program)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 5))
    y = X @ rng.normal(size=5)
    reg = NeuronRegressor(optimizer="rmsprop", learning_rate=0.01, epochs=50, tol=None)
    np.testing.assert_array_equal(clone(reg).fit(X, y).coef_, reg.fit(X, y).coef_)
