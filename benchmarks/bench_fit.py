"""Fit time and accuracy of NeuronRegressor against the usual alternatives.

Run from the repository root::

    python benchmarks/bench_fit.py            # full run (about 2-3 minutes on 2 cores)
    python benchmarks/bench_fit.py --quick    # fewer repeats of the fast fits
    python benchmarks/bench_fit.py --out benchmarks/fit_table.md

For every data set it prints one Markdown table row per method: the fit time in
seconds and the largest relative error of the fitted coefficients and intercept
against ``LinearRegression`` (the exact least-squares answer). The Keras recipe and
scikeras take seconds per fit, so they are fitted once per data set; the fast
estimators are fitted several times and the median time is reported.
"""

import argparse
import contextlib
import logging
import os
import platform
import statistics
import sys
import time
import warnings
from datetime import datetime, timezone

import numpy as np
from _common import (  # benchmarks/ is on sys.path
    cpu_model,
    finish,
    skneuron_source,
    trace_count,
)
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression, SGDRegressor

from skneuron import NeuronRegressor

SEED = 20240601
EPOCHS = 200
BATCH_SIZE = 32
LEARNING_RATE = 0.1


# -- data ---------------------------------------------------------------------------
def make_datasets(seed=SEED):
    """The tutorials' noisy lines and the (unscaled) diabetes data."""
    rng = np.random.default_rng(seed)
    x1 = np.linspace(0, 50, 51)
    y1 = x1 + 10 * rng.uniform(0, 1, x1.size)
    x2 = np.linspace(0, 1, 100)
    y2 = 1.35 * x2 + 0.5 + 0.33 * rng.standard_normal(x2.size)
    x4 = np.arange(50, dtype=float)
    y4 = 3.5 * x4 + rng.uniform(-10, 20, x4.size)
    Xd, yd = load_diabetes(return_X_y=True, scaled=False)
    return {
        "tutorial 1": (x1[:, None], y1),
        "tutorial 2": (x2[:, None], y2),
        "tutorial 4": (x4[:, None], y4),
        "diabetes (unscaled)": (Xd, yd),
    }


# -- measuring ----------------------------------------------------------------------
class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@contextlib.contextmanager
def capture():
    """Record Python warnings and warnings of the ``tensorflow`` logger."""
    handler = _ListHandler()
    logger = logging.getLogger("tensorflow")
    logger.addHandler(handler)
    notes = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield notes
    finally:
        logger.removeHandler(handler)
        for w in caught:
            notes.append(f"{w.category.__name__}: {_short(w.message)}")
        for r in handler.records:
            notes.append(f"tensorflow log {r.levelname}: {_short(r.getMessage())}")


def _short(message, width=90):
    text = " ".join(str(message).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def timed(fit, *args):
    """Run ``fit(*args)``; return (seconds, result, notes) and never raise."""
    with capture() as notes:
        start = time.perf_counter()
        try:
            result = fit(*args)
        except Exception as exc:  # a diverging or failing fit is a result too
            result = None
            notes.append(f"{type(exc).__name__}: {_short(exc)}")
        seconds = time.perf_counter() - start
    return seconds, result, notes


def max_relative_error(coef, intercept, ref):
    """max over coef_ and intercept_ of |a - b| / |b|, b from LinearRegression."""
    a = np.concatenate([np.ravel(coef), np.ravel(intercept)]).astype(float)
    b = np.concatenate([np.ravel(ref.coef_), np.ravel(ref.intercept_)])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rel = np.abs(a - b) / np.abs(b)
    if np.isnan(rel).any():
        return float("nan")
    return float(rel.max())


def nan_last(error):
    """Sort key: a NaN error is worse than any number, even inf."""
    return (bool(np.isnan(error)), error if not np.isnan(error) else 0.0)


def coefs(reg):
    return None if reg is None else (reg.coef_, reg.intercept_)


def dedupe(notes):
    counts = {}
    for note in notes:
        counts[note] = counts.get(note, 0) + 1
    return [f"{n} (x{c})" if c > 1 else n for n, c in counts.items()]


# -- the Keras models ---------------------------------------------------------------
def dense_model(n_features):
    import keras

    return keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(1)])


def scikeras_model(meta):
    """Model function for scikeras: the same single Dense(1) neuron."""
    return dense_model(meta["n_features_in_"])


def keras_recipe(X, y, epochs=EPOCHS):
    """The tutorials' recipe done by hand; returns (coef, intercept)."""
    import keras

    keras.utils.set_random_seed(SEED)
    model = dense_model(X.shape[1])
    model.compile(
        loss="mean_squared_error", optimizer=keras.optimizers.Adam(LEARNING_RATE)
    )
    model.fit(X, y, epochs=epochs, batch_size=BATCH_SIZE, verbose=0)
    kernel, bias = model.layers[-1].get_weights()
    return kernel[:, 0], bias


def scikeras_fit(X, y):
    import keras
    from scikeras.wrappers import KerasRegressor

    keras.utils.set_random_seed(SEED)
    reg = KerasRegressor(
        model=scikeras_model,
        optimizer=keras.optimizers.Adam,
        optimizer__learning_rate=LEARNING_RATE,
        loss="mean_squared_error",
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        verbose=0,
    )
    reg.fit(X, y)
    kernel, bias = reg.model_.layers[-1].get_weights()
    return kernel[:, 0], bias


# -- the benchmark ------------------------------------------------------------------
def warm_up():
    """Import TensorFlow/Keras (via a fit on another shape) before anything is timed."""
    rng = np.random.default_rng(SEED + 1)
    X = rng.standard_normal((40, 3))
    y = X @ [1.0, -2.0, 0.5] + 3.0
    start = time.perf_counter()
    NeuronRegressor().fit(X, y)
    neuron = time.perf_counter() - start
    start = time.perf_counter()
    keras_recipe(X, y, epochs=1)
    recipe = time.perf_counter() - start
    try:  # scikeras' import time is not charged to its first fit either
        import scikeras.wrappers  # noqa: F401
    except Exception:
        pass
    return neuron, recipe


def traced(before):
    after = trace_count()
    if before is None or after is None:
        return []
    return [f"new tf.function traces: {after - before}"]


def fit_clone(estimator, X, y):
    return clone(estimator).fit(X, y)


def repeat(n, fit, *args):
    """Median time of ``n`` fits, every result (None if it failed), all notes."""
    times, notes, results = [], [], []
    for _ in range(n):
        sec, result, more = timed(fit, *args)
        times.append(sec)
        notes += more
        results.append(result)
    return statistics.median(times), results, notes


def bench_dataset(name, X, y, warm_repeats, fast_repeats):
    """Table rows for one data set, and the neuron's first and warm fit times."""
    shape = f"{X.shape[0]}x{X.shape[1]}"
    ref = LinearRegression().fit(X, y)
    rows = []

    def error(fitted):
        """``fitted`` is (coef, intercept), or None if the fit failed (inf)."""
        return float("inf") if fitted is None else max_relative_error(*fitted, ref)

    def add(method, seconds, fitted, notes):
        rows.append((name, shape, method, seconds, error(fitted), notes))

    def add_repeated(method, seconds, results, notes):
        """The largest error over the repeats; its range if the repeats differ."""
        errors = sorted((error(coefs(reg)) for reg in results), key=nan_last)
        worst = errors[-1]
        if len(set(map(repr, errors))) > 1:
            notes.append(
                f"error differs between repeats: {errors[0]:.3g} to {worst:.3g}"
            )
        rows.append((name, shape, method, seconds, worst, notes))

    # 1. NeuronRegressor: the first fit on this data set, then warm clones.
    template = NeuronRegressor()
    traces = trace_count()
    first, reg, notes = timed(fit_clone, template, X, y)
    if reg is not None:
        notes.append(f"n_iter_={reg.n_iter_}")
    add("NeuronRegressor() first fit", first, coefs(reg), notes + traced(traces))
    traces = trace_count()
    warm, results, notes = repeat(warm_repeats, fit_clone, template, X, y)
    notes += traced(traces)
    method = f"NeuronRegressor() warm, median of {warm_repeats}"
    add_repeated(method, warm, results, notes)

    # 2. and 3. The scikit-learn estimators, default parameters, unscaled data.
    for method, est in [
        ("LinearRegression()", LinearRegression()),
        ("SGDRegressor()", SGDRegressor()),
    ]:
        sec, results, notes = repeat(fast_repeats, fit_clone, est, X, y)
        add_repeated(f"{method} median of {fast_repeats}", sec, results, notes)

    # 4. The tutorials' Keras recipe, by hand, once.
    recipe, res, notes = timed(keras_recipe, X, y)
    method = (
        f"Keras Dense(1), Adam({LEARNING_RATE}), {EPOCHS} epochs, batch {BATCH_SIZE}"
    )
    add(method, recipe, res, notes)

    # 5. The same recipe through scikeras, once.
    sec, res, notes = timed(scikeras_fit, X, y)
    add("scikeras KerasRegressor, same model and recipe", sec, res, notes)
    return rows, {"recipe": recipe, "first": first, "warm": warm}


def run(quick=False):
    warm_repeats = 3 if quick else 7
    fast_repeats = 5 if quick else 20
    rows, ratios = [], {}
    for name, (X, y) in make_datasets().items():
        more, ratios[name] = bench_dataset(name, X, y, warm_repeats, fast_repeats)
        rows += more
    return rows, ratios.get("tutorial 1")


def markdown(rows):
    lines = [
        "| Data set | n x p | Method | Fit time (s) | Max rel. coef error "
        "| Notes (warnings, errors) |",
        "|---|---|---|---:|---:|---|",
    ]
    for name, shape, method, sec, err, notes in rows:
        notes = "; ".join(dedupe(notes)).replace("|", "\\|") or "-"
        lines.append(
            f"| {name} | {shape} | {method} | {sec:.3g} | {err:.3g} | {notes} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--out", help="also write the table to this Markdown file")
    args = parser.parse_args(argv)

    source = skneuron_source()
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    with capture() as warm_notes:
        neuron_warm, recipe_warm = warm_up()
    rows, ratio = run(quick=args.quick)
    total = time.perf_counter() - t0

    import keras
    import sklearn
    import tensorflow as tf

    header = [
        f"# bench_fit ({'quick' if args.quick else 'full'} run)",
        "",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}; Python "
        f"{platform.python_version()}, TensorFlow {tf.__version__}, Keras "
        f"{keras.__version__}, scikit-learn {sklearn.__version__}; "
        f"processor {platform.processor()!r} ({cpu_model()}), {platform.machine()}.",
        f"Measured: {source}.",
        "",
        f"Warm-up before timing (another shape, 40x3): NeuronRegressor fit "
        f"{neuron_warm:.2f} s (includes the TensorFlow import), Keras recipe 1 epoch "
        f"{recipe_warm:.2f} s.",
    ]
    if warm_notes:
        header.append(f"Warm-up warnings: {'; '.join(dedupe(warm_notes))}.")
    lines = header + ["", markdown(rows), ""]
    if ratio:
        lines.append(
            f"Speed ratio on tutorial 1 (Keras recipe time / NeuronRegressor time): "
            f"{ratio['recipe'] / ratio['first']:.1f}x against the first (cold) fit, "
            f"{ratio['recipe'] / ratio['warm']:.0f}x against a warm fit "
            f"({ratio['recipe']:.2f} s vs {ratio['first']:.3f} s and "
            f"{ratio['warm']:.4f} s)."
        )
    return finish(
        "\n".join(lines),
        total=total,
        load_before=load_before,
        source=source,
        out=args.out,
    )


if __name__ == "__main__":
    sys.exit(main())
