"""The crash-safe end of a training epoch: :func:`commit_epoch` writes the model, the history
and the state of a run directory so that a kill at any instant (``SIGKILL`` included) leaves a
run that :func:`recover_run` turns back into the state after the last complete epoch.

The protocol (every file is written with :mod:`hgq_hw.atomic`, temporary file + rename):

1. the model is saved to ``model.pending.keras``;
2. ``history.json`` is written (it may hold one epoch more than the state: resume drops it);
3. ``state.json`` is written with ``model_sha256``, the SHA-256 of the pending model: this is
   the commit, and the file it names exists;
4. ``model.pending.keras`` is renamed to ``model.keras``.

After a kill, :func:`recover_run` finishes step 4 when the pending model is the one the state
names, and otherwise deletes it (the epoch was not committed; ``model.keras`` is the previous
one, untouched). ``model.keras`` is therefore always a complete model, and after recovery it
is the one ``state.json`` names.

Standard library only: the model is saved by a callable, so this module imports no Keras.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hgq_hw.atomic import atomic_path, fsync_directory, remove_stale_temps, write_json

__all__ = [
    "MODEL_NAME",
    "PENDING_NAME",
    "commit_epoch",
    "file_sha256",
    "recover_run",
]

MODEL_NAME = "model.keras"
PENDING_NAME = "model.pending.keras"


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def commit_epoch(
    run_dir: str | os.PathLike[str],
    save_model: Callable[[Path], Any],
    history: list[dict[str, Any]],
    state: dict[str, Any],
) -> None:
    """End an epoch: ``save_model(path)`` writes the model to the path it is given (ending in
    ``.keras``), then history, state (``state`` plus ``model_sha256``) and the model are put in
    place in the order the module docstring gives."""
    run = Path(run_dir)
    pending = run / PENDING_NAME
    with atomic_path(pending) as temp:
        save_model(temp)
    write_json(run / "history.json", history)
    write_json(run / "state.json", {**state, "model_sha256": file_sha256(pending)})
    os.replace(pending, run / MODEL_NAME)
    fsync_directory(run)


def recover_run(run_dir: str | os.PathLike[str]) -> str | None:
    """Undo or finish an epoch commit that a kill interrupted and remove temporary files.
    Returns a line saying what was done (None when nothing was needed).

    ``ValueError`` naming the file when ``model.keras`` is not the model ``state.json``
    names (a file changed by hand, not a kill)."""
    run = Path(run_dir)
    state_path, model, pending = run / "state.json", run / MODEL_NAME, run / PENDING_NAME
    removed = remove_stale_temps(run)
    state: dict[str, Any] = {}
    if state_path.is_file():
        state = json.loads(state_path.read_text(encoding="utf-8"))
    expected = state.get("model_sha256")
    said = None
    if pending.is_file():
        if expected is not None and file_sha256(pending) == expected:
            os.replace(pending, model)
            fsync_directory(run)
            said = f"{run}: finished saving the model of epoch {state.get('epochs_done')}"
        else:
            pending.unlink()
            said = f"{run}: dropped the model of an epoch that did not finish saving"
    elif removed:
        said = f"{run}: removed {len(removed)} temporary file(s) of an interrupted save"
    if expected is not None and model.is_file() and file_sha256(model) != expected:
        raise ValueError(
            f"{model} is not the model {state_path} names (model_sha256 differs): "
            "the run was changed by hand; start a new run"
        )
    return said
