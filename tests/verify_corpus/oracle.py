"""The corpus's independent oracle: a forward pass written here from the spec's TOML (no symbp
code), differentiated by HIPS autograd, so a claim's truth is decided without symbp's derivation.

Meaning of the symbols a claim's right side uses (the lecture's notation): z_j a layer's output
(z_0 = x, z_J = ŷ), u_j = W_j z_{j-1} + b_j, a_j = σ_j(u_j) for a residual layer (z_j = a_j + z_k),
σ'_j = σ_j'(u_j) entry-wise, δ_j = ∂f/∂u_j and ζ_j = ∂f/∂z_j with f one sample's loss; in batch
form Z_j, U_j, A_j, Δ_j, 𝒵_j, Σ'_j hold those of N samples as columns, and ∂f/∂W_j, ∂f/∂b_j are
gradients of the batch loss (mean or sum over samples, as the spec says)."""

from __future__ import annotations

import tomllib
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import autograd.numpy as anp
import numpy as np
from autograd import elementwise_grad, grad

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
N_SAMPLES = 3  #: batch size of the oracle's points (symbp's own evaluator uses N = 2)
SOFTSIGN = "t/(1 + Abs(t))"


def _softmax(u):
    e = anp.exp(u - anp.max(u, axis=0, keepdims=True))
    return e / anp.sum(e, axis=0, keepdims=True)


ACTIVATIONS = {
    "identity": lambda t: t,
    "sigmoid": lambda t: 1 / (1 + anp.exp(-t)),
    "tanh": anp.tanh,
    "relu": lambda t: anp.where(t > 0, t, 0.0 * t),
    "leaky_relu": lambda t: anp.where(t >= 0, t, 0.01 * t),
    "softplus": lambda t: anp.log1p(anp.exp(t)),
    "softsign": lambda t: t / (1 + anp.abs(t)),
    "softmax": _softmax,
}


def _l2(y, z):
    return anp.sum((y - z) ** 2, axis=0)


def _cross_entropy(y, z):
    return -anp.sum(y * anp.log(z), axis=0)


def _binary_cross_entropy(y, z):
    return -anp.sum(y * anp.log(z) + (1 - y) * anp.log(1 - z), axis=0)


LOSSES = {"l2": _l2, "cross_entropy": _cross_entropy, "binary_cross_entropy": _binary_cross_entropy}


@dataclass(frozen=True)
class Net:
    """What the oracle reads of a spec: widths d_0..d_J, per layer (activation, bias, skip)."""

    name: str
    widths: tuple
    activations: tuple
    biases: tuple
    skips: tuple  # 0 for none, else k of z_j = a_j + z_k
    loss: str
    mean: bool

    @property
    def J(self) -> int:
        return len(self.activations)


def _activation_name(value) -> str:
    if isinstance(value, str):
        return value
    assert value["name"] == "softsign" and value["expr"] == SOFTSIGN, value
    return "softsign"


@cache
def load_net(name: str) -> Net:
    """The spec examples/<name>.toml read with tomllib (independently of symbp.load_spec)."""
    data = tomllib.loads((EXAMPLES / f"{name}.toml").read_text())
    layers = data["layers"]
    default_bias = data.get("bias", False)
    return Net(
        name,
        (data["input"], *(layer["units"] for layer in layers)),
        tuple(_activation_name(layer["activation"]) for layer in layers),
        tuple(layer.get("bias", default_bias) for layer in layers),
        tuple(layer.get("skip_from", 0) for layer in layers),
        data["loss"],
        data.get("reduction", "mean") == "mean",
    )


def forward(net: Net, W: dict, b: dict, X, Y, taps: dict):
    """(per-sample losses, z, u, a) with taps[(kind, j)] added to u_j, a_j or z_j (kind "u", "a",
    "z"): the gradient of the losses' sum at taps = 0 is the adjoint of that quantity."""
    z = {0: X + taps.get(("z", 0), 0.0)}
    u, a = {}, {}
    for j in range(1, net.J + 1):
        u[j] = anp.dot(W[j], z[j - 1]) + (b[j] if net.biases[j - 1] else 0.0)
        u[j] = u[j] + taps.get(("u", j), 0.0)
        a[j] = ACTIVATIONS[net.activations[j - 1]](u[j]) + taps.get(("a", j), 0.0)
        skip = net.skips[j - 1]
        z[j] = (a[j] + z[skip] if skip else a[j]) + taps.get(("z", j), 0.0)
    return LOSSES[net.loss](Y, z[net.J]), z, u, a


def _targets(net: Net, rng, n: int):
    d = net.widths[-1]
    if net.loss == "cross_entropy":  # probability vectors: the loss's domain
        return rng.dirichlet(np.ones(d), size=n).T
    if net.loss == "binary_cross_entropy":
        return rng.uniform(0.05, 0.95, size=(d, n))
    return rng.normal(size=(d, n))


def _strict_hadamard(*xs):
    shape = np.shape(xs[0])
    if any(np.shape(x) != shape for x in xs):
        raise ValueError(f"Hadamard product of shapes {[np.shape(x) for x in xs]}")
    out = xs[0]
    for x in xs[1:]:
        out = out * x
    return out


def had(*xs):
    """The Hadamard product ∘ of equally shaped arrays (no NumPy broadcasting)."""
    return _strict_hadamard(*xs)


def diag(v):
    """diag(v) of a column vector."""
    return np.diagflat(v)


def ones(n: int):
    return np.ones((n, 1))


@dataclass
class Point:
    """One random point: parameters, data, every quantity of the forward pass and every adjoint,
    per sample (N = 1; lower-case names) or for a batch (upper-case names)."""

    net: Net
    batch: bool
    W: dict
    b: dict
    N: int
    z: dict = field(default_factory=dict)
    u: dict = field(default_factory=dict)
    a: dict = field(default_factory=dict)
    y: object = None
    d: dict = field(default_factory=dict)  # δ_j (Δ_j in batch form)
    zeta: dict = field(default_factory=dict)  # ∂f/∂z_j of one sample (𝒵_j-like columns in batch)
    s: dict = field(default_factory=dict)  # σ'_j(u_j) entry-wise (Σ'_j in batch form)
    dW: dict = field(default_factory=dict)  # ∂f/∂W_j (batch loss in batch form)
    db: dict = field(default_factory=dict)

    # batch-form aliases, so that a lambda reads like its claim
    @property
    def Z(self):
        return self.z

    @property
    def U(self):
        return self.u

    @property
    def A(self):
        return self.a

    @property
    def Y(self):
        return self.y

    @property
    def D(self):
        return self.d

    @property
    def S(self):
        return self.s

    def col(self, x, i: int):
        """Sample i's column of a batch array."""
        return x[:, [i]]

    def vjp(self, row, out: tuple, wrt: tuple):
        """row · ∂out/∂wrt, the vector–Jacobian product a chain's step stands for: out is
        ("z" | "u" | "a", j), wrt ("W" | "b", k) or ("z" | "u" | "a", k), through the forward pass."""
        X, Y = self.z[0], self.y

        def through(value):
            W, b, taps = dict(self.W), dict(self.b), {}
            if wrt[0] == "W":
                W[wrt[1]] = value
            elif wrt[0] == "b":
                b[wrt[1]] = value
            else:
                taps[wrt] = value
            _, z, u, a = forward(self.net, W, b, X, Y, taps)
            return anp.sum(row * {"z": z, "u": u, "a": a}[out[0]][out[1]])

        start = self.W[wrt[1]] if wrt[0] == "W" else self.b[wrt[1]] if wrt[0] == "b" else None
        if start is None:
            start = np.zeros_like({"z": self.z, "u": self.u, "a": self.a}[wrt[0]][wrt[1]])
        return grad(through)(start)


@cache
def point(name: str, seed: int, batch: bool) -> Point:
    """A random point of spec `name`: everything a claim can name, from autograd."""
    with warnings.catch_warnings():  # autograd warns on constant gradients (identity, no bias)
        warnings.filterwarnings("ignore", "Output seems independent of input")
        return _point(name, seed, batch)


def _point(name: str, seed: int, batch: bool) -> Point:
    net = load_net(name)
    rng = np.random.default_rng(seed)
    n = N_SAMPLES if batch else 1
    W = {j: rng.normal(size=(net.widths[j], net.widths[j - 1])) for j in range(1, net.J + 1)}
    b = {j: rng.normal(size=(net.widths[j], 1)) for j in range(1, net.J + 1)}
    X, Y = rng.normal(size=(net.widths[0], n)), _targets(net, rng, n)
    _, z, u, a = forward(net, W, b, X, Y, {})
    p = Point(net, batch, W, b, n, dict(z), dict(u), dict(a), Y)

    def adjoint(kind, j):
        return grad(lambda t: anp.sum(forward(net, W, b, X, Y, {(kind, j): t})[0]))(
            np.zeros_like({"z": z, "u": u, "a": a}[kind][j])
        )

    def batch_loss(W_, b_):
        total = anp.sum(forward(net, W_, b_, X, Y, {})[0])
        return total / n if net.mean else total

    for j in range(1, net.J + 1):
        p.d[j] = adjoint("u", j)
        p.zeta[j] = adjoint("z", j)
        act = ACTIVATIONS[net.activations[j - 1]]
        p.s[j] = None if net.activations[j - 1] == "softmax" else elementwise_grad(act)(u[j])
        p.dW[j] = grad(lambda w, j=j: batch_loss({**W, j: w}, b))(W[j])
        p.db[j] = grad(lambda v, j=j: batch_loss(W, {**b, j: v}))(b[j])
    p.zeta[0] = adjoint("z", 0)
    return p


LEFT = {
    "delta": lambda p, j: p.d[j],
    "dz": lambda p, j: p.zeta[j],
    "dW": lambda p, j: p.dW[j],
    "db": lambda p, j: p.db[j],
}


def truth(name: str, lhs: tuple, rhs, batch: bool, seeds=(1, 2, 3)) -> bool | None:
    """Whether lhs = rhs at every random point (True), clearly not at one (False), or neither
    (None: a corpus entry to fix). A right side that cannot be formed (shapes) is false."""
    verdicts = []
    for seed in seeds:
        p = point(name, seed, batch)
        left = np.asarray(LEFT[lhs[0]](p, lhs[1]), dtype=float)
        try:
            right = np.asarray(rhs(p), dtype=float)
        except ValueError:
            return False
        if right.shape != left.shape:
            return False
        gap = np.max(np.abs(left - right)) / (1.0 + np.max(np.abs(left)))
        verdicts.append(True if gap < 1e-9 else False if gap > 1e-5 else None)
    if None in verdicts:
        return None
    return all(verdicts)
