"""Checks every command runs on its arguments before it imports its stage.

A command that is given a file that does not exist fails in a fraction of a second with one line
naming the file, before TensorFlow, Amaranth or cocotb load (the CLI turns these errors into
``hgq COMMAND: error: ...`` and exit status 1).
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from hgq_hw.errors import InputFileError, describe

if TYPE_CHECKING:
    from hgq_hw.spec import ModelSpec

__all__ = [
    "data_file",
    "existing_dir",
    "existing_file",
    "gen_folder",
    "output_dir",
    "output_file",
    "read_spec",
    "reading",
]


def existing_file(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` as a ``Path``; ``FileNotFoundError`` naming ``what`` if it is not a file."""
    path = Path(path)
    if path.is_dir():
        raise FileNotFoundError(f"{what} {path} is a folder, not a file")
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")
    return path


def data_file(path: str | os.PathLike[str], what: str) -> Path:
    """:func:`existing_file`, and for an ``.npz`` file a readable zip archive of ``.npy``
    arrays (:class:`~hgq_hw.errors.InputFileError` naming it: empty, truncated, not an
    ``.npz``); its arrays are checked by the reader (``hgq_hw.inputs``, ``hgq_train.data``)."""
    path = existing_file(path, what)
    if path.suffix.lower() != ".npz":
        return path
    if path.stat().st_size == 0:
        raise InputFileError(path, f"not a valid .npz {what}: the file is empty (0 bytes)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise InputFileError(
            path, f"not a valid .npz {what} (truncated or not a zip: {err})"
        ) from None
    if not any(name.endswith(".npy") for name in names):
        raise InputFileError(path, f"not a valid .npz {what}: a zip without .npy arrays")
    return path


@contextmanager
def reading(path: str | os.PathLike[str], what: str) -> Iterator[None]:
    """Read ``path`` inside this block: an expected error whose message does not name the file
    (numpy's, for instance) becomes an :class:`~hgq_hw.errors.InputFileError` that does."""
    try:
        yield
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        if str(path) in str(err):
            raise
        raise InputFileError(path, f"cannot read this {what}: {describe(err)}") from err


def existing_dir(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` as a ``Path``; ``FileNotFoundError`` (``NotADirectoryError`` for a file) naming
    ``what`` if it is not a folder."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{what} {path} is a file, not a folder")
    if not path.is_dir():
        raise FileNotFoundError(f"{what} {path} does not exist")
    return path


def _writable_parent(path: Path, what: str) -> None:
    """The nearest existing folder above ``path`` must be a folder this user may write in."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(f"{what} {path}: {parent} is a file, not a folder")
    _probe_write(parent, f"{what} {path}")


def _probe_write(folder: Path, what: str) -> None:
    """Create and delete a file in ``folder`` (``os.access`` says yes to root even where the
    file system refuses); ``PermissionError`` naming ``what`` and the folder if it fails."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".hgq-write-test-"):
            pass
    except OSError as err:
        raise PermissionError(f"{what}: cannot write in {folder} ({err.strerror or err})") from None


def output_dir(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` as a ``Path`` when it is a folder, or can be created, that a command may write
    in; ``NotADirectoryError`` / ``PermissionError`` naming ``what`` otherwise (checked before
    the command spends any time; a write that fails later is still reported in one line)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{what} {path} is a file, not a folder")
    if path.is_dir():
        _probe_write(path, f"{what} {path}")
    else:
        _writable_parent(path, what)
    return path


def output_file(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` as a ``Path`` when a file can be written there; ``IsADirectoryError`` /
    ``NotADirectoryError`` / ``PermissionError`` naming ``what`` otherwise."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{what} {path} is a folder, not a file")
    _writable_parent(path, what)
    return path


def gen_folder(path: str | os.PathLike[str]) -> Path:
    """A folder written by ``hgq gen`` (it holds ``report.json``)."""
    path = existing_dir(path, "design folder")
    if not (path / "report.json").is_file():
        raise FileNotFoundError(f"{path} is not an 'hgq gen' folder: it has no report.json")
    return path


def read_spec(path: str | os.PathLike[str]) -> ModelSpec:
    """The spec in ``path``, validated (``hgq_hw.spec`` is numpy and the standard library only,
    so this is cheap); its ``SpecError`` names the file, the layer and the field."""
    from hgq_hw.spec import load

    return load(path)
