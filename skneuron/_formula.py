"""``skneuron fit --formula``: X and y from a Wilkinson formula, with formulaic.

``"sales ~ x1 + x2 + C(shop)"`` reads the columns the formula names (numbers, or
text for categories) into a pandas DataFrame and builds formulaic's model
matrices: the left-hand side is y, the right-hand side's columns are the
features, named as formulaic names them, and its intercept term (``Intercept``,
present unless the formula has ``- 1`` or ``0 +``) is the estimator's
``fit_intercept``. The frame holds the named columns (numbers in float64, text
as Python strings) and formulaic builds X from it, a copy: a formula costs more
memory than ``--target`` and ``--features``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from skneuron._cli import CommandError, _first_line
from skneuron._csv import CSVFile


@dataclasses.dataclass(frozen=True)
class FormulaData:
    """What a formula makes of a CSV file: ``X`` (without the intercept's
    column), ``y``, the target's and the features' names (formulaic's), whether
    the formula has an intercept, and the rows dropped for missing values."""

    X: np.ndarray
    y: np.ndarray
    target: str
    features: list[str]
    fit_intercept: bool
    dropped: int


def formula_data(
    formula: str,
    table: CSVFile,
    *,
    target: str | None = None,
    features: Sequence[str] | None = None,
    missing: str = "raise",
) -> FormulaData:
    """The model matrices of ``formula`` on the columns of ``table``; ``target``
    (--target), if given, must be the formula's left-hand side, and
    ``features`` (--features) must not be given."""
    Formula, model_matrix = _formulaic()
    if features:
        raise CommandError(
            "--formula and --features both choose the features: give one of them"
        )
    parsed = _parse(formula, Formula)
    names = [name for name in table.header if name in parsed.required_variables]
    lhs = _lhs_column(formula, parsed, table, target)
    frame, dropped = table.table(names, missing=missing)
    if frame[lhs].dtype != np.float64:
        example = frame[lhs].iloc[0]
        raise CommandError(
            f"the target {lhs!r} of --formula holds text, not numbers (such as "
            f"{example!r})"
        )
    try:
        matrices = model_matrix(parsed, frame)
    except Exception as exc:  # formulaic's errors (unknown names, ...)
        raise CommandError(
            f"--formula {formula!r} failed: {_first_line(exc)}"
        ) from None
    return _from_matrices(formula, matrices, dropped)


def _formulaic():
    """formulaic's ``Formula`` and ``model_matrix``, or advice to install it."""
    try:
        from formulaic import Formula, model_matrix
    except ImportError:
        raise CommandError(
            '--formula needs formulaic: pip install "skneuron[formula]"'
        ) from None
    return Formula, model_matrix


def _parse(formula, Formula):
    """``formula`` parsed, refused if not a formula or without a target."""
    try:
        parsed = Formula(formula)
    except Exception as exc:  # formulaic's syntax errors
        raise CommandError(
            f"--formula {formula!r} is not a formula: {_first_line(exc)}"
        ) from None
    if not hasattr(parsed, "lhs"):
        raise CommandError(
            f'--formula {formula!r} has no target: write it as "y ~ a + b"'
        )
    return parsed


def _lhs_column(formula, parsed, table, target):
    """The one column of ``table`` that the formula's left-hand side names,
    which --target (``target``), if given, must be."""
    lhs = [name for name in table.header if name in parsed.lhs.required_variables]
    if len(lhs) != 1:
        raise CommandError(
            f"the left-hand side of --formula {formula!r} must be one column of "
            f"{table.path}, the target"
        )
    if target is not None and target != lhs[0]:
        raise CommandError(
            f"--target {target!r} is not the target of --formula {formula!r} "
            f"({lhs[0]!r}): give one of them"
        )
    return lhs[0]


def _from_matrices(formula, matrices, dropped) -> FormulaData:
    """X and y from formulaic's model matrices: one target column, at least one
    feature besides the intercept."""
    y = np.asarray(matrices.lhs, dtype=np.float64)
    if y.ndim != 2 or y.shape[1] != 1:
        raise CommandError(
            f"the left-hand side of --formula {formula!r} must be one column of "
            f"numbers, not {y.shape[1]} columns"
        )
    rhs = matrices.rhs
    fit_intercept = "Intercept" in rhs.columns
    columns = [str(name) for name in rhs.columns if name != "Intercept"]
    if not columns:
        raise CommandError(f"--formula {formula!r} has no feature besides the target")
    X = np.ascontiguousarray(rhs[columns].to_numpy(dtype=np.float64))
    target = str(matrices.lhs.columns[0])  # "y", or "np.log(y)", ...
    return FormulaData(X, y[:, 0].copy(), target, columns, fit_intercept, dropped)
