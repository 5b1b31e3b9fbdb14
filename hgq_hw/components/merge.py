"""``Merge``: the merging layers (Add, Subtract, Multiply, Concatenate) on two input streams,
the earlier input delayed as the plan says (:mod:`hgq_hw.plan.merge`)."""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Module, Value
from amaranth.lib import stream
from amaranth.lib.wiring import In

from hgq_hw.components.bus import pack, unpack
from hgq_hw.components.pipeline import Delayer, delay_valid
from hgq_hw.components.planned import PlannedLayer
from hgq_hw.components.registry import register_component
from hgq_hw.plan.merge import AddPlan, ConcatenatePlan, MergePlan, MultiplyPlan

__all__ = ["Merge"]


class Merge(PlannedLayer):
    """A :class:`~hgq_hw.plan.merge.MergePlan` in hardware: input ``n`` carried through
    ``plan.delays[n] + plan.latency`` register stages (one chain per distinct tensor), then the
    element-wise adders / subtractors / multipliers (exact, each as wide as its output
    element) or, for a Concatenate, wiring.

    Members
    -------
    i_stream0, i_stream1, ...: ``In(stream.Signature(W_n, always_ready=True))``, one per input,
        payloads packed by ``plan.in_layouts[n]``
    o_stream: ``Out(stream.Signature(W_out, always_ready=True))``; ``valid`` is the ``valid`` of
        input ``plan.valid_input`` delayed by ``latency``
    plan: the plan; ``latency``, ``t_out``, ``registers`` are its numbers
    """

    plan_class = MergePlan
    plan: MergePlan

    @classmethod
    def input_ports(cls, plan: MergePlan) -> dict[str, Any]:
        """``i_stream0``, ``i_stream1``, ...: one per input tensor."""
        return {
            f"i_stream{n}": In(stream.Signature(layout.width, always_ready=True))
            for n, layout in enumerate(plan.in_layouts)
        }

    def _inputs(self, m: Module) -> list[list[Value | None]]:
        """Each input's elements as read in the operation's stage."""
        plan = self.plan
        delayer = Delayer(m, f"{plan.name}_")
        chains = plan.chains()
        out = []
        for n, name in enumerate(plan.inputs):
            first, stages = chains[name]
            port = getattr(self, f"i_stream{first}")
            payload = delayer.at(name, f"in{first}", port.payload, 0, stages)
            out.append(unpack(payload, plan.in_types[n]))
        return out

    def elaborate(self, platform: object) -> Module:
        m = Module()
        plan = self.plan
        xs = self._inputs(m)
        values: list[Value | None] = []
        if isinstance(plan, ConcatenatePlan):
            values = [xs[n][e] for n, e in plan.sources]
        else:
            for e in range(plan.out_type.shape[0]):
                a, b = xs[0][e], xs[1][e]
                if int(plan.out_type.width[e]) == 0 or (a is None and b is None):
                    values.append(None)
                    continue
                if isinstance(plan, MultiplyPlan):
                    values.append(None if a is None or b is None else a * b)
                    continue
                sa, sb = plan.shifts(e)
                a = None if a is None else a << sa
                b = None if b is None else b << sb
                if plan.op == "Add":
                    values.append(a if b is None else b if a is None else a + b)
                else:
                    values.append(-b if a is None else a if b is None else a - b)
        valid = getattr(self, f"i_stream{plan.valid_input}").valid
        m.d.comb += [
            self.o_stream.payload.eq(pack(m, values, plan.out_type, f"{plan.name}_y")),
            self.o_stream.valid.eq(delay_valid(m, valid, plan.latency, plan.name)),
        ]
        return m


register_component(AddPlan, Merge)  # SubtractPlan is an AddPlan
register_component(MultiplyPlan, Merge)
register_component(ConcatenatePlan, Merge)
