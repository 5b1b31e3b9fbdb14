"""Flow plots: each writes a real PNG, whatever the spec or history holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hgq_hw.random_spec import random_spec
from hgq_hw.stats import spec_stats, weight_bit_widths
from hgqflow.flow.plots import (
    plot_bitwidth_heatmaps,
    plot_bitwidth_histograms,
    plot_pareto,
    plot_training,
)

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path: Path) -> bool:
    return path.exists() and path.read_bytes()[:8] == PNG and path.stat().st_size > 2000


def test_weight_bit_widths_by_hand() -> None:
    spec = random_spec(0, sizes=[2, 3])
    layer = spec.dense_layers()[0]
    raw = layer.weight_raw
    widths = weight_bit_widths(layer)
    for (i, j), value in np.ndenumerate(raw):
        v = int(value)
        expected = (
            0
            if v == 0
            else next(
                b for b in range(1, 65) if -(2 ** (b - 1)) <= v < 2 ** (b - 1) or 0 <= v < 2**b
            )
        )
        assert widths[i, j] == expected, (v, widths[i, j])
    stats = spec_stats(spec)
    assert stats["weights_total"] == raw.size
    assert stats["weights_kept"] == int(np.count_nonzero(raw))


def test_plots_are_written(tmp_path: Path) -> None:
    spec = random_spec(4, depth=3, width=(3, 12), prune=0.5)
    history = [
        {
            "epoch": e,
            "loss": 1 / (e + 1),
            "val_accuracy": 0.5 + e / 50,
            "ebops": 1e4 / (e + 1),
            "beta": 1e-6 * (e + 1),
        }
        for e in range(12)
    ]
    points = [
        {"ebops": 50.0 * 2**n, "luts": 30.0 * 2**n, "accuracy": 0.7 + 0.05 * n} for n in range(5)
    ]
    outputs = [
        plot_bitwidth_histograms(spec, tmp_path / "hist.png"),
        plot_bitwidth_heatmaps(spec, tmp_path / "heat.png"),
        plot_training(history, tmp_path / "train.png"),
        plot_pareto(points, tmp_path / "pareto.png", chosen=points[2]),
        plot_pareto(points, tmp_path / "luts.png", x="luts", xlabel="LUTs"),
        plot_pareto([], tmp_path / "empty.png"),
    ]
    for path in outputs[:-1]:
        assert _is_png(path), path
    assert outputs[-1].read_bytes()[:8] == PNG
