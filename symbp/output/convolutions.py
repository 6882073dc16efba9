"""The documents' convolution section: lecture 6's view of a convolutional layer as the affine
layer u_j = W_j z_{j-1} whose W_j = T(K_j) is the Toeplitz matrix of the kernel (circulant for
circular padding), then weight sharing turning d f / d W_j = delta_j z_{j-1}^T into the kernel's
gradient, a cross-correlation.  Every formula is computed here with SymPy from the layer's
`Geometry` (the same taps the proof's dense matrices use) and printed by the LaTeX printer.
"""

from __future__ import annotations

import sympy as sp

from .. import naming
from ..graph.convolution import Conv, ConvTranspose, Geometry
from ..graph.nodes import Partial
from ..graph.ops import f
from ..printing.latex import latex
from .texlayout import Equation

MAX_MATRIX = 8  #: T(K_j) is written out when it has at most this many rows and columns
MAX_ENTRIES = 6  #: kernel entries whose gradient is written out term by term
PROSE_BEFORE, PROSE_AFTER = 7.0, 6.0  #: em of text a slide holds before and after the entries


def conv_sections(p, page) -> list[dict]:
    """One dict per convolutional layer of the per-sample pass `p` (see the templates' macro
    `convolution`): its matrix form, the affine rule, the kernel gradient entry by entry and as
    a correlation, and the transpose."""
    out = []
    for op in p.graph.ops:
        if op.kind != "conv":
            continue
        g: Geometry = op.attr("geometry")
        K, z_prev = op.inputs[:2]
        delta = p.graph.named[op.output]
        out.append(_section(p, op.layer, g, K, z_prev, delta, page))
    return out


def _section(p, j: int, g: Geometry, K, z_prev, delta, page) -> dict:
    T = rf"T\left({latex(K)}\right)"  # the matrix of the kernel, as the section names it
    kernel = _kernel_symbols(g)
    one_dim = g.dims == 1
    matrix = None
    if g.out_width <= MAX_MATRIX and g.in_width <= MAX_MATRIX:
        matrix = page.lines([Equation(T, "=", latex(g.toeplitz(kernel)))])
    entries = [
        Equation(latex(Partial(f, kernel[row, col])), "=", latex(total))
        for (row, col), total in list(_kernel_gradients(g, kernel, delta, z_prev).items())[
            :MAX_ENTRIES
        ]
    ]
    return {
        "layer": j,
        "conv": latex(Conv(K, z_prev, g)),
        "matrix_form": page.lines(
            [Equation(latex(Conv(K, z_prev, g)), "=", f"{T} {latex(z_prev)}")]
        ),
        "kind": "circulant" if g.circular and one_dim and g.stride == (1,) else "Toeplitz",
        "matrix": matrix,
        "affine": page.lines(
            [
                Equation(
                    rf"\frac{{\partial f}}{{\partial {T}}}",
                    "=",
                    f"{latex(delta)} {{{latex(z_prev)}}}^{{T}}",
                )
            ]
        ),
        "entries": page.frames(page.lines(entries), first=PROSE_BEFORE, last=PROSE_AFTER),
        "all_entries": len(entries) == g.channels_out * g.patch,
        "kernel_gradient": f"{latex(Partial(f, K))} = {latex(p.gradients[_key(p, K)])}",
        "T": T,
        "weights": rf"\mathbf{{W}}_{{{j}}} = {T}",
        "transpose": f"{{{T}}}^{{T}} {latex(delta)} = {latex(ConvTranspose(K, delta, g))}",
        "K": latex(K),
        "delta": latex(delta),
        "z": latex(z_prev),
    }


def _key(p, K) -> str:
    return next(prm.key for prm in p.graph.params if prm.symbol == K)


class _TexSymbol(sp.Symbol):
    """A scalar whose name is its LaTeX (an entry of a named vector, such as delta_{1,3})."""

    def _latex(self, printer=None) -> str:
        return self.name


def _entry(vector, index: int) -> _TexSymbol:
    """Entry `index` (from 1) of a layer's vector: ``\\boldsymbol{\\delta}_{1}`` -> delta_{1,3}."""
    stem, layer = naming.split(vector.name)
    return _TexSymbol(f"{naming.latex_name(stem)}_{{{layer},{index}}}")


def _kernel_symbols(g: Geometry) -> sp.Matrix:
    """The kernel's entries as scalars: k_w for one channel in and out, else k_{c', c, w}."""
    single = g.channels_in == g.channels_out == 1

    def entry(co, col):
        ci, w = divmod(col, g.window)
        return _TexSymbol(f"k_{{{w}}}" if single else f"k_{{{co},{ci},{w}}}")

    return sp.Matrix(g.channels_out, g.patch, entry)


def _kernel_gradients(g: Geometry, kernel, delta, z_prev) -> dict:
    """(row, col) of a kernel entry -> d f / d that entry: the sum of (delta z^T)_{r c} over the
    entries (r, c) of T(K) that hold it (weight sharing), written with the vectors' entries."""
    positions, size = g.positions, 1
    for n in g.size_in:
        size *= n
    totals: dict = {}
    for o, w, i in g.taps:
        for co in range(g.channels_out):
            for ci in range(g.channels_in):
                col = ci * g.window + w
                term = _entry(delta, co * positions + o + 1) * _entry(z_prev, ci * size + i + 1)
                totals[(co, col)] = totals.get((co, col), 0) + term
    return dict(sorted(totals.items()))
