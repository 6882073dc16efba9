"""JAX code for the batch pass: the NumPy printer with `jax.numpy` as the array module.

Only the spelling differs from `numpy.SymbpNumPyPrinter`: ``jnp.`` for ``np.``, log-sum-exp
through ``jax.nn.logsumexp`` (NumPy's ``logaddexp.reduce`` has no JAX counterpart).  The mathematics arrives from the derivation exactly as the
NumPy backend prints it.  The convolution, pooling and recurrence nodes print their own code
(``_numpycode``): functional spellings only (``@``, ``.T``, ``.reshape``, ``.sum(axis=...)``,
``jnp.repeat``, ``jnp.vstack``, row slices) and calls of the module's helpers, which
templates/jax/_conv.py.j2 and _recurrent.py.j2 define without writing into arrays.

`refuse` names a layer kind the JAX backend does not print, as a one-line error naming the
spec's field (the perceptron's step is refused for every framework backend in `output.module`).
"""

from __future__ import annotations

from ..errors import SpecError
from .numpy import SymbpNumPyPrinter

#: the layer kinds whose ops this backend prints
LAYER_KINDS = frozenset(
    {"dense", "conv1d", "conv2d", "maxpool1d", "maxpool2d", "avgpool1d", "avgpool2d"}
    | {"rnn", "lstm", "gru"}
)


class JaxPrinter(SymbpNumPyPrinter):
    module = "jnp"  #: ``import jax.numpy as jnp``
    float64_printer = SymbpNumPyPrinter  #: the same IEEE float64 operations, erf aside

    def _print_erf(self, expr):
        """``jax.lax.erf``, in the argument's dtype (jax.numpy has no erf); float64 checks
        evaluate NumPy's spelling (math.erf entry-wise) in its place."""
        return f"jax.lax.erf({self._print(expr.args[0])})"

    def _print_LogSumExp(self, expr):
        return f"jax.nn.logsumexp({self._print(expr.arg)}, axis=0, keepdims=True)"

    @staticmethod
    def refuse(spec) -> None:
        """`refuse`: what `output.module.module_source` calls before emitting for this backend."""
        refuse(spec)


def refuse(spec) -> None:
    """A `SpecError` naming the first layer of `spec` whose kind is not in `LAYER_KINDS` (a
    kind added to the catalog before this backend prints it); a step activation is refused for
    every framework backend by `output.module.module_source`."""
    for i, layer in enumerate(spec.layers):
        if layer.kind not in LAYER_KINDS:
            raise SpecError(
                f"layers[{i}].type",
                f"the jax backend does not support {layer.kind} layers yet; "
                "generate this network with --backend numpy",
                spec.source,
            )
