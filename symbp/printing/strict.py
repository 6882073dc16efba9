"""Printers that refuse what they cannot print: a symbp node (`nodes.SymbpNode`) without a
``_print_<Class>`` method raises an error naming the printer and the class, instead of SymPy's
generic fallback silently printing something else."""

from __future__ import annotations


class Strict:
    """Mixin for symbp's printers; must come before the SymPy printer in the bases."""

    def _print_SymbpNode(self, expr):
        raise NotImplementedError(
            f"{type(self).__name__} has no _print_{type(expr).__name__}: add it beside the "
            "printer's other node methods"
        )
