"""Entry-wise assignments as in-place array statements: no array allocated when they run.

`statements` turns assignments ``target ← formula`` (scalar SymPy formulas applied entry-wise, as
an optimizer states its update) into calls of the array module's ufuncs with ``out=``: every
intermediate array goes to a scratch buffer the caller preallocates (`Lowered.scratch` says how
many), every scalar factor is computed once as a Python float.  A formula is evaluated into its
target directly when that is safe (the target read by the first operand only, so that no operand
reads it after it is overwritten), else into a scratch buffer that is then copied.

Arrays are the symbols in `arrays`; everything else is a scalar.  Supported: sums, products,
quotients and powers of arrays (squares and square roots have their own ufuncs); anything else
raises NotImplementedError naming it.  The ufunc names come from the backend printer's `_fn`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .numpy import SymbpNumPyPrinter

SCRATCH = "scratch"  #: scratch buffers are named scratch0, scratch1, ...


@dataclass(frozen=True)
class Lowered:
    """Statements (one line of code each) and the number of scratch buffers they use."""

    lines: tuple[str, ...]
    scratch: int


@dataclass
class _Emitter:
    printer: SymbpNumPyPrinter
    arrays: frozenset
    lines: list[str] = field(default_factory=list)
    free: list[int] = field(default_factory=list)
    used: int = 0

    # ------------------------------------------------------------------ buffers

    def take(self) -> str:
        if self.free:
            return f"{SCRATCH}{self.free.pop()}"
        self.used += 1
        return f"{SCRATCH}{self.used - 1}"

    def give(self, name: str) -> None:
        self.free.append(int(name.removeprefix(SCRATCH)))
        self.free.sort(reverse=True)  # the lowest index is reused first

    # ------------------------------------------------------------------ printing

    def is_array(self, expr) -> bool:
        return bool(expr.free_symbols & self.arrays)

    def scalar(self, expr) -> str:
        """A scalar formula as code giving a Python float (so that float32 arrays stay float32)."""
        text = self.printer.doprint(expr)
        return f"float({text})" if f"{self.printer.module}." in text else text

    def call(self, ufunc: str, *args: str, out: str) -> None:
        self.lines.append(f"{self.printer._fn(ufunc)}({', '.join(args)}, out={out})")

    # ------------------------------------------------------------------ evaluation

    def operand(self, expr) -> tuple[str, bool]:
        """A name holding `expr`'s value: the array itself, or a scratch buffer (True: give it
        back after use)."""
        if expr in self.arrays:
            return expr.name, False
        buffer = self.take()
        self.evaluate(expr, buffer, None)
        return buffer, True

    def evaluate(self, expr, out: str, target) -> None:
        """Code that writes `expr` into the buffer `out`, which is the array `target` (whose old
        value `expr` may read) or a scratch buffer (`target` None)."""
        if expr in self.arrays:
            if expr.name != out:
                self.lines.append(f"{self.printer._fn('copyto')}({out}, {expr.name})")
            return
        if expr.is_Add:
            self.sum(expr, out, target)
        elif expr.is_Mul:
            self.product(expr, out, target)
        elif expr.is_Pow:
            self.power(expr, out, target)
        else:
            raise NotImplementedError(f"in-place code has no rule for {type(expr).__name__}")

    def _first_reading(self, parts, target):
        """The parts reordered so that the only one reading `target` comes first; None when
        several read it (then `target` cannot be overwritten before all are read)."""
        reading = [p for p in parts if target is not None and p.has(target)]
        if len(reading) > 1:
            return None
        return reading + [p for p in parts if p not in reading]

    def _via_scratch(self, expr, out: str) -> None:
        buffer = self.take()
        self.evaluate(expr, buffer, None)
        self.lines.append(f"{self.printer._fn('copyto')}({out}, {buffer})")
        self.give(buffer)

    def sum(self, expr, out: str, target) -> None:
        constant = sp.Add(*(a for a in expr.args if not self.is_array(a)))
        terms = [a for a in expr.args if self.is_array(a)]
        terms.sort(key=lambda a: a in self.arrays)  # a scaled term first: its scale folds in
        terms.sort(key=lambda a: a.could_extract_minus_sign())  # then the subtracted ones
        ordered = self._first_reading(terms, target)
        if ordered is None:
            self._via_scratch(expr, out)
            return
        first, *rest = ordered
        if first in self.arrays and first.name != out and rest:  # out = first ± second
            self._combine(first.name, *self._signed(rest.pop(0)), out)
        else:
            self.evaluate(first, out, target)
        for term in rest:
            self._combine(out, *self._signed(term), out)
        if constant != 0:
            self.call("add", out, self.scalar(constant), out=out)

    def _signed(self, term) -> tuple[str, sp.Expr]:
        """("subtract", -term) for a negative term, else ("add", term)."""
        if term.could_extract_minus_sign():
            return "subtract", -term
        return "add", term

    def _combine(self, left: str, ufunc: str, right, out: str) -> None:
        """out = `ufunc`(left, right), `right` an expression evaluated first if need be."""
        name, scratch = self.operand(right)
        self.call(ufunc, left, name, out=out)
        if scratch:
            self.give(name)

    def product(self, expr, out: str, target) -> None:
        factors = [a for a in expr.args if self.is_array(a)]
        coeff = sp.Mul(*(a for a in expr.args if not self.is_array(a)))
        below = [f for f in factors if f.is_Pow and f.exp.is_number and f.exp.is_negative]
        above = [f for f in factors if f not in below]
        below = [sp.Pow(f.base, -f.exp) for f in below]  # divisors
        if not above:  # c / (...): the divisor first, then c over it
            self.evaluate(sp.Mul(*below), out, target)
            self.call("divide", self.scalar(coeff), out, out=out)
            return
        ordered = self._first_reading(above, target)
        if ordered is None or any(target is not None and f.has(target) for f in below):
            self._via_scratch(expr, out)
            return
        first, *rest = ordered
        pending = [("multiply", f) for f in rest] + [("divide", f) for f in below]
        if first not in self.arrays:
            self.evaluate(first, out, target)
        elif coeff == -1:
            self.call("negative", first.name, out=out)
            coeff = sp.Integer(1)
        elif coeff != 1:  # one pass: out = first * c
            self.call("multiply", first.name, self.scalar(coeff), out=out)
            coeff = sp.Integer(1)
        elif pending:  # out = first * second (or / second)
            ufunc, factor = pending.pop(0)
            self._combine(first.name, ufunc, factor, out)
        else:
            self.evaluate(first, out, target)
        for ufunc, factor in pending:
            self._combine(out, ufunc, factor, out)
        if coeff == -1:
            self.call("negative", out, out=out)
        elif coeff != 1:
            self.call("multiply", out, self.scalar(coeff), out=out)

    def power(self, expr, out: str, target) -> None:
        base, exp = expr.args
        if self.is_array(exp):
            raise NotImplementedError("in-place code has no rule for an array exponent")
        if exp.is_number and exp.is_negative:  # 1 / base**(-exp)
            self.evaluate(sp.Pow(base, -exp), out, target)
            self.call("divide", "1", out, out=out)
            return
        if base in self.arrays:
            name = base.name
        else:
            self.evaluate(base, out, target)
            name = out
        if exp == 2:
            self.call("square", name, out=out)
        elif exp == sp.S.Half:
            self.call("sqrt", name, out=out)
        else:
            self.call("power", name, self.scalar(exp), out=out)


def statements(
    assignments, arrays, printer: type[SymbpNumPyPrinter] = SymbpNumPyPrinter
) -> Lowered:
    """In-place code for `assignments` ((target, formula), run in order; targets and `arrays`
    are the array symbols, printed by their names), with `printer` (a backend's printer class)."""
    emitter = _Emitter(printer({}), frozenset(arrays))
    for target, formula in assignments:
        if formula == target:
            continue
        emitter.evaluate(formula, target.name, target)
    return Lowered(tuple(emitter.lines), emitter.used)
