"""``MaxPool``: each output the exact maximum of some input elements (a ``MaxPlan``)."""

from __future__ import annotations

from amaranth.hdl import Const, Module, Mux, Shape, Signal, Value, signed

from hgq_hw.components.bus import pack, unpack
from hgq_hw.components.pipeline import Delayer, delay_valid
from hgq_hw.components.planned import PlannedLayer
from hgq_hw.components.registry import register_component
from hgq_hw.plan.max import MaxPlan
from hgq_hw.plan.max_form import compare_selects, readouts

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
    ``plan.placed`` gives it, output ``j`` with its low ``plan.out_drop[j]`` bits cleared
    (built as :mod:`hgq_hw.plan.max_form` says, as the Verilog writer builds it too).

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

        for op in compare_selects(plan):
            words = []
            for side, operand, f_from in (("a", op.a, op.f_a), ("b", op.b, op.f_b)):
                word = Signal(signed(op.width), name=f"{prefix}_n{op.node}{side}")
                m.d.comb += word.eq(aligned_value(at(operand, op.stage), f_from, op.f))
                words.append(word)
            if op.bits == 0:
                nodes.append(None)
                continue
            sig = Signal(Shape(op.bits, op.signed), name=f"{prefix}_n{op.node}")
            a, b = words
            m.d.comb += sig.eq(Mux(a >= b, a, b))
            nodes.append(sig)

        outputs: list[Value | int | None] = []
        for j, r in enumerate(readouts(plan)):
            if r is None:
                outputs.append(None if int(plan.out_type.width[j]) == 0 else 0)
                continue
            if r.drop == 0:
                value = at(r.node, plan.latency)
            else:
                name = f"n{r.node}_d{r.drop}"
                sig = Signal(Shape(r.bits, r.signed), name=f"{prefix}_{name}")
                c = r.f_node - r.drop
                m.d.comb += sig.eq(aligned_value(at(r.node, r.start), r.f_node, c))
                value = delayer.at((r.node, c), name, sig, r.start, plan.latency)
            outputs.append(aligned_value(value, 0, r.shift))
        m.d.comb += [
            self.o_stream.payload.eq(pack(m, outputs, plan.out_type, f"{prefix}_y")),
            self.o_stream.valid.eq(delay_valid(m, self.i_stream.valid, plan.latency, prefix)),
        ]
        return m


register_component(MaxPlan, MaxPool)
