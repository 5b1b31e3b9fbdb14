"""A :class:`~hgq_hw.plan.ReLUPlan` as nets (as :class:`hgq_hw.components.ReLU` builds it)."""

from __future__ import annotations

from hgq_hw.netlist.layers import Delays, Tensor, delay_valid, element_nets, register_writer
from hgq_hw.netlist.text import Net, Netlist, slice_bits
from hgq_hw.plan.relu import ReLUPlan

__all__ = ["write_relu"]


def write_relu(nl: Netlist, plan: ReLUPlan, inputs: list[Tensor], prefix: str) -> Tensor:
    """Nets of ``max(x, 0)`` per element, low ``plan.out_drop`` bits cleared, registered when
    ``plan.latency == 1``."""
    (source,) = inputs
    delays = Delays(nl, prefix)
    values: list[tuple[Net | None, int] | int | None] = []
    for e, x in enumerate(source.elements):
        if x is None or int(plan.out_type.width[e]) == 0:
            values.append(None)
            continue
        drop = plan.out_drop[e]
        if drop:  # x >> drop, arithmetic for a signed x (drop <= width - k keeps the sign)
            x = nl.wire(
                f"{prefix}_x{e}_d{drop}",
                x.width - drop,
                x.signed,
                slice_bits(x, drop, x.width - drop),
            )
        x = delays.at(e, f"x{e}", x, 0, plan.latency)
        if plan.in_type.k[e] and x is not None:
            w = x.width - 1
            if w > 0:
                expr = f"{x.bit(x.width - 1)} ? {w}'h0 : {slice_bits(x, 0, w)}"
                x = nl.wire(f"{prefix}_r{e}", w, False, expr)
            else:
                x = None
        values.append((x, drop))
    return Tensor(
        element_nets(nl, values, plan.out_type, prefix),
        delay_valid(nl, source.valid, plan.latency, prefix),
    )


register_writer(ReLUPlan, write_relu)
