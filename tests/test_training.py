"""Losses, validation and streaming: each checked against an independent answer."""

import pickle
import warnings
from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import linprog, minimize
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold

from skneuron import NeuronRegressor


@pytest.fixture(scope="module")
def heavy_tailed():
    """Well-conditioned data with Student-t noise, columns of very different units."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)) * [1.0, 10.0, 100.0] + [0.0, 5.0, -50.0]
    y = X @ [2.0, -0.3, 0.05] + 4.0 + rng.standard_t(2, size=60)
    return X, y


def _least_absolute_deviations(X, y, sample_weight):
    """The absolute-error minimiser as a linear program (scipy's HiGHS)."""
    n, d = X.shape
    w = sample_weight / sample_weight.sum()
    A = np.hstack([X, np.ones((n, 1)), np.eye(n), -np.eye(n)])
    cost = np.r_[np.zeros(d + 1), w, w]
    bounds = [(None, None)] * (d + 1) + [(0, None)] * (2 * n)
    res = linprog(cost, A_eq=A, b_eq=y, bounds=bounds, method="highs")
    return res.x[:d], res.x[d], res.fun


def _huber(residual, epsilon):
    size = np.abs(residual)
    return np.where(
        size <= epsilon, 0.5 * residual**2, epsilon * size - 0.5 * epsilon**2
    )


def _weights(n, seed=1):
    return np.random.default_rng(seed).uniform(0.5, 2.0, n)


# -- losses --------------------------------------------------------------------
@pytest.mark.slow
def test_absolute_error_reaches_the_linear_programming_answer(heavy_tailed):
    X, y = heavy_tailed
    coef, intercept, best = _least_absolute_deviations(X, y, np.ones(len(y)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = NeuronRegressor(loss="absolute_error").fit(X, y)
    objective = np.mean(np.abs(y - reg.predict(X)))
    assert objective <= best * (1 + 1e-6)
    np.testing.assert_allclose(reg.coef_, coef, rtol=1e-5)
    np.testing.assert_allclose(reg.intercept_, intercept, rtol=1e-5)
    # the history is the mean absolute error, in the units of y
    assert reg.history_["loss"][-1] == pytest.approx(objective, rel=1e-5)


@pytest.mark.slow
def test_weighted_absolute_error_is_near_the_answer_or_warns(heavy_tailed):
    X, y = heavy_tailed
    sw = _weights(len(y))
    coef, intercept, best = _least_absolute_deviations(X, y, sw)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg = NeuronRegressor(loss="absolute_error").fit(X, y, sample_weight=sw)
    objective = np.average(np.abs(y - reg.predict(X)), weights=sw)
    assert objective <= best * (1 + 1e-5)
    np.testing.assert_allclose(reg.coef_, coef, rtol=1e-3)
    if objective > best * (1 + 1e-6):  # not within tol: it must say so
        assert any(issubclass(w.category, ConvergenceWarning) for w in caught)


@pytest.mark.parametrize("alpha", [0.0, 0.05])
def test_huber_matches_scipy_minimize(heavy_tailed, alpha):
    X, y = heavy_tailed
    sw, epsilon = _weights(len(y)), 1.5

    def objective(p):
        data = np.average(_huber(y - X @ p[:-1] - p[-1], epsilon), weights=sw)
        return data + alpha / 2 * p[:-1] @ p[:-1]

    start = np.linalg.lstsq(np.c_[X, np.ones(len(y))], y, rcond=None)[0]
    res = minimize(objective, start, method="BFGS", options={"gtol": 1e-10})
    reg = NeuronRegressor(loss="huber", epsilon=epsilon, alpha=alpha)
    reg.fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(reg.coef_, res.x[:-1], rtol=1e-5)
    np.testing.assert_allclose(reg.intercept_, res.x[-1], rtol=1e-5)
    assert objective(np.r_[reg.coef_, reg.intercept_]) <= res.fun + 1e-12


def test_huber_with_a_huge_epsilon_is_least_squares(heavy_tailed):
    X, y = heavy_tailed
    huber = NeuronRegressor(loss="huber", epsilon=1e6).fit(X, y)
    exact = np.linalg.lstsq(np.c_[X, np.ones(len(y))], y, rcond=None)[0]
    np.testing.assert_allclose(huber.coef_, exact[:-1], rtol=1e-6)


def test_epsilon_is_in_the_units_of_y(heavy_tailed):
    X, y = heavy_tailed
    small = NeuronRegressor(loss="huber", epsilon=0.5).fit(X, y)
    scaled = NeuronRegressor(loss="huber", epsilon=0.5 * 1000).fit(X, y * 1000)
    np.testing.assert_allclose(scaled.coef_, small.coef_ * 1000, rtol=1e-5)


def test_absolute_error_with_a_keras_optimizer_runs_its_epochs(heavy_tailed):
    X, y = heavy_tailed
    reg = NeuronRegressor(
        loss="absolute_error", optimizer="adam", learning_rate=0.1, epochs=50, tol=None
    ).fit(X, y)
    assert reg.n_iter_ == 50 and len(reg.history_["loss"]) == 50
    assert reg.history_["loss"][-1] < reg.history_["loss"][0]


# -- validation ------------------------------------------------------------------
def test_validation_rows_are_held_out_and_drawn_by_random_state(diabetes):
    X, y = diabetes
    reg = NeuronRegressor(validation_split=0.25, random_state=3).fit(X, y)
    # the same fit on the training rows alone: the held-out rows leak nowhere
    rows = np.random.RandomState(3).permutation(len(X))[int(np.ceil(0.25 * len(X))) :]
    alone = NeuronRegressor().fit(X[rows], y[rows])
    np.testing.assert_allclose(reg.coef_, alone.coef_, rtol=1e-8)
    held_out = np.setdiff1d(np.arange(len(X)), rows)
    mse = np.mean((y[held_out] - reg.predict(X[held_out])) ** 2)
    assert reg.history_["val_loss"][-1] == pytest.approx(mse, rel=1e-6)
    assert len(reg.history_["val_loss"]) == len(reg.history_["loss"]) == reg.n_iter_
    again = NeuronRegressor(validation_split=0.25, random_state=3).fit(X, y)
    np.testing.assert_array_equal(again.coef_, reg.coef_)
    other = NeuronRegressor(validation_split=0.25, random_state=4).fit(X, y)
    assert not np.allclose(other.coef_, reg.coef_)


def test_no_rows_are_withheld_without_validation(diabetes):
    X, y = diabetes
    reg = NeuronRegressor().fit(X, y)
    assert "val_loss" not in reg.history_
    exact = np.linalg.lstsq(np.c_[X, np.ones(len(y))], y, rcond=None)[0]
    np.testing.assert_allclose(reg.coef_, exact[:-1], rtol=1e-6)


def test_validation_folds_do_not_leak_across_cross_validation(diabetes):
    X, y = diabetes
    reg = NeuronRegressor(validation_split=0.2, random_state=0)
    for train, _ in KFold(3).split(X):
        fold = clone(reg).fit(X[train], y[train])
        alone = clone(reg).fit(X[train], y[train])
        np.testing.assert_array_equal(fold.coef_, alone.coef_)


def test_early_stopping_keeps_the_best_weights(heavy_tailed):
    X, y = heavy_tailed
    reg = NeuronRegressor(
        optimizer="adam",
        learning_rate=0.05,
        epochs=2000,
        validation_split=0.3,
        early_stopping=True,
        n_iter_no_change=10,
        random_state=0,
    ).fit(X, y)
    val = np.asarray(reg.history_["val_loss"])
    assert reg.n_iter_ < 2000  # it stopped early
    assert np.argmin(val) == reg.n_iter_ - 1 - 10  # patience epochs after the best
    rows = np.random.RandomState(0).permutation(len(X))[: int(np.ceil(0.3 * len(X)))]
    mse = np.mean((y[rows] - reg.predict(X[rows])) ** 2)
    assert mse == pytest.approx(val.min(), rel=1e-6)


def test_early_stopping_needs_validation_rows():
    with pytest.raises(ValueError, match="validation_split"):
        NeuronRegressor(early_stopping=True).fit(np.eye(4), np.arange(4.0))
    with pytest.raises(ValueError, match="no training rows"):
        NeuronRegressor(validation_split=0.9).fit(np.eye(2), np.arange(2.0))
    X, y = np.arange(20.0)[:, None], np.arange(20.0)
    held_out = np.random.RandomState(0).permutation(20)[:5]
    weights = np.zeros(20)
    weights[held_out] = 1.0
    with pytest.raises(ValueError, match="zero on every training row"):
        NeuronRegressor(validation_split=0.25, random_state=0).fit(X, y, weights)


# -- streaming ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def chunks():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 3)) * [1.0, 3.0, 0.5] + [2.0, -1.0, 0.0]
    y = X @ [1.5, -2.0, 4.0] + 3.0 + 0.1 * rng.normal(size=400)
    return X, y, np.array_split(np.arange(400), 4)


def _relative(reg, reference):
    return np.abs(reg.coef_ - reference.coef_).max() / np.abs(reference.coef_).max()


def test_every_pass_ends_at_fits_answer(chunks):
    """Every row counts each time it is passed: after each whole pass the rows
    passed are the data repeated, whose answer is fit's; between, the answer on
    the rows passed so far. Each call trains until the convergence test holds."""
    X, y, parts = chunks
    exact = NeuronRegressor(tol=1e-10).fit(X, y)
    stream = NeuronRegressor()
    for k in range(1, 3):
        for part in parts:
            stream.partial_fit(X[part], y[part])
        assert _relative(stream, exact) < 1e-6, f"after pass {k}"
    calls = 2 * len(parts)
    assert stream.n_iter_ == len(stream.history_["loss"]) > 5 * calls
    # the loss over all rows passed
    mse = np.mean((y - stream.predict(X)) ** 2)
    assert stream.history_["loss"][-1] == pytest.approx(mse, rel=1e-6)
    stream.partial_fit(X[parts[0]], y[parts[0]])  # a pass and a quarter
    rows = np.r_[np.arange(len(y)), np.arange(len(y)), parts[0]]
    passed = NeuronRegressor(tol=1e-10).fit(X[rows], y[rows])
    assert _relative(stream, passed) < 1e-6 < _relative(stream, exact)


@pytest.fixture(scope="module")
def diabetes_fit(diabetes):
    X, y = diabetes
    return NeuronRegressor(tol=1e-10).fit(X, y)


@pytest.mark.parametrize(
    "order", ["shuffled", "target", "bmi", "s5"], ids=lambda order: f"by-{order}"
)
def test_streams_reach_the_full_fit(diabetes, diabetes_fit, order):
    """Diabetes (unscaled) in 9 chunks, shuffled or sorted by the target or by one
    feature (each chunk then has its own scale): every pass reaches the full fit."""
    X, y = diabetes
    keys = {
        "shuffled": np.random.default_rng(0).random(len(y)),
        "target": y,
        "bmi": X[:, 2],
        "s5": X[:, 8],
    }
    parts = np.array_split(np.argsort(keys[order], kind="stable"), 9)
    stream = NeuronRegressor()
    for k in range(1, 3):
        for part in parts:
            stream.partial_fit(X[part], y[part])
        assert _relative(stream, diabetes_fit) < 1e-6, f"after pass {k}"


def _reshuffled_passes(X, y, n_passes, n_chunks, seed=0):
    """Passes over (X, y) as a shuffling data loader gives them: the rows in a
    new order, cut into new chunks, on every pass."""
    rng = np.random.default_rng(seed)
    stream = NeuronRegressor()
    for _ in range(n_passes):
        for part in np.array_split(rng.permutation(len(y)), n_chunks):
            stream.partial_fit(X[part], y[part])
    return stream


def test_reshuffled_passes_reach_the_full_fit(diabetes, diabetes_fit):
    X, y = diabetes
    stream = _reshuffled_passes(X, y, 3, 9)
    assert _relative(stream, diabetes_fit) < 1e-6
    fit = NeuronRegressor().fit(X, y)
    assert _relative(stream, fit) < 1e-6


@pytest.mark.slow
def test_sixty_reshuffled_passes_reach_the_full_fit(diabetes, diabetes_fit):
    """The development stream told chunks apart by their bytes: re-shuffled ones
    were new on every pass, so it never settled and took one plain gradient step
    a call, 13 % off fit's answer after 60 passes."""
    X, y = diabetes
    stream = _reshuffled_passes(X, y, 60, 9)
    assert _relative(stream, diabetes_fit) < 1e-6
    assert _relative(stream, NeuronRegressor().fit(X, y)) < 1e-6


@pytest.mark.slow
def test_an_unrepresentative_first_chunk_fixes_nothing(diabetes, diabetes_fit):
    """One row first (every column constant in it), then ordinary chunks: the
    units and the step follow the data seen, not the first chunk."""
    X, y = diabetes
    order = np.random.default_rng(1).permutation(len(y))
    stream = NeuronRegressor().partial_fit(X[order[:1]], y[order[:1]])
    parts = np.array_split(order[1:], 30)
    for part in parts:
        stream.partial_fit(X[part], y[part])
    assert _relative(stream, diabetes_fit) < 1e-6  # every row passed once
    for part in [order[:1], *parts]:
        stream.partial_fit(X[part], y[part])
    assert _relative(stream, diabetes_fit) < 1e-6


def test_a_sorted_line_streams_to_its_slope():
    """y = 3x + 5 + noise, x sorted over [0, 100], in 10 chunks: one pass."""
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 100, 1000))
    y = 3 * x + 5 + rng.normal(size=1000)
    stream = NeuronRegressor()
    for part in np.array_split(np.arange(1000), 10):
        stream.partial_fit(x[part, None], y[part])
    exact = np.polyfit(x, y, 1)
    np.testing.assert_allclose(stream.coef_, exact[:1], rtol=1e-6)


def test_a_chunk_passed_twice_counts_twice(chunks):
    """As SGDRegressor and every streaming estimator count it: the answer is
    fit's on the data with that chunk repeated."""
    X, y, parts = chunks
    stream = NeuronRegressor()
    for part in [*parts, parts[0]]:
        stream.partial_fit(X[part], y[part])
    rows = np.r_[np.arange(len(y)), parts[0]]
    repeated = NeuronRegressor(tol=1e-10).fit(X[rows], y[rows])
    assert _relative(stream, repeated) < 1e-6
    # and not fit's on the data once: the repeated chunk moves the answer
    assert _relative(repeated, NeuronRegressor(tol=1e-10).fit(X, y)) > 1e-4
    assert stream._stream.moments.count == len(rows)


def test_signed_zeros_make_no_difference(chunks):
    """A chunk with -0.0 where another has 0.0 holds the same rows: it counts
    the same (a digest of the bytes once told them apart)."""
    X, y, parts = chunks
    X = np.round(X)  # many exact zeros
    y = np.where(np.abs(y) < 1, 0.0, y)
    assert (X == 0).sum() > 50 and (y == 0).sum() > 5
    negative = np.where(X == 0, -0.0, X), np.where(y == 0, -0.0, y)
    assert np.signbit(negative[0]).sum() > np.signbit(X).sum()
    first = NeuronRegressor().partial_fit(X[parts[0]], y[parts[0]])
    signed_first = NeuronRegressor().partial_fit(*(a[parts[0]] for a in negative))
    np.testing.assert_array_equal(signed_first.coef_, first.coef_)
    same, signed = NeuronRegressor(), NeuronRegressor()
    for part in parts:
        same.partial_fit(X[part], y[part]).partial_fit(X[part], y[part])
        signed.partial_fit(X[part], y[part])
        signed.partial_fit(negative[0][part], negative[1][part])
    np.testing.assert_array_equal(signed.coef_, same.coef_)
    assert signed.intercept_ == same.intercept_
    assert signed.history_ == same.history_
    exact = NeuronRegressor(tol=1e-10).fit(X, y)
    assert _relative(signed, exact) < 1e-6  # every row twice: fit's answer


@pytest.mark.slow
def test_a_long_stream_keeps_a_small_state():
    """The state, and so the pickle, grows with the features, not with the
    chunks: the moments of the rows passed (O(n_features**2) numbers) and the
    last 1 000 epochs' losses."""
    rng = np.random.default_rng(0)

    def pickled_sizes(stream, n_chunks, n_features):
        sizes = []
        for _ in range(n_chunks):
            X = rng.normal(size=(20, n_features))
            stream.partial_fit(X, X.sum(1) + rng.normal(size=20))
            sizes.append(len(pickle.dumps(stream)))
        return sizes

    stream = NeuronRegressor(tol=None, epochs=10)  # 10 epochs a call
    sizes = pickled_sizes(stream, 200, 8)
    assert stream.n_iter_ == 2_000 and len(stream.history_["loss"]) == 1_000
    assert sizes[99] - sizes[0] >= 9 * (1_000 - 10)  # the history filling up
    # once it is full, nothing grows (but a few bytes for the counts of rows
    # and epochs)
    assert max(sizes[99:]) - sizes[99] < 16
    (wide,) = pickled_sizes(NeuronRegressor(tol=None, epochs=10), 1, 32)
    assert wide - sizes[0] > 8 * (32**2 - 8**2)  # X'X grows with p**2
    assert max(sizes) < 100_000


def test_partial_fit_fixes_features_and_targets(chunks):
    X, y, parts = chunks
    reg = NeuronRegressor().partial_fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="3 features"):
        reg.partial_fit(X[:50, :2], y[:50])
    with pytest.raises(ValueError, match="targets"):
        reg.partial_fit(X[:50], np.c_[y[:50], y[:50]])


def test_partial_fit_on_rows_keeps_the_optimizer_state(chunks):
    """On rows (here one batch of all of them, one step per call), each call is
    one more epoch of the same optimizer, as SGDRegressor's partial_fit."""
    X, y, parts = chunks
    params = dict(optimizer="adam", learning_rate=0.01, batch_size=len(y))
    reg = NeuronRegressor(**params)
    reg.partial_fit(X, y).partial_fit(X, y)
    assert reg.n_iter_ == 2
    # Adam's first two steps move each weight by about the learning rate; a fresh
    # optimizer (state lost) would repeat the first step's bias-corrected size
    slots = reg._stream.state.slots
    assert int(slots[0]) == 2  # iterations
    restarted = NeuronRegressor(**params)
    restarted.partial_fit(X, y)
    stream = restarted._stream
    restarted._stream = replace(stream, state=replace(stream.state, slots=None))
    restarted.partial_fit(X, y)
    assert not np.allclose(restarted.coef_, reg.coef_)


@pytest.mark.parametrize(
    "params",
    [{}, {"optimizer": "adam", "batch_size": 32}, {"loss": "absolute_error"}],
    ids=["default", "adam-minibatch", "absolute"],
)
def test_partial_fit_interrupted_by_pickle_ends_the_same(chunks, params):
    X, y, parts = chunks
    straight = NeuronRegressor(random_state=0, **params)
    interrupted = NeuronRegressor(random_state=0, **params)
    for _ in range(3):
        for part in parts:
            straight.partial_fit(X[part], y[part])
            interrupted = pickle.loads(pickle.dumps(interrupted))
            interrupted.partial_fit(X[part], y[part])
    np.testing.assert_array_equal(interrupted.coef_, straight.coef_)
    np.testing.assert_array_equal(interrupted.intercept_, straight.intercept_)
    assert interrupted.history_ == straight.history_


def test_partial_fit_after_fit_continues_and_fit_starts_over(chunks):
    X, y, parts = chunks
    reg = NeuronRegressor().fit(X, y)
    coef = reg.coef_.copy()
    reg.partial_fit(X, y)
    np.testing.assert_allclose(reg.coef_, coef, rtol=1e-6)  # already at the optimum
    assert reg.n_iter_ == len(reg.history_["loss"])
    reg.partial_fit(X[parts[0]], y[parts[0]])  # fit's rows, twice, and a chunk
    assert not np.allclose(reg.coef_, coef, rtol=1e-4)
    for part in parts[1:]:  # three passes: fit's answer
        reg.partial_fit(X[part], y[part])
    np.testing.assert_allclose(reg.coef_, coef, rtol=1e-6)
    refit = clone(reg).fit(X[:100], y[:100])
    assert refit.n_iter_ == len(refit.history_["loss"])


def test_warm_start_continues_from_the_previous_coefficients(diabetes):
    X, y = diabetes
    reg = NeuronRegressor(warm_start=True, tol=None, epochs=5).fit(X, y)
    mse = np.mean((y - reg.predict(X)) ** 2)
    reg.fit(X, y)
    # the second fit's first epoch is measured at the first fit's weights
    assert reg.history_["loss"][0] == pytest.approx(mse, rel=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg.set_params(tol=1e-6, epochs=10_000).fit(X, y)


def test_partial_fit_after_fit_joins_fits_rows(diabetes, diabetes_fit):
    """fit's heavy-ball momentum suits the whole data, not its chunks: continuing
    with it on eighths of badly conditioned data threw the weights 11x off. Now
    the chunks join fit's rows (counted twice after a pass, the same
    least-squares answer), and each call trains on all of them."""
    X, y = diabetes
    reg = NeuronRegressor().fit(X, y)
    parts = np.array_split(np.arange(len(y)), 8)
    for part in parts[:3]:
        reg.partial_fit(X[part], y[part])
    # fit's rows and three eighths of them again: the answer on those rows
    rows = np.concatenate([np.arange(len(y)), *parts[:3]])
    passed = NeuronRegressor(tol=1e-10).fit(X[rows], y[rows])
    assert _relative(reg, passed) < 1e-6 < _relative(reg, diabetes_fit)
    for part in parts[3:]:
        reg.partial_fit(X[part], y[part])
    assert _relative(reg, diabetes_fit) < 1e-6


@pytest.mark.slow
def test_estimators_pickled_by_0_1_0_load_predict_and_continue():
    """tests/data/skneuron-0.1.0.pkl was written by skneuron 0.1.0: a fitted
    estimator and two partial_fit streams (plain SGD, and Adam in mini-batches).
    They load, predict as they did, and their streams continue with today's rule:
    0.1.0 kept no sums of the chunks, so the sums start with the next chunk."""
    import pathlib

    with open(pathlib.Path(__file__).parent / "data" / "skneuron-0.1.0.pkl", "rb") as f:
        old = pickle.load(f)
    X, y = old["X"], old["y"]
    fitted = old["fitted"]
    np.testing.assert_allclose(fitted.predict(X), X @ fitted.coef_ + fitted.intercept_)
    np.testing.assert_allclose(
        fitted.coef_, [0.98672598, -0.49824656, 0.02041026], rtol=1e-6
    )
    A = np.c_[X, np.ones(len(y))]
    exact = np.linalg.lstsq(A, y, rcond=None)[0]
    best = np.mean((y - A @ exact) ** 2)
    # epochs a call trains at least: on the sums until the convergence test holds
    # n_iter_no_change (5) epochs in a row; on rows (mini-batches) one epoch
    for name, passes, epochs in [("stream", 3, 5), ("adam_stream", 30, 1)]:
        stream = old[name]
        n_iter = stream.n_iter_
        before = np.mean((y - stream.predict(X)) ** 2)
        for _ in range(passes):
            for part in np.array_split(np.arange(len(y)), 3):
                stream.partial_fit(X[part], y[part])
        assert stream.n_iter_ >= n_iter + 3 * passes * epochs
        if epochs == 1:
            assert stream.n_iter_ == n_iter + 3 * passes
        after = np.mean((y - stream.predict(X)) ** 2)
        # never below the least-squares optimum, but for round-off
        assert best - _mse_round_off(A, y, exact) <= after < before
    np.testing.assert_allclose(old["stream"].coef_, exact[:-1], rtol=1e-6)


def _mse_round_off(A, y, w):
    """How far below ``mean((y - A @ w) ** 2)``, ``w`` the least-squares answer
    of float64 lstsq, another float64 evaluation of that mean can land at or
    near the optimum, from round-off alone.

    Each residual ``y - A w`` is a dot product of p + 2 terms: it is within about
    (p + 2) ulps of ``|y| + |A| |w|``, which moves its square by twice that times
    ``|r|`` (the mean's own sum adds ulps of the mean itself, far less). That
    holds for both evaluations, hence 2x. And lstsq's ``w`` is itself off the
    optimum by about ``eps * cond(A)`` of ``|w|``, which raises its mean by at
    most ``|A (w - w*)|**2 / n``.
    """
    eps = np.finfo(np.float64).eps
    n, k = A.shape
    r = y - A @ w
    evaluation = (
        2 * (k + 1) * eps * np.mean(np.abs(r) * (np.abs(y) + np.abs(A) @ np.abs(w)))
    )
    singular = np.linalg.svd(A, compute_uv=False)
    off = singular[0] / singular[-1] * eps * np.linalg.norm(w)
    return 2 * evaluation + (singular[0] * off) ** 2 / n


def test_estimators_pickled_before_the_data_seam_load_predict_and_continue():
    """tests/data/skneuron-unreleased.pkl was written by the code before the data
    seam (tests/data/make_unreleased_pickle.py): fits on dense, sparse and 2-D
    targets, Huber, and two streams. They predict and summarize as they did then
    (to round-off: another BLAS may sum in another order), and the streams
    continue."""
    import pathlib

    path = pathlib.Path(__file__).parent / "data" / "skneuron-unreleased.pkl"
    with open(path, "rb") as f:
        old = pickle.load(f)
    X, y = old["X"], old["y"]
    eps = np.finfo(np.float64).eps
    for name, reg in old["estimators"].items():
        coef = np.atleast_2d(reg.coef_)
        size = np.abs(X) @ np.abs(coef.T) + np.abs(reg.intercept_)
        then = old["predictions"][name]
        allowance = 4 * (X.shape[1] + 1) * eps * size.reshape(then.shape)
        assert np.all(np.abs(reg.predict(X) - then) <= allowance), name
    # the covariance inverts X'X: round-off grows with its condition number
    A = np.c_[X, np.ones(len(y))]
    cond = np.linalg.cond(A / np.abs(A).max(0)) ** 2
    for name, (params, bse, rsquared) in old["summary"].items():
        res = old["estimators"][name].summary()
        np.testing.assert_array_equal(res.params, params)  # the stored coefficients
        np.testing.assert_allclose(res.bse, bse, rtol=100 * eps * cond)
        assert res.rsquared == pytest.approx(rsquared, rel=100 * eps * cond)
    for name in ("stream", "adam_stream"):
        stream = old["estimators"][name]
        n_iter, coef = stream.n_iter_, stream.coef_.copy()
        stream.partial_fit(X[:100], y[:100])
        assert stream.n_iter_ > n_iter and not np.array_equal(stream.coef_, coef)
    with pytest.raises(ValueError, match="partial_fit"):
        old["estimators"]["stream"].summary()
