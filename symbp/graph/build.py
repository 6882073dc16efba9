"""spec -> `Graph`: each layer kind (`layers`) contributes the ops of its layer, in order, and
the loss closes the graph: f = sum of the entry-wise loss of the last layer's output.  The
spec's weight decay (``[train] weight_decay``) adds one penalty lambda_j ||W_j||_F^2 per weight."""

from __future__ import annotations

import sympy as sp
from sympy import HadamardPower

from ..catalog import losses
from ..catalog.layers import kind_of
from ..naming import decay
from .nodes import ElementSum, lift
from .ops import Graph, Op, f


def build(spec, names) -> Graph:
    """The graph of `spec` over `names` (per sample or batch): each layer's ops, then the loss."""
    ops, named, hidden, params, penalties = [], {}, set(), [], []
    outputs = [names.z(0)]
    shapes = spec.shapes
    for j, layer in enumerate(spec.layers, start=1):
        part = kind_of(layer).ops(j, layer, names, shapes[j - 1])
        ops += part.ops
        named.update(part.named)
        hidden |= part.hidden
        params += part.params
        outputs.append(part.output)
        penalties += _penalties(spec, j, part.params)
    z, y = outputs[-1], names.y()
    loss = ElementSum(lift(losses.LOSSES[spec.loss].expr, {losses.z: z, losses.y: y}))
    scale = spec.loss_factor  # f = scale * sum of l, the scale in front: (1/2)||y - z||^2
    attrs = (("loss", spec.loss),) if scale == 1 else (("loss", spec.loss), ("scale", scale))
    ops.append(Op("loss", f, (z, y), loss if scale == 1 else scale * loss, attrs=attrs))
    return Graph(
        tuple(ops), named, frozenset(hidden), tuple(outputs), tuple(params), tuple(penalties)
    )


def _penalties(spec, j: int, params) -> list[Op]:
    """Layer j's weight-decay ops: r = lambda ||W||_F^2 for each weight, when lambda_j > 0;
    one lambda for all layers when the spec gives one value (`Train.decay_is_global`)."""
    if spec.train.decay(j) == 0:
        return []
    lam = decay(None if spec.train.decay_is_global else j)
    return [
        Op(
            "penalty",
            sp.Symbol(f"r_{p.key}"),
            (p.symbol,),
            lam * ElementSum(HadamardPower(p.symbol, 2)),
            layer=j,
            attrs=(("weight_decay", lam),),
        )
        for p in params
        if p.decays
    ]
