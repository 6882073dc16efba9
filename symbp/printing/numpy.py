"""NumPy code for the batch pass: samples are columns, `@` for matrix products, `*` for Hadamard.

This module is NumPy spelling only.  The mathematics it prints arrives rewritten by
`rewrites` (backend-neutral, exact): element-wise formulas in forms that float64 evaluates
without overflow (`stable_form`), softmax through log-sum-exp (`softmax_form`), pieces that
lift() split fused back into one formula (`fuse_elementwise`).  The array module's name is the
class attribute `module`: a backend for another array library (CuPy, JAX, PyTorch) subclasses
the printer, sets `module` and overrides the few methods whose spelling differs.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy import OneMatrix
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE, precedence

from ..catalog.activations import t
from .float64 import stable_form
from .rewrites import fuse_elementwise, softmax_form


class SymbpNumPyPrinter(NumPyPrinter):
    module = "np"  #: the array module's name in printed code (``import numpy as np``)

    def __init__(self, activations: dict):
        super().__init__({"fully_qualified_modules": True, "allow_unknown_functions": False})
        self.activations = activations  # layer j -> its Activation

    def _fn(self, name: str) -> str:
        """`name` of the array module as printed code calls it: ``np.maximum``."""
        return f"{self.module}.{name}"

    def _module_format(self, fqn, register=True):
        text = super()._module_format(fqn, register)
        return self._fn(text[len("numpy.") :]) if text.startswith("numpy.") else text

    def _print_MatrixSymbol(self, expr):
        return expr.name

    def _print_Symbol(self, expr):
        return expr.name

    def _wrap(self, expr):
        text = self._print(expr)
        simple = isinstance(expr, (sp.MatrixSymbol, sp.Symbol, sp.Transpose)) or expr.is_Number
        return text if simple else f"({text})"

    def _print_Transpose(self, expr):
        return f"{self._wrap(expr.arg)}.T"

    def _print_MatAdd(self, expr):
        out = []
        for i, term in enumerate(expr.args):
            negative = term.could_extract_minus_sign()
            text = self._print(-term if negative else term)
            out.append(
                ("-" if i == 0 else " - ") + text if negative else (" + " if i else "") + text
            )
        return "".join(out)

    def _print_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        factors = list(factors)
        if isinstance(factors[0], OneMatrix) and len(factors) == 2:  # 1 1^T A: column sums
            body = f"{self._wrap(factors[1])}.sum(axis=0, keepdims=True)"
            return body if coeff == 1 else f"{self._print(coeff)} * {body}"
        tail = ""
        if isinstance(factors[-1], OneMatrix):
            if factors[-1].shape[1] == 1:  # A 1 = row sums of A
                tail = ".sum(axis=1, keepdims=True)"
            factors.pop()  # b 1^T broadcasts as b
        if not factors:  # c 1: the constant c, which broadcasts
            return self._print(coeff)
        if len(factors) > 1:
            body = " @ ".join(self._wrap(m) for m in factors)
            body = f"({body}){tail}" if tail else body
        else:
            body = self._wrap(factors[0]) + tail
        if coeff == 1:
            return body
        if coeff.is_Pow and coeff.exp == -1:
            return f"{body} / {self._print(coeff.base)}"
        return f"{self._print(coeff)} * {body}"

    def _print_HadamardProduct(self, expr):
        return " * ".join(self._wrap(a) for a in expr.args)

    def _print_HadamardPower(self, expr):
        base = self._wrap(expr.base)
        return f"{base}**{expr.exp}" if base.isidentifier() else f"{base} ** {expr.exp}"

    def _print_OneMatrix(self, expr):
        return "1"

    def _print_ElementSum(self, expr):
        return f"{self._fn('sum')}({self._print(expr.arg)})"

    def _print_Stack(self, expr):
        top, bottom = expr.args
        if isinstance(bottom, OneMatrix):  # [Z; 1^T]: a row of ones in Z's dtype
            z = self._print(top)
            bottom_text = f"{self._fn('ones')}((1, {z}.shape[1]), dtype={z}.dtype)"
        else:
            bottom_text = self._print(bottom)
        return f"{self._fn('vstack')}([{self._print(top)}, {bottom_text}])"

    def _print_LeastSquares(self, expr):
        A, T, B = (self._wrap(a) for a in expr.args)
        lstsq = self._fn("linalg.lstsq")
        inner = T if isinstance(expr.args[0], sp.Identity) else f"{lstsq}({A}, {T}, rcond=None)[0]"
        return f"{lstsq}({B}.T, {inner}.T, rcond=None)[0].T"

    def _print_LogSumExp(self, expr):
        return f"{self._fn('logaddexp.reduce')}({self._print(expr.arg)}, axis=0, keepdims=True)"

    def _print_Sigma(self, expr):
        if self.activations[expr.layer].kind == "softmax":
            return self._print(softmax_form(expr.arg))
        sigma, arg = self.activations[expr.layer].expr, self._wrap(expr.arg)
        body = stable_form(sigma, t, type(self)).subs(t, sp.Symbol(arg))
        text = self._print(body)
        constant = not sigma.has(t)
        mask = sigma.is_Piecewise and all(v.is_Number for v, _ in sigma.args)
        if constant or mask or body.has(sp.erf):  # values in the data's dtype
            text = f"{_postfix_operand(text)}.astype({arg}.dtype)"
        return text

    def _print_Elementwise(self, expr):
        var = expr.function.variables[0]
        body = stable_form(expr.function.expr, var, type(self))
        call = isinstance(body, sp.Function) and body.args == (var,)  # f(u): u needs no parens
        arg = self._wrap(expr.arg)
        body = body.subs(var, sp.Symbol(self._print(expr.arg) if call else arg))
        text = self._print(body)
        indicator = isinstance(body, sp.Piecewise) and {v for v, _ in body.args} == {0, 1}
        float64 = (body.has(sp.Piecewise) and not indicator) or body.has(sp.erf)
        if float64:  # np.where of Python constants and math.erf are float64
            text = f"{_postfix_operand(text)}.astype({arg}.dtype, copy=False)"
        return text

    def _pairwise(self, name: str, args) -> str:
        """`name`(a, `name`(b, ...)) of the array module; constants last: maximum(u, 0)."""
        a, *rest = sorted(args, key=lambda e: bool(e.is_number))
        if not rest:
            return self._print(a)
        return f"{self._fn(name)}({self._print(a)}, {self._pairwise(name, rest)})"

    def _print_Max(self, expr):
        return self._pairwise("maximum", expr.args)

    def _print_Min(self, expr):
        return self._pairwise("minimum", expr.args)

    def _print_Heaviside(self, expr):
        at_zero = expr.func(0, *expr.args[1:])  # SymPy's H(0), 1/2 unless the formula says so
        return f"{self._fn('heaviside')}({self._print(expr.args[0])}, {self._print(at_zero)})"

    def _print_Piecewise(self, expr):
        *branches, (last, cond) = expr.args
        if cond != sp.true:
            return super()._print_Piecewise(expr)
        if len(branches) == 1 and last == 0 and branches[0][0] == 1:  # an indicator: a bool mask
            return self._print(branches[0][1])
        out = self._print(last)
        for value, cond in reversed(branches):
            out = f"{self._fn('where')}({self._print(cond)}, {self._print(value)}, {out})"
        return out

    def _print_erf(self, expr):
        """math.erf entry-wise (correctly rounded to about 1 ulp; NumPy has no erf).  The result
        is float64; `_print_Elementwise` and `_print_Sigma` cast it back to the data's dtype."""
        vectorize = self._fn("vectorize")
        return f"{vectorize}(math.erf, otypes=[float])({self._print(expr.args[0])})"

    def precedence_of(self, expr) -> int:
        """The Python precedence of the text this printer writes for `expr`, which is not always
        SymPy's: ``1 / 2``, ``1 / x`` and ``-x`` bind looser than SymPy's Rational and Pow."""
        if expr.is_Number and expr.is_negative:
            return PRECEDENCE["Add"]
        if expr.is_Rational and not expr.is_Integer:
            return PRECEDENCE["Mul"]
        if expr.is_Mul:
            return PRECEDENCE["Add" if expr.could_extract_minus_sign() else "Mul"]
        if expr.is_Pow:
            if expr.exp.is_number and expr.exp.is_negative:
                return PRECEDENCE["Mul"]  # 1 / x**2, 1 / np.sqrt(x)
            if expr.exp == sp.S.Half:
                return PRECEDENCE["Atom"]  # np.sqrt(x)
        return precedence(expr)

    def parenthesize(self, item, level, strict=False):
        p = self.precedence_of(item)
        wrap = p < level or (not strict and p <= level)
        return f"({self._print(item)})" if wrap else self._print(item)

    def _print_Mul(self, expr):
        """Numerator factors joined by `*`, then one `/` and the denominator (parenthesised when
        it is a product); a factor exp(-a) stays in the numerator (exp(-a) underflows where
        1 / exp(a) overflows)."""
        if expr.could_extract_minus_sign():
            return "-" + self.parenthesize(-expr, PRECEDENCE["Mul"], strict=True)
        num, den = [], []
        for f in expr.as_ordered_factors():
            if f.is_Rational and f.q != 1:
                num += [] if f.p == 1 else [sp.Integer(f.p)]
                den.append(sp.Integer(f.q))
            elif f.is_Pow and f.exp.is_Rational and f.exp.is_negative:
                den.append(_reciprocal(f))
            else:
                num.append(f)
        top = " * ".join(self.parenthesize(f, PRECEDENCE["Mul"], strict=True) for f in num)
        if not den:
            return top
        mul = PRECEDENCE["Mul"]
        if len(den) == 1:
            bottom = self.parenthesize(den[0], mul)
        else:
            bottom = "({})".format(" * ".join(self.parenthesize(f, mul, strict=True) for f in den))
        return f"{top or '1'} / {bottom}"

    def _print_Pow(self, expr, rational=False):
        """np.sqrt for square roots, ``1 / x**n`` for negative exponents, else ``**`` spaced as
        ruff formats it (hugging only names, numbers and attributes)."""
        base, exp = expr.base, expr.exp
        if exp == sp.S.Half:
            return f"{self._fn('sqrt')}({self._print(base)})"
        if exp.is_number and exp.is_negative:
            return f"1 / {self.parenthesize(_reciprocal(expr), PRECEDENCE['Mul'])}"
        left = self.parenthesize(base, PRECEDENCE["Pow"])
        right = self.parenthesize(exp, PRECEDENCE["Pow"])
        hug = all(re.fullmatch(r"-?[A-Za-z0-9_.]+", side) for side in (left, right))
        return f"{left}**{right}" if hug else f"{left} ** {right}"

    def _print_Rational(self, expr):
        return f"{expr.p} / {expr.q}"

    def _print_log1p(self, expr):
        return f"{self._fn('log1p')}({self._print(expr.args[0])})"


def _reciprocal(power: sp.Pow) -> sp.Expr:
    """1 / `power` as base**(-exp), left unevaluated (no new simplification, no zoo)."""
    return power.base if power.exp == -1 else sp.Pow(power.base, -power.exp, evaluate=False)


def _postfix_operand(text: str) -> str:
    """`text` ready for a postfix such as ``.astype(...)``: parenthesised unless it is a name or
    a single call, to which the postfix applies as a whole."""
    name = re.match(r"[A-Za-z_][\w.]*", text)
    rest = text[name.end() :] if name else text
    if name and not rest:
        return text
    if name and rest.startswith("("):
        depth = 0
        for i, c in enumerate(rest):
            depth += {"(": 1, ")": -1}.get(c, 0)
            if depth == 0:
                return text if i == len(rest) - 1 else f"({text})"
    return f"({text})"


def code(expr, activations: dict, printer: type[SymbpNumPyPrinter] = SymbpNumPyPrinter) -> str:
    """Code for `expr` (`activations`: layer j -> its Activation, for `Sigma` nodes), printed by
    `printer` (a backend's printer class; NumPy by default)."""
    return printer(activations).doprint(fuse_elementwise(expr))
