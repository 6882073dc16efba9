"""Pictures drawn from the op graph: the network (`network_drawing`) and the computational
graph with its backward flow (`graph_drawing`), as neutral `Drawing`s, rendered as TikZ
(`tikz`, `fitted`) for the LaTeX documents and as inline SVG (`svg`) for HTML."""

from __future__ import annotations

from .flow import carried, graph_drawing, pass_drawing, sums
from .model import Drawing, Label, Node, Path, Text
from .network import network_drawing, neuron_view
from .svg import svg
from .tikz import fitted, tikz

#: the largest height (TeX) of each picture, in the article and on a slide (the frame's
#: title and a sentence take the rest)
MAX_HEIGHTS = {
    False: {"network": r"0.45\textheight", "graph": r"0.8\textheight"},
    True: {"network": r"0.72\textheight", "graph": r"0.72\textheight"},
}


def latex_pictures(spec, slides: bool = False) -> dict:
    """The documents' pictures of `spec` as TikZ, each `fitted` to the page (`slides`: the
    beamer frame): "network", "graph"; "neurons" (True when every neuron is drawn) and "sums",
    the sums of adjoints of the values that feed several ops, as LaTeX math."""
    heights = MAX_HEIGHTS[slides]
    flow = graph_drawing(spec)
    return {
        "network": fitted(tikz(network_drawing(spec)), heights["network"]),
        "graph": fitted(tikz(flow), heights["graph"]),
        "neurons": neuron_view(spec),
        "sums": [note.tex for note in flow.notes],
    }


def svg_pictures(spec) -> dict:
    """The same pictures as inline SVG for a web page: "network", "graph" (``<svg>`` strings,
    labels as Unicode text, XML-escaped), "neurons", and "sums" as plain Unicode text."""
    flow = graph_drawing(spec)
    return {
        "network": svg(network_drawing(spec), title=f"The network {spec.name}"),
        "graph": svg(flow, title=f"The computational graph of {spec.name}"),
        "neurons": neuron_view(spec),
        "sums": [note.text for note in flow.notes],
    }


__all__ = [
    "Drawing",
    "Label",
    "Node",
    "Path",
    "Text",
    "carried",
    "fitted",
    "graph_drawing",
    "latex_pictures",
    "network_drawing",
    "neuron_view",
    "pass_drawing",
    "sums",
    "svg",
    "svg_pictures",
    "tikz",
]
