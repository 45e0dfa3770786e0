"""Sphinx configuration of the skneuron documentation.

Build it from the repository root, offline, with warnings as errors::

    python -m sphinx -W -b html docs docs/_build/html

The example gallery runs every ``examples/plot_*.py`` script (add
``-D plot_gallery=0`` to skip running them). Links to the Python, NumPy, SciPy,
scikit-learn and Matplotlib documentation need their inventories from the network,
so they are only made when the environment variable ``SKNEURON_INTERSPHINX`` is set
to a non-empty value.

Generated output: ``_build/``, ``auto_examples/`` (the gallery) and ``generated/``
(API pages and the gallery's back-references).
"""

import os
import sys
from pathlib import Path

import matplotlib

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
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "skneuron_docs",  # _ext/skneuron_docs.py
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "_ext", "_templates", "**.ipynb_checkpoints"]
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

autosummary_generate = True
autodoc_typehints = "none"

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

intersphinx_mapping = {}
if os.environ.get("SKNEURON_INTERSPHINX"):
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
    }
    # Keras and TensorFlow publish no Sphinx inventory.

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
    "reference_url": {"skneuron": None},
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
    html_sidebars = {"index": [], "getting_started": [], "changelog": []}
html_title = f"skneuron {release}"
html_show_sourcelink = False
