"""Expressions in verify's messages print with correct precedence: a property test over random
matrix expressions (products, sums, differences, Hadamard products, transposes, scalar multiples,
negations, 1 − x) of the lecture's quantities.  Both the Unicode printer (`text`) and the
operations verify prints by hand when their shapes do not fit (`operation_text`) must read back,
through the claim grammar, as the expression they show: same value on random integer matrices."""

from __future__ import annotations

import random

import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy import HadamardProduct, MatAdd, MatMul, OneMatrix, Transpose

from symbp.naming import Names
from symbp.printing.text import text
from symbp.proof.expansion import evaluate
from symbp.spec.model import lecture_spec
from symbp.verify.claims import parse
from symbp.verify.compare import Resolver, operation_text, verify

SPEC = lecture_spec()  # widths 4-3-3-2
NAMES = Names(SPEC.widths, batch=False)
LEAVES = [NAMES.z(k) for k in range(4)] + [NAMES.y()]
LEAVES += [f(k) for k in range(1, 4) for f in (NAMES.W, NAMES.u, NAMES.delta)]
INNER = 3  #: every shape r x c (r, c in 1..4) is (a leaf r x 3)(a leaf 3 x c)


def _leaves(shape):
    """Leaves (or transposed leaves) of `shape`."""
    out = [x for x in LEAVES if x.shape == shape]
    return out + [Transpose(x) for x in LEAVES if x.shape == shape[::-1] and shape[0] != shape[1]]


@st.composite
def expressions(draw, shape, depth=3):
    """A random matrix expression of `shape` over the lecture's per-sample symbols."""
    leaves = _leaves(shape)
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        if leaves:
            return draw(st.sampled_from(leaves))
        left = draw(st.sampled_from(_leaves((shape[0], INNER))))
        return MatMul(left, draw(st.sampled_from(_leaves((INNER, shape[1])))))
    kinds = ["add", "sub", "hadamard", "product", "T", "neg", "scale", "one"]
    if shape == (1, 1):  # SymPy turns a 1 x 1 all-ones matrix into I: printed "I" (not ours)
        kinds.remove("one")
    kind = draw(st.sampled_from(kinds))
    sub = lambda s=shape: expressions(s, depth - 1)  # noqa: E731
    if kind == "add":
        return MatAdd(draw(sub()), draw(sub()))
    if kind == "sub":
        return MatAdd(draw(sub()), MatMul(-1, draw(sub())))
    if kind == "hadamard":
        return HadamardProduct(draw(sub()), draw(sub()))
    if kind == "product":
        k = draw(st.integers(1, 4))
        return MatMul(draw(sub((shape[0], k))), draw(sub((k, shape[1]))))
    if kind == "T":
        return Transpose(draw(sub(shape[::-1])))
    if kind == "neg":
        return MatMul(-1, draw(sub()))
    if kind == "scale":
        return MatMul(draw(st.sampled_from([sp.Integer(2), sp.Rational(1, 2)])), draw(sub()))
    return MatAdd(OneMatrix(*shape), MatMul(-1, draw(sub())))


SHAPES = st.sampled_from([(3, 1), (2, 1), (4, 1), (3, 3), (2, 3), (1, 1), (1, 3)])


def _value(expr):
    """`expr` on fixed random integer matrices (the same for every call)."""
    symbols = sorted((s for s in expr.free_symbols if isinstance(s, sp.MatrixSymbol)), key=str)
    env = {}
    for s in symbols:
        rng = random.Random(s.name)  # each symbol's entries depend on its name only
        env[s] = sp.Matrix(*s.shape, lambda i, j, rng=rng: rng.randint(-5, 5))
    return sp.Matrix(evaluate(expr, env))


def _read_back(shown: str):
    """A printed right side, read by verify's grammar and resolver (samples as columns)."""
    lhs, rhs = parse(f"δ₁ = {shown}")
    resolve = Resolver(SPEC, NAMES, lhs)
    return resolve._value(resolve(rhs))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_printed_expressions_read_back_as_themselves(data):
    shape = data.draw(SHAPES)
    expr = data.draw(expressions(shape))
    shown = text(expr)
    assert _value(_read_back(shown)) == _value(expr), shown


OPERATORS = {
    "∘": lambda a, b: HadamardProduct(a, b),
    "+": lambda a, b: MatAdd(a, b),
    "−": lambda a, b: MatAdd(a, MatMul(-1, b)),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_operations_in_messages_read_back_as_themselves(data):
    """The operations a shape error names, printed as verify prints them: here with fitting
    shapes, so that the printed operation has a value to compare."""
    shape = data.draw(SHAPES)
    a, b = data.draw(expressions(shape, 2)), data.draw(expressions(shape, 2))
    operator = data.draw(st.sampled_from([*OPERATORS, "product"]))
    if operator == "product":
        k = data.draw(st.integers(1, 4))
        a, b = data.draw(expressions((shape[0], k), 2)), data.draw(expressions((k, shape[1]), 2))
        expected = MatMul(a, b)
    else:
        expected = OPERATORS[operator](a, b)
    shown = operation_text(a, operator, b)
    assert _value(_read_back(shown)) == _value(expected), shown


def test_the_hostile_example_keeps_its_parentheses():
    """σ₂(u₂) ∘ (1 − σ₂(u₂)) beside a vector of another length: the message shows both
    operands whole."""
    claim = r"\delta_3 = 2(z_3 - y) \circ (\sigma_2(u_2) \circ (1 - \sigma_2(u_2)))"
    verdict = verify(SPEC, claim)
    assert verdict.status == "wrong"
    assert "2(z₃ − y) ∘ (σ₂(u₂) ∘ (1 − σ₂(u₂))) multiplies" in verdict.message, verdict.message
    verdict = verify(SPEC, r"\delta_2 = (W_3^T \delta_3) \circ \sigma'_3")
    assert verdict.message.startswith("(W₃ᵀ δ₃) ∘ σ′₃ multiplies"), verdict.message
    verdict = verify(SPEC, r"\delta_2 = W_3^T \delta_3 \sigma'_2")
    assert verdict.message.startswith("(W₃ᵀ δ₃) σ′₂ multiplies a 3×1 by a 3×1"), verdict.message
