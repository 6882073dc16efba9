"""SymPy-style text, as typed into a terminal: hadamard(a, b), .T, * and @ for the matrix product."""

from . import F, T
from .oracle import had

CLAIMS = [
    T(
        "lecture",
        "delta2 = hadamard(W3.T*delta3, dsigma2)",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.s[2]),
    ),
    T(
        "lecture",
        "delta2 = hadamard(W3.T @ delta3, dsigma2)",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.s[2]),
    ),
    F(
        "lecture",
        "delta2 = hadamard(W3*delta3, dsigma2)",
        ("delta", 2),
        lambda n: had(n.W[3] @ n.d[3], n.s[2]),
    ),
    T(
        "lecture",
        "delta3 = hadamard(2*(z3 - y), dsigma3)",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.s[3]),
    ),
    F(
        "lecture",
        "delta1 = hadamard(W2.T*delta2, dsigma2)",
        ("delta", 1),
        lambda n: had(n.W[2].T @ n.d[2], n.s[2]),
    ),
    # copied from a LaTeX source: $…$, an align row's & and \\
    T(
        "lecture",
        r"$\delta_3 = 2(z_3 - y) \circ \sigma'_3$",
        ("delta", 3),
        lambda n: had(2 * (n.z[3] - n.y), n.s[3]),
    ),
    T(
        "lecture",
        r"\delta_2 &= (W_3^T \delta_3) \circ \sigma'_2 \\",
        ("delta", 2),
        lambda n: had(n.W[3].T @ n.d[3], n.s[2]),
    ),
    F(
        "lecture",
        r"$$\delta_3 = (z_3 - y) \circ \sigma'_3$$",
        ("delta", 3),
        lambda n: had(n.z[3] - n.y, n.s[3]),
    ),
]
