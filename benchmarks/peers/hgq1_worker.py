"""Train the MLP with HGQ v1 (``pip install hgq==0.2.6``, TensorFlow 2.15 / Keras 2) and print
``HGQ1_RESULT {json}``: run by ``hgq1_vs_ours.py`` inside HGQ v1's own virtual environment.

    .venv-hgq1/bin/python benchmarks/peers/hgq1_worker.py '{"data": "split.npz", ...}'

The JSON argument holds ``data`` (an ``.npz`` with x_train, y_train, x_test, y_test), ``hidden``,
``beta``, ``epochs``, ``batch_size``, ``lr``, ``seed``, ``f_init`` and ``input_f_init`` (initial
fractional bits of weights / activations and of the input quantizer). Uses only HGQ v1's
public names: ``HQuantize``, ``HDense``, ``ResetMinMax``, ``FreeBOPs``, ``trace_minmax``,
``to_proxy_model``, ``get_default_kq_conf``, ``get_default_paq_conf``.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    opts = json.loads(sys.argv[1])
    try:
        import numpy as np
        import tensorflow as tf
        from HGQ import (
            FreeBOPs,
            HDense,
            HQuantize,
            ResetMinMax,
            get_default_kq_conf,
            get_default_paq_conf,
            to_proxy_model,
            trace_minmax,
        )
    except Exception as err:  # any import failure is reported as such
        print(f"HGQ1_IMPORT_ERROR {type(err).__name__}: {err}", flush=True)
        return 3

    data = np.load(opts["data"])
    x_train, y_train = data["x_train"], data["y_train"]
    x_test, y_test = data["x_test"], data["y_test"]
    tf.keras.utils.set_random_seed(opts["seed"])
    beta = float(opts["beta"])
    kq = {**get_default_kq_conf(), "init_bw": float(opts["f_init"])}
    paq = {**get_default_paq_conf(), "init_bw": float(opts["f_init"])}
    inq = {**get_default_paq_conf(), "init_bw": float(opts["input_f_init"])}
    layers = [HQuantize(beta=beta, paq_conf=inq, input_shape=(x_train.shape[1],))]
    for width in opts["hidden"]:
        layers.append(HDense(width, activation="relu", beta=beta, kq_conf=kq, paq_conf=paq))
    layers.append(HDense(int(y_train.max()) + 1, beta=beta, kq_conf=kq, paq_conf=paq))
    model = tf.keras.Sequential(layers)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(opts["lr"]),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )

    class EpochTimes(tf.keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    timer = EpochTimes()
    start = time.perf_counter()
    model.fit(
        x_train,
        y_train,
        epochs=opts["epochs"],
        batch_size=opts["batch_size"],
        callbacks=[ResetMinMax(), FreeBOPs(), timer],
        verbose=0,
    )
    fit_seconds = time.perf_counter() - start
    ebops = float(trace_minmax(model, x_train, verbose=False))  # exact, ranges from x_train
    # HGQ v1 counts no sign bit for weights; the same with one per negative weight (our EBOPs):
    sign_extra = 0.0
    for layer in model.layers:
        if isinstance(layer, HDense) and layer.input_bw is not None:
            negative = (np.asarray(layer.fused_qkernel) < 0).astype(np.float32)
            sign_extra += float(np.sum(np.matmul(layer.input_bw_exact, negative)))
    proxy = to_proxy_model(model)
    logits = proxy.predict(x_test, verbose=0)
    accuracy = float(np.mean(np.argmax(logits, axis=1) == y_test))
    result = {
        "version": __import__("HGQ").__version__,
        "tensorflow": tf.__version__,
        "accuracy": accuracy,
        "ebops": ebops,
        "ebops_sign": ebops + sign_extra,
        "fit_seconds": fit_seconds,
        "epoch_seconds": timer.seconds,
    }
    print("HGQ1_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
