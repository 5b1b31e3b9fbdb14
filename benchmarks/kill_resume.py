"""Kill ``hgq train`` with SIGKILL at random points during its saves, many times, and check that
``hgq train --resume`` always continues from the last complete epoch and ``hgq export`` reads
every finished run.

    python benchmarks/kill_resume.py [--trials 20] [--seed 0] [--epochs 6] [--work DIR]

Each trial is a forked child (TensorFlow is imported once, before any fork, and never run in
this process) that resumes the current run and is killed at a save chosen at random: either a
timer of random length started when the k-th temporary file is created (a kill anywhere in or
after that save), or at once before or after the k-th ``os.replace`` (the commit points). After
every kill this process checks the run on disk: each file parses (the model and checkpoints are
complete zip files), ``front.json`` names only files that exist, ``state.json`` names a model
that exists; the next child must print ``resuming RUN after epoch N`` with N the epochs of the
last ``state.json``. A run that finishes is exported (``hgq export`` of ``model.keras`` and of a
Pareto checkpoint) and its optimizer must have taken exactly ``epochs * steps`` steps: a resume
from a model that was not the committed one would miss or repeat an epoch's steps.

Prints one line per trial and a summary; exits 1 at the first broken check. The data set is a
tiny embedded one (120 samples, 4 features, 2 classes), so a trial takes seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

N_SAMPLES, N_FEATURES, BATCH_SIZE = 120, 4, 64


class Broken(AssertionError):
    """A check on the run directory failed."""


def write_tiny_dataset(path: Path) -> Path:
    """A 120 x 4 two-class problem (fixed seed), as an ``.npz`` ``hgq train`` reads."""
    rng = np.random.default_rng(20261202)
    x = rng.normal(size=(N_SAMPLES, N_FEATURES)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    np.savez(path, x=x, y=y)
    return path


def _valid_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError) as err:
        raise Broken(f"{path} is not a complete .keras file: {err}") from None
    if bad is not None:
        raise Broken(f"{path}: member {bad} is corrupt")


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as err:
        raise Broken(f"{path} does not parse: {err}") from None


def check_run(run: Path) -> int:
    """Check a (possibly just killed) run directory; returns the committed epochs."""
    from hgq_hw.atomic import is_temp_name
    from hgq_train.run_state import MODEL_NAME, PENDING_NAME, file_sha256

    if not run.exists():
        return 0
    for name in ("config.json", "history.json"):
        if (run / name).exists():
            _json(run / name)
    for path in (run / MODEL_NAME, run / PENDING_NAME):
        if path.exists():
            _valid_zip(path)
    pareto = run / "pareto"
    if (pareto / "front.json").exists():
        for point in _json(pareto / "front.json"):
            if not (pareto / point["file"]).is_file():
                raise Broken(f"{pareto / 'front.json'} names {point['file']}, which is missing")
            _valid_zip(pareto / point["file"])
    if pareto.is_dir():
        for path in pareto.iterdir():
            if not is_temp_name(path.name) and path.suffix == ".keras":
                _valid_zip(path)
    if not (run / "state.json").exists():
        return 0
    state = _json(run / "state.json")
    done, digest = int(state["epochs_done"]), state["model_sha256"]
    candidates = [p for p in (run / MODEL_NAME, run / PENDING_NAME) if p.is_file()]
    if not any(file_sha256(p) == digest for p in candidates):
        raise Broken(f"{run / 'state.json'} names a model (sha256 {digest[:12]}) that is not there")
    epochs = [h["epoch"] for h in _json(run / "history.json")]
    if epochs[:done] != list(range(done)):
        raise Broken(f"{run / 'history.json'}: epochs {epochs} for {done} committed")
    return done


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _install_killer(plan: dict[str, Any]) -> None:
    """In a child: SIGKILL this process at the save ``plan`` names."""
    import hgq_hw.atomic as atomic

    created, replaced = [0], [0]
    create, replace = atomic._create_temp, os.replace

    def counting_create(target: Path) -> Path:
        temp = create(target)
        created[0] += 1
        if plan["mode"] == "timer" and created[0] == plan["k"]:
            threading.Timer(plan["delay"], _kill).start()
        return temp

    def counting_replace(src: Any, dst: Any) -> None:
        replaced[0] += 1
        hit = plan["mode"] == "boundary" and replaced[0] == plan["k"]
        if hit and plan["when"] == "before":
            _kill()
        replace(src, dst)
        if hit and plan["when"] == "after":
            _kill()

    atomic._create_temp = counting_create
    os.replace = counting_replace


def _train_eagerly() -> None:
    """In a child: run the training steps eagerly (no ``tf.function`` tracing, seconds less per
    trial). What is under test, saving, committing and resuming, is unchanged."""
    import hgq_train.training as training

    compile_hgq = training.compile_hgq

    def eager_compile_hgq(model: Any, *args: Any, **kwargs: Any) -> Any:
        loss = compile_hgq(model, *args, **kwargs)
        model.run_eagerly = True
        return loss

    training.compile_hgq = eager_compile_hgq


def _in_child(log: Path, body: Any) -> int:
    """Fork; the child writes stdout/stderr line by line to ``log`` and exits with
    ``body()``. Returns the wait status."""
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            sys.stdout.reconfigure(line_buffering=True)
            sys.stderr.reconfigure(line_buffering=True)
            code = int(body())
        except BaseException as err:  # report, never return into the parent's loop
            print(f"child failed: {type(err).__name__}: {err}", flush=True)
        finally:
            os._exit(code)
    return os.waitpid(pid, 0)[1]


def _train_args(data: Path, run: Path, epochs: int) -> list[str]:
    return [
        *("train", "--dataset", str(data), "--epochs", str(epochs), "--out", str(run)),
        *("--resume", "--no-jit", "--verbose", "0", "--batch-size", str(BATCH_SIZE)),
    ]


def _finish_and_export(
    data: Path, run: Path, epochs: int, log: Path, eager: bool
) -> dict[str, Any]:
    """Train ``run`` to the end (no kill), export model.keras and a Pareto checkpoint, and
    count the optimizer's steps; checked here."""
    out = run.parent / f"{run.name}-export.json"

    def body() -> int:
        import hgq_train
        from hgqflow.cli import main

        if eager:
            _train_eagerly()
        if main(_train_args(data, run, epochs)) != 0:
            return 3
        front = json.loads((run / "pareto" / "front.json").read_text(encoding="utf-8"))
        checkpoint = run / "pareto" / front[-1]["file"]
        for source, spec in ((run / "model.keras", "spec.json"), (checkpoint, "pareto.json")):
            if main(["export", str(source), "-o", str(run / spec)]) != 0:
                return 4
        model = hgq_train.load_model(str(run / "model.keras"), compile=True)
        out.write_text(json.dumps({"iterations": int(model.optimizer.iterations)}))
        return 0

    status = _in_child(log, body)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        raise Broken(f"finishing and exporting {run} failed (status {status}); see {log}")
    from hgq_hw.spec import load

    for spec in ("spec.json", "pareto.json"):
        load(run / spec)  # a complete, valid spec
    n_train = int(re.search(r"(\d+) train", log.read_text()).group(1))
    expected = epochs * math.ceil(n_train / BATCH_SIZE)
    iterations = json.loads(out.read_text())["iterations"]
    if iterations != expected:
        raise Broken(
            f"{run}: the optimizer took {iterations} steps in {epochs} epochs, expected "
            f"{expected}: a resume started from a model that was not the committed one"
        )
    return {"iterations": iterations}


def run_trials(
    trials: int, seed: int, epochs: int, work: Path, *, eager: bool = False, say: Any = print
) -> dict[str, Any]:
    """Run the trials (see the module docstring); returns counts. ``Broken`` on a failure."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras  # noqa: F401  (imported once, before the forks; no TensorFlow op runs here)

    import hgq_train  # noqa: F401
    import hgqflow.cli  # noqa: F401

    rng = np.random.default_rng(seed)
    say(
        f"seed {seed}: {trials} trials, {epochs} epochs per run"
        f"{' (eager steps)' if eager else ''}, work {work}"
    )
    work.mkdir(parents=True, exist_ok=True)
    data = write_tiny_dataset(work / "tiny.npz")
    counts = {"trials": 0, "killed": 0, "finished_runs": 0, "resumed": 0, "exports": 0}
    run_index = 0
    run = work / f"run{run_index}"
    t0 = time.perf_counter()
    for trial in range(trials):
        committed = check_run(run)
        mode = str(rng.choice(["timer", "boundary"]))
        plan = {
            "mode": mode,
            "k": int(rng.integers(1, 9)),
            "delay": float(rng.uniform(0.0, 0.08)),
            "when": str(rng.choice(["before", "after"])),
        }
        log = work / f"trial{trial:03d}.log"

        def body(plan: dict[str, Any] = plan, run: Path = run) -> int:
            from hgqflow.cli import main

            if eager:
                _train_eagerly()
            _install_killer(plan)
            return main(_train_args(data, run, epochs))

        status = _in_child(log, body)
        text = log.read_text(errors="replace")
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        if not killed and not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
            raise Broken(f"trial {trial}: the child failed (status {status}); see {log}")
        resumed = re.findall(r"resuming .* after epoch (\d+)", text)
        if committed and resumed != [str(committed)]:
            raise Broken(
                f"trial {trial}: {committed} epochs were committed but the child printed "
                f"{resumed or 'no resume line'}; see {log}"
            )
        if not committed and resumed:
            raise Broken(f"trial {trial}: nothing was committed but it resumed; see {log}")
        now = check_run(run)
        counts["trials"] += 1
        counts["killed"] += killed
        counts["resumed"] += bool(committed)
        where = f"{mode} k={plan['k']} " + (
            f"delay={plan['delay'] * 1e3:.0f}ms" if mode == "timer" else str(plan["when"])
        )
        say(
            f"trial {trial:3d}: {where:<24} {'killed' if killed else 'finished'}; "
            f"epochs {committed} -> {now}"
        )
        if not killed:
            if now != epochs:
                raise Broken(f"trial {trial}: finished with {now} of {epochs} epochs committed")
            _finish_and_export(data, run, epochs, work / f"{run.name}-export.log", eager)
            counts["finished_runs"] += 1
            counts["exports"] += 2
            run_index += 1
            run = work / f"run{run_index}"
    _finish_and_export(data, run, epochs, work / f"{run.name}-export.log", eager)
    counts["finished_runs"] += 1
    counts["exports"] += 2
    counts["seconds"] = round(time.perf_counter() - t0, 1)
    say(
        f"{counts['trials']} trials: {counts['killed']} killed, {counts['resumed']} resumed "
        f"from a committed epoch, {counts['finished_runs']} runs finished and exported "
        f"({counts['exports']} exports), {counts['seconds']} s"
    )
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--work", type=Path, help="folder for the runs (default: a temp one)")
    parser.add_argument(
        "--eager",
        action="store_true",
        help="train eagerly in the children (faster trials; the saves are the same)",
    )
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="kill_resume-"))
    try:
        run_trials(args.trials, args.seed, args.epochs, work, eager=args.eager)
    except Broken as err:
        print(f"BROKEN: {err}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
