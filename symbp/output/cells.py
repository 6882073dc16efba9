"""The emitted code of each recurrent layer's step: its forward ops and its reverse pass
(`graph.recurrence.cell_pass`), printed for templates/numpy/_recurrent.py.j2, which loops them
over the time steps (`_recurrence<j>` forward, `_bptt<j>` backward)."""

from __future__ import annotations

from sympy import MatAdd, MatMul, OneMatrix

from ..escape import python_string
from ..graph.recurrence import GATES, cell_pass
from ..printing.numpy import SymbpNumPyPrinter
from ..printing.text import text
from .cellcode import backward_plan, forward_plan

_TITLES = {
    "rnn": "Elman recurrence",
    "lstm": "LSTM recurrence",
    "gru": "GRU recurrence",
}


def recurrent_context(graph, printed) -> list[dict]:
    """One dict per recurrent layer of `graph` (the batch pass's), formulas printed by `printed`."""
    out = []
    for op in graph.ops:
        if op.kind != "recurrence":
            continue
        info = op.attr("info")
        c, p = info.cell, cell_pass(info.cell)
        A, W, *bias = op.inputs
        projection = MatMul(W, c.previous[0])
        if bias:
            projection = MatAdd(projection, MatMul(bias[0], OneMatrix(1, c.cols)))
        readout = next(o for o in graph.ops if o.kind == "readout" and o.inputs[0] == op.output)
        zeta = graph.named[readout.output]
        stored = [(x.name, *c.rows_of(x)) for x in c.stored]
        reads = [(x, start, stop) for x, start, stop in stored if x in {y.name for y in p.reads}]
        forward = [(o.output, o.equation) for o in c.ops]
        backward = list(p.definitions)
        printer = SymbpNumPyPrinter({info.layer: info.activation} if info.activation else {})
        fplan = forward_plan(c, projection, printer)
        bplan = backward_plan(c, p, printer, c.cols)
        out.append(
            {
                "j": info.layer,
                "title": _TITLES[info.kind],
                "kind": info.kind,
                "gates": ", ".join(k for k, _ in GATES[info.kind]),
                "hidden": info.hidden,
                "rows": int(A.shape[0]),
                "trace_rows": c.trace_rows,
                "A": A.name,
                "W": W.name,
                "arguments": ", ".join(x.name for x in op.inputs),
                "a": c.a.name,
                "v": c.v.name,
                "projection": printed(projection),
                "forward": [(lhs.name, printed(rhs)) for lhs, rhs in forward],
                "forward_text": [
                    python_string(f"{text(lhs)} = {text(rhs)}")
                    for lhs, rhs in [(c.v, projection), *forward]
                ],
                "stored": stored,
                "stored_text": ", ".join(python_string(text(x)) for x in c.stored),
                "stored_rows": ", ".join(f"{a}:{b}" for _, a, b in stored),
                "states": [(s.name, q.name) for s, q in zip(c.state, c.previous, strict=True)],
                "reads": reads,
                "previous": [
                    (q.name, *c.rows_of(s))
                    for s, q in zip(c.state, c.previous, strict=True)
                    if q in p.reads
                ],
                "zeta": zeta.name,
                "every_step": readout.equation.__class__.__name__ == "Hidden",
                "output_text": "H (every step's h_t)"
                if readout.equation.__class__.__name__ == "Hidden"
                else "h_T",
                "seeds": [s.name for s in p.seeds],
                "backward": [(lhs.name, printed(rhs)) for lhs, rhs in backward],
                "backward_text": [
                    python_string(f"{text(lhs)} = {text(rhs)}") for lhs, rhs in backward
                ]
                + [python_string(f"(to step t−1) {text(rhs)}") for rhs in p.carries],
                "delta": p.delta.name,
                "carries": [printed(x) for x in p.carries],
                "step": fplan,
                "reverse": bplan,
                "carried": [(k, int(s.shape[0])) for k, s in enumerate(p.seeds, start=1)],
                "truncate": info.truncate,
                "truncate_text": (
                    f", the carried adjoints cut every {info.truncate} steps (truncated BPTT)"
                    if info.truncate
                    else ""
                ),
            }
        )
    return out
