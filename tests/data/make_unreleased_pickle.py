"""Writes tests/data/skneuron-unreleased.pkl: estimators fitted by skneuron as it
stood before the data seam (commit 18ea3bd, unreleased after 0.1.0), with their
data and what they predicted and summarized then.

Run from the repository's root, with that version installed:
    python tests/data/make_unreleased_pickle.py
"""

import pathlib
import pickle

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_diabetes

from skneuron import NeuronRegressor


def main():
    X, y = load_diabetes(return_X_y=True, scaled=False)
    X, y = X[:, :4], y
    Y = np.c_[y, X[:, 0] - y]
    parts = np.array_split(np.arange(len(y)), 3)
    estimators = {
        "fitted": NeuronRegressor().fit(X, y),
        "two_targets": NeuronRegressor().fit(X, Y),
        "sparse": NeuronRegressor().fit(sp.csr_matrix(X), y),
        "huber": NeuronRegressor(loss="huber", epsilon=30.0).fit(X, y),
        "stream": NeuronRegressor(),
        "adam_stream": NeuronRegressor(optimizer="adam", batch_size=64, random_state=0),
    }
    for part in parts:
        estimators["stream"].partial_fit(X[part], y[part])
        estimators["adam_stream"].partial_fit(X[part], y[part])
    out = {
        "X": X,
        "y": y,
        "Y": Y,
        "estimators": estimators,
        "predictions": {k: e.predict(X) for k, e in estimators.items()},
        "summary": {
            k: (r.params, r.bse, r.rsquared)
            for k in ("fitted", "sparse")
            for r in [estimators[k].summary()]
        },
    }
    path = pathlib.Path(__file__).parent / "skneuron-unreleased.pkl"
    with open(path, "wb") as f:
        pickle.dump(out, f, protocol=4)
    print(path, path.stat().st_size)


if __name__ == "__main__":  # not on import (pytest imports it for doctests)
    main()
