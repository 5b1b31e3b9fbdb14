"""A cheap check that a ``.keras`` file is a Keras archive, before TensorFlow loads.

Keras says "File not found" for a file that exists but is empty, truncated or not a zip;
:func:`check_keras_archive` says what is wrong instead. Standard library only.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from hgq_hw.errors import InputFileError

__all__ = ["KERAS_MEMBERS", "check_keras_archive"]

KERAS_MEMBERS: tuple[str, ...] = ("config.json",)
"""Members every Keras 3 ``.keras`` archive holds (``metadata.json`` and the weights too)."""


def check_keras_archive(path: str | os.PathLike[str], what: str = "model file") -> Path:
    """``path`` as a ``Path`` when it is a readable Keras archive (a zip holding
    :data:`KERAS_MEMBERS` whose members pass their CRC check). ``FileNotFoundError`` naming
    ``what`` when it is missing or a folder, :class:`~hgq_hw.errors.InputFileError` naming the
    file and what is wrong (empty, truncated, not a zip, not a Keras model) otherwise."""
    path = Path(path)
    if path.is_dir():
        raise FileNotFoundError(f"{what} {path} is a folder, not a file")
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")
    size = path.stat().st_size
    if size == 0:
        raise InputFileError(path, "not a valid Keras archive: the file is empty (0 bytes)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            bad = archive.testzip()
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise InputFileError(
            path, f"not a valid Keras archive ({size} bytes; truncated or not a zip: {err})"
        ) from None
    missing = [name for name in KERAS_MEMBERS if name not in names]
    if missing:
        raise InputFileError(path, f"not a valid Keras archive: a zip without {', '.join(missing)}")
    if bad is not None:
        raise InputFileError(path, f"not a valid Keras archive: member {bad!r} is corrupt")
    return path
