"""Vanishing and exploding gradients over time: 50 steps of a tanh Elman network against an LSTM.

    python3 examples/vanishing_rnn.py            # prints the norms, writes docs/vanishing_rnn.png

Both networks (examples/vanishing_rnn/elman.toml and lstm.toml: 4 inputs, 32 units, h_T read by
a linear unit) see the loss at the last step only, so every adjoint at t < T has come back through
the recurrence.  For each, symbp emits the NumPy trainer and its `step_adjoint_norms` gives
||delta_t||_F = ||d f / d a_t||_F (and the LSTM's ||deltac_t||_F, its cell state's) for every step,
as the derived BPTT computes them, on one batch of 32 random sequences (inputs and targets
standard normal).  The Elman network is shown at its initialisation (W_hh normal, std 1/sqrt(H))
and with W_hh scaled by 0.5 and by 3; the LSTM at its initialisation (PyTorch's: every bias 0,
so the forget gate is about 1/2) and with the forget gate's bias set to 1 (Jozefowicz, Zaremba &
Sutskever 2015) and to 3 (a forget gate near 1: the cell state carries its adjoint back).  The picture needs matplotlib; the numbers do not.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np

import symbp
from symbp.proof.check import load_module

HERE = Path(__file__).resolve().parent
SAMPLES = 32
#: (label, spec, change to the initial params): the curves, Elman's then the LSTM's
VARIANTS = (
    ("Elman, W_hh x 0.5", "elman", ("Whh1", 0.5)),
    ("Elman, initialisation", "elman", None),
    ("Elman, W_hh x 3", "elman", ("Whh1", 3.0)),
    ("LSTM, initialisation (b_f = 0)", "lstm", None),
    ("LSTM, forget bias b_f = 1", "lstm", ("forget", 1.0)),
    ("LSTM, forget bias b_f = 3", "lstm", ("forget", 3.0)),
)


def modules() -> dict:
    """The emitted module of each spec in examples/vanishing_rnn/, imported."""
    out = {}
    for name in ("elman", "lstm"):
        spec = symbp.load_spec(HERE / "vanishing_rnn" / f"{name}.toml")
        out[name] = load_module(symbp.generate_module(spec), spec.name)
    return out


def initial_params(module, change):
    """`init_params(seed=0)` with `change` applied: (key, factor) scales a weight; ("forget", b)
    sets the LSTM forget gate's bias (the second of the four row blocks of b1, PyTorch's order
    i, f, g, o) to b."""
    params = module.init_params(seed=0)
    if change is not None:
        key, value = change
        if key == "forget":
            H = params["Whh1"].shape[1]
            params["b1"][H : 2 * H] = value
        else:
            params[key] *= value
    return params


def step_norms(seed: int = 0) -> list[tuple[str, dict]]:
    """(label, {"delta": (T,), and "cell": (T,) for the LSTM}) per variant, on one random batch."""
    found = modules()
    T = found["elman"].STEPS
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((T, found["elman"].WIDTHS[0], SAMPLES))
    Y = rng.standard_normal((1, SAMPLES))
    out = []
    for label, name, change in VARIANTS:
        module = found[name]
        out.append((label, module.step_adjoint_norms(initial_params(module, change), X, Y)[1]))
    return out


def report(curves) -> str:
    """One line per curve: ||delta_t||_F at t = 1, 25, 50 and the ratio of the first to the last."""
    lines = []
    for label, norms in curves:
        for key, values in norms.items():
            name = "delta_t" if key == "delta" else "deltac_t"
            T = len(values)
            lines.append(
                f"{label + ':':<38} ||{name}||_F at t = 1, {T // 2}, {T}: {values[0]:.1e}, "
                f"{values[T // 2 - 1]:.1e}, {values[-1]:.1e} (t = 1 / t = T: {values[0] / values[-1]:.0e})"
            )
    return "\n".join(lines)


def plot(curves, path: Path) -> None:
    """Two panels, log scale: the Elman network's ||delta_t||_F per step t, and the LSTM's
    ||delta_t||_F (solid) and ||deltac_t||_F (dashed).  Imports matplotlib (Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3.8), dpi=80, layout="constrained")
    FigureCanvasAgg(figure)
    elman, lstm = figure.subplots(1, 2, sharey=True)
    for label, norms in curves:
        axes = lstm if "cell" in norms else elman
        steps = np.arange(1, len(norms["delta"]) + 1)
        (line,) = axes.plot(steps, norms["delta"], label=label.split(", ", 1)[1])
        if "cell" in norms:
            axes.plot(steps, norms["cell"], "--", color=line.get_color())
    titles = ("tanh Elman network: ||δ_t||", "LSTM: ||δ_t|| (solid), cell state ||δᶜ_t|| (dashed)")
    for axes, title in zip((elman, lstm), titles, strict=True):
        axes.set_yscale("log")
        axes.set_xlabel("step t (the loss reads h_T only, T = 50)")
        axes.set_title(title)
        axes.legend(fontsize="small")
    elman.set_ylabel("adjoint norm (Frobenius, 32 sequences)")
    figure.savefig(path, format="png")


def _sibling(name: str):
    """examples/<name>.py, imported (the examples are scripts, not a package)."""
    found = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE.parent / "docs" / "vanishing_rnn.png")
    args = parser.parse_args(argv)
    curves = step_norms()
    print(report(curves))
    try:
        import matplotlib  # noqa: F401  (only to know whether the picture can be drawn)
    except ImportError:
        print("error: the picture needs matplotlib: pip install matplotlib", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot(curves, args.out)
    _sibling("vanishing_gradients").shrink_png(args.out)
    print(f"wrote {os.path.relpath(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
