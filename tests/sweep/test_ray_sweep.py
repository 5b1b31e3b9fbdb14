"""``hgq sweep`` on a local Ray with 2 CPUs: a 4-point sweep, resume, the same results as a
serial run, a worker killed mid-stage, Ctrl-C and the rerun, a point that keeps failing.

Tiny settings (a 64-8-10 MLP, 2 epochs, Icarus with 10 random vectors, no synthesis) and
``deterministic = true``: TensorFlow's op determinism makes training bit-reproducible on CPU,
so a Ray run and a serial run give byte-identical specs and Verilog. One Ray session serves
every test of ``tests/sweep`` (``ray_session`` in its conftest).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hgqflow.sweep.config import parse_config
from hgqflow.sweep.points import expand_points
from hgqflow.sweep.runner import PointRun, run_sweep

ROOT = Path(__file__).resolve().parents[2]
STAGES = ["train", "export", "gen", "sim"]
TINY = {
    "model": "tiny.toml",
    "epochs": 2,
    "batch_size": 64,
    "jit": False,
    "deterministic": True,
    "simulator": "icarus",
    "samples": 10,
}

pytestmark = [
    pytest.mark.sim,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("iverilog") is None, reason="needs Icarus (iverilog)"),
]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "tiny.toml").write_text("hidden = [8]\n", encoding="utf-8")
    (folder / "bad.toml").write_text('hidden = "eight"\n', encoding="utf-8")
    return folder


def _config(base: Path, grid: dict[str, list[Any]], name: str, **defaults: Any) -> Any:
    raw = {"sweep": {"name": name, "stages": STAGES}, "defaults": {**TINY, **defaults}}
    return parse_config({**raw, "grid": grid}, base / f"{name}.toml")


def _summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "sweep.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def four_points(ray_session: Any, base: Path) -> tuple[Any, Path, Any]:
    config = _config(base, {"beta": ["1e-5", "1e-3"], "seed": [0, 1]}, "four")
    out = base / "four"
    return config, out, run_sweep(config, out, progress=False)


def test_four_point_sweep_writes_every_point_and_the_report(four_points: Any) -> None:
    from hgq_hw.reference import predict
    from hgq_hw.spec import load
    from hgq_train.data import load_dataset

    config, out, result = four_points
    assert [r.status for r in result.runs] == ["done"] * 4
    assert not list((out / "points").glob(".*")), "a temporary point folder was left"
    summary = _summary(out)
    assert summary["counts"] == {"done": 4}
    assert {p["id"] for p in summary["points"]} == {p.id for p in expand_points(config)}
    for row in summary["points"]:
        folder = out / "points" / row["id"]
        assert json.loads((folder / "point.json").read_text())["id"] == row["id"]
        assert row["stages_run"] == STAGES and row["failures"] == 0
        assert row["mismatches"] == 0
        for stage in STAGES:
            marker = json.loads((folder / "stages" / f"{stage}.json").read_text())
            assert marker["pid"] != os.getpid(), f"{stage} ran in the driver, not a Ray worker"
            assert (folder / "logs" / f"{stage}.log").read_text().startswith(f"== {stage} of ")
        spec = load(folder / "spec.json")  # the accuracy in sweep.json is the spec's, exactly
        data = load_dataset("digits", seed=row["settings"]["seed"])
        accuracy = float(np.mean(np.argmax(predict(spec, data.x_test), axis=1) == data.y_test))
        print(row["id"], accuracy, row["ebops"])
        assert row["accuracy"] == accuracy
        gen = json.loads((folder / "gen" / "report.json").read_text())
        assert (row["latency"], row["adders"]) == (gen["latency"], gen["adders"])
        assert row["commands"][0].startswith("hgq train --dataset digits")
    assert summary["fronts"]["ebops"] and set(summary["fronts"]["ebops"]) <= {
        p["id"] for p in summary["points"]
    }
    assert [g["seeds"] for g in summary["seed_spread"]] == [[0, 1], [0, 1]]
    assert summary["plots"] == ["plots/accuracy_vs_ebops.png", "plots/seed_spread.png"]
    assert all((out / p).stat().st_size > 1000 for p in summary["plots"])
    report = (out / "report.md").read_text()
    assert "## Pareto front" in report and "hgq export" in report


def test_rerun_keeps_every_verified_point(four_points: Any) -> None:
    config, out, _ = four_points
    specs = {p: (p / "spec.json").stat().st_mtime_ns for p in (out / "points").iterdir()}
    again = run_sweep(config, out, progress=False)
    assert [(r.status, r.ran) for r in again.runs] == [("resumed", [])] * 4
    assert {p: (p / "spec.json").stat().st_mtime_ns for p in specs} == specs


def test_a_point_that_no_longer_verifies_is_redone_from_that_stage(four_points: Any) -> None:
    config, out, _ = four_points
    point = expand_points(config)[0]
    marker = out / "points" / point.id / "stages" / "sim.json"
    data = json.loads(marker.read_text())
    data["result"]["mismatches"] = 3  # as if the simulation had failed
    marker.write_text(json.dumps(data))
    again = run_sweep(config, out, progress=False)
    assert [r.ran for r in again.runs] == [["sim"], [], [], []]
    assert (
        again.runs[0].status == "done" and again.runs[0].results["sim"]["result"]["mismatches"] == 0
    )


def test_a_point_killed_between_its_last_stage_and_its_rename_is_finished(
    four_points: Any,
) -> None:
    config, out, _ = four_points
    point = expand_points(config)[1]
    folder = out / "points" / point.id
    (folder / "point.json").unlink()
    folder.rename(out / "points" / f".{point.id}.partial")
    again = run_sweep(config, out, progress=False)
    assert [(r.status, r.ran) for r in again.runs] == [("resumed", [])] * 4
    assert (folder / "point.json").is_file() and (folder / "spec.json").is_file()


def test_ray_results_equal_a_serial_run_for_the_same_seeds(four_points: Any, base: Path) -> None:
    """The serial run (``hgq sweep --serial``, no Ray) of two of the points, in a fresh
    process: byte-identical specs and Verilog, the same metrics."""
    _, out, _ = four_points
    serial_config = base / "serial.toml"
    lines = ["[sweep]", f"stages = {STAGES!r}".replace("'", '"'), "[defaults]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in TINY.items()]
    lines += ["[grid]", 'beta = ["1e-5"]', "seed = [0, 1]"]
    serial_config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    serial_out = base / "serial"
    done = subprocess.run(
        [sys.executable, "-m", "hgqflow", "sweep", str(serial_config), "--out", str(serial_out),
         "--serial"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    ray_rows = {p["id"]: p for p in _summary(out)["points"]}
    serial_rows = _summary(serial_out)["points"]
    assert len(serial_rows) == 2
    for row in serial_rows:
        assert row["id"] in ray_rows, "the same settings must give the same point id"
        a, b = serial_out / "points" / row["id"], out / "points" / row["id"]
        assert (a / "spec.json").read_bytes() == (b / "spec.json").read_bytes()
        (verilog,) = (a / "gen").glob("*.v")
        assert verilog.read_bytes() == (b / "gen" / verilog.name).read_bytes()
        keys = ("accuracy", "ebops", "latency", "adders", "mismatches")
        assert {k: row[k] for k in keys} == {k: ray_rows[row["id"]][k] for k in keys}


def _kill_first_training(root: Path, killed: list[int], stop: threading.Event) -> None:
    """Kill (SIGKILL) the Ray worker of the first training that starts under ``root``."""
    while not stop.is_set() and not killed:
        for log in root.glob("points/.*.partial/logs/train.log"):
            header = log.read_text(encoding="utf-8").split("\n", 1)[0]
            if ": pid " in header:
                pid = int(header.split(": pid ")[1].split(",")[0])
                assert pid != os.getpid()
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
        time.sleep(0.02)


def test_a_killed_worker_is_retried_and_the_point_completes(ray_session: Any, base: Path) -> None:
    config = _config(base, {"seed": [3, 4]}, "killed", beta="1e-4")
    out = base / "killed"
    killed: list[int] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_kill_first_training, args=(out, killed, stop))
    watcher.start()
    try:
        result = run_sweep(config, out, progress=False)
    finally:
        stop.set()
        watcher.join()
    assert len(killed) == 1, "no training was seen starting"
    assert [r.status for r in result.runs] == ["done", "done"]
    (victim,) = [r for r in result.runs if r.failures == 1]
    (row,) = [p for p in _summary(out)["points"] if p["id"] == victim.id]
    assert row["error"] is None and len(row["retried_after"]) == 1
    print("the killed attempt:", row["retried_after"][0])
    assert row["retried_after"][0].startswith("train: ")
    assert "Worker" in row["retried_after"][0] or "died" in row["retried_after"][0]
    log = (out / "points" / victim.id / "logs" / "train.log").read_text()
    pids = [int(line.split(": pid ")[1].split(",")[0]) for line in log.splitlines()
            if line.startswith("== train of ")]  # fmt: skip
    assert pids[0] == killed[0] and len(pids) == 2 and pids[1] != killed[0]
    assert all(r.failures == 0 for r in result.runs if r is not victim)


def test_ctrl_c_leaves_finished_points_and_the_rerun_does_only_the_rest(
    ray_session: Any, base: Path
) -> None:
    config = _config(base, {"seed": [5, 6]}, "interrupted", beta="1e-4")
    out = base / "interrupted"

    def interrupt(kind: str, run: PointRun, stage: str | None) -> None:
        if kind == "point-done":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(config, out, progress=False, on_event=interrupt)
    summary = _summary(out)
    assert summary["interrupted"] and summary["counts"] == {"done": 1, "interrupted": 1}
    (finished,) = [p["id"] for p in summary["points"] if p["status"] == "done"]
    assert (out / "points" / finished / "point.json").is_file()
    partial = {
        p["id"]: out / "points" / f".{p['id']}.partial" / "stages" for p in summary["points"]
    }
    kept = {pid: sorted(m.stem for m in folder.glob("*.json")) for pid, folder in partial.items()}
    print("stages kept by the interrupted points:", kept)
    again = run_sweep(config, out, progress=False)
    by_id = {r.id: r for r in again.runs}
    assert (by_id[finished].status, by_id[finished].ran) == ("resumed", [])
    for run in again.runs:
        if run.id != finished:
            assert run.status == "done"
            assert run.ran == [s for s in STAGES if s not in kept.get(run.id, [])]
    assert _summary(out)["counts"] == {"resumed": 1, "done": 1}


def test_a_point_that_keeps_failing_is_reported_with_its_error_and_log(
    ray_session: Any, base: Path
) -> None:
    config = _config(base, {"seed": [0]}, "failing", model="bad.toml")
    out = base / "failing"
    result = run_sweep(config, out, progress=False)
    (run,) = result.runs
    assert (run.status, run.failures) == ("failed", 2)  # tried, retried once, reported
    (row,) = _summary(out)["points"]
    assert row["status"] == "failed" and row["error"].startswith("train: ")
    assert "hidden" in row["error"], row["error"]
    log = Path(row["log"]).read_text()
    assert log.count("== train of ") == 2 and "Traceback" in log
    assert row["log"] in (out / "report.md").read_text()


def test_points_built_on_storage_are_copied_to_the_output(ray_session: Any, base: Path) -> None:
    raw = {"sweep": {"stages": ["train"]}, "defaults": {**TINY, "epochs": 1}}
    config = parse_config(raw, base / "storage.toml")
    out, storage = base / "storage-out", base / "storage-shared"
    (run,) = run_sweep(config, out, storage=storage, progress=False).runs
    assert run.status == "done"
    for root in (out, storage):
        assert (root / "points" / run.id / "train" / "model.keras").is_file()
        assert not list((root / "points").glob(".*")), f"a temporary folder was left in {root}"
    assert Path(_summary(out)["points"][0]["folder"]) == out / "points" / run.id


def test_a_request_larger_than_the_cluster_is_refused(ray_session: Any, base: Path) -> None:
    raw = {"sweep": {"stages": ["train"], "resources": {"train": {"num_cpus": 64}}}}
    config = parse_config(raw, base / "big.toml")
    with pytest.raises(ValueError, match=r"\[sweep.resources.train\] asks for 64 CPUs"):
        run_sweep(config, base / "big", progress=False)
