"""Helpers both benchmark scripts share: what was measured, and on what."""

import contextlib


def skneuron_source():
    """Which skneuron was measured: git commit, and a hash of its source files."""
    import hashlib
    import pathlib
    import subprocess

    import skneuron

    root = pathlib.Path(skneuron.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.glob("*.py")):
        digest.update(path.read_bytes())
    commit = "no git"
    with contextlib.suppress(Exception):
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
    """Traces of skneuron's pooled trainers (private internals; None if unknown)."""
    try:
        from skneuron import _keras

        return sum(
            t._run.experimental_get_tracing_count()
            for trainers in _keras._pool.values()
            for t in trainers
        )
    except Exception:
        return None
