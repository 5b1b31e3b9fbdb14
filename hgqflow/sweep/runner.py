"""Run a sweep: every point's stages as tasks, resumable, retried once, cancellable.

Layout of the output folder ``DIR`` (``storage``: where workers write, default ``DIR``)::

    DIR/points/<id>/           a finished point (stages' outputs, logs/, stages/, point.json)
    STORAGE/points/.<id>.partial/  a point being built (or failed, or killed): renamed to
                               <id> when its last stage is done (copied to DIR when STORAGE
                               is elsewhere)
    DIR/sweep.json, DIR/report.md, DIR/plots/   (:mod:`hgqflow.sweep.report`)

Each point's next stage is submitted when its previous one finishes, and at most
``max_parallel`` points (default: the cluster's CPUs) are in flight, so the synthesis of a
finished point runs next to the training of another instead of queueing behind every training.
A stage that fails (an exception, or its worker killed) is run again ``retries`` times
(default once); a point that still fails is reported with its error and its log, never dropped.
Ctrl-C cancels the running tasks and writes ``sweep.json``; every finished point stays usable.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hgq_hw import atomic
from hgqflow.sweep.config import SweepConfig
from hgqflow.sweep.points import Point, expand_points
from hgqflow.sweep.resume import drop_markers_from, first_stage_to_run
from hgqflow.sweep.stages import log_path, read_marker

__all__ = ["PointRun", "SweepResult", "run_sweep"]

Event = Callable[[str, "PointRun", str | None], None]
"""``on_event(kind, point_run, stage)``: kind is ``stage-done``, ``stage-failed``,
``point-done`` or ``point-failed``. It may raise ``KeyboardInterrupt`` (as Ctrl-C would)."""


@dataclass
class PointRun:
    """The state of one point in this run."""

    point: Point
    work: Path
    final: Path
    stages: tuple[str, ...]
    next_stage: int = 0
    status: str = "pending"
    """pending, running, done (this run), resumed (done before), failed, interrupted"""
    failures: int = 0
    error: str | None = None
    log: str | None = None
    results: dict[str, Any] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    """Stages this run executed (a resumed point's list is empty)."""
    retried_after: list[str] = field(default_factory=list)
    """The error of every failed attempt that was retried (kept when the retry succeeds)."""

    @property
    def id(self) -> str:
        return self.point.id


@dataclass
class SweepResult:
    """What :func:`run_sweep` did; ``interrupted`` when Ctrl-C stopped it."""

    config: SweepConfig
    out: Path
    runs: list[PointRun]
    seconds: float
    interrupted: bool = False

    @property
    def failed(self) -> list[PointRun]:
        return [r for r in self.runs if r.status == "failed"]


def _describe(err: BaseException) -> str:
    """One line for a failed stage: the stage's own exception when Ray wrapped it."""
    from hgq_hw.errors import describe

    cause = getattr(err, "cause", None)
    if isinstance(cause, BaseException):
        err = cause
    text = describe(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _prepare(point: Point, config: SweepConfig, out: Path, root: Path) -> PointRun:
    """Where the point stands: finished and verified (resumed), or the stage to start from."""
    final, work = out / "points" / point.id, root / "points" / f".{point.id}.partial"
    run = PointRun(point, work, final, config.stages)
    if final.is_dir():
        first, _ = first_stage_to_run(final, config.stages)
        if first == len(config.stages):
            run.status, run.work = "resumed", final
            run.results = {s: read_marker(final, s) for s in config.stages}
            return run
        if work.exists():
            shutil.rmtree(work)
        work.parent.mkdir(parents=True, exist_ok=True)
        if root == out:
            os.replace(final, work)  # back under its temporary name until it verifies again
        else:
            shutil.copytree(final, work)
            shutil.rmtree(final)
    work.mkdir(parents=True, exist_ok=True)
    first, _ = first_stage_to_run(work, config.stages)
    drop_markers_from(work, config.stages, first)
    run.next_stage = first
    run.results = {s: read_marker(work, s) for s in config.stages[:first]}
    return run


def _finish(run: PointRun, out: Path, root: Path) -> None:
    """Write ``point.json`` (settings, stages, and per stage the host and Ray node that ran
    it, None outside Ray) and move the folder into place (atomically, by a rename)."""
    markers = {s: run.results.get(s) or {} for s in run.stages}
    atomic.write_json(
        run.work / "point.json",
        {
            "id": run.id,
            "settings": run.point.settings,
            "stages": list(run.stages),
            "hosts": {s: m.get("host") for s, m in markers.items()},
            "nodes": {s: m.get("node") for s, m in markers.items()},
        },
        indent=1,
    )
    done = root / "points" / run.id
    if done.exists():
        shutil.rmtree(done)
    os.replace(run.work, done)
    atomic.fsync_directory(done.parent)
    if root != out:  # shared storage elsewhere: copy under a temporary name, then rename
        temp = out / "points" / f".{run.id}.copy"
        if temp.exists():
            shutil.rmtree(temp)
        shutil.copytree(done, temp)
        if run.final.exists():
            shutil.rmtree(run.final)
        os.replace(temp, run.final)
    run.work = run.final
    run.status = "done"


def _progress(total: int, enabled: bool, name: str) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total, unit="stage", desc=f"sweep {name}", disable=not enabled, file=sys.stderr
    )


def run_sweep(
    config: SweepConfig,
    out: str | os.PathLike[str],
    *,
    address: str | None = None,
    max_parallel: int | None = None,
    storage: str | os.PathLike[str] | None = None,
    num_cpus: int | None = None,
    serial: bool = False,
    progress: bool = True,
    on_event: Event | None = None,
    command: str | None = None,
) -> SweepResult:
    """Run ``config``'s points into ``out`` (see the module docstring) and write the report.

    ``serial``: no Ray, every stage in this process in order. Otherwise a local Ray with
    ``num_cpus`` CPUs (default: all) when ``address`` is None, else the cluster at
    ``address``; a Ray this process already joined is used as it is. ``KeyboardInterrupt``
    propagates after the running tasks are cancelled and ``sweep.json`` is written."""
    from hgqflow.sweep.executors import RayExecutor, SerialExecutor
    from hgqflow.sweep.report import write_report

    out = Path(out).resolve()
    root = Path(storage).resolve() if storage else out
    start = time.perf_counter()
    points = expand_points(config)
    (out / "points").mkdir(parents=True, exist_ok=True)
    (root / "points").mkdir(parents=True, exist_ok=True)
    runs = [_prepare(p, config, out, root) for p in points]
    for run in runs:  # every stage done, killed before its rename: finish it now
        if run.status == "pending" and run.next_stage == len(run.stages):
            _finish(run, out, root)
            run.status = "resumed"
    todo = [r for r in runs if r.status != "resumed"]
    executor: Any = (
        SerialExecutor()
        if serial
        else RayExecutor(config.resources, address=address, num_cpus=num_cpus)
    )
    limit = max_parallel or executor.capacity()
    total = sum(len(r.stages) - r.next_stage for r in todo)
    bar = _progress(total, progress, config.name)
    finished = len(runs) - len(todo)
    in_flight: dict[Any, tuple[PointRun, str]] = {}
    waiting = list(todo)
    interrupted = False

    def emit(kind: str, run: PointRun, stage: str | None) -> None:
        if on_event is not None:
            on_event(kind, run, stage)

    def submit(run: PointRun) -> None:
        stage = run.stages[run.next_stage]
        run.status = "running"
        in_flight[executor.submit(stage, run.point, run.work)] = (run, stage)

    try:
        bar.set_postfix_str(f"points {finished}/{len(runs)}")
        while waiting or in_flight:
            while waiting and len({r.id for r, _ in in_flight.values()}) < limit:
                submit(waiting.pop(0))
            for handle, outcome in executor.wait(list(in_flight)):
                run, stage = in_flight.pop(handle)
                if isinstance(outcome, BaseException):
                    run.failures += 1
                    run.error = f"{stage}: {_describe(outcome)}"
                    run.log = str(log_path(run.work, stage))
                    emit("stage-failed", run, stage)
                    if run.failures <= config.retries:
                        run.retried_after.append(run.error)
                        submit(run)  # the stage starts again from scratch
                    else:
                        run.status = "failed"
                        finished += 1
                        emit("point-failed", run, stage)
                    continue
                run.results[stage] = outcome
                run.ran.append(stage)
                run.next_stage += 1
                bar.update(1)
                emit("stage-done", run, stage)
                if run.next_stage < len(run.stages):
                    submit(run)
                    continue
                run.error = run.log = None
                _finish(run, out, root)
                finished += 1
                bar.set_postfix_str(f"points {finished}/{len(runs)}")
                write_report(
                    SweepResult(config, out, runs, time.perf_counter() - start),
                    command=command,
                    plots=False,
                )
                emit("point-done", run, stage)
    except KeyboardInterrupt:
        interrupted = True
        executor.cancel(list(in_flight))
        for run, _ in in_flight.values():
            run.status = "interrupted"
        for run in waiting:
            run.status = "interrupted"
    finally:
        bar.close()
        executor.close()
    result = SweepResult(config, out, runs, time.perf_counter() - start, interrupted)
    write_report(result, command=command, plots=not interrupted)
    if interrupted:
        raise KeyboardInterrupt
    return result
