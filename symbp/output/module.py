"""Emit a standalone training module for a concrete spec, from the batch pass.

The backend (`backends.BACKENDS`, NumPy by default) gives the printer and the template folder.
The context handed to its `module.py.j2` is printed code and printed formulas only (the update
and the schedules from `optimizers`, the perceptron rule from the derivation); the template adds
structure.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import sympy as sp

from .. import naming
from ..budget import refuse_large_arrays
from ..catalog import losses, optimizers
from ..catalog.activations import t
from ..derivation.derive import derive
from ..derivation.lecture import frozen_layers, perceptron_pass
from ..derivation.linear import bcd_applies, bcd_blocks
from ..derivation.reverse import penalty_gradients
from ..errors import SpecError
from ..escape import python_string
from ..graph.nodes import ElementSum, Elementwise, LeastSquares, LogSumExp, lift
from ..printing import inplace
from ..printing.float64 import float64_trouble, stable_form
from ..printing.numpy import SymbpNumPyPrinter, Unhandled, code, inplace_code, scalar_lines
from ..printing.text import text
from ..proof.expansion import evaluate
from ..spec.model import Spec
from . import backends
from .files import default_command, stamp
from .render import render
from .report import objective as objective_text


def stable_objective(spec: Spec, batch):
    """The objective's loss term as the emitted loss() computes it (its weight-decay terms are
    `batch.graph.penalties`): from the output layer's pre-activations when the loss has a
    logit form (no log(0) for saturated outputs), else as derived."""
    form = losses.logit_form(spec.loss, spec.layers[-1].sigma, spec.loss_factor)
    if form is None:
        return batch.data_objective
    U = batch.names.u(spec.depth)
    body = ElementSum(lift(form, {t: U, losses.y: batch.names.y(), losses.lse: LogSumExp(U)}))
    return body if batch.scale == 1 else batch.scale * body


def decay_values(spec: Spec) -> dict:
    """lambda (or lambda_j) -> its value from the spec's [train] table, as an exact rational
    (1e-4 -> 1/10000), for code: the documents keep the symbol."""
    train = spec.train
    if train.weight_decay is None:
        return {}
    if train.decay_is_global:
        return {naming.decay(None): sp.Rational(repr(train.weight_decay[0]))}
    return {naming.decay(j): sp.Rational(repr(v)) for j, v in enumerate(train.weight_decay, 1)}


def identifiers(*code: str) -> set[str]:
    """The names that printed code uses (so that the template binds only those)."""
    return set(re.findall(r"[A-Za-z_]\w*", "\n".join(code)))


def bcd_context(spec: Spec, batch, printed) -> list[dict]:
    """Printed code of each layer's block-coordinate-descent step (deep linear networks)."""
    if not bcd_applies(spec):
        return []
    out = []
    for block in bcd_blocks(spec, batch.names):
        A, (_, T, B) = block.A, block.solution.args
        names = {"A": sp.MatrixSymbol("A", *A.shape), "T": sp.MatrixSymbol("T", *T.shape)}
        names["B"] = sp.MatrixSymbol("B", *B.shape)
        identity = isinstance(A, sp.Identity)
        lines = [] if identity else [("A", printed(A))]
        lines += [("T", printed(T)), ("B", printed(B))]
        solve = LeastSquares(A if identity else names["A"], names["T"], names["B"])
        lines.append(("P", printed(solve)))
        text = [c for _, c in lines]
        used = identifiers(*text)
        keys = [k for k in batch.gradients if k in used]
        zs = ["Z0", *(f"Z{j}" for j in range(1, spec.depth + 1))]
        out.append(
            {
                "layer": block.layer,
                "bias": spec.layers[block.layer - 1].bias,
                "params": keys,
                "unpack": ", ".join(z if z in used else "_" for z in zs),
                "lines": lines,
            }
        )
    return out


def train_defaults(spec: Spec) -> list[tuple[str, str]]:
    """The spec's [train] table as (key, Python literal) pairs for the module's TRAIN constant:
    every training default, the optimizer's hyper-parameters, layer_lr as {j: alpha_j}."""
    train = spec.train
    layer_lr = None if train.layer_lr is None else dict(enumerate(train.layer_lr, start=1))
    values = {
        "optimizer": json.dumps(train.optimizer),  # validated choices; json quotes them
        "lr": repr(train.lr),
        "schedule": json.dumps(train.schedule),
        "batch_size": repr(train.batch_size),
        "epochs": repr(train.epochs),
        "seed": repr(train.seed),
        "layer_lr": repr(layer_lr),
    }
    values.update((key, repr(value)) for key, value in train.hyper)
    return list(values.items())


def _binding(param) -> str:
    """How the module reads `param` from the params dict: a kernel, stored with its array shape
    (C_out, C_in, k_1, k_2), is read as the matrix the formulas use (a view, no copy)."""
    read = f'params["{param.key}"]'
    if param.array_shape is None:
        return read
    return f"{read}.reshape({int(param.symbol.shape[0])}, -1)"


def _reshaped(code: str, param) -> str:
    """A gradient's printed code, reshaped to its parameter's array shape where that differs."""
    return code if param.array_shape is None else f"({code}).reshape({param.array_shape!r})"


def _shape_text(shape: tuple) -> str:
    return str(shape[0]) if len(shape) == 1 else "x".join(map(str, shape))


def geometries(graph) -> list[tuple[int, str]]:
    """(layer, the emitted _GEOMETRY literal) of every convolution and pooling op."""
    return [(op.layer, op.attr("geometry").code()) for op in graph.ops if op.attr("geometry")]


def _bound(value: float) -> str:
    """A domain bound as a Python literal: None for an infinite one."""
    return repr(float(value)) if math.isfinite(value) else "None"


def target_domain_context(loss: losses.Loss) -> dict:
    """The loss's target domain as Python literals, for the module's data validation."""
    domain = loss.domain
    column_sum = domain.column_sum
    return {
        "targets": json.dumps(loss.targets),  # a double-quoted Python literal
        "target_range": f"({_bound(domain.low)}, {_bound(domain.high)})",
        "target_column_sum": "None" if column_sum is None else repr(float(column_sum)),
    }


def class_labels_context(loss: losses.Loss) -> dict:
    """How the module turns outputs into class labels, from the loss's target domain:
    "argmax" for probability columns (softmax with cross-entropy), "threshold" for targets in
    [0, 1] (sigmoid with binary cross-entropy), None for a loss that is not a classifier's."""
    domain = loss.domain
    if domain.column_sum is not None:
        rule = "argmax"
    elif (domain.low, domain.high) == (0.0, 1.0):
        rule = "threshold"
    else:
        rule = None
    return {"class_labels": rule, "class_labels_code": "None" if rule is None else json.dumps(rule)}


def training_context(printer, batch, perceptron: bool) -> dict:
    """The optimizers (`optimizer_context`), the SGD update, the step-size schedules and the
    default step sizes as code printed by `printer`, the SGD update as Unicode for docstrings,
    each parameter's layer, and (perceptron) each parameter's rule in the forward values."""
    sgd, printed = optimizers.SGD, printer({}).doprint
    rules = optimizers.update_rules(sgd, batch) if perceptron else []
    return {
        "update": printed(optimizers.in_code_names(sgd.increment)),
        "update_text": python_string(f"{text(optimizers.theta)} ← {text(sgd.update)}"),
        "optimizers": [optimizer_context(printer, o) for o in optimizers.OPTIMIZERS.values()],
        "optimizer_steps": [
            (name, printed(optimizers.in_code_names(optimizers.optimizer_step(o, batch.scale))))
            for name, o in optimizers.OPTIMIZERS.items()
        ],
        "param_layers": param_layers(batch),
        "schedules": [
            (name, printed(optimizers.in_code_names(s.factor)))
            for name, s in optimizers.SCHEDULES.items()
        ],
        "default_lr": printed(optimizers.in_code_names(optimizers.default_step(batch.scale))),
        "perceptron_rules": [python_string(f"{text(p)} ← {text(value)}") for p, value in rules],
    }


def optimizer_context(printer, optimizer: optimizers.Optimizer) -> dict:
    """One optimizer for the module: its update as in-place statements printed by `printer`
    (`inplace.statements`), the names of its update function's arguments, its state's initial
    values and its hyper-parameters' defaults as Python literals, its formulas in Unicode."""
    stored = optimizer.stored_steps()
    code = [
        (optimizers.in_code_names(t, optimizer), optimizers.in_code_names(f, optimizer))
        for t, f in stored
    ]
    state = [x.code for x in optimizer.state]
    arrays = [sp.Symbol(n) for n in ("theta", "grad", *state)]
    lowered = inplace.statements(code, arrays, printer)
    short, named = optimizers.SHORT_NAMES, set(optimizer.intermediates)
    shown = [
        f"{text(t)} {'=' if t in named else '←'} {text(f.xreplace(short))}"
        for t, f in optimizer.steps
    ]
    scratch = [f"{inplace.SCRATCH}{i}" for i in range(lowered.scratch)]
    return {
        "name": optimizer.name,
        "title": python_string(optimizer.title),
        "source": python_string(optimizer.source),
        "steps": [python_string(line) for line in shown],
        "arguments": ", ".join(["theta", "grad", *state, *scratch, "lr", "k", *optimizer.hyper]),
        "lines": list(lowered.lines),
        "initial": [repr(float(x.initial)) for x in optimizer.state],
        "scratch": lowered.scratch,
        "hyper": json.dumps(optimizer.hyper),
    }


def param_layers(batch) -> dict[str, int]:
    """Each parameter's key -> its layer j (the lecture's alpha_j applies to W_j and b_j)."""
    return {p.key: int(naming.split(p.symbol.name)[1]) for p in batch.graph.params}


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
    lines, buffers = [], []
    for lhs, rhs in plan.forward + plan.backward:
        statements = inplace_code(lhs.name, rhs, acts, printer)
        if statements is None:
            lines.append(f"{lhs.name} = {code(rhs, acts, printer)}")
        else:
            buffers.append((lhs.name, (int(rhs.shape[0]), "n")))
            lines.extend(statements)
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
    }


def module_source(spec: Spec, command: str | None = None, backend: str = backends.DEFAULT) -> str:
    """The module's full text, header included, for `backend` (a name in `backends.BACKENDS`);
    deterministic for a given spec, command and backend."""
    chosen = backends.backend(backend)
    refuse_large_arrays(spec, "generate")
    for where, width in (
        ("input", spec.widths[0]),
        *(
            (f"layers[{i}].units", layer.units)
            for i, layer in enumerate(spec.layers)
            if layer.kind == "dense"
        ),
    ):
        if not isinstance(width, int):
            raise SpecError(
                where,
                f"generate needs a concrete width, got the symbol {width}; use a positive integer",
                spec.source,
            )
    for i, layer in enumerate(spec.layers):
        trouble = layer.sigma.source is not None and float64_trouble(layer.sigma, chosen.printer)
        if trouble:
            raise SpecError(f"layers[{i}].activation.expr", trouble, spec.source)
    d = derive(spec)
    batch, perceptron = d.batch, frozen_layers(spec) > 0
    if perceptron:
        if spec.depth > 1:
            k = frozen_layers(spec)
            raise SpecError(
                f"layers[{k - 1}].activation",
                "the step's derivative is 0 almost everywhere, so gradient training cannot move "
                f"W_1..W_{k}; generate trains a step only as a single-layer perceptron (J = 1); "
                "use a differentiable activation such as sigmoid",
                spec.source,
            )
        batch = perceptron_pass(batch)
    acts = {j: layer.sigma for j, layer in enumerate(spec.layers, start=1)}
    decay = decay_values(spec)

    def printed(expr) -> str:
        return code(expr.xreplace(decay) if decay else expr, acts, chosen.printer)

    widths = spec.widths
    params = [
        {
            "key": p.key,
            "shape": p.shape,
            "bind": _binding(p),
            "scale": None if p.scale is None else repr(p.scale),
        }
        for p in batch.graph.params
    ]
    backward = [(lhs.name, printed(rhs)) for lhs, rhs in batch.backward]
    summary = ", ".join(
        [f"{_shape_text(spec.shapes[0])} (input)"]
        + [
            (
                f"{x.units} {x.activation_name}"
                if x.kind == "dense"
                else x.summary() + (f" -> {_shape_text(spec.shapes[j])}")
            )
            + (" +bias" if x.bias else "")
            + (f" +z{x.skip_from}" if x.skip_from is not None else "")
            for j, x in enumerate(spec.layers, start=1)
        ]
    )
    objective = printed(stable_objective(spec, batch))
    penalties = [printed(op.equation) for op in batch.graph.penalties]
    full_objective = (stable_objective(spec, batch) + batch.penalty).xreplace(decay_values(spec))
    shapes = {p.key: p for p in batch.graph.params}
    grads = [(key, _reshaped(printed(g), shapes[key])) for key, g in batch.gradients.items()]
    plan = descent(spec, batch)

    used_by_loss = identifiers(objective, *penalties)
    used_by_gradients = identifiers(*(c for _, c in grads + backward))
    names = ["Z0", *(lhs.name for lhs, _ in batch.forward)]  # every intermediate of _forward
    body = render(
        chosen.module_template,
        name=python_string(spec.name),  # the docstring shows user text only through python_string
        perceptron=perceptron,
        reduction=spec.reduction,
        summary=python_string(summary),
        objective_text=python_string(objective_text(batch)),
        d0=widths[0],
        dJ=widths[-1],
        J=spec.depth,
        widths=repr(tuple(widths)),
        params=params,
        forward=[(lhs.name, printed(rhs)) for lhs, rhs in batch.forward],
        objective=objective,
        penalties=penalties,
        objective_uses_n="N" in used_by_loss,
        loss_unpacked=", ".join(n if n in used_by_loss else "_" for n in names),
        gradients_use_n="N" in used_by_gradients,
        loss_params=[p for p in params if p["key"] in used_by_loss],
        value_params=[p for p in params if p["key"] in used_by_gradients | used_by_loss],
        intermediates=", ".join(names),
        outputs=", ".join(z.name for z in batch.graph.outputs),
        outputs_unpacked=", ".join(
            n if n in {z.name for z in batch.graph.outputs} else "_" for n in names
        ),
        unpacked=", ".join(n if n in used_by_gradients | used_by_loss else "_" for n in names),
        backward=backward,
        gradients=grads,
        bcd=bcd_context(spec, batch, printed),
        geometries=geometries(batch.graph),
        input_shape=tuple(spec.shapes[0]),
        train_defaults=train_defaults(spec),
        **target_domain_context(losses.LOSSES[spec.loss]),
        **class_labels_context(losses.LOSSES[spec.loss]),
        **training_context(chosen.printer, batch, perceptron),
        descent=descent_context(plan, acts, chosen.printer),
        scalar=scalar_context(spec, batch, plan, full_objective),
    )
    command = command or default_command("generate", spec.source, f"{spec.name}.py")
    return stamp(body, "#", spec.name, spec.digest(), command)
