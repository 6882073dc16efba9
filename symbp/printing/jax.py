"""JAX code for the batch pass: the NumPy printer with `jax.numpy` as the array module.

Only the spelling differs from `numpy.SymbpNumPyPrinter`: ``jnp.`` for ``np.``, log-sum-exp
through ``jax.nn.logsumexp`` (NumPy's ``logaddexp.reduce`` has no JAX counterpart).  The mathematics arrives from the derivation exactly as the
NumPy backend prints it.  The convolution, pooling and recurrence nodes print their own code
(``_numpycode``): functional spellings only (``@``, ``.T``, ``.reshape``, ``.sum(axis=...)``,
``jnp.repeat``, ``jnp.vstack``, row slices) and calls of the module's helpers, which
templates/jax/_conv.py.j2 and _recurrent.py.j2 define without writing into arrays.

`refuse` states what the JAX backend cannot emit (the perceptron rule, whose step has no
gradient), as a one-line error naming the spec's field.
"""

from __future__ import annotations

from ..catalog import activations
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
    """A `SpecError` naming the first layer of `spec` the JAX backend cannot emit: a kind not in
    `LAYER_KINDS` or an activation whose derivative is zero almost everywhere (the step: its
    perceptron rule is no gradient, so no custom_vjp rule)."""
    for i, layer in enumerate(spec.layers):
        if layer.kind not in LAYER_KINDS:
            raise SpecError(
                f"layers[{i}].type",
                f"the jax backend does not support {layer.kind} layers yet; "
                "generate this network with --backend numpy",
                spec.source,
            )
        sigma = layer.sigma
        if sigma.elementwise and activations.derivative(sigma).is_zero:
            raise SpecError(
                f"layers[{i}].activation",
                "the step's derivative is 0 almost everywhere and the perceptron rule is no "
                "gradient, so the jax backend has no backward rule for it; "
                "use --backend numpy or a differentiable activation",
                spec.source,
            )
