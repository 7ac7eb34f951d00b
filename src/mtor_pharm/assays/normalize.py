"""Normalization of raw assay signals: blanks, controls, Western blot ratios.

Every function is pure (inputs are copied, never modified) and vectorized.  It
works on NumPy arrays and on ``xarray.DataArray`` objects; with DataArrays the
control replicates lie along the dimension named by ``dim=`` and everything else
aligns by dimension name.

With NumPy arrays, replicate controls lie along the **last axis**: a control of
shape ``(k,)`` is shared by every value of a 1-D signal, and a control of shape
``(..., k)`` with as many dimensions as the signal gives one control group per
leading index (e.g. signal ``(plates, wells)``, control ``(plates, k)``).  A 0-d
control is an exact reference value.

Normalizers that divide by a control mean return :class:`Normalized` values
*with standard errors* that carry the uncertainty of that mean forward (delta
method) instead of dividing by a bare mean.  The recommended alternative is not
to divide at all: fit the raw signal with the vehicle wells as data at ``x = 0``
(:func:`with_vehicle`), so the fit estimates the top plateau from the controls
with their own noise (see ``docs/assays.md``).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, overload

import numpy as np
import pint
import xarray as xr
from numpy.typing import ArrayLike

from .._arrays import is_dataarray
from .._molecular_weight import molecular_weight_of
from .._typing import ConcentrationLike, FloatArray
from ..errors import ShapeError
from ..units import Q_, as_concentration
from ._common import (
    Normalized,
    Stats,
    as_float,
    as_signal,
    check_broadcast,
    check_nonnegative,
    finish,
    first_value,
    quiet,
    replicate_stats,
    signal_variance,
    where_text,
)
from ._errors import ControlError

__all__ = [
    "Normalized",
    "cross_blot_scale",
    "fold_change",
    "loading_normalize",
    "percent_activity",
    "percent_inhibition",
    "percent_of_control",
    "phospho_ratio",
    "subtract_blank",
    "with_vehicle",
]

_NO_STATS = Stats(np.zeros((), dtype=np.float64), np.zeros((), dtype=np.float64), 0)


def _stats_or_zero(values: Any, *, name: str, signal: Any, dim: Hashable | None) -> Stats:
    if values is None:
        return _NO_STATS
    return replicate_stats(values, name=name, signal=signal, dim=dim)


def _window_error(
    high: Stats, low: Stats, *, high_name: str, low_name: str | None, strict: bool
) -> None:
    window = np.asarray(high.mean - low.mean, dtype=np.float64)
    bad = window <= 0 if strict else window == 0
    if not bad.any():
        return
    h = first_value(np.asarray(high.mean, dtype=np.float64), bad)
    where = where_text(bad)
    if low_name is None:
        raise ControlError(
            f"`{high_name}` must have a positive mean; got {h!r}{where}. Check that the "
            "control wells hold cells/enzyme and that the reading is not blank-subtracted twice."
        )
    lo = first_value(np.asarray(low.mean, dtype=np.float64), bad)
    rule = "must average above" if strict else "must differ from"
    raise ControlError(
        f"`{high_name}` {rule} `{low_name}`; got {high_name} mean {h!r} and {low_name} mean "
        f"{lo!r}{where}. Check the plate layout: are the control and background wells swapped "
        "or empty?"
    )


def _percent(
    signal: Any, high: Any, low: Any, *, dim: Hashable | None, signal_stderr: Any,
    high_name: str, low_name: str | None, strict: bool,
) -> Normalized[Any]:
    s = as_signal(signal, "signal")
    hs = replicate_stats(high, name=high_name, signal=s, dim=dim)
    ls = _stats_or_zero(low, name=low_name or "blank", signal=s, dim=dim)
    check_broadcast(signal=s, **{high_name: hs.mean, (low_name or "blank"): ls.mean})
    _window_error(hs, ls, high_name=high_name, low_name=low_name, strict=strict)
    var_s = signal_variance(signal_stderr, s)
    with np.errstate(invalid="ignore", divide="ignore"):
        window = hs.mean - ls.mean
        p = 100.0 * (s - ls.mean) / window
        var = (
            (100.0 / window) ** 2 * var_s
            + (p / window) ** 2 * hs.var
            + ((p - 100.0) / window) ** 2 * ls.var
        )
        se = np.sqrt(var)
    return finish(p, se, n_control_missing=hs.n_missing + ls.n_missing)


# ----------------------------------------------------------------------------- blanks
@overload
def subtract_blank(
    signal: xr.DataArray, blank: xr.DataArray | float, *, dim: Hashable | None = None
) -> Normalized[xr.DataArray]: ...
@overload
def subtract_blank(
    signal: ArrayLike, blank: ArrayLike, *, dim: None = None
) -> Normalized[FloatArray]: ...
@quiet
def subtract_blank(signal: Any, blank: Any, *, dim: Hashable | None = None) -> Normalized[Any]:
    """Subtract the mean of the blank (background) wells.

    Parameters
    ----------
    signal : array_like or xarray.DataArray
        Raw signal per well; NaN marks a missing well.
    blank : array_like or xarray.DataArray
        Blank wells (medium without cells, or no enzyme), replicates along the last
        axis (NumPy) or along `dim` (xarray).  See the module notes on shapes.
    dim : hashable, optional
        Replicate dimension of a DataArray `blank`.

    Returns
    -------
    Normalized
        ``value = signal − mean(blank)``; ``stderr`` = standard error of the blank mean.

    Notes
    -----
    ``S − B̄`` with ``se = s_B / sqrt(k_B)``; NaN blank replicates are left out of
    the mean and counted in ``n_control_missing``.

    References
    ----------
    Standard background correction; see the Assay Guidance Manual, NCBI Bookshelf
    NBK53196 (Eli Lilly & Company and NCATS, 2004–).

    Examples
    --------
    >>> out = mp.assays.subtract_blank([0.9, 0.5, np.nan], [0.05, 0.07])
    >>> out.value.round(2).tolist(), out.n_missing
    ([0.84, 0.44, nan], 1)
    """
    s = as_signal(signal, "signal")
    bs = replicate_stats(blank, name="blank", signal=s, dim=dim)
    check_broadcast(signal=s, blank=bs.mean)
    with np.errstate(invalid="ignore"):
        return finish(s - bs.mean, np.sqrt(bs.var), n_control_missing=bs.n_missing)


# ----------------------------------------------------------------------------- percent
@overload
def percent_of_control(
    signal: xr.DataArray, control: xr.DataArray | float, blank: xr.DataArray | float | None = None,
    *, dim: Hashable | None = None, signal_stderr: xr.DataArray | float | None = None,
) -> Normalized[xr.DataArray]: ...
@overload
def percent_of_control(
    signal: ArrayLike, control: ArrayLike, blank: ArrayLike | None = None,
    *, dim: None = None, signal_stderr: ArrayLike | None = None,
) -> Normalized[FloatArray]: ...
@quiet
def percent_of_control(
    signal: Any, control: Any, blank: Any = None, *, dim: Hashable | None = None,
    signal_stderr: Any = None,
) -> Normalized[Any]:
    """Percent of control: ``100 · (S − B̄) / (C̄ − B̄)``, with delta-method standard errors.

    Parameters
    ----------
    signal : array_like or xarray.DataArray
        Signal per well (e.g. MTT absorbance); NaN marks a missing well and stays NaN.
    control : array_like or xarray.DataArray
        Vehicle-treated wells (100 %), replicates along the last axis (NumPy) or `dim`.
    blank : array_like or xarray.DataArray, optional
        Background wells (medium, no cells: 0 %).  Omit for a signal already
        blank-corrected.
    dim : hashable, optional
        Replicate dimension of DataArray controls; may equal the signal's well dimension.
    signal_stderr : array_like, optional
        Standard error of each signal value, when the signal values are themselves
        means; included in ``stderr``.  By default ``stderr`` holds only the
        controls' contribution, which every well of the group shares.

    Returns
    -------
    Normalized
        ``value`` in percent; ``stderr`` by the delta method.

    Raises
    ------
    ControlError
        A control mean not above the blank mean (zero, negative, equal to background).
    ShapeError
        Controls whose shape does not fit the signal (see the module notes).

    Notes
    -----
    With ``p = 100 (S − B̄)/(C̄ − B̄)`` and ``W = C̄ − B̄``,

    ``var(p) = (100/W)² var(S) + (p/W)² var(C̄) + ((p − 100)/W)² var(B̄)``,

    with ``var(C̄) = s_C²/k_C`` from the replicates.  Dividing by a bare mean
    would drop the second and third terms.  Fitting the raw signal with the
    vehicle wells at ``x = 0`` (:func:`with_vehicle`) is better still: the top
    plateau is then estimated from the controls inside the fit.

    References
    ----------
    Ritz C, Baty F, Streibig JC, Gerhard D. Dose-response analysis using R.
    PLoS One 2015;10:e0146021 (controls as data at dose 0).

    Examples
    --------
    >>> out = mp.assays.percent_of_control([0.55, 0.30], [1.05, 0.95], blank=[0.05, 0.05])
    >>> out.value.round(1).tolist()   # 100 * 0.50 / 0.95, 100 * 0.25 / 0.95
    [52.6, 26.3]
    >>> bool((out.stderr > 0).all())
    True
    """
    return _percent(signal, control, blank, dim=dim, signal_stderr=signal_stderr,
                    high_name="control", low_name=None if blank is None else "blank", strict=True)


@overload
def percent_activity(
    signal: xr.DataArray, *, no_inhibitor: xr.DataArray | float, background: xr.DataArray | float,
    dim: Hashable | None = None, signal_stderr: xr.DataArray | float | None = None,
) -> Normalized[xr.DataArray]: ...
@overload
def percent_activity(
    signal: ArrayLike, *, no_inhibitor: ArrayLike, background: ArrayLike,
    dim: None = None, signal_stderr: ArrayLike | None = None,
) -> Normalized[FloatArray]: ...
@quiet
def percent_activity(
    signal: Any, *, no_inhibitor: Any, background: Any, dim: Hashable | None = None,
    signal_stderr: Any = None,
) -> Normalized[Any]:
    """Percent activity between controls: ``100 · (S − P̄) / (N̄ − P̄)``.

    Parameters
    ----------
    signal : array_like or xarray.DataArray
        Signal per inhibitor concentration (e.g. phospho-4E-BP1 counts).
    no_inhibitor : array_like or xarray.DataArray
        Full-activity wells (enzyme, no inhibitor): 100 %.
    background : array_like or xarray.DataArray
        Full-inhibition or no-enzyme wells: 0 %.
    dim, signal_stderr
        As in :func:`percent_of_control`.

    Returns
    -------
    Normalized
        Percent activity; ``percent_inhibition = 100 − percent_activity``.

    Raises
    ------
    ControlError
        `no_inhibitor` and `background` with equal means.  (Either may be the larger:
        ATP-depletion read-outs rise as the kinase is inhibited.)

    Notes
    -----
    Same delta method as :func:`percent_of_control` with ``C = N``, ``B = P``.

    References
    ----------
    Copeland RA. Evaluation of Enzyme Inhibitors in Drug Discovery, 2nd ed.
    Wiley 2013, ch. 5.

    Examples
    --------
    >>> out = mp.assays.percent_activity([600, 350], no_inhibitor=[1000, 1000], background=[100, 100])
    >>> out.value.round(1).tolist()
    [55.6, 27.8]
    """
    return _percent(signal, no_inhibitor, background, dim=dim, signal_stderr=signal_stderr,
                    high_name="no_inhibitor", low_name="background", strict=False)


@overload
def percent_inhibition(
    signal: xr.DataArray, *, no_inhibitor: xr.DataArray | float, background: xr.DataArray | float,
    dim: Hashable | None = None, signal_stderr: xr.DataArray | float | None = None,
) -> Normalized[xr.DataArray]: ...
@overload
def percent_inhibition(
    signal: ArrayLike, *, no_inhibitor: ArrayLike, background: ArrayLike,
    dim: None = None, signal_stderr: ArrayLike | None = None,
) -> Normalized[FloatArray]: ...
@quiet
def percent_inhibition(
    signal: Any, *, no_inhibitor: Any, background: Any, dim: Hashable | None = None,
    signal_stderr: Any = None,
) -> Normalized[Any]:
    """Percent inhibition between controls: ``100 · (N̄ − S) / (N̄ − P̄)``.

    Parameters and errors as in :func:`percent_activity`, of which this is
    ``100 − value`` (same standard errors).

    References
    ----------
    Copeland RA. Evaluation of Enzyme Inhibitors in Drug Discovery, 2nd ed.
    Wiley 2013, ch. 5.

    Examples
    --------
    >>> out = mp.assays.percent_inhibition([600, 350], no_inhibitor=[1000, 1000], background=[100, 100])
    >>> out.value.round(1).tolist()
    [44.4, 72.2]
    """
    act = _percent(signal, no_inhibitor, background, dim=dim, signal_stderr=signal_stderr,
                   high_name="no_inhibitor", low_name="background", strict=False)
    return finish(100.0 - act.value, act.stderr, n_control_missing=act.n_control_missing)


# ----------------------------------------------------------------------------- western blots
def _band(values: Any, background: Any, name: str, bg_name: str) -> Any:
    v = as_signal(values, name)
    check_nonnegative(v, name)
    if background is None:
        return v
    bg = as_signal(background, bg_name)
    check_nonnegative(bg, bg_name)
    check_broadcast(**{name: v, bg_name: bg})
    return v - bg


def _positive_denominator(den: Any, name: str, what: str) -> None:
    arr = np.asarray(den, dtype=np.float64)
    bad = arr <= 0
    if bad.any():
        raise ControlError(
            f"`{name}` must be above its background ({what} is a denominator); got "
            f"{first_value(arr, bad)!r} after background subtraction{where_text(bad)}."
        )


@overload
def phospho_ratio(
    phospho: xr.DataArray, total: xr.DataArray, *, background: ArrayLike | xr.DataArray | None = None,
    total_background: ArrayLike | xr.DataArray | None = None,
) -> xr.DataArray: ...
@overload
def phospho_ratio(
    phospho: ArrayLike, total: ArrayLike, *, background: ArrayLike | None = None,
    total_background: ArrayLike | None = None,
) -> FloatArray: ...
@quiet
def phospho_ratio(
    phospho: Any, total: Any, *, background: Any = None, total_background: Any = None
) -> Any:
    """Phospho/total band ratio per lane, after background subtraction.

    Parameters
    ----------
    phospho, total : array_like or xarray.DataArray
        Band intensities (densitometry volumes) of the phospho-protein (e.g. p-S6K1
        T389, p-4E-BP1 T37/46, p-Akt S473) and of the total protein, per lane.
    background : array_like, optional
        Background of the phospho band (scalar or per lane); also used for the total
        band unless `total_background` is given.
    total_background : array_like, optional
        Background of the total band.

    Returns
    -------
    ndarray or xarray.DataArray
        ``(phospho − bg_p) / (total − bg_t)``.  Divide by the vehicle lane of the
        same blot with :func:`fold_change`.

    Raises
    ------
    ValueError
        Negative raw intensities.
    ControlError
        A total band not above its background.

    References
    ----------
    Pillai-Kastoori L, Schutz-Geschwender AR, Harford JA. A systematic approach to
    quantitative Western blot analysis. Anal Biochem 2020;593:113608.

    Examples
    --------
    >>> mp.assays.phospho_ratio([1200, 600], [2100, 2000], background=100).round(2).tolist()
    [0.55, 0.26]
    """
    return _band_ratio(phospho, total, background, total_background, ("phospho", "total", "total_background"),
                       "the total band")


@overload
def loading_normalize(
    signal: xr.DataArray, loading: xr.DataArray, *, background: ArrayLike | xr.DataArray | None = None,
    loading_background: ArrayLike | xr.DataArray | None = None,
) -> xr.DataArray: ...
@overload
def loading_normalize(
    signal: ArrayLike, loading: ArrayLike, *, background: ArrayLike | None = None,
    loading_background: ArrayLike | None = None,
) -> FloatArray: ...
@quiet
def loading_normalize(
    signal: Any, loading: Any, *, background: Any = None, loading_background: Any = None
) -> Any:
    """Target band over loading-control band (GAPDH, β-actin, total protein stain) per lane.

    Parameters
    ----------
    signal, loading : array_like or xarray.DataArray
        Band intensities per lane.
    background, loading_background : array_like, optional
        Backgrounds; `loading_background` defaults to `background`.

    Returns
    -------
    ndarray or xarray.DataArray
        ``(signal − bg) / (loading − bg_l)``.

    Raises
    ------
    ControlError
        A loading band not above its background.

    References
    ----------
    Pillai-Kastoori et al. 2020 (see :func:`phospho_ratio`).

    Examples
    --------
    >>> mp.assays.loading_normalize([900, 450], [3000, 3000]).round(2).tolist()
    [0.3, 0.15]
    """
    return _band_ratio(signal, loading, background, loading_background,
                       ("signal", "loading", "loading_background"), "the loading control")


def _band_ratio(num: Any, den: Any, background: Any, den_background: Any, names: tuple[str, str, str],
                what: str) -> Any:
    """``(num − background) / (den − den_background)`` (the latter defaulting to `background`);
    `names` are the caller's names of `num`, `den` and `den_background`, for the errors."""
    num_name, den_name, den_bg_name = names
    n = _band(num, background, num_name, "background")
    own = den_background is not None
    d = _band(den, den_background if own else background, den_name, den_bg_name if own else "background")
    _positive_denominator(d, den_name, what)
    check_broadcast(**{num_name: n, den_name: d})
    if not (is_dataarray(n) or is_dataarray(d)):
        return np.asarray(n / d, dtype=np.float64)
    return n / d


def _ratio(values: Any, reference: Any, *, dim: Hashable | None, values_stderr: Any) -> Normalized[Any]:
    v = as_signal(values, "values")
    rs = replicate_stats(reference, name="reference", signal=v, dim=dim, signal_name="values")
    check_broadcast(values=v, reference=rs.mean)
    r = np.asarray(rs.mean, dtype=np.float64)
    bad = r <= 0
    if bad.any():
        raise ControlError(
            f"`reference` must have a positive mean; got {first_value(r, bad)!r}{where_text(bad)}. "
            "Fold changes need a reference lane with signal above background."
        )
    var_v = 0.0 if values_stderr is None else signal_variance(values_stderr, v)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = v / rs.mean
        var = var_v / rs.mean**2 + f**2 * rs.var / rs.mean**2
        se = np.sqrt(var)
    return finish(f, se, n_control_missing=rs.n_missing)


@overload
def fold_change(
    values: xr.DataArray, reference: xr.DataArray | float, *, dim: Hashable | None = None,
    values_stderr: xr.DataArray | float | None = None,
) -> Normalized[xr.DataArray]: ...
@overload
def fold_change(
    values: ArrayLike, reference: ArrayLike, *, dim: None = None,
    values_stderr: ArrayLike | None = None,
) -> Normalized[FloatArray]: ...
@quiet
def fold_change(
    values: Any, reference: Any, *, dim: Hashable | None = None, values_stderr: Any = None
) -> Normalized[Any]:
    """Fold change against the vehicle lane(s) of the same blot: ``V / R̄``.

    Parameters
    ----------
    values : array_like or xarray.DataArray, shape (..., lanes)
        Per-lane ratios (from :func:`phospho_ratio` or :func:`loading_normalize`).
    reference : array_like or xarray.DataArray, shape (..., k)
        The vehicle lane(s) of the same blot, replicates along the last axis (NumPy)
        or `dim`.  Keep the replicate axis for a single lane: ``ratio[..., :1]``.
    dim : hashable, optional
        Replicate dimension of a DataArray `reference`.
    values_stderr : array_like, optional
        Standard errors of `values`, included when given.

    Returns
    -------
    Normalized
        Fold change (vehicle = 1); ``stderr`` from the reference mean (NaN with a
        single vehicle lane, whose error is unknown).

    Raises
    ------
    ControlError
        A reference mean ≤ 0.

    Notes
    -----
    ``f = V / R̄``, ``var(f) = var(V)/R̄² + f² var(R̄)/R̄²``.  Compare blots only
    through a shared reference sample (:func:`cross_blot_scale`).

    References
    ----------
    Pillai-Kastoori et al. 2020 (see :func:`phospho_ratio`).

    Examples
    --------
    >>> ratio = np.array([[0.50, 0.25, 0.10], [0.40, 0.30, 0.08]])   # 2 blots x 3 lanes
    >>> mp.assays.fold_change(ratio, ratio[:, :1]).value.round(2).tolist()
    [[1.0, 0.5, 0.2], [1.0, 0.75, 0.2]]
    """
    return _ratio(values, reference, dim=dim, values_stderr=values_stderr)


@overload
def cross_blot_scale(
    values: xr.DataArray, reference: xr.DataArray | float, *, dim: Hashable | None = None,
    values_stderr: xr.DataArray | float | None = None,
) -> Normalized[xr.DataArray]: ...
@overload
def cross_blot_scale(
    values: ArrayLike, reference: ArrayLike, *, dim: None = None,
    values_stderr: ArrayLike | None = None,
) -> Normalized[FloatArray]: ...
@quiet
def cross_blot_scale(
    values: Any, reference: Any, *, dim: Hashable | None = None, values_stderr: Any = None
) -> Normalized[Any]:
    """Put several blots on one scale through a reference sample loaded on every blot.

    Each blot's values are divided by the mean of *its own* lanes of the shared
    reference sample (e.g. one pooled lysate run on every gel), so the reference
    reads 1 on every blot and values become comparable across blots.

    Parameters
    ----------
    values : array_like or xarray.DataArray, shape (blots, lanes)
        Per-lane ratios.
    reference : array_like or xarray.DataArray, shape (blots, k)
        The shared reference sample's lane(s) on each blot.
    dim, values_stderr
        As in :func:`fold_change`.

    Returns
    -------
    Normalized
        Values relative to the shared reference sample.

    Raises
    ------
    ControlError
        A reference mean ≤ 0.

    Notes
    -----
    Same arithmetic as :func:`fold_change`; it differs in meaning: a fold change
    against the vehicle is within one blot, this scaling links blots.

    References
    ----------
    Degasperi A, et al. Evaluating strategies to normalise biological replicates of
    Western blot data. PLoS One 2014;9:e87293.

    Examples
    --------
    >>> ratio = np.array([[0.8, 0.4, 0.2], [1.6, 0.6, 0.4]])   # lane 0 = shared reference
    >>> mp.assays.cross_blot_scale(ratio, ratio[:, :1]).value.round(3).tolist()
    [[1.0, 0.5, 0.25], [1.0, 0.375, 0.25]]
    """
    return _ratio(values, reference, dim=dim, values_stderr=values_stderr)


# ----------------------------------------------------------------------------- vehicle as data
@quiet
def with_vehicle(
    conc: ConcentrationLike,
    response: ArrayLike,
    vehicle: ArrayLike,
    *,
    conc_unit: str | None = None,
    inhibitor: Any = None,
) -> tuple[pint.Quantity[Any], FloatArray]:
    """Append vehicle wells to each curve as points at ``x = 0`` (the recommended path).

    Instead of dividing every well by the mean of the vehicle wells, keep the raw
    (blank-subtracted) signal and fit the vehicle wells as data at concentration 0.
    The 4PL is finite there (``y(0) = top``), so the fit estimates the top plateau
    from the controls *with their noise*, and the IC50's standard error includes it.

    Parameters
    ----------
    conc : Quantity or array_like, shape (m,) or (..., m)
        Concentrations of the treated wells.
    response : array_like, shape (..., m)
        Their responses (raw or blank-subtracted signal).
    vehicle : array_like, shape (k,) or (..., k)
        Vehicle responses in the same units: shape ``(k,)`` is shared by every
        curve; ``(..., k)`` (same number of dimensions as `response`) gives each
        curve its own vehicle wells.
    conc_unit : str, optional
        Unit of a bare `conc` array.
    inhibitor : str or Inhibitor, optional
        Registry inhibitor whose molecular weight converts mass concentrations
        (µg/mL) to molar; molar input is used as is.

    Returns
    -------
    conc : Quantity, shape (m + k,) or (..., m + k)
        `conc` followed by ``k`` zeros.
    response : ndarray, shape (..., m + k)
        `response` followed by the vehicle responses.

    Notes
    -----
    Normalizing to the control mean first treats that mean as exact, which hides
    its uncertainty and understates the IC50's standard error; fitting the controls
    as data keeps it (Ritz et al. 2015).  This is what :func:`mtor_pharm.fit` is
    designed for: ``x = 0`` is allowed.

    References
    ----------
    Ritz C, Baty F, Streibig JC, Gerhard D. Dose-response analysis using R.
    PLoS One 2015;10:e0146021.

    Examples
    --------
    >>> conc, y = mp.assays.with_vehicle(mp.Q_([0.1, 1, 10], "uM"), [0.8, 0.5, 0.1], [1.0, 0.98])
    >>> conc.magnitude.tolist(), y.tolist()
    ([0.1, 1.0, 10.0, 0.0, 0.0], [0.8, 0.5, 0.1, 1.0, 0.98])
    """
    x, unit = as_concentration(conc, conc_unit=conc_unit, molecular_weight=molecular_weight_of(inhibitor))
    y = as_float(response, "response")
    v = as_float(vehicle, "vehicle")
    if x.ndim == 0 or y.ndim == 0 or v.ndim == 0:
        raise ShapeError(
            "`conc`, `response` and `vehicle` must each have a last (well) axis; got shapes "
            f"{x.shape}, {y.shape} and {v.shape}."
        )
    if x.shape[-1] != y.shape[-1]:
        raise ShapeError(
            f"`conc` and `response` must have the same last axis; got shapes {x.shape} and {y.shape}."
        )
    if v.ndim != 1 and v.ndim != y.ndim:
        raise ShapeError(
            f"`vehicle` must have shape (k,) or as many dimensions as `response`; got {v.shape} "
            f"for a response of shape {y.shape}."
        )
    v_batch = v.shape[:-1] if v.ndim > 1 else ()
    x_batch = x.shape[:-1]
    batch = check_broadcast(response=np.empty(y.shape[:-1]), vehicle=np.empty(v_batch),
                            conc=np.empty(x_batch))
    k = v.shape[-1]
    y_out = np.concatenate(
        [np.broadcast_to(y, (*batch, y.shape[-1])), np.broadcast_to(v, (*batch, k))], axis=-1
    )
    if x.ndim == 1:
        x_out = np.concatenate([x, np.zeros(k)])
    else:
        x_out = np.concatenate(
            [np.broadcast_to(x, (*batch, x.shape[-1])), np.zeros((*batch, k))], axis=-1
        )
    return Q_(x_out, str(unit)), y_out
