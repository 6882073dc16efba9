"""Transposes on bracketed factors, \\left( \\right), ^\\top and ^{\\mathsf T}, and the row forms
that transpose a whole product."""

from . import F, T
from .oracle import had

CLAIMS = [
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_3} = \delta_3 (z_2)^T",
        ("dW", 3),
        lambda n: n.d[3] @ n.z[2].T,
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_1} = \delta_1 \left(z_0\right)^\top",
        ("dW", 1),
        lambda n: n.d[1] @ n.z[0].T,
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_2} = \delta_2 (\mathbf{z}_1)^{\mathsf T}",
        ("dW", 2),
        lambda n: n.d[2] @ n.z[1].T,
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_3} = (2(z_3 - y) \circ \sigma'_3) (z_2)^T",
        ("dW", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.s[3]) @ n.z[2].T,
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_3} = \left[2(z_3 - y) \circ \sigma'_3\right] z_2^T",
        ("dW", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.s[3]) @ n.z[2].T,
    ),
    T(
        "lecture",
        r"\delta_2 = ((W_3)^T \delta_3) \circ \sigma'_2",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.s[2]),
    ),
    T(
        "lecture",
        r"\delta_1 = \left(W_2^\top \delta_2\right) \circ \sigma'_1",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], n.s[1]),
    ),
    T(
        "lecture",
        r"\delta_1 = (\delta_2^T W_2)^T \circ \sigma'_1",
        ("delta", 1),
        lambda n: had((n.d[2].T @ n.W[2]).T, n.s[1]),
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial W_3} = (z_2)^T \delta_3",
        ("dW", 3),
        lambda n: n.z[2].T @ n.d[3],
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial W_3} = \delta_3^T (z_2)",
        ("dW", 3),
        lambda n: n.d[3].T @ n.z[2],
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial W_2} = \delta_2 (z_2)^T",
        ("dW", 2),
        lambda n: n.d[2] @ n.z[2].T,
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial W_2} = z_1 (\delta_2)^T",
        ("dW", 2),
        lambda n: n.z[1] @ n.d[2].T,
    ),
    F(
        "lecture",
        r"\delta_1 = (W_2 \delta_2) \circ \sigma'_1",
        ("delta", 1),
        lambda n: had(n.W[2] @ n.d[2], n.s[1]),
    ),
    T(
        "deep_linear",
        r"\frac{\partial f}{\partial W_2} = (W_4 W_3)^T \delta_4 (W_1 z_0)^T",
        ("dW", 2),
        lambda n: (n.W[4] @ n.W[3]).T @ n.d[4] @ (n.W[1] @ n.z[0]).T,
    ),
    T(
        "deep_linear",
        r"\frac{\partial f}{\partial W_3} = W_4^T \delta_4 (W_2 W_1 z_0)^T",
        ("dW", 3),
        lambda n: n.W[4].T @ n.d[4] @ (n.W[2] @ n.W[1] @ n.z[0]).T,
    ),
    F(
        "deep_linear",
        r"\frac{\partial f}{\partial W_3} = W_4^T \delta_4 (W_1 z_0)^T",
        ("dW", 3),
        lambda n: n.W[4].T @ n.d[4] @ (n.W[1] @ n.z[0]).T,
    ),
]
