"""What every layer with an activation shares: its ``activation`` field (a registry name or a
custom `Activation`), resolved, named and written back to TOML."""

from __future__ import annotations

from ...spec import fields
from ..activations import ACTIVATIONS, Activation


class Activated:
    """Mixin of a layer dataclass with an ``activation`` field."""

    @property
    def sigma(self) -> Activation:
        """The activation itself (registry names resolved)."""
        act = self.activation
        return act if isinstance(act, Activation) else ACTIVATIONS[act]

    @property
    def activation_name(self) -> str:
        return self.sigma.name

    def activation_out(self):
        """The TOML form: the registry name, or ``{ name, expr }`` for a custom formula."""
        sigma = self.sigma
        return sigma.name if sigma.source is None else {"name": sigma.name, "expr": sigma.source}


def parse_activation(table: dict, where: str, source: str | None, default: str):
    """A layer table's ``activation``: a registry name, or a custom ``{ name, expr }``."""
    activation = table.get("activation", default)
    if isinstance(activation, dict):
        return fields.custom_activation(activation, f"{where}.activation", source)
    return fields.choice(activation, f"{where}.activation", tuple(ACTIVATIONS), source)
