"""hgq_hw: the spec contract, the bit-exact integer reference and the hardware generator.

Never imports TensorFlow or Keras: the spec (``hgq_hw.spec``) is the only coupling to training.
"""

from __future__ import annotations

from hgq_hw.fixed import FixedType, Overflow, Round, TensorType
from hgq_hw.plan import NetworkPlan, plan_network
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import evaluate, infer_types, quantize_inputs, to_real
from hgq_hw.spec import (
    AvgPoolSpec,
    ConvSpec,
    DenseSpec,
    InputSpec,
    MaxPoolSpec,
    ModelSpec,
    OutputSpec,
    Padding,
    ReLUSpec,
    RequantizeSpec,
    ReshapeSpec,
    SpecError,
    load,
    loads,
    save,
)

__all__ = [
    "AvgPoolSpec",
    "ConvSpec",
    "DenseSpec",
    "FixedType",
    "InputSpec",
    "MaxPoolSpec",
    "ModelSpec",
    "NetworkPlan",
    "OutputSpec",
    "Overflow",
    "Padding",
    "ReLUSpec",
    "RequantizeSpec",
    "ReshapeSpec",
    "Round",
    "SpecError",
    "TensorType",
    "evaluate",
    "infer_types",
    "load",
    "loads",
    "plan_network",
    "quantize_inputs",
    "random_spec",
    "save",
    "to_real",
]
