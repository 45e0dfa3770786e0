"""The engine's adapter for Keras on JAX.

The loop is ``jax.jit`` over ``lax.while_loop`` (through ``keras.ops``), compiled by
XLA once per input shape. JAX computes in float32 unless 64-bit values are enabled;
the engine enables them only while it runs (:func:`context`, per thread), so the
rest of the process keeps JAX's defaults.
"""

from __future__ import annotations

import contextlib

import jax
import jax.numpy as jnp
import keras

name = "jax"
two_modes = False
static_shapes = True


def context():
    """64-bit values for the engine's arrays and programs, in this thread."""
    if hasattr(jax, "enable_x64"):  # the configuration's own context manager
        return jax.enable_x64(True)
    from jax.experimental import enable_x64  # older JAX

    return enable_x64(True)


def quiet():
    return contextlib.nullcontext()


def exact(config):
    """The config: JAX casts Python floats exactly."""
    return config


def standalone_dtype():
    """float64 in JAX's 64-bit mode (``JAX_ENABLE_X64=1``), else float32: a
    standalone model is used outside the engine, where JAX has no float64."""
    return "float64" if jax.config.jax_enable_x64 else "float32"


def constant(value, dtype):
    return jnp.asarray(value, dtype)


def value_and_grad(f, params):
    """``f(params)``'s second output and the gradient of its first."""
    (_, value), grads = jax.value_and_grad(f, has_aux=True)(list(params))
    return value, grads


def compile(fn, signature, xla):
    """``fn`` compiled by XLA on its first call for each input shape. A call
    returns once its work is done: JAX dispatches work and returns at once, and
    the engine's calls must end where they are waited for (an interrupted call
    runs to its end before the process may exit, see skneuron._keras)."""
    jitted = jax.jit(fn)
    return lambda *args: jax.block_until_ready(jitted(*args))


def executor(flat, xla):
    return contextlib.nullcontext()


def assign(variables, values):
    """Nothing: JAX trains statelessly, on values."""


def start(variables, values):
    return values


def apply(optimizer, variables, grads, params, opt):
    """The optimizer's update, stateless: the new ``params`` and ``opt``."""
    return optimizer.stateless_apply(opt, grads, params)


def store(variables, values):
    return values


def record(size, n_targets):
    return jnp.zeros((size, n_targets), jnp.float64)


def write(record, index, value):
    return record.at[index].set(value)


def stack(record):
    return record


def positive_definite(matrices):
    """Per matrix of the batch, whether its Cholesky factor is finite (JAX's is
    NaN where a matrix is not positive definite; Keras' own op raises instead)."""
    factor = jnp.linalg.cholesky(matrices)
    return jnp.all(jnp.isfinite(factor), axis=(1, 2))


__all__ = ["keras"]
