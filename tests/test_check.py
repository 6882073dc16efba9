"""`symbp check`: every example passes; targets come from the loss's domain; the step network
gets a clear result; the proof says why its widths are smaller than the spec's."""

from __future__ import annotations

import numpy as np
import pytest

import symbp
from symbp import cli
from symbp.catalog.losses import LOSSES
from symbp.proof.check import TOLERANCE, numeric_check, sample_problem, widths_note
from symbp.spec.model import Layer, Spec

from .conftest import EXAMPLES, ROOT, check_report, module_for


@pytest.mark.parametrize("spec_path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_passes_check(spec_path):
    report = check_report(symbp.load_spec(spec_path))
    assert report.ok, report
    assert report.numeric.error is not None and report.numeric.error <= TOLERANCE


@pytest.mark.parametrize(
    "stem, says",
    [
        ("perceptron", ["at widths 2-1,", "derived gradient 0", "Rosenblatt"]),
        ("softmax_classifier", ["at widths 3-3-3,", "not the spec's 4-8-3", "width^J"]),
    ],
)
def test_check_command_passes_on_the_examples_that_failed(monkeypatch, symbp_main, stem, says):
    monkeypatch.setattr(cli, "check", check_report)  # the report test_every_example... computed
    run = symbp_main("check", ROOT / "examples" / f"{stem}.toml")
    assert run.returncode == 0 and "all checks passed" in run.stdout, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert all(text in run.stdout for text in says), run.stdout
    assert ("not the spec's" in run.stdout) == (stem != "perceptron")


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_sampled_targets_lie_in_the_loss_domain(name):
    domain = LOSSES[name].domain
    Y = LOSSES[name].sample_targets(np.random.default_rng(3), (4, 50))
    assert Y.shape == (4, 50) and np.all(np.isfinite(Y))
    assert np.all(Y >= domain.low) and np.all(Y <= domain.high)
    if domain.column_sum is not None:
        np.testing.assert_allclose(Y.sum(axis=0), domain.column_sum, rtol=0, atol=1e-12)
        one_hot = np.all((Y == 0) | (Y == 1), axis=0)
        assert one_hot.any() and not one_hot.all()  # both one-hot and soft columns
    else:
        assert len(np.unique(Y)) == Y.size  # continuous draws, not a few fixed values


@pytest.mark.parametrize("spec_path", EXAMPLES, ids=lambda p: p.stem)
def test_emitted_module_accepts_check_targets_and_its_own_teacher(spec_path):
    spec = symbp.load_spec(spec_path)
    mod = module_for(spec)
    _, X, Y = sample_problem(spec, mod, samples=20)
    mod.validate(X, Y)
    mod.validate(X, mod.predict(mod.init_params(seed=1), X))  # the CLI's synthetic targets


def test_softmax_check_fails_for_targets_outside_the_domain():
    """The derivation's delta_J = z_J - y assumes each target column sums to one: the check's
    targets must (with unconstrained targets the same comparison fails)."""
    spec = symbp.load_spec(ROOT / "examples" / "softmax_classifier.toml")
    mod = module_for(spec)
    params, X, Y = sample_problem(spec, mod)
    good = mod.max_relative_error(mod.gradients(params, X, Y), mod.finite_differences(params, X, Y))
    Y = Y + np.random.default_rng(0).random(Y.shape)  # columns no longer sum to one
    bad = mod.max_relative_error(mod.gradients(params, X, Y), mod.finite_differences(params, X, Y))
    assert good <= TOLERANCE < 1e-3 < bad


def test_perceptron_check_compares_the_derived_zero_gradient_and_names_rosenblatt():
    numeric = numeric_check(symbp.load_spec(ROOT / "examples" / "perceptron.toml"))
    assert numeric.error == 0 and numeric.ok
    assert "derived gradient 0" in numeric.what and "Rosenblatt" in numeric.note
    assert "not a gradient" in numeric.note


def test_deeper_step_network_check_is_a_clear_result():
    report = symbp.check(Spec("deep_step", 2, (Layer(2, "step"), Layer(1, "sigmoid"))))
    assert report.ok and report.numeric.error is None
    assert "single-layer perceptron" in report.numeric.note


def test_check_says_why_the_proof_widths_are_smaller():
    report = check_report(symbp.lecture_spec())
    assert report.spec_widths == (4, 3, 3, 2) and report.proof_widths == (3, 3, 3, 2)
    note = widths_note(report)
    assert "4-3-3-2" in note and "width^J" in note and "at most 3" in note
    same = symbp.check(symbp.lecture_spec(), max_width=4)
    assert same.proof_widths == same.spec_widths and widths_note(same) is None


def test_check_names_symbolic_widths_in_the_note():
    report = symbp.check(Spec("sym", "d_0", (Layer(2, "tanh"), Layer(1, "identity"))))
    assert report.proof_widths == (3, 2, 1)
    assert "d_0-2-1" in widths_note(report) and "symbolic" in widths_note(report)
    assert report.numeric.error is None and "symbolic" in report.numeric.note
