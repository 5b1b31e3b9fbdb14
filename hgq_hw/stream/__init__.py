"""Stream mode: convolutional layers computed one pixel per cycle (design note, issue 12 item 3).

In *parallel* mode (:mod:`hgq_hw.plan.conv`) a Conv is a Dense plan over the flattened
tensor: every output position has its own adder graph and one whole image enters per cycle.
That does not fit a 32x32x3 input. In *stream* mode the image enters one pixel at a time and
one kernel adder graph is reused for every output position.

The pixel stream
----------------
* One **input pixel** (all ``c_in`` channels of one spatial position) per cycle on
  ``i_stream`` with ``valid``, in C (row-major) order of the positions; the payload is the
  pixel's channels packed as :class:`hgq_hw.layout.BusLayout` packs a 1-d tensor (channel 0 in
  the low bits). Gaps (cycles without ``valid``) are allowed anywhere inside an image; there is
  no backpressure (``ready``): a layer accepts a pixel every cycle.
* One **output pixel** (all ``c_out`` channels) per cycle at most on ``o_stream`` with
  ``valid``, output positions in C order, the same packing.
* Images follow each other with no marker: the layer counts pixels. A synchronous ``rst``
  (mid-image too) clears every counter and every ``valid``; the next pixel after it is pixel 0
  of a new image. Outputs in flight at the reset are lost, and so are the tail outputs of the
  image before when the image cut short was filling its tail (see below).

Line buffer, window, kernel
---------------------------
* Spatial shape ``(H, W)`` (a Conv1D is ``H = 1`` with a window of one row), window
  ``(w0, w1)``, strides ``(s0, s1)``, zeros padded before ``(lo0, lo1)``
  (:func:`hgq_hw.spec.window_geometry`, Keras semantics).
* Every pixel accepted is a **slot**; slots are numbered ``F = 0, 1, ...`` in C order, so slot
  ``F`` is the pixel at row ``F // W``, column ``F % W``. The **line buffer** is a shift register
  of the last ``(w0 - 1) * W + w1`` slots (the rows a window needs), shifted once per slot:
  after slot ``F``, buffer entry ``j`` holds slot ``F - j``.
* Output position ``(o0, o1)`` covers input rows ``o0*s0 - lo0 + a`` and columns
  ``o1*s1 - lo1 + b`` (``a < w0``, ``b < w1``). It **fires** in the cycle of slot
  ``T(o0, o1) = (o0*s0 - lo0 + w0 - 1) * W + (o1*s1 - lo1 + w1 - 1)`` (its bottom-right tap),
  when tap ``(a, b)`` sits in buffer entry ``(w0 - 1 - a) * W + (w1 - 1 - b)``, for every
  position: the window is fixed wiring, no multiplexer. ``T`` grows strictly along the output
  positions, so at most one output fires per slot.
* A tap outside the image (``"same"`` padding) reads a buffer entry that holds a neighbouring
  row's pixel (or a pixel of the previous image, or nothing yet): it is **masked** to the value
  0 (an AND with a per-tap-row and per-tap-column enable that compares the output position with
  constants). A "same" window's right border needs no extra slot: the slot it fires on is a
  pixel of the next row. Zeros need no type: raw 0 is the value 0 in every type.
* The window (``w0 * w1 * c_in`` elements) feeds **one kernel adder graph**: the CMVM solution
  (:func:`hgq_hw.cmvm.dense_graph`) of the Dense layer whose ``(w0*w1*c_in, c_out)`` matrix is
  the kernel (taps in C order, then channels: ``kernel_raw.reshape(-1, c_out)``) and whose bias
  is the Conv's, pipelined by :func:`hgq_hw.plan.plan_dense` like any Dense layer. The graph's
  inputs are registered window taps, so the buffer may shift on while the graph works.

The tail, the initiation interval
---------------------------------
With ``"same"`` padding the last outputs fire on slots past the image
(``F >= H*W``): ``tail = max(T_last - (H*W - 1), 0)`` of them, ``hi0 * W + hi1`` for the
zeros ``hi`` padded after. An image's last pixel starts its tail (a second slot counter,
``tail_f``, from ``H*W``); every tail slot's taps lie in the padding (masked), so any pixel may
fill it:

* a pixel that arrives in the tail is **both** the tail's next slot and the next image's pixel
  (``slot_f`` counts it from 0);
* a cycle without a pixel, before the next image began, is a **virtual slot** (a zero shifted
  in), so a last image's tail ends ``tail`` cycles after its last pixel;
* a cycle without a pixel after the next image began is no slot (its pixels must stay
  contiguous in the buffer): the tail waits for that image's next pixel.

While the tail runs, outputs fire on ``tail_f``, then on ``slot_f`` again; no two fire on one
slot, because the next image's first trigger ``T(0, 0) >= tail`` (``(O - 1) * s <= n - 1`` in
both paddings). A window more than an image long (``tail > H*W``) is refused. So images may
follow **back to back**: the **initiation interval** is ``ii = H*W`` cycles per image at full
rate, and no idle cycles are ever required.

What the layer reports (:class:`hgq_hw.stream.window.StreamWindowPlan`)
-------------------------------------------------------------------------
* ``pixel_latency``: cycles from the slot that fires an output at ``i_stream`` to that output
  at ``o_stream``: input register, window register, the kernel graph's latency, output
  register (``graph latency + 3``).
* ``latency``: ``pixel_latency + tail``, the cycles from an image's last pixel to its last
  output pixel when that output fires on the image's last slot (always with ``"same"``
  padding; a ``"valid"`` window that stops short of the last column or row fires earlier) and
  the tail's slots come one per cycle (virtual ones, or the next image at full rate).
* ``ii`` (cycles per image) and ``buffer_bits``: line-buffer bits, ``((w0 - 1) * W + w1)``
  times the pixel's bits (registers in this first version; rows could go to block RAM).

Types on a stream
-----------------
A pixel is one bus word, so every pixel of a streamed tensor must have the **same per-channel
type**: stream mode requires input types that do not vary with position (``k``/``i``/``f``
of the Input or Requantize before it constant along the spatial axes). A spec whose types vary
is refused with a :class:`hgq_hw.spec.SpecError` naming the layer and field; ``--io auto``
builds such a spec in parallel mode (the whole spec: modes are not mixed per layer yet). The
output pixel type is one
type per channel: the kernel graph's exact output type (``f`` the largest of ``f_x + kernel_f``
over the live taps and the bias, ``k``/``i`` holding the interval of a full window). At a
``"same"`` border the reference's type is narrower (fewer live taps); the value is the same, so
streamed and reference outputs are compared as values (raw aligned by ``f``), and the layer
after a streamed Conv must read the per-channel type.

Pooling on the stream
---------------------
MaxPool and AvgPool use the same line buffer, window and firing rule; only the window
operation differs (:mod:`hgq_hw.stream.layers`): an AvgPool's is the Dense layer with weight
``2**-log2(window)`` from each tap of a channel to that channel (exact, as the reference), a
MaxPool's is a Max plan (:func:`hgq_hw.plan.plan_max`: per channel the maximum of its taps,
compare-and-select trees). Pools are ``"valid"`` only (as in the spec), so nothing is masked.

A network on the stream (:mod:`hgq_hw.stream.network`)
--------------------------------------------------------
A chain ``Input -> (Conv | MaxPool | AvgPool | ReLU | Requantize)* -> Reshape to 1-d -> ...``:
each windowed layer is a streamed stage, each run of ReLU/Requantize between them a pixel
stage (a NetworkPlan over one pixel); a **gather** shifts the last stage's pixels into one word
and presents the flattened tensor (C order) for one cycle after an image's last pixel; the
layers after the Reshape are the parallel Dense part (:func:`hgq_hw.plan.plan_network` on the
gathered tensor), one sample out per image. Each stage is its own Verilog module
(:func:`hgq_hw.stream.netlist.write_stream_network` chains them in a top module). Every stage
takes a pixel in any cycle, so the network's ``ii`` is its input's ``n_pixels``.

``hgq gen --io parallel|stream|auto`` (:func:`hgq_hw.emit.build`): ``auto`` streams when the
windowed layers fully unrolled would take more than :data:`AUTO_STREAM_TAPS` taps (live kernel
weights times output positions, pool windows times output elements) and stream mode takes the
spec; otherwise parallel, byte for byte what ``--io parallel`` writes. ``report.json`` of a
stream design has ``stream`` (ii, latency, buffer bits, registers, stages) and the
one-pixel ``input`` layout. ``hgq sim`` simulates a stream design pixel by pixel in cocotb
(:mod:`sim.tb_stream`, :mod:`sim.stream_runner`); ``hgq prove`` refuses it by name.
``hgq build --io stream`` puts it in the board tops (:mod:`boards.stream_core`: the uart top
takes an image's pixels in one request frame and feeds them as they arrive, the selftest top
streams ROM images back to back).

Next steps: line-buffer rows in block RAM; streamed tensors whose types vary with position
(per-position constants multiplexed by the output counter); mixing modes per layer.
"""

from __future__ import annotations

from hgq_hw.stream.layers import (
    STREAMED_KINDS,
    plan_stream_avgpool,
    plan_stream_conv,
    plan_stream_layer,
    plan_stream_maxpool,
)
from hgq_hw.stream.network import (
    AUTO_STREAM_TAPS,
    IO_MODES,
    GatherStage,
    PixelStage,
    StreamNetworkPlan,
    choose_io,
    parallel_taps,
    plan_stream_network,
)
from hgq_hw.stream.window import StreamGeometry, StreamRun, StreamWindowPlan, pixel_types

__all__ = [
    "AUTO_STREAM_TAPS",
    "IO_MODES",
    "STREAMED_KINDS",
    "GatherStage",
    "PixelStage",
    "StreamGeometry",
    "StreamNetworkPlan",
    "StreamRun",
    "StreamWindowPlan",
    "choose_io",
    "parallel_taps",
    "pixel_types",
    "plan_stream_avgpool",
    "plan_stream_conv",
    "plan_stream_layer",
    "plan_stream_maxpool",
    "plan_stream_network",
]
