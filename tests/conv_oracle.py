"""An independent oracle for convolutional networks: every convolution written as the lecture's
dense matrix W = T(K) (Toeplitz; circulant for circular padding), built here by loops over output
positions and kernel offsets, and pooling as gathers over index arrays; differentiated by HIPS
autograd.  Nothing here comes from symbp (padding follows TensorFlow's "same": ceil(n / s)
outputs, the extra pad after)."""

from __future__ import annotations

import itertools

import autograd.numpy as anp
import numpy as np
from autograd import grad


def pads(n: int, k: int, s: int, padding: str) -> tuple[int, int]:
    if padding == "valid":
        return 0, 0
    total = max((-(-n // s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def conv_basis(channels_in, size, channels_out, kernel, stride, padding):
    """E with T(K) = tensordot(K.ravel(), E, 1): E[(co, ci, w), (co, o), (ci, i)] = 1 where output
    position o of channel co reads input position i of channel ci through kernel offset w."""
    pad = [pads(n, k, s, padding) for n, k, s in zip(size, kernel, stride, strict=True)]
    out = [
        (n + a + b - k) // s + 1 for n, (a, b), k, s in zip(size, pad, kernel, stride, strict=True)
    ]
    positions_in, positions_out = int(np.prod(size)), int(np.prod(out))
    window = int(np.prod(kernel))
    E = np.zeros(
        (
            channels_out * channels_in * window,
            channels_out * positions_out,
            channels_in * positions_in,
        )
    )
    for o, at in enumerate(itertools.product(*map(range, out))):
        for w, off in enumerate(itertools.product(*map(range, kernel))):
            index = []
            for p, k, s, (a, _), n in zip(at, off, stride, pad, size, strict=True):
                i = p * s + k - a
                if padding == "circular":
                    i %= n
                elif not 0 <= i < n:
                    break
                index.append(i)
            else:
                i = int(np.ravel_multi_index(index, size))
                for co in range(channels_out):
                    for ci in range(channels_in):
                        row = (co * channels_in + ci) * window + w
                        E[row, co * positions_out + o, ci * positions_in + i] += 1
    return E, tuple(out)


def pool_index(channels, size, window):
    """For each output (c, o): the input rows of its window (rows in channel-major order)."""
    out = [n // p for n, p in zip(size, window, strict=True)]
    rows = []
    for c in range(channels):
        for at in itertools.product(*map(range, out)):
            block = []
            for off in itertools.product(*map(range, window)):
                index = [a * p + k for a, p, k in zip(at, window, off, strict=True)]
                block.append(c * int(np.prod(size)) + int(np.ravel_multi_index(index, size)))
            rows.append(block)
    return np.array(rows), tuple(out)


ACTIVATIONS = {
    "tanh": anp.tanh,
    "sigmoid": lambda u: 1 / (1 + anp.exp(-u)),
    "identity": lambda u: u,
    "relu": lambda u: anp.maximum(u, 0),
}


class Network:
    """The oracle for a spec given as a TOML-shaped dict (conv, pool and dense layers, l2 loss
    with mean reduction): `objective(params, X, Y)` and `gradients` (autograd)."""

    def __init__(self, spec: dict):
        self.layers = []
        shape = tuple(spec["input"])
        for j, layer in enumerate(spec["layers"], start=1):
            kind = layer.get("type", "dense")
            if kind.startswith("conv"):
                dims = int(kind[-2])
                kernel = _axes(layer["kernel"], dims)
                stride = _axes(layer.get("stride", 1), dims)
                E, out = conv_basis(
                    shape[0],
                    shape[1:],
                    layer["channels"],
                    kernel,
                    stride,
                    layer.get("padding", "valid"),
                )
                self.layers.append(("conv", j, E, out, layer))
                shape = (layer["channels"], *out)
            elif "pool" in kind:
                window = _axes(layer["size"], int(kind[-2]))
                rows, out = pool_index(shape[0], shape[1:], window)
                self.layers.append((kind[:3], j, rows, out, layer))
                shape = (shape[0], *out)
            else:
                self.layers.append(("dense", j, None, None, layer))
                shape = (layer["units"],)

    def objective(self, params, X, Y):
        Z = X
        for kind, j, data, _, layer in self.layers:
            if kind == "conv":
                W = anp.tensordot(anp.reshape(params[f"K{j}"], (-1,)), data, axes=1)
                U = anp.dot(W, Z)
                if f"b{j}" in params:
                    U = U + anp.repeat(
                        params[f"b{j}"], W.shape[0] // params[f"b{j}"].shape[0], axis=0
                    )
                Z = ACTIVATIONS[layer.get("activation", "relu")](U)
            elif kind == "max":
                Z = anp.max(Z[data], axis=1)
            elif kind == "avg":
                Z = anp.mean(Z[data], axis=1)
            else:
                U = anp.dot(params[f"W{j}"], Z)
                if f"b{j}" in params:
                    U = U + params[f"b{j}"]
                Z = ACTIVATIONS[layer.get("activation", "sigmoid")](U)
        return anp.sum((Y - Z) ** 2) / X.shape[1]

    def gradients(self, params, X, Y):
        return grad(lambda p: self.objective(p, X, Y))(params)

    def toeplitz(self, j: int, K) -> np.ndarray:
        """Layer j's dense matrix T(K)."""
        E = next(data for kind, jj, data, _, _ in self.layers if jj == j and kind == "conv")
        return np.tensordot(K.ravel(), E, axes=1)


def _axes(value, dims):
    return tuple(value) if isinstance(value, list) else (value,) * dims
