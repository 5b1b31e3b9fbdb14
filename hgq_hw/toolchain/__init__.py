"""One way to run the external tools, shared by synthesis, simulation and the boards.

* :mod:`~hgq_hw.toolchain.find`: where each tool is (env override, YoWASP / wheel, ``PATH``)
  and the one environment they run in (:func:`tool_env`).
* :mod:`~hgq_hw.toolchain.run`: :func:`run_tool` with one live progress line, and
  :class:`ToolError`, the one error type of a tool that is missing or fails.
* :mod:`~hgq_hw.toolchain.expected`: how long a run should take, from the design's size.
* :mod:`~hgq_hw.toolchain.yosys` / :mod:`~hgq_hw.toolchain.nextpnr`: their results as
  dataclasses (``stat -json``; nextpnr's ``--report`` JSON, its log only as a fallback).
* :mod:`~hgq_hw.toolchain.devices`: the one table of FPGA families and devices.
* :mod:`~hgq_hw.toolchain.serial_wrapper`: the Amaranth serialising wrapper that lets a
  network with more port bits than pins be placed and routed.

Only the standard library (and tqdm, lazily) on import; Amaranth only in ``serial_wrapper``.
"""

from __future__ import annotations

from hgq_hw.toolchain.devices import DEVICES, FAMILIES, SYNTH_DEFAULTS, Device, Family, get_device
from hgq_hw.toolchain.errors import ToolError
from hgq_hw.toolchain.find import (
    TOOLS,
    Tool,
    find_tool,
    python_bin_dir,
    require_tool,
    tool_env,
    tool_version,
    verilator_bin_dir,
)
from hgq_hw.toolchain.nextpnr import (
    BelUsage,
    ClockTiming,
    NextpnrReport,
    parse_nextpnr_log,
    parse_nextpnr_report,
)
from hgq_hw.toolchain.run import ProgressLine, ToolRun, run_tool
from hgq_hw.toolchain.yosys import FamilyResources, YosysStat, read_yosys_stat, stat_json_command

__all__ = [
    "DEVICES",
    "FAMILIES",
    "SYNTH_DEFAULTS",
    "TOOLS",
    "BelUsage",
    "ClockTiming",
    "Device",
    "Family",
    "FamilyResources",
    "NextpnrReport",
    "ProgressLine",
    "Tool",
    "ToolError",
    "ToolRun",
    "YosysStat",
    "find_tool",
    "get_device",
    "parse_nextpnr_log",
    "parse_nextpnr_report",
    "python_bin_dir",
    "read_yosys_stat",
    "require_tool",
    "run_tool",
    "stat_json_command",
    "tool_env",
    "tool_version",
    "verilator_bin_dir",
]
