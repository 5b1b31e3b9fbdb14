"""The Verilator build cache is keyed by the Verilog and by the installation it was built with."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sim import runner
from sim.runner import DesignFiles


def _design(tmp_path: Path, text: str) -> DesignFiles:
    verilog = tmp_path / "net.v"
    verilog.write_text(text)
    return DesignFiles(verilog=verilog, toplevel="net", latency=2)


def test_key_follows_the_verilog(tmp_path: Path) -> None:
    a = runner._build_key(_design(tmp_path, "module net; endmodule\n"), "verilator", False)
    b = runner._build_key(_design(tmp_path, "module net; wire x; endmodule\n"), "verilator", False)
    assert a != b


def test_key_follows_the_python_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model built in another checkout's virtual environment (which a shared per-user build
    folder may hold) links another cocotb: it must not be reused."""
    design = _design(tmp_path, "module net; endmodule\n")
    here = runner._build_key(design, "verilator", False)
    assert runner._build_key(design, "verilator", False) == here
    monkeypatch.setattr(sys, "prefix", "/elsewhere/.venv")
    assert runner._build_key(design, "verilator", False) != here
