"""The spec: the per-weight / per-activation fixed-point contract between training and hardware.

A :class:`ModelSpec` is an ordered graph of layers over named tensors. Every layer produces one
tensor named after the layer and reads the tensors named in its ``inputs``, which must come
earlier in the list (exactly one ``Input``, first, and one ``Output``, last). A tensor is one
sample, channels-last, of any number of dimensions (``(n,)``, ``(length, channels)``,
``(height, width, channels)``); every later stage below the reference sees it flattened in C
(row-major) order.

Layer kinds (JSON ``"kind"``, class; all fields required):

* ``Input`` (:class:`InputSpec`): ``k``, ``i``, ``f`` integer arrays of the tensor's shape,
  ``round``, ``overflow``.
* ``Dense`` (:class:`DenseSpec`): ``weight_raw``, ``weight_f`` ``(n_in, n_out)``, ``bias_raw``,
  ``bias_f`` ``(n_out,)``; reads a 1-d tensor (a Reshape flattens before it).
* ``Conv`` (:class:`ConvSpec`): ``kernel_raw``, ``kernel_f`` ``(*window, c_in, c_out)`` with one
  or two spatial dimensions (Conv1D / Conv2D), ``bias_raw``, ``bias_f`` ``(c_out,)``,
  ``strides`` (one per spatial dimension), ``padding`` ``"valid"`` | ``"same"``
  (:class:`Padding`, :func:`window_geometry`); exact, no dilation.
* ``MaxPool`` (:class:`MaxPoolSpec`) and ``AvgPool`` (:class:`AvgPoolSpec`): ``pool_size``,
  ``strides`` (one per spatial dimension), ``padding`` (``"valid"`` only); an AvgPool window
  holds a power of two of elements and its output is the exact window sum times
  ``2**-log2(window)``.
* ``Reshape`` (:class:`ReshapeSpec`): ``shape`` (of one sample, same number of elements, C order).
* ``Requantize`` (:class:`RequantizeSpec`): ``k``, ``i``, ``f`` of the tensor's shape, ``round``,
  ``overflow``; ``ReLU`` (:class:`ReLUSpec`) and ``Output`` (:class:`OutputSpec`): element-wise.
* ``Table`` (:class:`TableSpec`): ``tables`` (lists of ``2**w`` raw entries), ``table_of`` (per
  element, an index into ``tables``), ``k``, ``i``, ``f`` (the output type) of the tensor's shape;
  element-wise lookup of the raw input offset by its type's minimum.
* Merges of two tensors (``inputs`` names two earlier tensors, which may be the same one):
  ``Add`` (:class:`AddSpec`), ``Subtract`` (:class:`SubtractSpec`, first minus second) and
  ``Multiply`` (:class:`MultiplySpec`, element-wise product of two variables) read tensors of
  one shape (no broadcasting) and are exact (types inferred by the reference);
  ``Concatenate`` (:class:`ConcatenateSpec`): ``axis`` (an integer, negative counts from the
  end, as in Keras; ``-1``, the channels, is the common case) joins tensors whose other
  dimensions agree.

On disk a spec is JSON::

    {"format": "hgqflow-spec", "version": 2, "name": "...", "metadata": {...},
     "layers": [{"kind": "Input", "name": "x", "k": [[...]], "i": [[...]], "f": [[...]],
                 "round": "RND", "overflow": "SAT"},
                {"kind": "Conv", "name": "c1", "inputs": ["x"], "kernel_raw": [[[...]]],
                 "kernel_f": [[[...]]], "bias_raw": [...], "bias_f": [...], "strides": [1],
                 "padding": "same"}, ...]}

Schema versions: version 1 knows ``Input``, ``Dense``, ``Requantize``, ``ReLU`` and ``Output``
over 1-d tensors; version 2 (:data:`SCHEMA_VERSION`) adds N-d tensors and ``Conv``,
``MaxPool``, ``AvgPool``, ``Reshape``, ``Table``, ``Add``, ``Subtract``, ``Multiply`` and
``Concatenate``. Files of both versions load; :func:`dumps` and :func:`save` write the lowest
version that expresses the spec (:attr:`ModelSpec.required_version`), so a version-1 spec is
written byte-identically as before.
A version-1 file using a version-2 kind or an N-d tensor is refused naming the layer and field.

Every field is required and unknown fields are refused, so a file either means exactly what it
says or fails to load with a :class:`SpecError` naming the file, the layer and the field. A file
written by a newer schema version is refused with a message saying so. New layer kinds add a
class to :data:`LAYER_KINDS`; old files keep loading unchanged.

What a file may hold, so that whatever loads here is also something every later stage
(reference, Verilog generator, Verilator and Icarus, Yosys) can handle:

* Names (the spec's and every layer's) are identifiers ``[A-Za-z_][A-Za-z0-9_]*`` of at most
  :data:`MAX_NAME_LENGTH` characters. No name is in :data:`PORT_NAMES` (port names of the
  generated design and the board tops, Verilator's ``TOP``); the spec's name, which names the
  Verilog module, Verilator's C++ class and files, is also no Verilog/SystemVerilog or C++
  keyword nor a Windows device name such as ``CON`` (:data:`RESERVED_NAMES`).
* A ``Table`` (:class:`TableSpec`, an element-wise lookup table of any tensor shape) has tables
  of ``2**w`` entries with ``w <= MAX_TABLE_INPUT_BITS`` (:data:`MAX_TABLE_INPUT_BITS`, 12:
  4096 entries), every table is used by some element, and every entry lies in the output type
  of each element that uses it. That a table has ``2**width`` entries for the width of its
  element's input type is checked by type inference (:func:`hgq_hw.reference.infer_types`,
  which ``hgq check`` runs), since the input type is inferred, not declared.
* ``k``/``i``/``f`` of Input and Requantize layers are (nested) lists of integers of the
  tensor's shape, at least one element; window sizes, strides and Reshape extents are integers
  in ``[1, MAX_EXTENT]``.
* ``metadata.seed``, when present, is an integer; ``metadata.dataset``, when present, a string.
* The JSON text is UTF-8, holds no duplicate keys (in any object) and no ``NaN``/``Infinity``, is
  nested at most :data:`MAX_DEPTH` levels deep and is at most :data:`MAX_BYTES` bytes long. Both
  caps are overridable: the ``max_bytes``/``max_depth`` arguments of :func:`load` and
  :func:`loads`, or the environment variables ``HGQ_SPEC_MAX_BYTES`` / ``HGQ_SPEC_MAX_DEPTH``.

The spec depends only on the standard library and numpy.
"""

from __future__ import annotations

import enum
import itertools
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hgq_hw import atomic
from hgq_hw.fixed import MAX_EXPONENT, MAX_WIDTH, Overflow, Round, TensorType

__all__ = [
    "FORMAT",
    "LAYER_KINDS",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_EXTENT",
    "MAX_NAME_LENGTH",
    "MAX_TABLE_INPUT_BITS",
    "PORT_NAMES",
    "RESERVED_NAMES",
    "SCHEMA_VERSION",
    "AddSpec",
    "AvgPoolSpec",
    "ConcatenateSpec",
    "ConvSpec",
    "DenseSpec",
    "InputSpec",
    "LayerSpec",
    "MaxPoolSpec",
    "ModelSpec",
    "MultiplySpec",
    "OutputSpec",
    "Padding",
    "ReLUSpec",
    "RequantizeSpec",
    "ReshapeSpec",
    "SpecError",
    "SubtractSpec",
    "TableSpec",
    "dumps",
    "is_reserved",
    "kif_from",
    "load",
    "loads",
    "save",
    "window_geometry",
]

FORMAT = "hgqflow-spec"
SCHEMA_VERSION = 2
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1

MAX_EXTENT = 1 << 20
"""Largest window size, stride or Reshape extent a spec may hold (per dimension)."""

MAX_NAME_LENGTH = 64
"""Longest spec or layer name (characters): leaves room for the prefixes and suffixes that the
generator, Verilator (``V<name>__Syms.h``, ...) and the run folders add within a 255-byte file
name."""

MAX_BYTES = 32 * 1024 * 1024
"""Default cap on the size of a spec file (bytes); override with ``HGQ_SPEC_MAX_BYTES`` or the
``max_bytes`` argument of :func:`load` / :func:`loads`."""

MAX_DEPTH = 32
"""Default cap on JSON nesting (objects and arrays inside each other); a version-1 spec needs 5,
A Conv2D kernel needs 7. Override with ``HGQ_SPEC_MAX_DEPTH`` or the ``max_depth`` argument of
:func:`load`/:func:`loads`."""

MAX_TABLE_INPUT_BITS = 12
"""Widest input of a ``Table`` element (bits): a table holds at most ``2**12 = 4096`` entries
(a ROM of that size is 64 LUT6 per output bit; wider inputs belong in arithmetic)."""

_PORT_NAMES = (
    # the generated network (hgq_hw.emit.ports_of, Amaranth's flattened stream ports)
    "clk rst i_stream__payload i_stream__valid i_stream__ready "
    "o_stream__payload o_stream__valid o_stream__ready "
    # the board tops and their parts (boards/uart*.py, selftest_top.py, argmax.py)
    "rx tx error led_green led_red done matched word start index "
    # the simulator top scope (Verilator) and SystemVerilog's built-in package
    "TOP std"
)
_VERILOG_KEYWORDS = (
    # IEEE 1800-2017 (SystemVerilog, a superset of Verilog-2005) reserved words
    "accept_on alias always always_comb always_ff always_latch and assert assign assume "
    "automatic before begin bind bins binsof bit break buf bufif0 bufif1 byte case casex casez "
    "cell chandle checker class clocking cmos config const constraint context continue cover "
    "covergroup coverpoint cross deassign default defparam design disable dist do edge else end "
    "endcase endchecker endclass endclocking endconfig endfunction endgenerate endgroup "
    "endinterface endmodule endpackage endprimitive endprogram endproperty endspecify "
    "endsequence endtable endtask enum event eventually expect export extends extern final "
    "first_match for force foreach forever fork forkjoin function generate genvar global "
    "highz0 highz1 if iff ifnone ignore_bins illegal_bins implements implies import incdir "
    "include initial inout input inside instance int integer interconnect interface intersect "
    "join join_any join_none large let liblist library local localparam logic longint "
    "macromodule matches medium modport module nand negedge nettype new nexttime nmos nor "
    "noshowcancelled not notif0 notif1 null or output package packed parameter pmos posedge "
    "primitive priority program property protected pull0 pull1 pulldown pullup "
    "pulsestyle_ondetect pulsestyle_onevent pure rand randc randcase randsequence rcmos real "
    "realtime ref reg reject_on release repeat restrict return rnmos rpmos rtran rtranif0 "
    "rtranif1 s_always s_eventually s_nexttime s_until s_until_with scalared sequence shortint "
    "shortreal showcancelled signed small soft solve specify specparam static string strong "
    "strong0 strong1 struct super supply0 supply1 sync_accept_on sync_reject_on table tagged "
    "task this throughout time timeprecision timeunit tran tranif0 tranif1 tri tri0 tri1 triand "
    "trior trireg type typedef union unique unique0 unsigned until until_with untyped use uwire "
    "var vectored virtual void wait wait_order wand weak weak0 weak1 while wildcard wire with "
    "within wor xnor xor"
)
_CPP_KEYWORDS = (
    "alignas alignof and_eq asm auto bitand bitor bool catch char char8_t char16_t char32_t "
    "compl concept consteval constexpr constinit const_cast co_await co_return co_yield "
    "decltype delete double dynamic_cast explicit false float friend goto inline long mutable "
    "namespace noexcept not_eq nullptr operator or_eq private public register reinterpret_cast "
    "requires short sizeof static_assert static_cast switch template thread_local throw true "
    "try typeid typename using volatile wchar_t xor_eq main"
)
_FILE_NAMES = "CON PRN AUX NUL " + " ".join(f"COM{n} LPT{n}" for n in range(1, 10))

PORT_NAMES: frozenset[str] = frozenset(_PORT_NAMES.split())
"""Names no spec and no layer may take: the ports of the generated network and of the board
tops, Verilator's ``TOP`` and SystemVerilog's ``std`` (compared exactly, as Verilog does)."""

_FILE_NAMES_UPPER = frozenset(_FILE_NAMES.split())

RESERVED_NAMES: frozenset[str] = PORT_NAMES | frozenset(
    " ".join((_VERILOG_KEYWORDS, _CPP_KEYWORDS, _FILE_NAMES)).split()
)
"""Names a spec may not take (it names the Verilog module, Verilator's C++ class ``V<name>`` and
the files ``<name>.v``, ...): :data:`PORT_NAMES` plus the Verilog/SystemVerilog and C++ keywords
(compared exactly) and the reserved device file names of Windows (``CON``, ``nul``, ``Com1``:
any case). Layer names only avoid :data:`PORT_NAMES` (the generator prefixes them, so ``output``
is a fine layer name)."""


class Padding(enum.Enum):
    """How a window (convolution, pooling) treats the tensor's borders (Keras semantics).

    ``VALID``: no padding, ``out = ceil((n - w + 1) / s)``. ``SAME``: ``out = ceil(n / s)``
    with ``total = max((out - 1) * s + w - n, 0)`` zeros, ``total // 2`` before, the rest after.
    """

    VALID = "valid"
    SAME = "same"


def window_geometry(
    spatial: Sequence[int], window: Sequence[int], strides: Sequence[int], padding: Padding
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Output spatial shape and zeros padded before each spatial dimension (see
    :class:`Padding`). SpecError (field ``padding``) if a ``"valid"`` window is larger than the
    input."""
    out, before = [], []
    for n, w, s in zip(spatial, window, strides, strict=True):
        if padding is Padding.VALID:
            if w > n:
                raise SpecError(
                    f"window {list(window)} does not fit the input's spatial shape "
                    f"{list(spatial)} with 'valid' padding",
                    field="padding",
                )
            out.append(-(-(n - w + 1) // s))
            before.append(0)
        else:
            o = -(-n // s)
            out.append(o)
            before.append(max((o - 1) * s + w - n, 0) // 2)
    return tuple(out), tuple(before)


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


def _decode_name(value: Any, name: str, *, spec_name: bool = False) -> str:
    if not isinstance(value, str):
        raise SpecError(f"expected a string, got {type(value).__name__}", field=name)
    if not _NAME_RE.match(value):
        raise SpecError(
            f"{value[:80]!r} is not a valid name (letters, digits and '_', not starting with a "
            "digit)",
            field=name,
        )
    if len(value) > MAX_NAME_LENGTH:
        raise SpecError(
            f"name {value[:20]!r}... of {len(value)} characters is longer than the "
            f"{MAX_NAME_LENGTH} allowed",
            field=name,
        )
    if is_reserved(value, spec_name=spec_name):
        what = (
            "a port of the generated design or a board top, or a name the simulators reserve"
            if value in PORT_NAMES
            else "a Verilog or C++ keyword or a reserved file name"
        )
        raise SpecError(f"{value!r} is a reserved name ({what})", field=name)
    return value


def is_reserved(name: str, *, spec_name: bool = True) -> bool:
    """Whether ``name`` is refused as a spec name (``spec_name``) or as a layer name for being
    reserved (:data:`RESERVED_NAMES` / :data:`PORT_NAMES`); syntax and length are not judged."""
    if not spec_name:
        return name in PORT_NAMES
    return name in RESERVED_NAMES or name.upper() in _FILE_NAMES_UPPER


def _decode_model_name(value: Any, name: str) -> str:
    return _decode_name(value, name, spec_name=True)


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


def _fast_int_array(value: Any) -> np.ndarray | None:
    """``value`` as an int64 array when it plainly is one: an int64/int32/... ndarray of at
    least one dimension, or a regular 1-d or 2-d list of Python ints (no bools). None otherwise,
    and the checked path below then says what is wrong. Only a shortcut: the result is the same
    either way."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "i" and value.ndim >= 1:
            return value.astype(np.int64)
        return None
    if not isinstance(value, list):
        return None
    try:
        arr = np.array(value)
    except (ValueError, OverflowError, TypeError):
        return None
    if arr.dtype != np.int64 or arr.ndim not in (1, 2) or 0 in arr.shape:
        return None
    flat = value if arr.ndim == 1 else itertools.chain.from_iterable(value)
    if any(type(v) is not int for v in flat):  # a bool became 1, a numpy scalar, ...
        return None
    return arr


def _int_array(ndim: int | None) -> _Codec:
    def decode(value: Any, name: str) -> np.ndarray:
        fast = _fast_int_array(value)
        if fast is not None and (ndim is None or fast.ndim == ndim):
            return fast
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
                f"expected a {ndim}-dimensional array, got shape {list(shape)}"
                + (" (schema version 1 tensors are 1-d)" if ndim == 1 else ""),
                field=name,
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


def _decode_tables(value: Any, name: str) -> tuple[np.ndarray, ...]:
    """A list of 1-d integer arrays of any lengths (the entries of lookup tables)."""
    if isinstance(value, str | bytes | np.ndarray) or not isinstance(value, list | tuple):
        raise SpecError(
            f"expected a list of tables (lists of integers), got {type(value).__name__}", field=name
        )
    one = _int_array(1)
    out = []
    for n, table in enumerate(value):
        try:
            out.append(one.decode(table, name))
        except SpecError as err:
            raise SpecError(f"tables[{n}]: {err.message}", field=name) from None
    return tuple(out)


_NAME = _Codec(_decode_name, lambda v: v, _decode_name)
_TABLES = _Codec(_decode_tables, lambda v: [t.tolist() for t in v], _decode_tables)


def _decode_sizes(value: Any, name: str) -> tuple[int, ...]:
    """A non-empty list of positive integers (window sizes, strides, a shape)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple) or not value:
        raise SpecError(
            f"expected a non-empty list of positive integers, got {str(value)[:40]!r}", field=name
        )
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise SpecError(f"expected integers, found {type(v).__name__} {v!r}", field=name)
        if not 1 <= int(v) <= MAX_EXTENT:
            raise SpecError(f"values must lie in [1, {MAX_EXTENT}], got {int(v)}", field=name)
        out.append(int(v))
    return tuple(out)


def _padding(value: Any, name: str) -> Padding:
    if isinstance(value, Padding):
        return value
    choices = ", ".join(repr(m.value) for m in Padding)
    if not isinstance(value, str):
        raise SpecError(f"expected one of {choices}, got {type(value).__name__}", field=name)
    try:
        return Padding(value)
    except ValueError:
        raise SpecError(f"expected one of {choices}, got {value!r}", field=name) from None


def _decode_axis(value: Any, name: str) -> int:
    """An integer axis (negative counts from the end)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise SpecError(f"expected an integer axis, got {type(value).__name__}", field=name)
    if abs(int(value)) > MAX_EXTENT:
        raise SpecError(f"axis {int(value)} is out of any tensor's dimensions", field=name)
    return int(value)


_NAME = _Codec(_decode_name, lambda v: v, _decode_name)
_AXIS = _Codec(_decode_axis, int, _decode_axis)
_SIZES = _Codec(_decode_sizes, list, _decode_sizes)
_PADDING = _Codec(_padding, lambda v: v.value, _padding)
_MODEL_NAME = _Codec(_decode_model_name, lambda v: v, _decode_model_name)
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

    def schema_version(self) -> tuple[int, str]:
        """The lowest schema version that can express this layer, and the field that needs it."""
        return (2, "kind") if self.kind not in _VERSION_1_KINDS else (1, "kind")

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


def _check_exponents_and_raw(
    layer: LayerSpec, exponents: Iterable[str], raws: Iterable[str] = ()
) -> None:
    """Every field named in ``exponents`` within ``[-MAX_EXPONENT, MAX_EXPONENT]``, and no
    field named in ``raws`` holding ``-2**63`` (wider than :data:`MAX_WIDTH` bits); the first
    offending field in that order is named."""
    for key in exponents:
        if np.any(np.abs(getattr(layer, key)) > MAX_EXPONENT):
            raise SpecError(f"values must lie in [-{MAX_EXPONENT}, {MAX_EXPONENT}]", field=key)
    for key in raws:
        if np.any(getattr(layer, key) == _INT64_MIN):
            raise SpecError(f"value -2**63 is wider than {MAX_WIDTH} bits", field=key)


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
    _check_exponents_and_raw(layer, ("i", "f"))
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

    def schema_version(self) -> tuple[int, str]:
        return (1, "kind") if self.k.ndim == 1 else (2, "k")

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

    @classmethod
    def ones(cls, name: str, source: str, n_in: int, n_out: int) -> DenseSpec:
        """Weights 1 and no bias: a broadcast (``n_in = 1``) or a sum (``n_out = 1``)."""
        return cls(
            name=name,
            inputs=(source,),
            weight_raw=np.ones((n_in, n_out), dtype=np.int64),
            weight_f=np.zeros((n_in, n_out), dtype=np.int64),
            bias_raw=np.zeros(n_out, dtype=np.int64),
            bias_f=np.zeros(n_out, dtype=np.int64),
        )

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
        _check_exponents_and_raw(self, ("weight_f", "bias_f"), ("weight_raw", "bias_raw"))

    @property
    def n_in(self) -> int:
        return int(self.weight_raw.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.weight_raw.shape[1])

    def output_shape(self, input_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        (shape,) = input_shapes
        if len(shape) != 1:
            raise SpecError(
                f"input {self.inputs[0]!r} has shape {list(shape)}; a Dense layer reads a 1-d "
                f"tensor (put a Reshape to [{int(np.prod(shape))}] before it)",
                field="inputs",
            )
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

    def schema_version(self) -> tuple[int, str]:
        return (1, "kind") if self.k.ndim == 1 else (2, "k")

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


@dataclass(frozen=True, eq=False, kw_only=True)
class TableSpec(LayerSpec):
    """An element-wise lookup table (a unary function such as tanh, tabulated exactly).

    Element ``e`` (an index of the tensor, any shape) reads table ``tables[table_of[e]]``: for a
    raw input value ``v`` of the element's input type ``t`` (inferred from the layer it reads),
    the raw output is ``tables[table_of[e]][v - t.raw_min]``, at the declared output type
    ``(k[e], i[e], f[e])``. So a table has ``2**t.width`` entries, from the smallest raw input
    to the largest (a width-0 input, the constant 0, has a table of one entry). Elements with
    identical tables share one. ``table_of``, ``k``, ``i`` and ``f`` have the input tensor's
    shape; tables have at most ``2**MAX_TABLE_INPUT_BITS`` entries, each in the output type of
    every element that uses it; every table is used.
    """

    tables: tuple[np.ndarray, ...]
    table_of: np.ndarray
    k: np.ndarray
    i: np.ndarray
    f: np.ndarray

    kind: ClassVar[str] = "Table"
    _codecs: ClassVar[dict[str, _Codec]] = {
        "tables": _TABLES,
        "table_of": _int_array(None),
        "k": _int_array(None),
        "i": _int_array(None),
        "f": _int_array(None),
    }

    def _check(self) -> None:
        if self.k.ndim == 0:
            raise SpecError("expected an array of one value per element, got a scalar", field="k")
        _check_kif(self)
        if self.table_of.shape != self.k.shape:
            raise SpecError(
                f"shape {list(self.table_of.shape)} differs from 'k' shape {list(self.k.shape)}",
                field="table_of",
            )
        if not self.tables:
            raise SpecError("a Table layer needs at least one table", field="tables")
        for n, table in enumerate(self.tables):
            size = len(table)
            if size == 0 or size & (size - 1):
                raise SpecError(
                    f"tables[{n}] has {size} entries; a table has 2**w entries (w the input width)",
                    field="tables",
                )
            if size > 1 << MAX_TABLE_INPUT_BITS:
                raise SpecError(
                    f"tables[{n}] has {size} entries, over the cap of 2**{MAX_TABLE_INPUT_BITS} "
                    f"(inputs of at most {MAX_TABLE_INPUT_BITS} bits)",
                    field="tables",
                )
        bad = (self.table_of < 0) | (self.table_of >= len(self.tables))
        if np.any(bad):
            index = np.argwhere(bad)[0].tolist()
            raise SpecError(
                f"element {index} refers to table {int(self.table_of[tuple(index)])}, but there "
                f"are {len(self.tables)} tables",
                field="table_of",
            )
        unused = sorted(set(range(len(self.tables))) - set(self.table_of.ravel().tolist()))
        if unused:
            raise SpecError(f"tables {unused} are used by no element", field="tables")
        t = self.type
        lo, hi = t.raw_bounds()
        for index in np.ndindex(*self.k.shape):
            table = self.tables[int(self.table_of[index])]
            low, high = int(table.min()), int(table.max())
            if low < lo[index] or high > hi[index]:
                raise SpecError(
                    f"table {int(self.table_of[index])} holds values in [{low}, {high}], outside "
                    f"the output type {t.element(index)} of element {list(index)} (raw range "
                    f"[{lo[index]}, {hi[index]}])",
                    field="tables",
                )

    @property
    def type(self) -> TensorType:
        """The declared output type."""
        return TensorType(self.k, self.i, self.f)

    def table(self, index: int | tuple[int, ...]) -> np.ndarray:
        """The entries of element ``index``'s table."""
        index = (index,) if isinstance(index, int | np.integer) else tuple(index)
        return self.tables[int(self.table_of[index])]

    def output_shape(self, input_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        (shape,) = input_shapes
        if shape != tuple(self.k.shape):
            raise SpecError(
                f"input {self.inputs[0]!r} has shape {list(shape)} but the per-element tables "
                f"have shape {list(self.k.shape)}",
                field="table_of",
            )
        return shape


def _spatial_input(
    layer: LayerSpec, shape: tuple[int, ...], n_spatial: int, field: str
) -> tuple[int, ...]:
    """The spatial part of a channels-last input shape ``(*spatial, channels)``."""
    if len(shape) != n_spatial + 1:
        raise SpecError(
            f"input {layer.inputs[0]!r} has shape {list(shape)} but the window has {n_spatial} "
            f"spatial dimension(s) (expected a channels-last shape of {n_spatial + 1} dimensions)",
            field=field,
        )
    return shape[:-1]


@dataclass(frozen=True, eq=False, kw_only=True)
class ConvSpec(LayerSpec):
    """A Conv1D / Conv2D over a channels-last tensor (Keras semantics, no dilation), exact.

    ``kernel_raw`` and ``kernel_f`` have shape ``(*window, c_in, c_out)`` with one or two spatial
    dimensions; weight ``[d, ci, co]`` is ``kernel_raw * 2**-kernel_f`` (raw 0: pruned). The
    input has shape ``(*spatial, c_in)``, the output ``(*out, c_out)`` with ``out`` from
    :func:`window_geometry`, and ``y[o, co] = sum_{d, ci} x[o*s + d - lo, ci] * K[d, ci, co] +
    b[co]`` where ``lo`` are the zeros padded before (``x`` outside the input is 0).
    """

    kernel_raw: np.ndarray
    kernel_f: np.ndarray
    bias_raw: np.ndarray
    bias_f: np.ndarray
    strides: tuple[int, ...]
    padding: Padding

    kind: ClassVar[str] = "Conv"
    _codecs: ClassVar[dict[str, _Codec]] = {
        "kernel_raw": _int_array(None),
        "kernel_f": _int_array(None),
        "bias_raw": _int_array(1),
        "bias_f": _int_array(1),
        "strides": _SIZES,
        "padding": _PADDING,
    }

    def _check(self) -> None:
        shape = self.kernel_raw.shape
        if len(shape) not in (3, 4):
            raise SpecError(
                f"expected a kernel of shape (*window, c_in, c_out) with 1 or 2 spatial "
                f"dimensions, got shape {list(shape)}",
                field="kernel_raw",
            )
        if 0 in shape:
            raise SpecError(f"kernel shape {list(shape)} has no elements", field="kernel_raw")
        if any(w > MAX_EXTENT for w in shape[:-2]):
            raise SpecError(f"window sizes must be at most {MAX_EXTENT}", field="kernel_raw")
        expected = {"kernel_f": shape, "bias_raw": shape[-1:], "bias_f": shape[-1:]}
        for key, want in expected.items():
            got = getattr(self, key).shape
            if got != want:
                raise SpecError(
                    f"shape {list(got)} does not match kernel_raw shape {list(shape)} "
                    f"(expected {list(want)})",
                    field=key,
                )
        if len(self.strides) != len(shape) - 2:
            raise SpecError(
                f"{len(self.strides)} stride(s) for a kernel of {len(shape) - 2} spatial "
                "dimension(s)",
                field="strides",
            )
        _check_exponents_and_raw(self, ("kernel_f", "bias_f"), ("kernel_raw", "bias_raw"))

    @property
    def window(self) -> tuple[int, ...]:
        return tuple(int(w) for w in self.kernel_raw.shape[:-2])

    @property
    def c_in(self) -> int:
        return int(self.kernel_raw.shape[-2])

    @property
    def c_out(self) -> int:
        return int(self.kernel_raw.shape[-1])

    def output_shape(self, input_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        (shape,) = input_shapes
        spatial = _spatial_input(self, shape, len(self.window), "kernel_raw")
        if shape[-1] != self.c_in:
            raise SpecError(
                f"input {self.inputs[0]!r} has {shape[-1]} channels but the kernel reads "
                f"{self.c_in}",
                field="kernel_raw",
            )
        out, _ = window_geometry(spatial, self.window, self.strides, self.padding)
        return (*out, self.c_out)


@dataclass(frozen=True, eq=False, kw_only=True)
class _PoolSpec(LayerSpec):
    """Shared fields of the pooling layers: a window of ``pool_size`` moved by ``strides`` over
    the spatial dimensions of a channels-last tensor, each channel on its own. Only ``"valid"``
    padding in this version."""

    pool_size: tuple[int, ...]
    strides: tuple[int, ...]
    padding: Padding = Padding.VALID

    _codecs: ClassVar[dict[str, _Codec]] = {
        "pool_size": _SIZES,
        "strides": _SIZES,
        "padding": _PADDING,
    }

    def _check(self) -> None:
        if len(self.pool_size) not in (1, 2):
            raise SpecError(
                f"expected 1 or 2 spatial dimensions, got pool_size {list(self.pool_size)}",
                field="pool_size",
            )
        if len(self.strides) != len(self.pool_size):
            raise SpecError(
                f"{len(self.strides)} stride(s) for a window of {len(self.pool_size)} spatial "
                "dimension(s)",
                field="strides",
            )
        if self.padding is not Padding.VALID:
            raise SpecError(
                f"{self.kind} supports only 'valid' padding in this version, got "
                f"{self.padding.value!r}",
                field="padding",
            )

    @property
    def window(self) -> tuple[int, ...]:
        return self.pool_size

    def output_shape(self, input_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        (shape,) = input_shapes
        spatial = _spatial_input(self, shape, len(self.pool_size), "pool_size")
        out, _ = window_geometry(spatial, self.pool_size, self.strides, self.padding)
        return (*out, shape[-1])


@dataclass(frozen=True, eq=False, kw_only=True)
class MaxPoolSpec(_PoolSpec):
    """Per channel, the exact maximum over each window (MaxPooling1D / MaxPooling2D)."""

    kind: ClassVar[str] = "MaxPool"


@dataclass(frozen=True, eq=False, kw_only=True)
class AvgPoolSpec(_PoolSpec):
    """Per channel, the exact mean over each window: the window sum times ``2**-log2(n)`` where
    ``n = prod(pool_size)`` must be a power of two (no rounding: ``f`` grows by ``log2(n)``; a
    Requantize layer after it rounds, like every other quantizer)."""

    kind: ClassVar[str] = "AvgPool"

    def _check(self) -> None:
        super()._check()
        n = int(np.prod(self.pool_size))
        if n & (n - 1):
            raise SpecError(
                f"the window size prod(pool_size) = {n} is not a power of two (an average "
                "is exact only as a shift)",
                field="pool_size",
            )

    @property
    def shift(self) -> int:
        """``log2(prod(pool_size))``: the fractional bits the average adds to the sum."""
        return int(np.prod(self.pool_size)).bit_length() - 1


@dataclass(frozen=True, eq=False, kw_only=True)
class ReshapeSpec(LayerSpec):
    """The same elements in C (row-major) order under a new ``shape`` (one sample): Keras
    ``Flatten`` is a Reshape to ``[n]``. Values and per-element types move with the elements."""

    shape: tuple[int, ...]

    kind: ClassVar[str] = "Reshape"
    _codecs: ClassVar[dict[str, _Codec]] = {"shape": _SIZES}

    def output_shape(self, input_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        (shape,) = input_shapes
        if math.prod(shape) != math.prod(self.shape):
            raise SpecError(
                f"input {self.inputs[0]!r} of shape {list(shape)} has {math.prod(shape)} "
                f"elements, shape {list(self.shape)} has {math.prod(self.shape)}",
                field="shape",
            )
        return self.shape


@dataclass(frozen=True, eq=False, kw_only=True)
class _ElementwiseMergeSpec(LayerSpec):
    """Two tensors of one shape combined element by element, exactly (no broadcasting)."""

    arity: ClassVar[int] = 2

    def output_shape(self, input_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        a, b = input_shapes
        if a != b:
            raise SpecError(
                f"inputs {self.inputs[0]!r} of shape {list(a)} and {self.inputs[1]!r} of shape "
                f"{list(b)} differ ({self.kind} reads two tensors of one shape)",
                field="inputs",
            )
        return a


@dataclass(frozen=True, eq=False, kw_only=True)
class AddSpec(_ElementwiseMergeSpec):
    """``y = a + b`` element-wise (Keras ``Add`` of two tensors), exact: ``f`` the larger of the
    operands' (live ones), ``k``/``i`` the smallest holding the sum's interval."""

    kind: ClassVar[str] = "Add"


@dataclass(frozen=True, eq=False, kw_only=True)
class SubtractSpec(_ElementwiseMergeSpec):
    """``y = a - b`` element-wise (``a`` the first input; Keras ``Subtract``), exact."""

    kind: ClassVar[str] = "Subtract"


@dataclass(frozen=True, eq=False, kw_only=True)
class MultiplySpec(_ElementwiseMergeSpec):
    """``y = a * b`` element-wise (Keras ``Multiply`` of two tensors): a product of two
    variables, exact, ``f = f_a + f_b``, ``k``/``i`` the smallest holding the product's
    interval (the constant 0 when either operand has width 0)."""

    kind: ClassVar[str] = "Multiply"


@dataclass(frozen=True, eq=False, kw_only=True)
class ConcatenateSpec(LayerSpec):
    """The two inputs joined along ``axis`` (Keras ``Concatenate``; negative counts from the
    end): every other dimension must agree. Values and per-element types move with the
    elements; over the flattened C-order tensors it is wiring."""

    axis: int = -1

    kind: ClassVar[str] = "Concatenate"
    arity: ClassVar[int] = 2
    _codecs: ClassVar[dict[str, _Codec]] = {"axis": _AXIS}

    def resolved_axis(self, ndim: int) -> int:
        """``axis`` as an index into a shape of ``ndim`` dimensions (SpecError if outside)."""
        if not -ndim <= self.axis < ndim:
            raise SpecError(
                f"axis {self.axis} is outside the inputs' {ndim} dimension(s)", field="axis"
            )
        return self.axis % ndim

    def output_shape(self, input_shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        a, b = input_shapes
        if len(a) != len(b):
            raise SpecError(
                f"inputs {self.inputs[0]!r} of shape {list(a)} and {self.inputs[1]!r} of shape "
                f"{list(b)} differ in their number of dimensions",
                field="inputs",
            )
        axis = self.resolved_axis(len(a))
        if a[:axis] + a[axis + 1 :] != b[:axis] + b[axis + 1 :]:
            raise SpecError(
                f"inputs {self.inputs[0]!r} of shape {list(a)} and {self.inputs[1]!r} of shape "
                f"{list(b)} differ outside axis {self.axis}",
                field="inputs",
            )
        return (*a[:axis], a[axis] + b[axis], *a[axis + 1 :])


_VERSION_1_KINDS = frozenset({"Input", "Dense", "Requantize", "ReLU", "Output"})

LAYER_KINDS: dict[str, type[LayerSpec]] = {
    cls.kind: cls
    for cls in (
        InputSpec,
        DenseSpec,
        RequantizeSpec,
        ReLUSpec,
        OutputSpec,
        ConvSpec,
        MaxPoolSpec,
        AvgPoolSpec,
        ReshapeSpec,
        TableSpec,
        AddSpec,
        SubtractSpec,
        MultiplySpec,
        ConcatenateSpec,
    )
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
    version: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _MODEL_NAME.python(self.name, "name"))
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "metadata", dict(self.metadata))
        self._validate_metadata()
        self._validate_version()
        self._validate_graph()

    def _validate_version(self) -> None:
        """``version`` (None: the lowest that fits) must express every layer."""
        required = self.required_version
        version = required if self.version is None else self.version
        if isinstance(version, bool) or not isinstance(version, int):
            raise SpecError(f"expected an integer schema version, got {version!r}", field="version")
        if not 1 <= version <= SCHEMA_VERSION:
            raise SpecError(
                f"schema version {version} is not one of 1..{SCHEMA_VERSION}", field="version"
            )
        if version < required:
            for layer in self.layers:
                if not isinstance(layer, LayerSpec):
                    continue
                needs, key = layer.schema_version()
                if needs > version:
                    what = (
                        f"a {layer.kind} layer"
                        if key == "kind"
                        else f"an N-d tensor ({key} of shape {list(getattr(layer, key).shape)})"
                    )
                    raise SpecError(
                        f"{what} needs schema version {needs}, but the spec says version "
                        f"{version} (schema version 1 tensors are 1-d and its kinds are "
                        f"{', '.join(sorted(_VERSION_1_KINDS))})",
                        layer=layer.name,
                        field=key,
                    )
        object.__setattr__(self, "version", version)

    def _validate_metadata(self) -> None:
        """The metadata keys later stages read: ``seed`` an integer, ``dataset`` a string."""
        for key, kind, what in (("seed", int, "an integer"), ("dataset", str, "a string")):
            if key not in self.metadata:
                continue
            value = self.metadata[key]
            if isinstance(value, bool) or not isinstance(value, kind):
                raise SpecError(
                    f"expected {what}, got {type(value).__name__} {str(value)[:40]!r}",
                    field=f"metadata.{key}",
                )

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
                    "only one Input layer is supported",
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

    def live_names(self) -> set[str]:
        """Names of the layers whose tensor reaches the Output (the Input and Output included)."""
        by_name = {layer.name: layer for layer in self.layers}
        live: set[str] = set()
        todo = [self.output.name]
        while todo:
            name = todo.pop()
            if name not in live:
                live.add(name)
                todo.extend(by_name[name].inputs)
        return live

    @property
    def required_version(self) -> int:
        """The lowest schema version that expresses this spec (what :func:`dumps` writes): 1
        for version-1 kinds over 1-d tensors, else 2. ``version`` is the one declared (read
        from the file, or given; by default this one)."""
        versions = [lay.schema_version()[0] for lay in self.layers if isinstance(lay, LayerSpec)]
        return max(versions, default=1)

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
            "version": self.required_version,
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
            name=_MODEL_NAME.decode(obj["name"], "name"),
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


def _cap(value: int | None, env_var: str, default: int) -> int:
    if value is None:
        raw = os.environ.get(env_var, "")
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SpecError(f"${env_var} must be a positive integer, got {raw!r}") from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        arg = "max_bytes" if env_var.endswith("BYTES") else "max_depth"
        raise SpecError(f"{arg} must be a positive integer, got {value!r}")
    return value


_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET_RE = re.compile(r"[\[\]{}]")


def _nesting_depth(text: str) -> int:
    """Deepest nesting of ``[`` / ``{`` outside strings (for a well-formed JSON text)."""
    depth = deepest = 0
    for match in _BRACKET_RE.finditer(_STRING_RE.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise SpecError(f"duplicate key {key!r} in a JSON object", field=key)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise SpecError(f"{name} is not a JSON number (write a finite number or a string)")


def loads(
    text: str,
    *,
    source: str = "<string>",
    max_bytes: int | None = None,
    max_depth: int | None = None,
) -> ModelSpec:
    """Parse JSON text; every problem is a :class:`SpecError` naming ``source``.

    Refused besides the schema's own checks: text over ``max_bytes`` UTF-8 bytes (default
    :data:`MAX_BYTES` or ``$HGQ_SPEC_MAX_BYTES``), nesting deeper than ``max_depth`` (default
    :data:`MAX_DEPTH` or ``$HGQ_SPEC_MAX_DEPTH``), duplicate keys in any object, ``NaN`` /
    ``Infinity`` and integers over Python's digit limit.
    """
    try:
        limit = _cap(max_bytes, "HGQ_SPEC_MAX_BYTES", MAX_BYTES)
        depth_limit = _cap(max_depth, "HGQ_SPEC_MAX_DEPTH", MAX_DEPTH)
        if not isinstance(text, str):
            raise SpecError(f"expected JSON text (str), got {type(text).__name__}")
        size = len(text.encode("utf-8", errors="surrogatepass"))
        if size > limit:
            raise SpecError(
                f"{size} bytes is over the {limit}-byte cap on spec files (raise it with "
                "$HGQ_SPEC_MAX_BYTES)"
            )
        depth = _nesting_depth(text)
        if depth > depth_limit:
            raise SpecError(
                f"JSON nested {depth} levels deep, over the cap of {depth_limit} (a spec needs "
                "5; raise it with $HGQ_SPEC_MAX_DEPTH)"
            )
        try:
            obj = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        except json.JSONDecodeError as err:
            raise SpecError(f"not valid JSON: {err}") from None
        except RecursionError:
            raise SpecError("JSON nested too deeply to parse") from None
        except SpecError:
            raise
        except ValueError as err:  # e.g. an integer over the interpreter's digit limit
            raise SpecError(f"not valid JSON: {err}") from None
        return ModelSpec.from_json(obj)
    except SpecError as err:
        raise err.located(file=source) from None


def save(spec: ModelSpec, path: str | os.PathLike[str]) -> Path:
    """Write ``spec`` to ``path`` (JSON); ``load(save(s)) == s``."""
    path = Path(path)
    atomic.write_text(path, dumps(spec))
    return path


def load(
    path: str | os.PathLike[str], *, max_bytes: int | None = None, max_depth: int | None = None
) -> ModelSpec:
    """Read a spec file (UTF-8 JSON), validating every field (see :class:`SpecError` and
    :func:`loads` for the caps on size and nesting)."""
    path = Path(path)
    try:
        limit = _cap(max_bytes, "HGQ_SPEC_MAX_BYTES", MAX_BYTES)
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except SpecError as err:
        raise err.located(file=path) from None
    except OSError as err:
        raise SpecError(f"cannot read: {err.strerror or err}", file=path) from None
    if len(data) > limit:
        raise SpecError(
            f"over the {limit}-byte cap on spec files (raise it with $HGQ_SPEC_MAX_BYTES)",
            file=path,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SpecError(
            f"not UTF-8 text (byte {err.start} is {data[err.start : err.start + 1]!r})", file=path
        ) from None
    return loads(text, source=str(path), max_bytes=limit, max_depth=max_depth)


def kif_from(types: Iterable[tuple[int, int, int]] | TensorType) -> dict[str, np.ndarray]:
    """``k``, ``i``, ``f`` keyword arguments for an Input/Requantize layer from a TensorType."""
    if isinstance(types, TensorType):
        return {"k": types.k, "i": types.i, "f": types.f}
    arr = np.asarray(list(types), dtype=np.int64)
    return {"k": arr[:, 0], "i": arr[:, 1], "f": arr[:, 2]}
