"""The Unicode report of a derivation (`symbp derive`, `str(derivation)`): the layer equations,
the adjoint recursion, the local derivatives, the gradients, per sample and for the batch, and
the chains step by step.  Every formula is printed by `printing.text` from the derivation."""

from __future__ import annotations

from ..derivation import rules
from ..graph.nodes import Partial
from ..graph.ops import f
from ..naming import subscript
from ..printing.text import TextPrinter, text
from .recurrences import sections as recurrence_sections


def objective(p) -> str:
    """f of a pass, with its reduction factor in front: (1/N) ‖Y − Z_J‖_F², and its weight
    decay after it (+ λ‖W₁‖_F² + ...)."""
    decay = "".join(f" + {text(op.equation)}" for op in p.graph.penalties)
    if p.scale == 1:
        return text(p.data_objective) + decay
    body = text(p.data_objective / p.scale)
    sign, body = (TextPrinter.MINUS, body[1:]) if body.startswith(TextPrinter.MINUS) else ("", body)
    return f"{sign}({text(p.scale)}) {body}{decay}"


def reason(r) -> str:
    """The reason of a step, in words."""
    if r.kind == "chain":
        return "chain rule"
    if r.kind == "loss":
        return "loss (L)"
    if r.kind == "layer":
        return f"layer equation (e.{r.layer})"
    if r.kind == "simplify":
        return f"SymPy simplification; {r.note}"
    if r.kind == "sum":
        return f"{text(r.symbol)} feeds several operations: their adjoints add up"
    if r.kind == "decay":
        return "chain rule on the loss term, plus the weight decay's gradient 2λW"
    if r.kind == "time":
        return "BPTT: the weight is shared by every time step, its gradient sums their shares"
    return f"definition of {text(r.symbol)}"


def render_chains(derivation) -> str:
    """Each parameter's chain of equalities, every step with its reason, as the lecture's slides."""
    lines = []
    for chain in derivation.chains:
        lines.append(f"{text(Partial(f, chain.target))}")
        lines += [f"    = {text(step.rhs)}    [{reason(step.reason)}]" for step in chain.steps]
    return "\n".join(lines)


def _tag(op) -> str:
    """What a layer equation's line says after it: the activation, or where a skip comes from."""
    if op.kind == "add":
        return f"residual connection from {text(op.inputs[1])}"
    sigma = op.attr("activation")
    return f"σ = {sigma.name}" if sigma else ""


def _local_line(op, derivative) -> str:
    lhs, rhs = rules.local(op)
    sigma = op.attr("activation")
    if derivative is None:
        return f"  {text(lhs)} = {text(rhs)}    ({sigma.name})"
    note = (
        "    ← zero almost everywhere: gradient steps cannot move the weights"
        if derivative.is_zero
        else ""
    )
    return (
        f"  {text(lhs)} = {text(rhs)}    ({sigma.name}: σ(t) = {text(sigma.expr)}, "
        f"σ′(t) = {text(derivative.raw)}){note}"
    )


def _bptt_lines(section) -> list[str]:
    """A recurrent layer's step, its reverse pass and the sums over time, in Unicode."""
    j, T = section.layer, text(section.steps)
    cut = (
        f", truncated: carried adjoints cut every {section.truncate} steps"
        if section.truncate
        else ""
    )
    lines = [f"backpropagation through time, layer {j} ({section.source}), t = 1..{T}:"]
    lines += [f"  {text(x.lhs)} = {text(x.rhs)}" for x in section.step]
    lines.append("  " + ", ".join(f"{text(x).replace(',t−1', ',0')} = 0" for x in section.initial))
    what = (
        f"ζ{subscript(j)},t = 0 for t < T (only h_T is read)"
        if section.last_only
        else (f"ζ{subscript(j)},t: the columns of ζ{subscript(j)}")
    )
    lines.append(f"  reverse pass of step t, t = T..1 (terms at t+1 are 0 at t = T; {what}{cut}):")
    lines += [f"  {text(x.lhs)} = {text(x.rhs)}" for x in section.recursion]
    lines.append("  sums over time (weight sharing):")
    lines += [f"  {text(d)} = Σₜ {text(share)} = {text(whole)}" for d, share, whole in section.sums]
    return lines


def render_text(derivation) -> str:
    """The adjoint recursion, the local derivatives and every gradient, per sample and batch."""
    spec, p, b = derivation.spec, derivation.sample, derivation.batch
    lines = [f"network {spec.name}: J = {spec.depth}, widths {'-'.join(map(str, spec.widths))}"]
    equations = p.graph.equations()
    for value, rhs, op in equations[:-1]:
        lines.append(f"  {text(value)} = {text(rhs)}    {_tag(op)}".rstrip())
    lines.append(f"  f = {objective(p)}")
    lines.append("")
    lines.append("δ recursion (one sample):")
    lines += [f"  {text(lhs)} = {text(rhs)}" for lhs, rhs in p.adjoints]
    lines += [f"  SymPy's simplification assumes: {a.text}" for a in derivation.assumptions]
    for section in recurrence_sections(p):
        lines += _bptt_lines(section)
    lines.append("activation derivatives (from sympy.diff, simplified):")
    for op in p.graph.ops:
        if rules.local(op) is not None:
            lines.append(_local_line(op, derivation.derivatives[op.layer - 1]))
    lines.append("gradients (one sample):")
    lines += [f"  ∂f/∂{text(p.param(k))} = {text(g)}" for k, g in p.gradients.items()]
    lines.append(f"batch form (samples as columns, f = {objective(b)}):")
    lines += [f"  {text(lhs)} = {text(rhs)}" for lhs, rhs in b.adjoints]
    lines += [f"  ∂f/∂{text(b.param(k))} = {text(g)}" for k, g in b.gradients.items()]
    return "\n".join(lines)
