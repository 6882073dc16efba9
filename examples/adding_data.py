"""Write adding.npz for examples/adding/adding.toml: the adding problem (Hochreiter &
Schmidhuber 1997, experiment 4, in the form of Le, Jaitly & Hinton 2015).

    python examples/adding_data.py [OUT.npz] [--samples N] [--steps T] [--seed S]

Each sample is a sequence of T steps with two input channels: a number drawn uniformly from
[0, 1], and a marker that is 1 at exactly two steps (one in the first half, one in the second)
and 0 elsewhere.  The target is the sum of the two marked numbers.  Predicting the mean, 1,
whatever the input has a mean squared error of Var(u_1 + u_2) = 2/12 = 0.167; a network beats
that only by remembering the first marked number over up to T - 1 steps.

The file holds X of shape (T, 2, N) (the steps, each with the samples as columns, the layout of
an emitted recurrent module) and Y of shape (1, N).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

TRIVIAL_MSE = 2 / 12  #: the mean squared error of always predicting 1, the targets' mean


def adding_problem(samples: int, steps: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y): X (steps, 2, samples), channel 0 uniform in [0, 1), channel 1 the two markers;
    Y (1, samples), the sum of the two marked numbers.  Needs steps >= 2."""
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (one marker per half), got {steps}")
    rng = np.random.default_rng(seed)
    numbers = rng.random((steps, samples))
    half = steps // 2
    first = rng.integers(0, half, samples)
    second = rng.integers(half, steps, samples)
    markers = np.zeros((steps, samples))
    columns = np.arange(samples)
    markers[first, columns] = 1.0
    markers[second, columns] = 1.0
    X = np.stack([numbers, markers], axis=1)
    Y = (numbers[first, columns] + numbers[second, columns])[None, :]
    return X, Y


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the adding problem as an .npz file.")
    parser.add_argument("out", nargs="?", default="adding.npz", help="default: adding.npz")
    parser.add_argument("--samples", type=int, default=3000, help="N (default 3000)")
    parser.add_argument("--steps", type=int, default=30, help="T (default 30, the spec's)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.samples < 1 or args.steps < 2:
        parser.error("--samples must be >= 1 and --steps >= 2")
    X, Y = adding_problem(args.samples, args.steps, args.seed)
    with open(args.out, "wb") as file:  # a file object: np.savez adds no second .npz suffix
        np.savez(file, X=X, Y=Y)
    print(
        f"wrote {args.out}: X {X.shape} (T, 2, N): a number in [0, 1] and a marker per step; "
        f"Y {Y.shape}: the sum of the two marked numbers (predicting 1 has MSE {TRIVIAL_MSE:.3f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
