"""The skneuron neuron as a model for scikeras' ``KerasRegressor``.

scikeras is optional (``pip install skneuron[scikeras]``): this module never imports
it. It only provides the model-building function that
``scikeras.wrappers.KerasRegressor(model=...)`` calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - only for the annotations
    import keras

_DEFAULT_LOSS = "mean_squared_error"


def neuron_model(
    meta: Mapping[str, Any],
    compile_kwargs: Mapping[str, Any] | None = None,
    *,
    fit_intercept: bool = True,
    positive: bool = False,
) -> keras.Model:
    """Build NeuronRegressor's Keras neuron for scikeras' ``KerasRegressor``.

    Pass the function itself (do not call it) as
    ``scikeras.wrappers.KerasRegressor(model=neuron_model)``. scikeras calls it at
    the start of every ``fit`` (unless ``warm_start=True``) with the shapes of the
    data it was given. The model is the one :class:`~skneuron.NeuronRegressor` trains:
    a ``keras.Sequential`` of an ``Input`` and one ``Dense`` layer named ``"neuron"``
    with one unit per target, ``y = X @ kernel + bias``, whose weights start at
    zero. Unlike ``NeuronRegressor``, ``KerasRegressor`` trains it on the data as
    given (no internal standardization), for a fixed number of ``epochs``, in
    Keras' default ``float32``.

    Parameters
    ----------
    meta : mapping
        Filled in by scikeras: the attributes it sets while validating the data.
        Only ``meta["n_features_in_"]`` (columns of X) and ``meta["n_outputs_"]``
        (columns of y, 1 for a 1-D y) are read. scikeras' own
        ``meta["n_outputs_expected_"]`` counts Keras *outputs* and is always 1 for a
        regressor: the targets are the units of the single ``Dense`` output.

    compile_kwargs : mapping or None, default=None
        Filled in by scikeras: the arguments of ``Model.compile`` made from
        ``KerasRegressor``'s ``optimizer``, ``loss``, ``metrics`` (and their routed
        parameters such as ``optimizer__learning_rate``), ``loss_weights``,
        ``weighted_metrics`` and ``run_eagerly``. The model is compiled with them,
        except that a missing loss (``KerasRegressor``'s default ``loss=None``)
        becomes ``"mean_squared_error"``, the least-squares loss of
        ``NeuronRegressor``. Any loss given to ``KerasRegressor`` is used as is.
        When None (a direct call), the model is returned uncompiled.

    fit_intercept : bool, default=True
        Whether the neuron has a bias. Set it from scikeras as
        ``KerasRegressor(..., model__fit_intercept=False)``.

    positive : bool, default=False
        When True, the kernel has Keras' ``NonNeg`` constraint, as in
        ``NeuronRegressor(positive=True)``. From scikeras:
        ``model__positive=True``.

    Returns
    -------
    model : keras.Sequential
        The neuron; compiled when ``compile_kwargs`` is given. The ``Dense`` layer
        is ``model.get_layer("neuron")`` (also ``model.layers[0]``); its kernel has
        shape ``(n_features_in_, n_outputs_)``.

    See Also
    --------
    skneuron.NeuronRegressor : The same neuron, trained on standardized data until
        its coefficients reach the least-squares answer.

    Notes
    -----
    scikeras passes ``meta`` and ``compile_kwargs`` because the function has
    parameters of those names; ``model__<name>`` routes any other parameter. Every
    keyword argument given to ``KerasRegressor`` without a known prefix is passed
    to the model function too, so ``KerasRegressor(model=neuron_model,
    fit_intercept=False)`` also works.

    Importing Keras starts TensorFlow: that happens inside this function, when
    scikeras first builds the model, not on ``import skneuron``.

    Examples
    --------
    Fit and predict with scikeras (the doctest is skipped when scikeras is not
    installed). ``batch_size=-1`` trains on all samples in every step; the
    weights start at zero, so this full-batch fit is deterministic.

    >>> import numpy as np
    >>> from scikeras.wrappers import KerasRegressor
    >>> from skneuron import neuron_model
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> y = X @ [2.0, -1.0] + 1.0
    >>> reg = KerasRegressor(
    ...     model=neuron_model,
    ...     optimizer="adam",
    ...     optimizer__learning_rate=0.1,
    ...     epochs=5,
    ...     batch_size=-1,
    ...     verbose=0,
    ... )
    >>> reg.fit(X, y).predict(X).shape
    (4,)
    >>> [w.shape for w in reg.model_.get_layer("neuron").get_weights()]
    [(2, 1), (1,)]
    >>> reg.model_.loss
    'mean_squared_error'

    Two targets give two units; ``model__fit_intercept=False`` drops the bias:

    >>> Y = np.column_stack([y, -y])
    >>> reg.set_params(model__fit_intercept=False).fit(X, Y).predict(X).shape
    (4, 2)
    >>> [w.shape for w in reg.model_.get_layer("neuron").get_weights()]
    [(2, 2)]
    """
    from skneuron._keras import build_neuron  # starts TensorFlow

    n_features = meta["n_features_in_"]
    n_targets = meta.get("n_outputs_", 1)
    x_shape = meta.get("X_shape_")
    if x_shape is not None and len(x_shape) != 2:
        raise ValueError(
            "neuron_model needs a 2-D X of shape (n_samples, n_features); "
            f"got X of shape {tuple(x_shape)}."
        )
    model = build_neuron(
        n_features, n_targets, fit_intercept=fit_intercept, positive=positive
    )
    if compile_kwargs is not None:
        kwargs = dict(compile_kwargs)
        if kwargs.get("loss") is None:
            kwargs["loss"] = _DEFAULT_LOSS
        model.compile(**kwargs)
    return model
