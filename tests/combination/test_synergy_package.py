"""Agreement with the Python `synergy` package (Wooten & Albert 2020) on the same matrices.

Convention mapping (tested below):

* ``synergy`` works on the response ``E`` as a fraction with ``E0 = 1`` (untreated) and reports
  ``reference - E``; mtor_pharm reports ``100·(reference - observed)`` in the fraction unaffected,
  i.e. the same sign (positive = synergy) in percentage points: ``ours = 100 × theirs``.
* Single agents: ``synergy.single.Hill(E0, Emax, h, C)`` is our 4PL with ``E0 = top``,
  ``Emax = bottom``, ``h = hill``, ``C = ic50``.  We give it our fitted curves so that the
  comparison is of the combination models, not of two curve fitters.
* Loewe: our default equals ``Loewe(mode="delta_HSA")``: where the stronger agent alone passes
  the weaker agent's maximal effect the reference is the stronger agent; those are exactly the
  wells where ``mode="delta_nan"`` gives NaN, and we flag them (``Score.beyond``) instead.
* ZIP: ``synergy`` bounds the row/column fits' Emax to [0, 1.5]; ours are free 4PL bottoms, so the
  two agree wherever synergy's fits are inside its bounds (where not, ours have the smaller RSS).
  ``synergy`` also averages the two agents' E0 in its reference; with margins whose E0 are both
  1 (as here) the two are the same.
* CI: ``synergy`` fits ``Hill_CI`` by the median-effect regression on the margins itself; we
  compare our whole pipeline (our median-effect fit + CI) against it.
"""

from __future__ import annotations

import numpy as np
import pytest

import mtor_pharm as mp

synergy = pytest.importorskip("synergy")
from synergy.combination import HSA, ZIP, Bliss, CombinationIndex, Loewe  # noqa: E402
from synergy.single import Hill  # noqa: E402

DOSES = np.array([0.0, 0.03, 0.1, 0.3, 1.0, 3.0])


def _hill(x, bottom, top, ic50, hill):
    return bottom + (top - bottom) / (1 + (x / ic50) ** hill)


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(15)
    pa = (0.25, 1.0, 0.4, 1.3)  # A stops at 75 % effect
    pb = (0.05, 1.0, 0.2, 0.9)
    ua = _hill(DOSES, *pa)
    ub = _hill(DOSES, *pb)
    surface = np.outer(ua, ub) * (1 - 0.15 * np.outer(DOSES > 0, DOSES > 0))  # mildly synergistic
    noise = rng.normal(0, 0.02, surface.shape)
    noise[0, :] = noise[:, 0] = 0  # exact margins: fitted single agents = the truth, E0 = 1
    E = surface + noise
    m = mp.combination.DoseMatrix.from_arrays(mp.Q_(DOSES, "uM"), mp.Q_(DOSES, "uM"), E, scale=1.0)
    res = mp.combination.score(m, levels=(0.5,))
    d1, d2 = np.meshgrid(DOSES, DOSES, indexing="ij")
    models = []
    for idx in (int(res.agent_a[0]), int(res.agent_b[0])):
        p = {k: float(v[idx]) for k, v in res.single.params.items()}
        models.append(Hill(E0=p["top"], Emax=p["bottom"], h=p["hill"], C=p["ic50"]))
    return res, d1.ravel(), d2.ravel(), E.ravel(), models


def _theirs(model, d1, d2, E):
    out = np.asarray(model.fit(d1, d2, E), dtype=float).reshape(DOSES.size, DOSES.size).copy()
    out[0, :] = out[:, 0] = np.nan  # both report 0 (or 1) on margins; we report NaN there
    return out


@pytest.mark.parametrize(("ours", "cls", "kwargs"), [("hsa", HSA, {}), ("bliss", Bliss, {})])
def test_hsa_and_bliss_match_synergy_times_100(case, ours, cls, kwargs) -> None:
    res, d1, d2, E, (m1, m2) = case
    theirs = _theirs(cls(drug1_model=m1, drug2_model=m2, **kwargs), d1, d2, E)
    np.testing.assert_allclose(res[ours].excess[0], 100 * theirs, atol=1e-6, equal_nan=True)


def test_loewe_matches_synergy_delta_hsa_and_flags_its_nan_wells(case) -> None:
    res, d1, d2, E, (m1, m2) = case
    theirs = _theirs(Loewe(mode="delta_HSA", drug1_model=m1, drug2_model=m2), d1, d2, E)
    # synergy solves with minimize_scalar(method="bounded"), xatol = 1e-5 in E: 1e-3 percentage points
    np.testing.assert_allclose(res["loewe"].excess[0], 100 * theirs, atol=2e-3, equal_nan=True)
    nan_mode = _theirs(Loewe(mode="delta_nan", drug1_model=m1, drug2_model=m2), d1, d2, E)
    combo = np.outer(DOSES > 0, DOSES > 0)
    assert np.array_equal(res["loewe"].beyond[0] & combo, np.isnan(nan_mode) & combo)
    assert res["loewe"].beyond[0].any()  # the case exercises the beyond-max branch
    assert res["loewe"].status[0] & mp.combination.SynergyStatus.BEYOND_SINGLE_MAX
    assert np.isfinite(res["loewe"].excess[0][combo]).all()  # flagged, never a silent NaN


def test_zip_delta_matches_synergy_where_its_fits_are_inside_its_bounds(case) -> None:
    res, d1, d2, E, (m1, m2) = case
    model = ZIP(drug1_model=m1, drug2_model=m2)
    theirs = _theirs(model, d1, d2, E)
    # synergy bounds the row/column fits' Emax to [0, 1.5]; we leave the bottom free (a 4PL plateau
    # may extrapolate below 0).  Compare where neither of its two fits sits on that bound.
    n = DOSES.size
    emax = np.stack([np.asarray(model._Emax_21).reshape(n, n), np.asarray(model._Emax_12).reshape(n, n)])
    inside = np.all((emax > 1e-6) & (emax < 1.5 - 1e-6), axis=0) & np.outer(DOSES > 0, DOSES > 0)
    assert inside.sum() >= 8
    np.testing.assert_allclose(res["zip"].excess[0][inside], 100 * theirs[inside], atol=1e-3)


def test_combination_index_matches_synergy_own_median_effect_fit(case) -> None:
    res, d1, d2, E, _ = case
    model = CombinationIndex()
    theirs = np.asarray(model.fit(d1, d2, E), dtype=float).reshape(DOSES.size, DOSES.size)
    combo = np.outer(DOSES > 0, DOSES > 0)
    ours = res.ci.per_well[0]
    np.testing.assert_allclose(ours[combo], theirs[combo], rtol=1e-8)
    assert float(res.ci.m_a[0]) == pytest.approx(model.drug1_model.h, rel=1e-10)
    assert float(res.ci.dm_b[0]) == pytest.approx(model.drug2_model.C, rel=1e-10)
