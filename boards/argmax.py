"""``Argmax``: the index of the largest element of an output bus word, by exact real value."""

from __future__ import annotations

from amaranth.hdl import Array, Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from boards.protocol import MAX_OUTPUTS
from hgq_hw.layout import BusLayout

__all__ = ["Argmax", "aligned_shifts"]


def aligned_shifts(layout: BusLayout, f: list[int]) -> tuple[list[int], int]:
    """Left shift per element that brings every raw value to the largest ``f`` of the live
    (width > 0) elements, and the signed width that holds every aligned value."""
    live = [fe for fe, field in zip(f, layout.fields) if field.width > 0]
    top = max(live, default=0)
    shifts = [top - fe if field.width > 0 else 0 for fe, field in zip(f, layout.fields)]
    width = max(
        (field.width + s + (0 if field.signed else 1) for field, s in zip(layout.fields, shifts)),
        default=1,
    )
    return shifts, max(width, 1)


class Argmax(wiring.Component):
    """Sequential exact argmax over the elements of a bus word (one element per cycle).

    Elements are compared by real value ``raw * 2**-f`` after aligning to a common ``f``; ties go
    to the lowest index (the same rule as :func:`boards.protocol.argmax_exact`).

    Parameters
    ----------
    layout:
        Packing of the word (:class:`hgq_hw.layout.BusLayout`), at most 256 elements.
    f:
        Fractional bits of every element (flattened, C order).

    Members
    -------
    word: ``In(layout.width)``; must stay stable from ``start`` to ``done``.
    start: ``In(1)``, a one-cycle pulse that begins a search.
    done: ``Out(1)``, a one-cycle pulse ``len(layout.fields)`` cycles after ``start``.
    index: ``Out(8)``, the result, valid from ``done`` until the next ``start``.
    """

    def __init__(self, layout: BusLayout, f: list[int]) -> None:
        n = len(layout.fields)
        if not 1 <= n <= MAX_OUTPUTS:
            raise ValueError(f"argmax needs 1 to {MAX_OUTPUTS} elements, got {n}")
        if len(f) != n:
            raise ValueError(f"{len(f)} fractional-bit values for {n} elements")
        self.layout = layout
        self.shifts, self.aligned_width = aligned_shifts(layout, [int(v) for v in f])
        super().__init__(
            {"word": In(max(layout.width, 1)), "start": In(1), "done": Out(1), "index": Out(8)}
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        shape = signed(self.aligned_width)
        aligned = []
        for n, (field, shift) in enumerate(zip(self.layout.fields, self.shifts)):
            a = Signal(shape, name=f"aligned{n}")
            if field.width > 0:
                raw = self.word[field.offset : field.offset + field.width]
                raw = raw.as_signed() if field.signed else raw.as_unsigned()
                m.d.comb += a.eq(raw << shift)
            aligned.append(a)
        n = len(aligned)
        table = Array(aligned)
        cursor = Signal(range(n + 1))
        best = Signal(shape)
        busy = Signal()
        m.d.sync += self.done.eq(0)
        with m.If(self.start):
            m.d.sync += [busy.eq(1), cursor.eq(1), best.eq(aligned[0]), self.index.eq(0)]
        with m.Elif(busy):
            with m.If(cursor == n):
                m.d.sync += [busy.eq(0), self.done.eq(1)]
            with m.Else():
                current = table[cursor]
                with m.If(current > best):
                    m.d.sync += [best.eq(current), self.index.eq(cursor)]
                m.d.sync += cursor.eq(cursor + 1)
        return m
