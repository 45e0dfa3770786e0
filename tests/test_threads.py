"""Calls from many threads at once finish, and give the same bits as one by one.

Threads are how scikit-learn users parallelise (joblib's threading backend, Dask's
threaded scheduler, web servers). The calls run in a child process, so that a
deadlock fails the test at its timeout instead of hanging the suite.
"""

import json
import subprocess
import sys

import pytest

WORKLOAD = r"""
import hashlib, json, sys, warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from skneuron import NeuronRegressor

warnings.simplefilter("ignore")  # ConvergenceWarning of the short fits
rng = np.random.default_rng(0)
X = rng.normal(size=(120, 9)) * [1, 10, 100, 1, 1, 1, 1, 1, 1]
y = X @ rng.normal(size=9) + rng.normal(size=120)
SETTINGS = [
    dict(),  # the default: the squared loss on sums
    dict(precompute=False, fit_intercept=False),  # on rows
    dict(loss="absolute_error", epochs=30),  # a curvature test in a tf.cond
    dict(loss="huber", fit_intercept=False, epochs=30),
    # shuffled mini-batches: the same order only with a fixed random_state
    dict(optimizer="adam", learning_rate=0.05, batch_size=16, epochs=4, tol=None,
         random_state=0),
    dict(optimizer="rmsprop", learning_rate=0.01, batch_size=50, epochs=3,
         loss="huber", tol=None, random_state=1),
]


def digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


def call(task):
    kind, i, p = task
    params = SETTINGS[i]
    Xp = X[:, :p]
    if kind == "fit":
        reg = NeuronRegressor(**params).fit(Xp, y)
    else:  # partial_fit over three chunks
        reg = NeuronRegressor(**params)
        for rows in np.array_split(np.arange(len(y)), 3):
            reg.partial_fit(Xp[rows], y[rows])
    out = [reg.coef_, reg.intercept_, reg.predict(Xp), reg.score(Xp, y)]
    if kind == "fit" and params.get("loss", "squared_error") == "squared_error":
        out += [s.bse for s in np.atleast_1d(reg.summary())]
    return digest(*out)


TASKS = [
    (kind, i, p)
    for kind in ("fit", "partial_fit")
    for i in range(len(SETTINGS))
    for p in (3, 9)
    if kind == "fit" or i in (0, 3)
]
one_by_one = [call(t) for t in TASKS]
report = {}
for threads in map(int, sys.argv[1:]):
    with ThreadPoolExecutor(threads) as pool:
        report[threads] = list(pool.map(call, TASKS + TASKS))
print(json.dumps({"one_by_one": one_by_one, "threads": report}))
"""


@pytest.mark.slow
def test_calls_in_4_and_8_threads_finish_with_the_same_bits():
    """Fits (every loss, with and without intercept, 3 and 9 features, full
    batches and mini-batches, SGD, Adam and RMSprop), partial_fit streams,
    predict, score and summary: each task twice, in 4 threads, then in 8.

    One by one they take about 10 s here; the timeout allows for a loaded
    machine ten times slower than that."""
    try:
        out = subprocess.run(
            [sys.executable, "-c", WORKLOAD, "4", "8"],
            capture_output=True,
            text=True,
            timeout=600,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("calls in threads did not finish in 600 s: a deadlock")
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    expected = result["one_by_one"] * 2
    for threads, digests in result["threads"].items():
        differ = [
            i for i, (a, b) in enumerate(zip(digests, expected, strict=True)) if a != b
        ]
        assert not differ, f"{threads} threads: tasks {differ} differ"
