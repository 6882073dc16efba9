"""Fuzzing `symbp verify`: every claim ends in a verdict, never in an exception.

Two families of claims: strings built from the tokens of the claim grammar
(`symbp/verify/claim.lark`, read here so that new syntax is fuzzed too), and random mutations
of the correct claims in symbp's own documents (`generated/*.tex`).  The suite runs a few
examples; SYMBP_FUZZ_EXAMPLES=2000 runs a longer campaign.
"""

from __future__ import annotations

import os
import re
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symbp
from symbp.verify.compare import tex_claims, verify

from .conftest import ROOT

EXAMPLES = int(os.environ.get("SYMBP_FUZZ_EXAMPLES", "0"))
STATUSES = {"correct", "wrong", "unparsable", "unsupported"}
SECONDS = 2.0  #: time limit per claim: a verdict "unsupported" is an answer too
SPEC_NAMES = (
    "lecture",
    "softmax_classifier",
    "perceptron",
    "binary_classifier",
    "custom_activation",
    "deep_linear",
    "residual",
)
# samples of the grammar's regular-expression terminals (NAME, NUMBER) and its literals
NAMES = (
    *("z", "u", "a", "W", "b", "y", "x", "f", "N", "Y", "X", "Z", "U", "A", "delta", "zeta"),
    *("Zeta", "diag", "hadamard", "e", "exp", "tanh", "phi", "yhat", "L"),
)
NUMBERS = ("0", "1", "2", "0.5", "3", "4", "10")


@cache
def grammar_tokens() -> tuple[str, ...]:
    """Every string literal of the claim grammar (operators, brackets, LaTeX commands)."""
    lines = (ROOT / "symbp" / "verify" / "claim.lark").read_text().splitlines()
    grammar = "\n".join(line for line in lines if not line.lstrip().startswith("//"))
    literals = set(re.findall(r'"((?:[^"\\]|\\.)+)"', grammar))
    return tuple(sorted(lit.replace("\\\\", "\\") for lit in literals))


@cache
def document_claims() -> tuple[tuple[str, str], ...]:
    """(spec name, claim) for the equations of symbp's own article for each fuzzed example."""
    out = []
    for name in SPEC_NAMES:
        source = (ROOT / "generated" / f"{name}.tex").read_text()
        out += [(name, claim) for _, claim in tex_claims(source)]
    return tuple(out)


@cache
def spec(name: str) -> symbp.Spec:
    return symbp.load_spec(ROOT / "examples" / f"{name}.toml")


def assert_verdict(name: str, claim: str) -> None:
    verdict = verify(spec(name), claim, seconds=SECONDS)
    assert verdict.status in STATUSES
    assert verdict.message and "\n" not in verdict.message


token = st.one_of(
    st.sampled_from(grammar_tokens()),
    st.sampled_from(NAMES),
    st.sampled_from(NUMBERS),
    st.sampled_from(
        ("_1", "_2", "_3", "_J", "^T", "'", "_{2}", "^2", "^{(2)}", "^L", "^{[3]}", "^{(i)}", "₂")
    ),
)
prefix = st.sampled_from(
    (
        "",
        r"\delta_1 = ",
        r"\delta_2 = ",
        r"\frac{\partial f}{\partial W_2} = ",
        "delta3 = ",
        r"\zeta_3 = ",
    )
)
fuzz = settings(
    max_examples=EXAMPLES or 100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@fuzz
@given(name=st.sampled_from(SPEC_NAMES), head=prefix, tokens=st.lists(token, max_size=24))
def test_claims_from_grammar_tokens_get_a_verdict(name, head, tokens):
    assert_verdict(name, head + " ".join(tokens))


# pieces that may stand for each other, so that many mutants still parse
KINDRED = (
    ("0", "1", "2", "3", "4", "5", "J", "i", "N"),
    (
        *("z", "u", "a", "W", "b", "y", "x", "Z", "U", "A", "Y", "f"),
        *("\\delta", "\\Delta", "\\zeta", "\\sigma", "\\Sigma"),
    ),
    ("+", "-", "\\circ", "\\odot", "*", "\\cdot"),
    ("(", "[", "\\left("),
    (")", "]", "\\right)"),
    ("T", "\\top"),
)


def kindred(piece: str) -> tuple[str, ...]:
    return next((group for group in KINDRED if piece in group), ())


@st.composite
def mutated_claim(draw):
    """A claim of symbp's own documents with a few edits at token boundaries: most replace a
    piece by a kindred one (an index, a name, an operator), others delete, insert, duplicate
    or swap pieces."""
    name, claim = draw(st.sampled_from(document_claims()))
    pieces = re.findall(r"\\(?:left|right|big)[][()]|\\[A-Za-z]+|[A-Za-z]+|[0-9]+|\.T|\S", claim)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(pieces)))
        edit = draw(st.sampled_from(("kindred",) * 5 + ("delete", "insert", "duplicate", "swap")))
        if edit == "insert" or not pieces:
            pieces.insert(i, draw(token))
            continue
        i = min(i, len(pieces) - 1)
        j = draw(st.integers(i, min(len(pieces), i + 6)))
        if edit == "kindred":
            choices = [k for k, piece in enumerate(pieces) if kindred(piece)]
            if choices:
                k = draw(st.sampled_from(choices))
                pieces[k] = draw(st.sampled_from(kindred(pieces[k])))
        elif edit == "delete":
            del pieces[i:j]
        elif edit == "duplicate":
            pieces[i:i] = pieces[i:j]
        else:
            k = min(j, len(pieces) - 1)
            pieces[i], pieces[k] = pieces[k], pieces[i]
    return name, " ".join(pieces)


@settings(fuzz, max_examples=EXAMPLES or 40)
@given(case=mutated_claim())
def test_mutated_document_claims_get_a_verdict(case):
    assert_verdict(*case)


def test_a_layer_taken_from_the_left_side_is_checked_against_the_network():
    """δ_2 = z' on a one-layer network: σ' takes layer 2 from the left side (found by the fuzzer
    as an IndexError)."""
    assert_verdict("perceptron", "\\delta_2 = z '")


@pytest.mark.parametrize(
    "claim",
    [
        r"\frac{\partial f}{\partial W_3} = \frac{1}{N}\sum_{i=1}^N \delta_3^{(i)} (z_2^{(k)})^T",
        r"\frac{\partial f}{\partial W_3} = \frac{1}{N}\sum_{j=1}^N \delta_3^{(i)} (z_2^{(i)})^T",
        r"\frac{\partial f}{\partial W_3} = \frac{1}{N}\sum_{i=2}^N \delta_3^{(i)} (z_2^{(i)})^T",
        r"\frac{\partial f}{\partial W_3} = \frac{1}{N^2}\sum_{i=1}^N \delta_3^{(i)} \sum_{i=1}^N (z_2^{(i)})^T",
        r"\delta_3 = \frac{2}{N}(z_3 - y) \circ \sigma'_3",
        r"\frac{\partial f}{\partial W_3} = \frac{1}{N} \delta_3 z_2^T",
    ],
)
def test_false_claims_about_samples_are_never_correct(claim):
    """Found by a hostile trial: the sum's index and bounds were not read, and N was 1 in one
    sample's claim, so each of these false claims was called correct."""
    verdict = symbp.verify_claim(symbp.lecture_spec(), claim)
    assert verdict.status != "correct", verdict.message
