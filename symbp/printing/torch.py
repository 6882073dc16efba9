"""PyTorch code for the batch pass: the NumPy printer with the few spellings torch needs.

Samples are columns, ``@`` multiplies matrices and ``*`` is the Hadamard product, as in NumPy;
`.T`, ``.sum(axis=..., keepdims=True)`` and most functions (``torch.tanh``, ``torch.where``) are
spelled alike.  What differs: Python numbers keep the data's dtype only next to a tensor, so a
formula whose every branch is a number takes its last branch as a tensor like its argument;
``torch.maximum`` takes two tensors (a constant bound is ``torch.clip``); ``torch.heaviside``
takes a tensor at 0; ``torch.erf`` exists; a square root is ``x ** 0.5`` (Python floats such as
a schedule's k take it too); softmax's log-sum-exp is ``torch.logsumexp``; casts are
``.to(dtype)``; a number such as sqrt(2) is printed as its float64 value; a channel's bias is
repeated with ``torch.repeat_interleave``; the sigmoid is torch's own kernel (`KERNELS`).

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
from .float64 import stable_form
from .numpy import SymbpNumPyPrinter, _postfix_operand
from .rewrites import softmax_form

#: whose float64 evaluation decides which stable form this backend prints
ACCURACY_PRINTER = SymbpNumPyPrinter
#: activations torch computes with one kernel of its own (the same function, stable for
#: either sign): sigma(t) -> the torch function's name
KERNELS = {1 / (1 + sp.exp(-t)): "sigmoid"}


class TorchPrinter(SymbpNumPyPrinter):
    """Formulas as PyTorch expressions on tensors (``import torch``)."""

    module = "torch"
    #: the printer whose NumPy evaluation stands for this one's in float64 accuracy checks
    float64_printer = ACCURACY_PRINTER

    def __init__(self, activations: dict):
        super().__init__(activations)
        self.printmethod = "_torchcode"  # a node's own ``_numpycode`` is NumPy's, not ours
        self._like = None  # the tensor whose dtype an entry-wise formula's numbers take

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
        return super()._print(expr, **kwargs)

    def _wrap(self, expr):
        """A row block of a named tensor (``x[0:8]``) is postfix: no parentheses around it."""
        if isinstance(expr, RowSlice) and isinstance(expr.arg, sp.MatrixSymbol):
            return self._print(expr)
        return super()._wrap(expr)

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
        if activation.kind == "softmax":
            return self._print(softmax_form(arg_expr))
        if activation.expr in KERNELS:  # one call instead of tanh(u/2)/2 + 1/2
            return f"{self._fn(KERNELS[activation.expr])}({self._print(arg_expr)})"
        sigma, arg = activation.expr, self._wrap(arg_expr)
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
        body = stable_form(expr.function.expr, var, ACCURACY_PRINTER)
        call = isinstance(body, sp.Function) and body.args == (var,)  # f(u): u needs no parens
        arg = self._wrap(expr.arg)
        body = body.subs(var, sp.Symbol(self._print(expr.arg) if call else arg))
        return self._entrywise(body, arg)

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
