"""The plan of a MaxPool layer: a :class:`~hgq_hw.plan.MaxPlan` over its window sources.

The network planner hands a MaxPool over as :class:`hgq_hw.lowering.FlatMaxPoolSpec` (the
layer and its input's spec shape); output element ``j`` of the flattened output is the exact
maximum of the flattened input elements ``layer.sources[j]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hgq_hw.fixed import TensorType
from hgq_hw.lowering import FlatMaxPoolSpec
from hgq_hw.plan.base import LayerContext, LayerPlanner, register_planner
from hgq_hw.plan.demand import clamp_drop
from hgq_hw.plan.max import MaxPlan, max_unread_inputs, plan_max

__all__ = ["MaxPoolPlanner"]


class MaxPoolPlanner(LayerPlanner):
    """A MaxPool reads, of each input, only the bits its outputs' consumers need."""

    def unread_inputs(
        self,
        layer: FlatMaxPoolSpec,
        in_types: Sequence[TensorType],
        out_type: TensorType,
        out_unread: np.ndarray,
    ) -> list[np.ndarray]:
        return [max_unread_inputs(in_types[0], out_type, layer.sources, out_unread)]

    def plan(self, layer: FlatMaxPoolSpec, ctx: LayerContext) -> MaxPlan:
        return plan_max(
            layer.name,
            tuple(layer.inputs),
            ctx.in_types[0],
            ctx.out_type,
            layer.sources,
            pipeline_levels=ctx.pipeline_levels,
            t_in=ctx.t_in,
            stage=ctx.stage,
            out_drop=clamp_drop(ctx.unread, ctx.out_type),
        )


register_planner(FlatMaxPoolSpec, MaxPoolPlanner())
