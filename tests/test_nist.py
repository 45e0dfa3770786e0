"""NIST's StRD linear regression problems: the files, their parser, NeuronRegressor.

The eleven files in tests/data/nist/ (README there) are read by
``benchmarks/_nist.py``. The first part checks the files and the parser, with no
skneuron: a float64 QR solver reaches on each problem the digits such solvers are
known to reach, and the exact solution of each problem, in rational arithmetic on
the file's own decimals, is the file's certified values. The second part (slow)
asks NeuronRegressor for the digits of the certified parameters and standard
deviations; where it falls short today the case is an expected failure (issue 18),
its reason giving the LRE measured.

LRE (log relative error) is about the number of correct significant digits:
``-log10(|estimate - certified| / |certified|)``, at most 15 (the digits NIST
certifies); a problem's LRE is the smallest over its parameters.
"""

import importlib.util
import pathlib
import sys
import warnings

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _import_nist():
    """benchmarks/_nist.py (benchmarks/ is not a package, nor on sys.path)."""
    name = "skneuron_benchmarks_nist"
    if name not in sys.modules:
        path = ROOT / "benchmarks" / "_nist.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[name]


nist = _import_nist()


@pytest.fixture(scope="module")
def problems():
    return {name: nist.load(name) for name in nist.NAMES}


# -- part 1: the files and the parser ----------------------------------------------

# statsmodels' OLS(y, design).fit(method="qr") (Householder QR through NumPy's
# LAPACK, in float64), on NIST's design as it is: no centring, no scaling. Measured
# here (statsmodels 0.15, NumPy 2.4 with OpenBLAS 0.3.31), LRE of the parameters:
# Norris 12.0, Pontius 12.8, NoInt1 14.8, NoInt2 15, Filip 8.0, Longley 10.9,
# Wampler1 9.4, Wampler2 13.0, Wampler3 9.1, Wampler4 7.8, Wampler5 5.8; of the
# residual SD (from the residuals) 8.8 or more. As published for QR solvers in
# double precision, Filip (its design's condition number is about 2e15) and
# Wampler5 are the hard ones; many packages refuse Filip as collinear. The floors
# check the files and the parser, not LAPACK: 7 digits, 5 on Wampler5.
QR_FLOOR = 7
QR_FLOORS = {"Wampler5": 5}


@pytest.mark.parametrize("name", nist.NAMES)
def test_float64_qr_reaches_the_known_digits(problems, name):
    import statsmodels.api as sm

    problem = problems[name]
    design = problem.design()
    params = sm.OLS(problem.y, design).fit(method="qr").params
    floor = QR_FLOORS.get(name, QR_FLOOR)
    assert problem.lre(params) >= floor
    # Not statsmodels' scale: its df_resid takes the numerical rank of the design,
    # 10 for Filip's 11 columns (72 degrees of freedom, not 71): 0.7 % off.
    residuals = problem.y - design @ params
    residual_sd = np.sqrt(residuals @ residuals / (problem.n - design.shape[1]))
    assert nist.lre(residual_sd, problem.residual_sd) >= floor


@pytest.mark.parametrize("name", nist.NAMES)
def test_exact_solution_is_the_certified_one(problems, name):
    """Solved in rational arithmetic, each file's data give its certified
    estimates, standard deviations, residual SD and R² to 14 digits of their 15
    (measured: 14.3 at least)."""
    problem = problems[name]
    params, bse, residual_sd, rsquared = nist.exact_fit(problem)
    assert problem.lre(params) >= 14
    assert problem.bse_lre(bse) >= 14
    assert nist.lre(residual_sd, problem.residual_sd) >= 14
    assert nist.lre(rsquared, problem.rsquared) >= 14


# name: (n, p, intercept, difficulty, first certified parameter), from NIST's pages
FACTS = {
    "Norris": (36, 1, True, "Lower", -0.262323073774029),
    "Pontius": (40, 2, True, "Lower", 0.673565789473684e-03),
    "NoInt1": (11, 1, False, "Average", 2.07438016528926),
    "NoInt2": (3, 1, False, "Average", 0.727272727272727),
    "Filip": (82, 10, True, "Higher", -1467.48961422980),
    "Longley": (16, 6, True, "Higher", -3482258.63459582),
    "Wampler1": (21, 5, True, "Higher", 1.0),
    "Wampler2": (21, 5, True, "Higher", 1.0),
    "Wampler3": (21, 5, True, "Higher", 1.0),
    "Wampler4": (21, 5, True, "Higher", 1.0),
    "Wampler5": (21, 5, True, "Higher", 1.0),
}


@pytest.mark.parametrize("name", nist.NAMES)
def test_parser_reads_the_model(problems, name):
    n, p, intercept, difficulty, first = FACTS[name]
    problem = problems[name]
    assert problem.X.shape == (n, p) and problem.y.shape == (n,)
    assert problem.X.dtype == problem.y.dtype == np.float64
    assert problem.fit_intercept is intercept
    assert problem.difficulty == difficulty
    assert problem.params[0] == first
    assert len(problem.params) == len(problem.bse) == p + intercept
    assert problem.params_digits == problem.bse_digits == (15,) * (p + intercept)
    assert problem.design().shape == (n, p + intercept)
    if p > 1 and name != "Longley":  # polynomials: x, x**2, ...
        np.testing.assert_array_equal(problem.X[:, 1], problem.X[:, 0] ** 2)


def test_parser_details(problems):
    longley = problems["Longley"]
    assert longley.columns == ("y", "x1", "x2", "x3", "x4", "x5", "x6")
    assert longley.y[0] == 60323 and longley.X[-1, -1] == 1962
    assert longley.residual_sd == 304.854073561965
    assert longley.rsquared == 0.995479004577296
    filip = problems["Filip"]
    assert filip.powers == tuple(range(1, 11))
    assert filip.bse[-1] == 0.896632837373868e-05
    assert problems["Wampler1"].residual_sd == 0.0
    assert np.all(problems["Wampler2"].bse == 0.0)
    assert list(problems["Wampler2"].params) == [1.0, 0.1, 0.01, 0.001, 1e-4, 1e-5]
    norris = problems["Norris"]  # its file ends with a line of blanks after the data
    assert (norris.y[0], norris.X[0, 0]) == (0.1, 0.2)
    assert (norris.y[-1], norris.X[-1, 0]) == (0.2, 0.5)


def test_parse_refuses_a_damaged_file():
    text = (nist.DATA / "Norris.dat").read_text()
    lines = text.splitlines()
    with pytest.raises(ValueError, match="Observations|numbers"):
        nist.parse("\n".join(lines[:70] + lines[71:]))  # a row missing
    with pytest.raises(ValueError, match="header says 3"):
        nist.parse(text.replace("2 Parameters", "3 Parameters"))
    with pytest.raises(ValueError, match="B0..Bk"):
        nist.parse(text.replace("B1         1.0021", "B7         1.0021"))


def test_lre():
    lre = nist.lre
    assert lre(1.0, 1.0) == 15  # capped at NIST's 15 digits
    assert lre(1.0, 1.0, digits=4) == 4
    assert lre(1.000001, 1.0) == pytest.approx(6)
    assert lre(-2.0001, -2.0) == pytest.approx(-np.log10(0.0001 / 2))
    assert lre(1e-9, 0.0) == pytest.approx(9)  # absolute error where certified is 0
    assert lre(0.0, 0.0) == 15
    assert lre(np.nan, 1.0) == lre(np.inf, 1.0) == lre(3.0, 1.0) == 0.0
    assert nist.min_lre([1.0, 2.001], [1.0, 2.0]) == pytest.approx(np.log10(2000))
    with pytest.raises(ValueError):
        nist.min_lre([1.0], [1.0, 2.0])
    assert nist.significant_digits("-0.358191792925910E-01") == 15
    assert nist.significant_digits("0.000000000000000") == 15
    assert nist.significant_digits("60323") == 5


# -- part 2: NeuronRegressor() (slow) ------------------------------------------------

# The digits of the certified parameters NeuronRegressor() must reach.
NEURON_FLOORS = {
    "Norris": 12,
    "Pontius": 11,
    "NoInt1": 14,
    "NoInt2": 14,
    "Filip": 7,
    "Longley": 12,
    "Wampler1": 9,
    "Wampler2": 12,
    "Wampler3": 9,
    "Wampler4": 7.5,
    "Wampler5": 5.5,
}
# The digits of the certified standard deviations summary().bse must reach, where
# the certified residual SD is not 0 (Wampler1 and Wampler2 fit exactly: their
# standard deviations are all 0).
BSE_FLOOR = 8
BSE_NAMES = [name for name in nist.NAMES if nist.load(name).residual_sd != 0]

# Expected failures, measured on 2026-12-03 (the fits are deterministic on one
# machine): Filip's standard errors, 7.8 to 8.1 digits by BLAS kernel
# (Sandybridge 7.8, Haswell and Zen 7.9, SkylakeX 8.1). The floor of 8 is out of
# reach of float64 data: the exact inverse of X'X of Filip's design as float64
# holds (in rational arithmetic) gives 7.63 digits, its exact least-squares
# parameters 7.61, because x's decimals and their powers to x**10 are rounded.
# Filip's residual SD is exact to 9.6 digits (residuals computed with their
# products' rounding errors carried). Passing: Norris 12.8, Pontius 13.2 (refined
# on its residuals), NoInt1 14.7, NoInt2 15, Filip 7.5, Longley 13.4, Wampler1-5
# 9.5 / 12.7 / 9.3 / 7.8 / 5.7; standard errors 12.4 or more elsewhere.
PARAMS_XFAIL: dict = {}
WARNING_XFAIL: dict = {}
BSE_XFAIL = {
    "Filip": "bse LRE 7.8-8.1 by BLAS kernel; exact arithmetic on float64 data: 7.63",
}


def _cases(expected_failures, names=nist.NAMES):
    return [
        pytest.param(
            name,
            marks=pytest.mark.xfail(strict=False, reason=expected_failures[name])
            if name in expected_failures
            else (),
        )
        for name in names
    ]


@pytest.fixture(scope="module")
def neuron_fit(problems):
    """``NeuronRegressor()`` fitted once per problem: (estimator, warnings)."""
    fits = {}

    def fit(name):
        if name not in fits:
            from skneuron import NeuronRegressor

            problem = problems[name]
            reg = NeuronRegressor(fit_intercept=problem.fit_intercept)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                reg.fit(problem.X, problem.y)
            fits[name] = reg, caught
        return fits[name]

    return fit


def _params(problem, reg):
    coef = np.ravel(reg.coef_)
    return np.r_[reg.intercept_, coef] if problem.fit_intercept else coef


@pytest.mark.slow
@pytest.mark.parametrize("name", _cases(PARAMS_XFAIL))
def test_neuron_reaches_the_certified_digits(problems, neuron_fit, name):
    problem = problems[name]
    reg, _ = neuron_fit(name)
    assert problem.lre(_params(problem, reg)) >= NEURON_FLOORS[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", _cases(WARNING_XFAIL))
def test_neuron_fit_does_not_warn_of_convergence(neuron_fit, name):
    from sklearn.exceptions import ConvergenceWarning

    _, caught = neuron_fit(name)
    messages = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert messages == []


@pytest.mark.slow
@pytest.mark.parametrize("name", _cases(BSE_XFAIL, BSE_NAMES))
def test_summary_standard_errors_reach_the_certified_digits(problems, neuron_fit, name):
    problem = problems[name]
    reg, _ = neuron_fit(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a ConvergenceWarning is tested above
        bse = reg.summary().bse
    assert problem.bse_lre(bse) >= BSE_FLOOR


# Sparse X and Dask arrays train from the same triangular factor, taken from blocks
# of rows (dense blocks of sparse rows; a tree of block factors on Dask), whose
# rounding differs from the in-memory pass. Measured on 2026-12-03, sparse / Dask:
# Norris 12.8 / 12.4, Pontius 12.6 / 13.2, Filip 7.2 / 8.0, Longley 13.4 / 13.1,
# Wampler1-5 9.5 / 8.9, 12.7 / 13.7, 9.3 / 8.8, 7.8 / 7.8, 5.7 / 5.8. Trained on
# the sums, as before the factor served them: Filip 0 with ConvergenceWarnings,
# Longley 10.5, Wampler1 6.2 / 6.7, Wampler4 6.5 / 6.9. The floors are the
# in-memory ones less half a digit.
SOURCE_MARGIN = 0.5


def _as_source(kind, problem):
    if kind == "sparse":
        import scipy.sparse as sp

        return sp.csr_matrix(problem.X), problem.y
    da = pytest.importorskip("dask.array")
    return da.from_array(problem.X, chunks=(7, -1)), da.from_array(problem.y, 7)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sparse", "dask"])
@pytest.mark.parametrize("name", nist.NAMES)
def test_sparse_and_dask_x_reach_the_certified_digits(problems, kind, name):
    from sklearn.exceptions import ConvergenceWarning

    from skneuron import NeuronRegressor

    problem = problems[name]
    X, y = _as_source(kind, problem)
    reg = NeuronRegressor(fit_intercept=problem.fit_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg.fit(X, y)
    assert problem.lre(_params(problem, reg)) >= NEURON_FLOORS[name] - SOURCE_MARGIN
