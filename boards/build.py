"""Build a bitstream for a board: a top wrapper around the network, Yosys, nextpnr and the packer.

:func:`build_board` checks that the design fits (an estimate from the generator before anything
runs, then Yosys' cell counts before place-and-route), lets Amaranth's platform write the build
files (``platform.build(..., do_build=False)``), runs each command of the build script itself
through :func:`hgq_hw.toolchain.run_tool` (the YoWASP tools unless ``YOSYS`` / ``NEXTPNR_ICE40``
/ ``ICEPACK`` / ``NEXTPNR_ECP5`` / ``ECPPACK`` name others; one live progress line per stage on
a terminal, one line per finished stage always), and writes ``DIR/report.json``
(:class:`~hgq_hw.reports.BoardBuildReport`) with the device utilisation and Fmax that nextpnr
reported (its ``--report`` JSON; Yosys' cells from ``stat -json``).

Tools run in ``DIR/build`` with relative file names (YoWASP cannot open absolute ``/tmp`` paths).
nextpnr gets ``--timing-allow-fail``: a missed clock target is reported (``timing_met: false``),
not fatal. A tool that is missing or fails raises :class:`~hgq_hw.toolchain.ToolError`
(``BuildError`` is the same class).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from boards.target import DEFAULT_BAUD, DEFAULT_PIPELINE_LEVELS, BoardTarget
from hgq_hw import atomic
from hgq_hw.reports import (
    BOARD_BUILD_FORMAT,
    BelUse,
    BoardBuildReport,
    BoardTiming,
    ReportError,
    ResourceEstimate,
)
from hgq_hw.spec import ModelSpec
from hgq_hw.toolchain import (
    FAMILIES,
    ToolError,
    YosysStat,
    parse_nextpnr_report,
    read_yosys_stat,
    run_tool,
    stat_json_command,
)
from hgq_hw.toolchain.expected import expected_seconds

__all__ = [
    "REPORT_NAME",
    "BuildError",
    "DoesNotFit",
    "Estimate",
    "build_board",
    "check_fit",
    "estimate_resources",
    "format_build_report",
    "load_build_report",
    "read_build_report",
]

REPORT_NAME = "report.json"

# The tools a build script may call (hgq_hw.toolchain names) and how their stage is called.
_STAGES = {
    "yosys": "synthesis",
    "nextpnr-ice40": "place and route",
    "nextpnr-ecp5": "place and route",
    "icepack": "bitstream",
    "ecppack": "bitstream",
}

# Block RAM geometry used by the estimate: (depth, width) of one block in its widest mode.
_BRAM_SHAPE = {"ice40": (256, 16), "ecp5": (512, 36)}

BuildError = ToolError
"""A tool of the build is missing or failed (the one tool error type, under its old name)."""

Estimate = ResourceEstimate
"""Resources a design is expected to take (or, from Yosys, takes before packing)."""


class DoesNotFit(ValueError):
    """The design needs more logic than the board has."""


def _rom_brams(family: str, depth: int, width: int) -> int:
    if width == 0 or depth * width <= 1024:  # small ROMs go to LUTs
        return 0
    block_depth, block_width = _BRAM_SHAPE[family]
    return math.ceil(depth / block_depth) * math.ceil(width / block_width)


def _stream_numbers(plan: Any) -> tuple[int, int, int]:
    """``(adder bits, window LUTs, pixels per image)`` of a stream network plan: the window
    taps' masks (one LUT per tap bit) count as logic besides the adders."""
    from hgq_hw.stream import StreamWindowPlan

    adder_bits, window = plan.dense.adder_bits, 0
    for st in plan.stages:
        if isinstance(st, StreamWindowPlan):
            adder_bits += st.kernel.adder_bits
            window += st.geometry.n_taps * st.pixel_layout.width + 2 * sum(
                st.geometry.counter_bits.values()
            )
        else:
            adder_bits += st.plan.adder_bits
    return adder_bits, window, plan.n_pixels


def estimate_resources(plan: Any, top_kind: str, family: str, n_vectors: int = 0) -> Estimate:
    """A conservative estimate for the ``top_kind`` top around the network of ``plan``
    (:class:`hgq_hw.plan.NetworkPlan`, or a :class:`hgq_hw.stream.StreamNetworkPlan`;
    nothing is built): one LUT per adder bit, one logic cell per register bit, and the
    wrapper's UART, argmax or ROM checker (a stream design's input ROM holds every pixel of
    the ``n_vectors`` images; its line buffers are registers, its window masks LUTs)."""
    from hgq_hw.stream import StreamNetworkPlan

    in_rom_depth = n_vectors
    if isinstance(plan, StreamNetworkPlan):
        adder_bits, window_luts, n_pixels = _stream_numbers(plan)
        adder_bits += window_luts
        in_w = plan.pixel_layout.width
        in_rom_depth = n_vectors * n_pixels
    else:
        adder_bits, in_w = plan.adder_bits, plan.in_layout.width
    out_w = plan.out_layout.width
    n_out = len(plan.out_layout.fields)
    if top_kind == "uart":
        wrapper_luts = 160 + 2 * in_w + 3 * out_w + 24 * n_out
        wrapper_ffs = 110 + 2 * in_w + 2 * out_w
        brams = 0
    else:
        wrapper_luts = 200 + 2 * out_w
        wrapper_ffs = 100
        brams = 0
        for depth, width in ((in_rom_depth, in_w), (n_vectors, out_w)):
            rom = _rom_brams(family, depth, width)
            brams += rom
            if not rom:  # a ROM in LUTs: a 16-entry LUT per bit and 16 entries, plus a mux
                wrapper_luts += width * math.ceil(depth / 16) * 3 // 2
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


def _yosys_estimate(stat: YosysStat, family: str) -> Estimate:
    """Yosys' cells as the fit check counts them (an ECP5 CCU2C holds two LUT4s)."""
    counted = stat.resources(FAMILIES[family])
    luts = counted.luts + (2 * counted.carry if family == "ecp5" else 0)
    return Estimate(luts, counted.ffs, counted.brams, "yosys")


def _stage_units(tool: str, estimate: Estimate, synth: YosysStat | None) -> float:
    """The size :func:`hgq_hw.toolchain.expected.expected_seconds` wants for ``tool``."""
    if tool == "yosys":
        return estimate.luts + estimate.ffs
    if tool.startswith("nextpnr") and synth is not None:
        return synth.n_cells
    return 1


def _timing(nextpnr: Any, clock_mhz: float) -> BoardTiming | None:
    clock = nextpnr.critical_clock
    if clock is None:
        return None
    timing = nextpnr.clocks[clock]
    # nextpnr keeps MHz in single precision (12 MHz is 12.0000477): 0.01 MHz, as its log prints
    target_mhz = round(timing.constraint_mhz if timing.constraint_mhz is not None else clock_mhz, 2)
    fmax = round(timing.achieved_mhz, 2)
    return BoardTiming(clock, fmax, target_mhz, fmax >= target_mhz)


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
    io: str = "parallel",
) -> BoardBuildReport:
    """Build the bitstream of ``spec`` inside the ``top_kind`` wrapper for ``target``.

    ``io`` is ``hgq gen``'s (:data:`hgq_hw.stream.IO_MODES`): ``"stream"`` builds the stream
    network (:func:`hgq_hw.stream.plan_stream_network`; a spec it cannot stream raises its
    :class:`~hgq_hw.spec.SpecError`) in the stream tops (:class:`boards.stream_core.StreamCore`),
    ``"auto"`` chooses by :func:`hgq_hw.stream.choose_io`.

    Writes ``out_dir/<name><suffix>`` (the bitstream), ``out_dir/build/`` (tool files and logs)
    and ``out_dir/report.json``; returns the report. Raises :class:`DoesNotFit` (before any tool
    runs, or after synthesis and before place-and-route) and
    :class:`~hgq_hw.toolchain.ToolError`. ``force`` skips the (conservative) estimate check;
    Yosys' cell counts are still checked.
    """
    from boards.board_top import BoardTop
    from boards.tops import make_top
    from boards.uart import baud_divisor
    from hgq_hw.plan import plan_network
    from hgq_hw.stream import choose_io, plan_stream_network

    if say is None:
        say = _print_flushed
    t0 = time.perf_counter()

    def stamp() -> str:
        return f"[{time.perf_counter() - t0:7.1f}s]"

    out = Path(out_dir).resolve()
    build_dir = out / "build"
    divisor = baud_divisor(target.clock_hz, baud)
    mode, why = choose_io(spec, io)
    if mode == "stream":
        network_plan: Any = plan_stream_network(spec, pipeline_levels=pipeline_levels)
        say(
            f"{stamp()} stream mode ({why}): one pixel per cycle, {network_plan.n_pixels} "
            f"pixels of {network_plan.pixel_layout.width} bits per image, latency "
            f"{network_plan.latency} cycles"
        )
    else:
        network_plan = plan_network(spec, pipeline_levels=pipeline_levels)
    estimate = estimate_resources(network_plan, top_kind, target.family, n_vectors)
    say(
        f"{stamp()} estimate: {estimate.luts} LUTs, {estimate.ffs} FFs, "
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
        say(f"{stamp()} over capacity by the estimate; going on (force)")
    core = make_top(
        top_kind,
        spec,
        divisor=divisor,
        report_period=int(target.clock_hz),
        pipeline_levels=pipeline_levels,
        n_vectors=n_vectors,
        seed=seed,
        plan=network_plan,
        io=mode,
    )

    if build_dir.exists():
        shutil.rmtree(build_dir)
    build_dir.mkdir(parents=True)
    platform = target.platform()
    for file_name, text in core.verilog_files.items():  # a stream network's modules
        platform.add_file(file_name, text)
    stat_name, pnr_name = f"{name}_stat.json", f"{name}_nextpnr.json"
    overrides: dict[str, Any] = {
        "nextpnr_opts": [*target.nextpnr_opts, "--report", pnr_name],
        "script_after_synth": stat_json_command(stat_name),
    }
    plan = platform.build(
        BoardTop(core, target),
        name=name,
        build_dir=str(build_dir),
        do_build=False,
        **overrides,
    )
    plan.extract(str(build_dir))
    commands = json.loads((build_dir / f"build_{name}.json").read_text())["commands"]
    say(f"{stamp()} elaborated: {build_dir}")

    stages: dict[str, float] = {}
    synth_stat: YosysStat | None = None
    synth: Estimate | None = None
    for argv in commands:
        tool = argv[0]
        stage = _STAGES.get(tool)
        if stage is None:
            raise ToolError(tool, "unexpected command in the build script", command=argv)
        expected = expected_seconds(tool, target.family, _stage_units(tool, estimate, synth_stat))
        say(f"{stamp()} {stage}: {tool} ...")
        run = run_tool(
            tool,
            argv[1:],
            build_dir,
            f"{tool}.out",
            expected_s=expected,
            purpose=stage,
        )
        stages[stage] = run.seconds
        tail = "" if expected is None else f" (expected ~{expected:.0f} s)"
        say(f"{stamp()} {stage}: done in {run.seconds:.1f} s{tail}")
        if tool == "yosys":
            synth_stat = read_yosys_stat(build_dir / stat_name)
            synth = _yosys_estimate(synth_stat, target.family)
            say(
                f"{stamp()} after synthesis: {synth.luts} LUTs, {synth.ffs} FFs, "
                f"{synth.brams} BRAMs"
            )
            check_fit(synth, target)

    bitstream = build_dir / target.bitstream_name(name)
    if not bitstream.exists():
        packer = FAMILIES[target.family].packer or "packer"
        raise ToolError(packer, f"the build finished without writing {bitstream}")
    final = out / bitstream.name
    atomic.copy_file(bitstream, final)  # report.json (naming it) is written after
    nextpnr = parse_nextpnr_report(build_dir / pnr_name, build_dir / f"{name}.tim")
    report = BoardBuildReport(
        format=BOARD_BUILD_FORMAT,
        version=1,
        board=target.name,
        device=target.device,
        top=top_kind,
        spec=spec.name,
        name=name,
        bitstream=final.name,
        clock_mhz=target.clock_hz / 1e6,
        baud=baud,
        uart_divisor=divisor,
        latency=core.latency,
        in_width=core.in_width,
        out_width=core.out_width,
        vectors=n_vectors if top_kind == "selftest" else None,
        seed=seed,
        pipeline_levels=pipeline_levels,
        estimate=estimate,
        synthesis=synth,
        utilisation={
            bel: BelUse(u.used, u.available, u.percent) for bel, u in nextpnr.utilisation.items()
        },
        timing=_timing(nextpnr, target.clock_hz / 1e6),
        stage_seconds=stages,
        seconds=time.perf_counter() - t0,
        part=target.part,
        io=mode,
        ii=network_plan.ii if mode == "stream" else None,
    )
    report.save(out / REPORT_NAME)
    say(f"[{report.seconds:7.1f}s] wrote {final} and {out / REPORT_NAME}")
    return report


def load_build_report(out_dir: str | os.PathLike[str]) -> BoardBuildReport:
    """``report.json`` of an ``hgq build`` folder, checked (``ValueError`` when absent, foreign
    or malformed, naming the file and the field)."""
    path = Path(out_dir) / REPORT_NAME
    if not path.is_file():
        raise ReportError(
            f"not found: run 'hgq build --board ... SPEC -o {out_dir}' first", file=str(path)
        )
    return BoardBuildReport.load(path)


def read_build_report(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """:func:`load_build_report` as the JSON dict (for callers that read keys)."""
    return load_build_report(out_dir).to_dict()


def format_build_report(report: BoardBuildReport) -> str:
    """A table of the utilisation, Fmax and build times of a build report."""
    lines = [
        f"{report.top} top of spec {report.spec!r} on {report.board} "
        f"({report.device}): {report.bitstream}",
        f"  UART {report.baud} baud (divisor {report.uart_divisor}), network latency "
        f"{report.latency} cycles, {report.in_width} -> {report.out_width} bits",
    ]
    if report.io == "stream":
        lines.append(
            f"  stream mode: one {report.in_width}-bit pixel per cycle, ii {report.ii} cycles "
            "per image (latency from an image's last pixel)"
        )
    rows = [
        (cell, u.used, u.available, u.percent if u.percent is not None else 0)
        for cell, u in report.utilisation.items()
        if u.used
    ]
    if rows:
        width = max(len(r[0]) for r in rows)
        lines.append(f"  {'resource'.ljust(width)}  {'used':>7}  {'available':>9}  {'%':>4}")
        lines += [f"  {c.ljust(width)}  {u:>7}  {a:>9}  {p:>3}%" for c, u, a, p in rows]
    timing = report.timing
    if timing:
        verdict = "met" if timing.timing_met else "MISSED"
        lines.append(
            f"  Fmax {timing.fmax_mhz:.2f} MHz (clock {timing.target_mhz:.2f} MHz: {verdict})"
        )
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in report.stage_seconds.items())
    lines.append(f"  build time {report.seconds:.1f} s ({stages})")
    return "\n".join(lines)
