"""Proof by expansion: holds for the examples and fails for a wrong rule (it can fail)."""

from __future__ import annotations

import pytest
from sympy import MatMul, ZeroMatrix

import symbp
from symbp.catalog.activations import Activation
from symbp.derivation import rules
from symbp.derivation.derive import derive
from symbp.proof.expansion import prove, prove_activations
from symbp.spec import formula
from symbp.spec.model import Layer, Spec

from .conftest import ROOT, check_report


def test_examples_are_proved(example):
    """Every proof `symbp.check` runs (prove_activations and prove at the default widths) holds;
    a skip fails here.  The report is shared with test_check."""
    checks = check_report(symbp.load_spec(example)).checks
    assert checks and all(c.ok for c in checks), [c for c in checks if not c.ok]


def test_every_activation_with_bias_and_sum_is_proved():
    acts = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity")
    spec = Spec(
        "all", 2, tuple(Layer(2, a, i % 2 == 0) for i, a in enumerate(acts)), reduction="sum"
    )
    assert all(c.ok for c in prove(spec, max_width=2) + prove_activations(spec))


def test_a_wrong_rule_is_caught(monkeypatch):
    def no_transpose(op, g):  # the classic mistake: W g instead of W^T g
        W = op.inputs[0]
        right = rules._affine(op, g)
        return (right[0], MatMul(W, g) if W.shape[0] == W.shape[1] else right[1], *right[2:])

    monkeypatch.setitem(rules.RULES, "affine", rules.Rule(no_transpose))
    derive.cache_clear()
    try:
        spec = Spec("square", 2, (Layer(2, "tanh"), Layer(2, "tanh"), Layer(1, "sigmoid")))
        checks = prove(spec)
        assert not all(c.ok for c in checks)
        assert any(not c.ok and "W1" in c.what for c in checks)
    finally:
        derive.cache_clear()


def test_a_residual_network_is_proved_and_a_lost_skip_adjoint_is_caught(monkeypatch):
    """z_3 = sigma(u_3) + z_1: the proof holds with the add rule, and fails when the rule forgets
    that the skip also carries the adjoint back (the sum of two paths into z_1)."""
    spec = symbp.load_spec(ROOT / "examples" / "residual.toml")
    assert all(c.ok for c in prove(spec, max_width=2))
    forget = rules.Rule(lambda op, g: (g, ZeroMatrix(*g.shape)))
    monkeypatch.setitem(rules.RULES, "add", forget)
    derive.cache_clear()
    try:
        failed = [c.what for c in prove(spec, max_width=2) if not c.ok]
        assert failed and all(key in " ".join(failed) for key in ("W1", "b1"))
        assert not any("W3" in what or "W4" in what for what in failed)  # above the skip: right
    finally:
        derive.cache_clear()


def test_a_wrong_sigma_prime_is_caught(monkeypatch):
    from symbp.catalog import activations

    right = activations.derivative(activations.ACTIVATIONS["sigmoid"])
    wrong = activations.Derivative(right.raw, activations.s * (1 + activations.s), activations.s)
    monkeypatch.setattr(activations, "derivative", lambda act: wrong)
    checks = prove_activations(symbp.lecture_spec())
    assert [c.ok for c in checks] == [False]


def test_step_and_custom_activations_are_proved():
    from symbp.catalog.activations import Activation, t

    softsign = Activation("softsign", t / (1 + abs(t)), source="t/(1 + Abs(t))")
    spec = Spec("steps", 2, (Layer(2, "step", True), Layer(2, softsign), Layer(1, "sigmoid")))
    checks = prove(spec, max_width=2) + prove_activations(spec)
    assert len(checks) > 6 and all(c.ok for c in checks)


def test_a_proof_that_runs_out_of_time_is_skipped_and_says_why(monkeypatch):
    """The expansion grows like width^J: a large --max-width ends in a 'skip' naming the widths
    and the budget, not in a run of minutes (here with the budget made tiny)."""
    from symbp.proof import expansion as proof

    monkeypatch.setattr(proof, "PROOF_SECONDS", 1e-3)
    (skipped,) = proof.prove(symbp.lecture_spec())
    assert skipped.ok is None and "widths 3-3-3-2" in skipped.what and "CPU time" in skipped.what
    text = "t**3/(7 + t**2) + tanh(t/3)"  # used nowhere else: nothing of it is in SymPy's cache
    custom = Activation("budgeted", formula.parse(text), source=text)
    (skipped,) = proof.prove_activations(Spec("budgeted", 2, (Layer(1, custom),)))
    assert skipped.ok is None and "sigma'" in skipped.what
    report = symbp.check(symbp.lecture_spec())
    assert report.ok and report.skipped  # nothing failed; the report says what was not proved


@pytest.mark.parametrize("text", ["t/(1 + exp(-t))", "log(cosh(t))", "2*tanh(t)"])
def test_custom_sigma_primes_are_proved(text):
    """The sigma' that symbp emits is proved equal to sympy.diff (swish's form through cosh needs
    the rewrite through exp; simplify alone failed and `check` said FAIL)."""
    custom = Activation("custom", formula.parse(text), source=text)
    (result,) = prove_activations(Spec("custom", 2, (Layer(1, custom),)))
    assert result.ok, result.what
