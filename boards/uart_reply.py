"""The board side of a response: argmax done -> ``0x5A | OUT | ARGMAX | CHK``, or a NAK.

:func:`add_reply` adds the transmit state machine that both UART tops share
(:class:`boards.uart_top.UARTTop`, :class:`boards.stream_uart_top.StreamUARTTop`);
:class:`UARTServer` is their common part (ports, UARTs, argmax, the output-count check). The
frames are those of :mod:`boards.protocol`.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Array, Const, Module, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from boards.argmax import Argmax
from boards.protocol import MAX_OUTPUTS, NAK, RESPONSE_HEADER
from boards.uart import UARTRx, UARTTx

__all__ = ["UARTServer", "add_reply"]


class UARTServer(wiring.Component):
    """A network behind a UART: ports ``rx``, ``tx``, ``led_green``, ``led_red``, the UARTs and
    the argmax over the network's output word. Subclasses build the receive side.

    ``network`` has ``in_layout``, ``out_layout``, ``out_type`` and ``latency``; at most
    :data:`~boards.protocol.MAX_OUTPUTS` output elements (the argmax is one byte), else
    ``ValueError`` naming ``spec_name``. Members: ``network``, ``divisor``, ``rx_uart``,
    ``tx_uart``, ``argmax``, ``in_width``, ``out_width``, ``verilog_files``.
    """

    def __init__(
        self, network: Any, *, spec_name: str, divisor: int, verilog_files: dict[str, str]
    ) -> None:
        n_out = len(network.out_layout.fields)
        if n_out > MAX_OUTPUTS:
            raise ValueError(
                f"the UART top reports the argmax in one byte: at most {MAX_OUTPUTS} output "
                f"elements, spec {spec_name!r} has {n_out}"
            )
        self.network = network
        self.divisor = divisor
        self.rx_uart = UARTRx(divisor)
        self.tx_uart = UARTTx(divisor)
        out_f = [int(v) for v in network.out_type.f.ravel()]
        self.argmax = Argmax(network.out_layout, out_f)
        self.in_width = network.in_layout.width
        self.out_width = network.out_layout.width
        self.verilog_files = verilog_files
        super().__init__(
            {"rx": In(1, init=1), "tx": Out(1), "led_green": Out(1), "led_red": Out(1)}
        )

    @property
    def latency(self) -> int:
        return self.network.latency

    def add_common(self, m: Module) -> tuple[Any, UARTRx, UARTTx, Argmax]:
        """Add the network, the UARTs and the argmax to ``m`` and wire the serial pins."""
        m.submodules.network = self.network
        m.submodules.rx_uart = self.rx_uart
        m.submodules.tx_uart = self.tx_uart
        m.submodules.argmax = self.argmax
        m.d.comb += [self.rx_uart.rx.eq(self.rx), self.tx.eq(self.tx_uart.tx)]
        return self.network, self.rx_uart, self.tx_uart, self.argmax


def add_reply(
    m: Module,
    *,
    tx_uart: UARTTx,
    argmax: Argmax,
    out_word: Value,
    out_bytes: int,
    led_green: Value,
    nak_pending: Signal,
) -> None:
    """Send the response when ``argmax`` is done (``out_word`` holds the output word, stable
    until then), toggling ``led_green``; send one NAK byte when ``nak_pending`` (and clear it)."""
    response = [
        Const(RESPONSE_HEADER, 8),
        *(out_word[8 * k : 8 * k + 8] for k in range(out_bytes)),
        argmax.index,
    ]
    resp_pending = Signal()
    with m.If(argmax.done):
        m.d.sync += [resp_pending.eq(1), led_green.eq(~led_green)]
    select = Signal(range(len(response) + 1))
    tx_check = Signal(8)
    table = Array(response)
    txs = tx_uart.i_stream
    with m.FSM(name="tx_fsm"):
        with m.State("IDLE"):
            with m.If(resp_pending):
                m.d.sync += [resp_pending.eq(0), select.eq(0), tx_check.eq(0)]
                m.next = "RESPONSE"
            with m.Elif(nak_pending):
                m.d.sync += nak_pending.eq(0)
                m.next = "NAK"
        with m.State("RESPONSE"):
            byte_out = Signal(8)
            with m.If(select == len(response)):
                m.d.comb += byte_out.eq(tx_check)
            with m.Else():
                m.d.comb += byte_out.eq(table[select])
            m.d.comb += [txs.payload.eq(byte_out), txs.valid.eq(1)]
            with m.If(txs.ready):
                m.d.sync += select.eq(select + 1)
                with m.If(select != 0):
                    m.d.sync += tx_check.eq(tx_check ^ byte_out)
                with m.If(select == len(response)):
                    m.next = "IDLE"
        with m.State("NAK"):
            m.d.comb += [txs.payload.eq(NAK), txs.valid.eq(1)]
            with m.If(txs.ready):
                m.next = "IDLE"
