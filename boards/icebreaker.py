"""1BitSquared iCEBreaker: Lattice iCE40UP5K (SG48), 12 MHz clock, FTDI UART, red/green LEDs."""

from __future__ import annotations

from boards.target import BoardTarget

__all__ = ["ICEBREAKER"]

ICEBREAKER = BoardTarget(
    name="icebreaker",
    description="iCEBreaker (iCE40UP5K-SG48, 12 MHz)",
    platform_class="amaranth_boards.icebreaker:ICEBreakerPlatform",
    part="iCE40UP5K-SG48",  # 5280 LUT4 + 5280 DFF, 30 EBR of 4 kbit (SPRAMs not used)
    clock_hz=12e6,
    led_green=("led_g", 0),
    led_red=("led_r", 0),
    uart=("uart", 0),
    # openFPGALoader 0.10 (Debian) has no "icebreaker" entry: its FT2232H is "ice40_generic".
    loader_board="ice40_generic",
    bitstream_suffix=".bin",
)
