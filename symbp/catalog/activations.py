"""Activation registry: name -> scalar SymPy expression sigma(t).

Adding an activation is one line in `ACTIVATIONS`.  Its derivative always comes from `sympy.diff`;
`derivative()` then rewrites it in terms of the output s = sigma(t) where SymPy can, and keeps the
rewrite only after SymPy has checked it equals the raw derivative.

The rewrite and the simplification are optional and may be slow for a user's formula (SymPy's
`solve` can run for many minutes), so each runs under a time budget (`budget.within`) and falls
back to the raw form in t when the budget runs out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import sympy as sp

from .. import budget

REWRITE_SECONDS = 5.0  #: budget for writing sigma' in terms of the output s, with its proof
SIMPLIFY_SECONDS = 5.0  #: budget for choosing the simplest form of sigma' in t
SAMPLE_SECONDS = 5.0  #: budget for evaluating a custom sigma and sigma' at the sample points
FLOAT64_LIMIT = 1e300  #: larger values at a sample point cannot be computed in float64

t = sp.Symbol("t", real=True)  #: the pre-activation variable
s = sp.Symbol("s", real=True)  #: the activation's output, sigma(t)


@dataclass(frozen=True)
class Activation:
    """sigma(t), applied entry-wise; or, for `kind` "softmax", the softmax of the whole column."""

    name: str
    expr: sp.Expr | None  # in t; None for softmax
    init_gain: float = 1.0  # weight scale gain for init (He: sqrt(2) for rectifiers)
    kind: str = "elementwise"  # or "softmax"
    source: str | None = None  # the user's formula text, for a custom activation

    @property
    def elementwise(self) -> bool:
        return self.kind == "elementwise"


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("identity", t),
        Activation("sigmoid", 1 / (1 + sp.exp(-t))),
        Activation("tanh", sp.tanh(t)),
        # relu'(0) = 0, the convention of PyTorch and JAX (SymPy's Max would give H(0) = 1/2)
        Activation("relu", sp.Piecewise((t, t > 0), (0, True)), math.sqrt(2)),
        Activation("leaky_relu", sp.Piecewise((t, t >= 0), (t / 100, True)), math.sqrt(2)),
        Activation("softplus", sp.log(1 + sp.exp(t))),
        # the lecture's binary perceptron: sigma(t) = 1 if t >= 0 else 0
        Activation("step", sp.Piecewise((1, t >= 0), (0, True))),
        Activation("softmax", None, kind="softmax"),
    )
}


@dataclass(frozen=True)
class Derivative:
    """sigma'(t) as SymPy found it, and the form symbp uses.

    `raw` is ``sympy.diff(sigma(t), t)``.  `expr` equals it and is a function of `var`:
    `s` (the layer's output z_j) when a rewrite in terms of the output was proved, else `t` (u_j).
    """

    raw: sp.Expr
    expr: sp.Expr
    var: sp.Symbol

    @property
    def of_output(self) -> bool:
        return self.var == s

    @property
    def is_one(self) -> bool:
        return self.expr == 1

    @property
    def is_zero(self) -> bool:
        """sigma' = 0 wherever it is defined (the step function): gradients cannot move weights."""
        return self.expr == 0


def proved_equal(a: sp.Expr, b: sp.Expr) -> bool:
    """Whether SymPy proves a = b: a - b simplifies to 0, as it is or with every hyperbolic and
    trigonometric function written through exp (simplify alone misses, e.g., swish's
    (t + e^t + 1)/(4 cosh^2(t/2)) = d/dt t/(1 + e^-t))."""
    difference = a - b
    try:
        return any(sp.simplify(form) == 0 for form in (difference, difference.rewrite(sp.exp)))
    except (NotImplementedError, TypeError, ValueError):  # no proof
        return False


def _in_terms_of_output(sigma: sp.Expr, raw: sp.Expr) -> sp.Expr | None:
    """A form of `raw` in s = sigma(t), proved equal, or None."""
    candidates = [raw.subs(sigma, s)]
    try:
        inverse = sp.solve(sp.Eq(s, sigma), t)
        if len(inverse) == 1:
            candidates.append(sp.simplify(raw.subs(t, inverse[0])))
    except (NotImplementedError, TypeError, ValueError):  # no closed-form inverse (Piecewise, ...)
        pass
    known = _functions(sigma) | _functions(raw)
    for cand in candidates:
        cand = sp.factor_terms(sp.simplify(cand))
        if (
            t not in cand.free_symbols
            and s in cand.free_symbols
            and _functions(cand) <= known  # no erfinv, LambertW, ... that sigma did not have
            and proved_equal(cand.subs(s, sigma), raw)
        ):
            return cand
    return None


def _functions(expr: sp.Expr) -> set[type]:
    return {f.func for f in expr.atoms(sp.Function)}


@cache
def derivative(activation: Activation) -> Derivative:
    """sigma' of an element-wise activation (cached: SymPy simplification is slow)."""
    sigma = activation.expr
    raw = sp.diff(sigma, t)
    if t not in raw.free_symbols:
        return Derivative(raw, raw, t)
    of_output = budget.within(
        REWRITE_SECONDS, lambda: _in_terms_of_output(sigma, raw), lambda: None
    )
    if of_output is not None:
        return Derivative(raw, of_output, s)
    return Derivative(raw, _simplest(raw), t)


def _simplest(raw: sp.Expr) -> sp.Expr:
    """The shortest of a few SymPy simplifications of `raw` that agree with it at every sample
    point (t sign(t) = |t| first, which SymPy does not do by itself).  The simplifications are
    tried within `SIMPLIFY_SECONDS`; those not finished by then are left out."""
    unsigned = raw.replace(
        lambda e: e.is_Mul and sp.sign(t) in e.args and t in e.args,
        lambda e: e / (sp.sign(t) * t) * sp.Abs(t),
    )
    attempts = (lambda: sp.factor(sp.together(unsigned)), lambda: sp.simplify(raw))
    agree = []

    def try_all():
        for attempt in attempts:
            c = attempt()
            if all(_same_value(c, raw, p) for p in SAMPLES):
                agree.append(c)

    budget.within(SIMPLIFY_SECONDS, try_all, lambda: None)
    return min([*agree, raw], key=sp.count_ops)


def _same_value(a: sp.Expr, b: sp.Expr, point: sp.Rational) -> bool:
    """a and b agree at t = point to 25 significant digits (False where either is undefined)."""
    try:
        x, y = (e.evalf(30, subs={t: point}) for e in (a, b))
        return bool(abs(x - y) <= sp.Float("1e-25", 30) * max(1, abs(y)))
    except (TypeError, ValueError, ArithmeticError):  # nan, zoo, no comparison possible
        return False


SAMPLES = tuple(sp.Rational(k, 4) for k in range(-20, 21))  #: where a custom sigma is sampled


def undefined_where(activation: Activation) -> str | None:
    """Why a custom activation cannot be emitted (None if it can): sigma or sigma' undefined,
    infinite, complex or beyond float64 at a sample point of [-5, 5], sigma' not a closed
    formula, or the evaluation taking longer than `SAMPLE_SECONDS`."""
    raw = sp.diff(activation.expr, t)
    if raw.has(sp.Derivative, sp.Subs, sp.DiracDelta):
        return f"its derivative {raw} is not a closed formula (not differentiable)"
    timeout = (
        f"it could not be evaluated at the sample points of [-5, 5] within {SAMPLE_SECONDS:g} s"
    )
    return budget.within(
        SAMPLE_SECONDS, lambda: _first_bad_sample(activation.expr, raw), lambda: timeout
    )


def _first_bad_sample(sigma: sp.Expr, raw: sp.Expr) -> str | None:
    for what, expr in (("it", sigma), ("its derivative", raw)):
        for point in SAMPLES:
            try:
                value = expr.evalf(subs={t: point})  # numeric: never an exact 10**(5**10)
            except Exception as exc:  # any failure to evaluate means "undefined" there
                return f"{what} cannot be evaluated at t = {point} ({_short(exc)})"
            if not (value.is_real and value.is_finite):
                return f"{what} is undefined at t = {point} ({what} = {value}; sampled on [-5, 5])"
            if abs(value) > FLOAT64_LIMIT:
                return f"{what} exceeds {FLOAT64_LIMIT:.0e} at t = {point}, beyond float64"
    for what, expr in (("it", sigma), ("its derivative", raw)):
        why = _complex_intermediate(expr)
        if why:
            return f"{what} {why}"
    return None


def _complex_intermediate(expr: sp.Expr) -> str | None:
    """Where a function or power inside `expr` leaves the reals at a sample point, although
    `expr` itself is real there (|log t| = pi at t = -1): emitted code computes in real
    arithmetic (NaN there), so every intermediate must be real."""
    inner = {e for e in sp.preorder_traversal(expr) if (e.is_Function or e.is_Pow) and e != expr}
    for sub in sorted(inner, key=sp.count_ops):
        for point in SAMPLES:
            try:
                value = sub.evalf(subs={t: point})
            except Exception:  # e.g. Max of an inexact zero: the whole formula evaluated fine
                continue
            if value.is_real is False or (value.is_real and not value.is_finite):
                return (
                    f"computes {sub} = {value} at t = {point}, not a real number (emitted code "
                    "evaluates every intermediate in real arithmetic; sampled on [-5, 5])"
                )
    return None


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 100 else text[:97] + "..."
