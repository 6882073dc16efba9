"""Loss registry: name -> scalar SymPy expression l(z, y) per output component.

The per-sample loss is the sum of l over the d_J components; the ERM objective reduces it over the N
samples (mean, as in the lecture's eq. (2), or sum).  dl/dz comes from `sympy.diff`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

z = sp.Symbol("z", real=True)  #: one component of the output z_J
y = sp.Symbol("y", real=True)  #: the matching component of the target


@dataclass(frozen=True)
class Loss:
    name: str
    expr: sp.Expr  # l(z, y), summed over components
    latex: str  # how the per-sample loss reads in the lecture's notation (z, y are placeholders)
    unicode: str


LOSSES: dict[str, Loss] = {
    loss.name: loss for loss in (Loss("l2", (y - z) ** 2, r"\|{y} - {z}\|_2^2", "‖{y} − {z}‖₂²"),)
}


@cache
def gradient(name: str) -> sp.Expr:
    """dl/dz, factored (for l2: 2(z - y))."""
    return sp.factor_terms(sp.diff(LOSSES[name].expr, z))
