"""pytest runs the doctests of docs/*.rst (the pages); nothing else here is a test.

The pages show the tutorials' own Keras code (``net.fit(X, y, epochs=200)``) next
to the estimator that replaces it. Those Keras fits print nothing the doctests
check, and in full they take most of a minute (Keras returns to Python around
every epoch), so in these doctests ``keras.Model.fit`` runs at most
``KERAS_EPOCHS`` epochs: the code still runs, every call and argument is checked,
only the number of epochs is cut. ``NeuronRegressor`` does not use
``Model.fit``; its epochs are never cut.
"""

import pytest

collect_ignore = ["conf.py"]
collect_ignore_glob = ["_build/*", "_ext/*", "auto_examples/*", "generated/*"]

KERAS_EPOCHS = 2


@pytest.fixture(autouse=True)
def _short_keras_fits(monkeypatch):
    keras = pytest.importorskip("keras")
    fit = keras.Model.fit

    def short_fit(self, *args, epochs=1, **kwargs):
        return fit(self, *args, epochs=min(epochs, KERAS_EPOCHS), **kwargs)

    monkeypatch.setattr(keras.Model, "fit", short_fit)
