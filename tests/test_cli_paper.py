"""The command line grows with the API (#14, #17): file formats, options, comparison, figures, report; no traceback."""

from __future__ import annotations

import base64
import html.parser
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mtor_pharm as mp
from mtor_pharm.__main__ import main

TRUTH = {"sapanisertib": 20.0, "Torin1": 3.0}


def _df() -> pd.DataFrame:
    x = np.repeat(1000.0 / 3.0 ** np.arange(8), 3)
    rng = np.random.default_rng(0)
    rows = []
    for name, ic in TRUTH.items():
        y = mp.models.four_pl(x, 5.0, 100.0, ic, 1.0) + rng.normal(0, 2, x.size)
        rows += [{"well": f"{name[0]}{i}", "compound": name, "conc": c, "viability": v}
                 for i, (c, v) in enumerate(zip(x, y, strict=True))]
    return pd.DataFrame(rows)


def _fit(path: Path, *extra: str) -> list[str]:
    return ["fit", str(path), "--conc-col", "conc", "--response-col", "viability", *extra]


def _ok(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _fails(args: list[str], capsys: pytest.CaptureFixture[str], match: str) -> str:
    code = main(args)
    _, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in err and match in err, err
    return err


def _ic50s(out: str) -> dict[str, float]:
    vals = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] in TRUTH:
            vals[parts[0]] = float(parts[1])
    return vals


def test_one_curve_file_without_group_cols_issue_14(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    df = _df()
    df[df.compound == "Torin1"][["conc", "viability"]].to_csv(tmp_path / "one.csv", index=False)
    out = _ok(_fit(tmp_path / "one.csv", "--conc-unit", "nM"), capsys)
    assert "ic50 [nM]" in out and "OK" in out


@pytest.mark.parametrize(("name", "kwargs"), [("semi.csv", {"sep": ";", "decimal": ","}), ("tab.tsv", {"sep": "\t"}),
                                              ("pipe.txt", {"sep": "|"})])
def test_delimiters_and_decimal_commas_are_sniffed(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
                                                   kwargs: dict[str, str]) -> None:
    _df().to_csv(tmp_path / name, index=False, **kwargs)
    _df().to_csv(tmp_path / "plain.csv", index=False)
    got = _ic50s(_ok(_fit(tmp_path / name, "--group-cols", "compound", "--conc-unit", "nM"), capsys))
    ref = _ic50s(_ok(_fit(tmp_path / "plain.csv", "--group-cols", "compound", "--conc-unit", "nM"), capsys))
    assert got.keys() == TRUTH.keys() and got == pytest.approx(ref, rel=1e-6)


def test_excel_sheets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pd.ExcelWriter(tmp_path / "b.xlsx") as writer:
        pd.DataFrame({"note": ["cover"]}).to_excel(writer, sheet_name="cover", index=False)
        _df().to_excel(writer, sheet_name="raw", index=False)
    out = _ok(_fit(tmp_path / "b.xlsx", "--sheet", "raw", "--group-cols", "compound", "--conc-unit", "nM"), capsys)
    assert set(_ic50s(out)) == set(TRUTH)
    _fails(_fit(tmp_path / "b.xlsx", "--sheet", "Raw data", "--conc-unit", "nM"), capsys, "has sheets")
    _fails(_fit(tmp_path / "b.xlsx", "--conc-unit", "nM"), capsys, "'conc' is not a column")  # first sheet


@pytest.mark.parametrize(
    ("extra", "match"),
    [(["--conc-unit", "mg"], "concentration"), (["--conc-unit", "uM; x"], "must be a unit such as"),
     (["--conc-unit", "nM", "--unit", "mg"], "--unit"), (["--conc-unit", "um"], "Did you mean 'uM'"),
     (["--conc-unit", "nM", "--group-cols", "compund"], "Did you mean 'compound'"),
     (["--conc-unit", "nM", "--fixed", "top"], "NAME=VALUE"), (["--conc-unit", "nM", "--fixed", "top=x"], "number"),
     (["--conc-unit", "nM", "--model", "varible slope"], "Did you mean"),
     (["--conc-unit", "nM", "--exclude", "Z9"], "not a well"),
     (["--conc-unit", "nM", "--group-cols", "compound", "--compare", "sapanisertib", "torin"], "Did you mean"),
     (["--conc-unit", "nM", "--compare", "a", "b"], "--group-cols"),
     (["--conc-unit", "nM", "--out", "x.xls"], ".xlsx"), (["--conc-unit", "ug/mL"], "mass_to_molar")],
)
def test_bad_options_name_themselves_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       extra: list[str], match: str) -> None:
    _df().to_csv(tmp_path / "d.csv", index=False)
    err = _fails(_fit(tmp_path / "d.csv", *extra), capsys, match)
    # only options the command has: never the Python keyword arguments of the library
    assert "conc_unit=" not in err and "inhibitor=" not in err and "molecular_weight=" not in err


def test_folder_empty_and_header_only_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails(_fit(tmp_path, "--conc-unit", "nM"), capsys, "is a folder")
    (tmp_path / "e.csv").write_text("")
    _fails(_fit(tmp_path / "e.csv", "--conc-unit", "nM"), capsys, "empty")
    (tmp_path / "h.csv").write_text("conc,viability\n")
    _fails(_fit(tmp_path / "h.csv", "--conc-unit", "nM"), capsys, "no rows")


def test_decimal_comma_hint_when_not_sniffed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "c.csv").write_text('conc,viability\n"1,5",90\n"10,5",50\n')
    _fails(_fit(tmp_path / "c.csv", "--conc-unit", "nM"), capsys, "--decimal")


def test_exclude_fixed_alias_and_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    df = _df()
    df.loc[0, "viability"] = 300.0  # a bad well, s0
    df.to_csv(tmp_path / "d.csv", index=False)
    out = _ok(_fit(tmp_path / "d.csv", "--group-cols", "compound", "--conc-unit", "nM", "--exclude", "s0",
                   "--fixed", "bottom=5", "--model", "variable slope", "--compare", "sapanisertib", "Torin1",
                   "--out", str(tmp_path / "o.csv")), capsys)
    table = pd.read_csv(tmp_path / "o.csv", index_col=0)
    assert table.loc["sapanisertib", "n"] == 23 and (table["bottom"] == 5.0).all()
    clean = mp.fit_table(df.drop(index=0), conc="conc", response="viability", by="compound", conc_unit="nM",
                         fixed={"bottom": 5.0})[0]
    assert table.loc["sapanisertib", "ic50 [nM]"] == pytest.approx(float(clean["sapanisertib"].ic50.magnitude),
                                                                    rel=1e-9)
    assert "F test of one shared IC50" in out and ("p = " in out or "p < 0.0001" in out)


class _Images(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.srcs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.srcs.append(dict(attrs)["src"] or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_plot_dir_and_self_contained_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _df().to_csv(tmp_path / "d.csv", index=False)
    _ok(_fit(tmp_path / "d.csv", "--group-cols", "compound", "--conc-unit", "nM", "--plot", str(tmp_path / "figs"),
             "--report", str(tmp_path / "r.html")), capsys)
    pngs = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert pngs == ["Torin1.png", "overview.png", "sapanisertib.png"]
    parser = _Images()
    parser.feed((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert len(parser.srcs) == 3
    for src in parser.srcs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    text = " ".join(parser.text)
    assert "IC50 [nM] (95% CI)" in text and "Fit statuses" in text and "sapanisertib" in text
    assert "http" not in "".join(parser.srcs)  # nothing fetched from outside


def test_no_traceback_in_a_real_process_for_a_one_curve_file(tmp_path: Path) -> None:
    (tmp_path / "one.csv").write_text("conc,viability\n1,90\n10,60\n100,20\n1000,5\n3,80\n")
    run = subprocess.run([sys.executable, "-m", "mtor_pharm", "fit", str(tmp_path / "one.csv"), "--conc-col", "conc",
                          "--response-col", "viability", "--conc-unit", "mg"], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 2 and "Traceback" not in run.stderr and "concentration" in run.stderr


def test_plate_command_fits_the_layout_and_export_with_plate_qc_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mtor_pharm import assays

    layout = str(assays.example_file("example_mtt_layout.toml"))
    export = str(assays.example_file("example_mtt_plate.csv"))
    out = _ok(["plate", layout, export, "--signal", "A570", "--reference", "A650", "--exclude", "B5",
               "--unit", "nM", "--out", str(tmp_path / "t.csv"), "--report", str(tmp_path / "r.html")], capsys)
    assert "SIM-TORKi" in out
    table = pd.read_csv(tmp_path / "t.csv", index_col=0)
    plate = assays.tidy_plate(assays.read_layout(layout), assays.read_plate_export(export))
    res = assays.fit_plate(plate, signal="A570", reference="A650", exclude=["B5"])
    assert table.loc["SIM-TORKi", "ic50 [nM]"] == pytest.approx(float(res["SIM-TORKi"].ic50.to("nM").magnitude))
    parser = _Images()
    parser.feed((tmp_path / "r.html").read_text(encoding="utf-8"))
    text = " ".join(parser.text)
    assert "Plate QC" in text and "z_prime" in text and "SIM-MTT-001" in text
    assert len(parser.srcs) == 3 and all(s.startswith("data:image/png;base64,") for s in parser.srcs)
    _fails(["plate", layout, export, "--signal", "A57"], capsys, "Did you mean 'A570'")
    _fails(["plate", layout, str(tmp_path)], capsys, "is a folder")


def test_compare_reads_log10_concentrations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--compare with --conc-log10 compares the same curves as with linear concentrations (it used
    to pass the raw log10 values on and fail on 'negative concentrations')."""
    df = _df()
    df.to_csv(tmp_path / "lin.csv", index=False)
    logged = df.assign(conc=np.log10(df["conc"] * 1e-9))
    logged.to_csv(tmp_path / "log.csv", index=False)
    common = ["--group-cols", "compound", "--compare", "sapanisertib", "Torin1"]
    lin = _ok(_fit(tmp_path / "lin.csv", "--conc-unit", "nM", *common), capsys)
    log = _ok(_fit(tmp_path / "log.csv", "--conc-log10", "--conc-unit", "M", *common), capsys)
    summary = [line for line in lin.splitlines() if "F test" in line or "ratio" in line.lower()]
    assert summary and all(line in log for line in summary), (lin, log)
    direct = mp.compare.compare_potency(logged, "sapanisertib", "Torin1", conc="conc", response="viability",
                                        conc_unit="M", conc_log10=True)
    ref = mp.compare.compare_potency(df, "sapanisertib", "Torin1", conc="conc", response="viability",
                                     conc_unit="nM")
    assert direct.ratio == pytest.approx(ref.ratio, rel=1e-7)
    assert direct.pvalue == pytest.approx(ref.pvalue, rel=1e-6)


def test_library_advice_is_given_as_command_line_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The library words its advice as Python keywords; the command line names its own options."""
    pd.DataFrame({"logM": [-9, -8.5, -8, -7.5, -7, -6.5], "v": [98, 90, 70, 40, 15, 5]}).to_csv(
        tmp_path / "log.csv", index=False
    )
    err = _fails(["fit", str(tmp_path / "log.csv"), "--conc-col", "logM", "--response-col", "v", "--conc-unit", "M"],
                 capsys, "pass --conc-log10 with the unit the log was taken in (e.g. --conc-unit M)")
    assert "conc_log10=True" not in err
    _df().to_csv(tmp_path / "d.csv", index=False)
    err = _fails(_fit(tmp_path / "d.csv", "--conc-unit", "nM", "--model", "standard slope"), capsys,
                 "use --model 4pl")
    assert "--fixed hill=1 for a falling curve" in err and "fixed={" not in err


def test_out_writes_excel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _df().to_csv(tmp_path / "d.csv", index=False)
    _ok(_fit(tmp_path / "d.csv", "--group-cols", "compound", "--conc-unit", "nM", "--out", str(tmp_path / "o.xlsx")),
        capsys)
    table = pd.read_excel(tmp_path / "o.xlsx", index_col=0)
    assert set(table.index) == set(TRUTH) and "ic50 [nM]" in table.columns


def test_compare_holds_the_fixed_parameters_of_the_fit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--fixed applies to the comparison too (it compared free-plateau fits of a table fitted with fixed ones)."""
    df = _df()
    df.to_csv(tmp_path / "d.csv", index=False)
    out = _ok(_fit(tmp_path / "d.csv", "--group-cols", "compound", "--conc-unit", "nM", "--fixed", "bottom=0",
                   "top=100", "--compare", "sapanisertib", "Torin1"), capsys)
    ref = mp.compare.compare_potency(df, "sapanisertib", "Torin1", conc="conc", response="viability",
                                     conc_unit="nM", fixed={"bottom": 0.0, "top": 100.0})
    free = mp.compare.compare_potency(df, "sapanisertib", "Torin1", conc="conc", response="viability", conc_unit="nM")
    assert ref.summary() in out and free.summary() not in out
