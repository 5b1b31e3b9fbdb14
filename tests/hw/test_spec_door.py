"""hgq_hw.spec at the door: names, JSON hazards and caps are refused with one SpecError that
names the file (and the layer and field where there is one)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hgq_hw.random_spec import random_spec
from hgq_hw.spec import (
    MAX_DEPTH,
    MAX_NAME_LENGTH,
    PORT_NAMES,
    RESERVED_NAMES,
    InputSpec,
    SpecError,
    dumps,
    load,
    loads,
)

SEED = 3


@pytest.fixture()
def text() -> str:
    return dumps(random_spec(SEED))


def _rename_input(text: str, name: str) -> str:
    return text.replace('"name": "x"', f'"name": "{name}"').replace('["x"]', f'["{name}"]')


def _write(tmp_path: Path, text: str | bytes, name: str = "bad.json") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _refused(path: Path, pattern: str, **kwargs) -> SpecError:
    with pytest.raises(SpecError, match=pattern) as info:
        load(path, **kwargs)
    assert str(path) in str(info.value), info.value
    return info.value


@pytest.mark.parametrize("name", ["clk", "rst", "i_stream__payload", "o_stream__valid", "TOP"])
def test_port_names_refused_for_spec_and_layers(tmp_path: Path, text: str, name: str) -> None:
    assert name in PORT_NAMES
    spec_named = text.replace(f'"name": "random_{SEED}"', f'"name": "{name}"')
    err = _refused(_write(tmp_path, spec_named), f"{name!r} is a reserved name")
    assert err.field == "name" and err.layer is None
    err = _refused(_write(tmp_path, _rename_input(text, name)), f"{name!r} is a reserved name")
    assert (err.layer, err.field) == (name, "name")


@pytest.mark.parametrize("name", ["module", "always", "logic", "class", "int", "CON", "nul"])
def test_keywords_refused_as_spec_names_but_fine_as_layer_names(
    tmp_path: Path, text: str, name: str
) -> None:
    spec_named = text.replace(f'"name": "random_{SEED}"', f'"name": "{name}"')
    _refused(_write(tmp_path, spec_named), f"{name!r} is a reserved name")
    if name in RESERVED_NAMES:  # keywords: a layer may be called "output" (export does)
        assert load(_write(tmp_path, _rename_input(text, name), "ok.json")).input.name == name


def test_name_length_cap(tmp_path: Path, text: str) -> None:
    longest = "a" * MAX_NAME_LENGTH
    assert load(_write(tmp_path, _rename_input(text, longest), "ok.json")).input.name == longest
    too_long = "a" * (MAX_NAME_LENGTH + 1)
    err = _refused(_write(tmp_path, _rename_input(text, too_long)), "longer than the 64 allowed")
    assert err.field == "name"
    spec_named = text.replace(f'"name": "random_{SEED}"', f'"name": "{"b" * 300}"')
    _refused(_write(tmp_path, spec_named), "of 300 characters")


def test_duplicate_keys_refused(tmp_path: Path, text: str) -> None:
    top = text.replace(f'"name": "random_{SEED}"', f'"name": "random_{SEED}", "name": "other"')
    _refused(_write(tmp_path, top), "duplicate key 'name'")
    meta = text.replace('"metadata": {', '"metadata": {"seed": 1, ', 1)
    _refused(_write(tmp_path, meta), "duplicate key 'seed'")


def test_nesting_depth_cap_and_override(
    tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = text.replace('"metadata": {', '"metadata": {"d": ' + "[" * 10**5 + "]" * 10**5 + ",")
    _refused(_write(tmp_path, deep), f"nested 100002 levels deep, over the cap of {MAX_DEPTH}")
    path = _write(tmp_path, text, "ok.json")
    _refused(path, "nested 5 levels deep, over the cap of 4", max_depth=4)
    monkeypatch.setenv("HGQ_SPEC_MAX_DEPTH", "4")
    _refused(path, "over the cap of 4")
    assert load(path, max_depth=5).name == f"random_{SEED}"
    monkeypatch.setenv("HGQ_SPEC_MAX_DEPTH", "deep")
    _refused(path, r"\$HGQ_SPEC_MAX_DEPTH must be a positive integer, got 'deep'")


def test_brackets_inside_strings_do_not_count(text: str) -> None:
    quoted = text.replace('"metadata": {', '"metadata": {"s": "' + "[{" * 100 + '\\"[",', 1)
    assert loads(quoted).metadata["s"].startswith("[{")


def test_size_cap_and_override(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, text)
    size = len(text.encode())
    _refused(path, f"over the {size - 1}-byte cap", max_bytes=size - 1)
    assert load(path, max_bytes=size).name == f"random_{SEED}"
    monkeypatch.setenv("HGQ_SPEC_MAX_BYTES", str(size - 1))
    _refused(path, "HGQ_SPEC_MAX_BYTES")
    with pytest.raises(SpecError, match=r"<string>: \d+ bytes is over the 10-byte cap"):
        loads(text, max_bytes=10)


def test_huge_integer_bad_utf8_and_nan_name_the_file(tmp_path: Path, text: str) -> None:
    big = text.replace('"metadata": {', '"metadata": {"n": ' + "9" * 5000 + ",", 1)
    _refused(_write(tmp_path, big), "not valid JSON: Exceeds the limit")
    raw = text.encode().replace(b'"metadata": {', b'"metadata": {"u": "\xff",', 1)
    _refused(_write(tmp_path, raw), r"not UTF-8 text \(byte \d+ is b'\\xff'\)")
    for constant in ("NaN", "Infinity", "-Infinity"):
        bad = text.replace('"metadata": {', f'"metadata": {{"n": {constant},', 1)
        _refused(_write(tmp_path, bad), f"{constant} is not a JSON number")


@pytest.mark.parametrize("seed", ["1.5", '"7"', "true", "null"])
def test_metadata_seed_must_be_an_integer(tmp_path: Path, text: str, seed: str) -> None:
    bad = text.replace(f'"seed": {SEED}', f'"seed": {seed}')
    assert bad != text
    err = _refused(_write(tmp_path, bad), "expected an integer")
    assert err.field == "metadata.seed"
    dataset = text.replace('"metadata": {', '"metadata": {"dataset": 3,', 1)
    assert _refused(_write(tmp_path, dataset), "expected a string").field == "metadata.dataset"


def test_two_dimensional_tensors_refused_in_version_1(tmp_path: Path, text: str) -> None:
    obj = json.loads(text)
    n = len(obj["layers"][0]["k"])
    for key in ("k", "i", "f"):
        obj["layers"][0][key] = [obj["layers"][0][key]]
    err = _refused(_write(tmp_path, json.dumps(obj)), r"tensors are 1-d")
    assert (err.layer, err.field) == ("x", "k")
    obj["version"] = 2  # version 2 has N-d tensors: now the Dense is what refuses it
    err = _refused(_write(tmp_path, json.dumps(obj)), rf"put a Reshape to \[{n}\] before it")
    assert (err.layer, err.field) == ("dense0", "inputs")
    ones = np.ones((1, n), int)
    two_d = InputSpec(name="x", k=ones, i=ones, f=ones)
    assert two_d.type.shape == (1, n)


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace('"metadata": {', '"metadata": {"a": [[[[[[[[1]]]]]]]],', 1),
        lambda t: t.replace('"metadata": {', '"metadata": {"big": ' + "9" * 4000 + ",", 1),
    ],
)
def test_harmless_metadata_still_loads(text: str, edit: Callable[[str], str]) -> None:
    assert loads(edit(text)).layers == loads(text).layers


def test_int_fields_same_from_lists_numpy_arrays_and_numpy_scalars() -> None:
    rows = [[3, -(2**62)], [0, 2**63 - 1]]
    from_list = InputSpec(name="x", k=[1, 0], i=[2, 3], f=[0, 1])
    from_array = InputSpec(
        name="x", k=np.array([1, 0], np.int32), i=np.array([2, 3]), f=[np.int64(0), 1]
    )
    assert from_list == from_array and from_array.k.dtype == np.int64
    from hgq_hw.spec import _int_array

    decode = _int_array(2).decode
    for value in (rows, np.array(rows), np.array(rows, dtype=object)):
        got = decode(value, "w")
        assert got.dtype == np.int64 and got.tolist() == rows
    for bad, pattern in (([[1, True], [0, 1]], "found bool"), ([[1, 2**63]], "wider than 64")):
        with pytest.raises(SpecError, match=pattern):
            decode(bad, "w")
