"""Profile-likelihood intervals and bands (mtor_pharm.compare.profile_ci, bands)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import ArrayLike
from scipy import stats

import mtor_pharm as mp
from mtor_pharm import compare as cmp

GOOD = np.repeat(10.0 / 3.0 ** np.arange(10), 3)  # uM: 10 concentrations in triplicate
POOR = 10.0 / 3.0 ** np.arange(8)  # uM: 8 single points, the IC50 below used near the top


def logistic4(x: np.ndarray, bottom: ArrayLike, top: ArrayLike, ic50: ArrayLike, hill: ArrayLike) -> np.ndarray:
    """The 4PL written from its formula (not the library kernel)."""
    b, t, c, h = (np.asarray(v, dtype=np.float64) for v in (bottom, top, ic50, hill))
    return np.asarray(b + (t - b) / (1.0 + (x / c) ** h))


def _refit_rss(x: np.ndarray, y: np.ndarray, name: str, values: np.ndarray) -> np.ndarray:
    """Independent check: scipy least_squares with `name` held at `values` (others free), per curve."""
    from scipy.optimize import least_squares

    out = []
    for yi, v in zip(y, values, strict=True):

        def resid(p: np.ndarray, yi: np.ndarray = yi, v: float = v) -> np.ndarray:
            par = {"bottom": p[0], "top": p[1], "hill": p[2], "ic50": v}
            return np.asarray(logistic4(x, par["bottom"], par["top"], par["ic50"], par["hill"]) - yi)

        best = np.inf
        for h0 in (0.5, 1.0, 2.0):
            sol = least_squares(resid, [yi.min(), yi.max(), h0], method="lm", xtol=1e-14, ftol=1e-14, gtol=1e-14)
            best = min(best, float(np.sum(sol.fun**2)))
        out.append(best)
    return np.array(out)


def test_profile_limits_sit_on_the_rss_threshold() -> None:
    rng = np.random.default_rng(0)
    y = logistic4(GOOD, 0, 100, 0.1, 1.0) + rng.normal(0, 5, (4, GOOD.size))
    res = mp.fit(GOOD, y, conc_unit="uM")
    prof = cmp.profile_ci(res, GOOD, y, conc_unit="uM")
    assert np.all(prof.bounded) and not prof.suboptimal.any()
    t = stats.t.ppf(0.975, res.dof)
    threshold = res.rss * (1 + t**2 / res.dof)  # = RSS (1 + F_1,dof / dof)
    np.testing.assert_allclose(prof.threshold, threshold, rtol=1e-12)
    for limit in (prof.low, prof.high):
        np.testing.assert_allclose(_refit_rss(GOOD, y, "ic50", limit), threshold, rtol=1e-5)
    low, high = prof.interval()
    assert low.units == mp.ureg.uM and np.all(low < res.ic50) and np.all(res.ic50 < high)


def test_profile_and_wald_cover_the_truth_in_a_well_determined_design() -> None:
    rng = np.random.default_rng(1)
    y = logistic4(GOOD, 0, 100, 0.1, 1.0) + rng.normal(0, 5, (2000, GOOD.size))
    res = mp.fit(GOOD, y, conc_unit="uM")
    prof = cmp.profile_ci(res, GOOD, y, conc_unit="uM")
    wlow, whigh = res.ci("ic50")
    wald = np.mean((wlow.magnitude < 0.1) & (whigh.magnitude > 0.1))
    profile = np.mean((prof.low < 0.1) & (prof.high > 0.1))
    assert 0.93 <= wald <= 0.97, wald
    assert 0.93 <= profile <= 0.97, profile


def test_profile_keeps_its_coverage_where_wald_undercovers() -> None:
    rng = np.random.default_rng(2)
    y = logistic4(POOR, 0, 100, 3.0, 1.0) + rng.normal(0, 5, (2000, POOR.size))
    res = mp.fit(POOR, y, conc_unit="uM")
    prof = cmp.profile_ci(res, POOR, y, conc_unit="uM")
    wlow, whigh = res.ci("ic50")
    wald = np.mean((wlow.magnitude < 3.0) & (whigh.magnitude > 3.0))
    profile = np.mean((prof.low < 3.0) & (prof.high > 3.0))
    assert wald < 0.93 and 0.93 <= profile <= 0.97, (wald, profile)
    assert np.mean(~prof.high_found) > 0.3  # often no upper limit inside the range: reported open
    assert np.all(prof.high[~prof.high_found & np.isfinite(prof.threshold)] == np.inf)


def test_profile_reports_an_open_limit_instead_of_inventing_one() -> None:
    rng = np.random.default_rng(0)
    y = logistic4(POOR, 0, 100, 10.0, 1.0) + rng.normal(0, 3, POOR.size)  # IC50 at the highest dose
    res = mp.fit(POOR, y, conc_unit="uM")
    # extrapolated, and (since #14) ambiguous: bottom -105 ± 380, IC50 43 ± 160 uM
    assert res.status == mp.FitStatus.IC50_OUTSIDE_RANGE | mp.FitStatus.AMBIGUOUS
    prof = cmp.profile_ci(res, POOR, y, conc_unit="uM")
    assert bool(prof.low_found) and not bool(prof.high_found)
    assert float(prof.high) == np.inf and 0 < float(prof.low) < float(prof.estimate)


def test_profile_of_another_parameter_sits_on_the_threshold() -> None:
    rng = np.random.default_rng(4)
    y = logistic4(GOOD, 0, 100, 0.1, 1.0) + rng.normal(0, 5, GOOD.size)
    res = mp.fit(GOOD, y, conc_unit="uM")
    prof = cmp.profile_ci(res, GOOD, y, conc_unit="uM", name="hill", level=0.9)
    assert prof.conc_unit is None and bool(prof.bounded)
    assert float(prof.low) < float(res.params["hill"]) < float(prof.high)
    for limit in (float(prof.low), float(prof.high)):
        refit = mp.fit(GOOD, y, conc_unit="uM", fixed={"hill": limit})
        np.testing.assert_allclose(float(refit.rss), float(prof.threshold), rtol=1e-6)


def test_profile_ci_rejects_bad_input() -> None:
    y = logistic4(GOOD, 0, 100, 0.1, 1.0) + np.random.default_rng(5).normal(0, 5, GOOD.size)
    res = mp.fit(GOOD, y, conc_unit="uM", fixed={"bottom": 0})
    with pytest.raises(ValueError, match="`name` must be a free parameter"):
        cmp.profile_ci(res, GOOD, y, conc_unit="uM", name="bottom")
    with pytest.raises(ValueError, match="`name` must be a parameter"):
        cmp.profile_ci(res, GOOD, y, conc_unit="uM", name="xmid")
    with pytest.raises(ValueError, match="`level` must be in"):
        cmp.profile_ci(res, GOOD, y, conc_unit="uM", level=1.0)
    with pytest.raises(ValueError, match="`span` must be"):
        cmp.profile_ci(res, GOOD, y, conc_unit="uM", span=0)
    with pytest.raises(ValueError, match="must be the data `res` was fitted to"):
        cmp.profile_ci(res, GOOD, y[::-1], conc_unit="uM")


# ----------------------------------------------------------------------------- bands
def test_confidence_band_is_the_delta_method_with_a_numerical_jacobian() -> None:
    rng = np.random.default_rng(6)
    y = logistic4(GOOD, 0, 100, 0.1, 1.0) + rng.normal(0, 5, (2, GOOD.size))
    res = mp.fit(GOOD, y, conc_unit="uM")
    xq = np.array([0.0, 0.001, 0.05, 0.1, 0.3, 20.0])
    band = cmp.bands(res, mp.Q_(xq * 1000, "nM"), level=0.9)
    np.testing.assert_allclose(band.conc, xq, rtol=1e-12)
    names = ("bottom", "top", "ic50", "hill")
    for i in range(2):
        p = np.array([res.params[n][i] for n in names])
        J = np.empty((xq.size, 4))
        for j in range(4):  # central differences on the reported parameters
            h = 1e-6 * max(abs(p[j]), 1e-3)
            up, dn = p.copy(), p.copy()
            up[j] += h
            dn[j] -= h
            J[:, j] = (logistic4(xq, *up) - logistic4(xq, *dn)) / (2 * h)
        se = np.sqrt(np.einsum("ki,ij,kj->k", J, res.covariance[i], J))
        t = stats.t.ppf(0.95, res.dof[i])
        np.testing.assert_allclose(band.response[i], logistic4(xq, *p), rtol=1e-10)
        np.testing.assert_allclose(band.high[i] - band.response[i], t * se, rtol=1e-5, atol=1e-9)


def test_prediction_band_adds_the_residual_variance() -> None:
    y = logistic4(GOOD, 0, 100, 0.1, 1.0) + np.random.default_rng(7).normal(0, 5, GOOD.size)
    res = mp.fit(GOOD, y, conc_unit="uM")
    conf = cmp.bands(res, mp.Q_([0.01, 0.1, 1], "uM"))
    pred = cmp.bands(res, mp.Q_([0.01, 0.1, 1], "uM"), kind="prediction")
    t = stats.t.ppf(0.975, res.dof)
    half_c = conf.high - conf.response
    half_p = pred.high - pred.response
    np.testing.assert_allclose(half_p**2, half_c**2 + t**2 * res.sigma**2, rtol=1e-10)
    at_data = cmp.bands(res, mp.Q_(GOOD, "uM"), kind="prediction")
    assert np.mean((at_data.low < y) & (y < at_data.high)) > 0.85  # most measurements fall inside


def test_bands_of_a_shared_fit_have_one_row_per_curve() -> None:
    rng = np.random.default_rng(8)
    y = np.stack([logistic4(GOOD, 0, 100, c, 1.0) for c in (0.05, 0.5)]) + rng.normal(0, 4, (2, GOOD.size))
    sf = cmp.fit_shared(GOOD, y, conc_unit="uM")
    band = cmp.bands(sf, mp.Q_(np.geomspace(1e-4, 10, 7), "uM"))
    assert band.response.shape == (2, 7)
    assert np.all(band.low <= band.response) and np.all(band.response <= band.high)


def test_bands_reject_bad_input() -> None:
    res = mp.fit(GOOD, logistic4(GOOD, 0, 100, 0.1, 1.0) + 1.0 * np.sin(GOOD), conc_unit="uM")
    with pytest.raises(ValueError, match="`kind` must be"):
        cmp.bands(res, mp.Q_([1.0], "uM"), kind="credible")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`level` must be in"):
        cmp.bands(res, mp.Q_([1.0], "uM"), level=0)
    with pytest.raises(mp.errors.UnitError):
        cmp.bands(res, [1.0])
