"""What hgqflow needs to know about a board: :class:`BoardTarget` (see :mod:`boards.registry`).

A target is data: the amaranth-boards platform class, its device (a key of the one device table,
:data:`hgq_hw.toolchain.DEVICES`, which gives family, package, pins and capacity), the clock,
which resources are the UART and the green/red LEDs, the openFPGALoader board name and the
bitstream suffix. Board modules (:mod:`boards.icebreaker`, :mod:`boards.ulx3s`) define one target
each and import nothing heavy; the platform class is imported only by
:meth:`BoardTarget.platform`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from hgq_hw.toolchain.devices import Device, get_device

__all__ = ["DEFAULT_BAUD", "DEFAULT_PIPELINE_LEVELS", "BoardTarget", "Capacity"]

DEFAULT_BAUD = 115200
"""UART baud rate of the tops unless ``hgq build --baud`` says otherwise."""

DEFAULT_PIPELINE_LEVELS = 4
"""Adder levels per pipeline stage on a board. A fully combinational network (0) makes Yosys'
abc9 crawl (15 min instead of 25 s for a 3k-LUT MLP) and misses 12 MHz on the iCE40; the
UART and self-test tops do not mind the extra cycles of latency."""


@dataclass(frozen=True)
class Capacity:
    """Logic available on the device: LUT4s, flip-flops and block RAMs."""

    luts: int
    ffs: int
    brams: int

    @classmethod
    def of(cls, device: Device) -> Capacity:
        return cls(device.luts, device.ffs, device.brams)


@dataclass(frozen=True)
class BoardTarget:
    """One board.

    ``platform_class`` is ``"module:Class"`` (imported lazily); ``part`` is its
    :data:`~hgq_hw.toolchain.DEVICES` key (a test checks that the platform's device and package
    are the table's); ``led_green`` / ``led_red`` / ``uart`` are ``(resource name, number)``
    pairs of that platform; ``nextpnr_opts`` is passed as the platform's ``nextpnr_opts``
    override.
    """

    name: str
    description: str
    platform_class: str
    part: str
    clock_hz: float
    led_green: tuple[str, int]
    led_red: tuple[str, int]
    uart: tuple[str, int]
    loader_board: str
    bitstream_suffix: str
    nextpnr_opts: tuple[str, ...] = ("--timing-allow-fail",)

    def __post_init__(self) -> None:
        get_device(self.part)  # an unknown key fails when the board is defined

    @property
    def device_info(self) -> Device:
        """The table entry of :attr:`part`."""
        return get_device(self.part)

    @property
    def family(self) -> str:
        return self.device_info.family

    @property
    def device(self) -> str:
        """The device as amaranth-boards spells it (``"iCE40UP5K"``, ``"LFE5U-85F"``)."""
        return self.device_info.device

    @property
    def capacity(self) -> Capacity:
        return Capacity.of(self.device_info)

    def platform(self) -> Any:
        """A fresh instance of the amaranth-boards platform (needs ``amaranth-boards``)."""
        module_name, _, class_name = self.platform_class.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise RuntimeError(
                f"board {self.name!r} needs amaranth-boards ({err}); pip install amaranth-boards"
            ) from None
        return getattr(module, class_name)()

    def bitstream_name(self, name: str) -> str:
        return f"{name}{self.bitstream_suffix}"
