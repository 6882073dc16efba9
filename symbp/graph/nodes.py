"""symbp's own SymPy nodes and the lift from scalar formulas to element-wise matrix formulas.

* `Sigma(j, U)` is sigma_j applied entry-wise to the matrix U.
* `Partial(f, X)`, `VJP(g, J)` and `Plus(a, b)` exist for display only: the chains of the
  lecture write a Jacobian ``d z / d W`` and a row factor ``g`` applied to it (plus, with weight
  decay, the penalty's gradient).
* `ElementSum(A)` is the sum of all entries of A (the loss summed over components and samples).
"""

from __future__ import annotations

import sympy as sp
from sympy import HadamardPower, HadamardProduct, MatAdd, MatMul, MatrixExpr, OneMatrix, ZeroMatrix
from sympy.core.basic import Basic

TARGETS = ("numpy", "latex", "text", "evaluate")  #: the printers and the proof's evaluator


class SymbpNode:
    """Marker of symbp's own SymPy nodes.  `targets` lists what must handle the node: each
    printer a method ``_print_<Class>``, and `proof.expansion.evaluate` a case -- or the node
    itself, with SymPy's per-node printing methods (``_numpycode``, ``_latex``, ``_sympystr``)
    and ``value(go)``, so that a new operation can live in one block.  A printer without
    its method raises an error naming it (`printing.strict`), never falls back to SymPy's
    generic form."""

    targets: tuple[str, ...] = TARGETS


class ShapedLikeArg(SymbpNode, MatrixExpr):
    """A matrix node whose last argument `arg` it is shaped like."""

    @property
    def arg(self):
        return self.args[-1]

    @property
    def shape(self):
        return self.arg.shape


class Sigma(ShapedLikeArg):
    """sigma_j(U): the activation of layer `layer`, entry-wise on `arg`."""

    def __new__(cls, layer: int, arg):
        return super().__new__(cls, sp.Integer(layer), arg)

    @property
    def layer(self) -> int:
        return int(self.args[0])


class Elementwise(ShapedLikeArg):
    """A scalar function (a `Lambda`) applied entry-wise to `arg`.  Unlike SymPy's
    ElementwiseApplyFunction it never evaluates, not even for a 1 x 1 argument."""

    def __new__(cls, function: sp.Lambda, arg):
        return super().__new__(cls, function, arg)

    @property
    def function(self) -> sp.Lambda:
        return self.args[0]


class LogSumExp(ShapedLikeArg):
    """log sum_i exp(arg_i) of each column of `arg`, broadcast over the rows (same shape)."""

    def __new__(cls, arg):
        return super().__new__(cls, arg)


class Stack(SymbpNode, MatrixExpr):
    """[top; bottom]: two matrices with the same number of columns, one over the other."""

    def __new__(cls, top, bottom):
        return super().__new__(cls, top, bottom)

    @property
    def shape(self):
        return (self.args[0].shape[0] + self.args[1].shape[0], self.args[0].shape[1])


class LeastSquares(SymbpNode, MatrixExpr):
    """argmin_P ||T - A P B||_F of least norm, i.e. A^+ T B^+ (the BCD step of a linear layer)."""

    def __new__(cls, A, T, B):
        return super().__new__(cls, A, T, B)

    @property
    def shape(self):
        A, _, B = self.args
        return (A.shape[1], B.shape[0])


class ElementSum(SymbpNode, sp.Expr):
    """The sum of all entries of a matrix expression (a scalar)."""

    def __new__(cls, arg):
        return super().__new__(cls, arg)

    @property
    def arg(self):
        return self.args[0]


class Partial(SymbpNode, Basic):
    """The (display-only) derivative d num / d den, as the lecture writes it."""

    targets = ("latex", "text")

    def __new__(cls, num, den):
        return super().__new__(cls, num, den)


class VJP(SymbpNode, Basic):
    """A row factor applied to a Jacobian: the lecture's ``g  d z / d W`` (display only)."""

    targets = ("latex", "text")

    def __new__(cls, row, jacobian):
        return super().__new__(cls, row, jacobian)


class Plus(SymbpNode, Basic):
    """``left + right`` where `left` is a display-only term (a chain's step plus the gradient of
    a weight-decay term, which the chain rule's factors cannot absorb)."""

    targets = ("latex", "text")

    def __new__(cls, left, right):
        return super().__new__(cls, left, right)


def hadamard(*factors):
    """The Hadamard product of `factors`, dropping factors that are all ones."""
    kept = [f for f in factors if not isinstance(f, OneMatrix)]
    if not kept:
        return factors[0]
    return kept[0] if len(kept) == 1 else HadamardProduct(*kept, evaluate=False)


def drop_ones(expr):
    """`expr` with Hadamard factors that are all ones removed (g o 1 = g)."""
    if isinstance(expr, HadamardProduct):
        return hadamard(*(drop_ones(a) for a in expr.args))
    if not isinstance(expr, MatrixExpr) or not expr.args:
        return expr
    return expr.func(*(drop_ones(a) for a in expr.args))


def lift(expr: sp.Expr, env: dict) -> sp.Basic:
    """Lift a scalar formula to the matrix formula that applies it entry-wise.

    `env` maps each scalar symbol of `expr` to a matrix expression of one common shape.  Products
    of matrix factors become Hadamard products, powers Hadamard powers, constants multiples of
    the all-ones matrix, and any other function of one variable an `Elementwise` node.
    Terms keep a readable order: positive terms first (``z - y``, not ``-y + z``).
    """
    shape = next(iter(env.values())).shape

    def go(e):
        if e in env:
            return env[e]
        if e.is_number:  # 2, pi, sqrt(2), log(2): any constant
            if e == 0:
                return ZeroMatrix(*shape)
            return e * OneMatrix(*shape) if e != 1 else OneMatrix(*shape)
        if e.is_Add:
            terms = sorted(e.args, key=lambda a: (a.could_extract_minus_sign(), a.is_Number))
            return MatAdd(*(go(a) for a in terms), evaluate=False)
        if e.is_Mul:
            coeff, rest = e.as_independent(*env, as_Add=False)  # 2, pi/2: a scalar multiple
            factors = [go(f) for f in sp.Mul.make_args(rest)]
            body = hadamard(*factors)
            if coeff == 1:
                return body
            if coeff == -1:
                return MatMul(sp.S.NegativeOne, body, evaluate=False)
            return MatMul(coeff, body, evaluate=False)
        if e.is_Pow and e.exp.is_Integer and e.exp > 0:
            return HadamardPower(go(e.base), e.exp)
        free = [v for v in env if v in e.free_symbols]
        if len(free) == 1:  # exp(-s), Heaviside(t), Piecewise(...): applied entry-wise
            return Elementwise(sp.Lambda(free[0], e), env[free[0]])
        raise ValueError(f"cannot lift {e} to an element-wise matrix formula")

    return go(expr)
