"""
========================================================
Tutorial 4: why gradient descent needs standardized data
========================================================

The fourth tutorial writes gradient descent for linear regression by hand, finds
that it only behaves once X and y are standardized, and then has to convert the
learned weights back to read off the true slope.

This example shows the failure on raw data with a few lines of NumPy, the cure by
standardizing, and that :class:`~skneuron.NeuronRegressor` does both steps itself:
it trains on standardized data and reports ``coef_`` and ``intercept_`` in the
original units, equal to those of
:class:`~sklearn.linear_model.LinearRegression`.
"""

# %%
# Data
# ----
# ``y = 3.5 x`` plus noise drawn uniformly from [-10, 20), on ``x = 0, 1, ..., 49``.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LinearRegression

from skneuron import NeuronRegressor

rng = np.random.default_rng(1)
x = np.arange(50, dtype=float)
y = 3.5 * x + rng.uniform(-10, 20, size=x.size)
X = x.reshape(-1, 1)
ols = LinearRegression().fit(X, y)
print(f"least squares: slope {ols.coef_[0]:.4f}, intercept {ols.intercept_:.4f}")


# %%
# Gradient descent on the raw numbers
# -----------------------------------
# Full-batch gradient descent on the mean squared error, from zero weights. Its
# curvature is very different along the two directions: moving the slope changes
# the predictions by up to 49 times more than moving the intercept does. The step
# size has to be small enough for the steep direction (the slope), and is then
# far too small for the flat one (the intercept).
def gradient_descent(x, y, learning_rate, epochs):
    """Plain gradient descent on mean((w x + b - y)**2); returns w, b and losses."""
    w = b = 0.0
    losses = []
    for _ in range(epochs):
        residual = w * x + b - y
        losses.append(np.mean(residual**2))
        w -= learning_rate * 2 * np.mean(residual * x)
        b -= learning_rate * 2 * np.mean(residual)
    return w, b, np.array(losses)


# The largest stable step for this x is 2 / (largest curvature), about 1.24e-3.
hessian = 2 * np.array([[np.mean(x**2), np.mean(x)], [np.mean(x), 1.0]])
curvatures = np.linalg.eigvalsh(hessian)
low, high = curvatures
print(f"curvatures {low:.3f} and {high:.1f}, ratio {high / low:.0f}")

raw = {}
with np.errstate(over="ignore", invalid="ignore"):
    for lr in [1.0e-3, 1.3e-3]:
        raw[lr] = gradient_descent(x, y, lr, epochs=100)
        w, b, _ = raw[lr]
        print(f"raw data, learning rate {lr:.1e}: slope {w:.4g}, intercept {b:.4g}")

# %%
# Just below the limit the slope is found, but after 100 epochs the intercept has
# barely moved from zero. Just above it, every step overshoots by more than the
# last and the weights blow up.
#
# Standardizing by hand
# ---------------------
# Centring and scaling both x and y makes the two curvatures equal, so one step
# size suits both weights and 100 epochs are plenty. The weights are then in
# standard deviations and have to be converted back:
# ``slope = w_std * sd(y) / sd(x)`` and
# ``intercept = mean(y) - slope * mean(x) + b_std * sd(y)``.
x_mean, x_sd, y_mean, y_sd = x.mean(), x.std(), y.mean(), y.std()
w_std, b_std, std_losses = gradient_descent(
    (x - x_mean) / x_sd, (y - y_mean) / y_sd, learning_rate=0.1, epochs=100
)
slope = w_std * y_sd / x_sd
intercept = y_mean - slope * x_mean + b_std * y_sd
print(f"standardized, un-standardized: slope {slope:.4f}, intercept {intercept:.4f}")

# %%
# NeuronRegressor does it for you
# -------------------------------
# The same plain gradient descent, as Keras' ``SGD`` optimizer with a fixed
# step, run by NeuronRegressor on raw ``X`` and ``y``: it standardizes inside and
# maps the weights back, so ``coef_`` and ``intercept_`` are in the units of the
# data. ``learning_rate`` is a step on the standardized problem, which is why
# 0.1 works here for any scale of x and y. ``tol=None`` runs exactly 100 epochs.
sgd = NeuronRegressor(optimizer="sgd", learning_rate=0.1, epochs=100, tol=None)
sgd.fit(X, y)
default = NeuronRegressor().fit(X, y)

print(f"{'':<26}{'slope':>9}{'intercept':>11}")
for name, coef, icpt in [
    ("NeuronRegressor sgd(0.1)", sgd.coef_[0], sgd.intercept_),
    ("NeuronRegressor()", default.coef_[0], default.intercept_),
    ("LinearRegression", ols.coef_[0], ols.intercept_),
]:
    print(f"{name:<26}{coef:>9.4f}{icpt:>11.4f}")
print(f"default: {default.n_iter_} epochs")

# %%
# ``history_["loss"]`` is in the units of ``y`` whatever happens inside, so the
# loss curves of all runs can be drawn on one axis. The curve of the hand-written
# standardized run is in standardized units and is multiplied by ``var(y)``.
fig, (ax_data, ax_loss) = plt.subplots(1, 2, figsize=(10, 4))
ax_data.scatter(x, y, s=12, color="0.5", label="data")
ax_data.plot(
    x, raw[1.0e-3][0] * x + raw[1.0e-3][1], color="tab:red", label="raw GD, lr 1.0e-3"
)
ax_data.plot(x, sgd.predict(X), color="tab:orange", label="NeuronRegressor sgd(0.1)")
ax_data.plot(x, ols.predict(X), "--", color="k", lw=1, label="LinearRegression")
ax_data.set(xlabel="x", ylabel="y", title="Fitted lines")
ax_data.legend()

epochs = np.arange(1, 101)
for lr, color in [(1.0e-3, "tab:red"), (1.3e-3, "tab:purple")]:
    ax_loss.plot(epochs, raw[lr][2], color=color, label=f"raw GD, lr {lr:.1e}")
ax_loss.plot(
    epochs,
    std_losses * y_sd**2,
    color="tab:green",
    lw=3,
    label="standardized GD, lr 0.1",
)
ax_loss.plot(
    epochs,
    sgd.history_["loss"],
    "--",
    color="tab:orange",
    label="NeuronRegressor sgd(0.1)",
)
ax_loss.plot(
    np.arange(1, default.n_iter_ + 1),
    default.history_["loss"],
    ".-",
    color="tab:blue",
    label="NeuronRegressor()",
)
ax_loss.set(
    xlabel="epoch", ylabel="training MSE", yscale="log", ylim=(10, 1e8), title="Loss"
)
ax_loss.legend(fontsize="small")
fig.tight_layout()

# %%
# Three things to read from the curves:
#
# * the raw run just below the stable step size has a loss that looks settled,
#   yet its intercept is still 0.35 instead of 4.86: the loss hardly depends on
#   the intercept, which is exactly why gradient descent barely moves it;
# * the hand-written standardized run starts from zero *standardized* weights,
#   which already predict the mean of ``y``, so its loss starts lower;
#   NeuronRegressor starts from zero weights in the original units;
# * NeuronRegressor's Keras loss is half the mean squared error, so the same
#   ``learning_rate`` makes half as long an SGD step as in the loop above:
#   ``sgd(0.1)`` moves like the loop with 0.05.
#
# The tutorial goes on to L2 and L1 penalties. By default NeuronRegressor fits
# plain, unpenalized least squares; its ``alpha`` and ``l1_ratio`` parameters
# add the elastic-net penalty of scikit-learn's
# :class:`~sklearn.linear_model.ElasticNet` (see the API reference).
plt.show()
