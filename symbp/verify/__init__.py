"""The pipeline run backwards: parse a hand derivation, resolve it, compare, explain."""
