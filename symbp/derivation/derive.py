"""spec -> `Derivation`: the graph, the reverse pass with the lecture's simplifications, the chains.

This module only composes: `graph.build` turns the spec into ops (per sample and for the batch),
`reverse.reverse` walks them through the rule table, `lecture` supplies the simplifications and
their assumptions, and `chains` writes each gradient as the lecture derives it.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..catalog import activations
from ..graph.build import build
from ..naming import N, Names
from ..spec.model import Spec
from . import lecture
from .chains import FULL_CHAINS, chain
from .reverse import reverse
from .steps import Derivation, Pass


def one_pass(spec: Spec, batch: bool) -> tuple[Pass, dict, tuple]:
    """The reverse pass of `spec` per sample or for the batch, with the lecture's simplified
    adjoints; returns (pass, simplified adjoints, their assumptions)."""
    names = Names(spec.widths, batch=batch, sequences=spec.sequences, steps=spec.time_steps)
    g = build(spec, names)
    scale = 1 / N if batch and spec.reduction == "mean" else sp.Integer(1)
    simplified, assumptions = lecture.output_simplification(g, spec)
    return reverse(g, names, scale, simplified), simplified, assumptions


@lru_cache(maxsize=64)
def derive(spec: Spec) -> Derivation:
    """Derive the adjoint recursion and every gradient of `spec` (cached per spec)."""
    sample, simplified, assumptions = one_pass(spec, batch=False)
    batch = one_pass(spec, batch=True)[0]
    notes = {value: a.text for value, a in zip(simplified, assumptions, strict=True)}
    chains = []  # (layer, chain), shown from the top layer down
    for param in sample.graph.params:
        layer = sample.graph.consumers(param.symbol)[0].layer
        full = layer > spec.depth - FULL_CHAINS
        chains.append((layer, chain(sample, param.symbol, full, simplified, notes)))
    return Derivation(
        spec=spec,
        sample=sample,
        batch=batch,
        chains=tuple(c for _, c in sorted(chains, key=lambda lc: -lc[0])),
        derivatives=tuple(
            activations.derivative(layer.sigma) if layer.sigma.elementwise else None
            for layer in spec.layers
        ),
        assumptions=assumptions,
    )
