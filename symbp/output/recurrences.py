"""The documents' section on backpropagation through time, for each recurrent layer: the step
unrolled over t = 1..T, the step's reverse pass (the adjoint recursion from t = T down to 1, each
`=` with its reason), and each shared weight's gradient as a sum over time.

Everything is read off the derivation: the step is the cell's ops (`graph.cells.cell`), the
recursion its reverse pass (`cell_pass`), and a sum's terms the affine rule of the step's
projections a_t = W_xh x_t + b and v_t = W_hh h_{t-1} + b_hh (`rules`), printed by the printers.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy import MatAdd, MatMul, OneMatrix

from ..derivation import rules
from ..derivation.bptt import cell_pass
from ..graph.nodes import Partial
from ..graph.ops import Op, f
from ..naming import step_symbol

TITLES = {"rnn": "Elman", "lstm": "LSTM", "gru": "GRU"}
ARTICLES = {"rnn": "an", "lstm": "an", "gru": "a"}  #: "an Elman", "an LSTM", "a GRU"


@dataclass(frozen=True)
class _Reason:
    """Why an `=` of the section holds, as `derivation.steps.Reason` states it for the reason
    printers (not imported: `derivation.steps` reaches this module through `output.report`)."""

    kind: str
    layer: int | None = None
    symbol: object = None
    note: str | None = None


_T = sp.Symbol("t")  #: the step
_CELL_SOURCE = {
    "rnn": "the Elman network, as torch.nn.RNN",
    "lstm": "torch.nn.LSTM's formulation",
    "gru": "torch.nn.GRU's formulation; its update gate z is q here, z naming layer outputs",
}


@dataclass(frozen=True)
class Line:
    """``lhs rel rhs`` with the reason of the relation (None: a definition)."""

    lhs: object
    rhs: object
    reason: str | None = None


@dataclass(frozen=True)
class Section:
    """One recurrent layer's BPTT section, as expressions: `step` (the forward equations of step
    t), `initial` (the states at t = 0), `recursion` (the reverse pass of step t, from the
    states' adjoints), `sums` (each shared parameter's gradient as a sum over the steps and as
    one product over all columns)."""

    layer: int
    kind: str
    source: str
    input: object  #: z_{j-1}: its columns are the steps' inputs x_t
    steps: object
    truncate: int
    last_only: bool
    step: tuple[Line, ...]
    initial: tuple
    recursion: tuple[Line, ...]
    sums: tuple[tuple, ...]


def sections(p) -> list[Section]:
    """One `Section` per recurrent layer of the per-sample pass `p`."""
    return [_section(p, op) for op in p.graph.ops if op.kind == "recurrence"]


def _later(expr):
    """`expr` one step later: x_t -> x_{t+1}, x_{t-1} -> x_t (what step t + 1 sends back)."""
    subs = {}
    for s in expr.free_symbols:
        if isinstance(s, sp.MatrixSymbol) and s.name.endswith(("_t", "_tm1")):
            stem, step = s.name.rsplit("_", 1)
            subs[s] = sp.MatrixSymbol(f"{stem}_{'tp1' if step == 't' else 't'}", *s.shape)
    return expr.xreplace(subs)


def _section(p, op: Op) -> Section:
    info = op.attr("info")
    c, cp = info.cell, cell_pass(info.cell)
    A, W_hh, *b_hh = op.inputs
    affine = p.graph.producer(A)
    W_xh, z_prev, *b = affine.inputs
    x = step_symbol("x", info.layer, "t", int(W_xh.shape[1]), c.cols)
    a_step = MatMul(W_xh, x) if not b else MatAdd(MatMul(W_xh, x), b[0])
    v_step = (
        MatMul(W_hh, c.previous[0]) if not b_hh else MatAdd(MatMul(W_hh, c.previous[0]), b_hh[0])
    )
    step = [Line(c.a, a_step), Line(c.v, v_step)]
    step += [Line(o.output, o.equation) for o in c.ops]
    readout = p.graph.consumers(op.output)[0]
    last_only = readout.equation.__class__.__name__ == "Last"
    zeta_t = step_symbol("zeta", info.layer, "t", info.hidden, c.cols)
    recursion = [
        Line(cp.seeds[0], MatAdd(zeta_t, _later(cp.carries[0])), "sum"),
        *(
            Line(seed, _later(carry), "chain")
            for seed, carry in zip(cp.seeds[1:], cp.carries[1:], strict=True)
        ),
        *(Line(lhs, rhs, None if _is_local(lhs) else "chain") for lhs, rhs in cp.definitions),
    ]
    sums = []
    for param, share in _shares(affine, W_xh, x, b, cp.delta) + _shares(
        None, W_hh, c.previous[0], b_hh, cp.delta_v
    ):
        whole = p.gradients[next(k.key for k in p.graph.params if k.symbol == param)]
        sums.append((Partial(f, param), share, whole))
    return Section(
        layer=info.layer,
        kind=info.kind,
        source=_CELL_SOURCE[info.kind],
        input=z_prev,
        steps=info.steps,
        truncate=info.truncate,
        last_only=last_only,
        step=tuple(step),
        initial=tuple(c.previous),
        recursion=tuple(recursion),
        sums=tuple(sums),
    )


def _is_local(symbol) -> bool:
    """A local derivative (sigma' of a gate), defined rather than derived by a rule."""
    return symbol.name.startswith("dsig")


def _shares(affine, W, x, bias, delta) -> list[tuple]:
    """(param, one step's share of d f / d param) for an affine projection W x (+ b) with
    adjoint `delta`: delta x^T and delta, by the affine rule."""
    inputs = (W, x, *bias)
    out = Op("affine", sp.MatrixSymbol("_", W.shape[0], x.shape[1]), inputs, MatMul(W, x))
    grads = rules.vjp(out, delta)
    pairs = [(W, grads[0])]
    if bias:
        share = grads[2]
        pairs.append(
            (bias[0], share if x.shape[1] == 1 else MatMul(delta, OneMatrix(x.shape[1], 1)))
        )
    return pairs


def latex_sections(p, page) -> list[dict]:
    """`sections` for the LaTeX templates (macros `recurrence_*`): displays laid out for `page`,
    each `=` of the recursion with its reason."""
    from ..printing.latex import latex, reason
    from .texlayout import Equation

    def lines(rows, with_reasons=False):
        return page.frames(
            page.lines(
                [
                    Equation(
                        latex(x.lhs),
                        rf"\overset{{{reason(_Reason(x.reason))}}}{{=}}"
                        if with_reasons and x.reason
                        else "=",
                        latex(x.rhs),
                    )
                    for x in rows
                ]
            )
        )

    out = []
    for sec in sections(p):
        j = sec.layer
        sums = [
            Equation(
                latex(d),
                rf"\overset{{{reason(_Reason('time', j))}}}{{=}}",
                rf"\sum_{{t=1}}^{{{latex(sec.steps)}}} {latex(share)} = {latex(whole)}",
            )
            for d, share, whole in sec.sums
        ]
        out.append(
            {
                "layer": j,
                "title": TITLES[sec.kind],
                "a": ARTICLES[sec.kind],
                "source": sec.source,
                "T": latex(sec.steps),
                "z": latex(sec.input),
                "x_t": latex(step_symbol("x", j, "t", 1, 1)),
                "step": lines(sec.step),
                "initial": ", ".join(
                    latex(x).replace(",t-1}", ",0}") + " = 0" for x in sec.initial
                ),
                "recursion": lines(sec.recursion, with_reasons=True),
                "sums": page.frames(page.lines(sums)),
                "truncate": sec.truncate,
                "last_only": sec.last_only,
                "zeta": latex(step_symbol("zeta", j, "t", 1, 1)),
                "Zeta": latex(sp.MatrixSymbol(f"zeta{j}", 1, 1)),
                "delta": latex(sp.MatrixSymbol(f"delta{j}", 1, 1)),
                "delta_t": latex(step_symbol("delta", j, "t", 1, 1)),
                "h_last": rf"\mathbf{{h}}_{{{j},T}}",
                "shifted": rf"\mathbf{{H}}^{{-}}_{{{j}}}",
                "h_tm1": latex(step_symbol("h", j, "tm1", 1, 1)),
                "h_0": rf"\mathbf{{h}}_{{{j},0}} = 0",
                "steps": rf"t = 1, \dots, {latex(sec.steps)}",
                "last_step": latex(sp.Eq(_T, sec.steps)),
                "first_step": latex(sp.Eq(_T, 1)),
                "zeta_zero": f"{latex(step_symbol('zeta', j, 't', 1, 1))} = 0",
                "cut": rf"t \in \{{{sec.truncate}, {2 * sec.truncate}, \dots\}}",
            }
        )
    return out
