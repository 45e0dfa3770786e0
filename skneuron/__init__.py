"""skneuron: a Keras single neuron as an exact, fast scikit-learn regressor."""

from skneuron._linregress import linregress
from skneuron._neuron import NeuronRegressor
from skneuron._plot import FittedLineDisplay, LossCurveDisplay
from skneuron._scikeras import neuron_model

__all__ = [
    "FittedLineDisplay",
    "LossCurveDisplay",
    "NeuronRegressor",
    "linregress",
    "neuron_model",
    "__version__",
]
__version__ = "0.1.0"
