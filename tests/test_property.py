"""Over a hypothesis family of architectures (depth 1-5, widths 1-6, every differentiable
activation including a custom softsign, biases, residual connections, the three losses with their
output layers, both reductions): emitted gradients against central differences (<= 1e-6) and against HIPS autograd
(<= 1e-10), the latter on a forward pass written here independently of symbp's SymPy formulas."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import grad
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from symbp.catalog.activations import Activation
from symbp.spec import formula
from symbp.spec.model import Layer, Spec

from .conftest import module_for

SOFTSIGN = Activation("softsign", formula.parse("t/(1 + Abs(t))"), source="t/(1 + Abs(t))")
ORACLE = {
    "softsign": lambda u: u / (1 + anp.abs(u)),
    "identity": lambda u: u,
    "sigmoid": lambda u: 1 / (1 + anp.exp(-u)),
    "tanh": anp.tanh,
    "relu": lambda u: anp.where(u > 0, u, 0.0),
    "leaky_relu": lambda u: anp.where(u >= 0, u, 0.01 * u),
    "softplus": lambda u: anp.log1p(anp.exp(u)),
}


HIDDEN = sorted(ORACLE)
OUTPUTS = {"l2": HIDDEN, "cross_entropy": ["softmax"], "binary_cross_entropy": ["sigmoid"]}


def _layer(units, name, bias, skip_from=None):
    return Layer(units, SOFTSIGN if name == "softsign" else name, bias, skip_from)


@st.composite
def networks(draw):
    depth = draw(st.integers(1, 5))
    loss = draw(st.sampled_from(sorted(OUTPUTS)))
    hidden = [
        _layer(draw(st.integers(1, 6)), draw(st.sampled_from(HIDDEN)), draw(st.booleans()))
        for _ in range(depth - 1)
    ]
    out = _layer(draw(st.integers(1, 6)), draw(st.sampled_from(OUTPUTS[loss])), draw(st.booleans()))
    layers, d0 = [*hidden, out], draw(st.integers(1, 6))
    # residual connections z_j = sigma_j(...) + z_k (k < j - 1), output layer only for l2
    last = depth if loss == "l2" else depth - 1
    for j in draw(st.sets(st.integers(2, max(2, last)), max_size=2)) if last >= 2 else ():
        k = draw(st.integers(0, j - 2))
        width = d0 if k == 0 else layers[k - 1].units
        old = layers[j - 1]
        layers[j - 1] = Layer(width, old.activation, old.bias, skip_from=k)
    reduction = draw(st.sampled_from(["mean", "sum"]))
    return Spec("prop", d0, tuple(layers), loss=loss, reduction=reduction)


def targets(spec, rng, samples):
    d = spec.widths[-1]
    if spec.loss == "cross_entropy":  # probability vectors (soft targets)
        e = rng.random((d, samples))
        return e / e.sum(axis=0)
    if spec.loss == "binary_cross_entropy":
        return rng.random((d, samples))
    return rng.standard_normal((d, samples))


def oracle_loss(spec, params, X, Y):
    Zs = [X]
    for j, layer in enumerate(spec.layers, start=1):
        U = anp.dot(params[f"W{j}"], Zs[-1])
        if layer.bias:
            U = U + params[f"b{j}"]
        name = layer.activation_name
        Z = anp.exp(U) / anp.sum(anp.exp(U), axis=0) if name == "softmax" else ORACLE[name](U)
        Zs.append(Z if layer.skip_from is None else Z + Zs[layer.skip_from])
    # the losses from the output layer's pre-activations U, written to keep full precision
    # (log(1 - z) for z near 1 loses digits): log sigma(u) = -log1p(e^-u), log softmax = u - lse
    if spec.loss == "cross_entropy":
        top = anp.max(U, axis=0)
        total = -anp.sum(Y * (U - top - anp.log(anp.sum(anp.exp(U - top), axis=0))))
    elif spec.loss == "binary_cross_entropy":
        softplus = lambda v: anp.maximum(v, 0) + anp.log1p(anp.exp(-anp.abs(v)))  # noqa: E731
        total = anp.sum(Y * softplus(-U) + (1 - Y) * softplus(U))
    else:
        total = anp.sum((Y - Zs[-1]) ** 2)
    return total / X.shape[1] if spec.reduction == "mean" else total


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=networks(), seed=st.integers(0, 2**16), samples=st.integers(1, 4))
def test_emitted_gradients_match_finite_differences_and_autograd(spec, seed, samples):
    mod = module_for(spec)
    rng = np.random.default_rng(seed)
    params = mod.init_params(seed=seed)
    for key in params:
        params[key] = params[key] + 0.3 * rng.standard_normal(params[key].shape)
    X = rng.standard_normal((spec.widths[0], samples))
    Y = targets(spec, rng, samples)
    ours = mod.gradients(params, X, Y)
    # Central differences (step 1e-5) carry round-off of about 1e-16 |f| / 1e-5 per entry: their
    # relative error means something only for gradients well above that floor.  Smaller ones
    # (near a minimum, or vanishing through saturated layers) are checked by autograd alone.
    floor = 1e-4 * max(1.0, abs(mod.loss(params, X, Y)))
    if min(np.linalg.norm(g) for g in ours.values()) >= floor:
        assert mod.check_gradients(params, X, Y) <= 1e-6
    event(
        "finite differences checked"
        if min(np.linalg.norm(g) for g in ours.values()) >= floor
        else "autograd only (gradient below the FD floor)"
    )
    skips = sum(layer.skip_from is not None for layer in spec.layers)
    event(f"residual connections: {skips}")
    theirs = grad(lambda p: oracle_loss(spec, p, X, Y))(params)
    assert np.isclose(mod.loss(params, X, Y), oracle_loss(spec, params, X, Y), rtol=1e-12, atol=0)
    for key in params:
        error = np.linalg.norm(ours[key] - theirs[key])
        scale = np.linalg.norm(theirs[key])
        # relative 1e-10; the 1e-15 floor only matters for gradients that are zero up to
        # round-off (e.g. a one-unit softmax, whose output is identically 1)
        assert error <= 1e-10 * scale + 1e-15, (key, error, scale)
