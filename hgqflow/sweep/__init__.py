"""``hgq sweep``: many points (dataset, model, beta, epochs, seed, pipeline levels, target),
each trained, exported, generated, simulated and synthesized as Ray tasks.

* :mod:`~hgqflow.sweep.config`: the TOML config and its checks;
* :mod:`~hgqflow.sweep.points`: grid / list expansion and stable point ids;
* :mod:`~hgqflow.sweep.stages`: the stages as library calls, each with its log and result file;
* :mod:`~hgqflow.sweep.resume`: what a rerun can keep (outputs exist and verify);
* :mod:`~hgqflow.sweep.executors`: Ray tasks (or serial, in process);
* :mod:`~hgqflow.sweep.runner`: the scheduling loop, retries, Ctrl-C;
* :mod:`~hgqflow.sweep.report`: ``sweep.json``, ``report.md``, plots.

Importing this package does not import Ray, TensorFlow or Amaranth.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["EXAMPLE_CONFIG"]

EXAMPLE_CONFIG = Path(__file__).with_name("example.toml")
"""The commented example config ``hgq sweep --example`` prints."""
