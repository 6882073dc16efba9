"""Recurrent layers (``type = "rnn"``, ``"lstm"``, ``"gru"``): the Elman network
h_t = sigma(W_xh x_t + W_hh h_{t-1} + b) and the LSTM and GRU cells in PyTorch's formulation
(`graph.recurrence`), unrolled over the T steps of the input sequence.

Fields: ``units`` (the hidden width H), ``activation`` (the Elman cell's sigma, default tanh; the
LSTM's and GRU's gates are fixed), ``bias`` (b, on the input projection; the GRU also has the
hidden projection's b_hh, which its reset gate multiplies), ``output`` ("last": h_T, the default;
"sequence": h_1 .. h_T, each read by the dense layers after it) and ``truncate`` (k: truncated
BPTT, the adjoint carried back through at most the k steps of its window; absent: full BPTT).
Ops: the input projection A_j = W_xh Z_{j-1} + b 1^T of every step at once (affine; its adjoint
Delta_j is named), the recurrence S_j (the trace of every step's stored values), the readout
z_j = H_j or h_T (its adjoint zeta_j, the output's term of each step, is named).
Parameters: W_xh (blocks x H rows: PyTorch's weight_ih_l0, gates stacked i, f, g, o or r, z, n),
W_hh (PyTorch's weight_hh_l0), b, b_hh: weights normal with std 1 / sqrt(H), biases zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from sympy import MatAdd, MatMul, MatrixSymbol, OneMatrix

from ...derivation import bptt
from ...errors import SpecError
from ...graph.cells import CELLS, blocks
from ...graph.ops import Op, Param, Part
from ...graph.recurrence import Hidden, Info, Last, Recurrence
from ...spec import fields
from ..activations import ACTIVATIONS, Activation
from .activated import Activated, parse_activation

OUTPUTS = ("last", "sequence")
FIELDS = ("units", "activation", "bias", "output", "truncate")


@dataclass(frozen=True)
class RecurrentLayer(Activated):
    """A recurrent layer of `kind` "rnn", "lstm" or "gru" with `units` hidden units."""

    kind: str
    units: int
    activation: str | Activation = "tanh"
    bias: bool = False
    output: str = "last"
    truncate: int | None = None

    skip_from = None

    def summary(self) -> str:
        """One line for headers: "lstm 64 (sequence)"."""
        act = f" {self.activation_name}" if self.kind == "rnn" else ""
        cut = f", truncated BPTT k={self.truncate}" if self.truncate else ""
        return f"{self.kind} {self.units}{act} ({self.output}{cut})"

    def to_dict(self) -> dict:
        out = {"type": self.kind, "units": self.units, "bias": self.bias, "output": self.output}
        if self.kind == "rnn":
            out["activation"] = self.activation_out()
        if self.truncate is not None:
            out["truncate"] = self.truncate
        return out


class RecurrentKind:
    """The layer kind of one cell (`graph.cells.CELLS`)."""

    Layer = RecurrentLayer
    FIELDS = FIELDS

    def __init__(self, name: str):
        self.name = name

    def parse(self, table: dict, where: str, source, default_bias: bool) -> RecurrentLayer:
        allowed = FIELDS if self.name == "rnn" else tuple(f for f in FIELDS if f != "activation")
        fields.known(table, (*allowed, "type"), where, source)
        if "units" not in table:
            raise SpecError(f"{where}.units", "missing required field (the hidden width)", source)
        truncate = table.get("truncate")
        return RecurrentLayer(
            kind=self.name,
            units=_positive(table["units"], f"{where}.units", source, "the hidden width"),
            activation=parse_activation(table, where, source, "tanh")
            if self.name == "rnn"
            else "tanh",
            bias=fields.boolean(table.get("bias", default_bias), f"{where}.bias", source),
            output=fields.choice(table.get("output", "last"), f"{where}.output", OUTPUTS, source),
            truncate=None
            if truncate is None
            else _positive(truncate, f"{where}.truncate", source, "the BPTT window in steps"),
        )

    def check(self, spec, i: int) -> None:
        layer, src, where = spec.layers[i], spec.source, f"layers[{i}]"
        _positive(layer.units, f"{where}.units", src, "the hidden width")
        fields.choice(layer.output, f"{where}.output", OUTPUTS, src)
        if layer.truncate is not None:
            _positive(layer.truncate, f"{where}.truncate", src, "the BPTT window in steps")
        if not isinstance(layer.activation, Activation):
            fields.choice(layer.activation, f"{where}.activation", tuple(ACTIVATIONS), src)
        if not layer.sigma.elementwise:
            raise SpecError(
                f"{where}.activation", "a recurrent cell needs an element-wise sigma", src
            )
        if not spec.sequences[i]:
            raise SpecError(
                f"{where}.type",
                f"{layer.kind} reads a sequence, but z_{i} is one vector per sample (a layer "
                'before it has output = "last"); set output = "sequence" on that layer',
                src,
            )
        if i + 1 == spec.depth:
            from ..losses import LOSSES

            needed = LOSSES[spec.loss].output if spec.loss in LOSSES else None
            if needed:
                raise SpecError(
                    f"{where}.type",
                    f"loss {spec.loss!r} needs a dense {needed} output layer; add one after it",
                    src,
                )

    def shape(self, layer: RecurrentLayer, before: tuple) -> tuple:
        return (layer.units,)

    def ops(self, j: int, layer: RecurrentLayer, names, before: tuple = ()) -> Part:
        H, count = layer.units, blocks(layer.kind)
        rows, d_prev = count * H, names.widths[j - 1]
        W_xh = MatrixSymbol(f"Wxh{j}", rows, d_prev)
        W_hh = MatrixSymbol(f"Whh{j}", rows, H)
        z_prev, A = names.z(j - 1), names.projection(j, rows)
        scale = 1 / math.sqrt(H)
        params = [Param(f"Wxh{j}", W_xh, scale, decays=True)]
        inputs, pre = (W_xh, z_prev), MatMul(W_xh, z_prev)
        if layer.bias:
            b = MatrixSymbol(f"b{j}", rows, 1)
            inputs += (b,)
            cols = names.cols_of(j - 1)
            pre = MatAdd(pre, MatMul(b, OneMatrix(1, cols)))
            params.append(Param(f"b{j}", b, None))
        params.append(Param(f"Whh{j}", W_hh, scale, decays=True))
        steps = names.steps
        info = Info(
            layer.kind,
            j,
            H,
            steps,
            layer.truncate or 0,
            names.cols,
            layer.sigma if layer.kind == "rnn" else None,
        )
        info = replace(info, stored=bptt.stored(info.cell))  # what the reverse pass reads
        S = names.trace(j, info.trace_rows)
        delta = names.projection_adjoint(j, rows)
        hidden_inputs = (A, W_hh)
        if layer.kind == "gru" and layer.bias:
            b_hh = MatrixSymbol(f"bhh{j}", rows, 1)
            hidden_inputs += (b_hh,)
            params.append(Param(f"bhh{j}", b_hh, None))
        formula = bptt.hidden_adjoint(info, delta, S)  # d f / d V_j, where not Delta_j (GRU)
        delta_v = None if formula is None else names.projection_adjoint(j, rows, "v")
        z = names.z(j)
        readout = Hidden(S, H) if layer.output == "sequence" else Last(S, info)
        out = [
            Op("affine", A, inputs, pre, layer=j),
            Op(
                "recurrence",
                S,
                hidden_inputs,
                Recurrence(*hidden_inputs, info),
                layer=j,
                attrs=(
                    ("info", info),
                    ("delta", delta),
                    ("delta_v", delta_v),
                    ("delta_v_formula", formula),
                ),
            ),
            Op("readout", z, (S,), readout, layer=j, attrs=(("info", info),)),
        ]
        named = {A: delta, z: names.zeta(j)}
        if delta_v is not None:  # the hidden projection V_j: no op computes it (a recurrence)
            named[names.projection(j, rows, "V")] = delta_v
        return Part(tuple(out), named, frozenset(), tuple(params), z)


def _positive(value, where: str, source, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(where, f"{what} must be an integer >= 1, got {value!r}", source)
    return value


KINDS = tuple(RecurrentKind(name) for name in CELLS)
