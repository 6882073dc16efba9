"""`symbp verify` on the notations of issue 9 (fault kinds 2, 5 and 7): each notation must parse
AND mean what it means in mathematics, so each is tried with a true claim and a false one.

Expected verdicts come from the mathematics, never from symbp's output: a true claim is the
derivation's formula (δ_J = 2(z_J − y) ∘ σ′_J, δ_j = (W_{j+1}ᵀ δ_{j+1}) ∘ σ′_j, ∂f/∂W_j = δ_j z_{j−1}ᵀ
and their batch forms) written in another notation, or that formula plus a term that is zero
(x² − x∘x, e^{−u} − exp(−u)); a false claim changes one thing (an index, a sign, a transpose, a
factor) so that the two sides differ.
"""

from __future__ import annotations

import re

import pytest

import symbp
from symbp.spec.model import Layer, Spec
from symbp.verify import claims
from symbp.verify.compare import verify

from .conftest import ROOT

LECTURE = symbp.lecture_spec()  # sigmoid layers, widths 4-3-3-2, l2 loss, mean over samples
TANH = Spec("tanh2", 3, (Layer(3, "tanh"), Layer(2, "tanh")))  # widths 3-3-2

# (claim, verdict) on the lecture's network; one group per notation, true claims first
LECTURE_CASES = {
    # kind 2: a transpose on a bracketed factor binds to the bracket
    "bracket transpose": [
        (r"\frac{\partial f}{\partial W_3} = \delta_3 (z_2)^T", "correct"),
        (r"\frac{\partial f}{\partial W_1} = \delta_1 \left(z_0\right)^\top", "correct"),
        (r"\frac{\partial f}{\partial W_2} = \delta_2 \big(z_1\big)^T", "correct"),
        (r"\frac{\partial f}{\partial W_2} = \delta_2 [z_1]^T", "correct"),
        (r"\frac{\partial f}{\partial W_2} = \delta_2 \cdot (\mathbf{z}_1)^{\mathsf T}", "correct"),
        (r"\frac{\partial f}{\partial W_2} = \delta_2 (z_1).T", "correct"),
        ("∂f/∂W₂ = δ₂ (z₁)ᵀ", "correct"),
        (r"\frac{\partial f}{\partial W_3} = (\delta_3)(z_2)^T", "correct"),
        (r"\frac{\partial f}{\partial W_3} = [2(z_3 - y) \circ \sigma'_3] (z_2)^T", "correct"),
        (r"\frac{\partial f}{\partial W_3} = [2(z_3 - y) \circ \sigma'_3] (z_1)^T", "wrong"),
        (r"\frac{\partial f}{\partial W_3} = \delta_3 (z_1)^T", "wrong"),
        (r"\frac{\partial f}{\partial W_1} = \delta_1 \left(z_1\right)^\top", "wrong"),
        (r"\frac{\partial f}{\partial W_3} = (z_2)^T \delta_3", "wrong"),
    ],
    "bracket transpose in a sum": [
        (
            r"\frac{\partial f}{\partial W_1} = \frac{1}{N}\sum_{i=1}^N \delta_1^{(i)} (z_0^{(i)})^T",
            "correct",
        ),
        (
            r"\frac{\partial f}{\partial W_1} = \frac{1}{N}\sum_{i=1}^N \delta_1^{(i)} z_0^{(i)T}",
            "correct",
        ),
        (
            r"\frac{\partial f}{\partial W_2} = \frac{1}{N}\sum_{i=1}^N \delta_2^{(i)} \left(z_1^{(i)}\right)^T",
            "correct",
        ),
        (
            r"\frac{\partial f}{\partial W_1} = \frac{1}{N}\sum_i \delta_1^{(i)} (x^{(i)})^\top",
            "correct",
        ),
        (
            r"\frac{\partial f}{\partial W_1} = \frac{1}{N}\sum_{n=1}^{N} \delta_1^{(n)} {z_0^{(n)}}^T",
            "correct",
        ),
        (r"\frac{\partial f}{\partial W_1} = \sum_{i=1}^N \delta_1^{(i)} (z_0^{(i)})^T", "wrong"),
        (
            r"\frac{\partial f}{\partial W_1} = \frac{1}{N}\sum_i \delta_1^{(i)} (z_1^{(i)})^T",
            "wrong",
        ),
        (
            r"\frac{\partial f}{\partial W_2} = \frac{1}{N}\sum_{i=1}^N \delta_2^{(i)} (z_2^{(i)})^T",
            "wrong",
        ),
    ],
    # kind 5: diag anywhere in a product, any number of times
    "diag": [
        (
            r"\delta_2 = \mathrm{diag}(\sigma'_2) W_3^T \mathrm{diag}(\sigma'_3) 2(z_3 - y)",
            "correct",
        ),
        (r"\delta_2 = \text{diag}(\sigma'_2) W_3^T \text{diag}(\sigma'_3) 2(z_3 - y)", "correct"),
        (
            r"\delta_2 = \operatorname{diag}(\sigma'_2) W_3^T \operatorname{diag}(\sigma'_3) 2(z_3 - y)",
            "correct",
        ),
        (
            r"\delta_1 = \mathrm{diag}(\sigma'_1) W_2^T \mathrm{diag}(\sigma'_2) W_3^T "
            r"\mathrm{diag}(\sigma'_3) 2(z_3 - y)",
            "correct",
        ),
        (
            r"\frac{\partial f}{\partial W_2} = \mathrm{diag}(\sigma'_2) W_3^T "
            r"\mathrm{diag}(\sigma'_3) 2(z_3 - y) z_1^T",
            "correct",
        ),
        (r"\delta_2 = \diag(\sigma'_2) W_3^T \diag(\sigma'_3) \cdot 2(z_3 - y)", "correct"),
        (r"\delta_2 = W_3^T \mathrm{diag}(\sigma'_3) \delta_3 \circ \sigma'_2", "wrong"),
        (r"\delta_2 = \mathrm{diag}(\sigma'_2) W_3^T \mathrm{diag}(\sigma'_3) (z_3 - y)", "wrong"),
        (r"\delta_2 = \mathrm{diag}(\sigma'_2) W_3^T \mathrm{diag}(\sigma'_2) 2(z_3 - y)", "wrong"),
        (
            r"\delta_1 = \mathrm{diag}(\sigma'_1) W_2^T \mathrm{diag}(\sigma'_2) W_3^T "
            r"\mathrm{diag}(\sigma'_3) 2(y - z_3)",
            "wrong",
        ),
    ],
    # kind 7: layer superscripts
    "layer superscripts": [
        (r"\delta^{(2)} = (W^{(3)T} \delta^{(3)}) \circ \sigma'_2", "correct"),
        (r"\delta^{(2)} = ((W^{(3)})^T \delta^{(3)}) \circ \sigma'^{(2)}", "correct"),
        (r"\delta^{[2]} = (W^{[3]T} \delta^{[3]}) \circ \sigma'_2", "correct"),
        (r"\delta^L = 2(a^L - y) \circ \sigma'_3", "correct"),
        (r"\delta^J = 2(z_J - y) \circ \sigma'^{J}", "correct"),
        (r"\delta^{(L)} = 2(a^{(L)} - y) \circ \sigma'_3", "correct"),
        (r"\delta^3 = 2(a^3 - y) \circ \sigma'_3", "correct"),
        (r"\frac{\partial f}{\partial W^{(2)}} = \delta^{(2)} (a^{(1)})^T", "correct"),
        (r"\frac{\partial f}{\partial W^{(1)}} = \delta^{(1)} (a^{(0)})^T", "correct"),
        (r"\frac{\partial f}{\partial W^2} = \delta^2 (a^1)^T", "correct"),
        (r"\delta^2 = (W^{3T} \delta^3) \circ \phi'", "correct"),
        (r"\delta^{(2)} = (W^{(2)T} \delta^{(3)}) \circ \sigma'_2", "wrong"),
        (r"\frac{\partial f}{\partial W^2} = \delta^2 (a^2)^T", "wrong"),
        (r"\delta^2 = (W^{3T} \delta^3) \circ \phi'_3", "wrong"),
        (r"\delta^{(1)} = (W^{(3)T} \delta^{(3)}) \circ \sigma'_1", "wrong"),
        (r"\delta^L = 2(a^L + y) \circ \sigma'_3", "wrong"),
        (r"\frac{\partial f}{\partial W^{(2)}} = \delta^{(2)} (a^{(2)})^T", "wrong"),
    ],
    # Ng's and Nielsen's superscript notation: z^{(l)} = W^{(l)} a^{(l-1)}, a^{(l)} = σ(z^{(l)})
    "weighted input z^l": [
        (r"\delta^L = 2(a^L - y) \odot \sigma'(z^L)", "correct"),
        (r"\delta^{(2)} = ((W^{(3)})^T \delta^{(3)}) \circ \sigma'(z^{(2)})", "correct"),
        (r"\delta^2 = ((w^3)^T \delta^3) \odot \sigma'(z^2)", "correct"),
        (r"\delta^{[1]} = (W^{[2]T} \delta^{[2]}) \circ g'(z^{[1]})", "correct"),
        (r"\frac{\partial f}{\partial w^2} = \delta^2 (a^1)^T", "correct"),
        (r"\Delta^L = 2(A^L - Y) \circ \Sigma'^L", "correct"),
        (r"\delta^L = 2(z^L - y) \odot \sigma'(z^L)", "wrong"),
        (r"\delta^2 = ((w^3)^T \delta^3) \odot \sigma'(a^2)", "wrong"),
        (r"\frac{\partial f}{\partial w^2} = \delta^2 (z^1)^T", "wrong"),
        (r"\Delta^L = 2(Z^L - Y) \circ \sigma'(Z^L)", "wrong"),
    ],
    # no a^{(l)}, no σ(z^{(l)}), or a u^{(l)} written: the lecture's names with superscripts
    "lecture's names with superscripts": [
        (r"\Delta^L = 2(Z^L - Y) \circ \Sigma'^L", "correct"),
        (r"\delta^{(3)} = 2(z^{(3)} - y) \circ \sigma'(u^{(3)})", "correct"),
        (r"\frac{\partial f}{\partial W^{(2)}} = \delta^{(2)} (z^{(1)})^T", "correct"),
        (r"\frac{\partial f}{\partial W^{(2)}} = \delta^{(2)} (z^{(2)})^T", "wrong"),
        (r"\delta^{(3)} = 2(u^{(3)} - y) \circ \sigma'(u^{(3)})", "wrong"),
    ],
    "hat y": [
        (r"\delta_3 = 2(\hat{y} - y) \circ \sigma'_3", "correct"),
        (r"\delta_3 = 2(\hat{\mathbf{y}} - \mathbf{y}) \circ \sigma'_3", "correct"),
        (r"\delta_3 = 2(\hat y - y) \circ \sigma'_3", "correct"),
        ("δ₃ = 2(ŷ − y) ∘ σ′₃", "correct"),
        (r"\delta_3 = 2(\hat{y_i} - y_i) \circ \sigma'_3", "correct"),
        (r"\Delta_3 = 2(\hat{Y} - Y) \circ \Sigma'_3", "correct"),
        (r"\delta_3 = 2(y - \hat{y}) \circ \sigma'_3", "wrong"),
        (r"\delta_3 = (\hat{y} - y) \circ \sigma'_3", "wrong"),
    ],
    # φ', f' as σ', the layer from the argument or from the left side
    "phi prime": [
        (r"\delta_1 = (W_2^T \delta_2) \circ \phi'(u_1)", "correct"),
        (r"\delta_1 = (W_2^T \delta_2) \circ f'(u_1)", "correct"),
        (r"\delta_1 = (W_2^T \delta_2) \circ \varphi'(W_1 z_0)", "correct"),
        (r"\delta_2 = (W_3^T \delta_3) \circ \phi'_2", "correct"),
        (r"\delta_2 = (W_3^T \delta_3) \circ \phi'", "correct"),
        (r"\delta_2 = (W_3^T \delta_3) \circ \sigma'", "correct"),
        (r"\frac{\partial f}{\partial W_2} = ((W_3^T \delta_3) \circ f') z_1^T", "correct"),
        (r"\delta_1 = (W_2^T \delta_2) \circ \phi'(u_2)", "wrong"),
        (r"\delta_1 = (W_2^T \delta_2) \circ f'(u_2)", "wrong"),
        (r"\delta_1 = (W_3^T \delta_3) \circ \phi'", "wrong"),
        (r"\delta_2 = (W_3 \delta_3) \circ \phi'", "wrong"),
    ],
    "nabla and slash": [
        (r"\nabla_{W_1} f = \delta_1 z_0^T", "correct"),
        (r"\nabla_{\mathbf{W}_3} f = \boldsymbol{\delta}_3 \mathbf{z}_2^T", "correct"),
        (r"\nabla_{z_3} f = 2(z_3 - y)", "correct"),
        (r"\partial f / \partial W_1 = \delta_1 z_0^T", "correct"),
        (r"\partial f/\partial W_2 = \delta_2 z_1^T", "correct"),
        ("∂f/∂W₃ = δ₃ z₂ᵀ", "correct"),
        (r"\nabla_{W_1} f = \delta_1 z_1^T", "wrong"),
        (r"\nabla_{W_3} f = z_2 \delta_3^T", "wrong"),
        (r"\nabla_{z_3} f = z_3 - y", "wrong"),
        (r"\partial f / \partial W_2 = \delta_1 z_1^T", "wrong"),
    ],
    "transpose before the index": [
        (r"\delta_2 = (W^T_3 \delta_3) \circ \sigma'_2", "correct"),
        (r"\delta_1 = (W^{T}_{2} \delta_2) \circ \sigma'_1", "correct"),
        (r"\delta_1 = (W^T_3 \delta_3) \circ \sigma'_1", "wrong"),
        (r"\delta_2 = (W^T_3 \delta_3) \circ \sigma'_1", "wrong"),
    ],
    "wrapper without braces": [
        (r"\boldsymbol\delta_2 = (\mathbf W_3^T \boldsymbol\delta_3) \circ \sigma'_2", "correct"),
        (r"\bm\delta_3 = 2(\mathbf z_3 - \mathbf y) \circ \sigma'_3", "correct"),
        (r"\boldsymbol\delta_2 = (\mathbf W_3^T \boldsymbol\delta_3) \circ \sigma'_3", "wrong"),
        (r"\bm\delta_3 = 2(\mathbf z_3 - \mathbf y)", "wrong"),
    ],
    # a power: entry by entry (checked against the product written out)
    "power": [
        (r"\delta_1 = (W_2^T \delta_2) \circ \sigma'_1 + z_1^2 - z_1 \circ z_1", "correct"),
        (
            r"\delta_3 = 2(z_3 - y) \circ \sigma'_3 + (z_3 - y)^2 - (z_3 - y) \circ (z_3 - y)",
            "correct",
        ),
        (r"\delta_3 = 2(z_3 - y) \circ \sigma'_3 + z_3^{3} - z_3 \circ z_3 \circ z_3", "correct"),
        (r"\delta_1 = (W_2^T \delta_2) \circ \sigma'_1 + z_1^2 - z_1", "wrong"),
        (r"\delta_3 = 2(z_3 - y) \circ \sigma'_3 + z_3^{3} - z_3 \circ z_3", "wrong"),
    ],
    "exponential": [
        (r"\delta_3 = 2(z_3 - y) \circ \sigma'_3 + e^{-u_3} - \exp(-u_3)", "correct"),
        (r"\delta_3 = 2(z_3 - y) \circ \sigma'_3 + e^{-W_3 z_2} - \exp(-u_3)", "correct"),
        (r"\delta_3 = 2(z_3 - y) \circ \sigma'_3 + e^{-u_3} - \exp(u_3)", "wrong"),
        (r"\delta_3 = 2(z_3 - y) \circ \sigma'_3 + e^{u_3}", "wrong"),
    ],
    "batch Sigma prime": [
        (r"\Delta_3 = 2(Z_3 - Y) \circ \Sigma'_3", "correct"),
        (r"\Delta_2 = (W_3^T \Delta_3) \circ \Sigma'_2", "correct"),
        ("Δ₂ = (W₃ᵀ Δ₃) ∘ Σ′₂", "correct"),
        (r"\frac{\partial f}{\partial W_1} = (1/N) \Delta_1 Z_0^T", "correct"),
        ("∂f/∂W₁ = (1/N) Δ₁ Z₀ᵀ", "correct"),
        (r"\Delta_3 = 2(Z_3 - Y) \circ \Sigma'_2", "wrong"),
        ("Δ₂ = (W₃ᵀ Δ₃) ∘ Σ′₁", "wrong"),
        ("∂f/∂W₁ = Δ₁ Z₀ᵀ", "wrong"),
    ],
    "unicode": [
        ("δ₂ = (W₃ᵀ δ₃) ⊙ σ′₂", "correct"),
        ("δ_2 = (W_3ᵀ δ_3) ∘ σ′_2", "correct"),
        ("δ₃ = 2(z₃ − y) ∘ σ′₃", "correct"),
        ("δ₁ = (W₂ᵀ δ₂) ∘ σ′(u₁)", "correct"),
        ("δ₂ = (W₃ δ₃) ⊙ σ′₂", "wrong"),
        ("δ₃ = 2(z₃ − y) ∘ σ′₂", "wrong"),
        ("δ₃ = 2(y − z₃) ∘ σ′₃", "wrong"),
    ],
    "trailing punctuation and comments": [
        (r"\delta_2 = (W_3^T \delta_3) \circ \sigma'_2.", "correct"),
        (r"\delta_2 = (W_3^T \delta_3) \circ \sigma'_2,", "correct"),
        (r"\delta_2 = (W_3^T \delta_3) \circ \sigma'_2 \, .", "correct"),
        (r"\delta_2 = (W_3^T \delta_3) \circ \sigma'_2 % the recursion", "correct"),
        (r"\delta_2 = (W_3^T \delta_3) \circ \sigma'_3.", "wrong"),
        (r"\delta_2 = (W_3^T \delta_2) \circ \sigma'_2 % the recursion", "wrong"),
    ],
    "sympy style @": [
        ("delta2 = hadamard(W3.T @ delta3, dsigma2)", "correct"),
        ("delta_1 = hadamard(W_2.T @ delta_2, dsigma_1)", "correct"),
        ("delta_1 = hadamard(W_2.T @ delta_2, dsigma_2)", "wrong"),
        ("delta2 = hadamard(W3 @ delta3, dsigma2)", "wrong"),
    ],
}

# (claim, verdict) on a two-layer tanh network: tanh applied to a tanh layer's pre-activation
TANH_CASES = [
    (r"\delta_2 = 2(\tanh(u_2) - y) \circ \sigma'_2", "correct"),
    (r"\delta_2 = 2(\tanh(W_2 z_1) - y) \circ \sigma'_2", "correct"),
    (r"\delta_2 = 2(z_2 - y) \circ \sigma'_2 + \tanh^2 u_2 - z_2 \circ z_2", "correct"),
    (r"\delta_2 = 2(z_2 - y) \circ \sigma'_2 + \tanh^2(u_2) - \tanh(u_2)^2", "correct"),
    (r"\delta_2 = 2(z_2 - y) \circ \sigma'_2 + \tanh^{2}(u_2) - z_2^2", "correct"),
    (
        r"\delta_2 = 2(z_2 - y) \circ \sigma'_2 + (\tanh^2(W_2 W_2^T) - \tanh(W_2 W_2^T)^2) y",
        "correct",
    ),
    (r"\delta_2 = 2(\tanh(u_2) + y) \circ \sigma'_2", "wrong"),
    (
        r"\delta_2 = 2(z_2 - y) \circ \sigma'_2 + (\tanh^2(W_2 W_2^T) - \tanh(W_2 W_2^T)) y",
        "wrong",
    ),
    (r"\delta_2 = 2(\tanh(z_1) - y) \circ \sigma'_2", "wrong"),
    (r"\delta_2 = 2(z_2 - y) \circ \sigma'_2 + \tanh^2 u_2 - z_2", "wrong"),
    (r"\delta_1 = (W_2^T \delta_2) \circ (1 + \tanh^2 u_1)", "wrong"),
    (r"\delta_1 = (W_2^T \delta_2) \circ (1 - \tanh(u_1))", "wrong"),
]

# True claims that write σ′ through the activation itself: they need fault kind 1 (σ′ compared
# as the spec's concrete formula), which another branch (v-sem) implements.
NEEDS_KIND_1 = [
    (TANH, r"\delta_1 = (W_2^T \delta_2) \circ (1 - \tanh^2 u_1)"),
    (TANH, r"\delta_1 = (W_2^T \delta_2) \circ (1 - \tanh^2(u_1))"),
    (TANH, r"\delta_2 = 2(z_2 - y) \circ (1 - z_2^2)"),
    (LECTURE, r"\delta_3 = 2(\frac{1}{1 + e^{-u_3}} - y) \circ \sigma'_3"),
    (LECTURE, r"\delta_3 = 2(z_3 - y) \circ e^{-u_3} \circ z_3^2"),
]


def _cases():
    for group, cases in LECTURE_CASES.items():
        for claim, verdict in cases:
            yield pytest.param(LECTURE, claim, verdict, id=f"{group}: {claim}")
    for claim, verdict in TANH_CASES:
        yield pytest.param(TANH, claim, verdict, id=f"tanh: {claim}")


@pytest.mark.parametrize(("spec", "claim", "expected"), list(_cases()))
def test_notation_gets_the_verdict_of_mathematics(spec, claim, expected):
    verdict = verify(spec, claim)
    assert verdict.status == expected, verdict.message


def test_every_notation_has_a_true_and_a_false_claim():
    groups = [*LECTURE_CASES.values(), TANH_CASES]
    for cases in groups:
        assert {verdict for _, verdict in cases} == {"correct", "wrong"}


@pytest.mark.parametrize(("spec", "claim"), NEEDS_KIND_1)
def test_sigma_prime_through_the_activation(spec, claim):
    assert verify(spec, claim).status == "correct"


@pytest.mark.parametrize(("spec", "claim"), NEEDS_KIND_1)
def test_sigma_prime_through_the_activation_resolves_to_its_value(spec, claim):
    """Until kind 1 compares σ′ as a formula, these true claims must at least agree with the
    derivation at the sample point with the spec's own activations (they fail only the
    expansion with every σ undefined): the notation resolved to the right numbers."""
    verdict = verify(spec, claim)
    assert verdict.status == "correct" or "not at the sample point" in verdict.message


DERIVE_CLAIM = re.compile(r"^(δ|Δ|ζ|𝒵|∂f/∂)\S* = ")


def _derived_lines(symbp_main, name: str) -> list[str]:
    out = symbp_main("derive", ROOT / "examples" / f"{name}.toml").stdout
    return [line.strip() for line in out.splitlines() if DERIVE_CLAIM.match(line.strip())]


def _mistake(line: str) -> str:
    """One slip in a derived line: a transpose dropped, else a minus turned into a plus, else
    a factor 2 added."""
    lhs, rhs = line.split(" = ", 1)
    if "ᵀ" in rhs:
        return f"{lhs} = {rhs.replace('ᵀ', '', 1)}"
    if "−" in rhs:
        return f"{lhs} = {rhs.replace('−', '+', 1)}"
    return f"{lhs} = 2 {rhs}" if rhs != "0" else f"{lhs} = 1"


@pytest.mark.parametrize("name", ["lecture", "softmax_classifier", "residual"])
def test_what_symbp_derive_prints_verifies(symbp_main, name):
    """The derivation's own formulas, in derive's Unicode (Σ′_j, 𝒵_j, (1/N), Δ_j 1), are correct;
    each with one slip is wrong."""
    spec = symbp.load_spec(ROOT / "examples" / f"{name}.toml")
    lines = _derived_lines(symbp_main, name)
    assert len(lines) >= 10
    for line in lines:
        assert verify(spec, line).status == "correct", line
        slip = _mistake(line)
        assert verify(spec, slip).status == "wrong", slip


def test_comments_in_a_claims_file(tmp_path, symbp_main):
    """% and # start comment lines; % also ends a claim early, as in LaTeX."""
    path = tmp_path / "claims.txt"
    path.write_text(
        "% LaTeX comment\n# shell comment\n"
        "\\delta_2 = (W_3^T \\delta_3) \\circ \\sigma'_2 % the recursion\n"
        "  % indented comment\n"
    )
    run = symbp_main("verify", "--claims", path)
    assert run.returncode == 0 and run.stdout.count("correct") == 1, run.stdout
    path.write_text("% LaTeX comment\n\\delta_2 = (W_3 \\delta_3) \\circ \\sigma'_2 % slip\n")
    run = symbp_main("verify", "--claims", path)
    assert run.returncode == 1 and "line 2: WRONG" in run.stdout, run.stdout


@pytest.mark.parametrize(
    ("claim", "words"),
    [
        (r"\delta_1 = (W_2^T \delta_2) \circ \sigma'_1 + W_2^2 z_1", "square matrix"),
        (r"\delta_1 = z_1^{100}", "MAX_POWER"),
        (r"\delta_1 = 2^{99999999999} z_1", "MAX_POWER"),
    ],
)
def test_powers_outside_what_verify_reads(claim, words):
    verdict = verify(LECTURE, claim)
    assert verdict.status == "unsupported" and words in verdict.message


@pytest.mark.parametrize(
    ("claim", "words"),
    [
        (r"\delta_1 = \hat{z}_1", "a hat belongs on y"),
        (r"\delta_2 = W_3^{(2)}", "a layer superscript belongs on a name without a subscript"),
        (r"\delta^{(2)(3)} = 1", "a layer superscript"),
    ],
)
def test_misplaced_notation_is_named(claim, words):
    verdict = verify(LECTURE, claim)
    assert verdict.status == "unparsable" and words in verdict.message


def test_new_notation_keeps_the_bounds():
    deep = r"\delta_1 = " + r"e^{" * 70 + "u_1" + "}" * 70
    assert verify(LECTURE, deep).status == "unparsable"
    long = r"\delta_1 = " + r"\tanh^2 " * (claims.MAX_LENGTH // 8) + "u_1"
    verdict = verify(LECTURE, long)
    assert verdict.status == "unparsable" and "characters long" in verdict.message


@pytest.mark.parametrize(
    "annotation",
    [
        r" \quad \text{(BP1)}",
        r" && \text{by the chain rule}",
        r" \tag{BP1}",
        r" \label{eq:bp1}",
        r", \notag",
    ],
)
def test_an_annotation_after_the_formula_is_not_part_of_it(annotation):
    """A step's side note (an align's && column, \\quad \\text{...}, \\tag) was read as symbols:
    a correct step came out WRONG.  The formula keeps its verdict, either way."""
    right, slip = r"\delta_3 = 2(z_3 - y) \circ \sigma'_3", r"\delta_3 = (z_3 - y) \circ \sigma'_3"
    assert verify(LECTURE, right + annotation).status == "correct"
    assert verify(LECTURE, slip + annotation).status == "wrong"
