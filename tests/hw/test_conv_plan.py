"""Conv, AvgPool, MaxPool and Reshape through the planner: plans over flattened tensors that
equal the reference bit for bit on random Conv1D / Conv2D specs."""

from __future__ import annotations

import numpy as np
import pytest

from hgq_hw.cost_features import spec_features
from hgq_hw.plan import AvgPoolPlan, ConvPlan, MaxPlan, NetworkPlan, ReshapePlan, plan_network
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import evaluate
from tests.hw.conftest import random_raw_inputs

CONV1D = dict(spatial=1, conv_depth=2, depth=1, width=(1, 4), pool=0.8)
CONV2D = dict(spatial=2, conv_depth=2, depth=1, width=(1, 4), pool=0.8)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("params", [CONV1D, CONV2D], ids=["conv1d", "conv2d"])
def test_plan_equals_reference_on_conv_specs(seed: int, params: dict) -> None:
    print(f"random_spec seed {seed} {params}")
    spec = random_spec(seed, **params)
    x = random_raw_inputs(spec, 8, seed)
    flat = x.reshape(len(x), -1)
    want = np.asarray(evaluate(spec, x), dtype=object).reshape(len(x), -1).tolist()
    for pipeline_levels in (0, 2):
        plan = plan_network(spec, pipeline_levels=pipeline_levels)
        assert np.asarray(plan(flat), dtype=object).tolist() == want, (seed, pipeline_levels)
        assert NetworkPlan.from_json(plan.to_json()) == plan
        assert plan.in_type.shape == (int(np.prod(spec.input_shape)),)


def test_plan_kinds_and_report_rows() -> None:
    kinds = {}
    for seed in range(12):
        spec = random_spec(seed, **CONV2D)
        for layer in plan_network(spec).layers:
            kinds[type(layer)] = layer.row()["kind"]
    assert kinds[ConvPlan] == "ConvLayer"
    assert kinds[AvgPoolPlan] == "AvgPoolLayer"
    assert MaxPlan in kinds
    assert kinds[ReshapePlan] == "Reshape"


def test_reshape_is_free_and_conv_counts_every_position() -> None:
    spec = random_spec(2, **CONV1D)
    plan = plan_network(spec, pipeline_levels=1)
    reshape = plan.layer("flatten")
    assert (reshape.latency, reshape.registers, reshape.n_adders) == (0, 0, 0)
    conv = plan.layer("conv0")
    n_out = int(np.prod(spec.shape("conv0")))
    assert conv.out_type.shape == (n_out,)
    assert conv.weights == int(np.prod(spec.input_shape)) * n_out  # the im2col matrix
    assert spec_features(spec)["ebops"] > 0
