"""Behaviour of NeuronRegressor: exactness, attributes, scikit-learn integration."""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy import linalg
from sklearn.base import clone, is_regressor
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skneuron import NeuronRegressor

RTOL = 1e-5


def lstsq(X, y, sample_weight=None):
    """Exact weighted least squares with intercept, for reference."""
    w = np.ones(len(X)) if sample_weight is None else sample_weight
    Xm, ym = np.average(X, 0, w), np.average(y, 0, w)
    s = np.sqrt(w)[:, None]
    coef = linalg.lstsq((X - Xm) * s, (y - ym).reshape(len(y), -1) * s)[0].T
    return coef, ym - coef @ Xm


@pytest.mark.parametrize("name", ["tutorial1", "tutorial2", "tutorial4"])
def test_tutorial_data_matches_linear_regression(name, tutorials):
    X, y = tutorials[name]
    ref = LinearRegression().fit(X, y)
    reg = NeuronRegressor().fit(X, y)
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=RTOL)
    np.testing.assert_allclose(reg.intercept_, ref.intercept_, rtol=RTOL)


def test_diabetes_unscaled_matches_linear_regression(diabetes):
    X, y = diabetes
    ref = LinearRegression().fit(X, y)
    reg = NeuronRegressor().fit(X, y)
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=RTOL)
    np.testing.assert_allclose(reg.intercept_, ref.intercept_, rtol=RTOL)
    assert reg.n_iter_ < 2000


@pytest.mark.parametrize("n_features", [3, 50, 200])
def test_feature_scales_from_1e_minus3_to_1e3(n_features):
    rng = np.random.default_rng(n_features)
    scales = np.logspace(-3, 3, n_features)
    X = rng.standard_normal((5 * n_features + 50, n_features)) * scales
    X += rng.uniform(-5, 5, n_features) * scales  # offsets too
    true = rng.choice([-1, 1], n_features) * rng.uniform(0.5, 2, n_features) / scales
    y = X @ true + 3.0 + 0.1 * rng.standard_normal(len(X))
    coef, intercept = lstsq(X, y)
    reg = NeuronRegressor().fit(X, y)
    np.testing.assert_allclose(reg.coef_, coef[0], rtol=RTOL)
    np.testing.assert_allclose(reg.intercept_, intercept[0], rtol=RTOL)
    # LinearRegression's lstsq (cond=tol) agrees wherever it keeps every direction.
    ref = LinearRegression().fit(X, y)
    if ref.rank_ == n_features:
        np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=RTOL)


def test_linear_regression_params_are_accepted(diabetes):
    X, y = diabetes
    params = LinearRegression().get_params()
    reg = NeuronRegressor(**params).fit(X, y)
    assert reg.get_params()["tol"] == params["tol"]
    np.testing.assert_allclose(reg.coef_, LinearRegression().fit(X, y).coef_, rtol=RTOL)


def test_is_regressor_and_score(diabetes):
    X, y = diabetes
    reg = NeuronRegressor().fit(X, y)
    assert is_regressor(reg)
    assert reg.score(X, y) == pytest.approx(LinearRegression().fit(X, y).score(X, y))


def test_attributes_for_1d_and_2d_targets(diabetes):
    X, y = diabetes
    reg = NeuronRegressor().fit(X, y)
    assert reg.coef_.shape == (10,)
    assert isinstance(reg.intercept_, float)
    assert reg.n_features_in_ == 10
    assert not hasattr(reg, "feature_names_in_")
    assert reg.n_iter_ == len(reg.history_["loss"])
    assert reg.history_["loss"][-1] == pytest.approx(np.mean((reg.predict(X) - y) ** 2))

    Y = np.column_stack([y, -2 * y + 5, X[:, 2]])
    reg2 = NeuronRegressor().fit(X, Y)
    ref2 = LinearRegression().fit(X, Y)
    assert reg2.coef_.shape == (3, 10) and reg2.intercept_.shape == (3,)
    np.testing.assert_allclose(reg2.coef_, ref2.coef_, rtol=RTOL, atol=1e-9)
    np.testing.assert_allclose(reg2.intercept_, ref2.intercept_, rtol=RTOL, atol=1e-9)
    assert reg2.predict(X).shape == (len(X), 3)

    reg1 = NeuronRegressor().fit(X, y[:, None])
    assert reg1.coef_.shape == (1, 10) and reg1.intercept_.shape == (1,)


def test_no_intercept(diabetes):
    X, y = diabetes
    reg = NeuronRegressor(fit_intercept=False).fit(X, y)
    ref = LinearRegression(fit_intercept=False).fit(X, y)
    assert reg.intercept_ == 0.0
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=RTOL)


def test_positive_matches_nnls(diabetes):
    X, y = diabetes
    reg = NeuronRegressor(positive=True).fit(X, y)
    ref = LinearRegression(positive=True).fit(X, y)
    assert (reg.coef_ >= 0).all()
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-4)


def test_sample_weight_matches_linear_regression(diabetes):
    X, y = diabetes
    sw = np.random.default_rng(0).uniform(0.1, 3, len(y))
    reg = NeuronRegressor().fit(X, y, sample_weight=sw)
    ref = LinearRegression().fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=RTOL)
    np.testing.assert_allclose(reg.intercept_, ref.intercept_, rtol=RTOL)


def test_feature_names_in_with_dataframe(diabetes):
    pd = pytest.importorskip("pandas")
    X, y = diabetes
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(10)])
    reg = NeuronRegressor().fit(df, y)
    assert list(reg.feature_names_in_) == list(df.columns)
    with pytest.warns(UserWarning, match="feature names"):
        np.testing.assert_allclose(reg.predict(df), reg.predict(X))


def test_model_is_the_neuron_in_original_units(diabetes):
    X, y = diabetes
    reg = NeuronRegressor().fit(X, y)
    model = reg.model_
    dense = model.get_layer("neuron")
    kernel, bias = dense.get_weights()
    np.testing.assert_allclose(kernel[:, 0], reg.coef_, rtol=1e-6)
    np.testing.assert_allclose(bias[0], reg.intercept_, rtol=1e-6)
    assert model.get_layer(index=0) is dense  # as the tutorials read it
    np.testing.assert_allclose(
        model.predict(X, verbose=0)[:, 0], reg.predict(X), rtol=1e-5, atol=1e-3
    )
    assert reg.model_ is model  # built once
    with pytest.raises(NotFittedError):
        _ = NeuronRegressor().model_


def test_convergence_warning_and_fixed_epochs(diabetes):
    X, y = diabetes
    with pytest.warns(ConvergenceWarning, match="did not converge in 3 epochs"):
        reg = NeuronRegressor(epochs=3).fit(X, y)
    assert reg.n_iter_ == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg = NeuronRegressor(optimizer="adam", learning_rate=0.1, epochs=40, tol=None)
        reg.fit(X, y)
    assert reg.n_iter_ == 40 and len(reg.history_["loss"]) == 40


@pytest.mark.slow
def test_tutorial_recipes_run(tutorials):
    X, y = tutorials["tutorial1"]
    reg = NeuronRegressor(optimizer="adam", learning_rate=0.1, epochs=200, tol=None)
    reg.fit(X, y)
    ref = LinearRegression().fit(X, y)
    # preconditioned Adam lands near the answer but keeps moving: not exact
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=0.05)
    assert reg.history_["loss"][-1] < reg.history_["loss"][0]
    reg = NeuronRegressor(
        optimizer="adam", learning_rate=0.6, epochs=30, random_state=0
    ).fit(*tutorials["tutorial2"])  # tutorial 2: stops on its own or warns
    assert 1 <= reg.n_iter_ <= 30
    reg = NeuronRegressor(
        optimizer="rmsprop",
        learning_rate=0.005,
        batch_size=16,
        epochs=101,
        validation_split=0.3,
        tol=None,
        random_state=0,
    ).fit(X, y)
    assert reg.n_iter_ == 101 and len(reg.history_["val_loss"]) == 101
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=0.1)


def test_optimizer_instance_and_class_are_copied(tutorials):
    import keras

    X, y = tutorials["tutorial2"]
    opt = keras.optimizers.Adam(learning_rate=0.05)
    a = NeuronRegressor(optimizer=opt, epochs=50, tol=None).fit(X, y)
    b = NeuronRegressor(
        optimizer=keras.optimizers.Adam, learning_rate=0.05, epochs=50, tol=None
    )
    b.fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_)
    assert not opt.built  # the user's instance is never trained
    clone(a)


def test_same_random_state_same_coefficients(tutorials):
    X, y = tutorials["tutorial4"]
    params = dict(
        batch_size=7, epochs=20, tol=None, optimizer="adam", learning_rate=0.05
    )
    a = NeuronRegressor(random_state=3, **params).fit(X, y)
    b = NeuronRegressor(random_state=3, **params).fit(X, y)
    c = NeuronRegressor(random_state=4, **params).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.coef_[0] != c.coef_[0]


@pytest.mark.slow
def test_same_random_state_across_processes():
    code = (
        "import numpy as np; from skneuron import NeuronRegressor;"
        "x = np.arange(50.0)[:, None]; y = 3.5 * x.ravel() + np.sin(x.ravel());"
        "r = NeuronRegressor(batch_size=7, epochs=20, tol=None, optimizer='adam',"
        " learning_rate=0.05, random_state=3).fit(x, y);"
        "print(repr(float(r.coef_[0])), repr(r.intercept_))"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        for _ in range(2)
    ]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stdout == runs[1].stdout


@pytest.mark.slow
def test_global_state_untouched(tutorials):
    import random

    import keras

    np_state = np.random.get_state()
    py_state = random.getstate()
    floatx = keras.config.floatx()
    X, y = tutorials["tutorial1"]
    NeuronRegressor(batch_size=8, epochs=3, tol=None, random_state=0).fit(X, y)
    _ = NeuronRegressor().fit(X, y).model_  # random_state=None, nothing random
    NeuronRegressor(epochs=3, tol=None).partial_fit(X, y)
    assert keras.config.floatx() == floatx
    now = np.random.get_state()  # the key and the position in it
    np.testing.assert_array_equal(now[1], np_state[1])
    assert now[2:] == np_state[2:]
    assert random.getstate() == py_state
    assert keras.layers.Dense(1).name == "dense"  # no Keras name counter was bumped


@pytest.mark.slow
def test_import_is_light_and_predict_needs_no_tensorflow(tmp_path, diabetes):
    X, y = diabetes
    reg = NeuronRegressor().fit(X, y)
    path = tmp_path / "reg.pkl"
    path.write_bytes(pickle.dumps(reg))
    np.save(tmp_path / "X.npy", X)
    code = (
        "import pickle, sys, numpy as np; import skneuron;"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules;"
        f"reg = pickle.loads(open({str(path)!r}, 'rb').read());"
        f"p = reg.predict(np.load({str(tmp_path / 'X.npy')!r}));"
        "assert 'tensorflow' not in sys.modules;"
        "print(repr(float(p.sum())))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) == reg.predict(X).sum()


def test_quiet_by_default(capfd, diabetes):
    X, y = diabetes
    NeuronRegressor().fit(X, y)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_verbose_prints_progress(capfd, tutorials):
    X, y = tutorials["tutorial2"]
    NeuronRegressor(verbose=2, epochs=12, tol=None).fit(X, y)
    lines = [line for line in capfd.readouterr().out.splitlines() if line]
    assert len(lines) == 12 and lines[-1].startswith("Epoch 12/12 - loss:")
    NeuronRegressor(verbose=1, epochs=12, tol=None).fit(X, y)
    assert "loss" in capfd.readouterr().out


def test_warm_start_continues(diabetes):
    X, y = diabetes
    reg = NeuronRegressor(warm_start=True, epochs=150)
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    reg.set_params(epochs=10_000).fit(X, y)
    cold = NeuronRegressor().fit(X, y)
    # (a restart loses the heavy ball's momentum: from only a few epochs in, the
    # continued fit gains nothing)
    assert reg.n_iter_ < cold.n_iter_ - 50
    np.testing.assert_allclose(reg.coef_, cold.coef_, rtol=RTOL)


def test_pipeline_cross_val_and_grid_search(diabetes):
    X, y = diabetes
    neuron = cross_val_score(
        make_pipeline(StandardScaler(), NeuronRegressor()), X, y, cv=3
    )
    linear = cross_val_score(
        make_pipeline(StandardScaler(), LinearRegression()), X, y, cv=3
    )
    np.testing.assert_allclose(neuron, linear, rtol=1e-6)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), NeuronRegressor(epochs=50, tol=None)),
        {"neuronregressor__learning_rate": [1e-3, "auto"]},
        cv=3,
    ).fit(X, y)
    assert search.best_params_["neuronregressor__learning_rate"] == "auto"


def test_clone_params_and_pickle(diabetes):
    X, y = diabetes
    reg = NeuronRegressor(optimizer="adam", learning_rate=0.01, epochs=7, tol=None)
    assert clone(reg).get_params() == reg.get_params()
    assert reg.set_params(epochs=9).epochs == 9
    reg.fit(X, y)
    _ = reg.model_  # a built Keras model is not pickled
    loaded = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    np.testing.assert_allclose(
        loaded.model_.get_layer("neuron").get_weights()[0][:, 0], reg.coef_, rtol=1e-6
    )


@pytest.mark.parametrize(
    "X, y, error, match",
    [
        ([[np.nan], [1.0]], [1.0, 2.0], ValueError, "NaN"),
        ([[np.inf], [1.0]], [1.0, 2.0], ValueError, "infinity"),
        ([[0.0], [1.0]], [1.0, np.nan], ValueError, "NaN"),
        (
            [[0.0], [1.0], [2.0]],
            [1.0, 2.0],
            ValueError,
            "inconsistent numbers of samples",
        ),
        (np.empty((0, 1)), np.empty(0), ValueError, "0 sample"),
        ([["a"], ["b"]], [1.0, 2.0], ValueError, "could not convert|dtype"),
        ([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], ValueError, "Expected 2D array"),
    ],
)
def test_bad_input_errors(X, y, error, match):
    with pytest.raises(error, match=match):
        NeuronRegressor().fit(X, y)


def test_bad_input_at_predict_and_params(diabetes):
    X, y = diabetes
    reg = NeuronRegressor().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        reg.predict(X[:, :3])
    with pytest.raises(ValueError, match="not the name of a Keras optimizer"):
        NeuronRegressor(optimizer="nope").fit(X, y)
    with pytest.raises(ValueError, match="epochs"):
        NeuronRegressor(epochs=0).fit(X, y)
    with pytest.raises(ValueError, match="non-zero"):
        NeuronRegressor().fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="[Nn]egative"):
        NeuronRegressor().fit(X, y, sample_weight=-np.ones(len(y)))


def test_divergence_names_learning_rate(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="learning_rate"):
        NeuronRegressor(optimizer="sgd", learning_rate=1e6, epochs=500).fit(X, y)


@pytest.mark.parametrize("weighted", [False, True])
def test_penalties_match_ridge_and_elastic_net(diabetes, weighted):
    from sklearn.linear_model import ElasticNet, Ridge

    X, y = diabetes
    sw = np.random.default_rng(0).uniform(0.5, 2, len(y)) if weighted else None
    total = len(y) if sw is None else sw.sum()
    ridge = Ridge(alpha=0.5 * total).fit(X, y, sample_weight=sw)
    reg = NeuronRegressor(alpha=0.5).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(reg.coef_, ridge.coef_, rtol=1e-4)
    np.testing.assert_allclose(reg.intercept_, ridge.intercept_, rtol=1e-4)

    enet = ElasticNet(alpha=0.3, l1_ratio=0.6, tol=1e-12, max_iter=100_000)
    enet.fit(X, y, sample_weight=sw)
    reg = NeuronRegressor(alpha=0.3, l1_ratio=0.6).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(reg.coef_, enet.coef_, rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(reg.intercept_, enet.intercept_, rtol=1e-4)


@pytest.mark.parametrize("alpha", [0.1, 10.0])
def test_lasso_converges_to_lasso_without_warning(diabetes, alpha):
    from sklearn.linear_model import Lasso

    X, y = diabetes
    lasso = Lasso(alpha=alpha, tol=1e-14, max_iter=1_000_000).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = NeuronRegressor(alpha=alpha, l1_ratio=1.0).fit(X, y)
    np.testing.assert_allclose(reg.coef_, lasso.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(reg.coef_ == 0, lasso.coef_ == 0)  # same support
