"""An independent oracle for recurrent networks: the forward pass of an Elman, LSTM or GRU layer
(PyTorch's formulation, written out here from its documentation, not from symbp) followed by dense
layers and the loss, in HIPS autograd's NumPy, so that autograd's reverse mode gives the gradients.

Truncated BPTT with window k is the forward pass with the hidden state's gradient stopped where
a window begins (t = k, 2k, ...): the state enters the next window as a constant, as
``h = h.detach()`` does in PyTorch."""

from __future__ import annotations

import autograd.numpy as anp
from autograd import grad
from autograd.extend import defvjp, primitive


@primitive
def _constant(x):
    return x


defvjp(_constant, lambda ans, x: lambda g: 0 * g)


def _sigmoid(x):
    return 0.5 * (anp.tanh(x / 2) + 1)


_ACTS = {
    "tanh": anp.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda x: anp.maximum(x, 0),
    "identity": lambda x: x,
    "softplus": lambda x: anp.log1p(anp.exp(x)),
}


def recurrent(kind, j, params, X, activation="tanh", truncate=None):
    """h_1..h_T of layer j for X of shape (T, d, N): a list of (H, N) arrays."""
    W, U = params[f"Wxh{j}"], params[f"Whh{j}"]
    b = params.get(f"b{j}", 0.0)
    b_hh = params.get(f"bhh{j}", 0.0)
    T, _, n = X.shape
    H = U.shape[1]
    h = anp.zeros((H, n))
    c = anp.zeros((H, n))
    out = []
    for t in range(T):
        if truncate and t and t % truncate == 0:
            h, c = _constant(h), _constant(c)
        x = X[t]
        gi = anp.dot(W, x) + b
        gh = anp.dot(U, h) + b_hh
        if kind == "rnn":
            h = _ACTS[activation](gi + gh)
        elif kind == "lstm":
            i = _sigmoid(gi[:H] + gh[:H])
            f = _sigmoid(gi[H : 2 * H] + gh[H : 2 * H])
            g = anp.tanh(gi[2 * H : 3 * H] + gh[2 * H : 3 * H])
            o = _sigmoid(gi[3 * H :] + gh[3 * H :])
            c = f * c + i * g
            h = o * anp.tanh(c)
        else:  # gru
            r = _sigmoid(gi[:H] + gh[:H])
            z = _sigmoid(gi[H : 2 * H] + gh[H : 2 * H])
            m = anp.tanh(gi[2 * H :] + r * gh[2 * H :])
            h = (1 - z) * m + z * h
        out.append(h)
    return out


def objective(spec, params, X, Y):
    """f of `spec` (one recurrent layer, then dense layers) for X (T, d, N) and Y (T, d_J, N) or
    (d_J, N): the loss summed over outputs and steps, averaged over samples (reduction mean) and
    over steps (time_reduction mean)."""
    first = spec.layers[0]
    hs = recurrent(
        first.kind,
        1,
        params,
        X,
        first.activation_name if first.kind == "rnn" else "tanh",
        first.truncate,
    )
    Z = anp.concatenate(hs, axis=1) if first.output == "sequence" else hs[-1]
    for j, layer in enumerate(spec.layers[1:], start=2):
        U = anp.dot(params[f"W{j}"], Z) + params.get(f"b{j}", 0.0)
        if layer.activation_name == "softmax":
            E = anp.exp(U - anp.max(U, axis=0, keepdims=True))
            Z = E / anp.sum(E, axis=0, keepdims=True)
        else:
            Z = _ACTS[layer.activation_name](U)
    if first.output == "sequence":
        Y = anp.concatenate(list(Y), axis=1)
    if spec.loss == "l2":
        total = anp.sum((Y - Z) ** 2)
    elif spec.loss == "cross_entropy":
        total = -anp.sum(Y * anp.log(Z))
    else:
        raise ValueError(spec.loss)
    n = X.shape[2]
    if spec.reduction == "mean":
        total = total / n
    if spec.time_reduction == "mean":
        total = total / X.shape[0]
    return total


def gradients(spec, params, X, Y):
    """d f / d param for every param, by autograd."""
    keys = sorted(params)

    def f(values):
        return objective(spec, dict(zip(keys, values, strict=True)), X, Y)

    return dict(zip(keys, grad(f)([params[k] for k in keys]), strict=True))
