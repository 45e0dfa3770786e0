import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci", parent=settings.get_profile("default"), derandomize=True
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(scope="session")
def tutorials():
    """The three tutorials' noisy lines, regenerated with a fixed seed."""
    rng = np.random.default_rng(42)
    x1 = np.linspace(0, 50, 51)
    x2 = np.linspace(0, 1, 100)
    x4 = np.arange(50.0)
    return {
        "tutorial1": (x1[:, None], x1 + 10 * rng.random(51)),
        "tutorial2": (x2[:, None], 1.35 * x2 + 0.5 + 0.33 * rng.standard_normal(100)),
        "tutorial4": (x4[:, None], 3.5 * x4 + rng.uniform(-10, 20, 50)),
    }


@pytest.fixture(scope="session")
def diabetes():
    from sklearn.datasets import load_diabetes

    return load_diabetes(return_X_y=True, scaled=False)
