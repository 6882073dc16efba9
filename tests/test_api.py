"""The public API's docstring tour runs as written."""

import doctest

import symbp


def test_package_docstring_examples_run():
    result = doctest.testmod(symbp, verbose=False)
    assert result.attempted >= 6 and result.failed == 0
