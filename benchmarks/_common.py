"""Helpers the benchmark scripts share: what was measured, on what, and the footer."""

import contextlib
import os
import pathlib
import sys

# Measure the skneuron of this checkout, not an installed copy: the scripts are run
# as `python benchmarks/<script>.py`, which puts benchmarks/ first on sys.path, and
# this module is imported before skneuron.
sys.path.insert(1, str(pathlib.Path(__file__).resolve().parents[1]))


def skneuron_source():
    """Which skneuron was measured: git commit, and a hash of its source files."""
    import hashlib
    import subprocess

    import skneuron

    root = pathlib.Path(skneuron.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.glob("*.py")):
        digest.update(path.read_bytes())
    commit = "no git"
    with contextlib.suppress(Exception):
        subprocess.run(  # in a repository that tracks it (not, say, pyenv's)
            ["git", "-C", str(root), "ls-files", "--error-unmatch", "__init__.py"],
            capture_output=True,
            check=True,
        )
        commit = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%h"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        commit += " + uncommitted changes" if dirty else ""
    return (
        f"skneuron {skneuron.__version__}, commit {commit}, "
        f"source sha256 {digest.hexdigest()[:12]}"
    )


def cpu_model():
    """The CPU's model name from /proc/cpuinfo, or "unknown CPU"."""
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    return "unknown CPU"


def trace_count():
    """Programs skneuron's engine traced so far (private internals; None if
    unknown)."""
    try:
        from skneuron import _keras

        return _keras.counts["graph traces"] + _keras.counts["xla traces"]
    except Exception:
        return None


def finish(text, *, total, load_before, source, out=None):
    """Add the footer (run time, load, a warning if skneuron changed meanwhile),
    print the report and write it to ``out``; returns the exit status 0."""
    text += (
        f"\nTotal run time: {total:.0f} s. Load average (1 min) before / after: "
        f"{load_before[0]:.2f} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs."
    )
    now = skneuron_source()
    if now.split("sha256")[1] != source.split("sha256")[1]:
        text += f"\nWARNING: skneuron source files changed during the run: {now}"
    print(text)
    if out:
        with open(out, "w") as f:
            f.write(text + "\n")
    return 0
