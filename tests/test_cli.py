"""Every CLI command runs; bad input gives one line naming the field, exit status 2.

Most tests run `symbp.cli.main` in this process (the `symbp_main` fixture); each command also
runs once as `python3 -m symbp` in a subprocess, and what only a real process shows (a closed
pipe) is tested there too."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import pytest

from symbp import cli

from .conftest import ROOT, check_report


def _subcommands() -> set[str]:
    """The subcommands `symbp --help` lists."""
    (listed,) = re.findall(r"\{([a-z,]+)\}", cli.parser().format_help().split("\n\n")[0])
    return set(listed.split(","))


def _this_checkout() -> dict[str, str]:
    """The environment for a `python3 -m symbp` child that imports this checkout's symbp (not
    an installed one), whatever its working directory."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def _in_a_process(*args, cwd):
    """`python3 -m symbp ARGS` run in `cwd`."""
    return subprocess.run(
        [sys.executable, "-m", "symbp", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_this_checkout(),
        timeout=600,
    )


# One subprocess run per command: (arguments after the command, a line its output must hold,
# the file it must write); the spec is the cheapest example that exercises the command.
AS_A_PROCESS = {
    "derive": ([], "δ₂ = (W₃ᵀ δ₃) ∘ σ′₂", None),
    "check": ([ROOT / "examples" / "perceptron.toml"], "all checks passed", None),
    "generate": (["-o", "net.py"], "wrote net.py", "net.py"),
    "latex": (["-o", "net.tex"], "wrote net.tex", "net.tex"),
    "html": (["-o", "net.html"], "wrote net.html", "net.html"),
    "verify": (["--claim", r"\delta_2 = (W_3^T \delta_3) \circ \sigma'_2"], "correct: ", None),
}


def test_every_subcommand_has_a_subprocess_run():
    assert _subcommands() == set(AS_A_PROCESS)


@pytest.mark.parametrize("command", sorted(AS_A_PROCESS))
def test_each_command_runs_as_python_m_symbp(tmp_path, command):
    args, line, written = AS_A_PROCESS[command]
    run = _in_a_process(command, *args, cwd=tmp_path)
    assert run.returncode == 0 and run.stderr == "", run.stdout + run.stderr
    assert line in run.stdout, run.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ([written] if written else [])
    if written:
        assert "symbp-sha256" in (tmp_path / written).read_text()


def test_derive_default_is_the_lecture_network(symbp_main):
    run = symbp_main("derive")
    assert run.returncode == 0, run.stderr
    for line in (
        "δ₃ = 2(z₃ − y) ∘ σ′₃",
        "δ₂ = (W₃ᵀ δ₃) ∘ σ′₂",
        "∂f/∂W₁ = δ₁ z₀ᵀ",
        "σ′₁ = z₁ ∘ (1 − z₁)",
    ):
        assert line in run.stdout


def test_derive_check_generate_latex_on_an_example(tmp_path, monkeypatch, symbp_main):
    monkeypatch.setattr(cli, "check", check_report)  # the report test_check computed
    spec = ROOT / "examples" / "deep_mlp.toml"
    assert symbp_main("derive", spec).returncode == 0
    run = symbp_main("check", spec)
    assert run.returncode == 0 and "all checks passed" in run.stdout, run.stdout + run.stderr
    run = symbp_main("generate", spec, "-o", tmp_path / "m.py")
    assert run.returncode == 0 and (tmp_path / "m.py").exists()
    run = symbp_main("latex", spec, "-o", tmp_path / "m.tex", "--pdf")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "m.pdf").read_bytes().startswith(b"%PDF")
    run = symbp_main("latex", spec, "-o", tmp_path / "s.tex", "--beamer", "--pdf")
    assert run.returncode == 0, run.stderr
    assert r"\documentclass{beamer}" in (tmp_path / "s.tex").read_text()


def test_generate_refuses_to_overwrite_edited_or_foreign_files(tmp_path, symbp_main):
    out = tmp_path / "net.py"
    assert symbp_main("generate", "-o", out).returncode == 0
    assert symbp_main("generate", "-o", out).returncode == 0  # unchanged symbp output: fine
    out.write_text(out.read_text() + "# my tweak\n")
    run = symbp_main("generate", "-o", out)
    assert run.returncode == 2 and "edited" in run.stderr and "--force" in run.stderr
    assert out.read_text().endswith("# my tweak\n")
    foreign = tmp_path / "mine.py"
    foreign.write_text("print('hello')\n")
    run = symbp_main("generate", "-o", foreign)
    assert run.returncode == 2 and "not written by symbp" in run.stderr
    assert foreign.read_text() == "print('hello')\n"
    assert symbp_main("generate", "-o", foreign, "--force").returncode == 0
    assert "symbp-sha256" in foreign.read_text()


def test_latex_refuses_to_overwrite_a_hand_written_file(tmp_path, symbp_main):
    out = tmp_path / "notes.tex"
    out.write_text("\\documentclass{article}\n")
    run = symbp_main("latex", "-o", out)
    assert run.returncode == 2 and "not written by symbp" in run.stderr


def test_pdf_failure_is_loud(tmp_path, monkeypatch):
    from symbp.cli import LatexError, compile_pdf

    bad = tmp_path / "bad.tex"
    bad.write_text("\\documentclass{article}\\begin{document}$\\frac{1}{$\\end{document}\n")
    with pytest.raises(LatexError, match="pdflatex failed"):
        compile_pdf(bad)


BAD_SPECS = [
    ("missing.toml", None, "spec file not found"),
    ("syntax.toml", 'name = "x"\ninput = 3\n[[layers]\nunits = 2\n', "line 3"),
    (
        "act.toml",
        'name = "x"\ninput = 3\n[[layers]]\nunits = 2\nactivation = "sigmod"\n',
        "layers[0] (layer 1).activation",
    ),
    (
        "loss.toml",
        'name = "x"\ninput = 3\nloss = "hinge"\n[[layers]]\nunits = 2\n',
        "loss: unknown value 'hinge'",
    ),
    ("red.toml", 'name = "x"\ninput = 3\nreduction = "max"\n[[layers]]\nunits = 2\n', "reduction"),
    (
        "zero.toml",
        'name = "x"\ninput = 3\n[[layers]]\nunits = 0\n',
        "layers[0] (layer 1).units: width must be positive",
    ),
    (
        "neg.toml",
        'name = "x"\ninput = -3\n[[layers]]\nunits = 2\n',
        "input: width must be positive",
    ),
    ("frac.toml", 'name = "x"\ninput = 3\n[[layers]]\nunits = 2.5\n', "whole number"),
    ("nolayers.toml", 'name = "x"\ninput = 3\n', "layers: missing required field"),
    ("noname.toml", "input = 3\n[[layers]]\nunits = 2\n", "name: missing required field"),
    (
        "nounits.toml",
        'name = "x"\ninput = 3\n[[layers]]\nactivation = "tanh"\n',
        "layers[0] (layer 1).units: missing",
    ),
    (
        "type.toml",
        'name = "x"\ninput = 3\nbias = "yes"\n[[layers]]\nunits = 2\n',
        "bias: expected true or false",
    ),
    (
        "ident.toml",
        'name = "my-net"\ninput = 3\n[[layers]]\nunits = 2\n',
        "not a Python identifier",
    ),
    (
        "unknown.toml",
        'name = "x"\ninput = 3\nlayer = 2\n[[layers]]\nunits = 2\n',
        "layer: unknown field",
    ),
    (
        "evil.toml",
        'name = "x"\ninput = "__import__(\'os\')"\n[[layers]]\nunits = 2\n',
        "not a valid width symbol",
    ),
    ("binary.toml", b"\xff\xfe\x00garbage", "cannot read spec file"),
    (
        "softmax_hidden.toml",
        'name = "x"\ninput = 3\nloss = "cross_entropy"\n[[layers]]\nunits = 2\nactivation = "softmax"\n'
        '[[layers]]\nunits = 2\nactivation = "softmax"\n',
        "layers[0] (layer 1).activation: softmax is supported on the output layer only",
    ),
    (
        "ce_output.toml",
        'name = "x"\ninput = 3\nloss = "cross_entropy"\n[[layers]]\nunits = 2\nactivation = "tanh"\n',
        "layers[0] (layer 1).activation: loss 'cross_entropy' needs a softmax output layer",
    ),
    (
        "bce_output.toml",
        'name = "x"\ninput = 3\nloss = "binary_cross_entropy"\n[[layers]]\nunits = 1\nactivation = "relu"\n',
        "needs a sigmoid output layer",
    ),
    (
        "unsafe.toml",
        'name = "x"\ninput = 3\n[[layers]]\nunits = 2\n'
        "activation = { name = \"evil\", expr = \"__import__('os').system('rm -rf /')\" }\n",
        "layers[0] (layer 1).activation.expr: cannot parse at column",
    ),
    (
        "dunder.toml",
        'name = "x"\ninput = 3\n[[layers]]\nunits = 2\nactivation = { name = "evil", expr = "t.__class__" }\n',
        "layers[0] (layer 1).activation.expr: cannot parse at column 2",
    ),
    (
        "unknownfn.toml",
        'name = "x"\ninput = 3\n[[layers]]\nunits = 2\nactivation = { name = "f", expr = "eval(t)" }\n',
        "unknown function 'eval' at column 1",
    ),
    (
        "undefined.toml",
        'name = "x"\ninput = 3\n[[layers]]\nunits = 2\nactivation = { name = "lg", expr = "log(t)" }\n',
        "is undefined at t = -5",
    ),
    (
        "customname.toml",
        'name = "x"\ninput = 3\n[[layers]]\nunits = 2\nactivation = { name = "relu", expr = "t" }\n',
        "layers[0] (layer 1).activation.name",
    ),
    (
        "noexpr.toml",
        'name = "x"\ninput = 3\n[[layers]]\nunits = 2\nactivation = { name = "q" }\n',
        "layers[0] (layer 1).activation.expr: missing or not a string",
    ),
]


@pytest.mark.parametrize("filename, content, message", BAD_SPECS, ids=[b[0] for b in BAD_SPECS])
@pytest.mark.parametrize("command", ["derive", "check", "latex", "generate"])
def test_bad_specs_fail_cleanly(tmp_path, symbp_main, filename, content, message, command):
    path = tmp_path / filename
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    extra = ["-o", tmp_path / "out"] if command in ("latex", "generate") else []
    run = symbp_main(command, path, *extra)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr and message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_generate_refuses_a_multilayer_step_network(tmp_path, symbp_main):
    spec = tmp_path / "steps.toml"
    spec.write_text(
        'name = "s"\ninput = 2\n[[layers]]\nunits = 3\nactivation = "step"\n'
        '[[layers]]\nunits = 1\nactivation = "sigmoid"\n'
    )
    assert symbp_main("derive", spec).returncode == 0
    run = symbp_main("generate", spec, "-o", tmp_path / "s.py")
    assert run.returncode == 2 and "layers[0] (layer 1).activation" in run.stderr
    assert "single-layer perceptron" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "s.py").exists()


def test_convexity_flag(tmp_path, symbp_main):
    spec = ROOT / "examples" / "deep_linear.toml"
    run = symbp_main("latex", spec, "--convexity", "-o", tmp_path / "c.tex")
    assert run.returncode == 0 and "not jointly convex" in (tmp_path / "c.tex").read_text()
    run = symbp_main("latex", "--convexity", "-o", tmp_path / "d.tex")
    assert run.returncode == 2 and "deep linear" in run.stderr


def test_symbolic_width_is_refused_by_generate_only(tmp_path, symbp_main):
    spec = tmp_path / "sym.toml"
    spec.write_text(
        'name = "sym"\ninput = "d_0"\n[[layers]]\nunits = "d_1"\n[[layers]]\nunits = 2\n'
    )
    assert symbp_main("derive", spec).returncode == 0
    assert symbp_main("latex", spec, "-o", tmp_path / "s.tex").returncode == 0
    run = symbp_main("generate", spec, "-o", tmp_path / "s.py")
    assert run.returncode == 2 and "input: generate needs a concrete width" in run.stderr


@pytest.mark.parametrize(
    "command, output, wanted",
    [("latex", "gen.py", ".tex"), ("generate", "net.tex", ".py"), ("latex", "notes", ".tex")],
)
def test_writing_commands_check_the_output_extension(tmp_path, symbp_main, command, output, wanted):
    run = symbp_main(command, "-o", tmp_path / output)
    assert run.returncode == 2 and f"ending in {wanted}" in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "error",
    [ZeroDivisionError("boom\nsecond line"), RecursionError("deep"), KeyError("k"), MemoryError()],
    ids=lambda e: type(e).__name__,
)
def test_an_internal_error_is_one_line_and_exit_3(monkeypatch, capsys, error):
    from symbp import cli

    def broken(spec):
        raise error

    monkeypatch.setattr(cli, "derive", broken)
    assert cli.main(["derive"]) == 3
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"symbp: internal error: {type(error).__name__}")
    assert err.strip().endswith("please report it with the command you ran")


def test_an_error_naming_a_path_with_a_newline_stays_on_one_line(tmp_path, symbp_main):
    run = symbp_main("derive", tmp_path / "no\nsuch.toml")
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "no\\x0asuch.toml" in run.stderr


def test_a_closed_pipe_ends_quietly():
    child = subprocess.Popen(
        [sys.executable, "-m", "symbp", "derive", "--steps"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_this_checkout(),
    )
    child.stdout.close()  # the reader goes away before symbp writes (as `| head -0` would)
    err = child.stderr.read()
    assert child.wait(timeout=120) == 141 and err == b"", err.decode(errors="replace")


def _run_on_a_terminal(monkeypatch, encoding: str, *args: str) -> tuple[int, bytes, bytes]:
    """`main(args)` with stdout and stderr text streams in `encoding` that refuse what it cannot
    encode (as PYTHONIOENCODING=ascii makes them): the status and the bytes written."""
    raw_out, raw_err = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(raw_out, encoding=encoding, errors="strict")
    err = io.TextIOWrapper(raw_err, encoding=encoding, errors="strict")
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", out)
        patch.setattr(sys, "stderr", err)
        status = cli.main(list(args))
        out.flush()
        err.flush()
    return status, raw_out.getvalue(), raw_err.getvalue()


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_terminal_that_cannot_show_unicode_gets_escapes(monkeypatch, tmp_path, encoding):
    status, out, err = _run_on_a_terminal(monkeypatch, encoding, "derive", "--steps")
    assert status == 0 and err == b"", err.decode(encoding)
    assert "\\u03b4" in out.decode(encoding) and "\\u2083" in out.decode(encoding)  # δ, ₃
    monkeypatch.chdir(tmp_path)
    status, _, err = _run_on_a_terminal(monkeypatch, encoding, "derive", "nö-δ.toml")
    assert status == 2 and b"UnicodeEncodeError" not in err, err.decode(encoding)
    assert len(err.splitlines()) == 1 and b"spec file not found" in err


def test_an_interrupt_is_one_line_and_exit_130(monkeypatch, capsys):
    from symbp import cli

    def interrupted(spec):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "derive", interrupted)
    assert cli.main(["derive"]) == 130
    assert capsys.readouterr().err == "symbp: interrupted\n"


@pytest.mark.parametrize(
    "args", [[], ["latex"], ["derive", "-x.toml"], ["check", "--max-width", "two"], ["nonsense"]]
)
def test_usage_errors_take_one_line(symbp_main, args):
    run = symbp_main(*args)
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 2 and len(lines) == 1, run.stderr
    assert lines[0].startswith("symbp") and ": error: " in lines[0] and "--help" in lines[0]
