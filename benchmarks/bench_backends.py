"""Keras backends: the training engine on TensorFlow and on JAX, side by side.

Run from the repository root, alone on the machine (it times things)::

    python benchmarks/bench_backends.py                # about 3 minutes on 2 cores
    python benchmarks/bench_backends.py --quick        # fewer repeats, about 2
    python benchmarks/bench_backends.py --out backends.md

Keras fixes its backend once per process, so every measurement runs in fresh child
processes, started with ``KERAS_BACKEND=tensorflow`` or ``KERAS_BACKEND=jax``; a
child prints its results as JSON on its last line of output. Children of the two
backends alternate (TF first, then JAX first, ...), and every figure compared is a
ratio of two figures measured in the same run. Sections (each prints a Markdown
table):

1. Cold start: the wall time of a fresh ``python -c`` process that loads
   ``load_diabetes(return_X_y=True, scaled=False)``, then imports skneuron and runs
   the first default fit ``NeuronRegressor().fit(X, y)``; inside it, the time of
   ``import skneuron``, of importing the engine (``skneuron._keras``, which is what
   the first fit imports: Keras, TensorFlow or JAX, the adapter) and of the fit.
   ``--repeat`` processes per backend (3 with ``--quick``).
2. Cost per epoch on ``load_diabetes`` standardized (442 x 10), fixed
   ``learning_rate=0.01``, ``tol=None``: on the rows (``precompute=False``), on
   their sums (default ``precompute``) and in mini-batches of 32 on the rows. An
   epoch's cost is (t_long - t_short) / (E_long - E_short) for a pair of fits of
   3 000 and 13 000 epochs (700 and 3 200 in mini-batches), timed one after the
   other after a warm-up fit; median (min, max) over the pairs of two children per
   backend (one with ``--quick``). Every one of these fits has at least 2 048 steps,
   so on TensorFlow it runs under XLA from its first step: the TensorFlow figures
   are TensorFlow's XLA.
3. 300 default fits cycling through 1..30 features (what RFE does) on
   X = normal(200 x 30), y linear plus noise, in one child per backend: resident
   memory (VmRSS) after each cycle of 30 fits, the time of every fit, then 100 fits
   with all 30 features (one shape, warm) for comparison, and the programs the
   engine traced (``_keras.counts``, after ``_keras._finish_compiles()``).
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

import _common  # noqa: F401  (puts this checkout first on sys.path)

ROOT = str(pathlib.Path(__file__).resolve().parents[1])
BACKENDS = ("tensorflow", "jax")
NAMES = {"tensorflow": "TensorFlow", "jax": "JAX"}
TIMEOUT = 600  # seconds a child may take before it counts as hung

COLD = f"""
import json, sys, time
started = time.perf_counter()
sys.path.insert(1, {ROOT!r})
from sklearn.datasets import load_diabetes
X, y = load_diabetes(return_X_y=True, scaled=False)
t0 = time.perf_counter()
import skneuron
t1 = time.perf_counter()
import skneuron._keras  # what the first fit imports: Keras, its backend, the adapter
t2 = time.perf_counter()
model = skneuron.NeuronRegressor().fit(X, y)
t3 = time.perf_counter()
import numpy as np
from sklearn.linear_model import LinearRegression
exact = LinearRegression().fit(X, y).coef_
error = float(np.abs(model.coef_ - exact).max() / np.abs(exact).max())
print(json.dumps(dict(
    data=t0 - started, skneuron=t1 - t0, backend=t2 - t1,
    fit=t3 - t2, timed=t3 - t0, n_iter=int(model.n_iter_), coef_error=error,
    finite=bool(np.isfinite(model.coef_).all()),
    keras=skneuron._keras.keras.backend.backend(),
    tensorflow_loaded="tensorflow" in sys.modules,
)))
"""


# -- children ----------------------------------------------------------------------
def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def traces():
    from skneuron import _keras

    _keras._finish_compiles()
    counts = dict(_keras.counts)
    return sum(v for k, v in counts.items() if k.endswith("traces")), counts


def timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


EPOCH_CASES = [  # name, estimator parameters, short and long epochs
    ("full batch, rows (`precompute=False`)", {"precompute": False}, 3000, 13000),
    ("full batch, sums (default `precompute`)", {}, 3000, 13000),
    ("mini-batches of 32, rows", {"precompute": False, "batch_size": 32}, 700, 3200),
]


def child_epochs(pairs):
    import warnings

    import numpy as np
    from sklearn.datasets import load_diabetes

    from skneuron import NeuronRegressor

    warnings.simplefilter("ignore")
    X, y = load_diabetes(return_X_y=True, scaled=False)
    X = (X - X.mean(0)) / X.std(0)
    NeuronRegressor().fit(X, y)  # starts the backend
    out = {}
    for name, params, short, long in EPOCH_CASES:

        def fit(epochs, params=params):
            model = NeuronRegressor(
                tol=None, epochs=epochs, learning_rate=0.01, **params
            ).fit(X, y)
            assert np.isfinite(model.coef_).all(), "coefficients not finite"

        first_short = timed(fit, short)  # traces, compiles
        first_long = timed(fit, long)
        costs = []
        for i in range(pairs):
            if i % 2:  # alternate which of the two goes first
                b, a = timed(fit, long), timed(fit, short)
            else:
                a, b = timed(fit, short), timed(fit, long)
            costs.append((b - a) / (long - short))
        out[name] = dict(costs=costs, first=[first_short, first_long])
    out["traces"], out["counts"] = traces()
    return out


def child_shapes(fits, one_shape):
    import warnings

    import numpy as np

    from skneuron import NeuronRegressor

    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 30))
    y = X @ rng.normal(size=30) + 1.0 + 0.1 * rng.normal(size=200)
    rss_start = rss_mb()
    times, rss, finite = [], [], True
    for i in range(fits):
        p = i % 30 + 1
        start = time.perf_counter()
        model = NeuronRegressor().fit(X[:, :p], y)
        times.append(time.perf_counter() - start)
        finite &= bool(np.isfinite(model.coef_).all())
        if (i + 1) % 30 == 0:
            rss.append(rss_mb())
    n_traces, counts = traces()
    rss_after_compiles = rss_mb()
    single = []
    for _ in range(one_shape):
        start = time.perf_counter()
        model = NeuronRegressor().fit(X, y)
        single.append(time.perf_counter() - start)
        finite &= bool(np.isfinite(model.coef_).all())
    return dict(
        times=times, rss=rss, rss_start=rss_start, single=single, traces=n_traces,
        counts=counts, rss_after_compiles=rss_after_compiles,
        traces_after=traces()[0], finite=finite,
    )  # fmt: skip


# -- the parent --------------------------------------------------------------------
def run(backend, args):
    """Run a child (``args``: the argv after ``python``) on ``backend``; its JSON
    result, with ``wall`` (seconds), or ``{"error": ...}``."""
    env = {**os.environ, "KERAS_BACKEND": backend}
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, *args], env=env, capture_output=True, text=True,
            timeout=TIMEOUT, cwd=ROOT,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"error": f"no answer after {TIMEOUT} s (hung?)"}
    wall = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (done.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        return {"error": f"exit {done.returncode}: {tail}"}
    result["wall"] = wall
    return result


def child(kind, quick):
    argv = [str(pathlib.Path(__file__).resolve()), "--child", kind]
    return argv + (["--quick"] if quick else [])


def orders(n):
    """Backends in alternating order, n rounds."""
    return [BACKENDS if i % 2 == 0 else BACKENDS[::-1] for i in range(n)]


def spread(values, scale=1.0, digits=2):
    if not values:
        return "failed"
    values = [v * scale for v in values]
    med, lo, hi = statistics.median(values), min(values), max(values)
    return f"{med:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"


def ratio(a, b):
    if not a or not b:
        return "-"
    return f"{statistics.median(b) / statistics.median(a):.2f}"


def section_cold(repeat, problems):
    results = {b: [] for b in BACKENDS}
    for order in orders(repeat):
        for backend in order:
            result = run(backend, ["-c", COLD])
            if "error" in result:
                problems.append(f"cold start, {backend}: {result['error']}")
            else:
                results[backend].append(result)
    tf, jx = results["tensorflow"], results["jax"]
    lines = [
        f"### 1. Cold start: fresh process, `import skneuron`, first default fit "
        f"(unscaled diabetes; {repeat} processes per backend)",
        "",
        "| Seconds, median (min-max) | TensorFlow | JAX | JAX / TF |",
        "|---|---:|---:|---:|",
    ]
    for key, label in [
        ("wall", "whole process (`python -c`, wall clock)"),
        ("timed", "import skneuron + engine + first fit"),
        ("skneuron", "`import skneuron`"),
        ("backend", "engine import (Keras and its backend)"),
        ("fit", "first default fit"),
    ]:
        a, b = [r[key] for r in tf], [r[key] for r in jx]
        lines.append(f"| {label} | {spread(a)} | {spread(b)} | {ratio(a, b)} |")
    for r in tf + jx:
        if r["keras"] not in BACKENDS or not r["finite"]:
            problems.append(f"cold start: backend {r['keras']}, finite {r['finite']}")
    if any(r["tensorflow_loaded"] for r in jx):
        problems.append("cold start: TensorFlow was imported in a JAX process")
    summary = []
    for name, rs in [("TensorFlow", tf), ("JAX", jx)]:
        if rs:
            its = sorted({r["n_iter"] for r in rs})
            err = max(r["coef_error"] for r in rs)
            summary.append(f"{name} {'/'.join(map(str, its))} epochs, "
                           f"coef_ within {err:.1e} of LinearRegression")  # fmt: skip
    lines += ["", "First fit: " + "; ".join(summary) + "."]
    return lines


def section_epochs(quick, problems):
    pooled = {b: {} for b in BACKENDS}
    extras = {b: [] for b in BACKENDS}
    for order in orders(1 if quick else 2):
        for backend in order:
            result = run(backend, child("epochs", quick))
            if "error" in result:
                problems.append(f"cost per epoch, {backend}: {result['error']}")
                continue
            extras[backend].append(result)
            for name, *_ in EPOCH_CASES:
                pooled[backend].setdefault(name, []).extend(result[name]["costs"])
    pairs = len(next(iter(pooled["tensorflow"].values()), []))
    lines = [
        "### 2. Cost per epoch (diabetes standardized, 442 x 10, learning rate 0.01)",
        "",
        f"µs per epoch, median (min-max) of {pairs} pairs of fits per backend; "
        "TensorFlow runs all of these fits under XLA.",
        "",
        "| Epochs of | short / long fit (epochs) | TensorFlow (XLA) | JAX | JAX / TF |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, _, short, long in EPOCH_CASES:
        a, b = pooled["tensorflow"].get(name, []), pooled["jax"].get(name, [])
        lines.append(
            f"| {name} | {short} / {long} | {spread(a, 1e6, 1)} | "
            f"{spread(b, 1e6, 1)} | {ratio(a, b)} |"
        )
    lines += ["", "| First fits of each setup in a child (s) | TensorFlow | JAX |",
              "|---|---:|---:|"]  # fmt: skip
    for name, _, short, long in EPOCH_CASES:
        cells = []
        for backend in BACKENDS:
            firsts = [r[name]["first"] for r in extras[backend]]
            cells.append(", ".join(f"{s:.2f} / {t:.2f}" for s, t in firsts) or "failed")
        lines.append(f"| {name}: {short} then {long} epochs | {' | '.join(cells)} |")
    counts = [
        "/".join(str(r["traces"]) for r in extras[backend]) or "-"
        for backend in BACKENDS
    ]
    lines.append(f"| programs traced, per child | {' | '.join(counts)} |")
    return lines


def section_shapes(quick, problems):
    results = {}
    for backend in BACKENDS[::-1]:  # JAX first here (TF first in sections 1, 2)
        result = run(backend, child("shapes", quick))
        if "error" in result:
            problems.append(f"300 fits, {backend}: {result['error']}")
        else:
            results[backend] = result
            if not result["finite"]:
                problems.append(f"300 fits, {backend}: coefficients not finite")
    if not results:
        return ["### 3. 300 fits cycling through 1..30 features", "", "failed"]
    any_result = next(iter(results.values()))
    cycles, fits = len(any_result["rss"]), len(any_result["times"])
    last = 3 if cycles >= 6 else 1
    lines = [
        f"### 3. {fits} fits cycling through 1..30 features (200 rows, default fit)",
        "",
        "| Measure | TensorFlow | JAX |",
        "|---|---:|---:|",
    ]

    def row(label, fn):
        cells = [fn(results[b]) if b in results else "failed" for b in BACKENDS]
        lines.append(f"| {label} | {' | '.join(cells)} |")

    def ms(values):
        return statistics.median(values) * 1e3

    def cycling(r):
        return ms(r["times"][-30 * last :])

    row("RSS before the fits (MB)", lambda r: f"{r['rss_start']:.0f}")
    row(
        "RSS after cycle 1 / 2 / last (MB)",
        lambda r: f"{r['rss'][0]:.0f} / {r['rss'][1]:.0f} / {r['rss'][-1]:.0f}",
    )
    row(
        f"RSS growth, cycle 2 -> {cycles} (MB)",
        lambda r: f"{r['rss'][-1] - r['rss'][1]:+.1f}",
    )
    row("median fit, cycle 1 (ms)", lambda r: f"{ms(r['times'][:30]):.1f}")
    row(f"median fit, last {last} cycles (ms)", lambda r: f"{cycling(r):.1f}")
    row(
        f"median fit, one shape (30 features, {len(any_result['single'])} warm fits, "
        "ms)",
        lambda r: f"{ms(r['single']):.1f}",
    )
    row(
        "cycling / one shape (at most 4)",
        lambda r: f"{cycling(r) / ms(r['single']):.2f}",
    )
    row("slowest fit after cycle 1 (ms)", lambda r: f"{max(r['times'][30:]) * 1e3:.0f}")
    row("programs traced (all `... traces` counts)", lambda r: f"{r['traces']}")
    row("engine counts", lambda r: ", ".join(
        f"{k} {v}" for k, v in sorted(r["counts"].items())))  # fmt: skip
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--repeat", type=int, help="cold-start processes per backend")
    parser.add_argument("--out")
    parser.add_argument("--child", choices=["epochs", "shapes"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "epochs":
        print(json.dumps(child_epochs(pairs=3 if args.quick else 5)))
        return 0
    if args.child == "shapes":
        print(json.dumps(child_shapes(300, 50 if args.quick else 100)))
        return 0
    load_before, started = os.getloadavg(), time.perf_counter()
    source = _common.skneuron_source()
    from importlib.metadata import version

    problems = []
    lines = [
        f"# Keras backends (bench_backends.py), {_common.cpu_model()}",
        "",
        f"TensorFlow {version('tensorflow')}, JAX {version('jax')}, Keras "
        f"{version('keras')}; each backend in its own fresh processes, "
        "TF and JAX alternating.",
        "",
    ]
    lines += section_cold(args.repeat or (3 if args.quick else 5), problems)
    lines += [""] + section_epochs(args.quick, problems)
    lines += [""] + section_shapes(args.quick, problems)
    if problems:
        lines += ["", "Problems:", ""] + [f"- {p}" for p in problems]
    total = time.perf_counter() - started
    text = "\n".join(lines) + f"\n\n{source}"
    return _common.finish(text, total=total, load_before=load_before,
                          source=source, out=args.out)  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
