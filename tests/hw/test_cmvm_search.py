"""The search of hgq_hw.cmvm.solve: bit-exact, exact intervals, depth bounds, monotone in slack."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hgq_hw.cmvm import AdderGraph, csd_digits, dense_graph, solve
from hgq_hw.cmvm.cse import Tie, greedy_graph
from hgq_hw.cmvm.decompose import csd_weight, spanning_tree
from hgq_hw.cmvm.search import RANKED, output_depths, plan
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import evaluate, infer_types
from tests.hw.conftest import random_raw_inputs

SLACKS = (0, 1, 2, 4, None)


def _problem(seed: int) -> tuple[np.ndarray, list[int], list[int], list[int]]:
    """Random widths (1..12 bits), zeros, a zero and a negative column, mixed input types."""
    rng = np.random.default_rng(seed)
    n_in, n_out = (int(v) for v in rng.integers(1, 9, 2))
    bits = rng.integers(1, 13, (n_in, n_out))
    w = rng.integers(-(1 << (bits - 1)), 1 << (bits - 1))
    w[rng.random((n_in, n_out)) < rng.random()] = 0
    if n_out > 1:
        w[:, 0] = 0  # an all-zero column
        w[:, -1] = -np.abs(w[:, -1]) - 1  # an all-negative column
    if n_out > 3:
        w[:, 2] = w[:, 1] + rng.integers(-1, 2, n_in)  # a near-copy: a tree link pays
    in_bits = rng.integers(0, 10, n_in)
    signed = rng.random(n_in) < 0.5
    lo = [-(1 << int(b - 1)) if s and b else 0 for b, s in zip(in_bits, signed)]
    hi = [(1 << int(b - (1 if s else 0))) - 1 if b else 0 for b, s in zip(in_bits, signed)]
    bias = [int(v) for v in rng.integers(-50, 50, n_out) * (rng.random(n_out) < 0.4)]
    return w.astype(np.int64), lo, hi, bias


def _inputs(lo: list[int], hi: list[int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.integers(lo, np.array(hi) + 1, (30, len(lo)))
    corners = np.array(list(itertools.islice(itertools.product(*zip(lo, hi)), 64)))
    return np.vstack([x, corners]).astype(object)


def _check_exact(g: AdderGraph, w: np.ndarray, bias: list[int], x: np.ndarray) -> None:
    expected = x @ w.astype(object) + np.array(bias, dtype=object)
    assert np.array_equal(g(x), expected)
    for node, values in enumerate(g.node_values(x)):
        lo, hi = g.node_interval(node)
        assert all(lo <= int(v) <= hi for v in values), f"node {node} left [{lo}, {hi}]"


def _minimum(w: np.ndarray, bias: list[int], lo: list[int], hi: list[int]) -> list[int]:
    live = np.array([not (a == 0 and b == 0) for a, b in zip(lo, hi)])
    terms = [
        sum(len(csd_digits(int(v))) for v in w[live, j]) + (1 if bias[j] else 0)
        for j in range(w.shape[1])
    ]
    return [(t - 1).bit_length() if t else 0 for t in terms]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 100_000))
def test_every_slack_is_exact_bounded_and_monotone(seed: int) -> None:
    w, lo, hi, bias = _problem(seed)
    x = _inputs(lo, hi, seed)
    minimum = _minimum(w, bias, lo, hi)
    adders = []
    for slack in SLACKS:
        g = solve(w, lo, hi, bias, depth_slack=slack)
        _check_exact(g, w, bias, x)
        if slack is not None:
            for j, d in enumerate(output_depths(g)):
                # the plain greedy run may add one negation to an all-negative column
                assert d <= minimum[j] + slack + 1, f"seed {seed} slack {slack} output {j}"
        adders.append(g.n_adders)
    assert adders == sorted(adders, reverse=True), f"seed {seed}: adders {adders} by slack"


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 100_000))
def test_max_depth_is_met_and_monotone(seed: int) -> None:
    w, lo, hi, bias = _problem(seed)
    x = _inputs(lo, hi, seed)
    shallow = solve(w, lo, hi, bias, depth_slack=0).depth
    adders = []
    for max_depth in range(shallow, shallow + 5):
        g = solve(w, lo, hi, bias, max_depth=max_depth)
        _check_exact(g, w, bias, x)
        assert g.depth <= max_depth, f"seed {seed}: depth {g.depth} > {max_depth}"
        adders.append(g.n_adders)
    assert adders == sorted(adders, reverse=True), f"seed {seed}: adders {adders} by depth"
    assert solve(w, lo, hi, bias).n_adders <= adders[-1]


@pytest.mark.parametrize("seed", range(4))
def test_intervals_stay_exact_with_trees(seed: int) -> None:
    """Every node's interval is reached at a corner of the input box, on deep solutions too."""
    rng = np.random.default_rng(200 + seed)
    base = rng.integers(-20, 21, 5)
    w = np.stack([base + rng.integers(-1, 2, 5) for _ in range(6)], axis=1)
    lo = [int(v) for v in rng.integers(-8, 3, 5)]
    hi = [lo[i] + int(rng.integers(0, 9)) for i in range(5)]
    g = solve(w, lo, hi, [3, 0, -5, 0, 1, 0])
    values = g.node_values(np.array(list(itertools.product(*zip(lo, hi))), dtype=object))
    for node, v in enumerate(values):
        assert (min(v), max(v)) == g.node_interval(node), f"seed {seed} node {node}"


def test_depth_buys_adders_on_random_kernel() -> None:
    """16x64 4-bit on 8-bit inputs (seed 0): the free solution is deeper and cheaper."""
    w = np.random.default_rng(0).integers(-8, 8, (16, 64))
    lo, hi = [-128] * 16, [127] * 16
    tight, free = solve(w, lo, hi, depth_slack=0), solve(w, lo, hi)
    assert free.n_adders < tight.n_adders
    assert free.depth > tight.depth
    x = _inputs(lo, hi, 0)[:40]
    for g in (tight, free):
        _check_exact(g, w, [0] * 64, x)
    assert AdderGraph.from_json(json.loads(json.dumps(free.to_json()))) == free


@pytest.mark.parametrize("tie", list(Tie))
@pytest.mark.parametrize("level", [0, 1, None])
def test_every_greedy_variant_is_exact(tie: Tie, level: int | None) -> None:
    rng = np.random.default_rng(5)
    w = rng.integers(-30, 31, (7, 9)).astype(object)
    w[:, 4] = w[:, 3] + 1
    lo, hi = [-16] * 7, [15] * 7
    tree = None if level == 0 else spanning_tree(w, level, 1)
    g, _ = greedy_graph(w, lo, hi, [0] * 9, [True] * 7, None, tree, tie, None)
    _check_exact(g, w.astype(np.int64), [0] * 9, _inputs(lo, hi, 5))


@pytest.mark.parametrize("sign", [1, -1])
def test_a_parent_column_that_is_a_constant_folds_into_the_bias(sign: int) -> None:
    """Column 0 reads only a dead input (raw interval [0, 0]), so its output is its bias; column
    1 hangs from it. ``spanning_tree`` never links to such a column, so the tree is made here."""
    from hgq_hw.cmvm.decompose import ColumnTree

    w = np.array([[5, sign * 5], [0, 3]], dtype=object)
    lo, hi, bias = [0, -8], [0, 7], [7, 3]
    residual = w.copy()
    residual[:, 1] = w[:, 1] - sign * w[:, 0]
    tree = ColumnTree(parent=(-1, 0), sign=(1, sign), residual=residual, order=(0, 1))
    g, _ = greedy_graph(w, lo, hi, bias, [False, True], None, tree, Tie.SHALLOWEST, None)
    assert g.outputs[0].node == -1 and g.outputs[0].const == 7
    _check_exact(g, w.astype(np.int64), bias, _inputs(lo, hi, 2))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("level", [0, 1, 2, None])
def test_spanning_tree_reconstructs_columns(seed: int, level: int | None) -> None:
    rng = np.random.default_rng(seed)
    w = rng.integers(-8, 8, (6, 12))
    w[:, 5] = w[:, 4] * -1 + rng.integers(-1, 2, 6)
    tree = spanning_tree(w.astype(object), level)
    assert sorted(tree.order) == list(range(12))
    position = {j: k for k, j in enumerate(tree.order)}
    depth = {}
    for j in tree.order:
        k = tree.parent[j]
        want = w[:, j] if k < 0 else w[:, j] - tree.sign[j] * w[:, k]
        assert np.array_equal(tree.residual[:, j].astype(np.int64), want)
        if k >= 0:
            assert position[k] < position[j]
            own = int(csd_weight(w[:, j]).sum())
            assert int(csd_weight(want).sum()) + 1 < own  # only strictly cheaper links
        depth[j] = 0 if k < 0 else depth[k] + 1
    if level is not None:
        assert max(depth.values()) <= level
    if level == 0:
        assert tree.n_linked == 0


def test_csd_weight_matches_digits() -> None:
    values = np.arange(-3000, 3000)
    assert np.array_equal(csd_weight(values), [len(csd_digits(int(v))) for v in values])
    wide = np.array([(1 << 70) - 1, -(3 << 65), 0], dtype=object)
    assert csd_weight(wide).tolist() == [len(csd_digits(int(v))) for v in wide]


def test_plan_grows_with_the_bounds() -> None:
    for pairs in (10, 50_000, 400_000, 5_000_000):
        loose = set(plan(pairs, None, None))
        for slack in (0, 1, 2, 5):
            assert set(plan(pairs, slack, None)) <= set(plan(pairs, slack + 1, None)) <= loose
        for depth in range(0, 12):
            assert set(plan(pairs, None, depth)) <= set(plan(pairs, None, depth + 1)) <= loose
    assert len(plan(10, None, None)) == len(RANKED)
    assert len(plan(5_000_000, None, None)) == 2


def test_solve_rejects_bad_search_options() -> None:
    w = np.ones((2, 2), dtype=np.int64)
    with pytest.raises(ValueError, match="max_depth"):
        solve(w, [0, 0], [1, 1], max_depth=-1)
    with pytest.raises(ValueError, match="effort"):
        solve(w, [0, 0], [1, 1], effort=0)
    with pytest.raises(ValueError, match="at most 1024 bits"):
        solve(np.array([[1 << 1100]], dtype=object), [0], [1])


@pytest.mark.parametrize("seed", range(3))
def test_dense_graph_passes_depth_options(seed: int) -> None:
    spec = random_spec(seed, depth=1, width=(4, 10), weight_bits=(2, 8))
    layer = spec.dense_layers()[0]
    types = infer_types(spec)
    tensors = evaluate(spec, random_raw_inputs(spec, 8, seed), all_tensors=True)
    x = np.asarray(tensors[layer.inputs[0]], dtype=object)
    shallow = dense_graph(layer, types[layer.inputs[0]], depth_slack=0)
    for options in (
        {"max_depth": shallow.depth},
        {"max_depth": shallow.depth + 2},
        {"effort": 0.1},
    ):
        g = dense_graph(layer, types[layer.inputs[0]], **options)
        assert np.array_equal(g(x), np.asarray(tensors[layer.name], dtype=object)), options
        if "max_depth" in options:
            assert g.depth <= options["max_depth"]
            assert g.n_adders <= shallow.n_adders
