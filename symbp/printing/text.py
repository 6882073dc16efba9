"""Readable Unicode: z₃, W₃ᵀ, δ₂, ∘ for the Hadamard product, σ′₂ for the activation derivative.

Scalar formulas (σ(t), σ′(t) and the entry-wise functions inside matrix formulas) print in
mathematical notation, never Python's: − for minus, · or juxtaposition for products, a/b with
the denominator grouped, superscript integer powers (x², x⁻¹ only as 1/x), √, ≥ and ≤.
"""

from __future__ import annotations

import itertools

import sympy as sp
from sympy import HadamardProduct, MatAdd, MatMul, OneMatrix
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from .. import naming
from .notation import MatrixNotation
from .strict import Strict

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_RELATIONS = {">=": "≥", "<=": "≤", "!=": "≠", "==": "=", ">": ">", "<": "<"}


def superscript(n: int) -> str:
    """An integer as superscript digits: 2 -> ², -1 -> ⁻¹."""
    return str(n).translate(_SUPERSCRIPTS)


class ScalarNotation:
    """Scalar SymPy expressions in mathematical Unicode (mixed into `TextPrinter`)."""

    MINUS = "−"

    def _grouped(self, expr, below: int) -> str:
        """`expr`, parenthesised when it binds less tightly than `below`."""
        shown = self._print(expr)
        return f"({shown})" if precedence(expr) < below else shown

    def _print_Add(self, expr, order=None):
        terms = sorted(
            self._as_ordered_terms(expr, order=order),
            key=lambda term: bool(term.could_extract_minus_sign()),
        )
        out = ""
        for i, term in enumerate(terms):
            negative = bool(term.could_extract_minus_sign())
            shown = self._grouped(-term if negative else term, PRECEDENCE["Add"] + 1)
            if i == 0:
                out = f"{self.MINUS}{shown}" if negative else shown
            else:
                out += f" {self.MINUS} {shown}" if negative else f" + {shown}"
        return out

    def _product(self, expr) -> str:
        """A product with no denominator: 2t, 2(z − y), t·sign(t)."""
        factors = list(expr.as_ordered_factors()) if expr.is_Mul else [expr]
        out = self._grouped(factors[0], PRECEDENCE["Mul"])
        for previous, factor in itertools.pairwise(factors):
            shown = self._grouped(factor, PRECEDENCE["Mul"])
            juxtaposed = previous.is_Rational and (
                factor.is_Symbol or (factor.is_Pow and factor.base.is_Symbol) or shown[0] == "("
            )
            out += shown if juxtaposed else "·" + shown
        return out

    def _quotient(self, num, den) -> str:
        """num/den with each side grouped: (a + b)/(2c), 1/(|t| + 1)²."""
        top = self._product(num)
        if den == 1:
            return top
        bottom = self._product(den)
        return f"{top}/({bottom})" if den.is_Mul else f"{top}/{bottom}"

    def _print_Mul(self, expr):
        coeff, rest = expr.as_coeff_Mul()
        sign = ""
        if coeff.is_negative:
            sign, expr = self.MINUS, sp.Mul(-coeff, rest)
        return sign + self._quotient(*sp.fraction(expr, exact=True))

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.base, expr.exp
        if exp.could_extract_minus_sign():
            return self._quotient(sp.Integer(1), sp.Pow(base, -exp))
        if exp == sp.S.Half:
            return "√" + self._grouped(base, PRECEDENCE["Func"])
        grouped = self._grouped(base, PRECEDENCE["Pow"] + 1)
        if base.is_Number and (base.is_negative or not base.is_Integer):
            grouped = f"({self._print(base)})"
        if exp.is_Integer:
            return grouped + superscript(int(exp))
        return f"{grouped}^{self._grouped(exp, PRECEDENCE['Atom'])}"

    def _print_Integer(self, expr):
        return f"{self.MINUS}{-expr.p}" if expr.p < 0 else str(expr.p)

    def _print_int(self, expr):
        return self._print_Integer(sp.Integer(expr))

    def _print_Rational(self, expr):
        sign = self.MINUS if expr.p < 0 else ""
        return f"{sign}{abs(expr.p)}/{expr.q}" if expr.q != 1 else f"{sign}{abs(expr.p)}"

    def _print_Float(self, expr):
        shown = super()._print_Float(expr)
        mantissa, _, power = shown.partition("e")
        if power:
            shown = f"{mantissa}·10{superscript(int(power))}"
        return shown.replace("-", self.MINUS)

    def _print_Exp1(self, expr):
        return "e"

    def _print_Pi(self, expr):
        return "π"

    def _print_Infinity(self, expr):
        return "∞"

    def _print_NegativeInfinity(self, expr):
        return f"{self.MINUS}∞"

    def _print_ImaginaryUnit(self, expr):
        return "i"

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Relational(self, expr):
        op = _RELATIONS.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_And(self, expr):
        return " and ".join(self._grouped(a, PRECEDENCE["Relational"]) for a in expr.args)

    def _print_Or(self, expr):
        return " or ".join(self._grouped(a, PRECEDENCE["Relational"]) for a in expr.args)

    def _print_Piecewise(self, expr):
        parts = [
            self._print(value)
            if cond == sp.true
            else f"{self._print(value)} if {self._print(cond)}"
            for value, cond in expr.args
        ]
        return "(" + ", else ".join(parts) + ")"


class TextPrinter(Strict, ScalarNotation, MatrixNotation, StrPrinter):
    MINUS = "−"
    HADAMARD = " ∘ "

    def _print_MatrixSymbol(self, expr):
        return naming.unicode_name(expr.name)

    def _print_Symbol(self, expr):
        return naming.unicode_name(expr.name)

    def _print_Transpose(self, expr):
        return self._wrap(expr.arg, (MatAdd, MatMul, HadamardProduct)) + "ᵀ"

    def _print_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        if len(factors) == 1 and isinstance(factors[0], OneMatrix):
            return self._print(coeff)  # c times the all-ones matrix: the constant c, entry-wise
        if _scaled_hadamard(expr):
            body = self._print(factors[0])  # c(a ∘ b) = c a ∘ b: no second pair of parentheses
        else:
            body = " ".join(self._operand(m) for m in factors)
        if coeff == 1:
            return body
        if body.startswith("−"):  # c(−a ∘ b): never c −a ∘ b, nor −−a ∘ b
            body = f"({body})"
        if coeff == -1:
            return "−" + body
        shown = self._print(coeff) if coeff.is_Integer else f"({self._print(coeff)})"
        return (shown if body.startswith("(") else shown + " ") + body

    def _print_VJP(self, expr):
        row, jac = expr.args
        if _scaled_hadamard(row):  # printed without parentheses: bracket it before a Jacobian
            return f"{self.BRACKETS[0]}{self._print(row)}{self.BRACKETS[1]} {self._print(jac)}"
        return super()._print_VJP(expr)

    def _print_DiagMatrix(self, expr):
        return f"diag({self._print(expr.args[0])})"

    def _power(self, base, exp):
        return f"{base}^∘{exp}"

    def _fraction(self, top, bottom):
        return f"∂{top}/∂{bottom}"

    def _print_OneMatrix(self, expr):
        return "1"

    def _print_Sigma(self, expr):
        return f"σ{naming.subscript(expr.layer)}({self._print(expr.arg)})"

    def _print_LogSumExp(self, expr):
        return f"log 1ᵀ exp({self._print(expr.arg)})"

    def _print_Stack(self, expr):
        top, bottom = (self._print(a) for a in expr.args)
        return f"[{top}; {bottom}]"

    def _print_LeastSquares(self, expr):
        A, T, B = expr.args
        kinds = (MatAdd, MatMul, HadamardProduct)
        left = "" if isinstance(A, sp.Identity) else f"{self._wrap(A, kinds)}⁺ "
        return f"{left}{self._wrap(T, (MatAdd,))} {self._wrap(B, kinds)}⁺"

    def _print_ElementSum(self, expr):
        arg = expr.arg
        if isinstance(arg, sp.HadamardPower) and arg.exp == 2:
            return f"‖{self._print(arg.base)}‖{'_F' if arg.base.shape[1] != 1 else ''}²"
        tail = " 1" if arg.shape[1] != 1 else ""
        if isinstance(arg, MatMul) and arg.as_coeff_matrices()[0] == -1:
            return f"{self.MINUS}1ᵀ({self._print(self._unsigned(arg))}){tail}"
        return f"1ᵀ({self._print(arg)}){tail}"


def _scaled_hadamard(expr) -> bool:
    """c (a ∘ b) with c != 1, which prints as c a ∘ b."""
    if not isinstance(expr, MatMul):
        return False
    coeff, factors = expr.as_coeff_matrices()
    return coeff != 1 and len(factors) == 1 and isinstance(factors[0], HadamardProduct)


def text(expr) -> str:
    return TextPrinter().doprint(expr)
