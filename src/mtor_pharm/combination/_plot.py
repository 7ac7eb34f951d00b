"""Figures of combination data and scores (matplotlib, imported only when a function is called)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._typing import FloatArray
from .._validate import integer
from ..units import _registry
from . import _reference as ref
from ._matrix import DoseMatrix
from ._score import SynergyResult, check_levels

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

__all__ = ["CombinationArtists", "fa_ci_plot", "heatmap", "isobologram"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CombinationArtists:
    """What a combination figure drew.

    Attributes
    ----------
    figure, ax
        The Figure and the Axes.
    artists : tuple
        The matplotlib artists made, in drawing order (image/lines/points).
    colorbar : matplotlib.colorbar.Colorbar or None
        The colorbar of a heatmap.
    """

    figure: Figure | SubFigure
    ax: Axes
    artists: tuple[Any, ...]
    colorbar: Any


def _new_axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots()
    return new


def _unit(unit: str) -> str:
    return f"{_registry().Unit(unit):~P}"


def _check_result(result: Any, func: str) -> SynergyResult:
    if not isinstance(result, SynergyResult):
        hint = " Score it first: mp.combination.score(matrix)." if isinstance(result, DoseMatrix) else ""
        raise TypeError(
            f"`result` of {func} must be a SynergyResult from mp.combination.score; got "
            f"{type(result).__name__}.{hint}"
        )
    return result


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def heatmap(
    data: SynergyResult | DoseMatrix,
    *,
    pair: int | str = 0,
    model: str | None = "bliss",
    ax: Axes | None = None,
    cmap: Any = None,
    annotate: bool = True,
    colorbar: bool = True,
) -> CombinationArtists:
    """Heatmap of a pair's response (``model=None`` or a DoseMatrix) or synergy excess matrix.

    Rows are doses of drug A, columns doses of drug B, labelled with their values
    and units (the 0 row/column are the single agents).

    Parameters
    ----------
    data : SynergyResult or DoseMatrix
        Scores (for an excess map) or the data (for the mean response).
    pair : int or str, default 0
        The pair, by position or label.
    model : str or None, default "bliss"
        The model whose excess to draw; None draws the mean response.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    cmap : colormap, optional
        Default ``"RdBu_r"`` for excess (centred on 0, red = synergy), ``"viridis"`` for response.
    annotate : bool, default True
        Write the value in each cell.
    colorbar : bool, default True
        Add a colorbar.

    Returns
    -------
    CombinationArtists

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> m = mp.combination.DoseMatrix.from_arrays(
    ...     mp.Q_([0, 10, 100], "nM"), mp.Q_([0, 0.1, 1], "uM"), [[100, 80, 50], [90, 70, 40], [60, 45, 20]])
    >>> art = mp.combination.heatmap(m, model=None)
    >>> art.ax.get_xlabel(), art.ax.get_ylabel()
    ('B (µM)', 'A (nM)')
    """
    matrix = data.matrix if isinstance(data, SynergyResult) else data
    if not isinstance(matrix, DoseMatrix):
        raise TypeError(f"`data` must be a SynergyResult or a DoseMatrix; got {type(data).__name__}.")
    p = matrix.index(pair)
    if model is None or isinstance(data, DoseMatrix):
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(matrix.response[p])
            n = finite.sum(axis=-1)
            values = np.where(n > 0, np.where(finite, matrix.response[p], 0).sum(axis=-1) / np.maximum(n, 1), np.nan)
        label = f"response ({matrix.kind}, control = {matrix.scale:g})"
        cmap = cmap or "viridis"
        vmin = vmax = None
    else:
        values = np.asarray(data[model].excess[p])
        label = f"{model} excess (percentage points; > 0 synergy)"
        cmap = cmap or "RdBu_r"
        lim = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
        vmin, vmax = -lim, lim
    a = matrix.conc_a[p][np.isfinite(matrix.conc_a[p])]
    b = matrix.conc_b[p][np.isfinite(matrix.conc_b[p])]
    values = values[: a.size, : b.size]
    ax = _new_axes(ax)
    image = ax.imshow(values, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(np.arange(b.size), [_fmt(v) for v in b])
    ax.set_yticks(np.arange(a.size), [_fmt(v) for v in a])
    ax.set_xlabel(f"{matrix.drug_b[p]} ({_unit(matrix.unit_b)})")
    ax.set_ylabel(f"{matrix.drug_a[p]} ({_unit(matrix.unit_a)})")
    ax.set_title(matrix.pair[p])
    texts: list[Any] = []
    if annotate:
        for i in range(a.size):
            for j in range(b.size):
                if np.isfinite(values[i, j]):
                    texts.append(ax.text(j, i, f"{values[i, j]:.0f}", ha="center", va="center", fontsize=7))
    cb = ax.figure.colorbar(image, ax=ax, label=label) if colorbar else None
    return CombinationArtists(figure=ax.figure, ax=ax, artists=(image, *texts), colorbar=cb)


def isobologram(
    result: SynergyResult,
    *,
    pair: int | str = 0,
    levels: Sequence[float] = (0.5, 0.75, 0.9),
    ax: Axes | None = None,
) -> CombinationArtists:
    """Isobologram of a pair: Loewe isoboles at effect `levels` and the combination doses.

    The line of each level joins the single-agent doses ``(Dx_A, 0)`` and ``(0, Dx_B)``
    that give that effect (fraction affected) on the fitted 4PL curves; points are the
    combination doses (from the median-effect fit of the constant-ratio diagonal)
    giving the same effect, when the CI was computed.  Points below the line are
    synergistic.  A level beyond an agent's maximal effect has no isobole (skipped).

    Parameters
    ----------
    result : SynergyResult
    pair : int or str, default 0
    levels : sequence of float, default (0.5, 0.75, 0.9)
        Fractions affected, each strictly between 0 and 1 (at least one).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    CombinationArtists

    Raises
    ------
    TypeError
        A `result` that is not a SynergyResult.
    ValueError
        No level, or a level outside (0, 1).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> conc = mp.Q_([0, 0.1, 0.3, 1, 3, 10], "uM")
    >>> fu = 1 / (1 + np.add.outer(conc.m, conc.m))
    >>> res = mp.combination.score(mp.combination.DoseMatrix.from_arrays(conc, conc, 100 * fu), models=())
    >>> art = mp.combination.isobologram(res, levels=(0.5,))
    >>> len(art.artists) >= 1
    True
    """
    result = _check_result(result, "isobologram")
    lev = check_levels(levels, allow_empty=False)
    m = result.matrix
    p = m.index(pair)
    c = result.single
    ax = _new_axes(ax)
    artists: list[Any] = []
    factor_b = float(_registry().Quantity(1.0, m.unit_b).to(m.unit_a).magnitude)
    for k, f in enumerate(lev):
        dx = []
        for idx in (int(result.agent_a[p]), int(result.agent_b[p])):
            curve = ref.Curve(*(np.asarray(c.params[n][idx]) for n in ("bottom", "top", "ic50", "hill")))
            u = 1.0 - f
            with np.errstate(invalid="ignore", divide="ignore"):
                q = (u - curve.bottom) / (curve.top - curve.bottom)
                x = curve.ic50 * (1.0 / q - 1.0) ** (1.0 / curve.hill) if 0 < q < 1 else np.nan
            dx.append(float(x))
        xa, xb = dx[0], dx[1] / factor_b
        color = f"C{k}"
        if np.isfinite(xa) and np.isfinite(xb):
            (line,) = ax.plot([0, xb], [xa, 0], color=color, label=f"fa = {f:g}")
            artists.append(line)
        if result.ci is not None:
            lv = result.ci.levels
            hit = np.flatnonzero(np.isclose(lv, f))
            if hit.size:
                j = int(hit[0])
                da, db = result.ci.dose_a[p, j], result.ci.dose_b[p, j]
                if np.isfinite(da) and np.isfinite(db):
                    (pt,) = ax.plot([db], [da], "o", color=color)
                    artists.append(pt)
    ax.set_xlabel(f"{m.drug_b[p]} ({_unit(m.unit_b)})")
    ax.set_ylabel(f"{m.drug_a[p]} ({_unit(m.unit_a)})")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_title(f"{m.pair[p]}: isobologram")
    if artists:
        ax.legend(frameon=False)
    return CombinationArtists(figure=ax.figure, ax=ax, artists=tuple(artists), colorbar=None)


def fa_ci_plot(
    result: SynergyResult,
    *,
    pair: int | str | Sequence[int | str] = 0,
    ax: Axes | None = None,
    grid: int = 99,
) -> CombinationArtists:
    """The Chou–Talalay Fa–CI plot: combination index against fraction affected.

    The curve is the CI of the constant-ratio diagonal over fa = 0.01…0.99 (from the
    median-effect fits); points are the per-well CIs at the observed effects.  CI < 1 is
    synergy; the line CI = 1 is drawn.

    Parameters
    ----------
    result : SynergyResult
        Computed with ``levels`` (the CI must be present).
    pair : int, str or sequence of them, default 0
    ax : matplotlib.axes.Axes, optional
    grid : int, default 99
        Points of the curve, from 2 to 1,000,000.

    Returns
    -------
    CombinationArtists

    Raises
    ------
    TypeError
        A `result` that is not a SynergyResult (e.g. a DoseMatrix: score it first), a
        `grid` that is not an integer.
    ValueError
        A result scored without levels (no CI), a `grid` outside 2…1,000,000.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> conc = mp.Q_([0, 0.1, 0.3, 1, 3, 10], "uM")
    >>> fu = 1 / (1 + np.add.outer(conc.m, conc.m))
    >>> res = mp.combination.score(mp.combination.DoseMatrix.from_arrays(conc, conc, 100 * fu), models=())
    >>> art = mp.combination.fa_ci_plot(res)
    >>> art.ax.get_xlabel()
    'fraction affected (fa)'
    """
    result = _check_result(result, "fa_ci_plot")
    grid = integer(grid, "grid", low=2, high=10**6, accepted="an integer from 2 to 1,000,000 (points of the curve)")
    ci = result.ci
    if ci is None:
        raise ValueError("`result` has no combination index; score with levels=(...) to compute it.")
    m = result.matrix
    pairs = [pair] if isinstance(pair, int | str) else list(pair)
    ax = _new_axes(ax)
    artists: list[Any] = []
    fa = np.linspace(0.01, 0.99, grid)
    for k, pr in enumerate(pairs):
        p = m.index(pr)
        color = f"C{k}"
        me = ref.MedianEffect
        combo = me(*(np.asarray(v)[p] for v in (ci.dm_combo, ci.m_combo, ci.r_combo, ci.m_combo)))
        ma = me(np.asarray(ci.dm_a[p]), np.asarray(ci.m_a[p]), np.asarray(np.nan), np.asarray(np.nan))
        fb = float(_registry().Quantity(1.0, m.unit_b).to(m.unit_a).magnitude)
        mb = me(np.asarray(ci.dm_b[p] * fb), np.asarray(ci.m_b[p]), np.asarray(np.nan), np.asarray(np.nan))
        if np.isfinite(combo.dm):
            ratio = _diagonal_fraction_a(m, p)
            dc = ref.median_effect_dose(combo, fa)
            da, db = dc * ratio, dc * (1.0 - ratio)
            curve: FloatArray = da / ref.median_effect_dose(ma, fa) + db / ref.median_effect_dose(mb, fa)
            (line,) = ax.plot(fa, curve, color=color, label=m.pair[p])
            artists.append(line)
        per = np.asarray(ci.per_well[p])
        with np.errstate(invalid="ignore"):
            fa_obs = 1.0 - _mean_fu(m, p)
        ok = np.isfinite(per) & np.isfinite(fa_obs)
        if ok.any():
            (pts,) = ax.plot(fa_obs[ok], per[ok], "o", color=color, alpha=0.6, markersize=4)
            artists.append(pts)
    ax.axhline(1.0, color="0.5", lw=0.8, ls="--")
    ax.set_xlabel("fraction affected (fa)")
    ax.set_ylabel("combination index (CI)")
    ax.set_xlim(0, 1)
    if len(pairs) > 1:
        ax.legend(frameon=False)
    return CombinationArtists(figure=ax.figure, ax=ax, artists=tuple(artists), colorbar=None)


def _mean_fu(m: DoseMatrix, p: int) -> FloatArray:
    u = m.unaffected()[p]
    finite = np.isfinite(u)
    n = finite.sum(axis=-1)
    out: FloatArray = np.where(n > 0, np.where(finite, u, 0.0).sum(axis=-1) / np.maximum(n, 1), np.nan)
    return out


def _diagonal_fraction_a(m: DoseMatrix, p: int) -> float:
    """Share of A in the total dose along the diagonal (doses in A's unit)."""
    factor_b = float(_registry().Quantity(1.0, m.unit_b).to(m.unit_a).magnitude)
    a, b = float(m.conc_a[p, 1]), float(m.conc_b[p, 1]) * factor_b
    return a / (a + b)
