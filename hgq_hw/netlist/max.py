"""A :class:`~hgq_hw.plan.MaxPlan` as nets: every compare-and-select in the stage the plan
places it (as :class:`hgq_hw.components.MaxPool` builds it)."""

from __future__ import annotations

from hgq_hw.fixed import signed_bits
from hgq_hw.netlist.layers import Delays, Tensor, delay_valid, element_nets, register_writer
from hgq_hw.netlist.text import Net, Netlist, slice_bits
from hgq_hw.plan.max import MaxPlan, align

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

    for index, op in enumerate(plan.ops):
        node = plan.n_in + index
        stage = placed[node][0]
        width = plan.compare_width(index)
        words = []
        for side, operand in (("a", op.a), ("b", op.b)):
            expr = _aligned(at(operand, stage), plan.nodes[operand][2], op.f, width)
            words.append(nl.wire(f"{prefix}_n{node}{side}", width, True, expr))
        a, b = words
        if a is None or b is None:
            raise RuntimeError("a comparator word has no bits (a bug in hgq_hw.netlist)")
        lo, hi, _ = plan.nodes[node]
        k, bits = signed_bits(lo, hi)
        select = f"$signed({a.name}) >= $signed({b.name})"
        larger = nl.wire(f"{prefix}_n{node}m", width, True, f"{select} ? {a.name} : {b.name}")
        nodes.append(nl.wire(f"{prefix}_n{node}", bits, bool(k), slice_bits(larger, 0, bits)))

    _, narrow = plan.register_chains()
    values: list[tuple[Net | None, int] | int | None] = []
    for j, v in enumerate(plan.outputs):
        if int(plan.out_type.width[j]) == 0 or nodes[v] is None:
            values.append(None)
            continue
        lo, hi, f_node = plan.nodes[v]
        c = plan.output_f(j)
        if c >= f_node:
            value = at(v, plan.latency)
        else:
            start = narrow[(v, c)]
            k, bits = signed_bits(align(lo, f_node, c), align(hi, f_node, c))
            name = f"n{v}_d{f_node - c}"
            sig = nl.wire(
                f"{prefix}_{name}", bits, bool(k), slice_bits(at(v, start), f_node - c, bits)
            )
            value = delays.at((v, c), name, sig, start, plan.latency)
        values.append((value, int(plan.out_type.f[j]) - c))
    return Tensor(
        element_nets(nl, values, plan.out_type, prefix),
        delay_valid(nl, source.valid, plan.latency, prefix),
    )


register_writer(MaxPlan, write_max)
