"""``Reshape``: over a flattened tensor, the identity (its bus passes straight through)."""

from __future__ import annotations

from amaranth.hdl import Module

from hgq_hw.components.planned import PlannedLayer
from hgq_hw.components.registry import register_component
from hgq_hw.plan.reshape import ReshapePlan

__all__ = ["Reshape"]


class Reshape(PlannedLayer):
    """A :class:`~hgq_hw.plan.ReshapePlan`: the input bus and ``valid`` wired to the output
    (latency 0, no registers).

    Members
    -------
    i_stream, o_stream: ``lib.stream`` ports of the same ``BusLayout``
    plan: the plan
    """

    plan_class = ReshapePlan
    plan: ReshapePlan

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.d.comb += [
            self.o_stream.payload.eq(self.i_stream.payload),
            self.o_stream.valid.eq(self.i_stream.valid),
        ]
        return m


register_component(ReshapePlan, Reshape)
