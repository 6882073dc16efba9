"""Every emitted .tex compiles with pdflatex; the document has the lecture's structure.

The documents of generated/ (every example as article and slides) are compiled by
test_overfull, from the same source (the golden test keeps generated/ equal to it)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import sympy as sp

import symbp
from symbp.printing.latex import latex
from symbp.spec.model import Layer, Spec

from .conftest import ROOT


def pdflatex(tex, cwd):
    exe = shutil.which("pdflatex")
    if exe is None:
        pytest.fail("pdflatex is required (.ci/run installs TeX Live)")
    return subprocess.run(
        [
            exe,
            "-interaction=nonstopmode",
            "-halt-on-error",
            "-output-directory",
            str(cwd),
            str(tex),
        ],
        capture_output=True,
        text=True,
        errors="replace",
    )


@pytest.mark.parametrize("beamer", [False, True])
def test_every_activation_and_symbolic_widths_compile(tmp_path, beamer):
    acts = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity")
    layers = tuple(Layer(3, a, i % 2 == 1) for i, a in enumerate(acts))
    for spec in (
        Spec("all_acts", 2, layers),
        symbp.from_dict(
            {"name": "sym", "input": "d_0", "layers": [{"units": "d_1", "bias": True}]}
        ),
    ):
        tex = tmp_path / f"{spec.name}.tex"
        tex.write_text(symbp.latex_document(spec, beamer=beamer))
        run = pdflatex(tex, tmp_path)
        assert run.returncode == 0, run.stdout[-2000:]


def test_article_presents_the_derivation_step_by_step():
    tex = symbp.latex_document(symbp.lecture_spec())
    assert tex.count(r"\subsection*{Layer") == 3
    for label in (
        r"\overset{\text{CR}}{=}",
        r"\overset{\text{(L)}}{=}",
        r"\overset{\text{(e.3)}}{=}",
    ):
        assert label in tex
    assert r"\overset{\text{def.}\ \boldsymbol{\delta}_{2}}{=}" in tex
    assert r"\sum_{i=1}^{N}" in tex and r"\boldsymbol{\Delta}_{1} {\mathbf{Z}_{0}}^{T}" in tex
    assert r"\mathbf{z}_{1} \circ \left(\mathbf{1} - \mathbf{z}_{1}\right)" in tex


def test_pdf_is_stamped_replaced_when_symbp_wrote_it_and_refused_when_not(
    tmp_path, monkeypatch, capsys
):
    import os
    import stat

    from symbp.cli import main
    from symbp.output.files import check_stamp

    monkeypatch.chdir(tmp_path)
    (tmp_path / "slides.aux").write_text("\\garbage{ from another run\n")  # must not matter
    old = os.umask(0o022)
    try:
        assert main(["latex", "-o", "slides.tex", "--pdf"]) == 0
    finally:
        os.umask(old)
    pdf = tmp_path / "slides.pdf"
    assert check_stamp(pdf.read_bytes()) is None
    for path in (pdf, tmp_path / "slides.tex"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert main(["latex", "-o", "slides.tex", "--pdf"]) == 0  # symbp's own PDF: replaced
    assert check_stamp(pdf.read_bytes()) is None
    for mine, why in (
        (pdf.read_bytes() + b"%annotated\n", "edited"),
        (b"%PDF-1.4\n", "not written"),
    ):
        pdf.write_bytes(mine)
        capsys.readouterr()
        assert main(["latex", "-o", "slides.tex", "--pdf"]) == 2
        err = capsys.readouterr().err
        assert why in err and "--force" in err and len(err.strip().splitlines()) == 1
        assert pdf.read_bytes() == mine
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slides.aux", "slides.pdf", "slides.tex"]


@pytest.mark.parametrize("kind", ["symlink", "dangling symlink", "fifo"])
@pytest.mark.parametrize("force", [False, True])
def test_pdf_never_written_through_a_link_or_into_a_fifo(tmp_path, monkeypatch, kind, force):
    import os

    from symbp.cli import main

    monkeypatch.chdir(tmp_path)
    notes = tmp_path / "notes.txt"
    pdf = tmp_path / "slides.pdf"
    if kind == "fifo":
        os.mkfifo(pdf)
    else:
        if kind == "symlink":
            notes.write_text("my notes\n")
        pdf.symlink_to(notes)
    assert main(["latex", "-o", "slides.tex", "--pdf", *["--force"] * force]) == 2
    assert not (tmp_path / "slides.tex").exists()  # refused before anything was written
    if kind == "symlink":
        assert notes.read_text() == "my notes\n"
    else:
        assert not notes.exists()


def test_a_row_of_ones_is_transposed_only_as_a_factor_of_a_product():
    """b 1^T broadcasts a bias over the samples; 1 - Y with a one-row Y is entry-wise."""
    Y = sp.MatrixSymbol("Y", 1, sp.Symbol("N"))
    b = sp.MatrixSymbol("b", 1, 1)
    ones = sp.OneMatrix(1, sp.Symbol("N"))
    assert "^T" not in latex(sp.MatAdd(ones, sp.MatMul(-1, Y)))
    assert latex(sp.MatMul(b, ones)).endswith(r"\mathbf{1}^T")


@pytest.mark.parametrize("example", ["softmax_classifier", "binary_classifier", "lecture"])
def test_the_batch_loss_keeps_its_sign_in_front(example):
    tex = symbp.latex_document(symbp.load_spec(ROOT / "examples" / f"{example}.toml"))
    assert not re.search(r"\\frac\{1\}\{N\} -", tex)
