"""The LaTeX templates hold no mathematics: every formula of the article and the slides comes
out of the derivation through the LaTeX printer.  The perceptron's update is derived (and is the
one `generate` trains), the legend lists exactly the reasons the chains use, and a residual
network's documents name its skip connections and spell out the sum of adjoints."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import sympy as sp

import symbp
from symbp import naming
from symbp.output.document import perceptron_updates
from symbp.printing.latex import latex

from .conftest import ROOT, module_for

TEMPLATES = sorted((ROOT / "templates").rglob("*.tex.j2"))
_JINJA = re.compile(r"<#.*?#>|<%.*?%>|<<.*?>>", re.S)
_STRING = re.compile(r"""(["'])(.*?)\1""")
#: Commands that only mathematics uses, and sub/superscripts.
_MATH_ONLY = re.compile(
    r"\\(mathbf|mathit|mathcal|boldsymbol|frac|partial|leftarrow|rightarrow|sigma|alpha|delta"
    r"|zeta|Delta|circ|sum|triangleq|nabla|cdot|le|ge|neq|dots|ldots|top|operatorname|left"
    r"|right|overset)(?![A-Za-z])|[_^]\{"
)


def mathematics(template: str) -> list[str]:
    """The mathematics typed into `template`: text of its math spans (``$...$``, ``\\(...\\)``,
    ``\\[...\\]``) other than placeholders, math-only commands anywhere outside placeholders,
    and string literals inside Jinja tags that carry a backslash or a dollar."""
    found = []
    for tag in _JINJA.findall(template):
        found += [s for _, s in _STRING.findall(tag) if "\\" in s or "$" in s]
    text = _JINJA.sub("", template)
    for span in re.findall(r"\$([^$]*)\$|\\\((.*?)\\\)|\\\[(.*?)\\\]", text, re.S):
        found += [part for part in span if part.strip()]
    found += [m.group(0) for m in _MATH_ONLY.finditer(text)]
    return found


def test_the_check_finds_mathematics_typed_into_a_template():
    """The check is not vacuous: the formulas templates used to hold are all found."""
    typed = [
        r"$\boldsymbol{\delta}_j = \mathbf{0}$ for $j \le << frozen >>$",
        r"update $\mathbf{W}_1 \leftarrow \mathbf{W}_1 - \alpha\, \boldsymbol{\delta}_1$",
        r"and def.\ $\boldsymbol{\delta}_j$ the definition",
        r"Over $N$ samples",
        r"with $J = << depth >>$",
        r"one input $x$",
        r"<< '$\alpha$' >>",
        r"\(x\)",
    ]
    for text in typed:
        assert mathematics(text), text
    assert not mathematics(r"widths $<< tex.widths >>$; \begin{align*} << line >> \\ \end{align*}")


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_templates_hold_no_mathematics(path):
    assert TEMPLATES, "no LaTeX templates found"
    assert mathematics(path.read_text()) == []


# ---------------------------------------------------------------- the perceptron's update


def _perceptron(reduction: str) -> symbp.Spec:
    spec = symbp.load_spec(str(ROOT / "examples" / "perceptron.toml"))
    return dataclasses.replace(spec, reduction=reduction)


def _evaluate(expr, values: dict) -> np.ndarray:
    """`expr` (matrix symbols, alpha, N) at numeric `values`, as a float array."""
    explicit = {k: sp.Matrix(v) if isinstance(v, np.ndarray) else v for k, v in values.items()}
    out = expr.xreplace(explicit).doit()
    return np.array(sp.Matrix(out.as_explicit() if hasattr(out, "as_explicit") else out), float)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_perceptron_update_is_derived_and_is_the_one_generate_trains(reduction):
    spec = _perceptron(reduction)
    batch = symbp.derive(spec).batch
    tex = symbp.latex_document(spec, command="pytest")
    module = module_for(spec)
    rng = np.random.default_rng(1)
    n, lr = 5, 0.3
    X = rng.standard_normal((2, n))
    Y = rng.integers(0, 2, (1, n)).astype(float)
    params = module.init_params(seed=2)
    params["W1"] = rng.standard_normal(params["W1"].shape)
    direction = module.gradients(params, X, Y)
    Z1 = module.forward(params, X)[-1]
    names = batch.names
    values = {
        names.W(1): params["W1"],
        names.b(1): params["b1"],
        names.z(0): X,
        names.z(1): Z1,
        names.y(): Y,
        naming.ALPHA: lr,
        naming.N: n,
    }
    updates = perceptron_updates(batch)
    assert {latex(param) for param, _, _ in updates} == {latex(names.W(1)), latex(names.b(1))}
    for param, step, expanded in updates:
        assert latex(step) in tex and latex(expanded) in tex
        key = param.name
        trained = params[key] - lr * direction[key]
        assert np.allclose(_evaluate(expanded, values), trained)
        assert expanded.has(1 / naming.N) == (reduction == "mean")


def test_perceptron_update_in_the_article_differs_between_mean_and_sum_by_one_over_n():
    mean, total = (perceptron_updates(symbp.derive(_perceptron(r)).batch) for r in ("mean", "sum"))
    for (_, _, m), (_, _, s) in zip(mean, total, strict=True):
        difference = (m - s.xreplace({naming.ALPHA: naming.ALPHA / naming.N})).doit()
        assert difference.is_ZeroMatrix, difference
        assert latex(m) != latex(s)
    docs = [symbp.latex_document(_perceptron(r), command="pytest") for r in ("mean", "sum")]
    assert docs[0] != docs[1]


# ---------------------------------------------------------------- the legend of the reasons


def _braced(text: str, start: int) -> tuple[str, int]:
    """The group opening at text[start] == "{", and the index after its closing brace."""
    depth = 0
    for k in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[k], 0)
        if depth == 0:
            return text[start + 1 : k], k + 1
    raise AssertionError(f"unbalanced braces after {text[start : start + 40]!r}")


def _labels_over_equalities(tex: str) -> set[str]:
    return {_braced(tex, m.end() - 1)[0] for m in re.finditer(r"\\overset\{", tex)}


def _legend(tex: str, beamer: bool) -> list[str]:
    if beamer:
        frame = re.search(r"\{Backprop in action: the reasons\}(.*?)\\end\{frame\}", tex, re.S)
        body = frame.group(1)
    else:
        body = re.search(r"annotated with its reason: (.*?)\.\n", tex, re.S).group(1)
    return re.findall(r"\$([^$]*)\$", body)


@pytest.mark.parametrize("beamer", [False, True], ids=["article", "beamer"])
@pytest.mark.parametrize("case", ["residual", "lecture", "softmax_classifier", "deep_mlp"])
def test_legend_lists_exactly_the_reasons_the_chains_use(case, beamer):
    spec = symbp.load_spec(str(ROOT / "examples" / f"{case}.toml"))
    tex = symbp.latex_document(spec, beamer=beamer, command="pytest")
    legend = _legend(tex, beamer)
    assert len(legend) == len(set(legend)), legend
    assert set(legend) == _labels_over_equalities(tex)


# ---------------------------------------------------------------- residual connections


@pytest.mark.parametrize("beamer", [False, True], ids=["article", "beamer"])
def test_residual_documents_name_the_skip_and_spell_out_the_sum(beamer):
    spec = symbp.load_spec(str(ROOT / "examples" / "residual.toml"))
    p = symbp.derive(spec).sample
    tex = symbp.latex_document(spec, beamer=beamer, command="pytest")
    chains_start = tex.index(r"\overset")
    adds = [op for op in p.graph.ops if op.kind == "add"]
    assert adds
    for op in adds:
        zeta = latex(p.graph.named[op.output])
        assert tex.index(zeta) < chains_start, "zeta_j is named before the chains use it"
        assert tex.index(latex(op.inputs[0])) < chains_start
    assert tex.count("the adjoints add up (the multivariate chain rule)") == 1
    sentence = tex.index("the adjoints add up (the multivariate chain rule)")
    first_sum = tex.index(r"\overset{\text{MCR}}")
    assert first_sum < sentence
    for value, terms in p.contributions.items():
        if value in p.graph.outputs:
            assert latex(sp.MatAdd(*terms)) in tex[sentence:]
