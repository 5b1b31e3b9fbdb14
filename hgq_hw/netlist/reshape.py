"""A :class:`~hgq_hw.plan.ReshapePlan` as nets: the input tensor's nets, unchanged."""

from __future__ import annotations

from hgq_hw.netlist.layers import Tensor, register_writer
from hgq_hw.netlist.text import Netlist
from hgq_hw.plan.reshape import ReshapePlan

__all__ = ["write_reshape"]


def write_reshape(nl: Netlist, plan: ReshapePlan, inputs: list[Tensor], prefix: str) -> Tensor:
    """The same element nets and ``valid`` (over flattened tensors a Reshape is wiring)."""
    (source,) = inputs
    return Tensor(source.elements, source.valid)


register_writer(ReshapePlan, write_reshape)
