"""Potency and selectivity ratios (mtor_pharm.compare.potency_ratio): delta method by hand, Fieller, coverage."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from numpy.typing import ArrayLike
from scipy import special, stats

import mtor_pharm as mp
from mtor_pharm import compare as cmp

CONC = np.repeat(10.0 / 3.0 ** np.arange(10), 3)  # uM, triplicates: a well-determined design


def logistic4(x: np.ndarray, bottom: ArrayLike, top: ArrayLike, ic50: ArrayLike, hill: ArrayLike) -> np.ndarray:
    """The 4PL written from its formula (not the library kernel)."""
    b, t, c, h = (np.asarray(v, dtype=np.float64) for v in (bottom, top, ic50, hill))
    return np.asarray(b + (t - b) / (1.0 + (x / c) ** h))


def _pair(seed: int, n: int = 1, ic50: tuple[float, float] = (0.1, 0.3), sd: float = 5.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([logistic4(CONC, 0, 100, c, 1.0) + rng.normal(0, sd, (n, CONC.size)) for c in ic50], axis=1)


def _fieller_by_hand(a: float, b: float, va: float, vb: float, vab: float, t: float) -> tuple[float, float]:
    """Fieller (1954): roots of (a - r b)^2 = t^2 (va - 2 r vab + r^2 vb)."""
    A = b * b - t * t * vb
    B = -2.0 * (a * b - t * t * vab)
    C = a * a - t * t * va
    roots = np.roots([A, B, C])
    return float(min(roots.real)), float(max(roots.real))


def test_ratio_of_independent_fits_matches_the_delta_method_by_hand() -> None:
    y = _pair(0, n=5)
    res = mp.fit(CONC, y, conc_unit="uM")  # (5, 2) independent fits
    r = cmp.potency_ratio(0, 1, fit=res, axis=1)
    ic, se = res.params["ic50"], res.stderr["ic50"]
    np.testing.assert_allclose(r.estimate, ic[:, 0] / ic[:, 1], rtol=1e-12)
    log_se = np.sqrt((se[:, 0] / ic[:, 0]) ** 2 + (se[:, 1] / ic[:, 1]) ** 2)
    np.testing.assert_allclose(r.log_se, log_se, rtol=1e-8)
    va, vb = (se[:, 0] / ic[:, 0]) ** 2, (se[:, 1] / ic[:, 1]) ** 2
    df = (va + vb) ** 2 / (va**2 / res.dof[:, 0] + vb**2 / res.dof[:, 1])  # Welch-Satterthwaite
    np.testing.assert_allclose(r.df, df, rtol=1e-10)
    t = np.log(ic[:, 0] / ic[:, 1]) / log_se
    np.testing.assert_allclose(r.pvalue, 2 * stats.t.sf(np.abs(t), df), rtol=1e-8)
    low, high = r.ci(level=0.9)
    q = stats.t.ppf(0.95, df)
    np.testing.assert_allclose(low, r.estimate * np.exp(-q * log_se), rtol=1e-10)
    np.testing.assert_allclose(high, r.estimate * np.exp(q * log_se), rtol=1e-10)


def test_ratio_from_two_fit_results_equals_ratio_within_one_batch() -> None:
    y = _pair(1, n=4)
    res = mp.fit(CONC, y, conc_unit="uM")
    within = cmp.potency_ratio(0, 1, fit=res, axis=1)
    a = mp.fit(mp.Q_(CONC, "uM"), y[:, 0])
    b = mp.fit(mp.Q_(CONC * 1000, "nM"), y[:, 1])  # another unit: converted, not mixed
    between = cmp.potency_ratio(a, b)
    np.testing.assert_allclose(between.estimate, within.estimate, rtol=1e-7)
    np.testing.assert_allclose(between.log_se, within.log_se, rtol=1e-6)
    assert between.conc_unit == "micromolar"


def test_ratio_of_icx_matches_the_delta_method_by_hand() -> None:
    y = _pair(2, n=3)
    res = mp.fit(CONC, y, conc_unit="uM")
    r = cmp.potency_ratio(0, 1, fit=res, axis=1, p=90)
    # 4PL: ln IC90 = ln ic50 + logit(0.9)/hill, gradient (d/d ln ic50, d/d hill) = (1, -logit(0.9)/hill^2)
    z = special.logit(0.9)
    var = []
    for j in range(2):
        cov = res.covariance[:, j]  # (3, 4, 4) over (bottom, top, ic50, hill)
        ic, h = res.params["ic50"][:, j], res.params["hill"][:, j]
        g_ic, g_h = 1.0 / ic, -z / h**2  # d ln IC90 / d ic50 and / d hill
        var.append(g_ic**2 * cov[:, 2, 2] + g_h**2 * cov[:, 3, 3] + 2 * g_ic * g_h * cov[:, 2, 3])
    icx = res.params["ic50"] * np.exp(z / res.params["hill"])
    np.testing.assert_allclose(r.estimate, icx[:, 0] / icx[:, 1], rtol=1e-10)
    np.testing.assert_allclose(r.log_se, np.sqrt(var[0] + var[1]), rtol=1e-7)


def test_ratio_within_a_joint_fit_uses_the_joint_covariance_by_hand() -> None:
    y = _pair(3)[0]
    sf = cmp.fit_shared(CONC, y, conc_unit="uM", share=("hill", "top", "bottom"))
    r = cmp.potency_ratio(0, 1, fit=sf)
    C = sf.covariance  # (2, 4, 2, 4)
    a, b = sf.params["ic50"]
    var = C[0, 2, 0, 2] / a**2 + C[1, 2, 1, 2] / b**2 - 2 * C[0, 2, 1, 2] / (a * b)
    np.testing.assert_allclose(r.log_se, np.sqrt(var), rtol=1e-8)
    assert float(r.df) == float(sf.dof)
    assert C[0, 2, 1, 2] != 0  # the curves are correlated through the shared parameters
    np.testing.assert_allclose(r.covariance[0, 1], C[0, 2, 1, 2], rtol=1e-8)


def test_fieller_interval_equals_its_closed_form() -> None:
    y = _pair(4, n=6)
    res = mp.fit(CONC, y, conc_unit="uM")
    r = cmp.potency_ratio(0, 1, fit=res, axis=1)
    low, high = r.ci(method="fieller")
    t = stats.t.ppf(0.975, r.df)
    for i in range(6):
        a, b = res.params["ic50"][i]
        va, vb = res.stderr["ic50"][i] ** 2
        lo_ref, hi_ref = _fieller_by_hand(a, b, va, vb, 0.0, t[i])
        np.testing.assert_allclose([low[i], high[i]], [lo_ref, hi_ref], rtol=1e-9)


def test_fieller_interval_is_unbounded_when_the_denominator_is_not_significant() -> None:
    res = mp.fit(CONC, _pair(5)[0], conc_unit="uM")
    r = cmp.potency_ratio(0, 1, fit=res)
    wide = cmp.Ratio(
        estimate=r.estimate,
        numerator=r.numerator,
        denominator=r.denominator,
        log_se=r.log_se,
        covariance=np.array([[r.covariance[0, 0], 0.0], [0.0, float(r.denominator) ** 2]]),
        df=r.df,
        statistic=r.statistic,
        pvalue=r.pvalue,
        percent=50.0,
        conc_unit=r.conc_unit,
    )
    low, high = wide.ci(method="fieller")
    assert low == -np.inf and high == np.inf


@pytest.mark.parametrize("method", ["delta", "fieller"])
def test_ratio_intervals_cover_the_true_ratio_in_95_percent_of_simulations(method: str) -> None:
    n = 2000
    y = _pair(6, n=n)
    truth = 0.1 / 0.3
    separate = cmp.potency_ratio(0, 1, fit=mp.fit(CONC, y, conc_unit="uM"), axis=1)
    joint = cmp.potency_ratio(0, 1, fit=cmp.fit_shared(CONC, y, conc_unit="uM"))
    for r in (separate, joint):
        low, high = r.ci(method=method)  # type: ignore[arg-type]
        coverage = np.mean((low < truth) & (truth < high))
        assert 0.93 <= coverage <= 0.97, coverage


def test_wald_interval_of_ic50_covers_the_truth_in_95_percent_of_simulations() -> None:
    y = _pair(7, n=2000)[:, 0]
    low, high = mp.fit(CONC, y, conc_unit="uM").ci("ic50")
    coverage = np.mean((low.magnitude < 0.1) & (high.magnitude > 0.1))
    assert 0.93 <= coverage <= 0.97, coverage


def test_ratio_test_of_equal_potency_holds_its_level() -> None:
    y = _pair(8, n=2000, ic50=(0.1, 0.1))
    r = cmp.potency_ratio(0, 1, fit=mp.fit(CONC, y, conc_unit="uM"), axis=1)
    assert 0.035 <= np.mean(r.pvalue < 0.05) <= 0.065


def test_selectivity_index_of_two_readouts_broadcasts_over_compounds() -> None:
    # IC50 on p-Akt S473 (mTORC2) over p-S6K1 (mTORC1) for a rapalog-like and a TORKi-like compound
    rng = np.random.default_rng(9)
    akt = logistic4(CONC, 0, 100, np.array([[5.0], [0.02]]), 1.0) + rng.normal(0, 3, (2, CONC.size))
    s6k = logistic4(CONC, 0, 100, np.array([[0.01], [0.01]]), 1.0) + rng.normal(0, 3, (2, CONC.size))
    sel = cmp.potency_ratio(mp.fit(CONC, akt, conc_unit="uM"), mp.fit(CONC, s6k, conc_unit="uM"))
    assert sel.shape == (2,)
    assert sel.estimate[0] > 100 and sel.pvalue[0] < 1e-6  # mTORC1-selective
    assert 0.5 < sel.estimate[1] < 5  # dual


def test_ratio_from_a_dataset_equals_the_fit_result() -> None:
    y = _pair(10)[0]
    data = xr.DataArray(
        y,
        dims=("compound", "concentration"),
        coords={"compound": ["sapanisertib", "rapamycin"], "concentration": ("concentration", CONC, {"units": "uM"})},
    )
    ds = mp.fit(data, dim="concentration")
    r_ds = cmp.potency_ratio("sapanisertib", "rapamycin", fit=ds, axis="compound")
    r_fr = cmp.potency_ratio(0, 1, fit=mp.fit(CONC, y, conc_unit="uM"))
    np.testing.assert_allclose(r_ds.estimate, r_fr.estimate, rtol=1e-10)
    np.testing.assert_allclose(r_ds.log_se, r_fr.log_se, rtol=1e-10)


def test_ratio_of_a_flat_curve_is_nan() -> None:
    y = _pair(11)[0]
    y[1] = 50 + np.random.default_rng(0).normal(0, 5, CONC.size)
    r = cmp.potency_ratio(0, 1, fit=mp.fit(CONC, y, conc_unit="uM"))
    assert np.isnan(r.estimate) and np.isnan(r.pvalue)


def test_potency_ratio_rejects_bad_input() -> None:
    y = _pair(12)[0]
    res = mp.fit(CONC, y, conc_unit="uM")
    with pytest.raises(ValueError, match="`p` must be a percentage"):
        cmp.potency_ratio(0, 1, fit=res, p=150)
    with pytest.raises(ValueError, match="`level` must be in"):
        cmp.potency_ratio(0, 1, fit=res).ci(level=95)
    with pytest.raises(ValueError, match="`method` must be"):
        cmp.potency_ratio(0, 1, fit=res).ci(method="bootstrap")  # type: ignore[arg-type]
    with pytest.raises(LookupError, match=r"`b` must index the 2 curves along `axis` \(an integer from -2 to 1\)"):
        cmp.potency_ratio(0, 5, fit=res)
    with pytest.raises(LookupError, match="`a` must be a curve label"):
        cmp.potency_ratio("torin1", 0, fit=cmp.fit_shared(CONC, y, conc_unit="uM"))
    with pytest.raises(TypeError, match="must both be FitResults"):
        cmp.potency_ratio(res, 1)
    with pytest.raises(ValueError, match="broadcastable batch shapes"):
        cmp.potency_ratio(res, mp.fit(CONC, np.stack([y[0]] * 3), conc_unit="uM"))
