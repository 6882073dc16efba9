"""The command line and the training API every backend's module shares (templates/common/):
`python MODULE.py` trains the PyTorch and JAX modules as it trains the NumPy one, parameter
files move between backends, bad arguments get one line and exit status 2, `training`
yields the same records and block-coordinate descent the same params in every backend."""

from __future__ import annotations

import subprocess
import sys
from functools import cache

import numpy as np
import pytest

import symbp
from symbp.output.module import module_source
from symbp.proof.check import load_module
from symbp.spec.model import Layer, Spec

from .conftest import EXAMPLES, module_for

BACKENDS = ("torch", "jax")
LECTURE = next(p for p in EXAMPLES if p.stem == "lecture")
SOFTMAX = next(p for p in EXAMPLES if p.stem == "softmax_classifier")


def _framework(backend: str):
    return pytest.importorskip(backend, reason=f"the {backend} backend's tests need {backend}")


@cache
def _source(path, backend: str) -> str:
    return module_source(symbp.load_spec(path), f"symbp generate --backend {backend}", backend)


def _written(tmp_path, path, backend: str):
    """The module emitted for the spec at `path`, written into tmp_path; its path."""
    _framework(backend)
    target = tmp_path / f"{path.stem}_{backend}.py"
    target.write_text(_source(path, backend), encoding="utf-8")
    return target


def _run(module, *args, cwd):
    return subprocess.run(
        [sys.executable, str(module), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def _teacher_data(tmp_path, spec, n=24, seed=3):
    """An .npz of inputs and the NumPy module's outputs for them (a teacher): float64."""
    rng = np.random.default_rng(seed)
    numpy_mod = module_for(spec)
    X = rng.standard_normal((spec.widths[0], n))
    Y = numpy_mod.forward(numpy_mod.init_params(seed=seed), X)[-1]
    path = tmp_path / "data.npz"
    np.savez(path, X=X, Y=Y)
    return path, X


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_command_line_trains_saves_and_predicts_as_numpy_reads_it(tmp_path, backend):
    """Train with --data and --save, then predict with --load: the NumPy module given the same
    parameter file predicts the same outputs (float64, 1e-12), so trained parameters move
    between backends."""
    spec = symbp.load_spec(LECTURE)
    module = _written(tmp_path, LECTURE, backend)
    data, X = _teacher_data(tmp_path, spec)
    trained = _run(module, "--data", data, "--epochs", 30, "--save", "p.npz", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    lines = trained.stdout.splitlines()
    assert lines[0].startswith("epoch 0/30: loss ")
    assert any(line.startswith("epoch 30/30: loss ") for line in lines)
    assert "gradient check: max relative error" in trained.stdout
    first = float(lines[0].split("loss ")[1].split(",")[0])
    last = float(
        next(x for x in lines if x.startswith("epoch 30/30")).split("loss ")[1].split(",")[0]
    )
    assert last < first
    predicted = _run(
        module, "predict", "--load", "p.npz", "--data", data, "--out", "z.npz", cwd=tmp_path
    )
    assert predicted.returncode == 0, predicted.stderr
    numpy_mod = module_for(spec)
    params = numpy_mod.load_params(tmp_path / "p.npz")
    with np.load(tmp_path / "z.npz") as z:
        np.testing.assert_allclose(z["Z"], numpy_mod.predict(params, X), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_classifier_reports_accuracy_and_writes_labels(tmp_path, backend):
    module = _written(tmp_path, SOFTMAX, backend)
    trained = _run(module, "--epochs", 3, "--save", "p.npz", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert ", acc " in trained.stdout
    spec = symbp.load_spec(SOFTMAX)
    np.savez(tmp_path / "x.npz", X=np.random.default_rng(0).standard_normal((spec.widths[0], 5)))
    predicted = _run(module, "predict", "--load", "p.npz", "--data", "x.npz", cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    header, *rows = predicted.stdout.splitlines()
    assert header.startswith("label,z_1") and len(rows) == 5
    numpy_mod = module_for(spec)
    params = numpy_mod.load_params(tmp_path / "p.npz")
    labels = numpy_mod.labels_of(numpy_mod.predict(params, np.load(tmp_path / "x.npz")["X"]))
    assert [int(row.split(",")[0]) for row in rows] == labels.tolist()


@pytest.mark.parametrize(
    ("backend", "args", "field"),
    [
        ("torch", ("--device", "no-such-device"), "--device"),
        ("torch", ("--device", "meta"), "--device"),  # shapes only: nothing to compute on
        ("jax", ("--epochs", "-1"), "--epochs"),
        ("torch", ("--data", "wrong.npz"), "--data wrong.npz"),
        ("jax", ("predict", "--load", "missing.npz", "--data", "wrong.npz"), "--data wrong.npz"),
    ],
)
def test_bad_arguments_get_one_line_and_status_2(tmp_path, backend, args, field):
    module = _written(tmp_path, LECTURE, backend)
    np.savez(tmp_path / "wrong.npz", X=np.zeros((3, 5)), Y=np.zeros((2, 5)))  # d_0 is 4
    result = _run(module, *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert field in result.stderr and "Traceback" not in result.stderr


def _api_module(backend: str):
    _framework(backend)
    return load_module(_source(LECTURE, backend), f"lecture_api_{backend}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_training_yields_the_numpy_trainers_records(backend):
    """`training` is an endless generator in every backend, its records have the NumPy
    trainer's keys, and its losses and gradient norms equal the NumPy trainer's for the same
    initial params and data (float64, GD)."""
    numpy_mod = module_for(symbp.load_spec(LECTURE))
    module = _api_module(backend)
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((4, 16)), rng.uniform(size=(2, 16))
    start = numpy_mod.init_params(seed=1)
    copied = {key: value.copy() for key, value in start.items()}  # training updates in place
    want = [r for _, r in zip(range(3), numpy_mod.training(copied, X, Y, lr=0.1), strict=False)]
    if backend == "torch":
        import torch

        params = {key: torch.tensor(value) for key, value in start.items()}
        data = torch.tensor(X), torch.tensor(Y)
    else:
        import jax

        with jax.enable_x64(True):
            params = {key: jax.numpy.asarray(value) for key, value in start.items()}
            data = jax.numpy.asarray(X), jax.numpy.asarray(Y)
            got = [
                r for _, r in zip(range(3), module.training(params, *data, lr=0.1), strict=False)
            ]
    if backend == "torch":
        got = [r for _, r in zip(range(3), module.training(params, *data, lr=0.1), strict=False)]
    assert [set(r) for r in got] == [set(r) for r in want]
    for key in ("loss", "grad_norm"):
        np.testing.assert_allclose([r[key] for r in got], [r[key] for r in want], rtol=1e-12)
    for g, w in zip(got, want, strict=True):
        assert g["layer_grad_norms"] == pytest.approx(w["layer_grad_norms"], rel=1e-12)
    for key, value in copied.items():  # `training` updated (torch) or replaced (jax) them
        np.testing.assert_allclose(np.asarray(params[key]), value, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("backend", BACKENDS)
def test_block_coordinate_descent_matches_numpy_and_solves_each_block(backend):
    """`bcd_step` in the torch and jax modules (the shared template, each backend's
    least-squares spelling) gives the NumPy module's params step by step (float64, 1e-9), and
    each step zeroes the derived gradient of its block (the normal equations hold)."""
    _framework(backend)
    spec = Spec(
        "dl_bcd", 5, (Layer(4, "identity", True), Layer(3, "identity"), Layer(2, "identity", True))
    )
    numpy_mod = module_for(spec)
    module = load_module(module_source(spec, "cmd", backend), f"dl_bcd_{backend}")
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((5, 40)), rng.standard_normal((2, 40))
    want = numpy_mod.init_params(seed=4)
    if backend == "torch":
        import torch

        network = module.Network({key: torch.tensor(value) for key, value in want.items()})
        params, data = network.params(), (torch.tensor(X), torch.tensor(Y))
    else:
        import jax

        jax.config.update("jax_enable_x64", True)
        params = {key: jax.numpy.asarray(value) for key, value in want.items()}
        data = jax.numpy.asarray(X), jax.numpy.asarray(Y)
    for layer in (1, 2, 3, 1):
        numpy_mod.bcd_step(want, X, Y, layer)
        module.bcd_step(params, *data, layer)
        for key, value in want.items():
            np.testing.assert_allclose(_host(params[key]), value, rtol=1e-9, atol=1e-11)
        grads = module.gradients(params, *data)
        assert float(np.linalg.norm(_host(grads[f"W{layer}"]))) < 1e-9
    losses = module.train_bcd(params, *data, sweeps=2)
    assert all(isinstance(x, float) for x in losses)
    assert losses[-1] == pytest.approx(float(numpy_mod.loss(want, X, Y)), rel=1e-9)


def _host(A):
    return A.detach().numpy() if hasattr(A, "detach") else np.asarray(A)


def _emits(path, backend: str) -> bool:
    """The examples `backend` emits (the torch and jax backends refuse the perceptron's step)."""
    from symbp.derivation.lecture import frozen_layers

    spec = symbp.load_spec(path)
    if backend == "numpy":
        return True
    return not frozen_layers(spec)


@pytest.mark.parametrize("backend", ("numpy", *BACKENDS))
def test_no_top_level_name_is_defined_twice(backend):
    """The shared templates and a backend's own define each function, class and constant
    once: a second definition would silently replace the first (ruff only flags an unused
    one)."""
    import ast

    for path in EXAMPLES:
        if not _emits(path, backend):
            continue
        tree = ast.parse(_source(path, backend))
        names = []
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.append(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names += [t.id for t in targets if isinstance(t, ast.Name)]
        twice = sorted({name for name in names if names.count(name) > 1})
        assert not twice, (path.stem, twice)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_command_line_trains_and_predicts_sequences(tmp_path, backend):
    """A recurrent network's module: sequences (T, d_0, N) in, every step's outputs
    (T, d_J, N) out, the same as the NumPy module's for the saved params."""
    elman = next(p for p in EXAMPLES if p.stem == "elman")
    module = _written(tmp_path, elman, backend)
    trained = _run(module, "--epochs", 2, "--save", "p.npz", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    spec = symbp.load_spec(elman)
    X = np.random.default_rng(1).standard_normal((spec.steps or 5, spec.widths[0], 3))
    np.savez(tmp_path / "x.npz", X=X)
    predicted = _run(
        module, "predict", "--load", "p.npz", "--data", "x.npz", "--out", "z.npz", cwd=tmp_path
    )
    assert predicted.returncode == 0, predicted.stderr
    numpy_mod = module_for(spec)
    want = numpy_mod.predict(numpy_mod.load_params(tmp_path / "p.npz"), X)
    with np.load(tmp_path / "z.npz") as z:
        assert z["Z"].shape == want.shape
        np.testing.assert_allclose(z["Z"], want, rtol=1e-12, atol=1e-14)


ELMAN = next(p for p in EXAMPLES if p.stem == "elman")  # steps = 4, an output at every step


@pytest.mark.parametrize("backend", ("numpy", *BACKENDS))
def test_predict_refuses_sequences_of_another_length_and_needs_an_npz_out(tmp_path, backend):
    """A network derived for T = 4 predicts T = 4 sequences only, as it trains on them (one
    line naming --data, exit 2); its outputs at every step need --out FILE.npz (argparse's
    one line)."""
    module = _written(tmp_path, ELMAN, backend) if backend != "numpy" else _numpy_file(tmp_path)
    X = np.random.default_rng(0).standard_normal((5, 2, 3))
    np.savez(tmp_path / "x.npz", X=X)
    np.savez(tmp_path / "p.npz", **module_for(symbp.load_spec(ELMAN)).init_params(seed=0))
    wrong = _run(
        module, "predict", "--load", "p.npz", "--data", "x.npz", "--out", "z.npz", cwd=tmp_path
    )
    assert wrong.returncode == 2 and len(wrong.stderr.strip().splitlines()) == 1, wrong.stderr
    assert "--data x.npz" in wrong.stderr and "derived for T = 4" in wrong.stderr
    no_out = _run(module, "predict", "--load", "p.npz", "--data", "x.npz", cwd=tmp_path)
    assert no_out.returncode == 2 and "--out" in no_out.stderr, no_out.stderr
    assert len(no_out.stderr.strip().splitlines()) <= 2 and "Traceback" not in no_out.stderr


def _numpy_file(tmp_path):
    target = tmp_path / "elman_numpy.py"
    target.write_text(_source(ELMAN, "numpy"), encoding="utf-8")
    return target


def test_predict_reads_feature_maps_as_training_does(tmp_path):
    """X given as one (channels, width) map per sample, (C, W, N), predicts as its flattened
    columns (C·W, N) do (the shared data layer; NumPy's module stands for the three)."""
    conv = next(p for p in EXAMPLES if p.stem == "conv1d_circular")
    spec = symbp.load_spec(conv)
    target = tmp_path / "conv.py"
    target.write_text(_source(conv, "numpy"), encoding="utf-8")
    numpy_mod = module_for(spec)
    np.savez(tmp_path / "p.npz", **numpy_mod.init_params(seed=1))
    maps = np.random.default_rng(2).standard_normal((*spec.shapes[0], 4))
    np.savez(tmp_path / "x.npz", X=maps)
    run = _run(
        target, "predict", "--load", "p.npz", "--data", "x.npz", "--out", "z.npz", cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    want = numpy_mod.predict(numpy_mod.init_params(seed=1), maps.reshape(spec.widths[0], 4))
    with np.load(tmp_path / "z.npz") as z:
        np.testing.assert_allclose(z["Z"], want, rtol=1e-12)
