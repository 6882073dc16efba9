"""Shared fixtures: the repository layout, example specs, and generated modules loaded once."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pytest
from hypothesis import settings

import symbp
from symbp.proof.check import load_module

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


@cache
def module_for(spec: symbp.Spec):
    """The emitted module for `spec`, imported (cached: emission costs a SymPy derivation)."""
    return load_module(symbp.generate_module(spec), spec.name)


@pytest.fixture(params=EXAMPLES, ids=lambda p: p.stem)
def example(request) -> Path:
    return request.param


# CI explores a fixed set of hypothesis examples (reproducible runs); locally they vary.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
