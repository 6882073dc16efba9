"""σ′ as a diagonal matrix, diag(σ′_j), in products (several diag's in one product), \\text{diag},
the softmax Jacobian diag(z) − z zᵀ, and δ in row form."""

from . import F, T
from .oracle import diag, had

CLAIMS = [
    T(
        "lecture",
        r"\delta_2 = \mathrm{diag}(\sigma'_2) W_3^T \mathrm{diag}(\sigma'_3) 2(z_3 - y)",
        ("delta", 2),
        lambda n: diag(n.s[2]) @ n.W[3].T @ diag(n.s[3]) @ (2 * (n.z[3] - n.y)),
    ),
    T(
        "lecture",
        r"\delta_3 = \mathrm{diag}(\sigma'_3) \, 2(z_3 - y)",
        ("delta", 3),
        lambda n: diag(n.s[3]) @ (2 * (n.z[3] - n.y)),
    ),
    T(
        "lecture",
        r"\delta_2 = \mathrm{diag}(\sigma'_2) W_3^T \delta_3",
        ("delta", 2),
        lambda n: diag(n.s[2]) @ n.W[3].T @ n.d[3],
    ),
    T(
        "lecture",
        r"\delta_1 = \mathrm{diag}(z_1 \circ (1 - z_1)) W_2^T \delta_2",
        ("delta", 1),
        lambda n: diag(had(n.z[1], 1 - n.z[1])) @ n.W[2].T @ n.d[2],
    ),
    T(
        "lecture",
        r"\delta_1 = \text{diag}(\sigma'_1) W_2^T \text{diag}(\sigma'_2) W_3^T \text{diag}(\sigma'_3) 2(z_3 - y)",
        ("delta", 1),
        lambda n: (
            diag(n.s[1]) @ n.W[2].T @ diag(n.s[2]) @ n.W[3].T @ diag(n.s[3]) @ (2 * (n.z[3] - n.y))
        ),
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial z_2} = W_3^T \mathrm{diag}(\sigma'_3) \frac{\partial f}{\partial z_3}",
        ("dz", 2),
        lambda n: n.W[3].T @ diag(n.s[3]) @ n.zeta[3],
    ),
    F(
        "lecture",
        r"\delta_2 = W_3^T \mathrm{diag}(\sigma'_2) \delta_3",
        ("delta", 2),
        lambda n: n.W[3].T @ diag(n.s[2]) @ n.d[3],
    ),
    F(
        "lecture",
        r"\delta_1 = \mathrm{diag}(\sigma'_2) W_2^T \delta_2",
        ("delta", 1),
        lambda n: diag(n.s[2]) @ n.W[2].T @ n.d[2],
    ),
    F(
        "lecture",
        r"\delta_1 = \mathrm{diag}(\sigma'_1) W_2 \delta_2",
        ("delta", 1),
        lambda n: diag(n.s[1]) @ n.W[2] @ n.d[2],
    ),
    T(
        "lecture",
        r"\delta_2^T = \delta_3^T W_3 \mathrm{diag}(\sigma'_2)",
        ("delta", 2),
        lambda n: (n.d[3].T @ n.W[3] @ diag(n.s[2])).T,
    ),
    T(
        "softmax_classifier",
        r"\delta_2 = (\mathrm{diag}(z_2) - z_2 z_2^T) \frac{\partial f}{\partial z_2}",
        ("delta", 2),
        lambda n: (diag(n.z[2]) - n.z[2] @ n.z[2].T) @ n.zeta[2],
    ),
    F(
        "softmax_classifier",
        r"\delta_2 = (z_2 z_2^T - \mathrm{diag}(z_2)) \frac{\partial f}{\partial z_2}",
        ("delta", 2),
        lambda n: (n.z[2] @ n.z[2].T - diag(n.z[2])) @ n.zeta[2],
    ),
    F(
        "softmax_classifier",
        r"\delta_2 = \mathrm{diag}(z_2) \frac{\partial f}{\partial z_2}",
        ("delta", 2),
        lambda n: diag(n.z[2]) @ n.zeta[2],
    ),
    T(
        "deep_linear",
        r"\delta_1 = W_2^T W_3^T W_4^T \mathrm{diag}(\sigma'_4) 2(z_4 - y)",
        ("delta", 1),
        lambda n: n.W[2].T @ n.W[3].T @ n.W[4].T @ diag(n.s[4]) @ (2 * (n.z[4] - n.y)),
    ),
    T(
        "binary_classifier",
        r"\delta_1 = \mathrm{diag}(1 - z_1 \circ z_1) W_2^T (z_2 - y)",
        ("delta", 1),
        lambda n: diag(1 - had(n.z[1], n.z[1])) @ n.W[2].T @ (n.z[2] - n.y),
    ),
]
