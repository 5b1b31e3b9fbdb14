"""The testbench itself: passes a correct design, and catches wrong data and wrong latency."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.runner import run_regression
from tests.sim.designs import delay_design, identity_spec

pytestmark = pytest.mark.sim


def test_correct_design_passes(simulator: str, tmp_path: Path) -> None:
    result = run_regression(
        identity_spec(),
        delay_design(tmp_path, 3),
        work_dir=tmp_path / "w",
        simulator=simulator,
        samples=100,
        seed=5,
    )
    print(result.summary())
    assert result.passed, result.summary()
    assert result.mismatch_count == 0 and result.tests == 2
    assert result.checked > result.vectors  # both cocotb tests compared outputs
    assert result.cycles > result.vectors  # random gaps in valid


def test_flipped_bit_is_caught(simulator: str, tmp_path: Path) -> None:
    result = run_regression(
        identity_spec(),
        delay_design(tmp_path, 2, flip=1 << 7),
        work_dir=tmp_path / "w",
        simulator=simulator,
        samples=50,
        seed=1,
    )
    print(result.summary())
    assert not result.passed
    assert result.mismatch_count > 0 and result.failures == 2
    first = result.mismatches[0]
    assert set(first) >= {"sample", "output", "expected", "got", "seed"}
    assert first["output"] == 1 and first["seed"] == 1  # bit 7 lies in element 1 (bits 6..8)
    assert "MISMATCH sample" in result.summary() and "FAIL" in result.summary()


def test_wrong_latency_is_caught(tmp_path: Path) -> None:
    from tests.sim.conftest import require

    require("icarus")
    design = delay_design(tmp_path, 3)
    declared = type(design)(design.verilog, design.toplevel, 2)
    result = run_regression(
        identity_spec(), declared, work_dir=tmp_path / "w", simulator="icarus", samples=20
    )
    assert not result.passed
    assert any("latency 3, expected 2" in e for e in result.latency_errors)


def test_waves_are_written(tmp_path: Path) -> None:
    from tests.sim.conftest import require

    require("icarus")
    result = run_regression(
        identity_spec(),
        delay_design(tmp_path, 2),
        work_dir=tmp_path / "w",
        simulator="icarus",
        samples=10,
        waves=True,
    )
    assert result.passed and result.waves is not None and result.waves.suffix == ".fst"
