"""Schema version 2: N-d tensors, Conv / MaxPool / AvgPool / Reshape; version 1 unchanged."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from hgq_hw.random_spec import random_spec
from hgq_hw.spec import (
    AvgPoolSpec,
    ConvSpec,
    DenseSpec,
    InputSpec,
    MaxPoolSpec,
    ModelSpec,
    OutputSpec,
    Padding,
    ReLUSpec,
    RequantizeSpec,
    ReshapeSpec,
    SpecError,
    dumps,
    load,
    loads,
    window_geometry,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "specs" / "tiny.json"
GOLDEN_V1 = Path(__file__).resolve().parent / "spec_data" / "version1_random7.json"


def _conv_spec() -> ModelSpec:
    """Input (6, 5, 2) -> Conv2D 3x2 same stride (2, 1) -> ReLU -> MaxPool -> AvgPool ->
    Reshape -> Dense -> Output."""
    rng = np.random.default_rng(3)
    shape = (6, 5, 2)
    kernel = rng.integers(-3, 4, size=(3, 2, 2, 4))
    return ModelSpec(
        "conv2d",
        [
            InputSpec(name="x", k=np.ones(shape, int), i=np.full(shape, 2), f=np.full(shape, 3)),
            ConvSpec(
                name="c1",
                inputs=("x",),
                kernel_raw=kernel,
                kernel_f=np.full(kernel.shape, 2),
                bias_raw=[1, 0, -2, 5],
                bias_f=[1, 0, 3, 2],
                strides=[2, 1],
                padding="same",
            ),
            ReLUSpec(name="r1", inputs=("c1",)),
            MaxPoolSpec(name="p1", inputs=("r1",), pool_size=[1, 2], strides=[1, 1]),
            AvgPoolSpec(name="a1", inputs=("p1",), pool_size=[2, 2], strides=[1, 2]),
            ReshapeSpec(name="flat", inputs=("a1",), shape=[16]),
            DenseSpec(
                name="d",
                inputs=("flat",),
                weight_raw=np.ones((16, 2), int),
                weight_f=np.zeros((16, 2), int),
                bias_raw=[0, 0],
                bias_f=[0, 0],
            ),
            OutputSpec(name="y", inputs=("d",)),
        ],
    )


def test_shapes_follow_keras() -> None:
    spec = _conv_spec()
    assert spec.shape("c1") == (3, 5, 4)
    assert spec.shape("p1") == (3, 4, 4)
    assert spec.shape("a1") == (2, 2, 4)
    assert spec.output_shape == (2,)
    assert spec.required_version == 2 and spec.version == 2
    # Keras: same padding puts total // 2 zeros before, the rest after.
    assert window_geometry((7,), (4,), (2,), Padding.SAME) == ((4,), (1,))
    assert window_geometry((8, 5), (3, 2), (3, 2), Padding.VALID) == ((2, 2), (0, 0))
    assert window_geometry((5,), (1,), (7,), Padding.SAME) == ((1,), (0,))


def test_version_2_round_trips(tmp_path: Path) -> None:
    spec = _conv_spec()
    text = dumps(spec)
    assert json.loads(text)["version"] == 2
    again = loads(text)
    assert again == spec and dumps(again) == text
    assert again.layer("c1").padding is Padding.SAME
    assert again.layer("c1").window == (3, 2)


def test_version_1_specs_are_written_as_version_1_byte_identically() -> None:
    """The golden file was written by the version-1 code (random_spec(7, depth=2, width=(2, 4)))."""
    text = GOLDEN_V1.read_text()
    spec = load(GOLDEN_V1)
    assert spec.version == 1 and spec.required_version == 1
    assert dumps(spec) == text
    assert dumps(random_spec(7, depth=2, width=(2, 4))) == text
    # a version-2 file of only version-1 content is written as version 1
    obj = json.loads(text)
    obj["version"] = 2
    again = loads(json.dumps(obj))
    assert again.version == 2 and dumps(again) == text
    assert load(EXAMPLE).version == 1


def test_version_1_file_refuses_version_2_content() -> None:
    obj = json.loads(dumps(_conv_spec()))
    obj["version"] = 1
    with pytest.raises(SpecError, match="needs schema version 2") as info:
        loads(json.dumps(obj), source="old.json")
    assert (info.value.file, info.value.layer, info.value.field) == ("old.json", "x", "k")


def test_reshape_only_in_version_1_refused() -> None:
    layers = [
        InputSpec(name="x", k=[1, 1], i=[1, 1], f=[1, 1]),
        ReshapeSpec(name="r", inputs=("x",), shape=[2]),
        OutputSpec(name="y", inputs=("r",)),
    ]
    assert ModelSpec("s", layers).version == 2
    with pytest.raises(SpecError, match="a Reshape layer needs schema version 2") as info:
        ModelSpec("s", layers, version=1)
    assert (info.value.layer, info.value.field) == ("r", "kind")


def _edit(index: int, **fields) -> dict:
    obj = json.loads(dumps(_conv_spec()))
    obj["layers"][index].update(fields)
    return obj


BAD = [
    (
        "conv kernel 2-d",
        1,
        {"kernel_raw": [[1]], "kernel_f": [[1]]},
        "c1",
        "kernel_raw",
        "1 or 2 spatial",
    ),
    ("conv kernel_f shape", 1, {"kernel_f": [[[[0]]]]}, "c1", "kernel_f", "does not match"),
    ("conv bias shape", 1, {"bias_raw": [1, 2]}, "c1", "bias_raw", "expected \\[4\\]"),
    ("conv strides count", 1, {"strides": [1]}, "c1", "strides", "1 stride"),
    ("conv stride zero", 1, {"strides": [0, 1]}, "c1", "strides", "must lie in \\[1,"),
    ("conv stride bool", 1, {"strides": [True, 1]}, "c1", "strides", "expected integers"),
    ("conv strides empty", 1, {"strides": []}, "c1", "strides", "non-empty list"),
    ("conv padding", 1, {"padding": "causal"}, "c1", "padding", "expected one of 'valid', 'same'"),
    ("conv padding case", 1, {"padding": "SAME"}, "c1", "padding", "expected one of"),
    ("conv exponent", 1, {"bias_f": [1, 0, 3, 999]}, "c1", "bias_f", "must lie in"),
    (
        "conv channels",
        1,
        {"kernel_raw": [[[[1]]]], "kernel_f": [[[[1]]]], "bias_raw": [0], "bias_f": [0]},
        "c1",
        "kernel_raw",
        "2 channels but the kernel reads 1",
    ),
    (
        "conv valid too big",
        1,
        {
            "padding": "valid",
            "kernel_raw": np.ones((7, 1, 2, 4), int).tolist(),
            "kernel_f": np.ones((7, 1, 2, 4), int).tolist(),
        },
        "c1",
        "padding",
        "does not fit",
    ),
    ("conv unknown field", 1, {"dilation": [1, 1]}, "c1", "dilation", "unknown field"),
    ("pool same", 3, {"padding": "same"}, "p1", "padding", "only 'valid' padding"),
    (
        "pool dims",
        3,
        {"pool_size": [1, 2, 2], "strides": [1, 1, 1]},
        "p1",
        "pool_size",
        "1 or 2 spatial",
    ),
    ("pool strides", 3, {"strides": [1]}, "p1", "strides", "1 stride"),
    (
        "pool on wrong rank",
        3,
        {"pool_size": [2], "strides": [2]},
        "p1",
        "pool_size",
        "channels-last shape of 2",
    ),
    ("avg not power of two", 4, {"pool_size": [1, 3]}, "a1", "pool_size", "not a power of two"),
    ("avg missing strides", 4, {"strides": None}, "a1", "strides", "non-empty list"),
    ("reshape size", 5, {"shape": [9]}, "flat", "shape", "has 16 elements, shape \\[9\\] has 9"),
    ("reshape string", 5, {"shape": "8"}, "flat", "shape", "non-empty list"),
    ("dense on N-d", 5, {"shape": [2, 8]}, "d", "inputs", "Reshape to \\[16\\]"),
    (
        "requantize N-d shape",
        2,
        {
            "kind": "Requantize",
            "k": [[1]],
            "i": [[1]],
            "f": [[1]],
            "round": "TRN",
            "overflow": "SAT",
        },
        "r1",
        "k",
        "per-element types have shape",
    ),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_version_2_fields_name_file_layer_field(case: tuple) -> None:
    _, index, fields, layer, field, match = case
    obj = _edit(index, **fields)
    if fields.get("strides", 0) is None:
        del obj["layers"][index]["strides"]
        match = "missing required field"
    with pytest.raises(SpecError, match=match) as info:
        loads(json.dumps(obj), source="bad.json")
    assert (info.value.file, info.value.layer, info.value.field) == ("bad.json", layer, field)


def test_n_d_requantize_and_relu_are_elementwise() -> None:
    shape = (2, 3)
    spec = ModelSpec(
        "nd",
        [
            InputSpec(
                name="x", k=np.ones(shape, int), i=np.ones(shape, int), f=np.ones(shape, int)
            ),
            RequantizeSpec(
                name="q",
                inputs=("x",),
                k=np.zeros(shape, int),
                i=np.ones(shape, int),
                f=np.zeros(shape, int),
            ),
            ReLUSpec(name="r", inputs=("q",)),
            OutputSpec(name="y", inputs=("r",)),
        ],
    )
    assert spec.output_shape == shape
    assert loads(dumps(spec)) == spec
    assert copy.deepcopy(spec) == spec
