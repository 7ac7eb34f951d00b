"""mp.fit against independent references: closed forms, scipy, known truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from scipy.optimize import curve_fit, least_squares

import mtor_pharm as mp
from mtor_pharm.errors import ShapeError, UnitError, UnknownModelError

from .helpers import CONC, logistic4, simulate_curve
from .helpers import reference_fit as _reference_fit

_simulate = simulate_curve


def test_noiseless_curve_is_recovered_exactly() -> None:
    truth = {"bottom": 7.0, "top": 103.0, "ic50": 0.21, "hill": 1.3}
    y = logistic4(CONC, **truth)
    res = mp.fit(mp.Q_(CONC, "uM"), y)
    for k, v in truth.items():
        assert float(res.params[k]) == pytest.approx(v, rel=1e-9), k
    assert res.status == mp.FitStatus.OK


@pytest.mark.parametrize("seed", range(8))
def test_fit_matches_tight_least_squares(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y, truth = _simulate(rng)
    res = mp.fit(x, y, conc_unit="uM")
    ref = _reference_fit(x, y, [truth["bottom"], truth["top"], np.log(truth["ic50"]), truth["hill"]])
    rss_ref = 2.0 * ref.cost
    assert float(res.rss) <= rss_ref * (1 + 1e-9)
    assert float(res.params["ic50"]) == pytest.approx(np.exp(ref.x[2]), rel=1e-6)
    assert float(res.params["hill"]) == pytest.approx(ref.x[3], rel=1e-6)
    assert float(res.params["bottom"]) == pytest.approx(ref.x[0], rel=1e-6, abs=1e-6)
    assert float(res.params["top"]) == pytest.approx(ref.x[1], rel=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_standard_errors_match_curve_fit_covariance(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    x, y, truth = _simulate(rng)
    res = mp.fit(x, y, conc_unit="uM")
    p0 = [float(res.params[k]) for k in ("bottom", "top", "ic50", "hill")]
    popt, pcov = curve_fit(logistic4, x, y, p0=p0, xtol=1e-14, ftol=1e-14, gtol=1e-14)
    se = np.sqrt(np.diag(pcov))
    for i, k in enumerate(("bottom", "top", "ic50", "hill")):
        assert float(res.stderr[k]) == pytest.approx(se[i], rel=1e-5), k
    assert res.covariance.shape == (4, 4)
    assert res.covariance == pytest.approx(pcov, rel=1e-5, abs=1e-12)


def test_ic50_ci_is_wald_t_on_log_scale() -> None:
    rng = np.random.default_rng(7)
    x, y, truth = _simulate(rng)
    res = mp.fit(x, y, conc_unit="uM")
    # independent: covariance of (bottom, top, ln ic50, hill) from the reference Jacobian
    ref = _reference_fit(x, y, [truth["bottom"], truth["top"], np.log(truth["ic50"]), truth["hill"]])
    J = ref.jac
    dof = x.size - 4
    s2 = 2 * ref.cost / dof
    cov = s2 * np.linalg.inv(J.T @ J)
    t = stats.t.ppf(0.975, dof)
    low, high = res.ci("ic50", level=0.95)
    assert low.magnitude == pytest.approx(np.exp(ref.x[2] - t * np.sqrt(cov[2, 2])), rel=1e-5)
    assert high.magnitude == pytest.approx(np.exp(ref.x[2] + t * np.sqrt(cov[2, 2])), rel=1e-5)
    # hill: symmetric Wald
    lo_h, hi_h = res.ci("hill", level=0.9)
    t90 = stats.t.ppf(0.95, dof)
    assert float(lo_h) == pytest.approx(ref.x[3] - t90 * np.sqrt(cov[3, 3]), rel=1e-5)
    assert float(hi_h) == pytest.approx(ref.x[3] + t90 * np.sqrt(cov[3, 3]), rel=1e-5)


def test_icx_and_its_delta_method_interval_match_hand_computation() -> None:
    rng = np.random.default_rng(11)
    x, y, truth = _simulate(rng)
    res = mp.fit(x, y, conc_unit="uM")
    ref = _reference_fit(x, y, [truth["bottom"], truth["top"], np.log(truth["ic50"]), truth["hill"]])
    b, t_, lc, h = ref.x
    q = 0.9
    # closed form: ln IC90 = ln ic50 + ln(q / (1 - q)) / hill
    l90 = lc + np.log(q / (1 - q)) / h
    assert res.icx(90).magnitude == pytest.approx(np.exp(l90), rel=1e-6)
    grad = np.array([0.0, 0.0, 1.0, -np.log(q / (1 - q)) / h**2])
    dof = x.size - 4
    cov = (2 * ref.cost / dof) * np.linalg.inv(ref.jac.T @ ref.jac)
    se = np.sqrt(grad @ cov @ grad)
    tq = stats.t.ppf(0.975, dof)
    low, high = res.ci("ic90")
    assert low.magnitude == pytest.approx(np.exp(l90 - tq * se), rel=1e-5)
    assert high.magnitude == pytest.approx(np.exp(l90 + tq * se), rel=1e-5)
    assert res.icx(50).magnitude == pytest.approx(float(res.params["ic50"]), rel=1e-12)


def test_absolute_conc_at_solves_the_fitted_curve() -> None:
    truth = {"bottom": 20.0, "top": 100.0, "ic50": 0.1, "hill": 1.0}
    res = mp.fit(mp.Q_(CONC, "uM"), logistic4(CONC, **truth))
    # 4PL = 50 -> (x/ic50)^h = (top - 50)/(50 - bottom) = 50/30
    assert res.conc_at(50.0).magnitude == pytest.approx(0.1 * 50 / 30, rel=1e-8)
    assert np.isnan(res.conc_at(10.0).magnitude)  # below the bottom plateau: never reached


def test_rising_curve_is_reported_with_top_above_bottom_and_negative_hill() -> None:
    y = logistic4(CONC, 100.0, 5.0, 0.3, 1.2)  # rises from 5 to 100? no: bottom=100, top=5
    res = mp.fit(mp.Q_(CONC, "uM"), y)
    assert float(res.params["top"]) == pytest.approx(100.0, rel=1e-8)
    assert float(res.params["bottom"]) == pytest.approx(5.0, rel=1e-8)
    assert float(res.params["hill"]) == pytest.approx(-1.2, rel=1e-8)
    assert float(res.params["ic50"]) == pytest.approx(0.3, rel=1e-8)
    assert res.predict(mp.Q_(CONC, "uM")) == pytest.approx(y, rel=1e-9)


def test_vehicle_points_at_zero_concentration_are_data() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate([[0.0, 0.0, 0.0], np.repeat(CONC, 2)])
    y = logistic4(np.where(x == 0, 1e-300, x), 5.0, 100.0, 0.1, 1.0) + rng.normal(0, 3, x.size)
    res = mp.fit(x, y, conc_unit="uM")
    ref = _reference_fit(np.where(x == 0, 1e-300, x), y, [5.0, 100.0, np.log(0.1), 1.0])
    assert float(res.rss) <= 2 * ref.cost * (1 + 1e-9)
    assert float(res.params["ic50"]) == pytest.approx(np.exp(ref.x[2]), rel=1e-6)
    assert int(res.n) == x.size


@pytest.mark.parametrize("hill", [1.0, -1.3])
def test_standard_errors_with_vehicle_wells_match_curve_fit_covariance(hill: float) -> None:
    # at x = 0 the model is its zero-dose plateau (S = 1 or 0), not the midpoint
    def model(x: np.ndarray, bottom: float, top: float, ic50: float, hill: float) -> np.ndarray:
        with np.errstate(divide="ignore"):  # 0 ** -h = inf: the bottom plateau
            return logistic4(x, bottom, top, ic50, hill)

    rng = np.random.default_rng(31)
    x = np.concatenate([[0.0, 0.0, 0.0], np.repeat(CONC, 2)])
    y = model(x, 5.0, 100.0, 0.1, hill) + rng.normal(0, 3, x.size)
    res = mp.fit(x, y, conc_unit="uM")
    names = ("bottom", "top", "ic50", "hill")
    p0 = [float(res.params[k]) for k in names]
    popt, pcov = curve_fit(model, x, y, p0=p0, xtol=1e-14, ftol=1e-14, gtol=1e-14)
    assert np.array(p0) == pytest.approx(popt, rel=1e-6)
    for i, k in enumerate(names):
        assert float(res.stderr[k]) == pytest.approx(np.sqrt(pcov[i, i]), rel=1e-5), k
    assert res.covariance == pytest.approx(pcov, rel=1e-5, abs=1e-12)


@pytest.mark.parametrize(
    ("model", "fixed"), [("3pl", {}), ("2pl", {}), ("4pl", {"top": 100.0}), ("4pl", {"hill": 1.0})]
)
def test_fixed_parameters_match_reduced_least_squares(model: str, fixed: dict[str, float]) -> None:
    rng = np.random.default_rng(5)
    x = np.repeat(CONC, 3)
    y = logistic4(x, 0.0, 100.0, 0.05, 1.1) + rng.normal(0, 3, x.size)
    res = mp.fit(x, y, conc_unit="uM", model=model, fixed=fixed or None)
    fixed_all = {"3pl": {"bottom": 0.0}, "2pl": {"bottom": 0.0, "top": 100.0}}.get(model, {}) | fixed
    names = ["bottom", "top", "lc", "hill"]
    free = [n for n in names if n not in fixed_all]
    start = {"bottom": 0.0, "top": 100.0, "lc": np.log(0.05), "hill": 1.1}

    def resid(p: np.ndarray) -> np.ndarray:
        v = dict(fixed_all) | dict(zip(free, p, strict=True))
        return logistic4(x, v["bottom"], v["top"], np.exp(v["lc"]), v["hill"]) - y

    ref = least_squares(resid, [start[n] for n in free], method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15)
    assert float(res.rss) <= 2 * ref.cost * (1 + 1e-9)
    assert float(res.params["ic50"]) == pytest.approx(np.exp(ref.x[free.index("lc")]), rel=1e-6)
    for k, v in fixed_all.items():
        assert float(res.params[k]) == v
        assert float(res.stderr[k]) == 0.0
    assert int(res.dof) == x.size - len(free)


def test_bounded_optimum_matches_bounded_least_squares() -> None:
    rng = np.random.default_rng(9)
    x = np.repeat(CONC, 3)
    y = logistic4(x, 0.0, 100.0, 0.05, 2.5) + rng.normal(0, 3, x.size)
    res = mp.fit(x, y, conc_unit="uM", bounds={"hill": (0.2, 1.5)})

    def resid(p: np.ndarray) -> np.ndarray:
        return logistic4(x, p[0], p[1], np.exp(p[2]), p[3]) - y

    ref = least_squares(
        resid,
        [0.0, 100.0, np.log(0.05), 1.4],
        bounds=([-np.inf, -np.inf, -np.inf, 0.2], [np.inf, np.inf, np.inf, 1.5]),
        method="trf",
        xtol=1e-15,
        ftol=1e-15,
        gtol=1e-15,
    )
    assert ref.x[3] == pytest.approx(1.5)
    assert float(res.params["hill"]) == pytest.approx(1.5, rel=1e-12)
    assert float(res.rss) <= 2 * ref.cost * (1 + 1e-9)
    assert float(res.params["ic50"]) == pytest.approx(np.exp(ref.x[2]), rel=1e-6)
    assert res.status & mp.FitStatus.AT_BOUND
    assert res.converged


@pytest.mark.parametrize("model", ["5pl", "weibull1", "weibull2"])
def test_other_families_match_tight_least_squares(model: str) -> None:
    rng = np.random.default_rng(21)
    m = mp.models.get_model(model)
    truth = {"bottom": 5.0, "top": 100.0, "xmid": 0.1, "hill": 1.3} | ({"s": 0.6} if m.has_s else {})
    x = np.repeat(CONC, 3)
    y = m(x, **truth) + rng.normal(0, 2, x.size)
    res = mp.fit(x, y, conc_unit="uM", model=model)

    def resid(p: np.ndarray) -> np.ndarray:
        v = {"bottom": p[0], "top": p[1], "xmid": np.exp(p[2]), "hill": p[3]}
        if m.has_s:
            v["s"] = np.exp(p[4])
        return m(x, **v) - y

    p0 = [5.0, 100.0, np.log(0.1), 1.3] + ([np.log(0.6)] if m.has_s else [])
    ref = least_squares(resid, p0, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=20000)
    assert float(res.rss) <= 2 * ref.cost * (1 + 1e-9)
    assert float(res.params["xmid"]) == pytest.approx(np.exp(ref.x[2]), rel=1e-5)
    # the derived relative IC50 solves "half-way between the plateaus"
    half = 0.5 * (float(res.params["top"]) + float(res.params["bottom"]))
    pred = res.predict(res.ic50)
    assert float(pred) == pytest.approx(half, rel=1e-9)


@pytest.mark.parametrize(
    ("model", "fixed"), [("3pl", {}), ("4pl", {"hill": 1.2}), ("5pl", {}), ("weibull1", {"top": 100.0})]
)
def test_standard_errors_of_other_models_and_fixed_parameters_match_curve_fit(
    model: str, fixed: dict[str, float]
) -> None:
    # the free parameters' covariance in the reported parametrisation (ic50 / xmid and s
    # on their own scale, through the delta method); fixed parameters get 0
    rng = np.random.default_rng(41)
    m = mp.models.get_model(model)
    names = list(m.param_names)
    truth = dict(zip(names, [2.0, 100.0, 0.1, 1.2, 0.7][: len(names)], strict=True))
    x = np.repeat(CONC, 3)
    y = m(x, **truth) + rng.normal(0, 2, x.size)
    res = mp.fit(x, y, conc_unit="uM", model=model, fixed=fixed or None)
    held = {**m.default_fixed, **fixed}
    free = [n for n in names if n not in held]

    def f(x: np.ndarray, *p: float) -> np.ndarray:
        return m(x, **(held | dict(zip(free, p, strict=True))))

    p0 = [float(res.params[n]) for n in free]
    popt, pcov = curve_fit(f, x, y, p0=p0, xtol=1e-14, ftol=1e-14, gtol=1e-14)
    assert np.array(p0) == pytest.approx(popt, rel=1e-6)
    for i, n in enumerate(free):
        assert float(res.stderr[n]) == pytest.approx(np.sqrt(pcov[i, i]), rel=1e-5), n
    for n in held:
        assert float(res.stderr[n]) == 0.0
    idx = [names.index(n) for n in free]
    assert np.asarray(res.covariance)[np.ix_(idx, idx)] == pytest.approx(pcov, rel=1e-5, abs=1e-12)


def test_flat_curve_is_flagged_with_undetermined_ic50_and_batch_survives() -> None:
    rng = np.random.default_rng(0)
    good = logistic4(np.repeat(CONC, 3), 5.0, 100.0, 0.1, 1.0) + rng.normal(0, 3, 30)
    flat = 100.0 + rng.normal(0, 3, 30)
    const = np.full(30, 50.0)
    few = np.full(30, np.nan)
    few[:2] = [90.0, 10.0]
    res = mp.fit(mp.Q_(np.repeat(CONC, 3), "uM"), np.stack([good, flat, const, few]))
    st_ = res.status
    assert st_[0] == mp.FitStatus.OK
    assert st_[1] & mp.FitStatus.FLAT_RESPONSE
    assert st_[2] & mp.FitStatus.FLAT_RESPONSE
    assert st_[3] & mp.FitStatus.TOO_FEW_POINTS
    ic50 = res.ic50.magnitude
    assert np.isfinite(ic50[0]) and np.isnan(ic50[1:]).all()
    assert np.isnan(res.ci("ic50").low.magnitude[1:]).all()
    assert res.response_pvalue[0] < 1e-6 and res.response_pvalue[1] > 0.05


def test_ic50_outside_tested_range_is_flagged() -> None:
    x = np.repeat(CONC, 2)
    y = logistic4(x, 0.0, 100.0, 40.0, 1.5) + np.tile([1.0, -1.0], 10)
    res = mp.fit(x, y, conc_unit="uM", fixed={"bottom": 0.0, "top": 100.0})
    assert float(res.params["ic50"]) > CONC.max()
    assert res.status & mp.FitStatus.IC50_OUTSIDE_RANGE


def test_f_test_p_value_matches_hand_computation() -> None:
    rng = np.random.default_rng(4)
    x = np.repeat(CONC, 3)
    y = logistic4(x, 40.0, 60.0, 0.1, 1.0) + rng.normal(0, 6, x.size)
    res = mp.fit(x, y, conc_unit="uM")
    rss0 = float(((y - y.mean()) ** 2).sum())
    rss1 = float(res.rss)
    F = ((rss0 - rss1) / 3) / (rss1 / (x.size - 4))
    assert float(res.response_pvalue) == pytest.approx(stats.f.sf(F, 3, x.size - 4), rel=1e-9)


# ------------------------------------------------------------------ batches and invariances
def test_batch_of_n_equals_n_single_fits() -> None:
    rng = np.random.default_rng(12)
    ys = np.stack([_simulate(rng)[1] for _ in range(12)]).reshape(3, 4, 30)
    x = np.repeat(CONC, 3)
    batch = mp.fit(x, ys, conc_unit="uM")
    assert batch.shape == (3, 4)
    for idx in np.ndindex(3, 4):
        single = mp.fit(x, ys[idx], conc_unit="uM")
        for k in ("bottom", "top", "ic50", "hill"):
            assert batch.params[k][idx] == pytest.approx(float(single.params[k]), rel=1e-10)
            assert batch.stderr[k][idx] == pytest.approx(float(single.stderr[k]), rel=1e-8)
        assert batch.status[idx] == single.status


def test_replicate_pooling_equals_the_unpooled_problem() -> None:
    rng = np.random.default_rng(13)
    x = np.repeat(CONC, 3)
    y = np.stack([_simulate(rng)[1] for _ in range(5)])
    y[1, 4] = np.nan
    pooled = mp.fit(x, y, conc_unit="uM")  # shared 1-D conc: replicates pooled
    unpooled = mp.fit(np.broadcast_to(x, y.shape), y, conc_unit="uM")  # per-curve conc: no pooling
    for k in ("bottom", "top", "ic50", "hill"):
        # two independent optimizations agree to the solver tolerance (~1e-7 standard errors)
        assert np.all(np.abs(pooled.params[k] - unpooled.params[k]) <= 1e-5 * unpooled.stderr[k])
        assert pooled.stderr[k] == pytest.approx(unpooled.stderr[k], rel=1e-6)
    assert pooled.rss == pytest.approx(unpooled.rss, rel=1e-10)
    assert (pooled.n == unpooled.n).all() and pooled.n[1] == 29


def test_ragged_design_with_nan_padding() -> None:
    rng = np.random.default_rng(14)
    x = np.tile(np.repeat(CONC, 3), (2, 1))
    y = np.stack([_simulate(rng)[1] for _ in range(2)])
    x[1, -6:] = np.nan
    y[1, -6:] = np.nan
    res = mp.fit(x, y, conc_unit="uM")
    single = mp.fit(x[1, :-6], y[1, :-6], conc_unit="uM")
    assert res.params["ic50"][1] == pytest.approx(float(single.params["ic50"]), rel=1e-7)
    assert res.n.tolist() == [30, 24]


@given(seed=st.integers(0, 10_000), scale=st.sampled_from([1e-3, 1.0, 1e3]))
def test_unit_rescaling_gives_the_same_ic50_quantity(seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    x, y, _ = _simulate(rng)
    a = mp.fit(mp.Q_(x, "uM"), y)
    b = mp.fit(mp.Q_(x * 1e3, "nM"), y)
    assert b.ic50.to("uM").magnitude == pytest.approx(a.ic50.magnitude, rel=1e-7, nan_ok=True)
    assert float(b.params["hill"]) == pytest.approx(float(a.params["hill"]), rel=1e-7)
    c = mp.fit(mp.Q_(x * scale, "uM"), y)  # a different compound, 'scale'-fold shifted
    assert c.ic50.magnitude == pytest.approx(a.ic50.magnitude * scale, rel=1e-7, nan_ok=True)


@given(seed=st.integers(0, 10_000))
def test_point_order_does_not_matter(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y, _ = _simulate(rng)
    perm = rng.permutation(x.size)
    a = mp.fit(x, y, conc_unit="uM")
    b = mp.fit(x[perm], y[perm], conc_unit="uM")
    assert float(b.params["ic50"]) == pytest.approx(float(a.params["ic50"]), rel=1e-7)
    assert float(b.rss) == pytest.approx(float(a.rss), rel=1e-10)


@given(seed=st.integers(0, 10_000), drop=st.integers(0, 29))
def test_nan_point_equals_removed_point(seed: int, drop: int) -> None:
    rng = np.random.default_rng(seed)
    x, y, _ = _simulate(rng)
    y_nan = y.copy()
    y_nan[drop] = np.nan
    a = mp.fit(x, y_nan, conc_unit="uM")
    b = mp.fit(np.delete(x, drop), np.delete(y, drop), conc_unit="uM")
    assert float(a.params["ic50"]) == pytest.approx(float(b.params["ic50"]), rel=1e-7)
    assert int(a.n) == int(b.n) == 29


@pytest.mark.parametrize("model", ["4pl", "5pl", "3pl"])
def test_workers_give_identical_results(model: str) -> None:
    from mtor_pharm.fitting import _api

    rng = np.random.default_rng(15)
    n = 2 * _api._BLOCK + 100  # two threads, each with more than one block
    ys = np.stack([_simulate(rng)[1] for _ in range(n)])
    ys[7, :28] = np.nan  # a curve with too few points, in the first part
    x = np.repeat(CONC, 3)
    a = mp.fit(x, ys, conc_unit="uM", model=model)
    b = mp.fit(x, ys, conc_unit="uM", model=model, workers=2)
    # every curve runs the same compiled code whichever thread fits (and finishes) it,
    # including the 5PL's two starts: bitwise equal
    for k in a.param_names:
        np.testing.assert_array_equal(a.params[k], b.params[k])
        np.testing.assert_array_equal(a.stderr[k], b.stderr[k])
    for k in ("status", "rss", "response_pvalue", "iterations", "covariance"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    assert int(a.status[7]) == mp.FitStatus.TOO_FEW_POINTS


# ------------------------------------------------------------------ bad input
def _xy() -> tuple[np.ndarray, np.ndarray]:
    return CONC.copy(), logistic4(CONC, 0.0, 100.0, 0.1, 1.0)


def test_fit_rejects_negative_concentrations() -> None:
    x, y = _xy()
    x[2] = -1.0
    with pytest.raises(ValueError, match="`conc` must be non-negative.*-1.0"):
        mp.fit(x, y, conc_unit="uM")


def test_fit_rejects_infinite_concentrations() -> None:
    x, y = _xy()
    x[0] = np.inf
    with pytest.raises(ValueError, match="`conc` must be finite"):
        mp.fit(x, y, conc_unit="uM")


def test_fit_rejects_nan_concentration_with_a_response() -> None:
    x, y = _xy()
    x[3] = np.nan
    with pytest.raises(ValueError, match="`conc` is NaN at index"):
        mp.fit(x, y, conc_unit="uM")


def test_fit_rejects_infinite_responses() -> None:
    x, y = _xy()
    y[1] = -np.inf
    with pytest.raises(ValueError, match="`response` must be finite or NaN"):
        mp.fit(x, y, conc_unit="uM")


def test_fit_rejects_missing_and_wrong_units() -> None:
    x, y = _xy()
    with pytest.raises(UnitError, match="no unit"):
        mp.fit(x, y)
    with pytest.raises(UnitError, match="concentration"):
        mp.fit(x, y, conc_unit="s")
    with pytest.raises(UnitError):
        mp.fit(mp.Q_(x, "mg"), y)


def test_fit_rejects_shapes_that_do_not_broadcast() -> None:
    x, y = _xy()
    with pytest.raises(ShapeError, match="same last"):
        mp.fit(x[:-1], y, conc_unit="uM")
    with pytest.raises(ShapeError, match="do not broadcast"):
        mp.fit(np.tile(x, (3, 1)), np.tile(y, (2, 1)), conc_unit="uM")


def test_fit_rejects_unknown_model_listing_known_ones() -> None:
    x, y = _xy()
    with pytest.raises(UnknownModelError, match="'4pl'"):
        mp.fit(x, y, conc_unit="uM", model="logistic9")


def test_fit_rejects_fixed_or_bounds_naming_unknown_parameters() -> None:
    x, y = _xy()
    with pytest.raises(ValueError, match="unknown parameter.*'slope'"):
        mp.fit(x, y, conc_unit="uM", fixed={"slope": 1.0})
    with pytest.raises(ValueError, match="unknown parameter.*'s'"):
        mp.fit(x, y, conc_unit="uM", bounds={"s": (0, 1)})
    with pytest.raises(ValueError, match="low < high"):
        mp.fit(x, y, conc_unit="uM", bounds={"hill": (2, 1)})


def test_fit_does_not_mutate_inputs() -> None:
    x, y = _xy()
    y[4] = np.nan
    x0, y0 = x.copy(), y.copy()
    mp.fit(x, y, conc_unit="uM", fixed={"bottom": np.float64(0.0)})
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


def test_result_arrays_are_read_only() -> None:
    x, y = _xy()
    res = mp.fit(x, y, conc_unit="uM")
    with pytest.raises(ValueError, match="read-only"):
        res.params["ic50"][...] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        res.rss[...] = 1.0


def test_ci_rejects_bad_level_and_unknown_name() -> None:
    x, y = _xy()
    res = mp.fit(x, y, conc_unit="uM")
    with pytest.raises(ValueError, match="`level`"):
        res.ci("ic50", level=95)
    with pytest.raises(KeyError, match="slope"):
        res.ci("slope")
    with pytest.raises(ValueError, match="`p`"):
        res.icx(100)


def test_empty_batch_gives_an_empty_result() -> None:
    res = mp.fit(CONC, np.zeros((0, CONC.size)), conc_unit="uM")
    assert res.shape == (0,)
    assert res.ic50.magnitude.shape == (0,)


def test_unfitted_curves_still_report_their_fixed_values() -> None:
    y = np.full((2, CONC.size), np.nan)
    y[0] = logistic4(CONC, 0.0, 100.0, 0.1, 1.0)
    y[1, :2] = [90.0, 80.0]
    res = mp.fit(CONC, y, conc_unit="uM", model="3pl")
    assert res.status[1] & mp.FitStatus.TOO_FEW_POINTS
    assert res.params["bottom"].tolist() == [0.0, 0.0]
    assert np.isnan(res.params["ic50"][1])


def test_inhibitor_and_molecular_weight_together_are_refused() -> None:
    with pytest.raises(ValueError, match="either `inhibitor` or `molecular_weight`"):
        mp.fit(mp.Q_(CONC, "ug/mL"), logistic4(CONC, 0, 100, 0.1, 1), inhibitor="rapamycin", molecular_weight=914.19)


def test_mass_concentrations_convert_through_the_registry_inhibitor() -> None:
    # sirolimus MW 914.19 g/mol (USP; registry data): 1 ug/mL = 1e-3 g/L / 914.19 g/mol
    ug_per_ml = CONC * 914.19 / 1000.0  # the same doses as CONC uM, written in ug/mL
    y = logistic4(CONC, 0.0, 100.0, 0.1, 1.0)
    by_name = mp.fit(mp.Q_(ug_per_ml, "ug/mL"), y, inhibitor="rapamycin")
    assert str(by_name.ic50.units) == "micromolar"
    mw = float(mp.registry.molecular_weight("rapamycin").to("g/mol").magnitude)
    assert by_name.ic50.magnitude == pytest.approx(0.1 * 914.19 / mw, rel=1e-6)


def test_molar_input_with_an_inhibitor_without_molecular_weight_still_fits() -> None:
    y = logistic4(CONC, 0.0, 100.0, 0.1, 1.0)
    res = mp.fit(mp.Q_(CONC, "uM"), y, inhibitor="vistusertib")  # no sourced MW in the registry
    assert float(res.params["ic50"]) == pytest.approx(0.1, rel=1e-8)


def test_rising_curve_with_fixed_hill_is_not_flipped() -> None:
    # regression (#3): with hill fixed, swapping the plateaus would change the curve
    y = logistic4(CONC, 100.0, 0.0, 0.05, 1.0)  # bottom=100, top=0: a rising curve with hill=+1
    with pytest.warns(mp.errors.MtorPharmWarning, match="top < bottom"):  # kept as fitted, and said
        res = mp.fit(CONC, y, conc_unit="uM", fixed={"hill": 1.0})
    assert res.predict(mp.Q_(CONC, "uM")) == pytest.approx(y, abs=1e-6)
    assert float(res.params["bottom"]) == pytest.approx(100.0, rel=1e-8)


def test_wandering_flat_curves_report_nan_parameters_not_garbage() -> None:
    rng = np.random.default_rng(77)
    y = 100.0 + rng.normal(0, 5, (200, 30))
    res = mp.fit(np.repeat(CONC, 3), y, conc_unit="uM")
    wandering = ((res.status & mp.FitStatus.NOT_CONVERGED) > 0) & ((res.status & mp.FitStatus.FLAT_RESPONSE) > 0)
    assert wandering.any()
    assert np.isnan(res.params["top"][wandering]).all()
    assert np.isfinite(res.rss[wandering]).all()
    estimated = np.isfinite(res.params["top"])
    assert not (estimated & wandering).any()
    # every reported estimate reproduces its RSS (no runaway plateaus beyond floating point)
    for i in np.flatnonzero(estimated):
        pred = res.predict(mp.Q_(np.repeat(CONC, 3), "uM"))[i]
        assert float(((pred - y[i]) ** 2).sum()) == pytest.approx(res.rss[i], rel=1e-9)


def test_progress_reports_every_curve_once() -> None:
    rng = np.random.default_rng(8)
    ys = np.stack([_simulate(rng)[1] for _ in range(300)])
    seen: list[tuple[int, int]] = []
    mp.fit(np.repeat(CONC, 3), ys, conc_unit="uM", progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (300, 300)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_information_criteria_match_their_formulas() -> None:
    rng = np.random.default_rng(21)
    x, y, _ = _simulate(rng)
    res = mp.fit(x, y, conc_unit="uM")
    n, rss, k = 30.0, float(res.rss), 5  # 4 parameters + the residual variance
    aic = n * np.log(rss / n) + 2 * k
    assert float(res.aic) == pytest.approx(aic, rel=1e-12)
    assert float(res.aicc) == pytest.approx(aic + 2 * k * (k + 1) / (n - k - 1), rel=1e-12)
    assert float(res.bic) == pytest.approx(n * np.log(rss / n) + k * np.log(n), rel=1e-12)


def test_kernels_are_compiled_ahead_of_time() -> None:
    # issue #12: the solver is an extension module built at install, not code compiled on first use
    import importlib.machinery

    from mtor_pharm.fitting import _kernels

    assert _kernels.__file__ is not None
    assert _kernels.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


@pytest.mark.slow
def test_fits_in_a_fresh_process_with_no_writable_place_and_no_warning(tmp_path: Path) -> None:
    # issue #12: nothing is compiled or cached at run time, so a read-only HOME, no cache
    # directory and a fresh interpreter fit at once, with no warning at all
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "HOME": str(tmp_path / "missing"), "XDG_CACHE_HOME": str(tmp_path / "missing")}
    script = (
        "import json, warnings, numpy as np\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    import mtor_pharm as mp\n"
        "    r = mp.fit(mp.Q_(10 / 3.0 ** np.arange(8), 'uM'), [99, 97, 88, 67, 36, 15, 5, 3])\n"
        "    r5 = mp.fit(mp.Q_(10 / 3.0 ** np.arange(8), 'uM'), [99, 97, 88, 67, 36, 15, 5, 3], model='5pl')\n"
        "print(json.dumps({'ic50': float(r.ic50.magnitude), 'status': int(r.status),\n"
        "                  'warnings': [(type(x.message).__name__, str(x.message)) for x in w]}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    ref = mp.fit(mp.Q_(10 / 3.0 ** np.arange(8), "uM"), [99, 97, 88, 67, 36, 15, 5, 3])
    assert got["ic50"] == float(ref.ic50.magnitude) and got["status"] == int(ref.status)
    assert got["warnings"] == []
