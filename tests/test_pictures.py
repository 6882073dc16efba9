"""The pictures (issue 13, items 1 and 2): the network drawn from the op graph (every neuron and
weight of a small network, one box per layer of a wide, deep or convolutional one), the
computational graph with the adjoints the backward pass carries, their TikZ in compiled
documents without overfull boxes, and their SVG as well-formed XML."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
import sympy as sp
from sympy import HadamardProduct, MatAdd, MatMul, Transpose

import symbp
from symbp.derivation.derive import derive
from symbp.graph.nodes import Partial
from symbp.graph.ops import f
from symbp.output.pictures import (
    Drawing,
    Label,
    Node,
    Path,
    Text,
    carried,
    graph_drawing,
    network_drawing,
    neuron_view,
    pass_drawing,
    sums,
    svg,
    svg_pictures,
    tikz,
)
from symbp.printing.latex import latex
from symbp.printing.text import text

from .conftest import ROOT

SVG = "{http://www.w3.org/2000/svg}"


def _example(name: str):
    return symbp.load_spec(str(ROOT / "examples" / f"{name}.toml"))


def _dense(widths, activation="tanh", **extra):
    return symbp.from_dict(
        {
            "name": "net",
            "input": widths[0],
            "layers": [{"units": w, "activation": activation, **extra} for w in widths[1:]],
        }
    )


def _texts(drawing: Drawing, style: str | None = None) -> list[str]:
    """The LaTeX of every free text (of `style`, if given) and of every node's lines."""
    out = [t.label.tex for t in drawing.texts if style is None or t.style == style]
    if style is None:
        out += [line.tex for n in drawing.nodes for line in n.lines]
    return out


def _on_outline(point, node: Node, tol: float = 1e-6) -> bool:
    """True when `point` lies on `node`'s outline (circle or rectangle)."""
    x, y = point
    if node.shape in ("circle", "plus"):
        return abs(((x - node.x) ** 2 + (y - node.y) ** 2) ** 0.5 - node.width / 2) < tol
    x0, y0, x1, y1 = node.box
    inside = x0 - tol <= x <= x1 + tol and y0 - tol <= y <= y1 + tol
    edge = min(abs(x - x0), abs(x - x1), abs(y - y0), abs(y - y1)) < tol
    return inside and edge


# ------------------------------------------------------------------ item 1: the network


def test_lecture_network_draws_every_neuron_and_every_weight():
    spec = _example("lecture")
    assert neuron_view(spec)
    d = network_drawing(spec)
    widths = [int(w) for w in spec.widths]
    neurons = [n for n in d.nodes if n.shape == "circle"]
    assert len(neurons) == sum(widths)
    weights = [p for p in d.paths if p.style == "weight"]
    assert len(weights) == sum(a * b for a, b in itertools.pairwise(widths))
    columns = sorted({n.x for n in neurons})
    assert [sum(n.x == x for n in neurons) for x in columns] == widths
    joined = set()
    for p in weights:  # each weight joins a neuron to one of the next column
        a, b = (next(n for n in neurons if _on_outline(q, n)) for q in (p.points[0], p.points[-1]))
        assert columns.index(b.x) == columns.index(a.x) + 1
        joined.add((a, b))
    assert len(joined) == len(weights)  # no weight drawn twice
    labels = _texts(d)
    names = derive(spec).sample.names
    for j in range(spec.depth + 1):
        assert latex(names.z(j)) in labels
    for j in range(1, spec.depth + 1):
        assert latex(names.W(j)) in labels
        inside = [n.lines[0].tex for n in neurons if n.lines]
        assert inside.count(rf"\sigma_{{{j}}}") == widths[j]
    assert not [p for p in d.paths if p.style == "bias"]  # the lecture's network has no bias


def test_biases_are_units_with_an_edge_to_every_neuron_of_their_layer():
    spec = _dense([3, 4, 2], bias=True)
    d = network_drawing(spec)
    units = [n for n in d.nodes if n.style == "bias"]
    assert len(units) == spec.depth
    assert len([p for p in d.paths if p.style == "bias"]) == 4 + 2
    labels = _texts(d)
    assert all(latex(sp.MatrixSymbol(f"b{j}", 1, 1)) in labels for j in (1, 2))


@pytest.mark.parametrize(
    "widths",
    [[3, 9, 2], [12, 4, 2], [3, 3, 3, 3, 3, 3, 3, 2]],
    ids=["wide-hidden", "wide-input", "deep"],
)
def test_wide_or_deep_networks_are_drawn_one_box_per_layer(widths):
    spec = _dense(widths, activation="relu")
    assert not neuron_view(spec)
    d = network_drawing(spec)
    assert not [n for n in d.nodes if n.shape == "circle"]
    boxes = [n for n in d.nodes if n.shape == "box"]
    assert len(boxes) == len(widths) + 1  # the input, one per layer, the loss
    for j, box in enumerate(boxes[1:-1], start=1):
        shown = " ".join(line.text for line in box.lines)
        assert f"layer {j}: dense" in shown
        assert f"{widths[j]} units" in shown
        assert "relu" in shown
    # the value each arrow carries: z_0 .. z_J, in order
    values = [t.label.text for t in d.texts]
    assert values == [f"z{chr(0x2080 + j)}" for j in range(len(widths))]


def test_symbolic_widths_are_drawn_as_boxes_named_by_their_width():
    spec = symbp.from_dict(
        {
            "name": "sym",
            "input": "Xscr",
            "layers": [{"units": "h", "activation": "tanh"}, {"units": 2}],
        }
    )
    assert not neuron_view(spec)
    d = network_drawing(spec)
    lines = [line.tex for n in d.nodes for line in n.lines]
    assert r"\mathit{Xscr}" in lines and any(r"\mathit{h}" in line for line in lines)
    assert r"\mathscr" not in tikz(d)


def test_residual_network_shows_its_skip_connection():
    spec = _example("residual")
    d = network_drawing(spec)
    skips = [p for p in d.paths if p.style == "skip"]
    assert len(skips) == 1 and skips[0].curved
    layer = next(i for i, lay in enumerate(spec.layers, start=1) if lay.skip_from is not None)
    k = spec.layers[layer - 1].skip_from
    names = derive(spec).sample.names
    equation = MatAdd(names.a(layer), names.z(k))
    assert f"{latex(names.z(layer))} = {latex(equation)}" in _texts(d)
    start, end = skips[0].points[0], skips[0].points[-1]
    column = {n.x for n in d.nodes if n.shape == "circle"}
    step = sorted(column)[1] - sorted(column)[0]
    assert round(start[0] / step) == k and round(end[0] / step) == layer


def test_cnn_is_drawn_as_convolution_and_pooling_boxes():
    spec = _example("digits_cnn")
    assert not neuron_view(spec)
    d = network_drawing(spec)
    boxes = {n.lines[0].text: [line.text for line in n.lines] for n in d.nodes}
    conv, pool = spec.layers[0], spec.layers[1]
    channels, height, width = conv.channels, *spec.input[1:]  # padding "same", stride 1
    conv_box = boxes[f"layer 1: {conv.kind}"]
    assert f"{channels}×{height}×{width}, bias" in conv_box
    assert f"kernel {conv.kernel[0]}×{conv.kernel[1]}, {conv.padding}" in conv_box
    assert "σ₁ = relu" in conv_box
    pool_box = boxes[f"layer 2: {pool.kind}"]
    assert f"{channels}×{height // pool.size[0]}×{width // pool.size[1]}" in pool_box
    assert f"window {pool.size[0]}×{pool.size[1]}" in pool_box
    assert any(line.startswith("input") for line in boxes)


# ------------------------------------------------------------- item 2: the computational graph


def test_lecture_graph_arrows_carry_the_recursion():
    """The arrows are labelled with the adjoints the lecture's recursion names: W_3^T delta_3
    into z_2, delta_2 = (W_3^T delta_3) o sigma'_2 into u_2, 2 (z_3 - y) out of the loss."""
    spec = _example("lecture")
    p = derive(spec).sample
    names = p.names
    arrows = {(c.op.kind, c.value): c.expr for c in carried(p)}
    W3, delta3, z2, z3, y = names.W(3), names.delta(3), names.z(2), names.z(3), names.y()
    assert arrows[("affine", z2)] == MatMul(Transpose(W3), delta3)
    assert arrows[("activation", names.u(2))] == HadamardProduct(
        MatMul(Transpose(W3), delta3), names.dsigma(2)
    )
    loss_arrow = arrows[("loss", z3)]
    assert sp.simplify(loss_arrow.as_explicit() - 2 * (z3 - y).as_explicit()) == sp.zeros(2, 1)
    labels = _texts(graph_drawing(spec), "backward")
    assert latex(MatMul(Transpose(W3), delta3)) in labels
    definition = dict(p.backward)[names.delta(2)]
    assert f"{latex(names.delta(2))} = {latex(definition)}" in labels
    boxes = [n.lines[0].tex for n in graph_drawing(spec).nodes if n.shape == "box"]
    assert boxes[1:] == [f"{latex(op.output)} = {latex(op.equation)}" for op in p.graph.ops]


def test_residual_graph_shows_the_two_adjoints_that_add_up():
    spec = _example("residual")
    p = derive(spec).sample
    z1 = p.names.z(1)
    into = [c.expr for c in carried(p) if c.value == z1]
    assert len(into) == 2
    assert tuple(reversed(into)) == p.contributions[z1]  # the consumers' order
    assert [x for x, _ in sums(p)] == [z1]
    # the sum the picture shows is the factor the reverse pass multiplies by sigma'_1
    delta1 = dict(p.backward)[p.names.delta(1)]
    assert isinstance(delta1, HadamardProduct)
    assert any(isinstance(a, MatAdd) and set(a.args) == set(into) for a in delta1.args)
    d = pass_drawing(p)
    (plus,) = [n for n in d.nodes if n.shape == "plus"]
    ends = [q for q in (path.points[-1] for path in d.paths if path.style == "backward")]
    assert sum(_on_outline(q, plus) for q in ends) == 2
    assert latex(MatMul(Transpose(p.names.W(2)), p.names.delta(2))) in _texts(d, "backward")
    assert latex(p.names.zeta(3)) in _texts(d, "backward")
    total = MatAdd(*p.contributions[z1])
    assert [n.tex for n in d.notes] == [f"{latex(Partial(f, z1))} = {latex(total)}"]
    assert [p_ for p_ in d.paths if p_.style == "skip"]  # z_1 -> z_3 forward, on the left


@pytest.mark.parametrize("name", ["lecture", "residual", "digits_cnn", "softmax_classifier"])
def test_every_arrow_of_the_graph_starts_and_ends_on_a_shape(name):
    d = graph_drawing(_example(name))
    for path in d.paths:
        for point in (path.points[0], path.points[-1]):
            assert any(_on_outline(point, n) for n in d.nodes), (path, point)


def test_deep_graph_elides_the_middle_layers_and_keeps_the_adjoints_across():
    widths = [3] * 9 + [2]  # J = 9
    spec = _dense(widths)
    p = derive(spec).sample
    d = pass_drawing(p)
    (gap,) = [n for n in d.nodes if n.style == "gap"]
    assert gap.lines[0].text == "layers 3 to 7"
    shown = " ".join(n.lines[0].text for n in d.nodes if n.style in ("value", "loss"))
    assert "u₂" in shown and "u₈" in shown and "u₃ " not in shown and "u₇ " not in shown
    names = p.names
    crossing = {  # the adjoints that enter and leave the gap: W_3^T delta_3, W_8^T delta_8
        latex(MatMul(Transpose(names.W(j)), names.delta(j))) for j in (3, 8)
    }
    pitch = abs(d.nodes[1].y - d.nodes[0].y)
    beside = {  # the labels of the arrows that end or start at the gap
        t.label.tex for t in d.texts if t.style == "backward" and abs(t.y - gap.y) < pitch
    }
    assert len(beside) == 2
    assert crossing == beside


# ------------------------------------------------------------------------------- SVG


@pytest.mark.parametrize("name", ["lecture", "residual", "digits_cnn"])
def test_svg_is_well_formed_and_shows_the_labels(name):
    spec = _example(name)
    for drawing in (network_drawing(spec), graph_drawing(spec)):
        root = ET.fromstring(svg(drawing, title=spec.name))
        assert root.tag == f"{SVG}svg"
        shown = {"".join(t.itertext()) for t in root.iter(f"{SVG}text")}
        expected = {t.label.text for t in drawing.texts}
        expected |= {line.text for n in drawing.nodes for line in n.lines}
        assert expected <= shown
    names = derive(spec).sample.names
    network = {"".join(t.itertext()) for t in ET.fromstring(svg(network_drawing(spec))).iter()}
    if neuron_view(spec):
        assert {text(names.z(j)) for j in range(spec.depth + 1)} <= network
        assert {text(names.W(j)) for j in range(1, spec.depth + 1)} <= network
    else:
        assert all(any(f"layer {j}:" in s for s in network) for j in range(1, spec.depth + 1))


def test_svg_pictures_for_a_web_page_are_well_formed():
    spec = _example("residual")
    pictures = svg_pictures(spec)
    for key in ("network", "graph"):
        assert ET.fromstring(pictures[key]).tag == f"{SVG}svg"
    p = derive(spec).sample
    z1 = p.names.z(1)
    assert pictures["sums"] == [f"{text(Partial(f, z1))} = {text(MatAdd(*p.contributions[z1]))}"]


def test_svg_and_tikz_escape_user_text():
    hostile = "<script>alert('&')</script> {%} \\input{x} _^~$#"
    d = Drawing(
        (Node(0, 0, "box", 2, 1, (Label.words(hostile),), "layer"),),
        (Path(((0, 0.5), (0, 2)), "forward"),),
        (Text(0, 3, Label.words(hostile)),),
    )
    out = svg(d, title=hostile)
    root = ET.fromstring(out)
    assert "<script" not in out
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert texts == [hostile, hostile]
    assert "".join(root.find(f"{SVG}title").itertext()) == hostile
    picture = tikz(d)
    for special in ("{%}", "\\input", "$#"):
        assert special not in picture


# ------------------------------------------------------------------------ the documents


def _compile(tex: str, cwd) -> str:
    exe = shutil.which("pdflatex")
    if exe is None:
        pytest.fail("pdflatex is required (Debian: texlive-latex-base, texlive-pictures)")
    (cwd / "doc.tex").write_text(tex)
    run = subprocess.run(
        [exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "doc.tex"],
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="replace",
    )
    log = (cwd / "doc.log").read_text(errors="replace")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert run.returncode == 0 and not errors, errors or run.stdout[-1500:]
    return log


@pytest.mark.parametrize("beamer", [False, True], ids=["article", "beamer"])
@pytest.mark.parametrize("name", ["lecture", "residual"])
def test_documents_with_pictures_compile_without_overfull_boxes(name, beamer, tmp_path):
    spec = _example(name)
    tex = symbp.latex_document(spec, beamer=beamer, command="pytest")
    assert r"\usepackage{tikz}" in tex
    assert tex.count(r"\begin{tikzpicture}") == 2  # the network and its computational graph
    assert tikz(network_drawing(spec)) in tex and tikz(graph_drawing(spec)) in tex
    log = _compile(tex, tmp_path)
    overfull = [line for line in log.splitlines() if line.startswith("Overfull")]
    assert not overfull, overfull
    pdf = tmp_path / "doc.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
