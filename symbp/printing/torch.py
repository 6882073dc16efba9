"""PyTorch code for the batch pass: the NumPy printer with the few spellings torch needs.

Samples are columns, ``@`` multiplies matrices and ``*`` is the Hadamard product, as in NumPy;
`.T`, ``.sum(axis=..., keepdims=True)`` and most functions (``torch.tanh``, ``torch.where``) are
spelled alike.  What differs: Python numbers keep the data's dtype only next to a tensor, so a
formula whose every branch is a number takes its last branch as a tensor like its argument;
``torch.maximum`` takes two tensors (a constant bound is ``torch.clip``); ``torch.heaviside``
takes a tensor at 0; ``torch.erf`` exists; a square root is ``x ** 0.5`` (Python floats such as
a schedule's k take it too); softmax's log-sum-exp is ``torch.logsumexp``; casts are
``.to(dtype)``; a number such as sqrt(2) is printed as its float64 value; a channel's bias is
repeated with ``torch.repeat_interleave``.

Spellings for speed (each torch call dispatches from Python, so fewer calls are faster): softmax,
sigmoid, tanh and softplus as one call each (`DIRECT`); A B + b 1^T as ``torch.addmm``; integers next to
tensors as float literals; a scalar coefficient with the runtime seed grad_f as one factor
(`_print_MatMul`); a delta times an indicator [U > c] as one masking call
(`_print_HadamardProduct`).

Which exact form of an element-wise formula is printed (`float64.stable_form`) is decided by
evaluating NumPy's spelling of the same form (`ACCURACY_PRINTER`): the forms use the same IEEE
float64 operations in both libraries.  Convolution and pooling nodes print their own code, which
calls the module's helpers (templates/torch/_conv.py.j2); so do the recurrent layers' nodes,
whose loops are templates/torch/_recurrent.py.j2 (their steps' statements: `output.plaincells`);
least squares (block-coordinate descent) is spelled with pseudo-inverses.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from ..catalog.activations import t
from ..graph.cells import RowSlice
from ..graph.nodes import Elementwise, LogSumExp
from .float64 import stable_form
from .numpy import SymbpNumPyPrinter, _postfix_operand

#: whose float64 evaluation decides which stable form this backend prints
ACCURACY_PRINTER = SymbpNumPyPrinter

#: entry-wise formulas in t (compared structurally) that one torch function computes, as
#: format strings of their argument u (a name): printed as that call instead of a stable form
#: of several operations; each is checked against SymPy's 50-digit values on float64.GRID
#: (tests/test_backend_torch.py)
DIRECT = {
    1 / (1 + sp.exp(-t)): "torch.sigmoid({u})",
    sp.tanh(t): "torch.tanh({u})",
    sp.log(sp.exp(t) + 1): "torch.logaddexp({u}, {u}.new_zeros(()))",  # max(u,0) + log1p(e^-|u|)
}


def direct(body, var, arg: str) -> str | None:
    """The one torch call computing `body` (a formula in `var`) at `arg`, printed code
    (`DIRECT`), or None: a form that reads its argument twice takes a name only."""
    form = DIRECT.get(body.xreplace({var: t}))
    if form is None or (form.count("{u}") > 1 and not re.fullmatch(r"[A-Za-z_]\w*", arg)):
        return None
    return form.format(u=arg)


class TorchPrinter(SymbpNumPyPrinter):
    """Formulas as PyTorch expressions on tensors (``import torch``)."""

    module = "torch"

    @staticmethod
    def inlines(rhs) -> bool:
        """Whether the module substitutes a backward definition `rhs` read once into its reader
        (`module.inlined`): an indicator [U > c], or sigma' written in the layer's output
        (Z ∘ (1 − Z), 1 − Z∘Z), whose product with a delta prints as one call
        (`_print_HadamardProduct`)."""
        return _above(rhs) is not None or _in_output(rhs) is not None

    #: the printer whose NumPy evaluation stands for this one's in float64 accuracy checks
    float64_printer = ACCURACY_PRINTER

    def __init__(self, activations: dict):
        super().__init__(activations)
        self.printmethod = "_torchcode"  # a node's own ``_numpycode`` is NumPy's, not ours
        self._like = None  # the tensor whose dtype an entry-wise formula's numbers take
        self._in_matrix = False  # printing inside a matrix (tensor) formula

    def _print(self, expr, **kwargs):
        """A real constant that is not a rational (sqrt(2), pi, E, log(2)) as its float64
        value: torch's functions take tensors, not Python numbers."""
        if (
            isinstance(expr, sp.Expr)
            and not isinstance(expr, sp.MatrixExpr)
            and expr.is_number
            and not expr.is_Rational
            and not expr.is_Float
            and expr.is_real
        ):
            return repr(float(expr))
        if self._in_matrix or not getattr(expr, "is_Matrix", False):
            return super()._print(expr, **kwargs)
        self._in_matrix = True
        try:
            return super()._print(expr, **kwargs)
        finally:
            self._in_matrix = False

    def _wrap(self, expr):
        """As NumPy's, with two postfix operands unparenthesised: a row block of a named tensor
        (``x[0:8]``) and a single call (``torch.log_softmax(U3, dim=0)``)."""
        if isinstance(expr, RowSlice) and isinstance(expr.arg, sp.MatrixSymbol):
            return self._print(expr)
        text = super()._wrap(expr)
        inner = text[1:-1] if text.startswith("(") and text.endswith(")") else None
        return inner if inner is not None and _postfix_operand(inner) == inner else text

    def _cast(self, text: str, arg: str) -> str:
        """`text` cast to the dtype of the tensor `arg`."""
        return f"{_postfix_operand(text)}.to({arg}.dtype)"

    def _entrywise(self, body, arg: str) -> str:
        """`body`, a scalar formula already in the symbol named `arg`, printed with the numbers
        of its branches as tensors like `arg` (`_print_Piecewise`)."""
        saved, self._like = self._like, arg
        try:
            return self._print(body)
        finally:
            self._like = saved

    def _print_Sigma(self, expr):
        return self.activation_code(self.activations[expr.layer], expr.arg)

    def activation_code(self, activation, arg_expr) -> str:
        """`activation` (a catalog `Activation`: a layer's sigma, a gate's) entry-wise on
        `arg_expr`, in the argument's dtype; softmax column by column."""
        if activation.kind == "softmax":  # each column: exp(u - max) / sum
            return f"{self._fn('softmax')}({self._print(arg_expr)}, dim=0)"
        sigma, arg = activation.expr, self._wrap(arg_expr)
        one_call = direct(sigma, t, self._print(arg_expr))
        if one_call:  # one kernel: torch.sigmoid(U1)
            return one_call
        body = stable_form(sigma, t, ACCURACY_PRINTER)
        call = isinstance(body, sp.Function) and body.args == (t,)  # f(u): u needs no parens
        body = body.subs(t, sp.Symbol(self._print(arg_expr) if call else arg))
        text = self._entrywise(body, arg)
        if not sigma.has(t):  # a constant: one value per entry
            return f"{self._fn('full_like')}({arg}, {text})"
        mask = sigma.is_Piecewise and all(v.is_Number for v, _ in sigma.args)
        return self._cast(text, arg) if mask else text  # an indicator is a bool mask

    def _print_Elementwise(self, expr):
        var = expr.function.variables[0]
        if direct(expr.function.expr, var, self._wrap(expr.arg)):
            return direct(expr.function.expr, var, self._wrap(expr.arg))
        body = stable_form(expr.function.expr, var, ACCURACY_PRINTER)
        call = isinstance(body, sp.Function) and body.args == (var,)  # f(u): u needs no parens
        arg = self._wrap(expr.arg)
        body = body.subs(var, sp.Symbol(self._print(expr.arg) if call else arg))
        return self._entrywise(body, arg)

    def _print_Integer(self, expr):
        """In a tensor formula, a float literal (``2.0``): torch converts a Python int next to
        a floating tensor on every call (a dtype cast), a float it does not; exact below 2**53.
        Elsewhere (Python numbers: a schedule of the step count k) the int."""
        n = int(expr)
        tensor = self._in_matrix or self._like is not None
        return repr(float(n)) if tensor and abs(n) < 2**53 else str(n)

    def _print_OneMatrix(self, expr):
        return "1.0"  # a matrix of ones next to a tensor: the number, broadcast

    def _print_MatAdd(self, expr):
        """A product plus a broadcast bias column, A B + b 1^T, as ``torch.addmm(b, A, B)``: one
        call adding b to the product (the other terms, if any, added after); U - lse(U) (each
        column's log-softmax) as ``torch.log_softmax(U, dim=0)``."""
        terms = list(expr.args)
        if len(terms) == 2 and any(-a == LogSumExp(b) for a, b in (terms, terms[::-1])):
            u = next(b for a, b in (terms, terms[::-1]) if -a == LogSumExp(b))
            return f"{self._fn('log_softmax')}({self._print(u)}, dim=0)"
        bias = next((a for a in terms if _broadcast_column(a) is not None), None)
        product = next((a for a in terms if _plain_product(a)), None)
        if bias is None or product is None:
            return super()._print_MatAdd(expr)
        a, b = product.args
        column = _broadcast_column(bias)
        text = f"{self._fn('addmm')}({self._print(column)}, {self._print(a)}, {self._print(b)})"
        for term in terms:
            if term is bias or term is product:
                continue
            negative = term.could_extract_minus_sign()
            text += f" - {self._print(-term)}" if negative else f" + {self._print(term)}"
        return text

    def _print_MatMul(self, expr):
        """A product whose scalar coefficient holds a runtime scalar (the seed grad_f, a 0-dim
        tensor) as the matrix times one scalar, ``M * (grad_f * (2.0 / N))``: the coefficients
        of nested products and Hadamard factors gathered, their Python numbers into one float,
        so that the matrix is multiplied once.  Other products as NumPy spells them."""
        scalar, factors = self._scaled(expr)
        runtime = [f for f in sp.Mul.make_args(scalar) if _runtime_scalar(f)]
        if not runtime:
            coeff, matrices = expr.as_coeff_matrices()
            if coeff == -1:  # -M: a negation, not a product with a wrapped number
                return "-" + self._wrap(sp.MatMul(*matrices) if len(matrices) > 1 else matrices[0])
            return super()._print_MatMul(expr)
        numbers = sp.Mul(*(f for f in sp.Mul.make_args(scalar) if not _runtime_scalar(f)))
        coeff = self.parenthesize(sp.Mul(*runtime), PRECEDENCE["Mul"], strict=True)
        if numbers != 1:  # one Python float: (2.0 / N)
            text = self._print(numbers)
            coeff += f" * {text}" if numbers.is_Number else f" * ({text})"
        if len(factors) > 1:
            body = self._print_HadamardProduct(sp.HadamardProduct(*factors))
        else:
            body = self._wrap(factors[0])
        return f"{body} * ({coeff})"

    def _scaled(self, expr) -> tuple[sp.Expr, list]:
        """(c, [M_1, ...]) with `expr` = c (M_1 * M_2 ...), * the Hadamard product: the scalar
        coefficients of a product of one matrix and of Hadamard factors, gathered."""
        if isinstance(expr, sp.MatMul):
            coeff, matrices = expr.as_coeff_matrices()
            if len(matrices) != 1:
                return coeff, [sp.MatMul(*matrices)] if len(matrices) > 1 else []
            inner, factors = self._scaled(matrices[0])
            return coeff * inner, factors
        if isinstance(expr, sp.HadamardProduct):
            coeff, factors = sp.S.One, []
            for arg in expr.args:
                c, fs = self._scaled(arg)
                coeff, factors = coeff * c, factors + fs
            return coeff, factors
        return sp.S.One, [expr]

    def _print_HadamardPower(self, expr):
        if expr.exp == 2:  # one call, not Tensor.__pow__'s Python wrapper
            return f"{_postfix_operand(self._print(expr.base))}.square()"
        return super()._print_HadamardPower(expr)

    def _print_HadamardProduct(self, expr):
        """Products that one ATen kernel computes exactly, in one pass: G ∘ [U > c] (an
        indicator of a comparison with a number) as ``threshold_backward(G, U, c)`` (0 where
        U <= c, else G; a bool mask times a float tensor costs a cast of every entry), and
        G ∘ Z ∘ (1 − Z) and G ∘ (1 − Z∘Z) as ``sigmoid_backward(G, Z)`` and
        ``tanh_backward(G, Z)`` (ATen's formulas are these products of G and the output Z).
        Other products joined by ``*``."""
        for i, arg in enumerate(expr.args):
            rest = expr.args[:i] + expr.args[i + 1 :]
            grad = rest[0] if len(rest) == 1 else sp.HadamardProduct(*rest)
            bound, output = _above(arg), _in_output(arg)
            if bound is not None:
                u, c = (self._print(x) for x in bound)
                kernel = self._fn("ops.aten.threshold_backward")
                return f"{kernel}({self._print(grad)}, {u}, {c})"
            if output is None and len(rest) > 1:  # G ∘ Z ∘ (1 − Z), the product flattened
                z = next((x for x in rest if _in_output(sp.HadamardProduct(x, arg))), None)
                if z is not None:
                    others = [x for x in rest if x is not z]
                    output = _in_output(sp.HadamardProduct(z, arg))
                    grad = others[0] if len(others) == 1 else sp.HadamardProduct(*others)
            if output is not None:
                name, z = output
                kernel = self._fn(f"ops.aten.{name}")
                return f"{kernel}({self._print(grad)}, {self._print(z)})"
        return super()._print_HadamardProduct(expr)

    def _print_Piecewise(self, expr):
        """``torch.where``; when every branch is a number, the last (the else branch) as a
        tensor like the entry-wise formula's argument, which sets the result's dtype and device
        (a where of Python numbers alone would be int64 or float32)."""
        *branches, (last, cond) = expr.args
        if cond != sp.true or not all(v.is_number for v, _ in expr.args):
            return super()._print_Piecewise(expr)
        if len(branches) == 1 and last == 0 and branches[0][0] == 1:  # an indicator: a bool mask
            return self._print(branches[0][1])
        if self._like is None:
            out = f"{self._fn('asarray')}({self._print(last)}, dtype={self._fn('float64')})"
        else:
            out = f"{self._fn('full_like')}({self._like}, {self._print(last)})"
        for value, cond in reversed(branches):
            out = f"{self._fn('where')}({self._print(cond)}, {self._print(value)}, {out})"
        return out

    def _pairwise(self, name: str, args) -> str:
        """``torch.maximum`` of tensors; a constant bound as ``torch.clip(a, min=c)`` (NumPy
        spells it alike, so that float64 checks of this spelling evaluate it)."""
        a, *rest = sorted(args, key=lambda e: bool(e.is_number))
        if not rest:
            return self._print(a)
        if len(rest) == 1 and rest[0].is_number:
            bound = "min" if name == "maximum" else "max"
            return f"{self._fn('clip')}({self._print(a)}, {bound}={self._print(rest[0])})"
        return f"{self._fn(name)}({self._print(a)}, {self._pairwise(name, rest)})"

    def _print_Heaviside(self, expr):
        at_zero = expr.func(0, *expr.args[1:])  # SymPy's H(0), 1/2 unless the formula says so
        x = self._print(expr.args[0])
        values = f"{self._fn('full_like')}({x}, {self._print(at_zero)})"
        return f"{self._fn('heaviside')}({x}, {values})"

    def precedence_of(self, expr) -> int:
        if expr.is_Pow and expr.exp == sp.S.Half:
            return PRECEDENCE["Pow"]  # x ** 0.5, not a call
        return super().precedence_of(expr)

    def _print_Pow(self, expr, rational=False):
        """A square root as ``x ** 0.5``, which a tensor and a Python float (a step size, a
        schedule's k) both take; torch.sqrt takes tensors only."""
        tensor = (self._in_matrix or self._like is not None) and expr.base.free_symbols
        if expr.exp == 2 and tensor:  # a tensor's square: one call, not Tensor.__pow__'s wrapper
            return f"{_postfix_operand(self._print(expr.base))}.square()"
        if expr.exp.is_Integer and expr.exp > 0:  # x**2: an int exponent (no float pow)
            left = self.parenthesize(expr.base, PRECEDENCE["Pow"])
            hug = re.fullmatch(r"[A-Za-z0-9_.]+", left)
            return f"{left}**{int(expr.exp)}" if hug else f"{left} ** {int(expr.exp)}"
        if expr.exp != sp.S.Half:
            return super()._print_Pow(expr, rational)
        left = self.parenthesize(expr.base, PRECEDENCE["Pow"], strict=True)
        return f"{left}**0.5" if re.fullmatch(r"[A-Za-z0-9_.]+", left) else f"{left} ** 0.5"

    def _print_erf(self, expr):
        return f"{self._fn('erf')}({self._print(expr.args[0])})"

    def _print_LogSumExp(self, expr):
        return f"{self._fn('logsumexp')}({self._print(expr.arg)}, dim=0, keepdim=True)"

    def _print_Stack(self, expr):
        top, bottom = expr.args
        z = self._print(top)
        if isinstance(bottom, sp.OneMatrix):  # [Z; 1^T]: a row of ones in Z's dtype and device
            bottom_text = f"{z}.new_ones((1, {z}.shape[1]))"
        else:
            bottom_text = self._print(bottom)
        return f"{self._fn('vstack')}([{z}, {bottom_text}])"

    def _print_LeastSquares(self, expr):
        """P = A⁺ T B⁺, the min-norm least-squares solution of A P B = T (NumPy's two lstsq
        calls give the same P), with ``torch.linalg.pinv``, which every device has (the
        minimum-norm lstsq drivers are CPU-only)."""
        A, T, B = (self._wrap(a) for a in expr.args)
        pinv = self._fn("linalg.pinv")
        inner = T if isinstance(expr.args[0], sp.Identity) else f"{pinv}({A}) @ {T}"
        return f"{inner} @ {pinv}({B})"

    def _print__GeometryNode(self, expr):
        """Convolution and pooling: the node's own code, which calls the module's helpers
        (`_patches`, `_fold`, `_window_max`, ...: templates/torch/_conv.py.j2) and spells
        the rest with tensor methods that torch shares with NumPy."""
        return expr._numpycode(self)

    def _print__Recurrent(self, expr):
        """The recurrent layers' nodes (a gate's activation, through `activation_code`; a
        step's row block and stacked blocks; the recurrence,
        BPTT, the hidden sequence, its last step, its shift): the node's own code, tensor
        slicing and methods that torch shares with NumPy, and calls of the module's loops
        (`_recurrence<j>`, `_bptt<j>`, `_shifted`: templates/torch/_recurrent.py.j2)."""
        return expr._numpycode(self)

    _print_Apply = _print_RowSlice = _print_Blocks = _print__Recurrent
    _print_Recurrence = _print_Bptt = _print_Hidden = _print_Last = _print_Shifted = (
        _print__Recurrent
    )

    def _print_ChannelBias(self, expr):
        g = expr.geometry
        return f"{self._fn('repeat_interleave')}({self._print(expr.args[0])}, {g.positions}, dim=0)"


def _runtime_scalar(factor) -> bool:
    """Whether a scalar factor is known only at run time (a 0-dim tensor such as grad_f): it
    has a symbol that is not an integer (N and T, integers, are Python ints of the shapes)."""
    return any(not s.is_integer for s in factor.free_symbols)


def _broadcast_column(term):
    """b for a term b 1^T (a column broadcast over the samples), else None."""
    if isinstance(term, sp.MatMul) and len(term.args) == 2:
        b, ones = term.args
        if isinstance(ones, sp.OneMatrix) and ones.shape[0] == 1 and b.shape[1] == 1:
            return b
    return None


def _plain_product(term) -> bool:
    """Whether `term` is a product A B of two matrices with no coefficient and no ones."""
    return (
        isinstance(term, sp.MatMul)
        and len(term.args) == 2
        and all(a.is_Matrix and not isinstance(a, sp.OneMatrix) for a in term.args)
    )


def _in_output(factor):
    """("sigmoid_backward", Z) when `factor` is Z ∘ (1 − Z) and ("tanh_backward", Z) when it
    is 1 − Z∘Z, for a matrix Z (sigma' of the sigmoid and of tanh, written in the layer's
    output by the derivation), else None."""
    if not isinstance(factor, (sp.HadamardProduct, sp.MatAdd)):
        return None
    parts = set(sp.preorder_traversal(factor))
    ones = [x for x in parts if isinstance(x, sp.OneMatrix)]
    shown = sp.srepr(factor)  # canonical: the terms of a sum in sorted order
    for z in (x for x in parts if isinstance(x, sp.MatrixSymbol)):
        one = next((x for x in ones if x.shape == z.shape), None)
        if one is None:
            continue
        if shown == sp.srepr(sp.HadamardProduct(z, one - z)):
            return "sigmoid_backward", z
        if shown == sp.srepr(one - sp.HadamardPower(z, 2)):
            return "tanh_backward", z
    return None


def _above(factor):
    """(U, c) when `factor` is the indicator [U > c] of a matrix U and a number c, else None."""
    if not isinstance(factor, Elementwise):
        return None
    var, body = factor.function.variables[0], factor.function.expr
    if not isinstance(body, sp.Piecewise) or len(body.args) != 2:
        return None
    (one, relation), (zero, otherwise) = body.args
    if (one, zero, otherwise) != (1, 0, sp.true) or not isinstance(relation, sp.StrictGreaterThan):
        return None
    if relation.lhs != var or not relation.rhs.is_number:
        return None
    return factor.arg, relation.rhs
