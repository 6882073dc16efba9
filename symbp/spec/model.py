"""Network specs: frozen dataclasses, TOML loading and validation.

A `Spec` is a network of J layers with a loss and its reduction.  Each layer belongs to a layer
kind (`catalog.layers`, chosen by a table's ``type``; "dense", the lecture's
z_j = sigma_j(W_j z_{j-1} + b_j) with an optional residual ``skip_from``, by default), which
parses and validates its own fields in the context of the whole spec.  Widths are positive
integers or, for derivation and LaTeX only, symbols such as ``d_1``: plain identifiers other than
the names symbp uses itself (`naming.is_reserved`), held as `naming.WidthSymbol` however they were
given (TOML, a string or a SymPy symbol in the API).  Every validation failure raises `SpecError`
naming the field and what is allowed; user strings never reach `sympify`.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import sympy as sp

from ..catalog.layers import KINDS, dense, kind_of
from ..catalog.losses import LOSSES, SCALES, scale_factor
from ..errors import SpecError, shown
from . import fields
from .train import Train
from .train import parse as parse_train

REDUCTIONS = ("mean", "sum")
TIME_REDUCTIONS = ("sum", "mean")
RECURRENT = ("rnn", "lstm", "gru")
LAYOUTS = ("columns", "rows")  #: how claims to `verify` lay out samples (see `Spec.layout`)
_SPEC_KEYS = (
    "name",
    "input",
    "loss",
    "reduction",
    "bias",
    "layers",
    "loss_scale",
    "layout",
    "train",
    "steps",
    "time_reduction",
)
STEPS = sp.Symbol("T", integer=True, positive=True)  #: a sequence's length, when given at run time

Width = fields.Width
Layer = dense.Layer  #: the lecture's dense layer (the default ``type``)


@dataclass(frozen=True)
class Spec:
    """A network: input width d_0, layers 1..J, loss and its reduction over the N samples.

    `loss_scale` multiplies the loss (a key of `losses.SCALES`: "1/2" for (1/2)||y - z_J||^2,
    "1/d_J" for a mean over the output units); it is part of the objective everywhere.
    `layout` is how `verify` reads claims: "columns" (the lecture's, samples as columns) or
    "rows" (samples as rows: z_j^T, W_j of shape d_{j-1} x d_j, X^T Delta); derive, latex and
    generate always write columns, so two specs that differ only in layout compare equal (and
    share cached derivations); the digest tells them apart.
    `train` is the ``[train]`` table (`spec.train.Train`): the emitted trainer's defaults, and
    the weight decay that is part of the objective.
    """

    name: str
    input: Width | fields.Shape
    layers: tuple[Layer, ...]
    loss: str = "l2"
    reduction: str = "mean"
    loss_scale: str = "1"
    layout: str = field(default="columns", compare=False)  # the same network either way
    train: Train = field(default_factory=Train)
    steps: int | None = None  #: T, the length of the input sequences (recurrent networks)
    time_reduction: str = "sum"  #: a sequence output's loss over the steps: "sum" or "mean"
    source: str | None = field(default=None, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "layers", tuple(self.layers))
        validate(self)

    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def shapes(self) -> tuple[tuple, ...]:
        """Each value's shape per sample, z_0 .. z_J: (d_j,) for a vector, (channels, length) or
        (channels, height, width) for a feature map (stored flattened, channel-major, as a
        column of d_j = the product of the shape)."""
        return self.shapes_upto(self.depth)

    def shapes_upto(self, j: int) -> tuple[tuple, ...]:
        """The shapes of z_0 .. z_j (layers after j are not looked at: `validate` checks
        layer j + 1 against the shape of z_j before any later layer)."""
        shape = self.input if isinstance(self.input, tuple) else (self.input,)
        out = [shape]
        for layer in self.layers[:j]:
            shape = kind_of(layer).shape(layer, shape)
            out.append(shape)
        return tuple(out)

    @property
    def is_recurrent(self) -> bool:
        """True when a layer is recurrent: the input is then a sequence of vectors."""
        return any(layer.kind in RECURRENT for layer in self.layers)

    @property
    def sequences(self) -> tuple[bool, ...]:
        """For z_0 .. z_J: whether the value is a sequence (one column per step and sample).
        The input is one when a layer is recurrent; a recurrent layer's output is one with
        ``output = "sequence"``; a dense layer keeps what it reads."""
        out = [self.is_recurrent]
        for layer in self.layers:
            out.append(layer.output == "sequence" if layer.kind in RECURRENT else out[-1])
        return tuple(out)

    @property
    def time_steps(self):
        """T as the derivation writes it: the spec's `steps`, else the symbol T."""
        return self.steps if self.steps is not None else STEPS

    @property
    def widths(self) -> tuple[Width, ...]:
        """d_0, d_1, ..., d_J: each value's number of entries per sample."""
        return tuple(fields.size(shape) for shape in self.shapes)

    @property
    def loss_factor(self):
        """The SymPy factor `loss_scale` names (1, 1/2, 1/d_J), and 1/T for a loss averaged
        over the steps of a sequence (``time_reduction = "mean"``)."""
        factor = scale_factor(self.loss_scale, self.widths[-1])
        return factor / self.time_steps if self.time_reduction == "mean" else factor

    @property
    def is_concrete(self) -> bool:
        return all(isinstance(w, int) for w in self.widths)

    def to_dict(self) -> dict:
        """Canonical plain form (TOML-shaped); symbolic widths become their names.  `loss_scale`
        and `layout` only when not at their defaults, so that older specs keep their digest."""
        out = {
            "name": self.name,
            "input": fields.width_out(self.input),
            "loss": self.loss,
            "reduction": self.reduction,
            "layers": [layer.to_dict() for layer in self.layers],
        }
        if self.loss_scale != "1":
            out["loss_scale"] = self.loss_scale
        if self.layout != "columns":
            out["layout"] = self.layout
        if self.train != Train():
            out["train"] = self.train.to_dict()
        if self.steps is not None:
            out["steps"] = self.steps
        if self.time_reduction != "sum":
            out["time_reduction"] = self.time_reduction
        return out

    def digest(self) -> str:
        """SHA-256 of the canonical form: names the spec in generated headers."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def with_widths(self, widths) -> Spec:
        """The same network with widths d_0..d_J replaced (used for proofs at small widths); dense
        networks only (a feature map's width follows from its shape)."""
        d0, *rest = widths
        layers = tuple(replace(layer, units=d) for layer, d in zip(self.layers, rest, strict=True))
        return replace(self, input=d0, layers=layers)


def lecture_spec() -> Spec:
    """The lecture's illustrative network: J = 3, sigmoid layers, widths 4-3-3-2, no bias, l2."""
    return Spec(
        name="lecture",
        input=4,
        layers=tuple(Layer(units, "sigmoid", False) for units in (3, 3, 2)),
    )


def _normalize_widths(spec: Spec) -> None:
    """Widths given as names (the API accepts "d_0" as TOML does) become `WidthSymbol`s, so that
    a spec that passes validation is one that `derive` accepts."""
    src = spec.source
    if isinstance(spec.input, list | tuple):
        object.__setattr__(spec, "input", fields.shape(spec.input, "input", src))
    else:
        object.__setattr__(spec, "input", fields.width(spec.input, "input", src))
    layers = tuple(
        replace(layer, units=fields.width(layer.units, f"layers[{i}].units", src))
        if layer.kind == "dense"
        else layer
        for i, layer in enumerate(spec.layers)
    )
    object.__setattr__(spec, "layers", layers)


def validate(spec: Spec) -> None:
    """Check every field of `spec` (widths normalised first); raise `SpecError` on the first
    fault.  Each layer is checked by its kind, in the context of the whole spec."""
    src = spec.source
    if not isinstance(spec.name, str) or not fields.IDENTIFIER.match(spec.name):
        raise SpecError(
            "name", f"{shown(spec.name)} is not a Python identifier (letters, digits, '_')", src
        )
    fields.choice(spec.loss, "loss", tuple(LOSSES), src)
    fields.choice(spec.reduction, "reduction", REDUCTIONS, src)
    fields.choice(spec.loss_scale, "loss_scale", tuple(SCALES), src)
    fields.choice(spec.layout, "layout", LAYOUTS, src)
    if not spec.layers:
        raise SpecError("layers", "a network needs at least one [[layers]] table", src)
    kinds = tuple(kind.Layer for kind in KINDS.values())
    for i, layer in enumerate(spec.layers):
        if not isinstance(layer, kinds):
            raise SpecError(f"layers[{i}]", "expected a Layer", src)
    _normalize_widths(spec)
    for i, layer in enumerate(spec.layers):
        kind_of(layer).check(spec, i)
    _check_sequences(spec)
    if not isinstance(spec.train, Train):
        raise SpecError("train", "expected a Train (spec.train.Train)", src)
    parse_train(spec.train.to_dict(), spec.depth, src)  # the same checks as a [train] table


def _dense_units(spec: Spec) -> list[tuple[str, object]]:
    """(field, width) of every dense layer's units."""
    return [(f"layers[{i}].units", x.units) for i, x in enumerate(spec.layers) if x.kind == "dense"]


def _check_sequences(spec: Spec) -> None:
    """`steps` and `time_reduction` belong to recurrent networks; their layers read vectors."""
    src = spec.source
    fields.choice(spec.time_reduction, "time_reduction", TIME_REDUCTIONS, src)
    if not spec.is_recurrent:
        for key, unset in (
            ("steps", spec.steps is None),
            ("time_reduction", spec.time_reduction == "sum"),
        ):
            if not unset:
                raise SpecError(
                    key, "only a recurrent network (rnn, lstm, gru layer) reads sequences", src
                )
        return
    if spec.steps is not None and (
        isinstance(spec.steps, bool) or not isinstance(spec.steps, int) or spec.steps < 1
    ):
        raise SpecError("steps", f"T must be an integer >= 1, got {spec.steps!r}", src)
    if isinstance(spec.input, tuple):
        raise SpecError("input", "a recurrent network reads vectors: give input = d (a width)", src)
    for where, width in (("input", spec.input), *_dense_units(spec)):
        if not isinstance(width, int):
            raise SpecError(
                where,
                f"a recurrent network needs numeric widths, got the symbol {width}; "
                "use a positive integer",
                src,
            )
    for i, layer in enumerate(spec.layers):
        if layer.kind not in RECURRENT and layer.kind != "dense" and spec.sequences[i]:
            raise SpecError(f"layers[{i}].type", f"{layer.kind} cannot read a sequence", src)
        if (
            layer.kind == "dense"
            and layer.skip_from is not None
            and spec.sequences[i] != spec.sequences[layer.skip_from]
        ):
            raise SpecError(
                f"layers[{i}].skip_from", "a skip connection between a sequence and a vector", src
            )
    if spec.time_reduction == "mean" and not spec.sequences[-1]:
        raise SpecError(
            "time_reduction",
            'the output is not a sequence; remove it or set output = "sequence"',
            src,
        )


def from_dict(data: dict, source: str | None = None) -> Spec:
    """Build a `Spec` from TOML-shaped data, naming the offending field on error."""
    if not isinstance(data, dict):
        raise SpecError("", "a spec is a table of fields", source)
    fields.known(data, _SPEC_KEYS, "", source)
    for key in ("name", "input", "layers"):
        if key not in data:
            raise SpecError(key, "missing required field", source)
    default_bias = fields.boolean(data.get("bias", False), "bias", source)
    raw_layers = data["layers"]
    if not isinstance(raw_layers, list) or not all(isinstance(t, dict) for t in raw_layers):
        raise SpecError("layers", "expected an array of tables: [[layers]] units = ...", source)
    layers = []
    for i, table in enumerate(raw_layers):
        where = f"layers[{i}]"
        kind = fields.choice(table.get("type", "dense"), f"{where}.type", tuple(KINDS), source)
        body = {key: value for key, value in table.items() if key != "type"}
        layers.append(KINDS[kind].parse(body, where, source, default_bias))
    name = data["name"]
    if not isinstance(name, str):
        raise SpecError("name", f"expected a string, got {shown(name)}", source)
    return Spec(
        name=name,
        input=_input(data["input"], source),
        layers=tuple(layers),
        loss=data.get("loss", "l2"),
        reduction=data.get("reduction", "mean"),
        loss_scale=data.get("loss_scale", "1"),
        layout=data.get("layout", "columns"),
        train=parse_train(data.get("train", {}), len(layers), source),
        steps=data.get("steps"),
        time_reduction=data.get("time_reduction", "sum"),
        source=source,
    )


def _input(value, source):
    """The ``input`` field: a width, or a feature map's shape [channels, (height,) width]."""
    if isinstance(value, list):
        return fields.shape(value, "input", source)
    return fields.width(value, "input", source)


def load(path: str | Path) -> Spec:
    """Read a TOML spec file.  Missing files and malformed TOML raise `SpecError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("", f"spec file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError("", f"cannot read spec file {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError("", f"malformed TOML: {exc}", str(path)) from None
    return from_dict(data, source=str(path))
