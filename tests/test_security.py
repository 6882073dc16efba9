"""Hostile file names: nothing a user names reaches emitted Python or LaTeX unescaped.

Each name below once (or in a near variant) injected code into the emitted module's header or
LaTeX into the document's; the emitted files must import cleanly and run nothing, pass ruff,
and compile, whatever the spec's and the output's names hold.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symbp
from symbp.cli import LatexError, compile_pdf, main
from symbp.escape import tex_text
from symbp.output.files import check_stamp

from .conftest import ROOT

SPEC = 'name = "tiny"\ninput = 2\n[[layers]]\nunits = 2\n[[layers]]\nunits = 1\n'
PAYLOAD = 'open("PWNED", "w")'
HOSTILE = {
    "newline-python": f"evil\nimport os; {PAYLOAD}\n#",
    "newline-latex": "x\n\\AtBeginDocument{\\input{^^2fetc^^2fhostname}}\n%",
    "carriage-return": f"cr\r{PAYLOAD}\r#",
    "unicode-line-breaks": f"sep\u2028{PAYLOAD}\u2029\x0b\x0c\x85#",
    "quotes": 'it\'s "quoted" \'\'\'"""',
    "backslashes": "back\\slash\\\\n\\",
    "tex-specials": "100% ~tilde #hash {brace} $dollar$ &amp _under ^caret",
    "double-caret": "^^5cinput^^7b^^2fetc^^2fhostname^^7d",
    "leading-dash": "-o-rf --force",
    "shell": "$(touch PWNED)`touch PWNED`;touch PWNED",
    "encoding-declaration": "x coding=utf-7 +AAo-open(+ACI-PWNED+ACI-, +ACI-w+ACI-)+AAo-",
    "ruff-pragmas": "x # ruff: noqa # noqa # fmt: off",
    "undecodable-bytes": os.fsdecode(b"bytes\xff\xfe\x80"),
}
# The names whose characters mean something to TeX: compiled to PDF (each run takes seconds).
FOR_PDF = ["newline-latex", "tex-specials", "double-caret", "leading-dash", "backslashes"]


def spec_file(directory: Path, stem: str) -> Path:
    path = directory / f"{stem}.toml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def header_lines(text: str, comment: str) -> list[str]:
    """The lines before the first that is not a comment (the stamped header)."""
    lines = text.split("\n")
    end = next(i for i, line in enumerate(lines) if not line.startswith(comment))
    return lines[:end]


def assert_inert_python(path: Path) -> None:
    """`path` parses with a comment-only header, and importing it runs nothing of ours."""
    text = path.read_text(encoding="utf-8")
    header = header_lines(text, "#")
    assert len(header) == 4 and all(line.isprintable() for line in header)
    assert ast.parse("\n".join(header)).body == []
    assert check_stamp(path.read_bytes()) is None
    spec = importlib.util.spec_from_file_location("hostile", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(module.gradients)
    assert not (path.parent / "PWNED").exists()


def ruff(*args: Path) -> None:
    exe = shutil.which("ruff")
    if exe is None:
        pytest.fail("ruff is a test dependency (pip install -e '.[test]')")
    config = ["--config", str(ROOT / "pyproject.toml")]
    for verb in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        run = subprocess.run([exe, *verb, *config, *map(str, args)], capture_output=True)
        assert run.returncode == 0, run.stdout.decode(errors="replace")


def test_generate_with_hostile_spec_and_output_names(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    outputs = []
    for label, stem in HOSTILE.items():
        spec = spec_file(tmp_path, stem)
        out = tmp_path / f"{stem}.py"
        assert main(["generate", f"--output={out.name}", "--", spec.name]) == 0, label
        assert_inert_python(out)
        outputs.append(out)
    ruff(*outputs)
    assert len(capsys.readouterr().out.splitlines()) == len(HOSTILE)  # one line per file


# A Linux file name is bytes (no '/', no NUL); Python sees undecodable ones as surrogates.
FILE_NAMES = st.one_of(
    st.text(st.characters(exclude_characters="/\0", exclude_categories=("Cs",)), max_size=40),
    st.binary(max_size=60).map(os.fsdecode),
).filter(
    lambda n: (
        n not in ("", ".", "..") and not set(n) & set("/\0") and len(os.fsencode(n + ".toml")) < 250
    )
)
FUZZ_EXAMPLES = int(os.environ.get("SYMBP_FUZZ_EXAMPLES", "25"))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(stem=FILE_NAMES)
def test_generate_with_fuzzed_file_names(tmp_path_factory, stem):
    directory = tmp_path_factory.mktemp("fuzz")
    spec = spec_file(directory, stem)
    out = directory / f"{stem}.py"
    cwd = Path.cwd()
    os.chdir(directory)
    try:
        assert main(["generate", f"--output={out.name}", "--", spec.name]) == 0
    finally:
        os.chdir(cwd)
    assert_inert_python(out)
    ruff(out)


def test_the_api_default_command_is_escaped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for label, stem in HOSTILE.items():
        spec = symbp.load_spec(spec_file(tmp_path, stem))
        module = tmp_path / f"api-{label}.py"
        module.write_text(symbp.generate_module(spec), encoding="utf-8")
        assert_inert_python(module)
        for beamer in (False, True):
            header = header_lines(symbp.latex_document(spec, beamer), "%")
            assert len(header) == 4 and all(line.isprintable() for line in header), label


def test_regenerate_quotes_the_example_paths_it_globs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").mkdir()
    for stem in HOSTILE.values():
        spec_file(tmp_path / "examples", stem)
    loader = importlib.util.spec_from_file_location("regen", ROOT / "generated" / "regenerate.py")
    regenerate = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(regenerate)
    outputs = regenerate.outputs(tmp_path)
    assert len(outputs) == 4 * len(HOSTILE)  # module, article, slides, web page
    for filename, text in outputs.items():
        comment = "#" if filename.endswith((".py", ".html")) else "%"
        if filename.endswith(".html"):  # the header is a comment of the page's own
            assert text.startswith("<!--\n")
            text = text.removeprefix("<!--\n")
        header = header_lines(text, comment)
        assert len(header) == 4 and all(line.isprintable() for line in header), filename
        if filename.endswith(".py"):
            out = tmp_path / "module.py"
            out.write_text(text, encoding="utf-8")
            assert_inert_python(out)
            out.unlink()


@pytest.mark.parametrize("label", FOR_PDF)
def test_latex_pdf_with_hostile_spec_and_output_names(tmp_path, monkeypatch, label):
    monkeypatch.chdir(tmp_path)
    stem = HOSTILE[label]
    spec = spec_file(tmp_path, stem)
    out = tmp_path / f"{stem}.tex"
    assert main(["latex", "--pdf", "--beamer", f"--output={out.name}", "--", spec.name]) == 0
    text = out.read_text(encoding="utf-8")
    header = header_lines(text, "%")
    assert len(header) == 4 and text.split("\n")[4].startswith(r"\documentclass")
    assert "--beamer" in header[3] and all(line.isprintable() for line in header)
    pdf = out.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and check_stamp(pdf.read_bytes()) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([spec.name, out.name, pdf.name])


def tex_file(directory: Path, body: str) -> Path:
    tex = directory / "doc.tex"
    tex.write_text(f"\\documentclass{{article}}\n\\begin{{document}}\n{body}\n\\end{{document}}\n")
    return tex


def test_pdflatex_cannot_read_outside_its_directory(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET\n")
    for path in (str(secret), "/etc/hostname", "../secret.txt"):
        with pytest.raises(LatexError):
            compile_pdf(tex_file(tmp_path, f"\\input{{{path}}}"))
    assert not (tmp_path / "doc.pdf").exists()


def test_pdflatex_cannot_write_outside_its_directory(tmp_path):
    target = tmp_path / "escaped.txt"
    body = f"\\newwrite\\out\\immediate\\openout\\out={target}\\immediate\\write\\out{{x}}"
    with pytest.raises(LatexError, match="can't write on file"):
        compile_pdf(tex_file(tmp_path, body + "\\immediate\\closeout\\out hello"))
    assert not target.exists()


def test_pdflatex_runs_no_shell_commands(tmp_path):
    pwned = tmp_path / "PWNED"
    assert compile_pdf(tex_file(tmp_path, f"\\immediate\\write18{{touch {pwned}}}hello")).exists()
    assert not pwned.exists()


_TEX_ESCAPES = re.compile(
    r"\\(?:textbackslash|textasciitilde|textasciicircum|textless|textgreater|textbar)\{\}"
    r"|\\[{}%#&$_]|-\{\}"
)


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(exclude_categories=())))
def test_tex_text_leaves_no_special_character(text):
    escaped = tex_text(text)
    assert escaped.isascii() and escaped.isprintable()
    assert not set(_TEX_ESCAPES.sub("", escaped)) & set("\\{}%#&$_~^")


def test_tex_text_compiles_and_reads_nothing(tmp_path):
    body = "\n\n".join(f"{tex_text(s)} \\texttt{{{tex_text(s)}}}" for s in HOSTILE.values())
    pdf = compile_pdf(tex_file(tmp_path, body))
    assert pdf.exists()
