"""Mutated specs for the door invariant: whatever ``hgq check`` accepts, every later stage handles.

:func:`mutate` takes the JSON object of a valid spec (:func:`hgq_hw.random_spec.random_spec`)
and applies a few random edits of the kinds a hand-edited or corrupted file shows: integers
pushed to interesting values (widths 64/65, exponents 128/129, 2**63, 2**64, huge), values of
the wrong type, fields deleted or added, layers renamed (to port names, keywords, long names),
rewired, re-kinded, swapped, duplicated or dropped, arrays made ragged, longer or 2-d, enums
(rounding, overflow, padding) changed, window sizes, strides and Reshape shapes pushed, odd
metadata; the bases may be Conv1D/Conv2D specs (``random_spec(spatial=...)``).
:func:`check_mutation` then asserts the invariant for one mutation: the
text is refused by :func:`hgq_hw.spec.loads` with a :class:`~hgq_hw.spec.SpecError`, or it
passes ``hgq check`` (load and type inference) and the integer reference and the plan both
evaluate it, bit-exactly equal, on random and corner inputs. Generating and linting the Verilog
of the accepted ones is left to the caller (it is the slow part; see
``tests/hw/test_spec_mutations.py`` and ``benchmarks/spec_mutations.py``).

The same seed always gives the same mutation. Numpy and the standard library on import;
:func:`generate_verilog` needs Amaranth and :func:`lint_verilog` Verilator.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MUTATORS",
    "MutationResult",
    "check_mutation",
    "generate_verilog",
    "lint_verilog",
    "mutate",
    "mutated_text",
]

INTERESTING_INTS: tuple[int, ...] = (
    0, 1, -1, 2, 7, 8, 31, 32, 33, 62, 63, 64, 65, 127, 128, 129, -128, -129, 200,
    2**31, 2**53 + 1, 2**62, 2**63 - 1, -(2**63), -(2**63) + 1, 2**63, 2**64 - 1, 2**64,
    -(2**64), 10**30,
)  # fmt: skip
"""Integers a mutation puts into a numeric field."""

ODD_VALUES: tuple[Any, ...] = (None, True, False, 1.5, -0.0, 1e300, "x", "", [], {}, [[1]], [1.5])
"""Values of the wrong type (or shape) a mutation puts anywhere."""

NAMES: tuple[str, ...] = (
    "clk", "rst", "TOP", "i_stream__payload", "i_stream__valid", "o_stream__payload",
    "o_stream__valid", "std", "module", "output", "input", "wire", "always", "class", "int",
    "main", "CON", "nul", "top", "Input", "a" * 64, "a" * 65, "b" * 300, "1abc", "a b", "a-b",
    "\u00e9", "", "_", "__", "a__b", "x", "out", "q0", "dense0", "stage0_x", "V", "Vtop",
)  # fmt: skip
"""Names a mutation gives the spec or a layer (valid, reserved, too long, not identifiers)."""

KINDS: tuple[str, ...] = (
    "Input", "Dense", "Requantize", "ReLU", "Output", "Conv", "MaxPool", "AvgPool", "Reshape", "",
)  # fmt: skip


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (tuple of keys / indices) below ``node``, ``node`` itself included."""
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def _get(obj: Any, path: tuple) -> Any:
    for key in path:
        obj = obj[key]
    return obj


def _set(obj: Any, path: tuple, value: Any) -> None:
    _get(obj, path[:-1])[path[-1]] = value


def _pick(rng: np.random.Generator, items: Any) -> Any:
    items = list(items)
    return items[int(rng.integers(len(items)))]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _set_int(obj: dict, rng: np.random.Generator) -> str:
    paths = [p for p in _paths(obj) if p and _is_int(_get(obj, p))]
    fields = sorted({next((k for k in reversed(p) if isinstance(k, str)), "") for p in paths})
    field = _pick(rng, fields)  # every field equally likely, whatever its size
    path = _pick(rng, [p for p in paths if field in p])
    old = _get(obj, path)
    if rng.random() < 0.5:
        value = int(_pick(rng, INTERESTING_INTS))
    else:
        value = old + int(_pick(rng, (-2, -1, 1, 2, 16, -16, 60, -60)))
    _set(obj, path, value)
    return f"set {list(path)} from {old} to {value}"


def _set_odd(obj: dict, rng: np.random.Generator) -> str:
    path = _pick(rng, [p for p in _paths(obj) if p])
    value = copy.deepcopy(_pick(rng, ODD_VALUES))
    _set(obj, path, value)
    return f"set {list(path)} to {value!r}"


def _delete_key(obj: dict, rng: np.random.Generator) -> str:
    path = _pick(rng, [p for p in _paths(obj) if p and isinstance(p[-1], str)])
    del _get(obj, path[:-1])[path[-1]]
    return f"deleted {list(path)}"


def _add_key(obj: dict, rng: np.random.Generator) -> str:
    dicts = [p for p in _paths(obj) if isinstance(_get(obj, p), dict)]
    path = _pick(rng, dicts)
    key = _pick(rng, ("extra", "kind", "__class__", "weights", "inputs", "seed"))
    target = _get(obj, path)
    if key in target:
        key = key + "_"
    target[key] = _pick(rng, (1, "x", [0], None))
    return f"added {key!r} to {list(path)}"


def _rename(obj: dict, rng: np.random.Generator) -> str:
    name = _pick(rng, NAMES)
    layers = obj.get("layers")
    if rng.random() < 0.3 or not isinstance(layers, list) or not layers:
        obj["name"] = name
        return f"spec name -> {name!r}"
    index = int(rng.integers(len(layers)))
    layer = layers[index]
    if not isinstance(layer, dict):
        return "rename: no layer"
    old = layer.get("name")
    layer["name"] = name
    if rng.random() < 0.8:  # usually keep the graph wired
        for other in layers:
            if isinstance(other, dict) and isinstance(other.get("inputs"), list):
                other["inputs"] = [name if s == old else s for s in other["inputs"]]
    return f"layers[{index}] {old!r} -> {name!r}"


def _rewire(obj: dict, rng: np.random.Generator) -> str:
    layers = [x for x in obj.get("layers", []) if isinstance(x, dict) and "inputs" in x]
    if not layers:
        return "rewire: no layer with inputs"
    layer = _pick(rng, layers)
    names = [x.get("name") for x in obj["layers"] if isinstance(x, dict)]
    choice = rng.random()
    if choice < 0.6:
        layer["inputs"] = [_pick(rng, names)]
    elif choice < 0.8:
        layer["inputs"] = [_pick(rng, names), _pick(rng, names)]
    else:
        layer["inputs"] = []
    return f"{layer.get('name')!r} inputs -> {layer['inputs']}"


def _rekind(obj: dict, rng: np.random.Generator) -> str:
    layers = obj.get("layers", [])
    if not layers or not isinstance(layers[0], dict):
        return "rekind: no layers"
    index = int(rng.integers(len(layers)))
    if isinstance(layers[index], dict):
        layers[index]["kind"] = _pick(rng, KINDS)
        return f"layers[{index}] kind -> {layers[index]['kind']!r}"
    return "rekind: not a layer"


def _reorder(obj: dict, rng: np.random.Generator) -> str:
    layers = obj.get("layers")
    if not isinstance(layers, list) or len(layers) < 2:
        return "reorder: too few layers"
    a, b = (int(v) for v in rng.integers(len(layers), size=2))
    choice = rng.random()
    if choice < 0.4:
        layers[a], layers[b] = layers[b], layers[a]
        return f"swapped layers {a} and {b}"
    if choice < 0.7:
        layers.insert(b, copy.deepcopy(layers[a]))
        return f"duplicated layer {a} at {b}"
    del layers[a]
    return f"deleted layer {a}"


def _reshape(obj: dict, rng: np.random.Generator) -> str:
    lists = [p for p in _paths(obj) if p and isinstance(_get(obj, p), list) and _get(obj, p)]
    if not lists:
        return "reshape: no lists"
    path = _pick(rng, lists)
    value = _get(obj, path)
    choice = rng.random()
    if choice < 0.35:
        value.append(copy.deepcopy(value[-1]))
        return f"appended to {list(path)}"
    if choice < 0.7:
        value.pop()
        return f"popped from {list(path)}"
    if choice < 0.85:
        _set(obj, path, [value])
        return f"wrapped {list(path)} in a list (one more dimension)"
    if isinstance(value[0], list) and value[0]:
        value[0].append(0)
        return f"made {list(path)} ragged"
    _set(obj, path, value[:1])
    return f"cut {list(path)} to one element"


def _enum(obj: dict, rng: np.random.Generator) -> str:
    paths = [p for p in _paths(obj) if p and p[-1] in ("round", "overflow", "padding")]
    if not paths:
        return "enum: none"
    path = _pick(rng, paths)
    choices = ("TRN", "RND", "WRAP", "SAT", "rnd", "RND_CONV", 1, None)
    if path[-1] == "padding":
        choices = ("valid", "same", "SAME", "causal", "full", 0, None)
    value = _pick(rng, choices)
    _set(obj, path, value)
    return f"set {list(path)} to {value!r}"


def _widen(obj: dict, rng: np.random.Generator) -> str:
    """Push a whole k/i/f/weight_f/kernel_f array (or a window's sizes, strides or a Reshape's
    shape) so widths, exponents or geometry reach the caps."""
    fields = ("i", "f", "k", "weight_f", "bias_f", "kernel_f", "strides", "pool_size", "shape")
    paths = [p for p in _paths(obj) if p and p[-1] in fields]
    if not paths:
        return "widen: none"
    path = _pick(rng, paths)
    delta = int(_pick(rng, (30, 56, 60, 64, 100, 127, -60, -128)))

    def shift(v: Any) -> Any:
        if isinstance(v, list):
            return [shift(x) for x in v]
        return v + delta if isinstance(v, int) and not isinstance(v, bool) else v

    _set(obj, path, shift(_get(obj, path)))
    return f"added {delta} to every value of {list(path)}"


def _metadata(obj: dict, rng: np.random.Generator) -> str:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return "metadata: not an object"
    key = _pick(rng, ("seed", "dataset", "nested", "generator"))
    value = _pick(rng, (1.5, "7", None, True, -3, 2**70, "digits", "nope.npz", [[[[[[1]]]]]], {}))
    meta[key] = value
    return f"metadata[{key!r}] = {value!r}"


MUTATORS: dict[str, Callable[[dict, np.random.Generator], str]] = {
    "set_int": _set_int,
    "set_odd": _set_odd,
    "delete_key": _delete_key,
    "add_key": _add_key,
    "rename": _rename,
    "rewire": _rewire,
    "rekind": _rekind,
    "reorder": _reorder,
    "reshape": _reshape,
    "enum": _enum,
    "widen": _widen,
    "metadata": _metadata,
}
"""Name -> edit of a spec's JSON object in place (returns what it did)."""

_WEIGHTS = {
    "set_int": 8,
    "set_odd": 1,
    "delete_key": 1,
    "add_key": 1,
    "rename": 3,
    "rewire": 1,
    "rekind": 1,
    "reorder": 1,
    "reshape": 1,
    "enum": 1,
    "widen": 4,
    "metadata": 2,
}
"""How often each mutator is drawn: most edits keep the file loadable, so that the later
stages see many accepted specs near the edges."""


def mutate(obj: dict, rng: np.random.Generator, *, edits: int | None = None) -> tuple[dict, str]:
    """A mutated deep copy of the spec JSON object ``obj`` and a description of the edits
    (``edits`` of them, default 1 with probability 0.6, else 2 or 3, drawn from ``rng``)."""
    out = copy.deepcopy(obj)
    if edits is None:
        edits = 1 if rng.random() < 0.6 else int(rng.integers(2, 4))
    names = list(MUTATORS)
    weights = np.array([_WEIGHTS[name] for name in names], dtype=float)
    done = []
    for _ in range(edits):
        name = names[int(rng.choice(len(names), p=weights / weights.sum()))]
        try:
            done.append(f"{name}: {MUTATORS[name](out, rng)}")
        except (KeyError, IndexError, TypeError, ValueError):  # the node moved under an edit
            done.append(f"{name}: skipped")
    return out, "; ".join(done)


def mutated_text(seed: int, **spec_options: Any) -> tuple[str, str]:
    """JSON text of a mutation of ``random_spec(seed, **spec_options)`` and its description."""
    from hgq_hw.random_spec import random_spec
    from hgq_hw.spec import dumps

    rng = np.random.default_rng(seed)
    base = json.loads(dumps(random_spec(seed, **spec_options)))
    obj, what = mutate(base, rng)
    return json.dumps(obj), what


@dataclass(frozen=True)
class MutationResult:
    """One checked mutation: ``refused`` (the SpecError text) or ``spec`` (the accepted spec)."""

    seed: int
    description: str
    refused: str | None
    spec: Any = None


def check_mutation(seed: int, *, samples: int = 12, **spec_options: Any) -> MutationResult:
    """Check the invariant on mutation ``seed`` (see the module docstring).

    Returns the result when it holds; raises ``AssertionError`` (naming the seed, the edits and
    what broke) when an accepted spec fails a later stage, or when the refusal is not a
    ``SpecError`` naming the source."""
    from hgq_hw.inputs import random_raw
    from hgq_hw.plan import plan_network
    from hgq_hw.reference import evaluate, infer_types, input_bounds
    from hgq_hw.spec import SpecError, dumps, loads

    text, what = mutated_text(seed, **spec_options)
    where = f"mutation seed {seed} ({what})"
    try:
        spec = loads(text, source=f"mutation{seed}.json")
    except SpecError as err:
        if not str(err).startswith(f"mutation{seed}.json"):
            raise AssertionError(f"{where}: SpecError without the file name: {err}") from None
        return MutationResult(seed, what, str(err))
    except Exception as err:
        raise AssertionError(f"{where}: load raised {type(err).__name__}: {err}") from err
    stage = "check (type inference)"
    try:
        infer_types(spec)
        stage = "save and load again"
        if loads(dumps(spec)) != spec:
            raise AssertionError("load(save(spec)) differs from spec")
        stage = "reference"
        lo, hi = input_bounds(spec)
        rng = np.random.default_rng(seed)
        x = np.concatenate(
            [np.array([lo, hi, 0 * lo], dtype=object), random_raw(lo, hi, samples, rng)]
        )
        y_ref = np.asarray(evaluate(spec, x), dtype=object).reshape(len(x), -1)
        for pipeline_levels in (0, 2):
            stage = f"plan (pipeline_levels {pipeline_levels})"
            plan = plan_network(spec, pipeline_levels=pipeline_levels)
            y_plan = plan(x.reshape(len(x), -1))
            if (
                np.asarray(y_plan, dtype=object).tolist()
                != np.asarray(y_ref, dtype=object).tolist()
            ):
                raise AssertionError(f"plan and reference differ: {y_plan!r} != {y_ref!r}")
    except AssertionError as err:
        raise AssertionError(f"{where}: {stage}: {err}") from err
    except Exception as err:
        raise AssertionError(
            f"{where}: accepted by check, but {stage} raised {type(err).__name__}: {err}"
        ) from err
    return MutationResult(seed, what, None, spec)


def generate_verilog(result: MutationResult, *, pipeline_levels: int = 1) -> tuple[str, str]:
    """``(module name, Verilog)`` of an accepted mutation, as ``hgq gen`` makes it (the module is
    named after the spec, so that hazards in the name reach the lint). ``AssertionError`` naming
    the mutation if generation fails."""
    from hgq_hw.emit import build

    if result.spec is None:
        raise ValueError(f"mutation seed {result.seed} was refused; nothing to generate")
    try:
        design = build(result.spec, pipeline_levels=pipeline_levels)
    except Exception as err:
        raise AssertionError(
            f"mutation seed {result.seed} ({result.description}): accepted by check, but gen "
            f"raised {type(err).__name__}: {err}"
        ) from err
    return result.spec.name, design.verilog


_ERROR_RE = re.compile(r"^%Error[^:]*: (?:.*?/)?d(\d+)/[^/:]+\.v:(.*)$", re.MULTILINE)


def _batches(designs: dict[int, tuple[str, str]]) -> list[dict[int, tuple[str, str]]]:
    """Designs split so that no two in one batch share a module name."""
    batches: list[dict[int, tuple[str, str]]] = []
    for seed, (name, text) in sorted(designs.items()):
        home = next((b for b in batches if all(n != name for n, _ in b.values())), None)
        if home is None:
            home = {}
            batches.append(home)
        home[seed] = (name, text)
    return batches


def lint_verilog(
    designs: dict[int, tuple[str, str]], folder: str | Path, *, timeout: float = 600
) -> dict[int, list[str]]:
    """Lint many designs (seed -> (module name, Verilog)) with ``verilator --lint-only``, as few
    runs as module names allow, in ``folder`` (each design as ``d<seed>/<name>.v``, as ``hgq
    gen`` names it); returns seed -> Verilator's error lines for the designs that have errors.

    Warnings are not errors (the generator's own lint policy lives with its tests). A design
    whose file cannot be written (e.g. a name too long for the file system) counts as an error;
    a run that fails without naming a design raises ``RuntimeError`` with Verilator's output."""
    from hgq_hw.toolchain import require_tool, tool_env

    folder = Path(folder)
    errors: dict[int, list[str]] = {}
    for batch in _batches(designs):
        files = []
        for seed, (name, text) in batch.items():
            path = folder / f"d{seed}" / f"{name}.v"
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            except OSError as err:
                errors[seed] = [f"cannot write {path.name[:80]}: {err.strerror or err}"]
                continue
            files.append(str(path.relative_to(folder)))
        if not files:
            continue
        command = [require_tool("verilator"), "--lint-only", "-Wno-fatal", "-Wno-lint"]
        command += ["-Wno-style", "-Wno-MULTITOP", *files]
        run = subprocess.run(
            command, cwd=folder, capture_output=True, text=True, env=tool_env(), timeout=timeout
        )
        found = 0
        for match in _ERROR_RE.finditer(run.stderr):
            errors.setdefault(int(match.group(1)), []).append(match.group(0))
            found += 1
        if run.returncode != 0 and not found:
            raise RuntimeError(f"verilator --lint-only failed in {folder}:\n{run.stderr[-3000:]}")
    return errors
