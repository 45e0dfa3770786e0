"""
===================================================
Tutorial 3: one feature, then all of them, held out
===================================================

The third tutorial predicts house prices from one column of a housing data set
with a Keras ``Dense(1)`` model: RMSprop with learning rate 0.005, mini-batches of
16, 101 epochs, 30 % of the data kept aside with ``validation_split=0.3``, and
training and validation loss curves.

That data set has to be downloaded, so this example uses scikit-learn's diabetes
data instead, which ships with scikit-learn: 442 patients, ten measurements each,
and a disease-progression score one year later as the target. First one feature
(body mass index, ``bmi``), then all ten.

:class:`~skneuron.NeuronRegressor` takes the same ``validation_split``: the held-out
rows are drawn with ``random_state`` and never used for training (nor for the
standardization inside), and ``history_["val_loss"]`` records their loss after
every epoch, in the units of y.
"""

# %%
# Data
# ----
# ``scaled=False`` keeps the original units (``bmi`` in kg/m², ``bp`` in mm Hg, ...)
# instead of the pre-standardized copy; NeuronRegressor standardizes internally.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

from skneuron import FittedLineDisplay, LossCurveDisplay, NeuronRegressor

data = load_diabetes(scaled=False)
X, y = data.data, data.target
bmi = data.feature_names.index("bmi")


def rmsprop_recipe(**params):
    """The tutorial's settings: a fixed budget of mini-batch RMSprop epochs."""
    return NeuronRegressor(
        optimizer="rmsprop",
        learning_rate=0.005,
        batch_size=16,
        epochs=101,
        validation_split=0.3,
        tol=None,  # exactly 101 epochs, no convergence test
        random_state=0,  # draws the validation rows and shuffles the mini-batches
        **params,
    )


def report(name, reg):
    print(
        f"{name:<22} epochs {reg.n_iter_:>4}  train MSE {reg.history_['loss'][-1]:8.2f}"
        f"  validation MSE {reg.history_['val_loss'][-1]:8.2f}"
    )


# %%
# One feature: body mass index
# ----------------------------
# The recipe next to the default estimator given the same held-out rows
# (``validation_split=0.3``, same ``random_state``), which trains until its
# coefficients are exact.
X_bmi = X[:, [bmi]]
recipe1 = rmsprop_recipe().fit(X_bmi, y)
default1 = NeuronRegressor(validation_split=0.3, random_state=0).fit(X_bmi, y)
report("rmsprop recipe", recipe1)
report("default", default1)

# %%
# With mini-batches, the recipe's weights keep moving by about one step from
# batch to batch, so they end near the least-squares line rather than on it.
# :class:`~skneuron.FittedLineDisplay` draws the data, the recipe's line and the
# exact least-squares line on all rows (dashed); :class:`~skneuron.LossCurveDisplay`
# draws the training loss (averaged over each epoch's mini-batches, as Keras
# reports it) and the validation loss (dashed).
fig, (ax_data, ax_loss) = plt.subplots(1, 2, figsize=(10, 4.8), layout="constrained")
FittedLineDisplay.from_estimator(
    recipe1, X_bmi, y, ax=ax_data, name="rmsprop recipe", scatter_kwargs={"s": 8}
)
ax_data.set(xlabel="body mass index", ylabel="disease progression", title="bmi only")
# The points fill the panel: the legends go below it.
ax_data.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=3)
for name, reg in [("rmsprop recipe", recipe1), ("default", default1)]:
    LossCurveDisplay.from_estimator(reg, ax=ax_loss, name=name, log_scale=True)
ax_loss.set(xscale="log", ylabel="MSE", title="Loss")
ax_loss.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=2)

# %%
# All ten features
# ----------------
# The same on every column. ``s1`` to ``s6`` are blood serum measurements that are
# strongly correlated with each other, which makes the least-squares problem
# badly conditioned: a direction in which the loss barely changes, and along
# which a fixed budget of gradient steps makes little progress.
recipe = rmsprop_recipe().fit(X, y)
default = NeuronRegressor(validation_split=0.3, random_state=0).fit(X, y)
train_rows = np.setdiff1d(
    np.arange(len(y)),
    np.random.RandomState(0).permutation(len(y))[: int(np.ceil(0.3 * len(y)))],
)
ols = LinearRegression().fit(X[train_rows], y[train_rows])

print(f"{'feature':>8}{'rmsprop':>10}{'default':>10}{'OLS':>10}")
for i, feature in enumerate(data.feature_names):
    print(
        f"{feature:>8}{recipe.coef_[i]:10.4f}{default.coef_[i]:10.4f}"
        f"{ols.coef_[i]:10.4f}"
    )
print(
    "largest difference of the default from LinearRegression on the same 70 %: "
    f"{np.abs(default.coef_ - ols.coef_).max():.1e}"
)
report("rmsprop recipe", recipe)
report("default", default)

# %%
# Early stopping
# --------------
# ``early_stopping=True`` ends training once the validation loss has not
# improved for ``n_iter_no_change`` epochs and keeps the best epoch's weights,
# like Keras' ``EarlyStopping(restore_best_weights=True)``.
stopped = rmsprop_recipe(early_stopping=True, n_iter_no_change=10).set_params(
    epochs=1000
)
stopped.fit(X, y)
best = int(np.argmin(stopped.history_["val_loss"]))
print(
    f"early stopping ran {stopped.n_iter_} of 1000 epochs and kept epoch {best + 1} "
    f"(validation MSE {stopped.history_['val_loss'][best]:.2f})"
)

# %%
# The recipe's training loss looks flat long before its coefficients for the
# serum columns agree with least squares; the default keeps going until they
# do. Its loss is not monotone: the momentum of the heavy-ball steps first
# overshoots. What the default guarantees is the precision of the final
# coefficients, not a smooth curve. On held-out rows, the exact answer is not
# always the best one: that is what early stopping (or ``alpha``) trades.
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
for name, reg in [
    ("rmsprop recipe", recipe),
    ("default", default),
    ("early stopping", stopped),
]:
    LossCurveDisplay.from_estimator(reg, ax=ax, name=name, log_scale=True)
ax.set(xscale="log", ylabel="MSE", title="All ten features")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))  # beside the curves
plt.show()
