"""Write digits.npz for examples/digits.toml from scikit-learn's bundled handwritten digits.

    python examples/digits_data.py [OUT.npz]        (default: digits.npz)

The 1797 images (8x8, grey levels 0..16) ship with scikit-learn (`pip install -e ".[examples]"`);
nothing is downloaded.  The file holds X of shape (64, 1797), the pixels scaled to [0, 1] with
samples as columns, and Y, the 1797 class labels 0..9 as integers (the emitted module one-hot
encodes them for its cross-entropy loss).
"""

from __future__ import annotations

import sys

import numpy as np


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """(X, Y): X (64, 1797) float64 in [0, 1], samples as columns; Y (1797,) int64 labels."""
    from sklearn.datasets import load_digits  # the optional `examples` extra

    digits = load_digits()
    X = (digits.data / 16.0).T  # grey levels 0..16 -> [0, 1]
    return np.ascontiguousarray(X), digits.target.astype(np.int64)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1:
        print("usage: python examples/digits_data.py [OUT.npz]", file=sys.stderr)
        return 2
    out = args[0] if args else "digits.npz"
    try:
        X, Y = digits_arrays()
    except ImportError:
        print("error: needs scikit-learn: pip install scikit-learn", file=sys.stderr)
        return 2
    with open(out, "wb") as file:  # a file object: np.savez adds no second .npz suffix
        np.savez(file, X=X, Y=Y)
    print(f"wrote {out}: X {X.shape}, pixels in [0, 1], samples as columns; Y {Y.shape}, labels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
