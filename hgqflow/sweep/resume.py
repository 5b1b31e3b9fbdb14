"""Which stages of a point still have to run: a rerun skips what exists and verifies.

A finished point (``DIR/points/<id>/point.json``) is kept when every stage the sweep asks for
is done and its outputs verify: the spec loads (:func:`hgq_hw.spec.load`, which validates it),
the generator's ``report.json`` exists, the simulation result says 0 mismatches and synthesis
has resource counts. A point folder that does not verify, or an unfinished one
(``.<id>.partial``, left by a kill or a failure), is redone from its first stage that is
missing or does not verify; the stages before it are kept.

numpy and the standard library only (no TensorFlow, no Ray).
"""

from __future__ import annotations

import json
from pathlib import Path

from hgqflow.sweep.stages import marker_path, read_marker

__all__ = ["drop_markers_from", "first_stage_to_run", "read_point_file", "verify_stage"]


def verify_stage(work: Path, stage: str) -> str | None:
    """Why the output of the done ``stage`` in ``work`` is not usable, or None when it is."""
    marker = read_marker(work, stage)
    if marker is None:
        return f"stage {stage} is not done"
    result = marker.get("result") or {}
    if stage == "train" and not (work / "train" / "model.keras").is_file():
        return "train/model.keras is missing"
    if stage == "export":
        from hgq_hw.spec import load

        try:
            load(work / "spec.json")
        except (OSError, ValueError) as err:
            return f"spec.json does not load: {err}"
    if stage == "gen" and not (work / "gen" / "report.json").is_file():
        return "gen/report.json is missing"
    if stage == "sim" and result.get("mismatches") != 0:
        return f"the simulation reported {result.get('mismatches')!r} mismatches, not 0"
    if stage == "synth" and not result.get("resources"):
        return "the synthesis result has no resource counts"
    return None


def first_stage_to_run(work: Path, stages: tuple[str, ...]) -> tuple[int, str | None]:
    """Index into ``stages`` of the first stage to (re)run in ``work`` (``len(stages)``: none)
    and why it has to run (None when nothing has to)."""
    for n, stage in enumerate(stages):
        problem = verify_stage(work, stage)
        if problem is not None:
            return n, problem
    return len(stages), None


def read_point_file(folder: Path) -> dict | None:
    """``point.json`` of a finished point folder, or None."""
    try:
        return json.loads((folder / "point.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def drop_markers_from(work: Path, stages: tuple[str, ...], first: int) -> None:
    """Forget the stages from index ``first`` on (they are redone, in order)."""
    for stage in stages[first:]:
        marker_path(work, stage).unlink(missing_ok=True)
