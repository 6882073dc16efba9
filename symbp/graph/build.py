"""spec -> `Graph`: each layer kind (`layers`) contributes the ops of its layer, in order, and
the loss closes the graph: f = sum of the entry-wise loss of the last layer's output."""

from __future__ import annotations

from ..catalog import losses
from ..catalog.layers import kind_of
from .nodes import ElementSum, lift
from .ops import Graph, Op, f


def build(spec, names) -> Graph:
    """The graph of `spec` over `names` (per sample or batch): each layer's ops, then the loss."""
    ops, named, hidden, params = [], {}, set(), []
    outputs = [names.z(0)]
    for j, layer in enumerate(spec.layers, start=1):
        part = kind_of(layer).ops(j, layer, names)
        ops += part.ops
        named.update(part.named)
        hidden |= part.hidden
        params += part.params
        outputs.append(part.output)
    z, y = outputs[-1], names.y()
    loss = ElementSum(lift(losses.LOSSES[spec.loss].expr, {losses.z: z, losses.y: y}))
    scale = spec.loss_factor  # f = scale * sum of l, the scale in front: (1/2)||y - z||^2
    attrs = (("loss", spec.loss),) if scale == 1 else (("loss", spec.loss), ("scale", scale))
    ops.append(Op("loss", f, (z, y), loss if scale == 1 else scale * loss, attrs=attrs))
    return Graph(tuple(ops), named, frozenset(hidden), tuple(outputs), tuple(params))
