# amaranth: UnusedElaboratable=no
"""``random_spec(softmax=P)``: the softmax block of an exported QSoftmax drawn into random
networks (issue 13, item 4): its kinds and wiring, its tables, and plan == reference == the
Amaranth component on random softmax graphs."""

from __future__ import annotations

import numpy as np
import pytest

from hgq_hw.components import Network
from hgq_hw.plan import plan_network
from hgq_hw.random_spec import SOFTMAX_KINDS, random_spec
from hgq_hw.reference import evaluate, infer_types
from hgq_hw.spec import TableSpec, dumps, loads
from tests.hw.conftest import random_raw_inputs
from tests.hw.test_components import check_stream

SOFTMAX_LAYERS = [
    ("sm_in", "Requantize"),
    ("sm_col", "Reshape"),
    ("sm_maxpool", "MaxPool"),
    ("sm_max", "Reshape"),
    ("sm_max_b", "Dense"),
    ("sm_diff", "Subtract"),
    ("sm_exp_in", "Requantize"),
    ("sm_exp", "Table"),
    ("sm_sum", "Dense"),
    ("sm_recip_in", "Requantize"),
    ("sm_recip", "Table"),
    ("sm_recip_b", "Dense"),
    ("sm_mul", "Multiply"),
    ("sm", "Requantize"),
]
"""The block's layers in order, as ``QSoftmax.to_spec`` names them with ``sm`` for the layer."""


def softmax_spec(seed: int):
    """A random network ending in a softmax: chains, tables and merges in front of it."""
    return random_spec(
        seed,
        depth=1 + seed % 2,
        width=(2, 6),
        table=0.5 * (seed % 3 == 1),
        merges=seed % 3 == 2,
        softmax=1.0,
    )


def _flat(spec, x: np.ndarray) -> np.ndarray:
    return np.asarray(evaluate(spec, x), dtype=object).reshape(len(x), -1)


def test_softmax_zero_draws_what_it_always_drew() -> None:
    for seed in range(6):
        options = {"depth": 2, "table": 0.5, "merges": seed % 2}
        assert dumps(random_spec(seed, softmax=0.0, **options)) == dumps(
            random_spec(seed, **options)
        )
    with pytest.raises(ValueError, match="softmax must be a probability"):
        random_spec(0, softmax=1.5)


@pytest.mark.parametrize("seed", range(6))
def test_softmax_block_has_the_kinds_and_wiring_of_an_exported_qsoftmax(seed: int) -> None:
    print(f"seed {seed}")
    spec = softmax_spec(seed)
    assert loads(dumps(spec)) == spec
    block = [(la.name, la.kind) for la in spec.layers if la.name.startswith("sm")]
    assert block == SOFTMAX_LAYERS
    assert {kind for _, kind in block} == set(SOFTMAX_KINDS)
    layers = {layer.name: layer for layer in spec.layers}
    assert layers["sm_diff"].inputs == ("sm_in", "sm_max_b")
    assert layers["sm_mul"].inputs == ("sm_exp", "sm_recip_b")
    assert spec.layers[-1].inputs == ("sm",)
    n = spec.shape("sm_in")[0]
    assert spec.shape("sm_col") == (n, 1) and spec.shape("sm_sum") == (1,)
    assert spec.shape("sm_exp") == spec.shape("sm") == (n,)
    assert layers["sm_sum"].weight_raw.tolist() == [[1]] * n


def test_softmax_tables_hold_exp_and_the_reciprocal() -> None:
    """Entries in each element's output range, monotone in the raw input (the functions are),
    and the rounded function itself where it is in range."""
    varied = 0
    for seed in range(20):
        spec = softmax_spec(seed)
        types = infer_types(spec)
        for name, function, sign in (
            ("sm_exp", lambda x: np.exp(np.minimum(x, 700.0)), 1),  # finite; clipped anyway
            ("sm_recip", lambda s: 1 / np.maximum(s, 1), -1),
        ):
            layer = next(la for la in spec.layers if la.name == name)
            assert isinstance(layer, TableSpec)
            t_in, t_out = types[layer.inputs[0]], types[name]
            lo, hi = t_out.raw_bounds()
            in_lo, _ = t_in.raw_bounds()
            for e, which in enumerate(layer.table_of):
                table = np.asarray(layer.tables[which], dtype=np.int64)
                assert lo[e] <= table.min() and table.max() <= hi[e], (seed, name, e)
                assert np.all(sign * np.diff(table) >= 0), (seed, name, e)
                real = function(np.ldexp(float(in_lo[e]) + np.arange(len(table)), -int(t_in.f[e])))
                exact = np.floor(np.ldexp(real, int(t_out.f[e])) + 0.5)
                inside = (exact >= lo[e]) & (exact <= hi[e])
                assert np.array_equal(table[inside], exact[inside]), (seed, name, e)
                varied += len(set(table.tolist())) > 1
    assert varied > 40  # most tables are not constants


def test_softmax_outputs_vary_as_calibrated_quantizers_let_them() -> None:
    """``sm_in`` and the two table inputs get integer bits calibrated on the values reaching
    them, as training calibrates a QSoftmax's, and widths from the upper half of their ranges.
    Over seeds 0..39, 66 of the 182 softmax outputs take 3 or more values on 103 inputs (19
    when their integer bits were drawn blind). Most of the rest sit behind a logit that barely
    moves."""
    varied = 0
    for seed in range(40):
        spec = softmax_spec(seed)
        x = random_raw_inputs(spec, 100, seed)
        y = _flat(spec, x.reshape(len(x), -1))
        varied += sum(len(set(y[:, e].tolist())) >= 3 for e in range(y.shape[1]))
    assert varied >= 50, f"{varied} softmax outputs take 3 or more values"


def test_plan_equals_reference_on_random_softmax_graphs() -> None:
    for seed in range(16):
        spec = softmax_spec(seed)
        x = random_raw_inputs(spec, 40, seed)
        x = x.reshape(len(x), -1)
        want = _flat(spec, x)
        for levels in (0, 1, 2):
            plan = plan_network(spec, pipeline_levels=levels)
            assert np.array_equal(plan(x), want), f"seed {seed}, levels {levels}"


@pytest.mark.parametrize("seed", [0, 2, 4])
def test_amaranth_network_matches_reference_on_random_softmax_graphs(seed: int) -> None:
    print(f"seed {seed}")
    spec = softmax_spec(seed)
    net = Network.from_spec(spec, pipeline_levels=1 + seed % 2)
    x = random_raw_inputs(spec, 12, seed)
    check_stream(net, net.in_type, net.out_type, x, evaluate(spec, x), gaps=0.3, seed=seed)
