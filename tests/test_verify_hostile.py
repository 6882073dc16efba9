"""The faults a hostile trial of `symbp verify` found, each as a kind: LaTeX displays \\[ … \\] and
$$ … $$ read like the other display environments, a whole --tex run bounded in time with the
unchecked steps named; a "did you mean" only for a repair that makes the claim correct; claims
about any layer l; a counterexample in the claim's layout; --tex without a spec says which
network it checks against."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

import symbp
from symbp.verify.chains import judge_steps
from symbp.verify.compare import Verdict, tex_steps, verify

LECTURE = symbp.lecture_spec()
BP1 = r"\delta_3 = 2(z_3 - y) \circ \sigma'_3"
BP2 = r"\delta_2 = (W_3^T \delta_3) \circ \sigma'_2"


# 1. displays and the run's budget ------------------------------------------------------------
@pytest.mark.parametrize(
    "display",
    [
        "\\[ {} \\]",
        "\\[\n  {}\n\\]",
        "$$ {} $$",
        "$${}$$",
        "\\begin{{equation*}} {} \\end{{equation*}}",
    ],
)
def test_displays_are_read_as_equations(display):
    source = f"Text before.\n{display.format(BP1)}\nText after.\n"
    assert [s.claim for s in tex_steps(source)] == [BP1]


def test_displays_keep_their_lines_and_skip_escapes():
    source = (
        "Costs \\$\\$ 5, and \\\\[2pt] is a row break.\n"  # 1: no display
        f"\\[ {BP1} \\]\n"  # 2
        "$$\n"  # 3
        f"{BP2}\n"  # 4
        "$$ and an unclosed \\[ here\n"  # 5
    )
    steps = tex_steps(source)
    assert [(s.line, s.claim) for s in steps] == [(2, BP1), (4, BP2)]


def test_a_row_break_with_space_is_not_read_as_a_formula():
    source = f"\\begin{{align}}\n{BP1} \\\\[4pt]\n{BP2}\n\\end{{align}}\n"
    assert [s.claim for s in tex_steps(source)] == [BP1, BP2]


def _slow_judge(spec, claim) -> Verdict:
    """A judge that spends 0.05 s of CPU time on every claim, then calls it correct."""
    end = time.process_time() + 0.05
    while time.process_time() < end:
        pass
    return Verdict(claim, "correct", "")


def test_a_claim_written_twice_is_judged_once():
    calls = []
    judge = lambda spec, claim: calls.append(claim) or Verdict(claim, "correct", "")  # noqa: E731
    steps = tex_steps(f"\\[ {BP1} \\]\n\\[ {BP2} \\]\n\\[ {BP1} \\]\n")
    assert len(judge_steps(LECTURE, steps, judge)) == 3 and calls == [BP1, BP2]


def test_the_run_stops_when_its_budget_is_spent():
    steps = tex_steps("".join(f"\\[ \\delta_3 = {k} z_3 \\]\n" for k in range(100)))
    reports = judge_steps(LECTURE, steps, _slow_judge, seconds=0.5)
    assert 0 < len(reports) < len(steps)
    assert [r.step for r in reports] == steps[: len(reports)]  # a prefix, in order
    assert len(judge_steps(LECTURE, steps[:5], _slow_judge, seconds=60)) == 5


def test_cli_names_the_steps_left_unchecked(tmp_path, symbp_main):
    tex = tmp_path / "long.tex"
    rows = (f"\\[ \\delta_3 = {k} (z_3 - y) \\]\n$$\\delta_2 = {k} z_2$$\n" for k in range(150))
    tex.write_text("".join(rows))
    run = symbp_main("verify", "--tex", tex, "--seconds", "0.5")
    assert run.returncode == 4, run.stdout[-500:]
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("not checked: ") and "of 300 steps (lines " in last, last
    assert "--seconds" in last
    checked = sum(line.startswith("line ") for line in run.stdout.splitlines())
    assert f"not checked: {300 - checked} of 300" in last


@pytest.mark.parametrize("seconds", ["0", "-1", "nan", "inf", "soon"])
def test_seconds_must_be_a_positive_number(symbp_main, seconds):
    run = symbp_main("verify", "--claim", BP1, "--seconds", seconds)
    assert run.returncode == 2 and "--seconds" in run.stderr and "\n" not in run.stderr.strip()


def test_tex_without_a_spec_says_which_network_it_checks(tmp_path, symbp_main):
    tex = tmp_path / "d.tex"
    tex.write_text(f"\\[ {BP1} \\]\n")
    run = symbp_main("verify", "--tex", tex)
    assert run.returncode == 0
    assert "no SPEC given" in run.stderr and "lecture" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    spec = symbp.__file__.replace("symbp/__init__.py", "examples/lecture.toml")
    assert symbp_main("verify", spec, "--tex", tex).stderr == ""


# 2. a hint only when it makes the claim correct ------------------------------------------------
@pytest.mark.parametrize(
    "claim",
    [
        r"\delta_2 = W_3^T \circ \delta_3",  # W₃ᵀ δ₃ alone is not δ₂ (σ′₂ is missing)
        r"\delta_2 = (W_3^T \circ \delta_3) \circ \sigma'_3",  # two edits away
        r"\delta_1 = W_2 \delta_3",
        r"\delta_2 = \delta_3 W_3 \circ \sigma'_2",
    ],
)
def test_no_hint_when_no_repair_makes_the_claim_correct(claim):
    verdict = verify(LECTURE, claim)
    assert verdict.status == "wrong"
    assert "did you mean" not in verdict.message and "matrix product" not in verdict.message


@pytest.mark.parametrize(
    "spec, claim",
    [
        (LECTURE, r"\delta_2 = (W_3^T \circ \delta_3) \circ \sigma'_2"),
        (LECTURE, r"\delta_2 = (W_3^T \delta_3) \sigma'_2"),
        (LECTURE, r"\delta_2 = (W_3 \delta_3) \circ \sigma'_2"),
        (LECTURE, r"\frac{\partial f}{\partial W_2} = \delta_2 z_1"),
        (replace(LECTURE, layout="rows"), r"\delta_2 = (\delta_3 W_3) \circ \sigma'_2"),
    ],
)
def test_every_hint_is_a_claim_verify_calls_correct(spec, claim):
    verdict = verify(spec, claim)
    assert verdict.status == "wrong" and "did you mean " in verdict.message, verdict.message
    suggested = verdict.message.split("did you mean ")[1].rsplit("?", 1)[0]
    assert verify(spec, suggested).status == "correct", suggested


# 3. claims about any layer --------------------------------------------------------------------
@pytest.mark.parametrize(
    "claim, expected",
    [
        (r"\delta^l = ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)", "correct"),
        (r"\delta^{(l)} = ((W^{(l+1)})^T \delta^{(l+1)}) \circ \sigma'(z^{(l)})", "correct"),
        (r"\delta_j = (W_{j+1}^T \delta_{j+1}) \circ \sigma'_j", "correct"),
        (r"\frac{\partial f}{\partial W_j} = \delta_j z_{j-1}^T", "correct"),
        (r"\frac{\partial C}{\partial w^l} = \delta^l (a^{l-1})^T", "correct"),
        (r"\delta^l = ((w^{l})^T \delta^{l+1}) \odot \sigma'(z^l)", "wrong"),
        (r"\frac{\partial f}{\partial W_j} = \delta_j z_j^T", "wrong"),
        (r"\delta_j = (W_{j+1}^T \delta_{j+1}) \circ \sigma'_{j+1}", "wrong"),
    ],
)
def test_a_claim_about_any_layer_holds_at_every_layer(claim, expected):
    verdict = verify(LECTURE, claim)
    assert verdict.status == expected, verdict
    if expected == "correct":
        assert "at every layer" in verdict.message
    else:
        assert verdict.message.startswith(("for l = ", "for j = ")), verdict.message


def test_two_layer_variables_cannot_be_checked():
    verdict = verify(LECTURE, r"\delta_j = (W_{l+1}^T \delta_{l+1}) \circ \sigma'_j")
    assert verdict.status == "unsupported"


@pytest.mark.parametrize(
    "claim",
    [
        r"\delta_{2,i} = \sum_k W_{3,ki} \delta_{3,k} \sigma'(u_{2,i})",  # entries of a matrix
    ],
)
def test_entries_of_matrices_cannot_be_checked(claim):
    assert verify(LECTURE, claim).status == "unsupported"


# 5. the claim's layout ------------------------------------------------------------------------
def test_rows_counterexample_is_laid_out_as_the_claim():
    """∂f/∂W_3 is 3×2 with samples as rows: the worst entry and W_3 are printed 3×2."""
    rows = replace(LECTURE, layout="rows")
    verdict = verify(rows, r"\frac{\partial f}{\partial W_3} = 3 z_2^T \delta_3")
    assert verdict.status == "wrong" and "off by a factor 3" in verdict.message
    columns = verify(LECTURE, r"\frac{\partial f}{\partial W_3} = 3 \delta_3 z_2^T")
    entry = lambda v: v.message.split("entry (")[1].split(")")[0]  # noqa: E731
    assert entry(verdict) == ", ".join(reversed(entry(columns).split(", ")))
    w3 = verdict.point.split("W3 = ")[1].split("]], ")[0]
    assert w3.count("[") == 4  # [[a, b], [c, d], [e, f]]: three rows of two


# 5. symbp verifies its own perceptron documents -------------------------------------------------
PERCEPTRON = symbp.load_spec(
    symbp.__file__.replace("symbp/__init__.py", "examples/perceptron.toml")
)


@pytest.mark.parametrize("beamer", [False, True])
def test_symbps_own_perceptron_document_verifies(beamer):
    steps = tex_steps(symbp.latex_document(PERCEPTRON, beamer=beamer))
    reports = judge_steps(PERCEPTRON, steps)
    assert any(r"\text{rule}" in s.claim for s in steps)  # the rule's rows are checked too
    assert [r for r in reports if r.verdict.status != "correct"] == []


@pytest.mark.parametrize(
    "claim, expected",
    [
        (r"\Delta_{\text{rule}} \delta_1 = 2(z_1 - y)", "correct"),
        (r"\Delta_{\text{rule}} \frac{\partial f}{\partial W_1} = 2(z_1 - y) z_0^T", "correct"),
        (r"\Delta_{\text{rule}} \frac{\partial f}{\partial b_1} = \delta_1", "correct"),
        (r"\Delta_{\text{rule}} \delta_1 = 3(z_1 - y)", "wrong"),
        (r"\Delta_{\text{rule}} \delta_1 = 2(z_1 - y) \circ \sigma'_1", "wrong"),  # that is 0
        (r"\delta_1 = 2(z_1 - y)", "wrong"),  # the gradient's δ_1 is 0 (σ′ of the step)
        (r"\delta_1 = \mathbf{0}", "correct"),
        (r"\frac{\partial f}{\partial W_1} = 0", "correct"),
    ],
)
def test_rosenblatts_rule_and_the_vanishing_gradient(claim, expected):
    assert verify(PERCEPTRON, claim).status == expected


def test_the_rule_needs_a_step_activation():
    verdict = verify(LECTURE, r"\Delta_{\text{rule}} \delta_3 = 2(z_3 - y)")
    assert verdict.status == "wrong" and "step" in verdict.message
