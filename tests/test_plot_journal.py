"""Journal-style figures (#14): distinct markers, markers in the legend, open symbols for excluded points,
the mean ± SD note, no top/right spines, decimal or log[M] ticks, and an image comparison."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.testing.compare import compare_images

import mtor_pharm as mp
import mtor_pharm.plot  # binds mp.plot

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "tests" / "data" / "plot_baseline_journal.png"
TOLERANCE = 3.0


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _script() -> Any:
    path = ROOT / "scripts" / "make_journal_baseline.py"
    spec = importlib.util.spec_from_file_location("make_journal_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _drawn() -> tuple[Any, Any, mp.FitResult]:
    table = _script().baseline_data()
    res, _ = mp.fit_table(table, conc="conc", response="response", by="compound")
    return table, mp.plot.dose_response(res, table), res


def test_every_series_has_its_own_marker_and_the_legend_shows_it() -> None:
    _, art, _ = _drawn()
    markers = [c.points.lines[0].get_marker() for c in art.curves]
    assert len(set(markers)) == 3
    handles = art.legend.legend_handles
    assert [h.get_marker() for h in handles] == markers
    assert all(h.get_linestyle() == "-" for h in handles)
    assert [t.get_text() for t in art.legend.get_texts()] == ["A", "B", "C"]


def test_excluded_points_are_open_symbols_of_the_series_shape_and_not_in_the_means() -> None:
    table, art, res = _drawn()
    exc = art.excluded[1]
    assert exc is not None and exc.get_markerfacecolor() == "none"
    assert exc.get_marker() == art.curves[1].points.lines[0].get_marker()
    np.testing.assert_allclose(exc.get_ydata(), [95.0])
    # the mean at 100 nM is that of the two kept wells
    kept = table[(table.compound == "B") & (table.conc == 100.0) & ~table.excluded]["response"].mean()
    xs, ys = art.curves[1].points.lines[0].get_data()
    assert ys[np.argmin(np.abs(np.asarray(xs) - 100.0))] == pytest.approx(kept)
    assert int(res["B"].n) == int(res["A"].n) - 1


def test_note_spines_and_decimal_ticks() -> None:
    _, art, _ = _drawn()
    assert art.note.get_text() == "mean ± SD, n = 2–3"  # triplicates; the excluded well leaves 2 at one point
    assert not art.ax.spines["top"].get_visible() and not art.ax.spines["right"].get_visible()
    art.figure.canvas.draw()
    labels = [t.get_text() for t in art.ax.get_xticklabels() if t.get_text()]
    assert "1" in labels and "10" in labels and not any("^" in t or "e" in t for t in labels)


def test_log_molar_ticks_are_log10_of_molar() -> None:
    table = _script().baseline_data()
    res, _ = mp.fit_table(table, conc="conc", response="response", by="compound")
    art = mp.plot.dose_response(res, table, ticks="log")
    art.figure.canvas.draw()
    assert art.ax.get_xlabel() == "log[inhibitor] (M)"
    labels = {t.get_text() for t in art.ax.get_xticklabels() if t.get_text()}
    assert {"−9", "−8", "−7"} <= {s.replace("-", "−") for s in labels}


def test_journal_figure_matches_the_baseline_image(tmp_path: Path) -> None:
    fig = _script().baseline_figure()
    out = tmp_path / "journal.png"
    fig.savefig(out, dpi=_script().DPI)
    assert compare_images(str(BASELINE), str(out), tol=TOLERANCE) is None


def test_baseline_comparison_detects_the_plain_style(tmp_path: Path) -> None:
    fig = _script().baseline_figure(journal=False)  # filled circles everywhere, full frame, no open symbol
    out = tmp_path / "plain.png"
    fig.savefig(out, dpi=_script().DPI)
    assert compare_images(str(BASELINE), str(out), tol=TOLERANCE) is not None


def test_dose_response_refuses_bad_input() -> None:
    table, _, res = _drawn()
    with pytest.raises(ValueError, match="ticks"):
        mp.plot.dose_response(res, table, ticks="sci")  # type: ignore[arg-type]
    with pytest.raises(LookupError, match="no column 'viability'.*Name the columns with"):
        mp.plot.dose_response(res, table, response="viability")
