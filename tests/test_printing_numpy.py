"""Printers that emit code: random scalar formulas, printed and run, agree with SymPy's evalf.

The expressions are built from every function a custom activation may use (symbp.formula's
whitelist), with products, quotients, integer and fractional powers of either sign, negatives,
rationals, Piecewise, Max, Min and Abs.  Each is printed as the emitted module prints an
element-wise formula (an `Elementwise` node on a matrix `U1`), evaluated by NumPy, and compared
with SymPy's own evaluation at 30 digits.  A misplaced parenthesis changes the value by far
more than the tolerance; ill-conditioned points (where float64 input rounding alone moves the
value by more than the tolerance) are left out.
"""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from symbp.catalog.activations import t
from symbp.graph.nodes import Elementwise
from symbp.printing.numpy import code
from symbp.spec.formula import FUNCTIONS

RTOL, ATOL = 1e-7, 1e-9
U = sp.MatrixSymbol("U1", 1, 1)


def numpy_value(expr: sp.Expr, points: np.ndarray) -> np.ndarray:
    """`expr` printed by the NumPy printer as an element-wise formula of U1, run on `points`."""
    text = code(Elementwise(sp.Lambda(t, expr), sp.MatrixSymbol("U1", 1, len(points))), {})
    with np.errstate(all="ignore"):
        value = eval(text, {"np": np, "math": math, "U1": points.reshape(1, -1)})
    return np.broadcast_to(np.asarray(value, dtype=float), (1, len(points)))[0]


#: the printers that emit code, as functions (expression, points) -> float64 values
CODE_PRINTERS = {"numpy": numpy_value}


def exact_value(expr: sp.Expr, x: float) -> complex | None:
    """SymPy's value of `expr` at t = x to 30 digits, or None where it is not a real that float64
    can hold, or where an intermediate is not real (|log t| = pi at t = -1 in complex arithmetic;
    symbp's formulas are real functions, and custom activations with such points are refused)."""
    point = {t: sp.Float(x, 30)}
    inner = [e for e in sp.preorder_traversal(expr) if e.is_Function or e.is_Pow]
    try:
        value = expr.xreplace(point).evalf(30)
        parts = [e.xreplace(point).evalf(30) for e in inner]
    except (ValueError, TypeError, ZeroDivisionError):  # Max(zoo, 0): "not comparable"
        return None
    if not all(p.is_real for p in parts):
        return None
    if not (value.is_real and value.is_finite and value.is_number) or abs(value) > 1e300:
        return None
    return float(value)


def well_conditioned(expr: sp.Expr, x: float, value: float) -> bool:
    """Whether rounding x to float64 (a relative change of 1e-16) moves the value by well under
    the tolerance: a relative perturbation of 1e-13 must move it by less than RTOL."""
    nearby = exact_value(expr, x * (1 + 1e-13) + 1e-300)
    return nearby is not None and abs(nearby - value) <= 0.1 * (RTOL * abs(value) + ATOL)


rationals = st.sampled_from([sp.Integer(2), sp.Integer(3), sp.Rational(1, 2), sp.Rational(-3, 4)])
exponents = st.sampled_from(
    [sp.Integer(n) for n in (-3, -2, -1, 2, 3)]
    + [sp.Rational(*q) for q in ((1, 2), (-1, 2), (2, 3), (-3, 2))]
)
unary = st.sampled_from([f for name, f in FUNCTIONS.items() if name not in ("Max", "Min", "abs")])


def _built(function, *strategies):
    """Expressions `function(*drawn)`; SymPy's refusals (Max of a complex constant) left out."""

    def build(*args):
        try:
            return function(*args)
        except (ValueError, TypeError):
            return None

    return st.builds(build, *strategies).filter(lambda e: isinstance(e, sp.Expr))


def _extend(children):
    pair = st.tuples(children, children)
    return st.one_of(
        _built(lambda f, a: f(a), unary, children),
        _built(lambda a: -a, children),
        _built(lambda ab: ab[0] + ab[1], pair),
        _built(lambda ab: ab[0] - ab[1], pair),
        _built(lambda ab: ab[0] * ab[1], pair),
        _built(lambda ab: ab[0] / ab[1], pair),
        _built(lambda a, n: a**n, children, exponents),
        _built(lambda ab: sp.Max(*ab), pair),
        _built(lambda ab: sp.Min(*ab), pair),
        _built(lambda ab, c: sp.Piecewise((ab[0], t > c), (ab[1], True)), pair, rationals),
    )


formulas = st.recursive(
    st.one_of(st.just(t), rationals, st.builds(lambda q: q * t, rationals)),
    _extend,
    max_leaves=8,
).filter(lambda e: t in e.free_symbols and not e.has(sp.zoo, sp.nan))

points = st.lists(
    st.floats(-4, 4).filter(lambda x: x == 0 or abs(x) > 1e-3), min_size=4, max_size=4
)


@pytest.mark.parametrize("printer", CODE_PRINTERS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(expr=formulas, xs=points)
def test_printed_formula_evaluates_to_sympys_value(printer, expr, xs):
    exact = {x: exact_value(expr, x) for x in xs}
    comparable = [x for x, v in exact.items() if v is not None and well_conditioned(expr, x, v)]
    assume(comparable)
    got = CODE_PRINTERS[printer](expr, np.array(comparable))
    for x, value in zip(comparable, got, strict=True):
        want = exact[x]
        assert abs(value - want) <= RTOL * abs(want) + ATOL, (
            f"{expr} at t = {x!r}: printed code gives {value!r}, SymPy {want!r}"
        )


@pytest.mark.parametrize(
    "formula",
    [
        t * sp.exp(-t) / 2,  # issue 7: printed U1 / 2 * np.exp(U1)
        t / (10 * sp.cos(t)),
        sp.Abs(t) * (t / 10 - 10),
        sp.diff(sp.Abs(t) * (t / 10 - 10), t),
        t / (2 * t**2 + 1) ** sp.Rational(3, 2),
        1 / (-t - 2),
        (t / 3) ** -2,
        sp.Min(t, 1),
        sp.Max(t, -1, t**2 - 3),
    ],
    ids=str,
)
def test_known_precedence_cases(formula):
    xs = np.array([-2.5, -0.75, 0.5, 1.25, 3.0])
    got = numpy_value(formula, xs)
    want = [exact_value(formula, x) for x in xs]
    np.testing.assert_allclose(got, np.array(want, dtype=float), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_whitelisted_function_prints_numpy_only(name):
    f = FUNCTIONS[name]
    expr = f(t, 1) if name in ("Max", "Min") else f(t)
    text = code(Elementwise(sp.Lambda(t, expr), sp.MatrixSymbol("U1", 1, 3)), {})
    names = {node.id for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Name)}
    assert names <= {"np", "math", "U1", "abs", "float"}, text
    xs = np.array([0.25, 0.5, 2.0])
    want = [exact_value(expr, x) for x in xs]
    np.testing.assert_allclose(numpy_value(expr, xs), np.array(want, dtype=float), rtol=1e-13)
