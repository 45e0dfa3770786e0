"""NeuronRegressor: linear regression by a Keras single neuron, the scikit-learn way.

This module knows no Keras. ``fit`` validates the data and prepares it
(:mod:`skneuron._data`), plans the training and runs it
(:mod:`skneuron._training`, which hands the engine its specs) and sets the fitted
attributes from the one result that comes back; ``partial_fit`` continues a
stream (:mod:`skneuron._stream`).
"""

from __future__ import annotations

import functools
from dataclasses import fields, replace
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    check_is_fitted,
    validate_data,
)

from skneuron._data import IN_MEMORY, Settings, is_dask, prepare, source_of
from skneuron._inference import TrainingRecord, requested_rows, summarize
from skneuron._legacy import _Standardized, _Stream, upgraded  # noqa: F401
from skneuron._loss import LOSSES
from skneuron._schedule import Stop, TrainState
from skneuron._stream import Stream, next_step
from skneuron._training import Training, keras_model, refine, run, warn_unresolved
from skneuron._training import plan as make_plan


def _all_or_nothing(method):
    """A fit that fails, or is interrupted (Ctrl-C), leaves the estimator exactly
    as it was: its attributes are put back as they were."""

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        before = dict(vars(self))
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise

    return guarded


class NeuronRegressor(RegressorMixin, BaseEstimator):
    """Linear regression fitted by a Keras single neuron trained with gradient descent.

    The model is one Keras ``Dense`` unit per target, ``y = X @ w + b``, trained by a
    Keras optimizer. Inside, X and y are standardized before training and the trained
    weights are expressed back in the original units, so gradient descent reaches the
    least-squares answer of :class:`~sklearn.linear_model.LinearRegression` on raw,
    unscaled data. Keras (on TensorFlow or JAX) is only started by :meth:`fit` and
    :attr:`model_`; :meth:`predict` is NumPy arithmetic on ``coef_`` and ``intercept_``.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Whether to fit the neuron's bias. If False, the data is not centred and
        ``intercept_`` is 0.0.

    copy_X : bool, default=True
        Accepted for compatibility with ``LinearRegression``; it has no effect:
        ``fit`` only reads X (to gather its sums, or to make the standardized
        copy it trains on), so X is never modified, whatever ``copy_X`` is.

    n_jobs : int, default=None
        For compatibility with ``LinearRegression``; no effect (Keras has its own).

    positive : bool, default=False
        When True, the coefficients are kept non-negative by a Keras ``NonNeg``
        constraint on the neuron's kernel.

    alpha : float, default=0.0
        Strength of the elastic-net penalty. The objective is scikit-learn
        :class:`~sklearn.linear_model.ElasticNet`'s, on the coefficients in the
        original units: ``1 / (2 * n_samples) * ||y - X w - b||^2 + alpha * l1_ratio
        * ||w||_1 + alpha * (1 - l1_ratio) / 2 * ||w||^2`` (sample weights normalized
        to sum to ``n_samples``). ``alpha=0`` is ordinary least squares; with
        ``l1_ratio=0`` it matches ``Ridge(alpha=alpha * n_samples)``. With another
        ``loss``, the same penalty is added to that loss's mean.

    l1_ratio : float, default=0.0
        Share of the L1 penalty in ``alpha``, in [0, 1]. The L1 part is applied as
        its proximal step (soft-thresholding by learning rate × strength) after every
        optimizer step, so exact zeros appear as in ``Lasso``.

    loss : {"squared_error", "absolute_error", "huber"}, default="squared_error"
        The data term of the objective, a mean over samples (sample-weighted) of a
        function of the residual ``r = y - X w - b``, in the units of y:
        ``"squared_error"``: ``r**2 / 2`` (least squares, Keras' ``"mse"`` up to
        the factor 1/2); ``"absolute_error"``: ``|r|`` (least absolute deviations,
        Keras' ``"mae"``); ``"huber"``: ``r**2 / 2`` where ``|r| <= epsilon``, else
        ``epsilon * |r| - epsilon**2 / 2`` (Keras' ``Huber(delta=epsilon)``).
        Penalties are added as described under ``alpha``.

    epsilon : float, default=1.0
        Huber's threshold, in the units of y (Keras' ``delta``). Only used with
        ``loss="huber"``.

    tol : float or None, default=1e-6
        Precision of the solution. Training stops once every coefficient is, by the
        bound ``‖gradient‖ / λ_min`` on the standardized problem, within ``tol``
        relative of the optimum (coefficients smaller than ``tol`` times the largest
        are held to ``tol`` times that one instead), for ``n_iter_no_change``
        consecutive epochs, or once the gradient is as small as float64 rounding
        lets it be (on badly conditioned problems that comes first). ``None``
        turns convergence stopping off: exactly ``epochs`` epochs are run. Unlike
        ``LinearRegression``'s ``tol`` (a solver setting for sparse input, and the
        cut-off for small singular values), it is a precision of ``coef_``.

    optimizer : str, keras.optimizers.Optimizer instance or class, default="sgd"
        The Keras optimizer, by name (``"sgd"``, ``"adam"``, ``"rmsprop"``, ...), as a
        class, or as an instance whose config is copied. Every fit starts from a fresh
        optimizer.

    learning_rate : float or "auto", default="auto"
        Step size. With ``"auto"``, the ``"sgd"`` optimizer takes the step size and
        momentum that are optimal for the curvature of the standardized squared loss
        (Polyak's heavy ball); any other optimizer keeps its Keras default (or an
        instance's own rate). A float overrides the rate of any optimizer.

    epochs : int or "auto", default="auto"
        Upper bound on the number of passes over the training data. Reaching it
        before convergence emits a :class:`~sklearn.exceptions.ConvergenceWarning`.
        ``"auto"`` allows 10 000, or more where the conditioning of the problem
        calls for it: four times the epochs the automatic step is expected to
        need to reach ``tol`` (with another optimizer or ``tol=None``: 10 000);
        with the absolute error, as much for each smoothing stage, up to five.

    batch_size : int or None, default=None
        Samples per gradient step. ``None`` uses all samples in every step
        (full-batch gradient descent, one step per epoch).

    shuffle : bool, default=True
        Whether to shuffle the samples before each epoch of mini-batch training.

    validation_split : float, default=0.0
        Fraction of the training rows held out to measure ``history_["val_loss"]``
        each epoch (as in Keras), drawn at random with ``random_state``. The
        standardization and training use the other rows only. ``0.0`` holds out
        nothing.

    early_stopping : bool, default=False
        Stop when the validation loss has not improved (by more than ``tol``
        relative) for ``n_iter_no_change`` epochs, and keep the weights of the best
        epoch, like Keras' ``EarlyStopping(restore_best_weights=True)``. Needs
        ``validation_split > 0``.

    n_iter_no_change : int, default=5
        Number of consecutive epochs the convergence criterion must hold; with
        ``early_stopping``, the patience of the validation loss.

    random_state : int, RandomState instance or None, default=None
        Seeds the choice of validation rows and the shuffling of mini-batches, the
        only random parts of training: the weights start at zero (in standardized
        units, so the first prediction is the weighted mean of y). A fit that uses
        neither draws nothing. With ``None``, as everywhere in scikit-learn, a fit
        that does draws from NumPy's global random state (and so advances it);
        pass an int for results that repeat. Python's, Keras' and its backend's
        global random states are never used or changed.

    verbose : int, default=0
        0 is silent; 1 shows one progress bar for the whole fit; 2 prints one line
        per epoch.

    warm_start : bool, default=False
        When True, ``fit`` starts from the previous ``coef_`` and ``intercept_``.

    precompute : bool, "auto" or array-like of shape (n_features, n_features), \
            default="auto"
        Whether full-batch training with the squared loss runs on the sums of the
        rows (X'X, X'y, y'y and column sums, gathered in one pass over row
        blocks) instead of on the rows themselves, as ``ElasticNet``'s
        ``precompute``: an epoch then costs O(n_features**2) instead of
        O(n_samples * n_features), with the same loss, gradient and optimizer
        steps. ``"auto"`` uses the sums wherever they apply and are no larger than
        the data (``n_features <= n_samples``). An array is the Gram matrix
        ``X.T @ X`` of the X given to ``fit`` (``X.T @ (sample_weight[:, None] *
        X)`` with weights), checked against X's diagonal; the pass over X then
        only gathers the cheaper sums. It is centred as ``X'WX - n m m'``, so its
        answer is only as exact as that difference for columns far from zero.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Trained weights of the neuron in the units of X and y; 2-D when y is.

    intercept_ : numpy.float64 or ndarray of shape (n_targets,)
        Trained bias in the units of y: a NumPy ``float64`` for a 1-D y, as
        ``LinearRegression``'s; 0.0 when ``fit_intercept=False``. Unlike
        ``LinearRegression``, ``coef_`` and ``intercept_`` are float64 also for
        float32 X: training is in float64, and rounding its answer to float32
        would lose the precision it reached.

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :meth:`fit`, when X has string column names.

    n_iter_ : int
        Number of epochs run (:meth:`partial_fit` adds the epochs of each call).

    history_ : dict of list
        ``{"loss": [...]}``, the (sample-weighted) mean loss of each epoch in the
        units of y, as Keras' ``History`` records it (the mean squared error for
        ``loss="squared_error"``, the mean absolute error or the mean Huber loss
        otherwise; penalties not included); with ``validation_split`` also
        ``"val_loss"``, the same measured on the held-out rows after each epoch.
        :meth:`partial_fit` appends the losses of the epochs it trains, and
        keeps the last 1 000.

    model_ : keras.Model
        The trained neuron in the original units: its ``Dense`` kernel is
        ``coef_.T`` and its bias ``intercept_``, in float64, so that calling it,
        ``model_(X)``, predicts as :meth:`predict` does (and coefficients beyond
        float32's range stay finite). Keras' own ``model_.predict`` hands NumPy
        input to the model in ``keras.config.floatx()`` (float32 by default), so
        its predictions carry float32 rounding of X. A model of the Keras backend
        in use, built on first access; on JAX float64 only in JAX's 64-bit mode.

    rank_ : int
        Rank of X (centred with an intercept, weighted by the sample weights):
        the number of its singular values above ``1e-6`` times the largest
        (``LinearRegression``'s default cut-off, whatever ``tol`` is); where
        training runs from X's triangular factor (see Notes), those of X with
        unit-spread columns above their round-off.

    singular_ : ndarray of shape (min(n_samples, n_features),)
        Singular values of X, centred with an intercept and weighted by the
        square roots of the sample weights, as ``LinearRegression``'s. They come
        from X'WX (from the rows when there are more features than rows), so the
        smallest have fewer correct digits (but from X's factor, see Notes).

    See Also
    --------
    sklearn.linear_model.LinearRegression : The closed-form least-squares answer.
    sklearn.linear_model.SGDRegressor : Linear model fitted by stochastic gradient
        descent.

    Notes
    -----
    The neuron is trained on standardized data (each column of X and y centred and
    scaled to unit variance, as in tutorial 4), in float64. Collinear columns (or
    more features than rows) are instead all scaled alike, so that training
    reaches the minimum-norm least-squares answer, ``LinearRegression``'s; an L2
    penalty stretches each column's scale by ``sqrt(1 + l2)`` (its L2 curvature in
    standardized units), so that strong penalties train as fast as weak ones.
    With the default
    ``optimizer="sgd"`` and ``learning_rate="auto"`` the step size and momentum are
    set from the extreme eigenvalues of the standardized data's Gram matrix, which
    makes full-batch gradient descent converge linearly to the least-squares
    solution. The coefficients themselves only ever come from the optimizer's
    updates.

    The absolute error has no gradient at its kink. With the automatic step it is
    trained smoothed: as Huber's loss divided by a threshold that shrinks by
    factors of √10 from the standard deviation of y down to ``tol`` times it, each
    stage starting from the previous one's weights. On well-conditioned data the
    last stage lands within about ``tol`` of the least absolute deviations answer;
    on badly conditioned data the last stages are slow and may end with a
    ``ConvergenceWarning``. Any other optimizer trains the plain absolute error
    with its subgradient, as Keras does.

    Where the standardized sums are badly conditioned (and the problem is plain
    least squares with the automatic step), ``fit`` trains from the triangular
    factor of the rows instead, preconditioned by it (see the user guide).

    :meth:`partial_fit` counts every row each time it is passed and keeps the
    sums of all the rows passed; with the squared loss and full batches each call
    trains on those sums until the convergence test holds, as :meth:`fit` does,
    so that after any whole number of passes over the same rows, in any order,
    the coefficients are :meth:`fit`'s answer on them.

    Examples
    --------
    >>> import numpy as np
    >>> from skneuron import NeuronRegressor
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = 2.0 * X.ravel() + 1.0
    >>> reg = NeuronRegressor().fit(X, y)
    >>> print(reg.coef_.round(6), round(reg.intercept_, 6))
    [2.] 1.0
    >>> print(reg.predict(np.array([[4.0]])).round(6))
    [9.]
    """

    _parameter_constraints: dict = {
        "fit_intercept": ["boolean"],
        "copy_X": ["boolean"],
        "n_jobs": [None, Integral],
        "positive": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "loss": [StrOptions(set(LOSSES))],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "optimizer": "no_validation",  # a name, class or instance; checked by Keras
        "learning_rate": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "shuffle": ["boolean"],
        "validation_split": [Interval(Real, 0, 1, closed="left")],
        "early_stopping": ["boolean"],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "precompute": ["boolean", StrOptions({"auto"}), "array-like"],
    }

    def __init__(
        self,
        *,
        fit_intercept=True,
        copy_X=True,
        n_jobs=None,
        positive=False,
        alpha=0.0,
        l1_ratio=0.0,
        loss="squared_error",
        epsilon=1.0,
        tol=1e-6,
        optimizer="sgd",
        learning_rate="auto",
        epochs="auto",
        batch_size=None,
        shuffle=True,
        validation_split=0.0,
        early_stopping=False,
        n_iter_no_change=5,
        random_state=None,
        verbose=0,
        warm_start=False,
        precompute="auto",
    ):
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.n_jobs = n_jobs
        self.positive = positive
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.loss = loss
        self.epsilon = epsilon
        self.tol = tol
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.precompute = precompute

    @_fit_context(prefer_skip_nested_validation=True)
    @_all_or_nothing
    def fit(self, X, y, sample_weight=None):
        """Train the neuron on (X, y).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. SciPy sparse X (CSR, CSC, COO; matrices or arrays) is
            never densified: the full-batch squared loss trains on the sums
            ``X.T @ X`` from sparse products (memory: its non-zeros plus
            n_features²); other losses and mini-batches on its rows, scaled and
            packed (memory: the rows times the most non-zeros in one row).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample in the loss.

        Returns
        -------
        self : NeuronRegressor
            The fitted estimator.
        """
        if self.early_stopping and not self.validation_split:
            raise ValueError(
                "early_stopping=True needs held-out rows: set validation_split > 0."
            )
        source = source_of(X, y)  # arrays in memory, SciPy sparse, Dask collections
        checked = source.validated(X, y, sample_weight, **self._checks(reset=True))
        prepared = prepare(source, checked, self._settings())
        training = self._training()
        scaling, data, seed = prepared.scaling, prepared.data, prepared.seed
        plan = make_plan(training, scaling, data, seed, batched=prepared.batched)
        state = self._initial_state(scaling)
        result = run(training, plan, data, state, prepared.validation)
        result = refine(training, plan, prepared, result)
        warn_unresolved(plan)
        self._set_fitted(result, plan, prepared)
        self._record = self._record.named(y)  # y's pandas names, for summary()
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    @_all_or_nothing
    def partial_fit(self, X, y, sample_weight=None):
        """Add a chunk of rows to the rows passed so far and train on them.

        One rule: every row counts each time it is passed, as in
        :class:`~sklearn.linear_model.SGDRegressor` and every streaming
        estimator. A chunk passed twice weighs twice, and k passes over the
        same rows, in whatever order within and across chunks, are those rows
        repeated k times, whose least-squares answer is :meth:`fit`'s on them.
        Each call:

        - adds the chunk's weighted moments to those of every row passed before
          (by earlier calls, or by :meth:`fit`), in one pass over the chunk: the
          stream keeps O(n_features**2) numbers, whatever the number of chunks;
        - with the squared loss and full batches (``batch_size=None``; and
          ``precompute=True``, or ``"auto"`` up to 2048 features), trains on the
          sums of all the rows passed until the convergence test holds, as
          :meth:`fit` does on its sums (the same ``tol``, ``n_iter_no_change``
          and ``epochs``), in units made afresh from those sums, starting from
          the current coefficients with a fresh optimizer. After every whole
          number of passes over the same rows the coefficients are then
          :meth:`fit`'s answer on them, to ``tol``; between, they are the answer
          on the rows passed so far;
        - with other losses or with ``batch_size``, trains one epoch over the
          chunk's own rows (mini-batches if ``batch_size`` is set), as
          ``SGDRegressor.partial_fit`` does, continuing the optimizer's state
          (with the automatic step: one no single row can overshoot), in units
          from all the rows passed. These streams approach :meth:`fit`'s answer
          only as stochastic gradient descent does: they wander about it, by an
          amount the step size sets.

        ``n_iter_`` counts the epochs trained (after those of :meth:`fit`), and
        ``history_["loss"]`` gains the loss of each: over all the rows passed when
        training on their sums, over the chunk otherwise; it keeps the last
        1 000, so that a stream's state stays bounded. ``validation_split`` and
        ``early_stopping`` are not used here, nor ``tol`` and ``epochs`` when
        training on rows. The first call (or :meth:`fit`) fixes the number of
        features and targets. :meth:`summary` refuses a model trained by
        ``partial_fit``: the number of distinct rows behind its sums is unknown.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Its target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample in the loss.

        Returns
        -------
        self : NeuronRegressor
            The updated estimator.
        """
        stream = getattr(self, "_stream", None)
        checked = IN_MEMORY.validated(
            X, y, sample_weight, **self._checks(reset=stream is None)
        )
        step = next_step(stream, checked, self._settings())
        n_iter = getattr(self, "n_iter_", 0) if stream is not None else 0
        training = replace(self._training(), early_stopping=False)
        if not step.sums:  # one epoch over the chunk's rows
            training = replace(training, epochs=1, tol=None)
        plan = make_plan(
            training,
            step.scaling,
            step.data,
            step.seed,
            batched=not step.sums,
            first_epoch=n_iter,
        )
        state = step.start(plan.schedule.optimizer, epoch=n_iter)
        result = run(training, plan, step.data, state)
        if step.sums:
            warn_unresolved(plan)
        losses = self.history_["loss"] if stream is not None else []
        self._set_fitted(result, plan, step, before=(n_iter, losses))
        return self

    def predict(self, X):
        """Predict with the trained neuron: ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples (also Dask arrays and DataFrames: then a Dask array of
            predictions, computed block by block).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predicted values.
        """
        check_is_fitted(self)
        if is_dask(X):
            from skneuron._data import _dask

            fitted, checks = (self.coef_, self.intercept_), self._checks(reset=False)
            return _dask.predict(X, *fitted, **checks)
        X = validate_data(
            self, X, reset=False, dtype="numeric", accept_sparse=["csr", "csc", "coo"]
        )
        return X @ self.coef_.T + self.intercept_

    def score(self, X, y, sample_weight=None):
        """R² of the predictions, as :meth:`sklearn.base.RegressorMixin.score`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples (also Dask arrays: then R² is computed block by block).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            True values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R² of ``self.predict(X)`` against ``y``.
        """
        if is_dask(X) or is_dask(y):
            from skneuron._data import _dask

            check_is_fitted(self)
            fitted, checks = (self.coef_, self.intercept_), self._checks(reset=False)
            return _dask.score(X, y, sample_weight, *fitted, **checks)
        return super().score(X, y, sample_weight=sample_weight)

    @property
    def model_(self):
        """The trained neuron as a float64 Keras model; it predicts as predict()."""
        check_is_fitted(self)
        if getattr(self, "_keras_model", None) is None:  # a cache, not pickled
            self._keras_model = keras_model(self.coef_, self.intercept_)
        return self._keras_model

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_keras_model", None)  # rebuilt from coef_ and intercept_
        return state

    def __setstate__(self, state):
        super().__setstate__(upgraded(state))  # also pickles of earlier versions

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # one Dense unit per target
        # sparse X trains on its sums or its rows (skneuron._data._sparse), but
        # not on a Gram matrix given as precompute
        tags.input_tags.sparse = isinstance(self.precompute, bool | str)
        return tags

    def summary(
        self, alpha=0.05, *, cov_type="nonrobust", X=None, y=None,
        sample_weight=None, groups=None,
    ):  # fmt: skip
        """Standard errors, t tests, R² and diagnostics of the trained coefficients.

        statsmodels' ``OLS(y, add_constant(X)).fit(cov_type=...)`` (``WLS`` with
        weights) at the trained coefficients, never replaced. Robust covariances
        read each row's residual: pass the training rows again (checked).

        Parameters
        ----------
        alpha : float, default=0.05
            Level of the confidence intervals (table and ``conf_int()``).
        cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster"}, \
                default="nonrobust"
            ``σ² (X'WX)⁻¹``, a heteroscedasticity-robust sandwich, or one robust to
            correlation within ``groups``, tested as statsmodels does (user guide).
        X, y, sample_weight : array-like or sparse matrix (X), default=None
            The rows given to :meth:`fit` (sample_weight if it had them), for a
            robust ``cov_type`` only.
        groups : array-like of shape (n_samples,), default=None
            Each row's cluster, for ``cov_type="cluster"`` only.

        Returns
        -------
        results : RegressionResults or list of RegressionResults
            statsmodels' ``params``, ``bse``, ``pvalues``, ``conf_int()``, ``llf``,
            ...; ``str()`` is a table, ``to_frame()`` a DataFrame. One per target.

        Raises
        ------
        ValueError
            Where the classical formulas do not hold (``alpha > 0``, another loss,
            a coefficient on its bound, rank-deficient X, after :meth:`partial_fit`),
            or a robust ``cov_type`` lacks the training rows or is given others.

        Warns
        -----
        ConvergenceWarning
            When training stopped short of the least-squares optimum.

        Examples
        --------
        >>> import numpy as np
        >>> from skneuron import NeuronRegressor
        >>> X, y = np.arange(6.0)[:, None], np.array([1.1, 2.9, 5.2, 6.9, 9.1, 10.8])
        >>> reg = NeuronRegressor().fit(X, y)
        >>> print(reg.summary().bse.round(4))
        [0.1141 0.0377]
        >>> print(reg.summary(cov_type="HC3", X=X, y=y).bse.round(4))
        [0.1098 0.0438]
        """
        check_is_fitted(self)
        rows = requested_rows(
            cov_type, X, y, sample_weight, groups, self._checks(False)
        )
        return summarize(
            self._record, self.coef_, self.intercept_, alpha=alpha, cov_type=cov_type,
            rows=rows, feature_names=getattr(self, "feature_names_in_", None),
        )  # fmt: skip

    # -- the steps of fit ---------------------------------------------------------
    def _settings(self):
        """The parameters that decide how the data is read and prepared."""
        return Settings(**{f.name: getattr(self, f.name) for f in fields(Settings)})

    def _training(self):
        """The parameters that decide what is minimized and how."""
        return Training(**{f.name: getattr(self, f.name) for f in fields(Training)})

    def _checks(self, reset):
        """What a source needs to check X as ``validate_data`` would: this name,
        and its record of the features seen (set with ``reset``, else checked)."""

        def features(header, X):
            _check_feature_names(self, header, reset=reset)
            _check_n_features(self, X, reset=reset)

        return {"name": type(self).__name__, "features": features}

    def _initial_state(self, scaling):
        """Start from zero, or from the previous fit with ``warm_start``."""
        n_features, n_targets = len(scaling.X_scale), len(scaling.Y_scale)
        if self.warm_start and hasattr(self, "coef_"):
            coef = np.atleast_2d(self.coef_)
            if coef.shape == (n_targets, n_features):
                return TrainState(*scaling.to_standardized(coef, self.intercept_))
        return TrainState.zeros(n_features, n_targets)

    def _set_fitted(self, result, plan, prepared, before=None):
        """Every fitted attribute, from the engine's result: after :meth:`fit`
        (``prepared`` a :class:`~skneuron._data.Prepared`), or after
        :meth:`partial_fit` (a stream's :class:`~skneuron._stream.Step`, and
        ``before`` the epochs and losses recorded so far)."""
        scaling, streamed = plan.scaling, before is not None
        coef, intercept = scaling.to_original(result.state.kernel, result.state.bias)
        if not self.fit_intercept:
            intercept = np.zeros_like(intercept)
        if streamed:  # a row counts each time it is passed: no inference
            stats, seen = None, prepared.passed
        else:
            stats = prepared.statistics(coef, intercept)
            seen = prepared.moments.weighted(prepared.checked.weight_scale)
            self.singular_, self.rank_ = prepared.singular, prepared.rank
        n_iter, losses = before or (0, [])
        losses = losses + plan.to_y_units(result.losses)
        self.history_ = {"loss": losses[-_HISTORY_KEPT:] if streamed else losses}
        if result.val_losses is not None:
            self.history_["val_loss"] = plan.to_y_units(result.val_losses)
        if prepared.one_target:
            coef, intercept = coef[0], intercept[0]
        self.coef_ = coef
        self.intercept_ = intercept if self.fit_intercept else 0.0  # as LR's
        self.n_iter_ = n_iter + result.n_epochs
        self._keras_model = None
        self._record = TrainingRecord(
            stats,
            n_iter=self.n_iter_,
            gradient_norm=float(np.max(result.gradient)),
            # whether training stopped by its convergence test (or ran its fixed
            # epochs), for summary()
            converged=result.stop is not Stop.MAX_EPOCHS or self.tol is None,
            penalized=self.alpha > 0,
            loss=self.loss,
            positive=self.positive,
            streamed=streamed,
        )
        # what partial_fit needs to continue: kept exactly, in standardized units
        self._stream = Stream(
            scaling, result.optimizer, result.state, plan.schedule.seed, seen, streamed
        )


_HISTORY_KEPT = 1_000  # epochs of losses partial_fit keeps in history_ (bounded)
