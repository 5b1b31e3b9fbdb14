"""The five stages of a sweep point as library calls (the functions ``hgq flow`` uses; nothing
here runs ``hgq`` through argv).

Every stage works in the point's folder ``WORK`` and leaves::

    WORK/train/            train   (hgq_train.run.run_training: model.keras, history.json, ...)
    WORK/spec.json         export  (hgq_train.run.export_checkpoint, proven bit-exact)
    WORK/gen/              gen     (hgq_hw.emit.generate: <name>.v, report.json)
    WORK/sim/              sim     (sim.runner.run_regression, cocotb against the reference)
    WORK/gen/report.json   synth   (hgq_hw.synth.synthesize adds synth[target])
    WORK/logs/<stage>.log  what the stage printed (first line: pid, host, time)
    WORK/stages/<stage>.json  the stage's result, written last and atomically: a stage whose
                              file exists is done, one without it is redone from scratch
                              (with the pid, host and Ray node id that ran it)

Paths inside the results are relative to ``WORK`` (the folder is renamed when the point is done).

These functions are the one training and export path of a point: ``hgq sweep`` runs them as
Ray tasks (or in process with ``--serial``) and ``benchmarks/{digits,jets}/sweep.py`` call them
in process, so a point's settings give the same spec bit for bit either way.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hgq_hw import atomic
from hgqflow.sweep.points import Point

__all__ = [
    "STAGE_FUNCTIONS",
    "export_point",
    "log_path",
    "marker_path",
    "read_marker",
    "run_stage",
    "spec_name",
]


def marker_path(work: Path, stage: str) -> Path:
    """The file that says ``stage`` of the point in ``work`` is done (its result)."""
    return Path(work) / "stages" / f"{stage}.json"


def log_path(work: Path, stage: str) -> Path:
    """Where ``stage`` of the point in ``work`` writes what it prints."""
    return Path(work) / "logs" / f"{stage}.log"


def read_marker(work: Path, stage: str) -> dict[str, Any] | None:
    """The result of a done stage, or None when it is not done (or its file is unreadable)."""
    import json

    try:
        return json.loads(marker_path(work, stage).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def spec_name(point: Point) -> str:
    """The spec's (and the Verilog top's) name: the dataset's file stem, then ``_hgq``."""
    stem = Path(str(point.settings["dataset"])).stem
    clean = "".join(c if c.isalnum() else "_" for c in stem).strip("_") or "model"
    return f"{clean if clean[0].isalpha() else 'm_' + clean}_hgq"


def _train(point: Point, work: Path, threads: int | None) -> dict[str, Any]:
    s = point.settings
    from hgq_train.run import TrainOptions, run_training
    from hgq_train.session import fresh_session, limit_threads

    limit_threads(threads)
    fresh_session()  # fresh layer names and state, as in a new process
    out = work / "train"
    if out.exists():
        shutil.rmtree(out)  # an interrupted attempt: start again, so the result is the seed's
    result = run_training(
        TrainOptions(
            out=out,
            dataset=point.path_setting("dataset") or "digits",
            data=point.path_setting("data"),
            model=point.path_setting("model"),
            epochs=s["epochs"],
            beta=s["beta"],
            seed=s["seed"],
            batch_size=s["batch_size"],
            lr=s["lr"],
            verbose=2,
            jit=s["jit"],
            cost=s["cost"],
            lr_schedule=s["lr_schedule"],
            deterministic=s["deterministic"],
        )
    )
    return {
        "epochs": result.epochs_done,
        "keras_test_accuracy": result.test_accuracy,
        "training_ebops": result.ebops,
        "jit": result.jit,
    }


def export_point(point: Point, checkpoint: Path, spec: Path) -> dict[str, Any]:
    """Export the ``.keras`` ``checkpoint`` of ``point``'s training run (its ``model.keras``, or
    one of its ``pareto/*.keras``) to ``spec`` with the point's export settings, proven
    bit-exact on the training split; returns ``ebops``, ``accuracy`` (the spec's, on the test
    split) and ``checked`` (training samples checked)."""
    from hgq_train.run import export_checkpoint

    s = point.settings
    result = export_checkpoint(
        checkpoint,
        spec,
        name=spec_name(point),
        calibration_margin_bits=s["calibration_margin_bits"],
        fold_rounding=s["fold_rounding"],
    )
    print(f"EBOPs {result.ebops:.0f}; spec test accuracy {result.test_accuracy:.4f}")
    return {
        "ebops": float(result.ebops),
        "accuracy": float(result.test_accuracy),
        "checked": int(result.checked),
    }


def _export(point: Point, work: Path, threads: int | None) -> dict[str, Any]:
    from hgq_train.session import fresh_session, limit_threads

    limit_threads(threads)
    fresh_session()
    result = export_point(point, work / "train" / "model.keras", work / "spec.json")
    return {"spec": "spec.json", **result}


def _gen(point: Point, work: Path, threads: int | None) -> dict[str, Any]:
    from hgq_hw.emit import format_report, generate
    from hgq_hw.spec import load

    out = work / "gen"
    if out.exists():
        shutil.rmtree(out)
    design = generate(
        load(work / "spec.json"), out, pipeline_levels=point.settings["pipeline_levels"]
    )
    print(format_report(design.report))
    keys = ("name", "latency", "adders", "adder_depth", "adder_bits", "registers")
    return {k: design.report[k] for k in keys if k in design.report}


def _sim(point: Point, work: Path, threads: int | None) -> dict[str, Any]:
    from hgq_hw.spec import load
    from hgq_hw.toolchain import ToolError
    from hgq_train.data import load_dataset
    from sim.design import design_from_dir
    from sim.runner import run_regression

    s = point.settings
    spec = load(work / "spec.json")
    data = load_dataset(
        point.path_setting("dataset") or "digits", point.path_setting("data"), seed=s["seed"]
    )
    result = run_regression(
        spec,
        design_from_dir(work / "gen", spec),
        work_dir=work / "sim",
        simulator=s["simulator"],
        samples=s["samples"],
        seed=s["seed"],
        data=data.x_test.reshape(len(data.x_test), -1),
    )
    print(result.summary())
    if not result.passed:
        raise ToolError(
            result.simulator,
            f"cocotb regression of {work / 'gen'} failed: {result.mismatch_count} mismatches, "
            f"{result.failures} of {result.tests} cocotb tests failed",
            log=result.log,
        )
    return {
        "simulator": result.simulator,
        "checked": result.checked,
        "mismatches": result.mismatch_count,
        "latency": result.latency,
    }


def _synth(point: Point, work: Path, threads: int | None) -> dict[str, Any]:
    from hgq_hw.synth import synthesize

    s = point.settings
    entry = synthesize(
        work / "gen",
        s["target"],
        clock_mhz=s["clock_mhz"],
        progress=lambda line: print(f"  {line}", flush=True),
    )
    print(f"{s['target']}: {entry['resources']}, Fmax {entry.get('fmax_mhz')}")
    return {"target": s["target"], **{k: v for k, v in entry.items() if k != "cells"}}


STAGE_FUNCTIONS: dict[str, Callable[[Point, Path, int | None], dict[str, Any]]] = {
    "train": _train,
    "export": _export,
    "gen": _gen,
    "sim": _sim,
    "synth": _synth,
}
"""Stage name -> ``fn(point, work, threads)`` returning the stage's result (JSON data)."""


def run_stage(
    stage: str,
    point: Point,
    work: Path,
    threads: int | None = None,
    *,
    node: str | None = None,
) -> dict[str, Any]:
    """Run ``stage`` of ``point`` in ``work`` (see the module docstring), printing into its log;
    returns the marker written (``stage``, ``seconds``, ``pid``, ``host``, ``node``: the Ray
    node id the caller ran it on, None outside Ray; ``result``). An exception propagates after
    the log has it; the marker is then not written."""
    work = Path(work)
    if stage not in STAGE_FUNCTIONS:
        raise ValueError(f"unknown stage {stage!r} (known: {list(STAGE_FUNCTIONS)})")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    marker_path(work, stage).unlink(missing_ok=True)
    log = log_path(work, stage)
    log.parent.mkdir(parents=True, exist_ok=True)
    host, pid = socket.gethostname(), os.getpid()
    start = time.perf_counter()
    with log.open("a", encoding="utf-8") as fh:
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        where = f", node {node}" if node else ""
        fh.write(f"== {stage} of {point.id}: pid {pid}, host {host}, {now}{where}\n")
        fh.flush()
        with contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
            try:
                result = STAGE_FUNCTIONS[stage](point, work, threads)
            except BaseException:
                import traceback

                traceback.print_exc(file=fh)
                raise
    marker = {
        "stage": stage,
        "seconds": round(time.perf_counter() - start, 3),
        "pid": pid,
        "host": host,
        "node": node,
        "result": result,
    }
    marker_path(work, stage).parent.mkdir(parents=True, exist_ok=True)
    atomic.write_json(marker_path(work, stage), marker, indent=1, default=str)
    return marker
