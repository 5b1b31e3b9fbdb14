"""Synthesis and place-and-route reports with the open tools (YoWASP Yosys / nextpnr).

:func:`synthesize` reads a ``hgq gen`` folder, runs Yosys (``synth_ice40``, ``synth_ecp5`` or
``synth_xilinx -family xc7``) and, for iCE40 and ECP5, nextpnr with a clock target, and stores LUT,
flip-flop and carry counts and Fmax under ``report["synth"][target]`` in ``report.json``. Missing
the clock target is a result (``timing_met: false``), not an error; so is a place-and-route run
that stops without a timing result (``pnr_error``, e.g. more ports than the package has pins:
the Yosys numbers are still recorded). A failing Yosys raises ``RuntimeError`` naming its log.

A network whose ports have more bits than the package has pins (``Target.pins``) cannot be placed
as it is. With ``wrap`` (:class:`Wrap`; ``AUTO`` wraps exactly those), place and route runs on
:func:`serial_wrapper`: shift registers that load the input word ``serial_bits`` bits per cycle
from pins and shift the output word out, ``valid`` passing through, so every register and gate
of the network stays (its inputs really come from pins, its outputs really reach pins). The
headline ``resources`` are then still the network's own, from a Yosys run without the wrapper;
``fmax_mhz`` and ``pnr`` (utilisation, the wrapped design's cell counts) come from the wrapped run.

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
from enum import Enum
from pathlib import Path
from typing import Any

from hgq_hw.emit import read_report, write_report
from hgq_hw.tools import TOOLS, find_tool, tool_env

__all__ = [
    "TARGETS",
    "Target",
    "Wrap",
    "parse_fmax",
    "parse_utilisation",
    "port_bits",
    "run_tool",
    "serial_wrapper",
    "synthesize",
]


class Wrap(str, Enum):
    """When place and route runs on the network inside :func:`serial_wrapper`."""

    AUTO = "auto"
    """Only when the ports have more bits than the package has pins."""
    ALWAYS = "always"
    NEVER = "never"
    """Place the bare network (nextpnr fails when its ports exceed the pins)."""


@dataclass(frozen=True)
class Target:
    """One FPGA family: Yosys command, nextpnr tool and arguments, and cell names to count.

    ``pins`` is the user I/O count of the package that ``nextpnr_args`` names (0 without P&R).
    """

    name: str
    yosys_command: str
    nextpnr: str | None
    nextpnr_args: tuple[str, ...]
    luts: tuple[str, ...]
    ffs: tuple[str, ...]
    carry: tuple[str, ...]
    pins: int = 0


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
            206,  # iCE40HX8K-CT256 user I/O (Lattice iCE40 LP/HX family data sheet)
        ),
        Target(
            "ecp5",
            "synth_ecp5",
            "nextpnr-ecp5",
            ("--85k", "--package", "CABGA756", "--lpf-allow-unconstrained"),
            ("LUT4",),
            ("TRELLIS_FF",),
            ("CCU2C",),
            365,  # LFE5U-85F CABGA756 user I/O (Lattice ECP5 family data sheet)
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


_UTIL_RE = re.compile(r"^Info:\s+([A-Za-z0-9_]+):\s+(\d+)/\s*(\d+)\s+\d+%")


def parse_utilisation(log: str) -> dict[str, dict[str, int]]:
    """nextpnr's last "Device utilisation" block: ``{bel type: {"used": n, "available": m}}``."""
    lines = log.splitlines()
    starts = [n for n, line in enumerate(lines) if "Device utilisation" in line]
    found: dict[str, dict[str, int]] = {}
    for line in lines[starts[-1] + 1 :] if starts else []:
        match = _UTIL_RE.match(line)
        if match is None:
            if found:
                break
            continue
        used, available = int(match.group(2)), int(match.group(3))
        found[match.group(1)] = {"used": used, "available": available}
    return found


def port_bits(report: dict[str, Any]) -> int:
    """Pins the bare network needs: the total width of its ports (from ``report["ports"]``)."""
    return sum(int(p["width"]) for p in report["ports"])


def serial_wrapper(report: dict[str, Any], serial_bits: int = 1, name: str | None = None) -> str:
    """Verilog of a top module that feeds the network of ``report`` through shift registers.

    Ports: ``clk``, ``rst``, ``si[serial_bits]``, ``i_shift`` and ``i_valid`` in,
    ``so[serial_bits]`` and ``o_valid`` out. In each cycle with ``i_shift`` the input shift
    register takes ``serial_bits`` new bits from ``si`` (the network's input payload is its
    whole content); ``i_valid`` goes to the network unchanged and the network's ``valid`` comes
    out as ``o_valid``. The output shift register loads the output payload when it is valid and
    otherwise shifts it out towards ``so``, LSB first. The network's inputs thus depend on pins
    and its outputs all reach pins: synthesis can remove none of its logic. (The shift enable
    keeps the network's input registers from being merged into the shift register, as they
    would be if it shifted every cycle.) The module is called ``name`` (default
    ``<network>_wrap``).
    """
    if not isinstance(serial_bits, int) or serial_bits < 1:
        raise ValueError(f"serial_bits must be an int >= 1, got {serial_bits!r}")
    top = report["name"]
    name = f"{top}_wrap" if name is None else name
    widths = {p["name"]: int(p["width"]) for p in report["ports"]}
    w_in = widths.get("i_stream__payload", 0)
    w_out = widths.get("o_stream__payload", 0)
    k_in, k_out = min(serial_bits, max(w_in, 1)), min(serial_bits, max(w_out, 1))
    lines = [
        f"// Serialising wrapper of {top} for place and route ({serial_bits} bit(s) per cycle).",
        f"module {name} (",
        "  input clk,",
        "  input rst,",
        f"  input [{k_in - 1}:0] si,",
        "  input i_shift,",
        "  input i_valid,",
        f"  output [{k_out - 1}:0] so,",
        "  output o_valid",
        ");",
    ]
    conns = [".clk(clk)", ".rst(rst)", ".i_stream__valid(i_valid)", ".o_stream__valid(o_valid)"]
    if w_in:
        lines.append(f"  reg [{w_in - 1}:0] in_sr = 0;")
        shifted = f"{{in_sr[{w_in - k_in - 1}:0], si}}" if w_in > k_in else "si"
        lines.append(f"  always @(posedge clk) if (i_shift) in_sr <= {shifted};")
        conns.append(".i_stream__payload(in_sr)")
    if w_out:
        lines += [f"  wire [{w_out - 1}:0] out_payload;", f"  reg [{w_out - 1}:0] out_sr = 0;"]
        lines.append(
            f"  always @(posedge clk) out_sr <= o_valid ? out_payload : (out_sr >> {k_out});"
        )
        lines.append(f"  assign so = out_sr[{k_out - 1}:0];")
        conns.append(".o_stream__payload(out_payload)")
    else:
        lines.append("  assign so = 0;")
    lines += [f"  {top} dut ({', '.join(conns)});", "endmodule", ""]
    return "\n".join(lines)


def _count(cells: dict[str, int], prefixes: tuple[str, ...]) -> int:
    return sum(n for cell, n in cells.items() if cell.startswith(prefixes))


def _yosys(
    out: Path,
    t: Target,
    files: list[str],
    top: str,
    stem: str,
    netlist: bool,
    progress: Callable[[str], None] | None,
) -> tuple[dict[str, int], dict[str, int]]:
    """Yosys on ``files`` with top ``top``: ``(resources, cells)``; files named after ``stem``."""
    stat = f"{stem}_stat.json"
    script = (
        "; ".join(f"read_verilog {f}" for f in files)
        + f"; {t.yosys_command} -top {top}"
        + (f" -json {stem}.json" if netlist else "")
        + f"; tee -q -o {stat} stat -json"
    )
    rc, _ = run_tool("yosys", ["-q", "-p", script], out, f"{stem}_yosys.log", progress)
    if rc != 0:
        raise RuntimeError(f"yosys failed (exit {rc}); see {out / f'{stem}_yosys.log'}")
    stats = json.loads((out / stat).read_text(encoding="utf-8"))
    cells = {k: int(v) for k, v in stats["design"]["num_cells_by_type"].items()}
    cells = {k: v for k, v in sorted(cells.items()) if not k.startswith("$scopeinfo")}
    resources = {
        "luts": _count(cells, t.luts),
        "ffs": _count(cells, t.ffs),
        "carry": _count(cells, t.carry),
    }
    return resources, cells


def synthesize(
    out_dir: str | os.PathLike[str],
    target: str,
    *,
    clock_mhz: float = 100.0,
    wrap: Wrap | str = Wrap.AUTO,
    serial_bits: int = 1,
    pins: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Synthesize (and for iCE40 / ECP5 place and route) the design in ``out_dir``.

    ``wrap`` says when place and route runs on :func:`serial_wrapper` (``serial_bits`` bits per
    cycle) instead of the bare network: :attr:`Wrap.AUTO` when the ports have more bits than
    ``pins`` (default: the package's, ``Target.pins``). xc7 has no place and route: no wrapper.

    Returns the new ``report["synth"][target]`` entry, also written to ``report.json``:
    ``resources`` (``luts``, ``ffs``, ``carry`` of the network alone), ``cells`` (its Yosys cell
    counts by type), ``logs``; for iCE40 / ECP5 also ``clock_mhz``, ``fmax_mhz``, ``timing_met``
    (None with ``pnr_error`` when nextpnr gave no timing result), ``nextpnr_exit`` and ``pnr``:
    ``wrapped`` (bool), ``port_bits``, ``pins``, ``utilisation`` (nextpnr's, by bel type) and,
    when wrapped, ``serial_bits`` and ``resources`` / ``cells`` of the wrapped design.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r} (known: {sorted(TARGETS)})")
    if not clock_mhz > 0:
        raise ValueError(f"clock_mhz must be > 0, got {clock_mhz}")
    try:
        wrap = Wrap(wrap)
    except ValueError:
        raise ValueError(f"wrap must be one of {[w.value for w in Wrap]}, got {wrap!r}") from None
    if not isinstance(serial_bits, int) or serial_bits < 1:
        raise ValueError(f"serial_bits must be an int >= 1, got {serial_bits!r}")
    t = TARGETS[target]
    if pins is None:
        pins = t.pins
    elif not isinstance(pins, int) or pins < 1:
        raise ValueError(f"pins must be an int >= 1, got {pins!r}")
    out = Path(out_dir)
    report = read_report(out)
    top = report["name"]
    verilog = report["verilog"]
    if not (out / verilog).exists():
        raise ValueError(f"{out / verilog} not found: run 'hgq gen' again")
    needed = port_bits(report)
    wrapped = t.nextpnr is not None and (
        wrap is Wrap.ALWAYS or (wrap is Wrap.AUTO and needed > pins)
    )
    say = progress or (lambda line: None)
    stem = f"{top}_{target}"
    say(f"{target}: yosys {t.yosys_command} on {verilog}")
    resources, cells = _yosys(
        out, t, [verilog], top, stem, t.nextpnr is not None and not wrapped, progress
    )
    entry: dict[str, Any] = {
        "resources": resources,
        "cells": cells,
        "logs": [f"{stem}_yosys.log"],
    }
    if t.nextpnr is None:
        report.setdefault("synth", {})[target] = entry
        write_report(report, out)
        return entry
    pnr: dict[str, Any] = {"wrapped": wrapped, "port_bits": needed, "pins": pins}
    netlist = f"{stem}.json"
    if wrapped:
        wrapper = f"{top}_wrap"
        (out / f"{wrapper}.v").write_text(serial_wrapper(report, serial_bits), encoding="utf-8")
        say(
            f"{target}: {needed} port bits > {pins} pins: place and route inside "
            f"{wrapper}.v ({serial_bits} bit(s) per cycle)"
            if needed > pins
            else f"{target}: place and route inside {wrapper}.v ({serial_bits} bit(s) per cycle)"
        )
        stem_w = f"{stem}_wrapped"
        pnr["serial_bits"] = serial_bits
        pnr["wrapper"] = f"{wrapper}.v"
        pnr["resources"], pnr["cells"] = _yosys(
            out, t, [verilog, f"{wrapper}.v"], wrapper, stem_w, True, progress
        )
        entry["logs"].append(f"{stem_w}_yosys.log")
        netlist = f"{stem_w}.json"
    log_name = f"{stem}_nextpnr.log"
    say(f"{target}: {t.nextpnr} at {clock_mhz:g} MHz")
    args = ["--json", netlist, "--freq", f"{clock_mhz:g}", *t.nextpnr_args]
    rc, log = run_tool(t.nextpnr, args, out, log_name, progress)
    fmax = parse_fmax(log)
    pnr["utilisation"] = parse_utilisation(log)
    entry.update(clock_mhz=clock_mhz, fmax_mhz=fmax, timing_met=None, nextpnr_exit=rc, pnr=pnr)
    entry["logs"].append(log_name)
    if fmax is None:
        # No timing result at all (e.g. more ports than package pins and wrap="never"): keep
        # the Yosys numbers and say why place and route stopped.
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
