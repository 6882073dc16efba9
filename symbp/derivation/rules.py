"""The vector-Jacobian rule table: the only place a derivative rule is written.

Each `Rule` takes an `Op` and the adjoint g = d f / d (op output) and returns one adjoint per
input, in the order of `op.inputs` (None for an input that has no adjoint, such as the target y).
Element-wise derivatives come from `activations.derivative` (SymPy), the loss derivative from
`losses.gradient` (SymPy); the rules only place them.  `local` gives an op's local derivative as
the lecture names and shows it (sigma'_j, or softmax's Jacobian): the rule uses it, and every
renderer prints it from here.

Identities used:  u = W z + b 1^T  =>  dW = g z^T,  dz = W^T g,  db = g 1;
                  z = sigma(u)     =>  du = g o sigma'(u)      (o: Hadamard product);
                  z = softmax(u)   =>  du = (diag(z) - z z^T) g = z o g - z (z^T g);
                  z = a + b        =>  da = g,  db = g;
                  F = sum l(Z, Y)  =>  dZ = l'(Z, Y) entry-wise;
                  r = lambda ||W||_F^2  =>  dW = 2 lambda g W  (weight decay);
                  u = K * z + b  =>  dK = corr(z, g),  dz = K *^T g,  db = sum_pos g
                                    (u = T(K) z: the affine rule with W = T(K), its entries
                                    gathered over the positions that share each kernel entry);
                  z = pool(a)  =>  da = routed to each window's arg-max (max), or spread evenly
                                    over it (average).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sympy import MatAdd, MatMul, OneMatrix, Transpose
from sympy.matrices.expressions.diagonal import DiagMatrix

from ..catalog import activations, losses
from ..graph.cells import Embed, RowSlice
from ..graph.convolution import (
    AvgPoolTranspose,
    ChannelSum,
    ConvKernelGrad,
    ConvTranspose,
    MaxPoolGrad,
)
from ..graph.nodes import Partial, hadamard, lift
from ..graph.ops import Op
from ..graph.recurrence import Bptt, Hidden, Shifted, TraceAdjoint


@dataclass(frozen=True)
class Rule:
    """`vjp(op, g)` -> one adjoint per input; `local(op)` -> (lhs, rhs), the op's local
    derivative as displays name it, or None when it has none worth naming; `defines(op)` ->
    the named adjoints (lhs, rhs) its adjoints use besides the pass's own (a recurrence's
    Delta^v, the adjoint of its hidden projection)."""

    vjp: Callable
    local: Callable | None = None
    defines: Callable | None = None


def _affine(op: Op, g):
    W, z, *bias = op.inputs
    grads = [MatMul(g, Transpose(z)), MatMul(Transpose(W), g)]
    if bias:
        cols = g.shape[1]
        grads.append(g if cols == 1 else MatMul(g, OneMatrix(cols, 1)))
    return tuple(grads)


def sigma_prime(op: Op):
    """(sigma'_j, its matrix formula in the op's output or input) from the activation's SymPy
    derivative, in terms of the output where SymPy finds that form."""
    d = activations.derivative(op.attr("activation"))
    arg = op.output if d.of_output else op.inputs[0]
    return op.attr("sigma_prime"), lift(d.expr, {d.var: arg})


def _activation(op: Op, g):
    if activations.derivative(op.attr("activation")).is_one:  # g o 1 = g
        return (g,)
    return (hadamard(g, op.attr("sigma_prime")),)


def softmax_jacobian(op: Op):
    """(dz/du, diag(z) - z z^T) of one sample's softmax z = softmax(u) (symmetric)."""
    z, (u,) = op.output, op.inputs
    return Partial(z, u), MatAdd(DiagMatrix(z), MatMul(-1, z, Transpose(z)))


def _softmax(op: Op, g):
    z = op.output
    if z.shape[1] == 1:  # one sample: the full Jacobian
        return (MatMul(softmax_jacobian(op)[1], g),)
    # columns: z o g - z o (1 1^T (z o g)), the same product for every sample at once
    ones = OneMatrix(z.shape[0], z.shape[0])
    return (hadamard(z, MatAdd(g, MatMul(-1, ones, hadamard(z, g)))),)


def _add(op: Op, g):
    return (g, g)


def _loss(op: Op, g):
    z, y = op.inputs
    dl = lift(losses.gradient(op.attr("loss"), op.attr("scale", 1)), {losses.z: z, losses.y: y})
    return (dl if g == 1 else MatMul(g, dl), None)  # no adjoint for the target y


def _penalty(op: Op, g):
    (W,) = op.inputs
    return (MatMul(2 * op.attr("weight_decay") * g, W),)


def _conv(op: Op, g):
    K, z, *bias = op.inputs
    geometry = op.attr("geometry")
    grads = [ConvKernelGrad(g, z, geometry), ConvTranspose(K, g, geometry)]
    if bias:
        grads.append(ChannelSum(g, geometry))
    return tuple(grads)


def _maxpool(op: Op, g):
    return (MaxPoolGrad(g, op.inputs[0], op.output, op.attr("geometry")),)


def _avgpool(op: Op, g):
    return (AvgPoolTranspose(g, op.attr("geometry")),)


def _pointwise(op: Op, g):
    """out = e(x_1, ..., x_k) entry-wise (e a scalar formula; an x_i may be a row block of its
    input): dx_i = g o de/dx_i, placed in x_i's block."""
    expr, places = op.attr("expr"), op.attr("places")
    env = {}
    for (p, k, count, label), x in zip(places, op.inputs, strict=True):
        rows = x.shape[0] // count if count else None
        env[p] = x if k is None else RowSlice(x, k * rows, (k + 1) * rows, label)
    grads = []
    for (p, k, count, _), _ in zip(places, op.inputs, strict=True):
        d = expr.diff(p)
        if d == 0:
            grads.append(None)
            continue
        part = g if d == 1 else MatMul(d, g) if d.is_number else hadamard(g, lift(d, env))
        grads.append(part if k is None else Embed(part, k, count))
    return tuple(grads)


def _readout(op: Op, g):
    return (TraceAdjoint(g, op.inputs[0]),)


def _recurrence(op: Op, g):
    """S = the trace of the recurrence over A (BPTT): dA = Delta by the cell's reverse pass from
    T to 1; the hidden projection V = W_hh H_shift + b_hh 1^T of all steps is affine, so
    dW_hh = Delta_v H_shift^T and db_hh = Delta_v 1 (sums over the steps: weight sharing)."""
    _, W, *bias = op.inputs
    info, delta, S = op.attr("info"), op.attr("delta"), op.output
    grads = [Bptt(g.args[0], S, W, info)]
    delta_v = op.attr("delta_v") or delta
    previous = Shifted(Hidden(S, info.hidden), info)
    grads.append(MatMul(delta_v, Transpose(previous)))
    if bias:
        grads.append(MatMul(delta_v, OneMatrix(S.shape[1], 1)))
    return tuple(grads)


def _hidden_adjoint(op: Op) -> tuple:
    """(Delta^v_j, its formula): the adjoint of the hidden projection V = W_hh H_shift + b_hh 1^T,
    where it differs from Delta_j (GRU: its reset gate multiplies v^n; the layer kind derives
    the formula, `derivation.bptt.hidden_adjoint`); () where it is Delta_j itself."""
    name = op.attr("delta_v")
    return () if name is None else ((name, op.attr("delta_v_formula")),)


RULES = {
    "affine": Rule(_affine),
    "activation": Rule(_activation, local=sigma_prime),
    "softmax": Rule(_softmax, local=softmax_jacobian),
    "add": Rule(_add),
    "loss": Rule(_loss),
    "penalty": Rule(_penalty),
    "conv": Rule(_conv),
    "maxpool": Rule(_maxpool),
    "avgpool": Rule(_avgpool),
    "pointwise": Rule(_pointwise),
    "readout": Rule(_readout),
    "recurrence": Rule(_recurrence, defines=_hidden_adjoint),
}


def rule(op: Op) -> Rule:
    """The rule for `op`; `KeyError` naming the op kind when the table has none."""
    try:
        return RULES[op.kind]
    except KeyError:
        raise KeyError(f"no vector-Jacobian rule for op kind {op.kind!r} (rules.RULES)") from None


def vjp(op: Op, g) -> tuple:
    """Apply the rule for `op`; checks that it returns one adjoint per input."""
    grads = rule(op).vjp(op, g)
    if len(grads) != len(op.inputs):
        raise AssertionError(
            f"rule {op.kind!r} returned {len(grads)} adjoints for {len(op.inputs)}"
        )
    return grads


def defines(op: Op) -> tuple:
    """The named adjoints (lhs, rhs) the op's rule uses besides the pass's own."""
    named = rule(op).defines
    return named(op) if named else ()


def local(op: Op):
    """The op's local derivative (lhs, rhs) for display, or None."""
    show = rule(op).local
    return show(op) if show else None
