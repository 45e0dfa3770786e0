"""The training engine: a Keras Dense neuron, a Keras optimizer, a compiled loop.

One entry, :func:`train`: specs flow down (the data, the objective, the schedule,
the stopping rules, the state to start from) and one :class:`TrainResult` flows
back. Imported lazily by the estimator, so ``import skneuron`` does not start
TensorFlow; it knows nothing of scikit-learn.

How it runs:

- Every epoch of a call runs inside one compiled program (a ``tf.while_loop`` over
  epochs, and over mini-batches inside each), which also evaluates the stopping
  rules. Programs are kept in a small pool, keyed by what is baked into them
  (features, targets, loss, optimizer, batch size...); every number that varies
  between fits (learning rate, momentum, penalties, tolerances, Huber's epsilon)
  is an input, so grid searches reuse one program.
- Small problems are padded, rows with zero-weight rows and features with zero
  columns (whose weights stay exactly zero), to a few bucketed sizes. After the
  first ``_GRAPH_STEPS`` steps of a fit, those run compiled by XLA
  (``jit_compile=True``), which takes a few microseconds per step where TensorFlow's
  graph executor takes tens; fits that end sooner never pay XLA's compile time.
  Large problems, which are memory-bound, run in graph mode unpadded.
- A call returns to Python after about ``_CALL_SECONDS`` of work, so an interrupt
  (Ctrl-C) is acted on quickly and progress can be shown.
"""

from __future__ import annotations

import atexit
import collections
import concurrent.futures
import contextlib
import dataclasses
import functools
import importlib
import math
import os
import re
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from skneuron._loss import parameters
from skneuron._objective import Gram, Objective, Packed, Penalty, Rows
from skneuron._schedule import (
    OptimizerSpec,
    Schedule,
    Stage,
    Stop,
    Stopping,
    TrainResult,
    TrainState,
    expected_epochs,
)


@contextlib.contextmanager
def _quiet_stderr():
    """Hide what TensorFlow's C++ runtime writes to stderr while it starts.

    Its start-up notices (oneDNN, CUDA probing) are written before its logging is
    configured, so no setting silences them; nothing else in the process is touched.
    """
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr: nothing to hide
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            sys.stderr.flush()
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _HiddenLogs:
    """Keep TensorFlow's C++ log lines off stderr while a program is first run
    or compiled, where TensorFlow was started before skneuron could quiet it.

    Those lines (float64 graph notes, "Compiled cluster using XLA!") go straight
    to file descriptor 2. While a window is open (from any thread) it goes to a
    temporary file; when the last window closes, whatever else was written there
    is passed on to stderr, and the log lines are dropped.
    """

    _log_line = re.compile(r"^([IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\] |WARNING: All log)")

    def __init__(self):
        self.lock = threading.Lock()
        self.open = 0
        self.saved = self.file = None

    @contextlib.contextmanager
    def __call__(self):
        if not _TF_LOGS_VISIBLE:
            yield
            return
        with self.lock:
            if not self.open:
                self._start()
            self.open += 1
        try:
            yield
        finally:
            with self.lock:
                self.open -= 1
                if not self.open:
                    self._end()

    def _start(self):
        try:
            self.saved = os.dup(2)
        except OSError:  # no usable stderr: nothing to hide
            return
        sys.stderr.flush()
        self.file = tempfile.TemporaryFile()
        os.dup2(self.file.fileno(), 2)

    def _end(self):
        if self.saved is None:
            return
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.file.seek(0)
        lines = self.file.read().decode(errors="replace").splitlines(keepends=True)
        self.file.close()
        self.saved = self.file = None
        kept = "".join(line for line in lines if not self._log_line.match(line))
        if kept:
            sys.stderr.write(kept)
            sys.stderr.flush()


_hidden_logs = _HiddenLogs()


def _import_keras():
    """Keras on its TensorFlow backend, or a clear error naming the setting."""
    backend = os.environ.get("KERAS_BACKEND", "")
    try:
        if "tensorflow" in sys.modules:
            with _hidden_logs():
                import keras
                import tensorflow as tf

                tf.config.list_physical_devices()  # the CUDA probe
        else:
            # Warnings TensorFlow logs while tracing float64 graphs are C++ log lines.
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            with _quiet_stderr():
                import keras
                import tensorflow as tf

                tf.config.list_physical_devices()  # the CUDA probe, stderr hidden
    except ImportError as error:
        if backend and backend != "tensorflow":
            raise RuntimeError(_BACKEND_ERROR.format(backend=backend)) from error
        raise
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(_BACKEND_ERROR.format(backend=keras.backend.backend()))
    return keras, tf


_BACKEND_ERROR = (
    "skneuron trains its neuron with Keras on the TensorFlow backend, but Keras is "
    "set to the {backend!r} backend (KERAS_BACKEND={backend}). Set the environment "
    "variable KERAS_BACKEND=tensorflow before Keras is first imported (or remove "
    "the setting, or the 'backend' entry of ~/.keras/keras.json). predict works "
    "without it."
)

# TensorFlow started before skneuron, without TF_CPP_MIN_LOG_LEVEL: its C++ logs show
_TF_LOGS_VISIBLE = (
    "tensorflow" in sys.modules and os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") < "2"
)
keras, tf = _import_keras()
ops = keras.ops

F64 = tf.float64
_CAPACITY = 4096  # most epochs one call runs (the size of its loss record)
_CALL_SECONDS = 0.2  # work per call between returns to Python
_GRAPH_STEPS = 2048  # steps a fit runs in graph mode at most, where XLA may run
_XLA_MAX_VALUES = 2**21  # larger X (rows x features) runs in graph mode
_POOL_SIZE = 16
#: Trainers built, programs traced and compiled in this process (for benchmarks).
counts: collections.Counter = collections.Counter()


def build_neuron(n_features, n_targets, *, fit_intercept, positive, dtype=None):
    """The single neuron: one ``Dense`` unit per target, y = X @ kernel + bias.

    A ``Sequential`` model, as in the tutorials, so ``get_layer(index=0)`` is the
    ``Dense`` layer itself.
    """
    dense = keras.layers.Dense(
        n_targets,
        use_bias=fit_intercept,
        kernel_initializer="zeros",
        kernel_constraint=keras.constraints.NonNeg() if positive else None,
        dtype=dtype,
        name="neuron",
    )
    inputs = keras.Input(shape=(n_features,), dtype=dtype, name="X")
    return keras.Sequential([inputs, dense], name="neuron_regressor")


# -- the optimizer -------------------------------------------------------------------
_NAMED = {"name": "neuron_optimizer"}  # an explicit name bumps no Keras counter


def resolve_optimizer(spec: OptimizerSpec) -> tuple[type, dict]:
    """The optimizer class and its whole config (``spec.config`` applied)."""
    optimizer = spec.optimizer
    if isinstance(optimizer, keras.optimizers.Optimizer):
        cls, config = type(optimizer), {**optimizer.get_config(), **_NAMED}
    elif isinstance(optimizer, str | type):
        cls, config = _defaults(optimizer)
    else:
        raise TypeError(
            "optimizer must be a Keras optimizer name, class or instance; "
            f"got {optimizer!r}."
        )
    return cls, {**config, **spec.config}


@functools.lru_cache(maxsize=64)
def _defaults(optimizer):
    """The class and default config of an optimizer given by name (or
    ``"module:Class"`` path) or class. Cached: building one to read its config
    costs milliseconds."""
    if isinstance(optimizer, str) and ":" in optimizer:
        optimizer = _class_from_path(optimizer)
    if isinstance(optimizer, str):
        try:
            cls = type(
                keras.optimizers.get({"class_name": optimizer, "config": _NAMED})
            )
        except ValueError:
            raise ValueError(
                f"optimizer={optimizer!r} is not the name of a Keras optimizer; use "
                "e.g. 'sgd', 'adam', 'rmsprop', or pass an optimizer instance or class."
            ) from None
    elif issubclass(optimizer, keras.optimizers.Optimizer):
        cls = optimizer
    else:
        raise TypeError(
            "optimizer must be a Keras optimizer name, class or instance; "
            f"got {optimizer!r}."
        )
    return cls, MappingProxyType(cls(**_NAMED).get_config())


def _class_from_path(path):
    """The class at ``"module:qualname"``."""
    module, _, qualname = path.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _path_of(cls):
    return f"{cls.__module__}:{cls.__qualname__}"


def _variable_momentum(cls, config):
    """Whether the optimizer is Keras' SGD with momentum, whose momentum the
    trainer makes a variable (see :class:`_Momentum`)."""
    return cls is keras.optimizers.SGD and config.get("momentum", 0.0) > 0


class _Momentum:
    """SGD's momentum as a variable, so that fits with different momenta (the
    automatic step's) share one program.

    Keras' SGD reads its ``momentum`` as a Python number (``momentum != 0`` says
    whether it keeps velocities) and converts it to a tensor in its update; this
    answers the first as a non-zero number does and converts to the variable's
    current value.
    """

    def __init__(self):
        self.variable = tf.Variable(0.0, dtype=F64)

    def __eq__(self, other):
        return False

    def __ne__(self, other):
        return True

    __hash__ = object.__hash__

    def __tf_tensor__(self, dtype=None, name=None):
        value = self.variable.read_value()
        return value if dtype is None else tf.cast(value, dtype)


def _one_thread():
    """Run a program's ops one after another on the calling thread: its ops are
    tiny, and handing them to TensorFlow's thread pool costs more than they do.

    Only for programs without nested control flow (see :attr:`_Setup.flat`). This
    executor cannot lower a ``tf.cond`` or an inner ``tf.while_loop`` into the
    graph; it runs each as a function call that blocks a thread of TensorFlow's
    inter-op pool while the nested function waits for another. With as many
    callers as the pool has threads (its default: one per core), every thread
    waits and none runs: a deadlock. The default executor lowers control flow and
    never blocks a pool thread, so any number of callers can run at once.
    """
    return tf.experimental.function_executor_type("SINGLE_THREADED_EXECUTOR")


def _executor(setup, xla):
    """The executor for a call of a program: XLA's own, or in graph mode the
    single-threaded one where the program is flat (else TensorFlow's default)."""
    if xla or not setup.flat:
        return contextlib.nullcontext()
    return _one_thread()


# -- what is baked into a program ----------------------------------------------------
def _bucket(n, fine):
    """The padded size for ``n``. ``fine`` (rows): ``n`` itself up to 16, else the
    next m * 2**k with m in 8..15 (at most 12.5 % padding). Coarse (features):
    powers of two up to 16, then m in 4..7 (at most 25 %), so that 1..30 features
    make 9 sizes."""
    if n <= 16:
        return n if fine else 1 << max(n - 1, 0).bit_length()
    top = 8 if fine else 4
    k = max(n.bit_length() - top.bit_length(), 0)
    return -(-n // (1 << k)) * (1 << k)


@dataclass(frozen=True)
class _Layout:
    """The padded sizes of the inputs, and whether XLA compiles the loop: small
    problems are padded to bucketed sizes (so that few programs serve many
    shapes) and compiled; large ones, which are memory-bound, are left as they are
    and run in graph mode."""

    features: int
    rows: int
    val_rows: int
    xla: bool
    slots: int = 0  # packed sparse rows: the values per row, padded

    @classmethod
    def of(cls, data, validation):
        p, _ = _shape(data)
        if isinstance(data, Gram):
            xla = _bucket(p, False) ** 2 <= _XLA_MAX_VALUES
            return cls(_bucket(p, False) if xla else p, 0, 0, xla)
        n, n_val = _count(data), 0 if validation is None else _count(validation)
        if isinstance(data, Packed):
            width = max(data.values.shape[1], _width(validation))
            slots = _bucket(width, False)
            xla = _bucket(n, True) * slots <= _XLA_MAX_VALUES
            if not xla:
                return cls(p, n, n_val, False, width)
            return cls(_bucket(p, False), _bucket(n, True), _bucket(n_val, True), True,
                       slots)  # fmt: skip
        if _bucket(n, True) * _bucket(p, False) > _XLA_MAX_VALUES:
            return cls(p, n, n_val, False)
        return cls(_bucket(p, False), _bucket(n, True), _bucket(n_val, True), True)


@dataclass(frozen=True)
class _Setup:
    """Everything a program bakes in; the key of the trainer pool."""

    n_features: int
    n_targets: int
    fit_intercept: bool
    positive: bool
    l1: bool  # whether there is an L1 penalty (a proximal step)
    optimizer: str  # class path
    config: tuple  # the optimizer's config, without the numbers that are inputs
    loss: type  # the loss trained
    reported: type  # the loss reported
    sums: bool  # trained on a Gram (sums), not on rows
    packed: bool  # rows of sparse X, packed (see skneuron._objective.Packed)
    batch_size: int | None
    validate: bool
    early_stopping: bool

    @property
    def flat(self) -> bool:
        """Whether the loop nests no control flow in its epochs: full batches
        (no loop over mini-batches) and a loss of constant curvature (no
        ``tf.cond`` around the curvature test)."""
        return self.batch_size is None and self.loss.constant_curvature


def _rate_varies(config):
    """Whether the learning rate is a number (an input), not a schedule."""
    return isinstance(config.get("learning_rate"), int | float)


def _frozen_config(cls, config):
    """The optimizer's config without the numbers that are inputs."""
    varying = {"learning_rate"} if _rate_varies(config) else set()
    if _variable_momentum(cls, config):
        varying.add("momentum")
    return tuple(sorted((k, repr(v)) for k, v in config.items() if k not in varying))


# -- the trainer: a neuron, an optimizer and the compiled loop -----------------------
class _Trainer:
    """A Keras neuron, a Keras optimizer and the loop that trains it, compiled.

    Also keeps, in variables, the state of early stopping (the best validation loss,
    the weights that reached it, the epochs since), so that training may be split
    into several calls.
    """

    def __init__(self, setup: _Setup, cls: type, config: dict):
        counts["trainers"] += 1
        self.setup = setup
        self.model = build_neuron(
            setup.n_features,
            setup.n_targets,
            fit_intercept=setup.fit_intercept,
            positive=setup.positive,
            dtype="float64",
        )
        self.dense = self.model.get_layer("neuron")
        self.variables = self.model.trainable_variables
        self.momentum = _Momentum() if _variable_momentum(cls, config) else None
        if self.momentum is not None:
            config = {**config, "momentum": 0.5}  # a placeholder that makes the slots
        self.optimizer = cls.from_config(config)
        self.optimizer.build(self.variables)
        if self.momentum is not None:
            self.optimizer.momentum = self.momentum
        self.best = [tf.Variable(tf.zeros_like(v)) for v in self.variables]
        self.best_value = tf.Variable(tf.constant(np.inf, F64))
        self.since_best = tf.Variable(0)
        self.signature = [_signature(setup)]
        self._load = tf.function(
            self._assign,
            input_signature=[
                [tf.TensorSpec(t.shape, t.dtype) for t in self._targets()]
            ],
            autograph=False,
        )
        self._load._omit_frequent_tracing_warning = True  # one trace per trainer
        self.programs = {}  # "graph" and "xla": the traced loop, each mode's
        self.compiling = {}  # layout -> the compile's future
        self.compiled = set()  # layouts XLA compiled the loop for
        self.loaded = False  # whether _load has run (its first run builds it)

    # -- programs ---------------------------------------------------------------
    def program(self, xla: bool):
        """The loop traced for graph mode or for XLA (which compiles it per input
        shape on its first call)."""
        mode = "xla" if xla else "graph"
        if mode not in self.programs:

            def loop(a):
                return self._epochs(a, xla)

            function = tf.function(
                loop,
                input_signature=self.signature,
                jit_compile=xla,
                autograph=False,
            )
            # TensorFlow counts traces per Python function, shared by all trainers,
            # and warns of "retracing" after five setups: a false alarm here.
            function._omit_frequent_tracing_warning = True
            self.programs[mode] = function.get_concrete_function()
            counts[f"{mode} traces"] += 1
        return self.programs[mode]

    def compile_soon(self, inputs, layout):
        """Start compiling the loop with XLA for ``layout``, in the background:
        a call that runs no epoch, so that a fit's first steps (in graph mode) hide
        the compile time and short fits never wait for it."""
        with _compile_lock:
            if layout not in self.compiling:
                compile = _background.start(
                    functools.partial(self._compile, inputs, layout), "skneuron-xla"
                )
                self.compiling[layout] = compile
                _pending.add(compile)
                compile.add_done_callback(_pending.discard)

    def _compile(self, inputs, layout):
        try:
            with _hidden_logs():
                self.program(xla=True)({**inputs, "max_epochs": tf.constant(0)})
        except Exception:  # noqa: BLE001 - an op XLA lacks: stay in graph mode
            counts["xla failures"] += 1
            return
        self.compiled.add(layout)
        counts["xla compiles"] += 1

    def wait_compiled(self, layout) -> bool:
        """Whether XLA compiled the loop for ``layout``, once its compile ended."""
        compile = self.compiling.get(layout)
        if compile is not None:
            compile.result()  # never a thread's join, which Ctrl-C can spoil
        return layout in self.compiled

    # -- state -----------------------------------------------------------------
    def reset(self, state: TrainState, config: dict):
        """Start from ``state``: its weights, its optimizer variables (or fresh
        ones), fresh stopping rules, the config's learning rate and momentum (all
        set in one call: one by one, they cost milliseconds)."""
        kernel = _pad_rows(state.kernel, self.setup.n_features)
        values = [kernel] + ([state.bias] if self.setup.fit_intercept else [])
        slots = self._slots()
        for slot, value in zip(slots, state.slots or [None] * len(slots), strict=True):
            value = np.zeros(slot.shape) if value is None else np.asarray(value)
            if value.ndim == 2:  # a kernel's slot
                value = _pad_rows(value, self.setup.n_features)
            values.append(value)
        targets = self._targets()
        values += [np.inf, 0][: len(targets) - len(values)]
        if self.momentum is not None:
            values.append(float(config["momentum"]))
        values = [tf.constant(v, t.dtype) for v, t in zip(values, targets, strict=True)]

        def load():
            with _hidden_logs() if not self.loaded else contextlib.nullcontext():
                with _one_thread():
                    self._load(values)

        _interruptible(load)
        self.loaded = True
        if _rate_varies(config):
            self.optimizer.learning_rate = float(config["learning_rate"])

    def _targets(self):
        """The variables :meth:`reset` sets."""
        extra = [self.momentum.variable] if self.momentum is not None else []
        return [
            *self.variables,
            *self._slots(),
            self.best_value,
            self.since_best,
            *extra,
        ]

    def _assign(self, values):
        for target, value in zip(self._targets(), values, strict=True):
            target.assign(value)

    def _slots(self):
        """The optimizer's variables but its learning rate: iterations, moments."""
        return [
            v for v in self.optimizer.variables if not v.name.endswith("learning_rate")
        ]

    def state(self, n_features: int, epoch: int, best: bool) -> TrainState:
        """The weights (the best ones, with early stopping) and optimizer state."""
        values = self.best if best else self.variables
        kernel = values[0].numpy()[:n_features]
        bias = (
            values[1].numpy() if self.setup.fit_intercept else np.zeros(kernel.shape[1])
        )
        slots = tuple(
            v.numpy()[:n_features] if len(v.shape) == 2 else v.numpy()
            for v in self._slots()
        )
        return TrainState(kernel, bias, slots, epoch)

    # -- the objective ------------------------------------------------------------
    def _bias(self):
        if self.setup.fit_intercept:
            return self.variables[1]
        return tf.zeros([self.setup.n_targets], F64)

    def _predict(self, part):
        """The neuron's output on the rows of ``part``: the Keras layer's on dense
        rows; on packed sparse rows, its kernel's rows gathered for the values
        stored, summed, plus its bias."""
        if not self.setup.packed:
            return self.dense(part["X"])
        kernel = tf.gather(self.variables[0], part["columns"])  # (rows, slots, t)
        return tf.einsum("nk,nkt->nt", part["values"], kernel) + self._bias()

    def _mean_loss(self, loss, part):
        """Per target, the sample-weighted mean loss over the rows of ``part``
        (rows, or their sums: then the loss is the squared error)."""
        if self.setup.sums:
            sums = Gram(**part, weight=1.0, count=0)
            value = sums.half_mean_squares(self.variables[0], self._bias(), ops)
        else:
            point = loss.pointwise(part["Y"] - self._predict(part), ops)
            value = tf.reduce_sum(part["sw"][:, None] * point, 0) / tf.maximum(
                tf.reduce_sum(part["sw"]), tf.constant(1e-300, F64)
            )
        return tf.ensure_shape(value, [self.setup.n_targets])

    def _losses(self, a):
        """The loss trained (this stage's) and the loss reported (the objective's)."""
        return self.setup.loss(**a["loss"]), self.setup.reported(**a["reported"])

    def _loss_and_grads(self, a, part):
        """The reported loss per target, and the gradients of the smooth part of
        the objective (the trained loss plus the L2 penalty)."""
        trained, reported = self._losses(a)
        with tf.GradientTape() as tape:
            value = self._mean_loss(trained, part)
            penalty = self._penalty(a).smooth_value(self.variables[0], ops)
            objective = tf.reduce_sum(value + penalty)
        grads = [
            tf.convert_to_tensor(g) for g in tape.gradient(objective, self.variables)
        ]
        if self.setup.reported is not self.setup.loss:
            value = self._mean_loss(reported, part)
        elif self.setup.sums:  # rounding may leave a perfect fit's loss below zero
            value = tf.maximum(value, 0.0)
        return value, grads

    def _step(self, grads, l1):
        """One optimizer update (with the sign constraint, if any), then the L1
        penalty's proximal step. Its threshold is the learning rate times the
        strength, stretched by 1 / (1 - momentum) as SGD's momentum stretches each
        step at a fixed point."""
        self.optimizer.apply_gradients(zip(grads, self.variables, strict=True))
        if not self.setup.l1:
            return
        step = tf.cast(self.optimizer.learning_rate, F64)
        if self.momentum is not None:
            step = step / (1.0 - self.momentum.variable)
        kernel = self.variables[0]
        kernel.assign(Penalty(None, l1).prox(kernel, step, ops))

    # -- stopping rules -------------------------------------------------------------
    def _subgradient(self, grads, a):
        """Per target, the size of the smallest subgradient of the objective (L1
        penalty and sign constraint included); and per coefficient, whether it
        is held at zero by them (at zero, with nothing to move it)."""
        g = grads[0]
        held = tf.zeros_like(g, dtype=tf.bool)
        if self.setup.l1 or self.setup.positive:
            g = self._penalty(a).min_subgradient(g, self.variables[0], ops)
            held = (self.variables[0] == 0) & (g == 0)
        squares = tf.reduce_sum(g**2, 0)
        if self.setup.fit_intercept:
            squares = squares + grads[1] ** 2
        return tf.ensure_shape(tf.sqrt(squares), [self.setup.n_targets]), held

    def _penalty(self, a):
        return Penalty(a["l2"], a["l1"], self.setup.positive)

    def _curved_enough(self, a, needed, held):
        """Per target, whether the objective's curvature at the current weights
        is at least ``needed`` in every direction it can move in: the trained
        loss's curvature per row (its inliers') over the data, with the bias
        direction and the L2 penalty, less ``needed``, is positive definite (its
        Cholesky factor is finite). Coefficients ``held`` at zero by the L1 penalty
        or the sign constraint, padding and constant columns are left out. A test,
        not a spectrum: cheaper to compile and to run."""
        trained, _ = self._losses(a)
        train = a["train"]
        weight = train["sw"][:, None] * trained.curvature(
            train["Y"] - self._predict(train), ops
        )
        weight = tf.transpose(weight / tf.reduce_sum(train["sw"]))  # (targets, rows)
        free = a["mask"][:, None] * (1.0 - tf.cast(held, F64))  # (features, targets)
        diagonal = a["l2"] - needed
        if self.setup.fit_intercept:
            diagonal = tf.concat([diagonal, -needed[None]], 0)
            free = tf.concat([free, tf.ones_like(free[:1])], 0)
        curvature = self._weighted_gram(train, weight)
        curvature = curvature + tf.linalg.diag(tf.transpose(diagonal))
        free = tf.transpose(free)  # (targets, features)
        curvature = curvature * free[:, :, None] * free[:, None, :]
        curvature = curvature + tf.linalg.diag(1.0 - free)  # left out: curvature 1
        factor = tf.linalg.cholesky(curvature)
        return tf.reduce_all(tf.math.is_finite(factor), axis=[1, 2])

    def _weighted_gram(self, part, weight):
        """Per target, ``X' diag(weight) X`` of the rows of ``part`` (with a
        column of ones for the bias): (targets, features[+1], features[+1])."""
        if self.setup.packed:
            return _packed_gram(
                part["columns"], part["values"], weight,
                self.setup.n_features, self.setup.fit_intercept,
            )  # fmt: skip
        X = part["X"]
        if self.setup.fit_intercept:
            X = tf.concat([X, tf.ones_like(X[:, :1])], 1)
        weighted = X[None] * weight[:, :, None]  # (targets, rows, features)
        return tf.matmul(weighted, X[None], transpose_a=True)

    def _converged(self, gradient, held, a):
        """Each target's coefficients are within ``tol`` relative of their optimum,
        by the bound ‖∂‖ / λ on their distance to it (∂ the smallest subgradient, of
        size ``gradient``; λ the objective's smallest curvature). Relative to the
        smallest coefficient that is at least ``tol`` times the largest, so that
        small coefficients are as exact as large ones.

        λ is first taken over the whole data (exact for the squared loss, an upper
        bound for the others), then, once that bound holds, over the rows where the
        loss is curved now, by testing that it reaches ‖∂‖ / limit."""
        tol = a["tol"]
        size = tf.abs(self.variables[0])
        largest = tf.reduce_max(size, 0)
        counted = tf.where(size >= tol * largest, size, tf.cast(np.inf, F64))
        # every coefficient zero (a penalty or a bound holds them there): relative
        # to 1, the size of a coefficient of one standard deviation of y per one
        # of x, as exact zeros cannot be relative to themselves
        reference = tf.where(largest > 0, tf.reduce_min(counted, 0), 1.0)
        limit = tol * reference
        trained, _ = self._losses(a)
        strong = a["strong"] * trained.lipschitz(ops)
        # a gradient at the level of its own rounding cannot shrink any more: on
        # badly conditioned problems that is as close as float64 gets
        rounding = 64 * np.finfo(np.float64).eps * np.sqrt(self.setup.n_features)
        floor = rounding * (a["lipschitz"] * tf.norm(self.variables[0], axis=0) + 1.0)
        limit = tf.maximum(limit, floor / strong)
        cheap = tf.reduce_all(gradient / strong <= limit)
        if self.setup.loss.constant_curvature:
            return cheap
        return tf.cond(
            cheap,
            lambda: tf.reduce_all(self._curved_enough(a, gradient / limit, held)),
            lambda: tf.constant(False),
        )

    def _record(self, value, tol):
        """Keep the weights with the best validation loss; count epochs since."""
        improved = (value < self.best_value) & (
            self.best_value - value > tol * tf.abs(value)
        )
        for best, variable in zip(self.best, self.variables, strict=True):
            best.assign(tf.where(improved, variable, best))
        self.best_value.assign(tf.where(improved, value, self.best_value))
        self.since_best.assign(tf.where(improved, 0, self.since_best + 1))

    # -- epochs -----------------------------------------------------------------------
    def _full_epoch(self, a, epoch):
        loss, grads = self._loss_and_grads(a, a["train"])
        gradient, held = self._subgradient(grads, a)
        done = (a["tol"] >= 0) & self._converged(gradient, held, a)
        self._step(grads, a["l1"])
        return loss, done, gradient

    def _batched_epoch(self, a, epoch):
        """Mini-batches of a fixed size, in a new order each epoch (padding rows
        last, masked out of the last batch)."""
        train, size = a["train"], self.setup.batch_size
        n, rows = train["n"], tf.shape(train["Y"])[0]
        order = tf.range(rows)
        keys = tf.random.stateless_uniform(
            [rows],
            seed=a["seed"] + [0, epoch],
            dtype=F64,  # float32: 3x slower
        )
        keys = tf.where(order < n, keys, 2.0)  # padding rows last
        order = tf.where(a["shuffle"], tf.argsort(keys), order)
        offsets = tf.range(size)

        def step(start, total):
            position = start + offsets
            idx = tf.gather(order, tf.minimum(position, rows - 1))
            batch = {
                key: tf.gather(value, idx) for key, value in train.items() if key != "n"
            }
            batch["sw"] = batch["sw"] * tf.cast(position < n, F64)
            part, grads = self._loss_and_grads(a, batch)
            self._step(grads, a["l1"])
            return start + size, total + part * tf.reduce_sum(batch["sw"])

        total = tf.zeros([self.setup.n_targets], F64)
        _, total = tf.while_loop(lambda start, _: start < n, step, [0, total])

        def test():  # the convergence test takes a full-batch gradient
            _, grads = self._loss_and_grads(a, train)
            gradient, held = self._subgradient(grads, a)
            return self._converged(gradient, held, a), gradient

        def skip():
            nan = tf.constant(np.nan, F64)
            return tf.constant(False), tf.fill([self.setup.n_targets], nan)

        done, gradient = tf.cond(a["tol"] >= 0, test, skip)
        return total / tf.reduce_sum(train["sw"]), done, gradient

    def _epochs(self, a, xla):
        """Run up to ``max_epochs`` epochs, or until a stopping rule holds: the
        convergence test (when ``tol >= 0``) held ``patience`` epochs in a row
        (``streak`` counts on from a previous call); with early stopping, the
        validation loss not improved for ``patience`` epochs; a loss not finite or
        above ``ceiling`` (divergence).

        The losses are recorded in arrays of ``max_epochs`` elements, or under XLA,
        which needs sizes known when it compiles, of ``_CAPACITY``."""
        batched = self.setup.batch_size is not None
        run_epoch = self._batched_epoch if batched else self._full_epoch
        n_targets = self.setup.n_targets
        tol = tf.maximum(a["tol"], 0.0)
        _, reported = self._losses(a)

        def body(epoch, streak, losses, val_losses, gradient, sane):
            loss, done, gradient = run_epoch(a, a["first"] + epoch)
            if self.setup.validate:
                val = self._mean_loss(reported, a["val"])
                if self.setup.sums:
                    val = tf.maximum(val, 0.0)
                val_losses = val_losses.write(epoch, val)
                if self.setup.early_stopping:
                    self._record(tf.reduce_sum(val), tol)
            sane = tf.reduce_all(tf.math.is_finite(loss) & (loss <= a["ceiling"]))
            streak = tf.where(done, streak + 1, 0)
            losses = losses.write(epoch, loss)
            return epoch + 1, streak, losses, val_losses, gradient, sane

        def going(epoch, streak, losses, val_losses, gradient, sane):
            going = (epoch < a["max_epochs"]) & (streak < a["patience"]) & sane
            if self.setup.early_stopping:
                going = going & (self.since_best < a["patience"])
            return going

        def record():
            size = _CAPACITY if xla else a["max_epochs"]
            return tf.TensorArray(F64, size=size, element_shape=[n_targets])

        start = [0, a["streak"], record(), record(), tf.zeros([n_targets], F64), True]
        epoch, streak, losses, val_losses, gradient, sane = tf.while_loop(
            going, body, start
        )
        return epoch, streak, losses.stack(), val_losses.stack(), gradient, sane


def _signature(setup: _Setup):
    """The loop's inputs: shapes are fixed but for the number of rows, so that the
    traced graph knows them (and folds its shape arithmetic away)."""
    P, T = setup.n_features, setup.n_targets

    def spec(*shape, dtype=F64):
        return tf.TensorSpec(shape, dtype)

    if setup.sums:
        part = {"xx": spec(P, P), "xy": spec(P, T), "yy": spec(T)}
        part.update(x_mean=spec(P), y_mean=spec(T))
    else:
        part = {"Y": spec(None, T), "sw": spec(None), "n": spec(dtype=tf.int32)}
        if setup.packed:
            slots = spec(None, None, dtype=tf.int32)
            part.update(columns=slots, values=spec(None, None))
        else:
            part.update(X=spec(None, P))
    losses = {
        name: {f.name: spec(T) for f in dataclasses.fields(loss)}
        for name, loss in (("loss", setup.loss), ("reported", setup.reported))
    }
    scalar, count = spec(), spec(dtype=tf.int32)
    return {
        "train": part,
        "val": part,
        "l2": spec(P, T),
        "l1": spec(P, T),
        "mask": spec(P),
        **losses,
        "strong": scalar,
        "ceiling": scalar,
        "lipschitz": scalar,
        "tol": scalar,
        "max_epochs": count,
        "first": count,
        "seed": spec(2, dtype=tf.int32),
        "shuffle": spec(dtype=tf.bool),
        "streak": count,
        "patience": count,
    }


# -- work in the background, which the exit waits for --------------------------------
class _Background:
    """Threads for TensorFlow's work that a Ctrl-C in the main thread must not wait
    for, and that the interpreter's exit must: cut off inside TensorFlow's C++ by
    the exit, such work aborts the process.

    Each piece of work runs in a daemon thread of its own and hands its outcome to
    a future, the only thing anyone waits on. A Ctrl-C can land anywhere in
    starting a thread (``Thread.start`` waits for the thread to run), so nothing
    depends on the start having returned: the exit waits for the work that has
    begun (see :meth:`close`), and work that begins after the exit has started
    does nothing. (A thread pool's worker, interrupted in its start, is never told
    to stop, and the exit waits for it forever; a thread's ``join``, interrupted
    in Python 3.11, marks a running thread as stopped, and the exit then does not
    wait for it at all.)
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.running: set[concurrent.futures.Future] = set()
        self.closing = False
        self.hooked = False

    def start(self, work: Callable[[], object], name: str) -> concurrent.futures.Future:
        """Run ``work()`` in a thread; its future."""
        future = concurrent.futures.Future()

        def run():
            with self.lock:
                if self.closing:  # the exit has begun: TensorFlow is going away
                    future.cancel()
                    return
                future.set_running_or_notify_cancel()
                self.running.add(future)
            try:
                future.set_result(work())
            except BaseException as error:  # noqa: BLE001 - the waiter's to raise
                future.set_exception(error)
            finally:
                with self.lock:
                    self.running.discard(future)

        with self.lock:
            if not self.hooked:  # after TensorFlow's import: run before its hooks
                atexit.register(self.close)
                self.hooked = True
        threading.Thread(target=run, name=name, daemon=True).start()
        return future

    def close(self):
        """At exit: let no more work begin, and wait for the work that has (a
        second Ctrl-C does not cut it off)."""
        with self.lock:
            self.closing = True
            running = list(self.running)
        while True:
            try:
                concurrent.futures.wait(running)
                return
            except KeyboardInterrupt:
                continue


_background = _Background()


def _interruptible(call):
    """``call()``, from which Ctrl-C returns at once.

    Python acts on a signal only between bytecodes of the main thread, never
    inside a call into TensorFlow (the first run of a program, which TensorFlow
    optimizes, can take a second). So the main thread hands such calls to a
    background thread and waits for their result, a wait that a signal ends; an
    interrupted call runs on to its end, and its trainer is never reused (see
    :func:`train`). Other threads, which signals never reach, call directly.
    """
    if threading.current_thread() is not threading.main_thread():
        return call()
    return _background.start(call, "skneuron").result()


# -- the pool of trainers -------------------------------------------------------------
class _Pool:
    """Idle trainers by setup, least recently used first; at most ``size`` in all.
    An evicted trainer is dropped with its programs."""

    def __init__(self, size):
        self.size = size
        self.idle: OrderedDict[_Setup, list[_Trainer]] = OrderedDict()
        self.lock = threading.Lock()

    def checkout(self, setup, make):
        with self.lock:
            trainers = self.idle.get(setup)
            if trainers:
                trainer = trainers.pop()
                if not trainers:  # no empty lists: eviction takes from the first
                    del self.idle[setup]
                return trainer
        return make()

    def checkin(self, trainer):
        with self.lock:
            self.idle.setdefault(trainer.setup, []).append(trainer)
            self.idle.move_to_end(trainer.setup)
            while sum(len(v) for v in self.idle.values()) > self.size:
                oldest = next(iter(self.idle))
                self.idle[oldest].pop(0)
                if not self.idle[oldest]:
                    del self.idle[oldest]


_pool = _Pool(_POOL_SIZE)
_compile_lock = threading.Lock()
_pending: set[concurrent.futures.Future] = set()  # the compiles not yet ended


def _finish_compiles():
    """Wait for the background compiles started so far (for counts and memory
    measured after them)."""
    concurrent.futures.wait(list(_pending))


def _packed_gram(columns, values, weight, n_features, fit_intercept):
    """``X' diag(weight) X`` per target (targets, size, size) of packed sparse
    rows (with a column of ones for the bias: size p + 1), from blocks of rows
    unpacked to dense rows: memory a block's, at most ``_BLOCK_VALUES`` values,
    never all the rows times the features."""
    size = n_features + int(fit_intercept)
    if fit_intercept:
        ones = tf.ones_like(values[:, :1])
        columns = tf.concat([columns, tf.fill(tf.shape(columns[:, :1]), n_features)], 1)
        values = tf.concat([values, ones], 1)
    rows = tf.shape(values)[0]
    block = tf.minimum(rows, max(_BLOCK_VALUES // size, 1))
    offsets = tf.range(block)

    def add(start, total):
        position = start + offsets
        idx = tf.minimum(position, rows - 1)
        cells = tf.gather(columns, idx) + offsets[:, None] * size
        dense = tf.math.unsorted_segment_sum(
            tf.gather(values, idx), cells, block * size
        )
        dense = tf.reshape(dense, [block, size])
        w = tf.gather(weight, idx, axis=1) * tf.cast(position < rows, F64)
        weighted = dense[None] * w[:, :, None]  # (targets, block, size)
        return start + block, total + tf.matmul(weighted, dense[None], transpose_a=True)

    total = tf.zeros([weight.shape[0], size, size], F64)
    _, total = tf.while_loop(lambda start, _: start < rows, add, [0, total])
    return total


_BLOCK_VALUES = 1 << 20  # values of the dense rows unpacked at once (8 MB)


# -- the inputs ----------------------------------------------------------------------
def _pad_rows(array, rows):
    """``array`` as float64, zero-padded along its first axis to ``rows``."""
    array = np.asarray(array, dtype=np.float64)
    return np.pad(array, [(0, rows - len(array))] + [(0, 0)] * (array.ndim - 1))


def _constant(array, rows=None, columns=None):
    """A float64 tensor of ``array`` zero-padded to ``rows`` (and ``columns``)."""
    array = np.asarray(array, dtype=np.float64)
    pad = [(0, (rows or len(array)) - len(array))]
    if array.ndim == 2:
        pad.append((0, (columns or array.shape[1]) - array.shape[1]))
    return tf.constant(np.pad(array, pad) if any(p for _, p in pad) else array, F64)


def _part(data, rows, features, slots=0):
    """The program's input for training or held-out ``data``, padded."""
    if isinstance(data, Packed):
        pad = ((0, rows - _count(data)), (0, slots - data.values.shape[1]))
        return {
            "columns": tf.constant(np.pad(data.columns, pad), tf.int32),
            "values": tf.constant(np.pad(data.values, pad), F64),
            "Y": _constant(data.Y, rows),
            "sw": _constant(data.sample_weight, rows),
            "n": tf.constant(_count(data)),
        }
    if isinstance(data, Gram):
        return {
            "xx": _constant(data.xx, features, features),
            "xy": _constant(data.xy, features),
            "yy": _constant(data.yy),
            "x_mean": _constant(data.x_mean, features),
            "y_mean": _constant(data.y_mean),
        }
    return {
        "X": _constant(data.X, rows, features),
        "Y": _constant(data.Y, rows),
        "sw": _constant(data.sample_weight, rows),
        "n": tf.constant(len(data.X)),
    }


def _empty_like(data):
    p, t = _shape(data)
    if isinstance(data, Gram):
        return Gram(np.zeros((p, p)), np.zeros((p, t)), np.zeros(t), np.zeros(p),
                    np.zeros(t), 0.0, 0)  # fmt: skip
    if isinstance(data, Packed):
        return dataclasses.replace(
            data,
            columns=np.zeros((0, 1), np.int32),
            values=np.zeros((0, 1)),
            Y=np.zeros((0, t)),
            sample_weight=np.ones(0),
        )
    return Rows(np.zeros((0, p)), np.zeros((0, t)), np.ones(0))


def _shape(data):
    """Features and targets."""
    if isinstance(data, Gram):
        return data.xy.shape
    if isinstance(data, Packed):
        return data.n_features, data.Y.shape[1]
    return data.X.shape[1], data.Y.shape[1]


def _count(data):
    """The number of rows."""
    return len(data.Y)


def _width(data):
    """The values per row of packed rows (0 for none)."""
    return 0 if data is None else data.values.shape[1]


def _varying(data):
    """1 for the features that vary in ``data``, 0 for those that are zero on
    every row (constant columns, standardized): directions without curvature,
    and without gradient, that the curvature tests leave out as they do padding."""
    if isinstance(data, Gram):
        return (np.diag(data.xx) > 0).astype(float)
    if isinstance(data, Packed):
        return data.varying()
    return np.any(data.X != 0, axis=0).astype(float)


def _loss_inputs(loss, n_targets):
    return {
        name: tf.constant(np.broadcast_to(value, n_targets), F64)
        for name, value in parameters(loss).items()
    }


def _inputs(data, validation, objective, schedule, stopping, layout):
    """The program's inputs that stay the same for the whole fit."""
    p, n_targets = _shape(data)
    P = layout.features
    validation = _empty_like(data) if validation is None else validation
    penalty = objective.penalty
    return {
        "train": _part(data, layout.rows, P, layout.slots),
        "val": _part(validation, layout.val_rows, P, layout.slots),
        "l2": _constant(penalty.l2, P),
        "l1": _constant(penalty.l1, P),
        "mask": _constant(_varying(data), P),
        "reported": _loss_inputs(objective.loss, n_targets),
        "strong": tf.constant(stopping.strong, F64),
        "ceiling": tf.constant(stopping.ceiling, F64),
        "lipschitz": tf.constant(stopping.lipschitz, F64),
        "seed": tf.constant([schedule.seed, 0]),
        "shuffle": tf.constant(bool(schedule.shuffle)),
        "patience": tf.constant(stopping.patience),
    }


# -- one fit ------------------------------------------------------------------------
def train(
    data: Rows | Packed | Gram,
    objective: Objective,
    schedule: Schedule,
    stopping: Stopping,
    state: TrainState,
    *,
    validation: Rows | Packed | Gram | None = None,
    on_epochs: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
) -> TrainResult:
    """Train the neuron on standardized ``data`` (its rows, or for the squared loss
    and full batches, the sums of its rows), starting from ``state``.

    ``on_epochs(first, losses, val_losses)`` is called after every call of the
    compiled loop with the epochs it ran (for progress output).
    """
    cls, config = resolve_optimizer(schedule.optimizer)
    setup, layout = _setup(data, validation, objective, schedule, stopping, cls, config)
    inputs = _inputs(data, validation, objective, schedule, stopping, layout)
    trainer = _pool.checkout(setup, lambda: _Trainer(setup, cls, config))
    try:
        trainer.reset(state, config)
        run = _Run(trainer, inputs, layout, state.epoch, on_epochs)
        run.plan(expected_epochs(schedule, stopping))
        for stage in schedule.stages:
            if _rate_varies(config):
                rate = config["learning_rate"] * stage.step_scale
                trainer.optimizer.learning_rate = rate
            run.stage(stage, stopping)
            if run.stop in (Stop.EARLY_STOPPED, Stop.DIVERGED):
                break
        losses = np.concatenate(run.losses)
        growth = stopping.growth
        if growth and len(losses) > 1 and np.any(losses[-1] > growth * losses[0]):
            run.stop = Stop.DIVERGED  # it ends far above where it started
        best = stopping.early_stopping and run.stop is not Stop.DIVERGED
        p = _shape(data)[0]
        result = TrainResult(
            state=trainer.state(p, state.epoch + run.epoch, best=best),
            optimizer=OptimizerSpec(_path_of(cls), config),
            losses=losses,
            val_losses=None if validation is None else np.concatenate(run.val_losses),
            stop=run.stop,
            gradient=run.gradient,
        )
    except Exception:
        _pool.checkin(trainer)
        raise
    # Not after Ctrl-C (a BaseException): the trainer may still be in a call that
    # runs on in the worker (see _interruptible), and is dropped.
    _pool.checkin(trainer)
    return result


def _setup(data, validation, objective, schedule, stopping, cls, config):
    """The program a fit needs, and the layout of its inputs."""
    (trained,) = {type(stage.loss) for stage in schedule.stages}  # one per fit
    sums = isinstance(data, Gram)
    if sums and not (trained.constant_curvature and schedule.batch_size is None):
        raise ValueError("Sums of rows serve only the full-batch squared loss.")
    layout = _Layout.of(data, validation)
    n = data.count if sums else _count(data)
    setup = _Setup(
        n_features=layout.features,
        n_targets=_shape(data)[1],
        fit_intercept=objective.fit_intercept,
        positive=objective.penalty.positive,
        l1=objective.penalty.has_l1,
        optimizer=_path_of(cls),
        config=_frozen_config(cls, config),
        loss=trained,
        reported=type(objective.loss),
        sums=sums,
        packed=isinstance(data, Packed),
        batch_size=schedule.batch_size if (schedule.batch_size or n) < n else None,
        validate=validation is not None,
        early_stopping=stopping.early_stopping,
    )
    return setup, layout


class _Pace:
    """How many epochs the next call runs: about ``_CALL_SECONDS`` of work, from
    an estimate by size at first, then from the calls so far (a call that traced
    or compiled a program does not count)."""

    def __init__(self, steps_per_epoch, values_per_epoch):
        # seconds per epoch, roughly: per step, and per value of the data
        estimate = 50e-6 * steps_per_epoch + 2e-9 * values_per_epoch
        self.epochs = int(min(max(_CALL_SECONDS / estimate, 1), _CAPACITY))

    def update(self, ran, seconds):
        rate = ran / max(seconds, 1e-6)
        self.epochs = int(min(max(rate * _CALL_SECONDS, 1), 4 * self.epochs, _CAPACITY))


class _Run:
    """The epochs of one fit, in calls of the compiled loop."""

    def __init__(self, trainer, inputs, layout, first, on_epochs):
        self.trainer, self.inputs, self.layout = trainer, inputs, layout
        self.first, self.on_epochs = first, on_epochs
        size, train = trainer.setup.batch_size, inputs["train"]
        steps = 1 if size is None else -(-int(train["n"]) // size)
        self.steps = steps  # per epoch
        self.graph_epochs = math.ceil(_GRAPH_STEPS / steps) if layout.xla else math.inf
        values = (
            train["xx"].shape[0] ** 2
            if trainer.setup.sums
            else np.prod(train["values" if trainer.setup.packed else "X"].shape)
        )
        self.pace = _Pace(steps, values)
        self.epoch, self.losses, self.val_losses = 0, [], []
        self.stop, self.gradient = Stop.MAX_EPOCHS, None

    def plan(self, expected):
        """Graph mode or XLA, from the forecast of the fit's epochs (never from
        what happens to be compiled: the same fit takes the same path, to the
        bit). A long fit runs under XLA from its first step (waiting for the
        compile if it is the first of its setup); a short one in graph mode,
        which needs no compile, and under XLA after ``_GRAPH_STEPS`` steps should
        it last that long."""
        if self.layout.xla and expected * self.steps >= _GRAPH_STEPS:
            self.graph_epochs = 0

    def stage(self, stage: Stage, stopping: Stopping):
        """Train one stage: until its tolerance holds, its budget or the whole
        fit's runs out, or training must stop."""
        n_targets = self.trainer.setup.n_targets
        inputs = {
            **self.inputs,
            "loss": _loss_inputs(stage.loss, n_targets),
            "tol": tf.constant(-1.0 if stage.tol is None else stage.tol, F64),
        }
        streak = tf.constant(0)
        end = min(self.epoch + stage.epochs, stopping.max_epochs)
        self.stop = Stop.MAX_EPOCHS
        while self.epoch < end and self.stop is Stop.MAX_EPOCHS:
            streak, sane = self._call(inputs, streak, end)
            if not sane:
                self.stop = Stop.DIVERGED
            elif int(streak) >= stopping.patience:
                self.stop = Stop.CONVERGED
            elif stopping.early_stopping and (
                int(self.trainer.since_best) >= stopping.patience
            ):
                self.stop = Stop.EARLY_STOPPED

    def _call(self, inputs, streak, end):
        """One call of the compiled loop: graph mode for the first steps of a fit,
        then XLA (where the layout allows it and it compiled)."""
        inputs = {
            **inputs,
            "streak": streak,
            "first": tf.constant(self.first + self.epoch),
        }
        xla = self.epoch >= self.graph_epochs  # XLA's turn (graph mode if it failed)
        if xla:
            self.trainer.compile_soon(inputs, self.layout)
        ready = xla and self.trainer.wait_compiled(self.layout)
        stop = end if xla else min(end, self.graph_epochs)
        count = min(self.pace.epochs, stop - self.epoch)
        fresh = not ready and "graph" not in self.trainer.programs  # to be traced
        started = time.perf_counter()

        def call():
            with _hidden_logs(), _executor(self.trainer.setup, ready):
                program = self.trainer.program(ready)
                return program({**inputs, "max_epochs": tf.constant(count)})

        ran, streak, losses, val_losses, gradient, sane = _interruptible(call)
        ran = int(ran)
        if not fresh:
            self.pace.update(ran, time.perf_counter() - started)
        self.losses.append(losses.numpy()[:ran])
        self.val_losses.append(val_losses.numpy()[:ran])
        self.gradient = gradient.numpy()
        if self.on_epochs is not None:
            self.on_epochs(
                self.first + self.epoch, self.losses[-1], self.val_losses[-1]
            )
        self.epoch += ran
        if self.layout.xla and not xla and 2 * self.epoch >= self.graph_epochs:
            self.trainer.compile_soon(inputs, self.layout)  # half way there
        return streak, bool(sane)
