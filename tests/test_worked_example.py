"""The worked example: its exact numbers (SymPy, from the derivation) against the emitted NumPy
module run on the same values; the display rule; the user's choice of numbers and its errors."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

import symbp
from symbp.cli import main
from symbp.errors import SpecError
from symbp.output.module import module_source
from symbp.output.worked import (
    ExampleChoice,
    decimal,
    is_short,
    parse_choice,
    parse_number,
    worked_example,
)

from .conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))
DEEP_WIDE = {  # softmax with cross-entropy after every built-in entry-wise activation
    "name": "deep_wide",
    "input": 3,
    "loss": "cross_entropy",
    "bias": True,
    "layers": [{"units": 3, "activation": a} for a in ("tanh", "relu", "softplus", "leaky_relu")]
    + [{"units": 3, "activation": "softmax"}],
}
TOLERANCE = 1e-12


def _spec(case):
    if case == "deep_wide":
        return symbp.from_dict(DEEP_WIDE)
    return symbp.load_spec(str(ROOT / "examples" / f"{case}.toml"))


CASES = [path.stem for path in EXAMPLES] + ["deep_wide"]


def _close(actual, exact, what: str, ex) -> None:
    """Every entry of `actual` (NumPy) within 1e-12 (relative above 1) of the exact value."""
    exact = np.array([[float(ex.numeric(v)) for v in row] for row in exact.tolist()])
    actual = np.asarray(actual, dtype=float).reshape(exact.shape)
    error = np.abs(actual - exact) / np.maximum(1.0, np.abs(exact))
    assert error.max() <= TOLERANCE, f"{what}: {actual} vs {exact}"


def _module(spec):
    namespace: dict = {"__name__": "worked_example_module"}
    exec(compile(module_source(spec, command="pytest"), "<emitted>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("case", CASES)
def test_numbers_agree_with_the_emitted_module(case):
    ex = worked_example(_spec(case), ExampleChoice(seed=CASES.index(case)))
    if ex.skipped:
        assert (
            case in ("perceptron", "digits_cnn", "conv1d_circular") or _spec(case).is_recurrent
        ), ex.skipped
        return
    module = _module(ex.spec)
    values = {symbol.name: m for symbol, m in ex.given}
    floats = {key: np.array(values[key].tolist(), dtype=float) for key in module["PARAM_SHAPES"]}
    X = np.array(values["z0"].tolist(), dtype=float)
    Y = np.array(values["y"].tolist(), dtype=float)
    params = {key: a.copy() for key, a in floats.items()}
    outputs = module["forward"](params, X)
    forward = {lhs.name: m for lhs, _, m in ex.forward}
    for j, z in enumerate(outputs[1:], start=1):
        _close(z, forward[f"z{j}"], f"z{j}", ex)
    _close(module["loss"](params, X, Y), sp.Matrix([[ex.objective]]), "f", ex)
    grads = module["gradients"](params, X, Y)
    exact_grads = {P.name: G for P, G in ex.gradients}
    for key, g in grads.items():
        _close(g, exact_grads[key], f"df/d{key}", ex)
    backward = {lhs.name: m for lhs, _, m in ex.backward}
    for j in range(1, ex.spec.depth + 1):  # delta_j: the gradient of b_j, or of W_j by column
        delta = backward[f"delta{j}"]
        if f"b{j}" in grads:
            _close(grads[f"b{j}"], delta, f"delta{j}", ex)
        else:
            z = outputs[j - 1][:, 0]
            k = int(np.argmax(np.abs(z)))
            _close(grads[f"W{j}"][:, [k]] / z[k], delta, f"delta{j}", ex)
    module["sgd_step"](params, X, Y, float(ex.lr))
    for P, U in ex.updated:
        _close(params[P.name], U, f"{P.name} after one step", ex)


def test_the_numbers_are_exact_rationals_where_the_activations_are():
    """deep_linear: identity layers, so every number is a rational, nothing rounded away."""
    ex = worked_example(_spec("deep_linear"))
    values = [v for _, _, m in (*ex.forward, *ex.backward) for v in m]
    values += [v for _, m in ex.gradients for v in m] + [ex.objective]
    assert all(sp.sympify(v).is_Rational for v in values)


def test_an_exact_value_is_recomputed_independently():
    """The lecture's network at the seed's numbers: z_1 = sigmoid(W_1 x) by hand."""
    ex = worked_example(_spec("lecture"))
    given = {s.name: m for s, m in ex.given}
    u1 = given["W1"] * given["z0"]
    forward = {lhs.name: m for lhs, _, m in ex.forward}
    assert forward["u1"] == u1
    expected = u1.applyfunc(lambda v: 1 / (1 + sp.exp(-v)))
    for a, b in zip(forward["z1"], expected, strict=True):
        assert abs(ex.numeric(a) - sp.N(b, 60)) < sp.Float(10) ** -50


@pytest.mark.parametrize(
    "value, text",
    [
        (sp.Rational(12345), r"1.235 \cdot 10^{4}"),
        (sp.Rational(-1, 3), "-0.3333"),
        (sp.Rational(2, 3), "0.6667"),
        (sp.Rational(1, 8000), r"1.250 \cdot 10^{-4}"),
        (sp.Rational(617, 500000), "0.001234"),
        (sp.Rational(99996, 10000), "10.00"),
        (sp.exp(-30), r"9.358 \cdot 10^{-14}"),
        (1 / (1 + sp.exp(-sp.Rational(1, 2))), "0.6225"),
    ],
)
def test_decimals_round_half_up_to_four_significant_digits(value, text):
    assert decimal(value) == text


@pytest.mark.parametrize(
    "value, short",
    [
        (sp.Rational(3, 4), True),
        (sp.Rational(-999, 998), True),
        (sp.Rational(1000, 3), False),
        (sp.tanh(sp.Rational(1, 2)), True),
        (sp.exp(sp.Rational(1, 2)), False),
        (1 / (1 + sp.exp(-sp.Rational(1, 2))), False),
        (sp.tanh(sp.Rational(1, 1024)), False),
    ],
)
def test_which_numbers_are_shown_exactly(value, short):
    assert is_short(value) is short


def test_user_numbers_are_parsed_exactly_and_never_evaluated():
    assert parse_number("3/4", "w", None) == Fraction(3, 4)
    assert parse_number(0.1, "w", None) == Fraction(1, 10)
    assert parse_number(-2, "w", None) == Fraction(-2)
    for bad in (True, "__import__('os')", "1/0", "nan", float("inf"), "1" * 41, None):
        with pytest.raises(SpecError, match=r"^w: expected"):
            parse_number(bad, "w", None)


def test_given_values_replace_the_drawn_ones_and_keep_the_others():
    spec = _spec("lecture")
    drawn = worked_example(spec, ExampleChoice(seed=4))
    choice = parse_choice({"seed": 4, "x": [1, "1/2", -0.25, 2], "lr": "1/4"})
    chosen = worked_example(spec, choice)
    given = {s.name: m for s, m in chosen.given}
    assert list(given["z0"]) == [1, sp.Rational(1, 2), sp.Rational(-1, 4), 2]
    assert chosen.lr == sp.Rational(1, 4)
    for (s, a), (_, b) in zip(drawn.given, chosen.given, strict=True):
        assert s.name == "z0" or a == b


@pytest.mark.parametrize(
    "table, field",
    [
        ({"x": [1, 2]}, "example.x"),
        ({"W1": [[1, 2, 3, 4]]}, "example.W1"),
        ({"W9": 1}, "example.W9"),
        ({"lr": 0}, "example.lr"),
        ({"seed": -1}, "example.seed"),
        ({"y": [[1], "a"]}, "example.y[1]"),
    ],
)
def test_bad_values_name_their_field(table, field):
    with pytest.raises(SpecError) as raised:
        worked_example(_spec("lecture"), parse_choice(table))
    assert raised.value.field == field


def test_targets_are_checked_against_the_loss():
    with pytest.raises(SpecError, match="probability vector"):
        worked_example(_spec("softmax_classifier"), parse_choice({"y": [1, 1, 0]}))


def test_the_command_line_refuses_bad_example_input_in_one_line(tmp_path, capsys):
    bad = tmp_path / "values.toml"
    bad.write_text('W2 = [[1, 2, 3], [4, 5, 6], [7, 8, "eval(1)"]]\n')
    out = tmp_path / "doc.tex"
    assert main(["latex", "-o", str(out), "--example-values", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "example.W2[2][2]" in err and not out.exists()
    assert main(["latex", "-o", str(out), "--example-seed", "-3"]) == 2
    assert "--example-seed" in capsys.readouterr().err


def test_the_document_shows_the_chosen_numbers(tmp_path, capsys):
    values = tmp_path / "values.toml"
    values.write_text('x = ["1/3", 1, 1, 1]\n')
    out = tmp_path / "doc.tex"
    assert main(["latex", "-o", str(out), "--example-values", str(values)]) == 0
    tex = out.read_text()
    assert r"\section{A worked example}" in tex
    assert r"\mathbf{z}_{0} &= \begin{bmatrix} \frac{1}{3} & 1 & 1 & 1 \end{bmatrix}^{T}" in tex
    assert main(["latex", "-o", str(out), "--no-example", "--force"]) == 0
    assert "worked example" not in out.read_text()


def test_a_convolutional_network_states_why_it_has_no_example():
    tex = symbp.latex_document(_spec("digits_cnn"), command="pytest")
    assert "This network gets no worked example with numbers: its convolution" in tex
