"""Layer indices as superscripts (δ^{(l)}, W^{(l)}, δ^L, a^{(l)}), W^T_3 with the transpose first,
\\boldsymbol\\delta without braces."""

from . import F, T
from .oracle import had

CLAIMS = [
    T(
        "lecture",
        r"\delta^{(3)} = 2(z^{(3)} - y) \circ \sigma'(u^{(3)})",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.s[3]),
    ),
    T(
        "lecture",
        r"\delta^{(2)} = ((W^{(3)})^T \delta^{(3)}) \circ \sigma'(u^{(2)})",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.s[2]),
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W^{(2)}} = \delta^{(2)} (z^{(1)})^T",
        ("dW", 2),
        lambda n: n.d[2] @ n.z[1].T,
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W^{(1)}} = \delta^{(1)} {z^{(0)}}^T",
        ("dW", 1),
        lambda n: n.d[1] @ n.z[0].T,
    ),
    T(
        "lecture",
        r"\delta^L = 2(z^L - y) \circ \sigma'(u^L)",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.s[3]),
    ),
    F(
        "lecture",
        r"\delta^{(2)} = ((W^{(2)})^T \delta^{(3)}) \circ \sigma'(u^{(2)})",
        ("delta", 2),
        lambda n: had(n.W[2].T @ n.d[3], n.s[2]),
    ),
    F(
        "lecture",
        r"\delta^{(1)} = ((W^{(2)})^T \delta^{(2)}) \circ \sigma'(u^{(2)})",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], n.s[2]),
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial W^{(3)}} = \delta^{(3)} (z^{(3)})^T",
        ("dW", 3),
        lambda n: n.d[3] @ n.z[3].T,
    ),
    T(
        "lecture",
        r"\delta_2 = (W^T_3 \delta_3) \circ \sigma'_2",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.s[2]),
    ),
    T(
        "lecture",
        r"\boldsymbol\delta_2 = \left(\mathbf{W}^{\top}_{3} \boldsymbol\delta_3\right) \circ \boldsymbol\sigma'_2",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.s[2]),
    ),
    F(
        "lecture",
        r"\delta_2 = (W^T_2 \delta_3) \circ \sigma'_2",
        ("delta", 2),
        lambda n: had(n.W[2].T @ n.d[3], n.s[2]),
    ),
    T(
        "residual",
        r"\delta^{(3)} = \zeta^{(3)} \circ (1 - a^{(3)} \circ a^{(3)})",
        ("delta", 3),
        lambda n: had(n.zeta[3], 1 - had(n.a[3], n.a[3])),
    ),
    T(
        "residual",
        r"\frac{\partial f}{\partial W^{(4)}} = \delta^{(4)} (a^{(3)} + z^{(1)})^T",
        ("dW", 4),
        lambda n: n.d[4] @ (n.a[3] + n.z[1]).T,
    ),
    T(
        "deep_mlp",
        r"\delta^{(4)} = ((W^{(5)})^T \delta^{(5)}) \circ \sigma'(u^{(4)})",
        ("delta", 4),
        lambda n: had(n.W[5].T @ n.d[5], n.s[4]),
    ),
    F(
        "deep_mlp",
        r"\delta^{(4)} = (W^{(5)} \delta^{(5)}) \circ \sigma'(u^{(4)})",
        ("delta", 4),
        lambda n: had(n.W[5] @ n.d[5], n.s[4]),
    ),
    # Nielsen: \nabla_a C, the gradient of the cost by the output activations
    T(
        "lecture",
        r"\delta^3 = \nabla_a C \odot \sigma'(z^3)",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.s[3]),
    ),
    T(
        "lecture",
        r"\delta^L = \nabla_a C \odot \sigma'(z^L)",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.s[3]),
    ),
    F(
        "lecture",
        r"\delta^3 = \nabla_a C",
        ("delta", 3),
        lambda n: 2 * (n.z[3] - n.y),
    ),
    T(
        "lecture",
        r"\delta^2 = ((w^{3})^T \delta^{3}) \odot \sigma'(z^2)",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.s[2]),
    ),
]
