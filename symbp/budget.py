"""Bounds on work done for user input: a time budget for symbolic steps, a size limit for arrays.

`within(seconds, work, fallback)` runs ``work()`` and, if it has not returned after `seconds` of
CPU time, abandons it and returns ``fallback()``.  CPU time, not wall time, so that a loaded
machine gives the same results (a derivation does not change because other jobs were running).
SymPy is pure Python and cannot be cancelled, so the budget interrupts it from outside by raising
`OutOfTime` in the thread doing the work:

* in the main thread (the CLI, scripts, Jupyter cells) by a ``SIGPROF`` timer on the process's
  CPU time (`signal.setitimer` with ``ITIMER_PROF``): no cost while the work runs, and the timer
  re-fires every `TICK` seconds until the work gives up, so code that swallows one interruption
  cannot escape the budget;
* in any other thread, where Python delivers no signals, by a profile hook (`sys.setprofile`)
  that reads the thread's CPU clock every `CHECK_EVERY` function calls (SymPy calls functions
  constantly): the work runs more slowly, with the same bound.

A worker process was the alternative; it was not chosen because every result would have to be
pickled back, ``fork`` is unsafe in a host with threads, and ``spawn`` re-imports SymPy (about a
second) for every budgeted step.  `OutOfTime` derives from `BaseException` so that SymPy's own
``except Exception`` clauses do not take it for a failed attempt.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from .errors import SpecError

T = TypeVar("T")

TICK = 0.05  #: seconds between repeated interruptions once a deadline has passed
CHECK_EVERY = 200  #: profiled calls between two clock readings (threads other than the main one)

MAX_WIDTH = 100_000  #: generate/check: largest width d_j of a concrete network
MAX_WEIGHTS = 100_000_000  #: generate: most entries of one weight matrix (800 MB in float64)
MAX_CHECKED_WEIGHTS = 20_000  #: check: most weights; each costs two loss evaluations


class OutOfTime(BaseException):
    """The innermost budget's deadline has passed (raised inside the budgeted work)."""


_local = threading.local()


def _deadlines() -> list[float]:
    """This thread's deadlines, outermost first (each no later than the one before)."""
    if not hasattr(_local, "deadlines"):
        _local.deadlines = []
    return _local.deadlines


def _use_signal() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _clock() -> float:
    """CPU seconds: of the process in the main thread (what ITIMER_PROF counts), else of the
    thread."""
    return time.process_time() if _use_signal() else time.thread_time()


def _expired() -> bool:
    stack = _deadlines()
    return bool(stack) and _clock() >= stack[-1]


def _on_timer(signum, frame):
    if _expired():
        raise OutOfTime


def _arm_timer(stack: list[float]) -> None:
    delay = max(stack[-1] - _clock(), 1e-3)
    signal.setitimer(signal.ITIMER_PROF, delay, TICK)


def _profile_hook():
    calls = 0

    def hook(frame, event, arg):
        nonlocal calls
        calls += 1
        if calls % CHECK_EVERY == 0 and _expired():
            raise OutOfTime

    return hook


def within(seconds: float, work: Callable[[], T], fallback: Callable[[], T]) -> T:
    """``work()`` if it returns within `seconds` of CPU time (and within every enclosing
    budget), else ``fallback()``, also when `work` returned late: an interruption can be lost
    (Python swallows an exception raised in a gc callback), and the outcome must not depend on
    where a signal lands.  Exceptions of `work` propagate unchanged."""
    stack = _deadlines()
    deadline = _clock() + seconds
    stack.append(min(deadline, stack[-1]) if stack else deadline)
    outermost = len(stack) == 1
    signalled = _use_signal()
    if outermost and signalled:
        old_handler = signal.signal(signal.SIGPROF, _on_timer)
        old_timer = signal.getitimer(signal.ITIMER_PROF)
    elif outermost:
        old_profile = sys.getprofile()
        sys.setprofile(_profile_hook())
    if signalled:
        _arm_timer(stack)
    try:
        result = work()
        if _clock() < stack[-1]:
            return result
    except OutOfTime:
        if _clock() < stack[-1]:
            raise
    finally:
        stack.pop()
        if signalled and stack:
            _arm_timer(stack)
        elif signalled:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, old_handler)
            if old_timer[0] > 0:
                signal.setitimer(signal.ITIMER_PROF, *old_timer)
        elif outermost:
            sys.setprofile(old_profile)
        else:  # CPython drops a profile hook that raised: the enclosing budget needs it back
            sys.setprofile(_profile_hook())
    return fallback()


def refuse_large_arrays(spec, command: str) -> None:
    """`SpecError` naming the layer if `command` ("generate" or "check") would allocate absurd
    arrays for the concrete `spec`: a width above `MAX_WIDTH`, a weight matrix above
    `MAX_WEIGHTS` entries, or, for check's finite differences, more than `MAX_CHECKED_WEIGHTS`
    weights in all.  Checked before anything is allocated; symbolic widths are not checked."""
    if not spec.is_concrete:
        return
    fields = [
        "input",
        *(
            f"layers[{i}].{'units' if x.kind == 'dense' else 'type'}"
            for i, x in enumerate(spec.layers)
        ),
    ]
    for where, width in zip(fields, spec.widths, strict=True):
        if width > MAX_WIDTH:
            raise SpecError(
                where,
                f"width {width} is too large for {command}; at most {MAX_WIDTH}",
                spec.source,
            )
    sizes = _parameter_sizes(spec)
    for j, (name, size) in enumerate(sizes, start=1):
        if size > MAX_WEIGHTS:
            raise SpecError(
                fields[j],
                f"{name}_{j} would have {size} entries, too many for {command}; at most "
                f"{MAX_WEIGHTS}",
                spec.source,
            )
    total = sum(size for _, size in sizes) + sum(
        _bias_size(spec, j, x) for j, x in enumerate(spec.layers, start=1) if x.bias
    )
    if command == "check" and total > MAX_CHECKED_WEIGHTS:
        raise SpecError(
            "layers",
            f"{total} weights are too many for check's finite differences (two loss evaluations "
            f"per weight); at most {MAX_CHECKED_WEIGHTS}: check a narrower copy of the network",
            spec.source,
        )


def _parameter_sizes(spec) -> list[tuple[str, int]]:
    """(weight's stem, entries) per layer, computed from the widths and shapes alone: W_j of
    d_j x d_{j-1}, a kernel K_j of C_out x C_in k_1 k_2, nothing for a pooling layer."""
    out = []
    for j, layer in enumerate(spec.layers, start=1):
        if layer.kind == "dense":
            out.append(("W", spec.widths[j] * spec.widths[j - 1]))
        elif layer.kind.startswith("conv"):
            window = 1
            for k in layer.kernel:
                window *= k
            out.append(("K", layer.channels * spec.shapes[j - 1][0] * window))
        elif layer.kind in _RECURRENT:  # W_xh and W_hh: blocks H x d_{j-1}, blocks H x H
            rows = _blocks(layer.kind) * layer.units
            out.append(("W", rows * (spec.widths[j - 1] + layer.units)))
        else:
            out.append(("pooling", 0))
    return out


_RECURRENT = ("rnn", "lstm", "gru")


def _blocks(kind: str) -> int:
    return {"rnn": 1, "lstm": 4, "gru": 3}[kind]


def _bias_size(spec, j: int, layer) -> int:
    """Entries of layer j's biases: one per unit, per channel, or per gate row (b and b_hh)."""
    if layer.kind == "dense":
        return spec.widths[j]
    if layer.kind in _RECURRENT:
        return _blocks(layer.kind) * layer.units * (2 if layer.kind == "gru" else 1)
    return layer.channels
