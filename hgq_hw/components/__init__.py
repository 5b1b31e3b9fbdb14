"""Amaranth components of the dataflow network: one per layer kind, plus the whole network.

Every component has ``i_stream`` / ``o_stream`` (``lib.stream``, ``always_ready``: ``valid``
travels with the data, one sample per cycle, no backpressure), payloads packed by
:class:`hgq_hw.layout.BusLayout`, and a ``latency`` in cycles.
"""

from __future__ import annotations

from hgq_hw.components.dense import DenseLayer, schedule
from hgq_hw.components.network import Network
from hgq_hw.components.relu import ReLU, relu_type
from hgq_hw.components.requantize import Requantize, requantize_value
from hgq_hw.components.timing import LEVEL, Stager, adder_delay

__all__ = [
    "LEVEL",
    "DenseLayer",
    "Network",
    "ReLU",
    "Requantize",
    "Stager",
    "adder_delay",
    "relu_type",
    "requantize_value",
    "schedule",
]
