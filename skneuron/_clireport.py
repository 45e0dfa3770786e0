"""What ``skneuron fit`` reports besides the summary table: the scikit-learn
reference fit its coefficients are compared with, and the ``--output json``
document.

The reference minimizes the neuron's objective without penalty, as closely as a
scikit-learn estimator can:

- ``squared_error``: :class:`~sklearn.linear_model.LinearRegression`;
- ``absolute_error``: :class:`~sklearn.linear_model.QuantileRegressor` with
  ``quantile=0.5, alpha=0, solver="highs"`` (least absolute deviations, exactly);
- ``huber``: :class:`~sklearn.linear_model.HuberRegressor` with ``alpha=0``. Its
  threshold is ``epsilon * scale_`` in y's units, ``scale_`` estimated with the
  coefficients; for a given scale its coefficients minimize Huber's loss with
  that threshold, the neuron's loss with ``delta = epsilon * scale_``. So its
  ``epsilon`` is solved for (Brent's method) so that ``epsilon * scale_`` equals
  the neuron's ``epsilon``: then both minimize the same objective. Where no
  epsilon (HuberRegressor's is at least 1) gives that threshold, the thresholds
  differ, and so may the coefficients; the reference's line says so.
  (For small ``epsilon``, HuberRegressor's ``scale_`` collapses to 0, so the
  match is checked, and where none holds its default ``epsilon=1.35`` is used.)
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
import warnings

import numpy as np


@dataclasses.dataclass(frozen=True)
class Reference:
    """A fitted scikit-learn reference estimator and how it was chosen.

    Parameters
    ----------
    estimator : object
        The fitted estimator (``coef_`` and ``intercept_``).
    seconds : float
        Its fit time (for Huber, of the last fit, at the matched epsilon).
    description : str or None
        One line on the reference (None for LinearRegression).
    """

    estimator: object
    seconds: float
    description: str | None = None

    @property
    def name(self) -> str:
        """The reference's class name."""
        return type(self.estimator).__name__


def reference_fit(
    loss: str, X: np.ndarray, y: np.ndarray, epsilon: float, fit_intercept: bool = True
) -> Reference:
    """The scikit-learn estimator that minimizes ``loss`` on X and y (see the module
    docstring), with an intercept or not, fitted; its warnings (it only serves for
    comparison) ignored. X may be changed (LinearRegression centres it in place)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if loss == "huber":
            return _huber(X, y, epsilon, fit_intercept)
        if loss == "absolute_error":
            from sklearn.linear_model import QuantileRegressor

            reg = QuantileRegressor(
                quantile=0.5, alpha=0.0, solver="highs", fit_intercept=fit_intercept
            )
            seconds = _timed(reg, X, y)
            return Reference(
                reg,
                seconds,
                "reference: QuantileRegressor(quantile=0.5, alpha=0) "
                "(least absolute deviations)",
            )
        from sklearn.linear_model import LinearRegression

        reg = LinearRegression(fit_intercept=fit_intercept, copy_X=False)
        return Reference(reg, _timed(reg, X, y))


def _timed(reg, X, y):
    start = time.perf_counter()
    reg.fit(X, y)
    return time.perf_counter() - start


def _huber(X, y, delta, fit_intercept):
    """HuberRegressor(alpha=0) with ``epsilon * scale_ == delta`` where it can be."""
    # fitted on standardized columns (its L-BFGS converges on them), mapped back
    mean = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
    std = X.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    Z = (X - mean) / std
    epsilon = _matching_epsilon(Z, y, delta, fit_intercept)
    matched = epsilon is not None
    if not matched:
        epsilon = 1.35  # HuberRegressor's default
    start = time.perf_counter()
    reg = _huber_fit(Z, y, epsilon, fit_intercept)
    seconds = time.perf_counter() - start
    reg.coef_ = reg.coef_ / std
    reg.intercept_ = reg.intercept_ - mean @ reg.coef_
    how = _huber_match(epsilon * reg.scale_, delta, matched)
    return Reference(
        reg,
        seconds,
        f"reference: HuberRegressor(epsilon={epsilon:.6g}, alpha=0); {how}",
    )


def _huber_fit(Z, y, epsilon, fit_intercept):
    """HuberRegressor(epsilon, alpha=0), fitted to tight tolerance."""
    from sklearn.linear_model import HuberRegressor

    reg = HuberRegressor(
        epsilon=epsilon,
        alpha=0.0,
        max_iter=1000,
        tol=1e-10,
        fit_intercept=fit_intercept,
    )
    return reg.fit(Z, y)


def _matching_epsilon(Z, y, delta, fit_intercept):
    """The epsilon (at least 1) whose threshold ``epsilon * scale_`` is ``delta``,
    by Brent's method; None where none is found."""
    from scipy.optimize import brentq

    def gap(epsilon):
        return epsilon * _huber_fit(Z, y, epsilon, fit_intercept).scale_ - delta

    epsilon = None
    if gap(1.0) < 0:
        high = 2.0
        while gap(high) < 0 and high < 1e6:
            high *= 2
        with contextlib.suppress(ValueError):
            epsilon = brentq(gap, 1.0, high, xtol=1e-12, rtol=1e-12)
    # the scale can collapse to 0 for small epsilon, and jump: check the match
    if epsilon is not None and abs(gap(epsilon)) <= 1e-6 * delta:
        return epsilon
    return None


def _huber_match(threshold, delta, matched):
    """How HuberRegressor's threshold compares with the neuron's epsilon
    ``delta``: the end of the reference's line."""
    if matched:
        return (
            f"its threshold epsilon * scale_ = {threshold:.6g} in y's units, the "
            f"neuron's epsilon: the same objective"
        )
    return (
        f"no epsilon gives a threshold epsilon * scale_ of the neuron's epsilon "
        f"{delta:g} (at its default epsilon it is {threshold:.6g} in y's "
        "units): the objectives differ"
    )


def fit_document(
    *,
    data: str,
    target: str,
    features: list[str],
    nobs: int,
    reg: object,
    results: object | None,
    note: str | None,
    reference: Reference,
    seconds: float,
    saved: str | None,
) -> dict:
    """The ``fit --output json`` document: plain JSON values (non-finite numbers
    as None).

    Parameters
    ----------
    data, target : str
        The CSV file and the target column.
    features : list of str
        The feature columns, in the model's order.
    nobs : int
        The number of rows fitted.
    reg : NeuronRegressor
        The fitted estimator.
    results : RegressionResults or None
        Its summary, where one applies.
    note : str or None
        Why there is no summary.
    reference : Reference
        The reference fit.
    seconds : float
        The neuron's fit time.
    saved : str or None
        Where the model was saved (--save).

    Returns
    -------
    document : dict
        Ready for :func:`json.dumps` with ``allow_nan=False``.
    """
    ref = reference.estimator
    record = getattr(reg, "_record", None)
    return {
        "data": data,
        "target": target,
        "features": list(features),
        "nobs": nobs,
        "estimator": "NeuronRegressor",
        "params": {k: _plain(reg.get_params()[k]) for k in _PARAMS},
        "coefficients": dict(zip(features, map(_number, reg.coef_), strict=True)),
        "intercept": _number(reg.intercept_),
        "n_iter": int(reg.n_iter_),
        "converged": bool(record.converged) if record is not None else None,
        "summary": None if results is None else summary_document(results),
        "note": note,
        "reference": {
            "estimator": reference.name,
            "description": reference.description,
            "coefficients": dict(zip(features, map(_number, ref.coef_), strict=True)),
            "intercept": _number(ref.intercept_),
        },
        "fit_time": {"NeuronRegressor": seconds, reference.name: reference.seconds},
        "model": saved,
    }


_PARAMS = ("loss", "alpha", "l1_ratio", "epsilon", "epochs", "tol")


_STATISTICS = (
    "rsquared",
    "rsquared_adj",
    "fvalue",
    "f_pvalue",
    "df_model",
    "df_resid",
    "nobs",
    "scale",
    "llf",
    "aic",
    "bic",
)


def summary_document(results: object) -> dict:
    """The summary's statistics (statsmodels' names) and its coefficient table, one
    object per parameter (the intercept first, named ``"const"``)."""
    params = _params_document(results)
    statistics = {key: _number(getattr(results, key)) for key in _STATISTICS}
    return {
        **statistics,
        "cov_type": results.cov_type,
        "use_t": bool(results.use_t),
        "alpha": _number(results.alpha),
        "params": params,
    }


def _params_document(results):
    """The summary's coefficient table: one object per parameter, with its name,
    coefficient, standard error, t, p and confidence interval."""
    lower, upper = results.conf_int().T
    return [
        {
            "name": name,
            "coef": _number(coef),
            "std_err": _number(se),
            "t": _number(t),
            "p": _number(p),
            "conf_int": [_number(lo), _number(hi)],
        }
        for name, coef, se, t, p, lo, hi in zip(
            results.names,
            results.params,
            results.bse,
            results.tvalues,
            results.pvalues,
            lower,
            upper,
            strict=True,
        )
    ]


def _number(value):
    """A float, or None where it is not finite (JSON has no NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None


def _plain(value):
    """A parameter as a JSON value (its repr where it is not one)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return _number(value)
    return repr(value)
