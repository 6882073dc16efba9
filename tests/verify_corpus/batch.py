"""Batch forms: Δ_j, Z_j, Σ′_j, sums over samples with superscript (i), the mean's 1/N or the sum's
absence, ∂f/∂b as Δ 𝟏."""

from . import F, T
from .oracle import had, ones


def _sum(n, term):
    return sum(term(i) for i in range(n.N))


CLAIMS = [
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_1} = \frac{1}{N} \Delta_1 Z_0^T",
        ("dW", 1),
        lambda n: n.D[1] @ n.Z[0].T / n.N,
        batch=True,
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_3} = \frac{1}{N}\sum_{i=1}^N \delta_3^{(i)} (z_2^{(i)})^T",
        ("dW", 3),
        lambda n: _sum(n, lambda i: n.col(n.D[3], i) @ n.col(n.Z[2], i).T) / n.N,
        batch=True,
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_1} = \frac{1}{N}\sum_{i=1}^N \delta_1^{(i)} \left(z_0^{(i)}\right)^\top",
        ("dW", 1),
        lambda n: _sum(n, lambda i: n.col(n.D[1], i) @ n.col(n.Z[0], i).T) / n.N,
        batch=True,
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial W_2} = \frac{1}{N}\sum_{i=1}^N \delta_2^{(i)} {z_2^{(i)}}^T",
        ("dW", 2),
        lambda n: _sum(n, lambda i: n.col(n.D[2], i) @ n.col(n.Z[2], i).T) / n.N,
        batch=True,
    ),
    T(
        "lecture",
        r"\Delta_3 = 2(Z_3 - Y) \circ \Sigma'_3",
        ("delta", 3),
        lambda n: had(2 * (n.Z[3] - n.Y), n.S[3]),
        batch=True,
    ),
    T(
        "lecture",
        r"\Delta_2 = (W_3^T \Delta_3) \circ \Sigma'_2",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.D[3], n.S[2]),
        batch=True,
    ),
    T(
        "lecture",
        r"\Delta_2 = (W_3^T \Delta_3) \circ Z_2 \circ (1 - Z_2)",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.D[3], n.Z[2], 1 - n.Z[2]),
        batch=True,
    ),
    T(
        "lecture",
        r"\Delta_1 = (W_2^T \Delta_2) \circ \Sigma'_1",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.D[2], n.S[1]),
        batch=True,
    ),
    F(
        "lecture",
        r"\Delta_1 = (W_2 \Delta_2) \circ \Sigma'_1",
        ("delta", 1),
        lambda n: had(n.W[2] @ n.D[2], n.S[1]),
        batch=True,
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial W_1} = \Delta_1 Z_0^T",
        ("dW", 1),
        lambda n: n.D[1] @ n.Z[0].T,
        batch=True,
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial W_2} = \frac{1}{N} Z_1 \Delta_2^T",
        ("dW", 2),
        lambda n: n.Z[1] @ n.D[2].T / n.N,
        batch=True,
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_3} = \frac{1}{N}\left[2(Z_3 - Y) \circ Z_3 \circ (1 - Z_3)\right] Z_2^T",
        ("dW", 3),
        lambda n: had(2 * (n.Z[3] - n.Y), n.Z[3], 1 - n.Z[3]) @ n.Z[2].T / n.N,
        batch=True,
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_3} = \frac{2}{N}\sum_{i=1}^N \left[(z_3^{(i)} - y^{(i)}) \circ \sigma'(u_3^{(i)})\right] {z_2^{(i)}}^T",
        ("dW", 3),
        lambda n: (
            2
            * _sum(
                n,
                lambda i: (
                    had(n.col(n.Z[3], i) - n.col(n.Y, i), n.col(n.S[3], i)) @ n.col(n.Z[2], i).T
                ),
            )
            / n.N
        ),
        batch=True,
    ),
    T(
        "custom_activation",
        r"\frac{\partial f}{\partial W_1} = \Delta_1 Z_0^T",
        ("dW", 1),
        lambda n: n.D[1] @ n.Z[0].T,
        batch=True,
    ),
    F(
        "custom_activation",
        r"\frac{\partial f}{\partial W_1} = \frac{1}{N} \Delta_1 Z_0^T",
        ("dW", 1),
        lambda n: n.D[1] @ n.Z[0].T / n.N,
        batch=True,
    ),
    T(
        "custom_activation",
        r"\frac{\partial f}{\partial b_3} = \sum_{i=1}^N \delta_3^{(i)}",
        ("db", 3),
        lambda n: _sum(n, lambda i: n.col(n.D[3], i)),
        batch=True,
    ),
    T(
        "binary_classifier",
        r"\frac{\partial f}{\partial b_2} = \frac{1}{N} \Delta_2 \mathbf{1}",
        ("db", 2),
        lambda n: n.D[2] @ ones(n.N) / n.N,
        batch=True,
    ),
    T(
        "binary_classifier",
        r"\frac{\partial f}{\partial b_1} = \frac{1}{N}\sum_{i=1}^N \delta_1^{(i)}",
        ("db", 1),
        lambda n: _sum(n, lambda i: n.col(n.D[1], i)) / n.N,
        batch=True,
    ),
    T(
        "binary_classifier",
        r"\frac{\partial f}{\partial W_2} = \frac{1}{N} (Z_2 - Y) Z_1^T",
        ("dW", 2),
        lambda n: (n.Z[2] - n.Y) @ n.Z[1].T / n.N,
        batch=True,
    ),
    F(
        "binary_classifier",
        r"\frac{\partial f}{\partial W_2} = \frac{1}{N} [(Z_2 - Y) \circ Z_2 \circ (1 - Z_2)] Z_1^T",
        ("dW", 2),
        lambda n: had(n.Z[2] - n.Y, n.Z[2], 1 - n.Z[2]) @ n.Z[1].T / n.N,
        batch=True,
    ),
    T(
        "softmax_classifier",
        r"\Delta_2 = Z_2 - Y",
        ("delta", 2),
        lambda n: n.Z[2] - n.Y,
        batch=True,
    ),
    T(
        "softmax_classifier",
        r"\frac{\partial f}{\partial W_2} = \frac{1}{N}(Z_2 - Y) Z_1^T",
        ("dW", 2),
        lambda n: (n.Z[2] - n.Y) @ n.Z[1].T / n.N,
        batch=True,
    ),
    F(
        "softmax_classifier",
        r"\frac{\partial f}{\partial W_2} = \frac{1}{N}(Y - Z_2) Z_1^T",
        ("dW", 2),
        lambda n: (n.Y - n.Z[2]) @ n.Z[1].T / n.N,
        batch=True,
    ),
    T(
        "deep_linear",
        r"\frac{\partial f}{\partial W_4} = 2(Z_4 - Y) Z_3^T",
        ("dW", 4),
        lambda n: 2 * (n.Z[4] - n.Y) @ n.Z[3].T,
        batch=True,
    ),
    T(
        "deep_mlp",
        r"\frac{\partial f}{\partial b_5} = \frac{2}{N} (Z_5 - Y) \mathbf{1}",
        ("db", 5),
        lambda n: 2 * (n.Z[5] - n.Y) @ ones(n.N) / n.N,
        batch=True,
    ),
    F(
        "deep_mlp",
        r"\frac{\partial f}{\partial b_5} = \frac{2}{N} (Z_5 - Y)",
        ("db", 5),
        lambda n: 2 * (n.Z[5] - n.Y) / n.N,
        batch=True,
    ),
    # Ng: m samples
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_3} = \frac{1}{m}\sum_{i=1}^m \delta_3^{(i)} (z_2^{(i)})^T",
        ("dW", 3),
        lambda n: _sum(n, lambda i: n.col(n.D[3], i) @ n.col(n.Z[2], i).T) / n.N,
        batch=True,
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_2} = \frac{1}{m} \Delta_2 Z_1^T",
        ("dW", 2),
        lambda n: n.D[2] @ n.Z[1].T / n.N,
        batch=True,
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial W_3} = \sum_{i=1}^m \delta_3^{(i)} (z_2^{(i)})^T",
        ("dW", 3),
        lambda n: _sum(n, lambda i: n.col(n.D[3], i) @ n.col(n.Z[2], i).T),
        batch=True,
    ),
]
