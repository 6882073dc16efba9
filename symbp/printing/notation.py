"""The lecture's matrix notation, shared by the LaTeX and the Unicode printers.

Subclasses set the tokens (`MINUS`, `HADAMARD`, brackets) and the few forms that differ
(`_power`, `_fraction`); the layout rules live here once: which factors get parentheses, how
sums keep their order (z - y, not -y + z), how a row factor meets a Jacobian.
"""

from __future__ import annotations

import sympy as sp
from sympy import HadamardProduct, MatAdd, MatMul

from ..graph.nodes import Partial


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

    @staticmethod
    def _unsigned(term):
        """`term` without its minus sign, taken apart structurally: negating a matrix expression
        with SymPy (``-term``) re-evaluates it, and would turn a 1 x 1 all-ones matrix into the
        identity or reorder its sums."""
        if isinstance(term, MatMul):
            coeff, factors = term.as_coeff_matrices()
            if coeff == -1:
                return factors[0] if len(factors) == 1 else MatMul(*factors, evaluate=False)
            if coeff.is_Number and coeff < 0:
                return MatMul(-coeff, *factors, evaluate=False)
        return -term

    def _print_MatAdd(self, expr):
        """Terms in reading order: positive terms first (1 - y, z - y)."""
        terms = sorted(expr.args, key=lambda term: bool(term.could_extract_minus_sign()))
        out = ""
        for i, term in enumerate(terms):
            negative = term.could_extract_minus_sign()
            unsigned = self._unsigned(term) if negative else term
            shown = self._print(unsigned)
            if negative and (isinstance(unsigned, MatAdd) or unsigned.could_extract_minus_sign()):
                shown = f"{self.PARENS[0]}{shown}{self.PARENS[1]}"  # − (a − b), − (−a): not −−a
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
        """The scalar formula with its variable shown as the matrix argument (parenthesised
        unless the argument is a single symbol, so that exp(-x) never reads exp(-a + b))."""
        var = expr.function.variables[0]
        shown = self._print(expr.arg)
        if not isinstance(expr.arg, sp.MatrixSymbol):
            shown = f"{self.PARENS[0]}{shown}{self.PARENS[1]}"
        return self._print(expr.function.expr.subs(var, sp.Symbol(shown)))

    def _print_Partial(self, expr):
        num, den = expr.args
        top = self._print(num)
        if not isinstance(num, (sp.MatrixSymbol, sp.Symbol)):
            top = f"{self.PARENS[0]}{top}{self.PARENS[1]}"
        return self._fraction(top, self._print(den))

    def _print_Plus(self, expr):
        return " + ".join(self._print(a) for a in expr.args)

    def _print_VJP(self, expr):
        row, jac = expr.args
        if isinstance(row, Partial):
            return f"{self._print(row)} {self._print(jac)}"
        return f"{self._wrap(row, (HadamardProduct, MatAdd), self.BRACKETS)} {self._print(jac)}"
