"""The Amaranth UART (:mod:`boards.uart`) and argmax in Amaranth's own simulator."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.hdl import Module
from amaranth.sim import Simulator

from boards.argmax import Argmax
from boards.protocol import argmax_exact
from boards.uart import UARTRx, UARTTx, baud_divisor
from hgq_hw.fixed import TensorType
from hgq_hw.layout import BusLayout


def test_baud_divisor() -> None:
    assert baud_divisor(12e6, 115200) == 104
    assert baud_divisor(25e6, 115200) == 217
    assert baud_divisor(12e6, 1_000_000) == 12
    with pytest.raises(ValueError, match="too fast"):
        baud_divisor(12e6, 6_000_000)
    with pytest.raises(ValueError, match="within 2 %"):
        baud_divisor(12e6, 2_500_000)  # 4.8 cycles per bit: 5 is 4 % off


@pytest.mark.parametrize("divisor", [4, 7])
def test_tx_into_rx_loopback(divisor: int) -> None:
    m = Module()
    m.submodules.tx = tx = UARTTx(divisor)
    m.submodules.rx = rx = UARTRx(divisor)
    m.d.comb += rx.rx.eq(tx.tx)
    sent = [0x00, 0xFF, 0xA5, 0x5A, 0x01, 0x80, 0x3C]
    got: list[int] = []

    async def bench(ctx) -> None:
        for byte in sent:
            ctx.set(tx.i_stream.payload, byte)
            ctx.set(tx.i_stream.valid, 1)
            await ctx.tick().until(tx.i_stream.ready)
            ctx.set(tx.i_stream.valid, 0)
        for _ in range(12 * divisor + 10):
            await ctx.tick()

    async def monitor(ctx) -> None:
        async for _, _, valid, payload, error in ctx.tick().sample(
            rx.o_stream.valid, rx.o_stream.payload, rx.error
        ):
            assert not error
            if valid:
                got.append(payload)

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.add_process(monitor)
    sim.run()
    assert got == sent


def test_rx_drops_a_byte_with_a_low_stop_bit() -> None:
    divisor = 5
    rx = UARTRx(divisor)
    events: list[tuple[str, int]] = []

    async def bench(ctx) -> None:
        ctx.set(rx.rx, 1)
        await ctx.tick().repeat(3)
        for bits in ([0, *[1] * 8, 0], [1] * 4, [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]):
            for bit in bits:
                ctx.set(rx.rx, bit)
                for _ in range(divisor):
                    _, _, valid, payload, error = await ctx.tick().sample(
                        rx.o_stream.valid, rx.o_stream.payload, rx.error
                    )
                    if valid:
                        events.append(("byte", payload))
                    if error:
                        events.append(("error", 0))
        ctx.set(rx.rx, 1)
        for _ in range(3 * divisor):
            _, _, valid, payload = await ctx.tick().sample(rx.o_stream.valid, rx.o_stream.payload)
            if valid:
                events.append(("byte", payload))

    sim = Simulator(rx)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert events == [("error", 0), ("byte", 0x55)]  # data bits go LSB first


def test_argmax_component_matches_protocol() -> None:
    rng = np.random.default_rng(1)
    k = np.array([1, 0, 1, 1, 0])
    f = np.array([3, -1, 6, 0, 2])
    width = np.array([5, 3, 8, 0, 4])
    k = np.where(width == 0, 0, k)
    t = TensorType(k, width - k - f, f)
    layout = BusLayout.of(t)
    dut = Argmax(layout, f.tolist())
    cases = [np.array([t.element((e,)).raw_max if width[e] else 0 for e in range(5)])]
    for _ in range(30):
        cases.append(
            np.array(
                [
                    int(rng.integers(t.element((e,)).raw_min, t.element((e,)).raw_max + 1))
                    if width[e]
                    else 0
                    for e in range(5)
                ]
            )
        )

    async def bench(ctx) -> None:
        for raw in cases:
            ctx.set(dut.word, layout.pack(raw[None, :])[0])
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            cycles = 0
            while not ctx.get(dut.done):
                await ctx.tick()
                cycles += 1
                assert cycles <= 10
            assert ctx.get(dut.index) == argmax_exact(raw, t), raw

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
