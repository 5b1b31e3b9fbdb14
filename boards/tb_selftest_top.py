"""cocotb testbench of :class:`boards.selftest_top.SelfTestTop`: after reset, the LEDs and the
UART status line must give the verdict the config expects.

Config (JSON named by ``HGQ_SIM_CONFIG``): ``divisor``, ``total`` (vectors in the ROM),
``expect_matched`` (how many must match), ``feed_cycles`` (input words in the ROM: ``total``,
or a stream design's pixels of every image; default ``total``), ``latency``,
``report_period``, ``seed``, ``report``.
"""

from __future__ import annotations

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge

from boards.protocol import parse_selftest_line, selftest_line
from boards.uart_model import UartSink, load_config, write_report


@cocotb.test()
async def selftest_verdict(dut) -> None:
    """Done within feed_cycles + latency + 8 cycles; green xor red as expected; two status lines."""
    cfg = load_config()
    total, expect = cfg["total"], cfg["expect_matched"]
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    sink = UartSink(dut.clk, dut.tx, cfg["divisor"])
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3, rising=False)
    dut.rst.value = 0
    cocotb.start_soon(sink.run())
    problems = []
    deadline = cfg.get("feed_cycles", total) + cfg["latency"] + 12
    cycles = 0
    while True:
        await RisingEdge(dut.clk)
        await ReadOnly()
        cycles += 1
        if int(dut.done.value) or cycles > deadline:
            break
    await FallingEdge(dut.clk)
    green, red, matched = int(dut.led_green.value), int(dut.led_red.value), int(dut.matched.value)
    dut._log.info(
        f"done after {cycles} cycles: green {green}, red {red}, matched {matched}/{total}"
    )
    if not int(dut.done.value):
        problems.append(f"not done after {deadline} cycles")
    passed = expect == total
    if (green, red) != (int(passed), int(not passed)):
        problems.append(f"LEDs green={green} red={red}, expected {'green' if passed else 'red'}")
    if matched != expect:
        problems.append(f"matched {matched}, expected {expect} of {total}")
    want_line = selftest_line(expect, total)
    line_cycles = len(want_line) * 10 * cfg["divisor"]
    text = await sink.read(2 * len(want_line), cfg["report_period"] + 2 * line_cycles + 100)
    parsed = parse_selftest_line(text)
    if text.count(want_line) < 2 or parsed != (passed, expect, total):
        problems.append(f"status lines {text!r}, expected {want_line!r} twice")
    write_report(
        cfg,
        "selftest_verdict",
        {"green": green, "red": red, "matched": matched, "text": text.decode("latin-1")},
    )
    assert not problems, "\n".join(problems)
