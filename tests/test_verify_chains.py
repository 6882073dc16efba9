"""Whole derivations: `symbp verify --tex` judges every '=' of a chain, one line per step, and
names the first wrong one.  The mathematics of the student's fixture is checked against an
independent NumPy reference (central differences), not against symbp's output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import symbp
from symbp.verify.chains import judge_steps
from symbp.verify.compare import TexStep, same_right_sides, tex_steps

from . import mlp_reference as ref
from .conftest import ROOT

LECTURE = symbp.lecture_spec()
STUDENT = ROOT / "tests" / "fixtures" / "student_derivation.tex"


def _marked(marker: str) -> list[int]:
    """Lines of the fixture whose comment starts with `marker` (1-based)."""
    lines = STUDENT.read_text().splitlines()
    return [i for i, line in enumerate(lines, 1) if f"% step: {marker}" in line]


def test_steps_are_numbered_in_their_chains():
    source = (
        "\\begin{align*}\n"
        "\\frac{\\partial f}{\\partial W_3}\n"  # 2: the left side alone
        " &= a \\\\\n"  # 3
        " &\\overset{\\text{CR}}{=} b = c \\\\\n"  # 4: two steps
        "\\delta_2 &= d, \\qquad \\Delta_2 = e\n"  # 5: two chains side by side
        "\\end{align*}\n"
        "\\begin{align*}\n &= g\n\\end{align*}\n"  # 8: continues Delta_2
    )
    assert tex_steps(source) == [
        TexStep(3, r"\frac{\partial f}{\partial W_3} = a", 2, 1),
        TexStep(4, r"\frac{\partial f}{\partial W_3} = b", 2, 2),
        TexStep(4, r"\frac{\partial f}{\partial W_3} = c", 2, 3),
        TexStep(5, r"\delta_2 = d", 5, 1),
        TexStep(5, r"\Delta_2 = e", 5, 1),
        TexStep(8, r"\Delta_2 = g", 5, 2),
    ]


def test_a_step_is_on_the_line_of_its_equals_sign():
    source = "\\begin{equation}\n\\delta_3\n  = a\n  = b\n\\end{equation}\n"
    assert [s.line for s in tex_steps(source)] == [3, 4]


def test_the_fixture_mathematics_by_central_differences():
    """The fixture's wrong line loses the loss's factor 2: its right side is half of df/dW_3,
    and the lines around it are df/dW_3 (the reference, one sample)."""
    Ws, X, Y = ref.network(LECTURE.widths, seed=5)
    _, zs = ref.forward(Ws, X)
    truth = ref.gradient_W(Ws, X, Y, 3)
    s3 = zs[3] * (1 - zs[3])
    right = (2 * (zs[3] - Y) * s3) @ zs[2].T  # 2(z_3 - y) dz_3/dW_3 = delta_3 z_2^T
    wrong = ((zs[3] - Y) * s3) @ zs[2].T
    assert np.allclose(right, truth, rtol=1e-5) and not np.allclose(wrong, truth, rtol=1e-2)
    assert np.allclose(wrong, truth / 2, rtol=1e-5)


@pytest.fixture
def run(symbp_main):
    return lambda *args: symbp_main("verify", *args)


def test_a_student_derivation_one_line_per_step(run):
    """The wrong middle step is reported on its own line, as the first wrong step, although the
    chain's last line is right; every other step is correct; one line per step and a summary."""
    (wrong,) = _marked("wrong")
    right = _marked("right")
    report = run("--tex", STUDENT)
    assert report.returncode == 1
    lines = report.stdout.splitlines()
    steps = [ln for ln in lines if ln.startswith("line ")]
    assert (
        len(steps) == len(tex_steps(STUDENT.read_text())) == len(right) + 2
    )  # "twice": 2 on one line
    assert [ln for ln in steps if "WRONG" in ln] == [
        ln for ln in steps if ln.startswith(f"line {wrong}: WRONG (first wrong step")
    ]
    assert len([ln for ln in steps if "WRONG" in ln]) == 1
    assert "--loss-scale 1/2" in next(ln for ln in steps if "WRONG" in ln)  # half of the truth
    for n in right:
        assert any(ln.startswith(f"line {n}: correct") for ln in steps), n
    after = next(ln for ln in steps if ln.startswith(f"line {wrong + 1}: "))
    assert after.startswith(f"line {wrong + 1}: correct (right again") and f"line {wrong}" in after
    assert lines[-1].endswith(f"first wrong step on line {wrong}")


def test_a_tex_file_without_equations_says_so(tmp_path, run):
    tex = tmp_path / "empty.tex"
    tex.write_text("\\begin{align}\nz_1 = \\sigma(W_1 x)\n\\end{align}\n")
    report = run("--tex", tex)
    assert report.returncode == 2 and "no equation about δ" in report.stderr
    assert "--tex" not in report.stderr.split("nothing to verify")[-1]


CHAIN = (
    "\\begin{align*}\n"
    "\\delta_3 &= 2(z_3 - y) \\circ \\sigma'_3 \\\\\n"  # 2 right
    "&= (z_3 - y) \\circ \\sigma'_3 \\\\\n"  # 3 wrong: half
    "&= \\sigma'_3 \\circ (z_3 - y) \\\\\n"  # 4 wrong, equal to line 3
    "&= 3 (z_3 - y) \\circ \\sigma'_3 \\\\\n"  # 5 wrong, not equal to line 4
    "&= \\mathrm{diag}(\\sigma'_3) \\, 2(z_3 - y)\n"  # 6 right again
    "\\end{align*}\n"
)


def test_each_step_is_read_against_the_one_before():
    reports = judge_steps(LECTURE, tex_steps(CHAIN))
    assert [r.verdict.status for r in reports] == ["correct", "wrong", "wrong", "wrong", "correct"]
    notes = [r.note for r in reports]
    assert notes[0] == ""
    assert notes[1] == "first wrong step of the chain on line 2"
    assert "carries that error" in notes[2] and "line 3" in notes[2]
    assert "not equal to line 4" in notes[3]
    assert "right again" in notes[4] and "line 5" in notes[4]


def test_same_right_sides_is_a_comparison_of_values():
    """a ∘ b = b ∘ a; a and 2a differ; a batch and a per-sample side cannot be compared."""
    a, b = r"\delta_3 = (z_3 - y) \circ \sigma'_3", r"\delta_3 = \sigma'_3 \circ (z_3 - y)"
    assert same_right_sides(LECTURE, a, b) is True
    assert same_right_sides(LECTURE, a, r"\delta_3 = 2(z_3 - y) \circ \sigma'_3") is False
    assert same_right_sides(LECTURE, a, r"\Delta_3 = (Z_3 - Y) \circ \Sigma'_3") is None
    assert same_right_sides(LECTURE, a, r"\delta_3 = (") is None


def test_batch_recursion_chain(run, tmp_path):
    """The batch recursion with Δ_j and Σ'_j, a wrong Σ' index found on its line."""
    tex = tmp_path / "batch.tex"
    tex.write_text(
        "\\begin{align}\n"
        "\\Delta_3 &= 2(Z_3 - Y) \\circ \\Sigma'_3 \\\\\n"
        "\\Delta_2 &= (W_3^T \\Delta_3) \\circ \\Sigma'_3 \\\\\n"
        "\\frac{\\partial f}{\\partial W_2} &= \\frac{1}{N} \\Delta_2 Z_1^T\n"
        "\\end{align}\n"
    )
    report = run("--tex", tex)
    steps = [ln for ln in report.stdout.splitlines() if ln.startswith("line ")]
    assert [ln.split(":")[1].strip().split(" ")[0] for ln in steps] == [
        "correct",
        "WRONG",
        "correct",
    ]
    assert steps[1].startswith("line 3: WRONG")


def test_split_gather_and_verbatim_are_read_as_latex_reads_them(symbp_main):
    """A chain in equation+split, a step in gather: each '=' is judged (they came back "cannot
    parse" or were skipped); an align shown inside verbatim is not an equation."""
    fixture = Path(__file__).parent / "fixtures" / "student_split_gather.tex"
    run = symbp_main("verify", "--tex", fixture)
    lines = run.stdout.splitlines()
    assert run.returncode == 1
    assert lines[0].startswith("line 5: correct") and lines[2].startswith("line 7: correct")
    assert lines[1].startswith("line 6: WRONG") and "factor 0.5" in lines[1]  # (z - y): half
    assert lines[3].startswith("line 11: WRONG") and "W₃ᵀ" in lines[3]
    assert not any(line.startswith("line 15") for line in lines)  # \delta_3 = 7 in verbatim
    assert lines[-1] == "derivation: 2 of 4 steps correct; first wrong step on line 6"
