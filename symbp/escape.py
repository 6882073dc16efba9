"""Escaping for every target symbp writes user text into: one function per target.

No user-controlled string (a path, a name, a command) reaches emitted Python, LaTeX or a
terminal except through one of these.  Each returns printable text on one line: no character
that Python, TeX or `str.splitlines` could take for a line break survives.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

_SURROGATE_BYTES = range(0xDC80, 0xDD00)  # os.fsdecode's stand-ins for undecodable bytes


def _code_escape(char: str) -> str:
    """`\\xNN`, `\\uNNNN` or `\\UNNNNNNNN`: the escape Python and bash both read back as `char`
    (a surrogate that stands for an undecodable file-name byte becomes that byte, `\\xNN`)."""
    point = ord(char)
    if point in _SURROGATE_BYTES:
        return f"\\x{point - 0xDC00:02x}"
    if point < 0x100:
        return f"\\x{point:02x}"
    return f"\\u{point:04x}" if point < 0x10000 else f"\\U{point:08x}"


def one_line(text: str) -> str:
    """`text` with every non-printable character (line breaks, controls, surrogates) escaped;
    for comments and terminal messages, where a backslash is harmless."""
    return "".join(c if c.isprintable() else _code_escape(c) for c in text)


def shell_word(arg: str) -> str:
    """`arg` quoted for bash, on one line: `shlex.quote` when it is printable, else ANSI-C
    quoting (`$'...'`) with escapes, which reads back as `arg` (bytes included)."""
    if arg.isprintable():
        return shlex.quote(arg)
    body = "".join(
        "\\\\" if c == "\\" else "\\'" if c == "'" else c if c.isprintable() else _code_escape(c)
        for c in arg
    )
    return f"$'{body}'"


def shell_command(argv: Iterable[str]) -> str:
    """A command line that bash runs as `argv`; printable, on one line."""
    return " ".join(shell_word(str(arg)) for arg in argv)


def python_string(text: str) -> str:
    """`text` for the inside of a Python string literal (quoted by ' " or triple quotes, not
    raw): backslashes and both quotes escaped, non-printable characters as escapes."""
    return "".join(
        "\\" + c if c in "\\'\"" else c if c.isprintable() else _code_escape(c) for c in text
    )


_TEX_TEXT = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "#": r"\#",
    "&": r"\&",
    "$": r"\$",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "-": "-{}",
}


def tex_text(text: str) -> str:
    """`text` for LaTeX text mode, shown literally: every special character (``\\ { } % # & $ _
    ~ ^``, hence also ``^^`` notation) as its text command; line breaks, other non-printable and
    all non-ASCII characters (which pdflatex may lack) as a visible `\\xNN`-style escape."""
    out = []
    for c in text:
        if c.isascii() and c.isprintable():
            out.append(_TEX_TEXT.get(c, c))
        else:
            out.append("".join(_TEX_TEXT.get(e, e) for e in _code_escape(c)))
    return "".join(out)
