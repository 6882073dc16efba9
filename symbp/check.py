"""`symbp check`: the proof by expansion plus the emitted module against finite differences."""

from __future__ import annotations

import importlib.util
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .budget import refuse_large_arrays
from .emit import module_source
from .proof import Check, prove, prove_activations
from .spec import Spec

TOLERANCE = 1e-6  #: float64 relative error allowed between emitted and finite-difference gradients


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]
    numeric_error: float | None  # None when the spec has symbolic widths

    @property
    def ok(self) -> bool:
        numeric_ok = self.numeric_error is None or self.numeric_error <= TOLERANCE
        return numeric_ok and all(c.ok for c in self.checks)


def load_module(source: str, name: str):
    """Import generated source as a module (written to a temporary file, then imported)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"symbp_generated_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def numeric_error(spec: Spec, samples: int = 5, seed: int = 0) -> float:
    """Max relative error of the emitted gradients against central differences (float64)."""
    module = load_module(module_source(spec), spec.name)
    rng = np.random.default_rng(seed)
    params = module.init_params(seed=seed)
    for key in params:  # non-zero biases, so that their gradients are exercised too
        params[key] += 0.1 * rng.standard_normal(params[key].shape)
    X = rng.standard_normal((spec.widths[0], samples))
    Y = rng.standard_normal((spec.widths[-1], samples))
    return module.check_gradients(params, X, Y)


def check(spec: Spec, max_width: int | None = None) -> Report:
    refuse_large_arrays(spec, "check")
    checks = tuple(prove_activations(spec) + prove(spec, max_width))
    error = numeric_error(spec) if spec.is_concrete else None
    return Report(checks, error)
