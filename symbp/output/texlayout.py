r"""Line and frame breaks for printed LaTeX, decided in Python from the printed pieces.

`measure` estimates the typeset size of a math string (in em of the font it is set in, for
the Computer Modern fonts pdflatex uses); the estimate leans wide, so that a line it accepts
fits.  `wrap` breaks a long formula before a top-level ``+``, ``-``, ``\circ`` or ``=`` (or,
failing that, between two factors), opening a too-wide ``\left( ... \right)`` when nothing
else helps.  `align_lines` lays equations out as ``align*`` lines, continuation lines indented;
`chunk` splits a list of lines into frames of bounded height.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Widths in em (cmmi10 / cmbx10 / cmr10, rounded up).
_ITALIC = dict(zip("abcdefghijklmnopqrstuvwxyz", [0.53, 0.43, 0.44, 0.52, 0.47, 0.5, 0.48, 0.58,
     0.35, 0.42, 0.53, 0.3, 0.88, 0.61, 0.49, 0.51, 0.45, 0.46, 0.47, 0.37, 0.58, 0.49, 0.72,
     0.58, 0.5, 0.47], strict=True))  # fmt: skip
_BOLD_WIDE = {"W": 1.19, "M": 1.1, "m": 0.96, "w": 0.84}
_SYMBOLS = {  # commands without arguments
    "partial": 0.6, "circ": 0.95, "cdot": 0.8, "dots": 1.3, "cdots": 1.3, "ldots": 1.3,
    "triangleq": 1.35, "propto": 1.35, "leftarrow": 1.6, "to": 1.6, "infty": 1.05, "geq": 1.35,
    "leq": 1.35, "neq": 1.35, "approx": 1.35, "le": 1.35, "ge": 1.35, "times": 1.3, "in": 1.2, "quad": 1.0,
    "qquad": 2.0, ",": 0.17, ":": 0.23, ";": 0.28, " ": 0.34, "!": -0.17, "|": 0.5, "{": 0.5,
    "}": 0.5, "sum": 1.5, "prod": 1.4, "nabla": 0.85, "cos": 1.4, "sin": 1.3, "exp": 1.6,
    "log": 1.4, "tanh": 2.0, "cosh": 1.9, "sinh": 1.9, "sign": 1.8, "min": 1.7, "max": 1.8,
}  # fmt: skip
_ONE_ARG_STYLE = {"mathbf": 1.25, "boldsymbol": 1.15, "mathrm": 1.05, "mathit": 1.0}
_TEXT = {"text", "texttt", "operatorname", "textrm", "textbf", "mathrm_text"}
_OPERATORS = {"+", "-", "=", "<", ">", r"\circ", r"\cdot", r"\propto", r"\triangleq", r"\times"}
_OPERATORS |= {r"\approx"}
_NO_BREAK_AFTER = {"fn", "number", "op"}
_RELATIONS = {"=", "<", ">", r"\propto", r"\triangleq", r"\approx"}
SCRIPT = 0.72  # script size / text size, rounded up


@dataclass(frozen=True)
class Box:
    """Estimated size in em: width, and height plus depth."""

    width: float
    height: float

    def beside(self, other: Box) -> Box:
        return Box(self.width + other.width, max(self.height, other.height))


EMPTY = Box(0.0, 0.0)
_TOKEN = re.compile(r"\\[A-Za-z]+\*?|\\.|[{}_^&]|\s+|[^\\{}_^&\s]")


def tokens(tex: str) -> list[str]:
    """Split LaTeX into commands, braces, scripts and single characters; whitespace dropped
    except where it separates (kept as one ``" "``)."""
    return [" " if tok.isspace() else tok for tok in _TOKEN.findall(tex)]


@dataclass
class _Reader:
    toks: list[str]
    pos: int = 0

    def peek(self) -> str | None:
        while self.pos < len(self.toks) and self.toks[self.pos] == " ":
            self.pos += 1
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> str:
        tok = self.peek()
        self.pos += 1
        return tok or ""

    def group(self) -> list[str]:
        """The tokens of the next argument: a braced group (without braces) or one token."""
        if self.peek() != "{":
            return [self.take()]
        depth, start = 0, self.pos
        while self.pos < len(self.toks):
            tok = self.toks[self.pos]
            self.pos += 1
            depth += (tok == "{") - (tok == "}")
            if depth == 0:
                return self.toks[start + 1 : self.pos - 1]
        return self.toks[start + 1 :]


def measure(tex: str, scale: float = 1.0) -> Box:
    """Estimated width and height (em) of math `tex` set in display style at `scale`."""
    return _seq(_Reader(tokens(tex)), scale, display=True)


def _seq(r: _Reader, scale: float, display: bool, stop: str | None = None) -> Box:
    box = EMPTY
    while (tok := r.peek()) is not None and tok != stop:
        box = box.beside(_atom(r, scale, display))
    return box


def _sub(toks: list[str], scale: float, display: bool = False) -> Box:
    return _seq(_Reader(toks), scale, display)


def _atom(r: _Reader, scale: float, display: bool) -> Box:
    tok = r.take()
    line = Box(0, 1.0 * scale)
    if tok == "{":
        r.pos -= 1
        return _sub(r.group(), scale, display)
    if tok in ("_", "^"):  # a script reaches a little below (above) its base
        script = _sub(r.group(), scale * SCRIPT)
        reach = 0.15 if tok == "_" else 0.25
        return Box(script.width, max(script.height * 0.5 + 0.55 * scale, (1.0 + reach) * scale))
    if tok == "&":
        return EMPTY
    if not tok.startswith("\\"):
        return Box(_char(tok) * scale, line.height)
    name = tok[1:]
    if name in ("frac", "dfrac", "tfrac", "overset", "underset", "binom"):
        inner = scale if (display and name != "tfrac") else scale * SCRIPT
        top, bottom = _sub(r.group(), inner), _sub(r.group(), inner)
        if name in ("overset", "underset"):
            return Box(max(top.width * SCRIPT, bottom.width), bottom.height + top.height * 0.6)
        return Box(max(top.width, bottom.width) + 0.3 * scale, top.height + bottom.height + 0.15)
    if name in _ONE_ARG_STYLE:
        inner = _sub(r.group(), scale, display)
        return Box(inner.width * _ONE_ARG_STYLE[name], inner.height)
    if name in _TEXT:
        text = "".join(r.group())
        return Box(sum(0.75 if c.isupper() else 0.52 for c in text) * scale, line.height)
    if name == "sqrt":
        inner = _sub(r.group(), scale, display)
        return Box(inner.width + 1.0 * scale, inner.height + 0.2)
    if name in ("left", "right", "bigl", "bigr", "Bigl", "Bigr", "big", "Big"):
        delim = r.take()
        if delim == ".":
            return Box(0.12 * scale, line.height)
        return Box(0.5 * scale, 1.8 * scale)
    if name == "resizebox":
        target, _, inner = r.group(), r.group(), r.group()
        return Box(float("".join(target)[:-2]) * scale, _sub(inner[1:-1], scale, True).height)
    if name in ("phantom", "vphantom", "hphantom"):
        inner = _sub(r.group(), scale, display)
        return Box(0 if name == "vphantom" else inner.width, inner.height)
    if name == "begin":
        return _environment(r, "".join(r.group()), scale)
    if name in ("sum", "prod") and display:  # limits above and below
        limits = [EMPTY]
        while r.peek() in ("_", "^"):
            r.take()
            limits.append(_sub(r.group(), scale * SCRIPT))
        width = max(1.5 * scale, *(b.width for b in limits))
        return Box(width, 1.9 * scale + sum(b.height for b in limits))
    if name in _SYMBOLS:
        return Box(_SYMBOLS[name] * scale, line.height)
    if name[:1].isupper():
        return Box(0.85 * scale, line.height)  # a capital Greek letter
    return Box(0.62 * scale, line.height)  # a Greek letter or another symbol


def _char(c: str) -> float:
    if c in "+-=<>":
        return 1.35 if c in "=<>" else 1.25
    if c in ",;":
        return 0.45
    if c in "()[]|":
        return 0.4
    if c.isdigit() or c in ".":
        return 0.5
    if c in _BOLD_WIDE:
        return _BOLD_WIDE[c]
    if c.isupper():
        return 0.8
    return _ITALIC.get(c, 0.6)


def _environment(r: _Reader, env: str, scale: float) -> Box:
    """cases / matrices / aligned: columns side by side, rows stacked."""
    depth, start = 1, r.pos
    while r.pos < len(r.toks) and depth:
        tok = r.take()
        if tok in (r"\begin", r"\end"):
            depth += 1 if tok == r"\begin" else -1
            r.group()
    body = r.toks[start : r.pos - 2] if depth == 0 else r.toks[start:]
    rows = _split_top(body, r"\\")
    cols: list[float] = []
    height = 0.0
    for row in rows:
        cells = _split_top(row, "&")
        boxes = [_sub(cell, scale) for cell in cells]
        cols += [0.0] * (len(boxes) - len(cols))
        boxes += [EMPTY] * (len(cols) - len(boxes))
        cols = [max(c, b.width) for c, b in zip(cols, boxes, strict=True)]
        height += max((b.height for b in boxes), default=1.2 * scale) + 0.3 * scale
    gap = 1.0 if env in ("cases",) else 1.1
    return Box(sum(cols) + gap * scale * len(cols) + 0.6 * scale, height)


def _split_top(toks: list[str], sep: str) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    depth = 0
    for tok in toks:
        if tok in ("{", r"\begin"):
            depth += 1 if tok == "{" else 0
        if tok == "}":
            depth -= 1
        if tok == sep and depth == 0:
            parts.append([])
        else:
            parts[-1].append(tok)
    return [p for p in parts if any(t != " " for t in p)] or [[]]


# ---------------------------------------------------------------------------- breaking lines


@dataclass(frozen=True)
class Piece:
    """A top-level atom of a formula: its text and kind (op, fn, number, paren or operand)."""

    tex: str
    kind: str


def pieces(tex: str) -> list[Piece]:
    """The top-level atoms of `tex`, scripts attached to what they follow."""
    toks = tokens(tex)
    out: list[Piece] = []
    i = 0
    while i < len(toks):
        if toks[i] == " ":
            i += 1
            continue
        j, kind = _atom_end(toks, i)
        scripted = j < len(toks) and toks[j] in ("_", "^")
        while j < len(toks) and toks[j] in ("_", "^"):  # scripts belong to the atom
            j = _atom_end(toks, j + 1)[0]
        text = "".join(toks[i:j]).strip()
        if not scripted and _is_braced_group(toks[i:j]):  # SymPy's \log{\left(x \right)}
            text, kind = "".join(toks[i + 1 : j - 1]).strip(), "paren"
        if out and out[-1].kind == "fn" and kind in ("paren", "operand"):
            out[-1] = Piece(f"{out[-1].tex} {text}", kind)
        else:
            out.append(Piece(text, kind))
        i = j
    return out


def _is_braced_group(toks: list[str]) -> bool:
    r"""``{\left( ... \right)}``: braces around one delimited group and nothing else."""
    inner = [k for k, tok in enumerate(toks) if tok != " "]
    if len(inner) < 3 or toks[inner[0]] != "{" or toks[inner[1]] != r"\left":
        return False
    end, _ = _atom_end(toks, inner[1])
    return _next(toks, end) == inner[-1] and toks[inner[-1]] == "}"


def _atom_end(toks: list[str], i: int) -> tuple[int, str]:
    while i < len(toks) and toks[i] == " ":
        i += 1
    if i >= len(toks):
        return i, "operand"
    tok = toks[i]
    if tok == "{":
        return _close(toks, i, "{", "}"), "operand"
    if tok == r"\left":
        return _next(toks, _close(toks, i, r"\left", r"\right")) + 1, "paren"
    if tok == r"\begin":
        end = _close(toks, i, r"\begin", r"\end")
        return _close(toks, end, "{", "}"), "operand"
    if tok in _OPERATORS:
        return i + 1, "op"
    if tok in (r"\overset", r"\frac"):
        j = _close(toks, i + 1, "{", "}")
        return _close(toks, j, "{", "}"), ("op" if tok == r"\overset" else "operand")
    if tok in (r"\mathbf", r"\boldsymbol", r"\operatorname", r"\text", r"\sqrt", r"\mathrm"):
        end = _close(toks, i + 1, "{", "}") if i + 1 < len(toks) and toks[i + 1] == "{" else i + 2
        return end, ("fn" if tok == r"\operatorname" else "operand")
    if tok in (r"\sum", r"\prod"):
        j = i + 1
        while j < len(toks) and toks[j] in ("_", "^"):
            j = _atom_end(toks, j + 1)[0]
        return j, "fn"
    if tok in (r"\sigma", r"\log", r"\exp", r"\tanh", r"\sin", r"\cos", r"\cosh", r"\sinh"):
        return i + 1, "fn"
    if tok.isdigit():
        j = i
        while j < len(toks) and (toks[j].isdigit() or toks[j] == "."):
            j += 1
        return j, "number"
    return i + 1, "operand"


def _close(toks: list[str], i: int, opening: str, closing: str) -> int:
    """Index after the token closing the group opened at `i`."""
    depth = 0
    for j in range(i, len(toks)):
        depth += (toks[j] == opening) - (toks[j] == closing)
        if depth == 0:
            return j + 1
    return len(toks)


def _next(toks: list[str], i: int) -> int:
    """The index of the first token at or after `i` that is not a space."""
    while i < len(toks) and toks[i] == " ":
        i += 1
    return i


def _open_paren(piece: Piece) -> tuple[str, list[Piece], str]:
    r"""``\left( A + B \right)^{s}`` as ``\bigl(``, the pieces of ``A + B``, ``\bigr)^{s}``:
    fixed-size delimiters, since ``\left``/``\right`` cannot span lines.  No pieces if
    `piece` is no such group."""
    toks = tokens(piece.tex)
    if r"\left" not in toks:
        return "", [], ""
    left = toks.index(r"\left")  # after a function's name, if any
    opening = _next(toks, left + 1)
    right = _close(toks, left, r"\left", r"\right") - 1
    closing = _next(toks, right + 1)
    if closing >= len(toks):
        return "", [], ""
    size = "Big" if r"\frac" in toks or r"\begin" in toks else "big"
    inner = pieces("".join(toks[opening + 1 : right]))
    scripts = "".join(toks[closing + 1 :]).strip()
    name = "".join(toks[:left])
    return rf"{name}\{size}l{toks[opening]}", inner, rf"\{size}r{toks[closing]}{scripts}"


def _open_fraction(piece: Piece) -> list[Piece]:
    r"""``\frac{N}{D}`` as the pieces of ``\frac{1}{D} \left(N\right)`` (the same quotient,
    with the numerator breakable); derivatives ``\frac{\partial ...}{...}`` stay whole."""
    toks = tokens(piece.tex)
    top = _next(toks, 1)
    if toks[0] != r"\frac" or top >= len(toks) or toks[top] != "{":
        return [piece]
    if toks[_next(toks, top + 1)] == r"\partial":
        return [piece]
    bottom = _next(toks, _close(toks, top, "{", "}"))
    end = _close(toks, bottom, "{", "}")
    if bottom >= len(toks) or toks[bottom] != "{" or toks[end:].count(" ") != len(toks[end:]):
        return [piece]  # not a plain fraction (a script on it, say)
    numerator, denominator = (
        "".join(toks[top + 1 : bottom - 1]),
        "".join(toks[bottom + 1 : end - 1]),
    )
    if len(pieces(numerator)) < 2:
        return [piece]  # nothing to gain: 1/D, or N/D with N one piece
    return pieces(rf"\frac{{1}}{{{denominator}}} \left({numerator}\right)")


def _shrink(piece: Piece, width: float, scale: float) -> Piece:
    """A piece no break can narrow, scaled down to `width` em (the last resort)."""
    return Piece(
        rf"\resizebox{{{width / scale:.2f}em}}{{!}}{{$\displaystyle {piece.tex}$}}", piece.kind
    )


def wrap(tex: str, width: float, rest_width: float | None = None, scale: float = 1.0) -> list[str]:
    """`tex` as lines of at most `width` em (later lines `rest_width`) where the formula allows;
    continuation lines begin with the operator they were broken before (``{}`` keeps it binary)."""
    if measure(tex, scale).width <= width:
        return [tex]
    rest_width = width if rest_width is None else rest_width
    lead = measure("+", scale).width  # room for the operator a continuation line starts with
    items = _open_wide(pieces(tex), min(width, rest_width) - lead, scale)
    lines: list[list[Piece]] = [[]]
    used = 0.0
    for piece in items:
        lines[-1].append(piece)
        used += measure(piece.tex, scale).width
        while used > (room := width if len(lines) == 1 else rest_width):
            cut = _best_cut(lines[-1], room, scale)
            if cut is None:
                break
            carried = lines[-1][cut:]
            lines[-1] = lines[-1][:cut]
            lines.append(carried)
            used = sum(measure(p.tex, scale).width for p in carried)
    return [_join(line, first=(k == 0)) for k, line in enumerate(lines) if line]


def _open_wide(items: list[Piece], width: float, scale: float) -> list[Piece]:
    """Pieces wider than `width` opened into breakable pieces, or else scaled to fit."""
    out: list[Piece] = []
    for piece in items:
        room = width - _glued(out, scale)  # the piece shares its line with what it is glued to
        if measure(piece.tex, scale).width <= room:
            out.append(piece)
            continue
        if room < NARROWEST * scale:  # too little room left to open anything
            out.append(_shrink(piece, max(room, 1.0 * scale), scale))
            continue
        if piece.kind == "paren":
            before, inner, after = _open_paren(piece)
        else:
            before, inner, after = "", _open_fraction(piece), ""
        if len(inner) < 2:
            out.append(_shrink(piece, room, scale))
            continue
        edges = [Piece(before, "fn")] if before else []
        edge_width = max(measure(before, scale).width, measure(after, scale).width)
        out += edges + _open_wide(inner, room - edge_width, scale)
        out += [Piece(after, "close")] if after else []
    return out


def _glued(out: list[Piece], scale: float) -> float:
    """The width of the pieces at the end of `out` that no break may follow (a coefficient, a
    function's name): the next piece shares their line."""
    glued = 0.0
    for piece in reversed(out):
        if piece.kind not in ("number", "fn"):
            break
        glued += measure(piece.tex, scale).width
    return glued


def _rank(line: list[Piece], k: int) -> int | None:
    """How good a break before ``line[k]`` is: 0 before a relation, 1 before ``+``/``-``,
    2 before another operator, 3 between factors; None where no break may go."""
    before, here = line[k - 1], line[k]
    if here.kind == "close":
        return None
    if here.kind == "op":
        if before.kind in ("op", "fn"):
            return None  # `here` is a unary sign
        if here.tex in _RELATIONS or here.tex.startswith(r"\overset"):
            return 0
        return 1 if here.tex in ("+", "-") else 2
    return None if before.kind in _NO_BREAK_AFTER else 3


def _best_cut(line: list[Piece], room: float, scale: float) -> int | None:
    """Where to break `line`: the best-ranked place (the latest among equals) whose first part
    fits `room` and fills at least 40 % of it; else one whose first part fits; else any."""
    widths = [measure(p.tex, scale).width for p in line]
    cuts = [(rank, k) for k in range(1, len(line)) if (rank := _rank(line, k)) is not None]
    fits = [(rank, k) for rank, k in cuts if sum(widths[:k]) <= room]
    full = [(rank, k) for rank, k in fits if sum(widths[:k]) >= 0.4 * room]
    best = min(full or fits or cuts, key=lambda c: (c[0], -c[1]), default=None)
    return best[1] if best else None


def _join(line: list[Piece], first: bool) -> str:
    text = " ".join(p.tex for p in line)
    return text if first or line[0].kind != "op" else "{} " + text


# ------------------------------------------------------------------------------ align lines


@dataclass(frozen=True)
class Equation:
    """One displayed equation ``lhs rel rhs`` (rel and rhs may be empty), with an optional
    `tag` set at the right of its first line."""

    lhs: str
    rel: str
    rhs: str
    tag: str = ""


@dataclass(frozen=True)
class Line:
    """One ``align*`` line; `joined` if it must stay on the frame of the line before it
    (a continuation, or an equation under its own tag or left side)."""

    tex: str
    joined: bool = False

    def __str__(self) -> str:
        return self.tex


CONTINUE = r"\qquad "
NARROWEST = 3.0  # em: below this, a piece is scaled rather than opened
TAGS = 0.35  # tags wider than this share of the line go on lines of their own, if need be
LIFT = 0.3  # a left side wider than this share of the line goes on a line of its own


def align_lines(equations: list[Equation], width: float, scale: float = 1.0) -> list[Line]:
    r"""``align*`` lines (without ``\\``) for `equations`, each rhs wrapped to the width left
    of `width` em by the widest lhs (and tag); continuation lines start at the alignment point."""
    lifted = [measure(e.lhs, scale).width > LIFT * width for e in equations]
    lhs_width = max(
        (measure(e.lhs, scale).width for e, up in zip(equations, lifted, strict=True) if not up),
        default=0.0,
    )
    tag_width = max(
        (measure(e.tag, scale).width + 2.0 * scale for e in equations if e.tag), default=0
    )
    natural = max((measure(f"{e.rel} {e.rhs}", scale).width for e in equations), default=0)
    tags_above = tag_width > TAGS * width and lhs_width + natural + tag_width > width
    tag_width = 0 if tags_above else tag_width
    lines: list[Line] = []
    for e, up in zip(equations, lifted, strict=True):
        rel = measure(e.rel, scale).width
        room = max(width - lhs_width - rel - tag_width - 0.5 * scale, 6.0 * scale)
        above = bool(e.tag) and tags_above
        if above:
            lines.append(_tag_line(e.tag, width - lhs_width, scale))
        if not e.rhs:
            lines.append(Line(f"{e.lhs} &{e.rel}" if e.rel else e.lhs, joined=above))
            continue
        if up:  # a wide left side gets a line of its own, starting at the alignment point
            lines.append(Line(f"&{e.lhs}", joined=above))
            room -= 2.0 * scale
        head, *rest = wrap(e.rhs, room, room - 2.0 * scale, scale)
        head = f"&{CONTINUE}{e.rel} {head}" if up else f"{e.lhs} &{e.rel} {head}"
        if e.tag and not tags_above:
            head += f" &&{e.tag}"
        lines.append(Line(head, joined=above or up))
        indent = f"&{CONTINUE}{CONTINUE}" if up else f"&{CONTINUE}"
        lines += [Line(indent + line, joined=True) for line in rest]
    return lines


def _tag_line(tag: str, width: float, scale: float) -> Line:
    """A tag as an ``align*`` line of its own at the alignment point, scaled if too wide."""
    if measure(tag, scale).width <= width:
        return Line(f"&{tag}")
    return Line(f"&{_shrink(Piece(tag, 'operand'), width, scale).tex}")


def line_height(line: Line | str, scale: float = 1.0) -> float:
    """Estimated height (em) of one ``align*`` line, with the gap to the next."""
    return max(measure(str(line), scale).height, 1.2 * scale) + 0.3 * scale


def chunk(
    lines: list[Line], budget: float, scale: float = 1.0, first: float = 0.0, last: float = 0.0
) -> list[list[Line]]:
    """`lines` in consecutive groups whose estimated height fits `budget` em, `first` em being
    taken before the first group and `last` em after the last; joined lines stay with the
    line before them unless together they are taller than a group."""
    units: list[list[Line]] = []
    for line in lines:
        if units and line.joined:
            units[-1].append(line)
        else:
            units.append([line])
    room = budget - first
    units = [  # an equation taller than a group is split between its lines
        part
        for u in units
        for part in (
            [[line] for line in u] if sum(line_height(x, scale) for x in u) > room else [u]
        )
    ]
    groups: list[list[Line]] = [[]]
    used = first
    for unit in units:
        h = sum(line_height(line, scale) for line in unit)
        if groups[-1] and used + h > budget:
            groups.append([])
            used = 0.0
        groups[-1] += unit
        used += h
    if used + last > budget and len(groups[-1]) > 1:  # room for what follows the last group
        tail = chunk(groups[-1], budget - last, scale, first if len(groups) == 1 else 0.0)
        head = [line for group in tail[:-1] for line in group]
        groups[-1:] = [head, tail[-1]] if head else tail
    return groups


# ----------------------------------------------------------------------------- beamer overlays


def reveal(frames: list[list[Line]], groups: list | None = None) -> list[tuple[list[Line], int]]:
    r"""Each frame of one display with beamer overlays, and its number of slides: each equation
    (a line not joined to the one before, with the lines joined to it) is uncovered from a
    slide of its own on, the frame's first on slide 1; consecutive equations whose `groups`
    entries (one per equation of the whole display) are equal share a slide.  Every cell of a
    later line is wrapped in ``\uncover<k->{...}`` with explicit slide numbers, which amsmath's
    measuring pass cannot disturb (a ``\pause`` in ``align*`` shows everything at once)."""
    out, index = [], -1
    for frame in frames:
        lines, slide, previous = [], 0, None
        for line in frame:
            if not line.joined or slide == 0:
                index += 1 if not line.joined or index < 0 else 0
                group = groups[index] if groups is not None else index
                if slide == 0 or group != previous:
                    slide += 1
                previous = group
            lines.append(line if slide == 1 else Line(_uncovered(line.tex, slide), line.joined))
        out.append((lines, slide))
    return out


def _uncovered(tex: str, slide: int) -> str:
    """The `align*` line `tex` with each non-empty cell shown from `slide` on; a cell after an
    ``&`` keeps the empty atom amsmath puts before it, so that a relation keeps its space."""
    cells = _cells(tex)
    shown = []
    for k, cell in enumerate(cells):
        body = cell.strip()
        if not body:
            shown.append(cell)
            continue
        shown.append(rf"\uncover<{slide}->{{{'{}' if k else ''}{body}}}")
    return " &".join(shown)


def _cells(tex: str) -> list[str]:
    r"""`tex` split at its top-level ``&`` (none inside braces or ``\begin ... \end``)."""
    cells, depth, start = [], 0, 0
    toks = _TOKEN.finditer(tex)
    for match in toks:
        tok = match.group()
        depth += tok in ("{", r"\begin")
        depth -= tok in ("}", r"\end")
        if tok == "&" and depth == 0:
            cells.append(tex[start : match.start()])
            start = match.end()
    cells.append(tex[start:])
    return cells
