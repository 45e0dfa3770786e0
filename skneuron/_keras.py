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

import contextlib
import dataclasses
import importlib
import math
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from skneuron._loss import parameters
from skneuron._objective import Objective, Rows
from skneuron._schedule import (
    OptimizerSpec,
    Schedule,
    Stage,
    Stop,
    Stopping,
    TrainResult,
    TrainState,
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


def _import_keras():
    """Keras on its TensorFlow backend, or a clear error naming the setting."""
    backend = os.environ.get("KERAS_BACKEND", "")
    try:
        if "tensorflow" in sys.modules:
            import keras
            import tensorflow as tf
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

keras, tf = _import_keras()
ops = keras.ops

F64 = tf.float64
_CAPACITY = 4096  # most epochs one call runs (the size of its loss record)
_CALL_SECONDS = 0.2  # work per call between returns to Python
_GRAPH_STEPS = 256  # steps of each fit in graph mode before XLA takes over
_XLA_MAX_VALUES = 2**21  # larger X (rows x features) runs in graph mode
_POOL_SIZE = 16


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
def resolve_optimizer(spec: OptimizerSpec) -> tuple[type, dict]:
    """The optimizer class and its whole config (``spec.config`` applied)."""
    named = {"name": "neuron_optimizer"}  # an explicit name bumps no Keras counter
    optimizer = spec.optimizer
    if isinstance(optimizer, str) and ":" in optimizer:
        optimizer = _class_from_path(optimizer)
    if isinstance(optimizer, str):
        try:
            cls = type(keras.optimizers.get({"class_name": optimizer, "config": named}))
        except ValueError:
            raise ValueError(
                f"optimizer={optimizer!r} is not the name of a Keras optimizer; use "
                "e.g. 'sgd', 'adam', 'rmsprop', or pass an optimizer instance or class."
            ) from None
        config = cls(**named).get_config()
    elif isinstance(optimizer, type) and issubclass(
        optimizer, keras.optimizers.Optimizer
    ):
        cls, config = optimizer, optimizer(**named).get_config()
    elif isinstance(optimizer, keras.optimizers.Optimizer):
        cls, config = type(optimizer), {**optimizer.get_config(), **named}
    else:
        raise TypeError(
            "optimizer must be a Keras optimizer name, class or instance; "
            f"got {optimizer!r}."
        )
    return cls, {**config, **spec.config}


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


# -- what is baked into a program ----------------------------------------------------
def _bucket(n, fine):
    """The padded size for ``n``: ``n`` up to 16 (``fine``) or 4, else the next
    m * 2**k with m in 8..15 (``fine``, at most 12.5 % padding) or 4..7."""
    small = 16 if fine else 4
    if n <= small:
        return n if fine else 1 << max(n - 1, 0).bit_length()
    top = 8 if fine else 4
    k = max(n.bit_length() - top.bit_length(), 0)
    return -(-n // (1 << k)) * (1 << k)


@dataclass(frozen=True)
class _Layout:
    """The padded shape of the training data, and whether it runs under XLA."""

    rows: int
    features: int
    val_rows: int
    xla: bool

    @classmethod
    def of(cls, n, p, n_val):
        """Bucketed and compiled by XLA where X is small enough."""
        if _bucket(n, True) * _bucket(p, False) > _XLA_MAX_VALUES:
            return cls(n, p, n_val, False)
        return cls(_bucket(n, True), _bucket(p, False), _bucket(n_val, True), True)


@dataclass(frozen=True)
class _Setup:
    """Everything a program bakes in; the key of the trainer pool."""

    n_features: int
    n_targets: int
    fit_intercept: bool
    positive: bool
    optimizer: str  # class path
    config: tuple  # the optimizer's config, without the numbers that are inputs
    loss: type  # the loss trained
    reported: type  # the loss reported
    batch_size: int | None
    validate: bool
    early_stopping: bool


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
        self.momentum = None
        if _variable_momentum(cls, config):
            config = {**config, "momentum": 0.5}  # a placeholder that makes the slots
        self.optimizer = cls.from_config(config)
        self.optimizer.build(self.variables)
        if _variable_momentum(cls, config):
            self.momentum = _Momentum()
            self.optimizer.momentum = self.momentum
        self.best = [tf.Variable(tf.zeros_like(v)) for v in self.variables]
        self.best_value = tf.Variable(tf.constant(np.inf, F64))
        self.since_best = tf.Variable(0)
        self.compiled = set()  # the shapes XLA has compiled the loop for
        signature = [_signature(setup)]
        self.graph = tf.function(self._epochs, input_signature=signature)
        self.xla = tf.function(
            self._epochs, input_signature=signature, jit_compile=True
        )
        # Each trainer traces its loop once per mode, but TensorFlow counts traces
        # per Python function, shared by all trainers, and warns of "retracing"
        # after five setups: a false alarm here, not shown to users.
        self.graph._omit_frequent_tracing_warning = True
        self.xla._omit_frequent_tracing_warning = True

    # -- state -----------------------------------------------------------------
    def reset(self, state: TrainState, config: dict, n_features: int):
        """Start from ``state``: its weights, its optimizer variables (or fresh
        ones), fresh stopping rules, the config's learning rate and momentum."""
        pad = self.setup.n_features - n_features
        kernel = np.pad(state.kernel, ((0, pad), (0, 0)))
        weights = self._pack(kernel, state.bias)
        for variable, value in zip(self.variables, weights, strict=True):
            variable.assign(value)
        slots = self._slots()
        values = state.slots
        if values is None:
            values = [np.zeros(v.shape) for v in slots]
        for variable, value in zip(slots, values, strict=True):
            value = np.asarray(value)
            if value.ndim == 2:  # a kernel's slot
                value = np.pad(value, ((0, variable.shape[0] - len(value)), (0, 0)))
            variable.assign(tf.cast(value, variable.dtype))
        if _rate_varies(config):
            self.optimizer.learning_rate = float(config["learning_rate"])
        if self.momentum is not None:
            self.momentum.variable.assign(float(config["momentum"]))
        self.best_value.assign(np.inf)
        self.since_best.assign(0)

    def _pack(self, kernel, bias):
        return [kernel] + ([bias] if self.setup.fit_intercept else [])

    def _slots(self):
        """The optimizer's variables but its learning rate: iterations, moments."""
        return [
            v for v in self.optimizer.variables if not v.name.endswith("learning_rate")
        ]

    def state(self, n_features: int, epoch: int, best: bool) -> TrainState:
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
    def _mean_loss(self, loss, X, Y, sw):
        """Per-target, sample-weighted mean loss of the residuals."""
        point = loss.pointwise(Y - self.dense(X), ops)
        mean = tf.reduce_sum(sw[:, None] * point, 0) / tf.maximum(
            tf.reduce_sum(sw), tf.constant(1e-300, F64)
        )
        return tf.ensure_shape(mean, [self.setup.n_targets])

    def _loss_and_grads(self, a, X, Y, sw):
        """The reported loss per target, and the gradients of the smooth part of
        the objective (the trained loss plus the L2 penalty)."""
        trained, reported = self._losses(a)
        with tf.GradientTape() as tape:
            value = self._mean_loss(trained, X, Y, sw)
            objective = tf.reduce_sum(value) + tf.reduce_sum(
                0.5 * a["l2"] * self.variables[0] ** 2
            )
        grads = tape.gradient(objective, self.variables)
        if self.setup.reported is not self.setup.loss:
            value = self._mean_loss(reported, X, Y, sw)
        return value, grads

    def _losses(self, a):
        return self.setup.loss(**a["loss"]), self.setup.reported(**a["reported"])

    def _step(self, grads, l1):
        """One optimizer update (with the sign constraint, if any), then the L1
        penalty's proximal step. Its threshold is the learning rate times the
        strength, stretched by 1 / (1 - momentum) as SGD's momentum stretches each
        step at a fixed point."""
        self.optimizer.apply_gradients(zip(grads, self.variables, strict=True))
        threshold = tf.cast(self.optimizer.learning_rate, F64) * l1
        if self.momentum is not None:
            threshold = threshold / (1.0 - self.momentum.variable)
        kernel = self.variables[0]
        kernel.assign(tf.sign(kernel) * tf.maximum(tf.abs(kernel) - threshold, 0.0))

    # -- stopping rules -------------------------------------------------------------
    def _subgradient(self, grads, a):
        """Per target, the size of the smallest subgradient of the objective (L1
        penalty and sign constraint included)."""
        g = grads[0]
        at_zero = tf.sign(g) * tf.maximum(tf.abs(g) - a["l1"], 0.0)
        if self.setup.positive:  # held at 0 by the constraint: optimal if g >= -l1
            at_zero = tf.minimum(g + a["l1"], 0.0)
        kernel = self.variables[0]
        g = tf.where(kernel == 0, at_zero, g + a["l1"] * tf.sign(kernel))
        squares = tf.reduce_sum(g**2, 0)
        if self.setup.fit_intercept:
            squares = squares + grads[1] ** 2
        return tf.ensure_shape(tf.sqrt(squares), [self.setup.n_targets])

    def _curvature_now(self, a):
        """Per target, the smallest curvature of the objective at the current
        weights: the trained loss's curvature per row (its inliers') over the data,
        the bias direction and the L2 penalty included."""
        trained, _ = self._losses(a)
        X, sw, l2 = a["X"], a["sw"], a["l2"]
        weight = sw[:, None] * trained.curvature(a["Y"] - self.dense(X), ops)
        weight = weight / tf.reduce_sum(sw)
        padded = (1.0 - a["mask"])[:, None] * a["lipschitz"]  # no padded direction
        if self.setup.fit_intercept:
            X = tf.concat([X, tf.ones_like(X[:, :1])], 1)
            l2 = tf.concat([l2, tf.zeros_like(l2[:1])], 0)
            padded = tf.concat([padded, tf.zeros_like(padded[:1])], 0)
        gram = tf.einsum("ni,nt,nj->tij", X, weight, X)
        gram = gram + tf.linalg.diag(tf.transpose(l2 + padded))
        return tf.maximum(tf.linalg.eigvalsh(gram)[:, 0], 0.0)

    def _converged(self, gradient, a):
        """Each target's coefficients are within ``tol`` relative of their optimum,
        by the bound ‖∂‖ / λ on their distance to it (∂ the smallest subgradient, of
        size ``gradient``; λ the objective's smallest curvature). Relative to the
        smallest coefficient that is at least ``tol`` times the largest, so that
        small coefficients are as exact as large ones.

        λ is first taken over the whole data (exact for the squared loss, an upper
        bound for the others), then, once that bound holds, over the rows where the
        loss is curved now."""
        tol = a["tol"]
        size = tf.abs(self.variables[0])
        largest = tf.reduce_max(size, 0)
        counted = tf.where(size >= tol * largest, size, tf.cast(np.inf, F64))
        limit = tol * tf.reduce_min(counted, 0)
        trained, _ = self._losses(a)
        strong = a["strong"] * trained.lipschitz(ops)
        cheap = tf.reduce_all(gradient / strong <= limit)
        if self.setup.loss.constant_curvature:
            return cheap
        # the curvature near the optimum is only that of the inliers: worth
        # computing once the cheap bound holds
        return tf.cond(
            cheap,
            lambda: tf.reduce_all(gradient / self._curvature_now(a) <= limit),
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
        loss, grads = self._loss_and_grads(a, a["X"], a["Y"], a["sw"])
        gradient = self._subgradient(grads, a)
        done = (a["tol"] >= 0) & self._converged(gradient, a)
        self._step(grads, a["l1"])
        return loss, done, gradient

    def _batched_epoch(self, a, epoch):
        """Mini-batches of a fixed size, in a new order each epoch (padding rows
        last, masked out of the last batch)."""
        n, size = a["n"], self.setup.batch_size
        rows = tf.shape(a["X"])[0]
        order = tf.range(rows)
        keys = tf.random.stateless_uniform(
            [rows], seed=a["seed"] + [0, epoch], dtype=F64
        )
        keys = tf.where((order < n) & a["shuffle"], keys, tf.cast(order, F64) + 2.0)
        order = tf.argsort(keys)
        offsets = tf.range(size)

        def step(start, total):
            position = start + offsets
            idx = tf.gather(order, tf.minimum(position, rows - 1))
            sw = tf.gather(a["sw"], idx) * tf.cast(position < n, F64)
            X, Y = tf.gather(a["X"], idx), tf.gather(a["Y"], idx)
            part, grads = self._loss_and_grads(a, X, Y, sw)
            self._step(grads, a["l1"])
            return start + size, total + part * tf.reduce_sum(sw)

        total = tf.zeros([self.setup.n_targets], F64)
        _, total = tf.while_loop(lambda start, _: start < n, step, [0, total])

        def test():  # the convergence test takes a full-batch gradient
            _, grads = self._loss_and_grads(a, a["X"], a["Y"], a["sw"])
            gradient = self._subgradient(grads, a)
            return self._converged(gradient, a), gradient

        def skip():
            return tf.constant(False), tf.fill(
                [self.setup.n_targets], tf.constant(np.nan, F64)
            )

        done, gradient = tf.cond(a["tol"] >= 0, test, skip)
        return total / tf.reduce_sum(a["sw"]), done, gradient

    def _epochs(self, a):
        """Run up to ``max_epochs`` epochs, or until a stopping rule holds: the
        convergence test (when ``tol >= 0``) held ``patience`` epochs in a row
        (``streak`` counts on from a previous call); with early stopping, the
        validation loss not improved for ``patience`` epochs; a loss not finite."""
        run_epoch = (
            self._full_epoch if self.setup.batch_size is None else self._batched_epoch
        )
        n_targets = self.setup.n_targets
        tol = tf.maximum(a["tol"], 0.0)
        _, reported = self._losses(a)

        def body(epoch, streak, losses, val_losses, gradient, finite):
            loss, done, gradient = run_epoch(a, a["first"] + epoch)
            if self.setup.validate:
                val = self._mean_loss(reported, a["X_val"], a["Y_val"], a["sw_val"])
                val_losses = val_losses.write(epoch, val)
                if self.setup.early_stopping:
                    self._record(tf.reduce_sum(val), tol)
            finite = tf.reduce_all(tf.math.is_finite(loss))
            streak = tf.where(done, streak + 1, 0)
            return (
                epoch + 1,
                streak,
                losses.write(epoch, loss),
                val_losses,
                gradient,
                finite,
            )

        def going(epoch, streak, losses, val_losses, gradient, finite):
            going = (epoch < a["max_epochs"]) & (streak < a["patience"]) & finite
            if self.setup.early_stopping:
                going = going & (self.since_best < a["patience"])
            return going

        def record():
            return tf.TensorArray(F64, size=_CAPACITY, element_shape=[n_targets])

        start = [0, a["streak"], record(), record(), tf.zeros([n_targets], F64), True]
        epoch, streak, losses, val_losses, gradient, finite = tf.while_loop(
            going, body, start
        )
        return epoch, streak, losses.stack(), val_losses.stack(), gradient, finite


def _signature(setup: _Setup):
    matrix = tf.TensorSpec([None, None], F64)
    vector = tf.TensorSpec([None], F64)
    scalar = tf.TensorSpec([], F64)
    count = tf.TensorSpec([], tf.int32)
    params = {
        name: {f.name: vector for f in dataclasses.fields(loss)}
        for name, loss in (("loss", setup.loss), ("reported", setup.reported))
    }
    return {
        "X": matrix,
        "Y": matrix,
        "sw": vector,
        "n": count,
        "X_val": matrix,
        "Y_val": matrix,
        "sw_val": vector,
        "l2": matrix,
        "l1": matrix,
        "mask": vector,
        **params,
        "strong": scalar,
        "lipschitz": scalar,
        "tol": scalar,
        "max_epochs": count,
        "first": count,
        "seed": tf.TensorSpec([2], tf.int32),
        "shuffle": tf.TensorSpec([], tf.bool),
        "streak": count,
        "patience": count,
    }


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
                self.idle.move_to_end(setup)
                return trainers.pop()
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


# -- one fit ------------------------------------------------------------------------
def _padded(array, rows, columns=None):
    """``array`` as float64, zero-padded to ``rows`` (and ``columns``)."""
    pad = [(0, rows - array.shape[0])]
    if array.ndim == 2:
        pad.append((0, (columns or array.shape[1]) - array.shape[1]))
    return tf.constant(np.pad(np.asarray(array, dtype=np.float64), pad), F64)


def _inputs(data: Rows, validation: Rows | None, objective: Objective, layout: _Layout):
    """The program's inputs that stay the same for the whole fit."""
    n, p = data.X.shape
    P = layout.features
    if validation is None:
        validation = Rows(np.zeros((0, p)), np.zeros((0, data.Y.shape[1])), np.ones(0))
    val_rows = layout.val_rows
    penalty = objective.penalty
    return {
        "X": _padded(data.X, layout.rows, P),
        "Y": _padded(data.Y, layout.rows),
        "sw": _padded(data.sample_weight, layout.rows),
        "n": tf.constant(n),
        "X_val": _padded(validation.X, val_rows, P),
        "Y_val": _padded(validation.Y, val_rows),
        "sw_val": _padded(validation.sample_weight, val_rows),
        "l2": _padded(penalty.l2, P),
        "l1": _padded(penalty.l1, P),
        "mask": _padded(np.ones(p), P),
        "reported": _loss_inputs(objective.loss, data.Y.shape[1]),
    }


def _loss_inputs(loss, n_targets):
    return {
        name: tf.constant(np.broadcast_to(value, n_targets), F64)
        for name, value in parameters(loss).items()
    }


class _Pace:
    """How many epochs the next call runs: about ``_CALL_SECONDS`` of work, learnt
    from the calls so far (a call that compiled a program does not count)."""

    def __init__(self):
        self.epochs = 4

    def update(self, ran, seconds):
        rate = ran / max(seconds, 1e-6)
        self.epochs = int(min(max(rate * _CALL_SECONDS, 1), 4 * self.epochs, _CAPACITY))


def train(
    data: Rows,
    objective: Objective,
    schedule: Schedule,
    stopping: Stopping,
    state: TrainState,
    *,
    validation: Rows | None = None,
    on_epochs: Callable[[int, np.ndarray, np.ndarray | None], None] | None = None,
) -> TrainResult:
    """Train the neuron on standardized ``data``, starting from ``state``.

    ``on_epochs(first, losses, val_losses)`` is called after every call of the
    compiled loop with the epochs it ran (for progress output).
    """
    cls, config = resolve_optimizer(schedule.optimizer)
    n, p = data.X.shape
    n_targets = data.Y.shape[1]
    layout = _Layout.of(n, p, 0 if validation is None else len(validation.X))
    stage_losses = {type(stage.loss) for stage in schedule.stages}
    (trained,) = stage_losses  # one loss type per fit, or a program per stage
    setup = _Setup(
        n_features=layout.features,
        n_targets=n_targets,
        fit_intercept=objective.fit_intercept,
        positive=objective.penalty.positive,
        optimizer=_path_of(cls),
        config=_frozen_config(cls, config),
        loss=trained,
        reported=type(objective.loss),
        batch_size=schedule.batch_size if (schedule.batch_size or n) < n else None,
        validate=validation is not None,
        early_stopping=stopping.early_stopping,
    )
    inputs = _inputs(data, validation, objective, layout)
    inputs.update(
        strong=tf.constant(stopping.strong, F64),
        lipschitz=tf.constant(stopping.lipschitz, F64),
        seed=tf.constant([schedule.seed, 0]),
        shuffle=tf.constant(bool(schedule.shuffle)),
        patience=tf.constant(stopping.patience),
    )
    trainer = _pool.checkout(setup, lambda: _Trainer(setup, cls, config))
    try:
        trainer.reset(state, config, p)
        run = _Run(trainer, inputs, layout, state.epoch, on_epochs)
        for stage in schedule.stages:
            if _rate_varies(config):
                rate = config["learning_rate"] * stage.step_scale
                trainer.optimizer.learning_rate = rate
            run.stage(stage, stopping)
            if run.stop in (Stop.EARLY_STOPPED, Stop.NOT_FINITE):
                break
        best = stopping.early_stopping and run.stop is not Stop.NOT_FINITE
        return TrainResult(
            state=trainer.state(p, state.epoch + run.epoch, best=best),
            optimizer=OptimizerSpec(_path_of(cls), config),
            losses=np.concatenate(run.losses),
            val_losses=None if validation is None else np.concatenate(run.val_losses),
            stop=run.stop,
            gradient=run.gradient,
        )
    finally:
        _pool.checkin(trainer)


class _Run:
    """The epochs of one fit, in calls of the compiled loop."""

    def __init__(self, trainer, inputs, layout, first, on_epochs):
        self.trainer, self.inputs, self.layout = trainer, inputs, layout
        self.first, self.on_epochs = first, on_epochs
        size = trainer.setup.batch_size
        steps = 1 if size is None else -(-int(inputs["n"]) // size)
        self.graph_epochs = math.ceil(_GRAPH_STEPS / steps) if layout.xla else math.inf
        self.epoch, self.losses, self.val_losses = 0, [], []
        self.stop, self.gradient = Stop.MAX_EPOCHS, None
        self.pace = _Pace()

    def stage(self, stage: Stage, stopping: Stopping):
        """Train one stage: until its tolerance holds, its budget or the whole
        fit's runs out, or training must stop."""
        n_targets = self.inputs["Y"].shape[1]
        inputs = {
            **self.inputs,
            "loss": _loss_inputs(stage.loss, n_targets),
            "tol": tf.constant(-1.0 if stage.tol is None else stage.tol, F64),
        }
        streak = tf.constant(0)
        end = min(self.epoch + stage.epochs, stopping.max_epochs)
        self.stop = Stop.MAX_EPOCHS
        while self.epoch < end and self.stop is Stop.MAX_EPOCHS:
            streak, finite = self._call(inputs, streak, end)
            if not finite:
                self.stop = Stop.NOT_FINITE
            elif int(streak) >= stopping.patience:
                self.stop = Stop.CONVERGED
            elif stopping.early_stopping and (
                int(self.trainer.since_best) >= stopping.patience
            ):
                self.stop = Stop.EARLY_STOPPED

    def _call(self, inputs, streak, end):
        """One call of the compiled loop: graph mode for the first epochs of a fit,
        then XLA (where the layout allows it)."""
        graph = self.epoch < self.graph_epochs
        count = min(
            self.pace.epochs,
            (min(end, self.graph_epochs) if graph else end) - self.epoch,
        )
        shape = (self.layout.rows, self.layout.val_rows)
        compiling = not graph and shape not in self.trainer.compiled
        program = self.trainer.graph if graph else self.trainer.xla
        started = time.perf_counter()
        ran, streak, losses, val_losses, gradient, finite = program(
            {
                **inputs,
                "streak": streak,
                "max_epochs": tf.constant(count),
                "first": tf.constant(self.first + self.epoch),
            }
        )
        ran = int(ran)
        if compiling:
            self.trainer.compiled.add(shape)
        else:
            self.pace.update(ran, time.perf_counter() - started)
        self.losses.append(losses.numpy()[:ran])
        self.val_losses.append(val_losses.numpy()[:ran])
        self.gradient = gradient.numpy()
        if self.on_epochs is not None:
            self.on_epochs(
                self.first + self.epoch, self.losses[-1], self.val_losses[-1]
            )
        self.epoch += ran
        return streak, bool(finite)
