"""Sweep configs: parsing, the errors (file, place, key), point ids, the CLI without Ray."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from hgqflow.sweep import EXAMPLE_CONFIG
from hgqflow.sweep.config import SweepConfigError, load_config, parse_config
from hgqflow.sweep.points import expand_points, point_id
from hgqflow.sweep.report import pareto_front

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_parses_into_grid_and_listed_points() -> None:
    config = load_config(EXAMPLE_CONFIG)
    points = expand_points(config)
    assert config.stages == ("train", "export", "gen", "sim", "synth")
    assert len(points) == 3 * 2 + 1
    assert [p.settings["beta"] for p in points[:2]] == ["1e-6", "1e-6"]
    assert [p.settings["seed"] for p in points[:2]] == [0, 1]
    assert points[-1].settings["epochs"] == 100 and points[-1].origin == "points[0]"
    assert config.resources["train"].ray_options() == {"num_cpus": 1.0, "memory": 2000 * 2**20}


def test_cli_example_prints_the_example(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hgqflow", "sweep", "--example"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == EXAMPLE_CONFIG.read_text(encoding="utf-8")
    tomllib.loads(done.stdout)


def test_no_grid_and_no_points_is_one_point_of_defaults(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, "[defaults]\nbeta = 1e-5\nepochs = 3\n"))
    (point,) = expand_points(config)
    assert point.settings["beta"] == "1e-05" and point.settings["epochs"] == 3
    assert config.stages == ("train", "export", "gen", "sim")


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ("[defaults]\nbta = 1\n", "[defaults]", "unknown key 'bta'"),
        ("[defaults]\nepochs = '3'\n", "[defaults]", "epochs must be an integer"),
        ("[defaults]\nepochs = true\n", "[defaults]", "epochs must be an integer"),
        ("[defaults]\nepochs = 0\n", "[defaults]", "epochs must be > 0"),
        ("[grid]\nseed = 3\n", "[grid]", "seed must be a non-empty list"),
        ("[grid]\nbeta = ['1e-6', 'lin:1:2']\n", "[grid] beta", "beta 'lin:1:2'"),
        ("[[points]]\nseed = 1\n[[points]]\nsimulator = 'vcs'\n", "points[1]", "simulator must"),
        ("[sweep]\nstages = ['train', 'gen']\n", "[sweep]", "'gen' needs 'export'"),
        ("[sweep]\nstages = ['export', 'train']\n", "[sweep]", "in the order"),
        ("[sweep]\nstages = ['train', 'export', 'gen', 'synth']\n", "[defaults]", "target"),
        ("[defaults]\nmodel = 'nope.toml'\n", "[defaults]", "nope.toml does not exist"),
        ("[sweep.resources.train]\nnum_gpus = 1\n", "[sweep.resources.train]", "num_gpus"),
        ("[grid]\nseed = [0, 0]\n", "grid point {'seed': 0}", "the same settings as"),
        ("[sweeps]\n", "top level", "unknown table 'sweeps'"),
        ("[defaults]\nlr_schedule = 'step'\n", "[defaults]", "lr_schedule 'step': expected"),
    ],
)
def test_config_errors_name_the_file_the_place_and_the_key(
    tmp_path: Path, text: str, where: str, says: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SweepConfigError) as info:
        expand_points(load_config(path))
    message = str(info.value)
    print(message)
    assert message.startswith(f"{path}: {where}")
    assert says in message


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "[defaults\n")
    with pytest.raises(SweepConfigError, match=r"s\.toml: not valid TOML"):
        load_config(path)


def test_point_ids_are_stable_and_follow_every_setting(tmp_path: Path) -> None:
    config = parse_config({"grid": {"beta": ["1e-6", "1e-5"]}}, tmp_path / "a.toml")
    first, second = expand_points(config)
    # the id is a contract: a rerun (or another machine) finds the same folder
    assert first.id == "digits-b1e-6-s0-" + first.id.rsplit("-", 1)[1]
    assert point_id(first.settings) == point_id(dict(reversed(first.settings.items())))
    assert first.id != second.id
    moved = parse_config({"grid": {"beta": ["1e-6"]}}, tmp_path / "elsewhere" / "b.toml")
    assert expand_points(moved)[0].id == first.id
    assert point_id({**first.settings, "epochs": 21}) != first.id
    # frozen: ids must not drift (changed once, when `deterministic` became true by default,
    # before any release of hgq sweep)
    assert first.id == "digits-b1e-6-s0-bc4f2dc173", first.id
    # a setting added later counts only off its default (lr_schedule)
    assert first.settings["lr_schedule"] == "constant"
    assert point_id({**first.settings, "lr_schedule": "cosine"}) != first.id


def test_pareto_front_keeps_undominated_points_cheapest_first() -> None:
    rows = [
        {"id": "a", "accuracy": 0.9, "ebops": 100.0},
        {"id": "b", "accuracy": 0.8, "ebops": 50.0},
        {"id": "c", "accuracy": 0.7, "ebops": 60.0},  # beaten by b
        {"id": "d", "accuracy": 0.95, "ebops": None},  # not measured: no part
    ]
    assert pareto_front(rows, "ebops") == ["b", "a"]


def test_hgq_help_and_import_do_not_import_ray() -> None:
    probe = (
        "import contextlib, io, sys, hgqflow; from hgqflow.cli import main\n"
        "import hgqflow.sweep.config, hgqflow.sweep.points, hgqflow.sweep.runner\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'tensorflow'))\n"
        "print(heavy); sys.exit(1 if heavy else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_missing_ray_is_one_line_that_names_the_extra(tmp_path: Path) -> None:
    config = _write(tmp_path, "[defaults]\nepochs = 1\n")
    probe = (
        "import sys; sys.modules['ray'] = None\n"
        "from hgqflow.cli import main\n"
        f"sys.exit(main(['sweep', {str(config)!r}, '--out', {str(tmp_path / 'out')!r}]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "hgq sweep: error: hgq sweep needs Ray: pip install 'hgqflow[sweep]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_refuses_a_bad_config_in_one_line_before_ray(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hgqflow.cli import main

    path = _write(tmp_path, "[grid]\nepochs = [1, 'two']\n")
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err == f"hgq sweep: error: {path}: [grid] epochs: epochs must be an integer, got 'two'\n"
    assert main(["sweep"]) == 1
    assert "give a config and --out DIR" in capsys.readouterr().err
    assert main(["sweep", str(path), "--out", str(tmp_path), "--max-parallel", "0"]) == 1
    assert "--max-parallel must be >= 1, got 0" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
