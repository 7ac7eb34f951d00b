"""mtor_pharm.plot on the Agg backend: what is drawn (structure) and how it looks (one baseline image)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.collections import PolyCollection
from matplotlib.testing.compare import compare_images

import mtor_pharm as mp
import mtor_pharm.plot  # binds mp.plot (until mtor_pharm loads it on first use)
from mtor_pharm.errors import PlateLayoutError, ShapeError

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "tests" / "data" / "plot_baseline_curve.png"
#: RMS difference (0-255 grey levels) accepted against the baseline: anti-aliasing and
#: version differences stay well below it; moving the IC50 by 50 % does not (tested below).
TOLERANCE = 3.0


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _load_baseline_script() -> Any:
    spec = importlib.util.spec_from_file_location("make_plot_baseline", ROOT / "scripts" / "make_plot_baseline.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _replicated() -> tuple[Any, np.ndarray, mp.FitResult]:
    x = np.repeat([0.0, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0], 3)
    noise = np.tile([-2.0, 0.5, 1.5], 9)
    y = np.stack([mp.models.four_pl(x, 10, 100, 0.08, 1.2), mp.models.four_pl(x, 50, 100, 0.005, 1.0)]) + noise
    conc = mp.Q_(x, "uM")
    return conc, y, mp.fit(conc, y)


# ----------------------------------------------------------------------------- curve
def test_curve_draws_log_axis_labelled_with_the_unit() -> None:
    conc, y, res = _replicated()
    art = mp.plot.curve(res, conc, y, index=0)
    assert art.ax.get_xscale() == "log"
    assert art.ax.get_xlabel() == "concentration (µM)"
    nm = mp.plot.curve(res, conc, y, index=0, unit="nM")
    assert "nM" in nm.ax.get_xlabel()
    # the curve is drawn in the axis unit: 1000x the µM values
    assert nm.line.get_xdata().min() == pytest.approx(1000 * art.line.get_xdata().min())


def test_curve_draws_mean_and_sd_error_bars_per_concentration() -> None:
    conc, y, res = _replicated()
    art = mp.plot.curve(res, conc, y, index=0)
    assert art.points is not None
    marker_line, _, (bars,) = art.points.lines
    positive = conc.magnitude > 0
    levels = np.unique(conc.magnitude[positive])
    groups = y[0, positive].reshape(-1, 3)  # triplicates, ascending concentration
    np.testing.assert_allclose(marker_line.get_xdata(), levels)
    np.testing.assert_allclose(marker_line.get_ydata(), groups.mean(axis=1))
    lengths = np.array([seg[1, 1] - seg[0, 1] for seg in bars.get_segments()])
    np.testing.assert_allclose(lengths, 2 * groups.std(axis=1, ddof=1))
    se = mp.plot.curve(res, conc, y, index=0, errorbar="se")
    assert se.points is not None
    lengths_se = np.array([seg[1, 1] - seg[0, 1] for seg in se.points.lines[2][0].get_segments()])
    np.testing.assert_allclose(lengths_se, lengths / np.sqrt(3))


def test_curve_without_error_bars_draws_every_finite_point() -> None:
    conc, y, res = _replicated()
    y = y.copy()
    y[0, 5] = np.nan
    art = mp.plot.curve(res, conc, y, index=0, errorbar=None, vehicle=False)
    assert art.points is not None
    assert len(art.points.lines[0].get_xdata()) == 24 - 1  # 8 concentrations x 3, one NaN left out
    assert art.vehicle_ax is None and art.vehicle_points is None


def test_curve_puts_vehicle_wells_on_a_stub_left_of_the_break() -> None:
    conc, y, res = _replicated()
    art = mp.plot.curve(res, conc, y, index=0)
    assert art.vehicle_ax is not None and art.vehicle_points is not None and art.vehicle_line is not None
    art.figure.canvas.draw()
    assert art.vehicle_ax.get_position().x1 < art.ax.get_position().x0
    assert art.vehicle_ax.get_shared_y_axes().joined(art.vehicle_ax, art.ax)
    assert art.vehicle_ax.get_ylim() == art.ax.get_ylim()
    vx = art.vehicle_points.lines[0].get_xdata()
    np.testing.assert_allclose(vx, [0.0])
    np.testing.assert_allclose(art.vehicle_points.lines[0].get_ydata(), [y[0, :3].mean()])
    # the fitted zero-dose response (the top plateau) is marked on the stub
    assert art.vehicle_line.get_ydata()[0] == pytest.approx(float(res.params["top"][0]))
    # nothing at x <= 0 on the log axis; the y label stays on the main Axes, drawn left of the stub
    assert art.points is not None and (art.points.lines[0].get_xdata() > 0).all()
    art.ax.set_ylabel("viability (%)")
    art.figure.canvas.draw()
    renderer = art.figure.canvas.get_renderer()
    label = art.ax.yaxis.label.get_window_extent(renderer)
    ticks = [t.get_window_extent(renderer) for t in art.vehicle_ax.get_yticklabels() if t.get_text()]
    assert art.vehicle_ax.get_ylabel() == "" and ticks
    assert label.x1 <= min(t.x0 for t in ticks)


def test_curve_on_a_linear_axis_draws_vehicle_at_zero() -> None:
    conc, y, res = _replicated()
    art = mp.plot.curve(res, conc, y, index=0, log=False)
    assert art.ax.get_xscale() == "linear" and art.vehicle_ax is None
    assert art.vehicle_points is not None
    assert art.vehicle_points.lines[0].get_xdata().tolist() == [0.0]
    assert art.line.get_xdata()[0] == 0.0


def test_curve_of_the_fit_alone_spans_the_tested_range() -> None:
    conc, y, res = _replicated()
    art = mp.plot.curve(res, index=(1,))
    assert art.points is None and art.vehicle_ax is None
    x = art.line.get_xdata()
    assert x.min() < 0.003 and x.max() > 10
    np.testing.assert_allclose(art.line.get_ydata(), res.predict(mp.Q_(x, "uM"))[1])


def test_curve_band_is_the_delta_method_interval_of_the_fitted_mean() -> None:
    from mtor_pharm.plot import _delta_band

    conc, y, res = _replicated()
    grid = np.array([0.0, 1e-3, 0.08, 1.0, 1e6])
    low, high = _delta_band(res, (0,), grid, 0.95)
    # independent: central differences of the 4PL on the reported parameters, and their covariance
    names = res.param_names
    theta = np.array([float(res.params[n][0]) for n in names])

    def f(t: np.ndarray) -> np.ndarray:
        return mp.models.four_pl(grid, *t)

    g = np.empty((grid.size, theta.size))
    for j in range(theta.size):
        h = 1e-6 * max(abs(theta[j]), 1e-3)
        step = np.zeros_like(theta)
        step[j] = h
        g[:, j] = (f(theta + step) - f(theta - step)) / (2 * h)
    se = np.sqrt(np.einsum("kp,pq,kq->k", g, res.covariance[0], g))
    from scipy import stats

    t = stats.t.ppf(0.975, int(res.dof[0]))
    np.testing.assert_allclose(high - low, 2 * t * se, rtol=1e-5)
    np.testing.assert_allclose((high + low) / 2, f(theta), rtol=1e-10)
    # at x = 0 the band is that of `top`, far above the IC50 that of `bottom`
    assert (high - low)[0] == pytest.approx(2 * t * float(res.stderr["top"][0]), rel=1e-8)
    assert (high - low)[-1] == pytest.approx(2 * t * float(res.stderr["bottom"][0]), rel=1e-6)


def test_curve_band_without_degrees_of_freedom_is_empty() -> None:
    conc = mp.Q_([0.01, 0.1, 1, 10], "uM")
    res = mp.fit(conc, [99, 80, 30, 5])  # 4 points, 4 parameters
    art = mp.plot.curve(res, conc, [99, 80, 30, 5])
    assert art.band is None
    assert len(art.ax.collections) == 0


def test_curve_accepts_a_band_callable_in_the_unit_of_the_fit() -> None:
    conc, y, res = _replicated()
    seen: list[Any] = []

    def band(x: Any) -> tuple[np.ndarray, np.ndarray]:
        seen.append(x)
        mid = res.predict(x)[0]
        return mid - 1, mid + 1

    art = mp.plot.curve(res, conc, y, index=0, band=band, unit="nM")
    assert str(seen[0].units) == "micromolar"
    assert art.band is not None
    assert mp.plot.curve(res, conc, y, index=0, band=False).band is None


def test_curve_reads_a_bare_array_in_the_unit_of_the_fit() -> None:
    conc, y, res = _replicated()
    a = mp.plot.curve(res, conc.magnitude, y, index=0)
    b = mp.plot.curve(res, conc.to("nM"), y, index=0)
    assert a.points is not None and b.points is not None
    np.testing.assert_allclose(a.points.lines[0].get_xdata(), b.points.lines[0].get_xdata())


def test_curve_rejects_a_batch_without_index() -> None:
    conc, y, res = _replicated()
    with pytest.raises(TypeError, match="`index` must say which curve"):
        mp.plot.curve(res, conc, y)


def test_curve_rejects_an_index_outside_the_batch() -> None:
    conc, y, res = _replicated()
    with pytest.raises(IndexError, match="`index` must be a position"):
        mp.plot.curve(res, conc, y, index=2)


def test_curve_rejects_conc_without_response() -> None:
    conc, y, res = _replicated()
    with pytest.raises(TypeError, match="given together"):
        mp.plot.curve(res, conc, index=0)


def test_curve_rejects_points_of_another_shape() -> None:
    conc, y, res = _replicated()
    with pytest.raises(ShapeError, match="one curve's points"):
        mp.plot.curve(res, conc[:5], y[0], index=0)


def test_curve_rejects_a_unit_that_is_not_a_concentration() -> None:
    conc, y, res = _replicated()
    with pytest.raises(mp.errors.UnitError):
        mp.plot.curve(res, mp.Q_(conc.magnitude, "s"), y, index=0)
    with pytest.raises(mp.errors.UnitError, match="`unit` must be a concentration unit"):
        mp.plot.curve(res, conc, y, index=0, unit="ug/mL")


# ----------------------------------------------------------------------------- curves
def test_curves_overlays_one_line_per_curve_with_a_legend_from_labels() -> None:
    conc, y, res = _replicated()
    art = mp.plot.curves(res, conc, y, labels=["Torin1", "rapamycin"])
    assert len(art.curves) == 2
    assert {c.ax for c in art.curves} == {art.ax}
    assert art.legend is not None
    assert [t.get_text() for t in art.legend.get_texts()] == ["Torin1", "rapamycin"]
    colors = [c.line.get_color() for c in art.curves]
    assert colors[0] != colors[1]
    bands = [c for c in art.ax.collections if isinstance(c, PolyCollection)]
    assert bands == [c.band for c in art.curves]
    assert len(art.ax.containers) == 2  # data with error bars, one per curve
    # both vehicle series on one shared stub, side by side
    stub = art.curves[0].vehicle_ax
    assert stub is not None and art.curves[1].vehicle_ax is stub
    assert len(stub.containers) == 2
    x0, x1 = (c.vehicle_points.lines[0].get_xdata()[0] for c in art.curves)
    assert x0 == 0.0 and 0 < abs(x1) < 1


def test_curves_accepts_a_sequence_of_results() -> None:
    conc, y, res = _replicated()
    a = mp.fit(conc, y[0])
    b = mp.fit(conc.to("nM"), y[1])
    art = mp.plot.curves([a, b], [conc, conc.to("nM")], [y[0], y[1]], band=False)
    assert [t.get_text() for t in art.legend.get_texts()] == ["curve 0", "curve 1"]
    assert "µM" in art.ax.get_xlabel()  # the unit of the first result
    np.testing.assert_allclose(art.curves[0].line.get_xdata()[[0, -1]], art.curves[1].line.get_xdata()[[0, -1]])


def test_curves_rejects_the_wrong_number_of_labels() -> None:
    conc, y, res = _replicated()
    with pytest.raises(ShapeError, match="one label per curve"):
        mp.plot.curves(res, conc, y, labels=["only one"])


def test_curves_rejects_data_not_matching_the_results() -> None:
    conc, y, res = _replicated()
    with pytest.raises(ShapeError, match="one entry per result"):
        mp.plot.curves([mp.fit(conc, y[0])], [conc, conc], [y[0]])


# ----------------------------------------------------------------------------- residuals
def test_residuals_are_observed_minus_fitted() -> None:
    conc, y, res = _replicated()
    art = mp.plot.residuals(res, conc, y, index=1)
    positive = conc.magnitude > 0
    expected = y[1] - res.predict(conc)[1]
    np.testing.assert_allclose(art.points.get_ydata(), expected[positive])
    assert art.vehicle_points is not None
    np.testing.assert_allclose(art.vehicle_points.get_ydata(), expected[~positive])
    assert art.zero_line.get_ydata()[0] == 0
    assert art.ax.get_xscale() == "log" and "µM" in art.ax.get_xlabel()


# ----------------------------------------------------------------------------- plates
def test_plate_heatmap_draws_a_96_well_grid_from_any_layout() -> None:
    values = np.arange(96.0)
    from_grid = mp.plot.plate_heatmap(values.reshape(8, 12))
    from_vector = mp.plot.plate_heatmap(values)
    names = [f"{r}{c}" for r in "ABCDEFGH" for c in range(1, 13)]
    import pandas as pd

    from_series = mp.plot.plate_heatmap(pd.Series(values, index=names), label="A570")
    for art in (from_grid, from_vector, from_series):
        np.testing.assert_array_equal(np.ma.getdata(art.image.get_array()), values.reshape(8, 12))
    ax = from_series.ax
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(i) for i in range(1, 13)]
    assert [t.get_text() for t in ax.get_yticklabels()] == list("ABCDEFGH")
    assert from_series.colorbar is not None and from_series.colorbar.ax.get_ylabel() == "A570"


def test_plate_heatmap_masks_missing_wells_and_infers_384() -> None:
    art = mp.plot.plate_heatmap({"A1": 1.0, "P24": 2.0, "b07": np.nan}, colorbar=False)
    grid = art.image.get_array()
    assert grid.shape == (16, 24)
    assert int(np.ma.count(grid)) == 2 and grid[0, 0] == 1.0 and grid[15, 23] == 2.0
    assert art.colorbar is None


def test_plate_heatmap_rejects_unknown_wells() -> None:
    with pytest.raises(PlateLayoutError, match="well names"):
        mp.plot.plate_heatmap({"Z1": 1.0})
    with pytest.raises(PlateLayoutError, match="96-well"):
        mp.plot.plate_heatmap({"A13": 1.0}, plate_format=96)


def test_plate_heatmap_rejects_an_array_that_is_not_a_plate() -> None:
    with pytest.raises(ShapeError, match=r"\(8, 12\)"):
        mp.plot.plate_heatmap(np.zeros((8, 11)))


# ----------------------------------------------------------------------------- packaging and images
def test_importing_the_plot_module_does_not_import_matplotlib() -> None:
    code = "import sys, mtor_pharm, mtor_pharm.plot; sys.exit('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr or "matplotlib was imported"


def test_curve_matches_the_baseline_image(tmp_path: Path) -> None:
    script = _load_baseline_script()
    fig = script.baseline_figure()
    actual = tmp_path / "curve.png"
    fig.savefig(actual, dpi=script.DPI)
    assert compare_images(str(BASELINE), str(actual), tol=TOLERANCE) is None


def test_baseline_comparison_detects_a_moved_curve(tmp_path: Path) -> None:
    script = _load_baseline_script()
    fig = script.baseline_figure(ic50=0.12)
    actual = tmp_path / "moved.png"
    fig.savefig(actual, dpi=script.DPI)
    assert compare_images(str(BASELINE), str(actual), tol=TOLERANCE) is not None
