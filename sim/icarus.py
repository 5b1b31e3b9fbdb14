"""A workaround for Icarus Verilog on Yosys-written Verilog (used for every Icarus build).

Yosys' Verilog back end re-evaluates ``always @*`` blocks at time 0 through a dummy register
with an initializer; Icarus in ``-g2012`` mode (cocotb's default) raises no event for it, so a
combinational signal whose inputs never change (a constant, a bias-only output) stays X.
:func:`icarus_kick` toggles that dummy register at ``#0``. Verilator needs no such help.
"""

from __future__ import annotations

import re

__all__ = ["icarus_kick"]

_KICK_RE = re.compile(
    r"^(\s*)reg (\\\$auto\$verilog_backend\.cc:\d+:dump_module\$\d+)\s+= 0;$", re.M
)


def icarus_kick(text: str) -> str:
    """``text`` with an ``initial #0 <dummy> = 1'h1;`` after each Yosys dummy register."""
    return _KICK_RE.sub(lambda m: f"{m[0]}\n{m[1]}initial #0 {m[2]} = 1'h1;", text)
