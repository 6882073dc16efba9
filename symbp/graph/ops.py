"""The forward graph: ops in topological order, as pure data over the symbols of `naming.Names`.

`build` makes one from a spec.  The reverse pass, the chains, the proof, the printers and the
templates all read it, and none of them knows how many ops a layer has.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

f = sp.Symbol("f")  #: the objective


@dataclass(frozen=True)
class Op:
    """One node of the forward graph: ``output = equation``, a function of `inputs`.

    `kind` is a key of `rules.RULES`; `layer` the layer the op belongs to (None for the loss);
    `attrs` what its rule needs besides the inputs (an activation, a loss name, the symbol that
    names sigma'), as sorted (key, value) pairs so that an op stays hashable.
    """

    kind: str
    output: sp.Basic
    inputs: tuple
    equation: sp.Basic
    layer: int | None = None
    attrs: tuple = ()

    def attr(self, key: str, default=None):
        return dict(self.attrs).get(key, default)


@dataclass(frozen=True)
class Param:
    """A trainable parameter: its gradient key ("W1"), symbol, and initialisation: entries drawn
    i.i.d. normal with standard deviation `scale`, or zeros when `scale` is None."""

    key: str
    symbol: sp.MatrixSymbol
    scale: float | None
    decays: bool = False  #: a weight: a weight-decay term lambda ||W||_F^2 applies to it
    array_shape: tuple | None = None  #: its shape in emitted code, when not the symbol's

    @property
    def shape(self) -> tuple:
        """The parameter's array shape in emitted code (a kernel's (C_out, C_in, k_1, k_2))."""
        return self.array_shape or tuple(int(n) for n in self.symbol.shape)


@dataclass(frozen=True)
class Part:
    """What a layer kind contributes to the graph: its ops (in evaluation order), the adjoints it
    names, the values displays write out, its parameters, and its output value."""

    ops: tuple[Op, ...]
    named: dict
    hidden: frozenset
    params: tuple[Param, ...]
    output: sp.Basic


@dataclass(frozen=True)
class Graph:
    """Ops in topological order (the loss last), and what the derivation shows of them.

    `named` maps a value to the symbol that names its adjoint (u_j -> delta_j); `hidden` holds the
    values that displays write out rather than name (u_j: the lecture writes sigma_j(W_j z + b_j));
    `outputs` are the layer outputs z_0, ..., z_J; `params` the parameters, in layer order.
    `penalties` are ops whose outputs add to f outside the loss's reduction factor (weight decay,
    f = c * sum l + lambda_j ||W_j||_F^2): the reverse pass applies their rules too.
    """

    ops: tuple[Op, ...]
    named: dict = field(default_factory=dict)
    hidden: frozenset = frozenset()
    outputs: tuple = ()
    params: tuple[Param, ...] = ()
    penalties: tuple[Op, ...] = ()

    def __post_init__(self):
        producers, consumers = {}, {}
        for op in self.ops:
            producers[op.output] = op
            for x in op.inputs:
                consumers.setdefault(x, []).append(op)
        object.__setattr__(self, "_producers", producers)
        object.__setattr__(self, "_consumers", consumers)

    def producer(self, value) -> Op | None:
        """The op whose output is `value` (None for inputs, targets and parameters)."""
        return self._producers.get(value)

    def consumers(self, value) -> list[Op]:
        """The ops that take `value` as an input, in topological order."""
        return list(self._consumers.get(value, ()))

    def shown(self, value):
        """`value` as displays write it: hidden values replaced by their equations."""
        op = self.producer(value)
        return self.inline(op.equation) if value in self.hidden and op else value

    def inline(self, expr):
        """`expr` with every hidden value replaced by its equation (recursively)."""
        subs = {v: self.shown(v) for v in expr.free_symbols & self.hidden}
        return expr.xreplace(subs) if subs else expr

    def equations(self) -> list[tuple[sp.Basic, sp.Basic, Op]]:
        """(value, displayed right side, op) for every shown value, in evaluation order: the
        layer equations (e.j) as the lecture writes them, then the loss (L)."""
        return [
            (op.output, self.inline(op.equation), op)
            for op in self.ops
            if op.output not in self.hidden
        ]
