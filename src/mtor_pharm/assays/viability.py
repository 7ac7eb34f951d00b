"""Viability and growth: MTT, NCI-60 growth percent (GI50/TGI/LC50), GR metrics, AUC.

Signals here are blank-corrected readings proportional to the number of viable
cells (MTT formazan absorbance after the reference-wavelength correction, or
counts).  Metrics read off a log-dose axis (GI50, GR_AOC, AUC) work on treated
wells only: vehicle wells have no place on a log axis and are refused there.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, overload

import numpy as np
import pandas as pd
import pint
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from .._arrays import is_dataarray
from .._typing import ConcentrationLike, FloatArray, IntArray, ModelName
from .._validate import boolean, choice, real_number
from ..fitting import FitResult, fit
from ..models import get_model
from ..units import as_concentration
from ._common import (
    Normalized,
    as_curves,
    as_signal,
    check_broadcast,
    finish,
    first_value,
    group_replicates,
    quantity,
    quiet,
    replicate_stats,
    signal_variance,
    trapezoid_log,
    unit_factor,
    where_text,
)
from ._errors import ControlError
from .normalize import percent_of_control

__all__ = [
    "AreaUnderCurve",
    "GRMetrics",
    "GrowthMetrics",
    "auc",
    "gr_metrics",
    "gr_values",
    "growth_percent",
    "mtt_absorbance",
    "nci60_metrics",
    "percent_viability",
]

AreaKind: TypeAlias = Literal["auc", "activity_area"]
AreaMethod: TypeAlias = Literal["trapezoid", "fit"]
GrowthMethod: TypeAlias = Literal["interpolate", "fit"]


def _readonly(values: ArrayLike, dtype: Any = np.float64) -> NDArray[Any]:
    arr = np.array(values, dtype=dtype, copy=True)
    arr.flags.writeable = False
    return arr


# ----------------------------------------------------------------------------- MTT
@overload
def mtt_absorbance(a570: xr.DataArray, a_ref: xr.DataArray | float | None = None) -> xr.DataArray: ...
@overload
def mtt_absorbance(a570: ArrayLike, a_ref: ArrayLike | None = None) -> FloatArray: ...
@quiet
def mtt_absorbance(a570: Any, a_ref: Any = None) -> Any:
    """MTT absorbance corrected at a reference wavelength: ``A570 − A_ref`` per well.

    Parameters
    ----------
    a570 : array_like or xarray.DataArray
        Absorbance at the formazan peak (550–600 nm, usually 570 nm).
    a_ref : array_like or xarray.DataArray, optional
        Absorbance of the *same wells* at a reference wavelength (630–690 nm), which
        carries plate, scratch and turbidity background but no formazan.  Omit for a
        single-wavelength read (the reading is returned unchanged, as a copy).

    Returns
    -------
    ndarray or xarray.DataArray
        Corrected absorbance; then subtract the blank wells and normalize with
        :func:`percent_viability`.

    Raises
    ------
    ShapeError
        Shapes that do not broadcast.

    References
    ----------
    Riss TL, Moravec RA, Niles AL, et al. Cell Viability Assays. In: Assay Guidance
    Manual. NCBI Bookshelf NBK144065 (2013, updated 2016).

    Examples
    --------
    >>> mp.assays.mtt_absorbance([0.95, 0.52], [0.05, 0.04]).round(2).tolist()
    [0.9, 0.48]
    """
    a = as_signal(a570, "a570")
    if a_ref is None:
        return a
    r = as_signal(a_ref, "a_ref")
    check_broadcast(a570=a, a_ref=r)
    if not (is_dataarray(a) or is_dataarray(r)):
        return np.asarray(a - r, dtype=np.float64)
    return a - r


@overload
def percent_viability(
    signal: xr.DataArray, control: xr.DataArray | float, blank: xr.DataArray | float | None = None,
    *, dim: Hashable | None = None, signal_stderr: xr.DataArray | float | None = None,
) -> Normalized[xr.DataArray]: ...
@overload
def percent_viability(
    signal: ArrayLike, control: ArrayLike, blank: ArrayLike | None = None,
    *, dim: None = None, signal_stderr: ArrayLike | None = None,
) -> Normalized[FloatArray]: ...
@quiet
def percent_viability(
    signal: Any, control: Any, blank: Any = None, *, dim: Hashable | None = None,
    signal_stderr: Any = None,
) -> Normalized[Any]:
    """Percent viability ``100 · (S − B̄) / (C̄ − B̄)`` (MTT, resazurin, ATP luminescence).

    The same arithmetic and delta-method standard errors as
    :func:`mtor_pharm.assays.percent_of_control`; `signal` and `control` are
    reference-corrected absorbances (:func:`mtt_absorbance`), `blank` the medium-only
    wells.  Percent viability depends on how many divisions the controls went
    through; for drug comparisons across cell lines prefer :func:`gr_values`.

    Examples
    --------
    >>> a = mp.assays.mtt_absorbance([0.62, 0.33], 0.05)          # treated wells
    >>> c = mp.assays.mtt_absorbance([1.07, 0.97], 0.05)          # vehicle wells
    >>> out = mp.assays.percent_viability(a, c, blank=[0.06, 0.04])
    >>> out.value.round(1).tolist()   # 100 * (0.57 - 0.05) / (0.97 - 0.05), ...
    [56.5, 25.0]
    """
    if dim is None:
        return percent_of_control(signal, control, blank, signal_stderr=signal_stderr)
    return percent_of_control(signal, control, blank, dim=dim, signal_stderr=signal_stderr)


# ----------------------------------------------------------------------------- NCI-60
def _t0_control_stats(
    signal: Any, t0: Any, control: Any, dim: Hashable | None
) -> tuple[Any, Any, Any]:
    s = as_signal(signal, "signal")
    ts = replicate_stats(t0, name="t0", signal=s, dim=dim)
    cs = replicate_stats(control, name="control", signal=s, dim=dim)
    check_broadcast(signal=s, t0=ts.mean, control=cs.mean)
    t = np.asarray(ts.mean, dtype=np.float64)
    bad = t <= 0
    if bad.any():
        raise ControlError(
            f"`t0` must have a positive mean (blank-corrected time-zero reading); got "
            f"{first_value(t, bad)!r}{where_text(bad)}."
        )
    c = np.broadcast_to(np.asarray(cs.mean, dtype=np.float64), np.broadcast_shapes(t.shape, np.shape(cs.mean)))
    tb = np.broadcast_to(t, c.shape)
    bad = c <= tb
    if bad.any():
        raise ControlError(
            f"`control` must average above `t0` (the controls must have grown during the assay); "
            f"got control mean {first_value(c, bad)!r} and t0 mean {first_value(tb, bad)!r}"
            f"{where_text(bad)}."
        )
    return s, ts, cs


@overload
def growth_percent(
    signal: xr.DataArray, *, t0: xr.DataArray | float, control: xr.DataArray | float,
    dim: Hashable | None = None, signal_stderr: xr.DataArray | float | None = None,
) -> Normalized[xr.DataArray]: ...
@overload
def growth_percent(
    signal: ArrayLike, *, t0: ArrayLike, control: ArrayLike,
    dim: None = None, signal_stderr: ArrayLike | None = None,
) -> Normalized[FloatArray]: ...
@quiet
def growth_percent(
    signal: Any, *, t0: Any, control: Any, dim: Hashable | None = None, signal_stderr: Any = None
) -> Normalized[Any]:
    """NCI-60 percentage growth with a time-zero plate.

    Parameters
    ----------
    signal : array_like or xarray.DataArray
        Blank-corrected reading of treated wells at the end of the assay (``T``).
    t0 : array_like or xarray.DataArray
        Blank-corrected time-zero wells (``T0``, read when the drug was added),
        replicates along the last axis (NumPy) or `dim`.
    control : array_like or xarray.DataArray
        Blank-corrected vehicle wells at the end of the assay (``C``), replicates.
    dim : hashable, optional
        Replicate dimension of DataArray `t0` and `control`.
    signal_stderr : array_like, optional
        Standard errors of `signal`, included when given.

    Returns
    -------
    Normalized
        Growth percent: 100 = control growth, 0 = no net growth (cytostasis),
        −100 = every cell present at time zero killed.

    Raises
    ------
    ControlError
        ``T0 ≤ 0``, or controls that did not grow (``C ≤ T0``).

    Notes
    -----
    ``G = 100 (T − T0)/(C − T0)`` for ``T ≥ T0``;  ``G = 100 (T − T0)/T0`` for ``T < T0``.
    Standard errors by the delta method from the replicate means of ``T0`` and ``C``.

    References
    ----------
    NCI Developmental Therapeutics Program, "NCI-60 Screening Methodology"
    (https://dtp.cancer.gov/discovery_development/nci-60/methodology.htm);
    Shoemaker RH. The NCI60 human tumour cell line anticancer drug screen.
    Nat Rev Cancer 2006;6:813–823.

    Examples
    --------
    >>> out = mp.assays.growth_percent([0.9, 0.4, 0.1], t0=[0.2, 0.2], control=[1.0, 1.0])
    >>> out.value.round(1).tolist()   # 100*0.7/0.8, 100*0.2/0.8, 100*(0.1-0.2)/0.2
    [87.5, 25.0, -50.0]
    """
    s, ts, cs = _t0_control_stats(signal, t0, control, dim)
    var_s = signal_variance(signal_stderr, s)
    with np.errstate(invalid="ignore", divide="ignore"):
        t0m, cm = ts.mean, cs.mean
        grow = 100.0 * (s - t0m) / (cm - t0m)
        kill = 100.0 * (s - t0m) / t0m
        up = s >= t0m
        g = grow.where(up, kill) if is_dataarray(grow) else np.where(up, grow, kill)
        var_grow = (
            (100.0 / (cm - t0m)) ** 2 * var_s
            + (grow / (cm - t0m)) ** 2 * cs.var
            + (100.0 * (s - cm) / (cm - t0m) ** 2) ** 2 * ts.var
        )
        var_kill = (100.0 / t0m) ** 2 * var_s + (100.0 * s / t0m**2) ** 2 * ts.var
        var = var_grow.where(up, var_kill) if is_dataarray(var_grow) else np.where(up, var_grow, var_kill)
        # NaN signal: keep NaN in both value and stderr
        se = np.sqrt(var)
    return finish(g, se, n_control_missing=ts.n_missing + cs.n_missing)


_QUALIFIERS = ("=", "<", ">", "")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class GrowthMetrics:
    """NCI-60 GI50, TGI and LC50 per curve.

    Attributes
    ----------
    gi50, tgi, lc50 : pint.Quantity[Any]
        Concentrations where growth percent is 50, 0 and −50, of the batch shape;
        NaN where the level is not crossed inside the tested range.
    gi50_qualifier, tgi_qualifier, lc50_qualifier : ndarray of str
        ``"="`` crossed inside the range; ``">"`` not reached at the highest tested
        concentration; ``"<"`` already passed at the lowest; ``""`` no data.
        (The DTP reports these as "> max" / "< min".)
    method : {"interpolate", "fit"}
    conc_min, conc_max : pint.Quantity[Any]
        Tested range per curve.
    n_points : ndarray of int
        Finite growth values used per curve.
    fit : FitResult or None
        The 4PL fit when ``method="fit"``.
    """

    gi50: pint.Quantity[Any]
    tgi: pint.Quantity[Any]
    lc50: pint.Quantity[Any]
    gi50_qualifier: NDArray[np.str_]
    tgi_qualifier: NDArray[np.str_]
    lc50_qualifier: NDArray[np.str_]
    method: GrowthMethod
    conc_min: pint.Quantity[Any]
    conc_max: pint.Quantity[Any]
    n_points: IntArray
    fit: FitResult | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("gi50_qualifier", "tgi_qualifier", "lc50_qualifier"):
            object.__setattr__(self, name, _readonly(getattr(self, name), dtype="<U1"))
        object.__setattr__(self, "n_points", _readonly(self.n_points, dtype=np.int64))

    def to_frame(self) -> pd.DataFrame:
        """One row per curve: value, qualifier and a printable cell for each metric.

        Examples
        --------
        >>> g = [95, 80, 40, 5, -30, -70]
        >>> m = mp.assays.nci60_metrics(mp.Q_([0.01, 0.1, 1, 10, 100, 1000], "nM"), g)
        >>> m.to_frame()["gi50_text"].tolist()
        ['= 0.562 nM']
        """
        unit = f"{self.gi50.units:~P}"
        rows: dict[str, Any] = {}
        for name in ("gi50", "tgi", "lc50"):
            q: pint.Quantity[Any] = getattr(self, name)
            values = np.atleast_1d(np.asarray(q.magnitude, dtype=np.float64)).ravel()
            qual = np.atleast_1d(getattr(self, f"{name}_qualifier")).ravel()
            lo = np.atleast_1d(np.asarray(self.conc_min.magnitude)).ravel()
            hi = np.atleast_1d(np.asarray(self.conc_max.magnitude)).ravel()
            text = []
            for v, qq, a, b in zip(values, qual, lo, hi, strict=True):
                if qq == "=":
                    text.append(f"= {v:.3g} {unit}")
                elif qq == ">":
                    text.append(f"> {b:.3g} {unit}")
                elif qq == "<":
                    text.append(f"< {a:.3g} {unit}")
                else:
                    text.append("no data")
            rows[name] = values
            rows[f"{name}_qualifier"] = qual
            rows[f"{name}_text"] = text
        rows["conc_unit"] = unit
        return pd.DataFrame(rows)


def _crossing(g_x: FloatArray, g_y: FloatArray, valid: NDArray[np.bool_], level: float
              ) -> tuple[FloatArray, NDArray[np.str_]]:
    """First downward crossing of `level` (from low to high conc), linear in log10 conc.

    A design with one concentration has no pair of points to cross between: it is
    padded with a missing point, so each curve gets NaN and its ``">"``/``"<"``/``""``
    qualifier like a curve with a single valid point.
    """
    if g_y.shape[-1] < 2:
        pad = [(0, 0)] * (g_y.ndim - 1) + [(0, 2 - g_y.shape[-1])]
        g_x = np.pad(g_x, pad, constant_values=np.nan)
        g_y = np.pad(g_y, pad, constant_values=np.nan)
        valid = np.pad(valid, pad, constant_values=False)
    d = g_y - level
    pair = valid[..., :-1] & valid[..., 1:]
    with np.errstate(invalid="ignore"):
        cross = pair & (d[..., :-1] > 0) & (d[..., 1:] <= 0)
    has = cross.any(axis=-1)
    i = np.argmax(cross, axis=-1)[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        lx = np.log10(g_x)
        xa = np.take_along_axis(lx, i, -1)[..., 0]
        xb = np.take_along_axis(lx, i + 1, -1)[..., 0]
        da = np.take_along_axis(d, i, -1)[..., 0]
        db = np.take_along_axis(d, i + 1, -1)[..., 0]
        t = da / (da - db)
        value = np.where(has, 10.0 ** (xa + t * (xb - xa)), np.nan)
    any_valid = valid.any(axis=-1)
    first_below = d[..., 0] <= 0  # groups are packed to the front
    qual = np.where(has, "=", np.where(~any_valid, "", np.where(first_below, "<", ">")))
    return value, qual.astype("<U1")


@quiet
def nci60_metrics(
    conc: ConcentrationLike, growth: ArrayLike, *, conc_unit: str | None = None,
    method: GrowthMethod = "interpolate", inhibitor: Any = None,
) -> GrowthMetrics:
    """GI50, TGI and LC50 from growth percent curves (NCI-60 / DTP method).

    Parameters
    ----------
    conc : Quantity or array_like, shape (m,) or (..., m)
        Tested concentrations (> 0); replicates may repeat a concentration.
    growth : array_like, shape (..., m)
        Growth percent (:func:`growth_percent`); NaN marks a missing well.
    conc_unit : str, optional
        Unit of a bare `conc` array.
    method : {"interpolate", "fit"}, default "interpolate"
        ``"interpolate"``: the DTP method — replicates averaged per concentration,
        linear interpolation in log10 concentration between the two tested
        concentrations that bracket the level (first crossing from the lowest
        concentration).  ``"fit"``: a 4PL fit of growth percent with
        :func:`mtor_pharm.fit`, where the fitted curve crosses the level.
    inhibitor : str or Inhibitor, optional
        Registry inhibitor whose molecular weight converts mass concentrations
        (µg/mL) to molar; molar input is used as is.

    Returns
    -------
    GrowthMetrics
        NaN plus a ``">"``/``"<"`` qualifier where the level is not crossed inside
        the tested range (never an extrapolated number), also for a curve with a
        single tested concentration (e.g. a one-dose screen).

    Raises
    ------
    ValueError
        Concentrations ≤ 0 (vehicle wells), mismatched shapes.

    Notes
    -----
    GI50: ``100 (T − T0)/(C − T0) = 50`` (50 % growth inhibition).  TGI: ``T = T0``
    (growth percent 0, total growth inhibition).  LC50: ``100 (T − T0)/T0 = −50``
    (half the cells present at time zero killed).

    References
    ----------
    NCI DTP, "NCI-60 Screening Methodology"
    (https://dtp.cancer.gov/discovery_development/nci-60/methodology.htm).

    Examples
    --------
    >>> conc = mp.Q_([0.01, 0.1, 1, 10, 100, 1000], "nM")
    >>> m = mp.assays.nci60_metrics(conc, [95, 80, 40, 5, -30, -70])
    >>> round(float(m.tgi.magnitude), 2), str(m.lc50_qualifier)   # 10**(1 + 5/35), interpolated
    (13.89, '=')
    """
    choice(method, "method", ("interpolate", "fit"))
    if method not in ("interpolate", "fit"):
        raise ValueError(f"`method` must be 'interpolate' or 'fit'; got {method!r}.")
    cv = as_curves(conc, growth, conc_unit=conc_unit, name="growth", inhibitor=inhibitor)
    g = group_replicates(cv.conc, cv.response)
    lo = np.where(g.valid.any(-1), np.nanmin(np.where(g.valid, g.x, np.nan), axis=-1, initial=np.inf), np.nan)
    hi = np.where(g.valid.any(-1), np.nanmax(np.where(g.valid, g.x, np.nan), axis=-1, initial=-np.inf), np.nan)
    out: dict[str, Any] = {}
    res: FitResult | None = None
    if method == "interpolate":
        for name, level in (("gi50", 50.0), ("tgi", 0.0), ("lc50", -50.0)):
            value, qual = _crossing(g.x, g.y, g.valid, level)
            out[name], out[f"{name}_qualifier"] = value, qual
    else:
        res = fit(cv.conc, cv.response, model="4pl", conc_unit=str(cv.unit))
        with np.errstate(invalid="ignore"):
            y_lo = _predict_at(res, lo)
            y_hi = _predict_at(res, hi)
        for name, level in (("gi50", 50.0), ("tgi", 0.0), ("lc50", -50.0)):
            x = np.asarray(res.conc_at(level).to(cv.unit).magnitude, dtype=np.float64)
            with np.errstate(invalid="ignore"):
                inside = (x >= lo * (1 - 1e-12)) & (x <= hi * (1 + 1e-12))
                below = y_lo <= level
                above = y_hi > level
            qual = np.where(np.isnan(y_lo), "", np.where(below, "<", np.where(above, ">",
                            np.where(inside, "=", ""))))
            out[name] = np.where(qual == "=", x, np.nan)
            out[f"{name}_qualifier"] = qual.astype("<U1")
    return GrowthMetrics(
        gi50=quantity(out["gi50"], cv.unit), tgi=quantity(out["tgi"], cv.unit),
        lc50=quantity(out["lc50"], cv.unit),
        gi50_qualifier=out["gi50_qualifier"], tgi_qualifier=out["tgi_qualifier"],
        lc50_qualifier=out["lc50_qualifier"], method=method,
        conc_min=quantity(lo, cv.unit), conc_max=quantity(hi, cv.unit), n_points=g.n_points,
        fit=res,
    )


def _predict_at(res: FitResult, x: FloatArray) -> FloatArray:
    """The fitted curve of each curve at its own concentration `x` (batch shape)."""
    model = get_model(res.model)
    params = {k: np.asarray(v) for k, v in res.params.items()}
    out: FloatArray = model(np.asarray(x, dtype=np.float64), **params)
    return out


def _check_signal(s: Any) -> None:
    """GR values need cell counts (or readings proportional to them): never negative."""
    sv = np.asarray(s, dtype=np.float64)
    bad = sv < 0
    if bad.any():
        raise ValueError(
            f"`signal` must be ≥ 0 (a cell count or a reading proportional to it); got "
            f"{first_value(sv, bad)!r}{where_text(bad)}. Check the blank subtraction."
        )


# ----------------------------------------------------------------------------- GR
@overload
def gr_values(
    signal: xr.DataArray, *, t0: xr.DataArray | float | None = None, control: xr.DataArray | float,
    dim: Hashable | None = None, signal_stderr: xr.DataArray | float | None = None,
    division_time: Any = None, duration: Any = None,
) -> Normalized[xr.DataArray]: ...
@overload
def gr_values(
    signal: ArrayLike, *, t0: ArrayLike | None = None, control: ArrayLike,
    dim: None = None, signal_stderr: ArrayLike | None = None,
    division_time: Any = None, duration: Any = None,
) -> Normalized[FloatArray]: ...
@quiet
def gr_values(
    signal: Any, *, t0: Any = None, control: Any, dim: Hashable | None = None,
    signal_stderr: Any = None, division_time: Any = None, duration: Any = None,
) -> Normalized[Any]:
    """Normalized growth rate inhibition (GR) values (Hafner et al. 2016).

    Parameters
    ----------
    signal : array_like or xarray.DataArray
        Blank-corrected cell count (or a reading proportional to it) of treated
        wells at the end of the assay, ``x(c)``; must be ≥ 0.
    t0 : array_like or xarray.DataArray, optional
        Time-zero wells ``x0``, replicates along the last axis (NumPy) or `dim`
        (GRmetrics' case A).  Give either `t0`, or `division_time` with `duration`.
    control : array_like or xarray.DataArray
        Vehicle wells at the end of the assay ``x_ctrl``, replicates.
    dim : hashable, optional
        Replicate dimension of DataArray `t0` and `control`.
    signal_stderr : array_like, optional
        Standard errors of `signal`, included when given.
    division_time : float, str or Quantity, optional
        Doubling time of the untreated cells, used instead of `t0` ("case C" of
        Hafner et al. 2016), e.g. ``"24 h"``; a bare number is in the unit of
        `duration`.
    duration : float, str or Quantity, optional
        Assay duration (time from drug addition to the reading), with `division_time`.

    Returns
    -------
    Normalized
        GR values: 1 = no effect, 0 = complete cytostasis, negative = cell death
        (−1 = every cell killed).  Standard errors by the delta method (the
        division time is taken as exact).

    Raises
    ------
    ValueError
        Negative `signal`; both or neither of `t0` and `division_time`; a
        division time or duration that is not a positive finite time.
    ControlError
        ``x0 ≤ 0`` or controls that did not grow (``x_ctrl ≤ x0``); with a
        division time, a control mean ≤ 0.

    Notes
    -----
    ``GR(c) = 2^(log2(x(c)/x0) / log2(x_ctrl/x0)) − 1``.  Unlike percent viability
    it does not depend on how many divisions the controls went through.  With
    ``a = log2(x/x0)``, ``b = log2(x_ctrl/x0)``:
    ``∂GR/∂x0 = (GR + 1)(a/b − 1)/(x0 b)``, ``∂GR/∂x_ctrl = −(GR + 1) a/(b² x_ctrl)``.

    Case C (no time-zero plate): with ``N = duration/division_time`` control
    doublings, ``GR(c) = 2^(1 + log2(x(c)/x_ctrl)/N) − 1``, which equals case A
    when ``x0 = x_ctrl/2^N``.

    References
    ----------
    Hafner M, Niepel M, Chung M, Sorger PK. Growth rate inhibition metrics correct
    for confounders in measuring sensitivity to cancer drugs. Nat Methods
    2016;13:521–527.

    Examples
    --------
    >>> out = mp.assays.gr_values([400.0, 200.0, 100.0], t0=[100.0], control=[400.0])
    >>> out.value.round(3).tolist()   # 2**(2/2) - 1, 2**(1/2) - 1, 2**(0/2) - 1
    [1.0, 0.414, 0.0]
    >>> out = mp.assays.gr_values([400.0, 200.0, 100.0], control=[400.0],
    ...                           division_time="24 h", duration="48 h")
    >>> out.value.round(3).tolist()   # case C: 2**(1 + log2(x/400)/2) - 1
    [1.0, 0.414, 0.0]
    """
    if division_time is not None or duration is not None:
        if t0 is not None:
            raise ValueError(
                "`t0` and `division_time` must not both be given; got both. Pass the time-zero "
                "wells (case A) or the division time with `duration` (case C), not both."
            )
        return _gr_values_case_c(signal, control, dim, signal_stderr, division_time, duration)
    if t0 is None:
        raise ValueError(
            "`t0` must be given (time-zero wells), or else `division_time` and `duration`; "
            "got neither."
        )
    s, ts, cs = _t0_control_stats(signal, t0, control, dim)
    _check_signal(s)
    var_s = signal_variance(signal_stderr, s)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        a = np.log2(s / ts.mean)
        b = np.log2(cs.mean / ts.mean)
        gr = 2.0 ** (a / b) - 1.0
        d_x = (gr + 1.0) / (b * s)
        d_x0 = (gr + 1.0) * (a / b - 1.0) / (ts.mean * b)
        d_xc = -(gr + 1.0) * a / (b**2 * cs.mean)
        var = d_x0**2 * ts.var + d_xc**2 * cs.var
        if signal_stderr is not None:
            var = var + d_x**2 * var_s
        se = np.sqrt(var)
    return finish(gr, se, n_control_missing=ts.n_missing + cs.n_missing)


def _time_hours(value: Any, *, name: str, other_unit: Any = None) -> tuple[float, Any]:
    """A positive finite time as (magnitude in hours, or in `other_unit` for a bare number)."""
    from ..units import Q_

    if isinstance(value, bool) or value is None:
        raise ValueError(f"`{name}` must be a positive time (e.g. '24 h' or 24.0); got {value!r}.")
    if isinstance(value, (str, pint.Quantity)):
        try:
            q = Q_(value) if isinstance(value, str) else value
            hours = float(np.asarray(q.to("hour").magnitude, dtype=np.float64))
        except Exception:  # any parser or dimension failure is a bad argument
            raise ValueError(
                f"`{name}` must be a positive time (e.g. '24 h' or 24.0); got {value!r}."
            ) from None
        unit: Any = "hour"
        mag = hours
    else:
        try:
            arr = np.asarray(value)
            if arr.ndim != 0 or arr.dtype.kind not in "iuf":
                raise TypeError
            mag = float(arr)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(
                f"`{name}` must be a positive time (e.g. '24 h' or 24.0); got {value!r}."
            ) from None
        unit = other_unit
    if not (math.isfinite(mag) and mag > 0):
        raise ValueError(f"`{name}` must be a positive finite time; got {value!r}.")
    return mag, unit


def _gr_values_case_c(
    signal: Any, control: Any, dim: Hashable | None, signal_stderr: Any,
    division_time: Any, duration: Any,
) -> Normalized[Any]:
    if division_time is None or duration is None:
        missing = "duration" if duration is None else "division_time"
        raise ValueError(
            f"`{missing}` must be given with "
            f"`{'division_time' if missing == 'duration' else 'duration'}` (case C, no time-zero "
            f"wells); got {missing}=None."
        )
    dur, dur_unit = _time_hours(duration, name="duration")
    td, td_unit = _time_hours(division_time, name="division_time")
    if dur_unit is None and td_unit == "hour":
        dur_unit = "hour"
    if td_unit is None and dur_unit == "hour":
        td_unit = "hour"
    n_div = dur / td
    if not (math.isfinite(n_div) and n_div > 0):
        raise ValueError(
            f"`duration`/`division_time` must be a positive finite number of doublings; got "
            f"{duration!r}/{division_time!r}."
        )
    s = as_signal(signal, "signal")
    cs = replicate_stats(control, name="control", signal=s, dim=dim)
    check_broadcast(signal=s, control=cs.mean)
    c = np.asarray(cs.mean, dtype=np.float64)
    bad = ~(c > 0)
    if bad.any():
        raise ControlError(
            f"`control` must have a positive mean (blank-corrected reading); got "
            f"{first_value(c, bad)!r}{where_text(bad)}."
        )
    _check_signal(s)
    var_s = signal_variance(signal_stderr, s)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        a = np.log2(s / cs.mean)
        gr = 2.0 ** (1.0 + a / n_div) - 1.0
        d_x = (gr + 1.0) / (n_div * s)
        d_xc = -(gr + 1.0) / (n_div * cs.mean)
        var = d_xc**2 * cs.var
        if signal_stderr is not None:
            var = var + d_x**2 * var_s
        se = np.sqrt(var)
    return finish(gr, se, n_control_missing=cs.n_missing)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class GRMetrics:
    """GR metrics per curve (Hafner et al. 2016).

    Attributes
    ----------
    gr50 : pint.Quantity[Any]
        Concentration where the fitted GR curve crosses 0.5 (Hafner et al. 2016;
        GRmetrics): ``GEC50 · ((1 − GRinf)/(0.5 − GRinf) − 1)^(1/hGR)``; ``inf`` where
        ``GRinf ≥ 0.5`` (never reached); NaN where the fit is undetermined (see `fit`).
    gr0 : pint.Quantity[Any]
        Concentration where the fitted GR curve crosses 0 (the cytostatic dose):
        ``GEC50 · (−1/GRinf)^(1/hGR)``; ``inf`` where ``GRinf ≥ 0``; NaN where undetermined.
    gec50 : pint.Quantity[Any]
        Midpoint concentration of the fitted sigmoid (half-way between 1 and GRinf).
    grinf : ndarray
        Fitted asymptote at infinite concentration.
    hgr : ndarray
        Fitted Hill coefficient (> 0 for a falling curve).
    grmax : ndarray
        Observed GR at the highest tested concentration (mean of its replicates;
        GRmetrics takes the lower of the two highest concentrations).
    gr_aoc : ndarray
        Area over the observed GR curve, ``∫ (1 − GR) d log10 c`` by the trapezoid
        rule over the tested range, divided by its width.
    fit : FitResult
        The 4PL fit with ``top`` fixed at 1; its ``status`` bits apply here.
    """

    gr50: pint.Quantity[Any]
    gr0: pint.Quantity[Any]
    gec50: pint.Quantity[Any]
    grinf: FloatArray
    hgr: FloatArray
    grmax: FloatArray
    gr_aoc: FloatArray
    fit: FitResult = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("grinf", "hgr", "grmax", "gr_aoc"):
            object.__setattr__(self, name, _readonly(getattr(self, name)))

    @property
    def status(self) -> NDArray[np.uint8]:
        """The fit's :class:`~mtor_pharm.FitStatus` bits per curve."""
        return self.fit.status

    def to_frame(self) -> pd.DataFrame:
        """One row per curve: GR50, GR0, GEC50 (in the caller's unit), GRinf, hGR, GRmax, GR_AOC, status.

        Examples
        --------
        >>> conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
        >>> gr = mp.models.four_pl(conc.magnitude, bottom=-0.4, top=1.0, ic50=0.3, hill=1.5)
        >>> list(mp.assays.gr_metrics(conc, gr).to_frame().columns)[:3]
        ['gr50', 'gr0', 'gec50']
        """
        unit = f"{self.gr50.units:~P}"
        return pd.DataFrame({
            "gr50": np.ravel(self.gr50.magnitude),
            "gr0": np.ravel(self.gr0.magnitude),
            "gec50": np.ravel(self.gec50.magnitude),
            "conc_unit": unit,
            "grinf": np.ravel(self.grinf),
            "hgr": np.ravel(self.hgr),
            "grmax": np.ravel(self.grmax),
            "gr_aoc": np.ravel(self.gr_aoc),
            "status": np.ravel(self.fit.status),
        })


@quiet
def gr_metrics(
    conc: ConcentrationLike, gr: ArrayLike, *, conc_unit: str | None = None,
    bounds: Mapping[str, tuple[Any, Any]] | None = None, inhibitor: Any = None,
) -> GRMetrics:
    """GR50, GRmax, GRinf, GEC50, hGR and GR_AOC from GR values, fitted with :func:`mtor_pharm.fit`.

    Parameters
    ----------
    conc : Quantity or array_like, shape (m,) or (..., m)
        Tested concentrations (> 0; the vehicle has GR = 1 by definition and is not a point).
    gr : array_like, shape (..., m)
        GR values (:func:`gr_values`); NaN marks a missing well.
    conc_unit : str, optional
        Unit of a bare `conc` array.
    bounds : mapping, optional
        Passed to :func:`mtor_pharm.fit`, e.g. ``{"bottom": (-1, 1)}``.
    inhibitor : str or Inhibitor, optional
        Registry inhibitor whose molecular weight converts mass concentrations
        (µg/mL) to molar; molar input is used as is.

    Returns
    -------
    GRMetrics

    Notes
    -----
    Fit ``GR(c) = GRinf + (1 − GRinf) / (1 + (c/GEC50)^hGR)``: the library's 4PL
    with ``top`` fixed at 1 (``bottom = GRinf``, ``ic50 = GEC50``, ``hill = hGR``).
    GR50 is where the fitted curve crosses GR = 0.5,
    ``GR50 = GEC50 · ((1 − GRinf)/(0.5 − GRinf) − 1)^(1/hGR)``, ``inf`` when
    ``GRinf ≥ 0.5`` (the definition of Hafner et al. 2016 and GRmetrics); GR0 is
    where it crosses 0, ``GEC50 · (−1/GRinf)^(1/hGR)``, ``inf`` when ``GRinf ≥ 0``.
    A curve that the engine finds flat (F test against a constant) keeps its row
    with ``FLAT_RESPONSE`` in ``status`` and NaN concentrations (GRmetrics instead
    reports a flat fit with GEC50 = 0 and GR50 = ±inf).  GRmetrics fits with the
    bounds ``{"bottom": (-1, 1), "hill": (0.1, 5)}`` and GEC50 within 1/100 of the
    lowest to 100 times the highest concentration; pass them as `bounds` to
    reproduce its numbers.

    .. versionchanged:: 0.2.0
       ``gr50`` is the GR = 0.5 crossing (it was the GR = 0 crossing, now ``gr0``).

    References
    ----------
    Hafner M, Niepel M, Chung M, Sorger PK. Nat Methods 2016;13:521–527.

    Examples
    --------
    >>> conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
    >>> gr = mp.models.four_pl(conc.magnitude, bottom=-0.4, top=1.0, ic50=0.3, hill=1.5)
    >>> m = mp.assays.gr_metrics(conc, gr)
    >>> round(float(m.grinf), 3), round(float(m.gec50.magnitude), 3)
    (-0.4, 0.3)
    >>> round(float(m.gr50.magnitude), 4)   # 0.3 * (1.4/0.9 - 1)**(1/1.5)
    0.2027
    >>> round(float(m.gr0.magnitude), 3)    # 0.3 * 2.5**(1/1.5)
    0.553
    """
    cv = as_curves(conc, gr, conc_unit=conc_unit, name="gr", inhibitor=inhibitor)
    res = fit(cv.conc, cv.response, model="4pl", conc_unit=str(cv.unit), fixed={"top": 1.0},
              bounds=bounds)
    grinf = np.asarray(res.params["bottom"], dtype=np.float64)
    hgr = np.asarray(res.params["hill"], dtype=np.float64)
    gec50 = res.ic50.to(cv.unit)
    g50 = np.asarray(gec50.magnitude, dtype=np.float64)
    gr50 = _gr_crossing(g50, grinf, hgr, 0.5)
    gr0 = _gr_crossing(g50, grinf, hgr, 0.0)
    g = group_replicates(cv.conc, cv.response)
    n_groups = g.valid.sum(axis=-1)
    last = np.take_along_axis(g.y, np.clip(n_groups - 1, 0, None)[..., None], axis=-1)[..., 0]
    grmax = np.where(n_groups > 0, last, np.nan)
    with np.errstate(invalid="ignore"):
        inv = type(g)(x=g.x, y=1.0 - g.y, valid=g.valid, n_points=g.n_points)
        area, lo, hi = trapezoid_log(inv, log_base=10.0)
        aoc = area / (hi - lo)
    return GRMetrics(gr50=quantity(gr50, cv.unit), gr0=quantity(gr0, cv.unit), gec50=gec50,
                     grinf=grinf, hgr=hgr, grmax=grmax, gr_aoc=aoc, fit=res)


def _gr_crossing(gec50: FloatArray, grinf: FloatArray, hgr: FloatArray, level: float) -> FloatArray:
    """Concentration where ``GRinf + (1 − GRinf)/(1 + (c/GEC50)^h)`` equals `level` (< 1).

    ``inf`` where the curve never reaches `level` (``GRinf ≥ level``); NaN where
    the parameters are undetermined.
    """
    determined = np.isfinite(gec50) & np.isfinite(grinf) & np.isfinite(hgr) & (hgr != 0)
    reached = grinf < level
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        ratio = (1.0 - grinf) / (level - grinf) - 1.0
        c = gec50 * ratio ** (1.0 / hgr)
    out: FloatArray = np.where(determined, np.where(reached, c, np.inf), np.nan)
    return out


# ----------------------------------------------------------------------------- AUC
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class AreaUnderCurve:
    """An area over a log-dose range, with the metadata that says which area it is.

    Attributes
    ----------
    value : ndarray
        The area per curve.
    kind : {"auc", "activity_area"}
        ``"auc"``: area *under* the response, ``∫ y/scale``; ``"activity_area"``:
        area *above* it, ``∫ (1 − y/scale)`` (= 1 − AUC when normalized; PharmacoGx's
        AAC).  Larger AUC = *less* active; larger activity area = *more* active.
    method : {"trapezoid", "fit"}
        Trapezoid rule on the observed replicate means, or the integral of the fitted curve.
    log_base : float
        Base of the log-dose axis (10: decades).
    normalized : bool
        True: divided by the width of the range, so a response at `response_scale`
        everywhere gives AUC = 1 (and the value does not depend on `log_base`).
    response_scale : float
        The response meaning "no effect" (100 for percent, 1 for fractions).
    low, high : pint.Quantity[Any]
        The concentration range integrated, per curve.
    n_points : ndarray of int
        Finite responses per curve.
    """

    value: FloatArray
    kind: AreaKind
    method: AreaMethod
    log_base: float
    normalized: bool
    response_scale: float
    low: pint.Quantity[Any]
    high: pint.Quantity[Any]
    n_points: IntArray

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _readonly(self.value))
        object.__setattr__(self, "n_points", _readonly(self.n_points, dtype=np.int64))

    def describe(self) -> str:
        """A sentence naming the area, for figure legends and tables.

        Examples
        --------
        >>> a = mp.assays.auc(mp.Q_([0.1, 1, 10], "uM"), [90, 50, 10])
        >>> a.describe()
        'AUC (area under the response / 100), trapezoid rule, log10 dose, normalized to the tested range 0.1–10 µM'
        """
        what = ("AUC (area under the response" if self.kind == "auc"
                else "activity area (area above the response")
        base = "log10" if self.log_base == 10 else f"log{self.log_base:g}"
        how = "trapezoid rule" if self.method == "trapezoid" else "integral of the fitted curve"
        lo = np.ravel(self.low.magnitude)
        hi = np.ravel(self.high.magnitude)
        same = lo.size > 0 and np.all(lo == lo[0]) and np.all(hi == hi[0])
        rng = f"{lo[0]:g}–{hi[0]:g} {self.low.units:~P}" if same else "of each curve"
        if self.normalized:
            norm = f"normalized to the tested range {rng}" if same else "normalized to the tested range of each curve"
        else:
            norm = f"over {rng}" if same else "over the tested range of each curve"
        return f"{what} / {self.response_scale:g}), {how}, {base} dose, {norm}"


@quiet
def auc(
    conc: ConcentrationLike, response: ArrayLike, *, conc_unit: str | None = None,
    kind: AreaKind = "auc", method: AreaMethod = "trapezoid", response_scale: float = 100.0,
    log_base: float = 10.0, normalize: bool = True,
    conc_range: tuple[ConcentrationLike, ConcentrationLike] | None = None,
    model: ModelName | None = None, fit_result: FitResult | None = None, inhibitor: Any = None,
) -> AreaUnderCurve:
    """Area under (or above) a dose-response curve over a log-dose range.

    Parameters
    ----------
    conc : Quantity or array_like, shape (m,) or (..., m)
        Tested concentrations (> 0).
    response : array_like, shape (..., m)
        Responses (e.g. percent viability); NaN marks a missing well.
    conc_unit : str, optional
        Unit of a bare `conc` array.
    kind : {"auc", "activity_area"}, default "auc"
        Area under ``y/scale``, or above it (``1 − y/scale``).
    method : {"trapezoid", "fit"}, default "trapezoid"
        Trapezoid rule on replicate means, or the integral of a fitted curve.
    response_scale : float, default 100
        Response meaning "no effect": 100 for percent, 1 for fractions or GR values.
    log_base : float, default 10
        Base of the log-dose axis.
    normalize : bool, default True
        Divide by the width of the range (in `log_base` units).
    conc_range : (low, high), optional
        Concentrations to integrate between (e.g. the range common to two datasets);
        default: each curve's tested range.  With the trapezoid rule it must lie
        inside every curve's tested range.
    model : str, optional
        Model for ``method="fit"`` when `fit_result` is not given (default ``"4pl"``).
        Refused with the trapezoid rule, which fits nothing, and together with `fit_result`.
    fit_result : FitResult, optional
        A fit of these curves to integrate; ``method="fit"`` only.
    inhibitor : str or Inhibitor, optional
        Registry inhibitor whose molecular weight converts mass concentrations
        (µg/mL) to molar; molar input is used as is.

    Returns
    -------
    AreaUnderCurve
        Values plus the metadata (kind, method, base, range) that make them unambiguous.

    Raises
    ------
    ValueError
        Concentrations ≤ 0, a range outside the tested one (trapezoid), unknown options,
        `model` or `fit_result` with ``method="trapezoid"``.
    TypeError
        A `normalize` that is not True or False.

    Notes
    -----
    ``AUC = 1/(log hi − log lo) · ∫_lo^hi y(c)/scale d log c``; activity area ``= 1 − AUC``.
    The fitted integral uses Simpson's rule on 513 log-spaced points per curve.

    References
    ----------
    Pozdeyev N, et al. Integrating heterogeneous drug sensitivity data from cancer
    pharmacogenomic studies. Oncotarget 2016;7:51619 (AUC over a common range);
    Smirnov P, et al. PharmacoGx. Bioinformatics 2016;32:1244 (AUC vs AAC).

    Examples
    --------
    >>> a = mp.assays.auc(mp.Q_([0.1, 1, 10], "uM"), [90, 50, 10])
    >>> round(float(a.value), 3)   # ((0.9 + 0.5)/2 + (0.5 + 0.1)/2) / 2 decades
    0.5
    >>> a.kind, a.method
    ('auc', 'trapezoid')
    """
    if not isinstance(kind, str) or kind not in ("auc", "activity_area"):
        raise ValueError(f"`kind` must be 'auc' or 'activity_area'; got {kind!r}.")
    choice(method, "method", ("trapezoid", "fit"))
    response_scale = real_number(response_scale, "response_scale", accepted="a finite non-zero number")
    if response_scale == 0:
        raise ValueError(f"`response_scale` must be a finite non-zero number; got {response_scale!r}.")
    log_base = real_number(log_base, "log_base", low=1.0, low_open=True, accepted="a number > 1")
    normalize = boolean(normalize, "normalize")
    if fit_result is not None and not isinstance(fit_result, FitResult):
        raise TypeError(f"`fit_result` must be a FitResult or None; got {type(fit_result).__name__}.")
    if method == "trapezoid":
        given = [n for n, v in (("fit_result", fit_result), ("model", model)) if v is not None]
        if given:
            raise ValueError(
                f"`{given[0]}` is used only with method='fit'; got {given[0]}= with method='trapezoid', "
                "which integrates the observed points. Pass method='fit' to integrate a fitted curve, "
                f"or drop `{given[0]}`."
            )
    elif fit_result is not None and model is not None:
        raise ValueError(
            f"`model` must not be given with `fit_result` (the fit already has model "
            f"{fit_result.model!r}); got model={model!r}."
        )
    cv = as_curves(conc, response, conc_unit=conc_unit, inhibitor=inhibitor)
    y = cv.response / response_scale
    if kind == "activity_area":
        y = 1.0 - y
    g = group_replicates(cv.conc, y)
    _, t_lo, t_hi = trapezoid_log(g, log_base=log_base)
    log_lo, log_hi = t_lo, t_hi
    last = np.clip(g.valid.sum(axis=-1) - 1, 0, None)[..., None]
    lin_lo = np.where(np.isnan(t_lo), np.nan, g.x[..., 0])
    lin_hi = np.where(np.isnan(t_hi), np.nan, np.take_along_axis(g.x, last, axis=-1)[..., 0])
    if conc_range is not None:
        r_lo, r_hi = _range(conc_range, cv.unit)
        log_lo, log_hi = np.log(r_lo) / np.log(log_base), np.log(r_hi) / np.log(log_base)
        lin_lo = np.broadcast_to(r_lo, t_lo.shape)
        lin_hi = np.broadcast_to(r_hi, t_hi.shape)
        if method == "trapezoid":
            tol = 1e-9
            outside = (log_lo < t_lo - tol) | (log_hi > t_hi + tol) | np.isnan(t_lo)
            if np.any(outside):
                raise ValueError(
                    f"`conc_range` must lie inside every curve's tested range for the trapezoid "
                    f"rule; got {conc_range!r}, and{where_text(np.atleast_1d(outside))} the tested "
                    f"range is {log_base ** t_lo.min():.4g}–{log_base ** t_hi.max():.4g} {cv.unit:~P}. "
                    "Use method='fit' to integrate a fitted curve instead."
                )
        log_lo = np.broadcast_to(log_lo, t_lo.shape)
        log_hi = np.broadcast_to(log_hi, t_hi.shape)
    if method == "trapezoid":
        area, lo, hi = trapezoid_log(g, log_lo=log_lo, log_hi=log_hi, log_base=log_base)
    else:
        res = fit_result if fit_result is not None else fit(
            cv.conc, cv.response, model=model or "4pl", conc_unit=str(cv.unit))
        lo, hi = np.asarray(log_lo, dtype=np.float64), np.asarray(log_hi, dtype=np.float64)
        area = _fitted_area(res, lo, hi, cv.unit, log_base, response_scale, kind)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = area / (hi - lo) if normalize else area
    return AreaUnderCurve(
        value=value, kind=kind, method=method, log_base=float(log_base), normalized=normalize,
        response_scale=float(response_scale), low=quantity(lin_lo, cv.unit),
        high=quantity(lin_hi, cv.unit), n_points=g.n_points,
    )


def _range(conc_range: Any, unit: pint.Unit) -> tuple[FloatArray, FloatArray]:
    try:
        low, high = conc_range
    except (TypeError, ValueError):
        raise ValueError(f"`conc_range` must be a (low, high) pair; got {conc_range!r}.") from None
    lo, lo_unit = as_concentration(low, name="conc_range[0]")
    hi, hi_unit = as_concentration(high, name="conc_range[1]")
    lo = lo * unit_factor(lo_unit, unit)
    hi = hi * unit_factor(hi_unit, unit)
    if not (np.all(lo > 0) and np.all(hi > lo)):
        raise ValueError(f"`conc_range` must satisfy 0 < low < high; got {conc_range!r}.")
    return lo, hi


def _fitted_area(res: FitResult, lo: FloatArray, hi: FloatArray, unit: pint.Unit, log_base: float,
                 scale: float, kind: AreaKind) -> FloatArray:
    from scipy.integrate import simpson

    if res.shape != lo.shape:
        raise ValueError(
            f"`fit_result` must have the batch shape of the curves; got {res.shape} for {lo.shape}."
        )
    factor = unit_factor(unit, res.conc_unit)
    t = np.linspace(0.0, 1.0, 513)
    lx = lo[..., None] + t * (hi - lo)[..., None]
    params = {k: np.asarray(v)[..., None] for k, v in res.params.items()}
    with np.errstate(invalid="ignore", over="ignore"):
        y = get_model(res.model)(log_base**lx * factor, **params) / scale
        if kind == "activity_area":
            y = 1.0 - y
        out: FloatArray = np.asarray(simpson(y, x=lx, axis=-1), dtype=np.float64)
    return out

