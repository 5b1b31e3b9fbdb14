"""``hgq sweep`` on Ray gives the serial digits benchmark's results bit for bit.

The serial side is ``benchmarks/digits/sweep.py`` (its ``main`` once per seed, as the script
takes one ``--seed``, in a child process that runs while Ray does); the Ray side is ``hgq
sweep`` (the command, in this process, on the 2-CPU local Ray of ``ray_session``) on a config
written here from ``benchmarks/digits/sweep.toml``'s ``[defaults]`` with the same tiny settings
(a 64-8-10 MLP, 2 epochs, batch 64, no XLA) and ``[grid] seed`` over the same seeds, through
train, export and gen (the script's stages for ``--synth none``). The serial side runs
TensorFlow with its default thread pools, two points in one process; the Ray side one thread
per task, one point per worker. The slow test does the same on a two-node
``ray.cluster_utils.Cluster`` through ``--address`` and checks the points ran on both nodes.

Equal means: the same point ids (the same settings), byte-identical ``spec.json`` and Verilog,
the same training history and the same stage results (Keras and spec test accuracy, training
and exact EBOPs, adders, latency, ...) with ``==`` on the floats, no tolerance.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
SEEDS = (0, 1)
BETA = "1e-5"
EPOCHS = 2
STAGES = ("train", "export", "gen")
"""The stages ``benchmarks/digits/sweep.py`` runs for a constant beta with ``--synth none``."""
HEADLINE = ("accuracy", "ebops", "adders", "latency")
"""The ``sweep.json`` / ``results.json`` columns compared (and printed) per point."""


SERIAL = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("digits_sweep", sys.argv[1])
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)
sweep = script._load_sweep()
for argv in json.loads(sys.argv[2]):
    print("serial: benchmarks/digits/sweep.py", " ".join(argv), flush=True)
    if sweep.main(argv, dataset="digits"):
        sys.exit(1)
"""
"""``benchmarks/digits/sweep.py``'s ``main`` once per argv, one after another in one process
(what the script's ``__main__`` runs, without a second TensorFlow start-up per seed)."""


def _start_serial(tmp: Path, model: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """The serial benchmark once per seed, in a child process (it runs while Ray does);
    the process and its log."""
    runs = []
    for seed in SEEDS:
        work = tmp / f"serial-s{seed}"
        argv = ["--model", str(model), "--epochs", str(EPOCHS), "--batch-size", "64", "--no-jit"]
        argv += ["--betas", BETA, "--seed", str(seed), "--synth", "none"]
        runs.append([*argv, "--work", str(work), "--out", str(work / "RESULTS.md")])
    log = tmp / "serial.log"
    script = ROOT / "benchmarks" / "digits" / "sweep.py"
    with log.open("wb") as fh:
        child = subprocess.Popen(
            [sys.executable, "-c", SERIAL, str(script), json.dumps(runs)],
            cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return child, log


def _serial_rows(tmp: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Point id -> (its folder, its ``results.json`` row) of every serial run."""
    rows: dict[str, tuple[Path, dict[str, Any]]] = {}
    for seed in SEEDS:
        work = tmp / f"serial-s{seed}"
        (row,) = json.loads((work / "results.json").read_text(encoding="utf-8"))["points"]
        rows[row["point"]] = (work / row["tag"], row)
    return rows


def _write_config(tmp: Path, model: Path) -> Path:
    """The ``hgq sweep`` config of the same points: the benchmark config's ``[defaults]`` with
    the serial run's options over them, one point per seed."""
    with (ROOT / "benchmarks" / "digits" / "sweep.toml").open("rb") as fh:
        defaults = tomllib.load(fh)["defaults"]
    defaults.update(model=str(model), epochs=EPOCHS, batch_size=64, jit=False)
    lines = ["[sweep]", 'name = "digits-same"', f"stages = {json.dumps(list(STAGES))}"]
    lines += ["", "[defaults]", *(f"{k} = {json.dumps(v)}" for k, v in defaults.items())]
    lines += ["", "[grid]", f"beta = [{json.dumps(BETA)}]", f"seed = {json.dumps(list(SEEDS))}"]
    path = tmp / "digits_same.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _markers(folder: Path) -> dict[str, dict[str, Any]]:
    return {
        s: json.loads((folder / "stages" / f"{s}.json").read_text(encoding="utf-8")) for s in STAGES
    }


class SerialRun:
    """The serial benchmark running in a child process; :meth:`rows` waits for it."""

    def __init__(self, tmp: Path, model: Path) -> None:
        self.tmp = tmp
        self.child, self.log = _start_serial(tmp, model)
        self._rows: dict[str, tuple[Path, dict[str, Any]]] | None = None

    def rows(self) -> dict[str, tuple[Path, dict[str, Any]]]:
        """Point id -> (its folder, its ``results.json`` row), once the child is done."""
        if self._rows is None:
            rc = self.child.wait(timeout=600)
            assert rc == 0, self.log.read_text(encoding="utf-8")[-3000:]
            self._rows = _serial_rows(self.tmp)
        return self._rows


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A folder with the tiny model and the ``hgq sweep`` config; (folder, config)."""
    folder = tmp_path_factory.mktemp("same")
    model = folder / "tiny.toml"
    model.write_text("hidden = [8]\n", encoding="utf-8")
    print("seeds", SEEDS, "beta", BETA, "epochs", EPOCHS)
    return folder, _write_config(folder, model)


@pytest.fixture(scope="module")
def serial(base: tuple[Path, Path]) -> Any:
    """The serial benchmark on the same points, started now, running next to the Ray side."""
    run = SerialRun(base[0], base[0] / "tiny.toml")
    yield run
    run.child.kill()
    run.child.wait()


def _assert_same(out: Path, serial: SerialRun) -> list[dict[str, Any]]:
    """The ``hgq sweep`` run in ``out`` has the serial run's points and results, exactly;
    its ``sweep.json`` rows."""
    swept = json.loads((out / "sweep.json").read_text(encoding="utf-8"))["points"]
    rows = serial.rows()
    assert {p["id"] for p in swept} == set(rows), "the same settings must give the same ids"
    specs = set()
    for row in swept:
        ours, (theirs, serial_row) = out / "points" / row["id"], rows[row["id"]]
        print(row["id"], {k: row[k] for k in HEADLINE})
        spec = (ours / "spec.json").read_bytes()
        assert spec == (theirs / "spec.json").read_bytes(), f"{row['id']}: specs differ"
        specs.add(spec)
        (verilog,) = (theirs / "gen").glob("*.v")
        assert (ours / "gen" / verilog.name).read_bytes() == verilog.read_bytes()
        history = [json.loads((f / "train" / "history.json").read_text()) for f in (ours, theirs)]
        assert history[0] == history[1], f"{row['id']}: training histories differ"
        ray_markers, serial_markers = _markers(ours), _markers(theirs)
        for stage in STAGES:
            assert ray_markers[stage]["result"] == serial_markers[stage]["result"], stage
            assert ray_markers[stage]["node"] is not None, f"{stage} did not run on a Ray node"
            assert ray_markers[stage]["pid"] not in (os.getpid(), serial.child.pid)
            assert serial_markers[stage]["pid"] == serial.child.pid
        assert {k: row[k] for k in HEADLINE} == {k: serial_row[k] for k in HEADLINE}
    assert len(specs) == len(SEEDS), "the seeds must give different models"
    return swept


def test_hgq_sweep_on_ray_gives_the_serial_digits_benchmarks_results(
    ray_session: Any, base: tuple[Path, Path], serial: SerialRun
) -> None:
    from hgqflow.cli import main as hgq

    folder, config = base
    out = folder / "ray"
    assert hgq(["sweep", str(config), "--out", str(out), "--max-parallel", "2"]) == 0
    _assert_same(out, serial)


CLUSTER = """
import sys
from ray.cluster_utils import Cluster
from hgqflow.cli import main
cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
cluster.add_node(num_cpus=1)
cluster.wait_for_nodes()
print("cluster", cluster.address, flush=True)
try:
    rc = main(["sweep", sys.argv[1], "--out", sys.argv[2], "--address", cluster.address,
               "--max-parallel", "2"])
finally:
    cluster.shutdown()
sys.exit(rc)
"""
"""``hgq sweep --address`` on a ``ray.cluster_utils.Cluster`` of two 1-CPU nodes (two raylets
on this machine), as on a cluster a user started."""


@pytest.mark.slow
def test_hgq_sweep_on_a_two_node_cluster_gives_the_same_results(
    base: tuple[Path, Path], serial: SerialRun
) -> None:
    """Two 1-CPU nodes and two points in flight: the two trainings run on different nodes,
    and every result equals the serial benchmark's. The cluster runs in a child process with
    its own ``RAY_TMPDIR`` (a ``Cluster`` writes the address file that a plain
    ``ray.init()`` on this machine would connect to)."""
    folder, config = base
    out = folder / "cluster"
    ray_tmp = Path(tempfile.mkdtemp(prefix="hgqray"))  # short: Ray's socket paths live in it
    try:
        done = subprocess.run(
            [sys.executable, "-c", CLUSTER, str(config), str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=600,
            env={**os.environ, "RAY_TMPDIR": str(ray_tmp)},
        )  # fmt: skip
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    swept = _assert_same(out, serial)
    nodes = {}
    for row in swept:
        point = json.loads((out / "points" / row["id"] / "point.json").read_text())
        print(row["id"], "nodes", point["nodes"])
        assert set(point["nodes"]) == set(STAGES) and None not in point["nodes"].values()
        nodes[row["id"]] = point["nodes"]["train"]
    assert len(set(nodes.values())) == 2, f"both trainings ran on one node: {nodes}"
