"""
===================================================
Tutorial 3: one feature, then all of them, held out
===================================================

The third tutorial predicts house prices from one column of a housing data set
with a Keras ``Dense(1)`` model: RMSprop with learning rate 0.005, mini-batches of
16, 101 epochs, 30 % of the data kept aside for validation, and training and
validation loss curves.

That data set has to be downloaded, so this example uses scikit-learn's diabetes
data instead, which ships with scikit-learn: 442 patients, ten measurements each,
and a disease-progression score one year later as the target. First one feature
(body mass index, ``bmi``), then all ten.

:class:`~skneuron.NeuronRegressor` has no ``validation_split``, so the 30 % are
held out with :func:`~sklearn.model_selection.train_test_split` and the validation
error is computed from ``predict``.
"""

# %%
# Data and split
# --------------
# ``scaled=False`` keeps the original units (``bmi`` in kg/m², ``bp`` in mm Hg, ...)
# instead of the pre-standardized copy; NeuronRegressor standardizes internally.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

from skneuron import NeuronRegressor

data = load_diabetes(scaled=False)
X_train, X_val, y_train, y_val = train_test_split(
    data.data, data.target, test_size=0.3, random_state=0
)
bmi = data.feature_names.index("bmi")
print(f"{len(y_train)} training and {len(y_val)} validation samples")


def rmsprop_recipe():
    """The tutorial's settings: a fixed budget of mini-batch RMSprop epochs."""
    return NeuronRegressor(
        optimizer="rmsprop",
        learning_rate=0.005,
        batch_size=16,
        epochs=101,
        tol=None,  # exactly 101 epochs, no convergence test
        random_state=0,  # seeds the shuffling of the mini-batches
    )


def report(name, reg, X_tr, X_va):
    mse_tr = mean_squared_error(y_train, reg.predict(X_tr))
    mse_va = mean_squared_error(y_val, reg.predict(X_va))
    print(f"{name:<16} train MSE {mse_tr:8.2f}   validation MSE {mse_va:8.2f}")


# %%
# One feature: body mass index
# ----------------------------
X_tr1, X_va1 = X_train[:, [bmi]], X_val[:, [bmi]]
recipe1 = rmsprop_recipe().fit(X_tr1, y_train)
default1 = NeuronRegressor().fit(X_tr1, y_train)
ols1 = LinearRegression().fit(X_tr1, y_train)

for name, reg in [("rmsprop recipe", recipe1), ("default", default1)]:
    print(f"{name:<16} slope {reg.coef_[0]:9.4f}  intercept {reg.intercept_:10.4f}")
print(
    f"{'LinearRegression':<16} slope {ols1.coef_[0]:9.4f}  "
    f"intercept {ols1.intercept_:10.4f}"
)
report("rmsprop recipe", recipe1, X_tr1, X_va1)
report("default", default1, X_tr1, X_va1)

# %%
# With mini-batches, the recipe's weights keep moving by about one step
# from batch to batch, so they end near the least-squares line rather than on it.
# The training loss of each epoch is averaged over its mini-batches, as Keras
# reports it.
fig, (ax_data, ax_loss) = plt.subplots(1, 2, figsize=(10, 4))
grid = np.linspace(X_tr1.min(), X_tr1.max(), 2).reshape(-1, 1)
ax_data.scatter(X_tr1, y_train, s=10, alpha=0.5, color="tab:green", label="train")
ax_data.scatter(X_va1, y_val, s=10, alpha=0.5, color="tab:purple", label="validation")
ax_data.plot(grid, recipe1.predict(grid), color="tab:orange", label="rmsprop recipe")
ax_data.plot(grid, default1.predict(grid), "--", color="tab:blue", label="default")
ax_data.set(xlabel="body mass index", ylabel="disease progression", title="bmi only")
ax_data.legend()

ax_loss.plot(
    np.arange(1, recipe1.n_iter_ + 1),
    recipe1.history_["loss"],
    color="tab:orange",
    label="rmsprop recipe, training",
)
ax_loss.axhline(
    mean_squared_error(y_val, recipe1.predict(X_va1)),
    ls=":",
    color="tab:orange",
    label="rmsprop recipe, validation (end)",
)
ax_loss.plot(
    np.arange(1, default1.n_iter_ + 1),
    default1.history_["loss"],
    ".-",
    color="tab:blue",
    label="default, training",
)
ax_loss.set(xlabel="epoch", ylabel="MSE", yscale="log", title="Loss")
ax_loss.legend()
fig.tight_layout()

# %%
# All ten features
# ----------------
# The same two estimators on every column. ``s1`` to ``s6`` are blood serum
# measurements that are strongly correlated with each other, which makes the
# least-squares problem badly conditioned: a direction in which the loss barely
# changes, and along which a fixed budget of gradient steps makes little
# progress.
recipe = rmsprop_recipe().fit(X_train, y_train)
default = NeuronRegressor().fit(X_train, y_train)
ols = LinearRegression().fit(X_train, y_train)

print(f"{'feature':>8}{'rmsprop':>10}{'default':>10}{'OLS':>10}")
for i, feature in enumerate(data.feature_names):
    print(
        f"{feature:>8}{recipe.coef_[i]:10.4f}{default.coef_[i]:10.4f}"
        f"{ols.coef_[i]:10.4f}"
    )
print(
    f"default stopped after {default.n_iter_} epochs; largest difference from "
    f"LinearRegression {np.abs(default.coef_ - ols.coef_).max():.1e}"
)
report("rmsprop recipe", recipe, X_train, X_val)
report("default", default, X_train, X_val)

# %%
# The recipe's training loss looks flat long before its coefficients for the
# serum columns ``s1`` to ``s5`` agree with least squares; the default keeps
# going until they do, and matches
# :class:`~sklearn.linear_model.LinearRegression`. Its loss is not monotone:
# the momentum of the heavy-ball steps first overshoots. What the default
# guarantees is the precision of the final coefficients, not a smooth curve.
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(
    np.arange(1, recipe.n_iter_ + 1),
    recipe.history_["loss"],
    color="tab:orange",
    label="rmsprop recipe",
)
ax.plot(
    np.arange(1, default.n_iter_ + 1),
    default.history_["loss"],
    color="tab:blue",
    label="default",
)
ax.axhline(
    mean_squared_error(y_train, ols.predict(X_train)),
    color="k",
    lw=1,
    ls=":",
    label="least-squares MSE",
)
ax.set(
    xlabel="epoch",
    ylabel="training MSE",
    yscale="log",
    xscale="log",
    title="All ten features",
)
ax.legend()
fig.tight_layout()
plt.show()
