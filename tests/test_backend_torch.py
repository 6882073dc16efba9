"""The PyTorch backend (`symbp generate --backend torch`): the emitted torch.autograd.Function
(dense networks, CNNs, the recurrent examples; more recurrent tests in
tests/test_backend_torch_recurrent.py) against torch.autograd.gradcheck, against torch.autograd of the
emitted forward and (dense) of a forward written here independently, against the NumPy
module's gradients; the nn.Module inside ordinary
torch.optim loops and under DistributedDataParallel (two CPU processes, gloo, loopback); dtype
and device following the inputs; refusals; ruff."""

from __future__ import annotations

import ast
import importlib
import math
import shutil
import socket
import subprocess
import sys
from functools import cache

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symbp
from symbp.catalog.activations import Activation
from symbp.derivation.lecture import frozen_layers
from symbp.output.module import module_source
from symbp.printing.torch import DIRECT
from symbp.proof.check import load_module
from symbp.spec.model import Layer

from .conftest import EXAMPLES, ROOT, module_for
from .test_conv import _spec as cnn_spec
from .test_conv import cnns
from .test_property import networks, targets

torch = pytest.importorskip(
    "torch", reason="the torch backend's tests need PyTorch (pip install 'symbp[torch]')"
)

COMMAND = "symbp generate --backend torch"


@cache
def source(spec: symbp.Spec) -> str:
    """The torch module's text for `spec` (cached: emission costs a derivation)."""
    return module_source(spec, COMMAND, "torch")


@cache
def torch_module(spec: symbp.Spec):
    """The torch module emitted for `spec`, imported (cached: emission costs a derivation)."""
    return load_module(source(spec), f"{spec.name}_torch")


def _emits(path) -> bool:
    """A step (perceptron) is refused; recurrent layers are emitted (their own tests:
    tests/test_backend_torch_recurrent.py)."""
    spec = symbp.load_spec(path)
    return not frozen_layers(spec)


def _dense(path) -> bool:
    return all(layer.kind == "dense" for layer in symbp.load_spec(path).layers)


EMITTED = [p for p in EXAMPLES if _emits(p)]
REFUSED = [p for p in EXAMPLES if not _emits(p)]


def problem(spec: symbp.Spec, module, samples: int = 4, seed: int = 0, steps: int = 3):
    """float64 params (weights perturbed, biases non-zero), X normal, Y from the loss's
    target domain, as torch tensors; for a recurrent network X is (T, d_0, N) with T the
    spec's steps (else `steps`), Y (T, d_J, N) for an output at every step."""
    rng = np.random.default_rng(seed)
    params = module.init_params(seed=seed)
    params = {
        key: value + torch.from_numpy(0.3 * rng.standard_normal(tuple(value.shape)))
        for key, value in params.items()
    }
    if not spec.is_recurrent:
        X = torch.from_numpy(rng.standard_normal((spec.widths[0], samples)))
        return params, X, torch.from_numpy(targets(spec, rng, samples))
    T = spec.steps or steps
    X = torch.from_numpy(rng.standard_normal((T, spec.widths[0], samples)))
    if not spec.sequences[-1]:
        return params, X, torch.from_numpy(targets(spec, rng, samples))
    Y = targets(spec, rng, T * samples).reshape(-1, T, samples).transpose(1, 0, 2)
    return params, X, torch.from_numpy(np.ascontiguousarray(Y))


def leaves(params):
    return [value.detach().clone().requires_grad_() for value in params.values()]


def assert_close(got: dict, want: dict, rtol: float) -> None:
    assert got.keys() == want.keys()
    for key in want:
        g, w = (
            np.asarray(x.detach()) if hasattr(x, "detach") else np.asarray(x)
            for x in (got[key], want[key])
        )
        assert g.shape == w.shape, key
        error, scale = np.linalg.norm(g - w), np.linalg.norm(w)
        assert error <= rtol * scale + 1e-15, (key, error, scale)


def autograd_of_emitted_forward(module, params, X, Y) -> dict:
    """torch.autograd through the emitted module's own forward formulas and objective (its
    `_forward` and `_objective`, plain tensor operations), not through DerivedObjective."""
    values = dict(zip(params, leaves(params), strict=True))
    f = module._objective(values, X, Y, module._forward(values, X))
    grads = torch.autograd.grad(f, list(values.values()))
    return dict(zip(values, grads, strict=True))


ORACLE = {  # each activation written here, independently of symbp's printed formulas
    "softsign": lambda u: u / (1 + u.abs()),
    "identity": lambda u: u,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda u: torch.where(u >= 0, u, 0.01 * u),
    "softplus": lambda u: torch.logaddexp(u, torch.zeros_like(u)),
    "softmax": lambda u: torch.softmax(u, dim=0),
}


def oracle_loss(spec: symbp.Spec, params: dict, X, Y):
    """The spec's objective written here with torch operations (no symbp formula)."""
    Zs, U = [X], None
    for j, layer in enumerate(spec.layers, start=1):
        U = params[f"W{j}"] @ Zs[-1]
        if layer.bias:
            U = U + params[f"b{j}"]
        Z = ORACLE[layer.activation_name](U)
        Zs.append(Z if layer.skip_from is None else Z + Zs[layer.skip_from])
    if spec.loss == "cross_entropy":
        total = -(Y * torch.log_softmax(U, dim=0)).sum()
    elif spec.loss == "binary_cross_entropy":
        total = torch.nn.functional.binary_cross_entropy_with_logits(U, Y, reduction="sum")
    else:
        total = ((Y - Zs[-1]) ** 2).sum()
    total = total / X.shape[1] if spec.reduction == "mean" else total
    for j, decay in enumerate(spec.train.weight_decay or (), start=1):
        total = total + decay * (params[f"W{j}"] ** 2).sum()  # lambda_j ||W_j||_F^2
    return total


def autograd_of_oracle(spec, params, X, Y) -> dict:
    values = dict(zip(params, leaves(params), strict=True))
    grads = torch.autograd.grad(oracle_loss(spec, values, X, Y), list(values.values()))
    return dict(zip(values, grads, strict=True))


def check_against_every_oracle(spec: symbp.Spec, samples: int, seed: int, dense=True) -> None:
    """gradcheck, autograd of the emitted forward, the NumPy module, the incoming gradient;
    and (`dense`) autograd of the forward written here, `oracle_loss`."""
    module = torch_module(spec)
    params, X, Y = problem(spec, module, samples, seed)
    # gradcheck: the derived backward against torch's own finite differences, float64
    apply = lambda *values: module.DerivedObjective.apply(X, Y, *values)  # noqa: E731
    # (at random projections when the Jacobian has many entries: one per parameter entry)
    fast = sum(value.numel() for value in params.values()) > 300
    assert torch.autograd.gradcheck(apply, leaves(params), fast_mode=fast)
    f, ours = module.value_and_gradients(params, X, Y)
    # torch.autograd of the emitted forward, and of the forward written above
    assert_close(ours, autograd_of_emitted_forward(module, params, X, Y), 1e-10)
    if dense:
        assert_close(ours, autograd_of_oracle(spec, params, X, Y), 1e-10)
        assert math.isclose(float(f), float(oracle_loss(spec, params, X, Y)), rel_tol=1e-12)
    # the NumPy module's derived gradients on the same numbers
    numpy_module = module_for(spec)
    arrays = {key: value.numpy() for key, value in params.items()}
    assert_close(ours, numpy_module.gradients(arrays, X.numpy(), Y.numpy()), 1e-12)
    # DerivedObjective's backward is value_and_gradients', times the incoming gradient
    values = leaves(params)
    for seed_gradient in (1.0, -2.5):
        for v in values:
            v.grad = None
        (seed_gradient * module.loss(dict(zip(params, values, strict=True)), X, Y)).backward()
        got = dict(zip(params, (v.grad for v in values), strict=True))
        assert_close(got, {k: seed_gradient * g for k, g in ours.items()}, 1e-14)


@pytest.mark.parametrize("path", EMITTED, ids=lambda p: p.stem)
def test_examples_pass_gradcheck_and_match_autograd_and_numpy(path):
    spec = symbp.load_spec(path)
    check_against_every_oracle(spec, samples=3, seed=1, dense=_dense(path))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=networks(), seed=st.integers(0, 2**16), samples=st.integers(1, 4))
def test_a_family_of_architectures_passes_gradcheck_and_matches_autograd(spec, seed, samples):
    check_against_every_oracle(spec, samples, seed)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=cnns(), seed=st.integers(0, 2**16), samples=st.integers(1, 3))
def test_a_family_of_cnns_passes_gradcheck_and_matches_autograd_and_numpy(data, seed, samples):
    """1-D and 2-D convolutions (channels, kernels, strides, valid/same/circular padding,
    biases) with max or average pooling, as tests/test_conv.py draws them."""
    try:
        spec = cnn_spec(data)
    except symbp.SpecError:
        assume(False)  # a geometry the spec refuses
    check_against_every_oracle(spec, samples, seed, dense=False)


def test_check_gradients_agrees_with_central_differences():
    spec = symbp.load_spec(ROOT / "examples" / "residual.toml")
    module = torch_module(spec)
    params, X, Y = problem(spec, module, samples=5)
    assert module.check_gradients(params, X, Y) <= 1e-6
    assert module.check_gradients({k: v.float() for k, v in params.items()}, X, Y) <= 1e-6


def test_backward_refuses_gradients_for_the_data_and_second_derivatives():
    spec = symbp.load_spec(ROOT / "examples" / "lecture.toml")
    module = torch_module(spec)
    params, X, Y = problem(spec, module)
    with pytest.raises(RuntimeError, match="parameters only"):
        f = module.DerivedObjective.apply(X.requires_grad_(), Y, *leaves(params))
        f.backward()
    values = leaves(params)
    f = module.DerivedObjective.apply(X.detach(), Y, *values)
    (g,) = torch.autograd.grad(f, values[:1], create_graph=True)
    with pytest.raises(RuntimeError):
        g.sum().backward()


# The spellings the torch printer chooses for speed (fewer torch calls per formula): each module
# below must use them, and its derived backward must still equal autograd of the forward
# written independently in this file (`oracle_loss`), gradcheck and the NumPy module.

SPELLED = {  # name -> (spec, calls its module must contain)
    "relu, l2": (
        symbp.Spec(
            "relu_l2",
            5,
            (Layer(6, "relu", True), Layer(4, "relu", True), Layer(3, "identity", True)),
        ),
        ["torch.addmm(b1, W1, Z0)", "torch.ops.aten.threshold_backward(", "* (grad_f * (2.0 / N))"],
    ),
    "sigmoid, binary cross-entropy": (
        symbp.Spec(
            "sigmoid_bce",
            4,
            (Layer(5, "sigmoid", True), Layer(2, "sigmoid", True)),
            loss="binary_cross_entropy",
        ),
        [
            "torch.sigmoid(U1)",
            "torch.logaddexp(U2, U2.new_zeros(()))",
            "(Z2 - Y) * (grad_f",
            "torch.ops.aten.sigmoid_backward(W2.T @ Delta2, Z1)",
        ],
    ),
    "tanh, softmax, cross-entropy": (
        symbp.Spec(
            "softmax_ce",
            4,
            (Layer(6, "tanh", True), Layer(3, "softmax", True)),
            loss="cross_entropy",
        ),
        [
            "torch.softmax(U2, dim=0)",
            "torch.log_softmax(U2, dim=0)",
            "torch.ops.aten.tanh_backward(W2.T @ Delta2, Z1)",
        ],
    ),
}


@pytest.mark.parametrize("name", SPELLED)
def test_the_fast_spellings_are_emitted_and_equal_autograd_of_an_independent_forward(name):
    spec, calls = SPELLED[name]
    text = source(spec)
    for call in calls:
        assert call in text, call
    check_against_every_oracle(spec, samples=5, seed=3)
    # float32 through DerivedObjective: the float literals keep the data's dtype
    module = torch_module(spec)
    params, X, Y = problem(spec, module, samples=5, seed=4)
    values = [value.float().requires_grad_() for value in params.values()]
    module.loss(dict(zip(params, values, strict=True)), X.float(), Y.float()).backward()
    assert all(v.grad.dtype == torch.float32 for v in values)
    want = module.gradients(params, X, Y)
    got = dict(zip(params, (v.grad.double() for v in values), strict=True))
    assert_close(got, want, 1e-4)


def test_the_masked_delta_is_zero_where_the_pre_activation_is_exactly_zero():
    """threshold_backward(G, U, 0) is G * [U > 0]: relu'(0) = 0, as the derivation's Piecewise
    says, where U is exactly 0 (zero biases, a zero column of X); the NumPy module computes
    the same indicator as a comparison, torch's own relu backward also gives 0 there."""
    spec = SPELLED["relu, l2"][0]
    module = torch_module(spec)
    params, X, Y = problem(spec, module, samples=4)
    params = {k: torch.zeros_like(v) if k.startswith("b") else v for k, v in params.items()}
    X[:, 0] = 0.0
    assert (module._forward(params, X)[1][:, 0] == 0).all()  # U1's first column
    values = leaves(params)
    module.loss(dict(zip(params, values, strict=True)), X, Y).backward()
    got = dict(zip(params, (v.grad for v in values), strict=True))
    arrays = {key: value.numpy() for key, value in params.items()}
    assert_close(got, module_for(spec).gradients(arrays, X.numpy(), Y.numpy()), 1e-12)
    assert_close(got, autograd_of_oracle(spec, params, X, Y), 1e-12)


def test_the_output_derivative_kernels_compute_the_derived_products():
    """sigmoid_backward(G, Z) and tanh_backward(G, Z), which the printer emits for the derived
    G ∘ Z ∘ (1 − Z) and G ∘ (1 − Z∘Z), are those products to float64 rounding (a few ulp: the order of the factors differs)."""
    generator = torch.Generator().manual_seed(0)
    G = torch.randn(7, 9, dtype=torch.float64, generator=generator)
    Z = torch.rand(7, 9, dtype=torch.float64, generator=generator) * 2 - 1
    got = torch.ops.aten.sigmoid_backward(G, Z.abs())
    torch.testing.assert_close(got, G * Z.abs() * (1 - Z.abs()), rtol=1e-15, atol=0)
    torch.testing.assert_close(
        torch.ops.aten.tanh_backward(G, Z), G * (1 - Z * Z), rtol=1e-15, atol=0
    )


@pytest.mark.parametrize("formula", list(DIRECT), ids=str)
def test_each_direct_call_is_accurate_on_the_float64_grid(formula):
    """A formula the printer spells as one torch call (`DIRECT`) agrees with SymPy's 50-digit
    value on the grid every printed form is checked on (float64.GRID, RTOL, ATOL)."""
    from symbp.catalog.activations import t
    from symbp.printing.float64 import ATOL, GRID, LARGEST, RTOL, exact_values

    got = eval(DIRECT[formula].format(u="u"), {"torch": torch, "u": torch.from_numpy(GRID)})
    want = exact_values(formula, t, tuple(float(p) for p in GRID))
    for point, g, w in zip(GRID, got.tolist(), want, strict=True):
        if w is not None and abs(w) <= LARGEST:
            assert abs(g - w) <= RTOL * abs(w) + ATOL, (float(point), g, w)


def test_inlined_substitutes_only_an_accepted_definition_read_once():
    from symbp.output.module import inlined

    A, B, C, D, E, F, G = (sp.MatrixSymbol(n, 2, 2) for n in "ABCDEFG")
    lines = [
        (C, sp.HadamardProduct(A, B)),  # read once by E: substituted
        (D, sp.HadamardProduct(B, B)),  # read twice by F: kept
        (E, sp.MatMul(A, C)),  # read twice by F: kept
        (F, sp.MatAdd(D, sp.MatMul(D, E), E)),
        (G, sp.HadamardProduct(A, A)),  # read once, but by a gradient: kept
    ]
    out = inlined(lines, [sp.MatMul(G, F)], lambda rhs: True)
    assert out == [lines[1], (E, sp.MatMul(A, sp.HadamardProduct(A, B))), lines[3], lines[4]]
    assert inlined(lines, [sp.MatMul(G, F)], lambda rhs: False) == lines


@pytest.mark.parametrize("name", ["custom_activation", "digits_cnn"])  # where, clip; im2col
def test_dtype_and_device_follow_the_inputs(name):
    spec = symbp.load_spec(ROOT / "examples" / f"{name}.toml")
    module = torch_module(spec)
    params, X, Y = problem(spec, module)
    single = {key: value.float() for key, value in params.items()}
    f, grads = module.value_and_gradients(single, X.float(), Y.float())
    assert f.dtype == torch.float32 and all(g.dtype == torch.float32 for g in grads.values())
    wide = module.gradients(params, X, Y)
    assert_close(grads, {k: v.float() for k, v in wide.items()}, 1e-5)
    # the meta device computes shapes only: a tensor made on the CPU by the module would clash
    meta = {key: value.to("meta") for key, value in params.items()}
    f, grads = module.value_and_gradients(meta, X.to("meta"), Y.to("meta"))
    assert f.device.type == "meta" and all(g.device.type == "meta" for g in grads.values())
    assert {k: tuple(g.shape) for k, g in grads.items()} == module.PARAM_SHAPES


def test_the_module_holds_the_numpy_modules_params():
    spec = symbp.load_spec(ROOT / "examples" / "weight_decay.toml")
    numpy_params = module_for(spec).init_params()
    network = torch_module(spec).Network()
    names = dict(network.named_parameters())
    assert list(names) == list(numpy_params)
    assert {k: tuple(v.shape) for k, v in names.items()} == {
        k: v.shape for k, v in numpy_params.items()
    }


def _losses_in_a_torch_loop(module, X, Y, optimizer_class, steps, **options):
    torch.manual_seed(0)
    network = module.Network(seed=0)
    optimizer = optimizer_class(network.parameters(), **options)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        f = network(X, Y)
        f.backward()
        optimizer.step()
        losses.append(float(f.detach()))
    return network, losses


@pytest.mark.parametrize(
    ("optimizer_class", "options"),
    [(torch.optim.SGD, {"lr": 0.1}), (torch.optim.Adam, {"lr": 0.01})],
    ids=["SGD", "Adam"],
)
def test_the_module_trains_in_an_ordinary_torch_optim_loop(optimizer_class, options):
    spec = symbp.load_spec(ROOT / "examples" / "weight_decay.toml")
    module = torch_module(spec)
    _, X, Y = problem(spec, module, samples=32)
    _, losses = _losses_in_a_torch_loop(module, X, Y, optimizer_class, 100, **options)
    assert losses[-1] < 0.5 * losses[0], losses[::20]
    assert all(math.isfinite(v) for v in losses)


def test_one_torch_sgd_step_is_the_derived_gradient_step():
    spec = symbp.load_spec(ROOT / "examples" / "softmax_classifier.toml")
    module = torch_module(spec)
    _, X, Y = problem(spec, module, samples=6)
    before = module.init_params(seed=0)
    grads = module.gradients(before, X, Y)
    network, _ = _losses_in_a_torch_loop(module, X, Y, torch.optim.SGD, 1, lr=0.5)
    want = {key: before[key] - 0.5 * grads[key] for key in before}
    assert_close(dict(network.named_parameters()), want, 1e-14)


def test_the_emitted_trainer_lowers_the_loss_with_every_optimizer():
    spec = symbp.load_spec(ROOT / "examples" / "residual.toml")
    module = torch_module(spec)
    _, X, Y = problem(spec, module, samples=16)
    for optimizer in module.OPTIMIZERS:
        params = module.init_params(seed=0)
        records = module.train(params, X, Y, epochs=60, optimizer=optimizer, batch_size=4)
        assert [r["epoch"] for r in records] == list(range(1, 61))
        assert records[-1]["loss"] < records[0]["loss"], optimizer
        assert all(p.dtype == torch.float64 for p in params.values())


def test_the_emitted_adam_matches_torch_optim_adam():
    spec = symbp.load_spec(ROOT / "examples" / "lecture.toml")
    module = torch_module(spec)
    _, X, Y = problem(spec, module, samples=5)
    params = module.init_params(seed=0)
    module.train(params, X, Y, epochs=10, optimizer="adam", lr=0.01)
    network, _ = _losses_in_a_torch_loop(module, X, Y, torch.optim.Adam, 10, lr=0.01)
    assert_close(params, dict(network.named_parameters()), 1e-12)


FORMULAS = [
    "t/(1 + Abs(t))",
    "exp(-t**2) * t",
    "log(1 + exp(t))",
    "sqrt(1 + t**2) - 1",
    "tanh(t) + sinh(t/4) - cosh(t/4)",
    "sin(t) * cos(t)",
    "atan(t) + asinh(t)",
    "t * (1 + erf(t/sqrt(2))) / 2",
    "Max(t, 0) + Min(t, 0)/10",
    "Max(t, 0)**2",
    "Max(t, -1) - Min(t, 1)",
    "pi * t + E",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_custom_activations_and_derivatives_print_for_torch_as_numpy_computes_them(text):
    """Each function a custom activation may use, through the torch printer, evaluated on a
    tensor: equal to the NumPy printer's text on an array (float64), and in the data's dtype
    (float32 stays float32)."""
    from symbp.catalog.activations import derivative, t
    from symbp.graph.nodes import Elementwise
    from symbp.printing.numpy import code
    from symbp.printing.torch import TorchPrinter
    from symbp.spec import formula

    sigma = formula.parse(text)
    U = sp.MatrixSymbol("U1", 2, 9)
    u = np.linspace(-6, 6, 18).reshape(2, 9)
    for expr in (sigma, derivative(Activation("custom", sigma, source=text)).raw):
        node = Elementwise(sp.Lambda(t, expr), U)
        want = eval(code(node, {}), {"np": np, "math": math, "U1": u})
        torch_text = code(node, {}, TorchPrinter)
        assert "np." not in torch_text and "math." not in torch_text, torch_text
        got = eval(torch_text, {"torch": torch, "U1": torch.from_numpy(u)})
        if not expr.has(t):  # a constant (pi's derivative): a number, broadcast where used
            assert got == want, torch_text
            continue
        np.testing.assert_allclose(got.numpy(), np.broadcast_to(want, u.shape), rtol=1e-13)
        single = eval(torch_text, {"torch": torch, "U1": torch.from_numpy(u).float()})
        assert single.dtype == torch.float32, torch_text


# DistributedDataParallel: two CPU processes, gloo on the loopback interface


DDP_STEPS, DDP_LR, DDP_SAMPLES = 3, 0.1, 8

#: The ranks' module (torch and the emitted module only, so that each spawned rank starts
#: fast): each rank trains on its half of the samples of X, Y; DDP averages the ranks'
#: gradients, so with the mean reduction each step is the whole batch's step.
DDP_WORKER = """
import importlib.util
import os

import torch


def load(path):
    spec = importlib.util.spec_from_file_location("emitted", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def worker(rank, world, path, X, Y, out, port, steps, lr):
    os.environ["GLOO_SOCKET_IFNAME"] = "lo"
    torch.distributed.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
    )
    try:
        network = torch.nn.parallel.DistributedDataParallel(load(path).Network(seed=0))
        optimizer = torch.optim.SGD(network.parameters(), lr=lr)
        share = X.shape[-1] // world
        samples = slice(rank * share, (rank + 1) * share)  # the last axis: (d, N) or (T, d, N)
        for _ in range(steps):
            optimizer.zero_grad()
            network(X[..., samples], Y[..., samples]).backward()
            optimizer.step()
        torch.save(dict(network.module.named_parameters()), out.format(rank=rank))
    finally:
        torch.distributed.destroy_process_group()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("name", ["weight_decay", "lstm_classifier"])  # decay; sequences
def test_distributed_data_parallel_equals_one_process_on_the_whole_batch(
    name, tmp_path, monkeypatch
):
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch build has no gloo distributed backend")
    spec = symbp.load_spec(ROOT / "examples" / f"{name}.toml")
    assert spec.reduction == "mean"
    module = torch_module(spec)
    _, X, Y = problem(spec, module, samples=DDP_SAMPLES)
    path = tmp_path / "emitted.py"
    path.write_text(source(spec), encoding="utf-8")
    (tmp_path / "symbp_ddp_worker.py").write_text(DDP_WORKER, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))  # spawned ranks import the worker from there
    worker = importlib.import_module("symbp_ddp_worker")
    out = str(tmp_path / "rank{rank}.pt")
    arguments = (2, str(path), X, Y, out, _free_port(), DDP_STEPS, DDP_LR)
    torch.multiprocessing.spawn(worker.worker, args=arguments, nprocs=2, join=True)
    ranks = [torch.load(out.format(rank=r)) for r in range(2)]
    single, _ = _losses_in_a_torch_loop(module, X, Y, torch.optim.SGD, DDP_STEPS, lr=DDP_LR)
    whole = dict(single.named_parameters())
    for key in whole:
        assert torch.equal(ranks[0][key], ranks[1][key]), key
    assert_close(ranks[0], whole, 1e-12)
    start, key = module.init_params(seed=0), next(iter(module.PARAM_SHAPES))
    assert not torch.allclose(ranks[0][key], start[key])  # the steps moved the weights


# refusals, the command line, the emitted text


@pytest.mark.parametrize("path", REFUSED, ids=lambda p: p.stem)
def test_what_the_backend_cannot_emit_is_refused_in_one_line(path, symbp_main, tmp_path):
    run = symbp_main("generate", path, "-o", tmp_path / "m.py", "--backend", "torch")
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1, run.stderr
    assert "torch backend has no backward pass for a step" in run.stderr and "layer " in run.stderr
    assert not (tmp_path / "m.py").exists()


def test_generate_writes_the_torch_module(symbp_main, tmp_path):
    spec_path = ROOT / "examples" / "lecture.toml"
    run = symbp_main("generate", spec_path, "-o", tmp_path / "m.py", "--backend", "torch")
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "m.py").read_text(encoding="utf-8")
    assert "--backend torch" in text.splitlines()[3]
    assert "class DerivedObjective(torch.autograd.Function)" in text


def _optional_imports(tree) -> set[str]:
    """The modules imported inside a `try` whose handler catches ImportError."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id == "ImportError" for h in node.handlers
        ):
            for x in node.body:
                if isinstance(x, ast.Import):
                    names |= {a.name.split(".")[0] for a in x.names}
                elif isinstance(x, ast.ImportFrom):
                    names.add(x.module.split(".")[0])
    return names


def test_the_emitted_modules_import_only_torch_and_the_standard_library():
    """NumPy (the command line's files) and matplotlib (its plot) only optionally: everything
    else is torch's."""
    for path in EMITTED:
        tree = ast.parse(source(symbp.load_spec(path)))
        names = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        names |= {
            node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        }
        assert names - {"torch"} - _optional_imports(tree) <= set(sys.stdlib_module_names), (
            path.stem,
            names,
        )
        assert _optional_imports(tree) <= {"numpy", "matplotlib"}


_WITHOUT_NUMPY = """
import sys
sys.modules["numpy"] = None  # import numpy raises ImportError, in torch too
import torch
sys.path.insert(0, {folder!r})
import lecture_torch as m
X = torch.randn(4, 8, dtype=torch.float64)
Y = torch.rand(2, 8, dtype=torch.float64)
params = m.init_params(seed=0)
records = m.train(params, X, Y, epochs=3, lr=0.1)
assert records[-1]["loss"] < records[0]["loss"], records
assert m.check_gradients(params, X, Y) < 1e-6
sys.argv = ["lecture_torch.py", "--epochs", "1"]
sys.exit(m.main())
"""


def test_the_module_trains_without_numpy_and_its_command_line_says_what_it_needs(tmp_path):
    """NumPy blocked: the library part (init_params, train, check_gradients) works on torch
    alone; the command line, which reads and writes .npz/.csv files, stops with one line and
    exit status 2."""
    path = next(p for p in EMITTED if p.stem == "lecture")
    (tmp_path / "lecture_torch.py").write_text(source(symbp.load_spec(path)), encoding="utf-8")
    script = _WITHOUT_NUMPY.format(folder=str(tmp_path))
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 2, run.stderr
    lines = [x for x in run.stderr.splitlines() if "error" in x]
    assert lines == [f"lecture_torch.py: error: {lines[0].split('error: ', 1)[1]}"]
    assert "NumPy" in lines[0] and "Traceback" not in run.stderr


def test_the_emitted_modules_are_ruff_clean(tmp_path):
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is a test dependency (pip install -e '.[test]')")
    files = []
    for path in EMITTED:
        target = tmp_path / f"{path.stem}.py"
        target.write_text(source(symbp.load_spec(path)), encoding="utf-8")
        files.append(str(target))
    config = ["--config", str(ROOT / "pyproject.toml")]
    for command in (["check", *config], ["format", "--check", *config]):
        run = subprocess.run([ruff, *command, *files], capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
