"""The standard notation on the other example specs: a deep tanh/relu MLP with a linear output,
custom activations (softsign, leaky ReLU, softplus) with a summed loss, a deep linear network."""

from . import F, T
from .oracle import had

CLAIMS = [
    T("deep_mlp", r"\delta_5 = 2(z_5 - y)", ("delta", 5), lambda n: 2 * (n.z[5] - n.y)),
    F(
        "deep_mlp",
        r"\delta_5 = 2(z_5 - y) \circ z_5 \circ (1 - z_5)",
        ("delta", 5),
        lambda n: had(2 * (n.z[5] - n.y), n.z[5], 1 - n.z[5]),
    ),
    T(
        "deep_mlp",
        r"\delta_4 = (W_5^T \delta_5) \circ \sigma'_4",
        ("delta", 4),
        lambda n: had(n.W[5].T @ n.d[5], n.s[4]),
    ),
    F(
        "deep_mlp",
        r"\delta_3 = (W_4^T \delta_4) \circ \sigma'_4",
        ("delta", 3),
        lambda n: had(n.W[4].T @ n.d[4], n.s[4]),
    ),
    F(
        "deep_mlp",
        r"\delta_2 = (W_3^T \delta_3) \circ \sigma'_3",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.s[3]),
    ),
    T(
        "deep_mlp",
        r"\frac{\partial f}{\partial W_5} = 2(z_5 - y) z_4^T",
        ("dW", 5),
        lambda n: 2 * (n.z[5] - n.y) @ n.z[4].T,
    ),
    T(
        "deep_mlp",
        r"\frac{\partial f}{\partial b_2} = (W_3^T \delta_3) \circ \sigma'_2",
        ("db", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.s[2]),
    ),
    T(
        "custom_activation",
        r"\delta_3 = 2(z_3 - y) \circ \sigma'_3",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.s[3]),
    ),
    F(
        "custom_activation",
        r"\delta_3 = (z_3 - y) \circ \sigma'_3",
        ("delta", 3),
        lambda n: had(n.z[3] - n.y, n.s[3]),
    ),
    T(
        "custom_activation",
        r"\delta_2 = (W_3^T \delta_3) \circ \sigma'_2",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.s[2]),
    ),
    T(
        "custom_activation",
        r"\frac{\partial f}{\partial W_2} = \delta_2 z_1^T",
        ("dW", 2),
        lambda n: n.d[2] @ n.z[1].T,
    ),
    F(
        "custom_activation",
        r"\frac{\partial f}{\partial b_1} = W_2^T \delta_2",
        ("db", 1),
        lambda n: n.W[2].T @ n.d[2],
    ),
    T("deep_linear", r"\delta_4 = 2(z_4 - y)", ("delta", 4), lambda n: 2 * (n.z[4] - n.y)),
    T(
        "deep_linear",
        r"\delta_1 = W_2^T W_3^T W_4^T \delta_4",
        ("delta", 1),
        lambda n: n.W[2].T @ n.W[3].T @ n.W[4].T @ n.d[4],
    ),
    F(
        "deep_linear",
        r"\delta_1 = W_4^T W_3^T W_2^T \delta_4",
        ("delta", 1),
        lambda n: n.W[4].T @ n.W[3].T @ n.W[2].T @ n.d[4],
    ),
    T(
        "deep_linear",
        r"\frac{\partial f}{\partial W_1} = 2 W_2^T W_3^T W_4^T (W_4 W_3 W_2 W_1 z_0 - y) z_0^T",
        ("dW", 1),
        lambda n: (
            2
            * n.W[2].T
            @ n.W[3].T
            @ n.W[4].T
            @ (n.W[4] @ n.W[3] @ n.W[2] @ n.W[1] @ n.z[0] - n.y)
            @ n.z[0].T
        ),
    ),
    F(
        "deep_linear",
        r"\frac{\partial f}{\partial W_1} = W_2^T W_3^T W_4^T (z_4 - y) z_0^T",
        ("dW", 1),
        lambda n: n.W[2].T @ n.W[3].T @ n.W[4].T @ (n.z[4] - n.y) @ n.z[0].T,
    ),
]
