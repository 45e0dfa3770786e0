"""Plotting displays in the style of scikit-learn's Display API.

Matplotlib is optional: it is imported by ``plot`` (and so by ``from_estimator``),
never when skneuron is imported.
"""

from __future__ import annotations

from numbers import Integral
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils.validation import check_is_fitted

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from numpy.typing import ArrayLike

# Short matplotlib keyword names and the long names they stand for: a default given
# under one name is dropped when the user gives the other (as scikit-learn does).
_ALIASES = {
    "c": "color",
    "ls": "linestyle",
    "lw": "linewidth",
    "ms": "markersize",
    "mec": "markeredgecolor",
    "mew": "markeredgewidth",
    "mfc": "markerfacecolor",
    "ec": "edgecolor",
    "fc": "facecolor",
}


def _check_matplotlib_support(caller_name: str) -> None:
    """Raise an ImportError that names skneuron's extra when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise ImportError(
            f"{caller_name} requires matplotlib, which is optional for skneuron. "
            'Install it with skneuron\'s plot extra: pip install "skneuron[plot]" '
            '(from a checkout of the repository: pip install ".[plot]").'
        ) from error


def _style(default: dict[str, Any], user: dict[str, Any] | None) -> dict[str, Any]:
    """Matplotlib keywords: the defaults, overridden by the user's (aliases too)."""
    user = dict(user or {})
    given = {_ALIASES.get(key, key) for key in user}
    style = {k: v for k, v in default.items() if _ALIASES.get(k, k) not in given}
    return {**style, **user}


class LossCurveDisplay:
    """Training (and validation) loss per epoch of a gradient-descent fit.

    Use :meth:`from_estimator` to plot the ``history_`` of a fitted
    :class:`~skneuron.NeuronRegressor`; build the display directly to plot any
    sequence of per-epoch losses. All parameters are stored as attributes.

    Parameters
    ----------
    loss : array-like of shape (n_epochs,)
        Training loss of each epoch, such as ``history_["loss"]``.

    val_loss : array-like of shape (n_epochs,), default=None
        Validation loss of each epoch, such as ``history_["val_loss"]``. None when
        there is no validation data.

    estimator_name : str, default=None
        Name used in the legend. None labels the curves "Training loss" and
        "Validation loss".

    Attributes
    ----------
    line_ : matplotlib Line2D
        The training loss curve.

    val_line_ : matplotlib Line2D or None
        The validation loss curve; None when ``val_loss`` is None.

    ax_ : matplotlib Axes
        Axes with the curves.

    figure_ : matplotlib Figure
        Figure containing the curves.

    See Also
    --------
    FittedLineDisplay : The data and the fitted line of one feature.

    Examples
    --------
    >>> from skneuron import LossCurveDisplay
    >>> display = LossCurveDisplay(loss=[4.0, 2.5, 1.8], val_loss=[4.2, 2.9, 2.4])
    >>> display = display.plot(log_scale=True)
    >>> display.line_.get_xydata().tolist()
    [[1.0, 4.0], [2.0, 2.5], [3.0, 1.8]]
    """

    def __init__(
        self,
        *,
        loss: ArrayLike,
        val_loss: ArrayLike | None = None,
        estimator_name: str | None = None,
    ) -> None:
        self.loss = loss
        self.val_loss = val_loss
        self.estimator_name = estimator_name

    def plot(
        self,
        ax: Axes | None = None,
        *,
        name: str | None = None,
        log_scale: bool = False,
        val_line_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> LossCurveDisplay:
        """Plot the loss curves.

        Epochs are numbered from 1. The validation curve, if any, is drawn dashed
        in the colour of the training curve.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on. None creates a new figure and axes.

        name : str, default=None
            Name used in the legend; None uses ``estimator_name``. Without
            validation loss the training curve is labelled ``name``; with it the
            curves are labelled ``"<name> (training)"`` and
            ``"<name> (validation)"``. Without any name: "Training loss" and
            "Validation loss".

        log_scale : bool, default=False
            Whether to use a logarithmic loss axis.

        val_line_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the validation curve.

        **kwargs : dict
            Keyword arguments for matplotlib's ``plot`` of the training curve.

        Returns
        -------
        display : LossCurveDisplay
            The display, with the drawn artists as attributes.
        """
        _check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        loss = np.asarray(self.loss, dtype=float).ravel()
        val_loss = None
        if self.val_loss is not None:
            val_loss = np.asarray(self.val_loss, dtype=float).ravel()
            if val_loss.shape != loss.shape:
                raise ValueError(
                    "loss and val_loss must have one value per epoch each; got "
                    f"{loss.size} and {val_loss.size} values."
                )
        name = self.estimator_name if name is None else name
        if val_loss is None:
            labels = (name or "Training loss", None)
        elif name:
            labels = (f"{name} (training)", f"{name} (validation)")
        else:
            labels = ("Training loss", "Validation loss")

        if ax is None:
            _, ax = plt.subplots()
        epochs = np.arange(1, loss.size + 1)
        (self.line_,) = ax.plot(epochs, loss, **_style({"label": labels[0]}, kwargs))
        self.val_line_ = None
        if val_loss is not None:
            default = {
                "label": labels[1],
                "color": self.line_.get_color(),
                "linestyle": "--",
            }
            (self.val_line_,) = ax.plot(
                epochs, val_loss, **_style(default, val_line_kwargs)
            )
        if log_scale:
            ax.set_yscale("log")
        ax.set(xlabel="Epoch", ylabel="Loss")
        ax.legend()

        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        *,
        ax: Axes | None = None,
        name: str | None = None,
        log_scale: bool = False,
        val_line_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> LossCurveDisplay:
        """Plot the loss curves recorded by a fitted estimator.

        Parameters
        ----------
        estimator : estimator instance
            A fitted estimator with a ``history_`` attribute, such as
            :class:`~skneuron.NeuronRegressor`, or a fitted
            :class:`~sklearn.pipeline.Pipeline` whose last step has one.
            ``history_["loss"]`` is plotted, and ``history_["val_loss"]`` when
            present.

        ax : matplotlib Axes, default=None
            Axes to plot on. None creates a new figure and axes.

        name : str, default=None
            Name used in the legend; None uses the estimator's class name.

        log_scale : bool, default=False
            Whether to use a logarithmic loss axis.

        val_line_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the validation curve.

        **kwargs : dict
            Keyword arguments for matplotlib's ``plot`` of the training curve.

        Returns
        -------
        display : LossCurveDisplay
            The display, with the drawn artists as attributes.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.

        Examples
        --------
        >>> import numpy as np
        >>> from skneuron import NeuronRegressor
        >>> from skneuron import LossCurveDisplay
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> y = np.array([1.0, 2.9, 5.2, 6.9])
        >>> reg = NeuronRegressor(optimizer="adam", epochs=20, tol=None).fit(X, y)
        >>> display = LossCurveDisplay.from_estimator(reg)
        >>> len(display.line_.get_ydata()), display.val_line_ is None
        (20, True)
        """
        _check_matplotlib_support(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
        history = getattr(final, "history_", None)
        if history is None:
            raise ValueError(
                f"{type(final).__name__} has no history_ of per-epoch losses to plot."
            )
        display = cls(
            loss=history["loss"],
            val_loss=history.get("val_loss"),
            estimator_name=type(estimator).__name__ if name is None else name,
        )
        return display.plot(
            ax=ax, log_scale=log_scale, val_line_kwargs=val_line_kwargs, **kwargs
        )


class FittedLineDisplay:
    """The data of one feature against the target, with a regressor's fitted line.

    Use :meth:`from_estimator` to create the display from a fitted regressor and
    data. The fitted line is the regressor's prediction along the feature's range
    with every other feature held at its mean; the optional reference line is the
    exact least-squares fit drawn the same way. All parameters are stored as
    attributes.

    Parameters
    ----------
    x : ndarray of shape (n_samples,)
        Values of the feature at the data points.

    y : ndarray of shape (n_samples,)
        Target values at the data points.

    grid : ndarray of shape (n_grid,)
        Values of the feature at which the lines are drawn.

    grid_pred : ndarray of shape (n_grid,)
        The regressor's predictions at ``grid``.

    grid_reference : ndarray of shape (n_grid,), default=None
        The least-squares fit at ``grid``; None draws no reference line.

    feature_name : str, default=None
        Label of the x axis; None uses "Feature".

    target_name : str, default=None
        Label of the y axis; None uses "Target".

    estimator_name : str, default=None
        Legend label of the fitted line; None uses "Fitted line".

    Attributes
    ----------
    scatter_ : matplotlib PathCollection
        The data points.

    line_ : matplotlib Line2D
        The regressor's fitted line.

    reference_line_ : matplotlib Line2D or None
        The least-squares line; None when ``grid_reference`` is None.

    ax_ : matplotlib Axes
        Axes with the points and lines.

    figure_ : matplotlib Figure
        Figure containing the points and lines.

    See Also
    --------
    LossCurveDisplay : Training and validation loss per epoch.

    Examples
    --------
    >>> import numpy as np
    >>> from skneuron import NeuronRegressor
    >>> from skneuron import FittedLineDisplay
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([1.0, 2.9, 5.2, 6.9])
    >>> reg = NeuronRegressor().fit(X, y)
    >>> display = FittedLineDisplay.from_estimator(reg, X, y)
    >>> bool(np.allclose(display.line_.get_ydata(), display.grid_reference))
    True
    """

    def __init__(
        self,
        *,
        x: ArrayLike,
        y: ArrayLike,
        grid: ArrayLike,
        grid_pred: ArrayLike,
        grid_reference: ArrayLike | None = None,
        feature_name: str | None = None,
        target_name: str | None = None,
        estimator_name: str | None = None,
    ) -> None:
        self.x = x
        self.y = y
        self.grid = grid
        self.grid_pred = grid_pred
        self.grid_reference = grid_reference
        self.feature_name = feature_name
        self.target_name = target_name
        self.estimator_name = estimator_name

    def plot(
        self,
        ax: Axes | None = None,
        *,
        name: str | None = None,
        scatter_kwargs: dict[str, Any] | None = None,
        line_kwargs: dict[str, Any] | None = None,
        reference_line_kwargs: dict[str, Any] | None = None,
    ) -> FittedLineDisplay:
        """Plot the data points, the fitted line and the reference line.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on. None creates a new figure and axes.

        name : str, default=None
            Legend label of the fitted line; None uses ``estimator_name``.

        scatter_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``scatter`` of the data points.

        line_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the fitted line.

        reference_line_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the least-squares line
            (black and dashed by default, drawn over the fitted line).

        Returns
        -------
        display : FittedLineDisplay
            The display, with the drawn artists as attributes.
        """
        _check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        name = self.estimator_name if name is None else name
        if ax is None:
            _, ax = plt.subplots()

        scatter_default = {"color": "tab:gray", "alpha": 0.6, "label": "Data"}
        self.scatter_ = ax.scatter(
            self.x, self.y, **_style(scatter_default, scatter_kwargs)
        )
        line_default = {"linewidth": 2, "label": name or "Fitted line"}
        (self.line_,) = ax.plot(
            self.grid, self.grid_pred, **_style(line_default, line_kwargs)
        )
        self.reference_line_ = None
        if self.grid_reference is not None:
            reference_default = {
                "color": "black",
                "linestyle": "--",
                "linewidth": 1,
                "label": "Least squares",
            }
            (self.reference_line_,) = ax.plot(
                self.grid,
                self.grid_reference,
                **_style(reference_default, reference_line_kwargs),
            )
        ax.set(
            xlabel=self.feature_name or "Feature", ylabel=self.target_name or "Target"
        )
        ax.legend()

        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: ArrayLike,
        y: ArrayLike,
        *,
        feature: int | str = 0,
        reference: bool = True,
        grid_resolution: int = 100,
        ax: Axes | None = None,
        name: str | None = None,
        scatter_kwargs: dict[str, Any] | None = None,
        line_kwargs: dict[str, Any] | None = None,
        reference_line_kwargs: dict[str, Any] | None = None,
    ) -> FittedLineDisplay:
        """Plot one feature of the data against y with a regressor's fitted line.

        The fitted line is ``estimator.predict`` on ``grid_resolution`` points
        spanning the feature's range in ``X``, with every other feature held at
        its mean over ``X``. For a linear model, it is the slice of the fitted
        hyperplane through the mean of the other features; with a single feature,
        simply the fitted line.

        The reference line is drawn the same way from the exact least-squares fit
        of ``y`` on all columns of ``X`` and an intercept
        (:func:`numpy.linalg.lstsq` on ``[X, 1]``), the answer gradient descent
        should reach. It always has an intercept, whatever the estimator's
        ``fit_intercept``.

        Parameters
        ----------
        estimator : estimator instance
            A fitted single-output regressor, such as
            :class:`~skneuron.NeuronRegressor`, or a fitted
            :class:`~sklearn.pipeline.Pipeline` ending in one. Only its
            ``predict`` is used.

        X : {array-like, pandas DataFrame} of shape (n_samples, n_features)
            Numeric input data. A DataFrame is passed to ``predict`` as a
            DataFrame with the same columns.

        y : array-like of shape (n_samples,)
            Target values. There is no support for several targets: a 2-D ``y``
            (other than a single column), or an estimator predicting several
            targets, raises a ValueError; plot one target at a time.

        feature : int or str, default=0
            The feature on the x axis: a column index, or a column name when ``X``
            is a DataFrame.

        reference : bool, default=True
            Whether to draw the least-squares reference line.

        grid_resolution : int, default=100
            Number of points on which the lines are evaluated.

        ax : matplotlib Axes, default=None
            Axes to plot on. None creates a new figure and axes.

        name : str, default=None
            Legend label of the fitted line; None uses the estimator's class name.

        scatter_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``scatter`` of the data points.

        line_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the fitted line.

        reference_line_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the least-squares line.

        Returns
        -------
        display : FittedLineDisplay
            The display, with the drawn artists as attributes.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        ValueError
            If ``feature`` is not a column of ``X``, or there are several targets.

        Examples
        --------
        >>> import numpy as np
        >>> from skneuron import NeuronRegressor
        >>> from skneuron import FittedLineDisplay
        >>> X = np.array([[0.0, 1.0], [1.0, 3.0], [2.0, 2.0], [3.0, 5.0]])
        >>> y = np.array([1.0, 4.1, 4.9, 8.8])
        >>> reg = NeuronRegressor().fit(X, y)
        >>> display = FittedLineDisplay.from_estimator(reg, X, y, feature=1)
        >>> display.ax_.get_xlabel(), display.line_.get_label()
        ('Feature 1', 'NeuronRegressor')
        """
        _check_matplotlib_support(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        if not (isinstance(grid_resolution, Integral) and grid_resolution >= 2):
            raise ValueError(
                f"grid_resolution must be an integer >= 2; got {grid_resolution!r}."
            )

        columns = X.columns if _is_pandas_df(X) else None
        X_num = check_array(X, dtype=np.float64)
        y_arr = np.asarray(y, dtype=np.float64)
        if y_arr.ndim == 2 and y_arr.shape[1] == 1:
            y_arr = y_arr[:, 0]
        if y_arr.ndim != 1:
            raise ValueError(
                "FittedLineDisplay plots a single target; y has shape "
                f"{y_arr.shape}. Pass one column of y at a time."
            )
        check_consistent_length(X_num, y_arr)
        index, feature_name = _feature_index(feature, columns, X_num.shape[1])

        x = X_num[:, index]
        grid = np.linspace(x.min(), x.max(), grid_resolution)
        X_grid = np.tile(X_num.mean(axis=0), (grid_resolution, 1))
        X_grid[:, index] = grid
        X_pred = X_grid
        if columns is not None:  # keep the feature names the estimator was fit with
            import pandas as pd

            X_pred = pd.DataFrame(X_grid, columns=columns)
        grid_pred = _single_target(estimator.predict(X_pred), type(estimator).__name__)

        grid_reference = None
        if reference:
            A = np.column_stack([X_num, np.ones(len(X_num))])
            weights = np.linalg.lstsq(A, y_arr, rcond=None)[0]
            grid_reference = X_grid @ weights[:-1] + weights[-1]

        target_name = getattr(y, "name", None)
        display = cls(
            x=x,
            y=y_arr,
            grid=grid,
            grid_pred=grid_pred,
            grid_reference=grid_reference,
            feature_name=feature_name,
            target_name=None if target_name is None else str(target_name),
            estimator_name=type(estimator).__name__ if name is None else name,
        )
        return display.plot(
            ax=ax,
            scatter_kwargs=scatter_kwargs,
            line_kwargs=line_kwargs,
            reference_line_kwargs=reference_line_kwargs,
        )


def _is_pandas_df(X: Any) -> bool:
    """Whether X is a pandas DataFrame, without importing pandas."""
    return type(X).__module__.startswith("pandas") and hasattr(X, "columns")


def _feature_index(
    feature: int | str, columns: Any, n_features: int
) -> tuple[int, str]:
    """The column index of ``feature`` and its axis label."""
    if isinstance(feature, Integral) and not isinstance(feature, bool):
        if not 0 <= feature < n_features:
            raise ValueError(
                f"feature={feature} is out of range: X has {n_features} feature(s), "
                f"so it must be in [0, {n_features - 1}]."
            )
        index = int(feature)
        label = f"Feature {index}" if columns is None else str(columns[index])
        return index, label
    if isinstance(feature, str):
        if columns is None:
            raise ValueError(
                f"feature={feature!r} is a name, but X has no column names; pass "
                "a column index or a pandas DataFrame."
            )
        names = [str(column) for column in columns]
        if feature not in names:
            raise ValueError(f"feature={feature!r} is not a column of X: {names}.")
        return names.index(feature), feature
    raise ValueError(
        f"feature must be a column index or name; got {type(feature).__name__}."
    )


def _single_target(pred: ArrayLike, estimator_name: str) -> np.ndarray:
    """Predictions as a 1-D array; several targets are an error."""
    pred = np.asarray(pred, dtype=np.float64)
    if pred.ndim == 2 and pred.shape[1] == 1:
        pred = pred[:, 0]
    if pred.ndim != 1:
        raise ValueError(
            f"FittedLineDisplay plots a single target, but {estimator_name} predicts "
            f"{pred.shape[1]} targets. Fit and plot one target at a time."
        )
    return pred
