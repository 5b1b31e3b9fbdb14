"""Board targets, the fit check, report parsing and (marked ``toolchain``) full bitstream builds."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import boards.build
from boards.build import DoesNotFit, build_board, load_build_report, read_build_report
from boards.registry import BOARDS, get_board
from hgq_hw.toolchain import DEVICES, ToolRun
from tests.boards.conftest import require_tools, tiny_spec, too_big_spec

YOSYS_STAT = {
    "design": {
        "num_port_bits": 5,
        "num_cells_by_type": {
            "SB_GB_IO": 1,
            "SB_CARRY": 82,
            "SB_DFF": 17,
            "SB_DFFESR": 140,
            "SB_LUT4": 325,
            "SB_RAM40_4K": 2,
        },
    }
}


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


def test_boards_take_their_device_from_the_table() -> None:
    """The platform's device and package are the table's, and so are the nextpnr flags that
    Amaranth's build script passes (from a real build plan, no tool run)."""
    from amaranth.hdl import Elaboratable, Module
    from amaranth.lib import io

    class Blink(Elaboratable):
        def __init__(self, target):
            self.target = target

        def elaborate(self, platform):
            m = Module()
            led = platform.request(*self.target.led_green, dir="-")
            m.submodules.led = buffer = io.Buffer("o", led)
            m.d.comb += buffer.o.eq(1)
            return m

    for target in BOARDS.values():
        device = DEVICES[target.part]
        platform = target.platform()
        assert (platform.device, platform.package) == (device.device, device.package)
        assert (target.family, target.device) == (device.family, device.device)
        assert (target.capacity.luts, target.capacity.brams) == (device.luts, device.brams)
        plan = platform.build(Blink(target), name="blink", do_build=False)
        commands = json.loads(plan.files["build_blink.json"])["commands"]
        (pnr,) = [argv for argv in commands if argv[0] == device.family_info.nextpnr]
        for flag in device.nextpnr_args:
            assert flag in pnr, (target.name, flag, pnr)
    assert [b.part for b in BOARDS.values()] == ["iCE40UP5K-SG48", "LFE5U-85F-CABGA381"]


def test_too_big_for_the_ice40_fails_before_any_tool_runs(tmp_path: Path, monkeypatch) -> None:
    def no_tools(*args, **kwargs):
        raise AssertionError("a tool ran although the design cannot fit")

    monkeypatch.setattr(boards.build, "run_tool", no_tools)
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
    # the tiny spec: 17 input bits, 2 outputs of 11 bits in all; the network's adder bits and
    # registers come from its plan, the wrappers add (see estimate_resources):
    assert (plan.in_layout.width, plan.out_layout.width, len(plan.out_layout.fields)) == (17, 11, 2)
    network = plan.adder_bits + plan.registers
    wrapper = {  # (LUTs, FFs, BRAMs)
        "uart": (160 + 2 * 17 + 3 * 11 + 24 * 2, 110 + 2 * 17 + 2 * 11, 0),
        # 40 vectors x 17 and x 11 bits are small ROMs: in LUTs, 3 ceil(40 / 16) / 2 per bit
        "selftest": (200 + 2 * 11 + 17 * 3 * 3 // 2 + 11 * 3 * 3 // 2, 100, 0),
    }
    for target in BOARDS.values():
        for top, (luts, ffs, brams) in wrapper.items():
            estimate = boards.build.estimate_resources(plan, top, target.family, 40)
            boards.build.check_fit(estimate, target)
            assert (estimate.luts, estimate.ffs, estimate.brams) == (
                network + luts,
                plan.registers + ffs,
                brams,
            ), (target.name, top)


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
    bitstream = tmp_path / report.bitstream
    assert bitstream.suffix == target.bitstream_suffix and bitstream.stat().st_size > 1000
    assert read_build_report(tmp_path) == json.loads((tmp_path / "report.json").read_text())
    assert load_build_report(tmp_path) == report
    util = report.utilisation
    logic = "ICESTORM_LC" if target.family == "ice40" else "TRELLIS_COMB"
    assert 50 < util[logic].used < util[logic].available
    assert util[logic].percent == util[logic].used * 100 // util[logic].available
    assert report.timing is not None and report.timing.fmax_mhz > 0
    assert report.timing.target_mhz == pytest.approx(target.clock_hz / 1e6)
    assert report.synthesis is not None and report.synthesis.luts > 0
    assert report.part == target.part and report.device == target.device
    assert any("place and route: done" in line for line in lines)


@pytest.mark.toolchain
def test_full_bitstream_build_of_a_stream_design(tmp_path: Path) -> None:
    """The selftest top around a tiny stream network (its Verilog added to the platform as a
    black box's source): the bitstream, a report that says stream and the ROM in block RAM."""
    from tests.boards.conftest import stream_tiny_spec

    target = get_board("icebreaker")
    require_tools("yosys", "nextpnr-ice40", "icepack")
    lines: list[str] = []
    start = time.perf_counter()
    report = build_board(
        stream_tiny_spec(), target, "selftest", tmp_path, io="stream", say=lines.append
    )
    print(f"icebreaker selftest (stream): built in {time.perf_counter() - start:.1f} s")
    print("\n".join(lines))
    assert (tmp_path / report.bitstream).stat().st_size > 1000
    assert (report.io, report.ii, report.in_width, report.out_width) == ("stream", 16, 3, 14)
    assert load_build_report(tmp_path) == report
    assert "hgq_stream_net" in (tmp_path / "build" / "hgq_stream_net.v").read_text()
    util = report.utilisation
    assert 100 < util["ICESTORM_LC"].used < util["ICESTORM_LC"].available
    assert util["ICESTORM_RAM"].used >= 1  # 40 images x 16 pixels x 3 bits
    assert report.timing is not None and report.timing.timing_met
    assert any("stream mode (--io stream)" in line for line in lines)


def test_force_goes_on_to_yosys_whose_count_stops_place_and_route(
    tmp_path: Path, monkeypatch
) -> None:
    ran: list[str] = []

    def fake_run_tool(name, args, cwd, log_name, **options):
        ran.append(name)
        if name == "yosys":
            stat = json.loads(json.dumps(YOSYS_STAT))
            stat["design"]["num_cells_by_type"]["SB_LUT4"] = 6100
            (cwd / "top_stat.json").write_text(json.dumps(stat))
            return ToolRun(name, (name, *args), 0, cwd / log_name, 1.0, None)
        raise AssertionError(f"{name} ran after Yosys counted too many LUTs")

    monkeypatch.setattr(boards.build, "run_tool", fake_run_tool)
    lines: list[str] = []
    with pytest.raises(DoesNotFit, match=r"LUTs 6100 > 5280 \(yosys"):
        build_board(
            too_big_spec(), get_board("icebreaker"), "uart", tmp_path, force=True, say=lines.append
        )
    assert ran == ["yosys"]
    assert any("going on (force)" in line for line in lines)
