"""The derivation itself: the lecture's recursion, sigma' simplifications, chains with reasons."""

from __future__ import annotations

import pytest

import symbp
from symbp.catalog.activations import ACTIVATIONS, derivative
from symbp.printing.text import text
from symbp.spec.model import Layer, Spec


def _lines(pass_):
    return [f"{text(lhs)} = {text(rhs)}" for lhs, rhs in pass_.adjoints]


def test_lecture_network_gives_the_lectures_general_case():
    d = symbp.derive(symbp.lecture_spec())
    # Transcribed from lecture 6, "BP: General Case" (with z_J where the slide misprints x_J).
    assert _lines(d.sample) == [
        "δ₃ = 2(z₃ − y) ∘ σ′₃",
        "δ₂ = (W₃ᵀ δ₃) ∘ σ′₂",
        "δ₁ = (W₂ᵀ δ₂) ∘ σ′₁",
    ]
    assert {k: text(g) for k, g in d.sample.gradients.items()} == {
        "W1": "δ₁ z₀ᵀ",
        "W2": "δ₂ z₁ᵀ",
        "W3": "δ₃ z₂ᵀ",
    }
    assert [text(rhs) for _, rhs in d.sample.sigma_primes] == [f"z{s} ∘ (1 − z{s})" for s in "₁₂₃"]


@pytest.mark.parametrize(
    "activation, shown",
    [
        ("sigmoid", "z₁ ∘ (1 − z₁)"),
        ("tanh", "1 − z₁ ∘ z₁"),
        ("softplus", "1 − exp(−z₁)"),
        ("relu", "(1 if u₁ > 0, else 0)"),
    ],
)
def test_sigma_prime_is_simplified_in_terms_of_the_output_where_possible(activation, shown):
    d = symbp.derive(Spec("n", 2, (Layer(2, activation), Layer(1, "identity"))))
    assert text(dict(d.sample.sigma_primes)[d.sample.names.dsigma(1)]) == shown


def test_identity_layers_drop_the_hadamard_factor():
    d = symbp.derive(Spec("lin", 3, (Layer(2, "identity"), Layer(2, "identity"))))
    assert _lines(d.sample) == ["δ₂ = 2(z₂ − y)", "δ₁ = W₂ᵀ δ₂"]
    assert derivative(ACTIVATIONS["identity"]).is_one


def test_bias_gradients_are_delta_and_row_sums_in_the_batch_form():
    spec = Spec("b", 2, (Layer(3, "tanh", True), Layer(1, "sigmoid", True)))
    d = symbp.derive(spec)
    assert text(d.sample.gradients["b1"]) == "δ₁"
    assert text(d.batch.gradients["b1"]) == "(1/N) Δ₁ 1"
    assert text(d.batch.gradients["W2"]) == "(1/N) Δ₂ Z₁ᵀ"


def test_sum_reduction_has_no_one_over_n():
    spec = Spec("s", 2, (Layer(2, "tanh"),), reduction="sum")
    assert text(symbp.derive(spec).batch.gradients["W1"]) == "Δ₁ Z₀ᵀ"


def test_chain_for_each_layer_ends_in_delta_times_previous_output_with_reasons():
    d = symbp.derive(symbp.lecture_spec())
    assert [text(c.target) for c in d.chains] == ["W₃", "W₂", "W₁"]
    for chain in d.chains:
        j = int(chain.target.name[1:])
        assert text(chain.steps[-1].rhs) == text(d.sample.gradients[chain.target.name])
        kinds = [s.reason.kind for s in chain.steps]
        # the top two layers start from f, as the slides do; below, from delta_{j+1}
        assert kinds[:2] == (["chain", "loss"] if j >= 2 else ["chain", "define"])
        assert kinds[-1] == "define"
        layers_used = {s.reason.layer for s in chain.steps if s.reason.kind == "layer"}
        assert layers_used == (set(range(j, 4)) if j >= 2 else {1})


def test_symbolic_widths_derive():
    spec = symbp.from_dict(
        {"name": "sym", "input": "d_0", "layers": [{"units": "d_1"}, {"units": 2}]}
    )
    d = symbp.derive(spec)
    assert d.sample.names.W(1).shape == (spec.layers[0].units, spec.input)
    assert "δ₁ = (W₂ᵀ δ₂) ∘ σ′₁" in str(d)


def test_repr_latex_for_jupyter():
    latex = symbp.derive(symbp.lecture_spec())._repr_latex_()
    assert latex.startswith("$$") and r"\circ" in latex and r"\boldsymbol{\delta}_{3}" in latex


def test_derivation_grows_linearly_with_expression_size_per_layer():
    # Each delta refers to the next delta by name: no expression contains more than one layer.
    spec = Spec("deep", 3, tuple(Layer(3, "tanh") for _ in range(30)))
    d = symbp.derive(spec)
    assert max(len(text(rhs)) for _, rhs in d.sample.adjoints) < 40


@pytest.mark.parametrize(
    "loss, output, assumes",
    [
        ("l2", "sigmoid", False),
        ("cross_entropy", "softmax", True),
        ("binary_cross_entropy", "sigmoid", True),
    ],
)
def test_assumptions_are_the_notes_of_the_simplification_steps(loss, output, assumes):
    """What the derivation assumes is recorded once, as data, for every renderer to state."""
    d = symbp.derive(Spec("a", 2, (Layer(3, "tanh"), Layer(2, output)), loss))
    notes = [st.reason.note for c in d.chains for st in c.steps if st.reason.kind == "simplify"]
    assert bool(notes) == assumes
    assert tuple(a.text for a in d.assumptions) == tuple(dict.fromkeys(notes))
