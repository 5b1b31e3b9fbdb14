"""cocotb regressions of stream-mode designs (``hgq gen --io stream``) on Icarus and Verilator,
``hgq sim --design`` on a stream design, and planted bugs the pixel testbench must catch.

The networks come from :func:`tests.hw.stream_cases.random_stream_network` at seeds whose
reference outputs vary with the image and with where each pixel is
(:func:`assert_outputs_vary`, checked first in every regression): a network whose output is
one constant would pass on a design that drops, repeats or reorders its pixels."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from hgq_hw.reference import evaluate
from hgq_hw.spec import (
    ConvSpec,
    InputSpec,
    MaxPoolSpec,
    ModelSpec,
    OutputSpec,
    Padding,
    save,
)
from hgqflow.cli import main
from sim.design import generate_design
from sim.runner import run_regression
from sim.stream_runner import needed_pixels, stream_plan_of
from sim.stream_vectors import StreamVectorSet, build_stream_vectors, corner_images
from tests.hw.stream_cases import random_stream_conv, random_stream_network
from tests.sim.conftest import require
from tests.sim.vary import MIN_DISTINCT, assert_inputs_vary

pytestmark = pytest.mark.sim


def stream_network(seed: int) -> ModelSpec:
    """The spec of ``random_stream_network(seed)`` (its layers do not depend on the levels)."""
    return random_stream_network(seed, levels=1)[0]


def assert_outputs_vary(spec: ModelSpec, *, images: int, seed: int) -> StreamVectorSet:
    """The precondition of a stream regression on ``spec`` with ``images`` random images of
    ``seed`` (the images :func:`sim.runner.run_regression` streams, returned): every output
    takes at least :data:`~tests.sim.vary.MIN_DISTINCT` values (whatever its type); the
    outputs depend on where a pixel is (the single-pixel corner images give at least
    :data:`MIN_DISTINCT` different outputs); and reversing the pixel order of a random image
    (:func:`tests.sim.vary.assert_order_matters`) changes its outputs for at least half of
    them. Raises AssertionError naming the failed property."""
    vectors = build_stream_vectors(spec, images=images, seed=seed)
    assert_inputs_vary(
        spec,
        vectors.images,
        np.asarray(vectors.y_raw, dtype=object),
        vectors.sources,
        floor=MIN_DISTINCT,
        single=lambda s: "pixel-max@" in s,
        random=lambda s: s.startswith("random:"),
        what="single-pixel images",
    )
    return vectors


ICARUS_NETWORKS = {  # name: random_stream_network seed, input shape and layers
    # (11, 2): "same" Conv stride 2, ReLU, MaxPool 2, "same" Conv, Dense (WRAP requantizers)
    "conv1d-two-same-maxpool": 4,
    # (5, 4, 2): "same" Conv 2x3, ReLU, MaxPool 2x2, Dense
    "conv2d-same-maxpool": 111,
    # (5, 4, 2): "same" Conv 2x2, AvgPool 2x2, Requantize, Dense
    "conv2d-same-avgpool": 113,
    # (5, 6, 2): "same" Conv 2x2, ReLU, "same" Conv 3x3, Dense, Requantize (WRAP), Dense
    "conv2d-two-same": 1,
}


@pytest.mark.parametrize("name", list(ICARUS_NETWORKS))
def test_stream_design_is_bit_exact_on_icarus(name: str, tmp_path: Path) -> None:
    require("icarus")
    spec = stream_network(ICARUS_NETWORKS[name])
    vectors = assert_outputs_vary(spec, images=12, seed=5)
    design = generate_design(spec, tmp_path / "gen", pipeline_levels=1, io="stream")
    assert design.stream
    result = run_regression(
        spec, design, work_dir=tmp_path / "w", simulator="icarus", vectors=vectors, seed=5
    )
    print(result.summary())
    assert result.passed, result.summary()
    n_corner = len(corner_images(spec)[1])
    assert result.vectors == n_corner + 12
    assert result.checked > result.vectors  # the reset test checks images too


def test_stream_design_is_bit_exact_on_verilator(tmp_path: Path) -> None:
    """One Verilator build (the slow part), a network also run on Icarus."""
    require("verilator")
    spec = stream_network(ICARUS_NETWORKS["conv2d-same-maxpool"])
    vectors = assert_outputs_vary(spec, images=12, seed=6)
    design = generate_design(spec, tmp_path / "gen", pipeline_levels=1, io="stream")
    result = run_regression(
        spec, design, work_dir=tmp_path / "w", simulator="verilator", vectors=vectors, seed=6
    )
    print(result.summary())
    assert result.passed, result.summary()


def test_a_planted_bug_is_caught_and_named(tmp_path: Path) -> None:
    """The design of one Conv, checked against the spec with one bias raised: every image
    mismatches, and the message names the image, the output position and the channel."""
    require("icarus")
    spec, _ = random_stream_conv(3, levels=1)
    assert_outputs_vary(spec, images=4, seed=1)
    design = generate_design(spec, tmp_path / "gen", io="stream")
    conv = spec.layers[1]
    assert isinstance(conv, ConvSpec)
    bias = np.array(conv.bias_raw, dtype=np.int64)
    bias[0] += 1
    wrong = dataclasses.replace(
        spec, layers=(spec.layers[0], dataclasses.replace(conv, bias_raw=bias), spec.layers[2])
    )
    result = run_regression(
        wrong, design, work_dir=tmp_path / "w", simulator="icarus", samples=4, seed=1
    )
    summary = result.summary()
    print(summary)
    assert not result.passed
    assert result.mismatch_count == result.checked  # channel 0 is off in every image
    assert "MISMATCH image 0 (corner:min) output position [0" in summary
    assert "channel 0: expected raw" in summary and "(seed 1)" in summary


def test_a_mirrored_window_is_caught(tmp_path: Path) -> None:
    """A pixel-order bug: the design of a network checked against the spec with its first
    Conv's kernel mirrored along the row (what a design that reads its window's pixels in
    reverse order computes). Images that tell the two apart mismatch; the others pass."""
    require("icarus")
    spec = stream_network(ICARUS_NETWORKS["conv1d-two-same-maxpool"])
    vectors = assert_outputs_vary(spec, images=4, seed=3)
    design = generate_design(spec, tmp_path / "gen", pipeline_levels=1, io="stream")
    conv = spec.layers[1]
    assert isinstance(conv, ConvSpec)
    mirrored = dataclasses.replace(conv, kernel_raw=np.flip(conv.kernel_raw, axis=0))
    layers = list(spec.layers)
    layers[1] = mirrored
    wrong = dataclasses.replace(spec, layers=tuple(layers))
    differ = np.any(
        np.asarray(evaluate(wrong, vectors.images), dtype=object).reshape(len(vectors), -1)
        != vectors.y_raw,
        axis=1,
    )
    assert 0 < differ.sum() < len(vectors)
    result = run_regression(
        wrong, design, work_dir=tmp_path / "w", simulator="icarus", samples=4, seed=3
    )
    summary = result.summary()
    print(summary)
    assert not result.passed
    assert 0 < result.mismatch_count < result.checked
    first = int(np.argmax(differ))
    assert f"MISMATCH image {first} ({vectors.sources[first]}) output " in summary
    assert "(seed 3)" in summary


def test_hgq_sim_takes_a_stream_design_folder(tmp_path: Path, capsys) -> None:
    require("icarus")
    spec = stream_network(ICARUS_NETWORKS["conv1d-two-same-maxpool"])
    assert_outputs_vary(spec, images=3, seed=0)
    path = save(spec, tmp_path / "spec.json")
    gen = tmp_path / "gen"
    assert main(["gen", str(path), "-o", str(gen), "--io", "stream"]) == 0
    argv = ["sim", str(path), "--design", str(gen), "--simulator", "icarus", "--samples", "3"]
    assert main([*argv, "--seed", "0", "--work", str(tmp_path / "w"), "--no-data"]) == 0
    printed = capsys.readouterr().out
    assert "stream mode: one pixel per cycle" in printed
    assert "images streamed pixel by pixel" in printed
    assert "cocotb tests:    2/2 passed" in printed and "PASS" in printed


def test_an_output_later_than_the_latency_is_caught(tmp_path: Path) -> None:
    """A "same" Conv (its last output fires on an image's last slot, so an image followed by
    idle cycles comes out exactly ``latency`` cycles after its last pixel) told it has one
    cycle less latency than it has: those images are reported late."""
    require("icarus")
    spec, _ = random_stream_conv(5, levels=1)
    assert spec.layers[1].padding == Padding.SAME
    vectors = assert_outputs_vary(spec, images=3, seed=2)
    design = generate_design(spec, tmp_path / "gen", io="stream")
    early = dataclasses.replace(design, latency=design.latency - 1)
    result = run_regression(
        spec, early, work_dir=tmp_path / "w", simulator="icarus", vectors=vectors, seed=2
    )
    print(result.summary())
    assert not result.passed and result.mismatch_count == 0
    assert any(f"(latency {early.latency})" in e for e in result.latency_errors)


def _pool_5x5() -> ModelSpec:
    """Input 5x5x1 -> MaxPool 2x2 stride 2 ("valid": row 4 and column 4 are never read)."""
    shape = (5, 5, 1)
    return ModelSpec(
        "pool_5x5",
        [
            InputSpec(name="x", k=np.ones(shape, int), i=np.full(shape, 2), f=np.ones(shape, int)),
            MaxPoolSpec(
                name="pool", inputs=("x",), pool_size=(2, 2), strides=(2, 2), padding=Padding.VALID
            ),
            OutputSpec(name="out", inputs=("pool",)),
        ],
    )


def test_an_output_before_its_image_ends_is_exact(tmp_path: Path) -> None:
    """A pool that leaves the last row unread gives its output before the image's last
    pixel: after pixel 19 (its bottom-right tap (3, 3)), not before; the testbench takes it."""
    require("icarus")
    spec = _pool_5x5()
    vectors = assert_outputs_vary(spec, images=8, seed=4)
    design = generate_design(spec, tmp_path / "gen", io="stream")
    assert needed_pixels(stream_plan_of(spec, design)) == 3 * 5 + 3 + 1
    result = run_regression(
        spec, design, work_dir=tmp_path / "w", simulator="icarus", vectors=vectors, seed=4
    )
    print(result.summary())
    assert result.passed, result.summary()


def test_each_kind_of_design_refuses_the_other_kind_of_vectors(tmp_path: Path) -> None:
    """A stream design streams a StreamVectorSet's images; a parallel one takes a VectorSet.
    Either given to the other is refused before anything is built."""
    from sim.vectors import build_vectors

    spec = _pool_5x5()
    images = build_stream_vectors(spec, images=2, seed=0)
    stream = generate_design(spec, tmp_path / "stream", io="stream")
    parallel = generate_design(spec, tmp_path / "parallel")
    with pytest.raises(ValueError, match="a stream design takes a StreamVectorSet"):
        run_regression(spec, stream, work_dir=tmp_path / "w", vectors=build_vectors(spec))
    with pytest.raises(ValueError, match="a parallel design takes a VectorSet"):
        run_regression(spec, parallel, work_dir=tmp_path / "w", vectors=images)
    assert not (tmp_path / "w").exists()
