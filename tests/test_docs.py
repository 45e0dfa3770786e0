"""The documentation works offline and its code cannot drift.

- ``docs/_ext/offline_check.py`` (standard library only) finds pages that load
  something from the network or show raw math; the docs build runs it on every
  page and fails with ``-W`` on any problem. Its tests here need no Sphinx.
- With Sphinx installed (the ``docs`` extra), a two-page project is built with the
  docs' own extensions: the bundled MathJax passes the check, a CDN MathJax fails
  the build, and the plain-text inventories resolve links offline.
- Every Python example of the docs pages is a doctest, collected by pytest through
  ``--doctest-glob='*.rst'`` (see pyproject.toml and docs/conftest.py); a
  ``code-block:: python`` would be shown but never run, so there must be none.
  README.md's Python block is run here; the gallery by test_examples.py.
- What a newcomer uses, checked without a build: the copy button and its prompts,
  a theme mode the theme accepts, no TensorFlow log lines in the gallery's
  outputs, a Benchmarks page without commit hashes or load averages that says how
  to rerun every script, and the README's commands.

The tests that build with Sphinx or fit are marked ``slow``; the others are quick.
"""

import ast
import importlib.util
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def offline_check():
    spec = importlib.util.spec_from_file_location(
        "offline_check", DOCS / "_ext" / "offline_check.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def page(body, head=""):
    return f"<html><head>{head}</head><body>{body}</body></html>"


MATH = '<p>A <span class="math notranslate nohighlight">\\(x^2\\)</span> here.</p>'
LOCAL_MATHJAX = '<script defer src="_static/mathjax/tex-chtml.js"></script>'


def build_tree(tmp_path, pages):
    (tmp_path / "_static" / "mathjax").mkdir(parents=True)
    (tmp_path / "_static" / "mathjax" / "tex-chtml.js").write_text("// MathJax")
    for name, html in pages.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(html)
    return tmp_path


def test_offline_check_accepts_local_mathjax(offline_check, tmp_path):
    root = build_tree(
        tmp_path,
        {
            "index.html": page(MATH, LOCAL_MATHJAX),
            "sub/page.html": page(
                MATH + "<pre>r'\\(' and $$ in code are code</pre>",
                LOCAL_MATHJAX.replace("_static", "../_static"),
            ),
            "plain.html": page("<p>No math at all; a link to "
                               '<a href="https://example.org/">a site</a>.</p>'),
        },
    )  # fmt: skip
    assert offline_check.check_tree(root) == []
    assert offline_check.main([str(root)]) == 0


@pytest.mark.parametrize(
    "html, expected",
    [
        (
            page(MATH, '<script src="https://cdn.jsdelivr.net/mathjax@4/x.js"></script>'),
            ["loads https://cdn.jsdelivr.net", "mentions the CDN host", "no MathJax"],
        ),
        (page(MATH), ["no MathJax script"]),
        (page(MATH, '<script src="_static/mathjax/missing.js"></script>'),
         ["not in the build", "no MathJax"]),
        (page("<p>Raw $$x^2$$ in prose</p>", LOCAL_MATHJAX), ["left raw"]),
        (page("<p>A :math:`x` role</p>"), ["left raw"]),
        (page("<p>\\(x\\) outside</p>", LOCAL_MATHJAX), ["left raw"]),
        (page("", '<link rel="stylesheet" href="//fonts.googleapis.com/css">'),
         ["loads //fonts.googleapis.com", "mentions the CDN host"]),
        (page('<div style="background: url(https://example.org/a.png)"></div>'),
         ["loads https://example.org/a.png"]),
    ],
)  # fmt: skip
def test_offline_check_finds_problems(offline_check, tmp_path, html, expected):
    root = build_tree(tmp_path, {"index.html": html})
    problems = offline_check.check_tree(root)
    assert len(problems) == len(expected), problems
    assert all(problem.startswith("index.html: ") for problem in problems)
    for text in expected:
        assert any(text in problem for problem in problems), (text, problems)
    assert offline_check.main([str(root)]) == 1


def test_offline_check_remote_css_import(offline_check, tmp_path):
    root = build_tree(tmp_path, {"index.html": page("")})
    (root / "_static" / "theme.css").write_text('@import "https://x.org/f.css";')
    assert offline_check.check_tree(root) == [
        "_static/theme.css: loads https://x.org/f.css from the network"
    ]


# -- a real (small) Sphinx build with the docs' extensions ----------------------------
needs_sphinx_docs = pytest.mark.skipif(
    not all(
        importlib.util.find_spec(name)
        for name in ("sphinx", "myst_parser", "sphinx-mathjax-offline")
    ),
    reason="needs the docs extra (pip install '.[docs]')",
)

CONF = """
import sys

sys.path.insert(0, {ext!r})
extensions = {extensions!r}
intersphinx_mapping = {{
    "sklearn": ("https://scikit-learn.org/stable/", {inventory!r}),
}}
nitpicky = True
"""
INDEX = """
Title
=====

Math :math:`\\hat y = x^\\top w + b` and a link to
:class:`~sklearn.linear_model.LinearRegression`.

.. markdown-include:: notes.md
   :omit-sections: Development notes

.. optional-toctree::
   :optional: other, not_written_yet

   other
   not_written_yet
"""
NOTES = """
# Notes

| a | b |
|---|---:|
| `x` | 1 |

## Development notes

Left out.
"""


def sphinx_build(tmp_path, *extensions):
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        CONF.format(
            ext=str(DOCS / "_ext"),
            extensions=["sphinx.ext.intersphinx", "sphinx.ext.mathjax", *extensions],
            inventory=str(DOCS / "inventories" / "sklearn.txt"),
        )
    )
    (src / "index.rst").write_text(textwrap.dedent(INDEX))
    (src / "notes.md").write_text(textwrap.dedent(NOTES))
    (src / "other.rst").write_text("Other\n=====\n\nA page.\n")
    out = tmp_path / "html"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
        + [str(src), str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    return result, out


@pytest.mark.slow
@needs_sphinx_docs
def test_build_bundles_mathjax_and_links_offline(tmp_path):
    result, out = sphinx_build(
        tmp_path, "sphinx-mathjax-offline", "myst_parser", "skneuron_docs"
    )
    assert result.returncode == 0, result.stderr
    html = (out / "index.html").read_text()
    assert 'src="_static/mathjax/tex-chtml.js"' in html
    assert (out / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert (
        'href="https://scikit-learn.org/stable/modules/generated/'
        "sklearn.linear_model.LinearRegression.html" in html
    )
    # the Markdown table is a table, and the omitted section is gone
    assert re.search(r"<table[^>]*>.*<code[^>]*>.*x.*</code>", html, re.DOTALL)
    assert "Left out" not in html and "Development notes" not in html
    # the optional toctree lists the page that exists and skips the one that doesn't
    assert 'href="other.html"' in html and "not_written_yet" not in html


@pytest.mark.slow
@needs_sphinx_docs
def test_build_fails_on_cdn_mathjax(tmp_path):
    result, _ = sphinx_build(tmp_path, "myst_parser", "skneuron_docs")
    assert result.returncode != 0
    assert "cdn.jsdelivr.net" in result.stderr
    assert "no MathJax script from the build" in result.stderr


@needs_sphinx_docs
def test_plain_text_inventories_compile(monkeypatch):
    monkeypatch.syspath_prepend(str(DOCS / "_ext"))
    from skneuron_docs import compile_inventory
    from sphinx.util.inventory import InventoryFile

    for path in sorted((DOCS / "inventories").glob("*.txt")):
        data = compile_inventory(path.read_text())
        inventory = InventoryFile.loads(data, uri="https://example.org/")
        names = {name for domain in inventory.data.values() for name in domain}
        lines = [
            line for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]  # fmt: skip
        assert names == {line.split()[0] for line in lines}, path.name


# -- docs code runs --------------------------------------------------------------------
def test_docs_python_blocks_are_doctests():
    """A ``code-block:: python`` would be shown but never run: use ``>>>``."""
    untested = []
    for path in sorted(DOCS.glob("*.rst")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.match(
                r"\s*\.\. (code-block|code|sourcecode)::\s*(python|py)\b", line
            ):
                untested.append(f"{path.name}:{number}")
    assert untested == []


def test_docs_pages_are_collected_as_doctests(pytestconfig):
    """pytest's settings collect the pages, and the pages with code have examples."""
    import doctest

    assert "docs" in pytestconfig.getini("testpaths")
    assert "*.rst" in pytestconfig.getoption("doctestglob")
    parser = doctest.DocTestParser()
    pages = {
        path.name
        for path in DOCS.glob("*.rst")
        if parser.get_examples(path.read_text())
    }
    assert {"index.rst", "getting_started.rst", "user_guide.rst", "faq.rst"} <= pages
    assert {"persistence.rst", "install.rst", "scikeras.rst"} <= pages


@pytest.mark.slow  # fits, and starts TensorFlow
def test_readme_python_block_runs():
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert blocks, "README.md has no Python block"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})


# -- what a newcomer uses (no build) ---------------------------------------------------
def conf_settings():
    """The names docs/conf.py assigns, with their values where they are literals.

    Read with ``ast``, not run: running conf.py would set TensorFlow's log level
    in this process.
    """
    settings = {}
    for node in ast.walk(ast.parse((DOCS / "conf.py").read_text())):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    try:
                        settings[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        settings[target.id] = None  # not a literal
    return settings


def copied(text, settings):
    """What the copy button copies of a code block's ``text``.

    The logic of sphinx-copybutton's ``formatCopyText`` for these settings: with
    a prompt on some line, only the lines with a prompt (without it) and the
    empty lines; with none, the whole text.
    """
    assert settings["copybutton_prompt_is_regexp"]
    assert settings["copybutton_only_copy_prompt_lines"]
    prompt = re.compile(f"^({settings['copybutton_prompt_text']})(.*)")
    lines = text.split("\n")
    if not any(prompt.match(line) for line in lines):
        return text.rstrip("\n")
    kept = [
        prompt.match(line).group(2) if prompt.match(line) else line
        for line in lines
        if prompt.match(line) or not line.strip()
    ]
    return "\n".join(kept).rstrip("\n")


def test_copy_button_leaves_out_prompts():
    settings = conf_settings()
    assert "sphinx_copybutton" in settings["extensions"]
    doctest = (
        ">>> reg = NeuronRegressor(\n...     alpha=0.1).fit(X, y)\n>>> reg.tol\n0.1"
    )
    assert (
        copied(doctest, settings)
        == "reg = NeuronRegressor(\n    alpha=0.1).fit(X, y)\nreg.tol"
    )
    shell = "$ skneuron fit houses.csv --target price\nhouses.csv: 14 rows"
    assert copied(shell, settings) == "skneuron fit houses.csv --target price"
    gallery = "import numpy as np\nx = np.arange(3)  # ... and $ in code\n"
    assert copied(gallery, settings) == gallery.rstrip("\n")
    # an output line that starts with an ellipsis is output, not a prompt
    assert copied(">>> reg.coef_\n...0.123", settings) == "reg.coef_"


def test_copy_button_is_in_the_docs_requirements():
    pyproject = (ROOT / "pyproject.toml").read_text()
    docs_extra = re.search(r"^docs = \[(.*?)^\]", pyproject, re.M | re.S).group(1)
    assert '"sphinx-copybutton' in docs_extra
    requirements = (DOCS / "requirements.txt").read_text().splitlines()
    assert any(line.startswith("sphinx-copybutton") for line in requirements)


def test_theme_mode_is_one_the_theme_accepts():
    """pydata-sphinx-theme's JavaScript starts every page in ``default_mode`` and
    logs "Got invalid theme mode" for anything but these three (an unset mode is
    ""), in the browser console of every page."""
    settings = conf_settings()
    assert settings["html_theme"] in {"pydata_sphinx_theme", "alabaster"}
    assert settings["html_context"]["default_mode"] in {"auto", "light", "dark"}


def test_conf_quiets_tensorflow_before_anything_imports_it():
    tree = ast.parse((DOCS / "conf.py").read_text())
    statements = [ast.unparse(node) for node in tree.body]
    quiet = statements.index("os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')")
    imports = [
        i for i, node in enumerate(tree.body)
        if isinstance(node, ast.Import | ast.ImportFrom)
        and not {alias.name for alias in node.names} <= {"os", "sys", "Path"}
    ]  # fmt: skip
    assert imports and quiet < min(imports)


GALLERY_PAGE = """
.. code-block:: Python

    print("E0000 00:00:1.2   1 cuda_platform.cc:52] shown as code, kept")

.. rst-class:: sphx-glr-script-out

 .. code-block:: none

    WARNING: All log messages before absl::InitializeLog() is called are written to
    I0000 00:00:1796309019.782785   26949 port.cc:153] oneDNN custom operations are on.
    I0000 00:00:1796309019.877023   26949 cpu_feature_guard.cc:227] This TensorFlow
    To enable the following instructions: AVX2 FMA, rebuild TensorFlow with the flags.
    E0000 00:00:1796309065.41   28022 cuda_platform.cc:52] failed call to cuInit: 303
    least squares: slope 3.5298, intercept 4.8618
    W1203 14:38:38.123456   26356 some_file.cc:12] a log line after absl's set-up



.. GENERATED FROM PYTHON SOURCE LINES 30-35

Text.

.. rst-class:: sphx-glr-script-out

 .. code-block:: none

    E0000 00:00:1796309065.41   28022 cuda_platform.cc:52] failed call to cuInit: 303



.. GENERATED FROM PYTHON SOURCE LINES 36-40
"""


@needs_sphinx_docs
def test_gallery_outputs_lose_tensorflow_logs(monkeypatch):
    monkeypatch.syspath_prepend(str(DOCS / "_ext"))
    from skneuron_docs import strip_tensorflow_logs

    page = strip_tensorflow_logs(textwrap.dedent(GALLERY_PAGE))
    assert "shown as code, kept" in page
    assert "least squares: slope 3.5298, intercept 4.8618" in page
    output = page.split(".. code-block:: none", 1)[1]
    for noise in ("cuInit", "oneDNN", "absl", "I0000", "W1203", "rebuild TensorFlow"):
        assert noise not in output, noise
    # the block with nothing else in it is gone, directive and all
    assert page.count("sphx-glr-script-out") == 1
    assert page.count(".. code-block:: none") == 1
    assert "Text." in page and "SOURCE LINES 36-40" in page
    assert strip_tensorflow_logs(page) == page


def markdown_on_the_benchmarks_page():
    """The Markdown the Benchmarks page shows, filtered as its directives say."""
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        from skneuron_docs import filter_markdown
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    page = (DOCS / "benchmarks.rst").read_text()
    included = re.findall(
        r"^\.\. markdown-include:: (\S+)\n((?:   :.*\n)*)", page, re.M
    )
    assert len(included) == 3
    shown = {}
    for path, options in included:
        omit = re.search(r":omit-sections:(.*)", options)
        shown[path] = filter_markdown(
            (DOCS / path).read_text(),
            omit=omit.group(1).split(",") if omit else (),
            skip_title=":skip-title:" in options,
            skip_preamble=":skip-preamble:" in options,
        )
    return page, shown


@needs_sphinx_docs
def test_benchmarks_page_is_written_for_users():
    """No commit hashes or load averages on the page (the Markdown files keep them
    in their Development notes, which the page leaves out), and every script is
    there with the command that reruns it."""
    page, shown = markdown_on_the_benchmarks_page()
    hash_like = re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}\b")
    for name, text in {"benchmarks.rst": page, **shown}.items():
        for pattern in (hash_like, re.compile(r"commit|sha256|load average", re.I)):
            found = [line for line in text.splitlines() if pattern.search(line)]
            assert found == [], (name, found)
    assert re.search(r"^\.\. rubric:: Machine$", page, re.M)
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        assert f"$ python benchmarks/{script.name}" in page, script.name


def readme_section(title):
    readme = (ROOT / "README.md").read_text()
    return re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", readme, re.M | re.S).group(1)


def test_readme_development_says_how_to_build_docs_and_run_quick_tests():
    development = readme_section("Development")
    ci = (ROOT / ".ci" / "run").read_text()
    docs = 'pip install ".[docs]" && python -m sphinx -W --keep-going -b html docs'
    assert f"{docs} docs/_build/html" in development
    assert f"{docs} docs/_build/html" in ci  # the README gives CI's command
    assert 'python -m pytest -m "not slow"' in development


def test_readme_first_commands_are_the_ones_ci_runs():
    first = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    commands = [line.split("#")[0].strip() for line in first.group(1).splitlines()]
    assert commands == [
        "pip install . && python -m skneuron",
        'pip install ".[test]" && python -m pytest',
    ]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()
