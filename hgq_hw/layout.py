"""Bit layout of a tensor on a flat bus: how raw elements are packed into one wide integer.

Element ``e`` (in C order over the tensor's shape) occupies bits ``[offset[e], offset[e] +
width[e])`` of the bus, two's complement when ``k[e] == 1``; elements of width 0 take no bits.
Element 0 is at the least significant end. This is the contract between the generated RTL
(``i_stream.payload`` / ``o_stream.payload``), the cocotb testbench and the board wrappers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hgq_hw.fixed import TensorType

__all__ = ["BusField", "BusLayout"]


@dataclass(frozen=True)
class BusField:
    """One element's slot on the bus."""

    index: tuple[int, ...]
    offset: int
    width: int
    signed: bool


@dataclass(frozen=True)
class BusLayout:
    """Packing of one tensor type on a flat bus (see the module docstring)."""

    fields: tuple[BusField, ...]
    shape: tuple[int, ...]

    @classmethod
    def of(cls, t: TensorType) -> BusLayout:
        fields, offset = [], 0
        for index in np.ndindex(*t.shape):
            width = int(t.width[index])
            fields.append(BusField(index, offset, width, bool(t.k[index]) and width > 0))
            offset += width
        return cls(tuple(fields), t.shape)

    @property
    def width(self) -> int:
        """Total bus width in bits (may be 0 when every element is constant zero)."""
        return sum(f.width for f in self.fields)

    def pack(self, raw: np.ndarray) -> list[int]:
        """A batch of raw tensors (shape ``(batch, *shape)``) -> one bus integer per sample."""
        raw = np.asarray(raw)
        if raw.shape[1:] != self.shape:
            raise ValueError(f"expected raw values of shape (batch, {self.shape}), got {raw.shape}")
        words = []
        for sample in raw:
            word = 0
            for f in self.fields:
                value = int(sample[f.index])
                if f.width == 0:
                    if value != 0:
                        raise ValueError(f"element {f.index} has width 0 but value {value}")
                    continue
                lo = -(1 << (f.width - 1)) if f.signed else 0
                hi = (1 << (f.width - 1)) - 1 if f.signed else (1 << f.width) - 1
                if not lo <= value <= hi:
                    raise ValueError(
                        f"element {f.index} value {value} does not fit {f.width} bits "
                        f"({'signed' if f.signed else 'unsigned'})"
                    )
                word |= (value & ((1 << f.width) - 1)) << f.offset
            words.append(word)
        return words

    def unpack(self, words: list[int]) -> np.ndarray:
        """Bus integers -> raw tensors (object array of Python ints, shape ``(batch, *shape)``)."""
        out = np.zeros((len(words), *self.shape), dtype=object)
        for n, word in enumerate(words):
            for f in self.fields:
                if f.width == 0:
                    continue
                value = (int(word) >> f.offset) & ((1 << f.width) - 1)
                if f.signed and value >> (f.width - 1):
                    value -= 1 << f.width
                out[(n, *f.index)] = value
        return out

    def describe(self) -> list[dict[str, object]]:
        """JSON-friendly list of the fields (for ``report.json``)."""
        return [
            {"element": list(f.index), "offset": f.offset, "width": f.width, "signed": f.signed}
            for f in self.fields
        ]
