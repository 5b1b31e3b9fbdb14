"""Many SIGKILLs during :func:`hgq_train.run_state.commit_epoch`, without TensorFlow: run as
``python tests/train/commit_kills.py TRIALS SEED WORK`` (a clean process, which forks one child
per trial); prints one summary line and exits 1 with the reason on the first broken check.

The model of epoch ``e`` is 192 KiB of bytes fixed by ``e``, written in 16 KiB chunks (so a kill
can land in the middle). Each child recovers the run, as ``hgq train --resume`` does, and
commits epochs until it is killed: by a timer of random length started at the k-th temporary
file, or at once before or after the k-th ``os.replace``. After each kill this process recovers
the run and checks that ``model.keras`` holds exactly the model of the last committed epoch,
that the history holds exactly the committed epochs, and that no temporary or pending file is
left.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hgq_hw import atomic  # noqa: E402
from hgq_train.run_state import MODEL_NAME, commit_epoch, recover_run  # noqa: E402

EPOCHS = 5
CHUNK, CHUNKS = 16 << 10, 12


def model_bytes(epoch: int) -> bytes:
    return np.random.default_rng(epoch).bytes(CHUNK * CHUNKS)


def _save(epoch: int):
    def save(path: Path) -> None:
        data = model_bytes(epoch)
        with open(path, "wb") as f:
            for start in range(0, len(data), CHUNK):
                f.write(data[start : start + CHUNK])
                f.flush()

    return save


def _committed(run: Path) -> int:
    state = run / "state.json"
    return json.loads(state.read_text())["epochs_done"] if state.exists() else 0


def _child(run: Path, plan: dict) -> None:
    created, replaced = [0], [0]
    create, replace = atomic._create_temp, os.replace

    def kill() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def counting_create(target: Path) -> Path:
        temp = create(target)
        created[0] += 1
        if plan["mode"] == "timer" and created[0] == plan["k"]:
            threading.Timer(plan["delay"], kill).start()
        return temp

    def counting_replace(src, dst) -> None:
        replaced[0] += 1
        hit = plan["mode"] == "boundary" and replaced[0] == plan["k"]
        if hit and plan["before"]:
            kill()
        replace(src, dst)
        if hit and not plan["before"]:
            kill()

    atomic._create_temp, os.replace = counting_create, counting_replace
    run.mkdir(exist_ok=True)
    recover_run(run)
    done = _committed(run)
    history = json.loads((run / "history.json").read_text()) if done else []
    history = [h for h in history if h["epoch"] < done]  # as run_training drops them
    for epoch in range(done, EPOCHS):
        history.append({"epoch": epoch})
        commit_epoch(run, _save(epoch), history, {"epochs_done": epoch + 1})


def check_recovered(run: Path) -> int:
    """Recover ``run`` and check it; returns the committed epochs. AssertionError if broken."""
    recover_run(run)
    done = _committed(run)
    names = sorted(p.name for p in run.iterdir()) if run.exists() else []
    if done:
        assert (run / MODEL_NAME).read_bytes() == model_bytes(done - 1), (
            f"model.keras is not the model of epoch {done - 1} (the last committed)"
        )
        epochs = [h["epoch"] for h in json.loads((run / "history.json").read_text())]
        assert epochs[:done] == list(range(done)) and len(epochs) <= done + 1, epochs
        assert names == ["history.json", "model.keras", "state.json"], names
    else:
        assert MODEL_NAME not in names and not [n for n in names if atomic.is_temp_name(n)], names
    return done


def run_trials(trials: int, seed: int, work: Path) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    counts = {"trials": 0, "killed": 0, "rolled_forward_or_back": 0, "runs": 0}
    run = work / "run0"
    for trial in range(trials):
        before = check_recovered(run)
        plan = {
            "mode": str(rng.choice(["timer", "boundary"])),
            "k": int(rng.integers(1, 10)),
            "delay": float(rng.uniform(0, 0.004)),
            "before": bool(rng.integers(2)),
        }
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                _child(run, plan)
                code = 0
            finally:
                os._exit(code)
        status = os.waitpid(pid, 0)[1]
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        assert killed or os.WEXITSTATUS(status) == 0, f"trial {trial}: child status {status}"
        left = {p.name for p in run.iterdir()} - {"history.json", "model.keras", "state.json"}
        after = check_recovered(run)
        assert after >= before, f"trial {trial}: {before} committed epochs became {after}"
        counts["trials"] += 1
        counts["killed"] += killed
        counts["rolled_forward_or_back"] += bool(left)
        if after == EPOCHS:
            counts["runs"] += 1
            run = work / f"run{counts['runs']}"
    return counts


if __name__ == "__main__":
    trials, seed, work = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    try:
        counts = run_trials(trials, seed, work)
    except AssertionError as err:
        print(f"BROKEN (seed {seed}): {err}")
        sys.exit(1)
    print(f"seed {seed}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
