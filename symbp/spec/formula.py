"""Safe parsing of a user's activation formula in one variable ``t``.

The text is parsed by a Lark grammar (numbers, ``t``, + - * / ** ^, parentheses, and a whitelist
of functions) and the tree is built into SymPy by hand.  Nothing the user writes is ever passed
to ``eval``, ``sympify`` or ``parse_expr``; anything outside the grammar is a `FormulaError`
naming the column.

Every formula is bounded before SymPy works on it: its length, nesting depth, the size of its
number literals and of every constant it computes, its exponents and its number of nodes.  The
limits are far above any activation function in use and far below what makes SymPy hang.
"""

from __future__ import annotations

import re
from decimal import Decimal

import lark
import sympy as sp

from .. import budget
from ..catalog.activations import t
from ..errors import SymbpError, shown

MAX_LENGTH = 500  #: characters
MAX_DEPTH = 30  #: operators and calls nested inside one another
MAX_DIGITS = 30  #: significant digits of a number literal
MAX_MAGNITUDE = 300  #: constants lie within 1e-300 .. 1e300 in absolute value (or are 0)
MAX_EXPONENT = 100  #: |n| for a constant exponent n (t**n, 2**n)
MAX_NODES = 400  #: nodes of the SymPy expression

FUNCTIONS = {
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "Abs": sp.Abs,
    "abs": sp.Abs,
    "tanh": sp.tanh,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "sin": sp.sin,
    "cos": sp.cos,
    "atan": sp.atan,
    "asinh": sp.asinh,
    "erf": sp.erf,
    "Max": sp.Max,
    "Min": sp.Min,
}
CONSTANTS = {"t": t, "pi": sp.pi, "E": sp.E}

GRAMMAR = r"""
?start: sum
?sum: product
    | sum "+" product   -> add
    | sum "-" product   -> sub
?product: unary
    | product "*" unary -> mul
    | product "/" unary -> div
?unary: power
    | "-" unary         -> neg
    | "+" unary
?power: atom
    | atom ("**" | "^") unary -> pow
?atom: NUMBER           -> number
    | NAME              -> name
    | NAME "(" sum ("," sum)* ")" -> call
    | "(" sum ")"
NAME: /[A-Za-z_][A-Za-z0-9_]*/
NUMBER: /\d+(\.\d*)?([eE][+-]?\d+)?/ | /\.\d+([eE][+-]?\d+)?/
%ignore /[ \t]+/
"""

_PARSER = lark.Lark(GRAMMAR, parser="lalr", propagate_positions=True)


class FormulaError(SymbpError, ValueError):
    """The formula is not in the grammar, uses something outside the whitelist, or exceeds a
    limit (the message names the limit)."""


_LITERAL = re.compile(r"(?P<mantissa>[\d.]+)(?:[eE](?P<exponent>[+-]?\d+))?")


def number(text: str, column: int) -> sp.Rational:
    """The exact value of a NUMBER literal, refused if it has more than `MAX_DIGITS` significant
    digits or lies outside 1e-`MAX_MAGNITUDE` .. 1e`MAX_MAGNITUDE` (checked on the text)."""
    parts = _LITERAL.fullmatch(text)
    mantissa, exponent = parts["mantissa"], parts["exponent"] or "0"
    digits = mantissa.replace(".", "").strip("0")
    if len(digits) > MAX_DIGITS:
        raise FormulaError(
            f"the number at column {column} has {len(digits)} digits; at most {MAX_DIGITS}"
        )
    if not digits:
        return sp.Integer(0)
    if len(exponent.lstrip("+-").lstrip("0")) > 6:  # |exponent| >= 1e6: surely out of range
        exponent = "-1000000" if exponent.startswith("-") else "1000000"
    value = Decimal(f"{mantissa}e{int(exponent)}")  # exact: no context rounding
    if abs(value.adjusted()) > MAX_MAGNITUDE:
        raise FormulaError(
            f"the number {text[:20]} at column {column} is too "
            f"{'large' if value.adjusted() > 0 else 'small'}; "
            f"numbers lie within 1e-{MAX_MAGNITUDE} .. 1e{MAX_MAGNITUDE}"
        )
    return sp.Rational(*value.as_integer_ratio())


def _bounded(expr: sp.Expr, column: int) -> sp.Expr:
    """`expr`, or `FormulaError` if a constant in it or an exponent of it exceeds the limits."""
    for r in expr.atoms(sp.Rational):
        if max(abs(r.p), r.q).bit_length() > MAX_MAGNITUDE * 10 // 3:  # about 10**MAX_MAGNITUDE
            raise FormulaError(
                f"the operation at column {column} makes a constant beyond "
                f"1e{MAX_MAGNITUDE} or below 1e-{MAX_MAGNITUDE}"
            )
    for power in expr.atoms(sp.Pow):
        _exponent_in_range(power.exp, column)
    return expr


def _exponent_in_range(exponent: sp.Expr, column: int) -> None:
    if not exponent.is_number:
        return
    value = budget.within(1.0, lambda: _magnitude(exponent), lambda: float("inf"))
    if not value <= MAX_EXPONENT:
        raise FormulaError(
            f"the power at column {column} has the exponent {str(exponent)[:20]}, too large; "
            f"constant exponents lie within -{MAX_EXPONENT} .. {MAX_EXPONENT}"
        )


def _magnitude(constant: sp.Expr) -> float:
    """|constant| as a float; inf when it is not a finite number."""
    try:
        return abs(complex(constant.evalf(15)))
    except (TypeError, ValueError, ArithmeticError):  # not a number, or beyond float range
        return float("inf")


def depth(tree: lark.Tree) -> int:
    """How many operators and calls are nested in `tree` (iteratively: no recursion limit)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((c, level + 1) for c in node.children if isinstance(c, lark.Tree))
    return deepest


@lark.v_args(meta=True)
class _Build(lark.Transformer):
    """The parse tree to SymPy, each intermediate result checked by `_bounded`."""

    def __default__(self, data, children, meta):
        raise AssertionError(f"no rule for {data}")  # every rule of GRAMMAR has a method

    def number(self, meta, items):
        return number(str(items[0]), meta.column)

    def name(self, meta, items):
        token = items[0]
        if str(token) not in CONSTANTS:
            allowed = ", ".join(CONSTANTS)
            raise FormulaError(
                f"unknown name {str(token)!r} at column {token.column}; allowed: {allowed}"
            )
        return CONSTANTS[str(token)]

    def call(self, meta, items):
        token, *args = items
        if str(token) not in FUNCTIONS:
            allowed = ", ".join(FUNCTIONS)
            raise FormulaError(
                f"unknown function {str(token)!r} at column {token.column}; allowed: {allowed}"
            )
        try:
            value = FUNCTIONS[str(token)](*args)
        except TypeError:
            raise FormulaError(
                f"{token}(...) at column {token.column} takes "
                f"{'two or more arguments' if str(token) in ('Max', 'Min') else 'one argument'}"
                f", got {len(args)}"
            ) from None
        return _bounded(value, meta.column)

    def add(self, meta, items):
        return _bounded(items[0] + items[1], meta.column)

    def sub(self, meta, items):
        return _bounded(items[0] - items[1], meta.column)

    def mul(self, meta, items):
        return _bounded(items[0] * items[1], meta.column)

    def div(self, meta, items):
        if items[1] == 0:
            raise FormulaError(f"division by zero in the quotient at column {meta.column}")
        return _bounded(items[0] / items[1], meta.column)

    def neg(self, meta, items):
        return -items[0]

    def pow(self, meta, items):
        base, exponent = items
        _exponent_in_range(exponent, meta.column)  # before SymPy computes 2**10**10
        return _bounded(base**exponent, meta.column)


def parse(text: str) -> sp.Expr:
    """The SymPy expression of `text`, a formula in t; `FormulaError` if it is not one."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("the formula is empty; write it in t, e.g. 't/(1 + Abs(t))'")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is {len(text)} characters long; at most {MAX_LENGTH}")
    bad = next((i for i, c in enumerate(text) if not c.isprintable() or not c.isascii()), None)
    if bad is not None:
        raise FormulaError(f"character {text[bad]!r} at column {bad + 1} is not allowed")
    try:
        tree = _PARSER.parse(text)
    except lark.exceptions.UnexpectedInput as exc:
        raise FormulaError(f"cannot parse at column {exc.column}: {shown(text)}") from None
    if depth(tree) > MAX_DEPTH:
        raise FormulaError(
            f"the formula nests {depth(tree)} operations inside one another; at most {MAX_DEPTH}"
        )
    try:
        expr = _Build().transform(tree)
    except lark.exceptions.VisitError as exc:
        if isinstance(exc.orig_exc, FormulaError):
            raise exc.orig_exc from None
        raise FormulaError(f"cannot build the formula: {_one_line(exc.orig_exc)}") from None
    if not isinstance(expr, sp.Expr) or t not in expr.free_symbols:
        raise FormulaError(f"{shown(text)} does not depend on t")
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise FormulaError(f"{shown(text)} is infinite or undefined (SymPy makes it {expr})")
    nodes = sum(1 for _ in sp.preorder_traversal(expr))
    if nodes > MAX_NODES:
        raise FormulaError(f"the formula has {nodes} SymPy nodes; at most {MAX_NODES}")
    return expr


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."
