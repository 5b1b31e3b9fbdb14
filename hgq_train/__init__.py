"""hgq_train: High Granularity Quantization training in Keras 3 on TensorFlow.

The only package that imports TensorFlow or Keras. Importing ``hgq_train`` itself is cheap; the
Keras parts load on first use, so ``hgq doctor`` or ``hgq gen`` never pay for TensorFlow.
"""

from __future__ import annotations
