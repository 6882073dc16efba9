"""One training step (forward, loss, backward, SGD update) of symbp's emitted trainer against
PyTorch, JAX and a hand-written NumPy backprop, with the step's matrix products alone as the
practical ceiling.

    python3 benchmarks/peers.py            # the full run; prints a markdown table
    python3 benchmarks/peers.py --quick    # a short run (a few seconds): the same table, noisier
    python3 benchmarks/peers.py --threads 1 --cpu-clock   # CPU time: steadier on a shared machine

Every configuration is a network with biases, the same data and initial weights for every
contender; the objective is (1/N)‖Y − Z_J‖²_F, or, where the derivation simplifies the output
delta to (Z_J − Y)/N, softmax with cross-entropy (one-hot targets) or sigmoid with binary
cross-entropy (0/1 targets), which PyTorch and JAX compute from the logits with their fused
log-softmax / log-sigmoid losses.  Before timing, the gradients of every contender are
checked against symbp's at the initial weights.  Contenders:

- symbp `train`: one epoch of the emitted `training` generator with full-batch GD (one step and
  its record per `next`), the loop a user runs;
- symbp `train` SGD: an epoch of `EPOCH_BATCHES` shuffled batches of the configuration's size
  (mini-batch SGD, its records once per epoch), per step;
- symbp `sgd_step`: the emitted module's single step;
- NumPy by hand: textbook backprop allocating as it goes;
- PyTorch: eager autograd on CPU, `torch.set_num_threads` = the machine's cores (or
  `--threads N`, which also sets the BLAS and XLA thread pools of the others);
- JAX: `jax.jit` of value-and-grad plus the update (compiled before timing);
- symbp JAX: the module `symbp generate --backend jax` emits, its `jax.jit`-compiled
  `sgd_step` (the derived backward pass as the objective's `jax.custom_vjp` rule, then the SGD
  update), on one device;
- symbp torch: the module `symbp generate --backend torch` emits, in PyTorch's loop above
  (`Network(X, Y).backward()`, then the same update): its `DerivedObjective` runs the derived
  backward instead of autograd's, on the same forward;
- GEMMs: only the step's matrix products (forward, deltas, weight gradients) into preallocated
  arrays: what any implementation on NumPy's BLAS pays at least.

Runs are interleaved (one batch of calls of each contender in turn, repeated) and the median
time per step is reported, with ratios against symbp's `train` step.  PyTorch and JAX are the
`bench` extra; a contender that is not installed is left out of the table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def _threads(argv) -> int | None:
    """The value of --threads N in `argv`, if given."""
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return None


THREADS = _threads(sys.argv[1:]) or os.cpu_count() or 1
if _threads(sys.argv[1:]) is not None:  # before NumPy, PyTorch and JAX load their pools
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(THREADS)
    if THREADS == 1:  # XLA's CPU client otherwise keeps its own pool of threads
        os.environ["XLA_FLAGS"] = (
            "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        )

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from symbp.output.module import module_source  # noqa: E402
from symbp.proof.check import load_module  # noqa: E402
from symbp.spec.model import Layer, Spec  # noqa: E402

LR = 1e-3  #: the step size of every contender (small: thousands of steps stay finite)
EPOCH_BATCHES = 16  #: batches per epoch of the "symbp train SGD" contender


@dataclass(frozen=True)
class Config:
    label: str
    widths: tuple[int, ...]
    activations: tuple[str, ...]  #: one per layer
    batch: int
    dtype: type
    loss: str = "l2"  #: or "cross_entropy" (softmax output), "binary_cross_entropy" (sigmoid)

    def spec(self) -> Spec:
        layers = tuple(
            Layer(units, act, True)
            for units, act in zip(self.widths[1:], self.activations, strict=True)
        )
        return Spec("bench", self.widths[0], layers, loss=self.loss)

    def targets(self, rng) -> np.ndarray:
        """Y (d_J, batch): normal (l2), one-hot columns (cross-entropy), 0/1 (binary)."""
        shape = (self.widths[-1], self.batch)
        if self.loss == "cross_entropy":
            return np.eye(shape[0], dtype=self.dtype)[:, rng.integers(0, shape[0], shape[1])]
        if self.loss == "binary_cross_entropy":
            return rng.integers(0, 2, shape).astype(self.dtype)
        return rng.standard_normal(shape).astype(self.dtype)


CONFIGS = (
    Config("lecture 4-3-3-2 sigmoid, batch 1, float64", (4, 3, 3, 2), ("sigmoid",) * 3, 1, np.float64),
    Config("64-32-32-10 tanh, batch 32, float64", (64, 32, 32, 10), ("tanh", "tanh", "identity"), 32, np.float64),
    Config("64-32-32-10 tanh, batch 32, float32", (64, 32, 32, 10), ("tanh", "tanh", "identity"), 32, np.float32),
    Config("784-256-256-10 relu, batch 128, float32", (784, 256, 256, 10), ("relu", "relu", "identity"), 128, np.float32),
    Config("20 layers of 64 tanh, batch 64, float32", (64,) * 21, ("tanh",) * 20, 64, np.float32),
    Config("64-32-32-10 tanh, softmax + cross-entropy, batch 32, float32", (64, 32, 32, 10), ("tanh", "tanh", "softmax"), 32, np.float32, "cross_entropy"),
    Config("64-32-32-1 tanh, sigmoid + binary cross-entropy, batch 32, float32", (64, 32, 32, 1), ("tanh", "tanh", "sigmoid"), 32, np.float32, "binary_cross_entropy"),
    Config("784-256-256-10 relu, softmax + cross-entropy, batch 128, float32", (784, 256, 256, 10), ("relu", "relu", "softmax"), 128, np.float32, "cross_entropy"),
)  # fmt: skip

_NUMPY_ACT = {
    "sigmoid": (lambda u: 1 / (1 + np.exp(-u)), lambda z: z * (1 - z)),
    "tanh": (np.tanh, lambda z: 1 - z * z),
    "relu": (lambda u: np.maximum(u, 0), lambda z: (z > 0).astype(z.dtype)),
    "identity": (lambda u: u, None),
    "softmax": (lambda u: _softmax(u), None),  # only as the output of cross-entropy
}


def _softmax(u):
    e = np.exp(u - u.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def handwritten_step(params, X, Y, lr, activations, loss="l2"):
    """Textbook backprop written by hand, allocating as it goes; returns the gradients.  With
    cross-entropy (softmax) or binary cross-entropy (sigmoid) the output delta is (Z_J - Y)/N."""
    J, N = len(activations), X.shape[1]
    zs = [X]
    for j in range(1, J + 1):
        zs.append(_NUMPY_ACT[activations[j - 1]][0](params[f"W{j}"] @ zs[-1] + params[f"b{j}"]))
    delta, grads = (2 if loss == "l2" else 1) * (zs[-1] - Y) / N, {}
    for j in range(J, 0, -1):
        derivative = _NUMPY_ACT[activations[j - 1]][1]
        if derivative is not None and (j < J or loss == "l2"):
            delta = delta * derivative(zs[j])
        grads[f"W{j}"], grads[f"b{j}"] = delta @ zs[j - 1].T, delta.sum(axis=1, keepdims=True)
        if j > 1:
            delta = params[f"W{j}"].T @ delta
    for key, g in grads.items():
        params[key] -= lr * g
    return grads


def gemm_step(params, X, activations, work):
    """Only the step's matrix products, into the preallocated arrays of `work`."""
    J = len(activations)
    zs = [X]
    for j in range(1, J + 1):
        zs.append(np.matmul(params[f"W{j}"], zs[-1], out=work[f"U{j}"]))
    delta = zs[-1]
    for j in range(J, 0, -1):
        np.matmul(delta, zs[j - 1].T, out=work[f"G{j}"])
        if j > 1:
            delta = np.matmul(params[f"W{j}"].T, delta, out=work[f"D{j - 1}"])


def gemm_work(params, X, J):
    n, dtype = X.shape[1], X.dtype
    work = {}
    for j in range(1, J + 1):
        rows = params[f"W{j}"].shape[0]
        work[f"U{j}"] = np.empty((rows, n), dtype)
        work[f"D{j}"] = np.empty((rows, n), dtype)
        work[f"G{j}"] = np.empty(params[f"W{j}"].shape, dtype)
    return work


def torch_contender(params, X, Y, config):
    """(step, gradients) in eager PyTorch; None when PyTorch is not installed."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    torch.set_num_threads(THREADS)
    acts = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
    acts["identity"] = lambda u: u
    P = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tX, tY = torch.from_numpy(X), torch.from_numpy(Y)
    hidden, loss = config.activations[:-1], config.loss
    if loss == "l2":
        hidden = config.activations

    def objective():
        z = tX
        for j, act in enumerate(hidden, start=1):
            z = acts[act](P[f"W{j}"] @ z + P[f"b{j}"])
        if loss == "l2":
            return ((z - tY) ** 2).sum() / tX.shape[1]
        J = len(config.activations)
        U = P[f"W{J}"] @ z + P[f"b{J}"]  # the logits
        if loss == "cross_entropy":  # samples in rows; mean over the batch
            return F.cross_entropy(U.T, tY.T)
        return F.binary_cross_entropy_with_logits(U, tY, reduction="sum") / tX.shape[1]

    def step():
        objective().backward()
        with torch.no_grad():
            for p in P.values():
                p -= LR * p.grad
                p.grad = None

    def gradients():
        for p in P.values():
            p.grad = None
        objective().backward()
        return {k: p.grad.numpy().copy() for k, p in P.items()}

    return step, gradients


def symbp_torch_contender(params, X, Y, spec):
    """(step, gradients) of the emitted torch module's nn.Module in PyTorch's eager loop; None
    when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(THREADS)
    mod = load_module(module_source(spec, backend="torch"), "bench_torch")
    network = mod.Network({k: torch.tensor(v) for k, v in params.items()})
    P = dict(network.named_parameters())
    tX, tY = torch.from_numpy(X), torch.from_numpy(Y)

    def step():
        network(tX, tY).backward()
        with torch.no_grad():
            for p in P.values():
                p -= LR * p.grad
                p.grad = None

    def gradients():
        for p in P.values():
            p.grad = None
        network(tX, tY).backward()
        return {k: p.grad.numpy().copy() for k, p in P.items()}

    return step, gradients


def jax_contender(params, X, Y, config):
    """(step, gradients) with jax.jit of value-and-grad plus the update; None without JAX."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    acts = {"sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh, "relu": jax.nn.relu}
    acts["identity"] = lambda u: u
    hidden, loss = config.activations[:-1], config.loss
    if loss == "l2":
        hidden = config.activations

    def objective(P, X, Y):
        z = X
        for j, act in enumerate(hidden, start=1):
            z = acts[act](P[f"W{j}"] @ z + P[f"b{j}"])
        if loss == "l2":
            return jnp.sum((z - Y) ** 2) / X.shape[1]
        J = len(config.activations)
        U = P[f"W{J}"] @ z + P[f"b{J}"]  # the logits
        if loss == "cross_entropy":
            return -jnp.sum(Y * jax.nn.log_softmax(U, axis=0)) / X.shape[1]
        return jnp.sum(jax.nn.softplus(U) - Y * U) / X.shape[1]  # -log-likelihood, from logits

    value_and_grad = jax.value_and_grad(objective)

    @jax.jit
    def update(P, X, Y):
        f, g = value_and_grad(P, X, Y)
        return f, jax.tree_util.tree_map(lambda p, d: p - LR * d, P, g)

    state = {"P": {k: jnp.asarray(v) for k, v in params.items()}}
    jX, jY = jnp.asarray(X), jnp.asarray(Y)
    jax.block_until_ready(update(state["P"], jX, jY))  # compile outside the timing

    def step():
        _, state["P"] = update(state["P"], jX, jY)
        jax.block_until_ready(state["P"])

    def gradients():
        g = jax.jit(jax.grad(objective))({k: jnp.asarray(v) for k, v in params.items()}, jX, jY)
        return {k: np.asarray(v) for k, v in g.items()}

    return step, gradients


def symbp_jax_contender(spec, params, X, Y):
    """(step, gradients) with the emitted JAX module's jitted sgd_step; None without JAX."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    mod = load_module(module_source(spec, backend="jax"), "bench_jax")
    P = {k: jnp.asarray(v) for k, v in params.items()}
    state = {"P": P}
    jX, jY, lr = jnp.asarray(X), jnp.asarray(Y), jnp.asarray(LR, X.dtype)
    jax.block_until_ready(mod.sgd_step(P, jX, jY, lr))  # compile outside the timing

    def step():
        state["P"] = mod.sgd_step(state["P"], jX, jY, lr)
        jax.block_until_ready(state["P"])

    def gradients():
        return {k: np.asarray(v) for k, v in mod.gradients(P, jX, jY).items()}

    return step, gradients


def contenders(config: Config):
    """name -> a no-argument callable making one step, after checking every contender's
    gradients against symbp's at the same initial weights."""
    spec = config.spec()
    mod = load_module(module_source(spec), "bench")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((config.widths[0], config.batch)).astype(config.dtype)
    Y = config.targets(rng)
    init = mod.init_params(seed=0, dtype=config.dtype)
    init = {k: v + 0.1 * rng.standard_normal(v.shape).astype(v.dtype) for k, v in init.items()}
    expected = mod.gradients(init, X, Y)
    fresh = lambda: {k: v.copy() for k, v in init.items()}  # noqa: E731
    acts, loss = config.activations, config.loss

    found = {"NumPy by hand": handwritten_step(fresh(), X, Y, 0.0, acts, loss)}
    p_train, p_step, p_hand, p_sgd = fresh(), fresh(), fresh(), fresh()
    run = mod.training(p_train, X, Y, lr=LR)
    XE = np.tile(X, EPOCH_BATCHES)  # the same samples, EPOCH_BATCHES times over
    YE = np.tile(Y, EPOCH_BATCHES)
    epochs = mod.training(p_sgd, XE, YE, lr=LR, batch_size=config.batch)
    steps = {
        "symbp train": lambda: next(run),
        "symbp train SGD": lambda: next(epochs),
        "symbp sgd_step": lambda: mod.sgd_step(p_step, X, Y, LR),
        "NumPy by hand": lambda: handwritten_step(p_hand, X, Y, LR, acts, loss),
    }
    makers = (
        ("PyTorch", torch_contender, config),
        ("symbp torch", symbp_torch_contender, spec),
        ("JAX", jax_contender, config),
    )
    for name, make, how in makers:
        made = make(fresh(), X, Y, how)
        if made is not None:
            steps[name], gradients = made
            found[name] = gradients()
    made = symbp_jax_contender(spec, fresh(), X, Y)
    if made is not None:
        steps["symbp JAX"], gradients = made
        found["symbp JAX"] = gradients()
    work, p_gemm = gemm_work(init, X, spec.depth), fresh()
    steps["GEMMs alone"] = lambda: gemm_step(p_gemm, X, acts, work)
    tol = 1e-9 if config.dtype == np.float64 else 2e-3
    for name, grads in found.items():
        for key, g in expected.items():
            scale = max(1.0, float(np.abs(g).max()))
            if not np.allclose(grads[key], g, rtol=tol, atol=tol * scale):
                raise AssertionError(f"{config.label}: {name}'s gradient of {key} differs")
    return steps


def median_us(steps: dict, rounds: int, budget: float, clock=time.perf_counter) -> dict:
    """name -> median time per call in microseconds, the contenders timed in turn (interleaved)
    `rounds` times, each round about `budget` seconds (of `clock`) per contender."""
    numbers = {}
    for name, step in steps.items():
        step()  # warm up
        t0, calls = clock(), 0
        while clock() - t0 < budget / 4:
            step()
            calls += 1
        numbers[name] = max(1, int(calls * 4))
    samples = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            number = numbers[name]
            t0 = clock()
            for _ in range(number):
                step()
            samples[name].append((clock() - t0) / number * 1e6)
    out = {name: statistics.median(values) for name, values in samples.items()}
    out["symbp train SGD"] /= EPOCH_BATCHES  # per step
    return out


COLUMNS = (
    "symbp train",
    "symbp train SGD",
    "symbp sgd_step",
    "NumPy by hand",
    "PyTorch",
    "symbp torch",
    "JAX",
    "symbp JAX",
    "GEMMs alone",
)


def table(results: dict) -> str:
    """A markdown table: µs per step for every contender, then the ratios."""
    present = [c for c in COLUMNS if any(c in r for r in results.values())]
    head = ["configuration", *(f"{c} (µs)" for c in present)]
    head += ["fastest peer / symbp train", "… / symbp train SGD", "GEMMs / symbp train"]
    head += ["JAX / symbp JAX", "PyTorch / symbp torch"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, r in results.items():
        peers = [r[p] for p in ("PyTorch", "JAX") if p in r]
        ours = r["symbp train"]
        cells = [label, *(f"{r[c]:.1f}" if c in r else "–" for c in present)]
        cells.append(f"{min(peers) / ours:.2f}×" if peers else "–")
        cells.append(f"{min(peers) / r['symbp train SGD']:.2f}×" if peers else "–")
        cells.append(f"{r['GEMMs alone'] / ours:.0%}")
        jax_pair = "JAX" in r and "symbp JAX" in r
        cells.append(f"{r['JAX'] / r['symbp JAX']:.2f}×" if jax_pair else "–")
        torch_pair = "PyTorch" in r and "symbp torch" in r
        cells.append(f"{r['PyTorch'] / r['symbp torch']:.2f}×" if torch_pair else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (a few seconds)")
    parser.add_argument(
        "--threads", type=int, help="threads of every contender (default: the machine's cores)"
    )
    parser.add_argument("--only", help="run only the configurations whose label contains this")
    parser.add_argument(
        "--cpu-clock",
        action="store_true",
        help="time by the process's CPU clock (less disturbed by other processes on a shared "
        "machine; meaningful with --threads 1 only: a pool's waiting threads count too)",
    )
    args = parser.parse_args(argv)
    rounds, budget = (3, 0.01) if args.quick else (15, 0.1)
    clock = time.process_time if args.cpu_clock else time.perf_counter
    results = {}
    for config in CONFIGS:
        if args.only is None or args.only in config.label:
            results[config.label] = median_us(contenders(config), rounds, budget, clock)
    print(
        f"Median {'CPU ' if args.cpu_clock else ''}time per training step, {rounds} "
        f"interleaved rounds, {THREADS} thread(s) per contender on {os.cpu_count()} cores.\n"
    )
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
