"""The command line: a thin layer over the public API.

    symbp derive   [SPEC]                    the delta recursion and every gradient, in Unicode
    symbp latex    [SPEC] -o OUT.tex [--pdf] [--beamer]
    symbp generate [SPEC] -o OUT.py
    symbp check    [SPEC]                    proof by expansion + finite-difference check
    symbp verify   [SPEC] --claim 'CLAIM'    check a hand derivation (also --claims, --tex)

Without SPEC the lecture's network is used.  Bad input: one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import __version__
from .check import TOLERANCE, check
from .derive import derive
from .document import document_source
from .emit import module_source
from .errors import SymbpError
from .files import write
from .printing.text import render_chains
from .proof import proof_spec
from .spec import Spec, lecture_spec, load
from .verify import tex_claims, verify


def _shown(path: str) -> str:
    """A path as it should appear in a generated header: relative to the working directory."""
    rel = os.path.relpath(Path(path).resolve(), Path.cwd())
    return rel if not rel.startswith("..") else str(path)


def _spec(args) -> Spec:
    return load(args.spec) if args.spec else lecture_spec()


def _command(args, out: str, *extra: str) -> str:
    parts = ["symbp", args.command, *([_shown(args.spec)] if args.spec else []), "-o", _shown(out)]
    return " ".join([*parts, *extra])


def _derive(args) -> int:
    derivation = derive(_spec(args))
    print(derivation)
    if args.steps:
        print("\nstep by step (one sample):")
        print(render_chains(derivation))
    return 0


def _latex(args) -> int:
    spec = _spec(args)
    extra = ["--beamer"] * args.beamer + ["--convexity"] * args.convexity
    text = document_source(
        spec,
        beamer=args.beamer,
        command=_command(args, args.output, *extra),
        convexity=args.convexity,
    )
    changed = write(args.output, text, force=args.force)
    print(f"{'wrote' if changed else 'unchanged'} {args.output}")
    if args.pdf:
        pdf = compile_pdf(Path(args.output))
        print(f"wrote {pdf}")
    return 0


def compile_pdf(tex: Path) -> Path:
    """pdflatex `tex` in a scratch directory; the PDF lands beside it.  LaTeX errors raise."""
    pdflatex = shutil.which("pdflatex")
    if not pdflatex:
        raise SymbpError(
            "--pdf needs pdflatex on PATH (Debian: apt-get install texlive-latex-base)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(2):  # twice, so that references settle
            run = subprocess.run(
                [
                    pdflatex,
                    "-interaction=nonstopmode",
                    "-halt-on-error",
                    "-output-directory",
                    tmp,
                    str(tex),
                ],
                check=False,
                capture_output=True,
                text=True,
                errors="replace",
            )
            if run.returncode != 0:
                errors = [line for line in run.stdout.splitlines() if line.startswith("!")]
                raise LatexError(
                    f"pdflatex failed on {tex}: {'; '.join(errors) or run.stdout[-500:]}"
                )
        target = tex.with_suffix(".pdf")
        shutil.copyfile(Path(tmp) / (tex.stem + ".pdf"), target)
    return target


class LatexError(Exception):
    """pdflatex reported an error (exit status 1: the emitted document is wrong, not the input)."""


def _generate(args) -> int:
    spec = _spec(args)
    text = module_source(spec, command=_command(args, args.output))
    changed = write(args.output, text, force=args.force)
    print(f"{'wrote' if changed else 'unchanged'} {args.output}")
    return 0


def _check(args) -> int:
    spec = _spec(args)
    report = check(spec, max_width=args.max_width)
    widths = "-".join(map(str, proof_spec(spec, args.max_width).widths))
    print(f"proof by expansion at widths {widths}, every sigma_j an undefined function:")
    for c in report.checks:
        print(
            f"  {'ok  ' if c.ok else 'FAIL'} {c.what}: {c.entries} entr{'y' if c.entries == 1 else 'ies'}"
        )
    if report.numeric_error is None:
        print("  skip emitted module: symbolic widths")
    else:
        verdict = "ok  " if report.numeric_error <= TOLERANCE else "FAIL"
        print(
            f"  {verdict} emitted gradients vs central differences: "
            f"max relative error {report.numeric_error:.2e} (tolerance {TOLERANCE:.0e})"
        )
    print("all checks passed" if report.ok else "CHECK FAILED")
    return 0 if report.ok else 1


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SymbpError(f"cannot read {path}: {exc}") from None


def _verify(args) -> int:
    """Exit status: that of the most severe verdict, in this order: cannot parse (2), cannot
    check (4), WRONG (1), correct (0); an internal error is 3 (`main`)."""
    verdicts = {  # status -> (label printed, exit status), most severe first
        "unparsable": ("cannot parse", 2),
        "unsupported": ("cannot check", 4),
        "wrong": ("WRONG", 1),
        "correct": ("correct", 0),
    }
    spec = _spec(args)
    claims = [(None, c) for c in args.claim or []]
    if args.claims:
        lines = _read(args.claims).splitlines()
        claims += [
            (i, ln)
            for i, ln in enumerate(lines, 1)
            if ln.strip() and not ln.lstrip().startswith("#")
        ]
    if args.tex:
        claims += tex_claims(_read(args.tex))
    if not claims:
        raise SymbpError("nothing to verify: give --claim 'lhs = rhs', --claims FILE or --tex FILE")
    statuses = set()
    for line, claim in claims:
        verdict = verify(spec, claim)
        statuses.add(verdict.status)
        where = f"line {line}: " if line is not None else ""
        print(f"{where}{verdicts[verdict.status][0]}: {claim}")
        print(f"    {verdict.message}")
    return next(code for status, (_, code) in verdicts.items() if status in statuses)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="symbp", description=__doc__.splitlines()[0])
    top.add_argument("--version", action="version", version=f"symbp {__version__}")
    sub = top.add_subparsers(dest="command", required=True)

    def command(name, func, help_text):
        p = sub.add_parser(name, help=help_text)
        p.add_argument(
            "spec", nargs="?", help="network spec (TOML); default: the lecture's network"
        )
        p.set_defaults(func=func)
        return p

    p = command("derive", _derive, "print the delta recursion and every gradient")
    p.add_argument("--steps", action="store_true", help="also each layer's chain, with reasons")
    p = command("latex", _latex, "write the derivation as a LaTeX document")
    p.add_argument("-o", "--output", required=True, help="the .tex file to write")
    p.add_argument("--pdf", action="store_true", help="also compile it with pdflatex")
    p.add_argument("--beamer", action="store_true", help="slides instead of an article")
    p.add_argument(
        "--convexity",
        action="store_true",
        help="add the two-layer example showing ERM is not jointly convex (deep linear specs)",
    )
    p.add_argument("--force", action="store_true", help="overwrite a file symbp did not write")
    p = command("generate", _generate, "write a standalone NumPy training module")
    p.add_argument("-o", "--output", required=True, help="the .py file to write")
    p.add_argument("--force", action="store_true", help="overwrite a file symbp did not write")
    p = command("verify", _verify, "check hand-written claims (LaTeX or SymPy-style) against it")
    p.add_argument(
        "--claim",
        action="append",
        help="one claim, e.g. '\\delta_2 = (W_3^T \\delta_3) \\circ \\sigma'_2'",
    )
    p.add_argument("--claims", help="a file of claims, one per line")
    p.add_argument(
        "--tex", help="a LaTeX file: every delta / df/dW equation of its align/equation blocks"
    )
    p = command("check", _check, "prove the derivation and test the emitted gradients")
    p.add_argument("--max-width", type=int, default=None, help="widths used by the proof")
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except SymbpError as exc:
        print(f"symbp: error: {exc}", file=sys.stderr)
        return 2
    except LatexError as exc:
        print(f"symbp: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"symbp: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
