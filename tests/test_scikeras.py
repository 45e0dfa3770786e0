"""The neuron as a scikeras model: ``KerasRegressor(model=neuron_model)``.

Only run where scikeras is installed (``pip install skneuron[scikeras]``). scikeras
goes back to Python after every epoch, so the fits here are kept to a few epochs.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("scikeras")

import keras  # noqa: E402
from scikeras.wrappers import KerasRegressor  # noqa: E402

from skneuron import NeuronRegressor  # noqa: E402
from skneuron._scikeras import neuron_model  # noqa: E402

pytestmark = pytest.mark.slow  # scikeras' Keras models


def regressor(**params):
    """Full-batch Adam, quiet; the weights start at zero, so fits are deterministic."""
    defaults = dict(
        model=neuron_model,
        optimizer="adam",
        optimizer__learning_rate=0.1,
        epochs=2,
        batch_size=-1,
        verbose=0,
    )
    return KerasRegressor(**{**defaults, **params})


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    y = X @ [1.0, -2.0, 0.5] + 3.0
    return X, y


@pytest.mark.parametrize("n_targets", [1, 2])
def test_fit_predict_shapes_and_the_neuron_layer(data, n_targets):
    X, y = data
    Y = y if n_targets == 1 else np.column_stack([y, -y])
    reg = regressor().fit(X, Y)

    assert reg.predict(X).shape == Y.shape
    assert len(reg.history_["loss"]) == 2
    neuron = reg.model_.get_layer("neuron")
    assert isinstance(neuron, keras.layers.Dense)
    assert reg.model_.layers == [neuron]
    kernel, bias = neuron.get_weights()
    assert kernel.shape == (3, n_targets)
    assert bias.shape == (n_targets,)
    # KerasRegressor's loss=None (its default) becomes the least-squares loss.
    assert reg.model_.loss == "mean_squared_error"
    # The optimizer and its routed learning rate are KerasRegressor's.
    assert isinstance(reg.model_.optimizer, keras.optimizers.Adam)
    assert float(reg.model_.optimizer.learning_rate) == pytest.approx(0.1)


def test_fit_intercept_false_has_no_bias(data):
    X, y = data
    reg = regressor(model__fit_intercept=False).fit(X, y)
    neuron = reg.model_.get_layer("neuron")
    assert not neuron.use_bias
    assert [w.shape for w in neuron.get_weights()] == [(3, 1)]
    assert reg.predict(np.zeros((1, 3))) == pytest.approx([0.0])


def test_positive_keeps_the_kernel_non_negative(data):
    X, y = data
    reg = regressor(model__positive=True, epochs=3).fit(X, -y)
    neuron = reg.model_.get_layer("neuron")
    assert isinstance(neuron.kernel_constraint, keras.constraints.NonNeg)
    assert (neuron.get_weights()[0] >= 0).all()


def test_weights_approach_neuron_regressor():
    """Well-scaled data (centred, orthonormal columns of norm sqrt(n)): full-batch
    Adam with a high rate settles on the least-squares answer in a few dozen
    epochs (beta_1=0.5 damps its oscillation)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 2))
    X = np.linalg.svd(X - X.mean(0), full_matrices=False)[0] * np.sqrt(30)
    y = X @ [1.5, -2.0] + 0.5 + 0.1 * rng.standard_normal(30)

    exact = NeuronRegressor().fit(X, y)
    reg = regressor(optimizer__learning_rate=0.2, optimizer__beta_1=0.5, epochs=30).fit(
        X, y
    )
    kernel, bias = reg.model_.get_layer("neuron").get_weights()

    assert kernel.dtype == np.float32  # Keras' default float, not float64
    assert kernel[:, 0] == pytest.approx(exact.coef_, abs=0.01)
    assert bias[0] == pytest.approx(exact.intercept_, abs=0.01)
    assert reg.predict(X) == pytest.approx(exact.predict(X), abs=0.01)


def test_direct_call_compiles_only_with_compile_kwargs():
    meta = {"n_features_in_": 4, "n_outputs_": 2, "n_outputs_expected_": 1}
    model = neuron_model(meta)
    assert not model.compiled
    assert model.get_layer("neuron").kernel.shape == (4, 2)

    given = neuron_model(
        meta, {"optimizer": "sgd", "loss": "mean_absolute_error", "metrics": None}
    )
    assert given.compiled
    assert given.loss == "mean_absolute_error"  # a loss that is given is kept


def test_nd_input_is_refused():
    meta = {"n_features_in_": 4, "n_outputs_": 1, "X_shape_": (10, 4, 2)}
    with pytest.raises(ValueError, match="2-D X"):
        neuron_model(meta)


def test_module_imports_neither_scikeras_nor_tensorflow():
    """The module loads on its own (without the package) and imports only the
    standard library: scikeras is optional and TensorFlow starts on the first call."""
    path = Path(neuron_model.__code__.co_filename)
    code = (
        "import importlib.util, sys; "
        f"spec = importlib.util.spec_from_file_location('m', {str(path)!r}); "
        "spec.loader.exec_module(importlib.util.module_from_spec(spec)); "
        "names = {'scikeras', 'tensorflow', 'keras', 'skneuron'}; "
        "print(sorted(names & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
