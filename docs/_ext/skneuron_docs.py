"""Small Sphinx helpers for the skneuron documentation.

- ``ExampleOrder``: the order of the example gallery (the tutorials first, in their
  own order, then the scikit-learn workflows, then scikeras), for sphinx-gallery's
  ``within_subsection_order``.
- ``optional-toctree``: a ``toctree`` whose entries named in ``:optional:`` are
  left out while their page does not exist (pages written on other branches).
- ``_offline_docstrings``: a shape written ``(n_features_in_,)`` in a docstring is
  read by reStructuredText as a link to a target ``n_features_in`` that does not
  exist; it is shown as literal text instead (this does nothing once the
  docstrings quote such names).
- ``markdown-include``: a Markdown file of the repository (``CHANGELOG.md``,
  ``benchmarks/results.md``) parsed by MyST into the page, optionally without its
  title, without some sections, and with relative links (to other files of the
  repository, which are not pages of the docs) reduced to their text.
- Offline inventories: every ``intersphinx_mapping`` entry whose inventory is a
  plain-text file (``inventories/*.txt``) is compiled into a Sphinx ``objects.inv``
  in the doctree directory before intersphinx reads it, so links to other
  projects' documentation are made without the network.
- No TensorFlow log lines in the gallery: TensorFlow's C++ runtime writes
  start-up notices and log lines (oneDNN, CPU features, a failed ``cuInit`` where
  there is no GPU) to stderr, which sphinx-gallery shows as an example's output.
  ``strip_tensorflow_logs`` takes them out of the output blocks of the gallery's
  pages once sphinx-gallery has written them (an output left empty goes too).
- The offline check: after an HTML build, every page is checked by
  ``offline_check`` (nothing from a CDN; math rendered by the bundled MathJax);
  each problem is a warning, so the ``-W`` build fails on it.
"""

import re
import zlib
from pathlib import Path

import offline_check  # _ext/offline_check.py
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.directives.other import Include, TocTree
from sphinx.util import logging

logger = logging.getLogger(__name__)

EXAMPLE_ORDER = [
    "plot_tutorial1_noisy_line.py",
    "plot_tutorial2_vs_linregress.py",
    "plot_tutorial3_housing.py",
    "plot_tutorial4_standardize.py",
    "plot_pipeline_swap.py",
    "plot_grid_search.py",
    "plot_scikeras.py",
]


class ExampleOrder:
    """Sort key: the position in ``EXAMPLE_ORDER``; unlisted files last, by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        if name in EXAMPLE_ORDER:
            return (EXAMPLE_ORDER.index(name), name)
        return (len(EXAMPLE_ORDER), name)

    def __repr__(self):  # sphinx-gallery compares configurations by repr
        return f"{type(self).__name__}()"


class OptionalTocTree(TocTree):
    """``toctree`` that leaves out its ``:optional:`` entries with no page yet."""

    option_spec = {**TocTree.option_spec, "optional": directives.unchanged}

    def run(self):
        optional = {
            name.strip() for name in self.options.pop("optional", "").split(",")
        }
        missing = {name for name in optional if name} - set(self.env.found_docs)
        kept = [
            (line, source, offset)
            for (source, offset), line in zip(
                self.content.items, self.content, strict=True
            )
            if line.strip() not in missing
        ]
        self.content = StringList(
            [line for line, _, _ in kept], items=[(s, o) for _, s, o in kept]
        )
        return super().run()


_BARE_SHAPE_NAME = re.compile(r"(?<=[(, ])(n_[a-z_]*[a-z]_)(?=[,)])")


def _offline_docstrings(app, what, name, obj, options, lines):
    lines[:] = [_BARE_SHAPE_NAME.sub(r"``\1``", line) for line in lines]


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_RELATIVE_LINK = re.compile(
    r"(?<!!)\[([^\]]+)\]\((?![a-z][a-z0-9+.-]*:|#)[^)\s]+\)", re.IGNORECASE
)


def filter_markdown(text, *, omit=(), skip_title=False, skip_preamble=False):
    """Markdown ``text`` without the sections whose titles start with ``omit``.

    A section runs from its heading to the next heading of the same or a higher
    level. ``skip_title`` drops a first-level heading on the first non-blank line;
    ``skip_preamble`` drops everything before the first heading below the title.
    Without the title, the other headings move up one level (``##`` becomes
    ``#``), as MyST expects of a document. Relative links become their text.
    Headings inside code fences are not headings.
    """
    omit = tuple(title.strip().lower() for title in omit if title.strip())
    out = []
    skipping = 0 if skip_preamble else None  # level of the part left out; 0: preamble
    in_fence = seen_text = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            level, title = len(heading.group(1)), heading.group(2)
            if skipping == 0 and level >= 2 or skipping and level <= skipping:
                skipping = None
            if skipping is None and omit and title.lower().startswith(omit):
                skipping = level
            if skip_title and not seen_text and level == 1:
                seen_text = True
                continue
        if line.strip():
            seen_text = True
        if skipping is None and not in_fence:
            line = _RELATIVE_LINK.sub(r"\1", line)
            if heading and (skip_title or skip_preamble) and level > 1:
                line = line[1:]  # the page has the title: sections move up a level
        if skipping is None:
            out.append(line)
    return "\n".join(out) + "\n"


class MarkdownInclude(Include):
    """``include`` of a Markdown file, parsed by MyST, with sections left out.

    Options: ``:omit-sections:`` a comma-separated list of section titles (or
    their beginnings, case-insensitive) to leave out; ``:skip-title:`` to drop
    the file's first-level title when the page has its own; ``:skip-preamble:``
    to drop the title and the text before the first section.
    """

    option_spec = {
        **Include.option_spec,
        "omit-sections": directives.unchanged,
        "skip-title": directives.flag,
        "skip-preamble": directives.flag,
    }

    def run(self):
        from myst_parser.parsers.sphinx_ import MystParser

        self.options["parser"] = MystParser
        return super().run()

    def custom_parse(self, text):
        text = filter_markdown(
            text,
            omit=self.options.get("omit-sections", "").split(","),
            skip_title="skip-title" in self.options,
            skip_preamble="skip-preamble" in self.options,
        )
        return super().custom_parse(text)


# A line TensorFlow's C++ runtime writes to stderr: absl's log format (severity,
# date, time, thread, file:line), absl's notice before its logging is set up, and
# the second line of TensorFlow's CPU-features notice.
TENSORFLOW_LOG_LINE = re.compile(
    r"^\s*(?:[IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|To enable the following instructions: .*rebuild TensorFlow with)"
)
_SCRIPT_OUT = ".. rst-class:: sphx-glr-script-out"


def strip_tensorflow_logs(rst):
    """The gallery page ``rst`` without TensorFlow's log lines in its outputs.

    An output block (``.. rst-class:: sphx-glr-script-out`` and the indented
    ``code-block`` after it) loses the lines that match ``TENSORFLOW_LOG_LINE``;
    a block left with no text is removed. The rest of the page is unchanged.
    """
    lines = rst.splitlines(keepends=True)
    out, i = [], 0
    while i < len(lines):
        if lines[i].rstrip() != _SCRIPT_OUT:
            out.append(lines[i])
            i += 1
            continue
        block = [lines[i]]  # the directive, then blank or indented lines
        i += 1
        while i < len(lines) and (not lines[i].strip() or lines[i][0] in " \t"):
            block.append(lines[i])
            i += 1
        kept = [line for line in block if not TENSORFLOW_LOG_LINE.match(line)]
        text = [line for line in kept[1:] if line.strip()]
        if len(text) > 1:  # the code-block directive and some output
            out += kept
        else:
            out += [line for line in block if not line.strip()]
    return "".join(out)


def _gallery_without_tensorflow_logs(app):
    """Strip TensorFlow's log lines from the pages sphinx-gallery has written."""
    conf = getattr(app.config, "sphinx_gallery_conf", None) or {}
    dirs = conf.get("gallery_dirs", [])
    for folder in [dirs] if isinstance(dirs, str) else dirs:
        for path in sorted((Path(app.srcdir) / folder).rglob("*.rst")):
            text = path.read_text(encoding="utf-8")
            if _SCRIPT_OUT not in text:
                continue
            stripped = strip_tensorflow_logs(text)
            if stripped != text:  # unchanged pages keep their time stamp
                path.write_text(stripped, encoding="utf-8")


def compile_inventory(text):
    """A Sphinx ``objects.inv`` (version 2) from its plain-text form.

    The text has ``# Project:``, ``# Version:`` and ``# URL:`` header lines, then
    one object per line as in a decompressed inventory:
    ``name domain:role priority uri display-name``.
    """
    header, body = {}, []
    for line in text.splitlines():
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            header[key.strip().lower()] = value.strip()
        elif line.strip():
            if len(line.split(None, 4)) != 5:
                raise ValueError(f"inventory line needs 5 fields: {line!r}")
            body.append(line.strip())
    head = (
        "# Sphinx inventory version 2\n"
        f"# Project: {header.get('project', '')}\n"
        f"# Version: {header.get('version', '')}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    return head.encode() + zlib.compress(("\n".join(body) + "\n").encode())


def _offline_inventories(app, config):
    """Compile plain-text inventories before intersphinx loads them."""
    out = Path(app.doctreedir) / "inventories"
    for name, (url, inventories) in list(config.intersphinx_mapping.items()):
        compiled = []
        for inventory in (
            inventories if isinstance(inventories, tuple) else (inventories,)
        ):
            if isinstance(inventory, str) and inventory.endswith(".txt"):
                source = Path(app.confdir) / inventory
                out.mkdir(parents=True, exist_ok=True)
                target = out / f"{source.stem}.inv"
                target.write_bytes(compile_inventory(source.read_text("utf-8")))
                inventory = str(target)
            compiled.append(inventory)
        config.intersphinx_mapping[name] = (url, tuple(compiled))


def _check_offline(app, exception):
    """Warn about every page that would need the network or show raw math."""
    if exception is not None or app.builder.format != "html":
        return
    for problem in offline_check.check_tree(Path(app.outdir)):
        logger.warning(problem, type="skneuron", subtype="offline")


def setup(app):
    for extension in ("sphinx.ext.autodoc", "sphinx.ext.intersphinx", "myst_parser"):
        app.setup_extension(extension)  # whose events and settings are used here
    app.add_directive("markdown-include", MarkdownInclude)
    app.add_directive("optional-toctree", OptionalTocTree)
    app.connect("autodoc-process-docstring", _offline_docstrings, priority=400)
    # Before intersphinx validates the mapping (priority 800) and loads it.
    app.connect("config-inited", _offline_inventories, priority=500)
    # After sphinx-gallery has run the examples and written their pages (500).
    app.connect("builder-inited", _gallery_without_tensorflow_logs, priority=600)
    # After the bundled MathJax is copied into the build (priority 500).
    app.connect("build-finished", _check_offline, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
