"""
=========================================================
Tutorial 2: the neuron against ``scipy.stats.linregress``
=========================================================

The second tutorial trains a one-unit Keras model with a large Adam step for 30
epochs and checks its weight and bias against the slope and intercept of
:func:`scipy.stats.linregress`. The two came out close but not equal.

Here the same comparison is made with :class:`~skneuron.NeuronRegressor`: once with
that fixed-epoch recipe, once with the default settings, which train until the
coefficients agree with the closed-form answer. Last, :func:`skneuron.linregress`
answers ``linregress``'s whole result (correlation, p-value, standard errors)
from the trained neuron.
"""

# %%
# Data
# ----
# 100 points evenly spaced on [0, 1], with ``y = 1.35 x + 0.5`` plus Gaussian noise
# of standard deviation 0.33.
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

import skneuron
from skneuron import FittedLineDisplay, LossCurveDisplay, NeuronRegressor

rng = np.random.default_rng(7)
x = np.linspace(0, 1, 100)
y = 1.35 * x + 0.5 + 0.33 * rng.standard_normal(x.size)
X = x.reshape(-1, 1)

# %%
# Three fits
# ----------
# ``linregress`` is the closed-form least-squares line. The recipe runs exactly 30
# epochs of Adam with learning rate 0.6 (``tol=None``: no convergence test and so
# no ``ConvergenceWarning``). The default needs no tuning.
ref = stats.linregress(x, y)
recipe = NeuronRegressor(optimizer="adam", learning_rate=0.6, epochs=30, tol=None)
recipe.fit(X, y)
default = NeuronRegressor().fit(X, y)

print(f"{'':<22}{'slope':>10}{'intercept':>11}")
print(f"{'scipy linregress':<22}{ref.slope:>10.6f}{ref.intercept:>11.6f}")
for name, reg in [("adam(0.6), 30 epochs", recipe), ("NeuronRegressor()", default)]:
    print(f"{name:<22}{reg.coef_[0]:>10.6f}{reg.intercept_:>11.6f}")

# %%
# The default fit agrees with ``linregress`` to the printed digits. Thirty
# full-batch Adam steps of size 0.6 end wherever the oscillation around the
# optimum happens to be; the tutorial's Keras model also got mini-batches of 32
# (four steps per epoch), so its numbers differ again. ``batch_size=32`` gives
# the recipe the same number of steps; it is still a fixed budget, not a
# converged answer.
minibatch = NeuronRegressor(
    optimizer="adam",
    learning_rate=0.6,
    epochs=30,
    batch_size=32,
    tol=None,
    random_state=0,
)
minibatch.fit(X, y)
print(
    f"batch_size=32: slope {minibatch.coef_[0]:.6f}, "
    f"intercept {minibatch.intercept_:.6f}"
)

# %%
# ``linregress`` also reports the correlation coefficient ``r``. For a straight
# line fitted by least squares, ``r**2`` is the coefficient of determination
# that every scikit-learn regressor returns from ``score``:
print(f"r**2 from linregress      {ref.rvalue**2:.6f}")
print(f"NeuronRegressor().score   {default.score(X, y):.6f}")
print(f"recipe .score             {recipe.score(X, y):.6f}")

# %%
# The whole ``linregress`` result, from the neuron
# -------------------------------------------------
# :func:`skneuron.linregress` takes scipy's call and returns scipy's fields. The
# slope and intercept are the trained neuron's (default settings); the standard
# errors, correlation and p-value are computed at that trained line
# (:meth:`~skneuron.NeuronRegressor.summary` gives the same for several
# features). Side by side with scipy's closed form:
neuron = skneuron.linregress(x, y)
fields = ["slope", "intercept", "rvalue", "pvalue", "stderr", "intercept_stderr"]
print(f"{'':<18}{'scipy':>22}{'skneuron':>22}")
for field in fields:
    print(f"{field:<18}{getattr(ref, field):>22.15g}{getattr(neuron, field):>22.15g}")
worst = max(abs(getattr(neuron, f) / getattr(ref, f) - 1) for f in fields)
print(f"largest relative difference {worst:.1e}")

# %%
# Like scipy's result, it unpacks into five values; ``intercept_stderr`` is an
# attribute only.
slope, intercept, r, p, se = neuron
print(
    f"slope {slope:.4f} ± {se:.4f}, intercept {intercept:.4f} ± "
    f"{neuron.intercept_stderr:.4f}, r = {r:.4f}, p = {p:.2g}"
)

# %%
# Plot
# ----
# :class:`~skneuron.FittedLineDisplay` draws the recipe's line on the data with
# the exact least-squares line (dashed), which is the line ``linregress`` finds
# and the one the default fit ends on. :class:`~skneuron.LossCurveDisplay` draws
# each fit's ``history_["loss"]``.
fig, (ax_data, ax_loss) = plt.subplots(1, 2, figsize=(10, 4.8), layout="constrained")
FittedLineDisplay.from_estimator(
    recipe,
    X,
    y,
    ax=ax_data,
    name="adam(0.6), 30 epochs",
    line_kwargs={"c": "tab:orange"},
    reference_line_kwargs={"label": "least squares (linregress)"},
)
ax_data.set(xlabel="x", ylabel="y", title="Fitted lines")
# The points fill the panel: the legends go below it.
ax_data.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=2)

for name, reg, color in [
    ("adam(0.6), 30 epochs", recipe, "tab:orange"),
    ("default", default, "tab:blue"),
]:
    LossCurveDisplay.from_estimator(
        reg, ax=ax_loss, name=name, log_scale=True, marker=".", color=color
    )
ax_loss.axhline(
    np.mean((y - ref.intercept - ref.slope * x) ** 2),
    color="black",
    linestyle="--",
    lw=1,
    label="least-squares MSE",
)
ax_loss.set(ylabel="training MSE", title="Loss")
ax_loss.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=2)
plt.show()
