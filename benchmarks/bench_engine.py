"""The training engine: cost per epoch, compiled programs, grid searches, memory.

Run from the repository root, alone on the machine (it times things)::

    python benchmarks/bench_engine.py                 # everything, ~5 minutes
    python benchmarks/bench_engine.py --quick         # fewer repeats, no scikeras grid
    python benchmarks/bench_engine.py --out engine.md

Sections (each prints a Markdown table):

1. Programs: traces and XLA compiles made by a 5-fold ``cross_val_score`` and by the
   learning-rate grid below, per setup (run first, in a process that has trained
   nothing else).
2. Cost per epoch on ``load_diabetes`` standardized (442 x 10), fixed
   ``learning_rate=0.01``, ``tol=None``: NeuronRegressor on the rows
   (``precompute=False``), on their sums (``precompute=True``) and with mini-batches
   of 32, each beside a plain NumPy loop of the same epochs in this process. An
   epoch's cost is the difference of two fit times (3 000 and 13 000 epochs, 700
   and 3 200 with mini-batches; the best of a few repeats) divided by the epochs
   between them, so that fixed costs cancel.
3. First fit of a new setup, after TensorFlow is imported, each in a fresh process.
4. Grid searches, 5-fold, on ``make_pipeline(StandardScaler(), estimator)`` and the
   unscaled diabetes data: NeuronRegressor over ``learning_rate`` in
   [0.3, 0.1, 0.03, 0.01] and over ``alpha`` (5 values) with ``learning_rate="auto"``;
   the same number of candidates for LinearRegression (``fit_intercept`` x
   ``positive``), SGDRegressor (``eta0``) and scikeras' KerasRegressor with the
   neuron (``optimizer__learning_rate``, SGD, 200 epochs, batch 32). For
   NeuronRegressor, "cold" is the first grid in a fresh process where TensorFlow was
   started (on other data) but none of the grid's programs exists, "warm" the best
   of the same grid twice more.
5. 300 fits cycling through 1..30 features (what RFE does): resident memory and
   programs.
6. Ctrl-C: long fits of three kinds (Adam in mini-batches, Huber on rows, training
   on sums), each in a fresh process with TensorFlow started, get SIGINT at random
   moments in their first 3 s (the first call of the setup included); the time
   until it raises KeyboardInterrupt.
"""

import argparse
import os
import platform
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from datetime import datetime, timezone

import numpy as np
from _common import cpu_model, finish, skneuron_source  # benchmarks/ is on sys.path
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, SGDRegressor
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skneuron import NeuronRegressor

LEARNING_RATES = [0.3, 0.1, 0.03, 0.01]
# The script also measures skneuron 0.1.0 (copied into a checkout of it), which had
# no ``precompute`` and no engine counts: those rows are left out there.
SUMS = "precompute" in NeuronRegressor().get_params()
ROWS = "precompute=False" if SUMS else ""
ALPHAS = [1e-3, 1e-2, 1e-1, 1.0, 10.0]


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def engine_counts():
    from skneuron import _keras

    return dict(getattr(_keras, "counts", {}))


def finish_compiles():
    from skneuron import _keras

    getattr(_keras, "_finish_compiles", lambda: None)()


def diabetes(standardized):
    X, y = load_diabetes(return_X_y=True, scaled=False)
    if standardized:
        X = (X - X.mean(0)) / X.std(0)
    return X, y


# -- 1. cost per epoch ----------------------------------------------------------------
def numpy_epochs(X, y, epochs, rate, batch_size=None, sums=False, seed=0):
    """Plain NumPy gradient descent on the same standardized problem, with what
    the engine does each epoch: loss, gradient, step, gradient size, record."""
    Xs, ys = (X - X.mean(0)) / X.std(0), ((y - y.mean()) / y.std())[:, None]
    n, p = Xs.shape
    w, b, losses = np.zeros((p, 1)), np.zeros(1), np.empty(epochs)
    if sums:
        G, c, yy = Xs.T @ Xs / n, Xs.T @ ys / n, float((ys**2).sum()) / n
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        if sums:
            Gw = G @ w
            losses[epoch] = 0.5 * (yy - 2 * (c * w).sum() + (w * Gw).sum() + b[0] ** 2)
            gw, gb = Gw - c, b
        elif batch_size is None:
            r = ys - Xs @ w - b
            losses[epoch] = 0.5 * np.mean(r**2)
            gw, gb = -Xs.T @ r / n, -r.mean(0)
        else:
            order, total = rng.permutation(n), 0.0
            for start in range(0, n, batch_size):
                rows = order[start : start + batch_size]
                r = ys[rows] - Xs[rows] @ w - b
                total += 0.5 * np.sum(r**2)
                w -= rate * (-Xs[rows].T @ r / len(rows))
                b -= rate * (-r.mean(0))
            losses[epoch] = total / n
            continue
        np.sqrt(np.sum(gw**2) + np.sum(gb**2))
        w -= rate * gw
        b -= rate * gb
    return w


def per_epoch(fit, short=2000, long=12000, repeats=3):
    fit(short)  # traces, compiles
    a = min(timed(fit, short) for _ in range(repeats))
    b = min(timed(fit, long) for _ in range(repeats))
    return (b - a) / (long - short)


def timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def section_epochs(quick):
    X, y = diabetes(standardized=True)
    rows = [
        "| Epochs of | NeuronRegressor (µs/epoch) | NumPy loop (µs/epoch) | ratio |"
    ]
    rows.append("|---|---:|---:|---:|")
    repeats = 2 if quick else 4
    cases = [
        ("full batch, rows (`precompute=False`)", {"precompute": False}, {}),
        ("full batch, sums (`precompute=True`)", {"precompute": True}, {"sums": True}),
        ("mini-batches of 32 (shuffled)", {"batch_size": 32}, {"batch_size": 32}),
    ]
    if not SUMS:
        cases = [
            (label, {}, {}) if "rows" in label else (label, p, q)
            for label, p, q in cases
            if "sums" not in label
        ]
    for label, params, numpy_params in cases:
        # both fits long enough to run under XLA from their first step
        long, short = (13000, 3000) if "batch_size" not in params else (3200, 700)

        def neuron(epochs, params=params):
            NeuronRegressor(
                learning_rate=0.01, tol=None, epochs=epochs, random_state=0, **params
            ).fit(X, y)

        def loop(epochs, numpy_params=numpy_params):
            numpy_epochs(X, y, epochs, 0.01, **numpy_params)

        ours = per_epoch(neuron, short, long, repeats)
        theirs = per_epoch(loop, short // 5, long // 5, repeats)
        rows.append(
            f"| {label} | {ours * 1e6:.1f} | {theirs * 1e6:.1f} | {ours / theirs:.2f} |"
        )
    return "\n".join(rows)


# -- 2. programs --------------------------------------------------------------------
def section_programs():
    if not SUMS:
        return "(not counted by this version)"
    X, y = diabetes(standardized=False)
    rows = ["| Run | traces (graph / XLA) | XLA compiles | trainers |"]
    rows.append("|---|---:|---:|---:|")

    def measured(label, run):
        before = engine_counts()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            run()
        finish_compiles()
        after = engine_counts()
        diff = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        traces = f"{diff.get('graph traces', 0)} / {diff.get('xla traces', 0)}"
        rows.append(
            f"| {label} | {traces} | "
            f"{diff.get('xla compiles', 0)} | {diff.get('trainers', 0)} |"
        )

    pipe = make_pipeline(StandardScaler(), NeuronRegressor(learning_rate=0.05))
    measured(
        "5-fold CV, rows (353/354 rows per fold), fixed rate",
        lambda: cross_val_score(
            make_pipeline(
                StandardScaler(), NeuronRegressor(learning_rate=0.05, precompute=False)
            ),
            X,
            y,
            cv=5,
        ),
    )
    measured("5-fold CV, sums, fixed rate", lambda: cross_val_score(pipe, X, y, cv=5))
    measured(
        "learning-rate grid (4 x 5 folds + refit), default precompute",
        lambda: lr_grid(X, y),
    )
    return "\n".join(rows)


def lr_grid(X, y, **params):
    return GridSearchCV(
        make_pipeline(StandardScaler(), NeuronRegressor(**params)),
        {"neuronregressor__learning_rate": LEARNING_RATES},
        cv=5,
    ).fit(X, y)


# -- 3. first fit ---------------------------------------------------------------------
FIRST_FIT = """
import time, warnings, numpy as np
from sklearn.datasets import load_diabetes
import skneuron._keras  # TensorFlow imported: not timed
from skneuron import NeuronRegressor
X, y = load_diabetes(return_X_y=True, scaled=False)
warnings.simplefilter("ignore")
start = time.perf_counter()
NeuronRegressor({params}).fit(X, y)
first = time.perf_counter() - start
start = time.perf_counter()
NeuronRegressor({params}).fit(X, y)
print(first, time.perf_counter() - start)
"""


def section_first_fit(quick):
    rows = ["| Fit | first fit (s) | second fit (s) |", "|---|---:|---:|"]
    cases = [
        ("default (sums, ~325 epochs)", ""),
        ("rows (`precompute=False`)", "precompute=False"),
        ("fixed rate 0.01, 10 000 epochs", "learning_rate=0.01"),
        (
            "Adam 0.1, 200 epochs, batches of 32",
            "optimizer='adam', learning_rate=0.1, epochs=200, batch_size=32, tol=None",
        ),
    ]
    for label, params in cases:
        if "precompute" in params and not SUMS:
            continue
        runs = []
        for _ in range(1 if quick else 3):
            out = subprocess.run(
                [sys.executable, "-c", FIRST_FIT.format(params=params)],
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path[:2])},
            )
            runs.append([float(v) for v in out.stdout.split()])
        first = sorted(r[0] for r in runs)[len(runs) // 2]
        second = sorted(r[1] for r in runs)[len(runs) // 2]
        rows.append(f"| {label} | {first:.3f} | {second:.3f} |")
    return "\n".join(rows)


# -- 4. grid searches ----------------------------------------------------------------
def grid_time(estimator, grid, X, y, n=1):
    search = GridSearchCV(make_pipeline(StandardScaler(), estimator), grid, cv=5)
    times = []
    for _ in range(n):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            search.fit(X, y)
            times.append(time.perf_counter() - start)
    return times


COLD_GRID = """
import sys
sys.path.insert(0, "benchmarks")
from bench_engine import NeuronRegressor, diabetes, grid_time
X, y = diabetes(standardized=False)
NeuronRegressor(epochs=2, tol=None).fit(X[:, :3], y)  # TensorFlow started
print(*grid_time(NeuronRegressor(), {grid!r}, X, y, n=3))
"""


def cold_and_warm_grid(grid):
    """A NeuronRegressor grid three times in a fresh process (TensorFlow started
    there first): the first is cold, its programs new to the process."""
    out = subprocess.run(
        [sys.executable, "-c", COLD_GRID.format(grid=grid)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path[:2])},
    )
    return [float(v) for v in out.stdout.split()]


def section_grids(quick):
    X, y = diabetes(standardized=False)
    rows = [
        "| Grid (5-fold) | candidates | cold (s) | warm (s) |",
        "|---|---:|---:|---:|",
    ]
    results = {}
    cases = [
        (
            "NeuronRegressor, learning_rate",
            NeuronRegressor(),
            {"neuronregressor__learning_rate": LEARNING_RATES},
        ),
        (
            "NeuronRegressor, alpha (learning_rate='auto')",
            NeuronRegressor(),
            {"neuronregressor__alpha": ALPHAS},
        ),
        (
            "LinearRegression, fit_intercept x positive",
            LinearRegression(),
            {
                "linearregression__fit_intercept": [True, False],
                "linearregression__positive": [True, False],
            },
        ),
        (
            "SGDRegressor, eta0",
            SGDRegressor(random_state=0),
            {"sgdregressor__eta0": LEARNING_RATES},
        ),
    ]
    if not quick:
        try:
            from scikeras.wrappers import KerasRegressor

            from skneuron import neuron_model

            keras_regressor = KerasRegressor(
                model=neuron_model,
                optimizer="sgd",
                loss="mean_squared_error",
                epochs=200,
                batch_size=32,
                verbose=0,
                random_state=0,
            )
            cases.append(
                (
                    "scikeras KerasRegressor(neuron_model), SGD, 200 epochs, "
                    "batch 32, optimizer__learning_rate",
                    keras_regressor,
                    {"kerasregressor__optimizer__learning_rate": LEARNING_RATES},
                )
            )
        except ImportError:
            pass
    for label, estimator, grid in cases:
        n_candidates = int(np.prod([len(v) for v in grid.values()]))
        if label.startswith("NeuronRegressor"):  # cold: a fresh process
            times = cold_and_warm_grid(grid)
        else:
            scikeras = "scikeras" in label
            times = grid_time(estimator, grid, X, y, n=1 if scikeras else 3)
        warm = min(times[1:]) if len(times) > 1 else float("nan")
        results[label] = (times[0], warm)
        rows.append(f"| {label} | {n_candidates} | {times[0]:.2f} | {warm:.2f} |")
    lr = results["NeuronRegressor, learning_rate"]
    keras_label = next((k for k in results if "scikeras" in k), None)
    if keras_label:
        ratio = results[keras_label][0] / lr[1]
        rows.append(
            f"\nscikeras / NeuronRegressor (warm), learning-rate grid: {ratio:.0f}x"
        )
    return "\n".join(rows)


# -- 5. many setups -----------------------------------------------------------------
def section_setups(n_fits=300):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(442, 30))
    y = X @ rng.normal(size=30) + rng.normal(size=442)
    before = engine_counts()
    rss, times = [], []
    for i in range(n_fits):
        p = 1 + i % 30
        start = time.perf_counter()
        NeuronRegressor().fit(X[:, :p], y)
        times.append(time.perf_counter() - start)
        if i == 29:
            finish_compiles()
        rss.append(rss_mb())
    finish_compiles()
    after = engine_counts()
    diff = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    trainers, traces = diff.get("trainers", 0), diff.get("graph traces", 0)
    compiles = diff.get("xla compiles", 0)
    first, last = np.median(times[:30]) * 1e3, np.median(times[-30:]) * 1e3
    return "\n".join(
        [
            "| Measure | value |",
            "|---|---:|",
            f"| RSS after fit 30 / 150 / {n_fits} (MB) | "
            f"{rss[29]:.0f} / {rss[149]:.0f} / {rss[-1]:.0f} |",
            f"| RSS growth, fit 30 -> {n_fits} (MB) | {rss[-1] - rss[29]:+.1f} |",
            f"| median fit time, first 30 / last 30 (ms) | {first:.1f} / {last:.1f} |",
            f"| trainers built / graph traces / XLA compiles | "
            f"{trainers} / {traces} / {compiles} |",
        ]
    )


# -- 6. Ctrl-C --------------------------------------------------------------------
INTERRUPTED = """
import sys, time, numpy as np
import skneuron._keras  # TensorFlow started; the setup below is new to the process
from skneuron import NeuronRegressor
rng = np.random.default_rng(0)
n, p = (2000, 200) if sys.argv[1] == "sums" else (20000, 20)
X = rng.normal(size=(n, p)); y = X @ rng.normal(size=p) + rng.normal(size=n)
reg = NeuronRegressor(tol=None, **{KINDS}[sys.argv[1]])
print("ready", flush=True)
start = time.monotonic()
try:
    reg.fit(X, y)
    print("finished", time.monotonic() - start, flush=True)
except KeyboardInterrupt:
    print(time.monotonic(), hasattr(reg, "coef_"), flush=True)
"""
KINDS = {
    "Adam, mini-batches": dict(
        optimizer="adam", learning_rate=1e-3, batch_size=64, epochs=10**6
    ),
    "Huber, rows": dict(loss="huber", learning_rate=0.01, epochs=10**6),
    "squared, sums": dict(learning_rate=0.01, epochs=10**7),
}


def section_interrupt(repeats=4, seed=0):
    """Each kind of fit, interrupted at ``repeats`` moments drawn from 0..3 s after
    it starts: its first call (trace, XLA compile) included."""
    rng = np.random.default_rng(seed)
    code = INTERRUPTED.replace("{KINDS}", repr(KINDS))
    rows = ["| Fit | SIGINT after (s) | to KeyboardInterrupt (s) | untouched |"]
    rows.append("|---|---:|---:|---|")
    delays = []
    for kind in KINDS:
        for moment in rng.uniform(0, 3, repeats):
            proc = subprocess.Popen(
                [sys.executable, "-c", code, kind],
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path[:2])},
            )
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(moment)
            sent = time.monotonic()
            proc.send_signal(signal.SIGINT)
            line = proc.stdout.readline().split()
            proc.wait(timeout=600)
            delays.append(float(line[0]) - sent)
            untouched = line[1] == "False"
            rows.append(f"| {kind} | {moment:.2f} | {delays[-1]:.3f} | {untouched} |")
    rows.append(
        f"\nMedian {np.median(delays):.3f} s, maximum {max(delays):.3f} s "
        f"over {len(delays)} interrupts."
    )
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out")
    parser.add_argument("--only", type=int, nargs="*", help="section numbers to run")
    args = parser.parse_args()
    load_before = os.getloadavg()
    started = time.perf_counter()
    source = skneuron_source()
    NeuronRegressor(epochs=2, tol=None).fit(*diabetes(standardized=False))  # starts TF
    import keras
    import tensorflow as tf

    text = textwrap.dedent(f"""\
        # Engine benchmark ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)

        {source}; Python {platform.python_version()}, NumPy {np.__version__},
        TensorFlow {tf.__version__}, Keras {keras.__version__}; {cpu_model()},
        {os.cpu_count()} CPUs.
        """)
    sections = [
        ("1. Programs traced and compiled", section_programs),  # first: fresh
        (
            "2. Cost per epoch (diabetes standardized, 442 x 10)",
            lambda: section_epochs(args.quick),
        ),
        (
            "3. First fit of a new setup, TensorFlow imported (fresh process each)",
            lambda: section_first_fit(args.quick),
        ),
        ("4. Grid searches on unscaled diabetes", lambda: section_grids(args.quick)),
        ("5. 300 fits cycling through 1..30 features", section_setups),
        ("6. Ctrl-C during a long fit", section_interrupt),
    ]
    for title, run in sections:
        if args.only and int(title.split(".")[0]) not in args.only:
            continue
        text += f"\n## {title}\n\n{run()}\n"
        print(f"done: {title}", file=sys.stderr)
    return finish(
        text,
        total=time.perf_counter() - started,
        load_before=load_before,
        source=source,
        out=args.out,
    )


if __name__ == "__main__":
    sys.exit(main())
