"""A sigmoid output with binary cross-entropy (examples/binary_classifier.toml): ℓ′ and σ′ cancel to
δ_J = z_J − y; the uncancelled route with entry-wise fractions; the slips."""

from . import F, T
from .oracle import had

CLAIMS = [
    T("binary_classifier", r"\delta_2 = z_2 - y", ("delta", 2), lambda n: n.z[2] - n.y),
    T("binary_classifier", r"\delta_2 = \hat y - y", ("delta", 2), lambda n: n.z[2] - n.y),
    F(
        "binary_classifier",
        r"\delta_2 = (z_2 - y) \circ z_2 \circ (1 - z_2)",
        ("delta", 2),
        lambda n: had(n.z[2] - n.y, n.z[2], 1 - n.z[2]),
    ),
    F("binary_classifier", r"\delta_2 = 2(z_2 - y)", ("delta", 2), lambda n: 2 * (n.z[2] - n.y)),
    F("binary_classifier", r"\delta_2 = y - z_2", ("delta", 2), lambda n: n.y - n.z[2]),
    T(
        "binary_classifier",
        r"\delta_2 = \left(\frac{1 - y}{1 - z_2} - \frac{y}{z_2}\right) \circ z_2 \circ (1 - z_2)",
        ("delta", 2),
        lambda n: had((1 - n.y) / (1 - n.z[2]) - n.y / n.z[2], n.z[2], 1 - n.z[2]),
    ),
    T(
        "binary_classifier",
        r"\frac{\partial f}{\partial z_2} = \frac{z_2 - y}{z_2 \circ (1 - z_2)}",
        ("dz", 2),
        lambda n: (n.z[2] - n.y) / had(n.z[2], 1 - n.z[2]),
    ),
    F(
        "binary_classifier",
        r"\frac{\partial f}{\partial z_2} = z_2 - y",
        ("dz", 2),
        lambda n: n.z[2] - n.y,
    ),
    T(
        "binary_classifier",
        r"\frac{\partial f}{\partial W_2} = (z_2 - y) z_1^T",
        ("dW", 2),
        lambda n: (n.z[2] - n.y) @ n.z[1].T,
    ),
    F(
        "binary_classifier",
        r"\frac{\partial f}{\partial W_2} = (y - z_2) z_1^T",
        ("dW", 2),
        lambda n: (n.y - n.z[2]) @ n.z[1].T,
    ),
    T(
        "binary_classifier",
        r"\frac{\partial f}{\partial b_2} = z_2 - y",
        ("db", 2),
        lambda n: n.z[2] - n.y,
    ),
    T(
        "binary_classifier",
        r"\delta_1 = (W_2^T (z_2 - y)) \circ (1 - z_1 \circ z_1)",
        ("delta", 1),
        lambda n: had(n.W[2].T @ (n.z[2] - n.y), 1 - had(n.z[1], n.z[1])),
    ),
    F(
        "binary_classifier",
        r"\delta_1 = (W_2^T (z_2 - y)) \circ z_1 \circ (1 - z_1)",
        ("delta", 1),
        lambda n: had(n.W[2].T @ (n.z[2] - n.y), n.z[1], 1 - n.z[1]),
    ),
    T(
        "binary_classifier",
        r"\frac{\partial f}{\partial W_1} = \delta_1 z_0^T",
        ("dW", 1),
        lambda n: n.d[1] @ n.z[0].T,
    ),
    F(
        "binary_classifier",
        r"\frac{\partial f}{\partial W_1} = \delta_1 z_1^T",
        ("dW", 1),
        lambda n: n.d[1] @ n.z[1].T,
    ),
]
