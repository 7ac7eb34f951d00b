"""The bundled SIMULATED datasets: labelled, reproducible from their script, and analysable end to end.

The expected values are the parameters the generator used (read from the sidecar
``example_assays.json``), not numbers produced by the code under test.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

import mtor_pharm as mp
from mtor_pharm import assays
from mtor_pharm.errors import MtorPharmWarning

ROOT = Path(__file__).resolve().parents[2]
DATA_FILES = [
    "example_kinase.csv",
    "example_western.csv",
    "example_mtt_layout.toml",
    "example_mtt_plate.csv",
    "example_mtt_t0_layout.csv",
    "example_mtt_t0.csv",
]


@pytest.fixture(scope="module")
def truth():
    return json.loads(assays.example_file("example_assays.json").read_text(encoding="utf-8"))


def test_every_example_file_says_simulated(truth):
    for name in DATA_FILES:
        first = assays.example_file(name).read_text(encoding="utf-8").splitlines()[0]
        assert "SIMULATED" in first, name
    assert truth["simulated"] is True
    for name in ("kinase", "western", "mtt", "mtt_t0"):
        assert assays.load_example(name).attrs["simulated"] is True  # type: ignore[arg-type]


def test_example_files_are_reproduced_by_their_script(tmp_path):
    script = ROOT / "scripts" / "make_assay_examples.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    for name in [*DATA_FILES, "example_assays.json"]:
        shipped = assays.example_file(name).read_text(encoding="utf-8")
        assert (tmp_path / name).read_text(encoding="utf-8") == shipped, name


def test_unknown_example_names_are_rejected():
    with pytest.raises(ValueError, match="`name` must be one of"):
        assays.example_file("secret.csv")
    with pytest.raises(ValueError, match="`name` must be 'kinase'"):
        assays.load_example("elisa")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- kinase
def test_kinase_example_end_to_end_recovers_ki(truth):
    t = truth["kinase"]
    kin = assays.load_example("kinase")
    no_inh = kin.loc[kin.role == "no_inhibitor", "signal"].to_numpy()
    bg = kin.loc[kin.role == "background", "signal"].to_numpy()
    s = kin[kin.role == "sample"].sort_values(["compound", "replicate", "conc"])
    act = assays.percent_activity(s["signal"].to_numpy(), no_inhibitor=no_inh, background=bg)
    compounds = list(pd.unique(s["compound"]))
    conc = s["conc"].to_numpy().reshape(len(compounds), -1)
    y = act.value.reshape(len(compounds), -1)
    enzyme = f"{t['enzyme_nM']} nM"
    atp, km = f"{t['atp_uM']} uM", f"{t['km_atp_uM']} uM"
    mor = assays.fit_morrison(mp.Q_(conc, "nM"), y, enzyme=enzyme, substrate=atp, km=km)
    for i, c in enumerate(compounds):
        true_ki = t["compounds"][c]["ki_nM"]
        ki, se = float(mor.ki.magnitude[i]), float(mor.stderr.magnitude[i])
        assert abs(ki - true_ki) < max(4 * se, 0.05 * true_ki), c
    res = mp.fit(mp.Q_(conc, "nM"), y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cp = assays.ki_from_fit(res, substrate=atp, km=km, enzyme=enzyme)
    assert [w.category for w in caught] == [MtorPharmWarning]  # only the tight binder is flagged
    weak = compounds.index("SIM-TORKi-B")
    assert float(cp.ki.magnitude[weak]) == pytest.approx(t["compounds"]["SIM-TORKi-B"]["ki_nM"],
                                                         rel=0.1)


# ----------------------------------------------------------------------------- MTT
def _mtt(truth):
    plate = assays.load_example("mtt")
    t0 = assays.load_example("mtt_t0")
    for tab in (plate, t0):
        tab["od"] = assays.mtt_absorbance(tab["A570"], tab["A650"])
    blank = plate.loc[plate.role == "blank", "od"].to_numpy()
    vehicle = plate.loc[plate.role == "vehicle", "od"].to_numpy()
    s = plate[plate.role == "sample"].sort_values(["compound", "replicate", "conc"])
    compounds = list(pd.unique(s["compound"]))
    conc = mp.Q_(s["conc"].to_numpy().reshape(len(compounds), -1), "uM")
    x = assays.subtract_blank(s["od"].to_numpy(), blank).value
    xc = assays.subtract_blank(vehicle, blank).value
    x0 = assays.subtract_blank(t0.loc[t0.role == "vehicle", "od"].to_numpy(),
                               t0.loc[t0.role == "blank", "od"].to_numpy()).value
    return plate, compounds, conc, x, x0, xc


def test_mtt_example_plate_passes_qc(truth):
    plate, *_ = _mtt(truth)
    qc = assays.qc_plates(plate, signal="od")
    assert qc[truth["mtt"]["plate"]].passed
    assert plate.attrs["n_missing"] == {"A570": 0, "A650": 0}


def test_mtt_example_gr_metrics_recover_the_simulated_parameters(truth):
    _, compounds, conc, x, x0, xc = _mtt(truth)
    gr = assays.gr_values(x, t0=x0, control=xc)
    m = assays.gr_metrics(conc, gr.value.reshape(len(compounds), -1))
    for i, c in enumerate(compounds):
        p = truth["mtt"]["compounds"][c]
        assert float(m.grinf[i]) == pytest.approx(p["grinf"], abs=0.08), c
        assert float(m.gec50.magnitude[i]) == pytest.approx(p["gec50_uM"], rel=0.3), c
        assert float(m.hgr[i]) == pytest.approx(p["hgr"], rel=0.3), c
        if p["grinf"] < 0:
            gr0 = p["gec50_uM"] * (-1 / p["grinf"]) ** (1 / p["hgr"])
            assert float(m.gr0.magnitude[i]) == pytest.approx(gr0, rel=0.2), c
        else:
            assert math.isinf(float(m.gr0.magnitude[i])), c
        if p["grinf"] < 0.5:
            gr50 = p["gec50_uM"] * ((1 - p["grinf"]) / (0.5 - p["grinf"]) - 1) ** (1 / p["hgr"])
            assert float(m.gr50.magnitude[i]) == pytest.approx(gr50, rel=0.2), c
        else:
            assert math.isinf(float(m.gr50.magnitude[i])), c


def test_mtt_example_gi50_recovers_the_simulated_value(truth):
    _, compounds, conc, x, x0, xc = _mtt(truth)
    g = assays.growth_percent(x, t0=x0, control=xc)
    nci = assays.nci60_metrics(conc, g.value.reshape(len(compounds), -1))
    n = truth["mtt"]["doublings"]
    for i, c in enumerate(compounds):
        p = truth["mtt"]["compounds"][c]
        # GI50: cells halfway between x0 and the control, x/x0 = (1 + 2^n)/2 = (1 + GR)^n
        gr = ((1 + 2**n) / 2) ** (1 / n) - 1
        gi50 = p["gec50_uM"] * ((1 - p["grinf"]) / (gr - p["grinf"]) - 1) ** (1 / p["hgr"])
        assert float(nci.gi50.magnitude[i]) == pytest.approx(gi50, rel=0.25), c


# ----------------------------------------------------------------------------- Western
def test_western_example_end_to_end_recovers_torki_ic50s(truth):
    wb = assays.load_example("western")
    lanes = wb.drop_duplicates(["blot", "lane"]).set_index(["blot", "lane"])
    inten = wb.pivot(index=["blot", "lane"], columns="target", values="intensity")
    bg = wb.pivot(index=["blot", "lane"], columns="target", values="background")
    n_blots, n_lanes = inten.index.levshape
    conc = lanes["conc"].to_numpy().reshape(n_blots, n_lanes)
    compound = lanes["compound"].to_numpy().reshape(n_blots, n_lanes)[:, 0]
    spec = truth["western"]["compounds"]["SIM-TORKi"]
    for phospho, info in truth["western"]["targets"].items():
        total = info["total"]
        ratio = assays.phospho_ratio(inten[phospho], inten[total], background=bg[phospho],
                                     total_background=bg[total]).reshape(n_blots, n_lanes)
        fold = assays.fold_change(ratio, ratio[:, :1])
        sel = compound == "SIM-TORKi"
        res = mp.fit(mp.Q_(conc[sel][:, 1:7].ravel(), "nM"), fold.value[sel][:, 1:7].ravel(),
                     fixed={"top": 1.0})
        assert float(res.ic50.magnitude) == pytest.approx(spec[phospho]["ic50_nM"], rel=0.35)
        assert float(res.params["bottom"]) == pytest.approx(spec[phospho]["bottom"], abs=0.1)
