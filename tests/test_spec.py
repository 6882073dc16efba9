"""Spec validation: symbolic widths are plain identifiers other than symbp's own names, print
escape-proof in LaTeX, mean the same through the API and TOML; errors name the layer both ways."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symbp
from symbp import naming
from symbp.catalog import activations, losses
from symbp.errors import SpecError, SymbpError
from symbp.graph.ops import f
from symbp.printing.latex import latex
from symbp.proof.expansion import proof_spec
from symbp.spec.model import Layer, Spec, from_dict

from .conftest import ROOT


def _symbol_names(derivation) -> set[str]:
    """The name of every symbol and matrix symbol in a derivation's formulas."""
    names = set()
    for p in (derivation.sample, derivation.batch):
        exprs = [*p.forward, *p.adjoints, *p.sigma_primes]
        exprs = [e for pair in exprs for e in pair] + [p.objective, *p.gradients.values()]
        for expr in exprs:
            names |= {a.name for a in expr.atoms(sp.Symbol, sp.MatrixSymbol)}
    return names


def _names_symbp_uses() -> list[str]:
    """Names symbp gives its own symbols, collected from the modules that make them."""
    spec = Spec("probe", 2, (Layer(2, "tanh", True), Layer(2, "softmax", True)), "cross_entropy")
    names = _symbol_names(symbp.derive(spec))
    names |= {s.name for s in (naming.N, f, activations.t, activations.s)}
    names |= {s.name for s in (losses.z, losses.y, losses.lse)}
    return sorted(names)


@pytest.mark.parametrize("name", _names_symbp_uses())
def test_a_width_may_not_reuse_a_name_symbp_uses(name):
    for field, data in (
        ("input", {"name": "x", "input": name, "layers": [{"units": 2}]}),
        (
            "layers[1] (layer 2).units",
            {"name": "x", "input": 2, "layers": [{"units": 2}, {"units": name}]},
        ),
    ):
        with pytest.raises(SpecError) as err:
            from_dict(data)
        assert str(err.value).startswith(f"{field}: {name!r} is a name symbp uses")
        assert "\n" not in str(err.value)
    with pytest.raises(SpecError, match=f"^input: {re.escape(repr(name))}"):
        Spec("x", name, (Layer(2),))


def test_the_sample_count_is_not_a_width():
    """The issue's example: a width named N was the sample count itself."""
    with pytest.raises(SpecError, match=r"^input: 'N' is a name symbp uses"):
        Spec("x", "N", (Layer(2),))
    with pytest.raises(SpecError, match=r"^input: 'N' is a name symbp uses"):
        Spec("x", sp.Symbol("N", integer=True, positive=True), (Layer(2),))


def test_widths_named_by_the_api_derive_like_widths_named_in_toml():
    api = Spec("x", "d_0", (Layer("d_1", "tanh"), Layer(2, "sigmoid")))
    toml = from_dict(
        {
            "name": "x",
            "input": "d_0",
            "layers": [{"units": "d_1", "activation": "tanh"}, {"units": 2}],
        }
    )
    assert api == toml and api.widths == toml.widths
    assert all(isinstance(w, naming.WidthSymbol) for w in api.widths[:2])
    d = symbp.derive(api)
    assert d.sample.names.W(1).shape == (api.widths[1], api.widths[0])
    assert Spec("x", sp.Symbol("d_0"), (Layer("d_1", "tanh"), Layer(2, "sigmoid"))) == api


@pytest.mark.parametrize("bad", ["d-1", "1d", "d 1", "", "d\n1", "\\alpha", "d_1}"])
def test_a_width_name_is_a_plain_identifier(bad):
    with pytest.raises(SpecError, match=r"^input: .* is not a valid width symbol"):
        Spec("x", bad, (Layer(2),))


_WIDTH_LATEX = re.compile(r"\\mathit\{[A-Za-z0-9\\_]+\}(_\{\\mathit\{[A-Za-z0-9\\_]+\}\})?\Z")


@settings(max_examples=200, deadline=None)
@given(st.from_regex(naming.WIDTH_NAME, fullmatch=True).filter(lambda n: not naming.is_reserved(n)))
def test_every_width_name_prints_escape_proof_latex(name):
    shown = latex(naming.WidthSymbol(name))
    assert _WIDTH_LATEX.match(shown), shown
    assert re.sub(r"\\mathit|\\_|[{}_]", "", shown) == name.replace("_", "")


@pytest.mark.parametrize("name", ["Xscr", "alpha", "lambda_2", "Ubar", "d__1", "d_"])
def test_names_sympy_would_decorate_print_as_themselves(name):
    shown = latex(naming.WidthSymbol(name))
    assert "\\mathscr" not in shown and "\\alpha" not in shown and "\\lambda" not in shown
    assert "\\bar" not in shown and shown.startswith("\\mathit{")


def test_a_document_with_decorated_width_names_compiles(tmp_path):
    """`input = "Xscr"` printed as \\mathscr{X} and broke pdflatex."""
    spec = from_dict(
        {
            "name": "widths",
            "input": "Xscr",
            "layers": [{"units": "alpha_2", "activation": "tanh"}, {"units": "d__1"}],
        }
    )
    tex = tmp_path / "widths.tex"
    tex.write_text(symbp.latex_document(spec))
    assert "\\mathit{Xscr}" in tex.read_text() and "\\mathscr" not in tex.read_text()
    exe = shutil.which("pdflatex")
    if exe is None:
        pytest.fail("pdflatex is required (.ci/run installs TeX Live)")
    run = subprocess.run(
        [exe, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="replace",
    )
    assert run.returncode == 0, run.stdout[-2000:]


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "2"])
def test_max_width_is_the_options_own_error(value):
    spec = symbp.lecture_spec()
    with pytest.raises(SymbpError) as err:
        proof_spec(spec, value)
    assert not isinstance(err.value, SpecError)
    assert str(err.value).startswith("--max-width must be an integer >= 1")
    with pytest.raises(SymbpError, match=r"^--max-width must be an integer >= 1"):
        symbp.check(spec, max_width=value)


def test_max_width_zero_on_the_command_line(symbp_main):
    run = symbp_main("check", "--max-width", "0")
    assert run.returncode == 2 and len(run.stderr.splitlines()) == 1, run.stderr
    assert "--max-width must be an integer >= 1" in run.stderr and "input" not in run.stderr


LAYER_FAULTS = [
    ({"units": 0}, "units"),
    ({"units": 2, "activation": "sigmod"}, "activation"),
    ({"units": 2, "bias": "yes"}, "bias"),
    ({"units": 2, "colour": 1}, "colour"),
    ({"activation": "tanh"}, "units"),
    ({"units": 2, "activation": {"name": "q", "expr": "t +"}}, "activation.expr"),
    ({"units": 2, "activation": {"name": "relu", "expr": "t"}}, "activation.name"),
]


@pytest.mark.parametrize("table, key", LAYER_FAULTS)
@pytest.mark.parametrize("index", [0, 2])
def test_layer_errors_name_the_array_index_and_the_layer_number(table, key, index):
    layers = [{"units": 2}, {"units": 2}, {"units": 2}]
    layers[index] = table
    with pytest.raises(SpecError) as err:
        from_dict({"name": "x", "input": 2, "layers": layers})
    assert str(err.value).startswith(f"layers[{index}] (layer {index + 1}).{key}: ")
    assert err.value.field == f"layers[{index}].{key}"


def test_api_layer_errors_name_the_layer_number_too():
    with pytest.raises(SpecError, match=r"^layers\[1\] \(layer 2\)\.units: width must be positive"):
        Spec("x", 2, (Layer(2), Layer(0)))
    with pytest.raises(SpecError, match=r"^layers\[0\] \(layer 1\)\.activation: softmax"):
        Spec("x", 2, (Layer(2, "softmax"), Layer(2, "softmax")), "cross_entropy")


def test_the_example_specs_still_load():
    for path in sorted((ROOT / "examples").glob("*.toml")):
        table = tomllib.loads(path.read_text(encoding="utf-8"))
        spec = symbp.load_spec(path)
        if isinstance(table["input"], list):  # a feature map: its shape, and d_0 its size
            assert spec.shapes[0] == tuple(table["input"]), path.name
            assert spec.widths[0] == int(np.prod(table["input"])), path.name
            continue
        widths = (table["input"], *(layer["units"] for layer in table["layers"]))
        assert spec.widths == widths, path.name


@pytest.mark.parametrize("key", ["type", "activation", "units", "skip_from", "bias"])
def test_a_huge_value_is_cut_short_in_its_one_line_error(key):
    table = {"units": 2, key: "x-" * 10**6}  # not a name, a width, an index or a bool
    with pytest.raises(SpecError) as err:
        symbp.from_dict({"name": "n", "input": 2, "layers": [table]})
    assert len(str(err.value)) < 400 and "\n" not in str(err.value)


def test_the_readmes_spec_example_loads_and_derives():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Specs", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    spec = symbp.from_dict(tomllib.loads(block))
    assert spec.layers[-1].skip_from == 1
    assert symbp.derive(spec).sample.adjoints
