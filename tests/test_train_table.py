"""The spec's [train] table: validation with one-line errors, the emitted module's TRAIN defaults,
and weight decay as part of the objective (derived, shown, emitted, checked against an
independent autograd objective and central differences)."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

import symbp
from symbp.derivation.derive import derive
from symbp.graph.nodes import Plus
from symbp.output.document import document_source
from symbp.spec.model import from_dict
from symbp.spec.train import Train

from .conftest import module_for

BASE = {
    "name": "net",
    "input": 3,
    "bias": True,
    "layers": [{"units": 4, "activation": "tanh"}, {"units": 2, "activation": "sigmoid"}],
}


def spec_with(train: dict, **extra):
    return from_dict({**BASE, **extra, "train": train})


def test_no_train_table_keeps_the_spec_and_its_digest():
    plain = from_dict(BASE)
    assert plain.train == Train()
    assert "train" not in plain.to_dict()
    assert spec_with({}).digest() == plain.digest()


def test_a_train_table_round_trips_through_its_toml_form():
    spec = spec_with(
        {"lr": 0.5, "batch_size": 8, "epochs": 3, "layer_lr": [1, 0.5], "weight_decay": 1e-3}
    )
    again = from_dict(spec.to_dict())
    assert again == spec and again.digest() == spec.digest()
    assert spec.train.layer_lr == (1.0, 0.5) and spec.train.weight_decay == (1e-3, 1e-3)


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"lr": 0}, "train.lr"),
        ({"lr": float("inf")}, "train.lr"),
        ({"lr": "fast"}, "train.lr"),
        ({"optimizer": "sgdd"}, "train.optimizer"),
        ({"schedule": "exp"}, "train.schedule"),
        ({"batch_size": 0}, "train.batch_size"),
        ({"epochs": 2.5}, "train.epochs"),
        ({"seed": -1}, "train.seed"),
        ({"layer_lr": [1]}, "train.layer_lr"),
        ({"layer_lr": [1, -2]}, "train.layer_lr[1]"),
        ({"weight_decay": -1e-3}, "train.weight_decay"),
        ({"weight_decay": [0.1, True]}, "train.weight_decay[1]"),
        ({"momentm": 0.9}, "train.momentm"),
    ],
)
def test_a_bad_train_field_is_one_line_naming_it(table, field, tmp_path, symbp_main):
    path = tmp_path / "net.toml"
    rows = "\n".join(f"{key} = {_toml(value)}" for key, value in table.items())
    layers = "\n".join(
        f'[[layers]]\nunits = {t["units"]}\nactivation = "{t["activation"]}"'
        for t in BASE["layers"]
    )
    path.write_text(f'name = "net"\ninput = 3\n{layers}\n[train]\n{rows}\n')
    run = symbp_main("derive", str(path))
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], run.stderr


def _toml(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and not np.isfinite(value):
        return "inf"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return f'"{value}"' if isinstance(value, str) else repr(value)


def test_the_module_takes_its_training_defaults_from_the_train_table():
    spec = spec_with({"lr": 0.25, "batch_size": 4, "epochs": 7, "seed": 3, "layer_lr": [2, 1]})
    train = module_for(spec).TRAIN
    assert train["lr"] == 0.25 and train["batch_size"] == 4 and train["epochs"] == 7
    assert train["seed"] == 3 and train["layer_lr"] == {1: 2.0, 2: 1.0}
    assert train["optimizer"] == "sgd" and train["schedule"] == "constant"


# ---- weight decay: part of the objective -------------------------------------------------------


def _oracle(params, X, Y, decay):
    """f = (1/N) ||Y - Z_2||_F^2 + sum_j lambda_j ||W_j||_F^2, written here independently."""
    Z1 = anp.tanh(params["W1"] @ X + params["b1"])
    Z2 = 1 / (1 + anp.exp(-(params["W2"] @ Z1 + params["b2"])))
    data = anp.sum((Y - Z2) ** 2) / X.shape[1]
    return data + decay[0] * anp.sum(params["W1"] ** 2) + decay[1] * anp.sum(params["W2"] ** 2)


@pytest.mark.parametrize("decay", [(0.01, 0.01), (0.3, 0.0), (0.0, 2e-3)], ids=str)
def test_weight_decay_gradients_equal_an_independent_autograd_objective(decay):
    spec = spec_with({"weight_decay": list(decay)})
    module = module_for(spec)
    rng = np.random.default_rng(0)
    params = module.init_params(seed=1)
    X, Y = rng.standard_normal((3, 5)), rng.uniform(0.1, 0.9, (2, 5))
    f, grads = module.value_and_gradients(params, X, Y)
    assert f == pytest.approx(_oracle(params, X, Y, decay), rel=1e-12)
    assert module.loss(params, X, Y) == pytest.approx(f, rel=1e-12)
    oracle = grad(lambda p: _oracle(p, X, Y, decay))(params)
    for key in params:
        np.testing.assert_allclose(grads[key], oracle[key], rtol=1e-10, atol=1e-12)
    assert module.check_gradients(params, X, Y) < 1e-7


def test_weight_decay_changes_the_gradient_by_exactly_two_lambda_w():
    plain, decayed = module_for(from_dict(BASE)), module_for(spec_with({"weight_decay": 0.125}))
    rng = np.random.default_rng(1)
    params = plain.init_params(seed=2)
    X, Y = rng.standard_normal((3, 4)), rng.uniform(0.1, 0.9, (2, 4))
    g0, g1 = plain.gradients(params, X, Y), decayed.gradients(params, X, Y)
    for key in params:
        extra = 2 * 0.125 * params[key] if key.startswith("W") else 0  # biases do not decay
        np.testing.assert_allclose(g1[key] - g0[key], extra, atol=1e-12)


def test_weight_decay_is_derived_shown_and_proved():
    spec = spec_with({"weight_decay": [0.1, 0.2]})
    d = derive(spec)
    text = str(d)
    assert "λ₁·‖W₁‖_F²" in text and "λ₂·‖W₂‖_F²" in text and "(2λ₁) W₁" in text
    chains = {c.target.name: c for c in d.chains}
    assert all(isinstance(step.rhs, Plus) for step in chains["W1"].steps)
    assert not any(isinstance(step.rhs, Plus) for step in chains["b1"].steps)
    tex = document_source(spec)
    assert r"\lambda_{1}" in tex and r"\lambda_{2}" in tex
    report = symbp.check(spec)
    assert report.ok, report


def test_one_lambda_for_all_layers_is_written_once():
    d = derive(spec_with({"weight_decay": 0.1}))
    assert "λ·‖W₁‖_F²" in str(d) and "λ₁" not in str(d)


def test_weight_decay_turns_off_least_squares_block_coordinate_descent():
    """BCD's blocks are plain least squares; with a decay term they would not minimise f."""
    linear = {**BASE, "layers": [{"units": 2, "activation": "identity"}] * 2}
    assert hasattr(module_for(from_dict(linear)), "bcd_step")
    decayed = module_for(from_dict({**linear, "train": {"weight_decay": 0.1}}))
    assert not hasattr(decayed, "bcd_step")
