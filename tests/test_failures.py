"""Fail loudly and keep state: divergence is an error, and a fit that fails or is
interrupted leaves the estimator as it was."""

import pickle

import numpy as np
import pytest

from skneuron import NeuronRegressor


@pytest.fixture(scope="module")
def data(diabetes):
    import pandas as pd

    X, y = diabetes
    return pd.DataFrame(X, columns=[f"f{j}" for j in range(10)]), y


@pytest.mark.parametrize(
    "params",
    [
        {"learning_rate": 10.0, "tol": None, "epochs": 50},
        {"learning_rate": 3.0, "validation_split": 0.2, "early_stopping": True},
        {"learning_rate": 1.5, "precompute": False},
    ],
    ids=["fixed-epochs", "early-stopping", "rows"],
)
def test_divergence_is_an_error_naming_the_learning_rate(diabetes, params):
    """The loss stays finite for a while: it used to end as coefficients of 1e51
    (or the 'best' epoch of a diverging run, R² -4.7) without a word."""
    X, y = diabetes
    with pytest.raises(ValueError, match="diverged.*learning_rate"):
        NeuronRegressor(random_state=0, **params).fit(X, y)


def test_partial_fit_divergence_is_an_error_and_keeps_the_stream(diabetes):
    X, y = diabetes
    reg = NeuronRegressor(learning_rate=10.0)
    calls = 0
    with pytest.raises(ValueError, match="diverged.*learning_rate"):
        for calls in range(1, 9):  # noqa: B007
            before = pickle.dumps(reg)
            reg.partial_fit(X, y)
    assert calls < 8
    assert pickle.dumps(reg) == before  # the last good state, whole


def _state(reg):
    """Everything a refit must leave alone."""
    stream = reg._stream
    return {
        "coef": reg.coef_.copy(),
        "intercept": np.copy(reg.intercept_),
        "n_features_in": reg.n_features_in_,
        "names": list(getattr(reg, "feature_names_in_", [])),
        "history": pickle.dumps(reg.history_),
        "stream": pickle.dumps(stream),
    }


def _assert_same(reg, state, X):
    now = _state(reg)
    for key in ["coef", "intercept"]:
        np.testing.assert_array_equal(now[key], state[key])
    for key in ["n_features_in", "names", "history", "stream"]:
        assert now[key] == state[key], key
    reg.predict(X)  # still predicts, on the data it was fitted on


def _failing_progress(monkeypatch):
    from skneuron import _progress

    def fail(self, *args):
        raise RuntimeError("a callback failed")

    monkeypatch.setattr(_progress._Progress, "update", fail)


TRIGGERS = {
    "unknown optimizer": ({"optimizer": "nope"}, ValueError, None),
    "early stopping without a split": ({"early_stopping": True}, ValueError, None),
    "zero weight on the training rows": (
        {"validation_split": 0.5, "random_state": 0},
        ValueError,
        "zero-weight",
    ),
    "divergence": (
        {"learning_rate": 10.0, "tol": None, "epochs": 50},
        ValueError,
        None,
    ),
    "a callback raising": ({"verbose": 2, "epochs": 5}, RuntimeError, "callback"),
}


@pytest.mark.parametrize("trigger", list(TRIGGERS))
def test_a_failed_refit_leaves_the_fitted_state_whole(data, trigger, monkeypatch):
    X, y = data
    reg = NeuronRegressor().fit(X, y).partial_fit(X, y)
    state = _state(reg)
    params, error, how = TRIGGERS[trigger]
    X_new, sample_weight = X.iloc[:, :4].to_numpy(), None  # other features, no names
    if how == "zero-weight":
        rows = np.random.RandomState(0).permutation(len(y))[: len(y) // 2]
        sample_weight = np.zeros(len(y))
        sample_weight[rows] = 1.0  # only the held-out rows weigh
    if how == "callback":
        _failing_progress(monkeypatch)
    with pytest.raises(error):
        reg.set_params(**params).fit(X_new, y, sample_weight=sample_weight)
    _assert_same(reg, state, X)


@pytest.mark.slow
def test_an_interrupted_refit_leaves_the_fitted_state_whole(data, monkeypatch):
    from skneuron import _keras

    X, y = data
    reg = NeuronRegressor(learning_rate=0.01, tol=None, epochs=3000).fit(X, y)
    state = _state(reg)
    original = _keras._Run._call

    def interrupted(self, *args):
        original(self, *args)
        raise KeyboardInterrupt

    monkeypatch.setattr(_keras._Run, "_call", interrupted)
    with pytest.raises(KeyboardInterrupt):
        reg.fit(X.iloc[:, :4].to_numpy(), y)
    _assert_same(reg, state, X)


def test_a_fit_without_randomness_leaves_the_global_random_state_alone(diabetes):
    X, y = diabetes
    before = np.random.get_state()
    NeuronRegressor().fit(X, y)
    NeuronRegressor(loss="huber", epsilon=50.0).fit(X, y)
    now = np.random.get_state()
    np.testing.assert_array_equal(now[1], before[1])
    assert now[2:] == before[2:]


def test_model_predicts_as_predict(diabetes):
    from skneuron import _keras

    if _keras.standalone_dtype() != "float64":  # see tests/test_backends.py
        pytest.skip("model_ is float32 on JAX outside its 64-bit mode")
    X, y = diabetes
    reg = NeuronRegressor().fit(X, y)
    model = reg.model_
    assert model.get_layer("neuron").get_weights()[0].dtype == np.float64
    np.testing.assert_allclose(np.asarray(model(X))[:, 0], reg.predict(X), rtol=1e-13)
    # Keras' predict loop casts NumPy input to floatx (float32): X's rounding only
    np.testing.assert_allclose(
        model.predict(X, verbose=0)[:, 0], reg.predict(X), rtol=1e-5
    )
    huge = NeuronRegressor().fit(X, y * 1e300)  # coefficients beyond float32
    assert np.isfinite(huge.model_.get_layer("neuron").get_weights()[0]).all()


def test_a_column_beyond_float64s_range_is_a_clear_error(diabetes):
    X, y = diabetes
    X = np.c_[X[:, :2], np.where(np.arange(len(y)) % 2, 9e307, -9e307)]
    with pytest.raises(ValueError, match="Column 2 of X spans more than float64"):
        NeuronRegressor().fit(X, y)
