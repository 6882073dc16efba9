"""Derive + LaTeX + generate for J = 10, 50, 100, 200 layers, against the naive route.

symbp's route names each adjoint (delta_j) as it goes, so the work per layer is constant.  The
naive route writes the loss out as one scalar expression of every weight entry and lets SymPy
differentiate it whole; it is shown at width 2 for small J, where it is already far slower.

    python benchmarks/derive_scaling.py
"""

from __future__ import annotations

import time

import sympy as sp
from sympy.core.cache import clear_cache

from symbp.derivation.derive import derive
from symbp.output.document import document_source
from symbp.output.module import module_source
from symbp.spec.model import Layer, Spec


def spec_of(depth: int, width) -> Spec:
    def w(j):
        return width if width != "symbolic" else sp.Symbol(f"d_{j}", integer=True, positive=True)

    return Spec("bench", w(0), tuple(Layer(w(j), "tanh") for j in range(1, depth + 1)))


def symbp_route(spec: Spec) -> dict[str, float]:
    derive.cache_clear()
    clear_cache()  # SymPy's own cache too: every run starts cold
    t0 = time.perf_counter()
    derive(spec)
    t1 = time.perf_counter()
    document_source(spec)
    t2 = time.perf_counter()
    if spec.is_concrete:
        module_source(spec)
    t3 = time.perf_counter()
    return {"derive": t1 - t0, "latex": t2 - t1, "generate": t3 - t2, "total": t3 - t0}


def naive_route(depth: int, width: int = 2) -> float:
    """Expand f = ||y - sigma(W_J ... sigma(W_1 x))||^2 entry-wise and differentiate it whole."""
    clear_cache()
    t0 = time.perf_counter()
    z = sp.Matrix(width, 1, lambda a, _: sp.Symbol(f"x{a}"))
    weights = []
    for j in range(1, depth + 1):
        W = sp.Matrix(width, width, lambda a, b, j=j: sp.Symbol(f"w{j}_{a}{b}"))
        weights.append(W)
        z = (W * z).applyfunc(sp.tanh)
    y = sp.Matrix(width, 1, lambda a, _: sp.Symbol(f"y{a}"))
    f = sum((y - z).applyfunc(lambda e: e**2))
    for W in weights:
        for w in W:
            sp.diff(f, w)
    return time.perf_counter() - t0


def main() -> None:
    symbp_route(
        spec_of(2, 4)
    )  # warm the activation cache (sigma' simplification, once per activation)
    print("symbp route: derive + LaTeX + generate (tanh layers)")
    print(f"{'J':>5} {'width':>9} {'derive':>8} {'latex':>8} {'generate':>9} {'total':>8}")
    totals = {}
    for width in (64, "symbolic"):
        for depth in (10, 50, 100, 200):
            t = symbp_route(spec_of(depth, width))
            totals[width, depth] = t["total"]
            print(
                f"{depth:>5} {width!s:>9} {t['derive']:>7.3f}s {t['latex']:>7.3f}s "
                f"{t['generate']:>8.3f}s {t['total']:>7.3f}s"
            )
    for width in (64, "symbolic"):
        print(f"t(200)/t(100), width {width}: {totals[width, 200] / totals[width, 100]:.2f}")
    print("\nnaive route vs symbp at width 2 (derivative only)")
    print(f"{'J':>5} {'naive':>9} {'symbp':>9} {'ratio':>8}")
    for depth in (1, 2, 3, 4, 5, 6):
        naive = naive_route(depth)
        ours = symbp_route(spec_of(depth, 2))["derive"]
        print(f"{depth:>5} {naive:>8.3f}s {ours:>8.4f}s {naive / ours:>7.0f}x")


if __name__ == "__main__":
    main()
