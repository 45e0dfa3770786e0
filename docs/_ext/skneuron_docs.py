"""Small Sphinx helpers for the skneuron documentation.

- ``ExampleOrder``: the order of the example gallery (the tutorials first, in their
  own order, then the scikit-learn workflows, then scikeras), for sphinx-gallery's
  ``within_subsection_order``.
- ``optional-literalinclude``: a ``literalinclude`` of a file that may not exist
  yet (benchmark results are produced by a script, not committed by hand). When the
  file is missing, the directive's content is shown instead, so a build with
  ``-W`` does not fail on it.
- ``_offline_docstrings``: two fixes to docstrings as autodoc reads them, so that
  the offline build passes with ``-W``:

  * a shape written ``(n_features_in_,)`` is read by reStructuredText as a link
    to a target ``n_features_in`` that does not exist; it is shown as literal
    text instead (this does nothing once the docstrings quote such names);
  * methods inherited from scikit-learn (``score``) link to labels of
    scikit-learn's own documentation with ``:ref:``; without intersphinx those
    cannot resolve, so the link text is kept and the link dropped.
"""

import re
from pathlib import Path

from docutils import nodes
from sphinx.directives.code import LiteralInclude

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


class OptionalLiteralInclude(LiteralInclude):
    """``literalinclude`` if the file exists, else the directive's own content."""

    has_content = True

    def run(self):
        _, path = self.env.relfn2path(self.arguments[0], self.env.docname)
        if Path(path).is_file():
            self.content = []
            return super().run()
        # Depending on the missing file re-reads this page until the file appears.
        self.env.note_dependency(path)
        container = nodes.container()
        self.state.nested_parse(self.content, self.content_offset, container)
        return container.children


_BARE_SHAPE_NAME = re.compile(r"(?<=[(, ])(n_[a-z_]*[a-z]_)(?=[,)])")
_REF_WITH_TEXT = re.compile(r":ref:`([^`<]+?)\s*<[^`>]+>`")
_REF_BARE = re.compile(r":ref:`([^`<]+)`")


def _offline_docstrings(app, what, name, obj, options, lines):
    lines[:] = [_BARE_SHAPE_NAME.sub(r"``\1``", line) for line in lines]
    inherited = getattr(obj, "__module__", "").startswith("sklearn.")
    if inherited and "sphinx.ext.intersphinx" not in app.extensions:
        lines[:] = [
            _REF_BARE.sub(r"``\1``", _REF_WITH_TEXT.sub(r"\1", line)) for line in lines
        ]


def setup(app):
    app.add_directive("optional-literalinclude", OptionalLiteralInclude)
    app.connect("autodoc-process-docstring", _offline_docstrings, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
