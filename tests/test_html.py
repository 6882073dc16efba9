"""`symbp html`: one self-contained web page with the article's content, mathematics as MathML.

The page must parse (as HTML and, being written as XHTML, as XML), hold no script and no
reference to anything outside it, escape every string it did not print itself, show every
chain, adjoint and gradient of the derivation, and render in a real browser: Chromium,
headless, draws it to a PNG that must not be blank, with no console message.
"""

from __future__ import annotations

import html.parser
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from functools import cache
from pathlib import Path

import pytest
import sympy as sp
from markupsafe import Markup

import symbp
from symbp.graph.nodes import Partial, SymbpNode
from symbp.graph.ops import f
from symbp.output import html as page
from symbp.output.files import check_stamp
from symbp.output.render import render
from symbp.printing import mathml as mm
from symbp.printing.mathml import SymbpMathMLPrinter, mathml

from .conftest import EXAMPLES, ROOT
from .test_coverage import SAMPLES, _node_classes

MATHML = "{http://www.w3.org/1998/Math/MathML}"
HOSTILE = "<script>alert(1)</script>\"&'--><!--"
#: MathML Core's elements (and the few more the printer uses, all rendered by Chromium)
MATHML_TAGS = set(
    "math mrow mi mn mo mtext mspace msub msup msubsup mfrac mover munder munderover mtable mtr "
    "mtd".split()
)


@cache
def source(path: Path) -> str:
    spec = symbp.load_spec(path)
    return page.page_source(spec, convexity=path.stem == "deep_linear")


def parse(text: str) -> ET.Element:
    """The page after its header comment as XML, MathML elements in MathML's namespace (as a
    browser reads them).  The header comment may hold ``--`` (a command's options): legal in
    HTML, not in XML."""
    assert text.startswith("<!--\n") and text.count("-->") >= 1
    body = text.split("-->\n", 1)[1]
    assert body.startswith("<!DOCTYPE html>\n")
    return ET.fromstring(body.replace("<math", f'<math xmlns="{MATHML[1:-1]}"', -1))


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def html_tags(text: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(text)
    parser.close()
    return parser.tags


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_page_is_well_formed_self_contained_and_script_free(path):
    text = source(path)
    root = parse(text)  # raises on any XML error
    assert root.tag == "html"
    tags = html_tags(text)
    names = {tag for tag, _ in tags}
    assert "script" not in names and "link" not in names and "iframe" not in names
    assert "img" not in names and "object" not in names and "embed" not in names
    for tag, attrs in tags:
        assert not {"src", "href", "srcset", "action"} & set(attrs), (tag, attrs)
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)  # no event handlers
    assert not re.search(r"https?://|url\(|@import|javascript:", text, re.IGNORECASE)
    for math in root.iter(f"{MATHML}math"):
        for node in math.iter():
            assert node.tag.removeprefix(MATHML) in MATHML_TAGS, node.tag
    assert check_stamp(text) is None  # stamped and sealed


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_chain_adjoint_and_gradient_is_on_the_page(path):
    text = source(path)
    d = symbp.derive(symbp.load_spec(path))
    p, b = d.sample, d.batch
    assert text.count('<section class="chain"') == len(d.chains)
    for chain in d.chains:
        assert mathml(Partial(f, chain.target)) in text
        for step in chain.steps:
            assert mathml(step.rhs) in text
            assert mm.reason(step.reason) in text
    for lhs, rhs in (*p.adjoints, *b.adjoints, *p.sigma_primes, *b.sigma_primes):
        assert mathml(lhs) in text and mathml(rhs) in text
    for key, g in p.gradients.items():
        assert mathml(Partial(f, p.param(key))) in text
        assert mathml(g) in text and mathml(g, sample="i") in text
        assert mathml(b.gradients[key]) in text
    for note in (st.reason.note for c in d.chains for st in c.steps if st.reason.note):
        assert html_escape(note) in text


def html_escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def test_sections_follow_the_article():
    text = source(ROOT / "examples" / "conv1d_circular.toml")
    for heading in (
        "The network",
        "Convolutions are matrices",
        "Activation derivatives",
        "Backprop in action",
        "General case",
        "Batch (ERM) form",
        "Update rule",
    ):
        assert f"<h2>{heading}</h2>" in text
    assert "circulant" in text and "cross-correlation" in text
    deep_linear = source(ROOT / "examples" / "deep_linear.toml")
    assert "Block-coordinate descent" in deep_linear and "not jointly convex" in deep_linear
    perceptron = source(ROOT / "examples" / "perceptron.toml")
    assert "Rosenblatt" in perceptron


def test_notation_is_the_lectures():
    """Bold z_j and W_j, bold italic delta_j, sigma'_j with its prime, the Hadamard circle, a
    superscript T: the lecture's delta_2 = (W_3^T delta_3) o sigma'_2."""
    text = source(ROOT / "examples" / "lecture.toml")
    assert "<mi>𝐳</mi>" in text and "<mi>𝐖</mi>" in text and "<mi>𝜹</mi>" in text
    recursion = mathml(symbp.derive(symbp.lecture_spec()).sample.adjoints[1][1])
    assert recursion == (
        '<mrow><mrow><mo lspace="0" rspace="0">(</mo><mrow><msup><msub><mi>𝐖</mi><mn>3</mn>'
        "</msub><mi>T</mi></msup><msub><mi>𝜹</mi><mn>3</mn></msub></mrow>"
        '<mo lspace="0" rspace="0">)</mo></mrow><mo>∘</mo>'
        "<msubsup><mi>𝝈</mi><mn>2</mn><mo>′</mo></msubsup></mrow>"
    )
    where = '<msub><mi>𝜹</mi><mn>2</mn></msub></mtd><mtd class="rhs"><mrow><mo>≜</mo>'
    assert where + recursion in text


@pytest.mark.parametrize("cls", _node_classes(), ids=lambda c: c.__name__)
def test_every_symbp_node_prints_as_mathml(cls):
    if "latex" not in cls.targets:  # never displayed (an adjoint's share only a rule reads)
        return
    assert hasattr(SymbpMathMLPrinter, f"_print_{cls.__name__}")
    shown = mathml(SAMPLES[cls])
    ET.fromstring(f"<math>{shown}</math>")
    assert shown


def test_a_node_without_a_mathml_method_is_refused():
    class Unprintable(SymbpNode, sp.Expr):
        pass

    with pytest.raises(NotImplementedError, match="_print_Unprintable"):
        mathml(Unprintable())


def test_printer_escapes_every_name():
    shown = mathml(sp.Symbol(HOSTILE) + sp.Symbol("x&y"))
    root = ET.fromstring(f"<math>{shown}</math>")
    assert "<script" not in shown and "&lt;script&gt;" in shown
    assert HOSTILE in "".join(root.itertext())
    assert mm.mtext(HOSTILE).count("<") == 2  # <mtext> and </mtext>


def test_template_escapes_every_string_it_did_not_print():
    spec = symbp.load_spec(ROOT / "examples" / "custom_activation.toml")
    ctx = page.context(spec)
    ctx["name"] = HOSTILE
    ctx["update"]["title"] = HOSTILE
    ctx["chains"][0]["notes"] = [HOSTILE]
    ctx["pictures"] = [(HOSTILE, Markup('<svg xmlns="http://www.w3.org/2000/svg"></svg>'))]
    text = render("html/page.html.j2", **ctx)
    assert "<script" not in text and "<!--" not in text
    assert text.count("&lt;script&gt;alert(1)&lt;/script&gt;&#34;&amp;&#39;--&gt;") == 5
    assert "<figure><svg" in text  # the pictures' slot takes trusted inline SVG
    ET.fromstring(text.split("\n", 1)[1] if text.startswith("<!DOCTYPE") else text)


def test_the_page_shows_the_network_and_its_graph_as_inline_svg():
    ctx = page.context(symbp.lecture_spec())
    titles = [title for title, _ in ctx["pictures"]]
    assert titles[0] == "The network" and titles[1].startswith("The computational graph")
    text = source(ROOT / "examples" / "lecture.toml")
    assert text.count("<figure><svg ") == 2 and "xmlns=" not in text.split("<svg ", 1)[1][:40]
    for _, svg in ctx["pictures"]:  # each picture parses alone as SVG once its namespace is added
        ET.fromstring(str(svg).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def test_cli_writes_refuses_and_escapes_paths(tmp_path, symbp_main):
    out = tmp_path / "page.html"
    run = symbp_main("html", "-o", out)
    assert run.returncode == 0 and out.read_text().count("<h2>") >= 6
    assert "network <code>lecture</code>" in out.read_text()
    assert symbp_main("html", "-o", out).stdout.startswith("unchanged")
    hand = tmp_path / "mine.html"
    hand.write_text("<p>my notes</p>")
    run = symbp_main("html", "-o", hand)
    assert run.returncode == 2 and "refusing to overwrite" in run.stderr
    assert hand.read_text() == "<p>my notes</p>"
    assert symbp_main("html", "-o", hand, "--force").returncode == 0
    assert symbp_main("html", "-o", tmp_path / "page.tex").returncode == 2
    run = symbp_main("html", ROOT / "examples" / "lecture.toml", "-o", out, "--convexity")
    assert run.returncode == 2 and "deep linear" in run.stderr
    spec = tmp_path / "--><script>alert(1)<!--.toml"
    spec.write_text((ROOT / "examples" / "lecture.toml").read_text())
    hostile_out = tmp_path / 'we"ird<&>--><script>.html'
    run = symbp_main("html", spec, "-o", hostile_out)
    assert run.returncode == 0, run.stderr
    text = hostile_out.read_text()
    assert "<script" not in text and text.count("-->") == 1 and text.count("<!--") == 1
    assert "&lt;script&gt;alert(1)&lt;!--.toml" in text
    parse(text)
    assert check_stamp(text) is None


# -- a real browser ------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)"
)
WIDTH, HEIGHT = 800, 1000


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the rows of bytes of an 8-bit RGB or RGBA PNG (no interlace)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 3 if color == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def render_in_chromium(html_file: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    """Chromium's headless screenshot of `html_file`, and the console messages it logged
    (``--enable-logging=stderr`` prints each as a line with ``:CONSOLE``)."""
    shot = tmp_path / f"{html_file.stem}.png"
    run = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--window-size={WIDTH},{HEIGHT}",
            f"--screenshot={shot}",
            html_file.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    return shot, console


def ink(shot: Path) -> tuple[float, float]:
    """The fraction of pixels that are not near white, and the variance of the grey levels."""
    width, height, rows = png_pixels(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    bpp = len(rows[0]) // width
    greys = [sum(row[i : i + 3]) // 3 for row in rows for i in range(0, len(row), bpp)]
    mean = sum(greys) / len(greys)
    dark = sum(1 for g in greys if g < 200) / len(greys)
    return dark, sum((g - mean) ** 2 for g in greys) / len(greys)


@needs_chromium
def test_page_renders_in_chromium_without_console_messages(tmp_path):
    out = tmp_path / "lecture.html"
    out.write_text(source(ROOT / "examples" / "lecture.toml"))
    shot, console = render_in_chromium(out, tmp_path)
    assert console == []
    assert shot.stat().st_size > 10_000
    dark, variance = ink(shot)
    assert 0.01 < dark < 0.5 and variance > 100


@needs_chromium
def test_the_browser_check_sees_a_console_error_and_a_blank_page(tmp_path):
    """The checks above can fail: a script's error is seen, a blank page has no ink."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>undefinedFn();</script></body></html>")
    shot, console = render_in_chromium(bad, tmp_path)
    assert any("undefinedFn" in line for line in console)
    dark, variance = ink(shot)
    assert dark == 0 and variance < 1


def test_the_page_has_the_articles_worked_example_with_the_same_numbers():
    """The page's worked example is the article's: the same given values and results (the
    decimals the article shows appear on the page), and its section is skipped where the
    article's is."""
    spec = symbp.lecture_spec()
    text = page.page_source(spec)
    tex = symbp.latex_document(spec, beamer=False)
    assert '<section id="example">' in text and "A worked example" in text
    decimals = set(re.findall(r"-?\d\.\d{3,4}", tex.split(r"\section{A worked example}")[1]))
    assert decimals and all(d.replace("-", "") in text for d in decimals)
    cnn = symbp.load_spec(ROOT / "examples" / "digits_cnn.toml")
    assert "gets no worked example" in page.page_source(cnn)
