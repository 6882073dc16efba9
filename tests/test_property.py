"""Over a hypothesis family of architectures: emitted gradients against central differences
(<= 1e-6) and against HIPS autograd (<= 1e-10), the latter on a forward pass written here
independently of symbp's SymPy formulas."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import grad
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbp.spec import Layer, Spec

from .conftest import module_for

ORACLE = {
    "identity": lambda u: u,
    "sigmoid": lambda u: 1 / (1 + anp.exp(-u)),
    "tanh": anp.tanh,
    "relu": lambda u: anp.where(u > 0, u, 0.0),
    "leaky_relu": lambda u: anp.where(u >= 0, u, 0.01 * u),
    "softplus": lambda u: anp.log1p(anp.exp(u)),
}


@st.composite
def networks(draw):
    depth = draw(st.integers(1, 5))
    layers = tuple(
        Layer(draw(st.integers(1, 6)), draw(st.sampled_from(sorted(ORACLE))), draw(st.booleans()))
        for _ in range(depth)
    )
    reduction = draw(st.sampled_from(["mean", "sum"]))
    return Spec("prop", draw(st.integers(1, 6)), layers, reduction=reduction)


def oracle_loss(spec, params, X, Y):
    Z = X
    for j, layer in enumerate(spec.layers, start=1):
        U = anp.dot(params[f"W{j}"], Z)
        if layer.bias:
            U = U + params[f"b{j}"]
        Z = ORACLE[layer.activation_name](U)
    total = anp.sum((Y - Z) ** 2)
    return total / X.shape[1] if spec.reduction == "mean" else total


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=networks(), seed=st.integers(0, 2**16), samples=st.integers(1, 4))
def test_emitted_gradients_match_finite_differences_and_autograd(spec, seed, samples):
    mod = module_for(spec)
    rng = np.random.default_rng(seed)
    params = mod.init_params(seed=seed)
    for key in params:
        params[key] = params[key] + 0.3 * rng.standard_normal(params[key].shape)
    X = rng.standard_normal((spec.widths[0], samples))
    Y = rng.standard_normal((spec.widths[-1], samples))
    assert mod.check_gradients(params, X, Y) <= 1e-6
    ours = mod.gradients(params, X, Y)
    theirs = grad(lambda p: oracle_loss(spec, p, X, Y))(params)
    assert np.isclose(mod.loss(params, X, Y), oracle_loss(spec, params, X, Y), rtol=1e-12, atol=0)
    for key in params:
        error = np.linalg.norm(ours[key] - theirs[key])
        scale = np.linalg.norm(theirs[key])
        assert error <= 1e-10 * scale or (scale == 0 and error == 0), (key, error, scale)
