"""Every piece of work on user input is bounded (issue 7, item 10): limits on formulas checked
before SymPy starts, a time budget with a fallback for the optional symbolic steps, and a size
limit on the arrays generate and check would allocate."""

from __future__ import annotations

import re
import signal
import threading
import time

import pytest
import sympy as sp

import symbp
from symbp import budget
from symbp.catalog import activations
from symbp.cli import main
from symbp.proof.check import load_module
from symbp.spec import formula


def custom(expr: str, **top) -> dict:
    return {
        "name": "bounded",
        "input": 3,
        "layers": [{"units": 2, "activation": {"name": "custom", "expr": expr}}],
        **top,
    }


def spin(seconds: float = 60.0):
    """Pure-Python work that calls functions (as SymPy does) for up to `seconds` of CPU time."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        abs(-1)
    return "finished"


def cpu() -> float:
    """CPU seconds of this thread: what the budget counts (and immune to a loaded machine)."""
    return time.thread_time()


# --- limits checked before any work -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("t**10**10", f"within -{formula.MAX_EXPONENT} .. {formula.MAX_EXPONENT}"),
        ("t**1000000", f"within -{formula.MAX_EXPONENT} .. {formula.MAX_EXPONENT}"),
        ("2**2**2**2**2*t", f"within -{formula.MAX_EXPONENT} .. {formula.MAX_EXPONENT}"),
        ("t**(2**2**2**2)", f"within -{formula.MAX_EXPONENT} .. {formula.MAX_EXPONENT}"),
        ("(t**60)**60", f"within -{formula.MAX_EXPONENT} .. {formula.MAX_EXPONENT}"),
        ("t**60*t**60", f"within -{formula.MAX_EXPONENT} .. {formula.MAX_EXPONENT}"),
        ("t**exp(exp(exp(5)))", f"within -{formula.MAX_EXPONENT} .. {formula.MAX_EXPONENT}"),
        ("1e99999999*t", f"1e-{formula.MAX_MAGNITUDE} .. 1e{formula.MAX_MAGNITUDE}"),
        ("1e99999999999999999999*t", f"1e{formula.MAX_MAGNITUDE}"),
        ("t*1e300*1e300", f"beyond 1e{formula.MAX_MAGNITUDE}"),
        ("t*" + "9" * 40, f"at most {formula.MAX_DIGITS}"),
        ("-" * 494 + "t", f"at most {formula.MAX_DEPTH}"),
        ("(" * 200 + "t" + ")" * 200, None),  # parentheses nest nothing: accepted
        ("sin(" * 40 + "t" + ")" * 40, f"at most {formula.MAX_DEPTH}"),
    ],
)
def test_formula_limits_are_checked_before_work_starts(text, limit):
    start = cpu()
    if limit is None:
        assert formula.parse(text) == activations.t
    else:
        with pytest.raises(formula.FormulaError, match=limit.replace("(", r"\(")) as caught:
            formula.parse(text)
        assert "\n" not in str(caught.value)
    assert cpu() - start < 2.0


def test_formula_errors_are_symbp_errors():
    """So that the API and the CLI print them in one line like every other input error."""
    assert issubclass(formula.FormulaError, symbp.SymbpError)


def test_a_formula_too_large_in_float64_is_refused_without_hanging():
    start = cpu()
    field = r"layers\[0\]( \(layer 1\))?\.activation\.expr: "
    with pytest.raises(symbp.SpecError, match=field + ".*beyond float64"):
        symbp.from_dict(custom("exp(exp(exp(exp(exp(t)))))"))
    assert cpu() - start < 5.0


def test_sampling_never_computes_exact_huge_powers():
    """10**(-t**10) at t = 5 is 10**-9765625: sampled numerically, not as an exact rational
    (found by the formula fuzzer: it took over ten seconds)."""
    start = cpu()
    spec = symbp.from_dict(custom("10^-+ + Max(t) **--10"))
    assert cpu() - start < 3.0
    assert spec.layers[0].sigma.source == "10^-+ + Max(t) **--10"


def test_cli_reports_a_limit_in_one_line_with_status_2(tmp_path, capsys):
    spec = tmp_path / "net.toml"
    spec.write_text(
        'name = "n"\ninput = 2\n[[layers]]\nunits = 1\nactivation = { name = "c", expr = "t**10**10" }\n'
    )
    assert main(["derive", str(spec)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert re.search(r"layers\[0\]( \(layer 1\))?\.activation\.expr: ", err)
    assert "exponent" in err


# --- the time budget ------------------------------------------------------------------------


def test_budget_returns_the_work_when_it_finishes_in_time():
    assert budget.within(5.0, lambda: 42, lambda: 0) == 42


def test_budget_falls_back_when_the_work_runs_out_of_time():
    start = cpu()
    assert budget.within(0.2, spin, lambda: "fallback") == "fallback"
    assert cpu() - start < 1.0


def test_work_that_returns_late_gets_the_fallback_even_if_no_interruption_landed(monkeypatch):
    """An interruption raised where Python swallows it (a gc callback) is lost; work that then
    returns after its deadline still gets the fallback: the outcome does not depend on where a
    signal lands (CI once saw a 1 ms proof budget 'pass' this way)."""
    monkeypatch.setattr(budget, "_on_timer", lambda signum, frame: None)  # every one swallowed
    monkeypatch.setattr(budget, "_profile_hook", lambda: lambda frame, event, arg: None)

    def late():
        end = cpu() + 0.05
        while cpu() < end:
            pass
        return "late"

    assert budget.within(0.01, late, lambda: "fallback") == "fallback"
    assert budget.within(5.0, late, lambda: "fallback") == "late"


def test_budget_lets_the_works_exceptions_through():
    with pytest.raises(ZeroDivisionError):
        budget.within(5.0, lambda: 1 / 0, lambda: None)


def test_an_inner_budget_cannot_outlast_the_outer_one():
    start = cpu()
    result = budget.within(
        0.3, lambda: (budget.within(0.1, spin, lambda: "inner"), spin()), lambda: "outer"
    )
    assert result == "outer"
    assert cpu() - start < 1.5


def test_budget_survives_work_that_swallows_one_interruption():
    def stubborn():
        try:
            spin()
        except BaseException:  # a careless library: the timer must fire again
            pass
        return spin()

    start = cpu()
    assert budget.within(0.2, stubborn, lambda: "fallback") == "fallback"
    assert cpu() - start < 1.5


def test_budget_restores_the_previous_alarm_handler_and_timer():
    def handler(signum, frame):
        pass

    previous = signal.signal(signal.SIGPROF, handler)
    try:
        budget.within(0.1, spin, lambda: None)
        assert signal.getsignal(signal.SIGPROF) is handler
        assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)
    finally:
        signal.signal(signal.SIGPROF, previous)


def test_budget_works_outside_the_main_thread():
    results = []

    def run():
        start = cpu()
        inner = budget.within(
            0.5, lambda: (budget.within(0.1, spin, lambda: "in"), spin()), lambda: "out"
        )
        results.append((budget.within(0.2, spin, lambda: "fallback"), inner))
        results.append(cpu() - start)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=10)
    assert results[0] == ("fallback", "out")
    assert results[1] < 3.0


def test_gelu_derives_quickly_keeping_sigma_prime_in_u():
    """sympy.solve ran for more than ten minutes on this formula before the budget."""
    gelu = "t*(1 + tanh(sqrt(2/pi)*(t + 0.044715*t**3)))/2"
    start = cpu()
    derivation = symbp.derive(symbp.from_dict(custom(gelu)))
    assert cpu() - start < 30.0
    d = derivation.derivatives[0]
    assert d.var == activations.t  # the rewrite in z ran out of time: sigma' stays in u
    assert all(activations._same_value(d.expr, d.raw, p) for p in (-2, sp.Rational(1, 3), 4))


def test_a_slow_rewrite_falls_back_to_the_derivative_in_u(monkeypatch):
    """The fallback itself, independent of machine speed: a zero budget for the rewrite."""
    sigmoid = activations.ACTIVATIONS["sigmoid"]
    activations.derivative.cache_clear()
    try:
        with monkeypatch.context() as patch:
            patch.setattr(activations, "REWRITE_SECONDS", 0.0)
            patch.setattr(activations, "SIMPLIFY_SECONDS", 0.0)
            d = activations.derivative(sigmoid)
            assert d.var == activations.t and d.expr == d.raw
    finally:
        activations.derivative.cache_clear()
    assert activations.derivative(sigmoid).of_output  # with its budget: s(1 - s)


# --- array sizes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "limit"),
    [
        ({"input": 1_000_000_000}, "input", str(budget.MAX_WIDTH)),
        ({"input": 3, "units": 200_000}, "layers[0]", str(budget.MAX_WIDTH)),
        ({"input": 50_000, "units": 50_000}, "layers[0]", str(budget.MAX_WEIGHTS)),
    ],
)
def test_generate_refuses_absurd_arrays_before_allocating(data, field, limit):
    spec = symbp.from_dict(
        {
            "name": "wide",
            "input": data["input"],
            "layers": [{"units": data.get("units", 2), "activation": "tanh"}],
        }
    )
    for run in (symbp.generate_module, symbp.check):
        start = cpu()
        with pytest.raises(symbp.SpecError) as caught:
            run(spec)
        message = str(caught.value)
        assert message.startswith(field) and limit in message and "\n" not in message
        assert cpu() - start < 5.0


def test_check_refuses_more_weights_than_its_finite_differences_can_take():
    spec = symbp.from_dict(
        {"name": "wide", "input": 1000, "layers": [{"units": 100, "activation": "tanh"}]}
    )
    with pytest.raises(symbp.SpecError, match=str(budget.MAX_CHECKED_WEIGHTS)):
        symbp.check(spec)
    module = load_module(symbp.generate_module(spec), spec.name)  # generate itself is fine
    assert module.init_params(seed=0)["W1"].shape == (100, 1000)


def test_cli_check_of_a_huge_input_width_is_one_line_with_status_2(tmp_path, capsys):
    spec = tmp_path / "wide.toml"
    spec.write_text('name = "w"\ninput = 1000000000\n[[layers]]\nunits = 2\n')
    assert main(["check", str(spec)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "input" in err and str(budget.MAX_WIDTH) in err
