"""A `Drawing` as a TikZ picture (base TikZ, no libraries), and `fitted`, which scales a picture
down to the line width and a height only when it would not fit (never up)."""

from __future__ import annotations

from .model import LINE, Drawing, Node, Path, Text

#: TikZ options of each node style
NODE_STYLES = {
    "input": "circle, draw, fill=gray!12",
    "neuron": "circle, draw, fill=blue!8",
    "bias": "rectangle, draw, fill=gray!22",
    "layer": "rectangle, rounded corners=2pt, draw, fill=blue!6",
    "value": "rectangle, rounded corners=2pt, draw, fill=gray!8",
    "loss": "rectangle, rounded corners=2pt, draw, fill=orange!15",
    "plus": "circle, draw=red!70!black, fill=white",
    "gap": "rectangle, rounded corners=2pt, draw=gray, dashed, fill=white",
}
#: TikZ options of each path style (an arrow head is added where the path has one)
PATH_STYLES = {
    "weight": "draw=gray!75, line width=0.3pt",
    "bias": "draw=gray!75, dashed, line width=0.3pt",
    "forward": "draw=black, line width=0.5pt",
    "skip": "draw=blue!60!black, line width=0.7pt",
    "backward": "draw=red!70!black, line width=0.6pt",
}
TEXT_COLOURS = {"plain": "black", "backward": "red!70!black", "skip": "blue!60!black"}


def _num(v: float) -> str:
    shown = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if shown in ("-0", "") else shown


def _at(point: tuple[float, float]) -> str:
    return f"({_num(point[0])},{_num(point[1])})"


def _node(n: Node) -> str:
    size = (
        f"minimum size={_num(n.width)}cm"
        if n.shape in ("circle", "plus")
        else f"minimum width={_num(n.width)}cm, minimum height={_num(n.height)}cm"
    )
    body = r"\\".join(f"${line.tex}$" for line in n.lines)
    options = f"{NODE_STYLES[n.style]}, {size}, inner sep=0pt, align=center"
    if len(n.lines) > 1:
        options += rf", execute at begin node=\setlength{{\baselineskip}}{{{_num(LINE)}cm}}"
    return rf"\node[{options}] at {_at((n.x, n.y))} {{{body}}};"


def _path(p: Path) -> str:
    tip = "-stealth, " if p.arrow else ""
    if p.curved:
        a, c1, c2, b = p.points
        route = f"{_at(a)} .. controls {_at(c1)} and {_at(c2)} .. {_at(b)}"
    else:
        route = " -- ".join(_at(q) for q in p.points)
    return rf"\draw[{tip}{PATH_STYLES[p.style]}] {route};"


def _text(t: Text) -> str:
    colour = TEXT_COLOURS[t.style]
    return rf"\node[anchor={t.anchor}, inner sep=1pt, text={colour}] at {_at((t.x, t.y))} {{${t.label.tex}$}};"


def tikz(drawing: Drawing) -> str:
    """`drawing` as a ``tikzpicture`` in the ``\\scriptsize`` font; needs ``\\usepackage{tikz}``."""
    body = [_path(p) for p in drawing.paths]
    body += [_node(n) for n in drawing.nodes]
    body += [_text(t) for t in drawing.texts]
    return "\n".join([r"\begin{tikzpicture}[font=\scriptsize]", *body, r"\end{tikzpicture}"])


def fitted(picture: str, max_height: str) -> str:
    r"""`picture` centred, scaled down (aspect kept) to ``\linewidth`` and to `max_height` (a
    TeX dimension such as ``0.6\textheight``) only where it exceeds them."""
    return "\n".join(
        [
            r"\begingroup\centering",
            r"\sbox0{%",
            picture + "%",
            "}%",
            r"\ifdim\wd0>\linewidth\sbox0{\resizebox{\linewidth}{!}{\usebox0}}\fi",
            rf"\ifdim\dimexpr\ht0+\dp0\relax>{max_height}\sbox0{{\resizebox*{{!}}{{{max_height}}}{{\usebox0}}}}\fi",
            r"\usebox0\par",
            r"\endgroup",
        ]
    )
