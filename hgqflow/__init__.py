"""hgqflow: the ``hgq`` command and the flow, the one package that sees every stage.

* :mod:`hgqflow.cli`: ``hgq`` and its subcommands (one module per command group).
* :mod:`hgqflow.flow`: ``hgq flow``, data -> training -> spec -> Verilog -> cocotb -> synthesis
  -> report, calling each stage's library functions.

The stage packages never import this one: ``hgq_hw``, ``sim`` and ``boards`` never import
TensorFlow, and ``hgq_train`` imports nothing from ``sim``, ``boards`` or ``hgqflow``. Importing
``hgqflow`` (or ``hgqflow.cli``) is cheap; every command imports its stage only after it has
checked its arguments and files.
"""

from __future__ import annotations

__all__: list[str] = []
