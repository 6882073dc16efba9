"""The jax backend's convolution, pooling and recurrent layers (`symbp generate --backend jax`).

The emitted `jax.custom_vjp` gradients (the derived backward pass: im2col and its fold, the
window maximum's routing to the argmax, BPTT as a reverse `jax.lax.scan`) are compared in
float64 with `jax.grad` of a forward pass written independently here (`lax.conv_general_dilated`
and `lax.reduce_window` for the feature maps; a `lax.scan` of PyTorch's cell equations for the
recurrent layers), with `jax.test_util.check_grads`, and with the NumPy module's gradients.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from symbp.output.module import module_source
from symbp.proof.check import load_module, sample_problem
from symbp.spec.model import Spec, from_dict

from .conftest import module_for
from .test_backend_jax import assert_ruff_clean, run_on_two_devices
from .test_recurrent import _data, _params, family, family_spec

jax = pytest.importorskip(
    "jax", reason="the jax backend's tests need jax (pip install 'symbp[jax]')"
)
jnp = pytest.importorskip("jax.numpy")
from jax import lax  # noqa: E402
from jax.test_util import check_grads  # noqa: E402

TOL = 1e-10


@pytest.fixture(autouse=True)
def float64():
    """Every test in float64 (JAX's default is float32)."""
    with jax.enable_x64(True):
        yield


@cache
def jax_module_for(spec: Spec):
    """The emitted JAX module for `spec`, imported (cached: emission costs a derivation)."""
    return load_module(module_source(spec, "cmd", backend="jax"), f"{spec.name}_jax_layers")


def assert_close(got: dict, want: dict, tol: float = TOL) -> None:
    assert set(got) == set(want)
    for key, g in want.items():
        g = np.asarray(g)
        scale = max(1.0, float(np.abs(g).max()))
        np.testing.assert_allclose(np.asarray(got[key]), g, rtol=tol, atol=tol * scale, err_msg=key)


def as_jax(params, *arrays):
    return ({k: jnp.asarray(v) for k, v in params.items()}, *(jnp.asarray(a) for a in arrays))


def loss_of(U, Y, loss: str, n=None):
    """The objective of the output layer's pre-activations U, summed over the columns (every
    step's, for a sequence) and divided by the n samples (default: a sample per column): l2
    with an identity output, cross-entropy with a softmax one."""
    n = Y.shape[-1] if n is None else n
    if loss == "l2":
        return jnp.sum((U - Y) ** 2) / n
    return -jnp.sum(Y * jax.nn.log_softmax(U, axis=0)) / n


# --- convolution and pooling -----------------------------------------------------------------

#: (spec, and what the independent forward needs: per conv layer its padding (before, after)
#: per axis and whether it wraps around)
CONV_NETS = {
    "conv2d_same_maxpool": (
        {
            "name": "conv2d_same_maxpool",
            "input": [2, 4, 4],
            "loss": "cross_entropy",
            "bias": True,
            "layers": [
                {"type": "conv2d", "channels": 3, "kernel": 3, "padding": "same"},
                {"type": "maxpool2d", "size": 2},
                {"units": 3, "activation": "softmax"},
            ],
        },
        {1: ([(1, 1), (1, 1)], False)},
    ),
    "conv2d_stride_avgpool_same": (
        {
            "name": "conv2d_stride_avgpool_same",
            "input": [1, 9, 9],
            "bias": True,
            "layers": [
                {"type": "conv2d", "channels": 2, "kernel": [3, 2], "stride": [2, 1]},
                {"type": "avgpool2d", "size": 2},
                {
                    "type": "conv2d",
                    "channels": 2,
                    "kernel": 2,
                    "padding": "same",
                    "activation": "tanh",
                },
                {"units": 2, "activation": "identity"},
            ],
        },
        {1: ([(0, 0), (0, 0)], False), 3: ([(0, 1), (0, 1)], False)},
    ),
    "conv1d_circular_maxpool": (
        {
            "name": "conv1d_circular_maxpool",
            "input": [2, 6],
            "bias": True,
            "layers": [
                {"type": "conv1d", "channels": 2, "kernel": 3, "padding": "circular"},
                {"type": "maxpool1d", "size": 2},
                {"units": 2, "activation": "identity"},
            ],
        },
        {1: ([(1, 1)], True)},
    ),
}


def conv_spec(name: str) -> Spec:
    return from_dict(CONV_NETS[name][0])


def conv_forward(spec: Spec, pads: dict, params, X):
    """The network's output pre-activations, written with lax: feature maps (N, C, *grid)."""
    z = X.reshape(*spec.shapes[0], -1)
    z = jnp.moveaxis(z, -1, 0)  # (N, C, *grid)
    for j, layer in enumerate(spec.layers, start=1):
        dims = z.ndim - 2
        if layer.kind.startswith("conv"):
            padding, circular = pads[j]
            if circular:
                z = jnp.pad(z, [(0, 0), (0, 0), *padding], mode="wrap")
                padding = [(0, 0)] * dims
            spatial = "HW"[:dims] if dims == 2 else "H"
            numbers = (f"NC{spatial}", f"OI{spatial}", f"NC{spatial}")
            u = lax.conv_general_dilated(
                z, params[f"K{j}"], layer.stride, padding, dimension_numbers=numbers
            )
            u = u + params[f"b{j}"].reshape(1, -1, *(1,) * dims)
            z = jax.nn.relu(u) if layer.activation_name == "relu" else jnp.tanh(u)
        elif layer.kind.startswith(("maxpool", "avgpool")):
            window = (1, 1, *layer.size)
            if layer.kind.startswith("max"):
                z = lax.reduce_window(z, -jnp.inf, lax.max, window, window, "VALID")
            else:
                z = lax.reduce_window(z, 0.0, lax.add, window, window, "VALID") / np.prod(
                    layer.size
                )
        else:  # dense on the flattened map, channel-major
            flat = jnp.moveaxis(z, 0, -1).reshape(-1, z.shape[0])
            return params[f"W{j}"] @ flat + params[f"b{j}"]
    raise AssertionError("the test's networks end with a dense layer")


def problem(spec: Spec, samples: int = 3, seed: int = 0):
    """float64 params (non-zero biases), X and Y from the loss's domain, as NumPy arrays."""
    return sample_problem(spec, module_for(spec), samples, seed)


@pytest.mark.parametrize("name", sorted(CONV_NETS))
def test_conv_and_pool_gradients_equal_jax_grad_of_a_lax_forward(name):
    spec, pads = conv_spec(name), CONV_NETS[name][1]
    mod = jax_module_for(spec)
    params, X, Y = problem(spec)
    p, x, y = as_jax(params, X, Y)

    def independent(q):
        return loss_of(conv_forward(spec, pads, q, x), y, spec.loss)

    f, derived = mod.value_and_gradients(p, x, y)
    np.testing.assert_allclose(float(f), float(independent(p)), rtol=1e-12)
    assert all(g.dtype == jnp.float64 for g in derived.values())
    assert_close(derived, jax.grad(independent)(p))
    assert_close(derived, module_for(spec).gradients(params, X, Y))
    check_grads(jax.jit(lambda q: mod.objective(q, x, y)), (p,), order=1, modes=["rev"])


def test_max_pooling_routes_each_gradient_to_its_windows_first_maximum():
    """Ties (a window of equal entries) send the whole gradient to the first entry, as the
    NumPy module does: a subgradient, with no entry counted twice."""
    spec = conv_spec("conv2d_same_maxpool")
    mod = jax_module_for(spec)
    A = jnp.ones((3 * 4 * 4, 1))  # layer 2 pools 3 channels of 4 x 4: every window a tie
    M = mod._window_max(A, 2)
    G = jnp.arange(1.0, 13.0).reshape(12, 1)
    routed = np.asarray(mod._route_to_max(G, A, M, 2)).reshape(3, 2, 2, 2, 2)
    np.testing.assert_array_equal(routed[:, :, 0, :, 0], np.asarray(G).reshape(3, 2, 2))
    assert np.count_nonzero(routed) == 12


# --- recurrent layers ------------------------------------------------------------------------


def recurrent_spec(kind: str, output: str, *, truncate=None, steps=3, loss="l2") -> Spec:
    layer = {"type": kind, "units": 3, "output": output}
    if truncate is not None:
        layer["truncate"] = truncate
    readout = {"units": 2, "activation": "softmax" if loss == "cross_entropy" else "identity"}
    name = f"{kind}_{output}_{loss}_{truncate or 0}_{steps}"
    return from_dict(
        {
            "name": name,
            "input": 2,
            "steps": steps,
            "bias": True,
            "loss": loss,
            "layers": [layer, readout],
        }
    )


def cell_step(kind: str, params, h, c, x):
    """One step of PyTorch's cell (torch.nn.RNN with tanh, LSTM, GRU), samples as columns."""
    a = params["Wxh1"] @ x + params["b1"]
    v = params["Whh1"] @ h + params.get("bhh1", 0.0)
    H = h.shape[0]
    if kind == "rnn":
        return jnp.tanh(a + v), c
    if kind == "lstm":
        s = a + v
        i, f, g, o = (s[k * H : (k + 1) * H] for k in range(4))
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        return jax.nn.sigmoid(o) * jnp.tanh(c), c
    r = jax.nn.sigmoid(a[:H] + v[:H])
    z = jax.nn.sigmoid(a[H : 2 * H] + v[H : 2 * H])
    n = jnp.tanh(a[2 * H :] + r * v[2 * H :])
    return (1 - z) * n + z * h, c


def recurrent_forward(spec: Spec, params, X):
    """The readout's pre-activations: (d_J, N) from h_T, or (d_J, T N) from every h_t (the
    steps' columns side by side)."""
    layer = spec.layers[0]
    H, N = layer.units, X.shape[-1]
    zeros = jnp.zeros((H, N), X.dtype)

    def step(state, x):
        h, c = cell_step(layer.kind, params, *state, x)
        return (h, c), h

    (h_T, _), hs = lax.scan(step, (zeros, zeros), X)
    Z = h_T if layer.output == "last" else jnp.moveaxis(hs, 0, 1).reshape(H, -1)
    return params["W2"] @ Z + params["b2"]


def targets_as_columns(spec: Spec, Y):
    return jnp.moveaxis(Y, 0, 1).reshape(Y.shape[1], -1) if Y.ndim == 3 else Y


RECURRENT = [(kind, output) for kind in ("rnn", "lstm", "gru") for output in ("last", "sequence")]


@pytest.mark.parametrize(("kind", "output"), RECURRENT)
def test_bptt_gradients_equal_jax_grad_of_a_scan_and_the_numpy_modules(kind, output):
    spec = recurrent_spec(kind, output)
    mod = jax_module_for(spec)
    params, X, Y = problem(spec)
    p, x, y = as_jax(params, X, Y)

    def independent(q):
        U = recurrent_forward(spec, q, x)
        return loss_of(U, targets_as_columns(spec, y), spec.loss, x.shape[-1])

    f, derived = mod.value_and_gradients(p, x, y)
    np.testing.assert_allclose(float(f), float(independent(p)), rtol=1e-12)
    assert_close(derived, jax.grad(independent)(p))
    assert_close(derived, module_for(spec).gradients(params, X, Y))
    check_grads(jax.jit(lambda q: mod.objective(q, x, y)), (p,), order=1, modes=["rev"])


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(family)
def test_the_derived_bptt_equals_the_numpy_modules_and_jax_grad_over_the_family(case):
    """test_recurrent's family (cell, sizes, T, output, bias, loss, reductions, truncation,
    the Elman activation): the JAX module's gradients equal the NumPy module's (which that file
    checks against an independent oracle), and jax.grad of the emitted forward where the BPTT
    is not truncated within the sequence."""
    spec = family_spec(case)
    numpy_mod, mod = module_for(spec), jax_module_for(spec)
    X, Y = _data(spec, case["T"], 3)
    params = _params(numpy_mod)
    p, x, y = as_jax(params, X, Y)
    f, derived = mod.value_and_gradients(p, x, y)
    want_f, want = numpy_mod.value_and_gradients(params, X, Y)
    np.testing.assert_allclose(float(f), want_f, rtol=1e-12)
    assert_close(derived, want)
    if case["truncate"] is None or case["truncate"] >= case["T"]:
        assert_close(derived, jax.grad(lambda q: mod._value(q, x, y)[0])(p))


def test_a_loss_averaged_over_steps_read_from_the_data_equals_jax_grad():
    """T given at run time by X's shape (no `steps` in the spec), the loss averaged over the
    steps (time_reduction = "mean") and halved: T and the scale reach the derived backward."""
    spec = from_dict(
        {
            "name": "gru_time_mean",
            "input": 2,
            "bias": True,
            "time_reduction": "mean",
            "loss_scale": "1/2",
            "layers": [
                {"type": "gru", "units": 3, "output": "sequence"},
                {"units": 2, "activation": "identity"},
            ],
        }
    )
    mod = jax_module_for(spec)
    params, X, Y = problem(spec)  # T = CHECK_STEPS
    p, x, y = as_jax(params, X, Y)

    def independent(q):
        U = recurrent_forward(spec, q, x)
        return loss_of(U, targets_as_columns(spec, y), spec.loss, x.shape[-1]) / (2 * x.shape[0])

    f, derived = mod.value_and_gradients(p, x, y)
    np.testing.assert_allclose(float(f), float(independent(p)), rtol=1e-12)
    assert_close(derived, jax.grad(independent)(p))
    longer = jnp.concatenate([x, x[:2]]), jnp.concatenate([y, y[:2]])  # T + 2 steps, same module
    assert_close(
        mod.gradients(p, *longer), module_for(spec).gradients(params, *map(np.asarray, longer))
    )


def test_an_lstm_classifier_with_cross_entropy_equals_jax_grad():
    spec = recurrent_spec("lstm", "last", loss="cross_entropy", steps=4)
    mod = jax_module_for(spec)
    params, X, Y = problem(spec, samples=4, seed=3)
    p, x, y = as_jax(params, X, Y)
    derived = mod.gradients(p, x, y)
    assert_close(
        derived, jax.grad(lambda q: loss_of(recurrent_forward(spec, q, x), y, spec.loss))(p)
    )


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_truncated_bptt_with_k_equal_to_t_is_full_bptt(kind):
    full, window = recurrent_spec(kind, "sequence"), recurrent_spec(kind, "sequence", truncate=3)
    params, X, Y = problem(full)
    p, x, y = as_jax(params, X, Y)
    assert_close(jax_module_for(window).gradients(p, x, y), jax_module_for(full).gradients(p, x, y))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_truncated_bptt_cuts_the_carried_adjoints_as_the_numpy_module_does(kind):
    full, cut = (
        recurrent_spec(kind, "sequence", steps=4),
        recurrent_spec(kind, "sequence", truncate=2, steps=4),
    )
    params, X, Y = problem(full)
    p, x, y = as_jax(params, X, Y)
    got = jax_module_for(cut).gradients(p, x, y)
    assert_close(got, module_for(cut).gradients(params, X, Y))
    whole = jax_module_for(full).gradients(p, x, y)
    assert not np.allclose(np.asarray(got["Whh1"]), np.asarray(whole["Whh1"]), rtol=1e-6)


# --- training ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [conv_spec("conv2d_same_maxpool"), recurrent_spec("lstm", "sequence")],
    ids=["conv", "lstm"],
)
def test_the_jitted_sgd_step_lowers_the_loss(spec):
    mod = jax_module_for(spec)
    p, x, y = as_jax(*problem(spec, samples=4))
    before = float(mod.loss(p, x, y))
    after = float(mod.loss(mod.sgd_step(p, x, y, 0.05), x, y))
    assert after < before


def test_training_a_recurrent_network_follows_the_numpy_modules_gd_run():
    spec = recurrent_spec("gru", "sequence")
    mod, numpy_mod = jax_module_for(spec), module_for(spec)
    params, X, Y = problem(spec, samples=4)
    want = {k: v.copy() for k, v in params.items()}
    records = numpy_mod.train(want, X, Y, epochs=3, lr=0.05)
    got, jax_records = mod.train(*as_jax(params, X, Y), epochs=3, lr=0.05)
    assert_close(got, want, 1e-12)
    np.testing.assert_allclose(
        [r["loss"] for r in jax_records], [r["loss"] for r in records], rtol=1e-12
    )
    _, batches = mod.train(*as_jax(params, X, Y), epochs=2, lr=0.05, batch_size=2)
    assert [r["epoch"] for r in batches] == [1, 2] and np.isfinite(batches[-1]["loss"])


SHARDED = """
import sys
import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
sys.path.insert(0, sys.argv[1])
import emitted as mod

devices = jax.devices()
assert len(devices) == 2, devices
rng = np.random.default_rng(0)
X, Y = rng.standard_normal((3, 2, 8)), rng.standard_normal((3, 2, 8))  # (T, d, N)
params = mod.init_params(seed=0)
runs = {}
for name, chosen in (("two", devices), ("one", devices[:1])):
    p, records = mod.train(params, X, Y, epochs=3, lr=0.05, batch_size=4, devices=chosen)
    runs[name] = ({k: np.asarray(v) for k, v in p.items()}, [r["loss"] for r in records])
(two, r2), (one, r1) = runs["two"], runs["one"]
for key in one:
    np.testing.assert_allclose(two[key], one[key], rtol=1e-12, atol=1e-14, err_msg=key)
np.testing.assert_allclose(r2, r1, rtol=1e-12)
assert not np.allclose(one["Whh1"], np.asarray(params["Whh1"]))
print("sharded ok")
"""


def test_a_recurrent_networks_sharded_training_over_two_devices_equals_one_devices(tmp_path):
    """The sequences' samples (their last axis) split over two simulated CPU devices."""
    source = module_source(recurrent_spec("lstm", "sequence"), "cmd", backend="jax")
    run_on_two_devices(tmp_path, source, SHARDED)


# --- the emitted text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        conv_spec("conv2d_same_maxpool"),
        recurrent_spec("lstm", "last", truncate=2),
        recurrent_spec("gru", "sequence"),
    ],
    ids=["conv", "lstm", "gru"],
)
def test_the_emitted_module_is_ruff_clean_and_imports_jax_and_the_standard_library(spec, tmp_path):
    source = module_source(spec, "cmd", backend="jax")
    imports = {
        line.split()[1].split(".")[0]
        for line in source.splitlines()
        if line.startswith(("import ", "from "))
    }
    stdlib = {"argparse", "math", "os", "sys", "time", "functools", "itertools"}
    assert imports <= stdlib | {"jax", "numpy"}, imports  # JAX itself requires NumPy
    path = tmp_path / "emitted.py"
    path.write_text(source)
    assert_ruff_clean(path)


def test_the_recurrent_templates_print_no_formula_of_their_own():
    """The step's formulas in the emitted scan bodies are the derivation's, line for line: the
    forward ops and reverse-pass definitions of `cell_pass` printed by JaxPrinter."""
    from symbp.derivation.bptt import cell_pass
    from symbp.derivation.derive import derive
    from symbp.printing.jax import JaxPrinter
    from symbp.printing.numpy import code

    spec = recurrent_spec("lstm", "last")
    source = module_source(spec, "cmd", backend="jax")
    op = next(o for o in derive(spec).batch.graph.ops if o.kind == "recurrence")
    c = op.attr("info").cell
    for lhs, rhs in [(o.output, o.equation) for o in c.ops] + list(cell_pass(c).definitions):
        assert f"        {lhs.name} = {code(rhs, {}, JaxPrinter)}\n" in source, lhs
