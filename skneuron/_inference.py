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
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg, stats
from sklearn.exceptions import ConvergenceWarning

from skneuron import _robust
from skneuron._moments import Moments, Residuals
from skneuron._robust import TrainingRows, requested_rows

__all__ = [
    "FitStatistics",
    "RegressionResults",
    "TrainingRecord",
    "requested_rows",
    "summarize",
    "target_names_of",
]

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
    skew, kurtosis : ndarray of shape (t,) or None
        Skewness and (Pearson's) kurtosis of the whitened residuals ``sqrt(w) r``,
        about their mean, each row counting once (statsmodels' ``wresid``).
    durbin_watson : ndarray of shape (t,) or None
        ``Σ (u[i] - u[i-1])² / Σ u²`` of ``u = sqrt(w) r``, in the rows' order.
    log_weight_sum : float
        ``Σ log w`` of the user's weights (0 without; -inf with a zero weight).
    constant_column : int or None
        Without an intercept, the first column of X that is constant and not
        zero (statsmodels' ``const_idx``), else None.

    These last five are None (nan statistics) in statistics pickled before they
    were gathered.
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
    skew: np.ndarray | None = None
    kurtosis: np.ndarray | None = None
    durbin_watson: np.ndarray | None = None
    log_weight_sum: float = np.nan
    constant_column: int | None = None

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
            **_residual_shape(residuals, moments.count, weight_scale),
            constant_column=None if fit_intercept else _constant_column(moments),
        )

    @property
    def gram(self) -> np.ndarray:
        """The weighted Gram matrix ``X'WX`` (of centred X with an intercept)."""
        rtr = self.r_factor.T @ self.r_factor
        return self.column_scale[:, None] * rtr * self.column_scale

    @property
    def constant_index(self) -> int | None:
        """The parameter that is the model's constant: 0 with an intercept, else
        ``constant_column`` (None: no constant, or one implied by the columns)."""
        return 0 if self.fit_intercept else self.constant_column

    def condition_number(self) -> float:
        """statsmodels' ``condition_number``: the ratio of the largest to the
        smallest singular value of the design ``sqrt(W) [1, X]`` (without the
        ones when there is no intercept), uncentred. From a triangular factor of
        that design's Gram matrix, ``[[√W, √W m'], [0, R S]]`` with an intercept
        (``X - m = Q R S``), so the centring loses nothing."""
        factor = self.r_factor * self.column_scale
        if self.fit_intercept:
            root = np.sqrt(self.weight_sum)
            top = np.concatenate([[root], root * self.X_mean])
            zeros = np.zeros((len(factor), 1))
            factor = np.vstack([top, np.hstack([zeros, factor])])
        if not np.isfinite(factor).all():
            return np.nan
        singular = linalg.svdvals(factor)
        return float(_divide(singular[0], singular[-1])) if len(singular) else np.nan


def _residual_shape(residuals: Residuals, n: int, weight_scale: float) -> dict:
    """The skewness, kurtosis and Durbin-Watson figures of the whitened
    residuals, and ``Σ log w`` of the user's weights (the residuals' weights
    were divided by ``weight_scale``), as ``FitStatistics`` fields."""
    shape = residuals.shape
    if shape is None:
        return {}
    m2 = shape.m2 / n
    return {
        "skew": _divide(shape.m3 / n, m2**1.5),
        "kurtosis": _divide(shape.m4 / n, m2**2),
        "durbin_watson": _divide(shape.steps, residuals.ssr),
        "log_weight_sum": shape.log_weight + n * np.log(weight_scale),
    }


def _constant_column(moments: Moments) -> int | None:
    """The first constant, non-zero column of the rows' X (None if none)."""
    if not moments.count:
        return None
    constant = np.flatnonzero((moments.diagonal() == 0) & (moments.origin_x != 0))
    return int(constant[0]) if len(constant) else None


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
    cov_type : str
        ``"nonrobust"`` (``scale * (X'WX)⁻¹``), ``"HC0"`` to ``"HC3"`` or
        ``"cluster"``: how ``cov`` was computed.
    use_t : bool
        Whether p-values and intervals come from Student's t (``df_resid``
        degrees) or, as statsmodels' robust covariances by default, from the
        normal distribution.
    df_resid_inference : float or None
        The denominator degrees of freedom of the F test where they are not
        ``df_resid``: ``n_groups - 1`` for ``"cluster"``.
    n_groups : int or None
        The number of clusters (``"cluster"``).
    constant_index : int or None
        Which parameter is the constant (0 with an intercept; None where the
        constant is only implied by the columns, or there is none).
    llf : float
        Log-likelihood of the normal model: ``-n/2 (log(2π ssr / n) + 1) + Σ
        log(w) / 2``.
    skew, kurtosis : float
        Skewness and kurtosis (Pearson's, 3 for the normal) of the whitened
        residuals ``sqrt(w) r``.
    durbin_watson : float
        ``Σ (u[i] - u[i-1])² / Σ u²`` of ``u = sqrt(w) r``, in the rows' order.
    condition_number : float
        Ratio of the largest to the smallest singular value of the design
        ``sqrt(W) [1, X]``, uncentred (statsmodels' ``condition_number``).

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
    cov_type: str = "nonrobust"
    use_t: bool = True
    df_resid_inference: float | None = None
    n_groups: int | None = None
    constant_index: int | None = None
    llf: float = np.nan
    skew: float = np.nan
    kurtosis: float = np.nan
    durbin_watson: float = np.nan
    condition_number: float = np.nan

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
        """Two-sided p-values of ``tvalues``: on Student's t with ``df_resid``
        degrees (``use_t``), else on the normal distribution."""
        return 2 * self._distribution().sf(np.abs(self.tvalues))

    def _distribution(self):
        """The distribution of the t statistics: Student's t or the normal."""
        if not self.use_t:
            return stats.norm()
        df = self.df_resid_inference or self.df_resid
        return stats.t(df)

    def conf_int(self, alpha: float | None = None) -> np.ndarray:
        """Confidence intervals of ``params``: from Student's t distribution
        (``use_t``), else from the normal distribution.

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
        q = self._distribution().ppf(1 - alpha / 2)
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
    def mse_total(self) -> float:
        """``tss / (df_resid + df_model)``."""
        return _divide(self.tss, self.df_resid + self.df_model)

    @property
    def aic(self) -> float:
        """Akaike's criterion, ``-2 llf + 2 (df_model + k_constant)``."""
        return -2 * self.llf + 2 * (self.df_model + self.k_constant)

    @property
    def bic(self) -> float:
        """Schwarz's criterion, ``-2 llf + log(nobs) (df_model + k_constant)``."""
        return -2 * self.llf + np.log(self.nobs) * (self.df_model + self.k_constant)

    @property
    def omnibus(self) -> float:
        """D'Agostino and Pearson's omnibus test of the residuals' normality:
        the sum of the squared z scores of :attr:`skew` and :attr:`kurtosis`
        (``scipy.stats.normaltest``); nan below 8 observations."""
        return (
            _skew_z(self.skew, self.nobs) ** 2
            + _kurtosis_z(self.kurtosis, self.nobs) ** 2
        )

    @property
    def omnibus_pvalue(self) -> float:
        """p-value of :attr:`omnibus` on the chi-squared distribution, 2 df."""
        return float(stats.chi2.sf(self.omnibus, 2))

    @property
    def jarque_bera(self) -> float:
        """Jarque and Bera's statistic, ``n/6 (skew² + (kurtosis - 3)² / 4)``."""
        return self.nobs / 6 * (self.skew**2 + (self.kurtosis - 3) ** 2 / 4)

    @property
    def jarque_bera_pvalue(self) -> float:
        """p-value of :attr:`jarque_bera` on the chi-squared distribution, 2 df."""
        return float(stats.chi2.sf(self.jarque_bera, 2))

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
        """F statistic of all coefficients (the constant excepted) being zero:
        ``mse_model / mse_resid`` with the classical covariance; with a robust
        one, the Wald statistic ``b' V⁻¹ b / J`` of those J coefficients ``b``
        and their covariance ``V`` (nan where the constant is only implied by
        the columns), as statsmodels. Where ``V`` has rank ``r < J`` (fewer
        clusters than parameters), ``b' V⁺ b / r``, as statsmodels (which warns)."""
        if self.cov_type == "nonrobust":
            return _divide(self.mse_model, self.mse_resid)
        return self._wald()[0]

    @property
    def f_pvalue(self) -> float:
        """p-value of :attr:`fvalue` on the F distribution with ``df_model``
        (the tested coefficients' number, or their covariance's rank) and
        ``df_resid`` degrees (``df_resid_inference`` if set); nan if nothing is
        tested."""
        if self.cov_type == "nonrobust":
            if not self.df_model:
                return np.nan
            return float(stats.f.sf(self.fvalue, self.df_model, self.df_resid))
        fvalue, df_num = self._wald()
        df = self.df_resid_inference or self.df_resid
        return float(stats.f.sf(fvalue, df_num, df)) if df_num else np.nan

    def _wald(self):
        """The Wald F statistic of the coefficients but the constant, and its
        numerator degrees of freedom (nan and 0 where nothing is tested)."""
        tested = np.arange(len(self.params))
        if self.k_constant:
            if self.constant_index is None:  # implied: it cannot be left out
                return np.nan, 0
            tested = np.delete(tested, self.constant_index)
        if not len(tested):
            return np.nan, 0
        b, V = self.params[tested], self.cov[np.ix_(tested, tested)]
        eig, vectors = np.linalg.eigh(V)
        kept = eig > eig[-1] * len(eig) * _EPS  # numpy's matrix_rank, statsmodels'
        rank = int(kept.sum())
        if rank == len(tested):
            return float(b @ linalg.solve(V, b, assume_a="pos") / rank), rank
        projected = vectors[:, kept].T @ b  # b' V⁺ b
        return float(projected**2 @ (1 / eig[kept]) / rank), rank

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
            f"params, nobs={_count(self.nobs)}, rsquared={self.rsquared:.4g}>"
        )

    def _table_columns(self, alpha):
        """The coefficient table's columns, by header, at level ``alpha``."""
        alpha = self.alpha if alpha is None else _check_alpha(alpha)
        lower, upper = self.conf_int(alpha).T
        stat = "t" if self.use_t else "z"
        return {
            "coef": self.params,
            "std err": self.bse,
            stat: self.tvalues,
            f"P>|{stat}|": self.pvalues,
            f"[{alpha / 2:g}": lower,
            f"{1 - alpha / 2:g}]": upper,
        }

    def _render(self) -> str:
        """The text table: the fit's facts, two to a line, the coefficients,
        then the residuals' diagnostics (statsmodels' bottom block)."""
        width = 78
        lines = ["NeuronRegressor results".center(width), "=" * width]
        lines += self._header_lines(width)
        lines += self._coefficient_lines(width)
        return "\n".join(lines + self._diagnostic_lines(width))

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
            ("No. Observations:", _count(self.nobs)),
            ("Df Residuals:", _count(self.df_resid)),
            ("Df Model:", _count(self.df_model)),
            ("Covariance Type:", self.cov_type),
            ("Scale (resid. var.):", _number(self.scale)),
            ("Epochs:", epochs),
        ]
        if self.n_groups is not None:
            left.append(("No. Groups:", _count(self.n_groups)))
        right = [
            (rsq, f"{self.rsquared:.4f}"),
            (adj, f"{self.rsquared_adj:.4f}"),
            ("F-statistic:", _number(self.fvalue)),
            ("Prob (F-statistic):", f"{self.f_pvalue:.3g}"),
            ("Log-Likelihood:", _number(self.llf)),
            ("AIC:", _number(self.aic)),
            ("BIC:", _number(self.bic)),
            ("Final gradient:", gradient),
        ]
        lines = _two_columns(left, right, width)
        lines.append(
            f"Converged: {'yes' if self.converged else 'no'}; distance to the "
            f"least-squares optimum: {self.distance_to_optimum:.2g} standard errors"
        )
        return lines

    def _coefficient_lines(self, width):
        """The coefficient table, one row per parameter, between rules; every
        column as wide as its widest cell, one space at least between columns."""
        columns = self._table_columns(None)
        stat, p = list(columns)[2:4]
        cells = {
            "coef": [_number(v) for v in columns["coef"]],
            "std err": [_number(v) for v in columns["std err"]],
            stat: [f"{v:.3f}" for v in columns[stat]],
            p: [f"{v:.3f}" for v in columns[p]],
            **{k: [_number(v) for v in columns[k]] for k in list(columns)[4:]},
        }
        sizes = [max(10, len(k), *map(len, c)) for k, c in cells.items()]
        name_width = max([10, *(len(name) for name in self.names)])

        def line(name, row):
            return f"{name:<{name_width}}" + "".join(
                f" {c:>{size}}" for c, size in zip(row, sizes, strict=True)
            )

        header = line("", list(cells))
        rule = max(width, len(header))
        lines = ["=" * rule, header, "-" * rule]
        for i, name in enumerate(self.names):
            lines.append(line(name, [c[i] for c in cells.values()]))
        return [*lines, "=" * rule]

    def _diagnostic_lines(self, width):
        """The residuals' normality, autocorrelation and the design's
        conditioning, in statsmodels' bottom block."""
        left = [
            ("Omnibus:", f"{self.omnibus:.3f}"),
            ("Prob(Omnibus):", f"{self.omnibus_pvalue:.3f}"),
            ("Skew:", f"{self.skew:.3f}"),
            ("Kurtosis:", f"{self.kurtosis:.3f}"),
        ]
        right = [
            ("Durbin-Watson:", f"{self.durbin_watson:.3f}"),
            ("Jarque-Bera (JB):", f"{self.jarque_bera:.3f}"),
            ("Prob(JB):", f"{self.jarque_bera_pvalue:.3g}"),
            ("Cond. No.", f"{self.condition_number:.3g}"),
        ]
        return [*_two_columns(left, right, width), "=" * width]


def _two_columns(left, right, width):
    """Pairs of (name, value) in two columns of ``width`` in all, each value
    right-aligned in its half, one space at least after each name; the shorter
    list padded with blanks."""
    half = width // 2
    blank = ("", "")
    size = max(len(left), len(right))
    left = left + [blank] * (size - len(left))
    right = right + [blank] * (size - len(right))
    return [
        (_pair(lk, lv, half - 2) + "  " + _pair(rk, rv, half)).rstrip()
        for (lk, lv), (rk, rv) in zip(left, right, strict=True)
    ]


def _pair(name, value, width):
    """``name`` and ``value`` ``width`` wide, a space at least between them."""
    if not name and not value:
        return " " * width
    return name + " " * max(1, width - len(name) - len(value)) + value


def _count(value):
    """A count as an integer (``10000000``), not in %g's exponent form."""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _skew_z(skew, n):
    """D'Agostino's z score of a sample's skewness ``skew`` (``sqrt(b1)``) of n
    observations (``scipy.stats.skewtest``); nan below 8 observations."""
    if n < 8:
        return np.nan
    y = skew * np.sqrt((n + 1) * (n + 3) / (6.0 * (n - 2)))
    beta2 = (
        3.0
        * (n * n + 27 * n - 70)
        * (n + 1)
        * (n + 3)
        / ((n - 2.0) * (n + 5) * (n + 7) * (n + 9))
    )
    w2 = np.sqrt(2 * (beta2 - 1)) - 1
    delta = 1 / np.sqrt(0.5 * np.log(w2))
    alpha = np.sqrt(2.0 / (w2 - 1))
    return float(delta * np.arcsinh(y / alpha))


def _kurtosis_z(kurtosis, n):
    """Anscombe and Glynn's z score of a sample's (Pearson) kurtosis ``b2`` of
    n observations (``scipy.stats.kurtosistest``); nan below 8 observations."""
    if n < 8:
        return np.nan
    mean = 3.0 * (n - 1) / (n + 1)
    var = 24.0 * n * (n - 2) * (n - 3) / ((n + 1) ** 2 * (n + 3) * (n + 5))
    x = (kurtosis - mean) / np.sqrt(var)
    root_beta1 = (
        6.0
        * (n * n - 5 * n + 2)
        / ((n + 7) * (n + 9))
        * np.sqrt(6.0 * (n + 3) * (n + 5) / (n * (n - 2) * (n - 3)))
    )
    A = 6.0 + 8.0 / root_beta1 * (2.0 / root_beta1 + np.sqrt(1 + 4.0 / root_beta1**2))
    denominator = 1 + x * np.sqrt(2 / (A - 4.0))
    if denominator == 0:
        return np.nan
    term = np.sign(denominator) * np.cbrt((1 - 2.0 / A) / abs(denominator))
    return float((1 - 2 / (9.0 * A) - term) / np.sqrt(2 / (9.0 * A)))


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
    target_names : tuple of str or None
        The names of y's targets, where y (a pandas Series or DataFrame) had
        them at fit.
    """

    stats: FitStatistics | None = None
    n_iter: int | None = None
    gradient_norm: float | None = None
    converged: bool = True
    penalized: bool = False
    loss: str = "squared_error"
    positive: bool = False
    streamed: bool = False
    target_names: tuple[str, ...] | None = None

    def named(self, y: object) -> TrainingRecord:
        """This record with the names of y's targets, where y has them."""
        return replace(self, target_names=target_names_of(y))


def target_names_of(y: object) -> tuple[str, ...] | None:
    """The names of y's targets where y carries them: a named pandas Series'
    name, or a DataFrame's column names; else None."""
    name = getattr(y, "name", None)
    if name is not None and hasattr(y, "to_numpy") and getattr(y, "ndim", 0) == 1:
        return (str(name),)
    columns = getattr(y, "columns", None)
    if columns is not None and hasattr(y, "to_numpy"):
        return tuple(str(c) for c in columns)
    return None


def summarize(
    record: TrainingRecord,
    coef: ArrayLike,
    intercept: ArrayLike,
    *,
    feature_names: Sequence[str] | None = None,
    target_names: Sequence[str] | None = None,
    alpha: float = 0.05,
    cov_type: str = "nonrobust",
    rows: TrainingRows | None = None,
) -> RegressionResults | list[RegressionResults]:
    """Classical least-squares inference at the trained coefficients.

    Standard errors are ``sqrt(diag(σ² (X'WX)⁻¹))`` with ``σ² = ssr / df_resid``,
    computed with the design's constant column; every other statistic follows
    statsmodels' ``OLS``/``WLS`` results (uncentred R² and ``df_model = rank``
    without a constant). With a robust ``cov_type``, the covariance is
    statsmodels' sandwich of that name, from the training ``rows``
    (:mod:`skneuron._robust`).

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
        Names of the targets; None uses the record's (the pandas names of y at
        fit), else ``y`` (``y0``, ``y1``, ... for several).
    alpha : float, default=0.05
        Level of the confidence intervals in the table and of ``conf_int()``.
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster"}, \
            default="nonrobust"
        The covariance of the parameters.
    rows : TrainingRows, default=None
        The training rows, for a robust ``cov_type`` (required there).

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
        were recorded at; and rows that are not the training rows.

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
    if cov_type != "nonrobust" and rows is None:
        raise ValueError(f"cov_type={cov_type!r} needs the training rows.")
    if not record.converged:
        _warn_not_converged()
    names = _names(feature_names, coef2d.shape[1])
    names = ("const", *names) if stats.fit_intercept else tuple(names)
    targets = _target_names(target_names or record.target_names, len(coef2d))
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        root = _inverse_root(stats)
        inverse = root @ root.T
        unscaled = _design_inverse(stats, inverse)
    _refuse_out_of_range(unscaled)
    covs = [stats.ssr[j] / df_resid * unscaled for j in range(len(coef2d))]
    robust = None
    if cov_type != "nonrobust":
        robust = _robust.robust(stats, root, rows, cov_type, coef2d, intercept1d)
    common = _common(stats, record, names, df_resid, alpha, robust)
    results = []
    for j in range(len(coef2d)):
        result = RegressionResults(
            params=_params(stats, coef2d[j], intercept1d[j]),
            cov=covs[j] if robust is None else robust.covs[j],
            ssr=float(stats.ssr[j]),
            tss=float(stats.tss[j]),
            target_name=str(targets[j]),
            distance_to_optimum=_distance(_newton_step(stats, inverse, j), covs[j]),
            **_diagnostics(stats, j),
            **common,
        )
        _warn_if_short_of_optimum(result, exact=_exact(stats, j))
        results.append(result)
    return results[0] if np.ndim(coef) == 1 else results


def _common(stats, record, names, df_resid, alpha, robust):
    """The fields of :class:`RegressionResults` that every target shares."""
    common = {
        "names": names,
        "df_model": float(stats.rank - stats.k_constant),
        "df_resid": df_resid,
        "nobs": float(stats.nobs),
        "k_constant": stats.k_constant,
        "alpha": alpha,
        "n_iter": record.n_iter,
        "gradient_norm": record.gradient_norm,
        "converged": record.converged,
        "weighted": stats.weighted,
        "constant_index": stats.constant_index if stats.k_constant else None,
        "condition_number": stats.condition_number(),
    }
    if robust is not None:
        common.update(
            cov_type=robust.cov_type,
            use_t=robust.use_t,
            df_resid_inference=robust.df_inference,
            n_groups=robust.n_groups,
        )
    return common


def _diagnostics(stats, j):
    """Target j's likelihood and residual diagnostics (nan where the
    statistics were pickled before they were gathered)."""
    n = stats.nobs
    llf = -n / 2 * (np.log(2 * np.pi * stats.ssr[j] / n) + 1)
    llf += stats.log_weight_sum / 2 if stats.weighted else 0.0
    if stats.skew is None:
        return {"llf": float(llf)}
    return {
        "llf": float(llf),
        "skew": float(stats.skew[j]),
        "kurtosis": float(stats.kurtosis[j]),
        "durbin_watson": float(stats.durbin_watson[j]),
    }


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


def _inverse_root(stats):
    """``M = S⁻¹ R⁻¹``, with ``(X'WX)⁻¹ = M M'`` (of centred X with an
    intercept)."""
    inverse = linalg.solve_triangular(stats.r_factor, np.eye(len(stats.X_mean)))
    return inverse / stats.column_scale[:, None]


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
