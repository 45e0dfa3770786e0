"""``python -m skneuron``: fit the neuron on built-in data beside LinearRegression.

Runs on the first tutorial's noisy line (x = 0..50, y = x + 10·U(0, 1)) and on
scikit-learn's diabetes data (unscaled), and prints coefficients, intercept and fit
time for both estimators. No download: both data sets are made or shipped locally.
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

from skneuron import NeuronRegressor


def _datasets(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 50, 51)
    return {
        "noisy line (tutorial 1)": (x[:, None], x + 10 * rng.random(len(x))),
        "diabetes (unscaled)": load_diabetes(return_X_y=True, scaled=False),
    }


def _timed_fit(estimator, X, y):
    start = time.perf_counter()
    estimator.fit(X, y)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m skneuron", description=__doc__)
    parser.add_argument("--seed", type=int, default=0, help="seed of the noisy line")
    args = parser.parse_args(argv)
    np.set_printoptions(precision=6, suppress=True, linewidth=100)
    for name, (X, y) in _datasets(args.seed).items():
        neuron, reference = NeuronRegressor(), LinearRegression()
        first = _timed_fit(neuron, X, y)  # includes starting TensorFlow on the first
        again = _timed_fit(neuron, X, y)
        ref_time = _timed_fit(reference, X, y)
        rel = np.max(np.abs(neuron.coef_ - reference.coef_) / np.abs(reference.coef_))
        print(f"== {name}: {X.shape[0]} samples, {X.shape[1]} features")
        print(f"NeuronRegressor   coef_ {neuron.coef_}")
        print(f"                  intercept_ {neuron.intercept_:.6f}")
        print(f"LinearRegression  coef_ {reference.coef_}")
        print(f"                  intercept_ {reference.intercept_:.6f}")
        print(
            f"largest relative coef difference {rel:.1e}; epochs {neuron.n_iter_}; "
            f"fit time {first:.3f} s first, {again:.3f} s again "
            f"(LinearRegression {ref_time:.4f} s)"
        )


if __name__ == "__main__":
    main()
