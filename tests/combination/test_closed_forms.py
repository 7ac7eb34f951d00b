"""Closed forms: sham combinations, Bliss independence, HSA, and the Loewe equation itself."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

import mtor_pharm as mp
from mtor_pharm.combination import _reference as ref

DOSES = np.array([0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0])


def fu(x, ic50, hill, bottom=0.0, top=1.0):
    return bottom + (top - bottom) / (1 + (np.asarray(x) / ic50) ** hill)


def test_sham_combination_is_loewe_additive_with_ci_one_at_every_level() -> None:
    # drug A combined with itself: the response at (a, b) is the single agent at a + b
    surface = 100 * fu(np.add.outer(DOSES, DOSES), 0.2, 1.4)
    m = mp.combination.DoseMatrix.from_arrays(
        mp.Q_(DOSES, "uM"), mp.Q_(DOSES, "uM"), surface, drug_a="Torin1", drug_b="Torin1"
    )
    res = mp.combination.score(m, levels=(0.1, 0.25, 0.5, 0.75, 0.9, 0.97))
    assert res.agent_a[0] == res.agent_b[0]  # one compound on one plate: one single-agent fit
    combo = np.outer(DOSES > 0, DOSES > 0)
    np.testing.assert_allclose(res["loewe"].excess[0][combo], 0.0, atol=1e-6)
    assert abs(float(res["loewe"].mean[0])) < 1e-6
    np.testing.assert_allclose(res.ci.ci[0], 1.0, rtol=1e-8)
    np.testing.assert_allclose(res.ci.per_well[0][combo], 1.0, rtol=1e-8)
    # the dose-reduction index of a sham is 2 for each "drug" (half the dose of each)
    np.testing.assert_allclose(res.ci.dri_a[0], 2.0, rtol=1e-8)
    np.testing.assert_allclose(res.ci.dri_b[0], 2.0, rtol=1e-8)


def test_sham_in_different_units_is_still_additive() -> None:
    surface = 100 * fu(np.add.outer(DOSES, DOSES), 0.2, 1.4)
    m = mp.combination.DoseMatrix.from_arrays(
        mp.Q_(DOSES, "uM"), mp.Q_(DOSES * 1000, "nM"), surface, drug_a="Torin1", drug_b="Torin1"
    )
    res = mp.combination.score(m, models=("loewe",), levels=(0.5,))
    assert abs(float(res["loewe"].mean[0])) < 1e-6
    assert float(res.ci.ci[0, 0]) == pytest.approx(1.0, rel=1e-8)
    assert float(res.ci.dm_b[0]) == pytest.approx(1000 * float(res.ci.dm_a[0]), rel=1e-8)  # reported in nM


def test_independent_agents_give_zero_bliss_excess_in_expectation() -> None:
    rng = np.random.default_rng(1)
    P, R, sd = 400, 3, 0.04
    truth = np.outer(fu(DOSES, 0.3, 1.2, 0.1), fu(DOSES, 1.0, 0.8, 0.2))
    y = 100 * (truth[None, :, :, None] + rng.normal(0, sd, (P, DOSES.size, DOSES.size, R)))
    m = mp.combination.DoseMatrix.from_arrays(mp.Q_(DOSES, "uM"), mp.Q_(DOSES, "uM"), y)
    res = mp.combination.score(m, models=("bliss",), levels=())
    means = res["bliss"].mean
    assert np.isfinite(means).all()
    # the screen average is 0 within 4 standard errors of that average
    assert abs(means.mean()) < 4 * means.std(ddof=1) / np.sqrt(P)
    # noise-free: exactly 0
    exact = mp.combination.DoseMatrix.from_arrays(mp.Q_(DOSES, "uM"), mp.Q_(DOSES, "uM"), 100 * truth)
    assert abs(float(mp.combination.score(exact, models=("bliss",), levels=())["bliss"].mean[0])) < 1e-8


def test_hsa_reference_is_the_stronger_single_agent() -> None:
    ua, ub = fu(DOSES, 0.3, 1.2, 0.1), fu(DOSES, 1.0, 0.8, 0.3)
    surface = 100 * np.outer(ua, ub) * 0.9  # anything: HSA's reference does not depend on it
    surface[0, :], surface[:, 0] = 100 * ub, 100 * ua
    m = mp.combination.DoseMatrix.from_arrays(mp.Q_(DOSES, "uM"), mp.Q_(DOSES, "uM"), surface)
    res = mp.combination.score(m, models=("hsa",), levels=())
    expected = 100 * np.minimum.outer(ua, ub)
    np.testing.assert_allclose(res["hsa"].reference[0], expected, atol=1e-6)
    combo = np.outer(DOSES > 0, DOSES > 0)
    np.testing.assert_allclose(res["hsa"].excess[0][combo], (expected - surface)[combo], atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    ic_a=st.floats(0.01, 10),
    ic_b=st.floats(0.01, 10),
    hill=st.floats(0.3, 4),
    a=st.floats(1e-3, 100),
    b=st.floats(1e-3, 100),
)
def test_loewe_of_equal_slopes_has_the_closed_form(ic_a, ic_b, hill, a, b) -> None:
    # with equal Hill slopes and full plateaus, a/X_A(u) + b/X_B(u) = 1 gives
    # u = 1 / (1 + (a/ic_a + b/ic_b)**hill)
    ca = ref.Curve(np.array(0.0), np.array(1.0), np.array(ic_a), np.array(hill))
    cb = ref.Curve(np.array(0.0), np.array(1.0), np.array(ic_b), np.array(hill))
    sol = ref.loewe(np.array([a]), np.array([b]), ca, cb)
    expected = 1 / (1 + (a / ic_a + b / ic_b) ** hill)
    assert sol.reference[0] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert not sol.beyond[0]


@settings(max_examples=40, deadline=None)
@given(
    bottoms=st.tuples(st.floats(0.0, 0.6), st.floats(0.0, 0.6)),
    hills=st.tuples(st.floats(0.5, 3), st.floats(0.5, 3)),
    a=st.floats(1e-2, 30),
    b=st.floats(1e-2, 30),
)
def test_loewe_solution_solves_the_isobole_equation_or_is_flagged(bottoms, hills, a, b) -> None:
    ca = ref.Curve(np.array(bottoms[0]), np.array(1.0), np.array(0.5), np.array(hills[0]))
    cb = ref.Curve(np.array(bottoms[1]), np.array(1.0), np.array(2.0), np.array(hills[1]))
    sol = ref.loewe(np.array([a]), np.array([b]), ca, cb)
    u = float(sol.reference[0])

    def inv(c, v):
        q = (v - float(c.bottom)) / (1 - float(c.bottom))
        return float(c.ic50) * (1 / q - 1) ** (1 / float(c.hill)) if 0 < q < 1 else np.inf

    def g(v):
        return a / inv(ca, v) + b / inv(cb, v) - 1

    lo = max(bottoms)
    if g(lo + 1e-12) < 0:  # a Loewe-additive dose pair exists: compare with scipy's brentq
        root = brentq(g, lo + 1e-12, 1 - 1e-12, xtol=1e-14)
        assert u == pytest.approx(root, abs=1e-9)
        assert not sol.beyond[0]
    else:  # beyond the weaker agent's maximum: flagged, reference = the stronger agent alone
        assert sol.beyond[0]
        assert u == pytest.approx(min(fu(a, 0.5, hills[0], bottoms[0]), fu(b, 2.0, hills[1], bottoms[1])))


def test_loewe_gradient_matches_finite_differences() -> None:
    a = np.array([0.1, 0.5, 2.0])
    b = np.array([0.3, 0.3, 1.0])
    pa = np.array([0.1, 0.98, 0.5, 1.3])
    pb = np.array([0.05, 1.01, 1.5, 0.9])
    sol = ref.loewe(a, b, ref.Curve(*pa), ref.Curve(*pb))
    for which, grad in (("a", sol.grad_a), ("b", sol.grad_b)):
        for k in range(4):
            h = 1e-6 * max(1.0, abs((pa if which == "a" else pb)[k]))
            up, dn = pa.copy(), pa.copy()
            bu, bd = pb.copy(), pb.copy()
            if which == "a":
                up[k] += h
                dn[k] -= h
            else:
                bu[k] += h
                bd[k] -= h
            fd = (
                ref.loewe(a, b, ref.Curve(*up), ref.Curve(*bu)).reference
                - ref.loewe(a, b, ref.Curve(*dn), ref.Curve(*bd)).reference
            ) / (2 * h)
            np.testing.assert_allclose(grad[:, k], fd, rtol=1e-5, atol=1e-8)


def test_scores_do_not_depend_on_the_concentration_unit() -> None:
    rng = np.random.default_rng(3)
    y = 100 * np.outer(fu(DOSES, 0.3, 1.2, 0.1), fu(DOSES, 1.0, 0.8, 0.2))[..., None] + rng.normal(0, 2, (8, 8, 2))
    um = mp.combination.DoseMatrix.from_arrays(mp.Q_(DOSES, "uM"), mp.Q_(DOSES, "uM"), y)
    nm = mp.combination.DoseMatrix.from_arrays(mp.Q_(DOSES * 1000, "nM"), mp.Q_(DOSES, "uM"), y)
    r1, r2 = mp.combination.score(um), mp.combination.score(nm)
    for name in mp.combination.MODELS:
        np.testing.assert_allclose(r1[name].mean, r2[name].mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(r1[name].se, r2[name].se, rtol=1e-4)
    np.testing.assert_allclose(r1.ci.ci, r2.ci.ci, rtol=1e-8)
    np.testing.assert_allclose(r2.ci.dm_a, 1000 * r1.ci.dm_a, rtol=1e-8)  # reported in nM


def test_inactive_agent_and_empty_matrix_are_flagged_without_warnings() -> None:
    ua = fu(DOSES, 0.3, 1.2, 0.1)
    flat = np.outer(ua, np.ones_like(DOSES))  # drug B does nothing
    empty = np.outer(ua, fu(DOSES, 1.0, 1.0))
    empty[1:, 1:] = np.nan  # no combination well measured
    y = 100 * np.stack([flat, empty])[..., None] + np.random.default_rng(0).normal(0, 1, (2, 8, 8, 2))
    y[0, 0] = 100.0  # drug B alone: exactly the control level
    m = mp.combination.DoseMatrix.from_arrays(mp.Q_(DOSES, "uM"), mp.Q_(DOSES, "uM"), y)
    res = mp.combination.score(m)
    S = mp.combination.SynergyStatus
    assert res["loewe"].status[0] & S.SINGLE_AGENT_INACTIVE
    assert np.isfinite(res["loewe"].mean[0])  # Loewe reduces to drug A alone
    assert abs(float(res["bliss"].mean[0])) < 2
    for s in res.scores.values():
        assert s.status[1] & S.TOO_FEW_WELLS
        assert np.isnan(s.mean[1])
