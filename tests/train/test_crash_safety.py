"""Nothing is lost on a kill: the epoch commit (hgq_train.run_state) under many SIGKILLs, the
Pareto front's order of writes, and ``hgq train`` killed during its saves, then resumed and
exported (benchmarks/kill_resume.py; HGQ_KILL_TRIALS sets its trial count, more in the
benchmark itself)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hgq_hw import atomic
from hgq_train.run_state import PENDING_NAME, commit_epoch, recover_run

ROOT = Path(__file__).resolve().parents[2]
SEED = 11
COMMIT_TRIALS = 150
TRAIN_TRIALS = int(os.environ.get("HGQ_KILL_TRIALS", "16"))


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)


def test_an_epoch_commit_survives_sigkill_anywhere(tmp_path: Path) -> None:
    print(f"seed {SEED}, {COMMIT_TRIALS} trials")
    proc = _run(
        [
            sys.executable,
            "tests/train/commit_kills.py",
            str(COMMIT_TRIALS),
            str(SEED),
            str(tmp_path),
        ]
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    counts = dict(re.findall(r"(\w+) (\d+)", proc.stdout.split(":", 1)[1]))
    assert int(counts["trials"]) == COMMIT_TRIALS
    assert int(counts["killed"]) > COMMIT_TRIALS // 2  # most trials are killed mid-commit
    assert int(counts["rolled_forward_or_back"]) > 0


def _save_bytes(data: bytes):
    return lambda path: Path(path).write_bytes(data)


def test_recovery_finishes_or_drops_the_pending_model(tmp_path: Path) -> None:
    commit_epoch(tmp_path, _save_bytes(b"epoch 0"), [{"epoch": 0}], {"epochs_done": 1})
    assert recover_run(tmp_path) is None
    # killed after state.json named the new model, before the rename: finish the rename
    commit_epoch(
        tmp_path, _save_bytes(b"epoch 1"), [{"epoch": 0}, {"epoch": 1}], {"epochs_done": 2}
    )
    (tmp_path / "model.keras").rename(tmp_path / PENDING_NAME)
    (tmp_path / "model.keras").write_bytes(b"epoch 0")
    assert recover_run(tmp_path) == f"{tmp_path}: finished saving the model of epoch 2"
    assert (tmp_path / "model.keras").read_bytes() == b"epoch 1"
    # killed before the commit: the pending model is dropped, model.keras stays
    (tmp_path / PENDING_NAME).write_bytes(b"epoch 2, never committed")
    assert "dropped" in recover_run(tmp_path)
    assert (tmp_path / "model.keras").read_bytes() == b"epoch 1"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "history.json",
        "model.keras",
        "state.json",
    ]
    # a model replaced by hand is not silently resumed from
    (tmp_path / "model.keras").write_bytes(b"someone else's model")
    with pytest.raises(ValueError, match=r"model\.keras is not the model .*state\.json names"):
        recover_run(tmp_path)


class _StubModel:
    """Stands in for a Keras model: ``save`` writes the epoch it was told."""

    def __init__(self) -> None:
        self.content = b""

    def save(self, path: Path) -> None:
        assert str(path).endswith(".keras") and atomic.is_temp_name(Path(path).name)
        Path(path).write_bytes(self.content)


def test_the_pareto_front_never_names_a_missing_file(tmp_path: Path, monkeypatch) -> None:
    import hgq_train.callbacks as callbacks

    written: list[list[str]] = []
    real_write_json = callbacks.write_json

    def checked_write_json(path: Path, value: list[dict]) -> Path:
        missing = [p["file"] for p in value if not (path.parent / p["file"]).is_file()]
        assert missing == [], f"front.json would name missing files {missing}"
        written.append(sorted(p["file"] for p in value))
        return real_write_json(path, value)

    monkeypatch.setattr(callbacks, "write_json", checked_write_json)
    pareto, model = tmp_path / "pareto", _StubModel()

    def epoch(front: callbacks.ParetoFront, e: int, accuracy: float, ebops: float) -> None:
        model.content = f"epoch {e} ({accuracy}, {ebops})".encode()
        front.on_epoch_end(e, {"val_accuracy": accuracy, "ebops": ebops})

    front = callbacks.ParetoFront(pareto)
    front.set_model(model)
    epoch(front, 0, 0.5, 100.0)
    epoch(front, 1, 0.7, 120.0)
    epoch(front, 2, 0.6, 90.0)  # dominates epoch 0 (better accuracy, fewer EBOPs)
    epoch(front, 3, 0.4, 200.0)  # dominated: nothing written
    assert written == [
        ["epoch0000.keras"],
        ["epoch0000.keras", "epoch0001.keras"],
        ["epoch0001.keras", "epoch0002.keras"],
    ]
    assert sorted(p.name for p in pareto.iterdir()) == [
        "epoch0001.keras",
        "epoch0002.keras",
        "front.json",
    ]

    # a kill left a checkpoint front.json does not list and a temporary file; the resumed run
    # trains epoch 2 again, so the front's epoch-2 entry (from the killed run) is replaced
    (pareto / "epoch0003.keras").write_bytes(b"saved, never listed")
    (pareto / ".epoch0004.keras.tmp-0123abcd.keras").write_bytes(b"half")
    resumed = callbacks.ParetoFront(pareto)
    resumed.set_model(model)
    assert sorted(p.name for p in pareto.iterdir()) == [
        "epoch0001.keras",
        "epoch0002.keras",
        "front.json",
    ]
    epoch(resumed, 2, 0.65, 95.0)
    front_json = json.loads((pareto / "front.json").read_text())
    assert [(p["epoch"], p["val_accuracy"], p["ebops"]) for p in front_json] == [
        (2, 0.65, 95.0),
        (1, 0.7, 120.0),
    ]
    assert (pareto / "epoch0002.keras").read_bytes() == b"epoch 2 (0.65, 95.0)"


@pytest.mark.slow
def test_training_killed_during_saves_resumes_and_exports(tmp_path: Path) -> None:
    """``hgq train`` on a tiny embedded data set, killed with SIGKILL at random points of its
    saves (one forked child per trial); every resume continues from the last committed epoch,
    every finished run exports (see benchmarks/kill_resume.py for what is checked)."""
    print(f"seed {SEED}, {TRAIN_TRIALS} trials")
    proc = _run(
        [
            *(sys.executable, "benchmarks/kill_resume.py", "--eager", "--seed", str(SEED)),
            *("--trials", str(TRAIN_TRIALS), "--work", str(tmp_path)),
        ]
    )
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    summary = re.search(
        r"(\d+) trials: (\d+) killed, (\d+) resumed from a committed epoch, (\d+) runs finished "
        r"and exported \((\d+) exports\)",
        proc.stdout,
    )
    assert summary is not None, proc.stdout
    trials, killed, resumed, finished, exports = map(int, summary.groups())
    assert trials == TRAIN_TRIALS and exports == 2 * finished and finished >= 1
    assert killed >= TRAIN_TRIALS // 2 and resumed >= TRAIN_TRIALS // 2
