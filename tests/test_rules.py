"""Every rule of the table passes the inner-product test <v, J u> = <J^T v, u>, with J u by central
differences (float64); the NumPy printer's rewrites are exact identities."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symbp.catalog import losses
from symbp.catalog.activations import ACTIVATIONS, t
from symbp.catalog.losses import LOSSES
from symbp.derivation.rules import sigma_prime, vjp
from symbp.graph.build import build
from symbp.naming import Names
from symbp.printing.rewrites import REWRITES, _a, _n
from symbp.proof.expansion import evaluate
from symbp.spec.model import Layer, Spec

H = 1e-6


def _num(matrix) -> np.ndarray:
    return np.array(sp.Matrix(matrix).evalf(), dtype=float)


def _sym(array) -> sp.Matrix:
    return sp.Matrix(array.tolist())


def _setup(activation="tanh", bias=True, batch=False):
    spec = Spec("r", 3, (Layer(2, activation, bias),))
    names = Names(spec.widths, batch=batch)
    return spec, names, build(spec, names).ops


def _env(names, values, activation):
    sigma = sp.Lambda(t, ACTIVATIONS[activation].expr)
    env = {("sigma", 1): sigma}
    env.update({k: _sym(v) for k, v in values.items()})
    return env


ELEMENTWISE = sorted(name for name, act in ACTIVATIONS.items() if act.elementwise)


@pytest.mark.parametrize("activation", ELEMENTWISE)
def test_activation_rule(activation):
    _, names, ops = _setup(activation)
    op, rng = ops[1], np.random.default_rng(1)
    u, v, w = (rng.standard_normal((2, 1)) for _ in range(3))
    sigma = sp.lambdify(t, ACTIVATIONS[activation].expr, "numpy")

    def f(x):
        return float(np.sum(v * sigma(x)))

    directional = (f(u + H * w) - f(u - H * w)) / (2 * H)
    g = sp.MatrixSymbol("g", 2, 1)
    (gu,) = vjp(op, g)
    env = _env(names, {names.u(1): u, names.z(1): sigma(u)}, activation)
    env[g] = _sym(v)
    symbol, formula = sigma_prime(op)
    env[symbol] = evaluate(formula, env)
    assert np.sum(_num(evaluate(gu, env)) * w) == pytest.approx(directional, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("batch", [False, True])
def test_softmax_rule_is_the_jacobian_transpose(batch):
    spec = Spec("r", 3, (Layer(3, "softmax"),))
    names = Names(spec.widths, batch=batch)
    op, rng, cols = build(spec, names).ops[1], np.random.default_rng(4), 2 if batch else 1
    u, v, w = (rng.standard_normal((3, cols)) for _ in range(3))

    def softmax(x):
        e = np.exp(x - x.max(axis=0))
        return e / e.sum(axis=0)

    def f(x):
        return float(np.sum(v * softmax(x)))

    directional = (f(u + H * w) - f(u - H * w)) / (2 * H)
    g = sp.MatrixSymbol("g", 3, names.cols)
    (gu,) = vjp(op, g)
    env = {names.z(1): _sym(softmax(u)), g: _sym(v)}
    assert np.sum(_num(evaluate(gu, env, cols)) * w) == pytest.approx(directional, rel=1e-7)


@pytest.mark.parametrize("batch", [False, True])
def test_affine_rule(batch):
    _, names, ops = _setup(batch=batch)
    op, rng = ops[0], np.random.default_rng(2)
    cols = 3 if batch else 1
    W, z, b = (
        rng.standard_normal((2, 3)),
        rng.standard_normal((3, cols)),
        rng.standard_normal((2, 1)),
    )
    v = rng.standard_normal((2, cols))
    values = {op.inputs[0]: W, op.inputs[1]: z, op.inputs[2]: b}
    g = sp.MatrixSymbol("g", 2, names.cols)
    adjoints = vjp(op, g)
    env = _env(names, values, "tanh")
    env[g] = _sym(v)
    for x, adj in zip(op.inputs, adjoints, strict=True):
        direction = rng.standard_normal(values[x].shape)

        def f(delta, x=x):
            shifted = {**values, x: values[x] + delta}
            return float(
                np.sum(v * (shifted[op.inputs[0]] @ shifted[op.inputs[1]] + shifted[op.inputs[2]]))
            )

        directional = (f(H * direction) - f(-H * direction)) / (2 * H)
        assert np.sum(_num(evaluate(adj, env, cols)) * direction) == pytest.approx(
            directional, rel=1e-7
        )


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_loss_rule(loss):
    output = LOSSES[loss].output or "tanh"
    spec = Spec("r", 3, (Layer(2, output),), loss=loss)
    names = Names(spec.widths, batch=False)
    op, rng = build(spec, names).ops[-1], np.random.default_rng(3)
    z, y, w = (rng.uniform(0.1, 0.9, (2, 1)) for _ in range(3))
    scalar = sp.lambdify((losses.z, losses.y), LOSSES[loss].expr, "numpy")

    def f(x):
        return float(np.sum(scalar(x, y)))

    directional = (f(z + H * w) - f(z - H * w)) / (2 * H)
    gz, gy = vjp(op, sp.Integer(1))
    assert gy is None
    env = {names.z(1): _sym(z), names.y(): _sym(y)}
    assert np.sum(_num(evaluate(gz, env)) * w) == pytest.approx(directional, rel=1e-7)


@pytest.mark.parametrize("rule", REWRITES, ids=lambda r: r.name)
def test_printer_rewrites_are_exact(rule):
    a = sp.Symbol("a", real=True)
    wilds = {_a: a, _n: -2}
    original, rewritten = rule.pattern.xreplace(wilds), rule.replacement.xreplace(wilds)
    for value in map(sp.Rational, (-700, -40, "-5/2", 0, "1/100000000", 3, 40, 700)):
        exact = sp.N(original.subs(a, value), 60)
        assert abs(sp.N(rewritten.subs(a, value), 60) - exact) <= 1e-45 * max(1, abs(exact))
