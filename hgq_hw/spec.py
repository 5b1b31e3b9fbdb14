"""The spec: the per-weight / per-activation fixed-point contract between training and hardware.

A :class:`ModelSpec` is an ordered graph of layers over named tensors. Every layer produces one
tensor named after the layer and reads the tensors named in its ``inputs``, which must come
earlier in the list. Version 1 knows the layer kinds ``Input``, ``Dense``, ``Requantize``,
``ReLU`` and ``Output`` (exactly one ``Input``, first, and one ``Output``, last).

On disk a spec is JSON::

    {"format": "hgqflow-spec", "version": 1, "name": "...", "metadata": {...},
     "layers": [{"kind": "Input", "name": "x", "k": [...], "i": [...], "f": [...],
                 "round": "RND", "overflow": "SAT"}, ...]}

Every field is required and unknown fields are refused, so a file either means exactly what it
says or fails to load with a :class:`SpecError` naming the file, the layer and the field. A file
written by a newer schema version is refused with a message saying so. New layer kinds add a
class to :data:`LAYER_KINDS`; old files keep loading unchanged.

The spec depends only on the standard library and numpy.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hgq_hw import atomic
from hgq_hw.fixed import MAX_EXPONENT, MAX_WIDTH, Overflow, Round, TensorType

__all__ = [
    "FORMAT",
    "LAYER_KINDS",
    "SCHEMA_VERSION",
    "DenseSpec",
    "InputSpec",
    "LayerSpec",
    "ModelSpec",
    "OutputSpec",
    "ReLUSpec",
    "RequantizeSpec",
    "SpecError",
    "dumps",
    "load",
    "loads",
    "save",
]

FORMAT = "hgqflow-spec"
SCHEMA_VERSION = 1
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class SpecError(ValueError):
    """A spec that cannot be trusted: says which file, layer and field, and what was wrong."""

    def __init__(
        self,
        message: str,
        *,
        file: str | os.PathLike[str] | None = None,
        layer: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.layer = layer
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.layer is not None:
            where.append(f"layer {self.layer!r}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return (": ".join([", ".join(where), self.message])) if where else self.message

    def located(
        self, *, file: str | os.PathLike[str] | None = None, layer: str | None = None
    ) -> SpecError:
        """The same error with the file and/or layer filled in where still unknown."""
        return SpecError(
            self.message,
            file=self.file if self.file is not None else file,
            layer=self.layer if self.layer is not None else layer,
            field=self.field,
        )


# --------------------------------------------------------------------------------------------
# Field codecs: how one JSON field becomes one Python value, with checks that name the field.


@dataclass(frozen=True)
class _Codec:
    decode: Callable[[Any, str], Any]
    encode: Callable[[Any], Any]
    python: Callable[[Any, str], Any]
    """Normalises a value given to a constructor (e.g. a list to an int64 array)."""


def _decode_name(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise SpecError(f"expected a string, got {type(value).__name__}", field=name)
    if not _NAME_RE.match(value):
        raise SpecError(
            f"{value!r} is not a valid name (letters, digits and '_', not starting with a digit)",
            field=name,
        )
    return value


def _decode_names(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise SpecError(f"expected a list of names, got {type(value).__name__}", field=name)
    return tuple(_decode_name(v, name) for v in value)


def _nested_shape(value: Any, name: str) -> tuple[int, ...]:
    if isinstance(value, list | tuple):
        if not value:
            return (0,)
        inner = [_nested_shape(v, name) for v in value]
        if any(s != inner[0] for s in inner):
            raise SpecError("ragged nested list (rows of different lengths)", field=name)
        return (len(value), *inner[0])
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise SpecError(f"expected integers, found {type(value).__name__} {value!r}", field=name)
    return ()


def _int_array(ndim: int | None) -> _Codec:
    def decode(value: Any, name: str) -> np.ndarray:
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "iu" and not (
                value.dtype == object and all(isinstance(v, int | np.integer) for v in value.flat)
            ):
                raise SpecError(f"expected an integer array, got dtype {value.dtype}", field=name)
            value = value.tolist()
        if not isinstance(value, list | tuple):
            raise SpecError(
                f"expected a (nested) list of integers, got {type(value).__name__}", field=name
            )
        shape = _nested_shape(value, name)
        if ndim is not None and len(shape) != ndim:
            raise SpecError(
                f"expected a {ndim}-dimensional array, got shape {list(shape)}", field=name
            )
        flat = np.array(value, dtype=object).ravel() if shape and 0 not in shape else []
        for v in flat:
            if not _INT64_MIN <= int(v) <= _INT64_MAX:
                raise SpecError(f"value {int(v)} is wider than {MAX_WIDTH} bits", field=name)
        return np.array(value, dtype=np.int64).reshape(shape)

    def encode(value: np.ndarray) -> Any:
        return value.tolist()

    return _Codec(decode, encode, decode)


def _enum(kind: type[Round] | type[Overflow]) -> _Codec:
    choices = ", ".join(m.value for m in kind)

    def decode(value: Any, name: str) -> Any:
        if not isinstance(value, str):
            raise SpecError(f"expected one of {choices}, got {type(value).__name__}", field=name)
        try:
            return kind(value)
        except ValueError:
            raise SpecError(f"expected one of {choices}, got {value!r}", field=name) from None

    def python(value: Any, name: str) -> Any:
        if isinstance(value, kind):
            return value
        return decode(value, name)

    return _Codec(decode, lambda v: v.value, python)


_NAME = _Codec(_decode_name, lambda v: v, _decode_name)
_NAMES = _Codec(_decode_names, list, _decode_names)
_ROUND = _enum(Round)
_OVERFLOW = _enum(Overflow)


# --------------------------------------------------------------------------------------------
# Layers


@dataclass(frozen=True, eq=False, kw_only=True)
class LayerSpec:
    """Base of all layers: a name (also the name of the tensor it produces) and its inputs.

    Subclasses set ``kind`` (the JSON ``"kind"``), ``arity`` (number of inputs) and
    ``_codecs`` (field name -> codec, in JSON order after ``kind``/``name``/``inputs``).
    """

    name: str
    inputs: tuple[str, ...] = ()

    kind: ClassVar[str] = ""
    arity: ClassVar[int] = 1
    _codecs: ClassVar[dict[str, _Codec]] = {}

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "name", _NAME.python(self.name, "name"))
            object.__setattr__(self, "inputs", _NAMES.python(self.inputs, "inputs"))
            if len(self.inputs) != self.arity:
                raise SpecError(
                    f"{self.kind} takes {self.arity} input(s), got {len(self.inputs)}",
                    field="inputs",
                )
            for key, codec in self._codecs.items():
                object.__setattr__(self, key, codec.python(getattr(self, key), key))
            self._check()
        except SpecError as err:
            raise err.located(layer=getattr(self, "name", None)) from None

    def _check(self) -> None:
        """Checks within one layer (shapes of its own fields, ranges). Raise SpecError."""

    def output_shape(self, input_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        """Shape of the produced tensor from the input tensors' shapes (SpecError if they clash)."""
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name}
        if self.arity:
            out["inputs"] = list(self.inputs)
        for key, codec in self._codecs.items():
            out[key] = codec.encode(getattr(self, key))
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> LayerSpec:
        name = obj.get("name")
        layer_name = name if isinstance(name, str) else None
        expected = ["kind", "name", *(["inputs"] if cls.arity else []), *cls._codecs]
        unknown = sorted(set(obj) - set(expected))
        if unknown:
            raise SpecError(
                f"unknown field(s) {unknown} for a {cls.kind} layer (known: {expected})",
                layer=layer_name,
                field=unknown[0],
            )
        for key in expected:
            if key not in obj:
                raise SpecError(
                    f"missing required field for a {cls.kind} layer", layer=layer_name, field=key
                )
        kwargs: dict[str, Any] = {"name": _NAME.decode(obj["name"], "name")}
        try:
            if cls.arity:
                kwargs["inputs"] = _NAMES.decode(obj["inputs"], "inputs")
            for key, codec in cls._codecs.items():
                kwargs[key] = codec.decode(obj[key], key)
        except SpecError as err:
            raise err.located(layer=layer_name) from None
        return cls(**kwargs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LayerSpec):
            return NotImplemented
        return type(self) is type(other) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]


def _check_kif(layer: LayerSpec, shape_field: str = "k") -> None:
    """Per-element ``k``/``i``/``f`` arrays: one shape, k in {0,1}, sane exponents, widths 0..64."""
    k, i, f = layer.k, layer.i, layer.f  # type: ignore[attr-defined]
    for key, arr in (("i", i), ("f", f)):
        if arr.shape != k.shape:
            raise SpecError(
                f"shape {list(arr.shape)} differs from {shape_field!r} shape {list(k.shape)}",
                field=key,
            )
    if k.size == 0:
        raise SpecError("a tensor needs at least one element", field="k")
    if np.any((k != 0) & (k != 1)):
        raise SpecError("sign bits must be 0 or 1", field="k")
    for key, arr in (("i", i), ("f", f)):
        if np.any(np.abs(arr) > MAX_EXPONENT):
            raise SpecError(f"values must lie in [-{MAX_EXPONENT}, {MAX_EXPONENT}]", field=key)
    width = k + i + f
    if np.any(width < 0):
        bad = np.argwhere(width < 0)[0].tolist()
        raise SpecError(
            f"width k+i+f is negative at element {bad} (use width 0 for constant 0)", field="i"
        )
    if np.any(width > MAX_WIDTH):
        bad = np.argwhere(width > MAX_WIDTH)[0].tolist()
        raise SpecError(
            f"width k+i+f = {int(width[tuple(bad)])} at element {bad} is over {MAX_WIDTH} bits",
            field="f",
        )


@dataclass(frozen=True, eq=False, kw_only=True)
class InputSpec(LayerSpec):
    """The network input: per-element type ``(k, i, f)`` and how real inputs are quantized.

    ``round`` and ``overflow`` describe :func:`hgq_hw.reference.quantize_inputs`; raw inputs fed
    to the reference or the hardware must already lie within the per-element types.
    """

    k: np.ndarray
    i: np.ndarray
    f: np.ndarray
    round: Round = Round.TRN
    overflow: Overflow = Overflow.SAT

    kind: ClassVar[str] = "Input"
    arity: ClassVar[int] = 0
    _codecs: ClassVar[dict[str, _Codec]] = {
        "k": _int_array(None),
        "i": _int_array(None),
        "f": _int_array(None),
        "round": _ROUND,
        "overflow": _OVERFLOW,
    }

    def _check(self) -> None:
        _check_kif(self)

    @property
    def type(self) -> TensorType:
        return TensorType(self.k, self.i, self.f)

    def output_shape(self, input_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        return tuple(self.k.shape)


@dataclass(frozen=True, eq=False, kw_only=True)
class DenseSpec(LayerSpec):
    """``y[j] = sum_i x[i] * w[i, j] + b[j]`` with every weight its own fixed-point number.

    ``weight_raw`` and ``weight_f`` have shape ``(n_in, n_out)``: weight ``(i, j)`` is the real
    ``weight_raw[i, j] * 2**-weight_f[i, j]``; a raw 0 is a pruned weight (costs nothing). The
    bias is ``bias_raw[j] * 2**-bias_f[j]``. The output is exact (no rounding); its per-element
    type is inferred by :func:`hgq_hw.reference.infer_types`.
    """

    weight_raw: np.ndarray
    weight_f: np.ndarray
    bias_raw: np.ndarray
    bias_f: np.ndarray

    kind: ClassVar[str] = "Dense"
    _codecs: ClassVar[dict[str, _Codec]] = {
        "weight_raw": _int_array(2),
        "weight_f": _int_array(2),
        "bias_raw": _int_array(1),
        "bias_f": _int_array(1),
    }

    def _check(self) -> None:
        n_in, n_out = self.weight_raw.shape
        if n_in == 0 or n_out == 0:
            raise SpecError(f"weight shape {[n_in, n_out]} has no elements", field="weight_raw")
        expected = {
            "weight_f": (n_in, n_out),
            "bias_raw": (n_out,),
            "bias_f": (n_out,),
        }
        for key, shape in expected.items():
            got = getattr(self, key).shape
            if got != shape:
                raise SpecError(
                    f"shape {list(got)} does not match weight_raw shape {[n_in, n_out]} "
                    f"(expected {list(shape)})",
                    field=key,
                )
        for key in ("weight_f", "bias_f"):
            if np.any(np.abs(getattr(self, key)) > MAX_EXPONENT):
                raise SpecError(f"values must lie in [-{MAX_EXPONENT}, {MAX_EXPONENT}]", field=key)
        for key in ("weight_raw", "bias_raw"):
            arr = getattr(self, key)
            if np.any(arr == _INT64_MIN):
                raise SpecError(f"value -2**63 is wider than {MAX_WIDTH} bits", field=key)

    @property
    def n_in(self) -> int:
        return int(self.weight_raw.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.weight_raw.shape[1])

    def output_shape(self, input_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        (shape,) = input_shapes
        if shape != (self.n_in,):
            raise SpecError(
                f"input {self.inputs[0]!r} has shape {list(shape)} but weight_raw has "
                f"{self.n_in} rows (expected a 1-d input of {self.n_in} elements)",
                field="weight_raw",
            )
        return (self.n_out,)


@dataclass(frozen=True, eq=False, kw_only=True)
class RequantizeSpec(LayerSpec):
    """Round each element to type ``(k[e], i[e], f[e])``: ``round`` first, then ``overflow``."""

    k: np.ndarray
    i: np.ndarray
    f: np.ndarray
    round: Round = Round.TRN
    overflow: Overflow = Overflow.WRAP

    kind: ClassVar[str] = "Requantize"
    _codecs: ClassVar[dict[str, _Codec]] = InputSpec._codecs

    def _check(self) -> None:
        _check_kif(self)

    @property
    def type(self) -> TensorType:
        return TensorType(self.k, self.i, self.f)

    def output_shape(self, input_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        (shape,) = input_shapes
        if shape != tuple(self.k.shape):
            raise SpecError(
                f"input {self.inputs[0]!r} has shape {list(shape)} but the per-element types "
                f"have shape {list(self.k.shape)}",
                field="k",
            )
        return shape


@dataclass(frozen=True, eq=False, kw_only=True)
class ReLUSpec(LayerSpec):
    """``max(x, 0)`` element-wise; the type keeps ``i`` and ``f`` and loses its sign bit."""

    kind: ClassVar[str] = "ReLU"

    def output_shape(self, input_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        return input_shapes[0]


@dataclass(frozen=True, eq=False, kw_only=True)
class OutputSpec(LayerSpec):
    """Marks its input tensor as the network output (unchanged values and types)."""

    kind: ClassVar[str] = "Output"

    def output_shape(self, input_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        return input_shapes[0]


LAYER_KINDS: dict[str, type[LayerSpec]] = {
    cls.kind: cls for cls in (InputSpec, DenseSpec, RequantizeSpec, ReLUSpec, OutputSpec)
}
"""JSON ``"kind"`` -> layer class. A new kind is one more entry; old files are unaffected."""


# --------------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True, eq=False)
class ModelSpec:
    """An ordered layer graph with exactly one :class:`InputSpec` (first) and one
    :class:`OutputSpec` (last). ``metadata`` is free-form JSON (provenance, training settings).
    Construction validates the graph and raises :class:`SpecError` on any inconsistency.
    """

    name: str
    layers: tuple[LayerSpec, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _NAME.python(self.name, "name"))
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "metadata", dict(self.metadata))
        self._validate_graph()

    def _validate_graph(self) -> None:
        if not self.layers:
            raise SpecError("a model needs at least an Input and an Output layer", field="layers")
        for index, layer in enumerate(self.layers):
            if not isinstance(layer, LayerSpec):
                raise SpecError(
                    f"layers[{index}] is a {type(layer).__name__}, not a LayerSpec", field="layers"
                )
        if not isinstance(self.layers[0], InputSpec):
            raise SpecError(
                f"the first layer must be an Input, got {self.layers[0].kind}",
                layer=self.layers[0].name,
                field="kind",
            )
        if not isinstance(self.layers[-1], OutputSpec):
            raise SpecError(
                f"the last layer must be an Output, got {self.layers[-1].kind}",
                layer=self.layers[-1].name,
                field="kind",
            )
        shapes: dict[str, tuple[int, ...]] = {}
        for index, layer in enumerate(self.layers):
            if index > 0 and isinstance(layer, InputSpec):
                raise SpecError(
                    "only one Input layer is supported (schema version 1)",
                    layer=layer.name,
                    field="kind",
                )
            if index < len(self.layers) - 1 and isinstance(layer, OutputSpec):
                raise SpecError(
                    "only one Output layer, the last one, is supported",
                    layer=layer.name,
                    field="kind",
                )
            if layer.name in shapes:
                raise SpecError("duplicate layer name", layer=layer.name, field="name")
            for source in layer.inputs:
                if source not in shapes:
                    raise SpecError(
                        f"input {source!r} is not the name of an earlier layer",
                        layer=layer.name,
                        field="inputs",
                    )
            try:
                shapes[layer.name] = layer.output_shape([shapes[s] for s in layer.inputs])
            except SpecError as err:
                raise err.located(layer=layer.name) from None
        object.__setattr__(self, "_shapes", shapes)

    # -- queries ------------------------------------------------------------------------------

    @property
    def input(self) -> InputSpec:
        return self.layers[0]  # type: ignore[return-value]

    @property
    def output(self) -> OutputSpec:
        return self.layers[-1]  # type: ignore[return-value]

    def shape(self, tensor: str) -> tuple[int, ...]:
        """Shape of the tensor produced by layer ``tensor`` (one sample, no batch axis)."""
        return self._shapes[tensor]  # type: ignore[attr-defined]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.shape(self.input.name)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.shape(self.output.name)

    def layer(self, name: str) -> LayerSpec:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no layer named {name!r} in spec {self.name!r}")

    def dense_layers(self) -> list[DenseSpec]:
        return [layer for layer in self.layers if isinstance(layer, DenseSpec)]

    # -- JSON ---------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "name": self.name,
            "metadata": dict(self.metadata),
            "layers": [layer.to_json() for layer in self.layers],
        }

    @classmethod
    def from_json(cls, obj: Any) -> ModelSpec:
        if not isinstance(obj, dict):
            raise SpecError(f"expected a JSON object at the top level, got {type(obj).__name__}")
        if obj.get("format") != FORMAT:
            raise SpecError(
                f"not an {FORMAT} file (format is {obj.get('format')!r})", field="format"
            )
        version = obj.get("version")
        if isinstance(version, bool) or not isinstance(version, int):
            raise SpecError(f"expected an integer schema version, got {version!r}", field="version")
        if version > SCHEMA_VERSION:
            raise SpecError(
                f"schema version {version} is newer than this hgqflow supports "
                f"({SCHEMA_VERSION}); upgrade hgqflow to read it",
                field="version",
            )
        if version < 1:
            raise SpecError(f"schema version {version} does not exist", field="version")
        known = ["format", "version", "name", "metadata", "layers"]
        unknown = sorted(set(obj) - set(known))
        if unknown:
            raise SpecError(
                f"unknown top-level field(s) {unknown} (known: {known})", field=unknown[0]
            )
        for key in known:
            if key not in obj:
                raise SpecError("missing required top-level field", field=key)
        if not isinstance(obj["metadata"], dict):
            raise SpecError("expected a JSON object", field="metadata")
        if not isinstance(obj["layers"], list):
            raise SpecError("expected a list of layers", field="layers")
        layers = []
        for index, entry in enumerate(obj["layers"]):
            if not isinstance(entry, dict):
                raise SpecError(f"layers[{index}] is not a JSON object", field="layers")
            name = entry.get("name") if isinstance(entry.get("name"), str) else f"#{index}"
            kind = entry.get("kind")
            if kind not in LAYER_KINDS:
                raise SpecError(
                    f"unknown layer kind {kind!r} (known: {sorted(LAYER_KINDS)})",
                    layer=name,
                    field="kind",
                )
            try:
                layers.append(LAYER_KINDS[kind].from_json(entry))
            except SpecError as err:
                raise err.located(layer=name) from None
        return cls(
            name=_NAME.decode(obj["name"], "name"),
            layers=tuple(layers),
            metadata=obj["metadata"],
            version=version,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelSpec):
            return NotImplemented
        return self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]


# --------------------------------------------------------------------------------------------
# Files


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _format(value: Any, indent: int) -> str:
    """JSON with objects spread over lines and arrays of numbers kept one row per line."""
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {_format(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list):
        if all(_is_scalar(v) for v in value):
            return json.dumps(value, separators=(", ", ": "))
        if all(isinstance(v, list) and all(_is_scalar(x) for x in v) for v in value):
            rows = [inner + json.dumps(v, separators=(",", ":")) for v in value]
            return "[\n" + ",\n".join(rows) + "\n" + pad + "]"
        return "[\n" + ",\n".join(inner + _format(v, indent + 2) for v in value) + "\n" + pad + "]"
    return json.dumps(value)


def dumps(spec: ModelSpec) -> str:
    """The spec as JSON text; the same spec always gives byte-identical text."""
    return _format(spec.to_json(), 0) + "\n"


def loads(text: str, *, source: str = "<string>") -> ModelSpec:
    """Parse JSON text; every problem is a :class:`SpecError` naming ``source``."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise SpecError(f"not valid JSON: {err}", file=source) from None
    try:
        return ModelSpec.from_json(obj)
    except SpecError as err:
        raise err.located(file=source) from None


def save(spec: ModelSpec, path: str | os.PathLike[str]) -> Path:
    """Write ``spec`` to ``path`` (JSON); ``load(save(s)) == s``."""
    path = Path(path)
    atomic.write_text(path, dumps(spec))
    return path


def load(path: str | os.PathLike[str]) -> ModelSpec:
    """Read a spec file, validating every field (see :class:`SpecError`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SpecError(f"cannot read: {err.strerror or err}", file=path) from None
    return loads(text, source=str(path))


def kif_from(types: Iterable[tuple[int, int, int]] | TensorType) -> dict[str, np.ndarray]:
    """``k``, ``i``, ``f`` keyword arguments for an Input/Requantize layer from a TensorType."""
    if isinstance(types, TensorType):
        return {"k": types.k, "i": types.i, "f": types.f}
    arr = np.asarray(list(types), dtype=np.int64)
    return {"k": arr[:, 0], "i": arr[:, 1], "f": arr[:, 2]}
