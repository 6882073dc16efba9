"""σ′ written through the layer's output: z ∘ (1 − z) for sigmoid, 1 − z ∘ z for tanh, σ(u)(1 − σ(u)),
(𝟏 − z) as symbp's own LaTeX prints it, 1 − e^{−z} for softplus."""

import numpy as np

from . import F, T
from .oracle import had

CLAIMS = [
    T(
        "lecture",
        r"\delta_3 = 2(z_3 - y) \circ z_3 \circ (1 - z_3)",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.z[3], 1 - n.z[3]),
    ),
    T(
        "lecture",
        r"\delta_3 = 2(z_3 - y) \circ \sigma_3(u_3) \circ (1 - \sigma_3(u_3))",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.z[3], 1 - n.z[3]),
    ),
    T(
        "lecture",
        r"\boldsymbol{\delta}_3 = 2(\mathbf{z}_3 - \mathbf{y}) \circ \mathbf{z}_3 \circ (\mathbf{1} - \mathbf{z}_3)",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.z[3], 1 - n.z[3]),
    ),
    T(
        "lecture",
        r"\delta_2 = (W_3^T \delta_3) \circ z_2 \circ (1 - z_2)",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.z[2], 1 - n.z[2]),
    ),
    T(
        "lecture",
        r"\delta_1 = \left(W_2^T \delta_2\right) \odot z_1 \odot (1 - z_1)",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], n.z[1], 1 - n.z[1]),
    ),
    T(
        "lecture",
        r"\delta_2 = (W_3^T \delta_3) \circ \sigma(u_2) \circ (1 - \sigma(u_2))",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.z[2], 1 - n.z[2]),
    ),
    F(
        "lecture",
        r"\delta_2 = (W_3^T \delta_3) \circ z_3 \circ (1 - z_3)",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.z[3], 1 - n.z[3]),
    ),
    F(
        "lecture",
        r"\delta_1 = (W_2^T \delta_2) \circ z_2 \circ (1 - z_2)",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], n.z[2], 1 - n.z[2]),
    ),
    F(
        "lecture",
        r"\delta_3 = 2(z_3 - y) \circ (1 - z_3 \circ z_3)",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), 1 - had(n.z[3], n.z[3])),
    ),
    F(
        "lecture",
        r"\delta_3 = 2(z_3 - y) \circ z_3 \circ (1 + z_3)",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.z[3], 1 + n.z[3]),
    ),
    F(
        "lecture",
        r"\delta_3 = 2(z_3 - y) \circ \sigma_3(u_3)",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.z[3]),
    ),
    T(
        "residual",
        r"\delta_2 = (W_3^T \delta_3) \circ (1 - z_2 \circ z_2)",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], 1 - had(n.z[2], n.z[2])),
    ),
    T(
        "residual",
        r"\delta_1 = (W_2^T \delta_2 + \zeta_3) \circ (1 - z_1 \circ z_1)",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2] + n.zeta[3], 1 - had(n.z[1], n.z[1])),
    ),
    T(
        "binary_classifier",
        r"\delta_1 = (W_2^T \delta_2) \circ (\mathbf{1} - z_1 \circ z_1)",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], 1 - had(n.z[1], n.z[1])),
    ),
    T(
        "binary_classifier",
        r"\delta_1 = (W_2^T \delta_2) \circ (1 - z_1^2)",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], 1 - n.z[1] ** 2),
    ),
    F(
        "binary_classifier",
        r"\delta_1 = (W_2^T \delta_2) \circ z_1 \circ (1 - z_1)",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], n.z[1], 1 - n.z[1]),
    ),
    T(
        "deep_mlp",
        r"\delta_3 = (W_4^T \delta_4) \circ (1 - z_3 \circ z_3)",
        ("delta", 3),
        lambda n: had(n.W[4].T @ n.d[4], 1 - had(n.z[3], n.z[3])),
    ),
    F(
        "deep_mlp",
        r"\delta_1 = (W_2^T \delta_2) \circ (1 - z_2 \circ z_2)",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], 1 - had(n.z[2], n.z[2])),
    ),
    T(
        "custom_activation",
        r"\delta_3 = 2(z_3 - y) \circ (1 - e^{-z_3})",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), 1 - np.exp(-n.z[3])),
    ),
    F(
        "custom_activation",
        r"\delta_3 = 2(z_3 - y) \circ z_3 \circ (1 - z_3)",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.z[3], 1 - n.z[3]),
    ),
    # one entry i of each vector
    T(
        "lecture",
        r"\delta_{3,i} = 2(z_{3,i} - y_i) \sigma'(u_{3,i})",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.s[3]),
    ),
    T(
        "lecture",
        r"\delta_{3,i} = 2(z_{3,i} - y_i) z_{3,i} (1 - z_{3,i})",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.z[3], 1 - n.z[3]),
    ),
    F(
        "lecture",
        r"\delta_{3,i} = (z_{3,i} - y_i) z_{3,i} (1 - z_{3,i})",
        ("delta", 3),
        lambda n: had(n.z[3] - n.y, n.z[3], 1 - n.z[3]),
    ),
]
