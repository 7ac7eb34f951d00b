"""Plate layouts with combination wells -> tidy plate -> DoseMatrix."""

from __future__ import annotations

import io

import numpy as np
import pytest

import mtor_pharm as mp
from mtor_pharm.errors import PlateLayoutError

A = [0, 3, 30, 300]  # nM, Torin1 (rows)
B = [0, 0.05, 0.5, 5]  # uM, BKM120 (columns)


def _surface():
    fa = 1 / (1 + (np.array(A) / 30) ** 1.1)
    fb = 1 / (1 + (np.array(B) / 0.5) ** 0.9)
    return 100 * np.outer(fa, fb)


def _layout_and_grid():
    """Duplicate checkerboard on rows A-H: row r = Torin1 dose index (r % 4), column = BKM120 dose index."""
    lines = ["well,role,compound,conc,conc_unit,compound_b,conc_b,conc_unit_b"]
    grid = np.full((8, 12), np.nan)
    surf = _surface()
    letters = "ABCDEFGH"
    for r in range(8):
        i = r % 4
        for j in range(4):
            well = f"{letters[r]}{j + 1}"
            a, b = A[i], B[j]
            if a == 0 and b == 0:
                lines.append(f"{well},vehicle,,0,nM,,,")
            elif b == 0:
                lines.append(f"{well},sample,Torin1,{a},nM,,,")
            elif a == 0:
                lines.append(f"{well},sample,,,,BKM120,{b},uM")
            else:
                lines.append(f"{well},sample,Torin1,{a},nM,BKM120,{b},uM")
            grid[r, j] = surf[i, j] + (0.5 if r >= 4 else -0.5)  # two replicates, +-0.5
    return "\n".join(lines) + "\n", grid


def test_plate_layout_with_combination_wells_gives_the_checkerboard() -> None:
    text, grid = _layout_and_grid()
    lay = mp.combination.read_layout(io.StringIO(text), conc_unit="nM")
    conc_b = np.unique(lay.loc[lay.compound_b == "BKM120", "conc_b"])
    np.testing.assert_allclose(conc_b, [50.0, 500.0, 5000.0], rtol=1e-12)  # uM converted to nM
    tab = mp.assays.tidy_plate(lay, {"viability": grid})
    m = mp.combination.DoseMatrix.from_plate(tab, response="viability")
    assert m.pair == ("Torin1 x BKM120",)
    assert m.shape == (1, 4, 4, 2)
    np.testing.assert_allclose(m.conc_a[0], A)
    np.testing.assert_allclose(m.conc_b[0], np.array(B) * 1000)
    np.testing.assert_allclose(np.nanmean(m.response[0], axis=-1), _surface(), atol=1e-12)
    res = mp.combination.score(m, models=("bliss",), levels=())
    assert abs(float(res["bliss"].mean[0])) < 0.5


def test_layout_rejects_a_second_compound_without_concentration() -> None:
    text = "well,role,compound,conc,conc_unit,compound_b,conc_b\nA1,sample,Torin1,1,nM,BKM120,\n"
    with pytest.raises(PlateLayoutError, match="compound_b and conc_b"):
        mp.combination.read_layout(io.StringIO(text))


def test_from_plate_needs_combination_columns() -> None:
    lay = mp.assays.read_layout(io.StringIO("well,role,compound,conc,conc_unit\nA1,sample,Torin1,1,nM\n"))
    tab = mp.assays.tidy_plate(lay, {"viability": np.ones((8, 12))})
    with pytest.raises(LookupError, match="compound_b"):
        mp.combination.DoseMatrix.from_plate(tab, response="viability")
