"""The plans of Conv and AvgPool layers: Dense plans over the flattened input.

A Conv is planned as the Dense layer it is over the flattened (C-order) input, its im2col
matrix (:func:`hgq_hw.lowering.conv_as_dense`): every output element's adder graph comes from
the kernel, and the CMVM solver may share partial sums across positions. An AvgPool likewise
(weights ``2**-log2(window)``, :func:`hgq_hw.lowering.avgpool_as_dense`). Their plans are
:class:`~hgq_hw.plan.DensePlan` subclasses, so the Dense component, the direct netlist writer
and the prove writer build them; only their JSON kind and report name differ.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

from hgq_hw.lowering import FlatAvgPoolSpec, FlatConvSpec
from hgq_hw.plan.base import LayerContext, register_plan_kind, register_planner
from hgq_hw.plan.dense import DensePlan, DensePlanner

__all__ = ["AvgPoolPlan", "ConvPlan", "WindowDensePlanner"]


@register_plan_kind
@dataclass(frozen=True, eq=False, kw_only=True)
class ConvPlan(DensePlan):
    """A Conv layer as a :class:`~hgq_hw.plan.DensePlan` over its flattened input."""

    kind: ClassVar[str] = "Conv"
    report_kind: ClassVar[str] = "ConvLayer"


@register_plan_kind
@dataclass(frozen=True, eq=False, kw_only=True)
class AvgPoolPlan(DensePlan):
    """An AvgPool layer as a :class:`~hgq_hw.plan.DensePlan` (weights ``2**-log2(window)``)."""

    kind: ClassVar[str] = "AvgPool"
    report_kind: ClassVar[str] = "AvgPoolLayer"


class WindowDensePlanner(DensePlanner):
    """Plans the Dense form of a windowed layer and labels the plan ``plan_class``."""

    def __init__(self, plan_class: type[DensePlan]) -> None:
        self.plan_class = plan_class

    def plan(self, layer: FlatConvSpec | FlatAvgPoolSpec, ctx: LayerContext) -> DensePlan:
        dense = super().plan(layer, ctx)
        return self.plan_class(**{f.name: getattr(dense, f.name) for f in fields(dense)})


register_planner(FlatConvSpec, WindowDensePlanner(ConvPlan))
register_planner(FlatAvgPoolSpec, WindowDensePlanner(AvgPoolPlan))
