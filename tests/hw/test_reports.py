"""Typed reports: today's generator report.json round-trips exactly; bad files are refused with
the file and the field named."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from hgq_hw.random_spec import random_spec
from hgq_hw.reports import (
    BoardBuildReport,
    GenReport,
    ReportError,
    SynthEntry,
)

DATA = Path(__file__).parent / "toolchain_data"

# An entry as `hgq synth --target ice40 --pins 20 --serial-bits 2` writes it (captured).
SYNTH_ENTRY = {
    "resources": {"luts": 85, "ffs": 130, "carry": 64},
    "cells": {"SB_CARRY": 64, "SB_DFF": 114, "SB_DFFSR": 16, "SB_LUT4": 85},
    "logs": ["tiny_ice40_yosys.log", "tiny_ice40_wrapped_yosys.log", "tiny_ice40_nextpnr.log"],
    "clock_mhz": 50,
    "fmax_mhz": 247.59,
    "timing_met": True,
    "nextpnr_exit": 0,
    "pnr": {
        "wrapped": True,
        "port_bits": 31,
        "pins": 20,
        "serial_bits": 2,
        "wrapper": "tiny_wrap.v",
        "resources": {"luts": 98, "ffs": 157, "carry": 64},
        "cells": {"SB_CARRY": 64, "SB_DFF": 126, "SB_DFFE": 12, "SB_DFFSR": 19, "SB_LUT4": 98},
        "utilisation": {"ICESTORM_LC": {"used": 203, "available": 7680}},
    },
    "device": "iCE40HX8K-CT256",
}

BOARD_REPORT = {
    "format": "hgqflow-board-build",
    "version": 1,
    "board": "icebreaker",
    "device": "iCE40UP5K",
    "top": "uart",
    "spec": "tiny",
    "name": "top",
    "bitstream": "top.bin",
    "clock_mhz": 12.0,
    "baud": 115200,
    "uart_divisor": 104,
    "latency": 6,
    "in_width": 17,
    "out_width": 13,
    "vectors": None,
    "seed": 0,
    "pipeline_levels": 4,
    "estimate": {"luts": 600, "ffs": 400, "brams": 0, "source": "estimate"},
    "synthesis": {"luts": 420, "ffs": 310, "brams": 0, "source": "yosys"},
    "utilisation": {"ICESTORM_LC": {"used": 500, "available": 5280, "percent": 9}},
    "timing": {"clock": "clk", "fmax_mhz": 40.5, "target_mhz": 12.0, "timing_met": True},
    "stage_seconds": {"synthesis": 10.5, "place and route": 4.25, "bitstream": 1.0},
    "seconds": 20.0,
    "part": "iCE40UP5K-SG48",
}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_generated_report_round_trips_exactly(tmp_path: Path, seed: int) -> None:
    from hgq_hw.emit import generate

    spec = random_spec(seed, depth=2, width=(1, 6), zero_width=0.2)
    print(f"seed {seed}")
    design = generate(spec, tmp_path, name="net", pipeline_levels=seed % 2)
    text = (tmp_path / "report.json").read_text()
    report = GenReport.load(tmp_path / "report.json")
    assert report.dumps() == text
    assert report.to_dict() == design.report
    assert GenReport.from_dict(design.report).to_dict() == design.report
    assert report.port_bits == sum(p["width"] for p in design.report["ports"])
    assert report.layers[0].kind == design.report["layers"][0]["kind"]


def test_the_captured_report_and_a_synth_entry_round_trip(tmp_path: Path) -> None:
    text = (DATA / "tiny_gen_report.json").read_text()
    report = GenReport.loads(text)
    assert report.dumps() == text and report.synth is None
    entry = SynthEntry.from_dict(SYNTH_ENTRY)
    assert entry.pnr is not None and entry.pnr.resources is not None
    assert entry.pnr.resources.ffs == 157 and entry.to_dict() == SYNTH_ENTRY
    with_synth = report.with_synth("ice40", entry)
    with_synth.write(tmp_path)
    again = GenReport.read(tmp_path)
    assert again == with_synth
    assert json.loads((tmp_path / "report.json").read_text())["synth"]["ice40"] == SYNTH_ENTRY
    # an entry written before the device table (no "device") still loads
    old = {k: v for k, v in SYNTH_ENTRY.items() if k != "device"}
    assert (
        SynthEntry.from_dict(old).device is None
        and "device" not in SynthEntry.from_dict(old).to_dict()
    )


def test_board_report_round_trips() -> None:
    report = BoardBuildReport.from_dict(BOARD_REPORT)
    assert report.to_dict() == BOARD_REPORT
    assert report.timing is not None and report.timing.timing_met is True
    assert report.utilisation["ICESTORM_LC"].percent == 9


def _refused(tmp_path: Path, data: dict, cls=GenReport) -> ReportError:
    path = tmp_path / "report.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ReportError) as info:
        cls.load(path)
    assert str(path) in str(info.value)
    return info.value


def test_refusals_name_the_file_and_the_field(tmp_path: Path) -> None:
    good = json.loads((DATA / "tiny_gen_report.json").read_text())

    bad = copy.deepcopy(good)
    bad["lut_guess"] = 3
    err = _refused(tmp_path, bad)
    assert "unknown field(s) ['lut_guess']" in str(err)

    bad = copy.deepcopy(good)
    bad["layers"][1]["colour"] = "red"
    assert _refused(tmp_path, bad).field == "layers[1]"

    bad = copy.deepcopy(good)
    del bad["layers"][0]["adders"]
    err = _refused(tmp_path, bad)
    assert err.field == "layers[0].adders" and "missing required field" in str(err)

    bad = copy.deepcopy(good)
    bad["latency"] = "6"
    err = _refused(tmp_path, bad)
    assert err.field == "latency" and "expected an integer, got '6'" in str(err)

    bad = copy.deepcopy(good)
    bad["ports"][2]["width"] = True
    assert _refused(tmp_path, bad).field == "ports[2].width"

    bad = copy.deepcopy(good)
    bad["input"]["layout"][0]["signed"] = 1
    assert _refused(tmp_path, bad).field == "input.layout[0].signed"

    bad = copy.deepcopy(good)
    bad["options"]["depth_slack"] = 1.5
    assert _refused(tmp_path, bad).field == "options.depth_slack"

    bad = copy.deepcopy(good)
    bad["synth"] = {"ice40": {**SYNTH_ENTRY, "resources": {"luts": 1, "ffs": 2}}}
    assert _refused(tmp_path, bad).field == "synth.ice40.resources.carry"

    bad = copy.deepcopy(good)
    bad["format"] = "hgqflow-spec"
    assert "expected format 'hgqflow-hw-report'" in str(_refused(tmp_path, bad))

    bad = copy.deepcopy(good)
    bad["version"] = 2
    assert "newer hgqflow" in str(_refused(tmp_path, bad))

    board = copy.deepcopy(BOARD_REPORT)
    board["timing"]["fmax_mhz"] = "fast"
    assert _refused(tmp_path, board, BoardBuildReport).field == "timing.fmax_mhz"


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="not found: run 'hgq gen"):
        GenReport.read(tmp_path)
    (tmp_path / "report.json").write_text("{")
    with pytest.raises(ReportError, match="not valid JSON"):
        GenReport.read(tmp_path)
    assert issubclass(ReportError, ValueError)
