"""The command line, run as a user would (a subprocess) and in-process for error paths."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtor_pharm.__main__ import main


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mtor_pharm", *args], capture_output=True, text=True, check=False)


def test_no_arguments_runs_the_bundled_example() -> None:
    out = _run()
    assert out.returncode == 0, out.stderr
    assert "SIMULATED" in out.stdout
    for name in ("rapamycin", "everolimus", "Torin1", "sapanisertib"):
        assert name in out.stdout


def _write_csv(path: Path) -> None:
    conc = np.repeat(10.0 / 3.0 ** np.arange(8), 2)
    rows = []
    for drug, ic50 in (("A", 0.05), ("B", 0.5)):
        y = 100 / (1 + conc / ic50) + np.tile([1.0, -1.0], 8)
        rows += [{"drug": drug, "c": c, "v": v} for c, v in zip(conc, y, strict=True)]
    pd.DataFrame(rows).to_csv(path, index=False)


def test_fit_command_prints_and_writes_a_table(tmp_path: Path) -> None:
    data, out = tmp_path / "d.csv", tmp_path / "r.csv"
    _write_csv(data)
    res = _run(
        "fit",
        str(data),
        "--conc-col",
        "c",
        "--response-col",
        "v",
        "--group-cols",
        "drug",
        "--conc-unit",
        "uM",
        "--unit",
        "nM",
        "--out",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out, index_col=0)
    assert list(table.index) == ["A", "B"]
    assert table.loc["A", "ic50 [nM]"] == pytest.approx(50, rel=0.05)
    assert table.loc["B", "ic50 [nM]"] == pytest.approx(500, rel=0.05)
    assert (table["status_name"] == "OK").all()


def test_fit_command_names_the_columns_when_one_is_unknown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.csv"
    _write_csv(data)
    code = main(["fit", str(data), "--conc-col", "dose", "--response-col", "v", "--conc-unit", "uM"])
    err = capsys.readouterr().err
    assert code == 2
    assert "'dose'" in err
    assert "['drug', 'c', 'v']" in err


def test_fit_command_rejects_non_numeric_concentrations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.csv"
    pd.DataFrame({"c": ["1", "ten", "100"], "v": [90, 50, 10]}).to_csv(data, index=False)
    code = main(["fit", str(data), "--conc-col", "c", "--response-col", "v", "--conc-unit", "uM"])
    assert code == 2
    assert "'ten'" in capsys.readouterr().err


def test_fit_command_rejects_an_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.csv"
    data.write_text("")
    code = main(["fit", str(data), "--conc-col", "c", "--response-col", "v", "--conc-unit", "uM"])
    assert code == 2
    assert "empty" in capsys.readouterr().err


def test_fit_command_rejects_a_non_concentration_unit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.csv"
    _write_csv(data)
    code = main(["fit", str(data), "--conc-col", "c", "--response-col", "v", "--conc-unit", "seconds"])
    assert code == 2
    assert "concentration" in capsys.readouterr().err


def test_fit_command_large_input_in_a_batch_job_writes_no_progress_bar_and_a_summary(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    conc = 10.0 / 3.0 ** np.arange(6)
    n = 5000
    ic50 = 10 ** rng.uniform(-2, 0, n)
    y = 100 / (1 + conc[None, :] / ic50[:, None]) + rng.normal(0, 3, (n, conc.size))
    df = pd.DataFrame({"curve": np.repeat(np.arange(n), conc.size), "c": np.tile(conc, n), "v": y.ravel()})
    data = tmp_path / "big.csv"
    df.to_csv(data, index=False)
    res = _run(
        "fit",
        str(data),
        "--conc-col",
        "c",
        "--response-col",
        "v",
        "--group-cols",
        "curve",
        "--conc-unit",
        "uM",
        "--out",
        str(tmp_path / "r.csv"),
    )
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""  # stderr is a pipe, not a terminal: no progress bar (tests/test_table_speed_cli.py)
    assert "5,000 curves:" in res.stdout and len(res.stdout.splitlines()) == 2  # a summary, not 5,000 rows
    assert len(pd.read_csv(tmp_path / "r.csv")) == n


@pytest.mark.parametrize("command", [(), ("fit",), ("plate",)])
def test_help_prints_percent_signs_once_and_names_every_family(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    from mtor_pharm.models import MODELS

    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "%%" not in text
    if command:  # the --model help lists the families the engine has, not a hand-kept subset
        for name in MODELS:  # whole names: "crs4" must not pass on "crs4b", nor "morrison" on "morrison_e"
            assert re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", text), name
