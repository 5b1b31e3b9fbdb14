"""Simulate a top wrapper in cocotb (:mod:`boards.tb_uart_top`, :mod:`boards.tb_selftest_top`).

:func:`simulate_top` writes the top's Verilog and the testbench config (vectors and expected
answers from :mod:`hgq_hw.reference`) and runs :func:`sim.runner.run_cocotb`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hgq_hw import atomic
from hgq_hw.spec import ModelSpec

__all__ = ["TopSimResult", "simulate_top"]

TESTBENCHES = {"uart": "boards.tb_uart_top", "selftest": "boards.tb_selftest_top"}
EXPECTED_TESTS = {"uart": 2, "selftest": 1}


@dataclass
class TopSimResult:
    """Test counts of one cocotb run of a top, and the testbench's report."""

    kind: str
    simulator: str
    tests: int
    failures: int
    report: dict[str, Any]
    log: Path
    build_seconds: float
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and self.failures == 0 and self.tests == EXPECTED_TESTS[self.kind]

    def summary(self) -> str:
        state = "PASS" if self.passed else "FAIL"
        extra = f" ({self.error})" if self.error else ""
        return (
            f"{self.kind} top on {self.simulator}: {self.tests - self.failures}/{self.tests} "
            f"cocotb tests passed{extra}; log {self.log}: {state}"
        )


def _uart_config(spec: ModelSpec, top: Any, samples: int, seed: int) -> dict[str, Any]:
    from boards.protocol import argmax_exact
    from boards.selftest_top import selftest_vectors
    from hgq_hw.reference import evaluate, infer_types

    vectors = selftest_vectors(spec, samples, seed=seed)
    out_type = infer_types(spec)[spec.output.name]
    y_raw = top.network.out_layout.unpack(vectors.expected)
    # The ROM words came from the reference; re-evaluate to get the argmax per sample.
    x_raw = top.network.in_layout.unpack(vectors.inputs)
    if not np.array_equal(np.asarray(evaluate(spec, x_raw), dtype=object), y_raw):
        raise AssertionError("reference vectors do not round-trip through the bus layout")
    return {
        "in_width": top.in_width,
        "out_width": top.out_width,
        "inputs": [str(w) for w in vectors.inputs],
        "expected": [str(w) for w in vectors.expected],
        "argmax": [argmax_exact(row, out_type) for row in y_raw],
    }


def _stream_uart_config(spec: ModelSpec, top: Any, samples: int, seed: int) -> dict[str, Any]:
    import boards.protocol as protocol
    from boards.selftest_top import stream_selftest_vectors

    vectors = stream_selftest_vectors(spec, samples, seed=seed, plan=top.plan)
    y_raw = top.network.out_layout.unpack(vectors.expected)
    n = top.n_pixels
    frames = [
        protocol.encode_image_request(vectors.inputs[k * n : (k + 1) * n], top.in_width).hex()
        for k in range(len(vectors))
    ]
    return {
        "in_width": top.in_width,
        "out_width": top.out_width,
        "frames": frames,
        "expected": [str(w) for w in vectors.expected],
        "argmax": [protocol.argmax_exact(row, top.network.out_type) for row in y_raw],
        "sources": vectors.sources,
    }


def simulate_top(
    kind: str,
    spec: ModelSpec,
    *,
    work_dir: str | Path,
    simulator: str = "icarus",
    samples: int = 24,
    seed: int = 0,
    divisor: int = 4,
    report_period: int = 1500,
    corrupt: int | None = None,
    pipeline_levels: int = 0,
    io: str = "parallel",
) -> TopSimResult:
    """Build the ``kind`` top of ``spec`` with ``divisor`` cycles per UART bit and run its
    cocotb testbench. ``samples`` frames (uart) or ROM vectors (selftest); ``corrupt`` (selftest
    only) spoils that expected ROM entry, and the testbench then expects FAIL. ``io="stream"``:
    the stream-mode tops, ``samples`` images (corner, border and random ones,
    :func:`boards.selftest_top.stream_selftest_vectors`) sent pixel by pixel."""
    from boards.selftest_top import selftest_vectors, stream_selftest_vectors
    from boards.tops import make_top, top_verilog
    from sim.runner import DesignFiles, run_cocotb

    if kind not in TESTBENCHES:
        raise ValueError(f"unknown top {kind!r} (choose from {', '.join(TESTBENCHES)})")
    work = Path(work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    vectors = None
    plan = None
    if io == "stream":
        from hgq_hw.stream import plan_stream_network

        plan = plan_stream_network(spec, pipeline_levels=pipeline_levels)
    if kind == "selftest":
        if io == "stream":
            vectors = stream_selftest_vectors(spec, samples, seed=seed, plan=plan)
        else:
            vectors = selftest_vectors(spec, samples, seed=seed)
        if corrupt is not None:
            vectors = vectors.corrupt(corrupt)
    top = make_top(
        kind,
        spec,
        divisor=divisor,
        report_period=report_period,
        pipeline_levels=pipeline_levels,
        vectors=vectors,
        plan=plan,
        io=io,
    )
    name = f"{kind}_top"
    verilog = work / f"{name}.v"
    atomic.write_text(verilog, top_verilog(top, name))  # run_cocotb applies the Icarus workaround
    report_path = work / f"tb_report_{kind}_{simulator}.json"
    report_path.unlink(missing_ok=True)
    config: dict[str, Any] = {
        "divisor": divisor,
        "seed": seed,
        "latency": top.latency,
        "report": str(report_path),
    }
    if kind == "uart":
        configure = _stream_uart_config if io == "stream" else _uart_config
        config.update(configure(spec, top, samples, seed))
    else:
        assert vectors is not None
        config.update(
            feed_cycles=len(vectors.inputs),
            total=samples,
            expect_matched=samples - (corrupt is not None),
            report_period=report_period,
        )
    run = run_cocotb(
        DesignFiles(verilog, name, top.latency),
        TESTBENCHES[kind],
        config,
        work_dir=work,
        simulator=simulator,
        seed=seed,
        run_name=f"run-{kind}-{io}-{simulator}",
    )
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    return TopSimResult(
        kind, simulator, run.tests, run.failures, report, run.log, run.build_seconds, run.error
    )
