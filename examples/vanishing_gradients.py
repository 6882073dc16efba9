"""The lecture's vanishing-gradient picture: 20 sigmoid layers against 20 tanh and 20 relu layers.

    python3 examples/vanishing_gradients.py            # writes docs/vanishing_<activation>.png

For each spec in examples/vanishing/ it emits the NumPy trainer with symbp, trains it briefly
by mini-batch SGD on a synthetic regression problem (a random sigmoid teacher, 256 training
and 64 validation samples), prints ||df/dW_j||_F of the first and the last layer at the first
epoch, and draws the history with the emitted `plot_history` (needs matplotlib).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

import symbp
from symbp.proof.check import load_module

HERE = Path(__file__).resolve().parent
ACTIVATIONS = ("sigmoid", "tanh", "relu")


def teacher_problem(d_in: int, d_out: int, samples: int, seed: int = 0):
    """X (d_in, samples) standard normal and Y = sigmoid(A X) for a random A (d_out, d_in)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((d_in, samples))
    A = rng.standard_normal((d_out, d_in)) * (2 / np.sqrt(d_in))
    return X, 1 / (1 + np.exp(-A @ X))


def history(module, params, data, epochs: int, lr: float, batch_size: int) -> list[dict]:
    """Mini-batch SGD, one record per epoch as the emitted `train` yields them: f on the
    training and the validation samples after the epoch, and the gradient norms of the epoch's
    last step."""
    X, Y, X_val, Y_val = data
    rng = np.random.default_rng(0)
    records = []
    for epoch in range(1, epochs + 1):
        order = rng.permutation(X.shape[1])
        for start in range(0, X.shape[1], batch_size):
            batch = order[start : start + batch_size]
            norms = module.layer_gradient_norms(params, X[:, batch], Y[:, batch])
            module.sgd_step(params, X[:, batch], Y[:, batch], lr)
        records.append(
            {
                "epoch": epoch,
                "loss": module.loss(params, X, Y),
                "val_loss": module.loss(params, X_val, Y_val),
                "layer_grad_norms": norms,
            }
        )
    return records


def shrink_png(path: Path, colours: int = 64) -> None:
    """Rewrite the PNG at `path` with a palette of `colours` colours (Pillow, which matplotlib
    depends on): a quarter of the size, small enough to keep in the repository."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colours)
    small.save(path, optimize=True)


def run(activation: str, epochs: int, lr: float, batch_size: int, out: Path) -> Path:
    spec = symbp.load_spec(HERE / "vanishing" / f"deep_{activation}.toml")
    module = load_module(symbp.generate_module(spec), spec.name)
    X, Y = teacher_problem(spec.widths[0], spec.widths[-1], 320)
    data = (X[:, :256], Y[:, :256], X[:, 256:], Y[:, 256:])
    records = history(module, module.init_params(seed=0), data, epochs, lr, batch_size)
    first, last = records[0], records[-1]
    J = spec.depth
    norms = first["layer_grad_norms"]
    print(
        f"{spec.name}: epoch 1 ||df/dW_1|| = {norms['W1']:.1e}, ||df/dW_{J}|| = {norms[f'W{J}']:.1e}"
        f" (ratio {norms['W1'] / norms[f'W{J}']:.0e}); loss {first['loss']:.4f} -> "
        f"{last['loss']:.4f} after {epochs} epochs (validation {last['val_loss']:.4f})"
    )
    path = out / f"vanishing_{activation}.png"
    module.plot_history(records, path)
    shrink_png(path)
    print(f"wrote {os.path.relpath(path)}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.1, help="SGD step size")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", type=Path, default=HERE.parent / "docs", help="folder for PNGs")
    parser.add_argument("--only", choices=ACTIVATIONS, help="one network instead of all three")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for activation in (args.only,) if args.only else ACTIVATIONS:
        run(activation, args.epochs, args.lr, args.batch_size, args.out)


if __name__ == "__main__":
    main()
