"""The JAX backend (`symbp generate --backend jax`): the emitted `objective` is a jax.custom_vjp
function whose backward rule is the derived delta recursion.  Checked against oracles that do
not use that rule: `jax.grad` of the emitted forward pass (JAX's own autodiff of `_value`), the
NumPy module's gradients, central differences (`jax.test_util.check_grads`), the NumPy module's
optimizer updates and training run; data parallelism over two simulated CPU devices in a
subprocess.  float64 through `jax.enable_x64` inside each test (a context, so nothing leaks
into other tests)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symbp
from symbp.catalog.activations import Activation
from symbp.output.module import module_source
from symbp.printing.jax import JaxPrinter
from symbp.proof.check import load_module, sample_problem
from symbp.spec import formula
from symbp.spec.model import Layer, Spec

from .conftest import ROOT, module_for
from .test_backends import printed_formulas
from .test_property import networks

jax = pytest.importorskip(
    "jax", reason="the jax backend's tests need jax (pip install 'symbp[jax]')"
)
jnp = pytest.importorskip("jax.numpy")
from jax.test_util import check_grads  # noqa: E402

#: the dense example specs (the perceptron is refused, see below)
DENSE = [
    "binary_classifier",
    "custom_activation",
    "deep_linear",
    "deep_mlp",
    "lecture",
    "residual",
    "softmax_classifier",
    "weight_decay",
]
#: the example specs with convolution, pooling or recurrent layers (more in
#: tests/test_backend_jax_layers.py, against independent lax forward passes)
LAYERED = ["conv1d_circular", "digits_cnn", "elman", "lstm_classifier"]
TOL = 1e-10


@cache
def jax_module_for(spec: Spec):
    """The emitted JAX module for `spec`, imported (cached: emission costs a derivation)."""
    return load_module(module_source(spec, "cmd", backend="jax"), f"{spec.name}_jax")


def example(name: str) -> Spec:
    return symbp.load_spec(ROOT / "examples" / f"{name}.toml")


def problem(spec: Spec, samples: int = 5, seed: int = 0):
    """float64 params (non-zero biases), X and Y from the loss's domain, as NumPy arrays."""
    return sample_problem(spec, module_for(spec), samples, seed)


def as_jax(params, *arrays):
    return ({k: jnp.asarray(v) for k, v in params.items()}, *(jnp.asarray(a) for a in arrays))


def assert_close(got: dict, want: dict, tol: float = TOL) -> None:
    assert set(got) == set(want)
    for key, g in want.items():
        g = np.asarray(g)
        scale = max(1.0, float(np.abs(g).max()))
        np.testing.assert_allclose(np.asarray(got[key]), g, rtol=tol, atol=tol * scale, err_msg=key)


def assert_backward_is_derived_and_right(spec: Spec, samples: int, seed: int) -> None:
    """The emitted gradients (custom_vjp rule) against jax.grad of the emitted forward pass and
    against the NumPy module's, in float64; and f against the NumPy module's loss."""
    mod, numpy_mod = jax_module_for(spec), module_for(spec)
    params, X, Y = problem(spec, samples, seed)
    with jax.enable_x64(True):
        p, x, y = as_jax(params, X, Y)
        f, derived = mod.value_and_gradients(p, x, y)
        autodiff = jax.jit(jax.grad(lambda q: mod._value(q, x, y)[0]))(p)
        assert all(g.dtype == jnp.float64 for g in derived.values())
        assert_close(derived, autodiff)
    assert_close(derived, numpy_mod.gradients(params, X, Y))
    np.testing.assert_allclose(float(f), numpy_mod.loss(params, X, Y), rtol=TOL)


@pytest.mark.parametrize("name", DENSE + LAYERED)
def test_the_derived_backward_equals_jax_grad_and_the_numpy_module(name):
    assert_backward_is_derived_and_right(example(name), samples=5, seed=0)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=networks(), seed=st.integers(0, 2**16), samples=st.integers(1, 4))
def test_the_derived_backward_equals_jax_grad_over_a_family_of_networks(spec, seed, samples):
    assert_backward_is_derived_and_right(spec, samples, seed)


@pytest.mark.parametrize("name", ["residual", "softmax_classifier", "weight_decay"])
def test_check_grads_passes_on_the_custom_vjp_objective(name):
    spec = example(name)
    mod = jax_module_for(spec)
    params, X, Y = problem(spec)
    with jax.enable_x64(True):
        p, x, y = as_jax(params, X, Y)
        check_grads(jax.jit(lambda q: mod.objective(q, x, y)), (p,), order=1, modes=["rev"])
        if name == "residual":  # the module's own check: central differences of its loss
            assert mod.check_gradients(p, x, y) < 1e-6


def test_the_backward_rule_is_the_emitted_delta_recursion():
    """jax.grad(objective) runs `_objective_bwd` (the printed δ recursion), not JAX's autodiff:
    a backward rule that returns twice the gradient shows in jax.grad's result."""
    spec = example("residual")
    mod = load_module(module_source(spec, "cmd", backend="jax"), "residual_doubled")
    params, X, Y = problem(spec)
    rule = mod._objective_bwd

    def doubled(residuals, ct):
        grads, *rest = rule(residuals, ct)
        return ({k: 2 * g for k, g in grads.items()}, *rest)

    mod.objective.defvjp(mod._objective_fwd, doubled, symbolic_zeros=True)
    with jax.enable_x64(True):
        got = jax.grad(mod.objective)(*as_jax(params, X, Y))
    assert_close(got, {k: 2 * g for k, g in module_for(spec).gradients(params, X, Y).items()})


def test_differentiating_by_the_data_is_refused():
    spec = example("lecture")
    mod = jax_module_for(spec)
    params, X, Y = problem(spec)
    with jax.enable_x64(True):
        p, x, y = as_jax(params, X, Y)
        for argnums in (1, 2):
            with pytest.raises(TypeError, match="differentiable in params only"):
                jax.grad(mod.objective, argnums=argnums)(p, x, y)


@pytest.mark.parametrize(
    "optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
)
def test_the_functional_updates_equal_the_numpy_modules(optimizer):
    spec = example("deep_mlp")
    mod, numpy_mod = jax_module_for(spec), module_for(spec)
    params, X, Y = problem(spec)
    grads = numpy_mod.gradients(params, X, Y)
    want = {k: v.copy() for k, v in params.items()}
    state = numpy_mod.init_state(want, optimizer)
    with jax.enable_x64(True):
        p, g = as_jax(params)[0], as_jax(grads)[0]
        jax_state = mod.init_state(p, optimizer)
        for k in (1, 2, 3):
            numpy_mod.apply_update(want, grads, state, 0.01, k)
            p, jax_state = mod.apply_update(p, g, jax_state, 0.01, k, optimizer)
    assert_close(p, want, 1e-12)


@pytest.mark.parametrize(
    ("name", "optimizer"), [("weight_decay", "sgd"), ("softmax_classifier", "adam")]
)
def test_training_by_gd_follows_the_numpy_modules_run(name, optimizer):
    spec = example(name)
    mod, numpy_mod = jax_module_for(spec), module_for(spec)
    params, X, Y = problem(spec, samples=8)
    want = {k: v.copy() for k, v in params.items()}
    records = numpy_mod.train(want, X, Y, epochs=5, lr=0.05, optimizer=optimizer)
    with jax.enable_x64(True):
        p, x, y = as_jax(params, X, Y)
        got, jax_records = mod.train(p, x, y, epochs=5, lr=0.05, optimizer=optimizer)
    assert_close(got, want, 1e-12)
    np.testing.assert_allclose(
        [r["loss"] for r in jax_records], [r["loss"] for r in records], rtol=1e-12
    )


def test_sgd_step_equals_the_numpy_modules():
    spec = example("binary_classifier")
    mod, numpy_mod = jax_module_for(spec), module_for(spec)
    params, X, Y = problem(spec)
    want = {k: v.copy() for k, v in params.items()}
    numpy_mod.sgd_step(want, X, Y, 0.3)
    with jax.enable_x64(True):
        got = mod.sgd_step(*as_jax(params, X, Y), 0.3)
    assert_close(got, want, 1e-12)


def test_minibatch_sgd_lowers_the_loss():
    spec = example("deep_mlp")
    mod = jax_module_for(spec)
    params, X, Y = problem(spec, samples=12)
    with jax.enable_x64(True):
        p, x, y = as_jax(params, X, Y)
        _, records = mod.train(p, x, y, epochs=30, lr=0.05, batch_size=4)
        assert float(mod.loss(p, x, y)) == pytest.approx(module_for(spec).loss(params, X, Y))
    assert records[-1]["loss"] < 0.75 * records[0]["loss"]
    assert [r["epoch"] for r in records] == list(range(1, 31))


SHARDED = """
import sys
import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)
sys.path.insert(0, sys.argv[1])
import emitted as mod

devices = jax.devices()
assert len(devices) == 2 and all(d.platform == "cpu" for d in devices), devices
data, replicated = mod.data_sharding(8)
assert data.mesh.size == 2 and data.spec == jax.sharding.PartitionSpec(None, "batch")
rng = np.random.default_rng(0)
X, Y = rng.standard_normal((3, 8)), rng.standard_normal((2, 8))
params = mod.init_params(seed=0)
x = jax.device_put(jnp.asarray(X), data)
assert len(x.addressable_shards) == 2 and x.addressable_shards[0].data.shape == (3, 4)
runs = {}
for name, chosen in (("two", devices), ("one", devices[:1])):
    for optimizer in ("sgd", "adam"):
        p, records = mod.train(params, X, Y, epochs=4, optimizer=optimizer, lr=0.05, devices=chosen)
        if name == "two":
            assert all(len(a.sharding.device_set) == 2 for a in p.values())
        runs[name, optimizer] = ({k: np.asarray(v) for k, v in p.items()}, records)
for optimizer in ("sgd", "adam"):
    (two, r2), (one, r1) = runs["two", optimizer], runs["one", optimizer]
    for key in one:
        np.testing.assert_allclose(two[key], one[key], rtol=1e-12, atol=1e-14, err_msg=key)
    np.testing.assert_allclose([r["loss"] for r in r2], [r["loss"] for r in r1], rtol=1e-12)
    assert not np.allclose(one["W1"], np.asarray(params["W1"]))  # the steps moved the params
print("sharded ok")
"""


def run_on_two_devices(tmp_path, source: str, script: str) -> None:
    """Run `script` (which imports the module `source` as `emitted`) in a process whose JAX
    sees two simulated CPU devices; it must print "sharded ok"."""
    (tmp_path / "emitted.py").write_text(source)
    path = tmp_path / "sharded.py"
    path.write_text(textwrap.dedent(script))
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    env["JAX_PLATFORMS"] = "cpu"
    run = subprocess.run(
        [sys.executable, str(path), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "sharded ok" in run.stdout


def test_the_sharded_step_over_two_devices_equals_one_devices(tmp_path):
    run_on_two_devices(tmp_path, module_source(example("residual"), "cmd", backend="jax"), SHARDED)


def assert_ruff_clean(path) -> None:
    """`ruff check` and `ruff format --check` pass on the file at `path` (the repository's
    configuration)."""
    for command in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        run = subprocess.run(
            [sys.executable, "-m", "ruff", *command, str(path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("name", DENSE + LAYERED)
def test_the_emitted_module_is_ruff_clean(name, tmp_path):
    path = tmp_path / f"{name}.py"
    path.write_text(module_source(example(name), "cmd", backend="jax"))
    assert_ruff_clean(path)


def test_the_module_imports_jax_and_the_standard_library_only():
    """And NumPy, which JAX itself requires (the command line's files)."""
    source = module_source(example("deep_mlp"), "cmd", backend="jax")
    imports = {
        line.split()[1].split(".")[0]
        for line in source.splitlines()
        if line.startswith(("import ", "from "))
    }
    stdlib = {"argparse", "math", "os", "sys", "time", "functools"}
    assert imports == stdlib | {"jax", "numpy"}, imports


@pytest.mark.parametrize(
    "activation", ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "softmax"]
)
def test_the_jax_printer_is_the_numpy_printer_with_jnp(activation):
    from symbp.printing.numpy import SymbpNumPyPrinter

    from .test_backends import spec_with

    spec = spec_with(activation)
    numpy_code = printed_formulas(spec, SymbpNumPyPrinter)
    jax_code = printed_formulas(spec, JaxPrinter)
    assert not any("np." in c.replace("jnp.", "") for c in jax_code), jax_code
    respelled = [
        c.replace("jax.nn.logsumexp(", "np.logaddexp.reduce(").replace("jnp.", "np.")
        for c in jax_code
    ]
    assert respelled == numpy_code


@pytest.mark.parametrize(
    ("name", "field", "words"),
    [
        ("perceptron", "layers[0] (layer 1).activation", "step"),
    ],
)
def test_what_the_jax_backend_cannot_emit_is_refused_in_one_line(
    name, field, words, tmp_path, capsys
):
    from symbp.cli import main

    out = tmp_path / f"{name}.py"
    spec = str(ROOT / "examples" / f"{name}.toml")
    assert main(["generate", spec, "-o", str(out), "--backend", "jax"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1, error
    assert field in error and words in error and "jax backend" in error, error
    assert not out.exists()


def test_a_custom_activation_with_erf_is_emitted_with_jax_lax_erf():
    """erf (outside jax.numpy) as jax.lax.erf: the derived backward equals jax.grad and the
    NumPy module's (whose erf is math.erf entry-wise)."""
    gelu = Activation("gelu", formula.parse("t*(1 + erf(t))/2"), source="t*(1 + erf(t))/2")
    spec = Spec("gelu", 2, (Layer(3, gelu, bias=True), Layer(2, "identity")))
    assert "jax.lax.erf(" in module_source(spec, "cmd", backend="jax")
    assert_backward_is_derived_and_right(spec, samples=4, seed=1)
