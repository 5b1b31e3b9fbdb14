"""Data loaders: digits (bundled), any .npz, the jets format from a file the test writes, and
the clear error when jet data is missing offline."""

from __future__ import annotations

import numpy as np
import pytest

from hgq_train.data import JET_CLASSES, load_dataset, load_jets, load_npz


def test_digits_split_is_fixed_and_scaled(digits) -> None:
    assert digits.n_features == 64 and digits.n_classes == 10
    total = len(digits.x_train) + len(digits.x_val) + len(digits.x_test)
    assert total == 1797
    assert digits.x_train.min() >= 0.0 and digits.x_train.max() <= 1.0
    again = load_dataset("digits", seed=0)
    np.testing.assert_array_equal(again.x_test, digits.x_test)
    other = load_dataset("digits", seed=1)
    assert not np.array_equal(other.y_test, digits.y_test)


def test_npz_with_x_and_y(tmp_path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "toy.npz"
    np.savez(path, x=rng.normal(size=(100, 6)), y=rng.integers(0, 3, 100))
    data = load_dataset(str(path), seed=0)
    assert data.x_train.shape[1:] == (6,) and data.n_features == 6 and data.n_classes == 3
    assert len(data.x_train) + len(data.x_val) + len(data.x_test) == 100
    np.savez(tmp_path / "bad.npz", x=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="missing array"):
        load_npz(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError):
        load_npz(tmp_path / "absent.npz")


def _jet_rows(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random jets whose feature 0 is the class index in g, q, w, z, t order (so a split's
    labels can be checked against its standardised feature 0, which keeps the order)."""
    x = rng.normal(size=(n, 16)) * 3 + 5
    index = rng.integers(0, 5, n)
    x[:, 0] = index
    y = np.array(JET_CLASSES)[index]
    return x, y


def test_mini_jets_csv_and_npz(tmp_path, monkeypatch) -> None:
    rng = np.random.default_rng(1)
    x, y = _jet_rows(200, rng)
    csv = tmp_path / "jets.csv"
    header = ",".join([f"f{n}" for n in range(16)] + ["class"])
    lines = [header] + [",".join([*map(repr, row.tolist()), label]) for row, label in zip(x, y)]
    csv.write_text("\n".join(lines) + "\n")
    from_csv = load_jets(csv, download=False)
    assert from_csv.n_features == 16 and from_csv.n_classes == 5
    assert len(from_csv.x_test) == 40  # test_size=0.2
    # standardised with statistics of the training part
    both = np.concatenate([from_csv.x_train, from_csv.x_val])
    np.testing.assert_allclose(both.mean(axis=0), 0, atol=1e-5)
    # labels g, q, w, z, t -> 0..4: in every split, the label is the rank of feature 0
    assert JET_CLASSES == ("g", "q", "w", "z", "t")
    levels = np.unique(np.concatenate([from_csv.x_train[:, 0], from_csv.x_test[:, 0]]))
    assert len(levels) == 5
    for x_split, y_split in (
        (from_csv.x_train, from_csv.y_train),
        (from_csv.x_val, from_csv.y_val),
        (from_csv.x_test, from_csv.y_test),
    ):
        np.testing.assert_array_equal(y_split, np.searchsorted(levels, x_split[:, 0]))
    # every jet is in exactly one split: the class counts of the file
    labels = np.concatenate([from_csv.y_train, from_csv.y_val, from_csv.y_test])
    counts = [int(np.sum(y == name)) for name in ("g", "q", "w", "z", "t")]
    assert np.bincount(labels, minlength=5).tolist() == counts and sum(counts) == 200
    npz = tmp_path / "hls4ml_lhc_jets_hlf.npz"
    np.savez(npz, x=x, y=y)
    monkeypatch.setenv("HGQ_DATA_DIR", str(tmp_path))
    from_dir = load_dataset("jets", download=False)
    # repr() round-trips a float64 exactly: the .csv and the .npz give identical splits
    for split in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(from_dir, split), getattr(from_csv, split))


def test_jets_offline_without_a_file_says_where_to_put_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HGQ_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="HGQ_DATA_DIR") as err:
        load_dataset("jets", download=False)
    assert "hls4ml_lhc_jets_hlf.npz" in str(err.value) and "--data" in str(err.value)


def test_bad_jet_files_and_names(tmp_path) -> None:
    bad = tmp_path / "few.csv"
    bad.write_text("a,b,class\n1,2,g\n")
    with pytest.raises(ValueError, match="16 features"):
        load_jets(bad, download=False)
    labels = tmp_path / "labels.csv"
    labels.write_text(",".join([f"f{n}" for n in range(16)] + ["class"]) + "\n" + "1," * 16 + "x\n")
    with pytest.raises(ValueError, match="unknown class label"):
        load_jets(labels, download=False)
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("mnist")
