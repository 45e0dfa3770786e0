"""Accuracy on NIST's StRD linear regression problems: LRE of each solver.

Run from the repository root::

    python benchmarks/bench_nist.py               # about 20 s on 2 cores
    python benchmarks/bench_nist.py --out benchmarks/nist_results.md

The eleven problems of NIST's Statistical Reference Datasets for linear least
squares (tests/data/nist/*.dat, read by ``benchmarks/_nist.py``), each with the
model NIST certifies (polynomials in x up to degree 10, Longley's six predictors,
two lines through the origin). For every problem it prints one Markdown row: NIST's
level of difficulty, then the LRE (log relative error, about the number of correct
significant digits, at most 15) of the parameters each solver finds, the minimum
over the parameters, for ``LinearRegression()``, ``np.linalg.lstsq`` on ``[X, 1]``,
statsmodels' ``OLS`` with ``method="pinv"`` and ``method="qr"``, and
``NeuronRegressor()``; for NeuronRegressor also the LRE of ``summary().bse``
against the certified standard deviations, ``n_iter_``, its fit time and the
warnings its fit gave. The models without intercept (NoInt1, NoInt2) are fitted
with ``fit_intercept=False``, without the column of ones, without ``add_constant``.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone

import _nist  # benchmarks/ is on sys.path
import numpy as np
from _common import (  # benchmarks/ is on sys.path
    cpu_model,
    finish,
    skneuron_source,
)
from bench_fit import capture, dedupe, timed
from sklearn.linear_model import LinearRegression

from skneuron import NeuronRegressor

REPEATS = 3  # timed NeuronRegressor fits per problem


# -- the solvers: each returns the parameters in NIST's order (B0 first) ------------
def _params(problem, coef, intercept):
    coef = np.ravel(coef).astype(float)
    return np.r_[intercept, coef] if problem.fit_intercept else coef


def linear_regression(problem):
    reg = LinearRegression(fit_intercept=problem.fit_intercept)
    reg.fit(problem.X, problem.y)
    return _params(problem, reg.coef_, reg.intercept_)


def lstsq(problem):
    return np.linalg.lstsq(problem.design(), problem.y, rcond=None)[0]


def ols(method):
    def fit(problem):
        import statsmodels.api as sm

        return sm.OLS(problem.y, problem.design()).fit(method=method).params

    return fit


def neuron(problem):
    return NeuronRegressor(fit_intercept=problem.fit_intercept).fit(
        problem.X, problem.y
    )


REFERENCES = {
    "LinearRegression()": linear_regression,
    "lstsq [X, 1]": lstsq,
    'OLS "pinv"': ols("pinv"),
    'OLS "qr"': ols("qr"),
}


# -- measuring ----------------------------------------------------------------------
def _lre_or_error(problem, solver):
    """(LRE, notes) of one solver; an error is a note and an LRE of None."""
    _, params, notes = timed(solver, problem)
    if params is None:
        return None, notes
    return problem.lre(params), notes


def bench_problem(problem):
    row = {"problem": problem, "notes": []}
    for label, solver in REFERENCES.items():
        row[label], notes = _lre_or_error(problem, solver)
        row["notes"] += [f"{label}: {note}" for note in notes]
    times, fits, warned = [], [], []
    for _ in range(REPEATS):
        seconds, reg, notes = timed(neuron, problem)
        times.append(seconds)
        fits.append(reg)
        warned += notes
    row["seconds"] = statistics.median(times)
    row["warned"] = warned
    reg = fits[-1]
    if reg is None:
        row["neuron"] = row["bse"] = row["n_iter"] = None
        return row
    params = _params(problem, reg.coef_, reg.intercept_)
    row["neuron"] = problem.lre(params)
    row["n_iter"] = reg.n_iter_
    if any(
        f is None or not np.array_equal(_params(problem, f.coef_, f.intercept_), params)
        for f in fits
    ):
        row["notes"].append("NeuronRegressor: the repeats' coefficients differ")
    row["bse"] = None
    if problem.residual_sd != 0:  # Wampler1, 2: exact fits, no standard errors
        with capture() as notes:
            try:
                row["bse"] = problem.bse_lre(reg.summary().bse)
            except Exception as exc:
                notes.append(f"{type(exc).__name__}: {exc}")
        row["notes"] += [f"summary(): {note}" for note in notes]
    return row


def warm_up():
    """Import TensorFlow (one NeuronRegressor fit of another shape) and
    statsmodels before anything is timed."""
    import statsmodels.api  # noqa: F401

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    start = time.perf_counter()
    NeuronRegressor().fit(X, X @ [1.0, -2.0, 0.5] + 3.0)
    return time.perf_counter() - start


def _cell(value):
    return "error" if value is None else f"{value:.1f}"


def markdown(rows):
    lines = [
        "| Data set | n x p | NIST difficulty | "
        + " | ".join(REFERENCES)
        + " | NeuronRegressor() | summary() bse | n_iter_ | Fit time (s) "
        "| Warned | Notes |",
        "|---|---|---|" + "---:|" * (len(REFERENCES) + 4) + "---|---|",
    ]
    for row in rows:
        problem = row["problem"]
        cells = [_cell(row[label]) for label in REFERENCES]
        cells.append(_cell(row["neuron"]))
        cells.append("-" if problem.residual_sd == 0 else _cell(row["bse"]))
        cells.append("-" if row["n_iter"] is None else str(row["n_iter"]))
        cells.append(f"{row['seconds']:.3g}")
        warned = "; ".join(dedupe(row["warned"])).replace("|", "\\|") or "no"
        notes = "; ".join(dedupe(row["notes"])).replace("|", "\\|") or "-"
        n, p = problem.X.shape
        lines.append(
            f"| {problem.name} | {n}x{p} | {problem.difficulty} | "
            + " | ".join(cells)
            + f" | {warned} | {notes} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the output to this Markdown file")
    args = parser.parse_args(argv)

    source = skneuron_source()
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    with capture() as warm_notes:
        neuron_warm = warm_up()
    rows = []
    for name in _nist.NAMES:
        rows.append(bench_problem(_nist.load(name)))
    total = time.perf_counter() - t0

    import keras
    import sklearn
    import statsmodels
    import tensorflow as tf

    lines = [
        "# bench_nist",
        "",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}; Python "
        f"{platform.python_version()}, NumPy {np.__version__}, TensorFlow "
        f"{tf.__version__}, Keras {keras.__version__}, scikit-learn "
        f"{sklearn.__version__}, statsmodels {statsmodels.__version__}; "
        f"{cpu_model()}, {platform.machine()}, {os.cpu_count()} CPUs.",
        f"Measured: {source}.",
        "",
        f"Warm-up before timing (another shape, 40x3): NeuronRegressor fit "
        f"{neuron_warm:.2f} s (includes the TensorFlow import).",
    ]
    if warm_notes:
        lines.append(f"Warm-up warnings: {'; '.join(dedupe(warm_notes))}.")
    lines += [
        "",
        "LRE: the smallest over the parameters of -log10(|estimate - certified| / "
        "|certified|) (the absolute error where the certified value is 0), capped "
        "at 15 and floored at 0. Fit time: median of "
        f"{REPEATS} fits of `NeuronRegressor()` (the first of them traces the "
        "problem's shape if no earlier fit had it); its LRE, `n_iter_` and "
        "`summary()` are of the last fit. Warned: what those fits warned.",
        "",
        markdown(rows),
        "",
    ]
    return finish(
        "\n".join(lines),
        total=total,
        load_before=load_before,
        source=source,
        out=args.out,
    )


if __name__ == "__main__":
    sys.exit(main())
