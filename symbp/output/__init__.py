"""Derivation -> files: the report, LaTeX documents, emitted modules, stamped never-clobbering writes."""
