"""Regression tests for #17 in the assay functions: complex refused, masked read as NaN,
huge readings refused instead of giving ±inf, no numpy RuntimeWarning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mtor_pharm as mp
from mtor_pharm import assays
from mtor_pharm.errors import ShapeError, UnitError

NORMALIZERS = [
    ("percent_of_control", lambda s: assays.percent_of_control(s, control=[1.0, 1.1], blank=[0.1])),
    ("percent_activity", lambda s: assays.percent_activity(s, no_inhibitor=[1.0, 1.1], background=[0.1])),
    ("percent_inhibition", lambda s: assays.percent_inhibition(s, no_inhibitor=[1.0, 1.1], background=[0.1])),
    ("subtract_blank", lambda s: assays.subtract_blank(s, [0.1, 0.12])),
    ("fold_change", lambda s: assays.fold_change(s, [1.0, 1.2])),
    ("gr_values", lambda s: assays.gr_values(s, t0=[0.2, 0.25], control=[1.0, 1.1])),
    ("growth_percent", lambda s: assays.growth_percent(s, t0=[0.2, 0.25], control=[1.0, 1.1])),
    ("percent_viability", lambda s: assays.percent_viability(s, control=[1.0, 1.1], blank=[0.1])),
]


@pytest.mark.parametrize(("name", "func"), NORMALIZERS)
def test_normalizers_refuse_complex_input_issue_17(name, func):
    with pytest.raises(TypeError, match="`(signal|values)` must hold real numbers"):
        func(np.array([0.5 + 0.1j, 0.4]))


@pytest.mark.parametrize(("name", "func"), NORMALIZERS)
def test_normalizers_read_masked_wells_as_nan_issue_17(name, func):
    data = np.array([0.5, 0.9, 0.4])
    masked = np.ma.masked_array(data.copy(), mask=[False, True, False])
    out = func(masked)
    plain = func(np.array([0.5, np.nan, 0.4]))
    np.testing.assert_array_equal(np.isnan(out.value), [False, True, False])
    np.testing.assert_allclose(out.value, plain.value, equal_nan=True)
    np.testing.assert_array_equal(masked.data, data)  # input not mutated


@pytest.mark.parametrize(("name", "func"), NORMALIZERS)
def test_normalizers_refuse_readings_near_1e308_issue_17(name, func):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="`(signal|values)` must have magnitudes ≤ 1e\\+150"):
            func(np.array([1e308, 0.5]))


def test_percent_of_control_overflow_from_a_tiny_control_is_a_clear_error():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="`signal`: the normalized values overflow float64"):
            assays.percent_of_control([1e150], control=[1e-300])


def test_controls_near_the_limit_give_no_runtime_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = assays.percent_of_control([1e150, 5e149], control=[1e150, 1e150])
    np.testing.assert_allclose(out.value, [100.0, 50.0])
    assert out.stderr.tolist() == [0.0, 0.0]


def test_control_replicates_that_are_complex_or_huge_are_refused():
    with pytest.raises(TypeError, match="`control` must hold real numbers"):
        assays.percent_of_control([0.5], control=np.array([1.0 + 0j, 1.1]))
    with pytest.raises(ValueError, match="`control` must have magnitudes"):
        assays.percent_of_control([0.5], control=[1e200, 1.0])


def test_mtt_absorbance_refuses_complex_and_reads_masked_as_nan():
    with pytest.raises(TypeError, match="`a570` must hold real numbers"):
        assays.mtt_absorbance(np.array([1.0 + 1j]))
    out = assays.mtt_absorbance(np.ma.masked_array([1.0, 2.0], mask=[True, False]), [0.1, 0.1])
    assert np.isnan(out[0]) and out[1] == pytest.approx(1.9)


def test_dataarray_signals_refuse_complex_values():
    import xarray as xr

    s = xr.DataArray(np.array([0.5 + 1j, 0.4]), dims="well")
    with pytest.raises(TypeError, match="`signal` must hold real numbers"):
        assays.percent_of_control(s, control=1.0)


def test_morrison_refuses_complex_mismatched_and_half_unit_input():
    with pytest.raises(TypeError, match="`x` must hold real numbers"):
        assays.morrison(np.array([1.0 + 1j]), ki_app=1.0, enzyme=1.0)
    with pytest.raises(ShapeError, match=r"`x` \(3,\).*`enzyme` \(2,\)"):
        assays.morrison(np.ones(3), ki_app=1.0, enzyme=np.ones(2))
    with pytest.raises(UnitError, match="`x` is a Quantity but `ki_app` is a bare number"):
        assays.morrison(mp.Q_([1.0], "nM"), ki_app=1.0, enzyme=1.0)
    plain = assays.morrison([1500.0], ki_app=1000.0, enzyme=1000.0)
    q = assays.morrison(mp.Q_([1500.0], "nM"), ki_app=mp.Q_(1.0, "uM"), enzyme=mp.Q_(1000.0, "nM"))
    np.testing.assert_allclose(q, plain, rtol=1e-12)
    np.testing.assert_allclose(plain, [0.5], rtol=1e-12)  # I = K + E/2


def test_kinase_functions_refuse_complex_concentrations():
    with pytest.raises(TypeError, match="`ic50` must hold real numbers"):
        assays.cheng_prusoff(np.array([1.0 + 1j]), conc_unit="nM", substrate="10 uM", km="5 uM")


def test_plot_refuses_complex_responses_and_reads_masked_as_missing():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conc = mp.Q_([0.01, 0.1, 1, 10, 100], "uM")
    y = np.array([98.0, 90.0, 52.0, 12.0, 3.0])
    res = mp.fit(conc, y)
    with pytest.raises(TypeError, match="`response` must hold real numbers"):
        mp.plot.curve(res, conc, y + 0j)
    with pytest.raises(mp.errors.UnitError, match="`unit`"):
        mp.plot.curve(res, unit="uM; x")
    art = mp.plot.curve(res, conc, np.ma.masked_array(y, mask=[0, 0, 1, 0, 0]), band=False, errorbar=None)
    plt.close(art.figure)
