"""The spec file contract: exact round-trips, and every bad file refused with file/layer/field."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hgq_hw.fixed import Overflow, Round
from hgq_hw.random_spec import random_spec
from hgq_hw.spec import (
    SCHEMA_VERSION,
    DenseSpec,
    InputSpec,
    ModelSpec,
    OutputSpec,
    SpecError,
    dumps,
    load,
    loads,
    save,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "specs" / "tiny.json"


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    depth=st.integers(0, 4),
    width=st.tuples(st.integers(1, 4), st.integers(0, 12)).map(lambda t: (t[0], t[0] + t[1])),
    bits=st.integers(1, 64),
    f_lo=st.integers(-128, 60),
    prune=st.floats(0, 1),
)
def test_round_trip_random_specs(seed, depth, width, bits, f_lo, prune, tmp_path_factory) -> None:
    spec = random_spec(
        seed,
        depth=depth,
        width=width,
        input_bits=(1, bits),
        act_bits=(0, bits),
        weight_bits=(1, min(bits, 62)),
        f_range=(f_lo, f_lo + 8),
        prune=prune,
    )
    path = tmp_path_factory.mktemp("rt") / "spec.json"
    save(spec, path)
    again = load(path)
    assert again == spec
    assert dumps(again) == path.read_text()
    assert again.shape(again.output.name) == spec.output_shape


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    spatial=st.integers(1, 2),
    conv_depth=st.integers(1, 2),
    bits=st.integers(1, 64),
    prune=st.floats(0, 1),
)
def test_round_trip_random_conv_specs(seed, spatial, conv_depth, bits, prune) -> None:
    spec = random_spec(
        seed,
        spatial=spatial,
        conv_depth=conv_depth,
        depth=1,
        input_bits=(1, bits),
        act_bits=(0, bits),
        weight_bits=(1, min(bits, 62)),
        prune=prune,
    )
    text = dumps(spec)
    again = loads(text)
    assert again == spec and dumps(again) == text
    assert json.loads(text)["version"] == 2


def test_same_seed_same_bytes() -> None:
    assert dumps(random_spec(5, depth=3)) == dumps(random_spec(5, depth=3))
    assert dumps(random_spec(5, depth=3)) != dumps(random_spec(6, depth=3))


def test_extreme_but_valid_values_round_trip() -> None:
    spec = ModelSpec(
        "extreme",
        [
            InputSpec(
                name="x",
                k=[1, 0, 0],
                i=[-128, 64, 0],
                f=[128, 0, 0],
                round=Round.RND,
                overflow=Overflow.WRAP,
            ),
            DenseSpec(
                name="d",
                inputs=("x",),
                weight_raw=[[2**63 - 1], [-(2**63) + 1], [0]],
                weight_f=[[128], [-128], [0]],
                bias_raw=[0],
                bias_f=[0],
            ),
            OutputSpec(name="y", inputs=("d",)),
        ],
    )
    assert loads(dumps(spec)) == spec


def _example() -> dict:
    return json.loads(EXAMPLE.read_text())


def _expect_error(
    tmp_path: Path, doc: object, layer: str | None, field: str | None, match: str
) -> SpecError:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    with pytest.raises(SpecError, match=match) as info:
        load(path)
    err = info.value
    assert err.file == str(path) and str(path) in str(err)
    assert err.layer == layer, str(err)
    assert err.field == field, str(err)
    if layer is not None:
        assert repr(layer) in str(err)
    if field is not None:
        assert repr(field) in str(err)
    return err


def _mutate(fn) -> dict:
    doc = copy.deepcopy(_example())
    fn(doc)
    return doc


LAYER_CASES = [
    # (description, mutation, layer, field, message pattern)
    ("missing field", lambda d: d["layers"][1].pop("weight_f"), "fc1", "weight_f", "missing"),
    ("missing name", lambda d: d["layers"][3].pop("name"), "#3", "name", "missing"),
    ("missing inputs", lambda d: d["layers"][2].pop("inputs"), "relu1", "inputs", "missing"),
    (
        "string for array",
        lambda d: d["layers"][1].__setitem__("bias_raw", "12"),
        "fc1",
        "bias_raw",
        "expected a \\(nested\\) list",
    ),
    (
        "float in array",
        lambda d: d["layers"][0]["f"].__setitem__(0, 2.5),
        "x",
        "f",
        "expected integers",
    ),
    (
        "bool in array",
        lambda d: d["layers"][0]["k"].__setitem__(0, True),
        "x",
        "k",
        "expected integers",
    ),
    (
        "bad enum",
        lambda d: d["layers"][3].__setitem__("round", "NEAREST"),
        "q1",
        "round",
        "expected one of TRN, RND",
    ),
    (
        "enum wrong type",
        lambda d: d["layers"][3].__setitem__("overflow", 1),
        "q1",
        "overflow",
        "expected one of WRAP, SAT",
    ),
    (
        "ragged weights",
        lambda d: d["layers"][1]["weight_raw"][0].append(1),
        "fc1",
        "weight_raw",
        "ragged",
    ),
    (
        "weight_f shape",
        lambda d: d["layers"][1]["weight_f"].pop(),
        "fc1",
        "weight_f",
        "does not match weight_raw",
    ),
    ("bias shape", lambda d: d["layers"][1]["bias_f"].append(0), "fc1", "bias_f", "does not match"),
    (
        "dense input rows",
        lambda d: d["layers"][0].update(k=[1, 1], i=[2, 2], f=[3, 3]),
        "fc1",
        "weight_raw",
        "has 3 rows",
    ),
    (
        "requantize shape",
        lambda d: d["layers"][3].update(k=[0], i=[3], f=[2]),
        "q1",
        "k",
        "per-element types have shape",
    ),
    ("kif shapes differ", lambda d: d["layers"][3].update(i=[3, 2, 1]), "q1", "i", "differs"),
    ("width over 64", lambda d: d["layers"][3]["i"].__setitem__(0, 63), "q1", "f", "over 64 bits"),
    (
        "weight over 64 bits",
        lambda d: d["layers"][1]["weight_raw"][0].__setitem__(0, 2**64),
        "fc1",
        "weight_raw",
        "wider than 64 bits",
    ),
    ("negative width", lambda d: d["layers"][0]["i"].__setitem__(0, -9), "x", "i", "negative"),
    ("sign bit 2", lambda d: d["layers"][0]["k"].__setitem__(0, 2), "x", "k", "0 or 1"),
    (
        "huge exponent",
        lambda d: d["layers"][1]["weight_f"][0].__setitem__(0, 500),
        "fc1",
        "weight_f",
        "must lie in",
    ),
    (
        "unknown kind",
        lambda d: d["layers"][2].__setitem__("kind", "Softmax"),
        "relu1",
        "kind",
        "unknown layer kind 'Softmax'",
    ),
    (
        "unknown field",
        lambda d: d["layers"][1].__setitem__("activation", "relu"),
        "fc1",
        "activation",
        "unknown field",
    ),
    (
        "dangling input",
        lambda d: d["layers"][2].__setitem__("inputs", ["nope"]),
        "relu1",
        "inputs",
        "not the name of an earlier layer",
    ),
    (
        "two inputs to relu",
        lambda d: d["layers"][2].__setitem__("inputs", ["fc1", "x"]),
        "relu1",
        "inputs",
        "takes 1 input",
    ),
    (
        "duplicate name",
        lambda d: d["layers"][3].__setitem__("name", "fc1"),
        "fc1",
        "name",
        "duplicate",
    ),
    (
        "bad name",
        lambda d: d["layers"][3].__setitem__("name", "q 1"),
        "q 1",
        "name",
        "not a valid name",
    ),
    ("no output last", lambda d: d["layers"].pop(), "q1", "kind", "last layer must be an Output"),
]


@pytest.mark.parametrize("case", LAYER_CASES, ids=[c[0] for c in LAYER_CASES])
def test_bad_layer_fields(tmp_path: Path, case: tuple) -> None:
    _, mutation, layer, field, match = case
    _expect_error(tmp_path, _mutate(mutation), layer, field, match)


TOP_CASES = [
    (
        "newer version",
        lambda d: d.__setitem__("version", SCHEMA_VERSION + 1),
        "version",
        "newer than this hgqflow supports",
    ),
    ("version string", lambda d: d.__setitem__("version", "1"), "version", "integer schema"),
    ("wrong format", lambda d: d.__setitem__("format", "onnx"), "format", "not an hgqflow-spec"),
    ("missing layers", lambda d: d.pop("layers"), "layers", "missing"),
    ("missing metadata", lambda d: d.pop("metadata"), "metadata", "missing"),
    ("unknown top field", lambda d: d.__setitem__("weights", []), "weights", "unknown top-level"),
    ("layers not a list", lambda d: d.__setitem__("layers", {}), "layers", "list of layers"),
]


@pytest.mark.parametrize("case", TOP_CASES, ids=[c[0] for c in TOP_CASES])
def test_bad_top_level(tmp_path: Path, case: tuple) -> None:
    _, mutation, field, match = case
    _expect_error(tmp_path, _mutate(mutation), None, field, match)


def test_not_json_and_missing_file(tmp_path: Path) -> None:
    _expect_error(tmp_path, '{"format": "hgqflow-spec", ', None, None, "not valid JSON")
    with pytest.raises(SpecError, match="cannot read"):
        load(tmp_path / "absent.json")


def test_example_loads_and_constructors_validate() -> None:
    spec = load(EXAMPLE)
    assert [layer.kind for layer in spec.layers] == [
        "Input",
        "Dense",
        "ReLU",
        "Requantize",
        "Output",
    ]
    assert spec.output_shape == (2,)
    with pytest.raises(SpecError, match="field 'bias_raw'") as info:
        DenseSpec(
            name="d",
            inputs=("x",),
            weight_raw=np.ones((2, 3), dtype=int),
            weight_f=np.zeros((2, 3), dtype=int),
            bias_raw=[0],
            bias_f=[0, 0, 0],
        )
    assert info.value.layer == "d"
