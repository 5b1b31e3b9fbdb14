"""Specs for the board tests, and skips that say what to install."""

from __future__ import annotations

import pytest

from hgq_hw.random_spec import random_spec
from hgq_hw.spec import DenseSpec, InputSpec, ModelSpec, OutputSpec, ReLUSpec, RequantizeSpec


def tiny_spec() -> ModelSpec:
    """The README's hand-written spec: 3 inputs, 2 outputs with different f."""
    return ModelSpec(
        "tiny",
        [
            InputSpec(name="x", k=[1, 1, 0], i=[2, 2, 1], f=[3, 3, 4], round="RND", overflow="SAT"),
            DenseSpec(
                name="fc1",
                inputs=("x",),
                weight_raw=[[3, -1], [0, 5], [-7, 2]],
                weight_f=[[2, 0], [0, 3], [3, 1]],
                bias_raw=[1, -3],
                bias_f=[1, 2],
            ),
            ReLUSpec(name="relu1", inputs=("fc1",)),
            RequantizeSpec(
                name="q1",
                inputs=("relu1",),
                k=[0, 0],
                i=[3, 2],
                f=[2, 4],
                round="RND",
                overflow="SAT",
            ),
            OutputSpec(name="y", inputs=("q1",)),
        ],
    )


def corner_spec() -> ModelSpec:
    """A random spec with signed outputs, mixed f and width-0 elements (argmax corners)."""
    return random_spec(0, depth=2, width=(1, 8), zero_width=0.2)


def too_big_spec() -> ModelSpec:
    """Wide layers and many bits: about 7k LUTs, more than the iCE40UP5K has."""
    return random_spec(3, sizes=[16, 32, 5], input_bits=(2, 6), act_bits=(2, 6), weight_bits=(2, 6))


def stream_tiny_spec() -> ModelSpec:
    """A tiny CNN in stream mode (:func:`tests.hw.stream_cases.random_stream_network`): 4x4x2
    images, Conv2D "same" stride 2 -> Requantize -> ReLU -> MaxPool -> Dense, 2 outputs; its
    outputs vary with the image and with the pixel order."""
    from tests.hw.stream_cases import random_stream_network

    return random_stream_network(11)[0]


def stream_cnn_spec() -> ModelSpec:
    """A small CNN in stream mode: 5x7x2 images, Conv2D "same" stride 2 -> Requantize -> ReLU
    -> AvgPool -> Requantize -> Dense, 5 outputs (argmax over 5)."""
    from tests.hw.stream_cases import random_stream_network

    return random_stream_network(9)[0]


def stream_border_spec() -> ModelSpec:
    """One "same" Conv2D (4x4x2 images, 16 outputs) whose border outputs the stream hardware
    gives in wider types with more fractional bits than the reference's: the stream core's
    conversion to the reference's output type is exercised."""
    from tests.hw.stream_cases import random_stream_conv

    return random_stream_conv(19)[0]


def require_simulator(simulator: str) -> None:
    from sim.runner import simulator_available

    missing = simulator_available(simulator)
    if missing is not None:
        pytest.skip(f"{simulator} not available: {missing}")


def require_tools(*names: str) -> None:
    from hgq_hw.toolchain.find import TOOLS, find_tool

    for name in names:
        if find_tool(name) is None:
            pytest.skip(f"{name} not available: {TOOLS[name].install_hint}")
