"""The spec's ``[train]`` table: how the emitted module trains by default, and the weight decay
that is part of the objective.

```toml
[train]
optimizer = "adam"        # a key of catalog.optimizers.OPTIMIZERS
lr = 0.01                 # the base step size alpha (default: the derived default_step)
schedule = "constant"     # a key of catalog.optimizers.SCHEDULES
batch_size = 32           # omit for full-batch gradient descent
epochs = 50
seed = 0
layer_lr = [1, 0.5]       # the lecture's per-layer factors alpha_j, one per layer
weight_decay = 1e-4       # lambda in f + lambda sum_j ||W_j||_F^2; or one per layer
beta1 = 0.9               # any hyper-parameter of the chosen optimizer
```

Everything but ``weight_decay`` only sets defaults of the emitted module's `train` and command
line (which override them); ``weight_decay`` changes the objective, so the derivation, the LaTeX
and `check` include it.  Every fault is a `SpecError` naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..catalog import optimizers
from ..errors import SpecError, shown
from . import fields

_KEYS = ("optimizer", "lr", "schedule", "batch_size", "epochs", "seed", "layer_lr", "weight_decay")


@dataclass(frozen=True)
class Train:
    """The ``[train]`` table, validated; `hyper` holds the optimizer's hyper-parameters as sorted
    (name, value) pairs and `weight_decay` one lambda_j >= 0 per layer (None: no decay)."""

    optimizer: str = "sgd"
    lr: float | None = None
    schedule: str = "constant"
    batch_size: int | None = None
    epochs: int = 200
    seed: int = 0
    layer_lr: tuple[float, ...] | None = None
    weight_decay: tuple[float, ...] | None = None
    hyper: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict:
        """The TOML form: only the fields that differ from the defaults."""
        default, out = Train(), {}
        for key in _KEYS:
            value = getattr(self, key)
            if value != getattr(default, key):
                out[key] = list(value) if isinstance(value, tuple) else value
        out.update(self.hyper)
        return out

    def decay(self, j: int) -> float:
        """lambda_j of layer j (1-based); 0 without decay."""
        return 0.0 if self.weight_decay is None else self.weight_decay[j - 1]

    @property
    def decay_is_global(self) -> bool:
        """True when every layer has the same lambda (the documents write one lambda)."""
        return self.weight_decay is not None and len(set(self.weight_decay)) == 1


def hyperparameters(optimizer: str) -> dict:
    """The hyper-parameters `optimizer` takes, name -> default (none for plain SGD)."""
    return dict(getattr(optimizers.OPTIMIZERS[optimizer], "hyper", {}) or {})


def parse(table, depth: int, source: str | None) -> Train:
    """A `Train` from the ``[train]`` table of a spec with `depth` layers."""
    if not isinstance(table, dict):
        raise SpecError("train", "expected a table: [train] optimizer = ...", source)
    optimizer = fields.choice(
        table.get("optimizer", "sgd"), "train.optimizer", tuple(optimizers.OPTIMIZERS), source
    )
    allowed = hyperparameters(optimizer)
    fields.known(table, (*_KEYS, *allowed), "train", source)
    lr = table.get("lr")
    batch = table.get("batch_size")
    return Train(
        optimizer=optimizer,
        lr=None if lr is None else _positive(lr, "train.lr", source),
        schedule=fields.choice(
            table.get("schedule", "constant"),
            "train.schedule",
            tuple(optimizers.SCHEDULES),
            source,
        ),
        batch_size=None if batch is None else _count(batch, "train.batch_size", 1, source),
        epochs=_count(table.get("epochs", 200), "train.epochs", 0, source),
        seed=_count(table.get("seed", 0), "train.seed", 0, source),
        layer_lr=_per_layer(table.get("layer_lr"), "train.layer_lr", depth, _positive, source),
        weight_decay=_decay(table.get("weight_decay"), depth, source),
        hyper=tuple(
            sorted(
                (key, _finite(table[key], f"train.{key}", source))
                for key in allowed
                if key in table
            )
        ),
    )


def _number(value, where: str, source) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(where, f"expected a number, got {shown(value)}", source)
    return float(value)


def _finite(value, where: str, source) -> float:
    number = _number(value, where, source)
    if not math.isfinite(number):
        raise SpecError(where, f"expected a finite number, got {value}", source)
    return number


def _positive(value, where: str, source) -> float:
    number = _finite(value, where, source)
    if number <= 0:
        raise SpecError(where, f"expected a positive number, got {value}", source)
    return number


def _nonnegative(value, where: str, source) -> float:
    number = _finite(value, where, source)
    if number < 0:
        raise SpecError(where, f"expected a number >= 0, got {value}", source)
    return number


def _count(value, where: str, minimum: int, source) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(where, f"expected a whole number >= {minimum}, got {shown(value)}", source)
    return value


def _per_layer(value, where: str, depth: int, number, source) -> tuple[float, ...] | None:
    """None, or one number per layer (`number` validates each)."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != depth:
        raise SpecError(
            where, f"expected a list of {depth} numbers (one per layer), got {shown(value)}", source
        )
    return tuple(number(x, f"{where}[{i}]", source) for i, x in enumerate(value))


def _decay(value, depth: int, source) -> tuple[float, ...] | None:
    """lambda per layer: one number for every layer, or a list of `depth`; None when all are 0."""
    where = "train.weight_decay"
    if value is None:
        return None
    if isinstance(value, list):
        decay = _per_layer(value, where, depth, _nonnegative, source)
    else:
        decay = (_nonnegative(value, where, source),) * depth
    return decay if any(decay) else None
