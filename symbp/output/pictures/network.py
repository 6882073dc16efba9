"""The picture of the network (issue 13, item 1), drawn from the op graph and the spec.

Small dense networks (every width at most `MAX_UNITS`, at most `MAX_LAYERS` layers) are drawn
as lecture 6 draws its multi-layer perceptron: every neuron a circle (sigma_j inside), every
weight an edge, z_j over each column and W_j over each bundle of edges; a bias b_j is a unit
"1" under the previous column with a dashed edge to each neuron.  Any other network is drawn as
one box per layer (its kind, its output's shape, its kernel or window, its activation).  A skip
connection (an "add" op of the graph) is an arc labelled with its equation z_j = a_j + z_k.
"""

from __future__ import annotations

import itertools

import sympy as sp

from ...catalog.layers.conv import PoolLayer
from ...derivation.derive import derive
from ...graph.ops import Graph, f
from ...naming import subscript
from .model import LINE, Drawing, Label, Node, Path, Text, equals, joined

MAX_UNITS = 8  #: wider layers (or inputs) are drawn as boxes
MAX_LAYERS = 6  #: deeper networks are drawn as boxes
DX, DY, NEURON = 2.2, 0.8, 0.56  #: cm between columns, between neurons; a neuron's diameter
MAX_ROW = 11.5  #: cm of boxes in one row (a little more than a beamer frame's width)


def network_drawing(spec) -> Drawing:
    """The network of `spec`: neurons and weights when small enough (`neuron_view`), else
    one box per layer."""
    graph = derive(spec).sample.graph
    if neuron_view(spec):
        return _neurons(spec, graph)
    return _boxes(spec, graph)


def neuron_view(spec) -> bool:
    """True when every neuron can be drawn: dense layers only, concrete widths of at most
    `MAX_UNITS`, at most `MAX_LAYERS` layers, activation names narrower than a column."""
    return (
        spec.depth <= MAX_LAYERS
        and all(layer.kind == "dense" for layer in spec.layers)
        and all(isinstance(w, int) and w <= MAX_UNITS for w in spec.widths)
        and all(Label.words(layer.activation_name).width < DX - 0.3 for layer in spec.layers)
    )


def sigma_name(j: int) -> Label:
    """sigma_j, the name of layer j's activation, as `Sigma` prints it without its argument."""
    return Label(rf"\sigma_{{{j}}}", f"σ{subscript(j)}")


def _skips(graph: Graph) -> list:
    """The graph's residual connections: (layer j, k, the add op), k the index of z_k."""
    return [
        (op.layer, graph.outputs.index(op.inputs[1]), op)
        for op in graph.ops
        if op.kind == "add" and op.inputs[1] in graph.outputs
    ]


def _has_bias(graph: Graph, j: int) -> bool:
    return any(prm.key == f"b{j}" for prm in graph.params)


def _neurons(spec, graph: Graph) -> Drawing:
    widths = spec.widths
    nodes, paths, texts = [], [], []
    columns = []
    for j, n in enumerate(widths):
        col = [
            Node(
                j * DX,
                ((n - 1) / 2 - i) * DY,
                "circle",
                NEURON,
                NEURON,
                (sigma_name(j),) if j else (),
                "neuron" if j else "input",
            )
            for i in range(n)
        ]
        columns.append(col)
        nodes += col
    for j in range(1, len(widths)):
        paths += [
            Path((a.border((b.x, b.y)), b.border((a.x, a.y))), "weight", arrow=False)
            for a in columns[j - 1]
            for b in columns[j]
        ]
    units = []
    for j in range(1, len(widths)):
        if _has_bias(graph, j):
            y = columns[j - 1][-1].y - DY
            unit = Node((j - 1) * DX, y, "square", 0.34, 0.34, (Label.of(sp.Integer(1)),), "bias")
            units.append(unit)
            paths += [
                Path((unit.border((b.x, b.y)), b.border((unit.x, unit.y))), "bias", arrow=False)
                for b in columns[j]
            ]
            texts.append(Text(unit.x - 0.22, unit.y, _param_label(graph, f"b{j}"), "east"))
    nodes += units
    top = max(col[0].y for col in columns) + NEURON / 2
    bottom = min([col[-1].y for col in columns] + [u.y for u in units]) - NEURON / 2
    for j, value in enumerate(graph.outputs):
        texts.append(Text(j * DX, top + 0.15, Label.of(value), "south"))
        if j:
            texts.append(Text((j - 0.5) * DX, top + 0.15, _param_label(graph, f"W{j}"), "south"))
            texts.append(
                Text(
                    j * DX, bottom - 0.12, Label.words(spec.layers[j - 1].activation_name), "north"
                )
            )
    paths_skip, texts_skip = _neuron_skips(graph, top + 0.6)
    loss = _loss_node(graph, len(widths) * DX - DX / 2 + 0.7, 0.0)
    last = columns[-1]
    paths += [Path((b.border((loss.x, loss.y)), loss.border((b.x, b.y))), "forward") for b in last]
    below = (loss.x - loss.width / 2, loss.y - loss.height / 2 - 0.1)
    texts.append(Text(*below, _loss_equation(graph), "north west"))
    return Drawing(
        (*tuple(nodes), loss),
        tuple(paths + paths_skip),
        tuple(texts + texts_skip),
        summary="every neuron and every weight",
    )


def _param_label(graph: Graph, key: str) -> Label:
    return Label.of(next(prm.symbol for prm in graph.params if prm.key == key))


def _neuron_skips(graph: Graph, height: float) -> tuple[list, list]:
    """An arc over the columns from z_k to z_j for each skip, labelled z_j = a_j + z_k."""
    paths, texts = [], []
    for n, (j, k, op) in enumerate(_skips(graph)):
        rise = 0.5 + 0.3 * n
        start, end = (k * DX + 0.15, height), (j * DX - 0.15, height)
        controls = ((start[0] + 0.3, height + rise), (end[0] - 0.3, height + rise))
        paths.append(Path((start, *controls, end), "skip", curved=True))
        label = equals(Label.of(op.output), Label.of(op.equation))
        texts.append(Text((start[0] + end[0]) / 2, height + rise * 0.75 + 0.05, label, "south"))
    return paths, texts


def _loss_node(graph: Graph, x: float, y: float) -> Node:
    return Node(x, y, "box", 0.5, 0.45, (Label.of(f),), "loss")


def objective(graph: Graph) -> Label:
    """The right side of f: the loss op's equation, plus each weight-decay penalty."""
    terms = [graph.ops[-1].equation, *(op.equation for op in graph.penalties)]
    return joined(*(Label.of(t) for t in terms), tex=" + ", plain=" + ")


def _loss_equation(graph: Graph) -> Label:
    return equals(Label.of(graph.ops[-1].output), objective(graph))


# ----------------------------------------------------------------------------- boxes


def _shape(shape: tuple) -> Label:
    """A value's shape per sample: 8, or channels x height x width."""
    parts = [Label.of(sp.Integer(n) if isinstance(n, int) else n) for n in shape]
    return joined(*parts, tex=r" \times ", plain="×")


def _sizes(what: str, sizes: tuple, after: str = "") -> Label:
    """A window in words: "kernel 3 x 3, same"."""
    label = Label.words(what) + _shape(sizes)
    return joined(label, Label.words(after), tex="", plain="") if after else label


def _layer_lines(spec, graph: Graph, j: int) -> tuple[Label, ...]:
    """What layer j's box says: its number and kind, its output's shape, its kernel or window,
    its activation."""
    layer, shape = spec.layers[j - 1], spec.shapes[j]
    lines = [Label.words(f"layer {j}: {layer.kind}")]
    dense = layer.kind == "dense"
    size = (
        _shape(shape) + Label.words("unit" if shape == (1,) else "units")
        if dense
        else _shape(shape)
    )
    bias = Label.words(", bias") if _has_bias(graph, j) else None
    lines.append(joined(size, bias, tex="", plain="") if bias else size)
    kernel = getattr(layer, "kernel", None)
    if kernel is not None:
        lines.append(_sizes("kernel", kernel, f", {layer.padding}"))
        if any(s != 1 for s in layer.stride):
            lines.append(_sizes("stride", layer.stride))
    if isinstance(layer, PoolLayer):
        lines.append(_sizes("window", layer.size))
    elif layer.kind in ("lstm", "gru"):  # fixed gates: sigmoid, tanh
        lines.append(Label.words("sigmoid and tanh gates"))
    else:
        lines.append(equals(sigma_name(j), Label.words(layer.activation_name)))
    return tuple(lines)


def _box(x: float, lines: tuple[Label, ...], style: str) -> Node:
    width = max(line.width for line in lines) + 0.3
    return Node(x + width / 2, 0.0, "box", width, LINE * len(lines) + 0.2, lines, style)


def _boxes(spec, graph: Graph) -> Drawing:
    contents = [((Label.words("input"), _shape(spec.shapes[0])), "value")]
    contents += [(_layer_lines(spec, graph, j), "layer") for j in range(1, spec.depth + 1)]
    contents.append(((Label.words("loss"), _loss_equation(graph)), "loss"))
    gap = 0.65
    rows, x = [[]], 0.0
    for lines, style in contents:
        box = _box(x, lines, style)
        if rows[-1] and box.box[2] > MAX_ROW:
            rows.append([])
            box, x = _box(0.0, lines, style), 0.0
        rows[-1].append(box)
        x = box.box[2] + gap
    pitch = max(n.height for row in rows for n in row) + 1.1
    nodes = [
        Node(n.x, -r * pitch, n.shape, n.width, n.height, n.lines, n.style)
        for r, row in enumerate(rows)
        for n in row
    ]
    paths, texts = [], []
    for i, (a, b) in enumerate(itertools.pairwise(nodes)):
        value = Label.of(graph.outputs[i])
        if abs(a.y - b.y) < 1e-9:
            start, end = (a.box[2], a.y), (b.box[0], b.y)
            paths.append(Path((start, end), "forward"))
            texts.append(Text((start[0] + end[0]) / 2, a.y + 0.05, value, "south"))
        else:
            mid = (a.box[1] + b.box[3]) / 2
            points = ((a.x, a.box[1]), (a.x, mid), (b.x, mid), (b.x, b.box[3]))
            paths.append(Path(points, "forward"))
            texts.append(Text(a.x + 0.08, (a.box[1] + mid) / 2, value, "west"))
    for n, (j, k, op) in enumerate(_skips(graph)):
        a, b = nodes[k], nodes[j]
        rise = 0.55 + 0.25 * n
        start, end = (a.x + 0.15, a.box[3]), (b.x - 0.15, b.box[3])
        controls = ((start[0], start[1] + rise), (end[0], end[1] + rise))
        paths.append(Path((start, *controls, end), "skip", curved=True))
        label = equals(Label.of(op.output), Label.of(op.equation))
        texts.append(
            Text(
                (start[0] + end[0]) / 2, max(start[1], end[1]) + rise * 0.75 + 0.05, label, "south"
            )
        )
    return Drawing(tuple(nodes), tuple(paths), tuple(texts), summary="one box per layer")


__all__ = ["MAX_LAYERS", "MAX_UNITS", "network_drawing", "neuron_view"]
