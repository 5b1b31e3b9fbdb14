"""Training callbacks: value-range resets, EBOPs logging, beta schedules and control, and the
Pareto front of (validation accuracy, EBOPs) checkpoints.

Beta schedules come from strings (for the CLI), see :func:`parse_beta_schedule`::

    1e-6                      constant
    linear:1e-7:1e-5          linear ramp from the first to the last epoch
    log:1e-7:1e-4             geometric ramp from the first to the last epoch
    linear:1e-7:1e-5:2:20     ramp between epochs 2 and 20 (constant outside)
    target:2000:1e-6          controller: start at 1e-6, steer EBOPs towards 2000
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from hgq_hw.atomic import atomic_path, remove_stale_temps, write_json
from hgq_train.ebops import ebops
from hgq_train.training import get_hgq_loss, reset_ranges

__all__ = [
    "BetaController",
    "BetaSchedule",
    "BetaScheduler",
    "EBOPsLogger",
    "ParetoFront",
    "ResetRanges",
    "hgq_callbacks",
    "parse_beta_schedule",
]


@dataclass(frozen=True)
class BetaSchedule:
    """``beta`` per epoch: ``kind`` is ``constant``, ``linear``, ``log`` or ``target``.

    Ramps go from ``start`` at epoch ``first`` to ``end`` at epoch ``last`` (``None``: the last
    epoch of the run) and stay constant outside. ``target`` starts at ``start`` and leaves the
    steering to :class:`BetaController` (``end`` is the target EBOPs).
    """

    kind: str
    start: float
    end: float
    first: int = 0
    last: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("constant", "linear", "log", "target"):
            raise ValueError(f"unknown beta schedule kind {self.kind!r}")
        if self.start < 0 or self.end < 0:
            raise ValueError(f"beta values must be >= 0, got {self.start} and {self.end}")
        if self.kind == "log" and (self.start <= 0 or self.end <= 0):
            raise ValueError("a log beta schedule needs positive start and end values")

    def __call__(self, epoch: int, epochs: int) -> float:
        if self.kind in ("constant", "target"):
            return self.start
        last = epochs - 1 if self.last is None else self.last
        if last <= self.first:
            return self.end if epoch >= self.first else self.start
        t = min(max((epoch - self.first) / (last - self.first), 0.0), 1.0)
        if self.kind == "linear":
            return self.start + t * (self.end - self.start)
        return math.exp(math.log(self.start) + t * (math.log(self.end) - math.log(self.start)))


def parse_beta_schedule(text: str) -> BetaSchedule:
    """Parse ``1e-6``, ``linear:A:B[:E0:E1]``, ``log:A:B[:E0:E1]`` or ``target:EBOPS[:BETA0]``."""
    if not isinstance(text, str):
        raise TypeError(f"a beta schedule is a string, got {type(text).__name__}")
    parts = text.strip().split(":")
    try:
        if len(parts) == 1:
            value = float(parts[0])
            return BetaSchedule("constant", value, value)
        kind, args = parts[0].lower(), parts[1:]
        if kind in ("linear", "log") and len(args) in (2, 4):
            first, last = (int(args[2]), int(args[3])) if len(args) == 4 else (0, None)
            return BetaSchedule(kind, float(args[0]), float(args[1]), first, last)
        if kind == "target" and len(args) in (1, 2):
            beta0 = float(args[1]) if len(args) == 2 else 1e-6
            return BetaSchedule("target", beta0, float(args[0]))
    except ValueError as err:
        raise ValueError(f"bad beta schedule {text!r}: {err}") from None
    raise ValueError(
        f"bad beta schedule {text!r}; expected e.g. '1e-6', 'linear:1e-7:1e-5', "
        "'log:1e-7:1e-4', 'linear:1e-7:1e-5:2:20' or 'target:2000:1e-6'"
    )


class ResetRanges(keras.callbacks.Callback):
    """Resets every quantizer's recorded value range at the start of each epoch."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        reset_ranges(self.model)


class EBOPsLogger(keras.callbacks.Callback):
    """Adds ``ebops`` (from this epoch's value ranges) and ``beta`` to the epoch logs."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is None:
            return
        logs["ebops"] = ebops(self.model)
        logs["beta"] = float(keras.ops.convert_to_numpy(get_hgq_loss(self.model).beta))


class BetaScheduler(keras.callbacks.Callback):
    """Sets ``beta`` of the model's :class:`HGQLoss` at the start of every epoch."""

    def __init__(self, schedule: BetaSchedule | str, epochs: int | None = None) -> None:
        super().__init__()
        self.schedule = parse_beta_schedule(schedule) if isinstance(schedule, str) else schedule
        self.epochs = epochs

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.schedule.kind == "target" and epoch > 0:
            return  # the controller owns beta after the first epoch
        epochs = self.epochs or int(self.params.get("epochs", epoch + 1))
        get_hgq_loss(self.model).beta.assign(self.schedule(epoch, epochs))


class BetaController(keras.callbacks.Callback):
    """Steers ``beta`` so that EBOPs approach ``target``: after each epoch ``beta`` is multiplied
    by ``factor`` when EBOPs are above ``target * (1 + tolerance)`` and divided by it when below
    ``target * (1 - tolerance)``, within ``[beta_min, beta_max]``."""

    def __init__(
        self,
        target: float,
        *,
        factor: float = 1.5,
        tolerance: float = 0.05,
        beta_min: float = 1e-9,
        beta_max: float = 1e-2,
    ) -> None:
        super().__init__()
        if target <= 0:
            raise ValueError(f"target EBOPs must be positive, got {target}")
        if factor <= 1:
            raise ValueError(f"factor must be > 1, got {factor}")
        self.target, self.factor, self.tolerance = float(target), float(factor), float(tolerance)
        self.beta_min, self.beta_max = float(beta_min), float(beta_max)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = ebops(self.model)
        beta = get_hgq_loss(self.model).beta
        b = float(keras.ops.convert_to_numpy(beta))
        if value > self.target * (1 + self.tolerance):
            b *= self.factor
        elif value < self.target * (1 - self.tolerance):
            b /= self.factor
        beta.assign(min(max(b, self.beta_min), self.beta_max))


def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """``a = (accuracy, ebops)`` is at least as good as ``b`` in both and better in one."""
    return a[0] >= b[0] and a[1] <= b[1] and (a[0] > b[0] or a[1] < b[1])


class ParetoFront(keras.callbacks.Callback):
    """Keeps every epoch's model that no other kept model dominates in (``metric`` higher,
    ``ebops`` lower), as ``DIRECTORY/epoch{E:04d}.keras``; ``DIRECTORY/front.json`` lists them.

    Needs ``ebops`` in the logs (put :class:`EBOPsLogger` before it). The front survives a
    restart: an existing ``front.json`` is read back, and entries of epochs at or after the one
    being trained (left by a run that was killed and resumed) are dropped.

    Crash-safe: checkpoints and ``front.json`` are written to a temporary file and renamed, and
    ``front.json`` is written before the checkpoints it no longer lists are deleted, so it never
    names a missing file. Checkpoint files that ``front.json`` does not list (a kill between
    the two) are deleted when the callback starts.
    """

    def __init__(self, directory: str | Path, metric: str = "val_accuracy") -> None:
        super().__init__()
        self.directory = Path(directory)
        self.metric = metric
        self.front: list[dict[str, Any]] = []
        index = self.directory / "front.json"
        if index.exists():
            self.front = json.loads(index.read_text(encoding="utf-8"))
        if self.directory.is_dir():
            remove_stale_temps(self.directory)
            listed = {p["file"] for p in self.front}
            for stray in self.directory.glob("epoch*.keras"):
                if stray.name not in listed:
                    stray.unlink()

    def _write_front(self, front: list[dict[str, Any]], dropped: list[dict[str, Any]]) -> None:
        """Make ``front`` the front: ``front.json`` first, then delete the dropped files that
        ``front`` does not name."""
        self.front = sorted(front, key=lambda p: p["ebops"])
        write_json(self.directory / "front.json", self.front)
        named = {p["file"] for p in self.front}
        for p in dropped:
            if p["file"] not in named:
                (self.directory / p["file"]).unlink(missing_ok=True)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.metric not in logs or "ebops" not in logs:
            raise ValueError(
                f"ParetoFront needs {self.metric!r} and 'ebops' in the logs (got "
                f"{sorted(logs)}); pass validation data and put EBOPsLogger first"
            )
        point = (float(logs[self.metric]), float(logs["ebops"]))
        stale = [p for p in self.front if p["epoch"] >= epoch]  # from a killed, resumed run
        front = [p for p in self.front if p["epoch"] < epoch]
        if (
            not np.isfinite(point).all()
            or any(dominates((p[self.metric], p["ebops"]), point) for p in front)
            or any((p[self.metric], p["ebops"]) == point for p in front)
        ):
            if stale:
                self._write_front(front, stale)
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"epoch{epoch:04d}.keras"
        with atomic_path(path) as temp:
            self.model.save(temp)
        dropped = stale + [p for p in front if dominates(point, (p[self.metric], p["ebops"]))]
        kept = [p for p in front if p not in dropped]
        kept.append({"epoch": epoch, self.metric: point[0], "ebops": point[1], "file": path.name})
        self._write_front(kept, dropped)


def hgq_callbacks(
    beta: BetaSchedule | str, *, pareto_dir: str | Path | None = None, epochs: int | None = None
) -> list[keras.callbacks.Callback]:
    """The usual list: range resets, the beta schedule (or controller), EBOPs logging and, with
    ``pareto_dir``, the Pareto front."""
    schedule = parse_beta_schedule(beta) if isinstance(beta, str) else beta
    callbacks: list[keras.callbacks.Callback] = [ResetRanges(), BetaScheduler(schedule, epochs)]
    callbacks.append(EBOPsLogger())
    if schedule.kind == "target":
        callbacks.append(BetaController(schedule.end))
    if pareto_dir is not None:
        callbacks.append(ParetoFront(pareto_dir))
    return callbacks
