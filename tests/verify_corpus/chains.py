"""Intermediate steps of the lecture's chains: a row factor before a Jacobian stands for the
vector–Jacobian product (the oracle computes it with autograd through the forward pass)."""

from . import F, T
from .oracle import had

CLAIMS = [
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_3} = 2(z_3 - y) \frac{\partial z_3}{\partial W_3}",
        ("dW", 3),
        lambda n: n.vjp(2 * (n.z[3] - n.y), ("z", 3), ("W", 3)),
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_2} = 2(z_3 - y) \frac{\partial z_3}{\partial W_2}",
        ("dW", 2),
        lambda n: n.vjp(2 * (n.z[3] - n.y), ("z", 3), ("W", 2)),
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial W_2} = \delta_3 \frac{\partial z_3}{\partial W_2}",
        ("dW", 2),
        lambda n: n.vjp(n.d[3], ("z", 3), ("W", 2)),
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_2} = \delta_3 \frac{\partial(W_3 z_2)}{\partial z_2} \frac{\partial z_2}{\partial W_2}",
        ("dW", 2),
        lambda n: n.vjp(n.W[3].T @ n.d[3], ("z", 2), ("W", 2)),
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_2} = [(W_3^T \delta_3) \circ \sigma'_2] \frac{\partial(W_2 z_1)}{\partial W_2}",
        ("dW", 2),
        lambda n: n.vjp(had(n.W[3].T @ n.d[3], n.s[2]), ("u", 2), ("W", 2)),
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial W_2} = [W_3^T \delta_3] \frac{\partial(W_2 z_1)}{\partial W_2}",
        ("dW", 2),
        lambda n: n.vjp(n.W[3].T @ n.d[3], ("u", 2), ("W", 2)),
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_1} = W_2^T \delta_2 \frac{\partial z_1}{\partial W_1}",
        ("dW", 1),
        lambda n: n.vjp(n.W[2].T @ n.d[2], ("z", 1), ("W", 1)),
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial W_1} = \delta_2 \frac{\partial z_1}{\partial W_1}",
        ("dW", 1),
        lambda n: n.vjp(n.d[2], ("z", 1), ("W", 1)),
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_3} = \frac{\partial f}{\partial z_3} \frac{\partial z_3}{\partial W_3}",
        ("dW", 3),
        lambda n: n.vjp(n.zeta[3], ("z", 3), ("W", 3)),
    ),
    T(
        "residual",
        r"\frac{\partial f}{\partial W_1} = \left[W_2^T \delta_2 + \zeta_3\right] \frac{\partial z_1}{\partial W_1}",
        ("dW", 1),
        lambda n: n.vjp(n.W[2].T @ n.d[2] + n.zeta[3], ("z", 1), ("W", 1)),
    ),
    F(
        "residual",
        r"\frac{\partial f}{\partial W_1} = \left[W_2^T \delta_2\right] \frac{\partial z_1}{\partial W_1}",
        ("dW", 1),
        lambda n: n.vjp(n.W[2].T @ n.d[2], ("z", 1), ("W", 1)),
    ),
]
