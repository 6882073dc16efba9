"""The emitted trainer's fast paths, planned from the batch pass (`module` prints them).

* `descent`: SGD's step with the step size and the sample average folded into the output delta
  delta_J, checked to hold (every delta and gradient linear in delta_J); `descent_context` prints
  it as in-place NumPy (`_descend`).
* `scalar_context`: for narrow layers, one sample's SGD step written entry by entry in Python
  floats (`_epoch_one`), from the derivation evaluated on explicit scalar matrices.
Specs they do not fit (softmax in the scalar step, convolution nodes with no in-place form, other
optimizers) take the general path: value_and_gradients, then apply_update.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import sympy as sp

from .. import naming
from ..catalog import optimizers
from ..catalog.activations import t
from ..derivation.reverse import penalty_gradients
from ..graph.nodes import Elementwise, LogSumExp
from ..printing.float64 import stable_form
from ..printing.numpy import SymbpNumPyPrinter, Unhandled, code, inplace_code, scalar_lines
from ..proof.expansion import evaluate
from ..spec.model import Spec


def identifiers(*code: str) -> set[str]:
    """The names that printed code uses (so that the template binds only those)."""
    return set(re.findall(r"[A-Za-z_]\w*", "\n".join(code)))


def decay_values(spec: Spec) -> dict:
    """lambda (or lambda_j) -> its value from the spec's [train] table, as an exact rational
    (1e-4 -> 1/10000), for code: the documents keep the symbol."""
    train = spec.train
    if train.weight_decay is None:
        return {}
    if train.decay_is_global:
        return {naming.decay(None): sp.Rational(repr(train.weight_decay[0]))}
    return {naming.decay(j): sp.Rational(repr(v)) for j, v in enumerate(train.weight_decay, 1)}


def _linear(expr, inputs: set) -> bool:
    """Whether `expr` is linear and homogeneous in the matrices `inputs` (structurally: every
    term carries exactly one of them, through products and Hadamard products by others)."""
    if expr in inputs:
        return True
    if isinstance(expr, sp.Transpose):
        return _linear(expr.arg, inputs)
    if isinstance(expr, sp.MatAdd):
        return all(_linear(a, inputs) for a in expr.args)
    if isinstance(expr, (sp.MatMul, sp.HadamardProduct)):
        carrying = [a for a in expr.args if a.free_symbols & inputs or a in inputs]
        return len(carrying) == 1 and _linear(carrying[0], inputs)
    return False


@dataclass(frozen=True)
class Descent:
    """SGD's step with its step size folded into the output delta, as SymPy: `forward` and
    `backward` are the pass's lines (the output delta times c·scale), `increments` maps each
    param key to its increment c·∂f/∂θ (the gradient's formula without `scale`), `factor` is
    c (the increment per unit of gradient, in code names)."""

    forward: list
    backward: list
    increments: dict
    factor: sp.Expr


def descent(spec: Spec, batch) -> Descent | None:
    """SGD's increment is c·g with c free of θ (c = −α); every delta and every gradient is
    linear in the output delta δ_J (checked here), so δ_J·c·scale carries the step size and
    the sample average to every increment.  None when the update or the recursion is not of
    that form (training then takes the general path: value_and_gradients, apply_update)."""
    sgd = optimizers.SGD
    c = sp.diff(sgd.increment, optimizers.g)
    if sp.expand(sgd.increment - c * optimizers.g) != 0 or c.has(optimizers.theta):
        return None
    c = c.subs(optimizers.alpha, optimizers.CODE_NAMES[optimizers.alpha])
    source = batch.names.delta(spec.depth)
    carriers, backward = {source}, []
    for lhs, rhs in batch.backward:
        if lhs == source:
            if rhs.free_symbols & carriers:
                return None
            rhs = sp.MatMul(c * batch.scale, rhs)
        elif rhs.free_symbols & carriers:
            if not _linear(rhs, carriers):
                return None
            carriers.add(lhs)
        backward.append((lhs, rhs))
    decay = penalty_gradients(batch.graph)  # 2 lambda W: outside the scale, not through delta
    increments, symbols = {}, {prm.key: prm.symbol for prm in batch.graph.params}
    for key, g in batch.gradients.items():
        extra = decay.get(symbols[key])
        data = g if extra is None else sp.MatAdd(*(a for a in g.args if a != extra))
        if not _linear(data, carriers):
            return None
        increments[key] = (data / batch.scale).doit()
        if extra is not None:
            extra = extra.xreplace(decay_values(spec))  # lambda's value from the [train] table
            increments[key] = sp.MatAdd(increments[key], sp.MatMul(c, extra))
    return Descent(list(batch.forward), backward, increments, c)


def descent_context(plan: Descent | None, acts: dict, printer) -> dict | None:
    """The fused SGD step `_descend`: forward, deltas and increments written in place into
    preallocated arrays (`inplace_code`); a line with no in-place form binds its printed
    expression.  None without a plan."""
    if plan is None:
        return None
    lines, buffers, zero_rows = [], [], 0
    for lhs, rhs in plan.forward + plan.backward:
        rows = int(rhs.shape[0])
        zeros = f"zeros[:{rows}]"
        statements = inplace_code(lhs.name, rhs, acts, printer, zeros=zeros)
        if statements is None:
            lines.append(f"{lhs.name} = {code(rhs, acts, printer)}")
        else:
            buffers.append((lhs.name, (rows, "n")))
            lines.extend(statements)
            if any(zeros in statement for statement in statements):
                zero_rows = max(zero_rows, rows)  # the workspace's zeros: the tallest use
    increments = []
    for key, rhs in plan.increments.items():
        statements = inplace_code(f"d{key}", rhs, acts, printer, ones="ones")
        if statements is None:
            return None
        increments.extend(statements)
    return {
        "descent_lines": lines,
        "descent_buffers": buffers,
        "descent_increments": increments,
        "gradient_factor": code(plan.factor, acts, printer),
        "fused_optimizer": optimizers.SGD.name,
        "uses_n": "N" in identifiers(*lines, *increments),
        "uses_ones": "ones" in identifiers(*increments),
        "zero_rows": zero_rows,
    }


SCALAR_MAX_WIDTH = 8  #: widest layer for which the one-sample step is emitted entry by entry
SCALAR_MAX_ENTRIES = 256  #: most parameter entries it is emitted for (its code grows with them)
_LINE = 92  #: longest statement of the scalar step (indented 4, ruff's limit is 100)


def _entries(prefix: str, rows: int, cols: int) -> sp.Matrix:
    """A matrix of scalar symbols named prefix_i (one column) or prefix_i_j."""
    if cols == 1:
        return sp.Matrix(rows, 1, lambda i, _: sp.Symbol(f"{prefix}_{i}"))
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{prefix}_{i}_{j}"))


def scalar_context(spec: Spec, batch, plan: Descent | None, objective) -> dict | None:
    """SGD steps on one sample each written entry by entry (`_epoch_one`): the plan's lines
    evaluated on explicit matrices of scalars at N = 1 (`proof.expansion.evaluate`), one
    statement per entry in the `math` module's functions.  Emitted for layers at most
    `SCALAR_MAX_WIDTH` wide (where interpreting the entries beats calling BLAS) and at most
    `SCALAR_MAX_ENTRIES` parameter entries; None otherwise, without a plan, or for a formula
    with no scalar form (softmax, log-sum-exp)."""
    if plan is None or max(spec.widths) > SCALAR_MAX_WIDTH or objective.has(LogSumExp):
        return None
    entries = sum(math.prod(int(k) for k in p.symbol.shape) for p in batch.graph.params)
    if entries > SCALAR_MAX_ENTRIES:
        return None
    if any(layer.sigma.kind == "softmax" for layer in spec.layers):
        return None
    env: dict = {}
    for j, layer in enumerate(spec.layers, start=1):
        body = stable_form(layer.sigma.expr, t, SymbpNumPyPrinter)
        env[("sigma", j)] = lambda M, body=body: M.applyfunc(lambda v: body.subs(t, v))
    params = []
    for p in batch.graph.params:
        rows, cols = (int(k) for k in p.symbol.shape)
        env[p.symbol] = _entries(p.key, rows, cols)
        params.append({"key": p.key, "entries": [e.name for e in env[p.symbol]]})
    env[batch.names.z(0)] = _entries("x", spec.widths[0], 1)
    env[batch.names.y()] = _entries("y", spec.widths[-1], 1)
    lines: list[str] = []

    def stable_elementwise(e, go):  # as `_print_Elementwise` prints it: the stable form
        var = e.function.variables[0]
        body = stable_form(e.function.expr, var, SymbpNumPyPrinter)
        return go(e.arg).applyfunc(lambda v: body.subs(var, v))

    def value_of(expr) -> sp.Matrix:
        return evaluate(expr, env, 1, extra={Elementwise: stable_elementwise})

    def bind(name: str, value: sp.Matrix, cols: int) -> sp.Matrix:
        out = _entries(name, value.rows, cols)
        for i, entry in enumerate(value):
            if entry.is_Symbol:  # an identity: no statement, the name it equals
                out[i] = entry
            else:
                lines.extend(scalar_lines(out[i].name, entry, _LINE))
        return out

    try:
        for lhs, rhs in plan.forward + plan.backward:
            env[lhs] = bind(lhs.name, value_of(rhs), 1)
        lines.extend(scalar_lines("f", value_of(objective), _LINE))
        increments = []
        for p, entries in zip(batch.graph.params, params, strict=True):
            rows, cols = (int(k) for k in p.symbol.shape)
            value = bind(f"d{p.key}", value_of(plan.increments[p.key]), cols)
            entries["updates"] = list(zip(entries["entries"], (e.name for e in value), strict=True))
            increments.extend(e.name for e in value)
    except (Unhandled, NotImplementedError):
        return None
    return {
        "params": params,
        "unpack": [
            *((p["entries"], f"views[{i}]") for i, p in enumerate(params)),
            ([e.name for e in env[batch.names.z(0)]], "x"),
            ([e.name for e in env[batch.names.y()]], "y"),
        ],
        "lines": lines,
        "increments": increments,
        "norm_slices": _norm_slices(params),
    }


def _norm_slices(params: list[dict]) -> list[tuple[str, int, int]]:
    """(key, start, stop) of each param's entries in the flat increments of `_epoch_one`."""
    slices, start = [], 0
    for p in params:
        slices.append((p["key"], start, start + len(p["entries"])))
        start += len(p["entries"])
    return slices
