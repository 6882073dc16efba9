"""`symbp check`: the proof by expansion plus the emitted module against finite differences.

The numeric check draws its targets from the loss's declared domain (`losses.TargetDomain`):
the derivation may assume it (softmax with cross-entropy: each target column sums to one).
"""

from __future__ import annotations

import importlib.util
import math
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..budget import refuse_large_arrays
from ..catalog.losses import LOSSES
from ..derivation.lecture import frozen_layers
from ..output.module import module_source, truncates
from ..spec.model import Spec
from .expansion import Check, proof_spec, prove, prove_activations

TOLERANCE = 1e-6  #: float64 relative error allowed between emitted and finite-difference gradients
STEP = 1e-5  #: the step h of the central differences (the emitted finite_differences' default)
#: Round-off of one central difference, in units of float64 eps * |f| / h (measured: below 3 on
#: every example and on the 20-layer stacks of examples/vanishing/).
ROUND_OFF = 4.0


@dataclass(frozen=True)
class Numeric:
    """The numeric comparison run on the emitted module.  `error` is a max relative error
    (None: nothing compared, `note` says why); `note` also says what the module does instead
    when its update is not a gradient.  `unresolved`: params whose gradient is too small for
    central differences to check to `TOLERANCE` (they agree within the round-off instead;
    `unresolved_gradients`)."""

    what: str
    error: float | None
    note: str = ""
    unresolved: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None or self.error <= TOLERANCE


@dataclass(frozen=True)
class LayerNorm:
    """||d f / d param||_F of one parameter (`param`, e.g. "W3") of layer `layer`."""

    layer: int
    param: str
    norm: float


@dataclass(frozen=True)
class StepNorms:
    """A recurrent layer's adjoint norms per time step (the emitted `step_adjoint_norms`):
    ||delta_t||_F of d f / d a_t (`delta`) and, for an LSTM, ||deltac_t||_F of its cell state
    (`cell`, else None), entry t for step t + 1."""

    layer: int
    kind: str
    delta: tuple[float, ...]
    cell: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]
    numeric: Numeric
    spec_widths: tuple = ()  # d_0..d_J as the spec gives them
    proof_widths: tuple = ()  # the widths the proof by expansion ran at
    spec_shapes: tuple = ()  # z_0..z_J's shapes, where a layer makes feature maps
    proof_shapes: tuple = ()
    gradient_norms: tuple[LayerNorm, ...] = ()  # at the spec's initialisation (`gradient_norms`)
    step_norms: tuple[StepNorms, ...] = ()  # recurrent layers, at initialisation (`step_norms`)

    @property
    def numeric_error(self) -> float | None:
        return self.numeric.error

    @property
    def ok(self) -> bool:
        return self.numeric.ok and all(c.ok is not False for c in self.checks)

    @property
    def skipped(self) -> bool:
        """Some proof ran out of time, or some gradient was too small for central differences:
        `ok` then means only that nothing failed."""
        return any(c.ok is None for c in self.checks) or bool(self.numeric.unresolved)


def load_module(source: str, name: str):
    """Import generated source as a module (written to a temporary file, then imported)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"symbp_generated_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def sample_problem(spec: Spec, module, samples: int = 5, seed: int = 0):
    """params (non-zero biases too), X (d_0, samples) normal -- (T, d_0, samples) for sequences
    -- and Y from the loss's target domain."""
    rng = np.random.default_rng(seed)
    params = module.init_params(seed=seed)
    for key in params:  # non-zero biases, so that their gradients are exercised too
        params[key] += 0.1 * rng.standard_normal(params[key].shape)
    if not spec.is_recurrent:
        X = rng.standard_normal((spec.widths[0], samples))
        Y = LOSSES[spec.loss].sample_targets(rng, (spec.widths[-1], samples))
        return params, X, Y
    T = spec.steps or CHECK_STEPS  # sequences: X (T, d_0, N), Y (T, d_J, N) or (d_J, N)
    X = rng.standard_normal((T, spec.widths[0], samples))
    every_step = spec.sequences[-1]
    Y = LOSSES[spec.loss].sample_targets(rng, (spec.widths[-1], (T if every_step else 1) * samples))
    if every_step:
        Y = Y.reshape(spec.widths[-1], T, samples).transpose(1, 0, 2)
    return params, X, Y


CHECK_STEPS = 4  #: the sequences' length in the numeric check, when the spec leaves T open


GRADIENTS = "emitted gradients vs central differences"


def gradient_module(spec: Spec):
    """The emitted module of `spec`, imported, when its `gradients` are the derived gradients;
    None for symbolic widths (nothing is emitted) and for a step network (sigma' = 0 almost
    everywhere: no gradient to speak of)."""
    if not spec.is_concrete or frozen_layers(spec):
        return None
    return load_module(module_source(spec), spec.name)


def numeric_check(spec: Spec, samples: int = 5, seed: int = 0, module=None) -> Numeric:
    """Compare the emitted module's gradients with central differences of its loss.

    A step network (sigma' = 0 almost everywhere): its derived gradient is 0, compared with
    central differences of the emitted loss; the emitted update, Rosenblatt's rule, is not a
    gradient and is not compared.  Deeper step networks and symbolic widths emit no module.
    `module`: `gradient_module(spec)` when the caller has it already.
    """
    if not spec.is_concrete:
        return Numeric(GRADIENTS, None, "symbolic widths: no module is emitted")
    frozen = frozen_layers(spec)
    if frozen and spec.depth > 1:
        return Numeric(
            GRADIENTS,
            None,
            f"sigma' of layer {frozen} is 0 almost everywhere: generate emits a step only as a "
            "single-layer perceptron",
        )
    if truncates(spec):  # the truncated gradient is not f's: check the whole BPTT it cuts
        full = replace(spec, layers=tuple(_untruncated(x) for x in spec.layers))
        found = numeric_check(full, samples, seed)
        note = (
            "truncated BPTT (truncate) approximates the gradient by design: checked the same "
            "network's full BPTT, which truncation cuts"
        )
        return replace(found, note="; ".join(filter(None, (found.note, note))))
    module = module or load_module(module_source(spec), spec.name)
    params, X, Y = sample_problem(spec, module, samples, seed)
    numeric = module.finite_differences(params, X, Y, STEP)
    if frozen:
        zero = {key: np.zeros_like(value) for key, value in params.items()}
        return Numeric(
            "derived gradient 0 vs central differences of the emitted loss",
            module.max_relative_error(zero, numeric),
            "sigma' of the step is 0 almost everywhere; the emitted update is Rosenblatt's "
            "perceptron rule (sigma' replaced by 1), not a gradient, so it is not compared",
        )
    analytic = module.gradients(params, X, Y)
    unresolved = unresolved_gradients(analytic, numeric, module.loss(params, X, Y))
    error = module.max_relative_error(
        {k: v for k, v in analytic.items() if k not in unresolved},
        {k: v for k, v in numeric.items() if k not in unresolved},
    )
    return Numeric(GRADIENTS, error, unresolved_note(analytic, unresolved), tuple(unresolved))


def _untruncated(layer):
    return replace(layer, truncate=None) if getattr(layer, "truncate", None) else layer


def round_off(f: float, entries: int) -> float:
    """The Frobenius norm of the round-off error of the central differences of f (step `STEP`,
    float64) over a param of `entries` entries: `ROUND_OFF` * eps * |f| / h per entry."""
    return ROUND_OFF * float(np.finfo(np.float64).eps) * abs(f) / STEP * math.sqrt(entries)


def unresolved_gradients(analytic: dict, numeric: dict, f: float) -> list[str]:
    """The params central differences cannot check to `TOLERANCE`: both gradients smaller than
    round_off / TOLERANCE (vanishing gradients in a deep sigmoid stack, ~1e-12), and agreeing
    within round_off.  Every other param is compared to `TOLERANCE` as usual."""
    unresolved = []
    for key, a in analytic.items():
        n, limit = numeric[key], round_off(f, a.size)
        small = max(np.linalg.norm(a), np.linalg.norm(n)) < limit / TOLERANCE
        if small and np.linalg.norm(a - n) <= limit:
            unresolved.append(key)
    return unresolved


def unresolved_note(analytic: dict, unresolved: list[str]) -> str:
    """What `Numeric.note` says about the params `unresolved_gradients` left out ("" if none)."""
    if not unresolved:
        return ""
    norms = [float(np.linalg.norm(analytic[key])) for key in unresolved]
    names = ", ".join(unresolved) if len(unresolved) <= 4 else f"{unresolved[0]}..{unresolved[-1]}"
    return (
        f"{len(unresolved)} of {len(analytic)} params ({names}, gradient norms "
        f"{min(norms):.0e} to {max(norms):.0e}) are too small for central differences to check "
        f"to {TOLERANCE:.0e} (round-off eps*|f|/h); they agree within it and are left out"
    )


def gradient_norms(
    spec: Spec, samples: int = 5, seed: int = 0, module=None
) -> tuple[LayerNorm, ...]:
    """||d f / d param||_F for every parameter at the spec's initialisation (the emitted
    `init_params(seed)`, biases zero) on the check's data (`sample_problem`'s X and Y), by the
    emitted `layer_gradient_norms`; in layer order.  Empty when `gradient_module` is None.
    `module`: `gradient_module(spec)` when the caller has it already."""
    module = module or gradient_module(spec)
    if module is None:
        return ()
    _, X, Y = sample_problem(spec, module, samples, seed)
    norms = module.layer_gradient_norms(module.init_params(seed=seed), X, Y)
    rows = (LayerNorm(_layer(key), key, norm) for key, norm in norms.items())
    return tuple(sorted(rows, key=lambda row: row.layer))


def step_norms(spec: Spec, samples: int = 5, seed: int = 0, module=None) -> tuple[StepNorms, ...]:
    """Each recurrent layer's adjoint norms per time step at the spec's initialisation, on the
    check's data (`sample_problem`'s X and Y, T = the spec's steps or `CHECK_STEPS`), by the
    emitted `step_adjoint_norms`; in layer order.  Empty for a network without recurrent layers
    and where `gradient_module` is None."""
    if not spec.is_recurrent:
        return ()
    module = module or gradient_module(spec)
    if module is None:
        return ()
    _, X, Y = sample_problem(spec, module, samples, seed)
    norms = module.step_adjoint_norms(module.init_params(seed=seed), X, Y)
    return tuple(
        StepNorms(
            j,
            spec.layers[j - 1].kind,
            tuple(float(x) for x in norms[j]["delta"]),
            tuple(float(x) for x in norms[j]["cell"]) if "cell" in norms[j] else None,
        )
        for j in sorted(norms)
    )


def _layer(key: str) -> int:
    """The layer of a parameter key: "W3" -> 3, "Whh2" -> 2."""
    return int("".join(ch for ch in key if ch.isdigit()))


def check(spec: Spec, max_width: int | None = None) -> Report:
    """Prove the derivation by expansion (at `proof_spec` widths), run `numeric_check` and
    take the `gradient_norms` (and a recurrent network's `step_norms`) at initialisation."""
    refuse_large_arrays(spec, "check")
    checks = tuple(prove_activations(spec) + prove(spec, max_width))
    module = gradient_module(spec)
    return Report(
        checks,
        numeric_check(spec, module=module),
        spec_widths=tuple(spec.widths),
        proof_widths=tuple(proof_spec(spec, max_width).widths),
        spec_shapes=_maps(spec),
        proof_shapes=_maps(proof_spec(spec, max_width)),
        gradient_norms=gradient_norms(spec, module=module),
        step_norms=step_norms(spec, module=module),
    )


def _maps(spec) -> tuple:
    """The shapes of z_0..z_J when the spec has feature maps, else () (widths say it all)."""
    shapes = spec.shapes
    return shapes if any(len(s) > 1 for s in shapes) else ()


def _shape_text(shapes) -> str:
    return "-".join("x".join(map(str, s)) for s in shapes)


def widths_note(report: Report) -> str | None:
    """Why the proof's widths differ from the spec's; None when they do not."""
    if report.proof_widths == report.spec_widths:
        return None
    if report.spec_shapes:
        return (
            f"not the spec's {_shape_text(report.spec_shapes)}: the expansion grows with every "
            f"entry, so feature maps keep at most 2 channels and the smallest grid on which "
            f"every kernel, stride and pool is valid, and dense widths at most "
            f"{max(s[0] for s in report.proof_shapes if len(s) == 1)}; --max-width changes "
            "the dense cap"
        )
    symbolic = not all(isinstance(w, int) for w in report.spec_widths)
    return (
        f"not the spec's {'-'.join(map(str, report.spec_widths))}: the expanded derivative grows "
        f"like width^J, so each width is cut to at most {max(report.proof_widths)}"
        f"{' and each symbolic width set to it' if symbolic else ''}; --max-width changes the cap"
    )
