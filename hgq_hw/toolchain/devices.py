"""The one table of FPGA devices and families, for ``hgq synth --target`` and the board targets.

A :class:`Family` says how Yosys synthesizes for it, which nextpnr and packer place and pack it
and which Yosys cells count as LUTs, flip-flops, carry and block RAM. A :class:`Device` is one
part in one package: its family, the device and package strings as amaranth-boards spells them,
its user I/O pins, its capacity and the nextpnr flags that select it. ``hgq synth --target T``
uses ``DEVICES[SYNTH_DEFAULTS[T]]``; a board names its device by key (``BoardTarget.part``).

Sources: Lattice iCE40 LP/HX and UltraPlus data sheets, Lattice ECP5 family data sheet, Xilinx
7 series overview (DS180). Pins are user I/O of the package.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEVICES", "FAMILIES", "SYNTH_DEFAULTS", "Device", "Family", "get_device"]


@dataclass(frozen=True)
class Family:
    """One FPGA family as the open tools see it.

    ``nextpnr`` and ``packer`` are tool names of :data:`hgq_hw.toolchain.TOOLS` (None: no open
    place and route here); ``allow_unconstrained`` is the nextpnr flag that places ports without
    a constraints file. The cell tuples are Yosys cell-name prefixes.
    """

    name: str
    yosys_command: str
    nextpnr: str | None
    packer: str | None
    allow_unconstrained: str | None
    luts: tuple[str, ...]
    ffs: tuple[str, ...]
    carry: tuple[str, ...]
    brams: tuple[str, ...]


@dataclass(frozen=True)
class Device:
    """One part in one package (capacity in LUT4 / LUT6, flip-flops and block RAMs)."""

    key: str
    family: str
    device: str
    """Device string as amaranth-boards' platforms spell it (``platform.device``)."""
    package: str
    """Package string as amaranth-boards' platforms spell it (``platform.package``)."""
    pins: int
    luts: int
    ffs: int
    brams: int
    nextpnr_args: tuple[str, ...]
    """nextpnr flags selecting the device and package (empty without place and route)."""

    @property
    def family_info(self) -> Family:
        return FAMILIES[self.family]

    def pnr_args(self) -> tuple[str, ...]:
        """:attr:`nextpnr_args` plus the family's allow-unconstrained flag (for ``hgq synth``,
        which places the network without a constraints file)."""
        flag = self.family_info.allow_unconstrained
        return (*self.nextpnr_args, *((flag,) if flag else ()))


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "ice40",
            "synth_ice40",
            "nextpnr-ice40",
            "icepack",
            "--pcf-allow-unconstrained",
            ("SB_LUT4",),
            ("SB_DFF",),
            ("SB_CARRY",),
            ("SB_RAM40",),
        ),
        Family(
            "ecp5",
            "synth_ecp5",
            "nextpnr-ecp5",
            "ecppack",
            "--lpf-allow-unconstrained",
            ("LUT4",),
            ("TRELLIS_FF",),
            ("CCU2C",),
            ("DP16KD", "PDPW16KD"),
        ),
        Family(
            "xc7",
            "synth_xilinx -family xc7 -flatten",
            None,
            None,
            None,
            ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6"),
            ("FD",),
            ("CARRY4", "CARRY8"),
            ("RAMB18", "RAMB36"),
        ),
    )
}

DEVICES: dict[str, Device] = {
    d.key: d
    for d in (
        # 7680 LCs, 32 RAM4K; CT256: 206 user I/O.
        Device(
            "iCE40HX8K-CT256", "ice40", "iCE40HX8K", "CT256", 206, 7680, 7680, 32,
            ("--hx8k", "--package", "ct256"),
        ),
        # 5280 LCs, 30 EBR of 4 kbit (the SPRAMs are not counted); SG48: 39 user I/O.
        Device(
            "iCE40UP5K-SG48", "ice40", "iCE40UP5K", "SG48", 39, 5280, 5280, 30,
            ("--up5k", "--package", "sg48"),
        ),
        # 83640 LUT4 (41820 slices x 2) and as many flip-flops, 208 EBR of 18 kbit.
        Device(
            "LFE5U-85F-CABGA756", "ecp5", "LFE5U-85F", "BG756", 365, 83640, 83640, 208,
            ("--85k", "--package", "CABGA756"),
        ),
        Device(
            "LFE5U-85F-CABGA381", "ecp5", "LFE5U-85F", "BG381", 205, 83640, 83640, 208,
            ("--85k", "--package", "CABGA381"),
        ),
        # Artix-7 35T: 20800 LUT6, 41600 flip-flops, 50 RAMB36; CSG324: 210 user I/O.
        # No open place and route here: synthesis only.
        Device("XC7A35T-CSG324", "xc7", "xc7a35ti", "csg324", 210, 20800, 41600, 50, ()),
    )
}  # fmt: skip

SYNTH_DEFAULTS: dict[str, str] = {
    "ice40": "iCE40HX8K-CT256",
    "ecp5": "LFE5U-85F-CABGA756",
    "xc7": "XC7A35T-CSG324",
}
"""The device of each ``hgq synth --target``: the same as before the table existed."""


def get_device(key: str) -> Device:
    """``DEVICES[key]`` or a ``ValueError`` listing the known keys."""
    try:
        return DEVICES[key]
    except KeyError:
        raise ValueError(f"unknown device {key!r} (known: {', '.join(DEVICES)})") from None
