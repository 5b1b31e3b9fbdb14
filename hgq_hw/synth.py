"""Synthesis and place-and-route reports with the open tools (YoWASP Yosys / nextpnr).

:func:`synthesize_entry` reads a ``hgq gen`` folder, runs Yosys (``synth_ice40``, ``synth_ecp5``
or ``synth_xilinx -family xc7``) and, for iCE40 and ECP5, nextpnr with a clock target, and stores
LUT, flip-flop and carry counts and Fmax as a :class:`~hgq_hw.reports.SynthEntry` under
``report["synth"][target]`` in ``report.json``. Missing the clock target is a result
(``timing_met: false``), not an error; so is a place-and-route run that stops without a timing
result (``pnr_error``, e.g. more ports than the package has pins: the Yosys numbers are still
recorded). A failing Yosys raises :class:`~hgq_hw.toolchain.ToolError` naming its log.

Each ``--target`` places on one device of :data:`hgq_hw.toolchain.DEVICES`
(:data:`~hgq_hw.toolchain.SYNTH_DEFAULTS`: iCE40HX8K-CT256, LFE5U-85F-CABGA756, and for xc7,
which has no place and route here, XC7A35T-CSG324); ``device=`` picks another of the family.

A network whose ports have more bits than the device has pins cannot be placed as it is. With
``wrap`` (:class:`Wrap`; ``AUTO`` wraps exactly those), place and route runs on the
:class:`~hgq_hw.toolchain.serial_wrapper.SerialWrapper` around it, so every register and gate
of the network stays. The headline ``resources`` are then still the network's own, from a
Yosys run without the wrapper; ``fmax_mhz`` and ``pnr`` (utilisation, the wrapped design's cell
counts) come from the wrapped run.

Yosys figures come from ``stat -json``, nextpnr's from its ``--report`` JSON (Fmax rounded to
0.01 MHz, as nextpnr's log prints it). Tools run with the output folder as working directory and
relative paths (YoWASP's WebAssembly sandbox cannot open absolute ``/tmp`` paths).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from hgq_hw import atomic
from hgq_hw.reports import BelUse, GenReport, PnrInfo, SynthEntry, SynthResources
from hgq_hw.toolchain import (
    DEVICES,
    FAMILIES,
    SYNTH_DEFAULTS,
    Device,
    YosysStat,
    get_device,
    parse_nextpnr_report,
    read_yosys_stat,
    stat_json_command,
)
from hgq_hw.toolchain import run_tool as _run
from hgq_hw.toolchain.expected import expected_seconds

__all__ = [
    "TARGETS",
    "Target",
    "Wrap",
    "port_bits",
    "run_tool",
    "serial_wrapper",
    "synthesize",
    "synthesize_entry",
]


class Wrap(str, Enum):
    """When place and route runs on the network inside the serial wrapper."""

    AUTO = "auto"
    """Only when the ports have more bits than the package has pins."""
    ALWAYS = "always"
    NEVER = "never"
    """Place the bare network (nextpnr fails when its ports exceed the pins)."""


@dataclass(frozen=True)
class Target:
    """One ``hgq synth --target``: its family's Yosys command, nextpnr and cells to count, and
    the device it places on (``nextpnr_args``, ``pins``: from :data:`DEVICES`)."""

    name: str
    device: Device

    @property
    def yosys_command(self) -> str:
        return FAMILIES[self.device.family].yosys_command

    @property
    def nextpnr(self) -> str | None:
        return FAMILIES[self.device.family].nextpnr

    @property
    def nextpnr_args(self) -> tuple[str, ...]:
        return self.device.pnr_args() if self.nextpnr else ()

    @property
    def luts(self) -> tuple[str, ...]:
        return FAMILIES[self.device.family].luts

    @property
    def ffs(self) -> tuple[str, ...]:
        return FAMILIES[self.device.family].ffs

    @property
    def carry(self) -> tuple[str, ...]:
        return FAMILIES[self.device.family].carry

    @property
    def pins(self) -> int:
        """User I/O of the package (0 without place and route)."""
        return self.device.pins if self.nextpnr else 0


TARGETS: dict[str, Target] = {
    name: Target(name, DEVICES[key]) for name, key in SYNTH_DEFAULTS.items()
}
"""Supported ``--target`` values, each on its default device."""


def port_bits(report: GenReport) -> int:
    """Pins the bare network needs: the total width of its ports."""
    return report.port_bits


def serial_wrapper(report: GenReport, serial_bits: int = 1, name: str | None = None) -> str:
    """Verilog of the serial wrapper around the network of ``report`` (module ``name``,
    default ``<network>_wrap``); see :class:`~hgq_hw.toolchain.serial_wrapper.SerialWrapper`."""
    from hgq_hw.toolchain.serial_wrapper import serial_wrapper_verilog

    return serial_wrapper_verilog(
        report.name,
        report.port_width("i_stream__payload"),
        report.port_width("o_stream__payload"),
        serial_bits,
        name,
    )


def _resources(stat: YosysStat, t: Target) -> SynthResources:
    counted = stat.resources(FAMILIES[t.device.family])
    return SynthResources(counted.luts, counted.ffs, counted.carry)


def _yosys(
    out: Path,
    t: Target,
    files: list[str],
    top: str,
    stem: str,
    netlist: bool,
    logic_bits: int,
    progress: Callable[[str], None] | None,
) -> YosysStat:
    """Yosys on ``files`` with top ``top``; files named after ``stem``."""
    stat = f"{stem}_stat.json"
    (out / stat).unlink(missing_ok=True)
    script = (
        "; ".join(f"read_verilog {f}" for f in files)
        + f"; {t.yosys_command} -top {top}"
        + (f" -json {stem}.json" if netlist else "")
        + f"; {stat_json_command(stat)}"
    )
    _run(
        "yosys",
        ["-q", "-p", script],
        out,
        f"{stem}_yosys.log",
        expected_s=expected_seconds("yosys", t.device.family, logic_bits),
        say=progress,
    )
    return read_yosys_stat(out / stat)


def _target(target: str, device: str | None) -> Target:
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r} (known: {sorted(TARGETS)})")
    t = TARGETS[target]
    if device is None:
        return t
    chosen = get_device(device)
    if chosen.family != t.device.family:
        same = ", ".join(k for k, d in DEVICES.items() if d.family == t.device.family)
        raise ValueError(
            f"device {device!r} is {chosen.family}, not of target {target!r} "
            f"({t.device.family}: {same})"
        )
    return Target(target, chosen)


def synthesize_entry(
    out_dir: str | os.PathLike[str],
    target: str,
    *,
    clock_mhz: float = 100.0,
    wrap: Wrap | str = Wrap.AUTO,
    serial_bits: int = 1,
    pins: int | None = None,
    device: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> SynthEntry:
    """Synthesize (and for iCE40 / ECP5 place and route) the design in ``out_dir``.

    ``wrap`` says when place and route runs inside the serial wrapper (``serial_bits`` bits
    per cycle) instead of the bare network: :attr:`Wrap.AUTO` when the ports have more bits
    than ``pins`` (default: the device's). ``device`` is a :data:`DEVICES` key of the target's
    family (default: :data:`SYNTH_DEFAULTS`). xc7 has no place and route: no wrapper.
    ``progress`` gets one line per stage and per finished tool run.

    Returns the new :class:`~hgq_hw.reports.SynthEntry`, also written to ``report.json`` under
    ``synth[target]``. Raises ``ValueError`` for bad arguments or a missing / foreign
    ``report.json`` and :class:`~hgq_hw.toolchain.ToolError` when Yosys fails.
    """
    t = _target(target, device)
    if not clock_mhz > 0:
        raise ValueError(f"clock_mhz must be > 0, got {clock_mhz}")
    try:
        wrap = Wrap(wrap)
    except ValueError:
        raise ValueError(f"wrap must be one of {[w.value for w in Wrap]}, got {wrap!r}") from None
    if isinstance(serial_bits, bool) or not isinstance(serial_bits, int) or serial_bits < 1:
        raise ValueError(f"serial_bits must be an int >= 1, got {serial_bits!r}")
    if pins is None:
        pins = t.pins
    elif isinstance(pins, bool) or not isinstance(pins, int) or pins < 1:
        raise ValueError(f"pins must be an int >= 1, got {pins!r}")
    out = Path(out_dir)
    report = GenReport.read(out)
    top = report.name
    verilog = report.verilog
    if not (out / verilog).exists():
        raise ValueError(f"{out / verilog} not found: run 'hgq gen' again")
    needed = report.port_bits
    wrapped = t.nextpnr is not None and (
        wrap is Wrap.ALWAYS or (wrap is Wrap.AUTO and needed > pins)
    )
    say = progress or (lambda line: None)
    stem = f"{top}_{target}"
    logic_bits = report.adder_bits + report.registers
    say(f"{target}: yosys {t.yosys_command} on {verilog}")
    stat = _yosys(
        out, t, [verilog], top, stem, t.nextpnr is not None and not wrapped, logic_bits, progress
    )
    logs = [f"{stem}_yosys.log"]
    resources, cells = _resources(stat, t), stat.cells
    if t.nextpnr is None:
        entry = SynthEntry(resources, cells, logs, device=t.device.key)
        report.with_synth(target, entry).write(out)
        return entry
    netlist = f"{stem}.json"
    pnr_stat = stat
    wrap_fields: dict[str, Any] = {}
    if wrapped:
        wrapper = f"{top}_wrap"
        atomic.write_text(out / f"{wrapper}.v", serial_wrapper(report, serial_bits))
        say(
            f"{target}: {needed} port bits > {pins} pins: place and route inside "
            f"{wrapper}.v ({serial_bits} bit(s) per cycle)"
            if needed > pins
            else f"{target}: place and route inside {wrapper}.v ({serial_bits} bit(s) per cycle)"
        )
        stem_w = f"{stem}_wrapped"
        bits_w = logic_bits + 2 * needed
        pnr_stat = _yosys(
            out, t, [verilog, f"{wrapper}.v"], wrapper, stem_w, True, bits_w, progress
        )
        wrap_fields = dict(
            serial_bits=serial_bits,
            wrapper=f"{wrapper}.v",
            resources=_resources(pnr_stat, t),
            cells=pnr_stat.cells,
        )
        logs.append(f"{stem_w}_yosys.log")
        netlist = f"{stem_w}.json"
    log_name = f"{stem}_nextpnr.log"
    report_name = f"{stem}_nextpnr.json"
    (out / report_name).unlink(missing_ok=True)
    say(f"{target}: {t.nextpnr} on {t.device.key} at {clock_mhz:g} MHz")
    args = ["--json", netlist, "--freq", f"{clock_mhz:g}", *t.nextpnr_args]
    args += ["--report", report_name]
    run = _run(
        t.nextpnr,
        args,
        out,
        log_name,
        expected_s=expected_seconds(t.nextpnr, t.device.family, pnr_stat.n_cells),
        say=progress,
        check=False,
    )
    pnr_report = parse_nextpnr_report(out / report_name, out / log_name)
    logs.append(log_name)
    fmax = pnr_report.fmax_mhz
    fmax = None if fmax is None else round(fmax, 2)
    pnr = PnrInfo(
        wrapped,
        needed,
        pins,
        **wrap_fields,
        utilisation={b: BelUse(u.used, u.available) for b, u in pnr_report.utilisation.items()},
    )
    pnr_error = None
    if fmax is None:
        # No timing result at all (e.g. more ports than package pins and wrap="never"): keep
        # the Yosys numbers and say why place and route stopped.
        errors = pnr_report.errors
        pnr_error = (errors[-1] if errors else f"exit {run.exit_code}") + f" (see {log_name})"
    entry = SynthEntry(
        resources,
        cells,
        logs,
        clock_mhz=clock_mhz,
        fmax_mhz=fmax,
        timing_met=None if fmax is None else fmax >= clock_mhz,
        nextpnr_exit=run.exit_code,
        pnr=pnr,
        pnr_error=pnr_error,
        device=t.device.key,
    )
    report.with_synth(target, entry).write(out)
    return entry


def timing_note(entry: Mapping[str, Any]) -> str | None:
    """What a synthesis entry (:meth:`SynthEntry.to_dict` or its report.json form) says about
    timing beyond "done": a missed clock target, or a place and route that gave no timing result
    (with nextpnr's last error); ``None`` when the clock was met or no place and route ran
    (xc7)."""
    if entry.get("pnr_error"):
        return f"no timing result (place and route failed: {entry['pnr_error']})"
    if entry.get("timing_met") is False:
        return f"timing missed (Fmax {entry['fmax_mhz']:.1f} MHz < {entry['clock_mhz']:g} MHz)"
    return None


def run_tool(
    name: str,
    args: list[str],
    cwd: Path,
    log_name: str,
    progress: Callable[[str], None] | None = None,
) -> tuple[int, str]:
    """The old interface, ``(exit status, log text)``, over :func:`hgq_hw.toolchain.run_tool`
    (kept for ``benchmarks/xc7_luts.py``; new code calls the toolchain's directly)."""
    run = _run(name, args, cwd, log_name, say=progress, check=False)
    return run.exit_code, run.text()


def synthesize(out_dir: str | os.PathLike[str], target: str, **options: Any) -> dict[str, Any]:
    """:func:`synthesize_entry` as the JSON dict it writes (for callers that read keys)."""
    return synthesize_entry(out_dir, target, **options).to_dict()


def _main(argv: list[str]) -> int:  # python -m hgq_hw.synth DIR TARGET (debugging aid)
    entry = synthesize_entry(argv[0], argv[1], progress=print)
    print(json.dumps(entry.to_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
