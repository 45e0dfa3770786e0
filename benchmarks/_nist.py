"""NIST's StRD linear least-squares problems, read from tests/data/nist/*.dat.

Pure NumPy (and the standard library); it imports no skneuron. Each file of NIST's
Statistical Reference Datasets (https://www.itl.nist.gov/div898/strd/lls/lls.shtml)
carries its data and the certified results of its model, computed by NIST in
500-digit arithmetic and quoted to 15 significant digits. The header says where
both are (``Certified Values (lines 31 to 46)``, ``Data (lines 61 to 96)``), and
this module reads them from there::

    problem = load("Longley")
    problem.X, problem.y, problem.fit_intercept  # the model's design, as NIST's
    problem.lre(estimate)  # min LRE of estimated params against certified ones

Parameters are in NIST's order, ``B0`` (the intercept) first where the model has
one, as ``statsmodels``' ``OLS(y, add_constant(X))`` and skneuron's ``summary()``
give them. The design is built from the header's model: with one predictor and
parameters ``B0..Bk`` (``B1..Bk`` without intercept) it is the polynomial
``x, x**2, ..., x**k``; with k predictors, the predictors as they are.
"""

from __future__ import annotations

import math
import pathlib
import re
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

DATA = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data" / "nist"

#: The eleven linear problems, in NIST's order (by level of difficulty).
NAMES = (
    "Norris",
    "Pontius",
    "NoInt1",
    "NoInt2",
    "Filip",
    "Longley",
    "Wampler1",
    "Wampler2",
    "Wampler3",
    "Wampler4",
    "Wampler5",
)

#: The most digits an LRE can count: NIST certifies 15 significant digits.
MAX_DIGITS = 15


@dataclass(frozen=True)
class NistProblem:
    """One StRD linear regression problem and its certified results."""

    name: str
    difficulty: str  # "Lower", "Average" or "Higher", from the header
    model: str  # the header's formula, e.g. "y = B0 + B1*x + e"
    X: np.ndarray  # (n, p) float64, the design without the constant column
    y: np.ndarray  # (n,) float64
    fit_intercept: bool
    param_names: tuple  # ("B0", "B1", ...) or ("B1",) without intercept
    params: np.ndarray  # certified estimates, in param_names' order
    bse: np.ndarray  # certified standard deviations of the estimates
    residual_sd: float  # certified residual standard deviation
    rsquared: float  # certified R² (uncentred for a model without intercept)
    params_digits: tuple  # significant digits certified of each parameter
    bse_digits: tuple  # likewise for the standard deviations
    columns: tuple  # the data's column names ("y", "x") or ("y", "x1", ...)
    powers: tuple  # the power of x of each column of X (all 1 for Longley)
    rows: tuple = field(repr=False)  # the data as written, (y, x, ...) strings

    @property
    def n(self):
        return len(self.y)

    def design(self):
        """X with a column of ones first where the model has an intercept."""
        if not self.fit_intercept:
            return self.X.copy()
        return np.column_stack([np.ones(self.n), self.X])

    def exact(self):
        """The design and y as exact fractions of the decimals in the file:
        (list of rows, each a list of Fractions, ones column first where the
        model has an intercept; list of y)."""
        design, target = [], []
        for y, *xs in self.rows:
            row = [Fraction(1)] if self.fit_intercept else []
            for column, power in zip(_columns_of(self), self.powers, strict=True):
                row.append(Fraction(xs[column]) ** power)
            design.append(row)
            target.append(Fraction(y))
        return design, target

    def lre(self, estimate):
        """Minimum LRE of ``estimate`` (in ``param_names``' order) against the
        certified parameters."""
        return min_lre(estimate, self.params, self.params_digits)

    def bse_lre(self, estimate):
        """Minimum LRE of standard errors against the certified standard
        deviations."""
        return min_lre(estimate, self.bse, self.bse_digits)


def _columns_of(problem):
    """Which data column (0-based, after y) each column of X is a power of."""
    if len(problem.columns) == 2:  # one predictor: a polynomial in it
        return [0] * len(problem.powers)
    return list(range(len(problem.powers)))


def lre(estimate, certified, digits=MAX_DIGITS):
    """Log relative error: the number of correct significant digits.

    ``-log10(|estimate - certified| / |certified|)``, or ``-log10|estimate -
    certified|`` (the absolute error) where ``certified`` is 0; capped at
    ``digits`` (at most 15, the digits NIST certifies) and floored at 0 (no
    correct digit; also for NaN or infinite estimates). Elementwise.
    """
    estimate = np.asarray(estimate, dtype=float)
    certified = np.asarray(certified, dtype=float)
    cap = np.minimum(np.asarray(digits, dtype=float), MAX_DIGITS)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        error = np.abs(estimate - certified)
        error = np.where(certified == 0, error, error / np.abs(certified))
        value = np.where(error == 0, np.inf, -np.log10(error))
    value = np.where(np.isnan(value), 0.0, value)
    return np.clip(value, 0.0, cap) + 0.0  # + 0.0: no -0.0


def min_lre(estimate, certified, digits=MAX_DIGITS):
    """The smallest :func:`lre` over the entries: a dataset's LRE."""
    estimate = np.asarray(estimate, dtype=float).ravel()
    certified = np.asarray(certified, dtype=float).ravel()
    if estimate.shape != certified.shape:
        raise ValueError(
            f"{estimate.size} estimates for {certified.size} certified values"
        )
    return float(np.min(lre(estimate, certified, digits)))


def significant_digits(text):
    """Significant digits of a number as written: ``"-0.2623E-01"`` has 4; a zero
    written ``"0.000000000000000"`` has as many as its decimals (15)."""
    mantissa = re.split("[eEdD]", text.strip().lstrip("+-"))[0]
    digits = mantissa.replace(".", "")
    significant = digits.lstrip("0")
    if not significant:  # a zero: as many digits as it has decimals
        return len(mantissa.partition(".")[2]) or 1
    return len(significant)


def _number(text):
    return float(text.replace("D", "E").replace("d", "e"))


def _line_range(header, what):
    """The (first, last) 1-based line numbers the header gives for ``what``."""
    match = re.search(what + r"\s*\(lines\s+(\d+)\s+to\s+(\d+)\)", header)
    if match is None:
        raise ValueError(f"no '{what} (lines a to b)' in the header")
    return int(match[1]), int(match[2])


def _header_int(header, pattern):
    match = re.search(r"(\d+)\s+" + pattern, header)
    if match is None:
        raise ValueError(f"no '<n> {pattern}' in the header")
    return int(match[1])


def parse(text, name=None):
    """A :class:`NistProblem` from the text of an StRD linear regression file."""
    lines = text.splitlines()
    cert_first, cert_last = _line_range(text, "Certified Values")
    data_first, data_last = _line_range(text, "Data")
    header = "\n".join(lines[: min(cert_first, data_first) - 1])
    if name is None:
        name = re.search(r"Dataset Name:\s*(\w+)", header)[1]
    difficulty = re.search(r"(\w+) Level of Difficulty", header)[1]
    model = next(
        line.strip() for line in lines[: data_first - 1] if line.strip()[:4] == "y = "
    )

    # -- certified values: "B0  estimate  sd", the residual SD and R² --------------
    names, params, bse, p_digits, b_digits = [], [], [], [], []
    residual_sd = rsquared = None
    for line in lines[cert_first - 1 : cert_last]:
        words = line.split()
        if len(words) == 3 and re.fullmatch(r"B\d+", words[0]):
            names.append(words[0])
            params.append(_number(words[1]))
            bse.append(_number(words[2]))
            p_digits.append(significant_digits(words[1]))
            b_digits.append(significant_digits(words[2]))
        elif words[:2] == ["Standard", "Deviation"] and len(words) == 3:
            residual_sd = _number(words[2])
        elif words[:1] == ["R-Squared"]:
            rsquared = _number(words[1])
    if not names or residual_sd is None or rsquared is None:
        raise ValueError(
            f"{name}: certified values not found in lines {cert_first}-{cert_last}"
        )
    n_params = _header_int(header, r"Parameters?\b")
    if len(names) != n_params:
        raise ValueError(
            f"{name}: {len(names)} parameters certified, header says {n_params}"
        )

    # -- the data: the line before the range names the columns ---------------------
    columns = tuple(lines[data_first - 2].split()[1:])  # after "Data:"
    if not lines[data_first - 2].startswith("Data:") or columns[0] != "y":
        raise ValueError(f"{name}: line {data_first - 1} does not name the columns")
    rows = tuple(tuple(line.split()) for line in lines[data_first - 1 : data_last])
    if any(len(row) != len(columns) for row in rows):
        raise ValueError(f"{name}: a data row has not {len(columns)} numbers")
    if len(rows) != _header_int(header, "Observations"):
        raise ValueError(f"{name}: {len(rows)} rows, header says otherwise")
    if len(columns) - 1 != _header_int(header, r"Predictor Variable"):
        raise ValueError(f"{name}: {len(columns) - 1} predictor columns")
    table = np.array([[_number(word) for word in row] for row in rows])

    # -- the model's design ---------------------------------------------------------
    fit_intercept = "B0" in names
    slopes = [int(n[1:]) for n in names if n != "B0"]
    if slopes != list(range(1, len(slopes) + 1)):
        raise ValueError(f"{name}: parameters {names} are not B0..Bk or B1..Bk")
    if ("B0" in model) != fit_intercept:
        raise ValueError(f"{name}: the model {model!r} disagrees with {names}")
    if len(columns) == 2:  # one predictor x: a polynomial of degree k
        powers = tuple(slopes)
        if len(powers) > 1 and f"x**{powers[-1]})" not in model:
            raise ValueError(
                f"{name}: the model {model!r} is not of degree {powers[-1]}"
            )
        X = table[:, 1:2] ** np.array(powers, dtype=float)
    else:  # x1..xk, one coefficient each
        powers = (1,) * len(slopes)
        if len(slopes) != len(columns) - 1:
            raise ValueError(
                f"{name}: {len(slopes)} slopes for {len(columns) - 1} predictors"
            )
        X = table[:, 1:].copy()
    return NistProblem(
        name=name,
        difficulty=difficulty,
        model=model,
        X=X,
        y=table[:, 0].copy(),
        fit_intercept=fit_intercept,
        param_names=tuple(names),
        params=np.array(params),
        bse=np.array(bse),
        residual_sd=residual_sd,
        rsquared=rsquared,
        params_digits=tuple(p_digits),
        bse_digits=tuple(b_digits),
        columns=columns,
        powers=powers,
        rows=rows,
    )


def load(name):
    """The problem of ``tests/data/nist/<name>.dat`` (``name`` as in
    :data:`NAMES`)."""
    path = DATA / f"{name}.dat"
    return parse(path.read_text(encoding="ascii"), name=name)


def exact_fit(problem):
    """The least-squares solution in exact rational arithmetic, from the file's
    decimals: (params, bse, residual SD, R²) as floats, rounded at the end (the
    square roots are of the rounded variances: within an ulp or so).

    Solves the normal equations with :class:`fractions.Fraction` (Gauss-Jordan on
    ``[X'X | I]``), so it is exact whatever the conditioning; a second opinion on
    the certified values that does not depend on any floating-point solver.
    """
    design, y = problem.exact()
    n, p = len(design), len(design[0])
    gram = [[sum(r[i] * r[j] for r in design) for j in range(p)] for i in range(p)]
    rhs = [sum(r[i] * t for r, t in zip(design, y, strict=True)) for i in range(p)]
    # Gauss-Jordan on [gram | I | rhs]: gives the inverse and the solution.
    aug = [
        gram[i] + [Fraction(int(i == j)) for j in range(p)] + [rhs[i]] for i in range(p)
    ]
    for col in range(p):
        pivot = next(r for r in range(col, p) if aug[r][col] != 0)
        aug[col], aug[pivot] = aug[pivot], aug[col]
        lead = aug[col][col]
        aug[col] = [v / lead for v in aug[col]]
        for r in range(p):
            if r != col and aug[r][col] != 0:
                factor = aug[r][col]
                aug[r] = [a - factor * b for a, b in zip(aug[r], aug[col], strict=True)]
    beta = [row[-1] for row in aug]
    inverse_diag = [aug[i][p + i] for i in range(p)]
    residuals = [
        t - sum(b * x for b, x in zip(beta, r, strict=True))
        for r, t in zip(design, y, strict=True)
    ]
    ssr = sum(e * e for e in residuals)
    if problem.fit_intercept:
        mean = sum(y) / n
        tss = sum((t - mean) ** 2 for t in y)
    else:
        tss = sum(t * t for t in y)
    scale = ssr / (n - p)
    bse = [math.sqrt(scale * d) for d in inverse_diag]  # one rounding, then sqrt
    return (
        np.array([float(b) for b in beta]),
        np.array(bse),
        math.sqrt(scale),
        float(1 - ssr / tss),
    )
