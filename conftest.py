"""Repository-wide pytest hooks (the test suite's own fixtures are in tests/)."""

import importlib.util

import pytest

# Doctests of modules for an optional dependency run only where it is installed.
_OPTIONAL_DOCTESTS = {"skneuron._scikeras.": "scikeras"}


def _installed(package):
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def pytest_collection_modifyitems(config, items):
    for prefix, package in _OPTIONAL_DOCTESTS.items():
        if _installed(package):
            continue
        skip = pytest.mark.skip(reason=f"{package} is not installed")
        for item in items:
            if isinstance(item, pytest.DoctestItem) and item.name.startswith(prefix):
                item.add_marker(skip)
