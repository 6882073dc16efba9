"""Fuzzing specs: every TOML-shaped input ends in a `Spec` or in one `SpecError` line.

Run longer with ``SYMBP_FUZZ_EXAMPLES=5000 python -m pytest tests/test_spec_fuzz.py``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symbp
from symbp.errors import SpecError
from symbp.spec.model import from_dict, load

EXAMPLES = int(os.environ.get("SYMBP_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

ACTIVATION_NAMES = ["sigmoid", "tanh", "relu", "softmax", "step", "identity", "bogus", ""]
plain = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 6),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["d_1", "N", "f", "y", "Xscr", "d0", "n", "l2", "mean", "sum"]),
)
activation = st.one_of(
    st.sampled_from(ACTIVATION_NAMES),
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.sampled_from(["swish", "sigmoid", "1bad", "ok_name"]),
            "expr": st.sampled_from(["t/(1 + exp(-t))", "t**2", "log(t)", "", "x", "2*t"]),
            "extra": plain,
        },
    ),
    plain,
)
layer = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "units": st.one_of(st.integers(-1, 4), plain),
            "activation": activation,
            "bias": st.one_of(st.booleans(), plain),
            "stride": plain,
        },
    ),
    plain,
)
spec_table = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.sampled_from(["net", "lecture", "a b", "class", ""]), plain),
        "input": st.one_of(st.integers(-1, 5), plain),
        "loss": st.one_of(
            st.sampled_from(["l2", "cross_entropy", "binary_cross_entropy", "hinge"]), plain
        ),
        "reduction": st.one_of(st.sampled_from(["mean", "sum", "max"]), plain),
        "bias": st.one_of(st.booleans(), plain),
        "layers": st.one_of(st.lists(layer, max_size=4), plain),
        "unknown": plain,
    },
)
# Tables with the required fields and mostly sound values, so that some validate (the table
# above almost never does) and the derivation of what validates is exercised too.
near_valid_layer = st.fixed_dictionaries(
    {"units": st.one_of(st.integers(1, 4), st.integers(-1, 4), st.just("d_1"))},
    optional={
        "activation": st.one_of(st.sampled_from(ACTIVATION_NAMES), activation),
        "bias": st.booleans(),
    },
)
near_valid_table = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["net", "lecture", "a b", "class"]),
        "input": st.one_of(st.integers(1, 4), st.integers(-1, 4), st.just("d_0")),
        "layers": st.lists(near_valid_layer, min_size=1, max_size=4),
    },
    optional={
        "loss": st.sampled_from(["l2", "l2", "cross_entropy", "binary_cross_entropy", "hinge"]),
        "reduction": st.sampled_from(["mean", "sum", "max"]),
        "bias": st.booleans(),
    },
)


def _one_line(exc: SpecError) -> None:
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text


@FUZZ
@given(st.one_of(spec_table, near_valid_table))
def test_any_table_is_a_spec_or_one_spec_error(data):
    try:
        spec = from_dict(data, source="fuzz.toml")
    except SpecError as exc:
        _one_line(exc)
        return
    assert spec.name == data["name"] and len(spec.layers) == len(data["layers"])
    assert [layer.units for layer in spec.layers] == list(spec.widths[1:])
    if spec.is_concrete and max(spec.widths) <= 4:
        symbp.derive(spec)  # a spec that validates derives


@FUZZ
@given(st.text(max_size=200))
def test_any_text_file_is_a_spec_or_one_spec_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "spec.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load(path)
    except SpecError as exc:
        _one_line(exc)
