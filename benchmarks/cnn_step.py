"""One training step of the digits CNN (examples/digits_cnn.toml: 3x3 "same" conv with 16
channels and relu, 2x2 max pooling, dense softmax, cross-entropy; batch 64, float32): the module
symbp emits against PyTorch (eager conv2d / max_pool2d / linear with autograd) and JAX (jit of
value_and_grad plus the update), same weights and data, gradients cross-checked first; runs
interleaved, medians reported, with each peer's time as a ratio of symbp's.  The module symbp
emits for JAX (`--backend jax`: the derived backward as a custom_vjp rule, its jitted
`sgd_step`) runs beside them as "symbp (emitted JAX)".

    python benchmarks/cnn_step.py [--repeats 200] [--batch 64] [--threads N]

PyTorch and JAX are the `bench` extra; a peer that is not installed is left out.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import symbp  # noqa: E402
from symbp.output.module import module_source  # noqa: E402
from symbp.proof.check import load_module  # noqa: E402

LR = 0.1


def symbp_step(module, params, X, Y):
    def step():
        module.sgd_step(params, X, Y, LR)

    return step


def torch_step(params, X, labels, threads):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    x = torch.tensor(np.ascontiguousarray(np.moveaxis(X.reshape(1, 8, 8, -1), -1, 0)))
    y = torch.tensor(labels)

    def loss():
        z = F.max_pool2d(F.relu(F.conv2d(x, t["K1"], t["b1"][:, 0], padding=1)), 2)
        return F.cross_entropy(F.linear(z.reshape(z.shape[0], -1), t["W3"], t["b3"][:, 0]), y)

    def step():
        value = loss()
        value.backward()
        with torch.no_grad():
            for p in t.values():
                p -= LR * p.grad
                p.grad = None

    def grads():
        value = loss()
        value.backward()
        out = {k: p.grad.numpy().copy() for k, p in t.items()}
        for p in t.values():
            p.grad = None
        return float(value), out

    return step, grads


def jax_step(params, X, labels):
    import jax
    import jax.numpy as jnp

    x = jnp.asarray(np.moveaxis(X.reshape(1, 8, 8, -1), -1, 0))
    onehot = jnp.asarray(np.eye(10, dtype=np.float32)[labels])

    def loss(p):
        u = (
            jax.lax.conv_general_dilated(x, p["K1"], (1, 1), "SAME")
            + p["b1"][:, 0][None, :, None, None]
        )
        z = jax.lax.reduce_window(
            jax.nn.relu(u), -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID"
        )
        logits = z.reshape(z.shape[0], -1) @ p["W3"].T + p["b3"][:, 0]
        return -jnp.mean(jnp.sum(onehot * jax.nn.log_softmax(logits), axis=1))

    value_and_grad = jax.jit(jax.value_and_grad(loss))

    @jax.jit
    def update(p):
        g = jax.grad(loss)(p)
        return jax.tree_util.tree_map(lambda a, b: a - LR * b, p, g)

    state = {"p": {k: jnp.asarray(v) for k, v in params.items()}}
    jax.block_until_ready(update(state["p"]))  # compile outside the timing

    def step():
        state["p"] = jax.block_until_ready(update(state["p"]))

    def grads():
        value, g = value_and_grad({k: jnp.asarray(v) for k, v in params.items()})
        return float(value), {k: np.asarray(v) for k, v in g.items()}

    return step, grads


def symbp_jax_step(spec, params, X, Y):
    """(step, grads) of the module symbp emits for JAX: its jitted `sgd_step`, whose gradients
    are the derived backward pass (custom_vjp), compiled before the timing."""
    import jax

    module = load_module(module_source(spec, "cmd", backend="jax"), f"{spec.name}_jax")
    x, y = jax.numpy.asarray(X), jax.numpy.asarray(Y)
    state = {"p": {k: jax.numpy.asarray(v) for k, v in params.items()}}
    jax.block_until_ready(module.sgd_step(state["p"], x, y, LR))  # compile outside the timing

    def step():
        state["p"] = jax.block_until_ready(module.sgd_step(state["p"], x, y, LR))

    def grads():
        value, g = module.value_and_gradients(
            {k: jax.numpy.asarray(v) for k, v in params.items()}, x, y
        )
        return float(value), {k: np.asarray(v) for k, v in g.items()}

    return step, grads


def median_us(step, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    spec = symbp.load_spec(ROOT / "examples" / "digits_cnn.toml")
    module = load_module(symbp.generate_module(spec), spec.name)
    rng = np.random.default_rng(0)
    params = module.init_params(seed=0, dtype=np.float32)
    X = rng.random((64, args.batch), dtype=np.float32)
    labels = rng.integers(0, 10, args.batch)
    Y = np.eye(10, dtype=np.float32)[:, labels]

    f, ours = module.value_and_gradients({k: v.copy() for k, v in params.items()}, X, Y)
    steps = {
        "symbp (emitted NumPy)": symbp_step(module, {k: v.copy() for k, v in params.items()}, X, Y)
    }
    for name, make in (
        ("PyTorch eager", lambda: torch_step(params, X, labels, args.threads)),
        ("JAX jit", lambda: jax_step(params, X, labels)),
        ("symbp (emitted JAX)", lambda: symbp_jax_step(spec, params, X, Y)),
    ):
        try:
            step, grads = make()
        except ImportError:
            print(f"{name}: not installed, left out", file=sys.stderr)
            continue
        value, theirs = grads()
        assert abs(value - f) <= 1e-4 * abs(f), (name, value, f)
        for key in ours:
            np.testing.assert_allclose(theirs[key], ours[key], rtol=2e-3, atol=2e-5, err_msg=key)
        steps[name] = step
    print(f"gradients agree (float32, batch {args.batch}); {args.repeats} interleaved rounds")

    times = {name: [] for name in steps}
    for _ in range(args.repeats // 20 or 1):
        for name, step in steps.items():
            times[name].append(median_us(step, 20))
    base = statistics.median(times["symbp (emitted NumPy)"])
    print("| implementation | median step (µs) | time / symbp |")
    print("|---|---:|---:|")
    for name, values in times.items():
        t = statistics.median(values)
        print(f"| {name} | {t:.0f} | {t / base:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
