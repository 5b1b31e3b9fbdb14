"""The old name of :mod:`hgq_hw.toolchain.find` (tool look-up and environment), kept for callers."""

from __future__ import annotations

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

__all__ = [
    "TOOLS",
    "Tool",
    "find_tool",
    "python_bin_dir",
    "require_tool",
    "tool_env",
    "tool_version",
    "verilator_bin_dir",
]
