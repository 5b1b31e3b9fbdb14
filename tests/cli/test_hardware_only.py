"""A hardware-only install (``hgqflow[hw,sim]``, no training extra) runs check, gen, eval and sim.

Nothing is uninstalled: a subprocess puts a ``sys.meta_path`` finder first that refuses
TensorFlow, Keras, scikit-learn, matplotlib and ``hgq_train``, as their absence would, then runs
the commands through :func:`hgqflow.cli.main` and reports which of them were imported.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.sim.conftest import require

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "specs" / "tiny.json"
HIDDEN = ("tensorflow", "keras", "sklearn", "matplotlib", "hgq_train")

PROBE = """
import contextlib, importlib.abc, io, json, sys

HIDDEN = {hidden!r}


class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {{name!r}} (hidden)", name=name)
        return None


sys.meta_path.insert(0, Hide())
from hgqflow.cli import main

results = []
for argv in {commands!r}:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    results.append({{"argv": argv, "status": status, "out": out.getvalue(), "err": err.getvalue()}})
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set(HIDDEN))
print(json.dumps({{"results": results, "loaded": loaded}}))
"""


def _run_hidden(commands: list[list[str]], cwd: Path) -> dict:
    probe = PROBE.format(hidden=HIDDEN, commands=commands)
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    for result in report["results"]:
        assert result["status"] == 0, result
    assert report["loaded"] == [], f"imported with the training extra hidden: {report['loaded']}"
    return report


def test_finder_really_hides_the_training_packages(tmp_path: Path) -> None:
    probe = PROBE.format(hidden=HIDDEN, commands=[["train", "--out", str(tmp_path / "r")]])
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (result,) = json.loads(done.stdout.strip().splitlines()[-1])["results"]
    # a missing extra is an expected failure: one line saying which module, exit status 1
    assert result["status"] == 1
    assert result["err"].startswith("hgq train: error: No module named ")
    assert "(hidden)" in result["err"] and result["err"].count("\n") == 1


def test_check_gen_eval_without_the_training_extra(tmp_path: Path) -> None:
    x = np.array([[0.5, -1.25, 0.0], [1.0, 2.0, 0.25]])
    np.savez(tmp_path / "inputs.npz", x=x)
    report = _run_hidden(
        [
            ["check", str(TINY)],
            ["gen", str(TINY), "-o", str(tmp_path / "gen"), "--pipeline-levels", "1"],
            ["eval", str(TINY), "--random", "4", "--seed", "1"],
            ["eval", str(TINY), "--inputs", str(tmp_path / "inputs.npz"), "--real"],
        ],
        ROOT,
    )
    check, gen, random_eval, data_eval = report["results"]
    assert "fc1" in check["out"] and "Requantize" in check["out"]
    assert (tmp_path / "gen" / "report.json").exists()
    assert "wrote" in gen["out"]
    assert "random raw inputs: 4 samples, seed 1" in random_eval["out"]
    assert len(data_eval["out"].strip().splitlines()) == 2  # one line of raw outputs per sample


@pytest.mark.sim
def test_sim_without_the_training_extra(tmp_path: Path) -> None:
    require("icarus")
    spec = json.loads(TINY.read_text())
    spec["metadata"] = {"dataset": "digits", "seed": 0}  # as a trained spec would name it
    named = tmp_path / "named.json"
    named.write_text(json.dumps(spec))
    np.save(tmp_path / "x.npy", np.array([[0.5, -1.25, 0.0], [3.9, 3.9, 1.9]]))
    common = ["--simulator", "icarus", "--samples", "8", "--pipeline-levels", "1"]
    report = _run_hidden(
        [
            ["sim", str(named), *common, "--work", str(tmp_path / "a")],
            ["sim", str(named), *common, "--data", str(tmp_path / "x.npy")],
        ],
        tmp_path,
    )
    no_data, with_data = report["results"]
    assert "training extra is not installed" in no_data["out"] and "--data" in no_data["out"]
    assert "training extra" not in with_data["out"]
    counts = [int(re.search(r"\((\d+) vectors;", r["out"]).group(1)) for r in (no_data, with_data)]
    assert counts[1] == counts[0] + 2  # the two rows of --data, nothing from the metadata
    assert all(re.search(r"mismatches: +0\n", r["out"]) for r in (no_data, with_data))
