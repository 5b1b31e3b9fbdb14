"""The ``Table`` kind: spec fields and their checks, the exact reference lookup, random specs
with tables (issue 13, item 1)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hgq_hw.fixed import TensorType
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import evaluate, infer_types
from hgq_hw.spec import (
    MAX_TABLE_INPUT_BITS,
    InputSpec,
    ModelSpec,
    OutputSpec,
    SpecError,
    TableSpec,
    dumps,
    loads,
)
from tests.hw.conftest import random_raw_inputs


def table_spec(tables, table_of, k, i, f, in_k=(1, 0, 1), in_i=(1, 2, -1), in_f=(0, 0, 2)):
    """``Input -> Table -> Output`` (input widths 2, 2, 2 by default)."""
    return ModelSpec(
        "tab",
        [
            InputSpec(name="x", k=list(in_k), i=list(in_i), f=list(in_f)),
            TableSpec(name="t", inputs=("x",), tables=tables, table_of=table_of, k=k, i=i, f=f),
            OutputSpec(name="y", inputs=("t",)),
        ],
    )


SHARED = [[-3, 0, 2, 3], [7, 6, 5, 4]]


def test_lookup_is_exact_with_shared_tables() -> None:
    spec = table_spec(SHARED, [0, 1, 0], [1, 0, 1], [2, 3, 2], [0, 0, 0])
    assert loads(dumps(spec)) == spec
    # element 0: signed 2 bits, raw -2..1; element 1: unsigned, raw 0..3; element 2 signed
    x = np.array([[-2, 0, -2], [-1, 1, 0], [0, 2, 1], [1, 3, -1]], dtype=np.int64)
    y = evaluate(spec, x)
    assert y.tolist() == [[-3, 7, -3], [0, 6, 2], [2, 5, 3], [3, 4, 0]]
    t = infer_types(spec)["t"]
    assert t.k.tolist() == [1, 0, 1] and t.i.tolist() == [2, 3, 2]


def test_json_fields_are_exactly_these() -> None:
    spec = table_spec(SHARED, [0, 1, 0], [1, 0, 1], [2, 3, 2], [0, 0, 0])
    layer = json.loads(dumps(spec))["layers"][1]
    assert list(layer) == ["kind", "name", "inputs", "tables", "table_of", "k", "i", "f"]
    assert layer["tables"] == SHARED and layer["table_of"] == [0, 1, 0]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"tables": [[0, 1, 2]]}, "tables", "2**w entries"),
        ({"tables": []}, "tables", "at least one table"),
        ({"tables": [[0, 1], [1, 2]], "table_of": [0, 0, 0]}, "tables", "used by no element"),
        ({"table_of": [0, 2, 0]}, "table_of", "refers to table 2"),
        ({"table_of": [0, 1]}, "table_of", "differs from 'k' shape"),
        ({"tables": [[0, 1, 2, 99], [7, 6, 5, 4]]}, "tables", "outside the output type"),
        ({"tables": [[0, 1.5, 2, 3], [7, 6, 5, 4]]}, "tables", "tables[0]"),
        ({"k": [2, 0, 1]}, "k", "sign bits"),
        ({"tables": [[0] * (2 << MAX_TABLE_INPUT_BITS)]}, "tables", "over the cap"),
    ],
)
def test_bad_fields_name_the_layer_and_field(change, field, words) -> None:
    obj = json.loads(dumps(table_spec(SHARED, [0, 1, 0], [1, 0, 1], [2, 3, 2], [0, 0, 0])))
    obj["layers"][1].update(change)
    with pytest.raises(SpecError) as err:
        loads(json.dumps(obj), source="bad.json")
    assert err.value.layer == "t" and err.value.field == field, str(err.value)
    assert words in str(err.value) and str(err.value).startswith("bad.json")


def test_length_is_checked_against_the_inferred_input_type() -> None:
    # element 1 has a 3-bit input (i=3): its table must have 8 entries, it has 4
    spec = table_spec(SHARED, [0, 1, 0], [1, 0, 1], [2, 3, 2], [0, 0, 0], in_i=(1, 3, -1))
    with pytest.raises(SpecError) as err:
        infer_types(spec)
    assert err.value.layer == "t" and err.value.field == "tables"
    assert "element [1]" in str(err.value) and "8 values" in str(err.value)


def test_width_zero_input_and_output() -> None:
    # element 0: width-0 input (one entry, a constant); element 1: width-0 output (zeros)
    spec = table_spec([[5], [0, 0, 0, 0]], [0, 1], [0, 0], [3, 0], [0, 0], (0, 0), (0, 2), (0, 0))
    x = np.array([[0, 0], [0, 3]], dtype=np.int64)
    assert evaluate(spec, x).tolist() == [[5, 0], [5, 0]]
    assert infer_types(spec)["t"].width.tolist() == [3, 0]


def test_any_tensor_shape() -> None:
    """The kind is element-wise: fields of any shape, one table per element index."""
    layer = TableSpec(
        name="t",
        inputs=("x",),
        tables=[[0, 1], [1, 0]],
        table_of=[[0, 1], [1, 0]],
        k=[[0, 0], [0, 0]],
        i=[[1, 1], [1, 1]],
        f=[[0, 0], [0, 0]],
    )
    assert layer.output_shape([(2, 2)]) == (2, 2)
    assert layer.table((0, 1)).tolist() == [1, 0]
    t_in = TensorType(np.zeros((2, 2), int), np.ones((2, 2), int), np.zeros((2, 2), int))
    from hgq_hw.reference import rule_for

    x = np.array([[[0, 1], [1, 0]]], dtype=np.int64)
    assert rule_for(layer).evaluate(layer, [x], [t_in]).tolist() == [[[0, 0], [0, 0]]]
    with pytest.raises(SpecError, match="shape"):
        layer.output_shape([(4,)])


@pytest.mark.parametrize("seed", range(12))
def test_random_specs_draw_tables(seed: int) -> None:
    print(f"seed {seed}")
    spec = random_spec(seed, depth=2, width=(1, 6), table=1.0, table_bits=5)
    tables = [layer for layer in spec.layers if isinstance(layer, TableSpec)]
    assert len(tables) == 2
    assert loads(dumps(spec)) == spec
    x = random_raw_inputs(spec, 30, seed)
    tensors = evaluate(spec, x, all_tensors=True)
    types = infer_types(spec)
    for layer in tables:
        source = layer.inputs[0]
        assert int(np.max(types[source].width)) <= 5
        lo, _ = types[source].raw_bounds()
        for e in range(layer.k.shape[0]):
            table = layer.table(e)
            want = [
                int(table[int(v) - int(lo[e]) if types[source].width[e] else 0])
                for v in tensors[source][:, e]
            ]
            assert tensors[layer.name][:, e].tolist() == want


def test_random_tables_are_shared_and_distinct_and_have_width_zero() -> None:
    specs = [random_spec(s, depth=1, width=(4, 8), table=1.0, zero_width=0.2) for s in range(30)]
    layers = [la for s in specs for la in s.layers if isinstance(la, TableSpec)]
    shared = sum(len(la.tables) < la.table_of.size for la in layers)
    distinct = sum(len(la.tables) > 1 for la in layers)
    zero_in = sum(any(len(t) == 1 for t in la.tables) for la in layers)
    zero_out = sum(bool(np.any(la.type.width == 0)) for la in layers)
    print(
        f"{len(layers)} tables: {shared} shared, {distinct} distinct, {zero_in} width-0 in, "
        f"{zero_out} width-0 out"
    )
    assert min(shared, distinct, zero_in, zero_out) > 0


def test_default_random_spec_is_unchanged_by_the_table_option() -> None:
    assert dumps(random_spec(5)) == dumps(random_spec(5, table=0.0, table_bits=7))
    with pytest.raises(ValueError, match="table_bits"):
        random_spec(5, table_bits=MAX_TABLE_INPUT_BITS + 1)


def test_mutations_of_table_specs_keep_the_door_invariant() -> None:
    """Mutated table specs are refused with a SpecError or evaluated equally by the reference
    and the plan (:func:`hgq_hw.spec_mutations.check_mutation` raises otherwise)."""
    from hgq_hw.spec_mutations import check_mutation

    results = [
        check_mutation(seed, depth=1, width=(1, 4), table=1.0, table_bits=4) for seed in range(120)
    ]
    table_edits = [r for r in results if "table:" in r.description]
    refused = [r.refused for r in table_edits if r.refused]
    print(f"{len(results)} mutations, {len(table_edits)} table edits, {len(refused)} refused")
    assert any("'tables'" in text for text in refused)
    assert any("'table_of'" in text for text in refused)
    assert any(r.spec is not None for r in table_edits)  # some edits keep the spec valid


def test_hgq_check_names_the_file_for_a_table_of_the_wrong_length(tmp_path) -> None:
    from hgqflow.cli.spec_cmds import spec_summary

    path = tmp_path / "bad.json"
    spec = table_spec(SHARED, [0, 1, 0], [1, 0, 1], [2, 3, 2], [0, 0, 0], in_i=(1, 3, -1))
    path.write_text(dumps(spec))
    with pytest.raises(SpecError) as err:
        spec_summary(path)
    assert err.value.file == str(path) and err.value.layer == "t"
    assert err.value.field == "tables"
