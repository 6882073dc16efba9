"""LaTeX in the lecture's notation: bold vectors, ``\\circ`` for Hadamard, ``^T``, sigma'_j."""

from __future__ import annotations

from typing import ClassVar

import sympy as sp
from sympy import HadamardProduct, MatAdd, MatMul
from sympy.printing.latex import LatexPrinter

from .. import naming
from .notation import MatrixNotation
from .strict import Strict


class SymbpLatexPrinter(Strict, MatrixNotation, LatexPrinter):
    """With ``sample="i"``, per-sample symbols carry a sample index: z_1^{(i)}."""

    MINUS = "-"
    HADAMARD = r" \circ "
    PARENS = (r"\left(", r"\right)")
    BRACKETS = (r"\left[", r"\right]")
    _default_settings: ClassVar[dict] = {**LatexPrinter._default_settings, "sample": None}

    def _print_MatrixSymbol(self, expr):
        tex = naming.latex_name(expr.name)
        sample = self._settings["sample"]
        if sample and naming.split(expr.name)[0] in naming.PER_SAMPLE:
            tex = f"{tex}^{{({sample})}}"
        return tex

    def _print_Symbol(self, expr, style="plain"):
        if expr.name == "f" or naming.split(expr.name)[0] == "lambda":
            return naming.latex_name(expr.name)
        return super()._print_Symbol(expr)

    def _print_Transpose(self, expr):
        return f"{{{self._wrap(expr.arg, (MatAdd, MatMul, HadamardProduct))}}}^{{T}}"

    def _print_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        parts = [
            r"\mathbf{1}^T" if i and _row_of_ones(m) else self._operand(m)  # b 1^T: a row factor
            for i, m in enumerate(factors)
        ]
        body = " ".join(parts)
        if coeff == 1:
            return body
        if coeff == -1:
            return "- " + body
        return f"{self._print(coeff)} {body}"

    def _print_Stack(self, expr):
        top, bottom = (self._print(a) for a in expr.args)
        return rf"\begin{{bmatrix}} {top} \\ {bottom} \end{{bmatrix}}"

    def _print_LeastSquares(self, expr):
        A, T, B = expr.args
        kinds = (MatAdd, MatMul, HadamardProduct)
        left = "" if isinstance(A, sp.Identity) else f"{{{self._wrap(A, kinds)}}}^{{+}} "
        return rf"{left}{self._wrap(T, (MatAdd,))} {{{self._wrap(B, kinds)}}}^{{+}}"

    def _print_Identity(self, expr):
        return r"\mathbf{I}"

    def _print_ZeroMatrix(self, expr):
        return r"\mathbf{0}"

    def _print_DiagMatrix(self, expr):
        return rf"\operatorname{{diag}}\left({self._print(expr.args[0])}\right)"

    def _power(self, base, exp):
        return rf"{base}^{{\circ {self._print(exp)}}}"

    def _fraction(self, top, bottom):
        return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"

    def _print_OneMatrix(self, expr):
        return r"\mathbf{1}"

    def _print_LogSumExp(self, expr):
        return rf"\log \mathbf{{1}}^T \exp\left({self._print(expr.arg)}\right)"

    def _print_Sigma(self, expr):
        return rf"\sigma_{{{expr.layer}}}\left({self._print(expr.arg)}\right)"

    def _print_ElementSum(self, expr):
        arg = expr.arg
        if isinstance(arg, sp.HadamardPower) and arg.exp == 2:
            norm = "F" if arg.base.shape[1] != 1 else "2"
            return rf"\left\|{self._print(arg.base)}\right\|_{norm}^2"
        sign = ""
        if isinstance(arg, MatMul) and arg.as_coeff_matrices()[0] == -1:
            sign, arg = "-", self._unsigned(arg)
        tail = r" \mathbf{1}" if arg.shape[1] != 1 else ""
        return rf"{sign}\mathbf{{1}}^T \left({self._print(arg)}\right){tail}"


def _row_of_ones(m) -> bool:
    return isinstance(m, sp.OneMatrix) and m.shape[0] == 1 and m.shape[1] != 1


def latex(expr, sample: str | None = None) -> str:
    return SymbpLatexPrinter({"sample": sample}).doprint(expr)


def reason(r) -> str:
    """The label over an ``=``."""
    if r.kind == "chain":
        return r"\text{CR}"
    if r.kind == "loss":
        return r"\text{(L)}"
    if r.kind == "layer":
        return rf"\text{{(e.{r.layer})}}"
    if r.kind == "simplify":
        return r"\text{SymPy}"
    if r.kind == "sum":
        return r"\text{MCR}"
    if r.kind == "decay":
        return r"\text{CR, (R)}"
    if r.kind == "time":
        return r"\text{BPTT}"
    return rf"\text{{def.}}\ {latex(r.symbol)}"


#: What each kind of reason means, in words: (one label, several labels).
_MEANINGS = {
    "chain": ("the chain rule",) * 2,
    "sum": (
        "the multivariate chain rule: the adjoints of a value that feeds several operations add up",
    )
    * 2,
    "decay": (
        "the chain rule on the loss term, plus the gradient $2\\lambda \\mathbf{W}$ of the weight "
        "decay $\\lambda \\|\\mathbf{W}\\|_F^2$",
    )
    * 2,
    "time": (
        "backpropagation through time: the weight is shared by every time step, so its "
        "gradient is the sum of each step's share",
    )
    * 2,
    "layer": ("the network's equation with that tag", "the network's equations with those tags"),
    "loss": ("the loss",) * 2,
    "define": ("the definition of that adjoint", "the definitions of those adjoints"),
    "simplify": ("SymPy's simplification, under the assumption stated below the chain",) * 2,
}


def legend(reasons) -> list[str]:
    """The legend of the labels over the ``=`` of `reasons`: one entry per kind, in order of
    first occurrence, with each distinct label once (as `reason` prints it) and its meaning."""
    labels: dict[str, dict[str, int]] = {}
    for r in reasons:
        labels.setdefault(r.kind, {}).setdefault(reason(r), r.layer or 0)
    entries = []
    for kind, found in labels.items():
        order = sorted(found, key=found.get) if kind == "layer" else list(found)
        shown = ", ".join(f"${label}$" for label in order)
        entries.append(f"{shown} {_MEANINGS[kind][len(order) > 1]}")
    return entries


def derivation_summary(derivation) -> str:
    """The delta recursion and gradients as one LaTeX display (Jupyter's `_repr_latex_`)."""
    p = derivation.sample
    rows = [rf"{latex(lhs)} &= {latex(rhs)}" for lhs, rhs in (*p.adjoints, *p.sigma_primes)]
    rows += [
        rf"\frac{{\partial f}}{{\partial {latex(p.param(k))}}} &= {latex(g)}"
        for k, g in p.gradients.items()
    ]
    return r"$$\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}$$"
