"""Is it right? Proof by expansion, and the finite-difference check of the emitted module."""
