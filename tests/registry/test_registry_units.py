"""Mass <-> molar conversion through the registry's molecular weights."""

from __future__ import annotations

import pint
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtor_pharm.registry as reg
from mtor_pharm.errors import UnitError, UnknownInhibitorError
from mtor_pharm.units import Q_

WITH_MW = [inh.name for inh in reg.all() if inh.molecular_weight is not None]


def test_one_ug_per_ml_sirolimus_is_about_1_094_um() -> None:
    expected_um = 1e-6 / 1e-3 / 914.19 * 1e6  # (1 µg / 1 mL) / (914.19 g/mol), in µmol/L
    q = reg.get("sirolimus").to_molar("1 ug/mL")
    assert q.units == Q_(1, "uM").units
    assert q.magnitude == pytest.approx(expected_um, rel=1e-12)
    assert round(q.magnitude, 3) == 1.094


def test_to_molar_takes_a_unit_and_quantities() -> None:
    q = reg.get("everolimus").to_molar(Q_(958.24, "ng/mL"), unit="nM")
    assert q.magnitude == pytest.approx(1000.0, rel=1e-12)  # 958.24 ng/mL / 958.24 g/mol = 1 µM


def test_to_mass_inverts_to_molar_for_everolimus() -> None:
    q = reg.get("RAD001").to_mass("1 uM", unit="ng/mL")
    assert q.magnitude == pytest.approx(958.24, rel=1e-12)


@given(
    name=st.sampled_from(WITH_MW),
    ug_per_ml=st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False),
)
def test_mass_molar_round_trip_returns_the_input(name: str, ug_per_ml: float) -> None:
    inh = reg.get(name)
    molar = inh.to_molar(Q_(ug_per_ml, "ug/mL"), unit="nM")
    back = inh.to_mass(molar, unit="ug/mL")
    assert back.magnitude == pytest.approx(ug_per_ml, rel=1e-12)


@given(name=st.sampled_from(WITH_MW),
       nm=st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False))
def test_molar_result_does_not_depend_on_the_requested_unit(name: str, nm: float) -> None:
    inh = reg.get(name)
    mass = inh.to_mass(Q_(nm, "nM"))
    assert inh.to_molar(mass, unit="uM").to("nM").magnitude == pytest.approx(
        inh.to_molar(mass, unit="nM").magnitude, rel=1e-12)


def test_to_molar_rejects_a_molar_input() -> None:
    with pytest.raises(UnitError, match="`conc` must be a mass concentration"):
        reg.get("sirolimus").to_molar("1 uM")


def test_to_mass_rejects_a_mass_input() -> None:
    with pytest.raises(UnitError, match="`conc` must be a molar concentration"):
        reg.get("sirolimus").to_mass("1 ug/mL")


@pytest.mark.parametrize("name", ["Vistusertib", "Umirolimus", "RapaLink-1", "Onatasertib"])
def test_conversion_refuses_compounds_without_a_sourced_molecular_weight(name: str) -> None:
    with pytest.raises(UnitError, match=rf"got {name!r}, whose molecular weight is not in the registry"):
        reg.get(name).to_molar("1 ug/mL")


def test_refusal_for_vistusertib_gives_the_withheld_azd2014_values() -> None:
    with pytest.raises(UnitError, match=r"AZD2014.*462\.55 g/mol"):
        reg.get("AZD2014").to_mass("1 uM")


def test_molecular_weight_helper_returns_g_per_mol() -> None:
    mw = reg.molecular_weight("rapamycin")
    assert mw.units == Q_(1, "g/mol").units and mw.magnitude == 914.19
    assert reg.molecular_weight(reg.get("Torin2")).magnitude == 432.41


def test_molecular_weight_helper_uses_a_given_registry(write_toml) -> None:  # type: ignore[no-untyped-def]
    lab = reg.load(write_toml("""
        [[compound]]
        name = "LAB-1"
        generation = 2
        mechanism = "atp-competitive-torki"
        [compound.molecular_weight]
        value = 0.5
        unit = "kg/mol"
        sources = ["[NB3]"]
        [references.NB3]
        type = "unpublished"
        title = "lab notebook 3"
        identifier = "NB-3"
    """))
    assert reg.molecular_weight("lab1", registry=lab).magnitude == pytest.approx(500.0)
    with pytest.raises(UnknownInhibitorError):
        reg.molecular_weight("lab1")


def test_molecular_weight_helper_rejects_unknown_and_missing() -> None:
    with pytest.raises(UnknownInhibitorError, match="got 'rapamicyn'"):
        reg.molecular_weight("rapamicyn")
    with pytest.raises(UnitError, match="'Onatasertib'"):
        reg.molecular_weight("CC-223")
    with pytest.raises(TypeError, match="`inhibitor` must be a name or an Inhibitor; got float"):
        reg.molecular_weight(914.19)  # type: ignore[arg-type]


def test_record_values_follow_a_swapped_application_registry() -> None:
    rec = reg.get("OSI-027").records(target="mTORC1")[0]
    old = pint.get_application_registry().get()
    new = pint.UnitRegistry()
    try:
        pint.set_application_registry(new)
        total = rec.value + new.Quantity(3.0, "nM")  # raises if rec.value used the old registry
        assert total.to("nM").magnitude == pytest.approx(25.0)
    finally:
        pint.set_application_registry(old)
