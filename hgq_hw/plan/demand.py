"""Which low bits of each tensor no consumer reads (so no register has to carry them).

A Requantize that rounds to fewer fractional bits reads only the bits from ``drop`` up
(:func:`~hgq_hw.plan.requantize.narrowing`: all dropped fractional bits for TRN, all but one
for RND); a ReLU passes the demand of its own consumers through (``max(x, 0)`` commutes with
clearing low bits); a Dense layer and the network output read every bit. Each planner says
what its kind reads (:meth:`~hgq_hw.plan.base.LayerPlanner.unread_inputs`); a tensor read by
several layers keeps every bit that one of them reads (the element-wise minimum). A producer
told ``unread`` may output its tensor with those low bits cleared, ``(y >> d) << d``, and
carry only the bits above through its registers (:func:`clamp_drop` keeps that exact).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from hgq_hw.fixed import TensorType
from hgq_hw.spec import LayerSpec

__all__ = ["clamp_drop", "unread_low_bits"]


def clamp_drop(drop: np.ndarray | None, t: TensorType) -> tuple[int, ...] | None:
    """``drop`` limited to what clearing can keep exact on type ``t``: never the sign bit, never
    more than the width (None when nothing is dropped)."""
    if drop is None:
        return None
    limit = np.maximum(t.width - t.k, 0)
    out = tuple(int(d) for d in np.minimum(np.maximum(drop, 0), limit))
    return out if any(out) else None


def unread_low_bits(
    layers: Sequence[LayerSpec], types: Mapping[str, TensorType], output: str
) -> dict[str, np.ndarray]:
    """Per tensor, how many low bits of each element no consumer among ``layers`` reads.

    ``layers`` are in topological order; the tensor named ``output`` (the network output) is
    read whole. Not clamped to the producer's type (see :func:`clamp_drop`).
    """
    from hgq_hw.plan.base import planner_for

    unread: dict[str, np.ndarray] = {}

    def flat(name: str) -> int:
        shape = types[name].shape
        return int(np.prod(shape)) if shape else 0

    def read(name: str, drop: np.ndarray) -> None:
        drop = np.asarray(drop, dtype=np.int64).reshape(-1)
        unread[name] = np.minimum(unread[name], drop) if name in unread else drop

    read(output, np.zeros(flat(output), dtype=np.int64))
    for layer in reversed(layers):
        if not layer.inputs:
            continue
        out = unread.get(layer.name)
        if out is None:  # nothing reads it (cannot happen for live layers)
            out = np.zeros(flat(layer.name), dtype=np.int64)
        in_types = [types[s] for s in layer.inputs]
        per_input = planner_for(layer).unread_inputs(layer, in_types, types[layer.name], out)
        for source, drop in zip(layer.inputs, per_input):
            read(source, drop)
    return unread
