"""Presentation MathML in the lecture's notation, for the web page (`output.html`).

The same notation as `printing.latex`: bold z_j, W_j (Unicode's mathematical bold letters, which
MathML Core renders without `mathvariant`), bold italic delta_j and sigma'_j, ``∘`` for the
Hadamard product, ``ᵀ`` as a superscript T, sums in reading order (z - y).  Every symbp node
prints here (`nodes`, `convolution`); one without a method raises (`strict.Strict`).

SymPy's MathML printer writes text nodes unescaped and with HTML entities (``&InvisibleTimes;``);
this printer decodes those entities to characters and lets `xml.dom.minidom` escape every text
node, so that whatever a name holds, the output is well-formed XML with no markup of its own.
`mathml` returns a fragment (an ``<mrow>``, ``<mi>``, ...) to be placed inside ``<math>``.
"""

from __future__ import annotations

import html
import unicodedata
from typing import ClassVar
from xml.dom.minidom import Document

import sympy as sp
from sympy import HadamardProduct, MatAdd, MatMul
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.precedence import PRECEDENCE

from .. import naming
from ..graph.nodes import Partial
from .strict import Strict


def _char(name: str) -> str:
    return unicodedata.lookup(f"MATHEMATICAL {name}")


def bold(letter: str) -> str:
    """`letter` as Unicode's mathematical bold letter (LaTeX's \\mathbf)."""
    return _char(f"BOLD {'CAPITAL' if letter.isupper() else 'SMALL'} {letter.upper()}")


# code stem -> its letter as LaTeX's \mathbf (upright bold) or \boldsymbol (bold italic Greek)
_STEMS = {stem: bold(stem) for stem in ("z", "u", "a", "y", "W", "K", "b", "P", "Z", "U")}
_STEMS |= {stem: bold(stem) for stem in ("A", "Y")}
_STEMS |= {
    "delta": _char("BOLD ITALIC SMALL DELTA"),
    "zeta": _char("BOLD ITALIC SMALL ZETA"),
    "dsig": _char("BOLD ITALIC SMALL SIGMA"),
    "Delta": _char("BOLD CAPITAL DELTA"),
    "Zeta": _char("BOLD SCRIPT CAPITAL Z"),
    "Dsig": _char("BOLD CAPITAL SIGMA"),
    "lambda": "λ",
}
_STEMS |= {stem: bold(stem) for stem in ("H", "S", "V")}
#: adjoints with a superscript: Delta^v_j, the adjoint of a recurrence's hidden projection
_SUPERSCRIPTED = {"deltav": ("delta", "v"), "Deltav": ("Delta", "v")}
#: a recurrent layer's weights and biases: (letter, the subscript before the layer) W_{xh,1}
_SUBSCRIPTED = {"Wxh": ("W", "xh"), "Whh": ("W", "hh"), "bhh": ("b", "hh")}
#: a recurrent cell's quantities at one step (h1_t): stem -> (letter, superscript or "")
_STEP_BASES = {stem: (bold(stem), "") for stem in "hcxifgorqnvau"}
_STEP_BASES |= {
    "delta": (_STEMS["delta"], ""),
    "zeta": (_STEMS["zeta"], ""),
    "dsig": (_STEMS["dsig"], ""),
    "eps": (_char("BOLD ITALIC SMALL EPSILON"), ""),
    "epsc": (_char("BOLD ITALIC SMALL EPSILON"), "c"),
    "deltac": (_STEMS["delta"], "c"),
    "deltav": (_STEMS["delta"], "v"),
}
for _gate in "ifgorqn":
    _STEP_BASES |= {
        f"u{_gate}": (bold("u"), _gate),
        f"delta{_gate}": (_STEMS["delta"], _gate),
        f"dsig{_gate}": (_STEMS["dsig"], _gate),
    }
_PRIMED = {"dsig", "Dsig"}  #: stems written with a prime: sigma'_j
ONE = _char("BOLD DIGIT ONE")  #: the all-ones vector or matrix, LaTeX's \mathbf{1}
ZERO = _char("BOLD DIGIT ZERO")
HADAMARD = "∘"
MINUS = "−"
PRIME = "′"


class _Shown(sp.Symbol):
    """A stand-in inside a scalar formula for an already printed matrix argument."""


class Entry(sp.Symbol):
    """Entry `index` (text such as "1,3") of a named quantity `stem` (delta, z, or a kernel's k),
    shown as the stem's letter with the index below: delta_{1,3}, k_{0}."""

    def __new__(cls, stem: str, index: str):
        return super().__new__(cls, f"{stem}:{index}")

    def __getnewargs__(self):
        return tuple(self.name.split(":", 1))

    @property
    def parts(self) -> tuple[str, str]:
        stem, index = self.name.split(":", 1)
        return stem, index


class SymbpMathMLPrinter(Strict, MathMLPresentationPrinter):
    """With ``sample="i"``, per-sample symbols carry a sample index: z_1^{(i)}."""

    _default_settings: ClassVar[dict] = {
        **MathMLPresentationPrinter._default_settings,
        "sample": None,
    }

    def __init__(self, settings=None):
        super().__init__(settings)
        dom = self.dom
        # Undo SymPy's raw text nodes: decode its entities, and let minidom escape on output.
        dom.createTextNode = lambda data: Document.createTextNode(dom, html.unescape(str(data)))
        self._shown: dict[str, object] = {}

    def doprint(self, expr) -> str:
        node = self._print(expr)
        for op in node.getElementsByTagName("mo") + ([node] if node.tagName == "mo" else []):
            if op.firstChild is not None and op.firstChild.data == "-":
                op.firstChild.data = MINUS  # SymPy's scalar printing writes a hyphen
        return node.toxml()

    # -- small element builders -------------------------------------------------------------
    def _el(self, tag: str, *children, **attrs):
        node = self.dom.createElement(tag)
        for child in children:
            node.appendChild(child)
        for key, value in attrs.items():
            node.setAttribute(key, value)
        return node

    def _text(self, tag: str, text: str, **attrs):
        return self._el(tag, self.dom.createTextNode(text), **attrs)

    def _mo(self, text: str, **attrs):
        return self._text("mo", text, **attrs)

    def _mi(self, text: str, **attrs):
        return self._text("mi", text, **attrs)

    def _row(self, *children):
        return self._el("mrow", *children)

    def _fenced(self, child, left="(", right=")"):
        tight = {"lspace": "0", "rspace": "0"}
        return self._row(self._mo(left, **tight), child, self._mo(right, **tight))

    def _wrap(self, expr, kinds, brackets=("(", ")")):
        shown = self._print(expr)
        return self._fenced(shown, *brackets) if isinstance(expr, kinds) else shown

    def _operand(self, expr):
        """A factor of a matrix product: sums, Hadamard products, negated products bracketed."""
        negated = isinstance(expr, MatMul) and expr.as_coeff_matrices()[0] != 1
        if negated:
            return self._fenced(self._print(expr))
        return self._wrap(expr, (MatAdd, HadamardProduct))

    def _factor(self, expr):
        """A Hadamard factor, bracketed unless a symbol or a scaled sum like 2(z - y)."""
        if isinstance(expr, MatMul) and len(expr.as_coeff_matrices()[1]) == 1:
            return self._print(expr)
        return self._wrap(expr, (MatAdd, MatMul, HadamardProduct))

    def _call(self, name: str, *args, sub=None, sup=None):
        """``name(args)`` with the function name upright, as LaTeX's \\operatorname."""
        head = self._mi(name, mathvariant="normal") if len(name) == 1 else self._mi(name)
        if sub is not None:
            head = self._el("msub", head, sub)
        if sup is not None:
            head = self._el("msup", head, sup)
        inner = self._row()
        for i, a in enumerate(args):
            if i:
                inner.appendChild(self._mo(","))
            inner.appendChild(a if not isinstance(a, sp.Basic) else self._print(a))
        return self._row(head, self._fenced(inner))

    # -- names ------------------------------------------------------------------------------
    def _step_name(self, name: str):
        """A recurrent cell's quantity at one step (h1_t, deltac1_tp1): its letter, its
        superscript (a gate, c, v), the layer and the step below; None for another name."""
        match = naming.STEP_NAME.match(name)
        if not match or match.group(1) not in _STEP_BASES:
            return None
        stem, layer, step = match.groups()
        letter, sup = _STEP_BASES[stem]
        when = {"t": "t", "tm1": "t−1", "tp1": "t+1"}[step]
        sub = self._row(self._text("mn", layer), self._mo(","), self._mi(when))
        if stem.startswith("dsig"):
            sup = PRIME + sup
        if sup:
            return self._el("msubsup", self._mi(letter), sub, self._mi(sup))
        return self._el("msub", self._mi(letter), sub)

    def _name(self, name: str):
        """A symbp name (z1, delta2, W3, y, lambda1) with its stem's letter and its index."""
        step = self._step_name(name)
        if step is not None:
            return step
        stem, index = naming.split(name)
        if stem in _SUPERSCRIPTED:
            base, sup = _SUPERSCRIPTED[stem]
            return self._el(
                "msubsup", self._mi(_STEMS[base]), self._text("mn", index), self._mi(sup)
            )
        if stem in _SUBSCRIPTED:
            letter, before = _SUBSCRIPTED[stem]
            return self._el("msub", self._mi(bold(letter)), self._mi(f"{before},{index}"))
        if stem not in _STEMS:
            return None
        base = self._mi(_STEMS[stem])
        if stem in _PRIMED:
            base = self._el("msup", base, self._mo(PRIME))
        sample = self._settings["sample"]
        sup = self._fenced(self._mi(sample)) if sample and stem in naming.PER_SAMPLE else None
        sub = self._text("mn", index) if index else None
        if sub is not None and sup is not None:
            if stem in _PRIMED:
                base = base.firstChild
                sup = self._row(self._mo(PRIME), sup)
            return self._el("msubsup", base, sub, sup)
        if sub is not None:
            if stem in _PRIMED:  # sigma'_j: the prime above the index, as LaTeX sets it
                return self._el("msubsup", base.firstChild, sub, self._mo(PRIME))
            return self._el("msub", base, sub)
        if sup is not None:
            return self._el("msup", base, sup)
        return base

    def _print_MatrixSymbol(self, expr):
        return self._name(expr.name) or self._print_Symbol(expr)

    def _print_Symbol(self, expr, style="plain"):
        if expr.name in self._shown:
            return self._shown[expr.name].cloneNode(True)
        return self._name(expr.name) or super()._print_Symbol(expr, style)

    def _print_Entry(self, expr):
        stem, index = expr.parts
        return self._el("msub", self._mi(_STEMS.get(stem, stem)), self._text("mn", index))

    def _print_WidthSymbol(self, expr):
        """A symbolic width d_1: the name as written, an index after its first underscore."""
        base, _, sub = expr.name.partition("_")
        if sub and not sub.endswith("_"):
            return self._el("msub", self._mi(base), self._mi(sub))
        return self._mi(expr.name)

    def _print_Scalar(self, expr):
        """An update rule's scalar (`optimizers.Scalar`, named in Unicode): g, m, m̂, β₁, θ."""
        tex = type(expr).TEX.get(expr.name, "")
        if tex.isalpha() and tex.isascii():
            return self._mi(tex)
        name = expr.name
        if name.endswith("\u0302"):  # m̂: a combining circumflex
            return self._el("mover", self._mi(name[:-1]), self._mo("^"), accent="true")
        base = name.rstrip("₀₁₂₃₄₅₆₇₈₉")
        if base != name:
            digits = name[len(base) :].translate(str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789"))
            return self._el("msub", self._mi(base), self._text("mn", digits))
        return self._mi(name)

    def _print_Function(self, e):
        if isinstance(e, sp.core.function.AppliedUndef):  # sigma(t), sigma_j(u)
            inner = self._row()
            for i, a in enumerate(e.args):
                if i:
                    inner.appendChild(self._mo(","))
                inner.appendChild(self._print(a))
            return self._row(self._print_Symbol(sp.Symbol(e.func.__name__)), self._fenced(inner))
        return super()._print_Function(e)

    def _print_Mul(self, expr):
        """A scalar product as LaTeX writes it: a fraction only of a true denominator (e^{-t}
        stays in the numerator), factors side by side."""
        if expr.could_extract_minus_sign():
            return self._row(self._mo(MINUS), self._print(-expr))
        numer, denom = sp.fraction(expr, exact=True)
        if denom != 1:
            return self._el("mfrac", self._print(numer), self._print(denom))
        coeff, terms = expr.as_coeff_mul()
        factors = list(sp.Mul._from_args(terms).as_ordered_factors())
        out = self._row()
        if coeff != 1:
            out.appendChild(self._print(coeff))
        for i, term in enumerate(factors):
            if i or coeff != 1:
                out.appendChild(self._mo("\u2062"))  # invisible times
            out.appendChild(self.parenthesize(term, PRECEDENCE["Mul"]))
        return out

    def _print_Exp1(self, e):
        return self._mi("e")

    def _print_Piecewise(self, expr):
        """Cases, as LaTeX's ``cases``: value, then "for" condition or "otherwise"."""
        table = self._el("mtable", columnalign="left")
        for value, cond in expr.args:
            when = (
                self._mtext("otherwise")
                if cond == sp.true
                else self._row(self._mtext("for "), self._print(cond))
            )
            row = self._el("mtr", self._el("mtd", self._print(value)), self._el("mtd", when))
            table.appendChild(row)
        return self._row(self._mo("{"), table)

    def _print_Derivative(self, e):
        """d/du f(u), as LaTeX's \\frac{d}{d u}."""
        (var, count), *_ = e.variable_count
        d = self._mi("d", mathvariant="normal")
        bottom = self._row(self._mi("d", mathvariant="normal"), self._print(var))
        if count != 1:
            d = self._el("msup", d, self._print(count))
            bottom = self._el("msup", bottom, self._print(count))
        return self._row(self._el("mfrac", d, bottom), self._print(e.expr))

    # -- matrix expressions -----------------------------------------------------------------
    def _print_Transpose(self, expr):
        base = self._wrap(expr.arg, (MatAdd, MatMul, HadamardProduct))
        return self._el("msup", base, self._mi("T"))

    def _print_MatMul(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        out = self._row()
        if coeff == -1:
            out.appendChild(self._mo(MINUS))
        elif coeff != 1:
            out.appendChild(self._print(coeff))
        for i, m in enumerate(factors):
            if i and _row_of_ones(m):  # b 1^T: a row factor
                out.appendChild(self._el("msup", self._text("mn", ONE), self._mi("T")))
            else:
                out.appendChild(self._operand(m))
        return out

    def _print_MatAdd(self, expr):
        """Terms in reading order: positive terms first (1 - y, z - y)."""
        terms = sorted(expr.args, key=lambda term: bool(term.could_extract_minus_sign()))
        out = self._row()
        for i, term in enumerate(terms):
            negative = term.could_extract_minus_sign()
            unsigned = _unsigned(term) if negative else term
            shown = self._print(unsigned)
            if negative and (isinstance(unsigned, MatAdd) or unsigned.could_extract_minus_sign()):
                shown = self._fenced(shown)  # - (a - b), - (-a): never --a
            if negative:
                out.appendChild(self._mo(MINUS))
            elif i:
                out.appendChild(self._mo("+"))
            out.appendChild(shown)
        return out

    def _print_HadamardProduct(self, expr):
        out = self._row()
        for i, a in enumerate(expr.args):
            if i:
                out.appendChild(self._mo(HADAMARD))
            out.appendChild(self._factor(a))
        return out

    def _print_HadamardPower(self, expr):
        if expr.exp == 2:
            return self._row(self._factor(expr.base), self._mo(HADAMARD), self._factor(expr.base))
        sup = self._row(self._mo(HADAMARD), self._print(expr.exp))
        return self._el("msup", self._factor(expr.base), sup)

    def _print_Identity(self, expr):
        return self._mi(bold("I"))

    def _print_ZeroMatrix(self, expr):
        return self._text("mn", ZERO)

    def _print_OneMatrix(self, expr):
        return self._text("mn", ONE)

    def _print_DiagMatrix(self, expr):
        return self._call("diag", expr.args[0])

    def _print_MatrixBase(self, m):
        table = self._el("mtable")
        for i in range(m.rows):
            row = self._el("mtr")
            for j in range(m.cols):
                row.appendChild(self._el("mtd", self._print(m[i, j])))
            table.appendChild(row)
        return self._fenced(table, "[", "]")

    # -- symbp's nodes (graph/nodes.py) -----------------------------------------------------
    def _print_Sigma(self, expr):
        sigma = self._el("msub", self._mi("σ"), self._text("mn", str(expr.layer)))
        return self._row(sigma, self._fenced(self._print(expr.arg)))

    def _print_Elementwise(self, expr):
        """The scalar formula with its variable shown as the matrix argument (bracketed unless
        a single symbol, so that exp(-x) never reads exp(-a + b))."""
        var = expr.function.variables[0]
        shown = self._print(expr.arg)
        if not isinstance(expr.arg, sp.MatrixSymbol):
            shown = self._fenced(shown)
        slot = _Shown(f"_shown{len(self._shown)}")
        self._shown[slot.name] = shown
        return self._print(expr.function.expr.xreplace({var: slot}))

    def _print_LogSumExp(self, expr):
        ones = self._el("msup", self._text("mn", ONE), self._mi("T"))
        return self._row(self._mi("log"), ones, self._call("exp", expr.arg))

    def _print_ElementSum(self, expr):
        arg = expr.arg
        if isinstance(arg, sp.HadamardPower) and arg.exp == 2:
            norm = self._mi("F") if arg.base.shape[1] != 1 else self._text("mn", "2")
            bars = self._fenced(self._print(arg.base), "‖", "‖")
            return self._el("msubsup", bars, norm, self._text("mn", "2"))
        out = self._row()
        if isinstance(arg, MatMul) and arg.as_coeff_matrices()[0] == -1:
            out.appendChild(self._mo(MINUS))
            arg = _unsigned(arg)
        out.appendChild(self._el("msup", self._text("mn", ONE), self._mi("T")))
        out.appendChild(self._fenced(self._print(arg)))
        if arg.shape[1] != 1:
            out.appendChild(self._text("mn", ONE))
        return out

    def _print_Stack(self, expr):
        top, bottom = (self._el("mtr", self._el("mtd", self._print(a))) for a in expr.args)
        return self._fenced(self._el("mtable", top, bottom), "[", "]")

    def _print_LeastSquares(self, expr):
        A, T, B = expr.args
        kinds = (MatAdd, MatMul, HadamardProduct)
        out = self._row()
        if not isinstance(A, sp.Identity):
            out.appendChild(self._el("msup", self._wrap(A, kinds), self._mo("+")))
        out.appendChild(self._wrap(T, (MatAdd,)))
        out.appendChild(self._el("msup", self._wrap(B, kinds), self._mo("+")))
        return out

    def _print_Partial(self, expr):
        num, den = expr.args
        top = self._print(num)
        if not isinstance(num, (sp.MatrixSymbol, sp.Symbol)):
            top = self._fenced(top)
        partial = self._mo("∂")
        return self._el(
            "mfrac", self._row(partial, top), self._row(partial.cloneNode(True), self._print(den))
        )

    def _print_Plus(self, expr):
        left, right = expr.args
        return self._row(self._print(left), self._mo("+"), self._print(right))

    def _print_VJP(self, expr):
        row, jac = expr.args
        shown = (
            self._print(row)
            if isinstance(row, Partial)
            else self._wrap(row, (HadamardProduct, MatAdd), ("[", "]"))
        )
        return self._row(shown, self._print(jac))

    # -- convolution nodes (graph/convolution.py), as their _latex methods write them ---------
    def _bracketed(self, e):
        shown = self._print(e)
        return shown if isinstance(e, sp.MatrixSymbol) else self._fenced(shown)

    def _print_Conv(self, expr):
        K, Z = expr.args[:2]
        return self._row(self._print(K), self._mo("⋆"), self._print(Z))

    def _print_ConvTranspose(self, expr):
        K, G = expr.args[:2]
        star = self._el("msup", self._mo("⋆"), self._mi("T"))
        return self._row(self._print(K), star, self._bracketed(G))

    def _print_ConvKernelGrad(self, expr):
        G, Z = expr.args[:2]
        return self._call("corr", Z, G)

    def _print_ChannelBias(self, expr):
        return self._print(expr.args[0])

    def _print_ChannelSum(self, expr):
        return self._call("sum", expr.args[0], sub=self._mtext("pos"))

    def _print_MaxPool(self, expr):
        return self._call("maxpool", expr.args[0])

    def _print_MaxPoolGrad(self, expr):
        G, A = expr.args[:2]
        return self._call("maxpool", G, sub=self._print(A), sup=self._mo(PRIME))

    def _print_AvgPool(self, expr):
        return self._call("avgpool", expr.args[0])

    def _print_AvgPoolTranspose(self, expr):
        return self._call("avgpool", expr.args[0], sup=self._mi("T"))

    # -- recurrence nodes (graph/recurrence.py), as their _latex methods write them ----------
    def _print_Apply(self, expr):
        return self._call("σ" if expr.name == "sigmoid" else expr.name, expr.arg)

    def _print_RowSlice(self, expr):
        where = expr.label or f"{expr.start + 1}:{expr.stop}"
        return self._el("msub", self._fenced(self._print(expr.arg), "[", "]"), self._mi(where))

    def _print_Blocks(self, expr):
        rows = [self._el("mtr", self._el("mtd", self._print(a))) for a in expr.args]
        return self._fenced(self._el("mtable", *rows), "[", "]")

    def _print_Recurrence(self, expr):
        return self._call(expr.info.kind.upper(), *expr.operands)

    def _print_Bptt(self, expr):
        return self._call("BPTT", *expr.operands)

    def _print_Hidden(self, expr):
        return self._name("H" + "".join(ch for ch in expr.args[0].name if ch.isdigit()))

    def _print_Last(self, expr):
        sub = self._row(self._text("mn", str(expr.info.layer)), self._mo(","), self._mi("T"))
        return self._el("msub", self._mi(bold("h")), sub)

    def _print_Shifted(self, expr):
        return self._el(
            "msubsup", self._mi(bold("H")), self._text("mn", str(expr.info.layer)), self._mo("−")
        )

    def _print_TraceAdjoint(self, expr):
        return self._print(expr.args[0])

    def _mtext(self, text: str):
        return self._text("mtext", text)


def _row_of_ones(m) -> bool:
    return isinstance(m, sp.OneMatrix) and m.shape[0] == 1 and m.shape[1] != 1


def _unsigned(term):
    """`term` without its minus sign, taken apart structurally (see `notation.MatrixNotation`)."""
    if isinstance(term, MatMul):
        coeff, factors = term.as_coeff_matrices()
        if coeff == -1:
            return factors[0] if len(factors) == 1 else MatMul(*factors, evaluate=False)
        if coeff.is_Number and coeff < 0:
            return MatMul(-coeff, *factors, evaluate=False)
    return -term


def mathml(expr, sample: str | None = None, **settings) -> str:
    """`expr` as a MathML fragment (no ``<math>`` around it); ``sample="i"`` marks per-sample
    symbols with ``(i)``."""
    return SymbpMathMLPrinter({"sample": sample, **settings}).doprint(expr)


def generic(stem: str, index: str = "j", sample: str | None = None) -> str:
    """A stem's quantity with a letter for its layer (and optionally a sample) index, as prose
    speaks of any layer: ``generic("delta")`` is delta_j, ``generic("z", sample="1")`` z_j^(1)."""
    printer = SymbpMathMLPrinter()
    base = printer._mi(_STEMS[stem])
    sub = printer._mi(index)
    if stem in _PRIMED or sample is not None:
        sup = printer._row()
        if stem in _PRIMED:
            sup.appendChild(printer._mo(PRIME))
        if sample is not None:
            sup.appendChild(
                printer._fenced(
                    printer._mi(sample) if sample.isalpha() else printer._text("mn", sample)
                )
            )
        return printer._el("msubsup", base, sub, sup).toxml()
    return printer._el("msub", base, sub).toxml()


def mtext(text: str) -> str:
    """`text` as an escaped ``<mtext>`` element."""
    return SymbpMathMLPrinter()._mtext(text).toxml()


def mo(text: str) -> str:
    """`text` as an escaped ``<mo>`` element (an operator or relation)."""
    return SymbpMathMLPrinter()._mo(text).toxml()


def over(relation: str, label: str) -> str:
    """`relation` (a MathML fragment) with `label` (a fragment) set small above it."""
    return f'<mover accent="false">{relation}<mrow class="label">{label}</mrow></mover>'


def reason(r) -> str:
    """The label over an ``=`` (as `printing.latex.reason`), as a MathML fragment."""
    labels = {
        "chain": "CR",
        "loss": "(L)",
        "simplify": "SymPy",
        "sum": "MCR",
        "decay": "CR, (R)",
        "time": "BPTT",
    }
    if r.kind in labels:
        return mtext(labels[r.kind])
    if r.kind == "layer":
        return mtext(f"(e.{r.layer})")
    return f'<mrow>{mtext("def.")}<mspace width="0.3em"/>{mathml(r.symbol)}</mrow>'
