"""Residual connections (`skip_from`): validated with one-line errors naming the field; the
derivation adds the adjoints of the two paths into z_k (the multivariate chain rule)."""

from __future__ import annotations

import pytest

import symbp
from symbp.errors import SpecError
from symbp.printing.text import text

from .conftest import ROOT

RESIDUAL = ROOT / "examples" / "residual.toml"


def _spec(skip_from, units=(3, 3, 3), activation="tanh", loss="l2"):
    layers = [{"units": u, "activation": "tanh"} for u in units]
    layers[-1]["activation"] = activation
    layers[-1]["skip_from"] = skip_from
    return {"name": "r", "input": 3, "loss": loss, "layers": layers}


@pytest.mark.parametrize(
    "data, message",
    [
        (_spec(2), "layers[2] (layer 3).skip_from: layer 3 can add z_k for k = one of 0"),
        (_spec(5), "layers[2] (layer 3).skip_from: layer 3 can add z_k for k = one of 0"),
        (_spec(0, units=(3,)), "layers[0] (layer 1).skip_from: layer 1 has no earlier output"),
        (_spec(1, units=(3, 3)), "layers[1] (layer 2).skip_from: layer 2 can add z_k for k = 0"),
        (_spec(-1), "layers[2] (layer 3).skip_from: expected a layer index"),
        (_spec(True), "layers[2] (layer 3).skip_from: expected a layer index"),
        (_spec("1"), "layers[2] (layer 3).skip_from: expected a layer index"),
        (
            _spec(1, units=(4, 3, 3)),
            "layers[2] (layer 3).skip_from: z_1 has width 4 but layer 3 has 3",
        ),
        (
            _spec(1, activation="softmax", loss="cross_entropy"),
            "layers[2] (layer 3).skip_from: softmax plus z_1",
        ),
        (_spec(1, activation="softmax"), "layers[2] (layer 3).skip_from: softmax plus z_1"),
        (
            _spec(1, activation="sigmoid", loss="binary_cross_entropy"),
            "layers[2] (layer 3).skip_from: adding z_1",
        ),
    ],
)
def test_a_bad_skip_is_one_line_naming_the_field(data, message):
    with pytest.raises(SpecError) as err:
        symbp.from_dict(data)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_skip_from_the_input_is_allowed():
    spec = symbp.from_dict(_spec(0))
    adjoints = {text(lhs): text(rhs) for lhs, rhs in symbp.derive(spec).sample.adjoints}
    assert adjoints["ζ₃"] == "2(z₃ − y)"


def test_the_two_paths_into_z_k_add_up():
    d = symbp.derive(symbp.load_spec(RESIDUAL))
    adjoints = {text(lhs): text(rhs) for lhs, rhs in d.sample.adjoints}
    assert adjoints["ζ₃"] == "W₄ᵀ δ₄"
    assert adjoints["δ₃"] == "ζ₃ ∘ σ′₃"
    assert adjoints["δ₁"] == "(W₂ᵀ δ₂ + ζ₃) ∘ σ′₁"
    batch = {text(lhs): text(rhs) for lhs, rhs in d.batch.adjoints}
    assert batch["Δ₁"] == "(W₂ᵀ Δ₂ + 𝒵₃) ∘ Σ′₁"
    (chain,) = [c for c in d.chains if c.target.name == "W1"]
    summed = [s for s in chain.steps if s.reason.kind == "sum"]
    assert len(summed) == 1 and text(summed[0].reason.symbol) == "z₁"


def test_a_spec_without_skips_keeps_its_digest():
    """skip_from is written out only when set: older specs keep the hash their files carry."""
    spec = symbp.lecture_spec()
    assert all("skip_from" not in layer for layer in spec.to_dict()["layers"])
    with_skip = symbp.load_spec(RESIDUAL).to_dict()["layers"][2]
    assert with_skip["skip_from"] == 1
    assert symbp.from_dict(symbp.load_spec(RESIDUAL).to_dict()) == symbp.load_spec(RESIDUAL)


def test_block_coordinate_descent_is_refused_for_a_linear_network_with_a_skip():
    """Z_J is then not W_J ... W_1 Z_0: the BCD blocks would solve the wrong problem."""
    data = _spec(1, activation="identity")
    for layer in data["layers"]:
        layer["activation"] = "identity"
    spec = symbp.from_dict(data)
    assert "def bcd_step" not in symbp.generate_module(spec)
    with pytest.raises(SpecError, match="remove skip_from"):
        symbp.latex_document(spec, convexity=True)
