"""Bad input to mtor_pharm.plot (audit 2, section B): clear library errors, nothing silently dropped,
and a figure of a failed curve that can still be saved."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt

import mtor_pharm as mp
import mtor_pharm.plot  # binds mp.plot
from mtor_pharm.errors import ShapeError, UnitError

C = mp.Q_([0, 0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
Y = np.array([101, 99, 97, 88, 67, 36, 15, 5.0])


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def res() -> mp.FitResult:
    return mp.fit(C, Y)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return mp.load_example().rename(columns={"viability": "response"})


@pytest.fixture(scope="module")
def fits(table: pd.DataFrame) -> mp.FitResult:
    return mp.fit_table(table, conc="conc", response="response", by="compound")[0]


def _saves(fig: Any) -> None:
    fig.savefig(io.BytesIO(), format="png")


# ----------------------------------------------------------------------------- 1. savable figures
def test_residuals_of_every_curve_of_a_batch_with_a_failed_curve_can_be_saved() -> None:
    conc = mp.Q_([[0, 0.01, 0.1, 1, 10, 100], [0, 0.03, 0.3, 3, np.nan, np.nan]], "uM")
    y = np.array([[100, 99, 90, 50, 10, 5.0], [100, 95, 70, 30, np.nan, np.nan]])
    res = mp.fit(conc, y)
    assert int(res.status[1]) != 0
    for i in range(2):
        art = mp.plot.residuals(res, conc, y, index=i)
        _saves(art.figure)
        _saves(mp.plot.curve(res, conc, y, index=i).figure)
    assert art.note is not None and "fit failed" in art.note.get_text()
    lo, hi = art.ax.get_xlim()
    assert 0 < lo < 0.03 and hi > 3  # the tested range of the failed curve


def test_residuals_of_vehicle_only_data_can_be_saved(res: mp.FitResult) -> None:
    art = mp.plot.residuals(res, mp.Q_([0, 0, 0], "uM"), [100.0, 98.0, 101.0])
    _saves(art.figure)
    assert art.note is not None and "no finite data point at a concentration > 0" in art.note.get_text()
    assert art.vehicle_points is not None and len(art.vehicle_points.get_xdata()) == 3


def test_residuals_with_points_have_no_note(res: mp.FitResult) -> None:
    assert mp.plot.residuals(res, C, Y).note is None


def test_dose_response_of_an_empty_batch_can_be_saved(fits: mp.FitResult, table: pd.DataFrame) -> None:
    for data in (None, table):
        art = mp.plot.dose_response(fits[[]], data)
        _saves(art.figure)
        assert art.curves == () and "empty batch" in art.note.get_text()


# ----------------------------------------------------------------------------- 2. labels and `by`
def test_dose_response_refuses_an_unlabelled_batch_matched_by_a_column(table: pd.DataFrame) -> None:
    unit = table["conc_unit"].iloc[0]
    x = mp.Q_(table[table.compound == "rapamycin"]["conc"].to_numpy(), unit)
    y = np.stack([table[table.compound == c]["response"].to_numpy() for c in table.compound.unique()])
    with pytest.raises(LookupError, match=r"`by`=\['compound'\].*'curve 0'.*'rapamycin'.*unlabelled"):
        mp.plot.dose_response(mp.fit(x, y), table, by="compound")


def test_dose_response_refuses_labels_of_another_case(fits: mp.FitResult, table: pd.DataFrame) -> None:
    lower = table.assign(compound=table.compound.str.lower())
    with pytest.raises(LookupError, match=r"no row matches 1 of the 4 curves \('Torin1'\).*Did you mean 'torin1'"):
        mp.plot.dose_response(fits, lower)


def test_dose_response_refuses_the_wrong_by_column(fits: mp.FitResult, table: pd.DataFrame) -> None:
    with pytest.raises(LookupError, match=r"`by`=\['replicate'\].*pass by='compound'"):
        mp.plot.dose_response(fits, table, by="replicate")


def test_dose_response_refuses_a_table_missing_some_curves(fits: mp.FitResult, table: pd.DataFrame) -> None:
    with pytest.raises(LookupError, match=r"no row matches 1 of the 4 curves \('Torin1'\)"):
        mp.plot.dose_response(fits, table[table.compound != "Torin1"])
    # rows of curves that are not drawn are fine
    art = mp.plot.dose_response(fits[["Torin1"]], table)
    assert art.curves[0].points is not None


# ----------------------------------------------------------------------------- 3. excluded column
@pytest.mark.parametrize("flag", [np.nan, "no"])
def test_dose_response_refuses_an_excluded_column_that_is_not_boolean(
    fits: mp.FitResult, table: pd.DataFrame, flag: Any
) -> None:
    with pytest.raises(TypeError, match="`excluded` column 'excluded' must hold True/False per row"):
        mp.plot.dose_response(fits, table.assign(excluded=flag))


# ----------------------------------------------------------------------------- 4. the table's unit
def test_dose_response_converts_a_table_in_another_unit(fits: mp.FitResult, table: pd.DataFrame) -> None:
    assert str(fits.conc_unit) == "nanomolar"
    nm = mp.plot.dose_response(fits, table)
    um = mp.plot.dose_response(fits, table.assign(conc=table.conc / 1000, conc_unit="uM"))
    for a, b in zip(nm.curves, um.curves, strict=True):
        np.testing.assert_allclose(b.points.lines[0].get_xdata(), a.points.lines[0].get_xdata(), rtol=1e-12)
    assert max(um.curves[0].points.lines[0].get_xdata()) == pytest.approx(table.conc.max())


def test_dose_response_refuses_a_table_unit_that_does_not_convert(fits: mp.FitResult, table: pd.DataFrame) -> None:
    fragment = r"`data` records its concentrations in ug/mL \(data\['conc_unit'\]\).*nanomolar"
    with pytest.raises(UnitError, match=fragment):
        mp.plot.dose_response(fits, table.assign(conc_unit="ug/mL"))


# ----------------------------------------------------------------------------- 5. NaN / inf concentrations
@pytest.mark.parametrize("plot", ["curve", "residuals", "curves"])
def test_a_nan_or_inf_concentration_with_a_response_is_refused(res: mp.FitResult, plot: str) -> None:
    func = getattr(mp.plot, plot)
    x = C.magnitude.copy()
    x[-1] = np.inf
    with pytest.raises(ValueError, match="`conc` must be finite; got inf"):
        func(res, x, Y)
    x[-1] = np.nan
    with pytest.raises(ValueError, match=r"`conc` is NaN at index \(7,\) where `response` is 5.0"):
        func(res, x, Y)


def test_nan_concentration_with_nan_response_is_padding(res: mp.FitResult) -> None:
    x = np.r_[C.magnitude, np.nan]
    art = mp.plot.curve(res, x, np.r_[Y, np.nan])
    np.testing.assert_allclose(art.points.lines[0].get_ydata(), Y[1:])


def test_a_nan_concentration_in_a_batch_names_its_index() -> None:
    y = np.vstack([Y, Y])
    res = mp.fit(C, y)
    x = np.vstack([C.magnitude, C.magnitude])
    x[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"`conc` is NaN at index \(1, 2\)"):
        mp.plot.curve(res, x, y, index=1)


def test_dose_response_refuses_a_nan_concentration_row(fits: mp.FitResult, table: pd.DataFrame) -> None:
    bad = table.copy()
    bad.loc[5, "conc"] = np.nan
    with pytest.raises(ValueError, match=r"`conc` is NaN at row 5 of `data` where `response` is"):
        mp.plot.dose_response(fits, bad)
    bad.loc[5, "conc"] = np.inf
    with pytest.raises(ValueError, match=r"`conc` must be finite; column 'conc' holds inf at row 5"):
        mp.plot.dose_response(fits, bad)


# ----------------------------------------------------------------------------- 6. style and ax
@pytest.mark.parametrize("color", ["notacolor", (2, 0, 0)])
def test_a_bad_color_string_or_tuple_is_refused(res: mp.FitResult, color: Any) -> None:
    for call in (mp.plot.curve, mp.plot.residuals):
        with pytest.raises(ValueError, match=r"`color` must be a matplotlib color.*got"):
            call(res, C, Y, color=color)


def test_a_color_of_the_wrong_type_is_refused(res: mp.FitResult) -> None:
    with pytest.raises(TypeError, match=r"`color` must be a matplotlib color.*got 5"):
        mp.plot.residuals(res, C, Y, color=5)


@pytest.mark.parametrize("marker", ["zz", None, "o-"])
def test_a_bad_marker_is_refused(res: mp.FitResult, marker: Any) -> None:
    with pytest.raises(ValueError, match=r"`marker` must be a matplotlib marker such as 'o'.*got"):
        mp.plot.curve(res, C, Y, marker=marker)


def test_any_matplotlib_marker_is_drawn(res: mp.FitResult) -> None:
    art = mp.plot.curve(res, C, Y, marker="$x$")
    assert art.points.lines[0].get_marker() == "$x$" and art.points.lines[0].get_linestyle() == "None"
    _saves(art.figure)


@pytest.mark.parametrize(
    ("cmap", "exc", "fragment"),
    [("nocmap", ValueError, "`cmap` must be the name of a registered colormap"), ("virdis", ValueError, "Did you mean"),
     (None, TypeError, "got None"), (5, TypeError, "got 5"), (["r", "g"], TypeError, "`cmap`")],
)
def test_a_bad_cmap_is_refused(cmap: Any, exc: type[Exception], fragment: str) -> None:
    with pytest.raises(exc, match=fragment):
        mp.plot.plate_heatmap(np.arange(96.0), cmap=cmap)


def test_a_colormap_object_is_accepted() -> None:
    art = mp.plot.plate_heatmap(np.arange(96.0), cmap=matplotlib.colormaps["magma"])
    assert art.image.get_cmap().name.startswith("magma")


def _calls(res: mp.FitResult, fits: mp.FitResult) -> list[Any]:
    return [
        lambda ax: mp.plot.curve(res, C, Y, ax=ax),
        lambda ax: mp.plot.curves(res, C, Y, ax=ax),
        lambda ax: mp.plot.residuals(res, C, Y, ax=ax),
        lambda ax: mp.plot.dose_response(fits, ax=ax),
        lambda ax: mp.plot.plate_heatmap(np.arange(96.0), ax=ax),
    ]


def test_an_array_of_axes_gets_a_hint(res: mp.FitResult, fits: mp.FitResult) -> None:
    _, axs = plt.subplots(1, 2)
    for call in _calls(res, fits):
        with pytest.raises(TypeError, match=r"`ax` must be one matplotlib Axes; got a numpy array.*ax=axs\[0\]"):
            call(axs)


@pytest.mark.parametrize("bad", ["left", 5])
def test_ax_that_is_not_an_axes_is_refused(res: mp.FitResult, fits: mp.FitResult, bad: Any) -> None:
    for call in _calls(res, fits):
        with pytest.raises(TypeError, match=r"`ax` must be a matplotlib Axes.*got"):
            call(bad)


def test_a_figure_or_a_polar_axes_is_refused(res: mp.FitResult, fits: mp.FitResult) -> None:
    fig = plt.figure()
    polar = fig.add_subplot(projection="polar")
    for call in _calls(res, fits):
        with pytest.raises(TypeError, match="got a Figure"):
            call(fig)
        with pytest.raises(ValueError, match="`ax` must be a Cartesian Axes.*'polar'"):
            call(polar)


# ----------------------------------------------------------------------------- 7. internal errors
def test_curves_of_an_empty_batch_is_refused() -> None:
    res = mp.fit(C, np.vstack([Y, Y]))
    with pytest.raises(ValueError, match=r"`results` must hold at least one curve; got an empty batch of shape \(0,\)"):
        mp.plot.curves(res[[]])


def test_residuals_without_data_is_refused(res: mp.FitResult) -> None:
    with pytest.raises(TypeError, match="`conc` and `response` must be given: residuals need the data"):
        mp.plot.residuals(res, None, None)


def test_curves_of_several_results_refuses_data_that_is_not_a_sequence(res: mp.FitResult) -> None:
    with pytest.raises(TypeError, match=r"`conc` must be a sequence with one entry per result \(2\).*got 5"):
        mp.plot.curves([res, res], 5, 6)


@pytest.mark.parametrize(
    ("returned", "exc", "fragment"),
    [(None, TypeError, "got None"), (3.0, TypeError, "got 3.0"), (([0, 1], [1, 2]), ShapeError, r"has shape \(2,\)"),
     (("a", "b"), TypeError, "its low is 'a'")],
)
def test_a_band_callable_must_return_low_and_high(
    res: mp.FitResult, returned: Any, exc: type[Exception], fragment: str
) -> None:
    with pytest.raises(exc, match=r"`band` must return \(low, high\).*" + fragment):
        mp.plot.curve(res, C, Y, band=lambda grid: returned)


def test_dose_response_refuses_by_that_is_not_a_column_name(fits: mp.FitResult, table: pd.DataFrame) -> None:
    with pytest.raises(TypeError, match=r"`by` must be a column name or a list of column names.*got 5"):
        mp.plot.dose_response(fits, table, by=5)  # type: ignore[arg-type]


def test_dose_response_refuses_a_duplicated_column(fits: mp.FitResult, table: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"`conc` names column 'conc', which `data` has 2 times"):
        mp.plot.dose_response(fits, pd.concat([table, table[["conc"]]], axis=1))


def test_dose_response_refuses_a_text_response_column(fits: mp.FitResult, table: pd.DataFrame) -> None:
    with pytest.raises(TypeError, match=r"`response` column 'response' must hold numbers; row 0 holds 'x'"):
        mp.plot.dose_response(fits, table.assign(response="x"))


# ----------------------------------------------------------------------------- 8. flags
@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("log", lambda res, v: mp.plot.curve(res, C, Y, log=v)),
        ("vehicle", lambda res, v: mp.plot.curve(res, C, Y, vehicle=v)),
        ("log", lambda res, v: mp.plot.residuals(res, C, Y, log=v)),
        ("vehicle", lambda res, v: mp.plot.residuals(res, C, Y, vehicle=v)),
        ("legend", lambda res, v: mp.plot.curves(res, C, Y, legend=v)),
        ("log", lambda res, v: mp.plot.curves(res, C, Y, log=v)),
        ("colorbar", lambda res, v: mp.plot.plate_heatmap(np.arange(96.0), colorbar=v)),
        ("note", lambda res, v: mp.plot.dose_response(res, note=v)),
        ("legend", lambda res, v: mp.plot.dose_response(res, legend=v)),
    ],
)
def test_flags_must_be_true_or_false(res: mp.FitResult, name: str, call: Any) -> None:
    with pytest.raises(TypeError, match=f"`{name}` must be True or False; got 'no'"):
        call(res, "no")
    call(res, np.False_)  # numpy booleans are flags too


def test_dose_response_band_is_a_flag_or_a_callable(res: mp.FitResult) -> None:
    with pytest.raises(TypeError, match="`band` must be True, False or a callable.*got 'no'"):
        mp.plot.dose_response(res, band="no")  # type: ignore[arg-type]
    art = mp.plot.dose_response(res, band=lambda g: (g.magnitude * 0, g.magnitude * 0 + 1))
    assert art.curves[0].band is not None


# ----------------------------------------------------------------------------- 9. other values
def test_plate_heatmap_refuses_vmin_above_vmax() -> None:
    with pytest.raises(ValueError, match="`vmin` must be less than `vmax`; got vmin=10 and vmax=1"):
        mp.plot.plate_heatmap(np.arange(96.0), vmin=10, vmax=1)


@pytest.mark.parametrize("make", [np.array, pd.Index, tuple])
def test_curves_accepts_labels_of_any_sequence_type(make: Any) -> None:
    y = np.vstack([Y, Y[::-1]])
    art = mp.plot.curves(mp.fit(C, y), C, y, labels=make(["Torin1", "rapamycin"]))
    assert [t.get_text() for t in art.legend.get_texts()] == ["Torin1", "rapamycin"]


def test_curves_refuses_a_string_or_a_2d_array_as_labels() -> None:
    y = np.vstack([Y, Y[::-1]])
    res = mp.fit(C, y)
    with pytest.raises(TypeError, match="`labels` must be a sequence"):
        mp.plot.curves(res, labels="ab")
    with pytest.raises(ShapeError, match=r"`labels` must hold one label per curve \(2\); got 1"):
        mp.plot.curves(res, labels=np.array([["a", "b"]]))
