"""Many consecutive fits in one process: does NeuronRegressor slow down or leak?

Run from the repository root::

    python benchmarks/bench_long_run.py            # 300 fits on diabetes
    python benchmarks/bench_long_run.py --n 1000
    python benchmarks/bench_long_run.py --out benchmarks/long_run.md

Fits ``clone(NeuronRegressor())`` ``--n`` times on the unscaled diabetes data and
records the time of each fit and the resident memory (RSS, from /proc/self/statm)
after it. Python warnings, warnings of the ``tensorflow`` Python logger and what
TensorFlow's C++ runtime writes to stderr are captured during the fits, and searched
for TensorFlow's "triggered tf.function retracing" warning.
"""

import argparse
import contextlib
import logging
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone

import numpy as np
from _common import (  # benchmarks/ is on sys.path
    cpu_model,
    finish,
    skneuron_source,
    trace_count,
)
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

from skneuron import NeuronRegressor

PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


def rss_bytes():
    """Current resident set size, from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def max_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@contextlib.contextmanager
def capture():
    """Record Python warnings, ``tensorflow`` logger records and fd-2 output."""
    handler = _ListHandler()
    logger = logging.getLogger("tensorflow")
    logger.addHandler(handler)
    result = {"warnings": [], "logs": [], "stderr": ""}
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as err:
        os.dup2(err.fileno(), 2)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                yield result
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            logger.removeHandler(handler)
            err.seek(0)
            result["stderr"] = err.read().decode(errors="replace")
            result["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
            result["logs"] = [
                f"{r.levelname}: {r.getMessage()}" for r in handler.records
            ]


def retracing(captured):
    """The captured lines that are TensorFlow retracing warnings."""
    lines = captured["warnings"] + captured["logs"] + captured["stderr"].splitlines()
    return [line for line in lines if "retracing" in line.lower()]


def check_capture():
    """Trigger a retracing warning on purpose to show the capture would see it."""
    import tensorflow as tf

    @tf.function
    def square(x):
        return x * x

    with capture() as captured:
        for i in range(8):  # a new Python int is a new trace each time
            square(i)
    return bool(retracing(captured))


def warm_up():
    """Import TensorFlow via a fit on another shape, so fit 1 is not the import."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    start = time.perf_counter()
    NeuronRegressor().fit(X, X @ [1.0, -2.0, 0.5] + 3.0)
    return time.perf_counter() - start


def run(n):
    X, y = load_diabetes(return_X_y=True, scaled=False)
    ref = LinearRegression().fit(X, y)
    template = NeuronRegressor()
    warm = warm_up()
    rss0 = rss_bytes()
    traces0 = trace_count()
    times, rss, coefs, n_iter = [], [], [], set()
    with capture() as captured:
        for _ in range(n):
            start = time.perf_counter()
            reg = clone(template).fit(X, y)
            times.append(time.perf_counter() - start)
            rss.append(rss_bytes())
            coefs.append(np.append(reg.coef_, reg.intercept_))
            n_iter.add(reg.n_iter_)
    coefs = np.array(coefs)
    exact = np.append(ref.coef_, ref.intercept_)
    return {
        "n": n,
        "warm_up": warm,
        "times": times,
        "rss0": rss0,
        "rss": rss,
        "max_rss": max_rss_bytes(),
        "captured": captured,
        "traces": (traces0, trace_count()),
        "n_iter": sorted(n_iter),
        "identical": bool((coefs == coefs[0]).all()),
        "error": float((np.abs(coefs - exact) / np.abs(exact)).max()),
    }


def report(r, capture_works):
    n, times, rss = r["n"], r["times"], r["rss"]
    k = min(10, n)
    first, last = statistics.median(times[:k]), statistics.median(times[-k:])
    captured = r["captured"]
    retraces = retracing(captured)
    slope = np.polyfit(np.arange(k, n + 1), np.array(rss[k - 1 :]) / MB, 1)[0]
    rows = [
        ("Fits", f"{n} x clone(NeuronRegressor()).fit on diabetes 442x10 (unscaled)"),
        ("Warm-up fit, 40x3 (includes TensorFlow import)", f"{r['warm_up']:.2f} s"),
        ("Fit 1 time (traces the diabetes graph)", f"{times[0]:.3f} s"),
        (f"Median fit time, fits 1-{k}", f"{first * 1e3:.1f} ms"),
        (f"Median fit time, fits {n - k + 1}-{n}", f"{last * 1e3:.1f} ms"),
        (
            "Median / max fit time, all fits",
            f"{statistics.median(times) * 1e3:.1f} ms / {max(times) * 1e3:.1f} ms",
        ),
        ("Total time of the fits", f"{sum(times):.1f} s"),
        ("RSS after warm-up", f"{r['rss0'] / MB:.1f} MB"),
        ("RSS after fit 1", f"{rss[0] / MB:.1f} MB"),
        (f"RSS after fit {k}", f"{rss[k - 1] / MB:.1f} MB"),
        (f"RSS after fit {n}", f"{rss[-1] / MB:.1f} MB"),
        (
            f"RSS growth, fit {k} -> fit {n}",
            f"{(rss[-1] - rss[k - 1]) / MB:+.2f} MB"
            f" ({(rss[-1] - rss[k - 1]) / max(n - k, 1) / 1024:+.1f} KB per fit)",
        ),
        (f"RSS trend, fits {k}-{n} (least squares)", f"{slope * 1024:+.2f} KB per fit"),
        ("Peak RSS (ru_maxrss, sampled by the kernel)", f"{r['max_rss'] / MB:.1f} MB"),
        (
            "tf.function traces in skneuron's pool, before / after the fits",
            f"{r['traces'][0]} / {r['traces'][1]}",
        ),
        ("TensorFlow retracing warning logged", "yes" if retraces else "no"),
        (
            "Capture shown to catch a deliberate retracing warning",
            "yes" if capture_works else "NO",
        ),
        ("Python warnings during the fits", str(len(captured["warnings"]))),
        ("`tensorflow` logger records during the fits", str(len(captured["logs"]))),
        ("stderr lines during the fits", str(len(captured["stderr"].splitlines()))),
        ("n_iter_ seen", ", ".join(map(str, r["n_iter"]))),
        ("All fits give identical coefficients", "yes" if r["identical"] else "no"),
        ("Max rel. coef error vs LinearRegression, any fit", f"{r['error']:.3g}"),
    ]
    lines = ["| Quantity | Value |", "|---|---|"]
    lines += [f"| {a} | {b} |" for a, b in rows]
    extra = sorted(set(retraces + captured["warnings"] + captured["logs"]))
    stderr = [line for line in captured["stderr"].splitlines() if line.strip()]
    if extra or stderr:
        lines += ["", "Captured during the fits (deduplicated):", ""]
        lines += [f"- `{line[:200]}`" for line in extra + sorted(set(stderr))[:20]]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="number of fits (300)")
    parser.add_argument("--out", help="also write the table to this Markdown file")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")

    source = skneuron_source()
    load_before = os.getloadavg()
    start = time.perf_counter()
    result = run(args.n)
    capture_works = check_capture()
    total = time.perf_counter() - start

    import keras
    import tensorflow as tf

    text = "\n".join(
        [
            f"# bench_long_run ({args.n} fits)",
            "",
            f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}; Python "
            f"{platform.python_version()}, TensorFlow {tf.__version__}, Keras "
            f"{keras.__version__}; processor {platform.processor()!r} ({cpu_model()}), "
            f"{platform.machine()}. Measured: {source}.",
            "",
            report(result, capture_works),
            "",
        ]
    )
    return finish(
        text, total=total, load_before=load_before, source=source, out=args.out
    )


if __name__ == "__main__":
    sys.exit(main())
