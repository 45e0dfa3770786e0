"""The ``skneuron`` command: fit, predict, the demo, and one clear line per error.

Commands run in-process through ``main`` (fast); two run as subprocesses to check
``python -m skneuron`` and the console script. The training runs once per module.
"""

import contextlib
import doctest
import importlib.util
import io
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from _cli_helpers import assert_one_line_error, run, write_csv
from sklearn.linear_model import LinearRegression

from skneuron import NeuronRegressor
from skneuron._cli import SAVED_FORMAT, main

pytestmark = pytest.mark.slow  # the command in fresh processes

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, diabetes):
    """The diabetes data as CSV, with an extra text column nobody asked for."""
    path = tmp_path_factory.mktemp("cli")
    X, y = diabetes
    names = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
    rows = [
        [*(repr(float(v)) for v in x), repr(float(t)), f"patient {i}"]
        for i, (x, t) in enumerate(zip(X, y, strict=True))
    ]
    write_csv(path / "diabetes.csv", [*names, "progression", "note"], rows)
    write_csv(path / "new.csv", names[::-1], [x[::-1] for x in X[:7]])
    return path, names


@pytest.fixture(scope="module")
def fitted(workdir):
    """One ``fit --save --plot`` run: its status, stdout and stderr (captured here:
    capsys is function-scoped)."""
    path, names = workdir
    argv = [
        "fit",
        path / "diabetes.csv",
        "--target",
        "progression",
        "--features",
        ",".join(names[:5]),
        "--features",
        ",".join(names[5:]),
        "--save",
        path / "model.json",
        "--plot",
        path / "curve.png",
    ]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


# -- fit and predict -------------------------------------------------------------
def test_fit_prints_summary_beside_linear_regression(fitted, workdir, diabetes):
    status, out, err = fitted
    assert status == 0 and err == ""
    X, y = diabetes
    reference = LinearRegression().fit(X, y)
    assert "NeuronRegressor results" in out and "Dep. Variable:" in out
    assert re.search(r"Dep\. Variable:\s+progression", out)
    _, names = workdir
    for name, coef in zip(names, reference.coef_, strict=True):
        row = re.search(rf"^{name}\s+(\S+)\s+(\S+)$", out, re.MULTILINE)
        mine, theirs = float(row.group(1)), float(row.group(2))
        assert theirs == pytest.approx(coef, rel=1e-9)  # LinearRegression's
        assert mine == pytest.approx(coef, rel=1e-6)  # the neuron's, trained
    assert re.search(r"^fit time: NeuronRegressor \d+\.\d+ s \(\d+ epochs", out, re.M)
    assert "saved the model to" in out and "saved the loss curve to" in out
    assert "note:" not in out


def test_saved_model_and_plot(fitted, workdir):
    path, names = workdir
    payload = json.loads((path / "model.json").read_text())
    assert payload["format"] == SAVED_FORMAT and payload["version"] == 1
    assert payload["features"] == names and payload["target"] == "progression"
    assert payload["formula"] is None and len(payload["coef"]) == 10
    assert (path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predict_selects_columns_by_name(fitted, workdir, capsys, diabetes):
    path, _ = workdir
    status, out, err = run(capsys, "predict", path / "model.json", path / "new.csv")
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "progression" and len(lines) == 8
    X, y = diabetes
    expected = LinearRegression().fit(X, y).predict(X[:7])
    np.testing.assert_allclose([float(v) for v in lines[1:]], expected, rtol=1e-8)
    # --out and --sep
    write_csv(
        path / "new.tsv",
        ["bmi", "age", "sex", "bp", "s1", "s2", "s3", "s4", "s5", "s6"],
        [x[[2, 0, 1, 3, 4, 5, 6, 7, 8, 9]] for x in X[:7]],
        "\t",
    )
    status, out, err = run(
        capsys,
        "predict",
        path / "model.json",
        path / "new.tsv",
        "--sep",
        "\\t",
        "--out",
        path / "pred.tsv",
    )
    assert (status, out, err) == (0, "", "")
    rows = (path / "pred.tsv").read_text().splitlines()
    assert rows[0] == "progression"
    np.testing.assert_allclose([float(v) for v in rows[1:]], expected, rtol=1e-8)


def test_predict_accepts_a_bare_estimator(tmp_path, capsys, tutorials):
    X, y = tutorials["tutorial1"]
    joblib.dump(NeuronRegressor().fit(X, y), tmp_path / "bare.joblib")
    write_csv(tmp_path / "x.csv", ["x"], [[0.0], [10.0]])
    status, out, err = run(
        capsys,
        "predict",
        tmp_path / "bare.joblib",
        tmp_path / "x.csv",
        "--trust-pickle",
    )
    assert status == 0 and out.splitlines()[0] == "prediction"
    assert err.startswith("skneuron: warning: ") and "--trust-pickle" in err
    reference = LinearRegression().fit(X, y).predict([[0.0], [10.0]])
    np.testing.assert_allclose([float(v) for v in out.splitlines()[1:]], reference)


def test_penalty_prints_coefficients_and_a_note(tmp_path, capsys, tutorials):
    X, y = tutorials["tutorial4"]
    write_csv(tmp_path / "t.csv", ["x", "y"], np.column_stack([X, y]), ";")
    status, out, err = run(
        capsys,
        "fit",
        tmp_path / "t.csv",
        "--target",
        "y",
        "--sep",
        ";",
        "--alpha",
        "0.5",
        "--epochs",
        "3000",
        "--no-progress",
    )
    assert status == 0 and "Traceback" not in err
    assert "std err" not in out and "LinearRegression" in out
    assert re.search(r"^note: No standard errors for a penalized fit", out, re.M)


def test_warnings_are_one_line_each(tmp_path, capsys, tutorials):
    X, y = tutorials["tutorial4"]
    write_csv(tmp_path / "t.csv", ["x", "y"], np.column_stack([X, y]))
    status, out, err = run(
        capsys,
        "fit",
        tmp_path / "t.csv",
        "--target",
        "y",
        "--loss",
        "huber",
        "--epochs",
        "3",
    )
    assert status == 0
    assert err.splitlines() == [
        "skneuron: warning: NeuronRegressor did not converge in 3 epochs "
        "(tol=1e-06); increase epochs (the problem is badly conditioned or not "
        "smooth)."
    ]
    assert "note: No standard errors for loss='huber'" in out


def test_progress_bar_on_request(tmp_path, capsys, tutorials):
    X, y = tutorials["tutorial2"]
    write_csv(tmp_path / "t.csv", ["x", "y"], np.column_stack([X, y]))
    status, out, _ = run(
        capsys,
        "fit",
        tmp_path / "t.csv",
        "--target",
        "y",
        "--progress",
        "--epochs",
        "50",
    )
    assert status == 0 and "loss:" in out  # Keras' Progbar
    status, out, _ = run(capsys, "fit", tmp_path / "t.csv", "--target", "y")
    assert status == 0 and "loss:" not in out  # not a terminal: no bar


def test_demo_without_arguments(capsys):
    status, out, err = run(capsys)
    assert status == 0
    assert "== noisy line (tutorial 1): 51 samples, 1 features" in out
    assert "== diabetes (unscaled): 442 samples, 10 features" in out
    differences = re.findall(r"largest relative coef difference (\S+);", out)
    assert len(differences) == 2 and all(float(d) < 1e-6 for d in differences)


# -- help ------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["--help"], ["fit", "--help"], ["predict", "-h"]])
def test_help_is_plain_text(capsys, argv):
    status, out, err = run(capsys, *argv)
    assert status == 0 and err == ""
    assert out.startswith("usage: skneuron")
    for markup in ("``", ":class:", ":func:", "\n.. ", "::\n"):
        assert markup not in out
    if argv == ["--help"]:
        assert "fit" in out and "predict" in out and "examples:" in out


def test_python_m_skneuron_exits_with_mains_status():
    done = subprocess.run(
        [sys.executable, "-m", "skneuron", "fit", "missing.csv", "--target", "y"],
        capture_output=True,
        text=True,
        cwd=ROOT,  # this checkout's skneuron
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "skneuron: error: no such file: missing.csv\n"


def test_console_script():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '[project.scripts]\nskneuron = "skneuron._cli:main"\n' in pyproject
    script = shutil.which("skneuron")
    if script is None:
        pytest.skip("the skneuron console script is not installed here")
    done = subprocess.run(
        [script, "--help"], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0 and done.stdout.startswith("usage: skneuron")


# -- errors: one line, status 2, no traceback -----------------------------------
@pytest.fixture
def files(tmp_path):
    write_csv(tmp_path / "ok.csv", ["a", "b", "y"], [[1, 2, 3], [2, 1, 4], [3, 5, 1]])
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "blank.csv").write_text("\n\n  \n")
    (tmp_path / "header.csv").write_text("a,b,y\n")
    (tmp_path / "text.csv").write_text("a,b,y\n1,2,3\n4,five,6\n")
    (tmp_path / "hole.csv").write_text("a,b,y\n1,2,3\n\n4,5,6\n7,,9\n")
    (tmp_path / "ragged.csv").write_text("a,b,y\n1,2,3\n4,5\n")
    (tmp_path / "twice.csv").write_text("a,a,y\n1,2,3\n")
    (tmp_path / "latin1.csv").write_bytes("a,b,é\n1,2,3\n".encode("latin-1"))
    (tmp_path / "junk.joblib").write_bytes(b"not a pickle at all")
    joblib.dump({"model": "something"}, tmp_path / "dict.joblib")
    joblib.dump(LinearRegression().fit([[0], [1]], [0, 1]), tmp_path / "lr.joblib")
    joblib.dump(NeuronRegressor(), tmp_path / "unfitted.joblib")
    return tmp_path


FIT_ERRORS = [
    (["fit", "nothere.csv", "--target", "y"], ["no such file: ", "nothere.csv"]),
    (["fit", ".", "--target", "y"], ["is a directory"]),
    (["fit", "ok.csv"], ["--target is required", "columns of", "are a, b, y"]),
    (["fit", "ok.csv", "--target", "z"], ["no column 'z'", "columns are a, b, y"]),
    (
        ["fit", "ok.csv", "--target", "y", "--features", "a,c"],
        ["no column 'c'", "--features", "columns are a, b, y"],
    ),
    (["fit", "ok.csv", "--target", "y", "--features", "a,y"], ["includes the target"]),
    (["fit", "ok.csv", "--target", "y", "--features", "a,a"], ["more than once"]),
    (["fit", "empty.csv", "--target", "y"], ["empty.csv is empty"]),
    (["fit", "blank.csv", "--target", "y"], ["blank.csv is empty"]),
    (["fit", "header.csv", "--target", "y"], ["header but no data rows"]),
    (
        ["fit", "text.csv", "--target", "y"],
        ["column 'b'", "'five'", "data row 2 (file line 3)"],
    ),
    (
        ["fit", "hole.csv", "--target", "y"],
        ["column 'b'", "an empty cell", "data row 3 (file line 5)"],
    ),
    (["fit", "ragged.csv", "--target", "y"], ["line 3 has 2 fields", "has 3"]),
    (["fit", "twice.csv", "--target", "y"], ["two columns named 'a'"]),
    (["fit", "latin1.csv", "--target", "y"], ["not a UTF-8 text file"]),
    (["fit", "ok.csv", "--target", "y", "--sep", ";;"], ["--sep must be one char"]),
    (["fit", "ok.csv", "--target", "a", "--sep", ";"], ["(is --sep right?)"]),
    (["fit", "ok.csv", "--target", "y", "--epochs", "0"], ["fit failed: ", "epochs"]),
    (
        ["fit", "ok.csv", "--target", "y", "--save", "no/such/dir/m.json"],
        ["cannot write no/such/dir/m.json (--save): no directory no/such/dir"],
    ),
    (["fit", "ok.csv", "--target", "y", "--loss", "cubic"], ["invalid choice"]),
    (["fit"], ["required: DATA.csv", "skneuron fit --help"]),
    (["frobnicate"], ["invalid choice: 'frobnicate'"]),
    (["--bogus"], ["unrecognized arguments: --bogus"]),
]
PREDICT_ERRORS = [
    (["predict", "nothere.json", "ok.csv"], ["no such model file: nothere.json"]),
    (["predict", "junk.joblib", "ok.csv"], ["junk.joblib is not a skneuron model"]),
    (["predict", "ok.csv", "ok.csv"], ["ok.csv is not a skneuron model"]),
    (["predict", "dict.joblib", "ok.csv"], ["pickle (joblib) file", "--trust-pickle"]),
    (["predict", "lr.joblib", "ok.csv"], ["pickle (joblib) file", "--trust-pickle"]),
    (["predict", "bare.joblib", "ok.csv"], ["pickle (joblib) file", "--trust-pickle"]),
    (["predict", "model.json", "ok.csv"], ["no column 'age', 'sex'", "(named by"]),
    (["predict", "model.json", "text.csv"], ["no column"]),
    (["predict", "model.json", "empty.csv"], ["empty.csv is empty"]),
]


@pytest.mark.parametrize(
    "argv, fragments", FIT_ERRORS, ids=[" ".join(a) for a, _ in FIT_ERRORS]
)
def test_fit_errors(files, capsys, monkeypatch, argv, fragments):
    monkeypatch.chdir(files)
    assert_one_line_error(*run(capsys, *argv), *fragments)


@pytest.mark.parametrize(
    "argv, fragments", PREDICT_ERRORS, ids=[" ".join(a) for a, _ in PREDICT_ERRORS]
)
def test_predict_errors(files, fitted, workdir, capsys, monkeypatch, argv, fragments):
    shutil.copy(workdir[0] / "model.json", files / "model.json")
    reg = NeuronRegressor(epochs=5, tol=None).fit([[0.0], [1.0], [2.0]], [0, 1, 2])
    joblib.dump(reg, files / "bare.joblib")
    (files / "text1.csv").write_text("x\n1\ntwo\n")
    monkeypatch.chdir(files)
    assert_one_line_error(*run(capsys, *argv), *fragments)


def test_plot_without_matplotlib(files, capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else real(name, *a),
    )
    monkeypatch.chdir(files)
    result = run(capsys, "fit", "ok.csv", "--target", "y", "--plot", "c.png")
    assert_one_line_error(*result, 'pip install "skneuron[plot]"')


# -- the documentation page ------------------------------------------------------
def _page_blocks(page):
    """The page's files (``:caption: NAME`` text blocks) and console sessions."""
    files, sessions = {}, []
    lines = page.read_text().splitlines()
    for i, line in enumerate(lines):
        if not line.startswith(".. code-block::"):
            continue
        caption = None
        j = i + 1
        while j < len(lines) and lines[j].strip().startswith(":"):
            caption = lines[j].split(":caption:")[-1].strip()
            j += 1
        body = []
        for line_ in lines[j + 1 :]:
            if line_ and not line_.startswith("   "):
                break
            body.append(line_[3:])
        while body and not body[-1]:
            body.pop()
        if "console" in line:
            sessions.append(body)
        elif caption:
            files[caption] = "\n".join(body) + "\n"
    return files, sessions


def test_cli_page_commands(tmp_path, capsys, monkeypatch):
    files, sessions = _page_blocks(ROOT / "docs" / "cli.rst")
    assert {"houses.csv", "new.csv"} <= set(files) and len(sessions) >= 3
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    commands = 0
    for session in sessions:
        text = "\n".join(session)
        for chunk in re.split(r"^\$ ", text, flags=re.M)[1:]:
            command, _, expected = chunk.partition("\n")
            argv = shlex.split(command)
            assert argv[0] == "skneuron"
            status, out, err = run(capsys, *argv[1:])
            assert status == (2 if expected.startswith("skneuron: error") else 0)
            got = out + err
            assert checker.check_output(expected + "\n", got, flags), (
                f"$ {command}\n--- expected\n{expected}\n--- got\n{got}"
            )
            commands += 1
    assert commands >= 7
