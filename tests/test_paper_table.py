"""The paper-ready table (#14): formatting, one column naming scheme, CSV/Markdown/HTML export,
to_dataframe on KiEstimate and comparison results."""

from __future__ import annotations

import html.parser
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

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
        drc = float(row["Hill slope (drc b = mtor_pharm hill)"])
        prism = float(row["HillSlope (Prism)"].replace("−", "-"))
        assert drc == pytest.approx(res.params["hill"][i], abs=0.006) and prism == -drc
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
    with pytest.raises(ValueError, match=r"\.csv, \.tsv, \.md or \.html"):
        mp.write_table(table, tmp_path / "t.xlsx")


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
