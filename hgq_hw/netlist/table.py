"""A :class:`~hgq_hw.plan.TablePlan` as nets (as :class:`hgq_hw.components.LookupTable` builds
it): one ``case`` ROM per element, its inputs registered first when ``plan.latency == 1``."""

from __future__ import annotations

from hgq_hw.netlist.layers import Delays, Tensor, delay_valid, element_nets, register_writer
from hgq_hw.netlist.text import Net, Netlist
from hgq_hw.plan.table import TablePlan

__all__ = ["write_table"]


def write_table(nl: Netlist, plan: TablePlan, inputs: list[Tensor], prefix: str) -> Tensor:
    """Nets of ``entries(e)[x[e] - raw_min]`` per element."""
    (source,) = inputs
    delays = Delays(nl, prefix)
    values: list[tuple[Net | None, int] | int | None] = []
    for e, x in enumerate(source.elements):
        entries = plan.entries(e)
        width = int(plan.out_type.width[e])
        if width <= 0:
            values.append(None)
            continue
        if x is None:
            values.append(int(entries[0]))
            continue
        x = delays.at(e, f"x{e}", x, 0, plan.latency)
        low = int(plan.in_type.element(e).raw_min)
        patterns = {(n + low) % (1 << x.width): int(v) for n, v in enumerate(entries)}
        rom = nl.rom(f"{prefix}_rom{e}", x, width, bool(plan.out_type.k[e]), patterns)
        values.append((rom, 0))
    return Tensor(
        element_nets(nl, values, plan.out_type, prefix),
        delay_valid(nl, source.valid, plan.latency, prefix),
    )


register_writer(TablePlan, write_table)
