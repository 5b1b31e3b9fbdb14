"""Build a bitstream for a board: a top wrapper around the network, Yosys, nextpnr and the packer.

:func:`build_board` checks that the design fits (an estimate from the generator before anything
runs, then Yosys' cell counts before place-and-route), lets Amaranth's platform write the build
files (``platform.build(..., do_build=False)``), runs each command of the build script itself,
with the YoWASP tools unless ``YOSYS`` / ``NEXTPNR_ICE40`` / ``ICEPACK`` / ``NEXTPNR_ECP5`` /
``ECPPACK`` name others, printing the stage and elapsed time, and writes ``DIR/report.json``
with the device utilisation and Fmax that nextpnr reported.

Tools run in ``DIR/build`` with relative file names (YoWASP cannot open absolute ``/tmp`` paths).
nextpnr gets ``--timing-allow-fail``: a missed clock target is reported (``timing_met: false``),
not fatal.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from boards.target import DEFAULT_BAUD, DEFAULT_PIPELINE_LEVELS, BoardTarget
from hgq_hw.spec import ModelSpec

__all__ = [
    "REPORT_NAME",
    "BuildError",
    "DoesNotFit",
    "Estimate",
    "build_board",
    "check_fit",
    "estimate_resources",
    "format_build_report",
    "parse_fmax",
    "parse_utilisation",
    "parse_yosys_cells",
    "read_build_report",
]

REPORT_NAME = "report.json"
HEARTBEAT_S = 30.0

# Where each build command's tool is found (hgq_hw.tools names) and how its stage is called.
_STAGES = {
    "yosys": ("yosys", "synthesis"),
    "nextpnr-ice40": ("nextpnr-ice40", "place and route"),
    "nextpnr-ecp5": ("nextpnr-ecp5", "place and route"),
    "icepack": ("icepack", "bitstream"),
    "ecppack": ("ecppack", "bitstream"),
}

# Block RAM geometry used by the estimate: (depth, width) of one block in its widest mode.
_BRAM_SHAPE = {"ice40": (256, 16), "ecp5": (512, 36)}


class BuildError(RuntimeError):
    """A tool failed; the message names the stage and its log file."""


class DoesNotFit(ValueError):
    """The design needs more logic than the board has."""


@dataclass(frozen=True)
class Estimate:
    """Resources a design is expected to take (or, from Yosys, takes before packing)."""

    luts: int
    ffs: int
    brams: int
    source: str
    """``"estimate"`` (from the generator, before synthesis) or ``"yosys"``."""


def _rom_brams(family: str, depth: int, width: int) -> int:
    if width == 0 or depth * width <= 1024:  # small ROMs go to LUTs
        return 0
    block_depth, block_width = _BRAM_SHAPE[family]
    return math.ceil(depth / block_depth) * math.ceil(width / block_width)


def estimate_resources(plan: Any, top_kind: str, family: str, n_vectors: int = 0) -> Estimate:
    """A conservative estimate for the ``top_kind`` top around the network of ``plan``
    (:class:`hgq_hw.plan.NetworkPlan`; nothing is built): one LUT per adder bit, one logic
    cell per register bit, and the wrapper's UART, argmax or ROM checker."""
    adder_bits = plan.adder_bits
    in_w, out_w = plan.in_layout.width, plan.out_layout.width
    n_out = len(plan.out_layout.fields)
    if top_kind == "uart":
        wrapper_luts = 160 + 2 * in_w + 3 * out_w + 24 * n_out
        wrapper_ffs = 110 + 2 * in_w + 2 * out_w
        brams = 0
    else:
        wrapper_luts = 200 + 2 * out_w
        wrapper_ffs = 100
        brams = 0
        for width in (in_w, out_w):
            rom = _rom_brams(family, n_vectors, width)
            brams += rom
            if not rom:  # a ROM in LUTs: a 16-entry LUT per bit and 16 entries, plus a mux
                wrapper_luts += width * math.ceil(n_vectors / 16) * 3 // 2
    luts = adder_bits + plan.registers + wrapper_luts
    return Estimate(luts, plan.registers + wrapper_ffs, brams, "estimate")


def check_fit(estimate: Estimate, target: BoardTarget) -> None:
    """``DoesNotFit`` naming the estimate, the capacity and what to do when over capacity."""
    cap = target.capacity
    over = [
        f"{what} {need} > {have}"
        for what, need, have in (
            ("LUTs", estimate.luts, cap.luts),
            ("flip-flops", estimate.ffs, cap.ffs),
            ("block RAMs", estimate.brams, cap.brams),
        )
        if need > have
    ]
    if not over:
        return
    bigger = [
        f"--board {b.name} ({b.capacity.luts} LUTs)"
        for b in _boards().values()
        if b.capacity.luts > cap.luts and b.capacity.luts >= estimate.luts
    ]
    advice = "retrain with a larger beta (fewer bits, more pruning)"
    if bigger:
        advice += " or choose a bigger board: " + ", ".join(bigger)
    raise DoesNotFit(
        f"the design does not fit the {target.description}: {', '.join(over)} "
        f"({estimate.source}: {estimate.luts} LUTs, {estimate.ffs} FFs, {estimate.brams} BRAMs; "
        f"capacity {cap.luts} LUTs, {cap.ffs} FFs, {cap.brams} BRAMs); {advice}"
    )


def _print_flushed(line: str) -> None:
    print(line, flush=True)


def _boards() -> dict[str, BoardTarget]:
    from boards.registry import BOARDS

    return BOARDS


# -- parsing tool output ----------------------------------------------------------------------

_UTIL_RE = re.compile(r"^Info:\s+(\w+):\s+(\d+)\s*/\s*(\d+)\s+(\d+)%", re.M)
_FMAX_RE = re.compile(
    r"Max frequency for clock\s+'([^']+)':\s+([\d.]+) MHz \((PASS|FAIL) at ([\d.]+) MHz\)"
)
_CELL_NEW_RE = re.compile(r"^\s+(\d+)\s+((?:SB_|LUT|TRELLIS|CCU2|DP16|PDPW|MULT|ALU)\w*)\s*$")
_CELL_OLD_RE = re.compile(r"^\s+((?:SB_|LUT|TRELLIS|CCU2|DP16|PDPW|MULT|ALU)\w*)\s+(\d+)\s*$")


def parse_utilisation(text: str) -> dict[str, dict[str, int]]:
    """nextpnr's "Device utilisation" block: ``{cell: {"used", "available", "percent"}}``
    (the last block in the log wins)."""
    start = text.rfind("Device utilisation")
    if start < 0:
        return {}
    block = text[start:].split("\n\n", 1)[0]
    rows: dict[str, dict[str, int]] = {}
    for line in block.splitlines()[1:]:
        found = _UTIL_RE.match(line)
        if not found:
            if rows:
                break
            continue
        name, used, avail, pct = found.groups()
        rows[name] = {"used": int(used), "available": int(avail), "percent": int(pct)}
    return rows


def parse_fmax(text: str) -> dict[str, Any] | None:
    """The last "Max frequency" line of a nextpnr log: clock, MHz, target MHz, met."""
    found = _FMAX_RE.findall(text)
    if not found:
        return None
    clock, mhz, verdict, target = found[-1]
    return {
        "clock": clock,
        "fmax_mhz": float(mhz),
        "target_mhz": float(target),
        "timing_met": verdict == "PASS",
    }


def parse_yosys_cells(text: str) -> dict[str, int]:
    """Cell counts of the last ``stat`` in a Yosys log (``{cell type: count}``; the design
    hierarchy totals when Yosys printed them). Reads both the ``count type`` layout of recent
    Yosys and the older ``type count`` one."""
    start = max(text.rfind("=== design hierarchy ==="), text.rfind("Printing statistics"))
    if start < 0:
        return {}
    cells: dict[str, int] = {}
    for line in text[start:].splitlines():
        found = _CELL_NEW_RE.match(line)
        if found:
            cells[found[2]] = int(found[1])
            continue
        found = _CELL_OLD_RE.match(line)
        if found:
            cells[found[1]] = int(found[2])
    return cells


def _yosys_estimate(cells: dict[str, int], family: str) -> Estimate:
    def total(prefixes: tuple[str, ...]) -> int:
        return sum(n for cell, n in cells.items() if cell.startswith(prefixes))

    if family == "ice40":
        return Estimate(total(("SB_LUT4",)), total(("SB_DFF",)), total(("SB_RAM40",)), "yosys")
    return Estimate(
        total(("LUT4",)) + 2 * total(("CCU2C",)),
        total(("TRELLIS_FF",)),
        total(("DP16KD", "PDPW16KD")),
        "yosys",
    )


# -- running the build ------------------------------------------------------------------------


def _tool_env() -> dict[str, str]:
    from hgq_hw.tools import tool_env

    return tool_env()


def _resolve(tool: str) -> str:
    from hgq_hw.tools import TOOLS, find_tool

    path = find_tool(tool)
    if path is None:
        t = TOOLS[tool]
        raise BuildError(
            f"{tool} not found (looked for {os.environ.get(t.env_var, t.default)!r}; "
            f"set {t.env_var} or {t.install_hint})"
        )
    return path


def _run_stage(
    argv: list[str], cwd: Path, stage: str, log_name: str, say: Callable[[str], None], t0: float
) -> float:
    start = time.perf_counter()
    say(f"[{start - t0:7.1f}s] {stage}: {Path(argv[0]).name} ...")
    out_path = cwd / f"{log_name}.out"
    with out_path.open("w") as out:
        proc = subprocess.Popen(
            argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=_tool_env()
        )
        while True:
            try:
                proc.wait(timeout=HEARTBEAT_S)
                break
            except subprocess.TimeoutExpired:
                say(f"[{time.perf_counter() - t0:7.1f}s] {stage}: still running")
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = out_path.read_text(errors="replace").strip().splitlines()[-15:]
        raise BuildError(
            f"{stage} ({Path(argv[0]).name}) failed with exit status {proc.returncode} after "
            f"{seconds:.1f} s; see {out_path}\n" + "\n".join(tail)
        )
    say(f"[{time.perf_counter() - t0:7.1f}s] {stage}: done in {seconds:.1f} s")
    return seconds


def build_board(
    spec: ModelSpec,
    target: BoardTarget,
    top_kind: str,
    out_dir: str | os.PathLike[str],
    *,
    baud: int = DEFAULT_BAUD,
    pipeline_levels: int = DEFAULT_PIPELINE_LEVELS,
    n_vectors: int = 40,
    seed: int = 0,
    name: str = "top",
    force: bool = False,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Build the bitstream of ``spec`` inside the ``top_kind`` wrapper for ``target``.

    Writes ``out_dir/<name><suffix>`` (the bitstream), ``out_dir/build/`` (tool files and logs)
    and ``out_dir/report.json``; returns the report. Raises :class:`DoesNotFit` (before any tool
    runs, or after synthesis and before place-and-route) and :class:`BuildError`. ``force``
    skips the (conservative) estimate check; Yosys' cell counts are still checked.
    """
    from boards.board_top import BoardTop
    from boards.tops import make_top
    from boards.uart import baud_divisor
    from hgq_hw.plan import plan_network

    if say is None:
        say = _print_flushed
    t0 = time.perf_counter()
    out = Path(out_dir).resolve()
    build_dir = out / "build"
    divisor = baud_divisor(target.clock_hz, baud)
    network_plan = plan_network(spec, pipeline_levels=pipeline_levels)
    estimate = estimate_resources(network_plan, top_kind, target.family, n_vectors)
    say(
        f"[{time.perf_counter() - t0:7.1f}s] estimate: {estimate.luts} LUTs, {estimate.ffs} FFs, "
        f"{estimate.brams} BRAMs (capacity {target.capacity.luts} / {target.capacity.ffs} / "
        f"{target.capacity.brams})"
    )
    try:
        check_fit(estimate, target)
    except DoesNotFit as err:
        if not force:
            raise DoesNotFit(
                f"{err}; the estimate is conservative: --force synthesizes anyway and checks "
                "Yosys' count before place-and-route"
            ) from None
        say(f"[{time.perf_counter() - t0:7.1f}s] over capacity by the estimate; going on (force)")
    core = make_top(
        top_kind,
        spec,
        divisor=divisor,
        report_period=int(target.clock_hz),
        pipeline_levels=pipeline_levels,
        n_vectors=n_vectors,
        seed=seed,
        plan=network_plan,
    )

    if build_dir.exists():
        shutil.rmtree(build_dir)
    build_dir.mkdir(parents=True)
    platform = target.platform()
    overrides: dict[str, Any] = {"nextpnr_opts": list(target.nextpnr_opts)}
    plan = platform.build(
        BoardTop(core, target),
        name=name,
        build_dir=str(build_dir),
        do_build=False,
        **overrides,
    )
    plan.extract(str(build_dir))
    commands = json.loads((build_dir / f"build_{name}.json").read_text())["commands"]
    say(f"[{time.perf_counter() - t0:7.1f}s] elaborated: {build_dir}")

    stages: dict[str, float] = {}
    synth: Estimate | None = None
    for argv in commands:
        tool, stage = _STAGES.get(argv[0], (None, argv[0]))
        if tool is None:
            raise BuildError(f"unexpected command in the build script: {argv}")
        path = _resolve(tool)
        stages[stage] = _run_stage([path, *argv[1:]], build_dir, stage, tool, say, t0)
        if tool == "yosys":
            cells = parse_yosys_cells((build_dir / f"{name}.rpt").read_text(errors="replace"))
            synth = _yosys_estimate(cells, target.family)
            say(
                f"[{time.perf_counter() - t0:7.1f}s] after synthesis: {synth.luts} LUTs, "
                f"{synth.ffs} FFs, {synth.brams} BRAMs"
            )
            check_fit(synth, target)

    bitstream = build_dir / target.bitstream_name(name)
    if not bitstream.exists():
        raise BuildError(f"the build finished without writing {bitstream}")
    final = out / bitstream.name
    shutil.copyfile(bitstream, final)
    tim = (build_dir / f"{name}.tim").read_text(errors="replace")
    report: dict[str, Any] = {
        "format": "hgqflow-board-build",
        "version": 1,
        "board": target.name,
        "device": target.device,
        "top": top_kind,
        "spec": spec.name,
        "name": name,
        "bitstream": final.name,
        "clock_mhz": target.clock_hz / 1e6,
        "baud": baud,
        "uart_divisor": divisor,
        "latency": core.latency,
        "in_width": core.in_width,
        "out_width": core.out_width,
        "vectors": n_vectors if top_kind == "selftest" else None,
        "seed": seed,
        "pipeline_levels": pipeline_levels,
        "estimate": asdict(estimate),
        "synthesis": asdict(synth) if synth else None,
        "utilisation": parse_utilisation(tim),
        "timing": parse_fmax(tim),
        "stage_seconds": stages,
        "seconds": time.perf_counter() - t0,
    }
    (out / REPORT_NAME).write_text(json.dumps(report, indent=2) + "\n")
    say(f"[{report['seconds']:7.1f}s] wrote {final} and {out / REPORT_NAME}")
    return report


def read_build_report(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """``report.json`` of an ``hgq build`` folder (``ValueError`` when absent or foreign)."""
    path = Path(out_dir) / REPORT_NAME
    try:
        report = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(
            f"{path} not found: run 'hgq build --board ... SPEC -o {out_dir}' first"
        ) from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(report, dict) or report.get("format") != "hgqflow-board-build":
        raise ValueError(f"{path} is not an hgq build report")
    return report


def format_build_report(report: dict[str, Any]) -> str:
    """A table of the utilisation, Fmax and build times of a build report."""
    lines = [
        f"{report['top']} top of spec {report['spec']!r} on {report['board']} "
        f"({report['device']}): {report['bitstream']}",
        f"  UART {report['baud']} baud (divisor {report['uart_divisor']}), network latency "
        f"{report['latency']} cycles, {report['in_width']} -> {report['out_width']} bits",
    ]
    util = report.get("utilisation") or {}
    rows = [
        (cell, u["used"], u["available"], u["percent"]) for cell, u in util.items() if u["used"]
    ]
    if rows:
        width = max(len(r[0]) for r in rows)
        lines.append(f"  {'resource'.ljust(width)}  {'used':>7}  {'available':>9}  {'%':>4}")
        lines += [f"  {c.ljust(width)}  {u:>7}  {a:>9}  {p:>3}%" for c, u, a, p in rows]
    timing = report.get("timing")
    if timing:
        verdict = "met" if timing["timing_met"] else "MISSED"
        lines.append(
            f"  Fmax {timing['fmax_mhz']:.2f} MHz (clock {timing['target_mhz']:.2f} MHz: {verdict})"
        )
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in report.get("stage_seconds", {}).items())
    lines.append(f"  build time {report['seconds']:.1f} s ({stages})")
    return "\n".join(lines)
