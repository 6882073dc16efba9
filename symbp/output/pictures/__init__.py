"""Pictures drawn from the op graph: the network (`network_drawing`) and the computational
graph with its backward flow (`graph_drawing`), as neutral `Drawing`s, rendered as TikZ
(`tikz`, `fitted`) for the LaTeX documents and as inline SVG (`svg`) for HTML."""

from __future__ import annotations

from .flow import carried, graph_drawing, pass_drawing, sums
from .model import Drawing, Label, Node, Path, Text
from .network import network_drawing, neuron_view
from .svg import svg
from .tikz import fitted, tikz

__all__ = [
    "Drawing",
    "Label",
    "Node",
    "Path",
    "Text",
    "carried",
    "fitted",
    "graph_drawing",
    "network_drawing",
    "neuron_view",
    "pass_drawing",
    "sums",
    "svg",
    "tikz",
]
