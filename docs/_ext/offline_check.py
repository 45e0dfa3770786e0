"""Check that built HTML pages work offline: nothing from a CDN, math rendered.

Used in two ways:

- by ``skneuron_docs`` at the end of every HTML build, where each problem is a
  Sphinx warning (so ``-W`` fails the build);
- from the command line, on any built HTML tree::

      python docs/_ext/offline_check.py docs/_build/html

It uses the standard library only, so the tests can import it without Sphinx.

What counts as a problem:

- a ``<script src>``, ``<link href>`` (style sheets, fonts, preloads), ``<img src>``,
  ``<iframe src>`` or CSS ``@import``/``url()`` that points outside the build
  (``http://``, ``https://`` or ``//``), or any mention of a known CDN host;
- a page with math (``class="math"`` elements, which MathJax typesets in the
  browser) that does not load a MathJax script from a file inside the build;
- math delimiters (``\\(``, ``\\[``, ``$$``) or a ``:math:`` role in the text of a
  page outside the elements MathJax typesets and outside code: math that no
  renderer will pick up, which a reader sees as raw LaTeX.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

CDN_HOSTS = (
    "cdn.jsdelivr.net",
    "cdnjs.cloudflare.com",
    "unpkg.com",
    "cdn.mathjax.org",
    "polyfill.io",
    "fonts.googleapis.com",
    "fonts.gstatic.com",
    "ajax.googleapis.com",
    "code.jquery.com",
    "stackpath.bootstrapcdn.com",
    "maxcdn.bootstrapcdn.com",
    "use.fontawesome.com",
    "kit.fontawesome.com",
)
_CDN = re.compile("|".join(re.escape(host) for host in CDN_HOSTS), re.IGNORECASE)
_RAW_MATH = re.compile(r"\\\(|\\\[|\$\$|:math:`")
_CSS_URL = re.compile(
    r"""@import\s+(?:url\()?\s*['"]?([^'")\s;]+)|url\(\s*['"]?([^'")]+)"""
)
# Elements whose text is code or not shown: math delimiters there are not math.
_NOT_PROSE = {"pre", "code", "kbd", "samp", "script", "style", "textarea", "tt"}
# Attributes that make a browser load something, by tag.
_LOADING = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "source": ("src", "srcset"),
    "audio": ("src",),
    "video": ("src", "poster"),
    "embed": ("src",),
    "object": ("data",),
}
_LOADING_LINK_RELS = {"stylesheet", "preload", "prefetch", "modulepreload", "icon"}
_VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
    "param", "source", "track", "wbr",
}  # fmt: skip


def _is_remote(url: str) -> bool:
    url = url.strip()
    return url.startswith("//") or urlsplit(url).scheme in {"http", "https"}


class _PageScanner(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.loads = []  # URLs the page makes the browser load
        self.has_math = False
        self.raw_math = []  # snippets of prose with math delimiters
        self._stack = []  # (tag, is_math, is_not_prose) of open elements

    def _inside(self, index):
        return any(entry[index] for entry in self._stack)

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        for name in _LOADING.get(tag, ()):
            if attrs.get(name):
                for url in attrs[name].split(","):  # srcset: "url 2x, url 1x"
                    self.loads.append(url.strip().split(" ")[0])
        if tag == "link" and set(attrs.get("rel", "").lower().split()) & (
            _LOADING_LINK_RELS
        ):
            self.loads.append(attrs.get("href", ""))
        for match in _CSS_URL.finditer(attrs.get("style", "")):
            self.loads.append(match.group(1) or match.group(2))
        if tag in _VOID:
            return
        classes = attrs.get("class", "").split()
        is_math = "math" in classes
        self.has_math = self.has_math or is_math
        self._stack.append((tag, is_math, tag in _NOT_PROSE))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self._stack and self._stack[-1][0] == tag:
            self._stack.pop()

    def handle_endtag(self, tag):
        # Pop to the matching open tag; stray end tags are ignored.
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                return

    def handle_data(self, data):
        if self._stack and self._stack[-1][0] == "style":
            for match in _CSS_URL.finditer(data):
                self.loads.append(match.group(1) or match.group(2))
        if self._inside(1) or self._inside(2):
            return
        match = _RAW_MATH.search(data)  # one report per piece of text
        if match:
            start = max(match.start() - 30, 0)
            self.raw_math.append(" ".join(data[start : match.end() + 30].split()))


def check_page(path: Path, root: Path) -> list[str]:
    """Problems of one HTML page of the build rooted at ``root``."""
    text = path.read_text(encoding="utf-8", errors="replace")
    scanner = _PageScanner()
    scanner.feed(text)
    scanner.close()
    name = path.relative_to(root).as_posix()
    problems = []
    for host in sorted({m.group(0).lower() for m in _CDN.finditer(text)}):
        problems.append(f"{name}: mentions the CDN host {host}")
    local_scripts = []
    for url in scanner.loads:
        if not url or url.startswith(("data:", "#")):
            continue
        if _is_remote(url):
            problems.append(f"{name}: loads {url} from the network")
            continue
        target = (path.parent / unquote(urlsplit(url).path)).resolve()
        if not target.is_file() or not target.is_relative_to(root.resolve()):
            problems.append(f"{name}: loads {url}, which is not in the build")
        elif target.suffix == ".js":
            local_scripts.append(target.relative_to(root.resolve()).as_posix())
    mathjax = any("mathjax" in script.lower() for script in local_scripts)
    if scanner.has_math and not mathjax:
        problems.append(
            f"{name}: has math but loads no MathJax script from the build, so the "
            "formulas stay raw LaTeX"
        )
    for snippet in scanner.raw_math:
        problems.append(f"{name}: math outside a math element, left raw: {snippet!r}")
    return problems


def check_css(path: Path, root: Path) -> list[str]:
    """Remote ``@import``/``url()`` in a style sheet of the build."""
    text = path.read_text(encoding="utf-8", errors="replace")
    name = path.relative_to(root).as_posix()
    return [
        f"{name}: loads {url} from the network"
        for match in _CSS_URL.finditer(text)
        if _is_remote(url := match.group(1) or match.group(2))
    ]


def check_tree(root: Path) -> list[str]:
    """Problems of every HTML page and style sheet under ``root``."""
    root = Path(root)
    problems = []
    for path in sorted(root.rglob("*.html")):
        if "_static" not in path.relative_to(root).parts:  # templates, not pages
            problems += check_page(path, root)
    for path in sorted(root.rglob("*.css")):
        problems += check_css(path, root)
    return problems


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python offline_check.py BUILT_HTML_DIR", file=sys.stderr)
        return 2
    problems = check_tree(Path(argv[0]))
    for problem in problems:
        print(problem)
    pages = sum("_static" not in p.parts for p in Path(argv[0]).rglob("*.html"))
    print(f"{len(problems)} problem(s) in {pages} HTML pages")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
