"""Window geometry shared by the convolution and pooling layers (Keras semantics, no dilation).

Along a spatial axis of ``n`` positions, a window of ``w`` positions moved by ``s``:

* ``"valid"``: ``out = ceil((n - w + 1) / s)`` windows, none reaching past the edges;
* ``"same"``: ``out = ceil(n / s)``, zero padding ``total = max((out - 1) * s + w - n, 0)``,
  ``lo = total // 2`` positions before and the rest after.

Output position ``o`` reads input positions ``o * s + d - lo`` for ``d`` in ``0..w-1`` (padding
where that lies outside ``0..n-1``). These are the formulas of the spec's ``Conv``, ``MaxPool``
and ``AvgPool`` kinds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from hgq_hw.spec import Padding, window_geometry

__all__ = [
    "PADDINGS",
    "axis_geometry",
    "int_tuple",
    "output_spatial",
    "parse_padding",
    "window_input_sums",
    "window_views",
]

PADDINGS = ("valid", "same")


def parse_padding(value: Any, *, allowed: Sequence[str] = PADDINGS) -> str:
    """``"valid"`` or ``"same"`` (any case), checked against ``allowed``."""
    if not isinstance(value, str):
        raise TypeError(f"padding must be a string, got {type(value).__name__}")
    padding = value.lower()
    if padding not in allowed:
        raise ValueError(f"padding must be one of {', '.join(allowed)}, got {value!r}")
    return padding


def int_tuple(value: Any, rank: int, what: str) -> tuple[int, ...]:
    """An int or a sequence of ``rank`` ints, each >= 1, as a tuple of ``rank`` ints."""
    items = [value] * rank if isinstance(value, int | np.integer) else list(value)
    if len(items) != rank or any(
        isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1 for v in items
    ):
        raise ValueError(f"{what} must be a positive int or {rank} positive ints, got {value!r}")
    return tuple(int(v) for v in items)


def axis_geometry(n: int, w: int, s: int, padding: str) -> tuple[int, int]:
    """``(out, lo)``: output positions and zero padding before, along one axis (``ValueError``
    when a valid window does not fit). The spec's own :func:`hgq_hw.spec.window_geometry`, so
    training and hardware share one definition."""
    if padding == "valid" and n < w:
        raise ValueError(f"a window of {w} does not fit in {n} positions (padding 'valid')")
    (out,), (lo,) = window_geometry((n,), (w,), (s,), Padding(padding))
    return out, lo


def output_spatial(
    spatial: Sequence[int], window: Sequence[int], strides: Sequence[int], padding: str
) -> tuple[int, ...]:
    """Output spatial shape for input spatial shape ``spatial``."""
    return tuple(axis_geometry(n, w, s, padding)[0] for n, w, s in zip(spatial, window, strides))


def window_views(
    x: Any, window: Sequence[int], strides: Sequence[int]
) -> Iterator[tuple[tuple[int, ...], Any]]:
    """``(d, x[:, d0::s0, d1::s1, ..., :])`` cut to the output shape, for every window offset
    ``d`` (valid padding): the input element that each output position reads at offset ``d``.
    Works on numpy arrays and tensors (basic slicing only); ``x`` is ``(batch, *spatial, c)``.
    """
    spatial = tuple(int(n) for n in x.shape[1:-1])
    out = output_spatial(spatial, window, strides, "valid")
    for d in itertools.product(*(range(w) for w in window)):
        cut = tuple(slice(o, o + s * (m - 1) + 1, s) for o, s, m in zip(d, strides, out))
        yield d, x[(slice(None), *cut, slice(None))]


def window_input_sums(
    bits: np.ndarray,
    window: Sequence[int],
    strides: Sequence[int],
    padding: str,
) -> np.ndarray:
    """``(*window, c)``: for each window offset and channel, the sum over output positions of
    ``bits`` at the input element read there (padding counts 0). ``bits`` is ``(*spatial, c)``.

    A convolution's EBOPs are ``sum(window_input_sums(...)[..., None] * weight_bits)``.
    """
    bits = np.asarray(bits, dtype=np.float64)
    spatial = bits.shape[:-1]
    geometry = [axis_geometry(n, w, s, padding) for n, w, s in zip(spatial, window, strides)]
    pads = [
        (lo, max((out - 1) * s + w - n - lo, 0))
        for (out, lo), n, w, s in zip(geometry, spatial, window, strides)
    ]
    padded = np.pad(bits, [*pads, (0, 0)])
    out_shape = tuple(out for out, _ in geometry)
    sums = np.zeros((*window, bits.shape[-1]), dtype=np.float64)
    for d in itertools.product(*(range(w) for w in window)):
        cut = tuple(slice(o, o + s * (m - 1) + 1, s) for o, s, m in zip(d, strides, out_shape))
        sums[d] = padded[cut].reshape(-1, bits.shape[-1]).sum(axis=0)
    return sums
