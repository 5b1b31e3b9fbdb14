"""Points of a sweep: the settings of one trained-and-built model, and its stable id.

A point's id is readable and stable: ``<dataset>-b<beta>-s<seed>-<hash>``, where the hash is
the first 10 hex digits of the SHA-256 of its settings as canonical JSON (sorted keys; a
setting of :data:`ADDED_LATER` at its default is left out). The same
settings give the same id in every run and on every machine, so a rerun finds the folder
``DIR/points/<id>/`` of a point it already finished; any change of a setting gives a new id.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hgqflow.sweep.config import SweepConfig, SweepConfigError

__all__ = ["Point", "expand_points", "point_id"]


ADDED_LATER: dict[str, Any] = {"lr_schedule": "constant"}
"""Settings added after point ids were frozen, with their defaults: at that default they are
left out of the id, so the points of older configs keep their ids (and folders)."""


def point_id(settings: dict[str, Any]) -> str:
    """The id of the point with these settings (see the module docstring)."""
    hashed = {k: v for k, v in settings.items() if ADDED_LATER.get(k, object()) != v}
    canonical = json.dumps(hashed, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:10]
    dataset = Path(str(settings.get("dataset", "data"))).stem
    slug = f"{dataset}-b{settings.get('beta', '')}-s{settings.get('seed', '')}"
    slug = re.sub(r"[^A-Za-z0-9.+_-]+", "_", slug)[:60]
    return f"{slug}-{digest}"


@dataclass(frozen=True)
class Point:
    """One point: ``settings`` as written in the config (the id's source) and ``base_dir``,
    the folder that relative ``dataset`` / ``data`` / ``model`` paths are relative to."""

    settings: dict[str, Any]
    base_dir: Path
    origin: str = ""

    @property
    def id(self) -> str:
        return point_id(self.settings)

    def path_setting(self, key: str) -> str | None:
        """Setting ``key`` with a relative file path made absolute (``data``, a ``.toml``
        ``model``, an ``.npz`` ``dataset``); other values unchanged."""
        value = self.settings[key]
        if value is None:
            return None
        is_path = key == "data" or str(value).endswith((".toml", ".npz", ".csv"))
        return str(self.base_dir / value) if is_path else value


def expand_points(config: SweepConfig) -> list[Point]:
    """The config's points in config order; :class:`SweepConfigError` naming both places
    when two of them have the same settings (and so the same id)."""
    points: list[Point] = []
    seen: dict[str, str] = {}
    for settings, origin in zip(config.point_settings, config.origins):
        point = Point(dict(settings), config.base_dir, origin)
        if point.id in seen:
            raise SweepConfigError(
                f"{config.path}: {origin}: the same settings as {seen[point.id]} "
                f"(point {point.id}); remove one"
            )
        seen[point.id] = origin
        points.append(point)
    return points
