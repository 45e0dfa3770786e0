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
    momentum = 1 - 2.0 ** (-max(steps, 0) / 4)
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
    """A Keras neuron, a Keras optimizer and the traced loop that trains it."""

    def __init__(
        self, n_features, n_targets, fit_intercept, positive, cls, config, batched
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
        matrix = tf.TensorSpec([None, None], tf.float64)
        vector = tf.TensorSpec([None], tf.float64)
        scalar = tf.TensorSpec([], tf.float64)
        count = tf.TensorSpec([], tf.int32)
        self._run = tf.function(
            self._epochs,
            input_signature=[
                matrix,
                matrix,
                vector,
                vector,
                matrix,
                count,
                count,
                tf.TensorSpec([2], tf.int32),
                tf.TensorSpec([], tf.bool),
                scalar,
                scalar,
                count,
                count,
            ],
        )

    # -- state -----------------------------------------------------------------
    def reset(self, kernel, bias, learning_rate):
        weights = [kernel] + (
            [bias] if len(self.model.trainable_variables) == 2 else []
        )
        for variable, value in zip(
            self.model.trainable_variables, weights, strict=True
        ):
            variable.assign(value)
        for variable in self.optimizer.variables:
            if not variable.name.endswith("learning_rate"):
                variable.assign(tf.zeros_like(variable))
        if learning_rate is not None:
            self.optimizer.learning_rate = learning_rate

    def weights(self):
        kernel = self.model.trainable_variables[0].numpy()
        bias = (
            self.model.trainable_variables[1].numpy()
            if len(self.model.trainable_variables) == 2
            else np.zeros(kernel.shape[1])
        )
        return kernel, bias

    # -- the traced loop -------------------------------------------------------
    def _loss_and_grads(self, X, Y, sw, l2):
        """Per-target weighted half mean squared error, and the gradients of the
        objective: that error plus the L2 penalty ``l2 / 2 * kernel**2``."""
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            residual = Y - self.model(X)
            per_target = (
                0.5 * tf.reduce_sum(sw[:, None] * residual**2, 0) / tf.reduce_sum(sw)
            )
            penalty = 0.5 * tf.reduce_sum(l2[:, None] * variables[0] ** 2)
            total = tf.reduce_sum(per_target) + penalty
        return per_target, tape.gradient(total, variables)

    def _shrink(self, l1):
        """The L1 penalty's proximal step: soft-threshold by learning rate × ``l1``."""
        kernel = self.model.trainable_variables[0]
        step = tf.cast(self.optimizer.learning_rate, tf.float64) * l1
        # SGD's momentum stretches each step by 1 / (1 - momentum) at a fixed point
        step = step / (1.0 - getattr(self.optimizer, "momentum", 0.0))
        kernel.assign(tf.sign(kernel) * tf.maximum(tf.abs(kernel) - step, 0.0))

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

    def _converged(self, grads, strong, tol, l1):
        """Each target's coefficients are within ``tol`` relative of their optimum.

        Relative to the smallest coefficient that is at least ``tol`` times the
        largest, so that small coefficients are as exact as large ones.
        """
        size = tf.abs(self.model.trainable_variables[0])
        largest = tf.reduce_max(size, 0)
        counted = tf.where(size >= tol * largest, size, tf.cast(np.inf, size.dtype))
        smallest = tf.reduce_min(counted, 0)
        bound = self._distance_bound(grads, strong, l1)
        return tf.reduce_all(bound <= tol * smallest)

    def _epochs(
        self,
        X,
        Y,
        sw,
        l2,
        l1,
        max_epochs,
        batch_size,
        seed,
        shuffle,
        tol,
        strong,
        streak,
        patience,
    ):
        """Run up to ``max_epochs`` epochs; stop once converged ``patience`` times."""
        n = tf.shape(X)[0]
        variables = self.model.trainable_variables
        check = tol >= 0
        n_targets = tf.shape(Y)[1]

        def epoch_full(epoch):
            per_target, grads = self._loss_and_grads(X, Y, sw, l2)
            done = check & self._converged(grads, strong, tol, l1)
            self.optimizer.apply_gradients(zip(grads, variables, strict=True))
            self._shrink(l1)
            return per_target, done

        def epoch_batched(epoch):
            order = tf.range(n)
            if shuffle:
                order = tf.argsort(
                    tf.random.stateless_uniform([n], seed=seed + tf.stack([0, epoch]))
                )

            def step(start, total):
                idx = order[start : start + batch_size]
                part, grads = self._loss_and_grads(
                    tf.gather(X, idx), tf.gather(Y, idx), tf.gather(sw, idx), l2
                )
                self.optimizer.apply_gradients(zip(grads, variables, strict=True))
                self._shrink(l1)
                return start + batch_size, total + part * tf.reduce_sum(
                    tf.gather(sw, idx)
                )

            _, total = tf.while_loop(
                lambda start, total: start < n,
                step,
                [tf.constant(0), tf.zeros([n_targets], tf.float64)],
            )
            _, grads = self._loss_and_grads(X, Y, sw, l2)
            done = check & self._converged(grads, strong, tol, l1)
            return total / tf.reduce_sum(sw), done

        run_epoch = epoch_batched if self.batched else epoch_full

        def body(epoch, streak, losses, finite):
            per_target, done = run_epoch(epoch)
            finite = tf.reduce_all(tf.math.is_finite(per_target))
            streak = tf.where(done, streak + 1, 0)
            return epoch + 1, streak, losses.write(epoch, per_target), finite

        def keep_going(epoch, streak, losses, finite):
            return (epoch < max_epochs) & (streak < patience) & finite

        epoch, streak, losses, finite = tf.while_loop(
            keep_going,
            body,
            [
                tf.constant(0),
                streak,
                tf.TensorArray(tf.float64, size=0, dynamic_size=True),
                tf.constant(True),
            ],
        )
        return epoch, streak, losses.stack(), finite


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


def train(
    X,
    Y,
    sample_weight,
    *,
    l2,
    l1,
    kernel,
    bias,
    fit_intercept,
    positive,
    optimizer,
    learning_rate,
    epochs,
    batch_size,
    shuffle,
    tol,
    n_iter_no_change,
    seed,
    on_epochs=None,
    chunk=None,
):
    """Train the neuron on standardized data, starting from ``kernel`` and ``bias``.

    ``l2`` (per coefficient) and ``l1`` (per coefficient and target) are the penalty
    strengths on the standardized problem.

    Returns the trained kernel and bias, the per-epoch, per-target half mean squared
    error, whether the convergence criterion was met, and whether the loss stayed
    finite. ``on_epochs(first, losses)`` is called after each chunk of epochs (for
    progress output); without it all epochs run in one call.
    """
    n_samples, n_features = X.shape
    n_targets = Y.shape[1]
    batched = batch_size is not None and batch_size < n_samples
    lipschitz, strong = curvature(X, sample_weight, fit_intercept, l2)
    cls, config = resolve_optimizer(optimizer, learning_rate)
    momentum_key = None
    lr = config.get("learning_rate")
    if (
        learning_rate == "auto"
        and cls is keras.optimizers.SGD
        and not isinstance(optimizer, keras.optimizers.Optimizer)
    ):
        if batched:  # a step on one sample must not overshoot: 1 / max ‖x_i‖²
            rows = (X**2).sum(1) + fit_intercept + l2.max()
            lr, config["momentum"] = 1.0 / rows.max(), 0.0
        else:
            lr, config["momentum"] = heavy_ball(lipschitz, strong)
        momentum_key = config["momentum"]
    key = (
        n_features,
        n_targets,
        fit_intercept,
        positive,
        cls,
        _freeze(config),
        batched,
        momentum_key,
    )
    trainer = _checkout(
        key,
        lambda: _Trainer(
            n_features, n_targets, fit_intercept, positive, cls, config, batched
        ),
    )
    try:
        trainer.reset(kernel, bias, lr if isinstance(lr, float) else None)
        args = (
            tf.constant(X, tf.float64),
            tf.constant(Y, tf.float64),
            tf.constant(sample_weight, tf.float64),
            tf.constant(l2, tf.float64),
            tf.constant(l1, tf.float64),
        )
        batch = tf.constant(int(batch_size) if batched else n_samples, tf.int32)
        tol_t = tf.constant(-1.0 if tol is None else tol, tf.float64)
        strong_t = tf.constant(strong, tf.float64)
        patience = tf.constant(n_iter_no_change, tf.int32)
        streak = tf.constant(0, tf.int32)
        losses, done, finite, epoch = [], False, True, 0
        step = chunk or epochs
        while epoch < epochs:
            seed_t = tf.constant([seed, epoch], tf.int32)
            ran, streak, chunk_losses, finite = trainer._run(
                *args,
                tf.constant(min(step, epochs - epoch), tf.int32),
                batch,
                seed_t,
                tf.constant(bool(shuffle)),
                tol_t,
                strong_t,
                streak,
                patience,
            )
            chunk_losses = chunk_losses.numpy().reshape(-1, n_targets)
            losses.append(chunk_losses)
            if on_epochs is not None:
                on_epochs(epoch, chunk_losses)
            epoch += int(ran)
            done = int(streak) >= n_iter_no_change
            finite = bool(finite)
            if done or not finite:
                break
        kernel, bias = trainer.weights()
    finally:
        _checkin(key, trainer)
    losses = np.concatenate(losses) if losses else np.zeros((0, n_targets))
    return kernel, bias, losses, done, finite
