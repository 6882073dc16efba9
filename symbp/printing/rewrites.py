"""Exact, backend-neutral rewrites (SymPy to SymPy) that let float64 evaluate a formula without
overflow.  Every printer of code applies them; none of them knows how an array library spells a
function.

`REWRITES` is data: each entry is a pattern and a replacement equal to it for every real value of
the pattern's variable (tests/test_stability.py proves each one with SymPy).  When they are not
enough (a rational function of exp(g t), such as the swish derivative
(t + e^t + 1) e^t / (e^t + 1)^2), `tanh_form` writes every exp(k t) through T = tanh(g t / 2), a
bounded quantity; `fuse_elementwise` turns an element-wise matrix formula that lift() split into
pieces (e^u ∘ (u + e^u + 1) ∘ …) back into one scalar formula, so that it can be rewritten whole.
Which candidate a printer keeps is decided by `printing.float64`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy import HadamardPower, HadamardProduct, MatAdd, MatMul, OneMatrix, ZeroMatrix
from sympy.codegen.cfunctions import log1p

from ..graph.nodes import Elementwise, LogSumExp

_a = sp.Wild("a")
_n = sp.Wild("n", properties=[lambda k: k.is_number and k.is_negative])


@dataclass(frozen=True)
class Rewrite:
    """`pattern` (in the wilds a, n) equals `replacement` for every real a."""

    name: str
    pattern: sp.Expr
    replacement: sp.Expr


#: Exact, backend-neutral rewrites, applied in this order.
REWRITES = (
    # log(1 + e^a) = max(a, 0) + log1p(e^-|a|)
    Rewrite("softplus", sp.log(1 + sp.exp(_a)), sp.Max(_a, 0) + log1p(sp.exp(-sp.Abs(_a)))),
    # 1 / (1 + e^-a) = (1 + tanh(a / 2)) / 2: one ufunc, no overflow
    Rewrite("sigmoid", 1 / (1 + sp.exp(-_a)), (1 + sp.tanh(_a / 2)) / 2),
    # log cosh a = |a| + log1p(e^-2|a|) - log 2
    Rewrite(
        "log cosh",
        sp.log(sp.cosh(_a)),
        sp.Abs(_a) + log1p(sp.exp(-2 * sp.Abs(_a))) - sp.log(2),
    ),
    # sech a = 2 e^-|a| / (1 + e^-2|a|), to any negative power n
    Rewrite(
        "sech",
        sp.cosh(_a) ** _n,
        (2 * sp.exp(-sp.Abs(_a)) / (1 + sp.exp(-2 * sp.Abs(_a)))) ** -_n,
    ),
)


def heaviside_as_sign(expr: sp.Expr) -> sp.Expr:
    """`expr` with each H(a) whose value at 0 is 1/2 (SymPy's default) written (sign(a) + 1) / 2:
    equal for every real a, and one cheap function instead of a two-argument one."""

    def rewrite(*args):
        h = sp.Heaviside(*args)
        at_zero = h.func(0, *args[1:])
        return (sp.sign(args[0]) + 1) / 2 if at_zero == sp.S.Half else h

    return expr.replace(sp.Heaviside, rewrite)


def positive_part_as_max(expr: sp.Expr) -> sp.Expr:
    """`expr` with each (a if a > 0 else 0) written max(a, 0): equal for every real a."""

    def positive_part(e) -> bool:
        if not isinstance(e, sp.Piecewise) or len(e.args) != 2:
            return False
        (value, condition), (last, otherwise) = e.args
        return otherwise == sp.true and last == 0 and condition == (value > 0)

    return expr.replace(positive_part, lambda e: sp.Max(e.args[0][0], 0))


#: Exact, backend-neutral rewrites that are functions rather than patterns, applied after
#: `REWRITES` (tests/test_backends.py checks each one against SymPy at 50 digits).
FUNCTION_REWRITES = (heaviside_as_sign, positive_part_as_max)


def apply_rewrites(expr: sp.Expr) -> sp.Expr:
    """`expr` with every match of `REWRITES` and every `FUNCTION_REWRITES` rewrite applied
    (same value, exactly)."""
    for rule in REWRITES:
        expr = expr.replace(
            lambda e, p=rule.pattern: e.match(p) is not None,
            lambda e, r=rule: r.replacement.xreplace(e.match(r.pattern)),
        )
    for rewrite in FUNCTION_REWRITES:
        expr = rewrite(expr)
    return expr


def softmax_form(u):
    """softmax of each column of the matrix `u` as exp(u - lse(u)) entry-wise, lse(u) the column's
    log-sum-exp: equal to e^u / 1ᵀe^u, and never overflows (every exponent is <= 0)."""
    x = sp.Dummy("x", real=True)
    return Elementwise(sp.Lambda(x, sp.exp(x)), MatAdd(u, -LogSumExp(u), evaluate=False))


MAX_OPS = 120  #: the largest formula `tanh_form` rewrites


def _exp_frequency(arg: sp.Expr, x: sp.Symbol) -> sp.Rational | None:
    """k when `arg` is k*x with k rational, else None."""
    k, rest = arg.as_coeff_Mul()
    return k if rest == x and k.is_Rational else None


def tanh_form(expr: sp.Expr, x: sp.Symbol) -> sp.Expr | None:
    """`expr` with sinh, cosh, tanh and exp of rational multiples k x of `x` written through
    T = tanh(g x / 2), g the greatest common divisor of the k (e^{g x} = (1 + T) / (1 - T)), and
    cancelled as a rational function of T; None if `expr` has no such exponential or is larger
    than MAX_OPS operations (cancellation time grows fast with size).  Exact."""
    if sp.count_ops(expr) > MAX_OPS:
        return None
    hyperbolic = {
        sp.tanh: lambda a: (sp.exp(2 * a) - 1) / (sp.exp(2 * a) + 1),
        sp.sinh: lambda a: (sp.exp(a) - sp.exp(-a)) / 2,
        sp.cosh: lambda a: (sp.exp(a) + sp.exp(-a)) / 2,
    }
    for f, in_exp in hyperbolic.items():
        expr = expr.replace(f, in_exp)
    powers = [p for p in expr.atoms(sp.exp) if _exp_frequency(p.args[0], x) is not None]
    if not powers:
        return None
    g = sp.gcd([abs(_exp_frequency(p.args[0], x)) for p in powers])
    E, T = sp.Dummy("E", positive=True), sp.Dummy("T", real=True)
    in_e = expr.xreplace({p: E ** (_exp_frequency(p.args[0], x) / g) for p in powers})
    if in_e.has(sp.exp(g * x)) or not in_e.has(E):
        return None
    try:
        in_t = sp.factor(sp.cancel(in_e.subs(E, (1 + T) / (1 - T))))
    except sp.PolynomialError:  # T also inside a function (a logarithm): no rational form
        return None
    return in_t.subs(T, sp.tanh(g * x / 2))


def _scalar_of(expr, x: sp.Dummy):
    """(scalar formula in x, the matrix it applies to, whether an Elementwise was merged) if
    `expr` is an entry-wise function of one matrix built by lift(); else None."""
    if isinstance(expr, OneMatrix):
        return sp.S.One, None, False
    if isinstance(expr, ZeroMatrix):
        return sp.S.Zero, None, False
    if isinstance(expr, Elementwise):
        var = expr.function.variables[0]
        return expr.function.expr.xreplace({var: x}), expr.arg, True
    if isinstance(expr, (MatAdd, HadamardProduct, HadamardPower, MatMul)):
        scalars = [a for a in expr.args if not getattr(a, "is_Matrix", False)]
        if isinstance(expr, MatMul) and not all(s.is_number for s in scalars):
            return None
        parts = [_scalar_of(a, x) for a in expr.args if getattr(a, "is_Matrix", False)]
        if isinstance(expr, MatMul) and len(parts) != 1:
            return None  # a true matrix product
        if any(p is None for p in parts):
            return None
        args = {p[1] for p in parts if p[1] is not None}
        if len(args) > 1:
            return None
        merged = any(p[2] for p in parts)
        values = [p[0] for p in parts]
        if isinstance(expr, MatAdd):
            scalar = sp.Add(*values)
        elif isinstance(expr, HadamardPower):
            scalar = values[0] ** expr.exp
        else:
            scalar = sp.Mul(*scalars, *values)
        return scalar, next(iter(args), None), merged
    if getattr(expr, "is_Matrix", False):
        return x, expr, False
    return None


def fuse_elementwise(expr):
    """`expr` with every largest subformula that applies one scalar function entry-wise to one
    matrix, and contains an `Elementwise` piece, replaced by a single `Elementwise` node."""
    if not getattr(expr, "is_Matrix", False) or isinstance(expr, Elementwise):
        return expr
    x = sp.Dummy("x", real=True)
    found = _scalar_of(expr, x)
    if found is not None and found[1] is not None and found[2]:
        return Elementwise(sp.Lambda(x, found[0]), found[1])
    args = [fuse_elementwise(a) for a in expr.args]
    if args == list(expr.args):
        return expr
    try:
        return expr.func(*args, evaluate=False)
    except TypeError:
        return expr.func(*args)
