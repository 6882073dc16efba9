"""Optimizers and step-size schedules as SymPy expressions, one registry entry each.

An `Optimizer` states its update as assignments of scalar formulas, in order, entry-wise: each
right-hand side reads the values the previous assignments wrote (as the code runs them).  The
left-hand sides are the parameter θ, the optimizer's state variables (each starting at 0) and
named intermediates such as Adam's m̂ (shown, never stored).  The formulas read θ, the step size
α, the gradient g = ∂f/∂θ, the update's number k = 1, 2, ... and the hyper-parameters.

Formulation: torch.optim's (PyTorch 2.x, https://docs.pytorch.org/docs/stable/optim.html, each
class's "Algorithm" box), so that a trainer's iterates can be compared with PyTorch's, with
dampening 0, no weight decay in the gradient (AdamW's decoupled decay excepted), no amsgrad, not
centred and with zero initial state.  Defaults are torch.optim's except the momentum coefficient
of "momentum" and "nesterov" (torch's SGD default 0 is plain SGD; 0.9 is the usual choice).

A `Schedule` states the factor of the step size at update k; `default_step` is the step size a
trainer uses when given none.  The emitted module prints all of it through its backend's printer,
its docstrings through the Unicode printer and the documents through the LaTeX printer, so that
no template types a formula.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy import MatAdd, MatMul

from ..graph.nodes import lift
from ..naming import N


class Scalar(sp.Symbol):
    """A real scalar of an update rule, named in Unicode (its SymPy name, shown in docstrings),
    printing its own LaTeX (`TEX`) so that no Unicode name reaches a document."""

    TEX: dict[str, str] = {}  # noqa: RUF012 (filled once by `scalar`)

    def _latex(self, printer=None) -> str:
        return self.TEX[self.name]


def scalar(name: str, tex: str, **assumptions) -> Scalar:
    """The `Scalar` called `name` (Unicode) that LaTeX shows as `tex`."""
    Scalar.TEX[name] = tex
    return Scalar(name, real=True, **assumptions)


theta = scalar("θ", r"\theta")  #: an entry of a parameter
alpha = scalar("α", r"\alpha")  #: the step size (schedule and per-layer factor included)
g = scalar("∂f/∂θ", "g")  #: the entry's gradient (LaTeX: g, which the documents define)
k = sp.Symbol("k", integer=True, positive=True)  #: the update's number, 1, 2, ...

#: how the emitted module names θ, α, g, k and N
CODE_NAMES = {
    theta: sp.Symbol("theta"),
    alpha: sp.Symbol("lr"),
    g: sp.Symbol("grad"),
    k: sp.Symbol("k"),
    N: sp.Symbol("n"),
}
#: how docstrings name the gradient inside the adaptive updates (g², g/√s read unambiguously)
SHORT_NAMES = {g: sp.Symbol("g", real=True)}
BASE_STEP = sp.Rational(1, 10)  #: the default step size of an objective averaged over samples


@dataclass(frozen=True)
class Variable:
    """A state variable (`initial` its value before the first update) or a hyper-parameter
    (`initial` its default), with its name in the emitted code and its meaning in words."""

    symbol: Scalar
    code: str
    initial: float
    meaning: str

    @property
    def code_symbol(self) -> sp.Symbol:
        return sp.Symbol(self.code)


@dataclass(frozen=True)
class Optimizer:
    """`steps`: (target, formula) in order, entry-wise; a target is θ, one of `state` or a named
    intermediate.  `hyperparameters`: its hyper-parameters with their defaults (`hyper`: code
    name -> default, as init_state and the [train] table take them); `lr`: the published
    default step size, or None for symbp's `default_step` (which scales with the reduction);
    `source`: the torch.optim call whose update it is (ASCII, hyper-parameters by code name)."""

    name: str
    title: str
    steps: tuple[tuple[sp.Symbol, sp.Expr], ...]
    state: tuple[Variable, ...] = ()
    hyperparameters: tuple[Variable, ...] = ()
    lr: float | None = None
    source: str = ""
    step_factor: sp.Expr = sp.S.One  #: scales `default_step` when `lr` is None

    @property
    def hyper(self) -> dict[str, float]:
        """Each hyper-parameter's code name -> its default (what init_state and [train] take)."""
        return {h.code: h.initial for h in self.hyperparameters}

    @property
    def update(self) -> sp.Expr:
        """θ's new value in θ, α, g, k, the hyper-parameters and the state before the update."""
        values: dict = {}
        for target, formula in self.steps:
            values[target] = formula.xreplace(values)
        return values[theta]

    @property
    def increment(self) -> sp.Expr:
        """What the update adds to θ (SGD: −α g), in α and g."""
        return sp.expand(self.update - theta)

    @property
    def direction(self) -> sp.Expr:
        """d with θ's new value θ − α d, in θ, g, the hyper-parameters and, by name, the state
        and intermediates as the steps before compute them (Adam: m̂/(√v̂ + ε))."""
        value = theta
        for target, formula in self.steps:
            if target == theta:
                value = formula.xreplace({theta: value})
        return sp.expand((theta - value) / alpha)

    @property
    def intermediates(self) -> tuple[sp.Symbol, ...]:
        """The targets that are neither θ nor state: defined for display, inlined in code."""
        stored = {theta, *(s.symbol for s in self.state)}
        return tuple(t for t, _ in self.steps if t not in stored)

    def stored_steps(self) -> list[tuple[sp.Symbol, sp.Expr]]:
        """The assignments to θ and the state, with the intermediates substituted."""
        named = set(self.intermediates)
        values: dict = {}
        out = []
        for target, formula in self.steps:
            formula = formula.xreplace(values)
            if target in named:
                values[target] = formula
            else:
                out.append((target, formula))
        return out


@dataclass(frozen=True)
class Schedule:
    """The step size at update k is the base step size times `factor`, an expression in k."""

    name: str
    factor: sp.Expr


m = scalar("m", "m")  #: momentum buffer, or Adam's first moment
v = scalar("v", "v", nonnegative=True)  #: running average of g²
s = scalar("s", "s", nonnegative=True)  #: AdaGrad's sum of g²
m_hat = scalar("m̂", r"\hat{m}")
v_hat = scalar("v̂", r"\hat{v}", nonnegative=True)
mu = scalar("μ", r"\mu", nonnegative=True)
beta1 = scalar("β₁", r"\beta_{1}", nonnegative=True)
beta2 = scalar("β₂", r"\beta_{2}", nonnegative=True)
rho = scalar("ρ", r"\rho", nonnegative=True)
eps = scalar("ε", r"\varepsilon", positive=True)
lam = scalar("λ", r"\lambda", nonnegative=True)

#: the documentation of torch.optim's classes, whose formulation the registry follows
TORCH_DOCS = "https://docs.pytorch.org/docs/stable/optim.html"
_M = Variable(m, "m", 0.0, "momentum buffer")
_MOMENTUM = Variable(mu, "momentum", 0.9, "momentum coefficient")
_EPS = Variable(eps, "eps", 1e-8, "added to the root for stability")
_ADAM_STATE = (
    Variable(m, "m", 0.0, "running average of g"),
    Variable(v, "v", 0.0, "running average of g²"),
)
_ADAM_HYPER = (
    Variable(beta1, "beta1", 0.9, "decay of the average of g"),
    Variable(beta2, "beta2", 0.999, "decay of the average of g²"),
    _EPS,
)
_ADAM_STEPS = (
    (m, beta1 * m + (1 - beta1) * g),
    (v, beta2 * v + (1 - beta2) * g**2),
    (m_hat, m / (1 - beta1**k)),
    (v_hat, v / (1 - beta2**k)),
    (theta, theta - alpha * m_hat / (sp.sqrt(v_hat) + eps)),
)

SGD = Optimizer(
    "sgd",
    "gradient descent (SGD, mini-batch or full batch)",
    ((theta, theta - alpha * g),),
    source="torch.optim.SGD",
)
MOMENTUM = Optimizer(
    "momentum",
    "heavy-ball momentum (Polyak 1964)",
    ((m, mu * m + g), (theta, theta - alpha * m)),
    state=(_M,),
    hyperparameters=(_MOMENTUM,),
    source="torch.optim.SGD(momentum=momentum)",
    step_factor=1 - mu,  # a constant gradient moves θ by α/(1 − μ): SGD's step
)
NESTEROV = Optimizer(
    "nesterov",
    "Nesterov momentum (Sutskever et al. 2013)",
    ((m, mu * m + g), (theta, theta - alpha * (g + mu * m))),
    state=(_M,),
    hyperparameters=(_MOMENTUM,),
    source="torch.optim.SGD(momentum=momentum, nesterov=True)",
    step_factor=1 - mu,
)
ADAGRAD = Optimizer(
    "adagrad",
    "AdaGrad (Duchi, Hazan and Singer 2011)",
    ((s, s + g**2), (theta, theta - alpha * g / (sp.sqrt(s) + eps))),
    state=(Variable(s, "s", 0.0, "sum of g²"),),
    hyperparameters=(Variable(eps, "eps", 1e-10, "added to the root for stability"),),
    lr=0.01,
    source="torch.optim.Adagrad",
)
RMSPROP = Optimizer(
    "rmsprop",
    "RMSProp (Tieleman and Hinton 2012)",
    ((v, rho * v + (1 - rho) * g**2), (theta, theta - alpha * g / (sp.sqrt(v) + eps))),
    state=(Variable(v, "v", 0.0, "running average of g²"),),
    hyperparameters=(Variable(rho, "rho", 0.99, "decay of the average of g² (torch: alpha)"), _EPS),
    lr=0.01,
    source="torch.optim.RMSprop(alpha=rho)",
)
ADAM = Optimizer(
    "adam",
    "Adam (Kingma and Ba 2015)",
    _ADAM_STEPS,
    state=_ADAM_STATE,
    hyperparameters=_ADAM_HYPER,
    lr=0.001,
    source="torch.optim.Adam",
)
ADAMW = Optimizer(
    "adamw",
    "AdamW, Adam with decoupled weight decay (Loshchilov and Hutter 2019)",
    ((theta, theta * (1 - alpha * lam)), *_ADAM_STEPS),
    state=_ADAM_STATE,
    hyperparameters=(
        *_ADAM_HYPER,
        Variable(lam, "decoupled_decay", 0.01, "decoupled weight decay (torch: weight_decay)"),
    ),
    lr=0.001,
    source="torch.optim.AdamW(weight_decay=decoupled_decay)",
)
OPTIMIZERS = {o.name: o for o in (SGD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM, ADAMW)}
SCHEDULES = {
    s.name: s
    for s in (
        Schedule("constant", sp.Integer(1)),
        Schedule("1/k", 1 / k),
        Schedule("1/sqrt(k)", 1 / sp.sqrt(k)),
    )
}


def default_step(scale: sp.Expr) -> sp.Expr:
    """The default step size for an objective scaled by `scale` over the N samples (1/N for a
    mean, 1 for a sum): BASE_STEP for a mean, BASE_STEP/N for a sum, the same step per sample."""
    return BASE_STEP / (N * scale)


def optimizer_step(optimizer: Optimizer, scale: sp.Expr) -> sp.Expr:
    """`optimizer`'s default step size for an objective scaled by `scale` (see `default_step`),
    at its default hyper-parameters: the published one, or `default_step` times `step_factor`."""
    if optimizer.lr is not None:
        return sp.Rational(repr(optimizer.lr))
    defaults = {h.symbol: sp.Rational(repr(h.initial)) for h in optimizer.hyperparameters}
    return default_step(scale) * optimizer.step_factor.xreplace(defaults)


def in_code_names(expr: sp.Expr, optimizer: Optimizer | None = None) -> sp.Expr:
    """`expr` with θ, α, g, k and N renamed as the emitted module names them (theta, lr, grad,
    k, n), and `optimizer`'s state and hyper-parameters by their code names."""
    names = dict(CODE_NAMES)
    if optimizer is not None:
        names |= {x.symbol: x.code_symbol for x in (*optimizer.state, *optimizer.hyperparameters)}
    return expr.xreplace(names)


def _flattened(expr):
    """`expr` with each matrix product's scalar factors gathered in front and nested products
    flattened: (−α)((1/N)(2(z − y)) xᵀ) becomes (−2α/N)(z − y) xᵀ.  Same value; for display."""
    if isinstance(expr, MatAdd):
        return MatAdd(*(_flattened(a) for a in expr.args), evaluate=False)
    if not isinstance(expr, MatMul):
        return expr
    coeff, factors = sp.Integer(1), []
    for a in expr.args:
        if not getattr(a, "is_Matrix", False):
            coeff *= a
            continue
        inner = _flattened(a)
        if isinstance(inner, MatMul):
            inner_coeff, inner_factors = inner.as_coeff_matrices()
            coeff, factors = coeff * inner_coeff, factors + list(inner_factors)
        else:
            factors.append(inner)
    if coeff == 1 and len(factors) == 1:
        return factors[0]
    if coeff != -1 and coeff.could_extract_minus_sign():  # shown as "− c ...", not "+ (−c) ..."
        return MatMul(sp.S.NegativeOne, MatMul(-coeff, *factors, evaluate=False), evaluate=False)
    return MatMul(coeff, *factors, evaluate=False)


def update_rules(optimizer: Optimizer, p) -> list[tuple[sp.MatrixSymbol, sp.MatrixExpr]]:
    """(parameter, its new value) for every parameter of the pass `p`, the value being the
    optimizer's update with g the pass's gradient, each δ replaced by its formula: the rule
    in the forward values, for display."""
    deltas = dict(p.adjoints)
    params = {prm.key: prm.symbol for prm in p.graph.params}
    rules = []
    for key, gradient in p.gradients.items():
        param = params[key]
        value = lift(optimizer.update, {theta: param, g: gradient.xreplace(deltas)})
        rules.append((param, _flattened(value)))
    return rules
