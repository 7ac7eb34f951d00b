"""Global fits with shared parameters (mtor_pharm.compare.fit_shared) against an independent stacked least_squares."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from numpy.typing import ArrayLike
from scipy.optimize import least_squares

import mtor_pharm as mp
from mtor_pharm import compare as cmp
from mtor_pharm.errors import ShapeError

CONC = np.repeat(10.0 / 3.0 ** np.arange(8), 2)  # uM, duplicates


def logistic4(x: np.ndarray, bottom: ArrayLike, top: ArrayLike, ic50: ArrayLike, hill: ArrayLike) -> np.ndarray:
    """Written from the formula, not the library kernel."""
    b, t, c, h = (np.asarray(v, dtype=np.float64) for v in (bottom, top, ic50, hill))
    return np.asarray(b + (t - b) / (1.0 + (x / c) ** h))


def _data(seed: int, ic50: tuple[float, ...] = (0.03, 0.3, 1.0), sd: float = 4.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([logistic4(CONC, 5.0, 100.0, c, 1.2) + rng.normal(0, sd, CONC.size) for c in ic50])


def _stacked_reference(y: np.ndarray, shared: tuple[str, ...]) -> tuple[dict[str, np.ndarray], float, np.ndarray]:
    """Independent stacked fit: parameter vector = shared values, then per-curve values (ln ic50 internally)."""
    names = ("bottom", "top", "ic50", "hill")
    k = y.shape[0]
    per = [n for n in names if n not in shared]

    def unpack(theta: np.ndarray) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        pos = 0
        for n in names:
            if n in shared:
                out[n] = np.full(k, theta[pos])
                pos += 1
        for j in range(k):
            for n in per:
                out.setdefault(n, np.zeros(k))[j] = theta[pos]
                pos += 1
        out["ic50"] = np.exp(out["ic50"])
        return out

    def resid(theta: np.ndarray) -> np.ndarray:
        p = unpack(theta)
        return np.concatenate(
            [logistic4(CONC, p["bottom"][j], p["top"][j], p["ic50"][j], p["hill"][j]) - y[j] for j in range(k)]
        )

    start = {"bottom": 0.0, "top": 95.0, "ic50": np.log(0.2), "hill": 1.0}
    theta0 = [start[n] for n in names if n in shared]
    for _ in range(k):
        theta0 += [start[n] for n in per]
    sol = least_squares(resid, np.array(theta0), method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=50000)
    return unpack(sol.x), float(np.sum(sol.fun**2)), sol.jac


@pytest.mark.parametrize(
    "share", [("hill", "top", "bottom"), ("hill",), ("top", "bottom"), ("hill", "top", "bottom", "ic50")]
)
def test_fit_shared_equals_independent_stacked_least_squares(share: tuple[str, ...]) -> None:
    y = _data(3)
    sf = cmp.fit_shared(CONC, y, conc_unit="uM", share=share)
    ref, rss, jac = _stacked_reference(y, share)
    assert np.all(sf.status == 0)
    for name in ("bottom", "top", "ic50", "hill"):
        np.testing.assert_allclose(sf.params[name], ref[name], rtol=1e-6, atol=1e-6 * 100)
    np.testing.assert_allclose(float(sf.rss), rss, rtol=1e-9)
    # pooled-variance standard errors from the reference Jacobian (ln ic50 converted by the delta method)
    dof = y.size - jac.shape[1]
    cov = rss / dof * np.linalg.inv(jac.T @ jac)
    assert int(sf.dof) == dof
    se = np.sqrt(np.diag(cov))
    names = ("bottom", "top", "ic50", "hill")
    shared_names = [n for n in names if n in share]
    per = [n for n in names if n not in share]
    for j in range(y.shape[0]):
        for n in names:
            pos = shared_names.index(n) if n in share else len(shared_names) + j * len(per) + per.index(n)
            expected = se[pos] * (ref["ic50"][j] if n == "ic50" else 1.0)  # delta method from ln ic50
            np.testing.assert_allclose(sf.stderr[n][j], expected, rtol=1e-4)


def test_fit_shared_batch_equals_one_global_fit_at_a_time() -> None:
    ys = np.stack([_data(s) for s in range(4)])  # (4 global fits, 3 curves, m)
    batch = cmp.fit_shared(CONC, ys, conc_unit="uM")
    assert batch.shape == (4,) and batch.params["ic50"].shape == (4, 3)
    assert batch.covariance.shape == (4, 3, 4, 3, 4)
    for i in range(4):
        one = cmp.fit_shared(CONC, ys[i], conc_unit="uM")
        np.testing.assert_allclose(batch.params["ic50"][i], one.params["ic50"], rtol=1e-8)
        np.testing.assert_allclose(batch.covariance[i], one.covariance, rtol=1e-6, atol=1e-14)


def test_fit_shared_axis_selects_the_curve_axis() -> None:
    ys = np.stack([_data(s) for s in range(2)])  # (2, 3, m)
    along_last = cmp.fit_shared(CONC, ys, conc_unit="uM")  # curves along axis -2 (3 curves)
    along_first = cmp.fit_shared(CONC, np.swapaxes(ys, 0, 1), conc_unit="uM", axis=0)
    np.testing.assert_allclose(along_first.params["ic50"], along_last.params["ic50"], rtol=1e-10)


def test_fit_shared_with_groups_equals_array_form() -> None:
    y = _data(5)
    labels = np.repeat(np.array(["rapamycin", "torin1", "everolimus"]), CONC.size)
    tidy = cmp.fit_shared(mp.Q_(np.tile(CONC, 3), "uM"), y.ravel(), groups=labels)
    arrays = cmp.fit_shared(CONC, y, conc_unit="uM")
    assert tidy.labels == ("rapamycin", "torin1", "everolimus")
    np.testing.assert_allclose(tidy.params["ic50"], arrays.params["ic50"], rtol=1e-10)
    assert tidy.index("torin1") == 1


def test_fit_shared_along_an_xarray_dimension() -> None:
    y = _data(6)
    data = xr.DataArray(
        y,
        dims=("compound", "concentration"),
        coords={"compound": ["A", "B", "C"], "concentration": ("concentration", CONC * 1000, {"units": "nM"})},
    )
    sf = cmp.fit_shared(data, dim="concentration", over="compound")
    ref = cmp.fit_shared(CONC, y, conc_unit="uM")
    assert sf.labels == ("A", "B", "C") and sf.conc_unit == "nanomolar"
    np.testing.assert_allclose(sf.ic50.to("uM").magnitude, ref.ic50.magnitude, rtol=1e-8)


def test_fit_shared_sharing_nothing_equals_separate_fits_with_pooled_rss() -> None:
    y = _data(7)
    sf = cmp.fit_shared(CONC, y, conc_unit="uM", share=())
    sep = mp.fit(CONC, y, conc_unit="uM")
    np.testing.assert_allclose(sf.params["ic50"], sep.params["ic50"], rtol=1e-6)
    np.testing.assert_allclose(float(sf.rss), float(np.sum(sep.rss)), rtol=1e-9)
    assert int(sf.dof) == int(np.sum(sep.dof))


def test_shared_ic50_f_test_holds_its_level_and_detects_a_potency_shift() -> None:
    rng = np.random.default_rng(11)
    n = 1000
    same = np.stack([logistic4(CONC, 5, 100, 0.1, 1.2) + rng.normal(0, 5, (n, CONC.size)) for _ in range(2)], axis=1)
    full = cmp.fit_shared(CONC, same, conc_unit="uM")
    reduced = cmp.fit_shared(CONC, same, conc_unit="uM", share=("hill", "top", "bottom", "ic50"))
    test = cmp.f_test(reduced, full)
    assert test.df1.tolist() == [1] * n
    assert 0.03 <= np.mean(test.pvalue < 0.05) <= 0.07
    shifted = same.copy()
    shifted[:, 1] = logistic4(CONC, 5, 100, 0.3, 1.2) + rng.normal(0, 5, (n, CONC.size))
    power = cmp.f_test(
        cmp.fit_shared(CONC, shifted, conc_unit="uM", share=("hill", "top", "bottom", "ic50")),
        cmp.fit_shared(CONC, shifted, conc_unit="uM"),
    )
    assert np.mean(power.pvalue < 0.05) > 0.95


def test_fit_shared_flags_an_empty_curve_and_fits_the_others() -> None:
    ys = np.stack([_data(1), _data(2)])
    ys[1, 2] = np.nan
    sf = cmp.fit_shared(CONC, ys, conc_unit="uM")
    assert np.all(sf.status[0] == 0)
    # one empty curve is flagged on that curve only; the others are fitted (#13)
    assert sf.status[1].tolist() == [0, 0, mp.FitStatus.TOO_FEW_POINTS]
    assert np.isnan(sf.params["ic50"][1, 2]) and np.all(np.isfinite(sf.params["ic50"][1, :2]))
    alone = cmp.fit_shared(CONC, ys[1, :2], conc_unit="uM")
    np.testing.assert_allclose(sf.params["ic50"][1, :2], alone.params["ic50"], rtol=1e-7)
    np.testing.assert_allclose(sf.rss[1], alone.rss, rtol=1e-9)
    assert int(sf.dof[1]) == int(alone.dof)


def test_fit_shared_intervals_and_icx_are_consistent() -> None:
    sf = cmp.fit_shared(CONC, _data(8), conc_unit="uM")
    low, high = sf.ci("ic50")
    assert np.all(low < sf.ic50) and np.all(sf.ic50 < high)
    low90, high90 = sf.ci("ic90")
    assert np.all(low90 < sf.icx(90)) and np.all(sf.icx(90) < high90)
    # 4PL: IC90 = IC50 * 9**(1/hill)
    np.testing.assert_allclose(sf.icx(90).magnitude, sf.params["ic50"] * 9 ** (1 / sf.params["hill"]), rtol=1e-10)


def test_fit_shared_rejects_unknown_shared_parameter() -> None:
    with pytest.raises(ValueError, match="`share` names unknown"):
        cmp.fit_shared(CONC, _data(1), conc_unit="uM", share=("slope",))


def test_fit_shared_rejects_the_concentration_axis() -> None:
    with pytest.raises(ShapeError, match="`axis` must index curves"):
        cmp.fit_shared(CONC, _data(1), conc_unit="uM", axis=-1)


def test_fit_shared_rejects_mismatched_shapes() -> None:
    with pytest.raises(ShapeError, match="same last axis"):
        cmp.fit_shared(CONC[:-1], _data(1), conc_unit="uM")


def test_fit_shared_rejects_a_shared_parameter_fixed_differently_per_curve() -> None:
    with pytest.raises(ValueError, match="different values on different curves"):
        cmp.fit_shared(CONC, _data(1), conc_unit="uM", share=("bottom",), fixed={"bottom": [0.0, 1.0, 2.0]})


def test_fit_shared_rejects_groups_of_unequal_length() -> None:
    with pytest.raises(ShapeError, match="`groups`"):
        cmp.fit_shared(mp.Q_(CONC, "uM"), _data(1)[0], groups=np.zeros(3))


def test_mp_fit_share_forwards_to_fit_shared() -> None:
    """`mp.fit(..., share=...)` is the global fit of the issue's API (#6)."""
    rng = np.random.default_rng(5)
    x = np.repeat(10.0 / 3.0 ** np.arange(8), 2)
    y = np.stack([100 / (1 + (x / c) ** 1.2) for c in (0.05, 0.5)]) + rng.normal(0, 2, (2, 16))
    a = mp.fit(x, y, conc_unit="uM", share=("hill", "top", "bottom"), along=0)
    b = mp.compare.fit_shared(x, y, conc_unit="uM", share=("hill", "top", "bottom"), axis=0)
    np.testing.assert_allclose(a.params["ic50"], b.params["ic50"], rtol=1e-12)


# ----------------------------------------------------------------------------- information criteria (#13)
def _criteria(rss: float, n: int, k: int) -> tuple[float, float, float]:
    """AIC, AICc and BIC of a Gaussian least-squares fit from RSS, points and parameters
    estimated (the residual variance counted as one more): the textbook formulas."""
    kk = k + 1
    aic = n * np.log(rss / n) + 2 * kk
    return aic, aic + 2 * kk * (kk + 1) / (n - kk - 1), n * np.log(rss / n) + kk * np.log(n)


X8 = 10.0 / 3.0 ** np.arange(8)  # uM


def _three_curves_one_short() -> np.ndarray:
    y = logistic4(X8, 0, 100, np.array([[0.1], [1.0], [0.3]]), 1.0)
    y = y + np.random.default_rng(0).normal(0, 2, y.shape)
    y[2, 2:] = np.nan  # curve 2 keeps two points: too few for its own bottom, top and ic50
    return y


@pytest.mark.parametrize("share", [("hill",), ()])
def test_aic_of_a_shared_fit_counts_only_estimated_parameters_and_used_points(share: tuple[str, ...]) -> None:
    y = _three_curves_one_short()
    sf = cmp.fit_shared(X8, y, conc_unit="uM", share=share)
    assert sf.status.tolist()[2] == mp.FitStatus.TOO_FEW_POINTS
    used = [0, 1]
    # counted in the test: the points of the curves fitted; the shared parameters once, the
    # per-curve ones (bottom, top, ic50 and, unshared, hill) once per fitted curve
    n = int(np.isfinite(y[used]).sum())
    k = len(share) + len(used) * (4 - len(share))
    p = {name: np.asarray(sf.params[name])[used, None] for name in ("bottom", "top", "ic50", "hill")}
    rss = float(np.sum((logistic4(X8, p["bottom"], p["top"], p["ic50"], p["hill"]) - y[used]) ** 2))
    assert float(sf.rss) == pytest.approx(rss, rel=1e-10)
    assert int(sf.n) == n == 16 and int(sf.n_estimated) == k and sf.n_free == k + 4 - len(share)
    aic, aicc, bic = _criteria(rss, n, k)
    assert float(sf.aic) == pytest.approx(aic, rel=1e-10)
    assert float(sf.aicc) == pytest.approx(aicc, rel=1e-10)
    assert float(sf.bic) == pytest.approx(bic, rel=1e-10)
    # leaving a curve out is the same as not having it
    two = cmp.fit_shared(X8, y[used], conc_unit="uM", share=share)
    assert int(two.n_estimated) == two.n_free == k
    assert float(two.aic) == pytest.approx(float(sf.aic), rel=1e-8)


def test_aic_of_a_shared_fit_with_an_attached_control_group_counts_its_wells_not_its_parameters() -> None:
    # the control-group reproducer of #13: the vehicle wells join curve A and inform the shared top
    x = np.tile(10.0 / 3.0 ** np.arange(6), 2)
    y = np.concatenate([logistic4(x[:6], 0, 100, 0.3, 1.2), logistic4(x[6:], 0, 100, 1.0, 1.2)])
    y = y + np.random.default_rng(0).normal(0, 2, 12)
    g = np.repeat(["A", "B"], 6)
    xs, ys = np.r_[x, 0, 0, 0], np.r_[y, 101, 99, 100]
    sf = cmp.fit_shared(xs, ys, groups=np.concatenate([g, ["ctrl"] * 3]), share=("top", "bottom", "hill"),
                        conc_unit="uM")
    assert sf.status.tolist() == [0, 0, 16] and sf.attached_to.tolist() == [-1, -1, 0]
    prm = {name: np.asarray(sf.params[name]) for name in ("bottom", "top", "ic50", "hill")}
    curve = np.r_[[0] * 6, [1] * 6]
    f = logistic4(x, prm["bottom"][curve], prm["top"][curve], prm["ic50"][curve], prm["hill"][curve])
    rss = float(np.sum((f - y) ** 2) + np.sum((prm["top"][0] - np.array([101.0, 99.0, 100.0])) ** 2))
    n, k = 15, 3 + 2  # all 15 wells; bottom, top, hill once and an ic50 for A and B (none for ctrl)
    assert float(sf.rss) == pytest.approx(rss, rel=1e-10)
    assert int(sf.n) == n and int(sf.n_estimated) == k and sf.n_free == 6
    aic, aicc, bic = _criteria(rss, n, k)
    np.testing.assert_allclose([float(sf.aic), float(sf.aicc), float(sf.bic)], [aic, aicc, bic], rtol=1e-10)


def test_select_ranks_shared_fits_by_the_counted_criteria_and_refuses_fits_of_different_curves() -> None:
    y = _three_curves_one_short()
    hill = cmp.fit_shared(X8, y, conc_unit="uM", share=("hill",))
    separate = cmp.fit_shared(X8, y, conc_unit="uM", share=())
    sel = cmp.select({"shared hill": hill, "separate": separate}, criterion="aic")
    expected = [_criteria(float(r.rss), 16, k)[0] for r, k in ((hill, 7), (separate, 8))]
    np.testing.assert_allclose(sel.values, expected, rtol=1e-10)
    assert sel.best_name == ("shared hill" if expected[0] < expected[1] else "separate")
    test = cmp.f_test(hill, separate)
    assert int(test.df1) == 1 and int(test.df2) == 16 - 8
    # sharing the plateaus too lets curve 2 in (one parameter of its own): other points, refused
    plateaus = cmp.fit_shared(X8, y, conc_unit="uM", share=("hill", "top", "bottom"))
    assert plateaus.status.tolist()[2] != mp.FitStatus.TOO_FEW_POINTS
    with pytest.raises(ValueError, match=r"curve 2 was left out of `results\['shared hill'\]`"):
        cmp.select({"shared hill": hill, "plateaus": plateaus})
    with pytest.raises(ValueError, match="must be fits of the same points"):
        cmp.f_test(plateaus, hill)


def test_shared_biphasic_fit_equals_an_independent_stacked_least_squares() -> None:
    # a family that is not bottom + (top - bottom) S(z): bounds, starts and log scale come
    # from its declaration (#13); plateaus and the site fraction shared by three inhibitors
    x = np.tile(10000.0 / 3.0 ** np.arange(12), 2)  # nM, duplicates
    rng = np.random.default_rng(7)
    c1, c2 = np.array([4.0, 2.0, 8.0]), np.array([800.0, 300.0, 1500.0])

    def biphasic(
        x: np.ndarray, b: float, t: float, l1: float, h1: float, l2: float, h2: float, fr: float
    ) -> np.ndarray:
        return np.asarray(b + (t - b) * (fr / (1 + (x / l1) ** h1) + (1 - fr) / (1 + (x / l2) ** h2)))

    y = np.stack([biphasic(x, 5, 100, c1[i], 1.2, c2[i], 1.0, 0.45) for i in range(3)])
    y = y + rng.normal(0, 2.0, y.shape)
    sf = cmp.fit_shared(x, y, model="biphasic", conc_unit="nM", share=("bottom", "top", "frac"))
    assert sf.status.tolist() == [0, 0, 0]

    def resid(q: np.ndarray) -> np.ndarray:
        b, t, fr = q[:3]
        per = q[3:].reshape(3, 4)
        return np.concatenate([biphasic(x, b, t, np.exp(per[i, 0]), per[i, 1], np.exp(per[i, 2]), per[i, 3], fr)
                               - y[i] for i in range(3)])

    q0 = np.r_[5.0, 100.0, 0.45, np.column_stack([np.log(c1), np.full(3, 1.2), np.log(c2), np.ones(3)]).ravel()]
    lo = np.r_[-np.inf, -np.inf, 0.0, np.full(12, -np.inf)]
    hi = np.r_[np.inf, np.inf, 1.0, np.full(12, np.inf)]
    ref = least_squares(resid, q0, bounds=(lo, hi), method="trf", xtol=1e-15, ftol=1e-15, gtol=1e-15)
    rss_ref = float(np.sum(ref.fun**2))
    assert float(sf.rss) == pytest.approx(rss_ref, rel=1e-8)
    per = ref.x[3:].reshape(3, 4)
    np.testing.assert_allclose(sf.params["ic50_1"], np.exp(per[:, 0]), rtol=1e-4)
    np.testing.assert_allclose(sf.params["ic50_2"], np.exp(per[:, 2]), rtol=1e-4)
    np.testing.assert_allclose(sf.params["frac"], ref.x[2], rtol=1e-4)
    assert int(sf.n_estimated) == sf.n_free == 15 and int(sf.dof) == 72 - 15
    assert np.all(sf.params["ic50_1"] <= sf.params["ic50_2"])  # the family's reported form
