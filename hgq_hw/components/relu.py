"""``ReLU``: ``max(x, 0)`` per element; the sign bit goes away."""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Value

from hgq_hw.components.bus import pack, unpack
from hgq_hw.components.pipeline import Delayer, delay_valid
from hgq_hw.components.planned import PlannedLayer
from hgq_hw.components.registry import register_component
from hgq_hw.plan.relu import ReLUPlan

__all__ = ["ReLU"]


class ReLU(PlannedLayer):
    """``max(x, 0)`` on a 1-d tensor as its :class:`~hgq_hw.plan.ReLUPlan` says (output ``e``
    with its low ``plan.out_drop[e]`` bits cleared, a register stage when ``latency == 1``).

    Members
    -------
    i_stream, o_stream: ``lib.stream`` ports, payloads by ``BusLayout``
    plan: the plan; ``latency``, ``t_out``, ``registers`` are its numbers
    """

    plan_class = ReLUPlan
    plan: ReLUPlan

    def elaborate(self, platform: object) -> Module:
        m = Module()
        plan = self.plan
        delayer = Delayer(m, f"{plan.name}_")
        values: list[Value | None] = []
        for e, x in enumerate(unpack(self.i_stream.payload, plan.in_type)):
            if x is None or int(plan.out_type.width[e]) == 0:
                values.append(None)
                continue
            drop = plan.out_drop[e]
            if drop:
                x = x >> drop  # arithmetic for a signed x: the sign stays (drop <= width - k)
            x = delayer.at(e, f"x{e}", x, 0, plan.latency)
            if plan.in_type.k[e]:
                x = Mux(x[-1], 0, x[: len(x) - 1])
            values.append(x << drop if drop else x)
        m.d.comb += [
            self.o_stream.payload.eq(pack(m, values, plan.out_type, f"{plan.name}_y")),
            self.o_stream.valid.eq(delay_valid(m, self.i_stream.valid, plan.latency, plan.name)),
        ]
        return m


register_component(ReLUPlan, ReLU)
