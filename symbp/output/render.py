"""The only module that imports jinja2: one Environment, templates loaded from one place.

Templates are grouped in folders, one per target (`latex/`, and one per code backend such as
`numpy/`), and named by their path: ``render("latex/article.tex.j2", ...)``.  An import or
include inside a template names a sibling in its own folder (``"_derivation.tex.j2"``), or a
part every code backend shares in `common/` (``"../common/_cli.py.j2"``).

Templates use ``<< var >>`` and ``<% block %>`` delimiters, which clash neither with Python's
braces nor with LaTeX's.  They hold target-language structure only; every formula they show
arrives already printed from the derivation.
"""

from __future__ import annotations

import posixpath
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


class _FolderEnvironment(jinja2.Environment):
    """Names in a template's imports and includes are relative to that template's folder
    (``..`` steps up to templates/, never above it)."""

    def join_path(self, template: str, parent: str) -> str:
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(parent), template))
        if joined.startswith("../"):
            raise jinja2.TemplateNotFound(template)
        return joined


def _escapes_html(template: str | None) -> bool:
    """Autoescaping on for the web page's templates (`html/`), off for LaTeX and code."""
    return bool(template) and template.startswith("html/")


@cache
def environment() -> jinja2.Environment:
    return _FolderEnvironment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=_escapes_html,
        block_start_string="<%",
        block_end_string="%>",
        variable_start_string="<<",
        variable_end_string=">>",
        comment_start_string="<#",
        comment_end_string="#>",
    )


def render(template: str, **context) -> str:
    """`template` (a path under templates/, e.g. ``"numpy/module.py.j2"``) filled with `context`."""
    return environment().get_template(template).render(**context)
