"""A corpus of backprop claims restated in the notations real derivations use (course notes,
textbooks, Q&A threads), one module per kind of notation; each claim says whether it is
mathematically TRUE or FALSE for its spec and carries its meaning for the independent oracle
(`oracle.py`): the left side's quantity and the right side as a lambda over a random `Point`."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

KINDS = (
    "sigma_prime_outputs",
    "transposes",
    "partials",
    "diag",
    "superscripts",
    "functions",
    "gradient_names",
    "batch",
    "residual",
    "softmax_ce",
    "bce_sigmoid",
    "chains",
    "other_specs",
    "sympy_style",
    "conventions",
)


@dataclass(frozen=True)
class Claim:
    """One corpus entry: `tex` about examples/<spec>.toml, mathematically `true` or not; `lhs` is
    the left side's quantity for the oracle ("delta" | "dz" | "dW" | "db", layer), `rhs` the right
    side written as NumPy over an `oracle.Point`, `batch` whether it is about N samples."""

    spec: str
    tex: str
    true: bool
    lhs: tuple
    rhs: Callable
    batch: bool = False
    kind: str = ""


def T(spec, tex, lhs, rhs, batch=False) -> Claim:
    """A claim that holds."""
    return Claim(spec, tex, True, lhs, rhs, batch)


def F(spec, tex, lhs, rhs, batch=False) -> Claim:
    """A claim that does not hold (a slip as students make them)."""
    return Claim(spec, tex, False, lhs, rhs, batch)


def load() -> list[Claim]:
    """Every claim of every kind, each labelled with its kind (its module's name)."""
    claims = []
    for kind in KINDS:
        module = importlib.import_module(f"{__name__}.{kind}")
        claims += [Claim(c.spec, c.tex, c.true, c.lhs, c.rhs, c.batch, kind) for c in module.CLAIMS]
    return claims
