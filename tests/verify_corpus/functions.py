"""Functions as written: \\hat y, \\sigma(u), \\tanh, \\tanh^2, e^{-u}, entry-wise fractions,
f'(u) and \\phi' for the activation's derivative, \\mathrm{softmax}, |u|."""

import numpy as np

from . import F, T
from .oracle import had


def _dsigmoid(t):
    s = 1 / (1 + np.exp(-t))
    return s * (1 - s)


CLAIMS = [
    T(
        "lecture",
        r"\delta_3 = 2(\hat{y} - y) \circ \sigma'_3",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.s[3]),
    ),
    T(
        "lecture",
        r"\delta_3 = 2(\hat y - y) \circ \hat y \circ (1 - \hat y)",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.z[3], 1 - n.z[3]),
    ),
    F(
        "lecture",
        r"\delta_3 = 2(y - \hat{y}) \circ \sigma'_3",
        ("delta", 3),
        lambda n: had(2 * (n.y - n.z[3]), n.s[3]),
    ),
    T(
        "lecture",
        r"\delta_3 = 2(z_3 - y) \circ \frac{e^{-u_3}}{(1 + e^{-u_3})^2}",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), np.exp(-n.u[3]) / (1 + np.exp(-n.u[3])) ** 2),
    ),
    F(
        "lecture",
        r"\delta_3 = 2(z_3 - y) \circ \frac{e^{u_3}}{1 + e^{-u_3}}",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), np.exp(n.u[3]) / (1 + np.exp(-n.u[3]))),
    ),
    T(
        "lecture",
        r"\delta_1 = (W_2^T \delta_2) \circ \sigma(u_1) \circ (1 - \sigma(u_1))",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], n.z[1], 1 - n.z[1]),
    ),
    T(
        "lecture",
        r"\delta_2 = (W_3^T \delta_3) \circ f'(u_2)",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.s[2]),
    ),
    T(
        "lecture",
        r"\delta_2 = (W_3^T \delta_3) \circ \phi'(u_2)",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.s[2]),
    ),
    T(
        "lecture",
        r"\delta_2 = (W_3^T \delta_3) \circ \sigma'(u_2)",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.s[2]),
    ),
    F(
        "lecture",
        r"\delta_2 = (W_3^T \delta_3) \circ \sigma'(z_2)",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], _dsigmoid(n.z[2])),
    ),
    T(
        "binary_classifier",
        r"\delta_1 = (W_2^T \delta_2) \circ (1 - \tanh^2(u_1))",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], 1 - np.tanh(n.u[1]) ** 2),
    ),
    T(
        "binary_classifier",
        r"\delta_1 = (W_2^T \delta_2) \circ (1 - \tanh(u_1) \circ \tanh(u_1))",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], 1 - had(np.tanh(n.u[1]), np.tanh(n.u[1]))),
    ),
    F(
        "binary_classifier",
        r"\delta_1 = (W_2^T \delta_2) \circ (1 - \tanh(u_1))",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], 1 - np.tanh(n.u[1])),
    ),
    T(
        "binary_classifier",
        r"\delta_2 = \sigma(u_2) - y",
        ("delta", 2),
        lambda n: 1 / (1 + np.exp(-n.u[2])) - n.y,
    ),
    T(
        "deep_mlp",
        r"\delta_3 = (W_4^T \delta_4) \circ (1 - \tanh^2 u_3)",
        ("delta", 3),
        lambda n: had(n.W[4].T @ n.d[4], 1 - np.tanh(n.u[3]) ** 2),
    ),
    T(
        "softmax_classifier",
        r"\delta_2 = \mathrm{softmax}(u_2) - y",
        ("delta", 2),
        lambda n: np.exp(n.u[2]) / np.sum(np.exp(n.u[2])) - n.y,
    ),
    F(
        "softmax_classifier",
        r"\delta_2 = y - \mathrm{softmax}(u_2)",
        ("delta", 2),
        lambda n: n.y - np.exp(n.u[2]) / np.sum(np.exp(n.u[2])),
    ),
    T(
        "custom_activation",
        r"\delta_3 = 2(z_3 - y) \circ \frac{1}{1 + e^{-u_3}}",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), 1 / (1 + np.exp(-n.u[3]))),
    ),
    F(
        "custom_activation",
        r"\delta_3 = 2(z_3 - y) \circ \frac{1}{1 + e^{u_3}}",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), 1 / (1 + np.exp(n.u[3]))),
    ),
    T(
        "custom_activation",
        r"\delta_1 = (W_2^T \delta_2) \circ \frac{1}{(1 + |u_1|)^2}",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], 1 / (1 + np.abs(n.u[1])) ** 2),
    ),
    # the indicator as relu's derivative
    T(
        "deep_mlp",
        r"\delta_4 = (W_5^T \delta_5) \circ \mathbb{1}[u_4 > 0]",
        ("delta", 4),
        lambda n: had(n.W[5].T @ n.d[5], (n.u[4] > 0) * 1.0),
    ),
    T(
        "deep_mlp",
        r"\delta_2 = (W_3^T \delta_3) \odot \mathbb{1}\{u_2 > 0\}",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], (n.u[2] > 0) * 1.0),
    ),
    T(
        "deep_mlp",
        r"\delta_4 = (W_5^T \delta_5) \circ 1_{u_4>0}",
        ("delta", 4),
        lambda n: had(n.W[5].T @ n.d[5], (n.u[4] > 0) * 1.0),
    ),
    F(
        "deep_mlp",
        r"\delta_4 = (W_5^T \delta_5) \circ \mathbb{1}[u_4 < 0]",
        ("delta", 4),
        lambda n: had(n.W[5].T @ n.d[5], (n.u[4] < 0) * 1.0),
    ),
    F(
        "custom_activation",
        r"\delta_1 = (W_2^T \delta_2) \circ \frac{1}{1 + |u_1|}",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], 1 / (1 + np.abs(n.u[1]))),
    ),
]
