"""The command line: a thin layer over the public API.

    symbp derive   [SPEC]                    the delta recursion and every gradient, in Unicode
    symbp latex    [SPEC] -o OUT.tex [--pdf] [--beamer [--overlays]] [--example-seed N]
    symbp generate [SPEC] -o OUT.py
    symbp html     [SPEC] -o OUT.html         the article as one web page (MathML, no script)
    symbp check    [SPEC]                    proof by expansion + finite-difference check
    symbp verify   [SPEC] --claim 'CLAIM'    check a hand derivation (also --claims, --tex)

Without SPEC the lecture's network is used.  Exit status: 0 done (verify: every claim correct),
1 a check or claim failed or pdflatex failed, 2 bad input (one line on stderr naming the fault),
3 an internal error of symbp (one line; please report it), 4 verify: a claim it cannot check,
130 interrupted, 141 output pipe closed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from . import __version__
from .catalog.losses import SCALES
from .derivation.derive import derive
from .errors import SpecError, SymbpError
from .escape import one_line
from .output import backends
from .output.document import document_source
from .output.files import PDF_MARK, default_command, existing_mode, seal, write
from .output.html import page_source
from .output.module import module_source
from .output.report import render_chains
from .output.worked import load_choice, parse_choice
from .proof.check import TOLERANCE, check, widths_note
from .proof.expansion import proof_spec
from .spec.model import LAYOUTS, RECURRENT, Spec, lecture_spec, load
from .verify.chains import TEX_SECONDS, judge_steps
from .verify.compare import tex_steps, verify


def _shown(path: str) -> str:
    """A path as it should appear in a generated header: relative to the working directory."""
    rel = os.path.relpath(Path(path).resolve(), Path.cwd())
    return rel if not rel.startswith("..") else str(path)


def _spec(args) -> Spec:
    return load(args.spec) if args.spec else lecture_spec()


def _command(args, out: str, *extra: str) -> str:
    return default_command(
        args.command, _shown(args.spec) if args.spec else None, _shown(out), extra
    )


def _output(path: str, suffix: str, verb: str) -> Path:
    """`-o PATH` of a writing command, which must end in `suffix` (so that, say, LaTeX never
    lands in a .py file)."""
    if Path(path).suffix.lower() != suffix:
        raise SymbpError(
            f"-o {path}: symbp {verb} writes a {suffix} file; give a file name ending in {suffix}"
        )
    return Path(path)


def _wrote(path, changed: bool = True) -> None:
    print(f"{'wrote' if changed else 'unchanged'} {one_line(str(path))}")


def _derive(args) -> int:
    derivation = derive(_spec(args))
    print(derivation)
    if args.steps:
        print("\nstep by step (one sample):")
        print(render_chains(derivation))
    return 0


def _latex(args) -> int:
    spec = _spec(args)  # a bad spec is named first, then a bad -o, before any derivation
    output = _output(args.output, ".tex", "latex")
    extra = ["--beamer"] * args.beamer + ["--convexity"] * args.convexity
    extra += ["--overlays"] * args.overlays + _example_flags(args)
    text = document_source(
        spec,
        beamer=args.beamer,
        command=_command(args, args.output, *extra),
        convexity=args.convexity,
        overlays=args.overlays,
        example=_example_choice(args),
    )
    if args.pdf:
        existing_mode(output.with_suffix(".pdf"), args.force)  # refuse now, not after the write
    _wrote(output, write(output, text, force=args.force))
    if args.pdf:
        _wrote(compile_pdf(output, force=args.force))
    return 0


def _html(args) -> int:
    spec = _spec(args)  # a bad spec is named first, then a bad -o, before any derivation
    output = _output(args.output, ".html", "html")
    extra = ["--convexity"] * args.convexity
    text = page_source(spec, _command(args, args.output, *extra), convexity=args.convexity)
    _wrote(output, write(output, text, force=args.force))
    return 0


def _example_choice(args):
    """The worked example's numbers the options choose (`worked.ExampleChoice`), or False."""
    seed = args.example_seed
    if seed is not None and not 0 <= seed < 2**32:
        raise SymbpError(f"--example-seed must be an integer from 0 to 2**32 - 1, got {seed}")
    if args.no_example:
        if args.example_seed is not None or args.example_values:
            raise SymbpError(
                "--no-example leaves the worked example out; drop --example-seed and "
                "--example-values, or --no-example"
            )
        return False
    if args.example_values:
        choice = load_choice(args.example_values, args.example_seed)
        return replace(choice, origin=_shown(args.example_values))
    return parse_choice({}, None, args.example_seed if args.example_seed is not None else 0)


def _example_flags(args) -> list[str]:
    """The worked-example options as the header's command repeats them."""
    flags = ["--no-example"] * args.no_example
    if args.example_seed is not None:
        flags += ["--example-seed", str(args.example_seed)]
    if args.example_values:
        flags += ["--example-values", _shown(args.example_values)]
    return flags


PDFLATEX_SECONDS = 300


def compile_pdf(tex: Path, force: bool = False) -> Path:
    """Compile `tex` with pdflatex into `tex` with suffix .pdf, written as `files.write` writes
    (hash stamped in the PDF's information dictionary; never over a file symbp did not write,
    unless `force`).  pdflatex runs in a scratch directory on a copy named document.tex, with
    shell escape off and file access restricted to that directory.  LaTeX errors raise
    LatexError."""
    tex = Path(tex)
    target = tex.with_suffix(".pdf")
    existing_mode(target, force)
    pdflatex = shutil.which("pdflatex")
    if not pdflatex:
        raise SymbpError(
            "--pdf needs pdflatex on PATH (Debian: apt-get install texlive-latex-base)"
        )
    source = tex.read_bytes()
    with tempfile.TemporaryDirectory(prefix="symbp-") as tmp:
        work = Path(tmp)
        (work / "document.tex").write_bytes(source)
        for _ in range(2):  # twice, so that references settle
            _run_pdflatex(pdflatex, work, tex)
        pdf = seal((work / "document.pdf").read_bytes())
    write(target, pdf, force=force)
    return target


def _run_pdflatex(pdflatex: str, work: Path, shown: Path) -> None:
    """One pdflatex run on `work`/document.tex, in `work`, stamp mark in its metadata."""
    env = {**os.environ, "openin_any": "p", "openout_any": "p", "shell_escape": "f"}
    env.pop("TEXMFOUTPUT", None)  # paranoid mode would let pdflatex write there too
    argv = [
        pdflatex,
        "-no-shell-escape",
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-jobname=document",
        rf"\pdfinfo{{{PDF_MARK}}}\input{{document.tex}}",
    ]
    try:
        run = subprocess.run(
            argv,
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PDFLATEX_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise LatexError(
            f"pdflatex did not finish on {one_line(str(shown))} in {PDFLATEX_SECONDS} s"
        ) from None
    if run.returncode != 0:
        errors = [line for line in run.stdout.splitlines() if line.startswith("!")]
        raise LatexError(
            f"pdflatex failed on {one_line(str(shown))}: {'; '.join(errors) or run.stdout[-500:]}"
        )


class LatexError(Exception):
    """pdflatex reported an error (exit status 1: the emitted document is wrong, not the input)."""


def _generate(args) -> int:
    spec = _spec(args)
    output = _output(args.output, ".py", "generate")
    extra = [] if args.backend == backends.DEFAULT else ["--backend", args.backend]
    text = module_source(spec, _command(args, args.output, *extra), args.backend)
    _wrote(output, write(output, text, force=args.force))
    return 0


def _check(args) -> int:
    spec = _spec(args)
    report = check(spec, max_width=args.max_width)
    if report.proof_shapes:  # feature maps: their shapes say more than their sizes
        at = "shapes " + "-".join("x".join(map(str, s)) for s in report.proof_shapes)
    else:
        at = "widths " + "-".join(map(str, report.proof_widths))
    if spec.is_recurrent:
        at += f" over T = {proof_spec(spec, args.max_width).steps} steps"
        print(f"proof by expansion at {at}, every sigma an undefined function with its sigma':")
    else:
        print(f"proof by expansion at {at}, every sigma_j an undefined function:")
    if note := widths_note(report):
        print(f"  ({note})")
    for c in report.checks:
        if c.ok is None:
            print(f"  skip {c.what}")
            continue
        print(
            f"  {'ok  ' if c.ok else 'FAIL'} {c.what}: {c.entries} entr{'y' if c.entries == 1 else 'ies'}"
        )
    numeric = report.numeric
    if numeric.error is None:
        print(f"  skip {numeric.what}: {numeric.note}")
    else:
        print(
            f"  {'ok  ' if numeric.ok else 'FAIL'} {numeric.what}: "
            f"max relative error {numeric.error:.2e} (tolerance {TOLERANCE:.0e})"
        )
        if numeric.note:
            print(f"       note: {numeric.note}")
    if report.gradient_norms:
        print(gradient_norms_table(report.gradient_norms))
    if report.step_norms:
        print(step_norms_table(report.step_norms))
    if not report.ok:
        print("CHECK FAILED")
    else:
        print(
            "checks passed, but not everything was checked in full (skip)"
            if report.skipped
            else "all checks passed"
        )
    return 0 if report.ok else 1


def gradient_norms_table(rows) -> str:
    """`proof.check.gradient_norms` as a table: one line per layer, one column per parameter
    (W, b; Wxh, Whh, bhh of a recurrent layer), "-" where a layer has no such parameter."""
    stems = list(dict.fromkeys(row.param.rstrip("0123456789") for row in rows))
    norms = {(row.layer, row.param.rstrip("0123456789")): row.norm for row in rows}
    lines = [
        "gradient norms ||df/dparam||_F at initialisation (init_params(seed=0)), on the check's "
        "data:",
        "  layer" + "".join(f"{stem:>10}" for stem in stems),
    ]
    for layer in dict.fromkeys(row.layer for row in rows):
        cells = (norms.get((layer, stem)) for stem in stems)
        lines.append(
            f"  {layer:5d}" + "".join(f"{'-' if n is None else f'{n:.2e}':>10}" for n in cells)
        )
    return "\n".join(lines)


def step_norms_table(rows) -> str:
    """`proof.check.step_norms` as lines: per recurrent layer, ||delta_t||_F (and the LSTM's
    ||deltac_t||_F) at the first two, the middle and the last two steps (every step when
    T <= 7); vanishing gradients are norms that shrink towards t = 1."""
    T = len(rows[0].delta)
    steps = list(range(T)) if T <= 7 else [0, 1, T // 2, T - 2, T - 1]
    header = "".join(f"{f't={t + 1}':>10}" for t in steps)
    lines = [
        f"adjoint norms per time step at initialisation, on the check's data (T = {T}):",
        f"  layer {'':<14}{header}",
    ]
    for row in rows:
        for name, values in (("||delta_t||_F", row.delta), ("||deltac_t||_F", row.cell)):
            if values is not None:
                cells = "".join(f"{values[t]:>10.2e}" for t in steps)
                lines.append(f"  {row.layer:5d} {name:<14}{cells}")
    return "\n".join(lines)


MAX_INPUT_BYTES = 4 * 2**20  #: the largest --claims or --tex file verify reads


def _read(path: str) -> str:
    """A regular file of at most `MAX_INPUT_BYTES`, as text (no FIFO, device or /dev/zero)."""
    shown = one_line(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise SymbpError(f"{shown} is not a regular file; give a .tex or text file")
        with open(path, "rb") as file:
            data = file.read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            raise SymbpError(f"{shown} is larger than {MAX_INPUT_BYTES // 2**20} MB; split it")
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SymbpError(f"cannot read {shown}: {exc}") from None


def _verify(args) -> int:
    """Exit status: that of the most severe verdict, in this order: cannot parse (2), cannot
    check (4), WRONG (1), correct (0); an internal error is 3 (`main`)."""
    verdicts = {  # status -> (label printed, exit status), most severe first
        "unparsable": ("cannot parse", 2),
        "unsupported": ("cannot check", 4),
        "wrong": ("WRONG", 1),
        "correct": ("correct", 0),
    }
    spec = _conventions(_spec(args), args)
    recurrent = next((i for i, x in enumerate(spec.layers) if x.kind in RECURRENT), None)
    if recurrent is not None:
        raise SpecError(
            f"layers[{recurrent}].type",
            "verify does not read derivations of recurrent layers yet (BPTT); "
            "check the network itself with symbp check",
            spec.source,
        )
    claims = [(None, c) for c in args.claim or []]
    if args.claims:
        lines = _read(args.claims).splitlines()
        claims += [
            (i, ln)
            for i, ln in enumerate(lines, 1)
            if ln.strip() and not ln.lstrip().startswith(("#", "%"))
        ]
    steps = tex_steps(_read(args.tex)) if args.tex else []
    if args.tex and not steps and not claims:
        raise SymbpError(
            f"{args.tex}: no equation about δ, ζ, Δ or ∂f/∂… in its align or equation "
            "environments; nothing to verify"
        )
    if not claims and not steps:
        raise SymbpError("nothing to verify: give --claim 'lhs = rhs', --claims FILE or --tex FILE")
    if steps and not args.spec:  # a student's derivation is rarely about the lecture's network
        print(
            "symbp: note: no SPEC given, so the derivation is checked against the lecture's "
            f"network (widths {'-'.join(map(str, spec.widths))}); give its network's spec "
            "first: symbp verify SPEC --tex FILE",
            file=sys.stderr,
        )
    statuses = set()
    for line, claim in claims:
        verdict = verify(spec, claim)
        statuses.add(verdict.status)
        where = f"line {line}: " if line is not None else ""
        print(f"{where}{verdicts[verdict.status][0]}: {_abridged(claim)}")
        print(f"    {verdict.message}")
        if args.show_point and verdict.point:
            print(f"    at {verdict.point}")
    reports = judge_steps(spec, steps, seconds=args.seconds) if steps else []
    for report in reports:
        statuses.add(report.verdict.status)
        print(_step_line(report, verdicts[report.verdict.status][0]))
    if reports:
        print(_steps_summary(reports, len(steps)))
    if len(reports) < len(steps):
        statuses.add("unsupported")
        print(_unchecked(steps[len(reports) :], len(steps), args.seconds))
    return next(code for status, (_, code) in verdicts.items() if status in statuses)


def _step_line(report, label: str) -> str:
    """One line for one '=' of a derivation: where, the verdict (and what it means in its
    chain), the claim, and the reason unless it is correct."""
    verdict, note = report.verdict, f" ({report.note})" if report.note else ""
    reason = "" if verdict.status == "correct" else f" — {verdict.message}"
    return f"line {report.step.line}: {label}{note}: {_abridged(verdict.claim)}{reason}"


def _abridged(claim: str, limit: int = 300) -> str:
    """A claim as echoed under its verdict: cut to `limit` characters (a 5 MB line is not
    printed back)."""
    return claim if len(claim) <= limit else f"{claim[: limit - 1]}… ({len(claim)} characters)"


def _unchecked(left, total: int, seconds: float) -> str:
    """The one line for the steps of a --tex run that its time budget left unchecked."""
    lines = f"line {left[0].line}" if len(left) == 1 else f"lines {left[0].line}–{left[-1].line}"
    return (
        f"not checked: {len(left)} of {total} steps ({lines}), after the run's {seconds:g} s "
        "of CPU time (--seconds)"
    )


def _steps_summary(reports, total: int) -> str:
    """The derivation's count of correct steps (of its `total`) and the line of its first
    wrong one."""
    correct = sum(r.verdict.status == "correct" for r in reports)
    wrong = [r.step.line for r in reports if r.verdict.status == "wrong"]
    first = f"; first wrong step on line {wrong[0]}" if wrong else ""
    return f"derivation: {correct} of {total} steps correct{first}"


def _conventions(spec: Spec, args) -> Spec:
    """`spec` with the conventions given on the command line (they override the spec's)."""
    if args.loss_scale is not None:
        spec = replace(spec, loss_scale=args.loss_scale)
    if args.layout is not None:
        spec = replace(spec, layout=args.layout)
    return spec


def _positive_seconds(text: str) -> float:
    """--seconds: a positive finite number of seconds."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{one_line(text)!r} is not a positive number of seconds")
    return seconds


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors take one line (`symbp verb: error: ...; see --help`), exit 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="symbp", description=__doc__.splitlines()[0])
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
    p.add_argument(
        "--overlays",
        action="store_true",
        help="slides that build up: each chain one equality at a time, the recursion one layer "
        "at a time (with --beamer)",
    )
    p.add_argument(
        "--example-seed",
        type=int,
        help="the seed that draws the worked example's numbers (default 0)",
    )
    p.add_argument(
        "--example-values",
        metavar="FILE",
        help="a TOML file of the worked example's numbers: x, y, W1, b1, ..., lr, seed "
        '(numbers or strings such as "3/4"; the rest drawn from the seed)',
    )
    p.add_argument("--no-example", action="store_true", help="leave the worked example out")
    p.add_argument("--force", action="store_true", help="overwrite a file symbp did not write")
    p = command("html", _html, "write the derivation as one self-contained web page")
    p.add_argument("-o", "--output", required=True, help="the .html file to write")
    p.add_argument(
        "--convexity",
        action="store_true",
        help="add the two-layer example showing ERM is not jointly convex (deep linear specs)",
    )
    p.add_argument("--force", action="store_true", help="overwrite a file symbp did not write")
    p = command("generate", _generate, "write a standalone training module (NumPy, PyTorch or JAX)")
    p.add_argument("-o", "--output", required=True, help="the .py file to write")
    p.add_argument(
        "--backend",
        choices=sorted(backends.BACKENDS),
        default=backends.DEFAULT,
        help="the array library of the emitted module (default numpy; torch and jax: a "
        "torch.autograd.Function / jax.custom_vjp with the derived backward pass)",
    )
    p.add_argument("--force", action="store_true", help="overwrite a file symbp did not write")
    p = command("verify", _verify, "check hand-written claims (LaTeX or SymPy-style) against it")
    p.add_argument(
        "--claim",
        action="append",
        help="one claim, e.g. '\\delta_2 = (W_3^T \\delta_3) \\circ \\sigma'_2'",
    )
    p.add_argument("--claims", help="a file of claims, one per line")
    p.add_argument(
        "--show-point",
        action="store_true",
        help="print a counterexample's point (every weight, input and target) under its verdict",
    )
    p.add_argument(
        "--tex",
        help="a LaTeX file: every '=' of its chains about delta, zeta, df/d... in align/equation "
        "blocks, one line per step, the first wrong step named",
    )
    p.add_argument(
        "--seconds",
        type=_positive_seconds,
        default=TEX_SECONDS,
        help=f"CPU seconds for all the steps of --tex (default {TEX_SECONDS:g}); the steps left "
        "when they run out are named in one line",
    )
    p.add_argument(
        "--loss-scale",
        choices=tuple(SCALES),
        help="the loss's factor, as the claims use it: 1/2 for (1/2)||y - z||^2, 1/d_J for a mean "
        "over the output units (default: the spec's loss_scale, 1)",
    )
    p.add_argument(
        "--layout",
        choices=LAYOUTS,
        help="rows: claims put samples as rows (z^T W, X^T Delta, W_j of shape d_{j-1} x d_j); "
        "default: the spec's layout, columns",
    )
    p = command("check", _check, "prove the derivation and test the emitted gradients")
    p.add_argument("--max-width", type=int, default=None, help="widths used by the proof")
    return top


def main(argv=None) -> int:
    """Run the command line; every failure ends in one line on stderr and a status (see top)."""
    _tolerate_unencodable_output()
    try:
        args = parser().parse_args(argv)
        status = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except SymbpError as exc:
        return _fail(f"symbp: error: {exc}", 2)
    except LatexError as exc:
        return _fail(f"symbp: error: {exc}", 1)
    except BrokenPipeError:
        _discard_stdout()
        return 141
    except OSError as exc:
        return _fail(f"symbp: error: {exc}", 2)
    except KeyboardInterrupt:
        return _fail("symbp: interrupted", 130)
    except Exception as exc:  # a bug in symbp: one line, never a traceback
        what = f"{type(exc).__name__}: {exc}"
        if len(what) > 300:
            what = what[:300] + "..."
        return _fail(f"symbp: internal error: {what}; please report it with the command you ran", 3)


def _fail(message: str, status: int) -> int:
    """Print `message` to stderr on one line; return `status`."""
    try:
        print(one_line(message), file=sys.stderr)
    except (OSError, ValueError):
        pass  # stderr itself is gone: the status still tells
    return status


def _tolerate_unencodable_output() -> None:
    """On a terminal that cannot encode some character (PYTHONIOENCODING=ascii, a Latin-1
    locale), print it as a backslash escape instead of failing."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass


def _discard_stdout() -> None:
    """After the reader of stdout went away: send the rest to /dev/null, so that Python's final
    flush does not report the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
