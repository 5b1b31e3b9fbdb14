"""The plan of a Max layer: each output element the exact maximum of some input elements, as a
balanced tree of compare-and-select nodes placed into pipeline stages.

Max pooling (or anything else that takes maxima over elements of a flattened tensor) plans
through :func:`plan_max` with ``sources[j]``, the input elements whose maximum is output ``j``.

The tree as data
----------------
Nodes ``0 .. n_in - 1`` are the input elements (raw at their own ``f``; a width-0 element is
the constant 0). Node ``n_in + k`` is ``ops[k] = (a, b, f)``: the larger of nodes ``a`` and
``b``, both first brought to ``f`` fractional bits by :func:`align` (a left shift when ``f`` is
at least the node's own, exact; otherwise an arithmetic right shift, i.e. the floor). Output
``j`` reads node ``outputs[j]`` brought to ``c = min(f_node, F - out_drop[j])`` fractional bits
and shifted left to the output's ``F = out_type.f[j]``.

Why dropping bits early is exact: the floor is monotone, so ``floor(max(a, b)) ==
max(floor(a), floor(b))``; a tree that works at ``F - d`` fractional bits gives exactly
``(y >> d) << d`` of the exact maximum ``y`` at ``F``. The planner never gives an op more
fractional bits than its operands have, nor more than the output keeps.

A pair whose order the types already decide (every value of one is at least every value of the
other, e.g. an unsigned element against a pruned one) needs no comparator: the planner takes
the larger node itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from hgq_hw.fixed import TensorType, signed_bits
from hgq_hw.plan.base import (
    LayerPlan,
    PlanError,
    check_drop,
    register_plan_kind,
)
from hgq_hw.plan.schedule import node_width
from hgq_hw.plan.timing import LEVEL, Stager

__all__ = [
    "COMPARE_SELECT_DELAY",
    "MaxOp",
    "MaxPlan",
    "align",
    "max_unread_inputs",
    "plan_max",
]

COMPARE_SELECT_DELAY = LEVEL
"""Delay units of one compare-and-select (the convolution contract: one level)."""


@dataclass(frozen=True)
class MaxOp:
    """``max(align(a, f), align(b, f))`` of nodes ``a`` and ``b``."""

    a: int
    b: int
    f: int


def align(value: Any, f_from: int, f_to: int) -> Any:
    """Raw ``value`` at ``f_from`` fractional bits brought to ``f_to``: a left shift (exact)
    or an arithmetic right shift (the floor). Python ints or object arrays."""
    return value << (f_to - f_from) if f_to >= f_from else value >> (f_from - f_to)


@dataclass(frozen=True)
class _Node:
    lo: int
    hi: int
    f: int

    @property
    def constant_zero(self) -> bool:
        return self.lo == 0 and self.hi == 0

    def at(self, f: int) -> tuple[int, int]:
        """The raw interval brought to ``f`` fractional bits."""
        return align(self.lo, self.f, f), align(self.hi, self.f, f)


def _leaves(in_type: TensorType) -> list[_Node]:
    lo, hi = in_type.raw_bounds()
    return [_Node(int(lo[e]), int(hi[e]), int(in_type.f[e])) for e in range(in_type.shape[0])]


def _op_node(a: _Node, b: _Node, f: int) -> _Node:
    (alo, ahi), (blo, bhi) = a.at(f), b.at(f)
    return _Node(max(alo, blo), max(ahi, bhi), f)


def _compare_width(a: _Node, b: _Node, f: int) -> int:
    """Bits of the signed word in which the op compares its aligned operands."""
    (alo, ahi), (blo, bhi) = a.at(f), b.at(f)
    return signed_bits(min(alo, blo, -1), max(ahi, bhi))[1]


def _nodes(in_type: TensorType, ops: Sequence[MaxOp]) -> list[_Node]:
    nodes = _leaves(in_type)
    for op in ops:
        nodes.append(_op_node(nodes[op.a], nodes[op.b], op.f))
    return nodes


@register_plan_kind
@dataclass(frozen=True, eq=False, kw_only=True)
class MaxPlan(LayerPlan):
    """Output ``j`` is the exact maximum of input elements ``sources[j]`` (low ``out_drop[j]``
    bits cleared), from compare-and-select nodes (the module docstring's tree).

    Members (besides :class:`~hgq_hw.plan.base.LayerPlan`'s)
    -------
    sources: the input elements of each output (indices into the flat input)
    ops: the compare-and-select nodes (:class:`MaxOp`), node ``n_in + k`` for ``ops[k]``
    outputs: the node each output reads
    placed: ``(stage, t)`` of every node (inputs first), stages relative to :attr:`stage`
    out_drop: low bits of each output cleared (no consumer reads them)

    A comparator is a subtractor on the carry chain: ``n_adders`` counts the comparators,
    ``adder_depth`` the longest chain of them, ``adder_bits`` their compare widths.
    """

    sources: tuple[tuple[int, ...], ...]
    ops: tuple[MaxOp, ...]
    outputs: tuple[int, ...]
    placed: tuple[tuple[int, int], ...]
    out_drop: tuple[int, ...]

    kind: ClassVar[str] = "Max"
    report_kind: ClassVar[str] = "MaxPool"
    _FIELDS: ClassVar[tuple[str, ...]] = ("sources", "ops", "outputs", "placed", "out_drop")

    @property
    def n_in(self) -> int:
        return int(self.in_type.shape[0])

    @cached_property
    def nodes(self) -> tuple[tuple[int, int, int], ...]:
        """``(lo, hi, f)`` of every node: its raw interval at its fractional bits."""
        return tuple((n.lo, n.hi, n.f) for n in _nodes(self.in_type, self.ops))

    def node_width(self, node: int) -> int:
        lo, hi, _ = self.nodes[node]
        return node_width(lo, hi)

    def compare_width(self, index: int) -> int:
        """Bits of the signed word in which ``ops[index]`` compares."""
        op = self.ops[index]
        a, b = (_Node(*self.nodes[v]) for v in (op.a, op.b))
        return _compare_width(a, b, op.f)

    def output_f(self, j: int) -> int:
        """Fractional bits at which output ``j`` reads its node (``c`` of the docstring)."""
        f_node = self.nodes[self.outputs[j]][2]
        return min(f_node, int(self.out_type.f[j]) - self.out_drop[j])

    def register_chains(self) -> tuple[dict[int, int], dict[tuple[int, int], int]]:
        """``full[node] = last stage`` the whole node is carried to, and ``narrow[(node, c)] =
        first stage`` of the node brought down to ``c`` fractional bits, carried to the last
        stage (an output that reads fewer bits than its node has)."""
        full: dict[int, int] = {}
        for index, op in enumerate(self.ops):
            stage = self.placed[self.n_in + index][0]
            for v in (op.a, op.b):
                full[v] = max(full.get(v, 0), stage)
        narrow: dict[tuple[int, int], int] = {}
        for j, v in enumerate(self.outputs):
            if int(self.out_type.width[j]) == 0 or self.node_width(v) == 0:
                continue
            c = self.output_f(j)
            if c >= self.nodes[v][2]:
                full[v] = self.latency
            else:
                narrow[(v, c)] = self.placed[v][0]
        return full, narrow

    def count_registers(self) -> int:
        """Flip-flops of the chains of :meth:`register_chains` plus ``latency`` for ``valid``."""
        full, narrow = self.register_chains()
        bits = self.latency
        for v, last in full.items():
            bits += (last - self.placed[v][0]) * self.node_width(v)
        for (v, c), start in narrow.items():
            lo, hi, f = self.nodes[v]
            bits += (self.latency - start) * node_width(align(lo, f, c), align(hi, f, c))
        return bits

    @property
    def n_adders(self) -> int:
        return len(self.ops)

    @property
    def adder_depth(self) -> int:
        depth = [0] * self.n_in
        for op in self.ops:
            depth.append(1 + max(depth[op.a], depth[op.b]))
        return max((depth[v] for v in self.outputs), default=0)

    @property
    def adder_bits(self) -> int:
        return sum(self.compare_width(k) for k in range(len(self.ops)))

    def evaluate(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        (x,) = xs
        x = np.asarray(x).astype(object)
        values: list[Any] = []
        for e in range(self.n_in):
            values.append(x[:, e] if self.node_width(e) else np.zeros(x.shape[0], dtype=object))
        for op in self.ops:
            fa, fb = self.nodes[op.a][2], self.nodes[op.b][2]
            a, b = align(values[op.a], fa, op.f), align(values[op.b], fb, op.f)
            values.append(np.where(a >= b, a, b))
        out = np.zeros((x.shape[0], len(self.outputs)), dtype=object)
        for j, v in enumerate(self.outputs):
            if int(self.out_type.width[j]) == 0:
                continue
            c = self.output_f(j)
            out[:, j] = align(values[v], self.nodes[v][2], c) << (int(self.out_type.f[j]) - c)
        return out

    def _extra_to_json(self) -> dict[str, Any]:
        return {
            "sources": [list(s) for s in self.sources],
            "ops": [[op.a, op.b, op.f] for op in self.ops],
            "outputs": list(self.outputs),
            "placed": [list(p) for p in self.placed],
            "out_drop": list(self.out_drop),
        }

    @classmethod
    def _extra_from_json(cls, fields: dict[str, Any], what: str) -> dict[str, Any]:
        def int_rows(key: str, length: int | None) -> list[tuple[int, ...]]:
            value = fields[key]
            if not isinstance(value, list) or not all(
                isinstance(row, list)
                and (length is None or len(row) == length)
                and all(isinstance(v, int) and not isinstance(v, bool) for v in row)
                for row in value
            ):
                shape = "lists of integers" if length is None else f"[{length} integers]"
                raise PlanError(f"{what}: {key} must be a list of {shape}")
            return [tuple(row) for row in value]

        def ints(key: str) -> tuple[int, ...]:
            value = fields[key]
            if not isinstance(value, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value
            ):
                raise PlanError(f"{what}: {key} must be a list of integers")
            return tuple(value)

        return {
            "sources": tuple(int_rows("sources", None)),
            "ops": tuple(MaxOp(a, b, f) for a, b, f in int_rows("ops", 3)),
            "outputs": ints("outputs"),
            "placed": tuple((s, t) for s, t in int_rows("placed", 2)),
            "out_drop": ints("out_drop"),
        }

    @classmethod
    def from_json(cls, obj: Any) -> MaxPlan:
        """As :meth:`LayerPlan.from_json`, then the tree checked against ``sources`` and the
        types (:class:`PlanError` naming the field)."""
        plan = super().from_json(obj)
        if not isinstance(plan, MaxPlan):  # pragma: no cover (cls is MaxPlan)
            raise TypeError(f"expected a MaxPlan, got {type(plan).__name__}")
        try:
            _check(plan)
        except ValueError as err:
            raise PlanError(f"Max plan {plan.name!r}: {err}") from None
        return plan


def _check(plan: MaxPlan) -> None:
    """``ValueError`` unless ``plan``'s tree is well formed: one input, nodes read only earlier
    nodes, each output's tree reads only its sources, its type holds every maximum, drops and
    placement fit."""
    if len(plan.in_types) != 1 or len(plan.inputs) != 1:
        raise ValueError("a Max plan reads exactly one tensor")
    n_in, n_out = plan.n_in, int(plan.out_type.shape[0])
    if len(plan.sources) != n_out or len(plan.outputs) != n_out:
        raise ValueError(f"sources and outputs must have {n_out} entries (one per output)")
    for j, s in enumerate(plan.sources):
        if not s or any(not 0 <= e < n_in for e in s):
            raise ValueError(f"sources[{j}] must be 1 or more input indices in 0..{n_in - 1}")
    for k, op in enumerate(plan.ops):
        if not (0 <= op.a < n_in + k and 0 <= op.b < n_in + k):
            raise ValueError(f"ops[{k}] must read earlier nodes (0..{n_in + k - 1})")
    n_nodes = n_in + len(plan.ops)
    if len(plan.placed) != n_nodes or any(s < 0 or t < 0 for s, t in plan.placed):
        raise ValueError(f"placed must give (stage, t) >= 0 for each of {n_nodes} nodes")
    if any(s > plan.latency for s, _ in plan.placed):
        raise ValueError("placed puts a node past the latency")
    if any(p != (0, plan.t_in) for p in plan.placed[:n_in]):
        raise ValueError(f"placed must put every input at (0, t_in = {plan.t_in})")
    for k, op in enumerate(plan.ops):
        if plan.placed[n_in + k][0] < max(plan.placed[op.a][0], plan.placed[op.b][0]):
            raise ValueError(f"placed puts ops[{k}] in a stage before one of its operands")
    check_drop(plan.out_drop, plan.out_type, "out_drop")
    leaves: list[frozenset[int]] = [frozenset((e,)) for e in range(n_in)]
    for op in plan.ops:
        leaves.append(leaves[op.a] | leaves[op.b])
    in_nodes = _leaves(plan.in_type)
    for j, v in enumerate(plan.outputs):
        if not 0 <= v < n_nodes:
            raise ValueError(f"outputs[{j}] must be a node in 0..{n_nodes - 1}")
        if not leaves[v] <= set(plan.sources[j]):
            extra = sorted(leaves[v] - set(plan.sources[j]))
            raise ValueError(f"outputs[{j}] reads inputs {extra} that are not among its sources")
        _check_output_type(plan.out_type, j, [in_nodes[e] for e in plan.sources[j]])
    if plan.registers != plan.count_registers():
        raise ValueError(
            f"registers {plan.registers} do not match the tree ({plan.count_registers()})"
        )


def _check_output_type(out_type: TensorType, j: int, sources: Sequence[_Node]) -> None:
    """``ValueError`` unless element ``j`` of ``out_type`` holds every maximum of ``sources``:
    the range of the maximum and, unless the maximum is a constant, at least the fractional
    bits of each source that is not a width-0 constant."""
    f_out = int(out_type.f[j])
    live = [s for s in sources if not s.constant_zero]
    f_all = max([f_out] + [s.f for s in live])
    lo = max(s.at(f_all)[0] for s in sources)
    hi = max(s.at(f_all)[1] for s in sources)
    if lo < hi and f_all > f_out:
        raise ValueError(
            f"output {j} has {f_out} fractional bits, fewer than its sources "
            f"({f_all}): the maximum would not be exact"
        )
    if lo == hi and align(lo, f_all, f_out) << (f_all - f_out) != lo:
        raise ValueError(
            f"output {j} has {f_out} fractional bits, too few for the constant maximum "
            f"{lo} * 2**-{f_all} of its sources"
        )
    lo, hi = align(lo, f_all, f_out), align(hi, f_all, f_out)
    t = out_type.element(j)
    if lo < t.raw_min or hi > t.raw_max:
        raise ValueError(
            f"output {j} of type {t} (raw {t.raw_min}..{t.raw_max}) cannot hold the maximum "
            f"of its sources (raw {lo}..{hi} at f = {f_out})"
        )


class _TreeBuilder:
    """Balanced compare-and-select trees, an op shared when two outputs need the same one."""

    def __init__(self, in_type: TensorType) -> None:
        self.nodes = _leaves(in_type)
        self.ops: list[MaxOp] = []
        self.memo: dict[MaxOp, int] = {}

    def larger(self, a: int, b: int, resolution: int) -> int:
        """The node of ``max(a, b)`` when the output keeps ``resolution`` fractional bits."""
        na, nb = self.nodes[a], self.nodes[b]
        if a == b:
            return a
        f_cmp = max(na.f, nb.f)  # exact comparison of the types' bounds
        if na.at(f_cmp)[0] >= nb.at(f_cmp)[1]:
            return a
        if nb.at(f_cmp)[0] >= na.at(f_cmp)[1]:
            return b
        live_f = [n.f for n in (na, nb) if not n.constant_zero]
        op = MaxOp(a, b, min(resolution, max(live_f)))
        if op not in self.memo:
            self.memo[op] = len(self.nodes)
            self.nodes.append(_op_node(na, nb, op.f))
            self.ops.append(op)
        return self.memo[op]

    def tree(self, sources: Sequence[int], resolution: int) -> int:
        level = list(dict.fromkeys(sources))
        while len(level) > 1:
            pairs = range(0, len(level) - 1, 2)
            odd = level[-1:] if len(level) % 2 else []
            level = [self.larger(level[n], level[n + 1], resolution) for n in pairs] + odd
        return level[0]


def plan_max(
    name: str,
    inputs: tuple[str, ...],
    in_type: TensorType,
    out_type: TensorType,
    sources: Sequence[Sequence[int]],
    *,
    pipeline_levels: int = 0,
    t_in: int = 0,
    stage: int = 0,
    out_drop: Sequence[int] | None = None,
) -> MaxPlan:
    """The plan of ``y[j] = max(x[e] for e in sources[j])`` on a 1-d input of ``in_type``.

    ``out_type`` (1-d, one element per entry of ``sources``) must hold every maximum exactly:
    element ``j`` needs at least the fractional bits of each of its sources that is not a
    width-0 constant and the range ``[max lo, max hi]`` of their values (``ValueError``
    naming the output otherwise). Signed and unsigned elements with different ``f`` compare
    exactly. Each output is a balanced tree of compare-and-select nodes (sources in the
    order given, repeats ignored), an op shared where two outputs need the same one, placed
    as soon as possible under the ``pipeline_levels`` budget from delay ``t_in`` (a
    compare-and-select costs :data:`COMPARE_SELECT_DELAY`); ``out_drop`` low bits of each
    output are cleared (at most ``width - k`` each, ``ValueError`` otherwise), and the tree
    then compares only the bits above them.
    """
    if not isinstance(in_type, TensorType) or not isinstance(out_type, TensorType):
        raise TypeError("in_type and out_type must be TensorTypes")
    if len(in_type.shape) != 1 or len(out_type.shape) != 1:
        raise ValueError(
            f"a Max plan needs 1-d types, got shapes {in_type.shape} and {out_type.shape}"
        )
    if not isinstance(inputs, tuple) or len(inputs) != 1:
        raise ValueError(f"a Max layer reads one tensor, got inputs {inputs!r}")
    n_in, n_out = int(in_type.shape[0]), int(out_type.shape[0])
    windows = [tuple(int(e) for e in s) for s in sources]
    if len(windows) != n_out:
        raise ValueError(f"{len(windows)} source lists for {n_out} output elements")
    for j, s in enumerate(windows):
        if not s or any(not 0 <= e < n_in for e in s):
            raise ValueError(
                f"sources[{j}] must be 1 or more input indices in 0..{n_in - 1}, got {list(s)}"
            )
    leaves = _leaves(in_type)
    for j, s in enumerate(windows):
        _check_output_type(out_type, j, [leaves[e] for e in s])
    drops = check_drop(out_drop, out_type, "out_drop")
    builder = _TreeBuilder(in_type)
    outputs = tuple(builder.tree(s, int(out_type.f[j]) - drops[j]) for j, s in enumerate(windows))
    stager = Stager(pipeline_levels)
    placed: list[tuple[int, int]] = [(0, t_in)] * n_in
    for op in builder.ops:
        placed.append(stager.place([placed[op.a], placed[op.b]], COMPARE_SELECT_DELAY))
    live = [placed[v] for j, v in enumerate(outputs) if int(out_type.width[j]) > 0]
    latency = max((s for s, _ in live), default=0)
    t_out = max((t for s, t in live if s == latency), default=0)
    plan = MaxPlan(
        name=name,
        inputs=inputs,
        in_types=(in_type,),
        out_type=out_type,
        stage=stage,
        t_in=t_in,
        latency=latency,
        t_out=t_out,
        registers=0,
        sources=tuple(windows),
        ops=tuple(builder.ops),
        outputs=outputs,
        placed=tuple(placed),
        out_drop=drops,
    )
    return dataclasses.replace(plan, registers=plan.count_registers())


def max_unread_inputs(
    in_type: TensorType,
    out_type: TensorType,
    sources: Sequence[Sequence[int]],
    out_unread: np.ndarray,
) -> np.ndarray:
    """Low bits of each input element that a Max layer never reads when its consumers never
    read ``out_unread[j]`` low bits of output ``j`` (for a planner's ``unread_inputs``): input
    ``e`` at ``f_e`` feeding output ``j`` at ``F_j`` needs only bits from ``F_j - unread[j]``
    fractional bits up, so ``unread[e] = min_j (unread[j] - (F_j - f_e))`` (the floor commutes
    with the maximum). Not clamped to the type (see :func:`hgq_hw.plan.demand.clamp_drop`)."""
    n_in = int(in_type.shape[0])
    big = np.iinfo(np.int64).max
    unread = np.full(n_in, big, dtype=np.int64)
    drops = np.asarray(out_unread, dtype=np.int64).reshape(-1)
    for j, s in enumerate(sources):
        keep = int(out_type.f[j]) - int(drops[j])  # fractional bits output j reads
        for e in s:
            unread[e] = min(int(unread[e]), int(in_type.f[e]) - keep)
    return np.where(unread == big, 0, np.maximum(unread, 0))
