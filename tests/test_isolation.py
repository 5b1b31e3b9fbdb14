"""hgq_hw (and sim, boards) never import TensorFlow or Keras: the spec is the only coupling;
hgq_train never imports the hardware side or the CLI; ``hgq --help`` loads no stage."""

from __future__ import annotations

import ast
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
        "import contextlib, io, sys; from hgqflow.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "heavy = ('tensorflow', 'keras', 'sklearn', 'matplotlib', 'amaranth', 'cocotb', "
        "'hgq_train')\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & set(heavy))\n"
        "print('imported:', loaded); sys.exit(1 if loaded else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_hgq_train_imports_no_hardware_side_and_no_cli() -> None:
    sources = sorted((ROOT / "hgq_train").rglob("*.py"))
    assert sources, "no hgq_train sources found"
    offenders = {
        str(path.relative_to(ROOT)): sorted(found)
        for path in sources
        if (found := _imported_packages(path) & {"sim", "boards", "hgqflow"})
    }
    assert offenders == {}


def test_only_hgq_train_imports_tensorflow_or_keras() -> None:
    """Every other package reaches TensorFlow through :mod:`hgq_train` (lazily, inside the
    command or stage that trains), never by importing it itself, not even inside a function."""
    sources = [
        path
        for package in ("hgqflow", "hgq_hw", "sim", "boards")
        for path in sorted((ROOT / package).rglob("*.py"))
    ]
    assert len(sources) > 50, "package sources not found"
    offenders = {
        str(path.relative_to(ROOT)): sorted(found)
        for path in sources
        if (found := _imported_packages(path) & {"tensorflow", "keras"})
    }
    assert offenders == {}
