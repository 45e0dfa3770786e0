"""The command line's model files: a fitted linear model as JSON data, not pickle.

``skneuron fit --save model.json`` writes, and ``skneuron predict`` reads, one
JSON object (``FORMAT``, version ``VERSION``)::

    {"format": "skneuron.model", "version": 1, "skneuron_version": "0.1.0",
     "estimator": "NeuronRegressor", "target": "price",
     "features": ["area", "rooms", "age"], "formula": null,
     "n_features_in": 3, "coef": [2.63..., 7.47..., -0.69...],
     "intercept": 35.07...}

Reading it runs no code from the file: it is parsed as JSON and every field is
checked. Floats are written as Python's ``repr``, which reads back as the same
float64, so the loaded model predicts bit for bit as the fitted one. ``coef`` is
a list (one target) or a list of lists (one per target, with ``intercept`` a list).

Pickle and joblib files (what ``fit --save`` wrote before) run code when loaded:
:func:`read_model` refuses them unless ``trust_pickle=True``.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np

FORMAT = "skneuron.model"
VERSION = 1
PICKLE_FORMAT = "skneuron.cli.model"  # the dict that fit --save pickled before

# first bytes of a pickle (protocol 2 and later) and of joblib's compressed files
# (a JSON document never ends with ".", a pickle of any protocol always does)
_PICKLE_STARTS = (
    b"\x80\x02",
    b"\x80\x03",
    b"\x80\x04",
    b"\x80\x05",
    b"\x1f\x8b",  # gzip
    b"x\x01",  # zlib
    b"x\x5e",
    b"x\x9c",
    b"x\xda",
    b"BZh",  # bz2
    b"\xfd7zXZ\x00",  # xz
    b"\x5d\x00\x00",  # lzma
    b"\x04\x22\x4d\x18",  # lz4
    b"ZF",  # joblib's old zlib files
)


class ModelFileError(ValueError):
    """A model file that cannot be read: its message is one line."""


class PickleLoadWarning(UserWarning):
    """A trusted model file is being unpickled, which runs any code it holds."""


@dataclasses.dataclass(frozen=True)
class SavedModel:
    """A fitted linear model as plain data: what ``skneuron predict`` needs.

    Parameters
    ----------
    coef : ndarray of shape (n_features,) or (n_targets, n_features)
        The coefficients, as the estimator's ``coef_``.
    intercept : float or ndarray of shape (n_targets,)
        The intercept, as the estimator's ``intercept_``.
    features : tuple of str or None
        The feature columns' names, in the model's order; None for a model
        fitted without names (only from a trusted pickle).
    target : str
        The name of the predicted column.
    formula : str or None
        The formula that built the features, where one did.
    skneuron_version : str or None
        The skneuron that wrote the file (None: unknown, from a pickle).
    estimator : str, default="NeuronRegressor"
        The class of the fitted estimator.
    """

    coef: np.ndarray
    intercept: float | np.ndarray
    features: tuple[str, ...] | None
    target: str
    formula: str | None = None
    skneuron_version: str | None = None
    estimator: str = "NeuronRegressor"

    @property
    def n_features_in(self) -> int:
        """The number of features the model takes."""
        return self.coef.shape[-1]

    @classmethod
    def from_estimator(
        cls,
        reg: object,
        features: list[str] | None,
        target: str,
        formula: str | None = None,
    ) -> SavedModel:
        """The fitted estimator's model, with its columns' names."""
        from skneuron import __version__

        intercept = reg.intercept_
        intercept = (
            float(intercept) if np.ndim(intercept) == 0 else np.array(intercept, float)
        )
        return cls(
            coef=np.array(reg.coef_, dtype=float),
            intercept=intercept,
            features=None if features is None else tuple(str(f) for f in features),
            target=str(target),
            formula=formula,
            skneuron_version=__version__,
            estimator=type(reg).__name__,
        )

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``X @ coef.T + intercept``, the arithmetic of the estimator's ``predict``."""
        return np.asarray(X, dtype=float) @ self.coef.T + self.intercept

    def to_json(self) -> str:
        """The model as a JSON document (floats as their shortest ``repr``)."""
        if not (np.all(np.isfinite(self.coef)) and np.all(np.isfinite(self.intercept))):
            raise ModelFileError(
                "the model's coefficients are not all finite: nothing to save"
            )
        document = {
            "format": FORMAT,
            "version": VERSION,
            "skneuron_version": self.skneuron_version,
            "estimator": self.estimator,
            "target": self.target,
            "features": None if self.features is None else list(self.features),
            "formula": self.formula,
            "n_features_in": self.n_features_in,
            "coef": self.coef.tolist(),
            "intercept": np.asarray(self.intercept).tolist(),
        }
        return json.dumps(document, indent=2, allow_nan=False) + "\n"


def write_model(model: SavedModel, path: str | Path) -> None:
    """Write the model as JSON to ``path``."""
    Path(path).write_text(model.to_json(), encoding="utf-8")


def looks_like_pickle(data: bytes) -> bool:
    """Whether the bytes look like a pickle (protocol 2 and later by their first
    bytes, any protocol by its final STOP opcode ``.``) or a joblib file
    (compressed ones by their compressor's first bytes)."""
    return data.startswith(_PICKLE_STARTS) or data.endswith(b".")


def read_model(path: str | Path, trust_pickle: bool = False) -> SavedModel:
    """The model in the file ``path``, checked.

    Parameters
    ----------
    path : str or Path
        A JSON file written by ``skneuron fit --save`` (or, with
        ``trust_pickle``, a pickle or joblib file).
    trust_pickle : bool, default=False
        Whether a file that is not JSON may be loaded with joblib (pickle), which
        runs any code the file holds. Without it such a file is never unpickled.

    Returns
    -------
    model : SavedModel
        The model.

    Raises
    ------
    ModelFileError
        The file is missing, not a model, malformed, or a pickle not trusted.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"no such model file: {path}") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path} is a directory, not a model file") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        if trust_pickle:
            return _from_pickle(path)
        if looks_like_pickle(data):
            raise ModelFileError(
                f"{path} is a pickle (joblib) file, and loading one can run any "
                "code it holds: skneuron predict loads it only with "
                "--trust-pickle (for a file you trust); or save the model again "
                "with skneuron fit --save model.json"
            ) from None
        reason = _first_line(exc)
        raise ModelFileError(
            f"{path} is not a skneuron model file (not JSON: {reason}); "
            "skneuron fit --save writes one"
        ) from None
    return _from_document(document, path)


def _no_constant(name):
    """Refuse JSON's non-standard NaN and Infinity."""
    raise ValueError(f"{name} is not a number here")


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _from_document(document, path):
    """The model of a parsed JSON document, every field checked."""

    def bad(what):
        return ModelFileError(f"{path} is not a valid skneuron model file: {what}")

    _check_format(document, path, bad)
    _check_fields(document, bad)
    n_features = document["n_features_in"]
    if not _is_int(n_features) or n_features < 1:
        raise bad('"n_features_in" is not a positive integer')
    coef, intercept = _coefficients(document, n_features, bad)
    features = _feature_names(document["features"], n_features, bad)
    return SavedModel(
        coef=coef,
        intercept=float(intercept) if intercept.ndim == 0 else intercept,
        features=features,
        target=document["target"],
        formula=document.get("formula"),
        skneuron_version=document.get("skneuron_version"),
        estimator=document.get("estimator") or "NeuronRegressor",
    )


def _check_format(document, path, bad):
    """Refuse a document that is not a skneuron model file of a version this
    skneuron reads."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise bad(f'no "format": "{FORMAT}" object')
    version = document.get("version")
    if not _is_int(version):
        raise bad('"version" is not an integer')
    if version > VERSION:
        raise ModelFileError(
            f"{path} is a skneuron model file of version {version}, written by a "
            f"newer skneuron; this one reads version {VERSION}: upgrade skneuron"
        )
    if version < 1:
        raise bad(f'"version" {version} is not a version')


def _check_fields(document, bad):
    """Refuse a document with a required field missing or a name that is not a
    string."""
    for key in ("coef", "intercept", "target", "features", "n_features_in"):
        if key not in document:
            raise bad(f'"{key}" is missing')
    for key in ("target", "formula", "skneuron_version", "estimator"):
        value = document.get(key)
        if value is not None and not isinstance(value, str):
            raise bad(f'"{key}" is not a string')
    if document["target"] is None:
        raise bad('"target" is not a string')


def _coefficients(document, n_features, bad):
    """The coefficients and the intercept as float arrays, their shapes checked
    against ``n_features``."""
    coef = _numbers(document["coef"], bad, "coef", depth=2)
    intercept = _numbers(document["intercept"], bad, "intercept", depth=1)
    if coef.ndim not in (1, 2) or coef.shape[-1] != n_features:
        raise bad(f'"coef" is not a list of {n_features} numbers (or of such lists)')
    if intercept.shape != coef.shape[:-1]:
        raise bad('"intercept" does not match "coef" (one number per target)')
    return coef, intercept


def _feature_names(features, n_features, bad):
    """The features' names as a tuple of ``n_features`` distinct non-empty
    strings, or None."""
    if features is None:
        return None
    if not isinstance(features, list) or not all(
        isinstance(name, str) and name for name in features
    ):
        raise bad('"features" is not a list of names')
    if len(features) != n_features or len(set(features)) != n_features:
        raise bad(f'"features" are not {n_features} distinct names')
    return tuple(features)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _numbers(value, bad, key, depth):
    """A JSON number or list of numbers (nested at most ``depth`` deep) as a float
    array, all finite."""

    def ok(item, depth):
        if isinstance(item, list):
            return depth > 0 and all(ok(v, depth - 1) for v in item)
        return isinstance(item, int | float) and not isinstance(item, bool)

    if not ok(value, depth):
        shape = "a number, a list of numbers" + (
            " or a list of such lists" * (depth > 1)
        )
        raise bad(f'"{key}" is not {shape}')
    try:
        array = np.array(value, dtype=float)
    except OverflowError:
        raise bad(f'"{key}" holds a number beyond float64\'s range') from None
    except ValueError:
        raise bad(f'"{key}" is not a rectangular list of numbers') from None
    if not np.all(np.isfinite(array)):
        raise bad(f'"{key}" holds a number beyond float64\'s range')
    return array


def _from_pickle(path):
    """The model of a trusted pickle or joblib file: the dict ``fit --save``
    pickled before, or a bare fitted ``NeuronRegressor``."""
    from skneuron import NeuronRegressor

    warnings.warn(
        f"{path} is not JSON: loading it with pickle (--trust-pickle), which runs "
        "any code it holds",
        PickleLoadWarning,
        stacklevel=3,
    )
    try:
        import joblib

        payload = joblib.load(path)
    except Exception as exc:  # pickle, joblib and zlib errors of any kind
        raise ModelFileError(
            f"{path} is not a skneuron model (it could not be loaded: "
            f"{type(exc).__name__})"
        ) from None
    if isinstance(payload, dict) and payload.get("format") == PICKLE_FORMAT:
        model, features = payload.get("model"), payload.get("features")
        target = str(payload.get("target", "prediction"))
    else:
        model = payload
        features = getattr(model, "feature_names_in_", None)
        target = "prediction"
    if not isinstance(model, NeuronRegressor) or not hasattr(model, "coef_"):
        what = type(model).__name__
        raise ModelFileError(
            f"{path} is not a skneuron model (it holds a {what}, not a fitted "
            "NeuronRegressor)"
        )
    saved = SavedModel.from_estimator(
        model, None if features is None else list(features), target
    )
    return dataclasses.replace(saved, skneuron_version=None)
