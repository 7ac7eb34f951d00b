"""Units: parsing, refusal of non-concentrations, conversions, dilution series."""

from __future__ import annotations

import numpy as np
import pint
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtor_pharm as mp
from mtor_pharm.errors import UnitError
from mtor_pharm.units import as_concentration, mass_to_molar, molar_to_mass


def test_ureg_is_pints_application_registry() -> None:
    assert mp.ureg is pint.get_application_registry()
    # a Quantity made by the user through pint itself is accepted as is
    q = pint.get_application_registry().Quantity([1.0, 10.0], "nM")
    values, unit = as_concentration(q)
    assert values.tolist() == [1.0, 10.0]
    assert str(unit) == "nanomolar"


@pytest.mark.parametrize("text", ["10 uM", "10 µM", "10 μM", "1e-5 M", "10000 nM", "0.01 mM"])
def test_concentration_strings_parse_to_the_same_amount(text: str) -> None:
    values, unit = as_concentration(text)
    molar = float(values) * mp.Q_(1.0, str(unit)).to("M").magnitude
    assert molar == pytest.approx(1e-5, rel=1e-12)


def test_sequence_of_strings_is_converted_to_the_first_unit() -> None:
    values, unit = as_concentration(["1 uM", "10 nM"])
    assert str(unit) == "micromolar"
    assert values == pytest.approx([1.0, 0.01], rel=1e-12)


@pytest.mark.parametrize("bad", ["5 s", "3 mg", "2 meter", "7"])
def test_as_concentration_rejects_non_concentration_units(bad: str) -> None:
    with pytest.raises(UnitError, match="conc"):
        as_concentration(bad)


def test_as_concentration_rejects_bare_arrays_without_conc_unit() -> None:
    with pytest.raises(UnitError, match="conc_unit"):
        as_concentration(np.array([1.0, 2.0]))


def test_as_concentration_rejects_dimensionless_conc_unit() -> None:
    with pytest.raises(UnitError):
        as_concentration([1.0], conc_unit="dimensionless")


def test_as_concentration_rejects_unparseable_unit() -> None:
    with pytest.raises(UnitError, match="conc_unit"):
        as_concentration([1.0], conc_unit="furlongs per fortnight squared")


def test_mass_concentration_needs_a_molecular_weight() -> None:
    with pytest.raises(UnitError, match="molecular_weight"):
        as_concentration("1 ug/mL")
    values, unit = as_concentration("1 ug/mL", molecular_weight="914.19 g/mol")
    # 1 ug/mL = 1e-3 g/L; / 914.19 g/mol = 1.0938...e-6 M
    assert float(values) * mp.Q_(1.0, str(unit)).to("M").magnitude == pytest.approx(1e-3 / 914.19, rel=1e-12)


def test_input_array_is_not_mutated_or_aliased() -> None:
    x = np.array([1.0, 2.0])
    values, _ = as_concentration(x, conc_unit="nM")
    values[0] = 99.0
    assert x[0] == 1.0


@given(st.floats(min_value=1e-6, max_value=1e6), st.floats(min_value=50.0, max_value=5000.0))
def test_mass_molar_round_trip(amount: float, mw: float) -> None:
    q = mp.Q_(amount, "ng/mL")
    back = molar_to_mass(mass_to_molar(q, mw, unit="nM"), mw, unit="ng/mL")
    assert back.magnitude == pytest.approx(amount, rel=1e-12)


def test_dilution_series_is_highest_first_in_the_unit_given() -> None:
    series = mp.dilution_series("10 uM", factor=3, n=10)
    assert str(series.units) == "micromolar"
    expected = [10.0 / 3.0**k for k in range(10)]
    assert series.magnitude == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"factor": 1.0, "n": 3}, "factor"),
        ({"factor": -2.0, "n": 3}, "factor"),
        ({"factor": 3.0, "n": 0}, "`n`"),
        ({"factor": 3.0, "n": 2.5}, "`n`"),
    ],
)
def test_dilution_series_rejects_bad_arguments(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        mp.dilution_series("10 uM", **kwargs)  # type: ignore[arg-type]


def test_dilution_series_rejects_non_concentration_top() -> None:
    with pytest.raises(UnitError):
        mp.dilution_series("10 s", factor=3, n=4)


def test_pic50_of_known_values() -> None:
    assert mp.pic50("1 nM") == pytest.approx(9.0, abs=1e-12)
    assert mp.pic50("1 uM") == pytest.approx(6.0, abs=1e-12)
    assert mp.pic50(mp.Q_([10.0, 100.0], "nM")) == pytest.approx([8.0, 7.0], abs=1e-12)


@given(st.floats(min_value=2.0, max_value=12.0))
def test_pic50_round_trip(p: float) -> None:
    assert mp.pic50(mp.from_pic50(p, unit="uM")) == pytest.approx(p, abs=1e-12)
