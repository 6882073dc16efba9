"""The lecture's matrix notation, shared by the LaTeX and the Unicode printers.

Subclasses set the tokens (`MINUS`, `HADAMARD`, brackets) and the few forms that differ
(`_power`, `_fraction`); the layout rules live here once: which factors get parentheses, how
sums keep their order (z - y, not -y + z), how a row factor meets a Jacobian.
"""

from __future__ import annotations

import sympy as sp
from sympy import HadamardProduct, MatAdd, MatMul

from ..nodes import Partial


class MatrixNotation:
    MINUS = "-"
    HADAMARD = " o "
    PARENS = ("(", ")")
    BRACKETS = ("[", "]")

    def _wrap(self, expr, kinds, brackets=None):
        left, right = brackets or self.PARENS
        text = self._print(expr)
        return f"{left}{text}{right}" if isinstance(expr, kinds) else text

    def _operand(self, expr):
        """A factor of a matrix product: sums, Hadamard products and negated products get
        parentheses."""
        negated = isinstance(expr, MatMul) and expr.as_coeff_matrices()[0] != 1
        return (
            self._wrap(expr, (MatAdd, HadamardProduct))
            if not negated
            else (f"{self.PARENS[0]}{self._print(expr)}{self.PARENS[1]}")
        )

    def _factor(self, expr):
        """A Hadamard factor, parenthesised unless it is a symbol or a scaled sum like 2(z - y)."""
        if isinstance(expr, MatMul) and len(expr.as_coeff_matrices()[1]) == 1:
            return self._print(expr)
        return self._wrap(expr, (MatAdd, MatMul, HadamardProduct))

    def _print_MatAdd(self, expr):
        out = ""
        for i, term in enumerate(expr.args):
            negative = term.could_extract_minus_sign()
            shown = self._print(-term if negative else term)
            if i == 0:
                out = f"{self.MINUS}{shown}" if negative else shown
            else:
                out += f" {self.MINUS} {shown}" if negative else f" + {shown}"
        return out

    def _print_HadamardProduct(self, expr):
        return self.HADAMARD.join(self._factor(a) for a in expr.args)

    def _print_HadamardPower(self, expr):
        base = self._factor(expr.base)
        if expr.exp == 2:
            return f"{base}{self.HADAMARD}{base}"
        return self._power(base, expr.exp)

    def _print_Elementwise(self, expr):
        var = expr.function.variables[0]
        return self._print(expr.function.expr.subs(var, sp.Symbol(self._print(expr.arg))))

    def _print_Partial(self, expr):
        num, den = expr.args
        top = self._print(num)
        if not isinstance(num, (sp.MatrixSymbol, sp.Symbol)):
            top = f"{self.PARENS[0]}{top}{self.PARENS[1]}"
        return self._fraction(top, self._print(den))

    def _print_VJP(self, expr):
        row, jac = expr.args
        if isinstance(row, Partial):
            return f"{self._print(row)} {self._print(jac)}"
        return f"{self._wrap(row, (HadamardProduct, MatAdd), self.BRACKETS)} {self._print(jac)}"
