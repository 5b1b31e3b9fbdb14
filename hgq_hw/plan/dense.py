"""The plan of a Dense layer: its adder graph, the stage of every node, dropped low bits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from hgq_hw.cmvm import AdderGraph, dense_graph
from hgq_hw.fixed import TensorType
from hgq_hw.plan.adder_form import hardware_adders
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
from hgq_hw.plan.schedule import node_width, schedule
from hgq_hw.spec import DenseSpec, SpecError

__all__ = ["DensePlan", "DensePlanner", "count_registers", "plan_dense"]


@register_plan_kind
@dataclass(frozen=True, eq=False, kw_only=True)
class DensePlan(LayerPlan):
    """``y = x @ w + b`` as a pipelined adder graph (no multipliers).

    Members (besides :class:`~hgq_hw.plan.base.LayerPlan`'s)
    -------
    graph: the :class:`~hgq_hw.cmvm.AdderGraph` (``graph(x) == x @ w_eff + b_eff``)
    placed: ``(stage, t)`` of every node (inputs first), stages relative to :attr:`stage`
    out_drop: low bits of each output cleared (no consumer reads them): output ``j`` is
        ``(y[j] >> d) << d`` and the registers carrying it hold only the bits above
    weights_kept, weights: non-zero and all weights of the spec layer (for reports)
    """

    graph: AdderGraph
    placed: tuple[tuple[int, int], ...]
    out_drop: tuple[int, ...]
    weights_kept: int
    weights: int

    kind: ClassVar[str] = "Dense"
    report_kind: ClassVar[str] = "DenseLayer"
    _FIELDS: ClassVar[tuple[str, ...]] = ("graph", "placed", "out_drop", "weights_kept", "weights")

    @property
    def n_adders(self) -> int:
        """Real adders: the graph's ops less those that are only wires
        (:func:`~hgq_hw.plan.adder_form.is_wiring`: ``0 + x`` of operands that do not
        overlap, ``0 - x`` of a one-bit ``x``); ``graph.n_adders`` counts every op."""
        return hardware_adders(self.graph)

    @property
    def adder_depth(self) -> int:
        return self.graph.depth

    @property
    def adder_bits(self) -> int:
        return self.graph.adder_bits

    def node_drop(self, j: int) -> int:
        """Low bits of output ``j``'s node that no register needs to carry."""
        return _node_drop(self.graph, self.out_drop, j)

    def register_chains(self) -> tuple[dict[int, int], dict[tuple[int, int], int]]:
        """Register chains: ``full[node] = last stage`` the whole node is carried to, and
        ``narrow[(node, e)] = first stage`` of ``node >> e`` carried to the last stage."""
        return _register_chains(self.graph, self.placed, self.latency, self.out_drop)

    def evaluate(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        (x,) = xs
        return clear_low_bits(self.graph(np.asarray(x).astype(object)), self.out_drop)

    def row(self) -> dict[str, Any]:
        row = super().row()
        row.update(weights_kept=self.weights_kept, weights=self.weights)
        return row

    def _extra_to_json(self) -> dict[str, Any]:
        return {
            "graph": self.graph.to_json(),
            "placed": [list(p) for p in self.placed],
            "out_drop": list(self.out_drop),
            "weights_kept": self.weights_kept,
            "weights": self.weights,
        }

    @classmethod
    def _extra_from_json(cls, fields: dict[str, Any], what: str) -> dict[str, Any]:
        try:
            graph = AdderGraph.from_json(fields["graph"])
        except (KeyError, TypeError, ValueError) as err:
            raise PlanError(f"{what}: bad graph: {err}") from None
        placed = fields["placed"]
        if not isinstance(placed, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(v, int) for v in p)
            for p in placed
        ):
            raise PlanError(f"{what}: placed must be a list of [stage, t] pairs")
        drop = fields["out_drop"]
        if not isinstance(drop, list) or not all(isinstance(v, int) for v in drop):
            raise PlanError(f"{what}: out_drop must be a list of integers")
        return {
            "graph": graph,
            "placed": tuple((int(s), int(t)) for s, t in placed),
            "out_drop": tuple(drop),
            "weights_kept": int(fields["weights_kept"]),
            "weights": int(fields["weights"]),
        }


def _node_drop(graph: AdderGraph, out_drop: Sequence[int], j: int) -> int:
    return max(out_drop[j] - graph.outputs[j].shift, 0)


def _register_chains(
    g: AdderGraph, placed: Sequence[tuple[int, int]], latency: int, out_drop: Sequence[int]
) -> tuple[dict[int, int], dict[tuple[int, int], int]]:
    full: dict[int, int] = {}
    for index, op in enumerate(g.ops):
        stage = placed[g.n_in + index][0]
        for node in (op.a, op.b):
            if node >= 0:
                full[node] = max(full.get(node, 0), stage)
    narrow: dict[tuple[int, int], int] = {}
    for j, o in enumerate(g.outputs):
        if o.node < 0:
            continue
        e = _node_drop(g, out_drop, j)
        if e == 0:
            full[o.node] = latency
        else:
            narrow[(o.node, e)] = 0
    for node, e in narrow:
        narrow[(node, e)] = max(placed[node][0], full.get(node, 0))
    return full, narrow


def count_registers(
    g: AdderGraph, placed: Sequence[tuple[int, int]], latency: int, out_drop: Sequence[int]
) -> int:
    """Flip-flops of the pipelined graph: its register chains plus ``latency`` for ``valid``."""
    full, narrow = _register_chains(g, placed, latency, out_drop)
    bits = latency
    for node, stage in full.items():
        bits += (stage - placed[node][0]) * node_width(*g.node_interval(node))
    for (node, e), start in narrow.items():
        lo, hi = g.node_interval(node)
        bits += (latency - start) * node_width(lo >> e, hi >> e)
    return bits


def plan_dense(
    layer: DenseSpec,
    in_type: TensorType,
    out_type: TensorType,
    *,
    pipeline_levels: int = 0,
    t_in: int = 0,
    stage: int = 0,
    depth_slack: int | None = None,
    graph: AdderGraph | None = None,
    out_drop: Sequence[int] | None = None,
    retime: bool = True,
) -> DensePlan:
    """The plan of one Dense layer on inputs of ``in_type`` (``out_type``: what
    ``infer_types`` gives the layer).

    The adder graph is solved (:func:`hgq_hw.cmvm.dense_graph` with ``depth_slack``) unless
    ``graph`` is given, placed and retimed (:func:`hgq_hw.plan.schedule.schedule`) under the
    ``pipeline_levels`` budget from delay ``t_in``; ``out_drop`` low bits of each output are
    cleared (at most ``width - k`` each, ``ValueError`` otherwise).
    """
    if not isinstance(layer, DenseSpec):
        raise TypeError(f"layer must be a DenseSpec, got {type(layer).__name__}")
    if out_type.shape != (layer.n_out,):
        raise ValueError(
            f"out_type has shape {out_type.shape}, layer {layer.name!r} has {layer.n_out} outputs"
        )
    drops = check_drop(out_drop, out_type, "out_drop")
    if graph is None:
        graph = dense_graph(layer, in_type, depth_slack=depth_slack)
    placed, latency, t_out = schedule(graph, pipeline_levels, t_in, retime=retime)
    return DensePlan(
        name=layer.name,
        inputs=tuple(layer.inputs),
        in_types=(in_type,),
        out_type=out_type,
        stage=stage,
        t_in=t_in,
        latency=latency,
        t_out=t_out,
        registers=count_registers(graph, placed, latency, drops),
        graph=graph,
        placed=tuple(placed),
        out_drop=drops,
        weights_kept=int(np.count_nonzero(layer.weight_raw)),
        weights=int(layer.weight_raw.size),
    )


class DensePlanner(LayerPlanner):
    """Dense layers read every bit and drop the low bits their consumers never read."""

    def check(self, layer: DenseSpec, in_types: Sequence[TensorType]) -> None:
        super().check(layer, in_types)
        if in_types[0].shape != (layer.n_in,):
            raise SpecError(
                f"expects {layer.n_in} inputs, got shape {list(in_types[0].shape)}",
                layer=layer.name,
                field="weight_raw",
            )

    def plan(self, layer: DenseSpec, ctx: LayerContext) -> DensePlan:
        return plan_dense(
            layer,
            ctx.in_types[0],
            ctx.out_type,
            pipeline_levels=ctx.pipeline_levels,
            t_in=ctx.t_in,
            stage=ctx.stage,
            depth_slack=ctx.depth_slack,
            out_drop=clamp_drop(ctx.unread, ctx.out_type),
        )


register_planner(DenseSpec, DensePlanner())
