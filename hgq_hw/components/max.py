"""``MaxPool``: each output the exact maximum of some input elements (a ``MaxPlan``)."""

from __future__ import annotations

from amaranth.hdl import Const, Module, Mux, Signal, Value, signed

from hgq_hw.components.bus import pack, shape_for, unpack
from hgq_hw.components.pipeline import Delayer, delay_valid
from hgq_hw.components.planned import PlannedLayer
from hgq_hw.components.registry import register_component
from hgq_hw.plan.max import MaxPlan, align

__all__ = ["MaxPool", "aligned_value"]


def aligned_value(x: Value | None, f_from: int, f_to: int) -> Value:
    """Raw ``x`` at ``f_from`` fractional bits brought to ``f_to`` (a left shift, or an
    arithmetic right shift: the floor); None is the constant 0. Wiring only."""
    if x is None:
        return Const(0, 1)
    return x << (f_to - f_from) if f_to >= f_from else x >> (f_from - f_to)


class MaxPool(PlannedLayer):
    """Output ``j`` is the maximum of input elements ``plan.sources[j]``, exact, as its
    :class:`~hgq_hw.plan.MaxPlan` says: every compare-and-select of ``plan.ops`` in the stage
    ``plan.placed`` gives it, output ``j`` with its low ``plan.out_drop[j]`` bits cleared.

    Members
    -------
    i_stream, o_stream: ``lib.stream`` ports (``always_ready``), payloads by ``BusLayout``
    plan: the plan; ``latency``, ``t_out``, ``registers`` are its numbers
    """

    plan_class = MaxPlan
    plan: MaxPlan

    def elaborate(self, platform: object) -> Module:
        m = Module()
        plan = self.plan
        prefix = plan.name
        placed = plan.placed
        delayer = Delayer(m, f"{prefix}_")
        nodes: list[Value | None] = []
        for e, x in enumerate(unpack(self.i_stream.payload, plan.in_type)):
            if x is not None:
                wire = Signal(x.shape(), name=f"{prefix}_x{e}")
                m.d.comb += wire.eq(x)
                x = wire
            nodes.append(x)

        def at(node: int, stage: int) -> Value | None:
            value = nodes[node]
            if value is None:
                return None
            return delayer.at(node, f"n{node}", value, placed[node][0], stage)

        for index, op in enumerate(plan.ops):
            node = plan.n_in + index
            stage = placed[node][0]
            width = plan.compare_width(index)
            words = []
            for side, operand in (("a", op.a), ("b", op.b)):
                word = Signal(signed(width), name=f"{prefix}_n{node}{side}")
                f_from = plan.nodes[operand][2]
                m.d.comb += word.eq(aligned_value(at(operand, stage), f_from, op.f))
                words.append(word)
            lo, hi, _ = plan.nodes[node]
            shape = shape_for(lo, hi)
            if shape.width == 0:
                nodes.append(None)
                continue
            sig = Signal(shape, name=f"{prefix}_n{node}")
            a, b = words
            m.d.comb += sig.eq(Mux(a >= b, a, b))
            nodes.append(sig)

        _, narrow = plan.register_chains()
        outputs: list[Value | int | None] = []
        for j, v in enumerate(plan.outputs):
            if int(plan.out_type.width[j]) == 0 or nodes[v] is None:
                outputs.append(None if int(plan.out_type.width[j]) == 0 else 0)
                continue
            lo, hi, f_node = plan.nodes[v]
            c = plan.output_f(j)
            if c >= f_node:
                value = at(v, plan.latency)
            else:
                start = narrow[(v, c)]
                shape = shape_for(align(lo, f_node, c), align(hi, f_node, c))
                sig = Signal(shape, name=f"{prefix}_n{v}_d{f_node - c}")
                m.d.comb += sig.eq(aligned_value(at(v, start), f_node, c))
                value = delayer.at((v, c), f"n{v}_d{f_node - c}", sig, start, plan.latency)
            outputs.append(aligned_value(value, c, int(plan.out_type.f[j])))
        m.d.comb += [
            self.o_stream.payload.eq(pack(m, outputs, plan.out_type, f"{prefix}_y")),
            self.o_stream.valid.eq(delay_valid(m, self.i_stream.valid, plan.latency, prefix)),
        ]
        return m


register_component(MaxPlan, MaxPool)
