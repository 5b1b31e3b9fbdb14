"""The host side of the UART top: send samples, check every answer against the reference.

:func:`run_samples` talks to anything with ``write(bytes)`` / ``read(n) -> bytes`` (a
``serial.Serial``, or a fake in tests) using the frames of :mod:`boards.protocol` (for a
stream design, ``io="stream"``, the image requests: every sample's pixels), compares each
output word and argmax with :func:`hgq_hw.reference.evaluate` and
:func:`boards.protocol.argmax_exact`, and returns a :class:`RunSummary` with the agreement and
the throughput.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from boards.protocol import (
    NAK,
    ProtocolError,
    argmax_exact,
    decode_response,
    encode_image_request,
    encode_request,
    image_pixel_words,
    response_length,
    stream_pixel_layout,
)
from hgq_hw.spec import ModelSpec

__all__ = [
    "Link",
    "RunSummary",
    "open_serial",
    "random_raw_inputs",
    "request_frames",
    "run_samples",
]

MAX_REPORTED = 10


class Link(Protocol):
    """A byte pipe to the board."""

    def write(self, data: bytes) -> Any: ...

    def read(self, size: int) -> bytes: ...


@dataclass
class RunSummary:
    """How the board's answers compared with the reference."""

    samples: int = 0
    outputs_agree: int = 0
    argmax_agree: int = 0
    errors: int = 0
    """Samples with no valid answer (timeout, NAK, bad checksum)."""
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.samples > 0 and self.outputs_agree == self.argmax_agree == self.samples

    @property
    def samples_per_second(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        lines = [
            f"samples:        {self.samples}",
            f"outputs agree:  {self.outputs_agree}/{self.samples} (bit-exact)",
            f"argmax agrees:  {self.argmax_agree}/{self.samples}",
            f"errors:         {self.errors} (timeouts, NAKs, bad frames)",
            f"throughput:     {self.samples_per_second:.1f} samples/s "
            f"({self.seconds:.2f} s, stop-and-wait over the UART)",
        ]
        lines += [f"  {p}" for p in self.problems[:MAX_REPORTED]]
        lines.append("PASS" if self.passed else "FAIL")
        return "\n".join(lines)


def random_raw_inputs(spec: ModelSpec, count: int, seed: int = 0) -> np.ndarray:
    """``count`` raw inputs drawn uniformly within each element's type."""
    from boards.selftest_top import selftest_vectors

    vectors = selftest_vectors(spec, max(count, 1), seed=seed)
    from hgq_hw.layout import BusLayout

    return BusLayout.of(spec.input.type).unpack(vectors.inputs)[:count]


def open_serial(port: str, baud: int, timeout: float) -> Any:
    """A ``serial.Serial`` on ``port``; ``ConnectionError`` (an ``OSError``) saying what to
    check when it cannot be opened, ``ModuleNotFoundError`` saying what to install without
    pyserial."""
    try:
        import serial
    except ImportError:
        raise ModuleNotFoundError(
            "pyserial is needed: pip install pyserial", name="serial"
        ) from None
    try:
        link = serial.Serial(port, baudrate=baud, timeout=timeout)
    except (serial.SerialException, OSError) as err:
        raise ConnectionError(
            f"cannot open serial port {port!r} ({err}); is the board plugged in? on Linux the "
            "iCEBreaker's UART is usually /dev/ttyUSB1, the ULX3S' /dev/ttyUSB0"
        ) from None
    link.reset_input_buffer()
    return link


def request_frames(spec: ModelSpec, x_raw: np.ndarray, io: str = "parallel") -> list[bytes]:
    """The request frame of every raw sample: the input bus word's (``io="parallel"``), or the
    image's pixels (``io="stream"``, :func:`boards.protocol.encode_image_request`)."""
    from hgq_hw.layout import BusLayout
    from hgq_hw.reference import infer_types

    if io == "stream":
        layout = stream_pixel_layout(spec)
        return [
            encode_image_request(image_pixel_words(image, layout), layout.width)
            for image in np.asarray(x_raw, dtype=object)
        ]
    if io != "parallel":
        raise ValueError(f"io must be 'parallel' or 'stream', got {io!r}")
    layout = BusLayout.of(infer_types(spec)[spec.input.name])
    return [encode_request(word, layout.width) for word in layout.pack(x_raw)]


def run_samples(
    link: Link,
    spec: ModelSpec,
    x_raw: np.ndarray,
    *,
    progress: Callable[[int, int], None] | None = None,
    io: str = "parallel",
) -> RunSummary:
    """Send every raw input of ``x_raw`` (shape ``(n, *input_shape)``) and check the answers;
    ``io`` is the board's (``hgq build --io``): ``"stream"`` sends each sample as an image
    request, pixel by pixel."""
    from hgq_hw.layout import BusLayout
    from hgq_hw.reference import evaluate, infer_types

    types = infer_types(spec)
    out_type = types[spec.output.name]
    out_layout = BusLayout.of(out_type)
    y_raw = evaluate(spec, x_raw)
    want_words = out_layout.pack(y_raw)
    frames = request_frames(spec, x_raw, io)
    size = response_length(out_layout.width)
    result = RunSummary()
    start = time.perf_counter()
    for index, request in enumerate(frames):
        link.write(request)
        first = link.read(1)
        frame = first if first == bytes([NAK]) else first + link.read(size - 1)
        result.samples += 1
        try:
            got = decode_response(frame, out_layout.width)
        except ProtocolError as err:
            result.errors += 1
            if hasattr(link, "reset_input_buffer"):  # drop late bytes: resynchronize
                link.reset_input_buffer()
            if len(result.problems) < MAX_REPORTED:
                result.problems.append(f"sample {index}: {err if frame else 'no answer (timeout)'}")
            continue
        want_argmax = argmax_exact(y_raw[index], out_type)
        if got.word == want_words[index]:
            result.outputs_agree += 1
        elif len(result.problems) < MAX_REPORTED:
            g = out_layout.unpack([got.word])[0].ravel().tolist()
            w = np.asarray(y_raw[index], dtype=object).ravel().tolist()
            result.problems.append(f"sample {index}: outputs {g}, reference {w}")
        if got.argmax == want_argmax:
            result.argmax_agree += 1
        elif len(result.problems) < MAX_REPORTED:
            result.problems.append(f"sample {index}: argmax {got.argmax}, reference {want_argmax}")
        if progress is not None:
            progress(index + 1, len(frames))
    result.seconds = time.perf_counter() - start
    return result
