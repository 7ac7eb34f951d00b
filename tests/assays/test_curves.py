"""Plate to fit in one call (#14): normalization by role, units from the layout, wells excluded by name,
curves labelled by name (never by sort order)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mtor_pharm as mp
from mtor_pharm import assays

CONC_NM = 1000.0 / 3.0 ** np.arange(8)
TRUTH = {"rapamycin": 0.8, "Torin1": 4.0, "sapanisertib": 20.0}  # nM; layout order is not sorted order
BLANK, VEHICLE = 0.05, 1.25


def _plate(noise: float = 0.0, bad_well: str | None = None) -> pd.DataFrame:
    """A tidy 96-well MTT-like table: 3 compounds x 8 conc in triplicate, 6 blanks, 6 vehicles."""
    rng = np.random.default_rng(5)
    rows = []
    letters = "ABCDEFGHIJ"
    r = 0
    for name, ic50 in TRUTH.items():
        for _rep in range(3):
            for j, c in enumerate(CONC_NM):
                frac = 1.0 / (1.0 + c / ic50)
                od = BLANK + (VEHICLE - BLANK) * frac + rng.normal(0, noise)
                rows.append({"well": f"{letters[r]}{j + 2}", "role": "sample", "compound": name, "conc": c, "od": od})
            r += 1
    for i in range(6):
        rows.append({"well": f"{letters[i]}1", "role": "blank", "compound": None, "conc": np.nan,
                     "od": BLANK + rng.normal(0, noise)})
        rows.append({"well": f"{letters[i]}12", "role": "vehicle", "compound": None, "conc": 0.0,
                     "od": VEHICLE + rng.normal(0, noise)})
    table = pd.DataFrame(rows)
    if bad_well is not None:
        table.loc[table.well == bad_well, "od"] = 3.0
    table.attrs["conc_unit"] = "nM"
    return table


def test_fit_plate_recovers_each_compound_by_name_with_the_layouts_unit() -> None:
    res = assays.fit_plate(_plate(), signal="od")
    assert res.labels == tuple(TRUTH)  # order of the layout, not sorted
    for name, ic50 in TRUTH.items():
        one = res[name]
        assert one.ic50.units == mp.ureg.nanomolar
        np.testing.assert_allclose(one.ic50.magnitude, ic50, rtol=1e-6)
        np.testing.assert_allclose(one.params["top"], 100.0, rtol=1e-6)
        np.testing.assert_allclose(one.params["bottom"], 0.0, atol=1e-6)


def test_excluded_well_is_named_kept_in_the_table_and_not_fitted() -> None:
    plate = _plate(bad_well="D5")  # a Torin1 well
    curves = assays.plate_curves(plate, signal="od", exclude=["d5"])
    assert curves.attrs["excluded"] == ["D5"]
    row = curves[curves.well == "D5"]
    assert bool(row["excluded"].iloc[0]) and row["response"].iloc[0] > 200  # kept, with its value
    res, _ = mp.fit_table(curves, conc="conc", response="response", by="compound")
    np.testing.assert_allclose(res["Torin1"].ic50.magnitude, TRUTH["Torin1"], rtol=1e-6)
    assert int(res["Torin1"].n) == int(res["rapamycin"].n) - 1
    spoiled = assays.fit_plate(plate, signal="od")
    assert abs(float(spoiled["Torin1"].ic50.magnitude) / TRUTH["Torin1"] - 1) > 1e-3


def test_controls_enter_each_curve_at_zero_with_their_spread() -> None:
    plate = _plate(noise=0.02)
    curves = assays.plate_curves(plate, signal="od")
    veh = plate.loc[plate.role == "vehicle", "od"].to_numpy()
    blank = plate.loc[plate.role == "blank", "od"].to_numpy()
    expected = 100 * (veh - blank.mean()) / (veh.mean() - blank.mean())  # closed form
    for name in TRUTH:
        at_zero = curves[(curves.compound == name) & (curves.conc == 0)]["response"].to_numpy()
        np.testing.assert_allclose(np.sort(at_zero), np.sort(expected), rtol=1e-12)
    without = assays.plate_curves(plate, signal="od", controls_as_data=False)
    assert (without.conc > 0).all()
    assert (curves["response_stderr"] > 0).all()  # the control means' uncertainty is carried


def test_kinase_recipe_equals_the_hand_written_path() -> None:
    kin = assays.load_example("kinase")
    res = assays.fit_plate(kin, signal="signal", controls_as_data=False)
    no_inh = kin.loc[kin.role == "no_inhibitor", "signal"].to_numpy()
    bg = kin.loc[kin.role == "background", "signal"].to_numpy()
    for name in res.labels or ():
        rows = kin[(kin.role == "sample") & (kin.compound == name)]
        act = assays.percent_activity(rows["signal"].to_numpy(), no_inhibitor=no_inh, background=bg)
        hand = mp.fit(mp.Q_(rows["conc"].to_numpy(), "nM"), act.value)
        np.testing.assert_allclose(res[name].ic50.to("nM").magnitude, hand.ic50.to("nM").magnitude, rtol=1e-6)


def test_plate_curves_names_what_is_wrong() -> None:
    plate = _plate()
    with pytest.raises(assays.PlateLayoutError, match="Did you mean 'od'"):
        assays.plate_curves(plate, signal="OD5")
    with pytest.raises(assays.PlateLayoutError, match="not in the table: 'Z9'"):
        assays.plate_curves(plate, signal="od", exclude=["Z9"])
    with pytest.raises(assays.PlateLayoutError, match="Did you mean 'vehicle'"):
        assays.plate_curves(plate, signal="od", control="vehicel")
    no_unit = plate.copy()
    no_unit.attrs = {}
    with pytest.raises(assays.PlateLayoutError, match="concentration unit"):
        assays.plate_curves(no_unit, signal="od")
    with pytest.raises(TypeError, match="DataFrame"):
        assays.plate_curves(None, signal="od")  # type: ignore[arg-type]


def test_fit_table_does_not_re_require_the_unit_the_table_knows() -> None:
    curves = assays.plate_curves(_plate(), signal="od")
    res, _ = mp.fit_table(curves, conc="conc", response="response", by="compound")  # no conc_unit=
    assert res.ic50.units == mp.ureg.nanomolar
