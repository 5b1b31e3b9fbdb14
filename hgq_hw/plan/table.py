"""The plan of a Table layer: a ROM in logic per element (an exact lookup of its raw input).

Element ``e`` with a live output and an input of ``w`` bits is a ``2**w``-entry constant table
indexed by the input's bits (for a signed input, the index is the raw value minus its minimum:
the sign bit inverted). An element whose input has width 0 is the constant ``table[0]``.
Elements that share a spec table share its entries in the plan; the hardware still has one
ROM per element (each reads its own input).

Timing: a table of ``w`` input bits counts as :func:`table_delay` units (a LUT6 level for up to
6 bits, then one multiplexer level per further 2 bits, as F7/F8 muxes and LUT trees do). When a
register stage is cut (``latency == 1``), it holds the table's inputs.
"""

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
    register_plan_kind,
    register_planner,
)
from hgq_hw.plan.timing import MUX_DELAY, Stager
from hgq_hw.spec import TableSpec

__all__ = ["TablePlan", "TablePlanner", "plan_table", "table_delay", "table_index"]

LUT_INPUTS = 6
"""Inputs of one LUT (a table of up to this many input bits is one logic level)."""


def table_delay(width: int) -> int:
    """Delay units of a ``width``-bit-input table: one LUT level up to :data:`LUT_INPUTS` bits,
    then one :data:`MUX_DELAY` per two more bits (0 for a constant)."""
    if width <= 0:
        return 0
    return MUX_DELAY * (1 + (max(width - LUT_INPUTS, 0) + 1) // 2)


def table_index(x: np.ndarray, t: TensorType, e: int) -> np.ndarray:
    """Indices into element ``e``'s table of raw inputs ``x`` (``v - raw_min``; 0 at width 0)."""
    if int(t.width[e]) <= 0:
        return np.zeros(len(x), dtype=np.int64)
    return np.asarray(x, dtype=object).astype(np.int64) - int(t.element(e).raw_min)


@register_plan_kind
@dataclass(frozen=True, eq=False, kw_only=True)
class TablePlan(LayerPlan):
    """One ROM per element: output ``e`` is ``tables[table_of[e]][x[e] - raw_min]``.

    ``tables`` and ``table_of`` are the spec layer's (``table_of`` 1-d); an element whose output
    has width 0 is the constant 0, one whose input has width 0 the constant ``table[0]``.
    """

    tables: tuple[tuple[int, ...], ...]
    table_of: tuple[int, ...]

    kind: ClassVar[str] = "Table"
    report_kind: ClassVar[str] = "Table"
    _FIELDS: ClassVar[tuple[str, ...]] = ("tables", "table_of")

    def entries(self, e: int) -> tuple[int, ...]:
        """The table of element ``e``."""
        return self.tables[self.table_of[e]]

    def evaluate(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        (x,) = xs
        x = np.asarray(x)
        out = np.zeros(x.shape, dtype=object)
        for e in range(self.out_type.shape[0]):
            if int(self.out_type.width[e]) <= 0:
                continue
            table = np.array(self.entries(e), dtype=object)
            out[:, e] = table[table_index(x[:, e], self.in_type, e)]
        return out

    def _extra_to_json(self) -> dict[str, Any]:
        return {"tables": [list(t) for t in self.tables], "table_of": list(self.table_of)}

    @classmethod
    def _extra_from_json(cls, fields: dict[str, Any], what: str) -> dict[str, Any]:
        tables, table_of = fields["tables"], fields["table_of"]
        if not isinstance(tables, list) or not all(
            isinstance(t, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in t)
            for t in tables
        ):
            raise PlanError(f"{what}: tables must be a list of lists of integers")
        if not isinstance(table_of, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v < len(tables)
            for v in table_of
        ):
            raise PlanError(f"{what}: table_of must be a list of indices into tables")
        return {"tables": tuple(tuple(t) for t in tables), "table_of": tuple(table_of)}


def plan_table(
    layer: TableSpec,
    in_type: TensorType,
    out_type: TensorType,
    *,
    pipeline_levels: int = 0,
    t_in: int = 0,
    stage: int = 0,
) -> TablePlan:
    """The plan of ``layer`` on a 1-d input of ``in_type`` (``out_type`` from ``infer_types``)."""
    if len(in_type.shape) != 1:
        raise ValueError(f"Table needs a 1-d type, got shape {in_type.shape}")
    live = [
        e
        for e in range(out_type.shape[0])
        if int(out_type.width[e]) > 0 and int(in_type.width[e]) > 0
    ]
    widest = max((int(in_type.width[e]) for e in live), default=0)
    latency, t_out = Stager(pipeline_levels).place([(0, t_in)], table_delay(widest))
    return TablePlan(
        name=layer.name,
        inputs=tuple(layer.inputs),
        in_types=(in_type,),
        out_type=out_type,
        stage=stage,
        t_in=t_in,
        latency=latency,
        t_out=t_out,
        registers=latency * (1 + sum(int(in_type.width[e]) for e in live)),
        tables=tuple(tuple(int(v) for v in t) for t in layer.tables),
        table_of=tuple(int(v) for v in layer.table_of.reshape(-1)),
    )


class TablePlanner(LayerPlanner):
    """Tables read every bit of their input (the default ``unread_inputs``)."""

    def plan(self, layer: TableSpec, ctx: LayerContext) -> TablePlan:
        return plan_table(
            layer,
            ctx.in_types[0],
            ctx.out_type,
            pipeline_levels=ctx.pipeline_levels,
            t_in=ctx.t_in,
            stage=ctx.stage,
        )


register_planner(TableSpec, TablePlanner())
