"""Network specs: frozen dataclasses, TOML loading and validation.

A `Spec` is a J-layer network z_j = sigma_j(W_j z_{j-1} + b_j) with a loss.  Widths are positive
integers or, for derivation and LaTeX only, symbols such as ``d_1``: plain identifiers other than
the names symbp uses itself (`naming.is_reserved`), held as `naming.WidthSymbol` however they were
given (TOML, a string or a SymPy symbol in the API).  Every validation failure raises `SpecError`
naming the field and what is allowed; user strings never reach `sympify`.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import sympy as sp

from . import formula, naming
from .activations import ACTIVATIONS, Activation, undefined_where
from .errors import SpecError
from .losses import LOSSES

REDUCTIONS = ("mean", "sum")
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_SPEC_KEYS = {"name", "input", "loss", "reduction", "bias", "layers"}
_LAYER_KEYS = {"units", "activation", "bias"}

Width = int | naming.WidthSymbol


@dataclass(frozen=True)
class Layer:
    """One layer: `units` outputs, its `activation` (a registry name or a custom `Activation`),
    and whether it adds a bias."""

    units: Width
    activation: str | Activation = "sigmoid"
    bias: bool = False

    @property
    def sigma(self) -> Activation:
        """The activation itself (registry names resolved)."""
        act = self.activation
        return act if isinstance(act, Activation) else ACTIVATIONS[act]

    @property
    def activation_name(self) -> str:
        return self.sigma.name


@dataclass(frozen=True)
class Spec:
    """A network: input width d_0, layers 1..J, loss and its reduction over the N samples."""

    name: str
    input: Width
    layers: tuple[Layer, ...]
    loss: str = "l2"
    reduction: str = "mean"
    source: str | None = field(default=None, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "layers", tuple(self.layers))
        validate(self)
        _normalize_widths(self)

    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def widths(self) -> tuple[Width, ...]:
        """d_0, d_1, ..., d_J."""
        return (self.input, *(layer.units for layer in self.layers))

    @property
    def is_concrete(self) -> bool:
        return all(isinstance(w, int) for w in self.widths)

    def to_dict(self) -> dict:
        """Canonical plain form (TOML-shaped); symbolic widths become their names."""
        return {
            "name": self.name,
            "input": _width_out(self.input),
            "loss": self.loss,
            "reduction": self.reduction,
            "layers": [
                {
                    "units": _width_out(layer.units),
                    "activation": _activation_out(layer),
                    "bias": layer.bias,
                }
                for layer in self.layers
            ],
        }

    def digest(self) -> str:
        """SHA-256 of the canonical form: names the spec in generated headers."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def with_widths(self, widths) -> Spec:
        """The same network with widths d_0..d_J replaced (used for proofs at small widths)."""
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


def _activation_out(layer: Layer):
    sigma = layer.sigma
    return sigma.name if sigma.source is None else {"name": sigma.name, "expr": sigma.source}


def _width_out(width: Width):
    return width if isinstance(width, int) else str(width)


def _normalize_widths(spec: Spec) -> None:
    """Widths given as names (the API accepts "d_0" as TOML does) become `WidthSymbol`s, so that
    a spec that passes validation is one that `derive` accepts."""
    src = spec.source
    object.__setattr__(spec, "input", _width(spec.input, "input", src))
    layers = tuple(
        replace(layer, units=_width(layer.units, f"layers[{i}].units", src))
        for i, layer in enumerate(spec.layers)
    )
    object.__setattr__(spec, "layers", layers)


def _width_symbol(name: str, where: str, source: str | None) -> naming.WidthSymbol:
    allowed = "a positive integer, or a symbol name such as 'd_1'"
    if not naming.WIDTH_NAME.match(name):
        raise SpecError(where, f"{name!r} is not a valid width symbol; use {allowed}", source)
    if naming.is_reserved(name):
        raise SpecError(
            where,
            f"{name!r} is a name symbp uses itself (N samples, f, t, s, y, z1, W2, delta3, ...); "
            "choose another width symbol such as 'd_1'",
            source,
        )
    return naming.WidthSymbol(name)


def _width(value, where: str, source: str | None) -> Width:
    allowed = "a positive integer, or a symbol name such as 'd_1'"
    if isinstance(value, bool):
        raise SpecError(where, f"expected {allowed}, got {value!r}", source)
    if isinstance(value, int):
        if value <= 0:
            raise SpecError(where, f"width must be positive, got {value}; use {allowed}", source)
        return value
    if isinstance(value, float):
        raise SpecError(where, f"width must be a whole number, got {value}; use {allowed}", source)
    if isinstance(value, str):
        return _width_symbol(value, where, source)
    if isinstance(value, sp.Symbol):
        return _width_symbol(value.name, where, source)
    raise SpecError(where, f"expected {allowed}, got {type(value).__name__}", source)


def _choice(value, where: str, options, source: str | None) -> str:
    if not isinstance(value, str) or value not in options:
        raise SpecError(
            where, f"unknown value {value!r}; choose one of: {', '.join(options)}", source
        )
    return value


def _boolean(value, where: str, source: str | None) -> bool:
    if not isinstance(value, bool):
        raise SpecError(where, f"expected true or false, got {value!r}", source)
    return value


def _custom(table: dict, where: str, source: str | None) -> Activation:
    """A custom activation { name = "...", expr = "formula in t" }, parsed safely."""
    unknown = sorted(set(table) - {"name", "expr"})
    if unknown:
        raise SpecError(f"{where}.{unknown[0]}", "unknown field; allowed: name, expr", source)
    for key in ("name", "expr"):
        if not isinstance(table.get(key), str):
            raise SpecError(f"{where}.{key}", "missing or not a string", source)
    name = table["name"]
    if not _IDENTIFIER.match(name) or name in ACTIVATIONS:
        raise SpecError(
            f"{where}.name", f"{name!r} must be an identifier other than the built-in names", source
        )
    try:
        expr = formula.parse(table["expr"])
    except formula.FormulaError as exc:
        raise SpecError(f"{where}.expr", str(exc), source) from None
    activation = Activation(name, expr, source=table["expr"])
    why = undefined_where(activation)
    if why:
        raise SpecError(f"{where}.expr", f"{table['expr']!r} cannot be used: {why}", source)
    return activation


def _check_output(spec: Spec) -> None:
    """Softmax only on the output layer; a loss that needs an output activation gets it."""
    src, last = spec.source, len(spec.layers) - 1
    for i, layer in enumerate(spec.layers[:-1]):
        if isinstance(layer, Layer) and layer.activation == "softmax":
            raise SpecError(
                f"layers[{i}].activation", "softmax is supported on the output layer only", src
            )
    needed = LOSSES[spec.loss].output if spec.loss in LOSSES else None
    if needed and isinstance(spec.layers[-1], Layer) and spec.layers[-1].activation != needed:
        raise SpecError(
            f"layers[{last}].activation",
            f"loss {spec.loss!r} needs a {needed} output layer (its outputs must be "
            f"{LOSSES[spec.loss].targets.split(' (')[0]}); set activation = {needed!r}",
            src,
        )


def validate(spec: Spec) -> None:
    """Check every field of `spec`; raise `SpecError` on the first fault."""
    src = spec.source
    if not isinstance(spec.name, str) or not _IDENTIFIER.match(spec.name):
        raise SpecError(
            "name", f"{spec.name!r} is not a Python identifier (letters, digits, '_')", src
        )
    _width(spec.input, "input", src)
    _choice(spec.loss, "loss", tuple(LOSSES), src)
    _choice(spec.reduction, "reduction", REDUCTIONS, src)
    if not spec.layers:
        raise SpecError("layers", "a network needs at least one [[layers]] table", src)
    _check_output(spec)
    for i, layer in enumerate(spec.layers):
        if not isinstance(layer, Layer):
            raise SpecError(f"layers[{i}]", "expected a Layer", src)
        _width(layer.units, f"layers[{i}].units", src)
        if not isinstance(layer.activation, Activation):
            _choice(layer.activation, f"layers[{i}].activation", tuple(ACTIVATIONS), src)
        _boolean(layer.bias, f"layers[{i}].bias", src)


def from_dict(data: dict, source: str | None = None) -> Spec:
    """Build a `Spec` from TOML-shaped data, naming the offending field on error."""
    if not isinstance(data, dict):
        raise SpecError("", "a spec is a table of fields", source)
    unknown = sorted(set(data) - _SPEC_KEYS)
    if unknown:
        raise SpecError(
            unknown[0], f"unknown field; allowed: {', '.join(sorted(_SPEC_KEYS))}", source
        )
    for key in ("name", "input", "layers"):
        if key not in data:
            raise SpecError(key, "missing required field", source)
    default_bias = _boolean(data.get("bias", False), "bias", source)
    raw_layers = data["layers"]
    if not isinstance(raw_layers, list) or not all(isinstance(t, dict) for t in raw_layers):
        raise SpecError("layers", "expected an array of tables: [[layers]] units = ...", source)
    layers = []
    for i, table in enumerate(raw_layers):
        unknown = sorted(set(table) - _LAYER_KEYS)
        if unknown:
            allowed = ", ".join(sorted(_LAYER_KEYS))
            raise SpecError(
                f"layers[{i}].{unknown[0]}", f"unknown field; allowed: {allowed}", source
            )
        if "units" not in table:
            raise SpecError(f"layers[{i}].units", "missing required field", source)
        activation = table.get("activation", "sigmoid")
        where = f"layers[{i}].activation"
        if isinstance(activation, dict):
            activation = _custom(activation, where, source)
        else:
            activation = _choice(activation, where, tuple(ACTIVATIONS), source)
        layers.append(
            Layer(
                units=_width(table["units"], f"layers[{i}].units", source),
                activation=activation,
                bias=_boolean(table.get("bias", default_bias), f"layers[{i}].bias", source),
            )
        )
    name = data["name"]
    if not isinstance(name, str):
        raise SpecError("name", f"expected a string, got {name!r}", source)
    return Spec(
        name=name,
        input=_width(data["input"], "input", source),
        layers=tuple(layers),
        loss=data.get("loss", "l2"),
        reduction=data.get("reduction", "mean"),
        source=source,
    )


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
