"""The cost features of a spec, by hand on small layers, and the coefficients file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hgq_hw.cost_features import (
    FEATURES,
    CostModel,
    dense_features,
    load_cost_model,
    spec_features,
)
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import infer_types
from hgq_hw.spec import DenseSpec, RequantizeSpec


def test_dense_features_by_hand() -> None:
    # inputs of 3, 0 and 2 bits; weights 5 (3 bits), -1 (1 bit), 0, -8 (4 bits)
    bx = np.array([3, 0, 2])
    w = np.array([[5, 0], [-1, 7], [-8, 0]])
    got = dense_features(bx, w)
    # live: (0,0) (2,0); (1,0) and (1,1) meet a width-0 input
    assert got == {
        "ebops": 3 * 3 + 0 * 1 + 0 * 3 + 2 * 4,
        "fanout_bits": 3 + 2,
        "neg_bits": 2,
        "weight_bits": 3 + 4,
        "weights": 2,
        "out_bits": max(3 + 3, 2 + 4) + 0,
    }


def test_dense_features_refuse_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="n_in = 2"):
        dense_features(np.array([1, 2]), np.zeros((3, 1), dtype=np.int64))


def test_spec_features_sum_layers_and_requantizers() -> None:
    spec = random_spec(3, depth=2, width=(3, 6))
    types = infer_types(spec)
    expected = dict.fromkeys(FEATURES, 0.0)
    for layer in spec.layers:
        if isinstance(layer, DenseSpec):
            for k, v in dense_features(types[layer.inputs[0]].width, layer.weight_raw).items():
                expected[k] += v
        if isinstance(layer, RequantizeSpec):
            expected["act_bits"] += float(types[layer.name].width.sum())
    got = spec_features(spec)
    assert got == expected
    assert got["weights"] == sum(
        int(((la.weight_raw != 0) & (types[la.inputs[0]].width[:, None] > 0)).sum())
        for la in spec.dense_layers()
    )


def test_shipped_model_loads_and_predicts_linearly() -> None:
    model = load_cost_model()
    assert model.target == "xc7_luts"
    features = dict.fromkeys(FEATURES, 1.0)
    assert model.predict(features) == pytest.approx(sum(model.coefficients.values()))
    spec = random_spec(0)
    by_hand = sum(model.coefficient(n) * v for n, v in spec_features(spec).items())
    assert model.predict_spec(spec) == by_hand


def test_bad_cost_model_files_are_named(tmp_path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match=r"c\.json"):
        load_cost_model(path)
    path.write_text(json.dumps({"format": "hgqflow-cost-model", "coefficients": {"x": 1}}))
    with pytest.raises(ValueError, match="unknown cost features"):
        load_cost_model(path)
    with pytest.raises(ValueError, match=">= 0"):
        CostModel({"ebops": -1.0})
    with pytest.raises(ValueError, match="not found"):
        load_cost_model(tmp_path / "missing.json")


def test_round_trip_json(tmp_path) -> None:
    model = CostModel({"ebops": 0.5, "act_bits": 2.0}, fit={"n": 3})
    path = tmp_path / "m.json"
    path.write_text(model.to_json())
    assert load_cost_model(path) == model
