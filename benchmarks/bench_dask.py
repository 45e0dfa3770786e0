"""NeuronRegressor on Dask arrays: beside dask-ml, in memory, and out of core.

Run from the repository root (needs ``pip install skneuron[dask]``)::

    python benchmarks/bench_dask.py                 # about 3 minutes on 2 cores
    python benchmarks/bench_dask.py --quick         # smaller data, one repeat
    python benchmarks/bench_dask.py --out benchmarks/dask_results.md

Two sections, each on its own ``distributed.LocalCluster`` of 2 worker processes
with 1 thread each, on 127.0.0.1 (dashboard on a random local port), closed at the
end:

(a) **In memory, side by side.** X (2,000,000 x 10, float64, 160 MB; columns of
different scales and offsets) and ``y = X @ beta + 3 + N(0, 1)`` are generated on
the workers with ``dask.array.random.default_rng`` in blocks of 100,000 rows and
persisted there. Timed: ``NeuronRegressor()`` on the Dask arrays; dask-ml's
``LinearRegression()`` (defaults: ADMM, L2 penalty ``C=1`` that includes the
intercept, dask-glm #65) on the same arrays; and, on the same data computed into
NumPy, ``NeuronRegressor()`` and scikit-learn's ``LinearRegression()``. The error
is the largest ``|a - b| / |b|`` over the coefficients and intercept, ``b`` from
``np.linalg.lstsq`` on ``[X, 1]`` in float64.

(b) **Out of core.** Workers with ``memory_limit="1GiB"``; X of 20,000,000 x 20
float64 (2.98 GiB, three times what one worker may hold, 1.5 times both) made
lazily by ``dask.array.random.default_rng(7).normal`` in blocks of 250,000 rows
(40 MB), with ``y = X @ beta + 1.5 + N(0, 1)`` built lazily from it: nothing is
stored, every pass regenerates the blocks. Timed: ``NeuronRegressor().fit(X, y)``.
Peak worker memory is the largest resident set size (RSS, from ``psutil``) of each
worker process, polled every 50 ms from a thread of this script during the fit.
The reference least squares is computed by Dask's own float64 reductions,
independent of skneuron: the normal equations ``G = A'A``, ``b = A'y`` with
``A = [X, 1]`` (``dask.array`` matmuls, summed over the blocks as a tree) solved by
``np.linalg.solve`` (X's columns are standard normal, so ``A'A`` is well
conditioned: cond ~ 1). The error against the known ``beta`` is shown too; it is
sampling noise, about ``1 / sqrt(n)``.

(c) **One machine, out of core.** X (5,000,000 x 10 float64, 381 MiB) written to a
``.npy`` file and opened with ``np.load(path, mmap_mode="r")``; ``fit`` on the sums
(the default) reads it in blocks, ``precompute=False`` trains on a standardized copy.
Peak allocations during each fit are traced with ``tracemalloc``.
"""

import argparse
import contextlib
import logging
import os
import pickle
import platform
import statistics
import sys
import threading
import time
import warnings
from datetime import datetime, timezone

import numpy as np
from _common import cpu_model, finish, skneuron_source  # benchmarks/ is on sys.path

from skneuron import NeuronRegressor

MEMORY_LIMIT = 2**30  # bytes per worker in (b): 1 GiB


def versions():
    import dask
    import dask_ml
    import distributed
    import sklearn
    import tensorflow as tf

    return (
        f"Python {platform.python_version()}, NumPy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, TensorFlow {tf.__version__}, "
        f"dask {dask.__version__}, distributed {distributed.__version__}, "
        f"dask-ml {dask_ml.__version__}"
    )


def cluster(**kwargs):
    import distributed

    return distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
        **kwargs,
    )


def rel_error(coef, intercept, reference):
    """The largest |a - b| / |b| over the coefficients and the intercept."""
    got = np.append(np.ravel(coef), intercept)
    return float(np.max(np.abs(got - reference) / np.abs(reference)))


def lstsq(X, y):
    A = np.column_stack([X, np.ones(len(X))])
    return np.linalg.lstsq(A, y, rcond=None)[0]


@contextlib.contextmanager
def gathered():
    """Counts the bytes the client brings back from the cluster (pickled)."""
    import distributed

    counts = {"calls": 0, "bytes": 0}
    gather = distributed.Client.gather

    def counting(client, futures, *args, **kwargs):
        result = gather(client, futures, *args, **kwargs)
        counts["calls"] += 1
        counts["bytes"] += len(pickle.dumps(result))
        return result

    distributed.Client.gather = counting
    try:
        yield counts
    finally:
        distributed.Client.gather = gather


def timed(fit, repeats):
    """(median seconds, all seconds, last result) of ``repeats`` calls."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fit()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def row(method, seconds, error, notes):
    return f"| {method} | {seconds:.2f} | {error:.1e} | {notes} |"


# -- (a) in memory, side by side ---------------------------------------------------
def side_by_side(quick):
    import dask.array as da
    import distributed
    from dask_ml.linear_model import LinearRegression as DaskLinearRegression
    from sklearn.linear_model import LinearRegression

    n, p, rows = (400_000, 10, 50_000) if quick else (2_000_000, 10, 100_000)
    repeats = 1 if quick else 3
    beta = np.linspace(1.0, 2.0, p) * (-1.0) ** np.arange(p)  # none near 0
    with cluster() as c, distributed.Client(c) as client:
        rng = da.random.default_rng(2026)
        scales, offsets = np.linspace(0.5, 3.0, p), np.linspace(-2.0, 5.0, p)
        X = rng.normal(size=(n, p), chunks=(rows, p)) * scales + offsets
        y = X @ beta + 3.0 + rng.normal(size=n, chunks=rows)
        X, y = client.persist([X, y])
        distributed.wait([X, y])
        X_np, y_np = X.compute(), y.compute()
        reference = lstsq(X_np, y_np)

        lines = [
            f"## (a) In memory, side by side: {n:,} x {p} float64 "
            f"({X_np.nbytes / 2**20:.0f} MiB), blocks of {rows:,} rows",
            "",
            "| Method | Fit time (s) | Max rel. coef error | Notes |",
            "|---|---|---|---|",
        ]
        first = time.perf_counter()
        NeuronRegressor().fit(X, y)
        first = time.perf_counter() - first
        with gathered() as counts:
            seconds, times, reg = timed(lambda: NeuronRegressor().fit(X, y), repeats)
        lines.append(
            row(
                "`NeuronRegressor()` on the Dask arrays",
                seconds,
                rel_error(reg.coef_, reg.intercept_, reference),
                f"median of {repeats} (first fit {first:.2f} s); n_iter_ = "
                f"{reg.n_iter_}; {counts['bytes'] / repeats / 1024:.1f} KiB in "
                f"{counts['calls'] // repeats} results reached the client per fit",
            )
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            seconds, _, dml = timed(lambda: DaskLinearRegression().fit(X, y), 1)
        notes = "ADMM, L2 penalty C=1 on the coefficients and the intercept"
        if caught:
            notes += f"; {len(caught)} warning(s): {str(caught[0].message)[:80]}"
        lines.append(
            row(
                "dask-ml `LinearRegression()` on the same arrays",
                seconds,
                rel_error(dml.coef_, dml.intercept_, reference),
                notes,
            )
        )
    seconds, _, mem = timed(lambda: NeuronRegressor().fit(X_np, y_np), repeats)
    lines.append(
        row(
            "`NeuronRegressor()` in memory (NumPy)",
            seconds,
            rel_error(mem.coef_, mem.intercept_, reference),
            f"median of {repeats}; n_iter_ = {mem.n_iter_}",
        )
    )
    seconds, _, lr = timed(lambda: LinearRegression().fit(X_np, y_np), repeats)
    lines.append(
        row(
            "scikit-learn `LinearRegression()` in memory",
            seconds,
            rel_error(lr.coef_, lr.intercept_, reference),
            f"median of {repeats}",
        )
    )
    same = rel_error(reg.coef_, reg.intercept_, np.append(mem.coef_, mem.intercept_))
    lines += [
        "",
        f"NeuronRegressor on the Dask arrays against in memory: largest relative "
        f"difference {same:.1e}; n_iter_ {reg.n_iter_} and {mem.n_iter_}.",
    ]
    return "\n".join(lines)


# -- (b) out of core ------------------------------------------------------------------
class PeakMemory:
    """Polls the resident set size of some processes from a thread."""

    def __init__(self, pids, every=0.05):
        import psutil

        self.processes = {pid: psutil.Process(pid) for pid in pids}
        self.peak = dict.fromkeys(pids, 0)
        self.every, self.done = every, threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)

    def poll_once(self):
        for pid, process in self.processes.items():
            with contextlib.suppress(Exception):
                self.peak[pid] = max(self.peak[pid], process.memory_info().rss)

    def poll(self):
        while not self.done.is_set():
            self.poll_once()
            time.sleep(self.every)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def out_of_core(quick):
    import dask
    import dask.array as da
    import distributed

    n, p, rows = (2_000_000, 20, 250_000) if quick else (20_000_000, 20, 250_000)
    beta = np.linspace(1.0, 3.0, p) * (-1.0) ** np.arange(p)
    with (
        cluster(memory_limit=MEMORY_LIMIT) as c,
        distributed.Client(c) as client,
    ):
        rng = da.random.default_rng(7)
        X = rng.normal(size=(n, p), chunks=(rows, p))
        y = X @ beta + 1.5 + rng.normal(size=n, chunks=rows)
        pids = client.run(os.getpid)

        start = time.perf_counter()
        A = da.concatenate([X, da.ones((n, 1), chunks=(rows, 1))], axis=1)
        G, b = dask.compute(A.T @ A, A.T @ y)
        reference = np.linalg.solve(G, b)
        reference_seconds = time.perf_counter() - start

        idle = PeakMemory(pids.values())
        idle.poll_once()
        with PeakMemory(pids.values()) as memory, gathered() as counts:
            start = time.perf_counter()
            reg = NeuronRegressor().fit(X, y)
            seconds = time.perf_counter() - start
        restarts = len(set(client.run(os.getpid).values()) - set(pids.values()))
    peaks = ", ".join(f"{memory.peak[pid] / 2**20:.0f}" for pid in pids.values())
    before = ", ".join(f"{idle.peak[pid] / 2**20:.0f}" for pid in pids.values())
    error = rel_error(reg.coef_, reg.intercept_, reference)
    truth = rel_error(reg.coef_, reg.intercept_, np.append(beta, 1.5))
    lines = [
        f"## (b) Out of core: {n:,} x {p} float64 ({n * p * 8 / 2**30:.2f} GiB), "
        f"made lazily, blocks of {rows:,} rows; 2 workers with "
        f"memory_limit={MEMORY_LIMIT / 2**30:.0f} GiB",
        "",
        "| Measure | Value |",
        "|---|---|",
        f"| `NeuronRegressor().fit(X, y)` time | {seconds:.1f} s "
        f"(n_iter_ = {reg.n_iter_}) |",
        f"| Peak RSS per worker during the fit | {peaks} MiB "
        f"(before the fit: {before} MiB) |",
        f"| Results brought to the client | {counts['calls']} results, "
        f"{counts['bytes'] / 1024:.1f} KiB in all |",
        f"| Workers restarted during the fit | {restarts} |",
        f"| Max rel. coef error against Dask's normal equations | {error:.1e} |",
        f"| Max rel. coef error against the true beta (sampling noise) | {truth:.1e} |",
        f"| Reference (normal equations by Dask, one pass) time | "
        f"{reference_seconds:.1f} s |",
    ]
    return "\n".join(lines)


# -- (c) one machine, a memory-mapped X ---------------------------------------------
def memory_mapped(quick):
    import shutil
    import tempfile
    import tracemalloc

    n, p = (1_000_000, 10) if quick else (5_000_000, 10)
    rng = np.random.default_rng(11)
    folder = tempfile.mkdtemp()
    try:
        path = os.path.join(folder, "X.npy")
        X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n, p))
        for start in range(0, n, 500_000):
            stop = min(start + 500_000, n)
            X[start:stop] = rng.normal(size=(stop - start, p))
        y = X @ np.linspace(1.0, 2.0, p) + 0.5 + rng.normal(size=n)
        X.flush()
        del X
        X = np.load(path, mmap_mode="r")
        lines = [
            f"## (c) One machine: X memory-mapped from a .npy file, {n:,} x {p} "
            f"float64 ({n * p * 8 / 2**20:.0f} MiB); y in memory "
            f"({n * 8 / 2**20:.0f} MiB)",
            "",
            "| Fit | Time (s) | Peak allocations during fit (MiB) | n_iter_ |",
            "|---|---|---|---|",
        ]
        fits = {}
        for label, params in [
            ("`NeuronRegressor()` (on the sums, precompute='auto')", {}),
            ("`NeuronRegressor(precompute=False)` (on a copy)", {"precompute": False}),
        ]:
            tracemalloc.start()
            start = time.perf_counter()
            reg = NeuronRegressor(**params).fit(X, y)
            seconds = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            fits[label] = reg
            lines.append(
                f"| {label} | {seconds:.2f} | {peak / 2**20:.0f} | {reg.n_iter_} |"
            )
        sums, rows = fits.values()
        same = rel_error(
            sums.coef_, sums.intercept_, np.append(rows.coef_, rows.intercept_)
        )
        lines += [
            "",
            "Peak allocations are those `tracemalloc` traces (NumPy's and Python's, "
            "not TensorFlow's); the mapped file itself is not allocated. The two fits "
            f"agree to {same:.1e} (largest relative difference).",
        ]
        del X
    finally:
        shutil.rmtree(folder)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data")
    parser.add_argument("--out", help="also write the Markdown to this file")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    began = time.perf_counter()
    source = skneuron_source()
    NeuronRegressor().fit(np.eye(3), np.arange(3.0))  # TensorFlow started here
    header = "\n".join(
        [
            "# NeuronRegressor on Dask arrays (bench_dask.py)",
            "",
            f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC. {versions()}.",
            f"CPU: {cpu_model()}, {os.cpu_count()} cores. {source}."
            + (" Run with --quick." if args.quick else ""),
            "",
        ]
    )
    sections = [side_by_side, out_of_core, memory_mapped]
    text = "\n\n".join([header, *(section(args.quick) for section in sections)])
    return finish(
        text + "\n",
        total=time.perf_counter() - began,
        load_before=load_before,
        source=source,
        out=args.out,
    )


if __name__ == "__main__":
    sys.exit(main())
