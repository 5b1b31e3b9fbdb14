"""HGQ quantizers: exact numpy math (:mod:`.fixed_np`), the same math in ``keras.ops`` with
surrogate gradients (:mod:`.fixed_ops`), and the Keras :class:`Quantizer` layer.

Importing this package imports Keras.
"""

from __future__ import annotations

from hgq_train.quantizers.config import Granularity, parse_overflow, parse_round
from hgq_train.quantizers.layer import BitRange, BitsRegularizer, Quantizer

__all__ = [
    "BitRange",
    "BitsRegularizer",
    "Granularity",
    "Quantizer",
    "parse_overflow",
    "parse_round",
]
