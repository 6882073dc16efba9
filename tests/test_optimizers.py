"""The module's training formulas come from SymPy: the SGD update, the step-size schedules and the
perceptron rule in the docstring; a spec's reduction shows in its docstrings as the 1/N."""

from __future__ import annotations

import ast
import math
import re
import shutil
import subprocess
from dataclasses import replace

import numpy as np
import pytest

import symbp
from symbp.catalog import optimizers
from symbp.proof.check import load_module

from .conftest import EXAMPLES, ROOT


def source(spec, reduction: str) -> str:
    return symbp.generate_module(replace(spec, reduction=reduction), "symbp generate")


def docstring_lines(text: str) -> list[str]:
    """The lines of every docstring of a module's source (the module's, each function's)."""
    tree = ast.parse(text)
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))]
    return [ln for n in nodes for ln in (ast.get_docstring(n) or "").splitlines()]


def without_one_over_n(line: str) -> str:
    """`line` with a factor 1/N removed: "(1/N) ‖Y − Z‖²" -> "‖Y − Z‖²", "(2α/N)" -> "(2α)"."""
    return line.replace("(1/N) ", "").replace("/N", "")


SPECS = {
    "perceptron": symbp.load_spec(ROOT / "examples" / "perceptron.toml"),
    "mlp": symbp.lecture_spec(),
}


@pytest.mark.parametrize("name", SPECS)
def test_docstrings_of_two_reductions_differ_exactly_in_the_one_over_n(name):
    mean = docstring_lines(source(SPECS[name], "mean"))
    total = docstring_lines(source(SPECS[name], "sum"))
    assert len(mean) == len(total)
    differing = [(m, s) for m, s in zip(mean, total, strict=True) if m != s]
    assert differing, "the mean's docstrings should show its 1/N"
    for m, s in differing:
        assert "/N" in m and "/N" not in s
        assert without_one_over_n(m) == s
    assert not any(re.search(r"/\s*N\b", line) for line in total)  # no division by N at all


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_the_perceptron_rule_in_the_docstring_is_what_sgd_step_does(reduction):
    """The docstring states W₁ ← W₁ − (2α[/N])(Z₁ − Y) Z₀ᵀ; one sgd_step must do exactly that."""
    text = source(SPECS["perceptron"], reduction)
    rule = next(ln.strip() for ln in docstring_lines(text) if ln.strip().startswith("W₁ ←"))
    per_sample = "/N" in rule
    assert per_sample == (reduction == "mean")
    mod = load_module(text, f"perceptron_{reduction}")
    params = mod.init_params(seed=2)
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((2, 7)), rng.integers(0, 2, (1, 7)).astype(float)
    Z = mod.forward(params, X)[-1]
    lr = 0.25
    expected = params["W1"] - 2 * lr * (Z - Y) @ X.T / (X.shape[1] if per_sample else 1)
    mod.sgd_step(params, X, Y, lr)
    np.testing.assert_allclose(params["W1"], expected, rtol=1e-12, atol=1e-15)


def test_schedules_give_the_values_they_had_when_typed_in_the_template():
    mod = load_module(symbp.generate_module(symbp.lecture_spec(), "cmd"), "schedules")
    before = {  # the template's former lambdas
        "constant": lambda k: 1.0,
        "1/k": lambda k: 1.0 / k,
        "1/sqrt(k)": lambda k: 1.0 / math.sqrt(k),
    }
    assert set(mod.SCHEDULES) == set(before) == set(optimizers.SCHEDULES)
    for name, rate in mod.SCHEDULES.items():
        for k in range(1, 6):
            value = rate(k)
            assert type(value) is float and value == before[name](k), (name, k, value)


def test_the_sgd_update_is_printed_from_the_optimizer():
    text = symbp.generate_module(symbp.lecture_spec(), "cmd")
    body = re.search(r"def sgd_step\(.*?\n\n\n", text, re.S).group(0)
    update = re.search(r"params\[key\] \+= (.+)", body).group(1)
    lr, grad = 0.3, np.array([1.5, -2.0])
    got = eval(update, {"lr": lr, "grad": grad, "np": np})
    np.testing.assert_array_equal(got, -lr * grad)
    assert "θ ← θ − α·∂f/∂θ" in body


def test_freshly_emitted_modules_are_ruff_clean(tmp_path):
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is a test dependency (pip install -e '.[test]')")
    specs = [symbp.load_spec(p) for p in EXAMPLES]
    specs.append(replace(SPECS["perceptron"], name="perceptron_mean", reduction="mean"))
    files = []
    for spec in specs:
        path = tmp_path / f"{spec.name}.py"
        path.write_text(symbp.generate_module(spec, "symbp generate"), encoding="utf-8")
        files.append(str(path))
    config = ["--config", str(ROOT / "pyproject.toml")]
    for command in (["check", *config], ["format", "--check", *config]):
        run = subprocess.run([ruff, *command, *files], capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_the_default_step_size_is_the_same_per_sample_for_both_reductions(reduction):
    module = load_module(source(symbp.lecture_spec(), reduction), f"lecture_{reduction}")
    for n in (1, 7, 64):  # the command line and training() take it from default_lr
        want = 0.1 if reduction == "mean" else 0.1 / n
        assert module.default_lr("sgd", n) == pytest.approx(want, rel=1e-15)
