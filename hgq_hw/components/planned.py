"""``PlannedLayer``: what every layer component shares (its plan, ports, numbers)."""

from __future__ import annotations

from typing import Any, ClassVar

from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["PlannedLayer"]


class PlannedLayer(wiring.Component):
    """A layer component built from its plan: checks the plan's class, declares the stream
    ports from the plan's bus layouts and reads ``latency``, ``t_out`` and ``registers`` from it.

    Subclasses set ``plan_class`` and implement ``elaborate``; one that reads several
    tensors overrides :meth:`input_ports`.

    Members
    -------
    i_stream: ``In(stream.Signature(plan.in_layouts[0].width, always_ready=True))``
    o_stream: ``Out(stream.Signature(plan.out_layout.width, always_ready=True))``
    plan: the plan
    """

    plan_class: ClassVar[type]

    def __init__(self, plan: Any) -> None:
        if not isinstance(plan, self.plan_class):
            raise TypeError(f"plan must be a {self.plan_class.__name__}, got {type(plan).__name__}")
        self.plan = plan
        ports = self.input_ports(plan)
        ports["o_stream"] = Out(stream.Signature(plan.out_layout.width, always_ready=True))
        super().__init__(ports)

    @classmethod
    def input_ports(cls, plan: Any) -> dict[str, Any]:
        """The input stream ports: ``i_stream`` for the plan's one input."""
        return {"i_stream": In(stream.Signature(plan.in_layouts[0].width, always_ready=True))}

    @property
    def latency(self) -> int:
        return self.plan.latency

    @property
    def t_out(self) -> int:
        return self.plan.t_out

    @property
    def registers(self) -> int:
        return self.plan.registers
