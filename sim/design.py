"""The design under test: generate it from a spec, or take an existing ``hgq gen`` folder."""

from __future__ import annotations

import os
from pathlib import Path

from hgq_hw.spec import ModelSpec
from sim.runner import DesignFiles

__all__ = ["design_from_dir", "generate_design"]


def design_from_dir(gen_dir: str | os.PathLike[str], spec: ModelSpec | None = None) -> DesignFiles:
    """The design described by ``gen_dir/report.json`` (written by ``hgq gen``). With
    ``spec``, :class:`~hgq_hw.errors.DesignMismatchError` when the folder was generated from
    another spec (:meth:`hgq_hw.reports.GenReport.check_spec`)."""
    from hgq_hw.reports import GenReport

    report = GenReport.read(gen_dir)
    if spec is not None:
        report.check_spec(spec, gen_dir)
    verilog = Path(gen_dir) / report.verilog
    if not verilog.exists():
        raise ValueError(f"{verilog} named by {Path(gen_dir) / 'report.json'} does not exist")
    options = {
        "pipeline_levels": report.options.pipeline_levels,
        "depth_slack": report.options.depth_slack,
    }
    return DesignFiles(
        verilog, report.name, report.latency, stream=report.stream is not None, options=options
    )


def generate_design(
    spec: ModelSpec,
    out_dir: str | os.PathLike[str],
    *,
    pipeline_levels: int = 0,
    name: str | None = None,
    io: str = "parallel",
) -> DesignFiles:
    """Generate Verilog for ``spec`` into ``out_dir`` (as ``hgq gen --io io`` does) and
    describe it."""
    from hgq_hw.emit import generate

    design = generate(spec, out_dir, name=name, pipeline_levels=pipeline_levels, io=io)
    stream = design.report.get("stream") is not None
    return DesignFiles(
        Path(out_dir) / design.report["verilog"],
        design.report["name"],
        int(design.report["latency"]),
        stream=stream,
        options=dict(design.report["options"]),
        plan=design.plan if stream else None,
    )
