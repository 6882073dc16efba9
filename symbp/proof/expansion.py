"""Proof by expansion: the derived recursion equals SymPy's entry-wise derivative, exactly.

At small concrete widths every weight, bias, input and target entry becomes a scalar symbol and
the forward pass is written out as explicit SymPy matrices.  SymPy differentiates the scalar
objective by each parameter entry; the derivation's own expressions (deltas, sigma', gradients)
are evaluated on the same matrices; the difference must expand to zero.  Every layer whose sigma'
the derivation keeps symbolic gets an undefined function sigma_j, so the proof covers every
differentiable activation; the rewrite of each concrete sigma' was proved in `activations`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp
from sympy import (
    HadamardPower,
    HadamardProduct,
    MatAdd,
    MatMul,
    MatrixExpr,
    MatrixSymbol,
    OneMatrix,
    Transpose,
    ZeroMatrix,
)
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.diagonal import DiagMatrix

from ..budget import within
from ..catalog import activations
from ..derivation.derive import derive
from ..derivation.lecture import SIGMA_PRIME_OF_OUTPUT, TARGETS_SUM_TO_ONE
from ..errors import SpecError, SymbpError
from ..graph.cells import Apply
from ..graph.nodes import ElementSum, Elementwise, LeastSquares, LogSumExp, Sigma, Stack, SymbpNode
from ..graph.recurrence import Bptt, Recurrence
from ..naming import N
from ..spec.model import RECURRENT, Spec
from . import unrolled

SAMPLES = 2  #: columns used for the proof of the batch form


@dataclass(frozen=True)
class Check:
    """One proved identity: `what` over `entries` scalar entries; `ok` is None when the proof
    was not attempted to the end (out of time), which is neither a proof nor a failure."""

    what: str
    entries: int
    ok: bool | None


def evaluate(expr, env: dict, n: int = 1, extra: dict | None = None):
    """Evaluate a derivation expression on explicit matrices (`env`: MatrixSymbol -> Matrix).
    `extra` maps further node classes to handlers ``(node, go) -> value``."""

    def go(e):
        for cls, handler in (extra or {}).items():
            if isinstance(e, cls):
                return handler(e, go)
        if isinstance(e, Apply) and ("apply", e.name) in env:  # the proof's stand-in for a gate
            return env[("apply", e.name)](go(e.arg))
        if isinstance(e, SymbpNode) and hasattr(e, "value"):  # a node stating its own value
            return e.value(go)
        if isinstance(e, MatrixSymbol):
            return env[e]
        if isinstance(e, Transpose):
            return go(e.arg).T
        if isinstance(e, MatMul):
            coeff, mats = e.as_coeff_matrices()
            out = go(mats[0])
            for m in mats[1:]:
                out = out * go(m)
            return out * sp.sympify(coeff).subs(N, n)
        if isinstance(e, MatAdd):
            terms = [go(a) for a in e.args]
            return sum(terms[1:], terms[0])
        if isinstance(e, HadamardProduct):
            out = go(e.args[0])
            for a in e.args[1:]:
                out = out.multiply_elementwise(go(a))
            return out
        if isinstance(e, HadamardPower):
            return go(e.base).applyfunc(lambda v: v**e.exp)
        if isinstance(e, sp.Identity):  # SymPy turns a 1 x 1 all-ones matrix into I
            return sp.eye(sp.sympify(e.shape[0]).subs(N, n))
        if isinstance(e, ZeroMatrix):
            return sp.zeros(*(sp.sympify(k).subs(N, n) for k in e.shape))
        if isinstance(e, OneMatrix):
            return sp.ones(*(sp.sympify(k).subs(N, n) for k in e.shape))
        if isinstance(e, Elementwise):
            fn = e.function
            return go(e.arg).applyfunc(lambda v: fn.expr.subs(fn.variables[0], v))
        if isinstance(e, Sigma):
            return env[("sigma", e.layer)](go(e.arg))
        if isinstance(e, DiagMatrix):
            return sp.diag(*go(e.args[0]))
        if isinstance(e, Stack):
            return go(e.args[0]).col_join(go(e.args[1]))
        if isinstance(e, LogSumExp):  # log sum_i exp of each column, broadcast over the rows
            M = go(e.arg)
            return sp.Matrix(M.rows, M.cols, lambda _, c: sp.log(sum(M[:, c].applyfunc(sp.exp))))
        if isinstance(e, LeastSquares):
            A, T, B = (go(a) for a in e.args)
            return A.pinv() * T * B.pinv()
        if isinstance(e, ElementSum):
            return sum(go(e.arg))
        if isinstance(e, (sp.Mul, sp.Add)):
            parts = [go(a) for a in e.args]
            return sp.Mul(*parts) if isinstance(e, sp.Mul) else sp.Add(*parts)
        if isinstance(e, (Recurrence, Bptt)):  # step by step, each step's values bound too
            step = unrolled.forward if isinstance(e, Recurrence) else unrolled.backward
            values = [go(a) for a in e.operands]
            return step(e.info, lambda x, b: evaluate(x, {**env, **b}, n, extra), *values)
        if isinstance(e, (SymbpNode, MatrixExpr)):
            raise NotImplementedError(f"proof.evaluate has no case for {type(e).__name__}")
        return sp.sympify(e).subs(N, n)

    return go(expr)


class _Columnwise:
    """sigma_j as the proof applies it to an explicit matrix; `scalar` is the scalar function."""

    def __init__(self, scalar, softmax: bool = False):
        self.scalar, self.softmax = scalar, softmax

    def __call__(self, M: sp.Matrix) -> sp.Matrix:
        if not self.softmax:
            return M.applyfunc(self.scalar)
        out = M.applyfunc(sp.exp)
        for c in range(M.shape[1]):
            total = sum(out[:, c])
            out[:, c] = out[:, c] / total
        return out


class _OutputSigma(sp.Function):
    """Base of the output activation when delta_J was simplified with sigma' in terms of z: an
    otherwise undefined function whose derivative is that formula, so the proof covers every
    activation with the same sigma'(z) (for sigmoid: any s with s' = s (1 - s))."""


def _sigma(spec: Spec, d, j: int, output_rule: bool = False) -> _Columnwise:
    """Layer j's sigma for the proof: undefined, except where sigma' was written through the
    output (by the derivation, or for every layer if `output_rule`): then a function with
    that derivative rule."""
    layer = spec.layers[j - 1]
    if layer.sigma.kind == "softmax":
        return _Columnwise(None, softmax=True)
    deriv = activations.derivative(layer.sigma)
    if deriv.is_one:  # the derivation specialised sigma_j = identity; so does the proof
        return _Columnwise(lambda v: v)
    collapsed = any(a.kind == SIGMA_PRIME_OF_OUTPUT and a.layer == j for a in d.assumptions)
    if collapsed or (output_rule and deriv.of_output):
        formula = deriv.expr

        def fdiff(self, argindex=1):
            return formula.subs(activations.s, self)

        return _Columnwise(type(f"sigma{j}", (_OutputSigma,), {"fdiff": fdiff}))
    return _Columnwise(sp.Function(f"sigma{j}"))


def _gate(name: str) -> _Columnwise:
    """A recurrent cell's gate activation for the proof: an otherwise undefined function whose
    derivative is the activation's sigma' in terms of its output (sigmoid: s (1 - s))."""
    formula = activations.derivative(activations.ACTIVATIONS[name]).expr

    def fdiff(self, argindex=1):
        return formula.subs(activations.s, self)

    return _Columnwise(type(f"gate_{name}", (_OutputSigma,), {"fdiff": fdiff}))


def equal(a, b, table: dict) -> bool:
    """a == b exactly.  Each sigma_j(...) and sigma_j'(...) is replaced, whole, by a fresh symbol
    (the same on both sides, via `table`: both come from one forward pass), which leaves
    polynomials whose expansion is cheap; nested arguments are never expanded."""

    def opaque(e):
        if isinstance(e, sp.exp):  # exp(sum c_i m_i) = prod E_i^c_i: one symbol E_i per monomial
            out = sp.Integer(1)
            for term in sp.Add.make_args(sp.expand(e.args[0])):
                coeff, monomial = term.as_coeff_Mul()
                key = ("exp", monomial)
                if key not in table:
                    table[key] = sp.Dummy()
                out *= table[key] ** coeff
            return out
        if isinstance(e, (AppliedUndef, sp.Subs, _OutputSigma)):
            if e not in table:
                table[e] = sp.Dummy()
            return table[e]
        if not e.args:
            return e
        return e.func(*(opaque(arg) for arg in e.args))

    difference = opaque(a) - opaque(b)
    return sp.expand(difference) == 0 or sp.cancel(sp.together(difference)) == 0


PROOF_STEPS = 3  #: the longest sequence a proof of an Elman network unrolls
GATED_PROOF = (2, 1)  #: steps and widths of a proof through LSTM or GRU cells (5+ gates a step)


def _gated(spec: Spec) -> bool:
    return any(layer.kind in ("lstm", "gru") for layer in spec.layers)


def proof_steps(spec: Spec) -> int:
    """T of a recurrent network's proof: 3 steps, 2 through gated cells."""
    return GATED_PROOF[0] if _gated(spec) else PROOF_STEPS


def _small(spec: Spec, max_width: int) -> Spec:
    if spec.is_recurrent:
        layers = tuple(replace(x, units=min(x.units, max_width)) for x in spec.layers)
        steps = min(spec.steps or proof_steps(spec), proof_steps(spec))
        return replace(spec, input=min(spec.input, max_width), layers=layers, steps=steps)
    if all(layer.kind == "dense" for layer in spec.layers):
        return spec.with_widths(
            [min(w, max_width) if isinstance(w, int) else max_width for w in spec.widths]
        )
    return _small_maps(spec, max_width)


MAP_CHANNELS = 2  #: channels of the feature maps in a proof of a convolutional network
MAP_SIDE = 2  #: the smallest side a proof's input keeps (when the spec's is longer)


def _small_maps(spec: Spec, max_width: int) -> Spec:
    """A convolutional `spec` at a proof's size: at most `MAP_CHANNELS` channels, dense widths
    at most `max_width`, and the smallest input grid (not below `MAP_SIDE` per axis, where the
    spec's is longer) on which the spec's kernels, strides and pools are still valid."""
    channels, *size = spec.input
    layers = tuple(
        replace(x, channels=min(x.channels, MAP_CHANNELS))
        if x.kind.startswith("conv")
        else replace(x, units=min(x.units, max_width))
        if x.kind == "dense"
        else x
        for x in spec.layers
    )
    for side in range(1, max(size) + 1):
        grid = tuple(n if n <= MAP_SIDE else max(side, MAP_SIDE) for n in size)
        try:
            return replace(spec, input=(min(channels, MAP_CHANNELS), *grid), layers=layers)
        except SpecError:
            continue
    return replace(spec, input=(min(channels, MAP_CHANNELS), *size), layers=layers)


@dataclass
class Explicit:
    """A pass written out on explicit SymPy matrices: `env` maps every symbol of the pass (and
    ("sigma", j) to layer j's activation) to its value; `derivative(j)` is sigma_j' as a scalar
    function; `objective` is f."""

    env: dict
    params: list
    objective: sp.Expr
    cols: int
    derivative: dict


def explicit(
    spec: Spec, batch: bool, concrete: bool = False, output_rule: bool = False
) -> Explicit:
    """Every weight, bias, input and target entry a scalar symbol; the forward pass, sigma' and
    the deltas of the derivation evaluated on them.  sigma_j is an undefined function unless
    `concrete` (then the spec's own activations, for numeric counterexamples); with
    `output_rule`, one whose derivative is sigma' written through the output where the
    activation allows (sigmoid: s' = s (1 - s)), so that z_j o (1 - z_j) equals sigma'_j."""
    d = derive(spec)
    p = d.batch if batch else d.sample
    names, cols = p.names, SAMPLES if batch else 1
    env: dict = {}
    params, derivatives = [], {}
    activated = {op.layer for op in p.graph.ops if op.kind == "activation"}  # not pooling
    xi = sp.Dummy("xi", real=True)  # real: d|xi|/dxi is sign(xi), not a derivative of re()
    for param in p.graph.params:
        stem = param.key.lower()
        env[param.symbol] = sp.Matrix(
            *param.symbol.shape, lambda a, b, s=stem: sp.Symbol(f"{s}_{a}{b}")
        )
        params.append(param.symbol)
    for j, layer in enumerate(spec.layers, start=1):
        if concrete and layer.sigma.elementwise:
            env[("sigma", j)] = _Columnwise(sp.Lambda(activations.t, layer.sigma.expr))
        else:  # a recurrent cell writes sigma' through its output where it can: so does the proof
            env[("sigma", j)] = _sigma(spec, d, j, output_rule or layer.kind in RECURRENT)
        if layer.sigma.elementwise and j in activated:
            scalar = env[("sigma", j)].scalar
            dexpr = scalar(xi).diff(xi)
            derivatives[j] = lambda v, dexpr=dexpr: dexpr.subs(xi, v)  # Subs at symbolic v
    if not concrete:  # the gates' sigmoid and tanh: any function with their sigma'(output)
        for name in ("sigmoid", "tanh"):
            env[("apply", name)] = _gate(name)
    d0, dJ = spec.widths[0], spec.widths[-1]
    x_cols, y_cols = (int(sp.sympify(m.shape[1]).subs(N, cols)) for m in (names.z(0), names.y()))
    env[names.z(0)] = sp.Matrix(d0, x_cols, lambda a, c: sp.Symbol(f"x_{a}{c}"))
    env[names.y()] = sp.Matrix(dJ, y_cols, lambda a, c: sp.Symbol(f"y_{a}{c}"))
    if d.assumes(TARGETS_SUM_TO_ONE):
        # the derivation assumed probability targets: each column of y sums to one
        Y = env[names.y()]
        for c in range(y_cols):
            Y[dJ - 1, c] = 1 - sum(Y[a, c] for a in range(dJ - 1))
    for lhs, rhs in p.forward:
        env[lhs] = evaluate(rhs, env, cols)
    objective = evaluate(p.objective, env, cols)
    for j in derivatives:
        env[names.dsigma(j)] = env[names.u(j)].applyfunc(derivatives[j])
    for lhs, rhs in p.adjoints:
        env[lhs] = evaluate(rhs, env, cols)
    return Explicit(env, params, objective, cols, derivatives)


def _prove_pass(spec: Spec, batch: bool) -> list[Check]:
    p = derive(spec).batch if batch else derive(spec).sample
    ex = explicit(spec, batch)
    checks, table = [], {}
    form = "batch" if batch else "sample"
    for param in ex.params:
        derived = evaluate(p.gradients[param.name], ex.env, ex.cols)
        truth = ex.env[param].applyfunc(lambda w: sp.diff(ex.objective, w))
        ok = all(equal(a, b, table) for a, b in zip(derived, truth, strict=True))
        checks.append(Check(f"df/d{param.name} ({form}, N={ex.cols})", len(derived), ok))
    return checks


def proof_spec(spec: Spec, max_width: int | None = None) -> Spec:
    """`spec` at the widths of its proof: <= `max_width`, by default 3 for J <= 3, else 2
    (the expanded derivative grows like width^J); a recurrent network's at 2 (1 through LSTM
    or GRU cells) over `proof_steps` steps."""
    if max_width is None:
        max_width = 3 if spec.depth <= 3 else 2
        if spec.is_recurrent:  # every step multiplies the expansion
            max_width = GATED_PROOF[1] if _gated(spec) else 2
    if isinstance(max_width, bool) or not isinstance(max_width, int) or max_width < 1:
        raise SymbpError(f"--max-width must be an integer >= 1, got {max_width!r}")
    return _small(spec, max_width)


PROOF_SECONDS = 30.0  #: CPU-time budget of `prove` and of `prove_activations`, each


def _bounded(work, what: str) -> list[Check]:
    """``work()`` within `PROOF_SECONDS` of CPU time, else one `Check` with ``ok=None``: not
    proved, and saying why."""
    skipped = Check(f"{what}: not proved, needs more than {PROOF_SECONDS:g} s of CPU time", 0, None)
    return within(PROOF_SECONDS, work, lambda: [skipped])


def prove(spec: Spec, max_width: int | None = None) -> list[Check]:
    """Prove the per-sample and the batch gradients of `spec` at small widths (`proof_spec`);
    a skipped `Check` if that takes more than `PROOF_SECONDS` of CPU time."""
    small = proof_spec(spec, max_width)
    widths = "-".join(map(str, small.widths))
    return _bounded(
        lambda: _prove_pass(small, batch=False) + _prove_pass(small, batch=True),
        f"gradients at widths {widths} (the expansion grows like width^J; lower --max-width)",
    )


def prove_activations(spec: Spec) -> list[Check]:
    """Re-check that each layer's sigma' formula equals sympy.diff of sigma (as in `activations`);
    a skipped `Check` if SymPy takes more than `PROOF_SECONDS` of CPU time."""
    return _bounded(lambda: _prove_activations(spec), "sigma' of every layer")


def _prove_activations(spec: Spec) -> list[Check]:
    checks = []
    used = [layer.sigma for layer in spec.layers if layer.sigma.elementwise]
    if _gated(spec):  # the gates' sigmoid and tanh
        used += [activations.ACTIVATIONS[name] for name in ("sigmoid", "tanh")]
    for act in dict.fromkeys(used):
        d, sigma, name = activations.derivative(act), act.expr, act.name
        claimed = d.expr.subs(activations.s, sigma) if d.of_output else d.expr
        ok = activations.proved_equal(claimed, sp.diff(sigma, activations.t))
        checks.append(
            Check(f"sigma' of {name} = {d.expr} (in {'z' if d.of_output else 'u'})", 1, ok)
        )
    return checks
