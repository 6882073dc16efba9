"""Exact, backend-neutral rewrites (SymPy to SymPy) that let float64 evaluate a formula without
overflow, and the check that the chosen form really does so.  Every printer of code applies them;
none of them knows how an array library spells a function.

`REWRITES` is data: each entry is a pattern and a replacement equal to it for every real value of
the pattern's variable (tests/test_stability.py proves each one with SymPy).  `stable_form`
applies them; when that is not enough (a formula that is a rational function of exp(g t), such
as the swish derivative (t + e^t + 1) e^t / (e^t + 1)^2), it also tries `tanh_form`, which
writes every exp(k t) through T = tanh(g t / 2), a bounded quantity.  A candidate is kept only if
float64 evaluation of it agrees with SymPy's 50-digit evaluation on `GRID`; `inaccurate_points`
is that check, and `fuse_elementwise` turns an element-wise matrix formula that lift() split into
pieces (e^u ∘ (u + e^u + 1) ∘ …) back into one scalar formula, so that it can be rewritten whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy as sp
from sympy import HadamardPower, HadamardProduct, MatAdd, MatMul, OneMatrix, ZeroMatrix
from sympy.codegen.cfunctions import log1p

from ..budget import within
from ..nodes import Elementwise, LogSumExp

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


#: where a form is checked: 0 and ±10^k for 101 exponents k in [-2, 4]
GRID = np.concatenate([-np.logspace(4, -2, 50), [0.0], np.logspace(-2, 4, 50)])
RTOL, ATOL = 1e-6, 1e-12  #: what "accurate" means: |float64 - exact| <= RTOL |exact| + ATOL
LARGEST = 1e300  #: exact values beyond this are not expected to be representable


@cache
def _numpy_function(expr: sp.Expr, x: sp.Symbol):
    """`expr` as symbp's NumPy printer prints it, as a function of a float64 array."""
    from .numpy import SymbpNumPyPrinter  # the printer imports this module

    namespace = {"np": np, "math": math}
    return sp.lambdify(x, expr, modules=[namespace, "numpy"], printer=SymbpNumPyPrinter({}))


def float64_values(expr: sp.Expr, x: sp.Symbol, points: np.ndarray):
    """`expr` evaluated as printed, at `points`; and a mask of the points where NumPy overflowed,
    divided by zero or made a NaN (each such point is evaluated alone to find it)."""
    f = _numpy_function(expr, x)
    with np.errstate(all="ignore"):
        values = np.broadcast_to(np.asarray(f(points), dtype=float), points.shape).copy()
    warned = np.zeros(points.shape, dtype=bool)
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            f(points)
    except FloatingPointError:
        for i, p in enumerate(points):
            try:
                with np.errstate(over="raise", divide="raise", invalid="raise"):
                    f(np.array([p]))
            except FloatingPointError:
                warned[i] = True
    return values, warned


@cache
def exact_values(expr: sp.Expr, x: sp.Symbol, points: tuple[float, ...]) -> tuple:
    """SymPy's 50-digit values of `expr` at `points`; None where not a finite real."""
    out = []
    for p in points:
        try:
            v = expr.xreplace({x: sp.Float(p, 50)}).evalf(50)
        except (ValueError, TypeError, ZeroDivisionError):
            v = None
        out.append(float(v) if v is not None and v.is_real and v.is_finite else None)
    return tuple(out)


def inaccurate_points(
    exact: sp.Expr, printed: sp.Expr, x: sp.Symbol, points=GRID, inputs=None
) -> np.ndarray:
    """The points p of `points` where float64 evaluation of `printed` at `inputs` (default: the
    points themselves) is not within RTOL/ATOL of `exact` at p, or warns, although the exact
    value is a finite real of magnitude at most LARGEST."""
    inputs = points if inputs is None else inputs
    want = exact_values(exact, x, tuple(float(p) for p in points))
    got, warned = float64_values(printed, x, np.asarray(inputs, dtype=float))
    bad = []
    for p, w, g, warn in zip(points, want, got, warned, strict=True):
        if w is None or abs(w) > LARGEST:
            continue
        if warn or not np.isfinite(g) or abs(g - w) > RTOL * abs(w) + ATOL:
            bad.append(p)
    return np.array(bad)


@cache
def stable_form(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """The first of `expr` with `REWRITES` applied, and the `tanh_form`s of it, that float64
    evaluates accurately on GRID; the first candidate if none does.  Exact in every case.
    (Cached: the check evaluates at 50 digits.)"""
    rewritten = apply_rewrites(expr)
    if x not in expr.free_symbols or expr.has(sp.Piecewise, sp.Heaviside):
        return rewritten  # masks and branches: nothing grows without bound
    candidates = [rewritten]
    for form in (tanh_form(expr, x), tanh_form(rewritten, x)):
        if form is not None:
            candidates.append(apply_rewrites(form))
    for c in candidates:
        if len(candidates) == 1 or not len(inaccurate_points(expr, c, x)):
            return c
    return rewritten


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


CHECK_SECONDS = 10.0  #: CPU-time budget of `float64_trouble` for one activation


def float64_trouble(activation) -> str | None:
    """Why the emitted sigma or sigma' of an element-wise `activation` cannot be trusted in
    float64 (the pre-activations on GRID, within [-1e4, 1e4], where it overflows or is not
    accurate although the exact value is representable), or None if both are accurate there.
    sigma' is checked as the module computes it: from z = sigma(u) when it is written in z.
    A check that needs more than `CHECK_SECONDS` of CPU time (50-digit values of a tower of
    powers, say) is a reason too: what could not be checked is not emitted."""
    return within(
        CHECK_SECONDS,
        lambda: _float64_trouble(activation),
        lambda: (
            f"sigma and sigma' could not be checked within {CHECK_SECONDS:g} s of CPU time "
            "against SymPy at 50 digits on [-1e4, 1e4]; write a simpler formula"
        ),
    )


def _float64_trouble(activation) -> str | None:
    from ..activations import derivative, s, t

    sigma = stable_form(activation.expr, t)
    d = derivative(activation)
    prime = stable_form(d.expr, d.var).xreplace({s: sigma}) if d.of_output else None
    prime = stable_form(d.expr, t) if prime is None else prime
    for what, exact, printed in (("sigma", activation.expr, sigma), ("sigma'", d.raw, prime)):
        if t not in printed.free_symbols:
            continue
        bad = inaccurate_points(exact, printed, t)
        if len(bad):
            return (
                f"{what}(u) as emitted overflows or loses float64 accuracy for u in "
                f"[{bad.min():.4g}, {bad.max():.4g}] (checked on [-1e4, 1e4] against SymPy at "
                "50 digits); write the formula so that it stays finite there, e.g. with "
                "exp(-Abs(t))"
            )
    return None
