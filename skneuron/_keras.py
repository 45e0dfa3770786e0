"""Keras side of NeuronRegressor: the Dense neuron, its optimizer and training loop.

Imported lazily by ``NeuronRegressor.fit`` so that ``import skneuron`` does not start
TensorFlow. Everything here works on the *preconditioned* problem: the estimator hands
over standardized X and y (tutorial 4's recipe) and maps the trained weights back to
the user's units itself.

Training runs many epochs per call of one ``tf.function`` (a ``tf.while_loop`` over
epochs, and over mini-batches inside each epoch), so Python is not visited per step.
Traced trainers are kept in a small pool keyed by everything that is baked into the
trace, so repeated fits of the same shape (clones, CV folds, grid searches) reuse the
graph instead of tracing it again.
"""

import contextlib
import importlib
import os
import sys
import threading
from collections import OrderedDict

import numpy as np


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


if "tensorflow" in sys.modules:
    import keras
    import tensorflow as tf
else:
    # Warnings TensorFlow logs while tracing float64 graphs are C++ log lines too.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _quiet_stderr():
        import keras
        import tensorflow as tf

        tf.config.list_physical_devices()  # the CUDA probe, while stderr is hidden

DTYPE = "float64"
_POOL_SIZE = 16
_pool: "OrderedDict[tuple, list[_Trainer]]" = OrderedDict()
_pool_lock = threading.Lock()


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


def resolve_optimizer(optimizer, learning_rate):
    """Class and config (without learning rate) of the optimizer a fit starts from."""
    named = {"name": "neuron_optimizer"}  # an explicit name bumps no Keras counter
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
        cls = optimizer
        config = cls(**named).get_config()
    elif isinstance(optimizer, keras.optimizers.Optimizer):
        cls = type(optimizer)
        config = {**optimizer.get_config(), **named}
    else:
        raise TypeError(
            "optimizer must be a Keras optimizer name, class or instance; "
            f"got {optimizer!r}."
        )
    if learning_rate != "auto":
        config["learning_rate"] = float(learning_rate)
    return cls, config


def class_from_path(path):
    """The class at ``"module:qualname"`` (how a fitted estimator stores its
    optimizer's class, so that unpickling it does not import Keras)."""
    module, _, qualname = path.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def curvature(X, sample_weight, fit_intercept, l2):
    """Extreme eigenvalues of the Hessian of the standardized squared loss.

    ``l2`` is the per-coefficient strength of the L2 penalty, which adds to the
    Hessian's diagonal.
    They only set the step size (and SGD's momentum); the weights themselves come
    from the optimizer's updates. Eigenvalues below 1e-10 of the largest belong to
    collinear directions that gradient descent never moves along from zero.
    """
    Xw = X * np.sqrt(sample_weight / sample_weight.sum())[:, None]
    eig = np.linalg.eigvalsh(Xw.T @ Xw + np.diag(l2))
    if fit_intercept:  # centred data: the bias direction has curvature exactly 1
        eig = np.append(eig, 1.0)
    top = eig.max()
    if top <= 0:
        return 1.0, 1.0
    return float(top), float(eig[eig > 1e-10 * top].min())


def heavy_ball(lipschitz, strong):
    """Polyak's step size and momentum for a quadratic with these curvature bounds.

    The momentum is rounded up to a coarse grid (1 - momentum a power of 2**-1/4):
    that keeps the convergence rate within 20 % of the optimum and lets fits on
    similar data share one traced graph, since Keras' SGD bakes momentum into it.
    """
    kappa = lipschitz / strong
    momentum = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
    steps = np.ceil(-4 * np.log2(max(1 - momentum, 1e-12)) - 1e-9)
    # a float32 value: Keras' SGD casts its momentum through float32, and the L1
    # step's threshold must use exactly the momentum the updates use
    momentum = float(np.float32(1 - 2.0 ** (-max(steps, 0) / 4)))
    learning_rate = 4 / (np.sqrt(lipschitz) + np.sqrt(strong)) ** 2
    return float(learning_rate), float(momentum)


def _freeze(config):
    """Hashable form of an optimizer config; a float learning rate is not traced."""
    lr = config.get("learning_rate")
    return tuple(
        sorted(
            (k, repr(v))
            for k, v in config.items()
            if not (k == "learning_rate" and isinstance(lr, float))
        )
    )


class _Trainer:
    """A Keras neuron, a Keras optimizer and the traced loop that trains it.

    Besides the model and optimizer it keeps the state of early stopping (the best
    validation loss, the weights that reached it, the epochs since) in variables,
    so that training may be split into several calls.

    With ``smooth`` (the absolute error under the automatic step) the loss trained
    is the absolute error smoothed within ``epsilon`` (Huber's loss divided by
    ``epsilon``); :func:`train` shrinks ``epsilon`` stage by stage.
    """

    def __init__(
        self,
        n_features,
        n_targets,
        fit_intercept,
        positive,
        cls,
        config,
        batched,
        loss,
        smooth,
        validate,
        early_stopping,
    ):
        self.model = build_neuron(
            n_features,
            n_targets,
            fit_intercept=fit_intercept,
            positive=positive,
            dtype=DTYPE,
        )
        self.optimizer = cls.from_config(config)
        self.optimizer.build(self.model.trainable_variables)
        self.positive = positive
        self.batched = batched
        self.loss = loss
        self.smooth = smooth
        self.validate = validate
        self.early_stopping = early_stopping
        self.best_weights = [
            tf.Variable(tf.zeros_like(v)) for v in self.model.trainable_variables
        ]
        self.best_value = tf.Variable(tf.constant(np.inf, tf.float64))
        self.since_best = tf.Variable(0)
        matrix = tf.TensorSpec([None, None], tf.float64)
        vector = tf.TensorSpec([None], tf.float64)
        scalar = tf.TensorSpec([], tf.float64)
        count = tf.TensorSpec([], tf.int32)
        flag = tf.TensorSpec([], tf.bool)
        self._run = tf.function(
            self._epochs,
            input_signature=[
                {
                    "X": matrix,
                    "Y": matrix,
                    "sw": vector,
                    "X_val": matrix,
                    "Y_val": matrix,
                    "sw_val": vector,
                    "l2": matrix,
                    "l1": matrix,
                    "epsilon": vector,
                    "strong": scalar,
                    "tol": scalar,
                    "max_epochs": count,
                    "batch_size": count,
                    "seed": tf.TensorSpec([2], tf.int32),
                    "shuffle": flag,
                    "streak": count,
                    "patience": count,
                }
            ],
        )
        # Each trainer traces its loop once (the signature is fixed), but TensorFlow
        # counts traces per Python function, shared by all trainers, and warns of
        # "retracing" after five setups: a false alarm here, not shown to users.
        self._run._omit_frequent_tracing_warning = True

    # -- state -----------------------------------------------------------------
    def reset(self, kernel, bias, learning_rate, optimizer_state=None):
        """Set the weights, a fresh (or the given) optimizer state, fresh stopping
        rules, and the learning rate when one is given."""
        for variable, value in zip(
            self.model.trainable_variables, self._pack(kernel, bias), strict=True
        ):
            variable.assign(value)
        slots = self._slots()
        if optimizer_state is None:
            optimizer_state = [np.zeros(v.shape) for v in slots]
        for variable, value in zip(slots, optimizer_state, strict=True):
            variable.assign(tf.cast(value, variable.dtype))
        if learning_rate is not None:
            self.optimizer.learning_rate = learning_rate
        self.best_value.assign(np.inf)
        self.since_best.assign(0)

    def _pack(self, kernel, bias):
        return [kernel] + ([bias] if len(self.model.trainable_variables) == 2 else [])

    def _slots(self):
        """The optimizer's state: its iteration count and moment estimates."""
        return [
            v for v in self.optimizer.variables if not v.name.endswith("learning_rate")
        ]

    def optimizer_state(self):
        return [v.numpy() for v in self._slots()]

    def weights(self, best=False):
        values = self.best_weights if best else self.model.trainable_variables
        kernel = values[0].numpy()
        bias = values[1].numpy() if len(values) == 2 else np.zeros(kernel.shape[1])
        return kernel, bias

    # -- the objective -----------------------------------------------------------
    def _data_loss(self, X, Y, sw, epsilon, loss=None):
        """Per-target weighted mean loss of the residuals (standardized units)."""
        residual = Y - self.model(X)
        loss = loss or self.loss
        if loss == "squared_error":
            point = 0.5 * residual**2
        elif loss == "absolute_error":
            point = tf.abs(residual)
        else:  # huber: quadratic inside epsilon, linear outside
            size = tf.abs(residual)
            point = tf.where(
                size <= epsilon,
                0.5 * residual**2,
                epsilon * size - 0.5 * epsilon**2,
            )
        return tf.reduce_sum(sw[:, None] * point, 0) / tf.maximum(
            tf.reduce_sum(sw), tf.constant(1e-300, tf.float64)
        )

    def _loss_and_grads(self, X, Y, sw, l2, epsilon):
        """Per-target data loss, and the gradients of the objective's smooth part:
        the loss trained plus the L2 penalty (the L1 part is a proximal step)."""
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            if self.smooth:
                trained = self._data_loss(X, Y, sw, epsilon, "huber") / epsilon
            else:
                trained = self._data_loss(X, Y, sw, epsilon)
            objective = tf.reduce_sum(trained) + 0.5 * tf.reduce_sum(
                l2 * variables[0] ** 2
            )
        grads = tape.gradient(objective, variables)
        per_target = self._data_loss(X, Y, sw, epsilon) if self.smooth else trained
        return per_target, grads

    def _step(self, grads, l1, scale):
        """One optimizer update, then the L1 penalty's proximal step."""
        variables = self.model.trainable_variables
        self.optimizer.apply_gradients(
            zip([g * scale for g in grads], variables, strict=True)
        )
        kernel = variables[0]
        step = self._threshold(l1 * scale)
        kernel.assign(tf.sign(kernel) * tf.maximum(tf.abs(kernel) - step, 0.0))

    def _threshold(self, l1):
        """The soft-threshold of the L1 penalty's proximal step: learning rate ×
        strength, stretched by 1 / (1 - momentum) as SGD's momentum stretches
        each step at a fixed point."""
        step = tf.cast(self.optimizer.learning_rate, tf.float64) * l1
        return step / (1.0 - getattr(self.optimizer, "momentum", 0.0))

    # -- stopping rules --------------------------------------------------------
    def _distance_bound(self, grads, strong, l1):
        """Per target: bound ‖∂‖/λ_min on the distance of its weights to the optimum,
        with ∂ the smallest subgradient of the objective (L1 penalty and the
        non-negativity constraint included)."""
        kernel = self.model.trainable_variables[0]
        g = grads[0]
        at_zero = tf.sign(g) * tf.maximum(tf.abs(g) - l1, 0.0)
        if self.positive:  # held at 0 by the constraint is optimal while g >= -l1
            at_zero = tf.minimum(g + l1, 0.0)
        g = tf.where(kernel == 0, at_zero, g + l1 * tf.sign(kernel))
        sq = tf.reduce_sum(g**2, 0)
        if len(grads) == 2:
            sq = sq + grads[1] ** 2
        return tf.sqrt(sq) / strong

    def _inlier_curvature(self, X, Y, sw, l2, epsilon):
        """Huber: per target, the smallest curvature of the loss where it is now
        quadratic (the samples within epsilon), bias direction included."""
        inside = tf.cast(tf.abs(Y - self.model(X)) <= epsilon, tf.float64)
        weight = sw[:, None] * inside / tf.reduce_sum(sw)
        if len(self.model.trainable_variables) == 2:
            X = tf.concat([X, tf.ones_like(X[:, :1])], 1)
            l2 = tf.concat([l2, tf.zeros_like(l2[:1])], 0)
        gram = tf.einsum("ni,nt,nj->tij", X, weight, X) + tf.linalg.diag(
            tf.transpose(l2)
        )
        return tf.maximum(tf.linalg.eigvalsh(gram)[:, 0], 0.0)

    def _converged(self, grads, a):
        """Each target's coefficients are within ``tol`` relative of their optimum.

        Relative to the smallest coefficient that is at least ``tol`` times the
        largest, so that small coefficients are as exact as large ones.
        """
        tol, l1, l2, eps = a["tol"], a["l1"], a["l2"], a["epsilon"]
        if self.loss == "absolute_error":
            if not self.smooth:  # no gradient vanishes at a kink
                return tf.constant(False)
            # the smoothed loss is Huber's divided by epsilon: judge Huber's
            grads = [g * eps[0] for g in grads]
            l1, l2 = l1 * eps[0], l2 * eps[0]
        size = tf.abs(self.model.trainable_variables[0])
        largest = tf.reduce_max(size, 0)
        counted = tf.where(size >= tol * largest, size, tf.cast(np.inf, size.dtype))
        limit = tol * tf.reduce_min(counted, 0)
        bound = self._distance_bound(grads, a["strong"], l1)
        if self.loss == "squared_error":
            return tf.reduce_all(bound <= limit)
        # Huber's curvature near the optimum is only that of its inliers (smaller
        # than the whole data's): worth computing once the cheap bound holds.
        return tf.cond(
            tf.reduce_all(bound <= limit),
            lambda: tf.reduce_all(
                bound
                * a["strong"]
                / self._inlier_curvature(a["X"], a["Y"], a["sw"], l2, eps)
                <= limit
            ),
            lambda: tf.constant(False),
        )

    def _record(self, value, tol):
        """Keep the weights with the best validation loss; count epochs since."""
        improved = (value < self.best_value) & (
            self.best_value - value > tol * tf.abs(value)
        )
        for best, variable in zip(
            self.best_weights, self.model.trainable_variables, strict=True
        ):
            best.assign(tf.where(improved, variable, best))
        self.best_value.assign(tf.where(improved, value, self.best_value))
        self.since_best.assign(tf.where(improved, 0, self.since_best + 1))

    # -- the traced loop -------------------------------------------------------
    def _epochs(self, a):
        """Run up to ``max_epochs`` epochs, or until a stopping rule holds.

        Stopping rules: the convergence test (when ``tol >= 0``) held ``patience``
        epochs in a row (``streak`` counts them on from a previous call); with
        ``early_stopping``, the validation loss not improved for ``patience`` epochs.
        """
        X, Y, sw, l2, l1, eps = a["X"], a["Y"], a["sw"], a["l2"], a["l1"], a["epsilon"]
        n = tf.shape(X)[0]
        tol = tf.maximum(a["tol"], 0.0)
        # the smoothed absolute error is Huber's / epsilon: steps made for Huber's
        scale = eps[0] if self.smooth else tf.constant(1.0, tf.float64)

        def converged(grads):
            return (a["tol"] >= 0) & self._converged(grads, a)

        def epoch_full(epoch):
            per_target, grads = self._loss_and_grads(X, Y, sw, l2, eps)
            done = converged(grads)
            self._step(grads, l1, scale)
            return per_target, done

        def epoch_batched(epoch):
            order = tf.range(n)
            if a["shuffle"]:
                uniform = tf.random.stateless_uniform(
                    [n], seed=a["seed"] + tf.stack([0, epoch])
                )
                order = tf.argsort(uniform)
            batch_size = a["batch_size"]

            def step(start, total):
                idx = order[start : start + batch_size]
                part_sw = tf.gather(sw, idx)
                part, grads = self._loss_and_grads(
                    tf.gather(X, idx), tf.gather(Y, idx), part_sw, l2, eps
                )
                self._step(grads, l1, scale)
                return start + batch_size, total + part * tf.reduce_sum(part_sw)

            _, total = tf.while_loop(
                lambda start, total: start < n,
                step,
                [tf.constant(0), tf.zeros([tf.shape(Y)[1]], tf.float64)],
            )
            _, grads = self._loss_and_grads(X, Y, sw, l2, eps)
            return total / tf.reduce_sum(sw), converged(grads)

        run_epoch = epoch_batched if self.batched else epoch_full

        def body(epoch, streak, losses, val_losses, finite):
            per_target, done = run_epoch(epoch)
            if self.validate:
                val = self._data_loss(a["X_val"], a["Y_val"], a["sw_val"], eps)
                val_losses = val_losses.write(epoch, val)
                if self.early_stopping:
                    self._record(tf.reduce_sum(val), tol)
            finite = tf.reduce_all(tf.math.is_finite(per_target))
            streak = tf.where(done, streak + 1, 0)
            return (
                epoch + 1,
                streak,
                losses.write(epoch, per_target),
                val_losses,
                finite,
            )

        def keep_going(epoch, streak, losses, val_losses, finite):
            going = (epoch < a["max_epochs"]) & (streak < a["patience"]) & finite
            if self.early_stopping:
                going = going & (self.since_best < a["patience"])
            return going

        def array():
            return tf.TensorArray(tf.float64, size=0, dynamic_size=True)

        epoch, streak, losses, val_losses, finite = tf.while_loop(
            keep_going,
            body,
            [tf.constant(0), a["streak"], array(), array(), tf.constant(True)],
        )
        val_losses = (
            val_losses.stack() if self.validate else tf.zeros([0, 0], tf.float64)
        )
        return epoch, streak, losses.stack(), val_losses, finite


def _checkout(key, make):
    with _pool_lock:
        idle = _pool.get(key)
        if idle:
            _pool.move_to_end(key)
            return idle.pop()
    return make()


def _checkin(key, trainer):
    with _pool_lock:
        _pool.setdefault(key, []).append(trainer)
        _pool.move_to_end(key)
        while sum(len(v) for v in _pool.values()) > _POOL_SIZE:
            oldest = next(iter(_pool))
            _pool[oldest].pop(0)
            if not _pool[oldest]:
                del _pool[oldest]


def schedule(
    X, sample_weight, *, fit_intercept, l2, loss, optimizer, learning_rate, batched
):
    """Optimizer class and config for a fit, whether the absolute error is smoothed,
    and the smallest curvature of the standardized problem.

    With ``learning_rate="auto"`` Keras' SGD gets Polyak's heavy-ball step and
    momentum (full batch) or a step no sample can overshoot with (mini-batches).
    """
    lipschitz, strong = curvature(X, sample_weight, fit_intercept, l2.max(1))
    cls, config = resolve_optimizer(optimizer, learning_rate)
    automatic = (
        learning_rate == "auto"
        and cls is keras.optimizers.SGD
        and not isinstance(optimizer, keras.optimizers.Optimizer)
    )
    if automatic:
        if batched:  # a step on one sample must not overshoot: 1 / max ‖x_i‖²
            rows = (X**2).sum(1) + fit_intercept + l2.max()
            config["learning_rate"], config["momentum"] = 1.0 / rows.max(), 0.0
        else:
            config["learning_rate"], config["momentum"] = heavy_ball(lipschitz, strong)
    return cls, config, automatic and loss == "absolute_error", strong


def _stages(tol, epochs):
    """Smoothing thresholds for the absolute error and each one's tolerance and
    epoch budget: from 1 down to ``tol`` (standardized units of y) by half-decades
    (shorter steps than decades made the whole path about twice as fast)."""
    if tol is None:  # exactly `epochs` epochs, shared by the stages down to 1e-8
        n = 17
        budgets = [epochs // n + (k < epochs % n) for k in range(n)]
        return [(10 ** (-k / 2), None, budget) for k, budget in enumerate(budgets)]
    n = max(1, int(np.ceil(-2 * np.log10(max(tol, 1e-15)) - 1e-9))) + 1
    # a stage's answer is only O(epsilon) from the final one: solve it that well
    return [(10 ** (-k / 2), max(tol, 10 ** (-k / 2)), epochs) for k in range(n)]


def train(
    X,
    Y,
    sample_weight,
    *,
    validation,
    l2,
    l1,
    epsilon,
    kernel,
    bias,
    fit_intercept,
    positive,
    loss,
    cls,
    config,
    smooth,
    strong,
    epochs,
    batch_size,
    shuffle,
    tol,
    n_iter_no_change,
    early_stopping,
    seed,
    first_epoch=0,
    optimizer_state=None,
    on_epochs=None,
    chunk=None,
):
    """Train the neuron on standardized data, starting from ``kernel`` and ``bias``.

    ``validation`` is ``(X, Y, sample_weight)`` of held-out rows or None. ``l2`` and
    ``l1`` (per coefficient and target) are the penalty strengths and ``epsilon``
    (per target) Huber's threshold, all on the standardized problem. ``cls``,
    ``config``, ``smooth`` and ``strong`` come from :func:`schedule`.

    Returns a dict: the trained ``kernel`` and ``bias``, the per-epoch, per-target
    training ``losses`` and ``val_losses`` (standardized units), whether the
    convergence test held (``converged``) or early stopping ended training
    (``early_stopped``), whether the loss stayed ``finite``, and the
    ``optimizer_state`` to continue from. ``on_epochs(first, losses, val_losses)``
    is called after each chunk of epochs (for progress output); without it each
    stage runs in one call.
    """
    n_samples, n_features = X.shape
    n_targets = Y.shape[1]
    batched = batch_size is not None and batch_size < n_samples
    lr = config.get("learning_rate")
    setup = {
        "n_features": n_features,
        "n_targets": n_targets,
        "fit_intercept": fit_intercept,
        "positive": positive,
        "cls": cls,
        "config": config,
        "batched": batched,
        "loss": loss,
        "smooth": smooth,
        "validate": validation is not None,
        "early_stopping": early_stopping,
    }
    # everything that is baked into the trace (a float learning rate is not)
    key = tuple(_freeze(v) if k == "config" else v for k, v in setup.items())
    trainer = _checkout(key, lambda: _Trainer(**setup))
    if validation is None:
        validation = (np.zeros((0, n_features)), np.zeros((0, n_targets)), np.ones(0))
    f64 = tf.float64
    args = {
        "X": tf.constant(X, f64),
        "Y": tf.constant(Y, f64),
        "sw": tf.constant(sample_weight, f64),
        "X_val": tf.constant(validation[0], f64),
        "Y_val": tf.constant(validation[1], f64),
        "sw_val": tf.constant(validation[2], f64),
        "l2": tf.constant(l2, f64),
        "l1": tf.constant(l1, f64),
        "strong": tf.constant(strong, f64),
        "batch_size": tf.constant(int(batch_size) if batched else n_samples),
        "shuffle": tf.constant(bool(shuffle)),
        "patience": tf.constant(n_iter_no_change),
    }
    if not smooth:
        stages = [(epsilon, tol, epochs)]
    elif first_epoch:  # partial_fit: the smoothing shrinks with the passes made
        stages = [(max((first_epoch + 1) ** -0.5, 1e-8), None, epochs)]
    else:
        stages = _stages(tol, epochs)
    losses, val_losses, epoch = [], [], 0
    finite, converged, stopped = True, False, False
    try:
        trainer.reset(
            kernel, bias, lr if isinstance(lr, float) else None, optimizer_state
        )
        for eps, stage_tol, budget in stages:
            args["epsilon"] = tf.constant(np.broadcast_to(eps, n_targets), f64)
            args["tol"] = tf.constant(-1.0 if stage_tol is None else stage_tol, f64)
            streak = tf.constant(0)
            end = min(epoch + budget, epochs)
            while epoch < end:
                step = min(chunk or end, end - epoch)
                ran, streak, chunk_losses, chunk_val, finite = trainer._run(
                    {
                        **args,
                        "streak": streak,
                        "max_epochs": tf.constant(step),
                        "seed": tf.constant([seed, first_epoch + epoch]),
                    }
                )
                chunk_losses = chunk_losses.numpy().reshape(-1, n_targets)
                losses.append(chunk_losses)
                val_losses.append(chunk_val.numpy().reshape(-1, n_targets))
                if on_epochs is not None:
                    on_epochs(epoch, chunk_losses, val_losses[-1])
                epoch += int(ran)
                finite = bool(finite)
                converged = int(streak) >= n_iter_no_change
                stopped = early_stopping and (
                    int(trainer.since_best) >= n_iter_no_change
                )
                if converged or stopped or not finite:
                    break
            if stopped or not finite:
                break
        kernel, bias = trainer.weights(best=early_stopping)
        return {
            "kernel": kernel,
            "bias": bias,
            "losses": np.concatenate(losses),
            "val_losses": np.concatenate(val_losses),
            "converged": converged,
            "early_stopped": stopped,
            "finite": finite,
            "optimizer_state": trainer.optimizer_state(),
        }
    finally:
        _checkin(key, trainer)
