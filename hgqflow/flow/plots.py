"""Plots of a flow run (matplotlib, PNG): Pareto fronts, bit widths, training curves.

Every function writes one PNG and returns its path; none shows a window (Agg backend).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hgq_hw.spec import ModelSpec
from hgq_hw.stats import activation_bit_widths, weight_bit_widths

__all__ = ["plot_bitwidth_heatmaps", "plot_bitwidth_histograms", "plot_pareto", "plot_training"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_pareto(
    points: Sequence[dict[str, Any]],
    path: Path,
    *,
    x: str = "ebops",
    xlabel: str = "EBOPs",
    chosen: dict[str, Any] | None = None,
    title: str = "Accuracy along the Pareto front",
) -> Path:
    """Accuracy against a cost (``x`` key of each point), log-scaled, front as a step line."""
    plt = _pyplot()
    pts = sorted((p for p in points if p.get(x) is not None), key=lambda p: p[x])
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    if pts:
        xs = [max(p[x], 1e-9) for p in pts]
        ys = [100 * p["accuracy"] for p in pts]
        ax.step(xs, ys, where="post", color="tab:blue", alpha=0.6)
        ax.scatter(xs, ys, color="tab:blue", label="Pareto checkpoints", zorder=3)
    if chosen is not None and chosen.get(x) is not None:
        ax.scatter(
            [chosen[x]],
            [100 * chosen["accuracy"]],
            marker="*",
            s=220,
            color="tab:red",
            label="chosen model",
            zorder=4,
        )
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if pts or chosen is not None:
        ax.legend(loc="lower right")
    else:
        ax.text(0.5, 0.5, "no checkpoints", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_bitwidth_histograms(spec: ModelSpec, path: Path) -> Path:
    """One histogram per Dense layer (weight widths) and per activation (element widths)."""
    plt = _pyplot()
    panels: list[tuple[str, np.ndarray, str]] = []
    for layer in spec.dense_layers():
        panels.append((f"{layer.name} weights", weight_bit_widths(layer).ravel(), "tab:blue"))
    for name, widths in activation_bit_widths(spec).items():
        panels.append((f"{name} activations", widths.ravel(), "tab:orange"))
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), dpi=100, squeeze=False)
    for ax, (title, values, color) in zip(axes.ravel(), panels):
        top = int(values.max(initial=0))
        ax.hist(values, bins=np.arange(-0.5, top + 1.5, 1), color=color, rwidth=0.85)
        pruned = float(np.mean(values == 0)) if values.size else 0.0
        ax.set_title(f"{title} ({100 * pruned:.0f}% zero)", fontsize=9)
        ax.set_xlabel("bits")
    for ax in axes.ravel()[len(panels) :]:
        ax.axis("off")
    fig.suptitle(f"Bit widths of {spec.name}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_bitwidth_heatmaps(spec: ModelSpec, path: Path) -> Path:
    """Weight bit width of every weight (rows: inputs, columns: outputs), one panel per layer."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    layers = spec.dense_layers()
    fig, axes = plt.subplots(
        1, max(len(layers), 1), figsize=(4.2 * max(len(layers), 1), 4), dpi=100, squeeze=False
    )
    for ax, layer in zip(axes.ravel(), layers):
        bits = weight_bit_widths(layer)
        image = ax.imshow(bits, aspect="auto", cmap="viridis", interpolation="nearest")
        ax.set_title(f"{layer.name}: {layer.n_in}x{layer.n_out}", fontsize=9)
        ax.set_xlabel("output")
        ax.set_ylabel("input")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        fig.colorbar(image, ax=ax, label="bits")
    fig.suptitle(f"Per-weight bit widths of {spec.name} (0 = pruned)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_training(history: Sequence[dict[str, Any]], path: Path) -> Path:
    """Loss, accuracy, EBOPs and beta per epoch (whichever the history has)."""
    plt = _pyplot()
    epochs = [h.get("epoch", n) + 1 for n, h in enumerate(history)]
    groups = [
        ("loss", ["loss", "val_loss"], False),
        ("accuracy", ["accuracy", "val_accuracy"], False),
        ("EBOPs", ["ebops", "val_ebops"], True),
        ("beta", ["beta"], True),
    ]
    present = [
        (t, [k for k in keys if any(k in h for h in history)], log) for t, keys, log in groups
    ]
    present = [g for g in present if g[1]]
    fig, axes = plt.subplots(
        1, max(len(present), 1), figsize=(4 * max(len(present), 1), 3.2), dpi=100, squeeze=False
    )
    for ax, (title, keys, log) in zip(axes.ravel(), present):
        for key in keys:
            ax.plot(epochs, [h.get(key, np.nan) for h in history], label=key)
        if log:
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
