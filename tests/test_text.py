"""The Unicode output (`symbp derive`, `--steps`): mathematical notation, never Python syntax, and
every assumption the LaTeX document states."""

from __future__ import annotations

import itertools
import re

import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sympy.parsing.sympy_parser import implicit_multiplication, parse_expr, standard_transformations

import symbp
from symbp.output.document import document_source, tex_escape
from symbp.output.report import render_chains, render_text
from symbp.printing.text import text
from symbp.spec.model import from_dict

from .conftest import EXAMPLES

CUSTOM = {
    "softsign": "t/(1 + Abs(t))",
    "halfdecay": "t*exp(-t)/2",
    "cube": "t**3/3 - t",
    "smoothabs": "sqrt(1 + t**2) - 1",
}
OUTPUT_FOR = {"l2": "tanh", "cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}
HIDDEN = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "step"] + [
    {"name": name, "expr": expr} for name, expr in CUSTOM.items()
]


def _grid_spec(loss, hidden, bias):
    return from_dict(
        {
            "name": "grid",
            "input": 3,
            "loss": loss,
            "bias": bias,
            "layers": [
                {"units": 2, "activation": hidden},
                {"units": 2, "activation": OUTPUT_FOR[loss]},
            ],
        }
    )


GRID = [
    pytest.param(
        loss,
        hidden,
        bias,
        id=f"{loss}-{hidden if isinstance(hidden, str) else hidden['name']}-{bias}",
    )
    for loss, hidden, bias in itertools.product(OUTPUT_FOR, HIDDEN, (False, True))
]


def _specs():
    yield from (pytest.param(symbp.load_spec(path), id=path.stem) for path in EXAMPLES)


def _output(spec) -> str:
    """Everything `symbp derive` and `symbp derive --steps` print, minus the header's widths
    list (4-3-3-2), whose '-' is a separator, not a minus."""
    d = symbp.derive(spec)
    out = render_text(d) + "\n" + render_chains(d)
    return re.sub(r"widths [\w-]+", "widths", out)


def _assert_mathematical(out: str) -> None:
    for line in out.splitlines():
        assert "-" not in line, f"ASCII '-' (use −): {line}"
        assert "**" not in line and "*" not in line, f"Python operator: {line}"
        assert not re.search(r"\bI\b", line), f"stray I: {line}"
        assert "((" not in line, f"doubled parentheses: {line}"
        assert ">=" not in line and "<=" not in line, f"Python comparison: {line}"


@pytest.mark.parametrize("spec", list(_specs()))
def test_every_example_prints_mathematical_unicode(spec):
    _assert_mathematical(_output(spec))


@pytest.mark.parametrize("loss, hidden, bias", GRID)
def test_losses_activations_and_bias_print_mathematical_unicode(loss, hidden, bias):
    _assert_mathematical(_output(_grid_spec(loss, hidden, bias)))


def _latex_assumptions(tex: str) -> list[str]:
    """Each assumption the document states (after "SymPy's simplification assumes:")."""
    found = re.findall(r"SymPy's simplification assumes:\s*(.+?)(?:;\s|\.\s|\.$)", tex, re.S)
    return [" ".join(a.split()) for a in found]


@pytest.mark.parametrize(
    "spec",
    [*_specs(), *(pytest.param(_grid_spec(loss, "tanh", True), id=loss) for loss in OUTPUT_FOR)],
)
def test_text_states_every_assumption_the_latex_states(spec):
    d = symbp.derive(spec)
    tex = document_source(spec)
    stated = _latex_assumptions(tex)
    assert set(stated) == {tex_escape(a.text) for a in d.assumptions}
    text_out = render_text(d)
    for note in (a.text for a in d.assumptions):
        assert note in text_out


def test_a_softmax_derivation_records_the_targets_assumption():
    """The collapse δ_J = z_J − y of softmax with cross-entropy needs targets summing to one: it
    is recorded as data, and so stated (the assertion above must not pass vacuously)."""
    d = symbp.derive(_grid_spec("cross_entropy", "tanh", False))
    assert d.assumptions and any(st.reason.kind == "simplify" for c in d.chains for st in c.steps)
    assert all(a.text in render_text(d) for a in d.assumptions)


def test_the_issues_examples():
    bce = symbp.derive(symbp.load_spec(EXAMPLES[0].parent / "binary_classifier.toml"))
    assert "(1 − y) ∘ log(1 − z₂)" in text(bce.sample.objective)
    softmax = symbp.derive(symbp.load_spec(EXAMPLES[0].parent / "softmax_classifier.toml"))
    assert text(softmax.sample.objective) == "−1ᵀ(y ∘ log(z₂))"
    assert render_text(softmax).count("f = −(1/N) 1ᵀ(Y ∘ log(Z₂)) 1") == 1
    t = sp.Symbol("t", real=True)
    assert text((sp.Abs(t) + 1) ** -2) == "1/(|t| + 1)²"


# ---- the scalar printer is mathematics that reads back as the same function ----------------

t = sp.Symbol("t", real=True)
_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


def _read_back(shown: str) -> sp.Expr:
    """Parse the printer's own output (never user text) back into SymPy, reading − · a/b x² √
    and juxtaposition as a reader would."""
    src = shown.replace("−", "-").replace("·", "*").replace("^", "**").replace("π", "pi")
    src = re.sub(r"\be\b", "E", src)
    src = re.sub(r"([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", lambda m: "**" + m.group(1).translate(_SUPER), src)
    src = _square_roots(_abs_bars(src))
    transformations = (*standard_transformations, implicit_multiplication)
    return parse_expr(src, {"t": t}, transformations=transformations)


def _square_roots(src: str) -> str:
    """√x, √2, √exp(t), √(a + b) -> sqrt(...): the root covers one name or number and the
    parenthesised group right after it."""
    while "√" in src:
        start = src.index("√")
        end = start + 1
        while end < len(src) and (src[end].isalnum() or src[end] == "."):
            end += 1
        if end < len(src) and src[end] == "(":
            depth = 1
            end += 1
            while depth:
                depth += {"(": 1, ")": -1}.get(src[end], 0)
                end += 1
        src = f"{src[:start]}sqrt({src[start + 1 : end]}){src[end:]}"
    return src


def _abs_bars(src: str) -> str:
    """|a| -> Abs(a): a bar right after an operand (a name, a number, a closing bracket or
    bar) closes; any other opens."""
    out, previous = [], None
    for char in src:
        if char == "|":
            opening = previous is None or not (previous.isalnum() or previous == ")")
            out.append("Abs(" if opening else ")")
            previous = "|" if opening else ")"
            continue
        out.append(char)
        previous = previous if char.isspace() else char
    return "".join(out)


def _scalars():
    leaves = st.one_of(
        st.just(t),
        st.integers(-4, 4).map(sp.Integer),
        st.sampled_from([sp.Rational(1, 2), sp.Rational(-3, 2), sp.Rational(1, 100)]),
    )

    def grow(children):
        return st.one_of(
            st.tuples(children, children).map(lambda ab: ab[0] + ab[1]),
            st.tuples(children, children).map(lambda ab: ab[0] - ab[1]),
            st.tuples(children, children).map(lambda ab: ab[0] * ab[1]),
            st.tuples(children, children).map(lambda ab: ab[0] / ab[1]),
            st.tuples(children, st.sampled_from([-2, -1, 2, 3, sp.Rational(1, 2)])).map(
                lambda ae: ae[0] ** ae[1]
            ),
            children.map(lambda a: -a),
            children.map(sp.exp),
            children.map(sp.tanh),
            children.map(sp.Abs),
        )

    return st.recursive(leaves, grow, max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scalars())
def test_scalar_formulas_read_back_as_the_same_function(expr):
    assume(expr.has(t) and not expr.has(sp.oo, -sp.oo, sp.zoo, sp.nan))
    shown = text(expr)
    assert "-" not in shown and "*" not in shown, shown
    back = _read_back(shown)
    for value in (sp.Rational(7, 10), sp.Rational(-13, 10), sp.Rational(23, 10)):
        want = sp.N(expr.subs(t, value), 30)
        assume(want.is_finite and want.is_real)
        got = sp.N(back.subs(t, value), 30)
        assert abs(got - want) <= sp.Float("1e-20") * (1 + abs(want)), (expr, shown, back)


@pytest.mark.parametrize("loss", list(OUTPUT_FOR))
def test_a_one_unit_output_prints_like_a_wider_one(loss):
    """Printing never re-evaluates a formula: negating a 1 x 1 sum with SymPy turned its all-ones
    matrix into the identity (printed I) and reordered its terms."""

    def shown(units):
        spec = from_dict(
            {
                "name": "w",
                "input": 2,
                "loss": loss,
                "layers": [
                    {"units": 2, "activation": "tanh"},
                    {"units": units, "activation": OUTPUT_FOR[loss]},
                ],
            }
        )
        return _output(spec)

    assert shown(1) == shown(2)
