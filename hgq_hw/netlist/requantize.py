"""A :class:`~hgq_hw.plan.RequantizePlan` as nets: each element computed exactly in a wide
enough two's complement word, then rounded, wrapped or saturated (the same values as
:class:`hgq_hw.components.Requantize`)."""

from __future__ import annotations

from hgq_hw.fixed import FixedType, Overflow, Round, signed_bits
from hgq_hw.netlist.layers import Delays, Tensor, delay_valid, element_nets, register_writer
from hgq_hw.netlist.text import Net, Netlist, const_bits, resized, slice_bits
from hgq_hw.plan.requantize import Narrowing, RequantizePlan, requantize_bounds

__all__ = ["write_requantize"]


def _signed_width(*values: int) -> int:
    """Bits of a two's complement word holding every one of ``values``."""
    return 1 + max(v.bit_length() if v >= 0 else (-v - 1).bit_length() for v in values)


def _narrowed(nl: Netlist, name: str, n: Narrowing, x: Net) -> Net | None:
    """``n.apply(x)`` in a net of the narrowed interval's width (wiring only)."""
    k, width = signed_bits(n.lo, n.hi)
    if width == 0:
        return None
    if n.keep is not None:  # (x >> drop) mod 2**keep
        return nl.wire(name, width, False, slice_bits(x, n.drop, width))
    return nl.wire(name, width, bool(k), slice_bits(x, n.drop, width))


def _element(
    nl: Netlist,
    name: str,
    x: Net | None,
    lo: int,
    hi: int,
    f_from: int,
    to: FixedType,
    round_mode: Round,
    overflow: Overflow,
) -> Net | int | None:
    """One requantized element as a net of at least ``to.width`` bits, or an integer."""
    if max(to.width, 0) == 0:
        return None
    if x is None:
        return 0
    shift = to.f - f_from
    right = max(-shift, 0)
    bump = (1 << (right - 1)) if round_mode is Round.RND and right > 0 else 0
    vlo, vhi = requantize_bounds(lo, hi, f_from, to, round_mode)
    width = _signed_width(lo, hi, lo + bump, hi + bump, vlo << right, vhi << right)
    if shift > 0:
        width = max(width, _signed_width(lo << shift, hi << shift))
    width = max(width, right + 1)
    word = nl.wire(f"{name}_w", width, True, resized(x, width))
    if shift > 0:
        word = nl.wire(
            f"{name}_l", width, True, f"{{{slice_bits(word, 0, width - shift)}, {shift}'h0}}"
        )
    elif bump:
        word = nl.wire(f"{name}_r", width, True, f"{word.name} + {const_bits(bump, width)}")
    if right:
        v = nl.wire(f"{name}_v", width - right, True, slice_bits(word, right, width - right))
    else:
        v = word
    if (to.raw_min <= vlo and vhi <= to.raw_max) or overflow is Overflow.WRAP:
        return v
    wc = max(v.width, _signed_width(to.raw_min, to.raw_max))
    if wc > v.width:
        v = nl.wire(f"{name}_c", wc, True, resized(v, wc))
    wo = to.width
    expr = resized(v, wo)
    if vhi > to.raw_max:
        above = f"$signed({v.name}) > $signed({const_bits(to.raw_max, wc)})"
        expr = f"{above} ? {const_bits(to.raw_max, wo)} : {expr}"
    if vlo < to.raw_min:
        below = f"$signed({v.name}) < $signed({const_bits(to.raw_min, wc)})"
        expr = f"{below} ? {const_bits(to.raw_min, wo)} : ({expr})"
    return nl.wire(f"{name}_s", wo, bool(to.k), expr)


def write_requantize(
    nl: Netlist, plan: RequantizePlan, inputs: list[Tensor], prefix: str
) -> Tensor:
    """Nets of each element requantized as ``plan`` says (narrowed and registered first when
    ``plan.latency == 1``)."""
    (source,) = inputs
    delays = Delays(nl, prefix)
    lows, highs = plan.in_type.raw_bounds()
    values: list[tuple[Net | None, int] | int | None] = []
    for e, x in enumerate(source.elements):
        lo, hi = int(lows[e]), int(highs[e])
        f_from = int(plan.in_type.f[e])
        narrowed = plan.narrowed[e]
        if narrowed is not None and x is not None:
            lo, hi, f_from = narrowed.lo, narrowed.hi, narrowed.f
            sig = _narrowed(nl, f"{prefix}_x{e}", narrowed, x)
            x = delays.at(e, f"x{e}", sig, 0, plan.latency)
        value = _element(
            nl,
            f"{prefix}_q{e}",
            x,
            lo,
            hi,
            f_from,
            plan.out_type.element(e),
            plan.round,
            plan.overflow,
        )
        values.append((value, 0) if isinstance(value, Net) else value)
    return Tensor(
        element_nets(nl, values, plan.out_type, prefix),
        delay_valid(nl, source.valid, plan.latency, prefix),
    )


register_writer(RequantizePlan, write_requantize)
