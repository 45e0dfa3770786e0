"""Training on the sums of the rows (``precompute``), data far from zero, float32
input and wide data: the same answers as training on the rows."""

import warnings

import numpy as np
import pytest
from scipy import linalg
from sklearn.exceptions import ConvergenceWarning

from skneuron import NeuronRegressor

pytestmark = pytest.mark.slow  # large data


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5)) * [1.0, 10.0, 0.1, 3.0, 50.0] + [0, 5, -2, 0, 100]
    Y = X @ rng.normal(size=(5, 2)) + 3.0 + rng.normal(size=(300, 2))
    return X, Y, rng.uniform(0.2, 3.0, 300)


def _close(a, b, rtol=1e-9):
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"fit_intercept": False},
        {"alpha": 0.5},
        {"alpha": 0.2, "l1_ratio": 0.7},
        {"positive": True},
        {"validation_split": 0.2, "random_state": 0},
        {"learning_rate": 0.1, "epochs": 400, "tol": None},
        {"optimizer": "adam", "learning_rate": 0.05, "epochs": 300, "tol": None},
    ],
    ids=lambda params: "-".join(f"{k}={v}" for k, v in params.items()) or "default",
)
def test_sums_train_as_the_rows_do(data, params):
    """The sums give the loss and the gradient of the rows: the same epochs,
    with weights and several targets (the loss history too)."""
    X, Y, sw = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        rows = NeuronRegressor(precompute=False, **params).fit(X, Y, sample_weight=sw)
        sums = NeuronRegressor(precompute=True, **params).fit(X, Y, sample_weight=sw)
    assert sums.n_iter_ == rows.n_iter_
    if params.get("optimizer") == "adam":
        # Adam divides by the root of its squared gradients: it turns the last
        # bits of a zero gradient (the bias's, on centred data) into a full step,
        # and those bits differ between rows and sums; only the end agrees
        _close(sums, rows, rtol=1e-6)
        np.testing.assert_allclose(
            sums.history_["loss"][-1], rows.history_["loss"][-1], rtol=1e-6
        )
        return
    _close(sums, rows, rtol=1e-8)
    np.testing.assert_allclose(sums.history_["loss"], rows.history_["loss"], rtol=1e-8)
    if "validation_split" in params:
        np.testing.assert_allclose(
            sums.history_["val_loss"], rows.history_["val_loss"], rtol=1e-8
        )


def test_warm_start_on_sums(data):
    X, Y, _ = data
    reg = NeuronRegressor(warm_start=True, precompute=True, epochs=50, tol=None)
    reg.fit(X, Y)
    first = reg.history_["loss"][-1]
    reg.set_params(tol=1e-6, epochs=10_000).fit(X, Y)
    assert reg.history_["loss"][0] <= first * (1 + 1e-9)  # it went on from there
    _close(reg, NeuronRegressor(precompute=False).fit(X, Y), rtol=1e-6)


def test_a_given_gram_matrix(data):
    X, Y, sw = data
    reg = NeuronRegressor(precompute=X.T @ (sw[:, None] * X)).fit(
        X, Y, sample_weight=sw
    )
    _close(reg, NeuronRegressor().fit(X, Y, sample_weight=sw), rtol=1e-9)
    with pytest.raises(ValueError, match="does not match X"):
        NeuronRegressor(precompute=X.T @ X).fit(X, Y, sample_weight=sw)
    with pytest.raises(ValueError, match=r"\(5, 5\) Gram matrix"):
        NeuronRegressor(precompute=np.eye(4)).fit(X, Y)
    with pytest.raises(ValueError, match="validation_split"):
        NeuronRegressor(precompute=X.T @ X, validation_split=0.2).fit(X, Y)
    with pytest.raises(ValueError, match="squared loss"):
        NeuronRegressor(precompute=X.T @ X, loss="huber").fit(X, Y)


def test_precompute_true_needs_the_full_batch_squared_loss(data):
    X, Y, _ = data
    with pytest.raises(ValueError, match="full-batch squared loss"):
        NeuronRegressor(precompute=True, batch_size=32).fit(X, Y)


@pytest.mark.parametrize("precompute", [True, False])
def test_data_far_from_zero_stays_exact(precompute):
    """A column of 1e9 + noise: each block of rows is centred on its own mean."""
    rng = np.random.default_rng(3)
    X = np.column_stack([1e9 + rng.normal(size=2000), rng.normal(size=2000)])
    y = X @ [2.0, -1.0] + rng.normal(size=2000)
    Xc = X - X.mean(0)
    exact = linalg.lstsq(Xc, y - y.mean())[0]
    reg = NeuronRegressor(precompute=precompute).fit(X, y)
    np.testing.assert_allclose(reg.coef_, exact, rtol=1e-8)


def test_float32_input_is_read_as_it_is(data):
    """float32 X is not converted to a float64 copy: it is read in blocks, in
    float64, and gives the answer of the same values in float64."""
    X, Y, _ = data
    X32 = X.astype(np.float32)
    a = NeuronRegressor(tol=1e-10).fit(X32, Y[:, 0])
    b = NeuronRegressor(tol=1e-10).fit(X32.astype(np.float64), Y[:, 0])
    _close(a, b, rtol=1e-12)


def test_wide_data_trains_on_rows_quickly_and_fits_them():
    """100 x 6000: no 6000 x 6000 matrix is formed (the spectrum comes from the
    100 x 100 products); the fit interpolates the rows."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 6000))
    y = X[:, :10] @ rng.normal(size=10) + rng.normal(size=100)
    reg = NeuronRegressor().fit(X, y)
    np.testing.assert_allclose(reg.predict(X), y, atol=1e-6 * np.abs(y).max())
    with pytest.raises(ValueError, match="rank deficient"):
        reg.summary()
