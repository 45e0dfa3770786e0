"""Streams: partial_fit over re-shuffled passes, and over a long stream of chunks.

Run from the repository root, alone on the machine::

    python benchmarks/bench_stream.py                 # about 5 minutes on 2 cores
    python benchmarks/bench_stream.py --quick         # 2 000 chunks, 10 passes
    python benchmarks/bench_stream.py --out stream.md

(a) Re-shuffled passes. Unscaled diabetes (``load_diabetes(return_X_y=True,
scaled=False)``, 442 x 10): on every pass its rows are drawn in a new order
(``numpy.random.default_rng(0)``) and cut into 9 chunks, which a
``NeuronRegressor()`` takes by ``partial_fit``, as a shuffling data loader hands
them out. After some passes: the relative error of ``coef_`` against
``NeuronRegressor().fit(X, y)`` and against float64 least squares
(``numpy.linalg.lstsq`` on ``[X, 1]``), the largest ``|a - b|`` over the
coefficients divided by the largest ``|b|``; ``n_iter_``; and the median time of
a call during that pass, wall-clock and CPU (``time.process_time``, all threads:
less sensitive to other load on the machine).

(b) A long stream. ``--chunks`` chunks of 100 x 8 rows, every one new (from
``numpy.random.default_rng([1, k])`` for chunk k: columns of mixed scales and
offsets, y linear in them plus noise), each passed once to a ``NeuronRegressor()``
by ``partial_fit``. At checkpoints: the median time of the 100 calls before it
(wall-clock and CPU), the size of the pickled estimator
(``len(pickle.dumps(reg))``), and the relative error of ``coef_`` against float64
least squares on all the rows so far (from a running QR factorization of ``[X, 1,
y]``, made here independently of skneuron).

Both start after a warm-up fit on another shape (40 x 3), which imports
TensorFlow.
"""

import argparse
import os
import pickle
import platform
import statistics
import sys
import time
import warnings
from datetime import datetime, timezone

import numpy as np
from _common import cpu_model, finish, skneuron_source  # benchmarks/ is on sys.path
from sklearn.datasets import load_diabetes

from skneuron import NeuronRegressor

N_CHUNKS = 9  # chunks per pass over diabetes
CHUNK_ROWS, FEATURES = 100, 8  # the long stream's chunks
WINDOW = 100  # calls timed before each checkpoint of the long stream


def relative(coef, reference):
    """The largest |a - b| over the coefficients, over the largest |b|."""
    return float(np.abs(coef - reference).max() / np.abs(reference).max())


def timed(call):
    """Wall-clock and CPU seconds of ``call()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def medians(times):
    """Median wall-clock and CPU seconds of (wall, cpu) pairs."""
    return tuple(statistics.median(column) for column in zip(*times, strict=True))


def warm_up():
    """Import TensorFlow via a fit on another shape."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    start = time.perf_counter()
    NeuronRegressor().fit(X, X @ [1.0, -2.0, 0.5] + 3.0)
    return time.perf_counter() - start


def passes(n_passes, report_at):
    """Re-shuffled passes over diabetes; a row per checkpoint."""
    X, y = load_diabetes(return_X_y=True, scaled=False)
    fit = NeuronRegressor().fit(X, y)
    exact = np.linalg.lstsq(np.c_[X, np.ones(len(y))], y, rcond=None)[0][:-1]
    rng = np.random.default_rng(0)
    stream = NeuronRegressor()
    rows = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(1, n_passes + 1):
            times = []
            for part in np.array_split(rng.permutation(len(y)), N_CHUNKS):
                times.append(timed(lambda p=part: stream.partial_fit(X[p], y[p])))
            if k in report_at:
                rows.append(
                    (
                        k,
                        relative(stream.coef_, fit.coef_),
                        relative(stream.coef_, exact),
                        stream.n_iter_,
                        *medians(times),
                    )
                )
    fit_error = relative(fit.coef_, exact)
    return rows, fit_error, sorted({type(w.message).__name__ for w in caught})


def chunk(k):
    """The long stream's chunk k: 100 x 8, columns of mixed scales and offsets."""
    rng = np.random.default_rng([1, k])
    scales = np.logspace(-1, 2, FEATURES)
    offsets = np.linspace(-50, 50, FEATURES)
    X = rng.standard_normal((CHUNK_ROWS, FEATURES)) * scales + offsets
    beta = np.linspace(-2, 2, FEATURES) / scales
    return X, X @ beta + 3.0 + rng.standard_normal(CHUNK_ROWS)


def long_stream(n_chunks, checkpoints):
    """One pass over ``n_chunks`` new chunks; a row per checkpoint."""
    stream = NeuronRegressor()
    R = np.zeros((0, FEATURES + 2))  # running QR of [X, 1, y]: the reference
    rows, times = [], []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(1, n_chunks + 1):
            X, y = chunk(k)
            times.append(timed(lambda X=X, y=y: stream.partial_fit(X, y)))
            A = np.column_stack([X, np.ones(len(y)), y])
            R = np.linalg.qr(np.vstack([R, A]), mode="r")
            if k in checkpoints:
                p = FEATURES
                exact = np.linalg.solve(R[: p + 1, : p + 1], R[: p + 1, p + 1])[:p]
                rows.append(
                    (
                        k,
                        *medians(times[-WINDOW:]),
                        len(pickle.dumps(stream)),
                        relative(stream.coef_, exact),
                        stream.n_iter_,
                    )
                )
    return rows, sorted({type(w.message).__name__ for w in caught})


def report(pass_rows, fit_error, pass_warnings, stream_rows, stream_warnings):
    lines = [
        f"### (a) Diabetes, re-shuffled and re-chunked into {N_CHUNKS} every pass",
        "",
        "| passes | rel. error vs fit | rel. error vs lstsq | n_iter_ | "
        "ms per call (median of the pass) | CPU ms per call |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for k, vs_fit, vs_exact, n_iter, wall, cpu in pass_rows:
        lines.append(
            f"| {k} | {vs_fit:.1e} | {vs_exact:.1e} | {n_iter} | {wall * 1e3:.1f} | "
            f"{cpu * 1e3:.1f} |"
        )
    lines += [
        "",
        f"`NeuronRegressor().fit(X, y)` itself is {fit_error:.1e} from lstsq. "
        f"Warnings: {', '.join(pass_warnings) or 'none'}.",
        "",
        f"### (b) A stream of new {CHUNK_ROWS} x {FEATURES} chunks",
        "",
        f"| chunks seen | ms per call (median of the last {WINDOW}) | "
        "CPU ms per call | pickle (KB) | rel. error vs lstsq on all rows so far | "
        "n_iter_ |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for k, wall, cpu, size, error, n_iter in stream_rows:
        lines.append(
            f"| {k} | {wall * 1e3:.1f} | {cpu * 1e3:.1f} | {size / 1024:.1f} | "
            f"{error:.1e} | {n_iter} |"
        )
    lines += ["", f"Warnings: {', '.join(stream_warnings) or 'none'}."]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="2 000 chunks and 10 passes"
    )
    parser.add_argument("--chunks", type=int, help="chunks in the stream (20 000)")
    parser.add_argument("--passes", type=int, help="passes over diabetes (60)")
    parser.add_argument("--out", help="also write the tables to this Markdown file")
    args = parser.parse_args(argv)
    n_chunks = args.chunks or (2_000 if args.quick else 20_000)
    n_passes = args.passes or (10 if args.quick else 60)
    if n_chunks < 1 or n_passes < 1:
        parser.error("--chunks and --passes must be at least 1")

    source = skneuron_source()
    load_before = os.getloadavg()
    start = time.perf_counter()
    warm = warm_up()
    report_at = {k for k in (1, 2, 10, 30, 60) if k <= n_passes} | {n_passes}
    pass_rows, fit_error, pass_warnings = passes(n_passes, report_at)
    checkpoints = {k for k in (100, 1_000, 5_000, 20_000) if k <= n_chunks}
    stream_rows, stream_warnings = long_stream(n_chunks, checkpoints | {n_chunks})
    total = time.perf_counter() - start

    import keras
    import tensorflow as tf

    text = "\n".join(
        [
            "## bench_stream",
            "",
            f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}; Python "
            f"{platform.python_version()}, TensorFlow {tf.__version__}, Keras "
            f"{keras.__version__}; {cpu_model()}, {os.cpu_count()} CPUs. "
            f"Measured: {source}. Warm-up fit (imports TensorFlow): {warm:.1f} s.",
            "",
            report(pass_rows, fit_error, pass_warnings, stream_rows, stream_warnings),
            "",
        ]
    )
    return finish(
        text, total=total, load_before=load_before, source=source, out=args.out
    )


if __name__ == "__main__":
    sys.exit(main())
