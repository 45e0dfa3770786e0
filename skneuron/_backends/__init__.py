"""The per-backend adapters of the training engine (:mod:`skneuron._keras`).

The engine is written once against ``keras.ops``. What Keras leaves to each backend
is here, one small module per backend: how a gradient is taken, how the optimizer
steps (statelessly on JAX; on TensorFlow, whose optimizers update variables only,
through the variables), how the loop is compiled, how the loss record grows, and
the Cholesky test. Each module has the same names (see :class:`Adapter`);
:func:`load` imports the one for the Keras backend in use, and never another (on
JAX, TensorFlow is not imported).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any, Protocol

#: The backends skneuron trains on, and the modules of their adapters.
SUPPORTED = {"tensorflow": "_tensorflow", "jax": "_jax"}


class Adapter(Protocol):
    """What the engine asks of a backend."""

    name: str
    keras: Any
    #: Whether the loop runs in two modes, graph and XLA (TensorFlow), or is
    #: always compiled (JAX).
    two_modes: bool
    #: Whether every shape is known when the loop is compiled (the loss record
    #: then has a fixed size).
    static_shapes: bool

    def context(self) -> Any: ...  # entered by every thread that runs the engine
    def quiet(self) -> Any: ...  # around a program's first run or compile
    def standalone_dtype(self) -> str: ...  # of model_, used outside the engine
    def exact(self, config: dict) -> dict: ...  # an optimizer's config, exact
    def constant(self, value: Any, dtype: str) -> Any: ...
    def value_and_grad(self, f: Any, params: list) -> tuple: ...
    def compile(self, fn: Any, signature: Any, xla: bool) -> Any: ...
    def executor(self, flat: bool, xla: bool) -> Any: ...
    def assign(self, variables: list, values: list) -> None: ...  # between calls
    def start(self, variables: list, values: list) -> list: ...  # in a program
    def apply(
        self, optimizer: Any, variables: list, grads: list, params: list, opt: list
    ) -> tuple: ...
    def store(self, variables: list, values: list) -> list: ...
    def record(self, size: Any, n_targets: int) -> Any: ...
    def write(self, record: Any, index: Any, value: Any) -> Any: ...
    def stack(self, record: Any) -> Any: ...
    def positive_definite(self, matrices: Any) -> Any: ...


def configured() -> str:
    """The Keras backend this process uses or will use: Keras' own answer once it
    is imported, else what Keras will read (``KERAS_BACKEND``, then the
    ``backend`` entry of ``keras.json``), TensorFlow by default."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    try:
        with open(os.path.join(home, "keras.json")) as file:
            return json.load(file).get("backend", "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def load() -> Adapter:
    """The adapter for the Keras backend in use, or a clear error naming it."""
    name = configured()
    if name not in SUPPORTED:
        raise RuntimeError(UNSUPPORTED.format(backend=name))
    return importlib.import_module(f"{__name__}.{SUPPORTED[name]}")


UNSUPPORTED = (
    "skneuron trains its neuron with Keras on the TensorFlow or JAX backend, but "
    "Keras is set to the {backend!r} backend (KERAS_BACKEND={backend}). Set the "
    "environment variable KERAS_BACKEND=tensorflow or KERAS_BACKEND=jax before Keras "
    "is first imported (or change the 'backend' entry of ~/.keras/keras.json). "
    "predict works without it."
)
