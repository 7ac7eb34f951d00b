"""Combination figures: heatmaps with concentration axes and units, isobologram, Fa-CI plot."""

from __future__ import annotations

import subprocess
import sys

import matplotlib
import numpy as np
import pytest

import mtor_pharm as mp

matplotlib.use("Agg")
import matplotlib.pyplot as plt

A = np.array([0, 1, 3, 10, 30, 100.0])  # nM
B = np.array([0, 0.03, 0.1, 0.3, 1, 3.0])  # uM


@pytest.fixture(scope="module")
def result():
    fa = 1 / (1 + (A / 10) ** 1.2)
    fb = 1 / (1 + (B / 0.3) ** 1.0)
    y = 100 * np.outer(fa, fb) * 0.9 ** np.outer(A > 0, B > 0)
    m = mp.combination.DoseMatrix.from_arrays(
        mp.Q_(A, "nM"), mp.Q_(B, "uM"), y, drug_a="sapanisertib", drug_b="alpelisib"
    )
    return mp.combination.score(m, levels=(0.5, 0.75))


def test_synergy_heatmap_labels_concentrations_with_units(result) -> None:
    art = mp.combination.heatmap(result, model="loewe")
    assert art.ax.get_xlabel() == "alpelisib (µM)"
    assert art.ax.get_ylabel() == "sapanisertib (nM)"
    assert [t.get_text() for t in art.ax.get_yticklabels()] == ["0", "1", "3", "10", "30", "100"]
    image = art.artists[0]
    np.testing.assert_allclose(np.ma.filled(image.get_array(), np.nan), result["loewe"].excess[0], equal_nan=True)
    lo, hi = image.get_clim()
    assert lo == -hi  # centred on additivity
    plt.close("all")


def test_response_heatmap_and_isobologram_and_fa_ci(result) -> None:
    art = mp.combination.heatmap(result.matrix)
    assert "viability" in art.colorbar.ax.get_ylabel()
    iso = mp.combination.isobologram(result, levels=(0.5, 0.75))
    lines = [a for a in iso.artists if a.get_linestyle() == "-"]
    assert len(lines) == 2
    # the fa = 0.5 isobole joins the single-agent IC50s (4PL with bottom 0, top 1: ic50 = 10 nM, 0.3 uM)
    x, y = lines[0].get_data()
    assert y[0] == pytest.approx(10, rel=1e-4) and x[1] == pytest.approx(0.3, rel=1e-4)
    fig = mp.combination.fa_ci_plot(result)
    assert fig.ax.get_ylabel() == "combination index (CI)"
    plt.close("all")


def test_fa_ci_plot_needs_the_ci() -> None:
    m = mp.combination.DoseMatrix.from_arrays(mp.Q_(A, "nM"), mp.Q_(A, "nM"), 100 / (1 + np.add.outer(A, A) / 10))
    res = mp.combination.score(m, models=("bliss",), levels=())
    with pytest.raises(ValueError, match="levels"):
        mp.combination.fa_ci_plot(res)


def test_combination_import_does_not_load_matplotlib() -> None:
    code = "import sys, mtor_pharm as mp; mp.combination.DoseMatrix; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
