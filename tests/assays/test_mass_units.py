"""Assay helpers accept mass concentrations when told the inhibitor (#5 item 4)."""

from __future__ import annotations

import numpy as np
import pytest

import mtor_pharm as mp

UM = np.array([0.001, 0.01, 0.1, 1.0, 10.0])


def _mw(name: str) -> float:
    return float(mp.registry.molecular_weight(name).to("g/mol").magnitude)


def _as_ug_per_ml(um: np.ndarray, name: str) -> np.ndarray:
    # 1 uM = 1e-6 mol/L x MW g/mol = MW * 1e-3 ug/mL
    return um * _mw(name) * 1e-3


def test_with_vehicle_converts_mass_concentrations_through_the_inhibitor() -> None:
    conc, _ = mp.assays.with_vehicle(
        mp.Q_(_as_ug_per_ml(UM, "everolimus"), "ug/mL"), [90, 80, 50, 20, 5], [100, 99], inhibitor="RAD001"
    )
    assert conc.to("uM").magnitude[:5] == pytest.approx(UM, rel=1e-12)


def test_nci60_metrics_agree_between_molar_and_mass_input() -> None:
    growth = np.array([95.0, 80.0, 40.0, 0.0, -60.0])
    molar = mp.assays.nci60_metrics(mp.Q_(UM, "uM"), growth)
    mass = mp.assays.nci60_metrics(mp.Q_(_as_ug_per_ml(UM, "sirolimus"), "ug/mL"), growth, inhibitor="rapamycin")
    assert mass.gi50.to("uM").magnitude == pytest.approx(molar.gi50.to("uM").magnitude, rel=1e-9)


def test_mass_concentration_without_inhibitor_is_refused() -> None:
    with pytest.raises(mp.errors.UnitError, match="molecular_weight"):
        mp.assays.nci60_metrics(mp.Q_(UM, "ug/mL"), [95.0, 80.0, 40.0, 0.0, -60.0])
