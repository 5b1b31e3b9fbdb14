"""hgq_hw.inputs at the door: nothing is cast, every unreadable file is one ValueError naming it,
and raw integers of any width round-trip through write_raw / read_raw_inputs."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hgq_hw.fixed import TensorType
from hgq_hw.inputs import random_raw, read_inputs, read_raw_inputs, read_real_inputs, write_raw

U64 = TensorType(np.array([0, 1]), np.array([64, 3]), np.array([0, 0]))
"""Element 0 unsigned 64-bit integers, element 1 signed 4-bit."""


def test_fraction_without_real_is_refused_not_truncated(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.array([[1.0, 2.0], [1.7, 0.0]]))
    with pytest.raises(ValueError, match=r"x\.npy: .*sample 1 holds 1\.7 .*--real"):
        read_raw_inputs(tmp_path / "x.npy")
    (tmp_path / "x.csv").write_text("1,2\n1.7,0\n")
    with pytest.raises(ValueError, match=r"x\.csv: .*sample 1 holds 1\.7"):
        read_raw_inputs(tmp_path / "x.csv")


def test_uint64_max_is_exact_and_range_checked(tmp_path: Path) -> None:
    top = 2**64 - 1
    np.save(tmp_path / "u.npy", np.array([[top, 7], [0, 2**63]], dtype=np.uint64))
    with pytest.raises(ValueError, match=r"u\.npy: raw input 9223372036854775808 of sample 1, "):
        read_raw_inputs(tmp_path / "u.npy", input_type=U64)  # 2**63 outside the 4-bit element
    np.save(tmp_path / "ok.npy", np.array([[top, 7], [0, 0]], dtype=np.uint64))
    raw = read_raw_inputs(tmp_path / "ok.npy", input_type=U64)
    assert raw.tolist() == [[top, 7], [0, 0]]  # never -1
    (tmp_path / "ok.csv").write_text(f"{top},-8\n0,7\n")
    assert read_raw_inputs(tmp_path / "ok.csv", input_type=U64).tolist() == [[top, -8], [0, 7]]
    (tmp_path / "bad.csv").write_text(f"{top + 1},0\n")
    with pytest.raises(ValueError, match=r"bad\.csv: raw input 18446744073709551616 of sample 0, "):
        read_raw_inputs(tmp_path / "bad.csv", input_type=U64)
    (tmp_path / "neg.csv").write_text("-1,0\n")
    with pytest.raises(ValueError, match=r"raw range \[0, 18446744073709551615\]"):
        read_raw_inputs(tmp_path / "neg.csv", input_type=U64)


def test_complex_bool_and_strings_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "c.npy", np.array([[1 + 2j, 3]]))
    for reader in (read_raw_inputs, read_real_inputs):
        with pytest.raises(ValueError, match=r"c\.npy: .*complex"):
            reader(tmp_path / "c.npy")
    (tmp_path / "c.csv").write_text("1+2j,3\n")
    with pytest.raises(ValueError, match=r"c\.csv: '1\+2j' is not a real number"):
        read_inputs(tmp_path / "c.csv")
    np.save(tmp_path / "b.npy", np.array([[True, False]]))
    with pytest.raises(ValueError, match=r"b\.npy: raw inputs must be integers, got dtype bool"):
        read_raw_inputs(tmp_path / "b.npy")
    np.save(tmp_path / "s.npy", np.array([["12", "zz"]]))
    with pytest.raises(ValueError, match=r"s\.npy: .*sample 0 holds 'zz' at element \[1\]"):
        read_raw_inputs(tmp_path / "s.npy")
    with pytest.raises(ValueError, match=r"s\.npy: inputs must be real numbers"):
        read_real_inputs(tmp_path / "s.npy")


def test_non_finite_real_inputs_refused_with_sample(tmp_path: Path) -> None:
    np.save(tmp_path / "n.npy", np.array([[0.5, 1.0], [0.0, np.inf]]))
    with pytest.raises(ValueError, match=r"n\.npy: .*finite.*sample 1 holds inf at element \[1\]"):
        read_real_inputs(tmp_path / "n.npy")
    (tmp_path / "n.txt").write_text("0.5 nan\n")
    with pytest.raises(ValueError, match=r"n\.txt: .*sample 0 holds nan"):
        read_real_inputs(tmp_path / "n.txt")


def _npz_bytes() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, x=np.arange(12.0).reshape(3, 4))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("empty.npz", b"", r"empty\.npz: cannot read as \.npz"),
        ("cut.npz", _npz_bytes()[:60], r"cut\.npz: cannot read"),
        ("cut_end.npz", _npz_bytes()[:-30], r"cut_end\.npz: cannot read"),
        ("text.npz", b"1,2,3\n", r"text\.npz: cannot read as \.npz"),
        ("empty.npy", b"", r"empty\.npy: cannot read as \.npy"),
        ("text.npy", b"1,2,3\n", r"text\.npy: cannot read as \.npy"),
        ("zip.npy", _npz_bytes(), r"zip\.npy: is an \.npz archive"),
    ],
)
def test_broken_or_renamed_files_give_one_error(
    tmp_path: Path, name: str, content: bytes, pattern: str
) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValueError, match=pattern):
        read_inputs(tmp_path / name)


def test_npy_renamed_npz_and_pickled_arrays(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.zeros((2, 2)))
    (tmp_path / "a.npz").write_bytes((tmp_path / "a.npy").read_bytes())
    with pytest.raises(ValueError, match=r"a\.npz: holds a single \.npy array"):
        read_inputs(tmp_path / "a.npz")
    np.save(tmp_path / "p.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"p\.npy: .*pickled objects, which hgq never loads"):
        read_inputs(tmp_path / "p.npy")
    np.savez(tmp_path / "p.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match=r"p\.npz: cannot read array 'x' .*pickled"):
        read_inputs(tmp_path / "p.npz")
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as zf:
        zf.writestr("x.npy", b"not an array")
    with pytest.raises(ValueError, match=r"z\.npz: no samples"):
        read_inputs(tmp_path / "z.npz")


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".txt"])
def test_write_raw_round_trips_any_width(tmp_path: Path, suffix: str) -> None:
    wide = np.array([[2**130 + 1, -(2**100)], [0, 2**64 - 1]], dtype=object)
    narrow = np.array([[-(2**63), 5], [2**63 - 1, 0]], dtype=object)
    for n, raw in enumerate((wide, narrow)):
        path = write_raw(tmp_path / f"y{n}{suffix}", raw)
        back = read_raw_inputs(path)
        assert back.tolist() == raw.tolist()
        assert back.dtype == (object if n == 0 else np.int64)
        if suffix == ".npy":  # never pickled
            assert np.load(path, allow_pickle=False).dtype.kind == ("U" if n == 0 else "i")
    with pytest.raises(ValueError, match=r"unsupported output file type '\.json'"):
        write_raw(tmp_path / "y.json", narrow)


def test_random_raw_covers_wide_bounds() -> None:
    lo = np.array([0, -(2**99), 3], dtype=object)
    hi = np.array([2**64 - 1, 2**99, 3], dtype=object)
    x = random_raw(lo, hi, 400, np.random.default_rng(5))
    assert x.shape == (400, 3)
    assert all(lo[e] <= v <= hi[e] for row in x for e, v in enumerate(row))
    assert max(x[:, 0]) > 2**63  # the top half of the unsigned range is reached
    assert min(x[:, 1]) < -(2**97) and max(x[:, 1]) > 2**97
    assert set(x[:, 2]) == {3}
    small = random_raw(np.array([-4]), np.array([3]), 6, np.random.default_rng(1))
    expected = np.random.default_rng(1).integers(-4, 3, 6, endpoint=True)
    assert small[:, 0].tolist() == expected.tolist()  # same draws as rng.integers


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    rows=st.integers(1, 4).flatmap(
        lambda n: st.lists(
            st.lists(st.integers(-(2**140), 2**140), min_size=n, max_size=n),
            min_size=1,
            max_size=5,
        )
    ),
    suffix=st.sampled_from([".npy", ".csv", ".txt"]),
)
def test_write_raw_read_raw_round_trip_property(rows: list[list[int]], suffix: str) -> None:
    raw = np.array(rows, dtype=object)
    with tempfile.TemporaryDirectory() as folder:
        path = write_raw(Path(folder) / f"y{suffix}", raw)
        assert read_raw_inputs(path).tolist() == rows
