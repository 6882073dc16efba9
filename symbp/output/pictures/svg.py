"""A `Drawing` as an inline ``<svg>`` element: labels as plain Unicode text (XML-escaped),
arrow heads as polygons (no ids, so several pictures can share one page)."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from .model import LINE, Drawing, Node, Path, Text

PX = 40.0  #: px per cm
FONT = 11  #: px, the pictures' font size
NODE_FILLS = {
    "input": ("#f0f0f0", "#000"),
    "neuron": ("#e8ecf8", "#000"),
    "bias": ("#dddddd", "#000"),
    "layer": ("#eef1fa", "#000"),
    "value": ("#f3f3f3", "#000"),
    "loss": ("#fbe6d2", "#000"),
    "plus": ("#ffffff", "#9e1b1b"),
    "gap": ("#ffffff", "#808080"),
}
PATH_STROKES = {
    "weight": ("#999999", 0.6, ""),
    "bias": ("#999999", 0.6, "3,2"),
    "forward": ("#000000", 0.9, ""),
    "skip": ("#24448a", 1.2, ""),
    "backward": ("#9e1b1b", 1.0, ""),
}
TEXT_FILLS = {"plain": "#000000", "backward": "#9e1b1b", "skip": "#24448a"}
_ANCHORS = {"west": "start", "east": "end"}
_BASELINES = {"north": "hanging", "south": "text-after-edge"}


class _Frame:
    """Maps the drawing's centimetres (y up) to the picture's pixels (y down)."""

    def __init__(self, drawing: Drawing):
        self.x0, self.y0, x1, y1 = drawing.bounds(margin=0.2)
        self.width, self.height = (x1 - self.x0) * PX, (y1 - self.y0) * PX
        self.top = y1

    def __call__(self, point: tuple[float, float]) -> tuple[float, float]:
        return (point[0] - self.x0) * PX, (self.top - point[1]) * PX


def _f(v: float) -> str:
    return f"{v:.1f}"


def _text_element(x: float, y: float, content: str, anchor: str, fill: str) -> str:
    horizontal = next((v for k, v in _ANCHORS.items() if k in anchor), "middle")
    vertical = next((v for k, v in _BASELINES.items() if k in anchor), "central")
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{horizontal}" '
        f'dominant-baseline="{vertical}" fill="{fill}">{escape(content)}</text>'
    )


def _node(n: Node, at: _Frame) -> list[str]:
    fill, stroke = NODE_FILLS[n.style]
    x, y = at((n.x, n.y))
    if n.shape in ("circle", "plus"):
        shape = (
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(n.width / 2 * PX)}" '
            f'fill="{fill}" stroke="{stroke}"/>'
        )
    else:
        left, top = at((n.x - n.width / 2, n.y + n.height / 2))
        rounded = ' rx="3"' if n.shape == "box" else ""
        rounded += ' stroke-dasharray="3,2"' if n.style == "gap" else ""
        shape = (
            f'<rect x="{_f(left)}" y="{_f(top)}" width="{_f(n.width * PX)}" '
            f'height="{_f(n.height * PX)}"{rounded} fill="{fill}" stroke="{stroke}"/>'
        )
    first = y - (len(n.lines) - 1) * LINE * PX / 2
    lines = [
        _text_element(x, first + i * LINE * PX, line.text, "center", "#000000")
        for i, line in enumerate(n.lines)
    ]
    return [shape, *lines]


def _arrow_head(tip, before) -> str:
    (x1, y1), (x0, y0) = tip, before
    length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    back, half = 0.18 * PX, 0.07 * PX
    bx, by = x1 - ux * back, y1 - uy * back
    corners = ((x1, y1), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half))
    return " ".join(f"{_f(a)},{_f(b)}" for a, b in corners)


def _path(p: Path, at: _Frame) -> list[str]:
    colour, width, dash = PATH_STROKES[p.style]
    points = [at(q) for q in p.points]
    if p.curved:
        a, c1, c2, b = points
        d = f"M {_f(a[0])} {_f(a[1])} C " + " ".join(f"{_f(x)} {_f(y)}" for x, y in (c1, c2, b))
    else:
        d = "M " + " L ".join(f"{_f(x)} {_f(y)}" for x, y in points)
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    out = [f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{width}"{dashes}/>']
    if p.arrow:
        out.append(f'<polygon points="{_arrow_head(points[-1], points[-2])}" fill="{colour}"/>')
    return out


def _text(t: Text, at: _Frame) -> str:
    x, y = at((t.x, t.y))
    return _text_element(x, y, t.label.text, t.anchor, TEXT_FILLS[t.style])


def svg(drawing: Drawing, title: str = "") -> str:
    """`drawing` as an ``<svg>`` element for inline use in HTML (also a valid XML document);
    `title` (user text allowed: it is escaped) becomes its accessible ``<title>``."""
    at = _Frame(drawing)
    body = [f"<title>{escape(title or drawing.summary)}</title>"]
    for p in drawing.paths:
        body += _path(p, at)
    for n in drawing.nodes:
        body += _node(n, at)
    body += [_text(t, at) for t in drawing.texts]
    size = f'width="{_f(at.width)}" height="{_f(at.height)}"'
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" {size} viewBox="0 0 {_f(at.width)} '
        f'{_f(at.height)}" font-family="serif" font-size="{FONT}" role="img" '
        f"aria-label={quoteattr(title or drawing.summary)}>"
    )
    return "\n".join([head, *body, "</svg>"])
