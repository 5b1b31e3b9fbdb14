"""Datasets for training: scikit-learn digits (offline default), hls4ml jet tagging (HLF), and
any ``.npz`` file with ``x`` and ``y``.

Every loader returns a :class:`Dataset` with fixed, seeded train / validation / test splits.

Jets (``hls4ml_lhc_jets_hlf``, 16 float features and a ``class`` column with labels
``g, q, w, z, t`` -> 0..4) are read, in order, from ``--data PATH`` (``.npz`` with ``x``/``y`` or
``.csv`` with a header), from ``$HGQ_DATA_DIR/hls4ml_lhc_jets_hlf.{npz,csv}``, or fetched from
OpenML when online. Split: ``train_test_split(test_size=0.2, random_state=42)``, then a
StandardScaler fitted on the training part; validation is 10% of the training part.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "JET_CLASSES",
    "JET_FILE_STEM",
    "Dataset",
    "load_dataset",
    "load_digits_dataset",
    "load_jets",
    "load_npz",
]

JET_CLASSES: tuple[str, ...] = ("g", "q", "w", "z", "t")
"""Jet labels in class-index order."""

JET_FILE_STEM = "hls4ml_lhc_jets_hlf"
JET_FEATURES = 16


@dataclass(frozen=True)
class Dataset:
    """Float32 features and int64 labels of the three splits."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @property
    def n_features(self) -> int:
        return int(np.prod(self.x_train.shape[1:]))

    def summary(self) -> str:
        return (
            f"dataset {self.name}: {self.n_features} features, {self.n_classes} classes, "
            f"{len(self.x_train)} train / {len(self.x_val)} val / {len(self.x_test)} test"
        )


def _split(
    name: str, x: np.ndarray, y: np.ndarray, *, seed: int, test_size: float = 0.2
) -> Dataset:
    from sklearn.model_selection import train_test_split

    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, random_state=seed)
    x_tr, x_va, y_tr, y_va = train_test_split(x_tr, y_tr, test_size=0.1, random_state=seed)
    return Dataset(
        name,
        x_tr.astype(np.float32),
        y_tr.astype(np.int64),
        x_va.astype(np.float32),
        y_va.astype(np.int64),
        x_te.astype(np.float32),
        y_te.astype(np.int64),
        int(max(y.max(initial=0) + 1, 1)),
    )


def load_digits_dataset(seed: int = 0) -> Dataset:
    """scikit-learn's 8x8 digits (1797 samples, bundled, offline): 64 features in [0, 1]."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return _split("digits", x.astype(np.float64) / 16.0, y, seed=seed)


def _labels(y: np.ndarray, classes: tuple[str, ...] | None = None) -> np.ndarray:
    y = np.asarray(y)
    if y.dtype.kind in "iu":
        return y.astype(np.int64)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError("labels must be integers or class names")
        return y.astype(np.int64)
    names = np.char.strip(y.astype(str))
    if classes is None:
        classes = tuple(sorted(set(names.tolist())))
    lookup = {c: n for n, c in enumerate(classes)}
    unknown = sorted(set(names.tolist()) - set(lookup))
    if unknown:
        raise ValueError(f"unknown class label(s) {unknown[:5]} (expected {list(classes)})")
    return np.array([lookup[c] for c in names.tolist()], dtype=np.int64)


def load_npz(path: str | os.PathLike[str], seed: int = 0) -> Dataset:
    """Any ``.npz`` with ``x`` (samples first) and ``y`` (integer labels or class names)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"data file {path} does not exist")
    with np.load(path, allow_pickle=False) as data:
        missing = [key for key in ("x", "y") if key not in data]
        if missing:
            raise ValueError(f"{path}: missing array(s) {missing} (found {sorted(data.files)})")
        x, y = data["x"], data["y"]
    if len(x) != len(y):
        raise ValueError(f"{path}: x has {len(x)} samples but y has {len(y)}")
    return _split(path.stem, x.astype(np.float64), _labels(y), seed=seed)


def _read_jet_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            if "x" not in data or "y" not in data:
                raise ValueError(f"{path}: expected arrays 'x' and 'y' (found {data.files})")
            x, y = data["x"].astype(np.float64), data["y"]
    elif path.suffix == ".csv":
        import csv

        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        if not rows:
            raise ValueError(f"{path}: empty file")
        header = [h.strip() for h in rows[0]]
        if "class" not in header:
            raise ValueError(f"{path}: no 'class' column in the header {header}")
        col = header.index("class")
        body = [r for r in rows[1:] if r]
        y = np.array([r[col] for r in body])
        x = np.array([[float(v) for n, v in enumerate(r) if n != col] for r in body])
    else:
        raise ValueError(f"{path}: jet data must be .npz (x, y) or .csv (16 features + class)")
    if x.ndim != 2 or x.shape[1] != JET_FEATURES:
        raise ValueError(f"{path}: expected {JET_FEATURES} features per jet, got shape {x.shape}")
    return x, _labels(y, JET_CLASSES)


def _fetch_jets() -> tuple[np.ndarray, np.ndarray]:
    import socket

    from sklearn.datasets import fetch_openml

    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(20)
    try:
        data = fetch_openml(JET_FILE_STEM, version=1, as_frame=False, parser="liac-arff")
    finally:
        socket.setdefaulttimeout(old)
    return np.asarray(data.data, dtype=np.float64), _labels(data.target, JET_CLASSES)


def load_jets(
    path: str | os.PathLike[str] | None = None, *, download: bool = True, seed: int = 42
) -> Dataset:
    """The hls4ml jet-tagging HLF dataset (see the module docstring for where it is found)."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    candidates = []
    if path is not None:
        candidates.append(Path(path))
        if not candidates[0].exists():
            raise FileNotFoundError(f"jet data file {path} does not exist")
    elif os.environ.get("HGQ_DATA_DIR"):
        base = Path(os.environ["HGQ_DATA_DIR"])
        candidates += [base / f"{JET_FILE_STEM}.npz", base / f"{JET_FILE_STEM}.csv"]
    found = next((c for c in candidates if c.exists()), None)
    if found is not None:
        x, y = _read_jet_file(found)
    else:
        where = (
            f"pass --data FILE, or put {JET_FILE_STEM}.npz (arrays x: (n, 16), y: labels "
            f"{'/'.join(JET_CLASSES)}) or {JET_FILE_STEM}.csv (16 feature columns + 'class') "
            "in the directory named by $HGQ_DATA_DIR"
        )
        if not download:
            raise FileNotFoundError(f"jet data not found offline: {where}")
        try:
            x, y = _fetch_jets()
        except Exception as err:  # no network, OpenML down, ...
            raise FileNotFoundError(
                f"jet data not found and the OpenML download failed ({err}): {where}"
            ) from None
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=42)
    scaler = StandardScaler().fit(x_tr)
    x_tr, x_te = scaler.transform(x_tr), scaler.transform(x_te)
    x_tr, x_va, y_tr, y_va = train_test_split(x_tr, y_tr, test_size=0.1, random_state=seed)
    return Dataset(
        "jets",
        x_tr.astype(np.float32),
        y_tr,
        x_va.astype(np.float32),
        y_va,
        x_te.astype(np.float32),
        y_te,
        len(JET_CLASSES),
    )


def load_dataset(
    name: str, data: str | os.PathLike[str] | None = None, *, seed: int = 0, download: bool = True
) -> Dataset:
    """``digits``, ``jets`` (with ``data`` as its file) or a path to an ``.npz`` file."""
    if name == "digits":
        return load_digits_dataset(seed)
    if name == "jets":
        return load_jets(data, download=download)
    if name.endswith(".npz"):
        return load_npz(name, seed)
    raise ValueError(f"unknown dataset {name!r}: use digits, jets or a path to an .npz file")
