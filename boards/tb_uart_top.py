"""cocotb testbench of :class:`boards.uart_top.UARTTop`: frames in over ``rx``, answers out on
``tx`` (the UART bit level from ``cocotbext-uart``, see :mod:`boards.uart_model`), compared
bit-exactly with the reference (outputs and argmax, from the config).

Config (JSON named by ``HGQ_SIM_CONFIG``): ``divisor``, ``in_width``, ``out_width``,
``inputs`` / ``expected`` (bus words as decimal strings), ``argmax`` (ints), ``seed``,
``latency``, ``report`` (where the per-test results go). A stream design's config has
``frames`` (each image's request frame, hex: :func:`boards.protocol.encode_image_request`)
instead of ``inputs``.
"""

from __future__ import annotations

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge

from boards.protocol import (
    NAK,
    ProtocolError,
    decode_response,
    encode_request,
    n_bytes,
    response_length,
)
from boards.uart_model import UartSink, UartSource, load_config, write_report

MAX_REPORTED = 10


async def _start(dut):
    cfg = load_config()
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    source = UartSource(dut.clk, dut.rx, cfg["divisor"])
    sink = UartSink(dut.clk, dut.tx, cfg["divisor"])
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3, rising=False)
    dut.rst.value = 0
    await FallingEdge(dut.clk)
    cocotb.start_soon(sink.run())
    dut._log.info(
        f"{len(cfg['expected'])} frames, divisor {cfg['divisor']}, "
        f"{cfg['in_width']} -> {cfg['out_width']} bits, seed {cfg['seed']}"
    )
    return cfg, source, sink


def _timeout(cfg) -> int:
    """Cycles a response may take: its bytes plus a generous margin for latency and argmax."""
    return (response_length(cfg["out_width"]) + 4) * 10 * cfg["divisor"] + 2000 + cfg["latency"]


def _request(cfg, index: int) -> bytes:
    """Request frame ``index``: a stream design's image frame, or the input word's frame."""
    if "frames" in cfg:
        return bytes.fromhex(cfg["frames"][index])
    return encode_request(int(cfg["inputs"][index]), cfg["in_width"])


async def _exchange(cfg, source, sink, frame: bytes) -> bytes:
    await source.send(frame)
    return await sink.read(response_length(cfg["out_width"]), _timeout(cfg))


@cocotb.test()
async def uart_frames(dut) -> None:
    """Every request frame is answered with the reference's output word and exact argmax."""
    cfg, source, sink = await _start(dut)
    rng = random.Random(cfg["seed"])
    mismatches, answered = [], 0
    for index, (want, want_argmax) in enumerate(zip(cfg["expected"], cfg["argmax"])):
        if rng.random() < 0.2:  # an idle gap between frames now and then
            await source.idle(rng.randint(1, 20))
        frame = await _exchange(cfg, source, sink, _request(cfg, index))
        try:
            got = decode_response(frame, cfg["out_width"])
        except ProtocolError as err:
            mismatches.append(f"frame {index}: {err}")
            continue
        answered += 1
        if got.word != int(want) or got.argmax != want_argmax:
            mismatches.append(
                f"frame {index}: expected word {int(want):#x} argmax {want_argmax}, got "
                f"word {got.word:#x} argmax {got.argmax} (seed {cfg['seed']})"
                + (f", image {cfg['sources'][index]}" if "sources" in cfg else "")
            )
    write_report(
        cfg,
        "uart_frames",
        {"frames": len(cfg["expected"]), "answered": answered, "mismatches": mismatches},
    )
    assert not mismatches, "\n".join(mismatches[:MAX_REPORTED])


@cocotb.test()
async def uart_bad_checksum(dut) -> None:
    """A bad checksum gets one NAK byte; stray bytes before a header are ignored; the next
    good frame is answered exactly. The frame is the last one (a random sample, not a uniform
    corner image, so a stream design fed a shifted image would answer wrongly)."""
    cfg, source, sink = await _start(dut)
    last = len(cfg["expected"]) - 1
    good = _request(cfg, last)
    bad = bytearray(good)
    bad[-1] ^= 0x5C
    await source.send(bytes(bad))
    nak = await sink.read(response_length(cfg["out_width"]), _timeout(cfg))
    problems = []
    if nak != bytes([NAK]):
        problems.append(f"bad checksum: expected NAK 0xEE only, got {nak.hex() or 'nothing'}")
    await source.send(bytes([0x00, 0x13, 0x5A]))  # noise between frames
    frame = await _exchange(cfg, source, sink, good)
    try:
        got = decode_response(frame, cfg["out_width"])
        if got.word != int(cfg["expected"][last]) or got.argmax != cfg["argmax"][last]:
            problems.append(f"after NAK: wrong answer {got}")
    except ProtocolError as err:
        problems.append(f"after NAK: {err}")
    if n_bytes(cfg["in_width"]):
        # A truncated frame followed by silence is dropped; the next frame still works.
        await source.send(good[: max(2, len(good) // 2)])  # stream: half an image
        await source.idle(70 * 10)
        frame = await _exchange(cfg, source, sink, good)
        try:
            got = decode_response(frame, cfg["out_width"])
            if got.word != int(cfg["expected"][last]):
                problems.append(f"after a truncated frame: wrong answer {got}")
        except ProtocolError as err:
            problems.append(f"after a truncated frame: {err}")
    write_report(cfg, "uart_bad_checksum", {"problems": problems})
    assert not problems, "\n".join(problems)
