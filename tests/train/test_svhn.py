"""SVHN: the ``.mat`` loader on a tiny synthetic file written here (no network), its errors, and
the ``svhn`` model preset (the HGQ paper's SVHN classifier) building, training a step and
exporting bit-exactly."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from hgq_train.data import SVHN_IMAGE_SHAPE, SVHN_URL, load_dataset, load_svhn

SEED = 1203


def _write_mat(path, n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """A tiny SVHN-format file: X (32, 32, 3, n) uint8, y (n, 1) labels 1..10 (every class)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(32, 32, 3, n), dtype=np.uint8)
    y = (np.arange(n) % 10 + 1).reshape(n, 1).astype(np.uint8)
    scipy.io.savemat(path, {"X": x, "y": y})
    return x, y


def test_svhn_mat_is_read_as_channels_last_images(tmp_path) -> None:
    print(f"seed {SEED}")
    x, y = _write_mat(tmp_path / "train_32x32.mat", 40)
    data = load_dataset("svhn", tmp_path / "train_32x32.mat", seed=0)
    assert data.image_shape == SVHN_IMAGE_SHAPE == (32, 32, 3)
    assert data.n_features == 3072 and data.n_classes == 10
    assert len(data.x_train) + len(data.x_val) + len(data.x_test) == 40
    assert len(data.x_test) == 8  # 20% of the file without a test_32x32.mat beside it
    # every sample is one image of the file, row-major, channels last, / 255, label 10 -> 0
    images = {np.moveaxis(x, 3, 0)[n].tobytes(): int(y[n, 0]) % 10 for n in range(x.shape[3])}
    for xs, ys in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        for sample, label in zip(xs, ys):
            raw = np.round(sample * 255).astype(np.uint8)
            assert np.array_equal(raw.astype(np.float32) / np.float32(255), sample)
            assert images[raw.reshape(32, 32, 3).tobytes()] == label
    assert set(np.concatenate([data.y_train, data.y_val, data.y_test]).tolist()) == set(range(10))


def test_svhn_test_file_beside_the_train_file_is_the_test_split(tmp_path) -> None:
    _write_mat(tmp_path / "train_32x32.mat", 30)
    _write_mat(tmp_path / "test_32x32.mat", 20, seed=SEED + 1)
    data = load_svhn(tmp_path / "train_32x32.mat")
    assert len(data.x_test) == 20
    assert len(data.x_train) + len(data.x_val) == 30


def test_svhn_missing_file_says_where_to_put_and_download_it(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("HGQ_DATA_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="HGQ_DATA_DIR") as err:
        load_dataset("svhn")
    assert SVHN_URL in str(err.value) and "train_32x32.mat" in str(err.value)
    with pytest.raises(FileNotFoundError, match=r"nowhere\.mat does not exist"):
        load_dataset("svhn", tmp_path / "nowhere.mat")
    monkeypatch.setenv("HGQ_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=SVHN_URL):
        load_dataset("svhn")


def test_bad_svhn_files_name_the_file_and_array(tmp_path) -> None:
    bad = tmp_path / "bad.mat"
    scipy.io.savemat(bad, {"X": np.zeros((28, 28, 1, 20), np.uint8), "y": np.ones((20, 1))})
    with pytest.raises(ValueError, match=r"bad\.mat: X must have shape \(32, 32, 3, N\)"):
        load_svhn(bad)
    scipy.io.savemat(bad, {"X": np.zeros((32, 32, 3, 20), np.uint8), "y": np.zeros((20, 1))})
    with pytest.raises(ValueError, match=r"bad\.mat: y labels must be 1\.\.10.*image 0"):
        load_svhn(bad)
    scipy.io.savemat(bad, {"X": np.zeros((32, 32, 3, 20), np.uint8)})
    with pytest.raises(ValueError, match="no array 'y'"):
        load_svhn(bad)
    bad.write_text("not a mat file")
    with pytest.raises(ValueError, match="not a readable SVHN"):
        load_svhn(bad)


def test_svhn_preset_builds_trains_a_step_and_exports_bit_exactly(tmp_path) -> None:
    import keras

    from hgq_train.export import export_with_model, verify
    from hgq_train.models import PRESETS, build_model
    from hgq_train.training import compile_hgq

    print(f"seed {SEED}")
    _write_mat(tmp_path / "train_32x32.mat", 12)
    data = load_svhn(tmp_path / "train_32x32.mat")
    keras.utils.set_random_seed(SEED)
    model = build_model(PRESETS["svhn"], data.n_features, 10, image_shape=data.image_shape)
    convs = [layer for layer in model.layers if layer.name.startswith("conv")]
    assert [c.name for c in convs if "relu" not in c.name] == ["conv0", "conv1", "conv2"]
    assert model.get_layer("flatten").output.shape[-1] == 2 * 2 * 24
    compile_hgq(model, beta=1e-6, learning_rate=3e-3, jit_compile=False)
    before = [keras.ops.convert_to_numpy(w) for w in model.get_layer("conv0").trainable_weights]
    model.fit(data.x_train, data.y_train, batch_size=16, epochs=1, steps_per_epoch=1, verbose=0)
    after = [keras.ops.convert_to_numpy(w) for w in model.get_layer("conv0").trainable_weights]
    assert any(not np.array_equal(a, b) for a, b in zip(after, before))  # the step trained
    result = export_with_model(model, data.x_train)
    kinds = [layer.kind for layer in result.spec.layers]
    assert kinds.count("Conv") == 3 and kinds.count("MaxPool") == 3 and kinds.count("Dense") == 3
    assert result.spec.input_shape == (32, 32, 3)
    assert verify(result.model64, result.spec, data.x_train) == len(data.x_train)
    assert verify(result.model64, result.spec, data.x_test) == len(data.x_test)


def test_hgq_train_svhn_without_the_file_says_where_to_get_it(tmp_path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "HGQ_DATA_DIR"}
    missing = tmp_path / "train_32x32.mat"
    proc = subprocess.run(
        [sys.executable, "-m", "hgqflow", "train", "--dataset", "svhn", "--model", "svhn"]
        + ["--out", str(tmp_path / "run"), "--data", str(missing)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode != 0
    assert f"SVHN file {missing} does not exist" in proc.stderr, proc.stderr[-2000:]
    assert SVHN_URL in proc.stderr, proc.stderr[-2000:]
