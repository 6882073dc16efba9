"""Safe parsing of a user's activation formula in one variable ``t``.

The text is parsed by a Lark grammar (numbers, ``t``, + - * / ** ^, parentheses, and a whitelist
of functions) and the tree is built into SymPy by hand.  Nothing the user writes is ever passed
to ``eval``, ``sympify`` or ``parse_expr``; anything outside the grammar is a `FormulaError`
naming the column.
"""

from __future__ import annotations

import lark
import sympy as sp

from .activations import t

MAX_LENGTH = 500

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

_PARSER = lark.Lark(GRAMMAR, parser="lalr")


class FormulaError(ValueError):
    """The formula is not in the grammar, or uses something outside the whitelist."""


class _Build(lark.Transformer):
    def number(self, items):
        return sp.Rational(str(items[0]))

    def name(self, items):
        token = items[0]
        if str(token) not in CONSTANTS:
            allowed = ", ".join(CONSTANTS)
            raise FormulaError(
                f"unknown name {str(token)!r} at column {token.column}; allowed: {allowed}"
            )
        return CONSTANTS[str(token)]

    def call(self, items):
        token, *args = items
        if str(token) not in FUNCTIONS:
            allowed = ", ".join(FUNCTIONS)
            raise FormulaError(
                f"unknown function {str(token)!r} at column {token.column}; allowed: {allowed}"
            )
        return FUNCTIONS[str(token)](*args)

    def add(self, items):
        return items[0] + items[1]

    def sub(self, items):
        return items[0] - items[1]

    def mul(self, items):
        return items[0] * items[1]

    def div(self, items):
        return items[0] / items[1]

    def neg(self, items):
        return -items[0]

    def pow(self, items):
        return items[0] ** items[1]


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
        raise FormulaError(f"cannot parse at column {exc.column}: {text!r}") from None
    try:
        expr = _Build().transform(tree)
    except lark.exceptions.VisitError as exc:
        if isinstance(exc.orig_exc, FormulaError):
            raise exc.orig_exc from None
        raise FormulaError(f"cannot build {text!r}: {exc.orig_exc}") from None
    if not isinstance(expr, sp.Expr) or t not in expr.free_symbols:
        raise FormulaError(f"{text!r} does not depend on t")
    return expr
