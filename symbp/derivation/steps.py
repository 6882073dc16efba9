"""What every renderer reads: `Reason`, `Step`, `Chain`, `Assumption`, `Pass` and `Derivation`.

A derivation knows no output format; the printers and templates turn it into Unicode, LaTeX or
NumPy.  All expressions are SymPy objects built from the symbols of `naming.Names`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..catalog.activations import Derivative
from ..graph.ops import Graph
from ..spec.model import Spec


@dataclass(frozen=True)
class Reason:
    """Why an `=` holds: the chain rule, the equation of layer `layer`, the loss, the definition
    of the adjoint `symbol`, the sum of the adjoints of `symbol`'s consumers (the multivariate
    chain rule), a simplification of the lecture's (under `note`), or a weight shared by every
    time step of a recurrent layer (its gradient sums the steps' shares: BPTT)."""

    kind: str  # "chain" | "layer" | "loss" | "define" | "sum" | "simplify" | "decay" | "time"
    layer: int | None = None
    symbol: sp.Basic | None = None
    note: str | None = None


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
class Assumption:
    """What a simplification assumed beyond the spec, as data: `kind` (a constant of
    `lecture`), the sentence every renderer states, and the layer it concerns."""

    kind: str
    text: str
    layer: int | None = None


@dataclass(frozen=True)
class Pass:
    """One reverse pass over `graph`: the forward equations, the named adjoints, the gradients.

    `backward` lists (symbol, expr) in evaluation order: each named adjoint (delta_j, zeta_j) and
    each local derivative a rule uses (sigma'_j), defined before use.  `gradients` maps "W1",
    "b1", ... to d f / d param.  `scale` is the reduction factor c in f = c * (sum of the
    per-sample losses); `penalty` the weight-decay terms that `objective` adds after it
    (0 without); `contributions` maps each value that feeds several ops to the adjoints that add
    up to its own (the multivariate chain rule).
    """

    names: object
    graph: Graph
    objective: sp.Expr
    scale: sp.Expr
    backward: tuple[tuple[sp.MatrixSymbol, sp.Basic], ...]
    gradients: dict[str, sp.Basic]
    contributions: dict
    penalty: sp.Expr = sp.S.Zero
    data_objective: sp.Expr | None = None  #: f without `penalty`: c * (sum of the losses)

    def __post_init__(self):
        if self.data_objective is None:
            object.__setattr__(self, "data_objective", self.objective)

    def param(self, key: str) -> sp.MatrixSymbol:
        """The parameter whose gradient key is `key` ("W2" -> W_2, "K1" -> K_1)."""
        return next(prm.symbol for prm in self.graph.params if prm.key == key)

    @property
    def forward(self) -> tuple[tuple[sp.Basic, sp.Basic], ...]:
        """(value, equation) of every op but the loss, in evaluation order."""
        return tuple((op.output, op.equation) for op in self.graph.ops[:-1])

    @property
    def adjoints(self) -> tuple[tuple[sp.MatrixSymbol, sp.Basic], ...]:
        """The named adjoints (delta_j, zeta_j) and their definitions, in evaluation order."""
        named = set(self.graph.named.values())
        return tuple((lhs, rhs) for lhs, rhs in self.backward if lhs in named)

    @property
    def sigma_primes(self) -> tuple[tuple[sp.MatrixSymbol, sp.Basic], ...]:
        """The local derivatives the adjoints use (sigma'_j), in the forward pass's order (the
        reverse pass defines them the other way round)."""
        named = set(self.graph.named.values())
        return tuple((lhs, rhs) for lhs, rhs in reversed(self.backward) if lhs not in named)


@dataclass(frozen=True)
class Derivation:
    """Everything symbp derives for one spec: per-sample pass, batch pass, chains, sigma', and
    the assumptions of its simplifications (each once), which every renderer and the proof read."""

    spec: Spec
    sample: Pass
    batch: Pass
    chains: tuple[Chain, ...]
    derivatives: tuple[Derivative | None, ...]  # sigma'_j, j = 1..J (None: softmax)
    assumptions: tuple[Assumption, ...] = ()

    def assumes(self, kind: str) -> bool:
        return any(a.kind == kind for a in self.assumptions)

    def _repr_latex_(self) -> str:
        from ..printing.latex import derivation_summary

        return derivation_summary(self)

    def __str__(self) -> str:
        from ..output.report import render_text

        return render_text(self)
