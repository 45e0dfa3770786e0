"""
========================================
Swapping NeuronRegressor into a pipeline
========================================

:class:`~skneuron.NeuronRegressor` takes the same arguments, exposes the same
fitted attributes and gives the same answer as
:class:`~sklearn.linear_model.LinearRegression`, so it can replace it in existing
scikit-learn code. Here it takes the place of ``LinearRegression`` in a
pipeline, and both pipelines are cross-validated on the diabetes data.
"""

# %%
# Two pipelines that differ in one step
# -------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skneuron import NeuronRegressor

X, y = load_diabetes(return_X_y=True, scaled=False)

closed_form = make_pipeline(StandardScaler(), LinearRegression())
neuron = make_pipeline(StandardScaler(), NeuronRegressor())

# %%
# Cross-validation
# ----------------
# The same shuffled 5-fold split for both, so the scores can be compared fold by
# fold. The score is R², what ``score`` returns for any regressor.
cv = KFold(n_splits=5, shuffle=True, random_state=0)
scores_ols = cross_val_score(closed_form, X, y, cv=cv)
scores_neuron = cross_val_score(neuron, X, y, cv=cv)

print(f"{'fold':>4}  {'LinearRegression':>16}  {'NeuronRegressor':>16}")
for fold, (a, b) in enumerate(zip(scores_ols, scores_neuron, strict=True), start=1):
    print(f"{fold:>4}  {a:>16.8f}  {b:>16.8f}")
print(f"{'mean':>4}  {scores_ols.mean():>16.8f}  {scores_neuron.mean():>16.8f}")
print(f"largest difference: {np.abs(scores_ols - scores_neuron).max():.1e}")

# %%
# The scaler is optional
# ----------------------
# NeuronRegressor standardizes X and y inside ``fit`` and reports its
# coefficients in the units it was given, so the ``StandardScaler`` step changes
# neither its predictions nor its scores. It is kept above only so that the two
# pipelines differ in nothing but the regressor.
scores_bare = cross_val_score(NeuronRegressor(), X, y, cv=cv)
print(
    f"without the scaler: mean {scores_bare.mean():.8f}, largest difference "
    f"{np.abs(scores_bare - scores_neuron).max():.1e}"
)

# %%
# Fitted on all the data, the pipeline's last step has the same coefficients as
# ``LinearRegression`` (here in units of the standardized features).
closed_form.fit(X, y)
neuron.fit(X, y)
coef_ols = closed_form[-1].coef_
coef_neuron = neuron[-1].coef_
print("LinearRegression", coef_ols.round(4))
print("NeuronRegressor ", coef_neuron.round(4))

fig, ax = plt.subplots(figsize=(6, 4))
folds = np.arange(1, cv.get_n_splits() + 1)
ax.plot(folds, scores_ols, "o", ms=10, mfc="none", label="LinearRegression")
ax.plot(folds, scores_neuron, "x", ms=8, label="NeuronRegressor")
ax.set(
    xlabel="fold",
    ylabel="R² on the held-out fold",
    xticks=folds,
    title="Same pipeline, either regressor",
)
ax.legend()
fig.tight_layout()
plt.show()
