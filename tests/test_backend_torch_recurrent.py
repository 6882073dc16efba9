"""The PyTorch backend's recurrent layers (`symbp generate --backend torch` with type = "rnn",
"lstm", "gru"): the emitted BPTT against torch.autograd through PyTorch's own nn.RNN, nn.LSTM
and nn.GRU loaded with the same weights (written here, no symbp formula), against
torch.autograd.gradcheck of DerivedObjective, against the NumPy module's gradients; truncated
BPTT against the nn layers run window by window with detached states; bad sequence shapes;
training."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import symbp
from symbp.output.module import module_source
from symbp.proof.check import load_module
from symbp.spec.model import from_dict

from . import rnn_oracle
from .conftest import ROOT, module_for
from .test_recurrent import _spec, family, family_spec

torch = pytest.importorskip(
    "torch", reason="the torch backend's tests need PyTorch (pip install 'symbp[torch]')"
)

_MODULES: dict = {}


@pytest.fixture(autouse=True)
def _one_thread():
    """Each test on one intra-op thread (restored after): the tensors here are tiny, and on a
    loaded machine torch's thread pool turns a 16 x 4 product into milliseconds of waiting."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def torch_module(spec: symbp.Spec):
    """The torch module emitted for `spec`, imported (cached per spec)."""
    if spec not in _MODULES:
        source = module_source(spec, "symbp generate --backend torch", "torch")
        _MODULES[spec] = load_module(source, f"{spec.name}_torch_{len(_MODULES)}")
    return _MODULES[spec]


def sequences(spec: symbp.Spec, T: int, n: int, seed: int = 0):
    """X (T, d_0, N) normal and Y as the loss reads it ((T, d_J, N) for a sequence output, else
    (d_J, N); probability columns for cross-entropy), float64 tensors."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((T, spec.widths[0], n))
    shape = (T, spec.widths[-1], n) if spec.sequences[-1] else (spec.widths[-1], n)
    if spec.loss == "cross_entropy":
        Y = rng.random(shape) + 0.1
        Y /= Y.sum(axis=-2, keepdims=True)
    else:
        Y = rng.standard_normal(shape)
    return torch.from_numpy(X), torch.from_numpy(Y)


def perturbed(module, seed: int = 1) -> dict:
    """init_params with every entry moved (non-zero biases, so that their gradients count)."""
    generator = torch.Generator().manual_seed(seed)
    params = module.init_params(seed=seed)
    return {
        key: value + 0.3 * torch.randn(value.shape, generator=generator, dtype=value.dtype)
        for key, value in params.items()
    }


def assert_close(got: dict, want: dict, rtol: float) -> None:
    assert got.keys() == want.keys()
    for key in want:
        g = np.asarray(got[key].detach() if hasattr(got[key], "detach") else got[key])
        w = np.asarray(want[key].detach() if hasattr(want[key], "detach") else want[key])
        assert g.shape == w.shape, key
        error, scale = np.linalg.norm(g - w), np.linalg.norm(w)
        assert error <= rtol * scale + 1e-15, (key, error, scale)


# the oracle: PyTorch's own recurrent layers, the dense head and the loss written here


def nn_layer(spec: symbp.Spec, params: dict):
    """nn.RNN / nn.LSTM / nn.GRU holding the spec's first layer's weights: weight_ih_l0 = W_xh,
    weight_hh_l0 = W_hh, bias_ih_l0 = b, bias_hh_l0 = b_hh (the GRU's) or 0 (symbp's Elman and
    LSTM cells have one bias)."""
    first = spec.layers[0]
    d, H = spec.widths[0], first.units
    options = {"nonlinearity": first.activation_name} if first.kind == "rnn" else {}
    kind = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[first.kind]
    layer = kind(d, H, bias=first.bias, dtype=torch.float64, **options)
    with torch.no_grad():
        layer.weight_ih_l0.copy_(params["Wxh1"])
        layer.weight_hh_l0.copy_(params["Whh1"])
        if first.bias:
            layer.bias_ih_l0.copy_(params["b1"][:, 0])
            hidden = params["bhh1"][:, 0] if first.kind == "gru" else 0.0
            layer.bias_hh_l0.copy_(torch.as_tensor(hidden, dtype=torch.float64))
    return layer


def nn_hidden(spec: symbp.Spec, layer, X):
    """h_1 .. h_T as (T, H, N) from the nn layer (input (T, N, d)); with truncated BPTT the layer
    runs window by window (k steps), each window's initial state detached: no gradient
    crosses into the window before."""
    window = spec.layers[0].truncate or X.shape[0]
    state, outputs = None, []
    for start in range(0, X.shape[0], window):
        if state is not None:
            state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        out, state = layer(X[start : start + window].permute(0, 2, 1), state)
        outputs.append(out)
    return torch.cat(outputs).permute(0, 2, 1)


def nn_objective(spec: symbp.Spec, layer, head: dict, X, Y):
    """f: the nn layer, the dense head (W2, b2) on every step or the last, the loss summed over
    outputs (and steps), averaged over samples and steps as the spec says."""
    H = nn_hidden(spec, layer, X)
    Z = H if spec.layers[0].output == "sequence" else H[-1]
    U = head["W2"] @ Z + (head["b2"] if "b2" in head else 0.0)
    if spec.loss == "cross_entropy":
        total = -(Y * torch.log_softmax(U, dim=-2)).sum()
    else:
        total = ((Y - U) ** 2).sum()
    if spec.reduction == "mean":
        total = total / X.shape[-1]
    if spec.time_reduction == "mean":
        total = total / X.shape[0]
    return total


def nn_gradients(spec: symbp.Spec, params: dict, X, Y):
    """(f, d f / d param) by torch.autograd through the nn layer, keyed as symbp's params."""
    layer = nn_layer(spec, params)
    head = {k: params[k].detach().clone().requires_grad_() for k in ("W2", "b2") if k in params}
    f = nn_objective(spec, layer, head, X, Y)
    f.backward()
    grads = {"Wxh1": layer.weight_ih_l0.grad, "Whh1": layer.weight_hh_l0.grad}
    if spec.layers[0].bias:
        grads["b1"] = layer.bias_ih_l0.grad[:, None]
        if spec.layers[0].kind == "gru":
            grads["bhh1"] = layer.bias_hh_l0.grad[:, None]
    grads |= {key: value.grad for key, value in head.items()}
    return f, {key: grads[key] for key in params}


KINDS = ["rnn", "lstm", "gru"]
OUTPUTS = ["last", "sequence"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("output", OUTPUTS)
def test_emitted_bptt_equals_autograd_through_pytorchs_own_layers(kind, output):
    spec = _spec(kind, d=3, H=4, output=output)
    module = torch_module(spec)
    X, Y = sequences(spec, T=5, n=4)
    params = perturbed(module)
    f, ours = module.value_and_gradients(params, X, Y)
    value, theirs = nn_gradients(spec, params, X, Y)
    assert math.isclose(float(f), float(value.detach()), rel_tol=1e-12)
    assert_close(ours, theirs, 1e-10)


@pytest.mark.parametrize(
    "options",
    [
        {"kind": "rnn", "activation": "relu", "bias": False},
        {"kind": "lstm", "loss": "cross_entropy", "reduction": "sum"},
        {"kind": "gru", "output": "sequence", "time_reduction": "mean", "bias": False},
        {"kind": "lstm", "output": "sequence", "loss": "cross_entropy"},
    ],
    ids=lambda o: "-".join(str(v) for v in o.values()),
)
def test_losses_reductions_and_biases_equal_pytorchs_layers(options):
    spec = _spec(d=2, H=3, **options)
    module = torch_module(spec)
    X, Y = sequences(spec, T=4, n=3, seed=2)
    params = perturbed(module, seed=3)
    f, ours = module.value_and_gradients(params, X, Y)
    value, theirs = nn_gradients(spec, params, X, Y)
    assert math.isclose(float(f), float(value.detach()), rel_tol=1e-12)
    assert_close(ours, theirs, 1e-10)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("output", OUTPUTS)
def test_derived_objective_passes_gradcheck_and_equals_the_numpy_module(kind, output):
    spec = _spec(kind, d=2, H=3, output=output)
    module = torch_module(spec)
    X, Y = sequences(spec, T=4, n=3, seed=4)
    params = perturbed(module, seed=5)
    leaves = [value.detach().clone().requires_grad_() for value in params.values()]
    assert torch.autograd.gradcheck(lambda *v: module.DerivedObjective.apply(X, Y, *v), leaves)
    ours = module.gradients(params, X, Y)
    arrays = {key: value.numpy() for key, value in params.items()}
    value, numpy_grads = module_for(spec).value_and_gradients(arrays, X.numpy(), Y.numpy())
    assert_close(ours, numpy_grads, 1e-12)
    assert math.isclose(float(module.loss(params, X, Y)), value, rel_tol=1e-13)
    # torch.autograd of the emitted forward (plain tensor operations) agrees too
    values = dict(zip(params, leaves, strict=True))
    f = module._objective(values, X, Y, module._forward(values, X))
    assert_close(ours, dict(zip(params, torch.autograd.grad(f, leaves), strict=True)), 1e-10)


@pytest.mark.parametrize("kind", KINDS)
def test_truncated_bptt_equals_pytorchs_layers_run_window_by_window(kind):
    T = 5
    spec = _spec(kind, d=2, H=3, output="sequence", truncate=2)
    module = torch_module(spec)
    X, Y = sequences(spec, T=T, n=3, seed=6)
    params = perturbed(module, seed=7)
    cut = module.gradients(params, X, Y)
    _, theirs = nn_gradients(spec, params, X, Y)
    assert_close(cut, theirs, 1e-10)
    arrays = {key: value.numpy() for key, value in params.items()}
    assert_close(cut, module_for(spec).gradients(arrays, X.numpy(), Y.numpy()), 1e-12)
    full = torch_module(_spec(kind, d=2, H=3, output="sequence")).gradients(params, X, Y)
    assert not torch.allclose(cut["Whh1"], full["Whh1"])  # the window cut something
    whole = torch_module(_spec(kind, d=2, H=3, output="sequence", truncate=T))
    assert_close(whole.gradients(params, X, Y), full, 1e-14)  # k = T: full BPTT


def test_step_adjoint_norms_equal_the_numpy_modules():
    spec = _spec("lstm", d=2, H=3, output="sequence")
    module = torch_module(spec)
    X, Y = sequences(spec, T=6, n=3, seed=8)
    params = perturbed(module, seed=9)
    ours = module.step_adjoint_norms(params, X, Y)
    arrays = {key: value.numpy() for key, value in params.items()}
    theirs = module_for(spec).step_adjoint_norms(arrays, X.numpy(), Y.numpy())
    assert ours.keys() == theirs.keys() == {1}
    assert ours[1].keys() == theirs[1].keys() == {"delta", "cell"}
    for key in ("delta", "cell"):
        assert ours[1][key].shape == (6,)
        np.testing.assert_allclose(ours[1][key].numpy(), theirs[1][key], rtol=1e-12)


def test_wrong_sequence_shapes_get_a_clear_error():
    spec = _spec("gru", d=2, H=3, output="sequence", steps=4)
    module = torch_module(spec)
    X, Y = sequences(spec, T=4, n=3)
    params = module.init_params()
    cases = [
        (X[0], Y, r"X must be a tensor of shape \(4, 2, N\), got \(2, 3\)"),
        (X[:, :1], Y, r"X must be a tensor of shape \(4, 2, N\), got \(4, 1, 3\)"),
        (X[:3], Y[:3], r"X must be a tensor of shape \(4, 2, N\), got \(3, 2, 3\)"),
        (X, Y[:, :, :2], r"Y must be a tensor of shape \(4, 2, 3\), got \(4, 2, 2\)"),
        (X.numpy(), Y, r"X must be a tensor of shape \(4, 2, N\), got ndarray"),
    ]
    calls = [
        lambda X, Y: module.loss(params, X, Y),
        lambda X, Y: module.gradients(params, X, Y),
        module.Network(params),  # its forward(X, Y): f through DerivedObjective
    ]
    for X_bad, Y_bad, message in cases:
        for call in calls:
            with pytest.raises(ValueError, match=message):
                call(X_bad, Y_bad)
    last = torch_module(_spec("rnn", d=2, H=3))  # Y: a target per sequence
    with pytest.raises(ValueError, match=r"Y must be a tensor of shape \(2, 3\), got \(4, 2, 3\)"):
        last.gradients(last.init_params(), X, Y)


def test_the_emitted_trainer_and_a_torch_optim_loop_lower_the_loss():
    spec = _spec("lstm", d=2, H=4, output="sequence", units_out=1)
    module = torch_module(spec)
    rng = np.random.default_rng(0)  # Y_t = the running mean of the first input: a memory task
    X = torch.from_numpy(rng.standard_normal((6, 2, 32)))
    Y = torch.cumsum(X[:, :1], dim=0) / torch.arange(1, 7, dtype=torch.float64)[:, None, None]
    params = module.init_params(seed=0)
    records = module.train(params, X, Y, epochs=30, optimizer="adam", lr=0.02, batch_size=8)
    assert records[-1]["loss"] < 0.5 * records[0]["loss"], [r["loss"] for r in records[::5]]
    network = module.Network(seed=0)
    optimizer = torch.optim.Adam(network.parameters(), lr=0.02)
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        f = network(X, Y)
        f.backward()
        optimizer.step()
        losses.append(float(f.detach()))
    assert losses[-1] < 0.5 * losses[0], losses[::10]
    assert network.predict(X).shape == (6, 1, 32)


def test_float32_sequences_stay_float32_and_every_device_follows_the_inputs():
    spec = symbp.load_spec(ROOT / "examples" / "lstm_classifier.toml")
    module = torch_module(spec)
    X, Y = sequences(spec, T=5, n=4)
    params = perturbed(module)
    single = {key: value.float() for key, value in params.items()}
    f, grads = module.value_and_gradients(single, X.float(), Y.float())
    assert f.dtype == torch.float32 and all(g.dtype == torch.float32 for g in grads.values())
    assert_close(grads, module.gradients(params, X, Y), 1e-4)
    # the meta device computes shapes only: a tensor the loops made on the CPU would clash
    meta = {key: value.to("meta") for key, value in params.items()}
    f, grads = module.value_and_gradients(meta, X.to("meta"), Y.to("meta"))
    assert f.device.type == "meta" and all(g.device.type == "meta" for g in grads.values())
    assert {k: tuple(g.shape) for k, g in grads.items()} == module.PARAM_SHAPES


@pytest.mark.parametrize("kind", KINDS)
def test_check_gradients_agrees_with_central_differences(kind):
    spec = _spec(kind, d=2, H=2, output="sequence")
    module = torch_module(spec)
    X, Y = sequences(spec, T=3, n=2, seed=10)
    assert module.check_gradients(perturbed(module, seed=11), X, Y) <= 1e-6


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(family)
def test_the_family_matches_autograd_of_an_independent_forward_and_the_numpy_module(case):
    """tests/test_recurrent.py's family (cell, sizes, T, output, bias, loss, reductions,
    truncation, the Elman sigma): the torch module's f and gradients against HIPS autograd
    through tests/rnn_oracle.py's forward and against the NumPy module's."""
    spec = family_spec(case)
    module = torch_module(spec)
    X, Y = sequences(spec, case["T"], 3, seed=12)
    params = perturbed(module, seed=13)
    f, ours = module.value_and_gradients(params, X, Y)
    arrays = {key: value.numpy() for key, value in params.items()}
    Xn, Yn = X.numpy(), Y.numpy()
    assert math.isclose(float(f), rnn_oracle.objective(spec, arrays, Xn, Yn), rel_tol=1e-12)
    assert_close(ours, rnn_oracle.gradients(spec, arrays, Xn, Yn), 1e-10)
    assert_close(ours, module_for(spec).gradients(arrays, Xn, Yn), 1e-12)


STACKS = [
    [
        {"type": "rnn", "units": 3, "output": "sequence"},
        {"type": "lstm", "units": 2, "output": "sequence"},
        {"units": 2, "activation": "identity"},
    ],
    [
        {"type": "gru", "units": 3, "output": "sequence"},
        {"units": 3, "activation": "relu"},
        {"type": "lstm", "units": 2},
        {"units": 2, "activation": "softmax"},
    ],
]


@pytest.mark.parametrize("layers", STACKS, ids=["rnn-lstm", "gru-dense-lstm"])
def test_stacked_layers_pass_gradcheck_and_equal_the_numpy_module(layers):
    """Recurrent layers reading a recurrent layer's (or a dense layer's) every step."""
    loss = "cross_entropy" if layers[-1]["activation"] == "softmax" else "l2"
    spec = from_dict({"name": "stacked", "input": 2, "bias": True, "loss": loss, "layers": layers})
    module = torch_module(spec)
    X, Y = sequences(spec, T=4, n=3, seed=14)
    params = perturbed(module, seed=15)
    leaves = [value.detach().clone().requires_grad_() for value in params.values()]
    assert torch.autograd.gradcheck(lambda *v: module.DerivedObjective.apply(X, Y, *v), leaves)
    arrays = {key: value.numpy() for key, value in params.items()}
    numpy_grads = module_for(spec).gradients(arrays, X.numpy(), Y.numpy())
    assert_close(module.gradients(params, X, Y), numpy_grads, 1e-12)
