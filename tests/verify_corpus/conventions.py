"""Claims written under another source's convention than the spec's: ½‖y − ŷ‖² instead of
‖y − ŷ‖², a sum over samples where the spec takes the mean (or the reverse), samples as rows
(W of shape d_{j−1} × d_j, a δᵀ, Xᵀ Δ).  False for the spec as written unless the factor is restored."""

from . import F, T
from .oracle import had


def _sum(n, term):
    return sum(term(i) for i in range(n.N))


CLAIMS = [
    F(
        "lecture",
        r"\delta_3 = (\mathbf{z}_3 - \mathbf{y}) \odot \sigma'(\mathbf{u}_3)",
        ("delta", 3),
        lambda n: had(n.z[3] - n.y, n.s[3]),
    ),
    F(
        "lecture",
        r"\delta_3 = (z_3 - y) \circ z_3 \circ (1 - z_3)",
        ("delta", 3),
        lambda n: had(n.z[3] - n.y, n.z[3], 1 - n.z[3]),
    ),
    T(
        "lecture",
        r"\delta_3 = 2 \left[(z_3 - y) \circ \sigma'_3\right]",
        ("delta", 3),
        lambda n: 2 * had(n.z[3] - n.y, n.s[3]),
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_3} = 2 \left[(z_3 - y) \circ \sigma'_3\right] z_2^T",
        ("dW", 3),
        lambda n: 2 * had(n.z[3] - n.y, n.s[3]) @ n.z[2].T,
    ),
    F(
        "deep_mlp",
        r"\frac{\partial f}{\partial W_5} = (z_5 - y) z_4^T",
        ("dW", 5),
        lambda n: (n.z[5] - n.y) @ n.z[4].T,
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial W_1} = \sum_{i=1}^N \delta_1^{(i)} {z_0^{(i)}}^T",
        ("dW", 1),
        lambda n: _sum(n, lambda i: n.col(n.D[1], i) @ n.col(n.Z[0], i).T),
        batch=True,
    ),
    F(
        "deep_linear",
        r"\frac{\partial f}{\partial W_4} = \frac{2}{N} (Z_4 - Y) Z_3^T",
        ("dW", 4),
        lambda n: 2 * (n.Z[4] - n.Y) @ n.Z[3].T / n.N,
        batch=True,
    ),
    T(
        "deep_linear",
        r"\Delta_4 = 2(Z_4 - Y)",
        ("delta", 4),
        lambda n: 2 * (n.Z[4] - n.Y),
        batch=True,
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial W_1} = \frac{1}{N} Z_0^T \Delta_1",
        ("dW", 1),
        lambda n: n.Z[0].T @ n.D[1] / n.N,
        batch=True,
    ),
    F(
        "custom_activation",
        r"\frac{\partial f}{\partial W_2} = Z_1 \Delta_2^T",
        ("dW", 2),
        lambda n: n.Z[1] @ n.D[2].T,
        batch=True,
    ),
    F(
        "lecture",
        r"\delta_2 = (\delta_3^T W_3^T)^T \circ \sigma'_2",
        ("delta", 2),
        lambda n: had((n.d[3].T @ n.W[3].T).T, n.s[2]),
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial W_2} = z_1 \delta_2^T",
        ("dW", 2),
        lambda n: n.z[1] @ n.d[2].T,
    ),
    F(
        "binary_classifier",
        r"\frac{\partial f}{\partial W_2} = \left[(z_2 - y) \circ z_2 \circ (1 - z_2)\right] z_1^T",
        ("dW", 2),
        lambda n: had(n.z[2] - n.y, n.z[2], 1 - n.z[2]) @ n.z[1].T,
    ),
]
