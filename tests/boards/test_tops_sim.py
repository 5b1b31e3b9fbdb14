"""cocotb runs of the uart and selftest tops (Icarus; the uart top once on Verilator too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from boards.simulate import simulate_top
from tests.boards.conftest import corner_spec, require_simulator, tiny_spec

pytestmark = pytest.mark.sim


def _check(result) -> None:
    assert result.passed, f"{result.summary()}\n{result.report}"


@pytest.mark.parametrize(
    ("make_spec", "levels"), [(tiny_spec, 0), (corner_spec, 1)], ids=["tiny", "corners-pipelined"]
)
def test_uart_top_answers_every_frame_and_naks_bad_checksums(
    make_spec, levels: int, tmp_path: Path
) -> None:
    require_simulator("icarus")
    result = simulate_top(
        "uart", make_spec(), work_dir=tmp_path, samples=24, pipeline_levels=levels
    )
    _check(result)
    assert result.report["uart_frames"]["answered"] == 24
    assert result.report["uart_bad_checksum"]["problems"] == []


SOFTMAX_SEED = 1


def test_uart_top_serves_a_softmax_network(tmp_path: Path) -> None:
    """A network ending in the exported QSoftmax's block (``random_spec(softmax=1)``: max, exp
    table, sum, reciprocal table, multiply): every frame comes back with the quantized
    probabilities and their exact argmax (ties, common among probabilities, to the lowest)."""
    require_simulator("icarus")
    from hgq_hw.random_spec import random_spec

    print(f"random_spec seed {SOFTMAX_SEED}")
    spec = random_spec(SOFTMAX_SEED, depth=2, width=(3, 6), softmax=1.0)
    assert {"MaxPool", "Table", "Multiply"} <= {layer.kind for layer in spec.layers}
    result = simulate_top("uart", spec, work_dir=tmp_path, samples=16, pipeline_levels=1)
    _check(result)
    assert result.report["uart_frames"]["answered"] == 16


def test_uart_top_on_verilator(tmp_path: Path) -> None:
    require_simulator("verilator")
    result = simulate_top(
        "uart", corner_spec(), work_dir=tmp_path, simulator="verilator", samples=12, seed=3
    )
    _check(result)


def test_selftest_top_passes_on_the_correct_design(tmp_path: Path) -> None:
    require_simulator("icarus")
    result = simulate_top("selftest", tiny_spec(), work_dir=tmp_path, samples=40, pipeline_levels=1)
    _check(result)
    report = result.report["selftest_verdict"]
    assert (report["green"], report["red"], report["matched"]) == (1, 0, 40)
    assert "HGQ PASS 0028/0028\r\n" in report["text"]


@pytest.mark.parametrize("make_spec", [tiny_spec, corner_spec], ids=["tiny", "corners"])
def test_selftest_top_fails_when_one_rom_entry_is_corrupted(make_spec, tmp_path: Path) -> None:
    require_simulator("icarus")
    result = simulate_top("selftest", make_spec(), work_dir=tmp_path, samples=20, corrupt=7)
    _check(result)  # the testbench expects red and FAIL 0013/0014 here
    report = result.report["selftest_verdict"]
    assert (report["green"], report["red"], report["matched"]) == (0, 1, 19)
    assert "HGQ FAIL 0013/0014\r\n" in report["text"]


def test_uart_testbench_catches_a_wrong_argmax(tmp_path: Path, monkeypatch) -> None:
    """The scoreboard is not vacuous: a reference argmax that is off by one fails the run."""
    require_simulator("icarus")
    import boards.protocol

    real = boards.protocol.argmax_exact
    monkeypatch.setattr(
        boards.protocol, "argmax_exact", lambda raw, t: (real(raw, t) + 1) % len(t.f)
    )
    result = simulate_top("uart", tiny_spec(), work_dir=tmp_path, samples=6)
    assert not result.passed
    assert "argmax" in " ".join(result.report["uart_frames"]["mismatches"])


def test_tops_with_a_zero_width_input(tmp_path: Path) -> None:
    """Every input element pruned to width 0: frames carry no payload bytes, the ROM is 1 bit."""
    require_simulator("icarus")
    from hgq_hw.spec import DenseSpec, InputSpec, ModelSpec, OutputSpec

    spec = ModelSpec(
        "zero_in",
        [
            InputSpec(name="x", k=[0, 0], i=[0, 0], f=[0, 0]),
            DenseSpec(
                name="d",
                inputs=("x",),
                weight_raw=[[1, 2, 0], [3, 0, 1]],
                weight_f=[[0, 0, 0], [0, 0, 0]],
                bias_raw=[5, -3, 0],
                bias_f=[1, 0, 0],
            ),
            OutputSpec(name="y", inputs=("d",)),
        ],
    )
    _check(simulate_top("uart", spec, work_dir=tmp_path / "u", samples=4))
    _check(simulate_top("selftest", spec, work_dir=tmp_path / "s", samples=4))
