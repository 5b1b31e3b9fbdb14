"""Model presets, TOML model files and the data-sized default."""

from __future__ import annotations

import pytest

from hgq_train.layers import QActivation, QDense, QDenseBatchNorm, QInput
from hgq_train.models import PRESETS, build_mlp, resolve_model_config


def _widths(model) -> list[int]:
    return [layer.units for layer in model.layers if isinstance(layer, QDense)]


def test_presets() -> None:
    assert _widths(build_mlp(resolve_model_config("jet", 16, 5), 16, 5)) == [64, 32, 32, 5]
    assert _widths(build_mlp(resolve_model_config("digits", 64, 10), 64, 10)) == [32, 10]
    assert set(PRESETS) == {"jet", "digits"}


def test_default_is_sized_from_the_data() -> None:
    small = resolve_model_config(None, 4, 2)
    large = resolve_model_config(None, 64, 10)
    assert len(small.hidden) == 1 and 8 <= small.hidden[0] <= large.hidden[0] <= 64


def test_toml_model_file(tmp_path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        'hidden = [12, 6]\ngranularity = "channel"\nbatch_norm = true\n'
        'output_quantizer = true\noverflow = "SAT"\nround_mode = "TRN"\n'
    )
    model = build_mlp(resolve_model_config(str(path), 8, 3), 8, 3)
    kinds = [type(layer) for layer in model.layers]
    assert kinds == [
        QInput, QDenseBatchNorm, QActivation, QDenseBatchNorm, QActivation, QDense, QActivation
    ]  # fmt: skip
    assert _widths(model) == [12, 6, 3]
    assert model.layers[-1].overflow.value == "SAT" and model.layers[1].round_mode.value == "TRN"
    assert tuple(model.layers[1].kernel_f.shape) == (1, 12)  # per-channel bit widths


def test_bad_model_files(tmp_path) -> None:
    unknown = tmp_path / "u.toml"
    unknown.write_text("hidden = [4]\nwidth = 3\n")
    with pytest.raises(ValueError, match="unknown key"):
        resolve_model_config(str(unknown), 4, 2)
    missing = tmp_path / "h.toml"
    missing.write_text('granularity = "layer"\n')
    with pytest.raises(ValueError, match="missing required key 'hidden'"):
        resolve_model_config(str(missing), 4, 2)
    zero = tmp_path / "z.toml"
    zero.write_text("hidden = [8, 0]\n")
    with pytest.raises(ValueError, match="positive integers"):
        resolve_model_config(str(zero), 4, 2)
    with pytest.raises(ValueError, match="unknown model"):
        resolve_model_config("resnet", 4, 2)
    with pytest.raises(FileNotFoundError):
        resolve_model_config(str(tmp_path / "none.toml"), 4, 2)


@pytest.mark.parametrize("bits", [2, 3])
def test_weights_start_with_a_fixed_number_of_significant_bits(bits: int) -> None:
    import keras
    import numpy as np

    from hgq_train.quantizers import fixed_np

    keras.utils.set_random_seed(21)
    layer = QDense(16, kernel_init_bits=bits, gamma=0.0)
    layer.build((None, 24))
    raw, _, _, _ = layer.integer_weights()
    lengths = fixed_np.bit_length(raw)[raw != 0]
    # bits significant bits; one more where rounding carries into the next power of two
    assert set(np.unique(lengths).tolist()) <= {bits, bits + 1}
    assert np.mean(lengths == bits) > 0.5
    w = np.abs(layer.kernel.numpy())
    np.testing.assert_array_equal(layer.kernel_f.numpy(), bits - 1 - np.floor(np.log2(w)))
    channel = QDense(16, kernel_init_bits=bits, granularity="channel", gamma=0.0)
    channel.build((None, 24))
    w = np.abs(channel.kernel.numpy()).max(axis=0)
    np.testing.assert_array_equal(channel.kernel_f.numpy()[0], bits - 1 - np.floor(np.log2(w)))
    plain = QDense(4, f_init=5.0)
    plain.build((None, 3))
    assert np.all(plain.kernel_f.numpy() == 5.0)
    with pytest.raises(ValueError, match="kernel_init_bits must be positive"):
        QDense(4, kernel_init_bits=0)


def test_mlp_start_bits_are_options() -> None:
    from dataclasses import replace

    import numpy as np

    config = resolve_model_config("digits", 64, 10)
    model = build_mlp(replace(config, weight_init_bits=0, weight_f_init=None), 64, 10)
    assert float(model.get_layer("dense0").kernel_f.numpy().max()) == config.f_init
    model = build_mlp(replace(config, weight_init_bits=0, weight_f_init=4.0, f_init=2.0), 64, 10)
    for name in ("dense0", "logits"):
        dense = model.get_layer(name)
        assert np.all(dense.kernel_f.numpy() == 4.0) and np.all(dense.bias_f.numpy() == 2.0)
    assert np.all(model.get_layer("relu0").f.numpy() == 2.0)
    model = build_mlp(replace(config, weight_init_bits=2.0), 64, 10)
    assert model.get_layer("dense0").kernel_init_bits == 2.0
