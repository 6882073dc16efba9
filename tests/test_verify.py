"""`symbp verify`: a corpus of claims from lecture 6's slides and classic mistakes, each with the
verdict the checker must reach (the checker computes it; nothing here is looked up)."""

from __future__ import annotations

import time
from functools import cache

import pytest

import symbp
from symbp.spec.model import Layer, Spec
from symbp.verify import compare as verify_module
from symbp.verify.claims import parse
from symbp.verify.compare import tex_claims, verify

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
    (
        LECTURE,
        r"\delta_2 = (W_3 \delta_3) \circ \sigma'_2",
        "wrong",
        "did you mean δ₂ = (W₃ᵀ δ₃) ∘ σ′₂?",
    ),
    (
        LECTURE,
        r"\delta_2 = (W_2^T \delta_3) \circ \sigma'_2",
        "wrong",
        "W₂ᵀ δ₃ multiplies a 3×3 by a 2×1",
    ),
    (LECTURE, r"\delta_1 = (W_2^T \delta_2) \circ \sigma'_2", "wrong", "counterexample"),
    (
        LECTURE,
        r"\delta_2 = (W_3^T \circ \delta_3) \circ \sigma'_2",
        "wrong",
        "mean δ₂ = (W₃ᵀ δ₃) ∘ σ′₂?",
    ),
    (LECTURE, r"\delta_2 = (W_3^T \delta_3) \sigma'_2", "wrong", "mean δ₂ = (W₃ᵀ δ₃) ∘ σ′₂?"),
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


@pytest.mark.parametrize(
    "document",
    [
        f"{stem}{kind}.tex"
        for stem in (
            "lecture",
            "deep_mlp",
            "softmax_classifier",
            "binary_classifier",
            "custom_activation",
            "deep_linear",
            "residual",
        )
        for kind in ("", "_slides")
    ],
)
def test_every_equation_of_a_generated_document_verifies(document):
    """symbp's own documents verify line by line, with left sides on rows of their own and
    right sides continued over several rows (the layout of long chains)."""
    source = (ROOT / "generated" / document).read_text()
    claims = tex_claims(source)
    assert len(claims) >= 25
    stem = document.removesuffix(".tex").removesuffix("_slides")
    assert [c for _, c in claims if _status(stem, c) != "correct"] == []


@cache
def _example(stem: str) -> symbp.Spec:
    return symbp.load_spec(ROOT / "examples" / f"{stem}.toml")


@cache
def _status(stem: str, claim: str) -> str:
    """The verdict on `claim` about example `stem`, judged once: the slides' equations are the
    article's, and an article repeats some."""
    return verify(_example(stem), claim).status


def test_tex_rows_of_a_wrapped_chain_are_joined():
    source = r"""\begin{align*}
  \frac{\partial f}{\partial W_3} \\
   &\overset{\text{CR}}{=} 2(z_3 - y) \frac{\partial z_3}{\partial W_3} \\
   &= \left[2(z_3 - y)
   \\ &\qquad \circ \sigma'_3\right] z_2^T
\end{align*}"""
    claims = [c for _, c in tex_claims(source)]
    assert len(claims) == 2 and claims[1].endswith(r"\circ \sigma'_3\right] z_2^T")
    assert [verify(LECTURE, c).status for c in claims] == ["correct", "correct"]


@pytest.fixture
def run(symbp_main):
    """`symbp verify ARGS`, run in-process."""
    return lambda *args: symbp_main("verify", *args)


def test_cli_exit_codes(tmp_path, run):
    ok = run("--claim", r"\delta_2 = (W_3^T \delta_3) \circ \sigma'_2")
    assert ok.returncode == 0 and "correct" in ok.stdout
    wrong = run("--claim", r"\delta_2 = (W_3 \delta_3) \circ \sigma'_2")
    assert wrong.returncode == 1 and "did you mean δ₂ = (W₃ᵀ δ₃) ∘ σ′₂?" in wrong.stdout
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


# Issue 7, item 11: claims that crashed verify.  Every one gets a verdict; the kinds are a
# Jacobian or f used as a value, sigma' of a layer that is not entry-wise, deep nesting, and
# quantities of one sample mixed with the batch.
SOFTMAX_EXAMPLE = symbp.load_spec(ROOT / "examples" / "softmax_classifier.toml")
CUSTOM_EXAMPLE = symbp.load_spec(ROOT / "examples" / "custom_activation.toml")
BINARY_EXAMPLE = symbp.load_spec(ROOT / "examples" / "binary_classifier.toml")
ONCE_CRASHED = [
    (LECTURE, r"\delta_1 = f z_1", "unsupported", "outside a derivative"),
    (LECTURE, r"\delta_1 = f", "unsupported", "outside a derivative"),
    (LECTURE, r"\delta_2 = -\frac{\partial f}{\partial z_2}", "wrong", "counterexample"),
    (LECTURE, r"\delta_3 = \frac{\partial f}{\partial z_3} \circ \sigma'_3", "correct", ""),
    (LECTURE, r"\delta_2 = \frac{\partial f}{\partial u_2}", "correct", ""),
    (LECTURE, r"\delta_1 = \sigma_1(\frac{\partial z_2}{\partial z_1})", "unsupported", "Jacobian"),
    (LECTURE, r"\delta_1 = \frac{\partial z_2}{\partial z_1} \delta_2", "unsupported", "Jacobian"),
    (LECTURE, r"\delta_1 = z_1" + ".T" * 400, "unparsable", "(claims.MAX_"),
    (LECTURE, r"\delta_1 = z_1" + "^T" * 61, "unparsable", "MAX_DEPTH"),
    (LECTURE, r"\delta_1 = " + "z_1 + " * 70 + "z_1", "unparsable", "MAX_DEPTH"),
    (SOFTMAX_EXAMPLE, r"\delta_2 = \sigma'_2", "wrong", "softmax"),
    (SOFTMAX_EXAMPLE, r"\delta_2 = z_2 \circ \sigma'_2(u_2)", "wrong", "softmax"),
    (SOFTMAX_EXAMPLE, r"\delta_1 = (W_2^T \delta_2) \circ \sigma'_1", "correct", ""),
    (LECTURE, r"\delta_1 = \sigma''_1", "unsupported", "first derivatives"),
    (LECTURE, r"\delta_1 = \sigma_1(z_1, z_2)", "wrong", "one argument"),
    (LECTURE, r"\delta_1 = \mathrm{diag}(z_1, z_1) z_1", "wrong", "one vector"),
    (LECTURE, r"\delta_1 = \frac{z_1}{\partial z_2}", "wrong", "∂ belongs in a derivative"),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_2} = \frac{1}{N} \Delta_2 Z_1^T + \delta_2 z_1^T",
        "wrong",
        "one sample's",
    ),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_2} = \frac{1}{N}\sum_{i=1}^N \Delta_2 Z_1^T",
        "wrong",
        "holds every sample",
    ),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_1} = \frac{\partial f}{\partial Z_1} Z_0^T",
        "unsupported",
        "inside \\sum",
    ),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_1} = \frac{1}{N}\sum_{i=1}^N (\frac{\partial f}{\partial u_1} z_0^T)",
        "correct",
        "",
    ),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_1} = \sum_{i=1}^N (2(z_3 - y) \frac{\partial z_3}{\partial W_1})",
        "wrong",
        "factor 2",
    ),
    (LECTURE, r"\delta_1 = \frac{1}{0} z_1", "wrong", "division by zero"),
    # found by the fuzzer: N in an entry-wise quotient (one sample's f has no N: a claim's N is
    # the batch's, so N times the gradient is wrong, not equal at N = 1); a derivative of a
    # number; SymPy's unevaluated d|t|/dt at a point
    (
        BINARY_EXAMPLE,
        r"\frac{\partial f}{\partial W_2} = \left[\frac{1}{z_2} \circ \frac{N}{z_2 - 1} \circ (y - z_2)\right] \frac{\partial (\sigma_2(W_2 z_1 + b_2))}{\partial W_2}",
        "wrong",
        "factor 2",
    ),
    (
        BINARY_EXAMPLE,
        r"\frac{\partial f}{\partial W_2} = \left[\frac{1}{z_2} \circ \frac{1}{z_2 - 1} \circ (y - z_2)\right] \frac{\partial (\sigma_2(W_2 z_1 + b_2))}{\partial W_2}",
        "correct",
        "by expansion",
    ),
    (
        LECTURE,
        r"\frac{\partial f}{\partial W_3} = \frac{\partial f}{\partial u_2} \frac{\partial 2}{\partial W_1}",
        "wrong",
        "differentiate f or a vector",
    ),
    (
        CUSTOM_EXAMPLE,
        r"\frac{\partial f}{\partial W_1} = \frac{\partial f}{\partial u_1} \frac{\partial u_1}{\partial W_1}",
        "correct",
        "by expansion",
    ),
    (
        CUSTOM_EXAMPLE,
        r"\frac{\partial f}{\partial W_1} = \frac{\partial f}{\partial z_1} \frac{\partial u_1}{\partial W_1}",
        "wrong",
        "counterexample",
    ),
    (LECTURE, r"\delta_1 = \sum_{i=1}^N z_1 + z_3", "wrong", "Σᵢ z₁ + z₃ adds a 3×1 and a 2×1"),
]


@pytest.mark.parametrize(
    "spec, claim, status, words", ONCE_CRASHED, ids=[f"{i}" for i in range(len(ONCE_CRASHED))]
)
def test_claims_that_crashed_get_a_verdict(spec, claim, status, words):
    verdict = verify(spec, claim)
    assert verdict.status == status, verdict.message
    assert words in verdict.message


# Issue 7, item 10: symbolic work on a claim is bounded.  These inputs ran for minutes before;
# a regression would show as a test run of minutes (no wall-clock assertion).
CHAIN = r"\delta_1 = W_2^T W_2 W_2^T W_2 W_2^T W_2 W_2^T W_2 W_2^T W_2 W_2^T \delta_2"


def test_a_long_product_is_judged():
    verdict = verify(LECTURE, CHAIN)
    assert verdict.status == "wrong" and "counterexample" in verdict.message


def test_a_long_product_equal_by_expansion_is_proved():
    extra = "W_2^T W_2 " * 4 + r"\delta_2"
    claim = rf"\delta_1 = (W_2^T \delta_2) \circ \sigma'_1 + {extra} - {extra}"
    assert verify(LECTURE, claim).status == "correct"


def test_a_wrong_derivative_that_defeats_the_expansion_is_judged():
    # found by the fuzzer: over 600 s of CPU in the expansion of 1/u_2
    claim = (
        r"\frac{\partial f}{\partial b_1} = - \left( y \circ \frac{1}{u_2} \right) "
        r"\frac{\partial \left( \sigma_2 \left( W_2 z_1 + b_2 \right) \right)}{\partial b_1}"
    )
    verdict = verify(SOFTMAX_EXAMPLE, claim)
    assert verdict.status == "wrong" and "counterexample" in verdict.message


def test_too_many_factors_are_refused_before_the_expansion():
    """Numbers come first: a large claim that differs is WRONG with a counterexample; one whose
    numbers agree would need the expansion, which is refused (W_2ᵀ W_2 is not the identity, so
    (W_2ᵀ W_2)¹² δ_2 is not δ_1; the second claim adds and subtracts the same product)."""
    claim = r"\delta_1 = " + "W_2^T W_2 " * 12 + r"\delta_2"
    verdict = verify(LECTURE, claim)
    assert verdict.status == "wrong" and "counterexample" in verdict.message
    extra = "W_2^T W_2 " * 6 + r"\delta_2"
    claim = rf"\delta_1 = (W_2^T \delta_2) \circ \sigma'_1 + {extra} - {extra}"
    verdict = verify(LECTURE, claim)
    assert verdict.status == "unsupported" and "MAX_FACTORS" in verdict.message


def test_the_comparison_has_a_time_limit(monkeypatch):
    claim = r"\frac{\partial f}{\partial W_3} = 2(z_3 - y) \frac{\partial z_3}{\partial W_3}"
    proved = verify(LECTURE, claim)
    assert proved.status == "correct" and "by expansion" in proved.message
    trees = parse(claim)
    monkeypatch.setattr(verify_module, "parse", lambda text: trees)  # time only the comparison
    verdict = verify(LECTURE, claim, seconds=0.001)
    assert verdict.status == "unsupported" and "CLAIM_SECONDS" in verdict.message


def test_an_ambiguous_claim_is_bounded_before_and_while_parsing():
    calls = r"\delta_1 = z" + "(z)" * 450  # Earley's work grows like its tokens squared
    verdict = verify(LECTURE, calls)
    assert verdict.status == "unparsable" and "MAX_TOKENS" in verdict.message
    verdict = verify(LECTURE, r"\delta_1 = z" + "(z)" * 130, seconds=0.01)
    assert verdict.status == "unparsable" and "CLAIM_SECONDS" in verdict.message


def test_tex_scan_is_linear():
    rows = "\\delta_2 &= (W_3^T \\delta_3) \\circ \\sigma'_2 \\\\\n" * 20000
    unclosed = "\\begin{align}\n" * 20000  # the old lazy regex rescanned the rest for each
    source = f"\\begin{{align}}\n{rows}\\end{{align}}\n{unclosed}"
    start = time.thread_time()  # CPU seconds: about 0.2 when linear, minutes when quadratic
    claims = tex_claims(source)
    assert time.thread_time() - start < 5.0
    assert len(claims) == 20000 and claims[-1][0] == 20001


@pytest.mark.parametrize(
    "claim, status, words",
    [
        (r"\frac{\partial f}{\partial W_2} = \delta_2 (z_1)^T", "correct", ""),
        (r"\frac{\partial f}{\partial W_2} = \delta_2 \left(z_1\right)^{\top}", "correct", ""),
        (r"\frac{\partial f}{\partial W_2} = \delta_2 (z_1).T", "correct", ""),
        (
            r"\frac{\partial f}{\partial W_2} = \sigma_2(W_2 z_1)^T",
            "wrong",
            "the right side is 1×3",
        ),
        (
            r"\frac{\partial f}{\partial W_2} = \frac{1}{N}\sum_{i=1}^N ((W_3^T \delta_3) \circ \sigma'_2) z_1^T",
            "correct",
            "",
        ),
        (
            r"\frac{\partial f}{\partial W_2} = \frac{1}{N}\sum_{i=1}^N \delta_2 (z_1)^{(i)T}",
            "correct",
            "",
        ),
    ],
)
def test_a_superscript_binds_to_its_brackets_and_a_sum_to_the_product_after_it(
    claim, status, words
):
    """δ_2 (z_1)^T is δ_2 times z_1ᵀ (σ_2(...)^T stays the transpose of σ_2's value), and
    \\sum_{i=1}^N a b sums the whole product a b."""
    verdict = verify(LECTURE, claim)
    assert verdict.status == status, verdict.message
    assert words in verdict.message
    _, rhs = parse(r"x = \sum_{i=1}^N a b c")
    assert rhs.kind == "sum" and rhs.args[0].kind == "mul"


def test_tex_chain_continued_in_the_next_environment():
    """Slides split a long chain over frames: the next frame's rows start with '=' and continue
    the left side; an environment after one that did not end on a claim starts afresh."""
    source = (
        "\\begin{align*}\n\\delta_2 &= a \\\\\n &= b\n\\end{align*}\n"
        "\\begin{align*}\n &= c\n\\end{align*}\n"
        "\\begin{align*}\nz_2 &= d\n\\end{align*}\n"
        "\\begin{align*}\n &= e\n\\end{align*}\n"
    )
    assert tex_claims(source) == [
        (2, r"\delta_2 = a"),
        (3, r"\delta_2 = b"),
        (6, r"\delta_2 = c"),
    ]


def test_tex_line_numbers_and_environments():
    source = (
        "text\n\\begin{equation}\\delta_1 = a\\end{equation}\n\\begin{equation}\n"
        "\\begin{align}\n\\delta_2 &= b \\\\\n &= c\n\\end{align}\n"
    )
    assert tex_claims(source) == [(2, r"\delta_1 = a"), (5, r"\delta_2 = b"), (6, r"\delta_2 = c")]


def test_cli_tex_file_of_2000_lines(tmp_path, run):
    row = "\\delta_2 &= (W_3^T \\delta_3) \\circ \\sigma'_2 \\\\\n"
    body = "".join(row if i % 10 == 0 else "% a comment between the rows\n" for i in range(1996))
    tex = tmp_path / "long.tex"
    tex.write_text(f"Notes\n\\begin{{align}}\n{body}\\end{{align}}\n")
    report = run("--tex", tex)
    assert report.returncode == 0, report.stdout[-500:]
    assert report.stdout.count("correct: ") == 200 and "line 1993: correct: " in report.stdout


def test_cli_exit_code_of_cannot_check(tmp_path, run):
    unsupported = run("--claim", r"\delta_1 = f z_1")
    assert unsupported.returncode == 4 and "cannot check: " in unsupported.stdout
    assert "Traceback" not in unsupported.stderr
    claims = tmp_path / "claims.txt"
    claims.write_text("\\delta_1 = f z_1\n\\delta_2 = (W_3 \\delta_3) \\circ \\sigma'_2\n")
    assert run("--claims", claims).returncode == 4  # cannot check outranks WRONG
    claims.write_text("\\delta_1 = f z_1\n\\delta_2 = (W_3^T\n")
    assert run("--claims", claims).returncode == 2  # cannot parse outranks cannot check
