"""The serialising wrapper: place and route a network whose ports exceed the package's pins.

:class:`SerialWrapper` loads the network's input word ``serial_bits`` bits per cycle from pins
into a shift register, hands ``i_valid`` to the network unchanged, loads the network's output
word when it is valid and shifts it out to pins, LSB first. The network's inputs thus depend on
pins and all its outputs reach pins: synthesis can remove none of its logic. (The shift enable
keeps the network's input registers from being merged into the shift register, as they would
be if it shifted every cycle.) :func:`serial_wrapper_verilog` converts it, around the Verilog
module of ``hgq gen``, for :func:`hgq_hw.synth.synthesize`.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import ClockSignal, Const, Instance, Module, ResetSignal, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["SerialWrapper", "serial_wrapper_verilog"]


def _check_arguments(in_width: int, out_width: int, serial_bits: int, network: Any) -> None:
    for name, value, low in (
        ("in_width", in_width, 0),
        ("out_width", out_width, 0),
        ("serial_bits", serial_bits, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    if isinstance(network, str):
        if not network.isidentifier():
            raise ValueError(f"network {network!r} is not a Verilog module name")
    elif not (hasattr(network, "i_stream") and hasattr(network, "o_stream")):
        raise TypeError(
            f"network must be a Verilog module name or a component with i_stream / o_stream, "
            f"got {type(network).__name__}"
        )


class SerialWrapper(wiring.Component):
    """Shift registers around a network with ``in_width`` input and ``out_width`` output bits.

    Parameters
    ----------
    in_width, out_width:
        Payload widths of the network's ``i_stream`` / ``o_stream`` (0: no payload).
    serial_bits:
        Bits moved per cycle (>= 1); a word narrower than that moves in one cycle.
    network:
        The network: the name of a Verilog module with the ports of ``hgq gen`` (``clk``,
        ``rst``, ``i_stream__payload``, ``i_stream__valid``, ``o_stream__payload``,
        ``o_stream__valid``; instantiated, for synthesis), or an Amaranth component with
        ``i_stream`` / ``o_stream`` streams of these widths (a submodule, e.g. for simulation).

    Members
    -------
    si: ``In(k_in)``, ``k_in = min(serial_bits, max(in_width, 1))``
        Input bits; in a cycle with ``i_shift`` the input register becomes
        ``(in_sr << k_in) | si`` (the first bits shifted in end up most significant).
    i_shift, i_valid: ``In(1)``
        Shift enable; the network's input valid.
    so: ``Out(k_out)``, ``o_valid``: ``Out(1)``
        The output register's low ``k_out`` bits; the network's output valid. The output
        register loads the network's payload in a cycle with ``o_valid``, else shifts right by
        ``k_out``. Both registers start at 0 and are not reset (as the wrapper's Verilog was).
    """

    def __new__(
        cls, in_width: int, out_width: int, serial_bits: int = 1, *, network: Any
    ) -> SerialWrapper:
        # Checked before the object exists: a refused wrapper leaves no unused-design warning.
        _check_arguments(in_width, out_width, serial_bits, network)
        return super().__new__(cls, in_width, out_width, serial_bits, network=network)

    def __init__(self, in_width: int, out_width: int, serial_bits: int = 1, *, network: Any):
        self.in_width, self.out_width, self.serial_bits = in_width, out_width, serial_bits
        self.k_in = min(serial_bits, max(in_width, 1))
        self.k_out = min(serial_bits, max(out_width, 1))
        self.network = network
        super().__init__(
            {
                "si": In(self.k_in),
                "i_shift": In(1),
                "i_valid": In(1),
                "so": Out(self.k_out),
                "o_valid": Out(1),
            }
        )

    def elaborate(self, platform: Any) -> Module:
        m = Module()
        in_sr = Signal(max(self.in_width, 1), reset_less=True)
        out_sr = Signal(max(self.out_width, 1), reset_less=True)
        out_payload = Signal(max(self.out_width, 1))
        if self.in_width:
            with m.If(self.i_shift):
                if self.in_width > self.k_in:
                    shifted = (in_sr << self.k_in) | self.si
                    m.d.sync += in_sr.eq(shifted[: self.in_width])
                else:
                    m.d.sync += in_sr.eq(self.si)
        if isinstance(self.network, str):
            ports: dict[str, Any] = {
                "i_clk": ClockSignal(),
                "i_rst": ResetSignal(),
                "i_i_stream__valid": self.i_valid,
                "o_o_stream__valid": self.o_valid,
            }
            if self.in_width:
                ports["i_i_stream__payload"] = in_sr
            if self.out_width:
                ports["o_o_stream__payload"] = out_payload
            m.submodules.dut = Instance(self.network, **ports)
        else:
            m.submodules.dut = net = self.network
            m.d.comb += [net.i_stream.valid.eq(self.i_valid), self.o_valid.eq(net.o_stream.valid)]
            if self.in_width:
                m.d.comb += net.i_stream.payload.eq(in_sr)
            if self.out_width:
                m.d.comb += out_payload.eq(net.o_stream.payload)
        if self.out_width:
            with m.If(self.o_valid):
                m.d.sync += out_sr.eq(out_payload)
            with m.Else():
                m.d.sync += out_sr.eq(out_sr >> self.k_out)
            m.d.comb += self.so.eq(out_sr[: self.k_out])
        else:
            m.d.comb += self.so.eq(Const(0, self.k_out))
        return m


def serial_wrapper_verilog(
    network: str, in_width: int, out_width: int, serial_bits: int = 1, name: str | None = None
) -> str:
    """Verilog of :class:`SerialWrapper` around the Verilog module ``network``, as module
    ``name`` (default ``<network>_wrap``) with ports ``clk``, ``rst``, ``si``, ``i_shift``,
    ``i_valid``, ``so``, ``o_valid``. The same arguments give the same text."""
    from amaranth.back import verilog

    wrapper = SerialWrapper(in_width, out_width, serial_bits, network=network)
    name = f"{network}_wrap" if name is None else name
    return verilog.convert(wrapper, name=name, emit_src=False)
