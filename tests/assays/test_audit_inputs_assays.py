"""Bad input in the assay functions (API audit, s7): refused with an error naming the
argument, never silently dropped or answered with a numpy/pandas error."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import mtor_pharm as mp
from mtor_pharm import assays
from mtor_pharm.errors import PlateLayoutError, ShapeError

WELLS_S = xr.DataArray([0.5, 0.3, 0.4], dims="well", coords={"well": ["A1", "A2", "A3"]})
WELLS_T = xr.DataArray([1.0, 1.0, 1.0], dims="well", coords={"well": ["A2", "A3", "A4"]})


# ----------------------------------------------------------------------------- item 2: xarray joins
@pytest.mark.parametrize(
    ("func", "names"),
    [
        (lambda s, t: assays.phospho_ratio(s, t), ("phospho", "total")),
        (lambda s, t: assays.loading_normalize(s, t), ("signal", "loading")),
        (lambda s, t: assays.mtt_absorbance(s, t), ("a570", "a_ref")),
        (lambda s, t: assays.subtract_blank(s, t), ("signal", "blank")),
        (lambda s, t: assays.fold_change(s, t), ("values", "reference")),
        (lambda s, t: assays.percent_of_control(s, t), ("signal", "control")),
        (lambda s, t: assays.percent_of_control(s, 1.0, signal_stderr=t), ("signal", "signal_stderr")),
    ],
)
def test_mismatched_well_labels_are_refused_not_inner_joined(func, names):
    with pytest.raises(ShapeError, match=rf"`{names[0]}` and `{names[1]}` must have the same labels.*'well'"):
        func(WELLS_S, WELLS_T)


def test_percent_of_control_refuses_a_control_missing_a_plate():
    sig = xr.DataArray([[0.5, 0.3], [0.2, 0.1]], dims=("plate", "well"), coords={"plate": ["p1", "p2"]})
    ctl = xr.DataArray([[1.0, 1.1]], dims=("plate", "rep"), coords={"plate": ["p2"]})
    with pytest.raises(ShapeError, match=r"`signal` and `control` .*'plate'.*\[p1\]"):
        assays.percent_of_control(sig, ctl, dim="rep")


def test_xarray_inputs_still_broadcast_over_a_missing_dimension_and_align_reordered_labels():
    sig = xr.DataArray([[0.5, 0.3], [0.2, 0.1]], dims=("plate", "well"), coords={"plate": ["p1", "p2"]})
    shared = xr.DataArray([1.0, 1.1], dims="rep")  # one control group for every plate
    out = assays.percent_of_control(sig, shared, dim="rep")
    assert dict(out.value.sizes) == {"plate": 2, "well": 2}
    reordered = WELLS_S.sel(well=["A3", "A1", "A2"]) * 2
    ratio = assays.phospho_ratio(WELLS_S, reordered)
    assert ratio.sizes["well"] == 3
    np.testing.assert_allclose(ratio.values, 0.5)


# ----------------------------------------------------------------------------- item 3: auc options
def test_auc_refuses_fit_options_with_the_trapezoid_rule():
    c = mp.Q_(1000 / 3.0 ** np.arange(8), "nM")
    y = mp.models.four_pl(c.magnitude, 0, 100, 30, 1.0)
    with pytest.raises(ValueError, match="`fit_result` is used only with method='fit'"):
        assays.auc(c, y, fit_result=mp.fit(c, y))
    with pytest.raises(ValueError, match="`model` is used only with method='fit'"):
        assays.auc(c, y, model="5pl")
    with pytest.raises(ValueError, match="`model` must not be given with `fit_result`"):
        assays.auc(c, y, method="fit", fit_result=mp.fit(c, y), model="5pl")
    # the documented uses are unchanged
    assert np.isfinite(assays.auc(c, y, method="fit", model="4pl").value)
    np.testing.assert_allclose(assays.auc(c, y, method="fit").value,
                               assays.auc(c, y, method="fit", fit_result=mp.fit(c, y)).value)


# ----------------------------------------------------------------------------- item 10: nci60 one point
def test_nci60_metrics_on_one_concentration_gives_qualifiers_not_a_numpy_error():
    m = assays.nci60_metrics(mp.Q_([1.0], "nM"), [50.0])
    assert np.isnan(m.gi50.magnitude) and np.isnan(m.tgi.magnitude)
    assert (str(m.gi50_qualifier), str(m.tgi_qualifier), str(m.lc50_qualifier)) == ("<", ">", ">")
    batch = assays.nci60_metrics(mp.Q_([1.0], "nM"), [[60.0], [np.nan], [-80.0]])
    assert batch.gi50_qualifier.tolist() == [">", "", "<"]
    assert batch.n_points.tolist() == [1, 0, 1]


# ----------------------------------------------------------------------------- items 12/13: tables
def test_plate_dataset_and_qc_plates_check_the_table_type():
    with pytest.raises(TypeError, match="`table` must be a pandas DataFrame.*got str"):
        assays.plate_dataset("x")
    with pytest.raises(TypeError, match="`table` must be a pandas DataFrame.*got str"):
        assays.qc_plates("x", signal="od")


def test_qc_plates_names_the_missing_plate_column_and_the_columns_present():
    plate = assays.load_example("mtt")
    with pytest.raises(PlateLayoutError, match=r"`table` .*lacks column\(s\) \['plate'\].*columns present: \['well'"):
        assays.qc_plates(plate.drop(columns="plate"), signal="A570")
    with pytest.raises(PlateLayoutError, match="`signal` must name a readout column"):
        assays.qc_plates(plate, signal="A571")


# ----------------------------------------------------------------------------- items 14/18: kinase
def test_cheng_prusoff_and_morrison_ic50_name_arguments_that_do_not_broadcast():
    with pytest.raises(ShapeError, match=r"`ic50` \(2,\), `substrate` \(3,\), `km` \(\)"):
        assays.cheng_prusoff(mp.Q_([10, 20], "nM"), substrate=mp.Q_([1, 2, 3], "uM"), km="5 uM")
    with pytest.raises(ShapeError, match=r"`ki` \(2,\), `enzyme` \(3,\)"):
        assays.morrison_ic50(mp.Q_([5, 6], "nM"), enzyme=mp.Q_([1, 2, 3], "nM"), mechanism="noncompetitive")
    with pytest.raises(ShapeError, match=r"`ic50` \(2,\), `enzyme` \(3,\)"):
        assays.cheng_prusoff(mp.Q_([10, 20], "nM"), enzyme=mp.Q_([1, 2, 3], "nM"), substrate="1 uM", km="1 uM")


@pytest.mark.parametrize("ki", ["-5 nM", "0 nM"])
def test_morrison_ic50_refuses_ki_not_positive(ki):
    with pytest.raises(ValueError, match="`ki` must be > 0"):
        assays.morrison_ic50(ki, enzyme="2 nM", mechanism="noncompetitive")


@pytest.mark.parametrize("v0", [-1, 0])
def test_fit_morrison_refuses_v0_not_positive(v0):
    x = np.r_[1000 / 3.0 ** np.arange(8), 0.0]
    y = 100 * assays.morrison(x, 5.0, 2.0)
    with pytest.raises(ValueError, match="`v0` must be a positive finite number"):
        assays.fit_morrison(mp.Q_(x, "nM"), y, enzyme="2 nM", mechanism="noncompetitive", v0=v0)


def test_cheng_prusoff_refuses_a_reversed_or_foreign_interval_and_a_negative_stderr():
    kw = {"substrate": "10 uM", "km": "5 uM", "level": 0.95}
    with pytest.raises(ValueError, match="`ci` must be \\(low, high\\) with low ≤ high"):
        assays.cheng_prusoff("10 nM", ci=["20 nM", "5 nM"], **kw)
    with pytest.raises(ValueError, match="`ci` must contain `ic50`"):
        assays.cheng_prusoff("10 nM", ci=["20 nM", "30 nM"], **kw)
    with pytest.raises(ValueError, match="`stderr` must be ≥ 0"):
        assays.cheng_prusoff("10 nM", stderr="-1 nM", substrate="10 uM", km="5 uM")
    # an interval in another unit that contains the IC50 is mapped through as before
    k = assays.cheng_prusoff("10 nM", ci=["0.005 uM", "30 nM"], **kw)
    np.testing.assert_allclose([k.ci_low.m_as("nM"), k.ci_high.m_as("nM")], [5 / 3, 10.0])


# ----------------------------------------------------------------------------- item 24: duplicated wells
def test_tidy_plate_refuses_a_dataframe_layout_with_a_duplicated_well():
    lay = assays.read_layout(assays.example_file("example_mtt_layout.toml"))
    exp = assays.read_plate_export(assays.example_file("example_mtt_plate.csv"))
    with pytest.raises(PlateLayoutError, match="`layout` must list each well once; A1"):
        assays.tidy_plate(pd.concat([lay, lay.iloc[:1]]), exp)


# ----------------------------------------------------------------------------- item 25: flags and ranges
def test_boolean_flags_must_be_bools():
    c = mp.Q_(1000 / 3.0 ** np.arange(8), "nM")
    v = 100 / (1 + c.magnitude / 30)
    with pytest.raises(TypeError, match="`normalize` must be True or False; got 'no'"):
        assays.auc(c, v, normalize="no")
    assert assays.auc(c, v, normalize=np.bool_(False)).normalized is False
    with pytest.raises(TypeError, match="`controls_as_data` must be True or False; got 'no'"):
        assays.fit_plate(assays.load_example("mtt"), signal="A570", controls_as_data="no")
    x = np.r_[1000 / 3.0 ** np.arange(8), 0.0]
    with pytest.raises(TypeError, match="`fit_enzyme` must be True or False; got 'yes'"):
        assays.fit_morrison(mp.Q_(x, "nM"), 100 * assays.morrison(x, 5.0, 2.0), enzyme="2 nM",
                            mechanism="noncompetitive", fit_enzyme="yes")


def test_plate_qc_thresholds_outside_their_range_are_refused():
    high, low = [1.0, 1.1, 0.9], [0.1, 0.1, 0.12]
    with pytest.raises(ValueError, match="`z_prime_min` must be a finite number ≤ 1"):
        assays.plate_qc(high, low, z_prime_min=5)
    with pytest.raises(ValueError, match="`cv_max` must be a finite number ≥ 0"):
        assays.plate_qc(high, low, cv_max=-1)
    with pytest.raises(ValueError, match="`cv_low_max` must be a finite number ≥ 0"):
        assays.plate_qc(high, low, cv_low_max=-1)
    assert assays.plate_qc(high, low, z_prime_min=1.0, cv_max=0.0).thresholds["z_prime_min"] == 1.0


# ----------------------------------------------------------------------------- item 29: text grids
def test_tidy_plate_names_the_export_cell_that_is_not_a_number():
    lay = assays.read_layout(io.StringIO("well,role\nA1,blank\nA12,vehicle\n"))
    with pytest.raises(PlateLayoutError, match="`export` must hold one number per well.*'x' at row A, column 1"):
        assays.tidy_plate(lay, np.full((8, 12), "x"))
    grid = np.full((8, 12), 1.0).astype(object)
    grid[2, 3] = "OVER"
    with pytest.raises(PlateLayoutError, match=r"`export\['A570'\]` .*'OVER' at row C, column 4"):
        assays.tidy_plate(lay, {"A570": grid})


def test_plate_dataset_refuses_a_repeated_well_on_one_plate_too() -> None:
    import pandas as pd

    A = mp.assays
    plate = A.tidy_plate(A.read_layout(A.example_file("example_mtt_layout.toml")),
                         A.read_plate_export(A.example_file("example_mtt_plate.csv")))
    with pytest.raises(mp.errors.PlateLayoutError, match="well 'A1' of plate 'SIM-MTT-001' appears more than once"):
        A.plate_dataset(pd.concat([plate, plate.iloc[:1]]))
