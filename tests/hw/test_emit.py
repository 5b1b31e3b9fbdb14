"""Verilog emission, report.json and the ``hgq gen`` command."""

# amaranth: UnusedElaboratable=no
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hgq_hw.emit import build, format_report, generate, read_report
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import infer_types
from hgq_hw.spec import save
from hgqflow.cli import main


@pytest.fixture(scope="module")
def spec():
    return random_spec(21, depth=2, width=(3, 5))


def test_same_spec_and_options_give_identical_files(spec, tmp_path) -> None:
    a = generate(spec, tmp_path / "a", name="net", pipeline_levels=2)
    b = generate(
        random_spec(21, depth=2, width=(3, 5)), tmp_path / "b", name="net", pipeline_levels=2
    )
    for file in ("net.v", "report.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    assert a.verilog == b.verilog
    other = build(spec, name="net", pipeline_levels=1)
    assert other.verilog != a.verilog  # the option matters


def test_verilog_ports_and_module(spec) -> None:
    d = build(spec, name="mynet", pipeline_levels=1)
    assert "module mynet(" in d.verilog
    header = d.verilog.split("module mynet(")[1].split(")")[0]
    for port in d.report["ports"]:
        assert port["name"] in header
    assert "*" not in header
    for line in d.verilog.splitlines():  # multiplier-free: no '*' operator anywhere
        code = line.split("//")[0]
        assert " * " not in code, line
    names = [p["name"] for p in d.report["ports"]]
    assert names == [
        "clk",
        "rst",
        "i_stream__payload",
        "i_stream__valid",
        "o_stream__payload",
        "o_stream__valid",
    ]


def test_report_contents(spec) -> None:
    d = build(spec, pipeline_levels=2, depth_slack=1)
    r = d.report
    net = d.plan
    assert r["name"] == spec.name and r["verilog"] == f"{spec.name}.v"
    assert r["options"] == {"pipeline_levels": 2, "depth_slack": 1}
    assert r["latency"] == net.latency and r["registers"] == net.registers
    assert r["adders"] == sum(row["adders"] for row in r["layers"]) > 0
    out_t = infer_types(spec)[spec.output.name]
    assert r["output"]["width"] == int(out_t.width.sum())
    assert r["input"]["width"] == int(spec.input.type.width.sum())
    assert [f["width"] for f in r["output"]["layout"]] == [int(w) for w in out_t.width]
    assert [row["layer"] for row in r["layers"]] == [layer.name for layer in spec.layers[1:-1]]
    json.dumps(r)  # JSON-clean
    table = format_report(r)
    assert "total" in table and str(r["latency"]) in table


def test_report_table_labels_wrapped_place_and_route(spec) -> None:
    """After a wrapped P&R the table says which numbers are the network's own and which come
    from the network inside the serialising wrapper."""
    r = build(spec).report
    res = {"luts": 10, "ffs": 20, "carry": 5}
    r["synth"] = {
        "ice40": {
            "resources": res,
            "clock_mhz": 50.0,
            "fmax_mhz": 123.4,
            "timing_met": True,
            "pnr": {
                "wrapped": True,
                "port_bits": 300,
                "pins": 206,
                "serial_bits": 1,
                "resources": {"luts": 12, "ffs": 60, "carry": 5},
                "utilisation": {
                    "ICESTORM_LC": {"used": 40, "available": 7680},
                    "ICESTORM_RAM": {"used": 0, "available": 32},
                },
            },
        },
        "ecp5": {"resources": res, "fmax_mhz": 99.0, "timing_met": False, "clock_mhz": 100.0},
    }
    table = format_report(r)
    assert "ice40: luts=10, ffs=20, carry=5 (network alone, Yosys)" in table
    assert "serial wrapper (300 port bits, 206 pins, 1 bit(s)/cycle): Fmax 123.4 MHz" in table
    assert "ICESTORM_LC 40/7680" in table and "ICESTORM_RAM" not in table
    assert "ecp5: luts=10, ffs=20, carry=5, Fmax 99.0 MHz (MISSED 100.0 MHz)" in table


def test_zero_width_output_has_no_payload_port() -> None:
    from hgq_hw.fixed import TensorType
    from hgq_hw.spec import InputSpec, ModelSpec, OutputSpec, RequantizeSpec

    t = TensorType.uniform((2,), 1, 3, 0)
    spec = ModelSpec(
        "zero",
        [
            InputSpec(name="x", k=t.k, i=t.i, f=t.f),
            RequantizeSpec(name="q", inputs=("x",), k=[0, 0], i=[0, 0], f=[0, 0]),
            OutputSpec(name="out", inputs=("q",)),
        ],
    )
    d = build(spec)
    assert [p["name"] for p in d.report["ports"]] == [
        "clk",
        "rst",
        "i_stream__payload",
        "i_stream__valid",
        "o_stream__valid",
    ]


def test_bad_name_and_options(spec) -> None:
    with pytest.raises(ValueError, match="not a Verilog identifier"):
        build(spec, name="1bad")
    with pytest.raises(ValueError, match="pipeline_levels"):
        build(spec, pipeline_levels=-1)


def test_cli_gen_writes_folder(spec, tmp_path, capsys) -> None:
    spec_path = save(spec, tmp_path / "spec.json")
    out = tmp_path / "out"
    assert (
        main(["gen", str(spec_path), "-o", str(out), "--pipeline-levels", "1", "--name", "top"])
        == 0
    )
    text = capsys.readouterr().out
    assert "top" in text and "latency" in text and "wrote" in text
    assert (out / "top.v").exists()
    report = read_report(out)
    assert report["options"]["pipeline_levels"] == 1 and report["name"] == "top"
    assert main(["gen", str(tmp_path / "missing.json"), "-o", str(out)]) == 1
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(ValueError, match="run 'hgq gen"):
        read_report(tmp_path)


def test_cli_gen_writer_option(spec, tmp_path, capsys) -> None:
    spec_path = save(spec, tmp_path / "spec.json")
    for writer in ("direct", "amaranth"):
        out = tmp_path / writer
        assert main(["gen", str(spec_path), "-o", str(out), "--writer", writer]) == 0
        assert read_report(out)["generator"]["writer"] == writer
    assert "hgqflow (hgq_hw.netlist)" in (tmp_path / "direct" / f"{spec.name}.v").read_text()
    assert "Amaranth" in (tmp_path / "amaranth" / f"{spec.name}.v").read_text()
    with pytest.raises(SystemExit):
        main(["gen", str(spec_path), "-o", str(tmp_path / "x"), "--writer", "yosys"])
    capsys.readouterr()


def test_hgq_hw_does_not_import_training_stack() -> None:
    code = (
        "import sys, hgq_hw.emit, hgq_hw.components, hgq_hw.cmvm, hgq_hw.synth; "
        "hgq_hw.emit.build(hgq_hw.random_spec(1, depth=1)); "
        "bad = [m for m in ('tensorflow', 'keras', 'hgq_train') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("writer", ["direct", "amaranth"])
def test_verilog_is_identical_across_processes(writer: str) -> None:
    """No dependence on hash seeds or object addresses: two interpreters, one text."""
    code = (
        "import hashlib; from hgq_hw.emit import build; from hgq_hw.random_spec import "
        "random_spec; d = build(random_spec(7, depth=2, width=(4, 8)), pipeline_levels=2, "
        f"writer={writer!r}); print(hashlib.sha256(d.verilog.encode()).hexdigest())"
    )
    digests = set()
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        )
        digests.add(done.stdout.strip())
    assert len(digests) == 1
