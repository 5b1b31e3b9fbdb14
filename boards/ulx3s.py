"""Radiona ULX3S with the 85F: Lattice ECP5 LFE5U-85F (CABGA381), 25 MHz clock, FTDI UART.

The eight user LEDs are red, orange, green, blue, red, orange, green, blue (``led`` 0-7, as on
the silkscreen D0-D7): green is ``led`` 2, red ``led`` 0.
"""

from __future__ import annotations

from boards.target import BoardTarget

__all__ = ["ULX3S_85F"]

ULX3S_85F = BoardTarget(
    name="ulx3s-85f",
    description="ULX3S 85F (LFE5U-85F-6BG381, 25 MHz)",
    platform_class="amaranth_boards.ulx3s:ULX3S_85F_Platform",
    part="LFE5U-85F-CABGA381",  # 83640 LUT4, as many flip-flops, 208 EBR of 18 kbit
    clock_hz=25e6,
    led_green=("led", 2),
    led_red=("led", 0),
    uart=("uart", 0),
    loader_board="ulx3s",
    bitstream_suffix=".bit",
)
