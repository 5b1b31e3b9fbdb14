"""hgq_train.data at the door: bad labels, features and files give one ValueError naming the file
and the array, before any model is built."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hgq_train.data import JET_CLASSES, MIN_SAMPLES, check_arrays, load_jets, load_npz

SEED = 11
N = 60


def _x(n: int = N) -> np.ndarray:
    return np.random.default_rng(SEED).normal(size=(n, 4))


def _labels(*classes: int, n: int = N) -> np.ndarray:
    return np.array([classes[i % len(classes)] for i in range(n)])


def _save(tmp_path: Path, x, y, name: str = "d.npz") -> Path:
    path = tmp_path / name
    np.savez(path, x=x, y=y)
    return path


@pytest.mark.parametrize(
    ("y", "pattern"),
    [
        (_labels(0, 1, -1), r"y labels must be >= 0, sample 2 is -1"),
        (_labels(0, 1, 2**40), r"y label 1099511627776 \(sample 2\) is out of range"),
        (
            _labels(0, 1, 2, 50),
            r"y labels must be 0\.\.50 with every class present; classes "
            r"\[3, 4, 5, 6, 7, 8, 9, 10, 11, 12, \.\.\.\] \(47 in all\) have no samples",
        ),
        (_labels(0), r"y holds a single class \(1 in all\); 2 are needed"),
        (_labels(3), r"classes \[0, 1, 2\] \(3 in all\) have no samples"),
        (_labels(0, 1).astype(float) + 0.5, r"y must hold integer labels, sample 0 is 0\.5"),
        (_labels(0, 1) + 1j, r"y must hold integer labels or class names, got complex"),
        (_labels(0, 1)[:-1], rf"x has {N} samples but y has {N - 1}"),
        (_labels(0, 1).reshape(-1, 2), r"y must hold one label per sample, got shape"),
    ],
)
def test_bad_labels_refused_naming_the_file(tmp_path: Path, y, pattern: str) -> None:
    path = _save(tmp_path, _x(), y)
    with pytest.raises(ValueError, match=pattern) as info:
        load_npz(path)
    assert str(info.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (lambda x: np.where(np.arange(x.size).reshape(x.shape) == 9, np.nan, x), r"sample 2 "),
        (lambda x: np.where(x > 1.5, np.inf, x), r"x must be finite"),
        (lambda x: x * 1e300, r"x must be finite \(and within float32\)"),
        (lambda x: x + 1j, r"x must hold real numbers, got complex numbers"),
        (lambda x: x.reshape(N, 2, 2), r"x must be 2-d .* \[60, 2, 2\] \(flatten each sample"),
        (lambda x: x[:, 0], r"x must be 2-d \(samples x features\), got shape \[60\]"),
        (lambda x: x.astype(str), r"x must hold real numbers, got dtype <U"),
    ],
)
def test_bad_features_refused_up_front(tmp_path: Path, edit, pattern: str) -> None:
    path = _save(tmp_path, edit(_x()), _labels(0, 1, 2))
    with pytest.raises(ValueError, match=pattern) as info:
        load_npz(path)
    assert str(info.value).startswith(f"{path}: ")


def test_nan_is_reported_with_sample_and_feature() -> None:
    x = _x()
    x[7, 3] = np.nan
    with pytest.raises(ValueError, match=r"src: .*sample 7 feature 3 is nan \(1 such values\)"):
        check_arrays(x, _labels(0, 1), source="src")


def test_too_few_samples_and_good_data_pass() -> None:
    n = MIN_SAMPLES - 1
    with pytest.raises(ValueError, match=rf"{n} samples, at least {MIN_SAMPLES}"):
        check_arrays(_x(n), _labels(0, 1, n=n), source="s")
    x, y, classes = check_arrays(_x(), _labels(2, 0, 1).astype(np.float32), source="s")
    assert (x.dtype, y.dtype, classes) == (np.float64, np.int64, 3)
    assert y[:3].tolist() == [2, 0, 1]


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"", r"d\.npz: "),
        (b"PK\x03\x04 truncated", r"d\.npz: "),
        (b"x,y\n1,2\n", r"d\.npz: "),
    ],
)
def test_unreadable_npz_is_one_error(tmp_path: Path, content: bytes, pattern: str) -> None:
    (tmp_path / "d.npz").write_bytes(content)
    with pytest.raises(ValueError, match=pattern):
        load_npz(tmp_path / "d.npz")


def test_bare_npy_and_pickled_npz(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", _x())
    (tmp_path / "a.npz").write_bytes((tmp_path / "a.npy").read_bytes())
    with pytest.raises(ValueError, match=r"a\.npz: holds a single \.npy array"):
        load_npz(tmp_path / "a.npz")
    np.savez(tmp_path / "p.npz", x=_x(), y=np.array([{"a": 1}] * N, dtype=object))
    with pytest.raises(ValueError, match=r"p\.npz: it holds pickled objects"):
        load_npz(tmp_path / "p.npz")


def test_jets_missing_class_named(tmp_path: Path) -> None:
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(80, 16))
    y = np.array(JET_CLASSES[:4])[rng.integers(0, 4, 80)]  # no 't' jets
    path = tmp_path / "hls4ml_lhc_jets_hlf.npz"
    np.savez(path, x=x, y=y)
    with pytest.raises(ValueError, match=r"jets_hlf\.npz: .*classes \[4\] \(1 in all\) \(t\)"):
        load_jets(path, download=False)
    np.savez(path, x=x, y=np.where(y == "g", "gluon", y))
    with pytest.raises(ValueError, match=r"jets_hlf\.npz: unknown class label\(s\) \['gluon'\]"):
        load_jets(path, download=False)


def test_resume_on_a_changed_dataset_is_refused(tmp_path: Path) -> None:
    from hgq_train.run import TrainOptions, run_training

    rng = np.random.default_rng(SEED)
    data = tmp_path / "toy.npz"
    np.savez(data, x=rng.normal(size=(80, 5)), y=_labels(0, 1, 2, n=80))
    options = dict(out=tmp_path / "run", dataset=str(data), seed=1, verbose=0, jit=False)
    assert run_training(TrainOptions(epochs=1, **options)).epochs_done == 1
    np.savez(data, x=rng.normal(size=(80, 6)), y=_labels(0, 1, 2, n=80))
    with pytest.raises(ValueError, match=r"takes 5 features and predicts 3 classes, but toy has 6"):
        run_training(TrainOptions(epochs=2, resume=True, **options))
