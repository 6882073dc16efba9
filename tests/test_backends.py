"""Backends: the registry, a printer subclass that only renames the array module, and the exact
backend-neutral rewrites that moved out of the NumPy printer."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp

from symbp.catalog.activations import ACTIVATIONS, t
from symbp.derivation.derive import derive
from symbp.errors import SymbpError
from symbp.graph.nodes import Elementwise
from symbp.output import backends
from symbp.output import module as emit
from symbp.output.render import template_dir
from symbp.printing.numpy import SymbpNumPyPrinter, code
from symbp.printing.rewrites import heaviside_as_sign, positive_part_as_max, softmax_form
from symbp.spec.formula import FUNCTIONS
from symbp.spec.model import Layer, Spec


class XpPrinter(SymbpNumPyPrinter):
    """A backend for an array-API namespace imported as `xp`: nothing but the module name."""

    module = "xp"


def spec_with(activation: str) -> Spec:
    """A two-layer net whose layers use `activation` (softmax: at the output, cross-entropy)."""
    if activation == "softmax":
        layers = (Layer(4, "tanh", bias=True), Layer(3, "softmax", bias=True))
        return Spec(f"net_{activation}", 3, layers, loss="cross_entropy")
    layers = (Layer(4, activation, bias=True), Layer(2, activation, bias=True))
    return Spec(f"net_{activation}", 3, layers)


def printed_formulas(spec: Spec, printer) -> list[str]:
    """Every formula the emitted module computes (forward, loss, backward), printed."""
    batch = derive(spec).batch
    acts = {j: layer.sigma for j, layer in enumerate(spec.layers, start=1)}
    exprs = [rhs for _, rhs in batch.forward]
    exprs.append(emit.stable_objective(spec, batch))
    exprs += [rhs for _, rhs in batch.backward]
    exprs += list(batch.gradients.values())
    return [code(e, acts, printer) for e in exprs]


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_a_printer_subclass_renames_the_array_module_everywhere(activation):
    spec = spec_with(activation)
    numpy_code = printed_formulas(spec, SymbpNumPyPrinter)
    xp_code = printed_formulas(spec, XpPrinter)
    joined = "\n".join(xp_code)
    assert not re.search(r"\bnp\.", joined), joined
    assert [re.sub(r"\bxp\.", "np.", c) for c in xp_code] == numpy_code
    if activation != "identity":  # identity's formulas are matrix products and sums only
        assert "xp." in joined


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_a_printer_subclass_renames_the_module_in_every_custom_activation_function(name):
    f = FUNCTIONS[name]
    expr = f(t, 1) if name in ("Max", "Min") else f(t)
    node = Elementwise(sp.Lambda(t, expr), sp.MatrixSymbol("U1", 1, 3))
    xp, numpy = code(node, {}, XpPrinter), code(node, {})
    assert not re.search(r"\bnp\.", xp) and re.sub(r"\bxp\.", "np.", xp) == numpy, xp


def test_every_registered_backend_has_its_module_template():
    for backend in backends.BACKENDS.values():
        assert (template_dir() / backend.module_template).is_file(), backend.name
        assert issubclass(backend.printer, SymbpNumPyPrinter)


def test_the_default_backend_is_numpy_and_named_in_the_registry():
    spec = spec_with("tanh")
    assert backends.DEFAULT in backends.BACKENDS
    assert emit.module_source(spec, "cmd", backend="numpy") == emit.module_source(spec, "cmd")


@pytest.mark.parametrize("name", ["tensorflow", "NumPy", "", "numpy\n"])
def test_an_unknown_backend_is_a_one_line_error_naming_the_choices(name):
    with pytest.raises(SymbpError) as info:
        emit.module_source(spec_with("tanh"), "cmd", backend=name)
    message = str(info.value)
    assert "\n" not in message
    assert all(choice in message for choice in backends.BACKENDS)


def _agree_at_50_digits(original, rewritten, points) -> None:
    for value in points:
        want = sp.N(original.subs(t, value), 50)
        got = sp.N(rewritten.subs(t, value), 50)
        assert abs(got - want) <= 1e-40 * max(1, abs(want)), (original, rewritten, value)


POINTS = [sp.Rational(v) for v in ("-40", "-5/2", "-1/1000", "0", "1/1000", "3", "700")]


@pytest.mark.parametrize(
    "formula",
    [sp.Heaviside(t), sp.Heaviside(t - 1) * t, sp.Heaviside(t, 0), sp.Heaviside(t, 1) + t],
    ids=str,
)
def test_heaviside_as_sign_is_exact(formula):
    rewritten = heaviside_as_sign(formula)
    _agree_at_50_digits(formula, rewritten, POINTS)
    half = formula.has(sp.Heaviside) and all(
        h.func(0, *h.args[1:]) == sp.S.Half for h in formula.atoms(sp.Heaviside)
    )
    assert rewritten.has(sp.Heaviside) != half  # rewritten exactly where H(0) = 1/2


@pytest.mark.parametrize(
    "formula",
    [
        ACTIVATIONS["relu"].expr,
        sp.Piecewise((2 * t - 1, 2 * t - 1 > 0), (0, True)) * t,
        ACTIVATIONS["leaky_relu"].expr,  # not a positive part: left alone
        sp.Piecewise((t, t > 1), (0, True)),  # nor this
    ],
    ids=str,
)
def test_positive_part_as_max_is_exact(formula):
    rewritten = positive_part_as_max(formula)
    _agree_at_50_digits(formula, rewritten, POINTS)
    positive_part = formula.has(sp.Piecewise) and any(
        cond == (value > 0) for p in formula.atoms(sp.Piecewise) for value, cond in p.args
    )
    assert rewritten.has(sp.Max) == positive_part


def test_softmax_form_is_the_softmax_and_stays_finite():
    U = sp.MatrixSymbol("U2", 3, 4)
    text = code(softmax_form(U), {})
    u = np.array([[1.0, -800.0, 800.0, 0.0], [2.0, -801.0, 799.0, 0.0], [3.0, 0.0, -5.0, 0.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        got = eval(text, {"np": np, "U2": u})
    shifted = np.exp(u - u.max(axis=0, keepdims=True))
    np.testing.assert_allclose(got, shifted / shifted.sum(axis=0, keepdims=True), rtol=1e-12)


def test_generate_takes_the_backend_by_name_from_the_registry(tmp_path, capsys):
    from symbp.cli import main

    assert main(["generate", "-o", str(tmp_path / "a.py"), "--backend", "numpy"]) == 0
    assert main(["generate", "-o", str(tmp_path / "b.py")]) == 0
    a, b = ((tmp_path / n).read_text().splitlines() for n in ("a.py", "b.py"))
    assert [ln for ln in a if not ln.startswith("# ")] == [
        ln for ln in b if not ln.startswith("# ")
    ]
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["generate", "-o", str(tmp_path / "c.py"), "--backend", "tensorflow"])
    error = capsys.readouterr().err
    assert info.value.code == 2 and error.count("\n") == 1
    assert "tensorflow" in error and all(name in error for name in backends.BACKENDS)
    assert not (tmp_path / "c.py").exists()
