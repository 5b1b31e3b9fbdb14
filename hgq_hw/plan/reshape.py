"""The plan of a Reshape layer: over flattened tensors it is the identity (wiring, no cost)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hgq_hw.fixed import TensorType
from hgq_hw.plan.base import (
    LayerContext,
    LayerPlan,
    LayerPlanner,
    register_plan_kind,
    register_planner,
)
from hgq_hw.spec import ReshapeSpec, SpecError

__all__ = ["ReshapePlan", "ReshapePlanner", "plan_reshape"]


@register_plan_kind
@dataclass(frozen=True, eq=False, kw_only=True)
class ReshapePlan(LayerPlan):
    """The identity on a flattened tensor: the same elements, types and bus; no registers,
    no delay (``t_out == t_in``)."""

    kind: ClassVar[str] = "Reshape"
    report_kind: ClassVar[str] = "Reshape"

    def evaluate(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        (x,) = xs
        return np.asarray(x).astype(object)


def plan_reshape(
    in_type: TensorType,
    *,
    t_in: int = 0,
    stage: int = 0,
    name: str = "reshape",
    inputs: tuple[str, ...] = ("x",),
) -> ReshapePlan:
    """The plan of a Reshape on a flattened tensor of ``in_type`` (1-d)."""
    if len(in_type.shape) != 1:
        raise ValueError(f"a Reshape plan takes a flattened (1-d) type, got shape {in_type.shape}")
    return ReshapePlan(
        name=name,
        inputs=inputs,
        in_types=(in_type,),
        out_type=in_type,
        stage=stage,
        t_in=t_in,
        latency=0,
        t_out=t_in,
        registers=0,
    )


class ReshapePlanner(LayerPlanner):
    """A Reshape reads what its consumers read (its output is its input)."""

    def check(self, layer: ReshapeSpec, in_types: Sequence[TensorType]) -> None:
        super().check(layer, in_types)
        if int(np.prod(layer.shape)) != in_types[0].shape[0]:
            raise SpecError(
                f"shape {list(layer.shape)} does not hold the {in_types[0].shape[0]} elements",
                layer=layer.name,
                field="shape",
            )

    def unread_inputs(
        self,
        layer: ReshapeSpec,
        in_types: Sequence[TensorType],
        out_type: TensorType,
        out_unread: np.ndarray,
    ) -> list[np.ndarray]:
        return [np.asarray(out_unread, dtype=np.int64)]

    def plan(self, layer: ReshapeSpec, ctx: LayerContext) -> ReshapePlan:
        return plan_reshape(
            ctx.in_types[0], t_in=ctx.t_in, stage=ctx.stage, name=layer.name, inputs=layer.inputs
        )


register_planner(ReshapeSpec, ReshapePlanner())
