"""Regression tests for #17 in the unit parsing: pint's parser never surfaces its own errors."""

from __future__ import annotations

import time

import numpy as np
import pint
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtor_pharm as mp
from mtor_pharm.errors import UnitError
from mtor_pharm.units import as_concentration, dilution_series

CONC = [0.01, 0.1, 1.0, 10.0]


@pytest.mark.parametrize("text", [
    "uM; x",        # pint: AssertionError / tokenize.TokenError
    "uM ** 0",      # pint: KeyError 'micromolar'
    "1/0",          # pint: ZeroDivisionError
    "(1 + 1) uM",   # arithmetic: slow
    "uM)", "((uM", "__import__('os')", "uM if 1 else 2", "1e400 uM", "", "   ", "u M ** 0.5",
])
def test_unit_strings_issue_17_give_unit_errors(text):
    with pytest.raises(UnitError, match="`conc`"):
        as_concentration(text)
    with pytest.raises(UnitError, match="`conc_unit`"):
        as_concentration(CONC, conc_unit=text)
    with pytest.raises(UnitError, match="`value`"):
        mp.Q_(text)


def test_fit_with_bad_unit_strings_issue_17_gives_unit_errors():
    for text in ("uM; x", "uM ** 0", "1/0"):
        with pytest.raises(UnitError, match="`conc_unit`"):
            mp.fit(CONC, [95.0, 80.0, 30.0, 5.0], conc_unit=text)


def test_unit_strings_longer_than_the_limit_are_refused_quickly():
    with pytest.raises(UnitError, match="at most 200 characters"):
        as_concentration("1 " + "uM*" * 5000 + "uM")


def test_36000_concentration_strings_parse_quickly_issue_17():
    good = ["10 uM", "30 nM", "0.1 µM"] * 12_000
    t = time.perf_counter()
    values, unit = as_concentration(good)
    elapsed = time.perf_counter() - t
    np.testing.assert_allclose(values[:3], [10.0, 0.03, 0.1])
    assert str(unit) == "micromolar"
    t = time.perf_counter()
    for _ in range(36_000 // 100):
        with pytest.raises(UnitError):
            as_concentration(["(1 + 1) uM"] * 100)
    elapsed_bad = time.perf_counter() - t
    assert elapsed < 5.0 and elapsed_bad < 5.0  # was > 20 s; now well under 1 s on this machine


def test_huge_integer_concentration_issue_17_is_a_value_error():
    with pytest.raises(ValueError, match="`conc` must hold numbers within float64 range"):
        as_concentration(10**400, conc_unit="uM")
    with pytest.raises(ValueError, match="`conc`"):
        mp.fit(10**400, [1.0], conc_unit="uM")


def test_complex_concentration_is_refused():
    with pytest.raises(TypeError, match="`conc` must hold real numbers"):
        as_concentration(np.array([1 + 1j, 2.0]), conc_unit="uM")


def test_masked_concentrations_are_read_as_nan():
    x = np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False])
    values, _ = as_concentration(x, conc_unit="uM")
    assert np.isnan(values[1]) and values[0] == 1.0 and values[2] == 3.0
    assert not x.mask[0] and x.data[1] == 2.0  # input untouched


def test_dilution_series_with_n_10_to_the_9_is_refused_before_allocating_issue_17():
    t = time.perf_counter()
    with pytest.raises(ValueError, match="`n` must be at most 100,000"):
        dilution_series("10 uM", factor=3, n=10**9)
    assert time.perf_counter() - t < 1.0


@pytest.mark.parametrize("text", ["10 uM", "10 µM", "10 μM", "1e-3 M", "1.5 mg/mL", "10 mol / m ** 3",
                                  "5 nanomolar", "2.5e+2 nM", ".5 uM", "10 ug·mL⁻¹"])
def test_valid_strings_parse_like_pint(text):
    ours = mp.Q_(text)
    theirs = pint.get_application_registry().Quantity(text.replace("·", "*").replace("⁻¹", "**-1"))
    assert ours.units == theirs.units
    assert ours.magnitude == pytest.approx(theirs.magnitude, rel=1e-15)


def test_mixed_unit_string_sequence_converts_each_unit_once():
    values, unit = as_concentration(["1 uM", "500 nM", "0.002 mM"])
    np.testing.assert_allclose(values, [1.0, 0.5, 2.0], rtol=1e-12)
    assert str(unit) == "micromolar"
    with pytest.raises(UnitError, match="one kind"):
        as_concentration(["1 uM", "5 s"])


@given(st.text(max_size=40))
def test_any_text_gives_a_quantity_or_a_unit_error(text):
    message = "`value`"
    try:
        mp.Q_(text)
    except UnitError as exc:
        message = str(exc)
    assert "`value`" in message


@given(st.text(alphabet="uMn1/0*^()+-. ;'e", max_size=20))
def test_any_unit_text_gives_a_unit_or_a_unit_error(text):
    message = "`conc`"
    try:
        as_concentration([1.0], conc_unit=text)
    except UnitError as exc:
        message = str(exc)
    assert "`conc_unit`" in message or "`conc`" in message


def test_the_unit_cache_follows_a_swapped_application_registry():
    old = pint.get_application_registry().get()
    mp.Q_("1 uM")  # cached for the current registry
    new = pint.UnitRegistry()
    pint.set_application_registry(new)
    try:
        q = mp.Q_("1 uM")
        assert q._REGISTRY is new
        assert q.to("nM").magnitude == pytest.approx(1000.0)
    finally:
        pint.set_application_registry(old)
    assert mp.Q_("1 uM")._REGISTRY is old
