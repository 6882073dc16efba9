"""The generic reverse pass: a `Graph` -> a `Pass`, knowing nothing about the ops.

Ops are visited in reverse topological order.  The adjoint of each op's output is the sum of what
its consumers sent back (the multivariate chain rule); where the graph names that adjoint
(u_j -> delta_j), the pass defines the name and sends the name on, so every expression stays the
size of one layer and the work grows linearly in the number of ops.  Each op's rule
(`rules.RULES`) turns its output adjoint into one adjoint per input; a local derivative the rule
uses by name (sigma'_j) is defined before its first use.  Definitions nothing uses are dropped.
"""

from __future__ import annotations

import sympy as sp
from sympy import MatAdd, MatMul

from ..graph.ops import Graph, f
from . import rules
from .steps import Pass


def _total(parts: list):
    return parts[0] if len(parts) == 1 else MatAdd(*parts)


def reverse(graph: Graph, names, scale, overrides: dict | None = None) -> Pass:
    """The reverse pass of `graph` for f = scale * (the loss op's output).

    `overrides` maps a value with a named adjoint to a simplified formula for that adjoint
    (the lecture's delta_J = z_J - y, from `lecture`), used in place of the sum.
    """
    overrides = overrides or {}
    parts: dict = {f: [sp.Integer(1)]}
    contributions, backward = {}, []
    for op in reversed(graph.ops):
        received = parts.pop(op.output, None)
        if received is None:  # no path from this op to f
            continue
        received.reverse()  # the consumers' order: the first consumer's adjoint first
        if len(received) > 1:
            contributions[op.output] = tuple(received)
        g = _total(received)
        if op.output in graph.named:
            name = graph.named[op.output]
            backward.append((name, overrides.get(op.output, g)))
            g = name
        adjoints = rules.vjp(op, g)
        local = rules.local(op)
        if local and any(gx is not None and gx.has(local[0]) for gx in adjoints):
            backward.append(local)
        backward += rules.defines(op)  # kept where used (`_used`)
        for x, gx in zip(op.inputs, adjoints, strict=True):
            if gx is not None:
                parts.setdefault(x, []).append(gx)
    decay = penalty_gradients(graph)
    gradients = {}
    for param in graph.params:
        received = parts[param.symbol][::-1]
        if len(received) > 1:
            contributions[param.symbol] = tuple(received)
        g = _total(received)
        g = g if scale == 1 else MatMul(scale, *MatMul.make_args(g))
        gradients[param.key] = MatAdd(g, decay[param.symbol]) if param.symbol in decay else g
    penalty = sp.Add(*(op.equation for op in graph.penalties))
    data = graph.ops[-1].equation if scale == 1 else scale * graph.ops[-1].equation
    return Pass(
        names=names,
        graph=graph,
        objective=data + penalty,
        penalty=penalty,
        data_objective=data,
        scale=scale,
        backward=_used(backward, gradients.values()),
        gradients=gradients,
        contributions=contributions,
    )


def penalty_gradients(graph: Graph) -> dict:
    """param -> d (its penalty) / d param (2 lambda W), from the penalty ops' rules; penalties
    add to f outside the reduction factor, so their gradients are not scaled."""
    out = {}
    for op in graph.penalties:
        for x, gx in zip(op.inputs, rules.vjp(op, sp.Integer(1)), strict=True):
            out[x] = gx if x not in out else MatAdd(out[x], gx)
    return out


def _used(backward: list, results) -> tuple:
    """The definitions that `results` need, directly or through later definitions, each after
    the definitions it uses (in the pass's order where that allows)."""
    needed = set().union(*(r.free_symbols for r in results))
    kept = []
    for lhs, rhs in reversed(backward):
        if lhs in needed:
            kept.append((lhs, rhs))
            needed |= rhs.free_symbols
    return _after_their_uses(list(reversed(kept)))


def _after_their_uses(definitions: list) -> tuple:
    """`definitions` reordered so that each follows those it uses: repeatedly the first one
    whose uses are all defined (stable: an order that already works is kept)."""
    defined = {lhs for lhs, _ in definitions}
    done, out = set(), []
    while definitions:
        for i, (lhs, rhs) in enumerate(definitions):
            if not (rhs.free_symbols & defined) - done - {lhs}:
                out.append(definitions.pop(i))
                done.add(lhs)
                break
        else:
            raise AssertionError(f"definitions use each other: {[d[0] for d in definitions]}")
    return tuple(out)
