"""Block-structured global fits (#13): partial sharing, control-only curves, one status
policy, O(N) scaling; checked against an independent dense stacked least_squares."""

from __future__ import annotations

import re
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import least_squares

import mtor_pharm as mp
from mtor_pharm import compare as cmp
from mtor_pharm.errors import MtorPharmWarning, ShapeError
from mtor_pharm.fitting import _global, _kernels, _status

CONC = np.repeat(10.0 / 3.0 ** np.arange(8), 2)  # uM, duplicates
NAMES = ("bottom", "top", "ic50", "hill")


def logistic4(x: np.ndarray, b: float, t: float, c: float, h: float) -> np.ndarray:
    """From the formula, not the library."""
    return np.asarray(b + (t - b) / (1.0 + (x / c) ** h))


def dense_reference(
    y: np.ndarray, groups: dict[str, np.ndarray], start: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], float, np.ndarray]:
    """Stacked least squares over every curve at once (dense Jacobian, scipy 'lm').

    `groups` maps a shared parameter to the group of each curve; other parameters are per
    curve.  Returns per-curve estimates, the RSS and the covariance s²(JᵀJ)⁻¹ on the
    reported scale of every curve's parameters, shape (k, 4, k, 4)."""
    k = y.shape[0]
    layout: list[tuple[str, np.ndarray]] = []  # per column: parameter, mask of curves using it
    for n in NAMES:
        if n in groups:
            for g in np.unique(groups[n]):
                layout.append((n, groups[n] == g))
        else:
            for j in range(k):
                layout.append((n, np.arange(k) == j))

    def unpack(theta: np.ndarray) -> dict[str, np.ndarray]:
        out = {n: np.zeros(k) for n in NAMES}
        for v, (n, mask) in zip(theta, layout, strict=True):
            out[n][mask] = v
        out["ic50"] = np.exp(out["ic50"])
        return out

    def resid(theta: np.ndarray) -> np.ndarray:
        q = unpack(theta)
        return np.concatenate([logistic4(CONC, *(q[n][j] for n in NAMES)) - y[j] for j in range(k)])

    theta0 = np.array([np.mean(np.log(start[n][mask]) if n == "ic50" else start[n][mask]) for n, mask in layout])
    sol = least_squares(resid, theta0, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=100000)
    est = unpack(sol.x)
    rss = float(np.sum(sol.fun**2))
    dof = y.size - len(layout)
    cov_t = rss / dof * np.linalg.inv(sol.jac.T @ sol.jac)
    # map to (k, 4, k, 4), reported scale (delta method for ic50)
    M = np.zeros((k, 4, len(layout)))
    for c, (n, mask) in enumerate(layout):
        a = NAMES.index(n)
        M[mask, a, c] = est["ic50"][mask] if n == "ic50" else 1.0
    cov = np.einsum("iac,cd,jbd->iajb", M, cov_t, M)
    return est, rss, cov


def _panel(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """2 compounds x 3 cell lines: one hill per compound, one top per cell line."""
    rng = np.random.default_rng(seed)
    compound = np.repeat([0, 1], 3)
    line = np.tile([0, 1, 2], 2)
    hill = np.array([0.9, 1.6])[compound]
    top = np.array([90.0, 100.0, 115.0])[line]
    ic50 = np.array([0.02, 0.1, 0.5, 0.05, 0.3, 2.0])
    bottom = np.array([5.0, 8.0, 3.0, 10.0, 6.0, 4.0])
    y = np.stack([logistic4(CONC, bottom[j], top[j], ic50[j], hill[j]) for j in range(6)])
    y = y + rng.normal(0, 3, y.shape)
    truth = {"bottom": bottom, "top": top, "ic50": ic50, "hill": hill}
    return y, compound, line, truth


@pytest.mark.parametrize("seed", [0, 1])
def test_partial_sharing_equals_a_dense_stacked_fit(seed: int) -> None:
    y, compound, line, truth = _panel(seed)
    sf = cmp.fit_shared(CONC, y, conc_unit="uM", share={"hill": compound, "top": line})
    est, rss, cov = dense_reference(y, {"hill": compound, "top": line}, truth)
    assert np.all(sf.status & ~np.uint8(mp.FitStatus.IC50_OUTSIDE_RANGE) == 0)
    for n in NAMES:
        np.testing.assert_allclose(sf.params[n], est[n], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(float(sf.rss), rss, rtol=1e-10)
    assert float(sf.rss) <= rss * (1 + 1e-13)  # at least as low as the reference optimum
    assert int(sf.dof) == y.size - (2 + 3 + 2 * 6)
    assert sf.n_free == 2 + 3 + 2 * 6
    # the reference Jacobian is by finite differences: compare on the scale of the standard errors
    sd = np.sqrt(np.einsum("iaia->ia", cov))
    np.testing.assert_allclose(
        sf.covariance / np.einsum("ia,jb->iajb", sd, sd), cov / np.einsum("ia,jb->iajb", sd, sd), atol=1e-5
    )
    np.testing.assert_allclose(np.sqrt(np.einsum("iaia->ia", sf.covariance)), sd, rtol=1e-5)
    np.testing.assert_allclose(sf.covariance_block(1, 4), sf.covariance[1, :, 4, :], rtol=1e-12)
    assert sf.share == ("top", "hill")
    assert sf.share_groups["hill"].tolist() == compound.tolist()
    # the shared values repeat within their groups only
    assert len(np.unique(sf.params["hill"])) == 2 and len(np.unique(sf.params["top"])) == 3


def test_partial_sharing_from_tidy_points_and_from_an_xarray_coordinate() -> None:
    y, compound, line, _ = _panel(2)
    arrays = cmp.fit_shared(CONC, y, conc_unit="uM", share={"hill": compound, "top": line})
    labels = np.repeat(np.array([f"c{j}" for j in range(6)]), CONC.size)
    tidy = cmp.fit_shared(
        mp.Q_(np.tile(CONC, 6), "uM"),
        y.ravel(),
        groups=labels,
        share={"hill": np.repeat(compound, CONC.size), "top": np.repeat(line, CONC.size)},
    )
    np.testing.assert_allclose(tidy.params["ic50"], arrays.params["ic50"], rtol=1e-9)
    data = xr.DataArray(
        y,
        dims=("curve", "conc"),
        coords={
            "curve": list("abcdef"),
            "compound": ("curve", ["A", "A", "A", "B", "B", "B"]),
            "line": ("curve", compound * 0 + line),
            "conc": ("conc", CONC, {"units": "uM"}),
        },
    )
    da = cmp.fit_shared(data, dim="conc", over="curve", share={"hill": "compound", "top": "line"})
    np.testing.assert_allclose(da.params["ic50"], arrays.params["ic50"], rtol=1e-9)


def test_partial_sharing_rejects_groups_of_the_wrong_length_or_mixed_within_a_curve() -> None:
    y, compound, _, _ = _panel(0)
    with pytest.raises(ShapeError, match=r"share\['hill'\].*one group label per curve"):
        cmp.fit_shared(CONC, y, conc_unit="uM", share={"hill": compound[:4]})
    with pytest.raises(ValueError, match="coordinate along the curve dimension"):
        cmp.fit_shared(CONC, y, conc_unit="uM", share={"hill": "compound"})
    labels = np.repeat(np.arange(6), CONC.size)
    bad = np.repeat(compound, CONC.size)
    bad[1] = 1 - bad[1]
    with pytest.raises(ValueError, match="constant within a curve"):
        cmp.fit_shared(mp.Q_(np.tile(CONC, 6), "uM"), y.ravel(), groups=labels, share={"hill": bad})


def _control_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.tile(10.0 / 3.0 ** np.arange(6), 2)
    y = np.concatenate([mp.models.four_pl(x[:6], 0, 100, 0.3, 1.2), mp.models.four_pl(x[6:], 0, 100, 1.0, 1.2)])
    y = y + np.random.default_rng(0).normal(0, 2, 12)
    g = np.repeat(["A", "B"], 6)
    return np.r_[x, 0, 0, 0], np.r_[y, 101, 99, 100], np.concatenate([g, ["ctrl"] * 3])


def test_control_only_curve_informs_the_shared_top_as_drc_attaches_it() -> None:
    x, y, g = _control_data()
    sf = cmp.fit_shared(x, y, groups=g, share=("top", "bottom", "hill"), conc_unit="uM")
    assert sf.labels == ("A", "B", "ctrl")
    assert sf.status.tolist() == [0, 0, mp.FitStatus.TOO_FEW_POINTS]
    assert sf.attached_to.tolist() == [-1, -1, 0]
    assert np.isfinite(sf.rss) and int(sf.n) == 15
    # drc's rule: the vehicle wells become wells of the first curve
    relabelled = cmp.fit_shared(
        x, y, groups=np.where(g == "ctrl", "A", g), share=("top", "bottom", "hill"), conc_unit="uM"
    )
    for n in NAMES:
        np.testing.assert_allclose(sf.params[n][:2], relabelled.params[n], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(sf.stderr[n][:2], relabelled.stderr[n], rtol=1e-6)
    np.testing.assert_allclose(float(sf.rss), float(relabelled.rss), rtol=1e-10)
    assert int(sf.dof) == int(relabelled.dof)
    assert np.isnan(sf.params["ic50"][2]) and sf.params["top"][2] == sf.params["top"][0]


def test_control_only_curve_without_a_shared_top_is_left_out_with_a_warning() -> None:
    x, y, g = _control_data()
    with pytest.warns(MtorPharmWarning, match=r"only vehicle wells.*share 'top'"):
        sf = cmp.fit_shared(x, y, groups=g, share=("bottom", "hill"), conc_unit="uM")
    assert sf.status.tolist() == [0, 0, mp.FitStatus.TOO_FEW_POINTS]
    keep = g != "ctrl"
    alone = cmp.fit_shared(x[keep], y[keep], groups=g[keep], share=("bottom", "hill"), conc_unit="uM")
    np.testing.assert_allclose(sf.params["ic50"][:2], alone.params["ic50"], rtol=1e-6)
    np.testing.assert_allclose(float(sf.rss), float(alone.rss), rtol=1e-10)


def _mixed_batch() -> np.ndarray:
    """Good curves, a flat one, one with too few points, one from a single concentration."""
    rng = np.random.default_rng(4)
    y = np.stack([logistic4(CONC, 5, 100, c, 1.2) for c in (0.03, 0.3, 1.0, 0.1, 0.2)])
    y += rng.normal(0, 3, y.shape)
    y[1] = 60 + rng.normal(0, 3, CONC.size)  # flat
    y[3, 4:] = np.nan  # 4 points at 2 concentrations: too few for 4 parameters
    y[4, 2:] = np.nan  # one concentration
    return y


def test_sharing_nothing_gives_the_per_curve_statuses_and_estimates() -> None:
    y = _mixed_batch()
    sep = mp.fit(CONC, y, conc_unit="uM")
    sf = cmp.fit_shared(CONC, y, conc_unit="uM", share=())
    assert sf.status.tolist() == np.asarray(sep.status).tolist()
    assert sf.status[1] & mp.FitStatus.FLAT_RESPONSE and sf.status[3] & mp.FitStatus.TOO_FEW_POINTS
    for n in NAMES:
        np.testing.assert_array_equal(np.isnan(sf.params[n]), np.isnan(sep.params[n]))
        np.testing.assert_allclose(sf.params[n], sep.params[n], rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(sf.icx(50).magnitude, sep.ic50.magnitude, rtol=1e-12, equal_nan=True)
    ok = (np.asarray(sep.status) & mp.FitStatus.TOO_FEW_POINTS) == 0
    np.testing.assert_allclose(float(sf.rss), float(np.sum(np.asarray(sep.rss)[ok])), rtol=1e-12)
    # pooled variance: each curve's covariance rescaled from its own s² to the pooled one
    s2 = np.asarray(sep.rss) / np.asarray(sep.dof)
    pooled = float(sf.rss) / int(sf.dof)
    good = ok & np.all(np.isfinite(np.asarray(sep.covariance)), axis=(1, 2))
    for j in np.flatnonzero(good):
        np.testing.assert_allclose(sf.covariance_block(j, j), sep.covariance[j] * pooled / s2[j], rtol=1e-9)


def test_a_shared_fit_flags_a_flat_curve_and_a_curve_with_too_few_points_on_that_curve_only() -> None:
    y = _mixed_batch()
    sf = cmp.fit_shared(CONC, y, conc_unit="uM", share=("hill",))
    assert sf.status[1] & mp.FitStatus.FLAT_RESPONSE
    assert np.isnan(sf.ic50.magnitude[1])  # undetermined, as for mp.fit
    # 3 own parameters (bottom, top, ic50): 2 concentrations, or 1, cannot determine them
    assert sf.status[3] == mp.FitStatus.TOO_FEW_POINTS and sf.status[4] == mp.FitStatus.TOO_FEW_POINTS
    assert np.all(np.isnan(sf.params["ic50"][3:]))
    for j in (0, 2):
        assert sf.status[j] == 0
    # the flat-response rule is the per-curve one: F test of the curve's own points
    sep = mp.fit(CONC, y[1], conc_unit="uM")
    assert bool(sep.status & mp.FitStatus.FLAT_RESPONSE)


def test_status_rules_match_the_compiled_engine_on_its_own_outputs() -> None:
    """`_status` reproduces the engine's p-value (F test) and flags from its outputs."""
    y = _mixed_batch()
    res = mp.fit(CONC, y, conc_unit="uM")
    ok = (np.asarray(res.status) & mp.FitStatus.TOO_FEW_POINTS) == 0
    ybar = np.nanmean(y, axis=1)
    rss0 = np.nansum((y - ybar[:, None]) ** 2, axis=1)
    p = _status.flat_pvalue(res.rss, rss0, res.n, 4)
    np.testing.assert_allclose(p[ok], np.asarray(res.response_pvalue)[ok], rtol=1e-8)
    flat = (np.asarray(res.status) & mp.FitStatus.FLAT_RESPONSE) != 0
    assert _status.flat(p)[ok].tolist() == flat[ok].tolist()
    n_distinct = np.array([np.unique(CONC[np.isfinite(r)]).size for r in y])
    assert _status.fittable(res.n, n_distinct, 4).tolist() == ok.tolist()


def test_solver_settings_are_defined_once_in_the_compiled_engine() -> None:
    # the global solver iterates with the compiled engine's settings: the C constants are
    # initialised from the module's Python names, which _global imports (no copies)
    src = (Path(_global.__file__).parent / "_kernels.pyx").read_text()
    for name in ("LAM0", "DEC_TOL", "STEP_TOL", "STALL_TOL", "LAM_MAX", "ZERO_RSS", "STALL_EVERY", "STALL_REL",
                 "LINEAR_RATE_MAX"):
        assert re.search(rf"^cdef (?:double|int) _{name} = {name}\b", src, re.M), name
        assert getattr(_global, f"_{name}") == getattr(_kernels, name), name
    assert "= 0.1" not in Path(_global.__file__).read_text()  # no literal copy of a setting left


def _screen(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ic50 = np.exp(rng.uniform(np.log(0.01), np.log(3), n))[:, None]
    return np.asarray(mp.models.four_pl(CONC, 5, 100, ic50, 1.2) + rng.normal(0, 4, (n, CONC.size)))


def test_memory_of_a_global_fit_grows_linearly_with_the_curves() -> None:
    """Peak traced memory for 4x the curves is about 4x (dense normal equations: 16x)."""
    peaks = []
    for n in (300, 1200):
        y = _screen(n)
        tracemalloc.start()
        sf = cmp.fit_shared(CONC, y, conc_unit="uM", share=("hill", "top", "bottom"))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert np.all(sf.converged)
    assert peaks[1] / peaks[0] < 6.0


def test_five_thousand_curves_share_hill_and_plateaus() -> None:
    y = _screen(5000, seed=1)
    sf = cmp.fit_shared(CONC, y, conc_unit="uM", share=("hill", "top", "bottom"))
    assert np.all(sf.converged) and sf.n_curves == 5000
    np.testing.assert_allclose(sf.params["hill"][0], 1.2, rtol=0.02)
    np.testing.assert_allclose(sf.params["top"][0], 100, rtol=0.01)
    # the shared hill's error shrinks like 1/sqrt(N) against a single curve's
    assert sf.stderr["hill"][0] < 0.01
    with pytest.raises(ShapeError, match="covariance_block"):
        _ = sf.covariance


def test_global_fit_batch_of_pairs_equals_one_pair_at_a_time() -> None:
    ys = np.stack([_screen(2, seed=s) for s in range(5)])
    batch = cmp.fit_shared(CONC, ys, conc_unit="uM", share={"hill": [0, 0], "top": [0, 1]})
    for i in range(5):
        one = cmp.fit_shared(CONC, ys[i], conc_unit="uM", share={"hill": [0, 0], "top": [0, 1]})
        np.testing.assert_allclose(batch.params["ic50"][i], one.params["ic50"], rtol=1e-9)
        assert batch.status[i].tolist() == one.status.tolist()


def test_no_warning_leaks_from_a_global_fit_with_empty_curves() -> None:
    y = _screen(4)
    y[2] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sf = cmp.fit_shared(CONC, y, conc_unit="uM", share=("hill",))
    assert sf.status[2] == mp.FitStatus.TOO_FEW_POINTS and np.all(sf.status[[0, 1, 3]] & 16 == 0)


@settings(max_examples=15)
@given(
    perm_seed=st.integers(0, 2**16),
    n=st.integers(2, 6),
    shared=st.sampled_from([("hill",), ("hill", "top", "bottom"), ("top",)]),
)
def test_a_global_fit_does_not_depend_on_the_order_of_its_curves_or_the_unit(
    perm_seed: int, n: int, shared: tuple[str, ...]
) -> None:
    y = _screen(n, seed=perm_seed)
    perm = np.random.default_rng(perm_seed).permutation(n)
    a = cmp.fit_shared(CONC, y, conc_unit="uM", share=shared)
    b = cmp.fit_shared(CONC * 1000.0, y[perm], conc_unit="nM", share=shared)
    assert a.status.tolist() == b.status[np.argsort(perm)].tolist()
    np.testing.assert_allclose(float(a.rss), float(b.rss), rtol=1e-9)
    np.testing.assert_allclose(a.params["ic50"][perm] * 1000.0, b.params["ic50"], rtol=1e-5)
    np.testing.assert_allclose(a.params["hill"][perm], b.params["hill"], rtol=1e-5, atol=1e-6)


def test_a_flat_curve_sharing_hill_and_plateaus_is_flat_and_at_bound_alone() -> None:
    rng = np.random.default_rng(3)
    y = np.stack([logistic4(CONC, 5, 100, 0.1, 1.2), np.full(CONC.size, 100.0)]) + rng.normal(0, 3, (2, CONC.size))
    sf = cmp.fit_shared(CONC, y, conc_unit="uM", share=("hill", "top", "bottom"))
    assert sf.status[0] == 0
    flat_bits = mp.FitStatus.FLAT_RESPONSE | mp.FitStatus.AT_BOUND
    assert sf.status[1] == flat_bits  # its IC50 ran to the default bound: 10^6 beyond the tested range
    np.testing.assert_allclose(sf.params["ic50"][1], CONC.max() * 1e6, rtol=1e-9)
    assert np.isnan(sf.ic50.magnitude[1]) and np.isfinite(sf.ic50.magnitude[0])
    # the same decision as for a separate fit of that curve
    assert mp.fit(CONC, y[1], conc_unit="uM").status & mp.FitStatus.FLAT_RESPONSE


def test_weights_scale_the_rss_and_leave_the_optimum() -> None:
    y, compound, line, _ = _panel(5)
    share = {"hill": compound, "top": line}
    plain = cmp.fit_shared(CONC, y, conc_unit="uM", share=share)
    double = cmp.fit_shared(CONC, y, conc_unit="uM", share=share, weights=2.0)
    np.testing.assert_allclose(float(double.rss), 2 * float(plain.rss), rtol=1e-9)
    np.testing.assert_allclose(double.params["ic50"], plain.params["ic50"], rtol=1e-6)
    np.testing.assert_allclose(double.stderr["ic50"], plain.stderr["ic50"], rtol=1e-5)
    # a zero weight removes the point: same as NaN
    w = np.ones_like(y)
    w[0, :3] = 0.0
    y_nan = y.copy()
    y_nan[0, :3] = np.nan
    a = cmp.fit_shared(CONC, y, conc_unit="uM", share=share, weights=w)
    b = cmp.fit_shared(CONC, y_nan, conc_unit="uM", share=share)
    np.testing.assert_allclose(a.params["ic50"], b.params["ic50"], rtol=1e-6)
    assert int(a.n) == int(b.n) == y.size - 3


@pytest.mark.parametrize("seed", [1, 3])
def test_a_flat_curve_whose_own_plateaus_drift_is_set_aside_and_the_others_fitted(seed: int) -> None:
    """A flat curve with its own plateaus has no least-squares optimum (its plateaus drift);
    the per-curve engine reports it NOT_CONVERGED | FLAT_RESPONSE with no estimates.  In a
    global fit it is set aside the same way, and the others equal their global fit without it."""
    rng = np.random.default_rng(seed)
    ic50 = (0.03, 0.3, 1.0, 30.0, 300.0)
    y = np.stack([logistic4(CONC, 5, 100, c, 1.2) for c in ic50]) + rng.normal(0, 4, (5, CONC.size))
    assert mp.fit(CONC, y[4], conc_unit="uM").status == mp.FitStatus.NOT_CONVERGED | mp.FitStatus.FLAT_RESPONSE
    sf = cmp.fit_shared(CONC, y, conc_unit="uM", share=("hill",))
    assert sf.status[4] == mp.FitStatus.NOT_CONVERGED | mp.FitStatus.FLAT_RESPONSE
    assert np.all(np.isnan([sf.params[n][4] for n in NAMES]))
    assert np.all(sf.converged[:4])
    without = cmp.fit_shared(CONC, y[:4], conc_unit="uM", share=("hill",))
    assert sf.status[:4].tolist() == without.status.tolist()
    for n in NAMES:
        np.testing.assert_allclose(sf.params[n][:4], without.params[n], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(float(sf.rss), float(without.rss), rtol=1e-9)
    assert int(sf.dof) == int(without.dof) and int(sf.n) == int(without.n)


def test_vehicle_curves_attach_within_their_top_group() -> None:
    """Two cell lines, each with its own vehicle curve: each joins a curve of its own line."""
    rng = np.random.default_rng(8)
    x6 = 10.0 / 3.0 ** np.arange(6)
    tops = (100.0, 60.0)
    y = [logistic4(x6, 5, tops[j // 2], (0.1, 1.0)[j % 2], 1.2) + rng.normal(0, 2, 6) for j in range(4)]
    xs = np.concatenate([np.tile(x6, 4), np.zeros(6)])
    ys = np.concatenate([*y, tops[0] + rng.normal(0, 2, 3), tops[1] + rng.normal(0, 2, 3)])
    labels = np.concatenate([np.repeat(["a1", "a2", "b1", "b2"], 6), ["veh_a"] * 3, ["veh_b"] * 3])
    line = np.array(["A", "A", "B", "B", "A", "B"])  # per curve, in order of first appearance
    sf = cmp.fit_shared(xs, ys, groups=labels, share={"top": line, "hill": True}, conc_unit="uM")
    assert sf.labels == ("a1", "a2", "b1", "b2", "veh_a", "veh_b")
    assert sf.attached_to.tolist() == [-1, -1, -1, -1, 0, 2]
    relabelled = np.where(labels == "veh_a", "a1", np.where(labels == "veh_b", "b1", labels))
    ref = cmp.fit_shared(xs, ys, groups=relabelled, share={"top": line[:4], "hill": True}, conc_unit="uM")
    np.testing.assert_allclose(sf.params["top"][:4], ref.params["top"], rtol=1e-6)
    np.testing.assert_allclose(float(sf.rss), float(ref.rss), rtol=1e-9)


def test_a_status_bit_means_the_same_from_every_entry_point() -> None:
    # issue #13: the same five curves (good, flat, too few points, one concentration) through
    # every way into the engine give the same flags; in a global fit the data-level flags
    # (flat response, too few points) are the curve's own, whatever is shared
    import pandas as pd

    y = _mixed_batch()
    ref = np.asarray(mp.fit(CONC, y, conc_unit="uM").status)
    da = xr.DataArray(y, dims=("curve", "conc"), coords={"conc": ("conc", CONC, {"units": "uM"})})
    through_xarray = np.asarray(mp.fit(da, dim="conc")["status"])
    rows = [(c, x, v) for c in range(5) for x, v in zip(CONC, y[c], strict=True) if np.isfinite(v)]
    df = pd.DataFrame(rows, columns=["curve", "conc", "y"])
    through_table = np.asarray(mp.fit_table(df, conc="conc", response="y", by="curve", conc_unit="uM")[0].status)
    nothing_shared = np.asarray(cmp.fit_shared(CONC, y, conc_unit="uM", share=()).status)
    for name, got in (("xarray", through_xarray), ("fit_table", through_table), ("share=()", nothing_shared)):
        assert got.tolist() == ref.tolist(), name
    flat, few = mp.FitStatus.FLAT_RESPONSE, mp.FitStatus.TOO_FEW_POINTS
    for share, own in ((("hill",), 3), (("top", "bottom"), 2), ({"hill": np.array([0, 0, 1, 1, 1])}, 3)):
        shared = np.asarray(mp.fit(CONC, y, conc_unit="uM", share=share).status)
        assert (shared & flat).tolist() == (ref & flat).tolist(), share
        # too few points for the curve's OWN parameters (what is shared is borrowed): curve 3
        # has 4 points at 2 concentrations, curve 4 a single concentration
        assert bool(shared[3] & few) == (own > 2) and bool(shared[4] & few), share
