"""Layer kinds: the registry from a spec's ``type`` to the module that states the kind's fields
and their validation, the ops it contributes, its parameters and the adjoints it names.

A kind module provides `Layer` (a frozen dataclass with ``kind`` and ``to_dict``), `FIELDS`,
`parse(table, where, source, default_bias)`, `check(spec, i)` and `ops(j, layer, names)`.
"""

from __future__ import annotations

from . import dense

KINDS = {"dense": dense}  #: spec ``type`` -> layer kind module


def kind_of(layer):
    """The module of `layer`'s kind."""
    return KINDS[layer.kind]
