"""The lecture's chains of equalities, d f / d param step by step, each `=` with its reason.

A chain follows the graph from the parameter up to where its adjoint is known: to f for the top
`FULL_CHAINS` layers (as the lecture's slides), else to the first named adjoint above the layer
(delta_{j+1}, zeta_k) or to a value that feeds several ops (its adjoints add up).  Then it walks
back down, replaying the rule of each op: one step substitutes the op's equation, one applies its
rule (the chain rule), and a named adjoint is introduced where the pass names it.  So each chain
has O(1) steps and the whole derivation stays linear in depth.
"""

from __future__ import annotations

import sympy as sp
from sympy import MatAdd

from ..graph.nodes import VJP, Partial, Plus
from ..graph.ops import Graph, f
from ..graph.recurrence import TraceAdjoint
from .reverse import penalty_gradients
from .rules import vjp
from .steps import Chain, Pass, Reason, Step

FULL_CHAINS = 2  #: the top layers whose chain starts from f, as on the lecture's slides


def _path(graph: Graph, param, full: bool) -> list:
    """(op, input) pairs from `param`'s consumer upwards, to where the chain starts."""
    path, value = [], param
    while True:
        consumers = graph.consumers(value)
        if len(consumers) != 1:
            return path
        op = consumers[0]
        if op.kind == "recurrence" and path:  # Delta_j, by BPTT: where the chain starts
            return path
        path.append((op, value))
        value = op.output
        if value == f or (not full and len(path) > 1 and value in graph.named):
            return path


class _Writer:
    """Builds one chain: `steps`, the current row factor and the Jacobian's numerator."""

    def __init__(self, p: Pass, param, simplified: dict, notes: dict):
        self.p, self.graph, self.param = p, p.graph, param
        self.simplified, self.notes = simplified, notes
        self.steps: list[Step] = []

    def step(self, row, num, reason: Reason):
        self.steps.append(Step(VJP(row, Partial(num, self.param)), reason))

    def name(self, value, row, final: bool):
        """Introduce value's named adjoint, if it has one; returns (row, pending reason)."""
        symbol = self.graph.named.get(value)
        if symbol is None:
            return row, None
        shown = self.graph.shown(value)
        if value in self.simplified:
            self.step(self.simplified[value], shown, Reason("simplify", note=self.notes[value]))
        reason = Reason("define", self.graph.producer(value).layer, symbol)
        if final:
            return symbol, reason
        self.step(symbol, shown, reason)
        return symbol, None

    def start(self, top, path: list):
        """The first steps: from f through the loss, or from a value whose adjoint is known."""
        if top == f:
            loss, x = path.pop()
            self.step(Partial(f, x), x, Reason("chain"))
            row = vjp(loss, sp.Integer(1))[loss.inputs.index(x)]
            self.step(row, x, Reason("loss"))
            return self.name(x, row, final=False)[0]
        self.step(Partial(f, top), top, Reason("chain"))
        if top in self.graph.named:
            return self.name(top, None, final=False)[0]
        row = MatAdd(*self.p.contributions[top])
        self.step(row, top, Reason("sum", symbol=top))
        return row

    def descend(self, row, path: list) -> None:
        """Down the path: substitute each op's equation, apply its rule, name what is named."""
        pending = None
        for i, (op, x) in enumerate(reversed(path)):
            if op.output not in self.graph.hidden:
                self.step(row, self.graph.inline(op.equation), Reason("layer", op.layer))
            row = vjp(op, row)[op.inputs.index(x)]
            if x == self.param:
                self.steps.append(Step(row, pending or Reason("chain")))
                return
            self.step(row, self.graph.shown(x), Reason("chain"))
            last = i == len(path) - 2  # x's producer is the param's consumer
            row, pending = self.name(x, row, final=last)


def chain(p: Pass, param, full: bool, simplified: dict, notes: dict) -> Chain:
    """d f / d `param` as the lecture derives it (per-sample pass `p`); `simplified` and `notes`
    give the lecture's simplified adjoints and the assumption each rests on.  A recurrent
    layer's hidden-to-hidden parameters (W_hh, b_hh) take one step: the sum over time of each
    step's share (`Reason` "time"), from the recurrence's rule."""
    (consumer,) = p.graph.consumers(param)
    if consumer.kind == "recurrence":
        readout = p.graph.consumers(consumer.output)[0]
        g = TraceAdjoint(p.graph.named[readout.output], consumer.output)
        rhs = vjp(consumer, g)[consumer.inputs.index(param)]
        delta = consumer.attr("delta")
        return _with_decay(p, param, [Step(rhs, Reason("time", consumer.layer, delta))])
    path = _path(p.graph, param, full)
    top = path[-1][0].output
    writer = _Writer(p, param, simplified, notes)
    row = writer.start(top, path)
    writer.descend(row, path)
    return _with_decay(p, param, writer.steps)


def _with_decay(p: Pass, param, steps: list) -> Chain:
    decay = penalty_gradients(p.graph).get(param)
    if decay is None:
        return Chain(target=param, steps=tuple(steps))
    first, *rest = steps  # with weight decay, every step adds the penalty's gradient
    steps = [Step(Plus(first.rhs, decay), Reason("decay", first.reason.layer))]
    steps += [Step(Plus(st.rhs, decay), st.reason) for st in rest]
    return Chain(target=param, steps=tuple(steps))
