"""Convolutional networks: the emitted convolutions equal their dense Toeplitz/circulant matrices,
the emitted gradients equal an independent autograd oracle (tests/conv_oracle.py), central
differences and, where installed, PyTorch; the derivation is proved by expansion; bad geometry
is one line naming the field."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symbp
from symbp.errors import SpecError
from symbp.proof.expansion import prove
from symbp.spec.model import from_dict

from .conftest import ROOT, module_for
from .conv_oracle import Network


def _spec(data: dict):
    return from_dict({"name": "cnn", "loss": "l2", **data})


def _random_params(module, rng):
    params = module.init_params(seed=int(rng.integers(1000)))
    return {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in params.items()}


def _assert_matches_oracle(data: dict, samples: int = 3, seed: int = 0):
    spec = _spec(data)
    module, oracle = module_for(spec), Network(data)
    rng = np.random.default_rng(seed)
    params = _random_params(module, rng)
    X = rng.standard_normal((spec.widths[0], samples))
    Y = rng.standard_normal((spec.widths[-1], samples))
    f, grads = module.value_and_gradients(params, X, Y)
    assert f == pytest.approx(float(oracle.objective(params, X, Y)), rel=1e-10)
    expected = oracle.gradients(params, X, Y)
    for key in params:
        assert grads[key].shape == params[key].shape, key
        np.testing.assert_allclose(grads[key], expected[key], rtol=1e-8, atol=1e-10, err_msg=key)
    return module, oracle, params, X


LECTURE_1D = {
    "input": [1, 6],
    "layers": [
        {"type": "conv1d", "channels": 1, "kernel": 3, "padding": "circular", "activation": "tanh"},
        {"units": 2, "activation": "identity"},
    ],
}


def test_circular_convolution_is_the_circulant_matrix_of_the_lecture():
    module, oracle, params, X = _assert_matches_oracle(LECTURE_1D)
    K = params["K1"]
    T = oracle.toeplitz(1, K)
    # circulant: each row is the previous one shifted by one position (mod d)
    for i in range(1, T.shape[0]):
        np.testing.assert_array_equal(T[i], np.roll(T[i - 1], 1))
    U = module._forward(params, X)[1]
    np.testing.assert_allclose(U, T @ X, rtol=1e-12)


@pytest.mark.parametrize(
    "layer",
    [
        {"type": "conv2d", "channels": 2, "kernel": 3, "padding": "same", "bias": True},
        {"type": "conv2d", "channels": 3, "kernel": [2, 3], "padding": "valid", "stride": [2, 1]},
        {"type": "conv2d", "channels": 2, "kernel": 3, "padding": "circular", "stride": 2},
        {
            "type": "conv2d",
            "channels": 1,
            "kernel": 2,
            "padding": "same",
            "stride": 2,
            "bias": True,
        },
        {"type": "conv1d", "channels": 2, "kernel": 4, "padding": "same", "bias": True},
    ],
    ids=["same", "valid-stride", "circular-stride", "same-stride2", "conv1d-even"],
)
def test_every_convolution_equals_its_dense_toeplitz_matrix(layer):
    dims = int(layer["type"][-2])
    data = {
        "input": [2, 5] if dims == 1 else [2, 6, 5],
        "layers": [{**layer, "activation": "tanh"}, {"units": 2, "activation": "identity"}],
    }
    try:
        _spec(data)
    except SpecError as exc:  # the geometry must be valid for this test
        pytest.fail(str(exc))
    module, oracle, params, X = _assert_matches_oracle(data)
    T = oracle.toeplitz(1, params["K1"])
    U = module._forward(params, X)[1]
    bias = 0
    if "b1" in params:
        bias = np.repeat(params["b1"], T.shape[0] // params["b1"].shape[0], axis=0)
    np.testing.assert_allclose(U, T @ X + bias, rtol=1e-12, atol=1e-12)


def test_a_small_cnn_with_max_and_average_pooling_matches_the_oracle():
    data = {
        "input": [1, 4, 4],
        "bias": True,
        "layers": [
            {"type": "conv2d", "channels": 2, "kernel": 3, "padding": "same", "activation": "tanh"},
            {"type": "maxpool2d", "size": 2},
            {"type": "conv2d", "channels": 2, "kernel": 1, "activation": "sigmoid"},
            {"type": "avgpool2d", "size": [1, 2]},
            {"units": 3, "activation": "identity"},
        ],
    }
    module, *_ = _assert_matches_oracle(data, samples=4)
    rng = np.random.default_rng(3)
    params = _random_params(module, rng)
    X, Y = rng.standard_normal((16, 3)), rng.standard_normal((3, 3))
    assert module.check_gradients(params, X, Y) < 1e-6


@st.composite
def cnns(draw):
    """Small CNNs: 1-D or 2-D, channels, kernels, paddings, strides, pooling, biases."""
    dims = draw(st.sampled_from([1, 2]))
    size = [draw(st.integers(3, 6)) for _ in range(dims)]
    layers = []
    for _ in range(draw(st.integers(1, 2))):
        layers.append(
            {
                "type": f"conv{dims}d",
                "channels": draw(st.integers(1, 3)),
                "kernel": draw(st.integers(1, 3)),
                "stride": draw(st.integers(1, 2)),
                "padding": draw(st.sampled_from(["valid", "same", "circular"])),
                "bias": draw(st.booleans()),
                "activation": draw(st.sampled_from(["tanh", "sigmoid", "identity"])),
            }
        )
        if draw(st.booleans()):
            layers.append(
                {"type": f"{draw(st.sampled_from(['max', 'avg']))}pool{dims}d", "size": 2}
            )
    layers.append({"units": draw(st.integers(1, 3)), "activation": "identity", "bias": True})
    return {"input": [draw(st.integers(1, 2)), *size], "layers": layers}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cnns(), st.integers(0, 2**16))
def test_emitted_cnn_gradients_equal_autograd_of_the_matrix_form(data, seed):
    try:
        _spec(data)
    except SpecError:
        assume(False)  # geometry the spec refuses (tested below)
    _assert_matches_oracle(data, samples=2, seed=seed)


def test_the_cnn_derivation_is_proved_by_expansion():
    spec = _spec(
        {
            "input": [1, 4, 4],
            "bias": True,
            "layers": [
                {
                    "type": "conv2d",
                    "channels": 2,
                    "kernel": 3,
                    "padding": "same",
                    "activation": "tanh",
                },
                {"type": "maxpool2d", "size": 2},
                {"units": 2, "activation": "sigmoid"},
            ],
        }
    )
    checks = prove(spec)
    assert checks and all(c.ok for c in checks), checks


def test_the_circular_1d_derivation_is_proved_by_expansion():
    checks = prove(_spec(LECTURE_1D))
    assert checks and all(c.ok for c in checks), checks


@pytest.mark.parametrize(
    ("layers", "field", "words"),
    [
        ([{"type": "conv2d", "channels": 2, "kernel": 5}], "layers[0].kernel", "longer than"),
        (
            [{"type": "conv2d", "channels": 2, "kernel": 2, "stride": 3}],
            "layers[0].stride",
            "skips",
        ),
        (
            [{"type": "conv2d", "channels": 2, "kernel": 3, "stride": 2}],
            "layers[0].stride",
            "skips",
        ),
        ([{"type": "maxpool2d", "size": 3}], "layers[0].size", "does not divide"),
        (
            [{"units": 4}, {"type": "conv1d", "channels": 1, "kernel": 2}],
            "layers[1].type",
            "needs a",
        ),
        ([{"type": "conv1d", "channels": 1, "kernel": 2}], "layers[0].type", "needs a"),
        ([{"type": "conv2d", "channels": 0, "kernel": 2}], "layers[0].channels", ">= 1"),
        (
            [{"type": "conv2d", "channels": 1, "kernel": 2, "padding": "full"}],
            "layers[0].padding",
            "valid",
        ),
    ],
)
def test_bad_geometry_is_one_line_naming_the_field(layers, field, words):
    with pytest.raises(SpecError) as err:
        _spec({"input": [1, 4, 4], "layers": [*layers, {"units": 2}]})
    assert err.value.field == field and words in str(err.value), str(err.value)


def test_a_cnn_matches_pytorch_conv2d_max_pool_and_linear():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    data = {
        "input": [1, 8, 8],
        "bias": True,
        "loss": "cross_entropy",
        "layers": [
            {"type": "conv2d", "channels": 3, "kernel": 3, "padding": "same", "activation": "relu"},
            {"type": "maxpool2d", "size": 2},
            {"type": "conv2d", "channels": 2, "kernel": 2, "stride": 2, "activation": "tanh"},
            {"units": 4, "activation": "softmax"},
        ],
    }
    spec = from_dict({"name": "cnn", **data})
    module = module_for(spec)
    rng = np.random.default_rng(0)
    params = _random_params(module, rng)
    X = rng.standard_normal((1, 8, 8, 5))
    labels = rng.integers(0, 4, 5)
    f, grads = module.value_and_gradients(params, X.reshape(64, 5), np.eye(4)[:, labels])
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    x = torch.tensor(np.moveaxis(X, -1, 0))
    z = F.max_pool2d(F.relu(F.conv2d(x, t["K1"], t["b1"][:, 0], padding=1)), 2)
    z = torch.tanh(F.conv2d(z, t["K3"], t["b3"][:, 0], stride=2)).reshape(5, -1)
    loss = F.cross_entropy(z @ t["W4"].T + t["b4"][:, 0], torch.tensor(labels))
    loss.backward()
    assert f == pytest.approx(loss.item(), rel=1e-12)
    for key in params:
        np.testing.assert_allclose(grads[key], t[key].grad.numpy(), rtol=1e-9, atol=1e-12)


def test_float32_stays_float32_through_the_convolutions():
    module = module_for(_spec(LECTURE_1D))
    params = module.init_params(dtype=np.float32)
    X = np.ones((6, 4), np.float32)
    _, grads = module.value_and_gradients(params, X, np.zeros((2, 4), np.float32))
    assert all(g.dtype == np.float32 for g in grads.values())


def test_symbp_check_passes_on_a_cnn():
    report = symbp.check(_spec(LECTURE_1D))
    assert report.ok, report


def _digits_cnn_accuracy(p, X, labels):
    """examples/digits_cnn.toml's forward pass written here independently: 3x3 "same"
    correlation of the 8x8 image (zero padding), relu, 2x2 max pooling, dense softmax."""
    images = np.pad(X.T.reshape(-1, 8, 8), ((0, 0), (1, 1), (1, 1)))
    K, b = p["K1"][:, 0], p["b1"][:, 0]
    maps = np.zeros((len(images), len(K), 8, 8))
    for r in range(3):
        for c in range(3):
            maps += K[None, :, r, c, None, None] * images[:, None, r : r + 8, c : c + 8]
    maps = np.maximum(maps + b[None, :, None, None], 0)
    pooled = maps.reshape(len(images), len(K), 4, 2, 4, 2).max(axis=(3, 5))
    logits = p["W3"] @ pooled.reshape(len(images), -1).T + p["b3"]
    return np.mean(np.argmax(logits, axis=0) == labels)


def test_the_digits_cnn_trains_to_a_held_out_accuracy_checked_independently(tmp_path, capsys):
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits

    digits = load_digits()
    X, labels = digits.data.T / 16.0, digits.target
    np.savez(tmp_path / "digits.npz", X=X, Y=labels)
    mod = module_for(symbp.load_spec(ROOT / "examples" / "digits_cnn.toml"))
    args = ["--data", tmp_path / "digits.npz", "--val", "0.2", "--epochs", "8"]
    args += ["--save", tmp_path / "p.npz", "--progress", "100"]
    capsys.readouterr()
    assert mod.main([str(a) for a in args]) == 0
    out = capsys.readouterr().out
    last = next(line for line in out.splitlines() if line.startswith("epoch 8/8"))
    printed = float(re.search(r"val acc ([\d.]+)%", last).group(1)) / 100
    with np.load(tmp_path / "p.npz", allow_pickle=False) as saved:
        p = {key: saved[key] for key in saved.files}
    _, held = mod.validation_split(X.shape[1], 0.2, 0)
    mine = _digits_cnn_accuracy(p, X[:, held], labels[held])
    assert printed == pytest.approx(mine, abs=0.0006)  # printed to 0.1 %
    assert mine >= 0.94, out  # the README's 40 epochs reach >= 97 %


def test_symbp_check_names_the_shapes_its_proof_ran_at(symbp_main):
    run = symbp_main("check", ROOT / "examples" / "conv1d_circular.toml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "proof by expansion at shapes 1x3-1x3-2" in run.stdout  # k = 3 needs 3, run.stdout
    assert "not the spec's 1x6-1x6-2" in run.stdout and "at most 2 channels" in run.stdout
