"""``Requantize``: per-element rounding (TRN/RND) then overflow (WRAP/SAT) to a new type."""

from __future__ import annotations

from amaranth.hdl import Const, Module, Mux, Signal, Value

from hgq_hw.components.bus import element_shape, pack, shape_for, unpack
from hgq_hw.components.pipeline import Delayer, delay_valid
from hgq_hw.components.planned import PlannedLayer
from hgq_hw.components.registry import register_component
from hgq_hw.fixed import FixedType, Overflow, Round, TensorType
from hgq_hw.plan.requantize import Narrowing, RequantizePlan, requantize_bounds

__all__ = ["Requantize", "narrowed_value", "requantize_value"]


def requantize_value(
    x: Value | None,
    lo: int,
    hi: int,
    f_from: int,
    to: FixedType,
    round_mode: Round,
    overflow: Overflow,
) -> Value | int | None:
    """Hardware for one element; assigned to a signal of ``to``'s shape it is exact.

    ``x`` holds raw values in ``[lo, hi]`` at fractional bits ``f_from`` (None: constant 0).
    Returns None for a width-0 ``to``. Matches :func:`hgq_hw.fixed.requantize_raw` bit for bit.
    """
    if max(to.width, 0) == 0:
        return None
    if x is None:
        return 0
    shift = to.f - f_from
    if shift >= 0:
        v: Value = x << shift
    else:
        right = -shift
        if round_mode is Round.RND:
            v = x + Const(1 << (right - 1))
        elif round_mode is Round.TRN:
            v = x
        else:
            raise TypeError(f"round_mode must be a Round, got {round_mode!r}")
        v = v >> right
    vlo, vhi = requantize_bounds(lo, hi, f_from, to, round_mode)
    if to.raw_min <= vlo and vhi <= to.raw_max:
        return v
    if overflow is Overflow.WRAP:
        return v  # the caller's assignment keeps the low bits
    if overflow is not Overflow.SAT:
        raise TypeError(f"overflow must be an Overflow, got {overflow!r}")
    shape = element_shape(TensorType.uniform((1,), to.k, to.i, to.f), 0)
    out: Value = v
    if vhi > to.raw_max:
        out = Mux(v > to.raw_max, Const(to.raw_max, shape), out)
    if vlo < to.raw_min:
        out = Mux(v < to.raw_min, Const(to.raw_min, shape), out)
    return out


def narrowed_value(n: Narrowing, x: Value) -> Value:
    """``n.apply`` in hardware (wiring only: an arithmetic shift and a bit slice)."""
    v = x >> n.drop if n.drop else x
    return v.as_unsigned()[: n.keep] if n.keep is not None else v


class Requantize(PlannedLayer):
    """Round each element of a 1-d tensor to a new per-element type, then handle overflow, as
    its :class:`~hgq_hw.plan.RequantizePlan` says (with ``latency == 1`` the register holds each
    element narrowed by ``plan.narrowed``).

    Members
    -------
    i_stream: ``In(stream.Signature(in_width, always_ready=True))``
    o_stream: ``Out(stream.Signature(out_width, always_ready=True))``
    plan: the plan; ``latency``, ``t_out``, ``registers`` are its numbers
    """

    plan_class = RequantizePlan
    plan: RequantizePlan

    def elaborate(self, platform: object) -> Module:
        m = Module()
        plan = self.plan
        name = plan.name
        delayer = Delayer(m, f"{name}_")
        lows, highs = plan.in_type.raw_bounds()
        values = []
        for e, x in enumerate(unpack(self.i_stream.payload, plan.in_type)):
            lo, hi = int(lows[e]), int(highs[e])
            f_from = int(plan.in_type.f[e])
            narrowed = plan.narrowed[e]
            if narrowed is not None and x is not None:
                lo, hi, f_from = narrowed.lo, narrowed.hi, narrowed.f
                if narrowed.width:
                    sig = Signal(shape_for(lo, hi), name=f"{name}_x{e}")
                    m.d.comb += sig.eq(narrowed_value(narrowed, x))
                    x = delayer.at(e, f"x{e}", sig, 0, plan.latency)
                else:
                    x = None  # the result does not depend on x
            value = requantize_value(
                x, lo, hi, f_from, plan.out_type.element(e), plan.round, plan.overflow
            )
            values.append(value)
        m.d.comb += [
            self.o_stream.payload.eq(pack(m, values, plan.out_type, f"{name}_y")),
            self.o_stream.valid.eq(delay_valid(m, self.i_stream.valid, plan.latency, name)),
        ]
        return m


register_component(RequantizePlan, Requantize)
