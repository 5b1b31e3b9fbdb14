"""Adder graphs (hgq_hw.cmvm) against exact integer products and the spec reference."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hgq_hw.cmvm import AdderGraph, csd_digits, csd_value, dense_graph, solve
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import evaluate, infer_types
from tests.hw.conftest import random_raw_inputs

CONFIGS = {
    "small": dict(depth=3, width=(1, 8)),
    "wide": dict(
        depth=2,
        width=(1, 5),
        input_bits=(20, 48),
        act_bits=(20, 60),
        weight_bits=(20, 40),
        f_range=(-20, 30),
    ),
    "negative_f": dict(depth=2, width=(1, 6), f_range=(-8, -1)),
    "pruned": dict(depth=2, width=(2, 8), prune=0.8, zero_width=0.3),
    "one_element": dict(depth=3, width=(1, 1)),
}


# -- CSD ------------------------------------------------------------------------------------


@given(st.integers(min_value=-(1 << 80), max_value=1 << 80))
def test_csd_roundtrip_and_no_adjacent_digits(n: int) -> None:
    digits = csd_digits(n)
    assert csd_value(digits) == n
    shifts = [s for s, _ in digits]
    assert all(b - a >= 2 for a, b in itertools.pairwise(shifts))
    assert all(sign in (1, -1) for _, sign in digits)
    assert len(digits) <= (abs(n).bit_length() + 2) // 2 + 1


def test_csd_examples() -> None:
    assert csd_digits(0) == []
    assert csd_digits(7) == [(0, -1), (3, 1)]
    assert csd_digits(-1) == [(0, -1)]
    with pytest.raises(TypeError, match="needs an int"):
        csd_digits(1.5)  # type: ignore[arg-type]


# -- solve on plain matrices ----------------------------------------------------------------


def _corners(lo: list[int], hi: list[int]) -> np.ndarray:
    return np.array(list(itertools.product(*zip(lo, hi))), dtype=object)


def _check_graph(g: AdderGraph, w: np.ndarray, bias: list[int], x: np.ndarray) -> None:
    expected = x.astype(object) @ w.astype(object) + np.array(bias, dtype=object)
    assert np.array_equal(g(x), expected)
    for node, values in enumerate(g.node_values(x)):
        lo, hi = g.node_interval(node)
        assert all(lo <= int(v) <= hi for v in values), f"node {node} left [{lo}, {hi}]"


@pytest.mark.parametrize("slack", [None, 0, 1, 3])
@pytest.mark.parametrize("seed", range(6))
def test_solve_matches_matrix_product(seed: int, slack: int | None) -> None:
    rng = np.random.default_rng(seed)
    n_in, n_out = rng.integers(1, 9, 2)
    w = rng.integers(-40, 41, (n_in, n_out))
    w[rng.random((n_in, n_out)) < 0.3] = 0
    w <<= rng.integers(0, 4, (n_in, n_out))
    bias = [int(b) for b in rng.integers(-100, 100, n_out) * (rng.random(n_out) < 0.5)]
    lo = [int(v) for v in rng.integers(-50, 1, n_in)]
    hi = [int(v) for v in rng.integers(0, 50, n_in)]
    g = solve(w, lo, hi, bias, depth_slack=slack)
    x = rng.integers(lo, np.array(hi) + 1, (40, n_in)).astype(object)
    _check_graph(g, w, bias, x)


@pytest.mark.parametrize("seed", range(4))
def test_intervals_are_exact(seed: int) -> None:
    """Every node's interval is reached at some corner of the input box (no slack bits)."""
    rng = np.random.default_rng(100 + seed)
    n_in, n_out = 5, 4
    w = rng.integers(-20, 21, (n_in, n_out))
    lo = [int(v) for v in rng.integers(-8, 3, n_in)]
    hi = [lo[i] + int(rng.integers(0, 9)) for i in range(n_in)]
    g = solve(w, lo, hi, [3, 0, -5, 0])
    values = g.node_values(_corners(lo, hi))
    for node, v in enumerate(values):
        assert (min(v), max(v)) == g.node_interval(node), f"node {node}"


def test_cse_shares_subexpressions() -> None:
    # Every column is (x0 + x1) * something: the sum must be made once.
    w = np.array([[1, 2, 4, 3], [1, 2, 4, 3]])
    g = solve(w, [-8, -8], [7, 7])
    assert g.n_adders <= 2  # x0 + x1, then (s << 1) + s for the 3
    assert g.depth <= 2


def test_depth_slack_trades_adders_for_depth() -> None:
    rng = np.random.default_rng(7)
    w = rng.integers(-127, 128, (24, 24))
    lo, hi = [-128] * 24, [127] * 24
    free, tight = solve(w, lo, hi), solve(w, lo, hi, depth_slack=0)
    assert tight.depth <= free.depth
    assert free.n_adders <= tight.n_adders
    # depth_slack=0 stays within one adder of the no-sharing optimum ceil(log2(terms)).
    for j, o in enumerate(tight.outputs):
        terms = sum(len(csd_digits(int(v))) for v in w[:, j])
        assert tight.node_depth(o.node) <= (terms - 1).bit_length() + 1


def test_pruned_and_dead_inputs_cost_nothing() -> None:
    w = np.array([[0, 0], [5, 0], [3, 0]])
    g = solve(w, [-4, 0, -4], [3, 0, 3], [0, 7])  # input 1 is constant 0
    assert g(np.array([[1, 0, 2], [-4, 0, 3]])).tolist() == [[6, 7], [9, 7]]
    assert g.n_adders == 1  # 3 * x2 = (x2 << 2) - x2; output 1 is its bias, a constant
    assert g.outputs[1].node == -1 and g.outputs[1].const == 7
    assert all(op.a != 0 and op.b != 0 for op in g.ops)


def test_all_negative_column_and_zero_matrix() -> None:
    g = solve(np.array([[-1], [-2]]), [0, 0], [3, 3])
    assert g(np.array([[3, 3], [1, 0]])).tolist() == [[-9], [-1]]
    assert g.depth <= 2
    zero = solve(np.zeros((3, 2), dtype=np.int64), [-1] * 3, [1] * 3)
    assert zero.n_adders == 0 and zero(np.ones((1, 3), dtype=np.int64)).tolist() == [[0, 0]]


def test_solve_is_deterministic_and_round_trips_json() -> None:
    rng = np.random.default_rng(3)
    w = rng.integers(-15, 16, (10, 12))
    a = solve(w, [-128] * 10, [127] * 10)
    b = solve(w, [-128] * 10, [127] * 10)
    assert a == b
    assert AdderGraph.from_json(json.loads(json.dumps(a.to_json()))) == a


def test_solve_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="2-d"):
        solve(np.zeros(3, dtype=np.int64), [0], [0])
    with pytest.raises(ValueError, match="need 2 input bounds"):
        solve(np.zeros((2, 2), dtype=np.int64), [0], [0])
    with pytest.raises(ValueError, match="lo <= hi"):
        solve(np.zeros((1, 1), dtype=np.int64), [1], [0])
    with pytest.raises(ValueError, match="bias needs 2"):
        solve(np.zeros((1, 2), dtype=np.int64), [0], [1], [1])
    with pytest.raises(ValueError, match="depth_slack"):
        solve(np.zeros((1, 1), dtype=np.int64), [0], [1], depth_slack=-1)
    g = solve(np.ones((2, 1), dtype=np.int64), [0, 0], [1, 1])
    with pytest.raises(ValueError, match=r"shape \(batch, 2\)"):
        g(np.zeros((3, 3), dtype=np.int64))


# -- Dense layers of random specs against the reference -----------------------------------


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("seed", range(8))
def test_dense_graph_matches_reference(config: str, seed: int) -> None:
    spec = random_spec(seed, **CONFIGS[config])
    x = random_raw_inputs(spec, 12, seed)
    tensors = evaluate(spec, x, all_tensors=True)
    types = infer_types(spec)
    for layer in spec.dense_layers():
        for slack in (None, 0):
            g = dense_graph(layer, types[layer.inputs[0]], depth_slack=slack)
            got = g(np.asarray(tensors[layer.inputs[0]], dtype=object))
            want = np.asarray(tensors[layer.name], dtype=object)
            assert np.array_equal(got, want), f"{spec.name} {layer.name} slack={slack}"
            # the output intervals give exactly the inferred types (checked inside, too)
            out_t = types[layer.name]
            for j, o in enumerate(g.outputs):
                t = out_t.element(j)
                assert t.raw_min <= o.lo <= o.hi <= t.raw_max


def test_dense_graph_rejects_wrong_input_type() -> None:
    spec = random_spec(1, depth=1, width=(3, 3))
    layer = spec.dense_layers()[0]
    with pytest.raises(ValueError, match="has 3 inputs"):
        dense_graph(layer, infer_types(spec)[layer.name].__class__.uniform((2,), 1, 3, 0))


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 10_000),
    st.sampled_from([None, 0, 2]),
)
def test_dense_graph_fuzz(seed: int, slack: int | None) -> None:
    spec = random_spec(seed, depth=1, width=(1, 10), weight_bits=(1, 12))
    x = random_raw_inputs(spec, 6, seed)
    tensors = evaluate(spec, x, all_tensors=True)
    types = infer_types(spec)
    layer = spec.dense_layers()[0]
    g = dense_graph(layer, types[layer.inputs[0]], depth_slack=slack)
    got = g(np.asarray(tensors[layer.inputs[0]], dtype=object))
    assert np.array_equal(got, np.asarray(tensors[layer.name], dtype=object))


@pytest.mark.parametrize("seed", range(6))
def test_plain_runs_share_work_but_not_results(seed: int) -> None:
    """plain_runs (a looser bound resumes from the tighter one's first refusal, tie-breaks
    share the terms) gives exactly the graphs of independent greedy runs."""
    from hgq_hw.cmvm.cse import Tie, greedy_graph, plain_runs

    rng = np.random.default_rng(seed)
    print(f"seed {seed}")
    n_in, n_out = int(rng.integers(4, 20)), int(rng.integers(2, 16))
    w = rng.integers(-60, 61, size=(n_in, n_out)).astype(object)
    lo = [int(v) for v in rng.integers(-32, 1, size=n_in)]
    hi = [int(v) for v in rng.integers(0, 32, size=n_in)]
    bias = [int(v) for v in rng.integers(-3, 4, size=n_out)]
    live = [True] * n_in
    slacks = [None, 0, 2, 1]
    base: dict = {}
    for tie, tie_seed in ((Tie.SHALLOWEST, None), (Tie.NEWEST, None), (Tie.SHALLOWEST, 2)):
        shared = plain_runs(w, lo, hi, bias, live, slacks, tie, tie_seed, base)
        for slack, (graph, hit) in zip(slacks, shared):
            alone, alone_hit = greedy_graph(w, lo, hi, bias, live, slack, None, tie, tie_seed)
            assert graph.to_json() == alone.to_json(), (seed, tie, tie_seed, slack)
            assert hit == alone_hit
