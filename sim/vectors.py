"""Test vectors for a spec: random, corner, overflow-edge and dataset inputs with expected outputs.

:func:`build_vectors` returns a :class:`VectorSet`: raw inputs, the reference's raw outputs, both
packed as bus words (:class:`hgq_hw.layout.BusLayout`), and where each vector came from. The
cocotb testbench only replays and compares; every expected value comes from
:func:`hgq_hw.reference.evaluate`.

Overflow edges: every element of every ``Requantize`` layer has four edge classes: the value
just below its range, exactly its minimum, exactly its maximum, just above its range (after
rounding). Random candidates plus targeted single-element extremes are scored against those
classes with the reference, and a greedy cover keeps the fewest vectors that hit the most
classes; :attr:`VectorSet.edge_coverage` reports how many of the reachable classes were hit.

Table entries: every entry of every small table (at most :data:`SMALL_TABLE` entries) of
every ``Table`` element is a class, hit by a vector whose value at that element's input
selects the entry. Candidates are random and skewed inputs plus *sweeps* (vector ``n`` puts
every input element at ``raw_min + n`` modulo its range, so a table that reads the input,
directly or through a requantizer, sees all its entries within ``2**width`` vectors); a greedy
cover keeps at most ``limit`` of them (:func:`table_cover`); :attr:`VectorSet.table_coverage`
reports the classes hit and the total. A table behind a Dense layer may have entries that no
input reaches; the total counts them too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hgq_hw import atomic
from hgq_hw.inputs import random_raw
from hgq_hw.layout import BusLayout
from hgq_hw.reference import (
    evaluate,
    infer_types,
    input_bounds,
    overflow_edges,
    quantize_inputs,
)
from hgq_hw.spec import ModelSpec, TableSpec

__all__ = [
    "SMALL_TABLE",
    "VectorSet",
    "build_vectors",
    "corner_inputs",
    "edge_cover",
    "random_inputs",
    "sweep_inputs",
    "table_cover",
    "table_entry_hits",
]

SMALL_TABLE = 64
"""Tables of at most this many entries (6 input bits) have every entry covered."""


@dataclass
class VectorSet:
    """Inputs and expected outputs of one regression, in raw form and as bus words.

    ``x_raw`` / ``y_raw`` are flattened samples ``(n, size)`` in C order (an N-d spec's
    tensors given as ``(n, *shape)`` are flattened on construction), as the bus carries them."""

    spec: ModelSpec
    seed: int
    x_raw: np.ndarray
    y_raw: np.ndarray
    sources: list[str]
    edge_coverage: tuple[int, int] = (0, 0)
    """(edge classes hit, edge classes in total) over all requantizers."""
    table_coverage: tuple[int, int] = (0, 0)
    """(table entries hit, entries in total) over the small tables (:data:`SMALL_TABLE`)."""
    in_layout: BusLayout = field(init=False)
    out_layout: BusLayout = field(init=False)

    def __post_init__(self) -> None:
        types = infer_types(self.spec)
        self.x_raw = np.asarray(self.x_raw, dtype=object).reshape(len(self.x_raw), -1)
        self.y_raw = np.asarray(self.y_raw, dtype=object).reshape(len(self.y_raw), -1)
        self.in_layout = BusLayout.of(types[self.spec.input.name].flat())
        self.out_layout = BusLayout.of(types[self.spec.output.name].flat())

    def __len__(self) -> int:
        return len(self.x_raw)

    @property
    def in_words(self) -> list[int]:
        return self.in_layout.pack(self.x_raw)

    @property
    def out_words(self) -> list[int]:
        return self.out_layout.pack(self.y_raw)

    def to_json(self) -> dict[str, object]:
        """What the testbench needs: words, seed and per-vector sources."""
        return {
            "seed": self.seed,
            "inputs": [str(w) for w in self.in_words],
            "expected": [str(w) for w in self.out_words],
            "sources": self.sources,
            "in_width": self.in_layout.width,
            "out_width": self.out_layout.width,
        }

    def write(self, path: Path) -> Path:
        atomic.write_text(path, json.dumps(self.to_json()))
        return path


def random_inputs(spec: ModelSpec, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` raw inputs drawn uniformly over each element's full type
    (:func:`hgq_hw.inputs.random_raw`)."""
    lo, hi = input_bounds(spec)
    return random_raw(lo, hi, n, rng)


def corner_inputs(spec: ModelSpec) -> tuple[np.ndarray, list[str]]:
    """All-min, all-max, all-zero, and each element alone at its min and max (others 0)."""
    lo, hi = input_bounds(spec)
    zero = np.zeros(spec.input_shape, dtype=object)
    rows, names = [lo, hi, zero], ["corner:min", "corner:max", "corner:zero"]
    for index in np.ndindex(*spec.input_shape):
        if lo[index] == hi[index]:
            continue
        for bound, label in ((lo, "min"), (hi, "max")):
            row = zero.copy()
            row[index] = bound[index]
            rows.append(row)
            names.append(f"corner:{label}@{list(index)}")
    return np.array(rows, dtype=object).reshape(len(rows), *spec.input_shape), names


def _edge_classes(spec: ModelSpec, x_raw: np.ndarray) -> tuple[np.ndarray, int]:
    """Boolean matrix (vector x edge class) and the number of classes
    (:func:`hgq_hw.reference.overflow_edges`)."""
    hits = overflow_edges(spec, x_raw)
    return hits, hits.shape[1]


def edge_cover(
    spec: ModelSpec, rng: np.random.Generator, candidates: int = 2000, limit: int = 64
) -> tuple[np.ndarray, int, int]:
    """Pick at most ``limit`` inputs that hit the most overflow-edge classes.

    Returns ``(inputs, classes hit, classes in total)``.
    """
    pool = [random_inputs(spec, candidates, rng), corner_inputs(spec)[0]]
    # Skewed draws: each element near its extremes, which is where overflow lives.
    lo, hi = input_bounds(spec)
    skew = random_inputs(spec, candidates // 2, rng)
    pick = rng.random(skew.shape) < 0.5
    skew = np.where(pick, np.where(rng.random(skew.shape) < 0.5, lo, hi), skew)
    pool.append(skew.astype(object))
    x = np.concatenate(pool, axis=0)
    hits, total = _edge_classes(spec, x)
    covered = np.zeros(hits.shape[1], dtype=bool)
    chosen: list[int] = []
    while len(chosen) < limit:
        gain = np.sum(hits & ~covered, axis=1)
        best = int(np.argmax(gain))
        if gain[best] == 0:
            break
        chosen.append(best)
        covered |= hits[best]
    return x[chosen], int(np.count_nonzero(covered)), total


def sweep_inputs(spec: ModelSpec, n: int) -> np.ndarray:
    """``n`` vectors: vector ``m`` has every input element at ``raw_min + m`` modulo its range."""
    lo, hi = input_bounds(spec)
    rows = np.empty((n, *spec.input_shape), dtype=object)
    for index in np.ndindex(*spec.input_shape):
        span = int(hi[index]) - int(lo[index]) + 1
        rows[(slice(None), *index)] = [int(lo[index]) + m % span for m in range(n)]
    return rows


def table_entry_hits(spec: ModelSpec, x_raw: np.ndarray) -> np.ndarray:
    """Boolean matrix (vector x table-entry class): for every live ``Table`` element with at
    most :data:`SMALL_TABLE` entries (and an input of width > 0), one column per entry, true
    where the vector's value at the element's input selects it."""
    tensors = evaluate(spec, x_raw, all_tensors=True)
    types = infer_types(spec)
    live = spec.live_names()
    columns: list[np.ndarray] = []
    for layer in spec.layers:
        if not isinstance(layer, TableSpec) or layer.name not in live:
            continue
        t = types[layer.inputs[0]]
        lo, _ = t.raw_bounds()
        x = tensors[layer.inputs[0]]
        for index in np.ndindex(*t.shape):
            size = len(layer.table(index))
            if (
                int(t.width[index]) <= 0
                or size > SMALL_TABLE
                or types[layer.name].width[index] <= 0
            ):
                continue
            offset = np.asarray(x[(slice(None), *index)], dtype=object) - lo[index]
            columns += [np.asarray(offset == n, dtype=bool) for n in range(size)]
    if not columns:
        return np.zeros((len(x_raw), 0), dtype=bool)
    return np.stack(columns, axis=1)


def table_cover(
    spec: ModelSpec, rng: np.random.Generator, candidates: int = 2000, limit: int = 256
) -> tuple[np.ndarray, int, int]:
    """Pick at most ``limit`` inputs that hit the most small-table entries (module docstring).

    Returns ``(inputs, entries hit, entries in total)``.
    """
    lo, hi = input_bounds(spec)
    skew = random_inputs(spec, candidates // 2, rng)
    pick = rng.random(skew.shape) < 0.5
    skew = np.where(pick, np.where(rng.random(skew.shape) < 0.5, lo, hi), skew)
    pool = [sweep_inputs(spec, SMALL_TABLE), random_inputs(spec, candidates, rng), skew]
    x = np.concatenate([p.astype(object) for p in pool], axis=0)
    hits = table_entry_hits(spec, x)
    covered = np.zeros(hits.shape[1], dtype=bool)
    chosen: list[int] = []
    while len(chosen) < limit and hits.shape[1]:
        gain = np.sum(hits & ~covered, axis=1)
        best = int(np.argmax(gain))
        if gain[best] == 0:
            break
        chosen.append(best)
        covered |= hits[best]
    return x[chosen], int(np.count_nonzero(covered)), int(hits.shape[1])


def build_vectors(
    spec: ModelSpec,
    *,
    samples: int = 200,
    seed: int = 0,
    data: np.ndarray | None = None,
    edges: bool = True,
    tables: bool = True,
) -> VectorSet:
    """Corner vectors, overflow-edge vectors, table-entry vectors (``tables``, when the spec
    has tables), ``samples`` random vectors and (optionally) real dataset rows (quantized with
    :func:`quantize_inputs`), with the reference's outputs."""
    rng = np.random.default_rng(seed)
    parts: list[np.ndarray] = []
    sources: list[str] = []
    corners, names = corner_inputs(spec)
    parts.append(corners)
    sources += names
    coverage = (0, 0)
    if edges:
        edge_x, hit, total = edge_cover(spec, rng)
        parts.append(edge_x)
        sources += ["edge"] * len(edge_x)
        coverage = (hit, total)
    table_coverage = (0, 0)
    if tables and any(isinstance(layer, TableSpec) for layer in spec.layers):
        table_x, hit, total = table_cover(spec, rng)
        parts.append(table_x)
        sources += ["table"] * len(table_x)
        table_coverage = (hit, total)
    if data is not None:
        data = np.asarray(data, dtype=np.float64)
        data = data.reshape(len(data), *spec.input_shape)
        parts.append(quantize_inputs(spec, data).astype(object))
        sources += [f"data:{n}" for n in range(len(data))]
    if samples:
        parts.append(random_inputs(spec, samples, rng))
        sources += ["random"] * samples
    x = np.concatenate([p.astype(object) for p in parts], axis=0)
    y = evaluate(spec, x)
    return VectorSet(spec, seed, x, np.asarray(y, dtype=object), sources, coverage, table_coverage)
