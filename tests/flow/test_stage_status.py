"""The flow's stage statuses: "ok" says when synthesis missed its clock, "failed" when a stage
raises (no training, no tools: given results)."""

from __future__ import annotations

import pytest

from hgq_hw.synth import timing_note
from hgqflow.flow.pipeline import _Stages


def test_a_missed_clock_or_a_failed_place_and_route_is_said_in_the_status() -> None:
    met = {"target": "ecp5", "fmax_mhz": 120.4, "clock_mhz": 100.0, "timing_met": True}
    missed = {**met, "fmax_mhz": 85.62, "timing_met": False}
    no_pnr = {
        "target": "ecp5",
        "fmax_mhz": None,
        "timing_met": None,
        "pnr_error": "exit 2 (see pnr.log)",
    }
    assert timing_note(met) is None
    assert timing_note(missed) == "timing missed (Fmax 85.6 MHz < 100 MHz)"
    assert timing_note(no_pnr) == "no timing result (place and route failed: exit 2 (see pnr.log))"
    assert timing_note({"target": "ecp5", "resources": {}}) is None  # no timing asked

    stages = _Stages(["gen", "synth", "board"])
    assert stages.run("gen", lambda: {"adders": 3}) == {"adders": 3}
    assert stages.run("synth", lambda: missed, timing_note) == missed
    with pytest.raises(RuntimeError, match="no board"):
        stages.run("board", lambda: (_ for _ in ()).throw(RuntimeError("no board")))
    assert [(s["stage"], s["status"]) for s in stages.table()] == [
        ("gen", "ok"),
        ("synth", "ok, timing missed (Fmax 85.6 MHz < 100 MHz)"),
        ("board", "failed"),
    ]
