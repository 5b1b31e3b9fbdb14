"""Time and memory of the integer reference on an SVHN-shaped first block.

32x32x3 input (8-bit), Conv2D 3x3 "same" to 16 channels, Requantize, MaxPool 2x2, AvgPool 2x2,
Reshape: prints the seconds of ``infer_types`` and of ``evaluate`` on a batch of images.

    python benchmarks/reference_conv.py [--images 100] [--seed 0]

Peak memory: run it under ``/usr/bin/time -f %MKB``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from hgq_hw.reference import evaluate, infer_types
from hgq_hw.spec import (
    AvgPoolSpec,
    ConvSpec,
    InputSpec,
    MaxPoolSpec,
    ModelSpec,
    OutputSpec,
    RequantizeSpec,
    ReshapeSpec,
)


def svhn_block(seed: int) -> ModelSpec:
    rng = np.random.default_rng(seed)
    shape, conv = (32, 32, 3), (32, 32, 16)
    kernel = rng.integers(-7, 8, (3, 3, 3, 16))
    return ModelSpec(
        "svhn_block",
        [
            InputSpec(
                name="x", k=np.zeros(shape, int), i=np.zeros(shape, int), f=np.full(shape, 8)
            ),
            ConvSpec(
                name="c",
                inputs=("x",),
                kernel_raw=kernel,
                kernel_f=np.full(kernel.shape, 3),
                bias_raw=rng.integers(-5, 5, 16),
                bias_f=np.full(16, 4),
                strides=[1, 1],
                padding="same",
            ),
            RequantizeSpec(
                name="q",
                inputs=("c",),
                k=np.ones(conv, int),
                i=np.full(conv, 3),
                f=np.full(conv, 3),
            ),
            MaxPoolSpec(name="p", inputs=("q",), pool_size=[2, 2], strides=[2, 2]),
            AvgPoolSpec(name="a", inputs=("p",), pool_size=[2, 2], strides=[2, 2]),
            ReshapeSpec(name="r", inputs=("a",), shape=[8 * 8 * 16]),
            OutputSpec(name="y", inputs=("r",)),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    spec = svhn_block(args.seed)
    start = time.perf_counter()
    infer_types(spec)
    print(f"infer_types: {time.perf_counter() - start:.2f} s")
    x = np.random.default_rng(args.seed).integers(0, 256, (args.images, 32, 32, 3))
    start = time.perf_counter()
    y = evaluate(spec, x)
    print(f"evaluate {args.images} images: {time.perf_counter() - start:.2f} s, out {y.shape}")


if __name__ == "__main__":
    main()
