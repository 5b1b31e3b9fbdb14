"""Plan class -> the Amaranth component that builds it (one per layer kind)."""

from __future__ import annotations

from amaranth.lib import wiring

from hgq_hw.plan.base import LayerPlan

__all__ = ["COMPONENTS", "component_for", "register_component"]

COMPONENTS: dict[type[LayerPlan], type[wiring.Component]] = {}
"""Layer plan class -> component class; the component takes the plan as its only argument."""


def register_component(kind: type[LayerPlan], component: type[wiring.Component]) -> None:
    """Build plans of class ``kind`` with ``component(plan)`` (replaces an earlier one)."""
    if not (isinstance(kind, type) and issubclass(kind, LayerPlan)):
        raise TypeError(f"kind must be a LayerPlan subclass, got {kind!r}")
    if not (isinstance(component, type) and issubclass(component, wiring.Component)):
        raise TypeError(f"component must be a wiring.Component subclass, got {component!r}")
    COMPONENTS[kind] = component


def component_for(plan: LayerPlan) -> type[wiring.Component]:
    """The component class of ``plan``'s class (or of its nearest registered base class)."""
    for cls in type(plan).__mro__:
        component = COMPONENTS.get(cls)
        if component is not None:
            return component
    raise TypeError(f"no hardware component for {type(plan).__name__} (layer {plan.name!r})")
