"""Where the time of one full-batch GD step on one sample goes, for the lecture's 4-3-3-2
sigmoid network (float64), beside JAX: what bounds the `train` loop's ratio to the fastest peer.

    python3 benchmarks/one_sample_floor.py          # 15 interleaved rounds
    python3 benchmarks/one_sample_floor.py --quick

The emitted module takes its entry-by-entry path here (`_epoch_one`: every width <= 8, one
sample per step).  Timed in turn, round after round, with the same data and weights as
`peers.py`:

- `train` step: `next()` of the emitted `training` generator, one epoch = one step and its
  record (loss, gradient norms of every param, clock);
- step without record: `_epoch_one` on the one sample: the params read from their arrays into
  floats, one step, the params written back;
- arithmetic of a step: `_epoch_one` over 100 steps on the same sample, per step (the params
  read and written once per 100 steps);
- JAX: `jax.jit` of value-and-grad plus the update (as in `peers.py`).

The differences give the params' read and write (step without record minus arithmetic) and
the record (train step minus step without record).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # sets up the thread pools before NumPy loads

STEPS = 100  #: steps of the "arithmetic" contender's epoch


def contenders() -> dict:
    """name -> (a no-argument callable, steps it makes per call)."""
    config = peers.CONFIGS[0]
    assert config.widths == (4, 3, 3, 2) and config.batch == 1
    steps = peers.contenders(config)  # gradients cross-checked there
    mod = peers.load_module(peers.module_source(config.spec()), "floor")
    rng = peers.np.random.default_rng(0)
    X = rng.standard_normal((4, 1))
    Y = rng.standard_normal((2, 1))
    params = mod.init_params(seed=0)
    views = mod._views(params)
    xs, ys, rate = X.T.tolist(), Y.T.tolist(), mod.SCHEDULES["constant"]
    one, many = range(1), [0] * STEPS
    out = {
        "train step": (steps["symbp train"], 1),
        "step without record": (lambda: mod._epoch_one(views, xs, ys, one, peers.LR, rate, 0), 1),
        "arithmetic of a step": (
            lambda: mod._epoch_one(views, xs, ys, many, peers.LR, rate, 0),
            STEPS,
        ),
    }
    if "JAX" in steps:
        out["JAX"] = (steps["JAX"], 1)
    return out


def medians(runs: dict, rounds: int, budget: float, clock=time.perf_counter) -> dict:
    """name -> median µs per step over `rounds` interleaved rounds of about `budget` s each
    (of `clock`)."""
    calls = {}
    for name, (step, _) in runs.items():
        step()
        t0, n = clock(), 0
        while clock() - t0 < budget / 4:
            step()
            n += 1
        calls[name] = max(1, 4 * n)
    samples = {name: [] for name in runs}
    for _ in range(rounds):
        for name, (step, per_call) in runs.items():
            t0 = clock()
            for _ in range(calls[name]):
                step()
            samples[name].append((clock() - t0) / calls[name] / per_call * 1e6)
    return {name: statistics.median(v) for name, v in samples.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short, noisier run")
    parser.add_argument("--threads", type=int, help="as in peers.py (read there)")
    parser.add_argument(
        "--cpu-clock", action="store_true", help="the process's CPU clock, as in peers.py"
    )
    args = parser.parse_args(argv)
    rounds, budget = (3, 0.02) if args.quick else (15, 0.1)
    clock = time.process_time if args.cpu_clock else time.perf_counter
    t = medians(contenders(), rounds, budget, clock)
    rows = [
        ("`train` step", t["train step"]),
        ("step without record", t["step without record"]),
        ("arithmetic of a step", t["arithmetic of a step"]),
        ("params read + written", t["step without record"] - t["arithmetic of a step"]),
        ("record", t["train step"] - t["step without record"]),
    ]
    kind = "CPU µs" if args.cpu_clock else "µs"
    print(f"Median {kind} per step, {rounds} interleaved rounds, {peers.THREADS} thread(s).\n")
    print("| part | µs |" + (" JAX / it |" if "JAX" in t else ""))
    print("|---|---:|" + ("---:|" if "JAX" in t else ""))
    for label, us in rows:
        ratio = f" {t['JAX'] / us:.2f}× |" if "JAX" in t and label != "record" else ""
        print(f"| {label} | {us:.2f} |" + (ratio if "JAX" in t else ""))
    if "JAX" in t:
        print(f"| JAX jit | {t['JAX']:.2f} | |")
        print(f"\n4× the fastest peer needs at most {t['JAX'] / 4:.2f} µs per `train` step.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
