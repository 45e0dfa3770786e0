"""One step from checked data to what the engine trains on, as scikit-learn's
``_pre_fit``: :func:`prepare` returns one :class:`Prepared` record, and every step
of ``fit`` after it reads that record.

In order: the held-out rows (``validation_split``), the decision to train on sums
(``precompute`` resolved once, by the source), the moments of the training rows in
one pass, the singular values and rank of X, the units the neuron trains in, and
the engine's data (the standardized rows, or their sums) with its validation data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

from skneuron._data._factor import RANK_CUTOFF, Factor, Preconditioned, round_off
from skneuron._data._source import IN_MEMORY, Checked, Settings, Source
from skneuron._inference import FitStatistics
from skneuron._loss import make_loss
from skneuron._moments import Moments, Residuals
from skneuron._objective import Gram, Packed, Penalty, Rows, _Standardized

CONDITION_LIMIT = 1e4  # of the sums: beyond it, train from the factor (X's 100)


@dataclass(frozen=True)
class Prepared:
    """Everything ``fit`` trains from, decided once.

    ``data`` and ``validation`` are the engine's forms of the training and
    held-out rows (:class:`~skneuron._objective.Rows`, or their sums as a
    :class:`~skneuron._objective.Gram`), in the units of ``scaling``; ``sums``
    says which. ``moments`` are the training rows' (weights divided by
    ``checked.weight_scale``), ``singular`` and ``rank`` X's as
    ``LinearRegression`` reports them, ``batched`` whether a step sees fewer
    than all the training rows, ``seed`` the mini-batches' order; ``source``,
    ``checked`` and ``train`` where the training rows are read from again (for
    the statistics of inference, at the trained coefficients). Where the sums
    would lose digits, ``factor`` is the triangular factor of the rows that
    the training is preconditioned by (``scaling`` then a
    :class:`~skneuron._data._factor.Preconditioned`, ``data`` the sums in its
    units), and the rank is decided from it: the steps after ``prepare`` only
    pass these on.
    """

    data: Rows | Packed | Gram
    validation: Rows | Packed | Gram | None
    scaling: _Standardized
    moments: Moments
    singular: np.ndarray
    rank: int
    sums: bool
    batched: bool
    seed: int
    fit_intercept: bool
    factor: Factor | None
    source: Source
    checked: Checked
    train: Any  # the training rows: sorted indices, or a slice of all

    @property
    def one_target(self) -> bool:
        """Whether y is 1-D (one target, given as a vector)."""
        return self.checked.y.ndim == 1

    def residuals(self, coef: np.ndarray, intercept: np.ndarray) -> Residuals:
        """The sums of the training rows' residuals at (``coef``, ``intercept``),
        of shapes (t, p) and (t,), from one pass over the rows; the gradient's X
        centred on the units' offsets (the rows' means with an intercept)."""
        c = self.checked
        center = self.scaling.X_offset if self.fit_intercept else 0.0
        rows = None if isinstance(self.train, slice) else self.train
        return self.source.residuals(
            c.X, c.Y, c.sample_weight, coef, intercept, center, rows
        )

    @property
    def weight(self) -> float:
        """The training rows' total sample weight, as given."""
        return self.moments.weight * self.checked.weight_scale

    def statistics(self, coef: np.ndarray, intercept: np.ndarray) -> FitStatistics:
        """What inference needs of the training rows at the trained (``coef``,
        ``intercept``), of shapes (t, p) and (t,): these moments, and the sums
        of the residuals from one more pass over the rows."""
        c = self.checked
        residuals = self.residuals(coef, intercept)
        stats = FitStatistics.from_moments(
            self.moments,
            residuals,
            coef,
            intercept,
            fit_intercept=self.fit_intercept,
            weight_scale=c.weight_scale,
            weighted=c.weighted,
        )
        if self.factor is None:
            return stats
        # the factor's R in place of the Cholesky factor of the sums (its square):
        # X'WX = S R_c' R_c S, with the rank decided once, as rank_
        root = np.sqrt(self.weight) * self.scaling.X_scale
        with np.errstate(all="ignore"):
            r_factor = self.factor.R * (root / stats.column_scale)
        r_factor *= np.where(np.diag(r_factor) < 0, -1.0, 1.0)[:, None]
        full = self.rank == len(r_factor) and np.isfinite(r_factor).all()
        return replace(
            stats,
            r_factor=r_factor if full else np.zeros_like(r_factor),
            rank=self.rank + int(self.fit_intercept),
        )


def prepare(source: Source, checked: Checked, settings: Settings) -> Prepared:
    """The record :class:`Prepared` of ``checked`` data read by ``source``, for
    ``settings``. X is read in one pass (two with held-out rows trained on sums)."""
    shape = checked.X.shape
    rng = random_state(settings, shape[0])
    train, val = split(checked.sample_weight, settings.validation_split, rng)
    sums = source.train_on_sums(settings, shape)
    moments = _moments(source, checked, settings, train, sums)
    singular = singular_values(moments, checked, train, settings.fit_intercept)
    scaling, factor = _units_and_factor(source, checked, settings, moments, train, sums)
    form = _summed if sums else _standardized
    data, validation = form(
        source, checked, (train, val), moments, scaling, settings.fit_intercept
    )
    cutoff = RANK_CUTOFF * singular.max(initial=0.0)
    rank = int((singular > cutoff).sum())
    if factor is not None:  # the rank, once, from the factor: its round-off's
        rank = factor.rank(round_off(scaling, moments.count))
        weight = moments.weight * checked.weight_scale
        singular = factor.singular_values(scaling, weight)
        scaling, data = Preconditioned.of(scaling, factor, data, rank)
        if validation is not None:
            validation = scaling.gram(validation)
    n_rows = data.count if sums else len(data.Y)
    return Prepared(
        data=data,
        validation=validation,
        scaling=scaling,
        moments=moments,
        singular=singular,
        rank=rank,
        sums=sums,
        batched=(settings.batch_size or n_rows) < n_rows,
        seed=seed(rng),
        fit_intercept=settings.fit_intercept,
        factor=factor,
        source=source,
        checked=checked,
        train=train,
    )


def _units_and_factor(
    source: Source,
    checked: Checked,
    settings: Settings,
    moments: Moments,
    train: Any,
    sums: bool,
) -> tuple[_Standardized, Factor | None]:
    """The units the neuron trains in (:func:`units`), and the triangular factor
    of the training rows where it pays (:func:`_factor_pays`; the units are then
    the columns' own standardization, which it is taken in). Rows trained on by a
    source that does not centre them (sparse) are only scaled."""
    scaling, factor = units(moments, settings), None
    if sums and _factor_pays(settings, moments):
        c, rows = checked, None if isinstance(train, slice) else train
        standard = moments.scaling(settings.fit_intercept)  # per column, always
        factor = source.factor(c.X, c.Y, c.sample_weight, rows, standard)
        scaling = standard
    if not (sums or source.centres_rows):  # sparse rows: scaled, not centred
        scaling = replace(scaling, X_offset=np.zeros_like(scaling.X_offset))
    return scaling, factor


def _factor_pays(settings: Settings, moments: Moments) -> bool:
    """Whether to train from a triangular factor of the rows rather than their
    sums: where the sums lose digits (the standardized Gram's condition number
    above ``CONDITION_LIMIT``, or it is singular), for the plain least-squares
    objective with the automatic step (a penalty or a sign constraint acts on
    each coefficient, which the factor's rotation would mix; a step the user
    chose is meant for the standardized units)."""
    if settings.alpha > 0 or settings.positive or not settings.automatic_step:
        return False
    standard = moments.scaling(settings.fit_intercept)
    eig = np.linalg.eigvalsh(moments.gram(moments, standard, standard.centred).xx)
    return not eig[0] > eig[-1] / CONDITION_LIMIT


def random_state(settings: Settings, n_samples: int) -> np.random.RandomState | None:
    """The random state, where the fit is random (held-out rows, shuffled
    mini-batches); None where it is not, so that it touches no random state."""
    batched = settings.batch_size is not None and settings.batch_size < n_samples
    if settings.validation_split or (batched and settings.shuffle):
        return check_random_state(settings.random_state)
    return None


def seed(rng: np.random.RandomState | None) -> int:
    """A seed for the mini-batch order, drawn from ``rng`` (0 without one)."""
    return 0 if rng is None else int(rng.randint(np.iinfo(np.int32).max))


def split(
    sample_weight: Any, fraction: float, rng: np.random.RandomState | None
) -> tuple[Any, np.ndarray]:
    """Training and held-out rows, the latter drawn with ``rng`` (all rows, as a
    slice, without validation); a ``ValueError`` where no training row is left,
    or none has weight."""
    n_samples = len(sample_weight)
    if not fraction:
        train, val = slice(None), np.arange(0)
    else:
        n_val = int(np.ceil(fraction * n_samples))
        if n_val >= n_samples:
            raise ValueError(
                f"validation_split={fraction} leaves no training rows out of "
                f"{n_samples} samples."
            )
        order = rng.permutation(n_samples)
        train, val = np.sort(order[n_val:]), np.sort(order[:n_val])
    if not sample_weight[train].max(initial=0) > 0:
        raise ValueError(
            "sample_weight is zero on every training row left by "
            f"validation_split={fraction}."
        )
    return train, val


def units(moments: Moments, settings: Settings) -> _Standardized:
    """The units the neuron trains in: X standardized (each column scaled to
    unit variance), except where that would change the answer or slow it:

    - X rank deficient (collinear columns, more features than rows): all
      columns scaled alike, so that gradient descent from zero reaches the
      minimum-norm least-squares answer in X's own units (LinearRegression's);
    - an L2 penalty: each column's scale stretched by ``sqrt(1 + l2)``, so that
      the penalty's curvature (however strong) joins the data's on the
      diagonal rather than dwarfing the bias's.
    """
    scaling = moments.scaling(settings.fit_intercept)
    varying = _active(moments, settings.fit_intercept)
    alpha, l1_ratio = settings.alpha, settings.l1_ratio
    if alpha * (1 - l1_ratio) > 0:
        degree = make_loss(settings.loss, epsilon=settings.epsilon).degree
        penalty = Penalty.elastic_net(alpha, l1_ratio, scaling, degree)
        stretch = np.sqrt(1.0 + penalty.l2.max(1))
        return replace(scaling, X_scale=scaling.X_scale * stretch)
    if collinear(moments, varying, settings.fit_intercept):
        common = np.sqrt(np.mean(scaling.X_scale[varying] ** 2))
        return replace(scaling, X_scale=np.where(varying, common, scaling.X_scale))
    return scaling


def _active(moments: Moments, center: bool) -> np.ndarray:
    """The columns the model can use: those that vary, with an intercept (which
    takes the constant ones); those not all zero, without (a constant column is
    then a feature like any other)."""
    spread = moments.diagonal()
    if not center:
        spread = spread + moments.weight * moments.mean_about_zero() ** 2
    return spread > 0


def collinear(moments: Moments, varying: np.ndarray, center: bool) -> bool:
    """Whether X's varying columns are collinear, once each is scaled to unit
    variance: the smallest eigenvalue of their correlations below (1e-6)**2 of the
    largest, or more of them than rows."""
    p = int(varying.sum())
    if p > moments.count - int(center):
        return True
    if not moments.cross or p < 2:
        return False
    gram = moments.cxx[np.ix_(varying, varying)]
    if not center:
        about_zero = moments.mean_about_zero()[varying]
        gram = gram + moments.weight * np.outer(about_zero, about_zero)
    norm = np.sqrt(np.diag(gram))
    eig = np.linalg.eigvalsh(gram / np.outer(norm, norm))
    return bool(eig[0] <= RANK_CUTOFF**2 * eig[-1])


def singular_values(
    moments: Moments, checked: Checked, train: Any, center: bool
) -> np.ndarray:
    """The singular values of X's training rows, centred (with an intercept) and
    weighted by the square roots of the weights (as given): LinearRegression's
    ``singular_``. From X'WX; with more features than rows, where the rows are in
    memory, from the rows themselves (X'WX then was not formed). The weights of
    the moments are ``checked.weight_scale`` times smaller than the user's."""
    n, weight_scale = moments.count, checked.weight_scale
    if not moments.cross:
        rows = np.asarray(checked.X[train], dtype=np.float64)
        if center:
            rows = rows - moments.origin_x - moments.unit_x * moments.mean_x
        rows = rows * np.sqrt(checked.sample_weight[train] * weight_scale)[:, None]
        return np.linalg.svd(rows, compute_uv=False)
    with np.errstate(all="ignore"):
        gram = moments.cxx
        if not center:
            about_zero = moments.mean_about_zero()
            gram = gram + moments.weight * np.outer(about_zero, about_zero)
        gram = gram * np.outer(moments.unit_x, moments.unit_x) * weight_scale
        if not np.isfinite(gram).all():
            return np.full(min(n, len(gram)), np.nan)
        eig = np.linalg.eigvalsh(gram)[::-1][: min(n, len(gram))]
    return np.sqrt(np.maximum(eig, 0.0))


def _moments(
    source: Source, checked: Checked, settings: Settings, train: Any, sums: bool
) -> Moments:
    """The training rows' moments, in one pass: with X'WX for training on sums,
    and on rows where it costs no more than LinearRegression's solve (for
    ``singular_`` and inference); X'WX from ``precompute`` if given."""
    X, Y, sample_weight = checked.X, checked.Y, checked.sample_weight
    rows = None if isinstance(train, slice) else train
    if not settings.gram_given:
        cross = sums or X.shape[1] <= len(X)
        return source.moments(X, Y, sample_weight, rows, cross=cross)
    assert source is IN_MEMORY  # the other sources refuse a Gram matrix
    return _given_gram(checked, settings.precompute, settings.fit_intercept)


def _given_gram(checked: Checked, precompute: Any, center: bool) -> Moments:
    """The moments with X'WX from the user's Gram matrix ``precompute``, checked
    against X in one pass: it must act on a (fixed) random vector as X'WX does,
    which its diagonal alone would not tell (another X's, one column negated,
    has the same), and centring it must not cancel a column's spread."""
    X, Y, sample_weight = checked.X, checked.Y, checked.sample_weight
    n_features = X.shape[1]
    gram = check_array(precompute, dtype=np.float64, input_name="precompute")
    if gram.shape != (n_features, n_features):
        raise ValueError(
            f"precompute must be the ({n_features}, {n_features}) Gram matrix "
            f"X.T @ X (X'WX with sample weights); got shape {gram.shape}."
        )
    gram = gram / checked.weight_scale
    v = np.random.default_rng(0).standard_normal(n_features)
    acted = X.T @ (sample_weight * (X @ v).astype(np.float64))
    if not np.allclose(gram, gram.T, rtol=1e-7) or not np.all(
        np.abs(gram @ v - acted) <= 1e-6 * (np.abs(gram) @ np.abs(v))
    ):
        raise ValueError(
            "precompute does not match X: it must be X.T @ X of the X given to "
            "fit (X.T @ (sample_weight[:, None] * X) with sample weights)."
        )
    moments = Moments.of(X, Y, sample_weight, cross=False)
    spread = moments.cxx * moments.unit_x**2  # the diagonal, centred on the rows
    lost = (spread > 0) & (spread < _CANCELLED * np.diag(gram))
    if center and lost.any():
        raise ValueError(
            "precompute cannot be centred in float64: column(s) "
            f"{np.flatnonzero(lost).tolist()} of X lie far from zero (their mean "
            "over 100 standard deviations), so X'WX - n m m' would cancel their "
            "spread. Use precompute=True (the sums are then gathered from the "
            "rows, centred as they are read), or centre X first."
        )
    return moments.with_gram(gram)


_CANCELLED = 1e-4  # a centred diagonal below this share of X'WX's: digits lost


def _standardized(source, checked, split, moments, scaling, center):
    """The training and held-out rows in the units of ``scaling``, as the source
    gives them to train on (dense rows, or sparse rows packed)."""
    (train, val), c = split, checked
    active = _active(moments, center)
    data = source.rows(c.X, c.Y, c.sample_weight, train, scaling, active)
    if isinstance(data, Packed):  # its sums, uncentred, from the moments
        sums = moments.gram(moments, scaling, False)
        keep = active.astype(float)
        data = replace(
            data, xx=sums.xx * np.outer(keep, keep), x_mean=sums.x_mean * keep
        )
    validation = None
    if len(val):
        validation = source.rows(c.X, c.Y, c.sample_weight, val, scaling, active)
    return data, validation


def _summed(source, checked, split, moments, scaling, center):
    """The sums of the training and held-out rows in the units of ``scaling``
    (the held-out rows' from one pass over them)."""
    val, c = split[1], checked
    data = moments.gram(moments, scaling, scaling.centred)
    validation = None
    if len(val):
        held_out = source.moments(c.X, c.Y, c.sample_weight, val, like=moments)
        validation = held_out.gram(moments, scaling, scaling.centred)
    return data, validation
