"""Every command checks its arguments and files before it imports its stage: a missing file is
one line naming it, exit status 1, with no TensorFlow, Keras, matplotlib, Amaranth or cocotb
loaded (run in a fresh interpreter, so nothing was imported before)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "specs" / "tiny.json"
HEAVY = ("tensorflow", "keras", "matplotlib", "sklearn", "amaranth", "cocotb")

PROBE = """
import contextlib, io, json, sys
from hgqflow.cli import main

err = io.StringIO()
with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
    status = main({argv!r})
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))
print(json.dumps({{"status": status, "err": err.getvalue(), "heavy": heavy}}))
"""


def _run(argv: list[str], cwd: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv, heavy=HEAVY)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "missing.keras", "-o", "s.json"], "model file missing.keras does not exist"),
        (["export", str(TINY), "-o", "s.json", "--data", "no.csv"], "data file no.csv"),
        (["train", "--out", "run", "--dataset", "no.npz"], "dataset file no.npz does not exist"),
        (["train", "--out", "run", "--epochs", "0"], "--epochs must be >= 1, got 0"),
        (["gen", "missing.json", "-o", "gen"], "missing.json: cannot read"),
        (["sim", "missing.json"], "missing.json: cannot read"),
        (["sim", str(TINY), "--design", "nodir"], "design folder nodir does not exist"),
        (["sim", str(TINY), "--data", "no.npz"], "data file no.npz does not exist"),
        (["synth", "nodir", "--target", "ice40"], "design folder nodir does not exist"),
        (["synth", ".", "--target", "ice40"], "is not an 'hgq gen' folder"),
        (["build", "missing.json", "--board", "icebreaker"], "missing.json: cannot read"),
        (["program", "nodir"], "nodir/report.json not found: run 'hgq build"),
        (["eval", "missing.json"], "missing.json: cannot read"),
        (["eval", str(TINY), "--inputs", "no.npy"], "input file no.npy does not exist"),
        (["check", "missing.json"], "missing.json: cannot read"),
        (["board-run", "--port", "p", "--spec", str(TINY), "--data", "no.csv"], "data file"),
    ],
    ids=lambda v: v[0] if isinstance(v, list) else None,
)
def test_missing_files_fail_before_heavy_imports(
    argv: list[str], message: str, tmp_path: Path
) -> None:
    result = _run(argv, tmp_path)
    assert result["status"] == 1
    lines = result["err"].strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"hgq {argv[0]}: error: "), result["err"]
    assert message in lines[0]
    assert result["heavy"] == [], f"{argv[0]} imported {result['heavy']} before its checks"


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([0, 1, 2, 50], "classes [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, ...] (47 in all) have no"),
        ([0, 1, -1, 2], "labels"),
        ([3, 3, 3, 3], "labels"),
    ],
    ids=["gap", "negative", "single-class"],
)
def test_bad_dataset_labels_fail_before_tensorflow(
    labels: list[int], message: str, tmp_path: Path
) -> None:
    """`hgq train` and `hgq flow` refuse a dataset's labels from numpy (and scikit-learn's
    split) alone: no 30 s of TensorFlow start-up first."""
    import numpy as np

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(60, 4)), y=np.array(labels * 15))
    for command in ("train", "flow"):
        result = _run([command, "--dataset", "d.npz", "--out", "run"], tmp_path)
        assert result["status"] == 1, result
        lines = result["err"].strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"hgq {command}: error: d.npz: "), lines
        assert message in lines[0]
        assert set(result["heavy"]) <= {"sklearn"}, f"{command} imported {result['heavy']}"
