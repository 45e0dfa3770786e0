"""Every gallery example runs, offline, with a non-interactive matplotlib backend,
and no legend of its figures covers the data drawn."""

import runpy
import warnings
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # runs every example

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("plot_*.py"))
# Examples of an optional dependency run only where it is installed.
NEEDS = {"plot_scikeras": "scikeras"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, monkeypatch):
    if path.stem in NEEDS:
        pytest.importorskip(NEEDS[path.stem])
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(path.parent)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        runpy.run_path(str(path), run_name="__main__")
    covered = [
        f"figure {number}: {problem}"
        for number in plt.get_fignums()
        for problem in legends_covering_data(plt.figure(number))
    ]
    plt.close("all")
    assert covered == []


def _densify(points, n=25):
    """Points along the polyline through ``points`` (display coordinates)."""
    points = np.asarray(points, dtype=float)
    if len(points) < 2:
        return points
    t = np.linspace(0, 1, n)[:, None, None]
    return (points[:-1] + t * (points[1:] - points[:-1])).reshape(-1, 2)


def _within(xy, box):
    (x0, y0), (x1, y1) = box.get_points()
    return (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)


def legends_covering_data(figure):
    """What the legends of ``figure`` hide: lines, markers, bars under a legend box."""
    figure.canvas.draw()
    problems = []
    for ax in figure.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent()
        clip = ax.get_window_extent()  # only what is drawn inside the axes counts

        def hidden(xy, box=box, clip=clip):
            xy = np.asarray(xy, dtype=float).reshape(-1, 2)
            xy = xy[np.isfinite(xy).all(axis=1) & _within(xy, clip)]
            return bool(_within(xy, box).any())

        for line in ax.get_lines():
            xy = line.get_transform().transform(line.get_xydata())
            if line.get_visible() and hidden(_densify(xy)):
                problems.append(f"the legend covers the line {line.get_label()!r}")
        for collection in ax.collections:
            offsets = collection.get_offsets()
            if len(offsets):
                xy = collection.get_offset_transform().transform(offsets)
                if hidden(xy):
                    problems.append(f"the legend covers {collection.get_label()!r}")
            for segment in getattr(collection, "get_segments", list)():
                xy = collection.get_transform().transform(segment)
                if hidden(_densify(xy)):
                    problems.append(f"the legend covers {collection.get_label()!r}")
                    break
        for patch in ax.patches:
            if patch.get_window_extent().overlaps(box):
                problems.append(f"the legend covers the bar {patch.get_label()!r}")
                break
    return problems


def test_there_are_examples():
    assert len(EXAMPLES) >= 6


def test_legend_check_sees_covered_data():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (covered, beside) = plt.subplots(1, 2)
    for ax in (covered, beside):
        ax.plot([0, 1], [1, 1], label="flat line at the top")
        ax.scatter([0.5], [0.0], label="a point")
        ax.set_ylim(-0.1, 1.1)
    covered.legend(loc="upper center")
    beside.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    problems = legends_covering_data(fig)
    plt.close(fig)
    assert problems == ["the legend covers the line 'flat line at the top'"]
