"""The one exception a user sees: `SpecError` names the field at fault and what is allowed."""

from __future__ import annotations

import re

_LAYER_INDEX = re.compile(r"^layers\[(\d+)\]")


def shown_field(field: str) -> str:
    """A field path as the user reads it: the spec's 0-based array index and the lecture's
    1-based layer number, ``layers[0] (layer 1).activation``."""
    return _LAYER_INDEX.sub(lambda m: f"{m.group(0)} (layer {int(m.group(1)) + 1})", field)


class SymbpError(Exception):
    """An error caused by the user's input; the CLI prints it in one line and exits with status 2."""


class SpecError(SymbpError):
    """A network spec is wrong. `field` is a dotted path such as ``layers[1].activation``."""

    def __init__(self, field: str, message: str, source: str | None = None):
        self.field = field
        self.message = message
        self.source = source
        where = f"{source}: " if source else ""
        shown = shown_field(field)
        super().__init__(f"{where}{shown}: {message}" if field else f"{where}{message}")


def shown(value, limit: int = 60) -> str:
    """`value`'s repr for an error line, cut to `limit` characters (a 1 MB spec value must not
    become a 1 MB message)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
