"""``hgq eval`` at the door: outputs wider than 64 bits, 64-bit unsigned inputs, ``--real`` with
``--random``, and raw inputs that are refused rather than cast."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from hgq_hw.inputs import random_raw, read_raw_inputs
from hgq_hw.reference import evaluate, infer_types, input_bounds, quantize_inputs
from hgq_hw.spec import DenseSpec, InputSpec, ModelSpec, OutputSpec, save
from hgqflow.cli import main
from hgqflow.cli.spec_cmds import _random_real

SEED = 4


@pytest.fixture()
def wide(tmp_path: Path) -> tuple[ModelSpec, Path]:
    """Inputs: signed 61-bit, signed 61-bit, unsigned 64-bit; Dense outputs 136 and 86 bits."""
    spec = ModelSpec(
        name="wide",
        layers=[
            InputSpec(name="x", k=[1, 1, 0], i=[40, 40, 64], f=[20, 20, 0]),
            DenseSpec(
                name="fc",
                inputs=("x",),
                weight_raw=np.array([[2**40, 2], [3, -1], [2**50, 1]]),
                weight_f=np.zeros((3, 2), dtype=int),
                bias_raw=np.array([1, 0]),
                bias_f=np.array([-30, 0]),
            ),
            OutputSpec(name="y", inputs=("fc",)),
        ],
    )
    assert infer_types(spec)["y"].width.tolist() == [136, 86]
    return spec, save(spec, tmp_path / "wide.json")


def _stdout_rows(capsys: pytest.CaptureFixture[str]) -> list[list[int]]:
    lines = capsys.readouterr().out.splitlines()
    return [[int(v) for v in line.split(",")] for line in lines if not line.startswith("random")]


def test_wide_outputs_on_stdout_and_files(wide, tmp_path: Path, capsys) -> None:
    spec, path = wide
    assert main(["eval", str(path), "--random", "6", "--seed", str(SEED)]) == 0
    lo, hi = input_bounds(spec)
    x = random_raw(lo, hi, 6, np.random.default_rng(SEED))
    assert max(x[:, 2]) > 2**63  # the unsigned 64-bit element's top half is drawn
    expected = evaluate(spec, x).tolist()
    assert max(abs(v) for row in expected for v in row) > 2**100
    assert _stdout_rows(capsys) == expected
    for suffix in (".npy", ".csv", ".txt"):
        out = tmp_path / f"y{suffix}"
        assert main(["eval", str(path), "--random", "6", "--seed", str(SEED), "-o", str(out)]) == 0
        assert read_raw_inputs(out).tolist() == expected  # hgq reads it back, exactly
    assert np.load(tmp_path / "y.npy", allow_pickle=False).dtype.kind == "U"


def test_eval_output_reads_back_as_inputs(wide, tmp_path: Path, capsys) -> None:
    spec, path = wide
    lo, hi = input_bounds(spec)
    x = random_raw(lo, hi, 5, np.random.default_rng(SEED))
    (tmp_path / "x.csv").write_text("".join(",".join(map(str, row)) + "\n" for row in x))
    out = tmp_path / "y.csv"
    assert main(["eval", str(path), "--inputs", str(tmp_path / "x.csv"), "-o", str(out)]) == 0
    assert read_raw_inputs(out).tolist() == evaluate(spec, x).tolist()


def test_real_is_honoured_with_random(wide, capsys) -> None:
    spec, path = wide
    assert main(["eval", str(path), "--random", "5", "--seed", str(SEED), "--real"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("random real inputs: 5 samples, seed 4 (quantized)")
    x_real = _random_real(spec, 5, np.random.default_rng(SEED))
    expected = evaluate(spec, quantize_inputs(spec, x_real)).tolist()
    rows = [[int(v) for v in line.split(",")] for line in out.splitlines()[1:]]
    assert rows == expected
    raw = evaluate(spec, random_raw(*input_bounds(spec), 5, np.random.default_rng(SEED))).tolist()
    assert rows != raw


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("1.7,0,0\n", r"x\.csv: raw inputs must be integers, sample 0 holds 1\.7"),
        ("0,0,18446744073709551616\n", r"x\.csv: raw input 18446744073709551616 of sample 0, "),
        ("0,0,-1\n", r"raw range \[0, 18446744073709551615\]"),
        ("1+1j,0,0\n", r"x\.csv: '1\+1j' is not a real number"),
    ],
)
def test_raw_inputs_refused_not_cast(wide, tmp_path: Path, capsys, content, pattern) -> None:
    _, path = wide
    (tmp_path / "x.csv").write_text(content)
    assert main(["eval", str(path), "--inputs", str(tmp_path / "x.csv")]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert re.search(pattern, err), err


def test_bad_output_suffix_refused_before_evaluating(wide, tmp_path: Path, capsys) -> None:
    _, path = wide
    assert main(["eval", str(path), "-o", str(tmp_path / "y.json")]) == 1
    assert "unsupported output file type (use .npy, .csv, .txt)" in capsys.readouterr().err
    assert not (tmp_path / "y.json").exists()
