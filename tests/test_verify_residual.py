"""`symbp verify` on residual networks (issue 8, item 3): claims about ζ_j (the adjoint of a
layer output fed by a skip connection), a_j (the activation output before the skip is added) and
their batch forms 𝒵_j, A_j; a claim that forgets one of the two paths into z_k is WRONG with a
counterexample; symbp's own residual documents verify line by line."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest

import symbp
from symbp.verify.claims import parse
from symbp.verify.compare import tex_claims, verify

from .conftest import ROOT

RESIDUAL = symbp.load_spec(ROOT / "examples" / "residual.toml")  # layer 3 adds z_1
# the skip ends at the output layer (ζ_3 = 2(z_3 - y)) and one starts at the input (z_0)
TO_OUTPUT = symbp.from_dict(
    {
        "name": "to_output",
        "input": 2,
        "loss": "l2",
        "layers": [
            {"units": 2, "activation": "tanh"},
            {"units": 3, "activation": "sigmoid"},
            {"units": 2, "activation": "identity", "skip_from": 1},
        ],
    }
)
FROM_INPUT = symbp.from_dict(
    {
        "name": "from_input",
        "input": 2,
        "loss": "l2",
        "layers": [
            {"units": 3, "activation": "tanh"},
            {"units": 2, "activation": "tanh", "skip_from": 0},
            {"units": 1, "activation": "identity"},
        ],
    }
)
FORGOT_SKIP = r"\delta_1 = (W_2^T \delta_2) \circ \sigma'_1"

# (spec, claim, verdict, words the explanation must contain)
CLAIMS = [
    # ζ on the left side, as δ
    (RESIDUAL, r"\zeta_3 = W_4^T \delta_4", "correct", "identical"),
    (
        RESIDUAL,
        r"\boldsymbol{\zeta}_{3} = {\mathbf{W}_{4}}^{T} \boldsymbol{\delta}_{4}",
        "correct",
        "",
    ),
    (RESIDUAL, "zeta3 = W4.T*delta4", "correct", ""),
    (RESIDUAL, r"\zeta_3 = 2 W_4^T (z_4 - y)", "correct", "by expansion"),
    (RESIDUAL, r"\zeta_3 = W_3^T \delta_3", "wrong", "counterexample"),
    (RESIDUAL, r"\zeta_3 = W_4 \delta_4", "wrong", "did you mean ζ₃ = W₄ᵀ δ₄?"),
    (TO_OUTPUT, r"\zeta_3 = 2(z_3 - y)", "correct", ""),
    (TO_OUTPUT, r"\zeta_3 = 2(a_3 - y)", "wrong", "counterexample"),
    (FROM_INPUT, r"\zeta_2 = W_3^T \delta_3", "correct", ""),
    # ζ and a on the right side
    (RESIDUAL, r"\delta_3 = \zeta_3 \circ \sigma'_3", "correct", ""),
    (RESIDUAL, r"\delta_3 = \zeta_3 \circ \sigma'_3(W_3 z_2 + b_3)", "correct", "by expansion"),
    (RESIDUAL, r"\delta_3 = (W_4^T \delta_4) \circ \sigma'_3", "correct", "by expansion"),
    (RESIDUAL, r"\delta_3 = \zeta_3 \circ (1 - z_3 \circ z_3)", "wrong", "counterexample"),
    (TO_OUTPUT, r"\delta_3 = \zeta_3", "correct", ""),
    (TO_OUTPUT, r"\delta_3 = 2(\mathbf{a}_3 + \mathbf{z}_1 - \mathbf{y})", "correct", ""),
    (FROM_INPUT, r"\delta_1 = (W_2^T \delta_2) \circ \sigma'_1", "correct", ""),
    (
        FROM_INPUT,
        r"\delta_1 = (W_2^T \delta_2 + \zeta_2) \circ \sigma'_1",
        "wrong",
        "3×1 and a 2×1",
    ),
    # both paths into z_1: the sum, in either order, with ζ written out, or one path forgotten
    (RESIDUAL, r"\delta_1 = (W_2^T \delta_2 + \zeta_3) \circ \sigma'_1", "correct", ""),
    (RESIDUAL, r"\delta_1 = (\zeta_3 + W_2^T \delta_2) \circ \sigma'_1", "correct", "by expansion"),
    (RESIDUAL, r"\delta_1 = (W_2^T \delta_2 + W_4^T \delta_4) \circ \sigma'_1", "correct", ""),
    (RESIDUAL, r"\delta_1 = (W_4^T \delta_4 + W_2^T \delta_2) \circ \sigma'_1(u_1)", "correct", ""),
    (RESIDUAL, "delta1 = hadamard(W2.T*delta2 + zeta3, dsigma1)", "correct", ""),
    (RESIDUAL, FORGOT_SKIP, "wrong", "counterexample"),
    (RESIDUAL, r"\delta_1 = \zeta_3 \circ \sigma'_1", "wrong", "counterexample"),
    (RESIDUAL, r"\delta_1 = (W_2^T \delta_2 + W_3^T \delta_3) \circ \sigma'_1", "wrong", ""),
    (TO_OUTPUT, r"\delta_1 = (W_2^T \delta_2) \circ \sigma'_1", "wrong", "counterexample"),
    (TO_OUTPUT, r"\delta_1 = (W_2^T \delta_2 + \zeta_3) \circ \sigma'_1", "correct", ""),
    # gradients, per sample
    (RESIDUAL, r"\frac{\partial f}{\partial W_1} = \delta_1 z_0^T", "correct", ""),
    (RESIDUAL, r"\frac{\partial f}{\partial W_2} = \delta_2 z_1^T", "correct", ""),
    (RESIDUAL, r"\frac{\partial f}{\partial W_3} = \delta_3 z_2^T", "correct", ""),
    (RESIDUAL, r"\frac{\partial f}{\partial W_4} = \delta_4 z_3^T", "correct", ""),
    (RESIDUAL, r"\frac{\partial f}{\partial W_4} = \delta_4 {(a_3 + z_1)}^T", "correct", ""),
    (RESIDUAL, r"\frac{\partial f}{\partial W_4} = \delta_4 a_3^T", "wrong", "counterexample"),
    (RESIDUAL, r"\frac{\partial f}{\partial W_4} = \delta_4 (a_3 + z_1)^T", "correct", ""),
    (RESIDUAL, r"\frac{\partial f}{\partial b_3} = \zeta_3 \circ \sigma'_3", "correct", ""),
    (
        RESIDUAL,
        r"\frac{\partial f}{\partial W_1} = \left[W_2^T \delta_2 + \zeta_3\right] \frac{\partial z_1}{\partial W_1}",
        "correct",
        "",
    ),
    (
        RESIDUAL,
        r"\frac{\partial f}{\partial W_1} = \left[W_2^T \delta_2\right] \frac{\partial z_1}{\partial W_1}",
        "wrong",
        "counterexample",
    ),
    (
        RESIDUAL,
        r"\frac{\partial f}{\partial W_3} = \zeta_3 \frac{\partial (a_3 + z_1)}{\partial W_3}",
        "correct",
        "",
    ),
    (
        RESIDUAL,
        r"\frac{\partial f}{\partial W_1} = \zeta_3 \frac{\partial (a_3 + z_1)}{\partial W_1}",
        "correct",
        "by expansion",
    ),
    (  # only the skip path from z_1 to z_3
        RESIDUAL,
        r"\frac{\partial f}{\partial W_1} = \zeta_3 \frac{\partial z_1}{\partial W_1}",
        "wrong",
        "counterexample",
    ),
    # batch claims: sums over samples and the batch matrices 𝒵_j, A_j
    (
        RESIDUAL,
        r"\frac{\partial f}{\partial W_1} = \frac{1}{N}\sum_{i=1}^N \delta_1^{(i)} {z_0^{(i)}}^T",
        "correct",
        "",
    ),
    (
        RESIDUAL,
        r"\frac{\partial f}{\partial W_3} = \frac{1}{N}\sum_{i=1}^N (\zeta_3 \circ \sigma'_3) {z_2^{(i)}}^T",
        "correct",
        "",
    ),
    (
        RESIDUAL,
        r"\frac{\partial f}{\partial W_3} = \sum_{i=1}^N (\zeta_3 \circ \sigma'_3) {z_2^{(i)}}^T",
        "wrong",
        "factor 2",
    ),
    (
        RESIDUAL,
        r"\frac{\partial f}{\partial W_3} = \frac{1}{N} (\boldsymbol{\mathcal{Z}}_3 \circ \sigma'_3(U_3)) Z_2^T",
        "correct",
        "",
    ),
    (
        RESIDUAL,
        r"\frac{\partial f}{\partial W_3} = \frac{1}{N} \boldsymbol{\mathcal{Z}}_3 Z_2^T",
        "wrong",
        "counterexample",
    ),
    (
        RESIDUAL,
        r"\frac{\partial f}{\partial W_4} = \frac{1}{N} \Delta_4 {(A_3 + Z_1)}^T",
        "correct",
        "",
    ),
    (
        RESIDUAL,
        r"\frac{\partial f}{\partial W_4} = \frac{1}{N} \Delta_4 A_3^T",
        "wrong",
        "counterexample",
    ),
    (
        RESIDUAL,
        r"\frac{\partial f}{\partial W_1} = \frac{1}{N} \Delta_1 Z_0^T + \zeta_3 z_0^T",
        "wrong",
        "one sample's",
    ),
    (
        RESIDUAL,
        r"\frac{\partial f}{\partial W_3} = \frac{1}{N}\sum_{i=1}^N \boldsymbol{\mathcal{Z}}_3 Z_2^T",
        "wrong",
        "holds every sample",
    ),
    (RESIDUAL, r"\zeta_3 = \sum_{i=1}^N W_4^T \delta_4", "wrong", "belongs in ∂f/∂W_j or in 𝒵₃"),
    (RESIDUAL, r"\zeta_3 = W_4^T \Delta_4", "wrong", "ζ₃ is one sample's"),
    # batch adjoints on the left side: 𝒵_j and Δ_j, with Σ'_j
    (RESIDUAL, r"\boldsymbol{\mathcal{Z}}_3 = W_4^T \Delta_4", "correct", ""),
    (RESIDUAL, r"\boldsymbol{\mathcal{Z}}_3 = W_3^T \Delta_3", "wrong", "counterexample"),
    (
        RESIDUAL,
        r"\Delta_3 = \boldsymbol{\mathcal{Z}}_3 \circ \boldsymbol{\Sigma}'_3",
        "correct",
        "",
    ),
    (
        RESIDUAL,
        r"\Delta_1 = (W_2^T \Delta_2 + \boldsymbol{\mathcal{Z}}_3) \circ \boldsymbol{\Sigma}'_1",
        "correct",
        "",
    ),
    (RESIDUAL, r"\Delta_1 = (W_2^T \Delta_2 + W_4^T \Delta_4) \circ \Sigma'_1", "correct", ""),
    (RESIDUAL, r"\Delta_1 = (W_2^T \Delta_2) \circ \Sigma'_1", "wrong", "counterexample"),
    (RESIDUAL, r"\Delta_4 = 2(Z_4 - Y)", "correct", ""),
    (RESIDUAL, r"\Delta_4 = \frac{2}{N}(Z_4 - Y)", "wrong", "counterexample"),
    (RESIDUAL, r"\Delta_4 = 2(z_4 - y)", "wrong", "Δ₄ holds every sample"),
    (RESIDUAL, r"\Delta_3 = \boldsymbol{\mathcal{Z}}_3 \circ \sigma'_3", "wrong", "4×N and a 4×1"),
    (RESIDUAL, r"\Delta_1 = \Sigma_1", "wrong", "Σ is written only as Σ'_j"),
    (RESIDUAL, r"\Delta_1 = \Sigma'_5", "wrong", "Σ'_5 is not defined in this network"),
    # derivatives of f by a value on the left side
    (RESIDUAL, r"\frac{\partial f}{\partial z_3} = W_4^T \delta_4", "correct", "identical"),
    (RESIDUAL, r"\frac{\partial f}{\partial z_3} = W_3^T \delta_3", "wrong", "counterexample"),
    (
        RESIDUAL,
        r"\frac{\partial f}{\partial u_1} = (W_2^T \delta_2 + \zeta_3) \circ \sigma'_1",
        "correct",
        "",
    ),
    (RESIDUAL, r"\frac{\partial f}{\partial U_1} = \frac{1}{N} \Delta_1", "correct", ""),
    (RESIDUAL, r"\frac{\partial f}{\partial U_1} = \Delta_1", "wrong", "counterexample"),
    (RESIDUAL, r"\frac{\partial f}{\partial z_1} = W_2^T \delta_2 + \zeta_3", "correct", "SymPy"),
    (RESIDUAL, r"\frac{\partial f}{\partial z_1} = W_2^T \delta_2", "wrong", "counterexample"),
    (RESIDUAL, r"\frac{\partial f}{\partial a_3} = \zeta_3", "correct", "SymPy"),
    (RESIDUAL, r"\frac{\partial f}{\partial z_2} = W_3^T \delta_3", "correct", "SymPy"),
    (RESIDUAL, r"\frac{\partial f}{\partial z_0} = W_1^T \delta_1", "correct", "SymPy"),
    (
        RESIDUAL,
        r"\frac{\partial f}{\partial Z_2} = \frac{1}{N} W_3^T \Delta_3",
        "unsupported",
        "one sample only",
    ),
]


@pytest.mark.parametrize(
    "spec, claim, status, words", CLAIMS, ids=[str(i) for i in range(len(CLAIMS))]
)
def test_residual_claims(spec, claim, status, words):
    verdict = verify(spec, claim)
    assert verdict.status == status, verdict.message
    assert words in verdict.message


@pytest.mark.parametrize(
    "spec, claim, message",
    [
        (
            RESIDUAL,
            r"\zeta_2 = W_3^T \delta_3",
            "layer 2 has no skip connection: ζ_2 is not defined",
        ),
        (
            RESIDUAL,
            r"\delta_1 = \boldsymbol{\zeta}_{1}",
            "layer 1 has no skip connection: ζ_1 is not defined",
        ),
        (
            RESIDUAL,
            r"\delta_2 = \mathbf{a}_2",
            "layer 2 has no skip connection: a_2 is not defined",
        ),
        (RESIDUAL, "delta2 = a2", "layer 2 has no skip connection: a_2 is not defined"),
        (
            RESIDUAL,
            r"\frac{\partial f}{\partial W_2} = \frac{1}{N} \boldsymbol{\mathcal{Z}}_2 Z_1^T",
            "layer 2 has no skip connection: 𝒵_2 is not defined",
        ),
        (
            RESIDUAL,
            r"\frac{\partial f}{\partial W_2} = \frac{1}{N} \Delta_2 A_1^T",
            "layer 1 has no skip connection: A_1 is not defined",
        ),
        (RESIDUAL, r"\zeta_5 = z_1", "ζ_5 is not defined in this network: it has layers 1..4"),
        (RESIDUAL, r"\delta_1 = \zeta \circ \sigma'_1", "ζ needs a layer number"),
        (symbp.lecture_spec(), r"\zeta_3 = W_3^T \delta_3", "layer 3 has no skip connection"),
        (RESIDUAL, r"a_3 = \sigma_3(u_3)", "the left side must be δ_j, ζ_j"),
    ],
)
def test_residual_quantities_of_a_layer_without_a_skip_are_wrong_naming_the_fix(
    spec, claim, message
):
    verdict = verify(spec, claim)
    assert verdict.status == "wrong" and message in verdict.message, verdict.message
    assert "\n" not in verdict.message


def test_calligraphic_letters_other_than_z_are_unparsable():
    verdict = verify(RESIDUAL, r"\delta_1 = \mathcal{Q}_3")
    assert verdict.status == "unparsable" and "\\mathcal{Z}" in verdict.message
    assert parse(r"\boldsymbol{\mathcal{Z}}_3 = x")[0].stem == "Zeta"


def _matrices(point: str) -> dict:
    """The counterexample's point: name -> numpy array, from 'W1 = [[-3/4, 3/4], [1/4, 1]], ...'."""
    out = {}
    for name, body in re.findall(r"(\w+) = (\[\[.*?\]\])", point):
        rows = re.findall(r"\[([^\[\]]*)\]", body)
        out[name] = np.array([[float(Fraction(v)) for v in row.split(", ")] for row in rows])
    return out


def _residual_forward(m: dict, start: int = 0, pre=None) -> float:
    """f of examples/residual.toml at the point `m` (tanh, tanh, tanh + skip from z_1, identity),
    written out here independently of symbp; `pre` replaces u_start when given."""
    z = {0: m["z0"]}
    for j in range(1, 5):
        u = pre if j == start and pre is not None else m[f"W{j}"] @ z[j - 1] + m[f"b{j}"]
        z[j] = u if j == 4 else np.tanh(u)
        if j == 3:
            z[3] = z[3] + z[1]
    return float(np.sum((m["y"] - z[4]) ** 2))


def _adjoint_of_u(m: dict, j: int) -> np.ndarray:
    """∂f/∂u_j by central differences."""
    u = m[f"W{j}"] @ _z(m, j - 1) + m[f"b{j}"]
    out = np.zeros_like(u)
    for r in range(u.shape[0]):
        e = np.zeros_like(u)
        e[r] = 1e-6
        out[r] = (_residual_forward(m, j, u + e) - _residual_forward(m, j, u - e)) / 2e-6
    return out


def _z(m: dict, k: int) -> np.ndarray:
    z = m["z0"]
    outs = [z]
    for j in range(1, k + 1):
        z = np.tanh(m[f"W{j}"] @ z + m[f"b{j}"]) + (outs[1] if j == 3 else 0)
        outs.append(z)
    return z


def test_a_claim_that_forgets_the_skip_path_gets_a_real_counterexample():
    """The point shown is real: at it, finite differences (no symbp) give the derivation's δ_1,
    and the claim's (W_2ᵀ δ_2) ∘ σ'_1 differs from it by the entry shown."""
    verdict = verify(RESIDUAL, FORGOT_SKIP)
    message, m = verdict.message, _matrices(verdict.point)
    assert "W1 =" not in message and len(message) < 300  # the point is kept out of the message
    assert set(m) == {"W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4", "z0", "y"}
    assert all(v.shape[0] == 2 for v in m.values())  # the proof's widths 2-2-2-2-2
    entry = re.search(
        r"entry \((\d+), 1\) of the claim is (\S+) but the derivation gives (\S+)", message
    )
    row, claimed, derived = int(entry[1]) - 1, float(entry[2]), float(entry[3])
    delta1 = _adjoint_of_u(m, 1)
    one_path = (m["W2"].T @ _adjoint_of_u(m, 2)) * (1 - _z(m, 1) ** 2)
    assert derived == pytest.approx(delta1[row, 0], abs=1e-5)
    assert claimed == pytest.approx(one_path[row, 0], abs=1e-5)
    assert abs(claimed - derived) > 1e-3


def test_tex_claims_read_zeta_rows():
    source = (
        "\\begin{align*}\n"
        "  \\boldsymbol{\\zeta}_{3} &= {\\mathbf{W}_{4}}^{T} \\boldsymbol{\\delta}_{4} \\\\\n"
        "  \\mathbf{z}_{3} &= \\mathbf{a}_{3} + \\mathbf{z}_{1}\n"
        "\\end{align*}\n"
    )
    assert tex_claims(source) == [
        (2, r"\boldsymbol{\zeta}_{3} = {\mathbf{W}_{4}}^{T} \boldsymbol{\delta}_{4}")
    ]


@pytest.mark.parametrize("beamer", [False, True], ids=["article", "slides"])
def test_every_equation_of_a_residual_document_verifies(beamer):
    """The LaTeX symbp writes for examples/residual.toml, rendered now (not the golden copy):
    every claim verifies, among them the ζ rows, the multivariate chain rule (MCR) and a_j."""
    source = symbp.latex_document(RESIDUAL, beamer=beamer)
    claims = [c for _, c in tex_claims(source)]
    assert len(claims) >= 25
    assert any(c.startswith(r"\boldsymbol{\zeta}") for c in claims)
    assert any(r"\boldsymbol{\zeta}_{3}\right] \frac{\partial \mathbf{z}_{1}}" in c for c in claims)
    assert any(r"\mathbf{a}_{3}" in c for c in claims)
    assert any(c.startswith(r"\boldsymbol{\mathcal{Z}}_{3} =") for c in claims)
    assert any(r"\boldsymbol{\Sigma}'_{1}" in c for c in claims)
    assert [c for c in claims if verify(RESIDUAL, c).status != "correct"] == []


def test_the_point_is_printed_only_when_asked(symbp_main):
    spec = ROOT / "examples" / "residual.toml"
    quiet = symbp_main("verify", spec, "--claim", FORGOT_SKIP)
    shown = symbp_main("verify", spec, "--claim", FORGOT_SKIP, "--show-point")
    assert quiet.returncode == shown.returncode == 1
    assert "W1 =" not in quiet.stdout and "    at W1 = [[" in shown.stdout


def test_verify_reads_regular_files_only_and_echoes_long_claims_abridged(tmp_path, symbp_main):
    """/dev/zero grew memory without end; a 5 MB claim was printed back whole."""
    run = symbp_main("verify", "--tex", "/dev/zero")
    assert run.returncode == 2 and "not a regular file" in run.stderr
    long = tmp_path / "long.txt"
    long.write_text("\\delta_3 = " + " + ".join(["z_3"] * 20000) + "\n")
    run = symbp_main("verify", "--claims", long)
    assert run.returncode != 3 and max(map(len, run.stdout.splitlines())) < 1000
