"""Tests for mtor_pharm.assays.viability: MTT, NCI-60 growth, GR values/metrics and AUC."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize

import mtor_pharm as mp
from mtor_pharm.assays import (
    ControlError,
    auc,
    gr_metrics,
    gr_values,
    growth_percent,
    mtt_absorbance,
    nci60_metrics,
    percent_viability,
)
from mtor_pharm.errors import ShapeError


def gr_curve(c, grinf, gec50, h):
    """Hafner's sigmoid written out here, independently of the library's 4PL."""
    c = np.asarray(c, dtype=float)
    return grinf + (1.0 - grinf) / (1.0 + (c / gec50) ** h)


# ----------------------------------------------------------------------------- MTT
def test_mtt_absorbance_subtracts_the_reference_wavelength():
    np.testing.assert_allclose(mtt_absorbance([0.95, 0.52], [0.05, 0.04]), [0.90, 0.48])
    np.testing.assert_allclose(mtt_absorbance([0.95, 0.52]), [0.95, 0.52])


def test_mtt_absorbance_rejects_mismatched_shapes():
    with pytest.raises(ShapeError, match="`a570`.*`a_ref`"):
        mtt_absorbance(np.ones(3), np.ones(4))


def test_percent_viability_equals_the_written_out_formula():
    # corrected OD: treated 0.57, vehicle mean 0.97, blank mean 0.05 -> 100*0.52/0.92
    a = mtt_absorbance([0.62], 0.05)
    c = mtt_absorbance([1.07, 0.97], 0.05)
    out = percent_viability(a, c, blank=[0.06, 0.04])
    assert out.value[0] == pytest.approx(100 * 0.52 / 0.92)


# ----------------------------------------------------------------------------- NCI-60
def test_growth_percent_hand_example_both_branches():
    # T >= T0: 100 (T - T0)/(C - T0); T < T0: 100 (T - T0)/T0
    out = growth_percent([0.9, 0.4, 0.2, 0.1, 0.0], t0=[0.2, 0.2], control=[1.0, 1.0])
    np.testing.assert_allclose(out.value, [100 * 0.7 / 0.8, 100 * 0.2 / 0.8, 0.0, -50.0, -100.0])


def test_growth_percent_stderr_matches_numeric_delta_method():
    t0, c = np.array([0.18, 0.22]), np.array([0.95, 1.05])
    out = growth_percent([0.6, 0.1], t0=t0, control=c)
    var_t0 = t0.var(ddof=1) / 2
    var_c = c.var(ddof=1) / 2

    def g(s, t, cc):
        return 100 * (s - t) / (cc - t) if s >= t else 100 * (s - t) / t

    h = 1e-7
    for s, se in zip([0.6, 0.1], out.stderr, strict=True):
        d_t = (g(s, 0.2 + h, 1.0) - g(s, 0.2 - h, 1.0)) / (2 * h)
        d_c = (g(s, 0.2, 1.0 + h) - g(s, 0.2, 1.0 - h)) / (2 * h)
        assert se == pytest.approx(math.sqrt(d_t**2 * var_t0 + d_c**2 * var_c), rel=1e-5)


def test_growth_percent_rejects_controls_that_did_not_grow():
    with pytest.raises(ControlError, match=r"`control` must average above `t0`.*0\.2"):
        growth_percent([0.5], t0=[0.2, 0.2], control=[0.2, 0.2])


def test_growth_percent_rejects_nonpositive_time_zero():
    with pytest.raises(ControlError, match=r"`t0` must have a positive mean.*-0\.01"):
        growth_percent([0.5], t0=[-0.01, -0.01], control=[1.0])


def test_nci60_interpolation_hand_example():
    # GI50 between 0.1 nM (80) and 1 nM (40): t = 30/40 -> 10**(-1 + 0.75)
    # TGI between 10 (5) and 100 (-30): t = 5/35 -> 10**(1 + 1/7)
    # LC50 between 100 (-30) and 1000 (-70): t = 20/40 -> 10**2.5
    conc = mp.Q_([0.01, 0.1, 1, 10, 100, 1000], "nM")
    m = nci60_metrics(conc, [95, 80, 40, 5, -30, -70])
    assert float(m.gi50.magnitude) == pytest.approx(10 ** -0.25)
    assert float(m.tgi.magnitude) == pytest.approx(10 ** (1 + 1 / 7))
    assert float(m.lc50.magnitude) == pytest.approx(10**2.5)
    assert m.gi50.units == mp.ureg.nM
    assert [str(m.gi50_qualifier), str(m.tgi_qualifier), str(m.lc50_qualifier)] == ["=", "=", "="]


def test_nci60_reports_censored_metrics_as_nan_with_qualifiers():
    conc = mp.Q_([0.01, 0.1, 1, 10], "uM")
    # never reaches 0 or -50; GI50 already passed at the lowest concentration
    m = nci60_metrics(conc, [[45, 30, 20, 10], [99, 98, 97, 96]])
    assert np.isnan(m.tgi.magnitude).all()
    assert m.gi50_qualifier.tolist() == ["<", ">"]
    assert m.tgi_qualifier.tolist() == [">", ">"]
    table = m.to_frame()
    assert table["gi50_text"].tolist() == ["< 0.01 µM", "> 10 µM"]


def test_nci60_averages_replicates_and_skips_nan_wells():
    conc = mp.Q_([1, 1, 10, 10, 100, 100], "nM")
    # means: 1 nM -> 80, 10 nM -> 40 (NaN replicate skipped), 100 nM -> 0
    m = nci60_metrics(conc, [70, 90, 40, np.nan, -10, 10])
    assert float(m.gi50.magnitude) == pytest.approx(10 ** (0 + 30 / 40))
    assert int(m.n_points) == 5


def test_nci60_rejects_vehicle_concentration_on_log_axis():
    with pytest.raises(ValueError, match="`conc` must be > 0 on a log-dose axis; got 0.0"):
        nci60_metrics(mp.Q_([0, 1, 10], "uM"), [100, 50, 0])


def _simulate_growth(rng, *, grinf, gec50, h, n_doublings=3.0, reps=3, noise=0.01):
    conc = 10.0 / 2.0 ** np.arange(16)[::-1]  # 2-fold, 0.0003-10 uM
    x0 = 1.0
    cells = x0 * (1 + gr_curve(conc, grinf, gec50, h)) ** n_doublings
    ctrl = x0 * 2.0**n_doublings
    t = cells + rng.normal(0, noise, (reps, conc.size))
    t0 = x0 + rng.normal(0, noise, 8)
    c = ctrl + rng.normal(0, noise, 8)
    return conc, t, t0, c


def test_nci60_gi50_tgi_lc50_recover_the_simulated_truth():
    rng = np.random.default_rng(11)
    grinf, gec50, h, n = -0.5, 0.2, 1.3, 3.0
    conc, t, t0, c = _simulate_growth(rng, grinf=grinf, gec50=gec50, h=h, n_doublings=n)
    g = growth_percent(t, t0=t0[np.newaxis, :], control=c[np.newaxis, :])
    conc_all = np.broadcast_to(conc, t.shape).ravel()

    # truth: cells x = (1 + GR)^n with x0 = 1, control 2^n
    def conc_for_cells(x):
        gr = x ** (1 / n) - 1
        return gec50 * ((1 - grinf) / (gr - grinf) - 1) ** (1 / h)

    truth = {"gi50": conc_for_cells((1 + 2**n) / 2), "tgi": conc_for_cells(1.0),
             "lc50": conc_for_cells(0.5)}
    m = nci60_metrics(conc_all, g.value.ravel(), conc_unit="uM")
    for name, value in truth.items():
        assert float(getattr(m, name).magnitude) == pytest.approx(value, rel=0.08), name


def test_nci60_fit_method_recovers_levels_of_a_logistic_growth_curve():
    # growth percent simulated as 100 + (-80 - 100)/(1 + (c/ec)^-h): a falling logistic
    rng = np.random.default_rng(12)
    bottom, ec, h = -80.0, 0.3, 1.1
    conc = np.tile(10.0 / 2.0 ** np.arange(14)[::-1], 2)
    g = bottom + (100 - bottom) / (1 + (conc / ec) ** h) + rng.normal(0, 1.0, conc.size)

    def level(y):  # invert the logistic by hand
        return ec * ((100 - bottom) / (y - bottom) - 1) ** (1 / h)

    m = nci60_metrics(conc, g, conc_unit="uM", method="fit")
    for name, y in (("gi50", 50.0), ("tgi", 0.0), ("lc50", -50.0)):
        assert float(getattr(m, name).magnitude) == pytest.approx(level(y), rel=0.06), name
    assert m.fit is not None


# ----------------------------------------------------------------------------- GR
def test_gr_values_hand_example():
    # x0 = 100, x_ctrl = 400 (2 doublings): GR = 2**(log2(x/100)/2) - 1
    out = gr_values([400.0, 200.0, 100.0, 50.0, 0.0], t0=[100.0], control=[400.0])
    np.testing.assert_allclose(out.value, [1.0, math.sqrt(2) - 1, 0.0, 2**-0.5 - 1, -1.0])


def test_gr_values_stderr_matches_numeric_delta_method():
    t0, c = np.array([90.0, 110.0]), np.array([380.0, 420.0])
    out = gr_values([200.0], t0=t0, control=c)

    def gr(x, a, b):
        return 2 ** (math.log2(x / a) / math.log2(b / a)) - 1

    h = 1e-5
    d0 = (gr(200, 100 + h, 400) - gr(200, 100 - h, 400)) / (2 * h)
    dc = (gr(200, 100, 400 + h) - gr(200, 100, 400 - h)) / (2 * h)
    expected = math.sqrt(d0**2 * t0.var(ddof=1) / 2 + dc**2 * c.var(ddof=1) / 2)
    assert out.stderr[0] == pytest.approx(expected, rel=1e-5)


def test_gr_values_rejects_negative_counts():
    with pytest.raises(ValueError, match=r"`signal` must be ≥ 0.*-3\.0"):
        gr_values([-3.0], t0=[1.0], control=[4.0])


@settings(max_examples=40, deadline=None)
@given(scale=st.floats(min_value=1e-3, max_value=1e4), x=st.floats(min_value=0.0, max_value=50.0))
def test_gr_values_do_not_depend_on_the_unit_of_the_count(scale, x):
    base = gr_values([x], t0=[1.0, 1.2], control=[8.0, 7.5])
    scaled = gr_values([x * scale], t0=[scale, 1.2 * scale], control=[8.0 * scale, 7.5 * scale])
    np.testing.assert_allclose(scaled.value, base.value, rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(t=st.floats(min_value=0.0, max_value=3.0))
def test_growth_percent_is_continuous_and_monotone_in_the_signal(t):
    lo = growth_percent([t], t0=[1.0], control=[2.0]).value[0]
    hi = growth_percent([t + 1e-6], t0=[1.0], control=[2.0]).value[0]
    assert 0 <= hi - lo <= 1e-4 * 100 + 1e-9


def test_gr_metrics_recover_the_simulated_parameters():
    rng = np.random.default_rng(5)
    grinf, gec50, h = -0.35, 0.12, 1.4
    conc = 10.0 / 3.0 ** np.arange(10)[::-1]
    gr = gr_curve(conc, grinf, gec50, h) + rng.normal(0, 0.02, (3, conc.size))
    m = gr_metrics(np.tile(conc, 3), gr.ravel(), conc_unit="uM")
    assert float(m.grinf) == pytest.approx(grinf, abs=0.05)
    assert float(m.gec50.to("uM").magnitude) == pytest.approx(gec50, rel=0.15)
    assert float(m.hgr) == pytest.approx(h, rel=0.2)
    gr0_true = gec50 * (-1 / grinf) ** (1 / h)  # solve grinf + (1-grinf)/(1+(c/g)^h) = 0
    assert float(m.gr0.magnitude) == pytest.approx(gr0_true, rel=0.1)
    gr50_true = gec50 * ((1 - grinf) / (0.5 - grinf) - 1) ** (1 / h)  # ... = 0.5
    assert float(m.gr50.magnitude) == pytest.approx(gr50_true, rel=0.1)
    assert float(m.grmax) == pytest.approx(float(gr_curve(10.0, grinf, gec50, h)), abs=0.03)
    lo, hi = math.log10(conc[0]), math.log10(conc[-1])
    aoc_true = integrate.quad(lambda u: 1 - gr_curve(10**u, grinf, gec50, h), lo, hi)[0] / (hi - lo)
    assert float(m.gr_aoc) == pytest.approx(aoc_true, abs=0.03)
    assert int(m.status) == 0


def test_gr_metrics_report_infinite_gr50_for_cytostatic_drugs():
    conc = 10.0 / 3.0 ** np.arange(9)[::-1]
    m = gr_metrics(conc, gr_curve(conc, 0.3, 0.05, 1.0), conc_unit="uM")
    assert float(m.grinf) == pytest.approx(0.3, abs=1e-6)
    assert math.isinf(float(m.gr0.magnitude))
    assert float(m.gr50.magnitude) == pytest.approx(0.05 * (0.7 / 0.2 - 1), rel=1e-5)


def test_gr_metrics_work_on_a_batch_and_make_a_table():
    conc = 10.0 / 3.0 ** np.arange(9)[::-1]
    gr = np.stack([gr_curve(conc, -0.2, 0.1, 1.0), gr_curve(conc, 0.1, 1.0, 2.0)])
    m = gr_metrics(mp.Q_(conc, "uM"), gr)
    assert m.gec50.shape == (2,)
    np.testing.assert_allclose(m.gec50.magnitude, [0.1, 1.0], rtol=1e-5)
    assert list(m.to_frame()["grinf"].round(3)) == [-0.2, 0.1]


# ----------------------------------------------------------------------------- AUC
def test_auc_trapezoid_hand_example_and_activity_area():
    # two decades; ((0.9 + 0.5)/2 + (0.5 + 0.1)/2) / 2 = 0.5
    a = auc(mp.Q_([0.1, 1, 10], "uM"), [90, 50, 10])
    assert float(a.value) == pytest.approx(0.5)
    aa = auc(mp.Q_([0.1, 1, 10], "uM"), [90, 60, 10], kind="activity_area")
    # 1 - ((0.9 + 0.6)/2 + (0.6 + 0.1)/2)/2 = 1 - 0.55
    assert float(aa.value) == pytest.approx(0.45)
    assert (aa.kind, aa.method, aa.log_base, aa.normalized) == ("activity_area", "trapezoid", 10.0, True)
    assert "activity area" in aa.describe()


def test_auc_clips_to_a_common_range_by_linear_interpolation():
    # range 1-10 uM: (0.5 + 0.1)/2 = 0.3 over one decade
    a = auc(mp.Q_([0.1, 1, 10], "uM"), [90, 50, 10], conc_range=("1 uM", "10 uM"))
    assert float(a.value) == pytest.approx(0.3)
    # range 0.316-3.16 uM: midpoints interpolate to 70 and 30
    b = auc(mp.Q_([0.1, 1, 10], "uM"), [90, 50, 10], conc_range=(10**-0.5 * mp.Q_(1, "uM"),
                                                                    10**0.5 * mp.Q_(1, "uM")))
    assert float(b.value) == pytest.approx(((0.7 + 0.5) / 2 * 0.5 + (0.5 + 0.3) / 2 * 0.5) / 1.0)


def test_auc_unnormalized_depends_on_log_base():
    a10 = auc(mp.Q_([0.1, 1, 10], "uM"), [100, 100, 100], normalize=False)
    ae = auc(mp.Q_([0.1, 1, 10], "uM"), [100, 100, 100], normalize=False, log_base=math.e)
    assert float(a10.value) == pytest.approx(2.0)
    assert float(ae.value) == pytest.approx(2 * math.log(10))


def test_fitted_auc_matches_the_integral_of_the_true_curve():
    conc = np.logspace(-3, 1, 9)
    y = 5 + 95 / (1 + (conc / 0.05) ** 1.2)
    a = auc(mp.Q_(conc, "uM"), y, method="fit")
    truth = integrate.quad(lambda u: (5 + 95 / (1 + (10**u / 0.05) ** 1.2)) / 100, -3, 1)[0] / 4
    assert float(a.value) == pytest.approx(truth, rel=1e-6)
    assert a.method == "fit"


def test_auc_is_unit_invariant():
    y = [95, 80, 40, 10]
    a = auc(mp.Q_([0.01, 0.1, 1, 10], "uM"), y)
    b = auc(mp.Q_([10, 100, 1000, 10000], "nM"), y)
    assert float(a.value) == pytest.approx(float(b.value))


@settings(max_examples=40, deadline=None)
@given(perm=st.permutations(list(range(6))))
def test_auc_does_not_depend_on_point_order(perm):
    conc = np.array([0.01, 0.1, 0.1, 1, 10, 10])
    y = np.array([98.0, 90, 80, 50, 12, 8])
    base = auc(conc, y, conc_unit="uM")
    p = np.array(perm)
    moved = auc(conc[p], y[p], conc_unit="uM")
    assert float(moved.value) == pytest.approx(float(base.value), rel=1e-12)


def test_auc_nan_points_are_left_out_and_counted():
    a = auc(mp.Q_([0.1, 1, 10, 10], "uM"), [[90, 50, 10, np.nan]])
    assert a.value.tolist() == pytest.approx([0.5])
    assert a.n_points.tolist() == [3]


def test_auc_rejects_range_outside_the_tested_one():
    with pytest.raises(ValueError, match="`conc_range` must lie inside"):
        auc(mp.Q_([0.1, 1, 10], "uM"), [90, 50, 10], conc_range=("0.01 uM", "10 uM"))


def test_auc_rejects_unknown_kind():
    with pytest.raises(ValueError, match="`kind` must be 'auc' or 'activity_area'; got 'aac'"):
        auc(mp.Q_([0.1, 1], "uM"), [90, 50], kind="aac")  # type: ignore[arg-type]


def test_gr_metric_closed_form_gr50_matches_root_finding():
    # independent check of GR0 = GEC50 (-1/GRinf)^(1/h) by numerical root finding
    grinf, gec50, h = -0.6, 0.4, 0.8
    root = optimize.brentq(lambda c: gr_curve(c, grinf, gec50, h), 1e-6, 1e3)
    conc = np.logspace(-2, 1.5, 12)
    m = gr_metrics(conc, gr_curve(conc, grinf, gec50, h), conc_unit="uM")
    assert float(m.gr0.magnitude) == pytest.approx(root, rel=1e-5)


def test_growth_percent_and_gr_values_on_dataarrays_match_numpy():
    s = np.array([[0.9, 0.4, 0.1], [0.8, 0.3, np.nan]])
    t0 = np.array([[0.2, 0.2], [0.25, 0.21]])
    c = np.array([[1.0, 1.1], [0.9, 1.0]])
    da = {"signal": xr.DataArray(s, dims=("plate", "well")),
          "t0": xr.DataArray(t0, dims=("plate", "rep")),
          "control": xr.DataArray(c, dims=("plate", "rep"))}
    for func in (growth_percent, gr_values):
        labelled = func(da["signal"], t0=da["t0"], control=da["control"], dim="rep")
        plain = func(s, t0=t0, control=c)
        assert labelled.value.dims == ("plate", "well")
        np.testing.assert_allclose(labelled.value.values, plain.value, equal_nan=True)
        np.testing.assert_allclose(labelled.stderr.values, plain.stderr, equal_nan=True)
        assert labelled.n_missing == plain.n_missing == 1
