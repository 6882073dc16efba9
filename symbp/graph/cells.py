"""One time step of a recurrent layer (a `Cell`): a small graph of the rule table's ops over
the quantities of step t, in PyTorch's formulation (`torch.nn.RNN`, `LSTM`, `GRU`), so that
results compare with it.  With the input projection a_t = W_xh x_t + b and the hidden projection
v_t = W_hh h_{t-1} (+ b_hh):

  rnn:   h_t = sigma(a_t + v_t)
  lstm:  [i; f; g; o] = [sigmoid; sigmoid; tanh; sigmoid](a_t + v_t),
         c_t = f o c_{t-1} + i o g,   h_t = o o tanh(c_t)
  gru:   r = sigmoid(a^r + v^r),  q = sigmoid(a^q + v^q),  n = tanh(a^n + r o v^n),
         h_t = (1 - q) o n + q o h_{t-1}      (PyTorch's update gate z is q here)

Step-level nodes (each prints itself and states its value):
* `Apply(name, X)`:        a catalog activation (a gate's sigmoid or tanh) entry-wise.
* `RowSlice(X, start, stop, label)`: rows start .. stop - 1 of X (a gate's block of a projection).
* `Blocks(X_1, ..., X_k)`: the blocks one over the other (a stacked adjoint).
* `Embed(X, k, count)`:    X as block k of count, zeros elsewhere (a gate's share of an adjoint).

The step's reverse pass is `derivation.bptt.cell_pass`; the layer over all steps is
`graph.recurrence`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp
from sympy import MatrixExpr

from ..naming import step_symbol
from .nodes import Sigma, SymbpNode, lift
from .ops import Op

CELLS = ("rnn", "lstm", "gru")
#: each cell's gates: (letter, activation) per row block of the projections a_t and v_t
GATES = {
    "rnn": (),
    "lstm": (("i", "sigmoid"), ("f", "sigmoid"), ("g", "tanh"), ("o", "sigmoid")),
    "gru": (("r", "sigmoid"), ("q", "sigmoid"), ("n", "tanh")),
}


def blocks(kind: str) -> int:
    """Row blocks of the projections: 1 (rnn), 4 (lstm: i, f, g, o), 3 (gru: r, q, n)."""
    return max(1, len(GATES[kind]))


def _p(printer, e) -> str:
    text = printer._print(e)
    return text if text.isidentifier() else f"({text})"


class Apply(SymbpNode, MatrixExpr):
    """The catalog activation `name` (a gate's sigmoid or tanh), entry-wise on `arg`."""

    def __new__(cls, name, arg):
        return super().__new__(cls, sp.Symbol(str(name)), arg)

    @property
    def name(self) -> str:
        return self.args[0].name

    @property
    def arg(self):
        return self.args[1]

    @property
    def shape(self):
        return self.arg.shape

    @property
    def activation(self):
        from ..catalog.activations import ACTIVATIONS

        return ACTIVATIONS[self.name]

    def _numpycode(self, printer):
        return printer.activation_code(self.activation, self.arg)

    def _latex(self, printer):
        name = r"\sigma" if self.name == "sigmoid" else rf"\{self.name}"
        return rf"{name}\left({printer._print(self.arg)}\right)"

    def _sympystr(self, printer):
        name = "σ" if self.name == "sigmoid" else self.name
        return f"{name}({printer._print(self.arg)})"

    def value(self, go):
        from ..catalog.activations import t

        expr = self.activation.expr
        return go(self.arg).applyfunc(lambda x: expr.subs(t, x))


class RowSlice(SymbpNode, MatrixExpr):
    """Rows `start` .. `stop` - 1 of `arg`; `label` names the block in displays (a gate)."""

    def __new__(cls, arg, start: int, stop: int, label=""):
        label = str(label) or "_"
        return super().__new__(cls, arg, sp.Integer(start), sp.Integer(stop), sp.Symbol(label))

    @property
    def arg(self):
        return self.args[0]

    @property
    def start(self) -> int:
        return int(self.args[1])

    @property
    def stop(self) -> int:
        return int(self.args[2])

    @property
    def label(self) -> str:
        name = self.args[3].name
        return "" if name == "_" else name

    @property
    def shape(self):
        return (self.stop - self.start, self.arg.shape[1])

    def _numpycode(self, printer):
        return f"{_p(printer, self.arg)}[{self.start}:{self.stop}]"

    def _latex(self, printer):
        where = self.label or f"{self.start + 1}:{self.stop}"
        return rf"\left[{printer._print(self.arg)}\right]_{{{where}}}"

    def _sympystr(self, printer):
        where = self.label or f"{self.start + 1}:{self.stop}"
        return f"[{printer._print(self.arg)}]_{where}"

    def value(self, go):
        return go(self.arg)[self.start : self.stop, :]


class Blocks(SymbpNode, MatrixExpr):
    """[X_1; X_2; ...]: blocks with the same number of columns, one over the other."""

    def __new__(cls, *parts):
        return super().__new__(cls, *parts)

    @property
    def shape(self):
        return (sum(p.shape[0] for p in self.args), self.args[0].shape[1])

    def _numpycode(self, printer):
        return f"{printer._fn('vstack')}([{', '.join(printer._print(p) for p in self.args)}])"

    def _latex(self, printer):
        rows = r" \\ ".join(printer._print(p) for p in self.args)
        return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}"

    def _sympystr(self, printer):
        return "[" + "; ".join(printer._print(p) for p in self.args) + "]"

    def value(self, go):
        out = go(self.args[0])
        for p in self.args[1:]:
            out = out.col_join(go(p))
        return out


class Embed(SymbpNode, MatrixExpr):
    """`arg` as block `k` of `count` equal row blocks, zeros elsewhere: one gate's share of the
    adjoint of a stacked projection (`cell_pass` assembles the shares into `Blocks`)."""

    targets = ()

    def __new__(cls, arg, k: int, count: int):
        return super().__new__(cls, arg, sp.Integer(k), sp.Integer(count))

    @property
    def shape(self):
        return (self.args[0].shape[0] * int(self.args[2]), self.args[0].shape[1])


# --- the cell ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # one object per cell (`cell` is cached): hashed by identity
class Cell:
    """One step of a recurrent layer over the quantities of step t (n columns: `cols`).

    `a` (the input projection a_t) and `v` (the hidden projection v_t = W_hh h_{t-1} + b_hh) are
    its inputs with the previous states; `ops` compute the new states from them; `named` and
    `hidden` as in `Graph` (each pre-activation's adjoint is named, the pre-activation itself is
    written out)."""

    kind: str
    layer: int
    hidden: int
    cols: object
    a: sp.MatrixSymbol
    v: sp.MatrixSymbol
    state: tuple  # (h_t, c_t)
    previous: tuple  # (h_{t-1}, c_{t-1})
    ops: tuple[Op, ...]
    named: dict
    hidden_values: frozenset

    def step(self, stem: str, step: str = "t", rows: int | None = None):
        return step_symbol(stem, self.layer, step, rows or self.hidden, self.cols)


def _gate_ops(cell_kind, j, H, cols, a, v, sym):
    """Each gate k: u^k = [a]_k + [v]_k (GRU's n: [a]_n + r o [v]_n), then k = act(u^k)."""
    ops, named, hidden, gates = [], {}, set(), {}
    count = len(GATES[cell_kind])
    for index, (k, act) in enumerate(GATES[cell_kind]):
        rows = (index * H, (index + 1) * H)
        ak, vk = RowSlice(a, *rows, k), RowSlice(v, *rows, k)
        u = sym(f"u{k}")
        pa, pv = sp.Symbol("p_a"), sp.Symbol("p_v")
        places = [(pa, a, index, count, k), (pv, v, index, count, k)]
        expr = pa + pv
        env = {pa: ak, pv: vk}
        if cell_kind == "gru" and k == "n":  # n = tanh(a^n + r o (W_hn h + b_hn))
            pr = sp.Symbol("p_r")
            places.append((pr, gates["r"], None, None, ""))
            expr = pa + pr * pv
            env[pr] = gates["r"]
        ops.append(_pointwise(u, expr, env, places, j))
        named[u] = sym(f"delta{k}")
        hidden.add(u)
        out = sym(k)
        ops.append(_activate(out, Apply(act, u), u, act, sym(f"dsig{k}"), j))
        gates[k] = out
    return ops, named, hidden, gates


def _pointwise(out, expr, env, places, layer):
    """out = expr entry-wise, expr a scalar formula in placeholders for the (blocks of) inputs."""
    attrs = (
        ("expr", expr),
        ("places", tuple((p, k, count, "".join(label)) for p, _, k, count, *label in places)),
    )
    inputs = tuple(x for _, x, *_ in places)
    return Op("pointwise", out, inputs, lift(expr, env), layer=layer, attrs=attrs)


def _activate(out, equation, arg, activation_name, sigma_prime, layer):
    from ..catalog.activations import ACTIVATIONS

    sigma = ACTIVATIONS[activation_name] if isinstance(activation_name, str) else activation_name
    attrs = (("activation", sigma), ("sigma_prime", sigma_prime))
    return Op("activation", out, (arg,), equation, layer=layer, attrs=attrs)


@cache
def cell(kind: str, layer: int, hidden: int, cols=1, activation=None) -> Cell:
    """Layer `layer`'s step (`kind` in `CELLS`) with `hidden` units over `cols` columns per step;
    `activation` is the Elman cell's sigma (an `Activation`; the LSTM's and GRU's are fixed)."""
    H, j = hidden, layer

    def sym(stem, step="t", rows=None):
        return step_symbol(stem, j, step, rows or H, cols)

    width = blocks(kind) * H
    a, v = sym("a", rows=width), sym("v", rows=width)
    h, h_prev = sym("h"), sym("h", "tm1")
    if kind == "rnn":
        u = sym("u")
        pa, pv = sp.Symbol("p_a"), sp.Symbol("p_v")
        ops = [
            _pointwise(u, pa + pv, {pa: a, pv: v}, [(pa, a, None, None), (pv, v, None, None)], j),
            _activate(h, Sigma(j, u), u, activation, sym("dsig"), j),
        ]
        return Cell(
            kind, j, H, cols, a, v, (h,), (h_prev,), tuple(ops), {u: sym("delta")}, frozenset({u})
        )
    ops, named, hidden_values, gates = _gate_ops(kind, j, H, cols, a, v, sym)
    if kind == "lstm":
        c, c_prev = sym("c"), sym("c", "tm1")
        pf, pc, pi, pg, po = (sp.Symbol(f"p_{x}") for x in "fcigo")
        ops.append(
            _pointwise(
                c,
                pf * pc + pi * pg,
                {pf: gates["f"], pc: c_prev, pi: gates["i"], pg: gates["g"]},
                [
                    (pf, gates["f"], None, None),
                    (pc, c_prev, None, None),
                    (pi, gates["i"], None, None),
                    (pg, gates["g"], None, None),
                ],
                j,
            )
        )
        named[c] = sym("deltac")
        ops.append(
            _pointwise(
                h,
                po * sp.tanh(pc),
                {po: gates["o"], pc: c},
                [(po, gates["o"], None, None), (pc, c, None, None)],
                j,
            )
        )
        return Cell(
            kind,
            j,
            H,
            cols,
            a,
            v,
            (h, c),
            (h_prev, c_prev),
            tuple(ops),
            named,
            frozenset(hidden_values),
        )
    pq, pn, ph = (sp.Symbol(f"p_{x}") for x in "qnh")
    ops.append(
        _pointwise(
            h,
            (1 - pq) * pn + pq * ph,
            {pq: gates["q"], pn: gates["n"], ph: h_prev},
            [(pq, gates["q"], None, None), (pn, gates["n"], None, None), (ph, h_prev, None, None)],
            j,
        )
    )
    return Cell(
        kind, j, H, cols, a, v, (h,), (h_prev,), tuple(ops), named, frozenset(hidden_values)
    )
