"""Adam's learning rate over a run: constant, or a cosine decay (``--lr-schedule``).

``parse_lr_schedule`` is light (no Keras) so that options are checked before TensorFlow loads;
:func:`adam` imports Keras when called.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["adam", "parse_lr_schedule"]


def parse_lr_schedule(text: str) -> float | None:
    """``"constant"`` -> None; ``"cosine"`` -> 0.0 and ``"cosine:F"`` -> ``F``: a cosine decay
    from the learning rate to ``F`` times it over the run, ``0 <= F < 1``. Anything else
    raises ``ValueError`` naming the accepted forms."""
    if text == "constant":
        return None
    kind, colon, final = text.partition(":")
    if kind == "cosine" and not colon:
        return 0.0
    if kind == "cosine":
        try:
            value = float(final)
        except ValueError:
            value = math.nan
        if 0.0 <= value < 1.0:
            return value
    raise ValueError(
        f"--lr-schedule {text!r}: expected 'constant', 'cosine' or 'cosine:F' with 0 <= F < 1"
    )


def adam(lr: float, schedule: str, total_steps: int) -> Any:
    """A Keras Adam at ``lr`` under ``schedule`` (:func:`parse_lr_schedule`'s forms): with a
    cosine, the rate falls from ``lr`` at step 0 to ``F * lr`` at ``total_steps`` (Keras'
    ``CosineDecay``) and stays there. The schedule is saved with the optimizer, so a resumed
    run keeps its horizon."""
    import keras

    final = parse_lr_schedule(schedule)
    if final is None:
        return keras.optimizers.Adam(lr)
    if total_steps < 1:
        raise ValueError(f"a cosine learning rate needs total_steps >= 1, got {total_steps}")
    return keras.optimizers.Adam(
        keras.optimizers.schedules.CosineDecay(lr, total_steps, alpha=final)
    )
