"""A streamed windowed layer as plan data: its geometry, the plan of its window operation
(a Conv's or AvgPool's kernel as a Dense plan, a MaxPool's maxima as a Max plan), its numbers,
and two exact models of it (per image, and cycle by cycle on a pixel stream).

See :mod:`hgq_hw.stream` for the design; :mod:`hgq_hw.stream.layers` makes the plans.
:meth:`StreamWindowPlan.evaluate` computes whole images (every output position through the one
window operation, zeros in the padding), and :meth:`StreamWindowPlan.run` is the cycle model
that the Verilog (:mod:`hgq_hw.stream.netlist`) matches register for register: counters, line
buffer, masks, ``valid``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hgq_hw.fixed import TensorType
from hgq_hw.layout import BusLayout
from hgq_hw.plan.base import LayerPlan
from hgq_hw.spec import SpecError, window_geometry

__all__ = ["StreamGeometry", "StreamRun", "StreamWindowPlan", "counter_bits", "pixel_types"]


@dataclass(frozen=True)
class StreamGeometry:
    """Where a streamed window reads and fires (all 2-d; a Conv1D has ``height == 1``,
    ``window[0] == 1``). See :mod:`hgq_hw.stream` for the meaning of every number."""

    height: int
    width: int
    window: tuple[int, int]
    strides: tuple[int, int]
    before: tuple[int, int]
    out: tuple[int, int]

    @classmethod
    def of(
        cls, spatial: Sequence[int], window: Sequence[int], strides: Sequence[int], padding
    ) -> StreamGeometry:
        out, before = window_geometry(spatial, window, strides, padding)
        if len(spatial) == 1:
            return cls(
                1, int(spatial[0]), (1, window[0]), (1, strides[0]), (0, before[0]), (1, out[0])
            )
        return cls(
            int(spatial[0]),
            int(spatial[1]),
            (int(window[0]), int(window[1])),
            (int(strides[0]), int(strides[1])),
            (int(before[0]), int(before[1])),
            (int(out[0]), int(out[1])),
        )

    @property
    def n_pixels(self) -> int:
        return self.height * self.width

    @property
    def n_outputs(self) -> int:
        return self.out[0] * self.out[1]

    @property
    def n_taps(self) -> int:
        return self.window[0] * self.window[1]

    @property
    def buffer_len(self) -> int:
        """Pixels in the line buffer: ``(w0 - 1) * W + w1``."""
        return (self.window[0] - 1) * self.width + self.window[1]

    def trigger(self, o0: int, o1: int) -> int:
        """The slot on which output position ``(o0, o1)`` fires (its bottom-right tap)."""
        (w0, w1), (s0, s1), (lo0, lo1) = self.window, self.strides, self.before
        return (o0 * s0 - lo0 + w0 - 1) * self.width + (o1 * s1 - lo1 + w1 - 1)

    @property
    def row_step(self) -> int:
        """How far the trigger moves from the last position of an output row to the first
        of the next (> 0)."""
        return self.strides[0] * self.width - (self.out[1] - 1) * self.strides[1]

    @property
    def tail(self) -> int:
        """Virtual slots after the image's last pixel (the last trigger past ``H*W - 1``)."""
        return max(self.trigger(self.out[0] - 1, self.out[1] - 1) - (self.n_pixels - 1), 0)

    @property
    def n_slots(self) -> int:
        return self.n_pixels + self.tail

    @property
    def counter_bits(self) -> dict[str, int]:
        """Widths of the control registers: slot index (real pixels), next trigger, output row
        and column, and with a tail the tail's slot index and its flag."""
        last = self.trigger(self.out[0] - 1, self.out[1] - 1)
        widths = {
            "slot_f": counter_bits(self.n_pixels),
            "trig": counter_bits(max(last, 0) + 1),
            "pos0": counter_bits(self.out[0]),
            "pos1": counter_bits(self.out[1]),
        }
        if self.tail:
            widths.update(tail_f=counter_bits(self.n_slots), tailing=1)
        return widths

    def entry(self, a: int, b: int) -> int:
        """Line-buffer entry that holds window tap ``(a, b)`` when its output fires."""
        return (self.window[0] - 1 - a) * self.width + (self.window[1] - 1 - b)

    def row_range(self, a: int) -> tuple[int, int]:
        """Output rows ``o0`` (inclusive range) for which tap row ``a`` lies in the image
        (empty when ``lo > hi``)."""
        return _inside(self.before[0] - a, self.height, self.strides[0], self.out[0])

    def col_range(self, b: int) -> tuple[int, int]:
        """Output columns ``o1`` for which tap column ``b`` lies in the image."""
        return _inside(self.before[1] - b, self.width, self.strides[1], self.out[1])


def counter_bits(n_values: int) -> int:
    """Bits of a counter that holds ``0 .. n_values - 1`` (at least 1)."""
    return max((n_values - 1).bit_length(), 1)


def _inside(offset: int, n: int, s: int, n_out: int) -> tuple[int, int]:
    """``o`` in ``0 .. n_out - 1`` with ``0 <= o*s - offset <= n - 1``, as ``(lo, hi)``."""
    lo = max(-(-offset // s), 0)
    hi = min((n - 1 + offset) // s, n_out - 1)
    return lo, hi


def pixel_types(t: TensorType, spatial: Sequence[int], what: str, layer: str) -> TensorType:
    """The one per-channel type of a streamed tensor of flattened type ``t`` and spatial shape
    ``spatial``; :class:`SpecError` naming ``layer`` and ``what`` (the field) when the type
    varies with position (stream mode needs one type per channel)."""
    n_pos = math.prod(int(n) for n in spatial)
    if t.shape[0] % n_pos:
        raise ValueError(f"{t.shape[0]} elements are not {n_pos} pixels")
    rows = np.stack([t.k, t.i, t.f]).reshape(3, n_pos, -1)
    first = rows[:, :1, :]
    varying = np.argwhere(np.any(rows != first, axis=0))
    if len(varying):
        pos, channel = (int(v) for v in varying[0])
        where = [int(v) for v in np.unravel_index(pos, tuple(int(n) for n in spatial))]
        here = tuple(int(r) for r in rows[:, pos, channel])
        there = tuple(int(r) for r in rows[:, 0, channel])
        raise SpecError(
            f"stream mode needs one type per channel, but channel {channel} at position {where} "
            f"has type (k, i, f) = {here}, not {there} as at position 0 (use parallel mode, or "
            "a requantizer whose type does not vary with position)",
            layer=layer,
            field=what,
        )
    return TensorType(first[0, 0], first[1, 0], first[2, 0])


@dataclass(frozen=True)
class StreamRun:
    """What a streamed layer gives, cycle by cycle, for one input stream.

    Members
    -------
    valid: ``o_stream.valid`` per cycle
    pixels: per cycle the output pixel's raw channels (meaningful where ``valid``)
    tags: per cycle ``(image, position)`` of the output pixel where ``valid`` (image: the
        ordinal of the image since the stream began, counting every image started, including
        ones a reset cut short; position: the flat output position), else None
    """

    valid: list[bool]
    pixels: list[list[int]]
    tags: list[tuple[int, int] | None]

    def images(self) -> dict[int, dict[int, list[int]]]:
        """Output pixels by image, then by position."""
        out: dict[int, dict[int, list[int]]] = {}
        for v, px, tag in zip(self.valid, self.pixels, self.tags):
            if v and tag is not None:
                out.setdefault(tag[0], {})[tag[1]] = px
        return out


@dataclass(frozen=True, eq=False)
class StreamWindowPlan:
    """A windowed layer in stream mode (see :mod:`hgq_hw.stream`).

    Members
    -------
    name: the spec layer
    kind: its spec kind (``"Conv"``, ``"MaxPool"``, ``"AvgPool"``)
    geometry: where the window reads and fires
    pixel_type: the input pixel's per-channel type, shape ``(c_in,)``
    out_pixel_type: the output pixel's per-channel type, shape ``(c_out,)``
    kernel: the plan of the window operation over one window (``n_taps * c_in`` inputs, taps
        in C order then channels; ``c_out`` outputs): a Dense plan (Conv, AvgPool) or a Max
        plan (MaxPool), pipelined like any layer plan
    """

    name: str
    kind: str
    geometry: StreamGeometry
    pixel_type: TensorType
    out_pixel_type: TensorType
    kernel: LayerPlan

    @property
    def c_in(self) -> int:
        return int(self.pixel_type.shape[0])

    @property
    def n_pixels(self) -> int:
        """Input pixels per image."""
        return self.geometry.n_pixels

    @property
    def c_out(self) -> int:
        return int(self.out_pixel_type.shape[0])

    @property
    def pixel_layout(self) -> BusLayout:
        return BusLayout.of(self.pixel_type)

    @property
    def out_layout(self) -> BusLayout:
        return BusLayout.of(self.out_pixel_type)

    @property
    def pixel_latency(self) -> int:
        """Cycles from a firing slot at ``i_stream`` to its output pixel at ``o_stream``."""
        return self.kernel.latency + 3

    @property
    def tail(self) -> int:
        return self.geometry.tail

    @property
    def latency(self) -> int:
        """Cycles from an image's last pixel to its last output (see :mod:`hgq_hw.stream`)."""
        return self.pixel_latency + self.tail

    @property
    def ii(self) -> int:
        """Initiation interval: cycles per image at full rate (``H*W``: the next image's
        pixels are the tail's slots)."""
        return self.geometry.n_pixels

    @property
    def buffer_bits(self) -> int:
        return self.geometry.buffer_len * self.pixel_layout.width

    @property
    def registers(self) -> int:
        """Flip-flops of its Verilog: input and output registers, counters, ``fire_d`` and the
        tap enables, the line buffer and the window operation's pipeline."""
        g = self.geometry
        io = self.pixel_layout.width + 1 + self.out_layout.width + 1
        control = sum(g.counter_bits.values()) + 1 + g.window[0] + g.window[1]
        return io + control + self.buffer_bits + self.kernel.registers

    def report(self) -> dict[str, Any]:
        """The numbers a report shows for this layer."""
        return {
            "layer": self.name,
            "kind": f"Stream{self.kind}",
            "pixel_latency": self.pixel_latency,
            "latency": self.latency,
            "ii": self.ii,
            "tail": self.tail,
            "buffer_bits": self.buffer_bits,
            "adders": self.kernel.n_adders,
            "adder_depth": self.kernel.adder_depth,
            "registers": self.registers,
        }

    # -- models ---------------------------------------------------------------------------------

    def _images(self, x_raw: np.ndarray) -> np.ndarray:
        """A batch as ``(batch, n_pixels, c_in)`` object ints."""
        x = np.asarray(x_raw).astype(object)
        return x.reshape(len(x), self.geometry.n_pixels, self.c_in)

    def evaluate(self, x_raw: np.ndarray) -> np.ndarray:
        """Raw outputs ``(batch, n_outputs * c_out)`` (C order, at :attr:`out_pixel_type`) of a
        batch of images (``(batch, *spatial, c_in)`` or flattened): every output position's
        window (zeros in the padding) through the kernel graph."""
        g = self.geometry
        x = self._images(x_raw)
        taps = self._taps()
        batch = len(x)
        padded = np.concatenate([x, np.zeros((batch, 1, self.c_in), dtype=object)], axis=1)
        windows = padded[:, np.where(taps >= 0, taps, g.n_pixels), :]  # (batch, pos, taps, c)
        flat = windows.reshape(batch * g.n_outputs, g.n_taps * self.c_in)
        y = self.kernel.evaluate([flat])
        return y.reshape(batch, g.n_outputs * self.c_out)

    def _taps(self) -> np.ndarray:
        """Flat input position of every tap of every output position (-1: padding)."""
        g = self.geometry
        taps = np.full((g.n_outputs, g.n_taps), -1, dtype=np.int64)
        for o0 in range(g.out[0]):
            for o1 in range(g.out[1]):
                for a in range(g.window[0]):
                    for b in range(g.window[1]):
                        r = o0 * g.strides[0] - g.before[0] + a
                        c = o1 * g.strides[1] - g.before[1] + b
                        if 0 <= r < g.height and 0 <= c < g.width:
                            taps[o0 * g.out[1] + o1, a * g.window[1] + b] = r * g.width + c
        return taps

    def run(
        self,
        valid: Sequence[bool],
        pixels: Sequence[Sequence[int]],
        rst: Sequence[bool] | None = None,
    ) -> StreamRun:
        """The cycle model: per cycle ``t`` the input ``valid[t]``, ``pixels[t]`` (raw
        channels, read where valid) and ``rst[t]``; returns the outputs per cycle, exactly as
        the Verilog of :func:`hgq_hw.stream.netlist.write_stream_layer` gives them."""
        g = self.geometry
        n_cycles = len(valid)
        resets = list(rst) if rst is not None else [False] * n_cycles
        if len(pixels) != n_cycles or len(resets) != n_cycles:
            raise ValueError("valid, pixels and rst must have one entry per cycle")
        lo, hi = self.pixel_type.raw_bounds()
        for t in range(n_cycles):
            if valid[t] and (
                len(pixels[t]) != self.c_in
                or any(not lo[c] <= int(v) <= hi[c] for c, v in enumerate(pixels[t]))
            ):
                raise ValueError(
                    f"cycle {t}: pixel {list(pixels[t])} is not {self.c_in} channels inside the "
                    f"pixel type (raw ranges {list(zip(lo.tolist(), hi.tolist()))})"
                )
        zero = [0] * self.c_in
        triggers = [g.trigger(o0, o1) for o0 in range(g.out[0]) for o1 in range(g.out[1])]
        masks = [self._mask(n) for n in range(g.n_outputs)]
        level = self.kernel.latency
        hw, last_tail = g.n_pixels, g.n_slots - 1
        # registers
        in_valid, in_pix = False, zero
        slot_index, out_index = 0, 0
        tailing, tail_index = False, 0
        started, pending = -1, deque()  # image ordinals: last started, started not finished
        buffer: list[list[int]] = [zero] * g.buffer_len
        fire_d, fire_tag = False, (0, 0)
        pipe: list[tuple[bool, int, tuple[int, int]]] = [(False, -1, (0, 0))] * level
        out_valid, out_pix, out_tag = False, -1, (0, 0)
        windows: list[list[int]] = []
        slots: list[int] = []  # per cycle: the index of the window whose output is out_pix
        result = StreamRun([], [], [])
        for t in range(n_cycles):
            result.valid.append(out_valid)
            slots.append(out_pix)
            result.tags.append(out_tag if out_valid else None)
            # combinational
            virtual = tailing and not in_valid and slot_index == 0
            slot = in_valid or virtual
            slot_pix = in_pix if in_valid else zero
            compared = tail_index if tailing else slot_index
            fire = slot and compared == triggers[out_index]
            if fire_d:  # the window's outputs are computed for all windows at the end
                windows.append(
                    [
                        buffer[g.entry(a, b)][c] if masks[fire_tag[1]][a][b] else 0
                        for a in range(g.window[0])
                        for b in range(g.window[1])
                        for c in range(self.c_in)
                    ]
                )
                stage0 = (True, len(windows) - 1, fire_tag)
            else:
                stage0 = (False, -1, fire_tag)
            last = pipe[-1] if level else stage0
            # clock edge
            new_buffer = [list(slot_pix)] + buffer[:-1] if slot else buffer
            new_in_pix = list(pixels[t]) if valid[t] else in_pix
            new_pipe = ([stage0] + pipe[:-1]) if level else pipe
            if resets[t]:
                in_valid, slot_index, out_index, tailing = False, 0, 0, False
                fire_d, out_valid = False, False
                new_pipe = [(False, p[1], p[2]) for p in new_pipe]
                pending.clear()
            else:
                if in_valid and slot_index == 0:
                    started += 1
                    pending.append(started)
                if fire:
                    fire_tag = (pending[0], out_index)
                    if out_index == g.n_outputs - 1:
                        pending.popleft()
                    out_index = (out_index + 1) % g.n_outputs
                if in_valid and slot_index == hw - 1 and g.tail:
                    tailing, tail_index = True, hw
                elif slot and tailing:
                    if tail_index == last_tail:
                        tailing = False
                    else:
                        tail_index += 1
                if in_valid:
                    slot_index = 0 if slot_index == hw - 1 else slot_index + 1
                in_valid = bool(valid[t])
                fire_d = fire
                out_valid = last[0]
            out_pix, out_tag = last[1], last[2]
            buffer, in_pix, pipe = new_buffer, new_in_pix, new_pipe
        flat = np.array(windows, dtype=object).reshape(len(windows), g.n_taps * self.c_in)
        ys = self.kernel.evaluate([flat]) if windows else []
        rows = [[int(v) for v in y] for y in ys]
        blank = [0] * self.c_out
        result.pixels.extend(rows[w] if w >= 0 else blank for w in slots)
        return result

    def _mask(self, n: int) -> list[list[bool]]:
        """Per tap ``(a, b)`` whether it lies in the image at output position ``n``."""
        g = self.geometry
        o0, o1 = divmod(n, g.out[1])
        rows = [g.row_range(a) for a in range(g.window[0])]
        cols = [g.col_range(b) for b in range(g.window[1])]
        return [
            [rows[a][0] <= o0 <= rows[a][1] and cols[b][0] <= o1 <= cols[b][1] for b in
             range(g.window[1])]
            for a in range(g.window[0])
        ]  # fmt: skip
