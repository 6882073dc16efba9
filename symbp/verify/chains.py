"""Whole derivations: every step of the chains of equalities in a LaTeX source, judged in order.

Each '=' of a chain is a claim about the chain's left side (`compare.tex_steps`), so each right
side is compared with the derivation; a right side equal to the derivation is equal to the step
before it exactly when that one was right too.  What a step adds to its own verdict: the first
wrong step of its chain; a wrong step after a wrong one, whether it carries that error (both
right sides equal at the sample point) or adds another; a right step after a wrong one, that the
'=' between them does not hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..spec.model import Spec
from .compare import TexStep, Verdict, same_right_sides, verify


@dataclass(frozen=True)
class StepReport:
    """A step, its verdict, and what it means in its chain ("" when nothing more to say)."""

    step: TexStep
    verdict: Verdict
    note: str = ""


def judge_steps(
    spec: Spec, steps: list[TexStep], judge: Callable[[Spec, str], Verdict] = verify
) -> list[StepReport]:
    """The verdict on every step of `steps` (in source order, as `tex_steps` gives them) and
    its place in its chain: see the module docstring."""
    reports: list[StepReport] = []
    first_wrong: dict[int, int] = {}  # chain (counted from 1) -> line of its first wrong step
    chain = 0
    for step in steps:
        verdict = judge(spec, step.claim)
        before = reports[-1] if reports else None
        if step.step == 1 or before is None or before.step.chain != step.chain:
            chain, before = chain + 1, None  # the first step of a chain (two may share a line)
        note = _note(spec, step, verdict, before, chain, first_wrong)
        reports.append(StepReport(step, verdict, note))
    return reports


def _note(spec: Spec, step: TexStep, verdict: Verdict, before, chain: int, first_wrong) -> str:
    """What `step` means in its chain, given the report on the step `before` it in the same
    chain (None for a chain's first step); records the chain's first wrong step in
    `first_wrong` (chain number -> line)."""
    previous_wrong = before is not None and before.verdict.status == "wrong"
    if verdict.status == "wrong":
        if chain not in first_wrong:
            first_wrong[chain] = step.line
            where = f" of the chain on line {step.chain}" if step.step > 1 else ""
            return f"first wrong step{where}"
        if previous_wrong:
            same = same_right_sides(spec, before.step.claim, step.claim)
            if same:
                return f"equal to line {before.step.line}'s right side: it carries that error"
            if same is False:
                return f"not equal to line {before.step.line}'s right side either"
        return ""
    if verdict.status == "correct" and previous_wrong:
        return (
            f"right again, so the '=' from line {before.step.line} (wrong) to this line "
            "does not hold"
        )
    return ""
