"""Shared helpers for the assay modules (internal).

Input coercion and validation, replicate statistics of control wells (numpy: the
last axis; xarray: a named dimension), the :class:`Normalized` result, and the
per-curve grouping of replicate concentrations used by the log-dose metrics.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import numpy as np
import pint
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from .._arrays import is_dataarray
from .._molecular_weight import molecular_weight_of
from .._typing import BoolArray, FloatArray
from ..errors import ShapeError
from ..units import Q_, as_concentration, as_float_array

__all__ = ["Normalized"]

#: The array type of a result: a float64 ndarray, or a DataArray for DataArray input.
ArrayT = TypeVar("ArrayT", FloatArray, xr.DataArray)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Normalized(Generic[ArrayT]):
    """Normalized values with standard errors that include the controls' uncertainty.

    Attributes
    ----------
    value : ndarray or xarray.DataArray
        The normalized values (percent, fraction or fold, as the function documents).
        Read-only for ndarrays.
    stderr : ndarray or xarray.DataArray
        Standard error of `value` by the delta method, same shape.  It always
        contains the uncertainty of the control (and blank) *means*; it contains
        the wells' own noise only if the caller passed ``signal_stderr=``.  NaN
        where it cannot be estimated (a single control replicate).
    n_missing : int
        Number of NaN entries in `value` (missing wells propagate as NaN).
    n_control_missing : int
        Number of NaN control/blank/reference replicates left out of their means.

    Notes
    -----
    Every value normalized against the same control mean shares that mean's
    error, so the errors of one plate are correlated.  Using `stderr` as
    independent fit weights ignores that correlation; fitting the raw signal with
    the vehicle wells as data at ``x = 0`` (:func:`mtor_pharm.assays.with_vehicle`)
    keeps it (Ritz et al.).
    """

    value: ArrayT
    stderr: ArrayT
    n_missing: int
    n_control_missing: int

    def __post_init__(self) -> None:
        for name in ("value", "stderr"):
            arr = getattr(self, name)
            if isinstance(arr, np.ndarray):
                arr = np.array(arr, dtype=np.float64, copy=True)
                arr.flags.writeable = False
                object.__setattr__(self, name, arr)

    def __repr__(self) -> str:
        shape = tuple(np.shape(self.value))
        return (
            f"Normalized(shape={shape}, n_missing={self.n_missing}, "
            f"n_control_missing={self.n_control_missing})"
        )


# ----------------------------------------------------------------------------- inputs
def where_text(mask: NDArray[np.bool_]) -> str:
    """' at index (i, j)' for the first True entry, plus how many more."""
    idx = np.argwhere(mask)
    if idx.size == 0:
        return ""
    first = tuple(int(i) for i in idx[0])
    loc = f" at index {first}" if first else ""
    more = len(idx) - 1
    return loc + (f" (and {more} more)" if more else "")


def first_value(values: NDArray[Any], mask: NDArray[np.bool_]) -> Any:
    arr = np.asarray(values)
    if arr.ndim == 0:
        return arr.item()
    sel = arr[np.broadcast_to(mask, arr.shape)]
    return sel.flat[0].item() if sel.size else None


#: Largest magnitude accepted for a reading: squares (variances) of larger values overflow float64.
MAX_READING = 1e150


def as_float(values: Any, name: str) -> FloatArray:
    """A float64 copy of `values`: ±inf, complex, text and magnitudes above
    :data:`MAX_READING` are refused; masked entries of a masked array become NaN
    (NaN marks a missing well)."""
    if isinstance(values, pint.Quantity):
        raise TypeError(
            f"`{name}` must be plain numbers (signal, absorbance, counts); got a Quantity "
            f"in {values.units!s}. Pass its .magnitude."
        )
    if isinstance(values, str | bytes):
        raise TypeError(f"`{name}` must hold numbers; got the string {values!r}.")
    arr = as_float_array(values, name=name)
    bad = np.isinf(arr)
    if bad.any():
        raise ValueError(
            f"`{name}` must be finite (NaN marks a missing well); got {first_value(arr, bad)!r}"
            f"{where_text(bad)}."
        )
    with np.errstate(invalid="ignore"):
        bad = np.abs(arr) > MAX_READING
    if bad.any():
        raise ValueError(
            f"`{name}` must have magnitudes ≤ {MAX_READING:g} (larger readings overflow float64 "
            f"arithmetic); got {first_value(arr, bad)!r}{where_text(bad)}. Rescale the readings."
        )
    return arr


def as_float_da(values: xr.DataArray, name: str) -> xr.DataArray:
    if np.iscomplexobj(values.values):
        raise TypeError(f"`{name}` must hold real numbers; got complex values (dtype {values.dtype}).")
    as_float(values.values, name)  # validates (text, inf, magnitude)
    out = values.astype(np.float64, copy=True)
    return out


F = TypeVar("F", bound=Callable[..., Any])


def quiet(func: F) -> F:
    """Run a public function with numpy's floating-point warnings off.

    The functions check their inputs (finite, at most :data:`MAX_READING`) and
    their outputs (:func:`finish` refuses ±inf), so numpy's RuntimeWarnings
    would only repeat what the errors say.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return func(*args, **kwargs)

    return cast(F, wrapper)


def as_signal(values: Any, name: str) -> Any:
    """Coerce a signal to float64: DataArray stays a DataArray."""
    if is_dataarray(values):
        return as_float_da(values, name)
    return as_float(values, name)


def count_nan(values: Any) -> int:
    return int(np.isnan(np.asarray(values, dtype=np.float64)).sum())


def check_nonnegative(values: Any, name: str) -> None:
    arr = np.asarray(values, dtype=np.float64)
    bad = arr < 0
    if bad.any():
        raise ValueError(
            f"`{name}` must be ≥ 0 (raw intensities or absorbances); got {first_value(arr, bad)!r}"
            f"{where_text(bad)}."
        )


@dataclass(frozen=True, slots=True)
class Stats:
    """Mean of replicate wells and the variance of that mean."""

    mean: Any
    var: Any
    n_missing: int


def replicate_stats(values: Any, *, name: str, signal: Any, dim: Hashable | None,
                    signal_name: str = "signal") -> Stats:
    """Mean and variance-of-the-mean of control replicates, NaN replicates left out and counted.

    NumPy: a 0-d control is an exact reference (variance 0); otherwise the
    replicates lie along the last axis, and the control has either one dimension
    (shared by all values of a 0-d or 1-d signal) or as many as the signal
    (leading axes broadcast against the signal's).  xarray: `dim` names the
    replicate dimension; ``dim=None`` uses the DataArray as exact references.
    """
    if is_dataarray(values):
        if not is_dataarray(signal):
            raise TypeError(
                f"`{name}` is an xarray.DataArray but the signal is not; pass both as "
                "DataArrays (aligned by dimension name) or both as NumPy arrays."
            )
        arr = as_float_da(values, name)
        n_missing = count_nan(arr.values)
        if dim is None:
            return Stats(arr, xr.zeros_like(arr), n_missing)
        if dim not in arr.dims:
            raise ShapeError(
                f"`dim` must name the replicate dimension of `{name}`; got {dim!r}, and "
                f"`{name}` has dimensions {tuple(arr.dims)}."
            )
        if arr.sizes[dim] == 0:
            raise ShapeError(f"`{name}` must hold at least one replicate along {dim!r}; got none.")
        n = arr.count([dim])
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_da = (arr.sum([dim], skipna=True) / n).where(n > 0)
            ss = ((arr - mean_da) ** 2).sum([dim], skipna=True)
            var_da = (ss / (n - 1) / n).where(n > 1)
        return Stats(mean_da, var_da, n_missing)

    a = as_float(values, name)
    n_missing = count_nan(a)
    if a.ndim == 0:
        return Stats(a, np.zeros((), dtype=np.float64), n_missing)
    if is_dataarray(signal):
        raise TypeError(
            f"`{name}` must be a scalar or an xarray.DataArray when the signal is a DataArray; "
            f"got a {type(values).__name__} of shape {a.shape}."
        )
    if dim is not None:
        raise TypeError(
            f"`dim` applies to xarray.DataArray inputs only; got dim={dim!r} with NumPy arrays, "
            "whose replicates lie along the last axis."
        )
    sig_ndim = int(np.ndim(signal))
    if not (a.ndim == sig_ndim or (a.ndim == 1 and sig_ndim <= 1)):
        raise ShapeError(
            f"`{name}` must be a scalar, or hold replicates along its last axis with the same "
            f"number of dimensions as `{signal_name}`; got shape {a.shape} for `{signal_name}` of shape "
            f"{np.shape(signal)}. Use {name}[..., np.newaxis] for one value per signal row, or "
            f"{name}[np.newaxis, :] for replicates shared by every row."
        )
    if a.shape[-1] == 0:
        raise ShapeError(f"`{name}` must hold at least one replicate; got shape {a.shape}.")
    keep = a.ndim >= 2
    valid = ~np.isnan(a)
    n = valid.sum(axis=-1, keepdims=keep)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(valid, a, 0.0).sum(axis=-1, keepdims=keep) / n
        dev = np.where(valid, a - mean, 0.0)
        var = (dev**2).sum(axis=-1, keepdims=keep) / (n - 1) / n
    mean = np.where(n > 0, mean, np.nan)
    var = np.where(n > 1, var, np.nan)
    return Stats(mean, var, n_missing)


def check_broadcast(**arrays: Any) -> tuple[int, ...]:
    """Broadcast shape of the NumPy operands, or a ShapeError naming them.

    DataArray operands are checked with :func:`check_aligned` (their labels must
    agree along the dimensions they share); they do not enter the returned shape.
    """
    check_aligned(**arrays)
    shapes = {k: np.shape(v) for k, v in arrays.items() if not is_dataarray(v)}
    try:
        return tuple(np.broadcast_shapes(*shapes.values()))
    except ValueError:
        listed = ", ".join(f"`{k}` {s}" for k, s in shapes.items())
        raise ShapeError(
            f"the inputs must broadcast against each other; got shapes {listed}."
        ) from None


def _labels_text(labels: Any) -> str:
    items = [str(v) for v in labels]
    return "[" + ", ".join(items[:5]) + (", …" if len(items) > 5 else "") + "]"


def _misalignment(a_name: str, a: xr.DataArray, b_name: str, b: xr.DataArray) -> str | None:
    """Why `a` and `b` do not align along a shared dimension, or None when they differ only
    in the order of their labels (which xarray aligns without losing anything)."""
    for d in a.dims:
        if d not in b.dims:
            continue
        ia, ib = a.indexes.get(d), b.indexes.get(d)
        if ia is not None and ib is not None:
            if ia.equals(ib) or (len(ia) == len(ib) and ia.is_unique and ib.is_unique
                                 and ia.sort_values().equals(ib.sort_values())):
                continue
            only_a, only_b = ia.difference(ib), ib.difference(ia)
            parts = [f"`{n}` has {_labels_text(o)} that `{m}` lacks"
                     for n, o, m in ((a_name, only_a, b_name), (b_name, only_b, a_name)) if len(o)]
            detail = "; ".join(parts) or "repeated labels"
            return (
                f"`{a_name}` and `{b_name}` must have the same labels along their shared dimension "
                f"{d!r}; {detail}. xarray would keep only the common labels and drop the others "
                f"without notice: select or reindex both to the same {d!r} labels first."
            )
        if a.sizes[d] != b.sizes[d]:
            return (
                f"`{a_name}` and `{b_name}` must have the same size along their shared dimension "
                f"{d!r}; got {a.sizes[d]} and {b.sizes[d]}."
            )
    return None


def check_aligned(**arrays: Any) -> None:
    """Refuse DataArray operands whose labels differ along a dimension they share.

    xarray arithmetic inner-joins such operands, which silently drops wells or
    plates; a dimension that only one operand has still broadcasts, and labels in
    another order are aligned (nothing is lost).  NumPy operands are ignored.
    """
    named = [(k, v) for k, v in arrays.items() if is_dataarray(v)]
    for i, (a_name, a) in enumerate(named):
        for b_name, b in named[i + 1:]:
            try:
                xr.align(a, b, join="exact", copy=False)
            except ValueError:
                why = _misalignment(a_name, a, b_name, b)
                if why is not None:
                    raise ShapeError(why) from None


def check_no_overflow(value: Any, *, what: str = "normalized values", name: str = "signal") -> None:
    """Refuse ±inf produced from finite inputs (a denominator tiny against the numerator)."""
    arr = np.asarray(value.values if is_dataarray(value) else value, dtype=np.float64)
    bad = np.isinf(arr)
    if bad.any():
        raise ValueError(
            f"`{name}`: the {what} overflow float64 (got {first_value(arr, bad)!r}"
            f"{where_text(bad)}); the readings are too large for their reference or control. "
            "Rescale the readings."
        )


def finish(value: Any, stderr: Any, *, n_control_missing: int, name: str = "signal") -> Normalized[Any]:
    """Wrap value and stderr (broadcast to one shape) as :class:`Normalized`; ±inf is refused."""
    check_no_overflow(value, name=name)
    if is_dataarray(value) or is_dataarray(stderr):
        v, s = xr.broadcast(xr.DataArray(value) if not is_dataarray(value) else value,
                            xr.DataArray(stderr) if not is_dataarray(stderr) else stderr)
        return Normalized(value=v, stderr=s.transpose(*v.dims),
                          n_missing=count_nan(v.values), n_control_missing=n_control_missing)
    v_arr = np.asarray(value, dtype=np.float64)
    s_arr = np.broadcast_to(np.asarray(stderr, dtype=np.float64), v_arr.shape)
    return Normalized(value=v_arr, stderr=s_arr, n_missing=count_nan(v_arr),
                      n_control_missing=n_control_missing)


def signal_variance(signal_stderr: Any, signal: Any) -> Any:
    """Variance of the signal from an optional standard error (0 when not given)."""
    if signal_stderr is None:
        return 0.0
    se = as_signal(signal_stderr, "signal_stderr")
    if np.any(np.asarray(se) < 0):
        raise ValueError("`signal_stderr` must be ≥ 0; got a negative value.")
    check_broadcast(signal=signal, signal_stderr=se)
    return se**2


# ----------------------------------------------------------------------------- curves
@dataclass(frozen=True, slots=True)
class Curves:
    """Concentrations (positive, caller's unit) and responses, broadcast to one shape."""

    conc: FloatArray
    response: FloatArray
    unit: pint.Unit


def as_curves(
    conc: Any, response: Any, *, conc_unit: str | None, name: str = "response", inhibitor: Any = None
) -> Curves:
    """Validate a dose-response design for log-dose metrics (conc > 0, shapes (m,) / (..., m));
    mass concentrations convert through the registry molecular weight of `inhibitor`."""
    x, unit = as_concentration(conc, conc_unit=conc_unit, molecular_weight=molecular_weight_of(inhibitor))
    y = as_float(response, name)
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(
            f"`conc` and `{name}` must have a concentration axis (the last); got shapes "
            f"{x.shape} and {y.shape}."
        )
    if x.shape[-1] != y.shape[-1]:
        raise ShapeError(
            f"`conc` and `{name}` must have the same last (concentration) axis; got shapes "
            f"{x.shape} and {y.shape}."
        )
    try:
        xb, yb = np.broadcast_arrays(x, y)
    except ValueError:
        raise ShapeError(
            f"`conc` and `{name}` must broadcast; got shapes {x.shape} and {y.shape}."
        ) from None
    bad = ~(xb > 0)  # catches 0, negatives and NaN
    if bad.any():
        raise ValueError(
            f"`conc` must be > 0 on a log-dose axis; got {first_value(xb, bad)!r}"
            f"{where_text(bad)}. Leave vehicle wells (conc 0) out: they define 100 % "
            "through the normalization, not a point on the log axis."
        )
    return Curves(np.array(xb, dtype=np.float64), np.array(yb, dtype=np.float64), unit)


@dataclass(frozen=True, slots=True)
class Grouped:
    """Replicates pooled per concentration, groups sorted ascending and packed to the front.

    ``x`` and ``y`` have shape (..., m); groups beyond the last valid one are NaN.
    """

    x: FloatArray
    y: FloatArray
    valid: BoolArray
    n_points: NDArray[np.int64]


def group_replicates(x: FloatArray, y: FloatArray) -> Grouped:
    """Mean response per distinct concentration, per curve; NaN responses are left out."""
    batch, m = y.shape[:-1], y.shape[-1]
    valid = ~np.isnan(y)
    key = np.where(valid, x, np.inf)
    order = np.argsort(key, axis=-1, kind="stable")
    xs = np.take_along_axis(key, order, axis=-1).reshape(-1, m)
    ys = np.take_along_axis(y, order, axis=-1).reshape(-1, m)
    vs = np.take_along_axis(valid, order, axis=-1).reshape(-1, m)
    new = np.ones_like(vs)
    new[:, 1:] = xs[:, 1:] != xs[:, :-1]
    new &= vs
    gid = np.cumsum(new, axis=-1) - 1
    flat = (np.arange(xs.shape[0])[:, None] * m + gid)[vs]
    sums = np.zeros(xs.size)
    counts = np.zeros(xs.size)
    np.add.at(sums, flat, ys[vs])
    np.add.at(counts, flat, 1.0)
    xg = np.full(xs.size, np.nan)
    xg[flat] = xs[vs]
    with np.errstate(invalid="ignore", divide="ignore"):
        yg = np.where(counts > 0, sums / counts, np.nan)
    shape = (*batch, m)
    return Grouped(
        x=xg.reshape(shape),
        y=yg.reshape(shape),
        valid=(counts > 0).reshape(shape),
        n_points=vs.sum(axis=-1).reshape(batch).astype(np.int64),
    )


def trapezoid_log(
    g: Grouped, *, log_lo: FloatArray | None = None, log_hi: FloatArray | None = None,
    log_base: float = 10.0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """∫ y d(log x) by the trapezoid rule over [lo, hi] (default: the tested range).

    Returns (area, lo, hi) in log_base units; NaN for curves with fewer than two
    tested concentrations.  Linear interpolation in log x inside a segment clipped
    by the range.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        lx = np.log(g.x) / np.log(log_base)
    n_groups = g.valid.sum(axis=-1)
    first = lx[..., 0]
    last_idx = np.clip(n_groups - 1, 0, None)[..., None]
    last = np.take_along_axis(lx, last_idx, axis=-1)[..., 0]
    lo = first if log_lo is None else np.broadcast_to(log_lo, first.shape)
    hi = last if log_hi is None else np.broadcast_to(log_hi, last.shape)
    a, b = lx[..., :-1], lx[..., 1:]
    ya, yb = g.y[..., :-1], g.y[..., 1:]
    pair = g.valid[..., :-1] & g.valid[..., 1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        ca = np.clip(a, lo[..., None], hi[..., None])
        cb = np.clip(b, lo[..., None], hi[..., None])
        slope = (yb - ya) / (b - a)
        yca = ya + slope * (ca - a)
        ycb = ya + slope * (cb - a)
        seg = np.where(pair, (cb - ca) * (yca + ycb) / 2.0, 0.0)
    area = seg.sum(axis=-1)
    enough = n_groups >= 2
    return (
        np.where(enough, area, np.nan),
        np.where(enough, lo, np.nan),
        np.where(enough, hi, np.nan),
    )


def quantity(values: ArrayLike, unit: Any) -> pint.Quantity[Any]:
    """A Quantity in `unit` (a float magnitude for 0-d input)."""
    arr = np.asarray(values, dtype=np.float64)
    out: pint.Quantity[Any] = Q_(arr if arr.ndim else float(arr), str(unit))
    return out


def unit_factor(unit: Any, to: Any) -> float:
    """Multiplier converting magnitudes in `unit` to `to`."""
    return float(Q_(1.0, str(unit)).to(str(to)).magnitude)
