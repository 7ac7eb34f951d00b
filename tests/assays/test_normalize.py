"""Tests for mtor_pharm.assays.normalize: hand-computed examples, delta method, errors, invariances."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import mtor_pharm as mp
from mtor_pharm.assays import (
    ControlError,
    cross_blot_scale,
    fold_change,
    loading_normalize,
    percent_activity,
    percent_inhibition,
    percent_of_control,
    phospho_ratio,
    subtract_blank,
    with_vehicle,
)
from mtor_pharm.errors import ShapeError

finite = st.floats(min_value=0.01, max_value=100.0, allow_nan=False, allow_infinity=False)


def _numeric_delta_se(f, args, variances, h=1e-6):
    """SE of f(*args) by the delta method with a central-difference gradient (independent of the code)."""
    total = 0.0
    for i, var in enumerate(variances):
        if var == 0:
            continue
        up = list(args)
        dn = list(args)
        up[i] += h
        dn[i] -= h
        g = (f(*up) - f(*dn)) / (2 * h)
        total += g * g * var
    return math.sqrt(total)


# ----------------------------------------------------------------------------- hand-computed
def test_percent_of_control_matches_hand_computed_values_and_errors():
    # C = (1.05 + 0.95)/2 = 1.00, B = (0.05 + 0.07)/2 = 0.06, window W = 0.94
    # p = 100 (S - B)/W: 100*0.49/0.94 = 52.1277, 100*0.24/0.94 = 25.5319
    out = percent_of_control([0.55, 0.30], [1.05, 0.95], blank=[0.05, 0.07])
    np.testing.assert_allclose(out.value, [100 * 0.49 / 0.94, 100 * 0.24 / 0.94], rtol=1e-12)
    # var(C mean) = s_C^2/2 = ((0.05^2 + 0.05^2)/1)/2 = 0.0025; var(B mean) = ((0.01^2*2)/1)/2 = 0.0001
    def poc(s, c, b):
        return 100 * (s - b) / (c - b)

    for s, value_se in zip([0.55, 0.30], out.stderr, strict=True):
        expected = _numeric_delta_se(poc, [s, 1.0, 0.06], [0.0, 0.0025, 0.0001])
        assert value_se == pytest.approx(expected, rel=1e-6)
    assert out.n_missing == 0
    assert out.n_control_missing == 0


def test_percent_of_control_includes_signal_stderr_when_given():
    # var(p) gains (100/W)^2 var(S): W = 1 (control 1, no blank), var(S) = 0.02^2
    out = percent_of_control([0.5], 1.0, signal_stderr=[0.02])
    assert out.stderr[0] == pytest.approx(100 * 0.02)


def test_scalar_control_is_exact_and_single_replicate_has_unknown_error():
    exact = percent_of_control([0.5, 0.25], 2.0)
    np.testing.assert_allclose(exact.value, [25.0, 12.5])
    np.testing.assert_array_equal(exact.stderr, [0.0, 0.0])
    single = percent_of_control([0.5, 0.25], [2.0])
    assert np.isnan(single.stderr).all()


def test_percent_activity_and_inhibition_sum_to_100_with_equal_errors():
    kw = {"no_inhibitor": [1000.0, 980.0, 1020.0], "background": [100.0, 90.0, 110.0]}
    act = percent_activity([600.0, 350.0, 120.0], **kw)
    inh = percent_inhibition([600.0, 350.0, 120.0], **kw)
    np.testing.assert_allclose(act.value + inh.value, 100.0)
    np.testing.assert_allclose(act.stderr, inh.stderr)
    # 100 (600 - 100)/(1000 - 100) = 55.56
    assert act.value[0] == pytest.approx(100 * 500 / 900)


def test_percent_activity_accepts_inverted_controls_of_atp_depletion_readouts():
    # Kinase-Glo: luminescence (remaining ATP) rises when the kinase is inhibited.
    out = percent_activity([500.0], no_inhibitor=[200.0, 200.0], background=[1000.0, 1000.0])
    assert out.value[0] == pytest.approx(100 * (500 - 1000) / (200 - 1000))


def test_subtract_blank_hand_example():
    out = subtract_blank([0.9, 0.5], [0.05, 0.07])
    np.testing.assert_allclose(out.value, [0.84, 0.44])
    # SE of the blank mean: s = 0.01*sqrt(2), /sqrt(2) = 0.01
    np.testing.assert_allclose(out.stderr, [0.01, 0.01])


def test_phospho_ratio_and_loading_normalize_hand_examples():
    # (1200 - 100)/(2100 - 100) = 0.55; (600 - 100)/(2000 - 100) = 0.263
    np.testing.assert_allclose(phospho_ratio([1200, 600], [2100, 2000], background=100),
                               [1100 / 2000, 500 / 1900])
    # separate backgrounds: (1200 - 100)/(2100 - 300)
    np.testing.assert_allclose(
        phospho_ratio([1200], [2100], background=[100], total_background=[300]), [1100 / 1800]
    )
    np.testing.assert_allclose(loading_normalize([900, 450], [3000, 3000], background=0),
                               [0.3, 0.15])


def test_fold_change_per_blot_against_its_vehicle_lane():
    ratio = np.array([[0.50, 0.25, 0.10], [0.40, 0.30, 0.08]])
    out = fold_change(ratio, ratio[:, :1])
    np.testing.assert_allclose(out.value, [[1.0, 0.5, 0.2], [1.0, 0.75, 0.2]])
    assert np.isnan(out.stderr).all()  # one vehicle lane: its error is unknown


def test_fold_change_carries_replicate_vehicle_uncertainty():
    # R mean 0.5, s_R^2 = (0.05^2 * 2)/1 = 0.005, var(mean) = 0.0025; f = 0.25/0.5 = 0.5
    out = fold_change([0.25], [0.45, 0.55])
    assert out.value[0] == pytest.approx(0.5)
    assert out.stderr[0] == pytest.approx(math.sqrt(0.5**2 * 0.0025 / 0.5**2))


def test_cross_blot_scale_puts_the_shared_reference_at_one():
    ratio = np.array([[0.8, 0.4, 0.2], [1.6, 0.6, 0.4]])
    out = cross_blot_scale(ratio, ratio[:, :1])
    np.testing.assert_allclose(out.value, [[1.0, 0.5, 0.25], [1.0, 0.375, 0.25]])


# ----------------------------------------------------------------------------- delta method
def test_percent_of_control_stderr_matches_monte_carlo_spread_of_control_means():
    rng = np.random.default_rng(1)
    n, k = 20000, 6
    control = rng.normal(1.0, 0.1, (n, k))
    blank = rng.normal(0.05, 0.01, (n, k))
    signal = np.full((n, 1), 0.4)
    out = percent_of_control(signal, control, blank)
    empirical = out.value.std()
    # E[s^2] = sigma^2, so the root-mean-square of the estimated SEs targets the true SE
    assert float(np.sqrt(np.mean(out.stderr**2))) == pytest.approx(empirical, rel=0.04)


# ----------------------------------------------------------------------------- NaN and purity
def test_nan_wells_propagate_and_nan_controls_are_counted():
    signal = np.array([0.5, np.nan, 0.25])
    control = np.array([1.0, np.nan, 1.0])
    out = percent_of_control(signal, control)
    assert np.isnan(out.value[1])
    np.testing.assert_allclose(out.value[[0, 2]], [50.0, 25.0])
    assert out.n_missing == 1
    assert out.n_control_missing == 1


def test_all_nan_controls_give_nan_not_an_error():
    out = percent_of_control([[0.5, 0.2]], [[np.nan, np.nan]])
    assert np.isnan(out.value).all()
    assert out.n_missing == 2


def test_inputs_are_not_mutated_and_outputs_are_read_only():
    signal = np.array([0.5, np.nan, 0.3])
    control = np.array([1.0, 1.1, np.nan])
    blank = np.array([0.05, 0.06])
    copies = [a.copy() for a in (signal, control, blank)]
    out = percent_of_control(signal, control, blank)
    for a, c in zip((signal, control, blank), copies, strict=True):
        np.testing.assert_array_equal(a, c)
    assert not out.value.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        out.value[0] = 1.0


def test_batched_controls_match_one_call_per_plate():
    rng = np.random.default_rng(2)
    signal = rng.uniform(0.1, 1.0, (3, 5))
    control = rng.uniform(0.9, 1.1, (3, 4))
    blank = rng.uniform(0.0, 0.1, (3, 4))
    batch = percent_of_control(signal, control, blank)
    for i in range(3):
        one = percent_of_control(signal[i], control[i], blank[i])
        np.testing.assert_allclose(batch.value[i], one.value)
        np.testing.assert_allclose(batch.stderr[i], one.stderr)


def test_dataarray_path_aligns_by_name_and_matches_numpy():
    rng = np.random.default_rng(3)
    s = rng.uniform(0.1, 1.0, (2, 5))
    c = rng.uniform(0.9, 1.1, (2, 4))
    c[1, 2] = np.nan
    sig = xr.DataArray(s, dims=("plate", "well"))
    ctl = xr.DataArray(c, dims=("plate", "well"))
    out = percent_of_control(sig, ctl, dim="well")
    ref = percent_of_control(s, c)
    assert isinstance(out.value, xr.DataArray)
    assert out.value.dims == ("plate", "well")
    np.testing.assert_allclose(out.value.values, ref.value)
    np.testing.assert_allclose(out.stderr.values, ref.stderr)
    assert out.n_control_missing == 1


# ----------------------------------------------------------------------------- errors
def test_percent_of_control_rejects_control_equal_to_blank():
    with pytest.raises(ControlError, match=r"`control` must average above `blank`.*0\.05"):
        percent_of_control([0.5], [0.05, 0.05], blank=[0.05, 0.05])


def test_percent_of_control_rejects_zero_or_negative_control():
    with pytest.raises(ControlError, match=r"`control` must have a positive mean; got -0\.1"):
        percent_of_control([0.5], [-0.1, -0.1])
    with pytest.raises(ControlError, match="positive mean; got 0.0"):
        percent_of_control([0.5], 0.0)


def test_percent_activity_rejects_equal_controls():
    with pytest.raises(ControlError, match="`no_inhibitor` must differ from `background`"):
        percent_activity([5.0], no_inhibitor=[10.0, 10.0], background=[10.0, 10.0])


def test_percent_of_control_rejects_ambiguous_control_shape():
    with pytest.raises(ShapeError, match=r"np\.newaxis"):
        percent_of_control(np.ones((3, 4)), np.ones(3))


def test_percent_of_control_rejects_mismatched_batches():
    with pytest.raises(ShapeError, match="broadcast"):
        percent_of_control(np.ones((3, 4)), np.ones((2, 5)))


def test_percent_of_control_rejects_infinite_signal():
    with pytest.raises(ValueError, match=r"`signal` must be finite.*inf"):
        percent_of_control([np.inf], [1.0, 1.0])


def test_percent_of_control_rejects_dim_with_numpy_inputs():
    with pytest.raises(TypeError, match="`dim` applies to xarray"):
        percent_of_control([0.5], [1.0, 1.0], dim="well")


def test_phospho_ratio_rejects_total_at_background():
    with pytest.raises(ControlError, match=r"`total` must be above its background.*0\.0"):
        phospho_ratio([500, 400], [2000, 100], background=100)


def test_phospho_ratio_rejects_negative_intensities():
    with pytest.raises(ValueError, match=r"`phospho` must be ≥ 0.*got -5\.0"):
        phospho_ratio([-5.0], [100.0])


def test_fold_change_rejects_zero_reference():
    with pytest.raises(ControlError, match=r"`reference` must have a positive mean; got 0\.0"):
        fold_change([[0.5, 0.2]], [[0.0]])


# ----------------------------------------------------------------------------- with_vehicle
def test_with_vehicle_appends_zero_concentrations():
    conc, y = with_vehicle(mp.Q_([0.1, 1, 10], "uM"), [[0.8, 0.5, 0.1], [0.9, 0.6, 0.2]],
                           [[1.0, 0.98], [1.02, 1.0]])
    np.testing.assert_array_equal(conc.magnitude, [0.1, 1, 10, 0, 0])
    assert str(conc.units) == "micromolar"
    np.testing.assert_array_equal(y, [[0.8, 0.5, 0.1, 1.0, 0.98], [0.9, 0.6, 0.2, 1.02, 1.0]])


def test_fitting_vehicle_as_data_recovers_the_top_plateau():
    conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
    y = mp.models.four_pl(conc.magnitude, bottom=0.05, top=1.2, ic50=0.3, hill=1.0)
    x, yy = with_vehicle(conc, y, [1.2, 1.2, 1.2])
    res = mp.fit(x, yy)
    assert float(res.params["top"]) == pytest.approx(1.2, rel=1e-6)
    assert float(res.ic50.magnitude) == pytest.approx(0.3, rel=1e-6)


def test_with_vehicle_rejects_vehicle_of_other_rank():
    with pytest.raises(ShapeError, match="`vehicle` must have shape"):
        with_vehicle(mp.Q_([1, 2], "uM"), np.ones((2, 3, 2)), np.ones((2, 2)))


# ----------------------------------------------------------------------------- properties
@settings(max_examples=60, deadline=None)
@given(scale=st.floats(min_value=1e-3, max_value=1e3), s=finite, c1=finite, c2=finite,
       shift=st.floats(min_value=-5, max_value=5))
def test_percent_of_control_is_invariant_to_scaling_and_offsetting_the_plate(scale, s, c1, c2, shift):
    control = np.array([c1, c2]) + 200.0  # keep the window positive
    blank = np.array([1.0, 2.0])
    base = percent_of_control([s], control, blank)
    moved = percent_of_control([scale * s + shift], scale * control + shift, scale * blank + shift)
    np.testing.assert_allclose(moved.value, base.value, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(moved.stderr, base.stderr, rtol=1e-6, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(gains=st.lists(st.floats(min_value=0.1, max_value=10.0), min_size=2, max_size=4))
def test_cross_blot_scale_removes_per_blot_gain(gains):
    base = np.array([0.8, 0.5, 0.3, 0.1])  # lane 0 = shared reference
    blots = np.array([g * base for g in gains])
    out = cross_blot_scale(blots, blots[:, :1])
    np.testing.assert_allclose(out.value, np.broadcast_to(base / base[0], blots.shape), rtol=1e-12)
