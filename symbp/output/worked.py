"""A worked example with numbers: one sample through a small copy of the network, exactly.

`worked_example` evaluates the derivation's own per-sample pass (``derive(small).sample``) on
explicit SymPy matrices of rationals, as `proof.expansion.evaluate` evaluates any node: the forward
equations, the objective f, every backward definition (sigma'_j, delta_j, zeta_j) in the order the
pass defines them, every gradient, and one step of the SGD registry entry (theta - alpha g,
entry-wise).  Values stay exact (rationals, or expressions in exp and tanh of rationals);
`shown` decides how a document prints one (`RULE` says how, in words).

The numbers are the user's (`ExampleChoice.values`, from a TOML table: x, y, each parameter by
its key, lr) or drawn from `ExampleChoice.seed` among simple fractions.  User numbers are parsed
with `fractions.Fraction`, never evaluated; a bad one raises `SpecError` naming the field.
"""

from __future__ import annotations

import math
import random
import tomllib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import sympy as sp

from ..budget import within
from ..catalog import optimizers
from ..catalog.activations import t
from ..derivation.derive import derive
from ..derivation.lecture import frozen_layers
from ..errors import SpecError
from ..errors import shown as shown_value
from ..graph.nodes import Sigma
from ..proof.expansion import evaluate, proof_spec
from ..spec.model import Spec
from .fastpaths import decay_values
from .texlayout import Equation

#: widths of the example's network: each of the spec's cut to at most this (J <= 3), else DEEP_CAP
WIDTH_CAP, DEEP_CAP = 4, 3
DEFAULT_LR = Fraction(1, 2)  #: alpha when neither the user nor the spec's [train] table sets it
DIGITS = 4  #: significant digits of a decimal
SHORT = 999  #: a fraction is short when |numerator| and denominator are at most this

RULE = (
    "an integer, and a fraction whose numerator and denominator have at most three digits, "
    "is shown exactly, and so is an irrational number whose exact form applies one function "
    "to such a fraction (as tanh(1/2)); every other number is shown as a decimal rounded to "
    f"{DIGITS} significant digits from its exact value (SymPy's evalf), and a display that "
    "holds a rounded number is written with an approximate sign"
)

# The pools the seeded draw takes its numbers from (simple fractions, never 0 for a weight).
_WEIGHTS = tuple(Fraction(n, 4) for n in (-4, -3, -2, -1, 1, 2, 3, 4))
_INPUTS = tuple(Fraction(n, 2) for n in (-2, -1, 1, 2, 3))
_BIASES = tuple(Fraction(n, 4) for n in (-1, 0, 1, 2))
_TARGETS = (Fraction(0), Fraction(1, 2), Fraction(1))


@dataclass(frozen=True)
class ExampleChoice:
    """How the example's numbers are chosen: `values` (name -> nested lists of Fractions: "x",
    "y", parameter keys "W1", "b1", ..., and "lr" a Fraction) where given, the rest drawn
    from `seed`; `origin` names where the values came from, for the document."""

    seed: int = 0
    values: dict = field(default_factory=dict)
    origin: str | None = None


@dataclass(frozen=True)
class WorkedExample:
    """The example's exact numbers, or `skipped` (the sentence saying why there is none).

    `given`: (symbol, Matrix) of the input, the target and every parameter; `forward`,
    `backward`: (symbol, definition, Matrix) in evaluation order; `objective`: f;
    `gradients`, `updated`: (parameter symbol, Matrix), in the pass's parameter order."""

    spec: Spec
    full: Spec
    choice: ExampleChoice
    lr: sp.Rational = sp.S.Half
    given: tuple = ()
    forward: tuple = ()
    objective: sp.Expr = sp.S.Zero
    backward: tuple = ()
    gradients: tuple = ()
    updated: tuple = ()
    skipped: str | None = None
    atoms: Atoms | None = None
    rendered: dict = field(default_factory=dict)  #: number -> its decimal, None if exact

    def numeric(self, number) -> sp.Float:
        """A number of the example (possibly standing for a definition) to 60 digits."""
        return (self.atoms or Atoms()).numeric(number)


def skip_reason(spec: Spec) -> str | None:
    """Why `spec` gets no worked example (one sentence for the document), or None."""
    if spec.is_recurrent:
        return (
            "each recurrent step would be written out for every t, forward and back, which "
            "does not fit a page; the step and its reverse pass are in the section on "
            "backpropagation through time, and the dense networks in examples/ show one"
        )
    if any(layer.kind != "dense" for layer in spec.layers):
        return (
            "its convolution and pooling layers would have to be written out entry by entry "
            "(the matrix of every kernel), which does not fit a page; the dense networks in "
            "examples/ show one"
        )
    if frozen_layers(spec):
        return (
            "the step function's derivative is zero wherever it exists, so every gradient "
            "the example would compute is zero (the perceptron's rule above replaces it)"
        )
    return None


def example_spec(spec: Spec) -> Spec:
    """`spec` with each width cut to at most `WIDTH_CAP` (J <= 3) or `DEEP_CAP` (deeper)."""
    return proof_spec(spec, WIDTH_CAP if spec.depth <= 3 else DEEP_CAP)


EXAMPLE_SECONDS = 20.0  #: CPU-time budget of the exact arithmetic and its decimals


def worked_example(spec: Spec, choice: ExampleChoice | None = None) -> WorkedExample:
    """The exact numbers of one sample through `example_spec(spec)` (see the module's doc),
    each number's decimal computed too; `skipped` says why there are none (a convolution, a
    step, or arithmetic taking more than `EXAMPLE_SECONDS` of CPU time).  Bad user values
    raise `SpecError` naming the field."""
    choice = choice or ExampleChoice()
    reason = skip_reason(spec)
    if reason:
        return WorkedExample(spec, spec, choice, skipped=reason)
    key = (spec, choice.seed, repr(sorted(choice.values.items())), choice.origin)
    if key not in _DONE:
        if len(_DONE) >= 64:
            _DONE.clear()
        slow = WorkedExample(spec, spec, choice, skipped=_TOO_SLOW)
        _DONE[key] = within(
            EXAMPLE_SECONDS, lambda: _with_decimals(_exact(spec, choice)), lambda: slow
        )
    return _DONE[key]


_DONE: dict = {}  #: (spec, choice) -> its example: an article and its slides compute it once


_TOO_SLOW = (
    "SymPy's exact arithmetic on its activations (nested, with signs to decide) takes more than "
    f"{EXAMPLE_SECONDS:g} s of CPU time at these numbers"
)


def _with_decimals(ex: WorkedExample) -> WorkedExample:
    """`ex`, every number's rendering computed (and cached) now, within the budget."""
    matrices = [m for *_, m in (*ex.forward, *ex.backward, *ex.gradients, *ex.updated)]
    for value in [v for m in matrices for v in m] + [ex.objective]:
        ex.rendered[value] = None if is_short(value) else decimal(ex.numeric(value))
    return ex


def _exact(spec: Spec, choice: ExampleChoice) -> WorkedExample:
    small = example_spec(spec)
    p = derive(small).sample
    rng = random.Random(choice.seed)
    given = [(p.names.z(0), _matrix(choice, "x", (small.widths[0], 1), _INPUTS, rng))]
    given.append((p.names.y(), _target(small, choice, rng)))
    for prm in p.graph.params:
        pool = _BIASES if prm.key.startswith("b") else _WEIGHTS
        given.append((prm.symbol, _matrix(choice, prm.key, prm.symbol.shape, pool, rng)))
    unknown = sorted(set(choice.values) - {"x", "y", "lr", *(prm.key for prm in p.graph.params)})
    if unknown:
        keys = ", ".join(["x", "y", "lr", *(prm.key for prm in p.graph.params)])
        raise SpecError(f"example.{unknown[0]}", f"unknown name; allowed: {keys}", choice.origin)
    lr = sp.Rational(choice.values.get("lr", _default_lr(spec)))
    env = dict(given)
    decay = decay_values(small)
    sigma = {("sigma", j): layer.sigma for j, layer in enumerate(small.layers, start=1)}
    atoms = Atoms()

    def value(expr):
        out = evaluate(expr, env, 1, extra={Sigma: lambda e, go: _activate(sigma, e, go)})
        return atoms.bind(out.xreplace(decay) if decay else out)

    forward = []
    for lhs, rhs in p.forward:
        env[lhs] = value(rhs)
        forward.append((lhs, rhs, env[lhs]))
    objective = value(p.objective)
    backward = []
    for lhs, rhs in p.backward:
        env[lhs] = value(rhs)
        backward.append((lhs, rhs, env[lhs]))
    gradients = [(p.param(key), value(g)) for key, g in p.gradients.items()]
    updated = [(P, atoms.bind(_sgd(env[P], G, lr))) for P, G in gradients]
    return WorkedExample(
        small, spec, choice, lr, tuple(given), tuple(forward), objective, tuple(backward),
        tuple(gradients), tuple(updated), atoms=atoms,
    )  # fmt: skip


class Atoms:
    """Exact values in let-form: each number that is neither a rational nor short (`is_short`)
    becomes a symbol standing for its definition (an exact expression in rationals and earlier
    symbols), with its sign and its value to `PRECISION` digits (SymPy's evalf of the
    definition at the earlier symbols' values).  Later arithmetic then multiplies symbols of
    known sign instead of re-evaluating nested exponentials for every sign SymPy asks about,
    which made a three-layer sigmoid network take seconds; the values are the same."""

    PRECISION = 60

    def __init__(self):
        self.definitions: dict = {}
        self.values: dict = {}

    def bind(self, value):
        """`value` (a number or a Matrix) with each long irrational entry replaced by a symbol."""
        if isinstance(value, sp.MatrixBase):
            return value.applyfunc(self._bind)
        return self._bind(value)

    def _bind(self, number):
        number = sp.sympify(number)
        if number.is_Rational or (
            not (number.free_symbols & set(self.values)) and is_short(number)
        ):
            return number
        approx = self.numeric(number)
        if approx == 0:
            return number  # a zero SymPy did not see: kept as it is
        atom = sp.Dummy("v", positive=True) if approx > 0 else sp.Dummy("v", negative=True)
        self.definitions[atom] = number
        self.values[atom] = approx
        return atom

    def numeric(self, number) -> sp.Float:
        """`number` evaluated to `PRECISION` digits, its symbols at their values."""
        out = sp.sympify(number).evalf(self.PRECISION, subs=self.values)
        if not out.is_real or not out.is_number:
            raise ValueError(f"not a real number: {number}")
        return sp.Float(out, self.PRECISION)


def _sgd(param: sp.Matrix, gradient: sp.Matrix, lr) -> sp.Matrix:
    """One SGD step entry-wise, by the registry's formula (theta - alpha g)."""
    ((_, rule),) = optimizers.OPTIMIZERS["sgd"].steps
    rule = rule.subs(optimizers.alpha, lr)
    return sp.Matrix(
        *param.shape,
        lambda a, b: rule.subs({optimizers.theta: param[a, b], optimizers.g: gradient[a, b]}),
    )


def _activate(sigma: dict, node: Sigma, go) -> sp.Matrix:
    """sigma_j of the example's layer j on an explicit matrix: entry-wise, or softmax by column."""
    act = sigma[("sigma", node.layer)]
    arg = go(node.arg)
    if act.elementwise:
        return arg.applyfunc(lambda v: act.expr.subs(t, v))
    out = arg.applyfunc(sp.exp)
    for c in range(out.cols):
        out[:, c] = out[:, c] / sum(out[:, c])
    return out


def _default_lr(spec: Spec) -> Fraction:
    lr = spec.train.lr
    return DEFAULT_LR if lr is None else Fraction(repr(lr))


def _matrix(choice: ExampleChoice, name: str, shape, pool, rng: random.Random) -> sp.Matrix:
    """The user's `name` (its shape checked) or a draw from `pool`; the draw happens either
    way, so that giving one value leaves the others as the seed alone would draw them."""
    rows, cols = (int(n) for n in shape)
    drawn = sp.Matrix(rows, cols, lambda a, b: _rational(rng.choice(pool)))
    if name not in choice.values:
        return drawn
    given = choice.values[name]
    return sp.Matrix(rows, cols, [_rational(v) for v in _entries(given, rows, cols, name, choice)])


def _target(spec: Spec, choice: ExampleChoice, rng: random.Random) -> sp.Matrix:
    """y: a one-hot column for cross-entropy (the derivation assumes targets summing to one),
    0 or 1 for binary cross-entropy, else simple fractions; a user's y is checked the same."""
    dJ = int(spec.widths[-1])
    if spec.loss == "cross_entropy":
        hot = rng.randrange(dJ)
        drawn = sp.Matrix(dJ, 1, lambda a, _: int(a == hot))
    elif spec.loss == "binary_cross_entropy":
        drawn = sp.Matrix(dJ, 1, lambda *_: rng.choice((0, 1)))
    else:
        drawn = sp.Matrix(dJ, 1, lambda *_: _rational(rng.choice(_TARGETS)))
    if "y" not in choice.values:
        return drawn
    y = sp.Matrix(dJ, 1, [_rational(v) for v in _entries(choice.values["y"], dJ, 1, "y", choice)])
    if spec.loss == "cross_entropy" and (sum(y) != 1 or any(v < 0 for v in y)):
        raise SpecError("example.y", "cross-entropy needs a probability vector: entries >= 0 "
                        "summing to 1", choice.origin)  # fmt: skip
    if spec.loss == "binary_cross_entropy" and any(v < 0 or v > 1 for v in y):
        raise SpecError("example.y", "binary cross-entropy needs entries in [0, 1]", choice.origin)
    return y


def _entries(given, rows: int, cols: int, name: str, choice: ExampleChoice) -> list:
    """The entries of a user's value, row by row: a list of `rows` numbers for a column, else
    `rows` lists of `cols` numbers; anything else is a `SpecError` naming example.`name`."""
    where = f"example.{name}"
    if cols == 1 and isinstance(given, list) and all(not isinstance(v, list) for v in given):
        if len(given) == rows:
            return given
        raise SpecError(where, f"expected {rows} numbers, got {len(given)}", choice.origin)
    wanted = f"{rows} rows of {cols} numbers each (a list of lists)"
    if not isinstance(given, list) or len(given) != rows:
        raise SpecError(where, f"expected {wanted}, got {shown_value(given)}", choice.origin)
    for row in given:
        if not isinstance(row, list) or len(row) != cols:
            raise SpecError(where, f"expected {wanted}, got {shown_value(given)}", choice.origin)
    return [v for row in given for v in row]


def _rational(v) -> sp.Rational:
    return sp.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else sp.Integer(v)


# --------------------------------------------------------------------------- the user's numbers


def parse_number(value, where: str, source: str | None) -> Fraction:
    """A user's number as an exact Fraction: an integer, a float (its shortest decimal:
    0.1 -> 1/10) or a string such as "3/4", "-0.25" or "2"; never evaluated."""
    if isinstance(value, bool):
        raise SpecError(where, f"expected a number, got {shown_value(value)}", source)
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SpecError(where, f"expected a finite number, got {value}", source)
        return Fraction(repr(value))
    if isinstance(value, str) and len(value) <= 40:
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            pass
    raise SpecError(
        where, f'expected a number such as 3, -0.25 or "3/4", got {shown_value(value)}', source
    )


def parse_choice(table, source: str | None = None, seed: int | None = None) -> ExampleChoice:
    """An `ExampleChoice` from a TOML-shaped table: ``seed`` (an integer >= 0), ``lr`` (a
    positive number) and values x, y, W1, b1, ... (numbers, lists of numbers, lists of rows);
    `seed`, when given, overrides the table's."""
    if not isinstance(table, dict):
        raise SpecError("example", "expected a table of x, y, seed, lr and parameters", source)
    values = {}
    for key, value in table.items():
        where = f"example.{key}"
        if key == "seed":
            continue
        if key == "lr":
            lr = parse_number(value, where, source)
            if lr <= 0:
                raise SpecError(where, f"the step size must be positive, got {lr}", source)
            values[key] = lr
        else:
            values[key] = _numbers(value, where, source)
    if seed is None:
        seed = table.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise SpecError("example.seed", f"expected an integer from 0 to 2**32 - 1, got "
                        f"{shown_value(seed)}", source)  # fmt: skip
    return ExampleChoice(seed, values, source)


def _numbers(value, where: str, source: str | None):
    """A number, or nested lists of numbers (two levels at most), as Fractions."""
    if isinstance(value, list):
        if len(value) > 4096:
            raise SpecError(where, f"too many entries ({len(value)})", source)
        out = []
        for k, v in enumerate(value):
            if isinstance(v, list):
                out.append([parse_number(x, f"{where}[{k}][{m}]", source) for m, x in enumerate(v)])
            else:
                out.append(parse_number(v, f"{where}[{k}]", source))
        return out
    return [parse_number(value, where, source)]


def load_choice(path: str | Path, seed: int | None = None) -> ExampleChoice:
    """`parse_choice` of a TOML file; a missing file or bad TOML is one `SpecError` line."""
    shown_path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
        table = tomllib.loads(text)
    except OSError as exc:
        raise SpecError("", f"cannot read the example values: {exc.strerror}", shown_path) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError("", f"not valid TOML: {exc}", shown_path) from None
    return parse_choice(table, shown_path, seed)


# ------------------------------------------------------------------------------- showing numbers


def is_short(value) -> bool:
    """Whether `value` is shown exactly (see `RULE`)."""
    value = sp.sympify(value)
    if value.is_Rational:
        return abs(value.p) <= SHORT and value.q <= SHORT
    if value.is_Atom:
        return False
    return (
        len(value.args) == 1
        and value.func is not sp.exp  # e^(p/q) reads worse than its decimal
        and value.args[0].is_Rational
        and is_short(value.args[0])
    )


def decimal(value) -> str:
    """`value` rounded half up to `DIGITS` significant digits from 40 exact digits (SymPy's
    evalf), as LaTeX: fixed point from 0.001 up to 10**DIGITS, else with a power of ten."""
    x = sp.N(value, 40)
    if not x.is_real:
        raise ValueError(f"not a real number: {value}")
    if x == 0:
        return "0"
    exact = Decimal(str(x))
    exponent = exact.adjusted()
    rounded = exact.scaleb(-exponent).quantize(Decimal(1).scaleb(1 - DIGITS), ROUND_HALF_UP)
    if abs(rounded) >= 10:  # 9.9996 -> 10.00: one more digit before the point
        exponent += 1
        rounded = exact.scaleb(-exponent).quantize(Decimal(1).scaleb(1 - DIGITS), ROUND_HALF_UP)
    if -3 <= exponent < DIGITS:
        return f"{rounded.scaleb(exponent):f}"
    return rf"{rounded:f} \cdot 10^{{{exponent}}}"


def shown(value, latex, rendered: dict | None = None) -> tuple[str, bool]:
    """(LaTeX of `value`, whether it was rounded), by `RULE`; `latex` prints exact values;
    `rendered` holds the decimals of numbers that stand for definitions (`Atoms`)."""
    value = sp.sympify(value)
    if rendered is not None and value in rendered:
        decimal_text = rendered[value]
    else:
        decimal_text = None if is_short(value) else decimal(value)
    return (latex(value), False) if decimal_text is None else (decimal_text, True)


# ------------------------------------------------------------------------------ the document


def matrix_tex(m: sp.Matrix, show) -> tuple[str, bool]:
    """(LaTeX of `m`, whether an entry was rounded): a bmatrix, a column vector written as a
    transposed row (it takes one line), a 1 x 1 matrix as its entry."""
    cells = [[show(m[a, b]) for b in range(m.cols)] for a in range(m.rows)]
    rounded = any(r for row in cells for _, r in row)
    if m.shape == (1, 1):
        return cells[0][0][0], rounded
    if m.cols == 1:
        row = " & ".join(tex for ((tex, _),) in cells)
        return rf"\begin{{bmatrix}} {row} \end{{bmatrix}}^{{T}}", rounded
    rows = r" \\ ".join(" & ".join(tex for tex, _ in row) for row in cells)
    return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}", rounded


def _valued(lhs: str, formula: str | None, value, show, rel: str = "=") -> Equation:
    """``lhs rel formula = value`` (an approximate sign before a rounded value)."""
    tex, rounded = matrix_tex(value, show) if isinstance(value, sp.MatrixBase) else show(value)
    sign = r"\approx" if rounded else "="
    rhs = f"{formula} {sign} {tex}" if formula else tex
    return Equation(lhs, rel if formula else (sign if rel == "=" else rel), rhs)


def example_context(ex: WorkedExample, page, reading_order) -> dict:
    """The template variables of the worked example, each display laid out for `page` (a
    `document.Page`): given values, forward pass and f, backward definitions, gradients and
    the SGD step, each a list of frames of lines; or only `skipped`.  `reading_order(expr,
    coefficients)` orders the update's formula for display (`document._reading_order`)."""
    from ..graph.nodes import Partial
    from ..graph.ops import f
    from ..printing.latex import SymbpLatexPrinter, latex

    if ex.skipped:
        return {"skipped": ex.skipped}
    p = derive(ex.spec).sample

    def show(value):
        return shown(value, latex, ex.rendered)

    given = [_valued(latex(s), None, m, show) for s, m in ex.given]
    forward = [_valued(latex(s), latex(rhs), m, show) for s, rhs, m in ex.forward]
    forward.append(_valued(latex(f), latex(p.objective), ex.objective, show))
    backward = [_valued(latex(s), latex(rhs), m, show) for s, rhs, m in ex.backward]
    gradients = [
        _valued(latex(Partial(f, P)), latex(p.gradients[_key(p, P)]), G, show)
        for P, G in ex.gradients
    ]
    ((_, rule),) = optimizers.OPTIMIZERS["sgd"].steps
    printer = SymbpLatexPrinter({"order": "none"})
    updates = []
    for P, U in ex.updated:
        stand_in = {
            optimizers.theta: optimizers.scalar(f"example {P.name}", latex(P)),
            optimizers.g: optimizers.scalar(f"example df/d{P.name}", latex(Partial(f, P))),
        }
        coefficients = frozenset({optimizers.alpha})
        formula = printer.doprint(reading_order(rule.xreplace(stand_in), coefficients))
        updates.append(_valued(latex(P), formula, U, show, r"\leftarrow"))
    widths, full = _widths(ex.spec, latex), _widths(ex.full, latex)
    decay = decay_values(ex.spec)
    return {
        "skipped": None,
        "approx": r"\approx",  # how a rounded number is related to its exact value
        "widths": widths,
        "full_widths": full if full != widths else None,
        "cap": WIDTH_CAP if ex.full.depth <= 3 else DEEP_CAP,
        "seed": ex.choice.seed,
        "origin": None if ex.choice.origin is None else _origin(ex.choice.origin),
        "chosen": ", ".join(sorted(ex.choice.values)) or None,
        "step": latex(sp.Eq(optimizers.alpha, ex.lr)),
        "decay": ", ".join(latex(sp.Eq(k, v)) for k, v in decay.items()) or None,
        "rule": RULE,
        "digits": DIGITS,
        "given": page.frames(page.lines(given), first=_INTRO),
        "forward": page.frames(page.lines(forward)),
        "backward": page.frames(page.lines(backward)),
        "gradients": page.frames(page.lines(gradients)),
        "updates": page.frames(page.lines(updates), first=_UPDATE),
    }


_INTRO, _UPDATE = 9.0, 2.5  #: em of prose before the given values / the update on a slide


def _widths(spec: Spec, latex) -> str:
    """d_0-d_1-...-d_J for text mode: numbers as they are, width symbols in math."""
    return "-".join(str(w) if isinstance(w, int) else f"${latex(w)}$" for w in spec.widths)


def _key(p, P) -> str:
    return next(prm.key for prm in p.graph.params if prm.symbol == P)


def _origin(path: str) -> str:
    from ..escape import tex_text

    return tex_text(path)
