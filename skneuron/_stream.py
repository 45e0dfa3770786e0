"""What ``partial_fit`` continues from, and what its next call trains on.

One rule: every row counts each time it is passed. The :class:`Stream` keeps the
moments of every row passed (O(n_features²) numbers, whatever the number of
chunks), the units its weights are in, the optimizer and its state, and the seed
of the mini-batch order. :func:`next_step` adds a chunk to it and says what to
train on: the sums of all the rows passed (the full-batch squared loss), or the
chunk's own rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from skneuron._data import Checked, Settings
from skneuron._data._prepare import random_state, seed, units
from skneuron._moments import Moments
from skneuron._objective import Gram, Rows, _Standardized
from skneuron._schedule import OptimizerSpec, TrainState


@dataclass(frozen=True)
class Stream:
    """What :meth:`NeuronRegressor.partial_fit` continues from: the units the
    state is in, the optimizer it was trained with (resolved to a class path and
    config) and its state, the seed of the mini-batch order, the moments of every
    row trained on so far (None from a 0.1.0 pickle), and whether
    ``partial_fit`` added rows to them (``streamed``: then a row counts each time
    it was passed, and the number of distinct rows is unknown)."""

    scaling: _Standardized
    optimizer: OptimizerSpec
    state: TrainState
    seed: int
    moments: Moments | None = None
    streamed: bool = False

    def restarted(self, scaling: _Standardized) -> TrainState:
        """The weights reached, in the units of ``scaling``, for a fresh
        optimizer."""
        coef, intercept = self.scaling.to_original(self.state.kernel, self.state.bias)
        return TrainState(*scaling.to_standardized(coef, intercept))


@dataclass(frozen=True)
class Step:
    """What one ``partial_fit`` call trains on: ``data`` in the units of
    ``scaling``, from ``state``; ``sums`` whether ``data`` is the sums of every
    row passed (else the chunk's rows); ``passed`` the moments of every row
    passed, this chunk's included; ``seed`` the mini-batch order's; ``stream``
    the one continued (None on the first call); ``one_target`` whether y is
    1-D."""

    data: Rows | Gram
    scaling: _Standardized
    state: TrainState
    passed: Moments
    sums: bool
    seed: int
    stream: Stream | None
    one_target: bool

    def start(self, optimizer: OptimizerSpec, epoch: int) -> TrainState:
        """The state training starts from: the optimizer's slots carried over
        where the stream's optimizer is the same, counting epochs from
        ``epoch``."""
        state = self.state
        if not _continues(self.stream, state, optimizer):
            state = replace(state, slots=None)  # a fresh optimizer
        return replace(state, epoch=epoch)


def next_step(stream: Stream | None, checked: Checked, settings: Settings) -> Step:
    """Add the ``checked`` chunk to ``stream`` (None: the first call) and say
    what to train on.

    With the sums (the full-batch squared loss) the units are ``fit``'s for the
    sums of every row passed, made afresh. On rows, the units come from every
    row passed and are kept while they still fit (scales within a factor 2,
    offsets within half a standard deviation), so that the optimizer's state
    carries over; otherwise the weights are re-expressed in new units and the
    optimizer restarts."""
    X, Y, sample_weight = checked.X, checked.Y, checked.sample_weight
    if stream is not None and Y.shape[1] != len(stream.scaling.Y_scale):
        raise ValueError(
            f"y has {Y.shape[1]} targets, but NeuronRegressor was trained "
            f"on {len(stream.scaling.Y_scale)} by its first partial_fit or fit."
        )
    sums = settings.stream_on_sums(X.shape[1])
    cross = sums or X.shape[1] <= 256  # X'WX: for sums, or where it is cheap
    passed = _passed(stream, X, Y, sample_weight * checked.weight_scale, cross)
    if sums:
        scaling = units(passed, settings)
        state = _restarted(stream, scaling)
        data = passed.gram(passed, scaling, settings.fit_intercept)
    else:
        fresh = passed.scaling(settings.fit_intercept)
        if stream is not None and _fits(stream.scaling, fresh):
            scaling, state = stream.scaling, stream.state
        else:
            scaling, state = fresh, _restarted(stream, fresh)
        data = Rows(*scaling.transform(X, Y), sample_weight)
    if stream is not None:
        seed_ = stream.seed
    else:
        seed_ = seed(random_state(settings, len(X)))
    return Step(data, scaling, state, passed, sums, seed_, stream, checked.y.ndim == 1)


def _restarted(stream, scaling):
    """The weights a stream reached, in the units of ``scaling`` (zero without
    a stream: where :meth:`fit` starts)."""
    if stream is None:
        return TrainState.zeros(len(scaling.X_scale), len(scaling.Y_scale))
    return stream.restarted(scaling)


def _passed(stream, X, Y, sample_weight, cross):
    """The moments of every row passed so far, the stream's and this chunk's: a
    row counts each time it is passed."""
    before = None if stream is None else stream.moments
    if before is None:
        return Moments.of(X, Y, sample_weight, cross=cross)
    # X'WX whole or not as the stream began (a changed setting would not fit)
    chunk = Moments.of(X, Y, sample_weight, like=before, cross=before.cross)
    return before.merge(chunk)


def _fits(old, new):
    """Whether standardization ``old`` still fits data standardized by ``new``:
    scales within a factor 2 and offsets within half a standard deviation."""
    pairs = [
        (old.X_offset, old.X_scale, new.X_offset, new.X_scale),
        (old.Y_offset, old.Y_scale, new.Y_offset, new.Y_scale),
    ]
    for old_offset, old_scale, offset, scale in pairs:
        ratio = scale / old_scale
        shift = np.abs(offset - old_offset) / scale
        if np.any(~((0.5 <= ratio) & (ratio <= 2))) or np.any(~(shift <= 0.5)):
            return False
    return True


def _continues(stream, state, optimizer):
    """Whether a stream's optimizer state carries over to this call: it exists,
    and the optimizer is the same (the same class, with momentum or without)."""
    if stream is None or state.slots is None:
        return False

    def momentum(spec):
        return spec.config.get("momentum", 0) > 0

    last = stream.optimizer
    same = str(last.optimizer).split(":")[-1].lower() == _name(optimizer.optimizer)
    return same and momentum(last) == momentum(optimizer)


def _name(optimizer):
    """An optimizer's class name in lower case (a name, a class or an instance)."""
    if isinstance(optimizer, str):
        return optimizer.split(":")[-1].lower()
    cls = optimizer if isinstance(optimizer, type) else type(optimizer)
    return cls.__name__.lower()
