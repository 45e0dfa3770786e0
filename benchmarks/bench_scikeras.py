"""NeuronRegressor against the same neuron trained by scikeras' KerasRegressor.

Run from the repository root (needs scikeras: ``pip install skneuron[scikeras]``)::

    python benchmarks/bench_scikeras.py          # full run (a few minutes on 2 cores)
    python benchmarks/bench_scikeras.py --quick  # every scikeras fit once
    python benchmarks/bench_scikeras.py --out benchmarks/scikeras_table.md

On tutorial 1's noisy line and on the unscaled diabetes data it prints one Markdown
table row per method: fit time, time per epoch, and how far the fitted coefficients
and the training MSE are from the exact least-squares answer (``np.linalg.lstsq``).
The KerasRegressor model is ``skneuron.neuron_model``, the neuron NeuronRegressor
trains, with the tutorials' recipe: Adam, learning rate 0.1, 200 epochs, batch 32.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone

import numpy as np
from _common import (  # benchmarks/ is on sys.path
    cpu_model,
    finish,
    skneuron_source,
    trace_count,
)
from bench_fit import capture, dedupe, timed
from sklearn.datasets import load_diabetes
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skneuron import NeuronRegressor
from skneuron._scikeras import neuron_model

SEED = 42
EPOCHS = 200
BATCH_SIZE = 32
LEARNING_RATE = 0.1
RECIPE = f"Adam({LEARNING_RATE}), {EPOCHS} epochs, batch {BATCH_SIZE}"


# -- data ---------------------------------------------------------------------------
def make_datasets(seed=SEED):
    """Tutorial 1's noisy line (seed 42) and the unscaled diabetes data."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 50, 51)
    y = x + 10 * rng.random(x.size)
    Xd, yd = load_diabetes(return_X_y=True, scaled=False)
    return {"tutorial 1": (x[:, None], y), "diabetes (unscaled)": (Xd, yd)}


def least_squares(X, y):
    """The exact answer: (coef, intercept) from np.linalg.lstsq with a ones column."""
    solution = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)[0]
    return solution[:-1], solution[-1]


# -- the estimators -----------------------------------------------------------------
def keras_regressor():
    from scikeras.wrappers import KerasRegressor

    return KerasRegressor(
        model=neuron_model,
        optimizer="adam",
        optimizer__learning_rate=LEARNING_RATE,
        loss="mean_squared_error",
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        random_state=SEED,  # seeds Keras' shuffling of the mini-batches
        verbose=0,
    )


def neuron_weights(reg):
    """(coef, intercept) of a fitted KerasRegressor, from its "neuron" layer."""
    weights = reg.model_.get_layer("neuron").get_weights()
    kernel, bias = weights if len(weights) == 2 else (weights[0], np.zeros(1))
    return kernel[:, 0].astype(float), float(bias[0])


def fit_neuron(X, y):
    reg = NeuronRegressor().fit(X, y)
    return reg.coef_, reg.intercept_, reg.n_iter_


def fit_scikeras(X, y):
    reg = keras_regressor().fit(X, y)
    return (*neuron_weights(reg), reg.current_epoch)


def fit_scikeras_scaled(X, y):
    """In a StandardScaler pipeline; the weights mapped back to the units of X."""
    pipe = make_pipeline(StandardScaler(), keras_regressor()).fit(X, y)
    scaler, reg = pipe[0], pipe[-1]
    w, b = neuron_weights(reg)
    coef = w / scaler.scale_
    return coef, b - coef @ scaler.mean_, reg.current_epoch


METHODS = {
    "NeuronRegressor() default, warm": fit_neuron,
    f"KerasRegressor(neuron_model), {RECIPE}": fit_scikeras,
    f"StandardScaler + KerasRegressor(neuron_model), {RECIPE}": fit_scikeras_scaled,
}


# -- measuring ----------------------------------------------------------------------
def errors(X, y, coef, intercept, exact):
    """Max relative coefficient error and relative excess training MSE."""
    a = np.append(coef, intercept)
    b = np.append(*exact)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        coef_error = float(np.max(np.abs(a - b) / np.abs(b)))
        mse = np.mean((X @ np.asarray(coef) + intercept - y) ** 2)
        best = np.mean((X @ exact[0] + exact[1] - y) ** 2)
    return coef_error, float(mse / best - 1)


def bench_dataset(name, X, y, repeats):
    exact = least_squares(X, y)
    rows = []
    for method, fit in METHODS.items():
        notes, times, results = [], [], []
        n_fits = repeats["neuron" if fit is fit_neuron else "scikeras"]
        traces = trace_count()
        if fit is fit_neuron:  # the first fit of a new shape traces its graph
            first, result, more = timed(fit, X, y)
            notes += more
            if result is not None:
                notes.append(f"first fit {first:.3g} s")
        cpu = []
        for _ in range(n_fits):
            start = time.process_time()
            seconds, result, more = timed(fit, X, y)
            cpu.append(time.process_time() - start)
            times.append(seconds)
            results.append(result)
            notes += more
        after = trace_count()
        if fit is fit_neuron and None not in (traces, after):
            notes.append(f"new tf.function traces: {after - traces}")
        if any(r is None for r in results):
            rows.append((name, X.shape, method, None, notes))
            continue
        coef, intercept, epochs = results[-1]
        same = all(
            np.array_equal(np.append(r[0], r[1]), np.append(coef, intercept))
            for r in results
        )
        if not same:
            notes.append("coefficients differ between repeats")
        seconds = statistics.median(times)
        label = "median of" if n_fits > 1 else "fits:"
        notes.append(f"{label} {n_fits}, range {min(times):.3g}-{max(times):.3g} s")
        coef_error, excess = errors(X, y, coef, intercept, exact)
        measured = (seconds, statistics.median(cpu), epochs, coef_error, excess)
        rows.append((name, X.shape, method, measured, notes))
    return rows


def warm_up():
    """Import TensorFlow, Keras and scikeras, and pay Keras' one-off cost of its
    first ``fit``, on another shape, before anything is timed."""
    rng = np.random.default_rng(SEED + 1)
    X = rng.standard_normal((40, 3))
    y = X @ [1.0, -2.0, 0.5] + 3.0
    start = time.perf_counter()
    NeuronRegressor().fit(X, y)
    neuron = time.perf_counter() - start
    start = time.perf_counter()
    keras_regressor().set_params(epochs=1).fit(X, y)
    scikeras = time.perf_counter() - start
    return neuron, scikeras


def markdown(rows):
    lines = [
        "| Data set | n x p | Method | Fit time (s) | CPU time (s) | Epochs "
        "| ms / epoch | Max rel. coef error | Rel. excess MSE | Notes |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, shape, method, measured, notes in rows:
        notes = "; ".join(dedupe(notes)).replace("|", "\\|") or "-"
        shape = f"{shape[0]}x{shape[1]}"
        if measured is None:
            cells = "failed | - | - | - | - | -"
        else:
            seconds, cpu, epochs, coef_error, excess = measured
            cells = (
                f"{seconds:.3g} | {cpu:.3g} | {epochs} | {1000 * seconds / epochs:.3g} "
                f"| {coef_error:.2g} | {excess:.2g}"
            )
        lines.append(f"| {name} | {shape} | {method} | {cells} | {notes} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fit every scikeras setup once"
    )
    parser.add_argument("--out", help="also write the output to this Markdown file")
    args = parser.parse_args(argv)
    repeats = (
        {"neuron": 3, "scikeras": 1} if args.quick else {"neuron": 7, "scikeras": 3}
    )

    source = skneuron_source()
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    with capture() as warm_notes:
        neuron_warm, scikeras_warm = warm_up()
    rows = []
    for name, (X, y) in make_datasets().items():
        rows += bench_dataset(name, X, y, repeats)
    total = time.perf_counter() - t0

    import keras
    import scikeras
    import sklearn
    import tensorflow as tf

    lines = [
        f"# bench_scikeras ({'quick' if args.quick else 'full'} run)",
        "",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}; Python "
        f"{platform.python_version()}, TensorFlow {tf.__version__}, Keras "
        f"{keras.__version__}, scikit-learn {sklearn.__version__}, scikeras "
        f"{scikeras.__version__}; {cpu_model()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs.",
        f"Measured: {source}.",
        "",
        f"Warm-up before timing (another shape, 40x3): NeuronRegressor fit "
        f"{neuron_warm:.2f} s (includes the TensorFlow import), KerasRegressor "
        f"1 epoch {scikeras_warm:.2f} s.",
    ]
    if warm_notes:
        lines.append(f"Warm-up warnings: {'; '.join(dedupe(warm_notes))}.")
    lines += ["", markdown(rows), ""]
    return finish(
        "\n".join(lines),
        total=total,
        load_before=load_before,
        source=source,
        out=args.out,
    )


if __name__ == "__main__":
    sys.exit(main())
