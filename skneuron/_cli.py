"""The ``skneuron`` command (also ``python -m skneuron``).

- no command: the demo, the neuron beside LinearRegression on built-in data;
- ``fit DATA.csv --target NAME``: the summary table, the coefficients beside a
  scikit-learn reference's for the loss (see :mod:`skneuron._clireport`) and the
  fit times (``--output json``: one JSON document instead, the other lines on
  stderr); ``--save`` keeps the model for ``predict``;
- ``predict MODEL.json DATA.csv``: predictions as CSV.

CSV files are read in blocks by :mod:`skneuron._csv` (pyarrow's streaming
reader): a header row of column names, then numeric cells in the columns used
(``--formula`` also takes text columns as categories, :mod:`skneuron._formula`).
Bad input ends the command with one line on stderr, ``skneuron: error: ...``, and
exit status 2.

A model saved by ``fit --save`` is a JSON file of the linear model's numbers
and names (see :mod:`skneuron._modelfile`): ``predict`` reads it as data, so
loading one runs no code. Pickle and joblib files (which ``fit --save`` wrote
before, and which run any code they hold when loaded) are read only with
``predict --trust-pickle``, with a warning; without it they are refused, never
unpickled. ``fit --save`` refuses a ``.joblib``/``.pkl`` name.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import importlib
import importlib.util
import io
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from skneuron import _backends, _modelfile
from skneuron._clireport import fit_document, reference_fit

SAVED_FORMAT = _modelfile.FORMAT
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
EXIT_ERROR = 2

DESCRIPTION = """\
Linear regression by a Keras single neuron, trained by gradient descent.

With no command, fit the neuron beside scikit-learn's LinearRegression on built-in
data (the first tutorial's noisy line and the diabetes data, unscaled) and print
both estimators' coefficients, intercepts and fit times. Nothing is downloaded.
"""

EPILOG = """\
examples:
  skneuron
  skneuron fit houses.csv --target price
  skneuron fit houses.csv --target price --features area,rooms --save model.json
  skneuron predict model.json new.csv --out predictions.csv

Run "skneuron fit --help" or "skneuron predict --help" for their options.
Bad input prints one line, "skneuron: error: ...", and exits with status 2.
"""

FIT_DESCRIPTION = """\
Fit the neuron on a CSV file (a header row of column names, then numbers) and
print: the summary table (standard errors, t tests, R-squared, as statsmodels'
OLS), the coefficients beside a scikit-learn reference's, and the fit times.
The reference minimizes the same loss: LinearRegression (squared_error),
QuantileRegressor(quantile=0.5) (absolute_error), or HuberRegressor with its
epsilon chosen so that its threshold, epsilon * scale_, is the neuron's (huber;
where none is, a line says that the objectives differ). With a penalty
(--alpha > 0) or a robust --loss, standard errors do not apply: the
coefficients are printed without them, with a note why.

--output json prints one JSON document instead (the coefficients by name, the
summary's statistics, epochs, convergence, the reference's coefficients); the
other lines then go to standard error.

A progress bar is shown while training when standard output is a terminal
(--progress / --no-progress to choose).
"""

PREDICT_DESCRIPTION = """\
Predict with a model saved by "skneuron fit --save". The model's feature columns
are taken from DATA by name (other columns are ignored). The predictions are
written as CSV, with the target's name as header, to standard output or --out.

Safe to load: the JSON model files that "skneuron fit --save" writes; they are
read as data and checked, and no code in them runs. Pickle and joblib files
(older skneuron's --save, or joblib.dump of a NeuronRegressor) can run any
code when loaded: they are refused unless --trust-pickle is given, and then
loaded with a warning. Use --trust-pickle only for files you made yourself.
"""


class CommandError(Exception):
    """Bad input: printed as one line, ``skneuron: error: <message>``."""


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line instead of usage and exit."""

    def error(self, message):
        """Raise the usage error as bad input."""
        raise CommandError(f"{message} (see: {self.prog} --help)")


def main(argv: list[str] | None = None) -> int:
    """Run the ``skneuron`` command.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 on bad input (after one line on stderr).

    Examples
    --------
    >>> from skneuron._cli import main
    >>> main(["predict", "no-such-model.json", "new.csv"])
    2
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        return args.run(args)
    except CommandError as exc:
        print(f"skneuron: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print("skneuron: interrupted", file=sys.stderr)
        return 130


def _parser():
    """The ``skneuron`` parser: the demo's option, then the two commands."""
    parser = _Parser(
        prog="skneuron",
        usage="%(prog)s [-h] [--seed SEED] [COMMAND ...]",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the demo's noisy line (0)"
    )
    parser.set_defaults(run=_demo)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_fit(commands)
    _add_predict(commands)
    return parser


def _add_fit(commands):
    """The ``fit`` command and its options."""
    fit = commands.add_parser(
        "fit",
        prog="skneuron fit",
        help="fit the neuron on a CSV file; print its summary table",
        description=FIT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_options(fit)
    _add_training_options(fit)
    _add_output_options(fit)
    fit.set_defaults(run=_fit)


def _add_data_options(fit):
    """The ``fit`` options that choose the data: the file, its columns, and its
    rows with missing values."""
    fit.add_argument("data", metavar="DATA.csv", help="training data")
    fit.add_argument(
        "--target", metavar="NAME", help="column to predict (required, or --formula)"
    )
    fit.add_argument(
        "--features",
        metavar="A,B,...",
        action="append",
        help="feature columns, comma-separated (default: every other column)",
    )
    fit.add_argument(
        "--formula",
        metavar='"Y ~ A + C(B)"',
        help="target and features as a Wilkinson formula (formulaic's; needs "
        'pip install "skneuron[formula]"), instead of --target and --features',
    )
    fit.add_argument(
        "--missing",
        choices=["raise", "drop"],
        default="raise",
        help="rows with missing values (empty cells, NA, ...): an error (raise) "
        "or left out (drop)",
    )


def _add_training_options(fit):
    """The ``fit`` options that choose the estimator's parameters."""
    fit.add_argument(
        "--loss",
        choices=["squared_error", "absolute_error", "huber"],
        default="squared_error",
        help="training loss (squared_error)",
    )
    fit.add_argument(
        "--alpha", type=float, default=0.0, help="penalty strength (0: none)"
    )
    fit.add_argument(
        "--l1-ratio",
        type=float,
        default=0.0,
        help="share of the L1 penalty in --alpha (0: ridge)",
    )
    fit.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="most epochs to train (default: as many as the problem's "
        "conditioning calls for)",
    )


def _add_output_options(fit):
    """The ``fit`` options after the training ones: the field separator, the
    files to write, the output's format and the progress bar."""
    fit.add_argument("--sep", default=",", help='field separator (","; "\\t" = tab)')
    fit.add_argument(
        "--save",
        metavar="MODEL.json",
        help="save the fitted model as JSON (safe to load; not .joblib or .pkl)",
    )
    fit.add_argument(
        "--plot", metavar="CURVE.png", help="draw the loss curve (needs matplotlib)"
    )
    fit.add_argument(
        "--output",
        choices=["text", "json"],
        default="text",
        help="text: the tables (default); json: one JSON document on stdout (the "
        "coefficients, the summary's statistics, epochs and convergence), the "
        "other lines on stderr",
    )
    fit.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar while training (default: when stdout is a terminal)",
    )


def _add_predict(commands):
    """The ``predict`` command and its options."""
    predict = commands.add_parser(
        "predict",
        prog="skneuron predict",
        help="predict with a saved model, as CSV",
        description=PREDICT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    predict.add_argument(
        "model", metavar="MODEL.json", help="a JSON model file from fit --save"
    )
    predict.add_argument("data", metavar="DATA.csv", help="samples to predict")
    predict.add_argument("--out", metavar="FILE.csv", help="write here, not stdout")
    predict.add_argument("--sep", default=",", help="field separator (,)")
    predict.add_argument(
        "--trust-pickle",
        action="store_true",
        help="also load a pickle or joblib MODEL, which runs any code it holds "
        "(only for files you trust)",
    )
    predict.set_defaults(run=_predict)


# -- the demo (no command) --------------------------------------------------------
def _demo(args) -> int:
    """The neuron beside LinearRegression on the tutorial's line and diabetes."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression

    from skneuron import NeuronRegressor

    rng = np.random.default_rng(args.seed)
    x = np.linspace(0, 50, 51)
    datasets = {
        "noisy line (tutorial 1)": (x[:, None], x + 10 * rng.random(len(x))),
        "diabetes (unscaled)": load_diabetes(return_X_y=True, scaled=False),
    }
    with np.printoptions(precision=6, suppress=True, linewidth=100):
        for name, (X, y) in datasets.items():
            neuron, reference = NeuronRegressor(), LinearRegression()
            first = _timed_fit(neuron, X, y)  # includes starting TensorFlow
            again = _timed_fit(neuron, X, y)
            ref_time = _timed_fit(reference, X, y)
            rel = np.max(
                np.abs(neuron.coef_ - reference.coef_) / np.abs(reference.coef_)
            )
            print(f"== {name}: {X.shape[0]} samples, {X.shape[1]} features")
            print(f"NeuronRegressor   coef_ {neuron.coef_}")
            print(f"                  intercept_ {neuron.intercept_:.6f}")
            print(f"LinearRegression  coef_ {reference.coef_}")
            print(f"                  intercept_ {reference.intercept_:.6f}")
            print(
                f"largest relative coef difference {rel:.1e}; epochs "
                f"{neuron.n_iter_}; fit time {first:.3f} s first, {again:.3f} s "
                f"again (LinearRegression {ref_time:.4f} s)"
            )
    return 0


def _timed_fit(estimator, X, y):
    """Fit the estimator; return the seconds it took."""
    start = time.perf_counter()
    estimator.fit(X, y)
    return time.perf_counter() - start


# -- fit -------------------------------------------------------------------------
def _fit(args) -> int:
    """``skneuron fit``: train, print the summary and the comparison, save."""
    _check_outputs(args)
    table = _read_csv(args.data, _separator(args.sep))
    X, y, features, fit_intercept, dropped = _fit_data(args, table)
    starts_backend = "keras" not in sys.modules
    reg = _estimator(args, starts_backend).set_params(fit_intercept=fit_intercept)
    _call(reg._validate_params, "fit")  # bad options: one line, nothing before
    text = _notes(args)  # stdout, or stderr under --output json
    # before training's progress bar and warnings
    _print_data_line(args, len(y), features, dropped, file=text)
    with contextlib.redirect_stdout(text):  # the progress bar
        elapsed = _call(lambda: _timed_fit(reg, X, y), "fit")
    # X is not needed after this: LinearRegression may centre it in place
    reference = reference_fit(args.loss, X, y, reg.epsilon, fit_intercept)
    results, note = _summary(reg, features, args.target)
    if args.output == "json":
        _save_outputs(args, reg, features)
        _print_document(args, reg, features, len(y), results, note, reference, elapsed)
        return 0
    _print_report(reg, features, results, note, reference, elapsed, starts_backend)
    _save_outputs(args, reg, features)
    return 0


def _fit_data(args, table):
    """X, y, the coefficients' names, whether to fit an intercept and the number
    of rows dropped, from --formula or else --target and --features."""
    if args.formula is not None:
        return _formula_data(args, table)
    features = _fit_columns(args, table)
    numbers = table.numbers(features, args.target, missing=args.missing)
    return numbers.X, numbers.y, features, True, numbers.dropped


def _print_data_line(args, nobs, features, dropped, file):
    """Print one line on the data: its rows, target and number of features."""
    dropped = f" ({dropped} with missing values dropped)" if dropped else ""
    print(
        f"{args.data}: {nobs} rows{dropped}; target column {args.target!r}; "
        f"{len(features)} feature{'s' * (len(features) > 1)}",
        file=file,
    )


def _print_document(args, reg, features, nobs, results, note, reference, seconds):
    """Print the ``--output json`` document (see
    :func:`~skneuron._clireport.fit_document`)."""
    document = fit_document(
        data=args.data,
        target=args.target,
        features=features,
        nobs=nobs,
        reg=reg,
        results=results,
        note=note,
        reference=reference,
        seconds=seconds,
        saved=args.save,
    )
    print(json.dumps(document, indent=2, allow_nan=False))


def _print_report(reg, features, results, note, reference, seconds, starts_backend):
    """Print the text report: the summary table where there is one, the
    coefficients beside the reference's, the note and the fit times."""
    print()
    if results is not None:
        print(results)
        print()
    _print_coefficients(reg, reference, features)
    if note is not None:
        print(f"note: {note}")
    started = ""
    if starts_backend:
        started = f", starting Keras on {_backends.configured()} included"
    print(
        f"fit time: NeuronRegressor {seconds:.3f} s ({reg.n_iter_} epochs{started}), "
        f"{reference.name} {reference.seconds:.4f} s"
    )


def _notes(args):
    """Where the human-readable lines go: stdout, or stderr when stdout carries
    the JSON document."""
    return sys.stderr if args.output == "json" else sys.stdout


def _check_outputs(args):
    """Refuse --plot without matplotlib and output files in missing folders, before
    any training."""
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        raise CommandError(
            '--plot needs matplotlib: pip install "skneuron[plot]" (or leave out '
            "--plot)"
        )
    if args.save and Path(args.save).suffix.lower() in PICKLE_SUFFIXES:
        name = Path(args.save).with_suffix(".json")
        raise CommandError(
            f"--save writes a JSON model file (safe to load), not a pickle: name "
            f"it {name} instead of {args.save}"
        )
    for option, path in (("--save", args.save), ("--plot", args.plot)):
        if path and not Path(path).resolve().parent.is_dir():
            raise CommandError(
                f"cannot write {path} ({option}): no directory {Path(path).parent}"
            )


def _fit_columns(args, table):
    """The feature columns: those --features names, else all but the target."""
    if args.target is None:
        raise CommandError(
            f"--target is required: the column to predict; the columns of "
            f"{args.data} are {_listing(table.header)}"
        )
    table.check_columns([args.target], "--target")
    if args.features:
        features = [
            name.strip() for given in args.features for name in given.split(",")
        ]
        features = [name for name in features if name]
        table.check_columns(features, "--features")
        if args.target in features:
            raise CommandError(f"--features includes the target {args.target!r}")
        if len(set(features)) < len(features):
            raise CommandError("--features names a column more than once")
    else:
        features = [name for name in table.header if name != args.target]
    if not features:
        raise CommandError(
            f"{args.data} has no column besides the target {args.target!r} to use "
            "as a feature"
        )
    return features


def _formula_data(args, table):
    """X, y, the coefficients' names, whether to fit an intercept and the rows
    dropped, from --formula (formulaic's model matrices); sets ``args.target``
    to the formula's left-hand side."""
    from skneuron._formula import formula_data

    data = formula_data(
        args.formula, table, target=args.target, features=args.features,
        missing=args.missing,
    )  # fmt: skip
    args.target = data.target
    return data.X, data.y, data.features, data.fit_intercept, data.dropped


def _estimator(args, starts_backend):
    """The estimator the options describe, with a progress bar if asked for (by
    default when standard output is a terminal)."""
    from skneuron import NeuronRegressor

    default = sys.stdout.isatty() and args.output == "text"
    progress = default if args.progress is None else args.progress
    if progress and starts_backend:
        # verbose=1 imports Keras' Progbar before the engine, whose import hides
        # TensorFlow's start-up log lines: start the engine first
        with contextlib.suppress(ImportError):
            importlib.import_module("skneuron._keras")
    return NeuronRegressor(
        loss=args.loss,
        alpha=args.alpha,
        l1_ratio=args.l1_ratio,
        epochs="auto" if args.epochs is None else args.epochs,
        verbose=int(progress),
    )


def _summary(reg, features, target):
    """The summary's results with the columns' names, and None; where the fit has
    none (penalty, robust loss, ...), None and the reason."""
    try:
        with _warnings_reported():
            results = reg.summary()
    except ValueError as exc:
        return None, str(exc)
    names = ("const", *features) if reg.fit_intercept else tuple(features)
    return dataclasses.replace(results, names=names, target_name=target), None


def _save_outputs(args, reg, features):
    """Write the model (--save) and the loss curve (--plot) where asked."""
    if args.save:
        model = _modelfile.SavedModel.from_estimator(
            reg, features, args.target, formula=getattr(args, "formula", None)
        )
        _write(args.save, lambda path: _dump(model, path))
        print(f"saved the model to {args.save}", file=_notes(args))
    if args.plot:
        _write(args.plot, lambda path: _plot(reg, path))
        print(f"saved the loss curve to {args.plot}", file=_notes(args))


def _call(function, what):
    """Run the estimator; its ValueErrors are bad input, its warnings one line."""
    with _warnings_reported():
        try:
            result = function()
        except (ValueError, TypeError) as exc:
            raise CommandError(f"{what} failed: {_first_line(exc)}") from None
    return result


@contextlib.contextmanager
def _warnings_reported():
    """Catch the warnings of the block; when it succeeds, print each distinct one
    as one line on stderr (numpy's overflow warnings as one line for them all)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    seen = set()
    for warning in caught:
        message = _first_line(warning.message)
        key = line = f"skneuron: warning: {message}"
        if issubclass(warning.category, RuntimeWarning) and "overflow" in message:
            key = "overflow"  # numpy's, one line for them all
            line += " (values beyond float64's range: rescale X or y)"
        if key not in seen:
            seen.add(key)
            print(line, file=sys.stderr)


def _first_line(message):
    """The first line of an exception or warning message (else its type's name)."""
    text = str(message).strip()
    return text.splitlines()[0] if text else type(message).__name__


def _print_coefficients(reg, reference, features):
    """Print the neuron's coefficients beside the reference's (a
    :class:`~skneuron._clireport.Reference`), and their largest relative
    difference."""
    ref = reference.estimator
    if reference.description is not None:
        print(reference.description)
    rows = [("const", reg.intercept_, ref.intercept_)]
    rows += list(zip(features, reg.coef_, ref.coef_, strict=True))
    width = max(10, *(len(name) for name, _, _ in rows))
    print(f"{'':<{width}}{'NeuronRegressor':>20}{reference.name:>20}")
    for name, mine, theirs in rows:
        print(f"{name:<{width}}{mine:>20.10g}{theirs:>20.10g}")
    with np.errstate(all="ignore"):
        scale = np.maximum(np.abs(ref.coef_), np.finfo(float).tiny)
        rel = np.max(np.abs(reg.coef_ - ref.coef_) / scale)
    print(f"largest relative coefficient difference {rel:.1e}")


def _dump(model, path):
    """Save the model as JSON."""
    try:
        _modelfile.write_model(model, path)
    except _modelfile.ModelFileError as exc:
        raise CommandError(f"cannot save {path}: {exc}") from None


def _plot(reg, path):
    """Draw the loss curve of the fitted estimator into the file ``path``."""
    import matplotlib

    matplotlib.use("Agg")  # a file, never a window
    import matplotlib.pyplot as plt

    from skneuron import LossCurveDisplay

    display = LossCurveDisplay.from_estimator(reg, log_scale=True)
    try:
        display.figure_.savefig(path)
    finally:
        plt.close(display.figure_)


def _write(path, write):
    """Call ``write(path)``; a failure to write is bad input."""
    try:
        write(path)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # e.g. matplotlib: unknown file extension
        raise CommandError(f"cannot write {path}: {_first_line(exc)}") from None


# -- predict ---------------------------------------------------------------------
def _predict(args) -> int:
    """``skneuron predict``: the saved model's predictions as CSV."""
    model = _load_model(args.model, args.trust_pickle)
    table = _read_csv(args.data, _separator(args.sep))
    features = model.features
    if features is None:  # a bare model fitted without column names
        if len(table.header) != model.n_features_in:
            raise CommandError(
                f"the model has {model.n_features_in} features without names, "
                f"but {args.data} has {len(table.header)} columns"
            )
        features = list(table.header)
    table.check_columns(features, f"the model ({args.model})")
    X = table.numeric(features)
    predictions = _call(lambda: model.predict(X), "predict")
    predictions = np.asarray(predictions).reshape(len(X), -1)
    target = model.target
    header = (
        [target]
        if predictions.shape[1] == 1
        else [f"{target}{i}" for i in range(predictions.shape[1])]
    )
    out = io.StringIO()
    writer = csv.writer(out, delimiter=_separator(args.sep), lineterminator="\n")
    writer.writerow(header)
    writer.writerows([repr(float(v)) for v in row] for row in predictions)
    if args.out:
        _write(args.out, lambda path: Path(path).write_text(out.getvalue()))
    else:
        sys.stdout.write(out.getvalue())
    return 0


def _load_model(path, trust_pickle=False):
    """The saved model (a :class:`~skneuron._modelfile.SavedModel`): a JSON file,
    read as data; a pickle or joblib file only if trusted, with a warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return _modelfile.read_model(path, trust_pickle=trust_pickle)
        except _modelfile.ModelFileError as exc:
            raise CommandError(str(exc)) from None
        finally:
            for warning in caught:  # also when loading failed
                message = _first_line(warning.message)
                print(f"skneuron: warning: {message}", file=sys.stderr)


# -- CSV -------------------------------------------------------------------------
def _separator(sep):
    """The --sep character (``\\t`` and ``tab`` stand for a tab)."""
    sep = {"\\t": "\t", "tab": "\t"}.get(sep, sep)
    if len(sep) != 1:
        raise CommandError(f"--sep must be one character, got {sep!r}")
    return sep


def _read_csv(path, sep):
    """The CSV file's header, as a :class:`skneuron._csv.CSVFile` that reads its
    columns in blocks."""
    from skneuron._csv import open_csv

    return open_csv(path, sep)


def _listing(names, limit=20):
    """The names, comma-separated, the first ``limit`` of them."""
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
