"""A :class:`~hgq_hw.plan.MaxPlan` as nets: every compare-and-select in the stage the plan
places it (as :class:`hgq_hw.components.MaxPool` builds it: both follow
:mod:`hgq_hw.plan.max_form`)."""

from __future__ import annotations

from hgq_hw.netlist.layers import Delays, Tensor, delay_valid, element_nets, register_writer
from hgq_hw.netlist.text import Net, Netlist, slice_bits
from hgq_hw.plan.max import MaxPlan
from hgq_hw.plan.max_form import compare_selects, readouts

__all__ = ["write_max"]


def _aligned(net: Net | None, f_from: int, f_to: int, width: int) -> str:
    """``width`` bits of ``net``'s raw value brought from ``f_from`` to ``f_to`` fractional
    bits (a left shift, or an arithmetic right shift: the floor), sign- or zero-extended."""
    if f_to < f_from:
        return slice_bits(net, f_from - f_to, width)
    shift = f_to - f_from
    if shift == 0:
        return slice_bits(net, 0, width)
    if shift >= width:
        return f"{width}'h0"
    return f"{{{slice_bits(net, 0, width - shift)}, {shift}'h0}}"


def write_max(nl: Netlist, plan: MaxPlan, inputs: list[Tensor], prefix: str) -> Tensor:
    """Nets of ``plan`` reading ``inputs[0]``: its comparators and multiplexers, register
    chains, outputs with their dropped low bits cleared, ``valid`` delayed by the latency."""
    (source,) = inputs
    placed = plan.placed
    delays = Delays(nl, prefix)
    nodes: list[Net | None] = list(source.elements)

    def at(node: int, stage: int) -> Net | None:
        value = nodes[node]
        if value is None:
            return None
        return delays.at(node, f"n{node}", value, placed[node][0], stage)

    for op in compare_selects(plan):
        words = []
        for side, operand, f_from in (("a", op.a, op.f_a), ("b", op.b, op.f_b)):
            expr = _aligned(at(operand, op.stage), f_from, op.f, op.width)
            words.append(nl.wire(f"{prefix}_n{op.node}{side}", op.width, True, expr))
        a, b = words
        if a is None or b is None:
            raise RuntimeError("a comparator word has no bits (a bug in hgq_hw.netlist)")
        select = f"$signed({a.name}) >= $signed({b.name})"
        larger = nl.wire(f"{prefix}_n{op.node}m", op.width, True, f"{select} ? {a.name} : {b.name}")
        nodes.append(
            nl.wire(f"{prefix}_n{op.node}", op.bits, op.signed, slice_bits(larger, 0, op.bits))
        )

    values: list[tuple[Net | None, int] | int | None] = []
    for r in readouts(plan):
        if r is None:
            values.append(None)
            continue
        if r.drop == 0:
            value = at(r.node, plan.latency)
        else:
            name = f"n{r.node}_d{r.drop}"
            sig = nl.wire(
                f"{prefix}_{name}",
                r.bits,
                r.signed,
                slice_bits(at(r.node, r.start), r.drop, r.bits),
            )
            value = delays.at((r.node, r.f_node - r.drop), name, sig, r.start, plan.latency)
        values.append((value, r.shift))
    return Tensor(
        element_nets(nl, values, plan.out_type, prefix),
        delay_valid(nl, source.valid, plan.latency, prefix),
    )


register_writer(MaxPlan, write_max)
