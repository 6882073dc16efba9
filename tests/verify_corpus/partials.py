"""∂f/∂u_j, ∂f/∂z_j and ∂f/∂b_j as vectors shaped like the denominator, on either side: the
definition δ_j = ∂f/∂u_j and the textbook's first equation δ = ∂f/∂z ∘ σ′."""

from . import F, T
from .oracle import had

CLAIMS = [
    T("lecture", r"\delta_3 = \frac{\partial f}{\partial u_3}", ("delta", 3), lambda n: n.d[3]),
    T(
        "lecture",
        r"\frac{\partial f}{\partial u_2} = (W_3^T \delta_3) \circ \sigma'_2",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.s[2]),
    ),
    T(
        "lecture",
        r"\delta_3 = \frac{\partial f}{\partial z_3} \circ \sigma'_3",
        ("delta", 3),
        lambda n: had(n.zeta[3], n.s[3]),
    ),
    T(
        "lecture",
        r"\delta_3 = \sigma'_3 \circ \frac{\partial f}{\partial z_3}",
        ("delta", 3),
        lambda n: had(n.s[3], n.zeta[3]),
    ),
    T(
        "lecture",
        r"\delta_2 = \frac{\partial f}{\partial z_2} \circ \sigma'_2",
        ("delta", 2),
        lambda n: had(n.zeta[2], n.s[2]),
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial z_2} = W_3^T \delta_3",
        ("dz", 2),
        lambda n: n.W[3].T @ n.d[3],
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial z_2} = W_3^T \delta_3 \circ \sigma'_2",
        ("dz", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.s[2]),
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial z_3} = 2(z_3 - y)",
        ("dz", 3),
        lambda n: 2 * (n.z[3] - n.y),
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial z_3} = 2(z_3 - y) \circ \sigma'_3",
        ("dz", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.s[3]),
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial u_1} = \frac{\partial f}{\partial z_1} \circ z_1 \circ (1 - z_1)",
        ("delta", 1),
        lambda n: had(n.zeta[1], n.z[1], 1 - n.z[1]),
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_2} = \frac{\partial f}{\partial u_2} z_1^T",
        ("dW", 2),
        lambda n: n.d[2] @ n.z[1].T,
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial W_2} = \frac{\partial f}{\partial z_2} z_1^T",
        ("dW", 2),
        lambda n: n.zeta[2] @ n.z[1].T,
    ),
    T(
        "lecture",
        r"\delta_1 = \left(W_2^T \frac{\partial f}{\partial u_2}\right) \circ \sigma'_1",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], n.s[1]),
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial \mathbf{z}_1} = \mathbf{W}_2^T \boldsymbol{\delta}_2",
        ("dz", 1),
        lambda n: n.W[2].T @ n.d[2],
    ),
    T(
        "binary_classifier",
        r"\frac{\partial f}{\partial b_1} = \delta_1",
        ("db", 1),
        lambda n: n.d[1],
    ),
    F(
        "binary_classifier",
        r"\frac{\partial f}{\partial b_1} = \frac{\partial f}{\partial z_1}",
        ("db", 1),
        lambda n: n.zeta[1],
    ),
    T(
        "deep_mlp",
        r"\frac{\partial f}{\partial b_3} = \frac{\partial f}{\partial z_3} \circ \sigma'_3",
        ("db", 3),
        lambda n: had(n.zeta[3], n.s[3]),
    ),
    T("deep_mlp", r"\delta_5 = \frac{\partial f}{\partial z_5}", ("delta", 5), lambda n: n.zeta[5]),
    F("deep_mlp", r"\delta_4 = \frac{\partial f}{\partial z_4}", ("delta", 4), lambda n: n.zeta[4]),
]
