"""Heteroscedasticity- and cluster-robust covariances of the trained coefficients.

``summary(cov_type=...)`` with ``"HC0"``, ``"HC1"``, ``"HC2"``, ``"HC3"`` or
``"cluster"``: the sandwich ``B M B`` of statsmodels'
``OLS/WLS(...).fit(cov_type=...)``, where ``B = (X̃'WX̃)⁻¹`` is the inverse Gram
matrix ``fit`` recorded (``X̃`` the design with its column of ones) and the meat
``M`` needs every row's residual. The estimator keeps no rows, so the user passes
the training rows again (:func:`requested_rows` checks them); they are read here
in one pass of row blocks, and refused where they are evidently not the rows
``fit`` trained on (another number of rows, other weights, or residual sums that
differ from those recorded at fit).

With the design's rows ``x̃ = [1, x]``, weights ``w`` and residuals ``r``:

- ``HC0``: ``M = Σ w² r² x̃ x̃'`` (statsmodels: ``wexog`` times ``wresid``);
- ``HC1``: ``HC0 · nobs / df_resid``;
- ``HC2``, ``HC3``: each row's term divided by ``1 - h`` or ``(1 - h)²``, with
  the leverage ``h = w x̃' B x̃``;
- ``cluster``: ``M = Σ_g s_g s_g'``, ``s_g = Σ_{i in g} w r x̃`` the score of
  group g, times statsmodels' default correction ``G / (G - 1) · (nobs - 1) /
  (nobs - k)`` (``use_correction=True``), with ``G`` groups and ``k``
  parameters.

The sums are taken in centred coordinates ``z = [1, x - m]`` (``m`` the weighted
means) and brought back with ``x̃ = T z``, as the classical covariance is, so
that columns far from zero keep their digits. Sparse X is read with sparse
products (``X' diag(c) X``); its leverages from ``X @ (X'WX)^(-1/2)`` one block
of rows at a time. Only NumPy and SciPy are imported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from skneuron._moments import residuals, row_blocks

COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")
# the leverage's power in HC0 to HC3's meat
_LEVERAGE_POWER = {"HC0": 0, "HC1": 0, "HC2": 1, "HC3": 2}
# residual sums of the rows given that differ from fit's by more than this
# (relative) show they are not the training rows; the same rows agree to
# round-off (about 1e-15)
AGREEMENT = 1e-8


@dataclass(frozen=True, eq=False)
class TrainingRows:
    """The training rows a robust covariance reads, as the user passed them to
    ``summary`` and checked as ``fit`` checks them.

    Attributes
    ----------
    X : ndarray or SparseRows
        The rows (float32 or float64; SciPy sparse as CSR rows).
    Y : ndarray of shape (n, t)
        The targets, float64.
    weight : ndarray of shape (n,)
        The user's sample weights (ones without).
    weighted : bool
        Whether sample weights were given.
    groups : ndarray of shape (n,) or None
        The cluster of each row as codes ``0 .. n_groups - 1`` (``"cluster"``).
    n_groups : int
        The number of clusters (0 without groups).
    """

    X: Any
    Y: np.ndarray
    weight: np.ndarray
    weighted: bool
    groups: np.ndarray | None = None
    n_groups: int = 0


@dataclass(frozen=True, eq=False)
class Robust:
    """A robust covariance per target, and how to test with it (statsmodels'
    defaults): ``use_t`` False (normal p-values and intervals), and for
    ``"cluster"`` the degrees of freedom ``n_groups - 1`` of its F test."""

    cov_type: str
    covs: list[np.ndarray]
    use_t: bool = False
    df_inference: float | None = None
    n_groups: int | None = None


def requested_rows(
    cov_type: str,
    X: Any,
    y: Any,
    sample_weight: Any,
    groups: Any,
    checks: dict,
) -> TrainingRows | None:
    """The rows ``summary(cov_type=...)`` was given, checked: None for
    ``"nonrobust"`` (which reads none), else :class:`TrainingRows`.

    ``checks`` are the estimator's ``name`` and ``features`` record, with which
    X is checked as ``predict`` checks it (its number of features and names).
    """
    if cov_type not in COV_TYPES:
        raise ValueError(
            f"cov_type must be one of {', '.join(map(repr, COV_TYPES))}; got "
            f"{cov_type!r}."
        )
    if cov_type == "nonrobust":
        if any(v is not None for v in (X, y, sample_weight, groups)):
            raise ValueError(
                "X, y, sample_weight and groups are only read by a robust "
                "covariance (cov_type='HC0', ..., 'cluster'); the default "
                "cov_type='nonrobust' needs only the sums recorded by fit()."
            )
        return None
    if X is None or y is None:
        raise ValueError(
            f"cov_type={cov_type!r} needs the training rows, which the estimator "
            "does not keep: pass summary(cov_type=..., X=X, y=y) with the X and y "
            "given to fit (and its sample_weight, if any)."
        )
    _check_groups_given(cov_type, groups)
    return _checked_rows(X, y, sample_weight, groups, checks)


def _check_groups_given(cov_type, groups):
    if cov_type == "cluster" and groups is None:
        raise ValueError(
            "cov_type='cluster' needs groups: an array with the cluster of each "
            "training row."
        )
    if cov_type != "cluster" and groups is not None:
        raise ValueError(
            f"groups is only used by cov_type='cluster', not {cov_type!r}."
        )


def _checked_rows(X, y, sample_weight, groups, checks):
    """X, y and the weights checked as ``fit`` checks them; the groups coded."""
    from skneuron._data import is_dask, source_of

    if is_dask(X) or is_dask(y) or is_dask(sample_weight) or is_dask(groups):
        raise ValueError(
            "Robust covariances read every row's residual, which is not "
            "implemented for Dask collections: compute them (or a sample of "
            "whole clusters) into memory, or use cov_type='nonrobust'."
        )
    checked = source_of(X, y).validated(X, y, sample_weight, **checks)
    weight = checked.sample_weight * checked.weight_scale
    codes, n_groups = None, 0
    if groups is not None:
        codes, n_groups = _group_codes(groups, len(weight))
    return TrainingRows(checked.X, checked.Y, weight, checked.weighted, codes, n_groups)


def _group_codes(groups, n):
    """The groups as codes 0 .. G-1 (one per row), and G."""
    groups = np.asarray(groups)
    if groups.ndim != 1 or len(groups) != n:
        raise ValueError(
            f"groups must be 1-D with one entry per row ({n}); got shape "
            f"{groups.shape}."
        )
    _, codes = np.unique(groups, return_inverse=True)
    n_groups = int(codes.max(initial=-1)) + 1
    if n_groups < 2:
        raise ValueError("cov_type='cluster' needs at least two groups.")
    return codes.ravel(), n_groups


# -- the covariances ----------------------------------------------------------------
def robust(
    stats: Any,
    root: np.ndarray,
    rows: TrainingRows,
    cov_type: str,
    coef: np.ndarray,
    intercept: np.ndarray,
) -> Robust:
    """The robust covariance of each target's parameters (intercept first).

    ``stats`` is the fit's :class:`~skneuron._inference.FitStatistics`, ``root``
    a matrix ``M`` with ``M M' = (X - m)'W(X - m)⁻¹`` (uncentred without an
    intercept), ``coef`` (t, p) and ``intercept`` (t,) the trained ones.
    """
    check_rows(stats, rows)
    meats, ssr, total = _meats(stats, root, rows, cov_type, coef, intercept)
    _check_sums(stats, ssr, total)
    n, k = stats.nobs, len(root) + int(stats.fit_intercept)
    factor = n / (n - stats.rank) if cov_type == "HC1" else 1.0
    if cov_type == "cluster":
        G = rows.n_groups
        factor = G / (G - 1) * (n - 1) / (n - k)
    covs = [factor * _sandwich(stats, root, meat) for meat in meats]
    if cov_type != "cluster":
        return Robust(cov_type, covs)
    return Robust(cov_type, covs, df_inference=float(rows.n_groups - 1), n_groups=G)


def check_rows(stats: Any, rows: TrainingRows) -> None:
    """Refuse rows that are evidently not fit's: another number of rows,
    targets or weighting."""
    n = len(rows.Y)
    if n != stats.nobs:
        raise ValueError(
            f"X has {n} rows, but fit() trained on {stats.nobs}: a robust "
            "covariance needs the training rows themselves. (With "
            "validation_split, fit trained on a random subset it does not keep: "
            "fit without it for robust standard errors.)"
        )
    if rows.Y.shape[1] != len(stats.ssr):
        raise ValueError(
            f"y has {rows.Y.shape[1]} targets, but fit() trained on {len(stats.ssr)}."
        )
    if rows.weighted != stats.weighted:
        said = "was" if stats.weighted else "was not"
        raise ValueError(
            f"fit() {said} given sample_weight: pass summary() the same "
            "sample_weight as fit()."
        )


def _check_sums(stats, ssr, total):
    """Refuse rows whose residual sums differ from those recorded at fit."""
    scale = np.sqrt(stats.weight_sum * np.maximum(stats.ssr, ssr))
    off_ssr = np.abs(ssr - stats.ssr) > AGREEMENT * np.maximum(stats.ssr, ssr)
    off_total = np.abs(total - stats.residual_sum) > AGREEMENT * scale
    if stats.fit_intercept and off_total.any() or off_ssr.any():
        raise ValueError(
            "These rows are not the ones fit() trained on: their residuals' sums "
            f"(Σ w r² = {ssr.tolist()}) differ from those recorded at fit "
            f"({stats.ssr.tolist()}). Pass the X, y and sample_weight given to fit."
        )


def _sandwich(stats, root, meat):
    """``B M B`` of the design's parameters from a meat in centred coordinates
    ``z = [1, x - m]``: ``L D⁻¹ M D⁻¹ L'`` with ``D`` the block-diagonal Gram
    matrix of z and ``L = [[1, -m'], [0, I]]``."""
    inner = root @ root.T
    if not stats.fit_intercept:
        return inner @ meat @ inner
    p = len(inner)
    D_inv = np.zeros((p + 1, p + 1))
    D_inv[0, 0] = 1 / stats.weight_sum
    D_inv[1:, 1:] = inner
    L = np.eye(p + 1)
    L[0, 1:] = -stats.X_mean
    half = L @ D_inv
    return half @ meat @ half.T


def _meats(stats, root, rows, cov_type, coef, intercept):
    """Each target's meat in centred coordinates, and the rows' ``Σ w r²`` and
    ``Σ w r`` (to check them against fit's)."""
    from skneuron._data._sparse import SparseRows

    if isinstance(rows.X, SparseRows):
        return _sparse_meats(stats, root, rows, cov_type, coef, intercept)
    t, k = len(coef), len(root) + int(stats.fit_intercept)
    size = rows.n_groups if cov_type == "cluster" else k
    parts = np.zeros((t, size, k))
    ssr, total = np.zeros(t), np.zeros(t)
    center = stats.X_mean if stats.fit_intercept else 0.0
    for _, index in row_blocks(len(rows.Y), k, None):
        X = np.asarray(rows.X[index], dtype=np.float64)
        r = residuals(X, rows.Y[index], coef, intercept)
        w = rows.weight[index]
        ssr, total = ssr + w @ (r * r), total + w @ r
        Z = _design(X - center, stats.fit_intercept)
        divisor = _leverage(stats, w, (X - center) @ root, cov_type)
        for j in range(t):
            wr = w * r[:, j]
            if cov_type == "cluster":
                parts[j] += _group_sums(rows.groups[index], wr[:, None] * Z, size)
            else:
                parts[j] += Z.T @ ((wr * wr / divisor)[:, None] * Z)
    meats = [part.T @ part if cov_type == "cluster" else part for part in parts]
    return meats, ssr, total


def _design(Xc, fit_intercept):
    """The rows of the design in centred coordinates: ``[1, x - m]``."""
    if not fit_intercept:
        return Xc
    return np.hstack([np.ones((len(Xc), 1)), Xc])


def _leverage(stats, w, projected, cov_type):
    """The divisor of HC0 to HC3's meat per row: ``(1 - h)**a``, with the
    leverage ``h = w (1/W + |z M|²)`` (``w |x M|²`` without an intercept) of the
    rows ``projected = (x - m) M``."""
    power = _LEVERAGE_POWER.get(cov_type, 0)
    if not power:
        return np.ones(len(w))
    q = np.einsum("ij,ij->i", projected, projected)
    h = w * (q + (1 / stats.weight_sum if stats.fit_intercept else 0.0))
    return (1 - h) ** power


def _group_sums(codes, values, n_groups):
    """Per group, the sum of the rows of ``values`` (n_groups, k)."""
    indicator = sparse.csr_matrix(
        (np.ones(len(codes)), (codes, np.arange(len(codes)))),
        shape=(n_groups, len(codes)),
    )
    return np.asarray(indicator @ values)


# -- sparse X: from sparse products ----------------------------------------------------
def _sparse_meats(stats, root, rows, cov_type, coef, intercept):
    """:func:`_meats` for sparse X: ``X' diag(c) X`` and the groups' scores from
    sparse products, centred afterwards (the columns stored on more than half
    the rows, which may lie far from zero, explicitly)."""
    Xs = rows.X.rows(None)
    m = stats.X_mean if stats.fit_intercept else np.zeros(Xs.shape[1])
    r = rows.Y - np.asarray(Xs @ coef.T) - intercept
    w = rows.weight
    ssr, total = w @ (r * r), w @ r
    divisor = (
        np.concatenate(
            [
                _leverage(
                    stats, w[part], np.asarray(Xs[part] @ root) - m @ root, cov_type
                )
                for part, _ in row_blocks(len(w), Xs.shape[1], None)
            ]
        )
        if _LEVERAGE_POWER.get(cov_type, 0)
        else np.ones(len(w))
    )
    meats = []
    for j in range(len(coef)):
        wr = w * r[:, j]
        if cov_type == "cluster":
            part = _sparse_scores(Xs, wr, m, rows, stats.fit_intercept)
            meats.append(part.T @ part)
        else:
            meats.append(_sparse_meat(Xs, wr * wr / divisor, m, stats.fit_intercept))
    return meats, ssr, total


def _sparse_meat(Xs, c, m, fit_intercept):
    """``Σ c z z'`` for ``z = [1, x - m]`` (``x`` without an intercept)."""
    from skneuron._data._sparse import _dense_columns

    weighted = sparse.diags(c) @ Xs
    A = np.asarray((Xs.T @ weighted).toarray())
    s = np.asarray(weighted.sum(0)).ravel()
    C = c.sum()
    A += C * np.outer(m, m) - np.outer(s, m) - np.outer(m, s)
    s = s - C * m
    dense = _dense_columns(Xs) if fit_intercept else np.arange(0)
    if len(dense):  # centred explicitly: the sums above may cancel
        centred = np.asarray(Xs[:, dense].toarray()) - m[dense]
        cD = c[:, None] * centred
        A[:, dense] = np.asarray(Xs.T @ cD) - np.outer(m, cD.sum(0))
        A[dense, :] = A[:, dense].T
        A[np.ix_(dense, dense)] = centred.T @ cD
        s[dense] = cD.sum(0)
    if not fit_intercept:
        return A
    return np.block([[np.array([[C]]), s[None]], [s[:, None], A]])


def _sparse_scores(Xs, wr, m, rows, fit_intercept):
    """Each group's score ``Σ w r z`` (n_groups, k) for sparse X."""
    from skneuron._data._sparse import _dense_columns

    codes, G = rows.groups, rows.n_groups
    indicator = sparse.csr_matrix(
        (wr, (codes, np.arange(len(codes)))), shape=(G, len(codes))
    )
    per_group = indicator.sum(1).A.ravel()
    scores = np.asarray((indicator @ Xs).toarray()) - np.outer(per_group, m)
    dense = _dense_columns(Xs) if fit_intercept else np.arange(0)
    if len(dense):
        centred = np.asarray(Xs[:, dense].toarray()) - m[dense]
        scores[:, dense] = np.asarray(indicator @ centred)
    if not fit_intercept:
        return scores
    return np.hstack([per_group[:, None], scores])
