"""Softmax output with cross-entropy (examples/softmax_classifier.toml, targets summing to one):
δ_J = z_J − y, the Jacobian route, and the slips of forgetting the cancellation."""

import numpy as np

from . import F, T
from .oracle import had

CLAIMS = [
    T("softmax_classifier", r"\delta_2 = z_2 - y", ("delta", 2), lambda n: n.z[2] - n.y),
    T("softmax_classifier", r"\delta_J = z_J - y", ("delta", 2), lambda n: n.z[2] - n.y),
    T("softmax_classifier", r"\delta_2 = \hat{y} - y", ("delta", 2), lambda n: n.z[2] - n.y),
    F("softmax_classifier", r"\delta_2 = y - z_2", ("delta", 2), lambda n: n.y - n.z[2]),
    F("softmax_classifier", r"\delta_2 = 2(z_2 - y)", ("delta", 2), lambda n: 2 * (n.z[2] - n.y)),
    F(
        "softmax_classifier",
        r"\delta_2 = (z_2 - y) \circ z_2 \circ (1 - z_2)",
        ("delta", 2),
        lambda n: had(n.z[2] - n.y, n.z[2], 1 - n.z[2]),
    ),
    T(
        "softmax_classifier",
        r"\frac{\partial f}{\partial W_2} = (z_2 - y) z_1^T",
        ("dW", 2),
        lambda n: (n.z[2] - n.y) @ n.z[1].T,
    ),
    F(
        "softmax_classifier",
        r"\frac{\partial f}{\partial W_2} = z_1 (z_2 - y)^T",
        ("dW", 2),
        lambda n: n.z[1] @ (n.z[2] - n.y).T,
    ),
    T(
        "softmax_classifier",
        r"\frac{\partial f}{\partial b_2} = z_2 - y",
        ("db", 2),
        lambda n: n.z[2] - n.y,
    ),
    T(
        "softmax_classifier",
        r"\delta_1 = (W_2^T (z_2 - y)) \circ \sigma'_1",
        ("delta", 1),
        lambda n: had(n.W[2].T @ (n.z[2] - n.y), n.s[1]),
    ),
    F(
        "softmax_classifier",
        r"\delta_1 = (W_2 (z_2 - y)) \circ \sigma'_1",
        ("delta", 1),
        lambda n: had(n.W[2] @ (n.z[2] - n.y), n.s[1]),
    ),
    T(
        "softmax_classifier",
        r"\frac{\partial f}{\partial z_2} = -\frac{y}{z_2}",
        ("dz", 2),
        lambda n: -n.y / n.z[2],
    ),
    T(
        "softmax_classifier",
        r"\delta_2 = \mathrm{softmax}(W_2 z_1 + b_2) - y",
        ("delta", 2),
        lambda n: np.exp(n.u[2]) / np.sum(np.exp(n.u[2])) - n.y,
    ),
    T(
        "softmax_classifier",
        r"\frac{\partial f}{\partial W_1} = \left[(W_2^T \delta_2) \circ \sigma'_1\right] z_0^T",
        ("dW", 1),
        lambda n: had(n.W[2].T @ n.d[2], n.s[1]) @ n.z[0].T,
    ),
    F(
        "softmax_classifier",
        r"\frac{\partial f}{\partial W_1} = (W_2^T \delta_2) z_0^T",
        ("dW", 1),
        lambda n: (n.W[2].T @ n.d[2]) @ n.z[0].T,
    ),
]
