"""Shared fixtures: the repository layout, example specs, generated modules loaded once, and
the command line run in-process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from hypothesis import settings

import symbp
from symbp import cli as symbp_cli
from symbp.proof.check import load_module

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


@cache
def module_for(spec: symbp.Spec):
    """The emitted module for `spec`, imported (cached: emission costs a SymPy derivation)."""
    return load_module(symbp.generate_module(spec), spec.name)


def check_report(spec: symbp.Spec, max_width: int | None = None) -> symbp.Report:
    """`symbp.check(spec, max_width)`, computed once per session: its proof by expansion takes
    seconds, and tests that only read the (immutable) report share it.  Never call it while
    symbp is monkeypatched."""
    return _check_report(spec, max_width)  # one cache entry however max_width is passed


@cache
def _check_report(spec: symbp.Spec, max_width: int | None) -> symbp.Report:
    return symbp.check(spec, max_width=max_width)


@pytest.fixture(params=EXAMPLES, ids=lambda p: p.stem)
def example(request) -> Path:
    return request.param


@dataclass(frozen=True)
class CliRun:
    """What one in-process `symbp` run left: like subprocess.CompletedProcess (text mode)."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def exit_status(code) -> int:
    """The process status `sys.exit(code)` would give: None is 0, an integer itself, anything
    else (a message, which Python prints) 1."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


@pytest.fixture
def symbp_main(capsys, monkeypatch):
    """`symbp_main(*args, cwd=None)` runs `symbp.cli.main(args)` in this process and returns a
    `CliRun`: the status `python3 -m symbp ARGS` would exit with (main's return value, or the
    code of a SystemExit from argparse), and what it printed to stdout and stderr.  Arguments
    are converted with str, as a subprocess's would be; `cwd` changes the working directory
    for the rest of the test (monkeypatch restores it)."""

    def run(*args, cwd=None) -> CliRun:
        argv = [str(a) for a in args]
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()  # only this run's output
        try:
            status = symbp_cli.main(argv)
        except SystemExit as exc:
            status = exit_status(exc.code)
        out, err = capsys.readouterr()
        return CliRun(tuple(argv), status, out, err)

    return run


# CI explores a fixed set of hypothesis examples (reproducible runs); locally they vary.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
