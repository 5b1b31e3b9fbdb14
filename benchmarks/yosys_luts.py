"""One Yosys script for any Verilog; cell counts cached by the Verilog's hash (benchmark helper).

    from yosys_luts import SCRIPTS, yosys_cells
    cells = yosys_cells(build_dir, ["model.v", "shift_adder.v"], "model", "xc7", cache_dir)

The same synthesis command runs for every design, whoever generated it (``SCRIPTS``: xc7 is
``synth_xilinx -family xc7 -flatten -nodsp``, ECP5 ``synth_ecp5 -nodsp``; no place and route).
``nomfs=True`` sets Yosys' ``abc9.nomfs`` scratchpad flag first, which drops ``&mfs`` (ABC's
don't-care resynthesis) from the ABC9 script that ``synth_xilinx`` runs: on hgq_hw's
pipeline-0 digits netlists ``&mfs`` took over 6 CPU minutes (not finished) where the whole
script without it took 45 CPU seconds (``benchmarks/peers/RESULTS_qor.md``).
Yosys (YoWASP, found through :mod:`hgq_hw.toolchain.find`) runs in ``build_dir`` with relative
file names, as its WebAssembly sandbox needs. The result is stored under ``cache_dir`` keyed by
the SHA-256 of the command, the top module and the files' names and contents, so an unchanged
design is never synthesized twice.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from hgq_hw.synth import TARGETS
from hgq_hw.toolchain import run_tool

__all__ = ["NOMFS", "SCRIPTS", "YosysTimeout", "design_hash", "script_for", "yosys_cells"]

SCRIPTS: dict[str, str] = {
    "xc7": "synth_xilinx -family xc7 -flatten -nodsp",
    "ecp5": "synth_ecp5 -nodsp",
}
"""The synthesis command per target (``-top`` is added)."""

NOMFS = "scratchpad -set abc9.nomfs 1"
"""Prefix that drops ``&mfs`` from ABC9's script (the ``nomfs`` variant of a target)."""

_DSP_PREFIXES = ("DSP48", "MULT18X18", "ALU54")


class YosysTimeout(RuntimeError):
    """Yosys was killed at its time limit (``seconds``); nothing is cached for the design."""

    def __init__(self, seconds: float, log: Path) -> None:
        super().__init__(f"timeout after {seconds:.0f} s (log {log})")
        self.seconds = seconds
        self.log = log


def script_for(target: str, *, nomfs: bool = False) -> str:
    """The Yosys commands for ``target`` (``ValueError`` if unknown), ``NOMFS`` first if asked."""
    if target not in SCRIPTS:
        raise ValueError(f"unknown target {target!r} (known: {sorted(SCRIPTS)})")
    return f"{NOMFS}; {SCRIPTS[target]}" if nomfs else SCRIPTS[target]


def design_hash(
    build_dir: Path, files: list[str], top: str, target: str, *, nomfs: bool = False
) -> str:
    """SHA-256 over the target's command, ``top`` and each file's name and bytes."""
    h = hashlib.sha256()
    h.update(f"{script_for(target, nomfs=nomfs)}\0{top}\0".encode())
    for name in files:
        h.update(name.encode() + b"\0" + (build_dir / name).read_bytes() + b"\0")
    return h.hexdigest()


def yosys_cells(
    build_dir: Path,
    files: list[str],
    top: str,
    target: str,
    cache_dir: Path,
    *,
    cached_only: bool = False,
    nomfs: bool = False,
    timeout_s: float | None = None,
) -> dict[str, Any] | None:
    """Synthesize ``files`` (relative to ``build_dir``) with top module ``top`` for ``target``.

    Returns ``{"luts", "carry", "ffs", "dsps", "cells", "seconds", "hash", "cached", "log"}``:
    LUTs, carry cells and flip-flops counted with the cell names of
    :data:`hgq_hw.synth.TARGETS`, DSP cells (0 with ``-nodsp``), every cell type's count, the
    Yosys run time (0 when cached) and the log's path; with ``cached_only``, None instead of a
    Yosys run when the design is not in the cache; ``nomfs``: the script without ABC9's
    ``&mfs`` (see the module doc); ``timeout_s``: Yosys is killed after that many seconds and
    :class:`YosysTimeout` (a ``RuntimeError``) is raised, nothing cached. ``RuntimeError``
    naming the log when Yosys fails; ``ValueError`` for an unknown target.
    """
    command = script_for(target, nomfs=nomfs)
    key = design_hash(build_dir, files, top, target, nomfs=nomfs)
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached = cache_dir / f"{key[:20]}_{target}{'_nomfs' if nomfs else ''}.json"
    if cached.exists():
        return {**json.loads(cached.read_text(encoding="utf-8")), "cached": True}
    if cached_only:
        return None
    stat = f"{top}_{target}_stat.json"
    log = f"{top}_{target}_yosys.log"
    reads = "; ".join(f"read_verilog {name}" for name in files)
    script = f"{reads}; {command} -top {top}; tee -q -o {stat} stat -json"
    start = time.perf_counter()
    run = run_tool(
        "yosys", ["-q", "-p", script], build_dir, log, check=False, live=False, timeout_s=timeout_s
    )
    seconds = time.perf_counter() - start
    if run.timed_out:
        raise YosysTimeout(seconds, build_dir / log)
    if run.exit_code != 0:
        raise RuntimeError(f"yosys failed (exit {run.exit_code}); see {build_dir / log}")
    cells = json.loads((build_dir / stat).read_text(encoding="utf-8"))["design"]
    counts = {c: int(n) for c, n in cells["num_cells_by_type"].items()}
    t = TARGETS[target]
    result = {
        "target": target,
        "command": command,
        "luts": sum(n for c, n in counts.items() if c.startswith(t.luts)),
        "carry": sum(n for c, n in counts.items() if c.startswith(t.carry)),
        "ffs": sum(n for c, n in counts.items() if c.startswith(t.ffs)),
        "dsps": sum(n for c, n in counts.items() if c.startswith(_DSP_PREFIXES)),
        "cells": counts,
        "seconds": seconds,
        "hash": key,
        "log": str(build_dir / log),
    }
    cached.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return {**result, "cached": False}
