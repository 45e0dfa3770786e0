"""
===========================================
Tutorial 1: one neuron through a noisy line
===========================================

The first tutorial fits a straight line with the smallest network there is: one
Keras ``Dense`` unit, trained with Adam for a fixed number of epochs, whose weight is
the slope and whose bias is the intercept.

In skneuron that recipe is a single estimator. This example runs it next to the
default :class:`~skneuron.NeuronRegressor`, which stops by itself once the weights
are at the least-squares answer, and then reads the slope and intercept back from
the trained Keras layer.
"""

# %%
# Data: a line with uniform noise
# -------------------------------
# 51 points, ``x = 0, 1, ..., 50`` and ``y = x + 10 u`` with ``u`` uniform on
# [0, 1). The noise is never negative, so the best line sits about 5 above
# ``y = x``.
import matplotlib.pyplot as plt
import numpy as np

from skneuron import FittedLineDisplay, LossCurveDisplay, NeuronRegressor

rng = np.random.default_rng(0)
x = np.linspace(0, 50, 51)
y = x + 10 * rng.random(x.size)
X = x[:, np.newaxis]  # scikit-learn estimators take a 2-D (n_samples, n_features) X

# %%
# The tutorial's recipe and the default
# -------------------------------------
# ``tol=None`` switches the convergence test off, so exactly ``epochs`` epochs are
# run, as in a plain ``model.fit(x, y, epochs=200)``. Without it, a capped number
# of epochs that ends before convergence raises a ``ConvergenceWarning``. (Keras'
# ``fit`` would also split the 51 points into mini-batches of 32; the recipe here
# takes all of them in every step, which gives a smoother curve.
# ``batch_size=32`` does what Keras does.)
#
# The default estimator uses plain gradient descent with momentum (``"sgd"``) and
# picks its own step size; it stops as soon as the coefficients are within
# ``tol`` of the optimum.
recipe = NeuronRegressor(optimizer="adam", learning_rate=0.1, epochs=200, tol=None)
recipe.fit(X, y)
default = NeuronRegressor().fit(X, y)

for name, reg in [("adam, 200 epochs", recipe), ("default", default)]:
    print(
        f"{name:<17} slope {reg.coef_[0]:.6f}  intercept {reg.intercept_:.6f}  "
        f"epochs run {reg.n_iter_:>3}  final MSE {reg.history_['loss'][-1]:.4f}"
    )

# %%
# :class:`~skneuron.FittedLineDisplay` draws the recipe's line on the data, with
# the exact least-squares line (dashed) for reference: after 200 epochs the
# recipe lies on it, and so does the default, whose slope and intercept above
# differ from the recipe's by less than 0.001. :class:`~skneuron.LossCurveDisplay`
# draws ``history_["loss"]``, the mean squared error of each epoch in the units
# of ``y``; the dashed line is the least-squares MSE, the lowest any line can
# reach. The epoch axis is logarithmic, so that the default's few epochs and the
# recipe's 200 can both be read.
fig, (ax_data, ax_loss) = plt.subplots(1, 2, figsize=(10, 4))
FittedLineDisplay.from_estimator(
    recipe, X, y, ax=ax_data, name="adam, 200 epochs", line_kwargs={"c": "tab:orange"}
)
ax_data.set(xlabel="x", ylabel="y", title="Fitted line")
ax_data.legend(loc="upper left")  # the data rise from the lower left

for name, reg, color in [
    ("adam, 200 epochs", recipe, "tab:orange"),
    ("default (automatic step)", default, "tab:blue"),
]:
    LossCurveDisplay.from_estimator(
        reg, ax=ax_loss, name=name, log_scale=True, marker=".", color=color
    )
least_squares_mse = np.mean((default.predict(X) - y) ** 2)
ax_loss.axhline(
    least_squares_mse, color="black", linestyle="--", linewidth=1,
    label="least-squares MSE",
)  # fmt: skip
ax_loss.set(xscale="log", ylabel="training MSE", title="Loss per epoch")
ax_loss.legend(loc="upper right")  # the curves start high on the left
fig.tight_layout()

# %%
# The first epoch's loss is the variance of ``y``: training starts from zero in
# standardized units, that is from the flat line at the mean of ``y``. The
# default fit reaches the optimum within a few epochs: with one feature, the
# standardized problem is perfectly conditioned, and the remaining epochs only
# confirm that the coefficients have stopped moving. Adam with a fixed rate
# overshoots, swings back, and takes about a hundred epochs to settle.
#
# Reading the weights from the Keras layer
# ----------------------------------------
# ``model_`` is the trained neuron as a Keras model in the original units. Its
# layers show what it holds: a ``Sequential`` model whose one layer is the
# ``Dense`` neuron, named ``"neuron"``. So the tutorial's ``get_layer(index=0)``
# finds it, and so does asking by name, which does not depend on the layer's
# position.
model = default.model_
print(
    type(model).__name__, [(layer.name, type(layer).__name__) for layer in model.layers]
)
print("layer 0 is the neuron:", model.get_layer(index=0) is model.get_layer("neuron"))

kernel, bias = model.get_layer("neuron").get_weights()
slope, intercept = kernel[0, 0], bias[0]
print(f"slope {slope:.6f}, intercept {intercept:.6f} (Keras layer, {kernel.dtype})")
print(f"slope {default.coef_[0]:.6f}, intercept {default.intercept_:.6f} (coef_)")

# %%
# The layer stores the same numbers as ``coef_`` and ``intercept_``, in the
# layer's ``float32`` (``coef_`` is ``float64``). Predictions can be rebuilt from
# the two weights by hand, from the Keras model, or by ``predict``: all three
# agree to ``float32`` precision.
by_hand = slope * x + intercept
by_keras = model.predict(X, verbose=0).ravel()
by_sklearn = default.predict(X)
print(np.allclose(by_hand, by_sklearn, rtol=1e-6), np.allclose(by_keras, by_sklearn))

plt.show()
