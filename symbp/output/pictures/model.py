"""The neutral drawing: nodes, paths and texts at positions in centimetres (y upwards), every
label as LaTeX math and as plain Unicode, printed from the same SymPy expression.

Builders (`network`, `flow`) compute the geometry once; the renderers (`tikz`, `svg`) only
translate it, so the two pictures agree.  Sizes of text are estimates (`texlayout.measure`,
em of the picture's font, `EM` cm): boxes are made wide enough for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...escape import tex_text
from ...printing.latex import latex
from ...printing.text import text
from ..texlayout import measure

EM = 0.28  #: cm per em of the pictures' font (\scriptsize: 8 pt in an 11 pt article)
LINE = 0.36  #: cm between the baselines of a box's lines


@dataclass(frozen=True)
class Label:
    """One label: `tex` for LaTeX math mode (no delimiters), `text` as plain Unicode.  User
    text (a network's or activation's name) enters only through `words`, escaped for LaTeX;
    the SVG renderer escapes `text` for XML."""

    tex: str
    text: str
    size: float | None = None  #: width in cm where known better than `measure` guesses

    @classmethod
    def of(cls, expr) -> Label:
        """`expr` through symbp's LaTeX and Unicode printers."""
        return cls(latex(expr), text(expr))

    @classmethod
    def words(cls, words: str) -> Label:
        """Words shown literally (in ``\\text`` in LaTeX)."""
        return cls(rf"\text{{{tex_text(words)}}}", words, _words_width(words))

    def __add__(self, other: Label) -> Label:
        """The two labels side by side, separated by a space."""
        size = self.width + other.width + 0.33 * EM
        return Label(rf"{self.tex} \ {other.tex}", f"{self.text} {other.text}", size)

    @property
    def width(self) -> float:
        """Estimated width in cm, in the pictures' font."""
        return self.size if self.size is not None else measure(self.tex).width * EM


def _words_width(words: str) -> float:
    """Estimated width (cm) of `words` in roman type: average advances of Computer Modern."""
    em = sum(
        0.72 if c.isupper() else 0.5 if c.isalnum() else 0.33 if c == " " else 0.3 for c in words
    )
    return em * EM


def joined(*labels: Label, tex: str = " ", plain: str = " ") -> Label:
    """`labels` in a row, separated by `tex` in LaTeX and `plain` in Unicode."""
    size = None
    if all(lab.size is not None for lab in labels):  # words only: the separator is estimated
        size = sum(lab.size for lab in labels) + (len(labels) - 1) * Label(tex, plain).width
    return Label(tex.join(lab.tex for lab in labels), plain.join(lab.text for lab in labels), size)


def equals(lhs: Label, rhs: Label) -> Label:
    return joined(lhs, rhs, tex=" = ", plain=" = ")


@dataclass(frozen=True)
class Node:
    """A shape centred at (x, y): "circle" (a neuron, `width` its diameter), "box", "square"
    (a bias unit) or "plus" (the sum of adjoints); `lines` of text inside it; `style` says what
    it stands for (the renderers colour by it)."""

    x: float
    y: float
    shape: str
    width: float
    height: float
    lines: tuple[Label, ...] = ()
    style: str = "plain"

    def border(self, toward: tuple[float, float]) -> tuple[float, float]:
        """The point of the node's outline on the ray from its centre to `toward`."""
        dx, dy = toward[0] - self.x, toward[1] - self.y
        if dx == dy == 0:
            return self.x, self.y
        if self.shape in ("circle", "plus"):
            r = self.width / 2 / (dx * dx + dy * dy) ** 0.5
            return self.x + dx * r, self.y + dy * r
        sx = self.width / 2 / abs(dx) if dx else float("inf")
        sy = self.height / 2 / abs(dy) if dy else float("inf")
        s = min(sx, sy)
        return self.x + dx * s, self.y + dy * s

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (
            self.x - self.width / 2,
            self.y - self.height / 2,
            self.x + self.width / 2,
            self.y + self.height / 2,
        )


@dataclass(frozen=True)
class Path:
    """A line through `points` (its ends on node outlines), a cubic Bezier curve when `curved`
    (then `points` is start, two control points, end), with an arrow head at the end when
    `arrow`; `style` as for `Node` ("forward", "backward", "weight", "bias", "skip")."""

    points: tuple[tuple[float, float], ...]
    style: str = "forward"
    curved: bool = False
    arrow: bool = True


@dataclass(frozen=True)
class Text:
    """`label` placed with its `anchor` ("center", "west", "east", "north", "south",
    "north east", ...) at (x, y)."""

    x: float
    y: float
    label: Label
    anchor: str = "center"
    style: str = "plain"

    @property
    def box(self) -> tuple[float, float, float, float]:
        w, h = self.label.width, 0.3
        left = self.x - (0 if "west" in self.anchor else w if "east" in self.anchor else w / 2)
        low = self.y - (0 if "south" in self.anchor else h if "north" in self.anchor else h / 2)
        return left, low, left + w, low + h


@dataclass(frozen=True)
class Drawing:
    """A picture: its nodes, paths and free texts; `notes` are sentences' formulas a caption
    may state (the sums of adjoints), `summary` says in words what it shows."""

    nodes: tuple[Node, ...]
    paths: tuple[Path, ...]
    texts: tuple[Text, ...]
    notes: tuple[Label, ...] = ()
    summary: str = ""

    def bounds(self, margin: float = 0.1) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) of everything drawn, with `margin` cm around."""
        boxes = [n.box for n in self.nodes] + [t.box for t in self.texts]
        boxes += [(x, y, x, y) for p in self.paths for x, y in p.points]
        return (
            min(b[0] for b in boxes) - margin,
            min(b[1] for b in boxes) - margin,
            max(b[2] for b in boxes) + margin,
            max(b[3] for b in boxes) + margin,
        )
