"""Synthesis and place-and-route reports with the open tools (YoWASP Yosys / nextpnr).

:func:`synthesize` reads a ``hgq gen`` folder, runs Yosys (``synth_ice40``, ``synth_ecp5`` or
``synth_xilinx -family xc7``) and, for iCE40 and ECP5, nextpnr with a clock target, and stores LUT,
flip-flop and carry counts and Fmax under ``report["synth"][target]`` in ``report.json``. Missing
the clock target is a result (``timing_met: false``), not an error; so is a place-and-route run
that stops without a timing result (``pnr_error``, e.g. more ports than the package has pins:
the Yosys numbers are still recorded). A failing Yosys raises ``RuntimeError`` naming its log.

Tools run with the output folder as working directory and relative paths (YoWASP's WebAssembly
sandbox cannot open absolute ``/tmp`` paths). Their first call compiles WebAssembly (30-50 s).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hgq_hw.emit import read_report, write_report
from hgq_hw.tools import TOOLS, find_tool, tool_env

__all__ = ["TARGETS", "Target", "parse_fmax", "run_tool", "synthesize"]


@dataclass(frozen=True)
class Target:
    """One FPGA family: Yosys command, nextpnr tool and arguments, and cell names to count."""

    name: str
    yosys_command: str
    nextpnr: str | None
    nextpnr_args: tuple[str, ...]
    luts: tuple[str, ...]
    ffs: tuple[str, ...]
    carry: tuple[str, ...]


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            "ice40",
            "synth_ice40",
            "nextpnr-ice40",
            ("--hx8k", "--package", "ct256", "--pcf-allow-unconstrained"),
            ("SB_LUT4",),
            ("SB_DFF",),
            ("SB_CARRY",),
        ),
        Target(
            "ecp5",
            "synth_ecp5",
            "nextpnr-ecp5",
            ("--85k", "--package", "CABGA756", "--lpf-allow-unconstrained"),
            ("LUT4",),
            ("TRELLIS_FF",),
            ("CCU2C",),
        ),
        Target(
            "xc7",
            "synth_xilinx -family xc7 -flatten",
            None,
            (),
            ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6"),
            ("FD",),
            ("CARRY4", "CARRY8"),
        ),
    )
}
"""Supported ``--target`` values."""

_FMAX_RE = re.compile(r"Max frequency for clock\s+'?([^':]*)'?:\s*([0-9.]+)\s*MHz")


def parse_fmax(log: str) -> float | None:
    """Fmax in MHz from nextpnr's log: the last "Max frequency" line (None if there is none)."""
    found = _FMAX_RE.findall(log)
    return float(found[-1][1]) if found else None


def run_tool(
    name: str,
    args: list[str],
    cwd: Path,
    log_name: str,
    progress: Callable[[str], None] | None = None,
    every_s: float = 10.0,
) -> tuple[int, str]:
    """Run tool ``name`` (see :mod:`hgq_hw.tools`) in ``cwd``; returns ``(exit status, log)``.

    The combined output goes to ``cwd / log_name``; ``progress`` gets an elapsed-time line every
    ``every_s`` seconds while the tool runs.
    """
    path = find_tool(name)
    if path is None:
        raise RuntimeError(f"{name} not found; {TOOLS[name].install_hint}")
    start = time.monotonic()
    log_path = cwd / log_name
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [path, *args], cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=tool_env()
        )
        while True:
            try:
                rc = proc.wait(timeout=every_s)
                break
            except subprocess.TimeoutExpired:
                if progress is not None:
                    progress(f"  {name}: {time.monotonic() - start:.0f} s ...")
    if progress is not None:
        progress(f"  {name}: done in {time.monotonic() - start:.1f} s (log {log_name})")
    return rc, log_path.read_text(encoding="utf-8", errors="replace")


def _count(cells: dict[str, int], prefixes: tuple[str, ...]) -> int:
    return sum(n for cell, n in cells.items() if cell.startswith(prefixes))


def synthesize(
    out_dir: str | os.PathLike[str],
    target: str,
    *,
    clock_mhz: float = 100.0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Synthesize (and for iCE40 / ECP5 place and route) the design in ``out_dir``.

    Returns the new ``report["synth"][target]`` entry, also written to ``report.json``:
    ``resources`` (``luts``, ``ffs``, ``carry``), ``cells`` (Yosys cell counts by type), ``logs``;
    for iCE40 / ECP5 also ``clock_mhz``, ``fmax_mhz``, ``timing_met`` (None with ``pnr_error``
    when nextpnr gave no timing result) and ``nextpnr_exit``.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r} (known: {sorted(TARGETS)})")
    if not clock_mhz > 0:
        raise ValueError(f"clock_mhz must be > 0, got {clock_mhz}")
    t = TARGETS[target]
    out = Path(out_dir)
    report = read_report(out)
    top = report["name"]
    verilog = report["verilog"]
    if not (out / verilog).exists():
        raise ValueError(f"{out / verilog} not found: run 'hgq gen' again")
    netlist = f"{top}_{target}.json"
    stat = f"{top}_{target}_stat.json"
    script = (
        f"read_verilog {verilog}; {t.yosys_command} -top {top}"
        + (f" -json {netlist}" if t.nextpnr else "")
        + f"; tee -q -o {stat} stat -json"
    )
    say = progress or (lambda line: None)
    say(f"{target}: yosys {t.yosys_command} on {verilog}")
    rc, _ = run_tool("yosys", ["-q", "-p", script], out, f"{top}_{target}_yosys.log", progress)
    if rc != 0:
        raise RuntimeError(f"yosys failed (exit {rc}); see {out / f'{top}_{target}_yosys.log'}")
    stats = json.loads((out / stat).read_text(encoding="utf-8"))
    cells = {k: int(v) for k, v in stats["design"]["num_cells_by_type"].items()}
    cells = {k: v for k, v in sorted(cells.items()) if not k.startswith("$scopeinfo")}
    entry: dict[str, Any] = {
        "resources": {
            "luts": _count(cells, t.luts),
            "ffs": _count(cells, t.ffs),
            "carry": _count(cells, t.carry),
        },
        "cells": cells,
        "logs": [f"{top}_{target}_yosys.log"],
    }
    if t.nextpnr is not None:
        log_name = f"{top}_{target}_nextpnr.log"
        say(f"{target}: {t.nextpnr} at {clock_mhz:g} MHz")
        args = ["--json", netlist, "--freq", f"{clock_mhz:g}", *t.nextpnr_args]
        rc, log = run_tool(t.nextpnr, args, out, log_name, progress)
        fmax = parse_fmax(log)
        entry.update(clock_mhz=clock_mhz, fmax_mhz=fmax, timing_met=None, nextpnr_exit=rc)
        entry["logs"].append(log_name)
        if fmax is None:
            # No timing result at all (e.g. more ports than package pins): keep the Yosys
            # numbers and say why place and route stopped.
            errors = [line for line in log.splitlines() if line.startswith("ERROR")]
            entry["pnr_error"] = (errors[-1] if errors else f"exit {rc}") + f" (see {log_name})"
        else:
            entry["timing_met"] = fmax >= clock_mhz
    report.setdefault("synth", {})[target] = entry
    write_report(report, out)
    return entry


def _main(argv: list[str]) -> int:  # python -m hgq_hw.synth DIR TARGET (debugging aid)
    entry = synthesize(argv[0], argv[1], progress=print)
    print(json.dumps(entry, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
