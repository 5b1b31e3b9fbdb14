"""``DenseLayer``: a Dense layer as a pipelined adder graph (no multipliers)."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Signal, Value

from hgq_hw.cmvm import AdderGraph, Op
from hgq_hw.components.bus import pack, shape_for, unpack
from hgq_hw.components.pipeline import Delayer, delay_valid
from hgq_hw.components.planned import PlannedLayer
from hgq_hw.components.registry import register_component
from hgq_hw.plan.dense import DensePlan

__all__ = ["DenseLayer", "adder_bits", "low_bits"]


def low_bits(value: Value, n: int) -> Value:
    """``value mod 2**n`` as ``n`` raw bits (sign- or zero-extended, or cut; wiring only)."""
    if n <= 0:
        return Const(0, 0)
    width = len(value)
    if width >= n:
        return value[:n]
    if width == 0:
        return Const(0, n)
    pad = value[-1].replicate(n - width) if value.shape().signed else Const(0, n - width)
    return Cat(value, pad)


def adder_bits(op: Op, a: Value, b: Value | None, width: int) -> Value:
    """The ``width`` low bits of ``op`` on operand values ``a`` and ``b`` (None: no second
    operand), i.e. its exact value when that fits ``width`` bits two's complement.

    Carries only travel upwards, so the sum is computed modulo ``2**width`` on operands cut to
    that many bits; low bits that one shifted operand cannot change are wired from the other
    (``x + (y << s)`` and ``x - (y << s)`` keep the low ``s`` bits of ``x``), which keeps the
    adder no wider than the bits it really adds.
    """
    terms = [(op.sign_a, a, op.shift_a)] + ([(op.sign_b, b, op.shift_b)] if b is not None else [])
    low = min(shift for _, _, shift in terms)
    if op.const & ((1 << low) - 1):
        low = 0  # the constant has bits below the common shift
    n = width - low
    if n <= 0:
        return Const(0, width)
    terms = [(sign, value, shift - low) for sign, value, shift in terms]
    const = op.const >> low
    passed: list[Value] = []
    if len(terms) == 2 and const == 0:
        (s0, v0, h0), (s1, v1, h1) = sorted(terms, key=lambda term: term[2])
        if h0 == 0 and h1 > 0 and s0 > 0:  # x + (+-y << h1): the low h1 bits are x's
            h = min(h1, n)
            x = low_bits(v0, n)
            passed = [x[:h]]
            terms = [(s0, x[h:], 0), (s1, v1, 0)]
            n -= h
    if n > 0:
        parts = [(sign, Cat(Const(0, min(h, n)), low_bits(v, n - h)) if h else low_bits(v, n))
                 for sign, v, h in terms]  # fmt: skip
        positive = [v for sign, v in parts if sign > 0]
        negative = [v for sign, v in parts if sign < 0]
        expr: Value | None = None
        for v in positive:
            expr = v if expr is None else expr + v
        if const:
            c = Const(const % (1 << n), n)
            expr = c if expr is None else expr + c
        for v in negative:
            expr = (Const(0, n) if expr is None else expr) - v
        passed.append(expr[:n])
    return Cat(Const(0, low), *passed)


class DenseLayer(PlannedLayer):
    """``y = x @ w + b`` of one :class:`~hgq_hw.plan.DensePlan`, exact, from adders only:
    every adder of ``plan.graph`` in the stage ``plan.placed`` gives it, output ``j`` with its
    low ``plan.out_drop[j]`` bits cleared.

    Parameters
    ----------
    plan:
        The layer's plan (:func:`hgq_hw.plan.plan_dense` or a :class:`~hgq_hw.plan.NetworkPlan`'s).

    Members
    -------
    i_stream, o_stream: ``lib.stream`` ports (``always_ready``), payloads by ``BusLayout``
    plan: the plan; ``latency``, ``t_out``, ``registers``, ``graph`` are its numbers
    """

    plan_class = DensePlan
    plan: DensePlan

    @property
    def graph(self) -> AdderGraph:
        return self.plan.graph

    def elaborate(self, platform: object) -> Module:
        m = Module()
        plan = self.plan
        g = plan.graph
        prefix = plan.name
        placed = plan.placed
        delayer = Delayer(m, f"{prefix}_")
        nodes: list[Value | None] = []
        for i, x in enumerate(unpack(self.i_stream.payload, plan.in_type)):
            if x is not None:  # a named wire per input: every adder reading it shares it
                wire = Signal(x.shape(), name=f"{prefix}_x{i}")
                m.d.comb += wire.eq(x)
                x = wire
            nodes.append(x)

        def at(node: int, stage: int) -> Value:
            value = nodes[node]
            if value is None:
                return Const(0, 1)
            return delayer.at(node, f"n{node}", value, placed[node][0], stage)

        for index, op in enumerate(g.ops):
            node = g.n_in + index
            stage = placed[node][0]
            shape = shape_for(op.lo, op.hi)
            b = at(op.b, stage) if op.b >= 0 else None
            sig = Signal(shape, name=f"{prefix}_n{node}")
            m.d.comb += sig.eq(adder_bits(op, at(op.a, stage), b, shape.width))
            nodes.append(sig)

        _, narrow = plan.register_chains()
        outputs: list[Value | int | None] = []
        for j, o in enumerate(g.outputs):
            drop = plan.out_drop[j]
            if o.node < 0:
                outputs.append((o.const >> drop) << drop)
                continue
            e = plan.node_drop(j)
            if e == 0:
                outputs.append(at(o.node, plan.latency) << o.shift)
                continue
            start = narrow[(o.node, e)]
            lo, hi = g.node_interval(o.node)
            sig = Signal(shape_for(lo >> e, hi >> e), name=f"{prefix}_n{o.node}_d{e}")
            m.d.comb += sig.eq(at(o.node, start) >> e)
            value = delayer.at((o.node, e), f"n{o.node}_d{e}", sig, start, plan.latency)
            outputs.append(value << (o.shift + e))
        m.d.comb += [
            self.o_stream.payload.eq(pack(m, outputs, plan.out_type, f"{prefix}_y")),
            self.o_stream.valid.eq(delay_valid(m, self.i_stream.valid, plan.latency, prefix)),
        ]
        return m


register_component(DensePlan, DenseLayer)
