"""The board side of a response: argmax done -> ``0x5A | OUT | ARGMAX | CHK``, or a NAK.

:func:`add_reply` adds the transmit state machine that both UART tops share
(:class:`boards.uart_top.UARTTop`, :class:`boards.stream_uart_top.StreamUARTTop`); the frames
are those of :mod:`boards.protocol`.
"""

from __future__ import annotations

from amaranth.hdl import Array, Const, Module, Signal, Value

from boards.argmax import Argmax
from boards.protocol import NAK, RESPONSE_HEADER
from boards.uart import UARTTx

__all__ = ["add_reply"]


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
