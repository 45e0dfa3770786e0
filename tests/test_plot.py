"""LossCurveDisplay and FittedLineDisplay, drawn with matplotlib's Agg backend.

The root conftest.py closes every figure after each test.
"""

import copy
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skneuron import NeuronRegressor
from skneuron._plot import FittedLineDisplay, LossCurveDisplay

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(scope="module")
def data():
    """Three features on different scales, y linear in them plus noise."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)) * [1.0, 10.0, 0.1] + [0.0, 50.0, -2.0]
    y = X @ [2.0, -0.3, 4.0] + 3.0 + rng.normal(scale=0.5, size=60)
    return X, y


@pytest.fixture(scope="module")
def fitted(data):
    """NeuronRegressor fitted once on ``data``; TensorFlow starts only once."""
    X, y = data
    return NeuronRegressor().fit(X, y)


def legend_texts(ax):
    return sorted(text.get_text() for text in ax.get_legend().get_texts())


def grid_rows(X, feature, n=100):
    """The rows the display predicts on: the feature's range, the rest at the mean."""
    grid = np.linspace(X[:, feature].min(), X[:, feature].max(), n)
    rows = np.tile(X.mean(axis=0), (n, 1))
    rows[:, feature] = grid
    return grid, rows


def lstsq_line(X, y, rows):
    weights = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)[0]
    return rows @ weights[:-1] + weights[-1]


# -- LossCurveDisplay ------------------------------------------------------------------
def test_loss_curve_from_estimator(fitted):
    display = LossCurveDisplay.from_estimator(fitted)

    assert isinstance(display, LossCurveDisplay)
    np.testing.assert_array_equal(
        display.line_.get_xdata(), np.arange(1, fitted.n_iter_ + 1)
    )
    np.testing.assert_array_equal(display.line_.get_ydata(), fitted.history_["loss"])
    assert display.val_line_ is None
    assert display.val_loss is None
    assert display.estimator_name == "NeuronRegressor"
    assert display.ax_.get_xlabel() == "Epoch"
    assert display.ax_.get_ylabel() == "Loss"
    assert display.ax_.get_yscale() == "linear"
    assert legend_texts(display.ax_) == ["NeuronRegressor"]
    assert display.figure_ is display.ax_.figure


def test_loss_curve_with_validation_from_history(fitted):
    reg = copy.deepcopy(fitted)
    loss = fitted.history_["loss"]
    reg.history_ = {"loss": loss, "val_loss": [2 * v + 1 for v in loss]}
    display = LossCurveDisplay.from_estimator(reg, name="neuron")

    np.testing.assert_array_equal(display.line_.get_ydata(), loss)
    np.testing.assert_array_equal(
        display.val_line_.get_xdata(), np.arange(1, len(loss) + 1)
    )
    np.testing.assert_array_equal(
        display.val_line_.get_ydata(), reg.history_["val_loss"]
    )
    assert display.val_line_.get_color() == display.line_.get_color()
    assert display.val_line_.get_linestyle() == "--"
    assert legend_texts(display.ax_) == ["neuron (training)", "neuron (validation)"]


def test_loss_curve_direct_on_given_axes():
    fig, ax = plt.subplots()
    display = LossCurveDisplay(loss=[4.0, 2.0, 1.0], val_loss=[5.0, 3.0, 2.5])
    returned = display.plot(
        ax=ax,
        log_scale=True,
        color="tab:red",
        marker=".",
        val_line_kwargs={"ls": ":", "c": "tab:green"},
    )

    assert returned is display
    assert display.ax_ is ax and display.figure_ is fig
    np.testing.assert_array_equal(display.line_.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(display.val_line_.get_ydata(), [5.0, 3.0, 2.5])
    assert display.line_.get_color() == "tab:red"
    assert display.line_.get_marker() == "."
    assert display.val_line_.get_color() == "tab:green"
    assert display.val_line_.get_linestyle() == ":"
    assert ax.get_yscale() == "log"
    assert legend_texts(ax) == ["Training loss", "Validation loss"]


def test_loss_curves_of_two_estimators_share_axes(fitted):
    _, ax = plt.subplots()
    LossCurveDisplay(loss=[3.0, 1.0], estimator_name="first").plot(ax=ax)
    LossCurveDisplay.from_estimator(fitted, ax=ax, name="second")
    assert len(ax.get_lines()) == 2
    assert legend_texts(ax) == ["first", "second"]


def test_loss_curve_of_pipeline(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), NeuronRegressor()).fit(X, y)
    display = LossCurveDisplay.from_estimator(pipe)
    np.testing.assert_array_equal(display.line_.get_ydata(), pipe[-1].history_["loss"])
    assert legend_texts(display.ax_) == ["Pipeline"]


def test_loss_curve_errors(data):
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(NeuronRegressor())
    with pytest.raises(ValueError, match="no history_"):
        LossCurveDisplay.from_estimator(LinearRegression().fit(*data))
    with pytest.raises(ValueError, match="one value per epoch"):
        LossCurveDisplay(loss=[1.0, 0.5], val_loss=[1.0]).plot()


# -- FittedLineDisplay -----------------------------------------------------------------
@pytest.mark.parametrize("feature", [0, 1, 2])
def test_fitted_line_is_the_prediction_and_lstsq_line(data, fitted, feature):
    X, y = data
    display = FittedLineDisplay.from_estimator(fitted, X, y, feature=feature)
    grid, rows = grid_rows(X, feature)

    np.testing.assert_array_equal(
        np.asarray(display.scatter_.get_offsets()), np.column_stack([X[:, feature], y])
    )
    np.testing.assert_allclose(display.line_.get_xdata(), grid)
    np.testing.assert_allclose(display.line_.get_ydata(), fitted.predict(rows))
    np.testing.assert_allclose(display.reference_line_.get_xdata(), grid)
    np.testing.assert_allclose(
        display.reference_line_.get_ydata(), lstsq_line(X, y, rows)
    )
    # the neuron converged to the least-squares answer
    np.testing.assert_allclose(
        display.line_.get_ydata(), display.reference_line_.get_ydata(), rtol=1e-5
    )
    assert display.ax_.get_xlabel() == f"Feature {feature}"
    assert display.ax_.get_ylabel() == "Target"
    assert legend_texts(display.ax_) == ["Data", "Least squares", "NeuronRegressor"]
    assert display.figure_ is display.ax_.figure


def test_fitted_line_without_reference_on_given_axes(data, fitted):
    X, y = data
    fig, ax = plt.subplots()
    display = FittedLineDisplay.from_estimator(
        fitted,
        X,
        y,
        reference=False,
        ax=ax,
        name="neuron",
        grid_resolution=2,
        scatter_kwargs={"c": "tab:red"},
        line_kwargs={"c": "tab:orange", "lw": 3},
    )
    assert display.reference_line_ is None
    assert display.grid_reference is None
    assert display.ax_ is ax and display.figure_ is fig
    assert len(ax.get_lines()) == 1
    assert len(display.line_.get_xdata()) == 2
    assert display.line_.get_color() == "tab:orange"
    assert display.line_.get_linewidth() == 3
    assert legend_texts(ax) == ["Data", "neuron"]


def test_fitted_line_dataframe_column_name(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    target = pd.Series(y, name="price")
    reg = NeuronRegressor().fit(df, target)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "X does not have valid feature names"
        display = FittedLineDisplay.from_estimator(reg, df, target, feature="b")
    grid, rows = grid_rows(X, 1)

    np.testing.assert_allclose(display.line_.get_xdata(), grid)
    np.testing.assert_allclose(
        display.line_.get_ydata(), reg.predict(pd.DataFrame(rows, columns=df.columns))
    )
    np.testing.assert_allclose(
        display.reference_line_.get_ydata(), lstsq_line(X, y, rows)
    )
    assert display.ax_.get_xlabel() == "b"
    assert display.ax_.get_ylabel() == "price"
    # an index into a DataFrame is labelled with the column's name
    by_index = FittedLineDisplay.from_estimator(reg, df, target, feature=2)
    assert by_index.ax_.get_xlabel() == "c"


def test_fitted_line_of_pipeline_and_linear_regression(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), NeuronRegressor()).fit(X, y)
    ols = LinearRegression().fit(X, y)
    _, rows = grid_rows(X, 0)

    display = FittedLineDisplay.from_estimator(pipe, X, y)
    np.testing.assert_allclose(display.line_.get_ydata(), pipe.predict(rows))
    assert display.line_.get_label() == "Pipeline"

    display = FittedLineDisplay.from_estimator(ols, X, y)
    np.testing.assert_allclose(
        display.line_.get_ydata(), display.reference_line_.get_ydata(), rtol=1e-10
    )
    assert display.line_.get_label() == "LinearRegression"


def test_fitted_line_one_column_y(data, fitted):
    X, y = data
    display = FittedLineDisplay.from_estimator(fitted, X, y[:, None])
    np.testing.assert_array_equal(display.y, y)


@pytest.mark.parametrize(
    "feature, match",
    [
        (3, "out of range"),
        (-1, "out of range"),
        ("a", "no column names"),
        (1.0, "column index or name"),
    ],
)
def test_fitted_line_bad_feature(data, fitted, feature, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        FittedLineDisplay.from_estimator(fitted, X, y, feature=feature)


def test_fitted_line_unknown_column_name(data, fitted):
    pd = pytest.importorskip("pandas")
    X, y = data
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    with pytest.raises(ValueError, match="not a column of X"):
        FittedLineDisplay.from_estimator(fitted, df, y, feature="d")


def test_fitted_line_errors(data):
    X, y = data
    with pytest.raises(NotFittedError):
        FittedLineDisplay.from_estimator(NeuronRegressor(), X, y)
    Y = np.column_stack([y, 2 * y])
    two_targets = LinearRegression().fit(X, Y)
    with pytest.raises(ValueError, match="single target; y has shape"):
        FittedLineDisplay.from_estimator(two_targets, X, Y)
    with pytest.raises(ValueError, match="predicts 2 targets"):
        FittedLineDisplay.from_estimator(two_targets, X, y)
    with pytest.raises(ValueError, match="grid_resolution"):
        FittedLineDisplay.from_estimator(two_targets, X, y, grid_resolution=1)


# -- matplotlib stays optional ---------------------------------------------------------
@pytest.mark.slow
def test_import_does_not_import_matplotlib():
    code = (
        "import sys, skneuron, skneuron._plot; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'; "
        "assert skneuron._plot.__file__.startswith(sys.argv[1]), skneuron.__file__"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run(
        [sys.executable, "-c", code, str(root / "skneuron")], cwd=root, check=True
    )


@pytest.mark.parametrize(
    "draw",
    [
        lambda fitted, X, y: LossCurveDisplay.from_estimator(fitted),
        lambda fitted, X, y: LossCurveDisplay(loss=[1.0, 0.5]).plot(),
        lambda fitted, X, y: FittedLineDisplay.from_estimator(fitted, X, y),
    ],
    ids=["LossCurveDisplay.from_estimator", "plot", "FittedLineDisplay"],
)
def test_missing_matplotlib_names_the_plot_extra(data, fitted, monkeypatch, draw):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import raises ImportError
    with pytest.raises(ImportError, match="requires matplotlib") as raised:
        draw(fitted, *data)
    message = str(raised.value)
    assert 'pip install "skneuron[plot]"' in message
    assert 'pip install ".[plot]"' in message
