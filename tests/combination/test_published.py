"""A published Chou-Talalay worked example reproduced (tests/data/combination_pnas1998_table3.json).

PNAS 95:8369 (1998), Table 3, reports for two drugs (DX, NAA) alone and at a 5:1 NAA/DX ratio the
median-effect parameters (IC50 = Dm, slope m), the CI at IC50/75/90/95 and the dose-reduction
indices at IC50.  We build a checkerboard whose single agents and constant-ratio diagonal follow
those median-effect curves exactly, score it, and compare with the published CI and DRI:

* the fitted median-effect parameters must come back exactly (they define the data);
* P388/DX: every published CI and DRI is reproduced within the rounding of the 2-significant-digit
  parameters (6 %);
* P388/0: the published CIs are means over experiments (SE 0.025-0.20) and the CI of the mean
  parameters need not equal the mean CI; ours lie within 2 published SE of them.  Its DRIs (a ratio of
  the published IC50s) are reproduced within rounding.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import mtor_pharm as mp

DATA = json.loads((Path(__file__).parents[1] / "data" / "combination_pnas1998_table3.json").read_text())


def _fa(d, dm, m):
    r = (np.asarray(d, dtype=float) / dm) ** m
    return r / (1 + r)


def _checkerboard(cell):
    dx, naa, combo = cell["dx"], cell["naa"], cell["combination"]
    ratio = combo["ic50_naa"] / combo["ic50_dx"]  # 5 (NAA per DX)
    d_dx = combo["ic50_dx"] * np.array([0.0, 0.125, 0.25, 0.5, 1, 2, 4, 8])
    d_naa = ratio * d_dx
    dm_combo = combo["ic50_dx"] + combo["ic50_naa"]
    fa = 1 - np.outer(1 - _fa(d_dx, dx["ic50"], dx["m"]), 1 - _fa(d_naa, naa["ic50"], naa["m"]))  # off-diagonal filler
    k = np.arange(1, d_dx.size)
    fa[k, k] = _fa(d_dx[k] + d_naa[k], dm_combo, combo["m"])  # the constant-ratio series
    return mp.combination.DoseMatrix.from_arrays(
        mp.Q_(d_dx, "uM"), mp.Q_(d_naa, "uM"), 100 * (1 - fa), drug_a="DX", drug_b="NAA"
    )


@pytest.mark.parametrize("name", ["P388/DX", "P388/0"])
def test_published_chou_talalay_example_is_reproduced(name) -> None:
    cell = DATA["cells"][name]
    pub = cell["ci"]
    res = mp.combination.score(_checkerboard(cell), models=(), levels=pub["levels"])
    ci = res.ci
    assert float(ci.dm_a[0]) == pytest.approx(cell["dx"]["ic50"], rel=1e-9)
    assert float(ci.m_b[0]) == pytest.approx(cell["naa"]["m"], rel=1e-9)
    assert float(ci.m_combo[0]) == pytest.approx(cell["combination"]["m"], rel=1e-9)
    assert float(ci.dri_a[0, 0]) == pytest.approx(cell["dx"]["dri_ic50"], rel=0.06)
    assert float(ci.dri_b[0, 0]) == pytest.approx(cell["naa"]["dri_ic50"], rel=0.06)
    if name == "P388/DX":
        np.testing.assert_allclose(ci.ci[0], pub["value"], rtol=0.06)
    else:
        assert np.all(np.abs(ci.ci[0] - np.array(pub["value"])) <= 2 * np.array(pub["se"]))
    assert np.all(ci.ci[0] < 1)  # synergism, as published
