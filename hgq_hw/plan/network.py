"""The plan of a whole network: :func:`plan_network` and :class:`NetworkPlan`.

The passes, in order (the only place they are written down):

1. **types**: :func:`hgq_hw.reference.infer_types` gives every tensor's per-element type,
   flattened in C (row-major, channels-last) order: every plan sees 1-d types, and the
   network's input and output buses are the flattened tensors.
2. **live layers**: the layers whose tensor reaches the Output (walking ``inputs`` back from
   it); the others (dead branches) are dropped and listed in :attr:`NetworkPlan.unused`.
   **flatten**: each live layer becomes the layer it is over flattened tensors
   (:func:`hgq_hw.lowering.flat_layer`: a Conv or AvgPool its Dense form over the im2col
   matrix, a Requantize its flattened types).
3. **check**: every live layer has a planner (:data:`~hgq_hw.plan.base.PLANNERS`) that accepts
   it; otherwise :class:`~hgq_hw.spec.SpecError` naming the layer (never wrong hardware).
4. **demand**: :func:`~hgq_hw.plan.demand.unread_low_bits`, the low bits of each tensor that
   no consumer reads.
5. **layers with timing**: in spec order, each live layer is planned where its inputs arrive
   (their stage and delay), so every tensor is computed once and may feed several layers.
   A layer whose inputs arrive in different stages (branches of different latency into a
   merge) is planned in the latest one; its planner delays the earlier inputs by registers
   (:attr:`~hgq_hw.plan.base.LayerPlanner.balances_inputs`, :mod:`hgq_hw.plan.merge`).
   **shared delay lines** (``share_delays``): those delays become delay-line layers
   (:class:`~hgq_hw.plan.DelayPlan`), one chain per tensor that several merges read delayed,
   tapped at every stage one reads it in (the merges then read the taps, undelayed), so a
   skip connection into several merges pays its registers once; a tensor delayed for one
   merge only keeps that merge's own chain.
6. **totals**: latency (the two I/O registers plus the output tensor's stage) and registers.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hgq_hw import atomic
from hgq_hw.fixed import TensorType
from hgq_hw.layout import BusLayout
from hgq_hw.lowering import flat_layer
from hgq_hw.plan.base import (
    PLAN_KINDS,
    LayerContext,
    LayerPlan,
    PlanError,
    planner_for,
    take_fields,
    type_from_json,
    type_to_json,
)
from hgq_hw.plan.delay import plan_delay
from hgq_hw.plan.demand import unread_low_bits
from hgq_hw.plan.merge import MergePlan
from hgq_hw.plan.timing import Stager
from hgq_hw.reference import infer_types
from hgq_hw.spec import LayerSpec, ModelSpec, SpecError

__all__ = ["PLAN_FORMAT", "PLAN_VERSION", "NetworkPlan", "load_plan", "plan_network", "save_plan"]

PLAN_FORMAT = "hgqflow-plan"
PLAN_VERSION = 1


@dataclass(frozen=True, eq=False, kw_only=True)
class NetworkPlan:
    """The pipelined hardware of a spec as data; callable on raw inputs.

    The input and the output are registered (two cycles); in between, each layer plan says
    where its registers are. Equal plans give the same hardware.

    Members
    -------
    name: the spec's name
    pipeline_levels, depth_slack: the options it was planned with
    input_name, in_type: the Input layer and its type
    output_name, output_tensor, out_type: the Output layer, the tensor it reads, its type
    layers: the live layer plans, in spec order (topological)
    unused: names of layers whose tensor never reaches the output (not built)
    latency: cycles from an input with ``valid`` to its output with ``valid`` (>= 2)
    registers: flip-flops in total (data and ``valid``)
    """

    name: str
    pipeline_levels: int
    depth_slack: int | None
    input_name: str
    in_type: TensorType
    output_name: str
    output_tensor: str
    out_type: TensorType
    layers: tuple[LayerPlan, ...]
    unused: tuple[str, ...]
    latency: int
    registers: int

    # -- numbers for reports ----------------------------------------------------------------

    @property
    def in_layout(self) -> BusLayout:
        return BusLayout.of(self.in_type)

    @property
    def out_layout(self) -> BusLayout:
        return BusLayout.of(self.out_type)

    @property
    def n_adders(self) -> int:
        """Adders of all layers."""
        return sum(layer.n_adders for layer in self.layers)

    @property
    def adder_bits(self) -> int:
        """Sum of the adders' result widths (a proxy for LUTs)."""
        return sum(layer.adder_bits for layer in self.layers)

    @property
    def adder_depth(self) -> int:
        """Adders on the longest input-to-output path (for a chain: the layers' depths summed)."""
        depth = {self.input_name: 0}
        for layer in self.layers:
            depth[layer.name] = max(depth[s] for s in layer.inputs) + layer.adder_depth
        return depth[self.output_tensor]

    def rows(self) -> list[dict[str, Any]]:
        """``report.json``'s ``layers``: one row per layer plan."""
        return [layer.row() for layer in self.layers]

    def layer(self, name: str) -> LayerPlan:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no layer plan named {name!r} in plan {self.name!r}")

    # -- evaluation ---------------------------------------------------------------------------

    def __call__(self, x_raw: np.ndarray, *, all_tensors: bool = False) -> Any:
        """The raw outputs ``(batch, n_out)`` the hardware gives for a batch of raw inputs
        ``(batch, n_in)`` (object array of Python ints; tensors flattened in C order: an N-d
        spec's reference output is ``evaluate(spec, x).reshape(batch, -1)``), or with
        ``all_tensors`` every tensor by name.

        Values outside the input types raise ``ValueError`` naming the sample and element."""
        x = _check_raw(x_raw, self.in_type)
        values = {self.input_name: x}
        for layer in self.layers:
            values[layer.name] = layer.evaluate([values[s] for s in layer.inputs])
        return values if all_tensors else values[self.output_tensor]

    # -- JSON ---------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "version": PLAN_VERSION,
            "name": self.name,
            "options": {"pipeline_levels": self.pipeline_levels, "depth_slack": self.depth_slack},
            "input": {"name": self.input_name, "type": type_to_json(self.in_type)},
            "output": {
                "name": self.output_name,
                "tensor": self.output_tensor,
                "type": type_to_json(self.out_type),
            },
            "layers": [layer.to_json() for layer in self.layers],
            "unused": list(self.unused),
            "latency": self.latency,
            "registers": self.registers,
        }

    @classmethod
    def from_json(cls, obj: Any) -> NetworkPlan:
        """A plan from :meth:`to_json`'s form; unknown or missing fields, unknown layer kinds
        and inconsistent totals raise :class:`~hgq_hw.plan.base.PlanError`."""
        keys = (
            "format",
            "version",
            "name",
            "options",
            "input",
            "output",
            "layers",
            "unused",
            "latency",
            "registers",
        )
        if isinstance(obj, dict) and obj.get("format") != PLAN_FORMAT:
            raise PlanError(f"not an {PLAN_FORMAT} object (format is {obj.get('format')!r})")
        fields = take_fields(obj, keys, "plan")
        if fields["version"] != PLAN_VERSION:
            raise PlanError(f"plan version {fields['version']!r} is not {PLAN_VERSION}")
        options = take_fields(fields["options"], ("pipeline_levels", "depth_slack"), "options")
        inp = take_fields(fields["input"], ("name", "type"), "input")
        out = take_fields(fields["output"], ("name", "tensor", "type"), "output")
        if not isinstance(fields["layers"], list):
            raise PlanError("layers: expected a list")
        layers = []
        for n, entry in enumerate(fields["layers"]):
            kind = entry.get("kind") if isinstance(entry, dict) else None
            if kind not in PLAN_KINDS:
                raise PlanError(f"layers[{n}]: unknown plan kind {kind!r} ({sorted(PLAN_KINDS)})")
            layers.append(PLAN_KINDS[kind].from_json(entry))
        plan = cls(
            name=fields["name"],
            pipeline_levels=options["pipeline_levels"],
            depth_slack=options["depth_slack"],
            input_name=inp["name"],
            in_type=type_from_json(inp["type"], "input.type"),
            output_name=out["name"],
            output_tensor=out["tensor"],
            out_type=type_from_json(out["type"], "output.type"),
            layers=tuple(layers),
            unused=tuple(fields["unused"]),
            latency=fields["latency"],
            registers=fields["registers"],
        )
        latency, registers = _totals(plan.in_type, plan.out_type, plan.layers, plan.output_tensor)
        if (latency, registers) != (plan.latency, plan.registers):
            raise PlanError(
                f"latency/registers {plan.latency}/{plan.registers} do not match the layers "
                f"({latency}/{registers})"
            )
        return plan

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NetworkPlan):
            return NotImplemented
        return self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]


def _check_raw(x_raw: np.ndarray, t: TensorType) -> np.ndarray:
    x = np.asarray(x_raw)
    if x.ndim != 2 or x.shape[1:] != t.shape:
        raise ValueError(f"expected raw inputs of shape (batch, {t.shape[0]}), got {x.shape}")
    if x.dtype.kind not in "iu" and x.dtype != object:
        raise TypeError(f"raw inputs must be integers, got dtype {x.dtype}")
    x = x.astype(object)
    lo, hi = t.raw_bounds()
    bad = (x < lo) | (x > hi)
    if np.any(bad):
        sample, element = np.argwhere(bad)[0].tolist()
        raise ValueError(
            f"raw input {x[sample, element]} of sample {sample}, element {element} is outside "
            f"its type {t.element(element)}"
        )
    return x


def _totals(
    in_type: TensorType, out_type: TensorType, layers: Sequence[LayerPlan], output_tensor: str
) -> tuple[int, int]:
    stages = {layer.name: layer.out_stage for layer in layers}
    latency = 2 + stages.get(output_tensor, 0)
    registers = (
        BusLayout.of(in_type).width
        + BusLayout.of(out_type).width
        + 2
        + sum(layer.registers for layer in layers)
    )
    return latency, registers


def _share_delays(
    plans: list[LayerPlan],
    arrival: dict[str, tuple[int, int]],
    types: dict[str, TensorType],
    input_name: str,
    taken: set[str],
) -> list[LayerPlan]:
    """The merges' input delays as shared :class:`~hgq_hw.plan.delay.DelayPlan` chains (the
    module docstring's pass), each placed right after the producer of its tensor."""
    readers: dict[str, set[str]] = {}
    need: dict[str, set[int]] = {}
    for plan in plans:
        if isinstance(plan, MergePlan):
            for source, d in zip(plan.inputs, plan.delays):
                if d:
                    readers.setdefault(source, set()).add(plan.name)
                    need.setdefault(source, set()).add(plan.stage)
    # a tensor delayed for one merge only keeps that merge's own chain (a delay line would
    # add its valid bits and save nothing)
    need = {tensor: stages for tensor, stages in need.items() if len(readers[tensor]) > 1}
    if not need:
        return plans
    taps: dict[tuple[str, int], str] = {}
    chains: dict[str, list[LayerPlan]] = {}
    for tensor in need:
        previous, stage, t = tensor, *arrival[tensor]
        for target in sorted(need[tensor]):
            name = f"{tensor}_s{target}"
            while name in taken:
                name += "_"
            taken.add(name)
            delay = plan_delay(
                types[tensor], target - stage, name=name, source=previous, stage=stage, t_in=t
            )
            chains.setdefault(tensor, []).append(delay)
            taps[(tensor, target)] = name
            previous, stage, t = name, target, 0
    out: list[LayerPlan] = list(chains.get(input_name, []))
    for plan in plans:
        if isinstance(plan, MergePlan) and any(
            s in need and d for s, d in zip(plan.inputs, plan.delays)
        ):
            shared = [s in need and d > 0 for s, d in zip(plan.inputs, plan.delays)]
            inputs = tuple(
                taps[(s, plan.stage)] if tap else s for s, tap in zip(plan.inputs, shared)
            )
            delays = tuple(0 if tap else d for d, tap in zip(plan.delays, shared))
            plan = dataclasses.replace(plan, inputs=inputs, delays=delays)
            plan = dataclasses.replace(plan, registers=plan.count_registers())
        out.append(plan)
        out.extend(chains.get(plan.name, []))
    return out


def plan_network(
    spec: ModelSpec,
    *,
    pipeline_levels: int = 0,
    depth_slack: int | None = None,
    share_delays: bool = True,
) -> NetworkPlan:
    """Plan the hardware of ``spec`` (the passes of the module docstring).

    ``pipeline_levels``: stage budget in adder levels (``>= 0``; 0: no register inside the
    datapath). ``depth_slack``: the adder-count / depth trade-off of every adder graph (see
    :func:`hgq_hw.cmvm.solve`). ``share_delays`` (default True): the delays that balance the
    inputs of merges become shared delay lines (the module docstring); False keeps each
    merge's own register chains. A spec the hardware cannot build raises
    :class:`~hgq_hw.spec.SpecError` naming the layer.
    """
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"spec must be a ModelSpec, got {type(spec).__name__}")
    Stager(pipeline_levels)  # checks pipeline_levels
    if depth_slack is not None and (
        isinstance(depth_slack, bool) or not isinstance(depth_slack, int) or depth_slack < 0
    ):
        raise ValueError(f"depth_slack must be None or an int >= 0, got {depth_slack!r}")
    # 1. types, flattened
    types = {name: t.flat() for name, t in infer_types(spec).items()}
    # 2. live layers (without the Input and the Output, which the network itself registers),
    #    each over flattened tensors
    live = spec.live_names()
    compute: list[LayerSpec] = [
        flat_layer(layer, [spec.shape(s) for s in layer.inputs])
        for layer in spec.layers[1:-1]
        if layer.name in live
    ]
    unused = tuple(layer.name for layer in spec.layers if layer.name not in live)
    # 3. check
    for layer in compute:
        planner_for(layer).check(layer, [types[s] for s in layer.inputs])
    output_tensor = spec.output.inputs[0]
    # 4. demand
    unread = unread_low_bits(compute, types, output_tensor)
    # 5. layers with timing
    arrival: dict[str, tuple[int, int]] = {spec.input.name: (0, 0)}
    plans: list[LayerPlan] = []
    for layer in compute:
        sources = [arrival[s] for s in layer.inputs]
        stage = max(s for s, _ in sources)
        if any(s != stage for s, _ in sources) and not planner_for(layer).balances_inputs:
            raise SpecError(
                f"its inputs arrive in different pipeline stages, which a {layer.kind} layer "
                "cannot align",
                layer=layer.name,
                field="inputs",
            )
        ctx = LayerContext(
            in_types=tuple(types[s] for s in layer.inputs),
            out_type=types[layer.name],
            stage=stage,
            t_in=max(t for s, t in sources if s == stage),
            pipeline_levels=pipeline_levels,
            depth_slack=depth_slack,
            unread=unread[layer.name],
            in_shapes=tuple(spec.shape(s) for s in layer.inputs),
            in_arrivals=tuple(sources),
        )
        try:
            plan = planner_for(layer).plan(layer, ctx)
        except SpecError as err:
            raise err.located(layer=layer.name) from None
        plans.append(plan)
        arrival[layer.name] = (plan.out_stage, plan.t_out)
    if share_delays:
        taken = {layer.name for layer in spec.layers}
        plans = _share_delays(plans, arrival, types, spec.input.name, taken)
    # 6. totals
    in_type, out_type = types[spec.input.name], types[output_tensor]
    latency, registers = _totals(in_type, out_type, plans, output_tensor)
    return NetworkPlan(
        name=spec.name,
        pipeline_levels=pipeline_levels,
        depth_slack=depth_slack,
        input_name=spec.input.name,
        in_type=in_type,
        output_name=spec.output.name,
        output_tensor=output_tensor,
        out_type=out_type,
        layers=tuple(plans),
        unused=unused,
        latency=latency,
        registers=registers,
    )


def save_plan(plan: NetworkPlan, path: str | os.PathLike[str]) -> Path:
    """Write ``plan`` as JSON; ``load_plan(save_plan(p, path)) == p``."""
    path = Path(path)
    atomic.write_json(path, plan.to_json(), indent=1)
    return path


def load_plan(path: str | os.PathLike[str]) -> NetworkPlan:
    """Read a plan file (:class:`~hgq_hw.plan.base.PlanError` naming the file when invalid)."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
        return NetworkPlan.from_json(obj)
    except json.JSONDecodeError as err:
        raise PlanError(f"{path}: not valid JSON: {err}") from None
    except PlanError as err:
        raise PlanError(f"{path}: {err}") from None
