"""cocotb runs (Icarus) of the uart and selftest tops around stream-mode networks: images sent
pixel by pixel, answers bit-exact against the reference (corner, border and random images), and
a planted wrong pixel order that both tops must catch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import boards.protocol
from boards.simulate import simulate_top
from tests.boards.conftest import (
    require_simulator,
    stream_border_spec,
    stream_cnn_spec,
    stream_tiny_spec,
)

pytestmark = pytest.mark.sim

SEED = 3


def _check(result) -> None:
    assert result.passed, f"{result.summary()}\n{result.report}"


@pytest.mark.parametrize(
    ("make_spec", "levels", "images"),
    [(stream_cnn_spec, 1, 10), (stream_border_spec, 0, 8)],
    ids=["cnn-pipelined", "border-types"],
)
def test_stream_uart_top_answers_every_image_and_naks_bad_checksums(
    make_spec, levels: int, images: int, tmp_path: Path
) -> None:
    """Each image (corner and border images first, then random ones) goes in pixel by pixel;
    each answer is the reference's output word and argmax; a bad checksum gets the NAK, and a
    half-sent image followed by silence does not shift the next one."""
    require_simulator("icarus")
    result = simulate_top(
        "uart",
        make_spec(),
        work_dir=tmp_path,
        samples=images,
        seed=SEED,
        pipeline_levels=levels,
        io="stream",
    )
    _check(result)
    assert result.report["uart_frames"] == {"frames": images, "answered": images, "mismatches": []}
    assert result.report["uart_bad_checksum"]["problems"] == []


def test_stream_selftest_top_passes_on_the_correct_design(tmp_path: Path) -> None:
    require_simulator("icarus")
    result = simulate_top(
        "selftest",
        stream_cnn_spec(),
        work_dir=tmp_path,
        samples=12,
        seed=SEED,
        pipeline_levels=1,
        io="stream",
    )
    _check(result)
    report = result.report["selftest_verdict"]
    assert (report["green"], report["red"], report["matched"]) == (1, 0, 12)
    assert "HGQ PASS 000C/000C\r\n" in report["text"]


def _column_major(image_raw, pixel_layout):
    """The planted bug: pixels sent column by column instead of row by row."""
    image = np.asarray(image_raw, dtype=object)
    return REAL_ORDER(np.transpose(image, (1, 0, *range(2, image.ndim))), pixel_layout)


REAL_ORDER = boards.protocol.image_pixel_words


@pytest.mark.parametrize("kind", ["uart", "selftest"])
def test_a_wrong_pixel_order_fails_both_tops(kind: str, tmp_path: Path, monkeypatch) -> None:
    """Images laid out column-major (frames and ROM alike) against the reference's row-major
    outputs: the uart top's answers mismatch, the self-test lights red and reports FAIL."""
    require_simulator("icarus")
    monkeypatch.setattr(boards.protocol, "image_pixel_words", _column_major)
    result = simulate_top(
        kind, stream_tiny_spec(), work_dir=tmp_path, samples=8, seed=SEED, io="stream"
    )
    assert not result.passed, result.summary()
    if kind == "uart":
        mismatches = result.report["uart_frames"]["mismatches"]
        assert mismatches and all("expected word" in m for m in mismatches), mismatches
        assert any("image random:" in m for m in mismatches)
    else:
        report = result.report["selftest_verdict"]
        assert (report["green"], report["red"]) == (0, 1)
        assert report["matched"] < 8 and "HGQ FAIL" in report["text"]
