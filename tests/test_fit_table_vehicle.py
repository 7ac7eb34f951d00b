"""`fit_table(vehicle=...)`: vehicle rows shared by every curve (a blot's or plate's DMSO lanes)
join each curve as its zero-dose points, matched on the other `by` keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mtor_pharm as mp

DOSES = np.array([1.0, 3, 10, 30, 100, 300])
TRUTH = {("rapamycin", "p-S6K1"): 0.5, ("Torin1", "p-S6K1"): 20.0,
         ("rapamycin", "p-Akt"): 300.0, ("Torin1", "p-Akt"): 40.0}


def _blot() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    rows = []
    for (compound, readout), ic in TRUTH.items():
        for d in DOSES:
            for _rep in range(3):
                v = mp.models.four_pl(d, 0.1, 1.0, ic, 1.0) + rng.normal(0, 0.04)
                rows.append({"compound": compound, "readout": readout, "conc": d, "ratio": v})
    for readout, level in (("p-S6K1", 1.0), ("p-Akt", 0.97)):
        rows += [{"compound": "DMSO", "readout": readout, "conc": 0.0, "ratio": level + rng.normal(0, 0.04)}
                 for _ in range(6)]
    return pd.DataFrame(rows)


def test_vehicle_rows_join_every_curve_of_their_readout_as_in_a_hand_built_batch() -> None:
    df = _blot()
    res, index = mp.fit_table(df, conc="conc", response="ratio", by=["compound", "readout"], conc_unit="nM",
                              vehicle="DMSO")
    assert list(index) == list(TRUTH)  # no DMSO curve; order of first appearance
    # the same fits by hand: each curve's points plus its readout's six vehicle points at 0
    for (compound, readout) in TRUTH:
        own = df[(df.compound == compound) & (df.readout == readout)]
        veh = df[(df.compound == "DMSO") & (df.readout == readout)]
        x = np.r_[own.conc.to_numpy(), veh.conc.to_numpy()]
        y = np.r_[own.ratio.to_numpy(), veh.ratio.to_numpy()]
        alone = mp.fit(mp.Q_(x, "nM"), y)
        got = res[(compound, readout)]
        np.testing.assert_allclose(float(got.ic50.magnitude), float(alone.ic50.magnitude), rtol=1e-10)
        np.testing.assert_allclose(float(got.params["top"]), float(alone.params["top"]), rtol=1e-10)
        assert int(got.n) == own.shape[0] + 6
    before = _blot()
    pd.testing.assert_frame_equal(df, before)  # the caller's table is not changed


def test_one_key_shares_the_vehicle_with_every_compound() -> None:
    df = _blot()
    one = df[df.readout == "p-S6K1"].drop(columns="readout")
    res, index = mp.fit_table(one, conc="conc", response="ratio", by="compound", conc_unit="nM", vehicle="DMSO")
    assert list(index) == ["rapamycin", "Torin1"] and res.n.tolist() == [24, 24]


def test_vehicle_errors_name_the_problem() -> None:
    df = _blot()
    with pytest.raises(LookupError, match="`vehicle` 'dmso' is not a value of the `by` column 'compound'.*DMSO"):
        mp.fit_table(df, conc="conc", response="ratio", by=["compound", "readout"], conc_unit="nM", vehicle="dmso")
    wrong = df.copy()
    wrong.loc[wrong.compound == "DMSO", "conc"] = 1.0
    with pytest.raises(ValueError, match="must have concentration 0"):
        mp.fit_table(wrong, conc="conc", response="ratio", by=["compound", "readout"], conc_unit="nM",
                     vehicle="DMSO")
    with pytest.raises(ValueError, match="`vehicle` needs `by`"):
        mp.fit_table(df, conc="conc", response="ratio", conc_unit="nM", vehicle="DMSO")


def test_messages_name_the_callers_rows_with_a_vehicle() -> None:
    df = pd.DataFrame({"compound": ["A"] * 5 + ["DMSO"] * 2, "conc": [1, 10, 100, -5, 3, 0, 0],
                       "v": [90, 50, 10, 5, 70, 100, 99]}, index=[f"w{i}" for i in range(7)])
    with pytest.raises(ValueError, match=r"got -5 in row 'w3' of `df` \(curve 'A'\)"):
        mp.fit_table(df, conc="conc", response="v", by="compound", conc_unit="nM", vehicle="DMSO")
