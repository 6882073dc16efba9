"""The web page: the article's content as one self-contained HTML file, mathematics as MathML.

`page_source` prints every formula of the derivation through the MathML printer
(`printing.mathml`) and hands the pieces to `templates/html/page.html.j2`, which the renderer
fills with autoescaping on: a printed fragment arrives as `Markup` (the printer escapes every text
node it writes), every other string (the spec's name, activation names, notes) is escaped by the
template.  The page has no script, no style sheet, font or image fetched from anywhere; its
`pictures` are inline SVG (title, markup) pairs drawn by `output.pictures`.

The sections follow the article (`output.document`): the network, convolutions as matrices,
the activation derivatives, each layer's chain with its reasons, the general case, the batch
form, the update rule, and for deep linear networks block-coordinate descent (and, with
`convexity`, the lecture's non-convexity example).
"""

from __future__ import annotations

import html

import sympy as sp
from markupsafe import Markup  # jinja2's own escaping type: fragments the printer escaped
from sympy import MatAdd, MatMul, OneMatrix

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
from ..errors import SpecError
from ..graph.convolution import Conv, ConvTranspose, Geometry
from ..graph.nodes import ElementSum, Partial
from ..graph.ops import f
from ..naming import Names, step_symbol
from ..printing import mathml as mm
from ..printing.latex import _MEANINGS
from ..spec.model import Spec
from .convolutions import MAX_ENTRIES, MAX_MATRIX, _entry, _kernel_gradients, _kernel_symbols
from .document import (
    _first_sum,
    _is_zero,
    _of_output,
    _reading_order,
    _zero_adjoints,
    bptt_reasons,
    chosen_hyper,
    chosen_optimizer,
    perceptron_updates,
    where_reason,
)
from .files import default_command, seal, stamp
from .pictures import svg_pictures
from .recurrences import ARTICLES as RECURRENCE_ARTICLES
from .recurrences import TITLES as RECURRENCE_TITLES
from .recurrences import sections as bptt_sections
from .worked import DIGITS, RULE, decimal, is_short, worked_example

EQ, DEF, ARROW = mm.mo("="), mm.mo("≜"), mm.mo("←")


def m(expr, sample: str | None = None) -> Markup:
    """`expr` printed as a MathML fragment, trusted by the template."""
    return Markup(mm.mathml(expr, sample=sample))


def row(lhs, rel=EQ, rhs="", tag="") -> dict:
    """One line of a display: left side, relation, right side, tag (MathML fragments)."""
    return {"lhs": Markup(lhs), "rel": Markup(rel), "rhs": Markup(rhs), "tag": Markup(tag)}


def seq(*parts) -> Markup:
    """MathML fragments side by side in one ``<mrow>``."""
    return Markup("<mrow>" + "".join(str(p) for p in parts) + "</mrow>")


def _pictures(spec: Spec) -> list[tuple[str, Markup]]:
    """(caption, inline <svg>) of the network and of its computational graph, drawn by
    `output.pictures` (labels XML-escaped there)."""
    drawn = svg_pictures(spec)
    inline = {  # in HTML the parser puts <svg> in its namespace: no namespace URL in the page
        key: drawn[key].replace(' xmlns="http://www.w3.org/2000/svg"', "", 1)
        for key in ("network", "graph")
    }
    return [
        ("The network", Markup(inline["network"])),
        (
            "The computational graph: the forward ops, and the adjoints flowing back",
            Markup(inline["graph"]),
        ),
    ]


def context(spec: Spec, convexity: bool = False) -> dict:
    """The template variables: every formula printed as MathML, every display a list of rows."""
    d = derive(spec)
    p, b = d.sample, d.batch
    first_sum = _first_sum(d.chains)
    grads = [
        (m(Partial(f, p.param(key))), p.gradients[key], b.gradients[key]) for key in p.gradients
    ]
    scale = m(b.scale) if b.scale != 1 else ""
    sum_i = Markup(
        "<munderover><mo>∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mi>N</mi></munderover>"
    )
    return {
        "name": spec.name,
        "pictures": _pictures(spec),
        "tex": _notation(spec, p),
        "network": _network_rows(p),
        "skips": _skips(p),
        "convolutions": [_conv_section(p, op) for op in p.graph.ops if op.kind == "conv"],
        "recurrences": _recurrence_sections(p),
        "example": _worked(spec),
        "activations": _activation_rows(spec),
        "any_of_output": any(_of_output(layer.sigma) for layer in spec.layers),
        "softmax": spec.layers[-1].sigma.kind == "softmax",
        "sigma_primes": [row(m(lhs), EQ, m(rhs)) for lhs, rhs in _local_derivatives(p)],
        "frozen": _frozen(p, b, spec.depth == 1) if frozen_layers(spec) else None,
        "legend": _legend(
            [*(step.reason for chain in d.chains for step in chain.steps), *bptt_reasons(p)]
        ),
        "chains": [_chain(chain, p, chain is first_sum) for chain in d.chains],
        "recursion": [row(m(lhs), EQ, m(rhs)) for lhs, rhs in p.adjoints]
        + [row(lhs, EQ, m(g)) for lhs, g, _ in grads],
        "batch_loss": [row(m(f), EQ, _scaled(scale, b.data_objective / b.scale, b))],
        "reduction": spec.reduction,
        "stacks": [_stack("Delta", "delta"), _stack("Z", "z")],
        "batch_gradients": [
            row(lhs, EQ, seq(scale, sum_i, m(g, sample="i"), EQ, m(gb))) for lhs, g, gb in grads
        ],
        "batch_recursion": [row(m(lhs), EQ, m(rhs)) for lhs, rhs in (*b.adjoints, *b.sigma_primes)],
        "update": _update(spec, b),
        "bcd": _bcd(spec),
        "convexity": _convexity() if convexity else None,
    }


def _notation(spec: Spec, p) -> dict:
    """The notation the prose names (see `document._notation`)."""
    u, index = sp.Symbol("u"), sp.Symbol("j")
    outputs = {
        naming.split(op.output.name)[0]: None
        for op in p.graph.ops
        if op.kind == "activation" and _of_output(op.attr("activation"))
    }
    widths = (sp.Eq(naming.width_symbol(j), w, evaluate=False) for j, w in enumerate(spec.widths))
    return {
        "depth": m(sp.Eq(naming.J, spec.depth)),
        "widths": Markup(mm.mo(",")).join(m(w) for w in widths),
        "sample": m(sp.Tuple(p.names.z(0), p.names.y())),
        "samples": m(naming.N),
        "j": m(index),
        "hadamard": Markup(mm.mo(mm.HADAMARD)),
        "dsig_j": Markup(mm.generic("dsig")),
        "dsig_entry": m(sp.Derivative(sp.Function(f"sigma_{index}")(u), u)),
        "sigma": m(sp.Symbol("sigma")),
        "sigma_prime": seq(m(sp.Symbol("sigma")), mm.mo(mm.PRIME)),
        "output_eq": m(sp.Eq(sigma_output, naming.SIGMA(t))),
        "sigma_outputs": [Markup(mm.generic(stem)) for stem in outputs],
    }


def _network_rows(p) -> list[dict]:
    """The layer equations (e.j), each tagged with its layer's activation, and the loss (L)."""
    rows = []
    for value, rhs, op in p.graph.equations()[:-1]:
        tag = mm.mtext(f"(e.{op.layer})")
        sigma = op.attr("activation")
        if sigma is not None:
            named = seq(m(sp.Symbol(f"sigma_{op.layer}")), EQ, mm.mtext(sigma.name))
            tag = seq(tag, mm.mo(","), Markup('<mspace width="0.5em"/>'), named)
        rows.append(row(m(value), EQ, m(rhs), tag))
    decay = [seq(mm.mo("+"), m(op.equation)) for op in p.graph.penalties]
    rows.append(row(m(f), EQ, seq(m(p.data_objective), *decay), mm.mtext("(L)")))
    return rows


def _scaled(scale, body, b) -> Markup:
    """``scale body`` and the weight-decay terms, a leading minus of the body moved in front."""
    shown = str(m(body))
    decay = [seq(mm.mo("+"), m(op.equation)) for op in b.graph.penalties]
    minus = f"<mrow>{mm.mo(mm.MINUS)}"
    if scale and shown.startswith(minus):
        return seq(mm.mo(mm.MINUS), scale, "<mrow>" + shown[len(minus) :], *decay)
    return seq(scale, shown, *decay)


def _skips(p) -> list[dict]:
    """The residual connections z_j = a_j + z_k, and zeta_j where it names z_j's adjoint."""
    out = []
    for op in p.graph.ops:
        if op.kind != "add":
            continue
        activation, skip = op.inputs
        zeta = p.graph.named.get(op.output)
        adjoint = seq(m(zeta), DEF, m(Partial(f, op.output))) if zeta is not None else None
        out.append(
            {
                "layer": op.layer,
                "output": m(op.output),
                "activation": m(activation),
                "skip": m(skip),
                "adjoint": adjoint,
            }
        )
    return out


def _activation_rows(spec: Spec) -> list[dict]:
    """sigma(t) and sigma'(t) of each distinct entry-wise activation, raw and simplified."""
    rows = []
    sigma_t = m(naming.SIGMA(t))
    prime_t = seq(m(sp.Symbol("sigma")), mm.mo(mm.PRIME), m(sp.Tuple(t)))
    for act in dict.fromkeys(layer.sigma for layer in spec.layers if layer.sigma.elementwise):
        deriv = activations_module.derivative(act)
        same = sp.simplify(deriv.raw - deriv.expr) == 0 and deriv.raw == deriv.expr
        shown = m(deriv.raw) if same else seq(m(deriv.raw), EQ, m(deriv.expr))
        rows.append(row(sigma_t, EQ, m(act.expr), mm.mtext(f"({act.name})")))
        rows.append(row(prime_t, EQ, shown))
    return rows


def _local_derivatives(p) -> list[tuple]:
    """Each op's local derivative as its rule states it: sigma'_j, or softmax's Jacobian."""
    return [shown for shown in (rules.local(op) for op in p.graph.ops) if shown]


def _legend(reasons) -> list[dict]:
    """Each kind of label over an ``=``, in order of first use: its labels and their meaning
    (the words of `printing.latex.legend`)."""
    labels: dict[str, dict[str, int]] = {}
    for r in reasons:
        labels.setdefault(r.kind, {}).setdefault(mm.reason(r), r.layer or 0)
    out = []
    for kind, found in labels.items():
        order = sorted(found, key=found.get) if kind == "layer" else list(found)
        meaning = _MEANINGS[kind][len(order) > 1]
        if kind == "decay":
            meaning = _decay_meaning()
        out.append({"labels": [Markup(label) for label in order], "meaning": meaning})
    return out


def _decay_meaning() -> Markup:
    W, lam = sp.MatrixSymbol("W", 2, 2), naming.decay(None)
    penalty = sp.HadamardPower(W, 2)
    return Markup(
        "the chain rule on the loss term, plus the gradient <math>{}</math> of the weight decay "
        "<math>{}</math>"
    ).format(m(2 * lam * W), seq(m(lam), m(ElementSum(penalty))))


def _chain(chain, p, first_sum: bool) -> dict:
    """One chain of equalities, each ``=`` with its reason, then ``where delta = ...``."""
    final = where_reason(chain, p)
    lhs = m(Partial(f, chain.target))
    rows = [
        row(lhs if i == 0 else "", mm.over(mm.mo("="), mm.reason(st.reason)), m(st.rhs))
        for i, st in enumerate(chain.steps)
    ]
    return {
        "layer": final.layer,
        "lhs": lhs,
        "rows": rows,
        "where": [row(m(final.symbol), DEF, m(dict(p.adjoints)[final.symbol]))],
        "notes": [st.reason.note for st in chain.steps if st.reason.note],
        "sum": _sum_note(chain, p) if first_sum else None,
    }


def _sum_note(chain, p) -> dict:
    """The first sum in `chain`: the value, the ops it feeds, its adjoint as the sum."""
    r = next(st.reason for st in chain.steps if st.reason.kind == "sum")
    consumers = [p.graph.inline(op.equation) for op in p.graph.consumers(r.symbol)]
    return {
        "label": Markup(mm.reason(r)),
        "value": m(r.symbol),
        "consumers": [m(c) for c in consumers],
        "rows": [row(m(Partial(f, r.symbol)), EQ, m(MatAdd(*p.contributions[r.symbol])))],
    }


def _stack(batch_stem: str, sample_stem: str) -> Markup:
    """Delta_j = [delta_j^(1), ..., delta_j^(N)]: the samples as columns."""
    first, last = mm.generic(sample_stem, sample="1"), mm.generic(sample_stem, sample="N")
    columns = f"{mm.mo('[')}{first}{mm.mo(',')}{mm.mo('…')}{mm.mo(',')}{last}{mm.mo(']')}"
    return seq(mm.generic(batch_stem), EQ, columns)


def _frozen(p, b, single_layer: bool) -> dict:
    """What a zero sigma' (the step) does: the adjoints it zeroes, the parameters it freezes,
    and for one layer Rosenblatt's rule."""
    zeros = _zero_adjoints(p)
    named = set(p.graph.named.values())
    frozen = [p.param(k) for k, g in p.gradients.items() if _is_zero(g.xreplace(zeros).doit())]
    zero_sigma = [lhs for lhs, _ in p.sigma_primes if lhs in zeros]
    return {
        "zeros": [row(m(lhs), EQ, m(zero)) for lhs, zero in zeros.items() if lhs in named],
        "params": Markup(mm.mo(",")).join(m(param) for param in frozen),
        "replaced": [(m(lhs), m(OneMatrix(*lhs.shape))) for lhs in zero_sigma],
        "perceptron": _perceptron(p, b) if single_layer else None,
    }


def _perceptron(p, b) -> dict:
    rule = perceptron_pass(p)
    delta_lhs, delta_rhs = rule.adjoints[0]
    directions = [row(m(delta_lhs), EQ, m(delta_rhs))] + [
        row(
            seq(
                mm.mtext("Δ"),
                Markup("<msub><mi/><mtext>rule</mtext></msub>"),
                m(Partial(f, p.param(k))),
            ),
            EQ,
            m(g),
        )
        for k, g in rule.gradients.items()
    ]
    updates = [
        row(m(param), ARROW, seq(m(step), EQ, m(expanded)))
        for param, step, expanded in perceptron_updates(b)
    ]
    return {
        "directions": directions,
        "updates": updates,
        "step_size": m(naming.ALPHA),
        "batch": m(sp.Tuple(b.names.z(0), b.names.y())),
    }


def _iterate(x, shift: int = 0) -> Markup:
    """`x` (a fragment) at update k (+ shift): w^{(k+1)}."""
    k = m(optimizers.k + shift)
    return Markup(f"<msup>{x}<mrow>{mm.mo('(')}{k}{mm.mo(')')}</mrow></msup>")


def _update(spec: Spec, p) -> dict:
    """The optimizer's update, its state, hyper-parameters and direction, and the lecture's
    forms (u.1) and (u.2) (see `document.update_rule`)."""
    o = chosen_optimizer(spec)
    hyper = chosen_hyper(spec, o)
    named = set(o.intermediates)
    coefficients = frozenset(
        {optimizers.alpha, optimizers.k, *(h.symbol for h in o.hyperparameters)}
    )

    def shown(expr, target=None) -> Markup:
        return Markup(mm.mathml(_reading_order(expr, coefficients, target), order="none"))

    theta, alpha = m(optimizers.theta), m(optimizers.alpha)
    flat, direction = Markup("<mi>𝐰</mi>"), Markup("<mi>𝐝</mi>")
    layer, layer_step = Markup(mm.generic("W")), Markup(f"<msub>{m(naming.ALPHA)}<mi>j</mi></msub>")
    layer_direction = Markup(f"<msub><mi>{mm.bold('D')}</mi><mi>j</mi></msub>")
    size = sp.Add(*(sp.Mul(*prm.symbol.shape) for prm in p.graph.params))
    forms = [
        row(
            _iterate(x, 1),
            EQ,
            seq(_iterate(x), mm.mo(mm.MINUS), _iterate(a), _iterate(dd)),
            mm.mtext(f"({tag})"),
        )
        for x, a, dd, tag in (
            (flat, m(naming.ALPHA), direction, "u.1"),
            (layer, layer_step, layer_direction, "u.2"),
        )
    ]
    sep = Markup(mm.mo(","))
    return {
        "name": o.name,
        "title": o.title,
        "source": o.source,
        "theta": theta,
        "gradient": seq(m(optimizers.g), EQ, m(Partial(f, sp.Symbol("theta")))),
        "step": alpha,
        "k": seq(m(optimizers.k), EQ, Markup("<mn>1</mn><mo>,</mo><mn>2</mn><mo>,</mo><mo>…</mo>")),
        "steps": [row(m(x), EQ if x in named else ARROW, shown(rhs, x)) for x, rhs in o.steps],
        "state": sep.join(m(sp.Eq(x.symbol, sp.Rational(repr(x.initial)))) for x in o.state),
        "hyper": sep.join(m(sp.Eq(h.symbol, sp.Float(hyper[h.code]))) for h in o.hyperparameters),
        "direction": seq(
            theta,
            ARROW,
            theta,
            mm.mo(mm.MINUS),
            alpha,
            Markup("<mi>d</mi>"),
            sep,
            Markup("<mspace width='1em'/><mi>d</mi>"),
            EQ,
            shown(o.direction),
        ),
        "forms": forms,
        "vector": seq(flat, mm.mo("∈"), Markup(f"<msup><mi>ℝ</mi>{m(size)}</msup>")),
        "layer": layer,
        "layer_step": layer_step,
        "directions": seq(direction, sep, layer_direction),
        "w": flat,
    }


def _conv_section(p, op) -> dict:
    """Layer `op.layer`'s convolution as the affine layer with W_j = T(K_j), and weight sharing
    turning delta_j z_{j-1}^T into the kernel's gradient (see `output.convolutions`)."""
    g: Geometry = op.attr("geometry")
    K, z_prev = op.inputs[:2]
    delta = p.graph.named[op.output]
    T = seq(Markup('<mi mathvariant="normal">T</mi>'), mm.mo("("), m(K), mm.mo(")"))
    shown = _entry_symbols(g, delta, z_prev)
    kernel = _kernel_symbols(g).xreplace(shown)
    matrix = None
    if g.out_width <= MAX_MATRIX and g.in_width <= MAX_MATRIX:
        matrix = [row(T, EQ, m(g.toeplitz(kernel)))]
    gradients = list(_kernel_gradients(g, _kernel_symbols(g), delta, z_prev).items())
    entries = [
        row(m(Partial(f, kernel[r, c])), EQ, m(total.xreplace(shown)))
        for (r, c), total in gradients[:MAX_ENTRIES]
    ]
    t_T = Markup(f"<msup>{T}<mi>T</mi></msup>")
    return {
        "layer": op.layer,
        "conv": m(Conv(K, z_prev, g)),
        "matrix_form": [row(m(Conv(K, z_prev, g)), EQ, seq(T, m(z_prev)))],
        "kind": "circulant" if g.circular and g.dims == 1 and g.stride == (1,) else "Toeplitz",
        "matrix": matrix,
        "affine": [
            row(
                Markup(
                    f"<mfrac><mrow><mo>∂</mo><mi>f</mi></mrow><mrow><mo>∂</mo>{T}</mrow></mfrac>"
                ),
                EQ,
                seq(m(delta), m(sp.Transpose(z_prev))),
            )
        ],
        "entries": entries,
        "all_entries": len(entries) == g.channels_out * g.patch,
        "kernel_gradient": seq(m(Partial(f, K)), EQ, m(p.gradients[_key(p, K)])),
        "T": T,
        "weights": seq(m(sp.MatrixSymbol(f"W{op.layer}", *K.shape)), EQ, T),
        "transpose": seq(t_T, m(delta), EQ, m(ConvTranspose(K, delta, g))),
        "K": m(K),
        "delta": m(delta),
        "z": m(z_prev),
    }


def _key(p, K) -> str:
    return next(prm.key for prm in p.graph.params if prm.symbol == K)


def _entry_symbols(g: Geometry, delta, z_prev) -> dict:
    """The convolution section's LaTeX-named scalars (`output.convolutions`) -> MathML entries."""
    out = {}
    for vector in (delta, z_prev):
        stem, layer = naming.split(vector.name)
        for i in range(1, vector.shape[0] + 1):
            out[_entry(vector, i)] = mm.Entry(stem, f"{layer},{i}")
    single = g.channels_in == g.channels_out == 1
    symbols = _kernel_symbols(g)
    for co in range(g.channels_out):
        for col in range(g.patch):
            ci, w = divmod(col, g.window)
            out[symbols[co, col]] = mm.Entry("k", f"{w}" if single else f"{co},{ci},{w}")
    return out


def _bcd(spec: Spec) -> list[dict]:
    """Block-coordinate descent for a deep linear network (see `document._bcd`)."""
    if not bcd_applies(spec):
        return []
    names = Names(spec.widths, batch=True)
    out = []
    for block in bcd_blocks(spec, names):
        P = sp.MatrixSymbol(f"P{block.layer}", *block.solution.shape)
        params = m(names.W(block.layer))
        if spec.layers[block.layer - 1].bias:
            cells = f"<mtd>{params}</mtd><mtd>{m(names.b(block.layer))}</mtd>"
            params = seq(mm.mo("["), Markup(f"<mtable><mtr>{cells}</mtr></mtable>"), mm.mo("]"))
        output = MatAdd(MatMul(block.A, P, block.B), block.C).doit()
        out.append(
            {
                "layer": block.layer,
                "P": seq(m(P), EQ, params),
                "output": [row(m(names.z(spec.depth)), EQ, m(output))],
                "gradient": [row(m(Partial(f, P)), mm.mo("∝"), m(block.gradient.doit()))],
                "normal": [
                    row(m(block.normal_lhs.doit()), EQ, m(block.normal_rhs.doit())),
                    row(m(P), EQ, m(block.solution)),
                ],
            }
        )
    return out


def _convexity() -> dict:
    """The lecture's two-layer example of non-convexity (see `document._convexity`)."""
    ex = convexity_example()
    w1, w2 = ex.variables
    x, y = (v for v in ex.point if v not in ex.variables)
    objective = sp.Function("f")
    a, b, fa, fb, fmid = ex.chord
    chord = ((a, fa), (b, fb), ((0, 0), fmid))
    hessian = Markup("<mrow><msup><mo>∇</mo><mn>2</mn></msup><mi>f</mi></mrow>")
    sep = Markup(mm.mo(","))
    return {
        "f": m(sp.Eq(objective(w1, w2), ex.f)),
        "name": m(f),
        "input": m(x),
        "target": m(y),
        "hessian": [row(hessian, EQ, m(ex.hessian))],
        "point": sep.join(m(sp.Eq(k, v)) for k, v in ex.point.items()),
        "gradient": m(sp.Tuple(*ex.gradient_at_point)),
        "at": [row(hessian, EQ, m(ex.hessian_at_point))],
        "eigenvalues": sep.join(m(e) for e in ex.eigenvalues),
        "chord": sep.join(m(sp.Eq(objective(*at), value)) for at, value in chord),
        "vars": m(sp.Tuple(w1, w2)),
    }


def _comment_header(text: str) -> str:
    """`text` (symbp's stamped page) with its header lines inside an HTML comment, escaped
    (``&``, ``<``, ``>`` as entities) so that no name in them can end the comment, resealed."""
    lines = text.split("\n")
    header = [html.escape(line, quote=False) for line in lines[:4]]
    return seal(("<!--\n" + "\n".join(header) + "\n-->\n" + "\n".join(lines[4:])).encode()).decode()


def page_source(spec: Spec, command: str | None = None, convexity: bool = False) -> str:
    """The web page for `spec`: one self-contained HTML file with a stamped header comment.
    `convexity` adds the lecture's non-convexity example (deep linear specs only)."""
    from .render import render

    if convexity and not is_deep_linear(spec):
        raise SpecError(
            "layers",
            "--convexity is for deep linear networks: set every activation to 'identity' "
            "and remove skip_from",
            spec.source,
        )
    body = render("html/page.html.j2", **context(spec, convexity))
    extra = ["--convexity"] * convexity
    command = command or default_command("html", spec.source, f"{spec.name}.html", extra)
    return _comment_header(stamp(body, "#", spec.name, spec.digest(), command))


def _recurrence_sections(p) -> list[dict]:
    """`output.recurrences.sections` for the page: each display a list of rows of MathML
    fragments, the recursion's relations labelled with their reasons (the BPTT section)."""

    def rel(kind):
        return EQ if kind is None else Markup(mm.over(mm.mo("="), mm.reason(Reason(kind))))

    out = []
    for sec in bptt_sections(p):
        j = sec.layer
        T = m(sp.sympify(sec.steps))
        sums = [
            row(
                m(d),
                rel("time"),
                Markup(
                    f"<mrow><munderover><mo>∑</mo><mrow><mi>t</mi><mo>=</mo><mn>1</mn></mrow>"
                    f"{T}</munderover>{m(share)}<mo>=</mo>{m(whole)}</mrow>"
                ),
            )
            for d, share, whole in sec.sums
        ]
        h0 = [
            step_symbol(x.name.split("_")[0].rstrip("0123456789"), j, "t", 1, 1)
            for x in sec.initial
        ]
        out.append(
            {
                "layer": j,
                "title": RECURRENCE_TITLES[sec.kind],
                "a": RECURRENCE_ARTICLES[sec.kind],
                "source": sec.source,
                "T": T,
                "z": m(sec.input),
                "x_t": m(step_symbol("x", j, "t", 1, 1)),
                "initial": [m(x) for x in h0],
                "step": [row(m(x.lhs), EQ, m(x.rhs)) for x in sec.step],
                "recursion": [row(m(x.lhs), rel(x.reason), m(x.rhs)) for x in sec.recursion],
                "sums": sums,
                "truncate": sec.truncate,
                "last_only": sec.last_only,
                "zeta_t": m(step_symbol("zeta", j, "t", 1, 1)),
                "Zeta": m(sp.MatrixSymbol(f"zeta{j}", 1, 1)),
                "delta": m(sp.MatrixSymbol(f"delta{j}", 1, 1)),
                "delta_t": m(step_symbol("delta", j, "t", 1, 1)),
            }
        )
    return out


def _decimal(text: str) -> Markup:
    """A decimal as `worked.decimal` writes it ("0.1234", "1.473 \\cdot 10^{-4}") in MathML."""
    mantissa, _, power = text.partition(r" \cdot 10^")
    digits = mantissa.removeprefix("-")  # only digits and a point: nothing to escape
    shown = (mm.mo("−") if mantissa.startswith("-") else "") + f"<mn>{digits}</mn>"
    if not power:
        return Markup(f"<mrow>{shown}</mrow>")
    exponent = power.strip("{}").replace("-", "−")
    return Markup(f"<mrow>{shown}<mo>·</mo><msup><mn>10</mn><mn>{exponent}</mn></msup></mrow>")


def _worked(spec: Spec) -> dict:
    """The article's worked example (`output.worked`, its default numbers) as rows of MathML:
    given values, forward pass and f, backward definitions, gradients, one SGD step; exact
    where short, else a decimal after ≈ (`worked.RULE`); or only `skipped`."""
    ex = worked_example(spec)
    if ex.skipped:
        return {"skipped": ex.skipped}
    p = derive(ex.spec).sample

    def number(value) -> tuple[Markup, bool]:
        value = sp.sympify(value)
        text = (
            ex.rendered.get(value)
            if value in ex.rendered
            else (None if is_short(value) else decimal(value))
        )
        return (m(value), False) if text is None else (_decimal(text), True)

    def shown(value) -> tuple[Markup, bool]:
        if not isinstance(value, sp.MatrixBase):
            return number(value)
        cells = [[number(value[a, b]) for b in range(value.cols)] for a in range(value.rows)]
        rounded = any(r for row in cells for _, r in row)
        if value.shape == (1, 1):
            return cells[0][0][0], rounded
        rows = "".join(
            "<mtr>" + "".join(f"<mtd>{c}</mtd>" for c, _ in row) + "</mtr>" for row in cells
        )
        return Markup(f"<mrow><mo>[</mo><mtable>{rows}</mtable><mo>]</mo></mrow>"), rounded

    def valued(lhs, formula, value, rel=EQ) -> dict:
        text, rounded = shown(value)
        sign = mm.mo("≈") if rounded else mm.mo("=")
        if formula is None:
            return row(lhs, Markup(sign) if rel is EQ else rel, text)
        return row(lhs, rel, seq(formula, Markup(sign), text))

    return {
        "skipped": None,
        "seed": ex.choice.seed,
        "rule": RULE,
        "digits": DIGITS,
        "given": [valued(m(s), None, value) for s, value in ex.given],
        "forward": [valued(m(s), m(rhs), value) for s, rhs, value in ex.forward]
        + [valued(m(f), m(p.objective), ex.objective)],
        "backward": [valued(m(s), m(rhs), value) for s, rhs, value in ex.backward],
        "gradients": [
            valued(
                m(Partial(f, P)),
                m(p.gradients[next(k.key for k in p.graph.params if k.symbol == P)]),
                G,
            )
            for P, G in ex.gradients
        ],
        "updates": [valued(m(P), None, U, ARROW) for P, U in ex.updated],
        "step": m(sp.Eq(optimizers.alpha, ex.lr)),
    }
