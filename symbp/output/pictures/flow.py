"""The computational graph with the backward flow beside it (issue 13, item 2).

Rows top to bottom: the input z_0, then every op of the graph in evaluation order as a box
``output = equation`` (the loss last).  Forward arrows go down the column (a value that skips
rows, a residual connection, on the left).  Right of the column the backward pass goes up: each
arrow from an op to the producer of one of its inputs is labelled with the adjoint it carries,
the rule table's vector-Jacobian product (`rules.vjp`) of the op's output adjoint, exactly as
the reverse pass (`derivation.reverse`) forms it; an arrow into a named value says which name
it defines (delta_j = (W_{j+1}^T delta_{j+1}) o sigma'_j) with the pass's own definition.
Where a value feeds several ops its adjoints meet in a circled "+": the pass's
`contributions`, which add up.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy import MatAdd

from ...derivation import rules
from ...derivation.derive import derive
from ...graph.nodes import Partial
from ...graph.ops import Op, f
from .model import Drawing, Label, Node, Path, Text, equals
from .network import objective

PITCH, BOX_H, STUB, PLUS = 0.85, 0.46, 0.12, 0.22  #: cm: row pitch, box height, offsets, "+"
MAX_LAYERS = 6  #: deeper networks show their first and last two layers (see `_shown_ops`)


@dataclass(frozen=True)
class Carried:
    """The adjoint `expr` that `op` sends back to its input `value` (a value some op makes)."""

    op: Op
    value: sp.Basic
    expr: sp.Basic


def carried(p) -> list[Carried]:
    """Every backward arrow of pass `p`, in the reverse pass's order: the op's output adjoint
    (its name where the graph names it, else the sum of what its consumers sent) through the
    op's rule.  Arrows to parameters, targets and the input z_0 are left out."""
    graph = p.graph
    parts: dict = {f: [sp.Integer(1)]}
    out = []
    for op in reversed(graph.ops):
        received = parts.pop(op.output, None)
        if received is None:
            continue
        received.reverse()
        g = graph.named.get(op.output) or (received[0] if len(received) == 1 else MatAdd(*received))
        for x, gx in zip(op.inputs, rules.vjp(op, g), strict=True):
            if gx is None:
                continue
            parts.setdefault(x, []).append(gx)
            if graph.producer(x) is not None:
                out.append(Carried(op, x, gx))
    return out


def sums(p) -> list[tuple]:
    """(value, the adjoints that add up to its own) for every value that feeds several ops,
    from the pass's `contributions` (parameters left out)."""
    params = {prm.symbol for prm in p.graph.params}
    return [(x, parts) for x, parts in p.contributions.items() if x not in params]


def graph_drawing(spec) -> Drawing:
    """The computational graph of `spec`'s one-sample pass with its backward flow."""
    return pass_drawing(derive(spec).sample)


def _edge_label(p, c: Carried, summed: bool) -> Label:
    """What an arrow says: the adjoint it carries; into a named value with one consumer, the
    name and the pass's definition of it (delta_2 = (W_3^T delta_3) o sigma'_2)."""
    name = p.graph.named.get(c.value)
    if name is None or summed:
        return Label.of(c.expr)
    return equals(Label.of(name), Label.of(dict(p.backward)[name]))


def pass_drawing(p) -> Drawing:
    """The drawing of pass `p` (see the module docstring)."""
    graph = p.graph
    shown, gap = _shown_ops(p)
    rows = {graph.outputs[0]: 0}
    boxes, styles = [Label.of(graph.outputs[0])], ["value"]
    for op in shown:
        if op is None:
            boxes.append(Label.words(f"layers {gap[0]} to {gap[1]}"))
            styles.append("gap")
        elif op is graph.ops[-1]:
            boxes.append(equals(Label.of(f), objective(graph)))
            styles.append("loss")
        else:
            boxes.append(equals(Label.of(op.output), Label.of(op.equation)))
            styles.append("value")
        rows[op.output if op else None] = len(boxes) - 1
    if gap:  # the elided ops' values: in the gap's row
        rows |= {op.output: rows[None] for op in graph.ops if gap[0] <= (op.layer or 0) <= gap[1]}
    width = max(max(b.width for b in boxes) + 0.3, 1.2)
    nodes = [
        Node(0.0, -r * PITCH, "box", width, BOX_H, (b,), style)
        for r, (b, style) in enumerate(zip(boxes, styles, strict=True))
    ]
    left, right = -width / 2, width / 2
    paths, texts = _forward(graph, rows, nodes, left), []
    arrows = [c for c in carried(p) if rows[c.op.output] != rows[c.value]]
    summed = {x for x, _ in sums(p)}
    lane = right + 0.4
    near = [c for c in arrows if rows[c.op.output] - rows[c.value] == 1]
    far = [c for c in arrows if rows[c.op.output] - rows[c.value] > 1]
    labels = {id(c): _edge_label(p, c, c.value in summed) for c in arrows}
    far_lanes = {}
    x = lane + max((labels[id(c)].width for c in near), default=0.0) + 0.45
    for c in far:
        far_lanes[id(c)] = x
        x += labels[id(c)].width + 0.45
    pluses = {}
    for value in summed:
        y = nodes[rows[value]].y - STUB
        pluses[value] = Node(lane, y, "plus", PLUS, PLUS, (Label("+", "+"),), "plus")
        paths.append(Path(((lane - PLUS / 2, y), (right, y)), "backward"))
    for c in arrows:
        top, low = nodes[rows[c.value]], nodes[rows[c.op.output]]
        x = far_lanes.get(id(c), lane)
        start = (right, low.y + STUB)
        if c.value in summed:
            plus = pluses[c.value]
            end = plus.border((x, plus.y - 1.0)) if x == lane else plus.border((x, plus.y))
        else:
            end = (right, top.y - STUB)
        corner = (x, end[1]) if x != lane or c.value not in summed else end
        points = (start, (x, start[1]), corner) + (() if corner == end else (end,))
        paths.append(Path(points, "backward"))
        mid = (start[1] + corner[1]) / 2
        texts.append(Text(x + 0.08, mid, labels[id(c)], "west", "backward"))
    head = nodes[0].y + BOX_H / 2 + 0.12
    texts.append(Text(0.0, head, Label.words("forward"), "south"))
    texts.append(Text(lane, head, Label.words("backward: adjoints"), "south west", "backward"))
    notes = tuple(equals(Label.of(Partial(f, x)), Label.of(MatAdd(*parts))) for x, parts in sums(p))
    return Drawing(
        tuple(nodes) + tuple(pluses.values()),
        tuple(paths),
        tuple(texts),
        notes,
        summary="the forward ops and the adjoints the backward pass sends",
    )


def _shown_ops(p) -> tuple[list, tuple | None]:
    """The ops drawn, in order, with None where layers a..b are elided, and (a, b) or None.
    Networks deeper than `MAX_LAYERS` without sums of adjoints show their first and last two
    layers; the arrows into and out of the gap carry the adjoints that cross it."""
    ops, depth = list(p.graph.ops), max(op.layer or 0 for op in p.graph.ops)
    if depth <= MAX_LAYERS or sums(p):
        return ops, None
    a, b = 3, depth - 2
    first = [op for op in ops if op.layer is not None and op.layer < a]
    last = [op for op in ops if op.layer is None or op.layer > b]
    return [*first, None, *last], (a, b)


def _forward(graph, rows: dict, nodes: list, left: float) -> list[Path]:
    """Forward arrows: down the column from row to row, on the left where a value skips rows."""
    paths, lane = [], left - 0.3
    for op in graph.ops:
        r = rows[op.output]
        for x in op.inputs:
            if x not in rows or rows[x] == r:
                continue
            top, low = nodes[rows[x]], nodes[r]
            if rows[x] == r - 1:
                paths.append(Path(((0.0, top.y - BOX_H / 2), (0.0, low.y + BOX_H / 2)), "forward"))
            else:
                points = ((left, top.y), (lane, top.y), (lane, low.y), (left, low.y))
                paths.append(Path(points, "skip"))
                lane -= 0.3
    return paths
