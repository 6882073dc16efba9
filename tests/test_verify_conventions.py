"""Conventions a spec (and `symbp verify`) can declare: a loss scale (1/2, 1/d_J) and samples as
rows.  Every expected verdict is computed from an independent NumPy reference (central
differences of the objective, `mlp_reference`), never from symbp's output."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

import symbp
from symbp.errors import SpecError
from symbp.spec.model import Layer, Spec, from_dict
from symbp.verify.compare import verify

from . import mlp_reference as ref
from .conftest import EXAMPLES, ROOT, module_for

# d_J = 3, so that the three scales 1, 1/2 and 1/d_J name three different factors
WIDE = Spec("wide", 4, tuple(Layer(w, "sigmoid") for w in (3, 3, 3)))
SCALE_VALUES = {"1": 1.0, "1/2": 0.5, "1/d_J": 1 / 3}  # what each name means, for WIDE


def _close(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-7)


def test_defaults_leave_every_example_digest_unchanged():
    """The digest of every example is still the one its generated module was stamped with."""
    for path in EXAMPLES:
        spec = symbp.load_spec(path)
        assert "loss_scale" not in spec.to_dict() and "layout" not in spec.to_dict()
        header = (ROOT / "generated" / f"{path.stem}.py").read_text().splitlines()[2]
        assert f"spec sha256 {spec.digest()[:16]}" in header, path.stem


def test_declared_conventions_enter_the_canonical_form():
    data = {"name": "n", "input": 2, "layers": [{"units": 2}], "loss_scale": "1/2"}
    half = from_dict({**data, "layout": "rows"})
    plain = from_dict({k: v for k, v in data.items() if k != "loss_scale"})
    assert half.to_dict()["loss_scale"] == "1/2" and half.to_dict()["layout"] == "rows"
    again = from_dict(json.loads(json.dumps(half.to_dict())))
    assert again == half and again.layout == "rows" and again.digest() == half.digest()
    assert half.digest() != plain.digest()


@pytest.mark.parametrize(
    "field, value", [("loss_scale", "0.5"), ("loss_scale", 2), ("layout", "row")]
)
def test_a_bad_convention_names_its_field(field, value):
    data = {"name": "n", "input": 2, "layers": [{"units": 2}], field: value}
    with pytest.raises(SpecError) as err:
        from_dict(data)
    assert field in str(err.value) and "choose one of" in str(err.value)


@pytest.mark.parametrize("scale", ["1/2", "1/d_J"])
def test_the_emitted_trainer_minimises_the_scaled_loss(scale):
    """generate honours the scale: the emitted loss is the reference's scaled objective, and
    its gradients are the reference's central differences."""
    spec = replace(WIDE, loss_scale=scale)
    module = module_for(spec)
    Ws, X, Y = ref.network(spec.widths, seed=3, samples=5)
    params = {f"W{j}": W for j, W in enumerate(Ws, start=1)}
    c = SCALE_VALUES[scale]
    assert np.isclose(module.loss(params, X, Y), ref.objective(Ws, X, Y, c), rtol=1e-12)
    grads = module.gradients(params, X, Y)
    for j in range(1, spec.depth + 1):
        assert _close(grads[f"W{j}"], ref.gradient_W(Ws, X, Y, j, c))


def _sample(widths=WIDE.widths, seed=1):
    Ws, X, Y = ref.network(widths, seed=seed)
    us, zs = ref.forward(Ws, X)
    return Ws, X, Y, us, zs


def _s(z):
    return z * (1 - z)  # sigmoid' in its output


# (claim, its right side in NumPy from the reference's forward pass, what the left side is)
SCALED_CLAIMS = [
    (r"\delta_3 = (z_3 - y) \circ \sigma'_3", lambda W, z, y: (z[3] - y) * _s(z[3]), "delta3"),
    (r"\delta_3 = 2(z_3 - y) \circ \sigma'_3", lambda W, z, y: 2 * (z[3] - y) * _s(z[3]), "delta3"),
    (
        r"\delta_3 = \frac{2}{3}(z_3 - y) \circ \sigma'_3",
        lambda W, z, y: 2 / 3 * (z[3] - y) * _s(z[3]),
        "delta3",
    ),
    (
        r"\frac{\partial f}{\partial W_3} = ((z_3 - y) \circ \sigma'_3) z_2^T",
        lambda W, z, y: ((z[3] - y) * _s(z[3])) @ z[2].T,
        "W3",
    ),
    (
        r"\delta_2 = (W_3^T ((z_3 - y) \circ \sigma'_3)) \circ \sigma'_2",
        lambda W, z, y: (W[2].T @ ((z[3] - y) * _s(z[3]))) * _s(z[2]),
        "delta2",
    ),
]


def _truth(kind: str, Ws, X, Y, c):
    if kind.startswith("delta"):
        return ref.delta(Ws, X, Y, int(kind[-1]), c)
    return ref.gradient_W(Ws, X, Y, int(kind[-1]), c)


@pytest.mark.parametrize("claim, numeric, kind", SCALED_CLAIMS)
def test_a_claim_is_judged_under_each_loss_scale(claim, numeric, kind):
    """Under each scale, verify calls the claim correct exactly when the reference says so, and
    a WRONG claim that another scale makes right names that scale."""
    Ws, X, Y, _, zs = _sample()
    value = numeric(Ws, zs, Y)
    right = {s: _close(value, _truth(kind, Ws, X, Y, c)) for s, c in SCALE_VALUES.items()}
    assert sum(right.values()) == 1  # each claim is right under exactly one of the scales
    for scale in SCALE_VALUES:
        verdict = verify(replace(WIDE, loss_scale=scale), claim)
        assert verdict.status == ("correct" if right[scale] else "wrong"), (scale, verdict)
        if not right[scale]:
            (good,) = (s for s, ok in right.items() if ok)
            assert "it is correct for f = " in verdict.message
            assert f"--loss-scale {good}" in verdict.message, verdict.message


def _rows(Ws, X, Y):
    """The reference network with samples as rows: W_j of shape d_{j-1} x d_j, z_j rows."""
    return [W.T for W in Ws], X.T, Y.T


def _rows_gradient(Ws, X, Y, j):
    """df/dW_j of the rows layout (d_{j-1} x d_j): central differences in the rows' W_j."""
    Wr, _, _ = _rows(Ws, X, Y)

    def f(Wj_rows):
        changed = [W.T for W in Wr]
        changed[j - 1] = Wj_rows.T
        return ref.objective(changed, X, Y)

    return ref.central(f, Wr[j - 1])


LECTURE = symbp.lecture_spec()

# (claim with samples as rows, its right side in NumPy in the rows layout, the left side)
ROWS_CLAIMS = [
    (
        r"\frac{\partial f}{\partial W_2} = z_1^T \delta_2",
        lambda W, z, d, X, D: z[1].T @ d[2],
        "W2",
    ),
    (
        r"\frac{\partial f}{\partial W_2} = \delta_2 z_1^T",
        lambda W, z, d, X, D: d[2] @ z[1].T,
        "W2",
    ),
    (
        r"\delta_2 = (\delta_3 W_3^T) \circ \sigma'_2",
        lambda W, z, d, X, D: (d[3] @ W[2].T) * _s(z[2]),
        "delta2",
    ),
    (
        r"\delta_2 = (\delta_3 W_3) \circ \sigma'_2",
        lambda W, z, d, X, D: (d[3] @ W[2]) * _s(z[2]),
        "delta2",
    ),
    (
        r"\frac{\partial f}{\partial W_1} = \frac{1}{N} X^T \Delta_1",
        lambda W, z, d, X, D: X.T @ D[1] / X.shape[0],
        "batchW1",
    ),
]


def _rows_value(numeric, Ws, X, Y, XB, YB):
    """The claim's right side in NumPy, samples as rows (None if its shapes do not fit)."""
    Wr = [W.T for W in Ws]
    _, zs = ref.forward(Ws, X)
    z = {k: v.T for k, v in enumerate(zs)}  # rows
    d = {k: ref.delta(Ws, X, Y, k).T for k in range(1, 4)}
    D = {k: ref.delta(Ws, XB, YB, k).T for k in range(1, 4)}  # one row per sample
    try:
        return numeric(Wr, z, d, XB.T, D)
    except ValueError:  # matmul of misfit shapes
        return None


@pytest.mark.parametrize("claim, numeric, kind", ROWS_CLAIMS)
def test_a_claim_with_samples_as_rows(claim, numeric, kind):
    """With layout = "rows" a claim is correct exactly when the reference, written with samples
    as rows, agrees; the same claim under columns is WRONG and says it is right as rows."""
    Ws, X, Y = ref.network(LECTURE.widths, seed=2)
    _, XB, YB = ref.network(LECTURE.widths, seed=4, samples=3)
    value = _rows_value(numeric, Ws, X, Y, XB, YB)
    if kind == "batchW1":
        truth = ref.central(lambda W1r: ref.objective([W1r.T, *Ws[1:]], XB, YB), np.array(Ws[0].T))
    elif kind.startswith("delta"):
        truth = ref.delta(Ws, X, Y, int(kind[-1])).T
    else:
        truth = _rows_gradient(Ws, X, Y, int(kind[-1]))
    right = value is not None and _close(value, truth)
    verdict = verify(replace(LECTURE, layout="rows"), claim)
    assert verdict.status == ("correct" if right else "wrong"), verdict
    if right:
        columns = verify(LECTURE, claim)
        assert columns.status == "wrong" and "correct with samples as rows" in columns.message


def test_rows_shape_hint_names_the_transpose():
    verdict = verify(replace(LECTURE, layout="rows"), r"\delta_2 = (\delta_3 W_3) \circ \sigma'_2")
    assert verdict.status == "wrong" and "did you mean δ₂ = (δ₃ W₃ᵀ) ∘ σ′₂?" in verdict.message
    assert "1×2" in verdict.message  # δ₃ as the claim writes it: one row


@pytest.fixture
def run(symbp_main):
    return lambda *args: symbp_main("verify", *args)


def test_cli_options_declare_the_conventions(run):
    half = r"\delta_3 = (z_3 - y) \circ \sigma'_3"
    wrong = run("--claim", half)
    assert wrong.returncode == 1 and "--loss-scale 1/2" in wrong.stdout
    assert run("--loss-scale", "1/2", "--claim", half).returncode == 0
    rows = r"\frac{\partial f}{\partial W_1} = \frac{1}{N} X^T \Delta_1"
    assert run("--claim", rows).returncode == 1
    assert run("--layout", "rows", "--claim", rows).returncode == 0
    bad = run("--loss-scale", "2", "--claim", half)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "--loss-scale" in bad.stderr
