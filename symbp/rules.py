"""The vector-Jacobian rule table: the only place a derivative rule is written.

Each rule takes an `Op` and the adjoint g = d f / d (op output) and returns one adjoint per input,
in the order of `op.inputs`.  Element-wise derivatives come from `activations.derivative`
(SymPy), the loss derivative from `losses.gradient` (SymPy); the rules only place them.

Identities used:  u = W z + b 1^T  =>  dW = g z^T,  dz = W^T g,  db = g 1;
                  z = sigma(u)     =>  du = g o sigma'(u)      (o: Hadamard product);
                  z = softmax(u)   =>  du = (diag(z) - z z^T) g = z o g - z (z^T g);
                  F = sum l(Z, Y)  =>  dZ = l'(Z, Y) entry-wise.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy import MatAdd, MatMul, OneMatrix, Transpose
from sympy.matrices.expressions.diagonal import DiagMatrix

from . import losses
from .nodes import hadamard, lift


@dataclass(frozen=True)
class Op:
    """One node of the forward graph: ``output = equation``, a function of `inputs`."""

    kind: str  # a key of RULES
    output: sp.Basic
    inputs: tuple
    equation: sp.Basic
    layer: int | None = None
    sigma_prime: sp.Basic | None = None  # activation ops: the symbol sigma'_j, or None if it is 1
    loss: str | None = None  # loss ops: the registry name


def _affine(op: Op, g):
    W, z, *bias = op.inputs
    grads = [MatMul(g, Transpose(z)), MatMul(Transpose(W), g)]
    if bias:
        cols = g.shape[1]
        grads.append(g if cols == 1 else MatMul(g, OneMatrix(cols, 1)))
    return tuple(grads)


def _activation(op: Op, g):
    if op.sigma_prime is None:  # sigma' = 1: the Hadamard factor drops out
        return (g,)
    return (hadamard(g, op.sigma_prime),)


def _softmax(op: Op, g):
    z = op.output
    if z.shape[1] == 1:  # one sample: the full Jacobian, diag(z) - z z^T (symmetric)
        return (MatMul(MatAdd(DiagMatrix(z), MatMul(-1, z, Transpose(z))), g),)
    # columns: z o g - z o (1 1^T (z o g)), the same product for every sample at once
    ones = OneMatrix(z.shape[0], z.shape[0])
    return (hadamard(z, MatAdd(g, MatMul(-1, ones, hadamard(z, g)))),)


def _loss(op: Op, g):
    z, y = op.inputs
    dl = lift(losses.gradient(op.loss), {losses.z: z, losses.y: y})
    return (dl if g == 1 else MatMul(g, dl), None)  # no adjoint for the target y


RULES = {"affine": _affine, "activation": _activation, "softmax": _softmax, "loss": _loss}


def vjp(op: Op, g) -> tuple:
    """Apply the rule for `op`; checks that it returns one adjoint per input."""
    grads = RULES[op.kind](op, g)
    if len(grads) != len(op.inputs):
        raise AssertionError(
            f"rule {op.kind!r} returned {len(grads)} adjoints for {len(op.inputs)}"
        )
    return grads
