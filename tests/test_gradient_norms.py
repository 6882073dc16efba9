"""Per-layer gradient norms and the training picture: the emitted `layer_gradient_norms` and
`plot_history`, `symbp.gradient_norms` and the table `symbp check` prints.  The norms are checked
against the emitted gradients and against an independent autograd gradient; the 20-layer
sigmoid stack's norms must shrink layer by layer at initialisation, as sigma' <= 1/4 makes them."""

from __future__ import annotations

import itertools
import subprocess
import sys

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

import symbp
from symbp import cli
from symbp.proof.check import (
    TOLERANCE,
    numeric_check,
    round_off,
    sample_problem,
    unresolved_gradients,
)

from .conftest import EXAMPLES, ROOT, check_report, module_for

VANISHING = ROOT / "examples" / "vanishing"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def spec_at(path) -> symbp.Spec:
    return symbp.load_spec(path)


def deep(activation: str) -> symbp.Spec:
    return spec_at(VANISHING / f"deep_{activation}.toml")


# An independent reference, written from the lecture's equations: u_j = W_j z_{j-1} + b_j,
# z_j = sigma_j(u_j), f = (1/N) ||Y - Z_J||_F^2.  Nothing here comes from symbp.
REFERENCE_ACTIVATIONS = {
    "sigmoid": lambda u: 1 / (1 + anp.exp(-u)),
    "tanh": anp.tanh,
    "relu": lambda u: anp.maximum(u, 0.0),
    "identity": lambda u: u,
}


def reference_objective(params, spec, X, Y):
    z = X
    for j, layer in enumerate(spec.layers, start=1):
        u = anp.dot(params[f"W{j}"], z)
        if f"b{j}" in params:
            u = u + params[f"b{j}"]
        z = REFERENCE_ACTIVATIONS[layer.activation_name](u)
    return anp.sum((Y - z) ** 2) / X.shape[1]


def reference_norms(spec, params, X, Y) -> dict:
    """||d f / d param||_F by autograd's reverse mode on `reference_objective`."""
    assert spec.loss == "l2" and spec.reduction == "mean" and spec.loss_factor == 1
    grads = grad(reference_objective)(params, spec, X, Y)
    return {key: float(np.linalg.norm(g)) for key, g in grads.items()}


def init_problem(spec, samples=5):
    """The emitted module, its init_params(0) and the check's X, Y."""
    module = module_for(spec)
    _, X, Y = sample_problem(spec, module, samples)
    return module, module.init_params(seed=0), X, Y


REFERENCE_SPECS = [
    ROOT / "examples" / "lecture.toml",
    ROOT / "examples" / "deep_mlp.toml",
    VANISHING / "deep_sigmoid.toml",
    VANISHING / "deep_tanh.toml",
    VANISHING / "deep_relu.toml",
]


@pytest.mark.parametrize("path", REFERENCE_SPECS, ids=lambda p: p.stem)
def test_reported_norms_are_the_norms_of_the_gradients(path):
    spec = spec_at(path)
    module, params, X, Y = init_problem(spec)
    reported = module.layer_gradient_norms(params, X, Y)
    computed = module.gradients(params, X, Y)
    assert list(reported) == list(computed) == list(module.PARAM_SHAPES)
    for key, g in computed.items():
        assert reported[key] == pytest.approx(np.sqrt(np.sum(g**2)), rel=1e-12, abs=0)
    independent = reference_norms(spec, params, X, Y)
    assert set(independent) == set(reported)
    for key, norm in independent.items():
        assert reported[key] == pytest.approx(norm, rel=1e-9, abs=0), key


@pytest.mark.parametrize("path", REFERENCE_SPECS[:3], ids=lambda p: p.stem)
def test_symbp_gradient_norms_are_the_emitted_norms_at_initialisation(path):
    spec = spec_at(path)
    module, params, X, Y = init_problem(spec)
    rows = symbp.gradient_norms(spec)
    independent = reference_norms(spec, params, X, Y)
    assert [row.param for row in rows] == list(module.PARAM_SHAPES)  # layer order, W before b
    assert [row.layer for row in rows] == [int(row.param[1:]) for row in rows]
    assert [row.layer for row in rows] == sorted(row.layer for row in rows)
    for row in rows:
        assert row.norm == pytest.approx(independent[row.param], rel=1e-9, abs=0)


def test_no_gradient_norms_where_there_is_no_gradient():
    assert symbp.gradient_norms(spec_at(ROOT / "examples" / "perceptron.toml")) == ()
    symbolic = symbp.Spec(
        name="s", input="d_0", layers=(symbp.Layer(units=2, activation="sigmoid"),)
    )
    assert symbp.gradient_norms(symbolic) == ()


def test_sigmoid_stack_norms_shrink_from_the_last_layer_to_the_first():
    """With one sample, d f / d b_j = delta_j = (W_{j+1}^T delta_{j+1}) o sigma'_j and
    0 < sigma' <= 1/4, so ||delta_j|| <= ||W_{j+1}||_2 ||delta_{j+1}|| / 4: below
    ||delta_{j+1}|| wherever ||W_{j+1}||_2 < 4, which holds at the spec's initialisation."""
    spec = deep("sigmoid")
    module, params, X, Y = init_problem(spec, samples=1)
    norms = module.layer_gradient_norms(params, X, Y)
    J = spec.depth
    for j in range(1, J):
        spectral = np.linalg.norm(params[f"W{j + 1}"], 2)
        assert spectral < 4, (j, spectral)
        assert norms[f"b{j}"] <= spectral * norms[f"b{j + 1}"] / 4 * (1 + 1e-12)
        assert norms[f"b{j}"] < norms[f"b{j + 1}"]
    # and the weights, as `symbp check` reports them (the check's 5 samples)
    weights = [row.norm for row in symbp.gradient_norms(spec) if row.param.startswith("W")]
    assert len(weights) == J == 20
    assert all(a < b for a, b in itertools.pairwise(weights)), weights
    assert weights[0] < 1e-9 * weights[-1]


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_tanh_and_relu_stacks_keep_their_norms_for_contrast(activation):
    weights = [row.norm for row in symbp.gradient_norms(deep(activation)) if row.param[0] == "W"]
    assert len(weights) == 20 and min(weights) > 0
    assert min(weights) > 1e-2 * max(weights), weights


def test_check_prints_the_gradient_norms_table(monkeypatch, symbp_main):
    spec = spec_at(ROOT / "examples" / "deep_mlp.toml")
    _, params, X, Y = init_problem(spec)
    expected = reference_norms(spec, params, X, Y)
    monkeypatch.setattr(cli, "check", check_report)  # the cached report test_check computes
    run = symbp_main("check", ROOT / "examples" / "deep_mlp.toml")
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("gradient norms"))
    assert lines[start + 1].split() == ["layer", "W", "b"]
    rows = [line.split() for line in lines[start + 2 : start + 2 + spec.depth]]
    assert [int(row[0]) for row in rows] == list(range(1, spec.depth + 1))
    for layer, w, b in rows:
        assert float(w) == pytest.approx(expected[f"W{layer}"], rel=6e-3)
        assert float(b) == pytest.approx(expected[f"b{layer}"], rel=6e-3)
    assert lines[start + 2 + spec.depth] == "all checks passed"


def test_check_prints_no_table_without_a_gradient(monkeypatch, symbp_main):
    monkeypatch.setattr(cli, "check", check_report)
    run = symbp_main("check", ROOT / "examples" / "perceptron.toml")
    assert run.returncode == 0 and "all checks passed" in run.stdout, run.stdout
    assert "gradient norms" not in run.stdout


def history_of(module, params, X, Y, epochs, lr, validation=True):
    """Records as `train` yields them, from plain gradient steps."""
    records = []
    for epoch in range(1, epochs + 1):
        module.sgd_step(params, X, Y, lr)
        record = {
            "epoch": epoch,
            "loss": module.loss(params, X, Y),
            "layer_grad_norms": module.layer_gradient_norms(params, X, Y),
        }
        if validation:
            record["val_loss"] = module.loss(params, -X, Y)
        records.append(record)
    return records


@pytest.mark.parametrize("validation", [True, False], ids=["with_val", "train_only"])
def test_plot_history_writes_a_png_matplotlib_reads_back(tmp_path, validation):
    pytest.importorskip("matplotlib")
    from matplotlib.image import imread

    spec = deep("sigmoid")
    module, params, X, Y = init_problem(spec, samples=8)
    history = history_of(module, params, X, Y, epochs=12, lr=0.5, validation=validation)
    history[3]["layer_grad_norms"]["W2"] = 0.0  # a dead layer: not drawable on a log scale
    path = tmp_path / "history.png"
    assert module.plot_history(history, path) is None
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 10_000
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 400
    assert np.unique(image.reshape(-1, image.shape[2]), axis=0).shape[0] > 50  # not blank


def test_plot_history_keeps_the_global_backend(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    module, params, X, Y = init_problem(spec_at(ROOT / "examples" / "lecture.toml"))
    before = matplotlib.get_backend()
    module.plot_history(history_of(module, params, X, Y, epochs=3, lr=1.0), tmp_path / "h.png")
    assert matplotlib.get_backend() == before
    assert (tmp_path / "h.png").read_bytes()[:8] == PNG_SIGNATURE


def test_plot_history_refuses_an_empty_history(tmp_path):
    module = module_for(spec_at(ROOT / "examples" / "lecture.toml"))
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="history is empty"):
        module.plot_history([], tmp_path / "h.png")
    assert not (tmp_path / "h.png").exists()


def test_plot_history_without_matplotlib_raises_one_clear_error(monkeypatch, tmp_path):
    module, params, X, Y = init_problem(spec_at(ROOT / "examples" / "lecture.toml"))
    history = history_of(module, params, X, Y, epochs=2, lr=1.0)
    for name in [
        "matplotlib",
        "matplotlib.backends",
        "matplotlib.backends.backend_agg",
        "matplotlib.cm",
        "matplotlib.colors",
        "matplotlib.figure",
        "matplotlib.ticker",
    ]:
        monkeypatch.setitem(sys.modules, name, None)  # `import` of it raises ImportError
    with pytest.raises(module.MatplotlibMissing) as raised:
        module.plot_history(history, tmp_path / "h.png")
    message = str(raised.value)
    assert "\n" not in message and "pip install matplotlib" in message
    assert isinstance(raised.value, ImportError)
    assert not (tmp_path / "h.png").exists()


def test_emitted_module_does_not_import_matplotlib(tmp_path):
    path = tmp_path / "lecture_module.py"
    path.write_text(symbp.generate_module(symbp.lecture_spec()), encoding="utf-8")
    probe = "import sys, lecture_module; print('matplotlib' in sys.modules)"
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0 and run.stdout.strip() == "False", run.stdout + run.stderr


@pytest.mark.parametrize("spec_path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_compares_every_gradient_to_the_tolerance(spec_path):
    """The round-off allowance of `unresolved_gradients` leaves no param of the examples out."""
    numeric = numeric_check(spec_at(spec_path))
    assert numeric.unresolved == () and "too small" not in numeric.note


def test_deep_sigmoid_check_leaves_out_only_gradients_below_round_off():
    spec = deep("sigmoid")
    numeric = numeric_check(spec)
    assert numeric.ok and numeric.error is not None and numeric.error <= TOLERANCE
    module = module_for(spec)
    params, X, Y = sample_problem(spec, module)
    grads, f = module.gradients(params, X, Y), module.loss(params, X, Y)
    assert "W1" in numeric.unresolved and "W20" not in numeric.unresolved
    for key in numeric.unresolved:
        assert np.linalg.norm(grads[key]) < round_off(f, grads[key].size) / TOLERANCE
    assert f"{len(numeric.unresolved)} of {len(grads)} params" in numeric.note


def test_a_wrong_small_gradient_is_still_caught():
    """Left out is only what agrees within round-off: a gradient off by more, however small,
    stays in the comparison and fails it."""
    rng = np.random.default_rng(0)
    f, entries = 1.0, 16
    limit = round_off(f, entries)
    true = rng.standard_normal(entries)
    numeric = {"W1": true * 1e-3 * limit, "W2": true}
    right = {"W1": numeric["W1"] + 0.5 * limit / np.sqrt(entries), "W2": true}
    assert unresolved_gradients(right, numeric, f) == ["W1"]
    wrong = {"W1": numeric["W1"] + 3 * limit, "W2": true}  # off by more than round-off
    assert unresolved_gradients(wrong, numeric, f) == []
    big = {"W1": true, "W2": true}  # a large gradient where differences see ~0
    assert unresolved_gradients(big, numeric, f) == []
