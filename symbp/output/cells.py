"""The emitted code of each recurrent layer's step: its forward ops and its reverse pass
(`derivation.bptt.cell_pass`), printed for templates/numpy/_recurrent.py.j2, which loops them
over the time steps (`_recurrence<j>` forward, `_bptt<j>` backward)."""

from __future__ import annotations

from sympy import MatAdd, MatMul, OneMatrix

from ..derivation.bptt import cell_pass
from ..escape import python_string
from ..printing.numpy import SymbpNumPyPrinter
from ..printing.text import text
from .cellcode import backward_plan, forward_plan
from .plaincells import forward_step, reverse_step

_TITLES = {
    "rnn": "Elman recurrence",
    "lstm": "LSTM recurrence",
    "gru": "GRU recurrence",
}


def hidden_projection(op):
    """v_t = W_hh h_{t-1} (+ b_hh 1ᵀ) of the recurrence op `op`: the step's one product."""
    c, (_, W, *bias) = op.attr("info").cell, op.inputs
    projection = MatMul(W, c.previous[0])
    if bias:
        projection = MatAdd(projection, MatMul(bias[0], OneMatrix(1, c.cols)))
    return projection


def readout_of(graph, op):
    """The readout op of the recurrence op `op` in `graph` (z_j = H_j or h_T)."""
    return next(o for o in graph.ops if o.kind == "readout" and o.inputs[0] == op.output)


def recurrent_context(graph, printed, plain: bool = False) -> list[dict]:
    """One dict per recurrent layer of `graph` (the batch pass's), formulas printed by `printed`,
    with the loops' statements: in place for the NumPy module ("step", "reverse": `cellcode`),
    or with `plain` as plain tensor statements printed by `printed` ("plain_forward",
    "plain_reverse": `plaincells`, for the torch backend)."""
    out = []
    for op in graph.ops:
        if op.kind != "recurrence":
            continue
        info = op.attr("info")
        c, p = info.cell, cell_pass(info.cell)
        A, W, *_ = op.inputs
        projection = hidden_projection(op)
        readout = readout_of(graph, op)
        zeta = graph.named[readout.output]
        stored = [(x.name, *info.rows_of(x)) for x in info.stored_values]
        forward = [(o.output, o.equation) for o in c.ops]
        backward = list(p.definitions)
        out.append(
            {
                "j": info.layer,
                "title": _TITLES[info.kind],
                "hidden": info.hidden,
                "rows": int(A.shape[0]),
                "trace_rows": info.trace_rows,
                "A": A.name,
                "W": W.name,
                "arguments": ", ".join(x.name for x in op.inputs),
                "a": c.a.name,
                "forward_text": [
                    python_string(f"{text(lhs)} = {text(rhs)}")
                    for lhs, rhs in [(c.v, projection), *forward]
                ],
                "stored_text": ", ".join(python_string(text(x)) for x in info.stored_values),
                "stored_rows": ", ".join(f"{a}:{b}" for _, a, b in stored),
                "states": [(s.name, q.name) for s, q in zip(c.state, c.previous, strict=True)],
                "zeta": zeta.name,
                "every_step": readout.equation.__class__.__name__ == "Hidden",
                "output_text": "H (every step's h_t)"
                if readout.equation.__class__.__name__ == "Hidden"
                else "h_T",
                "seeds": [s.name for s in p.seeds],
                "backward_text": [
                    python_string(f"{text(lhs)} = {text(rhs)}") for lhs, rhs in backward
                ]
                + [python_string(f"(to step t−1) {text(rhs)}") for rhs in p.carries],
                "norms": step_norm_names(c, p),
                "norm_values": [  # the code of each recorded value in the step's loop
                    (key, "deltas[t]" if key == "delta" else name)
                    for key, name in step_norm_names(c, p)
                ],
                "carried": [(k, int(s.shape[0])) for k, s in enumerate(p.seeds, start=1)],
                "truncate": info.truncate,
                "truncate_text": (
                    f", the carried adjoints cut every {info.truncate} steps (truncated BPTT)"
                    if info.truncate
                    else ""
                ),
            }
        )
        if plain:
            out[-1]["plain_forward"] = forward_step(c, info, projection, printed)
            out[-1]["plain_reverse"] = reverse_step(c, info, p, printed)
        else:
            printer = SymbpNumPyPrinter({info.layer: info.activation} if info.activation else {})
            out[-1]["step"] = forward_plan(c, info, projection, printer)
            out[-1]["reverse"] = backward_plan(c, info, p, printer, c.cols)
    return out


def step_norm_names(c, p) -> list[tuple[str, str]]:
    """(key, symbol) of the adjoints `_bptt<j>` records the norms of, each step, when asked
    (`step_adjoint_norms`): "delta", the stacked pre-activation adjoint delta_t = d f / d a_t,
    and for the LSTM "cell", the cell state's adjoint deltac_t (the name the derivation gives
    c_t's adjoint)."""
    names = [("delta", p.delta.name)]
    if len(c.state) > 1:
        names.append(("cell", c.named[c.state[1]].name))
    return names


def step_norms_context(batch, printed, params: list[dict]) -> dict:
    """What the emitted `step_adjoint_norms` runs: the batch backward definitions up to the last
    BPTT as statements (each `_bptt<j>` call with its recording argument `norms[j]`; a value
    no later line reads is not assigned), the params those lines
    read (`params`: the module's param dicts), whether they read N, and `_forward`'s outputs
    they read (the others unpacked as _)."""
    from .fastpaths import identifiers

    recurrences, norm_names = {}, {}
    for op in batch.graph.ops:
        if op.kind == "recurrence":
            info = op.attr("info")
            recurrences[op.attr("delta")] = info.layer
            norm_names[info.layer] = step_norm_names(info.cell, cell_pass(info.cell))
    last = max(i for i, (lhs, _) in enumerate(batch.backward) if lhs in recurrences)
    lines = []
    for lhs, rhs in batch.backward[: last + 1]:
        code = printed(rhs)
        if lhs in recurrences:
            j = recurrences[lhs]
            operands = ", ".join(printed(x) for x in rhs.operands)
            code = f"_bptt{j}({operands}, T, norms=norms[{j}])"
        lines.append((lhs.name, code))
    used = identifiers(*(code for _, code in lines))
    lines = [  # a value no later line reads (the last BPTT's Delta_j) is not assigned
        code if lhs not in identifiers(*(c for _, c in lines[i + 1 :])) else f"{lhs} = {code}"
        for i, (lhs, code) in enumerate(lines)
    ]
    names = ["Z0", *(lhs.name for lhs, _ in batch.forward)]
    return {
        "lines": lines,
        "params": [x for x in params if x["key"] in used],
        "uses_n": "N" in used,
        "unpacked": ", ".join(n if n in used else "_" for n in names),
        "layers": [(j, [key for key, _ in recorded]) for j, recorded in norm_names.items()],
    }
