"""GraphPad Prism XY tables (X plus replicate Y sub-columns per data set) into tidy points."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import mtor_pharm as mp

LOGM = np.array([-10.0, -9.5, -9.0, -8.5, -8.0, -7.5, -7.0, -6.5, -6.0])
TRUTH = {"Torin1": 3e-9, "rapamycin": 3e-8}


def _prism_csv() -> str:
    """A Prism XY table as Prism exports it: data-set names repeated over their Y sub-columns."""
    rng = np.random.default_rng(4)
    header = ['"log[inhibitor], M"'] + [name for name in TRUTH for _ in range(3)]
    lines = [",".join(header)]
    for lx in LOGM:
        cells = [f"{lx:g}"]
        for ic in TRUTH.values():
            mean = mp.models.four_pl(10.0**lx, 2.0, 98.0, ic, 1.1)
            cells += [f"{mean + rng.normal(0, 2):.3f}" for _ in range(3)]
        lines.append(",".join(cells))
    lines[3] = lines[3].rsplit(",", 1)[0] + ","  # one empty cell, as Prism leaves a missing replicate
    return "\n".join(lines) + "\n"


def test_a_prism_export_read_by_pandas_becomes_tidy_points_and_fits_as_the_long_table() -> None:
    wide = pd.read_csv(io.StringIO(_prism_csv()))
    assert list(wide.columns)[1:4] == ["Torin1", "Torin1.1", "Torin1.2"]  # pandas' names for repeats
    points = mp.tidy_xy(wide, x="log[inhibitor], M")
    assert points.columns.tolist() == ["compound", "conc", "replicate", "response"]
    assert len(points) == LOGM.size * 6 and points["response"].isna().sum() == 1
    # the same points built by hand, cell by cell
    rows = [
        {"compound": name.split(".")[0], "conc": wide.loc[i, "log[inhibitor], M"], "replicate": int(rep) + 1,
         "response": wide.loc[i, col]}
        for col in wide.columns[1:]
        for name, rep in [(col, col.split(".")[1] if "." in col else 0)]
        for i in wide.index
    ]
    hand = pd.DataFrame(rows)
    key = ["compound", "replicate", "conc"]
    pd.testing.assert_frame_equal(
        points.sort_values(key).reset_index(drop=True), hand.sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )
    res, index = mp.fit_table(points, conc="conc", response="response", by="compound", conc_unit="M",
                              conc_log10=True)
    ref, _ = mp.fit_table(hand, conc="conc", response="response", by="compound", conc_unit="M", conc_log10=True)
    np.testing.assert_array_equal(res.ic50.magnitude, ref.ic50.magnitude)
    for name, ic in TRUTH.items():
        assert float(res[name].ic50.to("M").magnitude) == pytest.approx(ic, rel=0.25)


def test_explicit_datasets_and_their_errors() -> None:
    wide = pd.DataFrame({"x": [-9.0, -8.0, -7.0], "a1": [90, 50, 10], "a2": [92, 48, 12], "b": [99, 95, 60]})
    points = mp.tidy_xy(wide, x="x", datasets={"A": ["a1", "a2"], "B": "b"}, by="drug")
    assert points.groupby("drug").size().to_dict() == {"A": 6, "B": 3}
    assert points.loc[points["drug"] == "A", "replicate"].tolist() == [1, 1, 1, 2, 2, 2]
    with pytest.raises(LookupError, match="must name a column"):
        mp.tidy_xy(wide, x="X")
    with pytest.raises(LookupError, match=r"datasets\['A'\]"):
        mp.tidy_xy(wide, x="x", datasets={"A": ["a1", "a3"]})
    with pytest.raises(ValueError, match="puts column 'a1' in both 'A' and 'B'"):
        mp.tidy_xy(wide, x="x", datasets={"A": ["a1"], "B": ["a1", "b"]})
    with pytest.raises(ValueError, match="no Y column"):
        mp.tidy_xy(wide[["x"]], x="x")
    with pytest.raises(TypeError, match="must hold numbers"):
        mp.tidy_xy(wide.assign(b=["n", "m", "o"]), x="x")
    before = wide.copy()
    mp.tidy_xy(wide, x="x")
    pd.testing.assert_frame_equal(wide, before)  # not mutated
