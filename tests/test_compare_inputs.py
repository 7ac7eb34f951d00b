"""Bad input to mtor_pharm.compare gets a clear error naming the argument (audit items 3, 16, 17, 25, 27)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import mtor_pharm as mp
from mtor_pharm import compare as cmp

CONC = 1000.0 / 3.0 ** np.arange(8)  # nM


def _curves(ic50s: tuple[float, ...] = (30.0, 3.0), seed: int = 0) -> np.ndarray:
    """Noisy 4PL curves, one row per IC50."""
    y = mp.models.four_pl(CONC, 0, 100, np.array(ic50s)[:, None], 1.0)
    return np.asarray(y + np.random.default_rng(seed).normal(0, 2, y.shape))


def _table(response_b: np.ndarray) -> pd.DataFrame:
    y_a = _curves((30.0,))[0]
    return pd.DataFrame(
        {"compound": ["A"] * 8 + ["B"] * response_b.size, "conc": np.r_[CONC, CONC[: response_b.size]],
         "response": np.r_[y_a, response_b]}
    )


# ----------------------------------------------------------------------------- item 3: dim/over with arrays
def test_fit_shared_refuses_dim_and_over_with_arrays() -> None:
    y = _curves()
    with pytest.raises(TypeError, match=r"`dim` and `over` apply to an xarray.DataArray `conc`; got arrays with "
                       r"dim='x', over='y'\. With arrays, the curves of one global fit lie along `axis`"):
        cmp.fit_shared(CONC, y, conc_unit="nM", share=("hill",), dim="x", over="y")
    with pytest.raises(TypeError, match=r"`over` applies to an xarray.DataArray `conc`; got arrays with over='y'"):
        cmp.fit_shared(CONC, y, conc_unit="nM", share=("hill",), over="y")
    with pytest.raises(TypeError, match=r"`dim` applies to an xarray.DataArray `conc`; got arrays with dim='x'"):
        cmp.fit_shared(np.r_[CONC, CONC], y.ravel(), groups=[0] * 8 + [1] * 8, conc_unit="nM", dim="x")


def test_find_outliers_and_fit_robust_refuse_dim_with_arrays() -> None:
    y = _curves()
    match = r"`dim` applies to an xarray.DataArray `conc`; got arrays with dim='x'\. With arrays, the concentrations"
    with pytest.raises(TypeError, match=match):
        cmp.find_outliers(CONC, y, conc_unit="nM", dim="x")
    with pytest.raises(TypeError, match=match):
        cmp.fit_robust(CONC, y, conc_unit="nM", dim="x")


def test_dim_and_over_still_drive_a_dataarray() -> None:
    y = _curves()
    data = xr.DataArray(
        y, dims=("compound", "conc"), coords={"compound": ["a", "b"], "conc": ("conc", CONC, {"units": "nM"})}
    )
    sf = cmp.fit_shared(data, share=("hill",), dim="conc", over="compound")
    assert sf.labels == ("a", "b")
    ref = cmp.fit_shared(CONC, y, conc_unit="nM", share=("hill",))
    np.testing.assert_allclose(sf.params["ic50"], ref.params["ic50"], rtol=1e-12)
    assert cmp.find_outliers(data, dim="conc").mask.shape == y.shape


# ----------------------------------------------------------------------------- item 16: curve indices
def test_potency_ratio_refuses_an_index_outside_the_curves() -> None:
    res = mp.fit(CONC, _curves((30.0, 3.0, 300.0)), conc_unit="nM")
    with pytest.raises(LookupError, match=r"`b` must index the 3 curves along `axis` \(an integer from -3 to 2\); "
                       r"got 5\.") as info:
        cmp.potency_ratio(0, 5, fit=res)
    assert not isinstance(info.value, IndexError)
    with pytest.raises(LookupError, match=r"`a` must index the 3 curves .*; got \[0, -4\]"):
        cmp.potency_ratio([0, -4], [1, 2], fit=res)
    sf = cmp.fit_shared(CONC, _curves(), conc_unit="nM", share=("hill",))
    with pytest.raises(LookupError, match=r"`b` must be a curve label of `fit` \(\[0, 1\]\) or an index; got \[1, 7\]"):
        cmp.potency_ratio([0, 0], [1, 7], fit=sf)


# ----------------------------------------------------------------------------- item 17: fits of different data
def test_f_test_and_select_refuse_fits_of_different_responses() -> None:
    y = _curves((30.0,))[0]
    r3, r4_double = mp.fit(CONC, y, conc_unit="nM", model="3pl"), mp.fit(CONC, 2 * y, conc_unit="nM")
    match = r"must be fits of the same data; their responses differ: the sum of squares of the responses"
    with pytest.raises(ValueError, match="`reduced` and `full` " + match):
        cmp.f_test(r3, r4_double)
    with pytest.raises(ValueError, match=r"`results\['3pl'\]` and `results\['4pl'\]` " + match):
        cmp.select({"3pl": r3, "4pl": r4_double})
    # other weights are other data for the F test too
    with pytest.raises(ValueError, match=match):
        cmp.f_test(r3, mp.fit(CONC, y, conc_unit="nM", weights=np.linspace(1.0, 2.0, 8)))
    # nested fits of the same data are compared as before
    t = cmp.f_test(r3, mp.fit(CONC, y, conc_unit="nM"))
    assert int(t.df1) == 1 and 0.0 <= float(t.pvalue) <= 1.0


def test_f_test_refuses_global_fits_of_different_responses() -> None:
    y = _curves()
    full = cmp.fit_shared(CONC, y, conc_unit="nM", share=("hill",))
    with pytest.raises(ValueError, match=r"their responses differ at curve 0: the sum of squares"):
        cmp.f_test(cmp.fit_shared(CONC, y / 3, conc_unit="nM", share=("hill", "ic50")), full)
    t = cmp.f_test(cmp.fit_shared(CONC, y, conc_unit="nM", share=("hill", "ic50")), full)
    assert float(t.pvalue) < 1e-3  # IC50s of 30 and 3 nM


def test_f_test_refuses_a_reduced_fit_below_a_settled_full_fit() -> None:
    # Datasets record no sum of squares of the data: the order of the RSS is what is left to check
    y = _curves((30.0,))[0]

    def dataset(values: np.ndarray, model: str) -> xr.Dataset:
        data = xr.DataArray(values[None], dims=("compound", "conc"),
                            coords={"compound": ["a"], "conc": ("conc", CONC, {"units": "nM"})})
        return mp.fit(data, dim="conc", model=model)

    full = dataset(2 * y, "4pl")
    assert int(full["status"].item()) == 0
    with pytest.raises(ValueError, match=r"`reduced` and `full` must be nested fits of the same data; at curve 0 "
                       r"`reduced` has the smaller residual sum of squares \(.* < .*\), which a fit nested in `full` "
                       r"cannot have when `full` reached its optimum"):
        cmp.f_test(dataset(y, "3pl"), full)
    assert cmp.f_test(dataset(2 * y, "3pl"), full).statistic.item() >= 0.0


# ----------------------------------------------------------------------------- item 25: profile_ci(xtol=)
@pytest.mark.parametrize("xtol", [-1.0, 0, math.nan, math.inf, "1e-6"])
def test_profile_ci_refuses_an_xtol_that_is_not_a_positive_finite_number(xtol: object) -> None:
    y = _curves((30.0,))[0]
    res = mp.fit(CONC, y, conc_unit="nM")
    with pytest.raises(ValueError, match=r"`xtol` must be a positive finite tolerance, e.g\. 1e-6; got "):
        cmp.profile_ci(res, CONC, y, conc_unit="nM", xtol=xtol)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- item 27: compare_potency
@pytest.mark.parametrize(("response_b", "n"), [(np.full(8, np.nan), 0), (_curves((3.0,))[0][:3], 3)])
def test_compare_potency_names_a_curve_with_too_few_points(response_b: np.ndarray, n: int) -> None:
    with pytest.raises(ValueError, match=rf"curve 'B' \(`b`\) has {n} usable points \(finite concentration and "
                       rf"response\) at {n} distinct concentrations; comparing 4pl IC50s needs at least 5 points "
                       "per curve at 4 or more distinct concentrations"):
        cmp.compare_potency(_table(response_b), "A", "B", conc_unit="nM")


def test_compare_potency_counts_the_points_a_shared_fit_needs() -> None:
    # with the plateaus and the slope shared, a curve has one parameter of its own: 3 points will do
    out = cmp.compare_potency(_table(_curves((3.0,))[0][2:5]), "A", "B", conc_unit="nM",
                              share=("top", "bottom", "hill"))
    assert 1.0 < out.ratio < 100.0
    with pytest.raises(ValueError, match=r"curve 'B' \(`b`\) has 0 usable points"):
        cmp.compare_potency(_table(np.full(8, np.nan)), "A", "B", conc_unit="nM", share=("top", "bottom", "hill"))
    # ... but the two curves together need a residual degree of freedom
    two = _table(_curves((3.0,))[0][2:4])
    two = two[(two["compound"] == "B") | (two["conc"] > 100)]  # A keeps 3 points
    with pytest.raises(ValueError, match=r"curves 'A' and 'B' have 5 usable points together; comparing 4pl IC50s "
                       r"with share=\['top', 'bottom', 'hill'\] needs more than 5"):
        cmp.compare_potency(two, "A", "B", conc_unit="nM", share=("top", "bottom", "hill"))


def test_compare_potency_refuses_a_str_share_as_fit_shared_does() -> None:
    df = _table(_curves((3.0,))[0])
    match = r"`share` must be a sequence of parameter names, e.g\. \('hill',\)"
    with pytest.raises(TypeError, match=match + r"; got 'hill'\."):
        cmp.compare_potency(df, "A", "B", conc_unit="nM", share="hill")
    with pytest.raises(TypeError, match=match + r"; got \{'hill': \[0, 1\]\}\."):
        cmp.compare_potency(df, "A", "B", conc_unit="nM", share={"hill": [0, 1]})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=match + r", or a mapping of parameter name to groups.*; got 'hill'\."):
        cmp.fit_shared(CONC, _curves(), conc_unit="nM", share="hill")
    assert cmp.compare_potency(df, "A", "B", conc_unit="nM", share=("hill",)).share == ("hill",)


@pytest.mark.parametrize("model", ["5pl", "weibull1", "morrison"])
def test_compare_potency_needs_a_family_with_an_ic50(model: str) -> None:
    with pytest.raises(ValueError, match=r"`model`: compare_potency needs a family with an `ic50` parameter "
                       rf"\(4pl, 3pl, 2pl, lognormal\); got '{model}'"):
        cmp.compare_potency(_table(_curves((3.0,))[0]), "A", "B", conc_unit="nM", model=model)


def test_fit_shared_refuses_conc_unit_with_a_dataarray() -> None:
    data = xr.DataArray(
        _curves(), dims=("compound", "conc"), coords={"compound": ["a", "b"], "conc": ("conc", CONC, {"units": "nM"})}
    )
    with pytest.raises(TypeError, match=r"`conc_unit` does not apply when `conc` is an xarray.DataArray; got "
                       r"conc_unit='uM': the unit comes from the attrs\['units'\] of the concentration coordinate"):
        cmp.fit_shared(data, share=("hill",), dim="conc", over="compound", conc_unit="uM")


def test_compare_potency_with_fixed_parameters_matches_scipy_and_the_2pl() -> None:
    """Prism compares IC50s with constraints (bottom 0 / top 100, or its standard slope): `fixed=`
    holds them in both models. Checked against the 2pl family (the same model by another route)
    and against scipy least squares for the standard slope."""
    import pandas as pd
    from scipy.optimize import least_squares

    x = 1000.0 / 3.0 ** np.arange(9)
    rng = np.random.default_rng(11)
    rows = [{"compound": c, "conc": xi, "response": mp.models.four_pl(xi, 3, 97, ic, 1.0) + rng.normal(0, 3)}
            for c, ic in (("A", 4.0), ("B", 25.0)) for xi in x for _ in range(2)]
    df = pd.DataFrame(rows)
    plateaus = mp.compare.compare_potency(df, "B", "A", conc_unit="nM", fixed={"bottom": 0, "top": 100})
    two = mp.compare.compare_potency(df, "B", "A", conc_unit="nM", model="2pl")
    assert plateaus.ratio == pytest.approx(two.ratio, rel=1e-7)
    assert plateaus.pvalue == pytest.approx(two.pvalue, rel=1e-6)

    std = mp.compare.compare_potency(df, "B", "A", conc_unit="nM", fixed={"hill": 1})
    xa = df["conc"].to_numpy()
    ya = df["response"].to_numpy()
    is_b = (df["compound"] == "B").to_numpy()

    def model(p: np.ndarray, shared: bool) -> np.ndarray:
        ba, ta, la, bb, tb = p[:5]
        lb = la if shared else p[5]
        yb = bb + (tb - bb) / (1 + xa / 10.0**lb)
        ya_ = ba + (ta - ba) / (1 + xa / 10.0**la)
        return np.where(is_b, yb, ya_) - ya

    full = least_squares(model, [0, 100, 0.5, 0, 100, 1.5], args=(False,), xtol=1e-15, ftol=1e-15, gtol=1e-15)
    red = least_squares(model, [0, 100, 1.0, 0, 100], args=(True,), xtol=1e-15, ftol=1e-15, gtol=1e-15)
    rss_f, rss_r = 2 * full.cost, 2 * red.cost
    dof = xa.size - 6
    f_ref = (rss_r - rss_f) / (rss_f / dof)
    assert float(std.f_test.statistic) == pytest.approx(f_ref, rel=1e-6)
    assert std.ratio == pytest.approx(10.0 ** (full.x[5] - full.x[2]), rel=1e-6)


def test_compare_potency_refuses_fixing_the_ic50() -> None:
    import pandas as pd

    df = pd.DataFrame({"compound": ["A"] * 5 + ["B"] * 5, "conc": [1, 10, 100, 1000, 3] * 2,
                       "response": [90, 60, 20, 5, 80, 95, 80, 40, 10, 90]})
    with pytest.raises(ValueError, match="`fixed` must not contain 'ic50'"):
        mp.compare.compare_potency(df, "A", "B", conc_unit="nM", fixed={"ic50": 3})
