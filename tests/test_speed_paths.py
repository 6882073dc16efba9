"""The emitted trainer's fast paths compute what its general path computes.

Three ways to make one SGD step live in an emitted module: the general path (value_and_gradients,
then apply_update), `_descend` (in place into preallocated arrays, the step size folded into the
output delta, BLAS for the products) and, for narrow layers, `_epoch_one` (one sample per
step, entry by entry in Python floats).  Each is checked against the others and against an
independent oracle (central differences of `loss`); the per-epoch records of `training` are
checked against a replay written here with `loss` and `gradients`.
"""

from __future__ import annotations

import numpy as np
import pytest

import symbp
from symbp.spec.model import Layer, Spec

from .conftest import EXAMPLES, module_for

#: Convolutional networks take the general path (value_and_gradients, apply_update): their nodes
#: have no in-place form yet; `test_convolutional_networks_take_the_general_path` checks that.
DENSE_EXAMPLES = [p for p in EXAMPLES if all(x.kind == "dense" for x in symbp.load_spec(p).layers)]
CONV_EXAMPLES = [p for p in EXAMPLES if p not in DENSE_EXAMPLES]  # recurrent ones too
GRADIENT_EXAMPLES = [p for p in DENSE_EXAMPLES if p.stem != "perceptron"]
WIDE = Spec("wide", 12, (Layer(10, "tanh", True), Layer(3, "identity", True)))


def problem(spec, mod, n, seed=0, dtype=np.float64):
    """params with non-zero biases, X normal, Y from the forward pass of other params (so in
    the loss's target domain), all of `dtype`."""
    rng = np.random.default_rng(seed)
    params = mod.init_params(seed=seed + 1, dtype=dtype)
    for key, value in params.items():
        if key.startswith("b"):
            value += (0.1 * rng.standard_normal(value.shape)).astype(dtype)
    shape = (spec.steps or 3, spec.widths[0], n) if spec.is_recurrent else (spec.widths[0], n)
    X = rng.standard_normal(shape).astype(dtype)  # sequences: (T, d_0, N)
    Y = mod.predict(mod.init_params(seed=seed + 7), X.astype(np.float64)).astype(dtype)
    return params, X, Y


def copy(params):
    return {k: v.copy() for k, v in params.items()}


def general_step(mod, params, X, Y, lr):
    """θ − lr·∂f/∂θ for every param, from `gradients` (not through any fast path)."""
    return {k: params[k] - lr * g for k, g in mod.gradients(params, X, Y).items()}


@pytest.mark.parametrize("spec_path", CONV_EXAMPLES, ids=lambda p: p.stem)
def test_convolutional_networks_take_the_general_path(spec_path):
    spec = symbp.load_spec(spec_path)
    mod = module_for(spec)
    assert not hasattr(mod, "_descend") and not hasattr(mod, "_epoch_one")
    params, X, Y = problem(spec, mod, 5)
    expected = general_step(mod, params, X, Y, 0.05)
    mod.sgd_step(params, X, Y, 0.05)
    for key in params:
        np.testing.assert_allclose(params[key], expected[key], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("spec_path", DENSE_EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("n", [1, 5])
def test_fused_step_equals_the_general_step(spec_path, n):
    spec = symbp.load_spec(spec_path)
    mod = module_for(spec)
    params, X, Y = problem(spec, mod, n)
    expected = general_step(mod, params, X, Y, 0.05)
    fused = copy(params)
    f = mod._descend(fused, X, Y, 0.05, mod._workspace(n, X.dtype))
    assert f == pytest.approx(mod.loss(params, X, Y), rel=1e-12)
    for key in params:
        np.testing.assert_allclose(fused[key], expected[key], rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("spec_path", DENSE_EXAMPLES, ids=lambda p: p.stem)
def test_scalar_step_equals_the_general_step(spec_path):
    spec = symbp.load_spec(spec_path)
    mod = module_for(spec)
    if not hasattr(mod, "_epoch_one"):
        assert spec.layers[-1].activation_name == "softmax"  # the one form it leaves out
        return
    params, X, Y = problem(spec, mod, 1)
    expected = general_step(mod, params, X, Y, 0.05)
    scalar = copy(params)
    f, _, increments = mod._epoch_one(
        mod._views(scalar), X.T.tolist(), Y.T.tolist(), range(1), 0.05, lambda k: 1.0, 0
    )
    assert f == pytest.approx(mod.loss(params, X, Y), rel=1e-12)
    flat = np.concatenate([(expected[k] - params[k]).ravel() for k in mod.PARAM_SHAPES])
    np.testing.assert_allclose(increments, flat, rtol=1e-10, atol=1e-14)
    for key in params:
        np.testing.assert_allclose(scalar[key], expected[key], rtol=1e-11, atol=1e-13)


def test_fast_paths_follow_central_differences():
    """The increments of both fast paths are −lr times the gradient that central differences
    of `loss` give, entry by entry."""
    spec = symbp.lecture_spec()
    mod = module_for(spec)
    params, X, Y = problem(spec, mod, 1, seed=3)
    h, lr = 1e-6, 0.5
    numeric = {}
    for key, value in params.items():
        grad = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            plus, minus = copy(params), copy(params)
            plus[key][idx] += h
            minus[key][idx] -= h
            grad[idx] = (mod.loss(plus, X, Y) - mod.loss(minus, X, Y)) / (2 * h)
        numeric[key] = grad
    work = mod._workspace(1, X.dtype)
    mod._descend(copy(params), X, Y, lr, work)
    views = mod._views(copy(params))
    _, _, increments = mod._epoch_one(
        views, X.T.tolist(), Y.T.tolist(), range(1), lr, lambda k: 1.0, 0
    )
    flat = np.concatenate([numeric[k].ravel() for k in mod.PARAM_SHAPES])
    np.testing.assert_allclose(np.array(increments) / -lr, flat, rtol=1e-6, atol=1e-9)
    for key in params:
        np.testing.assert_allclose(work["d" + key] / -lr, numeric[key], rtol=1e-6, atol=1e-9)


def test_the_strategy_follows_the_shapes():
    """Narrow layers get the entry-by-entry step; wide ones only the BLAS step."""
    assert hasattr(module_for(symbp.lecture_spec()), "_epoch_one")
    wide = module_for(WIDE)
    assert hasattr(wide, "_descend") and not hasattr(wide, "_epoch_one")


def replay(mod, params, X, Y, lr, batch_size, seed, epochs):
    """Records written independently: each step's f and gradients from `loss` and `gradients`
    on the batch, the update θ − lr·g, batches cut from the same shuffle."""
    params, n = copy(params), X.shape[1]
    rng, out = np.random.default_rng(seed), []
    for epoch in range(1, epochs + 1):
        if batch_size is None:
            batches = [np.arange(n)]
        else:
            order = rng.permutation(n)
            batches = [order[s : s + batch_size] for s in range(0, n, batch_size)]
        value = 0.0
        for rows in batches:
            Xb, Yb = X[:, rows], Y[:, rows]
            value += mod.loss(params, Xb, Yb) * len(rows) / n  # mean reduction
            grads = mod.gradients(params, Xb, Yb)
            params = {k: params[k] - lr * g for k, g in grads.items()}
        norms = {k: np.linalg.norm(g) for k, g in grads.items()}
        out.append((epoch, value, norms))
    return out, params


@pytest.mark.parametrize(
    "spec",
    [symbp.lecture_spec(), WIDE, symbp.load_spec(EXAMPLES[-1])],
    ids=["lecture", "wide", EXAMPLES[-1].stem],
)
@pytest.mark.parametrize("batch_size", [None, 1, 3])
def test_records_match_an_independent_replay(spec, batch_size):
    mod = module_for(spec)
    params, X, Y = problem(spec, mod, 7, seed=2)
    lr = 0.1
    expected, final = replay(mod, params, X, Y, lr, batch_size, seed=4, epochs=3)
    trained = copy(params)
    records = mod.train(trained, X, Y, epochs=3, lr=lr, batch_size=batch_size, seed=4)
    for record, (epoch, value, norms) in zip(records, expected, strict=True):
        assert record["epoch"] == epoch
        assert record["loss"] == pytest.approx(value, rel=1e-10)
        assert record["layer_grad_norms"].keys() == norms.keys()
        for key, norm in norms.items():
            assert record["layer_grad_norms"][key] == pytest.approx(norm, rel=1e-8)
        total = np.sqrt(sum(v**2 for v in norms.values()))
        assert record["grad_norm"] == pytest.approx(total, rel=1e-8)
        assert record["seconds"] >= 0
    assert records[0]["seconds"] <= records[-1]["seconds"]
    for key in params:
        np.testing.assert_allclose(trained[key], final[key], rtol=1e-9, atol=1e-12)


def test_records_on_one_sample_gd_and_a_zero_step():
    """GD on one sample takes the entry-by-entry path; a zero step still reports the
    gradient's norms (recomputed, since no increment carries them)."""
    spec = symbp.lecture_spec()
    mod = module_for(spec)
    params, X, Y = problem(spec, mod, 1, seed=5)
    grads = mod.gradients(params, X, Y)
    frozen = copy(params)
    (record,) = mod.train(frozen, X, Y, epochs=1, lr=0.0)
    for key, g in grads.items():
        assert record["layer_grad_norms"][key] == pytest.approx(np.linalg.norm(g), rel=1e-12)
        np.testing.assert_array_equal(frozen[key], params[key])
    assert record["loss"] == pytest.approx(mod.loss(params, X, Y), rel=1e-12)


@pytest.mark.parametrize("batch_size", [None, 1, 4])
def test_float32_stays_float32_on_every_path(batch_size):
    spec = symbp.load_spec(EXAMPLES[0])
    mod = module_for(spec)
    p32, X, Y = problem(spec, mod, 8, dtype=np.float32)
    p64 = {k: v.astype(np.float64) for k, v in p32.items()}
    r32 = mod.train(p32, X, Y, epochs=3, lr=0.05, batch_size=batch_size)
    r64 = mod.train(p64, X.astype(np.float64), Y.astype(np.float64), epochs=3, lr=0.05,
                    batch_size=batch_size)  # fmt: skip
    assert all(p.dtype == np.float32 for p in p32.values())
    assert r32[-1]["loss"] == pytest.approx(r64[-1]["loss"], rel=1e-4)
    for key in p32:
        np.testing.assert_allclose(p32[key], p64[key], rtol=1e-4, atol=1e-5)


def test_mixed_dtypes_take_the_general_path():
    spec = symbp.lecture_spec()
    mod = module_for(spec)
    params, X, Y = problem(spec, mod, 4)
    expected = general_step(mod, params, X.astype(np.float32), Y, 0.1)
    mixed = copy(params)
    mod.sgd_step(mixed, X.astype(np.float32), Y, 0.1)
    for key in params:
        np.testing.assert_allclose(mixed[key], expected[key], rtol=1e-12)


@pytest.mark.parametrize("batch_size", [None, 1])
def test_the_scalar_path_reports_divergence(batch_size):
    mod = module_for(Spec("linear", 3, (Layer(2, "identity"),)))
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 1)), rng.standard_normal((2, 1))
    with np.errstate(all="ignore"), pytest.raises(mod.Diverged) as caught:
        mod.train(mod.init_params(), X, Y, epochs=2000, lr=1e10, batch_size=batch_size)
    assert caught.value.epoch < 2000 and not np.isfinite(caught.value.value)


def test_sgd_step_on_a_non_contiguous_param_takes_the_array_path():
    spec = symbp.lecture_spec()
    mod = module_for(spec)
    params, X, Y = problem(spec, mod, 1)
    expected = general_step(mod, params, X, Y, 0.1)
    strided = copy(params)
    strided["W1"] = np.asfortranarray(strided["W1"])
    assert mod._views(strided) is None
    mod.sgd_step(strided, X, Y, 0.1)
    for key in params:
        np.testing.assert_allclose(strided[key], expected[key], rtol=1e-12)


RELU = Spec("relu_net", 6, (Layer(9, "relu", True), Layer(2, "identity", True)))


def test_relu_reads_a_zeros_array_that_stays_zero():
    """relu's maximum(U, 0) reads a zeros array of the workspace (NumPy's loop against a
    scalar is not vectorised); the step still equals the general one, with units on both
    sides of 0, and nothing writes into the zeros."""
    mod = module_for(RELU)
    params, X, Y = problem(RELU, mod, 6, seed=1)
    U1 = params["W1"] @ X + params["b1"]
    assert (U1 > 0).any() and (U1 < 0).any()
    work = mod._workspace(6, X.dtype)
    assert work["zeros"].shape == (9, 6)
    fused = copy(params)
    for _ in range(2):  # the second step reads the zeros the first one left
        expected = general_step(mod, fused, X, Y, 0.05)
        mod._descend(fused, X, Y, 0.05, work)
        for key in params:
            np.testing.assert_allclose(fused[key], expected[key], rtol=1e-11, atol=1e-13)
    np.testing.assert_array_equal(work["zeros"], 0.0)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_minibatches_do_not_depend_on_the_memory_order_of_the_data(optimizer):
    """Mini-batches are gathered from sample-major copies (none for F-ordered data) into
    reused buffers: C- and F-ordered data give the same records and params, bit for bit, on
    the fused path (sgd) and the general one (adam)."""
    mod = module_for(WIDE)
    params, X, Y = problem(WIDE, mod, 11, seed=3)
    runs = []
    for order in ("C", "F"):
        trained = copy(params)
        Xo, Yo = np.asarray(X, order=order), np.asarray(Y, order=order)
        records = mod.train(trained, Xo, Yo, epochs=3, lr=0.05, batch_size=4, seed=2,
                            optimizer=optimizer)  # fmt: skip
        runs.append((records, trained))
    (r_c, p_c), (r_f, p_f) = runs
    assert [r["loss"] for r in r_c] == [r["loss"] for r in r_f]
    assert [r["layer_grad_norms"] for r in r_c] == [r["layer_grad_norms"] for r in r_f]
    for key in params:
        np.testing.assert_array_equal(p_c[key], p_f[key])
