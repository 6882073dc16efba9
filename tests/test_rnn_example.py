"""The adding-problem example (examples/adding/adding.toml, examples/adding_data.py): the data
are what the script's docstring says, and the emitted LSTM trainer, run through its command line
as the README runs it (at a reduced size: T = 10, 8 units, fewer samples), beats the trivial
predictor on fresh sequences.  The trivial predictor's error is computed here from the data."""

from __future__ import annotations

import importlib.util
import tomllib

import numpy as np
import pytest

from symbp.spec.model import from_dict

from .conftest import ROOT, module_for

EXAMPLE = ROOT / "examples" / "adding" / "adding.toml"


def _data_script():
    spec = importlib.util.spec_from_file_location(
        "adding_data", ROOT / "examples" / "adding_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_adding_data_mark_two_numbers_one_per_half_and_sum_them():
    data = _data_script()
    X, Y = data.adding_problem(samples=200, steps=9, seed=4)
    assert X.shape == (9, 2, 200) and Y.shape == (1, 200)
    numbers, markers = X[:, 0], X[:, 1]
    assert np.all((numbers >= 0) & (numbers < 1))
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert np.all(markers[:4].sum(axis=0) == 1) and np.all(markers[4:].sum(axis=0) == 1)
    np.testing.assert_allclose(Y[0], (numbers * markers).sum(axis=0))
    with pytest.raises(ValueError, match="steps"):
        data.adding_problem(samples=3, steps=1)


def _reduced_spec():
    """The example's spec at T = 10 with 8 units: the same network, trained in seconds."""
    table = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    table["steps"] = 10
    table["layers"][0]["units"] = 8
    table["train"]["epochs"] = 20
    return from_dict(table)


def test_the_emitted_lstm_beats_the_trivial_predictor_on_the_adding_problem(tmp_path, capsys):
    data = _data_script()
    path = tmp_path / "adding.npz"
    assert data.main([str(path), "--samples", "1500", "--steps", "10", "--seed", "0"]) == 0
    module = module_for(_reduced_spec())
    saved = tmp_path / "params.npz"
    assert module.main(["--data", str(path), "--val", "0.2", "--save", str(saved)]) == 0
    printed = capsys.readouterr().out
    assert "epoch 20/20" in printed and "gradient check" in printed
    params = module.load_params(str(saved))
    X, Y = data.adding_problem(samples=1000, steps=10, seed=1)  # sequences it never saw
    trivial = float(np.mean((Y - 1.0) ** 2))  # always 1, the targets' mean
    assert 0.12 < trivial < 0.22  # 2/12 in expectation: these are adding-problem data
    mse = module.loss(params, X, Y)  # reduction mean, one output: the mean squared error
    np.testing.assert_allclose(mse, np.mean((module.predict(params, X) - Y) ** 2), rtol=1e-12)
    assert mse < 0.1 * trivial, f"MSE {mse:.4f} vs the trivial predictor's {trivial:.4f}"


def test_the_example_spec_is_the_readme_network():
    module = module_for(from_dict(tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))))
    assert module.STEPS == 30 and module.PARAM_SHAPES["Whh1"] == (64, 16)
