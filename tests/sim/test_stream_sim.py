"""cocotb regressions of stream-mode designs (``hgq gen --io stream``) on Icarus and Verilator,
``hgq sim --design`` on a stream design, and a planted bug the pixel testbench must catch."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from hgq_hw.random_spec import random_spec
from hgq_hw.spec import (
    ConvSpec,
    InputSpec,
    MaxPoolSpec,
    ModelSpec,
    OutputSpec,
    Padding,
    RequantizeSpec,
    ReshapeSpec,
    save,
)
from hgqflow.cli import main
from sim.design import generate_design
from sim.runner import run_regression
from sim.stream_runner import needed_pixels, stream_plan_of
from sim.stream_vectors import corner_images
from tests.hw.stream_cases import random_stream_conv
from tests.sim.conftest import require

pytestmark = pytest.mark.sim


def per_channel(spec: ModelSpec) -> ModelSpec:
    """``spec`` with every Input and Requantize before the first Reshape given the types of
    its first position at every position (one type per channel: what stream mode requires,
    :func:`hgq_hw.stream.pixel_types`)."""
    layers, streamed = [], True
    for layer in spec.layers:
        streamed &= not isinstance(layer, ReshapeSpec)
        if streamed and isinstance(layer, InputSpec | RequantizeSpec) and layer.k.ndim > 1:
            first = (0,) * (layer.k.ndim - 1)
            layer = dataclasses.replace(
                layer,
                **{
                    a: np.broadcast_to(getattr(layer, a)[first], layer.k.shape).copy()
                    for a in "kif"
                },
            )
        layers.append(layer)
    return dataclasses.replace(spec, layers=tuple(layers))


def stream_spec(seed: int, spatial: int) -> ModelSpec:
    """A tiny random Conv network with one type per channel (two Conv blocks, pools likely)."""
    return per_channel(
        random_spec(seed, spatial=spatial, depth=1, width=(1, 4), conv_depth=2, pool=0.8)
    )


ICARUS_SPECS = {  # (seed, spatial): "same" Conv1D; "same" Conv2D + MaxPool; two "same" + pools
    "conv1d-same": (0, 1),
    "conv2d-same-maxpool": (0, 2),
    "conv2d-two-same": (2, 2),
}


@pytest.mark.parametrize("name", list(ICARUS_SPECS))
def test_stream_design_is_bit_exact_on_icarus(name: str, tmp_path: Path) -> None:
    require("icarus")
    spec = stream_spec(*ICARUS_SPECS[name])
    design = generate_design(spec, tmp_path / "gen", pipeline_levels=1, io="stream")
    assert design.stream
    result = run_regression(
        spec, design, work_dir=tmp_path / "w", simulator="icarus", samples=12, seed=5
    )
    print(result.summary())
    assert result.passed, result.summary()
    n_corner = len(corner_images(spec)[1])
    assert result.vectors == n_corner + 12
    assert result.checked > result.vectors  # the reset test checks images too


def test_stream_design_is_bit_exact_on_verilator(tmp_path: Path) -> None:
    """One Verilator build (the slow part), the same network as on Icarus."""
    require("verilator")
    spec = stream_spec(0, 2)
    design = generate_design(spec, tmp_path / "gen", pipeline_levels=1, io="stream")
    result = run_regression(
        spec, design, work_dir=tmp_path / "w", simulator="verilator", samples=12, seed=6
    )
    print(result.summary())
    assert result.passed, result.summary()


def test_a_planted_bug_is_caught_and_named(tmp_path: Path) -> None:
    """The design of one Conv, checked against the spec with one bias raised: every image
    mismatches, and the message names the image, the output position and the channel."""
    require("icarus")
    spec, _ = random_stream_conv(3, levels=1)
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


def test_hgq_sim_takes_a_stream_design_folder(tmp_path: Path, capsys) -> None:
    require("icarus")
    spec = stream_spec(0, 1)
    path = save(spec, tmp_path / "spec.json")
    gen = tmp_path / "gen"
    assert main(["gen", str(path), "-o", str(gen), "--io", "stream"]) == 0
    argv = ["sim", str(path), "--design", str(gen), "--simulator", "icarus", "--samples", "3"]
    assert main([*argv, "--work", str(tmp_path / "w"), "--no-data"]) == 0
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
    design = generate_design(spec, tmp_path / "gen", io="stream")
    early = dataclasses.replace(design, latency=design.latency - 1)
    result = run_regression(
        spec, early, work_dir=tmp_path / "w", simulator="icarus", samples=3, seed=2
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
    design = generate_design(spec, tmp_path / "gen", io="stream")
    assert needed_pixels(stream_plan_of(spec, design)) == 3 * 5 + 3 + 1
    result = run_regression(
        spec, design, work_dir=tmp_path / "w", simulator="icarus", samples=8, seed=4
    )
    print(result.summary())
    assert result.passed, result.summary()
