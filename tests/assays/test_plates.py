"""Tests for mtor_pharm.assays.plates: layouts, reader exports, joins, Datasets and QC."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mtor_pharm as mp
from mtor_pharm.assays import (
    PlateLayoutError,
    plate_dataset,
    plate_qc,
    qc_flags,
    qc_plates,
    qc_table,
    read_layout,
    read_plate_export,
    tidy_plate,
    well_names,
)
from mtor_pharm.errors import ShapeError, UnitError

LETTERS = "ABCDEFGHIJKLMNOP"

CSV_LAYOUT = """\
# a comment
well,role,compound,conc,conc_unit,replicate
A1,blank,,,,
B1,blank,,,,
A2,sample,Torin1,10,uM,1
B2,sample,Torin1,10000,nM,2
A3,sample,Torin1,1,uM,1
B3,sample,Torin1,1,uM,2
A12,vehicle,,0,uM,
B12,vehicle,,,,
"""

TOML_LAYOUT = """\
plate = "P7"
plate_format = 96
conc_unit = "uM"
[[wells]]
well = ["A1", "B1"]
role = "blank"
[[wells]]
well = "A2"
role = "sample"
compound = "Torin1"
conc = "10 uM"
replicate = 1
[[wells]]
well = "B2"
role = "sample"
compound = "Torin1"
conc = 10
replicate = 2
[[wells]]
well = ["A3", "B3"]
role = "sample"
compound = "Torin1"
conc = 1
[[wells]]
well = ["A12", "B12"]
role = "vehicle"
"""


def export_text(grids: dict[str, np.ndarray], *, plate: str | None = None, sep: str = ",") -> str:
    lines = [] if plate is None else [f"Plate: {plate}"]
    for label, grid in grids.items():
        nrow, ncol = grid.shape
        lines.append(sep.join([label] + [str(c) for c in range(1, ncol + 1)]))
        for r in range(nrow):
            lines.append(sep.join([LETTERS[r]] + [repr(float(v)) for v in grid[r]]))
        lines.append("")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- layouts
def test_csv_and_toml_layouts_give_the_same_table():
    a = read_layout(io.StringIO(CSV_LAYOUT))
    b = read_layout(io.StringIO(TOML_LAYOUT))
    cols = ["well", "role", "compound", "conc", "replicate"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert len(a) == 96
    assert a.attrs["plate_format"] == 96
    assert b.attrs["plate"] == "P7"
    # 10000 nM was converted to the first unit used (uM)
    assert a.loc[a.well == "B2", "conc"].item() == pytest.approx(10.0)
    assert a.loc[a.well == "B12", "conc"].item() == 0.0  # vehicle without conc -> 0
    assert a.loc[a.well == "H5", "role"].item() == "empty"
    # replicates numbered in well order where not given
    assert a.loc[a.role == "blank", "replicate"].tolist() == [1, 2]


def test_layout_reads_from_a_path(tmp_path):
    path = tmp_path / "layout.toml"
    path.write_text(TOML_LAYOUT, encoding="utf-8")
    assert read_layout(path).attrs["plate"] == "P7"


def test_layout_infers_384_from_its_wells():
    lay = read_layout(io.StringIO("well,role\nP24,blank\n"))
    assert lay.attrs["plate_format"] == 384
    assert len(lay) == 384


def test_layout_rejects_unknown_wells():
    with pytest.raises(PlateLayoutError, match=r"not on a 96-well plate: I13"):
        read_layout(io.StringIO("well,role\nA1,blank\nI13,blank\n"), plate_format=96)
    with pytest.raises(PlateLayoutError, match=r"'Z9'.*unknown well name"):
        read_layout(io.StringIO("well,role\nZ9,blank\n"))


def test_layout_lists_every_bad_entry_at_once():
    text = "well,role,compound,conc,conc_unit\nA1,blank,,,\nA1,blank,,,\nA2,stuff,,,\nA3,sample,X,,\n"
    with pytest.raises(PlateLayoutError, match=r"3 bad entries.*duplicate.*'stuff'.*needs a compound"):
        read_layout(io.StringIO(text))


def test_layout_rejects_vehicle_with_a_concentration():
    with pytest.raises(PlateLayoutError, match="vehicle well must have conc 0 or none; got 5"):
        read_layout(io.StringIO("well,role,conc,conc_unit\nA1,vehicle,5,uM\n"))


def test_layout_rejects_non_molar_units():
    with pytest.raises(PlateLayoutError, match="conc_unit must be a molar unit.*'ug/mL'"):
        read_layout(io.StringIO("well,role,compound,conc,conc_unit\nA1,sample,X,5,ug/mL\n"))
    with pytest.raises(PlateLayoutError, match="has no unit"):
        read_layout(io.StringIO("well,role,compound,conc\nA1,sample,X,5\n"))


def test_layout_rejects_conflicting_plate_format():
    with pytest.raises(PlateLayoutError, match="`plate_format` must agree"):
        read_layout(io.StringIO(TOML_LAYOUT), plate_format=384)


def test_read_layout_rejects_unknown_target_unit():
    with pytest.raises(UnitError, match="`conc_unit` must be a molar unit"):
        read_layout(io.StringIO("well,role\nA1,blank\n"), conc_unit="parsec")


# ----------------------------------------------------------------------------- exports
def test_export_with_two_readouts_and_a_plate_id():
    g570 = np.arange(96.0).reshape(8, 12) / 100
    g650 = np.full((8, 12), 0.04)
    ex = read_plate_export(io.StringIO(export_text({"A570": g570, "A650": g650}, plate="P7")))
    assert ex.plate_id == "P7"
    assert ex.plate_format == 96
    np.testing.assert_array_equal(ex.readouts["A570"], g570)
    np.testing.assert_array_equal(ex.readouts["A650"], g650)
    assert not ex.readouts["A570"].flags.writeable


def test_export_semicolon_and_384_grid():
    g = np.random.default_rng(0).uniform(size=(16, 24)).round(4)
    ex = read_plate_export(io.StringIO(export_text({"lum": g}, sep=";")))
    assert ex.plate_format == 384
    np.testing.assert_array_equal(ex.readouts["lum"], g)


def test_export_overflow_and_blank_cells_become_nan_and_are_flagged():
    text = export_text({"A570": np.ones((8, 12))}).replace("A,1.0,1.0", "A,OVER,", 1)
    ex = read_plate_export(io.StringIO(text))
    assert math.isnan(ex.readouts["A570"][0, 0]) and ex.overflow["A570"][0, 0]
    assert math.isnan(ex.readouts["A570"][0, 1]) and not ex.overflow["A570"][0, 1]


def test_export_rejects_text_in_a_cell():
    text = export_text({"A570": np.ones((8, 12))}).replace("C,1.0", "C,oops", 1)
    with pytest.raises(PlateLayoutError, match=r"cell C1 must be a number.*'oops'"):
        read_plate_export(io.StringIO(text))


def test_export_rejects_a_short_row():
    text = export_text({"A570": np.ones((8, 12))}).replace(",1.0\nE", "\nE", 1)
    with pytest.raises(ShapeError, match="row D must have 12 values; got 11"):
        read_plate_export(io.StringIO(text))


def test_export_rejects_rows_out_of_order():
    text = export_text({"A570": np.ones((8, 12))}).replace("\nC,", "\nX,", 1)
    with pytest.raises(PlateLayoutError, match="row 3 must be labelled 'C'; got 'X'"):
        read_plate_export(io.StringIO(text))


def test_bare_grid_export_and_mismatched_shape():
    ok = "\n".join(",".join(["0.5"] * 12) for _ in range(8))
    assert read_plate_export(io.StringIO(ok)).readouts["signal"].shape == (8, 12)
    bad = "\n".join(",".join(["0.5"] * 11) for _ in range(8))
    with pytest.raises(ShapeError, match=r"8×12.*got 8 rows of \[11\] values"):
        read_plate_export(io.StringIO(bad))


def test_export_rejects_plate_format_that_does_not_match():
    with pytest.raises(ShapeError, match="`plate_format` is 384 but `source` holds a 8×12 grid"):
        read_plate_export(io.StringIO(export_text({"A": np.ones((8, 12))})), plate_format=384)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=96, max_size=96))
def test_export_round_trips_any_grid(values):
    grid = np.array(values).reshape(8, 12)
    ex = read_plate_export(io.StringIO(export_text({"x": grid})))
    np.testing.assert_array_equal(ex.readouts["x"], grid)


# ----------------------------------------------------------------------------- joins
def test_tidy_plate_joins_wells_to_readings_and_counts_missing_wells():
    lay = read_layout(io.StringIO(CSV_LAYOUT))
    grid = np.arange(96.0).reshape(8, 12)
    grid[1, 1] = np.nan  # B2 (a sample) is missing
    tab = tidy_plate(lay, {"A570": grid}, plate="P1")
    assert tab.loc[tab.well == "A12", "A570"].item() == 11.0
    assert tab.loc[tab.well == "B1", "A570"].item() == 12.0
    assert math.isnan(tab.loc[tab.well == "B2", "A570"].item())
    assert tab.attrs["n_missing"] == {"A570": 1}
    assert (tab["plate"] == "P1").all()
    np.testing.assert_array_equal(lay["conc"].isna(), tab["conc"].isna())  # layout untouched


def test_tidy_plate_rejects_a_grid_of_another_plate_format():
    lay = read_layout(io.StringIO(CSV_LAYOUT))
    with pytest.raises(ShapeError, match=r"16×24 grid \(384-well plate\) but `layout` describes a 96"):
        tidy_plate(lay, np.ones((16, 24)))


def test_tidy_plate_names_layout_wells_that_are_not_on_the_export():
    lay = read_layout(io.StringIO("well,role\nA1,blank\nM20,vehicle\n"))
    with pytest.raises(PlateLayoutError, match="not on the 96-well plate of `export`: M20"):
        tidy_plate(lay, np.ones((8, 12)))


def test_tidy_plate_rejects_a_layout_and_export_for_different_plates():
    lay = read_layout(io.StringIO(TOML_LAYOUT))
    ex = read_plate_export(io.StringIO(export_text({"A570": np.ones((8, 12))}, plate="P8")))
    with pytest.raises(PlateLayoutError, match="layout is for plate 'P7' but the export says 'P8'"):
        tidy_plate(lay, ex)


def test_tidy_plate_rejects_a_ragged_grid():
    lay = read_layout(io.StringIO(CSV_LAYOUT))
    with pytest.raises(ShapeError, match=r"must be 8×12.*\(8, 11\)"):
        tidy_plate(lay, np.ones((8, 11)))


def test_plate_dataset_for_one_and_two_plates():
    lay = read_layout(io.StringIO(CSV_LAYOUT))
    t1 = tidy_plate(lay, {"A570": np.ones((8, 12))}, plate="P1")
    t2 = tidy_plate(lay, {"A570": 2 * np.ones((8, 12))}, plate="P2")
    ds = plate_dataset(t1)
    assert ds["A570"].dims == ("well",)
    assert list(ds.well.values[:3]) == well_names(96)[:3]
    assert ds["conc"].attrs["units"] == "micromolar"
    both = plate_dataset(pd.concat([t1, t2]))
    assert both["A570"].dims == ("plate", "well")
    assert list(both.well.values) == well_names(96)
    assert both["A570"].sel(plate="P2", well="H12").item() == 2.0
    assert both["role"].sel(plate="P1", well="A1").item() == "blank"


# ----------------------------------------------------------------------------- QC
def test_plate_qc_hand_computed_statistics():
    high = [1.0, 1.1, 0.9, 1.0]  # mean 1, sd sqrt(0.02/3)
    low = [0.05, 0.06, 0.04, 0.05]  # mean 0.05, sd sqrt(0.0002/3)
    qc = plate_qc(high, low, plate="P1")
    sh, sl = math.sqrt(0.02 / 3), math.sqrt(0.0002 / 3)
    assert qc.z_prime == pytest.approx(1 - 3 * (sh + sl) / 0.95)
    assert qc.ssmd == pytest.approx(0.95 / math.sqrt(sh**2 + sl**2))
    assert qc.signal_to_background == pytest.approx(20.0)
    assert qc.cv_high == pytest.approx(100 * sh)
    assert qc.cv_low == pytest.approx(100 * sl / 0.05)
    assert qc.passed and qc.failures == ()


def test_plate_qc_fails_with_reasons_and_counts_nan_wells():
    qc = plate_qc([1.0, 1.5, 0.6, np.nan], [0.3, 0.1, np.nan], plate="P2", ssmd_min=3.0)
    assert not qc.passed
    assert qc.n_missing == 2
    assert qc.n_high == 3 and qc.n_low == 2
    text = "; ".join(qc.failures)
    assert "Z′" in text and "SSMD" in text and "CV of high controls" in text


def test_plate_qc_fails_with_too_few_wells():
    qc = plate_qc([1.0, np.nan], [0.1, 0.1])
    assert any("fewer than 2 finite wells" in f for f in qc.failures)
    assert math.isnan(qc.z_prime)


def test_plate_qc_rejects_bad_thresholds():
    with pytest.raises(ValueError, match="`min_wells` must be an integer ≥ 2; got 1"):
        plate_qc([1, 1], [0, 0], min_wells=1)


@settings(max_examples=40, deadline=None)
@given(a=st.floats(min_value=1e-3, max_value=1e3), b=st.floats(min_value=-1e3, max_value=1e3))
def test_z_prime_and_ssmd_are_invariant_to_affine_rescaling(a, b):
    high = np.array([1.0, 1.2, 0.9, 1.1])
    low = np.array([0.1, 0.15, 0.05, 0.1])
    q0 = plate_qc(high, low)
    q1 = plate_qc(a * high + b, a * low + b)
    assert q1.z_prime == pytest.approx(q0.z_prime, rel=1e-6, abs=1e-9)
    assert q1.ssmd == pytest.approx(q0.ssmd, rel=1e-6)


def test_qc_per_plate_feeds_the_fit_status():
    lay = read_layout(io.StringIO(CSV_LAYOUT))
    good = np.full((8, 12), 0.05)
    good[0, 11], good[1, 11] = 1.0, 1.05
    bad = good.copy()
    bad[0, 11], bad[1, 11] = 0.2, 1.4
    table = pd.concat([tidy_plate(lay, good, plate="P1"), tidy_plate(lay, bad, plate="P2")])
    qcs = qc_plates(table, signal="signal")
    assert qcs["P1"].passed and not qcs["P2"].passed
    assert qc_table(qcs)["passed"].tolist() == [True, False]
    conc = mp.Q_([0.01, 0.1, 1, 10], "uM")
    res = mp.fit(conc, [[100, 90, 40, 10], [100, 85, 45, 5]])
    flagged = res.with_flags(qc_flags(qcs, ["P1", "P2"]))
    assert (flagged.status & mp.FitStatus.PLATE_QC_FAILED).tolist() == [0, 32]
    np.testing.assert_array_equal(flagged.params["ic50"], res.params["ic50"])


def test_qc_flags_rejects_plates_without_qc():
    qc = plate_qc([1.0, 1.1], [0.1, 0.1], plate="P1")
    with pytest.raises(PlateLayoutError, match="'P9'"):
        qc_flags({"P1": qc}, ["P1", "P9"])
    assert int(qc_flags(qc)) == 0
