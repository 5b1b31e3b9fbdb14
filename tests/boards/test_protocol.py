"""The UART frames and the exact argmax of :mod:`boards.protocol`."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from boards.protocol import (
    NAK,
    REQUEST_HEADER,
    RESPONSE_HEADER,
    ProtocolError,
    argmax_exact,
    decode_request,
    decode_response,
    encode_request,
    encode_response,
    n_bytes,
    parse_selftest_line,
    response_length,
    selftest_line,
    xor_bytes,
)
from hgq_hw.fixed import TensorType


def test_request_layout_is_header_little_endian_payload_and_xor() -> None:
    frame = encode_request(0x0123AB, 17)
    assert frame == bytes([REQUEST_HEADER, 0xAB, 0x23, 0x01, 0xAB ^ 0x23 ^ 0x01])
    assert decode_request(frame, 17) == 0x0123AB


@pytest.mark.parametrize("width", [0, 1, 7, 8, 9, 16, 64, 100])
def test_request_and_response_round_trip(width: int) -> None:
    rng = np.random.default_rng(width)
    for _ in range(20):
        word = int(rng.integers(0, 1 << 62)) % (1 << width) if width else 0
        assert decode_request(encode_request(word, width), width) == word
        frame = encode_response(word, 7, width)
        assert len(frame) == response_length(width) == n_bytes(width) + 3
        assert frame[0] == RESPONSE_HEADER
        got = decode_response(frame, width)
        assert (got.word, got.argmax) == (word, 7)


def test_zero_width_frames_carry_no_payload() -> None:
    assert encode_request(0, 0) == bytes([REQUEST_HEADER, 0])
    assert encode_response(0, 3, 0) == bytes([RESPONSE_HEADER, 3, 3])


def test_bad_frames_are_refused_with_the_reason() -> None:
    frame = bytearray(encode_request(0x55AA, 16))
    frame[-1] ^= 1
    with pytest.raises(ProtocolError, match="checksum"):
        decode_request(bytes(frame), 16)
    with pytest.raises(ProtocolError, match="header"):
        decode_request(b"\x00" + bytes(frame[1:]), 16)
    with pytest.raises(ProtocolError, match="4 bytes"):
        decode_request(bytes(frame[:-1]), 16)
    with pytest.raises(ProtocolError, match="NAK"):
        decode_response(bytes([NAK]), 16)
    resp = bytearray(encode_response(0x1234, 1, 16))
    resp[2] ^= 0x80
    with pytest.raises(ProtocolError, match="checksum"):
        decode_response(bytes(resp), 16)
    with pytest.raises(ValueError, match="does not fit"):
        encode_request(1 << 16, 16)
    with pytest.raises(ValueError, match="argmax"):
        encode_response(0, 256, 8)


def test_xor_of_nothing_is_zero() -> None:
    assert xor_bytes([]) == 0
    assert xor_bytes(b"\x0f\xf0\xff") == 0


def _reference_argmax(raw: list[int], t: TensorType) -> int:
    values = [
        Fraction(int(r)) / Fraction(2) ** int(f) if w > 0 else Fraction(0)
        for r, f, w in zip(raw, t.f, t.width)
    ]
    return values.index(max(values))  # first (lowest) index of the maximum


def test_argmax_compares_real_values_across_fractional_bits() -> None:
    t = TensorType(np.array([1, 1, 0]), np.array([3, 0, 2]), np.array([0, 4, -1]))
    # 2 (f=0) vs 40 * 2**-4 = 2.5 vs 1 * 2**1 = 2
    assert argmax_exact([2, 40, 1], t) == 1
    # raw order differs from real order: 3 vs 47/16 < 3 vs 2
    assert argmax_exact([3, 47, 1], t) == 0
    # ties go to the lowest index: 2 == 32/16 == 1*2
    assert argmax_exact([2, 32, 1], t) == 0
    assert argmax_exact([-1, -16, 0], t) == 2


def test_argmax_treats_width_zero_as_zero_and_matches_fractions() -> None:
    t = TensorType(np.array([1, 0, 1]), np.array([2, 0, -3]), np.array([3, 0, 9]))
    assert t.width[1] == 0
    assert argmax_exact([-5, 0, -1], t) == 1  # the constant 0 beats negatives
    rng = np.random.default_rng(0)
    for _ in range(300):
        k = rng.integers(0, 2, 6)
        width = rng.integers(0, 9, 6)
        k = np.where(width == 0, 0, k)
        f = rng.integers(-4, 10, 6)
        t = TensorType(k, width - k - f, f)
        raw = [
            int(rng.integers(t.element((e,)).raw_min, t.element((e,)).raw_max + 1))
            if width[e]
            else 0
            for e in range(6)
        ]
        assert argmax_exact(raw, t) == _reference_argmax(raw, t)


def test_selftest_line_and_parser() -> None:
    assert selftest_line(40, 40) == b"HGQ PASS 0028/0028\r\n"
    assert selftest_line(39, 40) == b"HGQ FAIL 0027/0028\r\n"
    assert selftest_line(0, 0) == b"HGQ FAIL 0000/0000\r\n"
    noise = b"\x00garbage HGQ FAIL 0001/0002\r\n" + selftest_line(40, 40) + b"HGQ PA"
    assert parse_selftest_line(noise) == (True, 40, 40)
    assert parse_selftest_line(b"nothing") is None
    with pytest.raises(ValueError, match="counts"):
        selftest_line(3, 2)
