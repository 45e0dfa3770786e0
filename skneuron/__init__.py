"""skneuron: a Keras single neuron as an exact, fast scikit-learn regressor."""

from skneuron._neuron import NeuronRegressor
from skneuron._plot import FittedLineDisplay, LossCurveDisplay

__all__ = ["FittedLineDisplay", "LossCurveDisplay", "NeuronRegressor", "__version__"]
__version__ = "0.1.0"
