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
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hgq_hw import atomic
from hgq_hw.fixed import TensorType
from hgq_hw.inputs import random_raw
from hgq_hw.layout import BusLayout
from hgq_hw.reference import (
    evaluate,
    infer_types,
    input_bounds,
    overflow_edges,
    quantize_inputs,
)
from hgq_hw.spec import ModelSpec

__all__ = ["VectorSet", "build_vectors", "corner_inputs", "edge_cover", "random_inputs"]


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
    in_layout: BusLayout = field(init=False)
    out_layout: BusLayout = field(init=False)

    def __post_init__(self) -> None:
        types = infer_types(self.spec)
        self.x_raw = np.asarray(self.x_raw, dtype=object).reshape(len(self.x_raw), -1)
        self.y_raw = np.asarray(self.y_raw, dtype=object).reshape(len(self.y_raw), -1)
        self.in_layout = BusLayout.of(_flat(types[self.spec.input.name]))
        self.out_layout = BusLayout.of(_flat(types[self.spec.output.name]))

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


def _flat(t: TensorType) -> TensorType:
    return TensorType(t.k.ravel(), t.i.ravel(), t.f.ravel())


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


def build_vectors(
    spec: ModelSpec,
    *,
    samples: int = 200,
    seed: int = 0,
    data: np.ndarray | None = None,
    edges: bool = True,
) -> VectorSet:
    """Corner vectors, overflow-edge vectors, ``samples`` random vectors and (optionally) real
    dataset rows (quantized with :func:`quantize_inputs`), with the reference's outputs."""
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
    return VectorSet(spec, seed, x, np.asarray(y, dtype=object), sources, coverage)
