"""Keras names become spec names that the spec accepts: reserved names get ``_``, long names are
cut to the cap with a digest that keeps them apart."""

from __future__ import annotations

from hgq_hw.spec import MAX_NAME_LENGTH, PORT_NAMES, RESERVED_NAMES, _decode_model_name
from hgq_train.layers.base import spec_name


def test_spec_names_are_always_accepted() -> None:
    assert spec_name("dense_1") == "dense_1"
    assert spec_name("1x-y") == "l_1x_y"
    assert spec_name("clk") == "clk_" and "clk" in PORT_NAMES
    assert spec_name("module") == "module_" and "module" in RESERVED_NAMES
    assert spec_name("CON") == "CON_"
    long_a, long_b = spec_name("a" * 100), spec_name("a" * 101)
    assert len(long_a) == MAX_NAME_LENGTH and long_a.startswith("a" * 55 + "_")
    assert long_a != long_b
    for name in ("clk", "module", "CON", "a" * 100, "TOP", "i_stream__payload", "x y"):
        assert _decode_model_name(spec_name(name), "name") == spec_name(name)
