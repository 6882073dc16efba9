"""Custom activations in the emitted module: values and sigma' finite and accurate for
pre-activations up to ±1e4, against SymPy's 50-digit evaluation; or `generate` names the range.

Each exact rewrite that makes this possible (symbp.printing.rewrites.REWRITES, tanh_form) is
proved here by SymPy, not only sampled.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.codegen.cfunctions import log1p

import symbp
from symbp.catalog.activations import Activation, t
from symbp.errors import SpecError
from symbp.printing.rewrites import REWRITES, _a, _n, tanh_form
from symbp.spec import formula
from symbp.spec.model import Layer, Spec

from .conftest import module_for

RTOL, ATOL = 1e-6, 1e-12
#: pre-activations: 0, ±10^k for k in [-1, 4], and the thresholds where exp overflows
POINTS = np.unique(
    np.concatenate(
        [
            s * np.concatenate([np.logspace(-1, 4, 26), [35.0, 355.0, 709.0, 711.0, 5e3]])
            for s in (-1, 1)
        ]
        + [[0.0]]
    )
)


@pytest.mark.parametrize("rule", REWRITES, ids=lambda r: r.name)
@pytest.mark.parametrize("n", [-1, -2, -3])
def test_rewrite_is_exact_for_every_real_argument(rule, n):
    """pattern - replacement = 0 for a = x and a = -x, x > 0, proved by SymPy; a difference of
    logarithms is proved through exp (exp is injective on the reals)."""
    x = sp.Symbol("x", positive=True)
    for a in (x, -x, sp.S.Zero):
        wilds = {_a: a, _n: n}
        diff = rule.pattern.xreplace(wilds) - rule.replacement.xreplace(wilds)
        diff = diff.replace(log1p, lambda z: sp.log(1 + z)).rewrite(sp.exp)
        assert sp.simplify(diff) == 0 or sp.simplify(sp.exp(diff)) == 1, (rule.name, a)


@pytest.mark.parametrize(
    "text",
    [
        "t/(1 + exp(-t))",
        "t*(exp(t) + 1 + t)*exp(t)/(exp(t) + 1)**2",
        "tanh(log(1 + exp(t)))",
        "1/cosh(t)**2",
        "exp(2*t)/(1 + exp(t))**3",
    ],
)
def test_tanh_form_is_exact(text):
    expr = formula.parse(text)
    form = tanh_form(expr, t)
    assert form is not None and not form.has(sp.exp)
    assert sp.simplify((form - expr).rewrite(sp.exp)) == 0


def exact(expr: sp.Expr, u: float) -> float | None:
    """SymPy's 50-digit value at t = u, or None where float64 cannot hold it."""
    value = expr.xreplace({t: sp.Float(u, 50)}).evalf(50)
    ok = value.is_real and value.is_finite and abs(value) <= 1e300
    return float(value) if ok else None


def emitted_sigma_and_prime(text: str, points: np.ndarray, strict: list[bool]):
    """sigma(u) and sigma'(u) as the emitted module computes them, for u = `points`; NumPy's
    overflow, division by zero and invalid operations are errors at the points marked `strict`.

    Network: u = W1 x + b1 with W1 = 1, x = u; z1 = sigma(u); z2 = w z1 (identity) with w a
    power of two that puts |z2| in [1/2, 1); summed l2 loss with y = z2 - 1/2, so that
    df/db1 = w 2 (z2 - y) sigma'(u) = w sigma'(u), exactly up to rounding of z2 - y."""
    act = Activation("custom", formula.parse(text), source=text)
    spec = Spec("stability", 1, (Layer(1, act, bias=True), Layer(1, "identity")), reduction="sum")
    mod = module_for(spec)
    params = {"W1": np.ones((1, 1)), "b1": np.zeros((1, 1)), "W2": np.ones((1, 1))}
    values, primes = [], []
    for u, check in zip(points, strict, strict=True):
        with np.errstate(all="raise" if check else "ignore", under="ignore"):
            X = np.array([[u]])
            params["W2"] = np.ones((1, 1))
            z1 = mod.forward(params, X)[1]
            w = np.ldexp(1.0, -np.frexp(z1[0, 0])[1]) if np.isfinite(z1[0, 0]) else 1.0
            params["W2"] = np.full((1, 1), w)
            z2 = mod.forward(params, X)[-1]
            values.append(z1[0, 0])
            primes.append(mod.gradients(params, X, z2 - 0.5)["b1"][0, 0] / w)
    return np.array(values), np.array(primes)


def assert_accurate(name, expr, got, points):
    for u, g in zip(points, got, strict=True):
        want = exact(expr, u)
        if want is not None:
            assert np.isfinite(g) and abs(g - want) <= RTOL * abs(want) + ATOL, (
                f"{name} at u = {u:g}: emitted {g!r}, exact {want!r}"
            )


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "t/(1 + exp(-t))",  # swish: sigma' was 0 for 355 < u < 710 and NaN above
        "log(cosh(t))",  # inf for |u| > 710
        "2*tanh(t)",  # sigma' = 2/cosh(t)**2 warned of overflow
        "t*exp(-t)/2",  # printed U1 / 2 * np.exp(U1)
    ],
)
def test_custom_activation_is_accurate_up_to_1e4(text):
    sigma = formula.parse(text)
    finite = [all(exact(e, u) is not None for e in (sigma, sp.diff(sigma, t))) for u in POINTS]
    values, primes = emitted_sigma_and_prime(text, POINTS, finite)
    assert_accurate(f"sigma = {text}", sigma, values, POINTS)
    assert_accurate(f"sigma' of {text}", sp.diff(sigma, t), primes, POINTS)


def test_mish_prints_accurately_up_to_1e4():
    """mish, t tanh(softplus(t)), printed as the module prints an element-wise formula (its
    full generate is slow: SymPy's simplification of sigma' takes a minute)."""
    from .test_printing_numpy import numpy_value

    sigma = t * sp.tanh(sp.log(1 + sp.exp(t)))
    for expr in (sigma, sp.diff(sigma, t)):
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            got = numpy_value(expr, POINTS)
        assert_accurate(str(expr), expr, got, POINTS)


def test_generate_names_the_range_it_cannot_evaluate():
    text = "sinh(t)/(1 + exp(t))"  # sinh overflows for u > 710 while the value tends to 1/2
    act = Activation("sinhsig", formula.parse(text), source=text)
    spec = Spec("unsafe", 1, (Layer(1, act),))
    with pytest.raises(SpecError) as err:
        symbp.generate_module(spec)
    message = str(err.value)
    assert "\n" not in message
    assert err.value.field == "layers[0].activation.expr"
    assert message.startswith("layers[0] (layer 1).activation.expr: ") and "u in [" in message


@settings(max_examples=20, deadline=None)
@given(
    k=st.sampled_from([sp.Rational(1, 2), sp.Integer(1), sp.Integer(2), sp.Integer(3)]),
    shape=st.sampled_from(["sigmoid'", "sech", "tanh", "softplus", "log cosh"]),
    scale=st.sampled_from([sp.Integer(1), t, sp.Rational(-3, 2)]),
)
def test_exp_families_print_accurately(k, shape, scale):
    """Members of the families the rewrites cover, at any frequency k and with a factor: each
    printed, evaluated in float64 at ±1e4, and compared with 50-digit SymPy."""
    from .test_printing_numpy import numpy_value

    a = k * t
    base = {
        "sigmoid'": sp.exp(-a) / (1 + sp.exp(-a)) ** 2,
        "sech": 1 / sp.cosh(a) ** 2,
        "tanh": sp.tanh(a),
        "softplus": sp.log(1 + sp.exp(a)),
        "log cosh": sp.log(sp.cosh(a)),
    }[shape]
    expr = scale * base
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        got = numpy_value(expr, POINTS)
    assert_accurate(str(expr), expr, got, POINTS)


def test_a_check_that_runs_out_of_time_refuses_to_emit(monkeypatch):
    """The float64 check is bounded (a tower of powers took a minute at 50 digits): what could
    not be checked in time is refused in one line, not emitted unchecked."""
    from symbp.printing import float64

    monkeypatch.setattr(float64, "CHECK_SECONDS", 1e-4)
    float64.stable_form.cache_clear()
    float64.exact_values.cache_clear()
    text = "t*exp(-t)/2 + t**3/(1 + t**2)"
    act = Activation("slowcheck", formula.parse(text), source=text)
    with pytest.raises(SpecError) as err:
        symbp.generate_module(Spec("slow", 1, (Layer(1, act),)))
    assert err.value.field == "layers[0].activation.expr"
    assert "could not be checked within" in str(err.value) and "\n" not in str(err.value)
