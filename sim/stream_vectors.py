"""Test images for a stream-mode design: corner, border and random images with expected outputs.

:func:`build_stream_vectors` returns a :class:`StreamVectorSet`: raw images ``(n, *shape)``
(channels last), the reference's raw outputs (:func:`hgq_hw.reference.evaluate`), and where
each image came from. The cocotb testbench :mod:`sim.tb_stream` streams each image one pixel
(all channels) per cycle and compares every output with these.

Corner images (:func:`corner_images`): all minimum, all maximum, all zero; one pixel with every
channel at its minimum (then maximum) on a zero image, at every position of a small image
(at most :data:`ALL_POSITIONS` pixels) or at the corners, edge midpoints and centre of a large
one; and *border* images, which exercise ``"same"`` padding: the outermost ring of pixels at
the maximum (then minimum) with a zero inside, and at the maximum around a minimum inside.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hgq_hw import atomic
from hgq_hw.inputs import random_raw
from hgq_hw.layout import BusLayout
from hgq_hw.reference import evaluate, input_bounds, quantize_inputs
from hgq_hw.spec import ModelSpec

__all__ = ["ALL_POSITIONS", "StreamVectorSet", "build_stream_vectors", "corner_images"]

ALL_POSITIONS = 64
"""Images of at most this many pixels get a single-pixel corner image at every position."""


@dataclass
class StreamVectorSet:
    """Images and expected outputs of one stream regression.

    ``images`` has shape ``(n, *spec.input_shape)``; ``y_raw`` ``(n, n_out)`` at the reference's
    output type (flattened in C order)."""

    spec: ModelSpec
    seed: int
    images: np.ndarray
    y_raw: np.ndarray
    sources: list[str]

    def __len__(self) -> int:
        return len(self.images)

    @property
    def n_pixels(self) -> int:
        return math.prod(self.spec.input_shape[:-1])

    def pixel_words(self, pixel_layout: BusLayout) -> list[list[int]]:
        """Per image, its pixels (C order of the positions) packed with ``pixel_layout``."""
        c = self.spec.input_shape[-1]
        pixels = self.images.reshape(len(self.images), self.n_pixels, c)
        if pixel_layout.width == 0:
            return [[0] * self.n_pixels for _ in pixels]
        return [pixel_layout.pack(image) for image in pixels]

    def to_json(self, pixel_layout: BusLayout) -> dict[str, object]:
        """What the testbench needs: per image its pixel words and expected raw outputs."""
        return {
            "seed": self.seed,
            "pixels": [[str(w) for w in image] for image in self.pixel_words(pixel_layout)],
            "expected": [[str(int(v)) for v in row] for row in self.y_raw],
            "sources": self.sources,
        }

    def write(self, path: Path, pixel_layout: BusLayout) -> Path:
        atomic.write_text(path, json.dumps(self.to_json(pixel_layout)))
        return path


def _positions(spatial: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Every position of a small image; corners, edge midpoints and centre of a large one."""
    if math.prod(spatial) <= ALL_POSITIONS:
        return list(np.ndindex(*spatial))
    picks = [sorted({0, (n - 1) // 2, n - 1}) for n in spatial]
    return [
        tuple(int(v) for v in p) for p in np.array(np.meshgrid(*picks)).reshape(len(spatial), -1).T
    ]


def corner_images(spec: ModelSpec) -> tuple[np.ndarray, list[str]]:
    """The corner and border images of the module docstring, with their names."""
    lo, hi = input_bounds(spec)
    shape = spec.input_shape
    spatial = shape[:-1]
    zero = np.zeros(shape, dtype=object)
    rows, names = [lo, hi, zero], ["corner:min", "corner:max", "corner:zero"]
    for pos in _positions(spatial):
        for bound, label in ((lo, "min"), (hi, "max")):
            row = zero.copy()
            row[pos] = bound[pos]
            rows.append(row)
            names.append(f"corner:pixel-{label}@{list(pos)}")
    ring = np.zeros(spatial, dtype=bool)
    for axis, n in enumerate(spatial):
        index = [slice(None)] * len(spatial)
        for edge in (0, n - 1):
            index[axis] = edge
            ring[tuple(index)] = True
    for outside, inside, label in (
        (hi, zero, "max"),
        (lo, zero, "min"),
        (hi, lo, "max-around-min"),
    ):
        row = inside.copy()
        row[ring] = outside[ring]
        rows.append(row)
        names.append(f"border:{label}")
    return np.array(rows, dtype=object).reshape(len(rows), *shape), names


def build_stream_vectors(
    spec: ModelSpec,
    *,
    images: int = 20,
    seed: int = 0,
    corners: bool = True,
    data: np.ndarray | None = None,
) -> StreamVectorSet:
    """Corner and border images (``corners``), real images (``data``, real values quantized
    with :func:`quantize_inputs`) and ``images`` random ones (uniform over each element's
    type), with the reference's outputs."""
    rng = np.random.default_rng(seed)
    parts: list[np.ndarray] = []
    sources: list[str] = []
    if corners:
        x, names = corner_images(spec)
        parts.append(x)
        sources += names
    if data is not None:
        data = np.asarray(data, dtype=np.float64).reshape(len(data), *spec.input_shape)
        parts.append(quantize_inputs(spec, data).astype(object))
        sources += [f"data:{n}" for n in range(len(data))]
    if images:
        lo, hi = input_bounds(spec)
        parts.append(random_raw(lo, hi, images, rng))
        sources += [f"random:{n}" for n in range(images)]
    if not parts:
        raise ValueError("no images: ask for corners, data or random images")
    x = np.concatenate([p.astype(object).reshape(len(p), *spec.input_shape) for p in parts])
    y = np.asarray(evaluate(spec, x), dtype=object).reshape(len(x), -1)
    return StreamVectorSet(spec, seed, x, y, sources)
