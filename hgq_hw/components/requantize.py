"""``Requantize``: per-element rounding (TRN/RND) then overflow (WRAP/SAT) to a new type."""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Const, Module, Mux, Shape, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hgq_hw.components.bus import element_shape, pack, shape_for, unpack
from hgq_hw.components.pipeline import Delayer, delay_valid
from hgq_hw.components.timing import MUX_DELAY, Stager, adder_delay
from hgq_hw.fixed import FixedType, Overflow, Round, TensorType
from hgq_hw.layout import BusLayout

__all__ = ["Narrowing", "Requantize", "narrowing", "requantize_bounds", "requantize_value"]


def _round_shift(lo: int, hi: int, right: int, round_mode: Round) -> tuple[int, int]:
    half = (1 << (right - 1)) if round_mode is Round.RND and right > 0 else 0
    return (lo + half) >> right, (hi + half) >> right


def requantize_bounds(
    lo: int, hi: int, f_from: int, to: FixedType, round_mode: Round
) -> tuple[int, int]:
    """Interval of the value after rounding to ``to.f`` (before overflow handling)."""
    shift = to.f - f_from
    if shift >= 0:
        return lo << shift, hi << shift
    return _round_shift(lo, hi, -shift, round_mode)


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


@dataclass(frozen=True)
class Narrowing:
    """Bits of an element that a requantizer still needs: ``x' = (x >> drop)`` then, when
    ``keep`` is not None, only the low ``keep`` bits of ``x'`` (read as unsigned).

    ``lo``, ``hi`` and ``f`` describe ``x'`` (the interval and fractional bits to pass to
    :func:`requantize_value`; ``[0, 2**keep - 1]`` with ``keep``); ``shape`` is its shape
    (width 0: the result does not depend on ``x``).
    """

    drop: int
    keep: int | None
    lo: int
    hi: int
    f: int

    @property
    def shape(self) -> Shape:
        return shape_for(self.lo, self.hi)

    def apply(self, x: Value) -> Value:
        """The narrowed value (wiring only: an arithmetic shift and a bit slice)."""
        v = x >> self.drop if self.drop else x
        return v.as_unsigned()[: self.keep] if self.keep is not None else v


def narrowing(
    lo: int, hi: int, f_from: int, to: FixedType, round_mode: Round, overflow: Overflow
) -> Narrowing:
    """The fewest bits of ``x`` (raw in ``[lo, hi]`` at ``f_from``) that requantizing to ``to``
    reads, found without logic.

    With ``n = narrowing(...)``, ``requantize_value(n.apply(x), n.lo, n.hi, n.f, to, ...)`` equals
    ``requantize_value(x, lo, hi, f_from, to, ...)`` bit for bit: TRN drops the fractional bits
    that go away and RND all but one of them (``(x + 2**(r-1)) >> r ==
    ((x >> (r-1)) + 1) >> 1``); WRAP, when the value can overflow, keeps only the low bits that
    the result depends on (``to.width`` after TRN, one more after RND, fewer after a left
    shift), since carries only travel upwards.
    """
    shift = to.f - f_from
    drop = 0
    if shift < 0:
        drop = -shift - (1 if round_mode is Round.RND else 0)
    n_lo, n_hi, n_f = lo >> drop, hi >> drop, f_from - drop
    keep = None
    vlo, vhi = requantize_bounds(lo, hi, f_from, to, round_mode)
    if overflow is Overflow.WRAP and not (to.raw_min <= vlo and vhi <= to.raw_max):
        width = max(to.width, 0)
        if shift >= 0:
            need = max(width - shift, 0)
        else:
            need = width + (1 if round_mode is Round.RND else 0)
        if need < shape_for(n_lo, n_hi).width:
            keep, n_lo, n_hi = need, 0, (1 << need) - 1
    return Narrowing(drop, keep, n_lo, n_hi, n_f)


class Requantize(wiring.Component):
    """Round each element of a 1-d tensor to a new per-element type, then handle overflow.

    Parameters
    ----------
    in_type:
        Type of the incoming tensor (its payload follows ``BusLayout.of(in_type)``).
    out_type:
        Target types (``RequantizeSpec.type``).
    round_mode, overflow:
        :class:`Round` then :class:`Overflow`, as in :func:`hgq_hw.fixed.requantize_raw`.
    pipeline_levels, t_in:
        Register budget (see :mod:`hgq_hw.components.timing`) and delay already used in the
        current stage when the input arrives.

    Members
    -------
    i_stream: ``In(stream.Signature(in_width, always_ready=True))``
    o_stream: ``Out(stream.Signature(out_width, always_ready=True))``
    latency: cycles from ``i_stream`` to ``o_stream`` (0 or 1); with 1, the register holds
        each element narrowed by :func:`narrowing` (not the whole, often much wider, input)
    t_out: delay used in the last stage at the output
    registers: flip-flops inside (data and valid)
    """

    def __init__(
        self,
        in_type: TensorType,
        out_type: TensorType,
        round_mode: Round = Round.TRN,
        overflow: Overflow = Overflow.WRAP,
        *,
        pipeline_levels: int = 0,
        t_in: int = 0,
        name: str = "q",
    ) -> None:
        if in_type.shape != out_type.shape or len(in_type.shape) != 1:
            raise ValueError(
                f"Requantize needs 1-d types of one shape, got {in_type.shape} -> {out_type.shape}"
            )
        if not isinstance(round_mode, Round) or not isinstance(overflow, Overflow):
            raise TypeError(f"expected Round and Overflow, got {round_mode!r}, {overflow!r}")
        self.in_type, self.out_type = in_type, out_type
        self.round_mode, self.overflow = round_mode, overflow
        self.name = name
        lo, hi = in_type.raw_bounds()
        self._bounds = [(int(a), int(b)) for a, b in zip(lo, hi)]
        cost = 0
        for e in range(in_type.shape[0]):
            # widths only: the delay estimate does not need the hardware
            cost = max(cost, self._element_delay(e))
        stage, self.t_out = Stager(pipeline_levels).place([(0, t_in)], cost)
        self.latency = stage
        super().__init__(
            {
                "i_stream": In(stream.Signature(BusLayout.of(in_type).width, always_ready=True)),
                "o_stream": Out(stream.Signature(BusLayout.of(out_type).width, always_ready=True)),
            }
        )
        self._narrowed = [
            narrowing(lo, hi, int(in_type.f[e]), out_type.element(e), round_mode, overflow)
            if self._needs_register(e)
            else None
            for e, (lo, hi) in enumerate(self._bounds)
        ]
        self.registers = self.latency * (
            1 + sum(n.shape.width for n in self._narrowed if n is not None)
        )

    def _needs_register(self, e: int) -> bool:
        """Element ``e`` is carried through the stage register (it is not constant)."""
        return bool(self.latency and int(self.in_type.width[e]) and self.out_type.width[e] > 0)

    def _element_delay(self, e: int) -> int:
        to = self.out_type.element(e)
        if int(self.in_type.width[e]) == 0 or max(to.width, 0) == 0:
            return 0
        lo, hi = self._bounds[e]
        f_from = int(self.in_type.f[e])
        delay = 0
        if to.f < f_from and self.round_mode is Round.RND:
            delay += adder_delay(int(self.in_type.width[e]) + 1)
        vlo, vhi = requantize_bounds(lo, hi, f_from, to, self.round_mode)
        outside = vlo < to.raw_min or vhi > to.raw_max
        if outside and self.overflow is Overflow.SAT:
            delay += adder_delay(shape_for(vlo, vhi).width) + MUX_DELAY
        return delay

    def elaborate(self, platform: object) -> Module:
        m = Module()
        delayer = Delayer(m, f"{self.name}_")
        values = []
        for e, x in enumerate(unpack(self.i_stream.payload, self.in_type)):
            lo, hi = self._bounds[e]
            f_from = int(self.in_type.f[e])
            narrowed = self._narrowed[e]
            if narrowed is not None and x is not None:
                lo, hi, f_from = narrowed.lo, narrowed.hi, narrowed.f
                if narrowed.shape.width:
                    sig = Signal(narrowed.shape, name=f"{self.name}_x{e}")
                    m.d.comb += sig.eq(narrowed.apply(x))
                    x = delayer.at(e, f"x{e}", sig, 0, self.latency)
                else:
                    x = None  # the result does not depend on x
            value = requantize_value(
                x, lo, hi, f_from, self.out_type.element(e), self.round_mode, self.overflow
            )
            values.append(value)
        m.d.comb += [
            self.o_stream.payload.eq(pack(m, values, self.out_type, f"{self.name}_y")),
            self.o_stream.valid.eq(delay_valid(m, self.i_stream.valid, self.latency, self.name)),
        ]
        return m
