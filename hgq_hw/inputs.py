"""Input samples from files: the one reader behind ``hgq eval``, ``hgq sim`` and ``hgq board-run``.

Accepted files (one sample per row, or per leading index for multi-dimensional inputs):

* ``.npz``: the first of the arrays named in :data:`NPZ_KEYS` that the file holds, in that order:
  ``x`` (inputs written for this purpose), then ``x_test`` and ``x_val`` (a dataset split, as
  ``hgq_train.data`` writes it; the test split is what hardware is checked on). Any other
  ``.npz`` is refused with the names it holds.
* ``.npy``: the array itself.
* ``.csv`` (comma-separated) or ``.txt`` (whitespace-separated): one sample per line.

Numpy and the standard library only.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

__all__ = ["NPZ_KEYS", "SUFFIXES", "read_inputs", "read_raw_inputs", "read_real_inputs"]

NPZ_KEYS: tuple[str, ...] = ("x", "x_test", "x_val")
"""Array names looked up in an ``.npz``, in this order; the first present is read."""

SUFFIXES: tuple[str, ...] = (".npz", ".npy", ".csv", ".txt")
"""File types :func:`read_inputs` reads."""


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
        with np.load(path, allow_pickle=False) as data:
            key = next((k for k in NPZ_KEYS if k in data.files), None)
            if key is None:
                raise ValueError(
                    f"{path}: no array named {', '.join(map(repr, NPZ_KEYS))} "
                    f"(found {sorted(data.files)})"
                )
            x = np.asarray(data[key])
    elif path.suffix == ".npy":
        x = np.asarray(np.load(path, allow_pickle=False))
    else:
        x = np.loadtxt(path, delimiter="," if path.suffix == ".csv" else None, ndmin=2)
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


def read_real_inputs(
    path: str | os.PathLike[str], *, input_shape: tuple[int, ...] | None = None
) -> np.ndarray:
    """:func:`read_inputs` as float64 real values (to quantize as the input quantizer does)."""
    x = read_inputs(path, input_shape=input_shape)
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"{Path(path)}: inputs must be real numbers, got dtype {x.dtype}")
    return x.astype(np.float64)


def read_raw_inputs(
    path: str | os.PathLike[str], *, input_shape: tuple[int, ...] | None = None
) -> np.ndarray:
    """:func:`read_inputs` as int64 raw integers; a value that is not an integer is refused
    (never silently truncated)."""
    x = read_inputs(path, input_shape=input_shape)
    if np.issubdtype(x.dtype, np.integer):
        return x.astype(np.int64)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"{Path(path)}: raw inputs must be integers, got dtype {x.dtype}")
    bad = ~np.isfinite(x) | (x != np.round(x))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{Path(path)}: raw inputs must be integers, sample {index[0]} holds {x[index]!r} "
            f"at {index[1:]} (pass --real for real values)"
        )
    return x.astype(np.int64)
