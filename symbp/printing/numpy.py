"""NumPy code for the batch pass: samples are columns, `@` for matrix products, `*` for Hadamard.

Element-wise formulas are printed from their SymPy expressions after exact rewrites into forms
that cannot overflow for pre-activations of any size (`STABLE_REWRITES`).
"""

from __future__ import annotations

import sympy as sp
from sympy import OneMatrix
from sympy.codegen.cfunctions import log1p
from sympy.printing.numpy import NumPyPrinter

from ..activations import t
from ..nodes import LogSumExp

_a = sp.Wild("a")
#: (pattern, exact replacement): forms that neither overflow nor call slow ufuncs (logaddexp).
STABLE_REWRITES = (
    # log(1 + e^a) = max(a, 0) + log1p(e^-|a|)
    (sp.log(1 + sp.exp(_a)), lambda a: sp.Max(a, 0) + log1p(sp.exp(-sp.Abs(a)))),
    # 1 / (1 + e^-a) = (1 + tanh(a / 2)) / 2
    (1 / (1 + sp.exp(-_a)), lambda a: (1 + sp.tanh(a / 2)) / 2),
)


def stable(expr: sp.Expr) -> sp.Expr:
    """Rewrite overflow-prone subexpressions into log-sum-exp forms (same value, exactly)."""
    for pattern, replacement in STABLE_REWRITES:
        expr = expr.replace(
            lambda e, p=pattern: e.match(p) is not None,
            lambda e, p=pattern, r=replacement: r(e.match(p)[_a]),
        )
    return expr


class SymbpNumPyPrinter(NumPyPrinter):
    def __init__(self, activations: dict):
        super().__init__({"fully_qualified_modules": True, "allow_unknown_functions": False})
        self.activations = activations  # layer j -> its Activation

    def _module_format(self, fqn, register=True):
        text = super()._module_format(fqn, register)
        return "np." + text[len("numpy.") :] if text.startswith("numpy.") else text

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
        return f"np.sum({self._print(expr.arg)})"

    def _print_Stack(self, expr):
        top, bottom = expr.args
        if isinstance(bottom, OneMatrix):  # [Z; 1^T]: a row of ones in Z's dtype
            z = self._print(top)
            bottom_text = f"np.ones((1, {z}.shape[1]), dtype={z}.dtype)"
        else:
            bottom_text = self._print(bottom)
        return f"np.vstack([{self._print(top)}, {bottom_text}])"

    def _print_LeastSquares(self, expr):
        A, T, B = (self._wrap(a) for a in expr.args)
        inner = (
            T
            if isinstance(expr.args[0], sp.Identity)
            else f"np.linalg.lstsq({A}, {T}, rcond=None)[0]"
        )
        return f"np.linalg.lstsq({B}.T, {inner}.T, rcond=None)[0].T"

    def _print_LogSumExp(self, expr):
        return f"np.logaddexp.reduce({self._print(expr.arg)}, axis=0, keepdims=True)"

    def _print_Sigma(self, expr):
        if self.activations[expr.layer].kind == "softmax":  # exp(u - lse(u)): never overflows
            arg = self._wrap(expr.arg)
            return f"np.exp({arg} - {self._print(LogSumExp(expr.arg))})"
        sigma, arg = self.activations[expr.layer].expr, self._wrap(expr.arg)
        text = self._print(stable(sigma).subs(t, sp.Symbol(arg)))
        if not sigma.has(t) or (sigma.is_Piecewise and all(v.is_Number for v, _ in sigma.args)):
            text = f"{text}.astype({arg}.dtype)"  # a mask or constant: values in the data's dtype
        return text

    def _print_Elementwise(self, expr):
        var = expr.function.variables[0]
        arg = self._wrap(expr.arg)
        body = stable(expr.function.expr).subs(var, sp.Symbol(arg))
        text = self._print(body)
        indicator = isinstance(body, sp.Piecewise) and {v for v, _ in body.args} == {0, 1}
        if body.has(sp.Piecewise) and not indicator:  # np.where of Python constants is float64
            text = f"{text}.astype({arg}.dtype, copy=False)"
        return text

    def _print_Max(self, expr):
        a, *rest = expr.args
        return (
            self._print(a)
            if not rest
            else f"np.maximum({self._print(a)}, {self._print(sp.Max(*rest))})"
        )

    def _print_Heaviside(self, expr):
        arg = self._print(expr.args[0])
        at_zero = expr.subs(expr.args[0], 0)  # SymPy's H(0), 1/2 unless the formula says otherwise
        if at_zero == sp.S.Half:  # H(a) = (sign(a) + 1) / 2 exactly, and 5x faster than heaviside
            return f"(np.sign({arg}) + 1) / 2"
        return f"np.heaviside({arg}, {self._print(at_zero)})"

    def _print_Piecewise(self, expr):
        *branches, (last, cond) = expr.args
        if cond != sp.true:
            return super()._print_Piecewise(expr)
        if len(branches) == 1 and last == 0:
            value, condition = branches[0]
            if value == 1:  # an indicator: a bool mask
                return self._print(condition)
            if condition == (value > 0):  # x if x > 0 else 0 is max(x, 0)
                return f"np.maximum({self._print(value)}, 0)"
        out = self._print(last)
        for value, cond in reversed(branches):
            out = f"np.where({self._print(cond)}, {self._print(value)}, {out})"
        return out

    def _print_Mul(self, expr):
        num, den = sp.fraction(expr)
        if den != 1:
            return f"{self._operand(num)} / {self._operand(den)}"
        coeff, rest = expr.as_coeff_Mul()
        if coeff == -1:
            return f"-{self._operand(rest)}"
        return " * ".join(self._operand(f) for f in expr.as_ordered_factors())

    def _operand(self, expr):
        text = self._print(expr)
        wrap = (
            expr.is_Add
            or (expr.is_Number and expr < 0)
            or (expr.is_Pow and not expr.base.is_Symbol)
        )
        return f"({text})" if wrap else text

    def _print_Pow(self, expr, rational=False):
        if expr.exp.is_Integer and expr.exp < 0:
            return f"1 / {self._operand(sp.Pow(expr.base, -expr.exp))}"
        if expr.exp.is_Integer and expr.exp > 0:
            simple = expr.base.is_Symbol or expr.base.is_Number
            base = self._print(expr.base) if simple else f"({self._print(expr.base)})"
            return f"{base}**{expr.exp}" if simple else f"{base} ** {expr.exp}"
        return super()._print_Pow(expr, rational=rational)

    def _print_Rational(self, expr):
        return f"{expr.p} / {expr.q}"

    def _print_log1p(self, expr):
        return f"np.log1p({self._print(expr.args[0])})"


def code(expr, activations: dict) -> str:
    return SymbpNumPyPrinter(activations).doprint(expr)
