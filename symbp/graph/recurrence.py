"""Recurrent layers: one time step is a small graph of the rule table's ops (a `Cell`), the layer
unrolls it over t = 1..T, and backpropagation through time (BPTT) is the cell's own reverse pass
(`cell_pass`) run from t = T down to 1.

Sequences are matrices whose columns are the time steps' columns side by side ("time-major
column blocks"): a value with n columns per step (1 per sample, N for a batch) over T steps has
T n columns, step t's being columns (t - 1) n .. t n - 1.  So the input projection of every step,
A_j = W_xh Z_{j-1} + b 1^T, is the lecture's affine layer, and weight sharing over time makes
the gradient of a shared weight the affine rule over all columns (as for convolutions over
space):  dW_hh = sum_t delta_t h_{t-1}^T = Delta H_shift^T.

Cells (PyTorch's formulation, `torch.nn.RNN`, `LSTM`, `GRU`, so results compare with it; the
input projection a_t = W_xh x_t + b, the hidden projection v_t = W_hh h_{t-1} (+ b_hh)):
  rnn:   h_t = sigma(a_t + v_t)
  lstm:  [i; f; g; o] = [sigmoid; sigmoid; tanh; sigmoid](a_t + v_t),
         c_t = f o c_{t-1} + i o g,   h_t = o o tanh(c_t)
  gru:   r = sigmoid(a^r + v^r),  q = sigmoid(a^q + v^q),  n = tanh(a^n + r o v^n),
         h_t = (1 - q) o n + q o h_{t-1}      (PyTorch's update gate z is q here)

Nodes (each prints itself and states its value, like `graph.convolution`'s):
* `Apply(name, X)`:        a catalog activation (a gate's sigmoid or tanh) entry-wise.
* `RowSlice(X, start, stop, label)`: rows start .. stop - 1 of X (a gate's block of a projection).
* `Blocks(X_1, ..., X_k)`: the blocks one over the other (a stacked adjoint).
* `Recurrence(A, W_hh, [b_hh], info)`: the trace S: every step's stored values, row blocks per
  value (h first), time-major column blocks.
* `Hidden(S, H)`, `Last(S, H, T)`: the hidden sequence, or its last step only.
* `Shifted(H, T)`:          [0, h_1, ..., h_{T-1}]: each step's previous hidden state.
* `Bptt(zeta, S, W_hh, info)`: Delta_j = d f / d A_j, by the cell's reverse pass from T to 1.
* `TraceAdjoint(zeta)`:    the adjoint a readout sends to the trace (only the rule reads it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp
from sympy import MatAdd, MatMul, MatrixExpr, Transpose, ZeroMatrix

from ..naming import latex_name, step_symbol, subscript, unicode_name
from .nodes import Sigma, SymbpNode, lift
from .ops import Op

_t = sp.Symbol("t", real=True)  # = activations.t (not imported: the catalog imports graph)

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


def states(kind: str) -> tuple[str, ...]:
    """The cell's states carried from step to step: h, and the LSTM's cell state c."""
    return ("h", "c") if kind == "lstm" else ("h",)


# --- nodes -------------------------------------------------------------------------------------


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

        own = getattr(go, "env", {}).get(("apply", self.name))  # the proof's stand-in, if any
        if own is not None:
            return own(go(self.arg))
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


@dataclass(frozen=True)
class Info:
    """What a recurrence node needs besides its operands: the cell `kind`, the layer, the hidden
    width, the steps T (an integer or the symbol T) and the truncation window (0: none)."""

    kind: str
    layer: int
    hidden: int
    steps: object
    truncate: int = 0
    cols: object = 1  #: columns per step: 1 (one sample) or N
    activation: object = None  #: the Elman cell's sigma (an `Activation`), else None

    def encode(self) -> sp.Tuple:
        act = self.activation
        sigma = (
            sp.Tuple() if act is None else sp.Tuple(sp.Symbol(act.name), sp.Lambda(_t, act.expr))
        )
        return sp.Tuple(
            sp.Symbol(self.kind),
            self.layer,
            self.hidden,
            self.steps,
            self.truncate,
            self.cols,
            sigma,
        )

    @classmethod
    def decode(cls, t: sp.Tuple) -> Info:
        from ..catalog.activations import ACTIVATIONS, Activation

        kind, layer, hidden, steps, truncate, cols, sigma = t
        steps = int(steps) if steps.is_Integer else steps
        cols = int(cols) if cols.is_Integer else cols
        act = None
        if sigma:
            name, fn = sigma
            known = ACTIVATIONS.get(name.name)
            act = known if known and known.expr == fn.expr else Activation(name.name, fn.expr)
        return cls(kind.name, int(layer), int(hidden), steps, int(truncate), cols, act)

    @property
    def cell(self) -> Cell:
        return cell(self.kind, self.layer, self.hidden, self.cols, self.activation)


class _InfoNode(SymbpNode, MatrixExpr):
    """A node whose last argument is its encoded `Info`."""

    def __new__(cls, *args):
        *operands, info = args
        return super().__new__(
            cls, *operands, info if isinstance(info, sp.Tuple) else info.encode()
        )

    @property
    def info(self) -> Info:
        return Info.decode(self.args[-1])

    @property
    def operands(self):
        return self.args[:-1]


def _steps_code(info: Info) -> str:
    return "T"


class Recurrence(_InfoNode):
    """The trace S_j of the recurrence over the input projections A (H_blocks x T n): every
    stored value of every step (row blocks, `Cell.stored`), time-major column blocks."""

    @property
    def shape(self):
        return (self.info.cell.trace_rows, self.operands[0].shape[1])

    def _numpycode(self, printer):
        ops = ", ".join(printer._print(a) for a in self.operands)
        return f"_recurrence{self.info.layer}({ops}, {_steps_code(self.info)})"

    def _latex(self, printer):
        ops = ", ".join(printer._print(a) for a in self.operands)
        return rf"\operatorname{{{self.info.kind.upper()}}}\left({ops}\right)"

    def _sympystr(self, printer):
        ops = ", ".join(printer._print(a) for a in self.operands)
        return f"{self.info.kind.upper()}({ops})"

    def value(self, go):
        return run_forward(self.info, go, *(go(a) for a in self.operands))


def _renamed(symbol, stem: str) -> str:
    """The name of the quantity of `symbol`'s layer with another stem: S1 -> H1."""
    return stem + "".join(ch for ch in symbol.name if ch.isdigit())


class Hidden(SymbpNode, MatrixExpr):
    """H: the hidden states h_1 .. h_T, the first `hidden` rows of the trace S."""

    def __new__(cls, trace, hidden: int):
        return super().__new__(cls, trace, sp.Integer(hidden))

    @property
    def shape(self):
        return (int(self.args[1]), self.args[0].shape[1])

    def _numpycode(self, printer):
        return f"{_p(printer, self.args[0])}[:{int(self.args[1])}]"

    def _latex(self, printer):
        return latex_name(_renamed(self.args[0], "H"))

    def _sympystr(self, printer):
        return unicode_name(_renamed(self.args[0], "H"))

    def value(self, go):
        return go(self.args[0])[: int(self.args[1]), :]


class Last(_InfoNode):
    """h_T: the last step's hidden state (the first `hidden` rows of the trace's last step)."""

    @property
    def shape(self):
        info, (S,) = self.info, self.operands
        return (info.hidden, S.shape[1] / info.steps)

    def _numpycode(self, printer):
        S, H = _p(printer, self.operands[0]), self.info.hidden
        return f"{S}[:{H}].reshape({H}, {_steps_code(self.info)}, -1)[:, -1]"

    def _latex(self, printer):
        return rf"\mathbf{{h}}_{{{self.info.layer},T}}"

    def _sympystr(self, printer):
        return f"h{subscript(self.info.layer)},T"

    def value(self, go):
        S, info = go(self.operands[0]), self.info
        n = S.cols // info.steps
        return S[: info.hidden, S.cols - n :]


class Shifted(_InfoNode):
    """[0, h_1, ..., h_{T-1}]: the hidden sequence H one step later, the initial state 0 first
    (each step's h_{t-1})."""

    @property
    def shape(self):
        return self.operands[0].shape

    def _numpycode(self, printer):
        return f"_shifted({printer._print(self.operands[0])}, {_steps_code(self.info)})"

    def _latex(self, printer):
        return rf"\mathbf{{H}}^{{-}}_{{{self.info.layer}}}"

    def _sympystr(self, printer):
        return f"H⁻{subscript(self.info.layer)}"

    def value(self, go):
        H = go(self.operands[0])
        n = H.cols // self.info.steps
        return sp.zeros(H.rows, n).row_join(H[:, : H.cols - n])


class Bptt(_InfoNode):
    """Delta_j = d f / d A_j, [delta_1, ..., delta_T]: backpropagation through time, the cell's
    reverse pass run from t = T to 1 on the output adjoint zeta (every step's, or h_T's only)."""

    @property
    def shape(self):
        info = self.info
        S = self.operands[1]
        return (blocks(info.kind) * info.hidden, S.shape[1])

    def _numpycode(self, printer):
        ops = ", ".join(printer._print(a) for a in self.operands)
        return f"_bptt{self.info.layer}({ops}, {_steps_code(self.info)})"

    def _latex(self, printer):
        ops = ", ".join(printer._print(a) for a in self.operands)
        return rf"\operatorname{{BPTT}}\left({ops}\right)"

    def _sympystr(self, printer):
        ops = ", ".join(printer._print(a) for a in self.operands)
        return f"BPTT({ops})"

    def value(self, go):
        return run_backward(self.info, go, *(go(a) for a in self.operands))


class TraceAdjoint(SymbpNode, MatrixExpr):
    """The adjoint a readout sends to the trace: zeta on the h rows (of every step, or of the
    last), zeros elsewhere; only the recurrence's rule reads it.  Pictures label it zeta."""

    targets = ("latex", "text")

    def __new__(cls, zeta, trace):
        return super().__new__(cls, zeta, trace)

    @property
    def shape(self):
        return self.args[1].shape

    def _latex(self, printer):
        return printer._print(self.args[0])

    def _sympystr(self, printer):
        return printer._print(self.args[0])


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

    @property
    def stored(self) -> tuple:
        """The values the trace keeps, each step: the states, then what the reverse pass reads."""
        needed = cell_pass(self).reads
        values = [op.output for op in self.ops] + [self.a, self.v]
        kept = list(self.state) + [x for x in values if x in needed and x not in self.state]
        return tuple(kept)

    @property
    def trace_rows(self) -> int:
        return sum(int(x.shape[0]) for x in self.stored)

    def rows_of(self, value) -> tuple[int, int]:
        """(start, stop) of `value`'s rows in the trace."""
        start = 0
        for x in self.stored:
            if x == value:
                return start, start + int(x.shape[0])
            start += int(x.shape[0])
        raise KeyError(value)


def _gate_ops(cell_kind, j, H, cols, a, v, sym):
    """Each gate k: u^k = [a]_k + [v]_k (GRU's n: [a]_n + r o [v]_n), then k = act(u^k)."""
    ops, named, hidden, gates = [], {}, set(), {}
    count = len(GATES[cell_kind])
    for index, (k, act) in enumerate(GATES[cell_kind]):
        rows = (index * H, (index + 1) * H)
        ak, vk = RowSlice(a, *rows, k), RowSlice(v, *rows, k)
        u = sym(f"u{k}")
        pa, pv = sp.Symbol("p_a"), sp.Symbol("p_v")
        places = [(pa, a, index, count), (pv, v, index, count)]
        expr = pa + pv
        env = {pa: ak, pv: vk}
        if cell_kind == "gru" and k == "n":  # n = tanh(a^n + r o (W_hn h + b_hn))
            pr = sp.Symbol("p_r")
            places.append((pr, gates["r"], None, None))
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
        ("places", tuple((p, k, count) for p, _, k, count in places)),
    )
    inputs = tuple(x for _, x, _, _ in places)
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


# --- the cell's reverse pass ---------------------------------------------------------------------


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
    from ..derivation import rules

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


# --- explicit evaluation (the proof) -------------------------------------------------------------


def _evaluator(go):
    """``(expr, bindings) -> value``: the proof's evaluator with step values bound as well."""
    from ..proof.expansion import evaluate

    return lambda expr, bindings: evaluate(expr, {**go.env, **bindings}, go.n)


def _step(M, t: int, n: int):
    return M[:, t * n : (t + 1) * n]


def run_forward(info: Info, go, A, W, *bias):
    """The trace of `Recurrence` on explicit SymPy matrices: each step's ops evaluated in turn."""
    c, ev = info.cell, _evaluator(go)
    n = A.cols // info.steps
    previous = [sp.zeros(c.hidden, n) for _ in c.previous]
    columns = []
    for t in range(info.steps):
        v = W * previous[0]
        if bias:
            v = v + bias[0] * sp.ones(1, n)
        values = {c.a: _step(A, t, n), c.v: v, **dict(zip(c.previous, previous, strict=True))}
        for op in c.ops:
            values[op.output] = ev(op.equation, values)
        block = values[c.stored[0]]
        for x in c.stored[1:]:
            block = block.col_join(values[x])
        columns.append(block)
        previous = [values[x] for x in c.state]
    out = columns[0]
    for block in columns[1:]:
        out = out.row_join(block)
    return out


def run_backward(info: Info, go, zeta, S, W):
    """`Bptt` on explicit SymPy matrices: the cell's reverse pass from t = T to 1, the carried
    adjoints cut at every multiple of the truncation window."""
    c, ev, p = info.cell, _evaluator(go), cell_pass(info.cell)
    n = S.cols // info.steps
    every_step = zeta.cols == S.cols
    carries = [sp.zeros(c.hidden, n) for _ in c.previous]
    W_symbol = sp.MatrixSymbol(f"Whh{c.layer}", *W.shape)
    deltas = [None] * info.steps
    for t in reversed(range(info.steps)):
        values = {W_symbol: W}
        for x in c.stored:
            start, stop = c.rows_of(x)
            values[x] = _step(S, t, n)[start:stop, :]
        for x, state in zip(c.previous, c.state, strict=True):
            start, stop = c.rows_of(state)
            values[x] = _step(S, t - 1, n)[start:stop, :] if t else sp.zeros(c.hidden, n)
        out = _step(zeta, t, n) if every_step else (zeta if t == info.steps - 1 else 0 * zeta)
        values[p.seeds[0]] = out + carries[0]
        for seed, carry in zip(p.seeds[1:], carries[1:], strict=True):
            values[seed] = carry
        for lhs, rhs in p.definitions:
            values[lhs] = ev(rhs, values)
        deltas[t] = values[p.delta] if isinstance(p.delta, sp.MatrixSymbol) else ev(p.delta, values)
        carries = [ev(x, values) for x in p.carries]
        if info.truncate and t % info.truncate == 0:
            carries = [0 * x for x in carries]
    out = deltas[0]
    for block in deltas[1:]:
        out = out.row_join(block)
    return out
