"""pytest set-up shared by the tests in tests/ and the doctests in skneuron/."""

import os
import sys

import pytest

# Figures are drawn off-screen, with no display needed; this has to be set before
# anything imports matplotlib, and importing it here would slow every test run.
os.environ["MPLBACKEND"] = "Agg"


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test or doctest opened."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
