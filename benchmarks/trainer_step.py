"""Time per training step (forward, backward, SGD update) of symbp's emitted trainer against a
straightforward hand-written NumPy backprop that allocates as it goes.

    python benchmarks/trainer_step.py

Cases: 784-256-256-10 (relu hidden layers, linear output, batch 128, float32) and the lecture's
4-3-3-2 sigmoid network (batch 1, float64).  Both sides compute the same mean-l2 gradients.
"""

from __future__ import annotations

import timeit

import numpy as np

from symbp.output.module import module_source
from symbp.proof.check import load_module
from symbp.spec.model import Layer, Spec, lecture_spec


def handwritten_step(params, X, Y, lr, activations):
    """Textbook backprop, written by hand: the baseline."""
    N = X.shape[1]
    J = len(activations)
    zs, us = [X], []
    for j in range(1, J + 1):
        u = params[f"W{j}"] @ zs[-1]
        if f"b{j}" in params:
            u = u + params[f"b{j}"]
        us.append(u)
        act = activations[j - 1]
        if act == "relu":
            zs.append(np.maximum(u, 0))
        elif act == "sigmoid":
            zs.append(1 / (1 + np.exp(-u)))
        else:
            zs.append(u)
    grads = {}
    delta = 2 * (zs[-1] - Y)
    for j in range(J, 0, -1):
        act = activations[j - 1]
        if act == "relu":
            delta = delta * (us[j - 1] > 0)
        elif act == "sigmoid":
            delta = delta * zs[j] * (1 - zs[j])
        grads[f"W{j}"] = delta @ zs[j - 1].T / N
        if f"b{j}" in params:
            grads[f"b{j}"] = delta.sum(axis=1, keepdims=True) / N
        if j > 1:
            delta = params[f"W{j}"].T @ delta
    for key, g in grads.items():
        params[key] -= lr * g


def per_step_us(steps, repeat=15) -> list[float]:
    """Best time per call of each of `steps`, in microseconds, measured interleaved (round-robin),
    so that both sides see the same machine load."""
    timers = [timeit.Timer(step) for step in steps]
    number = max(timer.autorange()[0] for timer in timers)
    best = [float("inf")] * len(steps)
    for _ in range(repeat):
        for i, timer in enumerate(timers):
            best[i] = min(best[i], timer.timeit(number) / number * 1e6)
    return best


def case(spec: Spec, batch: int, dtype) -> tuple[float, float]:
    mod = load_module(module_source(spec), spec.name)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((spec.widths[0], batch)).astype(dtype)
    Y = rng.standard_normal((spec.widths[-1], batch)).astype(dtype)
    p1 = mod.init_params(seed=0, dtype=dtype)
    p2 = {k: v.copy() for k, v in p1.items()}
    acts = [layer.activation_name for layer in spec.layers]
    lr = 1e-4
    ours, theirs = per_step_us(
        [lambda: mod.sgd_step(p1, X, Y, lr), lambda: handwritten_step(p2, X, Y, lr, acts)]
    )
    # same computation: one step each from the same start gives the same parameters
    q1 = mod.init_params(seed=1, dtype=dtype)
    q2 = {k: v.copy() for k, v in q1.items()}
    mod.sgd_step(q1, X, Y, 0.1)
    handwritten_step(q2, X, Y, 0.1, acts)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    assert all(np.allclose(q1[k], q2[k], rtol=tol, atol=tol) for k in q1)
    return ours, theirs


def main() -> None:
    mlp = Spec(
        "mnist_mlp",
        784,
        (Layer(256, "relu", True), Layer(256, "relu", True), Layer(10, "identity", True)),
    )
    print(f"{'case':<42} {'symbp':>10} {'by hand':>10} {'ratio':>7}")
    for label, spec, batch, dtype in (
        ("784-256-256-10 relu, batch 128, float32", mlp, 128, np.float32),
        ("lecture 4-3-3-2 sigmoid, batch 1, float64", lecture_spec(), 1, np.float64),
    ):
        ours, theirs = case(spec, batch, dtype)
        print(f"{label:<42} {ours:>8.1f}us {theirs:>8.1f}us {ours / theirs:>7.2f}")


if __name__ == "__main__":
    main()
