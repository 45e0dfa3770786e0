"""Sparse X trained on its rows: the Huber loss on packed sparse rows, beside the
dense copy and scikit-learn's HuberRegressor.

Run from the repository root, alone on the machine::

    python benchmarks/bench_sparse_rows.py              # about 2 minutes on 2 cores
    python benchmarks/bench_sparse_rows.py --out sparse_rows.md

X is ``--rows`` x ``--features`` (default 50 000 x 500) with about ``--stored``
values per row (default 10, at random columns, ``numpy.random.default_rng(0)``),
y linear in X plus Student-t noise (2 degrees of freedom: outliers). Fitted with
``NeuronRegressor(loss="huber", epsilon=1.0)``:

- on the sparse matrix (CSR), which trains on its rows packed to the width of the
  fullest row;
- on the dense copy (``X.toarray()``, 200 MB at the default size), which trains on
  the rows standardized; with ``--no-dense`` it is left out;
- ``HuberRegressor(epsilon=1.35, alpha=0)`` on the sparse matrix (another
  objective: it also estimates a scale; for time only).

Each fit is timed (wall clock, median of ``--repeat`` after a warm-up fit on a
slice, which starts TensorFlow and compiles), with the peak of memory traced by
``tracemalloc`` during it (NumPy's allocations, not TensorFlow's), and the
largest relative difference of the sparse fit's coefficients from the dense
copy's.
"""

import argparse
import os
import statistics
import time
import tracemalloc
import warnings

import _common
import numpy as np
import scipy.sparse as sp


def data(n, p, stored):
    rng = np.random.default_rng(0)
    rows = np.repeat(np.arange(n), stored)
    columns = rng.integers(0, p, n * stored)
    X = sp.csr_matrix((rng.standard_normal(n * stored), (rows, columns)), (n, p))
    y = X @ rng.standard_normal(p) + 2.0 + 0.3 * rng.standard_t(2, n)
    return X, y


def measure(make, X, y, repeat):
    times, peak, model = [], 0, None
    for _ in range(repeat):
        tracemalloc.start()
        start = time.perf_counter()
        model = make().fit(X, y)
        times.append(time.perf_counter() - start)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return statistics.median(times), peak, model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--features", type=int, default=500)
    parser.add_argument("--stored", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-dense", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args()
    load_before, started = os.getloadavg(), time.perf_counter()
    source = _common.skneuron_source()
    from sklearn.linear_model import HuberRegressor

    from skneuron import NeuronRegressor

    warnings.simplefilter("ignore")
    X, y = data(args.rows, args.features, args.stored)
    neuron = lambda: NeuronRegressor(loss="huber", epsilon=1.0)  # noqa: E731
    neuron().fit(X[:2000], y[:2000])  # start TensorFlow
    lines = [
        f"# Sparse rows (bench_sparse_rows.py), {_common.cpu_model()}",
        "",
        f"X: {args.rows} x {args.features}, {X.nnz} values stored "
        f"({X.nnz * 12 / 1e6:.0f} MB as CSR; {args.rows * args.features * 8 / 1e6:.0f}"
        " MB dense); Huber loss.",
        "",
        "| fit | median time (s) | peak traced memory (MB) | epochs |",
        "|---|---:|---:|---:|",
    ]
    t_sparse, m_sparse, on_sparse = measure(neuron, X, y, args.repeat)
    lines.append(
        f"| NeuronRegressor, sparse X | {t_sparse:.2f} | {m_sparse / 1e6:.0f} | "
        f"{on_sparse.n_iter_} |"
    )
    difference = None
    if not args.no_dense:
        Xd = X.toarray()
        t_dense, m_dense, on_dense = measure(neuron, Xd, y, args.repeat)
        del Xd
        lines.append(
            f"| NeuronRegressor, dense copy | {t_dense:.2f} | {m_dense / 1e6:.0f} | "
            f"{on_dense.n_iter_} |"
        )
        scale = np.abs(on_dense.coef_).max()
        difference = np.abs(on_sparse.coef_ - on_dense.coef_).max() / scale
    huber = lambda: HuberRegressor(epsilon=1.35, alpha=0.0, max_iter=1000)  # noqa: E731
    t_huber, m_huber, _ = measure(huber, X, y, 1)
    peak = m_huber / 1e6
    lines.append(f"| HuberRegressor, sparse X | {t_huber:.2f} | {peak:.0f} | |")
    if difference is not None:
        lines += ["", f"Sparse fit's coef_ against the dense copy's: {difference:.1e}"]
    total = time.perf_counter() - started
    text = "\n".join(lines) + f"\n\n{source}"
    return _common.finish(text, total=total, load_before=load_before,
                          source=source, out=args.out)  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
