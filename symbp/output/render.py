"""The only module that imports jinja2: one Environment, templates loaded from one place.

Templates use ``<< var >>`` and ``<% block %>`` delimiters, which clash neither with Python's
braces nor with LaTeX's.  They hold target-language structure only; every formula they show
arrives already printed from the derivation.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2


def template_dir() -> Path:
    """`symbp/templates` in an installed wheel, else the repository's top-level `templates/`."""
    package = Path(__file__).resolve().parents[1]  # symbp/
    for candidate in (package / "templates", package.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("symbp's templates/ directory is missing from this installation")


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        block_start_string="<%",
        block_end_string="%>",
        variable_start_string="<<",
        variable_end_string=">>",
        comment_start_string="<#",
        comment_end_string="#>",
    )


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)
