"""Unit, scale and order invariance of the public functions, fuzzed (#17).

The same data in another concentration unit (or readings on another scale, or
points in another order) give the same results, converted.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtor_pharm as mp
from mtor_pharm import assays

UNITS = {"nM": 1e3, "uM": 1.0, "mM": 1e-3, "pM": 1e6}  # factor from uM


def _gr(c, grinf, gec50, h):
    return grinf + (1 - grinf) / (1 + (c / gec50) ** h)


curves = st.tuples(
    st.floats(-0.8, 0.6), st.floats(0.03, 3.0), st.floats(0.5, 3.0),  # GRinf, GEC50 (uM), h
    st.lists(st.floats(-0.03, 0.03), min_size=9, max_size=9),          # noise
)


@given(curve=curves, unit=st.sampled_from(sorted(UNITS)))
def test_gr_metrics_do_not_depend_on_the_concentration_unit(curve, unit):
    grinf, gec50, h, noise = curve
    conc = np.logspace(-3, 1, 9)
    y = _gr(conc, grinf, gec50, h) + np.array(noise)
    a = assays.gr_metrics(mp.Q_(conc, "uM"), y)
    b = assays.gr_metrics(mp.Q_(conc * UNITS[unit], unit), y)
    assert int(a.status) == int(b.status)
    for name in ("gr50", "gr0", "gec50"):
        np.testing.assert_allclose(getattr(b, name).to("uM").magnitude, getattr(a, name).magnitude,
                                   rtol=1e-6, err_msg=name)
    np.testing.assert_allclose(b.grinf, a.grinf, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(b.gr_aoc, a.gr_aoc, rtol=1e-12)


@given(curve=curves, unit=st.sampled_from(sorted(UNITS)), seed=st.integers(0, 2**32 - 1))
def test_auc_and_nci60_do_not_depend_on_unit_or_point_order(curve, unit, seed):
    grinf, gec50, h, noise = curve
    conc = np.logspace(-3, 1, 9)
    y = 100 * (_gr(conc, grinf, gec50, h) + np.array(noise))
    order = np.random.default_rng(seed).permutation(conc.size)
    a = assays.auc(mp.Q_(conc, "uM"), y, response_scale=100)
    b = assays.auc(mp.Q_(conc[order] * UNITS[unit], unit), y[order], response_scale=100)
    np.testing.assert_allclose(b.value, a.value, rtol=1e-12)
    np.testing.assert_allclose(b.low.to("uM").magnitude, a.low.magnitude, rtol=1e-12)
    g1 = assays.nci60_metrics(mp.Q_(conc, "uM"), y)
    g2 = assays.nci60_metrics(mp.Q_(conc[order] * UNITS[unit], unit), y[order])
    for name in ("gi50", "tgi", "lc50"):
        np.testing.assert_allclose(getattr(g2, name).to("uM").magnitude, getattr(g1, name).magnitude,
                                   rtol=1e-9, err_msg=name)


@given(ic50_uM=st.floats(1e-4, 1e3), unit=st.sampled_from(sorted(UNITS)))
def test_cheng_prusoff_and_pic50_do_not_depend_on_the_unit(ic50_uM, unit):
    a = assays.cheng_prusoff(mp.Q_(ic50_uM, "uM"), substrate="10 uM", km="5 uM")
    b = assays.cheng_prusoff(mp.Q_(ic50_uM * UNITS[unit], unit), substrate="10000 nM", km="0.005 mM")
    assert float(b.ki.to("uM").magnitude) == pytest.approx(float(a.ki.magnitude), rel=1e-12)
    assert mp.pic50(mp.Q_(ic50_uM * UNITS[unit], unit)) == pytest.approx(mp.pic50(mp.Q_(ic50_uM, "uM")),
                                                                          rel=1e-12)


@given(x=st.lists(st.floats(1e-4, 1e4), min_size=1, max_size=6), unit=st.sampled_from(sorted(UNITS)))
def test_fit_result_predict_does_not_depend_on_the_unit_of_conc(x, unit):
    res = _fit()
    xs = np.array(x)
    np.testing.assert_allclose(res.predict(mp.Q_(xs * UNITS[unit], unit)), res.predict(mp.Q_(xs, "uM")),
                               rtol=1e-9, atol=1e-9)


_FIT: list[object] = []


def _fit():
    if not _FIT:
        _FIT.append(mp.fit(mp.Q_([0.01, 0.1, 1, 10, 100], "uM"), [98.0, 91.0, 52.0, 11.0, 3.0]))
    return _FIT[0]


@given(scale=st.floats(1e-6, 1e6), signal=st.lists(st.floats(0.0, 2.0), min_size=1, max_size=5))
def test_normalizers_do_not_depend_on_the_scale_of_the_readings(scale, signal):
    s = np.array(signal)
    control, blank = np.array([1.0, 1.1, 0.95]), np.array([0.05, 0.06])
    a = assays.percent_of_control(s, control=control, blank=blank)
    b = assays.percent_of_control(s * scale, control=control * scale, blank=blank * scale)
    np.testing.assert_allclose(b.value, a.value, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(b.stderr, a.stderr, rtol=1e-9, atol=1e-9)
    f1 = assays.fold_change(s, control)
    f2 = assays.fold_change(s * scale, control * scale)
    np.testing.assert_allclose(f2.value, f1.value, rtol=1e-9, atol=1e-12)
    c1 = assays.gr_values(s + 0.01, control=control, division_time=24, duration=72)
    c2 = assays.gr_values((s + 0.01) * scale, control=control * scale, division_time="1 day", duration="3 day")
    np.testing.assert_allclose(c2.value, c1.value, rtol=1e-9, atol=1e-12)
