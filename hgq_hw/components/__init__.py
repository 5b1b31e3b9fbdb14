"""Amaranth components of the dataflow network: one per layer kind, plus the whole network.

Each component takes its plan (:mod:`hgq_hw.plan`), declares its signature and builds the
hardware the plan describes in ``elaborate``. Every component has ``i_stream`` / ``o_stream``
(``lib.stream``, ``always_ready``: ``valid`` travels with the data, one sample per cycle, no
backpressure), payloads packed by :class:`hgq_hw.layout.BusLayout`, and a ``latency`` in
cycles. :data:`COMPONENTS` maps plan classes to components (:func:`register_component`).
"""

from __future__ import annotations

from hgq_hw.components.delay import Delay
from hgq_hw.components.dense import DenseLayer
from hgq_hw.components.max import MaxPool
from hgq_hw.components.merge import Merge
from hgq_hw.components.network import Network
from hgq_hw.components.registry import COMPONENTS, component_for, register_component
from hgq_hw.components.relu import ReLU
from hgq_hw.components.requantize import Requantize, requantize_value
from hgq_hw.components.reshape import Reshape
from hgq_hw.components.table import LookupTable

__all__ = [
    "COMPONENTS",
    "Delay",
    "DenseLayer",
    "LookupTable",
    "MaxPool",
    "Merge",
    "Network",
    "ReLU",
    "Requantize",
    "Reshape",
    "component_for",
    "register_component",
    "requantize_value",
]
