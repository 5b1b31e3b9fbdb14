"""Typed reports: every JSON file that one stage writes and another reads is a checked dataclass.

:class:`Record` is the base: a frozen dataclass whose fields have JSON-able type hints
(``int``, ``float``, ``str``, ``bool``, ``X | None``, ``list[X]``, ``tuple[X, ...]``,
``dict[str, X]``, another :class:`Record`, or ``Any`` for free JSON). :meth:`Record.from_dict`
refuses unknown fields, missing fields and wrong types with a :class:`ReportError` naming the
file and the field path (``layers[2].adders``), as :mod:`hgq_hw.spec` does for specs; a field
declared with :data:`OPTIONAL` metadata may be absent, and is then left out again by
:meth:`Record.to_dict`, so a file round-trips to the same JSON, key order included.

The reports:

* :class:`GenReport`: ``report.json`` of ``hgq gen`` (:mod:`hgq_hw.emit`), with the entries
  ``hgq synth`` adds under ``synth`` (:class:`SynthEntry`, one per target).
* :class:`BoardBuildReport`: ``report.json`` of ``hgq build`` (:mod:`boards.build`).

Standard library only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from hgq_hw import atomic

__all__ = [
    "BOARD_BUILD_FORMAT",
    "GEN_FORMAT",
    "OPTIONAL",
    "BelUse",
    "BoardBuildReport",
    "BoardTiming",
    "GenLayer",
    "GenOptions",
    "GenReport",
    "LayoutField",
    "PnrInfo",
    "Port",
    "Record",
    "ReportError",
    "ResourceEstimate",
    "SynthEntry",
    "SynthResources",
    "WordLayout",
    "spec_digest",
]

GEN_FORMAT = "hgqflow-hw-report"
BOARD_BUILD_FORMAT = "hgqflow-board-build"

R = TypeVar("R", bound="Record")
_OPTIONAL = "hgq_optional"


class ReportError(ValueError):
    """A report that cannot be trusted: names the file and the field, and what was wrong."""

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None):
        self.message, self.file, self.field = message, file, field
        where = ", ".join(
            part
            for part in (file, None if field is None else f"field {field!r}")
            if part is not None
        )
        super().__init__(f"{where}: {message}" if where else message)


OPTIONAL: dict[str, bool] = {_OPTIONAL: True}
"""Field metadata of a field that may be absent from the JSON: declare it as
``name: X | None = field(default=None, metadata=OPTIONAL)``; None is then not written."""


def _is_optional(f: dataclasses.Field) -> bool:
    return bool(f.metadata.get(_OPTIONAL))


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return key if not path else f"{path}.{key}"


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _decode(value: Any, hint: Any, path: str) -> Any:
    """``value`` (parsed JSON) checked against ``hint``; ReportError(field=path) otherwise."""
    if hint is Any:
        return value
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return _decode(value, option, path)
            except ReportError as err:
                errors.append(err)
        if len(options) == 1:
            raise errors[0]
        raise ReportError(
            f"expected {' or '.join(_type_name(a) for a in args)}, got {type(value).__name__}",
            field=path,
        )
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise ReportError(f"expected a list, got {type(value).__name__}", field=path)
        item = args[0] if args else Any
        items = [_decode(v, item, _join(path, n)) for n, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ReportError(f"expected an object, got {type(value).__name__}", field=path)
        item = args[1] if len(args) == 2 else Any
        return {str(k): _decode(v, item, _join(path, str(k))) for k, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, Record):
        return hint._from_dict(value, path)
    if hint is bool:
        if not isinstance(value, bool):
            raise ReportError(f"expected true/false, got {value!r}", field=path)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ReportError(f"expected an integer, got {value!r}", field=path)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ReportError(f"expected a number, got {value!r}", field=path)
        return value  # an int stays an int, so the file round-trips exactly
    if hint is str:
        if not isinstance(value, str):
            raise ReportError(f"expected a string, got {value!r}", field=path)
        return value
    raise TypeError(f"report field {path!r}: unsupported type hint {hint!r}")


def _encode(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Record:
    """Base of the typed reports: checked ``from_dict`` / ``to_dict`` and ``load`` / ``save``.

    A subclass may set ``FORMAT`` (and ``VERSION``): :meth:`load` then requires the file's
    ``format`` field to equal it and its ``version`` not to be newer.
    """

    FORMAT: ClassVar[str | None] = None
    VERSION: ClassVar[int] = 1

    @classmethod
    def _hints(cls) -> dict[str, Any]:
        cached = cls.__dict__.get("_hint_cache")
        if cached is None:
            cached = typing.get_type_hints(cls)
            cls._hint_cache = cached  # type: ignore[attr-defined]
        return cached

    @classmethod
    def _from_dict(cls: type[R], data: Any, path: str) -> R:
        if not isinstance(data, dict):
            raise ReportError(
                f"expected an object for {cls.__name__}, got {type(data).__name__}", field=path
            )
        fields = dataclasses.fields(cls)
        known = {f.name for f in fields}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ReportError(
                f"unknown field(s) {unknown} in {cls.__name__} (known: {sorted(known)})",
                field=path or None,
            )
        hints = cls._hints()
        values = {}
        for f in fields:
            where = _join(path, f.name)
            if f.name not in data:
                if _is_optional(f):
                    continue
                raise ReportError(f"missing required field of {cls.__name__}", field=where)
            values[f.name] = _decode(data[f.name], hints[f.name], where)
        return cls(**values)

    @classmethod
    def from_dict(cls: type[R], data: Any) -> R:
        """The record of parsed JSON ``data`` (:class:`ReportError` naming the field path)."""
        record = cls._from_dict(data, "")
        record._check_format(None)
        return record

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, fields in declaration order; absent optional fields left out."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and _is_optional(f):
                continue
            out[f.name] = _encode(value)
        return out

    def _check_format(self, file: str | None) -> None:
        fmt = self.FORMAT
        if fmt is None:
            return
        got = getattr(self, "format", None)
        if got != fmt:
            raise ReportError(f"expected format {fmt!r}, got {got!r}", file=file, field="format")
        version = getattr(self, "version", None)
        if isinstance(version, int) and version > self.VERSION:
            raise ReportError(
                f"written by a newer hgqflow (version {version}; this one reads up to "
                f"{self.VERSION}): upgrade hgqflow",
                file=file,
                field="version",
            )

    @classmethod
    def loads(cls: type[R], text: str, *, file: str | None = None) -> R:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ReportError(f"not valid JSON: {err}", file=file) from None
        try:
            record = cls._from_dict(data, "")
        except ReportError as err:
            raise ReportError(err.message, file=file, field=err.field) from None
        record._check_format(file)
        return record

    @classmethod
    def load(cls: type[R], path: str | os.PathLike[str]) -> R:
        """Read and check the JSON file ``path`` (:class:`ReportError` naming file and field)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ReportError("not found", file=str(path)) from None
        return cls.loads(text, file=str(path))

    def dumps(self) -> str:
        """``json.dumps(self.to_dict(), indent=2)`` plus a newline (the files' formatting)."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def save(self, path: str | os.PathLike[str]) -> Path:
        path = Path(path)
        atomic.write_text(path, self.dumps())
        return path

    def replace(self: R, **changes: Any) -> R:
        return dataclasses.replace(self, **changes)


# -- hgq gen: report.json -----------------------------------------------------------------


def spec_digest(spec: Any) -> str:
    """The ``spec_digest`` of a :class:`GenReport`: the SHA-256 (hex) of the layers of
    ``spec`` (a :class:`hgq_hw.spec.ModelSpec`) as canonical JSON (sorted keys, no spaces).
    The spec's name and metadata are left out: they do not change the hardware."""
    layers = spec.to_json()["layers"]
    text = json.dumps(layers, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class GenOptions(Record):
    pipeline_levels: int
    depth_slack: int | None


@dataclass(frozen=True)
class Port(Record):
    name: str
    direction: str
    width: int


@dataclass(frozen=True)
class LayoutField(Record):
    """One element of a bus word: its index in the tensor, bit offset, width, signedness."""

    element: list[int]
    offset: int
    width: int
    signed: bool


@dataclass(frozen=True)
class WordLayout(Record):
    width: int
    layout: list[LayoutField]


@dataclass(frozen=True)
class GenLayer(Record):
    """One row of ``layers``; ``weights_kept`` / ``weights`` only for Dense layers."""

    layer: str
    kind: str
    elements: int
    out_bits: int
    latency: int
    registers: int
    adders: int
    adder_depth: int
    adder_bits: int
    weights_kept: int | None = field(default=None, metadata=OPTIONAL)
    weights: int | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class SynthResources(Record):
    """The network's cells counted as LUTs, flip-flops and carry cells."""

    luts: int
    ffs: int
    carry: int


@dataclass(frozen=True)
class BelUse(Record):
    """nextpnr's used / available bels of one type (``percent``: board reports only)."""

    used: int
    available: int
    percent: int | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class PnrInfo(Record):
    """Place and route of one ``hgq synth`` entry: bare or inside the serial wrapper."""

    wrapped: bool
    port_bits: int
    pins: int
    serial_bits: int | None = field(default=None, metadata=OPTIONAL)
    wrapper: str | None = field(default=None, metadata=OPTIONAL)
    resources: SynthResources | None = field(default=None, metadata=OPTIONAL)
    cells: dict[str, int] | None = field(default=None, metadata=OPTIONAL)
    utilisation: dict[str, BelUse] | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class SynthEntry(Record):
    """``report["synth"][target]`` written by ``hgq synth`` (:func:`hgq_hw.synth.synthesize`).

    ``resources`` / ``cells`` are the network's own (Yosys); the place-and-route fields are
    absent for xc7. ``timing_met`` is None (with ``pnr_error``) when nextpnr gave no timing.
    ``device`` (the :data:`hgq_hw.toolchain.DEVICES` key) is absent in files written before
    the device table.
    """

    resources: SynthResources
    cells: dict[str, int]
    logs: list[str]
    clock_mhz: float | None = field(default=None, metadata=OPTIONAL)
    fmax_mhz: float | None = field(default=None, metadata=OPTIONAL)
    timing_met: bool | None = field(default=None, metadata=OPTIONAL)
    nextpnr_exit: int | None = field(default=None, metadata=OPTIONAL)
    pnr: PnrInfo | None = field(default=None, metadata=OPTIONAL)
    pnr_error: str | None = field(default=None, metadata=OPTIONAL)
    device: str | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class GenReport(Record):
    """``report.json`` of ``hgq gen`` (exactly the fields :func:`hgq_hw.emit.build` writes),
    plus ``synth`` once ``hgq synth`` ran (absent before).

    ``spec_digest`` (:func:`spec_digest` of the spec it was generated from) is absent in files
    written before it was recorded; :meth:`check_spec` then compares the spec's name only."""

    FORMAT: ClassVar[str | None] = GEN_FORMAT

    format: str
    version: int
    name: str
    spec: str
    verilog: str
    options: GenOptions
    generator: dict[str, str]
    latency: int
    registers: int
    adders: int
    adder_depth: int
    adder_bits: int
    ports: list[Port]
    input: WordLayout
    output: WordLayout
    layers: list[GenLayer]
    spec_digest: str | None = field(default=None, metadata=OPTIONAL)
    synth: dict[str, SynthEntry] | None = field(default=None, metadata=OPTIONAL)
    stream: Any = field(default=None, metadata=OPTIONAL)
    """Stream-mode designs only (``hgq gen --io stream``): ii, input gap, buffer bits, stages
    (:meth:`hgq_hw.stream.StreamNetworkPlan.report`); ``input`` is then one pixel's layout."""

    def check_parallel(self, out_dir: str | os.PathLike[str], tool: str) -> None:
        """Raise ``ValueError`` when this is a stream-mode design, which ``tool`` cannot take
        yet (it feeds whole samples)."""
        if self.stream is not None:
            raise ValueError(
                f"design folder {out_dir} holds a stream-mode design (hgq gen --io stream, one "
                f"pixel per cycle); {tool} takes fully unrolled designs only: regenerate it "
                "with --io parallel"
            )

    def check_spec(self, spec: Any, out_dir: str | os.PathLike[str]) -> None:
        """Raise :class:`~hgq_hw.errors.DesignMismatchError` when this report (of the folder
        ``out_dir``) was generated from another spec than ``spec``: another
        :func:`spec_digest` or, in a report without one, another spec name."""
        from hgq_hw.errors import DesignMismatchError

        if self.spec_digest is not None:
            if self.spec_digest == spec_digest(spec):
                return
            source = f"spec {self.spec!r}" if self.spec != spec.name else "another spec"
            how = f"{source} (its report.json records another spec_digest)"
        elif self.spec != spec.name:
            how = f"spec {self.spec!r}"
        else:
            return
        raise DesignMismatchError(
            f"design folder {out_dir} was generated from {how}, not from spec {spec.name!r}: "
            f"regenerate it with 'hgq gen SPEC -o {out_dir}' or give the spec it was made from"
        )

    @property
    def port_bits(self) -> int:
        """Pins the bare network needs: the total width of its ports."""
        return sum(p.width for p in self.ports)

    def port_width(self, name: str) -> int:
        """Width of port ``name`` (0 when the network has no such port, e.g. a width-0 word)."""
        return next((p.width for p in self.ports if p.name == name), 0)

    def with_synth(self, target: str, entry: SynthEntry) -> GenReport:
        """This report with ``synth[target]`` set (other targets kept, in their order)."""
        synth = dict(self.synth or {})
        synth[target] = entry
        return self.replace(synth=synth)

    @classmethod
    def read(cls, out_dir: str | os.PathLike[str]) -> GenReport:
        """``out_dir/report.json`` (:class:`ReportError`, a ``ValueError``, when absent)."""
        path = Path(out_dir) / "report.json"
        if not path.is_file():
            raise ReportError(f"not found: run 'hgq gen SPEC -o {out_dir}' first", file=str(path))
        return cls.load(path)

    def write(self, out_dir: str | os.PathLike[str]) -> Path:
        return self.save(Path(out_dir) / "report.json")


# -- hgq build: report.json ---------------------------------------------------------------


@dataclass(frozen=True)
class ResourceEstimate(Record):
    """Resources a board design is expected to take (``source`` ``"estimate"``: from the
    generator, before synthesis) or takes (``"yosys"``: Yosys' cells, before packing)."""

    luts: int
    ffs: int
    brams: int
    source: str


@dataclass(frozen=True)
class BoardTiming(Record):
    """Fmax of the board clock after routing, its target and whether it was met."""

    clock: str
    fmax_mhz: float
    target_mhz: float
    timing_met: bool


@dataclass(frozen=True)
class BoardBuildReport(Record):
    """``report.json`` of ``hgq build`` (:func:`boards.build.build_board`)."""

    FORMAT: ClassVar[str | None] = BOARD_BUILD_FORMAT

    format: str
    version: int
    board: str
    device: str
    top: str
    spec: str
    name: str
    bitstream: str
    clock_mhz: float
    baud: int
    uart_divisor: int
    latency: int
    in_width: int
    out_width: int
    vectors: int | None
    seed: int
    pipeline_levels: int
    estimate: ResourceEstimate
    synthesis: ResourceEstimate | None
    utilisation: dict[str, BelUse]
    timing: BoardTiming | None
    stage_seconds: dict[str, float]
    seconds: float
    part: str | None = field(default=None, metadata=OPTIONAL)
    """The :data:`hgq_hw.toolchain.DEVICES` key (absent in files from before the table)."""
    io: str | None = field(default=None, metadata=OPTIONAL)
    """``parallel`` or ``stream`` (absent in files from before stream tops: parallel)."""
    ii: int | None = field(default=None, metadata=OPTIONAL)
    """A stream design's initiation interval, cycles per image (``in_width`` is a pixel's)."""
