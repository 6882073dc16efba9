"""What every renderer reads: `Reason`, `Step`, `Chain`, `Pass` and `Derivation`.

A derivation knows no output format; the printers and templates turn it into Unicode, LaTeX or
NumPy.  All expressions are SymPy objects built from the symbols of `naming.Names`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .activations import Derivative
from .spec import Spec


@dataclass(frozen=True)
class Reason:
    """Why an `=` holds: the chain rule, layer k's equation, the loss, the definition of delta_k,
    or SymPy's simplification (under `note`)."""

    kind: str  # "chain" | "layer" | "loss" | "delta" | "simplify"
    layer: int | None = None
    note: str | None = None  # for "simplify": the assumption SymPy's simplification used


@dataclass(frozen=True)
class Step:
    """``... = rhs`` because of `reason`."""

    rhs: sp.Basic
    reason: Reason


@dataclass(frozen=True)
class Chain:
    """The lecture's chain of equalities from ``d f / d target`` to its closed form."""

    target: sp.MatrixSymbol
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Pass:
    """One reverse pass: the forward equations, the delta recursion and the gradients.

    `forward` lists (lhs, rhs) in evaluation order (u_j, z_j for j = 1..J); `objective` is f;
    `deltas` lists (delta_j, expr) from j = J down to 1; `sigma_primes` (sigma'_j, expr) for
    the layers whose sigma' is not identically one; `gradients` maps "W1", "b1", ... to the
    gradient of f.  `scale` is the reduction factor c in f = c * sum of the per-sample losses.
    """

    names: object
    forward: tuple[tuple[sp.Basic, sp.Basic], ...]
    objective: sp.Expr
    scale: sp.Expr
    seed: sp.Basic
    deltas: tuple[tuple[sp.MatrixSymbol, sp.Basic], ...]
    sigma_primes: tuple[tuple[sp.MatrixSymbol, sp.Basic], ...]
    gradients: dict[str, sp.Basic]


@dataclass(frozen=True)
class Derivation:
    """Everything symbp derives for one spec: per-sample pass, batch pass, chains, sigma'."""

    spec: Spec
    sample: Pass
    batch: Pass
    chains: tuple[Chain, ...]
    derivatives: tuple[Derivative | None, ...]  # sigma'_j, j = 1..J (None: softmax)

    @property
    def assumptions(self) -> tuple[str, ...]:
        """What the derivation assumes beyond the spec: the notes of its SymPy simplification
        steps (e.g. "each target sums to one"), each once, in order.  Every renderer states
        these, from here."""
        notes = (
            step.reason.note for chain in self.chains for step in chain.steps if step.reason.note
        )
        return tuple(dict.fromkeys(notes))

    def _repr_latex_(self) -> str:
        from .printing.latex import derivation_summary

        return derivation_summary(self)

    def __str__(self) -> str:
        from .printing.text import render_text

        return render_text(self)
