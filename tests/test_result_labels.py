"""Labelled FitResults (#14): selection by label, position, slice, list and mask; labels in tables and comparisons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mtor_pharm as mp
from mtor_pharm import compare as cmp
from mtor_pharm.errors import ShapeError

CONC = mp.Q_(1000.0 / 3.0 ** np.arange(8), "nM")
NAMES = ["sapanisertib", "Torin1", "rapamycin"]  # not in sorted order on purpose
IC50 = np.array([20.0, 3.0, 0.5])


def _batch() -> mp.FitResult:
    rng = np.random.default_rng(3)
    y = mp.models.four_pl(CONC.magnitude, 5.0, 100.0, IC50[:, None], 1.0) + rng.normal(0, 1.5, (3, 8))
    return mp.fit(CONC, y).with_labels(NAMES, names="compound")


def test_label_selects_the_curve_fitted_from_that_row() -> None:
    res = _batch()
    for i, name in enumerate(NAMES):
        one = res[name]
        assert one.shape == () and one.label == name
        assert float(one.ic50.magnitude) == float(res.ic50.magnitude[i])
        np.testing.assert_array_equal(one.covariance, res.covariance[i])
        assert res.index(name) == i


def test_position_slice_list_and_mask_select_the_same_curves_as_numpy() -> None:
    res = _batch()
    ic50 = res.ic50.magnitude
    assert float(res[1].ic50.magnitude) == ic50[1] and res[1].label == "Torin1"
    assert float(res[-1].ic50.magnitude) == ic50[-1]
    np.testing.assert_array_equal(res[1:].ic50.magnitude, ic50[1:])
    assert res[1:].labels == ("Torin1", "rapamycin")
    np.testing.assert_array_equal(res[["rapamycin", 0]].ic50.magnitude, ic50[[2, 0]])
    mask = np.array([True, False, True])
    assert res[mask].labels == ("sapanisertib", "rapamycin")
    np.testing.assert_array_equal(res[mask].rss, res.rss[mask])


def test_unknown_label_suggests_the_closest_one() -> None:
    with pytest.raises(LookupError, match=r"'torin1'.*Did you mean 'Torin1'"):
        _batch()["torin1"]


def test_selection_rejects_out_of_range_positions_and_bad_masks() -> None:
    res = _batch()
    with pytest.raises(LookupError, match="position"):
        res[3]
    with pytest.raises(ShapeError, match="mask"):
        res[np.array([True, False])]
    with pytest.raises(TypeError, match="single-curve"):
        res[0][0]
    with pytest.raises(ValueError, match="selected once"):
        res[["Torin1", 1]]


def test_with_labels_rejects_wrong_count_duplicates_and_missing() -> None:
    res = mp.fit(CONC, np.tile(mp.models.four_pl(CONC.magnitude, 0, 100, 10.0, 1.0), (2, 1)))
    with pytest.raises(ShapeError, match="one label per curve"):
        res.with_labels(["a"])
    with pytest.raises(ValueError, match="distinct"):
        res.with_labels(["a", "a"])
    with pytest.raises(ValueError, match="missing or empty"):
        res.with_labels(["a", float("nan")])


def test_unlabelled_batches_still_select_by_position_and_say_how_to_label() -> None:
    res = mp.fit(CONC, np.tile(mp.models.four_pl(CONC.magnitude, 0, 100, 10.0, 1.0), (2, 1)))
    assert res[1].shape == ()
    with pytest.raises(LookupError, match="with_labels"):
        res["a"]


def test_two_dimensional_batch_takes_integer_and_slice_keys() -> None:
    y = mp.models.four_pl(CONC.magnitude, 0, 100, np.array([[1.0, 10.0], [30.0, 100.0]])[..., None], 1.0)
    res = mp.fit(CONC, y)
    np.testing.assert_allclose(res[1, 0].ic50.magnitude, 30.0, rtol=1e-6)
    assert res[:, 1].shape == (2,)
    with pytest.raises(TypeError, match="integers and slices"):
        res["a"]


def test_to_dataframe_is_indexed_by_the_labels_in_batch_order() -> None:
    df = _batch().to_dataframe()
    assert list(df.index) == NAMES and df.index.name == "compound"


def test_to_xarray_names_and_labels_the_dimension() -> None:
    ds = _batch().to_xarray()
    assert ds["ic50"].dims == ("compound",) and list(ds["compound"].values) == NAMES
    assert float(ds["ic50"].sel(compound="Torin1")) == float(_batch()["Torin1"].ic50.magnitude)


def test_fit_table_labels_follow_the_rows_never_the_sort_order() -> None:
    rows = [(name, c, v) for name, ic in zip(NAMES, IC50, strict=True)
            for c, v in zip(CONC.magnitude, mp.models.four_pl(CONC.magnitude, 0.0, 100.0, ic, 1.0), strict=True)]
    df = pd.DataFrame(rows, columns=["compound", "conc", "viability"])
    res, index = mp.fit_table(df, conc="conc", response="viability", by="compound", conc_unit="nM")
    assert list(index) == NAMES == list(res.labels or ())
    for name, ic in zip(NAMES, IC50, strict=True):
        np.testing.assert_allclose(res[name].ic50.magnitude, ic, rtol=1e-6)


def test_potency_ratio_takes_labels_and_matches_positions() -> None:
    res = _batch()
    by_name = cmp.potency_ratio("sapanisertib", "Torin1", fit=res)
    by_pos = cmp.potency_ratio(0, 1, fit=res)
    assert float(by_name.estimate) == float(by_pos.estimate)
    assert float(by_name.pvalue) == float(by_pos.pvalue)
    many = cmp.potency_ratio(["sapanisertib", "rapamycin"], ["Torin1", "Torin1"], fit=res)
    np.testing.assert_allclose(many.estimate, [by_pos.estimate, cmp.potency_ratio(2, 1, fit=res).estimate])
    with pytest.raises(LookupError, match="Did you mean"):
        cmp.potency_ratio("sapanisertb", "Torin1", fit=res)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 2), min_size=1, max_size=3, unique=True))
def test_list_selection_equals_numpy_take(positions: list[int]) -> None:
    res = _SHARED
    sub = res[positions]
    np.testing.assert_array_equal(sub.rss, res.rss[positions])
    np.testing.assert_array_equal(sub.params["hill"], res.params["hill"][positions])
    assert sub.labels == tuple(NAMES[p] for p in positions)


_SHARED = _batch()
