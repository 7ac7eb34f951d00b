"""Tests for mtor_pharm.assays.kinase: Cheng–Prusoff closed forms, CI mapping, Morrison fit."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mtor_pharm as mp
from mtor_pharm.assays import (
    cheng_prusoff,
    fit_morrison,
    ki_from_fit,
    morrison,
    morrison_ic50,
    percent_activity,
)
from mtor_pharm.errors import MtorPharmWarning, UnitError


def morrison_textbook(i, k, e):
    """Morrison's equation exactly as printed (with the cancellation-prone square root)."""
    q = e + i + k
    return 1 - (q - np.sqrt(q**2 - 4 * e * i)) / (2 * e)


# ----------------------------------------------------------------------------- Cheng–Prusoff
def test_cheng_prusoff_closed_forms_for_the_three_mechanisms():
    # IC50 30 nM, [ATP] 10 uM, Km 5 uM: competitive 30/(1 + 2) = 10; uncompetitive 30/(1 + 0.5) = 20
    comp = cheng_prusoff("30 nM", substrate="10 uM", km="5 uM")
    unc = cheng_prusoff("30 nM", mechanism="uncompetitive", substrate="10 uM", km="5 uM")
    non = cheng_prusoff("30 nM", mechanism="noncompetitive")
    assert comp.ki.to("nM").magnitude == pytest.approx(10.0)
    assert unc.ki.to("nM").magnitude == pytest.approx(20.0)
    assert non.ki.to("nM").magnitude == pytest.approx(30.0)
    assert float(comp.factor) == pytest.approx(3.0)
    assert comp.ki.units == mp.ureg.nM


def test_cheng_prusoff_is_unit_aware():
    a = cheng_prusoff(mp.Q_(0.03, "uM"), substrate=mp.Q_(0.01, "mM"), km="5000 nM")
    assert a.ki.units == mp.ureg.uM
    assert a.ki.to("nM").magnitude == pytest.approx(10.0)
    b = cheng_prusoff([30.0, 60.0], conc_unit="nM", substrate="10 uM", km="5 uM")
    np.testing.assert_allclose(b.ki.magnitude, [10.0, 20.0])


def test_cheng_prusoff_maps_the_confidence_interval_through():
    k = cheng_prusoff("30 nM", substrate="10 uM", km="5 uM", ci=("0.02 uM", "45 nM"), level=0.9,
                      stderr="6 nM")
    assert k.ci_low.to("nM").magnitude == pytest.approx(20.0 / 3)
    assert k.ci_high.to("nM").magnitude == pytest.approx(15.0)
    assert k.stderr.to("nM").magnitude == pytest.approx(2.0)
    assert k.level == 0.9
    low, high = k.ci()
    assert low < k.ki < high


def test_cheng_prusoff_without_interval_reports_nan_limits():
    k = cheng_prusoff("30 nM", mechanism="noncompetitive")
    assert math.isnan(k.ci_low.magnitude)
    assert math.isnan(k.level)


def test_ki_from_fit_carries_the_fitted_interval():
    conc = mp.Q_([1, 3, 10, 30, 100, 300, 1000], "nM")
    rng = np.random.default_rng(3)
    act = 100 / (1 + conc.magnitude / 30.0) + rng.normal(0, 1.5, conc.size)
    res = mp.fit(conc, act)
    k = ki_from_fit(res, substrate="10 uM", km="5 uM", level=0.9)
    low, high = res.ci("ic50", level=0.9)
    assert k.ki.to("nM").magnitude == pytest.approx(float(res.ic50.to("nM").magnitude) / 3)
    assert k.ci_low.to("nM").magnitude == pytest.approx(float(low.to("nM").magnitude) / 3)
    assert k.ci_high.to("nM").magnitude == pytest.approx(float(high.to("nM").magnitude) / 3)
    assert k.stderr.magnitude == pytest.approx(float(res.stderr["ic50"]) / 3)


def test_cheng_prusoff_warns_in_the_tight_binding_regime():
    with pytest.warns(MtorPharmWarning, match="within 10× of the enzyme concentration") as record:
        cheng_prusoff("3 nM", substrate="10 uM", km="5 uM", enzyme="1 nM")
    assert record[0].filename == __file__  # stacklevel points at the caller


def test_ki_from_fit_warning_points_at_the_caller():
    conc = mp.Q_([0.1, 0.3, 1, 3, 10, 30, 100], "nM")
    res = mp.fit(conc, 100 / (1 + conc.magnitude / 2.0))
    with pytest.warns(MtorPharmWarning, match="Morrison") as record:
        ki_from_fit(res, substrate="10 uM", km="5 uM", enzyme="1 nM")
    assert record[0].filename == __file__


def test_cheng_prusoff_is_quiet_far_from_the_enzyme_concentration():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cheng_prusoff("300 nM", substrate="10 uM", km="5 uM", enzyme="1 nM")


def test_cheng_prusoff_rejects_missing_km():
    with pytest.raises(ValueError, match="`km` is required for competitive inhibition"):
        cheng_prusoff("30 nM", substrate="10 uM")


def test_cheng_prusoff_rejects_unknown_mechanism():
    with pytest.raises(ValueError, match="`mechanism` must be one of.*got 'mixed'"):
        cheng_prusoff("30 nM", mechanism="mixed")  # type: ignore[arg-type]


def test_cheng_prusoff_rejects_nonpositive_ic50():
    with pytest.raises(ValueError, match=r"`ic50` must be > 0; got -1\.0"):
        cheng_prusoff([-1.0], conc_unit="nM", mechanism="noncompetitive")


def test_cheng_prusoff_rejects_a_time_as_km():
    with pytest.raises(UnitError, match="`km` must have units of concentration"):
        cheng_prusoff("30 nM", substrate="10 uM", km="5 s")


@settings(max_examples=50, deadline=None)
@given(ic50=st.floats(min_value=1e-3, max_value=1e4), s=st.floats(min_value=1e-2, max_value=1e3),
       km=st.floats(min_value=1e-2, max_value=1e3))
def test_cheng_prusoff_is_monotone_and_bounded_by_ic50(ic50, s, km):
    a = cheng_prusoff(mp.Q_([ic50, 2 * ic50], "nM"), substrate=mp.Q_(s, "uM"), km=mp.Q_(km, "uM"))
    ki = a.ki.magnitude
    assert ki[0] < ki[1]
    assert ki[0] <= ic50 * (1 + 1e-12)
    assert ki[0] == pytest.approx(ic50 / (1 + s / km), rel=1e-12)


# ----------------------------------------------------------------------------- Morrison model
def test_morrison_matches_the_textbook_form():
    i = np.array([0.1, 0.5, 1.0, 2.0, 5.0, 20.0])
    np.testing.assert_allclose(morrison(i, 0.7, 1.5), morrison_textbook(i, 0.7, 1.5), rtol=1e-12)


def test_morrison_at_zero_enzyme_is_the_classic_hyperbola():
    i = np.array([0.0, 0.5, 3.0, 100.0])
    np.testing.assert_allclose(morrison(i, 2.0, 0.0), 2.0 / (2.0 + i), rtol=1e-14)
    np.testing.assert_allclose(morrison(i, 2.0, 1e-9), 2.0 / (2.0 + i), rtol=1e-8)


def test_morrison_is_half_maximal_at_k_plus_half_the_enzyme():
    for k, e in [(0.1, 5.0), (1.0, 1.0), (3.0, 0.01)]:
        assert float(morrison(k + e / 2, k, e)) == pytest.approx(0.5, rel=1e-12)


def test_morrison_ic50_tends_to_cheng_prusoff_as_enzyme_vanishes():
    # IC50 = Ki (1 + S/Km) + E/2; E -> 0 gives the classic relation Ki (1 + S/Km)
    ic = morrison_ic50("1 nM", enzyme="1e-6 nM", substrate="10 uM", km="5 uM")
    assert ic.to("nM").magnitude == pytest.approx(3.0, rel=1e-6)
    ic2 = morrison_ic50("1 nM", enzyme="4 nM", substrate="10 uM", km="5 uM")
    assert ic2.to("nM").magnitude == pytest.approx(3.0 + 2.0)
    assert float(morrison(ic2.magnitude, 3.0, 4.0)) == pytest.approx(0.5)


# ----------------------------------------------------------------------------- Morrison fit
def _simulate(rng, *, ki_app=0.6, e=2.0, v0=100.0, noise=1.5, reps=2):
    conc = np.concatenate([[0.0], 100.0 / 3.0 ** np.arange(10)])
    conc = np.tile(conc, reps)
    v = v0 * morrison(conc, ki_app, e) + rng.normal(0, noise, conc.size)
    return conc, v


def test_fit_morrison_recovers_ki_with_a_consistent_standard_error():
    # Ki 0.2 nM, [ATP] 10 uM, Km 5 uM -> Ki_app 0.6 nM, at 2 nM enzyme (IC50 1.6 nM)
    rng = np.random.default_rng(10)
    z, covered = [], 0
    for _ in range(100):
        conc, v = _simulate(rng)
        res = fit_morrison(mp.Q_(conc, "nM"), v, enzyme="2 nM", substrate="10 uM", km="5 uM")
        assert bool(res.converged)
        ki = float(res.ki.magnitude)
        z.append((math.log(ki) - math.log(0.2)) / float(res.log_ki_stderr))
        assert float(res.stderr.magnitude) == pytest.approx(ki * float(res.log_ki_stderr))
        low, high = res.ci(level=0.95)
        covered += int(low.magnitude < 0.2 < high.magnitude)
    z = np.array(z)
    assert abs(np.median(z)) < 0.35  # unbiased on the log scale
    assert 0.8 < np.std(z) < 1.3  # the SE matches the spread of the estimates
    assert covered >= 88
    assert res.ki.units == mp.ureg.nM


def test_fit_morrison_ci_covers_the_truth_and_is_asymmetric():
    rng = np.random.default_rng(8)
    conc, v = _simulate(rng)
    res = fit_morrison(mp.Q_(conc, "nM"), v, enzyme="2 nM", substrate="10 uM", km="5 uM")
    low, high = res.ci(level=0.99)
    assert low.magnitude < 0.2 < high.magnitude
    assert high.magnitude / float(res.ki.magnitude) == pytest.approx(
        float(res.ki.magnitude) / low.magnitude, rel=1e-9)  # symmetric on the log scale


def test_fit_morrison_can_fit_the_active_enzyme_concentration():
    rng = np.random.default_rng(9)
    conc, v = _simulate(rng, e=5.0, ki_app=0.3, noise=0.5, reps=3)
    res = fit_morrison(mp.Q_(conc, "nM"), v, enzyme="3 nM", mechanism="noncompetitive",
                       fit_enzyme=True)
    assert float(res.enzyme.magnitude) == pytest.approx(5.0, rel=0.1)
    assert float(res.enzyme_stderr.magnitude) > 0
    assert float(res.ki.magnitude) == pytest.approx(0.3, rel=0.3)


def test_fit_morrison_with_fixed_v0_uses_one_parameter():
    conc = np.array([0.0, 0.3, 1.0, 3.0, 10.0, 30.0])
    v = 100 * morrison(conc, 2.0, 2.0)
    res = fit_morrison(mp.Q_(conc, "nM"), v, enzyme="2 nM", mechanism="noncompetitive", v0=100.0)
    assert int(res.dof) == conc.size - 1
    assert float(res.ki.magnitude) == pytest.approx(2.0, rel=1e-8)
    assert float(res.v0_stderr) == 0.0


def test_fit_morrison_batches_and_masks_nan():
    conc = np.array([0.0, 0.3, 1.0, 3.0, 10.0, 30.0])
    v = np.stack([100 * morrison(conc, 2.0, 2.0), 80 * morrison(conc, 5.0, 2.0)])
    v[1, 2] = np.nan
    res = fit_morrison(mp.Q_(conc, "nM"), v, enzyme="2 nM", mechanism="noncompetitive")
    assert res.ki.shape == (2,)
    np.testing.assert_allclose(res.ki.magnitude, [2.0, 5.0], rtol=1e-7)
    np.testing.assert_array_equal(res.n, [6, 5])
    np.testing.assert_allclose(res.predict(mp.Q_([0.0], "nM"))[:, 0], [100.0, 80.0], rtol=1e-7)


def test_fit_morrison_flags_too_few_points():
    res = fit_morrison(mp.Q_([0.0, 1.0], "nM"), [100.0, 40.0], enzyme="1 nM",
                       mechanism="noncompetitive")
    assert int(res.status) & mp.FitStatus.TOO_FEW_POINTS
    assert math.isnan(float(res.ki.magnitude))


def test_cheng_prusoff_on_a_tight_binder_overestimates_ki_and_morrison_does_not():
    # the 4PL IC50 of a tight binder is Ki_app + E/2, so Cheng–Prusoff is biased by E/(2f)
    conc = np.concatenate([[0.0], 100.0 / 3.0 ** np.arange(12)])
    v = 100 * morrison(conc, 0.6, 2.0)
    fit = mp.fit(mp.Q_(conc[1:], "nM"), v[1:])
    with pytest.warns(MtorPharmWarning):
        naive = ki_from_fit(fit, substrate="10 uM", km="5 uM", enzyme="2 nM")
    mor = fit_morrison(mp.Q_(conc, "nM"), v, enzyme="2 nM", substrate="10 uM", km="5 uM")
    assert float(naive.ki.magnitude) > 2 * 0.2
    assert float(mor.ki.magnitude) == pytest.approx(0.2, rel=1e-6)


def test_kinase_percent_activity_is_the_normalize_function():
    from mtor_pharm.assays import kinase, normalize

    assert kinase.percent_activity is normalize.percent_activity is percent_activity


def test_fit_morrison_rejects_negative_concentrations():
    with pytest.raises(ValueError, match=r"`conc` must be ≥ 0; got -1\.0"):
        fit_morrison(mp.Q_([-1.0, 1, 2, 3], "nM"), [1, 1, 1, 1], enzyme="1 nM",
                     mechanism="noncompetitive")


# ----------------------------------------------------------------------------- one engine (#13)
def _curves_with_every_status():
    """A good curve, a flat one, one with too few points, a stoichiometric titration (Ki_app far
    below anything: on its bound) and one whose IC50 lies above the tested range (nM)."""
    rng = np.random.default_rng(31)
    conc = np.concatenate([[0.0, 0.0], 100.0 / 3.0 ** np.arange(10)])
    good = 100 * morrison(conc, 0.6, 2.0) + rng.normal(0, 1.5, conc.size)
    flat = 90.0 + rng.normal(0, 2.0, conc.size)
    few = np.full(conc.size, np.nan)
    few[[0, 4]] = [100.0, 50.0]
    titration = 100 * morrison(conc, 1e-12, 2.0) + rng.normal(0, 0.3, conc.size)
    weak = 100 * morrison(conc, 400.0, 2.0) + rng.normal(0, 1.0, conc.size)
    return conc, np.stack([good, flat, few, titration, weak])


@pytest.mark.parametrize("fit_enzyme", [False, True])
def test_fit_morrison_is_the_engine_fit_of_the_morrison_family(fit_enzyme):
    conc, y = _curves_with_every_status()
    mor = fit_morrison(mp.Q_(conc, "nM"), y, enzyme="2 nM", substrate="10 uM", km="5 uM",
                       fit_enzyme=fit_enzyme)
    fixed = None if fit_enzyme else {"enzyme": "2 nM"}
    model = "morrison_e" if fit_enzyme else "morrison"  # the enzyme fitted too, or a constant of the assay
    res = mp.fit(mp.Q_(conc, "nM"), y, model=model, fixed=fixed)
    np.testing.assert_array_equal(mor.status, res.status)
    np.testing.assert_array_equal(mor.ki_app.magnitude, res.params["ki_app"])
    np.testing.assert_array_equal(mor.ki.magnitude, res.params["ki_app"] / 3.0)
    np.testing.assert_array_equal(mor.enzyme.magnitude, res.params["enzyme"])
    np.testing.assert_array_equal(mor.v0, res.params["top"])
    np.testing.assert_array_equal(mor.stderr.magnitude, res.stderr["ki_app"] / 3.0)
    np.testing.assert_array_equal(mor.rss, res.rss)
    np.testing.assert_array_equal(mor.dof, res.dof)
    assert mor.result.model == model
    if not fit_enzyme:  # the statuses are the engine's, with their meaning (the old loop set none of 2, 4)
        S = mp.FitStatus
        assert mor.status[0] == S.OK
        assert mor.status[1] & S.FLAT_RESPONSE
        assert mor.status[2] == S.TOO_FEW_POINTS
        assert mor.status[3] & S.AT_BOUND
        assert mor.status[4] & S.IC50_OUTSIDE_RANGE
        low, high = mor.ci()
        assert np.isnan(low.magnitude[1]) and np.isnan(low.magnitude[2])  # undetermined: no interval
        assert low.magnitude[0] < 0.2 < high.magnitude[0]


def test_fit_morrison_ci_is_the_engine_interval_of_ki_app_over_the_factor():
    conc, y = _curves_with_every_status()
    mor = fit_morrison(mp.Q_(conc, "nM"), y[0], enzyme="2 nM", substrate="10 uM", km="5 uM")
    low, high = mor.ci(level=0.9)
    lo_app, hi_app = mor.result.ci("ki_app", level=0.9)
    assert float(low.magnitude) == pytest.approx(float(lo_app.magnitude) / 3.0, rel=1e-14)
    assert float(high.magnitude) == pytest.approx(float(hi_app.magnitude) / 3.0, rel=1e-14)
    # Wald on the log scale with Student's t, written out
    from scipy import stats

    assert int(mor.dof) == 10  # 12 wells, top and Ki_app fitted
    t = stats.t.ppf(0.95, 10)
    ki, se = float(mor.ki.magnitude), float(mor.log_ki_stderr)
    assert float(low.magnitude) == pytest.approx(ki * math.exp(-t * se), rel=1e-12)


def test_the_morrison_family_needs_the_enzyme_concentration_as_prism_does():
    # the enzyme concentration is a constant of the assay (Prism's Morrison Ki takes Et as a
    # constant); a fit that forgets it is refused with the way out, never fitted silently
    conc, y = _curves_with_every_status()
    with pytest.raises(ValueError, match=r"model 'morrison' needs `fixed` to give 'enzyme'.*model='morrison_e'"):
        mp.fit(mp.Q_(conc, "nM"), y, model="morrison")
    res = mp.fit(mp.Q_(conc, "nM"), y, model="morrison_e")
    assert res.model == "morrison_e" and np.isfinite(res.params["enzyme"]).any()
