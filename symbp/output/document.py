"""The LaTeX document (article or beamer) presenting a derivation as the lecture does.

`document_source` prints every formula of the derivation through the LaTeX printer, lays the
displays out for the page (lines broken to its width, slides split to its height, by
`printing.texlayout`) and hands the lines to `templates/latex/article.tex.j2` or `beamer.tex.j2`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp
from sympy import MatAdd, MatMul

from .. import naming
from ..catalog import activations as activations_module
from ..derivation import rules
from ..derivation.derive import derive, f
from ..derivation.lecture import frozen_layers, perceptron_pass
from ..derivation.linear import bcd_blocks, convexity_example, is_deep_linear
from ..errors import SpecError
from ..escape import tex_text
from ..graph.nodes import Partial
from ..naming import Names
from ..printing.latex import latex, reason
from ..spec.model import Spec
from .files import default_command, stamp
from .texlayout import Equation, Line, align_lines, chunk, line_height


def tex_escape(text: str) -> str:
    """`text` for LaTeX text mode, shown literally (see `escape.tex_text`)."""
    return tex_text(text)


@dataclass(frozen=True)
class Page:
    """Room for displays, in em of the font they are set in: `width` of a line (with a margin
    for the estimate), `height` of a frame's body (infinite: the article breaks pages itself)."""

    width: float
    height: float
    scale: float = 1.0

    def lines(self, equations: list[Equation]) -> list[Line]:
        return align_lines(equations, self.width, self.scale)

    def frames(self, lines: list[Line], first: float = 0.0, last: float = 0.0) -> list[list[Line]]:
        """`lines` split over frames; `first`/`last` em are taken by text before/after them."""
        if math.isinf(self.height):
            return [lines]
        return chunk(lines, self.height, self.scale, first=first, last=last)

    def height_of(self, lines: list[Line]) -> float:
        return sum(line_height(line, self.scale) for line in lines)


# Article: 360 pt text width at 10.95 pt; slides: 307 pt at 10 pt (\small) with about 228 pt
# under a frame title.  Both keep a margin for the estimate's error (8 % of the width).
ARTICLE = Page(width=0.92 * 360 / 10.95, height=math.inf)
SLIDES = Page(width=0.92 * 307 / 10, height=21.0)
# Em of prose and display skips the templates put in a frame around its displays.
_PROSE = {"network": 4.5, "activations": 6.5, "where": 3.0, "note": 2.5, "batch": 11.0}


def _width(w) -> str:
    return latex(w) if not isinstance(w, int) else str(w)


def context(spec: Spec, page: Page = ARTICLE) -> dict:
    """The template variables: every formula printed, every display as `align*` lines laid
    out for `page` (lists of frames of lines; the article has one frame per display)."""
    d = derive(spec)
    p, b = d.sample, d.batch
    names = p.names
    network = _network_lines(spec, p, page)
    activations = _activation_lines(spec, page)
    sigma_primes = page.lines([Equation(lhs, "=", rhs) for lhs, rhs in _local_derivatives(p)])
    chains = [_chain(chain, dict(p.adjoints), page) for chain in d.chains]
    grads = [
        (latex(Partial(f, names.param(key))), p.gradients[key], b.gradients[key])
        for key in p.gradients
    ]
    scale = latex(b.scale) + " " if b.scale != 1 else ""
    recursion = page.lines(
        [Equation(latex(lhs), "=", latex(rhs)) for lhs, rhs in p.adjoints]
        + [Equation(lhs, "=", latex(g)) for lhs, g, _ in grads]
    )
    batch_gradients = page.lines(
        [
            Equation(lhs, "=", rf"{scale}\sum_{{i=1}}^{{N}} {latex(g, sample='i')} = {latex(gb)}")
            for lhs, g, gb in grads
        ]
    )
    batch_recursion = page.lines(
        [Equation(latex(lhs), "=", latex(rhs)) for lhs, rhs in (*b.adjoints, *b.sigma_primes)]
    )
    J, frozen = spec.depth, frozen_layers(spec)
    rule = perceptron_pass(p) if frozen and J == 1 else None
    return {
        "frozen": frozen,
        "softmax": spec.layers[-1].sigma.kind == "softmax",
        "perceptron": _perceptron(rule, names, page) if rule else None,
        "name": tex_escape(spec.name),
        "depth": J,
        "widths": ", ".join(f"d_{{{j}}} = {_width(w)}" for j, w in enumerate(spec.widths)),
        "network": page.frames(network, first=_PROSE["network"]),
        "batch_loss": page.lines([Equation("f", "=", scale + latex(b.objective / b.scale))]),
        "reduction": spec.reduction,
        "activations": page.frames(activations, first=_PROSE["activations"]),
        "any_of_output": any(_of_output(layer.sigma) for layer in spec.layers),
        "sigma_primes": page.frames(sigma_primes, first=_PROSE["note"]),
        "chains": chains,
        "recursion": page.frames(recursion),
        "batch_gradients": page.frames(batch_gradients, first=_PROSE["batch"]),
        "batch_recursion": page.frames(batch_recursion),
        "stacks": [_stack("Delta", "delta"), _stack("Z", "z")],
    }


def _network_lines(spec: Spec, p, page: Page) -> list[Line]:
    """The layer equations (e.j), tagged with each layer's activation, and the loss (L)."""
    equations = []
    for value, rhs, op in p.graph.equations()[:-1]:
        tag = rf"\text{{(e.{op.layer})}}"
        sigma = op.attr("activation")
        if sigma is not None:
            tag += rf", \quad \sigma_{{{op.layer}}} = \text{{{tex_escape(sigma.name)}}}"
        equations.append(Equation(latex(value), "=", latex(rhs), tag))
    return page.lines([*equations, Equation("f", "=", latex(p.objective), r"\text{(L)}")])


def _chain(chain, adjoints: dict, page: Page) -> dict:
    """One chain of equalities, split over frames so that its `where delta = ...` fits after."""
    final = chain.steps[-1].reason
    lhs = latex(Partial(f, chain.target))
    steps = [
        Equation("", rf"\overset{{{reason(st.reason)}}}{{=}}", latex(st.rhs)) for st in chain.steps
    ]
    lines = page.lines([Equation(lhs, "", ""), *steps])
    where = page.lines(
        [Equation(latex(final.symbol), r"\triangleq", latex(adjoints[final.symbol]))]
    )
    notes = [tex_escape(st.reason.note) for st in chain.steps if st.reason.note]
    after = _PROSE["where"] + page.height_of(where) + _PROSE["note"] * len(notes)
    return {
        "title": f"Layer {final.layer}: ${lhs}$",
        "frames": page.frames(lines, last=after),
        "where": where,
        "notes": notes,
    }


def _breakable(escaped: str) -> str:
    r"""An escaped identifier that may break after each ``\_`` (a long name in a title)."""
    return escaped.replace(r"\_", r"\_\allowbreak{}")


def _of_output(act) -> bool:
    return act.elementwise and activations_module.derivative(act).of_output


def _activation_lines(spec: Spec, page: Page) -> list[Line]:
    """sigma(t) and sigma'(t) of each distinct entry-wise activation, one per line."""
    equations = []
    for act in dict.fromkeys(layer.sigma for layer in spec.layers if layer.sigma.elementwise):
        deriv = activations_module.derivative(act)
        raw, simplified = latex(deriv.raw), latex(deriv.expr)
        same = sp.simplify(deriv.raw - deriv.expr) == 0 and deriv.raw == deriv.expr
        shown = raw if same else f"{raw} = {simplified}"
        equations += [
            Equation(r"\sigma(t)", "=", latex(act.expr), rf"\text{{({tex_escape(act.name)})}}"),
            Equation(r"\sigma'(t)", "=", shown),
        ]
    return page.lines(equations)


def _local_derivatives(p) -> list[tuple[str, str]]:
    """Each op's local derivative as its rule states it: sigma'_j, or softmax's Jacobian."""
    shown = (rules.local(op) for op in p.graph.ops)
    return [(latex(lhs), latex(rhs)) for lhs, rhs in filter(None, shown)]


def _perceptron(rule, names: Names, page: Page) -> list[Line]:
    delta_lhs, delta_rhs = rule.adjoints[0]
    return page.lines(
        [Equation(latex(delta_lhs), "=", latex(delta_rhs))]
        + [
            Equation(
                rf"\Delta_{{\text{{rule}}}} {latex(Partial(f, names.param(k)))}", "=", latex(g)
            )
            for k, g in rule.gradients.items()
        ]
    )


def _stack(batch_stem: str, sample_stem: str) -> str:
    """Batch matrix = [per-sample columns], e.g. Delta_j = [delta_j^(1), ..., delta_j^(N)]."""
    big, small = naming.latex_name(batch_stem), naming.latex_name(sample_stem)
    return rf"{big}_{{j}} = \left[{small}_{{j}}^{{(1)}}, \dots, {small}_{{j}}^{{(N)}}\right]"


def _bcd(spec: Spec, page: Page) -> list[dict]:
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
        p_tex = latex(P)
        out.append(
            {
                "layer": block.layer,
                "P": shown_p,
                "output": page.lines([Equation(latex(names.z(spec.depth)), "=", latex(output))]),
                "gradient": page.lines(
                    [Equation(latex(Partial(f, P)), r"\propto", latex(block.gradient.doit()))]
                ),
                "normal": page.lines(
                    [
                        Equation(
                            latex(block.normal_lhs.doit()), "=", latex(block.normal_rhs.doit())
                        ),
                        Equation(p_tex, "=", latex(block.solution)),
                    ]
                ),
            }
        )
    return out


def _convexity(page: Page) -> dict:
    ex = convexity_example()
    w1, w2 = ex.variables
    point = ", ".join(f"{latex(k)} = {v}" for k, v in ex.point.items())
    a, b, fa, fb, fmid = ex.chord
    eigen = ", ".join(str(e) for e in ex.eigenvalues)
    return {
        "f": latex(ex.f),
        "hessian": page.lines([Equation(r"\nabla^2 f", "=", latex(ex.hessian))]),
        "point": point,
        "gradient": ", ".join(str(g) for g in ex.gradient_at_point),
        "at": page.lines([Equation(r"\nabla^2 f", "=", latex(ex.hessian_at_point))]),
        "eigenvalues": eigen,
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
    page = SLIDES if beamer else ARTICLE
    ctx = context(spec, page)
    ctx["name"] = _breakable(ctx["name"])
    ctx["bcd"] = _bcd(spec, page)
    ctx["convexity"] = _convexity(page) if convexity else None
    body = render("latex/beamer.tex.j2" if beamer else "latex/article.tex.j2", **ctx)
    command = command or default_command("latex", spec.source, f"{spec.name}.tex")
    return stamp(body, "%", spec.name, spec.digest(), command)
