"""Model presets, TOML model files and the data-sized default."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hgq_train.layers import (
    QActivation,
    QConv2D,
    QConv2DBatchNorm,
    QDense,
    QDenseBatchNorm,
    QInput,
    QMaxPool2D,
    QSoftmax,
)
from hgq_train.layers.activation import TABLE_FUNCTIONS
from hgq_train.models import (
    HIDDEN_ACTIVATIONS,
    PRESETS,
    CNNConfig,
    MLPConfig,
    build_mlp,
    build_model,
    resolve_model_config,
)


def _widths(model) -> list[int]:
    return [layer.units for layer in model.layers if isinstance(layer, QDense)]


def test_presets() -> None:
    assert _widths(build_mlp(resolve_model_config("jet", 16, 5), 16, 5)) == [64, 32, 32, 5]
    assert _widths(build_mlp(resolve_model_config("digits", 64, 10), 64, 10)) == [32, 10]
    assert set(PRESETS) == {"jet", "digits", "cnn", "mlp-softmax", "resmlp-softmax", "svhn"}


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


def test_cnn_preset_is_the_digits_image_network(digits) -> None:
    assert digits.image_shape == (8, 8, 1)
    config = resolve_model_config("cnn", digits.n_features, digits.n_classes)
    model = build_model(config, 64, 10, image_shape=digits.image_shape)
    kinds = [type(layer) for layer in model.layers]
    assert kinds == [
        keras.layers.Reshape, QInput, QConv2D, QActivation, QMaxPool2D, QConv2D, QActivation,
        keras.layers.Flatten, QDense,
    ]  # fmt: skip
    shapes = [tuple(layer.output.shape[1:]) for layer in model.layers]
    assert shapes == [
        (8, 8, 1), (8, 8, 1), (8, 8, 4), (8, 8, 4), (4, 4, 4), (2, 2, 8), (2, 2, 8), (32,), (10,)
    ]  # fmt: skip
    # the flat samples are the images row by row: the first conv sees pixel (r, c) at r*8+c
    x = np.zeros((1, 64), dtype="float32")
    x[0, 3 * 8 + 5] = 1.0
    image = keras.Model(model.inputs[0], model.get_layer("image").output)(x)
    assert np.argwhere(np.asarray(image)[0, :, :, 0]).tolist() == [[3, 5]]


def test_cnn_toml_and_its_refusals(tmp_path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        'filters = [3, 2, 2]\npadding = ["valid", "same", "valid"]\npool = [0, 2, 0]\n'
        "kernel_size = 2\nhidden = [5]\nbatch_norm = true\n"
    )
    config = resolve_model_config(str(path), 49, 3)
    assert isinstance(config, CNNConfig) and config.to_dict()["filters"] == [3, 2, 2]
    model = build_model(config, 49, 3, image_shape=(7, 7, 1))
    assert [la.filters for la in model.layers if isinstance(la, QConv2DBatchNorm)] == [3, 2, 2]
    assert tuple(model.output_shape) == (None, 3)
    with pytest.raises(ValueError, match="needs an image dataset"):
        build_model(config, 49, 3, image_shape=None)
    bad = tmp_path / "b.toml"
    bad.write_text('filters = [3, 2]\npadding = ["same"]\npool = [0, 0]\n')
    with pytest.raises(ValueError, match=r"b.toml: padding must have one entry per convolution"):
        resolve_model_config(str(bad), 49, 3)


def test_hidden_activations_are_relu_linear_and_the_table_functions() -> None:
    assert set(HIDDEN_ACTIVATIONS) == {"relu", "linear", *TABLE_FUNCTIONS}


def test_resmlp_softmax_preset_is_a_graph_with_tables_a_skip_and_a_softmax() -> None:
    from hgq_train.training import compile_hgq

    config = resolve_model_config("resmlp-softmax", 64, 10)
    model = build_model(config, 64, 10, image_shape=None)
    assert isinstance(model, keras.Model) and not isinstance(model, keras.Sequential)
    names = [layer.name for layer in model.layers[1:]]
    assert names == ["inp_q", "dense0", "tanh0", "dense1", "tanh1", "skip1", "logits", "softmax"]
    for name in ("tanh0", "tanh1"):
        table = model.get_layer(name)
        assert table.is_table and table.table_activation == "tanh" and table.f_max == 4.0
    skip = model.get_layer("skip1")
    assert isinstance(skip, keras.layers.Add)
    assert [t._keras_history.operation.name for t in skip.input] == ["tanh0", "tanh1"]
    # tanh0 feeds two layers: dense1 and the skip connection
    readers = {n.operation.name for n in model.get_layer("tanh0")._outbound_nodes}
    assert readers == {"dense1", "skip1"}
    assert isinstance(model.layers[-1], QSoftmax)
    assert compile_hgq(model).task_name == "sparse_categorical_crossentropy"


def test_skip_and_table_activation_in_a_toml_file(tmp_path) -> None:
    path = tmp_path / "r.toml"
    path.write_text(
        'hidden = [6, 6, 6, 4]\nactivation = "sigmoid"\nskip = true\ntable_f_max = 3.0\n'
    )
    config = resolve_model_config(str(path), 8, 3)
    assert config.skip_layers == (1, 2)
    model = build_model(config, 8, 3, image_shape=None)
    adds = [la.name for la in model.layers if isinstance(la, keras.layers.Add)]
    assert adds == ["skip1", "skip2"]
    assert model.get_layer("sigmoid3").f_max == 3.0
    x = np.random.default_rng(5).normal(size=(4, 8)).astype("float32")
    assert model(x).shape == (4, 3)
    # no skip: the Sequential of before, relu layers named as always
    plain = build_mlp(MLPConfig(hidden=(6, 6)), 8, 3)
    assert isinstance(plain, keras.Sequential)
    assert [la.name for la in plain.layers if isinstance(la, QActivation)] == ["relu0", "relu1"]


def test_cnn_dense_head_takes_skip_connections(digits) -> None:
    config = CNNConfig(filters=(2,), padding=("valid",), pool=(2,), hidden=(4, 4), skip=True)
    model = build_model(config, 64, 10, image_shape=digits.image_shape)
    assert [la.name for la in model.layers if isinstance(la, keras.layers.Add)] == ["skip1"]
    assert tuple(model.output_shape) == (None, 10)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"activation": "elu"}, "activation must be one of relu, linear, sigmoid"),
        ({"skip": True, "hidden": (8, 4)}, r"skip needs two consecutive hidden layers .* \[8, 4\]"),
        ({"skip": True, "hidden": (8,)}, "skip needs two consecutive hidden layers"),
        ({"skip": 1}, "skip must be true or false"),
    ],
)
def test_bad_activation_and_skip_settings(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MLPConfig(**options)
