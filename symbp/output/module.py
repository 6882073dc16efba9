"""Emit a standalone training module for a concrete spec, from the batch pass.

The backend (`backends.BACKENDS`, NumPy by default) gives the printer and the template folder.
The context handed to its `module.py.j2` is printed code and printed formulas only (the update
and the schedules from `optimizers`, the perceptron rule from the derivation); the template adds
structure.
"""

from __future__ import annotations

import json
import math

import sympy as sp

from .. import naming
from ..budget import refuse_large_arrays
from ..catalog import losses, optimizers
from ..catalog.activations import t
from ..derivation.derive import derive
from ..derivation.lecture import frozen_layers, perceptron_pass
from ..derivation.linear import bcd_applies, bcd_blocks
from ..errors import SpecError
from ..escape import python_string
from ..graph.nodes import ElementSum, LeastSquares, LogSumExp, lift
from ..printing import inplace
from ..printing.float64 import float64_trouble
from ..printing.numpy import code
from ..printing.text import text
from ..spec.model import Spec
from . import backends
from .cells import recurrent_context, step_norms_context
from .fastpaths import (
    decay_values,
    descent,
    descent_context,
    identifiers,
    scalar_context,
)
from .files import default_command, stamp
from .render import render
from .report import objective as objective_text
from .scans import scan_context


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


def truncates(spec: Spec) -> bool:
    """True when a recurrent layer's truncated BPTT can cut a carried adjoint: its window is
    shorter than the sequences (or T is read from the data), so `gradients` is not d f/d param."""
    return any(
        getattr(x, "truncate", None) and (spec.steps is None or x.truncate < spec.steps)
        for x in spec.layers
    )


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
        "assignments": [(str(t), printer({}).doprint(f)) for t, f in code],  # no in-place writes
        "state_names": state,
        "hyper_names": list(optimizer.hyper),
        "initial": [repr(float(x.initial)) for x in optimizer.state],
        "scratch": lowered.scratch,
        "hyper": json.dumps(optimizer.hyper),
    }


def param_layers(batch) -> dict[str, int]:
    """Each parameter's key -> its layer j (the lecture's alpha_j applies to W_j and b_j)."""
    return {p.key: int(naming.split(p.symbol.name)[1]) for p in batch.graph.params}


def inlined(lines: list, readers, which) -> list:
    """`lines` ((lhs, rhs) definitions in order) with each definition whose rhs `which` accepts,
    that one later line reads exactly once and nothing in `readers` (the gradients) reads,
    substituted into that line and dropped: the same formulas in fewer statements."""
    out = dict(lines)
    for lhs in list(out):
        if not which(out[lhs]) or any(r.has(lhs) for r in readers):
            continue
        uses = [k for k, r in out.items() if r.has(lhs)]
        if len(uses) == 1 and sum(x == lhs for x in sp.preorder_traversal(out[uses[0]])) == 1:
            out[uses[0]] = out[uses[0]].xreplace({lhs: out.pop(lhs)})
    return list(out.items())


def seeded_context(plan, printed, params: list[dict], names: list[str], shapes: dict, inline=None):
    """The backward pass of a framework's autograd function (torch.autograd.Function's backward,
    jax.custom_vjp's bwd), printed: `descent`'s plan with its SGD factor c = -lr replaced by the
    incoming gradient grad_f, so that grad_f and the sample average ride on the output delta and
    each gradient comes out as grad_f·∂f/∂θ; the definitions `inline` accepts substituted
    into their reader (`inlined`).  None without a plan."""
    if plan is None:
        return None
    seed = {optimizers.CODE_NAMES[optimizers.alpha]: -sp.Symbol("grad_f")}
    lines = inlined(plan.backward, plan.increments.values(), inline) if inline else plan.backward
    backward = [(lhs.name, printed(rhs.xreplace(seed))) for lhs, rhs in lines]
    grads = [
        (key, _reshaped(printed(g.xreplace(seed)), shapes[key]))
        for key, g in plan.increments.items()
    ]
    used = identifiers(*(c for _, c in backward + grads))
    order = {p["key"]: i for i, p in enumerate(params)}
    read = [p for p in params if p["key"] in used]
    inputs = [n for n in names if n in used]
    return {
        "backward": backward,
        "gradients": sorted(grads, key=lambda pair: order[pair[0]]),  # PARAM_SHAPES' order
        "uses_n": "N" in used,
        "unpacked": ", ".join(n if n in used else "_" for n in names),
        "params": read,
        # what the backward reads, saved by the forward: Y, the params' bindings, intermediates
        "arguments": ["Y"] * ("Y" in used) + [p["key"] for p in read] + inputs,
        "saved": ["Y"] * ("Y" in used) + [p["bind"] for p in read] + inputs,
    }


def module_source(spec: Spec, command: str | None = None, backend: str = backends.DEFAULT) -> str:
    """The module's full text, header included, for `backend` (a name in `backends.BACKENDS`);
    deterministic for a given spec, command and backend."""
    chosen = backends.backend(backend)
    refuse = getattr(chosen.printer, "refuse", None)  # what a backend cannot emit yet
    if refuse is not None:
        refuse(spec)  # a one-line SpecError
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
        checker = chosen.printer.accuracy_printer()
        trouble = layer.sigma.source is not None and float64_trouble(layer.sigma, checker)
        if trouble:
            raise SpecError(f"layers[{i}].activation.expr", trouble, spec.source)
    d = derive(spec)
    batch, perceptron = d.batch, frozen_layers(spec) > 0
    if perceptron and chosen.name != backends.DEFAULT:
        raise SpecError(
            f"layers[{frozen_layers(spec) - 1}].activation",
            f"the {chosen.name} backend has no backward pass for a step: its derivative is 0 "
            "almost everywhere and the perceptron rule is no gradient; use --backend numpy "
            "(which trains it by that rule) or a differentiable activation",
            spec.source,
        )
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
    inline = getattr(chosen.printer, "inlines", None)  # which definitions a backend inlines
    lines = inlined(batch.backward, batch.gradients.values(), inline) if inline else batch.backward
    backward = [(lhs.name, printed(rhs)) for lhs, rhs in lines]
    summary = ", ".join(
        [f"{_shape_text(spec.shapes[0])} (input)"]
        + [
            (
                f"{x.units} {x.activation_name}"
                if x.kind == "dense"
                else x.summary()
                if spec.is_recurrent
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
    numpy_only = chosen.name == backends.DEFAULT  # the fused SGD steps and BCD: NumPy's template
    plan = descent(spec, batch)
    fused = descent_context(plan, acts, chosen.printer) if numpy_only else None  # scalar: factor

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
        objective_uses_t="T" in used_by_loss,  # a loss averaged over the steps: 1/T
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
        gradients_unpacked=", ".join(n if n in used_by_gradients else "_" for n in names),
        gradient_params=[p for p in params if p["key"] in used_by_gradients],
        backward=backward,
        gradients=grads,
        bcd=bcd_context(spec, batch, printed),
        geometries=geometries(batch.graph),
        recurrences=(
            []
            if chosen.loops == "scan"
            else recurrent_context(batch.graph, printed, plain=chosen.loops == "plain")
        ),
        scans=scan_context(batch.graph, chosen.printer) if chosen.loops == "scan" else [],
        step_norms=step_norms_context(batch, printed, params) if spec.is_recurrent else None,
        sequence_input=spec.is_recurrent,
        truncated=truncates(spec),
        sequence_output=spec.sequences[-1],
        steps=spec.steps,
        input_shape=tuple(spec.shapes[0]),
        train_defaults=train_defaults(spec),
        **target_domain_context(losses.LOSSES[spec.loss]),
        **class_labels_context(losses.LOSSES[spec.loss]),
        **training_context(chosen.printer, batch, perceptron),
        descent=fused,
        scalar=scalar_context(spec, batch, plan, full_objective) if fused else None,
        seeded=None if numpy_only else seeded_context(plan, printed, params, names, shapes, inline),
    )
    command = command or default_command("generate", spec.source, f"{spec.name}.py")
    return stamp(body, "#", spec.name, spec.digest(), command)
