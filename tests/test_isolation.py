"""hgq_hw (and sim, boards) never import TensorFlow or Keras: the spec is the only coupling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import importlib, pkgutil, sys
for package in ("hgq_hw", "sim", "boards"):
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        if info.name.split(".")[-1].startswith("test"):
            continue
        importlib.import_module(info.name)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "hgq_train"))
print("imported:", heavy)
sys.exit(1 if heavy else 0)
"""


def test_hardware_packages_never_import_tensorflow() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_cli_help_does_not_import_tensorflow() -> None:
    probe = (
        "import sys; from hgqflow.cli import build_parser; build_parser(); "
        "sys.exit(1 if 'tensorflow' in sys.modules else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
