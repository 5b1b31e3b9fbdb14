"""``Delay``: a tensor carried through register stages unchanged (a shared delay line)."""

from __future__ import annotations

from amaranth.hdl import Module

from hgq_hw.components.pipeline import Delayer, delay_valid
from hgq_hw.components.planned import PlannedLayer
from hgq_hw.components.registry import register_component
from hgq_hw.plan.delay import DelayPlan

__all__ = ["Delay"]


class Delay(PlannedLayer):
    """A :class:`~hgq_hw.plan.DelayPlan`: the input bus and ``valid`` through ``latency``
    registers.

    Members
    -------
    i_stream, o_stream: ``lib.stream`` ports of the same ``BusLayout``
    plan: the plan
    """

    plan_class = DelayPlan
    plan: DelayPlan

    def elaborate(self, platform: object) -> Module:
        m = Module()
        plan = self.plan
        delayer = Delayer(m, f"{plan.name}_")
        payload = delayer.at(0, "x", self.i_stream.payload, 0, plan.latency)
        m.d.comb += [
            self.o_stream.payload.eq(payload),
            self.o_stream.valid.eq(delay_valid(m, self.i_stream.valid, plan.latency, plan.name)),
        ]
        return m


register_component(DelayPlan, Delay)
