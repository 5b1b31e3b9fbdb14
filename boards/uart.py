"""A small 8N1 UART in Amaranth: :class:`UARTRx` and :class:`UARTTx`.

Both count ``divisor`` clock cycles per bit (``divisor = clock_hz // baud``, at least 4), so a
simulation can use a few cycles per bit and a board its real baud rate. The line idles high;
a byte is a low start bit, 8 data bits least significant first and a high stop bit.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["MIN_DIVISOR", "UARTRx", "UARTTx", "baud_divisor"]

MIN_DIVISOR = 4


def baud_divisor(clock_hz: float, baud: int) -> int:
    """Clock cycles per bit for ``baud`` at ``clock_hz``; ``ValueError`` when it is off by more
    than 2 % (the receiver would drift out of its bit by the stop bit) or below 4 cycles."""
    if baud <= 0:
        raise ValueError(f"baud must be positive, got {baud}")
    divisor = round(clock_hz / baud)
    if divisor < MIN_DIVISOR:
        raise ValueError(
            f"baud {baud} is too fast for a {clock_hz / 1e6:g} MHz clock "
            f"(needs at least {MIN_DIVISOR} cycles per bit)"
        )
    error = abs(clock_hz / divisor - baud) / baud
    if error > 0.02:
        raise ValueError(
            f"baud {baud} cannot be made from {clock_hz / 1e6:g} MHz within 2 % "
            f"(nearest is {clock_hz / divisor:.0f}, {error:.1%} off)"
        )
    return divisor


def _check_divisor(divisor: int) -> int:
    if not isinstance(divisor, int) or divisor < MIN_DIVISOR:
        raise ValueError(f"divisor must be an int >= {MIN_DIVISOR} cycles per bit, got {divisor!r}")
    return divisor


class UARTRx(wiring.Component):
    """Receiver: samples ``rx`` (through a two-flop synchronizer) in the middle of every bit.

    Parameters
    ----------
    divisor:
        Clock cycles per bit (>= 4).

    Members
    -------
    rx: ``In(1)``, the serial line (idles high).
    o_stream: ``Out(stream.Signature(8, always_ready=True))``; ``valid`` is high for one cycle
        per byte received with a correct stop bit.
    error: ``Out(1)``, high for one cycle when a byte had a low stop bit (the byte is dropped).
    """

    def __init__(self, divisor: int) -> None:
        self.divisor = _check_divisor(divisor)
        super().__init__(
            {
                "rx": In(1, init=1),
                "o_stream": Out(stream.Signature(8, always_ready=True)),
                "error": Out(1),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        sync0, line = Signal(init=1), Signal(init=1)
        m.d.sync += [sync0.eq(self.rx), line.eq(sync0)]
        timer = Signal(range(self.divisor + self.divisor // 2 + 1))
        bits = Signal(range(9))
        shift = Signal(8)
        m.d.sync += [self.o_stream.valid.eq(0), self.error.eq(0)]
        with m.FSM():
            with m.State("IDLE"), m.If(~line):
                # Wait to the middle of the first data bit: 1.5 bit times.
                m.d.sync += [timer.eq(self.divisor + self.divisor // 2 - 2), bits.eq(0)]
                m.next = "DATA"
            with m.State("DATA"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += [
                        shift.eq(Cat(shift[1:], line)),
                        bits.eq(bits + 1),
                        timer.eq(self.divisor - 1),
                    ]
                    with m.If(bits == 7):
                        m.next = "STOP"
            with m.State("STOP"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    with m.If(line):
                        m.d.sync += [self.o_stream.payload.eq(shift), self.o_stream.valid.eq(1)]
                        m.next = "IDLE"
                    with m.Else():
                        m.d.sync += self.error.eq(1)
                        m.next = "BREAK"
            # A low stop bit: wait for the line to go idle before looking for a start bit.
            with m.State("BREAK"), m.If(line):
                m.next = "IDLE"
        return m


class UARTTx(wiring.Component):
    """Transmitter: sends each byte accepted on ``i_stream``.

    Parameters
    ----------
    divisor:
        Clock cycles per bit (>= 4).

    Members
    -------
    i_stream: ``In(stream.Signature(8))``; a byte is taken when ``valid & ready``; ``ready`` is
        high while the transmitter is idle.
    tx: ``Out(1, init=1)``, the serial line.
    """

    def __init__(self, divisor: int) -> None:
        self.divisor = _check_divisor(divisor)
        super().__init__({"i_stream": In(stream.Signature(8)), "tx": Out(1, init=1)})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        timer = Signal(range(self.divisor))
        frame = Signal(10, init=0x3FF)  # stop bit, 8 data bits, start bit (LSB first)
        left = Signal(range(11))
        m.d.comb += [self.tx.eq(frame[0]), self.i_stream.ready.eq(left == 0)]
        with m.If(left == 0), m.If(self.i_stream.valid):
            m.d.sync += [
                frame.eq(Cat(Const(0, 1), self.i_stream.payload, Const(1, 1))),
                left.eq(10),
                timer.eq(self.divisor - 1),
            ]
        with m.Elif(timer != 0):
            m.d.sync += timer.eq(timer - 1)
        with m.Else():
            m.d.sync += [
                frame.eq(Cat(frame[1:], Const(1, 1))),
                left.eq(left - 1),
                timer.eq(self.divisor - 1),
            ]
        return m
