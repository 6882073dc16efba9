"""The LaTeX document (article or beamer) presenting a derivation as the lecture does.

`document_source` prints every formula of the derivation through the LaTeX printer, lays the
displays out for the page (lines broken to its width, slides split to its height, by
`printing.texlayout`) and hands the lines to `templates/latex/article.tex.j2` or `beamer.tex.j2`.
The templates hold words and structure only: every formula, and every symbol their prose names
(J, N, sigma', delta_j, the perceptron's update, the legend of the reasons), arrives printed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp
from sympy import MatAdd, MatMul, OneMatrix, ZeroMatrix

from .. import naming
from ..catalog import activations as activations_module
from ..catalog import optimizers
from ..catalog.activations import s as sigma_output
from ..catalog.activations import t
from ..derivation import rules
from ..derivation.derive import derive
from ..derivation.lecture import frozen_layers, perceptron_pass
from ..derivation.linear import bcd_applies, bcd_blocks, convexity_example, is_deep_linear
from ..derivation.steps import Reason
from ..errors import SpecError, SymbpError
from ..escape import tex_text
from ..graph.cells import GATES
from ..graph.nodes import Partial
from ..graph.ops import f
from ..naming import Names
from ..printing.latex import SymbpLatexPrinter, latex, legend, reason
from ..spec.model import Spec
from .convolutions import conv_sections
from .files import default_command, stamp
from .pictures import latex_pictures
from .recurrences import latex_sections as recurrence_sections
from .texlayout import Equation, Line, align_lines, chunk, line_height, reveal
from .worked import ExampleChoice, example_context, worked_example


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
_PROSE = {"network": 4.5, "activations": 6.5, "where": 3.0, "note": 2.5, "batch": 11.0, "sum": 5.0}
_PROSE |= {"update": 4.5, "defaults": 3.0}
#: sigma(t) and sigma'(t), as the activation displays and the prose write them
SIGMA_T = latex(naming.SIGMA(t))
SIGMA_PRIME = latex(naming.SIGMA) + "'"
SIGMA_PRIME_T = SIGMA_PRIME + SIGMA_T.removeprefix(latex(naming.SIGMA))


def context(spec: Spec, page: Page = ARTICLE) -> dict:
    """The template variables: every formula printed, every display as `align*` lines laid
    out for `page` (lists of frames of lines; the article has one frame per display)."""
    d = derive(spec)
    p, b = d.sample, d.batch
    network = _network_lines(spec, p, page)
    activations = _activation_lines(spec, page)
    sigma_primes = page.lines([Equation(lhs, "=", rhs) for lhs, rhs in _local_derivatives(p)])
    first_sum = _first_sum(d.chains)
    chains = [_chain(chain, p, page, chain is first_sum) for chain in d.chains]
    grads = [
        (latex(Partial(f, p.param(key))), p.gradients[key], b.gradients[key]) for key in p.gradients
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
    return {
        "frozen": _frozen(p, b, page, J == 1) if frozen else None,
        "softmax": spec.layers[-1].sigma.kind == "softmax",
        "name": tex_escape(spec.name),
        "tex": _notation(spec, p),
        "skips": _skips(p),
        "legend": legend(
            [*(step.reason for chain in d.chains for step in chain.steps), *bptt_reasons(p)]
        ),
        "network": page.frames(network, first=_PROSE["network"]),
        "batch_loss": page.lines(
            [Equation(latex(f), "=", _scaled(scale, b.data_objective / b.scale) + _decay(b))]
        ),
        "reduction": spec.reduction,
        "activations": page.frames(activations, first=_PROSE["activations"]),
        "any_of_output": any(_of_output(layer.sigma) for layer in spec.layers),
        "sigma_primes": page.frames(sigma_primes, first=_PROSE["note"]),
        "chains": chains,
        "recursion": page.frames(recursion),
        "batch_gradients": page.frames(batch_gradients, first=_PROSE["batch"]),
        "batch_recursion": page.frames(batch_recursion),
        "stacks": [_stack("Delta", "delta"), _stack("Z", "z")],
        "update": update_rule(spec, b, page),
        "convolutions": conv_sections(p, page),
        "pictures": latex_pictures(spec, slides=not math.isinf(page.height)),
        "recurrences": recurrence_sections(p, page),
    }


def chosen_optimizer(spec: Spec) -> optimizers.Optimizer:
    """The optimizer the spec's [train] table names (attribute or key "optimizer" of its
    `train`, where the spec has one), else SGD."""
    train = getattr(spec, "train", None)
    name = train.get("optimizer") if isinstance(train, dict) else getattr(train, "optimizer", None)
    return optimizers.OPTIMIZERS[name or "sgd"]


#: the lecture's all weights as one vector, its direction, and a layer's direction
FLAT, DIRECTION, LAYER_DIRECTION = r"\mathbf{w}", r"\mathbf{d}", r"\mathbf{D}_{j}"


def chosen_hyper(spec: Spec, optimizer: optimizers.Optimizer) -> dict:
    """`optimizer`'s hyper-parameters, code name -> value: the spec's [train] table's where it
    sets them (its `train.hyper` pairs, where the spec has them), else the defaults."""
    train = getattr(spec, "train", None)
    given = dict(getattr(train, "hyper", None) or ()) if train is not None else {}
    return {**optimizer.hyper, **{k: v for k, v in given.items() if k in optimizer.hyper}}


def _iterate(tex: str, shift: int = 0) -> str:
    """`tex` at update k (+ shift), as the lecture writes it: w^{(k+1)}."""
    return f"{tex}^{{({latex(optimizers.k + shift)})}}"


def _update_forms() -> list[Equation]:
    """The lecture's (u.1), all weights as one vector, and (u.2), layer by layer."""
    step = latex(naming.ALPHA)
    forms = (
        (FLAT, step, DIRECTION, "u.1"),
        (naming.generic_latex("W"), f"{step}_{{j}}", LAYER_DIRECTION, "u.2"),
    )
    return [
        Equation(_iterate(x, 1), "=", f"{_iterate(x)} - {_iterate(a)} {_iterate(d)}", tag)
        for x, a, d, tag in ((x, a, d, rf"\text{{({tag})}}") for x, a, d, tag in forms)
    ]


def _reading_order(expr, coefficients: frozenset, target=None) -> sp.Expr:
    """`expr` rebuilt unevaluated in reading order, for display (beta_1 m + (1 - beta_1) g, not
    g (1 - beta_1) + m beta_1): in a product numbers, then factors in `coefficients` (step size,
    hyper-parameters, k) alone, then symbols, then the rest; in a sum the subtracted terms last,
    before them the terms in coefficients alone (sqrt(s) + epsilon), and first those that read
    `target` (the value being assigned: s <- s + g^2)."""

    def scalar(a) -> bool:
        return a.free_symbols <= coefficients

    def rank(a) -> int:
        return 0 if a.is_Number else 1 if scalar(a) else 2 if a.is_Symbol else 3

    args = [_reading_order(a, coefficients) for a in expr.args]
    if expr.is_Add:
        if scalar(expr):  # 1 - beta_1
            args.sort(key=lambda a: (bool(a.could_extract_minus_sign()), not a.is_Number))
        else:
            args.sort(
                key=lambda a: (
                    bool(a.could_extract_minus_sign()),
                    scalar(a),
                    target is None or not a.has(target),
                )
            )
        return sp.Add(*args, evaluate=False)
    if expr.is_Mul:
        return sp.Mul(*sorted(args, key=rank), evaluate=False)
    if expr.is_Pow:
        return sp.Pow(*args, evaluate=False)
    return expr


def update_rule(spec: Spec, p, page: Page, optimizer: optimizers.Optimizer | None = None) -> dict:
    """The optimizer's update (the spec's, `chosen_optimizer`, unless given) for the section
    "Update rule", every formula printed from the registry: its assignments, entry-wise, laid
    out for `page`; its state's initial values and its hyper-parameters (`chosen_hyper`); its
    direction d (theta <- theta - alpha d); the lecture's forms (u.1) and (u.2) and the names
    the prose around them uses (the vector w in R^d, W_j, alpha_j, D_j, d)."""
    o = optimizer or chosen_optimizer(spec)
    hyper = chosen_hyper(spec, o)
    theta, named = latex(optimizers.theta), set(o.intermediates)
    coefficients = frozenset(
        {optimizers.alpha, optimizers.k, *(h.symbol for h in o.hyperparameters)}
    )
    printer = SymbpLatexPrinter({"order": "none"})  # the order `_reading_order` chose

    def shown(expr, target=None) -> str:
        return printer.doprint(_reading_order(expr, coefficients, target))

    steps = [
        Equation(latex(t), "=" if t in named else r"\leftarrow", shown(f, t)) for t, f in o.steps
    ]
    size = sp.Add(*(sp.Mul(*prm.symbol.shape) for prm in p.graph.params))
    direction = shown(o.direction)
    return {
        "name": tex_escape(o.name),
        "title": tex_escape(o.title),
        "source": _breakable(tex_escape(o.source)),
        "theta": theta,
        "gradient": rf"{latex(optimizers.g)} = \frac{{\partial {latex(f)}}}{{\partial {theta}}}",
        "step": latex(optimizers.alpha),
        "k": rf"{latex(optimizers.k)} = 1, 2, \dots",
        "steps": page.frames(page.lines(steps), first=_PROSE["update"], last=_PROSE["defaults"]),
        "state": ", ".join(latex(sp.Eq(x.symbol, sp.Rational(repr(x.initial)))) for x in o.state),
        "hyper": ", ".join(
            latex(sp.Eq(h.symbol, sp.Float(hyper[h.code]))) for h in o.hyperparameters
        ),
        "direction": rf"{theta} \leftarrow {theta} - {latex(optimizers.alpha)} d, \quad d = {direction}",
        "forms": page.lines(_update_forms()),
        "vector": rf"{FLAT} \in \mathbb{{R}}^{{{latex(size)}}}",
        "layer": naming.generic_latex("W"),
        "layer_step": rf"{latex(naming.ALPHA)}_{{j}}",
        "directions": f"{DIRECTION}, {LAYER_DIRECTION}",
        "w": FLAT,
    }


def _notation(spec: Spec, p) -> dict:
    """The notation the prose names, printed: the depth J, the widths d_j, one sample, N,
    sigma and sigma', the Hadamard product, sigma'_j and the activation outputs s stands for."""
    names = p.names
    u = sp.Symbol("u")
    index = sp.Symbol("j")
    widths = (
        latex(sp.Eq(naming.width_symbol(j), w, evaluate=False)) for j, w in enumerate(spec.widths)
    )
    outputs = {
        naming.split(op.output.name)[0]: None
        for op in p.graph.ops
        if op.kind == "activation" and _of_output(op.attr("activation"))
    }
    return {
        "depth": latex(sp.Eq(naming.J, spec.depth)),
        "widths": ", ".join(widths),
        "sample": latex(sp.Tuple(names.z(0), names.y())),
        "samples": latex(naming.N),
        "j": latex(index),
        "hadamard": SymbpLatexPrinter.HADAMARD.strip(),
        "dsig_j": naming.generic_latex("dsig"),
        "dsig_entry": latex(sp.Derivative(sp.Function(f"sigma_{index}")(u), u)),
        "sigma": latex(naming.SIGMA),
        "sigma_prime": SIGMA_PRIME,
        "output_eq": latex(sp.Eq(sigma_output, naming.SIGMA(t))),
        "sigma_outputs": [naming.generic_latex(stem) for stem in outputs],
    }


def _skips(p) -> list[dict]:
    """The residual connections, from the graph's add ops: z_j = a_j + z_k, and zeta_j, the
    named adjoint of z_j, printed for the network section."""
    out = []
    for op in p.graph.ops:
        if op.kind != "add":
            continue
        activation, skip = op.inputs
        zeta = p.graph.named.get(op.output)
        out.append(
            {
                "layer": op.layer,
                "output": latex(op.output),
                "activation": latex(activation),
                "skip": latex(skip),
                "adjoint": rf"{latex(zeta)} \triangleq {latex(Partial(f, op.output))}"
                if zeta is not None
                else None,
            }
        )
    return out


def _zero_adjoints(p) -> dict:
    """The adjoints and sigma' a zero sigma' (the step) makes zero, each mapped to its zero:
    the pass's definitions evaluated in order with the zeros substituted."""
    zeros = {}
    for lhs, rhs in p.backward:
        if _is_zero(rhs.xreplace(zeros).doit()):
            zeros[lhs] = ZeroMatrix(*lhs.shape)
    return zeros


def _is_zero(expr) -> bool:
    return expr == 0 or getattr(expr, "is_ZeroMatrix", False)


def _frozen(p, b, page: Page, single_layer: bool) -> dict:
    """What a zero sigma' does, from the derivation: the adjoints it makes zero, the parameters
    whose gradients vanish, and, for one layer, Rosenblatt's rule (`_perceptron`)."""
    zeros = _zero_adjoints(p)
    named = set(p.graph.named.values())
    frozen = [p.param(key) for key, g in p.gradients.items() if _is_zero(g.xreplace(zeros).doit())]
    zero_sigma = [lhs for lhs, rhs in p.sigma_primes if lhs in zeros]
    return {
        "zeros": page.lines(
            [Equation(latex(lhs), "=", latex(zero)) for lhs, zero in zeros.items() if lhs in named]
        ),
        "params": ", ".join(latex(param) for param in frozen),
        "replaced": [(latex(lhs), latex(OneMatrix(*lhs.shape))) for lhs in zero_sigma],
        "perceptron": _perceptron(p, b, page) if single_layer else None,
    }


def perceptron_updates(batch) -> list[tuple]:
    """Rosenblatt's rule as gradient steps on the batch, as `emit` trains it: for each parameter
    P, (P, P - alpha dP with the rule's adjoints substituted, the same expanded), where dP is
    the batch gradient of `lecture.perceptron_pass` (so the 1/N of a mean is in it)."""
    rule = perceptron_pass(batch)
    adjoints = dict(rule.adjoints)
    out = []
    for key, gradient in rule.gradients.items():
        param = rule.param(key)
        step = (param - naming.ALPHA * gradient).xreplace(adjoints).doit()
        out.append((param, step, step.expand().doit()))
    return out


def _scaled(scale: str, body) -> str:
    """``scale body`` with a leading minus of the body in front: -c 1^T(...), not c -1^T(...)."""
    shown = latex(body)
    return f"-{scale}{shown[1:].lstrip()}" if shown.startswith("-") else scale + shown


def _network_lines(spec: Spec, p, page: Page) -> list[Line]:
    """The layer equations (e.j), tagged with each layer's activation, and the loss (L)."""
    equations = []
    for value, rhs, op in p.graph.equations()[:-1]:
        tag = rf"\text{{(e.{op.layer})}}"
        sigma = op.attr("activation")
        if sigma is not None:
            tag += rf", \quad \sigma_{{{op.layer}}} = \text{{{tex_escape(sigma.name)}}}"
        equations.append(Equation(latex(value), "=", latex(rhs), tag))
    f_rhs = latex(p.data_objective) + _decay(p)
    return page.lines([*equations, Equation("f", "=", f_rhs, r"\text{(L)}")])


def _decay(p) -> str:
    """The weight-decay terms of f, each `` + lambda ||W_j||_F^2``, in layer order."""
    return "".join(f" + {latex(op.equation)}" for op in p.graph.penalties)


def bptt_reasons(p) -> list[Reason]:
    """The reasons the BPTT section's displays use (its `=` labels: MCR, CR, BPTT)."""
    from .recurrences import sections

    kinds = [x.reason for sec in sections(p) for x in sec.recursion if x.reason]
    kinds += ["time"] * any(sec.sums for sec in sections(p))
    return [Reason(kind) for kind in dict.fromkeys(kinds)]


def where_reason(chain, p):
    """The reason that introduced the last named adjoint of `chain` (its ``where`` line defines
    that adjoint), else the chain's last reason."""
    defined = dict(p.adjoints)
    return next(
        (st.reason for st in reversed(chain.steps) if st.reason.symbol in defined),
        chain.steps[-1].reason,
    )


def _chain(chain, p, page: Page, first_sum: bool) -> dict:
    """One chain of equalities, split over frames so that its `where delta = ...` (and, at the
    first sum of adjoints, the sentence on it) fits after."""
    defined = dict(p.adjoints)
    final = where_reason(chain, p)
    lhs = latex(Partial(f, chain.target))
    steps = [
        Equation("", rf"\overset{{{reason(st.reason)}}}{{=}}", latex(st.rhs)) for st in chain.steps
    ]
    lines = page.lines([Equation(lhs, "", ""), *steps])
    where = page.lines([Equation(latex(final.symbol), r"\triangleq", latex(defined[final.symbol]))])
    notes = [tex_escape(st.reason.note) for st in chain.steps if st.reason.note]
    total = _sum_note(chain, p, page) if first_sum else None
    after = _PROSE["where"] + page.height_of(where) + _PROSE["note"] * len(notes)
    if total:
        after += _PROSE["sum"] + page.height_of(total["lines"])
    return {
        "title": f"Layer {final.layer}: ${lhs}$",
        "frames": page.frames(lines, last=after),
        "reveal": "",  # with overlays, the command that uncovers what follows the chain
        "where": where,
        "notes": notes,
        "sum": total,
    }


def _first_sum(chains):
    """The first chain with a sum of adjoints (the multivariate chain rule), or None."""
    return next((c for c in chains if any(st.reason.kind == "sum" for st in c.steps)), None)


def _sum_note(chain, p, page: Page) -> dict:
    """The first sum in `chain`, spelt out: the value, the ops it feeds, its adjoint as the sum."""
    value = next(st.reason.symbol for st in chain.steps if st.reason.kind == "sum")
    consumers = [p.graph.inline(op.equation) for op in p.graph.consumers(value)]
    total = MatAdd(*p.contributions[value])
    return {
        "label": reason(next(st.reason for st in chain.steps if st.reason.kind == "sum")),
        "value": latex(value),
        "consumers": [latex(c) for c in consumers],
        "lines": page.lines([Equation(latex(Partial(f, value)), "=", latex(total))]),
    }


def _breakable(escaped: str) -> str:
    r"""An escaped identifier that may break after each ``\_`` (a long name in a title)."""
    return escaped.replace(r"\_", r"\_\allowbreak{}")


def _of_output(act) -> bool:
    return act.elementwise and activations_module.derivative(act).of_output


def _activation_lines(spec: Spec, page: Page) -> list[Line]:
    """sigma(t) and sigma'(t) of each distinct entry-wise activation, one per line."""
    equations = []
    used = [layer.sigma for layer in spec.layers if layer.sigma.elementwise]
    for layer in spec.layers:  # a gated cell's sigmoid and tanh
        used += [activations_module.ACTIVATIONS[a] for _, a in GATES.get(layer.kind, ())]
    for act in dict.fromkeys(used):
        deriv = activations_module.derivative(act)
        raw, simplified = latex(deriv.raw), latex(deriv.expr)
        same = sp.simplify(deriv.raw - deriv.expr) == 0 and deriv.raw == deriv.expr
        shown = raw if same else f"{raw} = {simplified}"
        equations += [
            Equation(SIGMA_T, "=", latex(act.expr), rf"\text{{({tex_escape(act.name)})}}"),
            Equation(SIGMA_PRIME_T, "=", shown),
        ]
    return page.lines(equations)


def _local_derivatives(p) -> list[tuple[str, str]]:
    """Each op's local derivative as its rule states it: sigma'_j, or softmax's Jacobian."""
    shown = (rules.local(op) for op in p.graph.ops)
    return [(latex(lhs), latex(rhs)) for lhs, rhs in filter(None, shown)]


def _perceptron(p, b, page: Page) -> dict:
    """Rosenblatt's rule for one sample (its delta and directions) and its update on a batch."""
    rule = perceptron_pass(p)
    delta_lhs, delta_rhs = rule.adjoints[0]
    directions = [Equation(latex(delta_lhs), "=", latex(delta_rhs))] + [
        Equation(rf"\Delta_{{\text{{rule}}}} {latex(Partial(f, p.param(k)))}", "=", latex(g))
        for k, g in rule.gradients.items()
    ]
    updates = [
        Equation(latex(param), r"\leftarrow", f"{latex(step)} = {latex(expanded)}")
        for param, step, expanded in perceptron_updates(b)
    ]
    return {
        "directions": page.lines(directions),
        "updates": page.lines(updates),
        "step_size": latex(naming.ALPHA),
        "batch": latex(sp.Tuple(b.names.z(0), b.names.y())),
    }


def _stack(batch_stem: str, sample_stem: str) -> str:
    """Batch matrix = [per-sample columns], e.g. Delta_j = [delta_j^(1), ..., delta_j^(N)]."""
    big, small = naming.latex_name(batch_stem), naming.latex_name(sample_stem)
    return rf"{big}_{{j}} = \left[{small}_{{j}}^{{(1)}}, \dots, {small}_{{j}}^{{(N)}}\right]"


def _bcd(spec: Spec, page: Page) -> list[dict]:
    if not bcd_applies(spec):
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
        shown_p = f"{p_tex} = {shown_p}"
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
    x, y = (v for v in ex.point if v not in ex.variables)
    objective = sp.Function(latex(f))
    point = ", ".join(latex(sp.Eq(k, v)) for k, v in ex.point.items())
    a, b, fa, fb, fmid = ex.chord
    chord = ((a, fa), (b, fb), ((0, 0), fmid))
    return {
        "f": latex(sp.Eq(objective(w1, w2), ex.f)),
        "name": latex(f),
        "input": latex(x),
        "target": latex(y),
        "hessian": page.lines([Equation(r"\nabla^2 f", "=", latex(ex.hessian))]),
        "point": point,
        "gradient": latex(sp.Tuple(*ex.gradient_at_point)),
        "at": page.lines([Equation(r"\nabla^2 f", "=", latex(ex.hessian_at_point))]),
        "eigenvalues": ", ".join(latex(e) for e in ex.eigenvalues),
        "chord": r",\ ".join(latex(sp.Eq(objective(*at), value)) for at, value in chord),
        "vars": latex(sp.Tuple(w1, w2)),
    }


def _overlay(ctx: dict, spec: Spec) -> None:
    """Beamer overlays in `ctx`: each chain's equalities one slide at a time, its `where` on
    the slide after the last (`reveal`, the command that uncovers it); the general recursion
    one layer at a time (an adjoint per slide, then each layer's gradients together)."""
    for c in ctx["chains"]:
        frames = reveal(c["frames"])
        c["frames"] = [lines for lines, _ in frames]
        c["reveal"] = rf"\onslide<{frames[-1][1] + 1}->"
    p = derive(spec).sample
    layers = [("adjoint", naming.split(lhs.name)[1]) for lhs, _ in p.adjoints]
    layers += [("gradient", naming.split(key)[1]) for key in p.gradients]
    ctx["recursion"] = [lines for lines, _ in reveal(ctx["recursion"], layers)]


def document_source(
    spec: Spec,
    beamer: bool = False,
    command: str | None = None,
    convexity: bool = False,
    overlays: bool = False,
    example: ExampleChoice | bool = True,
) -> str:
    """A standalone LaTeX document (article, or beamer slides) with a stamped header.
    `convexity` adds the lecture's two-layer example of non-convexity (deep linear specs).
    `overlays` (slides only) reveals each chain one equality at a time and the general
    recursion one layer at a time.  `example` adds the worked example with numbers
    (`output.worked`): True for the default choice (seed 0), an `ExampleChoice`, or False."""
    from .render import render

    if convexity and not is_deep_linear(spec):
        raise SpecError(
            "layers",
            "--convexity is for deep linear networks: set every activation to 'identity' "
            "and remove skip_from",
            spec.source,
        )
    if overlays and not beamer:
        raise SymbpError("--overlays is for slides: add --beamer")
    page = SLIDES if beamer else ARTICLE
    ctx = context(spec, page)
    if overlays:
        _overlay(ctx, spec)
    choice = ExampleChoice() if example is True else example or None
    ctx["example"] = (
        example_context(worked_example(spec, choice), page, _reading_order) if choice else None
    )
    ctx["name"] = _breakable(ctx["name"])
    ctx["bcd"] = _bcd(spec, page)
    ctx["convexity"] = _convexity(page) if convexity else None
    body = render("latex/beamer.tex.j2" if beamer else "latex/article.tex.j2", **ctx)
    command = command or default_command("latex", spec.source, f"{spec.name}.tex")
    return stamp(body, "%", spec.name, spec.digest(), command)
