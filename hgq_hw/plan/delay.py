"""The plan of a delay line: a tensor carried through register stages unchanged.

The network planner (:func:`hgq_hw.plan.plan_network`) inserts one where a merge reads a
tensor made in an earlier stage (:mod:`hgq_hw.plan.merge`): every consumer of that tensor in
a later stage reads a tap of one shared chain (tensor ``T`` made in stage ``s``, read in
stages ``s1 < s2 < ...``: ``T`` delayed to ``s1``, that delayed on to ``s2``, ...), so a
skip connection that feeds several merges costs its registers once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hgq_hw.fixed import TensorType
from hgq_hw.layout import BusLayout
from hgq_hw.plan.base import LayerPlan, PlanError, register_plan_kind

__all__ = ["DelayPlan", "plan_delay"]


@register_plan_kind
@dataclass(frozen=True, eq=False, kw_only=True)
class DelayPlan(LayerPlan):
    """Its input, unchanged, ``latency`` stages later (``latency * (bus width + 1)`` flip-flops,
    ``valid`` included); the output arrives through a register (``t_out == 0``). Not a spec
    layer: the network planner names it after the tensor and the stage it reaches."""

    kind: ClassVar[str] = "Delay"
    report_kind: ClassVar[str] = "Delay"

    def evaluate(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        (x,) = xs
        return np.asarray(x).astype(object)

    @classmethod
    def from_json(cls, obj: object) -> LayerPlan:
        plan = super().from_json(obj)
        t = plan.in_types[0] if len(plan.in_types) == 1 else None
        if t is None or len(plan.inputs) != 1:
            raise PlanError(f"Delay plan {plan.name!r}: reads exactly one tensor")
        if not all(np.array_equal(getattr(t, k), getattr(plan.out_type, k)) for k in "kif"):
            raise PlanError(f"Delay plan {plan.name!r}: out_type differs from its input's")
        if plan.latency < 1 or plan.t_out != 0:
            raise PlanError(f"Delay plan {plan.name!r}: latency >= 1 and t_out 0 expected")
        if plan.registers != plan.latency * (BusLayout.of(t).width + 1):
            raise PlanError(f"Delay plan {plan.name!r}: registers do not match its width")
        return plan


def plan_delay(
    in_type: TensorType, stages: int, *, name: str, source: str, stage: int, t_in: int = 0
) -> DelayPlan:
    """``source`` (1-d type ``in_type``, available in ``stage`` at delay ``t_in``) carried
    ``stages >= 1`` register stages on."""
    if stages < 1:
        raise ValueError(f"a delay needs at least one stage, got {stages}")
    return DelayPlan(
        name=name,
        inputs=(source,),
        in_types=(in_type,),
        out_type=in_type,
        stage=stage,
        t_in=t_in,
        latency=stages,
        t_out=0,
        registers=stages * (BusLayout.of(in_type).width + 1),
    )
