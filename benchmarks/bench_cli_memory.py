"""Peak memory of ``skneuron fit`` on a large CSV file, above a small file's.

Run from the repository root, alone on the machine::

    python benchmarks/bench_cli_memory.py             # a 110 MB file, about 2 minutes
    python benchmarks/bench_cli_memory.py --mb 20     # a smaller file
    python benchmarks/bench_cli_memory.py --skneuron /tmp/old-checkout  # another copy

It writes two CSV files in a temporary folder (deleted afterwards): ``--mb``
megabytes of rows, and the first 1 000 of them; each row has 10 features and the
target ``y`` (linear in them plus noise), written with ``repr`` (17 significant
digits), from ``numpy.random.default_rng(0)``. Each file is fitted by
``skneuron fit FILE --target y --no-progress`` in a fresh Python process, which
reports its peak resident memory (``ru_maxrss``). The result is the large fit's
peak minus the small fit's (Python, TensorFlow and the libraries, the same for
both), divided by the file's size: the command reads the file in blocks and holds
X once (in float64), and LinearRegression, fitted beside it, its one copy of X.

``--formula`` fits ``--formula "y ~ x0 + ... + x9"`` instead (the same model,
through formulaic's model matrices). ``--skneuron DIR`` measures the skneuron
package found in ``DIR`` (put first on ``PYTHONPATH``), such as a checkout of an
earlier commit.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FEATURES = 10
FORMULA = "y ~ " + " + ".join(f"x{k}" for k in range(FEATURES))

CHILD = """\
import contextlib, io, resource, sys
from skneuron._cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    status = main(sys.argv[1:])
print(status, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def write_csv(path, megabytes, seed=0):
    """Rows of 10 features and y until the file reaches ``megabytes``."""
    rng = np.random.default_rng(seed)
    coef = rng.normal(size=FEATURES)
    header = ",".join([*(f"x{k}" for k in range(FEATURES)), "y"]) + "\n"
    with open(path, "w") as file:
        file.write(header)
        while file.tell() < megabytes * 1e6:
            X = rng.normal(size=(20_000, FEATURES)) * rng.uniform(1, 100, FEATURES)
            y = X @ coef + 5.0 + rng.normal(size=len(X))
            rows = np.column_stack([X, y])
            file.write("\n".join(",".join(map(repr, row.tolist())) for row in rows))
            file.write("\n")


def peak_kib(path, skneuron_dir, formula=False):
    """Peak resident memory (KiB) of ``skneuron fit path`` in a fresh process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(skneuron_dir), *filter(None, [env.get("PYTHONPATH")])]
    )
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "fit", str(path), "--no-progress"]
        + (["--formula", FORMULA] if formula else ["--target", "y"]),
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(path).parent,  # not this checkout: "python -c" puts "" on sys.path
        check=True,
    )
    status, kib = done.stdout.split()[-2:]
    if status != "0":
        sys.exit(f"skneuron fit {path} failed:\n{done.stderr}")
    return int(kib)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=110, help="size of the file")
    parser.add_argument(
        "--skneuron", default=str(ROOT), help="folder holding the skneuron package"
    )
    parser.add_argument("--formula", action="store_true", help="fit by --formula")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        big, small = Path(folder, "big.csv"), Path(folder, "small.csv")
        write_csv(big, args.mb)
        with open(big) as file, open(small, "w") as out:
            out.writelines(line for _, line in zip(range(1_001), file, strict=False))
        size = big.stat().st_size
        base = peak_kib(small, args.skneuron, args.formula)
        peak = peak_kib(big, args.skneuron, args.formula)
    above = (peak - base) * 1024
    how = f'--formula "{FORMULA}"' if args.formula else "--target y"
    print(f"skneuron from {args.skneuron}; skneuron fit FILE {how}")
    print(f"file: {size / 1e6:.1f} MB, {FEATURES} features and y")
    print(f"peak RSS: 1 000 rows {base / 1024:.0f} MiB, all {peak / 1024:.0f} MiB")
    print(f"above the small fit: {above / 1e6:.0f} MB = {above / size:.2f} x the file")


if __name__ == "__main__":
    main()
