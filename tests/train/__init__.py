"""Tests of hgq_train (Keras 3 / TensorFlow)."""
