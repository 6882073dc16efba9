"""The fast loops of the emitted recurrent layers (symbp/output/cellcode.py, filling
templates/numpy/_recurrent.py.j2): stored values written in place into a step-major trace,
gate blocks and neighbouring gates in one call, BPTT with the adjoint-independent factors
computed for all steps before the loop, per-thread scratch arrays.

Oracles: central differences (each module's `check_gradients`, float64) for full BPTT; HIPS
autograd through tests/rnn_oracle.py (PyTorch's cells written out independently, the state's
gradient stopped where a window begins) for truncated BPTT, which is not the gradient of f."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import weakref
from pathlib import Path

import numpy as np
import pytest

from symbp import from_dict, generate_module

from .conftest import module_for
from .rnn_oracle import gradients as oracle_gradients

CELLS = ("rnn", "lstm", "gru")
T, N, D_IN, H, D_OUT = 5, 3, 2, 3, 2


def spec_of(kind, output="sequence", bias=True, truncate=None, activation=None, layers=None):
    """A network: one recurrent layer of `kind` (H units), then a dense identity layer."""
    layer = {"type": kind, "units": H, "output": output, "bias": bias}
    if truncate:
        layer["truncate"] = truncate
    if activation:
        layer["activation"] = activation
    dense = {"units": D_OUT, "activation": "identity", "bias": bias}
    name = f"fast_{kind}_{output}_{int(bias)}_{truncate or 0}_{activation or 'std'}"
    return from_dict({"name": name, "input": D_IN, "layers": layers or [layer, dense]})


def problem(module, output, dtype=np.float64, seed=0, steps=T, samples=N):
    """Parameters with nonzero biases, X (T, d, N), Y per step or per sequence."""
    rng = np.random.default_rng(seed)
    params = module.init_params(seed=seed)
    params = {k: (v + 0.3 * rng.standard_normal(v.shape)).astype(dtype) for k, v in params.items()}
    X = rng.standard_normal((steps, D_IN, samples)).astype(dtype)
    shape = (steps, D_OUT, samples) if output == "sequence" else (D_OUT, samples)
    return params, X, rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("output", ["last", "sequence"])
@pytest.mark.parametrize("kind", CELLS)
def test_full_bptt_matches_central_differences(kind, output, bias):
    module = module_for(spec_of(kind, output, bias))
    params, X, Y = problem(module, output)
    assert module.check_gradients(params, X, Y) < 1e-6


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "leaky_relu", "softplus", "identity"])
def test_elman_activations_match_central_differences(activation):
    """Other sigmas than tanh: their chains of ufuncs, and sigma' printed as a whole where no
    chain exists (relu's step)."""
    module = module_for(spec_of("rnn", "sequence", activation=activation))
    params, X, Y = problem(module, "sequence", seed=3)
    assert module.check_gradients(params, X, Y) < 1e-6


@pytest.mark.parametrize("output", ["last", "sequence"])
@pytest.mark.parametrize("kind", CELLS)
def test_truncated_bptt_matches_the_stopped_gradient(kind, output):
    spec = spec_of(kind, output, truncate=2)
    module = module_for(spec)
    params, X, Y = problem(module, output, seed=1)
    _, ours = module.value_and_gradients(params, X, Y)
    theirs = oracle_gradients(spec, params, X, Y)
    full = module_for(spec_of(kind, output)).value_and_gradients(params, X, Y)[1]
    for key, g in ours.items():
        np.testing.assert_allclose(g, theirs[key], rtol=1e-8, atol=1e-12, err_msg=key)
    assert any(not np.allclose(ours[k], full[k]) for k in ours)  # the window cut something


@pytest.mark.parametrize("kind", CELLS)
def test_window_of_T_steps_is_full_bptt(kind):
    params, X, Y = problem(module_for(spec_of(kind)), "sequence", seed=2)
    _, cut = module_for(spec_of(kind, truncate=T)).value_and_gradients(params, X, Y)
    _, full = module_for(spec_of(kind)).value_and_gradients(params, X, Y)
    for key, g in full.items():
        np.testing.assert_allclose(cut[key], g, rtol=1e-12, atol=1e-15, err_msg=key)


@pytest.mark.parametrize("kind", CELLS)
def test_float32_stays_float32(kind):
    module = module_for(spec_of(kind))
    params, X, Y = problem(module, "sequence", dtype=np.float32)
    _, _, S1, *_ = module._forward(params, X)
    assert S1.dtype == np.float32
    Zeta = np.ones((H, S1.shape[1]), np.float32)
    assert module._bptt1(Zeta, S1, params["Whh1"], T).dtype == np.float32
    _, grads = module.value_and_gradients(params, X, Y)
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}
    module.train(params, X, Y, epochs=3, lr=1e-2)
    assert {p.dtype for p in params.values()} == {np.dtype(np.float32)}
    params64, X64, Y64 = problem(module, "sequence")
    _, exact = module.value_and_gradients(params64, X64, Y64)
    for key, g in grads.items():  # float32 arithmetic, not a float32 copy of something else
        np.testing.assert_allclose(g, exact[key], rtol=2e-3, atol=2e-4, err_msg=key)


@pytest.mark.parametrize("kind", CELLS)
def test_scratch_arrays_follow_the_shapes(kind):
    """The loops keep their temporaries between calls; calls with other T and N (and dtype)
    in between must not change a result."""
    module = module_for(spec_of(kind))
    params, X, Y = problem(module, "sequence", seed=4)
    _, first = module.value_and_gradients(params, X, Y)
    module.value_and_gradients(*problem(module, "sequence", seed=5, steps=3, samples=7))
    module.value_and_gradients(*problem(module, "sequence", np.float32, seed=6, steps=8))
    _, again = module.value_and_gradients(params, X, Y)
    for key, g in first.items():
        np.testing.assert_array_equal(again[key], g, err_msg=key)


@pytest.mark.parametrize("steps", [1, 4])
def test_returned_arrays_are_never_scratch(steps):
    """The trace and Delta the loops return stay the caller's (even at T = 1, where a reshaped
    scratch array could be a view of it)."""
    module = module_for(spec_of("gru"))
    params, X, _ = problem(module, "sequence", seed=8, steps=steps)
    _, _, S1, *_ = module._forward(params, X)
    Zeta = np.ones((H, S1.shape[1]))
    Delta = module._bptt1(Zeta, S1, params["Whh1"], steps)
    kept = S1.copy(), Delta.copy()
    other, X2, _ = problem(module, "sequence", seed=9, steps=steps)
    _, _, S2, *_ = module._forward(other, X2)
    module._bptt1(2 * Zeta, S2, other["Whh1"], steps)
    np.testing.assert_array_equal(S1, kept[0])
    np.testing.assert_array_equal(Delta, kept[1])


def test_threads_do_not_share_scratch_arrays():
    """Four threads on problems of one shape (so that a shared scratch array would be the same
    array), every result checked against the one computed alone."""
    module = module_for(spec_of("lstm"))
    problems = [problem(module, "sequence", seed=s, steps=8, samples=64) for s in range(4)]
    expected = [module.value_and_gradients(*p)[1] for p in problems]
    wrong = []

    def work(k):
        for _ in range(10):
            got = module.value_and_gradients(*problems[k])[1]
            wrong.extend(key for key, g in got.items() if not np.array_equal(g, expected[k][key]))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(problems))]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so that their loops interleave
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert not wrong


def test_two_recurrent_layers_match_central_differences():
    layers = [
        {"type": "lstm", "units": H, "output": "sequence", "bias": True},
        {"type": "gru", "units": H, "output": "last", "bias": True},
        {"units": D_OUT, "activation": "identity", "bias": True},
    ]
    spec = from_dict({"name": "fast_stacked", "input": D_IN, "layers": layers})
    module = module_for(spec)
    params, X, Y = problem(module, "last", seed=7)
    assert module.check_gradients(params, X, Y) < 1e-6


def test_emitted_loops_pass_ruff_check(tmp_path):
    """The loops' statements for every cell, output, truncation and Elman sigma (those with no
    chain of ufuncs print a fallback) lint clean: no unused or undefined names, no long lines
    from the loops."""
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is a test dependency (pip install -e '.[test]')")
    specs = [spec_of(kind, output, truncate=2) for kind in CELLS for output in ("last", "sequence")]
    specs += [spec_of("rnn", activation=a) for a in ("relu", "leaky_relu", "softplus", "identity")]
    for k, spec in enumerate(specs):
        (tmp_path / f"m{k}.py").write_text(generate_module(spec), encoding="utf-8")
    config = Path(__file__).resolve().parent.parent / "pyproject.toml"
    run = subprocess.run(
        [ruff, "check", "--no-cache", "--config", str(config), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout


@pytest.mark.parametrize("kind", CELLS)
def test_a_dropped_trace_and_delta_are_reused(kind):
    """`_returned`: the trace and Delta of a call whose caller dropped them (no name, no view)
    are the next call's, written into the same memory; the results stay those of new arrays."""
    module = module_for(spec_of(kind))
    params, X, _ = problem(module, "sequence", seed=10)
    S1 = module._forward(params, X)[2]  # nothing else of the call kept (Z1 is a view)
    Zeta = np.ones((H, S1.shape[1]))
    trace, delta = weakref.ref(S1), weakref.ref(module._bptt1(Zeta, S1, params["Whh1"], T))
    del S1
    other, X2, _ = problem(module, "sequence", seed=11)
    S2 = module._forward(other, X2)[2]
    assert S2 is trace()  # the same array, dropped by its first caller, used again
    Delta2 = module._bptt1(Zeta, S2, other["Whh1"], T)
    assert Delta2 is delta()
    fresh = module_for(spec_of(kind))  # another module object: its own workspace
    expected = fresh._forward(other, X2)[2]
    np.testing.assert_array_equal(S2, expected)
    np.testing.assert_array_equal(Delta2, fresh._bptt1(Zeta, expected, other["Whh1"], T))


@pytest.mark.parametrize("kind", CELLS)
def test_a_view_kept_by_the_caller_is_never_overwritten(kind):
    """A view of a returned trace (the hidden states Z1 = S1[:H] that `forward` returns) or of
    Delta keeps the array its caller's: later calls write elsewhere."""
    module = module_for(spec_of(kind))
    params, X, _ = problem(module, "sequence", seed=12)
    hidden = module.forward(params, X)[1]  # a view of the trace; the trace has no name
    Zeta = np.ones((H, hidden.shape[1]))
    S1 = module._forward(params, X)[2]  # nothing else of the call kept (Z1 is a view)
    block = module._bptt1(Zeta, S1, params["Whh1"], T)[:H]
    kept = hidden.copy(), block.copy()
    del S1
    other, X2, _ = problem(module, "sequence", seed=13)
    for _ in range(2):
        S2 = module._forward(other, X2)[2]
        module._bptt1(2 * Zeta, S2, other["Whh1"], T)
        del S2
    np.testing.assert_array_equal(hidden, kept[0])
    np.testing.assert_array_equal(block, kept[1])
