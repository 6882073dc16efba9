"""Activation registry: name -> scalar SymPy expression sigma(t).

Adding an activation is one line in `ACTIVATIONS`.  Its derivative always comes from `sympy.diff`;
`derivative()` then rewrites it in terms of the output s = sigma(t) where SymPy can, and keeps the
rewrite only after SymPy has checked it equals the raw derivative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import sympy as sp

t = sp.Symbol("t", real=True)  #: the pre-activation variable
s = sp.Symbol("s", real=True)  #: the activation's output, sigma(t)


@dataclass(frozen=True)
class Activation:
    name: str
    expr: sp.Expr  # in t
    init_gain: float = 1.0  # weight scale gain for init (He: sqrt(2) for rectifiers)


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


def _equal(a: sp.Expr, b: sp.Expr) -> bool:
    try:
        return sp.simplify(a - b) == 0
    except (NotImplementedError, TypeError, ValueError):  # no proof, so no rewrite
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
    for cand in candidates:
        cand = sp.factor_terms(sp.simplify(cand))
        if (
            t not in cand.free_symbols
            and s in cand.free_symbols
            and _equal(cand.subs(s, sigma), raw)
        ):
            return cand
    return None


@cache
def derivative(name: str) -> Derivative:
    """sigma' for a registered activation (cached: SymPy simplification is slow)."""
    sigma = ACTIVATIONS[name].expr
    raw = sp.diff(sigma, t)
    if t not in raw.free_symbols:
        return Derivative(raw, raw, t)
    of_output = _in_terms_of_output(sigma, raw)
    if of_output is not None:
        return Derivative(raw, of_output, s)
    return Derivative(raw, sp.simplify(raw), t)
