"""One naming module: each quantity has one SymPy symbol, whose name is its Python identifier,
and from which its LaTeX and Unicode forms are derived.

Per-sample quantities are lower case (z2, u2, delta2, y), batch quantities upper case
(Z2, U2, Delta2, Y), as the lecture writes z_j for one sample and the samples are columns of Z_j.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy import MatrixSymbol

N = sp.Symbol("N", integer=True, positive=True)  #: number of samples (columns)
J = sp.Symbol("J", integer=True, positive=True)  #: the depth: number of layers
ALPHA = sp.Symbol("alpha", positive=True)  #: the step size (learning rate) of gradient descent
SIGMA = sp.Function("sigma")  #: an activation, sigma(t), in the documents' prose and displays

# code stem -> (LaTeX stem, Unicode stem)
_STEMS = {
    "z": (r"\mathbf{z}", "z"),
    "u": (r"\mathbf{u}", "u"),
    "a": (r"\mathbf{a}", "a"),  # a residual layer's activation output, before the skip is added
    "y": (r"\mathbf{y}", "y"),
    "W": (r"\mathbf{W}", "W"),
    "K": (r"\mathbf{K}", "K"),  # a convolution's kernel, C_out x C_in k_1 k_2
    "b": (r"\mathbf{b}", "b"),
    "P": (r"\mathbf{P}", "P"),  # a layer's parameters [W_j b_j], in block-coordinate descent
    "delta": (r"\boldsymbol{\delta}", "δ"),
    "zeta": (r"\boldsymbol{\zeta}", "ζ"),  # the adjoint of a layer output z_j, where named
    "dsig": (r"\boldsymbol{\sigma}'", "σ′"),
    "Z": (r"\mathbf{Z}", "Z"),
    "U": (r"\mathbf{U}", "U"),
    "A": (r"\mathbf{A}", "A"),
    "Y": (r"\mathbf{Y}", "Y"),
    "Delta": (r"\boldsymbol{\Delta}", "Δ"),
    "Zeta": (r"\boldsymbol{\mathcal{Z}}", "𝒵"),
    "Dsig": (r"\boldsymbol{\Sigma}'", "Σ′"),
    "lambda": (r"\lambda", "λ"),  # a weight-decay coefficient (scalar): lambda, lambda_j
    # recurrent layers: input and recurrent weights (PyTorch's weight_ih, weight_hh), the
    # recurrent bias (GRU), the input projection A_j = W_xh Z_{j-1} + b, the hidden sequence
    "Wxh": (r"\mathbf{W}_{xh@}", "Wₓₕ"),
    "Whh": (r"\mathbf{W}_{hh@}", "Wₕₕ"),
    "bhh": (r"\mathbf{b}_{hh@}", "bₕₕ"),
    "H": (r"\mathbf{H}", "H"),
    "S": (r"\mathbf{S}", "S"),  # a recurrent layer's trace: every step's stored values
    "V": (r"\mathbf{V}", "V"),  # its hidden projection W_hh H_shift + b_hh 1^T (all steps)
    "Deltav": (r"\boldsymbol{\Delta}^{v}", "Δᵛ"),  # d f / d V_j
    "deltav": (r"\boldsymbol{\delta}^{v}", "δᵛ"),
}
#: stems of a recurrent cell's quantities at one time step, named with a layer and a time suffix
#: (h1_t, c1_tm1, delta1_tp1: `step_symbol`); besides these, every stem of `_STEMS`
_STEP_STEMS = {
    "h": (r"\mathbf{h}", "h"),
    "c": (r"\mathbf{c}", "c"),
    "x": (r"\mathbf{x}", "x"),
    "i": (r"\mathbf{i}", "i"),
    "f": (r"\mathbf{f}", "f"),
    "g": (r"\mathbf{g}", "g"),
    "o": (r"\mathbf{o}", "o"),
    "r": (r"\mathbf{r}", "r"),
    "q": (r"\mathbf{q}", "q"),  # GRU's update gate (PyTorch's z: z names layer outputs here)
    "n": (r"\mathbf{n}", "n"),
    "v": (r"\mathbf{v}", "v"),  # the hidden projection W_hh h_{t-1} (+ b_hh) of one step
    "eps": (r"\boldsymbol{\varepsilon}", "ε"),  # the adjoint of h_t (output term + carry)
    "epsc": (r"\boldsymbol{\varepsilon}^{c}", "εᶜ"),  # the carried adjoint of c_t
    "deltac": (r"\boldsymbol{\delta}^{c}", "δᶜ"),  # the adjoint of the LSTM's c_t
    "deltav": (r"\boldsymbol{\delta}^{v}", "δᵛ"),  # the adjoint of the hidden projection v_t
    # each gate k's pre-activation u^k, its adjoint delta^k and its sigma'^k
    **{f"u{k}": (rf"\mathbf{{u}}^{{{k}}}", f"u{k}") for k in "ifgorqn"},
    **{f"delta{k}": (rf"\boldsymbol{{\delta}}^{{{k}}}", f"δ{k}") for k in "ifgorqn"},
    **{f"dsig{k}": (rf"\boldsymbol{{\sigma}}'^{{{k}}}", f"σ′{k}") for k in "ifgorqn"},
}
PER_SAMPLE = {"z", "u", "a", "y", "delta", "zeta", "dsig"}  #: stems of one-sample quantities
#: Names symbp gives its scalar symbols besides the stems above: the sample count N, the
#: objective f, an activation's variable t and output s, the log-sum-exp lse of the loss.
SCALARS = frozenset({"N", "f", "t", "s", "lse"})
WIDTH_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")  #: a symbolic width: a plain identifier
_NAME = re.compile(r"([A-Za-z]+?)(\d*)\Z")
#: a recurrent cell's quantity at one time step: stem, layer, step (t, t - 1, t + 1)
STEP_NAME = re.compile(r"([A-Za-z]+?)(\d+)_(t|tm1|tp1)\Z")
_STEPS = {"t": ("t", "t"), "tm1": ("t-1", "t−1"), "tp1": ("t+1", "t+1")}
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


class WidthSymbol(sp.Symbol):
    """A symbolic layer width (a positive integer) such as d_1, named by a `WIDTH_NAME`.

    It prints its own LaTeX (`width_latex`), so that no name reaches a document through SymPy's
    name heuristics (which turn ``Xscr`` into ``\\mathscr{X}`` and ``alpha`` into a Greek letter).
    """

    def __new__(cls, name: str):
        if not isinstance(name, str) or not WIDTH_NAME.match(name) or is_reserved(name):
            raise ValueError(f"{name!r} is not a width name: see naming.WIDTH_NAME, is_reserved")
        return super().__new__(cls, name, integer=True, positive=True)

    def __getnewargs_ex__(self):
        return (self.name,), {}

    def _latex(self, printer=None) -> str:
        return width_latex(self.name)


def width_latex(name: str) -> str:
    """d_1 -> \\mathit{d}_{\\mathit{1}}, Xscr -> \\mathit{Xscr}: only letters, digits and \\_
    inside \\mathit, so any `WIDTH_NAME` is safe in LaTeX."""
    if not WIDTH_NAME.match(name):
        raise ValueError(f"{name!r} is not a width name")
    base, _, sub = name.partition("_")
    if sub and not sub.endswith("_"):
        return rf"\mathit{{{base}}}_{{\mathit{{{_tex_underscores(sub)}}}}}"
    return rf"\mathit{{{_tex_underscores(name)}}}"


def _tex_underscores(name: str) -> str:
    return name.replace("_", "\\_")


def is_reserved(name: str) -> bool:
    """True for a name symbp uses itself: a stem with an optional layer index (z, z1, W3,
    delta2, y, ...) or one of `SCALARS`; such a name cannot be a symbolic width."""
    return name in SCALARS or split(name)[0] in _STEMS


def _symbol(stem: str, layer: int | None, rows, cols) -> MatrixSymbol:
    return MatrixSymbol(f"{stem}{'' if layer is None else layer}", rows, cols)


class Names:
    """The symbols of one network, per sample (`batch=False`, one column) or for N columns."""

    def __init__(self, widths, batch: bool, sequences=(), steps=None):
        """`sequences` flags each value z_0 .. z_J that is a sequence over `steps` time steps
        (recurrent networks): its columns are the steps' columns side by side, T per sample."""
        self.widths = tuple(widths)
        self.batch = batch
        self.cols = N if batch else 1
        self.sequences = tuple(sequences) or (False,) * len(self.widths)
        self.steps = steps

    def cols_of(self, j: int):
        """The columns of z_j (and of u_j, delta_j, ...): n, or T n for a sequence."""
        return self.steps * self.cols if self.sequences[j] else self.cols

    def z(self, j):
        return _symbol("Z" if self.batch else "z", j, self.widths[j], self.cols_of(j))

    def u(self, j):
        return _symbol("U" if self.batch else "u", j, self.widths[j], self.cols_of(j))

    def a(self, j):
        return _symbol("A" if self.batch else "a", j, self.widths[j], self.cols_of(j))

    def zeta(self, j):
        return _symbol("Zeta" if self.batch else "zeta", j, self.widths[j], self.cols_of(j))

    def delta(self, j):
        return _symbol("Delta" if self.batch else "delta", j, self.widths[j], self.cols_of(j))

    def dsigma(self, j):
        return _symbol("Dsig" if self.batch else "dsig", j, self.widths[j], self.cols_of(j))

    def y(self):
        last = len(self.widths) - 1
        return _symbol("Y" if self.batch else "y", None, self.widths[-1], self.cols_of(last))

    def projection(self, j, rows, stem: str = "A"):
        """A recurrent layer's input projection A_j (rows x the input's columns), or with stem
        "V" its hidden projection V_j = W_hh H_shift + b_hh 1^T."""
        name = stem if self.batch else stem.lower()
        return _symbol(name, j, rows, self.cols_of(j - 1))

    def projection_adjoint(self, j, rows, of: str = ""):
        """Delta_j = d f / d A_j, every step's delta_t side by side; with `of` "v", Delta^v_j =
        d f / d V_j."""
        return _symbol(("Delta" if self.batch else "delta") + of, j, rows, self.cols_of(j - 1))

    def trace(self, j, rows):
        """A recurrent layer's trace S_j: every step's stored values."""
        return _symbol("S", j, rows, self.cols_of(j - 1))

    def W(self, j):
        return _symbol("W", j, self.widths[j], self.widths[j - 1])

    def b(self, j):
        return _symbol("b", j, self.widths[j], 1)

    def param(self, key: str):
        """The parameter named by a gradient key: "W2" -> W_2, "b2" -> b_2."""
        return self.W(int(key[1:])) if key[0] == "W" else self.b(int(key[1:]))


def decay(j: int | None) -> sp.Symbol:
    """The weight-decay coefficient: lambda for every layer (`j` None), or lambda_j."""
    return sp.Symbol(f"lambda{'' if j is None else j}", nonnegative=True)


def subscript(index) -> str:
    return str(index).translate(_SUBSCRIPTS)


def split(name: str) -> tuple[str, str]:
    match = _NAME.match(name)
    if not match or match.group(1) not in _STEMS:
        return name, ""
    return match.group(1), match.group(2)


def latex_name(name: str) -> str:
    step = STEP_NAME.match(name)
    if step and _step_stem(step.group(1)):
        stem, layer, t = step.groups()
        return _latex_indexed(_step_stem(stem)[0], f"{layer},{_STEPS[t][0]}")
    stem, index = split(name)
    if stem not in _STEMS:
        return name
    return _latex_indexed(_STEMS[stem][0], index)


def _latex_indexed(tex: str, index: str) -> str:
    """A stem's LaTeX with its index: appended to a stem's own subscript (W_{hh,1}) or added."""
    if "@" in tex:
        return tex.replace("@", f",{index}" if index else "")
    return f"{tex}_{{{index}}}" if index else tex


def unicode_name(name: str) -> str:
    step = STEP_NAME.match(name)
    if step and _step_stem(step.group(1)):
        stem, layer, t = step.groups()
        return f"{_step_stem(stem)[1]}{layer.translate(_SUBSCRIPTS)},{_STEPS[t][1]}"
    stem, index = split(name)
    if stem not in _STEMS:
        return name
    return _STEMS[stem][1] + index.translate(_SUBSCRIPTS)


def _step_stem(stem: str):
    return _STEP_STEMS.get(stem) or _STEMS.get(stem)


def step_symbol(stem: str, layer: int, step: str, rows, cols) -> MatrixSymbol:
    """A recurrent cell's quantity at one time step: ``step_symbol("h", 1, "tm1", H, N)`` is
    h_{1,t-1}, named h1_tm1 in code (`step` is "t", "tm1" or "tp1")."""
    if not _step_stem(stem) or step not in _STEPS:
        raise ValueError(f"no step quantity {stem!r} at {step!r}")
    return MatrixSymbol(f"{stem}{layer}_{step}", rows, cols)


def generic_latex(stem: str, index: str = "j") -> str:
    """The LaTeX of a stem's quantity with a letter for its layer index (delta_j, z_j), as prose
    speaks of any layer; e.g. ``generic_latex("zeta")`` is ``\\boldsymbol{\\zeta}_{j}``."""
    return f"{_STEMS[stem][0]}_{{{index}}}"


def width_symbol(j: int) -> sp.Symbol:
    """d_j, the name of layer j's width in the documents (the width itself may be a number)."""
    return sp.Symbol(f"d_{j}")
