"""The emitted code of each recurrent layer's step as plain assignments, for backends whose
arrays are immutable (templates/jax/_recurrent.py.j2 runs them in ``jax.lax.scan``): the
step's forward ops and its reverse pass (`derivation.bptt.cell_pass`), printed by the backend's
printer class, with what the template binds around them.

The NumPy module's loops (`output.cells`, `output.cellcode`) write the same formulas into
scratch arrays in place; here every formula is one expression assigned to its symbol's name.
"""

from __future__ import annotations

from ..derivation.bptt import cell_pass
from ..graph.recurrence import Hidden
from ..printing.numpy import code
from .cells import hidden_projection, readout_of
from .fastpaths import identifiers


def scan_context(graph, printer) -> list[dict]:
    """One dict per recurrent layer of `graph` (the batch pass's), its step's formulas printed by
    `printer` (a backend's printer class): the forward step (`forward`: (name, code) in order,
    the hidden projection v_t first), the values the trace keeps (`stored`, in row order), and
    the reverse step (`backward`: (name, code), then `carries`, the adjoints step t - 1 gets),
    with the trace rows the reverse step reads (`reads`: (name, start, stop)) and the previous
    states it reads (`previous`: (name, start, stop) of the state's rows one step earlier)."""
    out = []
    for op in graph.ops:
        if op.kind == "recurrence":
            out.append(_layer(graph, op, printer))
    return out


def _layer(graph, op, printer) -> dict:
    info = op.attr("info")
    c, p = info.cell, cell_pass(info.cell)
    acts = {info.layer: info.activation} if info.activation else {}

    def printed(expr) -> str:
        return code(expr, acts, printer)

    A, W, *_ = op.inputs
    readout = readout_of(graph, op)
    forward = [(c.v.name, printed(hidden_projection(op)))]
    forward += [(o.output.name, printed(o.equation)) for o in c.ops]
    backward = [(lhs.name, printed(rhs)) for lhs, rhs in p.definitions]
    carries = [printed(rhs) for rhs in p.carries]
    used = identifiers(*(text for _, text in backward), *carries)
    stored = [(x.name, *info.rows_of(x)) for x in info.stored_values]
    states = {q.name: s for s, q in zip(c.state, c.previous, strict=True)}
    previous = [(name, *info.rows_of(state)) for name, state in states.items() if name in used]
    zeta = graph.named[readout.output].name
    every_step = isinstance(readout.equation, Hidden)
    return {
        "j": info.layer,
        "arguments": ", ".join(x.name for x in op.inputs),
        "A": A.name,
        "W": W.name,
        "rows": int(A.shape[0]),
        "hidden": info.hidden,
        "trace_rows": info.trace_rows,
        "a": c.a.name,
        "states": [(s.name, q.name) for s, q in zip(c.state, c.previous, strict=True)],
        "forward": forward,
        "stored": [name for name, *_ in stored],
        "zeta": zeta,
        "every_step": every_step,
        "seeds": [s.name for s in p.seeds],
        "backward": backward,
        "delta": p.delta.name,
        "carries": carries,
        "reads": [row for row in stored if row[0] in used],
        "previous": previous,
        "previous_names": [name for name, *_ in previous],
        "truncate": info.truncate,
    }
