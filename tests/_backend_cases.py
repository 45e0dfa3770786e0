"""The fits that every Keras backend must answer alike (tests/test_backends.py).

``python tests/_backend_cases.py OUT.npz`` runs them under the backend that
``KERAS_BACKEND`` selects and saves each case's coefficients, intercepts, losses
and standard errors; the test module runs them in its own process too and
compares the two.
"""

import sys
import warnings

import numpy as np
import scipy.sparse as sp

#: The tolerance of each kind of case, relative: the default fit and the
#: penalties (which stop by the convergence test, within 1e-6 of the optimum on
#: every backend) must agree to 1e-9; fixed-epoch runs of each optimizer to 1e-9
#: as well (they are the same arithmetic); Adam in mini-batches to 1e-6, as its
#: steps divide by the root of small second moments.
#: Keras' Nadam and Adafactor cast constants of their own (Nadam's 0.96) to
#: float64 through float32 on TensorFlow, exactly on JAX: 1e-7.
TOLERANCE = {"adam_batches": 1e-6, "optimizer_nadam": 1e-7, "optimizer_adafactor": 1e-7}
DEFAULT_TOLERANCE = 1e-9


def data():
    """Diabetes (raw units) and a small problem with 2 targets, weights and
    a sparse copy."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True, scaled=False)
    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(150, 4)) * [1, 10, 0.1, 1]
    Ys = Xs @ rng.normal(size=(4, 2)) + rng.standard_t(3, size=(150, 2)) + [3, -1]
    weight = rng.uniform(0.5, 2.0, 150)
    sparse = sp.random(300, 20, density=0.2, format="csr", random_state=1)
    y_sparse = sparse @ rng.normal(size=20) + 0.1 * rng.normal(size=300)
    return (X, y), (Xs, Ys, weight), (sparse, y_sparse)


FIXED = {"tol": None, "epochs": 40, "learning_rate": 0.01}
OPTIMIZERS = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax",
              "nadam", "ftrl", "lion", "keras.optimizers:Lamb",
              "adafactor"]  # fmt: skip

CASES = {
    "default": ("diabetes", {}),
    "no_intercept": ("diabetes", {"fit_intercept": False}),
    "rows": ("diabetes", {"precompute": False}),
    "ridge": ("diabetes", {"alpha": 10.0, "l1_ratio": 0.0}),
    "elastic_net": ("diabetes", {"alpha": 1.0, "l1_ratio": 0.5}),
    "lasso": ("diabetes", {"alpha": 1.0, "l1_ratio": 1.0}),
    "positive": ("diabetes", {"positive": True}),
    "huber": ("small", {"loss": "huber", "epsilon": 1.0}),
    "absolute_error": ("small", {"loss": "absolute_error", "epochs": 200}),
    "weights": ("small", {"sample_weight": True}),
    "sgd_batches": ("diabetes", {"batch_size": 32, "epochs": 20, "tol": None,
                                 "learning_rate": 1e-3, "random_state": 0}),
    "adam_batches": ("diabetes", {"optimizer": "adam", "batch_size": 32,
                                  "epochs": 30, "learning_rate": 0.01,
                                  "random_state": 0, "tol": None}),
    "early_stopping": ("diabetes", {"batch_size": 64, "epochs": 300,
                                    "validation_split": 0.2, "early_stopping": True,
                                    "learning_rate": 1e-3, "random_state": 1}),
    "validation": ("small", {"validation_split": 0.25, "random_state": 2}),
    "sparse": ("sparse", {}),
    "sparse_huber": ("sparse", {"loss": "huber", "epsilon": 0.5}),
    **{f"optimizer_{name}": ("small", {"optimizer": name, **FIXED})
       for name in OPTIMIZERS},
}  # fmt: skip


def fit(name):
    """One case's fitted estimator."""
    from skneuron import NeuronRegressor

    (X, y), (Xs, Ys, weight), (sparse, y_sparse) = data()
    kind, params = CASES[name]
    params = dict(params)
    weighted = params.pop("sample_weight", False)
    X, y = {"diabetes": (X, y), "small": (Xs, Ys), "sparse": (sparse, y_sparse)}[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fixed-epoch runs do not converge
        return NeuronRegressor(**params).fit(
            X, y, sample_weight=weight if weighted else None
        )


def partial_fit():
    """A stream of three chunks of the small problem."""
    from skneuron import NeuronRegressor

    _, (Xs, Ys, _), _ = data()
    reg = NeuronRegressor(optimizer="adam", learning_rate=0.01, random_state=0)
    for rows in np.array_split(np.arange(len(Xs)), 3):
        reg.partial_fit(Xs[rows], Ys[rows])
    return reg


def results():
    """Every case's coefficients, intercepts and losses (and the default fit's
    standard errors), as one flat dict of arrays."""
    out = {}
    for name in CASES:
        reg = fit(name)
        out[f"{name}.coef"] = np.asarray(reg.coef_)
        out[f"{name}.intercept"] = np.atleast_1d(reg.intercept_)
        out[f"{name}.loss"] = np.asarray(reg.history_["loss"])
    reg = partial_fit()
    out["partial_fit.coef"], out["partial_fit.intercept"] = reg.coef_, reg.intercept_
    out["default.bse"] = fit("default").summary().bse
    return out


if __name__ == "__main__":
    np.savez(sys.argv[1], **results())
