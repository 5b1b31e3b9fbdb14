"""Yosys figures from ``stat -json`` (machine-readable; no regexes on logs).

Every Yosys run here ends with ``tee -q -o FILE stat -json``; :func:`read_yosys_stat` reads that
file into a :class:`YosysStat` (cell counts of the whole design by type, Yosys' own
``$scopeinfo`` bookkeeping cells left out) and :meth:`YosysStat.resources` counts them for a
:class:`~hgq_hw.toolchain.devices.Family`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from hgq_hw.toolchain.devices import Family

__all__ = ["FamilyResources", "YosysStat", "read_yosys_stat", "stat_json_command"]


def stat_json_command(path: str) -> str:
    """The Yosys command that writes the ``stat -json`` file ``path`` (relative to the cwd)."""
    return f"tee -q -o {path} stat -json"


@dataclass(frozen=True)
class FamilyResources:
    """Cells of a design counted for a family: LUTs, flip-flops, carry cells, block RAMs."""

    luts: int
    ffs: int
    carry: int
    brams: int


@dataclass(frozen=True)
class YosysStat:
    """``stat -json`` of a design: ``cells`` by type (sorted), ``port_bits`` of the top."""

    cells: dict[str, int]
    port_bits: int

    @property
    def n_cells(self) -> int:
        return sum(self.cells.values())

    def count(self, prefixes: tuple[str, ...]) -> int:
        """Cells whose type starts with one of ``prefixes``."""
        return sum(n for cell, n in self.cells.items() if cell.startswith(prefixes))

    def resources(self, family: Family) -> FamilyResources:
        return FamilyResources(
            self.count(family.luts),
            self.count(family.ffs),
            self.count(family.carry),
            self.count(family.brams),
        )


def read_yosys_stat(path: str | os.PathLike[str]) -> YosysStat:
    """The ``stat -json`` file ``path`` (``ValueError`` naming the file when malformed)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        design = data["design"]
        by_type = design["num_cells_by_type"]
        cells = {str(k): int(v) for k, v in by_type.items() if not k.startswith("$scopeinfo")}
        port_bits = int(design.get("num_port_bits", 0))
    except FileNotFoundError:
        raise ValueError(f"{path}: no Yosys stat -json file (did Yosys run?)") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as err:
        raise ValueError(f"{path}: not a Yosys 'stat -json' file ({err!r})") from None
    return YosysStat(dict(sorted(cells.items())), port_bits)
