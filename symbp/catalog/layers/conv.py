"""Convolutional layers (``type = "conv1d"`` / ``"conv2d"``): z_j = sigma_j(K_j * z_{j-1} + b_j),
the lecture's affine layer whose W_j is the Toeplitz matrix of the kernel K_j (circulant for
``padding = "circular"``), and pooling layers (``maxpool1d/2d``, ``avgpool1d/2d``).

Feature maps are (channels, length) or (channels, height, width) per sample, stored flattened
channel-major as a column (see `graph.convolution`).  Conv fields: ``channels`` (outputs),
``kernel`` (an integer or one per axis), ``stride`` (default 1), ``padding`` ("valid", "same" --
the output keeps ceil(size / stride) positions, padding split with the extra one after, as
TensorFlow -- or "circular"), ``activation`` (default relu), ``bias``.  Pooling fields: ``size``
(the window, also its stride).  A dense layer after them reads the flattened map.
Parameters: K_j, C_out x C_in k_1 k_2 (normal, std gain / sqrt(C_in k_1 k_2)), emitted with shape
(C_out, C_in, k_1, k_2) as PyTorch's conv weight; b_j, one per output channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import MatAdd, MatMul, MatrixSymbol, OneMatrix

from ...errors import SpecError, shown
from ...graph.convolution import (
    AvgPool,
    ChannelBias,
    Conv,
    Geometry,
    MaxPool,
)
from ...graph.nodes import Sigma
from ...graph.ops import Op, Param, Part
from ...spec import fields
from ..activations import ACTIVATIONS, Activation
from .activated import Activated, parse_activation

PADDINGS = ("valid", "same", "circular")
_AXES = {1: "(channels, length)", 2: "(channels, height, width)"}


@dataclass(frozen=True)
class ConvLayer(Activated):
    """A convolutional layer of `kind` "conv1d" or "conv2d"."""

    kind: str
    channels: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: str = "valid"
    activation: str | Activation = "relu"
    bias: bool = False

    skip_from = None  # no residual connections into a feature map

    @property
    def dims(self) -> int:
        return int(self.kind[-2])

    def to_dict(self) -> dict:
        return {
            "type": self.kind,
            "channels": self.channels,
            "kernel": list(self.kernel),
            "stride": list(self.stride),
            "padding": self.padding,
            "activation": self.activation_out(),
            "bias": self.bias,
        }

    def summary(self) -> str:
        k = "x".join(map(str, self.kernel))
        return f"{self.kind} {self.channels}ch {k} {self.padding} {self.activation_name}"


@dataclass(frozen=True)
class PoolLayer:
    """A pooling layer of `kind` "maxpool1d", "maxpool2d", "avgpool1d" or "avgpool2d"."""

    kind: str
    size: tuple[int, ...]

    skip_from = None
    bias = False
    activation = "identity"

    @property
    def dims(self) -> int:
        return int(self.kind[-2])

    @property
    def sigma(self) -> Activation:
        return ACTIVATIONS["identity"]

    @property
    def activation_name(self) -> str:
        return "identity"

    def to_dict(self) -> dict:
        return {"type": self.kind, "size": list(self.size)}

    def summary(self) -> str:
        return f"{self.kind} {'x'.join(map(str, self.size))}"


def _per_axis(value, where: str, dims: int, source, minimum: int = 1) -> tuple[int, ...]:
    """An integer for every axis, or a list of `dims` integers, each >= `minimum`."""
    values = value if isinstance(value, list) else [value] * dims
    if len(values) != dims:
        raise SpecError(
            where, f"expected an integer or a list of {dims}, got {shown(value)}", source
        )
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            at = where if not isinstance(value, list) else f"{where}[{i}]"
            raise SpecError(at, f"expected an integer >= {minimum}, got {shown(v)}", source)
    return tuple(values)


class ConvKind:
    """The "conv1d" or "conv2d" layer kind (see `catalog.layers`)."""

    FIELDS = ("channels", "kernel", "stride", "padding", "activation", "bias")
    Layer = ConvLayer

    def __init__(self, dims: int):
        self.dims, self.name = dims, f"conv{dims}d"

    def parse(self, table: dict, where: str, source, default_bias: bool) -> ConvLayer:
        fields.known(table, (*self.FIELDS, "type"), where, source)
        for key in ("channels", "kernel"):
            if key not in table:
                raise SpecError(f"{where}.{key}", "missing required field", source)
        activation = parse_activation(table, where, source, "relu")
        channels = _per_axis(table["channels"], f"{where}.channels", 1, source)[0]
        return ConvLayer(
            kind=self.name,
            channels=channels,
            kernel=_per_axis(table["kernel"], f"{where}.kernel", self.dims, source),
            stride=_per_axis(table.get("stride", 1), f"{where}.stride", self.dims, source),
            padding=fields.choice(
                table.get("padding", "valid"), f"{where}.padding", PADDINGS, source
            ),
            activation=activation,
            bias=fields.boolean(table.get("bias", default_bias), f"{where}.bias", source),
        )

    def check(self, spec, i: int) -> None:
        layer, src, where = spec.layers[i], spec.source, f"layers[{i}]"
        before = _feature_map(spec, i, self.dims, f"{where}.type")
        if layer.sigma.kind == "softmax":
            raise SpecError(
                f"{where}.activation", "softmax is supported on a dense output layer only", src
            )
        _check_windows(layer.kernel, layer.stride, layer.padding, before[1:], where, src)
        if i == spec.depth - 1:
            _last_layer(spec, where)

    def geometry(self, layer: ConvLayer, j: int, before: tuple) -> Geometry:
        size = before[1:]
        pads = [
            _pads(n, k, s, layer.padding)
            for n, k, s in zip(size, layer.kernel, layer.stride, strict=False)
        ]
        return Geometry(
            j,
            before[0],
            tuple(size),
            layer.channels,
            layer.kernel,
            layer.stride,
            tuple(a for a, _ in pads),
            tuple(b for _, b in pads),
            layer.padding == "circular",
        )

    def shape(self, layer: ConvLayer, before: tuple) -> tuple:
        g = self.geometry(layer, 0, before)
        return (layer.channels, *g.size_out)

    def ops(self, j: int, layer: ConvLayer, names, before: tuple) -> Part:
        g = self.geometry(layer, j, before)
        K = MatrixSymbol(f"K{j}", g.channels_out, g.patch)
        z_prev, u = names.z(j - 1), names.u(j)
        gain = layer.sigma.init_gain / g.patch**0.5
        shape = (g.channels_out, g.channels_in, *g.kernel)  # as PyTorch's conv weight
        params = [Param(f"K{j}", K, gain, decays=True, array_shape=shape)]
        inputs, pre = (K, z_prev), Conv(K, z_prev, g)
        if layer.bias:
            b = MatrixSymbol(f"b{j}", g.channels_out, 1)
            inputs += (b,)
            bias = ChannelBias(b, g)
            pre = MatAdd(pre, bias if names.cols == 1 else MatMul(bias, OneMatrix(1, names.cols)))
            params.append(Param(f"b{j}", b, None))
        sigma, z = layer.sigma, names.z(j)
        attrs = (("activation", sigma), ("sigma_prime", names.dsigma(j)))
        out = (
            Op("conv", u, inputs, pre, layer=j, attrs=(("geometry", g),)),
            Op("activation", z, (u,), Sigma(j, u), layer=j, attrs=attrs),
        )
        return Part(out, {u: names.delta(j)}, frozenset({u}), tuple(params), z)


class PoolKind:
    """A pooling layer kind: "maxpool1d", "maxpool2d", "avgpool1d", "avgpool2d"."""

    FIELDS = ("size",)
    Layer = PoolLayer

    def __init__(self, how: str, dims: int):
        self.how, self.dims, self.name = how, dims, f"{how}pool{dims}d"

    def parse(self, table: dict, where: str, source, default_bias: bool) -> PoolLayer:
        fields.known(table, (*self.FIELDS, "type"), where, source)
        if "size" not in table:
            raise SpecError(f"{where}.size", "missing required field", source)
        return PoolLayer(self.name, _per_axis(table["size"], f"{where}.size", self.dims, source))

    def check(self, spec, i: int) -> None:
        layer, src, where = spec.layers[i], spec.source, f"layers[{i}]"
        before = _feature_map(spec, i, self.dims, f"{where}.type")
        for axis, (n, p) in enumerate(zip(before[1:], layer.size, strict=True)):
            if n % p:
                raise SpecError(
                    f"{where}.size",
                    f"a window of {p} does not divide the input's "
                    f"{_axis_names(before[1:])[axis]} ({n} positions); choose a size that "
                    f"divides {n}",
                    src,
                )
        if i == spec.depth - 1:
            _last_layer(spec, where)

    def geometry(self, layer: PoolLayer, j: int, before: tuple) -> Geometry:
        zeros = (0,) * self.dims
        return Geometry(
            j, before[0], tuple(before[1:]), before[0], layer.size, layer.size, zeros, zeros
        )

    def shape(self, layer: PoolLayer, before: tuple) -> tuple:
        return (before[0], *(n // p for n, p in zip(before[1:], layer.size, strict=True)))

    def ops(self, j: int, layer: PoolLayer, names, before: tuple) -> Part:
        g = self.geometry(layer, j, before)
        z_prev, z = names.z(j - 1), names.z(j)
        node = MaxPool(z_prev, g) if self.how == "max" else AvgPool(z_prev, g)
        op = Op(f"{self.how}pool", z, (z_prev,), node, layer=j, attrs=(("geometry", g),))
        return Part((op,), {}, frozenset(), (), z)


def _pads(n: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """(before, after) padding of one axis of n positions."""
    if padding == "valid":
        return 0, 0
    out = -(-n // s)  # ceil(n / s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def _feature_map(spec, i: int, dims: int, where: str) -> tuple:
    """The shape of layer i's input, which must be a feature map of `dims` spatial axes."""
    before = spec.shapes_upto(i)[i]
    if len(before) != dims + 1:
        got = f"a vector of {before[0]} entries" if len(before) == 1 else f"shape {before}"
        raise SpecError(
            where,
            f"{spec.layers[i].kind} needs a {_AXES[dims]} input, but z_{i} is {got}; "
            f"give input = [channels, ...] or put {spec.layers[i].kind} layers before dense ones",
            spec.source,
        )
    return before


def _axis_names(size) -> tuple[str, ...]:
    """How messages name a grid's axes: the length of a 1-D map, the height and width of 2-D."""
    return ("length",) if len(size) == 1 else ("height", "width")


def _check_windows(kernel, stride, padding, size, where: str, src) -> None:
    names = _axis_names(size)
    for axis, (n, k, s) in enumerate(zip(size, kernel, stride, strict=True)):
        if padding == "valid" and k > n:
            raise SpecError(
                f"{where}.kernel",
                f"the kernel ({k}) is longer than the input's {names[axis]} ({n}) without "
                'padding; use a smaller kernel or padding = "same"',
                src,
            )
        if s > k:
            raise SpecError(
                f"{where}.stride",
                f"a stride of {s} with a kernel of {k} skips input entries; use stride <= kernel",
                src,
            )
        if padding == "valid" and (n - k) % s:
            raise SpecError(
                f"{where}.stride",
                f"a stride of {s} skips the last {(n - k) % s} position(s) of the input's "
                f"{names[axis]} ({n} positions, kernel {k}: the windows start every {s} "
                f"positions up to {n - k}); use a stride that divides {n - k}, another kernel, "
                'or padding = "same"',
                src,
            )
        if padding == "circular" and k > n:
            raise SpecError(
                f"{where}.kernel", f"a circular kernel ({k}) longer than the axis ({n})", src
            )


def _last_layer(spec, where: str) -> None:
    """A feature map as the network's output: only with a loss that needs no output layer."""
    from ..losses import LOSSES

    needed = LOSSES[spec.loss].output if spec.loss in LOSSES else None
    if needed:
        raise SpecError(
            f"{where}.type",
            f"loss {spec.loss!r} needs a dense {needed} output layer; add one after this layer",
            spec.source,
        )


CONV1D, CONV2D = ConvKind(1), ConvKind(2)
POOLS = tuple(PoolKind(how, dims) for how in ("max", "avg") for dims in (1, 2))
