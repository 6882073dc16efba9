"""The dense (fully-connected) layer of lecture 6: z_j = sigma_j(W_j z_{j-1} + b_j), optionally
with a residual connection z_j = sigma_j(W_j z_{j-1} + b_j) + z_k from an earlier layer k.

Spec fields (a `[[layers]]` table): ``units`` (a width), ``activation`` (a registry name or a
custom ``{ name, expr }``), ``bias`` (bool), ``skip_from`` (k, with 0 <= k < j - 1 and d_k = d_j).
Ops: affine u_j = W_j z_{j-1} (+ b_j 1^T); activation sigma_j(u_j) (or softmax); with a skip, an
add of the activation's output a_j and z_k.  Named adjoints: delta_j for u_j; zeta_j for z_j when
it is the sum of two paths.  Parameters: W_j (normal, std gain / sqrt(d_{j-1})) and b_j (zeros).
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import MatAdd, MatMul, OneMatrix

from ...errors import SpecError
from ...graph.nodes import Sigma
from ...graph.ops import Op, Param, Part
from ...spec import fields
from ..activations import ACTIVATIONS, Activation
from ..losses import LOSSES
from .activated import Activated, parse_activation

FIELDS = ("units", "activation", "bias", "skip_from")


@dataclass(frozen=True)
class Layer(Activated):
    """A dense layer: `units` outputs, its `activation` (a registry name or a custom
    `Activation`), whether it adds a bias, and the earlier layer whose output it adds, if any."""

    units: fields.Width
    activation: str | Activation = "sigmoid"
    bias: bool = False
    skip_from: int | None = None

    kind = "dense"

    def to_dict(self) -> dict:
        """The TOML form (`skip_from` only when set, so older specs keep their digest)."""
        out = {
            "units": fields.width_out(self.units),
            "activation": self.activation_out(),
            "bias": self.bias,
        }
        if self.skip_from is not None:
            out["skip_from"] = self.skip_from
        return out


def parse(table: dict, where: str, source: str | None, default_bias: bool) -> Layer:
    """A `Layer` from its TOML table (`where` names it, e.g. "layers[2]")."""
    fields.known(table, (*FIELDS, "type"), where, source)
    if "units" not in table:
        raise SpecError(f"{where}.units", "missing required field", source)
    activation = parse_activation(table, where, source, "sigmoid")
    skip = table.get("skip_from")
    return Layer(
        units=fields.width(table["units"], f"{where}.units", source),
        activation=activation,
        bias=fields.boolean(table.get("bias", default_bias), f"{where}.bias", source),
        skip_from=None if skip is None else fields.index(skip, f"{where}.skip_from", source),
    )


def check(spec, i: int) -> None:
    """Validate layer i (0-based) of `spec` in its context; `SpecError` naming the field."""
    layer, src, where, j = spec.layers[i], spec.source, f"layers[{i}]", i + 1
    fields.width(layer.units, f"{where}.units", src)
    if not isinstance(layer.activation, Activation):
        fields.choice(layer.activation, f"{where}.activation", tuple(ACTIVATIONS), src)
    fields.boolean(layer.bias, f"{where}.bias", src)
    last = j == spec.depth
    if layer.sigma.kind == "softmax" and not last:
        raise SpecError(f"{where}.activation", "softmax is supported on the output layer only", src)
    needed = LOSSES[spec.loss].output if spec.loss in LOSSES else None
    if last and needed and layer.activation != needed:
        raise SpecError(
            f"{where}.activation",
            f"loss {spec.loss!r} needs a {needed} output layer (its outputs must be "
            f"{LOSSES[spec.loss].targets.split(' (')[0]}); set activation = {needed!r}",
            src,
        )
    if layer.skip_from is not None:
        _check_skip(spec, i, needed if last else None)


def _check_skip(spec, i: int, output_activation: str | None) -> None:
    layer, src, where, j = spec.layers[i], spec.source, f"layers[{i}].skip_from", i + 1
    k = fields.index(layer.skip_from, where, src)
    if j < 2:
        raise SpecError(
            where, f"layer {j} has no earlier output to add (z_0 already feeds it); remove it", src
        )
    if not 0 <= k < j - 1:
        choices = "0 (the input)" if j == 2 else f"one of 0 (the input) .. {j - 2}"
        raise SpecError(
            where,
            f"layer {j} can add z_k for k = {choices}, got {k} (z_{j - 1} feeds it already)",
            src,
        )
    widths = [fields.size(s) for s in spec.shapes_upto(j)]
    if widths[k] != widths[j]:
        raise SpecError(
            where,
            f"z_{k} has width {widths[k]} but layer {j} has {widths[j]} units; "
            "a residual connection adds vectors of one width",
            src,
        )
    if layer.sigma.kind == "softmax":
        raise SpecError(
            where, f"softmax plus z_{k} is no longer a probability vector; remove skip_from", src
        )
    if output_activation:
        raise SpecError(
            where,
            f"adding z_{k} to the {layer.activation_name} output breaks what loss {spec.loss!r} "
            "needs of it; remove skip_from or use loss 'l2'",
            src,
        )


def ops(j: int, layer: Layer, names, before: tuple = ()) -> Part:
    """Layer j's ops over `names` (see the module docstring)."""
    W, z_prev, u = names.W(j), names.z(j - 1), names.u(j)
    scale = layer.sigma.init_gain / _sqrt_fan_in(names.widths[j - 1])
    params = [Param(f"W{j}", W, scale, decays=True)]
    inputs, pre = (W, z_prev), MatMul(W, z_prev)
    if layer.bias:
        b = names.b(j)
        inputs += (b,)
        cols = names.cols_of(j)
        pre = MatAdd(pre, b if cols == 1 else MatMul(b, OneMatrix(1, cols)))
        params.append(Param(f"b{j}", b, None))
    out = [Op("affine", u, inputs, pre, layer=j)]
    z = names.z(j)
    act = names.a(j) if layer.skip_from is not None else z
    sigma = layer.sigma
    if sigma.kind == "softmax":
        out.append(Op("softmax", act, (u,), Sigma(j, u), layer=j, attrs=(("activation", sigma),)))
    else:
        attrs = (("activation", sigma), ("sigma_prime", names.dsigma(j)))
        out.append(Op("activation", act, (u,), Sigma(j, u), layer=j, attrs=attrs))
    named = {u: names.delta(j)}
    if layer.skip_from is not None:
        skip = names.z(layer.skip_from)
        out.append(Op("add", z, (act, skip), MatAdd(act, skip), layer=j))
        named[z] = names.zeta(j)
    return Part(tuple(out), named, frozenset({u}), tuple(params), z)


def _sqrt_fan_in(width) -> float:
    return float(width) ** 0.5 if isinstance(width, int) else 1.0


def shape(layer: Layer, before: tuple) -> tuple:
    """The output's shape per sample, (units,): a feature map before it is flattened (its
    entries in channel-major order, as stored)."""
    return (layer.units,)
