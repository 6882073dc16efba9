"""Parse a hand-written backprop claim into a small tree (Lark grammar `claim.lark`).

The tree is plain data: `Sym` for a named quantity, `Op` for an operation with its operands;
`resolve` in `verify.py` gives it meaning for a given network.  Text is never evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import lark

MAX_LENGTH = 2000  #: characters in one claim
MAX_TOKENS = 400  #: symbols (names, numbers, commands, operators) in one claim
MAX_DEPTH = 60  #: nesting of the parse tree (brackets, transposes, products...) in one claim
_TOKEN = re.compile(r"\\[A-Za-z]+|[A-Za-z]+[0-9]*|[0-9]+(?:\.[0-9]+)?|\.T|\S")


class ClaimSyntaxError(ValueError):
    """The claim cannot be parsed; `column` (1-based) points at the problem."""

    def __init__(self, message: str, column: int | None = None):
        self.column = column
        where = f"column {column}: " if column else ""
        super().__init__(f"{where}{message}")


@dataclass(frozen=True)
class Sym:
    """A name as written: stem ("z", "a", "delta", "zeta", "Zeta", "sigma", "W", "dsigma2"...),
    index, primes."""

    stem: str
    index: str | None
    primes: int
    column: int


@dataclass(frozen=True)
class Op:
    kind: str  # add sub neg hadamard mul T call frac partial sum sample number power ones
    args: tuple
    column: int


@cache
def _parser() -> lark.Lark:
    grammar = (Path(__file__).parent / "claim.lark").read_text()
    return lark.Lark(grammar, parser="earley", propagate_positions=True, ambiguity="resolve")


def _col(meta) -> int:
    return getattr(meta, "column", 0) or 0


_FUNCTION = re.compile(  #: applied stems (corr, sum_pos, maxpool, avgpool, T(K): convolutions)
    r"(?:sigma|dsigma|dsig|diag|hadamard|tanh|exp|phi|corr|sum|maxpool|avgpool|T)\d*"
)
_ELEMENTARY = ("tanh", "exp")  #: functions that take a power before their argument (\tanh^2 u)
_GREEK = {
    "δ": "delta",
    "σ": "sigma",
    "Δ": "Delta",
    "ζ": "zeta",
    "Σ": "Sigma",
    "φ": "phi",
    "𝒵": "Zeta",
}
_SUBDIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_LAYER_LETTERS = ("L", "J", "l")  #: a layer, not a sample, in a superscript (L) or ^L
#: names in the superscript notation (Ng, Nielsen: z^{(l)} = W^{(l)} a^{(l-1)}, a^{(l)} = σ(z^{(l)}))
#: as the lecture's: a^{(l)} is the activation z_l, z^{(l)} the pre-activation u_l.  A claim in the
#: lecture's names with superscripts (u^{(l)} written, or neither a^{(l)} nor σ(z^{(l)})) reads
#: z^{(l)} as the lecture's z_l (`LECTURE_STEMS`, chosen by `_superscript_stems`).
SUPERSCRIPT_STEMS = {"a": "act", "A": "Act", "z": "u", "Z": "U", "w": "W"}
LECTURE_STEMS = {"a": "act", "A": "Act", "w": "W"}  #: act: σ_l(u_l), a_l or z_l (`Resolver`)
_BOLD = r"(?:\\mathbf\{|\\boldsymbol\{|\\bm\{)?"
_SUPERSCRIPTED = {  #: a name with a superscript, by stem letters
    letters: re.compile(rf"(?<![A-Za-z\\]){_BOLD}[{letters}]\}}?\s*\^") for letters in ("aA", "uU")
}
_PRE_ACTIVATION_ARGUMENT = re.compile(  #: σ'(z^{(l)}), g'(z^{[l]}): z^{(l)} is what σ is applied to
    rf"(?:\\sigma|\\phi|\\varphi|(?<![A-Za-z\\])[gf])\s*(?:'|\\prime|_\{{?\w+\}}?)*\s*"
    rf"(?:\\left)?\(\s*{_BOLD}[zZ]\}}?\s*\^"
)


def _superscript_stems(text: str) -> dict:
    """How superscripted names read in `text`: Ng's and Nielsen's (z^{(l)} the pre-activation)
    when it writes a^{(l)} or applies σ to a z^{(l)} and writes no u^{(l)}; else the lecture's."""
    if _SUPERSCRIPTED["uU"].search(text):
        return LECTURE_STEMS
    if _SUPERSCRIPTED["aA"].search(text) or _PRE_ACTIVATION_ARGUMENT.search(text):
        return SUPERSCRIPT_STEMS
    return LECTURE_STEMS


_COMMENT = re.compile(r"(?<!\\)%.*")
#: an annotation after the formula: an align's && column, or \quad \text{(BP1)}, \tag, \label
_ANNOTATION = re.compile(
    r"(?:&&.*|(?:\\q?quad|,|;)?\s*(?:\\text\{[^{}]*\}|\\tag\*?\{[^{}]*\}|\\label\{[^{}]*\}"
    r"|\\nonumber|\\notag))\s*$"
)


def _applies_function(call: Op) -> bool:
    """Whether a "call" applies a function (σ_2(u), diag(v), σ'(u), maxpool'_{z}(g),
    avgpool^T(g)) rather than juxtaposes a factor with a bracketed one (δ_4 (a_3 + z_1))."""
    head = call.args[0]
    if isinstance(head, Op) and head.kind in ("pool_prime", "T") and len(head.args) == 1:
        head = head.args[0]  # avgpool^T: a transposed pooling, applied
    elif isinstance(head, Op) and head.kind == "pool_prime":
        return True
    return isinstance(head, Sym) and bool(head.primes or _FUNCTION.fullmatch(head.stem))


def _on_argument(base, apply):
    """`apply` (a transpose or sample marker) on `base`; when `base` is a bracketed factor read as
    an argument of something that is not a function, as in δ_4 (a_3 + z_1)^T, on that factor
    only: the superscript binds to the brackets it follows, the rest is a product."""
    if isinstance(base, Op) and base.kind == "call" and len(base.args) == 2:
        head, argument = base.args
        if not _applies_function(base):
            return Op("mul", (head, apply(argument)), base.column)
    return apply(base)


@lark.v_args(meta=True)
class _Tree(lark.Transformer):
    def __init__(self, stems: dict):
        super().__init__()
        self.stems = stems  #: how superscripted names read (`SUPERSCRIPT_STEMS` or `LECTURE_STEMS`)
        self.indices: set[str] = set()  #: the letters of the sample markers, (i)
        self.variables: set[str] = set()  #: the variables of the sums over samples
        self.limits: set[str] = set()  #: the upper limits of the sums (N, or m, n: the batch size)

    def start(self, meta, items):
        return tuple(items)

    def group(self, meta, items):
        """A bracketed expression; a juxtaposition inside it, as in (z_0^T (W_1 + W_2))^T, is a
        product whole, so that a transpose after the brackets applies to all of it."""
        (inner,) = items
        if isinstance(inner, Op) and inner.kind == "call" and len(inner.args) == 2:
            if not _applies_function(inner):
                return Op("mul", inner.args, inner.column)
        return inner

    def number(self, meta, items):
        return Op("number", (str(items[0]),), _col(meta))

    def name(self, meta, items):
        text = str(items[0]).lstrip("\\")
        text = "phi" if text == "varphi" else _GREEK.get(text, text)
        return Sym(text, None, 0, _col(meta))

    def wrap_token(self, meta, items):
        """\\boldsymbol\\delta, \\mathbf W, \\mathbf 1: a wrapper around one token, no braces."""
        token = items[1]
        if token.type == "NUMBER":
            return self.wrap(meta, [items[0], self.number(meta, [token])])
        return self.name(meta, [token])

    def hat(self, meta, items):
        """\\hat{y} (also ŷ, \\hat y, \\hat{Y}): the network's output, stem "yhat" or "Yhat"."""
        inner = items[0]
        if isinstance(inner, lark.Token):
            inner = (
                Sym("y", None, 0, _col(meta)) if inner.type == "YHAT" else self.name(meta, [inner])
            )
        if not (isinstance(inner, Sym) and inner.stem in ("y", "Y") and inner.index in (None, "i")):
            raise ClaimSyntaxError(
                "a hat belongs on y: \\hat{y} is the network's output", _col(meta)
            )
        return Sym(inner.stem + "hat", inner.index, inner.primes, _col(meta))

    def apply(self, meta, items):
        """\\tanh u, \\tanh^2 u, \\exp(u): a function applied, with a power of its value."""
        head = self.name(meta, [items[0]])
        out = Op("call", (head, items[-1]), _col(meta))
        if len(items) == 3:
            out = Op("power", (out, Op("number", (items[1],), _col(meta))), _col(meta))
        return out

    def power(self, meta, items):
        return str(items[0])

    def euler(self, meta, items):
        """e^{x}: exp(x), entry by entry for a vector."""
        return Op("call", (Sym("exp", None, 0, _col(meta)), items[-1]), _col(meta))

    def slash_frac(self, meta, items):
        """\\partial a / \\partial b, as \\frac{\\partial a}{\\partial b}."""
        top, bottom = (Op("partial", (x,), _col(meta)) for x in items)
        return Op("frac", (top, bottom), _col(meta))

    def nabla(self, meta, items):
        """\\nabla_{X} f: the gradient of f with respect to X, as \\frac{\\partial f}{\\partial X}."""
        wrt, of = items
        if isinstance(wrt, lark.Token):
            wrt = self.name(meta, [wrt])
        if wrt == Sym("a", None, 0, wrt.column) if isinstance(wrt, Sym) else False:
            wrt = Sym("act", "L", 0, wrt.column)  # Nielsen's \nabla_a C: by the output activations
        return self.slash_frac(meta, [of, wrt])

    def calligraphic(self, meta, items):
        """\\mathcal{Z}: the batch form of ζ (a residual layer's adjoint), stem "Zeta";
        \\mathcal{L}, J, C, E: the cost."""
        letter = str(items[0])
        if letter in ("L", "J", "C", "E"):  # \mathcal{L}: the cost f under another name
            return Sym(letter, None, 0, _col(meta))
        if letter != "Z":
            raise ClaimSyntaxError(
                f"\\mathcal{{{letter}}} has no meaning here; the calligraphic names are "
                "\\mathcal{Z}, the batch form of \\zeta, and \\mathcal{L} (J, C, E), the cost",
                _col(meta),
            )
        return Sym("Zeta", None, 0, _col(meta))

    def ones(self, meta, items):
        return Op("ones", (), _col(meta))  # 𝟏: the all-ones vector

    def wrap(self, meta, items):
        inner = items[1]
        if isinstance(inner, Op) and inner.kind == "number" and inner.args[0] == "1":
            return Op("ones", (), _col(meta))  # \mathbf{1}: the all-ones vector
        return inner

    def _binary(kind):
        def method(self, meta, items):
            operands = [i for i in items if not isinstance(i, lark.Token)]
            return Op(kind, tuple(operands), _col(meta))

        return method

    add = _binary("add")
    conv = _binary("conv")
    conv_t = _binary("conv_t")
    sub = _binary("sub")
    hadamard = _binary("hadamard")
    mul = _binary("mul")
    juxt = _binary("mul")

    def hadamard_negated(self, meta, items):
        """a ∘ −b, as symbp prints a Hadamard product with a negated factor."""
        a, b = (i for i in items if not isinstance(i, lark.Token))
        return Op("hadamard", (a, Op("neg", (b,), _col(meta))), _col(meta))

    def neg(self, meta, items):
        return Op("neg", (items[0],), _col(meta))

    def subscript(self, meta, items):
        """z_2, W₃; also after a transpose or a sample marker written first (W^T_3)."""
        base, index = items
        if isinstance(index, lark.Token):  # subscript digits
            index = str(index).translate(_SUBDIGITS)
        if isinstance(base, Op) and base.kind in ("T", "sample") and len(base.args) == 1:
            return Op(base.kind, (self.subscript(meta, [base.args[0], index]),), base.column)
        if not isinstance(base, Sym) or base.index is not None:
            raise ClaimSyntaxError("a subscript belongs on a name, such as z_2 or W_3", _col(meta))
        return Sym(base.stem, index, base.primes, base.column)

    def index(self, meta, items):
        return str(items[0])

    def text_index(self, meta, items):
        """_{\\text{pos}}: a word as an index (\\operatorname{sum}_{\\text{pos}})."""
        return str(items[1])

    def pool_prime(self, meta, items):
        """\\operatorname{maxpool}'_{z_1}: a pooling's derivative at its input z_1, applied
        to the gradient in the brackets after it."""
        name, at = (i for i in items if not (isinstance(i, lark.Token) and i.type != "POOL"))
        return Op("pool_prime", (Sym(str(name), None, 1, _col(meta)), at), _col(meta))

    def layer_offset(self, meta, items):
        """_{l+1}, _{j-1}: a layer counted from a layer variable (`LAYER_VARIABLES`)."""
        return f"{items[0]}{items[1]}"

    def component(self, meta, items):
        """_{3,i}: entry i of layer 3's vector (a claim about one entry, `components`); _{1,4}
        and _{0,0,2} (numbered entries) are read to be refused by name."""
        return ",".join(str(i) for i in items)

    def layer_offset_sup(self, meta, items):
        """^{l+1}, ^{(l-1)}: a layer counted from a layer variable, as a superscript."""
        return ("layer", f"{items[0]}{items[1]}")

    def comparison(self, meta, items):
        a, relation, b = items
        shown = {"\\geq": ">=", "\\ge": ">=", "≥": ">=", "\\leq": "<=", "\\le": "<=", "≤": "<="}
        return Op("compare", (a, shown.get(str(relation), str(relation)), b), _col(meta))

    def indicator(self, meta, items):
        """\\mathbb{1}[u > 0] (also \\mathbb{1}\\{u > 0\\}, 1_{u > 0}): 1 where the condition
        holds, else 0, entry by entry."""
        return Op("indicator", (items[-1],), _col(meta))

    def absolute(self, meta, items):
        """|x|: the absolute value, entry by entry."""
        return Op("abs", (items[0],), _col(meta))

    def transposed(self, meta, items):
        """Wᵀ: a transpose written as a Unicode superscript."""
        return self.dot_t(meta, items)

    def prime(self, meta, items):
        base = items[0]
        if not isinstance(base, Sym):
            raise ClaimSyntaxError("a prime (') belongs on sigma, as in \\sigma'_2", _col(meta))
        return Sym(base.stem, base.index, base.primes + 1, base.column)

    def superscript(self, meta, items):
        """A superscript's parts (`sup`): a layer first, on a name without a subscript (in this
        notation a^{(l)} is the activation z_l and z^{(l)} the pre-activation u_l); then
        transposes, sample markers, primes and powers, in order."""
        base, parts = items
        layers = [p[1] for p in parts if isinstance(p, tuple) and p[0] == "layer"]
        if layers:
            base = self._with_layer(base, layers, _col(meta))

        def apply(out):
            for part in parts:
                if part in ("T", "sample"):
                    out = Op(part, (out,), _col(meta))
                elif part == "prime":
                    out = self.prime(meta, [out])
                elif part[0] == "power":
                    out = Op("power", (out, Op("number", (part[1],), _col(meta))), _col(meta))
            return out

        return _on_argument(base, apply)

    def _with_layer(self, base, layers, column):
        if len(layers) > 1 or not isinstance(base, Sym) or base.index is not None:
            raise ClaimSyntaxError(
                "a layer superscript belongs on a name without a subscript, as in W^{(2)}", column
            )
        stem = self.stems.get(base.stem, base.stem)  # a^{(l)} is z_l; z^{(l)} is u_l beside it
        return Sym(stem, layers[0], base.primes, base.column)

    def sup(self, meta, items):
        return [self._sup_item(i) for i in items]

    @staticmethod
    def _sup_item(item):
        if isinstance(item, lark.Token):
            if item.type == "TEE":
                return "T"
            if item.type == "PRIMESUP":
                return "prime"
            if item.type == "LETTER":
                return ("layer", str(item))
            return ("power", str(item))
        return item

    def sample(self, meta, items):
        """(i) marks one sample; (L), (J), (l) name a layer."""
        name = str(items[0])
        if name in _LAYER_LETTERS:
            return ("layer", name)
        self.indices.add(name)
        return "sample"

    def layer(self, meta, items):
        return ("layer", str(items[0]))

    def dot_t(self, meta, items):
        return _on_argument(items[0], lambda out: Op("T", (out,), _col(meta)))

    def call(self, meta, items):
        head = items[0]
        if (  # \tanh^2(u): the power of the function's value
            isinstance(head, Op)
            and head.kind == "power"
            and isinstance(head.args[0], Sym)
            and head.args[0].stem in _ELEMENTARY
            and len(items) == 2
        ):
            call = Op("call", (head.args[0], items[1]), _col(meta))
            return Op("power", (call, head.args[1]), _col(meta))
        return Op("call", (head, *items[1:]), _col(meta))

    def frac(self, meta, items):
        return Op("frac", tuple(items), _col(meta))

    def partial(self, meta, items):
        return Op("partial", (items[0],), _col(meta))

    def total(self, meta, items):
        r"""A sum over the samples: \sum_{i=1}^N (or \sum_i) of the product after it."""
        tokens = [str(t) for t in items[:-1] if isinstance(t, lark.Token)]
        if len(tokens) >= 2 and tokens[1] != "1":
            raise ClaimSyntaxError(
                f"a sum over samples runs over all of them, from {tokens[0]} = 1 to N", _col(meta)
            )
        if tokens:
            self.variables.add(tokens[0])
        limits = [i for i in items[:-1] if isinstance(i, str) and not isinstance(i, lark.Token)]
        self.limits.update(limits)
        if _has_sum(items[-1]):
            raise ClaimSyntaxError(
                "a sum over samples inside another: write each sum in its own brackets, or the "
                "batch matrices",
                _col(meta),
            )
        return Op("sum", (items[-1],), _col(meta))

    def limit(self, meta, items):
        return str(items[0])


def _has_sum(tree) -> bool:
    if isinstance(tree, Op):
        return tree.kind == "sum" or any(_has_sum(a) for a in tree.args)
    return False


def _check_indices(transformer: _Tree) -> None:
    """One sample index, (i), and the variable of the sums over samples when there are any: a
    claim that mixes (i) and (k), or sums over j terms in i, does not say what it sums."""
    indices, variables = transformer.indices, transformer.variables
    if len(indices) > 1:
        shown = ", ".join(f"({i})" for i in sorted(indices))
        raise ClaimSyntaxError(f"the sample indices {shown} differ: one sample is one index")
    if variables and indices - variables:
        (index,) = indices
        raise ClaimSyntaxError(
            f"the sample index ({index}) is not the sum's variable "
            f"({', '.join(sorted(variables))}): write the sum over {index}"
        )


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ClaimSyntaxError("the claim is empty; write it as 'lhs = rhs'")
    if len(text) > MAX_LENGTH:
        raise ClaimSyntaxError(f"the claim is {len(text)} characters long; at most {MAX_LENGTH}")
    for i, c in enumerate(text):
        if (not c.isprintable() and c not in " \t") or c in "\x7f":
            raise ClaimSyntaxError(f"control character {c!r} is not allowed", i + 1)
    tokens = len(_TOKEN.findall(text))
    if tokens > MAX_TOKENS:  # the Earley parse of an ambiguous claim grows like tokens^2
        raise ClaimSyntaxError(
            f"the claim has {tokens} symbols; at most {MAX_TOKENS} (claims.MAX_TOKENS)"
        )
    depth = 0
    for i, c in enumerate(text):
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth < 0:
            raise ClaimSyntaxError("unbalanced braces: '}' without a matching '{'", i + 1)
    if depth:
        raise ClaimSyntaxError(f"unbalanced braces: {depth} '{{' never closed", len(text))


def _check_depth(tree: lark.Tree, text: str) -> None:
    """Refuse a parse tree nested deeper than MAX_DEPTH before anything recurses over it."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            column = getattr(node.meta, "column", None) if not node.meta.empty else None
            raise ClaimSyntaxError(
                f"the claim nests more than {MAX_DEPTH} levels deep (sums, products, "
                f"transposes, brackets); at most {MAX_DEPTH} (claims.MAX_DEPTH)",
                column,
            )
        stack += [(child, depth + 1) for child in node.children if isinstance(child, lark.Tree)]


_MATH_DELIMITERS = re.compile(r"\A\s*(\$\$|\$|\\\[|\\\()(.*?)(\$\$|\$|\\\]|\\\))\s*\Z", re.S)
_CLOSING = {"$$": "$$", "$": "$", "\\[": "\\]", "\\(": "\\)"}
_ROW_END = re.compile(
    r"(?:\s*\\\\(?:\[[^\]]*\])?)+\s*\Z"
)  #: an align row's \\ (or \\[2pt]) at the end
_ALIGNMENT = re.compile(r"(?<!\\)&")


def _unwrapped(text: str) -> str:
    """`text` without what surrounds a formula copied from LaTeX: $…$, $$…$$, \\[…\\] or \\(…\\),
    a final row break \\\\, and the alignment marks & of an align row."""
    match = _MATH_DELIMITERS.match(text)
    if match and _CLOSING[match.group(1)] == match.group(3):
        text = match.group(2)
    return _ALIGNMENT.sub(" ", _ROW_END.sub("", text))


def _renamed(tree, names: dict):
    """`tree` with each bare name (no index, no prime) in `names` replaced by its value there."""
    if isinstance(tree, Sym):
        if tree.index is None and not tree.primes and tree.stem in names:
            return Sym(names[tree.stem], None, 0, tree.column)
        return tree
    if isinstance(tree, Op):
        return Op(tree.kind, tuple(_renamed(a, names) for a in tree.args), tree.column)
    if isinstance(tree, tuple):
        return tuple(_renamed(a, names) for a in tree)
    return tree


#: Rosenblatt's rule written before a left side, as symbp's perceptron documents write it
RULE_MARK = re.compile(r"\A\s*\\Delta_\{\\text\{rule\}\}\s*")


def parse(text: str) -> tuple:
    """(lhs, rhs) trees of a claim; `ClaimSyntaxError` with a column if it is not one.  A left
    side after \\Delta_{\\text{rule}} (Rosenblatt's rule, as symbp's perceptron documents write
    it) is wrapped in Op("rule", (lhs,)): the claim is about the rule, σ′ of the step 1."""
    rule = isinstance(text, str) and bool(RULE_MARK.match(text))
    if rule:
        text = RULE_MARK.sub("", text)
    lhs, rhs = _parse(text)
    return (Op("rule", (lhs,), 1), rhs) if rule else (lhs, rhs)


def _parse(text: str) -> tuple:
    if isinstance(text, str) and len(text) <= MAX_LENGTH:
        text = _COMMENT.sub("", text)  # a LaTeX comment, % to the end
        while (stripped := _ANNOTATION.sub("", text)) != text:  # what is said of the formula
            text = stripped
        text = _unwrapped(text)
    _check_text(text)
    try:
        tree = _parser().parse(text)
    except lark.exceptions.UnexpectedEOF:
        raise ClaimSyntaxError(
            "the claim ends too early: a missing ')' or operand?", len(text)
        ) from None
    except lark.exceptions.UnexpectedInput as exc:
        column = exc.column if exc.column > 0 else len(text)
        raise ClaimSyntaxError(f"unexpected {text[column - 1 : column + 9]!r}", column) from None
    _check_depth(tree, text)
    try:
        transformer = _Tree(_superscript_stems(text))
        result = transformer.transform(tree)
        _check_indices(transformer)
        batch_sizes = {limit: "N" for limit in transformer.limits if limit != "N"}
        return _renamed(result, batch_sizes) if batch_sizes else result  # \sum_{i=1}^m … 1/m
    except lark.exceptions.VisitError as exc:
        if isinstance(exc.orig_exc, ClaimSyntaxError):
            raise exc.orig_exc from None
        raise
