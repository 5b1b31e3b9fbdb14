"""Tiny hand-made designs that exercise the testbench itself (not the generator)."""

from __future__ import annotations

from pathlib import Path

from amaranth.back import verilog
from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hgq_hw.fixed import TensorType
from hgq_hw.layout import BusLayout
from hgq_hw.spec import InputSpec, ModelSpec, OutputSpec
from sim.runner import DesignFiles


class DelayLine(wiring.Component):
    """``latency`` registers from input to output; ``flip`` XORs a mask into the payload."""

    def __init__(self, width: int, latency: int, flip: int = 0) -> None:
        super().__init__(
            {
                "i_stream": In(stream.Signature(width, always_ready=True)),
                "o_stream": Out(stream.Signature(width, always_ready=True)),
            }
        )
        self.latency = latency
        self.flip = flip

    def elaborate(self, platform) -> Module:
        m = Module()
        payload, valid = self.i_stream.payload ^ self.flip, self.i_stream.valid
        for n in range(self.latency):
            p, v = Signal(len(self.i_stream.payload), name=f"p{n}"), Signal(name=f"v{n}")
            m.d.sync += [p.eq(payload), v.eq(valid)]
            payload, valid = p, v
        m.d.comb += [self.o_stream.payload.eq(payload), self.o_stream.valid.eq(valid)]
        return m


def identity_spec() -> ModelSpec:
    """Input -> Output: the reference is the identity, so a delay line implements it."""
    return ModelSpec(
        "ident",
        [
            InputSpec(name="x", k=[1, 0, 1, 1], i=[3, 2, -1, 20], f=[2, 1, 3, 5]),
            OutputSpec(name="y", inputs=("x",)),
        ],
    )


def delay_design(out_dir: Path, latency: int, flip: int = 0) -> DesignFiles:
    spec = identity_spec()
    width = BusLayout.of(TensorType(spec.input.k, spec.input.i, spec.input.f)).width
    dut = DelayLine(width, latency, flip)
    ports = [dut.i_stream.payload, dut.i_stream.valid, dut.o_stream.payload, dut.o_stream.valid]
    name = f"delay{latency}_{flip:x}"
    path = out_dir / f"{name}.v"
    path.write_text(verilog.convert(dut, name=name, emit_src=False, ports=ports))
    return DesignFiles(path, name, latency)
