"""Bad input to the core API (mp.fit façade, units, tables, model curves): each gets the
library's own clear error naming the argument, never a foreign exception or a silently
dropped argument (found by an adversarial audit; each test failed before its fix)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import mtor_pharm as mp
from mtor_pharm.errors import ShapeError, UnitError, UnknownModelError

X = mp.Q_([1, 3, 10, 30, 100, 300, 1000.0], "nM")
Y = np.array([98, 94, 80, 52, 25, 10, 4.0])


def _dataarray() -> xr.DataArray:
    return xr.DataArray(Y, dims="conc", coords={"conc": ("conc", X.magnitude, {"units": "nM"})})


@pytest.mark.parametrize(
    ("kw", "fragment"),
    [
        ({"weights": np.ones(7)}, "`weights` does not apply when `conc` is an xarray.DataArray"),
        ({"progress": lambda d, t: None}, "`progress` does not apply"),
        ({"conc_unit": "uM"}, "`conc_unit` does not apply.*`units` attribute"),
    ],
)
def test_dataarray_fit_refuses_array_only_arguments_instead_of_dropping_them(kw: dict, fragment: str) -> None:
    with pytest.raises(TypeError, match=fragment):
        mp.fit(_dataarray(), dim="conc", **kw)


def test_along_is_refused_where_it_would_be_ignored() -> None:
    with pytest.raises(TypeError, match="`along` applies to global fits"):
        mp.fit(X, [Y, Y], along=0)
    with pytest.raises(TypeError, match=r"`along` names a dimension \('curve'\) only for an xarray.DataArray"):
        mp.fit(X, [Y, Y], share=["hill"], along="curve")
    with pytest.raises(UnknownModelError, match="`model` must be a model name"):
        mp.fit(X, [Y, Y], share=["hill"], model=5)  # type: ignore[call-overload]


@pytest.mark.parametrize("fixed", [{"hill": np.inf}, {"bottom": -np.inf}, {"ic50": np.inf}])
def test_fixed_values_must_be_finite(fixed: dict) -> None:
    name = next(iter(fixed))
    with pytest.raises(ValueError, match=rf"`fixed\['{name}'\]` must be a finite number"):
        mp.fit(X, Y, fixed=fixed)


def test_concentration_sequences_ragged_mixed_or_with_none() -> None:
    with pytest.raises(ShapeError, match="`conc` must be a rectangular array; got a ragged sequence"):
        mp.fit([[1, 2, 3], [1, 2]], [[1, 2, 3], [1, 2, 3]], conc_unit="uM")
    with pytest.raises(ShapeError, match="ragged"):
        mp.units.as_concentration([[1, 2, 3], [1, 2]], conc_unit="uM")
    with pytest.raises(UnitError, match="one kind"):
        mp.fit([mp.Q_(1, "uM"), mp.Q_(1, "ug/mL"), mp.Q_(3, "uM")], [1, 2, 3])
    with pytest.raises(ValueError, match="None among them"):
        mp.fit([1, None, 10, 30, 100, 300, 1000], Y, conc_unit="nM")
    # a list of molar Quantities is a concentration (it failed inside numpy's complex check)
    listed = mp.fit([mp.Q_(v, "nM") for v in X.magnitude], Y)
    np.testing.assert_allclose(listed.ic50.magnitude, mp.fit(X, Y).ic50.magnitude, rtol=1e-12)


def test_generic_families_on_huge_responses_do_not_leak_overflow_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = mp.fit(X, np.stack([Y, Y * 1e160]), model="bc4")  # the huge curve: INVALID_DATA, no warning
    assert int(res.status[1]) & int(mp.FitStatus.INVALID_DATA)


def test_unit_helpers_refuse_impossible_values() -> None:
    with pytest.raises(ValueError, match="`ic50` must be positive"):
        mp.pic50(mp.Q_(-1, "nM"))
    with pytest.raises(ValueError, match="`ic50` must be positive"):
        mp.pic50("0 nM")
    assert np.isnan(mp.pic50(mp.Q_([np.nan, 10.0], "nM"))[0])  # an undetermined IC50 stays NaN
    with pytest.raises(ValueError, match="`conc` must be non-negative; got -1 microgram / milliliter"):
        mp.units.mass_to_molar("-1 ug/mL", "914 g/mol")
    with pytest.raises(ValueError, match="`conc` must be non-negative"):
        mp.units.molar_to_mass("-1 uM", "914 g/mol")
    with pytest.raises(TypeError, match="`x` must be numbers"):
        mp.units.from_log10(None)
    with pytest.raises(ValueError, match="`p` must hold real numbers; got None"):
        mp.from_pic50([None, 7])


def test_mass_concentration_hints_offer_only_what_the_function_takes() -> None:
    with pytest.raises(UnitError, match="give it in molar units") as err:
        mp.pic50("1 ug/mL")
    assert "inhibitor=" not in str(err.value)
    with pytest.raises(UnitError, match="give it in molar units") as err:
        mp.dilution_series("10 ug/mL", factor=3, n=4)
    assert "inhibitor=" not in str(err.value)
    with pytest.raises(UnitError, match="inhibitor="):  # mp.fit does take it
        mp.fit(mp.Q_([1, 2, 3, 4, 5], "ug/mL"), Y[:5])


@pytest.mark.parametrize("code", [-1, 1.5, "5", True, None, float("nan"), 256])
def test_status_words_refuses_what_is_not_a_status(code: object) -> None:
    with pytest.raises(ValueError, match="`code` must be a status"):
        mp.status_words(code)  # type: ignore[arg-type]


def test_status_words_takes_a_curves_status_in_every_integer_form() -> None:
    one = mp.fit(X, Y)
    assert mp.status_words(one.status) == mp.status_words(0) == "OK"  # a 0-d uint8 array
    assert mp.status_words(np.uint8(5)) == mp.status_words(5) == "not converged; no response (flat)"


def test_table_helpers_name_the_argument() -> None:
    df = pd.DataFrame([[1.0, 1.0, 90], [10, 10, 50], [100, 100, 10], [1000, 1000, 5]], columns=["c", "c", "v"])
    with pytest.raises(ValueError, match="`conc` names column 'c', which `df` has 2 times"):
        mp.fit_table(df, conc="c", response="v", conc_unit="nM")
    ok = pd.DataFrame({"c": [1, 10, 100, 1000.0, 3], "v": [90, 50, 10, 5, 70]})
    for by in (None, 5):
        with pytest.raises(TypeError, match="`by` must be a column name or a list of column names"):
            mp.fit_table(ok, conc="c", response="v", by=by, conc_unit="nM")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`result` must be a FitResult"):
        mp.summary_table(5)  # type: ignore[arg-type]


def test_write_table_checks_its_path(tmp_path: object) -> None:
    table = mp.summary_table(mp.fit(X, Y))
    for bad in (None, 5):
        with pytest.raises(TypeError, match="`path` must be a file name"):
            mp.write_table(table, bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be in a folder that exists"):
        mp.write_table(table, f"{tmp_path}/no_such_folder/t.csv")
    with pytest.raises(ValueError, match="is a folder"):
        mp.write_table(table, str(tmp_path) + "/")


def test_model_curves_refuse_parameters_outside_their_domain() -> None:
    x = np.array([0.01, 1, 100.0])
    with pytest.raises(ValueError, match="`ic50` of 4pl must be a non-negative concentration; got -1"):
        mp.models.four_pl(x, 0, 100, -1, 1)
    with pytest.raises(ValueError, match="`x` of 4pl must be non-negative"):
        mp.models.four_pl(np.array([-1.0]), 0, 100, 1, 1)
    with pytest.raises(ValueError, match="`s` of 5pl must be non-negative"):
        mp.models.five_pl(x, 0, 100, 1, 1, -1)
    # vehicle (x = 0) and NaN are still fine, and so is the limit ic50 -> 0 (a bound an optimizer may touch)
    out = mp.models.four_pl(np.array([0.0, 1.0, np.nan]), 0, 100, 1, 1)
    assert out[0] == 100.0 and out[1] == 50.0 and np.isnan(out[2])
    assert mp.models.four_pl(np.array([0.0, 1.0]), 0, 100, 0.0, 1).tolist() == [100.0, 0.0]


def test_write_table_writes_excel(tmp_path: object) -> None:
    """A Prism user's tables go to Excel: .xlsx is written (openpyxl, the `excel` extra) and reads back."""
    table = mp.paper_table(mp.fit(X, [Y, Y[::-1] * 0.5 + 50]))
    out = mp.write_table(table, f"{tmp_path}/t.xlsx")
    back = pd.read_excel(out)  # a RangeIndex is not written, as for CSV
    assert list(back.columns) == list(table.columns)
    assert back.iloc[0, 0] == table.iloc[0, 0]


def test_dim_with_arrays_is_refused_on_the_global_route_too() -> None:
    with pytest.raises(TypeError, match="`dim` and `conc_coord` apply to an xarray.DataArray"):
        mp.fit(X, [Y, Y], share=["hill"], dim="x")  # type: ignore[call-overload]


def test_linear_cells_names_its_arrays() -> None:
    with pytest.raises(ShapeError, match=r"`design` must have shape \(c, n, k, m\)"):
        mp.models.linear_cells(np.ones((2, 3, 2)), np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(TypeError, match="arrays of real numbers"):
        mp.models.linear_cells("a", "b", "c")  # type: ignore[arg-type]
    # the documented shapes: an exact line in every cell
    x = np.linspace(0, 1, 5)
    design = np.stack([np.ones(5), x], axis=-1)[None, None]  # (1, 1, 5, 2)
    coef, rss = mp.models.linear_cells(design, (2 + 3 * x)[None, None], np.ones((1, 5)))
    np.testing.assert_allclose(coef[0, 0], [2, 3], atol=1e-12)
    assert rss[0, 0] < 1e-20


def test_invalid_data_in_one_curve_flags_that_curve_not_the_batch() -> None:
    """A screen of many curves must survive one bad well: an infinite response, or with one design
    per curve a negative, infinite or NaN concentration where there is a response, marks that curve
    INVALID_DATA (with TOO_FEW_POINTS: not fitted) and the others are fitted exactly as alone."""
    y = np.stack([Y, Y * 0.9 + 5, Y])
    bad_y = y.copy()
    bad_y[1, 2] = np.inf
    before = bad_y.copy()
    res = mp.fit(X, bad_y)
    np.testing.assert_array_equal(bad_y, before)  # the caller's array is not touched
    flag = int(mp.FitStatus.INVALID_DATA | mp.FitStatus.TOO_FEW_POINTS)
    assert res.status.tolist() == [0, flag, 0]
    assert np.isnan(res.ic50.magnitude[1])
    alone = mp.fit(X, y[[0, 2]])
    np.testing.assert_array_equal(res.ic50.magnitude[[0, 2]], alone.ic50.magnitude)
    assert "invalid" in mp.status_words(res.status[1]).lower()

    conc = np.stack([X.magnitude] * 3)
    for value in (-1.0, np.inf, np.nan):
        c = conc.copy()
        c[2, 3] = value
        per_curve = mp.fit(mp.Q_(c, "nM"), y)
        assert per_curve.status.tolist() == [0, 0, flag], value
        np.testing.assert_array_equal(per_curve.ic50.magnitude[:2], mp.fit(X, y[:2]).ic50.magnitude)
        assert np.isnan(c[2, 3]) or c[2, 3] == value  # not mutated


def test_invalid_data_is_still_refused_for_one_curve_or_a_shared_design() -> None:
    with pytest.raises(ValueError, match="`response` must be finite"):
        mp.fit(X, np.where(np.arange(7) == 2, np.inf, Y))
    shared = X.magnitude.copy()
    shared[3] = -1.0
    with pytest.raises(ValueError, match="`conc` must be non-negative"):
        mp.fit(mp.Q_(shared, "nM"), [Y, Y])  # one design for every curve: the design is wrong


def test_invalid_data_in_a_dask_chunk_is_flagged_on_its_curve() -> None:
    pytest.importorskip("dask")
    y = np.stack([Y] * 6)
    y[4, 1] = np.inf
    da = xr.DataArray(y, dims=("curve", "conc"), coords={"conc": ("conc", X.magnitude, {"units": "nM"})})
    ds = mp.fit(da.chunk({"curve": 2}), dim="conc").compute()
    flag = int(mp.FitStatus.INVALID_DATA | mp.FitStatus.TOO_FEW_POINTS)
    assert ds["status"].values.tolist() == [0, 0, 0, 0, flag, 0]


def test_every_status_bit_has_words() -> None:
    from mtor_pharm._tables import _STATUS_WORDS

    assert {str(f.name) for f in mp.FitStatus if f} == set(_STATUS_WORDS)
    both = int(mp.FitStatus.TOO_FEW_POINTS | mp.FitStatus.INVALID_DATA)
    assert mp.status_words(both) == "too few points; invalid data"


def test_responses_beyond_what_the_sums_of_squares_hold_are_invalid_not_flat() -> None:
    """Responses of ~1e160 (or all ~1e-200) overflow or underflow the sums of squares: such a curve
    was reported FLAT_RESPONSE with no word. In a batch it is INVALID_DATA; alone it is refused;
    1e150-scaled responses still give the IC50 of the unscaled curve."""
    flag = int(mp.FitStatus.INVALID_DATA | mp.FitStatus.TOO_FEW_POINTS)
    res = mp.fit(X, np.stack([Y, Y * 1e160, Y * 1e-200, Y * 1e150]))
    assert res.status.tolist() == [0, flag, flag, 0]
    np.testing.assert_allclose(res.ic50.magnitude[3], res.ic50.magnitude[0], rtol=1e-9)
    with pytest.raises(ValueError, match="Rescale the readout"):
        mp.fit(X, Y * 1e160)
    assert int(mp.fit(X, np.zeros(7)).status) & int(mp.FitStatus.FLAT_RESPONSE)  # zeros: flat, not invalid
