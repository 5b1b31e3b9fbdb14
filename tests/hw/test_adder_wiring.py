"""hgq_hw.plan.adder_form.is_wiring: ops that are only wires are not counted as adders, and
every op it calls wiring really is: each bit of its result is a constant or one operand bit,
checked over every pair of operand values."""

from __future__ import annotations

import itertools

import pytest

from hgq_hw.cmvm import AdderGraph, Op, Output
from hgq_hw.fixed import signed_bits
from hgq_hw.plan import plan_network
from hgq_hw.plan.adder_form import hardware_adders, is_wiring
from hgq_hw.random_spec import random_spec

X0, X1, X2 = (0, 15), (0, 1), (-8, 7)  # 4-bit unsigned, 1-bit unsigned, 4-bit signed


def _op(a, b, sa, sb, ga, gb, const, graph_in):
    """An op with its exact interval and depth 1."""
    vals = [
        ga * (va << sa) + (gb * (vb << sb) if b >= 0 else 0) + const
        for va in graph_in[a]
        for vb in (graph_in[b] if b >= 0 else (0,))
    ]
    return Op(a, b, sa, sb, ga, gb if b >= 0 else 0, const, min(vals), max(vals), 1)


CASES = [  # (a, b, shift_a, shift_b, sign_a, sign_b, const), wiring?
    ((0, 2, 0, 4, 1, 1, 0), True),  # x0 + (x2 << 4): x0 fits below the shift, a concatenation
    ((1, -1, 0, 0, -1, 1, 0), True),  # 0 - x1 of a one-bit x1: the bit repeated
    ((2, -1, 4, 0, 1, 1, 5), True),  # (x2 << 4) + 5: the constant sits below the term
    ((0, 2, 0, 0, 1, 1, 0), False),  # x0 + x2
    ((0, -1, 0, 0, -1, 1, 0), False),  # -x0 of four bits
    ((2, -1, 4, 0, 1, 1, -15), False),  # (x2 << 4) - 15: the constant reaches the term
    ((2, 0, 0, 4, 1, 1, 0), False),  # x2 + (x0 << 4): x2's sign bits overlap
]


def _graph() -> AdderGraph:
    ranges = {i: range(lo, hi + 1) for i, (lo, hi) in enumerate((X0, X1, X2))}
    ops = tuple(_op(*case, ranges) for case, _ in CASES)
    outputs = tuple(Output(3 + i, 0, 0, op.lo, op.hi) for i, op in enumerate(ops))
    graph = AdderGraph((X0[0], X1[0], X2[0]), (X0[1], X1[1], X2[1]), ops, outputs)
    graph.check()
    return graph


def _bits(value: int, width: int) -> list[int]:
    return [(value >> i) & 1 for i in range(width)]


def _only_wires(graph: AdderGraph, index: int, limit: int = 1 << 14) -> bool | None:
    """Whether each result bit of op ``index`` equals a constant or one bit of an operand over
    all operand values (None when the operands have more than ``limit`` value pairs)."""
    op = graph.ops[index]
    nodes = [op.a] + ([op.b] if op.b >= 0 else [])
    ranges = [range(lo, hi + 1) for lo, hi in map(graph.node_interval, nodes)]
    if len(ranges[0]) * (len(ranges[1]) if len(ranges) > 1 else 1) > limit:
        return None
    width = signed_bits(op.lo, op.hi)[1]
    widths = [max(signed_bits(r.start, r.stop - 1)[1], 1) for r in ranges]
    columns: list[tuple[int, ...]] = []
    results: list[list[int]] = []
    for values in itertools.product(*ranges):
        v = op.sign_a * (values[0] << op.shift_a) + op.const
        if op.b >= 0:
            v += op.sign_b * (values[1] << op.shift_b)
        results.append(_bits(v, width))
        columns.append(tuple(b for val, w in zip(values, widths) for b in _bits(val, w)))
    sources = {tuple(col[i] for col in columns) for i in range(len(columns[0]))}
    sources |= {(0,) * len(columns), (1,) * len(columns)}
    return all(tuple(r[i] for r in results) in sources for i in range(width))


def test_hand_made_ops() -> None:
    graph = _graph()
    got = [is_wiring(graph, i) for i in range(graph.n_adders)]
    assert got == [wiring for _, wiring in CASES]
    assert hardware_adders(graph) == 4 and graph.n_adders == 7
    for i in range(graph.n_adders):  # by brute force: exactly the wiring ops are only wires
        assert _only_wires(graph, i) is got[i]


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_wiring_ops_of_planned_graphs_are_wires(seed: int) -> None:
    print(f"random_spec seed {seed}")
    plan = plan_network(random_spec(seed, depth=3, width=(4, 8), weight_bits=(1, 6)))
    checked = 0
    for layer in plan.layers:
        if layer.kind != "Dense":
            continue
        graph = layer.graph
        wiring = [i for i in range(graph.n_adders) if is_wiring(graph, i)]
        assert layer.n_adders == graph.n_adders - len(wiring)
        for i in wiring:
            verdict = _only_wires(graph, i)
            assert verdict is not False, f"op {i} of {layer.name} is not wires: {graph.ops[i]}"
            checked += verdict is True
    assert plan.n_adders == sum(layer.n_adders for layer in plan.layers)
    print(f"{checked} wiring ops checked by brute force")
