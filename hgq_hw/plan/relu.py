"""The plan of a ReLU layer: ``max(x, 0)`` per element, with dropped low bits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from hgq_hw.fixed import TensorType
from hgq_hw.plan.base import (
    LayerContext,
    LayerPlan,
    LayerPlanner,
    PlanError,
    check_drop,
    clear_low_bits,
    register_plan_kind,
    register_planner,
)
from hgq_hw.plan.demand import clamp_drop
from hgq_hw.plan.timing import MUX_DELAY, Stager
from hgq_hw.spec import ReLUSpec

__all__ = ["ReLUPlan", "ReLUPlanner", "plan_relu", "relu_type"]


def relu_type(t: TensorType) -> TensorType:
    """Type after ReLU: ``k = 0``, same ``i`` and ``f``; width 0 normalised to ``(0, 0, 0)``."""
    zero = (t.i + t.f) <= 0
    return TensorType(np.zeros_like(t.k), np.where(zero, 0, t.i), np.where(zero, 0, t.f))


@register_plan_kind
@dataclass(frozen=True, eq=False, kw_only=True)
class ReLUPlan(LayerPlan):
    """``max(x, 0)``; ``out_drop[e]`` low bits of element ``e`` are cleared (no consumer reads
    them) and the stage register, when ``latency == 1``, carries only the bits above."""

    out_drop: tuple[int, ...]

    kind: ClassVar[str] = "ReLU"
    report_kind: ClassVar[str] = "ReLU"
    _FIELDS: ClassVar[tuple[str, ...]] = ("out_drop",)

    def evaluate(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        (x,) = xs
        x = np.asarray(x).astype(object)
        live = self.out_type.width > 0
        return clear_low_bits(np.where(live, np.maximum(x, 0), 0), self.out_drop)

    def _extra_to_json(self) -> dict[str, Any]:
        return {"out_drop": list(self.out_drop)}

    @classmethod
    def _extra_from_json(cls, fields: dict[str, Any], what: str) -> dict[str, Any]:
        drop = fields["out_drop"]
        if not isinstance(drop, list) or not all(isinstance(v, int) for v in drop):
            raise PlanError(f"{what}: out_drop must be a list of integers")
        return {"out_drop": tuple(drop)}


def plan_relu(
    in_type: TensorType,
    *,
    pipeline_levels: int = 0,
    t_in: int = 0,
    stage: int = 0,
    name: str = "relu",
    inputs: tuple[str, ...] = ("x",),
    out_drop: Sequence[int] | None = None,
) -> ReLUPlan:
    """The plan of ``max(x, 0)`` on a 1-d tensor of ``in_type`` (output :func:`relu_type`);
    ``out_drop``: low bits of each element to clear, at most ``width - k`` of the input
    element (``ValueError`` otherwise)."""
    if len(in_type.shape) != 1:
        raise ValueError(f"ReLU needs a 1-d type, got shape {in_type.shape}")
    out_type = relu_type(in_type)
    drops = check_drop(out_drop, in_type, "out_drop")
    signed = bool(np.any((in_type.k > 0) & (in_type.width > 0)))
    latency, t_out = Stager(pipeline_levels).place([(0, t_in)], MUX_DELAY if signed else 0)
    kept = [
        int(in_type.width[e]) - drops[e]
        for e in range(in_type.shape[0])
        if int(out_type.width[e]) > 0
    ]
    return ReLUPlan(
        name=name,
        inputs=inputs,
        in_types=(in_type,),
        out_type=out_type,
        stage=stage,
        t_in=t_in,
        latency=latency,
        t_out=t_out,
        registers=latency * (1 + sum(kept)),
        out_drop=drops,
    )


class ReLUPlanner(LayerPlanner):
    """ReLU passes its consumers' unread low bits through to its input."""

    def unread_inputs(
        self,
        layer: ReLUSpec,
        in_types: Sequence[TensorType],
        out_type: TensorType,
        out_unread: np.ndarray,
    ) -> list[np.ndarray]:
        return [np.asarray(out_unread, dtype=np.int64)]

    def plan(self, layer: ReLUSpec, ctx: LayerContext) -> ReLUPlan:
        return plan_relu(
            ctx.in_types[0],
            pipeline_levels=ctx.pipeline_levels,
            t_in=ctx.t_in,
            stage=ctx.stage,
            name=layer.name,
            inputs=tuple(layer.inputs),
            out_drop=clamp_drop(ctx.unread, ctx.in_types[0]),
        )


register_planner(ReLUSpec, ReLUPlanner())
