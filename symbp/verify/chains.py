"""Whole derivations: every step of the chains of equalities in a LaTeX source, judged in order.

Each '=' of a chain is a claim about the chain's left side (`compare.tex_steps`), so each right
side is compared with the derivation; a right side equal to the derivation is equal to the step
before it exactly when that one was right too.  What a step adds to its own verdict: the first
wrong step of its chain; a wrong step after a wrong one, whether it carries that error (both
right sides equal at the sample point) or adds another; a right step after a wrong one, that the
'=' between them does not hold.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..budget import within
from ..spec.model import Spec
from .compare import TexStep, Verdict, same_right_sides, verify


@dataclass(frozen=True)
class StepReport:
    """A step, its verdict, and what it means in its chain ("" when nothing more to say)."""

    step: TexStep
    verdict: Verdict
    note: str = ""


TEX_SECONDS = 60.0  #: CPU seconds for all the steps of one LaTeX source (`verify --tex`)


def judge_steps(
    spec: Spec,
    steps: list[TexStep],
    judge: Callable[[Spec, str], Verdict] = verify,
    seconds: float | None = None,
) -> list[StepReport]:
    """The verdict on every step of `steps` (in source order, as `tex_steps` gives them) and
    its place in its chain: see the module docstring.  With `seconds`, the whole run takes at
    most that much CPU time: the steps not judged by then are left out of the reports (the
    step during which the budget ran out too, its verdict cut short), so the caller can say
    which were not checked."""
    reports: list[StepReport] = []
    first_wrong: dict[int, int] = {}  # chain (counted from 1) -> line of its first wrong step
    chain = 0
    deadline = None if seconds is None else time.process_time() + seconds
    verdicts: dict[str, Verdict] = {}  # a claim written twice (a summary repeats) is judged once
    for step in steps:
        before = reports[-1] if reports else None
        first = step.step == 1 or before is None or before.step.chain != step.chain
        if first:  # the first step of a chain (two may share a line)
            chain, before = chain + 1, None

        def work(step=step, before=before, chain=chain):
            verdict = verdicts.get(step.claim) or judge(spec, step.claim)
            return verdict, _note(spec, step, verdict, before, chain, first_wrong)

        if deadline is None:
            verdict, note = work()
        else:
            left = deadline - time.process_time()
            done = within(left, work, lambda: None) if left > 0 else None
            if done is None or time.process_time() >= deadline:
                break  # out of time: this step's verdict may be a budget's fallback
            verdict, note = done
        verdicts[step.claim] = verdict
        if verdict.status == "wrong":
            first_wrong.setdefault(chain, step.line)
        reports.append(StepReport(step, verdict, note))
    return reports


def _note(spec: Spec, step: TexStep, verdict: Verdict, before, chain: int, first_wrong) -> str:
    """What `step` means in its chain, given the report on the step `before` it in the same
    chain (None for a chain's first step) and the chains' first wrong steps so far,
    `first_wrong` (chain number -> line)."""
    previous_wrong = before is not None and before.verdict.status == "wrong"
    if verdict.status == "wrong":
        if chain not in first_wrong:
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
