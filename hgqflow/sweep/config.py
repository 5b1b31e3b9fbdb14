"""The sweep config (TOML, read with :mod:`tomllib`): what a sweep runs and on which settings.

A config has up to four tables (``hgq sweep --example`` prints a commented one)::

    [sweep]        name, stages (a subset of STAGES, in order), retries, resources
    [defaults]     settings every point starts from (keys of SETTINGS)
    [grid]         setting -> list of values: one point per combination
    [[points]]     explicit points: settings over [defaults] (with [grid], they are added)

Every error is a :class:`SweepConfigError` (a ``ValueError``) naming the file, where in it
(``[defaults]``, ``[grid]``, ``points[2]``, the grid point) and the key. Standard library only
(and :func:`hgq_train.lr_schedule.parse_lr_schedule`, itself standard library).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from hgq_train.lr_schedule import parse_lr_schedule

__all__ = [
    "CHOICES",
    "DEFAULT_RESOURCES",
    "SETTINGS",
    "STAGES",
    "StageResources",
    "SweepConfig",
    "SweepConfigError",
    "load_config",
    "parse_config",
]

STAGES: tuple[str, ...] = ("train", "export", "gen", "sim", "synth")
"""The stages a point can run, in the only order they can run."""

SETTINGS: dict[str, tuple[tuple[type, ...], Any]] = {
    "dataset": ((str,), "digits"),
    "data": ((str, type(None)), None),
    "model": ((str, type(None)), None),
    "epochs": ((int,), 20),
    "beta": ((str, float, int), "1e-6"),
    "seed": ((int,), 0),
    "batch_size": ((int,), 64),
    "lr": ((float, int), 3e-3),
    "jit": ((bool,), True),
    "deterministic": ((bool,), True),
    "cost": ((str,), "ebops"),
    "lr_schedule": ((str,), "constant"),
    "calibration_margin_bits": ((int,), 0),
    "fold_rounding": ((bool,), True),
    "pipeline_levels": ((int,), 2),
    "simulator": ((str,), "verilator"),
    "samples": ((int,), 200),
    "target": ((str, type(None)), None),
    "clock_mhz": ((float, int), 100.0),
}
"""Point settings: accepted TOML types and the default. ``beta`` is a schedule string
(``"1e-6"``, ``"log:1e-7:1e-4"``); a number is accepted and written as one. ``data`` and a
``model`` ending in ``.toml`` are paths relative to the config file. ``deterministic`` switches
on TensorFlow's op determinism for training (bit-reproducible runs; default on, as in
``hgq train``)."""

CHOICES: dict[str, tuple[str, ...]] = {
    "simulator": ("verilator", "icarus"),
    "target": ("ice40", "ecp5", "xc7"),
    "cost": ("ebops", "luts"),
}
_NEEDS = {"export": "train", "gen": "export", "sim": "gen", "synth": "gen"}
"""The stage whose files each stage reads."""
_POSITIVE = ("epochs", "batch_size", "lr", "clock_mhz")
_NON_NEGATIVE = ("seed", "samples", "calibration_margin_bits", "pipeline_levels")


@dataclass(frozen=True)
class StageResources:
    """What one stage's Ray task asks for (``num_cpus`` CPUs, ``memory_mb`` MiB, 0: no ask)."""

    num_cpus: float = 1.0
    memory_mb: int = 0

    def ray_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"num_cpus": self.num_cpus}
        if self.memory_mb:
            options["memory"] = self.memory_mb * 1024 * 1024
        return options


DEFAULT_RESOURCES: dict[str, StageResources] = {
    "train": StageResources(1.0, 0),
    "export": StageResources(1.0, 0),
    "gen": StageResources(1.0, 0),
    "sim": StageResources(1.0, 0),
    "synth": StageResources(1.0, 0),
}


class SweepConfigError(ValueError):
    """A bad sweep config; the message names the file, the place in it and the key."""


@dataclass(frozen=True)
class SweepConfig:
    """A parsed config: the points' settings (defaults filled in, not yet expanded into
    :class:`~hgqflow.sweep.points.Point`) and how to run them."""

    path: Path
    name: str
    stages: tuple[str, ...]
    retries: int
    resources: dict[str, StageResources]
    point_settings: list[dict[str, Any]]
    """One dict per point, every key of :data:`SETTINGS`, values as written (paths too)."""
    origins: list[str] = field(default_factory=list)
    """Where each point comes from (``grid {'beta': ...}``, ``points[1]``), for errors."""

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the config are relative to."""
        return self.path.resolve().parent


def _fail(path: Path, where: str, message: str) -> SweepConfigError:
    return SweepConfigError(f"{path}: {where}: {message}")


def _type_names(types: tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true/false"}
    return " or ".join(names.get(t, "nothing") for t in types if t is not type(None))


def _beta_problem(text: str) -> str | None:
    """Why ``text`` is not a beta schedule of :func:`hgq_train.callbacks.parse_beta_schedule`
    (checked here without importing Keras), or None."""
    parts = text.strip().split(":")
    kind, args = (parts[0].lower(), parts[1:]) if len(parts) > 1 else ("constant", parts)
    counts = {"constant": (1,), "linear": (2, 4), "log": (2, 4), "target": (1, 2)}
    if kind not in counts or len(args) not in counts[kind]:
        return "expected e.g. '1e-6', 'linear:1e-7:1e-5', 'log:1e-7:1e-4' or 'target:2000'"
    try:
        for n, arg in enumerate(args):
            int(arg) if n >= 2 and kind != "target" else float(arg)
    except ValueError as err:
        return str(err)
    return None


def _check_value(path: Path, where: str, key: str, value: Any) -> Any:
    """``value`` of setting ``key`` normalised (beta to a string, numbers to float)."""
    if key not in SETTINGS:
        known = ", ".join(SETTINGS)
        raise _fail(path, where, f"unknown key {key!r} (known: {known})")
    types, _ = SETTINGS[key]
    ok = isinstance(value, types) and not (
        isinstance(value, bool) and bool not in types  # TOML true is not an integer here
    )
    if not ok:
        raise _fail(path, where, f"{key} must be {_type_names(types)}, got {value!r}")
    if key == "beta" and not isinstance(value, str):
        value = repr(float(value))
    if key in ("lr", "clock_mhz"):
        value = float(value)
    if key in CHOICES and value is not None and value not in CHOICES[key]:
        raise _fail(path, where, f"{key} must be one of {list(CHOICES[key])}, got {value!r}")
    if key in _POSITIVE and not value > 0:
        raise _fail(path, where, f"{key} must be > 0, got {value!r}")
    if key in _NON_NEGATIVE and value < 0:
        raise _fail(path, where, f"{key} must be >= 0, got {value!r}")
    if key == "beta":
        problem = _beta_problem(value)
        if problem:
            raise _fail(path, where, f"beta {value!r}: {problem}")
    if key == "lr_schedule":
        try:
            parse_lr_schedule(value)
        except ValueError as err:
            raise _fail(path, where, str(err).replace("--lr-schedule", "lr_schedule")) from None
    return value


def _table(path: Path, raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise _fail(path, f"[{name}]", f"must be a table, got {type(value).__name__}")
    return value


def _parse_sweep_table(
    path: Path, table: dict[str, Any]
) -> tuple[str, tuple[str, ...], int, dict[str, StageResources]]:
    known = ("name", "stages", "retries", "resources")
    for key in table:
        if key not in known:
            raise _fail(path, "[sweep]", f"unknown key {key!r} (known: {', '.join(known)})")
    name = table.get("name", path.stem)
    if not isinstance(name, str) or not name:
        raise _fail(path, "[sweep]", f"name must be a non-empty string, got {name!r}")
    stages = table.get("stages", list(STAGES[:4]))
    if not isinstance(stages, list) or not stages or not all(isinstance(s, str) for s in stages):
        raise _fail(path, "[sweep]", f"stages must be a non-empty list of names, got {stages!r}")
    for stage in stages:
        if stage not in STAGES:
            raise _fail(path, "[sweep]", f"stages: unknown stage {stage!r} (known: {list(STAGES)})")
    order = [s for s in STAGES if s in stages]
    if list(stages) != order or len(set(stages)) != len(stages):
        raise _fail(path, "[sweep]", f"stages must be in the order {list(STAGES)}, got {stages}")
    if order[0] != "train":
        raise _fail(path, "[sweep]", f"stages must start with 'train', got {order[0]!r}")
    for stage in order:
        needed = _NEEDS.get(stage)
        if needed and needed not in order:
            raise _fail(path, "[sweep]", f"stages: {stage!r} needs {needed!r}")
    retries = table.get("retries", 1)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise _fail(path, "[sweep]", f"retries must be an integer >= 0, got {retries!r}")
    resources = dict(DEFAULT_RESOURCES)
    res_table = table.get("resources", {})
    if not isinstance(res_table, dict):
        raise _fail(path, "[sweep.resources]", "must be a table of stage -> {num_cpus, memory_mb}")
    for stage, ask in res_table.items():
        where = f"[sweep.resources.{stage}]"
        if stage not in STAGES:
            raise _fail(path, where, f"unknown stage {stage!r} (known: {list(STAGES)})")
        if not isinstance(ask, dict):
            raise _fail(path, where, "must be a table with num_cpus and/or memory_mb")
        for key in ask:
            if key not in ("num_cpus", "memory_mb"):
                raise _fail(path, where, f"unknown key {key!r} (known: num_cpus, memory_mb)")
        cpus, memory = ask.get("num_cpus", 1.0), ask.get("memory_mb", 0)
        if isinstance(cpus, bool) or not isinstance(cpus, int | float) or cpus < 0:
            raise _fail(path, where, f"num_cpus must be a number >= 0, got {cpus!r}")
        if isinstance(memory, bool) or not isinstance(memory, int) or memory < 0:
            raise _fail(path, where, f"memory_mb must be an integer >= 0, got {memory!r}")
        resources[stage] = StageResources(float(cpus), memory)
    return name, tuple(order), retries, resources


def _check_point(path: Path, where: str, settings: dict[str, Any], stages: tuple[str, ...]) -> None:
    if "synth" in stages and settings["target"] is None:
        raise _fail(path, where, "target: the stages include 'synth' but no target is set")
    base = path.resolve().parent
    for key in ("data", "model"):
        value = settings[key]
        is_path = value is not None and (key == "data" or value.endswith(".toml"))
        if is_path and not (base / value).exists():
            raise _fail(path, where, f"{key}: file {base / value} does not exist")
    if settings["dataset"].endswith(".npz") and not (base / settings["dataset"]).exists():
        raise _fail(path, where, f"dataset: file {base / settings['dataset']} does not exist")


def parse_config(raw: dict[str, Any], path: str | os.PathLike[str]) -> SweepConfig:
    """A :class:`SweepConfig` from the TOML tables ``raw`` read from ``path``."""
    path = Path(path)
    for key in raw:
        if key not in ("sweep", "defaults", "grid", "points"):
            raise _fail(
                path, "top level", f"unknown table {key!r} (known: sweep, defaults, grid, points)"
            )
    name, stages, retries, resources = _parse_sweep_table(path, _table(path, raw, "sweep"))
    defaults = {key: default for key, (_, default) in SETTINGS.items()}
    for key, value in _table(path, raw, "defaults").items():
        defaults[key] = _check_value(path, "[defaults]", key, value)
    grid = _table(path, raw, "grid")
    axes: list[tuple[str, list[Any]]] = []
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise _fail(path, "[grid]", f"{key} must be a non-empty list of values, got {values!r}")
        axes.append((key, [_check_value(path, f"[grid] {key}", key, v) for v in values]))
    listed = raw.get("points", [])
    if not isinstance(listed, list) or not all(isinstance(p, dict) for p in listed):
        raise _fail(path, "[[points]]", "must be an array of tables ([[points]] blocks)")
    points: list[dict[str, Any]] = []
    origins: list[str] = []
    if axes or not listed:
        for combo in itertools.product(*(values for _, values in axes)):
            chosen = dict(zip((key for key, _ in axes), combo))
            points.append({**defaults, **chosen})
            origins.append(f"grid point {chosen}" if chosen else "[defaults]")
    for n, entry in enumerate(listed):
        where = f"points[{n}]"
        points.append(
            {**defaults, **{k: _check_value(path, where, k, v) for k, v in entry.items()}}
        )
        origins.append(where)
    for settings, origin in zip(points, origins):
        _check_point(path, origin, settings, stages)
    return SweepConfig(path, name, stages, retries, resources, points, origins)


def load_config(path: str | os.PathLike[str]) -> SweepConfig:
    """Read and check the sweep config in ``path`` (``FileNotFoundError`` if it is missing)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep config {path} does not exist")
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise SweepConfigError(f"{path}: not valid TOML: {err}") from None
    return parse_config(raw, path)
