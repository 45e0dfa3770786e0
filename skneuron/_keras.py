"""The training engine: a Keras Dense neuron, a Keras optimizer, a compiled loop.

One entry, :func:`train`: specs flow down (the data, the objective, the schedule,
the stopping rules, the state to start from) and one :class:`TrainResult` flows
back. Imported lazily by the estimator, so ``import skneuron`` does not start
Keras; it knows nothing of scikit-learn.

Written once against ``keras.ops``, for every backend skneuron trains on
(TensorFlow, JAX); what differs between them (the gradient, the compile, the loss
record) is in a small adapter per backend, :mod:`skneuron._backends`. The neuron's
weights and the optimizer's variables are the loop's values, passed in and handed
back by each call: the neuron is called statelessly (``Model.stateless_call``), and
the optimizer steps statelessly on JAX (``Optimizer.stateless_apply``); on
TensorFlow, whose optimizers update variables only, its adapter keeps the values in
the variables and reads them back after each step.

How it runs:

- Every epoch of a call runs inside one compiled program (a while loop over
  epochs, and over mini-batches inside each), which also evaluates the stopping
  rules. Programs are kept in a small pool, keyed by what is baked into them
  (features, targets, loss, optimizer, batch size...); every number that varies
  between fits (learning rate, momentum, penalties, tolerances, Huber's epsilon)
  is an input, so grid searches reuse one program.
- Small problems are padded, rows with zero-weight rows and features with zero
  columns (whose weights stay exactly zero), to a few bucketed sizes. On
  TensorFlow, after the first ``_GRAPH_STEPS`` steps of a fit, those run compiled
  by XLA
  (``jit_compile=True``), which takes a few microseconds per step where TensorFlow's
  graph executor takes tens; fits that end sooner never pay XLA's compile time.
  Large problems, which are memory-bound, run in graph mode unpadded. On JAX,
  every program is compiled by XLA (``jax.jit``) from its first call.
- A call returns to Python after about ``_CALL_SECONDS`` of work, so an interrupt
  (Ctrl-C) is acted on quickly and progress can be shown.
"""

from __future__ import annotations

import atexit
import collections
import concurrent.futures
import dataclasses
import functools
import importlib
import math
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from skneuron import _backends
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

backend = _backends.load()
keras = backend.keras
ops = keras.ops

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
    with backend.context():  # JAX: float64 weights
        return _build_neuron(n_features, n_targets, fit_intercept, positive, dtype)


def _build_neuron(n_features, n_targets, fit_intercept, positive, dtype):
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


def standalone_dtype() -> str:
    """The dtype of a standalone neuron (``model_``): float64, where the backend
    computes in it outside the engine (TensorFlow; JAX in its 64-bit mode)."""
    return backend.standalone_dtype()


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
    with warnings.catch_warnings():  # Keras' own, reading its variable on JAX
        warnings.filterwarnings(
            "ignore", "__array__ implementation", DeprecationWarning
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
    """SGD's momentum as an input of the program, so that fits with different
    momenta (the automatic step's) share one program.

    Keras' SGD reads its ``momentum`` as a Python number (``momentum != 0`` says
    whether it keeps velocities) and converts it to a tensor in its update; this
    answers the first as a non-zero number does and converts to ``value``, the
    program's input, set while the program is traced.
    """

    def __init__(self):
        self.value = None

    def __eq__(self, other):
        return False

    def __ne__(self, other):
        return True

    __hash__ = object.__hash__

    def __tf_tensor__(self, dtype=None, name=None):
        return self.value if dtype is None else keras.ops.cast(self.value, dtype)

    def __jax_array__(self):
        return self.value


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
        condition around the curvature test): TensorFlow's single-threaded executor
        runs only those."""
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
@dataclass
class _Values:
    """The values a program trains, passed in and handed back by each call: the
    neuron's weights, the optimizer's variables, and the state of early stopping
    (the best validation loss, the weights that reached it, the epochs since)."""

    params: list
    opt: list
    best: list
    best_value: object
    since_best: object

    def tree(self) -> dict:
        """As a dict (the loops' and compilers' nested structure)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


class _Trainer:
    """A Keras neuron, a Keras optimizer and the loop that trains them, compiled.

    The neuron and the optimizer are built once, for their variables' shapes and
    Keras' own update rules; training runs them statelessly on :class:`_Values`,
    so that training may be split into several calls.
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
        self.variables = self.model.trainable_variables
        self.momentum = _Momentum() if _variable_momentum(cls, config) else None
        if self.momentum is not None:
            config = {**config, "momentum": 0.5}  # a placeholder that makes the slots
        with backend.context():
            self.optimizer = cls.from_config(backend.exact(config))
            self.optimizer.build(self.variables)
        if self.momentum is not None:
            self.optimizer.momentum = self.momentum
        # a fresh optimizer's variables (Adagrad's and Ftrl's accumulators start
        # at their initial_accumulator_value, not at zero)
        self.fresh = [
            np.asarray(ops.convert_to_tensor(v)) for v in self.optimizer.variables
        ]
        self.values: _Values | None = None
        self.programs = {}  # "graph" and "xla" (or "jit"): the loop, each mode's
        self.compiling = {}  # layout -> the compile's future
        self.compiled = set()  # layouts XLA compiled the loop for
        self.ran = set()  # the (mode, layout)s called so far

    # -- programs ---------------------------------------------------------------
    def program(self, xla: bool):
        """The loop for graph mode or for XLA (which compiles it per input shape
        on its first call)."""
        mode = ("xla" if xla else "graph") if backend.two_modes else "jit"
        if mode not in self.programs:

            def loop(a):
                counts[f"{mode} traces"] += 1
                if self.momentum is not None:
                    self.momentum.value = a["momentum"]
                values = dict(a["values"])
                n = len(self.variables)
                start = backend.start(
                    self.variables + self.optimizer.variables,
                    values["params"] + values["opt"],
                )
                values["params"], values["opt"] = start[:n], start[n:]
                return self._epochs(a, values, xla)

            self.programs[mode] = backend.compile(loop, self.signature(), xla)
        return self.programs[mode]

    def signature(self):
        """The loop's inputs, as ``(shape, dtype)`` pairs: shapes are fixed but
        for the number of rows, so that the traced graph knows them."""

        def spec(variables):
            return [(tuple(v.shape), v.dtype) for v in variables]

        values = _Values(
            spec(self.variables),
            spec(self.optimizer.variables),
            spec(self.variables),
            ((), "float64"),
            ((), "int32"),
        )
        return {**_signature(self.setup), "values": values.tree()}

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
            with backend.quiet():
                zero = backend.constant(0, "int32")
                self.program(xla=True)({**inputs, "max_epochs": zero})
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
        ones), the config's learning rate, fresh stopping rules."""
        kernel = _pad_rows(state.kernel, self.setup.n_features)
        params = [kernel] + ([state.bias] if self.setup.fit_intercept else [])
        slots = iter(state.slots or [None] * len(self._slots()))
        opt = []
        for variable, fresh in zip(self.optimizer.variables, self.fresh, strict=True):
            if variable is self._rate():
                value = config["learning_rate"] if _rate_varies(config) else None
            else:
                value = next(slots)
            value = fresh if value is None else np.asarray(value)
            if value.ndim == 2:  # a kernel's slot
                value = _pad_rows(value, self.setup.n_features)
            opt.append(value)

        def cast(values, variables):
            return [
                backend.constant(value, variable.dtype)
                for value, variable in zip(values, variables, strict=True)
            ]

        self.values = _Values(
            cast(params, self.variables),
            cast(opt, self.optimizer.variables),
            cast(params, self.variables),
            backend.constant(np.inf, "float64"),
            backend.constant(0, "int32"),
        )
        backend.assign(
            self.variables + self.optimizer.variables,
            self.values.params + self.values.opt,
        )

    def set_rate(self, rate: float):
        """The learning rate of the steps to come (a variable of the optimizer's:
        rounded to its dtype, as assigning it rounds)."""
        variable = self._rate()
        index = [v is variable for v in self.optimizer.variables].index(True)
        self.values.opt[index] = backend.constant(rate, variable.dtype)
        backend.assign([variable], [self.values.opt[index]])

    def _rate(self):
        """The optimizer's learning-rate variable (None for a schedule)."""
        rate = self.optimizer._learning_rate
        return rate if any(rate is v for v in self.optimizer.variables) else None

    def _slots(self):
        """The optimizer's variables but its learning rate: iterations, moments."""
        return [v for v in self.optimizer.variables if v is not self._rate()]

    def state(self, n_features: int, epoch: int, best: bool) -> TrainState:
        """The weights (the best ones, with early stopping) and optimizer state."""
        values = self.values.best if best else self.values.params
        kernel = np.asarray(values[0])[:n_features]
        bias = (
            np.asarray(values[1])
            if self.setup.fit_intercept
            else np.zeros(kernel.shape[1])
        )
        rate = self._rate()
        slots = tuple(
            np.asarray(value)[:n_features]
            if len(value.shape) == 2
            else np.asarray(value)
            for value, variable in zip(
                self.values.opt, self.optimizer.variables, strict=True
            )
            if variable is not rate
        )
        return TrainState(kernel, bias, slots, epoch)

    # -- the objective ------------------------------------------------------------
    def _bias(self, params):
        if self.setup.fit_intercept:
            return params[1]
        return ops.zeros([self.setup.n_targets], "float64")

    def _predict(self, params, part):
        """The neuron's output on the rows of ``part``: the Keras model's on dense
        rows; on packed sparse rows, its kernel's rows gathered for the values
        stored, summed, plus its bias."""
        if not self.setup.packed:
            return self.model.stateless_call(params, [], part["X"])[0]
        kernel = ops.take(params[0], part["columns"], axis=0)  # (rows, slots, t)
        return ops.einsum("nk,nkt->nt", part["values"], kernel) + self._bias(params)

    def _mean_loss(self, loss, part, params):
        """Per target, the sample-weighted mean loss over the rows of ``part``
        (rows, or their sums: then the loss is the squared error)."""
        if self.setup.sums:
            sums = Gram(**part, weight=1.0, count=0)
            return sums.half_mean_squares(params[0], self._bias(params), ops)
        point = loss.pointwise(part["Y"] - self._predict(params, part), ops)
        return ops.sum(part["sw"][:, None] * point, 0) / ops.maximum(
            ops.sum(part["sw"]), 1e-300
        )

    def _losses(self, a):
        """The loss trained (this stage's) and the loss reported (the objective's)."""
        return self.setup.loss(**a["loss"]), self.setup.reported(**a["reported"])

    def _loss_and_grads(self, a, params, part):
        """The reported loss per target, and the gradients of the smooth part of
        the objective (the trained loss plus the L2 penalty)."""
        trained, reported = self._losses(a)

        def objective(params):
            value = self._mean_loss(trained, part, params)
            penalty = self._penalty(a).smooth_value(params[0], ops)
            return ops.sum(value + penalty), value

        value, grads = backend.value_and_grad(objective, params)
        if self.setup.reported is not self.setup.loss:
            value = self._mean_loss(reported, part, params)
        elif self.setup.sums:  # rounding may leave a perfect fit's loss below zero
            value = ops.maximum(value, 0.0)
        return value, grads

    def _step(self, params, opt, grads, a):
        """One optimizer update (with the sign constraint, if any), then the L1
        penalty's proximal step. Its threshold is the learning rate times the
        strength, stretched by 1 / (1 - momentum) as SGD's momentum stretches each
        step at a fixed point."""
        params, opt = backend.apply(self.optimizer, self.variables, grads, params, opt)
        if not self.setup.l1:
            return params, opt
        mapping = list(zip(self.optimizer.variables, opt, strict=True))
        with keras.StatelessScope(state_mapping=mapping):
            step = ops.cast(self.optimizer.learning_rate, "float64")
        if self.momentum is not None:
            step = step / (1.0 - a["momentum"])
        kernel = Penalty(None, a["l1"]).prox(params[0], step, ops)
        return backend.store(self.variables, [kernel, *params[1:]]), opt

    # -- stopping rules -------------------------------------------------------------
    def _subgradient(self, grads, params, a):
        """Per target, the size of the smallest subgradient of the objective (L1
        penalty and sign constraint included); and per coefficient, whether it
        is held at zero by them (at zero, with nothing to move it)."""
        g = grads[0]
        held = ops.zeros_like(g, dtype="bool")
        if self.setup.l1 or self.setup.positive:
            g = self._penalty(a).min_subgradient(g, params[0], ops)
            held = (params[0] == 0) & (g == 0)
        squares = ops.sum(g**2, 0)
        if self.setup.fit_intercept:
            squares = squares + grads[1] ** 2
        return ops.sqrt(squares), held

    def _penalty(self, a):
        return Penalty(a["l2"], a["l1"], self.setup.positive)

    def _curved_enough(self, a, params, needed, held):
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
            train["Y"] - self._predict(params, train), ops
        )
        weight = ops.transpose(weight / ops.sum(train["sw"]))  # (targets, rows)
        free = a["mask"][:, None] * (1.0 - ops.cast(held, "float64"))  # (p, targets)
        diagonal = a["l2"] - needed
        if self.setup.fit_intercept:
            diagonal = ops.concatenate([diagonal, -needed[None]], 0)
            free = ops.concatenate([free, ops.ones_like(free[:1])], 0)
        curvature = self._weighted_gram(train, weight)
        curvature = curvature + _diagonals(ops.transpose(diagonal))
        free = ops.transpose(free)  # (targets, features)
        curvature = curvature * free[:, :, None] * free[:, None, :]
        curvature = curvature + _diagonals(1.0 - free)  # left out: curvature 1
        return backend.positive_definite(curvature)

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
            X = ops.concatenate([X, ops.ones_like(X[:, :1])], 1)
        weighted = X[None] * weight[:, :, None]  # (targets, rows, features)
        return ops.einsum("tni,nj->tij", weighted, X)

    def _converged(self, gradient, held, a, params):
        """Each target's coefficients are within ``tol`` relative of their optimum,
        by the bound ‖∂‖ / λ on their distance to it (∂ the smallest subgradient, of
        size ``gradient``; λ the objective's smallest curvature). Relative to the
        smallest coefficient that is at least ``tol`` times the largest, so that
        small coefficients are as exact as large ones.

        λ is first taken over the whole data (exact for the squared loss, an upper
        bound for the others), then, once that bound holds, over the rows where the
        loss is curved now, by testing that it reaches ‖∂‖ / limit."""
        tol = a["tol"]
        size = ops.abs(params[0])
        largest = ops.max(size, 0)
        counted = ops.where(size >= tol * largest, size, np.inf)
        # every coefficient zero (a penalty or a bound holds them there): relative
        # to 1, the size of a coefficient of one standard deviation of y per one
        # of x, as exact zeros cannot be relative to themselves
        reference = ops.where(largest > 0, ops.min(counted, 0), 1.0)
        limit = tol * reference
        trained, _ = self._losses(a)
        strong = a["strong"] * trained.lipschitz(ops)
        # a gradient at the level of its own rounding cannot shrink any more: on
        # badly conditioned problems that is as close as float64 gets
        rounding = 64 * np.finfo(np.float64).eps * np.sqrt(self.setup.n_features)
        norm = ops.sqrt(ops.sum(params[0] ** 2, 0))
        floor = rounding * (a["lipschitz"] * norm + 1.0)
        limit = ops.maximum(limit, floor / strong)
        cheap = ops.all(gradient / strong <= limit)
        if self.setup.loss.constant_curvature:
            return cheap
        return ops.cond(
            cheap,
            lambda: ops.all(self._curved_enough(a, params, gradient / limit, held)),
            lambda: ops.convert_to_tensor(False),
        )

    def _record(self, values, value, tol):
        """Keep the weights with the best validation loss; count epochs since."""
        improved = (value < values.best_value) & (
            values.best_value - value > tol * ops.abs(value)
        )
        return dataclasses.replace(
            values,
            best=[
                ops.where(improved, variable, best)
                for best, variable in zip(values.best, values.params, strict=True)
            ],
            best_value=ops.where(improved, value, values.best_value),
            since_best=ops.where(improved, 0, values.since_best + 1),
        )

    # -- epochs -----------------------------------------------------------------------
    def _full_epoch(self, a, values, epoch):
        params = values.params
        loss, grads = self._loss_and_grads(a, params, a["train"])
        gradient, held = self._subgradient(grads, params, a)
        done = (a["tol"] >= 0) & self._converged(gradient, held, a, params)
        params, opt = self._step(params, values.opt, grads, a)
        return loss, done, gradient, dataclasses.replace(values, params=params, opt=opt)

    def _batched_epoch(self, a, values, epoch):
        """Mini-batches of a fixed size, in a new order each epoch (padding rows
        last, masked out of the last batch)."""
        train, size = a["train"], self.setup.batch_size
        n, rows = train["n"], ops.shape(train["Y"])[0]
        order = ops.arange(rows, dtype="int32")
        keys = _shuffle_keys(order, a["seed"], epoch)
        keys = ops.where(order < n, keys, 1 << 32)  # padding rows last
        order = ops.where(a["shuffle"], ops.cast(ops.argsort(keys), "int32"), order)
        offsets = ops.arange(size, dtype="int32")

        def step(start, total, params, opt):
            position = start + offsets
            idx = ops.take(order, ops.minimum(position, rows - 1))
            batch = {
                key: ops.take(value, idx, axis=0)
                for key, value in train.items()
                if key != "n"
            }
            batch["sw"] = batch["sw"] * ops.cast(position < n, "float64")
            part, grads = self._loss_and_grads(a, params, batch)
            params, opt = self._step(params, opt, grads, a)
            return start + size, total + part * ops.sum(batch["sw"]), params, opt

        total = ops.zeros([self.setup.n_targets], "float64")
        start = [_int(0), total, values.params, values.opt]
        _, total, params, opt = ops.while_loop(lambda start, *_: start < n, step, start)
        values = dataclasses.replace(values, params=params, opt=opt)

        def test():  # the convergence test takes a full-batch gradient
            _, grads = self._loss_and_grads(a, params, train)
            gradient, held = self._subgradient(grads, params, a)
            return self._converged(gradient, held, a, params), gradient

        def skip():
            nan = ops.full([self.setup.n_targets], np.nan, "float64")
            return ops.convert_to_tensor(False), nan

        done, gradient = ops.cond(a["tol"] >= 0, test, skip)
        return total / ops.sum(train["sw"]), done, gradient, values

    def _epochs(self, a, values, xla):
        """Run up to ``max_epochs`` epochs, or until a stopping rule holds: the
        convergence test (when ``tol >= 0``) held ``patience`` epochs in a row
        (``streak`` counts on from a previous call); with early stopping, the
        validation loss not improved for ``patience`` epochs; a loss not finite or
        above ``ceiling`` (divergence).

        The losses are recorded in arrays of ``max_epochs`` elements, or where
        sizes must be known when the loop compiles (XLA), of ``_CAPACITY``."""
        batched = self.setup.batch_size is not None
        run_epoch = self._batched_epoch if batched else self._full_epoch
        n_targets = self.setup.n_targets
        tol = ops.maximum(a["tol"], 0.0)
        _, reported = self._losses(a)

        def body(epoch, streak, losses, val_losses, gradient, sane, values):
            values = _Values(**values)
            loss, done, gradient, values = run_epoch(a, values, a["first"] + epoch)
            if self.setup.validate:
                val = self._mean_loss(reported, a["val"], values.params)
                if self.setup.sums:
                    val = ops.maximum(val, 0.0)
                val_losses = backend.write(val_losses, epoch, val)
                if self.setup.early_stopping:
                    values = self._record(values, ops.sum(val), tol)
            sane = ops.all(ops.isfinite(loss) & (loss <= a["ceiling"]))
            streak = ops.where(done, streak + 1, 0)
            losses = backend.write(losses, epoch, loss)
            return epoch + 1, streak, losses, val_losses, gradient, sane, values.tree()

        def going(epoch, streak, losses, val_losses, gradient, sane, values):
            going = (epoch < a["max_epochs"]) & (streak < a["patience"]) & sane
            if self.setup.early_stopping:
                going = going & (values["since_best"] < a["patience"])
            return going

        def record():
            fixed = xla or backend.static_shapes
            return backend.record(_CAPACITY if fixed else a["max_epochs"], n_targets)

        gradient = ops.zeros([n_targets], "float64")
        start = [_int(0), a["streak"], record(), record(), gradient,
                 ops.convert_to_tensor(True), values]  # fmt: skip
        epoch, streak, losses, val_losses, gradient, sane, values = ops.while_loop(
            going, body, start
        )
        losses, val_losses = backend.stack(losses), backend.stack(val_losses)
        return epoch, streak, losses, val_losses, gradient, sane, values


def _int(value):
    return ops.convert_to_tensor(value, "int32")


def _diagonals(vectors):
    """A batch of diagonal matrices, one per row of ``vectors``."""
    size = vectors.shape[-1]
    return ops.eye(size, dtype="float64")[None] * vectors[:, None, :]


_MASK = (1 << 32) - 1


def _shuffle_keys(order, seed, epoch):
    """A key per row (distinct, below 2**32) whose order is the epoch's shuffle:
    a bijective integer hash of the row, the seed and the epoch, so that every
    backend draws the same order. Products stay below 2**63."""
    mix = ops.cast(seed, "int64") * 0x5BD1E995 + ops.cast(epoch, "int64") * 0x7FEB352D
    x = ops.bitwise_and(ops.cast(order, "int64") * 0x7FEB352D + mix, _MASK)
    for multiplier in (0x5BD1E995, 0x7FEB352D):
        x = ops.bitwise_xor(x, ops.right_shift(x, 16))
        x = ops.bitwise_and(x * multiplier, _MASK)
    return ops.bitwise_xor(x, ops.right_shift(x, 15))


def _signature(setup: _Setup):
    """The loop's inputs but the trained values, as ``(shape, dtype)`` pairs:
    shapes are fixed but for the number of rows (None)."""
    P, T = setup.n_features, setup.n_targets

    def spec(*shape, dtype="float64"):
        return (shape, dtype)

    if setup.sums:
        part = {"xx": spec(P, P), "xy": spec(P, T), "yy": spec(T)}
        part.update(x_mean=spec(P), y_mean=spec(T))
    else:
        part = {"Y": spec(None, T), "sw": spec(None), "n": spec(dtype="int32")}
        if setup.packed:
            slots = spec(None, None, dtype="int32")
            part.update(columns=slots, values=spec(None, None))
        else:
            part.update(X=spec(None, P))
    losses = {
        name: {f.name: spec(T) for f in dataclasses.fields(loss)}
        for name, loss in (("loss", setup.loss), ("reported", setup.reported))
    }
    scalar, count = spec(), spec(dtype="int32")
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
        "momentum": scalar,
        "tol": scalar,
        "max_epochs": count,
        "first": count,
        "seed": spec(dtype="int64"),
        "shuffle": spec(dtype="bool"),
        "streak": count,
        "patience": count,
    }


# -- work in the background, which the exit waits for --------------------------------
class _Background:
    """Threads for the backend's work that a Ctrl-C in the main thread must not wait
    for, and that the interpreter's exit must: cut off inside the backend's C++ by
    the exit (TensorFlow's, XLA's), such work aborts the process.

    Each piece of work runs in a daemon thread of its own and hands its outcome to
    a future, the only thing anyone waits on. A Ctrl-C can land anywhere in
    starting a thread (``Thread.start`` waits for the thread to run), so nothing
    depends on the start having returned: the exit waits for the work that has
    begun (see :meth:`close`), and work that begins after the exit has started
    does nothing. (A thread pool's worker, interrupted in its start, is never told
    to stop, and the exit waits for it forever; a thread's ``join``, interrupted
    in Python 3.11, marks a running thread as stopped, and the exit then does not
    wait for it at all.) The exit also waits for the threads themselves to end:
    a thread whose work has ended still frees the backend's buffers it held (JAX's
    arrays), which cut off by the exit also aborts the process.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.running: set[concurrent.futures.Future] = set()
        self.threads: set[threading.Thread] = set()
        self.closing = False
        self.hooked = False

    def start(self, work: Callable[[], object], name: str) -> concurrent.futures.Future:
        """Run ``work()`` in a thread; its future."""
        future = concurrent.futures.Future()

        def run():
            with self.lock:
                if self.closing:  # the exit has begun: the backend is going away
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

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self.lock:
            if not self.hooked:  # after the backend's import: run before its hooks
                atexit.register(self.close)
                self.hooked = True
            self.threads = {t for t in self.threads if t.is_alive()}
            self.threads.add(thread)  # before it starts: a Ctrl-C may cut the start
        thread.start()
        return future

    def close(self):
        """At exit: let no more work begin, and wait for the work that has (a
        second Ctrl-C does not cut it off)."""
        with self.lock:
            self.closing = True
            running, threads = list(self.running), list(self.threads)
        while True:
            try:
                concurrent.futures.wait(running)
                for thread in threads:  # polled, never joined (see above)
                    while thread.is_alive():
                        time.sleep(0.005)
                return
            except KeyboardInterrupt:
                continue


_background = _Background()


def _interruptible(call):
    """``call()``, from which Ctrl-C returns at once.

    Python acts on a signal only between bytecodes of the main thread, never
    inside a call into the backend (the first run of a program, which is optimized
    or compiled, can take a second). So the main thread hands such calls to a
    background thread and waits for their result, a wait that a signal ends; an
    interrupted call runs on to its end, and its trainer is never reused (see
    :func:`train`). Other threads, which signals never reach, call directly.
    """
    if threading.current_thread() is not threading.main_thread():
        return call()

    def in_context():
        with backend.context():
            return call()

    return _background.start(in_context, "skneuron").result()


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
        ones = ops.ones_like(values[:, :1])
        bias = ops.full(ops.shape(columns[:, :1]), n_features, "int32")
        columns = ops.concatenate([columns, bias], 1)
        values = ops.concatenate([values, ones], 1)
    rows = ops.shape(values)[0]
    cap = max(_BLOCK_VALUES // size, 1)
    block = min(rows, cap) if isinstance(rows, int) else ops.minimum(rows, cap)
    offsets = ops.arange(block, dtype="int32")

    def add(start, total):
        position = start + offsets
        idx = ops.minimum(position, rows - 1)
        cells = ops.take(columns, idx, axis=0) + offsets[:, None] * size
        dense = ops.segment_sum(
            ops.reshape(ops.take(values, idx, axis=0), [-1]),
            ops.reshape(cells, [-1]),
            num_segments=block * size,
        )
        dense = ops.reshape(dense, [block, size])
        w = ops.take(weight, idx, axis=1) * ops.cast(position < rows, "float64")
        weighted = dense[None] * w[:, :, None]  # (targets, block, size)
        return start + block, total + ops.einsum("tbi,bj->tij", weighted, dense)

    total = ops.zeros([weight.shape[0], size, size], "float64")
    _, total = ops.while_loop(lambda start, _: start < rows, add, [_int(0), total])
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
    if array.ndim == 0:
        return backend.constant(array, "float64")
    pad = [(0, (rows or len(array)) - len(array))]
    if array.ndim == 2:
        pad.append((0, (columns or array.shape[1]) - array.shape[1]))
    padded = np.pad(array, pad) if any(p for _, p in pad) else array
    return backend.constant(padded, "float64")


def _part(data, rows, features, slots=0):
    """The program's input for training or held-out ``data``, padded."""
    if isinstance(data, Packed):
        pad = ((0, rows - _count(data)), (0, slots - data.values.shape[1]))
        return {
            "columns": backend.constant(np.pad(data.columns, pad), "int32"),
            "values": _constant(np.pad(data.values, pad)),
            "Y": _constant(data.Y, rows),
            "sw": _constant(data.sample_weight, rows),
            "n": _int(_count(data)),
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
        "n": _int(len(data.X)),
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
        name: _constant(np.broadcast_to(value, n_targets))
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
        "strong": _constant(stopping.strong),
        "ceiling": _constant(stopping.ceiling),
        "lipschitz": _constant(stopping.lipschitz),
        "seed": backend.constant(schedule.seed, "int64"),
        "shuffle": backend.constant(bool(schedule.shuffle), "bool"),
        "patience": _int(stopping.patience),
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
    with backend.context():
        return _train(data, objective, schedule, stopping, state, validation, on_epochs)


def _train(data, objective, schedule, stopping, state, validation, on_epochs):
    cls, config = resolve_optimizer(schedule.optimizer)
    setup, layout = _setup(data, validation, objective, schedule, stopping, cls, config)
    inputs = _inputs(data, validation, objective, schedule, stopping, layout)
    inputs["momentum"] = _constant(
        config["momentum"] if _variable_momentum(cls, config) else 0.0
    )
    trainer = _pool.checkout(setup, lambda: _Trainer(setup, cls, config))
    try:
        trainer.reset(state, config)
        run = _Run(trainer, inputs, layout, state.epoch, on_epochs)
        run.plan(expected_epochs(schedule, stopping))
        for stage in schedule.stages:
            if _rate_varies(config):
                trainer.set_rate(config["learning_rate"] * stage.step_scale)
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
        self.two_modes = layout.xla and backend.two_modes  # graph mode, then XLA
        self.graph_epochs = (
            math.ceil(_GRAPH_STEPS / steps) if self.two_modes else math.inf
        )
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
        if self.two_modes and expected * self.steps >= _GRAPH_STEPS:
            self.graph_epochs = 0

    def stage(self, stage: Stage, stopping: Stopping):
        """Train one stage: until its tolerance holds, its budget or the whole
        fit's runs out, or training must stop."""
        n_targets = self.trainer.setup.n_targets
        inputs = {
            **self.inputs,
            "loss": _loss_inputs(stage.loss, n_targets),
            "tol": _constant(-1.0 if stage.tol is None else stage.tol),
        }
        streak = _int(0)
        end = min(self.epoch + stage.epochs, stopping.max_epochs)
        self.stop = Stop.MAX_EPOCHS
        while self.epoch < end and self.stop is Stop.MAX_EPOCHS:
            streak, sane = self._call(inputs, streak, end)
            if not sane:
                self.stop = Stop.DIVERGED
            elif int(streak) >= stopping.patience:
                self.stop = Stop.CONVERGED
            elif stopping.early_stopping and (
                int(self.trainer.values.since_best) >= stopping.patience
            ):
                self.stop = Stop.EARLY_STOPPED

    def _call(self, inputs, streak, end):
        """One call of the compiled loop: graph mode for the first steps of a fit,
        then XLA (where the layout allows it and it compiled)."""
        inputs = {
            **inputs,
            "streak": streak,
            "first": _int(self.first + self.epoch),
            "values": self.trainer.values.tree(),
        }
        xla = self.epoch >= self.graph_epochs  # XLA's turn (graph mode if it failed)
        if xla:
            self.trainer.compile_soon(inputs, self.layout)
        ready = xla and self.trainer.wait_compiled(self.layout)
        stop = end if xla else min(end, self.graph_epochs)
        count = min(self.pace.epochs, stop - self.epoch)
        fresh = (ready, self.layout) not in self.trainer.ran  # to be traced
        self.trainer.ran.add((ready, self.layout))
        started = time.perf_counter()

        def call():
            with backend.quiet(), backend.executor(self.trainer.setup.flat, ready):
                program = self.trainer.program(ready)
                return program({**inputs, "max_epochs": _int(count)})

        ran, streak, losses, val_losses, gradient, sane, values = _interruptible(call)
        self.trainer.values = _Values(**values)
        ran = int(ran)
        if not fresh:
            self.pace.update(ran, time.perf_counter() - started)
        self.losses.append(np.asarray(losses)[:ran])
        self.val_losses.append(np.asarray(val_losses)[:ran])
        self.gradient = np.asarray(gradient)
        if self.on_epochs is not None:
            self.on_epochs(
                self.first + self.epoch, self.losses[-1], self.val_losses[-1]
            )
        self.epoch += ran
        if self.two_modes and not xla and 2 * self.epoch >= self.graph_epochs:
            self.trainer.compile_soon(inputs, self.layout)  # half way there
        return streak, bool(sane)
