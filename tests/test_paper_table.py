"""The paper-ready table (#14): formatting, one column naming scheme, CSV/Markdown/HTML export,
to_dataframe on KiEstimate and comparison results."""

from __future__ import annotations

import html.parser
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mtor_pharm as mp
from mtor_pharm import assays
from mtor_pharm import compare as cmp
from mtor_pharm._tables import _sig

CONC = mp.Q_(1000.0 / 3.0 ** np.arange(8), "nM")


def _res() -> mp.FitResult:
    rng = np.random.default_rng(4)
    y = mp.models.four_pl(CONC.magnitude, 5.0, 100.0, np.array([[20.0], [3.0]]), 1.0) + rng.normal(0, 2, (2, 8))
    return mp.fit(CONC, y).with_labels(["sapanisertib", "Torin1"], names="compound")


@pytest.mark.parametrize(
    ("value", "text"),
    [(137.93, "138"), (3.1749, "3.17"), (0.00012345, "0.000123"), (20.94, "20.9"), (-0.0712, "−0.0712"),
     (float("inf"), "∞"), (float("nan"), "n.d."), (1.0, "1.00")],
)
def test_significant_figures_are_plain_decimals(value: float, text: str) -> None:
    assert _sig(value, 3) == text


def test_paper_table_columns_agree_with_the_fit() -> None:
    res = _res()
    table = mp.paper_table(res, unit="uM", response_unit="%")
    assert list(table.index) == ["sapanisertib", "Torin1"] and table.index.name == "compound"
    low, high = res.ci("ic50")
    for i, name in enumerate(res.labels or ()):
        row = table.loc[name]
        ic, lo, hi = (float(v) for v in row["IC50 [uM] (95% CI)"].replace("(", "").replace(")", "")
                      .replace("–", " ").split())
        assert ic == pytest.approx(res.ic50.magnitude[i] / 1000, rel=5e-3)
        assert lo == pytest.approx(low.magnitude[i] / 1000, rel=5e-3)
        assert hi == pytest.approx(high.magnitude[i] / 1000, rel=5e-3)
        log_m = math.log10(res.ic50.magnitude[i] * 1e-9)  # nM -> M, closed form
        lg, se = row["logIC50 ± SE"].replace("−", "-").split(" ± ")
        assert float(lg) == pytest.approx(log_m, abs=0.006)
        assert float(se) == pytest.approx(res.stderr["ic50"][i] / res.ic50.magnitude[i] / math.log(10), rel=0.05)
        assert float(row["pIC50"]) == pytest.approx(-log_m, abs=0.006)
        drc, drc_se = (float(v) for v in row["Hill slope (drc b = mtor_pharm hill)"].split(" ± "))
        prism, prism_se = (float(v.replace("−", "-")) for v in row["HillSlope (Prism)"].split(" ± "))
        assert drc == pytest.approx(res.params["hill"][i], abs=0.006) and prism == -drc
        assert drc_se == pytest.approx(res.stderr["hill"][i], abs=0.006) and prism_se == drc_se
        assert float(row["R²"]) == pytest.approx(res.r_squared[i], abs=5e-4)
        assert row["n"] == 8 and row["Status"] == "OK"
    assert "Top [%]" in table.columns and "notes" in table.attrs


def test_paper_table_says_ambiguous_and_not_determined_in_words() -> None:
    x = np.repeat(1000.0 / 3.0 ** np.arange(8), 3)
    y = mp.models.four_pl(x, 5.0, 100.0, 20.0, 1.0) + np.random.default_rng(1).normal(0, 4, x.size)
    y[0] = 115.0
    flat = np.full(x.size, 100.0) + np.random.default_rng(2).normal(0, 3, x.size)
    res = mp.fit(mp.Q_(x, "nM"), np.stack([y, flat])).with_labels(["bad well", "inactive"])
    table = mp.paper_table(res)
    assert "ambiguous" in table.loc["bad well", "Status"]
    assert "no response" in table.loc["inactive", "Status"]
    assert table.loc["inactive", "IC50 [nM] (95% CI)"] == "n.d."


def test_one_column_naming_scheme_across_table_functions_and_cli(tmp_path: Path) -> None:
    res = _res()
    full = res.to_dataframe(unit="nM")
    summary = mp.summary_table(res, unit="nM")
    assert set(summary.columns) <= set(full.columns)
    assert {"ic50 [nM]", "ic50_ci_low [nM]", "ic50_ci_high [nM]", "r_squared", "status_name"} <= set(summary.columns)
    rows = [{"compound": c, "conc": x, "v": v} for c, curve in zip(["A", "B"], [[99, 90, 70, 40, 15, 5, 3, 2]] * 2,
                                                                  strict=True)
            for x, v in zip(CONC.magnitude[::-1], curve, strict=True)]
    pd.DataFrame(rows).to_csv(tmp_path / "d.csv", index=False)
    from mtor_pharm.__main__ import main

    assert main(["fit", str(tmp_path / "d.csv"), "--conc-col", "conc", "--response-col", "v", "--group-cols",
                 "compound", "--conc-unit", "nM", "--out", str(tmp_path / "o.csv")]) == 0
    cli = pd.read_csv(tmp_path / "o.csv", index_col=0)
    assert set(cli.columns) <= set(full.columns)


class _Cells(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.cells.append(data.strip())


def test_write_table_exports_csv_markdown_and_html(tmp_path: Path) -> None:
    table = mp.paper_table(_res(), unit="nM")
    csv = pd.read_csv(mp.write_table(table, tmp_path / "t.csv"), index_col=0)
    assert list(csv.index) == ["sapanisertib", "Torin1"]
    assert csv["IC50 [nM] (95% CI)"].tolist() == table["IC50 [nM] (95% CI)"].tolist()
    md = mp.write_table(table, tmp_path / "t.md").read_text(encoding="utf-8").splitlines()
    assert md[0].startswith("| compound | IC50 [nM] (95% CI) |") and md[1].startswith("|---|")
    assert len(md) == 4 and md[2].startswith("| sapanisertib |")
    parser = _Cells()
    parser.feed(mp.write_table(table, tmp_path / "t.html").read_text(encoding="utf-8"))
    assert "Torin1" in parser.cells and table.loc["Torin1", "IC50 [nM] (95% CI)"] in parser.cells
    with pytest.raises(ValueError, match=r"\.csv, \.tsv, \.md, \.html or \.xlsx"):
        mp.write_table(table, tmp_path / "t.ods")


def test_ki_estimate_and_ratio_have_tables() -> None:
    res = _res()
    ki = assays.ki_from_fit(res, substrate="10 uM", km="5 uM").to_dataframe(unit="nM")
    assert list(ki.index) == ["sapanisertib", "Torin1"]
    np.testing.assert_allclose(ki["ki [nM]"], res.ic50.magnitude / 3.0, rtol=1e-12)  # 1 + [S]/Km = 3
    ratio = cmp.potency_ratio("sapanisertib", "Torin1", fit=res)
    df = ratio.to_dataframe()
    assert df["ratio"].iloc[0] == pytest.approx(res.ic50.magnitude[0] / res.ic50.magnitude[1])
    low, high = ratio.ci()
    assert (df["ratio_ci_low"].iloc[0], df["ratio_ci_high"].iloc[0]) == (float(low), float(high))


def test_tight_binding_warning_names_the_compound() -> None:
    conc = mp.Q_(np.geomspace(0.01, 100, 9), "nM")
    y = mp.models.four_pl(conc.magnitude, 0.0, 100.0, np.array([[0.5], [50.0]]), 1.0)
    res = mp.fit(conc, y).with_labels(["Torin1", "rapamycin"])
    with pytest.warns(mp.errors.MtorPharmWarning, match="for Torin1 "):
        assays.ki_from_fit(res, substrate="10 uM", km="5 uM", enzyme="2 nM")


# ----------------------------------------------------------------------------- every family (#13)
def _num(text: str) -> float:
    return float(text.replace("−", "-"))


def _ci_cell(text: str) -> tuple[float, float, float]:
    """``"v (lo–hi)"`` as three numbers."""
    v, rest = text.split(" (")
    lo, hi = rest.rstrip(")").split("–")
    return _num(v), _num(lo), _num(hi)


def _se_cell(text: str) -> tuple[float, float, float]:
    """``"v ± se"`` as (v, se, half a unit of the last decimal shown)."""
    v, se = text.split(" ± ")
    decimals = len(se.split(".")[1]) if "." in se else 0
    return _num(v), _num(se), 0.5 * 10.0**-decimals + 1e-12


def _check_se_cell(text: str, value: float, se: float) -> None:
    v, s, half = _se_cell(text)
    assert v == pytest.approx(value, abs=half) and s == pytest.approx(se, abs=half)
    assert s >= 10 * (2 * half) - 1e-9  # the SE is shown to two significant figures (or more)


def _check_ci_cell(text: str, value: float, low: float, high: float, sig: int = 3) -> None:
    for shown, exact in zip(_ci_cell(text), (value, low, high), strict=True):
        assert shown == pytest.approx(exact, rel=0.5 * 10.0 ** (1 - sig))


def test_paper_table_of_a_5pl_agrees_with_closed_forms_on_the_fits_own_estimates_and_covariance() -> None:
    conc = np.geomspace(0.001, 30, 12)  # uM
    rng = np.random.default_rng(3)
    truth = dict(bottom=8.0, top=100.0, xmid=0.2, hill=1.3, s=0.5)
    y = mp.models.five_pl(conc, **truth) + rng.normal(0, 1.5, (2, conc.size))
    res = mp.fit(conc, y, conc_unit="uM", model="5pl").with_labels(["A", "B"], names="compound")
    assert np.all(res.status == 0)
    table = mp.paper_table(res, unit="nM", response_unit="%")
    assert list(table.columns) == [
        "IC50 [nM] (95% CI)", "logIC50 ± SE", "pIC50", "Bottom [%]", "Top [%]", "xmid [nM] (95% CI)",
        "Hill slope (drc b = mtor_pharm hill)", "HillSlope (Prism)", "s (95% CI)", "R²", "n", "Status",
    ]
    names = list(res.param_names)
    for i, label in enumerate(["A", "B"]):
        row = table.loc[label]
        p = {k: float(res.params[k][i]) for k in names}
        C = np.asarray(res.covariance[i])
        t = stats.t.ppf(0.975, int(res.dof[i]))
        # relative IC50 of S = (1 + e^z)^-s, z = hill ln(x/xmid): S = 1/2 at z = ln(2^(1/s) - 1)
        z = math.log(2.0 ** (1.0 / p["s"]) - 1.0)
        ln_ic50 = math.log(p["xmid"]) + z / p["hill"]
        # delta method on (ln xmid, hill, ln s): the covariance of the fit moved to that scale
        dz_dlns = -(2.0 ** (1.0 / p["s"])) * math.log(2.0) / p["s"] / (2.0 ** (1.0 / p["s"]) - 1.0)
        g = np.zeros(5)
        g[names.index("xmid")] = 1.0 / p["xmid"]  # d ln IC50 / d xmid
        g[names.index("hill")] = -z / p["hill"] ** 2
        g[names.index("s")] = dz_dlns / p["hill"] / p["s"]  # d/ds = (d/d ln s) / s
        se_ln = math.sqrt(g @ C @ g)
        ic50_nm = math.exp(ln_ic50) * 1000.0
        _check_ci_cell(row["IC50 [nM] (95% CI)"], ic50_nm, ic50_nm * math.exp(-t * se_ln),
                       ic50_nm * math.exp(t * se_ln))
        _check_se_cell(row["logIC50 ± SE"], math.log10(ic50_nm * 1e-9), se_ln / math.log(10.0))
        assert _num(row["pIC50"]) == pytest.approx(-math.log10(ic50_nm * 1e-9), abs=0.005)
        for name in ("xmid", "s"):  # log-scale Wald intervals
            j = names.index(name)
            se_log = math.sqrt(C[j, j]) / p[name]
            scale = 1000.0 if name == "xmid" else 1.0
            header = "xmid [nM] (95% CI)" if name == "xmid" else "s (95% CI)"
            _check_ci_cell(row[header], p[name] * scale, p[name] * scale * math.exp(-t * se_log),
                           p[name] * scale * math.exp(t * se_log))
        for name, header, sign in (("bottom", "Bottom [%]", 1), ("top", "Top [%]", 1),
                                   ("hill", "Hill slope (drc b = mtor_pharm hill)", 1),
                                   ("hill", "HillSlope (Prism)", -1)):
            j = names.index(name)
            _check_se_cell(row[header], sign * p[name], math.sqrt(C[j, j]))
        assert row["n"] == 12 and row["Status"] == "OK"


def _prism_biphasic(x: np.ndarray | float, p: dict[str, float]) -> np.ndarray:
    s1 = p["frac"] / (1.0 + (np.asarray(x) / p["ic50_1"]) ** p["hill_1"])
    s2 = (1.0 - p["frac"]) / (1.0 + (np.asarray(x) / p["ic50_2"]) ** p["hill_2"])
    return np.asarray(p["bottom"] + (p["top"] - p["bottom"]) * (s1 + s2))


def _biphasic_ln_ic50(p: dict[str, float]) -> float:
    """ln of the concentration half-way between the plateaus, by Brent's method on the formula."""
    from scipy.optimize import brentq

    half = 0.5 * (p["top"] + p["bottom"])
    return float(brentq(lambda lx: float(_prism_biphasic(math.exp(lx), p)) - half, -40.0, 40.0, xtol=1e-14))


def test_paper_table_of_a_biphasic_dual_inhibitor_agrees_with_its_estimates_and_covariance() -> None:
    conc = np.tile(10000.0 / 3.0 ** np.arange(12), 3)  # nM, three replicate plates pooled
    truth = dict(bottom=5.0, top=100.0, ic50_1=4.0, hill_1=1.2, ic50_2=800.0, hill_2=1.0, frac=0.45)
    rng = np.random.default_rng(1)
    y = _prism_biphasic(conc, truth) + rng.normal(0, 2.5, (2, conc.size))
    res = mp.fit(mp.Q_(conc, "nM"), y, model="biphasic")
    assert np.all(res.status == 0)
    table = mp.paper_table(res, unit="uM", sig=4)
    assert list(table.columns) == [
        "IC50 [uM] (95% CI)", "logIC50 ± SE", "pIC50", "Bottom", "Top", "ic50_1 [uM] (95% CI)",
        "Hill slope 1 (drc b = mtor_pharm hill_1)", "HillSlope 1 (Prism)", "ic50_2 [uM] (95% CI)",
        "Hill slope 2 (drc b = mtor_pharm hill_2)", "HillSlope 2 (Prism)", "frac", "R²", "n", "Status",
    ]
    names = list(res.param_names)
    conc_names = ("ic50_1", "ic50_2")
    for i in range(2):
        row = table.iloc[i]
        p = {k: float(res.params[k][i]) for k in names}
        C = np.asarray(res.covariance[i])
        t = stats.t.ppf(0.975, int(res.dof[i]))
        # IC50: root of the formula; its delta-method SE from a central-difference gradient on
        # the reported parameters and the fit's covariance
        ln_ic50 = _biphasic_ln_ic50(p)
        g = np.zeros(len(names))
        for j, name in enumerate(names):
            h = 1e-6 * max(abs(p[name]), 1e-3)
            up, dn = dict(p), dict(p)
            up[name] += h
            dn[name] -= h
            g[j] = (_biphasic_ln_ic50(up) - _biphasic_ln_ic50(dn)) / (2 * h)
        se_ln = math.sqrt(g @ C @ g)
        ic50_um = math.exp(ln_ic50) / 1000.0
        _check_ci_cell(row["IC50 [uM] (95% CI)"], ic50_um, ic50_um * math.exp(-t * se_ln),
                       ic50_um * math.exp(t * se_ln), sig=4)
        _check_se_cell(row["logIC50 ± SE"], math.log10(ic50_um * 1e-6), se_ln / math.log(10.0))
        for name in conc_names:
            j = names.index(name)
            se_log = math.sqrt(C[j, j]) / p[name]
            v = p[name] / 1000.0
            _check_ci_cell(row[f"{name} [uM] (95% CI)"], v, v * math.exp(-t * se_log), v * math.exp(t * se_log), sig=4)
            assert 1e-3 < v < 10.0  # the sites are where the data put them, in uM
        for name, header, sign in (("bottom", "Bottom", 1), ("top", "Top", 1), ("frac", "frac", 1),
                                   ("hill_1", "Hill slope 1 (drc b = mtor_pharm hill_1)", 1),
                                   ("hill_1", "HillSlope 1 (Prism)", -1),
                                   ("hill_2", "Hill slope 2 (drc b = mtor_pharm hill_2)", 1)):
            j = names.index(name)
            _check_se_cell(row[header], sign * p[name], math.sqrt(C[j, j]))
        assert row["n"] == 36 and row["Status"] == "OK"
    assert table.attrs["model"] == "biphasic" and "derived" in table.attrs["notes"]


def test_paper_table_of_other_families_says_fixed_and_not_determined() -> None:
    conc = mp.Q_(np.geomspace(0.001, 30, 10), "uM")
    rng = np.random.default_rng(5)
    rise = mp.models.MODELS["crs4"](conc.magnitude, top=100.0, xmid=0.5, hill=1.5, f=-20.0)
    flat = 100.0 + rng.normal(0, 3, 10)
    res = mp.fit(conc, np.stack([rise + rng.normal(0, 2, 10), flat]), model="crs4").with_labels(["rapalog", "none"])
    table = mp.paper_table(res)
    assert table.loc["rapalog", "Bottom"] == "0 (fixed)" and table.loc["none", "Bottom"] == "0 (fixed)"
    assert "f" in table.columns and "xmid [uM] (95% CI)" in table.columns
    assert res.status[1] & mp.FitStatus.FLAT_RESPONSE
    assert table.loc["none", "Status"] == mp.status_words(int(res.status[1]))
    assert table.loc["none", "IC50 [uM] (95% CI)"] == "n.d." and table.loc["none", "xmid [uM] (95% CI)"] == "n.d."


def test_paper_table_renders_runaway_estimates_with_an_exponent() -> None:
    assert _sig(6.9613879e25, 3) == "6.96e+25" and _sig(-6.31e-300, 3) == "−6.31e−300"


@pytest.mark.parametrize("model", ["biphasic", "5pl"])
def test_summary_table_of_other_families_keeps_their_concentration_parameters_with_the_unit(model: str) -> None:
    conc = np.tile(10000.0 / 3.0 ** np.arange(12), 3)  # nM
    truth = dict(bottom=5.0, top=100.0, ic50_1=4.0, hill_1=1.2, ic50_2=800.0, hill_2=1.0, frac=0.45)
    y = _prism_biphasic(conc, truth) + np.random.default_rng(2).normal(0, 2.0, (2, conc.size))
    res = mp.fit(mp.Q_(conc, "nM"), y, model=model)
    table = mp.summary_table(res, unit="uM")
    full = res.to_dataframe(unit="uM")
    assert set(table.columns) <= set(full.columns)
    for name in res.family.conc_params:  # every concentration parameter, in uM (fit in nM)
        np.testing.assert_allclose(table[f"{name} [uM]"], np.asarray(res.params[name]) / 1000.0, rtol=1e-12)
        np.testing.assert_allclose(table[f"{name}_stderr [uM]"], np.asarray(res.stderr[name]) / 1000.0, rtol=1e-12)
    others = [p for p in res.param_names if p not in res.family.conc_params]
    assert all(p in table.columns and f"{p}_stderr" in table.columns for p in others)


def test_fixed_hill_shows_prism_hillslope_too() -> None:
    """Prism's standard slope (HillSlope fixed at -1) is where a Prism user looks for the HillSlope
    row; it was dropped when the hill was fixed."""
    x = mp.Q_([1, 3, 10, 30, 100, 300, 1000.0], "nM")
    table = mp.paper_table(mp.fit(x, [98, 94, 80, 52, 25, 10, 4], fixed={"hill": 1}))
    assert table.loc[0, "Hill slope (drc b = mtor_pharm hill)"] == "1.00 (fixed)"
    assert table.loc[0, "HillSlope (Prism)"] == "−1.00 (fixed)"
