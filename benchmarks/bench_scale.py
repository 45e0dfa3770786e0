"""Scale: fit time, memory and exactness as the data grows, beside scikit-learn.

Run from the repository root, alone on the machine::

    python benchmarks/bench_scale.py                  # all sizes, ~15 minutes
    python benchmarks/bench_scale.py --quick          # up to 1e6 rows
    python benchmarks/bench_scale.py --out scale.md

Every fit runs in a fresh process, which imports TensorFlow, records its resident
memory (the baseline), makes the data (float32 X, float64 y, in blocks from a fixed
seed), resets the kernel's record of its peak memory (VmHWM), times ``fit`` and
reports that peak above the baseline: the data's own size is part of it. Sizes: n
in {1e4, 1e5, 1e6, 1e7} rows x 32 features, and p in {8, 128, 1024} features at 1e5
rows; then 100 x 6000
(more features than rows). Methods: ``NeuronRegressor()`` (which trains on the sums
of the rows here), ``LinearRegression()`` and ``SGDRegressor()``, all with default
parameters (SGDRegressor only up to 32 million values: see ``SGD_LIMIT``).

The error is the largest relative difference of the coefficients from float64
least squares, computed here independently of skneuron by a blockwise QR
factorization (TSQR) of [X, 1, y] in float64. For 100 x 6000 the reference is
the minimum-norm least-squares solution, by ``numpy.linalg.lstsq`` in float64.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from datetime import datetime, timezone

import numpy as np
from _common import cpu_model, finish, skneuron_source  # benchmarks/ is on sys.path

BLOCK = 2**16  # rows made (and factored) at a time
# SGDRegressor's default 1000 epochs of per-sample steps take over a minute at
# 1e6 x 32 and would take tens of minutes beyond: it is left out above this size.
SGD_LIMIT = 32 * 10**6


def make_data(n, p, seed=0):
    """float32 X (columns of mixed scales and offsets) and float64 y, in blocks."""
    rng = np.random.default_rng([seed, p])
    scales = np.logspace(-1, 1, p).astype(np.float32)
    offsets = rng.uniform(-5, 5, p).astype(np.float32)
    beta = rng.normal(size=p) / scales
    X = np.empty((n, p), dtype=np.float32)
    y = np.empty(n)
    for k, start in enumerate(range(0, n, BLOCK)):
        block = np.random.default_rng([seed, p, k])
        rows = X[start : start + BLOCK]
        block.standard_normal(rows.shape, dtype=np.float32, out=rows)
        rows *= scales
        rows += offsets
        y[start : start + BLOCK] = rows @ beta + 2.0 + block.normal(size=len(rows))
    return X, y


def least_squares(X, y):
    """coef and intercept of float64 least squares, by a blockwise QR of [X, 1, y]."""
    n, p = X.shape
    R = np.zeros((0, p + 2))
    for start in range(0, n, BLOCK):
        rows = X[start : start + BLOCK].astype(np.float64)
        A = np.column_stack([rows, np.ones(len(rows)), y[start : start + BLOCK]])
        R = np.linalg.qr(np.vstack([R, A]), mode="r")
    solution = np.linalg.solve(R[: p + 1, : p + 1], R[: p + 1, p + 1])
    return solution[:p], solution[p]


def reset_peak():
    """Start the kernel's record of this process's peak memory (VmHWM) afresh."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def one(method, n, p):
    """In a fresh process: baseline after TensorFlow, data, fit; JSON out."""
    from sklearn.linear_model import LinearRegression, SGDRegressor

    import skneuron._keras  # noqa: F401  TensorFlow started: the baseline
    from skneuron import NeuronRegressor

    baseline = rss_mb()
    X, y = make_data(n, p)
    reset_peak()  # making the data took temporaries: not the fit's
    estimator = {
        "NeuronRegressor": NeuronRegressor,
        "LinearRegression": LinearRegression,
        "SGDRegressor": SGDRegressor,
    }[method]()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - start
    peak = peak_mb()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "baseline": baseline,
                "peak": peak,
                "data": (X.nbytes + y.nbytes) / 2**20,
                "coef": np.ravel(estimator.coef_).tolist(),
                "intercept": float(np.ravel(estimator.intercept_)[0]),
                "warnings": sorted({type(w.message).__name__ for w in caught}),
            }
        )
    )


def run(method, n, p):
    out = subprocess.run(
        [sys.executable, __file__, "--one", method, str(n), str(p)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path[:2])},
    )
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(sizes, methods):
    rows = [
        "| n x p | data (MB) | method | fit (s) | x LinearRegression | "
        "peak above baseline (MB) | rel. error vs float64 lstsq | warnings |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for n, p in sizes:
        X, y = make_data(n, p)
        coef, intercept = least_squares(X, y)
        del X, y
        results = {
            method: run(method, n, p)
            for method in methods
            if not (method == "SGDRegressor" and n * p > SGD_LIMIT)
        }
        reference = results["LinearRegression"].get("seconds", np.nan)
        for method, r in results.items():
            if "error" in r:
                rows.append(f"| {n:.0e} x {p} | | {method} | failed: {r['error']} |")
                continue
            error = max(
                np.max(np.abs(np.array(r["coef"]) - coef) / np.abs(coef)),
                abs(r["intercept"] - intercept) / abs(intercept),
            )
            rows.append(
                f"| {n:.0e} x {p} | {r['data']:.0f} | {method} | {r['seconds']:.2f} | "
                f"{r['seconds'] / reference:.2f} | {r['peak'] - r['baseline']:.0f} | "
                f"{error:.1e} | {', '.join(r['warnings'])} |"
            )
    return "\n".join(rows)


def wide():
    """100 x 6000: time, and the distance from the minimum-norm least-squares
    answer, computed here in float64 (LinearRegression solves float32 X in
    float32, which is not that answer to many digits)."""
    n, p = 100, 6000
    X, y = make_data(n, p)
    X = X.astype(np.float64)
    coef = np.linalg.lstsq(X - X.mean(0), y - y.mean(), rcond=None)[0]
    rows = [
        "| method | fit (s) | coefficients vs float64 minimum norm |",
        "|---|---:|---:|",
    ]
    for method in ["NeuronRegressor", "LinearRegression"]:
        r = run(method, n, p)
        error = np.max(np.abs(np.array(r["coef"]) - coef)) / np.max(np.abs(coef))
        rows.append(f"| {method} | {r['seconds']:.2f} | {error:.1e} |")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return one(args.one[0], int(args.one[1]), int(args.one[2]))
    load_before = os.getloadavg()
    started = time.perf_counter()
    source = skneuron_source()
    rows_sizes = [10**4, 10**5, 10**6] + ([] if args.quick else [10**7])
    methods = ["NeuronRegressor", "LinearRegression", "SGDRegressor"]
    text = (
        f"# Scale benchmark ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)\n\n"
        f"{source}; Python {platform.python_version()}, NumPy {np.__version__}; "
        f"{cpu_model()}, {os.cpu_count()} CPUs.\n"
    )
    text += "\n## Rows (32 features)\n\n" + table(
        [(n, 32) for n in rows_sizes], methods
    )
    text += "\n\n## Features (1e5 rows)\n\n" + table(
        [(10**5, p) for p in (8, 128, 1024)], methods
    )
    text += "\n\n## More features than rows (100 x 6000)\n\n" + wide() + "\n"
    return finish(
        text,
        total=time.perf_counter() - started,
        load_before=load_before,
        source=source,
        out=args.out,
    )


if __name__ == "__main__":
    sys.exit(main())
