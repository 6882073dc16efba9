"""`symbp verify` on the semantics of issue 9 (kinds 1, 3, 4, 6, 8 and speed).

Every expected verdict comes from NumPy, not from symbp: the network is run forward here, δ_j and
∂f/∂(anything) are central differences of f, σ′ is a central difference of σ, and each claim's
right side is written out as NumPy code.  The claim is correct when that code gives the
left side's finite-difference value (a shape that NumPy refuses to combine is wrong)."""

from __future__ import annotations

import re
import time
from fractions import Fraction

import numpy as np
import pytest

import symbp
from symbp.spec.model import Layer, Spec
from symbp.verify.compare import verify

from .conftest import ROOT

LECTURE = symbp.lecture_spec()  # 4-3-3-2, sigmoid, no bias, l2
TANH = Spec("tanh_sig", 3, (Layer(4, "tanh", True), Layer(2, "sigmoid", True)))
SOFTMAX = Spec("soft", 3, (Layer(3, "tanh", True), Layer(3, "softmax", True)), loss="cross_entropy")
ONE_OUT = Spec("one", 2, (Layer(3, "tanh", True), Layer(1, "sigmoid", True)))
BINARY = symbp.load_spec(ROOT / "examples" / "binary_classifier.toml")

ACT = {
    "sigmoid": lambda u: 1 / (1 + np.exp(-u)),
    "tanh": np.tanh,
    "softmax": lambda u: np.exp(u) / np.exp(u).sum(axis=0),
}
H = 1e-6


class Net:
    """One sample through `spec` at a random point, in NumPy; f is the per-sample loss."""

    def __init__(self, spec: Spec, seed: int = 3):
        rng = np.random.default_rng(seed)
        self.spec, widths = spec, spec.widths
        self.acts = [layer.activation for layer in spec.layers]
        self.W = {j: rng.normal(size=(widths[j], widths[j - 1])) for j in range(1, len(widths))}
        self.b = {
            j: rng.normal(size=(widths[j], 1)) if spec.layers[j - 1].bias else 0.0
            for j in range(1, len(widths))
        }
        self.x = rng.normal(size=(widths[0], 1))
        if spec.loss == "l2":
            self.y = rng.normal(size=(widths[-1], 1))
        else:  # a probability vector (cross-entropy) or entries in (0, 1) (BCE)
            y = rng.uniform(0.1, 1, size=(widths[-1], 1))
            self.y = y / y.sum() if spec.loss == "cross_entropy" else y
        self.J = len(widths) - 1

    def forward(self, start=None, value=None, W=None):
        """z_0..z_J and u_1..u_J; `value` replaces u_start ("u", j) or z_start ("z", j)."""
        W = W or self.W
        z, u = {0: self.x}, {}
        if start == ("z", 0):
            z[0] = value
        for j in range(1, self.J + 1):
            u[j] = W[j] @ z[j - 1] + self.b[j]
            if start == ("u", j):
                u[j] = value
            z[j] = ACT[self.acts[j - 1]](u[j])
            if start == ("z", j):
                z[j] = value
        return z, u

    def loss(self, z):
        zJ, y = z[self.J], self.y
        if self.spec.loss == "l2":
            return float(np.sum((zJ - y) ** 2))
        if self.spec.loss == "cross_entropy":
            return float(-np.sum(y * np.log(zJ)))
        return float(-np.sum(y * np.log(zJ) + (1 - y) * np.log(1 - zJ)))

    def d(self, kind: str, j: int) -> np.ndarray:
        """∂f/∂u_j, ∂f/∂z_j or ∂f/∂W_j by central differences."""
        z, u = self.forward()
        base = {"u": u, "z": z, "W": self.W}[kind][j]
        out = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            e = np.zeros_like(base)
            e[idx] = H
            if kind == "W":
                up = self.loss(self.forward(W={**self.W, j: base + e})[0])
                down = self.loss(self.forward(W={**self.W, j: base - e})[0])
            else:
                up = self.loss(self.forward((kind, j), base + e)[0])
                down = self.loss(self.forward((kind, j), base - e)[0])
            out[idx] = (up - down) / (2 * H)
        return out

    def values(self) -> dict:
        z, u = self.forward()
        v = {"y": self.y, "W": self.W}
        v["z"], v["u"] = z, u
        v["delta"] = {j: self.d("u", j) for j in range(1, self.J + 1)}
        v["dz"] = {j: self.d("z", j) for j in range(0, self.J + 1)}
        v["dW"] = {j: self.d("W", j) for j in range(1, self.J + 1)}
        v["ds"] = {  # σ'_j(u_j) by central differences of σ_j
            j: (ACT[self.acts[j - 1]](u[j] + H) - ACT[self.acts[j - 1]](u[j] - H)) / (2 * H)
            for j in range(1, self.J + 1)
            if self.acts[j - 1] != "softmax"
        }
        return v


_VALUES: dict = {}


def numbers(spec: Spec) -> dict:
    if spec.name not in _VALUES:
        _VALUES[spec.name] = Net(spec).values()
    return _VALUES[spec.name]


def expected(spec: Spec, lhs, rhs) -> str:
    """'correct' if the NumPy right side equals the finite-difference left side, else 'wrong'."""
    v = numbers(spec)
    try:
        a, b = lhs(v), rhs(v)
    except ValueError:  # NumPy cannot combine the shapes
        return "wrong"
    if a.shape != b.shape:
        return "wrong"
    return "correct" if np.allclose(a, b, rtol=1e-4, atol=1e-6) else "wrong"


def sig(x):
    return 1 / (1 + np.exp(-x))


T = np.transpose
# (spec, claim, left side in NumPy, right side in NumPy, verdict intended by the author)
CLAIMS = [
    # kind 1: σ′ written through the layer's output
    (LECTURE, r"\delta_3 = 2(z_3 - y) \circ z_3 \circ (1 - z_3)",
     lambda v: v["delta"][3], lambda v: 2 * (v["z"][3] - v["y"]) * v["z"][3] * (1 - v["z"][3]), "correct"),
    (LECTURE, r"\delta_3 = 2(z_3 - y) \circ \sigma_3(u_3) \circ (1 - \sigma_3(u_3))",
     lambda v: v["delta"][3], lambda v: 2 * (v["z"][3] - v["y"]) * sig(v["u"][3]) * (1 - sig(v["u"][3])), "correct"),
    (LECTURE, r"\delta_3 = 2(z_3 - y) \circ z_3 \circ (\mathbf{1} - z_3)",
     lambda v: v["delta"][3], lambda v: 2 * (v["z"][3] - v["y"]) * v["z"][3] * (1 - v["z"][3]), "correct"),
    (LECTURE, r"\delta_1 = (W_2^T \delta_2) \circ z_1 \circ (1 - z_1)",
     lambda v: v["delta"][1], lambda v: (v["W"][2].T @ v["delta"][2]) * v["z"][1] * (1 - v["z"][1]), "correct"),
    (LECTURE, r"\delta_2 = (\mathbf{1} - z_2) \circ z_2 \circ (W_3^T \delta_3)",
     lambda v: v["delta"][2], lambda v: (1 - v["z"][2]) * v["z"][2] * (v["W"][3].T @ v["delta"][3]), "correct"),
    (LECTURE, r"\delta_3 = 2(z_3 - y) \circ z_3 \circ (1 + z_3)",
     lambda v: v["delta"][3], lambda v: 2 * (v["z"][3] - v["y"]) * v["z"][3] * (1 + v["z"][3]), "wrong"),
    (LECTURE, r"\delta_3 = 2(z_3 - y) \circ (1 - z_3)",
     lambda v: v["delta"][3], lambda v: 2 * (v["z"][3] - v["y"]) * (1 - v["z"][3]), "wrong"),
    (LECTURE, r"\delta_3 = (z_3 - y) \circ z_3 \circ (1 - z_3)",
     lambda v: v["delta"][3], lambda v: (v["z"][3] - v["y"]) * v["z"][3] * (1 - v["z"][3]), "wrong"),
    (LECTURE, r"\delta_1 = (W_2^T \delta_2) \circ z_2 \circ (1 - z_2)",
     lambda v: v["delta"][1], lambda v: (v["W"][2].T @ v["delta"][2]) * v["z"][2] * (1 - v["z"][2]), "wrong"),
    (TANH, r"\delta_1 = (W_2^T \delta_2) \circ (1 - z_1 \circ z_1)",
     lambda v: v["delta"][1], lambda v: (v["W"][2].T @ v["delta"][2]) * (1 - v["z"][1] ** 2), "correct"),
    (TANH, r"\delta_1 = (W_2^T \delta_2) \circ (\mathbf{1} - z_1 \circ z_1)",
     lambda v: v["delta"][1], lambda v: (v["W"][2].T @ v["delta"][2]) * (1 - v["z"][1] ** 2), "correct"),
    (TANH, r"\delta_1 = (W_2^T \delta_2) \circ z_1 \circ (1 - z_1)",
     lambda v: v["delta"][1], lambda v: (v["W"][2].T @ v["delta"][2]) * v["z"][1] * (1 - v["z"][1]), "wrong"),
    (TANH, r"\delta_2 = 2(z_2 - y) \circ z_2 \circ (1 - z_2)",
     lambda v: v["delta"][2], lambda v: 2 * (v["z"][2] - v["y"]) * v["z"][2] * (1 - v["z"][2]), "correct"),
    (TANH, r"\delta_2 = 2(z_2 - y) \circ (1 - z_2 \circ z_2)",
     lambda v: v["delta"][2], lambda v: 2 * (v["z"][2] - v["y"]) * (1 - v["z"][2] ** 2), "wrong"),
    # kind 3: ∂f/∂u_j, ∂f/∂z_j, ∂f/∂b_j are vectors, on either side
    (LECTURE, r"\delta_3 = \frac{\partial f}{\partial u_3}",
     lambda v: v["delta"][3], lambda v: v["delta"][3], "correct"),
    (LECTURE, r"\delta_2 = W_3^T \frac{\partial f}{\partial u_3} \circ \sigma'_2",
     lambda v: v["delta"][2], lambda v: (v["W"][3].T @ v["delta"][3]) * v["ds"][2], "correct"),
    (LECTURE, r"\frac{\partial f}{\partial z_2} = W_3^T \frac{\partial f}{\partial u_3}",
     lambda v: v["dz"][2], lambda v: v["W"][3].T @ v["delta"][3], "correct"),
    (LECTURE, r"\frac{\partial f}{\partial u_2} = \frac{\partial f}{\partial z_2}",
     lambda v: v["delta"][2], lambda v: v["dz"][2], "wrong"),
    (LECTURE, r"\delta_3 = \frac{\partial f}{\partial z_3}",
     lambda v: v["delta"][3], lambda v: v["dz"][3], "wrong"),
    (LECTURE, r"\frac{\partial f}{\partial W_2} = \frac{\partial f}{\partial u_2} z_1^T",
     lambda v: v["dW"][2], lambda v: v["delta"][2] @ v["z"][1].T, "correct"),
    (LECTURE, r"\frac{\partial f}{\partial z_0} = W_1^T \frac{\partial f}{\partial u_1}",
     lambda v: v["dz"][0], lambda v: v["W"][1].T @ v["delta"][1], "correct"),
    (TANH, r"\frac{\partial f}{\partial b_1} = \frac{\partial f}{\partial u_1}",
     lambda v: v["delta"][1], lambda v: v["delta"][1], "correct"),
    (TANH, r"\frac{\partial f}{\partial b_2} = \frac{\partial f}{\partial z_2}",
     lambda v: v["delta"][2], lambda v: v["dz"][2], "wrong"),
    # kind 4: the first backprop equation, ∂f/∂z_j ∘ σ′_j in either order
    (LECTURE, r"\delta_3 = \frac{\partial f}{\partial z_3} \circ \sigma'_3",
     lambda v: v["delta"][3], lambda v: v["dz"][3] * v["ds"][3], "correct"),
    (LECTURE, r"\delta_3 = \sigma'_3 \circ \frac{\partial f}{\partial z_3}",
     lambda v: v["delta"][3], lambda v: v["dz"][3] * v["ds"][3], "correct"),
    (LECTURE, r"\delta_1 = \frac{\partial f}{\partial z_1} \circ \sigma'_1",
     lambda v: v["delta"][1], lambda v: v["dz"][1] * v["ds"][1], "correct"),
    (TANH, r"\delta_1 = \frac{\partial f}{\partial z_1} \circ (1 - z_1 \circ z_1)",
     lambda v: v["delta"][1], lambda v: v["dz"][1] * (1 - v["z"][1] ** 2), "correct"),
    (LECTURE, r"\delta_2 = 2 \frac{\partial f}{\partial z_2} \circ \sigma'_2",
     lambda v: v["delta"][2], lambda v: 2 * v["dz"][2] * v["ds"][2], "wrong"),
    (LECTURE, r"\delta_2 = \frac{\partial f}{\partial z_2} \circ \sigma'_3",
     lambda v: v["delta"][2], lambda v: v["dz"][2] * v["ds"][3], "wrong"),
    # kind 6: f' as σ′, a cost named J, L, C or E, softmax(u), δᵀ on the left, division
    (LECTURE, r"\delta_2 = (W_3^T \delta_3) \circ f'(u_2)",
     lambda v: v["delta"][2], lambda v: (v["W"][3].T @ v["delta"][3]) * v["ds"][2], "correct"),
    (LECTURE, r"\delta_2 = (W_3^T \delta_3) \circ f'(u_2) \circ f'(u_2)",
     lambda v: v["delta"][2], lambda v: (v["W"][3].T @ v["delta"][3]) * v["ds"][2] ** 2, "wrong"),
    (LECTURE, r"\frac{\partial J}{\partial W_3} = \delta_3 z_2^T",
     lambda v: v["dW"][3], lambda v: v["delta"][3] @ v["z"][2].T, "correct"),
    (LECTURE, r"\frac{\partial L}{\partial W_2} = \delta_2 z_1^T",
     lambda v: v["dW"][2], lambda v: v["delta"][2] @ v["z"][1].T, "correct"),
    (LECTURE, r"\frac{\partial \mathcal{L}}{\partial W_3} = \delta_3 z_2^T",
     lambda v: v["dW"][3], lambda v: v["delta"][3] @ v["z"][2].T, "correct"),
    (LECTURE, r"\frac{\partial \mathcal{J}}{\partial u_3} = 2(z_3 - y)",
     lambda v: v["delta"][3], lambda v: 2 * (v["z"][3] - v["y"]), "wrong"),
    (LECTURE, r"\frac{\partial C}{\partial z_2} = W_3^T \delta_3",
     lambda v: v["dz"][2], lambda v: v["W"][3].T @ v["delta"][3], "correct"),
    (LECTURE, r"\frac{\partial E}{\partial W_1} = \delta_1 z_1^T",
     lambda v: v["dW"][1], lambda v: v["delta"][1] @ v["z"][1].T, "wrong"),
    (LECTURE, r"\frac{\partial E}{\partial W_3} = \delta_3 z_2^T \circ \frac{\partial J}{\partial W_3}",
     lambda v: v["dW"][3], lambda v: v["delta"][3] @ v["z"][2].T * v["dW"][3], "wrong"),
    (SOFTMAX, r"\delta_2 = \mathrm{softmax}(u_2) - y",
     lambda v: v["delta"][2], lambda v: ACT["softmax"](v["u"][2]) - v["y"], "correct"),
    (SOFTMAX, r"\delta_2 = \mathrm{softmax}(u_2)",
     lambda v: v["delta"][2], lambda v: ACT["softmax"](v["u"][2]), "wrong"),
    (SOFTMAX, r"\delta_2 = y - \mathrm{softmax}(u_2)",
     lambda v: v["delta"][2], lambda v: v["y"] - ACT["softmax"](v["u"][2]), "wrong"),
    (LECTURE, r"\delta_1^T = \delta_2^T W_2 \circ (\sigma'_1)^T",
     lambda v: v["delta"][1].T, lambda v: (v["delta"][2].T @ v["W"][2]) * v["ds"][1].T, "correct"),
    (LECTURE, r"\delta_1^T = \delta_2^T W_2^T \circ (\sigma'_1)^T",
     lambda v: v["delta"][1].T, lambda v: (v["delta"][2].T @ v["W"][2].T) * v["ds"][1].T, "wrong"),
    (LECTURE, r"\delta_3^T = 2(z_3 - y)^T \circ (z_3 \circ (1 - z_3))^T",
     lambda v: v["delta"][3].T, lambda v: 2 * (v["z"][3] - v["y"]).T * (v["z"][3] * (1 - v["z"][3])).T, "correct"),
    (LECTURE, r"\frac{\partial f}{\partial W_3}^T = z_2 \delta_3^T",
     lambda v: v["dW"][3].T, lambda v: v["z"][2] @ v["delta"][3].T, "correct"),
    (LECTURE, r"\frac{\partial f}{\partial z_2}^T = \delta_3^T W_3",
     lambda v: v["dz"][2].T, lambda v: v["delta"][3].T @ v["W"][3], "correct"),
    (LECTURE, r"\frac{\partial f}{\partial z_1}^T = \delta_2^T W_2^T",
     lambda v: v["dz"][1].T, lambda v: v["delta"][2].T @ v["W"][2].T, "wrong"),
    (LECTURE, r"\delta_3 = 2(z_3 - y) \circ \frac{z_3 \circ z_3 \circ (1 - z_3)}{z_3}",
     lambda v: v["delta"][3], lambda v: 2 * (v["z"][3] - v["y"]) * (v["z"][3] ** 2 * (1 - v["z"][3])) / v["z"][3], "correct"),
    (LECTURE, r"\delta_3 = \frac{2(z_3 - y)}{z_3} \circ \sigma'_3",
     lambda v: v["delta"][3], lambda v: 2 * (v["z"][3] - v["y"]) / v["z"][3] * v["ds"][3], "wrong"),
    (LECTURE, r"\frac{\partial f}{\partial W_3} = \frac{2 \delta_3 z_2^T}{2}",
     lambda v: v["dW"][3], lambda v: 2 * v["delta"][3] @ v["z"][2].T / 2, "correct"),
    (LECTURE, r"\frac{\partial f}{\partial W_3} = \frac{\delta_3 z_2^T}{2}",
     lambda v: v["dW"][3], lambda v: v["delta"][3] @ v["z"][2].T / 2, "wrong"),
    # functions applied entry by entry, by name
    (TANH, r"\delta_1 = (W_2^T \delta_2) \circ (1 - \operatorname{tanh}(u_1) \circ \operatorname{tanh}(u_1))",
     lambda v: v["delta"][1], lambda v: (v["W"][2].T @ v["delta"][2]) * (1 - np.tanh(v["u"][1]) ** 2), "correct"),
    (LECTURE, r"\delta_1 = (W_2^T \delta_2) \circ (1 - \operatorname{tanh}(u_1) \circ \operatorname{tanh}(u_1))",
     lambda v: v["delta"][1], lambda v: (v["W"][2].T @ v["delta"][2]) * (1 - np.tanh(v["u"][1]) ** 2), "wrong"),
    (LECTURE, r"\delta_3 = 2(z_3 - y) \circ \operatorname{exp}(-u_3) \circ z_3 \circ z_3",
     lambda v: v["delta"][3], lambda v: 2 * (v["z"][3] - v["y"]) * np.exp(-v["u"][3]) * v["z"][3] ** 2, "correct"),
    (LECTURE, r"\delta_3 = 2(z_3 - y) \circ \operatorname{exp}(u_3) \circ z_3 \circ z_3",
     lambda v: v["delta"][3], lambda v: 2 * (v["z"][3] - v["y"]) * np.exp(v["u"][3]) * v["z"][3] ** 2, "wrong"),
    (LECTURE, r"\delta_3 = 2(\operatorname{sigmoid}(u_3) - y) \circ z_3 \circ (1 - z_3)",
     lambda v: v["delta"][3], lambda v: 2 * (sig(v["u"][3]) - v["y"]) * v["z"][3] * (1 - v["z"][3]), "correct"),
    (LECTURE, r"\delta_1 = (W_2^T \delta_2) \circ \sigma_2(u_1) \circ (1 - \sigma_2(u_1))",
     lambda v: v["delta"][1], lambda v: (v["W"][2].T @ v["delta"][2]) * sig(v["u"][1]) * (1 - sig(v["u"][1])), "correct"),
    # kind 8's examples: wrong, with a repair that the table shows correct
    (LECTURE, r"\delta_1 = (W_2 \delta_2) \circ \sigma'_1",
     lambda v: v["delta"][1], lambda v: (v["W"][2] @ v["delta"][2]) * v["ds"][1], "wrong"),
    (LECTURE, r"\delta_1 = (W_2^T \delta_2) \circ \sigma'_1",
     lambda v: v["delta"][1], lambda v: (v["W"][2].T @ v["delta"][2]) * v["ds"][1], "correct"),
    (LECTURE, r"\delta_2 = (W_3^T \delta_3) \circ \sigma'_3",
     lambda v: v["delta"][2], lambda v: (v["W"][3].T @ v["delta"][3]) * v["ds"][3], "wrong"),
    (LECTURE, r"\frac{\partial f}{\partial W_3} = \delta_3 z_1^T",
     lambda v: v["dW"][3], lambda v: v["delta"][3] @ v["z"][1].T, "wrong"),
    (ONE_OUT, r"\delta_2 = 2(z_2 - y) \circ z_2",
     lambda v: v["delta"][2], lambda v: 2 * (v["z"][2] - v["y"]) * v["z"][2], "wrong"),
    (ONE_OUT, r"\delta_2 = 4(z_2 - y) \circ \sigma'_2",
     lambda v: v["delta"][2], lambda v: 4 * (v["z"][2] - v["y"]) * v["ds"][2], "wrong"),
    (ONE_OUT, r"\delta_2 = 2(z_2 - y) \circ z_2 \circ (1 - z_2)",
     lambda v: v["delta"][2], lambda v: 2 * (v["z"][2] - v["y"]) * v["z"][2] * (1 - v["z"][2]), "correct"),
    (BINARY, r"\delta_2 = z_2 - y",
     lambda v: v["delta"][2], lambda v: v["z"][2] - v["y"], "correct"),
    (BINARY, r"\delta_2 = (z_2 - y) \circ z_2 \circ (1 - z_2)",
     lambda v: v["delta"][2], lambda v: (v["z"][2] - v["y"]) * v["z"][2] * (1 - v["z"][2]), "wrong"),
]  # fmt: skip


@pytest.mark.parametrize(
    "spec, claim, lhs, rhs, intended", CLAIMS, ids=[f"{i}" for i in range(len(CLAIMS))]
)
def test_verdict_agrees_with_finite_differences(spec, claim, lhs, rhs, intended):
    truth = expected(spec, lhs, rhs)
    assert truth == intended, "the NumPy transcription of the claim disagrees with its author"
    verdict = verify(spec, claim)
    assert verdict.status == truth, verdict.message
    assert "factor 1 " not in verdict.message and "factor 1)" not in verdict.message
    assert len(verdict.message) < 600  # short: no long exact matrices


def test_the_corpus_has_both_verdicts():
    intended = [c[-1] for c in CLAIMS]
    assert intended.count("correct") >= 20 and intended.count("wrong") >= 20


def _entry(message: str) -> tuple[float, float]:
    m = re.search(r"of the claim is (\S+) but the derivation gives (\S+?)(?: \(|;|$)", message)
    return float(m[1]), float(m[2])


@pytest.mark.parametrize(
    "spec, claim",
    [(s, c) for s, c, _, _, intended in CLAIMS if intended == "wrong"],
)
def test_a_counterexample_shows_numbers_that_differ(spec, claim):
    message = verify(spec, claim).message
    if "counterexample" in message:
        claimed, derived = _entry(message)
        assert abs(claimed - derived) > 1e-9 * max(1, abs(derived))


def test_sigma_prime_through_the_output_is_proved_not_guessed():
    message = verify(LECTURE, r"\delta_3 = 2(z_3 - y) \circ z_3 \circ (1 - z_3)").message
    assert "by expansion" in message and "through their outputs" in message


def test_a_factor_hint_needs_one_ratio_at_every_draw():
    """One output unit: any difference is a 1×1 ratio at one point; only a true constant
    multiple (4 (z - y) for 2 (z - y), a factor 2) may be called one."""
    not_a_factor = verify(ONE_OUT, r"\delta_2 = 2(z_2 - y) \circ z_2").message
    assert "factor" not in not_a_factor and "counterexample" in not_a_factor
    factor = verify(ONE_OUT, r"\delta_2 = 4(z_2 - y) \circ \sigma'_2").message
    assert "off by a factor 2 " in factor
    sign = verify(SOFTMAX, r"\delta_2 = y - \mathrm{softmax}(u_2)").message
    assert "sign error" in sign


def _point_matrix(point: str, name: str) -> np.ndarray:
    body = re.search(rf"\b{name} = (\[\[.*?\]\])", point)[1]
    rows = re.findall(r"\[([^\[\]]*)\]", body)
    return np.array([[float(Fraction(x)) for x in row.split(", ")] for row in rows])


@pytest.mark.parametrize(
    "spec, claim",
    [
        (BINARY, r"\delta_2 = (z_2 - y) \circ z_2 \circ (1 - z_2)"),
        (BINARY, r"\delta_2 = 2(z_2 - y)"),
        (SOFTMAX, r"\delta_2 = \mathrm{softmax}(u_2)"),
        (SOFTMAX, r"\delta_2 = 3(z_2 - y)"),
    ],
)
def test_counterexample_targets_come_from_the_loss_domain(spec, claim):
    verdict = verify(spec, claim)
    message = verdict.message
    assert "counterexample" in message
    y = _point_matrix(verdict.point, "y")
    assert ((0 <= y) & (y <= 1)).all(), message
    if spec.loss == "cross_entropy":
        assert np.allclose(y.sum(axis=0), 1)


@pytest.mark.parametrize(
    "spec, claim, repair",
    [
        (LECTURE, r"\delta_1 = (W_2 \delta_2) \circ \sigma'_1", "(W₂ᵀ δ₂) ∘ σ′₁"),
        (LECTURE, r"\delta_2 = (W_3^T \delta_3) \circ \sigma'_3", "(W₃ᵀ δ₃) ∘ σ′₂"),
        (LECTURE, r"\frac{\partial f}{\partial W_3} = \delta_3 z_1^T", "δ₃ z₂ᵀ"),
        (LECTURE, r"\delta_3 = 2(z_3 - y) \circ \sigma'_2", "∘ σ′₃"),
        (TANH, r"\delta_1 = (W_2 \circ \delta_2) \circ \sigma'_1", None),
    ],
)
def test_did_you_mean_names_a_repair_that_is_correct(spec, claim, repair):
    verdict = verify(spec, claim)
    assert verdict.status == "wrong"
    if repair is None:  # W_2 ∘ δ_2: 2×4 by 2×1, no one-edit repair of this kind gives δ_1
        assert "did you mean δ" not in verdict.message
        return
    assert "did you mean" in verdict.message and repair in verdict.message, verdict.message
    suggested = verdict.message.split("did you mean ")[1].split("?")[0]
    assert verify(spec, _as_claim(suggested)).status == "correct"


def _as_claim(shown: str) -> str:
    """symbp's text form of a claim, back to the claim grammar (for the repair round trip)."""
    out = (
        shown.replace("−", "-")
        .replace("δ", r"\delta_")
        .replace("σ′", r"\sigma'_")
        .replace("∘", r"\circ")
    )
    out = out.replace("ᵀ", "^T").replace("∂f/∂W", r"\frac{\partial f}{\partial W_")
    for small, digit in zip("₀₁₂₃₄", "01234", strict=True):
        out = out.replace(small, digit)
    out = re.sub(r"(\\partial W_\d)", r"\1}", out)
    return out.replace("W", "W_").replace("W__", "W_").replace("z", "z_").replace("z__", "z_")


@pytest.mark.parametrize(
    "claim",
    [
        r"\delta_2 = (W_3^T \delta_3) \circ \sigma''_2",
        r"\delta_1 = f z_1",
        r"\delta_2 = (W_3^T \delta_3) \circ \operatorname{ReLU}(u_2)",
        r"\delta_2 = (W_3^T \delta_3) \circ g(u_2)",
    ],
)
def test_unsupported_notation_cannot_be_checked_not_wrong(claim):
    assert verify(LECTURE, claim).status == "unsupported"


def test_tex_without_equations_says_so(tmp_path, symbp_main):
    tex = tmp_path / "empty.tex"
    tex.write_text("\\documentclass{article}\\begin{document}Hello $x = 1$.\\end{document}\n")
    run = symbp_main("verify", "--tex", tex)
    assert run.returncode == 2 and "no equation" in run.stderr and "\n" not in run.stderr.strip()
    assert "--tex FILE" not in run.stderr


GRADIENT_CLAIMS = [
    r"\frac{\partial f}{\partial W_1} = 2(z_3 - y) \frac{\partial z_3}{\partial W_1}",
    r"\frac{\partial f}{\partial W_1} = \frac{\partial f}{\partial z_1} \frac{\partial z_1}{\partial W_1}",
    r"\frac{\partial f}{\partial W_1} = 3(z_3 - y) \frac{\partial z_3}{\partial W_1}",
    r"\frac{\partial f}{\partial z_0} = W_1^T \delta_1",
    r"\delta_1 = (W_2^T \delta_2) \circ z_1 \circ (1 - z_1)",
]


@pytest.mark.parametrize("claim", GRADIENT_CLAIMS)
def test_each_claim_takes_under_two_seconds_of_cpu(claim):
    verify(LECTURE, r"\delta_3 = 2(z_3 - y) \circ \sigma'_3")  # the spec's evaluators, once
    start = time.thread_time()
    verdict = verify(LECTURE, claim)
    assert verdict.status in ("correct", "wrong")
    assert time.thread_time() - start < 2.0


def test_a_claim_true_for_these_activations_only_is_proved_with_them_and_says_so():
    """e^{-u} ∘ σ(u)² is σ′(u) for the sigmoid only; σ_2 = σ_1 here (both sigmoid)."""
    for claim in (
        r"\delta_3 = 2(z_3 - y) \circ \operatorname{exp}(-u_3) \circ z_3 \circ z_3",
        r"\delta_1 = (W_2^T \delta_2) \circ \sigma_2(u_1) \circ (1 - \sigma_2(u_1))",
    ):
        verdict = verify(LECTURE, claim)
        assert verdict.status == "correct" and "spec's own activations (sigmoid" in verdict.message


def test_a_tiny_difference_is_shown_with_the_digits_that_tell_it_apart():
    """Adding 10⁻⁹ to every entry makes the claim wrong; both numbers shown must differ."""
    verdict = verify(LECTURE, r"\delta_3 = 2(z_3 - y) \circ \sigma'_3 + 0.000000001")
    assert verdict.status == "wrong"
    m = re.search(r"of the claim is (\S+) but the derivation gives (\S+)", verdict.message)
    assert m[1] != m[2] and abs(float(m[1]) - float(m[2])) == pytest.approx(1e-9, rel=0.1)


# Δ_j's columns are the samples' δ_j (its definition), so a batch claim has the verdict that
# NumPy gives its per-sample form (the index in CLAIMS).
BATCH = [
    (r"\Delta_3 = 2(Z_3 - Y) \circ Z_3 \circ (\mathbf{1} - Z_3)", 2),
    (r"\Delta_1 = (W_2^T \Delta_2) \circ Z_1 \circ (1 - Z_1)", 3),
    (r"\Delta_1 = (W_2^T \Delta_2) \circ Z_2 \circ (1 - Z_2)", 8),
    (r"\Delta_3 = 2(Z_3 - Y) \circ (1 - Z_3)", 6),
    (r"\Delta_1^T = (\Delta_2^T W_2) \circ (Z_1 \circ (1 - Z_1))^T", 3),
]


@pytest.mark.parametrize("claim, per_sample", BATCH)
def test_batch_claims_agree_with_their_per_sample_form(claim, per_sample):
    spec, sample_claim, lhs, rhs, _ = CLAIMS[per_sample]
    layer = re.compile(r"elta_(\d)")  # the same layer's adjoint on both left sides
    assert spec is LECTURE and layer.search(claim)[1] == layer.search(sample_claim)[1]
    verdict = verify(LECTURE, claim)
    assert verdict.status == expected(LECTURE, lhs, rhs), verdict.message


def test_random_points_avoid_relu_kinks():
    """u_j = 0 is relu's kink, where a finite difference is not relu′ (symbp takes relu′(0) = 0):
    a point with x = 0 is at the kink, and no point the comparison uses is."""
    from symbp.proof.expansion import proof_spec
    from symbp.verify import compare

    spec = proof_spec(Spec("relu", 1, (Layer(2, "relu"), Layer(2, "relu"), Layer(1, "identity"))))
    points = compare._points(spec, False)
    assert len(points) == 3 and not any(at.at_kink() for at in points)
    values = dict(points[0].values)
    values |= {s: 0 for s in values if s.name.startswith("x")}
    assert compare._AtPoint(points[0].ev, values).at_kink()


@pytest.mark.parametrize(
    "claim, status",
    [  # f = (1/N) Σ_i loss_i (the lecture's mean) and Δ_j's column i is ∂loss_i/∂u_j^{(i)}:
        # so ∂f/∂U_j = Δ_j / N, and ∂f/∂W_j = ∂f/∂U_j Z_{j-1}ᵀ by the chain rule
        (r"\Delta_3 = N \frac{\partial f}{\partial U_3}", "correct"),
        (r"\Delta_3 = \frac{\partial f}{\partial U_3}", "wrong"),
        (r"\frac{\partial f}{\partial W_3} = \frac{\partial f}{\partial U_3} Z_2^T", "correct"),
        (r"\frac{\partial f}{\partial W_2} = N \frac{\partial f}{\partial U_2} Z_1^T", "wrong"),
        (
            r"\Delta_2 = N (W_3^T \frac{\partial f}{\partial U_3}) \circ Z_2 \circ (1 - Z_2)",
            "correct",
        ),
    ],
)
def test_batch_gradients_on_the_right_side(claim, status):
    verdict = verify(LECTURE, claim)
    assert verdict.status == status, verdict.message
