"""`symbp latex --beamer --overlays`: chains uncovered one equality at a time, the recursion one
layer at a time, with explicit slide numbers; the slides compile into more pages, each page of a
building frame showing more than the one before."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess

import pytest

import symbp
from symbp.cli import main
from symbp.output.texlayout import Line, reveal

from .conftest import ROOT


def _frames(tex: str, title: str) -> list[str]:
    return [
        frame
        for frame in re.findall(r"\\begin\{frame\}\{(.*?)\}\n(.*?)\\end\{frame\}", tex, re.S)
        if frame[0].startswith(title)
    ]


def test_each_chain_equality_and_each_recursion_layer_has_its_slide():
    spec = symbp.lecture_spec()
    tex = symbp.latex_document(spec, beamer=True, overlays=True, command="pytest")
    for layer in (1, 2, 3):
        frames = _frames(tex, f"Backprop in action --- Layer {layer}")
        body = "".join(text for _, text in frames)
        steps = len(
            next(c for c in symbp.derive(spec).chains if c.target.name == f"W{layer}").steps
        )
        uncovered = {int(k) for k in re.findall(r"\\uncover<(\d+)->", body)}
        assert uncovered and max(uncovered) >= 2
        assert len(re.findall(r"\\uncover<\d+->\{\{\}\\overset", body)) == steps - (len(frames) - 1)
        assert re.search(r"\\onslide<\d+->%\nwhere", frames[-1][1])
    ((_, recursion),) = _frames(tex, "BP: general case")
    slides = [int(k) for k in re.findall(r"\\uncover<(\d+)->", recursion)]
    # delta_3 on slide 1, delta_2 and delta_1 on 2 and 3, the three gradients on 4, 5, 6
    assert sorted(set(slides)) == [2, 3, 4, 5, 6]


def test_a_layers_gradients_share_a_slide():
    lines = [Line(r"\delta_{2} &= a"), Line(r"\delta_{1} &= b"), Line(r"&\qquad {}+ c", True)]
    lines += [Line(r"W_{1} &= d"), Line(r"b_{1} &= e")]
    ((shown, slides),) = reveal([lines], ["d2", "d1", "g1", "g1"])
    assert slides == 3
    assert [line.tex for line in shown] == [
        r"\delta_{2} &= a",
        r"\uncover<2->{\delta_{1}} &\uncover<2->{{}= b}",
        r" &\uncover<2->{{}\qquad {}+ c}",
        r"\uncover<3->{W_{1}} &\uncover<3->{{}= d}",
        r"\uncover<3->{b_{1}} &\uncover<3->{{}= e}",
    ]


def test_a_matrix_keeps_its_ampersands():
    lines = [Line("x &= 1"), Line(r"A &= \begin{bmatrix} 1 & 2 \end{bmatrix} &&\text{(t)}")]
    ((shown, _),) = reveal([lines])
    assert shown[1].tex == (
        r"\uncover<2->{A} &\uncover<2->{{}= \begin{bmatrix} 1 & 2 \end{bmatrix}} &"
        r" &\uncover<2->{{}\text{(t)}}"
    )


def test_overlays_are_for_slides(tmp_path, capsys):
    assert main(["latex", "-o", str(tmp_path / "a.tex"), "--overlays"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--beamer" in err


def _pages(tex: str, cwd) -> list[str]:
    exe = shutil.which("pdflatex")
    if exe is None:
        pytest.fail("pdflatex is required (Debian: texlive-latex-base)")
    import pymupdf  # a test dependency (pyproject's test extra): each page's text

    (cwd / "doc.tex").write_text(tex)
    run = subprocess.run(
        [exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "doc.tex"],
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="replace",
    )
    assert run.returncode == 0, run.stdout[-1500:]
    with pymupdf.open(cwd / "doc.pdf") as pdf:
        return [page.get_text() for page in pdf]


def test_overlaid_slides_compile_into_more_pages_that_build_up(tmp_path):
    spec = symbp.load_spec(str(ROOT / "examples" / "residual.toml"))
    (tmp_path / "plain").mkdir()
    (tmp_path / "overlays").mkdir()
    plain = _pages(symbp.latex_document(spec, beamer=True, command="t"), tmp_path / "plain")
    built = _pages(
        symbp.latex_document(spec, beamer=True, overlays=True, command="t"),
        tmp_path / "overlays",
    )
    assert len(built) > len(plain)
    general = [text for text in built if text.split("\n")[0] == "BP: general case"]
    assert len(general) > 1
    assert all(len(a) < len(b) for a, b in itertools.pairwise(general))
    assert general[-1] == next(t for t in plain if t.split("\n")[0] == "BP: general case")
