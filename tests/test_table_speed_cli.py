"""fit_table's vectorized batch building (same arrays as a per-group loop), errors naming the table's
row and curve, and the command line in batch jobs: --quiet, a summary with --out, --out checked
before fitting, a progress bar only on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mtor_pharm as mp
import mtor_pharm.__main__ as cli
from mtor_pharm import _tables
from mtor_pharm.__main__ import main


# ----------------------------------------------------------------------------- the batch arrays
def _reference(
    df: pd.DataFrame, conc: str, response: str, by: Sequence[str], excluded: str | None
) -> tuple[list[tuple[Any, ...]], np.ndarray, np.ndarray]:
    """The straightforward way: walk the rows, open a curve at each new key, append its points."""
    curves: dict[tuple[Any, ...], list[int]] = {}
    for pos, key in enumerate(df[list(by)].itertuples(index=False, name=None) if by else [()] * len(df)):
        curves.setdefault(tuple(key), []).append(pos)
    m = max(len(rows) for rows in curves.values())
    x = np.full((len(curves), m), np.nan)
    y = np.full((len(curves), m), np.nan)
    for i, rows in enumerate(curves.values()):
        for j, pos in enumerate(rows):
            x[i, j] = float(df[conc].iloc[pos])
            left_out = excluded is not None and bool(df[excluded].iloc[pos])
            y[i, j] = np.nan if left_out else float(df[response].iloc[pos])
    return list(curves), x, y


def _table(rng: np.random.Generator, n: int) -> pd.DataFrame:
    df = pd.DataFrame({
        "compound": rng.choice(["Torin1", "rapamycin", "sapanisertib"], n),
        "cell_line": pd.Categorical(rng.choice(["MCF7", "PC3"], n), categories=["PC3", "MCF7", "unused"]),
        "plate": rng.integers(1, 4, n),
        "day": pd.to_datetime(rng.choice(["2024-01-02", "2024-01-09"], n)),
        "conc": rng.choice([0.0, 0.01, 0.1, 1.0, 10.0], n),
        "response": rng.normal(50, 20, n),
        "excluded": rng.random(n) < 0.15,
    })
    df.index = rng.permutation(n) * 10 + 7  # labels that are not positions
    return df


@pytest.mark.parametrize("by", [[], ["compound"], ["plate"], ["cell_line"], ["day"], ["compound", "cell_line"],
                                ["plate", "compound", "day"]])
@pytest.mark.parametrize("excluded", [None, "excluded"])
def test_batch_arrays_equal_a_per_group_loop(by: list[str], excluded: str | None) -> None:
    rng = np.random.default_rng(len(by) * 7 + (excluded is None))
    for n in (1, 5, 37, 200):  # ragged groups: their sizes differ
        df = _table(rng, n)
        labels, x, y = _tables._batch_from_table(df, "conc", "response", by, excluded)
        ref_labels, ref_x, ref_y = _reference(df, "conc", "response", by, excluded)
        assert labels == ref_labels  # same curves, in order of first appearance, same keys
        assert x.shape == ref_x.shape and np.array_equal(x, ref_x, equal_nan=True)
        assert np.array_equal(y, ref_y, equal_nan=True)
        if by:  # the padding: exactly the places past each curve's points
            sizes = df.groupby(by, sort=False, observed=True).size().to_numpy()
            assert np.array_equal(np.isnan(x).sum(axis=1), x.shape[1] - sizes)


def test_fit_table_labels_and_index_keep_their_types_and_order() -> None:
    rng = np.random.default_rng(5)
    df = _table(rng, 120)
    res, index = mp.fit_table(df, conc="conc", response="response", by=["compound", "cell_line"], conc_unit="uM")
    ref_labels, _, _ = _reference(df, "conc", "response", ["compound", "cell_line"], "excluded")
    assert list(index) == ref_labels and res.labels == tuple(ref_labels)
    assert [type(v) for v in index[0]] == [str, str]
    res1, index1 = mp.fit_table(df, conc="conc", response="response", by="plate", conc_unit="uM")
    assert list(index1) == list(pd.unique(df["plate"]))
    res_day, _ = mp.fit_table(df, conc="conc", response="response", by="day", conc_unit="uM")
    assert all(isinstance(lab, pd.Timestamp) for lab in res_day.labels or ())


@pytest.mark.parametrize("keys", [
    ["a", None, "b", "a"],                                # None
    ["a", "  ", "b", "a"],                                # blank str
    [1.0, np.nan, 2.0, 1.0],                              # NaN number
    pd.Categorical(["a", "", "b", "a"]),                  # empty category
    pd.array(["a", pd.NA, "b", "a"], dtype="string"),     # pandas' NA
    pd.Series(["a", "", 3, "a"], dtype=object).array,     # mixed object column
])
def test_missing_and_empty_keys_are_refused_by_row(keys: Any) -> None:
    df = pd.DataFrame({"k": keys, "conc": [1.0, 10, 100, 1000], "v": [90.0, 70, 30, 10]}, index=[10, 11, 12, 13])
    with pytest.raises(ValueError, match=r"`by` column 'k' must name every curve; rows \[11\] have a missing or "
                                         r"empty key"):
        mp.fit_table(df, conc="conc", response="v", by="k", conc_unit="nM")


@pytest.mark.parametrize("keys", [pd.Series([1, 2, 1, 2], dtype=object), pd.Series([b" ", b"", b" ", b""]),
                                  [True, False, True, False], pd.Series([" a", "a ", " a", "a "])])
def test_keys_that_are_not_empty_strings_are_kept(keys: Any) -> None:
    df = pd.DataFrame({"k": keys, "conc": [1.0, 1, 10, 10], "v": [90.0, 80, 30, 20]})
    _tables._group_keys(df, ["k"])  # no error: numbers, bytes and booleans are never "empty"


# ----------------------------------------------------------------------------- errors name the row
def _two_curves() -> pd.DataFrame:
    return pd.DataFrame({"drug": ["A"] * 4 + ["B"] * 4, "conc": [0.01, 0.1, 1, 10] * 2,
                         "v": [99.0, 80, 30, 5, 100, 95, 70, 20]}, index=[f"w{i}" for i in range(8)])


def test_a_negative_concentration_names_its_row_and_curve() -> None:
    df = _two_curves()
    df.loc["w6", "conc"] = -1.0
    with pytest.raises(ValueError, match=r"got -1 in row 'w6' of `df` \(curve 'B'\)\. If it holds log10"):
        mp.fit_table(df, conc="conc", response="v", by="drug", conc_unit="uM")
    with pytest.raises(ValueError, match=r"got -1 in row 'w6' of `df` \(the curve\)"):
        mp.fit_table(df, conc="conc", response="v", conc_unit="uM")


def test_an_engine_error_at_a_batch_index_names_the_row_and_curve(monkeypatch: pytest.MonkeyPatch) -> None:
    def engine(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("`response` must be finite or NaN (missing); got inf at index (1, 2).")

    monkeypatch.setattr(_tables, "fit", engine)
    df = _two_curves()
    with pytest.raises(ValueError, match=r"got inf in row 'w6' of `df` \(curve 'B'\)\.$"):
        mp.fit_table(df, conc="conc", response="v", by="drug", conc_unit="uM")
    df["line"] = "MCF7"
    with pytest.raises(ValueError, match=r"in row 'w6' of `df` \(curve \('B', 'MCF7'\)\)"):
        mp.fit_table(df, conc="conc", response="v", by=["drug", "line"], conc_unit="uM")
    # an index the table does not have (padding) is left as the engine wrote it
    assert _tables._name_the_row("x at index (0, 9).", df, ["drug"], [("A",), ("B",)]) == "x at index (0, 9)."


# ----------------------------------------------------------------------------- the command line
def _screen(path: Path, n: int) -> Path:
    conc = 10.0 / 3.0 ** np.arange(8)
    ic50 = np.geomspace(0.1, 1, n)
    y = 100 / (1 + conc[None, :] / ic50[:, None]) + np.tile([1.0, -1.0, 0.5, -0.5, 0.0, 0.3, -0.2, 0.1], (n, 1))
    pd.DataFrame({"curve": np.repeat([f"c{i}" for i in range(n)], conc.size), "conc": np.tile(conc, n),
                  "v": y.ravel()}).to_csv(path, index=False)
    return path


def _fit(path: Path, *extra: str) -> list[str]:
    return ["fit", str(path), "--conc-col", "conc", "--response-col", "v", "--group-cols", "curve",
            "--conc-unit", "uM", *extra]


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_quiet_prints_nothing_and_still_writes_and_fails_loudly(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    data = _screen(tmp_path / "d.csv", 3)
    code, out, err = _run(_fit(data, "--quiet", "--out", str(tmp_path / "r.csv")), capsys)
    assert (code, out, err) == (0, "", "")
    assert list(pd.read_csv(tmp_path / "r.csv")["curve"]) == ["c0", "c1", "c2"]
    code, out, err = _run(_fit(data, "-q"), capsys)  # without --out: nothing either
    assert (code, out, err) == (0, "", "")
    code, out, err = _run(_fit(data, "-q", "--response-col", "nope"), capsys)
    assert code == 2 and out == "" and "--response-col 'nope' is not a column" in err


def test_quiet_and_print_exclude_each_other(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(_fit(_screen(tmp_path / "d.csv", 2), "--quiet", "--print"))
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_out_with_a_long_table_prints_a_summary_unless_print(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    data, out_file = _screen(tmp_path / "d.csv", cli._SUMMARY_ROWS + 10), tmp_path / "r.csv"
    code, out, err = _run(_fit(data, "--out", str(out_file)), capsys)
    assert code == 0 and err == ""
    assert out.splitlines() == [f"{cli._SUMMARY_ROWS + 10} curves: {cli._SUMMARY_ROWS + 10} OK",
                                f"wrote {out_file} (the whole table; --print shows it here too)"]
    assert len(pd.read_csv(out_file)) == cli._SUMMARY_ROWS + 10
    code, out, _ = _run(_fit(data, "--out", str(out_file), "--print"), capsys)
    assert code == 0 and "c59" in out and out.rstrip().endswith(f"wrote {out_file}")
    code, out, _ = _run(_fit(data), capsys)  # no --out: the table is the output
    assert code == 0 and "c59" in out


def test_out_with_a_short_table_prints_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(_fit(_screen(tmp_path / "d.csv", 3), "--out", str(tmp_path / "r.md")), capsys)
    assert code == 0 and "c2" in out and "ic50 [uM]" in out and f"wrote {tmp_path / 'r.md'}" in out


def test_status_counts_name_every_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.csv"
    _screen(data, cli._SUMMARY_ROWS + 1)
    df = pd.read_csv(data)
    df.loc[df["curve"] == "c0", "v"] = 50.0  # flat
    df.to_csv(data, index=False)
    code, out, _ = _run(_fit(data, "--out", str(tmp_path / "r.csv")), capsys)
    assert code == 0
    counts = out.splitlines()[0]
    assert counts.startswith(f"{cli._SUMMARY_ROWS + 1} curves: {cli._SUMMARY_ROWS} OK, 1 ")
    assert "FLAT_RESPONSE" in counts


@pytest.mark.parametrize(("option", "target", "match"), [
    ("--out", "missing/r.csv", "--out {p}: the folder {parent} does not exist"),
    ("--out", "r.txt", "--out needs a file name ending in .csv"),
    ("--out", "folder.csv", "--out {p} is a folder"),
    ("--report", "missing/r.html", "--report {p}: the folder {parent} does not exist"),
])
def test_outputs_are_checked_before_fitting(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch, option: str, target: str,
                                            match: str) -> None:
    (tmp_path / "folder.csv").mkdir()

    def no_fit(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("fitted before checking the output")

    monkeypatch.setattr(_tables, "fit_table", no_fit)
    p = tmp_path / target
    code, out, err = _run(_fit(_screen(tmp_path / "d.csv", 2), option, str(p)), capsys)
    assert code == 2 and out == ""
    assert match.format(p=p, parent=p.parent) in err and "Traceback" not in err


def test_plate_command_checks_out_before_fitting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layout, export = tmp_path / "layout.csv", tmp_path / "export.csv"  # never read: --out fails first
    code, _, err = _run(["plate", str(layout), str(export), "--out", str(tmp_path / "no" / "r.csv")], capsys)
    assert code == 2 and "does not exist" in err and "layout" not in err


@pytest.mark.parametrize(("tty", "quiet", "shown"), [(True, False, True), (False, False, False),
                                                      (True, True, False)])
def test_progress_bar_only_on_a_terminal_and_never_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch, tty: bool, quiet: bool,
                                                         shown: bool) -> None:
    monkeypatch.setattr(cli, "_PROGRESS_MIN", 2)
    data = _screen(tmp_path / "d.csv", 3)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty)
    code, _, err = _run(_fit(data, *(["--quiet"] if quiet else [])), capsys)
    assert code == 0
    assert ("3/3 curves" in err) is shown
    if not shown:
        assert err == ""


def test_help_documents_quiet_print_and_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("fit", "plate"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "--quiet" in text and "--print" in text
        assert f"With more than {cli._SUMMARY_ROWS} curves only a summary is printed" in text
        assert "checked before fitting" in text
