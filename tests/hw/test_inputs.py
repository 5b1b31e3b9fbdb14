"""hgq_hw.inputs: one reader of input files, one key order for .npz."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hgq_hw.inputs import NPZ_KEYS, read_inputs, read_raw_inputs, read_real_inputs


def test_npz_key_order_is_x_then_x_test_then_x_val(tmp_path: Path) -> None:
    assert NPZ_KEYS == ("x", "x_test", "x_val")
    a, b, c = (np.full((2, 3), v) for v in (1.0, 2.0, 3.0))
    np.savez(tmp_path / "all.npz", x_val=c, x_test=b, x=a)
    np.savez(tmp_path / "split.npz", x_val=c, x_test=b, x_train=a)
    np.savez(tmp_path / "val.npz", x_val=c, y_val=np.zeros(2))
    np.testing.assert_array_equal(read_inputs(tmp_path / "all.npz"), a)
    np.testing.assert_array_equal(read_inputs(tmp_path / "split.npz"), b)
    np.testing.assert_array_equal(read_inputs(tmp_path / "val.npz"), c)
    np.savez(tmp_path / "other.npz", inputs=a)
    with pytest.raises(ValueError, match=r"other\.npz: no array named 'x'.*\['inputs'\]"):
        read_inputs(tmp_path / "other.npz")


def test_npy_csv_txt_and_shape(tmp_path: Path) -> None:
    x = np.array([[1.5, -2.0, 0.25], [0.0, 3.0, -1.0]])
    np.save(tmp_path / "x.npy", x)
    np.savetxt(tmp_path / "x.csv", x, delimiter=",")
    np.savetxt(tmp_path / "x.txt", x)
    for name in ("x.npy", "x.csv", "x.txt"):
        np.testing.assert_array_equal(read_real_inputs(tmp_path / name, input_shape=(3,)), x)
    grid = read_inputs(tmp_path / "x.npy", input_shape=(1, 3))
    assert grid.shape == (2, 1, 3)
    with pytest.raises(ValueError, match=r"x\.csv: samples of 3 values .* has 4"):
        read_inputs(tmp_path / "x.csv", input_shape=(4,))
    one_row = tmp_path / "one.csv"
    one_row.write_text("1,2,3\n")
    assert read_inputs(one_row).shape == (1, 3)


def test_raw_inputs_refuse_fractions_and_errors_name_the_file(tmp_path: Path) -> None:
    np.save(tmp_path / "ints.npy", np.array([[3.0, -4.0], [0.0, 7.0]]))
    raw = read_raw_inputs(tmp_path / "ints.npy")
    assert raw.dtype == np.int64 and raw.tolist() == [[3, -4], [0, 7]]
    np.save(tmp_path / "frac.npy", np.array([[3.0, -4.0], [0.5, 7.0]]))
    with pytest.raises(ValueError, match=r"frac\.npy: raw inputs must be integers, sample 1"):
        read_raw_inputs(tmp_path / "frac.npy")
    with pytest.raises(FileNotFoundError, match=r"input file .*nope\.npz does not exist"):
        read_inputs(tmp_path / "nope.npz")
    with pytest.raises(ValueError, match=r"unsupported input file type '\.json'"):
        read_inputs(tmp_path / "x.json")
    np.save(tmp_path / "empty.npy", np.zeros((0, 3)))
    with pytest.raises(ValueError, match="no samples"):
        read_inputs(tmp_path / "empty.npy")


def test_n_d_raw_inputs_travel_as_flattened_samples(tmp_path) -> None:
    """An N-d spec's inputs are written and read as flattened C-order samples (issue 12)."""
    from hgq_hw.inputs import read_raw_inputs, write_raw
    from hgq_hw.random_spec import random_spec
    from hgq_hw.reference import evaluate
    from tests.hw.conftest import random_raw_inputs

    spec = random_spec(1, spatial=2, conv_depth=1, depth=1)
    x = random_raw_inputs(spec, 6, 1)
    for suffix in (".npy", ".csv"):
        path = write_raw(tmp_path / f"x{suffix}", x)
        if suffix == ".csv":
            first = path.read_text().splitlines()[0].split(",")
            assert len(first) == x[0].size  # one flattened sample per line
        back = read_raw_inputs(path, input_type=spec.input.type)
        assert back.shape == x.shape and back.tolist() == x.tolist()
        assert evaluate(spec, back).tolist() == evaluate(spec, x).tolist()
