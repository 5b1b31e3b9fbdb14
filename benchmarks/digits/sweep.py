"""The beta sweep of ``benchmarks/jets/sweep.py`` on scikit-learn's digits (bundled, offline).

    .venv/bin/python benchmarks/digits/sweep.py [--epochs 60] [--betas 1e-7,1e-6,...] \\
        [--synth xc7|ice40|none] [--max-synth N]

Same options and output as the jet sweep; the defaults are the digits ones (64-32-10 MLP,
60 epochs, batch 32, results in ``benchmarks/digits/RESULTS.md``).
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

_SWEEP = Path(__file__).resolve().parents[1] / "jets" / "sweep.py"


def _load_sweep() -> types.ModuleType:
    """The shared sweep module, loaded from its file (``benchmarks`` is not a package)."""
    spec = importlib.util.spec_from_file_location("hgq_benchmark_sweep", _SWEEP)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {_SWEEP}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    sys.exit(_load_sweep().main(dataset="digits"))
