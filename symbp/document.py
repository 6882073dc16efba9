"""The LaTeX document (article or beamer) presenting a derivation as the lecture does.

`document_source` prints every formula of the derivation through the LaTeX printer and hands the
strings to `templates/article.tex.j2` or `templates/beamer.tex.j2`.
"""

from __future__ import annotations

import sympy as sp
from sympy import MatAdd, MatMul, Transpose
from sympy.matrices.expressions.diagonal import DiagMatrix

from . import activations as activations_module
from . import naming
from .activations import s, t
from .derive import derive, f, frozen_layers, perceptron_pass, sigma_prime
from .errors import SpecError
from .escape import tex_text
from .files import default_command, stamp
from .linear import bcd_blocks, convexity_example, is_deep_linear
from .naming import Names
from .nodes import Partial, Sigma
from .printing.latex import latex, reason
from .spec import Spec


def tex_escape(text: str) -> str:
    """`text` for LaTeX text mode, shown literally (see `escape.tex_text`)."""
    return tex_text(text)


def _width(w) -> str:
    return latex(w) if not isinstance(w, int) else str(w)


def context(spec: Spec) -> dict:
    d = derive(spec)
    p, b = d.sample, d.batch
    names = p.names
    forward = dict(p.forward)
    equations = []
    for j, layer in enumerate(spec.layers, start=1):
        pre = forward[names.u(j)]
        equations.append(
            {
                "label": f"e.{j}",
                "tex": f"{latex(names.z(j))} = {latex(Sigma(j, pre))}",
                "activation": tex_escape(layer.activation_name),
            }
        )
    activations = []
    for act in dict.fromkeys(layer.sigma for layer in spec.layers if layer.sigma.elementwise):
        deriv, sigma, name = activations_module.derivative(act), act.expr, act.name
        activations.append(
            {
                "name": tex_escape(name),
                "sigma": latex(sigma),
                "raw": latex(deriv.raw),
                "simplified": latex(deriv.expr),
                "same": sp.simplify(deriv.raw - deriv.expr) == 0 and deriv.raw == deriv.expr,
                "of_output": deriv.of_output,
                "var": latex(s if deriv.of_output else t),
            }
        )
    sigma_primes = []
    for j, layer in enumerate(spec.layers, start=1):
        z = names.z(j)
        if layer.sigma.elementwise:
            sigma_primes.append((latex(names.dsigma(j)), latex(sigma_prime(spec, names, j))))
        else:  # softmax: not entry-wise; its Jacobian
            jacobian = MatAdd(DiagMatrix(z), MatMul(-1, z, Transpose(z)))
            sigma_primes.append((latex(Partial(z, names.u(j))), latex(jacobian)))
    deltas = dict(p.deltas)
    chains = []
    for chain in d.chains:
        layer = int(chain.target.name[1:])
        chains.append(
            {
                "title": f"Layer {layer}: ${latex(Partial(f, chain.target))}$",
                "lhs": latex(Partial(f, chain.target)),
                "steps": [(reason(st.reason), latex(st.rhs)) for st in chain.steps],
                "notes": [tex_escape(st.reason.note) for st in chain.steps if st.reason.note],
                "delta": (latex(names.delta(layer)), latex(deltas[names.delta(layer)])),
            }
        )
    grads = []
    for key in p.gradients:
        param = names.param(key)
        grads.append(
            {
                "lhs": latex(Partial(f, param)),
                "sample": latex(p.gradients[key]),
                "sum": latex(p.gradients[key], sample="i"),
                "batch": latex(b.gradients[key]),
            }
        )
    J, frozen = spec.depth, frozen_layers(spec)
    rule = perceptron_pass(p) if frozen and J == 1 else None
    return {
        "frozen": frozen,
        "softmax": spec.layers[-1].sigma.kind == "softmax",
        "perceptron": (
            {
                "delta": (latex(rule.deltas[0][0]), latex(rule.deltas[0][1])),
                "gradients": [
                    (latex(Partial(f, names.param(k))), latex(g)) for k, g in rule.gradients.items()
                ],
            }
            if rule
            else None
        ),
        "name": tex_escape(spec.name),
        "depth": J,
        "widths": ", ".join(f"d_{{{j}}} = {_width(w)}" for j, w in enumerate(spec.widths)),
        "equations": equations,
        "loss_tex": f"f = {latex(p.objective)}",
        "batch_loss_tex": f"f = {latex(b.scale) + ' ' if b.scale != 1 else ''}{latex(b.objective / b.scale)}",
        "batch_sigma_primes": [(latex(lhs), latex(rhs)) for lhs, rhs in b.sigma_primes],
        "scale": latex(b.scale) if b.scale != 1 else "",
        "reduction": spec.reduction,
        "activations": activations,
        "sigma_primes": sigma_primes,
        "chains": chains,
        "deltas": [(latex(lhs), latex(rhs)) for lhs, rhs in p.deltas],
        "batch_deltas": [(latex(lhs), latex(rhs)) for lhs, rhs in b.deltas],
        "gradients": grads,
        "stacks": [_stack("Delta", "delta"), _stack("Z", "z")],
    }


def _stack(batch_stem: str, sample_stem: str) -> str:
    """Batch matrix = [per-sample columns], e.g. Delta_j = [delta_j^(1), ..., delta_j^(N)]."""
    big, small = naming.latex_name(batch_stem), naming.latex_name(sample_stem)
    return rf"{big}_{{j}} = \left[{small}_{{j}}^{{(1)}}, \dots, {small}_{{j}}^{{(N)}}\right]"


def _bcd(spec: Spec) -> list[dict]:
    if not is_deep_linear(spec):
        return []
    names = Names(spec.widths, batch=True)
    out = []
    for block in bcd_blocks(spec, names):
        P = sp.MatrixSymbol(f"P{block.layer}", *block.solution.shape)
        shown_p = latex(names.W(block.layer))
        if spec.layers[block.layer - 1].bias:
            shown_p = (
                rf"\begin{{bmatrix}} {shown_p} & {latex(names.b(block.layer))} \end{{bmatrix}}"
            )
        output = MatAdd(MatMul(block.A, P, block.B), block.C).doit()
        out.append(
            {
                "layer": block.layer,
                "P": shown_p,
                "output": latex(output),
                "gradient": latex(block.gradient.doit()),
                "lhs": latex(block.normal_lhs.doit()),
                "rhs": latex(block.normal_rhs.doit()),
                "solution": latex(block.solution),
            }
        )
    return out


def _convexity() -> dict:
    ex = convexity_example()
    w1, w2 = ex.variables
    point = ", ".join(f"{latex(k)} = {v}" for k, v in ex.point.items())
    a, b, fa, fb, fmid = ex.chord
    return {
        "f": latex(ex.f),
        "hessian": latex(ex.hessian),
        "point": point,
        "gradient": ", ".join(str(g) for g in ex.gradient_at_point),
        "at": latex(ex.hessian_at_point),
        "eigenvalues": ", ".join(str(e) for e in ex.eigenvalues),
        "chord": rf"f({a[0]}, {a[1]}) = {fa},\ f({b[0]}, {b[1]}) = {fb},\ f(0, 0) = {fmid}",
        "vars": f"{latex(w1)}, {latex(w2)}",
    }


def document_source(
    spec: Spec, beamer: bool = False, command: str | None = None, convexity: bool = False
) -> str:
    """A standalone LaTeX document (article, or beamer slides) with a stamped header.
    `convexity` adds the lecture's two-layer example of non-convexity (deep linear specs)."""
    from .render import render

    if convexity and not is_deep_linear(spec):
        raise SpecError(
            "layers",
            "--convexity is for deep linear networks: set every activation to 'identity'",
            spec.source,
        )
    ctx = context(spec)
    ctx["bcd"] = _bcd(spec)
    ctx["convexity"] = _convexity() if convexity else None
    body = render("beamer.tex.j2" if beamer else "article.tex.j2", **ctx)
    command = command or default_command("latex", spec.source, f"{spec.name}.tex")
    return stamp(body, "%", spec.name, spec.digest(), command)
