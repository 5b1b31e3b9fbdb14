"""``DenseLayer``: a Dense layer as a pipelined adder graph (no multipliers)."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Signal, Value

from hgq_hw.cmvm import AdderGraph, Op
from hgq_hw.components.bus import pack, shape_for, unpack
from hgq_hw.components.pipeline import Delayer, delay_valid
from hgq_hw.components.planned import PlannedLayer
from hgq_hw.components.registry import register_component
from hgq_hw.plan.adder_form import adder_form
from hgq_hw.plan.dense import DensePlan

__all__ = ["DenseLayer", "adder_bits", "low_bits", "operand_bits"]


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


def operand_bits(value: Value, rshift: int, n: int) -> Value:
    """Bits ``rshift .. rshift + n - 1`` of ``value`` sign- or zero-extended (wiring only)."""
    return low_bits(value, rshift + n)[rshift:] if rshift else low_bits(value, n)


def adder_bits(op: Op, a: Value, b: Value | None, width: int) -> Value:
    """The ``width`` low bits of ``op`` on operand values ``a`` and ``b`` (None: no second
    operand), i.e. its exact value when that fits ``width`` bits two's complement, built as
    :func:`hgq_hw.plan.adder_form.adder_form` says."""
    form = adder_form(op, width)
    operands = (a, b)
    passed: list[Value] = []
    if form.passed is not None:
        operand, h = form.passed
        passed.append(low_bits(operands[operand], h))
    if form.n > 0:
        n = form.n
        parts = []
        for t in form.terms:
            bits = operand_bits(operands[t.operand], t.rshift, n - t.lshift)
            parts.append((t.sign, Cat(Const(0, min(t.lshift, n)), bits) if t.lshift else bits))
        positive = [v for sign, v in parts if sign > 0]
        negative = [v for sign, v in parts if sign < 0]
        expr: Value | None = None
        for v in positive:
            expr = v if expr is None else expr + v
        if form.const:
            c = Const(form.const, n)
            expr = c if expr is None else expr + c
        for v in negative:
            expr = (Const(0, n) if expr is None else expr) - v
        passed.append(expr[:n])
    return Cat(Const(0, form.low), *passed)


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
