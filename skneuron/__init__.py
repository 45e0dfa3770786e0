"""skneuron: a Keras single neuron as an exact, fast scikit-learn regressor."""

from skneuron._neuron import NeuronRegressor

__all__ = ["NeuronRegressor", "__version__"]
__version__ = "0.1.0"
