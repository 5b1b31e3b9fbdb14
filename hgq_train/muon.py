"""A muon-tracker-shaped example: a synthetic hit-pattern regression and the model that fits it.

In the spirit of the HGQ paper's muon tracking model (Conv1D branches with tanh tables, an
addition of branches, dense layers to one regression output), small enough to train, simulate
and synthesise in minutes on a laptop.

**The task.** A detector of :attr:`MuonTask.layers` planes (3 by default) of
:attr:`MuonTask.strips` strips each (16), one strip pitch apart, stacked one strip pitch apart
too. A straight track crosses the middle plane at ``x0 ~ U(margin, strips - margin)`` (in strip
pitches) with slope ``s ~ U(-max_slope, max_slope)`` strips per plane (``s = tan(theta)``, with
``theta`` the track's angle to the planes' normal); plane ``l`` is hit on strip
``floor(x0 + s * (l - (layers - 1) / 2))`` when that strip exists. Each true hit is recorded
with probability ``efficiency`` (0.95) and every other strip fires with probability ``noise``
(0.01). A sample is the binary hit image ``(strips, layers)`` (channels last: the planes are
the channels of a 1-d convolution along the strips), the target is ``s``. Everything is drawn
from ``numpy.random.default_rng(seed)``: the same seed gives the same arrays.

**The metric**: the RMS of ``prediction - s`` in strips per plane (its resolution; a
single plane's strip resolution is ``1/sqrt(12) ~ 0.29`` strips), and the fraction of tracks
with ``|prediction - s| < tolerance`` (0.25 strips per plane by default).

**The model** (:func:`build_muon_tracker`)::

    hits (16, 3) -> QInput
      -> QConv1D(filters, 3, same) -> tanh table -> a
      -> QConv1D(filters, 3, same) -> tanh table -> b
      Add(a, b)                         (the skip connection)
      -> QConv1D(filters, 3, stride 2) -> tanh table -> Flatten
      -> QDense(hidden) -> ReLU -> QDense(1) -> linear output quantizer
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MuonMetrics", "MuonTask", "build_muon_tracker", "muon_hits", "muon_metrics"]


@dataclass(frozen=True)
class MuonTask:
    """The detector and track distribution of the synthetic task (module docstring)."""

    strips: int = 16
    layers: int = 3
    max_slope: float = 1.5
    margin: float = 3.0
    efficiency: float = 0.95
    noise: float = 0.01
    tolerance: float = 0.25

    def __post_init__(self) -> None:
        if self.strips < 4 or self.layers < 2:
            raise ValueError(
                f"MuonTask needs >= 4 strips and >= 2 layers, got {self.strips} and {self.layers}"
            )
        if not 0 <= self.margin < self.strips / 2:
            raise ValueError(f"margin must lie in [0, strips / 2), got {self.margin}")
        if not (0 < self.efficiency <= 1 and 0 <= self.noise < 1):
            raise ValueError(
                f"efficiency must lie in (0, 1] and noise in [0, 1), got {self.efficiency} "
                f"and {self.noise}"
            )
        if not self.max_slope > 0 or not self.tolerance > 0:
            raise ValueError(
                f"max_slope and tolerance must be > 0, got {self.max_slope} and {self.tolerance}"
            )

    @property
    def input_shape(self) -> tuple[int, int]:
        return (self.strips, self.layers)


def muon_hits(n: int, seed: int, task: MuonTask | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples of the task: hit images ``(n, strips, layers)`` of 0/1 (float32) and the
    slopes ``(n,)`` (float32, strips per plane); deterministic in ``seed``."""
    task = task or MuonTask()
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(task.margin, task.strips - task.margin, size=n)
    slope = rng.uniform(-task.max_slope, task.max_slope, size=n)
    planes = np.arange(task.layers) - (task.layers - 1) / 2
    position = x0[:, None] + slope[:, None] * planes[None, :]  # (n, layers)
    strip = np.floor(position).astype(np.int64)
    recorded = (rng.random(size=strip.shape) < task.efficiency) & (strip >= 0)
    recorded &= strip < task.strips
    hits = rng.random(size=(n, task.strips, task.layers)) < task.noise
    sample, plane = np.nonzero(recorded)
    hits[sample, strip[sample, plane], plane] = True
    return hits.astype(np.float32), slope.astype(np.float32)


@dataclass(frozen=True)
class MuonMetrics:
    """Resolution of the slope regression."""

    rms: float
    """RMS of ``prediction - truth`` (strips per plane)."""
    within: float
    """Fraction of samples with ``|prediction - truth| < tolerance``."""
    tolerance: float
    samples: int

    def summary(self) -> str:
        return (
            f"slope RMS error {self.rms:.4f} strips/plane, "
            f"{100 * self.within:.1f}% within +-{self.tolerance:g} ({self.samples} tracks)"
        )


def muon_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, *, tolerance: float | None = None
) -> MuonMetrics:
    """:class:`MuonMetrics` of predictions (any shape with one value per sample)."""
    tolerance = MuonTask().tolerance if tolerance is None else float(tolerance)
    truth = np.asarray(y_true, dtype=np.float64).reshape(-1)
    pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if truth.shape != pred.shape or truth.size == 0:
        raise ValueError(
            f"y_true and y_pred must hold one value per sample alike, got {truth.size} and "
            f"{pred.size} values"
        )
    err = pred - truth
    return MuonMetrics(
        float(np.sqrt(np.mean(err**2))),
        float(np.mean(np.abs(err) < tolerance)),
        tolerance,
        int(truth.size),
    )


def build_muon_tracker(
    task: MuonTask | None = None,
    *,
    filters: int = 4,
    hidden: int = 8,
    gamma: float = 1e-6,
    table_f_max: float = 4.0,
    name: str = "muon_tracker",
) -> Any:
    """The functional Keras model of the module docstring, for ``task``'s hit images.

    Each tanh table's input quantizer starts at 3 fractional bits (at most ``table_f_max``, so
    that a table has at most ``2**(k + i + table_f_max)`` entries) and its output quantizer at
    4; the input quantizer starts at 0 fractional bits (the hits are 0 or 1: one unsigned bit).
    """
    import keras

    from hgq_train.layers import QActivation, QConv1D, QDense, QInput

    task = task or MuonTask()
    common = {"gamma": gamma}
    table = {"f_init": 3.0, "f_max": table_f_max, "out_f_init": 4.0, "out_f_max": 6.0, **common}

    def conv(n: int, **kw: Any) -> Any:
        return QConv1D(filters, 3, f_init=4.0, kernel_f_init=3.0, name=f"conv{n}", **kw, **common)

    hits = keras.Input(shape=task.input_shape, name="hits")
    q = QInput(f_init=0.0, name="hits_q", **common)(hits)
    a = QActivation("tanh", name="tanh0", **table)(conv(0, padding="same")(q))
    b = QActivation("tanh", name="tanh1", **table)(conv(1, padding="same")(a))
    skip = keras.layers.Add(name="skip_add")([a, b])
    c = QActivation("tanh", name="tanh2", **table)(conv(2, strides=2)(skip))
    h = keras.layers.Flatten(name="flatten")(c)
    h = QDense(hidden, f_init=4.0, kernel_f_init=3.0, name="dense0", **common)(h)
    h = QActivation("relu", f_init=4.0, name="relu0", **common)(h)
    out = QDense(1, f_init=4.0, kernel_f_init=3.0, name="slope", **common)(h)
    out = QActivation("linear", f_init=4.0, name="slope_q", **common)(out)
    return keras.Model(hits, out, name=name)
