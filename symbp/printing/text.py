"""Readable Unicode: z₃, W₃ᵀ, δ₂, ∘ for the Hadamard product, σ′₂ for the activation derivative."""

from __future__ import annotations

import sympy as sp
from sympy import HadamardProduct, MatAdd, MatMul
from sympy.printing.str import StrPrinter

from .. import naming
from ..nodes import Sigma
from .notation import MatrixNotation


class TextPrinter(MatrixNotation, StrPrinter):
    MINUS = "−"
    HADAMARD = " ∘ "

    def _print_MatrixSymbol(self, expr):
        return naming.unicode_name(expr.name)

    def _print_Transpose(self, expr):
        return self._wrap(expr.arg, (MatAdd, MatMul, HadamardProduct)) + "ᵀ"

    def _print_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        body = " ".join(self._operand(m) for m in factors)
        if coeff == 1:
            return body
        if coeff == -1:
            return "−" + body
        shown = self._print(coeff) if coeff.is_Integer else f"({self._print(coeff)})"
        return (shown if body.startswith("(") else shown + " ") + body

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Piecewise(self, expr):
        parts = [
            self._print(value)
            if cond == sp.true
            else f"{self._print(value)} if {self._print(cond)}"
            for value, cond in expr.args
        ]
        return "(" + ", else ".join(parts) + ")"

    def _print_DiagMatrix(self, expr):
        return f"diag({self._print(expr.args[0])})"

    def _power(self, base, exp):
        return f"{base}^∘{exp}"

    def _fraction(self, top, bottom):
        return f"∂{top}/∂{bottom}"

    def _print_OneMatrix(self, expr):
        return "1"

    def _print_Sigma(self, expr):
        return f"σ{naming.subscript(expr.layer)}({self._print(expr.arg)})"

    def _print_ElementSum(self, expr):
        arg = expr.arg
        if isinstance(arg, sp.HadamardPower) and arg.exp == 2:
            return f"‖{self._print(arg.base)}‖{'_F' if arg.base.shape[1] != 1 else ''}²"
        if isinstance(arg, MatMul) and arg.as_coeff_matrices()[0] == -1:
            return f"−1ᵀ({self._print(MatMul(*arg.as_coeff_matrices()[1]))}){' 1' if arg.shape[1] != 1 else ''}"
        return f"1ᵀ({self._print(arg)}){' 1' if arg.shape[1] != 1 else ''}"


def text(expr) -> str:
    return TextPrinter().doprint(expr)


def objective(p) -> str:
    """f of a pass, with its reduction factor in front: (1/N) ‖Y − Z_J‖_F²."""
    if p.scale == 1:
        return text(p.objective)
    return f"({text(p.scale)}) {text(p.objective / p.scale)}"


def reason(r) -> str:
    if r.kind == "chain":
        return "chain rule"
    if r.kind == "loss":
        return "loss (L)"
    if r.kind == "layer":
        return f"layer equation (e.{r.layer})"
    if r.kind == "simplify":
        return f"SymPy simplification; {r.note}"
    return f"definition of δ{naming.subscript(r.layer)}"


def render_chains(derivation) -> str:
    """Each layer's chain of equalities, every step with its reason, as the lecture's slides."""
    from ..derive import f
    from ..nodes import Partial

    lines = []
    for chain in derivation.chains:
        lines.append(f"{text(Partial(f, chain.target))}")
        lines += [f"    = {text(step.rhs)}    [{reason(step.reason)}]" for step in chain.steps]
    return "\n".join(lines)


def render_text(derivation) -> str:
    """The δ recursion, σ′_j and every ∂f/∂W_j (and ∂f/∂b_j), per sample and for the batch."""
    from ..derive import sigma_prime

    spec, p, b = derivation.spec, derivation.sample, derivation.batch
    lines = [f"network {spec.name}: J = {spec.depth}, widths {'-'.join(map(str, spec.widths))}"]
    for (_, pre), (z, sigma), layer in zip(
        p.forward[::2], p.forward[1::2], spec.layers, strict=True
    ):
        lines.append(
            f"  {text(z)} = {text(Sigma(sigma.layer, pre))}    σ = {layer.activation_name}"
        )
    lines.append(f"  f = {text(p.objective)}")
    lines.append("")
    lines.append("δ recursion (one sample):")
    lines += [f"  {text(lhs)} = {text(rhs)}" for lhs, rhs in p.deltas]
    lines.append("activation derivatives (from sympy.diff, simplified):")
    for j, (layer, d) in enumerate(zip(spec.layers, derivation.derivatives, strict=True), start=1):
        z, name = p.names.z(j), layer.activation_name
        if d is None:
            lines.append(
                f"  ∂{text(z)}/∂{text(p.names.u(j))} = diag({text(z)}) − {text(z)} {text(z)}ᵀ    ({name})"
            )
            continue
        formula = text(sigma_prime(derivation.spec, p.names, j))
        note = (
            "    ← zero almost everywhere: gradient steps cannot move the weights"
            if d.is_zero
            else ""
        )
        lines.append(
            f"  {text(p.names.dsigma(j))} = {formula}    ({name}: σ(t) = {text(layer.sigma.expr)}, σ′(t) = {text(d.raw)}){note}"
        )
    lines.append("gradients (one sample):")
    lines += [f"  ∂f/∂{text(p.names.param(k))} = {text(g)}" for k, g in p.gradients.items()]
    lines.append(f"batch form (samples as columns, f = {objective(b)}):")
    lines += [f"  {text(lhs)} = {text(rhs)}" for lhs, rhs in b.deltas]
    lines += [f"  ∂f/∂{text(b.names.param(k))} = {text(g)}" for k, g in b.gradients.items()]
    return "\n".join(lines)
