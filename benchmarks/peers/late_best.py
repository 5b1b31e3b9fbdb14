"""Checkpoint selection on the validation split, the same rule for both sides of
``hgq2_vs_ours.py`` (``--select late:N``): of the last ``N`` epochs, keep the weights of the
one with the best validation accuracy; ties go to fewer EBOPs, then to the later epoch.

It runs in our virtual environment and in HGQ2's (``hgq2_worker.py`` imports it by path), so it
needs only Keras and numpy. The rule reads nothing of the test split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np


@dataclass(frozen=True)
class EpochRecord:
    """One epoch inside the window: its index, validation accuracy and EBOPs (from the logs)."""

    epoch: int
    val_accuracy: float
    ebops: float


def choose(records: Sequence[EpochRecord]) -> EpochRecord:
    """The record with the best validation accuracy; ties to fewer EBOPs, then the later
    epoch. ``records`` must not be empty."""
    if not records:
        raise ValueError("no epoch to choose from")
    return max(records, key=lambda r: (r.val_accuracy, -r.ebops, r.epoch))


class LateBest(keras.callbacks.Callback):
    """Over the last ``window`` epochs of ``fit``, score each epoch on ``(x_val, y_val)``
    (argmax of the model's inference output against integer labels) and, when training ends,
    put back the weights of :func:`choose`'s epoch. Needs ``ebops`` in the epoch logs: put it
    after the callback that logs them. ``chosen`` holds the chosen record after training;
    ``records`` every scored epoch."""

    def __init__(self, x_val: np.ndarray, y_val: np.ndarray, window: int) -> None:
        super().__init__()
        if window <= 0:
            raise ValueError(f"window must be positive, got {window}")
        if len(x_val) == 0 or len(x_val) != len(y_val):
            raise ValueError(f"validation split: {len(x_val)} inputs, {len(y_val)} labels")
        self.x_val, self.y_val, self.window = x_val, np.asarray(y_val), window
        self.records: list[EpochRecord] = []
        self.chosen: EpochRecord | None = None
        self._best_weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        epochs = int(self.params["epochs"])
        if epoch < epochs - self.window:
            return
        if not logs or "ebops" not in logs:
            raise ValueError(f"LateBest needs 'ebops' in the epoch logs (got {sorted(logs or {})})")
        # one eager call: model.predict would trace a new function each epoch during fit
        y = keras.ops.convert_to_numpy(self.model(self.x_val, training=False))
        accuracy = float(np.mean(np.argmax(y, axis=1) == self.y_val))
        record = EpochRecord(epoch, accuracy, float(logs["ebops"]))
        self.records.append(record)
        if self.chosen is None or choose([self.chosen, record]) is record:
            self.chosen = record
            self._best_weights = [np.array(w) for w in self.model.get_weights()]

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._best_weights is not None:
            self.model.set_weights(self._best_weights)

    def summary(self) -> dict[str, Any]:
        """What a result file records: the window, the chosen epoch and its validation score."""
        if self.chosen is None:
            return {"select_window": self.window, "selected_epoch": None}
        return {
            "select_window": self.window,
            "selected_epoch": self.chosen.epoch,
            "val_accuracy": self.chosen.val_accuracy,
            "val_ebops": self.chosen.ebops,
            "val_samples": len(self.y_val),
        }
