"""``BoardTop``: a platform-independent top (``uart`` / ``selftest``) wired to a board."""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Elaboratable, Module

from boards.target import BoardTarget

__all__ = ["BoardTop"]


class BoardTop(Elaboratable):
    """Requests the board's UART and green/red LEDs and connects them to ``core``.

    ``core`` has ``tx``, ``led_green``, ``led_red`` and, when it listens, ``rx`` (see
    :class:`boards.uart_top.UARTTop`, :class:`boards.selftest_top.SelfTestTop`).
    """

    def __init__(self, core: Any, target: BoardTarget) -> None:
        self.core = core
        self.target = target

    def elaborate(self, platform: Any) -> Module:
        from amaranth.lib import io

        m = Module()
        m.submodules.core = core = self.core
        uart = platform.request(*self.target.uart, dir="-")
        m.submodules.tx_buffer = tx = io.Buffer("o", uart.tx)
        m.d.comb += tx.o.eq(core.tx)
        if "rx" in core.signature.members:
            # The UART receiver synchronizes the line itself.
            m.submodules.rx_buffer = rx = io.Buffer("i", uart.rx)
            m.d.comb += core.rx.eq(rx.i)
        for color in ("green", "red"):
            pins = platform.request(*getattr(self.target, f"led_{color}"), dir="-")
            m.submodules[f"led_{color}"] = led = io.Buffer("o", pins)
            m.d.comb += led.o.eq(getattr(core, f"led_{color}"))
        return m
