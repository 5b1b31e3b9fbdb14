"""``UARTTop``: the network behind a UART, answering one request frame at a time.

The frames are those of :mod:`boards.protocol`::

    host -> board   0xA5 | input bus word, ceil(in_width/8) bytes LE | XOR of those bytes
    board -> host   0x5A | output bus word, ceil(out_width/8) bytes LE | argmax | XOR of the
                    output bytes and the argmax byte
    board -> host   0xEE  when the request's checksum was wrong (NAK)

The top is platform-independent (plain ports) so cocotb can simulate it;
:class:`boards.board_top.BoardTop` connects it to a board's UART and LEDs.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, Module, Signal

from boards.protocol import (
    FRAME_TIMEOUT_BYTES,
    REQUEST_HEADER,
    n_bytes,
)
from boards.uart_reply import UARTServer, add_reply
from hgq_hw.spec import ModelSpec

__all__ = ["UARTTop"]


class UARTTop(UARTServer):
    """The network of ``spec`` served over a UART (stop-and-wait; see the module docstring).

    Parameters
    ----------
    spec:
        The model (at most 256 output elements, for the argmax byte).
    divisor:
        Clock cycles per UART bit (>= 4; ``clock_hz // baud`` on a board).
    pipeline_levels:
        Passed to :func:`hgq_hw.plan.plan_network`.
    plan:
        The spec's :class:`~hgq_hw.plan.NetworkPlan` with those options, when already made.

    Members
    -------
    rx: ``In(1)``, serial input (idles high).
    tx: ``Out(1)``, serial output.
    led_green: ``Out(1)``, toggles on every answered request.
    led_red: ``Out(1)``, high after a NAK until the next good request.
    plan, network: the plan and its :class:`hgq_hw.components.Network`; ``latency`` its latency.
    """

    def __init__(
        self, spec: ModelSpec, *, divisor: int, pipeline_levels: int = 0, plan: Any = None
    ) -> None:
        from hgq_hw.components import Network
        from hgq_hw.plan import plan_network

        self.plan = (
            plan if plan is not None else plan_network(spec, pipeline_levels=pipeline_levels)
        )
        super().__init__(Network(self.plan), spec_name=spec.name, divisor=divisor, verilog_files={})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        net, rxu, txu, argmax = self.add_common(m)

        in_bytes, out_bytes = n_bytes(self.in_width), n_bytes(self.out_width)

        # -- receive: header, payload bytes, checksum ------------------------------------------
        byte_in = rxu.o_stream.payload
        got = rxu.o_stream.valid
        in_word = Signal(max(in_bytes * 8, 8))
        check = Signal(8)
        count = Signal(range(in_bytes + 1))
        timeout = FRAME_TIMEOUT_BYTES * 10 * self.divisor
        silence = Signal(range(timeout + 1))
        nak_pending = Signal()
        m.d.sync += net.i_stream.valid.eq(0)
        if self.in_width:
            m.d.comb += net.i_stream.payload.eq(in_word[: self.in_width])
        with m.FSM(name="rx_fsm"):
            with m.State("IDLE"), m.If(got & (byte_in == REQUEST_HEADER)):
                m.d.sync += [check.eq(0), count.eq(0), silence.eq(0)]
                m.next = "PAYLOAD" if in_bytes else "CHECK"
            with m.State("PAYLOAD"):
                m.d.sync += silence.eq(silence + 1)
                with m.If(got):
                    m.d.sync += [
                        # Little-endian: the first byte ends up least significant.
                        in_word.eq(Cat(in_word[8:], byte_in)),
                        check.eq(check ^ byte_in),
                        count.eq(count + 1),
                        silence.eq(0),
                    ]
                    with m.If(count == in_bytes - 1):
                        m.next = "CHECK"
                with m.Elif(silence == timeout):
                    m.next = "IDLE"
            with m.State("CHECK"):
                m.d.sync += silence.eq(silence + 1)
                with m.If(got):
                    with m.If(byte_in == check):
                        m.d.sync += [net.i_stream.valid.eq(1), self.led_red.eq(0)]
                    with m.Else():
                        m.d.sync += [nak_pending.eq(1), self.led_red.eq(1)]
                    m.next = "IDLE"
                with m.Elif(silence == timeout):
                    m.next = "IDLE"

        # -- network output -> argmax -> response ----------------------------------------------
        out_word = Signal(max(out_bytes * 8, 8))
        m.d.comb += argmax.word.eq(out_word)
        m.d.sync += argmax.start.eq(0)
        with m.If(net.o_stream.valid):
            if self.out_width:
                m.d.sync += out_word.eq(net.o_stream.payload)
            m.d.sync += argmax.start.eq(1)
        add_reply(
            m,
            tx_uart=txu,
            argmax=argmax,
            out_word=out_word,
            out_bytes=out_bytes,
            led_green=self.led_green,
            nak_pending=nak_pending,
        )
        return m
