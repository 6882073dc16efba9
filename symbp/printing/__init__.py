"""Printers for symbp's expressions: LaTeX (`latex`), Unicode text (`text`), NumPy (`numpy`).

Each dispatches on class with ``_print_<Class>`` methods, as SymPy's own printers do.
"""
