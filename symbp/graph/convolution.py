"""Convolution and pooling as matrix operations on flattened feature maps, and their nodes.

A feature map of C channels over a spatial grid (length L, or height H x width W) is stored as a
column of C * L (or C * H * W) entries in channel-major order, one column per sample, so that a
convolutional layer is the lecture's affine layer u_j = W_j z_{j-1} with a structured W_j: a
Toeplitz matrix built from the kernel (a circulant one for circular padding, lecture 6's
taxonomy).  `Geometry` states that structure; `taps` lists it entry by entry.

Nodes (each prints itself to NumPy, LaTeX and Unicode and states its explicit value, so the
printers and the proof need no case for it):

* `Conv(K, Z)`:            U = K * Z, the cross-correlation of every channel of Z with the kernel
                           K (C_out x C_in k_1 k_2, a row per output channel); equals T(K) Z.
* `ConvTranspose(K, G)`:   T(K)^T G, the adjoint: the convolution of G with the kernel (the
                           correlation with the flipped kernel), summed back onto the input grid.
* `ConvKernelGrad(G, Z)`:  d/dK of sum(G o (K * Z)): the cross-correlation of Z with G, summed
                           over positions and samples (weight sharing).
* `ChannelBias(b)`:        b_c repeated over every position of channel c (and every sample).
* `ChannelSum(G)`:         the sum of G over the positions and samples of each channel.
* `MaxPool(A)`, `MaxPoolGrad(G, A)`: the maximum of each window; its adjoint routes each entry of G
                           to its window's arg-max (the first one on ties).
* `AvgPool(A)`, `AvgPoolTranspose(G)`: the mean of each window; its adjoint spreads G / window.

The emitted module holds the data movement only (`_patches`: im2col; `_fold`: its adjoint;
`_windows`/`_unwindow` for pooling; templates/numpy/_conv.py.j2), keyed by the layer number.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import sympy as sp
from sympy import MatrixExpr

from .nodes import SymbpNode


@dataclass(frozen=True)
class Geometry:
    """Layer `layer`'s map from a (channels_in, *size_in) feature map to a (channels_out,
    *size_out) one: windows of `kernel` taken every `stride` over the input padded by
    `pad_before`/`pad_after` per axis (zeros, or wrapped around when `circular`)."""

    layer: int
    channels_in: int
    size_in: tuple[int, ...]
    channels_out: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pad_before: tuple[int, ...]
    pad_after: tuple[int, ...]
    circular: bool = False

    @property
    def dims(self) -> int:
        return len(self.size_in)

    @property
    def size_out(self) -> tuple[int, ...]:
        return tuple(
            (n + a + b - k) // s + 1
            for n, a, b, k, s in zip(
                self.size_in, self.pad_before, self.pad_after, self.kernel, self.stride, strict=True
            )
        )

    @property
    def in_width(self) -> int:
        return self.channels_in * _prod(self.size_in)

    @property
    def out_width(self) -> int:
        return self.channels_out * _prod(self.size_out)

    @property
    def positions(self) -> int:
        """Output positions per channel."""
        return _prod(self.size_out)

    @property
    def window(self) -> int:
        """Entries of one window per channel (k_1 k_2)."""
        return _prod(self.kernel)

    @property
    def patch(self) -> int:
        """Entries of one window over all input channels: a row of the kernel, C_in k_1 k_2."""
        return self.channels_in * self.window

    def encode(self) -> sp.Tuple:
        """The geometry as SymPy integers (a node's argument)."""
        flat = [self.layer, self.channels_in, self.channels_out, int(self.circular), self.dims]
        for part in (self.size_in, self.kernel, self.stride, self.pad_before, self.pad_after):
            flat += list(part)
        return sp.Tuple(*flat)

    @classmethod
    def decode(cls, t: sp.Tuple) -> Geometry:
        layer, c_in, c_out, circular, dims, *rest = (int(x) for x in t)
        parts = [tuple(rest[i * dims : (i + 1) * dims]) for i in range(5)]
        return cls(
            layer, c_in, parts[0], c_out, parts[1], parts[2], parts[3], parts[4], bool(circular)
        )

    def code(self) -> str:
        """The geometry as the emitted module's literal (see templates/numpy/_conv.py.j2)."""
        return repr(
            (
                self.channels_in,
                self.size_in,
                self.channels_out,
                self.kernel,
                self.stride,
                self.pad_before,
                self.pad_after,
                self.circular,
            )
        )

    @cached_property
    def taps(self) -> tuple[tuple[int, int, int], ...]:
        """(output position, window offset, input position) for every tap that reads the input
        (a zero-padding tap reads nothing); positions and offsets flattened row-major."""
        out = []
        grid_out = list(itertools.product(*(range(n) for n in self.size_out)))
        offsets = list(itertools.product(*(range(k) for k in self.kernel)))
        for o, pos in enumerate(grid_out):
            for w, off in enumerate(offsets):
                at = []
                for p, k, s, a, n in zip(
                    pos, off, self.stride, self.pad_before, self.size_in, strict=True
                ):
                    i = p * s + k - a
                    if self.circular:
                        i %= n
                    elif not 0 <= i < n:
                        break
                    at.append(i)
                else:
                    out.append((o, w, _flat(at, self.size_in)))
        return tuple(out)

    def toeplitz(self, K: sp.Matrix) -> sp.Matrix:
        """The dense matrix T(K) with T(K) z = K * z (Toeplitz; circulant for circular padding
        in one dimension): row (c_out, o), column (c_in, i)."""
        T = sp.zeros(self.out_width, self.in_width)
        P, S = self.positions, _prod(self.size_in)
        for o, w, i in self.taps:
            for co in range(self.channels_out):
                for ci in range(self.channels_in):
                    T[co * P + o, ci * S + i] += K[co, ci * self.window + w]
        return T

    def pooling_matrix(self) -> sp.Matrix:
        """The dense matrix of average pooling: each output the mean of its window."""
        return self.toeplitz(sp.ones(self.channels_out, self.patch)).applyfunc(
            lambda x: x / self.window
        )


def _encoded(geometry) -> sp.Tuple:
    """A node's geometry argument: encoded once (SymPy rebuilds nodes from their args)."""
    return geometry if isinstance(geometry, sp.Tuple) else geometry.encode()


def _prod(values) -> int:
    out = 1
    for v in values:
        out *= v
    return out


def _flat(index, size) -> int:
    out = 0
    for i, n in zip(index, size, strict=True):
        out = out * n + i
    return out


class _GeometryNode(SymbpNode, MatrixExpr):
    """A node whose last argument is its encoded `Geometry`: ``Node(*operands, geometry)``."""

    def __new__(cls, *args):
        *operands, geometry = args
        return super().__new__(cls, *operands, _encoded(geometry))

    @property
    def geometry(self) -> Geometry:
        return Geometry.decode(self.args[-1])


def _p(printer, e) -> str:
    """`e` printed as an operand (bracketed unless a name)."""
    text = printer._print(e)
    return text if text.isidentifier() else f"({text})"


class Conv(_GeometryNode):
    """K * Z: the cross-correlation of the feature maps in the columns of Z with the kernel K."""

    @property
    def shape(self):
        return (self.geometry.out_width, self.args[1].shape[1])

    def _numpycode(self, printer):
        g, (K, Z) = self.geometry, self.args[:2]
        cols = f"_patches({_p(printer, Z)}, {g.layer})"
        return f"({_p(printer, K)} @ {cols}).reshape({g.out_width}, -1)"

    def _latex(self, printer):
        K, Z = self.args[:2]
        return rf"{printer._print(K)} \star {printer._print(Z)}"

    def _sympystr(self, printer):
        K, Z = self.args[:2]
        return f"{printer._print(K)} ⋆ {printer._print(Z)}"

    def value(self, go):
        return self.geometry.toeplitz(go(self.args[0])) * go(self.args[1])


class ConvTranspose(_GeometryNode):
    """T(K)^T G: the adjoint of `Conv` (a transposed convolution) on the input grid."""

    @property
    def shape(self):
        return (self.geometry.in_width, self.args[1].shape[1])

    def _numpycode(self, printer):
        g, (K, G) = self.geometry, self.args[:2]
        grad = f"{_p(printer, G)}.reshape({g.channels_out}, -1)"
        return f"_fold({_p(printer, K)}.T @ {grad}, {g.layer})"

    def _latex(self, printer):
        K, G = self.args[:2]
        return rf"{printer._print(K)} \star^{{T}} {_latex_operand(printer, G)}"

    def _sympystr(self, printer):
        K, G = self.args[:2]
        return f"{printer._print(K)} ⋆ᵀ {_text_operand(printer, G)}"

    def value(self, go):
        return self.geometry.toeplitz(go(self.args[0])).T * go(self.args[1])


class ConvKernelGrad(_GeometryNode):
    """corr(Z, G): entry (c_out, (c_in, w)) is the sum over positions o and samples of
    G[(c_out, o)] Z[(c_in, o s + w)] -- every position's share of the one shared kernel."""

    @property
    def shape(self):
        g = self.geometry
        return (g.channels_out, g.patch)

    def _numpycode(self, printer):
        g, (G, Z) = self.geometry, self.args[:2]
        grad = f"{_p(printer, G)}.reshape({g.channels_out}, -1)"
        return f"{grad} @ _patches({_p(printer, Z)}, {g.layer}).T"

    def _latex(self, printer):
        G, Z = self.args[:2]
        return rf"\operatorname{{corr}}\left({printer._print(Z)}, {printer._print(G)}\right)"

    def _sympystr(self, printer):
        G, Z = self.args[:2]
        return f"corr({printer._print(Z)}, {printer._print(G)})"

    def value(self, go):
        g = self.geometry
        G, Z = go(self.args[0]), go(self.args[1])
        out = sp.zeros(g.channels_out, g.patch)
        P, S = g.positions, _prod(g.size_in)
        for o, w, i in g.taps:
            for co in range(g.channels_out):
                for ci in range(g.channels_in):
                    for n in range(G.shape[1]):
                        out[co, ci * g.window + w] += G[co * P + o, n] * Z[ci * S + i, n]
        return out


class ChannelBias(_GeometryNode):
    """b (C_out x 1) repeated over the positions of each channel: a column of C_out P entries
    (times 1^T for a batch, as a dense layer's b 1^T)."""

    @property
    def shape(self):
        return (self.geometry.out_width, 1)

    def _numpycode(self, printer):
        g = self.geometry
        return f"{printer._fn('repeat')}({printer._print(self.args[0])}, {g.positions}, axis=0)"

    def _latex(self, printer):
        return printer._print(self.args[0])

    def _sympystr(self, printer):
        return printer._print(self.args[0])

    def value(self, go):
        g, b = self.geometry, go(self.args[0])
        return sp.Matrix(g.out_width, 1, lambda r, _: b[r // g.positions, 0])


class ChannelSum(_GeometryNode):
    """The sum of G over every position and sample of each output channel: C_out x 1."""

    @property
    def shape(self):
        return (self.geometry.channels_out, 1)

    def _numpycode(self, printer):
        g = self.geometry
        grad = f"{_p(printer, self.args[0])}.reshape({g.channels_out}, -1)"
        return f"{grad}.sum(axis=1, keepdims=True)"

    def _latex(self, printer):
        return rf"\operatorname{{sum}}_{{\text{{pos}}}}\left({printer._print(self.args[0])}\right)"

    def _sympystr(self, printer):
        return f"sum_pos({printer._print(self.args[0])})"

    def value(self, go):
        g, G = self.geometry, go(self.args[0])
        P = g.positions
        return sp.Matrix(
            g.channels_out,
            1,
            lambda c, _: sum(G[c * P + o, n] for o in range(P) for n in range(G.shape[1])),
        )


class MaxPool(_GeometryNode):
    """The maximum of each window of each channel (windows of `kernel`, every `stride`)."""

    @property
    def shape(self):
        return (self.geometry.out_width, self.args[0].shape[1])

    def _numpycode(self, printer):
        return f"_window_max({printer._print(self.args[0])}, {self.geometry.layer})"

    def _latex(self, printer):
        return rf"\operatorname{{maxpool}}\left({printer._print(self.args[0])}\right)"

    def _sympystr(self, printer):
        return f"maxpool({printer._print(self.args[0])})"

    def value(self, go):
        g, A = self.geometry, go(self.args[0])
        return sp.Matrix(
            g.out_width, A.shape[1], lambda r, n: sp.Max(*(A[i, n] for i in _window_rows(g, r)))
        )


class MaxPoolGrad(_GeometryNode):
    """The adjoint of `MaxPool` at A (whose pooled values are M): each entry of G goes to its
    window's arg-max in A."""

    @property
    def shape(self):
        return (self.geometry.in_width, self.args[1].shape[1])

    def _numpycode(self, printer):
        (G, A, M), j = (printer._print(a) for a in self.args[:3]), self.geometry.layer
        return f"_route_to_max({G}, {A}, {M}, {j})"

    def _latex(self, printer):
        G, A = self.args[:2]
        return rf"\operatorname{{maxpool}}'_{{{printer._print(A)}}}\left({printer._print(G)}\right)"

    def _sympystr(self, printer):
        G, A = self.args[:2]
        return f"maxpool′_{printer._print(A)}({printer._print(G)})"

    def value(self, go):
        g, G, A = self.geometry, go(self.args[0]), go(self.args[1])
        out = sp.zeros(g.in_width, A.shape[1])
        for r in range(g.out_width):
            rows = _window_rows(g, r)
            for n in range(A.shape[1]):
                for i in rows:  # d max / d a_i, as SymPy writes it
                    others = [A[k, n] for k in rows if k != i]
                    out[i, n] += G[r, n] * sp.Heaviside(A[i, n] - sp.Max(*others))
        return out


class AvgPool(_GeometryNode):
    """The mean of each window of each channel."""

    @property
    def shape(self):
        return (self.geometry.out_width, self.args[0].shape[1])

    def _numpycode(self, printer):
        g = self.geometry
        return f"_window_sum({printer._print(self.args[0])}, {g.layer}) / {g.window}"

    def _latex(self, printer):
        return rf"\operatorname{{avgpool}}\left({printer._print(self.args[0])}\right)"

    def _sympystr(self, printer):
        return f"avgpool({printer._print(self.args[0])})"

    def value(self, go):
        return self.geometry.pooling_matrix() * go(self.args[0])


class AvgPoolTranspose(_GeometryNode):
    """The adjoint of `AvgPool`: each entry of G spread evenly over its window."""

    @property
    def shape(self):
        return (self.geometry.in_width, self.args[0].shape[1])

    def _numpycode(self, printer):
        g = self.geometry
        return f"_spread({printer._print(self.args[0])}, {g.layer}) / {g.window}"

    def _latex(self, printer):
        return rf"\operatorname{{avgpool}}^{{T}}\left({printer._print(self.args[0])}\right)"

    def _sympystr(self, printer):
        return f"avgpoolᵀ({printer._print(self.args[0])})"

    def value(self, go):
        return self.geometry.pooling_matrix().T * go(self.args[0])


def _window_rows(g: Geometry, r: int) -> list[int]:
    """The input rows (channel c, positions) that output row r = (c, o) of a pooling reads."""
    c, o = divmod(r, g.positions)
    S = _prod(g.size_in)
    return [c * S + i for oo, _, i in g.taps if oo == o]


def _latex_operand(printer, e) -> str:
    text = printer._print(e)
    return text if isinstance(e, sp.MatrixSymbol) else rf"\left({text}\right)"


def _text_operand(printer, e) -> str:
    text = printer._print(e)
    return text if isinstance(e, sp.MatrixSymbol) else f"({text})"
