"""Classical least-squares inference at the trained optimum of the neuron.

Two steps, split so that the estimator keeps nothing of size ``n_samples``:

- :meth:`FitStatistics.from_moments`, at the end of ``fit`` (or
  :meth:`~FitStatistics.from_data`, from the rows themselves): the few sums that
  inference needs (weighted means, a square root of the centred Gram matrix
  ``X'WX``, residual and total sums of squares, the gradient at the trained
  coefficients), computed once from the training data.
- :func:`summarize`, on demand: the statistics of statsmodels' OLS/WLS results
  (``params``, ``bse``, ``tvalues``, ``pvalues``, ``conf_int``, ``rsquared``,
  ``fvalue``, ...) in a :class:`RegressionResults`, or a clear refusal where the
  classical formulas do not describe the fit (penalties, robust losses, active
  ``positive`` bounds, rank-deficient X).

The coefficients themselves always come from training: the covariance
``σ² (X'WX)⁻¹`` is the inverse curvature of the squared loss at those
coefficients, and the distance from them to the least-squares optimum (one Newton
step, in standard errors) is only used to warn when training stopped short of it.

Only NumPy, SciPy and scikit-learn's warning class are imported here: never
TensorFlow or Keras.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg, stats
from sklearn.exceptions import ConvergenceWarning

from skneuron._moments import Moments, Residuals

# Farther than this (in standard errors) from the least-squares optimum, the
# statistics are reported with a ConvergenceWarning.
OPTIMUM_TOLERANCE = 1e-3

_EPS = np.finfo(np.float64).eps
# Residuals within this many ulps of y's spread (relative): an exact fit.
EXACT = 1e3


@dataclass(frozen=True, eq=False)
class FitStatistics:
    """What classical inference needs from a least-squares fit, and nothing of size n.

    Build it with :meth:`from_data` (from the rows) or :meth:`from_moments` (from
    sums gathered in one pass). Every sum is weighted by the user's raw
    ``sample_weight`` (all ones without), as statsmodels' ``WLS(weights=...)``
    weights its sums; ``p`` is the number of features and ``t`` of targets.

    Parameters
    ----------
    nobs : int
        Number of training rows, zero-weight rows included (as statsmodels counts).
    weight_sum : float
        Sum of the weights (``nobs`` without weights).
    weighted : bool
        Whether sample weights were given.
    fit_intercept : bool
        Whether the model has an intercept.
    k_constant : int
        1 if the design has a constant (the intercept, or without it a constant or
        implied-constant column of X, detected as statsmodels does), else 0. It
        decides whether R² and the F test are centred.
    X_mean : ndarray of shape (p,)
        Weighted column means of X (zeros without intercept).
    column_scale : ndarray of shape (p,)
        Norms of the columns of ``sqrt(W) (X - X_mean)`` (a non-zero stand-in
        where a column is zero).
    r_factor : ndarray of shape (p, p)
        Upper Cholesky factor ``R`` of the Gram matrix with its columns scaled by
        ``column_scale`` (a correlation-like matrix), so that ``gram = S R' R S``
        with ``S = diag(column_scale)``; zeros where that matrix is singular, not
        finite or was not formed.
    rank : int
        Numerical rank of the design (intercept column included): the number of
        eigenvalues of the column-scaled Gram matrix above ``max(n, p) * eps``
        times the largest, plus 1 with an intercept; ``nobs`` when there are more
        parameters than rows, and -1 when fit did not form ``X'WX`` (it trained
        on the rows).
    ssr : ndarray of shape (t,)
        Weighted sum of squared residuals ``Σ w r²`` at the trained coefficients.
    tss : ndarray of shape (t,)
        Weighted total sum of squares: centred on the weighted mean of y when
        ``k_constant``, uncentred (``Σ w y²``) otherwise, as statsmodels' R².
    coef : ndarray of shape (t, p)
        The trained coefficients these statistics are computed at.
    intercept : ndarray of shape (t,)
        The trained intercepts (zeros without intercept).
    gradient : ndarray of shape (t, p)
        ``(X - X_mean)' W r``: minus the gradient of ``Σ w r² / 2`` with respect to
        the coefficients (zero at the least-squares optimum).
    residual_sum : ndarray of shape (t,)
        ``Σ w r``: the same with respect to the intercept (zeros without one).
    """

    nobs: int
    weight_sum: float
    weighted: bool
    fit_intercept: bool
    k_constant: int
    X_mean: np.ndarray
    column_scale: np.ndarray
    r_factor: np.ndarray
    rank: int
    ssr: np.ndarray
    tss: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    gradient: np.ndarray
    residual_sum: np.ndarray

    @classmethod
    def from_data(
        cls,
        X: ArrayLike,
        Y: ArrayLike,
        sample_weight: ArrayLike | None,
        coef: ArrayLike,
        intercept: ArrayLike,
        *,
        fit_intercept: bool,
    ) -> FitStatistics:
        """Compute the statistics from the training data and the trained weights.

        Never raises on valid training data and emits no warning: where a sum
        overflows, the statistics are non-finite and :func:`summarize` refuses.

        Parameters
        ----------
        X : array-like of shape (n, p)
            Training data in the user's units.
        Y : array-like of shape (n,) or (n, t)
            Training targets.
        sample_weight : array-like of shape (n,), float or None
            The user's sample weights, not normalized; None for unit weights.
        coef : array-like of shape (p,) or (t, p)
            Trained coefficients.
        intercept : float or array-like of shape (t,)
            Trained intercepts (ignored without intercept).
        fit_intercept : bool
            Whether the model has an intercept.

        Returns
        -------
        stats : FitStatistics
            The statistics.

        Examples
        --------
        >>> import numpy as np
        >>> from skneuron._inference import FitStatistics
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> y = np.array([1.0, 2.9, 5.2, 6.9])
        >>> stats = FitStatistics.from_data(X, y, None, [2.0], 1.0, fit_intercept=True)
        >>> print(stats.nobs, stats.X_mean, stats.gram, stats.ssr.round(6))
        4 [1.5] [[5.]] [0.06]
        """
        X = np.asarray(X)
        X = X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        Y = Y.reshape(len(Y), -1)
        n, p = X.shape
        coef = np.asarray(coef, dtype=np.float64).reshape(Y.shape[1], p)
        intercept = np.broadcast_to(
            np.asarray(intercept, dtype=np.float64) if fit_intercept else 0.0,
            (Y.shape[1],),
        ).copy()
        weighted = sample_weight is not None
        w = np.ones(n) if not weighted else np.asarray(sample_weight, dtype=np.float64)
        w = np.broadcast_to(w, (n,))
        # sums of weights divided by the largest, times it at the end: nothing
        # overflows or underflows that does not have to
        w_max = w.max(initial=0.0)
        w_max = w_max if w_max > 0 else 1.0
        with np.errstate(all="ignore"):
            moments = Moments.of(X, Y, w / w_max)
            center = moments.origin_x + moments.unit_x * moments.mean_x
            residuals = Residuals.of(
                X, Y, w / w_max, coef, intercept, center if fit_intercept else 0.0
            )
        return cls.from_moments(
            moments,
            residuals,
            coef,
            intercept,
            fit_intercept=fit_intercept,
            weight_scale=w_max,
            weighted=weighted,
        )

    @classmethod
    def from_moments(
        cls,
        moments: Moments,
        residuals: Residuals,
        coef: np.ndarray,
        intercept: np.ndarray,
        *,
        fit_intercept: bool,
        weight_scale: float = 1.0,
        weighted: bool = False,
    ) -> FitStatistics:
        """The statistics from the moments of the training rows and the sums of
        their residuals at the trained coefficients, gathered in one pass each
        (:mod:`skneuron._moments`); the weights there were divided by
        ``weight_scale``."""
        n, p = moments.count, len(moments.mean_x)
        W, ux, uy = moments.weight, moments.unit_x, moments.unit_y
        with np.errstate(all="ignore"):
            if fit_intercept:
                gram, X_mean, k_constant = (
                    moments.cxx,
                    moments.origin_x + ux * moments.mean_x,
                    1,
                )
            else:
                about_zero = moments.mean_x + moments.origin_x / ux
                gram = moments.cxx + W * np.outer(about_zero, about_zero)
                X_mean, k_constant = np.zeros(p), _implied_constant(moments)
            y_about_zero = moments.mean_y + moments.origin_y / uy
            tss = moments.cyy + (0.0 if k_constant else W * y_about_zero**2)
            norm, r_factor, rank = _scaled_factor(gram, n, bool(fit_intercept))
            column_scale = norm * ux * np.sqrt(weight_scale)
            tss = weight_scale * tss * uy**2
        return cls(
            nobs=n,
            weight_sum=float(weight_scale * W),
            weighted=weighted,
            fit_intercept=bool(fit_intercept),
            k_constant=k_constant,
            X_mean=X_mean,
            column_scale=column_scale,
            r_factor=r_factor,
            rank=rank + int(bool(fit_intercept)),
            ssr=weight_scale * residuals.ssr,
            tss=tss,
            coef=coef,
            intercept=intercept,
            gradient=weight_scale * residuals.gradient,
            residual_sum=weight_scale * residuals.total
            if fit_intercept
            else np.zeros(len(coef)),
        )

    @property
    def gram(self) -> np.ndarray:
        """The weighted Gram matrix ``X'WX`` (of centred X with an intercept)."""
        rtr = self.r_factor.T @ self.r_factor
        return self.column_scale[:, None] * rtr * self.column_scale


def _factor(correlation, size):
    """Upper Cholesky factor of a correlation matrix and its numerical rank (of
    its eigenvalues, those above ``size * eps`` times the largest); zeros for a
    singular or non-finite one (``summary`` then refuses by the rank)."""
    p = len(correlation)
    if not np.isfinite(correlation).all():
        return np.zeros((p, p)), 0
    rank = _eigen_rank(correlation, size)
    if rank < p:
        return np.zeros((p, p)), rank
    try:
        return linalg.cholesky(correlation, lower=False), rank
    except linalg.LinAlgError:
        return np.zeros((p, p)), rank - 1


def _eigen_rank(matrix, size, factor=1):
    """Numerical rank of a finite symmetric matrix: the number of its eigenvalues
    above ``size * eps * factor`` times the largest."""
    eig = np.linalg.eigvalsh(matrix)
    return int((eig > eig.max(initial=0.0) * size * _EPS * factor).sum())


def _implied_constant(moments: Moments) -> int:
    """statsmodels' rule for a constant in a design without an added intercept:
    a constant non-zero column, or else X's columns spanning the constant (the
    rank of ``[1, X]`` equals the rank of X, e.g. dummies of every category).
    From the rows' moments: a constant column deviates by nothing from the first
    row; the ranks are those of the uncentred second moments."""
    if not moments.count:
        return 0
    constant = (moments.diagonal() == 0) & (moments.origin_x != 0)
    if constant.any():
        return 1
    if not moments.cross:  # without X'WX, only constant columns are seen
        return 0
    W = moments.weight
    m = moments.mean_about_zero()
    second = moments.cxx / W + np.outer(m, m)
    augmented = np.block([[np.ones((1, 1)), m[None]], [m[:, None], second]])
    scale = np.sqrt(np.diag(augmented))
    scale[~(scale > 0)] = 1.0
    size = max(moments.count, len(m) + 1)

    def rank(matrix):
        return _eigen_rank(matrix, size, 100) if np.isfinite(matrix).all() else -1

    inner = second / np.outer(scale[1:], scale[1:])
    whole = augmented / np.outer(scale, scale)
    return int(rank(whole) == rank(inner))


@dataclass(frozen=True, eq=False, repr=False)
class RegressionResults:
    """Results of a least-squares fit, named after statsmodels' OLS/WLS results.

    Returned by :meth:`NeuronRegressor.summary <skneuron.NeuronRegressor.summary>`
    (one per target). Attributes without a trailing call are arrays or floats;
    their definitions are those of ``statsmodels.api.OLS(y,
    add_constant(X)).fit()`` (``WLS(..., weights=sample_weight)`` with weights).

    Parameters
    ----------
    params : ndarray of shape (k,)
        The intercept first (when fitted), then the coefficients, as trained.
    cov : ndarray of shape (k, k)
        ``scale * (X'WX)⁻¹`` for the design with its constant column: the
        covariance of ``params``. Read it with :meth:`cov_params`.
    names : tuple of str
        Names of ``params``: ``"const"`` for the intercept, then the feature names.
    df_model : float
        Model degrees of freedom: rank of the design minus ``k_constant``.
    df_resid : float
        Residual degrees of freedom: ``nobs`` minus the rank of the design.
    nobs : float
        Number of observations (rows).
    ssr : float
        Weighted sum of squared residuals.
    tss : float
        Weighted total sum of squares: centred (statsmodels' ``centered_tss``)
        when ``k_constant`` is 1, else uncentred (``uncentered_tss``).
    k_constant : int
        1 if the model has a constant, else 0.
    alpha : float
        Default level of :meth:`conf_int` and of the table's intervals.
    target_name : str
        Name of the dependent variable.
    n_iter : int or None
        Number of training epochs.
    gradient_norm : float or None
        Size of the final training gradient, as the estimator reports it.
    converged : bool
        Whether training reported convergence.
    distance_to_optimum : float
        Largest distance of a parameter to the least-squares optimum, in its
        standard errors (one Newton step from the trained coefficients).
    weighted : bool
        Whether sample weights were used (WLS).

    See Also
    --------
    summarize : Builds these results from :class:`FitStatistics`.

    Examples
    --------
    >>> import numpy as np
    >>> from skneuron import NeuronRegressor
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0]])
    >>> y = np.array([1.1, 2.9, 5.2, 6.9, 9.1])
    >>> res = NeuronRegressor().fit(X, y).summary()
    >>> print(res.params.round(4), res.bse.round(4), round(res.rsquared, 4))
    [1.04 2.  ] [0.12  0.049] 0.9982
    >>> print(res.conf_int().round(3))
    [[0.658 1.422]
     [1.844 2.156]]
    """

    params: np.ndarray
    cov: np.ndarray
    names: tuple
    df_model: float
    df_resid: float
    nobs: float
    ssr: float
    tss: float
    k_constant: int
    alpha: float = 0.05
    target_name: str = "y"
    n_iter: int | None = None
    gradient_norm: float | None = None
    converged: bool = True
    distance_to_optimum: float = 0.0
    weighted: bool = False

    # -- statsmodels' attributes --------------------------------------------------
    def cov_params(self) -> np.ndarray:
        """The covariance matrix of ``params``, ``scale * (X'WX)⁻¹``."""
        return self.cov.copy()

    @property
    def bse(self) -> np.ndarray:
        """Standard errors of ``params``."""
        return np.sqrt(np.diag(self.cov))

    @property
    def tvalues(self) -> np.ndarray:
        """t statistics of ``params`` (each against zero)."""
        return _divide(self.params, self.bse)

    @property
    def pvalues(self) -> np.ndarray:
        """Two-sided p-values of ``tvalues`` on Student's t with ``df_resid``."""
        return 2 * stats.t.sf(np.abs(self.tvalues), self.df_resid)

    def conf_int(self, alpha: float | None = None) -> np.ndarray:
        """Confidence intervals of ``params`` from Student's t distribution.

        Parameters
        ----------
        alpha : float, default=None
            Level: ``1 - alpha`` intervals. None uses :attr:`alpha` (0.05 unless
            ``summary`` was given another), so 95 % intervals by default.

        Returns
        -------
        intervals : ndarray of shape (k, 2)
            Lower and upper bounds, one row per parameter.
        """
        alpha = self.alpha if alpha is None else _check_alpha(alpha)
        q = stats.t.ppf(1 - alpha / 2, self.df_resid)
        half = q * self.bse
        return np.column_stack([self.params - half, self.params + half])

    @property
    def scale(self) -> float:
        """Residual variance ``ssr / df_resid`` (σ²)."""
        return _divide(self.ssr, self.df_resid)

    @property
    def mse_resid(self) -> float:
        """Same as :attr:`scale`."""
        return self.scale

    @property
    def ess(self) -> float:
        """Explained sum of squares, ``tss - ssr``."""
        return self.tss - self.ssr

    @property
    def mse_model(self) -> float:
        """``ess / df_model`` (nan when ``df_model`` is 0)."""
        return _divide(self.ess, self.df_model) if self.df_model else np.nan

    @property
    def rsquared(self) -> float:
        """``1 - ssr / tss``: centred with a constant, uncentred without."""
        return 1 - _divide(self.ssr, self.tss)

    @property
    def rsquared_adj(self) -> float:
        """``1 - (nobs - k_constant) / df_resid * (1 - rsquared)``."""
        return 1 - (self.nobs - self.k_constant) / self.df_resid * (1 - self.rsquared)

    @property
    def fvalue(self) -> float:
        """F statistic of all coefficients (the constant excepted) being zero."""
        return _divide(self.mse_model, self.mse_resid)

    @property
    def f_pvalue(self) -> float:
        """p-value of :attr:`fvalue` on the F distribution (nan if ``df_model`` 0)."""
        if not self.df_model:
            return np.nan
        return float(stats.f.sf(self.fvalue, self.df_model, self.df_resid))

    # -- presentation ---------------------------------------------------------------
    def to_frame(self, alpha: float | None = None):
        """The coefficient table as a pandas DataFrame (needs pandas).

        Parameters
        ----------
        alpha : float, default=None
            Level of the confidence intervals; None uses :attr:`alpha`.

        Returns
        -------
        table : pandas.DataFrame
            Indexed by :attr:`names`, with the columns of statsmodels' summary:
            ``coef``, ``std err``, ``t``, ``P>|t|`` and the interval's bounds
            (``[0.025`` and ``0.975]`` at the default level).
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "RegressionResults.to_frame() needs pandas: pip install pandas"
            ) from exc
        return pd.DataFrame(self._table_columns(alpha), index=pd.Index(self.names))

    def summary(self) -> str:
        """The results as a text table in the layout of statsmodels' summary."""
        return self._render()

    def __str__(self) -> str:
        return self._render()

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__}: {self.target_name}, {len(self.params)} "
            f"params, nobs={self.nobs:g}, rsquared={self.rsquared:.4g}>"
        )

    def _table_columns(self, alpha):
        """The coefficient table's columns, by header, at level ``alpha``."""
        alpha = self.alpha if alpha is None else _check_alpha(alpha)
        lower, upper = self.conf_int(alpha).T
        return {
            "coef": self.params,
            "std err": self.bse,
            "t": self.tvalues,
            "P>|t|": self.pvalues,
            f"[{alpha / 2:g}": lower,
            f"{1 - alpha / 2:g}]": upper,
        }

    def _render(self) -> str:
        """The text table: the fit's facts, two to a line, then the coefficients."""
        width = 78
        lines = ["NeuronRegressor results".center(width), "=" * width]
        lines += self._header_lines(width)
        return "\n".join(lines + self._coefficient_lines(width))

    def _header_lines(self, width):
        """The model's facts in two columns, then the line about convergence."""
        kind = "Weighted least squares" if self.weighted else "Least squares"
        gradient = "n/a" if self.gradient_norm is None else f"{self.gradient_norm:.3g}"
        epochs = "n/a" if self.n_iter is None else str(self.n_iter)
        rsq = "R-squared:" if self.k_constant else "R-squared (uncentered):"
        adj = "Adj. R-squared:" if self.k_constant else "Adj. R-sq. (uncentered):"
        left = [
            ("Dep. Variable:", self.target_name),
            ("Model:", kind),
            ("No. Observations:", f"{self.nobs:g}"),
            ("Df Residuals:", f"{self.df_resid:g}"),
            ("Df Model:", f"{self.df_model:g}"),
            ("Scale (resid. var.):", _number(self.scale)),
        ]
        right = [
            (rsq, f"{self.rsquared:.4f}"),
            (adj, f"{self.rsquared_adj:.4f}"),
            ("F-statistic:", _number(self.fvalue)),
            ("Prob (F-statistic):", f"{self.f_pvalue:.3g}"),
            ("Epochs:", epochs),
            ("Final gradient:", gradient),
        ]
        half = width // 2
        lines = [
            f"{lk:<{half - 2 - len(lv)}}{lv}  " + f"{rk:<{half - len(rv)}}{rv}"
            for (lk, lv), (rk, rv) in zip(left, right, strict=True)
        ]
        lines.append(
            f"Converged: {'yes' if self.converged else 'no'}; distance to the "
            f"least-squares optimum: {self.distance_to_optimum:.2g} standard errors"
        )
        return lines

    def _coefficient_lines(self, width):
        """The coefficient table, one row per parameter, between rules."""
        columns = self._table_columns(None)
        name_width = max([10, *(len(name) for name in self.names)])
        header = f"{'':<{name_width}}" + "".join(f"{k:>11}" for k in columns)
        rule = max(width, len(header))
        lines = ["=" * rule, header, "-" * rule]
        for i, name in enumerate(self.names):
            cells = [
                _number(columns["coef"][i]),
                _number(columns["std err"][i]),
                f"{columns['t'][i]:.3f}",
                f"{columns['P>|t|'][i]:.3f}",
                *(_number(v[i]) for v in list(columns.values())[4:]),
            ]
            lines.append(f"{name:<{name_width}}" + "".join(f"{c:>11}" for c in cells))
        return [*lines, "=" * rule]


def _divide(a, b):
    """``a / b`` in NumPy's arithmetic (nan or inf for zero b), without warnings."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(a, b)[()]


def _number(value):
    """Four decimals for ordinary sizes, three significant digits otherwise."""
    value = float(value)
    if value == 0 or (1e-4 <= abs(value) < 1e6):
        return f"{value:.4f}"
    return f"{value:.3e}"


def _check_alpha(alpha):
    """``alpha`` as a float, refused outside (0, 1)."""
    if not (isinstance(alpha, (int, float, np.floating)) and 0 < alpha < 1):
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}.")
    return float(alpha)


@dataclass(frozen=True)
class TrainingRecord:
    """What :func:`summarize` reads of a trained model besides its coefficients:
    the estimator stores one at the end of every ``fit`` and ``partial_fit``.

    Attributes
    ----------
    stats : FitStatistics or None
        Recorded at the end of ``fit``; None (a model trained by
        ``partial_fit``, or pickled before ``summary`` existed) is refused.
    n_iter : int or None
        Number of training epochs, shown in the table.
    gradient_norm : float or None
        Size of the final training gradient, shown in the table ("n/a" if None).
    converged : bool
        False warns that training did not converge.
    penalized : bool
        Whether the objective had a penalty (``alpha > 0``): refused.
    loss : str
        The training loss: any other than ``"squared_error"`` is refused.
    positive : bool
        Whether the coefficients were constrained non-negative: refused when a
        coefficient sits on the bound (is exactly 0).
    streamed : bool
        Whether ``partial_fit`` trained the model: refused, since it counts a
        row each time it is passed, so the number of distinct rows behind its
        sums (the residual degrees of freedom) is unknown.
    """

    stats: FitStatistics | None = None
    n_iter: int | None = None
    gradient_norm: float | None = None
    converged: bool = True
    penalized: bool = False
    loss: str = "squared_error"
    positive: bool = False
    streamed: bool = False


def summarize(
    record: TrainingRecord,
    coef: ArrayLike,
    intercept: ArrayLike,
    *,
    feature_names: Sequence[str] | None = None,
    target_names: Sequence[str] | None = None,
    alpha: float = 0.05,
) -> RegressionResults | list[RegressionResults]:
    """Classical least-squares inference at the trained coefficients.

    Standard errors are ``sqrt(diag(σ² (X'WX)⁻¹))`` with ``σ² = ssr / df_resid``,
    computed with the design's constant column; every other statistic follows
    statsmodels' ``OLS``/``WLS`` results (uncentred R² and ``df_model = rank``
    without a constant).

    Parameters
    ----------
    record : TrainingRecord
        The statistics recorded at the end of ``fit`` and how training went.
    coef : array-like of shape (p,) or (t, p)
        The estimator's ``coef_``; 1-D gives one result, 2-D a list.
    intercept : float or array-like of shape (t,)
        The estimator's ``intercept_``.
    feature_names : sequence of str, default=None
        Names of the features; None names them ``x0``, ``x1``, ...
    target_names : sequence of str, default=None
        Names of the targets; None uses ``y`` (``y0``, ``y1``, ... for several).
    alpha : float, default=0.05
        Level of the confidence intervals in the table and of ``conf_int()``.

    Returns
    -------
    results : RegressionResults or list of RegressionResults
        One result for 1-D ``coef``, else one per target.

    Raises
    ------
    ValueError
        If the classical formulas do not hold: a model trained by
        ``partial_fit``, a penalty, a loss other than the squared error, a
        coefficient on its ``positive`` bound, rank-deficient X, no residual
        degrees of freedom, non-finite statistics, standard errors that over- or
        underflow float64, or coefficients that are not those the statistics
        were recorded at.

    Warns
    -----
    ConvergenceWarning
        If training did not converge, or the coefficients are farther than
        ``OPTIMUM_TOLERANCE`` standard errors from the least-squares optimum.
    """
    alpha = _check_alpha(alpha)
    _refuse_objective(record)
    stats = record.stats
    coef2d, intercept1d = _recorded_coefficients(stats, coef, intercept)
    if record.positive:
        _refuse_on_bound(coef2d, feature_names)
    df_resid = _residual_df(stats)
    if not record.converged:
        _warn_not_converged()
    names = _names(feature_names, coef2d.shape[1])
    names = ("const", *names) if stats.fit_intercept else tuple(names)
    targets = _target_names(target_names, len(coef2d))
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        inverse = _inverse_gram(stats)
        unscaled = _design_inverse(stats, inverse)
    _refuse_out_of_range(unscaled)
    results = []
    for j in range(len(coef2d)):
        cov = stats.ssr[j] / df_resid * unscaled
        result = RegressionResults(
            params=_params(stats, coef2d[j], intercept1d[j]),
            cov=cov,
            names=names,
            df_model=float(stats.rank - stats.k_constant),
            df_resid=df_resid,
            nobs=float(stats.nobs),
            ssr=float(stats.ssr[j]),
            tss=float(stats.tss[j]),
            k_constant=stats.k_constant,
            alpha=alpha,
            target_name=str(targets[j]),
            n_iter=record.n_iter,
            gradient_norm=record.gradient_norm,
            converged=record.converged,
            distance_to_optimum=_distance(_newton_step(stats, inverse, j), cov),
            weighted=stats.weighted,
        )
        _warn_if_short_of_optimum(result, exact=_exact(stats, j))
        results.append(result)
    return results[0] if np.ndim(coef) == 1 else results


# -- summarize's refusals: where the classical formulas do not describe the fit ----
def _refuse_objective(record):
    """Refuse a stream, a model without statistics, a penalized fit and a robust
    loss."""
    if record.streamed:
        raise ValueError(
            "No standard errors after partial_fit(): it counts a row each time it "
            "is passed, so the number of distinct observations behind its sums is "
            "unknown, and with it the residual degrees of freedom and the error "
            "variance. Fit the data with fit() for standard errors."
        )
    if record.stats is None:
        raise ValueError(
            "summary() needs the statistics recorded by fit(); this model has "
            "none (it was saved before summary() existed): call fit() first."
        )
    if record.penalized:
        raise ValueError(
            "No standard errors for a penalized fit (alpha > 0): the penalty "
            "biases the coefficients and the classical OLS formulas do not hold. "
            "Fit with alpha=0 for inference."
        )
    if record.loss != "squared_error":
        raise ValueError(
            f"No standard errors for loss={record.loss!r}: the OLS formulas only hold "
            "for the squared error (robust losses need sandwich estimators)."
        )


def _recorded_coefficients(stats, coef, intercept):
    """``coef`` as (t, p) and ``intercept`` as (t,), refused unless they are the
    ones the statistics were recorded at."""
    coef2d = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    intercept1d = np.broadcast_to(
        np.asarray(intercept, dtype=np.float64), (len(coef2d),)
    )
    if coef2d.shape != stats.coef.shape or not (
        np.array_equal(coef2d, stats.coef)
        and (not stats.fit_intercept or np.array_equal(intercept1d, stats.intercept))
    ):
        raise ValueError(
            "The coefficients differ from those fit() recorded statistics for "
            "(they were changed after fit()): call fit() again for a summary."
        )
    return coef2d, intercept1d


def _refuse_on_bound(coef2d, feature_names):
    """Refuse ``positive=True`` coefficients that sit on their bound 0."""
    on_bound = (coef2d == 0).any(0)
    if on_bound.any():
        names = _names(feature_names, coef2d.shape[1])
        zero = [names[j] for j in np.flatnonzero(on_bound)]
        raise ValueError(
            "No standard errors with positive=True and coefficients on the bound "
            f"0 ({', '.join(zero)}): the constrained estimate is not normally "
            "distributed there, so the OLS formulas do not hold."
        )


def _residual_df(stats):
    """The residual degrees of freedom, refused unless positive and the design
    finite, formed (X'WX) and of full rank."""
    values = [stats.ssr, stats.tss, stats.gradient, stats.r_factor]
    if not all(np.isfinite(v).all() for v in values):
        raise ValueError(
            "The statistics of this fit are not finite (values too large for "
            "float64 sums of squares): rescale X or y for inference."
        )
    p = len(stats.X_mean)
    k = p + int(stats.fit_intercept)
    if stats.rank < 0:
        raise ValueError(
            f"summary() needs X'WX, which fit did not form for these {p} features "
            "(it trained on the rows without it): fit with precompute=True for "
            "inference."
        )
    if stats.rank < k:
        what = f"{p} features" + (" and the intercept" if stats.fit_intercept else "")
        raise ValueError(
            f"X is rank deficient: rank {stats.rank} for {what}, so X'WX has no "
            "inverse and the coefficients are not identified; drop or combine "
            "collinear (or constant) columns."
        )
    df_resid = float(stats.nobs - stats.rank)
    if df_resid <= 0:
        raise ValueError(
            f"No residual degrees of freedom: {stats.nobs} samples for {k} "
            "parameters, so the residual variance cannot be estimated."
        )
    return df_resid


def _warn_not_converged():
    """Warn (at summarize's caller) that training reported no convergence."""
    warnings.warn(
        "Training did not converge: the standard errors describe the "
        "least-squares optimum, which these coefficients may not have reached.",
        ConvergenceWarning,
        stacklevel=3,
    )


def _warn_if_short_of_optimum(result, exact):
    """Warn (at summarize's caller) when the result's parameters are more than
    ``OPTIMUM_TOLERANCE`` standard errors from the least-squares optimum; not
    for an ``exact`` fit, whose standard errors are round-off too."""
    if result.distance_to_optimum > OPTIMUM_TOLERANCE and not exact:
        warnings.warn(
            f"The coefficients of {result.target_name} are "
            f"{result.distance_to_optimum:.2g} standard errors from the "
            "least-squares optimum (training stopped short of it): the statistics "
            "are at the trained coefficients and would differ at the optimum.",
            ConvergenceWarning,
            stacklevel=3,
        )


def _exact(stats, j):
    """Whether target j is fitted exactly, to round-off: its residuals within
    ``EXACT`` ulps of its total sum of squares (the distance to the optimum is
    then measured in standard errors made of round-off, and means nothing)."""
    return bool(stats.ssr[j] <= (EXACT * _EPS) ** 2 * stats.tss[j])


def _refuse_out_of_range(unscaled):
    """Refuse an inverse Gram matrix that over- or underflowed float64 (features
    on scales near 1e±150 and beyond), rather than print zero or infinite
    standard errors."""
    diagonal = np.diag(unscaled)
    if not (np.isfinite(unscaled).all() and (diagonal > 0).all()):
        raise ValueError(
            "The standard errors over- or underflow float64: the features' "
            "scales are too extreme (beyond about 1e±150). Rescale X (for "
            "example with StandardScaler) for a summary."
        )


# -- summarize's arithmetic ---------------------------------------------------------
def _scaled_factor(gram, n, fit_intercept):
    """The columns' norms, and the factor and rank of ``gram`` with its columns
    scaled to unit norm (a zero factor, and a rank that says why, where there
    are more parameters than rows or ``X'WX`` was not formed)."""
    p = len(gram)
    norm = np.sqrt(np.diag(gram) if gram.ndim == 2 else gram)
    norm[~(norm > 0) | ~np.isfinite(norm)] = 1.0
    if p + int(fit_intercept) > n:  # more parameters than rows
        return norm, np.zeros((p, p)), n - int(fit_intercept)
    if gram.ndim == 1:  # X'WX not formed (many features, trained on rows)
        return norm, np.zeros((p, p)), -1 - int(fit_intercept)
    return (norm, *_factor(gram / np.outer(norm, norm), max(n, p)))


def _inverse_gram(stats):
    """``(X'WX)⁻¹`` (of centred X with an intercept) as ``M M'``, ``M = S⁻¹ R⁻¹``."""
    p = len(stats.X_mean)
    M = linalg.solve_triangular(stats.r_factor, np.eye(p)) / stats.column_scale[:, None]
    return M @ M.T


def _design_inverse(stats, inverse):
    """The inverse Gram matrix of the design with its constant column first (when
    fitted): the covariance of the parameters divided by ``σ²``."""
    if not stats.fit_intercept:
        return inverse
    m = stats.X_mean
    k = len(m) + 1
    cov = np.empty((k, k))
    cov[0, 0] = 1 / stats.weight_sum + m @ inverse @ m
    cov[0, 1:] = cov[1:, 0] = -inverse @ m
    cov[1:, 1:] = inverse
    return cov


def _params(stats, coef, intercept):
    """The parameters of one target: the intercept first (when fitted)."""
    return np.concatenate([[intercept], coef]) if stats.fit_intercept else coef.copy()


def _newton_step(stats, inverse, j):
    """The Newton step from target j's trained parameters to the least-squares
    optimum (the intercept's first, when fitted)."""
    step = inverse @ stats.gradient[j]
    if not stats.fit_intercept:
        return step
    intercept_step = stats.residual_sum[j] / stats.weight_sum - stats.X_mean @ step
    return np.concatenate([[intercept_step], step])


def _distance(step, cov):
    """The largest step of a parameter in its standard errors (0 for 0 / 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = np.abs(step) / np.sqrt(np.diag(cov))
    return float(np.nan_to_num(distance, nan=0.0, posinf=np.inf).max())


def _target_names(target_names, n_targets):
    """The given target names, else ``y`` for one target, ``y0``, ``y1``, ..."""
    if target_names is not None:
        return list(target_names)
    return ["y"] if n_targets == 1 else [f"y{i}" for i in range(n_targets)]


def _names(feature_names, p):
    """The given feature names as strings (p of them), else ``x0``, ``x1``, ..."""
    if feature_names is None:
        return [f"x{i}" for i in range(p)]
    names = [str(name) for name in feature_names]
    if len(names) != p:
        raise ValueError(f"{len(names)} feature names for {p} features.")
    return names
