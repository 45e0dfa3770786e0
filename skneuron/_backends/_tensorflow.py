"""The engine's adapter for Keras on TensorFlow.

The loop is a ``tf.function``, traced once per trainer for graph mode and once for
XLA (``jit_compile=True``), which compiles it per input shape. TensorFlow's C++
runtime writes notices and log lines to stderr, which this module keeps off it.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading

name = "tensorflow"
two_modes = True
static_shapes = False


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


quiet = _HiddenLogs()


def _import():
    """Keras and TensorFlow, started with their notices kept off stderr."""
    if "tensorflow" in sys.modules:
        with quiet():
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
    return keras, tf


# TensorFlow started before skneuron, without TF_CPP_MIN_LOG_LEVEL: its C++ logs show
_TF_LOGS_VISIBLE = (
    "tensorflow" in sys.modules and os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") < "2"
)
keras, tf = _import()


def context():
    """Nothing to set per thread on TensorFlow."""
    return contextlib.nullcontext()


class _Exact(float):
    """A float that TensorFlow converts to a float64 tensor exactly. ``tf.cast``
    of a Python float to float64 goes through float32, so Keras' optimizers would
    train with ``beta_1=0.8999999761581421`` (JAX casts it exactly). In all other
    arithmetic it is the float it is; Keras reads its dtype as float64."""

    name = "float64"  # its dtype, for Keras' dtype inference (not weak)

    def __tf_tensor__(self, dtype=None, name=None):
        return tf.constant(float(self), dtype or tf.float64)


def exact(config):
    """An optimizer's config with its floats exact (see :class:`_Exact`)."""
    return {k: _Exact(v) if type(v) is float else v for k, v in config.items()}


def standalone_dtype():
    return "float64"


def constant(value, dtype):
    return tf.constant(value, dtype)


def value_and_grad(f, params):
    """``f(params)``'s second output and the gradient of its first."""
    params = [tf.convert_to_tensor(p) for p in params]
    with tf.GradientTape() as tape:
        tape.watch(params)
        objective, value = f(params)
    # a gather's gradient comes as slices: made dense for the optimizer
    return value, [tf.convert_to_tensor(g) for g in tape.gradient(objective, params)]


def compile(fn, signature, xla):
    """``fn`` traced once for ``signature``: for graph mode, or for XLA."""
    function = tf.function(
        fn, input_signature=[_specs(signature)], jit_compile=xla, autograph=False
    )
    # TensorFlow counts traces per Python function, shared by all trainers,
    # and warns of "retracing" after five setups: a false alarm here.
    function._omit_frequent_tracing_warning = True
    return function.get_concrete_function()


def _specs(signature):
    """The engine's ``(shape, dtype)`` pairs as TensorSpecs (None: any size)."""
    if isinstance(signature, dict):
        return {key: _specs(value) for key, value in signature.items()}
    if isinstance(signature, list):
        return [_specs(value) for value in signature]
    shape, dtype = signature
    return tf.TensorSpec(shape, dtype)


def _one_thread():
    """Run a program's ops one after another on the calling thread: its ops are
    tiny, and handing them to TensorFlow's thread pool costs more than they do.

    Only for programs without nested control flow (``flat``). This executor cannot
    lower a ``tf.cond`` or an inner ``tf.while_loop`` into the graph; it runs each
    as a function call that blocks a thread of TensorFlow's inter-op pool while the
    nested function waits for another. With as many callers as the pool has threads
    (its default: one per core), every thread waits and none runs: a deadlock. The
    default executor lowers control flow and never blocks a pool thread, so any
    number of callers can run at once.
    """
    return tf.experimental.function_executor_type("SINGLE_THREADED_EXECUTOR")


def executor(flat, xla):
    """The executor for a call of a program: XLA's own, or in graph mode the
    single-threaded one where the program is flat (else TensorFlow's default)."""
    if xla or not flat:
        return contextlib.nullcontext()
    return _one_thread()


def assign(variables, values):
    """Set the Keras variables to ``values``, between calls of a program. Keras'
    optimizers on TensorFlow update variables (they have no stateless update), so
    the variables hold the trained values, from one call to the next, and every
    step's values are read back from them."""
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


def start(variables, values):
    """The values a program starts from: the variables' (``values`` are theirs).
    A program never sets them at its start: a compile call (which runs no epoch)
    may run beside a call that trains."""
    return _read(variables)


def apply(optimizer, variables, grads, params, opt):
    """The optimizer's update of ``variables`` (which hold ``params``, its own
    variables ``opt``): the new values of both."""
    optimizer.apply(grads, variables)
    return _read(variables), _read(optimizer.variables)


def store(variables, values):
    """Set ``variables`` to ``values`` (changed after the optimizer's update),
    inside a program."""
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)
    return values


def _read(variables):
    return [tf.convert_to_tensor(variable.value) for variable in variables]


def record(size, n_targets):
    return tf.TensorArray(tf.float64, size=size, element_shape=[n_targets])


def write(record, index, value):
    return record.write(index, value)


def stack(record):
    return record.stack()


def positive_definite(matrices):
    """Per matrix of the batch, whether its Cholesky factor is finite."""
    factor = tf.linalg.cholesky(matrices)
    return tf.reduce_all(tf.math.is_finite(factor), axis=[1, 2])
