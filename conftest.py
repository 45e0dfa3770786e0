"""pytest set-up shared by the tests in tests/ and the doctests in skneuron/."""

import importlib.util
import os
import sys

import pytest

# Figures are drawn off-screen, with no display needed; this has to be set before
# anything imports matplotlib, and importing it here would slow every test run.
os.environ["MPLBACKEND"] = "Agg"

# Doctests of modules for an optional dependency run only where it is installed.
_OPTIONAL_DOCTESTS = {
    "skneuron._scikeras.": "scikeras",
    "scikeras.rst": "scikeras",
    "scaling.rst": "dask_ml",  # the dask extra
}


def _installed(package):
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def pytest_collection_modifyitems(config, items):
    for item in items:  # the documentation's pages fit many estimators each
        if isinstance(item, pytest.DoctestItem) and item.path.suffix == ".rst":
            item.add_marker(pytest.mark.slow)
    for prefix, package in _OPTIONAL_DOCTESTS.items():
        if _installed(package):
            continue
        skip = pytest.mark.skip(reason=f"{package} is not installed")
        for item in items:
            if isinstance(item, pytest.DoctestItem) and item.name.startswith(prefix):
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test or doctest opened."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
