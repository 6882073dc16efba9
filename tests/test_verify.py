"""`symbp verify`: a corpus of claims from lecture 6's slides and classic mistakes, each with the
verdict the checker must reach (the checker computes it; nothing here is looked up)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import symbp
from symbp.spec import Layer, Spec
from symbp.verify import tex_claims, verify

from .conftest import ROOT

LECTURE = symbp.lecture_spec()
BIASED = Spec("biased", 3, (Layer(4, "tanh", True), Layer(2, "sigmoid", True)))
SOFTMAX = Spec("soft", 3, (Layer(3, "tanh", True), Layer(3, "softmax", True)), loss="cross_entropy")
FIVE = Spec(
    "five",
    2,
    tuple(
        Layer(w, a)
        for w, a in zip(
            (3, 2, 3, 2, 2), ("tanh", "sigmoid", "relu", "softplus", "identity"), strict=True
        )
    ),
)

# (spec, claim, verdict, words the explanation must contain)
CORPUS = [
    # "Backprop in Action", layer 3: every equality of the chain
    (
        LECTURE,
        r"\frac{\partial f}{\partial \mathbf{W}_3} = \frac{\partial f}{\partial \mathbf{z}_3} \frac{\partial \mathbf{z}_3}{\partial \mathbf{W}_3}",
        "correct",
        "",
    ),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_3} = 2(z_3 - y) \frac{\partial z_3}{\partial W_3}",
        "correct",
        "",
    ),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_3} = 2(z_3 - y) \frac{\partial(\sigma_3(W_3 z_2))}{\partial W_3}",
        "correct",
        "",
    ),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_3} = [2(z_3 - y) \circ \sigma'_3] \frac{\partial(W_3 z_2)}{\partial W_3}",
        "correct",
        "",
    ),
    (
        LECTURE,
        r"\frac{\partial f}{\partial \mathbf{W}_3} = \boldsymbol{\delta}_3 \mathbf{z}_2^T",
        "correct",
        "",
    ),
    (
        LECTURE,
        r"\boldsymbol{\delta}_3 = 2(\mathbf{z}_3 - \mathbf{y}) \circ \sigma'_3",
        "correct",
        "",
    ),
    # layer 2
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_2} = \frac{\partial f}{\partial z_3} \frac{\partial z_3}{\partial W_2}",
        "correct",
        "",
    ),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_2} = 2(z_3 - y) \frac{\partial z_3}{\partial W_2}",
        "correct",
        "",
    ),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_2} = 2(z_3 - y) \frac{\partial(\sigma_3(W_3 z_2))}{\partial W_2}",
        "correct",
        "",
    ),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_2} = [2(z_3 - y) \circ \sigma'_3] \frac{\partial(W_3 z_2)}{\partial W_2}",
        "correct",
        "",
    ),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_2} = \delta_3 \frac{\partial(W_3 z_2)}{\partial z_2} \frac{\partial z_2}{\partial W_2}",
        "correct",
        "",
    ),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_2} = W_3^T \delta_3 \frac{\partial(\sigma_2(W_2 z_1))}{\partial W_2}",
        "correct",
        "",
    ),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_2} = W_3^T \delta_3 \frac{\partial z_2}{\partial W_2}",
        "correct",
        "",
    ),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_2} = [(W_3^T \delta_3) \circ \sigma'_2] \frac{\partial(W_2 z_1)}{\partial W_2}",
        "correct",
        "",
    ),
    (LECTURE, r"\frac{\partial f}{\partial W_2} = \delta_2 z_1^T", "correct", ""),
    (LECTURE, r"\delta_2 = (W_3^T \delta_3) \circ \sigma'_2", "correct", ""),
    # layer 1 and "BP: General Case"
    (LECTURE, r"\frac{\partial f}{\partial W_1} = \delta_1 z_0^T", "correct", ""),
    (LECTURE, r"\delta_1 = (W_2^T \delta_2) \circ \boldsymbol{\sigma}'_1", "correct", ""),
    (LECTURE, r"\delta_J = 2(z_J - y) \circ \sigma'_J", "correct", ""),
    (LECTURE, r"\delta_J = 2(x_J - y) \circ \sigma'_J", "wrong", "did you mean z_J"),
    # accepted variants
    (
        LECTURE,
        r"\boldsymbol{\delta}_2 = (\mathbf{W}_3^{\top} \boldsymbol{\delta}_3) \odot \sigma_2'",
        "correct",
        "",
    ),
    (LECTURE, r"\delta_2 = (W_3^{\mathsf T} \delta_3) \circ \sigma'(u_2)", "correct", ""),
    (LECTURE, r"\delta_3 = 2(z_3 - y) \circ \sigma_3'(W_3 z_2)", "correct", ""),
    (LECTURE, "delta2 = hadamard(W3.T*delta3, dsigma2)", "correct", ""),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_1} = \frac{1}{N}\sum_{i=1}^N \delta_1^{(i)} {z_0^{(i)}}^T",
        "correct",
        "",
    ),
    (LECTURE, r"\frac{\partial f}{\partial W_2} = \frac{1}{N} \Delta_2 Z_1^T", "correct", ""),
    # classic mistakes
    (LECTURE, r"\delta_2 = (W_3 \delta_3) \circ \sigma'_2", "wrong", "did you mean W₃ᵀ"),
    (
        LECTURE,
        r"\delta_2 = (W_2^T \delta_3) \circ \sigma'_2",
        "wrong",
        "W₂ᵀ δ₃ multiplies a 3×3 by a 2×1",
    ),
    (LECTURE, r"\delta_1 = (W_2^T \delta_2) \circ \sigma'_2", "wrong", "counterexample"),
    (LECTURE, r"\delta_2 = (W_3^T \circ \delta_3) \circ \sigma'_2", "wrong", "matrix product"),
    (LECTURE, r"\delta_2 = (W_3^T \delta_3) \sigma'_2", "wrong", "element-wise product"),
    (LECTURE, r"\delta_3 = (z_3 - y) \circ \sigma'_3", "wrong", "factor 0.5"),
    (LECTURE, r"\delta_3 = 2(y - z_3) \circ \sigma'_3", "wrong", "sign error"),
    (LECTURE, r"\frac{\partial f}{\partial W_2} = \delta_2 z_2^T", "wrong", "counterexample"),
    (LECTURE, r"\frac{\partial f}{\partial W_1} = \sum_{i=1}^N \delta_1 z_0^T", "wrong", "factor"),
    (LECTURE, r"\delta_3 = 2(z_3 - y) \circ \sigma'_3(z_3)", "wrong", "counterexample"),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_3} = z_2 \delta_3^T",
        "wrong",
        "the right side is 3×2",
    ),
    (LECTURE, r"\delta_4 = W_4^T \delta_4", "wrong", "not defined in this network"),
    # biases, softmax with cross-entropy, a five-layer network
    (BIASED, r"\frac{\partial f}{\partial b_1} = \delta_1", "correct", ""),
    (BIASED, r"\frac{\partial f}{\partial b_2} = \frac{1}{N} \Delta_2 \mathbf{1}", "correct", ""),
    (BIASED, r"\frac{\partial f}{\partial b_1} = \delta_1 z_0^T", "wrong", "the right side is 4×3"),
    (SOFTMAX, r"\delta_2 = z_2 - y", "correct", ""),
    (
        SOFTMAX,
        r"\delta_2 = (\mathrm{diag}(z_2) - z_2 z_2^T) \frac{\partial f}{\partial z_2}",
        "correct",
        "",
    ),
    (SOFTMAX, r"\delta_2 = y - z_2", "wrong", "sign error"),
    (FIVE, r"\delta_3 = (W_4^T \delta_4) \circ \sigma'_3", "correct", ""),
    (FIVE, r"\delta_5 = 2(z_5 - y)", "correct", ""),
    (FIVE, r"\frac{\partial f}{\partial W_4} = \delta_4 z_3^T", "correct", ""),
    (FIVE, r"\delta_2 = (W_3^T \delta_3) \circ \sigma'_3", "wrong", ""),
]


@pytest.mark.parametrize(
    "spec, claim, status, words", CORPUS, ids=[f"{i}" for i in range(len(CORPUS))]
)
def test_corpus(spec, claim, status, words):
    verdict = verify(spec, claim)
    assert verdict.status == status, verdict.message
    assert words in verdict.message


def test_corpus_size():
    assert len(CORPUS) >= 40


@pytest.mark.parametrize(
    "claim, words",
    [
        (r"\delta_2 = (W_3^T \delta_3", "column"),
        (r"\delta_2 = {W_3^T \delta_3", "unbalanced braces"),
        ("", "empty"),
        ("   ", "empty"),
        (r"\delta_2 = " + "z_1 + " * 2000 + "z_1", "at most"),
        ("\\delta_2 = z_1\x00", "control character"),
        (r"\delta_2 == z_1", "column"),
    ],
)
def test_unparsable_claims_point_at_the_problem(claim, words):
    verdict = verify(LECTURE, claim)
    assert verdict.status == "unparsable" and words in verdict.message


def test_every_equation_of_a_generated_document_verifies():
    source = (ROOT / "generated" / "deep_mlp.tex").read_text()
    claims = tex_claims(source)
    assert len(claims) > 50
    spec = symbp.load_spec(ROOT / "examples" / "deep_mlp.toml")
    assert all(verify(spec, c).status == "correct" for _, c in claims)


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "symbp", "verify", *map(str, args)], capture_output=True, text=True
    )


def test_cli_exit_codes(tmp_path):
    ok = run("--claim", r"\delta_2 = (W_3^T \delta_3) \circ \sigma'_2")
    assert ok.returncode == 0 and "correct" in ok.stdout
    wrong = run("--claim", r"\delta_2 = (W_3 \delta_3) \circ \sigma'_2")
    assert wrong.returncode == 1 and "did you mean W₃ᵀ" in wrong.stdout
    bad = run("--claim", r"\delta_2 = (W_3^T")
    assert bad.returncode == 2 and "cannot parse" in bad.stdout and "Traceback" not in bad.stderr
    claims = tmp_path / "claims.txt"
    claims.write_text(
        "# two claims\n\\delta_1 = (W_2^T \\delta_2) \\circ \\sigma'_1\ndelta2 = W3.T*delta3\n"
    )
    mixed = run("--claims", claims)
    assert (
        mixed.returncode == 1
        and "line 2: correct" in mixed.stdout
        and "line 3: WRONG" in mixed.stdout
    )
    tex = tmp_path / "notes.tex"
    tex.write_text(
        "Notes\n\\begin{align*}\n\\delta_3 &= 2(x_3 - y) \\circ \\sigma'_3 \\\\\n"
        "\\delta_2 &= (W_3^T \\delta_3) \\circ \\sigma'_2\n\\end{align*}\n"
    )
    report = run("--tex", tex)
    assert (
        report.returncode == 1
        and "line 3: WRONG" in report.stdout
        and "line 4: correct" in report.stdout
    )
    assert run().returncode == 2  # nothing to verify
    assert run("--tex", tmp_path / "missing.tex").returncode == 2
