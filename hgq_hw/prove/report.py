"""What ``hgq prove`` found: one :class:`ProofResult` per layer (or column), typed, as JSON.

``prove.json`` is a :class:`ProveReport`: ``{"format": "hgqflow-prove-report", "version": 1,
"spec": ..., "options": {...}, "results": [...]}``; :meth:`ProveReport.read` checks every field
(``ValueError`` naming the file and the field). :func:`format_table` is the one human table.
"""

from __future__ import annotations

import enum
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "NETWORK",
    "PROVE_JSON",
    "REPORT_FORMAT",
    "Counterexample",
    "ProofResult",
    "ProveReport",
    "Verdict",
    "format_table",
]

REPORT_FORMAT = "hgqflow-prove-report"
PROVE_JSON = "prove.json"
NETWORK = "<network>"
"""``ProofResult.target`` of the whole-network proof."""


class Verdict(enum.Enum):
    """How one proof ended."""

    PROVEN = "proven"
    """The generated hardware equals the reference for every input."""
    COUNTEREXAMPLE = "counterexample"
    """An input on which they differ (see :class:`Counterexample`)."""
    TIMEOUT = "timeout"
    """The solver passed its time limit: nothing is known."""


@dataclass(frozen=True)
class Counterexample:
    """Raw integer input elements of the proved module (``inputs``), the output elements the
    integer reference (:mod:`hgq_hw.reference`) gives for them (``expected``) and those of the
    generated hardware (``generated``); ``columns``: the output elements that differ.
    ``sequence``: the input bus word of every unrolled step (``inputs`` is the first)."""

    inputs: list[int]
    expected: list[int]
    generated: list[int]
    columns: list[int]
    sequence: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "expected": self.expected,
            "generated": self.generated,
            "columns": self.columns,
            "sequence": self.sequence,
        }

    @classmethod
    def from_json(cls, obj: Any, what: str) -> Counterexample:
        fields = _take(obj, ("inputs", "expected", "generated", "columns", "sequence"), what)
        return cls(**{k: _ints(v, f"{what}.{k}") for k, v in fields.items()})


@dataclass(frozen=True)
class ProofResult:
    """One proof: ``target`` (a layer name, or ``"<network>"``), its ``kind``, ``column``
    (the output element proved alone, or None for all of them), ``verdict``, ``seconds``,
    the module's ``latency`` (cycles unrolled), ``adders`` and ``in_bits`` / ``out_bits``."""

    target: str
    kind: str
    column: int | None
    verdict: Verdict
    seconds: float
    latency: int
    adders: int
    in_bits: int
    out_bits: int
    counterexample: Counterexample | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "kind": self.kind,
            "column": self.column,
            "verdict": self.verdict.value,
            "seconds": round(self.seconds, 3),
            "latency": self.latency,
            "adders": self.adders,
            "in_bits": self.in_bits,
            "out_bits": self.out_bits,
            "counterexample": None
            if self.counterexample is None
            else self.counterexample.to_json(),
        }

    @classmethod
    def from_json(cls, obj: Any, what: str) -> ProofResult:
        keys = ("target", "kind", "column", "verdict", "seconds", "latency", "adders")
        fields = _take(obj, (*keys, "in_bits", "out_bits", "counterexample"), what)
        for key in ("target", "kind"):
            if not isinstance(fields[key], str):
                raise ValueError(f"{what}.{key}: expected a string")
        try:
            verdict = Verdict(fields["verdict"])
        except ValueError:
            raise ValueError(
                f"{what}.verdict: {fields['verdict']!r} is not one of {[v.value for v in Verdict]}"
            ) from None
        column = fields["column"]
        if column is not None:
            column = _int(column, f"{what}.column")
        seconds = fields["seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ValueError(f"{what}.seconds: expected a number >= 0")
        cex = fields["counterexample"]
        return cls(
            target=fields["target"],
            kind=fields["kind"],
            column=column,
            verdict=verdict,
            seconds=float(seconds),
            **{
                k: _int(fields[k], f"{what}.{k}")
                for k in ("latency", "adders", "in_bits", "out_bits")
            },
            counterexample=None
            if cex is None
            else Counterexample.from_json(cex, f"{what}.counterexample"),
        )


@dataclass(frozen=True)
class ProveReport:
    """Every proof of one ``hgq prove`` run, in the order they ran; ``not_run`` names those
    its time budget left out (``"<layer>"``, ``"<layer> column <n>"`` or ``"<network>"``)."""

    spec: str
    options: dict[str, Any]
    results: tuple[ProofResult, ...]
    not_run: tuple[str, ...] = ()

    @property
    def proven(self) -> bool:
        """True when every proof ran and ended :attr:`Verdict.PROVEN`."""
        return not self.not_run and all(r.verdict is Verdict.PROVEN for r in self.results)

    def counterexamples(self) -> list[ProofResult]:
        return [r for r in self.results if r.verdict is Verdict.COUNTEREXAMPLE]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "version": 1,
            "spec": self.spec,
            "options": dict(self.options),
            "results": [r.to_json() for r in self.results],
            "not_run": list(self.not_run),
        }

    def write(self, out_dir: str | os.PathLike[str]) -> Path:
        """Write ``out_dir/prove.json`` (through a temporary file renamed into place)."""
        path = Path(out_dir) / PROVE_JSON
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path

    @classmethod
    def from_json(cls, obj: Any, what: str = PROVE_JSON) -> ProveReport:
        keys = ("format", "version", "spec", "options", "results", "not_run")
        fields = _take(obj, keys, what)
        if fields["format"] != REPORT_FORMAT:
            raise ValueError(f"{what}: format is {fields['format']!r}, not {REPORT_FORMAT!r}")
        if fields["version"] != 1:
            raise ValueError(f"{what}: version {fields['version']!r} is not 1")
        if not isinstance(fields["spec"], str) or not isinstance(fields["options"], dict):
            raise ValueError(f"{what}: spec must be a string and options an object")
        if not isinstance(fields["results"], list):
            raise ValueError(f"{what}.results: expected a list")
        results = tuple(
            ProofResult.from_json(r, f"{what}.results[{n}]")
            for n, r in enumerate(fields["results"])
        )
        not_run = fields["not_run"]
        if not isinstance(not_run, list) or not all(isinstance(n, str) for n in not_run):
            raise ValueError(f"{what}.not_run: expected a list of strings")
        return cls(fields["spec"], dict(fields["options"]), results, tuple(not_run))

    @classmethod
    def read(cls, out_dir: str | os.PathLike[str]) -> ProveReport:
        """``out_dir/prove.json``, checked (``ValueError`` naming the file)."""
        path = Path(out_dir) / PROVE_JSON
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except OSError as err:
            raise ValueError(f"{path}: cannot read ({err.strerror or err})") from None
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from None
        return cls.from_json(obj, str(path))


def _take(obj: Any, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ValueError(f"{what}: expected a JSON object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - set(keys))
    missing = [k for k in keys if k not in obj]
    if unknown or missing:
        raise ValueError(f"{what}: unknown field(s) {unknown}, missing field(s) {missing}")
    return dict(obj)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what}: expected an integer, got {value!r}")
    return value


def _ints(value: Any, what: str) -> list[int]:
    if not isinstance(value, list):
        raise ValueError(f"{what}: expected a list of integers")
    return [_int(v, what) for v in value]


def _cells(r: ProofResult) -> tuple[str, ...]:
    verdict = r.verdict.value
    detail = ""
    if r.counterexample is not None:
        cex = r.counterexample
        cols = cex.columns[:3]
        shown = ", ".join(f"y[{c}] {cex.expected[c]} != {cex.generated[c]}" for c in cols)
        detail = f"x={cex.inputs}: expected/generated {shown}"
        if len(cex.columns) > 3:
            detail += f" (+{len(cex.columns) - 3} more)"
    return (
        r.target,
        r.kind,
        "all" if r.column is None else str(r.column),
        str(r.adders),
        str(r.latency),
        f"{r.seconds:.1f}",
        verdict,
        detail,
    )


def format_table(report: ProveReport) -> str:
    """One row per proof: target, kind, column, adders, latency, seconds, verdict, and for a
    counterexample its raw inputs with expected and generated outputs."""
    rows = [("target", "kind", "column", "adders", "latency", "s", "verdict", "")]
    rows += [_cells(r) for r in report.results]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if n == 0:
            lines.append("  " + "  ".join("-" * w for w in widths[:-1]))
    counts = {v: sum(r.verdict is v for r in report.results) for v in Verdict}
    lines.append(
        "  " + ", ".join(f"{n} {v.value}" for v, n in counts.items()) + f" of {len(report.results)}"
    )
    if report.not_run:
        lines.append(f"  not run (time budget spent): {', '.join(report.not_run)}")
    return "\n".join(lines)
