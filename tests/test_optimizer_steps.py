"""Several steps of every optimizer of an emitted module (biases included) against its published
update written out here in float64, and against torch.optim where PyTorch is installed; the
lecture's two update forms, (u.1) all weights as one vector and (u.2) layer by layer, and the
per-layer step factors alpha_j."""

from __future__ import annotations

import tracemalloc
from types import SimpleNamespace

import numpy as np
import pytest
import sympy as sp

import symbp
from symbp.catalog import optimizers
from symbp.output import document
from symbp.printing import inplace

from .conftest import module_for

BIASED = symbp.from_dict(
    {
        "name": "biased",
        "input": 3,
        "bias": True,
        "layers": [
            {"units": 4, "activation": "tanh"},
            {"units": 3, "activation": "sigmoid"},
            {"units": 2, "activation": "identity"},
        ],
    }
)
WIDE = symbp.from_dict(
    {
        "name": "wide",
        "input": 40,
        "bias": True,
        "layers": [{"units": 50, "activation": "tanh"}, {"units": 30, "activation": "identity"}],
    }
)
NAMES = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
#: hyper-parameters other than the defaults, so that a swapped or ignored one shows
CHANGED = {
    "momentum": {"momentum": 0.7},
    "nesterov": {"momentum": 0.8},
    "adagrad": {"eps": 1e-3},
    "rmsprop": {"rho": 0.9, "eps": 1e-4},
    "adam": {"beta1": 0.8, "beta2": 0.99, "eps": 1e-5},
    "adamw": {"beta1": 0.85, "beta2": 0.95, "eps": 1e-6, "decoupled_decay": 0.1},
}
LAYER_LR = {1: 0.5, 3: 2.0}  # layer 2 keeps the base step
STEPS = 6


@pytest.fixture(scope="module")
def mod():
    return module_for(BIASED)


def _data(seed=0, n=5):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((3, n)), rng.standard_normal((2, n))


def _base_lr(k):
    """A step size that changes with k (a schedule is applied before apply_update)."""
    return 0.05 / np.sqrt(k)


def _layer(key):
    return int(key[1:])


# ---------------------------------------------------------------- the published updates


def published_step(name, hyper, theta, g, state, lr, k):
    """θ's new value after one update of `name` (the published formulas, torch.optim's form);
    `state` (a dict, empty before the first update) is updated."""
    h = hyper
    if name == "sgd":
        return theta - lr * g
    if name in ("momentum", "nesterov"):
        buf = h["momentum"] * state.get("buf", 0.0) + g
        state["buf"] = buf
        direction = buf if name == "momentum" else g + h["momentum"] * buf
        return theta - lr * direction
    if name == "adagrad":
        state["sum"] = state.get("sum", 0.0) + g * g
        return theta - lr * g / (np.sqrt(state["sum"]) + h["eps"])
    if name == "rmsprop":
        state["sq"] = h["rho"] * state.get("sq", 0.0) + (1 - h["rho"]) * g * g
        return theta - lr * g / (np.sqrt(state["sq"]) + h["eps"])
    if name == "adamw":
        theta = theta * (1 - lr * h["decoupled_decay"])
    b1, b2 = h["beta1"], h["beta2"]
    state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
    state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
    m_hat, v_hat = state["m"] / (1 - b1**k), state["v"] / (1 - b2**k)
    return theta - lr * m_hat / (np.sqrt(v_hat) + h["eps"])


def _hyper(name, changed):
    defaults = {
        "sgd": {},
        "momentum": {"momentum": 0.9},
        "nesterov": {"momentum": 0.9},
        "adagrad": {"eps": 1e-10},
        "rmsprop": {"rho": 0.99, "eps": 1e-8},
        "adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
        "adamw": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "decoupled_decay": 0.01},
    }[name]  # torch.optim's defaults, momentum's 0.9 excepted (see catalog/optimizers.py)
    return {**defaults, **(CHANGED.get(name, {}) if changed else {})}


@pytest.mark.parametrize("changed", [False, True], ids=["defaults", "changed"])
@pytest.mark.parametrize("layer_lr", [None, LAYER_LR], ids=["one_step", "layer_lr"])
@pytest.mark.parametrize("name", NAMES)
def test_steps_follow_the_published_update(mod, name, layer_lr, changed):
    X, Y = _data()
    params = mod.init_params(seed=1)
    assert {"b1", "b2", "b3"} <= set(params)
    hyper = _hyper(name, changed)
    state = mod.init_state(params, name, **(CHANGED.get(name, {}) if changed else {}))
    assert state["hyper"] == hyper
    expected = {key: p.copy() for key, p in params.items()}
    memory = {key: {} for key in params}
    for k in range(1, STEPS + 1):
        grads = mod.gradients(params, X, Y)
        for key, g in mod.gradients(expected, X, Y).items():
            lr = _base_lr(k) * (layer_lr or {}).get(_layer(key), 1.0)
            expected[key] = published_step(name, hyper, expected[key], g, memory[key], lr, k)
        mod.apply_update(params, grads, state, _base_lr(k), k, layer_lr=layer_lr)
        for key in params:
            np.testing.assert_allclose(params[key], expected[key], rtol=1e-12, atol=1e-14)
    start = mod.init_params(seed=1)
    assert all(not np.array_equal(params[key], start[key]) for key in params), "every param moved"


# ---------------------------------------------------------------- torch.optim


def _torch_optimizer(torch, name, hyper, groups):
    o = torch.optim
    if name in ("sgd", "momentum", "nesterov"):
        extra = {} if name == "sgd" else {"momentum": hyper["momentum"]}
        return o.SGD(groups, lr=1.0, nesterov=name == "nesterov", **extra)
    if name == "adagrad":
        return o.Adagrad(groups, lr=1.0, eps=hyper["eps"])
    if name == "rmsprop":
        return o.RMSprop(groups, lr=1.0, alpha=hyper["rho"], eps=hyper["eps"])
    betas = (hyper["beta1"], hyper["beta2"])
    if name == "adam":
        return o.Adam(groups, lr=1.0, betas=betas, eps=hyper["eps"])
    return o.AdamW(
        groups, lr=1.0, betas=betas, eps=hyper["eps"], weight_decay=hyper["decoupled_decay"]
    )


@pytest.mark.parametrize("name", NAMES)
def test_steps_agree_with_torch_optim(mod, name):
    torch = pytest.importorskip("torch")
    X, Y = _data(seed=3)
    params = mod.init_params(seed=2)
    hyper = _hyper(name, changed=True)
    state = mod.init_state(params, name, **CHANGED.get(name, {}))
    tensors = {key: torch.tensor(p.copy(), dtype=torch.float64) for key, p in params.items()}
    groups = [
        {"params": [t], "factor": LAYER_LR.get(_layer(key), 1.0)} for key, t in tensors.items()
    ]
    opt = _torch_optimizer(torch, name, hyper, groups)
    for k in range(1, STEPS + 1):
        mod.apply_update(params, mod.gradients(params, X, Y), state, _base_lr(k), k, LAYER_LR)
        current = {key: t.detach().numpy().copy() for key, t in tensors.items()}
        for key, grad in mod.gradients(current, X, Y).items():
            tensors[key].grad = torch.from_numpy(grad)
        for group in opt.param_groups:
            group["lr"] = _base_lr(k) * group["factor"]
        opt.step()
        for key, t in tensors.items():
            np.testing.assert_allclose(params[key], t.detach().numpy(), rtol=1e-10, atol=1e-13)


# ---------------------------------------------------------------- the forms (u.1) and (u.2)


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_one_vector_and_layer_by_layer_give_the_same_iterates(mod, name):
    """(u.1) w ← w − α d on w ∈ R^d at once, (u.2) W_j ← W_j − α D_j per layer: with one α and an
    entry-wise update they are the same iterates."""
    X, Y = _data(seed=4)
    params = mod.init_params(seed=5)
    w, views = mod.flat_params(params)
    assert w.ndim == 1 and w.size == sum(p.size for p in params.values())
    assert all(np.shares_memory(view, w) for view in views.values())
    flat_state, state = mod.init_state(w, name), mod.init_state(params, name)
    for k in range(1, STEPS + 1):
        before = w.copy()
        mod.apply_update(w, mod.gradients(views, X, Y), flat_state, _base_lr(k), k)
        mod.apply_update(params, mod.gradients(params, X, Y), state, _base_lr(k), k)
        assert not np.array_equal(w, before)
        for key, p in params.items():
            np.testing.assert_array_equal(views[key], p)
    flat_grad = np.concatenate([g.ravel() for g in mod.gradients(views, X, Y).values()])
    before = w.copy()
    mod.apply_update(w, flat_grad, flat_state, 0.1, STEPS + 1)  # a flat gradient is taken as is
    assert not np.array_equal(w, before)


def test_one_vector_has_one_step_size(mod):
    params = mod.init_params()
    w, views = mod.flat_params(params)
    state = mod.init_state(w)
    with pytest.raises(ValueError, match="layer_lr needs the layer-wise form"):
        mod.apply_update(w, mod.gradients(views, *_data()), state, 0.1, 1, layer_lr={1: 2.0})


def test_layer_factors_scale_each_layers_step_alone(mod):
    X, Y = _data(seed=6)
    params = mod.init_params(seed=7)
    start = {key: p.copy() for key, p in params.items()}
    grads = mod.gradients(params, X, Y)
    mod.apply_update(params, grads, mod.init_state(params), 0.2, 1, layer_lr={2: 3.0})
    for key, p in params.items():
        factor = 3.0 if _layer(key) == 2 else 1.0
        np.testing.assert_allclose(p, start[key] - 0.2 * factor * grads[key], rtol=1e-14)
    with pytest.raises(ValueError, match="layer_lr keys must be layers"):
        mod.apply_update(params, grads, mod.init_state(params), 0.2, 1, layer_lr={4: 1.0})


# ---------------------------------------------------------------- state, allocation, dtype


def test_optimizers_constant_is_the_registry_with_its_defaults(mod):
    expected = {
        o.name: {h.code: h.initial for h in o.hyperparameters}
        for o in optimizers.OPTIMIZERS.values()
    }
    assert mod.OPTIMIZERS == expected
    assert set(mod.OPTIMIZERS) == set(NAMES)
    for name in NAMES:
        assert mod.OPTIMIZERS[name] == _hyper(name, changed=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"optimizer": "lbfgs"}, "optimizer must be one of"),
        ({"optimizer": "adam", "beta3": 0.5}, "adam takes the hyper-parameters"),
        ({"optimizer": "sgd", "momentum": 0.9}, "sgd takes the hyper-parameters: none"),
        ({"optimizer": "adam", "eps": float("nan")}, "eps must be a finite number"),
        ({"optimizer": "rmsprop", "rho": "0.9"}, "rho must be a number"),
    ],
)
def test_init_state_refuses_bad_names_and_values(mod, kwargs, message):
    with pytest.raises(ValueError, match=message):
        mod.init_state(mod.init_params(), **kwargs)


def test_default_step_sizes(mod):
    assert mod.default_lr("adam", 7) == 0.001 and mod.default_lr("adagrad", 7) == 0.01
    assert mod.default_lr("sgd", 7) == pytest.approx(0.1)  # a mean: the same for every n
    assert mod.default_lr("momentum", 7) == pytest.approx(0.1 * (1 - 0.9))


@pytest.mark.parametrize("name", NAMES)
def test_updates_allocate_no_array_and_keep_float32(name):
    wide = module_for(WIDE)
    rng = np.random.default_rng(8)
    X, Y = rng.standard_normal((40, 16)), rng.standard_normal((30, 16))
    params = wide.init_params(dtype=np.float32)
    grads = wide.gradients(params, X.astype(np.float32), Y.astype(np.float32))
    state = wide.init_state(params, name)
    wide.apply_update(params, grads, state, 0.01, 1, layer_lr={1: 0.5})  # warm up
    # every param runs the same update code, so a temporary would show for the weights too
    smallest = min(p.nbytes for key, p in params.items() if key.startswith("W")) // 2
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        for k in range(2, 5):
            wide.apply_update(params, grads, state, 0.01, k, layer_lr={1: 0.5})
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < smallest, f"apply_update allocated {peak} bytes (half a weight: {smallest})"
    assert all(p.dtype == np.float32 for p in params.values())
    assert all(np.isfinite(p).all() for p in params.values())


# ---------------------------------------------------------------- the documents' update rule


@pytest.mark.parametrize("name", NAMES)
def test_the_displayed_update_is_the_registrys_formula(name):
    """The reading order the documents print in changes no formula, and each assignment is
    printed exactly as update_rule lays it out."""
    opt = optimizers.OPTIMIZERS[name]
    coefficients = frozenset(
        {optimizers.alpha, optimizers.k, *(h.symbol for h in opt.hyperparameters)}
    )
    for target, formula in (*opt.steps, (None, opt.direction)):
        shown = document._reading_order(formula, coefficients, target)
        assert sp.simplify(shown.doit() - formula) == 0, (name, target)


@pytest.mark.parametrize("beamer", [False, True], ids=["article", "beamer"])
@pytest.mark.parametrize("name", ["sgd", "nesterov", "adamw"])
def test_documents_show_the_chosen_optimizers_update_and_both_forms(name, beamer, monkeypatch):
    monkeypatch.setattr(document, "chosen_optimizer", lambda spec: optimizers.OPTIMIZERS[name])
    tex = symbp.latex_document(BIASED, beamer=beamer, command="pytest")
    rule = document.update_rule(BIASED, symbp.derive(BIASED).batch, document.ARTICLE)
    assert rf"\texttt{{{name}}}" in tex
    for line in (line for frame in rule["steps"] for line in frame):
        assert str(line).split("&")[-1].strip().rstrip(",") in tex
    assert rule["hyper"] in tex and rule["direction"] in tex
    assert tex.count(r"\text{(u.1)}") == 1 and tex.count(r"\text{(u.2)}") == 1
    size = sum(int(np.prod(shape)) for shape in module_for(BIASED).PARAM_SHAPES.values())
    assert rf"\mathbb{{R}}^{{{size}}}" in tex
    assert "per-layer step sizes" in tex


def test_documents_show_sgd_when_the_spec_names_no_optimizer():
    tex = symbp.latex_document(BIASED, command="pytest")
    section = tex[tex.index(r"\section{Update rule}") :]
    assert r"\texttt{sgd}" in section
    assert r"\theta &\leftarrow \theta - \alpha g" in section


# ---------------------------------------------------------------- in-place code


X_, Y_ = sp.symbols("x y", real=True)
C_ = sp.Symbol("c", positive=True)


@pytest.mark.parametrize(
    "formula",
    [
        X_ * Y_ + X_**2,  # the target read by two terms: evaluated in scratch, then copied
        C_ / (X_ + Y_),
        sp.sqrt(X_) * Y_ - 2 * X_,
        Y_ - X_ / (1 + C_ * Y_**2) + C_,
        (X_ + Y_) ** 3 / Y_,
        -X_,
    ],
    ids=str,
)
def test_in_place_statements_compute_the_formula(formula):
    lowered = inplace.statements([(X_, formula)], [X_, Y_])
    rng = np.random.default_rng(9)
    x, y = rng.uniform(0.5, 2.0, (2, 3, 4))
    names = {"np": np, "x": x.copy(), "y": y.copy(), "c": 0.7}
    names |= {f"scratch{i}": np.empty_like(x) for i in range(lowered.scratch)}
    exec("\n".join(lowered.lines), names)  # code symbp printed, run on local arrays
    expected = sp.lambdify((X_, Y_, C_), formula, "numpy")(x, y, 0.7)
    np.testing.assert_allclose(names["x"], expected, rtol=1e-13)
    np.testing.assert_array_equal(names["y"], y)


@pytest.mark.parametrize("beamer", [False, True], ids=["article", "beamer"])
@pytest.mark.parametrize("name", ["rmsprop", "adamw"])
def test_update_rule_of_the_longest_optimizers_fits_the_page(name, beamer, monkeypatch, tmp_path):
    from .test_overfull import _compile

    monkeypatch.setattr(document, "chosen_optimizer", lambda spec: optimizers.OPTIMIZERS[name])
    tex = symbp.latex_document(BIASED, beamer=beamer, command="pytest")
    run, log = _compile(tex, tmp_path)
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert run.returncode == 0 and not errors, errors or run.stdout[-1500:]
    assert not [line for line in log.splitlines() if line.startswith("Overfull")]


def test_documents_take_the_optimizer_and_values_the_train_table_sets():
    """A spec's `train` (the [train] table: optimizer and hyper-parameter pairs) chooses what the
    update rule shows; a stand-in here, so that the test does not depend on the table's parser."""
    spec = SimpleNamespace(train=SimpleNamespace(optimizer="adam", hyper=(("beta1", 0.8),)))
    assert document.chosen_optimizer(spec) is optimizers.ADAM
    assert document.chosen_hyper(spec, optimizers.ADAM) == {**optimizers.ADAM.hyper, "beta1": 0.8}
    assert document.chosen_hyper(BIASED, optimizers.ADAM) == optimizers.ADAM.hyper
    assert document.chosen_optimizer(BIASED) is optimizers.SGD
