"""NumPy code for the batch pass: samples are columns, `@` for matrix products, `*` for Hadamard.

This module is NumPy spelling only.  The mathematics it prints arrives rewritten by
`rewrites` (backend-neutral, exact): element-wise formulas in forms that float64 evaluates
without overflow (`stable_form`), softmax through log-sum-exp (`softmax_form`), pieces that
lift() split fused back into one formula (`fuse_elementwise`).  The array module's name is the
class attribute `module`: a backend for another array library (CuPy, JAX, PyTorch) subclasses
the printer, sets `module` and overrides the few methods whose spelling differs.
"""

from __future__ import annotations

import math
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
    #: the printer whose NumPy evaluation stands for this one's in float64 accuracy checks
    #: (`float64.stable_form`); None: this printer's own spelling, evaluated with NumPy
    float64_printer: type | None = None

    @classmethod
    def accuracy_printer(cls) -> type:
        """The printer class whose spelling float64 checks evaluate for this one."""
        return cls.float64_printer or cls

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
        """The array's ``.sum()`` method (the function `sum` of the array module costs a
        Python-level wrapper per call)."""
        return f"{_postfix_operand(self._print(expr.arg))}.sum()"

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
        return self.activation_code(self.activations[expr.layer], expr.arg)

    def activation_code(self, activation, arg_expr) -> str:
        """`activation` (a catalog `Activation`) applied entry-wise to `arg_expr`, in the data's
        dtype; softmax column by column."""
        if activation.kind == "softmax":
            return self._print(softmax_form(arg_expr))
        sigma, arg = activation.expr, self._wrap(arg_expr)
        body = stable_form(sigma, t, self.accuracy_printer()).subs(t, sp.Symbol(arg))
        text = self._print(body)
        constant = not sigma.has(t)
        mask = sigma.is_Piecewise and all(v.is_Number for v, _ in sigma.args)
        if constant or mask or body.has(sp.erf):  # values in the data's dtype
            text = f"{_postfix_operand(text)}.astype({arg}.dtype)"
        return text

    def _print_Elementwise(self, expr):
        var = expr.function.variables[0]
        body = stable_form(expr.function.expr, var, self.accuracy_printer())
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


class Unhandled(Exception):
    """`inplace_code` has no in-place form for an expression (the caller prints it instead)."""


#: SymPy functions whose NumPy ufunc of the same effect writes through ``out=``.
_UFUNCS = {
    sp.tanh: "tanh",
    sp.exp: "exp",
    sp.log: "log",
    sp.sin: "sin",
    sp.cos: "cos",
    sp.sinh: "sinh",
    sp.cosh: "cosh",
    sp.atan: "arctan",
    sp.Abs: "absolute",
}
_INPUT = object()  #: an operand of `_chain`: the array the chain reads


def _chain(body, var) -> list[tuple[str, object]]:
    """`body`, a scalar formula in `var`, as ufuncs applied one after the other to one array:
    [(name, operand)] with operand None (unary), a SymPy constant, or `_INPUT` (the array the
    chain started from).  Raises Unhandled for a formula that needs two arrays at once."""
    if body == var:
        return []
    if isinstance(body, (sp.Add, sp.Mul)):
        const, rest = body.as_independent(var, as_Add=body.is_Add)
        name, unit = ("add", 0) if body.is_Add else ("multiply", 1)
        tail = [] if const == unit else [(name, const)]
        if rest.func is not body.func:
            return [*_chain(rest, var), *tail]
        factors = list(rest.args)  # two or more terms in var: only var * chain(var) works
        if body.is_Add or var not in factors:
            raise Unhandled(body)
        factors.remove(var)
        return [*_chain(sp.Mul(*factors), var), ("multiply", _INPUT), *tail]
    if isinstance(body, sp.Pow) and body.exp.is_number:
        unary = {2: "square", sp.S.Half: "sqrt", -1: "reciprocal"}.get(body.exp)
        if unary is None:
            raise Unhandled(body)
        return [*_chain(body.base, var), (unary, None)]
    if isinstance(body, sp.Piecewise) and _indicator(body) is not None:
        name, relation = _indicator(body)
        if relation.rhs.has(var):
            raise Unhandled(body)
        return [*_chain(relation.lhs, var), (name, relation.rhs)]
    if isinstance(body, (sp.Max, sp.Min)) and len(body.args) == 2:
        const, rest = _split_pair(body, var)
        return [*_chain(rest, var), ("maximum" if isinstance(body, sp.Max) else "minimum", const)]
    if type(body) in _UFUNCS and len(body.args) == 1:
        return [*_chain(body.args[0], var), (_UFUNCS[type(body)], None)]
    raise Unhandled(body)


_COMPARISONS = {
    sp.StrictGreaterThan: "greater",
    sp.GreaterThan: "greater_equal",
    sp.StrictLessThan: "less",
    sp.LessThan: "less_equal",
}


def _indicator(body):
    """(comparison ufunc, relation) of an indicator Piecewise((1, relation), (0, True))."""
    if len(body.args) != 2 or body.args[1] != (0, sp.true) or body.args[0][0] != 1:
        return None
    relation = body.args[0][1]
    name = _COMPARISONS.get(type(relation))
    return None if name is None else (name, relation)


def _split_pair(body, var):
    """(constant, formula) of a two-argument Max or Min with exactly one constant argument."""
    a, b = body.args
    if a.has(var) == b.has(var):
        raise Unhandled(body)
    return (b, a) if a.has(var) else (a, b)


class _Inplace:
    """Statements writing a matrix expression into an existing array (see `inplace_code`)."""

    def __init__(
        self, printer: SymbpNumPyPrinter, ones: str | None = None, zeros: str | None = None
    ):
        self.p, self.ones, self.zeros = printer, ones, zeros

    def text(self, expr) -> str:
        return self.p.doprint(fuse_elementwise(expr))

    def simple(self, expr) -> bool:
        plain = (sp.MatrixSymbol, OneMatrix)
        return isinstance(expr, plain) or (
            isinstance(expr, sp.Transpose) and isinstance(expr.arg, sp.MatrixSymbol)
        )

    def call(self, name: str, *operands: str, out: str) -> str:
        return f"{self.p._fn(name)}({', '.join(operands)}, out={out})"

    def into(self, out: str, expr) -> list[str]:
        if isinstance(expr, sp.MatrixSymbol):
            return [f"{self.p._fn('copyto')}({out}, {self.text(expr)})"]
        if isinstance(expr, sp.HadamardPower) and expr.exp == 2 and self.simple(expr.base):
            return [self.call("square", self.text(expr.base), out=out)]
        if isinstance(expr, sp.MatMul):
            return self.matmul(out, expr)
        if isinstance(expr, sp.MatAdd):
            return self.matadd(out, expr)
        if isinstance(expr, sp.HadamardProduct):
            return self.hadamard(out, expr)
        if type(expr).__name__ in ("Sigma", "Elementwise"):
            return self.elementwise(out, expr)
        raise Unhandled(expr)

    def scaled(self, out: str, coeff) -> list[str]:
        return [] if coeff == 1 else [self.call("multiply", out, self.text(coeff), out=out)]

    def matmul(self, out: str, expr) -> list[str]:
        coeff, mats = expr.as_coeff_matrices()
        if len(mats) == 2 and isinstance(mats[1], OneMatrix) and mats[1].shape[1] == 1:
            if not self.simple(mats[0]):
                raise Unhandled(expr)  # A 1: row sums of A
            a = self.text(mats[0])
            if self.ones is None:
                lines = [f"{self.p._fn('add.reduce')}({a}, axis=1, keepdims=True, out={out})"]
            else:  # A 1 as written: a matrix-vector product (BLAS), cheaper than a reduction
                lines = [self.call("matmul", a, self.ones, out=out)]
        elif len(mats) == 2 and not any(isinstance(m, OneMatrix) for m in mats):
            if not all(self.simple(m) for m in mats):
                raise Unhandled(expr)
            lines = [self.call("matmul", *(self.text(m) for m in mats), out=out)]
        elif len(mats) == 1:
            lines = self.into(out, mats[0])
        else:
            raise Unhandled(expr)
        return lines + self.scaled(out, coeff)

    def matadd(self, out: str, expr) -> list[str]:
        terms = sorted(expr.args, key=lambda e: (e.could_extract_minus_sign(), self.simple(e)))
        first, *rest = terms
        if self.simple(first) and not first.could_extract_minus_sign() and rest:
            second, *rest = rest
            if second.could_extract_minus_sign() and not self.simple(-second):
                lines = self.into(out, -second)  # a - B: B first, then a - out in place
                lines.append(self.call("subtract", self.text(first), out, out=out))
            elif second.could_extract_minus_sign():
                lines = [self.call("subtract", self.text(first), self.text(-second), out=out)]
            else:
                lines = [self.call("add", self.text(first), self.text(second), out=out)]
        else:
            lines = self.into(out, first)
        for term in rest:
            if term.could_extract_minus_sign():
                lines.append(self.call("subtract", out, self.text(-term), out=out))
            else:
                lines.append(self.call("add", out, self.text(term), out=out))
        return lines

    def hadamard(self, out: str, expr) -> list[str]:
        args = sorted(expr.args, key=self.simple)
        first, *rest = args
        if self.simple(first):
            second, *rest = rest
            lines = [self.call("multiply", self.text(first), self.text(second), out=out)]
        else:
            lines = self.into(out, first)
        return lines + [self.call("multiply", out, self.text(a), out=out) for a in rest]

    def constant(self, ufunc: str, operand) -> str:
        """A constant operand of `ufunc`: the array `zeros` for 0 in maximum and minimum
        (NumPy's loops for two arrays are vectorised, those against a scalar are not)."""
        if self.zeros is not None and operand == 0 and ufunc in ("maximum", "minimum"):
            return self.zeros
        return self.text(operand)

    def elementwise(self, out: str, expr) -> list[str]:
        if type(expr).__name__ == "Sigma":
            activation = self.p.activations[expr.layer]
            if activation.kind == "softmax":
                raise Unhandled(expr)
            var, body = t, stable_form(activation.expr, t, type(self.p))
        else:
            var = expr.function.variables[0]
            body = stable_form(expr.function.expr, var, type(self.p))
        indicator = isinstance(body, sp.Piecewise) and _indicator(body) is not None
        if (body.has(sp.Piecewise) and not indicator) or body.has(sp.erf, sp.Heaviside):
            raise Unhandled(expr)
        if not body.has(var):
            raise Unhandled(expr)
        if not self.simple(expr.arg):
            raise Unhandled(expr)
        ops, source, lines = _chain(body, var), self.text(expr.arg), []
        if not ops:
            raise Unhandled(expr)  # the identity: the caller binds the name
        for name, operand in ops:
            first = source if not lines else out
            if operand is None:
                lines.append(self.call(name, first, out=out))
            else:
                arg = source if operand is _INPUT else self.constant(name, operand)
                lines.append(self.call(name, first, arg, out=out))
        return lines


def inplace_code(
    out: str,
    expr,
    activations: dict,
    printer: type[SymbpNumPyPrinter] = SymbpNumPyPrinter,
    ones: str | None = None,
    zeros: str | None = None,
) -> list[str] | None:
    """Statements that write `expr` into the existing array named `out` (its shape and dtype)
    through ``out=`` arguments and in-place ufuncs, allocating nothing for the forms handled:
    matrix products (and row sums A 1), sums, Hadamard products, scalar multiples, and
    entry-wise functions that are chains of ufuncs.  None for any other form (the caller binds
    the printed expression instead).  The formulas are `expr`'s; only the spelling differs.
    `ones`, when given, names an array of ones of shape (N, 1): the row sums A 1 multiply by
    it rather than reduce.  `zeros`, when given, names an array of zeros shaped like `out`: the
    constant 0 of maximum and minimum (as in relu) is read from it."""
    try:
        return _Inplace(printer(activations), ones, zeros).into(out, expr)
    except Unhandled:
        return None


class ScalarPrinter(SymbpNumPyPrinter):
    """Python code for one scalar: the `math` module's functions, builtins max and min,
    conditional expressions; raises Unhandled for anything else a float cannot do."""

    module = "math"

    def _print_Max(self, expr):
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr):
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    def _print_Piecewise(self, expr):
        *branches, (last, cond) = expr.args
        if cond != sp.true:
            raise Unhandled(expr)
        out = self._print(last)
        for value, cond in reversed(branches):
            out = f"({self._print(value)} if {self._print(cond)} else {out})"
        return out

    def _print_Heaviside(self, expr):
        raise Unhandled(expr)

    def _print_Relational(self, expr):
        lhs, rhs = (self.parenthesize(a, PRECEDENCE["Relational"] + 1) for a in expr.args)
        return f"{lhs} {expr.rel_op} {rhs}"

    def _print_erf(self, expr):
        return f"math.erf({self._print(expr.args[0])})"

    def _print_log1p(self, expr):
        return f"math.log1p({self._print(expr.args[0])})"

    def emptyPrinter(self, expr):
        raise Unhandled(expr)


def scalar_code(expr) -> str:
    """`expr`, a formula in scalar symbols, as Python on floats (`ScalarPrinter`); raises
    Unhandled when it needs more than `math` and the builtins."""
    text = ScalarPrinter({}).doprint(expr)
    for name in re.findall(r"\bmath\.(\w+)", text):
        if not hasattr(math, name):
            raise Unhandled(expr)
    if re.search(r"\bnp\.|not supported|#", text):
        raise Unhandled(expr)
    return text


def scalar_lines(name: str, expr, width: int) -> list[str]:
    """Statements binding `name` to the scalar `expr`, each at most `width` characters: a sum
    too long for one line is accumulated over several (``name += ...``)."""
    text = scalar_code(expr)
    if isinstance(expr, sp.Piecewise):  # its parentheses are redundant at the top
        text = text[1:-1]
    whole = f"{name} = {text}"
    if len(whole) <= width:
        return [whole]
    if isinstance(expr, sp.Mul):  # c * (long sum): the sum first, then the factor in place
        sums = [f for f in expr.args if isinstance(f, sp.Add)]
        if len(sums) != 1:
            raise Unhandled(expr)
        others = sp.Mul(*(f for f in expr.args if f is not sums[0]))
        return [*scalar_lines(name, sums[0], width), f"{name} *= {scalar_code(others)}"]
    if not isinstance(expr, sp.Add):
        raise Unhandled(expr)
    lines, current = [], ""
    for term in expr.as_ordered_terms():
        text = scalar_code(term)
        joined = (
            text
            if not current
            else f"{current} - {text[1:]}"
            if text.startswith("-")
            else f"{current} + {text}"
        )
        head = f"{name} = " if not lines else f"{name} += "
        if current and len(head + joined) > width:
            lines.append(head + current)
            head, joined = f"{name} += ", text
        current = joined
    lines.append((f"{name} = " if not lines else f"{name} += ") + current)
    if any(len(line) > width for line in lines):
        raise Unhandled(expr)
    return lines
