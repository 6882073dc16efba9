"""Ways to write the gradient and the cost: ∇_{W_j} f, ∂f/∂W_j with a slash, a cost named L, C, E
or J, x for z_0, a trailing full stop."""

from . import F, T

CLAIMS = [
    T("lecture", r"\nabla_{W_1} f = \delta_1 z_0^T", ("dW", 1), lambda n: n.d[1] @ n.z[0].T),
    T("lecture", r"\nabla_{W_3} f = \delta_3 z_2^T", ("dW", 3), lambda n: n.d[3] @ n.z[2].T),
    F("lecture", r"\nabla_{W_3} f = z_2 \delta_3^T", ("dW", 3), lambda n: n.z[2] @ n.d[3].T),
    T(
        "lecture",
        r"\partial f / \partial W_1 = \delta_1 z_0^T",
        ("dW", 1),
        lambda n: n.d[1] @ n.z[0].T,
    ),
    T(
        "lecture",
        r"\frac{\partial L}{\partial W_3} = \delta_3 z_2^T",
        ("dW", 3),
        lambda n: n.d[3] @ n.z[2].T,
    ),
    T(
        "lecture",
        r"\frac{\partial C}{\partial W_2} = \delta_2 z_1^T",
        ("dW", 2),
        lambda n: n.d[2] @ n.z[1].T,
    ),
    T(
        "lecture",
        r"\frac{\partial E}{\partial W_1} = \delta_1 z_0^T",
        ("dW", 1),
        lambda n: n.d[1] @ n.z[0].T,
    ),
    T(
        "lecture",
        r"\frac{\partial J}{\partial W_2} = \delta_2 z_1^T",
        ("dW", 2),
        lambda n: n.d[2] @ n.z[1].T,
    ),
    F(
        "lecture",
        r"\frac{\partial L}{\partial W_2} = \delta_2 z_2^T",
        ("dW", 2),
        lambda n: n.d[2] @ n.z[2].T,
    ),
    T("lecture", r"\delta_1 = \frac{\partial L}{\partial u_1}", ("delta", 1), lambda n: n.d[1]),
    T(
        "lecture",
        r"\frac{\partial f}{\partial \mathbf{W}_1} = \boldsymbol{\delta}_1 \mathbf{x}^T",
        ("dW", 1),
        lambda n: n.d[1] @ n.z[0].T,
    ),
    F(
        "lecture",
        r"\frac{\partial f}{\partial \mathbf{W}_1} = \boldsymbol{\delta}_2 \mathbf{x}^T",
        ("dW", 1),
        lambda n: n.d[2] @ n.z[0].T,
    ),
    T(
        "lecture",
        r"\frac{\partial f}{\partial W_{3}} = \delta_{3} z_{2}^{\top}.",
        ("dW", 3),
        lambda n: n.d[3] @ n.z[2].T,
    ),
    T("binary_classifier", r"\nabla_{b_1} f = \delta_1", ("db", 1), lambda n: n.d[1]),
    T(
        "binary_classifier",
        r"\frac{\partial \mathcal{L}}{\partial W_2} = \delta_2 z_1^T",
        ("dW", 2),
        lambda n: n.d[2] @ n.z[1].T,
    ),
]
