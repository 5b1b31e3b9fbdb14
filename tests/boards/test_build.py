"""Board targets, the fit check, report parsing and (marked ``toolchain``) full bitstream builds."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import boards.build
from boards.build import (
    DoesNotFit,
    build_board,
    parse_fmax,
    parse_utilisation,
    parse_yosys_cells,
    read_build_report,
)
from boards.registry import BOARDS, get_board
from tests.boards.conftest import require_tools, tiny_spec, too_big_spec

NEXTPNR_LOG = """\
Info: Device utilisation:
Info: 	          TRELLIS_IO:       7/    365     1%
Info: 	              DP16KD:       2/    208     0%
Info: 	          TRELLIS_FF:     184/  83640     0%
Info: 	        TRELLIS_COMB:     382/  83640     0%

Info: Max frequency for clock '$glbnet$cd_sync.clk': 100.12 MHz (PASS at 25.00 MHz)
Info: Max frequency for clock '$glbnet$cd_sync.clk': 21.50 MHz (FAIL at 25.00 MHz)
"""

YOSYS_STAT = """\
=== design hierarchy ===

        +----------Count including submodules.
        |
       23 cells
        1   SB_GB_IO
       82   SB_CARRY
       17   SB_DFF
      140   SB_DFFESR
      325   SB_LUT4
        2   SB_RAM40_4K
"""


def test_board_targets_are_data() -> None:
    assert sorted(BOARDS) == ["icebreaker", "ulx3s-85f"]
    ice = get_board("icebreaker")
    assert (ice.device, ice.clock_hz, ice.bitstream_suffix) == ("iCE40UP5K", 12e6, ".bin")
    assert "--timing-allow-fail" in ice.nextpnr_opts
    ecp5 = get_board("ulx3s-85f")
    assert (ecp5.device, ecp5.clock_hz, ecp5.bitstream_suffix, ecp5.loader_board) == (
        "LFE5U-85F",
        25e6,
        ".bit",
        "ulx3s",
    )
    for target in BOARDS.values():
        platform = target.platform()
        assert platform.default_clk_frequency == target.clock_hz
        for resource in (target.uart, target.led_green, target.led_red):
            assert platform.lookup(*resource) is not None
    with pytest.raises(ValueError, match="known: icebreaker, ulx3s-85f"):
        get_board("arty")


def test_parse_nextpnr_and_yosys_reports() -> None:
    util = parse_utilisation(NEXTPNR_LOG)
    assert util["TRELLIS_COMB"] == {"used": 382, "available": 83640, "percent": 0}
    assert util["DP16KD"]["used"] == 2
    assert parse_fmax(NEXTPNR_LOG) == {
        "clock": "$glbnet$cd_sync.clk",
        "fmax_mhz": 21.5,
        "target_mhz": 25.0,
        "timing_met": False,
    }
    assert parse_fmax("nothing") is None and parse_utilisation("") == {}
    cells = parse_yosys_cells(YOSYS_STAT)
    assert cells["SB_LUT4"] == 325 and cells["SB_RAM40_4K"] == 2
    assert "cells" not in cells


def test_too_big_for_the_ice40_fails_before_any_tool_runs(tmp_path: Path, monkeypatch) -> None:
    def no_tools(*args, **kwargs):
        raise AssertionError("a tool ran although the design cannot fit")

    monkeypatch.setattr(boards.build, "_run_stage", no_tools)
    with pytest.raises(DoesNotFit) as info:
        build_board(too_big_spec(), get_board("icebreaker"), "uart", tmp_path / "out")
    message = str(info.value)
    assert "does not fit the iCEBreaker" in message
    assert "capacity 5280 LUTs" in message
    assert "larger beta" in message and "--board ulx3s-85f" in message and "--force" in message
    assert not (tmp_path / "out" / "build").exists()


def test_a_small_spec_fits_both_boards() -> None:
    from hgq_hw.plan import plan_network

    plan = plan_network(tiny_spec())
    for target in BOARDS.values():
        for top in ("uart", "selftest"):
            estimate = boards.build.estimate_resources(plan, top, target.family, 40)
            boards.build.check_fit(estimate, target)
            assert 100 < estimate.luts < 2000


@pytest.mark.toolchain
@pytest.mark.parametrize(
    ("board", "top"),
    [
        ("icebreaker", "uart"),
        ("icebreaker", "selftest"),
        ("ulx3s-85f", "uart"),
        ("ulx3s-85f", "selftest"),
    ],
)
def test_full_bitstream_build(board: str, top: str, tmp_path: Path) -> None:
    target = get_board(board)
    require_tools(
        "yosys", f"nextpnr-{target.family}", "icepack" if target.family == "ice40" else "ecppack"
    )
    lines: list[str] = []
    start = time.perf_counter()
    report = build_board(tiny_spec(), target, top, tmp_path, say=lines.append)
    seconds = time.perf_counter() - start
    print(f"{board} {top}: built in {seconds:.1f} s")
    bitstream = tmp_path / report["bitstream"]
    assert bitstream.suffix == target.bitstream_suffix and bitstream.stat().st_size > 1000
    assert read_build_report(tmp_path) == json.loads((tmp_path / "report.json").read_text())
    util = report["utilisation"]
    logic = "ICESTORM_LC" if target.family == "ice40" else "TRELLIS_COMB"
    assert 50 < util[logic]["used"] < util[logic]["available"]
    assert report["timing"]["target_mhz"] == pytest.approx(target.clock_hz / 1e6)
    assert report["timing"]["fmax_mhz"] > 0
    assert report["synthesis"]["luts"] > 0
    assert any("place and route: done" in line for line in lines)


def test_force_goes_on_to_yosys_whose_count_stops_place_and_route(
    tmp_path: Path, monkeypatch
) -> None:
    ran: list[str] = []

    def fake_stage(argv, cwd, stage, log_name, say, t0):
        ran.append(log_name)
        if log_name == "yosys":
            (cwd / "top.rpt").write_text(YOSYS_STAT.replace("325   SB_LUT4", "6100   SB_LUT4"))
            return 1.0
        raise AssertionError(f"{log_name} ran after Yosys counted too many LUTs")

    monkeypatch.setattr(boards.build, "_run_stage", fake_stage)
    monkeypatch.setattr(boards.build, "_resolve", lambda tool: tool)
    lines: list[str] = []
    with pytest.raises(DoesNotFit, match=r"LUTs 6100 > 5280 \(yosys"):
        build_board(
            too_big_spec(), get_board("icebreaker"), "uart", tmp_path, force=True, say=lines.append
        )
    assert ran == ["yosys"]
    assert any("going on (force)" in line for line in lines)
