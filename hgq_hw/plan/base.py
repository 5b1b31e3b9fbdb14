"""What every layer plan has, how plans go to and from JSON, and the planner registry.

A :class:`LayerPlan` is the pipelined hardware of one spec layer as plain data: the tensors it
reads, their types, the absolute pipeline stage it reads them in, its latency, the delay it
leaves in its last stage and its register count, plus what its kind adds (an adder graph and
stage placement, narrowing, dropped low bits). It can evaluate itself on raw integer batches,
exactly as the hardware computes. A :class:`LayerPlanner` makes the plan of one layer kind;
:data:`PLANNERS` maps spec classes to planners (:func:`register_planner`) and
:data:`PLAN_KINDS` maps the JSON ``"kind"`` of a plan to its class (:func:`register_plan_kind`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from hgq_hw.fixed import TensorType
from hgq_hw.layout import BusLayout
from hgq_hw.spec import LayerSpec, SpecError

__all__ = [
    "PLANNERS",
    "PLAN_KINDS",
    "LayerContext",
    "LayerPlan",
    "LayerPlanner",
    "PlanError",
    "check_drop",
    "clear_low_bits",
    "planner_for",
    "register_plan_kind",
    "register_planner",
    "take_fields",
    "type_from_json",
    "type_to_json",
]


class PlanError(ValueError):
    """A plan file or JSON object that cannot be trusted (names the field)."""


def take_fields(obj: Any, expected: Sequence[str], what: str) -> dict[str, Any]:
    """``obj`` checked to be a JSON object with exactly the keys ``expected`` (``PlanError``
    naming the unknown or missing field otherwise)."""
    if not isinstance(obj, Mapping):
        raise PlanError(f"{what}: expected a JSON object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - set(expected))
    if unknown:
        raise PlanError(f"{what}: unknown field(s) {unknown} (known: {list(expected)})")
    missing = [key for key in expected if key not in obj]
    if missing:
        raise PlanError(f"{what}: missing field(s) {missing}")
    return dict(obj)


def _ints(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise PlanError(f"{what}: expected a list of integers")
    return tuple(value)


def type_to_json(t: TensorType) -> dict[str, list[int]]:
    """A 1-d :class:`TensorType` as ``{"k": [...], "i": [...], "f": [...]}``."""
    return {"k": t.k.tolist(), "i": t.i.tolist(), "f": t.f.tolist()}


def type_from_json(obj: Any, what: str) -> TensorType:
    """Inverse of :func:`type_to_json` (``PlanError`` on a malformed object)."""
    fields = take_fields(obj, ("k", "i", "f"), what)
    k, i, f = (_ints(fields[key], f"{what}.{key}") for key in ("k", "i", "f"))
    if not len(k) == len(i) == len(f):
        raise PlanError(f"{what}: k, i and f differ in length")
    return TensorType(np.array(k, dtype=np.int64), np.array(i, dtype=np.int64), np.array(f))


def check_drop(drop: Sequence[int] | None, t: TensorType, what: str) -> tuple[int, ...]:
    """Dropped low bits per element of ``t`` (None: none), each in ``0 .. width - k``
    (``ValueError`` otherwise): clearing them keeps every value inside ``t``."""
    n = t.shape[0]
    drops = tuple(int(d) for d in drop) if drop is not None else (0,) * n
    limit = np.maximum(t.width - t.k, 0)
    if len(drops) != n or any(not 0 <= d <= int(lim) for d, lim in zip(drops, limit)):
        raise ValueError(
            f"{what} must give 0..width-k low bits for each of {n} elements, got {drop!r}"
        )
    return drops


def clear_low_bits(x: np.ndarray, drops: Sequence[int]) -> np.ndarray:
    """``(x >> d) << d`` per column of a batch ``(batch, n)`` (object or int arrays)."""
    if not any(drops):
        return x
    out = x.copy()
    for e, d in enumerate(drops):
        if d:
            out[:, e] = (x[:, e] >> d) << d
    return out


@dataclass(frozen=True, eq=False, kw_only=True)
class LayerPlan:
    """The hardware of one layer as data (subclasses add their kind's fields).

    Members
    -------
    name: the spec layer (and the tensor it produces)
    inputs: names of the tensors it reads, in order
    in_types, out_type: their types and the type of its output (``infer_types``)
    stage: absolute pipeline stage in which the inputs are read (0: right after the network's
        input register)
    t_in: delay already used in that stage when the inputs arrive
    latency: register stages inside (the output is produced in ``stage + latency``)
    t_out: delay used in the last stage at the output
    registers: flip-flops inside (data and ``valid``)
    """

    name: str
    inputs: tuple[str, ...]
    in_types: tuple[TensorType, ...]
    out_type: TensorType
    stage: int
    t_in: int
    latency: int
    t_out: int
    registers: int

    kind: ClassVar[str] = ""
    """JSON ``"kind"`` of the plan (the spec kind it implements)."""
    report_kind: ClassVar[str] = ""
    """``kind`` of its row in ``report.json`` (the hardware component's name)."""

    @property
    def in_type(self) -> TensorType:
        """The type of the only input (layers with one input)."""
        (t,) = self.in_types
        return t

    @property
    def out_stage(self) -> int:
        return self.stage + self.latency

    @property
    def in_layouts(self) -> tuple[BusLayout, ...]:
        return tuple(BusLayout.of(t) for t in self.in_types)

    @property
    def out_layout(self) -> BusLayout:
        return BusLayout.of(self.out_type)

    @property
    def n_adders(self) -> int:
        return 0

    @property
    def adder_depth(self) -> int:
        return 0

    @property
    def adder_bits(self) -> int:
        return 0

    def evaluate(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        """The output batch from the input batches (raw, ``(batch, n)``), exactly as the
        hardware computes it (object array of Python ints)."""
        raise NotImplementedError

    def row(self) -> dict[str, Any]:
        """Its row of ``report.json``'s ``layers``."""
        return {
            "layer": self.name,
            "kind": self.report_kind,
            "elements": int(self.out_type.shape[0]),
            "out_bits": self.out_layout.width,
            "latency": self.latency,
            "registers": self.registers,
            "adders": self.n_adders,
            "adder_depth": self.adder_depth,
            "adder_bits": self.adder_bits,
        }

    # -- JSON -----------------------------------------------------------------------------------

    _BASE_FIELDS: ClassVar[tuple[str, ...]] = (
        "kind",
        "name",
        "inputs",
        "in_types",
        "out_type",
        "stage",
        "t_in",
        "latency",
        "t_out",
        "registers",
    )
    _FIELDS: ClassVar[tuple[str, ...]] = ()
    """The kind's own fields, in JSON order (see :meth:`_extra_to_json`)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "inputs": list(self.inputs),
            "in_types": [type_to_json(t) for t in self.in_types],
            "out_type": type_to_json(self.out_type),
            "stage": self.stage,
            "t_in": self.t_in,
            "latency": self.latency,
            "t_out": self.t_out,
            "registers": self.registers,
        }
        out.update(self._extra_to_json())
        return out

    def _extra_to_json(self) -> dict[str, Any]:
        return {}

    @classmethod
    def _extra_from_json(cls, fields: dict[str, Any], what: str) -> dict[str, Any]:
        return {}

    @classmethod
    def from_json(cls, obj: Any) -> LayerPlan:
        what = f"{cls.kind} plan"
        if isinstance(obj, Mapping) and isinstance(obj.get("name"), str):
            what = f"{cls.kind} plan {obj['name']!r}"
        fields = take_fields(obj, cls._BASE_FIELDS + cls._FIELDS, what)
        if fields["kind"] != cls.kind:
            raise PlanError(f"{what}: kind {fields['kind']!r} is not {cls.kind!r}")
        if not isinstance(fields["name"], str):
            raise PlanError(f"{what}: name must be a string")
        inputs = fields["inputs"]
        if not isinstance(inputs, list) or not all(isinstance(s, str) for s in inputs):
            raise PlanError(f"{what}: inputs must be a list of names")
        if not isinstance(fields["in_types"], list):
            raise PlanError(f"{what}: in_types must be a list")
        numbers = {}
        for key in ("stage", "t_in", "latency", "t_out", "registers"):
            value = fields[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise PlanError(f"{what}: {key} must be an integer >= 0, got {value!r}")
            numbers[key] = value
        return cls(
            name=fields["name"],
            inputs=tuple(inputs),
            in_types=tuple(
                type_from_json(t, f"{what}.in_types[{n}]") for n, t in enumerate(fields["in_types"])
            ),
            out_type=type_from_json(fields["out_type"], f"{what}.out_type"),
            **numbers,
            **cls._extra_from_json(fields, what),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LayerPlan):
            return NotImplemented
        return type(self) is type(other) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class LayerContext:
    """What the network knows when it plans one layer.

    Every type is flattened (1-d, C order). ``in_types`` are the types of the tensors the
    layer reads, ``out_type`` the type ``infer_types`` gives its output, ``stage`` / ``t_in``
    where its inputs arrive,
    ``unread`` how many low bits of each output element no consumer reads (not clamped to the
    type; see :func:`hgq_hw.plan.demand.clamp_drop`).
    """

    in_types: tuple[TensorType, ...]
    out_type: TensorType
    stage: int
    t_in: int
    pipeline_levels: int
    depth_slack: int | None
    unread: np.ndarray
    in_shapes: tuple[tuple[int, ...], ...] = ()
    """The N-d (channels-last) spec shapes of the inputs, whose flattened types are
    ``in_types`` (for planners that read a window's geometry); empty when unknown."""
    in_arrivals: tuple[tuple[int, int], ...] = ()
    """``(stage, t)`` at which each input arrives; they differ only for a planner that
    :attr:`~LayerPlanner.balances_inputs` (then ``stage`` is the latest, ``t_in`` the largest
    ``t`` in it); empty when unknown (every input at ``(stage, t_in)``)."""


class LayerPlanner:
    """Plans one layer kind. Subclasses implement :meth:`plan`; :meth:`check` refuses what the
    hardware cannot build and :meth:`unread_inputs` says which low bits of its inputs the
    layer never reads (default: it reads every bit). A planner with :attr:`balances_inputs`
    plans layers whose inputs arrive in different stages (it delays the earlier ones); the
    network refuses such layers for every other planner."""

    balances_inputs: ClassVar[bool] = False

    def check(self, layer: LayerSpec, in_types: Sequence[TensorType]) -> None:
        """Raise :class:`SpecError` naming the layer when its hardware cannot be built."""
        for source, t in zip(layer.inputs, in_types):
            if len(t.shape) != 1:
                raise SpecError(
                    f"the hardware takes 1-d tensors only; input {source!r} has shape "
                    f"{list(t.shape)}",
                    layer=layer.name,
                    field="inputs",
                )

    def unread_inputs(
        self,
        layer: LayerSpec,
        in_types: Sequence[TensorType],
        out_type: TensorType,
        out_unread: np.ndarray,
    ) -> list[np.ndarray]:
        """Per input, low bits of each element that this layer never reads, given that its
        consumers never read ``out_unread`` low bits of its output."""
        return [np.zeros(t.shape[0], dtype=np.int64) for t in in_types]

    def plan(self, layer: LayerSpec, ctx: LayerContext) -> LayerPlan:
        raise NotImplementedError


PLANNERS: dict[type[LayerSpec], LayerPlanner] = {}
"""Spec layer class -> its planner."""

PLAN_KINDS: dict[str, type[LayerPlan]] = {}
"""JSON ``"kind"`` of a layer plan -> its class (for loading)."""


def register_planner(kind: type[LayerSpec], planner: LayerPlanner) -> None:
    """Plan layers of spec class ``kind`` with ``planner`` (replaces an earlier one)."""
    if not (isinstance(kind, type) and issubclass(kind, LayerSpec)):
        raise TypeError(f"kind must be a LayerSpec subclass, got {kind!r}")
    if not isinstance(planner, LayerPlanner):
        raise TypeError(f"planner must be a LayerPlanner, got {type(planner).__name__}")
    PLANNERS[kind] = planner


def register_plan_kind(cls: type[LayerPlan]) -> type[LayerPlan]:
    """Make plans of class ``cls`` loadable from JSON (usable as a class decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, LayerPlan)) or not cls.kind:
        raise TypeError(f"expected a LayerPlan subclass with a kind, got {cls!r}")
    PLAN_KINDS[cls.kind] = cls
    return cls


def planner_for(layer: LayerSpec) -> LayerPlanner:
    """The planner of ``layer``'s class (or of its nearest registered base class);
    :class:`SpecError` naming the layer when the hardware has none."""
    for cls in type(layer).__mro__:
        planner = PLANNERS.get(cls)
        if planner is not None:
            return planner
    raise SpecError(
        f"no hardware for layer kind {layer.kind!r} (known: {sorted(c.kind for c in PLANNERS)})",
        layer=layer.name,
        field="kind",
    )
