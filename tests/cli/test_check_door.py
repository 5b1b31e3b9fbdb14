"""``hgq check`` / ``hgq eval`` refuse each class of bad spec file with one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hgq_hw.random_spec import random_spec
from hgq_hw.spec import dumps
from hgqflow.cli import main

TEXT = dumps(random_spec(2))
META = '"metadata": {'

CASES = {
    "port_name": TEXT.replace('"name": "random_2"', '"name": "clk"'),
    "verilator_top": TEXT.replace('"name": "random_2"', '"name": "TOP"'),
    "long_name": TEXT.replace('"name": "random_2"', f'"name": "{"n" * 250}"'),
    "duplicate_key": TEXT.replace(META, META + '"seed": 5, ', 1),
    "deep": TEXT.replace(META, META + '"d": ' + "[" * 50000 + "]" * 50000 + ",", 1),
    "huge_int": TEXT.replace(META, META + '"n": ' + "7" * 4400 + ",", 1),
    "seed_float": TEXT.replace('"seed": 2', '"seed": 2.5'),
    "nan": TEXT.replace(META, META + '"n": NaN,', 1),
}


@pytest.mark.parametrize("command", ["check", "eval"])
@pytest.mark.parametrize("case", [*CASES, "bad_utf8"])
def test_bad_spec_is_one_line_naming_the_file(tmp_path: Path, capsys, command, case) -> None:
    path = tmp_path / f"{case}.json"
    if case == "bad_utf8":
        path.write_bytes(TEXT.encode().replace(META.encode(), META.encode() + b'"u": "\xc3",'))
    else:
        path.write_text(CASES[case], encoding="utf-8")
    assert main([command, str(path)]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert str(path) in lines[0] and "Traceback" not in captured.err
