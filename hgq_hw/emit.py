"""Verilog and ``report.json`` for a spec: ``hgq gen`` without the command line.

:func:`generate` plans the spec (:func:`hgq_hw.plan.plan_network`; the report's numbers come
from the plan), writes the plan's Verilog and writes ``DIR/<name>.v`` and ``DIR/report.json``.
Two writers give the same ports and cycle-by-cycle behaviour (:data:`WRITERS`): ``"direct"``
(the default) writes the text straight from the plan (:func:`hgq_hw.netlist.write_network`, one
flat module); ``"amaranth"`` builds the :class:`~hgq_hw.components.Network` of the plan and
converts it with ``amaranth.back.verilog.convert`` (Yosys; no source locations). The text
depends only on the spec and the options: the same spec and options give byte-identical files.

``io`` (``hgq gen --io``, :data:`hgq_hw.stream.IO_MODES`): ``"parallel"`` (the default, the
fully unrolled network above), ``"stream"`` (:mod:`hgq_hw.stream`: one pixel per cycle in, the
direct writer only; its report adds ``stream``: initiation interval, latency, buffer bits,
stages) or ``"auto"`` (:func:`hgq_hw.stream.choose_io`). A stream design's ``input`` layout is
one pixel's; ``hgq sim`` streams its images pixel by pixel (:mod:`sim.tb_stream`), ``hgq prove``
refuses stream designs (not yet supported there).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hgq_hw import atomic
from hgq_hw.reports import spec_digest
from hgq_hw.spec import ModelSpec

if TYPE_CHECKING:
    from hgq_hw.layout import BusLayout

__all__ = [
    "REPORT_NAME",
    "WRITERS",
    "Design",
    "build",
    "format_report",
    "generate",
    "ports_of",
    "read_report",
    "write_report",
]

REPORT_NAME = "report.json"
WRITERS = ("direct", "amaranth")
"""The Verilog writers of :func:`build` (the first is the default)."""
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Design:
    """A generated design: the Amaranth :class:`~hgq_hw.components.Network` (``writer=
    "amaranth"``; None for the direct writer, which builds none), its Verilog text, its report
    (a JSON dict) and the :class:`~hgq_hw.plan.NetworkPlan` it was built from (the numbers:
    ``plan.in_layout``, ``plan.out_layout``, ``plan.latency``, ...)."""

    network: Any
    verilog: str
    report: dict[str, Any]
    plan: Any = None


def ports_of(network: Any) -> list[tuple[str, str, int]]:
    """``(verilog_name, direction, width)`` of the top-level ports (width-0 payloads omitted)."""
    ports = [("clk", "input", 1), ("rst", "input", 1)]
    for stream_name, direction in (("i_stream", "input"), ("o_stream", "output")):
        stream = getattr(network, stream_name)
        if len(stream.payload):
            ports.append((f"{stream_name}__payload", direction, len(stream.payload)))
        ports.append((f"{stream_name}__valid", direction, 1))
    return ports


def _report_head(
    spec: ModelSpec, name: str, pipeline_levels: int, depth_slack: int | None, writer: str
) -> dict[str, Any]:
    """The first keys of ``report.json``: format, names, options and generator."""
    return {
        "format": "hgqflow-hw-report",
        "version": 1,
        "name": name,
        "spec": spec.name,
        "verilog": f"{name}.v",
        "options": {"pipeline_levels": pipeline_levels, "depth_slack": depth_slack},
        "generator": {"amaranth": version("amaranth"), "writer": writer},
    }


def _report_ports(
    ports: list[tuple[str, str, int]], in_layout: BusLayout, out_layout: BusLayout
) -> dict[str, Any]:
    """``ports``, ``input`` and ``output`` of ``report.json``."""
    return {
        "ports": [{"name": n, "direction": d, "width": w} for n, d, w in ports],
        "input": {"width": in_layout.width, "layout": in_layout.describe()},
        "output": {"width": out_layout.width, "layout": out_layout.describe()},
    }


def build(
    spec: ModelSpec,
    *,
    name: str | None = None,
    pipeline_levels: int = 0,
    depth_slack: int | None = None,
    writer: str = "direct",
    io: str = "parallel",
) -> Design:
    """The network of ``spec`` as Verilog-2001 text plus its report (nothing is written);
    ``writer`` is one of :data:`WRITERS`, ``io`` one of :data:`hgq_hw.stream.IO_MODES`."""
    from hgq_hw.netlist import network_ports
    from hgq_hw.plan import plan_network
    from hgq_hw.stream import choose_io

    name = spec.name if name is None else name
    if not _NAME_RE.match(name):
        raise ValueError(f"module name {name!r} is not a Verilog identifier")
    if writer not in WRITERS:
        raise ValueError(f"writer must be one of {', '.join(WRITERS)}, got {writer!r}")
    mode, why = choose_io(spec, io)
    if mode == "stream":
        if writer != "direct":
            raise ValueError("--io stream has the direct writer only (--writer direct)")
        return _build_stream(spec, name, pipeline_levels, depth_slack, why)
    plan = plan_network(spec, pipeline_levels=pipeline_levels, depth_slack=depth_slack)
    net = None
    if writer == "direct":
        from hgq_hw.netlist import write_network

        text = write_network(plan, name)
    else:
        from amaranth.back import verilog

        from hgq_hw.components import Network

        net = Network(plan)
        ports = [net.i_stream.payload, net.i_stream.valid, net.o_stream.payload]
        ports = [p for p in ports + [net.o_stream.valid] if len(p)]
        text = verilog.convert(net, name=name, ports=ports, emit_src=False)
    layers = plan.rows()
    report: dict[str, Any] = {
        **_report_head(spec, name, pipeline_levels, depth_slack, writer),
        "latency": plan.latency,
        "registers": plan.registers,
        "adders": plan.n_adders,
        "adder_depth": plan.adder_depth,
        "adder_bits": plan.adder_bits,
        **_report_ports(network_ports(plan), plan.in_layout, plan.out_layout),
        "layers": layers,
        "spec_digest": spec_digest(spec),
    }
    return Design(net, text, report, plan)


def _build_stream(
    spec: ModelSpec, name: str, pipeline_levels: int, depth_slack: int | None, why: str
) -> Design:
    """:func:`build` in stream mode (see :mod:`hgq_hw.stream.network`)."""
    from hgq_hw.stream import StreamWindowPlan, plan_stream_network
    from hgq_hw.stream.netlist import stream_network_ports, write_stream_network

    plan = plan_stream_network(spec, pipeline_levels=pipeline_levels, depth_slack=depth_slack)
    text = write_stream_network(plan, name)
    rows: list[dict[str, Any]] = []
    depth = bits = 0
    for st in plan.stages:
        if isinstance(st, StreamWindowPlan):
            k = st.kernel
            rows.append(
                {
                    "layer": st.name,
                    "kind": f"Stream{st.kind}",
                    "elements": st.c_out,
                    "out_bits": st.out_layout.width,
                    "latency": st.pixel_latency,
                    "registers": st.registers,
                    "adders": k.n_adders,
                    "adder_depth": k.adder_depth,
                    "adder_bits": k.adder_bits,
                }
            )
            depth, bits = depth + k.adder_depth, bits + k.adder_bits
        else:
            rows += st.plan.rows()
            depth, bits = depth + st.plan.adder_depth, bits + st.plan.adder_bits
    g = plan.gather
    rows.append(
        {
            "layer": f"{plan.dense.input_name}__gather",
            "kind": "StreamGather",
            "elements": g.n_pixels * int(g.pixel_type.shape[0]),
            "out_bits": g.buffer_bits,
            "latency": 1,
            "registers": g.registers,
            "adders": 0,
            "adder_depth": 0,
            "adder_bits": 0,
        }
    )
    rows += plan.dense.rows()
    report: dict[str, Any] = {
        **_report_head(spec, name, pipeline_levels, depth_slack, "direct"),
        "latency": plan.latency,
        "registers": plan.registers,
        "adders": plan.n_adders,
        "adder_depth": depth + plan.dense.adder_depth,
        "adder_bits": bits + plan.dense.adder_bits,
        **_report_ports(stream_network_ports(plan), plan.pixel_layout, plan.out_layout),
        "layers": rows,
        "spec_digest": spec_digest(spec),
        "stream": {**plan.report(), "chosen": why},
    }
    return Design(None, text, report, plan)


def write_report(report: dict[str, Any], out_dir: str | os.PathLike[str]) -> Path:
    """Write ``report.json`` into ``out_dir`` (stable formatting), checked as a
    :class:`~hgq_hw.reports.GenReport` first (a field it does not know is refused)."""
    from hgq_hw.reports import GenReport

    return GenReport.from_dict(report).write(out_dir)


def read_report(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``report.json`` of a ``hgq gen`` output folder, checked field by field as a
    :class:`~hgq_hw.reports.GenReport` (a ``ValueError`` naming the file and field when absent
    or invalid); use ``GenReport.read`` for the typed record."""
    from hgq_hw.reports import GenReport

    return GenReport.read(out_dir).to_dict()


def generate(
    spec: ModelSpec,
    out_dir: str | os.PathLike[str],
    *,
    name: str | None = None,
    pipeline_levels: int = 0,
    depth_slack: int | None = None,
    writer: str = "direct",
    io: str = "parallel",
) -> Design:
    """Write ``<out_dir>/<name>.v`` and ``<out_dir>/report.json``; returns the :class:`Design`."""
    design = build(
        spec,
        name=name,
        pipeline_levels=pipeline_levels,
        depth_slack=depth_slack,
        writer=writer,
        io=io,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_text(out / design.report["verilog"], design.verilog)
    write_report(design.report, out)
    return design


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append(
            "  "
            + "  ".join(
                cell.rjust(w) if c else cell.ljust(w)
                for c, (cell, w) in enumerate(zip(row, widths))
            ).rstrip()
        )
        if n == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return lines


def format_report(report: dict[str, Any]) -> str:
    """A human-readable table of a report (layers, totals and, after synthesis, resources)."""
    opts = report["options"]
    lines = [
        f"design {report['name']!r} from spec {report['spec']!r}: "
        f"pipeline_levels={opts['pipeline_levels']}, depth_slack={opts['depth_slack']}",
    ]
    rows = [("layer", "kind", "elements", "out bits", "adders", "depth", "latency", "regs")]
    for r in report["layers"]:
        rows.append(
            (
                r["layer"],
                r["kind"],
                str(r["elements"]),
                str(r["out_bits"]),
                str(r["adders"]),
                str(r["adder_depth"]),
                str(r["latency"]),
                str(r["registers"]),
            )
        )
    rows.append(
        (
            "total",
            "Network",
            "",
            str(report["output"]["width"]),
            str(report["adders"]),
            str(report["adder_depth"]),
            str(report["latency"]),
            str(report["registers"]),
        )
    )
    lines += _table(rows)
    lines.append("  ports: " + ", ".join(f"{p['name']}[{p['width']}]" for p in report["ports"]))
    stream = report.get("stream")
    if stream:
        lines.append(
            f"  stream ({stream['chosen']}): one pixel per cycle, ii {stream['ii']} cycles per "
            f"image, line buffers and gather {stream['buffer_bits']} bits"
        )
    for target, synth in sorted(report.get("synth", {}).items()):
        lines += _synth_lines(target, synth)
    return "\n".join(lines)


def _synth_lines(target: str, synth: dict[str, Any]) -> list[str]:
    """Lines of one ``report["synth"][target]`` entry: the network's own resources first, then
    place and route (bare or inside the serialising wrapper, said so)."""
    res = ", ".join(f"{k}={v}" for k, v in synth.get("resources", {}).items())
    pnr = synth.get("pnr", {})
    wrapped = bool(pnr.get("wrapped"))
    fmax = synth.get("fmax_mhz")
    if synth.get("pnr_error"):
        timing = f"no timing result: {synth['pnr_error']}"
    elif fmax is not None:
        verdict = "met" if synth.get("timing_met") else "MISSED"
        timing = f"Fmax {fmax:.1f} MHz ({verdict} {synth.get('clock_mhz')} MHz)"
    else:
        timing = ""
    if not wrapped:
        return [f"  {target}: {res}" + (f", {timing}" if timing else "")]
    lines = [f"  {target}: {res} (network alone, Yosys)"]
    util = ", ".join(
        f"{bel} {u['used']}/{u['available']}"
        for bel, u in pnr.get("utilisation", {}).items()
        if u["used"]
    )
    wres = ", ".join(f"{k}={v}" for k, v in pnr.get("resources", {}).items())
    lines.append(
        f"  {target} P&R in serial wrapper ({pnr.get('port_bits')} port bits, "
        f"{pnr.get('pins')} pins, {pnr.get('serial_bits')} bit(s)/cycle): {timing}"
    )
    lines.append(f"    wrapped design: {wres}" + (f"; utilisation {util}" if util else ""))
    return lines
