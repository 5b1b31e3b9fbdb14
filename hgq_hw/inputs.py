"""Input samples from files: the one reader behind ``hgq eval``, ``hgq sim`` and ``hgq board-run``.

Accepted files (one sample per row, or per leading index for multi-dimensional inputs):

* ``.npz``: the first of the arrays named in :data:`NPZ_KEYS` that the file holds, in that order:
  ``x`` (inputs written for this purpose), then ``x_test`` and ``x_val`` (a dataset split, as
  ``hgq_train.data`` writes it; the test split is what hardware is checked on). Any other
  ``.npz`` is refused with the names it holds.
* ``.npy``: the array itself. An array of decimal strings (as :func:`write_raw` writes integers
  wider than 64 bits) holds raw integers.
* ``.csv`` (comma-separated) or ``.txt`` (whitespace-separated): one sample per line; blank
  lines and ``#`` comments are skipped. When every value is an integer the values are read
  exactly (at any width), otherwise as float64.

Nothing is ever cast silently: raw inputs (:func:`read_raw_inputs`) must be integers, within
each element's type when the type is given; real inputs (:func:`read_real_inputs`) must be
finite real numbers. A file that cannot be read (empty, truncated, not the format its suffix
says, pickled) is one ``ValueError`` naming it. Pickled arrays are never loaded.

:func:`write_raw` writes raw integers (e.g. ``hgq eval -o``) in a form :func:`read_raw_inputs`
reads back exactly, and :func:`random_raw` draws raw integers of any width.

Numpy and the standard library only.
"""

from __future__ import annotations

import math
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from hgq_hw import atomic
from hgq_hw.fixed import TensorType

__all__ = [
    "NPZ_KEYS",
    "OUTPUT_SUFFIXES",
    "SUFFIXES",
    "random_raw",
    "read_inputs",
    "read_raw_inputs",
    "read_real_inputs",
    "write_raw",
]

NPZ_KEYS: tuple[str, ...] = ("x", "x_test", "x_val")
"""Array names looked up in an ``.npz``, in this order; the first present is read."""

SUFFIXES: tuple[str, ...] = (".npz", ".npy", ".csv", ".txt")
"""File types :func:`read_inputs` reads."""

OUTPUT_SUFFIXES: tuple[str, ...] = (".npy", ".csv", ".txt")
"""File types :func:`write_raw` writes."""

_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def _load_npz(path: Path) -> np.ndarray:
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path}: cannot read as .npz ({_reason(err)})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: holds a single .npy array, not an .npz archive (rename it)")
    with data:
        key = next((k for k in NPZ_KEYS if k in data.files), None)
        if key is None:
            raise ValueError(
                f"{path}: no array named {', '.join(map(repr, NPZ_KEYS))} "
                f"(found {sorted(data.files)})"
            )
        try:
            return np.asarray(data[key])
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as err:
            raise ValueError(f"{path}: cannot read array {key!r} ({_reason(err)})") from None


def _load_npy(path: Path) -> np.ndarray:
    try:
        x = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(f"{path}: cannot read as .npy ({_reason(err)})") from None
    if isinstance(x, np.lib.npyio.NpzFile):
        x.close()
        raise ValueError(f"{path}: is an .npz archive, not an .npy array (rename it)")
    return np.asarray(x)


def _reason(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    if "pickle" in text.lower():
        return "it holds pickled objects, which hgq never loads"
    if isinstance(err, EOFError) or "zero-size" in text or "No data left" in text:
        return f"empty or truncated file: {text}"
    return text


def _load_text(path: Path) -> np.ndarray:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text (byte {err.start})") from None
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        cells = [c.strip() for c in line.split(",")] if path.suffix == ".csv" else line.split()
        if rows and len(cells) != len(rows[0]):
            raise ValueError(
                f"{path}: line {number} has {len(cells)} values, line {line_numbers[0]} has "
                f"{len(rows[0])}"
            )
        rows.append(cells)
        line_numbers.append(number)
    if not rows:
        raise ValueError(f"{path}: no samples (empty file)")
    cells = [c for row in rows for c in row]
    try:
        if all(_INT_RE.match(c) for c in cells):
            values: list[Any] = [int(c) for c in cells]
            fits = all(_INT64_MIN <= v <= _INT64_MAX for v in values)
            x = np.array(values, dtype=np.int64 if fits else object)
        else:
            x = np.array([float(c) for c in cells], dtype=np.float64)
    except ValueError as err:
        bad = next((c for c in cells if not _is_number(c)), None)
        where = f"{bad[:40]!r} is not a real number" if bad is not None else str(err)
        raise ValueError(f"{path}: {where}") from None
    return x.reshape(len(rows), len(rows[0]))


def _is_number(cell: str) -> bool:
    try:
        int(cell) if _INT_RE.match(cell) else float(cell)
    except ValueError:
        return False
    return True


def read_inputs(
    path: str | os.PathLike[str], *, input_shape: tuple[int, ...] | None = None
) -> np.ndarray:
    """The samples stored in ``path`` (see the module docstring for the formats), as stored.

    With ``input_shape`` (the spec's, without the batch axis), rows are reshaped to
    ``(n, *input_shape)`` and a file whose samples hold a different number of values is refused.
    ``FileNotFoundError`` for a missing file, ``ValueError`` (naming the file) for anything else.
    """
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise ValueError(
            f"{path}: unsupported input file type {path.suffix!r} (use .npz with an array named "
            f"{' / '.join(NPZ_KEYS)}, .npy, .csv or .txt)"
        )
    if not path.is_file():
        raise FileNotFoundError(f"input file {path} does not exist")
    if path.suffix == ".npz":
        x = _load_npz(path)
    elif path.suffix == ".npy":
        x = _load_npy(path)
    else:
        x = _load_text(path)
    if x.ndim < 1 or len(x) == 0:
        raise ValueError(f"{path}: no samples (array of shape {x.shape})")
    if x.ndim == 1:
        x = x[:, None]
    if input_shape is not None:
        per_sample, expected = math.prod(x.shape[1:]), math.prod(input_shape)
        if per_sample != expected:
            raise ValueError(
                f"{path}: samples of {per_sample} values (shape {x.shape}), but the spec's input "
                f"has {expected} (shape {tuple(input_shape)})"
            )
        x = x.reshape(len(x), *input_shape)
    return x


def _first(bad: np.ndarray) -> tuple[int, tuple[int, ...]]:
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return index[0], index[1:]


def read_real_inputs(
    path: str | os.PathLike[str], *, input_shape: tuple[int, ...] | None = None
) -> np.ndarray:
    """:func:`read_inputs` as float64 real values (to quantize as the input quantizer does).

    Refused (``ValueError`` naming the file, sample and element): complex numbers, strings,
    booleans, NaN and infinities."""
    path = Path(path)
    x = read_inputs(path, input_shape=input_shape)
    if x.dtype == object:  # exact integers from a text file
        x = np.array([float(v) for v in x.flat], dtype=np.float64).reshape(x.shape)
    if x.dtype.kind not in "iuf":
        raise ValueError(f"{path}: inputs must be real numbers, got dtype {x.dtype}")
    x = x.astype(np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        sample, element = _first(bad)
        raise ValueError(
            f"{path}: inputs must be finite real numbers, sample {sample} holds "
            f"{x[(sample, *element)].item()!r} at element {list(element)}"
        )
    return x


def _exact_integers(path: Path, x: np.ndarray) -> np.ndarray:
    """``x`` as exact integers (int64 or Python ints), refusing anything that is not one."""
    if x.dtype.kind in "iu":
        if x.dtype.kind == "u" and x.size and int(x.max()) > _INT64_MAX:
            return x.astype(object)
        return x.astype(np.int64)
    if x.dtype == object or x.dtype.kind in "US":
        flat = []
        for n, v in enumerate(x.flat):
            if isinstance(v, bytes | str):
                text = v.decode("ascii", "replace") if isinstance(v, bytes) else v
                text = text.strip()
                if not _INT_RE.match(text):
                    sample, element = _first((np.arange(x.size) == n).reshape(x.shape))
                    raise ValueError(
                        f"{path}: raw inputs must be integers, sample {sample} holds "
                        f"{text[:40]!r} at element {list(element)}"
                    )
                flat.append(int(text))
            elif isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_):
                flat.append(int(v))
            else:
                raise ValueError(f"{path}: raw inputs must be integers, got {type(v).__name__}")
        fits = all(_INT64_MIN <= v <= _INT64_MAX for v in flat)
        return np.array(flat, dtype=np.int64 if fits else object).reshape(x.shape)
    if x.dtype.kind != "f":
        raise ValueError(
            f"{path}: raw inputs must be integers, got dtype {x.dtype}"
            + (" (complex numbers are never cast)" if x.dtype.kind == "c" else "")
        )
    bad = ~np.isfinite(x) | (x != np.round(x))
    if bad.any():
        sample, element = _first(bad)
        raise ValueError(
            f"{path}: raw inputs must be integers, sample {sample} holds "
            f"{x[(sample, *element)].item()!r} at element {list(element)} (pass --real for real "
            "values)"
        )
    values = [int(v) for v in x.flat]  # exact: every value is an integral float
    fits = all(_INT64_MIN <= v <= _INT64_MAX for v in values)
    return np.array(values, dtype=np.int64 if fits else object).reshape(x.shape)


def read_raw_inputs(
    path: str | os.PathLike[str],
    *,
    input_shape: tuple[int, ...] | None = None,
    input_type: TensorType | None = None,
) -> np.ndarray:
    """:func:`read_inputs` as raw integers: int64 when every value fits, else an object array
    of Python ints. A value that is not an integer (a fraction, NaN, a complex number, a string
    that is not a decimal integer) is refused, never truncated or cast.

    With ``input_type`` (the spec's per-element input type; implies its shape), every value must
    lie in its element's raw range: ``ValueError`` naming the file, sample, element and range.
    """
    path = Path(path)
    if input_type is not None and input_shape is None:
        input_shape = tuple(input_type.shape)
    x = _exact_integers(path, read_inputs(path, input_shape=input_shape))
    if input_type is not None:
        lo, hi = input_type.raw_bounds()
        wide = x.astype(object)
        bad = (wide < lo) | (wide > hi)
        if np.any(bad):
            sample, element = _first(bad)
            t = input_type.element(element)
            raise ValueError(
                f"{path}: raw input {wide[(sample, *element)]} of sample {sample}, element "
                f"{list(element)} is outside its type {t} (raw range [{t.raw_min}, {t.raw_max}])"
            )
    return x


def random_raw(lo: np.ndarray, hi: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples drawn uniformly per element from ``[lo, hi]`` (arrays of the element
    bounds, any width): an object array of Python ints of shape ``(n, *lo.shape)``.

    Elements whose bounds fit int64 use ``rng.integers`` (the same draws as before wide types
    were supported); wider ones are drawn from 62-bit words."""
    if n < 0:
        raise ValueError(f"the number of samples must be >= 0, got {n}")
    x = np.empty((n, *np.shape(lo)), dtype=object)
    for index in np.ndindex(*np.shape(lo)):
        low, high = int(lo[index]), int(hi[index])
        if low >= _INT64_MIN and high <= _INT64_MAX:
            column = [int(v) for v in rng.integers(low, high, n, endpoint=True)]
        else:
            span = high - low + 1
            words = span.bit_length() // 62 + 2  # extra word: bias below 2**-62
            column = []
            for _ in range(n):
                value = 0
                for _ in range(words):
                    value = (value << 62) | int(rng.integers(0, 1 << 62))
                column.append(low + value % span)
        x[(slice(None), *index)] = column
    return x


def write_raw(path: str | os.PathLike[str], raw: np.ndarray) -> Path:
    """Write a batch of raw integers (2-d: sample x element) so that :func:`read_raw_inputs`
    gives them back exactly, never through pickle.

    ``.npy``: int64 when every value fits, else an array of decimal strings (numpy ``<U``
    dtype). ``.csv`` / ``.txt``: one sample per line, decimal integers (comma- or
    space-separated), exact at any width. Other suffixes raise ``ValueError``. Written atomically
    (:mod:`hgq_hw.atomic`).
    """
    path = Path(path)
    if path.suffix not in OUTPUT_SUFFIXES:
        raise ValueError(
            f"{path}: unsupported output file type {path.suffix!r} (use .npy, .csv or .txt)"
        )
    x = np.asarray(raw)
    if x.ndim != 2:
        x = x.reshape(len(x), -1)
    values = [int(v) for v in x.flat]
    fits = all(_INT64_MIN <= v <= _INT64_MAX for v in values)
    if path.suffix == ".npy":
        if fits:
            array = np.array(values, dtype=np.int64).reshape(x.shape)
        else:
            array = np.array([str(v) for v in values]).reshape(x.shape)
        with atomic.atomic_path(path) as temp, open(temp, "wb") as fh:
            np.save(fh, array, allow_pickle=False)
    else:
        sep = "," if path.suffix == ".csv" else " "
        lines = [sep.join(str(int(v)) for v in row) for row in x]
        atomic.write_text(path, "".join(line + "\n" for line in lines))
    return path
