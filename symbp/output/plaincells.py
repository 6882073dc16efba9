"""One time step of a recurrent cell and its reverse pass as plain tensor statements (each value
a new tensor, no ``out=``): the bodies of the loops of templates/torch/_recurrent.py.j2.

The formulas are the derivation's (`graph.cells.Cell`'s ops, `derivation.bptt.cell_pass`'s
definitions and carries), printed by the backend's printer.  As in `cellcode`, the only choices
made here are where values live and when they are computed, each exact in real arithmetic:

* forward (`forward_step`): the gate blocks of a_t + v_t summed as one block; a value read once
  substituted where it is read; neighbouring gates with the same activation computed as one
  block (`cellcode._groups`: sigma on the rows of i, f, g, o at once) and read as its row views.
* reverse (`reverse_step`): what a definition reads that does not depend on the adjoints
  (sigma'_t, tanh(c_t), c_{t-1} and their products: `cellcode`'s hoisting) is computed for all
  steps at once before the loop, over the trace's rows; each step binds its columns and runs
  the products with the adjoints.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .cellcode import _gate_blocks, _groups, _inline, split_reverse


@dataclass(frozen=True)
class ForwardStep:
    """`lines`: (name, code) assignments of one step, after a_t and the previous states are
    bound; `stored`: the names of the trace's values in row order (the step's block of the
    trace is their rows stacked)."""

    lines: list
    stored: list


@dataclass(frozen=True)
class ReverseStep:
    """`before`: (name, code) assignments before the loop, over all steps' columns (the trace's
    rows `trace[a:b]`, the previous states `_shifted(...)`, the adjoint-independent factors);
    `per_step`: the names of those the loop reads, each bound to its step's columns (the tuple
    `each_<name>` of the T column blocks); `lines`: (name, code) of one step, after the seeds are
    bound; `delta`: the code of delta_t; `carries`: the code of each adjoint sent to step t-1."""

    before: list
    per_step: list
    lines: list
    delta: str
    carries: list


def forward_step(c, layout, projection, printed) -> ForwardStep:
    """The statements of one forward step of cell `c` (`projection`: v_t's formula; `layout`:
    the layer's `Info`, whose stored values the trace keeps)."""
    values = [(c.v, projection), *((op.output, op.equation) for op in c.ops)]

    def stem(rows, k):  # the code's name of a block sum: av1_t = a1_t + v1_t
        return sp.MatrixSymbol(f"av{'' if k == 0 else k + 1}{c.layer}_t", rows, c.cols)

    stored = set(layout.stored_values)
    values = _inline(_gate_blocks(values, stem), keep=stored)
    lines = []
    for g in _groups(values, lambda x: layout.rows_of(x) if x in stored else None):
        if len(g.values) == 1:
            lines.append((g.values[0].name, printed(g.rhs)))
            continue
        span = f"span{g.rows[0]}_{g.rows[1]}"  # the rows of several values, computed at once
        lines.append((span, printed(g.rhs)))
        for x in g.values:
            start, stop = (r - g.rows[0] for r in layout.rows_of(x))
            lines.append((x.name, f"{span}[{start}:{stop}]"))
    return ForwardStep(lines, [x.name for x in layout.stored_values])


def reverse_step(c, layout, p, printed) -> ReverseStep:
    """The statements of the reverse loop of cell `c` (its pass `p`)."""
    split = split_reverse(c, layout, p, c.cols)
    every, step_defs, carries = split.every, split.step_defs, split.carries
    loop_reads = split.loop_reads
    every_reads = set()
    for _, rhs in every:
        every_reads |= rhs.atoms(sp.MatrixSymbol)
    needed = loop_reads | every_reads

    def whole(x):  # x over every step's columns
        return sp.MatrixSymbol(f"all_{x.name}", *x.shape)

    before = [
        (whole(x).name, f"trace[{a}:{b}]")
        for x in layout.stored_values
        for a, b in [layout.rows_of(x)]
        if x in needed
    ]
    for s, q in zip(c.state, c.previous, strict=True):
        if q in needed:
            a, b = layout.rows_of(s)
            before.append((whole(q).name, f"_shifted(trace[{a}:{b}], T)"))
    known = {x: whole(x) for x in [*layout.stored_values, *c.previous]}
    for lhs, rhs in every:
        before.append((whole(lhs).name, printed(rhs.xreplace(known))))
        known[lhs] = whole(lhs)
    per_step = sorted(x.name for x in loop_reads & set(known))
    lines = [(lhs.name, printed(rhs)) for lhs, rhs in step_defs]
    defined = {lhs for lhs, _ in step_defs}
    delta = p.delta.name if p.delta in defined else printed(p.delta)
    return ReverseStep(before, per_step, lines, delta, [printed(x) for x in carries])
