"""Results out of FitResult: tidy tables, xarray Datasets (the layout of mp.fit on a DataArray), netCDF, HTML."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import mtor_pharm as mp
from mtor_pharm.errors import ShapeError
from mtor_pharm.fitting._result import _unit_label as _lab

CONC = 10.0 / 3.0 ** np.arange(10)  # µM, highest first
COMPOUNDS = ["rapamycin", "Torin1"]
LINES = ["MCF7", "PC3", "U87"]


def _screen() -> np.ndarray:
    """2 compounds x 3 cell lines x 10 concentrations; one flat curve, one missing well."""
    rng = np.random.default_rng(7)
    ic50 = np.array([[0.05, 0.5, 2.0], [0.01, 0.1, 1.0]])
    y = mp.models.four_pl(CONC, 5.0, 100.0, ic50[..., None], 1.2) + rng.normal(0, 2, (2, 3, 10))
    y[1, 2] = 100 + rng.normal(0, 2, 10)
    y[0, 1, 4] = np.nan
    return y


def _data_array(y: np.ndarray, unit: str = "micromolar") -> xr.DataArray:
    return xr.DataArray(
        y,
        dims=("compound", "cell_line", "concentration"),
        coords={
            "compound": COMPOUNDS,
            "cell_line": LINES,
            "concentration": ("concentration", CONC, {"units": unit}),
        },
    )


# ----------------------------------------------------------------------------- to_dataframe
def test_to_dataframe_has_one_row_per_curve_under_a_multiindex() -> None:
    res = mp.fit(CONC, _screen(), conc_unit="uM")
    df = res.to_dataframe(coords={"compound": COMPOUNDS, "cell_line": LINES})
    assert len(df) == 6
    assert df.index.names == ["compound", "cell_line"]
    assert df.index[5] == ("Torin1", "U87")
    assert df.loc[("rapamycin", "PC3"), "n"] == 9  # the missing well is counted out, the row kept


def test_to_dataframe_values_are_those_of_the_fit_result() -> None:
    res = mp.fit(CONC, _screen(), conc_unit="uM")
    df = res.to_dataframe(dims=("compound", "cell_line"))
    u = _lab(res.conc_unit)
    low, high = res.ci("ic50")
    np.testing.assert_array_equal(df[f"ic50 [{u}]"], res.ic50.magnitude.ravel())
    np.testing.assert_array_equal(df[f"ic50_ci_low [{u}]"], low.magnitude.ravel())
    np.testing.assert_array_equal(df[f"ic50_ci_high [{u}]"], high.magnitude.ravel())
    np.testing.assert_array_equal(df[f"ic50_stderr [{u}]"], res.stderr["ic50"].ravel())
    for name in ("bottom", "top", "hill"):
        np.testing.assert_array_equal(df[name], res.params[name].ravel())
        np.testing.assert_array_equal(df[f"{name}_stderr"], res.stderr[name].ravel())
    for name in ("rss", "n", "dof", "response_pvalue", "status"):
        np.testing.assert_array_equal(df[name], np.asarray(getattr(res, name)).ravel())
    # unlabelled dimensions are numbered from 0
    assert df.index[4] == (1, 1)


def test_to_dataframe_names_statuses_and_keeps_failed_curves() -> None:
    res = mp.fit(CONC, _screen(), conc_unit="uM")
    df = res.to_dataframe(coords={"compound": COMPOUNDS, "cell_line": LINES})
    flat = df.loc[("Torin1", "U87")]
    assert flat["status"] & mp.FitStatus.FLAT_RESPONSE
    assert "FLAT_RESPONSE" in flat["status_name"].split("|")
    assert np.isnan(flat[f"ic50 [{_lab(res.conc_unit)}]"])
    assert df.loc[("rapamycin", "MCF7"), "status_name"] == "OK"
    codes = [mp.FitStatus(int(c)) for c in df["status"]]
    assert [("OK" if c == 0 else "|".join(str(f.name) for f in mp.FitStatus if f and c & f)) for c in codes] == list(
        df["status_name"]
    )


def test_to_dataframe_puts_units_in_column_names_and_attrs() -> None:
    conc = mp.Q_(CONC, "uM")
    res = mp.fit(conc, _screen()[0])
    in_nm = res.to_dataframe(unit="nM")
    in_um = res.to_dataframe()
    for col in ("ic50", "ic50_ci_low", "ic50_ci_high", "ic50_stderr"):
        np.testing.assert_allclose(in_nm[f"{col} [nM]"], 1000 * in_um[f"{col} [{_lab(res.conc_unit)}]"], rtol=1e-12)
    assert in_nm.attrs == {"model": "4pl", "conc_unit": "nM", "confidence_level": 0.95, "fixed": ""}
    assert "hill" in in_nm.columns and "bottom" in in_nm.columns  # unitless: plain names


def test_to_dataframe_of_a_5pl_reports_location_and_derived_ic50() -> None:
    y = mp.models.get_model("5pl")(CONC, bottom=5, top=100, xmid=0.1, hill=1.2, s=0.5)
    res = mp.fit(CONC, np.stack([y, y * 0.9]), conc_unit="uM", model="5pl", fixed={"bottom": 5.0})
    df = res.to_dataframe(level=0.9)
    u = _lab(res.conc_unit)
    assert {f"xmid [{u}]", f"xmid_stderr [{u}]", "s", "s_stderr", f"ic50 [{u}]"} <= set(df.columns)
    assert f"ic50_stderr [{u}]" not in df.columns
    np.testing.assert_allclose(df[f"ic50 [{u}]"], res.ic50.magnitude)
    np.testing.assert_allclose(df[f"ic50_ci_low [{u}]"], res.ci("ic50", level=0.9).low.magnitude)
    assert df.attrs["fixed"] == "bottom" and (df["bottom_stderr"] == 0).all()


def test_to_dataframe_of_one_curve_has_one_row() -> None:
    res = mp.fit(mp.Q_(CONC, "uM"), _screen()[0, 0])
    df = res.to_dataframe()
    assert len(df) == 1 and df["status_name"].iloc[0] == "OK"


def test_to_dataframe_takes_the_index_of_fit_table() -> None:
    rows = [
        {"drug": d, "c": c, "v": v}
        for d, curve in zip(COMPOUNDS, _screen()[:, 0], strict=True)
        for c, v in zip(CONC, curve, strict=True)
    ]
    res, index = mp.fit_table(pd.DataFrame(rows), conc="c", response="v", by=["drug"], conc_unit="uM")
    df = res.to_dataframe(index)
    assert list(df.index) == COMPOUNDS and df.index.name == "drug"


def test_to_dataframe_rejects_labels_that_do_not_fit_the_batch() -> None:
    res = mp.fit(CONC, _screen(), conc_unit="uM")
    with pytest.raises(ShapeError, match="one label per curve"):
        res.to_dataframe(pd.Index(["a", "b"]))
    with pytest.raises(ShapeError, match=r"`coords\['cell_line'\]` must hold 3 labels"):
        res.to_dataframe(coords={"compound": COMPOUNDS, "cell_line": LINES[:2]})
    with pytest.raises(ShapeError, match="must label every batch dimension"):
        res.to_dataframe(coords={"compound": COMPOUNDS})
    with pytest.raises(ShapeError, match="must name each of the 2 batch dimensions"):
        res.to_dataframe(dims=("compound",))
    with pytest.raises(ShapeError, match="keyed by the batch dimensions"):
        res.to_dataframe(dims=("a", "b"), coords={"c": [1, 2]})
    with pytest.raises(TypeError, match="not be given together"):
        res.to_dataframe(pd.Index(range(6)), dims=("a", "b"))
    with pytest.raises(ValueError, match="`level` must be a number in"):
        res.to_dataframe(level=95)


# ----------------------------------------------------------------------------- to_xarray
@pytest.mark.parametrize("model", ["4pl", "3pl", "5pl", "weibull1"])
def test_to_xarray_has_the_layout_of_fitting_a_data_array(model: str) -> None:
    y = _screen()
    from_xarray = mp.fit(_data_array(y), dim="concentration", model=model)
    res = mp.fit(CONC, y, conc_unit="uM", model=model)
    ds = res.to_xarray(coords={"compound": COMPOUNDS, "cell_line": LINES})
    expected = from_xarray.copy()
    del expected.attrs["conc_dim"]  # there is no concentration dimension here
    xr.testing.assert_identical(ds, expected)
    assert list(ds.data_vars) == list(from_xarray.data_vars)
    assert {k: v.dtype for k, v in ds.data_vars.items()} == {k: v.dtype for k, v in from_xarray.data_vars.items()}


def test_to_xarray_names_dimensions_by_default_and_records_the_level() -> None:
    res = mp.fit(CONC, _screen(), conc_unit="uM")
    ds = res.to_xarray(level=0.9, response_unit="percent")
    assert ds["ic50"].dims == ("curve_0", "curve_1") and not ds.coords
    assert ds["ic50_ci_low"].attrs["confidence_level"] == 0.9
    assert "90%" in ds["ic50_ci_low"].attrs["long_name"]
    np.testing.assert_array_equal(ds["ic50_ci_low"], res.ci("ic50", level=0.9).low.magnitude)
    assert ds["top"].attrs["units"] == "percent" and "units" not in ds["hill"].attrs
    one_d = mp.fit(CONC, _screen()[0], conc_unit="uM").to_xarray()
    assert one_d["ic50"].dims == ("curve",)
    single = mp.fit(CONC, _screen()[0, 0], conc_unit="uM").to_xarray()
    assert single["ic50"].dims == () and single["status"].dtype == np.uint8


def test_to_xarray_rejects_dims_that_do_not_fit_the_batch() -> None:
    res = mp.fit(CONC, _screen(), conc_unit="uM")
    with pytest.raises(ShapeError, match="must name each of the 2 batch dimensions"):
        res.to_xarray(dims=("compound", "compound"))
    with pytest.raises(TypeError, match="sequence of str"):
        res.to_xarray(dims="compound")


def test_netcdf_round_trip_keeps_values_units_and_status_flags(tmp_path: Path) -> None:
    res = mp.fit(CONC, _screen(), conc_unit="uM")
    ds = res.to_xarray(coords={"compound": COMPOUNDS, "cell_line": LINES})
    path = tmp_path / "fits.nc"
    ds.to_netcdf(path, engine="scipy")  # netCDF-3: scipy only, no extra package
    with xr.open_dataset(path, engine="scipy") as back:
        back = back.load()
    assert list(back.data_vars) == list(ds.data_vars)
    for name in ds.data_vars:
        np.testing.assert_array_equal(back[name].values, ds[name].values)  # NaN == NaN here
        assert back[name].attrs.get("units") == ds[name].attrs.get("units")
        assert back[name].attrs.get("long_name") == ds[name].attrs.get("long_name")
    assert back.attrs == ds.attrs
    assert list(back["compound"].values) == COMPOUNDS
    status = back["status"]
    assert status.attrs["flag_meanings"] == ds["status"].attrs["flag_meanings"]
    np.testing.assert_array_equal(status.attrs["flag_masks"], ds["status"].attrs["flag_masks"])
    flat = mp.FitStatus(int(status.sel(compound="Torin1", cell_line="U87")))
    assert mp.FitStatus.FLAT_RESPONSE in flat
    # netCDF-3 has no unsigned bytes, and its signed byte cannot hold the bit 128 (INVALID_DATA):
    # same values, int16 in the file (documented in to_xarray)
    assert status.dtype == np.int16


def test_netcdf_keeps_the_invalid_data_bit(tmp_path: Path) -> None:
    y = np.stack([[100, 90, 60, 30, 10, 5.0]] * 2)
    y[1, 2] = np.inf
    ds = mp.fit(mp.Q_([1, 3, 10, 30, 100, 300.0], "nM"), y).to_xarray()
    ds.to_netcdf(tmp_path / "f.nc", engine="scipy")
    with xr.open_dataset(tmp_path / "f.nc", engine="scipy") as back:
        flags = mp.FitStatus(int(back["status"].values[1]))
    assert mp.FitStatus.INVALID_DATA in flags and int(ds["status"].values[0]) == 0


# ----------------------------------------------------------------------------- notebooks
def test_repr_html_of_one_curve_lists_parameters_with_intervals_and_status() -> None:
    conc = mp.Q_([0, 0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
    res = mp.fit(conc, [101, 99, 97, 88, 67, 36, 15, 5], fixed={"top": 100})
    page = res._repr_html_()
    for name in ("bottom", "top", "ic50", "hill"):
        assert f"<td>{name}</td>" in page
    low, high = res.ci("ic50")
    assert f"[{float(low.magnitude):.4g}, {float(high.magnitude):.4g}]" in page
    assert "<td>fixed</td>" in page  # top
    assert "µM" in page and "<code>OK</code>" in page and "<svg" in page
    assert page.count("<tr>") == 5  # header + 4 parameters


def test_repr_html_of_a_batch_summarizes_and_shows_the_first_rows() -> None:
    rng = np.random.default_rng(0)
    y = mp.models.four_pl(CONC, 5, 100, 10 ** rng.uniform(-2, 0, (12, 1)), 1.0) + rng.normal(0, 2, (12, 10))
    y[3] = 100 + rng.normal(0, 2, 10)
    res = mp.fit(CONC, y, conc_unit="uM")
    page = res._repr_html_()
    assert "12 curves" in page and "FLAT_RESPONSE" in page
    assert "first 10 of 12 curves" in page
    assert page.count("<tr") == 2 + 10  # two header rows, ten curves


def test_to_xarray_keeps_every_key_of_a_multi_column_grouping(tmp_path: Path) -> None:
    """A fit_table result grouped by several columns went to xarray with an unlabelled `curve`
    dimension, so a netCDF file could not be joined back to compounds and cell lines."""
    df = mp.load_example()
    df = pd.concat([df.assign(cell="MCF7"), df.assign(cell="PC3", viability=df["viability"] * 0.98)])
    res, index = mp.fit_table(df, conc="conc", response="viability", by=["compound", "cell"])
    ds = res.to_xarray()
    assert ds["compound"].dims == ("curve",) and ds["cell"].dims == ("curve",)
    assert list(zip(ds["compound"].values, ds["cell"].values, strict=True)) == list(index)
    ds.to_netcdf(tmp_path / "f.nc", engine="scipy")
    with xr.open_dataset(tmp_path / "f.nc", engine="scipy") as back:
        torin = back.where((back["compound"] == "Torin1") & (back["cell"] == "PC3"), drop=True)
        np.testing.assert_array_equal(torin["ic50"].values, [float(res[("Torin1", "PC3")].ic50.magnitude)])
