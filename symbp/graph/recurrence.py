"""Recurrent layers over the steps of a sequence: the step (`graph.cells.Cell`) unrolled over
t = 1..T, its trace, and backpropagation through time (BPTT) as a node whose rule the step's own
reverse pass gives (`derivation.bptt`).

Sequences are matrices whose columns are the time steps' columns side by side ("time-major
column blocks"): a value with n columns per step (1 per sample, N for a batch) over T steps has
T n columns, step t's being columns (t - 1) n .. t n - 1.  So the input projection of every step,
A_j = W_xh Z_{j-1} + b 1^T, is the lecture's affine layer, and weight sharing over time makes
the gradient of a shared weight the affine rule over all columns (as for convolutions over
space):  dW_hh = sum_t delta_t h_{t-1}^T = Delta H_shift^T.

Nodes (each prints itself; `proof.unrolled` evaluates the recurrence and BPTT step by step):
* `Recurrence(A, W_hh, [b_hh], info)`: the trace S: every step's stored values (`Info.stored`),
  row blocks per value (h first), time-major column blocks.
* `Hidden(S, H)`, `Last(S, info)`: the hidden sequence, or its last step only.
* `Shifted(H, info)`:       [0, h_1, ..., h_{T-1}]: each step's previous hidden state.
* `Bptt(zeta, S, W_hh, info)`: Delta_j = d f / d A_j, the step's reverse pass from T to 1.
* `TraceAdjoint(zeta, S)`: the adjoint a readout sends to the trace (only the rule reads it).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy import MatrixExpr

from ..naming import latex_name, subscript, unicode_name
from .cells import Cell, blocks, cell
from .nodes import SymbpNode

_t = sp.Symbol("t", real=True)  # = activations.t (not imported: the catalog imports graph)


def _p(printer, e) -> str:
    text = printer._print(e)
    return text if text.isidentifier() else f"({text})"


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
    stored: tuple[str, ...] = ()  #: the trace's values, in row order (`derivation.bptt.stored`)

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
            sp.Tuple(*(sp.Symbol(name) for name in self.stored)),
        )

    @classmethod
    def decode(cls, t: sp.Tuple) -> Info:
        from ..catalog.activations import ACTIVATIONS, Activation

        kind, layer, hidden, steps, truncate, cols, sigma, stored = t
        steps = int(steps) if steps.is_Integer else steps
        cols = int(cols) if cols.is_Integer else cols
        act = None
        if sigma:
            name, fn = sigma
            known = ACTIVATIONS.get(name.name)
            act = known if known and known.expr == fn.expr else Activation(name.name, fn.expr)
        names = tuple(x.name for x in stored)
        return cls(kind.name, int(layer), int(hidden), steps, int(truncate), cols, act, names)

    @property
    def stored_values(self) -> tuple:
        """The step quantities the trace keeps, in row order (h first)."""
        c = self.cell
        known = {x.name: x for x in (*c.state, c.a, c.v, *(op.output for op in c.ops))}
        return tuple(known[name] for name in self.stored)

    @property
    def trace_rows(self) -> int:
        return sum(int(x.shape[0]) for x in self.stored_values)

    def rows_of(self, value) -> tuple[int, int]:
        """(start, stop) of `value`'s rows in the trace."""
        start = 0
        for x in self.stored_values:
            if x == value:
                return start, start + int(x.shape[0])
            start += int(x.shape[0])
        raise KeyError(value)

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
        return (self.info.trace_rows, self.operands[0].shape[1])

    def _numpycode(self, printer):
        ops = ", ".join(printer._print(a) for a in self.operands)
        return f"_recurrence{self.info.layer}({ops}, {_steps_code(self.info)})"

    def _latex(self, printer):
        ops = ", ".join(printer._print(a) for a in self.operands)
        return rf"\operatorname{{{self.info.kind.upper()}}}\left({ops}\right)"

    def _sympystr(self, printer):
        ops = ", ".join(printer._print(a) for a in self.operands)
        return f"{self.info.kind.upper()}({ops})"


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
