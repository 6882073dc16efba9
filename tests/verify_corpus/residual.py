"""A residual network (examples/residual.toml: z_3 = a_3 + z_1): ζ_j = ∂f/∂z_j, the two paths
into δ_1, a_3 against z_3 in σ′ and in the next layer's gradient."""

import numpy as np

from . import F, T
from .oracle import had

CLAIMS = [
    T("residual", r"\zeta_3 = W_4^T \delta_4", ("dz", 3), lambda n: n.W[4].T @ n.d[4]),
    T(
        "residual",
        r"\zeta_3 = 2 W_4^T (z_4 - y)",
        ("dz", 3),
        lambda n: 2 * n.W[4].T @ (n.z[4] - n.y),
    ),
    F("residual", r"\zeta_3 = W_3^T \delta_3", ("dz", 3), lambda n: n.W[3].T @ n.d[3]),
    T("residual", r"\zeta_3 = \frac{\partial f}{\partial z_3}", ("dz", 3), lambda n: n.zeta[3]),
    T(
        "residual",
        r"\delta_3 = \zeta_3 \circ \sigma'_3",
        ("delta", 3),
        lambda n: had(n.zeta[3], n.s[3]),
    ),
    T(
        "residual",
        r"\delta_3 = \zeta_3 \circ (1 - a_3 \circ a_3)",
        ("delta", 3),
        lambda n: had(n.zeta[3], 1 - had(n.a[3], n.a[3])),
    ),
    F(
        "residual",
        r"\delta_3 = \zeta_3 \circ (1 - z_3 \circ z_3)",
        ("delta", 3),
        lambda n: had(n.zeta[3], 1 - had(n.z[3], n.z[3])),
    ),
    T(
        "residual",
        r"\delta_1 = (W_2^T \delta_2 + \zeta_3) \circ \sigma'_1",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2] + n.zeta[3], n.s[1]),
    ),
    T(
        "residual",
        r"\delta_1 = (W_2^T \delta_2 + W_4^T \delta_4) \circ \sigma'_1",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2] + n.W[4].T @ n.d[4], n.s[1]),
    ),
    F(
        "residual",
        r"\delta_1 = (W_2^T \delta_2) \circ \sigma'_1",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], n.s[1]),
    ),
    F(
        "residual",
        r"\delta_1 = (W_2^T \delta_2 + W_3^T \delta_3) \circ \sigma'_1",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2] + n.W[3].T @ n.d[3], n.s[1]),
    ),
    T(
        "residual",
        r"\frac{\partial f}{\partial z_1} = W_2^T \delta_2 + \zeta_3",
        ("dz", 1),
        lambda n: n.W[2].T @ n.d[2] + n.zeta[3],
    ),
    F(
        "residual",
        r"\frac{\partial f}{\partial z_1} = W_2^T \delta_2",
        ("dz", 1),
        lambda n: n.W[2].T @ n.d[2],
    ),
    T(
        "residual",
        r"\frac{\partial f}{\partial W_4} = \delta_4 (a_3 + z_1)^T",
        ("dW", 4),
        lambda n: n.d[4] @ (n.a[3] + n.z[1]).T,
    ),
    F(
        "residual",
        r"\frac{\partial f}{\partial W_4} = \delta_4 a_3^T",
        ("dW", 4),
        lambda n: n.d[4] @ n.a[3].T,
    ),
    T(
        "residual",
        r"\frac{\partial f}{\partial b_3} = \zeta_3 \circ \sigma'_3",
        ("db", 3),
        lambda n: had(n.zeta[3], n.s[3]),
    ),
    T(
        "residual",
        r"\delta_2 = (W_3^T \delta_3) \circ (1 - \tanh^2(u_2))",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], 1 - np.tanh(n.u[2]) ** 2),
    ),
    T("residual", r"\delta_4 = 2(z_4 - y)", ("delta", 4), lambda n: 2 * (n.z[4] - n.y)),
    F(
        "residual",
        r"\delta_4 = 2(z_4 - y) \circ z_4 \circ (1 - z_4)",
        ("delta", 4),
        lambda n: had(2 * (n.z[4] - n.y), n.z[4], 1 - n.z[4]),
    ),
    T(
        "residual",
        r"\frac{\partial f}{\partial W_1} = \left[(W_2^T \delta_2 + \zeta_3) \circ (1 - z_1 \circ z_1)\right] z_0^T",
        ("dW", 1),
        lambda n: had(n.W[2].T @ n.d[2] + n.zeta[3], 1 - had(n.z[1], n.z[1])) @ n.z[0].T,
    ),
    T(
        "residual",
        r"\boldsymbol{\mathcal{Z}}_3 = W_4^T \Delta_4",
        ("dz", 3),
        lambda n: n.W[4].T @ n.D[4],
        batch=True,
    ),
    T(
        "residual",
        r"\Delta_1 = (W_2^T \Delta_2 + \boldsymbol{\mathcal{Z}}_3) \circ (1 - Z_1 \circ Z_1)",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.D[2] + n.zeta[3], 1 - had(n.Z[1], n.Z[1])),
        batch=True,
    ),
    T(
        "residual",
        r"\frac{\partial f}{\partial W_3} = \frac{1}{N} (\boldsymbol{\mathcal{Z}}_3 \circ \Sigma'_3) Z_2^T",
        ("dW", 3),
        lambda n: had(n.zeta[3], n.S[3]) @ n.Z[2].T / n.N,
        batch=True,
    ),
    F(
        "residual",
        r"\frac{\partial f}{\partial W_4} = \frac{1}{N} \Delta_4 A_3^T",
        ("dW", 4),
        lambda n: n.D[4] @ n.A[3].T / n.N,
        batch=True,
    ),
]
