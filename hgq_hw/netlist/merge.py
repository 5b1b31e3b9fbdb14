"""A :class:`~hgq_hw.plan.merge.MergePlan` as nets (as :class:`hgq_hw.components.Merge`
builds it): the inputs' register chains, then per element an adder, subtractor or multiplier
exactly as wide as the output element, or wiring for a Concatenate."""

from __future__ import annotations

from hgq_hw.netlist.layers import Delays, Tensor, delay_valid, element_nets, register_writer
from hgq_hw.netlist.text import Net, Netlist, slice_bits
from hgq_hw.plan.merge import AddPlan, ConcatenatePlan, MergePlan, MultiplyPlan

__all__ = ["write_merge"]


def _shifted(x: Net | None, shift: int, width: int) -> str | None:
    """``x << shift`` modulo ``2**width`` (None for the constant 0)."""
    if x is None or shift >= width:
        return None
    if shift:
        return f"{{{slice_bits(x, 0, width - shift)}, {shift}'h0}}"
    return slice_bits(x, 0, width)


def _signed(x: Net) -> str:
    return f"$signed({x.name})" if x.signed else f"$signed({{1'b0, {x.name}}})"


def write_merge(nl: Netlist, plan: MergePlan, inputs: list[Tensor], prefix: str) -> Tensor:
    """Nets of ``plan`` reading ``inputs`` (one :class:`Tensor` per input, in order)."""
    delays = Delays(nl, prefix)
    chains = plan.chains()
    xs: list[list[Net | None]] = []
    for name in plan.inputs:
        first, stages = chains[name]
        xs.append(
            [
                delays.at((name, e), f"i{first}_{e}", x, 0, stages)
                for e, x in enumerate(inputs[first].elements)
            ]
        )
    values: list[tuple[Net | None, int] | int | None] = []
    if isinstance(plan, ConcatenatePlan):
        values = [(xs[n][e], 0) for n, e in plan.sources]
    else:
        for e in range(plan.out_type.shape[0]):
            width = int(plan.out_type.width[e])
            a, b = xs[0][e], xs[1][e]
            if width == 0:
                values.append(None)
                continue
            name = f"{prefix}_v{e}"
            if isinstance(plan, MultiplyPlan):
                if a is None or b is None:
                    values.append(None)
                    continue
                p = a.width + b.width
                product = nl.wire(
                    f"{name}_p", p, a.signed or b.signed, f"{_signed(a)} * {_signed(b)}"
                )
                values.append((product, 0))
                continue
            sa, sb = plan.shifts(e)
            ta, tb = _shifted(a, sa, width), _shifted(b, sb, width)
            if ta is None and tb is None:
                values.append(None)
                continue
            op = "+" if plan.op == "Add" else "-"
            if tb is None:
                expr = ta
            elif ta is None:
                expr = tb if op == "+" else f"{width}'h0 - {tb}"
            else:
                expr = f"{ta} {op} {tb}"
            values.append((nl.wire(name, width, bool(plan.out_type.k[e]), expr), 0))
    valid = delay_valid(nl, inputs[plan.valid_input].valid, plan.latency, prefix)
    return Tensor(element_nets(nl, values, plan.out_type, prefix), valid)


register_writer(AddPlan, write_merge)  # SubtractPlan is an AddPlan
register_writer(MultiplyPlan, write_merge)
register_writer(ConcatenatePlan, write_merge)
