"""`symbp verify` on convolutional networks: the documents symbp writes for a CNN verify step by
step, claims in the convolutional notation (K_j ⋆ z, K_j ⋆ᵀ g, corr, sum_pos, maxpool,
maxpool'_z, avgpool, avgpoolᵀ) typed by hand resolve, and wrong ones are WRONG."""

from __future__ import annotations

import pytest

import symbp
from symbp.spec.model import from_dict
from symbp.verify.chains import judge_steps
from symbp.verify.compare import tex_steps, verify

from .conftest import ROOT

CIRCULAR = symbp.load_spec(ROOT / "examples" / "conv1d_circular.toml")
DIGITS = symbp.load_spec(ROOT / "examples" / "digits_cnn.toml")
#: conv -> average pooling -> strided conv -> dense: K_3 ⋆ᵀ and avgpoolᵀ in δ_1
TWO_CONVS = from_dict(
    {
        "name": "two_convs",
        "input": [2, 8],
        "bias": True,
        "layers": [
            {"type": "conv1d", "channels": 2, "kernel": 3, "padding": "same", "activation": "tanh"},
            {"type": "avgpool1d", "size": 2},
            {"type": "conv1d", "channels": 3, "kernel": 2, "stride": 2, "activation": "sigmoid"},
            {"units": 2, "activation": "identity"},
        ],
    }
)

_VERDICTS: dict = {}  #: (spec name, claim) -> verdict: the article and the slides share claims


def _judge(spec, claim):
    key = (spec.name, claim)
    if key not in _VERDICTS:
        _VERDICTS[key] = verify(spec, claim)
    return _VERDICTS[key]


#: the displays of "Convolutions are matrices" that verify leaves unchecked, with its reason
_MATRIX_SECTION = ("T\\left(\\mathbf{K}", "\\partial k_{")


@pytest.mark.parametrize("beamer", [False, True], ids=["article", "beamer"])
@pytest.mark.parametrize("spec", [CIRCULAR, DIGITS], ids=lambda s: s.name)
def test_the_document_symbp_writes_for_a_cnn_verifies(spec, beamer):
    source = symbp.latex_document(spec, beamer=beamer)
    reports = judge_steps(spec, tex_steps(source), judge=_judge)
    statuses = {r.step.claim: r.verdict for r in reports}
    wrong = [(c, v.message) for c, v in statuses.items() if v.status in ("wrong", "unparsable")]
    assert not wrong
    unchecked = [(c, v.message) for c, v in statuses.items() if v.status == "unsupported"]
    for claim, message in unchecked:  # only the matrix section's displays, with the reason
        assert any(mark in claim for mark in _MATRIX_SECTION), (claim, message)
        assert "K_j" in message
    assert len(unchecked) <= 10
    correct = [c for c, v in statuses.items() if v.status == "correct"]
    for notation in ("\\star", "\\operatorname{corr}"):  # the convolution's own steps are judged
        assert any(notation in c for c in correct), notation
    if spec is DIGITS:
        for notation in ("\\operatorname{maxpool}'_", "\\operatorname{sum}_{\\text{pos}}"):
            assert any(notation in c for c in correct), notation


RIGHT = [
    (
        CIRCULAR,
        r"\frac{\partial f}{\partial \mathbf{K}_1} = \operatorname{corr}(\mathbf{z}_0, \delta_1)",
    ),
    (CIRCULAR, r"\nabla_{K_1} f = \operatorname{corr}\left(z_0, \boldsymbol\delta_1\right)"),
    (CIRCULAR, "∂f/∂K_1 = corr(z_0, δ_1)"),
    (CIRCULAR, r"\frac{\partial f}{\partial z_0} = \mathbf{K}_1 \star^{T} \delta_1"),
    (CIRCULAR, r"\frac{\partial f}{\partial z_0} = K_1 ⋆ᵀ δ_1"),
    (
        CIRCULAR,
        r"\frac{\partial f}{\partial K_1} = (W_2^T \delta_2 \circ \sigma'_1) "
        r"\frac{\partial (\mathbf{K}_1 \star \mathbf{z}_0)}{\partial K_1}",
    ),
    (CIRCULAR, r"\frac{\partial f}{\partial K_1} = \frac{1}{N} \operatorname{corr}(Z_0, \Delta_1)"),
    (DIGITS, r"\frac{\partial f}{\partial b_1} = \operatorname{sum}_{\text{pos}}(\delta_1)"),
    (DIGITS, r"\delta_1 = \operatorname{maxpool}'_{z_1}(W_3^T \delta_3) \circ \sigma'_1"),
    (DIGITS, r"\frac{\partial f}{\partial W_3} = \delta_3 \operatorname{maxpool}(z_1)^T"),
    (
        DIGITS,
        r"\frac{\partial f}{\partial K_1} = \delta_3 \frac{\partial (W_3 \operatorname{maxpool}"
        r"(\sigma_1(K_1 \star z_0 + b_1)) + b_3)}{\partial K_1}",
    ),
    (TWO_CONVS, r"\delta_1 = \operatorname{avgpool}^{T}(K_3 \star^{T} \delta_3) \circ \sigma'_1"),
    (TWO_CONVS, r"\frac{\partial f}{\partial K_3} = \operatorname{corr}(z_2, \delta_3)"),
    (TWO_CONVS, r"\frac{\partial f}{\partial b_3} = \operatorname{sum}_{\text{pos}}(\delta_3)"),
]


@pytest.mark.parametrize("spec, claim", RIGHT)
def test_claims_typed_in_the_convolutional_notation_resolve(spec, claim):
    verdict = _judge(spec, claim)
    assert verdict.status == "correct", verdict.message


WRONG = [  # (spec, claim, words of the reason)
    (CIRCULAR, r"\frac{\partial f}{\partial K_1} = \operatorname{corr}(\delta_1, z_0)", "differs"),
    (CIRCULAR, r"\frac{\partial f}{\partial K_1} = \operatorname{corr}(z_1, \delta_1)", "differs"),
    (
        CIRCULAR,
        r"\frac{\partial f}{\partial K_1} = W_2^T \delta_2 "
        r"\frac{\partial (\sigma_1(K_1 \star z_1))}{\partial K_1}",
        "differs",
    ),
    (CIRCULAR, r"\frac{\partial f}{\partial z_0} = K_1 \star \delta_1", "differs"),
    (CIRCULAR, r"\frac{\partial f}{\partial K_1} = \operatorname{corr}(Z_0, \Delta_1)", "factor 2"),
    (CIRCULAR, r"\frac{\partial f}{\partial W_1} = \delta_1 z_0^T", "kernel K_1"),
    (CIRCULAR, r"\frac{\partial f}{\partial K_2} = \delta_2 z_1^T", "not a convolution"),
    (
        DIGITS,
        r"\frac{\partial f}{\partial K_1} = \operatorname{corr}(\delta_1, z_0)",
        "corr(δ₁, z₀)",
    ),
    (
        DIGITS,
        r"\frac{\partial f}{\partial b_1} = 2 \operatorname{sum}_{\text{pos}}(\delta_1)",
        "factor 2",
    ),
    (
        DIGITS,
        r"\delta_1 = \operatorname{avgpool}^{T}(W_3^T \delta_3) \circ \sigma'_1",
        "no avgpool",
    ),
    (DIGITS, r"\delta_2 = W_3^T \delta_3", "pooling layer"),
    (
        TWO_CONVS,
        r"\delta_1 = \operatorname{avgpool}^{T}(K_3 \star \delta_3) \circ \sigma'_1",
        "K_3",
    ),
    (TWO_CONVS, r"\delta_1 = \operatorname{avgpool}^{T}(K_3 \star^{T} \delta_3)", "differs"),
    (
        TWO_CONVS,
        r"\frac{\partial f}{\partial b_1} = \operatorname{sum}_{\text{pos}}(\delta_3)",
        "sum_pos(δ₁)?",
    ),
]


@pytest.mark.parametrize("spec, claim, words", WRONG)
def test_wrong_convolutional_claims_are_wrong(spec, claim, words):
    verdict = _judge(spec, claim)
    assert verdict.status == "wrong", verdict.message
    assert words in verdict.message


def test_the_matrix_sections_displays_are_left_unchecked_with_the_reason():
    for claim in (
        r"\frac{\partial f}{\partial T\left(\mathbf{K}_{1}\right)} = \boldsymbol{\delta}_{1} {\mathbf{z}_{0}}^{T}",
        r"\frac{\partial f}{\partial k_{0}} = \boldsymbol{\delta}_{1,1} \mathbf{z}_{0,6} + \boldsymbol{\delta}_{1,2} \mathbf{z}_{0,1}",
    ):
        verdict = _judge(CIRCULAR, claim)
        assert verdict.status == "unsupported", verdict.message
        assert "K_j" in verdict.message and "\n" not in verdict.message


LECTURE = symbp.lecture_spec()


@pytest.mark.parametrize(
    "spec, claim, status, words",
    [
        (
            LECTURE,
            r"\frac{\partial f}{\partial K_1} = \operatorname{corr}(z_0, \delta_1)",
            "wrong",
            "not a convolution",
        ),
        (
            LECTURE,
            r"\delta_1 = \operatorname{maxpool}'_{z_0}(\delta_1)",
            "wrong",
            "no max pooling layer",
        ),
        (
            LECTURE,
            r"\delta_1 = \operatorname{sum}_{\text{pos}}(\delta_1)",
            "wrong",
            "no convolutional layer",
        ),
        (CIRCULAR, r"\delta_1 = z_0 \star z_0", "wrong", "kernel K_j on its left"),
        (CIRCULAR, r"\delta_1 = \operatorname{corr}(z_0)", "wrong", "two arguments"),
        (DIGITS, r"\delta_1 = \operatorname{maxpool}^{T}(\delta_1)", "unsupported", "not linear"),
        (DIGITS, r"\frac{\partial f}{\partial b_1} = b_1 + \delta_1", "wrong", "16×1"),
    ],
)
def test_misused_convolutional_notation_gets_the_reason(spec, claim, status, words):
    verdict = _judge(spec, claim)
    assert verdict.status == status, verdict.message
    assert words in verdict.message
