"""Vanishing gradients over time: the emitted `step_adjoint_norms` (the norms `_bptt<j>` records
when given `norms=`) against an independent autograd computation of d f / d a_t and d f / d c_t,
the decay of a small-weight tanh Elman network's norms away from the last step, and the lines
`symbp check` prints."""

from __future__ import annotations

import importlib.util

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from symbp.cli import step_norms_table
from symbp.proof.check import StepNorms, sample_problem, step_norms
from symbp.spec.model import from_dict

from .conftest import ROOT, module_for

EXAMPLES = ROOT / "examples"


def _spec(kind: str, output: str, reduction: str = "sum", steps: int = 5, units: int = 3):
    layer = {"type": kind, "units": units, "output": output}
    return from_dict(
        {
            "name": f"{kind}_{output}_{reduction}",
            "input": 2,
            "steps": steps,
            "bias": True,
            "loss": "l2",
            "reduction": reduction,
            "layers": [layer, {"units": 2, "activation": "identity"}],
        }
    )


def _sigmoid(x):
    return 0.5 * (anp.tanh(x / 2) + 1)


def _objective(kind, params, X, Y, every_step, reduction, Ea, Ec):
    """f of one recurrent layer (PyTorch's cells, written out here) and an identity dense layer,
    l2 loss summed over outputs and steps, summed or averaged (`reduction`) over samples, with Ea[t] added to the input projection a_t
    and Ec[t] to the LSTM's cell state c_t: the gradients at Ea = Ec = 0 are d f / d a_t and
    d f / d c_t."""
    W, U, b = params["Wxh1"], params["Whh1"], params["b1"]
    bhh = params.get("bhh1", 0.0)
    T, _, n = X.shape
    H = U.shape[1]
    h, c, total = anp.zeros((H, n)), anp.zeros((H, n)), 0.0
    for t in range(T):
        a, v = anp.dot(W, X[t]) + b + Ea[t], anp.dot(U, h) + bhh
        if kind == "rnn":
            h = anp.tanh(a + v)
        elif kind == "lstm":
            i, f = _sigmoid(a[:H] + v[:H]), _sigmoid(a[H : 2 * H] + v[H : 2 * H])
            g, o = anp.tanh(a[2 * H : 3 * H] + v[2 * H : 3 * H]), _sigmoid(a[3 * H :] + v[3 * H :])
            c = f * c + i * g + Ec[t]
            h = o * anp.tanh(c)
        else:
            r, q = _sigmoid(a[:H] + v[:H]), _sigmoid(a[H : 2 * H] + v[H : 2 * H])
            m = anp.tanh(a[2 * H :] + r * v[2 * H :])
            h = (1 - q) * m + q * h
        if every_step or t == T - 1:
            out = anp.dot(params["W2"], h) + params["b2"]
            total = total + anp.sum(((Y[t] if every_step else Y) - out) ** 2)
    return total / n if reduction == "mean" else total


def _autograd_norms(kind, params, X, Y, every_step, reduction):
    """||d f / d a_t||_F and ||d f / d c_t||_F per step t, by autograd."""
    T, _, n = X.shape
    H = params["Whh1"].shape[1]
    Ea = np.zeros((T, params["Wxh1"].shape[0], n))
    Ec = np.zeros((T, H, n))
    dA, dC = grad(
        lambda ea, ec: _objective(kind, params, X, Y, every_step, reduction, ea, ec), (0, 1)
    )(Ea, Ec)
    return np.linalg.norm(dA, axis=(1, 2)), np.linalg.norm(dC, axis=(1, 2))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("output", ["last", "sequence"])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_recorded_norms_are_the_norms_of_autograds_step_adjoints(kind, output, reduction):
    spec = _spec(kind, output, reduction)
    module = module_for(spec)
    params, X, Y = sample_problem(spec, module, samples=4, seed=1)
    norms = module.step_adjoint_norms(params, X, Y)
    delta, cell = _autograd_norms(kind, params, X, Y, output == "sequence", reduction)
    # Delta_j holds each sample's own adjoint: a mean's 1/N is applied later, in the gradients
    scale = X.shape[2] if reduction == "mean" else 1
    assert set(norms) == {1}
    np.testing.assert_allclose(norms[1]["delta"], delta * scale, rtol=1e-10, atol=1e-14)
    if kind == "lstm":
        np.testing.assert_allclose(norms[1]["cell"], cell * scale, rtol=1e-10, atol=1e-14)
    else:
        assert set(norms[1]) == {"delta"}


def test_recorded_norms_are_the_columns_of_the_delta_the_gradients_use():
    """Two stacked layers: each layer's recorded norms are the norms of the step blocks of the
    Delta_j that `_bptt<j>` returns when nothing is recorded, and the Wxh gradient built from those
    blocks is the module's."""
    spec = from_dict(
        {
            "name": "stacked",
            "input": 2,
            "steps": 6,
            "loss": "l2",
            "reduction": "sum",
            "layers": [
                {"type": "lstm", "units": 3, "output": "sequence"},
                {"type": "rnn", "units": 2, "output": "last"},
                {"units": 1, "activation": "identity"},
            ],
        }
    )
    module = module_for(spec)
    params, X, Y = sample_problem(spec, module, samples=3, seed=2)
    norms = module.step_adjoint_norms(params, X, Y)
    T, n = X.shape[0], X.shape[2]
    Z0, _, S1, Z1, _, S2, _, _, Z3 = module._forward(params, X)
    Zeta2 = params["W3"].T @ (2 * (Z3 - Y))
    Delta2 = module._bptt2(Zeta2, S2, params["Whh2"], T)
    Delta1 = module._bptt1(params["Wxh2"].T @ Delta2, S1, params["Whh1"], T)
    for j, Delta in ((1, Delta1), (2, Delta2)):
        blocks = [np.linalg.norm(Delta[:, t * n : (t + 1) * n]) for t in range(T)]
        np.testing.assert_allclose(norms[j]["delta"], blocks, rtol=1e-12)
    grads = module.gradients(params, X, Y)
    np.testing.assert_allclose(Delta1 @ Z0.T, grads["Wxh1"], rtol=1e-10)
    np.testing.assert_allclose(Delta2 @ Z1.T, grads["Wxh2"], rtol=1e-10)
    assert set(norms[1]) == {"delta", "cell"} and set(norms[2]) == {"delta"}


def test_small_weight_tanh_norms_decay_away_from_the_last_step():
    """Loss at the last step only, ||W_hh||_2 = 0.5: delta_t = (W_hhᵀ delta_{t+1}) ∘ tanh'(u_t)
    with tanh' <= 1, so each step back shrinks the norm by at least half."""
    T = 30
    spec = _spec("rnn", "last", steps=T, units=8)
    module = module_for(spec)
    params, X, Y = sample_problem(spec, module, samples=4, seed=3)
    params["Whh1"] *= 0.5 / np.linalg.norm(params["Whh1"], 2)
    delta = module.step_adjoint_norms(params, X, Y)[1]["delta"]
    assert np.all(delta[:-1] < 0.5 * delta[1:] * (1 + 1e-12))
    assert delta[0] <= 0.5 ** (T - 1) * delta[-1] * (1 + 1e-9)
    assert delta[0] > 0  # vanishing, not cut: truncation would make it exactly 0


def test_step_norms_are_the_emitted_norms_at_initialisation_and_check_prints_them():
    spec = _spec("lstm", "last", steps=9)
    module = module_for(spec)
    rows = step_norms(spec, module=module)
    _, X, Y = sample_problem(spec, module)
    expected = module.step_adjoint_norms(module.init_params(seed=0), X, Y)[1]
    assert rows == (StepNorms(1, "lstm", tuple(expected["delta"]), tuple(expected["cell"])),)
    lines = step_norms_table(rows).splitlines()
    assert lines[1].split()[1:] == ["t=1", "t=2", "t=5", "t=8", "t=9"]
    shown = [float(x) for x in lines[3].split()[2:]]
    np.testing.assert_allclose(shown, expected["cell"][[0, 1, 4, 7, 8]], rtol=5e-3)
    assert lines[2].split()[:2] == ["1", "||delta_t||_F"]


def test_no_step_norms_without_a_recurrent_layer():
    spec = from_dict({"name": "mlp", "input": 2, "layers": [{"units": 1}]})
    assert step_norms(spec) == ()


def test_the_vanishing_rnn_picture_tells_what_the_readme_says():
    """examples/vanishing_rnn.py: from the loss at t = T = 50 only, the halved Elman network's
    adjoint vanishes and the tripled one's explodes; the LSTM's vanishes at initialisation
    (forget gate about 1/2) and is carried back by a forget gate near 1 (bias 3)."""
    found = importlib.util.spec_from_file_location("vanishing_rnn", EXAMPLES / "vanishing_rnn.py")
    script = importlib.util.module_from_spec(found)
    found.loader.exec_module(script)
    curves = dict(script.step_norms())
    ratio = {label: norms["delta"][0] / norms["delta"][-1] for label, norms in curves.items()}
    assert ratio["Elman, W_hh x 0.5"] < 1e-10
    assert ratio["Elman, W_hh x 3"] > 1e3
    assert 1e-5 < ratio["Elman, initialisation"] < 1
    lstm = curves["LSTM, initialisation (b_f = 0)"]
    assert lstm["cell"][0] / lstm["cell"][-1] < 1e-5
    carried = curves["LSTM, forget bias b_f = 3"]
    assert carried["cell"][0] / carried["cell"][-1] > 0.1
    assert all(np.all(np.isfinite(norms["delta"])) for norms in curves.values())
