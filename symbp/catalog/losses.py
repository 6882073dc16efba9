"""Loss registry: name -> scalar SymPy expression l(z, y) per output component.

The per-sample loss is the sum of l over the d_J components; the ERM objective reduces it over
the N samples (mean, as in the lecture's eq. (2), or sum).  dl/dz comes from `sympy.diff`.
A loss may require an output activation (cross-entropy: softmax; binary: sigmoid), and declares
the domain of its targets, which the derivation may assume (softmax with cross-entropy: each
target column sums to one).  `check` draws its targets from that domain and the emitted module
refuses data outside it.

A spec may scale its loss (`SCALES`: 1/2 for the textbooks' (1/2)||y - z||^2, 1/d_J for a mean
over the output units).  The scale is part of the formula (`formula`), so dl/dz carries it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import sympy as sp

from .activations import Activation, t

z = sp.Symbol("z", real=True)  #: one component of the output z_J
y = sp.Symbol("y", real=True)  #: the matching component of the target
lse = sp.Symbol("lse", real=True)  #: log-sum-exp of the output layer's pre-activations


@dataclass(frozen=True)
class TargetDomain:
    """Where a loss's targets live: every entry in [low, high]; with `column_sum` set, each
    column (one sample's target) sums to it, e.g. probability vectors for cross-entropy."""

    low: float = -math.inf
    high: float = math.inf
    column_sum: float | None = None

    def sample(self, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
        """Targets of `shape` (d_J, N) drawn from the domain, float64.  With a column sum:
        probability columns (Dirichlet(1, ..., 1)) and, every other column, one-hot ones."""
        rows, cols = shape
        if self.column_sum is not None:
            Y = rng.dirichlet(np.ones(rows), size=cols).T
            hot = rng.integers(0, rows, cols)
            for c in range(0, cols, 2):
                Y[:, c] = np.arange(rows) == hot[c]
            return self.column_sum * Y
        if math.isfinite(self.low) and math.isfinite(self.high):
            return rng.uniform(self.low, self.high, shape)
        normal = rng.standard_normal(shape)
        if math.isfinite(self.low):
            return self.low + np.abs(normal)
        if math.isfinite(self.high):
            return self.high - np.abs(normal)
        return normal


PROBABILITY_COLUMNS = TargetDomain(0.0, 1.0, column_sum=1.0)
UNIT_INTERVAL = TargetDomain(0.0, 1.0)


@dataclass(frozen=True)
class Loss:
    name: str
    expr: sp.Expr  # l(z, y), summed over components
    output: str | None = None  # the output activation this loss needs, if any
    targets: str = "real vectors"  # what y must be, for messages and documents
    domain: TargetDomain = field(default_factory=TargetDomain)  # the same, as data

    def sample_targets(self, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
        """Targets (d_J, N) from this loss's domain (`TargetDomain.sample`)."""
        return self.domain.sample(rng, shape)


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("l2", (y - z) ** 2),
        Loss(
            "cross_entropy",
            -y * sp.log(z),
            "softmax",
            "probability vectors (one-hot or soft)",
            PROBABILITY_COLUMNS,
        ),
        Loss(
            "binary_cross_entropy",
            -y * sp.log(z) - (1 - y) * sp.log(1 - z),
            "sigmoid",
            "entries in [0, 1]",
            UNIT_INTERVAL,
        ),
    )
}


#: a spec's loss_scale -> the factor it names, given d_J (an int or a width symbol)
SCALES = {
    "1": lambda outputs: sp.Integer(1),
    "1/2": lambda outputs: sp.Rational(1, 2),
    "1/d_J": lambda outputs: 1 / sp.sympify(outputs),
}


def scale_factor(scale: str, outputs) -> sp.Expr:
    """The factor loss scale `scale` (a key of `SCALES`) names for `outputs` = d_J units."""
    return SCALES[scale](outputs)


def formula(name: str, scale: sp.Expr = sp.S.One) -> sp.Expr:
    """l(z, y) of loss `name`, times the spec's `scale` (a factor such as 1/2)."""
    return scale * LOSSES[name].expr


@cache
def gradient(name: str, scale: sp.Expr = sp.S.One) -> sp.Expr:
    """dl/dz of the scaled loss (`formula`), factored (for l2: 2(z - y); at scale 1/2: z - y)."""
    return sp.factor_terms(sp.simplify(sp.diff(formula(name, scale), z)))


@cache
def logit_form(name: str, output: Activation, scale: sp.Expr = sp.S.One) -> sp.Expr | None:
    """l (times `scale`) as a function of the output layer's pre-activation t (and `lse`, for
    softmax), in a form without log(0) or overflow after the NumPy printer's rewrites; None when
    l in z is fine.

    softmax:  log z_i = t_i - lse(t);  sigmoid: SymPy's expand_log of l(sigma(t), y), proved equal.
    """
    expr = formula(name, scale)
    if not expr.has(sp.log):
        return None
    if output.kind == "softmax":
        return expr.subs(sp.log(z), t - lse)
    if output.expr is None or output.expr.has(sp.Piecewise):
        return None
    direct = expr.subs(z, output.expr)
    form = sp.expand_log(sp.simplify(direct), force=True)
    return form if sp.simplify(form - direct) == 0 else None
