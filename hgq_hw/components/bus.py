"""Unpack a flat stream payload into per-element values and pack them back (``BusLayout``)."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Shape, Signal, Value, signed, unsigned

from hgq_hw.fixed import TensorType
from hgq_hw.layout import BusLayout

__all__ = ["element_shape", "pack", "shape_for", "unpack"]


def shape_for(lo: int, hi: int) -> Shape:
    """Smallest Amaranth shape holding every integer of ``[lo, hi]`` (width 0 for ``[0, 0]``)."""
    if lo == 0 and hi == 0:
        return unsigned(0)
    if lo >= 0:
        return unsigned(int(hi).bit_length())
    return signed(1 + max(int(hi).bit_length(), int(-lo - 1).bit_length()))


def element_shape(t: TensorType, index: int) -> Shape:
    """Shape of element ``index`` of a 1-d tensor type (width 0: ``unsigned(0)``)."""
    width = int(t.width[index])
    return signed(width) if t.k[index] and width > 0 else unsigned(width)


def unpack(payload: Value, t: TensorType) -> list[Value | None]:
    """Per-element raw values of a payload laid out by ``BusLayout.of(t)``; None for width 0."""
    out: list[Value | None] = []
    for f in BusLayout.of(t).fields:
        if f.width == 0:
            out.append(None)
            continue
        bits = payload[f.offset : f.offset + f.width]
        out.append(bits.as_signed() if f.signed else bits)
    return out


def pack(m: Module, values: list[Value | int | None], t: TensorType, prefix: str) -> Value:
    """The payload for ``t`` carrying ``values`` (each already exact for its element's type).

    Each value is assigned to a signal of its element's exact shape (so wider expressions are
    truncated to the bits that the value, by construction, fits in).
    """
    parts = []
    for index, value in enumerate(values):
        shape = element_shape(t, index)
        if shape.width == 0:
            continue
        sig = Signal(shape, name=f"{prefix}{index}")
        m.d.comb += sig.eq(Const(value, shape) if isinstance(value, int) else value)
        parts.append(sig)
    return Cat(*parts)
