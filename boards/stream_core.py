"""``StreamCore``: a stream-mode network (:mod:`hgq_hw.stream`) for the board tops.

The network is the Verilog of :func:`hgq_hw.stream.netlist.write_stream_network` (one pixel per
cycle in, one output word per image out), instantiated as a black box (Amaranth ``Instance``);
:attr:`StreamCore.verilog_files` holds its text, which a build adds to the platform
(``platform.add_file``) and a simulation appends to the top's Verilog.

The stream network's output carries the hardware's types (a ``"same"`` Conv's border outputs are
wider than the reference's, :mod:`hgq_hw.stream`); the values are the reference's. The core
converts every element to the reference's output type (raw shifted by the difference in ``f``,
then the reference's width kept: exact, since the value is the reference's), so ``o_stream``
carries the reference's output bus word, as the parallel :class:`hgq_hw.components.Network`
does, and the tops answer in the same frames either way.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, ClockSignal, Const, Instance, Module, ResetSignal, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hgq_hw.fixed import TensorType
from hgq_hw.layout import BusLayout
from hgq_hw.spec import ModelSpec

__all__ = ["STREAM_MODULE", "StreamCore", "to_reference_raw"]

STREAM_MODULE = "hgq_stream_net"
"""The Verilog module name of the instantiated stream network (its stages: ``<name>_s0`` ...)."""


def to_reference_raw(raw: int, f_hw: int, f_ref: int, ref_width: int) -> int:
    """The raw value at ``f_ref`` of the value ``raw * 2**-f_hw``, as ``ref_width`` bits of two's
    complement (the wiring :class:`StreamCore` does per element; exact when the value is
    representable at ``f_ref`` in ``ref_width`` bits, as the reference's outputs are)."""
    shifted = raw << (f_ref - f_hw) if f_ref >= f_hw else raw >> (f_hw - f_ref)
    return shifted & ((1 << ref_width) - 1)


class StreamCore(wiring.Component):
    """The stream network of ``spec``, pixel stream in, reference-typed output word out.

    Parameters
    ----------
    spec:
        The model (stream mode must take it: :func:`hgq_hw.stream.plan_stream_network`).
    pipeline_levels:
        Passed to :func:`hgq_hw.stream.plan_stream_network`.
    plan:
        The spec's :class:`~hgq_hw.stream.StreamNetworkPlan` with those options, when made.

    Members
    -------
    i_stream: ``In(stream.Signature(W_pixel, always_ready=True))``, one pixel (all channels,
        packed by :attr:`in_layout`) per cycle with ``valid``, pixels in C order.
    o_stream: ``Out(stream.Signature(W_out, always_ready=True))``, one output word per image
        packed by :attr:`out_layout` (the reference's output type).
    clear: ``In(1)``, synchronous reset of the network (besides the domain's reset): the next
        pixel is pixel 0 of an image.
    plan, latency, ii, n_pixels, in_layout (one pixel), out_type / out_layout (reference's),
    verilog_files (``{file name: Verilog text}`` of the instantiated network).
    """

    def __init__(self, spec: ModelSpec, *, pipeline_levels: int = 0, plan: Any = None) -> None:
        from hgq_hw.reference import infer_types
        from hgq_hw.stream import plan_stream_network
        from hgq_hw.stream.netlist import write_stream_network

        self.plan = plan if plan is not None else plan_stream_network(
            spec, pipeline_levels=pipeline_levels
        )  # fmt: skip
        self.out_type: TensorType = infer_types(spec)[spec.output.name]
        self.in_layout = self.plan.pixel_layout
        self.out_layout = BusLayout.of(self.out_type)
        self.hw_layout = self.plan.out_layout
        self.verilog_files = {f"{STREAM_MODULE}.v": write_stream_network(self.plan, STREAM_MODULE)}
        super().__init__(
            {
                "i_stream": In(stream.Signature(self.in_layout.width, always_ready=True)),
                "o_stream": Out(stream.Signature(self.out_layout.width, always_ready=True)),
                "clear": In(1),
            }
        )

    @property
    def latency(self) -> int:
        return self.plan.latency

    @property
    def ii(self) -> int:
        return self.plan.ii

    @property
    def n_pixels(self) -> int:
        return self.plan.n_pixels

    def elaborate(self, platform: object) -> Module:
        m = Module()
        hw_word = Signal(max(self.hw_layout.width, 1))
        hw_valid = Signal()
        ports: dict[str, Any] = {
            "i_clk": ClockSignal("sync"),
            "i_rst": ResetSignal("sync", allow_reset_less=True) | self.clear,
            "i_i_stream__valid": self.i_stream.valid,
            "o_o_stream__valid": hw_valid,
        }
        if self.in_layout.width:
            ports["i_i_stream__payload"] = self.i_stream.payload
        if self.hw_layout.width:
            ports["o_o_stream__payload"] = hw_word
        m.submodules.network = Instance(STREAM_MODULE, **ports)
        m.d.comb += self.o_stream.valid.eq(hw_valid)
        f_hw = [int(v) for v in self.plan.out_type.f.ravel()]
        f_ref = [int(v) for v in self.out_type.f.ravel()]
        parts = []
        for hw, ref, fh, fr in zip(self.hw_layout.fields, self.out_layout.fields, f_hw, f_ref):
            if ref.width == 0:
                continue
            if hw.width == 0:
                parts.append(Const(0, ref.width))  # a width-0 hardware element: the constant 0
                continue
            raw = hw_word[hw.offset : hw.offset + hw.width]
            raw = raw.as_signed() if hw.signed else raw.as_unsigned()
            value = raw << (fr - fh) if fr >= fh else raw >> (fh - fr)
            element = Signal(ref.width, name=f"out{len(parts)}")
            m.d.comb += element.eq(value)  # truncates to the reference's width
            parts.append(element)
        if parts:
            m.d.comb += self.o_stream.payload.eq(Cat(*parts))
        return m
