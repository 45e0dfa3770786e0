"""The command line's files and output: JSON model files (safe to load), pickles
only with --trust-pickle, ``fit --output json``, and the smaller output defects.

Commands run in-process through ``main``. The diabetes model is trained once per
module.
"""

import json
import pickle
import re
from pathlib import Path

import joblib
import numpy as np
import pytest
from _cli_helpers import assert_one_line_error, run, write_csv

from skneuron import NeuronRegressor
from skneuron._modelfile import (
    FORMAT,
    ModelFileError,
    SavedModel,
    read_model,
    write_model,
)

pytestmark = pytest.mark.slow

NAMES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]


@pytest.fixture(scope="module")
def diabetes_fit(diabetes, tmp_path_factory):
    """The neuron fitted on diabetes, its JSON model file, and the data as CSV."""
    path = tmp_path_factory.mktemp("files")
    X, y = diabetes
    reg = NeuronRegressor().fit(X, y)
    write_model(SavedModel.from_estimator(reg, NAMES, "progression"), path / "m.json")
    write_csv(path / "x.csv", NAMES, [[repr(float(v)) for v in x] for x in X])
    return reg, path


# -- JSON model files ------------------------------------------------------------
def test_json_model_predicts_bit_for_bit(diabetes_fit, diabetes, capsys):
    reg, path = diabetes_fit
    X, _ = diabetes
    model = read_model(path / "m.json")
    assert model.features == tuple(NAMES) and model.target == "progression"
    assert model.formula is None and model.n_features_in == 10
    assert np.array_equal(model.coef, reg.coef_)
    assert model.intercept == reg.intercept_
    assert np.array_equal(model.predict(X), reg.predict(X))
    # through the command: its CSV floats read back as the same float64
    status, out, err = run(capsys, "predict", path / "m.json", path / "x.csv")
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "progression"
    assert np.array_equal([float(v) for v in lines[1:]], reg.predict(X))


def test_json_model_with_two_targets_round_trips(tmp_path, diabetes):
    X, y = diabetes
    reg = NeuronRegressor().fit(X[:, :3], np.column_stack([y, -2 * y]))
    write_model(SavedModel.from_estimator(reg, NAMES[:3], "y"), tmp_path / "two.json")
    model = read_model(tmp_path / "two.json")
    assert np.array_equal(model.predict(X[:, :3]), reg.predict(X[:, :3]))


def test_fit_save_writes_json(tmp_path, capsys, tutorials):
    X, y = tutorials["tutorial2"]
    write_csv(tmp_path / "t.csv", ["x", "y"], np.column_stack([X, y]))
    status, out, err = run(
        capsys, "fit", tmp_path / "t.csv", "--target", "y", "--save", tmp_path / "m"
    )
    assert status == 0 and out.endswith(f"saved the model to {tmp_path / 'm'}\n")
    document = json.loads((tmp_path / "m").read_text())
    assert document["format"] == FORMAT and document["features"] == ["x"]
    assert document["formula"] is None and document["n_features_in"] == 1
    assert isinstance(document["skneuron_version"], str)


@pytest.mark.parametrize("name", ["m.joblib", "m.pkl", "M.PICKLE"])
def test_fit_save_refuses_pickle_names(tmp_path, capsys, monkeypatch, name):
    write_csv(tmp_path / "t.csv", ["x", "y"], [[0, 1], [1, 2], [2, 4]])
    monkeypatch.chdir(tmp_path)
    result = run(capsys, "fit", "t.csv", "--target", "y", "--save", name)
    assert_one_line_error(*result, "JSON model file", f"{Path(name).stem}.json")
    assert not (tmp_path / name).exists()


GOOD = {
    "format": FORMAT,
    "version": 1,
    "skneuron_version": "0.1.0",
    "estimator": "NeuronRegressor",
    "target": "y",
    "features": ["a", "b"],
    "formula": None,
    "n_features_in": 2,
    "coef": [1.5, -2.0],
    "intercept": 0.25,
}
MALFORMED = {
    "empty file": "",
    "not JSON": "{'format': 1}",
    "a list": "[1, 2]",
    "no format": json.dumps({**GOOD, "format": "other"}),
    "version text": json.dumps({**GOOD, "version": "1"}),
    "version true": json.dumps({**GOOD, "version": True}),
    "newer version": json.dumps({**GOOD, "version": 2}),
    "no coef": json.dumps({k: v for k, v in GOOD.items() if k != "coef"}),
    "coef text": json.dumps({**GOOD, "coef": ["1", 2]}),
    "coef bool": json.dumps({**GOOD, "coef": [True, 2]}),
    "coef NaN": json.dumps({**GOOD, "coef": [float("nan"), 2]}),
    "coef overflow": json.dumps(GOOD).replace("1.5", "1e999"),
    "coef ragged": json.dumps({**GOOD, "coef": [[1, 2], [3]]}),
    "coef short": json.dumps({**GOOD, "coef": [1.0]}),
    "intercept list": json.dumps({**GOOD, "intercept": [1.0, 2.0]}),
    "features twice": json.dumps({**GOOD, "features": ["a", "a"]}),
    "features numbers": json.dumps({**GOOD, "features": [1, 2]}),
    "target number": json.dumps({**GOOD, "target": 3}),
    "formula number": json.dumps({**GOOD, "formula": 3}),
    "n_features_in zero": json.dumps({**GOOD, "n_features_in": 0}),
    "deep nesting": "[" * 100_000 + "]" * 100_000,
    "coef nested": json.dumps(GOOD).replace("1.5", "[" * 900 + "1" + "]" * 900),
    "coef huge int": json.dumps(GOOD).replace("1.5", "1" + "0" * 400),
}


def test_a_good_document_loads(tmp_path, capsys):
    (tmp_path / "good.json").write_text(json.dumps(GOOD))
    write_csv(tmp_path / "x.csv", ["b", "a"], [[1.0, 2.0]])
    status, out, err = run(
        capsys, "predict", tmp_path / "good.json", tmp_path / "x.csv"
    )
    assert (status, out, err) == (0, "y\n1.25\n", "")


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_model_file_is_one_line(tmp_path, capsys, text):
    (tmp_path / "bad.json").write_text(text)
    write_csv(tmp_path / "x.csv", ["a", "b"], [[1.0, 2.0]])
    result = run(capsys, "predict", tmp_path / "bad.json", tmp_path / "x.csv")
    assert_one_line_error(*result, "bad.json")
    with pytest.raises(ModelFileError):
        read_model(tmp_path / "bad.json")


# -- pickles: never loaded without --trust-pickle --------------------------------
class _Crafted:
    """A pickle whose loading writes a file: what a hostile model file does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return Path.write_text, (Path(self.marker), "code ran")


def _crafted_files(folder, marker):
    crafted = _Crafted(marker)
    files = {}
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        files[f"protocol {protocol}"] = folder / f"p{protocol}.json"
        files[f"protocol {protocol}"].write_bytes(pickle.dumps(crafted, protocol))
    for compress in ("zlib", "gzip", "bz2", "xz", "lzma"):
        files[compress] = folder / f"{compress}.joblib"
        joblib.dump(crafted, files[compress], compress=(compress, 3))
    files["joblib"] = folder / "plain.joblib"
    joblib.dump(crafted, files["joblib"])
    return files


def test_crafted_pickle_is_not_loaded_without_trust_pickle(tmp_path, capsys):
    marker = tmp_path / "marker"
    write_csv(tmp_path / "x.csv", ["a"], [[1.0]])
    for kind, path in _crafted_files(tmp_path, marker).items():
        status, out, err = run(capsys, "predict", path, tmp_path / "x.csv")
        assert_one_line_error(status, out, err, path.name)
        assert "pickle (joblib) file" in err and "--trust-pickle" in err, kind
        assert not marker.exists(), kind
        with pytest.raises(ModelFileError):
            read_model(path)
        assert not marker.exists(), kind


def test_crafted_pickle_is_loaded_only_with_trust_pickle(tmp_path, capsys):
    marker = tmp_path / "marker"
    path = _crafted_files(tmp_path, marker)["joblib"]
    write_csv(tmp_path / "x.csv", ["a"], [[1.0]])
    status, out, err = run(
        capsys, "predict", path, tmp_path / "x.csv", "--trust-pickle"
    )
    assert marker.read_text() == "code ran"  # it was unpickled: it ran
    assert status == 2 and out == ""
    warning, error = err.splitlines()
    assert warning.startswith("skneuron: warning: ") and "pickle" in warning
    assert error.startswith("skneuron: error: ") and "holds a int" in error


def test_trusted_pickles_of_older_skneuron(tmp_path, capsys, tutorials):
    X, y = tutorials["tutorial1"]
    reg = NeuronRegressor().fit(X, y)
    payload = {
        "format": "skneuron.cli.model",
        "version": 1,
        "model": reg,
        "features": ["x"],
        "target": "height",
    }
    joblib.dump(payload, tmp_path / "old.joblib")
    joblib.dump(reg, tmp_path / "bare.joblib")
    write_csv(tmp_path / "x.csv", ["x"], [[0.0], [10.0]])
    for name, target in (("old.joblib", "height"), ("bare.joblib", "prediction")):
        status, out, err = run(
            capsys, "predict", tmp_path / name, tmp_path / "x.csv", "--trust-pickle"
        )
        assert status == 0 and out.splitlines()[0] == target
        expected = reg.predict([[0.0], [10.0]])
        assert np.array_equal([float(v) for v in out.splitlines()[1:]], expected)
        assert len(err.splitlines()) == 1 and "--trust-pickle" in err
    # a JSON file with --trust-pickle is read as JSON: no warning
    write_model(SavedModel.from_estimator(reg, ["x"], "h"), tmp_path / "m.json")
    result = run(
        capsys, "predict", tmp_path / "m.json", tmp_path / "x.csv", "--trust-pickle"
    )
    assert result[0] == 0 and result[2] == ""


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("lr.joblib", "holds a LinearRegression"),
        ("unfitted.joblib", "not a fitted NeuronRegressor"),
        ("junk.bin", "could not be loaded"),
    ],
)
def test_trusted_pickles_that_are_not_models(tmp_path, capsys, name, fragment):
    from sklearn.linear_model import LinearRegression

    joblib.dump(LinearRegression().fit([[0], [1]], [0, 1]), tmp_path / "lr.joblib")
    joblib.dump(NeuronRegressor(), tmp_path / "unfitted.joblib")
    (tmp_path / "junk.bin").write_bytes(b"\x80\x04junk")
    write_csv(tmp_path / "x.csv", ["a"], [[1.0]])
    status, out, err = run(
        capsys, "predict", tmp_path / name, tmp_path / "x.csv", "--trust-pickle"
    )
    assert status == 2 and out == ""
    warning, error = err.splitlines()
    assert warning.startswith("skneuron: warning: ")
    assert error.startswith("skneuron: error: ") and fragment in error


def test_predict_help_says_which_files_are_safe(capsys):
    status, out, _ = run(capsys, "predict", "--help")
    assert status == 0
    assert "Safe to load" in out and "--trust-pickle" in out
    assert "MODEL.json" in out


# -- the smaller defects ---------------------------------------------------------
def test_header_before_progress_bar_and_no_val_loss(tmp_path, capsys, tutorials):
    X, y = tutorials["tutorial2"]
    write_csv(tmp_path / "t.csv", ["x", "y"], np.column_stack([X, y]))
    status, out, _ = run(
        capsys, "fit", tmp_path / "t.csv", "--target", "y", "--progress"
    )
    assert status == 0
    assert out.startswith(f"{tmp_path / 't.csv'}: 100 rows; target column 'y'")
    assert "loss:" in out and "val_loss" not in out  # no validation split


def test_huge_target_is_one_warning_line(tmp_path, capsys):
    rows = [[1, 1e307], [2, 2e307], [3, 2.9e307], [4, 4.2e307]]
    write_csv(tmp_path / "big.csv", ["x", "y"], rows)
    status, out, err = run(capsys, "fit", tmp_path / "big.csv", "--target", "y")
    assert status == 0 and "Traceback" not in err and "RuntimeWarning" not in err
    assert len(err.splitlines()) == 1 and err.startswith("skneuron: warning: ")
    assert "rescale X or y" in err
    assert "note: The statistics of this fit are not finite" in out


def test_huber_is_compared_with_a_matched_huber_regressor(tmp_path, capsys, tutorials):
    X, y = tutorials["tutorial4"]
    write_csv(tmp_path / "t.csv", ["x", "y"], np.column_stack([X, y]))
    status, out, _ = run(
        capsys, "fit", tmp_path / "t.csv", "--target", "y", "--loss", "huber"
    )
    assert status == 0
    assert re.search(
        r"^reference: HuberRegressor\(epsilon=\S+, alpha=0\); its ", out, re.M
    )
    assert "threshold epsilon * scale_ = 1 in y's units" in out
    assert re.search(r"^\s+NeuronRegressor\s+HuberRegressor$", out, re.M)
    rel = re.search(r"largest relative coefficient difference (\S+)", out).group(1)
    assert float(rel) < 1e-4  # the same objective: the same optimum


def test_huber_says_when_no_epsilon_matches(tmp_path, capsys, workdir_houses):
    status, out, _ = run(
        capsys, "fit", workdir_houses, "--target", "price", "--loss", "huber"
    )
    assert status == 0
    assert "reference: HuberRegressor(epsilon=1.35, alpha=0); no epsilon" in out
    assert "the objectives differ" in out


def test_absolute_error_is_compared_with_quantile_regressor(
    tmp_path, capsys, tutorials
):
    X, y = tutorials["tutorial4"]
    write_csv(tmp_path / "t.csv", ["x", "y"], np.column_stack([X, y]))
    status, out, _ = run(
        capsys, "fit", tmp_path / "t.csv", "--target", "y", "--loss", "absolute_error"
    )
    assert status == 0 and "reference: QuantileRegressor(quantile=0.5" in out
    rel = re.search(r"largest relative coefficient difference (\S+)", out).group(1)
    assert float(rel) < 1e-3


@pytest.fixture
def workdir_houses(tmp_path):
    """The houses file of docs/cli.rst."""
    rows = [
        [120, 3, 54, 322.1],
        [136, 5, 17, 423.8],
        [42, 3, 22, 148.1],
        [136, 5, 52, 398.7],
        [96, 2, 12, 299.8],
        [101, 3, 4, 324.7],
        [115, 5, 23, 353.4],
        [74, 3, 41, 226.3],
        [157, 4, 8, 459.7],
        [46, 1, 52, 113.1],
        [73, 2, 21, 239.1],
        [86, 2, 14, 257.2],
        [108, 3, 33, 341.2],
        [89, 2, 53, 260.8],
    ]
    return write_csv(tmp_path / "houses.csv", ["area", "rooms", "age", "price"], rows)


# -- fit --output json -----------------------------------------------------------
def _json_fit(capsys, monkeypatch, *argv):
    """Run fit --output json; return its document, stderr and the estimator."""
    from skneuron import _cli

    seen = {}
    original = _cli.fit_document

    def spy(**kwargs):
        seen.update(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(_cli, "fit_document", spy)
    status, out, err = run(capsys, "fit", *argv, "--output", "json")
    assert status == 0
    return json.loads(out), err, seen["reg"]


def test_output_json_is_the_summary(workdir_houses, capsys, monkeypatch, tmp_path):
    document, err, reg = _json_fit(
        capsys,
        monkeypatch,
        workdir_houses,
        "--target",
        "price",
        "--save",
        tmp_path / "m.json",
        "--progress",
    )
    # stdout was the document alone; the header, bar and notes went to stderr
    assert err.startswith(f"{workdir_houses}: 14 rows; target column 'price'")
    assert "loss:" in err and f"saved the model to {tmp_path / 'm.json'}" in err
    assert document["features"] == ["area", "rooms", "age"]
    assert document["coefficients"] == dict(
        zip(["area", "rooms", "age"], reg.coef_.tolist(), strict=True)
    )
    assert document["intercept"] == reg.intercept_
    assert document["n_iter"] == reg.n_iter_ and document["converged"] is True
    assert document["nobs"] == 14 and document["note"] is None
    assert document["model"] == str(tmp_path / "m.json")
    results = reg.summary()
    summary = document["summary"]
    for key in ("rsquared", "rsquared_adj", "fvalue", "f_pvalue", "df_model"):
        assert summary[key] == getattr(results, key), key
    for key in ("df_resid", "nobs", "scale", "llf", "aic", "bic"):
        assert summary[key] == getattr(results, key), key
    assert [p["name"] for p in summary["params"]] == ["const", "area", "rooms", "age"]
    intervals = results.conf_int()
    for i, param in enumerate(summary["params"]):
        assert param["coef"] == results.params[i]
        assert param["std_err"] == results.bse[i]
        assert param["t"] == results.tvalues[i]
        assert param["p"] == results.pvalues[i]
        assert param["conf_int"] == intervals[i].tolist()
    reference = document["reference"]
    assert reference["estimator"] == "LinearRegression"
    assert reference["coefficients"]["area"] == pytest.approx(reg.coef_[0], rel=1e-6)


def test_output_json_without_a_summary(workdir_houses, capsys, monkeypatch):
    document, err, reg = _json_fit(
        capsys,
        monkeypatch,
        workdir_houses,
        "--target",
        "price",
        "--alpha",
        "1",
        "--epochs",
        "3",
    )
    assert document["summary"] is None
    assert document["note"].startswith("No standard errors for a penalized fit")
    assert document["converged"] is False and document["n_iter"] == 3
    assert "did not converge" in err  # the warning, on stderr
    assert document["params"]["alpha"] == 1.0
