"""DoseMatrix construction: tables, DataArrays, ragged and missing wells, screens, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import mtor_pharm as mp
from mtor_pharm.errors import ShapeError, UnitError

DM = mp.combination.DoseMatrix
A = [0, 10, 100, 1000]
B = [0, 0.1, 1, 10]


def fu(x, ic50, hill):
    return 1 / (1 + (np.asarray(x, dtype=float) / ic50) ** hill)


def _table(pairs=("p1",), reps=2, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for k, pair in enumerate(pairs):
        for a in A:
            for b in B:
                for r in range(reps):
                    y = 100 * fu(a, 80 + 40 * k, 1.2) * fu(b, 1.0, 1.0) + rng.normal(0, 2)
                    rows.append({"pair": pair, "torki": a, "pi3ki": b, "viability": y, "rep": r})
    return pd.DataFrame(rows)


def test_from_table_builds_the_grid_with_replicates_and_units() -> None:
    t = _table(("p1", "p2"), reps=3)
    m = DM.from_table(t, conc_a="torki", conc_b="pi3ki", response="viability", unit_a="nM", unit_b="uM", pair="pair")
    assert m.shape == (2, 4, 4, 3)
    assert m.unit_a == "nM" and m.unit_b == "µM"
    assert m.pair == ("p1", "p2")
    np.testing.assert_array_equal(m.conc_a[0], A)
    row = t[(t.pair == "p2") & (t.torki == 100) & (t.pi3ki == 1)]
    np.testing.assert_allclose(np.sort(m.response[1, 2, 2]), np.sort(row.viability))


def test_from_table_reads_unit_strings_and_does_not_mutate_the_table() -> None:
    t = _table()
    t["torki"] = [f"{v} nM" for v in t["torki"]]
    t["pi3ki"] = [f"{v} uM" for v in t["pi3ki"]]
    before = t.copy()
    m = DM.from_table(t, conc_a="torki", conc_b="pi3ki", response="viability")
    pd.testing.assert_frame_equal(t, before)
    assert m.unit_a == "nM"
    np.testing.assert_array_equal(m.conc_b[0], B)


def test_missing_wells_and_ragged_pairs_are_nan_not_dropped() -> None:
    t = _table(("p1", "p2"), reps=2)
    t = t[~((t.pair == "p1") & (t.torki == 100) & (t.pi3ki == 1))]  # one missing well
    t = t[~((t.pair == "p2") & (t.torki == 1000))]  # p2 has one dose fewer of A: ragged
    m = DM.from_table(t, conc_a="torki", conc_b="pi3ki", response="viability", unit_a="nM", unit_b="uM", pair="pair")
    assert np.isnan(m.response[0, 2, 2]).all()
    assert np.isnan(m.conc_a[1, 3]) and np.isnan(m.response[1, 3]).all()
    res = mp.combination.score(m, levels=())
    # p2's drug A has 3 concentrations left (vehicle included) for a 4-parameter curve: its
    # single agent is undetermined (TOO_FEW_POINTS, #17), so p2 is flagged; p1 is scored
    assert res.single.status[1] & mp.FitStatus.TOO_FEW_POINTS
    for s in res.scores.values():
        assert np.isfinite(s.mean[0]) and np.isnan(s.mean[1])
        assert s.status[0] == 0 and s.status[1] != 0
        assert np.isnan(s.excess[0, 2, 2])


def test_a_pair_whose_single_agent_cannot_be_fitted_is_flagged_not_fatal() -> None:
    # duplicates: p1's single agents have 8 points at 4 concentrations; p2's drug A only 3
    # concentrations for 4 parameters (an undetermined curve, #17)
    t = _table(("p1", "p2"), reps=2)
    t = t[~((t.pair == "p2") & (t.torki == 1000))]
    m = DM.from_table(t, conc_a="torki", conc_b="pi3ki", response="viability", unit_a="nM", unit_b="uM", pair="pair")
    res = mp.combination.score(m, levels=())
    for s in res.scores.values():
        assert np.isfinite(s.mean[0]) and np.isnan(s.mean[1])
        assert s.status[1] & mp.combination.SynergyStatus.SINGLE_AGENT_UNDETERMINED


def test_from_dataarray_matches_from_table() -> None:
    t = _table(reps=1)
    m1 = DM.from_table(t, conc_a="torki", conc_b="pi3ki", response="viability", unit_a="nM", unit_b="uM")
    grid = t.pivot_table(index="torki", columns="pi3ki", values="viability")
    da = xr.DataArray(
        grid.to_numpy()[::-1],  # reversed: the constructor sorts the doses
        dims=("torki", "pi3ki"),
        coords={
            "torki": ("torki", grid.index.to_numpy()[::-1], {"units": "nM"}),
            "pi3ki": ("pi3ki", B, {"units": "uM"}),
        },
    )
    m2 = DM.from_dataarray(da, dim_a="torki", dim_b="pi3ki")
    np.testing.assert_allclose(m1.response, m2.response)
    np.testing.assert_allclose(m1.conc_a, m2.conc_a)


def test_screen_shares_a_compound_across_pairs_on_the_same_plate() -> None:
    conc_a, conc_b = mp.Q_(A, "nM"), mp.Q_(A, "nM")
    y = 100 * np.outer(fu(A, 100, 1.0), fu(A, 300, 1.0))
    resp = np.stack([y, y, y])[..., None]
    m = DM.from_arrays(
        conc_a,
        conc_b,
        resp,
        drug_a=["torin1", "torin1", "torin1"],
        drug_b=["bkm120", "gdc0941", "bkm120"],
        plate=["P1", "P1", "P2"],
    )
    res = mp.combination.score(m, models=("bliss",), levels=())
    assert res.agent_a[0] == res.agent_a[1] != res.agent_a[2]  # torin1 on P1 once, on P2 once
    assert len(res.agents) == 5
    assert res.single.shape == (5,)


def test_single_agent_margins_are_recognised_from_zero_doses() -> None:
    m = DM.from_arrays(mp.Q_(A, "nM"), mp.Q_(B, "uM"), np.full((4, 4), 50.0))
    assert m.conc_a[0, 0] == 0 and m.conc_b[0, 0] == 0


# ------------------------------------------------------------------ bad input
def test_matrix_without_single_agent_margins_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"`conc_a` must include dose 0.*single-agent"):
        DM.from_arrays(mp.Q_([1, 10, 100], "nM"), mp.Q_([0, 1, 10], "nM"), np.ones((3, 3)))
    t = _table()
    t = t[t.pi3ki > 0]
    with pytest.raises(ValueError, match=r"`conc_b` must include dose 0"):
        DM.from_table(t, conc_a="torki", conc_b="pi3ki", response="viability", unit_a="nM", unit_b="uM")


def test_one_concentration_per_drug_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"`conc_b` must have at least two positive doses"):
        DM.from_arrays(mp.Q_([0, 1, 10], "nM"), mp.Q_([0, 5], "nM"), np.ones((3, 2)))


def test_mixed_units_are_rejected() -> None:
    t = _table()
    t["torki"] = [f"{v} nM" if i % 2 else f"{v / 1000} uM" for i, v in enumerate(t["torki"])]
    with pytest.raises(UnitError, match=r"`conc_a` column 'torki' mixes units"):
        DM.from_table(t, conc_a="torki", conc_b="pi3ki", response="viability", unit_b="uM")


def test_negative_doses_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"`conc_a` must be non-negative"):
        DM.from_arrays(mp.Q_([0, -1, 10], "nM"), mp.Q_([0, 1, 10], "nM"), np.ones((3, 3)))
    t = _table()
    t.loc[3, "pi3ki"] = -0.1
    with pytest.raises(ValueError, match=r"`conc_b` \(column 'pi3ki'\) must be finite and non-negative"):
        DM.from_table(t, conc_a="torki", conc_b="pi3ki", response="viability", unit_a="nM", unit_b="uM")


def test_bare_numbers_without_unit_are_rejected() -> None:
    with pytest.raises(UnitError, match=r"`conc_a` column 'torki' holds bare numbers"):
        DM.from_table(_table(), conc_a="torki", conc_b="pi3ki", response="viability")
    with pytest.raises(UnitError, match="conc_a"):
        DM.from_arrays([0, 1, 10], mp.Q_([0, 1, 10], "nM"), np.ones((3, 3)))


def test_non_concentration_units_and_bad_shapes_are_rejected() -> None:
    with pytest.raises(UnitError, match="conc_b"):
        DM.from_arrays(mp.Q_([0, 1, 10], "nM"), mp.Q_([0, 1, 10], "s"), np.ones((3, 3)))
    with pytest.raises(ShapeError, match="conc_b"):
        DM.from_arrays(mp.Q_([0, 1, 10], "nM"), mp.Q_([0, 1, 10, 20], "nM"), np.ones((3, 3)))
    with pytest.raises(LookupError, match="`response` names column 'od'"):
        DM.from_table(_table(), conc_a="torki", conc_b="pi3ki", response="od", unit="nM")


def test_score_rejects_unknown_models_and_levels() -> None:
    m = DM.from_arrays(mp.Q_(A, "nM"), mp.Q_(A, "nM"), 100 * np.outer(fu(A, 100, 1), fu(A, 100, 1)))
    with pytest.raises(ValueError, match="`models` has unknown model"):
        mp.combination.score(m, models=("musyc",))
    with pytest.raises(ValueError, match="`levels` must be fractions affected"):
        mp.combination.score(m, levels=(50,))
    with pytest.raises(TypeError, match="`matrix` must be a DoseMatrix"):
        mp.combination.score(np.ones((3, 3)))  # type: ignore[arg-type]


def test_inputs_are_read_only_and_results_frozen() -> None:
    m = DM.from_arrays(mp.Q_(A, "nM"), mp.Q_(A, "nM"), 100 * np.outer(fu(A, 100, 1), fu(A, 100, 1)))
    with pytest.raises(ValueError, match="read-only"):
        m.response[0, 0, 0, 0] = 1.0
    res = mp.combination.score(m, levels=(0.5,))
    with pytest.raises(ValueError, match="read-only"):
        res["bliss"].excess[0, 1, 1] = 0.0
    assert set(res.to_dataframe()["model"]) == {"hsa", "bliss", "loewe", "zip"}


def test_separate_single_agent_data_are_pooled_with_the_margins() -> None:
    conc = [0, 10, 100, 1000]
    y = 100 * np.outer(fu(conc, 50, 1.0), fu(conc, 200, 1.0))
    m = DM.from_arrays(mp.Q_(conc, "nM"), mp.Q_(conc, "nM"), y, drug_a="torin1", drug_b="bkm120")
    extra = pd.DataFrame(
        {
            "drug": ["torin1"] * 4 + ["bkm120"] * 2,
            "conc": ["3 nM", "30 nM", "0.3 uM", "3 uM", "50 nM", "0.5 uM"],
            "response": [
                *(100 * fu([3, 30, 300, 3000], 50, 1.0)),
                *(100 * fu([50, 500], 200, 1.0)),
            ],
        }
    )
    alone = mp.combination.score(m, models=("bliss",), levels=())
    both = mp.combination.score(m, models=("bliss",), levels=(), single_agents=extra)
    assert both.single.n[both.agent_a[0]] == alone.single.n[alone.agent_a[0]] + 4
    assert both.single.n[both.agent_b[0]] == alone.single.n[alone.agent_b[0]] + 2
    np.testing.assert_allclose(both.single.params["ic50"][[both.agent_a[0], both.agent_b[0]]], [50, 200], rtol=1e-6)
    assert abs(float(both["bliss"].mean[0])) < 1e-6


def test_single_agent_table_errors_name_the_argument() -> None:
    conc = [0, 10, 100, 1000]
    m = DM.from_arrays(mp.Q_(conc, "nM"), mp.Q_(conc, "nM"), np.full((4, 4), 50.0), drug_a="torin1", drug_b="bkm120")
    with pytest.raises(LookupError, match="`single_agents` must have columns"):
        mp.combination.score(m, single_agents=pd.DataFrame({"drug": ["torin1"], "conc": ["1 nM"]}))
    with pytest.raises(LookupError, match="`single_agents` names .*rapamycin"):
        mp.combination.score(m, single_agents=pd.DataFrame({"drug": ["rapamycin"], "conc": ["1 nM"], "response": [90]}))
    with pytest.raises(UnitError, match="`single_agents` row 0"):
        mp.combination.score(m, single_agents=pd.DataFrame({"drug": ["torin1"], "conc": [1.0], "response": [90]}))


def test_a_matrix_without_replicates_is_scored_and_flagged_as_such() -> None:
    a = np.array([0, 3, 10, 30, 100, 300, 1000.0])
    b = np.array([0, 0.03, 0.1, 0.3, 1, 3, 10.0])
    rng = np.random.default_rng(4)
    y = 100 * fu(a[:, None], 80, 1.2) * fu(b[None, :], 1.0, 1.0) + rng.normal(0, 2, (7, 7))
    m = DM.from_arrays(mp.Q_(a, "nM"), mp.Q_(b, "uM"), y)
    res = mp.combination.score(m, levels=())
    for s in res.scores.values():
        assert np.isfinite(s.mean[0])
        assert s.status[0] & mp.combination.SynergyStatus.NO_REPLICATES
