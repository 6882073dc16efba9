"""An independent NumPy reference for the tests of `symbp verify`'s conventions and chains: the
forward pass of a dense sigmoid network, its objective under a loss scale, and central
differences.  Nothing here comes from symbp: the expected verdicts are computed from it."""

from __future__ import annotations

import numpy as np


def sigmoid(u):
    return 1 / (1 + np.exp(-u))


def network(widths, seed=0, samples=1):
    """Random weights W_j (d_j x d_{j-1}), inputs X (d_0 x samples), targets Y (d_J x samples)."""
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(size=(widths[j], widths[j - 1])) for j in range(1, len(widths))]
    return Ws, rng.normal(size=(widths[0], samples)), rng.normal(size=(widths[-1], samples))


def forward(Ws, X, start=0, U=None):
    """(us, zs) of the forward pass, samples as columns; from layer `start` + 1 on, with
    u_{start} = U given, when `start` > 0."""
    zs, us = [X], []
    for j, W in enumerate(Ws, start=1):
        if j < start:
            us.append(None)
            zs.append(None)
            continue
        u = U if j == start else W @ zs[-1]
        us.append(u)
        zs.append(sigmoid(u))
    return us, zs


def objective(Ws, X, Y, scale=1.0, start=0, U=None):
    """scale * ||y - z_J||^2 per sample, the mean over the samples (the columns of X and Y)."""
    _, zs = forward(Ws, X, start, U)
    return scale * np.sum((Y - zs[-1]) ** 2) / X.shape[1]


def central(fun, A, h=1e-6):
    """d fun / d A by central differences (A a float array; fun a scalar function of it)."""
    out = np.zeros_like(A)
    for i in np.ndindex(A.shape):
        up, down = A.copy(), A.copy()
        up[i] += h
        down[i] -= h
        out[i] = (fun(up) - fun(down)) / (2 * h)
    return out


def gradient_W(Ws, X, Y, j, scale=1.0):
    """df/dW_j (1-based j) by central differences."""

    def f(Wj):
        changed = list(Ws)
        changed[j - 1] = Wj
        return objective(changed, X, Y, scale)

    return central(f, Ws[j - 1])


def delta(Ws, X, Y, j, scale=1.0):
    """delta_j = df/du_j of each sample (a column each, N times the per-sample adjoint so that a
    column is the adjoint of that sample's own loss), by central differences."""
    us, _ = forward(Ws, X)
    N = X.shape[1]
    return N * central(lambda U: objective(Ws, X, Y, scale, start=j, U=U), us[j - 1])
