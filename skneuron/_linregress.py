"""``skneuron.linregress``: scipy's ``linregress``, answered by the trained neuron."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats


class _LinregressFields(NamedTuple):
    slope: float
    intercept: float
    rvalue: float
    pvalue: float
    stderr: float


class LinregressResult(_LinregressFields):
    """Result of :func:`linregress`, shaped like scipy's ``LinregressResult``.

    A named tuple of five fields, so ``slope, intercept, r, p, se =
    linregress(x, y)`` works as with scipy, plus the attribute
    ``intercept_stderr``, which unpacking leaves out (as scipy does).

    Attributes
    ----------
    slope : float
        Slope of the fitted line (the neuron's weight).
    intercept : float
        Intercept of the fitted line (the neuron's bias).
    rvalue : float
        Pearson correlation coefficient; ``rvalue**2`` is R².
    pvalue : float
        p-value of the t test that the slope is zero.
    stderr : float
        Standard error of the slope.
    intercept_stderr : float
        Standard error of the intercept.
    """

    intercept_stderr: float

    def __new__(
        cls,
        slope: float,
        intercept: float,
        rvalue: float,
        pvalue: float,
        stderr: float,
        *,
        intercept_stderr: float = np.nan,
    ) -> LinregressResult:
        """The five fields, then ``intercept_stderr`` as an attribute."""
        self = super().__new__(cls, slope, intercept, rvalue, pvalue, stderr)
        self.intercept_stderr = intercept_stderr  # pickled through __dict__
        return self

    def __repr__(self) -> str:
        """All six fields, ``intercept_stderr`` included."""
        fields = ", ".join(f"{k}={v!r}" for k, v in self._asdict().items())
        return f"{type(self).__name__}({fields})"

    def _asdict(self) -> dict:
        """The six fields by name, ``intercept_stderr`` included."""
        return {**super()._asdict(), "intercept_stderr": self.intercept_stderr}


def linregress(
    x: ArrayLike, y: ArrayLike, alternative: str = "two-sided"
) -> LinregressResult:
    """Least-squares line of y on x, trained as a neuron; scipy's call and result.

    Fits ``NeuronRegressor()`` (default settings) on the one feature ``x`` and
    returns the fields of :func:`scipy.stats.linregress`, with the slope and
    intercept trained by gradient descent and the standard errors, correlation
    and p-value from :meth:`NeuronRegressor.summary
    <skneuron.NeuronRegressor.summary>` at the trained line.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Two sets of measurements of the same length.
    alternative : {"two-sided", "less", "greater"}, default="two-sided"
        Alternative hypothesis of the slope's test, as in scipy: the slope is
        non-zero, negative or positive.

    Returns
    -------
    result : LinregressResult
        ``slope``, ``intercept``, ``rvalue``, ``pvalue``, ``stderr`` (unpacked as
        a tuple of five) and the attribute ``intercept_stderr``.

    Raises
    ------
    ValueError
        If x or y is empty or not 1-D, their lengths differ, or all x are equal.

    See Also
    --------
    scipy.stats.linregress : The closed-form answer.
    NeuronRegressor.summary : The same statistics for several features.

    Examples
    --------
    >>> import numpy as np
    >>> from skneuron import linregress
    >>> x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    >>> y = np.array([1.1, 2.9, 5.2, 6.9, 9.1])
    >>> res = linregress(x, y)
    >>> print(f"{res.slope:.4f} {res.intercept:.4f} {res.rvalue:.5f}")
    2.0000 1.0400 0.99910
    >>> print(f"{res.stderr:.4f} {res.intercept_stderr:.4f} {res.pvalue:.2e}")
    0.0490 0.1200 3.23e-05
    >>> slope, intercept, r, p, se = res
    """
    from skneuron._neuron import NeuronRegressor  # _neuron imports _inference

    x, y = _check_measurements(x, y, alternative)
    reg = NeuronRegressor().fit(x[:, None], y)
    slope, intercept = float(reg.coef_[0]), float(reg.intercept_)
    if len(x) == 2:  # a line through two points: scipy's conventions
        r = float(np.sign(slope)) if y[0] != y[1] else np.nan
        p = 1.0 if y[0] == y[1] else 0.0
        return LinregressResult(slope, intercept, r, p, 0.0, intercept_stderr=0.0)
    res = reg.summary()
    r = float(np.sign(slope) * np.sqrt(np.clip(res.rsquared, 0.0, 1.0)))
    p = _slope_pvalue(res.tvalues[1], res.df_resid, alternative)
    # scipy's standard errors are nan where r is (y constant)
    bse = np.full(2, np.nan) if np.isnan(r) else res.bse
    return LinregressResult(
        slope,
        intercept,
        r,
        float(p),
        float(bse[1]),
        intercept_stderr=float(bse[0]),
    )


def _check_measurements(x, y, alternative):
    """x and y as float64 arrays, refused where scipy's ``linregress`` refuses."""
    if alternative not in ("two-sided", "less", "greater"):
        raise ValueError(
            "alternative must be 'two-sided', 'less' or 'greater', got "
            f"{alternative!r}."
        )
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.size == 0 or y.size == 0:
        raise ValueError("Inputs must not be empty.")
    if x.ndim != 1 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(
            "x and y must be 1-D of the same length, got shapes "
            f"{x.shape} and {y.shape}."
        )
    if len(x) > 1 and np.max(x) == np.min(x):
        raise ValueError(
            "Cannot calculate a linear regression if all x values are identical."
        )
    return x, y


def _slope_pvalue(t, df, alternative):
    """p-value of the slope's t statistic on Student's t with ``df`` degrees of
    freedom, against the ``alternative`` hypothesis."""
    if alternative == "two-sided":
        return 2 * stats.t.sf(abs(t), df)
    if alternative == "less":
        return stats.t.cdf(t, df)
    return stats.t.sf(t, df)
