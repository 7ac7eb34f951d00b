"""Figures of combination data and scores (matplotlib, imported only when a function is called)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .._typing import FloatArray
from .._validate import integer
from ..units import _registry
from . import _reference as ref
from ._matrix import DoseMatrix, display_pair
from ._score import MODEL_NAMES, SynergyResult, SynergyStatus, check_levels

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
    note : matplotlib.text.Text or None
        Says what the figure cannot show and why (an isobologram's missing isoboles
        or combination points, a Fa–CI plot without its CI curve); None otherwise.
    missing : mapping of float to str
        Isobologram: each requested effect level (fa) lacking its isobole or its
        combination point, with the reason; empty otherwise.
    """

    figure: Figure | SubFigure
    ax: Axes
    artists: tuple[Any, ...]
    colorbar: Any
    note: Any = None
    missing: Mapping[float, str] = field(default_factory=lambda: MappingProxyType({}))


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


def _text_color(image: Any, value: float) -> str:
    """Black or white, whichever reads on the cell's colour (relative luminance, WCAG)."""
    r, g, b, _ = image.cmap(image.norm(value))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "black" if lum > 0.45 else "white"


def _ci_why(result: SynergyResult, p: int) -> str:
    """Why the combination index at the levels is NaN for pair `p` (its status in words)."""
    ci = result.ci
    if ci is None:
        return "no combination index (score with levels=(...) to compute it)"
    code = int(ci.status[p])
    if code & SynergyStatus.NO_CONSTANT_RATIO:
        return "no constant-ratio diagonal (CI status NO_CONSTANT_RATIO)"
    if code & SynergyStatus.SINGLE_AGENT_UNDETERMINED:
        return "a single agent is undetermined (CI status SINGLE_AGENT_UNDETERMINED)"
    return "the median-effect fit of the diagonal is undetermined"


def _note(ax: Axes, lines: list[str], handles: list[Any], loc: Literal["upper right", "best"]) -> Any:
    """The legend of `handles`, titled with the note of what is missing (so that the two cannot
    overlap); no legend when there is neither.  Returns the note's Text, or None."""
    text = "\n".join(_wrap(t) for t in lines) if lines else None
    if not handles and text is None:
        return None
    leg = ax.legend(handles=handles, frameon=False, loc=loc, title=text, title_fontsize="small", alignment="left")
    return leg.get_title() if text is not None else None


def _wrap(text: str, width: int = 40) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width=width, subsequent_indent="  "))


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
        label = f"Response ({matrix.kind}, control = {matrix.scale:g})"
        cmap = cmap or "viridis"
        vmin = vmax = None
    else:
        values = np.asarray(data[model].excess[p])
        label = f"{MODEL_NAMES.get(model, model)} excess (percentage points; > 0 synergy)"
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
    ax.set_title(display_pair(matrix, p))
    texts: list[Any] = []
    if annotate:
        size = 8 if max(a.size, b.size) <= 8 else 6
        for i in range(a.size):
            for j in range(b.size):
                if np.isfinite(values[i, j]):
                    texts.append(ax.text(j, i, f"{values[i, j]:.0f}", ha="center", va="center", fontsize=size,
                                         color=_text_color(image, float(values[i, j]))))
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
    synergistic.  A level beyond an agent's maximal effect has no isobole, and a
    design without a constant-ratio diagonal has no combination points: a note on the
    Axes (the legend's title) names each such level and says why, and
    ``missing`` of the returned object holds them.

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
        With ``note`` and ``missing`` (level → reason) for levels drawn without
        their isobole or combination point.

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
    isoboles: list[Any] = []
    no_line: dict[float, str] = {}
    no_point: dict[float, str] = {}
    for k, f in enumerate(lev):
        dx = []
        why = []
        for idx, drug in ((int(result.agent_a[p]), m.drug_a[p]), (int(result.agent_b[p]), m.drug_b[p])):
            curve = ref.Curve(*(np.asarray(c.params[n][idx]) for n in ("bottom", "top", "ic50", "hill")))
            u = 1.0 - f
            with np.errstate(invalid="ignore", divide="ignore"):
                q = (u - curve.bottom) / (curve.top - curve.bottom)
                x = curve.ic50 * (1.0 / q - 1.0) ** (1.0 / curve.hill) if 0 < q < 1 else np.nan
            dx.append(float(x))
            if not np.isfinite(x):
                why.append(_no_dose_reason(drug, curve, float(f)))
        xa, xb = dx[0], dx[1] / factor_b
        color = f"C{k}"
        if np.isfinite(xa) and np.isfinite(xb):
            (line,) = ax.plot([0, xb], [xa, 0], color=color, label=f"fa = {f:g}")
            artists.append(line)
            isoboles.append(line)
        else:
            no_line[float(f)] = "; ".join(why) or "no single-agent dose gives this effect"
        hit = np.flatnonzero(np.isclose(result.ci.levels, f)) if result.ci is not None else np.zeros(0, int)
        if result.ci is None or not hit.size:
            no_point[float(f)] = (
                _ci_why(result, p) if result.ci is None else "the CI was not scored at this level"
            )
            continue
        j = int(hit[0])
        da, db = result.ci.dose_a[p, j], result.ci.dose_b[p, j]
        if np.isfinite(da) and np.isfinite(db):
            (pt,) = ax.plot([db], [da], "o", color=color)
            artists.append(pt)
        else:
            no_point[float(f)] = _ci_why(result, p)
    ax.set_xlabel(f"{m.drug_b[p]} ({_unit(m.unit_b)})")
    ax.set_ylabel(f"{m.drug_a[p]} ({_unit(m.unit_a)})")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    if artists:  # room at the upper right, above the isoboles, for the legend and its note
        ax.set_xlim(right=ax.get_xlim()[1] * 1.5)
        ax.set_ylim(top=ax.get_ylim()[1] * 1.5)
    ax.set_title(f"{display_pair(m, p)}: isobologram")
    lines = [f"no isobole at fa = {_levels(no_line, why)}: {why}" for why in dict.fromkeys(no_line.values())]
    lines += [
        f"no combination point at fa = {_levels(no_point, why)}: {why}" for why in dict.fromkeys(no_point.values())
    ]
    note = _note(ax, lines, isoboles, "upper right")
    missing: dict[float, str] = {}
    for f in sorted({*no_line, *no_point}):
        parts = [f"no isobole: {no_line[f]}"] if f in no_line else []
        parts += [f"no combination point: {no_point[f]}"] if f in no_point else []
        missing[f] = "; ".join(parts)
    return CombinationArtists(figure=ax.figure, ax=ax, artists=tuple(artists), colorbar=None, note=note,
                              missing=MappingProxyType(missing))


def _levels(reasons: Mapping[float, str], why: str) -> str:
    return ", ".join(f"{f:g}" for f, w in reasons.items() if w == why)


def _no_dose_reason(drug: str, curve: ref.Curve, fa: float) -> str:
    """Why no single-agent dose of `drug` gives the effect level `fa` (fraction affected)."""
    bottom, top = float(curve.bottom), float(curve.top)
    if not all(np.isfinite(v) for v in (bottom, top, float(curve.ic50), float(curve.hill))):
        return f"{drug}'s single-agent curve is undetermined"
    if top <= bottom:
        return f"{drug} alone shows no falling dose-response"
    if fa >= 1.0 - bottom:
        return f"{drug} alone reaches at most fa = {1.0 - bottom:.2f}"
    return f"{drug} alone has fa ≥ {1.0 - top:.2f} at every dose"


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
    missing_curve: list[str] = []
    curves: list[Any] = []
    for k, pr in enumerate(pairs):
        p = m.index(pr)
        color = f"C{k}"
        me = ref.MedianEffect
        combo = me(*(np.asarray(v)[p] for v in (ci.dm_combo, ci.m_combo, ci.r_combo, ci.m_combo)))
        ma = me(np.asarray(ci.dm_a[p]), np.asarray(ci.m_a[p]), np.asarray(np.nan), np.asarray(np.nan))
        fb = float(_registry().Quantity(1.0, m.unit_b).to(m.unit_a).magnitude)
        mb = me(np.asarray(ci.dm_b[p] * fb), np.asarray(ci.m_b[p]), np.asarray(np.nan), np.asarray(np.nan))
        if not np.isfinite(combo.dm):
            missing_curve.append(f"no CI curve for {display_pair(m, p)}: {_ci_why(result, p)}")
        else:
            ratio = _diagonal_fraction_a(m, p)
            dc = ref.median_effect_dose(combo, fa)
            da, db = dc * ratio, dc * (1.0 - ratio)
            curve: FloatArray = da / ref.median_effect_dose(ma, fa) + db / ref.median_effect_dose(mb, fa)
            (line,) = ax.plot(fa, curve, color=color, label=display_pair(m, p))
            artists.append(line)
            curves.append(line)
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
    if len(pairs) == 1:  # the title names the pair; several pairs: the legend does
        ax.set_title(f"{display_pair(m, m.index(pairs[0]))}: Fa–CI")
    note = _note(ax, missing_curve, curves if len(pairs) > 1 else [], "best")
    return CombinationArtists(figure=ax.figure, ax=ax, artists=tuple(artists), colorbar=None, note=note)


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
