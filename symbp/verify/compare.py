"""`symbp verify`: check a hand-written backprop claim against the derivation, and say why.

A claim (`claims.parse`) is given meaning for a network (`Resolver`): names become the spec's
symbols with their shapes, juxtaposition a matrix product, a row factor before a Jacobian the
vector-Jacobian product it stands for.  Unknown names and shape mismatches are reported where they
occur.  Otherwise both sides are compared with the derived expression: structurally; then at
small widths, numerically at three random points with the spec's activations (targets from the
loss's domain): a real difference there is the only evidence of a WRONG claim, shown as a
counterexample, with a one-edit repair when one makes the claim correct ("did you mean …?").
Equal numbers are then proved by expansion on explicit matrices: every σ an undefined
function; else σ′ written through the output (z ∘ (1 − z) for a sigmoid); else the spec's own
activations.  An expansion that fails is never evidence of a difference.

Verdicts: "correct", "wrong" (with the reason), "unparsable" (`claims.parse`, with the column) or
"unsupported" ("cannot check": well-formed but outside what verify reads, or beyond its bounds).
Symbolic work is bounded: a claim's size and nesting are checked before parsing goes on
(`claims.MAX_LENGTH`, `claims.MAX_DEPTH`), the matrices to multiply out before the expansion
(`MAX_FACTORS`), and the comparison runs under a CPU-time limit (`CLAIM_SECONDS`).
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy as sp
from sympy import HadamardProduct, MatAdd, MatMul, MatrixExpr, MatrixSymbol, Transpose
from sympy.matrices.expressions.diagonal import DiagMatrix

from ..budget import within
from ..catalog import activations
from ..catalog.losses import LOSSES, SCALES
from ..derivation import rules
from ..derivation.derive import derive
from ..derivation.lecture import perceptron_pass
from ..graph.convolution import (
    AvgPool,
    AvgPoolTranspose,
    ChannelBias,
    ChannelSum,
    Conv,
    ConvKernelGrad,
    ConvTranspose,
    Geometry,
    MaxPool,
    MaxPoolGrad,
)
from ..graph.nodes import Elementwise, Partial, ShapedLikeArg, Sigma
from ..naming import PER_SAMPLE, N, Names, subscript
from ..printing.text import TextPrinter, text
from ..proof.expansion import equal, evaluate, explicit, proof_spec
from ..spec.model import Spec
from . import claims
from .claims import RULE_MARK, SUPERSCRIPT_STEMS, ClaimSyntaxError, Op, Sym, parse

F = sp.Symbol("f")
SCALAR_FUNCTIONS = {  #: functions a claim may apply entry by entry, by name
    "tanh": sp.tanh,
    "exp": sp.exp,
    "log": sp.log,
    "sigmoid": lambda x: 1 / (1 + sp.exp(-x)),
}
NAMED = {"z", "u", "W", "b", "delta", "y", "x", "a", "zeta", "A", "Zeta", "Z", "U", "Delta", "Y"}
NAMED |= {"X", "N", "sigma", "Sigma", "dsigma", "dsig", "f"}  #: stems verify resolves
COST_NAMES = ("f", "J", "L", "C", "E")  #: names a claim may give the cost f (∂J/∂W_2)
MAX_FACTORS = 24  #: named matrices in a claim's right side that the expansion may multiply out
MAX_POWER = 16  #: largest exponent of a power in a claim (z_1^2, \tanh^2)
STEP = sp.Float("1e-12", 30)  #: central-difference step at a random point (30 digits)
CLAIM_SECONDS = 10.0  #: CPU seconds for parsing one claim, and again for comparing it
CONCRETE_SECONDS = 3.0  #: CPU seconds for the expansion with the spec's own activations
CONVENTION_SECONDS = 2.0  #: the same, for a WRONG claim under each other convention tried


class Wrong(Exception):
    """The claim is well-formed but wrong for this network; the message says why."""


class Unsupported(Exception):
    """The claim is well-formed but outside what verify can check; the message says why."""


class DSigma(ShapedLikeArg):
    """sigma_j' evaluated entry-wise at `arg`."""

    def __new__(cls, layer, arg):
        return super().__new__(cls, sp.Integer(layer), arg)

    def _sympystr(self, printer):
        return f"σ′{subscript(int(self.args[0]))}({printer._print(self.arg)})"


class SampleSum(ShapedLikeArg):
    """sum over the N samples of a per-sample expression."""

    def __new__(cls, arg):
        return super().__new__(cls, arg)

    def _sympystr(self, printer):
        return f"Σᵢ {printer._print(self.arg)}"


class Through(MatrixExpr):
    """A row factor applied to a Jacobian, as the lecture writes g dz/dW: the gradient of
    <g, z> with respect to W, g held fixed (a matrix shaped like W)."""

    def __new__(cls, row, partial):
        return super().__new__(cls, row, partial)

    @property
    def shape(self):
        return self.args[1].args[1].shape

    def _sympystr(self, printer):
        return f"{printer._print(self.args[0])} {printer._print(self.args[1])}"


class Gradient(MatrixExpr):
    """df/dX as a matrix shaped like X."""

    def __new__(cls, partial):
        return super().__new__(cls, partial)

    @property
    def shape(self):
        return self.args[0].args[1].shape

    def _sympystr(self, printer):
        return printer._print(self.args[0])


@dataclass(frozen=True)
class Verdict:
    claim: str
    status: str  # "correct" | "wrong" | "unparsable" | "unsupported" (cannot check)
    message: str
    point: str = ""  #: a counterexample's point (W1 = [[...]], ..., z0, y), kept out of `message`


def operation_text(a, operator: str, b) -> str:
    """a `operator` b as verify's messages print an operation whose shapes do not fit: "∘",
    "product" (juxtaposition), "+", "−" or "/", each operand grouped as the Unicode printer
    groups it (`printing.text`), a product's factors too, so that the text reads back as
    a `operator` b ((W₃ᵀ δ₃) ∘ (1 − σ₂(u₂)), not W₃ᵀ δ₃ ∘ 1 − σ₂(u₂))."""
    printer = TextPrinter()

    def grouped(x, kinds=(MatAdd, MatMul, HadamardProduct)):
        if not _is_matrix(x):
            return _scalar_text(x)
        if operator == "∘":
            return printer._factor(x)
        if operator == "product" and not (isinstance(x, MatMul) and len(x.args) > 1):
            return printer._operand(x)
        return printer._wrap(x, kinds)

    if operator in ("+", "−"):
        negative = _is_matrix(b) and b.could_extract_minus_sign()
        right = f"({printer.doprint(b)})" if negative else grouped(b, (MatAdd,))
        return f"{grouped(a, ())} {operator} {right}"
    return f"{grouped(a)}{' ' if operator == 'product' else f' {operator} '}{grouped(b)}"


def _scalar_text(x) -> str:
    """A scalar operand of a matrix operation, parenthesised unless it is a single number or
    symbol."""
    shown = text(x)
    return shown if getattr(x, "is_Atom", False) and not shown.startswith("−") else f"({shown})"


def _dims(x, transposed: bool = False) -> str:
    rows, cols = x.shape[::-1] if transposed else x.shape
    return f"{rows}×{cols}"


def _is_matrix(x) -> bool:
    return isinstance(x, MatrixExpr)


class Resolver:
    """Gives a parsed claim meaning in `spec`'s per-sample symbols (widths from `names`)."""

    def __init__(self, spec: Spec, names: Names, lhs_tree=None, components: bool = False):
        self.spec, self.names, self.J = spec, names, spec.depth
        self.batch = Names(spec.widths, batch=True)
        self.context = _context_layer(lhs_tree, self.J)  #: the layer of σ' written without one
        #: a claim about entry i (δ_{3,i} = 2(z_{3,i} − y_i) σ′(u_{3,i})): products are entry-wise
        self.components = components

    def __call__(self, node):
        if isinstance(node, Sym):
            return self.oriented(self.symbol(node))
        return getattr(self, f"op_{node.kind}")(node)

    def oriented(self, x):
        """A named matrix as the claim means it: under layout "rows" (a sample is a row), with
        its rows and columns swapped (z_j is 1 x d_j, W_j is d_{j-1} x d_j); `_columns_meaning`
        maps the resolved claim back to the derivation's symbols."""
        if self.spec.layout == "rows" and isinstance(x, MatrixSymbol):
            return _flipped(x)
        return x

    # names -------------------------------------------------------------------------------
    def _layer(self, node: Sym, index: str | None, lo: int, what: str) -> int:
        shown = f"{what}_{index}" if index else what
        if index is None:
            raise Wrong(f"{what} needs a layer number, e.g. {what}_{self.J}")
        if index in ("J", "L"):
            return self.J
        if not index.isdigit():
            raise Wrong(f"{shown}: use a layer number (0..{self.J}), J or L, not {index!r}")
        k = int(index)
        if not lo <= k <= self.J:
            raise Wrong(f"{shown} is not defined in this network: it has layers {lo}..{self.J}")
        return k

    def _skip_layer(self, node: Sym, index: str | None, what: str) -> int:
        """The layer of a residual quantity (a_j, ζ_j and their batch forms), which exists only
        for a layer j with a skip connection; `Wrong` naming the fix otherwise."""
        k = self._layer(node, index, 1, what)
        if getattr(self.spec.layers[k - 1], "skip_from", None) is None:
            raise Wrong(
                f"layer {k} has no skip connection: {what}_{k} is not defined "
                f"({what}_j belongs to a layer with skip_from; layer {k}'s output is z_{k})"
            )
        return k

    def _batch_sigma_prime(self, node: Sym, index: str | None):
        """Σ'_j: σ'_j of every sample, one column each (the batch form of σ'_j)."""
        if node.primes != 1:
            raise Wrong("Σ is written only as Σ'_j, the batch form of σ'_j (a column per sample)")
        k = self._layer(node, index, 1, "Σ'")
        self._elementwise_layer(k)
        return self.batch.dsigma(k)

    def symbol(self, node: Sym):
        stem, index = _stem_and_index(node)
        stem = "W" if stem == "w" else stem
        if node.index and "," in node.index and stem in ("W", "Z", "U", "Delta", "A", "Zeta"):
            raise Unsupported(
                f"{stem}_{{{node.index}}}: verify reads entries of vectors (δ_{{3,i}}), not of "
                "matrices; write the claim with whole matrices"
            )
        if node.index and "," in node.index and not node.index.split(",")[1].isalpha():
            raise Unsupported(
                f"{stem}_{{{node.index}}}: verify reads entry i of a vector (δ_{{3,i}}), not a "
                "numbered entry; write the claim with whole vectors (∂f/∂K_j = corr(z_{j-1}, δ_j))"
            )
        if stem == "Sigma":
            return self._batch_sigma_prime(node, index)
        if stem in ("K", "k") or stem in NAMED:
            conv = self._convolutional(node, stem, index)
            if conv is not None:
                return conv
        if stem in COST_NAMES and index is None and not node.primes:
            return F
        if stem == "e" and index is None:
            return sp.E
        if stem in (*SCALAR_FUNCTIONS, "softmax", "diag") and index is None and not node.primes:
            raise Wrong(f"{stem} needs an argument, as in {stem}(u_1)")
        if stem in ("yhat", "Yhat"):  # ŷ: the network's output
            if index not in (None, "i"):
                raise Wrong(f"ŷ is the network's output z_{self.J}: it takes no layer ({index!r})")
            return (self.batch if stem == "Yhat" else self.names).z(self.J)
        if stem in ("sigma", "dsigma", "dsig", "phi") or node.primes:
            primes = node.primes + (stem in ("dsigma", "dsig"))  # phi', f' are sigma'
            layer = None if index is None else self._layer(node, index, 1, "σ")
            return ("sigma", layer, primes)
        n, B = self.names, self.batch
        batch = {"Z": (B.z, 0), "U": (B.u, 1), "Delta": (B.delta, 1)}
        if stem in batch:
            make, lo = batch[stem]
            return make(self._layer(node, index, lo, stem))
        if stem in ("act", "Act"):  # a^{(l)} = σ_l(u_l): a_l where layer l adds a skip, else z_l
            k = self._layer(node, index, 0, "a")
            skip = k > 0 and getattr(self.spec.layers[k - 1], "skip_from", None) is not None
            names = n if stem == "act" else B
            return names.a(k) if skip else names.z(k)
        residual = {"a": (n.a, "a"), "zeta": (n.zeta, "ζ"), "A": (B.a, "A"), "Zeta": (B.zeta, "𝒵")}
        if stem in residual:
            make, shown = residual[stem]
            return make(self._skip_layer(node, index, shown))
        if stem == "Y" and index is None:
            return B.y()
        if stem == "X" and index in (None, "0"):
            return B.z(0)
        if stem == "z":
            return n.z(self._layer(node, index, 0, "z"))
        if stem == "u":
            return n.u(self._layer(node, index, 1, "u"))
        if stem == "W":
            return n.W(self._layer(node, index, 1, "W"))
        if stem == "b":
            k = self._layer(node, index, 1, "b")
            if not self.spec.layers[k - 1].bias:
                raise Wrong(f"b_{k} is not defined in this network: layer {k} has no bias")
            return n.b(k)
        if stem == "delta":
            return n.delta(self._layer(node, index, 1, "δ"))
        if stem in ("y",) and index in (None, "i"):
            return n.y()
        if stem == "x" and index in (None, "0", "i"):
            return n.z(0)
        if stem in ("N", "m") and index is None:  # m: the number of samples (Ng's notation)
            return N
        shown = f"{stem}_{index}" if index else stem
        hint = ""
        if stem == "x" and index:
            k = self.J if index == "J" else index
            hint = f"; did you mean z_{index}?" if str(k).isdigit() and int(k) <= self.J else ""
        raise Wrong(f"{shown} is not defined in this network{hint}")

    def _convolutional(self, node: Sym, stem: str, index: str | None):
        """A name that means something else in a convolutional or pooling layer: the kernel
        K_j and a convolution's bias b_j (C_out x 1) are the graph's parameters; W_j, u_j and
        δ_j of such a layer, and a kernel entry k_w, are refused with the reason; None for the
        names read as in a dense layer."""
        layers = _layer_kinds(self.spec)
        if stem == "k" and layers:
            raise Unsupported(KERNEL_ENTRY_WORDS)
        if stem == "K":
            k = self._layer(node, index, 1, "K")
            if layers.get(k, ("dense",))[0] != "conv":
                raise Wrong(
                    f"K_{k} is not defined in this network: layer {k} is not a convolution "
                    f"(K_j is a convolutional layer's kernel)"
                )
            return _parameter(self.spec, f"K{k}")
        if not layers or stem not in ("W", "b", "u", "U", "delta", "Delta") or index is None:
            return None
        if not index.isdigit() or int(index) not in layers:
            return None
        k, kind = int(index), layers[int(index)][0]
        if kind == "conv" and stem == "W":
            raise Wrong(
                f"W_{k} is not defined in this network: layer {k} is a convolution, its weights "
                f"are the kernel K_{k} (u_{k} = K_{k} ⋆ z_{k - 1})"
            )
        if kind == "conv" and stem == "b":
            if not self.spec.layers[k - 1].bias:
                raise Wrong(f"b_{k} is not defined in this network: layer {k} has no bias")
            return _parameter(self.spec, f"b{k}")
        if kind == "pool":
            shown = {"delta": "δ", "Delta": "Δ"}.get(stem, stem)
            raise Wrong(
                f"{shown}_{k} is not defined in this network: layer {k} is a pooling layer, "
                f"without weights, bias or pre-activation (z_{k} = pool(z_{k - 1}))"
            )
        return None

    def _geometry(self, k: int) -> Geometry:
        return _layer_kinds(self.spec)[k][1]

    def _kernel_layer(self, K, operation: str) -> int:
        """The layer whose kernel `K` is (the left operand of ⋆ or ⋆ᵀ)."""
        for k, (kind, _) in _layer_kinds(self.spec).items():
            if kind == "conv" and K == _parameter(self.spec, f"K{k}"):
                return k
        raise Wrong(f"{operation} takes a layer's kernel K_j on its left, not {text(K)}")

    def _rows(self, x, rows: int, what: str) -> None:
        if not _is_matrix(x) or x.shape[0] != rows:
            shown = _dims(x) if _is_matrix(x) else "a scalar"
            raise Wrong(
                f"{what} takes {rows} rows, but {text(x) if _is_matrix(x) else x} is {shown}"
            )

    def op_conv(self, node: Op):
        """K_j ⋆ z: layer j's cross-correlation of z with its kernel (T(K_j) z)."""
        K, Z = (self._value(self(x)) for x in node.args)
        k = self._kernel_layer(K, "⋆")
        g = self._geometry(k)
        self._rows(Z, g.in_width, f"K_{k} ⋆ (…)")
        return Conv(K, Z, g)

    def op_conv_t(self, node: Op):
        """K_j ⋆ᵀ g: the adjoint of layer j's convolution (T(K_j)ᵀ g)."""
        K, G = (self._value(self(x)) for x in node.args)
        k = self._kernel_layer(K, "⋆ᵀ")
        g = self._geometry(k)
        self._rows(G, g.out_width, f"K_{k} ⋆ᵀ (…)")
        return ConvTranspose(K, G, g)

    def _convolution_layer(self, candidates: list, hints: tuple, what: str) -> int:
        """The layer an operation without a kernel (corr, sum_pos, a pooling) belongs to, among
        `candidates` (layers whose shapes fit): the one its operands name (`hints`: layer ->
        whether an operand is that layer's own value), else the claim's left side's, else the
        only one."""
        if not candidates:
            raise Wrong(what)
        named = [k for k in candidates if hints and hints(k)]
        if named:
            return named[0]
        if self.context in candidates:
            return self.context
        if len(candidates) == 1:
            return candidates[0]
        raise Unsupported(
            f"{what.split(':')[0]}: layers {', '.join(map(str, candidates))} fit; name their "
            "operands (z_{j-1}, δ_j)"
        )

    def _names_of(self, k: int, x, stems) -> bool:
        """Whether `x` is layer k's value of one of `stems` (z, u, delta), one sample or batch."""
        for names in (self.names, self.batch):
            for stem in stems:
                if x == getattr(names, stem)(k):
                    return True
        return False

    def _corr(self, values):
        """corr(z, g): the kernel gradient of a convolutional layer, z its input, g its δ."""
        if len(values) != 2 or not all(_is_matrix(v) for v in values):
            raise Wrong("corr(z, δ) takes two arguments, a layer's input z_{j-1} and its δ_j")
        Z, G = values
        convs = [k for k, (kind, _) in _layer_kinds(self.spec).items() if kind == "conv"]
        fits = [
            k
            for k in convs
            if Z.shape[0] == self._geometry(k).in_width
            and G.shape[0] == self._geometry(k).out_width
            and Z.shape[1] == G.shape[1]
        ]
        k = self._convolution_layer(
            fits,
            lambda k: self._names_of(k - 1, Z, ("z",)) or self._names_of(k, G, ("delta",)),
            f"corr({text(Z)}, {text(G)}): no convolutional layer takes a {_dims(Z)} input and "
            f"a {_dims(G)} δ; write corr(z_{{j-1}}, δ_j)",
        )
        return ConvKernelGrad(G, Z, self._geometry(k))

    def _channel_sum(self, values):
        """sum_pos(g): the sum of g over the positions of each channel (∂f/∂b_j of a
        convolution)."""
        if len(values) != 1 or not _is_matrix(values[0]):
            raise Wrong("sum_pos(δ) takes one argument, a convolutional layer's δ_j")
        (G,) = values
        convs = [k for k, (kind, _) in _layer_kinds(self.spec).items() if kind == "conv"]
        fits = [k for k in convs if G.shape[0] == self._geometry(k).out_width]
        k = self._convolution_layer(
            fits,
            lambda k: self._names_of(k, G, ("delta",)),
            f"sum_pos({text(G)}): no convolutional layer has a {_dims(G)} δ",
        )
        return ChannelSum(G, self._geometry(k))

    def _pooling(self, name: str, values, adjoint: bool = False):
        """maxpool(a), avgpool(a) of a pooling layer's input; avgpoolᵀ(g) the adjoint."""
        if len(values) != 1 or not _is_matrix(values[0]):
            raise Wrong(f"{name}(…) takes one argument, a vector or matrix")
        (A,) = values
        kind = "max" if name == "maxpool" else "avg"
        pools = [k for k, (t, g) in _layer_kinds(self.spec).items() if t == "pool"]
        pools = [k for k in pools if _pool_kind(self.spec, k) == kind]
        side = "out_width" if adjoint else "in_width"
        fits = [k for k in pools if A.shape[0] == getattr(self._geometry(k), side)]
        k = self._convolution_layer(
            fits,
            None if adjoint else (lambda k: self._names_of(k - 1, A, ("z",))),
            f"{name}{'ᵀ' if adjoint else ''}({text(A)}): no {name} layer takes {_dims(A)}",
        )
        g = self._geometry(k)
        if adjoint:
            return AvgPoolTranspose(A, g)
        return MaxPool(A, g) if kind == "max" else AvgPool(A, g)

    def _pool_derivative(self, head: Op, values):
        """maxpool'_{a}(g): the adjoint of max pooling at its input a, routing g to each
        window's maximum."""
        (name, A), G = head.args, values
        if not isinstance(name, Sym):
            raise Wrong("maxpool'_{z}(g) is the derivative of maxpool, written as it is")
        if name.stem != "maxpool":
            raise Unsupported(
                f"{name.stem}'_{{…}}: verify reads maxpool'_{{z}}(g); average pooling's adjoint "
                "is written avgpool^{T}(g)"
            )
        A = self._value(self(A))
        if len(G) != 1 or not (_is_matrix(A) and _is_matrix(G[0])):
            raise Wrong("maxpool'_{z}(g) takes one argument g and is taken at a matrix z")
        (G,) = G
        pools = [k for k, (t, _) in _layer_kinds(self.spec).items() if t == "pool"]
        fits = [
            k
            for k in pools
            if _pool_kind(self.spec, k) == "max"
            and A.shape[0] == self._geometry(k).in_width
            and G.shape[0] == self._geometry(k).out_width
            and A.shape[1] == G.shape[1]
        ]
        k = self._convolution_layer(
            fits,
            lambda k: self._names_of(k - 1, A, ("z",)),
            f"maxpool'_{{{text(A)}}}({text(G)}): no max pooling layer takes a {_dims(A)} input "
            f"and a {_dims(G)} gradient",
        )
        g = self._geometry(k)
        names = self.batch if A.shape[1] == N else self.names
        pooled = names.z(k) if A == names.z(k - 1) else MaxPool(A, g)
        return MaxPoolGrad(G, A, pooled, g)

    def _channel_bias(self, a, b):
        """(a, b) with a convolution's bias b_j (C_out x 1) beside a feature map of layer j
        (C_out P rows) repeated over the positions of each channel, as the layer adds it."""
        for x, other in ((a, b), (b, a)):
            for k, (kind, g) in _layer_kinds(self.spec).items():
                if kind != "conv" or not self.spec.layers[k - 1].bias:
                    continue
                if x == _parameter(self.spec, f"b{k}") and other.shape[0] == g.out_width:
                    repeated = ChannelBias(x, g)
                    if other.shape[1] != 1:
                        repeated = MatMul(repeated, sp.OneMatrix(1, other.shape[1]))
                    return (repeated, other) if x is a else (other, repeated)
        return a, b

    # operations ----------------------------------------------------------------------------
    def _value(self, x, jacobian_ok: bool = False):
        """`x` as a value: a SymPy scalar or matrix (a Jacobian too if `jacobian_ok`, for a
        product to read as a vector-Jacobian product); the resolver's markers are refused."""
        if x == ("ones",):
            raise Wrong("𝟏 (the all-ones vector) must multiply a matrix, as in Δ_j 𝟏")
        if isinstance(x, tuple) and x[0] == "partial":
            raise Wrong("∂ belongs in a derivative, \\frac{\\partial a}{\\partial b}")
        if isinstance(x, tuple):
            return self._sigma_value(*x[1:])
        if x == F:
            raise Unsupported(
                "f (the loss) appears outside a derivative; verify compares derivatives such "
                "as ∂f/∂W_j and δ_j, not values of f"
            )
        if isinstance(x, Partial) and not jacobian_ok:
            return self.gradient(x)
        return x

    def _sigma_value(self, layer, primes):
        """σ'_j written without an argument: the vector σ'_j of the derivation (σ' without a
        layer: that of the claim's left side, as in δ_2 = (W_3ᵀ δ_3) ∘ σ')."""
        layer = self.context if layer is None else layer
        if primes == 0 or layer is None:
            raise Wrong("σ needs an argument here, e.g. σ_2(W_2 z_1), or write σ'_2")
        if primes > 1:
            raise Unsupported("only first derivatives σ' can be checked")
        self._elementwise_layer(layer)
        return self.oriented(self.names.dsigma(layer))

    def _elementwise_layer(self, layer: int) -> None:
        if not 1 <= layer <= self.J:  # a layer taken from the left side (δ_5 = … ∘ σ')
            raise Wrong(f"σ'_{layer} is not defined in this network: it has layers 1..{self.J}")
        sigma = self.spec.layers[layer - 1].sigma
        if not sigma.elementwise:
            local = next(
                (
                    rules.local(op)
                    for op in derive(self.spec).sample.graph.ops
                    if op.layer == layer and rules.local(op)
                ),
                None,
            )
            jacobian = f" {text(local[0])} = {text(local[1])}" if local else ""
            raise Wrong(
                f"σ'_{layer} is not defined: layer {layer} is {sigma.name}, which is not applied "
                f"entry by entry; its derivative is the Jacobian{jacobian}"
            )

    def op_ones(self, node: Op):
        return ("ones",)

    def op_rule(self, node: Op):
        """Δ_rule X: X itself here (`_judge_rule` compares it with Rosenblatt's rule)."""
        return self(node.args[0])

    def op_indicator(self, node: Op):
        """𝟙[a > b] (≥, <, ≤): 1 where the comparison holds, else 0, entry by entry (relu′ is
        𝟙[u > 0])."""
        a, relation, b = node.args[0].args
        a, b = self._entrywise_operands(Op("sub", (a, b), node.column))
        difference = self._sum_of(a, b, -1)
        x = sp.Dummy("x", real=True)
        condition = {">": x > 0, ">=": x >= 0, "<": x < 0, "<=": x <= 0}[relation]
        step = sp.Piecewise((1, condition), (0, True))
        if not _is_matrix(difference):
            return step.subs(x, difference)
        return Elementwise(sp.Lambda(x, step), difference)

    def op_abs(self, node: Op):
        """|x|, entry by entry."""
        value = self._value(self(node.args[0]))
        if not _is_matrix(value):
            return sp.Abs(value)
        x = sp.Dummy("x", real=True)
        return Elementwise(sp.Lambda(x, sp.Abs(x)), value)

    def op_number(self, node: Op):
        return sp.Rational(Fraction(node.args[0]))

    def op_neg(self, node: Op):
        v = self._value(self(node.args[0]))
        return MatMul(-1, v) if _is_matrix(v) else -v

    def _entrywise_operands(self, node: Op) -> tuple:
        """Both operands as values; 𝟏 (\\mathbf{1}) beside a matrix is the all-ones matrix of
        its shape, as in 𝟏 − z_3."""
        a, b = (self(x) for x in node.args)
        ones = ("ones",)
        if a == ones and b != ones:
            b = self._value(b)
            return (sp.OneMatrix(*b.shape) if _is_matrix(b) else sp.Integer(1)), b
        if b == ones and a != ones:
            a = self._value(a)
            return a, (sp.OneMatrix(*a.shape) if _is_matrix(a) else sp.Integer(1))
        return self._value(a), self._value(b)

    def _sum(self, node: Op, sign: int):
        return self._sum_of(*self._entrywise_operands(node), sign)

    def _sum_of(self, a, b, sign: int):
        """a + b (sign 1) or a − b (sign −1): a number beside a matrix is added to each entry."""
        if _is_matrix(a) and _is_matrix(b) and a.shape != b.shape:
            a, b = self._channel_bias(a, b)
        if _is_matrix(a) != _is_matrix(b):  # 1 - z: a number broadcast over the entries
            m = a if _is_matrix(a) else b
            a, b = (x if _is_matrix(x) else x * sp.OneMatrix(*m.shape) for x in (a, b))
        if _is_matrix(a) != _is_matrix(b) or (_is_matrix(a) and a.shape != b.shape):
            shown = operation_text(a, "+" if sign > 0 else "−", b)
            raise Wrong(
                f"{shown} adds a {_dims(a) if _is_matrix(a) else 'scalar'} and a {_dims(b) if _is_matrix(b) else 'scalar'}"
            )
        if not _is_matrix(a):
            return a + sign * b
        return MatAdd(a, b if sign > 0 else MatMul(-1, b))

    def op_add(self, node):
        return self._sum(node, 1)

    def op_sub(self, node):
        return self._sum(node, -1)

    def op_hadamard(self, node: Op):
        return self.hadamard(*self._entrywise_operands(node))

    def hadamard(self, a, b):
        if not (_is_matrix(a) and _is_matrix(b)):
            return a * b
        if a.shape != b.shape:  # a repair is offered only once validated (`_one_edit_repair`)
            raise Wrong(
                f"{operation_text(a, '∘', b)} multiplies a {_dims(a)} and a {_dims(b)} entry by entry"
            )
        return HadamardProduct(a, b)

    def op_T(self, node: Op):
        x = self._value(self(node.args[0]))
        return Transpose(x) if _is_matrix(x) else x

    def op_sample(self, node: Op):
        return self(node.args[0])

    def op_sum(self, node: Op):
        body = self._value(self(node.args[0]))
        return SampleSum(body) if _is_matrix(body) else N * body

    def op_partial(self, node: Op):
        top = self(node.args[0])
        return ("partial", top if top == F else self._value(top))

    def op_frac(self, node: Op):
        top, bottom = (self(x) for x in node.args)
        if isinstance(top, tuple) and top[0] == "partial":
            if not (isinstance(bottom, tuple) and bottom[0] == "partial"):
                raise Wrong("a derivative is written \\frac{\\partial a}{\\partial b}")
            if top[1] != F and not _is_matrix(top[1]):
                raise Wrong(
                    f"∂({text(top[1])})/∂…: differentiate f or a vector or matrix such as z_j"
                )
            den = bottom[1]
            if not isinstance(den, MatrixSymbol):
                raise Wrong(f"∂/∂({text(den)}): differentiate with respect to a single quantity")
            return Partial(top[1], den)
        top, bottom = self._value(top), self._value(bottom)
        if not _is_matrix(top) and _is_matrix(bottom):  # c / z: entry-wise
            x = sp.Dummy("x")
            return Elementwise(sp.Lambda(x, top / x), bottom)
        if _is_matrix(top) and _is_matrix(bottom):  # a / b entry by entry
            if top.shape != bottom.shape:
                raise Wrong(
                    f"{operation_text(top, '/', bottom)} divides a {_dims(top)} by a {_dims(bottom)} "
                    "entry by entry: they must have one shape"
                )
            return HadamardProduct(top, sp.HadamardPower(bottom, -1))
        if _is_matrix(top):  # a matrix divided by a number
            if bottom == 0:
                raise Wrong("a division by zero")
            return MatMul(1 / bottom, top)
        if bottom == 0:
            raise Wrong("a division by zero")
        return top / bottom

    def op_call(self, node: Op):
        head, *args = node.args
        values = [self._value(self(a)) for a in args]
        convolutional = self._convolutional_call(head, values)
        if convolutional is not None:
            return convolutional
        if isinstance(head, Sym) and head.stem == "diag" and head.index is None:
            if len(values) != 1 or not (_is_matrix(values[0]) and values[0].shape[1] == 1):
                raise Wrong("diag(·) takes one vector")
            return DiagMatrix(values[0])
        if isinstance(head, Sym) and head.stem == "hadamard" and head.index is None:
            if len(values) != 2:
                raise Wrong("hadamard(a, b) takes two arguments")
            return self.hadamard(*values)
        if isinstance(head, Sym) and head.stem == "softmax" and not head.primes:
            return self._softmax(values)
        if isinstance(head, Sym) and head.stem in SCALAR_FUNCTIONS and not head.primes:
            return self._scalar_function(head.stem, values)
        try:
            f = self(head)
        except Wrong:
            if isinstance(head, Sym) and re.sub(r"\d+$", "", head.stem) not in NAMED:
                raise Unsupported(
                    f"{head.stem}(…) is a function verify does not know; it reads σ_j, σ'_j, "
                    f"softmax, diag, {', '.join(SCALAR_FUNCTIONS)} applied entry by entry"
                ) from None
            raise
        if isinstance(f, tuple) and f[0] == "sigma":
            _, layer, primes = f
            if len(values) != 1 or not _is_matrix(values[0]):
                raise Wrong("σ takes one argument, a vector or matrix, as in σ_2(W_2 z_1)")
            (arg,) = values
            if layer is None:
                layer = self._layer_of(arg) or self.context or self._infer_layer(arg)
            if primes > 1:
                raise Unsupported("only first derivatives σ' can be checked")
            if primes:
                self._elementwise_layer(layer)
                return DSigma(layer, arg)
            return Sigma(layer, arg)
        if len(values) != 1:
            raise Wrong(f"{text(self._value(f))}(…) takes one argument")
        return self.product(self._value(f), values[0])

    def _convolutional_call(self, head, values):
        """corr(z, δ), sum_pos(δ), maxpool(z), avgpool(z), avgpoolᵀ(g), maxpool'_{z}(g) as
        the convolutional nodes print them (`graph.convolution`); T(K_j) refused; else None."""
        if isinstance(head, Op) and head.kind == "pool_prime":
            return self._pool_derivative(head, values)
        if isinstance(head, Op) and head.kind == "T" and isinstance(head.args[0], Sym):
            name = head.args[0]
            if name.stem == "avgpool" and name.index is None and not name.primes:
                return self._pooling("avgpool", values, adjoint=True)
            if name.stem == "maxpool" and name.index is None:
                raise Unsupported(
                    "maxpool^T: max pooling is not linear; its adjoint is written maxpool'_{z}(g)"
                )
            return None
        if not isinstance(head, Sym) or head.primes:
            return None
        if head.stem == "corr" and head.index is None:
            return self._corr(values)
        if head.stem == "sum" and head.index == "pos":
            return self._channel_sum(values)
        if head.stem in ("maxpool", "avgpool") and head.index is None:
            return self._pooling(head.stem, values)
        if head.stem == "T" and head.index is None and _layer_kinds(self.spec):
            raise Unsupported(
                "T(K_j), a convolution written as its dense Toeplitz matrix: verify reads the "
                "kernel K_j and K_j ⋆ z (the section 'Convolutions are matrices' derives "
                "∂f/∂K_j = corr(z_{j-1}, δ_j), which it checks)"
            )
        return None

    def _scalar_function(self, name: str, values):
        """tanh(u_j), exp(…), log(…), sigmoid(…) entry by entry; σ_j itself when the argument is
        layer j's pre-activation and layer j's activation has that name."""
        if len(values) != 1:
            raise Wrong(f"{name} takes one argument")
        (arg,) = values
        function = SCALAR_FUNCTIONS[name]
        if not _is_matrix(arg):
            return function(arg)
        layer = next(
            (k for k in range(1, self.J + 1) if arg == self.names.u(k) or self._affine(k, arg)),
            None,
        )
        if layer is not None and self.spec.layers[layer - 1].sigma.name == name:
            return Sigma(layer, arg)
        x = sp.Dummy("x", real=True)
        return Elementwise(sp.Lambda(x, function(x)), arg)

    def _affine(self, k: int, arg) -> bool:
        """Whether `arg` is W_k z_{k-1} (+ b_k), layer k's pre-activation written out."""
        terms = arg.args if isinstance(arg, MatAdd) else (arg,)
        return any(isinstance(t, MatMul) and self.names.W(k) in t.args for t in terms)

    def _softmax(self, values):
        """softmax(u_j): σ_j of a softmax layer j (the layer read from the argument)."""
        if len(values) != 1 or not _is_matrix(values[0]):
            raise Wrong("softmax takes one argument, a vector, as in softmax(u_3)")
        layer = self._layer_of(values[0])
        if layer is None:
            raise Wrong(f"softmax({text(values[0])}): write it of a layer's pre-activation, u_j")
        if self.spec.layers[layer - 1].sigma.kind != "softmax":
            raise Wrong(
                f"layer {layer} is {self.spec.layers[layer - 1].sigma.name}, not softmax: "
                f"write σ_{layer}(…)"
            )
        return Sigma(layer, values[0])

    def _infer_layer(self, arg) -> int:
        k = self._layer_of(arg)
        if k is None:
            raise Wrong(f"σ'({text(arg)}): say which layer's σ, e.g. σ'_2")
        return k

    def _layer_of(self, arg) -> int | None:
        """The layer whose pre-activation `arg` is (u_j, a product with W_j, or such a product
        plus a bias), if any."""
        terms = arg.args if isinstance(arg, MatAdd) else (arg,)
        for k in range(1, self.J + 1):
            u, W = self.oriented(self.names.u(k)), self.oriented(self.names.W(k))
            if arg == u or any(isinstance(t, MatMul) and W in t.args for t in terms):
                return k
            if any(isinstance(t, Conv) and t.geometry.layer == k for t in terms):
                return k
        return None

    def op_power(self, node: Op):
        """x^n: a layer index on a bare name that needs one (\\delta^3, W^2 as layer 2's),
        else a power: of a scalar, or entry by entry of a vector, of a non-square matrix or of
        a function applied entry by entry (\\tanh^2 W); a square matrix's power is ambiguous."""
        base, exponent = node.args
        n = sp.Rational(Fraction(exponent.args[0]))
        if n > MAX_POWER:
            raise Unsupported(f"a power {n}: verify reads powers up to {MAX_POWER} (MAX_POWER)")
        if isinstance(base, Sym) and base.index is None and _stem_and_index(base)[1] is None:
            if base.stem in _LAYERED and n.is_integer:  # a^2 as a^{(2)}, z^2 as z^{(2)}
                stem = SUPERSCRIPT_STEMS.get(base.stem, base.stem)
                return self(Sym(stem, str(n), base.primes, base.column))
        value = self._value(self(base))
        if not _is_matrix(value):
            return value**n
        entrywise = isinstance(value, (Elementwise, Sigma, DSigma))  # \tanh^2 of a matrix
        if value.shape[1] != 1 and value.shape[0] == value.shape[1] and not entrywise:
            raise Unsupported(
                f"({text(value)})^{n} of a square matrix: write the matrix product or ∘ "
                "for the entry-wise power"
            )
        x = sp.Dummy("x")
        return Elementwise(sp.Lambda(x, x**n), value)

    def op_mul(self, node: Op):
        a, b = (self(x) for x in node.args)
        if b == 1 and _is_matrix(a) and a.shape[1] == N:  # Δ_j 1, as symbp derive prints Δ_j 𝟏
            b = ("ones",)
        if b == ("ones",) and _is_matrix(a := self._value(a, jacobian_ok=True)):
            return MatMul(a, sp.OneMatrix(a.shape[1], 1))  # row sums
        return self.product(self._value(a, jacobian_ok=True), self._value(b, jacobian_ok=True))

    def product(self, a, b):
        if isinstance(a, Partial):
            a = self.gradient(a)
        if isinstance(b, Partial) and b.args[0] == F:  # a matrix times the gradient df/dX
            b = self.gradient(b)
        if isinstance(b, Partial):
            num = b.args[0]
            if not _is_matrix(a) or a.shape != num.shape:
                raise Wrong(
                    f"the row factor {text(a)} must be shaped like {text(num)} ({_dims(num)})"
                )
            return Through(a, b)
        if not (_is_matrix(a) and _is_matrix(b)):
            return a * b if not _is_matrix(b) else MatMul(a, b)
        if self.components and a.shape == b.shape and a.shape[1] == 1:  # entries: a_i b_i
            return self.hadamard(a, b)
        if a.shape[1] != b.shape[0]:
            raise Wrong(self._product_hint(a, b))
        return MatMul(a, b)

    def gradient(self, p: Partial):
        """∂f/∂X as a value; `Unsupported` for any other Jacobian, which verify reads only as
        the right factor of a vector-Jacobian product."""
        if p.args[0] != F:
            raise Unsupported(
                f"the Jacobian {text(p)} is not preceded by a row factor; verify reads a "
                "Jacobian only after one, as in 2(z_3 - y) ∂z_3/∂W_3"
            )
        if p.args[1].shape[1] == N:  # ∂f/∂U_j of the batch: the derivation's, where it names it
            try:
                return _target(self.spec, p, True)
            except Unsupported:  # refused with its reason by `_check_samples`
                pass
        return Gradient(p)

    def _product_hint(self, a, b) -> str:
        """What is wrong with the product a b; a repair is offered only once validated
        (`_one_edit_repair`)."""
        return f"{operation_text(a, 'product', b)} multiplies a {_dims(a)} by a {_dims(b)}"


@lru_cache(maxsize=32)
def _layer_kinds(spec: Spec) -> dict:
    """Layer j -> ("conv" | "pool", its `Geometry`) for every convolutional or pooling layer of
    `spec`, read from the derivation's forward pass (empty for a dense network)."""
    out = {}
    for _, rhs in derive(spec).sample.forward:
        for node in sp.preorder_traversal(rhs):
            if isinstance(node, Conv):
                out[node.geometry.layer] = ("conv", node.geometry)
            elif isinstance(node, (MaxPool, AvgPool)):
                out[node.geometry.layer] = ("pool", node.geometry)
    return out


def _max_pools(forward) -> list:
    """The max pooling nodes of a forward pass."""
    return [
        node
        for _, rhs in forward
        for node in sp.preorder_traversal(rhs)
        if isinstance(node, MaxPool)
    ]


def _pool_windows(g: Geometry) -> list[list[int]]:
    """The input rows of each output row (channel c, position o) of a pooling layer."""
    size = 1
    for n in g.size_in:
        size *= n
    by_position: dict = {}
    for o, _, i in g.taps:
        by_position.setdefault(o, []).append(i)
    return [
        [c * size + i for i in by_position.get(o, [])]
        for c in range(g.channels_out)
        for o in range(g.positions)
    ]


def _pool_kind(spec: Spec, k: int) -> str:
    """ "max" or "avg": the pooling of layer k (a pooling layer of `_layer_kinds`)."""
    return (
        "max"
        if any(p.geometry.layer == k for p in _max_pools(derive(spec).sample.forward))
        else "avg"
    )


def _parameter(spec: Spec, key: str) -> MatrixSymbol:
    """The graph's parameter `key` (K1, b1: a convolution's kernel and bias)."""
    for param in derive(spec).sample.graph.params:
        if param.key == key:
            return param.symbol
    raise Wrong(f"{key} is not a parameter of this network")


def _constant(c, shape):
    """The matrix of `shape` with c in every entry."""
    return sp.ZeroMatrix(*shape) if c == 0 else MatMul(c, sp.OneMatrix(*shape))


def _resolve_claim(spec: Spec, lhs_tree, rhs_tree):
    """(lhs, rhs) of a parsed claim in the derivation's symbols (samples as columns): under
    layout "rows" the claim reads transposed symbols, so its right side is transposed back."""
    resolve = _resolver(spec, lhs_tree, rhs_tree)
    lhs, rhs = resolve(lhs_tree), resolve._value(resolve(rhs_tree))
    if getattr(rhs, "is_number", False) and _is_matrix(rhs) is False:
        shape = lhs.args[1].shape if isinstance(lhs, Partial) else getattr(lhs, "shape", None)
        rhs = _constant(rhs, shape) if shape else rhs  # δ_1 = 0 (\mathbf{0}): in every entry
    if spec.layout != "rows":
        return lhs, rhs
    rhs = Transpose(_columns_meaning(rhs)) if _is_matrix(rhs) else rhs
    return _columns_left_side(lhs), rhs


def _resolver(spec: Spec, lhs_tree, rhs_tree) -> Resolver:
    """The resolver of a claim for `spec`'s per-sample symbols."""
    components = _has_components(lhs_tree) or _has_components(rhs_tree)
    return Resolver(spec, Names(spec.widths, batch=False), lhs_tree, components)


def _has_components(tree) -> bool:
    """Whether `tree` names an entry of a vector, as δ_{3,i}."""
    if isinstance(tree, Sym):
        return bool(tree.index) and "," in tree.index
    return isinstance(tree, Op) and any(_has_components(a) for a in tree.args)


def _flipped(x: MatrixSymbol) -> MatrixSymbol:
    """The symbol of the same name with rows and columns swapped (rows <-> columns layout)."""
    return MatrixSymbol(x.name, x.shape[1], x.shape[0])


def _columns_partial(p: Partial) -> Partial:
    num, den = p.args
    return Partial(num if num == F else _columns_meaning(num), _flipped(den))


def _columns_left_side(lhs):
    """A left side read under layout "rows" as the derivation's symbol (δ_j, ∂f/∂W_j): the
    transposes of both sides of a claim are equal when the claim is."""
    if isinstance(lhs, MatrixSymbol):
        return _flipped(lhs)
    return _columns_partial(lhs) if isinstance(lhs, Partial) else lhs


def _columns_meaning(x):
    """A value resolved under layout "rows" in the derivation's symbols: each named matrix S is
    the transpose of the columns' S; ∂f/∂X and a row factor's product with a Jacobian are taken
    with respect to the columns' X, then transposed.  The value itself is unchanged."""
    if isinstance(x, MatrixSymbol):
        return Transpose(_flipped(x))
    if isinstance(x, Gradient):
        return Transpose(Gradient(_columns_partial(x.args[0])))
    if isinstance(x, Through):
        row, jacobian = x.args
        return Transpose(Through(_columns_meaning(row), _columns_partial(jacobian)))
    if not getattr(x, "args", ()) or isinstance(x, sp.Lambda):
        return x
    return x.func(*(_columns_meaning(a) for a in x.args))


_LAYERED = {"z", "u", "W", "w", "b", "delta", "zeta", "Z", "U", "Delta", "Zeta", "A", "a"}
_LAYERED |= {"act", "Act"}
_CONTEXT_STEMS = {"delta", "Delta", "zeta", "Zeta", "W", "b", "u", "U", "K"}


def _stem_and_index(node: Sym) -> tuple[str, str | None]:
    """A name's stem and layer, the layer also read from SymPy-style names (W3, delta2)."""
    stem, index = node.stem, node.index
    if index and "," in index:  # δ_{3,i}: entry i of δ_3
        index = index.split(",")[0]
    match = re.fullmatch(r"([A-Za-z]+?)(\d+)", stem)
    if index is None and match:
        stem, index = match.groups()
    return stem, index


def _context_layer(lhs_tree, last: int) -> int | None:
    """The layer a claim's left side names (δ_j, ∂f/∂W_j, ∂f/∂b_j, ∂f/∂u_j...), if a number."""
    if isinstance(lhs_tree, Op) and lhs_tree.kind == "frac":
        bottom = lhs_tree.args[1]
        lhs_tree = bottom.args[0] if isinstance(bottom, Op) and bottom.kind == "partial" else None
    if isinstance(lhs_tree, Op) and lhs_tree.kind == "power" and isinstance(lhs_tree.args[0], Sym):
        base, exponent = lhs_tree.args  # W^2, δ^3: a layer on a bare name (`op_power`)
        lhs_tree = Sym(base.stem, base.index or exponent.args[0], base.primes, base.column)
    if not isinstance(lhs_tree, Sym):
        return None
    stem, index = _stem_and_index(lhs_tree)
    if stem not in _CONTEXT_STEMS or index is None:
        return None
    return last if index in ("J", "L") else int(index) if index.isdigit() else None


def _target(spec: Spec, lhs, batch: bool, rule: bool = False):
    """The derived expression a claim's left side names: a named adjoint (δ_j, or ζ_j of a
    layer with a skip connection; Δ_j, 𝒵_j for the batch), a gradient ∂f/∂W_j, ∂f/∂b_j,
    ∂f/∂u_j or ∂f/∂z_j where named (as the named adjoint), or, for one sample, ∂f/∂ of any other
    value of the forward pass (z_j, a_j, x, y: a `Gradient` that SymPy computes)."""
    if isinstance(lhs, Transpose):  # δ_1ᵀ = …: the transpose of the derived δ_1
        return Transpose(_target(spec, lhs.arg, batch, rule))
    if isinstance(lhs, Gradient):  # (∂f/∂W_j)ᵀ: the gradient, read as a value
        lhs = lhs.args[0]
    d = derive(spec)
    p = d.batch if batch else d.sample
    p = perceptron_pass(p) if rule else p  # Rosenblatt's rule: the step's σ′ replaced by 1
    batch_form = dict(zip(d.sample.graph.named.values(), d.batch.graph.named.values(), strict=True))
    if isinstance(lhs, MatrixSymbol) and lhs in batch_form:
        if batch:
            raise Wrong(
                f"{text(lhs)} is one sample's: a right side with a sum over samples or batch "
                f"matrices belongs in ∂f/∂W_j or in {text(batch_form[lhs])}"
            )
        return _adjoint(p, lhs)
    if isinstance(lhs, MatrixSymbol) and lhs in batch_form.values():
        if not batch:
            raise Wrong(
                f"{text(lhs)} holds every sample: write its right side with batch matrices "
                "(Z_j, Δ_j, Σ'_j, Y)"
            )
        return _adjoint(p, lhs)
    if isinstance(lhs, Partial) and lhs.args[0] == F:
        value = lhs.args[1]
        if value.name in p.gradients:
            return p.gradients[value.name]
        if value in p.graph.named:  # f = scale * (sum of the losses): its adjoints are unscaled
            adjoint = _adjoint(p, p.graph.named[value])
            return adjoint if p.scale == 1 else MatMul(p.scale, adjoint)
        if p.graph.producer(value) or p.graph.consumers(value):  # SymPy differentiates f
            if batch:
                raise Unsupported(
                    f"{text(lhs)} of the batch: verify differentiates f by a value the "
                    "derivation does not name (such as z_j or x) for one sample only"
                )
            return Gradient(lhs)
    raise Wrong(
        "the left side must be δ_j, ζ_j (a layer with a skip connection), their batch forms "
        f"Δ_j, 𝒵_j, or ∂f/∂W_j (∂f/∂b_j, ∂f/∂u_j, ∂f/∂z_j); got {text(lhs)}"
    )


def _adjoint(p, symbol):
    """The definition of the named adjoint `symbol` in pass `p`."""
    adjoints = dict(p.adjoints)
    if symbol not in adjoints:
        raise Unsupported(f"the derivation does not use {text(symbol)}: no gradient needs it")
    return adjoints[symbol]


def _batch_symbols(expr) -> bool:
    """Whether `expr` names whole-batch matrices (Z_j, Delta_j, Y: N columns)."""
    return any(
        s.shape[1] == N for s in getattr(expr, "free_symbols", ()) if isinstance(s, MatrixSymbol)
    )


def _is_sample_symbol(x) -> bool:
    """Whether `x` is one sample's z_j, u_j, y, δ_j or σ'_j (not a parameter)."""
    if not isinstance(x, MatrixSymbol):
        return False
    match = re.fullmatch(r"([a-z]+)\d*", x.name)
    return bool(match) and match.group(1) in PER_SAMPLE


def _check_samples(expr, inside_sum: bool = False) -> None:
    """In a batch claim, one sample's quantities belong inside the sum over samples and the
    batch matrices (Z_j, Δ_j, Y) outside it; `Wrong` naming the first that is not."""
    if _is_sample_symbol(expr) and not inside_sum:
        raise Wrong(
            f"{text(expr)} is one sample's, outside the sum over samples, beside batch "
            "quantities: write the sum, \\sum_{i=1}^N, or the batch matrix"
        )
    if isinstance(expr, (Gradient, Through)) and not inside_sum:
        raise Unsupported(
            f"{text(expr)} in a batch claim: verify reads derivatives of f over one sample, "
            "inside \\sum_{i=1}^N"
        )
    if isinstance(expr, MatrixSymbol) and inside_sum and expr.shape[1] == N:
        raise Wrong(
            f"{text(expr)} holds every sample already; it does not belong in a sum over samples"
        )
    for a in getattr(expr, "args", ()):
        _check_samples(a, inside_sum or isinstance(expr, SampleSum))


def _has(expr, cls) -> bool:
    return isinstance(expr, cls) or any(_has(a, cls) for a in getattr(expr, "args", ()))


class _Evaluator:
    """Evaluates claims and derived expressions on explicit matrices (`proof.explicit`)."""

    def __init__(
        self,
        spec: Spec,
        batch: bool,
        concrete: bool = False,
        output_rule: bool = False,
        rule: bool = False,
    ):
        self.spec, self.batch = spec, batch
        self.ex = explicit(spec, batch, concrete, output_rule)
        self.sample_names = Names(spec.widths, batch=False)
        self.forward = derive(spec).sample.forward
        self.objective = derive(spec).sample.objective
        self.pass_ = derive(spec).batch if batch else derive(spec).sample
        if rule:  # Rosenblatt's rule: its adjoints, the step's σ′ replaced by 1
            self.pass_ = perceptron_pass(self.pass_)

    def leaves(self) -> list:
        """The symbols whose values the pass starts from: parameters, input and target."""
        names = self.pass_.names
        return [*self.ex.params, names.z(0), names.y()]

    def env_for(self, c: int, whole: dict) -> dict:
        """The per-sample values of sample c in the batch values `whole` (`whole` itself when
        per-sample already)."""
        if not self.batch:
            return whole
        b = Names(self.spec.widths, batch=True)
        s = self.sample_names
        env = {
            k: v for k, v in whole.items() if not (isinstance(k, MatrixSymbol) and k.shape[1] == N)
        }
        pairs = [(s.y(), b.y()), *((s.z(k), b.z(k)) for k in range(self.spec.depth + 1))]
        for k in range(1, self.spec.depth + 1):
            pairs += [(s.u(k), b.u(k)), (s.delta(k), b.delta(k)), (s.dsigma(k), b.dsigma(k))]
            pairs += [(s.a(k), b.a(k)), (s.zeta(k), b.zeta(k))]
        for small, big in pairs:
            if big in whole:
                env[small] = whole[big][:, c]
        return env

    def __call__(self, expr, env=None):
        env = env if env is not None else self.ex.env
        extra = {
            DSigma: lambda e, go: go(e.args[1]).applyfunc(self.ex.derivative[int(e.args[0])]),
            SampleSum: lambda e, go: sum(
                (self(e.args[0], self.env_for(c, env)) for c in range(1, self.ex.cols)),
                self(e.args[0], self.env_for(0, env)),
            ),
            Through: lambda e, go: self.vjp(go(e.args[0]), e.args[1], env),
            Gradient: lambda e, go: self.grad(e.args[0], env),
            Elementwise: lambda e, go: go(e.arg).applyfunc(self._entrywise(e.function)),
        }
        return evaluate(expr, env, self.ex.cols, extra)

    def _entrywise(self, function: sp.Lambda):
        """`function` (a claim's c/x, whose c may hold N) as a map of one entry."""
        (x,) = function.variables
        body = function.expr.subs(N, self.ex.cols)
        return lambda v: body.subs(x, v)

    def _with(self, num, den, env, D):
        """The value of num (f or a matrix) when den is set to D and the forward pass after
        den (all of it for a parameter or the input) is recomputed from it."""
        env2 = dict(env)
        env2[den] = D
        after = [lhs for lhs, _ in self.forward]
        start = after.index(den) + 1 if den in after else 0
        for lhs, rhs in self.forward[start:]:
            env2[lhs] = evaluate(rhs, env2, 1)
        return evaluate(self.objective, env2, 1) if num == F else sp.Matrix(self(num, env2))

    def _partials(self, num, den, env) -> list:
        """d num / d (each entry of den), in `env`: by SymPy if env holds symbols, by central
        differences at 30 digits (step `STEP`, error ~ STEP²) if env holds numbers."""
        base = env[den]
        if all(sp.sympify(v).is_number for v in base):
            out = []
            for k in range(len(base)):
                up, down = sp.Matrix(base), sp.Matrix(base)
                up[k] += STEP
                down[k] -= STEP
                difference = self._with(num, den, env, up) - self._with(num, den, env, down)
                out.append(difference / (2 * STEP))
            return out
        if den in self.ex.params and env is self.ex.env:  # its entries are symbols already
            value = evaluate(self.objective, env, 1) if num == F else sp.Matrix(self(num, env))
            return [sp.diff(value, v) for v in base]
        D = sp.Matrix(*base.shape, lambda a, b: sp.Dummy(f"d{a}{b}"))
        value, back = self._with(num, den, env, D), dict(zip(D, base, strict=True))
        return [sp.diff(value, v).subs(back) for v in D]

    def grad(self, p: Partial, env):
        num, den = p.args
        return sp.Matrix(*env[den].shape, self._partials(num, den, env))

    def vjp(self, row, jac: Partial, env):
        num, den = jac.args
        row = row if isinstance(row, sp.MatrixBase) else sp.Matrix([[row]])
        entries = [
            sum(r * x for r, x in zip(row, d, strict=True)) for d in self._partials(num, den, env)
        ]
        return sp.Matrix(*env[den].shape, entries)


def _count_factors(expr) -> int:
    """How many named matrices (W_j, z_j, δ_j, ...) `expr` mentions, with repetition: the
    degree of the polynomials the expansion multiplies out grows with it."""
    if isinstance(expr, MatrixSymbol):
        return 1
    return sum(_count_factors(a) for a in getattr(expr, "args", ()))


def _check_size(rhs) -> None:
    """Refuse, before any expansion, a right side too large to expand within the budget (its
    numbers were compared already: a large claim that differs is WRONG all the same)."""
    factors = _count_factors(rhs)
    if factors > MAX_FACTORS:
        raise Unsupported(
            f"the right side names {factors} matrices; verify expands at most {MAX_FACTORS} "
            "(verify.MAX_FACTORS)"
        )


DRAWS = (sp.Rational(1, 2), sp.Integer(1), sp.Integer(2))  #: sizes of the random points


def _quarters(value: float, floor: bool) -> sp.Rational:
    """`value` on the grid of quarters (rounded, or rounded down), exact."""
    return sp.Rational(int(np.floor(4 * value) if floor else np.rint(4 * value)), 4)


def _sample_point(ev: _Evaluator, scale: sp.Rational, seed: int) -> dict:
    """Short exact random values for every entry symbol of the pass: weights, biases and
    inputs multiples of `scale`/4 in [-scale, scale]; targets quarters drawn from the loss's
    domain (`losses.TargetDomain`: one-hot or probability columns for cross-entropy, [0, 1]
    for binary cross-entropy; rounded down where the columns must sum to one)."""
    rng = np.random.default_rng(seed)
    domain = LOSSES[ev.spec.loss].domain
    targets: dict = {}
    for key, value in ev.ex.env.items():
        if isinstance(key, MatrixSymbol) and key.name in ("y", "Y"):
            drawn = domain.sample(rng, value.shape)
            targets = {
                v: _quarters(float(t), domain.column_sum is not None)
                for v, t in zip(value, drawn.flat, strict=True)
                if isinstance(v, sp.Symbol)
            }
    symbols = set()
    for key in ev.leaves():
        symbols |= ev.ex.env[key].free_symbols
    return {
        s: targets[s] if s in targets else scale * sp.Rational(int(rng.integers(-4, 5)), 4)
        for s in sorted(symbols, key=str)
        if not isinstance(s, sp.Dummy)
    }


class _AtPoint:
    """Evaluates expressions at `values` to 30 digits, the pass set to numbers once (cheap for
    long products); a derivative of f is taken in the entries it is by only, the rest numbers."""

    def __init__(self, ev: _Evaluator, values: dict):
        self.ev, self.values = ev, values
        self.floats = {s: sp.Float(v, 30) for s, v in values.items()}
        self.env = self._numeric_pass()

    def _numeric_pass(self) -> dict:
        """The pass of `ev` at this point: its leaves (parameters, input, target) set to
        numbers, then the forward pass, σ′ and the adjoints computed on numbers (as
        `proof.expansion.explicit` does on symbols); any other value substituted."""
        ev, floats = self.ev, self.floats
        leaves = ev.leaves()
        env = {k: v for k, v in ev.ex.env.items() if not isinstance(k, MatrixSymbol)}
        env |= {k: ev.ex.env[k].xreplace(floats) for k in leaves}
        p, cols = ev.pass_, ev.ex.cols
        for lhs, rhs in p.forward:
            env[lhs] = evaluate(rhs, env, cols)
        for j, derivative in ev.ex.derivative.items():
            env[p.names.dsigma(j)] = env[p.names.u(j)].applyfunc(derivative)
        for lhs, rhs in p.adjoints:
            env[lhs] = evaluate(rhs, env, cols)
        for k, v in ev.ex.env.items():
            if k not in env:
                env[k] = v.xreplace(floats) if isinstance(v, sp.MatrixBase) else v
        return env

    def at_kink(self) -> bool:
        """Whether a pre-activation entry is exactly 0 here (where relu, leaky relu and the
        step function have a kink: finite differences there are not the derivative), or a max
        pooling window has two largest entries (where its derivative is not defined)."""
        names, layers = self.ev.pass_.names, range(1, self.ev.spec.depth + 1)
        if any(v == 0 for j in layers if names.u(j) in self.env for v in self.env[names.u(j)]):
            return True
        return any(self._tied(node) for node in _max_pools(self.ev.pass_.forward))

    def _tied(self, pool: MaxPool) -> bool:
        """Whether some window of `pool` has its maximum twice at this point."""
        A = evaluate(pool.args[0], self.env, self.ev.ex.cols)
        for rows in _pool_windows(pool.geometry):
            for n in range(A.shape[1]):
                window = [A[i, n] for i in rows]
                if window.count(max(window)) > 1:
                    return True
        return False

    def __call__(self, expr) -> sp.Matrix | None:
        """`expr`'s entries; None if one is not a finite real number there."""
        try:
            out = sp.Matrix(self.ev(expr, self.env)).xreplace(self.floats).evalf(30)
        except (ZeroDivisionError, TypeError, ValueError):
            return None
        if out.has(sp.Derivative):  # SymPy could not differentiate (e.g. |t| of a complex t)
            return None
        return out if all(v.is_number and v.is_real and v.is_finite for v in out) else None


def _differ(a: sp.Matrix | None, b: sp.Matrix | None) -> bool:
    """Whether two evaluations at a point really differ (False if either has no value)."""
    if a is None or b is None:
        return False
    return any(abs(x - y) > 1e-12 * max(1, abs(y)) for x, y in zip(a, b, strict=True))


def _factor(pairs: list) -> str:
    """ " (a sign error …)" or " (off by a factor c …)" when the claim's values are one constant
    multiple of the derivation's at every entry of every draw (several draws of different sizes,
    so that a 1×1 difference is not mistaken for a factor); else ""."""
    ratios, evaluated = set(), 0
    for a, b in pairs:
        if a is None or b is None:
            continue
        evaluated += 1
        for x, y in zip(a, b, strict=True):
            if abs(y) > 1e-9:
                ratios.add(round(float(x / y), 6))
            elif abs(x) > 1e-9:
                return ""
    if evaluated < 2 or len(ratios) != 1:
        return ""
    (c,) = ratios
    if c in (0, 1):  # equal, or a claim that is 0 where the derivation is not
        return ""
    if c == -1:
        return " (a sign error: it is the negative of the derivation)"
    return f" (off by a factor {c:g} at every entry of {evaluated} random points)"


def _distinct(x, y) -> tuple[str, str]:
    """x and y with 6 significant digits, or as many more as it takes to tell them apart."""
    for digits in range(6, 31):
        shown = (sp.Float(x, 30).evalf(digits), sp.Float(y, 30).evalf(digits))
        if str(shown[0]) != str(shown[1]) or digits == 30:
            break
    if digits == 6:
        return f"{float(x) + 0.0:.6g}", f"{float(y) + 0.0:.6g}"  # never -0
    return str(shown[0]), str(shown[1])


def _counterexample(spec: Spec, at_point: _AtPoint, a, b, factor: str) -> tuple[str, str]:
    """(reason, point): the entry where the claim's values `a` and the derivation's `b` differ
    most, with `factor` when one explains all of it; and the random point (short exact values),
    which the message does not repeat (`--show-point` prints it)."""
    worst = max(range(len(a)), key=lambda i: abs(a[i] - b[i]))
    row, col = divmod(worst, a.shape[1])
    shown_a, shown_b = _distinct(a[worst], b[worst])
    ex, values = at_point.ev.ex, at_point.values
    rows = spec.layout == "rows"  # entries and matrices as the claim lays them out
    if rows:
        row, col = col, row
    shown = ", ".join(
        f"{k.name} = {(sp.Matrix(v).T if rows else sp.Matrix(v)).xreplace(values).tolist()}"
        for k, v in ex.env.items()
        if isinstance(k, MatrixSymbol) and (k in ex.params or k.name in ("z0", "Z0", "y", "Y"))
    )
    reason = (
        "counterexample with the spec's activations at a random point, widths "
        f"{'-'.join(map(str, spec.widths))}{' and N = 2' if at_point.ev.batch else ''}: "
        f"entry ({row + 1}, {col + 1}) of the claim is {shown_a} but the "
        f"derivation gives {shown_b}{factor}"
    )
    return reason, shown


def verify(spec: Spec, claim: str, *, seconds: float = CLAIM_SECONDS) -> Verdict:
    """The verdict on one claim for `spec`: "correct", "wrong", "unparsable" or "unsupported"
    (outside what verify can check, or more than `seconds` of comparison), with the reason.
    A WRONG claim that another convention (`_other_conventions`) makes correct says so."""
    verdict = _verdict_as_declared(spec, claim, seconds)
    if verdict.status != "wrong":
        return verdict
    budget = min(seconds, CONVENTION_SECONDS)
    for other, described in _other_conventions(spec):
        if _verdict_as_declared(other, claim, budget).status == "correct":
            return replace(verdict, message=f"{verdict.message}; it is correct {described}")
    return verdict


def _other_conventions(spec: Spec):
    """(spec under another loss scale or layout, how to say it), one change before two; a
    scale is skipped when it names the same factor as one tried (1/d_J = 1/2 for d_J = 2)."""
    factors = {spec.loss_factor}
    scales = []
    for scale in SCALES:
        other = replace(spec, loss_scale=scale)
        if other.loss_factor not in factors:
            factors.add(other.loss_factor)
            scales.append(other)
    layout = "columns" if spec.layout == "rows" else "rows"
    as_laid = f'with samples as {layout} (layout = "{layout}", --layout {layout})'
    for other in scales:
        yield other, _scale_words(other)
    yield replace(spec, layout=layout), as_laid
    for other in scales:
        yield replace(other, layout=layout), f"{_scale_words(other)} and {as_laid}"


def _scale_words(spec: Spec) -> str:
    objective = text(derive(spec).sample.objective)
    return f'for f = {objective} (loss_scale = "{spec.loss_scale}", --loss-scale {spec.loss_scale})'


KERNEL_ENTRY_WORDS = (
    "k_w is one entry of a kernel: verify reads the kernel K_j whole "
    "(∂f/∂K_j = corr(z_{j-1}, δ_j)), not its entries"
)
#: ∂f/∂k_{0,0,2}: a kernel entry's derivative, written out entry by entry (often too long to read)
_KERNEL_ENTRY = re.compile(r"\A[^=]*\\partial\s*(?:\\mathrm\{|\\mathit\{)?k_\{?[0-9]")


def _verdict_as_declared(spec: Spec, claim: str, seconds: float) -> Verdict:
    """`verify` under `spec`'s own conventions."""
    if isinstance(claim, str) and _KERNEL_ENTRY.match(claim[: claims.MAX_LENGTH]):
        if _layer_kinds(spec):
            return Verdict(claim, "unsupported", KERNEL_ENTRY_WORDS)
    try:
        trees = within(seconds, lambda: parse(claim), lambda: None)
    except ClaimSyntaxError as exc:
        return Verdict(claim, "unparsable", str(exc))
    if trees is None:
        message = f"parsing needs more than {seconds:g} s of CPU time (verify.CLAIM_SECONDS)"
        return Verdict(claim, "unparsable", message)
    variables = _layer_variables(trees)
    if len(variables) > 1:
        shown = ", ".join(sorted(variables))
        message = f"the layer variables {shown} differ: write one layer as l, l+1, l-1"
        return Verdict(claim, "unsupported", message)
    if variables:
        return _every_layer(spec, claim, trees, variables.pop(), seconds)
    return _judged(spec, claim, trees, seconds)


LAYER_VARIABLES = ("l", "j", "k")  #: letters that name any layer in an index (δ^l, W_{j+1})
_VARIABLE_INDEX = re.compile(r"([ljk])([+-]\d+)?")
_FROM_LAYER_0 = {"z", "Z", "act", "Act", "x", "X"}  #: stems with a layer 0 (the input)


def _variable_syms(tree):
    """The names of `tree` whose layer is a variable (l, j+1, k-1), with (letter, offset)."""
    if isinstance(tree, Sym):
        match = _VARIABLE_INDEX.fullmatch((tree.index or "").split(",")[0])
        stem = _stem_and_index(Sym(tree.stem, None, 0, 0))[0]
        if match and stem in _LAYERED | {"sigma", "dsigma", "phi", "w"}:
            yield tree, match.group(1), int(match.group(2) or 0)
    elif isinstance(tree, (Op, tuple)):
        for a in tree.args if isinstance(tree, Op) else tree:
            yield from _variable_syms(a)


def _layer_variables(trees) -> set[str]:
    return {letter for _, letter, _ in _variable_syms(trees)}


def _at_layer(tree, letter: str, k: int):
    """`tree` with the layer variable `letter` set to k (l+1 becomes k+1)."""
    if isinstance(tree, Sym):
        index = tree.index or ""
        layer, comma, entry = index.partition(",")
        match = _VARIABLE_INDEX.fullmatch(layer)
        if match and match.group(1) == letter:
            layer = str(k + int(match.group(2) or 0))
            return Sym(tree.stem, layer + comma + entry, tree.primes, tree.column)
        return tree
    if isinstance(tree, Op):
        return Op(tree.kind, tuple(_at_layer(a, letter, k) for a in tree.args), tree.column)
    if isinstance(tree, tuple):
        return tuple(_at_layer(a, letter, k) for a in tree)
    return tree


def _every_layer(spec: Spec, claim: str, trees, letter: str, seconds: float) -> Verdict:
    """A claim about any layer `letter` (δ^l = ((W^{l+1})ᵀ δ^{l+1}) ∘ σ′(z^l)): judged at every
    layer where each of its names exists; correct when correct at all of them, else the verdict
    at the first layer where it is not."""
    syms = list(_variable_syms(trees))
    layers = [
        k
        for k in range(spec.depth + 1)
        if all(
            (0 if s.stem in _FROM_LAYER_0 else 1) <= k + offset <= spec.depth
            for s, _, offset in syms
        )
    ]
    if not layers:
        return Verdict(
            claim,
            "wrong",
            f"no layer {letter} of this network (layers 0..{spec.depth}) has "
            "every quantity the claim names",
        )
    verdicts = []
    for k in layers:
        verdict = _judged(spec, claim, _at_layer(trees, letter, k), seconds / len(layers))
        if verdict.status != "correct":
            return replace(verdict, message=f"for {letter} = {k}: {verdict.message}")
        verdicts.append(verdict)
    shown = (
        f"{letter} = {layers[0]}" if len(layers) == 1 else f"{letter} = {layers[0]}..{layers[-1]}"
    )
    return replace(
        verdicts[0],
        message=f"at every layer {shown}; for {letter} = {layers[0]}: {verdicts[0].message}",
    )


def _judged(spec: Spec, claim: str, trees, seconds: float) -> Verdict:
    """The verdict on a parsed claim under `spec`'s own conventions."""
    lhs_tree, rhs_tree = trees
    try:
        return _judge(spec, claim, lhs_tree, rhs_tree, seconds)
    except Wrong as exc:
        return Verdict(claim, "wrong", str(exc))
    except Unsupported as exc:
        return Verdict(claim, "unsupported", str(exc))
    except (OverflowError, RecursionError, MemoryError) as exc:  # e^{e^{e^{...}}}: numbers beyond
        return Verdict(  # what SymPy can hold, at the claim's points
            claim,
            "unsupported",
            f"its values are beyond what verify can evaluate ({type(exc).__name__})",
        )


def _judge(spec: Spec, claim: str, lhs_tree, rhs_tree, seconds: float) -> Verdict:
    """Resolve both sides at the spec's widths, then compare (`_compare`); raises `Wrong` or
    `Unsupported` with the reason."""
    if isinstance(lhs_tree, Op) and lhs_tree.kind == "rule":
        return _judge_rule(spec, claim, lhs_tree.args[0], rhs_tree)
    try:
        lhs, rhs = _resolve_claim(spec, lhs_tree, rhs_tree)
    except Wrong as exc:
        if "did you mean" in str(exc):
            raise
        repair = within(seconds, lambda: _one_edit_repair(spec, lhs_tree, rhs_tree), lambda: "")
        raise Wrong(f"{exc}{repair}") from None
    batch = _has(rhs, SampleSum) or _batch_symbols(rhs)
    derived = _target(spec, lhs, batch)
    if not _is_matrix(rhs) or rhs.shape != derived.shape:
        rows = spec.layout == "rows"  # the shapes as the claim writes them
        repair = within(seconds, lambda: _one_edit_repair(spec, lhs_tree, rhs_tree), lambda: "")
        raise Wrong(
            f"the right side is {_dims(rhs, rows) if _is_matrix(rhs) else 'a scalar'} but {text(lhs)} is {_dims(derived, rows)}{repair}"
        )
    if batch:
        _check_samples(rhs)
    shown = f"{text(lhs)} = {text(derived)}"
    if isinstance(derived, Gradient):
        shown = f"{text(lhs)} as SymPy differentiates f"
    if spec.layout == "rows":  # the derivation's formula is the lecture's (entries: the claim's)
        shown += " with samples as columns"
    if not batch and rhs == derived:
        return Verdict(claim, "correct", f"identical to the derivation, {shown}")
    verdict = within(
        seconds, lambda: _compare(spec, claim, lhs_tree, rhs_tree, batch, shown), lambda: None
    )
    if verdict is None:
        raise Unsupported(
            f"the comparison with the derivation, {shown}, needs more than {seconds:g} s of "
            "CPU time (verify.CLAIM_SECONDS)"
        )
    return verdict


@lru_cache(maxsize=16)
def _points(small: Spec, batch: bool, rule: bool = False) -> tuple[_AtPoint, ...]:
    """Evaluators of `small` at random points (`DRAWS`) with the spec's own activations
    (built once per spec: most of a claim's cost otherwise)."""
    concrete = _Evaluator(small, batch, concrete=True, rule=rule)
    points = []
    for scale in DRAWS:  # a point where some u_j has a zero entry sits on relu's kink: redrawn
        tries = (
            _AtPoint(concrete, _sample_point(concrete, scale, len(DRAWS) * k + len(points)))
            for k in range(10)
        )
        at = next((at for at in tries if not at.at_kink()), None)
        if at is not None:
            points.append(at)
    return tuple(points)


@lru_cache(maxsize=32)
def _expansion(small: Spec, batch: bool, output_rule: bool, concrete: bool = False) -> _Evaluator:
    """The evaluator of `small` for a proof by expansion: every σ undefined, with σ′ written
    through the output, or with the spec's own activations (`proof.expansion.explicit`); built
    only when numbers agree."""
    return _Evaluator(small, batch, concrete=concrete, output_rule=output_rule)


def _proved(evaluator: _Evaluator, claim, derived) -> bool:
    table: dict = {}
    pairs = zip(evaluator(claim), evaluator(derived), strict=True)
    return all(equal(x, y, table) for x, y in pairs)


def _small_spec(spec: Spec) -> Spec:
    """The spec at the proof's small widths (`proof_spec`), keeping d_J when the loss scale is
    1/d_J: a claim may write that factor as a number."""
    small = proof_spec(spec)
    if spec.loss_scale == "1/d_J" and small.widths[-1] != spec.widths[-1]:
        if all(layer.kind == "dense" for layer in spec.layers):
            return small.with_widths((*small.widths[:-1], spec.widths[-1]))
        last = replace(small.layers[-1], units=spec.widths[-1])  # a dense output layer
        small = replace(small, layers=(*small.layers[:-1], last))
    return small


RULE_WORDS = "Rosenblatt's rule (σ′ of the step replaced by 1)"


def _judge_rule(spec: Spec, claim: str, lhs_tree, rhs_tree) -> Verdict:
    """A claim about Rosenblatt's rule (\\Delta_{\\text{rule}} on its left side, or in an
    environment of such claims): compared with the rule's pass (`perceptron_pass`: the step's
    σ′ replaced by 1), where the claim's δ_j are the rule's too; identical, or equal at every
    random point (no proof by expansion)."""
    if not any(_zero_derivative(layer) for layer in spec.layers):
        raise Wrong(f"{RULE_WORDS} applies to a network with a step activation; this has none")
    lhs, rhs = _resolve_claim(spec, lhs_tree, rhs_tree)
    batch = _has(rhs, SampleSum) or _batch_symbols(rhs)
    derived = _target(spec, lhs, batch, rule=True)
    if not _is_matrix(rhs) or rhs.shape != derived.shape:
        shown = _dims(rhs) if _is_matrix(rhs) else "a scalar"
        raise Wrong(f"the right side is {shown} but {text(lhs)} is {_dims(derived)}")
    shown = f"{RULE_WORDS}: {text(lhs)} = {text(derived)}"
    if rhs == derived:
        return Verdict(claim, "correct", f"identical to {shown}")
    small = _small_spec(spec)
    lhs_small, rhs_small = _resolve_claim(small, lhs_tree, rhs_tree)
    derived_small = _target(small, lhs_small, batch, rule=True)
    points = _points(small, batch, rule=True)
    pairs = [(at(rhs_small), at(derived_small)) for at in points]
    for at, (a, b) in zip(points, pairs, strict=True):
        if _differ(a, b):
            reason, point = _counterexample(small, at, a, b, _factor(pairs))
            return Verdict(claim, "wrong", f"it differs from {shown}: {reason}", point)
    if not any(a is not None and b is not None for a, b in pairs):
        raise Unsupported(f"the claim could not be evaluated at random points; {shown}")
    return Verdict(claim, "correct", f"equal at {len(points)} random points to {shown}")


def _zero_derivative(layer) -> bool:
    """Whether `layer`'s activation has σ′ = 0 wherever it is defined (the step)."""
    return layer.sigma.elementwise and activations.derivative(layer.sigma).is_zero


def _compare(spec: Spec, claim: str, lhs_tree, rhs_tree, batch: bool, shown: str) -> Verdict:
    """At the small widths of the proof: first numerically, at random points with the spec's
    activations, where a real difference is the counterexample shown (with a repair that makes
    the claim correct, if one does); then by expansion, every σ undefined, else with σ′ written
    through the output (σ′ = z ∘ (1 − z) for a sigmoid), which proves equality.  An expansion
    that fails is not a difference: equal numbers without a proof say so."""
    small = _small_spec(spec)
    lhs_small, claim_small = _resolve_claim(small, lhs_tree, rhs_tree)
    if not batch:  # one sample's f has no N in it: a claim's N is the batch's, N = 2 samples
        claim_small = claim_small.xreplace({N: sp.Integer(2)})
    derived_small = _target(small, lhs_small, batch)
    points = _points(small, batch)
    pairs = [(at(claim_small), at(derived_small)) for at in points]
    wrong = f"it differs from the derivation, {shown}"
    for at, (a, b) in zip(points, pairs, strict=True):
        if _differ(a, b):
            reason, point = _counterexample(small, at, a, b, _factor(pairs))
            repair = _one_edit_repair(spec, lhs_tree, rhs_tree)
            return Verdict(claim, "wrong", f"{wrong}{repair}: {reason}", point)
    _check_size(claim_small)  # equal numbers: proving it means expanding it
    widths = "-".join(map(str, small.widths))
    if _proved(_expansion(small, batch, False), claim_small, derived_small):
        return Verdict(
            claim,
            "correct",
            f"equal to the derivation by expansion at widths {widths} (every σ undefined): {shown}",
        )
    if _proved(_expansion(small, batch, True), claim_small, derived_small):
        return Verdict(
            claim,
            "correct",
            f"equal to the derivation by expansion at widths {widths}, σ′ of the spec's "
            f"activations written through their outputs: {shown}",
        )
    concrete = within(
        CONCRETE_SECONDS,
        lambda: _proved(_expansion(small, batch, False, True), claim_small, derived_small),
        lambda: False,
    )
    if concrete:
        names = ", ".join(dict.fromkeys(layer.sigma.name for layer in small.layers))
        return Verdict(
            claim,
            "correct",
            f"equal to the derivation by expansion at widths {widths} with the spec's own "
            f"activations ({names}; it may not hold for others): {shown}",
        )
    evaluated = sum(a is not None and b is not None for a, b in pairs)
    if evaluated:
        return Verdict(
            claim,
            "correct",
            f"equal to the derivation, {shown}, at {evaluated} random points with the spec's "
            "activations (not proved by expansion: it may hold for these activations only)",
        )
    raise Unsupported(
        f"the claim could not be evaluated at random points and the expansion did not prove it "
        f"equal to the derivation, {shown}"
    )


MAX_REPAIRS = 60  #: repaired claims tried for "did you mean"


def _repairs(tree, layers: int, top: bool = True):
    """Trees one edit away from `tree`: a name transposed or not, ∘ and a matrix product
    swapped, a layer index changed (σ′ at the right layer, an index fixed), the whole side
    transposed."""
    if top:
        yield Op("T", (tree,), 0)
    if isinstance(tree, Sym):
        if tree.stem in ("W", "z", "delta", "u", "Z", "Delta") or tree.primes:
            yield Op("T", (tree,), tree.column)
        if tree.index is not None and tree.index.isdigit():
            for k in range(layers + 1):
                if str(k) != tree.index:
                    yield Sym(tree.stem, str(k), tree.primes, tree.column)
        return
    if not isinstance(tree, Op):
        return
    if tree.kind == "T":
        yield tree.args[0]
    swap = {"hadamard": "mul", "mul": "hadamard"}
    if tree.kind in swap and len(tree.args) == 2:
        yield Op(swap[tree.kind], tree.args, tree.column)
    for i, arg in enumerate(tree.args):
        for repaired in _repairs(arg, layers, top=False):
            yield Op(tree.kind, (*tree.args[:i], repaired, *tree.args[i + 1 :]), tree.column)


def _one_edit_repair(spec: Spec, lhs_tree, rhs_tree) -> str:
    """ "; did you mean …?" naming a one-edit repair of the right side (`_repairs`) that is
    validated: its shapes fit at the spec's widths and it equals the derivation at every random
    point of `_compare` (the proof's widths, the spec's activations); "" if none is.  Shown in
    the claim's own layout and names."""
    small = _small_spec(spec)
    shown = _resolver(spec, lhs_tree, rhs_tree)
    for tried, tree in enumerate(_repairs(rhs_tree, spec.depth)):
        if tried >= MAX_REPAIRS:
            break
        try:
            lhs, value = _resolve_claim(spec, lhs_tree, tree)
            if not _is_matrix(value) or _has(value, (Gradient, Through)):
                continue
            batch = bool(_has(value, SampleSum) or _batch_symbols(value))
            if value.shape != _target(spec, lhs, batch).shape:
                continue
            lhs_small, value_small = _resolve_claim(small, lhs_tree, tree)
            if not batch:  # as `_compare` reads one sample's claim: N is the batch's, 2
                value_small = value_small.xreplace({N: sp.Integer(2)})
            derived_small = _target(small, lhs_small, batch)
        except (Wrong, Unsupported):
            continue
        if _agree(_points(small, batch), value_small, derived_small):
            return f"; did you mean {text(shown(lhs_tree))} = {text(shown._value(shown(tree)))}?"
    return ""


def _agree(points, value, derived) -> bool:
    """Whether `value` and `derived` take the same finite values at every one of `points`."""
    pairs = ((at(value), at(derived)) for at in points)
    return all(a is not None and b is not None and not _differ(a, b) for a, b in pairs)


def same_right_sides(spec: Spec, first: str, second: str, seconds: float = CLAIM_SECONDS):
    """Whether the right sides of two claims (two steps of one chain) take the same value at
    the sample point of `_compare` (the spec's activations, small widths): True or False; None
    when either cannot be read or evaluated there, or the two are not both batch or per-sample."""

    def work():
        small = _small_spec(spec)
        values = []
        for claim in (first, second):
            lhs_tree, rhs_tree = parse(claim)
            _, rhs = _resolve_claim(small, lhs_tree, rhs_tree)
            if not _is_matrix(rhs):
                return None
            batch = _has(rhs, SampleSum) or _batch_symbols(rhs)
            values.append((batch, _points(small, batch)[0](rhs)))
        (batch_a, a), (batch_b, b) = values
        if batch_a != batch_b or a is None or b is None or a.shape != b.shape:
            return None
        return not _differ(a, b)

    try:
        return within(seconds, work, lambda: None)
    except (ClaimSyntaxError, Wrong, Unsupported):
        return None


_ENVIRONMENT_MARK = re.compile(
    r"\\(begin|end)\{(align\*?|equation\*?|aligned|gather\*?|multline\*?|eqnarray\*?|alignat\*?)\}"
    r"|(?<!\\)(\\\[|\\\]|\$\$)"  # the displays \[ … \] and $$ … $$ (not an escaped \\[ or \$)
)
_VERBATIM = re.compile(r"\\begin\{(verbatim\*?|lstlisting|minted)\}.*?\\end\{\1\}", re.S)
_ANNOTATED_EQUALS = re.compile(r"\\(?:stackrel|overset)\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}\{=\}")
_DROP = re.compile(
    r"\\(?:label|tag)\{[^{}]*\}|\\nonumber|\\notag|\\q?quad\b|\{\}|&"
    r"|\\(?:begin|end)\{(?:split|aligned|gathered|alignedat)\}(?:\{\d+\})?"
    r"|\A\s*\[\s*-?[\d.]+\s*(?:pt|em|ex|mm|cm|bp|in)\s*\]"  # a row break's space, \\[2pt]
)
_CLAIM_LHS = re.compile(r"\\delta|\\zeta|\\Delta|\\mathcal\{Z\}|\\partial f|delta|zeta")
_COMMENT = re.compile(r"(?<!\\)%[^\n]*")


def _math_bodies(source: str) -> list[tuple[int, int]]:
    """(start, end) of the body of each display: an align/equation (gather, multline...)
    environment, from its \\begin to the first \\end of the same name, and the displays \\[ … \\]
    and $$ … $$, each to its first closing mark; the scan resumes after it (an unclosed opening is
    skipped).  One pass over the marks, each closing found by bisection: O(n log n) in the
    source's size."""
    marks = list(_ENVIRONMENT_MARK.finditer(source))
    closings: dict[str, list[int]] = {}  # what closes an opening -> the indices of its marks
    for i, m in enumerate(marks):
        if m.group(1) == "end":
            closings.setdefault(m.group(2), []).append(i)
        elif m.group(3) in ("\\]", "$$"):
            closings.setdefault(m.group(3), []).append(i)
    bodies, resume = [], 0
    for i, m in enumerate(marks):
        if m.start() < resume or m.group(1) == "end" or m.group(3) == "\\]":
            continue
        closing = closings.get(m.group(2) or {"\\[": "\\]"}.get(m.group(3), m.group(3)), [])
        k = bisect.bisect_right(closing, i)
        if k < len(closing):
            end = marks[closing[k]]
            bodies.append((m.end(), end.start()))
            resume = end.end()
    return bodies


#: what symbp's documents mark as a worked example's numbers (values, not claims), skipped
_NUMBERS = re.compile(r"^%\s*symbp: numbers begin.*?^%\s*symbp: numbers end", re.M | re.S)


def tex_claims(source: str) -> list[tuple[int, str]]:
    """(line, claim) for every equality in the displays (align/equation environments, \\[ … \\],
    $$ … $$) of a LaTeX source whose left side is an adjoint (δ, ζ, Δ, 𝒵) or a derivative of f (`tex_steps`)."""
    return [(step.line, step.claim) for step in tex_steps(source)]


@dataclass(frozen=True)
class TexStep:
    """One '=' of a derivation in a LaTeX source: the line its right side starts on, the claim
    "chain's left side = this right side", the line where the chain's left side stands, and its
    place in the chain (1 for the first '=')."""

    line: int
    claim: str
    chain: int
    step: int


def tex_steps(source: str) -> list[TexStep]:
    """Every '=' of the displays (align/equation environments, \\[ … \\], $$ … $$, `_math_bodies`)
    of a LaTeX source whose chain's left side is an adjoint (δ, ζ, Δ, 𝒵) or a derivative of
    f, as a claim about that left side (about Rosenblatt's rule, \\Delta_{\\text{rule}}, in an
    environment where a row says so, as symbp's perceptron documents write it): a
    chain a = b = c gives the steps a = b and a = c, so that each right side is compared with
    the derivation (and so with the step before it).  A row starting with '=' continues the
    previous row's chain (whose left side may stand alone on its row); a row without '=' after
    a claim continues its right side.  An environment that opens with an '=' row continues the
    chain of the previous one if that ended on a claim (a chain split over slides).  Linear in
    the source's size (up to a logarithm).  Comments are dropped, a row's lines joined, and the
    displays between the lines ``% symbp: numbers begin`` and ``% symbp: numbers end`` (a
    worked example's values) are skipped."""
    blank = lambda m: re.sub(r"[^\n]", " ", m.group())  # noqa: E731  (offsets and lines kept)
    source = _NUMBERS.sub(blank, source)  # a worked example's values are not claims
    source = _VERBATIM.sub(blank, _COMMENT.sub(blank, source))
    newlines = [i for i, c in enumerate(source) if c == "\n"]
    out, carried, chain, done = [], None, 0, 0  # done: steps of the current chain so far
    for start, end in _math_bodies(source):
        lhs, continued = carried, False
        rule = _RULE_ROW.search(source, start, end) is not None  # Rosenblatt's rule's rows
        for first, raw in _equations(source, start, end):
            line = bisect.bisect_left(newlines, first) + 1
            cleaned = _DROP.sub("", _ANNOTATED_EQUALS.sub("=", raw)).strip().rstrip(",.;")
            cleaned = " ".join(cleaned.split())
            if not cleaned:
                continue
            parts = [p.strip() for p in _split_top_level(cleaned)]
            if len(parts) == 1:  # a left side on a row of its own, or a right side continued
                if continued:
                    out[-1] = replace(out[-1], claim=f"{out[-1].claim} {cleaned}")
                elif _CLAIM_LHS.search(cleaned):
                    lhs, chain, done = cleaned, line, 0
                else:
                    lhs = None
                continue
            if parts[0] == "" and lhs is not None:
                parts[0] = lhs
            elif parts[0]:
                chain, done = line, 0  # a new left side starts a new chain
            continued = False
            if not _CLAIM_LHS.search(parts[0]):
                lhs = None
                continue
            lhs = parts[0]
            equals = _equals_lines(raw, first, newlines, len(parts) - 1)
            mark = "\\Delta_{\\text{rule}} " if rule and not RULE_MARK.match(lhs) else ""
            claims = [
                TexStep(at, f"{mark}{lhs} = {rhs}", chain, done + k)
                for k, (at, rhs) in enumerate(
                    ((at, r) for at, r in zip(equals, parts[1:], strict=True) if r), start=1
                )
            ]
            out += claims
            done += len(claims)
            continued = bool(claims)
        carried = lhs if continued else None
    return out


_SPACING = re.compile(r"\\q?quad\b")
_RULE_ROW = re.compile(r"\\Delta_\{\\text\{rule\}\}")  #: an environment of Rosenblatt's rule


def _equations(source: str, start: int, end: int):
    """(offset where its text starts, text) of each row of the environment body
    source[start:end], split further at \\quad or \\qquad where an equation with a left side of
    its own follows (a = b, \\qquad c = d); a piece without '=', or starting with one, stays
    with the text before it."""
    offset = start
    for row in source[start:end].split("\\\\"):
        cuts = [offset + m.start() for m in _SPACING.finditer(row)]
        pieces: list[list[int]] = []
        for a, b in itertools.pairwise([offset, *cuts, offset + len(row)]):
            body = _DROP.sub("", source[a:b]).strip()
            if pieces and (len(_split_top_level(body)) == 1 or body.startswith("=")):
                pieces[-1][1] = b
            else:
                pieces.append([a, b])
        for a, b in pieces:
            text = source[a:b]
            yield a + len(text) - len(text.lstrip()), text.lstrip()
        offset += len(row) + 2


def _equals_lines(raw: str, first: int, newlines: list[int], count: int) -> list[int]:
    """The lines of the `count` top-level '=' signs of a row whose text `raw` starts at offset
    `first` (an annotated \\overset{..}{=} counts where its '=' is); the row's first line for
    each when they cannot be told apart."""
    text = _ANNOTATED_EQUALS.sub(lambda m: " " * (len(m.group()) - 2) + "=}", raw)
    positions, depth = [], 0
    for i, c in enumerate(text):
        depth += {"{": 1, "}": -1}.get(c, 0)
        if c == "=" and depth == 0:
            positions.append(i)
    if len(positions) != count:
        positions = [0] * count
    return [bisect.bisect_left(newlines, first + i) + 1 for i in positions]


def _split_top_level(text: str) -> list[str]:
    """Split at '=' outside braces (so \\sum_{i=1} stays whole)."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "=" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]
