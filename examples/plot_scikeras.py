"""
====================================
The same neuron in scikeras
====================================

scikeras' ``KerasRegressor`` turns a function that builds a Keras model into a
scikit-learn regressor. skneuron's ``neuron_model`` is such a function: it builds
the model :class:`~skneuron.NeuronRegressor` trains, one ``Dense`` unit per target
named ``"neuron"``, with weights that start at zero. This example trains it both
ways on the same data and compares the coefficients, the training loss and the
time taken.

It needs scikeras (``pip install skneuron[scikeras]``).
"""

# %%
# Data: two features on different scales
# --------------------------------------
# 200 samples, ``x1`` uniform on [0, 10) and ``x2`` uniform on [-1, 1), and
# ``y = 1.5 x1 - 2 x2 + 1`` plus Gaussian noise. The exact least-squares answer,
# from :func:`numpy.linalg.lstsq`, is the reference.
import time

import matplotlib.pyplot as plt
import numpy as np
from scikeras.wrappers import KerasRegressor

from skneuron import NeuronRegressor, neuron_model

rng = np.random.default_rng(0)
n = 200
X = np.column_stack([rng.uniform(0, 10, n), rng.uniform(-1, 1, n)])
y = X @ [1.5, -2.0] + 1.0 + rng.normal(0.0, 1.0, n)

design = np.column_stack([X, np.ones(n)])
exact = np.linalg.lstsq(design, y, rcond=None)[0]  # slope 1, slope 2, intercept
exact_mse = np.mean((design @ exact - y) ** 2)

# %%
# NeuronRegressor
# ---------------
# The default estimator, fitted twice: the first fit of its kind in a process
# builds the compiled training program, and later fits reuse it.
start = time.perf_counter()
neuron = NeuronRegressor().fit(X, y)
neuron_first = time.perf_counter() - start
start = time.perf_counter()
NeuronRegressor().fit(X, y)
neuron_again = time.perf_counter() - start

# %%
# KerasRegressor with the same neuron
# -----------------------------------
# ``model=neuron_model`` is the function itself, not a call: scikeras calls it in
# ``fit`` with the number of features and targets it found in the data. The
# optimizer and its learning rate are KerasRegressor's own parameters, routed as
# ``optimizer__learning_rate``. With KerasRegressor's default ``loss=None``,
# ``neuron_model`` compiles the model with mean squared error.
#
# The recipe is the tutorials' Adam with rate 0.1, full batch (``batch_size=-1``:
# every epoch is one step on all 200 samples) and a fixed 60 epochs, to keep this
# example short. ``fit_intercept`` and ``positive`` would be set the same way, as
# ``model__fit_intercept`` and ``model__positive``.
keras_reg = KerasRegressor(
    model=neuron_model,
    optimizer="adam",
    optimizer__learning_rate=0.1,
    epochs=60,
    batch_size=-1,
    verbose=0,
)
start = time.perf_counter()
keras_reg.fit(X, y)
keras_time = time.perf_counter() - start

kernel, bias = keras_reg.model_.get_layer("neuron").get_weights()
print(keras_reg.model_.get_layer("neuron"), kernel.dtype)

# %%
# Coefficients and time
# ---------------------
# The relative error is the largest of ``|a - b| / |b|`` over the two slopes and
# the intercept, against ``lstsq``.
results = {
    "lstsq": exact,
    "NeuronRegressor": np.append(neuron.coef_, neuron.intercept_),
    "KerasRegressor": np.append(kernel[:, 0], bias[0]).astype(float),
}
print(f"{'':<16} {'slope 1':>9} {'slope 2':>9} {'intercept':>9} {'rel. error':>10}")
for name, coef in results.items():
    error = np.max(np.abs(coef - exact) / np.abs(exact))
    print(f"{name:<16} {coef[0]:9.5f} {coef[1]:9.5f} {coef[2]:9.5f} {error:10.1e}")
print(
    f"fit time: NeuronRegressor {neuron_first:.2f} s (first), {neuron_again:.3f} s "
    f"(again, {neuron.n_iter_} epochs); KerasRegressor {keras_time:.2f} s "
    f"({keras_reg.current_epoch} epochs)"
)

# %%
# NeuronRegressor stops by itself once its coefficients are within ``tol`` of the
# optimum; it trains on standardized data in float64 and runs all its epochs in
# one compiled TensorFlow program. KerasRegressor trains on the data as given, in
# float32, for exactly ``epochs`` epochs, and Keras returns to Python after every
# epoch (scikeras adds a little on top), which is most of its fit time here. After 60
# full-batch Adam steps its loss is still swinging around the minimum, and the
# coefficients are off by up to about 25 % (the intercept, which is tied to the
# large-valued ``x1``, most). More epochs get closer; the :doc:`/scikeras` page
# has measurements with the tutorials' 200 epochs.
#
# Training loss
# -------------
# Both estimators record the mean squared error of every epoch in
# ``history_["loss"]``. Plotted is how far it is above the least-squares
# minimum (floored at 1e-10, about where float32 rounding starts).
fig, (ax_loss, ax_coef) = plt.subplots(1, 2, figsize=(10, 4))
for name, history, color in [
    ("NeuronRegressor", neuron.history_["loss"], "tab:blue"),
    ("KerasRegressor", keras_reg.history_["loss"], "tab:orange"),
]:
    excess = np.maximum(np.asarray(history) - exact_mse, 1e-10)
    epochs = np.arange(1, len(excess) + 1)
    ax_loss.plot(epochs, excess, marker=".", color=color, label=name)
ax_loss.set(
    xlabel="epoch",
    ylabel="training MSE - least-squares MSE",
    yscale="log",
    title="Training loss",
)
ax_loss.legend()

labels = ["slope 1", "slope 2", "intercept"]
colors = {"lstsq": "0.6", "NeuronRegressor": "tab:blue", "KerasRegressor": "tab:orange"}
width = 0.27
for i, (name, coef) in enumerate(results.items()):
    position = np.arange(3) + (i - 1) * width
    ax_coef.bar(position, coef, width, color=colors[name], label=name)
ax_coef.set_xticks(np.arange(3), labels)
ax_coef.axhline(0, color="0.3", linewidth=0.8)
ax_coef.set(title="Coefficients", ylim=(-2.3, 2.3))
ax_coef.legend(loc="upper center", ncols=3, fontsize="small")
fig.tight_layout()

plt.show()
