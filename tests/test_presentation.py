"""Presentation of figures and tables (second Prism walkthrough): readable multi-key labels, the
"mean ± SD, n = …" note (its n and its place), and combination titles, notes and summaries."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.text import Text

import mtor_pharm as mp
import mtor_pharm.plot  # binds mp.plot


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


# ----------------------------------------------------------------------------- helpers
def _texts(fig: Any) -> list[Text]:
    """Every text a drawn figure shows: visible, non-empty, and not the label of a tick outside the view
    (matplotlib keeps those, undrawn)."""
    fig.canvas.draw()
    hidden = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            span = (hi - lo) * 1e-9
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                if not lo - span <= tick.get_loc() <= hi + span:
                    hidden.update({id(tick.label1), id(tick.label2)})
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and id(t) not in hidden]


def _overlapping_texts(fig: Any) -> list[tuple[str, str]]:
    """Pairs of texts whose boxes overlap (by more than a pixel, so touching boxes are fine)."""
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer).expanded(1.0, 1.0).padded(-1.0)) for t in _texts(fig)]
    return [
        (a, b)
        for i, (a, ba) in enumerate(boxes)
        for b, bb in boxes[i + 1 :]
        if ba.width > 0 and bb.width > 0 and ba.overlaps(bb)
    ]


def _saves(fig: Any) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.tell() > 0


def _blot_table(vehicle_wells: int = 0) -> pd.DataFrame:
    """Two compounds × two readouts, triplicates (no random numbers), optionally vehicle wells at 0;
    rapamycin raises p-Akt S473 (the feedback), Torin1 lowers it."""
    conc = np.array([0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0])
    rows = []
    for c, ic50 in (("rapamycin", 1.0), ("Torin1", 10.0)):
        for r, bottom in (("p-S6K1 T389", 0.1), ("p-Akt S473", 1.4 if c == "rapamycin" else 0.1)):
            for d in (-0.03, 0.0, 0.03):
                y = mp.models.four_pl(conc, bottom, 1.0, ic50, 1.0) + d * (1 + 0.1 * np.arange(conc.size))
                rows += [{"compound": c, "readout": r, "conc": x, "response": v} for x, v in zip(conc, y, strict=True)]
            for k in range(vehicle_wells):
                rows.append({"compound": c, "readout": r, "conc": 0.0, "response": 1.0 + 0.01 * (k - 3.5)})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- item 1: labels
def test_dose_response_legend_joins_the_parts_of_a_multi_key_label() -> None:
    table = _blot_table()
    res, _ = mp.fit_table(table, conc="conc", response="response", by=["compound", "readout"], conc_unit="nM")
    art = mp.plot.dose_response(res, table, unit="nM")
    texts = [t.get_text() for t in art.legend.get_texts()]
    assert texts == ["rapamycin, p-S6K1 T389", "rapamycin, p-Akt S473", "Torin1, p-S6K1 T389", "Torin1, p-Akt S473"]
    assert [c.line.get_label() for c in art.curves] == texts
    assert not any("(" in t or "'" in t for t in texts)


def test_curves_legend_joins_tuple_labels_too() -> None:
    table = _blot_table()
    res, _ = mp.fit_table(table, conc="conc", response="response", by=["compound", "readout"], conc_unit="nM")
    art = mp.plot.curves(res, band=False, labels=list(res.labels or ()))
    assert art.legend.get_texts()[0].get_text() == "rapamycin, p-S6K1 T389"


# ----------------------------------------------------------------------------- items 2, 3, 5: the note
def test_note_n_includes_the_vehicle_mean() -> None:
    table = _blot_table(vehicle_wells=8)
    one = table[table.readout == "p-S6K1 T389"].drop(columns="readout")
    res, _ = mp.fit_table(one, conc="conc", response="response", by="compound", conc_unit="nM")
    art = mp.plot.dose_response(res, one, unit="nM")
    assert art.note.get_text() == "mean ± SD, n = 3–8"  # triplicates, and 8 vehicle wells at x = 0
    vehicle = art.curves[0].vehicle_points
    assert vehicle is not None and len(vehicle.lines[0].get_xdata()) == 1  # one plotted mean of the 8 wells


def test_note_without_vehicle_is_unchanged() -> None:
    table = _blot_table()
    one = table[table.readout == "p-S6K1 T389"].drop(columns="readout")
    res, _ = mp.fit_table(one, conc="conc", response="response", by="compound", conc_unit="nM")
    assert mp.plot.dose_response(res, one, unit="nM").note.get_text() == "mean ± SD, n = 3"


def test_note_and_legend_cannot_overlap_in_a_two_panel_figure() -> None:
    """The reviewer's p-Akt panel: a rising and a falling curve, the legend used to land on the note."""
    table = _blot_table(vehicle_wells=4)
    fig, axs = plt.subplots(1, 2, figsize=(8, 3.5))
    arts = []
    for ax, readout in zip(axs, ("p-S6K1 T389", "p-Akt S473"), strict=True):
        one = table[table.readout == readout].drop(columns="readout")
        res, _ = mp.fit_table(one, conc="conc", response="response", by="compound", conc_unit="nM")
        arts.append(mp.plot.dose_response(res, one, unit="nM", ax=ax))
    fig.tight_layout()
    assert _overlapping_texts(fig) == []
    renderer = fig.canvas.get_renderer()
    for art in arts:
        assert art.note is art.legend.get_title()  # one box, placed as a whole
        note = art.note.get_window_extent(renderer)
        for entry in art.legend.get_texts():
            assert not note.overlaps(entry.get_window_extent(renderer))
    _saves(fig)


def test_note_without_legend_stays_on_the_axes() -> None:
    table = _blot_table()
    one = table[table.readout == "p-S6K1 T389"].drop(columns="readout")
    res, _ = mp.fit_table(one, conc="conc", response="response", by="compound", conc_unit="nM")
    art = mp.plot.dose_response(res, one, unit="nM", legend=False)
    assert art.legend is None and art.note.get_text() == "mean ± SD, n = 3"
    assert art.note.get_transform() == art.ax.transAxes
    _saves(art.figure)


# ----------------------------------------------------------------------------- item 4: combination
A = np.array([0, 3, 10, 30, 100, 300.0])  # nM: a half-log series as pipetted
B = np.array([0, 1, 3, 10, 30, 100.0])  # nM: diagonal ratios 3, 3.33, 3, 3.33, 3


def _checkerboard(a: Any = A, b: Any = B, plates: tuple[str, ...] = ("P1",)) -> mp.combination.DoseMatrix:
    """Torin1 × trametinib, trametinib alone plateaus at 41 % (fa ≤ 0.59), triplicates, Bliss-like
    with some synergy; a tidy table so that pairs get the default 'A x B @ plate' labels."""
    rows = []
    noise = (-1.5, 0.4, 1.1)
    for plate in plates:
        for i, x in enumerate(a):
            for j, y in enumerate(b):
                ua = 1 / (1 + (x / 20.0) ** 1.1)
                ub = 0.41 + 0.59 / (1 + (y / 5.0) ** 1.2)
                v = 100 * ua * ub * (0.85 if x > 0 and y > 0 else 1.0)
                for r, e in enumerate(noise):
                    rows.append({"plate": plate, "drug_a": "Torin1", "drug_b": "trametinib", "conc_a": x,
                                 "conc_b": y, "viability": v + e * (1 + 0.1 * ((i + j + r) % 3))})
    t = pd.DataFrame(rows)
    return mp.combination.DoseMatrix.from_table(t, response="viability", unit="nM", drug_a="drug_a",
                                                drug_b="drug_b", plate="plate")


@pytest.fixture(scope="module")
def halflog() -> mp.combination.SynergyResult:
    return mp.combination.score(_checkerboard())


def test_ci_status_says_no_constant_ratio_in_the_table_repr_and_summary(halflog) -> None:
    assert np.isnan(halflog.ci.ci).all()  # the rule is not loosened
    df = halflog.to_dataframe()
    assert list(df["ci_status"]) == ["NO_CONSTANT_RATIO"] * 4
    assert "NO_CONSTANT_RATIO" in repr(halflog)
    summary = halflog.summary()
    assert "NO_CONSTANT_RATIO" in summary and "not a constant-ratio series" in summary
    assert halflog.ci_status() == ["NO_CONSTANT_RATIO"]


def test_ci_status_ok_for_an_exact_constant_ratio_and_without_levels() -> None:
    exact = mp.combination.score(_checkerboard(a=np.r_[0, 10 ** np.arange(0.5, 3.0, 0.5)],
                                               b=np.r_[0, 10 ** np.arange(0.0, 2.5, 0.5)]))
    assert np.isfinite(exact.ci.ci).all()
    assert set(exact.to_dataframe()["ci_status"]) <= {"OK", "LEVEL_EXTRAPOLATED"}
    assert "NO_CONSTANT_RATIO" not in repr(exact)
    none = mp.combination.score(_checkerboard(), models=("bliss",), levels=())
    assert list(none.to_dataframe()["ci_status"]) == ["not computed"]


def test_summary_prints_small_p_as_prism_does_and_the_table_keeps_full_precision(halflog) -> None:
    df = halflog.to_dataframe()
    p = float(df.loc[df.model == "bliss", "pvalue"].iloc[0])
    assert 0 <= p < 1e-4 and df["pvalue"].dtype == np.float64
    bliss = next(line for line in halflog.summary().splitlines() if line.strip().startswith("Bliss"))
    assert "p < 0.0001" in bliss and "e-" not in bliss and "p = 0.0" not in bliss


def test_p_text() -> None:
    from mtor_pharm._tables import p_text

    assert [p_text(v) for v in (0.0, 1e-50, 0.00012, 0.0432, 1.0, float("nan"))] == [
        "p < 0.0001", "p < 0.0001", "p = 0.0001", "p = 0.0432", "p > 0.9999", "p = NaN"]


def test_isobologram_names_the_missing_levels_and_why(halflog) -> None:
    iso = mp.combination.isobologram(halflog, levels=(0.5, 0.75))
    assert set(iso.missing) == {0.5, 0.75}
    assert "no isobole" in iso.missing[0.75] and "trametinib alone reaches at most fa = 0.5" in iso.missing[0.75]
    assert "NO_CONSTANT_RATIO" in iso.missing[0.5] and "no isobole" not in iso.missing[0.5]
    text = iso.note.get_text().replace("\n", " ").replace("  ", " ")
    assert "no isobole at fa = 0.75" in text and "no combination point at fa = 0.5, 0.75" in text
    assert iso.ax.get_title() == "Torin1 × trametinib: isobologram"
    _saves(iso.figure)


def test_isobologram_of_a_complete_design_has_no_note() -> None:
    conc = mp.Q_([0, 0.1, 0.3, 1, 3, 10], "uM")
    fu = 1 / (1 + np.add.outer(conc.m, conc.m))
    res = mp.combination.score(mp.combination.DoseMatrix.from_arrays(conc, conc, 100 * fu), models=())
    iso = mp.combination.isobologram(res, levels=(0.5,))
    assert iso.note is None and dict(iso.missing) == {}
    assert len(iso.artists) == 2  # the isobole and the combination point


def test_isobologram_without_any_isobole_still_says_why() -> None:
    m = _checkerboard()
    res = mp.combination.score(m, models=("bliss",), levels=(0.75,))
    iso = mp.combination.isobologram(res, levels=(0.75,))
    assert iso.artists == () and iso.note is not None and "0.75" in iso.note.get_text()
    _saves(iso.figure)


def test_titles_use_a_real_times_sign_and_the_plate_only_for_several_plates(halflog) -> None:
    art = mp.combination.heatmap(halflog, model="bliss")
    assert art.ax.get_title() == "Torin1 × trametinib"
    assert art.colorbar.ax.get_ylabel() == "Bliss excess (percentage points; > 0 synergy)"
    assert mp.combination.heatmap(halflog.matrix).colorbar.ax.get_ylabel().startswith("Response (viability")
    assert mp.combination.heatmap(halflog, model="hsa").colorbar.ax.get_ylabel().startswith("HSA excess")
    two = _checkerboard(plates=("P1", "P2"))
    res = mp.combination.score(two, models=("bliss",), levels=())
    assert mp.combination.heatmap(res, pair=1).ax.get_title() == "Torin1 × trametinib (plate P2)"
    assert "Torin1 × trametinib (plate P1)" in res.summary()
    assert res.matrix.pair[1] == "Torin1 x trametinib @ P2"  # the pair's id is unchanged


def test_heatmap_numbers_read_on_dark_cells(halflog) -> None:
    art = mp.combination.heatmap(halflog, model="bliss")
    image, texts = art.artists[0], art.artists[1:]
    darkest = max(texts, key=lambda t: abs(float(t.get_text())))
    assert darkest.get_color() == "white"
    faint = min(texts, key=lambda t: abs(float(t.get_text())))
    assert faint.get_color() == "black" and image is not None


def test_fa_ci_plot_says_why_there_is_no_curve(halflog) -> None:
    art = mp.combination.fa_ci_plot(halflog)
    assert art.ax.get_title() == "Torin1 × trametinib: Fa–CI"
    assert art.note is not None and "NO_CONSTANT_RATIO" in art.note.get_text()


def test_combination_figures_side_by_side_save_without_overlapping_text(halflog) -> None:
    fig, axs = plt.subplots(1, 2, figsize=(9, 3.8))
    mp.combination.isobologram(halflog, levels=(0.5, 0.75), ax=axs[0])
    mp.combination.fa_ci_plot(halflog, ax=axs[1])
    fig.tight_layout()
    assert _overlapping_texts(fig) == []
    _saves(fig)


def test_to_dataframe_of_a_ci_only_score_is_an_empty_table_with_its_columns() -> None:
    a = np.r_[0, 3.0 ** np.arange(5)]
    A, B = np.meshgrid(a, a, indexing="ij")
    m = mp.combination.DoseMatrix.from_arrays(a, a, 100 / (1 + A / 30) / (1 + B / 5), conc_unit="nM")
    res = mp.combination.score(m, models=())
    df = res.to_dataframe()
    assert len(df) == 0 and list(df.columns[:4]) == ["pair", "drug_a", "drug_b", "model"]
    full = mp.combination.score(m, models=("bliss",)).to_dataframe()
    assert list(df.columns) == list(full.columns)
