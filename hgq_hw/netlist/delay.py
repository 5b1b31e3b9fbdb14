"""A :class:`~hgq_hw.plan.DelayPlan` as nets: each element and ``valid`` through ``latency``
registers (as :class:`hgq_hw.components.Delay` builds it)."""

from __future__ import annotations

from hgq_hw.netlist.layers import Delays, Tensor, delay_valid, register_writer
from hgq_hw.netlist.text import Netlist
from hgq_hw.plan.delay import DelayPlan

__all__ = ["write_delay"]


def write_delay(nl: Netlist, plan: DelayPlan, inputs: list[Tensor], prefix: str) -> Tensor:
    """The input's element nets, each ``plan.latency`` registers later."""
    (source,) = inputs
    delays = Delays(nl, prefix)
    elements = tuple(
        delays.at(e, f"x{e}", x, 0, plan.latency) for e, x in enumerate(source.elements)
    )
    return Tensor(elements, delay_valid(nl, source.valid, plan.latency, prefix))


register_writer(DelayPlan, write_delay)
