"""Every document symbp writes fits its page: no "Overfull" box in pdflatex's log, for every
example as article and as slides, a deep wide network and long custom formulas; and the line
breaking that makes it so never changes a formula."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import symbp
from symbp.output.texlayout import Line, chunk, line_height, measure, tokens, wrap
from symbp.printing.latex import latex

from .conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))

DEEP_WIDE = {  # J = 6: every built-in entry-wise activation, biases, softmax with cross-entropy
    "name": "deep_wide",
    "input": 7,
    "loss": "cross_entropy",
    "bias": True,
    "layers": [
        {"units": 9, "activation": a} for a in ("tanh", "relu", "sigmoid", "softplus", "leaky_relu")
    ]
    + [{"units": 5, "activation": "softmax"}],
}
LONG_CUSTOM = {  # a long sum of quotients, and a quotient wider than any line
    "name": "long_custom",
    "input": 3,
    "bias": True,
    "layers": [
        {
            "units": 4,
            "activation": {
                "name": "rational_mix",
                "expr": "t/(1 + Abs(t)) + t**3/(3 + t**2) + t*exp(-t**2)/(4 + t**4)",
            },
        },
        {
            "units": 3,
            "activation": {
                "name": "wide_quotient",
                "expr": "(t + t**2 + t**3 + t**4 + t**5 + t**6 + t**7)/(1 + exp(t) + exp(2*t) + t**8)",
            },
        },
        {"units": 2, "activation": "sigmoid"},
    ],
}
LONG_NAMES = {  # identifiers as long as the spec allows in practice, in a title and a tag
    "name": "a_network_whose_name_is_much_longer_than_a_line_of_any_title_page_x",
    "input": 2,
    "layers": [
        {
            "units": 2,
            "activation": {
                "name": "an_activation_whose_name_runs_on_and_on_and_on",
                "expr": "t/(1 + Abs(t))",
            },
        }
    ],
}
SPECS = {path.stem: path for path in EXAMPLES} | {
    "deep_wide": DEEP_WIDE,
    "long_custom": LONG_CUSTOM,
    "long_names": LONG_NAMES,
}


def _spec(case):
    source = SPECS[case]
    return symbp.from_dict(source) if isinstance(source, dict) else symbp.load_spec(str(source))


def _compile(tex: str, cwd) -> tuple[subprocess.CompletedProcess, str]:
    exe = shutil.which("pdflatex")
    if exe is None:
        pytest.fail("pdflatex is required (Debian: texlive-latex-base)")
    (cwd / "doc.tex").write_text(tex)
    run = subprocess.run(
        [exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "doc.tex"],
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="replace",
    )
    return run, (cwd / "doc.log").read_text(errors="replace")


@pytest.mark.slow  # 45 compiles: about 70 s of CPU time, 2.5 min on a loaded machine
@pytest.mark.parametrize("form", ["article", "beamer", "overlays"])
@pytest.mark.parametrize("case", sorted(SPECS))
def test_document_has_no_overfull_box(case, form, tmp_path):
    """Every document, its worked example included, as article, slides and building slides."""
    spec = _spec(case)
    convexity = case == "deep_linear"  # the --convexity section as well
    tex = symbp.latex_document(
        spec,
        beamer=form != "article",
        convexity=convexity,
        command="pytest",
        overlays=form == "overlays",
    )
    run, log = _compile(tex, tmp_path)
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert run.returncode == 0 and not errors, errors or run.stdout[-1500:]
    assert (tmp_path / "doc.pdf").read_bytes().startswith(b"%PDF")
    overfull = [
        "\n".join(log.splitlines()[k : k + 2])
        for k, line in enumerate(log.splitlines())
        if line.startswith("Overfull")
    ]
    assert not overfull, "\n".join(overfull)


@pytest.mark.parametrize("case", ["lecture", "softmax_classifier", "deep_mlp"])
def test_every_chain_on_slides_keeps_its_delta_definition(case):
    """A chain split over frames still ends with its `where delta_j = ...` (it used to fall off
    the bottom of the slide)."""
    spec = _spec(case)
    tex = symbp.latex_document(spec, beamer=True, command="pytest")
    chains = symbp.derive(spec).chains
    assert tex.count(r"\triangleq") == len(chains)
    for frame in re.findall(r"\\begin\{frame\}.*?\\end\{frame\}", tex, re.S):
        if r"\triangleq" in frame:
            assert frame.index(r"\triangleq") > frame.rindex(r"\overset")


# ------------------------------------------------------------------ the layout, without TeX

t = sp.Symbol("t")
_LEAVES = st.sampled_from([t, sp.Integer(2), sp.Integer(3), sp.exp(t), sp.Abs(t), sp.tanh(t)])


def _combine(children):
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda ab: ab[0] + ab[1]),
        pair.map(lambda ab: ab[0] - ab[1]),
        pair.map(lambda ab: ab[0] * ab[1]),
        pair.map(lambda ab: ab[0] * (ab[1] + 1)),
        children.map(lambda a: sp.log(1 + a**2)),
    )


EXPRESSIONS = st.recursive(_LEAVES, _combine, max_leaves=14)


def _normal(tex: str) -> list[str]:
    r"""The tokens of `tex` but those line breaking may add, drop or change: spaces, braces
    (the ``{}`` before a continued operator, the group around ``\left(...\right)``), and
    the size of delimiters."""
    sizes = {r"\bigl": r"\left", r"\Bigl": r"\left", r"\bigr": r"\right", r"\Bigr": r"\right"}
    return [sizes.get(tok, tok) for tok in tokens(tex) if tok not in (" ", "{", "}")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS, st.floats(min_value=4.0, max_value=30.0))
def test_wrap_breaks_lines_without_changing_the_formula(expr, width):
    tex = latex(expr)
    lines = wrap(tex, width)
    joined = " ".join(lines)
    assume(r"\resizebox" not in joined and joined.count(r"\frac{1}") == tex.count(r"\frac{1}"))
    assert _normal(joined) == _normal(tex)


@settings(max_examples=40, deadline=None)
@given(EXPRESSIONS, st.floats(min_value=6.0, max_value=30.0))
@example(t + sp.log(4 * sp.log(t**2 + 1) ** 2 + 1), 6.0)  # a scaled piece after a coefficient
def test_wrapped_lines_fit_their_width(expr, width):
    lines = wrap(latex(expr), width)
    assert all(measure(line).width <= width * 1.001 for line in lines), lines


LINES = st.builds(
    Line, st.sampled_from([r"x &= y", r"&\qquad {} + z", r"\frac{a}{b} &= c"]), st.booleans()
)


@settings(max_examples=40, deadline=None)
@given(st.lists(LINES, max_size=30), st.floats(min_value=4.0, max_value=25.0))
def test_chunk_keeps_every_line_in_order_and_fits_the_budget(lines, budget):
    groups = chunk(lines, budget)
    assert [line for group in groups for line in group] == lines
    for group in groups:
        fits = sum(map(line_height, group)) <= budget
        assert fits or len(group) == 1 or all(line.joined for line in group[1:]), group
