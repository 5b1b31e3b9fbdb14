"""Run the cocotb regression of a stream-mode design (``hgq gen --io stream``) on images.

:func:`run_stream_regression` is what :func:`sim.runner.run_regression` does for a design
whose ``report.json`` has ``stream``: it builds the images
(:func:`sim.stream_vectors.build_stream_vectors`), writes them with the reference's outputs
and the hardware's output types (from the stream plan,
:func:`hgq_hw.stream.plan_stream_network` with the design's generator options), runs
:mod:`sim.tb_stream` through :func:`sim.runner.run_cocotb`, and returns a
:class:`~sim.runner.SimResult` whose samples are images.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hgq_hw.reference import infer_types
from hgq_hw.spec import ModelSpec, save
from sim.stream_vectors import StreamVectorSet, build_stream_vectors

if TYPE_CHECKING:
    from hgq_hw.stream import StreamNetworkPlan
    from sim.runner import DesignFiles, SimResult

__all__ = [
    "STREAM_TESTS",
    "STREAM_TEST_MODULE",
    "needed_pixels",
    "run_stream_regression",
    "stream_plan_of",
]

STREAM_TEST_MODULE = "sim.tb_stream"
STREAM_TESTS = ("pixel_stream", "reset_mid_image")


def stream_plan_of(spec: ModelSpec, design: DesignFiles) -> StreamNetworkPlan:
    """The stream plan ``design`` was generated from (given, or planned again from ``spec``
    with the design's generator options)."""
    if design.plan is not None:
        return design.plan
    from hgq_hw.stream import plan_stream_network

    options = design.options or {}
    return plan_stream_network(
        spec,
        pipeline_levels=int(options.get("pipeline_levels") or 0),
        depth_slack=options.get("depth_slack"),
    )


def needed_pixels(plan: StreamNetworkPlan) -> int:
    """How many leading pixels (C order) of an image its output depends on: the gather needs
    every output pixel of the last stage, and a window's output pixel ``p`` fires on the
    slot of its bottom-right tap (:meth:`hgq_hw.stream.StreamGeometry.trigger`), so stages
    back to front; a "valid" window may leave the last rows or columns unread, a tail slot
    past the image needs the whole image."""
    from hgq_hw.stream import StreamWindowPlan

    need = plan.gather.n_pixels
    for st in reversed(plan.stages):
        if isinstance(st, StreamWindowPlan):
            g = st.geometry
            slot = g.trigger((need - 1) // g.out[1], (need - 1) % g.out[1])
            need = min(slot, g.n_pixels - 1) + 1
    return need


def run_stream_regression(
    spec: ModelSpec,
    design: DesignFiles,
    *,
    work_dir: Path,
    simulator: str,
    images: int,
    seed: int,
    waves: bool,
    data: np.ndarray | None = None,
    vectors: StreamVectorSet | None = None,
    gap_probability: float = 0.3,
    optimize: bool = False,
    corners: bool = True,
) -> SimResult:
    """Stream ``images`` random images (plus corner and border images when ``corners``, plus
    ``data``) through ``design`` in cocotb on ``simulator``; see :mod:`sim.tb_stream`."""
    from sim.runner import SimResult, collect_reports, run_cocotb

    plan = stream_plan_of(spec, design)
    if vectors is None:
        vectors = build_stream_vectors(spec, images=images, seed=seed, corners=corners, data=data)
    inputs_dir = Path(work_dir).resolve() / f"inputs-{simulator}"
    inputs_dir.mkdir(parents=True, exist_ok=True)
    spec_path = save(spec, inputs_dir / "spec.json")
    vectors.write(inputs_dir / "vectors.json", plan.pixel_layout)
    report_path = inputs_dir / "tb_report.json"
    report_path.unlink(missing_ok=True)
    ref_type = infer_types(spec)[spec.output.name]
    config = {
        "spec": str(spec_path),
        "vectors": str(inputs_dir / "vectors.json"),
        "out_fields": [[f.offset, f.width, f.signed] for f in plan.out_layout.fields],
        "f_hw": [int(f) for f in plan.out_type.f.ravel()],
        "f_ref": [int(f) for f in ref_type.f.ravel()],
        "out_shape": list(ref_type.shape),
        "latency": design.latency,
        "needed_pixels": needed_pixels(plan),
        "seed": seed,
        "report": str(report_path),
        "gap_probability": gap_probability,
    }
    run = run_cocotb(
        design,
        STREAM_TEST_MODULE,
        config,
        work_dir=work_dir,
        simulator=simulator,
        seed=seed,
        waves=waves,
        optimize=optimize,
    )
    result = SimResult(
        simulator,
        spec.name,
        seed,
        len(vectors),
        design.latency,
        tests=run.tests,
        failures=run.failures,
        build_seconds=run.build_seconds,
        log=run.log,
        expected_tests=STREAM_TESTS,
        sample_kind="images",
    )
    return collect_reports(result, run, report_path, STREAM_TESTS, waves=waves)
