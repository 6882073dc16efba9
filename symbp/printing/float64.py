"""Which exact form a code printer keeps: the one float64 evaluates accurately.

`stable_form` tries `expr` with `rewrites.REWRITES` applied, then its `rewrites.tanh_form`s, and
keeps the first that float64 evaluation *as the given printer prints it* agrees with SymPy's
50-digit evaluation on `GRID` (`inaccurate_points`).  `float64_trouble` says why an activation
cannot be emitted accurately.  The printer class is a parameter, so this module imports no
printer and every backend checks its own spelling.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import sympy as sp

from ..budget import within
from ..catalog.activations import derivative, s, t
from .rewrites import apply_rewrites, tanh_form

#: where a form is checked: 0 and ±10^k for 101 exponents k in [-2, 4]
GRID = np.concatenate([-np.logspace(4, -2, 50), [0.0], np.logspace(-2, 4, 50)])
RTOL, ATOL = 1e-6, 1e-12  #: what "accurate" means: |float64 - exact| <= RTOL |exact| + ATOL
LARGEST = 1e300  #: exact values beyond this are not expected to be representable


@cache
def _numpy_function(expr: sp.Expr, x: sp.Symbol, printer: type):
    """`expr` as `printer` (a NumPy printer class) prints it, as a function of a float64 array."""
    namespace = {printer.module: np, "math": math}
    return sp.lambdify(x, expr, modules=[namespace, "numpy"], printer=printer({}))


def float64_values(expr: sp.Expr, x: sp.Symbol, points: np.ndarray, printer: type):
    """`expr` evaluated as `printer` prints it, at `points`; and a mask of the points where NumPy
    overflowed, divided by zero or made a NaN (each such point is evaluated alone to find it)."""
    f = _numpy_function(expr, x, printer)
    with np.errstate(all="ignore"):
        values = np.broadcast_to(np.asarray(f(points), dtype=float), points.shape).copy()
    warned = np.zeros(points.shape, dtype=bool)
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            f(points)
    except FloatingPointError:
        for i, p in enumerate(points):
            try:
                with np.errstate(over="raise", divide="raise", invalid="raise"):
                    f(np.array([p]))
            except FloatingPointError:
                warned[i] = True
    return values, warned


@cache
def exact_values(expr: sp.Expr, x: sp.Symbol, points: tuple[float, ...]) -> tuple:
    """SymPy's 50-digit values of `expr` at `points`; None where not a finite real."""
    out = []
    for p in points:
        try:
            v = expr.xreplace({x: sp.Float(p, 50)}).evalf(50)
        except (ValueError, TypeError, ZeroDivisionError):
            v = None
        out.append(float(v) if v is not None and v.is_real and v.is_finite else None)
    return tuple(out)


def inaccurate_points(
    exact: sp.Expr, printed: sp.Expr, x: sp.Symbol, printer: type, points=GRID, inputs=None
) -> np.ndarray:
    """The points p of `points` where float64 evaluation of `printed` at `inputs` (default: the
    points themselves) is not within RTOL/ATOL of `exact` at p, or warns, although the exact
    value is a finite real of magnitude at most LARGEST."""
    inputs = points if inputs is None else inputs
    want = exact_values(exact, x, tuple(float(p) for p in points))
    got, warned = float64_values(printed, x, np.asarray(inputs, dtype=float), printer)
    bad = []
    for p, w, g, warn in zip(points, want, got, warned, strict=True):
        if w is None or abs(w) > LARGEST:
            continue
        if warn or not np.isfinite(g) or abs(g - w) > RTOL * abs(w) + ATOL:
            bad.append(p)
    return np.array(bad)


@cache
def stable_form(expr: sp.Expr, x: sp.Symbol, printer: type) -> sp.Expr:
    """The first of `expr` with `REWRITES` applied, and the `tanh_form`s of it, that float64
    evaluates accurately on GRID; the first candidate if none does.  Exact in every case.
    (Cached: the check evaluates at 50 digits.)"""
    rewritten = apply_rewrites(expr)
    if x not in expr.free_symbols or expr.has(sp.Piecewise, sp.Heaviside):
        return rewritten  # masks and branches: nothing grows without bound
    candidates = [rewritten]
    for form in (tanh_form(expr, x), tanh_form(rewritten, x)):
        if form is not None:
            candidates.append(apply_rewrites(form))
    for c in candidates:
        if len(candidates) == 1 or not len(inaccurate_points(expr, c, x, printer)):
            return c
    return rewritten


CHECK_SECONDS = 10.0  #: CPU-time budget of `float64_trouble` for one activation


def float64_trouble(activation, printer: type) -> str | None:
    """Why the emitted sigma or sigma' of an element-wise `activation` cannot be trusted in
    float64 (the pre-activations on GRID, within [-1e4, 1e4], where it overflows or is not
    accurate although the exact value is representable), or None if both are accurate there.
    sigma' is checked as the module computes it: from z = sigma(u) when it is written in z.
    A check that needs more than `CHECK_SECONDS` of CPU time (50-digit values of a tower of
    powers, say) is a reason too: what could not be checked is not emitted."""
    return within(
        CHECK_SECONDS,
        lambda: _float64_trouble(activation, printer),
        lambda: (
            f"sigma and sigma' could not be checked within {CHECK_SECONDS:g} s of CPU time "
            "against SymPy at 50 digits on [-1e4, 1e4]; write a simpler formula"
        ),
    )


def _float64_trouble(activation, printer: type) -> str | None:
    sigma = stable_form(activation.expr, t, printer)
    d = derivative(activation)
    prime = stable_form(d.expr, d.var, printer).xreplace({s: sigma}) if d.of_output else None
    prime = stable_form(d.expr, t, printer) if prime is None else prime
    for what, exact, printed in (("sigma", activation.expr, sigma), ("sigma'", d.raw, prime)):
        if t not in printed.free_symbols:
            continue
        bad = inaccurate_points(exact, printed, t, printer)
        if len(bad):
            return (
                f"{what}(u) as emitted overflows or loses float64 accuracy for u in "
                f"[{bad.min():.4g}, {bad.max():.4g}] (checked on [-1e4, 1e4] against SymPy at "
                "50 digits); write the formula so that it stays finite there, e.g. with "
                "exp(-Abs(t))"
            )
    return None
