"""Bad input in the combination functions (API audit, s7): refused with an error naming the
argument, one bad pair flagged without warnings, decreasing dose vectors accepted."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pandas as pd
import pytest

import mtor_pharm as mp
from mtor_pharm.errors import PlateLayoutError

matplotlib.use("Agg")

DM = mp.combination.DoseMatrix
DOSES = np.r_[0, 3.0 ** np.arange(5)]
RESPONSE = 100 / (1 + DOSES[:, None] / 30) / (1 + DOSES[None, :] / 5)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _matrix() -> DM:
    return DM.from_arrays(DOSES, DOSES, RESPONSE, conc_unit="nM")


# ----------------------------------------------------------------------------- item 4: warnings
@pytest.mark.parametrize("bad", [np.nan, 50.0])
def test_score_flags_an_all_nan_or_constant_pair_without_runtime_warnings(bad):
    # pytest turns any RuntimeWarning into an error (filterwarnings = error)
    A, B = np.meshgrid(DOSES, DOSES, indexing="ij")
    t = pd.concat([
        pd.DataFrame({"drug_b": d, "conc_a": A.ravel(), "conc_b": B.ravel(),
                      "v": (RESPONSE if d == "ok" else np.full_like(RESPONSE, bad)).ravel()})
        for d in ("ok", "bad")
    ])
    m = DM.from_table(t.assign(drug_a="X"), response="v", unit="nM", drug_a="drug_a", drug_b="drug_b")
    res = mp.combination.score(m)
    alone = mp.combination.score(_matrix())
    for name in ("hsa", "bliss", "loewe", "zip"):
        s = res[name]
        assert np.isnan(s.pvalue[1]) and s.status[1] != 0
        np.testing.assert_allclose(s.mean[0], alone[name].mean[0], rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------- item 11: fa_ci_plot
@pytest.mark.parametrize("grid", [-1, 0, 1])
def test_fa_ci_plot_refuses_grid_outside_its_range(grid):
    res = mp.combination.score(_matrix())
    with pytest.raises(ValueError, match="`grid` must be an integer from 2 to 1,000,000"):
        mp.combination.fa_ci_plot(res, grid=grid)


def test_combination_plots_refuse_a_dose_matrix_for_the_result():
    with pytest.raises(TypeError, match="`result` of fa_ci_plot must be a SynergyResult.*got DoseMatrix"):
        mp.combination.fa_ci_plot(_matrix())
    with pytest.raises(TypeError, match="`result` of isobologram must be a SynergyResult.*got DoseMatrix"):
        mp.combination.isobologram(_matrix())


# ----------------------------------------------------------------------------- item 20: empty layouts
@pytest.mark.parametrize("kind", [None, "csv"])
def test_combination_read_layout_refuses_an_empty_file_like_assays(kind):
    with pytest.raises(PlateLayoutError, match="`source` <stream> lists no wells"):
        mp.combination.read_layout(io.StringIO(""), kind=kind)
    with pytest.raises(PlateLayoutError, match="lists no wells"):
        mp.assays.read_layout(io.StringIO(""), kind=kind)


# ----------------------------------------------------------------------------- item 21: from_arrays doses
@pytest.mark.parametrize("arg", ["conc_a", "conc_b"])
def test_from_arrays_refuses_a_nan_dose_that_has_data(arg):
    doses = {"conc_a": DOSES, "conc_b": DOSES, arg: np.r_[DOSES[:5], np.nan]}
    with pytest.raises(ValueError, match=f"`{arg}` must be a dose wherever `response` has data; got nan"):
        DM.from_arrays(doses["conc_a"], doses["conc_b"], RESPONSE, conc_unit="nM")


def test_from_arrays_keeps_nan_padding_without_data():
    y = RESPONSE.copy()
    y[-1] = np.nan
    m = DM.from_arrays(np.r_[DOSES[:5], np.nan], DOSES, y, conc_unit="nM")
    assert np.isnan(m.conc_a[0, -1]) and m.conc_a[0, :5].tolist() == DOSES[:5].tolist()


def test_from_arrays_accepts_decreasing_doses_as_the_same_matrix_and_score():
    inc = _matrix()
    dec = DM.from_arrays(DOSES[::-1], DOSES[::-1], RESPONSE[::-1, ::-1], conc_unit="nM")
    np.testing.assert_array_equal(dec.conc_a, inc.conc_a)
    np.testing.assert_array_equal(dec.conc_b, inc.conc_b)
    np.testing.assert_array_equal(dec.response, inc.response)
    pd.testing.assert_frame_equal(mp.combination.score(dec).to_dataframe(),
                                  mp.combination.score(inc).to_dataframe())
    series = mp.dilution_series("10 uM", factor=3, n=5)  # highest first
    m = DM.from_arrays(np.r_[series.m, 0.0], np.r_[series.m, 0.0], np.full((6, 6), 50.0), conc_unit=str(series.units))
    assert m.conc_a[0, 0] == 0 and np.all(np.diff(m.conc_a[0]) > 0)


@pytest.mark.parametrize("doses", [[0, 3, 1, 9, 27, 81], [81, 27, 9, 9, 1, 0]])
def test_from_arrays_still_refuses_unsorted_or_repeated_doses(doses):
    with pytest.raises(ValueError, match="`conc_a` must be strictly increasing \\(or strictly decreasing\\) doses"):
        DM.from_arrays(np.asarray(doses, dtype=float), DOSES, RESPONSE, conc_unit="nM")


# ----------------------------------------------------------------------------- item 25: models, levels
def test_score_refuses_nothing_to_score_and_a_bare_model_string():
    m = _matrix()
    with pytest.raises(ValueError, match="`models` must name at least one of"):
        mp.combination.score(m, models=(), levels=())
    with pytest.raises(TypeError, match="`models` must be a sequence of model names"):
        mp.combination.score(m, models="bliss")
    assert mp.combination.score(m, models=()).ci is not None  # CI only, as documented


@pytest.mark.parametrize("levels", [(1.5,), (), (0.0,)])
def test_isobologram_refuses_levels_outside_zero_one_or_none(levels):
    res = mp.combination.score(_matrix())
    with pytest.raises(ValueError, match="`levels` must be fractions affected strictly between 0 and 1"):
        mp.combination.isobologram(res, levels=levels)


def test_dose_matrix_mass_unit_hints_offer_only_what_it_takes() -> None:
    import pandas as pd

    a = np.r_[0, 3.0 ** np.arange(5)]
    A, B = np.meshgrid(a, a, indexing="ij")
    t = pd.DataFrame({"drug_a": "X", "drug_b": "Y", "conc_a": A.ravel(), "conc_b": B.ravel(),
                      "response": (100 / (1 + A / 30) / (1 + B / 5)).ravel()})
    with pytest.raises(mp.errors.UnitError, match="give it in molar units") as err:
        mp.combination.DoseMatrix.from_table(t, unit="ug/mL")
    assert "inhibitor=" not in str(err.value)
