"""Layer kinds: the registry from a spec's ``type`` to the module that states the kind's fields
and their validation, the ops it contributes, its parameters and the adjoints it names.

A kind provides `Layer` (a frozen dataclass with ``kind`` and ``to_dict``), `FIELDS`,
`parse(table, where, source, default_bias)`, `check(spec, i)`, `shape(layer, before)` (its
output's shape per sample from its input's) and `ops(j, layer, names, before)`.
"""

from __future__ import annotations

from . import conv, dense, recurrent

#: spec ``type`` -> layer kind: a module or object with `Layer`, `FIELDS`, `parse`, `check`,
#: `shape` and `ops`
KINDS = {
    "dense": dense,
    **{k.name: k for k in (conv.CONV1D, conv.CONV2D, *conv.POOLS, *recurrent.KINDS)},
}


def kind_of(layer):
    """The module of `layer`'s kind."""
    return KINDS[layer.kind]
