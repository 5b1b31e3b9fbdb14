"""``DenseLayer``: a Dense layer as a pipelined adder graph (no multipliers)."""

from __future__ import annotations

from amaranth.hdl import Const, Module, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hgq_hw.cmvm import AdderGraph
from hgq_hw.components.bus import pack, shape_for, unpack
from hgq_hw.components.pipeline import Delayer, delay_valid
from hgq_hw.components.registry import register_component
from hgq_hw.plan.dense import DensePlan

__all__ = ["DenseLayer"]


class DenseLayer(wiring.Component):
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

    def __init__(self, plan: DensePlan) -> None:
        if not isinstance(plan, DensePlan):
            raise TypeError(f"plan must be a DensePlan, got {type(plan).__name__}")
        self.plan = plan
        super().__init__(
            {
                "i_stream": In(stream.Signature(plan.in_layouts[0].width, always_ready=True)),
                "o_stream": Out(stream.Signature(plan.out_layout.width, always_ready=True)),
            }
        )

    @property
    def latency(self) -> int:
        return self.plan.latency

    @property
    def t_out(self) -> int:
        return self.plan.t_out

    @property
    def registers(self) -> int:
        return self.plan.registers

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
        nodes: list[Value | None] = list(unpack(self.i_stream.payload, plan.in_type))

        def at(node: int, stage: int) -> Value:
            value = nodes[node]
            if value is None:
                return Const(0, 1)
            return delayer.at(node, f"n{node}", value, placed[node][0], stage)

        for index, op in enumerate(g.ops):
            node = g.n_in + index
            stage = placed[node][0]
            a = at(op.a, stage) << op.shift_a
            if op.b < 0:  # a constant addition or a negation
                expr = a + op.const if op.sign_a > 0 else Const(op.const) - a
            else:
                b = at(op.b, stage) << op.shift_b
                if op.sign_a > 0:
                    expr = a + b if op.sign_b > 0 else a - b
                else:
                    expr = b - a if op.sign_b > 0 else -(a + b)
                if op.const:
                    expr = expr + op.const
            sig = Signal(shape_for(op.lo, op.hi), name=f"{prefix}_n{node}")
            m.d.comb += sig.eq(expr)
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
