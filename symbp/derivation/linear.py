"""Deep linear networks (sigma_j = identity): why ERM is not jointly convex, and the closed-form
block-coordinate-descent step the lecture suggests.

`convexity_example` is the lecture's "simple two-layer linear example": SymPy's Hessian of
f(w1, w2) = (y - w2 w1 x)^2 at a critical point where it is indefinite.
`bcd_blocks` writes, for each layer j, the network's output as an affine function of layer j's
parameters, Z_J = A_j [W_j b_j] B_j + C_j, whose least-squares minimiser is the BCD step; the
normal equations come from the rule table (the gradient set to zero).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy import Identity, MatAdd, MatMul, OneMatrix, Transpose, ZeroMatrix

from ..graph.nodes import LeastSquares, Stack
from ..graph.ops import Op, f
from ..naming import Names
from ..spec.model import Spec
from .rules import vjp


@dataclass(frozen=True)
class ConvexityExample:
    f: sp.Expr
    variables: tuple[sp.Symbol, sp.Symbol]
    hessian: sp.Matrix
    point: dict
    gradient_at_point: tuple
    hessian_at_point: sp.Matrix
    eigenvalues: tuple
    chord: tuple  # (a, b, f(a), f(b), f((a + b) / 2)): f above its chord, so not convex


def convexity_example() -> ConvexityExample:
    w1, w2, x, y = sp.symbols("w_1 w_2 x y", real=True)
    loss = (y - w2 * w1 * x) ** 2
    hessian = sp.hessian(loss, (w1, w2))
    point = {w1: 0, w2: 0, x: 1, y: 1}
    at = hessian.subs(point)
    eigen = tuple(sorted(at.eigenvals()))
    a, b = {w1: 1, w2: 1, x: 1, y: 1}, {w1: -1, w2: -1, x: 1, y: 1}
    chord = ((1, 1), (-1, -1), loss.subs(a), loss.subs(b), loss.subs(point))
    return ConvexityExample(
        f=loss,
        variables=(w1, w2),
        hessian=hessian,
        point=point,
        gradient_at_point=tuple(sp.diff(loss, v).subs(point) for v in (w1, w2)),
        hessian_at_point=at,
        eigenvalues=eigen,
        chord=chord,
    )


def is_deep_linear(spec: Spec) -> bool:
    """A chain of identity layers (no residual connections): Z_J = W_J ... W_1 Z_0 + ..., which
    is what `bcd_blocks` composes."""
    return all(
        layer.activation_name == "identity" and layer.skip_from is None for layer in spec.layers
    )


def bcd_applies(spec: Spec) -> bool:
    """Block-coordinate descent by least squares: a deep linear network without weight decay
    (a decay term would make each block's minimiser a ridge solution, which `bcd_blocks` does
    not derive)."""
    return is_deep_linear(spec) and spec.train.weight_decay is None


@dataclass(frozen=True)
class Block:
    """Layer j's BCD sub-problem: minimise ||Y - C - A P B||_F over P = [W_j b_j] (or W_j)."""

    layer: int
    A: sp.Basic  # W_J ... W_{j+1}  (identity for j = J)
    B: sp.Basic  # Z_{j-1}, stacked over a row of ones when the layer has a bias
    C: sp.Basic  # the later biases' contribution to Z_J (zero without biases)
    gradient: sp.Basic  # d f / d P from the rule table, up to the reduction factor
    normal_lhs: sp.Basic
    normal_rhs: sp.Basic
    solution: sp.Basic  # LeastSquares(A, Y - C, B)


def _gradient(spec: Spec, names: Names, A, P, B, C):
    """d f / d P for Z_J = A (P B) + C, by the rule table (per unit reduction factor)."""
    U = sp.MatrixSymbol("U", P.shape[0], B.shape[1])
    Z = names.z(spec.depth)
    (seed, _) = vjp(
        Op(
            "loss",
            f,
            (Z, names.y()),
            None,
            attrs=(("loss", spec.loss), ("scale", spec.loss_factor)),
        ),
        sp.Integer(1),
    )
    through_A = vjp(Op("affine", Z, (A, U), MatMul(A, U)), seed)[1]
    through_P = vjp(Op("affine", U, (P, B), MatMul(P, B)), through_A)[0]
    return through_P.xreplace({Z: MatAdd(MatMul(A, P, B), C).doit()})


def bcd_blocks(spec: Spec, names: Names) -> tuple[Block, ...]:
    """For each layer, Z_J as an affine function of its parameters, and the BCD step."""
    J, Y = spec.depth, names.y()
    blocks = []
    for j in range(1, J + 1):
        A, C = Identity(spec.widths[j]), ZeroMatrix(spec.widths[j], names.cols)
        for k in range(j + 1, J + 1):  # z_k = W_k z_{k-1} + b_k 1^T, composed upwards
            A = MatMul(names.W(k), A).doit()
            C = MatMul(names.W(k), C).doit()
            if spec.layers[k - 1].bias:
                C = MatAdd(C, MatMul(names.b(k), OneMatrix(1, names.cols))).doit()
        B = names.z(j - 1)
        if spec.layers[j - 1].bias:
            B = Stack(B, OneMatrix(1, names.cols))
        P = sp.MatrixSymbol(f"P{j}", spec.widths[j], B.shape[0])
        gradient = _gradient(spec, names, A, P, B, C)
        lhs = MatMul(Transpose(A), A, P, B, Transpose(B))
        rhs = MatMul(Transpose(A), MatAdd(Y, MatMul(-1, C)), Transpose(B))
        solution = LeastSquares(A, MatAdd(Y, MatMul(-1, C)).doit(), B)
        blocks.append(Block(j, A, B, C, gradient, lhs, rhs, solution))
    return tuple(blocks)
