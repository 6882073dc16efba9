"""The reverse pass: spec -> `Derivation`.

`graph` turns a spec into forward ops (affine map, activation, loss) over the symbols of
`naming.Names`; `reverse` walks them backwards through the rule table, naming the adjoint of
each pre-activation u_j as delta_j, so every expression stays the size of one layer and the work
grows linearly in J.  `chains` replays the same rules along the path from the loss to each
parameter, recording each equality with its reason, as the lecture's slides do.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache, lru_cache

import sympy as sp
from sympy import MatAdd, MatMul, OneMatrix

from . import activations, losses
from .naming import N, Names
from .nodes import VJP, ElementSum, Partial, Sigma, drop_ones, lift
from .rules import Op, vjp
from .spec import Spec
from .steps import Chain, Derivation, Pass, Reason, Step

f = sp.Symbol("f")  #: the objective


def graph(spec: Spec, names: Names) -> list[Op]:
    """Forward ops: for j = 1..J an affine op (u_j) and an activation op (z_j); then the loss."""
    ops = []
    for j, layer in enumerate(spec.layers, start=1):
        W, z_prev, u = names.W(j), names.z(j - 1), names.u(j)
        inputs = (W, z_prev)
        pre = MatMul(W, z_prev)
        if layer.bias:
            b = names.b(j)
            inputs += (b,)
            pre = MatAdd(pre, b if names.cols == 1 else MatMul(b, OneMatrix(1, names.cols)))
        ops.append(Op("affine", u, inputs, pre, layer=j))
        if layer.sigma.kind == "softmax":
            ops.append(Op("softmax", names.z(j), (u,), Sigma(j, u), layer=j))
            continue
        one = activations.derivative(layer.sigma).is_one
        dsig = None if one else names.dsigma(j)
        ops.append(Op("activation", names.z(j), (u,), Sigma(j, u), layer=j, sigma_prime=dsig))
    zJ, y = names.z(spec.depth), names.y()
    loss = lift(losses.LOSSES[spec.loss].expr, {losses.z: zJ, losses.y: y})
    ops.append(Op("loss", f, (zJ, y), ElementSum(loss), loss=spec.loss))
    return ops


def sigma_prime(spec: Spec, names: Names, j: int):
    """sigma'_j as a matrix formula in z_j (or u_j), from the activation's SymPy derivative."""
    d = activations.derivative(spec.layers[j - 1].sigma)
    arg = names.z(j) if d.of_output else names.u(j)
    return lift(d.expr, {d.var: arg})


@cache
def collapsed_output(loss: str, output: activations.Activation) -> tuple[sp.Expr, str] | None:
    """delta_J as a scalar formula in (z, y), with the assumption it needs, when the loss
    derivative and the output activation cancel (cross-entropy with softmax, binary
    cross-entropy with sigmoid); None when they do not (then delta_J keeps the lecture's form
    dl/dz_J o sigma'_J).  Cached: SymPy's simplify is slow.

    softmax: delta = z o g - z (z^T g); if SymPy simplifies z l'(z, y) to c y, then
             z^T g = c 1^T y = c for targets summing to one, and delta = c (y - z).
    element-wise: delta = l'(z, y) sigma'(z) when SymPy simplifies the product to something
             no larger than l' itself.
    """
    lp = losses.gradient(loss)
    if output.kind == "softmax":
        c = sp.simplify(losses.z * lp / losses.y)
        if c.free_symbols:
            return None
        return sp.expand(c * (losses.y - losses.z)), "each target sums to one"
    d = activations.derivative(output)
    if not d.of_output or d.is_one:
        return None
    product = sp.factor_terms(sp.simplify(lp * d.expr.subs(activations.s, losses.z)))
    if sp.count_ops(product) > sp.count_ops(lp):
        return None
    return product, f"sigma' of {output.name} written in terms of z"


def output_delta(spec: Spec, names: Names) -> tuple[sp.Basic, str] | None:
    """`collapsed_output` lifted to the matrices of `names` (z_J, y), or None."""
    collapsed = collapsed_output(spec.loss, spec.layers[-1].sigma)
    if collapsed is None:
        return None
    formula, note = collapsed
    return lift(formula, {losses.z: names.z(spec.depth), losses.y: names.y()}), note


def reverse(spec: Spec, names: Names) -> Pass:
    """Walk `graph` backwards through the rule table; name adj(u_j) = delta_j."""
    ops = graph(spec, names)
    scale = (1 / N if spec.reduction == "mean" else sp.Integer(1)) if names.batch else sp.Integer(1)
    adjoint: dict = {}
    deltas, grads = [], {}
    seed = None
    collapsed = output_delta(spec, names)
    for op in reversed(ops):
        g = sp.Integer(1) if op.kind == "loss" else adjoint.pop(op.output)
        for x, gx in zip(op.inputs, vjp(op, g), strict=True):
            if gx is None:
                continue
            if op.kind == "loss":
                seed = gx
            if op.kind in ("activation", "softmax"):  # the adjoint of u_j is delta_j
                delta = names.delta(op.layer)
                if op.layer == spec.depth and collapsed:
                    gx = collapsed[0]
                deltas.append((delta, gx))
                gx = delta
            if x in adjoint:
                gx = MatAdd(adjoint[x], gx)
            adjoint[x] = gx
    for j, layer in enumerate(spec.layers, start=1):
        for param in (names.W(j), names.b(j)) if layer.bias else (names.W(j),):
            g = adjoint[param]
            grads[param.name] = g if scale == 1 else MatMul(scale, *MatMul.make_args(g))
    primes = tuple(
        (op.sigma_prime, sigma_prime(spec, names, op.layer))
        for op in ops
        if op.kind == "activation"
        and op.sigma_prime is not None
        and not (op.layer == spec.depth and collapsed)
    )
    return Pass(
        names=names,
        forward=tuple((op.output, op.equation) for op in ops[:-1]),
        objective=ops[-1].equation if scale == 1 else scale * ops[-1].equation,
        scale=scale,
        seed=seed,
        deltas=tuple(deltas),
        sigma_primes=primes,
        gradients=grads,
    )


FULL_CHAINS = 2  #: the top layers whose chain starts from f, as on the lecture's slides


def chain(spec: Spec, names: Names, ops: list[Op], target_layer: int, param) -> Chain:
    """d f / d param as the lecture derives it, each equality with its reason.

    For the top `FULL_CHAINS` layers the chain starts from f and runs through the loss; below
    them it starts from delta_{j+1}, already defined, so that each chain has O(1) steps and the
    whole derivation stays linear in J.
    """
    J = spec.depth

    def jac(expr):
        return Partial(expr, param)

    if target_layer > J - FULL_CHAINS:
        zJ = names.z(J)
        steps = [Step(VJP(Partial(f, zJ), jac(zJ)), Reason("chain"))]
        g = vjp(ops[-1], sp.Integer(1))[0]
        steps.append(Step(VJP(g, jac(zJ)), Reason("loss")))
        top = J
    else:
        above, u_above = ops[2 * target_layer], names.u(target_layer + 1)
        delta = names.delta(target_layer + 1)
        steps = [
            Step(VJP(Partial(f, u_above), jac(u_above)), Reason("chain")),
            Step(VJP(delta, jac(above.equation)), Reason("delta", target_layer + 1)),
        ]
        g = vjp(above, delta)[1]
        steps.append(Step(VJP(g, jac(names.z(target_layer))), Reason("chain")))
        top = target_layer
    for k in range(top, target_layer - 1, -1):
        affine, act = ops[2 * (k - 1)], ops[2 * k - 1]
        steps.append(Step(VJP(g, jac(Sigma(k, affine.equation))), Reason("layer", k)))
        (gu,) = vjp(act, g)
        steps.append(Step(VJP(gu, jac(affine.equation)), Reason("chain")))
        collapsed = output_delta(spec, names) if k == J else None
        if collapsed:
            steps.append(
                Step(VJP(collapsed[0], jac(affine.equation)), Reason("simplify", note=collapsed[1]))
            )
        delta = names.delta(k)
        adjoints = vjp(affine, delta)
        if k == target_layer:
            steps.append(Step(adjoints[affine.inputs.index(param)], Reason("delta", k)))
            break
        steps.append(Step(VJP(delta, jac(affine.equation)), Reason("delta", k)))
        g = adjoints[1]
        steps.append(Step(VJP(g, jac(names.z(k - 1))), Reason("chain")))
    return Chain(target=param, steps=tuple(steps))


def perceptron_pass(p: Pass) -> Pass:
    """Rosenblatt's perceptron rule as a pass: the step's sigma' (0 almost everywhere) replaced
    by 1, so delta_1 = dl/dz_1 and W_1 <- W_1 - lr delta_1 z_0^T, i.e. W += 2 lr (y - z) z^T."""
    ones = {dsig: OneMatrix(*dsig.shape) for dsig, expr in p.sigma_primes if expr.is_ZeroMatrix}
    deltas = tuple((lhs, drop_ones(rhs.xreplace(ones))) for lhs, rhs in p.deltas)
    primes = tuple((lhs, rhs) for lhs, rhs in p.sigma_primes if lhs not in ones)
    return replace(p, deltas=deltas, sigma_primes=primes)


def frozen_layers(spec: Spec) -> int:
    """How many layers from the input a zero sigma' (the step) cuts off from every gradient:
    delta_j = 0 for j <= k when layer k has sigma' = 0."""
    zero = [
        j
        for j, layer in enumerate(spec.layers, start=1)
        if layer.sigma.elementwise and activations.derivative(layer.sigma).is_zero
    ]
    return max(zero, default=0)


@lru_cache(maxsize=64)
def derive(spec: Spec) -> Derivation:
    """Derive the delta recursion and every gradient of `spec` (cached per spec)."""
    sample = Names(spec.widths, batch=False)
    ops = graph(spec, sample)
    chains = []
    for j in range(spec.depth, 0, -1):
        chains.append(chain(spec, sample, ops, j, sample.W(j)))
        if spec.layers[j - 1].bias:
            chains.append(chain(spec, sample, ops, j, sample.b(j)))
    return Derivation(
        spec=spec,
        sample=reverse(spec, sample),
        batch=reverse(spec, Names(spec.widths, batch=True)),
        chains=tuple(chains),
        derivatives=tuple(
            activations.derivative(layer.sigma) if layer.sigma.elementwise else None
            for layer in spec.layers
        ),
    )
