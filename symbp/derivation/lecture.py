"""The lecture's simplifications of the generic reverse pass, each in one place, each recorded.

* `output_simplification`: delta_J = z_J - y (up to a factor) when the loss derivative and the
  output activation cancel: cross-entropy with softmax (assuming each target sums to one) and
  binary cross-entropy with sigmoid (sigma' written in terms of z).
* `frozen_layers`: a zero sigma' (the step) cuts the layers below it off from every gradient.
* `perceptron_pass`: Rosenblatt's rule, the step's sigma' replaced by one.

Each returns what it assumed as an `Assumption`, which the Derivation records for the proof, the
LaTeX and the report to read.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import sympy as sp
from sympy import OneMatrix

from ..catalog import activations, losses
from ..graph.nodes import drop_ones, lift
from .steps import Assumption, Pass

TARGETS_SUM_TO_ONE = "targets-sum-to-one"  #: softmax + cross-entropy: each column of y sums to 1
SIGMA_PRIME_OF_OUTPUT = "sigma-prime-of-output"  #: sigma'_J used in its form in z_J


@cache
def collapsed_output(
    loss: str, output: activations.Activation, scale: sp.Expr = sp.S.One
) -> tuple[sp.Expr, str] | None:
    """delta_J as a scalar formula in (z, y), with the kind of assumption it needs, when the loss
    derivative and the output activation cancel; None when they do not (then delta_J keeps the
    lecture's form dl/dz_J o sigma'_J).  Cached: SymPy's simplify is slow.

    softmax: delta = z o g - z (z^T g); if SymPy simplifies z l'(z, y) to c y, then
             z^T g = c 1^T y = c for targets summing to one, and delta = c (y - z).
    element-wise: delta = l'(z, y) sigma'(z) when SymPy simplifies the product to something
             no larger than l' itself.
    """
    lp = losses.gradient(loss, scale)
    if output.kind == "softmax":
        c = sp.simplify(losses.z * lp / losses.y)
        if c.has(losses.z, losses.y):
            return None
        return sp.expand(c * (losses.y - losses.z)), TARGETS_SUM_TO_ONE
    d = activations.derivative(output)
    if not d.of_output or d.is_one:
        return None
    product = sp.factor_terms(sp.simplify(lp * d.expr.subs(activations.s, losses.z)))
    if sp.count_ops(product) > sp.count_ops(lp):
        return None
    return product, SIGMA_PRIME_OF_OUTPUT


def _sentence(kind: str, output: activations.Activation) -> str:
    if kind == TARGETS_SUM_TO_ONE:
        return "each target sums to one"
    return f"sigma' of {output.name} written in terms of z"


def output_simplification(graph, spec) -> tuple[dict, tuple[Assumption, ...]]:
    """({u_J: delta_J's simplified formula}, its assumption) when the loss reads the output
    activation directly and the two cancel (`collapsed_output`); ({}, ()) otherwise."""
    loss = graph.ops[-1]
    z, y = loss.inputs
    act = graph.producer(z)
    if act is None or act.kind not in ("activation", "softmax"):
        return {}, ()
    sigma = act.attr("activation")
    collapsed = collapsed_output(spec.loss, sigma, spec.loss_factor)
    if collapsed is None:
        return {}, ()
    formula, kind = collapsed
    (u,) = act.inputs
    expr = lift(formula, {losses.z: z, losses.y: y})
    return {u: expr}, (Assumption(kind, _sentence(kind, sigma), act.layer),)


def frozen_layers(spec) -> int:
    """How many layers from the input a zero sigma' (the step) cuts off from every gradient:
    delta_j = 0 for j <= k when layer k has sigma' = 0."""
    zero = [
        j
        for j, layer in enumerate(spec.layers, start=1)
        if layer.sigma.elementwise and activations.derivative(layer.sigma).is_zero
    ]
    return max(zero, default=0)


def perceptron_pass(p: Pass) -> Pass:
    """Rosenblatt's perceptron rule as a pass: the step's sigma' (0 almost everywhere) replaced
    by 1, so delta_1 = dl/dz_1 and W_1 <- W_1 - lr delta_1 z_0^T."""
    ones = {lhs: OneMatrix(*lhs.shape) for lhs, expr in p.sigma_primes if expr.is_ZeroMatrix}
    backward = tuple(
        (lhs, drop_ones(rhs.xreplace(ones))) for lhs, rhs in p.backward if lhs not in ones
    )
    return replace(p, backward=backward)
