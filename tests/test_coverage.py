"""Every op kind has a rule, and every symbp node class has a method in every printer and a case
in the proof's evaluator that its `targets` name; a missing one is an error naming it."""

from __future__ import annotations

import itertools

import pytest
import sympy as sp

from symbp.catalog import layers
from symbp.catalog.activations import ACTIVATIONS
from symbp.catalog.losses import LOSSES
from symbp.derivation import rules
from symbp.graph import cells, nodes
from symbp.graph import convolution as conv
from symbp.graph import ops as graph
from symbp.graph import recurrence as rec
from symbp.graph.build import build
from symbp.naming import Names
from symbp.printing.latex import SymbpLatexPrinter
from symbp.printing.numpy import code
from symbp.printing.text import TextPrinter
from symbp.proof.expansion import evaluate
from symbp.spec.model import Layer, Spec, from_dict
from symbp.spec.train import Train

A = sp.MatrixSymbol("A", 2, 2)
B = sp.MatrixSymbol("B", 2, 2)
SAMPLES = {  # one instance of each node class; a new class must add one here
    nodes.Sigma: nodes.Sigma(1, A),
    nodes.Elementwise: nodes.Elementwise(sp.Lambda(sp.Symbol("t"), sp.exp(sp.Symbol("t"))), A),
    nodes.LogSumExp: nodes.LogSumExp(A),
    nodes.Stack: nodes.Stack(A, B),
    nodes.LeastSquares: nodes.LeastSquares(A, B, A),
    nodes.ElementSum: nodes.ElementSum(A),
    nodes.Partial: nodes.Partial(A, B),
    nodes.VJP: nodes.VJP(A, nodes.Partial(A, B)),
    nodes.Plus: nodes.Plus(nodes.VJP(A, nodes.Partial(A, B)), B),
}
_G = conv.Geometry(1, 1, (2,), 1, (2,), (2,), (0,), (0,))  # 1 channel, 2 -> 1 position
_K, _C, _b = sp.MatrixSymbol("K", 1, 2), sp.MatrixSymbol("C", 1, 2), sp.MatrixSymbol("b", 1, 1)
SAMPLES |= {
    conv.Conv: conv.Conv(_K, A, _G),
    conv.ConvTranspose: conv.ConvTranspose(_K, _C, _G),
    conv.ConvKernelGrad: conv.ConvKernelGrad(_C, A, _G),
    conv.ChannelBias: conv.ChannelBias(_b, _G),
    conv.ChannelSum: conv.ChannelSum(_C, _G),
    conv.MaxPool: conv.MaxPool(A, _G),
    conv.MaxPoolGrad: conv.MaxPoolGrad(_C, A, _C, _G),
    conv.AvgPool: conv.AvgPool(A, _G),
    conv.AvgPoolTranspose: conv.AvgPoolTranspose(_C, _G),
}
_INFO = rec.Info("rnn", 1, 2, 1, 0, 2, ACTIVATIONS["tanh"], ("h1_t",))  # one step, 2 columns
SAMPLES |= {
    cells.Apply: cells.Apply("sigmoid", A),
    cells.RowSlice: cells.RowSlice(A, 0, 1, "i"),
    cells.Blocks: cells.Blocks(A, B),
    cells.Embed: cells.Embed(A, 0, 2),
    rec.Recurrence: rec.Recurrence(A, B, _INFO),
    rec.Hidden: rec.Hidden(A, 2),
    rec.Last: rec.Last(A, _INFO),
    rec.Shifted: rec.Shifted(A, _INFO),
    rec.Bptt: rec.Bptt(A, A, B, _INFO),
    rec.TraceAdjoint: rec.TraceAdjoint(A, A),
}
PRINTERS = {
    "latex": lambda e: SymbpLatexPrinter().doprint(e),
    "text": lambda e: TextPrinter().doprint(e),
    "numpy": lambda e: code(e, {1: ACTIVATIONS["tanh"]}),
}
PRINTER_CLASSES = {"latex": SymbpLatexPrinter, "text": TextPrinter}


def _node_classes():
    out, todo = [], [nodes.SymbpNode]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        modules = (
            "symbp.graph.nodes",
            "symbp.graph.convolution",
            "symbp.graph.cells",
            "symbp.graph.recurrence",
        )
        if cls.__module__ in modules and cls not in (
            nodes.SymbpNode,
            nodes.ShapedLikeArg,
            conv._GeometryNode,
            rec._InfoNode,
        ):
            out.append(cls)
    return sorted(out, key=lambda c: c.__name__)


def _graphs():
    """Graphs covering every layer option and loss: each op kind the layer kinds emit."""
    specs = [
        Spec("s", 2, (Layer(2, act, bias=True), Layer(2, LOSSES[loss].output or "identity")), loss)
        for act, loss in itertools.product(("tanh", "identity"), LOSSES)
    ]
    skip = (Layer(2, "tanh"), Layer(2, "tanh"), Layer(2, "tanh", skip_from=1))
    specs.append(Spec("r", 2, skip))
    specs.append(Spec("wd", 2, (Layer(2, "tanh"),), train=Train(weight_decay=(0.5,))))
    specs.append(
        from_dict(
            {
                "name": "cnn",
                "input": [1, 4],
                "bias": True,
                "layers": [
                    {"type": "conv1d", "channels": 1, "kernel": 2, "padding": "same"},
                    {"type": "maxpool1d", "size": 2},
                    {"type": "avgpool1d", "size": 2},
                    {"units": 1},
                ],
            }
        )
    )
    for kind, output in itertools.product(("rnn", "lstm", "gru"), ("last", "sequence")):
        layer = {"type": kind, "units": 2, "output": output}
        specs.append(
            from_dict({"name": kind, "input": 2, "bias": True, "layers": [layer, {"units": 1}]})
        )
    return [
        build(spec, Names(spec.widths, batch, spec.sequences, spec.time_steps))
        for spec in specs
        for batch in (0, 1)
    ]


def test_every_node_class_has_a_sample():
    assert set(_node_classes()) == set(SAMPLES), "add a sample of each new node class to SAMPLES"


@pytest.mark.parametrize("cls", _node_classes(), ids=lambda c: c.__name__)
def test_every_node_is_printed_and_evaluated_where_its_targets_say(cls):
    sample = SAMPLES[cls]
    for target in cls.targets:
        if target == "evaluate":
            env = {A: sp.Matrix([[1, 2], [3, 4]]), B: sp.Matrix([[0, 1], [1, 0]])}
            env |= {_K: sp.Matrix([[1, 2]]), _C: sp.Matrix([[3, 4]]), _b: sp.Matrix([[5]])}
            env[("sigma", 1)] = lambda M: M.applyfunc(sp.tanh)
            evaluate(sample, env)
        else:
            if target in PRINTER_CLASSES:
                printer = PRINTER_CLASSES[target]
                assert hasattr(printer, f"_print_{cls.__name__}") or hasattr(
                    cls, printer.printmethod
                )
            assert PRINTERS[target](sample)


def test_a_node_may_bring_its_own_printers_and_value():
    """One block per operation: a node with SymPy's per-node print methods and ``value(go)``
    needs nothing added to any printer or to the evaluator."""

    class Doubled(nodes.ShapedLikeArg):
        def _numpycode(self, printer):
            return f"2 * {printer._print(self.arg)}"

        def _latex(self, printer):
            return rf"2 {printer._print(self.arg)}"

        def _sympystr(self, printer):
            return f"2 {printer._print(self.arg)}"

        def value(self, go):
            return 2 * go(self.arg)

    shown = {target: show(Doubled(A)) for target, show in PRINTERS.items()}
    assert shown == {"latex": r"2 \mathbf{A}", "text": "2 A", "numpy": "2 * A"}
    assert evaluate(Doubled(A), {A: sp.eye(2)}) == 2 * sp.eye(2)


def test_a_node_without_a_printer_method_is_an_error_naming_it():
    class Mystery(nodes.ShapedLikeArg):
        pass

    for show in PRINTERS.values():
        with pytest.raises(NotImplementedError, match="Mystery"):
            show(Mystery(A))
    with pytest.raises(NotImplementedError, match="Mystery"):
        evaluate(Mystery(A), {A: sp.eye(2)})


def _ops(g):
    """A graph's ops, its penalties and the ops of its recurrent layers' steps (cells)."""
    cells = [op.attr("info").cell.ops for op in g.ops if op.kind == "recurrence"]
    return [*g.ops, *g.penalties, *itertools.chain(*cells)]


def test_every_op_kind_the_layer_kinds_emit_has_a_rule_and_every_rule_is_used():
    kinds = {op.kind for g in _graphs() for op in _ops(g)}
    assert kinds == set(rules.RULES)
    for g in _graphs():
        for op in _ops(g):
            scalar = op.kind in ("loss", "penalty")  # their outputs are terms of f
            adjoint = 1 if scalar else sp.MatrixSymbol("g", *op.output.shape)
            if op.kind == "recurrence":  # it receives what its readout sends
                adjoint = rec.TraceAdjoint(sp.MatrixSymbol("g", 2, op.output.shape[1]), op.output)
            assert len(rules.vjp(op, adjoint)) == len(op.inputs)


def test_an_op_without_a_rule_is_an_error_naming_it():
    op = graph.Op("convolution", A, (B,), B)
    with pytest.raises(KeyError, match="convolution"):
        rules.vjp(op, A)


def test_every_layer_kind_states_its_parts():
    for name, kind in layers.KINDS.items():
        assert getattr(kind, "name", name) == name and hasattr(kind, "shape")
        for part in ("FIELDS", "parse", "check", "ops"):
            assert hasattr(kind, part), f"layer kind {name!r} lacks {part}"
