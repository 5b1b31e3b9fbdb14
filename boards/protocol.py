"""The UART wire protocol between a host and a board, and the exact argmax (pure Python).

Framing (8 data bits, no parity, 1 stop bit; the baud rate is a build option, default 115200)::

    host -> board   0xA5 | in_bytes x IN  (little-endian) | CHK
    board -> host   0x5A | out_bytes x OUT (little-endian) | ARGMAX | CHK
    board -> host   0xEE                                     (NAK: the request's CHK was wrong)

* ``IN`` is the network's input bus word (:class:`hgq_hw.layout.BusLayout`, element 0 at the
  least significant bit, two's complement where ``k = 1``) in ``in_bytes = ceil(in_width / 8)``
  bytes, least significant byte first; unused high bits are 0. ``OUT`` likewise holds the output
  bus word in ``out_bytes = ceil(out_width / 8)`` bytes. A width of 0 gives 0 bytes.
* ``CHK`` is the XOR of the bytes between the header and ``CHK`` (the payload bytes, and for a
  response also ``ARGMAX``); the XOR of an empty list is 0.
* ``ARGMAX`` is the index of the largest output element by real value ``raw * 2**-f`` (elements
  may have different ``f``: they are compared exactly, after aligning to a common ``f``); ties go
  to the lowest index; a width-0 element is the constant 0. At most 256 output elements.
* Stop-and-wait: the host sends one request and waits for its response (or NAK) before the next.
  A byte other than ``0xA5`` between frames is ignored; a frame interrupted for longer than
  :data:`FRAME_TIMEOUT_BYTES` byte times is dropped by the board.

Stream-mode designs (``hgq build --io stream``, :class:`boards.stream_uart_top.StreamUARTTop`)
take an image as a stream of pixels; the request carries the image pixel by pixel (the
response is the same)::

    host -> board   0xA5 | n_pixels x (pixel_bytes x PIXEL (little-endian)) | CHK

* ``PIXEL`` is one pixel (all channels of one position) packed as the design's pixel layout
  (``report.json``'s ``input``, :attr:`hgq_hw.stream.StreamNetworkPlan.pixel_layout`: channel 0
  at the least significant bit) in ``pixel_bytes = ceil(pixel_width / 8)`` bytes, least
  significant byte first; pixels in C (row-major) order of the positions
  (:func:`image_pixel_words`). ``CHK`` is the XOR of every pixel byte.
* The board feeds each pixel to the network as its last byte arrives, so the network works
  while the image is still coming in; the answer waits for ``CHK``. A bad ``CHK`` gets the NAK
  and the image's output is dropped; each header starts a new image (the network is reset).

The self-test top sends the ASCII status line of :func:`selftest_line` about once a second.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce

import numpy as np

from hgq_hw.fixed import TensorType
from hgq_hw.layout import BusLayout
from hgq_hw.spec import ModelSpec, SpecError

__all__ = [
    "FRAME_TIMEOUT_BYTES",
    "MAX_OUTPUTS",
    "NAK",
    "REQUEST_HEADER",
    "RESPONSE_HEADER",
    "ProtocolError",
    "Response",
    "argmax_exact",
    "decode_image_request",
    "decode_request",
    "decode_response",
    "encode_image_request",
    "encode_request",
    "encode_response",
    "image_pixel_words",
    "image_request_length",
    "n_bytes",
    "parse_selftest_line",
    "response_length",
    "selftest_line",
    "stream_pixel_layout",
    "xor_bytes",
]

REQUEST_HEADER = 0xA5
RESPONSE_HEADER = 0x5A
NAK = 0xEE
MAX_OUTPUTS = 256
"""The argmax byte holds indices 0..255."""
FRAME_TIMEOUT_BYTES = 64
"""Silence (in byte times) after which the board drops a partly received request."""


class ProtocolError(ValueError):
    """A frame that does not follow the protocol (wrong header, length or checksum)."""


def n_bytes(width: int) -> int:
    """Bytes that hold a bus word of ``width`` bits: ``ceil(width / 8)``."""
    if width < 0:
        raise ValueError(f"a bus width cannot be negative, got {width}")
    return (width + 7) // 8


def xor_bytes(data: Iterable[int]) -> int:
    """XOR of the byte values (0 for none)."""
    return reduce(lambda a, b: a ^ b, data, 0)


def _word_bytes(word: int, width: int) -> bytes:
    word = int(word)
    if word < 0 or word >> width:
        raise ValueError(f"bus word {word} does not fit {width} unsigned bits")
    return word.to_bytes(n_bytes(width), "little")


def encode_request(word: int, in_width: int) -> bytes:
    """The request frame for input bus word ``word`` (``0 <= word < 2**in_width``)."""
    payload = _word_bytes(word, in_width)
    return bytes([REQUEST_HEADER, *payload, xor_bytes(payload)])


def decode_request(frame: bytes, in_width: int) -> int:
    """The input bus word of a request frame (:class:`ProtocolError` when malformed)."""
    size = n_bytes(in_width)
    if len(frame) != size + 2:
        raise ProtocolError(f"a request has {size + 2} bytes for {in_width} bits, got {len(frame)}")
    if frame[0] != REQUEST_HEADER:
        raise ProtocolError(f"request header 0x{frame[0]:02X}, expected 0x{REQUEST_HEADER:02X}")
    payload = frame[1 : 1 + size]
    if xor_bytes(payload) != frame[-1]:
        raise ProtocolError(
            f"request checksum 0x{frame[-1]:02X}, payload XOR is 0x{xor_bytes(payload):02X}"
        )
    return int.from_bytes(payload, "little")


def stream_pixel_layout(spec: ModelSpec) -> BusLayout:
    """The pixel layout of ``spec``'s stream design (one type per channel, as
    :func:`hgq_hw.stream.plan_stream_network` makes it; a :class:`~hgq_hw.spec.SpecError` when
    the input types vary with position), without planning the network."""
    from hgq_hw.stream import pixel_types

    shape = spec.input_shape
    if len(shape) < 2:
        raise SpecError(
            "stream mode needs an N-d (channels-last) input", layer=spec.input.name, field="k"
        )
    return BusLayout.of(pixel_types(spec.input.type.flat(), shape[:-1], "k", spec.input.name))


def image_pixel_words(image_raw: np.ndarray, pixel_layout: BusLayout) -> list[int]:
    """The pixels of one raw image (shape ``(*spatial, channels)``) as bus words of
    ``pixel_layout``, in C (row-major) order of the positions: the order a stream design takes."""
    image = np.asarray(image_raw, dtype=object)
    channels = pixel_layout.shape[0] if pixel_layout.shape else 1
    pixels = image.reshape(-1, channels)
    if pixel_layout.width == 0:
        return [0] * len(pixels)
    return pixel_layout.pack(pixels)


def image_request_length(n_pixels: int, pixel_width: int) -> int:
    """Bytes in an image request: header, every pixel's bytes, checksum."""
    return n_pixels * n_bytes(pixel_width) + 2


def encode_image_request(pixel_words: Sequence[int], pixel_width: int) -> bytes:
    """The request frame of an image given as its pixel words (C order of the positions)."""
    payload = b"".join(_word_bytes(word, pixel_width) for word in pixel_words)
    return bytes([REQUEST_HEADER, *payload, xor_bytes(payload)])


def decode_image_request(frame: bytes, n_pixels: int, pixel_width: int) -> list[int]:
    """The pixel words of an image request (:class:`ProtocolError` when malformed)."""
    size = image_request_length(n_pixels, pixel_width)
    if len(frame) != size:
        raise ProtocolError(
            f"an image request has {size} bytes for {n_pixels} pixels of {pixel_width} bits, "
            f"got {len(frame)}"
        )
    if frame[0] != REQUEST_HEADER:
        raise ProtocolError(f"request header 0x{frame[0]:02X}, expected 0x{REQUEST_HEADER:02X}")
    payload = frame[1:-1]
    if xor_bytes(payload) != frame[-1]:
        raise ProtocolError(
            f"request checksum 0x{frame[-1]:02X}, payload XOR is 0x{xor_bytes(payload):02X}"
        )
    step = n_bytes(pixel_width)
    if step == 0:
        return [0] * n_pixels
    return [int.from_bytes(payload[k : k + step], "little") for k in range(0, len(payload), step)]


def response_length(out_width: int) -> int:
    """Bytes in a (non-NAK) response: header, output word, argmax, checksum."""
    return n_bytes(out_width) + 3


def encode_response(word: int, argmax: int, out_width: int) -> bytes:
    """The response frame for output bus word ``word`` and index ``argmax``."""
    if not 0 <= argmax < MAX_OUTPUTS:
        raise ValueError(f"argmax must lie in [0, {MAX_OUTPUTS}), got {argmax}")
    body = [*_word_bytes(word, out_width), argmax]
    return bytes([RESPONSE_HEADER, *body, xor_bytes(body)])


@dataclass(frozen=True)
class Response:
    """A decoded response: the output bus word and the argmax index."""

    word: int
    argmax: int


def decode_response(frame: bytes, out_width: int) -> Response:
    """Decode a response frame; a NAK or a malformed frame raises :class:`ProtocolError`."""
    if len(frame) >= 1 and frame[0] == NAK:
        raise ProtocolError("the board answered NAK (0xEE): it saw a bad request checksum")
    size = response_length(out_width)
    if len(frame) != size:
        raise ProtocolError(
            f"a response has {size} bytes for {out_width} bits, got {len(frame)}: {frame.hex()}"
        )
    if frame[0] != RESPONSE_HEADER:
        raise ProtocolError(f"response header 0x{frame[0]:02X}, expected 0x{RESPONSE_HEADER:02X}")
    body = frame[1:-1]
    if xor_bytes(body) != frame[-1]:
        raise ProtocolError(
            f"response checksum 0x{frame[-1]:02X}, body XOR is 0x{xor_bytes(body):02X}"
        )
    return Response(int.from_bytes(body[:-1], "little"), body[-1])


def argmax_exact(raw: Sequence[int] | np.ndarray, out_type: TensorType) -> int:
    """Index of the largest real value ``raw[e] * 2**-f[e]``; ties go to the lowest index.

    ``raw`` is one sample's raw output (flattened in C order, like ``out_type``). Values are
    compared exactly as integers aligned to the largest ``f`` of the non-zero-width elements.
    """
    values = [int(v) for v in np.asarray(raw, dtype=object).ravel()]
    f = [int(v) for v in np.asarray(out_type.f).ravel()]
    width = [int(v) for v in np.asarray(out_type.width).ravel()]
    if len(values) != len(f):
        raise ValueError(f"{len(values)} raw values for a type of {len(f)} elements")
    if not values:
        raise ValueError("argmax of an empty tensor")
    live = [fe for fe, w in zip(f, width) if w > 0]
    top = max(live, default=0)
    aligned = [v << (top - fe) if w > 0 else 0 for v, fe, w in zip(values, f, width)]
    best = 0
    for index, value in enumerate(aligned):
        if value > aligned[best]:
            best = index
    return best


_LINE_RE = re.compile(rb"HGQ (PASS|FAIL) ([0-9A-F]{4})/([0-9A-F]{4})\r\n")


def selftest_line(matched: int, total: int) -> bytes:
    """The self-test status line, e.g. ``b"HGQ PASS 0028/0028\\r\\n"`` (counts in hex).

    PASS only when every one of ``total`` (> 0) vectors matched.
    """
    if not 0 <= matched <= total <= 0xFFFF:
        raise ValueError(
            f"counts must satisfy 0 <= matched <= total <= 65535, got {matched}, {total}"
        )
    verdict = "PASS" if matched == total and total > 0 else "FAIL"
    return f"HGQ {verdict} {matched:04X}/{total:04X}\r\n".encode("ascii")


def parse_selftest_line(data: bytes) -> tuple[bool, int, int] | None:
    """``(passed, matched, total)`` of the last complete status line in ``data``, or None."""
    found = _LINE_RE.findall(data)
    if not found:
        return None
    verdict, matched, total = found[-1]
    return verdict == b"PASS", int(matched, 16), int(total, 16)
