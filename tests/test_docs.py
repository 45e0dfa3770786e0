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
"""

import importlib.util
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # Sphinx builds

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


def test_readme_python_block_runs():
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert blocks, "README.md has no Python block"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
