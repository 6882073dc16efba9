"""Backpropagation through time: the reverse pass of one step of a recurrent layer (`cell_pass`,
the rule table applied to the step's ops from the adjoints of its states), what the trace keeps
for it (`stored`), and a step's expression for all steps at once (`sequence_form`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp
from sympy import MatAdd, MatMul, Transpose, ZeroMatrix

from ..graph.cells import GATES, Blocks, Cell, Embed, RowSlice
from . import rules


@dataclass(frozen=True)
class CellPass:
    """The reverse pass of one step, from the adjoints of its states.

    `seeds` are the symbols of the states' adjoints at step t (eps_t for h_t: the output's term
    plus what step t + 1 sends back; epsc_t for c_t: what step t + 1 sends back); `definitions`
    (lhs, rhs) in evaluation order; `delta` names d f / d a_t (with its definition among them),
    `delta_v` d f / d v_t (`delta` itself when equal); `carries` the adjoints of the previous
    states (h_{t-1}, c_{t-1}) that step t - 1 receives; `reads` every step value they use."""

    seeds: tuple
    definitions: tuple
    delta: sp.MatrixSymbol
    delta_v: sp.MatrixSymbol
    carries: tuple
    reads: frozenset


def total(parts: list):
    """The sum of adjoint parts; gate shares (`Embed`) of one stacked value become `Blocks`."""
    shares = [p for p in parts if isinstance(p, Embed)]
    rest = [p for p in parts if not isinstance(p, Embed)]
    if shares:
        count = int(shares[0].args[2])
        slots = [[] for _ in range(count)]
        for s in shares:
            slots[int(s.args[1])].append(s.args[0])
        like = shares[0].args[0]
        rest.append(
            Blocks(
                *(
                    (s[0] if len(s) == 1 else MatAdd(*s)) if s else ZeroMatrix(*like.shape)
                    for s in slots
                )
            )
        )
    return rest[0] if len(rest) == 1 else MatAdd(*rest)


@cache
def cell_pass(c: Cell) -> CellPass:
    seeds = tuple(c.step("eps" if x.name.startswith("h") else "epsc") for x in c.state)
    parts = {x: [s] for x, s in zip(c.state, seeds, strict=True)}
    definitions = []
    for op in reversed(c.ops):
        received = parts.pop(op.output, None)
        if received is None:
            continue
        g = total(received)
        if op.output in c.named:
            definitions.append((c.named[op.output], g))
            g = c.named[op.output]
        adjoints = rules.vjp(op, g)
        local = rules.local(op)
        if local and any(gx is not None and gx.has(local[0]) for gx in adjoints):
            definitions.append(local)
        for x, gx in zip(op.inputs, adjoints, strict=True):
            if gx is not None:
                parts.setdefault(x, []).append(gx)
    delta = c.step("delta", rows=c.a.shape[0]) if c.kind != "rnn" else None
    a_adj, v_adj = total(parts[c.a]), total(parts[c.v])
    if delta is None:  # rnn: the pre-activation's adjoint is already delta_t
        delta = a_adj
    else:
        definitions.append((delta, a_adj))
    if v_adj == a_adj:
        delta_v = delta
    else:
        delta_v = c.step("deltav", rows=c.v.shape[0])
        definitions.append((delta_v, v_adj))
    W = sp.MatrixSymbol(f"Whh{c.layer}", c.v.shape[0], c.hidden)
    carry_h = [MatMul(Transpose(W), delta_v), *parts.get(c.previous[0], [])]
    carries = [total(carry_h)]
    if len(c.previous) > 1:
        carries.append(total(parts.get(c.previous[1], [])))
    used = set()
    for _, rhs in definitions:
        used |= rhs.free_symbols
    for rhs in carries:
        used |= rhs.free_symbols
    return CellPass(seeds, tuple(definitions), delta, delta_v, tuple(carries), frozenset(used))


def stored(c: Cell) -> tuple[str, ...]:
    """The names of the values the trace keeps at each step: the states, then the step values
    (op outputs and the projections a_t, v_t) that the reverse pass reads."""
    needed = cell_pass(c).reads
    values = [op.output for op in c.ops] + [c.a, c.v]
    kept = list(c.state) + [x for x in values if x in needed and x not in c.state]
    return tuple(x.name for x in kept)


def sequence_form(info, expr, delta, S):
    """A step's expression in the cell's adjoints and stored values, for all steps at once: each
    step quantity replaced by its sequence (time-major column blocks), so that an entry-wise
    expression of step t becomes the same expression of every step side by side."""
    c, p = info.cell, cell_pass(info.cell)
    subs = {p.delta: delta}
    for x in info.stored_values:
        subs[x] = RowSlice(S, *info.rows_of(x), x.name.split("_")[0].rstrip("0123456789"))
    H = c.hidden
    for index, (k, _) in enumerate(GATES[info.kind]):
        subs[c.step(f"delta{k}")] = RowSlice(delta, index * H, (index + 1) * H, k)
    return expr.xreplace(subs)


def hidden_adjoint(info, delta, S):
    """Delta^v_j's formula: the step's d f / d v_t for all steps at once (`sequence_form`), or
    None where it is Delta_j itself (Elman, LSTM: v_t and a_t are added)."""
    p = cell_pass(info.cell)
    if p.delta_v == p.delta:
        return None
    return sequence_form(info, dict(p.definitions)[p.delta_v], delta, S)
