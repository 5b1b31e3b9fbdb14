"""Datasets for training: scikit-learn digits (offline default), hls4ml jet tagging (HLF), SVHN
(the public ``.mat`` files) and any ``.npz`` file with ``x`` and ``y``.

Every loader returns a :class:`Dataset` with fixed, seeded train / validation / test splits.

Jets (``hls4ml_lhc_jets_hlf``, 16 float features and a ``class`` column with labels
``g, q, w, z, t`` -> 0..4) are read, in order, from ``--data PATH`` (``.npz`` with ``x``/``y`` or
``.csv`` with a header), from ``$HGQ_DATA_DIR/hls4ml_lhc_jets_hlf.{npz,csv}``, or fetched from
OpenML when online. Split: ``train_test_split(test_size=0.2, random_state=42)``, then a
StandardScaler fitted on the training part; validation is 10% of the training part.

SVHN (cropped digits, http://ufldl.stanford.edu/housenumbers/) is read from ``--data PATH`` or
``$HGQ_DATA_DIR/train_32x32.mat``: ``X`` of shape ``(32, 32, 3, N)`` uint8 and ``y`` ``(N, 1)``
with labels 1..10 (10 is the digit 0, mapped to class 0). Pixels become ``x / 255`` flattened
row-major, channels last (``image_shape`` ``(32, 32, 3)``). The test split is
``test_32x32.mat`` beside the file when it is there, otherwise 20% of the file; validation is
10% of the training part (seeded).

Every loader checks its arrays at the door (:func:`check_arrays`) and refuses, with one
``ValueError`` naming the file (or dataset) and the array: ``x`` that is not 2-d (samples x
features) or holds complex, non-numeric, NaN or infinite values (or values beyond float32);
``y`` that is not one label per sample, labels that are not the integers ``0..C-1`` with every
class present (negative labels, fractions, gaps such as ``{0, 1, 2, 50}``), a single class, and
fewer than :data:`MIN_SAMPLES` samples.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DIGITS_IMAGE_SHAPE",
    "JET_CLASSES",
    "JET_FILE_STEM",
    "MIN_SAMPLES",
    "SVHN_IMAGE_SHAPE",
    "SVHN_TEST_FILE",
    "SVHN_TRAIN_FILE",
    "SVHN_URL",
    "Dataset",
    "check_arrays",
    "load_dataset",
    "load_digits_dataset",
    "load_jets",
    "load_npz",
    "load_svhn",
    "svhn_not_found",
]

JET_CLASSES: tuple[str, ...] = ("g", "q", "w", "z", "t")
"""Jet labels in class-index order."""

DIGITS_IMAGE_SHAPE = (8, 8, 1)
"""The digits' features are 8x8 grey images, row-major."""

SVHN_IMAGE_SHAPE = (32, 32, 3)
"""SVHN samples are 32x32 RGB images, flattened row-major, channels last."""

SVHN_URL = "http://ufldl.stanford.edu/housenumbers/"
SVHN_TRAIN_FILE = "train_32x32.mat"
SVHN_TEST_FILE = "test_32x32.mat"

JET_FILE_STEM = "hls4ml_lhc_jets_hlf"
JET_FEATURES = 16

MIN_SAMPLES = 10
"""Fewest samples a dataset may have (the fixed splits need a few in each part)."""

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _listing(values: list[int], limit: int = 10) -> str:
    head = ", ".join(map(str, values[:limit]))
    return f"[{head}{', ...' if len(values) > limit else ''}] ({len(values)} in all)"


def check_arrays(
    x: np.ndarray,
    y: np.ndarray,
    *,
    source: str,
    n_classes: int | None = None,
    class_names: tuple[str, ...] | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """``x`` as float64 ``(n, features)`` and ``y`` as int64 labels ``0..C-1``, checked.

    ``y`` holds integer labels (integral floats are accepted) or, with ``class_names``, names
    already mapped to their indices. ``n_classes`` (when known, as for jets) fixes ``C``;
    otherwise ``C = max(y) + 1``. Every class must have samples: a gap is refused with the
    missing classes listed (so a typo such as label 50 cannot make a 51-class model), as is a
    single class. ``ValueError`` naming ``source`` and the array for anything else.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype == object or x.dtype.kind not in "biuf":
        what = "complex numbers" if x.dtype.kind == "c" else f"dtype {x.dtype}"
        raise ValueError(f"{source}: x must hold real numbers, got {what}")
    if x.ndim != 2:
        raise ValueError(
            f"{source}: x must be 2-d (samples x features), got shape {list(x.shape)}"
            + (" (flatten each sample first)" if x.ndim > 2 else "")
        )
    if x.shape[1] == 0:
        raise ValueError(f"{source}: x has no features (shape {list(x.shape)})")
    x = x.astype(np.float64)
    bad = ~np.isfinite(x) | (np.abs(x) > _FLOAT32_MAX)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(
            f"{source}: x must be finite (and within float32), sample {row} feature {col} is "
            f"{x[row, col].item()!r} ({int(bad.sum())} such values)"
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{source}: y must hold one label per sample, got shape {list(y.shape)}")
    if len(x) != len(y):
        raise ValueError(f"{source}: x has {len(x)} samples but y has {len(y)}")
    if len(x) < MIN_SAMPLES:
        raise ValueError(f"{source}: {len(x)} samples, at least {MIN_SAMPLES} are needed")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            n = int(np.argmax(bad))
            raise ValueError(f"{source}: y must hold integer labels, sample {n} is {y[n].item()!r}")
    elif y.dtype.kind not in "iu":
        what = "complex numbers" if y.dtype.kind == "c" else f"dtype {y.dtype}"
        raise ValueError(f"{source}: y must hold integer labels or class names, got {what}")
    low, high = y.min(), y.max()
    if low < 0:
        n = int(np.argmin(y))
        raise ValueError(f"{source}: y labels must be >= 0, sample {n} is {y[n].item()!r}")
    limit = n_classes if n_classes is not None else len(y)
    if high >= limit:
        n = int(np.argmax(y))
        raise ValueError(
            f"{source}: y label {y[n].item()!r} (sample {n}) is out of range: labels are "
            f"0..C-1 with C at most "
            + (f"{n_classes} classes" if n_classes is not None else f"the {len(y)} samples")
        )
    labels = y.astype(np.int64)
    classes = n_classes if n_classes is not None else int(labels.max()) + 1
    present = np.bincount(labels, minlength=classes) > 0
    missing = np.flatnonzero(~present).tolist()
    if missing:
        named = f" ({', '.join(class_names[c] for c in missing)})" if class_names else ""
        raise ValueError(
            f"{source}: y labels must be 0..{classes - 1} with every class present; classes "
            f"{_listing(missing)}{named} have no samples"
        )
    if classes < 2:
        raise ValueError(f"{source}: y holds a single class ({classes} in all); 2 are needed")
    return x, labels, classes


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
    image_shape: tuple[int, ...] | None = None
    """``(rows, cols, channels)`` of each sample when the features are an image, flattened
    row-major, channels last (the digits: ``(8, 8, 1)``); None for plain features. A CNN
    (:func:`hgq_train.models.build_cnn`) reshapes each sample to it."""

    @property
    def n_features(self) -> int:
        return int(np.prod(self.x_train.shape[1:]))

    def summary(self) -> str:
        return (
            f"dataset {self.name}: {self.n_features} features, {self.n_classes} classes, "
            f"{len(self.x_train)} train / {len(self.x_val)} val / {len(self.x_test)} test"
        )


def _split(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    seed: int,
    test_size: float = 0.2,
    source: str | None = None,
) -> Dataset:
    from sklearn.model_selection import train_test_split

    x, y, n_classes = check_arrays(x, y, source=source or name)
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
        n_classes,
    )


def load_digits_dataset(seed: int = 0) -> Dataset:
    """scikit-learn's 8x8 digits (1797 samples, bundled, offline): 64 features in [0, 1], the
    8x8 image row by row (``image_shape`` ``(8, 8, 1)``)."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    data = _split("digits", x.astype(np.float64) / 16.0, y, seed=seed)
    return dataclasses.replace(data, image_shape=DIGITS_IMAGE_SHAPE)


def _labels(y: np.ndarray, classes: tuple[str, ...] | None = None) -> np.ndarray:
    """Class names -> indices (sorted names, or ``classes``); numbers pass through unchanged
    for :func:`check_arrays` to check."""
    y = np.asarray(y)
    if y.dtype.kind in "iufcb":
        return y
    if y.dtype.kind not in "US":
        raise ValueError(f"labels must be integers or class names, got dtype {y.dtype}")
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
    x, y = _read_npz(path)
    try:
        labels = _labels(y)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    return _split(path.stem, x, labels, seed=seed, source=str(path))


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Arrays ``x`` and ``y`` of an ``.npz`` (never unpickled); one ``ValueError`` naming the
    file when it cannot be read (empty, truncated, not a zip, a bare ``.npy``)."""
    import zipfile

    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("holds a single .npy array, not an .npz archive with x and y")
        with data:
            missing = [key for key in ("x", "y") if key not in data.files]
            if missing:
                raise ValueError(f"missing array(s) {missing} (found {sorted(data.files)})")
            return np.asarray(data["x"]), np.asarray(data["y"])
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        text = str(err) or type(err).__name__
        if "pickle" in text.lower():
            text = "it holds pickled objects, which hgq never loads"
        raise ValueError(f"{path}: {text}") from None


def _read_jet_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if path.suffix == ".npz":
        x, y = _read_npz(path)
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
        for number, r in enumerate(body, start=2):
            if len(r) != len(header):
                raise ValueError(
                    f"{path}: row {number} has {len(r)} columns, the header {len(header)}"
                )
        y = np.array([r[col] for r in body])
        try:
            x = np.array([[float(v) for n, v in enumerate(r) if n != col] for r in body])
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
    else:
        raise ValueError(f"{path}: jet data must be .npz (x, y) or .csv (16 features + class)")
    if x.ndim != 2 or x.shape[1] != JET_FEATURES:
        raise ValueError(f"{path}: expected {JET_FEATURES} features per jet, got shape {x.shape}")
    try:
        labels = _labels(y, JET_CLASSES)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    x, labels, _ = check_arrays(
        x, labels, source=str(path), n_classes=len(JET_CLASSES), class_names=JET_CLASSES
    )
    return x, labels


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
        x, y, _ = check_arrays(
            x, y, source="OpenML jets", n_classes=len(JET_CLASSES), class_names=JET_CLASSES
        )
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


def _read_svhn(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of one SVHN ``.mat`` file: x float32 ``(n, 3072)`` in [0, 1], y labels 0..9."""
    import scipy.io

    try:
        mat = scipy.io.loadmat(path)
    except Exception as err:  # not a MATLAB file, truncated, ...
        raise ValueError(f"{path}: not a readable SVHN .mat file ({err})") from None
    for key in ("X", "y"):
        if key not in mat:
            raise ValueError(f"{path}: no array {key!r} (an SVHN .mat file has 'X' and 'y')")
    x, y = mat["X"], np.asarray(mat["y"])
    if x.ndim != 4 or x.shape[:3] != SVHN_IMAGE_SHAPE:
        raise ValueError(f"{path}: X must have shape (32, 32, 3, N), got {list(x.shape)}")
    if x.dtype != np.uint8:
        raise ValueError(f"{path}: X must be uint8 pixels, got dtype {x.dtype}")
    n = x.shape[3]
    if y.shape not in ((n, 1), (n,)):
        raise ValueError(
            f"{path}: y must have shape ({n}, 1) (one label per image), got {list(y.shape)}"
        )
    y = y.reshape(n)
    if y.dtype.kind not in "iuf" or not np.all(np.isin(y, np.arange(1, 11))):
        bad = int(np.flatnonzero(~np.isin(y, np.arange(1, 11)))[0]) if y.dtype.kind in "iuf" else 0
        raise ValueError(
            f"{path}: y labels must be 1..10 (10 is the digit 0), image {bad} is {y[bad]!r}"
        )
    if n < MIN_SAMPLES:
        raise ValueError(f"{path}: {n} images, at least {MIN_SAMPLES} are needed")
    images = np.ascontiguousarray(np.moveaxis(x, 3, 0))  # (n, 32, 32, 3), channels last
    x_flat = images.reshape(n, -1).astype(np.float32) / np.float32(255.0)
    return x_flat, (y.astype(np.int64) % 10)


def svhn_not_found(path: str | os.PathLike[str] | None) -> FileNotFoundError:
    """The error for a missing SVHN file (``path``; None: none given and no
    ``$HGQ_DATA_DIR``): where to download it and where to put it."""
    what = f"SVHN file {path} does not exist" if path is not None else "SVHN data not found"
    return FileNotFoundError(
        f"{what}: download {SVHN_TRAIN_FILE} (and optionally {SVHN_TEST_FILE}, used as the "
        f"test split when beside it) from {SVHN_URL} (format 2, cropped digits) and pass "
        f"--data PATH/{SVHN_TRAIN_FILE}, or put it in the directory named by $HGQ_DATA_DIR"
    )


def load_svhn(path: str | os.PathLike[str] | None = None, *, seed: int = 0) -> Dataset:
    """SVHN from its public ``.mat`` files (see the module docstring for where it is found).

    Raises ``FileNotFoundError`` saying where to put the file and where to download it when it
    is missing (nothing is downloaded), ``ValueError`` naming the file for a malformed one.
    """
    from sklearn.model_selection import train_test_split

    if path is not None:
        train = Path(path)
    elif os.environ.get("HGQ_DATA_DIR"):
        train = Path(os.environ["HGQ_DATA_DIR"]) / SVHN_TRAIN_FILE
    else:
        train = None
    if train is None or not train.exists():
        raise svhn_not_found(train)
    x, y = _read_svhn(train)
    test = train.with_name(SVHN_TEST_FILE)
    if test.exists() and test != train:
        x_te, y_te = _read_svhn(test)
        x_tr, y_tr = x, y
    else:
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=seed)
    x_tr, x_va, y_tr, y_va = train_test_split(x_tr, y_tr, test_size=0.1, random_state=seed)
    return Dataset("svhn", x_tr, y_tr, x_va, y_va, x_te, y_te, 10, image_shape=SVHN_IMAGE_SHAPE)


def load_dataset(
    name: str, data: str | os.PathLike[str] | None = None, *, seed: int = 0, download: bool = True
) -> Dataset:
    """``digits``, ``jets`` or ``svhn`` (with ``data`` as its file) or a path to an ``.npz``
    file."""
    if name == "digits":
        return load_digits_dataset(seed)
    if name == "jets":
        return load_jets(data, download=download)
    if name == "svhn":
        return load_svhn(data, seed=seed)
    if name.endswith(".npz"):
        return load_npz(name, seed)
    raise ValueError(f"unknown dataset {name!r}: use digits, jets, svhn or a path to an .npz file")
