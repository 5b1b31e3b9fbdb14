"""The plans of the merging layers: ``Add``, ``Subtract``, ``Multiply`` (element-wise on two
tensors) and ``Concatenate`` (wiring), with the delay balancing of their inputs.

Delay balancing
---------------
The inputs of a merge may come from branches of different latency: input ``n`` arrives in
absolute stage ``stage - delays[n]`` and is carried through ``delays[n]`` register stages (its
whole bus, counted in ``registers``) so that every input is read in :attr:`stage`. A delayed
input arrives there through a register, at delay ``t = 0``; ``t_in`` is the largest delay of
the inputs that arrive in ``stage`` itself. ``valid`` is taken from an input with no delay. A
tensor read twice (``Add(x, x)``) has one register chain.

Element-wise arithmetic (exact, as :func:`hgq_hw.reference.merge_type` types it)
---------------------------------------------------------------------------------
``Add`` / ``Subtract``: output ``e`` (``f`` fractional bits) is ``(a << (f - f_a)) +- (b << (f -
f_b))``, a width-0 operand being the constant 0: one adder per element whose operands are both
live (otherwise wiring, or a negation), exactly as wide as the output element. ``Multiply``:
``a * b`` at ``f_a + f_b``, one ``width_a x width_b`` multiplier per element whose operands are
both live. The row of operations costs the delay of its widest one
(:func:`~hgq_hw.plan.timing.adder_delay`, :func:`multiplier_delay`); when it does not fit in
the stage budget after ``t_in`` it starts the next stage (``latency == 1``: the operands,
delayed inputs included, are registered one stage more), like a ReLU.

``Concatenate``: output element ``j`` is element ``sources[j][1]`` of input ``sources[j][0]``
(no logic, latency 0).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from hgq_hw.fixed import TensorType
from hgq_hw.layout import BusLayout
from hgq_hw.lowering import FlatConcatenateSpec
from hgq_hw.plan.base import (
    LayerContext,
    LayerPlan,
    LayerPlanner,
    PlanError,
    register_plan_kind,
    register_planner,
)
from hgq_hw.plan.timing import MUX_DELAY, Stager, adder_delay
from hgq_hw.reference import merge_type
from hgq_hw.spec import AddSpec, LayerSpec, MultiplySpec, SpecError, SubtractSpec

__all__ = [
    "AddPlan",
    "ConcatenatePlan",
    "ConcatenatePlanner",
    "ElementwisePlanner",
    "MergePlan",
    "MultiplyPlan",
    "SubtractPlan",
    "balance",
    "multiplier_delay",
    "plan_concatenate",
    "plan_elementwise",
]


def multiplier_delay(width_a: int, width_b: int) -> int:
    """Delay units of a ``width_a x width_b`` multiplier: a row of AND gates
    (:data:`~hgq_hw.plan.timing.MUX_DELAY`) when an operand has one bit, else the AND row plus
    ``ceil(log2(min width))`` levels of adders of the product's width (an adder tree of the
    partial products)."""
    small = min(int(width_a), int(width_b))
    if small <= 1:
        return MUX_DELAY
    return MUX_DELAY + math.ceil(math.log2(small)) * adder_delay(int(width_a) + int(width_b))


def balance(arrivals: Sequence[tuple[int, int]]) -> tuple[int, int, tuple[int, ...]]:
    """``(stage, t_in, delays)`` of a layer whose inputs arrive at ``arrivals`` (``(stage,
    t)`` each): the latest stage, the largest ``t`` among the inputs that arrive in it, and the
    register stages each input needs to reach it."""
    stage = max(s for s, _ in arrivals)
    t_in = max(t for s, t in arrivals if s == stage)
    return stage, t_in, tuple(stage - s for s, _ in arrivals)


@dataclass(frozen=True, eq=False, kw_only=True)
class MergePlan(LayerPlan):
    """What the merge plans share: two (or more) inputs, each delayed by ``delays[n]`` stages
    (the module docstring's delay balancing).

    Members (besides :class:`~hgq_hw.plan.base.LayerPlan`'s)
    -------
    delays: register stages of each input before :attr:`stage`
    """

    delays: tuple[int, ...]

    _FIELDS: ClassVar[tuple[str, ...]] = ("delays",)

    @property
    def valid_input(self) -> int:
        """The input whose ``valid`` the layer passes on (one with no delay)."""
        return self.delays.index(0)

    def chains(self) -> dict[str, tuple[int, int]]:
        """Per distinct input tensor, ``(index of its first use, register stages)``: it is
        carried from stage ``-delays[n]`` to stage ``latency`` (relative to :attr:`stage`)."""
        out: dict[str, tuple[int, int]] = {}
        for n, name in enumerate(self.inputs):
            out.setdefault(name, (n, self.delays[n] + self.latency))
        return out

    def count_registers(self) -> int:
        """Bits of the input register chains plus ``latency`` for ``valid``."""
        bits = self.latency
        for n, stages in self.chains().values():
            bits += stages * BusLayout.of(self.in_types[n]).width
        return bits

    def _extra_to_json(self) -> dict[str, Any]:
        return {"delays": list(self.delays)}

    @classmethod
    def _extra_from_json(cls, fields: dict[str, Any], what: str) -> dict[str, Any]:
        delays = fields["delays"]
        if not isinstance(delays, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in delays
        ):
            raise PlanError(f"{what}: delays must be a list of integers >= 0")
        return {"delays": tuple(delays)}

    @classmethod
    def from_json(cls, obj: Any) -> LayerPlan:
        """As :meth:`LayerPlan.from_json`, then checked: one delay per input, one of them 0,
        the types and registers consistent (:class:`PlanError` otherwise)."""
        plan = super().from_json(obj)
        what = f"{cls.kind} plan {plan.name!r}"
        if not (len(plan.delays) == len(plan.inputs) == len(plan.in_types) >= 1):
            raise PlanError(f"{what}: needs one delay and one in_type per input")
        if 0 not in plan.delays:
            raise PlanError(f"{what}: one input must arrive without delay")
        if plan.latency > 1:
            raise PlanError(f"{what}: latency is 0 or 1, got {plan.latency}")
        plan._check_types()
        if plan.registers != plan.count_registers():
            raise PlanError(
                f"{what}: registers {plan.registers} do not match ({plan.count_registers()})"
            )
        return plan

    def _check_types(self) -> None:
        raise NotImplementedError


@dataclass(frozen=True, eq=False, kw_only=True)
class _ElementwisePlan(MergePlan):
    """Two inputs of one shape, one operation per element (the module docstring)."""

    op: ClassVar[str] = ""

    def shifts(self, e: int) -> tuple[int, int]:
        """Left shifts of the operands of element ``e`` (0 for a width-0 operand)."""
        a, b = self.in_types
        f = int(self.out_type.f[e])
        if self.op == "Multiply":
            return 0, 0
        return tuple(  # type: ignore[return-value]
            f - int(t.f[e]) if int(t.width[e]) > 0 else 0 for t in (a, b)
        )

    def is_operation(self, e: int) -> bool:
        """Whether element ``e`` needs an adder or multiplier (both operands and the output
        live)."""
        a, b = self.in_types
        return int(self.out_type.width[e]) > 0 and int(a.width[e]) > 0 and int(b.width[e]) > 0

    @property
    def n_operations(self) -> int:
        return sum(self.is_operation(e) for e in range(self.out_type.shape[0]))

    def _check_types(self) -> None:
        if len(self.in_types) != 2 or self.in_types[0].shape != self.in_types[1].shape:
            raise PlanError(f"{self.kind} plan {self.name!r}: needs two inputs of one shape")
        want = merge_type(self.op, *self.in_types)
        if not all(np.array_equal(getattr(want, k), getattr(self.out_type, k)) for k in "kif"):
            raise PlanError(f"{self.kind} plan {self.name!r}: out_type is not the exact type")

    def evaluate(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        a, b = (np.asarray(x).astype(object) for x in xs)
        out = np.zeros((a.shape[0], self.out_type.shape[0]), dtype=object)
        ta, tb = self.in_types
        for e in range(self.out_type.shape[0]):
            if int(self.out_type.width[e]) == 0:
                continue
            va = a[:, e] if int(ta.width[e]) else np.zeros(len(a), dtype=object)
            vb = b[:, e] if int(tb.width[e]) else np.zeros(len(b), dtype=object)
            sa, sb = self.shifts(e)
            if self.op == "Multiply":
                out[:, e] = va * vb
            elif self.op == "Add":
                out[:, e] = (va << sa) + (vb << sb)
            else:
                out[:, e] = (va << sa) - (vb << sb)
        return out


@register_plan_kind
@dataclass(frozen=True, eq=False, kw_only=True)
class AddPlan(_ElementwisePlan):
    """``a + b`` per element: an adder each, exactly as wide as the output element."""

    kind: ClassVar[str] = "Add"
    report_kind: ClassVar[str] = "Add"
    op: ClassVar[str] = "Add"

    @property
    def n_adders(self) -> int:
        return self.n_operations

    @property
    def adder_depth(self) -> int:
        return 1 if self.n_operations else 0

    @property
    def adder_bits(self) -> int:
        w = self.out_type.width
        return sum(int(w[e]) for e in range(len(w)) if self.is_operation(e))


@register_plan_kind
@dataclass(frozen=True, eq=False, kw_only=True)
class SubtractPlan(AddPlan):
    """``a - b`` per element: a subtractor each (a lone ``-b`` is a negation, counted as an
    adder too)."""

    kind: ClassVar[str] = "Subtract"
    report_kind: ClassVar[str] = "Subtract"
    op: ClassVar[str] = "Subtract"

    def is_operation(self, e: int) -> bool:
        b = self.in_types[1]
        live_out = int(self.out_type.width[e]) > 0
        return live_out and int(b.width[e]) > 0


@register_plan_kind
@dataclass(frozen=True, eq=False, kw_only=True)
class MultiplyPlan(_ElementwisePlan):
    """``a * b`` per element: a ``width_a x width_b`` multiplier of two variables each
    (:attr:`multiplier_bits` counts ``width_a * width_b``, EBOPs-style)."""

    kind: ClassVar[str] = "Multiply"
    report_kind: ClassVar[str] = "Multiply"
    op: ClassVar[str] = "Multiply"

    @property
    def n_multipliers(self) -> int:
        return self.n_operations

    @property
    def multiplier_bits(self) -> int:
        a, b = self.in_types
        return sum(
            int(a.width[e]) * int(b.width[e])
            for e in range(self.out_type.shape[0])
            if self.is_operation(e)
        )


@register_plan_kind
@dataclass(frozen=True, eq=False, kw_only=True)
class ConcatenatePlan(MergePlan):
    """Output element ``j`` is element ``sources[j][1]`` of input ``sources[j][0]`` (wiring;
    registers only for delay balancing)."""

    sources: tuple[tuple[int, int], ...]

    kind: ClassVar[str] = "Concatenate"
    report_kind: ClassVar[str] = "Concatenate"
    _FIELDS: ClassVar[tuple[str, ...]] = ("delays", "sources")

    def evaluate(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        flat = [np.asarray(x).astype(object) for x in xs]
        out = np.zeros((flat[0].shape[0], len(self.sources)), dtype=object)
        for j, (n, e) in enumerate(self.sources):
            out[:, j] = flat[n][:, e]
        return out

    def _extra_to_json(self) -> dict[str, Any]:
        return {"delays": list(self.delays), "sources": [list(s) for s in self.sources]}

    @classmethod
    def _extra_from_json(cls, fields: dict[str, Any], what: str) -> dict[str, Any]:
        out = super()._extra_from_json(fields, what)
        sources = fields["sources"]
        if not isinstance(sources, list) or not all(
            isinstance(s, list) and len(s) == 2 and all(type(v) is int for v in s) for s in sources
        ):
            raise PlanError(f"{what}: sources must be a list of [input, element] pairs")
        out["sources"] = tuple((n, e) for n, e in sources)
        return out

    def _check_types(self) -> None:
        what = f"Concatenate plan {self.name!r}"
        if len(self.sources) != self.out_type.shape[0] or self.latency != 0:
            raise PlanError(f"{what}: one source per output element and latency 0 expected")
        for j, (n, e) in enumerate(self.sources):
            if not (0 <= n < len(self.in_types) and 0 <= e < self.in_types[n].shape[0]):
                raise PlanError(f"{what}: sources[{j}] = {[n, e]} is not an input element")
            t = self.in_types[n]
            got = tuple(int(getattr(self.out_type, k)[j]) for k in "kif")
            if got != tuple(int(getattr(t, k)[e]) for k in "kif"):
                raise PlanError(f"{what}: out_type[{j}] is not the type of its source")


_ELEMENTWISE: dict[str, type[_ElementwisePlan]] = {
    "Add": AddPlan,
    "Subtract": SubtractPlan,
    "Multiply": MultiplyPlan,
}


def plan_elementwise(
    op: str,
    in_types: tuple[TensorType, TensorType],
    *,
    pipeline_levels: int = 0,
    t_in: int = 0,
    stage: int = 0,
    delays: tuple[int, int] = (0, 0),
    name: str = "merge",
    inputs: tuple[str, str] = ("a", "b"),
) -> _ElementwisePlan:
    """The plan of ``a + b``, ``a - b`` or ``a * b`` (``op`` ``"Add"``, ``"Subtract"``,
    ``"Multiply"``) on two 1-d inputs of one shape; the output type is the exact one
    (:func:`hgq_hw.reference.merge_type`). ``delays``: register stages of each input before
    ``stage`` (one of them 0)."""
    if op not in _ELEMENTWISE:
        raise ValueError(f"op must be one of {sorted(_ELEMENTWISE)}, got {op!r}")
    a, b = in_types
    if len(a.shape) != 1 or a.shape != b.shape:
        raise ValueError(f"{op} needs two 1-d types of one shape, got {a.shape} and {b.shape}")
    if len(delays) != 2 or min(delays) != 0 or any(d < 0 for d in delays):
        raise ValueError(f"delays must be two integers >= 0, one of them 0, got {delays!r}")
    out_type = merge_type(op, a, b)
    cls = _ELEMENTWISE[op]
    plan = cls(
        name=name,
        inputs=tuple(inputs),
        in_types=(a, b),
        out_type=out_type,
        stage=stage,
        t_in=t_in,
        latency=0,
        t_out=t_in,
        registers=0,
        delays=tuple(int(d) for d in delays),
    )
    cost = 0
    for e in range(out_type.shape[0]):
        if not plan.is_operation(e):
            continue
        if op == "Multiply":
            cost = max(cost, multiplier_delay(int(a.width[e]), int(b.width[e])))
        else:
            cost = max(cost, adder_delay(int(out_type.width[e])))
    latency, t_out = Stager(pipeline_levels).place([(0, t_in)], cost)
    plan = dataclasses.replace(plan, latency=latency, t_out=t_out)
    return dataclasses.replace(plan, registers=plan.count_registers())


def plan_concatenate(
    in_types: Sequence[TensorType],
    sources: Sequence[tuple[int, int]],
    *,
    t_in: int = 0,
    stage: int = 0,
    delays: Sequence[int] | None = None,
    name: str = "concatenate",
    inputs: tuple[str, ...] = ("a", "b"),
) -> ConcatenatePlan:
    """The plan of a concatenation over flattened inputs: output ``j`` is element
    ``sources[j][1]`` of input ``sources[j][0]`` (:func:`hgq_hw.lowering.concat_sources`)."""
    types = tuple(in_types)
    delays = tuple(int(d) for d in (delays if delays is not None else (0,) * len(types)))
    srcs = tuple((int(n), int(e)) for n, e in sources)
    for n, e in srcs:
        if not (0 <= n < len(types) and 0 <= e < types[n].shape[0]):
            raise ValueError(f"source {(n, e)} is not an element of the inputs")
    out_type = TensorType(
        *(np.array([int(getattr(types[n], k)[e]) for n, e in srcs], dtype=np.int64) for k in "kif")
    )
    plan = ConcatenatePlan(
        name=name,
        inputs=tuple(inputs),
        in_types=types,
        out_type=out_type,
        stage=stage,
        t_in=t_in,
        latency=0,
        t_out=t_in,
        registers=0,
        delays=delays,
        sources=srcs,
    )
    return dataclasses.replace(plan, registers=plan.count_registers())


class _MergePlanner(LayerPlanner):
    balances_inputs: ClassVar[bool] = True

    @staticmethod
    def _arrivals(ctx: LayerContext) -> tuple[int, tuple[int, ...]]:
        """``(t_in, delays)`` from the context (inputs all in ``ctx.stage`` when it has no
        arrivals)."""
        arrivals = ctx.in_arrivals or tuple((ctx.stage, ctx.t_in) for _ in ctx.in_types)
        stage, t_in, delays = balance(arrivals)
        if stage != ctx.stage:
            raise SpecError("the inputs' arrivals do not match the stage", field="inputs")
        return t_in, delays


class ElementwisePlanner(_MergePlanner):
    """Plans an Add, Subtract or Multiply (every bit of both inputs is read)."""

    def plan(self, layer: LayerSpec, ctx: LayerContext) -> LayerPlan:
        t_in, delays = self._arrivals(ctx)
        return plan_elementwise(
            layer.kind,
            (ctx.in_types[0], ctx.in_types[1]),
            pipeline_levels=ctx.pipeline_levels,
            t_in=t_in,
            stage=ctx.stage,
            delays=(delays[0], delays[1]),
            name=layer.name,
            inputs=(layer.inputs[0], layer.inputs[1]),
        )


class ConcatenatePlanner(_MergePlanner):
    """Plans a Concatenate; each input's element is read as its consumers read the output
    element it becomes (wiring passes the demand through)."""

    def unread_inputs(
        self,
        layer: FlatConcatenateSpec,
        in_types: Sequence[TensorType],
        out_type: TensorType,
        out_unread: np.ndarray,
    ) -> list[np.ndarray]:
        big = np.iinfo(np.int64).max
        per = [np.full(t.shape[0], big, dtype=np.int64) for t in in_types]
        drops = np.asarray(out_unread, dtype=np.int64).reshape(-1)
        for j, (n, e) in enumerate(layer.sources):
            per[n][e] = min(int(per[n][e]), int(drops[j]))
        return [np.where(p == big, 0, p) for p in per]

    def plan(self, layer: FlatConcatenateSpec, ctx: LayerContext) -> LayerPlan:
        t_in, delays = self._arrivals(ctx)
        return plan_concatenate(
            ctx.in_types,
            layer.sources,
            t_in=t_in,
            stage=ctx.stage,
            delays=delays,
            name=layer.name,
            inputs=tuple(layer.inputs),
        )


for _kind in (AddSpec, SubtractSpec, MultiplySpec):
    register_planner(_kind, ElementwisePlanner())
register_planner(FlatConcatenateSpec, ConcatenatePlanner())
