"""GR values and GR metrics against the GRmetrics R implementation's published outputs (#17).

Reference tables: tests/data/grmetrics/ (see its README for the source commit).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize

import mtor_pharm as mp
from mtor_pharm import assays
from mtor_pharm.errors import ControlError

DATA = Path(__file__).resolve().parents[1] / "data" / "grmetrics"
# GRmetrics' fit bounds (R/GRfunctions.R: Hill in [0.1, 5], GRinf in [-1, 1], GEC50 within
# 1/100 of the lowest to 100 x the highest concentration).
CONC = np.array([0.001, 0.003162, 0.01, 0.03162, 0.1, 0.3162, 1.0, 3.162, 10.0])


def _bounds(conc: np.ndarray) -> dict[str, tuple[object, object]]:
    return {"bottom": (-1.0, 1.0), "hill": (0.1, 5.0),
            "ic50": (mp.Q_(conc.min() / 100, "uM"), mp.Q_(conc.max() * 100, "uM"))}


def _gr_curve(c: np.ndarray | float, grinf: float, gec50: float, h: float) -> np.ndarray:
    return grinf + (1.0 - grinf) / (1.0 + (np.asarray(c) / gec50) ** h)


@pytest.fixture(scope="module")
def reference() -> tuple[pd.DataFrame, pd.DataFrame]:
    values = pd.read_csv(DATA / "R_input1_GRvalues.tsv", sep="\t")
    metrics = pd.read_csv(DATA / "R_input1_GRmetrics.tsv", sep="\t")
    return values, metrics


@pytest.fixture(scope="module")
def fitted(reference: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[assays.GRMetrics, pd.DataFrame]:
    values, metrics = reference
    by_exp = values.set_index("experiment")
    conc = np.stack([by_exp.loc[e].concentration.to_numpy() for e in metrics.experiment])
    gr = np.stack([by_exp.loc[e].GR.to_numpy() for e in metrics.experiment])
    assert (conc == conc[0]).all()
    return assays.gr_metrics(mp.Q_(conc[0], "uM"), gr, bounds=_bounds(conc[0])), metrics


def test_gr_values_match_grmetrics_r_output(reference):
    values, _ = reference
    out = assays.gr_values(values.cell_count.to_numpy()[:, None],
                           t0=values.cell_count__time0.to_numpy()[:, None],
                           control=values.cell_count__ctrl.to_numpy()[:, None])
    np.testing.assert_allclose(out.value[:, 0], values.GR.to_numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize(("ours", "theirs", "rtol"), [
    ("gec50", "GEC50", 1e-3), ("grinf", "GRinf", 1e-3), ("hgr", "Hill", 1e-3),
    ("gr50", "GR50", 1e-3), ("gr_aoc", "GR_AOC", 1e-9),
])
def test_gr_metrics_match_grmetrics_r_output_for_sigmoid_fits(fitted, ours, theirs, rtol):
    m, metrics = fitted
    frame = m.to_frame()
    sigmoid = (metrics.fit == "sigmoid").to_numpy()
    assert sigmoid.sum() == 100
    got = frame[ours].to_numpy()[sigmoid]
    want = metrics[theirs].to_numpy()[sigmoid]
    # GRinf near 0: compare on an absolute scale of 1e-3 (GR units)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-3 * rtol if ours != "grinf" else 1e-5)


def test_gr_metrics_flag_grmetrics_flat_fits_and_only_those(fitted):
    m, metrics = fitted
    flat = (np.asarray(m.status) & int(mp.FitStatus.FLAT_RESPONSE)) != 0
    np.testing.assert_array_equal(flat, (metrics.fit == "flat").to_numpy())


def test_gr50_is_the_half_crossing_issue_17():
    # issue #17: GRmetrics reports GR50 = 0.0775 uM for GEC50 0.0816, GRinf -0.0263, h 0.978
    # (BT20 drugA 0 1 48 of the reference table); gr_metrics returned the GR = 0 crossing, 3.37 uM.
    gec50, grinf, h = 0.0816313703123383, -0.0263167017882277, 0.978139488339481
    m = assays.gr_metrics(mp.Q_(CONC, "uM"), _gr_curve(CONC, grinf, gec50, h))
    assert float(m.gr50.to("uM").magnitude) == pytest.approx(0.0774608156549744, rel=1e-6)
    root0 = optimize.brentq(lambda c: float(_gr_curve(c, grinf, gec50, h)), 1e-3, 1e4, xtol=1e-14)
    assert float(m.gr0.to("uM").magnitude) == pytest.approx(root0, rel=1e-6)
    assert float(m.gr0.to("uM").magnitude) == pytest.approx(3.37, rel=0.01)


@given(grinf=st.floats(-0.9, 0.45), h=st.floats(0.5, 3.0), gec50=st.floats(0.05, 2.0))
def test_gr50_equals_the_root_of_the_fitted_curve_at_one_half(grinf, h, gec50):
    conc = np.logspace(-3, 2, 11)
    m = assays.gr_metrics(conc, _gr_curve(conc, grinf, gec50, h), conc_unit="uM")
    root = optimize.brentq(lambda c: float(_gr_curve(c, grinf, gec50, h)) - 0.5, 1e-9, 1e9,
                           xtol=1e-15, rtol=1e-14)
    assert float(m.gr50.magnitude) == pytest.approx(root, rel=1e-4)


def test_gr50_is_infinite_when_grinf_is_at_least_one_half_and_gr0_when_grinf_is_positive():
    m = assays.gr_metrics(mp.Q_(CONC, "uM"), np.stack([
        _gr_curve(CONC, 0.6, 0.1, 1.2), _gr_curve(CONC, 0.2, 0.1, 1.2)]))
    gr50 = m.gr50.magnitude
    gr0 = m.gr0.magnitude
    assert math.isinf(gr50[0]) and gr50[0] > 0
    assert math.isfinite(gr50[1])
    assert gr50[1] == pytest.approx(0.1 * (0.8 / 0.3 - 1) ** (1 / 1.2), rel=1e-5)
    assert np.isinf(gr0).all()


def test_gr_metrics_table_has_gr0_next_to_gr50():
    m = assays.gr_metrics(mp.Q_(CONC, "uM"), _gr_curve(CONC, -0.3, 0.1, 1.0))
    frame = m.to_frame()
    assert list(frame.columns[:2]) == ["gr50", "gr0"]
    assert frame.gr0.iloc[0] == pytest.approx(0.1 * (1 / 0.3), rel=1e-5)


# ----------------------------------------------------------------------------- case C
@given(x=st.floats(1.0, 1e4), n_div=st.floats(0.3, 6.0), xc=st.floats(10.0, 1e4))
def test_gr_values_case_c_equals_case_a_with_the_implied_time_zero(x, n_div, xc):
    a = assays.gr_values([x], t0=xc / 2.0**n_div, control=[xc])
    c = assays.gr_values([x], control=[xc], division_time=1.0, duration=n_div)
    np.testing.assert_allclose(c.value, a.value, rtol=1e-10, atol=1e-12)


def test_gr_values_case_c_accepts_times_with_units():
    plain = assays.gr_values([200.0, 50.0], control=[400.0, 410.0], division_time=24.0, duration=72.0)
    q = assays.gr_values([200.0, 50.0], control=[400.0, 410.0], division_time="1 day",
                         duration=mp.Q_(4320, "minute"))
    np.testing.assert_allclose(q.value, plain.value, rtol=1e-12)
    mean = 405.0
    want = 2.0 ** (1 + np.log2(np.array([200.0, 50.0]) / mean) / 3.0) - 1
    np.testing.assert_allclose(plain.value, want, rtol=1e-12)
    # delta method: dGR/dxc = -(GR+1)/(N xc); var of the control mean = s^2/2
    var_mean = np.var([400.0, 410.0], ddof=1) / 2
    np.testing.assert_allclose(plain.stderr, (want + 1) / (3.0 * mean) * np.sqrt(var_mean), rtol=1e-10)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"t0": [100.0], "division_time": 24, "duration": 72}, "`t0` and `division_time`"),
    ({}, "`t0` must be given"),
    ({"division_time": 24}, "`duration` must be given"),
    ({"duration": 24}, "`division_time` must be given"),
    ({"division_time": -1.0, "duration": 72}, "`division_time` must be a positive"),
    ({"division_time": "24 uM", "duration": 72}, "`division_time` must be a positive time"),
    ({"division_time": 24, "duration": "abc"}, "`duration` must be a positive time"),
    ({"division_time": 24, "duration": float("nan")}, "`duration` must be a positive"),
])
def test_gr_values_case_c_rejects_bad_times(kwargs, match):
    with pytest.raises(ValueError, match=match):
        assays.gr_values([100.0], control=[400.0], **kwargs)


def test_gr_values_case_c_rejects_non_positive_controls():
    with pytest.raises(ControlError, match="`control` must have a positive mean"):
        assays.gr_values([100.0], control=[0.0], division_time=24, duration=72)
