"""A recurrent layer on explicit SymPy matrices, step by step: the recurrence's trace and BPTT
as the proof's evaluator (`expansion.evaluate`) computes them, each step's ops (and, backwards,
each definition of the step's reverse pass) evaluated in turn.

`evaluate(expr, bindings)` is the caller's evaluator with the step's values bound as well.
"""

from __future__ import annotations

import sympy as sp

from ..derivation.bptt import cell_pass


def _step(M, t: int, n: int):
    return M[:, t * n : (t + 1) * n]


def _side_by_side(blocks: list):
    out = blocks[0]
    for block in blocks[1:]:
        out = out.row_join(block)
    return out


def forward(info, evaluate, A, W, *bias):
    """The trace of `graph.recurrence.Recurrence` (`info`'s stored values of every step)."""
    c = info.cell
    n = A.cols // info.steps
    previous = [sp.zeros(c.hidden, n) for _ in c.previous]
    columns = []
    for t in range(info.steps):
        v = W * previous[0]
        if bias:
            v = v + bias[0] * sp.ones(1, n)
        values = {c.a: _step(A, t, n), c.v: v, **dict(zip(c.previous, previous, strict=True))}
        for op in c.ops:
            values[op.output] = evaluate(op.equation, values)
        block = values[info.stored_values[0]]
        for x in info.stored_values[1:]:
            block = block.col_join(values[x])
        columns.append(block)
        previous = [values[x] for x in c.state]
    return _side_by_side(columns)


def backward(info, evaluate, zeta, S, W):
    """`graph.recurrence.Bptt`: the step's reverse pass from t = T to 1, the carried adjoints cut
    at every multiple of the truncation window."""
    c, p = info.cell, cell_pass(info.cell)
    n = S.cols // info.steps
    every_step = zeta.cols == S.cols
    carries = [sp.zeros(c.hidden, n) for _ in c.previous]
    W_symbol = sp.MatrixSymbol(f"Whh{c.layer}", *W.shape)
    deltas = [None] * info.steps
    for t in reversed(range(info.steps)):
        values = {W_symbol: W}
        for x in info.stored_values:
            start, stop = info.rows_of(x)
            values[x] = _step(S, t, n)[start:stop, :]
        for x, state in zip(c.previous, c.state, strict=True):
            start, stop = info.rows_of(state)
            values[x] = _step(S, t - 1, n)[start:stop, :] if t else sp.zeros(c.hidden, n)
        out = _step(zeta, t, n) if every_step else (zeta if t == info.steps - 1 else 0 * zeta)
        values[p.seeds[0]] = out + carries[0]
        for seed, carry in zip(p.seeds[1:], carries[1:], strict=True):
            values[seed] = carry
        for lhs, rhs in p.definitions:
            values[lhs] = evaluate(rhs, values)
        deltas[t] = values[p.delta]
        carries = [evaluate(x, values) for x in p.carries]
        if info.truncate and t % info.truncate == 0:
            carries = [0 * x for x in carries]
    return _side_by_side(deltas)
