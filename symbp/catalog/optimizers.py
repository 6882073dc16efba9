"""Optimizers and step-size schedules as SymPy expressions, one registry entry each.

An `Optimizer` states a parameter's new value in the parameter θ, the step size α and its
gradient g (SGD: θ ← θ − α g); a `Schedule` states the factor of the step size at update
k = 1, 2, ...; `default_step` is the step size a trainer uses when given none.  The emitted module prints both through its backend's printer and its docstrings
through the Unicode printer, so that no template types a formula.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy import MatAdd, MatMul

from ..graph.nodes import lift
from ..naming import N

theta, alpha = sp.symbols("θ α", real=True)  #: a parameter and the step size
g = sp.Symbol("∂f/∂θ", real=True)  #: the parameter's gradient
k = sp.Symbol("k", integer=True, positive=True)  #: the update's number, 1, 2, ...

#: how the emitted module names α, g, k and N (θ is the parameter being updated in place)
CODE_NAMES = {alpha: sp.Symbol("lr"), g: sp.Symbol("grad"), k: sp.Symbol("k"), N: sp.Symbol("n")}
BASE_STEP = sp.Rational(1, 10)  #: the default step size of an objective averaged over samples


@dataclass(frozen=True)
class Optimizer:
    """`update` is θ's new value, in θ, α and g, entry-wise."""

    name: str
    update: sp.Expr

    @property
    def increment(self) -> sp.Expr:
        """What the update adds to θ (SGD: −α g), in α and g."""
        return sp.expand(self.update - theta)


@dataclass(frozen=True)
class Schedule:
    """The step size at update k is the base step size times `factor`, an expression in k."""

    name: str
    factor: sp.Expr


SGD = Optimizer("sgd", theta - alpha * g)
OPTIMIZERS = {o.name: o for o in (SGD,)}
SCHEDULES = {
    s.name: s
    for s in (
        Schedule("constant", sp.Integer(1)),
        Schedule("1/k", 1 / k),
        Schedule("1/sqrt(k)", 1 / sp.sqrt(k)),
    )
}


def default_step(scale: sp.Expr) -> sp.Expr:
    """The default step size for an objective scaled by `scale` over the N samples (1/N for a
    mean, 1 for a sum): BASE_STEP for a mean, BASE_STEP/N for a sum, the same step per sample."""
    return BASE_STEP / (N * scale)


def in_code_names(expr: sp.Expr) -> sp.Expr:
    """`expr` with α, g and k renamed as the emitted module names them (lr, grad, k)."""
    return expr.xreplace(CODE_NAMES)


def _flattened(expr):
    """`expr` with each matrix product's scalar factors gathered in front and nested products
    flattened: (−α)((1/N)(2(z − y)) xᵀ) becomes (−2α/N)(z − y) xᵀ.  Same value; for display."""
    if isinstance(expr, MatAdd):
        return MatAdd(*(_flattened(a) for a in expr.args), evaluate=False)
    if not isinstance(expr, MatMul):
        return expr
    coeff, factors = sp.Integer(1), []
    for a in expr.args:
        if not getattr(a, "is_Matrix", False):
            coeff *= a
            continue
        inner = _flattened(a)
        if isinstance(inner, MatMul):
            inner_coeff, inner_factors = inner.as_coeff_matrices()
            coeff, factors = coeff * inner_coeff, factors + list(inner_factors)
        else:
            factors.append(inner)
    if coeff == 1 and len(factors) == 1:
        return factors[0]
    if coeff != -1 and coeff.could_extract_minus_sign():  # shown as "− c ...", not "+ (−c) ..."
        return MatMul(sp.S.NegativeOne, MatMul(-coeff, *factors, evaluate=False), evaluate=False)
    return MatMul(coeff, *factors, evaluate=False)


def update_rules(optimizer: Optimizer, p) -> list[tuple[sp.MatrixSymbol, sp.MatrixExpr]]:
    """(parameter, its new value) for every parameter of the pass `p`, the value being the
    optimizer's update with g the pass's gradient, each δ replaced by its formula: the rule
    in the forward values, for display."""
    deltas = dict(p.adjoints)
    params = {prm.key: prm.symbol for prm in p.graph.params}
    rules = []
    for key, gradient in p.gradients.items():
        param = params[key]
        value = lift(optimizer.update, {theta: param, g: gradient.xreplace(deltas)})
        rules.append((param, _flattened(value)))
    return rules
