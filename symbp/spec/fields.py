"""Validation of spec fields, shared by the spec and the layer kinds: each function returns the
value in canonical form or raises `SpecError` naming the field (`where`) and what is allowed.
User strings never reach `sympify`: formulas go through `formula.parse`."""

from __future__ import annotations

import re

import sympy as sp

from .. import naming
from ..catalog.activations import ACTIVATIONS, Activation, undefined_where
from ..errors import SpecError, shown
from . import formula

IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def width_symbol(name: str, where: str, source: str | None) -> naming.WidthSymbol:
    allowed = "a positive integer, or a symbol name such as 'd_1'"
    if not naming.WIDTH_NAME.match(name):
        raise SpecError(where, f"{shown(name)} is not a valid width symbol; use {allowed}", source)
    if naming.is_reserved(name):
        raise SpecError(
            where,
            f"{shown(name)} is a name symbp uses itself (N samples, f, t, s, y, z1, W2, delta3, ...); "
            "choose another width symbol such as 'd_1'",
            source,
        )
    return naming.WidthSymbol(name)


def width(value, where: str, source: str | None) -> Width:
    allowed = "a positive integer, or a symbol name such as 'd_1'"
    if isinstance(value, bool):
        raise SpecError(where, f"expected {allowed}, got {shown(value)}", source)
    if isinstance(value, int):
        if value <= 0:
            raise SpecError(where, f"width must be positive, got {value}; use {allowed}", source)
        return value
    if isinstance(value, float):
        raise SpecError(where, f"width must be a whole number, got {value}; use {allowed}", source)
    if isinstance(value, str):
        return width_symbol(value, where, source)
    if isinstance(value, sp.Symbol):
        return width_symbol(value.name, where, source)
    raise SpecError(where, f"expected {allowed}, got {type(value).__name__}", source)


def choice(value, where: str, options, source: str | None) -> str:
    if not isinstance(value, str) or value not in options:
        raise SpecError(
            where, f"unknown value {shown(value)}; choose one of: {', '.join(options)}", source
        )
    return value


def boolean(value, where: str, source: str | None) -> bool:
    if not isinstance(value, bool):
        raise SpecError(where, f"expected true or false, got {shown(value)}", source)
    return value


def custom_activation(table: dict, where: str, source: str | None) -> Activation:
    """A custom activation { name = "...", expr = "formula in t" }, parsed safely."""
    unknown = sorted(set(table) - {"name", "expr"})
    if unknown:
        raise SpecError(f"{where}.{unknown[0]}", "unknown field; allowed: name, expr", source)
    for key in ("name", "expr"):
        if not isinstance(table.get(key), str):
            raise SpecError(f"{where}.{key}", "missing or not a string", source)
    name = table["name"]
    if not IDENTIFIER.match(name) or name in ACTIVATIONS:
        raise SpecError(
            f"{where}.name",
            f"{shown(name)} must be an identifier other than the built-in names",
            source,
        )
    try:
        expr = formula.parse(table["expr"])
    except formula.FormulaError as exc:
        raise SpecError(f"{where}.expr", str(exc), source) from None
    activation = Activation(name, expr, source=table["expr"])
    why = undefined_where(activation)
    if why:
        raise SpecError(f"{where}.expr", f"{shown(table['expr'])} cannot be used: {why}", source)
    return activation


Width = int | naming.WidthSymbol
Shape = tuple[int, ...]  #: a value's shape per sample: (d,), (channels, length), (c, h, w)


def shape(value, where: str, source: str | None) -> Shape:
    """An input shape: [channels, length] or [channels, height, width] of positive integers."""
    allowed = "[channels, length] or [channels, height, width] of positive integers"
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise SpecError(where, f"expected a width or {allowed}, got {shown(value)}", source)
    for i, n in enumerate(value):
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise SpecError(f"{where}[{i}]", f"expected a positive integer, got {shown(n)}", source)
    return tuple(value)


def size(shape_: tuple):
    """The number of entries of a value of `shape_` (a width itself for a vector)."""
    if len(shape_) == 1:
        return shape_[0]
    out = 1
    for n in shape_:
        out *= n
    return out


def width_out(width: Width | Shape):
    """A width or shape in TOML form: symbolic widths become their names, shapes lists."""
    if isinstance(width, tuple):
        return list(width)
    return width if isinstance(width, int) else str(width)


def index(value, where: str, source: str | None) -> int:
    """A layer index: a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpecError(
            where,
            f"expected a layer index (0 for the input, 1, 2, ...), got {shown(value)}",
            source,
        )
    return value


def known(table: dict, allowed, where: str, source: str | None) -> None:
    """`SpecError` naming the first field of `table` that is not in `allowed`."""
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise SpecError(
            f"{where}.{unknown[0]}" if where else unknown[0],
            f"unknown field; allowed: {', '.join(sorted(allowed))}",
            source,
        )
