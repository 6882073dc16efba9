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
        for x, gx in zip(op.inputs, adjoints, strict=True):
            if gx is not None:
                parts.setdefault(x, []).append(gx)
    gradients = {}
    for param in graph.params:
        received = parts[param.symbol][::-1]
        if len(received) > 1:
            contributions[param.symbol] = tuple(received)
        g = _total(received)
        gradients[param.key] = g if scale == 1 else MatMul(scale, *MatMul.make_args(g))
    return Pass(
        names=names,
        graph=graph,
        objective=graph.ops[-1].equation if scale == 1 else scale * graph.ops[-1].equation,
        scale=scale,
        backward=_used(backward, gradients.values()),
        gradients=gradients,
        contributions=contributions,
    )


def _used(backward: list, results) -> tuple:
    """The definitions that `results` need, directly or through later definitions, in order."""
    needed = set().union(*(r.free_symbols for r in results))
    kept = []
    for lhs, rhs in reversed(backward):
        if lhs in needed:
            kept.append((lhs, rhs))
            needed |= rhs.free_symbols
    return tuple(reversed(kept))
