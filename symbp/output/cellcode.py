"""In-place NumPy statements for one time step of a recurrent cell (`graph.cells.Cell`) and
for its reverse pass (`cell_pass`): the bodies of the loops in templates/numpy/_recurrent.py.j2.

The formulas are the derivation's, printed from SymPy: `Emitter` writes a matrix expression into
an existing array with ufuncs (``out=``), the entry-wise functions as the chains of ufuncs of
`printing.numpy` (the catalog's formula, made stable by `printing.float64.stable_form`).  What
this module chooses is only where each value is written and in which order:

* forward (`forward_plan`): every stored value straight into its rows of step t's block of a
  step-major scratch array (copied into the trace once, by the template); the gate
  pre-activations [a_t]_k + [v_t]_k of all gates as one block a_t + v_t (one product, one add);
  a value read once computed where it is read; neighbouring gates with the same activation in
  one chain of calls (`_groups`, `_bridged`: sigma on the rows of i, f, g, o, then tanh on g's).
* reverse (`backward_plan`): what a definition reads that does not depend on the adjoints
  (sigma'_t, tanh(c_t), c_{t-1}, and their products) is computed for all steps at once before
  the loop and copied step-major; each step runs only the products with the adjoints, writing
  delta_t's blocks straight into place and the carried adjoints into spare arrays swapped at
  the end of the step.

Regrouping a Hadamard product or a sum (invariant factors together) is the only change to a
formula, exact in real arithmetic (associativity and commutativity of the entry-wise product).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import sympy as sp
from sympy import HadamardPower, HadamardProduct, MatAdd, MatMul, OneMatrix, Transpose, ZeroMatrix

from ..catalog.activations import t
from ..graph.cells import Apply, Blocks, RowSlice
from ..graph.nodes import Elementwise, Sigma
from ..printing.float64 import stable_form
from ..printing.numpy import _INPUT, SymbpNumPyPrinter, Unhandled, _chain


class _Fallback(Exception):
    """`Emitter.into` has no in-place form; the caller prints the expression instead."""


def constant(expr):
    """The number c of c 1 (a constant matrix), or None."""
    if isinstance(expr, OneMatrix):
        return sp.Integer(1)
    if isinstance(expr, ZeroMatrix):
        return sp.Integer(0)
    if isinstance(expr, MatMul):
        coeff, mats = expr.as_coeff_matrices()
        if len(mats) == 1 and isinstance(mats[0], OneMatrix):
            return coeff
    return None


def signed(term):
    """(sign, term without it) of a term of a sum: -X gives (-1, X)."""
    if isinstance(term, MatMul):
        coeff, mats = term.as_coeff_matrices()
        if coeff.is_negative:
            rest = mats[0] if coeff == -1 and len(mats) == 1 else MatMul(-coeff, *mats)
            return -1, rest
    return 1, term


def factors(expr) -> list:
    """The factors of a (nested) Hadamard product, flattened."""
    if isinstance(expr, HadamardProduct):
        return [f for a in expr.args for f in factors(a)]
    return [expr]


def terms(expr) -> list:
    """The terms of a (nested) sum, flattened."""
    if isinstance(expr, MatAdd):
        return [x for a in expr.args for x in terms(a)]
    return [expr]


@dataclass
class Emitter:
    """Statements writing matrix expressions into existing arrays.

    `names` maps a MatrixSymbol to the code of its array; `rows_of_scratch` receives the scratch
    arrays the statements use (name -> rows; the caller allocates them with n columns)."""

    names: dict
    printer: SymbpNumPyPrinter
    scratch: dict = field(default_factory=dict)
    prefix: str = "work"
    rows_axis: str = ""  #: ":, " when the arrays are (T, rows, n): rows are the second axis
    columns: dict | None = None  #: when given, b 1^T reads name -> (b, rows), b copied n times
    _busy: Counter = field(default_factory=Counter)

    # --- operands --------------------------------------------------------------------------

    def leaf(self, expr) -> str | None:
        """The code of `expr` when it is an array already (a name, its transpose, a row block,
        a bias b 1^T broadcast), else None."""
        if isinstance(expr, sp.MatrixSymbol):
            return self.names.get(expr, expr.name)
        if isinstance(expr, Transpose) and isinstance(expr.arg, sp.MatrixSymbol):
            return f"{self.leaf(expr.arg)}.T"
        if isinstance(expr, RowSlice):
            inner = self.leaf(expr.arg)
            if inner is None or (expr.start == 0 and expr.stop == expr.arg.shape[0]):
                return inner  # all the rows: the array itself
            return f"{inner}[{self.rows_axis}{expr.start}:{expr.stop}]"
        if isinstance(expr, MatMul):
            coeff, mats = expr.as_coeff_matrices()
            if (
                coeff == 1
                and len(mats) == 2
                and isinstance(mats[1], OneMatrix)
                and isinstance(mats[0], sp.MatrixSymbol)
                and mats[0].shape[1] == 1
            ):
                bias = self.leaf(mats[0])  # b 1^T: b broadcast, or its columns made once
                if self.columns is None:
                    return bias
                self.columns[f"{bias}_columns"] = (bias, int(mats[0].shape[0]))
                return f"{bias}_columns"
        return None

    def number(self, c) -> str:
        return self.printer.doprint(c)

    def call(self, name: str, *operands: str, out: str) -> str:
        return f"{self.printer._fn(name)}({', '.join(operands)}, out={out})"

    def temporary(self, rows: int) -> str:
        k = self._busy[rows]
        self._busy[rows] += 1
        name = f"{self.prefix}{rows}_{k}" if k else f"{self.prefix}{rows}"
        self.scratch[name] = rows
        return name

    def release(self, rows: int) -> None:
        self._busy[rows] -= 1

    def through(self, expr, use) -> list[str]:
        """Statements computing `expr` into a scratch array, then `use(name)`'s."""
        rows = int(expr.shape[0])
        name = self.temporary(rows)
        try:
            return [*self.into(name, expr), *use(name)]
        finally:
            self.release(rows)

    # --- statements ------------------------------------------------------------------------

    def statements(self, out: str, expr) -> list[str]:
        """`expr` into the array `out`: in place when handled, else one assignment of the
        printed expression (its operands' codes substituted)."""
        try:
            return self.into(out, expr)
        except (_Fallback, Unhandled):
            return [f"value = {self.printed(expr)}", f"{out}[...] = value"]

    def printed(self, expr) -> str:
        subs = {
            s: sp.MatrixSymbol(
                f"({self.names[s]})" if not self.names[s].isidentifier() else self.names[s],
                *s.shape,
            )
            for s in expr.atoms(sp.MatrixSymbol)
            if s in self.names
        }
        return self.printer.doprint(expr.xreplace(subs))

    def into(self, out: str, expr) -> list[str]:
        code = self.leaf(expr)
        if code is not None:
            return [f"{self.printer._fn('copyto')}({out}, {code})"]
        if isinstance(expr, MatAdd):
            return self.add(out, expr)
        if isinstance(expr, HadamardProduct):
            return self.product(out, expr)
        if isinstance(expr, HadamardPower):
            return self.power(out, expr)
        if isinstance(expr, MatMul):
            return self.matmul(out, expr)
        if isinstance(expr, (Apply, Sigma, Elementwise)):
            return self.function(out, expr)
        raise _Fallback(expr)

    def add(self, out: str, expr) -> list[str]:
        c, pos, neg = sp.Integer(0), [], []
        for term in terms(expr):
            value = constant(term)
            if value is not None:
                c += value
                continue
            sign, rest = signed(term)
            (pos if sign > 0 else neg).append(rest)
        inner = [x for x in pos if self.leaf(x) is None]
        inner.sort(key=lambda x: not isinstance(x, MatMul))  # a product first: no scratch
        if inner:
            pos.remove(inner[0])
            lines = self.into(out, inner[0])
        elif len(pos) >= 2:
            a, b, *pos = pos
            lines = [self.call("add", self.leaf(a), self.leaf(b), out=out)]
        elif pos and neg:
            a, b = pos.pop(), neg.pop(0)
            if self.leaf(b) is not None:
                lines = [self.call("subtract", self.leaf(a), self.leaf(b), out=out)]
            else:
                lines = [*self.into(out, b), self.call("subtract", self.leaf(a), out, out=out)]
        elif pos:
            lines = self.into(out, pos.pop())
        else:  # c - b - ...: b first
            b = neg.pop(0)
            source = self.leaf(b)
            lines = [] if source is not None else self.into(out, b)
            if c != 0:
                lines.append(self.call("subtract", self.number(c), source or out, out=out))
                c = sp.Integer(0)
            else:
                lines.append(self.call("negative", source or out, out=out))
        for x in pos:
            lines += self.combine("add", out, x)
        for x in neg:
            lines += self.combine("subtract", out, x)
        if c != 0:
            lines.append(self.call("add", out, self.number(c), out=out))
        return lines

    def combine(self, ufunc: str, out: str, x) -> list[str]:
        """out = out (ufunc) x."""
        code = self.leaf(x)
        if code is not None:
            return [self.call(ufunc, out, code, out=out)]
        return self.through(x, lambda name: [self.call(ufunc, out, name, out=out)])

    def product(self, out: str, expr) -> list[str]:
        parts = factors(expr)
        scale = sp.Integer(1)
        for f in list(parts):
            value = constant(f)
            if value is not None:
                scale *= value
                parts.remove(f)
        inner = [f for f in parts if self.leaf(f) is None]
        leaves = [f for f in parts if self.leaf(f) is not None]
        if inner:
            lines = self.into(out, inner[0])
            for f in inner[1:]:
                lines += self.combine("multiply", out, f)
        elif len(leaves) >= 2:
            a, b, *leaves = leaves
            lines = [self.call("multiply", self.leaf(a), self.leaf(b), out=out)]
        else:
            lines = self.into(out, leaves.pop())
        for f in leaves:
            lines.append(self.call("multiply", out, self.leaf(f), out=out))
        if scale != 1:
            lines.append(self.call("multiply", out, self.number(scale), out=out))
        return lines

    def power(self, out: str, expr) -> list[str]:
        source = self.leaf(expr.base)
        lines = [] if source is not None else self.into(out, expr.base)
        if expr.exp == 2:
            return [*lines, self.call("square", source or out, out=out)]
        return [*lines, self.call("power", source or out, self.number(expr.exp), out=out)]

    def matmul(self, out: str, expr) -> list[str]:
        coeff, mats = expr.as_coeff_matrices()
        if len(mats) == 1:
            lines = self.into(out, mats[0])
        elif len(mats) == 2 and all(self.leaf(m) is not None for m in mats):
            lines = [self.call("matmul", *(self.leaf(m) for m in mats), out=out)]
        else:
            raise _Fallback(expr)
        if coeff != 1:
            lines.append(self.call("multiply", out, self.number(coeff), out=out))
        return lines

    def function(self, out: str, expr) -> list[str]:
        if isinstance(expr, Apply):
            var, body = t, stable_form(expr.activation.expr, t, type(self.printer))
        elif isinstance(expr, Sigma):
            activation = self.printer.activations[expr.layer]
            if activation.kind == "softmax":
                raise _Fallback(expr)
            var, body = t, stable_form(activation.expr, t, type(self.printer))
        else:
            var = expr.function.variables[0]
            body = stable_form(expr.function.expr, var, type(self.printer))
        try:
            chain = _chain(body, var)
        except Unhandled:  # no chain of ufuncs: the argument in place, the function printed
            source = self.leaf(expr.arg)
            lines = [] if source is not None else self.into(out, expr.arg)
            if source is not None and not source.isidentifier():  # a short name for it
                name = expr.arg.name if isinstance(expr.arg, sp.MatrixSymbol) else "arg"
                lines, source = [f"{name} = {source}"], name
            arg = sp.MatrixSymbol(source or out, *expr.arg.shape)
            value = self.printer.doprint(expr.func(*expr.args[:-1], arg))
            return [*lines, f"value = {value}", f"{out}[...] = value"]
        if not chain:
            return self.into(out, expr.arg)
        source = self.leaf(expr.arg)
        if source is None and any(operand is _INPUT for _, operand in chain):
            return self.through(expr.arg, lambda name: self.apply(out, name, chain))
        if source is None:
            return [*self.into(out, expr.arg), *self.apply(out, out, chain)]
        return self.apply(out, source, chain)

    def apply(self, out: str, source: str, chain) -> list[str]:
        lines = []
        for name, operand in chain:
            first = out if lines else source
            if operand is None:
                lines.append(self.call(name, first, out=out))
            else:
                arg = source if operand is _INPUT else self.number(operand)
                lines.append(self.call(name, first, arg, out=out))
        return lines


# --- shared helpers ---------------------------------------------------------------------------


def occurrences(expr, symbol) -> int:
    """How many times `symbol` occurs in `expr`."""
    return sum(1 for x in sp.preorder_traversal(expr) if x == symbol)


def slice_leaf(expr) -> bool:
    """True for an array the loops read as it is: a name, a row block of one, a constant."""
    if isinstance(expr, RowSlice):
        return isinstance(expr.arg, sp.MatrixSymbol)
    return isinstance(expr, sp.MatrixSymbol) or constant(expr) is not None


def has_product(expr) -> bool:
    """True when `expr` multiplies matrices (beyond the broadcast b 1^T and constants c 1)."""
    for x in sp.preorder_traversal(expr):
        if isinstance(x, MatMul):
            _, mats = x.as_coeff_matrices()
            if len([m for m in mats if not isinstance(m, OneMatrix)]) > 1:
                return True
    return False


# --- the forward step ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """Values written by one statement group: `values` (consecutive, stored side by side when
    more than one), their formula `rhs` (over the rows of all of them), `rows` in the trace
    (None: a scratch array of the loop named after the value)."""

    values: tuple
    rhs: object
    rows: tuple | None


def _gate_blocks(values: list, stem) -> list:
    """[X]_k + [Y]_k -> [X + Y]_k in every formula; each such sum X + Y becomes a value of its
    own (`stem`(rows) names it), computed once before its first reader."""
    sums = {}
    out = []
    for lhs, rhs in values:
        subs = {}
        for node in sp.preorder_traversal(rhs):
            if not isinstance(node, MatAdd):
                continue
            slices = [
                a
                for a in node.args
                if isinstance(a, RowSlice) and isinstance(a.arg, sp.MatrixSymbol)
            ]
            bounds = {(a.start, a.stop) for a in slices}
            if len(slices) < 2 or len(bounds) != 1 or len(slices) != len(node.args):
                continue
            whole = MatAdd(*(a.arg for a in slices))
            if whole not in sums:
                sums[whole] = stem(int(whole.shape[0]), len(sums))
                out.append((sums[whole], whole))
            first = slices[0]
            subs[node] = RowSlice(sums[whole], first.start, first.stop, first.label)
        out.append((lhs, rhs.xreplace(subs) if subs else rhs))
    return out


def _inline(values: list, keep: set) -> list:
    """Values outside `keep` read exactly once substituted into their reader."""
    values = list(values)
    changed = True
    while changed:
        changed = False
        for i, (lhs, rhs) in enumerate(values):
            if lhs in keep:
                continue
            readers = [k for k in range(i + 1, len(values)) if values[k][1].has(lhs)]
            if sum(occurrences(values[k][1], lhs) for k in readers) != 1:
                continue
            k = readers[0]
            values[k] = (values[k][0], values[k][1].xreplace({lhs: rhs}))
            del values[i]
            changed = True
            break
    return values


def _widened(expr, rows: int):
    """`expr` with every row block [P]_{s:e} grown to [P]_{s:e+rows}; None when `expr` reads a
    matrix other than through row blocks (it cannot be widened)."""
    blocks = [x for x in sp.preorder_traversal(expr) if isinstance(x, RowSlice)]
    inside = {b.arg for b in blocks}
    if not blocks or any(
        isinstance(x, sp.MatrixSymbol) and x not in inside for x in sp.preorder_traversal(expr)
    ):
        return None
    if any(b.stop + rows > b.arg.shape[0] for b in blocks):
        return None
    return expr.xreplace({b: RowSlice(b.arg, b.start, b.stop + rows) for b in blocks})


def _shifted_blocks(expr, offset: int):
    """`expr` with every row block [P]_{s:e} moved to [P]_{s+offset:e+offset}, unlabelled."""
    return expr.xreplace(
        {
            b: RowSlice(b.arg, b.start + offset, b.stop + offset)
            for b in sp.preorder_traversal(expr)
            if isinstance(b, RowSlice)
        }
    )


def _groups(values: list, rows_of) -> list[Group]:
    """Consecutive stored values with the same formula on the next row blocks, whose trace
    rows are side by side, as one group (sigma on [i; f] at once); then `_bridged`."""
    groups: list[Group] = []
    for lhs, rhs in values:
        rows = rows_of(lhs)
        last = groups[-1] if groups else None
        if last and rows and last.rows and last.rows[1] == rows[0]:
            grown = _grown(last, rhs, rows)
            if grown is not None:
                groups[-1] = Group((*last.values, lhs), grown, (last.rows[0], rows[1]))
                continue
        groups.append(Group((lhs,), rhs, rows))
    return _bridged(groups)


def _grown(group: Group, rhs, rows):
    """`group`'s formula over its rows and `rows` (right after them) when `rhs`, the formula of
    the value there, is the group's on those rows; else None."""
    height = (group.rows[1] - group.rows[0]) // len(group.values)
    base = _narrowed(group)
    if rows[1] - rows[0] != height or base is None:
        return None
    if _shifted_blocks(base, rows[0] - group.rows[0]) != _shifted_blocks(rhs, 0):
        return None
    return _widened(group.rhs, height)


def _narrowed(group: Group):
    """The formula of the first value of `group` (blocks one value high), or None."""
    height = (group.rows[1] - group.rows[0]) // len(group.values)
    blocks = [b for b in sp.preorder_traversal(group.rhs) if isinstance(b, RowSlice)]
    if not blocks:
        return None
    return group.rhs.xreplace({b: RowSlice(b.arg, b.start, b.start + height) for b in blocks})


def _bridged(groups: list[Group]) -> list[Group]:
    """[G, y, G'] with G' the formula of G continued past y's rows, y one value that neither
    reads nor is read by them: G grown over y's rows too (one call; y's rows get a value that
    y's own statement, moved right after, then overwrites).  Sigma on [i; f; g; o], then
    tanh on g: five calls instead of nine."""
    out = list(groups)
    k = 0
    while k + 2 < len(out):
        a, y, b = out[k : k + 3]
        rows_ok = bool(a.rows and y.rows and b.rows) and len(y.values) == 1
        rows_ok = rows_ok and a.rows[1] == y.rows[0] and y.rows[1] == b.rows[0]
        independent = rows_ok and not any(
            y.rhs.has(x) or a.rhs.has(x) or b.rhs.has(x) for x in (*a.values, *b.values, *y.values)
        )
        if independent:
            base = _narrowed(a)
            height = (a.rows[1] - a.rows[0]) // len(a.values)
            same = base is not None and all(
                _shifted_blocks(base, start - a.rows[0]) == _shifted_blocks(rhs, 0)
                for start, rhs in _blocks_of(b, height)
            )
            grown = _widened(a.rhs, b.rows[1] - a.rows[1]) if same else None
            if grown is not None:
                whole = Group((*a.values, *b.values), grown, (a.rows[0], b.rows[1]))
                out[k : k + 3] = [whole, y]
                continue
        k += 1
    return out


def _blocks_of(group: Group, height: int):
    """(start row, formula) of each value of `group`, its blocks `height` high."""
    base = _narrowed(group) if len(group.values) > 1 else group.rhs
    return [
        (start, _shifted_blocks(base, start - group.rows[0]))
        for start in range(group.rows[0], group.rows[1], height)
    ]


@dataclass(frozen=True)
class Forward:
    """The forward loop: `buffers` (name, rows) allocated once, `binds` (name, rows) step t's
    stored values as views of its trace rows, `body` the step's statements; `copy_input`: the
    step reads a_t in several statements, so A is first copied step-major (one pass instead of
    a strided read per statement)."""

    buffers: list
    binds: list
    body: list
    copy_input: bool = False
    columns: tuple = ()  #: (name, bias, rows): b 1^T as an array, made before the loop


def forward_plan(c, layout, projection, printer) -> Forward:
    """The statements of one forward step of cell `c` (`projection`: v_t's formula)."""
    values = [(c.v, projection), *((op.output, op.equation) for op in c.ops)]

    def stem(rows, k):  # the code's name of a block sum: av1_t = a1_t + v1_t
        return sp.MatrixSymbol(f"av{'' if k == 0 else k + 1}{c.layer}_t", rows, c.cols)

    values = _inline(_gate_blocks(values, stem), keep=set(layout.stored_values))
    stored = set(layout.stored_values)
    groups = _groups(values, lambda x: layout.rows_of(x) if x in stored else None)
    emitter = Emitter({}, printer, columns={})
    body, buffers = [], []
    for g in groups:
        if g.rows is None:
            (lhs,) = g.values
            buffers.append((lhs.name, int(lhs.shape[0])))
            out = lhs.name
        else:
            out = g.values[0].name
            if len(g.values) > 1:  # the rows of several values, named once for the step
                out = f"span{g.rows[0]}_{g.rows[1]}"
                body.append(f"{out} = steps[t, {g.rows[0]}:{g.rows[1]}]")
        body += emitter.statements(out, g.rhs)
    buffers += sorted(emitter.scratch.items())
    binds = [(x.name, *layout.rows_of(x)) for x in layout.stored_values]
    reads = sum(1 for line in body if re.search(rf"\b{c.a.name}\b", line))
    columns = tuple((name, b, rows) for name, (b, rows) in emitter.columns.items())
    return Forward(buffers, binds, body, copy_input=reads > 1, columns=columns)


# --- the reverse step ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Backward:
    """The reverse loop.  `previous` (name, start, stop): the previous states over all steps
    from the trace rows start:stop; `every` (name, rows, statements): values computed for all
    steps at once before the loop, arrays (rows, T, n); `each` (name, rows, source): what the
    step reads of those (or of the trace `source`) copied step-major, arrays (T, rows, n) whose
    [t] is contiguous; `buffers` (name, rows): the step's arrays, allocated once; `body`: the
    step's statements, the carried adjoints written into `spare_<k>`."""

    previous: list
    every: list
    every_scratch: list
    each: list
    buffers: list
    body: list

    @property
    def reads_trace(self) -> bool:
        """Whether anything before the loop reads the trace (`by_step`)."""
        code = [line for _, _, lines in self.every for line in lines]
        code += [source for _, _, source in self.each]
        return bool(self.previous) or any("by_step" in line for line in code)


class _Hoist:
    """Rewrites the step's formulas so that what does not depend on the adjoints is a value of
    its own (`pre<k>`), computed for every step at once."""

    def __init__(self, invariant: set, rows_cols):
        self.invariant, self.values, self.cols = invariant, [], rows_cols

    def fixed(self, expr) -> bool:
        return not has_product(expr) and expr.atoms(sp.MatrixSymbol) <= self.invariant

    def new(self, expr):
        for sym, e in self.values:
            if e == expr:
                return sym
        sym = sp.MatrixSymbol(f"pre{len(self.values) + 1}", expr.shape[0], self.cols)
        self.values.append((sym, expr))
        self.invariant.add(sym)
        return sym

    def group(self, parts, join):
        kept = [p for p in parts if self.fixed(p)]
        moving = [self.go(p) for p in parts if not self.fixed(p)]
        if len(kept) > 1 or (kept and not slice_leaf(kept[0])):
            kept = [self.new(join(kept))]
        parts = moving + kept
        return parts[0] if len(parts) == 1 else parts

    def go(self, expr):
        if self.fixed(expr):
            return expr if slice_leaf(expr) else self.new(expr)
        if isinstance(expr, HadamardProduct):
            join = lambda ps: ps[0] if len(ps) == 1 else HadamardProduct(*ps)  # noqa: E731
            out = self.group(factors(expr), join)
            return out if not isinstance(out, list) else HadamardProduct(*out)
        if isinstance(expr, MatAdd):
            join = lambda ps: ps[0] if len(ps) == 1 else MatAdd(*ps)  # noqa: E731
            out = self.group(terms(expr), join)
            return out if not isinstance(out, list) else MatAdd(*out)
        if isinstance(expr, sp.MatrixSymbol) or not expr.args:
            return expr
        return expr.func(
            *(self.go(a) if isinstance(a, sp.matrices.MatrixExpr) else a for a in expr.args)
        )


def _common(values: list, stem) -> list:
    """Subexpressions (not plain reads) in two or more of `values`' formulas become values of
    their own, placed before their first reader."""
    seen = Counter()
    for _, rhs in values:
        for node in set(sp.preorder_traversal(rhs)):
            if isinstance(node, sp.matrices.MatrixExpr) and not slice_leaf(node) and node != rhs:
                seen[node] += 1
    shared = [node for node, k in seen.items() if k > 1]
    shared = [x for x in shared if not any(x != y and y.has(x) for y in shared)]  # outermost
    out = []
    names = {}
    for lhs, rhs in values:
        for node in shared:
            if node not in names and rhs.has(node):
                names[node] = stem(node, len(names))
                out.append((names[node], node))
        out.append((lhs, rhs.xreplace(names)))
    return out


@dataclass(frozen=True)
class ReverseSplit:
    """A cell's reverse pass split for a loop over the steps: `every`, the definitions that read
    no adjoint (sigma'_t and the like), computed for all steps at once before the loop; the
    per-step definitions and carries with those invariants hoisted (`hoist`); `loop_reads`,
    the values the loop body reads."""

    every: list
    step_defs: list
    carries: list
    loop_reads: set
    hoist: _Hoist


def split_reverse(c, layout, p, cols) -> ReverseSplit:
    """`ReverseSplit` of cell `c`'s reverse pass `p` (`cols`: columns per step), shared by the
    in-place NumPy loops and the functional backends' (`plaincells`)."""
    invariant = set(layout.stored_values) | set(c.previous)
    every_defs, step_defs = [], []
    for lhs, rhs in p.definitions:  # sigma'_t and the like: all steps at once
        if not has_product(rhs) and rhs.atoms(sp.MatrixSymbol) <= invariant:
            invariant.add(lhs)
            every_defs.append((lhs, rhs))
        else:
            step_defs.append((lhs, rhs))
    hoist = _Hoist(set(invariant), cols)
    step_defs = [(lhs, hoist.go(rhs)) for lhs, rhs in step_defs]
    carries = [hoist.go(x) for x in p.carries]
    loop_reads = set()
    for expr in [rhs for _, rhs in step_defs] + carries:
        loop_reads |= expr.atoms(sp.MatrixSymbol)
    every = _every_step_values(every_defs, hoist.values, loop_reads, cols)
    return ReverseSplit(every, step_defs, carries, loop_reads, hoist)


def backward_plan(c, layout, p, printer, cols) -> Backward:
    """The statements of the reverse loop of cell `c` (its pass `p`; `cols`: columns per step)."""
    split = split_reverse(c, layout, p, cols)
    every, step_defs, carries = split.every, split.step_defs, split.carries
    loop_reads, hoist = split.loop_reads, split.hoist
    previous = [
        (q.name, *layout.rows_of(s))
        for s, q in zip(c.state, c.previous, strict=True)
        if any(rhs.has(q) for _, rhs in every) or q in loop_reads
    ]
    names = {x: f"by_step[{a}:{b}]" for x in layout.stored_values for a, b in [layout.rows_of(x)]}
    names |= {x: f"all_{x.name}" for x in [*c.previous, *(lhs for lhs, _ in every)]}
    every_emitter = Emitter(names, printer, prefix="all_work")
    every_code = [
        (names[lhs], int(lhs.shape[0]), every_emitter.statements(names[lhs], rhs))
        for lhs, rhs in every
    ]
    read = sorted(loop_reads & hoist.invariant, key=lambda x: x.name)
    each = [(f"each_{x.name}", int(x.shape[0]), names[x]) for x in read]
    emitter = Emitter({x: f"each_{x.name}[t]" for x in read}, printer)
    body, buffers = _step_body(p, step_defs, carries, loop_reads, emitter)
    every_scratch = sorted(every_emitter.scratch.items())
    return Backward(previous, every_code, every_scratch, each, buffers, body)


def _every_step_values(every_defs, hoisted, loop_reads, cols) -> list:
    """(lhs, rhs) computed for all steps before the loop, in order: the adjoint-independent
    definitions that are read, the hoisted factors, and what two of them share."""
    every = list(hoisted)
    for lhs, rhs in reversed(every_defs):
        if lhs in loop_reads or any(v.has(lhs) for _, v in every):
            every.insert(0, (lhs, rhs))

    def stem(node, k):
        return sp.MatrixSymbol(f"common{k + 1}", node.shape[0], cols)

    return _common(_inline(every, keep=loop_reads), stem)  # sigma' read once: no array of its own


def _step_body(p, step_defs, carries, loop_reads, emitter) -> tuple[list, list]:
    """(statements, buffers (name, rows)) of one reverse step: each definition into its array
    (a block of delta_t straight into its rows of `deltas[t]`), then the carried adjoints into
    `spare_<k>`."""
    body, buffers = [], []
    block = {}  # a block of delta_t -> its rows there
    delta_rhs = dict(step_defs).get(p.delta)
    if isinstance(delta_rhs, Blocks):
        start = 0
        for part in delta_rhs.args:
            block[part] = (start, start + int(part.shape[0]))
            start += int(part.shape[0])
    defined = {lhs for lhs, _ in step_defs}
    for lhs, rhs in step_defs:
        if lhs in block:
            a, b = block[lhs]
            body.append(f"{lhs.name} = deltas[t, {a}:{b}]")
            body += emitter.statements(lhs.name, rhs)
        elif lhs == p.delta:
            if not isinstance(rhs, Blocks) or lhs in loop_reads:
                body.append(f"{lhs.name} = deltas[t]")
            if not isinstance(rhs, Blocks):
                body += emitter.statements(lhs.name, rhs)
            for part in rhs.args if isinstance(rhs, Blocks) else ():
                if part not in defined:
                    a, b = block[part]
                    body += emitter.statements(f"deltas[t, {a}:{b}]", part)
        else:
            buffers.append((lhs.name, int(lhs.shape[0])))
            if isinstance(rhs, Blocks):
                body += _assembled(lhs.name, rhs, block, emitter)
            else:
                body += emitter.statements(lhs.name, rhs)
    if p.delta not in defined:
        body += emitter.statements("deltas[t]", p.delta)
    for k, carry in enumerate(carries, start=1):
        body += emitter.statements(f"spare_{k}", carry)
    return body, buffers + sorted(emitter.scratch.items())


def _assembled(out: str, blocks, placed: dict, emitter: Emitter) -> list[str]:
    """Statements filling `out` with the blocks of `blocks`; neighbouring blocks that already
    sit side by side, in order, in delta_t (`placed`: symbol -> its rows there) in one copy."""
    lines, start, run = [], 0, None  # run: (start in out, rows in delta_t) of pending copies

    def flush():
        if run is not None:
            (begin, (a, b)) = run
            copy = emitter.printer._fn("copyto")
            lines.append(f"{copy}({out}[{begin}:{begin + b - a}], deltas[t, {a}:{b}])")

    for part in blocks.args:
        rows = int(part.shape[0])
        where = placed.get(part)
        if where is not None and run is not None and run[1][1] == where[0]:
            run = (run[0], (run[1][0], where[1]))
        elif where is not None:
            flush()
            run = (start, where)
        else:
            flush()
            run = None
            lines += emitter.statements(f"{out}[{start}:{start + rows}]", part)
        start += rows
    flush()
    return lines
