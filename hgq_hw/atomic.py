"""Crash-safe file outputs: every file is written to a temporary file in the same folder,
flushed, fsynced and renamed into place with :func:`os.replace`.

A reader (or a run resumed after a kill, ``SIGKILL`` included) therefore sees either the old
file or the complete new one, never a truncated mix. What a kill can leave is a temporary file
named ``.<name>.tmp-<token><suffix>`` next to the target; :func:`remove_stale_temps` removes
those (resumed runs call it).

* :func:`write_text`, :func:`write_bytes`, :func:`write_json`: the content is in memory;
* :func:`atomic_path`: a context manager yielding a temporary path for writers that want a
  path (Keras ``model.save``, :func:`numpy.savez`, tools writing bitstreams). The temporary
  path keeps the target's suffix (Keras needs ``.keras``, numpy appends ``.npz`` otherwise);
* :func:`copy_file`: a copy that appears complete or not at all.

Standard library only (importable without numpy, TensorFlow or Amaranth).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "TEMP_MARK",
    "atomic_path",
    "copy_file",
    "fsync_directory",
    "is_temp_name",
    "remove_stale_temps",
    "write_bytes",
    "write_json",
    "write_text",
]

TEMP_MARK = ".tmp-"
"""Temporary files are named ``"." + name + TEMP_MARK + token + suffix``."""

PathLike = str | os.PathLike[str]
_NAME_MAX = 255


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is one of this module's temporary file names."""
    return name.startswith(".") and TEMP_MARK in name


def _create_temp(target: Path) -> Path:
    """Create an empty, new temporary file next to ``target`` (mode 0o666 less the umask, as
    a plain ``open(..., "w")`` would give) and return its path."""
    base, tail = target.name, f"{TEMP_MARK}00000000{target.suffix}"
    while len(f".{base}{tail}".encode()) > _NAME_MAX and base:
        base = base[:-1]  # keep a temporary name within the usual 255-byte limit
    for _ in range(100):
        temp = target.with_name(f".{base}{TEMP_MARK}{secrets.token_hex(4)}{target.suffix}")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return temp
    raise FileExistsError(f"could not create a temporary file next to {target}")


def fsync_directory(directory: PathLike) -> None:
    """Make a rename inside ``directory`` durable (a no-op where folders cannot be opened,
    as on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` (same suffix); when the block ends without an
    exception, the file written there is fsynced and renamed to ``path``. On an exception the
    temporary file is removed, ``path`` is left as it was and the exception propagates.

    ``FileNotFoundError`` when the block wrote nothing at the temporary path (the writer may
    replace the empty file this creates there, or write into it)."""
    target = Path(path)
    temp = _create_temp(target)
    try:
        yield temp
        if not temp.is_file():
            raise FileNotFoundError(f"nothing was written to {temp} (for {target})")
        _fsync_file(temp)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    fsync_directory(target.parent)


def write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path`` as a :class:`~pathlib.Path`."""
    target = Path(path)
    with atomic_path(target) as temp, open(temp, "wb") as f:
        f.write(data)
        f.flush()
    return target


def write_text(path: PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (no newline translation: ``"\\n"`` stays
    ``"\\n"``); returns ``path`` as a :class:`~pathlib.Path`."""
    return write_bytes(path, text.encode(encoding))


def write_json(path: PathLike, value: Any, *, indent: int | None = 2, **dumps: Any) -> Path:
    """``json.dumps(value, indent=indent, **dumps)`` plus a newline, written atomically."""
    return write_text(path, json.dumps(value, indent=indent, **dumps) + "\n")


def copy_file(source: PathLike, path: PathLike) -> Path:
    """Copy ``source`` to ``path`` atomically (contents only, as :func:`shutil.copyfile`)."""
    target = Path(path)
    with atomic_path(target) as temp:
        shutil.copyfile(source, temp)
    return target


def remove_stale_temps(directory: PathLike) -> list[Path]:
    """Remove the temporary files an interrupted writer left in ``directory`` (not below it);
    returns them. A missing folder has none."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    removed = []
    for entry in sorted(folder.iterdir()):
        if is_temp_name(entry.name) and entry.is_file():
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed.append(entry)
    return removed
