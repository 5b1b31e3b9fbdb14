"""Which low bits of each tensor its consumer never reads (so no register has to carry them).

A Requantize that rounds to fewer fractional bits reads only the bits from ``drop`` up
(:func:`~hgq_hw.components.requantize.narrowing`: all dropped fractional bits for TRN, all but
one for RND); a ReLU passes the demand of its own consumer through (``max(x, 0)`` commutes with
clearing low bits); a Dense layer and the network output read every bit. A producer told
``out_drop`` may output its tensor with those low bits cleared, ``(y >> d) << d``, and carries
only the bits above through its registers.
"""

from __future__ import annotations

import numpy as np

from hgq_hw.fixed import Round, TensorType
from hgq_hw.spec import ModelSpec, ReLUSpec, RequantizeSpec

__all__ = ["clamp_drop", "unread_low_bits"]


def clamp_drop(drop: np.ndarray | None, t: TensorType) -> tuple[int, ...] | None:
    """``drop`` limited to what clearing can keep exact on type ``t``: never the sign bit, never
    more than the width (None when nothing is dropped)."""
    if drop is None:
        return None
    limit = np.maximum(t.width - t.k, 0)
    out = tuple(int(d) for d in np.minimum(np.maximum(drop, 0), limit))
    return out if any(out) else None


def unread_low_bits(spec: ModelSpec, types: dict[str, TensorType]) -> dict[str, np.ndarray]:
    """Per layer name, how many low bits of each output element the next layer never reads.

    Layers are taken as the chain the network builds (each layer feeds the next one); the
    result is not clamped to the producer's type (see :func:`clamp_drop`).
    """
    layers = list(spec.layers)
    demand: dict[str, np.ndarray] = {}
    for index in range(len(layers) - 1, -1, -1):
        layer = layers[index]
        n = int(np.prod(types[layer.name].shape)) if types[layer.name].shape else 0
        drop = np.zeros(n, dtype=np.int64)
        if index + 1 < len(layers):
            nxt = layers[index + 1]
            if isinstance(nxt, RequantizeSpec):
                f_from = types[layer.name].f.reshape(-1)
                extra = 1 if nxt.round is Round.RND else 0
                drop = np.maximum(f_from - nxt.type.f.reshape(-1) - extra, 0)
                drop = np.where(nxt.type.width.reshape(-1) > 0, drop, 0)
            elif isinstance(nxt, ReLUSpec):
                drop = demand[nxt.name]
        demand[layer.name] = drop
    return demand
