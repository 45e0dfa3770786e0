"""``skneuron fit`` on real CSV files: read in blocks, formulas, text columns and
missing values, each error one line.

The commands run in-process through ``main``. The memory the block reader saves
is measured by ``benchmarks/bench_cli_memory.py``; here, small blocks must give
the same numbers and the same fit.
"""

import csv
import re

import numpy as np
import pytest
from _cli_helpers import assert_one_line_error, run, write_csv
from sklearn.linear_model import LinearRegression

from skneuron import _csv
from skneuron._modelfile import SavedModel, read_model, write_model

pytestmark = pytest.mark.slow  # fits start TensorFlow


@pytest.fixture(scope="module")
def sales(tmp_path_factory):
    """Sales in three shops: two numeric features, a text column of shops, the
    target, and a note nobody asked for."""
    rng = np.random.default_rng(7)
    n = 120
    x1 = rng.normal(size=n) * 3
    x2 = rng.uniform(0, 10, n)
    shop = rng.choice(["north", "south", "east"], n)
    effect = np.select([shop == "north", shop == "south"], [3.0, -1.0], 0.0)
    y = 2 + 1.5 * x1 - 0.7 * x2 + effect + rng.normal(size=n)
    rows = [
        [repr(float(a)), repr(float(b)), s, repr(float(t)), "note"]
        for a, b, s, t in zip(x1, x2, shop, y, strict=True)
    ]
    path = tmp_path_factory.mktemp("csv") / "sales.csv"
    return write_csv(path, ["x1", "x2", "shop", "sales", "note"], rows)


# -- reading in blocks -----------------------------------------------------------
def test_blocks_give_the_numbers_of_float(sales):
    table = _csv.open_csv(str(sales), ",")
    whole = table.numbers(["x1", "x2"], "sales")
    small = table.numbers(["x1", "x2"], "sales", block_bytes=256)
    assert len(list(table._batches(["x1"], 256))) > 10  # many blocks
    with open(sales, newline="") as file:
        rows = list(csv.DictReader(file))
    expected = np.array([[float(r["x1"]), float(r["x2"])] for r in rows])
    for numbers in (whole, small):
        np.testing.assert_array_equal(numbers.X, expected)  # exactly float's
        np.testing.assert_array_equal(numbers.y, [float(r["sales"]) for r in rows])
        assert numbers.X.flags.c_contiguous and numbers.dropped == 0


def test_small_blocks_give_the_same_fit(sales, capsys, monkeypatch):
    argv = ["fit", sales, "--target", "sales", "--features", "x1,x2"]
    status, whole, _ = run(capsys, *argv)
    monkeypatch.setattr(_csv, "BLOCK_BYTES", 200)
    status_small, small, _ = run(capsys, *argv)
    assert status == status_small == 0
    coefficients = re.compile(r"^(const|x1|x2)\s+(\S+)\s+(\S+)$", re.M)
    assert coefficients.findall(whole) == coefficients.findall(small)
    assert len(coefficients.findall(whole)) == 3


# -- formulas --------------------------------------------------------------------
@pytest.mark.parametrize(
    "formula", ["sales ~ x1 + x2 + C(shop)", "sales ~ 0 + x1 + C(shop)"]
)
def test_formula_matches_statsmodels(sales, tmp_path, capsys, formula):
    import pandas as pd
    import statsmodels.formula.api as smf

    model = tmp_path / "m.json"
    status, out, err = run(capsys, "fit", sales, "--formula", formula, "--save", model)
    assert status == 0 and err == "", err
    assert out.startswith(f"{sales}: 120 rows; target column 'sales'")
    saved = read_model(model)
    names = list(saved.features)
    ols = smf.ols(formula, pd.read_csv(sales)).fit()
    intercept = "Intercept" in ols.params.index
    assert saved.formula == formula and saved.target == "sales"
    assert sorted(names) == sorted(n for n in ols.params.index if n != "Intercept")
    np.testing.assert_allclose(saved.coef, ols.params[names].to_numpy(), rtol=1e-8)
    if intercept:
        assert saved.intercept == pytest.approx(ols.params["Intercept"], rel=1e-8)
    else:
        assert saved.intercept == 0.0
    assert "C(shop)[T.north]" in out if intercept else "C(shop)[north]" in out


def test_formula_in_small_blocks(tmp_path, capsys, monkeypatch):
    # "code" holds numbers in the first blocks, text in a later one: categories
    rng = np.random.default_rng(2)
    code = ["1", "2"] * 15 + ["a", "b", "1", "a"] * 5
    x = rng.normal(size=len(code))
    y = 3 * x + np.array([{"1": 0, "2": 1, "a": -2, "b": 4}[c] for c in code])
    y = y + 0.1 * rng.normal(size=len(code))
    rows = [
        [repr(float(a)), c, repr(float(t))] for a, c, t in zip(x, code, y, strict=True)
    ]
    path = write_csv(tmp_path / "codes.csv", ["x", "code", "y"], rows)
    argv = ["fit", path, "--formula", "y ~ x + C(code) + np.log(x**2)"]  # numpy: np
    status, whole, err = run(capsys, *argv)
    monkeypatch.setattr(_csv, "BLOCK_BYTES", 64)
    assert status == 0 and err == ""
    assert len(list(_csv.open_csv(str(path), ",")._batches(["x"], 64))) > 3
    status, small, _ = run(capsys, *argv)
    assert status == 0
    coefficients = re.compile(r"^(const|x|C\(code\)\S+|np.*\))\s+(\S+)\s+(\S+)$", re.M)
    assert coefficients.findall(whole) == coefficients.findall(small)
    names = [name for name, _, _ in coefficients.findall(whole)]
    assert names == [
        "const", "x", "C(code)[T.2]", "C(code)[T.a]", "C(code)[T.b]", "np.log(x ** 2)"
    ]  # fmt: skip


@pytest.mark.parametrize(
    "options, fragments",
    [
        (["--formula", "sales ~ x1", "--features", "x1"], ["--formula and --features"]),
        (["--formula", "sales ~ x1", "--target", "x2"], ["--target 'x2' is not"]),
        (["--formula", "sales ~ x1 +"], ["is not a formula"]),
        (["--formula", "shop ~ x1"], ["target 'shop'", "holds text"]),
        (["--formula", "sales ~ x1 + nothere"], ["--formula", "failed"]),
    ],
)
def test_formula_errors(sales, capsys, options, fragments):
    assert_one_line_error(*run(capsys, "fit", sales, *options), *fragments)


# -- text columns ----------------------------------------------------------------
def test_text_column_is_one_line_naming_it(sales, capsys):
    assert_one_line_error(
        *run(capsys, "fit", sales, "--target", "sales"),
        "columns 'shop', 'note' of",
        "hold text, not numbers ('north' in data row 1 (file line 2))",
        'use them as categories with --formula "sales ~ x1 + x2 + C(shop) + '
        'C(note)" or leave them out with --features x1,x2',
    )


@pytest.mark.parametrize("cell", ["1_000", "١٢٣", "１２３", "1,5", "0x10"])
def test_not_numbers_for_csv(tmp_path, capsys, cell):
    # Python's float reads the first three; a CSV file's numbers are ASCII
    path = tmp_path / "t.csv"
    path.write_text(f'a,b,y\n1,2,3\n2,"{cell}",5\n3,1,4\n', encoding="utf-8")
    result = run(capsys, "fit", path, "--target", "y")
    assert_one_line_error(
        *result, "column 'b' of", "holds text", f"{cell!r} in data row 2", "C(b)"
    )


def test_rows_longer_than_a_block(tmp_path):
    # 3000 columns: a row of 24 kB, 100 rows in a file of 2.4 MB
    header = [f"x{k}" for k in range(3000)]
    rows = [[f"{k + i / 7:.5f}" for k in range(3000)] for i in range(100)]
    path = write_csv(tmp_path / "wide.csv", header, rows)
    table = _csv.open_csv(str(path), ",")
    numbers = table.numbers(header[1:], "x0", block_bytes=1000)
    np.testing.assert_array_equal(numbers.y, [float(r[0]) for r in rows])
    assert numbers.X.shape == (100, 2999)


def test_infinite_values_are_refused(tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("a,y\n1,3\n2,1e999\n3,4\n")
    result = run(capsys, "fit", path, "--target", "y")
    assert_one_line_error(*result, "column 'y'", "infinite", "data row 2")


# -- missing values --------------------------------------------------------------
@pytest.fixture
def holes(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    y = X @ [2.0, -1.0] + 0.5 + 0.1 * rng.normal(size=40)
    rows = [
        [repr(float(a)), repr(float(b)), repr(float(t))]
        for (a, b), t in zip(X, y, strict=True)
    ]
    rows[4][0], rows[9][1], rows[9][2], rows[30][1] = "", "NA", "nan", " "
    keep = np.setdiff1d(np.arange(40), [4, 9, 30])
    return write_csv(tmp_path / "holes.csv", ["a", "b", "y"], rows), X[keep], y[keep]


def test_missing_values_raise_by_default(holes, capsys):
    path, _, _ = holes
    assert_one_line_error(
        *run(capsys, "fit", path, "--target", "y"),
        "columns 'a', 'b', 'y' of",
        "have missing values in 3 rows",
        "an empty cell in data row 5 (file line 6)",
        "--missing drop",
    )


def test_missing_values_dropped(holes, capsys):
    path, X, y = holes
    status, out, err = run(capsys, "fit", path, "--target", "y", "--missing", "drop")
    assert status == 0 and err == ""
    assert out.startswith(f"{path}: 37 rows (3 with missing values dropped);")
    reference = LinearRegression().fit(X, y)
    row = re.search(r"^a\s+(\S+)\s+(\S+)$", out, re.M)
    assert float(row.group(2)) == pytest.approx(reference.coef_[0], rel=1e-9)
    assert float(row.group(1)) == pytest.approx(reference.coef_[0], rel=1e-6)


def test_missing_values_in_a_formula(holes, capsys):
    path, _, _ = holes
    assert_one_line_error(
        *run(capsys, "fit", path, "--formula", "y ~ a + b"), "in 3 rows"
    )
    status, out, _ = run(capsys, "fit", path, "--formula", "y ~ a", "--missing", "drop")
    assert status == 0 and "38 rows (2 with missing values dropped)" in out


def test_predict_refuses_text_and_missing_values_without_fit_advice(tmp_path, capsys):
    from skneuron import NeuronRegressor

    reg = NeuronRegressor(epochs=3, tol=None).fit([[0.0, 1], [1, 0], [2, 2]], [0, 1, 2])
    write_model(SavedModel.from_estimator(reg, ["a", "b"], "y"), tmp_path / "m.json")
    (tmp_path / "text.csv").write_text("a,b\n1,2\n١,3\n", encoding="utf-8")
    (tmp_path / "hole.csv").write_text("a,b\n1,2\n,3\n")
    for name, fragment in [("text.csv", "holds text"), ("hole.csv", "missing")]:
        result = run(capsys, "predict", tmp_path / "m.json", tmp_path / name)
        assert_one_line_error(*result, "column 'a'", fragment, "data row 2")
        assert "--" not in result[2]  # predict has no --features nor --missing


def test_text_target_gets_no_formula_advice(sales, capsys):
    result = run(capsys, "fit", sales, "--target", "shop", "--features", "x1")
    assert_one_line_error(*result, "column 'shop'", "holds text")
    assert "--formula" not in result[2]
