"""Lecture 6's taxonomy beyond the l2 MLP: softmax/cross-entropy, binary cross-entropy, custom
activations, the perceptron, deep linear networks (convexity, block-coordinate descent), and
per-layer choices from J = 1 to J = 20."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from autograd import grad
from sympy import ZeroMatrix

import symbp
from symbp.derivation.linear import convexity_example
from symbp.output.report import render_chains
from symbp.printing.latex import latex
from symbp.printing.text import text
from symbp.proof.expansion import prove, prove_activations
from symbp.spec.model import Layer, Spec

from .conftest import ROOT, check_report, module_for
from .test_property import oracle_loss


def example(name):
    return symbp.load_spec(ROOT / "examples" / f"{name}.toml")


@pytest.mark.parametrize(
    "loss, output", [("cross_entropy", "softmax"), ("binary_cross_entropy", "sigmoid")]
)
def test_cross_entropy_delta_collapses_to_z_minus_y_and_is_proved(loss, output):
    spec = Spec(
        "ce", 3, (Layer(3, "tanh", True), Layer(3 if output == "softmax" else 1, output)), loss=loss
    )
    d = symbp.derive(spec)
    assert text(dict(d.sample.adjoints)[d.sample.names.delta(2)]) == "z₂ − y"
    assert text(dict(d.batch.adjoints)[d.batch.names.delta(2)]) == "Z₂ − Y"
    steps = render_chains(d)
    assert "SymPy simplification" in steps
    if output == "softmax":
        assert "diag(z₂) − z₂ z₂ᵀ" in steps  # the full Jacobian step is shown
    checks = prove(spec, max_width=2) + prove_activations(spec)
    assert checks and all(c.ok for c in checks)


def test_softmax_with_l2_keeps_the_jacobian_and_is_proved():
    spec = Spec("sl2", 2, (Layer(2, "tanh"), Layer(3, "softmax")))
    d = symbp.derive(spec)
    assert "diag" in text(dict(d.sample.adjoints)[d.sample.names.delta(2)])
    assert all(c.ok for c in prove(spec, max_width=2))


@pytest.mark.parametrize("name", ["softmax_classifier", "binary_classifier"])
def test_classification_losses_are_finite_for_huge_logits(name):
    spec = example(name)
    mod = module_for(spec)
    params = mod.init_params(seed=0)
    for key in params:
        params[key] = params[key] * 1e4
    rng = np.random.default_rng(0)
    X = rng.standard_normal((spec.widths[0], 16))
    if spec.loss == "cross_entropy":
        Y = np.eye(spec.widths[-1])[:, rng.integers(0, spec.widths[-1], 16)]
    else:
        Y = rng.integers(0, 2, (1, 16)).astype(float)
    U = mod._forward(params, X)[-2]
    assert np.abs(U).max() > 1e3  # logits really are huge
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = mod.loss(params, X, Y)
        grads = mod.gradients(params, X, Y)
    assert np.isfinite(value) and all(np.all(np.isfinite(g)) for g in grads.values())


def test_custom_activation_example_derives_and_checks():
    spec = example("custom_activation")
    assert spec.layers[0].activation_name == "softsign"
    d = symbp.derive(spec)
    # SymPy's derivative, -t sign(t)/(|t| + 1)^2 + 1/(|t| + 1), simplified using t sign(t) = |t|
    assert "σ′₁ = 1/(|u₁| + 1)²" in str(d)
    report = check_report(spec)
    assert report.ok and report.numeric_error <= 1e-6


def test_perceptron_learns_a_separable_problem_with_rosenblatts_rule():
    spec = example("perceptron")
    mod = module_for(spec)
    assert not hasattr(mod, "check_gradients")  # its update is not a gradient
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2, 200))
    margin = np.array([[1.5, -2.0]]) @ X + 0.3
    X, margin = X[:, np.abs(margin[0]) > 0.2], margin[:, np.abs(margin[0]) > 0.2]
    Y = (margin >= 0).astype(float)
    params = mod.init_params(seed=0)
    records = mod.train(params, X, Y, epochs=200, lr=0.5, batch_size=1)
    assert records[-1]["loss"] == 0  # no sample misclassified in the last epoch
    assert mod.loss(params, X, Y) == 0  # nor after it


def test_step_derivative_is_said_to_be_zero():
    d = symbp.derive(example("perceptron"))
    assert "zero almost everywhere" in str(d)
    tex = symbp.latex_document(example("perceptron"))
    zero_delta = f"{latex(d.sample.names.delta(1))} &= {latex(ZeroMatrix(1, 1))}"
    assert "Rosenblatt" in tex and zero_delta in tex  # delta_1 = 0, derived


def test_convexity_example_hessian_is_indefinite_at_a_critical_point():
    ex = convexity_example()
    assert ex.gradient_at_point == (0, 0)
    assert min(ex.eigenvalues) < 0 < max(ex.eigenvalues)
    _, _, fa, fb, fmid = ex.chord
    assert fmid > (fa + fb) / 2  # above the chord: not convex
    tex = symbp.latex_document(example("deep_linear"), convexity=True)
    assert "not jointly convex" in tex and "eigenvalues" in tex


def test_convexity_needs_a_deep_linear_spec():
    with pytest.raises(symbp.SpecError, match="deep linear"):
        symbp.latex_document(symbp.lecture_spec(), convexity=True)


@pytest.mark.parametrize("bias", [False, True])
def test_bcd_never_increases_the_loss_and_beats_gd(bias):
    spec = Spec(
        "dl", 5, (Layer(4, "identity", bias), Layer(3, "identity", bias), Layer(2, "identity"))
    )
    mod = module_for(spec)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 60))
    Y = rng.standard_normal((2, 5)) @ X + 0.1 * rng.standard_normal((2, 60))
    params = mod.init_params(seed=3)
    gd_params = {k: v.copy() for k, v in params.items()}
    previous = mod.loss(params, X, Y)
    sweeps = 5
    for _ in range(sweeps):
        for layer in range(1, spec.depth + 1):
            mod.bcd_step(params, X, Y, layer)
            current = mod.loss(params, X, Y)
            assert current <= previous * (1 + 1e-12) + 1e-12
            previous = current
    mod.train(gd_params, X, Y, epochs=sweeps, lr=0.05)
    assert previous < mod.loss(gd_params, X, Y)
    fresh = mod.init_params(seed=3)
    assert mod.train_bcd(fresh, X, Y, sweeps=sweeps)[-1] == pytest.approx(previous, rel=1e-9)


def test_bcd_step_solves_the_normal_equations():
    spec = Spec("dl", 4, (Layer(3, "identity"), Layer(2, "identity", True)))
    mod = module_for(spec)
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((4, 30)), rng.standard_normal((2, 30))
    params = mod.init_params(seed=1)
    for layer in (1, 2):
        mod.bcd_step(params, X, Y, layer)
        grads = mod.gradients(params, X, Y)
        assert np.linalg.norm(grads[f"W{layer}"]) < 1e-10  # the minimiser: gradient zero
    assert np.linalg.norm(grads["b2"]) < 1e-10


@pytest.mark.parametrize("depth", [1, 20])
def test_depth_one_and_twenty(depth):
    acts = ["tanh", "sigmoid", "softplus", "leaky_relu"]
    hidden = (Layer(3, acts[j % 4], j % 3 == 0) for j in range(depth - 1))
    layers = (*hidden, Layer(2, "identity"))
    spec = Spec(f"d{depth}", 3, layers)
    d = symbp.derive(spec)
    assert len(d.sample.adjoints) == depth
    mod = module_for(spec)
    rng = np.random.default_rng(0)
    params = mod.init_params(seed=0)
    X, Y = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    ours = mod.gradients(params, X, Y)
    theirs = grad(lambda p: oracle_loss(spec, p, X, Y))(params)
    for key in params:  # at J = 20 early gradients vanish (the lecture's "practical issues"),
        # too small for finite differences: the independent autodiff is the oracle here
        assert np.linalg.norm(ours[key] - theirs[key]) <= 1e-10 * np.linalg.norm(theirs[key]), key
    if depth == 1:
        assert mod.check_gradients(params, X, Y) <= 1e-6


def test_normal_equations_are_the_gradient_set_to_zero():
    from symbp.derivation.linear import bcd_blocks
    from symbp.naming import Names
    from symbp.proof.expansion import evaluate

    spec = Spec(
        "dl", 3, (Layer(2, "identity", True), Layer(3, "identity", True), Layer(2, "identity"))
    )
    names = Names(spec.widths, batch=True)
    rng = np.random.default_rng(7)
    for block in bcd_blocks(spec, names):
        symbols = set().union(
            *(e.free_symbols for e in (block.gradient, block.normal_lhs, block.normal_rhs))
        )
        env = {
            s: sp.Matrix(
                rng.integers(-3, 4, (*s.shape[:1], 3 if s.shape[1] == names.cols else s.shape[1]))
            )
            for s in symbols
            if isinstance(s, sp.MatrixSymbol)
        }
        gradient = evaluate(block.gradient, env, 3)
        lhs, rhs = evaluate(block.normal_lhs, env, 3), evaluate(block.normal_rhs, env, 3)
        assert gradient == 2 * (lhs - rhs)  # l2: df/dP = 2 (A^T A P B B^T - A^T (Y - C) B^T)
