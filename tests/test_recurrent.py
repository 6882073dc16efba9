"""Recurrent layers: the derived BPTT against independent oracles (HIPS autograd over a forward
pass written from PyTorch's documentation in tests/rnn_oracle.py, PyTorch's own nn.RNN, nn.LSTM
and nn.GRU, central differences), the proof by expansion, truncation, and bad input."""

from __future__ import annotations

import importlib.util
import itertools
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbp.derivation import bptt
from symbp.errors import SpecError
from symbp.graph import cells
from symbp.output.module import module_source
from symbp.proof import unrolled
from symbp.proof.expansion import prove
from symbp.spec.model import from_dict

from . import rnn_oracle

_MODULES: dict = {}


def _spec(
    kind,
    d=2,
    H=3,
    output="last",
    bias=True,
    loss="l2",
    truncate=None,
    steps=None,
    activation="tanh",
    reduction="mean",
    time_reduction="sum",
    units_out=2,
):
    layer = {"type": kind, "units": H, "output": output, "bias": bias}
    if kind == "rnn":
        layer["activation"] = activation
    if truncate:
        layer["truncate"] = truncate
    head = {
        "units": units_out,
        "activation": "softmax" if loss == "cross_entropy" else "identity",
        "bias": bias,
    }
    data = {
        "name": f"seq_{kind}",
        "input": d,
        "loss": loss,
        "reduction": reduction,
        "layers": [layer, head],
    }
    if steps:
        data["steps"] = steps
    if time_reduction != "sum":
        data["time_reduction"] = time_reduction
    return from_dict(data)


def _module(spec):
    """The emitted module of `spec`, imported (cached per spec)."""
    if spec not in _MODULES:
        name = f"rnn_module_{len(_MODULES)}"
        loader = importlib.util.spec_from_loader(name, loader=None)
        module = importlib.util.module_from_spec(loader)
        exec(compile(module_source(spec), name, "exec"), module.__dict__)
        _MODULES[spec] = module
    return _MODULES[spec]


def _data(spec, T, n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((T, spec.widths[0], n))
    shape = (T, spec.widths[-1], n) if spec.sequences[-1] else (spec.widths[-1], n)
    if spec.loss == "cross_entropy":
        Y = rng.random(shape) + 0.1
        Y /= Y.sum(axis=-2, keepdims=True)
    else:
        Y = rng.standard_normal(shape)
    return X, Y


def _params(module, seed=1):
    rng = np.random.default_rng(seed)
    params = module.init_params(seed=seed)
    for key in params:  # non-zero biases, so that their gradients are exercised too
        params[key] = params[key] + 0.3 * rng.standard_normal(params[key].shape)
    return params


def _assert_close(ours, theirs, rtol=1e-9, atol=1e-11):
    assert ours.keys() == theirs.keys()
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=rtol, atol=atol, err_msg=key)


family = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["rnn", "lstm", "gru"]),
        "d": st.integers(1, 3),
        "H": st.integers(1, 3),
        "T": st.integers(1, 4),
        "output": st.sampled_from(["last", "sequence"]),
        "bias": st.booleans(),
        "loss": st.sampled_from(["l2", "cross_entropy"]),
        "reduction": st.sampled_from(["mean", "sum"]),
        "mean_over_time": st.booleans(),
        "truncate": st.sampled_from([None, 1, 2]),
        "activation": st.sampled_from(["tanh", "sigmoid", "relu", "softplus"]),
    }
)


def family_spec(case: dict):
    """The spec of one `family` case (a mean over time only where every step has an output)."""
    over_time = "mean" if case["mean_over_time"] and case["output"] == "sequence" else "sum"
    return _spec(
        case["kind"],
        case["d"],
        case["H"],
        case["output"],
        case["bias"],
        case["loss"],
        case["truncate"],
        activation=case["activation"],
        reduction=case["reduction"],
        time_reduction=over_time,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(family)
def test_emitted_bptt_equals_autograd_over_the_family(case):
    spec = family_spec(case)
    module = _module(spec)
    X, Y = _data(spec, case["T"], 3)
    params = _params(module)
    f, grads = module.value_and_gradients(params, X, Y)
    assert f == pytest.approx(float(rnn_oracle.objective(spec, params, X, Y)), rel=1e-12)
    _assert_close(grads, rnn_oracle.gradients(spec, params, X, Y))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("output", ["last", "sequence"])
def test_emitted_bptt_equals_central_differences(kind, output):
    spec = _spec(kind, output=output)
    module = _module(spec)
    X, Y = _data(spec, 4, 3)
    assert module.check_gradients(_params(module), X, Y) < 1e-6


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_truncated_bptt_with_the_whole_sequence_is_full_bptt(kind):
    T = 4
    full, cut = _spec(kind, output="sequence"), _spec(kind, output="sequence", truncate=T)
    X, Y = _data(full, T, 3)
    params = _params(_module(full))
    _assert_close(
        _module(cut).gradients(params, X, Y), _module(full).gradients(params, X, Y), rtol=0
    )
    shorter = _module(_spec(kind, output="sequence", truncate=2)).gradients(params, X, Y)
    assert not np.allclose(shorter["Whh1"], _module(full).gradients(params, X, Y)["Whh1"])


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is installed by .ci/run
        pytest.skip("PyTorch is not installed: pip install torch==2.13.0")
    return torch


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("output", ["last", "sequence"])
def test_emitted_bptt_equals_pytorch(kind, output):
    """Same weights in PyTorch's own layers (weight_ih_l0 = W_xh, weight_hh_l0 = W_hh, bias_ih_l0
    = b, bias_hh_l0 = b_hh for the GRU and 0 for the others), autograd through them."""
    torch = _torch()
    spec = _spec(kind, d=3, H=4, output=output)
    module = _module(spec)
    X, Y = _data(spec, 5, 4)
    params = _params(module)
    layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](
        3, 4, dtype=torch.float64
    )
    with torch.no_grad():
        layer.weight_ih_l0.copy_(torch.from_numpy(params["Wxh1"]))
        layer.weight_hh_l0.copy_(torch.from_numpy(params["Whh1"]))
        layer.bias_ih_l0.copy_(torch.from_numpy(params["b1"][:, 0]))
        hidden_bias = params["bhh1"][:, 0] if kind == "gru" else np.zeros(layer.bias_hh_l0.shape)
        layer.bias_hh_l0.copy_(torch.from_numpy(hidden_bias))
    W2 = torch.tensor(params["W2"], requires_grad=True)
    b2 = torch.tensor(params["b2"], requires_grad=True)
    out = layer(torch.from_numpy(X.transpose(0, 2, 1)))[0]  # (T, N, H)
    H = out if output == "sequence" else out[-1:]
    Z = torch.einsum("oh,tnh->ton", W2, H) + b2[None]
    target = torch.from_numpy(Y if output == "sequence" else Y[None])
    f = ((target - Z) ** 2).sum() / X.shape[2]
    f.backward()
    theirs = {
        "Wxh1": layer.weight_ih_l0.grad.numpy(),
        "Whh1": layer.weight_hh_l0.grad.numpy(),
        "b1": layer.bias_ih_l0.grad.numpy()[:, None],
        "W2": W2.grad.numpy(),
        "b2": b2.grad.numpy(),
    }
    if kind == "gru":
        theirs["bhh1"] = layer.bias_hh_l0.grad.numpy()[:, None]
    value, ours = module.value_and_gradients(params, X, Y)
    assert value == pytest.approx(f.item(), rel=1e-12)
    _assert_close(ours, theirs)


def test_the_elman_derivation_is_proved_by_expansion_at_three_steps():
    checks = prove(_spec("rnn", d=2, H=2, bias=True, steps=3))
    assert checks and all(c.ok for c in checks), checks
    assert any("Whh1" in c.what for c in checks)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_the_gated_cells_are_proved_by_expansion(kind):
    checks = prove(_spec(kind, d=1, H=1, bias=True, units_out=1, steps=2))
    assert checks and all(c.ok for c in checks), checks


def test_the_proof_fails_when_bptt_drops_the_carried_adjoint(monkeypatch):
    """The proof can fail: a reverse pass that forgets what step t + 1 sends back is caught."""
    original = bptt.cell_pass.__wrapped__

    def forgetful(c):
        p = original(c)
        zero = tuple(0 * x for x in p.carries)
        return bptt.CellPass(p.seeds, p.definitions, p.delta, p.delta_v, zero, p.reads)

    monkeypatch.setattr(unrolled, "cell_pass", forgetful)
    checks = prove(_spec("rnn", d=1, H=1, bias=False, units_out=1, steps=3, activation="sigmoid"))
    assert any(c.ok is False for c in checks), checks


def test_the_step_and_its_reverse_pass_are_derived_not_typed():
    """The LSTM's cell-state adjoint recursion comes out of the rule table: delta^c_t sums what
    step t + 1 sends back (eps^c_t) and the h_t path through o_t o tanh(c_t)."""
    c = cells.cell("lstm", 1, 2)
    p = bptt.cell_pass(c)
    names = [lhs.name for lhs, _ in p.definitions]
    assert names[0] == "deltac1_t" and names[-1] == "delta1_t"
    deltac = dict(p.definitions)[c.step("deltac")]
    assert c.step("epsc") in deltac.free_symbols and c.step("eps") in deltac.free_symbols
    assert p.carries[1].free_symbols >= {c.step("deltac"), c.step("f")}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"steps": 0}, "steps"),
        ({"layers": [{"type": "rnn", "units": 0}, {"units": 1}]}, "layers[0].units"),
        (
            {"layers": [{"type": "lstm", "units": 2, "truncate": 0}, {"units": 1}]},
            "layers[0].truncate",
        ),
        (
            {"layers": [{"type": "rnn", "units": 2}, {"type": "rnn", "units": 2}, {"units": 1}]},
            "layers[1].type",
        ),
        ({"time_reduction": "mean"}, "time_reduction"),
        (
            {"layers": [{"type": "gru", "units": 2, "output": "all"}, {"units": 1}]},
            "layers[0].output",
        ),
        ({"input": [1, 4]}, "input"),
        (
            {"layers": [{"type": "lstm", "units": 2, "activation": "relu"}, {"units": 1}]},
            "layers[0]",
        ),
    ],
)
def test_bad_recurrent_specs_name_the_field(change, field):
    data = {"name": "bad", "input": 2, "layers": [{"type": "rnn", "units": 2}, {"units": 1}]}
    data.update(change)
    with pytest.raises(SpecError) as error:
        from_dict(data)
    message = re.sub(r" \(layer \d+\)", "", str(error.value))  # "layers[0] (layer 1).units"
    assert message.startswith(field), message


def test_wrong_sequence_arrays_get_one_line_naming_the_shapes():
    module = _module(_spec("rnn", output="sequence", steps=4))
    X, Y = _data(_spec("rnn", output="sequence"), 4, 3)
    with pytest.raises(module.DataError, match=r"expected X of shape \(4, 2, N\)"):
        module.validate(X[0], Y)
    with pytest.raises(module.DataError, match="3 steps; this network was derived for T = 4"):
        module.validate(X[:3], Y[:3])
    with pytest.raises(module.DataError, match="--rows"):
        module.validate(X.transpose(2, 0, 1), Y.transpose(2, 0, 1))
    Xr, Yr = module.arrange(X.transpose(2, 0, 1), Y.transpose(2, 0, 1), rows=True)
    np.testing.assert_array_equal(Xr, X)
    np.testing.assert_array_equal(Yr, Y)


def test_the_cli_refuses_a_bad_recurrent_spec_with_exit_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "x"\ninput = 2\nsteps = 0\n[[layers]]\ntype = "rnn"\nunits = 2\n'
        "[[layers]]\nunits = 1\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "symbp", "derive", str(path)], capture_output=True, text=True
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "steps" in run.stderr and "Traceback" not in run.stderr


def test_a_sequence_model_trains_and_predicts_every_step():
    spec = _spec("lstm", d=2, H=6, output="sequence")
    module = _module(spec)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((8, 2, 64))
    Y = np.cumsum(X, axis=0) * 0.3  # running sums: needs the recurrence
    params = module.init_params(seed=0)
    before = module.loss(params, X, Y)
    module.train(params, X, Y, epochs=150, optimizer="adam", lr=0.02)
    assert module.loss(params, X, Y) < 0.2 * before
    assert module.predict(params, X).shape == (8, 2, 64)


def test_float32_sequences_stay_float32():
    module = _module(_spec("gru", output="sequence"))
    X, Y = _data(_spec("gru", output="sequence"), 3, 2)
    params = module.init_params(dtype=np.float32)
    _, grads = module.value_and_gradients(params, X.astype(np.float32), Y.astype(np.float32))
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}


def test_every_cell_kind_and_output_emits_its_loops():
    for kind, output in itertools.product(("rnn", "lstm", "gru"), ("last", "sequence")):
        spec = _spec(kind, output=output)
        text = module_source(spec)
        assert "def _bptt1(" in text and "def _recurrence1(" in text


def test_verify_says_it_cannot_read_bptt_yet_with_exit_2(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "symbp", "verify", "examples/elman.toml", "--claim", "a = b"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and "layers[0]" in run.stderr and "recurrent" in run.stderr
    assert "Traceback" not in run.stderr
