"""The emitted NumPy module: golden bytes, lint, interface, training, dtype, stability."""

from __future__ import annotations

import importlib.util
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symbp
from symbp.proof.check import load_module
from symbp.spec import formula
from symbp.spec.model import Layer, Spec

from .conftest import EXAMPLES, ROOT, CliRun, exit_status, module_for


def _regenerate():
    spec = importlib.util.spec_from_file_location(
        "regenerate", ROOT / "generated" / "regenerate.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_files_are_byte_for_byte_reproducible():
    expected = _regenerate().outputs(ROOT)
    stored = {
        p.name for p in (ROOT / "generated").iterdir() if p.suffix in (".py", ".tex", ".html")
    }
    assert stored - {"regenerate.py"} == set(expected), "generated/ has stale or missing files"
    for filename, text in expected.items():
        data = (ROOT / "generated" / filename).read_bytes()
        assert data == text.encode("utf-8"), (
            f"generated/{filename} is stale: run generated/regenerate.py"
        )


def test_emitted_modules_are_ruff_clean():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is a test dependency (pip install -e '.[test]')")
    files = sorted(str(p) for p in (ROOT / "generated").glob("*.py") if p.name != "regenerate.py")
    assert files, "no emitted module in generated/"
    for verb in (["check"], ["format", "--check"]):
        run = subprocess.run([ruff, *verb, *files], capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr


def test_emitted_module_imports_only_numpy_and_the_standard_library():
    paths = [p for p in (ROOT / "generated").glob("*.py") if p.name != "regenerate.py"]
    assert paths, "no emitted module in generated/"
    for path in paths:
        imports = [
            ln for ln in path.read_text().splitlines() if ln.startswith(("import ", "from "))
        ]
        stdlib = ["import argparse", "import math", "import os", "import sys", "import time"]
        if "def _recurrence1(" in path.read_text():  # per-thread scratch of the BPTT loops
            stdlib.insert(4, "import threading")
        assert imports == [*stdlib, "import numpy as np"]  # os: quiet exit on a closed pipe


GRADIENT_EXAMPLES = [p for p in EXAMPLES if p.stem != "perceptron"]


@pytest.mark.parametrize("spec_path", GRADIENT_EXAMPLES, ids=lambda p: p.stem)
def test_generated_module_interface_and_training(spec_path):
    spec = symbp.load_spec(spec_path)
    mod = module_for(spec)
    params = mod.init_params(seed=1)
    d = spec.widths
    for j, layer in enumerate(spec.layers, start=1):
        if layer.kind == "dense":
            assert params[f"W{j}"].shape == (d[j], d[j - 1])
            outputs = d[j]
        elif layer.kind in ("rnn", "lstm", "gru"):  # PyTorch's weight_ih_l0, weight_hh_l0
            outputs = {"rnn": 1, "lstm": 4, "gru": 3}[layer.kind] * layer.units
            assert params[f"Wxh{j}"].shape == (outputs, d[j - 1])
            assert params[f"Whh{j}"].shape == (outputs, layer.units)
        elif layer.kind.startswith("conv"):  # PyTorch's weight layout (C_out, C_in, k...)
            channels_in = spec.shapes[j - 1][0]
            assert params[f"K{j}"].shape == (layer.channels, channels_in, *layer.kernel)
            outputs = layer.channels  # one bias per output channel
        else:  # pooling has no parameters
            assert not {f"W{j}", f"K{j}", f"b{j}"} & set(params)
            continue
        assert (f"b{j}" in params) == layer.bias
        if layer.bias:
            assert params[f"b{j}"].shape == (outputs, 1)
    rng = np.random.default_rng(0)
    steps = spec.steps or 3  # sequences: X (T, d_0, N), every sequence value (d_j, T N)
    X = rng.standard_normal((steps, d[0], 40) if spec.is_recurrent else (d[0], 40))
    Y = mod.predict(mod.init_params(seed=7), X)
    Zs = mod.forward(params, X)
    assert [z.shape for z in Zs] == [
        (w, 40 * steps if seq else 40) for w, seq in zip(d, spec.sequences, strict=True)
    ]
    grads = mod.gradients(params, X, Y)
    assert {k: g.shape for k, g in grads.items()} == {k: p.shape for k, p in params.items()}
    before = mod.loss(params, X, Y)
    lr = 0.05 if spec.reduction == "mean" else 0.05 / 40
    for kwargs in ({}, {"batch_size": 1}, {"batch_size": 8, "schedule": "1/sqrt(k)"}):
        p = {k: v.copy() for k, v in params.items()}
        records = mod.train(p, X, Y, epochs=30, lr=lr, **kwargs)
        assert [r["epoch"] for r in records] == list(range(1, 31))
        assert records[-1]["loss"] < before and mod.loss(p, X, Y) < before
    assert mod.check_gradients(params, X[..., :5], Y[..., :5]) <= 1e-6


def test_loss_is_the_erm_objective_of_eq_2():
    spec = symbp.lecture_spec()
    mod = module_for(spec)
    params = mod.init_params(seed=3)
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((4, 6)), rng.random((2, 6))
    per_sample = [np.sum((Y[:, [i]] - mod.forward(params, X[:, [i]])[-1]) ** 2) for i in range(6)]
    assert mod.loss(params, X, Y) == pytest.approx(np.mean(per_sample), rel=1e-12)
    summed = module_for(Spec("lecture_sum", 4, spec.layers, reduction="sum"))
    assert summed.loss(params, X, Y) == pytest.approx(np.sum(per_sample), rel=1e-12)


def test_float32_stays_float32():
    mod = module_for(symbp.load_spec(ROOT / "examples" / "deep_mlp.toml"))
    params = mod.init_params(seed=0, dtype=np.float32)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 16)).astype(np.float32)
    Y = rng.standard_normal((3, 16)).astype(np.float32)
    assert all(z.dtype == np.float32 for z in mod.forward(params, X))
    assert all(g.dtype == np.float32 for g in mod.gradients(params, X, Y).values())
    mod.train(params, X, Y, epochs=3, lr=0.01, batch_size=4, schedule="1/k")
    assert all(p.dtype == np.float32 for p in params.values())


@pytest.mark.parametrize(
    "activation", ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity"]
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_no_overflow_for_huge_pre_activations(activation, dtype):
    mod = module_for(Spec(f"stable_{activation}", 1, (Layer(4, activation), Layer(1, "sigmoid"))))
    params = {"W1": np.ones((4, 1), dtype), "W2": np.full((1, 4), 1e3, dtype)}
    X = np.array([[-1e4, -30.0, 0.0, 30.0, 1e4]], dtype)
    Y = np.zeros((1, 5), dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        Z = mod.forward(params, X)
        grads = mod.gradients(params, X, Y)
        value = mod.loss(params, X, Y)
    assert np.isfinite(value) and all(np.all(np.isfinite(z)) for z in Z)
    assert all(np.all(np.isfinite(g)) for g in grads.values())


def test_module_runs_as_a_script_with_and_without_data(tmp_path):
    path = ROOT / "generated" / "lecture.py"
    run = subprocess.run([sys.executable, path, "--epochs", "20"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "synthetic" in run.stdout and "gradient check" in run.stdout
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", X=rng.standard_normal((4, 10)), Y=rng.random((2, 10)))
    run = subprocess.run(
        [sys.executable, path, "--data", tmp_path / "d.npz", "--epochs", "5", "--batch-size", "2"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and "epoch 5" in run.stdout, run.stderr
    np.savez(tmp_path / "bad.npz", X=np.zeros((3, 10)), Y=np.zeros((2, 10)))
    run = subprocess.run(
        [sys.executable, path, "--data", tmp_path / "bad.npz"], capture_output=True, text=True
    )
    assert run.returncode != 0 and "expected" in run.stderr and "Traceback" not in run.stderr


def test_train_rejects_bad_arguments():
    mod = module_for(symbp.lecture_spec())
    params, X, Y = mod.init_params(), np.zeros((4, 3)), np.zeros((2, 3))
    with pytest.raises(ValueError, match="schedule"):
        mod.train(params, X, Y, epochs=1, lr=0.1, schedule="cosine")
    with pytest.raises(ValueError, match="batch_size"):
        mod.train(params, X, Y, epochs=1, lr=0.1, batch_size=10)


@pytest.fixture(scope="module")
def scripts(tmp_path_factory):
    """Emitted modules written as scripts: the lecture's network, a softmax classifier, a binary
    classifier, and one linear layer (its loss grows without bound for a large step size)."""
    folder = tmp_path_factory.mktemp("scripts")
    specs = {
        "lecture": symbp.lecture_spec(),
        "softmax": symbp.load_spec(ROOT / "examples" / "softmax_classifier.toml"),
        "binary": symbp.load_spec(ROOT / "examples" / "binary_classifier.toml"),
        "linear": Spec("linear", 3, (Layer(2, "identity"),)),
    }
    paths = {}
    for key, spec in specs.items():
        paths[key] = folder / f"{spec.name}.py"
        paths[key].write_text(symbp.generate_module(spec))
    return paths


def run_script(path, *args):
    return subprocess.run([sys.executable, path, *map(str, args)], capture_output=True, text=True)


#: warnings Python's default filters do not print (DeprecationWarning only outside __main__;
#: a script's own code seldom triggers one directly)
SILENT_BY_DEFAULT = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


@pytest.fixture(scope="module")
def imported(scripts):
    """The scripts of `scripts`, imported into this process (as `python3 script.py` would run
    them, but for `__name__`)."""
    modules = {}
    for key, path in scripts.items():
        spec = importlib.util.spec_from_file_location(f"emitted_{key}", path)
        modules[key] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(modules[key])
    return modules


@pytest.fixture
def script_main(imported, capsys):
    """`script_main(key, *args)` runs `main(args)` of script `key` in this process -> CliRun
    (the status its process would exit with, what it printed).  A warning that `python3
    script.py` would print fails the test: in a process of its own it would be one more line
    on stderr."""

    def run(key, *args):
        argv = [str(a) for a in args]
        capsys.readouterr()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for category in SILENT_BY_DEFAULT:
                warnings.simplefilter("ignore", category)
            try:
                status = imported[key].main(argv)
            except SystemExit as exc:
                status = exit_status(exc.code)
        out, err = capsys.readouterr()
        assert not caught, [f"{w.category.__name__}: {w.message}" for w in caught]
        return CliRun(tuple(argv), status, out, err)

    return run


def one_error_line(run, status=2):
    """The run failed with `status` and printed one `prog: error: ...` line, no traceback."""
    assert run.returncode == status, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and ": error: " in lines[0], run.stderr
    return lines[0]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lr", "nan"], "--lr"),
        (["--lr", "inf"], "--lr"),
        (["--lr", "-1"], "--lr"),
        (["--lr", "fast"], "--lr"),
        (["--batch-size", "0"], "--batch-size"),
        (["--batch-size", "65"], "at most N = 64"),
        (["--seed", "-1"], "--seed"),
        (["--epochs", "-1"], "--epochs"),
        (["--epochs", "1.5"], "--epochs"),
        (["--schedule", "cosine"], "--schedule"),
        (["--no-such-option"], "unrecognized"),
    ],
)
def test_module_cli_bad_arguments_get_one_line(script_main, args, message):
    assert message in one_error_line(script_main("lecture", *args))


def _save(path, **arrays):
    np.savez(path, **arrays)
    return path


def _bytes(path, content: bytes):
    path.write_bytes(content)
    return path


def _npy(path):
    np.save(path, np.zeros((4, 3)))
    return path


BAD_DATA = {
    "missing file": (lambda d: d / "absent.npz", "cannot read"),
    "a directory": (lambda d: d, "cannot read"),
    "an .npy file": (lambda d: _npy(d / "x.npy"), ".npy"),
    "a text file": (lambda d: _bytes(d / "t.npz", b"X,Y\n1,2\n"), "not an .npz"),
    "an empty file": (lambda d: _bytes(d / "e.npz", b""), "not an .npz"),
    "a broken zip": (lambda d: _bytes(d / "z.npz", b"PK\x03\x04junk"), "not an .npz"),
    "no Y": (lambda d: _save(d / "noy.npz", X=np.zeros((4, 3))), "no array Y"),
    "N = 0": (lambda d: _save(d / "n0.npz", X=np.zeros((4, 0)), Y=np.zeros((2, 0))), "no samples"),
    "wrong shape": (
        lambda d: _save(d / "s.npz", X=np.zeros((3, 5)), Y=np.zeros((2, 5))),
        "expected",
    ),
    "1-d arrays": (lambda d: _save(d / "v.npz", X=np.zeros(4), Y=np.zeros(2)), "expected"),
    "complex": (
        lambda d: _save(d / "c.npz", X=np.ones((4, 3), complex), Y=np.zeros((2, 3))),
        "complex",
    ),
    "strings": (lambda d: _save(d / "u.npz", X=np.full((4, 3), "a"), Y=np.zeros((2, 3))), "<U1"),
    "objects": (
        lambda d: _save(d / "o.npz", X=np.zeros((4, 3)), Y=np.full((2, 3), None)),
        "numeric",
    ),
    "nan": (
        lambda d: _save(d / "nan.npz", X=np.zeros((4, 3)), Y=np.full((2, 3), np.nan)),
        "finite",
    ),
    "inf": (
        lambda d: _save(d / "inf.npz", X=np.full((4, 3), np.inf), Y=np.zeros((2, 3))),
        "finite",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_module_cli_bad_data_gets_one_line(script_main, tmp_path, case):
    make, message = BAD_DATA[case]
    path = make(tmp_path)
    line = one_error_line(script_main("lecture", "--data", path, "--epochs", "1"))
    assert f"--data {path}" in line and message in line


@pytest.mark.parametrize(
    "script, Y, message",
    [
        ("softmax", np.ones((3, 5)), "column 0 sums to 3"),
        ("softmax", np.full((3, 5), -0.5), "probability vectors"),
        ("binary", np.full((1, 5), 2.0), "[0, 1]"),
        ("binary", np.full((1, 5), -0.1), "[0, 1]"),
    ],
)
def test_module_cli_refuses_targets_outside_the_loss_domain(
    script_main, tmp_path, script, Y, message
):
    d0 = {"softmax": 4, "binary": 3}[script]
    path = _save(tmp_path / "d.npz", X=np.zeros((d0, 5)), Y=Y)
    assert message in one_error_line(script_main(script, "--data", path))


def test_module_cli_accepts_one_hot_soft_and_integer_targets(script_main, tmp_path):
    rng = np.random.default_rng(0)
    soft = rng.dirichlet(np.ones(3), size=6).T
    one_hot = np.eye(3, dtype=int)[:, rng.integers(0, 3, 6)]
    for Y in (soft, one_hot, soft.astype(np.float32)):
        path = _save(tmp_path / "d.npz", X=rng.standard_normal((4, 6)), Y=Y)
        run = script_main("softmax", "--data", path, "--epochs", "2")
        assert run.returncode == 0 and "epoch 2" in run.stdout, run.stderr


@pytest.mark.parametrize("lr", ["1e10", "1e300"])
def test_module_cli_stops_at_the_first_non_finite_loss(scripts, lr):
    run = run_script(scripts["linear"], "--lr", lr, "--epochs", "1000")
    line = one_error_line(run, status=1)
    assert "diverge" in line and "--lr" in line
    assert "RuntimeWarning" not in run.stderr and "epoch 1000" not in run.stdout


def test_module_cli_warns_when_the_loss_rises_but_stays_finite(scripts):
    run = run_script(scripts["binary"], "--lr", "1e10", "--epochs", "20")
    assert run.returncode == 0 and "warning: the loss rose from" in run.stderr, run.stderr
    assert "warning" not in run_script(scripts["binary"], "--epochs", "20").stderr


def test_train_raises_diverged_and_refuses_a_non_finite_step():
    mod = module_for(Spec("linear", 3, (Layer(2, "identity"),)))
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 10)), rng.standard_normal((2, 10))
    params = mod.init_params()
    with np.errstate(all="ignore"), pytest.raises(mod.Diverged) as caught:
        mod.train(params, X, Y, epochs=1000, lr=1e10)
    assert isinstance(caught.value, FloatingPointError) and caught.value.epoch < 1000
    assert not np.isfinite(caught.value.value)
    for lr in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="lr"):
            mod.train(mod.init_params(), X, Y, epochs=1, lr=lr)
    with pytest.raises(ValueError, match="N = 0"):
        mod.train(mod.init_params(), X[:, :0], Y[:, :0], epochs=1, lr=0.1)


def test_module_cli_ctrl_c_stops_cleanly(scripts):
    run = subprocess.Popen(
        [sys.executable, "-u", scripts["lecture"], "--epochs", "100000000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not run.stdout.readline().startswith("epoch 0"):
            pass
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 130, err
    assert "interrupted during epoch" in err and "Traceback" not in err


def _custom_formula_text(real_everywhere: bool = False, depth: int = 2):
    """Formula text in t from symbp's grammar: whitelisted functions (not erf, whose derivative
    holds the constant 1/sqrt(pi) that issue 7 item 9 is about), Max and Min with a constant,
    sums, products, quotients, powers and negatives.  Max and Min get arguments that are real
    for every real t (no sqrt, no log inside): the maximum of a complex number means nothing."""
    unary = sorted(set(formula.FUNCTIONS) - {"erf", "abs", "Max", "Min"})
    if real_everywhere:
        unary = [f for f in unary if f not in ("sqrt", "log")]
    leaf = st.sampled_from(["t", "2*t", "t/3", "(t + 1)"])
    if depth == 0:
        return leaf
    child = _custom_formula_text(real_everywhere, depth - 1)
    bounded = _custom_formula_text(True, depth - 1)
    return st.one_of(
        leaf,
        st.builds(lambda f, a: f"{f}({a})", st.sampled_from(unary), child),
        st.builds(lambda f, a: f"{f}{a})", st.sampled_from(["Max(1/2, ", "Min(-1/2, "]), bounded),
        st.builds(lambda a, b, op: f"({a}) {op} ({b})", child, child, st.sampled_from("+-*/")),
        st.builds(lambda a, n: f"({a})**{n}", child, st.sampled_from(["2", "3", "-1"])),
        st.builds(lambda a: f"-({a})", child),
    )


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(text=_custom_formula_text())
def test_modules_for_random_custom_activations_pass_ruff_and_run(text):
    """Issue 7 item 6: a custom formula (here Min/Max, every whitelisted function) yields a
    module that `ruff check` passes (undefined names included) and that runs."""
    try:
        spec = symbp.from_dict(
            {
                "name": "random_custom",
                "input": 2,
                "loss": "l2",
                "layers": [{"units": 3, "activation": {"name": "f", "expr": text}}],
            }
        )
        source = symbp.generate_module(spec)
    except symbp.SpecError:  # undefined where sampled, or refused as unsafe: a clean refusal
        assume(False)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random_custom.py"
        path.write_text(source)
        lint = subprocess.run(
            ["ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(path)],
            capture_output=True,
            text=True,
        )
        assert lint.returncode == 0, f"{text}: {lint.stdout}"
    mod = load_module(source, "random_custom")
    rng = np.random.default_rng(0)
    X, Y = rng.uniform(-1, 1, (2, 7)), rng.uniform(-1, 1, (3, 7))
    params = {"W1": rng.uniform(-1, 1, (3, 2))}  # |u| < 2: inside the sampled [-5, 5]
    value = mod.loss(params, X, Y)
    grads = mod.gradients(params, X, Y)
    assert np.isfinite(value) and np.all(np.isfinite(grads["W1"])), text
    assert grads["W1"].shape == (3, 2)


def test_emitted_script_stops_quietly_when_its_reader_goes_away(scripts):
    """`python module.py | head -1`: status 141 and no BrokenPipeError traceback."""
    proc = subprocess.Popen(
        [sys.executable, scripts["lecture"], "--epochs", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.readline()
    proc.stdout.close()
    status = proc.wait(timeout=120)
    stderr = proc.stderr.read()
    assert status == 141 and "Traceback" not in stderr, stderr
