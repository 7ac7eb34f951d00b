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


# ----------------------------------------------------------------------------- other families (#13)
BIPHASIC_X = np.tile(10000.0 / 3.0 ** np.arange(12), 3)  # nM: 12 concentrations, three replicate plates
BIPHASIC_TRUTH = dict(bottom=5.0, top=100.0, ic50_1=4.0, hill_1=1.2, ic50_2=800.0, hill_2=1.0, frac=0.45)
BIPHASIC_ORDER = ("bottom", "top", "ic50_1", "hill_1", "ic50_2", "hill_2", "frac")


def prism_biphasic(x: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """Prism's 'Biphasic dose-response' written from its formula (HillSlope = -hill)."""
    s1 = p["frac"] / (1.0 + (x / p["ic50_1"]) ** p["hill_1"])
    s2 = (1.0 - p["frac"]) / (1.0 + (x / p["ic50_2"]) ** p["hill_2"])
    return np.asarray(p["bottom"] + (p["top"] - p["bottom"]) * (s1 + s2))


def _biphasic_rss(x: np.ndarray, y: np.ndarray, start: dict[str, float], held: dict[str, float]) -> float:
    """Independent fit: scipy least_squares of the formula above, the `held` parameters fixed,
    concentrations on the log scale, frac in [0, 1]; best of a few starts around `start`."""
    from scipy.optimize import least_squares

    free = [k for k in BIPHASIC_ORDER if k not in held]
    conc = {"ic50_1", "ic50_2"}

    def unpack(q: np.ndarray) -> dict[str, float]:
        out = dict(held)
        for k, v in zip(free, q, strict=True):
            out[k] = float(np.exp(v)) if k in conc else float(v)
        return out

    def resid(q: np.ndarray) -> np.ndarray:
        return prism_biphasic(x, unpack(q)) - y

    lo = [0.0 if k == "frac" else -np.inf for k in free]
    hi = [1.0 if k == "frac" else np.inf for k in free]
    best = np.inf
    for scale in (1.0, 0.8, 1.25):
        q0 = [np.log(start[k] * scale) if k in conc else (min(start[k], 0.999) if k == "frac" else start[k])
              for k in free]
        sol = least_squares(resid, q0, bounds=(lo, hi), method="trf", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                            max_nfev=20000)
        best = min(best, float(np.sum(sol.fun**2)))
    return best


def _scipy_profile_limits(x: np.ndarray, y: np.ndarray, name: str, est: dict[str, float], level: float) -> tuple[
        float, float, float]:
    """The profile interval of a concentration parameter computed independently: the scipy
    optimum, the F threshold, then the two crossings of RSS(ln θ) by Brent's method."""
    from scipy.optimize import brentq

    rss_min = _biphasic_rss(x, y, est, {})
    dof = x.size - len(BIPHASIC_ORDER)
    thr = rss_min * (1.0 + stats.f.ppf(level, 1, dof) / dof)

    def g(log_theta: float) -> float:
        return _biphasic_rss(x, y, est, {name: float(np.exp(log_theta))}) - thr

    c = float(np.log(est[name]))
    limits = []
    for direction in (-1.0, 1.0):
        step = 0.05
        while g(c + direction * step) < 0:
            step *= 1.6
        a, b = sorted((c + direction * step / 1.6 if step > 0.05 else c, c + direction * step))
        limits.append(float(np.exp(brentq(g, a, b, xtol=1e-10))))
    return limits[0], limits[1], thr


def test_biphasic_site_ic50s_are_profiled_on_the_log_scale_like_an_independent_scipy_profile() -> None:
    rng = np.random.default_rng(7)
    y = prism_biphasic(BIPHASIC_X, BIPHASIC_TRUTH) + rng.normal(0, 2.5, (2, BIPHASIC_X.size))
    res = mp.fit(BIPHASIC_X, y, model="biphasic", conc_unit="nM")
    assert np.all(res.status == 0)
    for name in ("ic50_1", "ic50_2"):
        prof = cmp.profile_ci(res, BIPHASIC_X, y, conc_unit="nM", name=name)
        assert prof.conc_unit == res.conc_unit and np.all(prof.bounded) and not prof.suboptimal.any()
        low_q, high_q = prof.interval()
        assert low_q.units == mp.ureg.nM
        for i in range(2):
            est = {k: float(res.params[k][i]) for k in BIPHASIC_ORDER}
            low, high, thr = _scipy_profile_limits(BIPHASIC_X, y[i], name, est, 0.95)
            assert float(prof.threshold[i]) == pytest.approx(thr, rel=1e-7)
            assert float(prof.low[i]) == pytest.approx(low, rel=1e-4), (name, i)
            assert float(prof.high[i]) == pytest.approx(high, rel=1e-4), (name, i)
            assert 0 < low < est[name] < high


def test_profile_of_a_biphasic_site_matches_the_log_scale_wald_interval_where_the_rss_is_quadratic() -> None:
    # low noise, many replicates: RSS is quadratic in ln ic50 over the interval, so the profile
    # interval is the Wald interval on the log scale, est * exp(+-t se/est), not est +- t se
    x = np.tile(BIPHASIC_X[:12], 8)
    rng = np.random.default_rng(11)
    y = prism_biphasic(x, BIPHASIC_TRUTH) + rng.normal(0, 0.3, x.size)
    res = mp.fit(x, y, model="biphasic", conc_unit="nM")
    assert res.status == 0
    t = stats.t.ppf(0.975, int(res.dof))
    for name in ("ic50_1", "ic50_2"):
        est, se = float(res.params[name]), float(res.stderr[name])
        prof = cmp.profile_ci(res, x, y, conc_unit="nM", name=name)
        log_wald = (est * np.exp(-t * se / est), est * np.exp(t * se / est))
        assert float(prof.low) == pytest.approx(log_wald[0], rel=3e-3)
        assert float(prof.high) == pytest.approx(log_wald[1], rel=3e-3)
        wlow, whigh = res.ci(name)
        np.testing.assert_allclose([wlow.magnitude, whigh.magnitude], log_wald, rtol=1e-12)
        # geometric, not arithmetic, symmetry about the estimate
        assert np.log(float(prof.high) / est) == pytest.approx(np.log(est / float(prof.low)), rel=2e-2)


def test_profile_of_a_fraction_stays_in_the_unit_interval_and_sits_on_the_threshold() -> None:
    rng = np.random.default_rng(7)
    y = prism_biphasic(BIPHASIC_X, BIPHASIC_TRUTH) + rng.normal(0, 2.5, BIPHASIC_X.size)
    res = mp.fit(BIPHASIC_X, y, model="biphasic", conc_unit="nM")
    prof = cmp.profile_ci(res, BIPHASIC_X, y, conc_unit="nM", name="frac")
    assert prof.conc_unit is None and bool(prof.bounded)
    assert 0.0 < float(prof.low) < float(res.params["frac"]) < float(prof.high) < 1.0
    est = {k: float(res.params[k]) for k in BIPHASIC_ORDER}
    for limit in (float(prof.low), float(prof.high)):
        assert _biphasic_rss(BIPHASIC_X, y, est, {"frac": limit}) == pytest.approx(float(prof.threshold), rel=1e-6)
