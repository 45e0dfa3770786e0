"""Inference after fit: ``summary()`` equals statsmodels, ``linregress`` equals scipy.

The references are computed here, from the same data, by ``statsmodels.api.OLS``
(``WLS`` with weights) and ``scipy.stats.linregress``. Each estimator is fitted
once per module; the checks that need no training build ``FitStatistics`` directly.
"""

import doctest
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.exceptions import ConvergenceWarning

import skneuron
from skneuron import NeuronRegressor
from skneuron._inference import (
    FitStatistics,
    RegressionResults,
    TrainingRecord,
    summarize,
)

sm = pytest.importorskip("statsmodels.api")
stattools = pytest.importorskip("statsmodels.stats.stattools")

RTOL = 1e-8
SCALARS = [
    "rsquared",
    "rsquared_adj",
    "fvalue",
    "f_pvalue",
    "df_model",
    "df_resid",
    "nobs",
    "scale",
    "ssr",
    "llf",
    "aic",
    "bic",
    "mse_model",
    "mse_resid",
    "mse_total",
    "condition_number",
]
ARRAYS = ["params", "bse", "tvalues", "pvalues"]


def _synthetic(n=200, seed=0):
    """Features of very different scales and offsets, moderate t statistics."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)) * [1, 10, 100, 0.1, 1000] + [0, 5, -50, 1, 1e4]
    y = X @ [0.3, 0.03, 0.003, 3, 0.0003] + 2 + rng.normal(size=n)
    return X, y, rng.uniform(0.1, 3, n)


def _reference(X, y, weights=None, fit_intercept=True):
    exog = sm.add_constant(X, has_constant="add") if fit_intercept else X
    model = sm.OLS(y, exog) if weights is None else sm.WLS(y, exog, weights=weights)
    return model.fit()


def assert_like_statsmodels(res, ref, rtol=RTOL):
    for name in ARRAYS:
        np.testing.assert_allclose(
            getattr(res, name), getattr(ref, name), rtol=rtol, atol=0, err_msg=name
        )
    for name in SCALARS:
        np.testing.assert_allclose(
            getattr(res, name), getattr(ref, name), rtol=rtol, atol=0, err_msg=name
        )
    for alpha in (0.05, 0.1):
        np.testing.assert_allclose(
            res.conf_int(alpha), ref.conf_int(alpha), rtol=rtol, atol=0
        )
    np.testing.assert_allclose(res.cov_params(), ref.cov_params(), rtol=1e-7)
    assert res.k_constant == ref.k_constant
    assert_diagnostics_like_statsmodels(res, ref, rtol)


def assert_diagnostics_like_statsmodels(res, ref, rtol=RTOL):
    """The bottom block of statsmodels' summary, from its whitened residuals."""
    u = ref.wresid
    jb, jb_p, skew, kurtosis = stattools.jarque_bera(u)
    omnibus, omnibus_p = stattools.omni_normtest(u)
    d = u - u.mean()
    # the skewness is a sum of cubes of both signs: its rounding, and the
    # residuals' own, grow as the cubes cancel
    skew_rtol = rtol * np.abs(d**3).sum() / abs((d**3).sum())
    np.testing.assert_allclose(res.skew, skew, rtol=skew_rtol)
    for name, ours, theirs in [
        ("kurtosis", res.kurtosis, kurtosis),
        ("durbin_watson", res.durbin_watson, stattools.durbin_watson(u)),
        ("jarque_bera", res.jarque_bera, jb),
        ("omnibus", res.omnibus, omnibus),
    ]:
        np.testing.assert_allclose(
            ours, theirs, rtol=max(rtol, skew_rtol), err_msg=name
        )


@pytest.fixture(scope="module")
def cases(tutorials, diabetes):
    """(summary, statsmodels results) per case, each estimator fitted once."""
    X_diabetes, y_diabetes = diabetes
    frame = pd.DataFrame(X_diabetes, columns=[f"c{i}" for i in range(10)])
    weights = np.random.default_rng(1).uniform(0.1, 3, len(y_diabetes))
    X_syn, y_syn, w_syn = _synthetic()
    # training precision, not inference, limits the agreement: on these scales
    # the default tol=1e-6 leaves the intercept 1e-6 relative from the optimum
    precise = {"tol": 1e-10}
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fit here may warn
        for name, (X, y) in tutorials.items():
            res = NeuronRegressor().fit(X, y).summary()
            out[name] = (res, _reference(X, y))
            res = NeuronRegressor(fit_intercept=False).fit(X, y).summary()
            out[f"{name}-no-intercept"] = (res, _reference(X, y, fit_intercept=False))
        reg = NeuronRegressor().fit(frame, y_diabetes)
        out["diabetes"] = (reg.summary(), _reference(X_diabetes, y_diabetes))
        res = NeuronRegressor().fit(X_diabetes, y_diabetes, weights).summary()
        out["diabetes-wls"] = (res, _reference(X_diabetes, y_diabetes, weights))
        res = NeuronRegressor(fit_intercept=False).fit(X_diabetes, y_diabetes)
        ref = _reference(X_diabetes, y_diabetes, fit_intercept=False)
        out["diabetes-no-intercept"] = (res.summary(), ref)
        res = NeuronRegressor(**precise).fit(X_syn, y_syn).summary()
        out["synthetic"] = (res, _reference(X_syn, y_syn))
        res = NeuronRegressor(**precise).fit(X_syn, y_syn, w_syn).summary()
        out["synthetic-wls"] = (res, _reference(X_syn, y_syn, w_syn))
        reg = NeuronRegressor(fit_intercept=False, **precise).fit(X_syn, y_syn)
        ref = _reference(X_syn, y_syn, fit_intercept=False)
        out["synthetic-no-intercept"] = (reg.summary(), ref)
    return out


CASES = [
    f"{data}{variant}"
    for data in ["tutorial1", "tutorial2", "tutorial4"]
    for variant in ["", "-no-intercept"]
] + [
    f"{data}{variant}"
    for data in ["diabetes", "synthetic"]
    for variant in ["", "-wls", "-no-intercept"]
]


@pytest.mark.parametrize("case", CASES)
def test_summary_equals_statsmodels(case, cases):
    res, ref = cases[case]
    assert isinstance(res, RegressionResults)
    assert_like_statsmodels(res, ref)
    assert res.distance_to_optimum < 1e-6


def test_multi_target_gives_one_result_per_target(diabetes):
    X, y = diabetes
    Y = np.column_stack([y, np.log(y), -2 * y + X[:, 2]])
    results = NeuronRegressor().fit(X, Y).summary()
    assert isinstance(results, list) and len(results) == 3
    for j, res in enumerate(results):
        assert res.target_name == f"y{j}"
        assert_like_statsmodels(res, _reference(X, Y[:, j]))


def test_names_table_and_frame(cases):
    res, ref = cases["diabetes"]
    names = ("const", *(f"c{i}" for i in range(10)))
    assert res.names == names
    text = str(res)
    assert text == res.summary()
    for name in names:
        assert f"\n{name} " in text
    assert "Epochs:" in text and "Final gradient:" in text and "n/a" not in text
    assert f"{ref.rsquared:.4f}" in text
    frame = res.to_frame()
    assert list(frame.index) == list(names)
    assert list(frame.columns) == ["coef", "std err", "t", "P>|t|", "[0.025", "0.975]"]
    np.testing.assert_allclose(frame["std err"], ref.bse, rtol=RTOL)
    np.testing.assert_allclose(
        frame[["[0.025", "0.975]"]], ref.conf_int(0.05), rtol=RTOL
    )
    assert list(res.to_frame(alpha=0.1).columns[-2:]) == ["[0.05", "0.95]"]
    # unnamed features: x0, x1, ...; the confidence level of summary(alpha=...)
    res = cases["tutorial1"][0]
    assert res.names == ("const", "x0")
    assert "[0.025" in str(res)


def test_to_frame_names_pandas_when_missing(cases, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    with pytest.raises(ImportError, match="pip install pandas"):
        cases["tutorial1"][0].to_frame()


def test_summary_alpha_sets_the_intervals(tutorials):
    X, y = tutorials["tutorial2"]
    reg = NeuronRegressor().fit(X, y)
    res = reg.summary(alpha=0.1)
    ref = _reference(X, y)
    np.testing.assert_allclose(res.conf_int(), ref.conf_int(0.1), rtol=RTOL)
    assert "[0.05" in str(res)
    with pytest.raises(ValueError, match="alpha must be a number in"):
        reg.summary(alpha=1.5)
    # pickling keeps what summary needs
    again = pickle.loads(pickle.dumps(reg)).summary(alpha=0.1)
    np.testing.assert_array_equal(again.bse, res.bse)


def test_training_rows_only_with_validation_split(tutorials):
    X, y = tutorials["tutorial2"]
    res = NeuronRegressor(validation_split=0.2, random_state=0).fit(X, y).summary()
    assert res.nobs == len(y) - 20


# -- inference alone, at statsmodels' own coefficients (no training) -------------
def _at_reference(X, y, weights=None, fit_intercept=True):
    ref = _reference(X, y, weights, fit_intercept)
    coef = ref.params[1:] if fit_intercept else ref.params
    intercept = ref.params[0] if fit_intercept else 0.0
    stats_ = FitStatistics.from_data(
        X, y, weights, coef, intercept, fit_intercept=fit_intercept
    )
    return summarize(TrainingRecord(stats_), coef, intercept), ref


# statsmodels' llf takes log(0) of a zero weight: -inf, as ours
@pytest.mark.filterwarnings("ignore:divide by zero encountered in log")
@pytest.mark.parametrize(
    "variant",
    ["ols", "wls", "wls-large-weights", "wls-zero-weights", "no-intercept", "dummies"],
)
def test_inference_alone_equals_statsmodels(variant):
    """The formulas, free of training error: 1e-10 on badly scaled data."""
    X, y, w = _synthetic()
    fit_intercept = variant not in ("no-intercept", "dummies")
    weights = {"wls": w, "wls-large-weights": 1e6 * w}.get(variant)
    if variant == "wls-zero-weights":
        weights = np.where(np.arange(len(y)) < 20, 0.0, w)
    if variant == "dummies":  # no intercept, but the columns imply one
        groups = np.random.default_rng(2).integers(0, 3, len(y))
        X = np.column_stack([X[:, :2], np.eye(3)[groups]])
    res, ref = _at_reference(X, y, weights, fit_intercept)
    assert_like_statsmodels(res, ref, rtol=1e-10)
    assert res.k_constant == (0 if variant == "no-intercept" else 1)


def test_gram_is_the_weighted_centred_gram():
    X, y, w = _synthetic(n=50)
    stats_ = FitStatistics.from_data(X, y, w, np.zeros(5), 0.0, fit_intercept=True)
    Xc = X - np.average(X, axis=0, weights=w)
    np.testing.assert_allclose(stats_.gram, Xc.T @ (w[:, None] * Xc), rtol=1e-12)
    np.testing.assert_allclose(stats_.ssr, [np.sum(w * y**2)], rtol=1e-12)
    assert stats_.nobs == 50 and stats_.weight_sum == pytest.approx(w.sum())


# -- refusals and warnings -------------------------------------------------------
@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    y = X @ [1.0, -2.0] + 0.5 + rng.normal(size=40)
    return X, y


@pytest.mark.parametrize(
    "params, match",
    [
        ({"alpha": 0.1}, r"penalized fit \(alpha > 0\)"),
        ({"alpha": 0.1, "l1_ratio": 1.0}, r"penalized fit \(alpha > 0\)"),
        ({"loss": "huber"}, "loss='huber'"),
        ({"loss": "absolute_error"}, "loss='absolute_error'"),
    ],
)
def test_refuses_penalties_and_robust_losses(small, params, match):
    X, y = small
    reg = NeuronRegressor(epochs=50, tol=None, **params).fit(X, y)  # any weights
    with pytest.raises(ValueError, match=match):
        reg.summary()


def test_refuses_an_active_positive_bound(small):
    X, y = small  # the second coefficient is -2: held at the bound 0
    reg = NeuronRegressor(positive=True).fit(X, y)
    assert reg.coef_[1] == 0
    with pytest.raises(ValueError, match=r"positive=True .* bound\s+0 \(x1\)"):
        reg.summary()
    # with no coefficient on the bound, the classical answer stands
    X = X * [1.0, -1.0]  # coefficients 1 and 2
    # (tol: the constrained training stops at 1e-9 relative, and p-values of 1e-8
    # magnify that by t² ≈ 50)
    res = NeuronRegressor(positive=True, tol=1e-10).fit(X, y).summary()
    assert_like_statsmodels(res, _reference(X, y))


@pytest.mark.parametrize("kind", ["duplicate", "constant"])
def test_refuses_rank_deficient_X(small, kind):
    X, y = small
    extra = X[:, :1] if kind == "duplicate" else np.full((len(X), 1), 3.0)
    reg = NeuronRegressor().fit(np.hstack([X, extra]), y)
    with pytest.raises(ValueError, match=r"rank deficient: rank 3 for 3 features"):
        reg.summary()


def test_refuses_without_residual_degrees_of_freedom():
    X, y = np.array([[0.0], [1.0]]), np.array([1.0, 3.0])
    stats_ = FitStatistics.from_data(X, y, None, [2.0], 1.0, fit_intercept=True)
    with pytest.raises(ValueError, match="No residual degrees of freedom"):
        summarize(TrainingRecord(stats_), [2.0], 1.0)


def test_refuses_non_finite_statistics():
    X = np.array([[0.0], [1.0], [2.0]])
    y = np.array([0.0, 1e200, -1e200])
    stats_ = FitStatistics.from_data(X, y, None, [0.0], 0.0, fit_intercept=True)
    with pytest.raises(ValueError, match="not finite"):
        summarize(TrainingRecord(stats_), [0.0], 0.0)


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_refuses_standard_errors_out_of_float64_range(small, scale):
    # fit itself is exact here; the inverse Gram matrix (scale^-2) is not
    X, y = small
    reg = NeuronRegressor().fit(X * scale, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="over- or underflow float64"):
            reg.summary()
    # at 1e±100 the statistics are still in range: the answer scales exactly
    res = NeuronRegressor().fit(X * 1e100, y).summary()
    base = NeuronRegressor().fit(X, y).summary()
    np.testing.assert_allclose(res.bse[1:] * 1e100, base.bse[1:], rtol=1e-6)


def test_refuses_after_partial_fit(small):
    """partial_fit counts a row each time it is passed: the number of distinct
    observations behind its sums, and so the residual degrees of freedom, is
    unknown. Never guessed: refused, with the reason, until the next fit."""
    X, y = small
    why = r"partial_fit\(\): it counts a row each time it is passed.*fit\(\)"
    reg = NeuronRegressor().fit(X, y)
    reg.partial_fit(X, y)  # the same rows again: the same coefficients
    with pytest.raises(ValueError, match=why):
        reg.summary()
    with pytest.raises(ValueError, match=why):
        NeuronRegressor().partial_fit(X, y).summary()
    with pytest.raises(ValueError, match=why):  # pickled, it says the same
        pickle.loads(pickle.dumps(reg)).summary()
    assert reg.fit(X, y).summary().nobs == len(y)


def test_warns_when_training_stopped_short(diabetes):
    X, y = diabetes
    reg = NeuronRegressor(epochs=5, tol=None).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="standard errors from the least-sq"):
        res = reg.summary()
    assert res.distance_to_optimum > 1
    # the statistics are still those of the trained coefficients
    ref = _reference(X, y)
    np.testing.assert_array_equal(res.params[1:], reg.coef_)
    assert res.ssr > ref.ssr


def test_warns_when_training_reports_no_convergence(small):
    X, y = small
    ref = _reference(X, y)
    stats_ = FitStatistics.from_data(
        X, y, None, ref.params[1:], ref.params[0], fit_intercept=True
    )
    with pytest.warns(ConvergenceWarning, match="Training did not converge"):
        record = TrainingRecord(stats_, converged=False)
        res = summarize(record, ref.params[1:], ref.params[0])
    assert "Converged: no" in str(res)


# -- linregress ------------------------------------------------------------------
FIELDS = ["slope", "intercept", "rvalue", "pvalue", "stderr", "intercept_stderr"]


@pytest.mark.parametrize("name", ["tutorial1", "tutorial2", "tutorial4"])
def test_linregress_equals_scipy(tutorials, name):
    X, y = tutorials[name]
    x = X.ravel()
    res = skneuron.linregress(x, y)
    ref = stats.linregress(x, y)
    for field in FIELDS:
        np.testing.assert_allclose(
            getattr(res, field), getattr(ref, field), rtol=RTOL, err_msg=field
        )
    for alternative in ("less", "greater"):
        one_sided = skneuron.linregress(x, y, alternative=alternative)
        expected = stats.linregress(x, y, alternative=alternative).pvalue
        np.testing.assert_allclose(one_sided.pvalue, expected, rtol=RTOL)


def test_linregress_result_behaves_like_scipys(tutorials):
    x, y = tutorials["tutorial2"][0].ravel(), tutorials["tutorial2"][1]
    res = skneuron.linregress(list(x), list(y))
    slope, intercept, r, p, se = res  # five, as scipy's
    assert len(res) == 5 and (slope, se) == (res.slope, res.stderr)
    assert res.intercept_stderr > 0
    assert set(res._asdict()) == set(FIELDS)
    assert "intercept_stderr=" in repr(res)
    again = pickle.loads(pickle.dumps(res))
    assert again == res and again.intercept_stderr == res.intercept_stderr
    two = skneuron.linregress([0.0, 1.0], [1.0, 3.0])
    assert tuple(two) == pytest.approx(tuple(stats.linregress([0, 1], [1, 3])))


@pytest.mark.parametrize(
    "x, y, match",
    [
        ([], [], "must not be empty"),
        ([1.0, 1.0, 1.0], [1.0, 2.0, 3.0], "all x values are identical"),
        ([1.0, 2.0], [1.0, 2.0, 3.0], "same length"),
    ],
)
def test_linregress_bad_input(x, y, match):
    with pytest.raises(ValueError, match=match):
        skneuron.linregress(x, y)


# -- the documentation page ------------------------------------------------------
def test_inference_page_examples_run():
    page = Path(__file__).parents[1] / "docs" / "inference.rst"
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testfile(
        str(page), module_relative=False, optionflags=flags, verbose=False
    )
    assert result.attempted > 5 and result.failed == 0
