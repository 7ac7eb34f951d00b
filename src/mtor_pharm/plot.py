"""Figures of dose-response fits, with matplotlib (optional: ``pip install "mtor_pharm[plot]"``).

Every function draws on the Axes it is given (or on a new figure) and returns
a small frozen dataclass holding the matplotlib objects it made — the Figure,
the Axes and each artist — so that any of them can be restyled afterwards.
matplotlib is imported when a function is called, never when ``mtor_pharm``
or this module is imported.

=========================  ==========================================================
function                   draws
=========================  ==========================================================
:func:`curve`              one fitted curve: data (mean ± SD of replicates), the curve,
                           its confidence band, vehicle wells on a stub at x = 0
:func:`curves`             several fitted curves on one Axes, with a legend
:func:`residuals`          observed − fitted against concentration
:func:`plate_heatmap`      one value per well of a 96- or 384-well plate
=========================  ==========================================================

The concentration axis is logarithmic and labelled with its unit; vehicle
wells (x = 0), which a log axis cannot show, go on a narrow stub axis to the
left of a break, sharing the response axis.
"""

from __future__ import annotations

import importlib
import math
import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np
import pint
from numpy.typing import ArrayLike
from scipy import stats

from ._tables import _check_columns, _numeric_column, excluded_flags, status_words, unit_column
from ._typing import FloatArray, Quantity
from ._validate import _short, boolean, choice, integer, optional_number, real_number
from .errors import PlateLayoutError, ShapeError, UnitError
from .fitting import FitResult
from .fitting._result import _did_you_mean
from .units import _registry, as_concentration, as_float_array, parse_unit

#: Most points :func:`curve` draws (a bigger grid only costs memory).
_MAX_POINTS = 100_000

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import PolyCollection
    from matplotlib.colorbar import Colorbar
    from matplotlib.container import ErrorbarContainer
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.image import AxesImage
    from matplotlib.legend import Legend
    from matplotlib.lines import Line2D

__all__ = [
    "CurveArtists",
    "CurvesArtists",
    "DoseResponseArtists",
    "HeatmapArtists",
    "ResidualArtists",
    "curve",
    "curves",
    "dose_response",
    "plate_heatmap",
    "residuals",
]

#: What the error bars of replicated concentrations show; None plots every point.
ErrorBar: TypeAlias = Literal["sd", "se"] | None
#: A confidence band: True (delta method), False, or a callable mapping the
#: concentration grid (a Quantity in the result's unit) to ``(low, high)`` responses.
Band: TypeAlias = bool | Callable[[Quantity], tuple[ArrayLike, ArrayLike]]

#: Decades drawn beyond the tested range on each side of the fitted curve.
_MARGIN_DECADES = 0.25
#: Vehicle stubs already made, by main Axes (so several curves share one).
_STUBS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_WELL = re.compile(r"^\s*([A-Pa-p])\s*0*(\d{1,2})\s*$")
_PLATES: Mapping[int, tuple[int, int]] = {96: (8, 12), 384: (16, 24)}


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CurveArtists:
    """What :func:`curve` drew.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
        The concentration Axes.
    line : matplotlib.lines.Line2D
        The fitted curve.
    band : matplotlib.collections.PolyCollection or None
        The confidence band (None when not drawn or without residual degrees of freedom).
    points : matplotlib.container.ErrorbarContainer or None
        The data at positive concentrations (means with error bars, or every point).
    vehicle_ax : matplotlib.axes.Axes or None
        The stub Axes showing x = 0 (log axis with vehicle data only).
    vehicle_points : matplotlib.container.ErrorbarContainer or None
        The vehicle data (at x = 0; side by side when several curves share the stub).
    vehicle_line : matplotlib.lines.Line2D or None
        The fitted zero-dose response, a short line on the stub.
    """

    figure: Figure | SubFigure
    ax: Axes
    line: Line2D
    band: PolyCollection | None
    points: ErrorbarContainer | None
    vehicle_ax: Axes | None
    vehicle_points: ErrorbarContainer | None
    vehicle_line: Line2D | None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CurvesArtists:
    """What :func:`curves` drew: one :class:`CurveArtists` per curve and the legend."""

    figure: Figure | SubFigure
    ax: Axes
    curves: tuple[CurveArtists, ...]
    legend: Legend | None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ResidualArtists:
    """What :func:`residuals` drew.

    Attributes
    ----------
    figure, ax
        The Figure and the concentration Axes.
    points : matplotlib.lines.Line2D
        Residuals at positive concentrations.
    zero_line : matplotlib.lines.Line2D
        The horizontal line at 0.
    vehicle_ax : matplotlib.axes.Axes or None
        The stub Axes for x = 0.
    vehicle_points : matplotlib.lines.Line2D or None
        Residuals of the vehicle wells.
    note : matplotlib.text.Text or None
        Says why there is no residual at a positive concentration (the fit
        failed, or no such data point); None otherwise.
    """

    figure: Figure | SubFigure
    ax: Axes
    points: Line2D
    zero_line: Line2D
    vehicle_ax: Axes | None
    vehicle_points: Line2D | None
    note: Any = None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class HeatmapArtists:
    """What :func:`plate_heatmap` drew: the image (one pixel per well) and its colorbar."""

    figure: Figure | SubFigure
    ax: Axes
    image: AxesImage
    colorbar: Colorbar | None


# ----------------------------------------------------------------------------- helpers
#: Projections on which a concentration axis cannot be drawn.
_NOT_CARTESIAN = frozenset({"polar", "3d", "aitoff", "hammer", "lambert", "mollweide"})


def _check_ax(ax: Any) -> None:
    """None, or one Cartesian matplotlib Axes."""
    if ax is None:
        return
    from matplotlib.axes import Axes as _Axes
    from matplotlib.figure import FigureBase

    if isinstance(ax, np.ndarray | list | tuple):
        many = len(ax) > 0 and all(isinstance(a, _Axes) for a in np.asarray(ax, dtype=object).flat)
        hint = (
            " (the array of Axes that plt.subplots(nrows, ncols) returns): pass one of them, e.g. ax=axs[0]"
            if many
            else ""
        )
        kind = f"numpy array of shape {ax.shape}" if isinstance(ax, np.ndarray) else f"{type(ax).__name__} of {len(ax)}"
        raise TypeError(f"`ax` must be one matplotlib Axes; got a {kind}{hint}.")
    if isinstance(ax, FigureBase):
        raise TypeError("`ax` must be a matplotlib Axes; got a Figure. Pass fig.gca() or fig.add_subplot().")
    if not isinstance(ax, _Axes):
        raise TypeError(
            f"`ax` must be a matplotlib Axes (e.g. from fig, ax = plt.subplots()), or None for a new figure; "
            f"got {type(ax).__name__} {_short(ax)}."
        )
    if getattr(ax, "name", "") in _NOT_CARTESIAN:
        raise ValueError(
            f"`ax` must be a Cartesian Axes (x and y axes); got one with the {ax.name!r} projection, "
            "which cannot show a concentration axis."
        )


def _check_color(color: Any) -> None:
    """None, or a matplotlib color."""
    if color is None:
        return
    from matplotlib.colors import is_color_like

    if not is_color_like(color):
        kind = ValueError if isinstance(color, str | tuple | list | np.ndarray) else TypeError
        raise kind(
            "`color` must be a matplotlib color: a name ('red', 'C1'), a hex string ('#1f77b4'), a grey level "
            f"('0.5') or an RGB(A) tuple of numbers in [0, 1], or None for the next color; got {_short(color)}."
        )


def _check_marker(marker: Any) -> None:
    """A marker matplotlib knows ('o', 's', '^', '$x$', (5, 0, 0), ...)."""
    from matplotlib.markers import MarkerStyle

    try:
        if marker is None or isinstance(marker, bool):
            raise ValueError
        MarkerStyle(marker)
    except (ValueError, TypeError):
        raise ValueError(
            f"`marker` must be a matplotlib marker such as 'o', 's', '^', 'D' or 'x'; got {_short(marker)}."
        ) from None


def _marker_style(marker: Any) -> dict[str, Any]:
    """The errorbar() arguments drawing points with `marker` (a checked marker)."""
    from matplotlib.lines import Line2D as _Line2D

    if isinstance(marker, str) and len(marker) == 1 and marker in _Line2D.markers:
        return {"fmt": marker}  # a format-string marker: drawn as before
    return {"fmt": "", "marker": marker, "linestyle": "none"}


def _colormap(cmap: Any) -> Any:
    """A matplotlib Colormap from a registered name or a Colormap."""
    import matplotlib
    from matplotlib.colors import Colormap

    if isinstance(cmap, Colormap):
        return cmap
    if isinstance(cmap, str):
        names = list(matplotlib.colormaps)
        if cmap in names:
            return matplotlib.colormaps[cmap]
        raise ValueError(
            f"`cmap` must be the name of a registered colormap such as 'viridis' or 'magma', or a matplotlib "
            f"Colormap; got {cmap!r}.{_did_you_mean(cmap, names)}"
        )
    raise TypeError(
        f"`cmap` must be the name of a registered colormap such as 'viridis', or a matplotlib Colormap; "
        f"got {_short(cmap)}."
    )


def _check_finite_conc(x: FloatArray, y: FloatArray, unit: Any, where: tuple[int, ...] = ()) -> None:
    """No infinite concentration, and NaN concentrations only where the response is NaN too (padding);
    the messages of :func:`mtor_pharm.fit`."""
    if np.isinf(x).any():
        raise ValueError(f"`conc` must be finite; got {x[np.isinf(x)][0]} {unit!s}.")
    nan_x = np.isnan(x) & ~np.isnan(y)
    if nan_x.any():
        at = (*where, *(int(i) for i in np.argwhere(nan_x)[0]))
        raise ValueError(
            f"`conc` is NaN at index {at} where `response` is {y[nan_x][0]}; NaN concentrations "
            "may only pad ragged designs where the response is NaN too."
        )
    if np.isinf(y).any():
        at = (*where, *(int(i) for i in np.argwhere(np.isinf(y))[0]))
        raise ValueError(f"`response` must be finite or NaN (missing); got {y[np.isinf(y)][0]} at index {at}.")


def _band_values(given: Any, n: int) -> tuple[FloatArray, FloatArray]:
    """The (low, high) a `band` callable returned, as two arrays of `n` responses."""
    what = f"`band` must return (low, high): two sequences of {n} responses, one per grid concentration"
    if isinstance(given, str | bytes) or not isinstance(given, Sequence | np.ndarray) or len(given) != 2:
        raise TypeError(f"{what}; got {_short(given)}.")
    out = []
    for part, name in zip(given, ("low", "high"), strict=True):
        try:
            if isinstance(part, str | bytes):
                raise TypeError
            arr = as_float_array(part, name=f"band {name}")
        except (TypeError, ValueError, ShapeError):
            raise TypeError(f"{what}; its {name} is {_short(part)}.") from None
        if arr.shape != (n,):
            raise ShapeError(f"{what}; its {name} has shape {arr.shape}.")
        out.append(arr)
    return out[0], out[1]


def _axis_range(
    res: FitResult, idx: tuple[int, ...], data: tuple[FloatArray, FloatArray] | None
) -> tuple[float, float]:
    """The tested concentrations (in the unit of the fit): from the data, else the fit, else 1 to 10."""
    lo = hi = math.nan
    if data is not None and np.any(data[0] > 0):
        positive = data[0][data[0] > 0]
        lo, hi = float(positive.min()), float(positive.max())
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
        lo, hi = float(np.asarray(res.conc_min)[idx]), float(np.asarray(res.conc_max)[idx])
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
        lo, hi = 1.0, 10.0
    return lo, hi


def _positive_xlim(ax: Axes, lo: float, hi: float) -> None:
    """Give a log x axis positive limits when nothing drawn on it has x > 0 (else it cannot be drawn)."""
    left, right = ax.get_xlim()
    if not (math.isfinite(left) and math.isfinite(right) and 0 < left < right):
        ax.set_xlim(lo * 10.0**-_MARGIN_DECADES, hi * 10.0**_MARGIN_DECADES)


def _sequence_like(value: Any, access: str) -> bool:
    """A sized collection of entries with `access` (``"__getitem__"`` to index it, ``"__iter__"`` to
    walk it): a list, tuple, array or pandas Index; never a string, a mapping, a set or a 0-d array."""
    return not (
        isinstance(value, str | bytes | Mapping | set | frozenset)
        or not hasattr(value, "__len__")
        or not hasattr(value, access)
        or getattr(value, "ndim", 1) == 0
    )


def _new_axes(ax: Axes | None) -> Axes:
    if ax is not None:
        _check_ax(ax)
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots()
    return new


def _check_index(res: FitResult, index: int | tuple[int, ...] | None) -> tuple[int, ...]:
    """The position of one curve in the batch, as a tuple."""
    if not isinstance(res, FitResult):
        raise TypeError(f"`res` must be a FitResult (from mp.fit); got {type(res).__name__}.")
    if index is None:
        if res.shape:
            raise TypeError(
                f"`index` must say which curve of the batch of shape {res.shape} to draw; got None. "
                "Pass index=0 (or a tuple), or use curves() to draw them all."
            )
        return ()
    if isinstance(index, int | np.integer):
        idx: tuple[Any, ...] = (index,)
    elif isinstance(index, tuple | list):
        idx = tuple(index)
    else:
        raise TypeError(f"`index` must be an int or a tuple of ints; got {index!r:.80}.")
    if len(idx) != len(res.shape) or any(
        isinstance(i, bool) or not isinstance(i, int | np.integer) or not -n <= int(i) < n
        for i, n in zip(idx, res.shape, strict=False)
    ):
        raise IndexError(f"`index` must be a position in the batch of shape {res.shape}; got {index!r}.")
    return tuple(int(i) % n for i, n in zip(idx, res.shape, strict=True))


def _has_unit(conc: Any) -> bool:
    if isinstance(conc, pint.Quantity | str):
        return True
    return isinstance(conc, Sequence) and len(conc) > 0 and isinstance(conc[0], str | pint.Quantity)


def _factor(from_unit: Any, to_unit: Any) -> float:
    if isinstance(to_unit, str) or not isinstance(to_unit, pint.Unit):
        to_unit = parse_unit(to_unit, name="unit")
    try:
        return float(_registry().Quantity(1.0, from_unit).to(to_unit).magnitude)
    except (pint.errors.DimensionalityError, pint.errors.UndefinedUnitError, ValueError, TypeError):
        raise UnitError(
            f"`unit` must be a concentration unit such as 'nM' or 'uM'; got {to_unit!r}, which "
            f"{from_unit!s} does not convert to."
        ) from None


def _data(
    res: FitResult, idx: tuple[int, ...], conc: Any, response: Any, conc_unit: str | None
) -> tuple[FloatArray, FloatArray] | None:
    """One curve's points: concentrations in the result's unit and responses, 1-D each."""
    if conc is None and response is None:
        return None
    if conc is None or response is None:
        raise TypeError("`conc` and `response` must be given together (or neither, to draw the fit alone).")
    if conc_unit is None and not _has_unit(conc):
        conc_unit = res.conc_unit  # a bare array is read in the unit of the fit
    x, unit = as_concentration(conc, conc_unit=conc_unit, accepts=frozenset({"conc_unit"}))
    x = x * _factor(unit, res.conc_unit)
    if isinstance(response, str | bytes):
        raise TypeError(f"`response` must hold numbers; got the string {response!r}.")
    y = as_float_array(response, name="response")
    batch_y = y.ndim > 1 and y.shape[:-1] == res.shape
    if y.ndim > 1:
        y = y[idx] if y.shape[:-1] == res.shape else y
    if x.ndim > 1:
        x = x[idx] if x.shape[:-1] == res.shape else x
    if x.ndim != 1 or y.shape != x.shape:
        raise ShapeError(
            f"`conc` and `response` must give one curve's points, shape (m,), or the whole batch, shape "
            f"{res.shape} + (m,); got conc {np.shape(conc)} and response {np.shape(response)}."
        )
    if np.any(x < 0):
        raise ValueError(f"`conc` must be non-negative (0 marks vehicle; "
            f"log10 values: use mp.units.from_log10); got {x[x < 0][0]} {res.conc_unit}.")
    _check_finite_conc(x, y, res.conc_unit, idx if batch_y else ())
    return x, y


def _summarize(x: FloatArray, y: FloatArray, errorbar: ErrorBar) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """Points to draw: every finite point, or the mean ± SD/SE per concentration."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if errorbar is None:
        return x, y, None
    ux, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    if ux.size == x.size:
        return x, y, None
    mean = np.bincount(inverse, weights=y, minlength=ux.size) / counts
    ss = np.bincount(inverse, weights=(y - mean[inverse]) ** 2, minlength=ux.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.where(counts > 1, np.sqrt(ss / (counts - 1)), np.nan)
    err = sd if errorbar == "sd" else sd / np.sqrt(counts)
    return ux, mean, err


def _params(res: FitResult, idx: tuple[int, ...]) -> dict[str, float]:
    return {k: float(np.asarray(v)[idx]) for k, v in res.params.items()}


def _predict(res: FitResult, idx: tuple[int, ...], x: FloatArray) -> FloatArray:
    out: FloatArray = res.family(x, **_params(res, idx))
    return out


def _delta_band(res: FitResult, idx: tuple[int, ...], x: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    """Pointwise Wald-t band of the fitted mean: ``f ± t·sqrt(gᵀ C g)``, g the model Jacobian."""
    names = res.param_names
    values = np.array([float(np.asarray(res.params[n])[idx]) for n in names])
    logged = np.array([n in res.family.log_params for n in names])  # the family's log-scale parameters
    with np.errstate(divide="ignore", invalid="ignore"):
        P = np.where(logged, np.log(values), values)
        scale = np.where(logged, values, 1.0)
        C = np.asarray(res.covariance)[idx] / np.outer(scale, scale)  # covariance of the internal parameters
        lx = np.log(x)
    f, cols = res.family.evaluate(lx[None, :], P[None, :], jacobian=True)
    J = np.stack([c[0] for c in cols], axis=-1)
    var = np.einsum("kp,pq,kq->k", J, C, J)
    dof = float(np.asarray(res.dof)[idx])
    t = float(stats.t.ppf(0.5 + level / 2.0, dof)) if dof > 0 else math.nan
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.maximum(var, 0.0))
    return f[0] - t * se, f[0] + t * se


def _vehicle_axes(ax: Axes) -> Axes:
    """The stub Axes at the left of `ax` showing x = 0, made once per Axes."""
    stub: Axes | None = _STUBS.get(ax)
    if stub is not None:
        return stub
    # axes_grid1 ships without type information: reach it through importlib
    grid = importlib.import_module("mpl_toolkits.axes_grid1")
    stub = grid.make_axes_locatable(ax).append_axes("left", size="9%", pad=0.12, sharey=ax)
    assert stub is not None
    stub.set_xlim(-1.0, 1.0)
    stub.set_xticks([0.0], labels=["0"])
    stub.spines["right"].set_visible(False)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", which="both", left=False, labelleft=False)
    # The y label stays on `ax`, so that ax.set_ylabel works as usual: joining the two Axes'
    # label-alignment group (what Figure.align_ylabels does for subplots; the stub is not one)
    # places it left of the stub's tick labels.  Without that group, the label moves to the stub.
    groups = getattr(ax.figure, "_align_label_groups", None)
    if isinstance(groups, dict) and hasattr(groups.get("y"), "join"):
        groups["y"].join(stub, ax)
    else:  # pragma: no cover - a matplotlib without label alignment groups
        stub.set_ylabel(ax.get_ylabel())
        ax.set_ylabel("")
    # the break: two short diagonal strokes on each side of the gap
    mark: dict[str, Any] = {
        "marker": [(-1, -1.6), (1, 1.6)],
        "markersize": 8,
        "linestyle": "none",
        "color": "k",
        "mec": "k",
        "mew": 1,
        "clip_on": False,
    }
    stub.plot([1, 1], [0, 1], transform=stub.transAxes, **mark)
    ax.plot([0, 0], [0, 1], transform=ax.transAxes, **mark)
    _STUBS[ax] = stub
    return stub


def _set_ylabel(ax: Axes, text: str) -> None:
    """A default y label, unless the user (or an earlier call) set one."""
    stub = _STUBS.get(ax)
    if not ax.get_ylabel() and (stub is None or not stub.get_ylabel()):
        ax.set_ylabel(text)


def _unit_label(unit: Any) -> str:
    u = parse_unit(unit, name="unit") if isinstance(unit, str) else _registry().Unit(unit)
    return f"{u:~P}"


# ----------------------------------------------------------------------------- public
def curve(
    res: FitResult,
    conc: Any = None,
    response: ArrayLike | None = None,
    *,
    index: int | tuple[int, ...] | None = None,
    ax: Axes | None = None,
    band: Band = True,
    level: float = 0.95,
    label: str | None = None,
    log: bool = True,
    unit: str | None = None,
    conc_unit: str | None = None,
    errorbar: ErrorBar = "sd",
    vehicle: bool = True,
    color: Any = None,
    n_points: int = 200,
    marker: str = "o",
) -> CurveArtists:
    """Draw one fitted dose-response curve with its data and confidence band.

    Parameters
    ----------
    res : FitResult
        A fit from :func:`mtor_pharm.fit`.
    conc : Quantity or array_like, shape (m,) or batch + (m,), optional
        Concentrations of the data points (0 marks vehicle).  A bare array is read
        in `conc_unit`, which defaults to the unit of the fit.
    response : array_like, shape (m,) or batch + (m,), optional
        Responses; NaN points are left out.  Give both or neither (the fit alone).
        As in :func:`mtor_pharm.fit`, a concentration may be NaN only where the
        response is NaN too (padding of a ragged design), and neither may be infinite.
    index : int or tuple of int, optional
        Which curve of a batch result to draw (required when ``res.shape != ()``).
        Batch-shaped `conc`/`response` are indexed with it too.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    band : bool or callable, default True
        True: a pointwise confidence band of the fitted curve by the delta method
        (below).  A callable receives the concentration grid (a Quantity in the
        unit of the fit) and returns ``(low, high)`` responses, e.g. a band from
        another method; False draws none.
    level : float, default 0.95
        Confidence level of the band.
    label : str, optional
        Legend label of the fitted line.
    log : bool, default True
        Logarithmic concentration axis, with vehicle wells on a stub at the left.
        With ``log=False`` vehicle wells are drawn at 0 on the linear axis.
    unit : str, optional
        Concentration unit of the axis; default the unit of the fit.
    conc_unit : str, optional
        Unit of a bare `conc` array.
    errorbar : {"sd", "se", None}, default "sd"
        At concentrations with replicates, draw the mean with its standard
        deviation or standard error; None draws every point.
    vehicle : bool, default True
        Draw the vehicle (x = 0) points.
    color : matplotlib color, optional
        Default: the next color of the Axes' cycle.
    n_points : int, default 200
        Points of the drawn curve.
    marker : str, default "o"
        matplotlib marker of the data points (``'o'``, ``'s'``, ``'^'``, ``'$x$'``, …).

    Returns
    -------
    CurveArtists
        The Figure, the Axes and every artist drawn.

    Raises
    ------
    TypeError
        `res` is not a FitResult; `index` missing for a batch; only one of
        `conc`/`response`; `ax` is not one Axes; a flag is not True/False.
    ValueError
        A NaN concentration with a response, or an infinite value; a `color`
        or `marker` matplotlib does not know; a polar (or 3-D, map) `ax`.
    IndexError
        `index` is not a position in the batch.
    ShapeError
        `conc` and `response` do not describe one curve; a `band` callable
        returning arrays of another length.
    UnitError
        `conc` is not a concentration.

    See Also
    --------
    curves : several curves with a legend.
    residuals : the residual plot of the same data.

    Notes
    -----
    The band is the Wald interval of the fitted mean at each concentration,
    ``f(x) ± t(dof) · sqrt(g(x)ᵀ C g(x))``, where ``g`` is the model's analytic
    Jacobian with respect to its parameters (location and ``s`` on the log
    scale, as fitted) and ``C`` the covariance :attr:`FitResult.covariance`; it
    is the band of the curve, not a prediction band for new wells.  Fixed
    parameters do not contribute.  The curve spans the tested concentrations
    plus a quarter decade on each side.

    .. versionadded:: 0.1.0

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import mtor_pharm.plot
    >>> conc = mp.Q_([0, 0, 0.01, 0.01, 0.1, 0.1, 1, 1, 10, 10], "uM")
    >>> viability = [101, 98, 97, 99, 82, 86, 31, 27, 6, 4]
    >>> res = mp.fit(conc, viability)
    >>> art = mp.plot.curve(res, conc, viability, label="Torin1")
    >>> art.ax.get_xscale(), art.ax.get_xlabel()
    ('log', 'concentration (µM)')
    >>> art.vehicle_ax is not None
    True
    """
    idx = _check_index(res, index)
    if band is not True and band is not False and not callable(band):
        raise TypeError(f"`band` must be True, False or a callable; got {band!r}.")
    if errorbar is not None:
        choice(errorbar, "errorbar", ("sd", "se"))
    real_number(level, "level", low=0.0, high=1.0, low_open=True, high_open=True, accepted="a number in (0, 1)")
    integer(n_points, "n_points", low=2, high=_MAX_POINTS, accepted=f"an integer from 2 to {_MAX_POINTS:,}")
    log = boolean(log, "log")
    vehicle = boolean(vehicle, "vehicle")
    _check_ax(ax)
    _check_color(color)
    _check_marker(marker)
    show_unit = res.conc_unit if unit is None else unit
    scale = _factor(res.conc_unit, show_unit)  # raises for a unit that is not a concentration
    data = _data(res, idx, conc, response, conc_unit)

    # the concentration grid of the fitted curve (in the unit of the fit)
    if data is not None and np.any(data[0] > 0):
        positive = data[0][data[0] > 0]
        lo, hi = float(positive.min()), float(positive.max())
    else:
        lo, hi = float(np.asarray(res.conc_min)[idx]), float(np.asarray(res.conc_max)[idx])
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
        lo, hi = 1.0, 1.0
    if log:
        grid = np.logspace(math.log10(lo) - _MARGIN_DECADES, math.log10(hi) + _MARGIN_DECADES, n_points)
    else:
        grid = np.linspace(0.0, hi * 10.0**_MARGIN_DECADES, n_points)

    ax = _new_axes(ax)
    fitted = _predict(res, idx, grid)
    (line,) = ax.plot(grid * scale, fitted, color=color, label=label)
    color = line.get_color()
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(f"concentration ({_unit_label(show_unit)})")
    _set_ylabel(ax, "response")

    band_artist = None
    if band is not False:
        if band is True:
            low, high = _delta_band(res, idx, grid, float(level))
        else:
            low, high = _band_values(band(_registry().Quantity(grid, res.conc_unit)), grid.size)
        if np.isfinite(low).any() and np.isfinite(high).any():  # no band without degrees of freedom
            band_artist = ax.fill_between(grid * scale, low, high, color=color, alpha=0.2, linewidth=0)

    points = vehicle_points = None
    vehicle_ax = vehicle_line = None
    if data is not None:
        x, y = data
        px, py, err = _summarize(x[x > 0], y[x > 0], errorbar)
        if px.size:
            points = ax.errorbar(px * scale, py, yerr=err, color=color, capsize=3, markersize=5,
                                 **_marker_style(marker))
        vx, vy, verr = _summarize(x[x == 0], y[x == 0], errorbar)
        if vehicle and vx.size:
            target = ax
            if log:
                vehicle_ax = target = _vehicle_axes(ax)
                # several curves side by side on the stub: 0, +0.3, -0.3, +0.6, -0.6, ...
                k = len(vehicle_ax.containers) % 5
                offset = 0.3 * ((k + 1) // 2) * (1 if k % 2 else -1)
                vx = vx + offset
                zero = _predict(res, idx, np.zeros(1))
                (vehicle_line,) = vehicle_ax.plot([offset - 0.25, offset + 0.25], [zero[0], zero[0]], color=color)
            vehicle_points = target.errorbar(vx, vy, yerr=verr, color=color, capsize=3, markersize=5,
                                             **_marker_style(marker))
    elif log and ax in _STUBS:
        vehicle_ax = _STUBS[ax]
    return CurveArtists(
        figure=ax.figure,
        ax=ax,
        line=line,
        band=band_artist,
        points=points,
        vehicle_ax=vehicle_ax,
        vehicle_points=vehicle_points,
        vehicle_line=vehicle_line,
    )


def curves(
    results: FitResult | Sequence[FitResult],
    conc: Any = None,
    response: Any = None,
    *,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    band: bool = True,
    level: float = 0.95,
    log: bool = True,
    unit: str | None = None,
    conc_unit: str | None = None,
    errorbar: ErrorBar = "sd",
    vehicle: bool = True,
    legend: bool = True,
) -> CurvesArtists:
    """Overlay several fitted curves on one Axes, each in its own color, with a legend.

    Parameters
    ----------
    results : FitResult or sequence of FitResult
        A batch result (every curve is drawn, in C order) or several results
        (each of them single or batch).
    conc, response : optional
        With one batch result: as in :func:`curve` (shape ``(m,)`` shared, or
        batch + ``(m,)``).  With a sequence of results: sequences of the same
        length, one entry per result.  Omit both to draw the fits alone.
    labels : sequence of str, optional
        One legend label per curve (a list, tuple, 1-D array or pandas Index);
        default ``"curve 0"``, ``"curve 1"``, …
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    band, level, log, conc_unit, errorbar, vehicle
        As in :func:`curve`, for every curve.
    unit : str, optional
        Concentration unit of the axis; default the unit of the first result.
    legend : bool, default True
        Draw a legend.

    Returns
    -------
    CurvesArtists
        The Figure, the Axes, one :class:`CurveArtists` per curve and the legend.

    Raises
    ------
    ShapeError
        `labels`, `conc` or `response` do not match the number of curves or results.
    ValueError
        `results` is an empty batch.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import mtor_pharm.plot
    >>> conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
    >>> y = [[99, 97, 88, 67, 36, 15, 5], [100, 99, 97, 90, 70, 40, 20]]
    >>> art = mp.plot.curves(mp.fit(conc, y), conc, y, labels=["Torin1", "rapamycin"])
    >>> [t.get_text() for t in art.legend.get_texts()]
    ['Torin1', 'rapamycin']
    """
    log = boolean(log, "log")
    vehicle = boolean(vehicle, "vehicle")
    legend = boolean(legend, "legend")
    _check_ax(ax)
    items: list[tuple[FitResult, tuple[int, ...], Any, Any]] = []
    if isinstance(results, FitResult):
        if 0 in results.shape:
            raise ValueError(
                f"`results` must hold at least one curve; got an empty batch of shape {results.shape}."
            )
        for idx in np.ndindex(*results.shape):
            items.append((results, tuple(int(i) for i in idx), conc, response))
    else:
        if not isinstance(results, list | tuple):
            raise TypeError(
                f"`results` must be a FitResult or a non-empty list of FitResults; got {results!r:.80}."
            )
        seq = list(results)
        if not seq or not all(isinstance(r, FitResult) for r in seq):
            raise TypeError("`results` must be a FitResult or a non-empty sequence of FitResults.")
        for name, value in (("conc", conc), ("response", response)):
            if value is not None and not _sequence_like(value, "__getitem__"):
                raise TypeError(
                    f"`{name}` must be a sequence with one entry per result ({len(seq)}) when `results` is a "
                    f"sequence; got {_short(value)}."
                )
            if value is not None and len(value) != len(seq):
                raise ShapeError(
                    f"`{name}` must have one entry per result ({len(seq)}) when `results` is a sequence; "
                    f"got {len(value)}."
                )
        for k, r in enumerate(seq):
            ck = None if conc is None else conc[k]
            rk = None if response is None else response[k]
            for idx in np.ndindex(*r.shape):
                items.append((r, tuple(int(i) for i in idx), ck, rk))
    if labels is None:
        labels = [f"curve {k}" for k in range(len(items))]
    else:
        if not _sequence_like(labels, "__iter__"):
            raise TypeError(
                f"`labels` must be a sequence (list, tuple, array, pandas Index) of one label per curve "
                f"({len(items)}); got {_short(labels)}."
            )
        if getattr(labels, "ndim", 1) != 1 or len(labels) != len(items):
            raise ShapeError(
                f"`labels` must hold one label per curve ({len(items)}); got {len(labels)} "
                f"(shape {getattr(labels, 'shape', (len(labels),))}): {_short(labels)}."
            )
        labels = list(labels)
    ax = _new_axes(ax)
    show_unit = items[0][0].conc_unit if unit is None else unit
    drawn = tuple(
        curve(
            r,
            c,
            y,
            index=idx if r.shape else None,
            ax=ax,
            band=band,
            level=level,
            label=_label_text(lab),
            log=log,
            unit=show_unit,
            conc_unit=conc_unit,
            errorbar=errorbar,
            vehicle=vehicle,
        )
        for (r, idx, c, y), lab in zip(items, labels, strict=True)
    )
    leg = ax.legend(handles=[d.line for d in drawn], frameon=False) if legend else None
    return CurvesArtists(figure=ax.figure, ax=ax, curves=drawn, legend=leg)


def residuals(
    res: FitResult,
    conc: Any,
    response: ArrayLike,
    *,
    index: int | tuple[int, ...] | None = None,
    ax: Axes | None = None,
    log: bool = True,
    unit: str | None = None,
    conc_unit: str | None = None,
    vehicle: bool = True,
    color: Any = None,
) -> ResidualArtists:
    """Plot residuals (observed − fitted) against concentration.

    A good fit leaves residuals scattered around 0 without a trend; an S-shaped
    pattern suggests the wrong model family (try ``"5pl"``), a funnel shape
    unequal variances (consider ``weights=``).

    Parameters
    ----------
    res : FitResult
    conc, response
        The data the curve was fitted to, as in :func:`curve`.
    index, ax, log, unit, conc_unit, vehicle, color
        As in :func:`curve`.

    Returns
    -------
    ResidualArtists
        When there is no residual at a positive concentration (the fit failed,
        or vehicle wells only) a note on the Axes says so, and a log axis spans
        the tested range, so that the figure can still be drawn and saved.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import mtor_pharm.plot
    >>> conc = mp.Q_([0, 0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
    >>> y = [101, 99, 97, 88, 67, 36, 15, 5]
    >>> art = mp.plot.residuals(mp.fit(conc, y), conc, y)
    >>> len(art.points.get_xdata()), len(art.vehicle_points.get_xdata())
    (7, 1)
    """
    idx = _check_index(res, index)
    log = boolean(log, "log")
    vehicle = boolean(vehicle, "vehicle")
    _check_ax(ax)
    _check_color(color)
    show_unit = res.conc_unit if unit is None else unit
    scale = _factor(res.conc_unit, show_unit)
    if conc is None or response is None:
        raise TypeError(
            "`conc` and `response` must be given: residuals need the data the curve was fitted to; "
            f"got conc={_short(conc)} and response={_short(response)}."
        )
    data = _data(res, idx, conc, response, conc_unit)
    if data is None:  # pragma: no cover - both were checked above
        raise TypeError("`conc` and `response` must be given.")
    x, y = data
    ok = np.isfinite(x) & np.isfinite(y)
    x, r = x[ok], y[ok] - _predict(res, idx, x[ok])
    ax = _new_axes(ax)
    (points,) = ax.plot(x[x > 0] * scale, r[x > 0], "o", color=color, markersize=5)
    zero_line = ax.axhline(0.0, color="0.5", linewidth=1, zorder=0)
    note = None
    if not np.isfinite(r[x > 0]).any():
        # nothing to show at x > 0: say why, and keep the axis drawable (a log axis needs positive limits)
        status = int(np.asarray(res.status)[idx])
        if not np.isfinite(r).any() and ok.any():
            why = f"no residuals: the fit failed ({status_words(status)})" if status else "no residuals"
        else:
            why = "no finite data point at a concentration > 0"
        note = ax.text(0.5, 0.5, why, transform=ax.transAxes, ha="center", va="center", fontsize="small",
                       color="0.4")
    if log:
        ax.set_xscale("log")
        if note is not None:
            lo, hi = _axis_range(res, idx, data)
            _positive_xlim(ax, lo * scale, hi * scale)
    ax.set_xlabel(f"concentration ({_unit_label(show_unit)})")
    _set_ylabel(ax, "residual (observed − fitted)")
    vehicle_ax = vehicle_points = None
    if vehicle and np.any(x == 0):
        target = ax
        if log:
            vehicle_ax = target = _vehicle_axes(ax)
            vehicle_ax.axhline(0.0, color="0.5", linewidth=1, zorder=0)
        (vehicle_points,) = target.plot(
            np.zeros(int(np.count_nonzero(x == 0))), r[x == 0], "o", color=points.get_color(), markersize=5
        )
    return ResidualArtists(
        figure=ax.figure,
        ax=ax,
        points=points,
        zero_line=zero_line,
        vehicle_ax=vehicle_ax,
        vehicle_points=vehicle_points,
        note=note,
    )


def _plate_grid(values: Any, plate_format: int | None) -> FloatArray:
    """Values as a (rows, columns) grid; NaN for wells not given."""
    if plate_format is not None and (not isinstance(plate_format, int) or plate_format not in _PLATES):
        raise PlateLayoutError(f"`plate_format` must be 96 or 384; got {plate_format!r}.")
    items = None
    if isinstance(values, Mapping):
        items = list(values.items())
    elif hasattr(values, "index") and hasattr(values, "to_numpy") and getattr(values, "ndim", 0) == 1:
        items = list(zip(values.index, values.to_numpy(), strict=True))  # a pandas Series indexed by well
        if all(isinstance(k, int | np.integer) for k, _ in items):
            items = None
    if items is not None:
        cells: dict[tuple[int, int], float] = {}
        for well, value in items:
            m = _WELL.match(str(well))
            if m is None:
                raise PlateLayoutError(f"`values` must be keyed by well names such as 'A1' or 'P24'; got {well!r}.")
            rc = (ord(m.group(1).upper()) - ord("A"), int(m.group(2)) - 1)
            if rc in cells:
                raise PlateLayoutError(f"`values` must give each well once; got {well!r} twice.")
            if isinstance(value, str | bytes | complex) or np.iscomplexobj(value):
                raise TypeError(f"`values` must hold real numbers; got {value!r} for well {well!r}.")
            try:
                cells[rc] = float(value)
            except (TypeError, ValueError, OverflowError):
                raise TypeError(f"`values` must hold real numbers; got {value!r} for well {well!r}.") from None
        fmt = plate_format or (96 if all(r < 8 and c < 12 for r, c in cells) else 384)
        nrow, ncol = _PLATES[fmt]
        outside = [f"{chr(ord('A') + r)}{c + 1}" for r, c in cells if r >= nrow or not 0 <= c < ncol]
        if outside:
            raise PlateLayoutError(f"`values` must name wells of a {fmt}-well plate; got {outside[:5]}.")
        grid = np.full((nrow, ncol), np.nan)
        for (r, c), v in cells.items():
            grid[r, c] = v
        return grid
    if isinstance(values, pint.Quantity):
        raise TypeError(f"`values` must be plain numbers; got a Quantity in {values.units!s}.")
    if np.iscomplexobj(values):
        raise TypeError("`values` must hold real numbers; got complex values.")
    try:
        if isinstance(values, str | bytes):
            raise TypeError
        arr = as_float_array(values, name="values")
    except (TypeError, ValueError):
        raise TypeError(
            f"`values` must be numbers: a plate grid, one value per well, or a mapping/Series by well name; "
            f"got {type(values).__name__}."
        ) from None
    shapes = {fmt: shape for fmt, shape in _PLATES.items() if plate_format in (None, fmt)}
    for fmt, shape in shapes.items():
        if arr.shape == shape:
            return arr
        if arr.shape == (fmt,):
            return arr.reshape(shape)
    expected = " or ".join(f"{s} / ({f},)" for f, s in shapes.items())
    raise ShapeError(f"`values` must have shape {expected} (row-major A1, A2, …); got {arr.shape}.")


def plate_heatmap(
    values: Any,
    *,
    plate_format: Literal[96, 384] | None = None,
    ax: Axes | None = None,
    cmap: Any = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
    label: str | None = None,
) -> HeatmapArtists:
    """Draw one value per well of a 96- or 384-well plate, as the plate lies on the bench.

    Parameters
    ----------
    values : array_like, mapping or pandas.Series
        A grid of shape (8, 12) or (16, 24); one value per well in row-major
        order (A1, A2, …, A12, B1, …); or values keyed by well name (``"A1"``,
        ``"b07"``), e.g. ``plate.set_index("well")["od"]`` from
        :func:`mtor_pharm.assays.tidy_plate`.  Missing wells and NaN are drawn grey.
    plate_format : {96, 384}, optional
        Default: from the shape, or the wells named.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    cmap : str or matplotlib.colors.Colormap, default "viridis"
        A registered colormap name or a Colormap.
    vmin, vmax : float, optional
        Limits of the color scale (``vmin < vmax``); default the range of the values.
    colorbar : bool, default True
        Add a colorbar.
    label : str, optional
        Colorbar label.

    Returns
    -------
    HeatmapArtists

    Raises
    ------
    ShapeError
        An array that is not one plate.
    ValueError
        ``vmin >= vmax``, or an unknown colormap name.
    PlateLayoutError
        Unknown or repeated well names, or wells off the plate.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import mtor_pharm.plot
    >>> art = mp.plot.plate_heatmap(np.arange(96.0), label="A570")
    >>> art.image.get_array().shape, art.ax.get_yticklabels()[-1].get_text()
    ((8, 12), 'H')
    """
    for nm, v in (("vmin", vmin), ("vmax", vmax)):
        optional_number(v, nm, low=-1e300, high=1e300, accepted="a number of magnitude ≤ 1e300, or None")
    if vmin is not None and vmax is not None and not float(vmin) < float(vmax):
        raise ValueError(f"`vmin` must be less than `vmax`; got vmin={vmin!r} and vmax={vmax!r}.")
    colorbar = boolean(colorbar, "colorbar")
    _check_ax(ax)
    colormap = _colormap(cmap)
    grid = _plate_grid(values, plate_format)
    nrow, ncol = grid.shape
    ax = _new_axes(ax)
    with np.errstate(over="ignore", invalid="ignore"):  # extreme vmin/vmax: matplotlib's own arithmetic
        image = ax.imshow(
            np.ma.masked_invalid(grid),
            cmap=colormap.with_extremes(bad="0.85"),
            vmin=vmin,
            vmax=vmax,
            interpolation="nearest",
            aspect="equal",
        )
    ax.set_xticks(np.arange(ncol), labels=[str(c + 1) for c in range(ncol)])
    ax.set_yticks(np.arange(nrow), labels=[chr(ord("A") + r) for r in range(nrow)])
    ax.xaxis.tick_top()
    ax.tick_params(length=0, labelsize=6 if ncol > 12 else None)
    bar = ax.figure.colorbar(image, ax=ax, label=label or "", shrink=0.8) if colorbar else None
    return HeatmapArtists(figure=ax.figure, ax=ax, image=image, colorbar=bar)


# ----------------------------------------------------------------------------- journal style
#: Marker shapes, one per series, distinct in greyscale.
_MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
#: Okabe & Ito's colour-blind-safe palette (Nature Methods 2011 Points of view), black first.
_OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class DoseResponseArtists:
    """What :func:`dose_response` drew.

    Attributes
    ----------
    figure, ax
        The Figure and the concentration Axes.
    curves : tuple of CurveArtists
        One per series, in the order of the result's curves.
    excluded : tuple of Line2D or None
        The excluded points of each series (open symbols), None where there are none.
    legend : Legend or None
    note : Text or None
        The "mean ± SD, n = …" note: the legend's title (so that the two never
        overlap), or text at the lower left of the Axes with ``legend=False``; for
        an empty batch, a note saying so.  n ranges over every plotted mean, the
        vehicle's included.
    """

    figure: Figure | SubFigure
    ax: Axes
    curves: tuple[CurveArtists, ...]
    excluded: tuple[Line2D | None, ...]
    legend: Legend | None
    note: Any


def _label_text(label: Any) -> str:
    """A curve label as figures show it: the parts of a multi-key label joined by ", ".

    ``("rapamycin", "p-S6K1 T389")`` (a result labelled by two ``by`` columns) reads
    ``"rapamycin, p-S6K1 T389"``; any other label is ``str(label)``.
    """
    if isinstance(label, tuple):
        return ", ".join(str(part) for part in label)
    return str(label)


def _replicate_text(counts: list[int]) -> str:
    k = sorted(set(c for c in counts if c > 0))
    if not k:
        return ""
    return f"n = {k[0]}" if len(k) == 1 else f"n = {k[0]}–{k[-1]}"


def _table_points(
    res: FitResult, labels: list[Any], data: Any, conc: Any, response: Any, by: Any
) -> list[tuple[FloatArray, FloatArray, Any]]:
    """Each curve's rows of `data`: concentrations (in the unit of the fit), responses and the
    ``excluded`` flags (None without that column); every curve must have rows."""
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`data` must be a pandas DataFrame of points; got {type(data).__name__}.")
    for arg, value in (("conc", conc), ("response", response)):
        if not isinstance(value, str):
            raise TypeError(f"`{arg}` must be a column name (str); got {_short(value)}.")
    if by is None:
        by = data.attrs.get("by") or list(res.label_names)
    if isinstance(by, str):
        by = [by]
    if not isinstance(by, Sequence) or not all(isinstance(c, str) for c in by):
        raise TypeError(
            "`by` must be a column name or a list of column names (e.g. by='compound'), the columns that "
            f"identify each curve of `res` in `data`; got {_short(by)}."
        )
    keys = list(by)
    n = len(labels)
    missing = [c for c in (conc, response, *keys) if c not in data.columns]
    if missing:
        raise LookupError(
            f"`data` has no column {missing[0]!r} (needed: conc={conc!r}, response={response!r}, by={keys!r}); "
            f"it has {list(data.columns)}.{_did_you_mean(missing[0], [str(c) for c in data.columns])} "
            "Name the columns with conc=, response= and by=."
        )
    if n > 1 and not keys:
        raise ShapeError("`by` must name the columns that identify each curve of `res` in `data`.")
    wanted = {"conc": conc, "response": response, **{f"by[{i}]": c for i, c in enumerate(keys)}}
    if "excluded" in data.columns:
        wanted["excluded"] = "excluded"
    _check_columns(data, wanted, table="data")
    x_all = _numeric_column(data, conc, "conc")
    y_all = _numeric_column(data, response, "response")
    table_unit = data.attrs.get("conc_unit")
    where = "data.attrs['conc_unit']"
    if not table_unit:
        table_unit, where = unit_column(data), "data['conc_unit']"
    if table_unit:
        x_all = x_all * _table_factor(table_unit, res.conc_unit, where)
    ex_all = excluded_flags(data, "excluded") if "excluded" in data.columns else None
    kept = np.where(ex_all, np.nan, y_all) if ex_all is not None else y_all
    rows = data.index
    if np.isinf(x_all).any():
        at = int(np.argmax(np.isinf(x_all)))
        raise ValueError(f"`conc` must be finite; column {conc!r} holds {x_all[at]} at row {rows[at]!r}.")
    nan_x = np.isnan(x_all) & ~np.isnan(kept)
    if nan_x.any():
        at = int(np.argmax(nan_x))
        raise ValueError(
            f"`conc` is NaN at row {rows[at]!r} of `data` where `response` is {kept[at]}; NaN concentrations "
            "may only pad ragged designs where the response is NaN too."
        )
    if np.isinf(kept).any():
        at = int(np.argmax(np.isinf(kept)))
        raise ValueError(
            f"`response` must be finite or NaN (missing); column {response!r} holds {kept[at]} at row {rows[at]!r}."
        )
    masks: list[Any] = []
    for lab in labels:
        key = lab if isinstance(lab, tuple) else (lab,)
        if keys and len(key) != len(keys):
            raise LookupError(
                f"`by` names {len(keys)} column(s) {keys}, but the curves of `res` are labelled by {len(key)} "
                f"key(s) ({list(res.label_names) or 'unnamed'}, e.g. {lab!r}); pass by= the matching columns."
            )
        mask = np.ones(len(data), dtype=bool)
        for col, val in zip(keys, key, strict=False):
            mask &= (data[col] == val).to_numpy(dtype=bool, na_value=False)
        masks.append(mask)
    empty = [lab for lab, mask in zip(labels, masks, strict=True) if not mask.any()]
    if empty:
        if not keys:
            table_keys: list[Any] = []
        elif len(keys) == 1:
            table_keys = list(dict.fromkeys(data[keys[0]]))
        else:
            table_keys = list(dict.fromkeys(map(tuple, data[keys].to_numpy())))
        shown = ", ".join(repr(k) for k in table_keys[:5]) + (", …" if len(table_keys) > 5 else "")
        hint = _did_you_mean(empty[0], [str(k) for k in table_keys])
        if res.labels is None:
            hint += (
                " `res` is unlabelled (mp.fit names its curves 'curve 0', 'curve 1', …): fit with "
                "mp.fit_table(..., by=...) or name the curves with res.with_labels([...], names=...)."
            )
        elif len(keys) == 1:
            elsewhere = [str(c) for c in data.columns if c not in keys and bool(data[c].isin(empty).any())]
            if elsewhere:
                hint += f" The labels appear in column {elsewhere[0]!r}: pass by={elsewhere[0]!r}?"
        some = ", ".join(repr(lab) for lab in empty[:5]) + (", …" if len(empty) > 5 else "")
        raise LookupError(
            f"`data` must hold the points of every curve of `res`, matched by `by`={keys!r}; no row matches "
            f"{len(empty)} of the {n} curves ({some}). The table's {keys!r} values include {shown or 'nothing'}."
            f"{hint} (A curve drawn without its points would be misleading; pass data=None to draw the fits "
            "alone.)"
        )
    return [(x_all[m], y_all[m], None if ex_all is None else ex_all[m]) for m in masks]


def _table_factor(table_unit: Any, to_unit: Any, where: str) -> float:
    """The factor from the unit the table records (attrs or conc_unit column) to the unit of the fit."""
    unit = parse_unit(str(table_unit), name=where)
    try:
        return float(_registry().Quantity(1.0, unit).to(to_unit).magnitude)
    except (pint.errors.DimensionalityError, pint.errors.UndefinedUnitError, ValueError, TypeError):
        raise UnitError(
            f"`data` records its concentrations in {table_unit!s} ({where}), which does not convert to "
            f"the unit of the fit, {to_unit!s}; convert the table (or refit it) so that both are concentrations "
            "of the same kind (molar or mass, e.g. with mp.units.mass_to_molar)."
        ) from None


def dose_response(
    res: FitResult,
    data: Any = None,
    *,
    conc: str = "conc",
    response: str = "response",
    by: str | Sequence[str] | None = None,
    ax: Axes | None = None,
    unit: str | None = None,
    ticks: Literal["decimal", "log"] = "decimal",
    band: Band = False,
    errorbar: ErrorBar = "sd",
    note: bool = True,
    legend: bool = True,
    ylabel: str | None = None,
) -> DoseResponseArtists:
    """A journal-style dose-response figure of a labelled batch, with its data from a tidy table.

    Each series has its own marker shape (distinct in greyscale) and colour
    (Okabe–Ito, colour-blind safe); the legend shows marker and line; points
    excluded from the fit are drawn as open symbols of the same shape; a note,
    the legend's title, says what the error bars are ("mean ± SD, n = 3", the
    range of replicates over every plotted mean, vehicle included); series
    labelled by several ``by`` columns read "rapamycin, p-S6K1 T389"; the frame
    has no top and right spines; tick labels are plain decimals (0.01, 0.1, 1, 10) or
    ``log[inhibitor]`` in log10 molar (−9, −8, …).

    Parameters
    ----------
    res : FitResult
        A 1-D batch (or one curve); labelled results (``fit_table``, ``fit_plate``)
        name the series.
    data : pandas.DataFrame, optional
        Tidy points (e.g. :func:`mtor_pharm.assays.plate_curves`' table) with the
        `by` columns, `conc`, `response` and optionally a boolean ``excluded``
        column; concentrations in the unit ``data.attrs["conc_unit"]`` or a
        ``conc_unit`` column records (converted to ``res.conc_unit``), else in
        ``res.conc_unit``.  Every curve of `res` must have rows.  Omit to draw
        the fits alone.
    conc, response : str
        Column names.
    by : str or sequence of str, optional
        Curve key columns; default ``data.attrs["by"]``, else ``res.label_names``.
    ax : matplotlib.axes.Axes, optional
    unit : str, optional
        Concentration unit of the axis (decimal ticks); default the fit's.
    ticks : {"decimal", "log"}, default "decimal"
        ``"log"`` labels the axis ``log[inhibitor] (M)`` with log10 molar ticks.
    band : bool or callable, default False
        Draw each curve's confidence band (a callable: as in :func:`curve`).
    errorbar : {"sd", "se", None}, default "sd"
    note : bool, default True
        Add the "mean ± SD, n = …" note (the legend's title; at the lower left
        of the Axes with ``legend=False``).
    legend : bool, default True
    ylabel : str, optional
        Response axis label; default from ``data.attrs["response_unit"]``.

    Returns
    -------
    DoseResponseArtists

    Raises
    ------
    LookupError
        A column is missing, or `by` matches no row of `data` for some curve of
        `res` (e.g. an unlabelled result, or labels spelled differently).
    TypeError
        `by` is not column names; a non-numeric `conc`/`response` column or a
        non-boolean ``excluded`` column.
    UnitError
        The table's unit does not convert to the unit of the fit.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import mtor_pharm.plot
    >>> plate = mp.assays.load_example("mtt")
    >>> curves = mp.assays.plate_curves(plate, signal="A570", reference="A650", exclude=["B5"])
    >>> res, _ = mp.fit_table(curves, conc="conc", response="response", by="compound")
    >>> art = mp.plot.dose_response(res, curves, unit="nM")
    >>> [t.get_text() for t in art.legend.get_texts()], art.note.get_text()
    (['SIM-TORKi', 'SIM-rapalog'], 'mean ± SD, n = 3–8')
    """
    from matplotlib.lines import Line2D as _Line2D
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if not isinstance(res, FitResult):
        raise TypeError(f"`res` must be a FitResult; got {type(res).__name__}.")
    if len(res.shape) > 1:
        raise ShapeError(f"`res` must be one curve or a 1-D batch; got batch shape {res.shape}.")
    if ticks not in ("decimal", "log"):
        raise ValueError(f"`ticks` must be 'decimal' or 'log'; got {ticks!r}.")
    if not callable(band):
        if not isinstance(band, bool | np.bool_):
            raise TypeError(f"`band` must be True, False or a callable (as in curve()); got {_short(band)}.")
        band = bool(band)
    note = boolean(note, "note")
    legend = boolean(legend, "legend")
    if errorbar is not None:
        choice(errorbar, "errorbar", ("sd", "se"))
    _check_ax(ax)
    n = res.shape[0] if res.shape else 1
    labels = list(res.labels) if res.labels is not None else [f"curve {i}" for i in range(n)]
    points: list[tuple[FloatArray, FloatArray, FloatArray | None]] = []
    if data is not None:
        points = _table_points(res, labels, data, conc, response, by)
    show_unit = unit or res.conc_unit
    if ticks == "log":
        show_unit = "M"
    scale = _factor(res.conc_unit, show_unit)  # raises for a unit that is not a concentration
    ax = _new_axes(ax)
    drawn: list[CurveArtists] = []
    excluded_art: list[Line2D | None] = []
    handles = []
    counts: list[int] = []
    for i in range(n):
        one = res[i] if res.shape else res
        marker = _MARKERS[i % len(_MARKERS)]
        color = _OKABE_ITO[i % len(_OKABE_ITO)]
        x = y = None
        ex_x = ex_y = None
        if data is not None:
            x, y, ex = points[i]
            y = y.copy()
            if ex is not None:
                ex_x, ex_y = x[ex], y[ex]
                y[ex] = np.nan
            # every plotted mean counts, the vehicle's (x = 0, on the stub) included
            shown = np.isfinite(y) & np.isfinite(x)
            if shown.any():
                _, per = np.unique(x[shown], return_counts=True)
                counts.extend(int(c) for c in per)
        art = curve(one, x, y, conc_unit=res.conc_unit if x is not None else None, ax=ax, band=band,
                    label=_label_text(labels[i]), unit=show_unit, errorbar=errorbar, color=color, marker=marker)
        drawn.append(art)
        exc = None
        if ex_x is not None and ex_y is not None and ex_x.size:
            on_axis = ex_x > 0
            target_x = ex_x[on_axis] * scale
            (exc,) = ax.plot(target_x, ex_y[on_axis], linestyle="none", marker=marker, markersize=6,
                             markerfacecolor="none", markeredgecolor=color, label="_excluded")
        excluded_art.append(exc)
        handles.append(
            _Line2D([], [], color=color, marker=marker, linestyle="-", markersize=5, label=_label_text(labels[i]))
        )
    empty_note = None
    if not drawn:  # an empty batch: a log axis over a default decade, and a note saying why it is empty
        ax.set_xscale("log")
        _positive_xlim(ax, scale, 10.0 * scale)
        ax.set_xlabel(f"concentration ({_unit_label(show_unit)})")
        empty_note = ax.text(0.5, 0.5, f"no curves: `res` is an empty batch (shape {res.shape})",
                             transform=ax.transAxes, ha="center", va="center", fontsize="small", color="0.4")
    for axis in [ax, *([drawn[0].vehicle_ax] if drawn and drawn[0].vehicle_ax is not None else [])]:
        axis.spines["top"].set_visible(False)
        axis.spines["right"].set_visible(False)
    if ticks == "decimal":
        ax.xaxis.set_major_locator(LogLocator(base=10.0))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}" if v >= 1e-4 else f"{v:.0e}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        ax.xaxis.set_major_locator(LogLocator(base=10.0))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{math.log10(v):.0f}" if v > 0 else ""))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("log[inhibitor] (M)")
    if ylabel is None and data is not None:
        ru = data.attrs.get("response_unit")
        ylabel = "response (% of vehicle)" if ru == "percent" else (f"response ({ru})" if ru else None)
    if ylabel is not None:
        stub = _STUBS.get(ax)
        (stub if stub is not None and stub.get_ylabel() else ax).set_ylabel(ylabel)
    text = None
    if note and data is not None and errorbar is not None and counts:
        what = "SD" if errorbar == "sd" else "SEM"
        text = f"mean ± {what}, {_replicate_text(counts)}"
    leg = None
    note_artist = empty_note
    if legend:
        # the note is the legend's title: one box, placed as a whole, so the two cannot overlap
        leg = ax.legend(handles=handles, frameon=False, title=text, title_fontsize="small", alignment="left")
        if text is not None:
            note_artist = leg.get_title()
    elif text is not None:
        note_artist = ax.text(0.02, 0.02, text, transform=ax.transAxes, ha="left", va="bottom", fontsize="small")
    return DoseResponseArtists(figure=ax.figure, ax=ax, curves=tuple(drawn), excluded=tuple(excluded_art),
                               legend=leg, note=note_artist)
