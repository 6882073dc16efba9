"""Code backends: a name -> the printer class that spells formulas and the template folder that
holds the module's structure.

A backend for another array library is one printer subclass (`SymbpNumPyPrinter` with its
`module` name and the few methods whose spelling differs), one folder under templates/ with a
`module.py.j2`, and one line in `BACKENDS`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SymbpError
from ..printing.jax import JaxPrinter
from ..printing.numpy import SymbpNumPyPrinter
from ..printing.torch import TorchPrinter


@dataclass(frozen=True)
class Backend:
    """`printer` prints every formula of the module; `templates` is its folder under templates/;
    `loops` says how its recurrent template runs the steps: "in place" (scratch arrays written
    by ufuncs, `output.cellcode`), "plain" (a Python loop of tensor expressions,
    `output.plaincells`) or "scan" (`jax.lax.scan` bodies, `output.scans`)."""

    name: str
    printer: type[SymbpNumPyPrinter]
    templates: str
    loops: str

    @property
    def module_template(self) -> str:
        """The module template's name, as `render.render` takes it."""
        return f"{self.templates}/module.py.j2"


#: Every backend `symbp generate` can emit, by name.
BACKENDS = {
    backend.name: backend
    for backend in (
        Backend("numpy", SymbpNumPyPrinter, "numpy", "in place"),
        Backend("jax", JaxPrinter, "jax", "scan"),
        Backend("torch", TorchPrinter, "torch", "plain"),
    )
}
DEFAULT = "numpy"


def backend(name: str) -> Backend:
    """The backend called `name`; a one-line SymbpError naming the choices if there is none."""
    try:
        return BACKENDS[name]
    except (KeyError, TypeError):
        choices = ", ".join(sorted(BACKENDS))
        raise SymbpError(f"unknown backend {name!r}: choose one of {choices}") from None
