"""One training step (forward, loss, backward, SGD update) of a recurrent network: the module
symbp emits against PyTorch (nn.RNN / nn.LSTM / nn.GRU + nn.Linear, autograd, eager) and JAX
(`lax.scan` of the same cell under `jit`, value-and-grad plus the update, compiled before the
timing), the same weights and data for all.

    python3 benchmarks/rnn_step.py                 # full run; prints a markdown table
    python3 benchmarks/rnn_step.py --quick         # a short, noisier run
    python3 benchmarks/rnn_step.py --threads 1     # every contender on one thread
    python3 benchmarks/rnn_step.py --cells lstm    # only some cells
    python3 benchmarks/rnn_step.py --threads 1 --cpu-time   # on a loaded machine: CPU seconds
    python3 benchmarks/rnn_step.py --alone         # each contender in a process of its own

The network: input 16, one recurrent layer of 64 units (Elman with tanh, LSTM or GRU, PyTorch's
formulation), its output read at every step through a dense identity layer of 16 units, the l2
objective summed over the T = 50 steps and averaged over the batch of 32 sequences,
f = (1/N) sum_t ||Y_t - W h_t - b||^2, float32.  Before any timing the gradients of every
contender are checked against symbp's in float64 (rtol 1e-8), then the contenders are timed in
turn, round after round (interleaved), and the medians are reported.  On a machine shared with
other work, wall-clock times measure the load as much as the code; with one thread per
contender, `--cpu-time` times each contender by the CPU time of its process instead (all its
threads; `time.process_time`), which the other processes' load disturbs far less.  `--alone`
times each contender in a Python process of its own instead of interleaved in one: as a user's
training run, with no other contender's allocations in between (which change how the memory
allocator reuses and returns memory, and so how many pages each step faults in).

Weights: symbp's Wxh1 = weight_ih_l0, Whh1 = weight_hh_l0, b1 = bias_ih_l0 with bias_hh_l0 = 0
and not trained for rnn and lstm (the same model: symbp's rnn and lstm have one bias), and
bhh1 = bias_hh_l0 for the GRU (whose b_hn sits inside r o (...)).

Contenders:
- symbp train: `next()` of the emitted `training` generator, full-batch GD (one step and its
  record per epoch), the loop a user runs;
- symbp step: `value_and_gradients`, then theta -= lr * grad for every parameter;
- symbp torch: the module `symbp generate --backend torch` emits, `value_and_gradients` (its
  derived BPTT loops on tensors, no autograd), then theta -= lr * grad;
- PyTorch: eager autograd on CPU, `torch.set_num_threads` = the machine's cores (or --threads);
- JAX: `jax.jit` of value-and-grad plus the update;
- symbp JAX: the module symbp emits for JAX (`--backend jax`), its jitted `sgd_step`: the
  derived BPTT as the custom_vjp rule, reverse `lax.scan` over the derived step (not a peer:
  the ratios compare symbp's NumPy module with PyTorch and JAX).

PyTorch and JAX are the `bench` extra; a contender that is not installed is left out.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
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
from symbp.spec.model import from_dict  # noqa: E402

STEPS, INPUT, HIDDEN, OUTPUT, BATCH = 50, 16, 64, 16, 32
LR = 1e-3  #: the step size of every contender (small: thousands of steps stay finite)
CELLS = ("rnn", "lstm", "gru")
TITLES = {"rnn": "Elman (tanh)", "lstm": "LSTM", "gru": "GRU"}


def spec(kind: str):
    """The benchmark's network with a recurrent layer of `kind`."""
    layer = {"type": kind, "units": HIDDEN, "output": "sequence"}
    if kind == "rnn":
        layer["activation"] = "tanh"
    return from_dict(
        {
            "name": f"{kind}_bench",
            "input": INPUT,
            "bias": True,
            "layers": [layer, {"units": OUTPUT, "activation": "identity"}],
        }
    )


def problem(module, dtype):
    """(initial params, X (T, d, N), Y (T, d_J, N)) in `dtype`; nonzero biases, so that a
    misplaced bias would show in the gradient check."""
    rng = np.random.default_rng(0)
    params = module.init_params(seed=0, dtype=np.float64)
    params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in params.items()}
    X = rng.standard_normal((STEPS, INPUT, BATCH))
    Y = rng.standard_normal((STEPS, OUTPUT, BATCH))
    return {k: v.astype(dtype) for k, v in params.items()}, X.astype(dtype), Y.astype(dtype)


def symbp_step(module, params, X, Y):
    """`value_and_gradients`, then the SGD update of every parameter in place."""

    def step():
        _, grads = module.value_and_gradients(params, X, Y)
        for key, g in grads.items():
            params[key] -= LR * g

    return step


# --- PyTorch -----------------------------------------------------------------------------------


def torch_contender(kind, params, X, Y):
    """(step, gradients) in eager PyTorch; None when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(THREADS)
    dtype = torch.float64 if X.dtype == np.float64 else torch.float32
    make = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    extra = {"nonlinearity": "tanh"} if kind == "rnn" else {}
    rnn = make(INPUT, HIDDEN, **extra).to(dtype)
    dense = torch.nn.Linear(HIDDEN, OUTPUT).to(dtype)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(params["Wxh1"]))
        rnn.weight_hh_l0.copy_(torch.from_numpy(params["Whh1"]))
        rnn.bias_ih_l0.copy_(torch.from_numpy(params["b1"][:, 0]))
        if kind == "gru":
            rnn.bias_hh_l0.copy_(torch.from_numpy(params["bhh1"][:, 0]))
        else:
            rnn.bias_hh_l0.zero_()
            rnn.bias_hh_l0.requires_grad_(False)  # the same model as symbp's: one bias
        dense.weight.copy_(torch.from_numpy(params["W2"]))
        dense.bias.copy_(torch.from_numpy(params["b2"][:, 0]))
    names = {
        "Wxh1": rnn.weight_ih_l0,
        "Whh1": rnn.weight_hh_l0,
        "b1": rnn.bias_ih_l0,
        "W2": dense.weight,
        "b2": dense.bias,
    }
    if kind == "gru":
        names["bhh1"] = rnn.bias_hh_l0
    trained = list(names.values())
    x = torch.from_numpy(np.ascontiguousarray(X.transpose(0, 2, 1)))  # (T, N, d): nn.RNN's
    y = torch.from_numpy(np.ascontiguousarray(Y.transpose(0, 2, 1)))

    def objective():
        out, _ = rnn(x)
        return ((dense(out) - y) ** 2).sum() / BATCH

    def step():
        objective().backward()
        with torch.no_grad():
            for p in trained:
                p -= LR * p.grad
                p.grad = None

    def gradients():
        objective().backward()
        out = {}
        for key, p in names.items():
            g = p.grad.numpy().copy()
            out[key] = g[:, None] if g.ndim == 1 else g
            p.grad = None
        return out

    return step, gradients


def symbp_torch_contender(kind, params, X, Y):
    """(step, gradients) of the emitted torch module (`--backend torch`): value_and_gradients,
    then the SGD update in place; None when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(THREADS)
    source = module_source(spec(kind), backend="torch")
    module = load_module(source, f"{kind}_bench_torch")
    P = {k: torch.from_numpy(v.copy()) for k, v in params.items()}
    x, y = torch.from_numpy(X), torch.from_numpy(Y)

    def step():
        _, grads = module.value_and_gradients(P, x, y)
        for key, g in grads.items():
            P[key] -= LR * g

    def gradients():
        return {k: g.numpy() for k, g in module.gradients(P, x, y).items()}

    return step, gradients


# --- JAX ---------------------------------------------------------------------------------------


def _jax_cell(kind, P, jnp, jax):
    """The step of `kind` on the columns of one time step: (carry, a_t) -> (carry, h_t)."""
    H = HIDDEN
    sig = jax.nn.sigmoid

    if kind == "rnn":

        def step(h, a):
            h = jnp.tanh(a + P["Whh1"] @ h)
            return h, h

    elif kind == "lstm":

        def step(carry, a):
            h, c = carry
            u = a + P["Whh1"] @ h
            i, f = sig(u[:H]), sig(u[H : 2 * H])
            g, o = jnp.tanh(u[2 * H : 3 * H]), sig(u[3 * H :])
            c = f * c + i * g
            h = o * jnp.tanh(c)
            return (h, c), h

    else:

        def step(h, a):
            v = P["Whh1"] @ h + P["bhh1"]
            r, q = sig(a[:H] + v[:H]), sig(a[H : 2 * H] + v[H : 2 * H])
            n = jnp.tanh(a[2 * H :] + r * v[2 * H :])
            h = (1 - q) * n + q * h
            return h, h

    return step


def jax_contender(kind, params, X, Y):
    """(step, gradients): jax.jit of value-and-grad plus the update; None without JAX."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)  # float64 for the check; float32 stays float32

    def objective(P, X, Y):
        A = jnp.einsum("gd,tdn->tgn", P["Wxh1"], X) + P["b1"]  # every step's input projection
        h0 = jnp.zeros((HIDDEN, X.shape[-1]), X.dtype)
        init = (h0, h0) if kind == "lstm" else h0
        _, Hs = jax.lax.scan(_jax_cell(kind, P, jnp, jax), init, A)
        Z = jnp.einsum("oh,thn->ton", P["W2"], Hs) + P["b2"]
        return jnp.sum((Z - Y) ** 2) / X.shape[-1]

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


def symbp_jax_contender(kind, params, X, Y):
    """(step, gradients) of the module symbp emits for JAX: its jitted `sgd_step` (the derived
    backward pass as the custom_vjp rule), compiled before the timing; None without JAX."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)  # float64 for the check; float32 stays float32
    module = load_module(module_source(spec(kind), backend="jax"), f"{kind}_bench_jax")
    state = {"P": {k: jnp.asarray(v) for k, v in params.items()}}
    jX, jY = jnp.asarray(X), jnp.asarray(Y)
    jax.block_until_ready(module.sgd_step(state["P"], jX, jY, LR))  # compile outside the timing

    def step():
        state["P"] = jax.block_until_ready(module.sgd_step(state["P"], jX, jY, LR))

    def gradients():
        g = module.gradients({k: jnp.asarray(v) for k, v in params.items()}, jX, jY)
        return {k: np.asarray(v) for k, v in g.items()}

    return step, gradients


#: symbp's other emitted modules, timed beside the NumPy one (not peers)
# --- the check and the timing ------------------------------------------------------------------


def check_gradients(kind, module) -> list[str]:
    """Every peer's gradients against symbp's in float64 (rtol 1e-8); returns the peers
    checked; raises AssertionError naming the first that differs."""
    params, X, Y = problem(module, np.float64)
    _, expected = module.value_and_gradients({k: v.copy() for k, v in params.items()}, X, Y)
    checked = []
    for name, make in PEERS:
        made = make(kind, {k: v.copy() for k, v in params.items()}, X, Y)
        if made is None:
            continue
        found = made[1]()
        for key, g in expected.items():
            np.testing.assert_allclose(
                found[key], g, rtol=1e-8, atol=1e-8 * float(np.abs(g).max()),
                err_msg=f"{kind}: {name}'s gradient of {key} differs from symbp's",
            )  # fmt: skip
        checked.append(name)
    return checked


#: the contenders checked against symbp's NumPy module and timed beside it
PEERS = (
    ("symbp torch", symbp_torch_contender),
    ("symbp JAX", symbp_jax_contender),
    ("PyTorch", torch_contender),
    ("JAX", jax_contender),
)


def contenders(kind, module, only=None):
    """name -> a no-argument callable making one float32 training step, for the names in
    `only` (default: every column; those installed)."""
    only = COLUMNS if only is None else only
    params, X, Y = problem(module, np.float32)
    fresh = lambda: {k: v.copy() for k, v in params.items()}  # noqa: E731
    steps = {}
    if "symbp train" in only:
        run = module.training(fresh(), X, Y, lr=LR)
        steps["symbp train"] = lambda: next(run)
    if "symbp step" in only:
        steps["symbp step"] = symbp_step(module, fresh(), X, Y)
    for name, make in PEERS:
        made = make(kind, fresh(), X, Y) if name in only else None
        if made is not None:
            steps[name] = made[0]
    return steps


def median_us(steps: dict, rounds: int, budget: float, clock=time.perf_counter) -> dict:
    """name -> median time per call in microseconds by `clock`, the contenders timed in turn
    (interleaved) `rounds` times, each round about `budget` seconds per contender."""
    numbers = {}
    for name, step in steps.items():
        step()  # warm up
        t0, calls = time.perf_counter(), 0
        while time.perf_counter() - t0 < budget / 4:
            step()
            calls += 1
        numbers[name] = max(1, calls * 4)
    samples = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            t0 = clock()
            for _ in range(numbers[name]):
                step()
            samples[name].append((clock() - t0) / numbers[name] * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


COLUMNS = ("symbp train", "symbp step", *(name for name, _ in PEERS))


def table(results: dict) -> str:
    """A markdown table: µs per step for every contender, then the ratios (above 1×: symbp is
    faster than the fastest peer)."""
    present = [c for c in COLUMNS if any(c in r for r in results.values())]
    head = ["cell", *(f"{c} (µs)" for c in present)]
    head += ["fastest peer / symbp train", "fastest peer / symbp step", "PyTorch / symbp torch"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for kind, r in results.items():
        peers = [r[p] for p in ("PyTorch", "JAX") if p in r]
        cells = [TITLES[kind], *(f"{r[c]:.0f}" if c in r else "–" for c in present)]
        for ours in ("symbp train", "symbp step"):
            cells.append(f"{min(peers) / r[ours]:.2f}×" if peers else "–")
        both = "PyTorch" in r and "symbp torch" in r
        cells.append(f"{r['PyTorch'] / r['symbp torch']:.2f}×" if both else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def alone_us(kind: str, name: str, args) -> float:
    """The median µs per step of contender `name` timed in a Python process of its own (this
    script again, with --contender): no other contender's allocations in between, as a user's
    training run has none."""
    command = [sys.executable, str(Path(__file__).resolve()), "--cells", kind, "--contender", name]
    command += ["--threads", str(THREADS)] + (["--cpu-time"] if args.cpu_time else [])
    command += ["--quick"] if args.quick else []
    run = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(run.stdout.split()[-1])  # nan: not installed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run, noisier")
    parser.add_argument(
        "--threads", type=int, help="threads of every contender (default: the machine's cores)"
    )
    parser.add_argument("--cells", default=",".join(CELLS), help="e.g. rnn,lstm (default: all)")
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time by CPU time of the process (needs --threads 1)",
    )
    parser.add_argument(
        "--alone",
        action="store_true",
        help="time every contender in a process of its own, one after the other",
    )
    parser.add_argument("--contender", help=argparse.SUPPRESS)  # --alone's child: time this one
    args = parser.parse_args(argv)
    if args.cpu_time and THREADS != 1:
        parser.error("--cpu-time: give --threads 1 as well (CPU time adds up every thread)")
    clock = time.process_time if args.cpu_time else time.perf_counter
    rounds, budget = (3, 0.05) if args.quick else (15, 0.3)
    results = {}
    for kind in args.cells.split(","):
        if kind not in CELLS:
            parser.error(f"--cells: {kind!r} is not one of {', '.join(CELLS)}")
        module = load_module(module_source(spec(kind)), f"{kind}_bench")
        if args.contender:  # --alone's child: one contender, its median on stdout
            step = contenders(kind, module, only=(args.contender,))
            print(median_us(step, rounds, budget, clock).get(args.contender, float("nan")))
            return 0
        checked = check_gradients(kind, module)
        if args.alone:
            times = {name: alone_us(kind, name, args) for name in COLUMNS}
            results[kind] = {name: us for name, us in times.items() if us == us}  # not nan
            continue
        print(f"{kind}: gradients of {', '.join(checked) or 'no peer'} agree with symbp's "
              "(float64, rtol 1e-8)", file=sys.stderr)  # fmt: skip
        results[kind] = median_us(contenders(kind, module), rounds, budget, clock)
    how = "each contender alone in its own process" if args.alone else "interleaved"
    print(
        f"Median {'CPU' if args.cpu_time else 'wall-clock'} time per training step (T = {STEPS}, "
        f"input {INPUT}, hidden {HIDDEN}, output {OUTPUT} at every step, batch {BATCH}, float32), "
        f"{rounds} {how} rounds, {THREADS} thread(s) per contender on {os.cpu_count()} "
        "cores.\n"
    )
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
