"""The plan of a Requantize layer: per element, the bits it reads and whether a register
stage comes first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from hgq_hw.fixed import FixedType, Overflow, Round, TensorType, requantize_raw
from hgq_hw.plan.base import (
    LayerContext,
    LayerPlan,
    LayerPlanner,
    PlanError,
    register_plan_kind,
    register_planner,
    take_fields,
)
from hgq_hw.plan.schedule import node_width
from hgq_hw.plan.timing import MUX_DELAY, Stager, adder_delay
from hgq_hw.spec import RequantizeSpec, SpecError

__all__ = [
    "Narrowing",
    "RequantizePlan",
    "RequantizePlanner",
    "narrowing",
    "plan_requantize",
    "requantize_bounds",
]


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


@dataclass(frozen=True)
class Narrowing:
    """Bits of an element that a requantizer still needs: ``x' = (x >> drop)`` then, when
    ``keep`` is not None, only the low ``keep`` bits of ``x'`` (read as unsigned).

    ``lo``, ``hi`` and ``f`` describe ``x'`` (its raw interval and fractional bits;
    ``[0, 2**keep - 1]`` with ``keep``); :attr:`width` is its width (0: the result does not
    depend on ``x``).
    """

    drop: int
    keep: int | None
    lo: int
    hi: int
    f: int

    @property
    def width(self) -> int:
        return node_width(self.lo, self.hi)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """The narrowed raw values of a batch of raw values (object array)."""
        v = np.asarray(x).astype(object) >> self.drop
        return v & ((1 << self.keep) - 1) if self.keep is not None else v


def narrowing(
    lo: int, hi: int, f_from: int, to: FixedType, round_mode: Round, overflow: Overflow
) -> Narrowing:
    """The fewest bits of ``x`` (raw in ``[lo, hi]`` at ``f_from``) that requantizing to ``to``
    reads, found without logic.

    Requantizing ``n.apply(x)`` (raw at ``n.f``) gives the same result as requantizing ``x``,
    bit for bit: TRN drops the fractional bits that go away and RND all but one of them
    (``(x + 2**(r-1)) >> r == ((x >> (r-1)) + 1) >> 1``); WRAP, when the value can overflow,
    keeps only the low bits that the result depends on (``to.width`` after TRN, one more after
    RND, fewer after a left shift), since carries only travel upwards.
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
        if need < node_width(n_lo, n_hi):
            keep, n_lo, n_hi = need, 0, (1 << need) - 1
    return Narrowing(drop, keep, n_lo, n_hi, n_f)


def element_delay(
    lo: int,
    hi: int,
    width_in: int,
    f_from: int,
    to: FixedType,
    round_mode: Round,
    overflow: Overflow,
) -> int:
    """Delay units of requantizing one element (rounding adder, saturation compare and mux)."""
    if width_in == 0 or max(to.width, 0) == 0:
        return 0
    delay = 0
    if to.f < f_from and round_mode is Round.RND:
        delay += adder_delay(width_in + 1)
    vlo, vhi = requantize_bounds(lo, hi, f_from, to, round_mode)
    outside = vlo < to.raw_min or vhi > to.raw_max
    if outside and overflow is Overflow.SAT:
        delay += adder_delay(node_width(vlo, vhi)) + MUX_DELAY
    return delay


@register_plan_kind
@dataclass(frozen=True, eq=False, kw_only=True)
class RequantizePlan(LayerPlan):
    """Per element: round (``round``) then handle overflow (``overflow``) to ``out_type``.

    Members (besides :class:`~hgq_hw.plan.base.LayerPlan`'s)
    -------
    round, overflow: the modes
    narrowed: per element, the :class:`Narrowing` its stage register holds (when
        ``latency == 1`` and the element is live), else None (the whole input is read)
    """

    round: Round
    overflow: Overflow
    narrowed: tuple[Narrowing | None, ...]

    kind: ClassVar[str] = "Requantize"
    report_kind: ClassVar[str] = "Requantize"
    _FIELDS: ClassVar[tuple[str, ...]] = ("round", "overflow", "narrowed")

    def evaluate(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        (x,) = xs
        x = np.asarray(x).astype(object)
        f_from = self.in_type.f.copy()
        columns = x.copy()
        for e, n in enumerate(self.narrowed):
            if n is not None:
                columns[:, e] = n.apply(x[:, e])
                f_from[e] = n.f
        return requantize_raw(columns, f_from, self.out_type, self.round, self.overflow)

    def _extra_to_json(self) -> dict[str, Any]:
        return {
            "round": self.round.value,
            "overflow": self.overflow.value,
            "narrowed": [None if n is None else asdict(n) for n in self.narrowed],
        }

    @classmethod
    def _extra_from_json(cls, fields: dict[str, Any], what: str) -> dict[str, Any]:
        try:
            round_mode, overflow = Round(fields["round"]), Overflow(fields["overflow"])
        except ValueError as err:
            raise PlanError(f"{what}: {err}") from None
        if not isinstance(fields["narrowed"], list):
            raise PlanError(f"{what}: narrowed must be a list")
        narrowed = []
        for n, entry in enumerate(fields["narrowed"]):
            if entry is None:
                narrowed.append(None)
                continue
            item = take_fields(entry, ("drop", "keep", "lo", "hi", "f"), f"{what}.narrowed[{n}]")
            narrowed.append(Narrowing(**item))
        return {"round": round_mode, "overflow": overflow, "narrowed": tuple(narrowed)}


def plan_requantize(
    in_type: TensorType,
    out_type: TensorType,
    round_mode: Round = Round.TRN,
    overflow: Overflow = Overflow.WRAP,
    *,
    pipeline_levels: int = 0,
    t_in: int = 0,
    stage: int = 0,
    name: str = "q",
    inputs: tuple[str, ...] = ("x",),
) -> RequantizePlan:
    """The plan of requantizing a 1-d tensor of ``in_type`` to ``out_type``: a register stage
    first when the stage budget (``pipeline_levels``) is used up, holding each element
    narrowed by :func:`narrowing` (not the whole, often much wider, input)."""
    if in_type.shape != out_type.shape or len(in_type.shape) != 1:
        raise ValueError(
            f"Requantize needs 1-d types of one shape, got {in_type.shape} -> {out_type.shape}"
        )
    if not isinstance(round_mode, Round) or not isinstance(overflow, Overflow):
        raise TypeError(f"expected Round and Overflow, got {round_mode!r}, {overflow!r}")
    lo, hi = in_type.raw_bounds()
    bounds = [(int(a), int(b)) for a, b in zip(lo, hi)]
    cost = 0
    for e, (a, b) in enumerate(bounds):
        delay = element_delay(
            a,
            b,
            int(in_type.width[e]),
            int(in_type.f[e]),
            out_type.element(e),
            round_mode,
            overflow,
        )
        cost = max(cost, delay)
    latency, t_out = Stager(pipeline_levels).place([(0, t_in)], cost)
    narrowed = tuple(
        narrowing(a, b, int(in_type.f[e]), out_type.element(e), round_mode, overflow)
        if latency and int(in_type.width[e]) and out_type.width[e] > 0
        else None
        for e, (a, b) in enumerate(bounds)
    )
    registers = latency * (1 + sum(n.width for n in narrowed if n is not None))
    return RequantizePlan(
        name=name,
        inputs=inputs,
        in_types=(in_type,),
        out_type=out_type,
        stage=stage,
        t_in=t_in,
        latency=latency,
        t_out=t_out,
        registers=registers,
        round=round_mode,
        overflow=overflow,
        narrowed=narrowed,
    )


class RequantizePlanner(LayerPlanner):
    """Requantize layers read only the bits from their narrowing's ``drop`` up."""

    def check(self, layer: RequantizeSpec, in_types: Sequence[TensorType]) -> None:
        super().check(layer, in_types)
        if in_types[0].shape != layer.type.shape:
            raise SpecError(
                f"types of shape {list(layer.type.shape)} on an input of shape "
                f"{list(in_types[0].shape)}",
                layer=layer.name,
                field="k",
            )

    def unread_inputs(
        self,
        layer: RequantizeSpec,
        in_types: Sequence[TensorType],
        out_type: TensorType,
        out_unread: np.ndarray,
    ) -> list[np.ndarray]:
        f_from = in_types[0].f.reshape(-1)
        extra = 1 if layer.round is Round.RND else 0
        drop = np.maximum(f_from - layer.type.f.reshape(-1) - extra, 0)
        return [np.where(layer.type.width.reshape(-1) > 0, drop, 0)]

    def plan(self, layer: RequantizeSpec, ctx: LayerContext) -> RequantizePlan:
        return plan_requantize(
            ctx.in_types[0],
            layer.type,
            layer.round,
            layer.overflow,
            pipeline_levels=ctx.pipeline_levels,
            t_in=ctx.t_in,
            stage=ctx.stage,
            name=layer.name,
            inputs=tuple(layer.inputs),
        )


register_planner(RequantizeSpec, RequantizePlanner())
