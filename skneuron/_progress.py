"""Progress output for ``verbose``, in the style of Keras' ``fit``: one bar for the
whole fit (``verbose=1``) or one line per epoch (``verbose=2``), on stdout."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np


class _Progress:
    """Shows the epochs as the engine reports them; silent with ``verbose=0``.

    ``to_y_units`` turns per-epoch losses of the engine (epochs, targets) into the
    reported values (a list, one per epoch). ``validated``: whether the fit holds
    rows out (``validation_split``); only then is ``val_loss`` shown (the engine
    reports zeros without them).
    """

    def __init__(
        self,
        verbose: int,
        epochs: int,
        to_y_units: Callable[[np.ndarray], list],
        width: int = 30,
        validated: bool = False,
    ):
        self.verbose, self.epochs, self.to_y_units = verbose, epochs, to_y_units
        self.validated = validated
        self.width, self.started, self.shown = width, time.perf_counter(), ""

    def update(self, first: int, losses: np.ndarray, val_losses: np.ndarray) -> None:
        series = [("loss", self.to_y_units(losses))]
        if self.validated and len(val_losses) and val_losses.size:
            series.append(("val_loss", self.to_y_units(val_losses)))
        if self.verbose >= 2:
            for k in range(len(losses)):
                values = " - ".join(f"{name}: {v[k]:.6g}" for name, v in series)
                print(f"Epoch {first + k + 1}/{self.epochs} - {values}")
        elif self.verbose == 1 and len(losses):
            values = " - ".join(f"{name}: {v[-1]:.4g}" for name, v in series)
            self.shown = values
            self._bar(first + len(losses), values)

    def close(self, n_epochs: int) -> None:
        if self.verbose == 1:
            self._bar(n_epochs, self.shown, final=True)

    def _bar(self, done: int, values: str, final: bool = False) -> None:
        total = max(self.epochs, 1)
        filled = int(self.width * min(done, total) / total)
        bar = "=" * filled + ("" if filled == self.width else ">")
        bar = bar.ljust(self.width, ".")
        seconds = time.perf_counter() - self.started
        line = f"\r{done}/{total} [{bar}] - {seconds:.1f}s"
        if values:
            line += f" - {values}"
        sys.stdout.write(line + ("\n" if final else ""))
        sys.stdout.flush()
