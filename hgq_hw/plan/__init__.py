"""The hardware plan: every design decision of the pipelined network as plain data.

numpy and the standard library only (no Amaranth). :func:`plan_network` turns a spec into a
:class:`NetworkPlan` (the order of its passes is written down in :mod:`hgq_hw.plan.network`):
one frozen layer plan per live layer (:class:`DensePlan`: adder graph, stage of every node,
dropped low bits; :class:`RequantizePlan`: narrowing; :class:`ReLUPlan`; :class:`TablePlan`:
a ROM per element), with latency, registers and adder counts. A plan evaluates the pipelined
design exactly (``plan(x_raw)``), saves and loads as JSON (:func:`save_plan`,
:func:`load_plan`), and is what the Amaranth components (:mod:`hgq_hw.components`) build
and what reports read.
dropped low bits; :class:`ConvPlan` and :class:`AvgPoolPlan`: the same over the flattened
input; :class:`RequantizePlan`: narrowing; :class:`ReLUPlan`; :class:`ReshapePlan`: wiring;
:class:`MaxPlan`: compare-and-select trees; :class:`AddPlan`, :class:`SubtractPlan`,
:class:`MultiplyPlan`: element-wise merges of two tensors, :class:`ConcatenatePlan`: wiring,
each delaying the earlier of its inputs; :class:`DelayPlan`: the shared delay lines that
bring a tensor to a later stage), with latency, registers and adder counts. A plan
evaluates the pipelined design exactly (``plan(x_raw)``), saves and loads as JSON
(:func:`save_plan`, :func:`load_plan`), and is what the Amaranth components
(:mod:`hgq_hw.components`) build and what reports read.

A new layer kind registers a planner (:func:`register_planner`) and its plan class
(:func:`register_plan_kind`); nothing here changes.
"""

from __future__ import annotations

from hgq_hw.plan.base import (
    PLAN_KINDS,
    PLANNERS,
    LayerContext,
    LayerPlan,
    LayerPlanner,
    PlanError,
    planner_for,
    register_plan_kind,
    register_planner,
)
from hgq_hw.plan.conv import AvgPoolPlan, ConvPlan, WindowDensePlanner
from hgq_hw.plan.delay import DelayPlan, plan_delay
from hgq_hw.plan.demand import clamp_drop, unread_low_bits
from hgq_hw.plan.dense import DensePlan, DensePlanner, plan_dense
from hgq_hw.plan.max import MaxOp, MaxPlan, max_unread_inputs, plan_max
from hgq_hw.plan.maxpool import MaxPoolPlanner
from hgq_hw.plan.merge import (
    AddPlan,
    ConcatenatePlan,
    ConcatenatePlanner,
    ElementwisePlanner,
    MergePlan,
    MultiplyPlan,
    SubtractPlan,
    balance,
    multiplier_delay,
    plan_concatenate,
    plan_elementwise,
)
from hgq_hw.plan.network import NetworkPlan, load_plan, plan_network, save_plan
from hgq_hw.plan.relu import ReLUPlan, ReLUPlanner, plan_relu, relu_type
from hgq_hw.plan.requantize import (
    Narrowing,
    RequantizePlan,
    RequantizePlanner,
    narrowing,
    plan_requantize,
    requantize_bounds,
)
from hgq_hw.plan.reshape import ReshapePlan, ReshapePlanner, plan_reshape
from hgq_hw.plan.schedule import check_placement, schedule
from hgq_hw.plan.table import TablePlan, TablePlanner, plan_table, table_delay
from hgq_hw.plan.timing import LEVEL, MUX_DELAY, Stager, adder_delay

__all__ = [
    "LEVEL",
    "MUX_DELAY",
    "PLANNERS",
    "PLAN_KINDS",
    "AddPlan",
    "AvgPoolPlan",
    "ConcatenatePlan",
    "ConcatenatePlanner",
    "ConvPlan",
    "DelayPlan",
    "DensePlan",
    "DensePlanner",
    "ElementwisePlanner",
    "LayerContext",
    "LayerPlan",
    "LayerPlanner",
    "MaxOp",
    "MaxPlan",
    "MaxPoolPlanner",
    "MergePlan",
    "MultiplyPlan",
    "Narrowing",
    "NetworkPlan",
    "PlanError",
    "ReLUPlan",
    "ReLUPlanner",
    "RequantizePlan",
    "RequantizePlanner",
    "ReshapePlan",
    "ReshapePlanner",
    "Stager",
    "SubtractPlan",
    "TablePlan",
    "TablePlanner",
    "WindowDensePlanner",
    "adder_delay",
    "balance",
    "check_placement",
    "clamp_drop",
    "load_plan",
    "max_unread_inputs",
    "multiplier_delay",
    "narrowing",
    "plan_concatenate",
    "plan_delay",
    "plan_dense",
    "plan_elementwise",
    "plan_max",
    "plan_network",
    "plan_relu",
    "plan_requantize",
    "plan_reshape",
    "plan_table",
    "planner_for",
    "register_plan_kind",
    "register_planner",
    "relu_type",
    "requantize_bounds",
    "save_plan",
    "schedule",
    "table_delay",
    "unread_low_bits",
]
