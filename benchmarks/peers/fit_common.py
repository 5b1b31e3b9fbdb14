"""What both sides of ``hgq2_vs_ours.py`` fit with: Adam under the same learning-rate schedule
(``--lr-schedule``) and a timer of each epoch.

It runs in our virtual environment and in HGQ2's (``hgq2_worker.py`` imports it by path, as it
does ``late_best.py``), so it needs only Keras.
"""

from __future__ import annotations

import math
import time
from typing import Any

import keras


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Optimizer steps in one epoch of ``fit(x, y, batch_size=...)``, a partial last batch too."""
    if n_train < 1 or batch_size < 1:
        raise ValueError(f"need n_train >= 1 and batch_size >= 1, got {n_train}, {batch_size}")
    return math.ceil(n_train / batch_size)


def adam(lr: float, cosine_final: float | None, total_steps: int) -> keras.optimizers.Adam:
    """Adam at ``lr``; with ``cosine_final`` not None, its rate follows a cosine from ``lr`` at
    step 0 to ``cosine_final * lr`` at ``total_steps`` (Keras' ``CosineDecay``, ``alpha``), and
    stays there after."""
    if cosine_final is None:
        return keras.optimizers.Adam(lr)
    if not 0.0 <= cosine_final < 1.0 or total_steps < 1:
        raise ValueError(f"cosine to {cosine_final} of lr over {total_steps} steps")
    schedule = keras.optimizers.schedules.CosineDecay(lr, total_steps, alpha=cosine_final)
    return keras.optimizers.Adam(schedule)


class EpochTimes(keras.callbacks.Callback):
    """Wall seconds of each epoch of ``fit``, in order, in ``seconds``."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)
