"""What earlier versions of skneuron pickled, brought to today's attributes.

Pickles name classes by the module they were defined in when written: 0.1.0's
name ``skneuron._neuron._Standardized``, and those written before the data seam
``skneuron._neuron._Stream``. :mod:`skneuron._neuron` imports both names from
here, so that they resolve.
"""

from __future__ import annotations

import numpy as np

from skneuron._inference import TrainingRecord
from skneuron._objective import _Standardized
from skneuron._schedule import OptimizerSpec, TrainState
from skneuron._stream import Stream

_Stream = Stream  # the name pickles from before the data seam look up

__all__ = ["_Standardized", "_Stream", "upgraded"]


def upgraded(state: dict) -> dict:
    """An estimator's pickled attributes as today's: 0.1.0's stream (a dict) as
    a :class:`~skneuron._stream.Stream`, the ``precompute`` parameter (since
    0.2), and the loose attributes that ``summary()`` read before there was a
    :class:`~skneuron._inference.TrainingRecord`."""
    stream = state.get("_stream")
    if isinstance(stream, dict):  # written by skneuron 0.1.0
        state["_stream"] = stream = _stream_v010(stream)
    state.setdefault("precompute", "auto")
    if "coef_" in state and "_record" not in state:
        state["_record"] = TrainingRecord(
            state.pop("_inference_stats", None),
            state.get("n_iter_"),
            state.pop("_gradient_norm", None),
            state.pop("_converged", True),
            state.get("alpha", 0.0) > 0,
            state.get("loss", "squared_error"),
            state.get("positive", False),
            bool(getattr(stream, "streamed", False)),
        )
    return state


def _stream_v010(stream: dict) -> Stream:
    """The continuation as skneuron 0.1.0 pickled it (a dict)."""
    problem = stream["problem"]
    scaling = _Standardized(
        problem.X_offset, problem.X_scale, problem.Y_offset, problem.Y_scale
    )
    path, config, _, _ = stream["plan"]
    slots = stream["optimizer_state"]
    state = TrainState(
        stream["kernel"],
        stream["bias"],
        None if slots is None else tuple(np.asarray(s) for s in slots),
    )
    return Stream(scaling, OptimizerSpec(path, config), state, stream["seed"])
