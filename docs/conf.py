"""Sphinx configuration of the skneuron documentation.

Build it from the repository root, offline, with warnings as errors (as CI does)::

    pip install ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

The example gallery runs every ``examples/plot_*.py`` script (add
``-D plot_gallery=0`` to skip running them). Nothing is downloaded:

- math is typeset by the copy of MathJax that ``sphinx-mathjax-offline`` ships
  and copies into the build (``_static/mathjax/``);
- the copy button's script and icons are ``sphinx-copybutton``'s own files, copied
  into ``_static/``;
- links to the documentation of scikit-learn, NumPy, SciPy, Python, joblib,
  Matplotlib, Keras and scikeras come from the small inventories in
  ``inventories/`` (see its README), compiled at build time;
- after the build, ``_ext/offline_check.py`` checks every page for anything
  loaded from the network and for raw math; each problem fails the ``-W`` build.

``nitpicky`` is on: a reference to an object that no inventory lists is an error,
so a new link to another project needs a line in ``inventories/``.

Generated output: ``_build/``, ``auto_examples/`` (the gallery) and ``generated/``
(API pages and the gallery's back-references).
"""

import os
import sys
from pathlib import Path

# Before anything imports TensorFlow (the gallery runs its examples in this
# process): no C++ log lines below FATAL from TensorFlow, such as the "failed call
# to cuInit" error it logs on a machine without a GPU. The notices it writes
# before its logging is set up are taken out of the gallery's outputs by
# _ext/skneuron_docs.py. A value set in the environment is kept.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # the gallery renders figures without a display

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import skneuron  # noqa: E402  (after the backend is chosen)

# -- project ------------------------------------------------------------------------
project = "skneuron"
author = "skneuron developers"
copyright = "skneuron developers"
release = skneuron.__version__
version = ".".join(release.split(".")[:2])

# -- general ------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 served from the build, not a CDN
    "myst_parser",  # Markdown files of the repository included into pages
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx_copybutton",  # a copy button on code blocks, prompts left out
    "skneuron_docs",  # _ext/skneuron_docs.py
]
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_ext",
    "_templates",
    "inventories",  # its README.md is no page (myst_parser makes .md a source)
    "**.ipynb_checkpoints",
]
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

autosummary_generate = True
autodoc_typehints = "none"

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

nitpicky = True

# Offline inventories: plain-text files in inventories/, compiled into objects.inv
# by _ext/skneuron_docs.py before intersphinx reads them. Keras (keras.io) and
# scikeras publish no inventory we could bundle, so theirs list the few pages we
# link to, too.
intersphinx_mapping = {
    project: (url, f"inventories/{project}.txt")
    for project, url in {
        "python": "https://docs.python.org/3/",
        "numpy": "https://numpy.org/doc/stable/",
        "scipy": "https://docs.scipy.org/doc/scipy/",
        "sklearn": "https://scikit-learn.org/stable/",
        "joblib": "https://joblib.readthedocs.io/en/stable/",
        "matplotlib": "https://matplotlib.org/stable/",
        "keras": "https://keras.io/",
        "scikeras": "https://adriangb.com/scikeras/stable/",
    }.items()
}
intersphinx_timeout = 1  # never wait for a network that is not there

# -- copy button --------------------------------------------------------------------
# The button copies a block's code without its prompts: ">>> " and "... " of the
# doctests and "$ " of shell commands. In a block with prompts only the lines with
# a prompt are copied, so a doctest's output is left out; a block without prompts
# (the gallery's code) is copied whole. Its script and icons come from the build.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True
copybutton_remove_prompts = True

# -- example gallery ----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "within_subsection_order": "skneuron_docs.ExampleOrder",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "doc_module": ("skneuron",),
    "backreferences_dir": "generated/backreferences",
    "remove_config_comments": True,
    # The timing pages would be written outside auto_examples/ and generated/;
    # sphinx-gallery prints the same times to the console.
    "write_computation_times": False,
    "show_memory": False,
}

# -- HTML ---------------------------------------------------------------------------
try:
    import pydata_sphinx_theme  # noqa: F401
except ImportError:  # pragma: no cover - the theme is in docs/requirements.txt
    html_theme = "alabaster"
else:
    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navigation_with_keys": False,
        "show_prev_next": True,
        "secondary_sidebar_items": ["page-toc"],
        "footer_start": ["copyright"],
        "footer_end": ["sphinx-version"],
    }
    # The left sidebar lists a section's sub-pages; the top-level pages have none,
    # and without it wide tables get the room.
    html_sidebars = {"*": []}
    # The colour mode a reader gets until they pick one with the theme switcher
    # (the theme's JavaScript accepts "auto", "light" and "dark"; "auto" follows
    # the browser's setting). Unset, every page started in mode "", which the
    # theme rejects in the browser console ("Got invalid theme mode").
    html_context = {"default_mode": "auto"}
html_title = f"skneuron {release}"
html_static_path = ["_static"]
html_css_files = ["skneuron.css"]
html_show_sourcelink = False
