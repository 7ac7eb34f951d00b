"""Helpers shared by the comparison modules (internal)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from .._typing import BoolArray, FloatArray
from ..errors import ShapeError, UnitError
from ..fitting import FitResult, FitStatus
from ..fitting._api import as_weights
from ..models import Model
from ..units import _registry, as_concentration


def check_level(level: Any, name: str = "level") -> float:
    """A confidence level strictly inside (0, 1)."""
    if isinstance(level, bool) or not isinstance(level, int | float | np.floating | np.integer):
        raise TypeError(f"`{name}` must be a number in (0, 1); got {level!r}.")
    value = float(level)
    if not (0.0 < value < 1.0):
        raise ValueError(f"`{name}` must be in (0, 1), e.g. 0.95; got {level!r}.")
    return value


def check_percent(p: Any, name: str = "p") -> float:
    """A percentage strictly inside (0, 100), returned as a fraction."""
    if isinstance(p, bool) or not isinstance(p, int | float | np.floating | np.integer):
        raise TypeError(f"`{name}` must be a percentage in (0, 100); got {p!r}.")
    if not (0.0 < float(p) < 100.0) or not math.isfinite(float(p)):
        raise ValueError(f"`{name}` must be a percentage strictly between 0 and 100 (50 for the IC50); got {p!r}.")
    return float(p) / 100.0


def t_quantile(level: float, df: ArrayLike) -> FloatArray:
    """Two-sided t quantile ``t_{df}((1 + level)/2)``; NaN where ``df <= 0``."""
    d = np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.asarray(stats.t.ppf(0.5 + level / 2.0, np.where(d > 0, d, np.nan)), dtype=np.float64)
    return out


def as_fit_result(obj: Any, name: str) -> FitResult:
    if not isinstance(obj, FitResult):
        raise TypeError(f"`{name}` must be a FitResult from mp.fit; got {type(obj).__name__}.")
    return obj


def rng_from(rng: Any) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, int | np.integer) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"`rng` must be None, an int seed or a numpy Generator; got {type(rng).__name__}.")


def conc_in(conc: Any, unit: str, *, conc_unit: str | None, name: str = "conc") -> FloatArray:
    """Concentrations as float magnitudes in `unit` (the unit of a fit)."""
    x, u = as_concentration(conc, conc_unit=conc_unit, name=name)
    factor = float(_registry().Quantity(1.0, u).to(unit).magnitude)
    out: FloatArray = x * factor if factor != 1.0 else x
    if np.isinf(out).any():
        raise ValueError(f"`{name}` must be finite; got {out[np.isinf(out)][0]} {unit}.")
    with np.errstate(invalid="ignore"):
        if (out < 0).any():
            raise ValueError(f"`{name}` must be non-negative (0 marks vehicle; "
                f"log10 values: use mp.units.from_log10); got {out[out < 0][0]} {unit}.")
    return out


def response_array(response: Any, name: str = "response") -> FloatArray:
    try:
        y = np.asarray(response, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be numeric (array_like of float); got {type(response).__name__}.") from None
    if y.ndim == 0:
        raise ShapeError(f"`{name}` must have a concentration axis (last); got a scalar.")
    if np.isinf(y).any():
        raise ValueError(f"`{name}` must be finite or NaN (missing); got an infinite value.")
    return y


def curve_data(
    res: FitResult, conc: Any, response: Any, *, conc_unit: str | None, weights: Any, name: str = "res"
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
    """The raw data of the curves of `res`, flattened to ``(N, m)``.

    Returns ``(x, y, w, valid)``: concentrations in ``res.conc_unit``, responses,
    weights (0 where missing) and the mask of measured points.
    """
    x = conc_in(conc, res.conc_unit, conc_unit=conc_unit)
    y = response_array(response)
    if x.ndim == 0:
        raise ShapeError("`conc` must have at least one dimension (the concentration axis); got a scalar.")
    if y.shape[:-1] != res.shape:
        raise ShapeError(
            f"`response` must have the batch shape of `{name}` plus a concentration axis, {(*res.shape, 'm')}; "
            f"got shape {y.shape}. Pass the data `{name}` was fitted to."
        )
    if x.shape[-1] != y.shape[-1]:
        raise ShapeError(
            f"`conc` and `response` must have the same last (concentration) axis; got shapes {x.shape} and {y.shape}."
        )
    try:
        xb = np.broadcast_to(x, y.shape)
    except ValueError:
        raise ShapeError(f"`conc` of shape {x.shape} does not broadcast to `response` of shape {y.shape}.") from None
    wb = np.ones(y.shape) if weights is None else as_weights(weights, y.shape)
    m = y.shape[-1]
    x2 = xb.reshape(-1, m)
    y2 = y.reshape(-1, m)
    valid = ~np.isnan(y2) & ~np.isnan(x2)
    w2 = np.where(valid, wb.reshape(-1, m), 0.0)
    return np.where(valid, x2, 1.0), np.where(valid, y2, 0.0), w2, valid


def model_values(model: Model, x: FloatArray, params: dict[str, FloatArray]) -> FloatArray:
    """Model at ``x`` (N, m) for per-curve reported parameters (N,)."""
    expanded = {k: np.asarray(v, dtype=np.float64).reshape(-1)[:, None] for k, v in params.items()}
    return model(x, **expanded)


def check_same_data(res: FitResult, x: FloatArray, y: FloatArray, w: FloatArray, valid: BoolArray, name: str) -> None:
    """Refuse data (or weights) that `res` was not fitted to: its RSS must be reproduced."""
    n = valid.sum(axis=1)
    n_res = np.asarray(res.n).reshape(-1)
    if not np.array_equal(n, n_res):
        i = int(np.flatnonzero(n != n_res)[0])
        raise ValueError(
            f"`response` must be the data `{name}` was fitted to; curve {i} has {int(n[i])} measured points "
            f"but the fit used {int(n_res[i])}."
        )
    params = {k: np.asarray(v).reshape(-1) for k, v in res.params.items()}
    f = model_values(res.family, x, params)
    with np.errstate(invalid="ignore", over="ignore"):
        rss = np.where(valid, w * (y - f) ** 2, 0.0).sum(axis=1)
        scale = np.where(valid, w * y**2, 0.0).sum(axis=1)
    rss_res = np.asarray(res.rss).reshape(-1)
    # skip curves the optimizer did not finish or whose parameters cannot be evaluated accurately
    # (flat fits can carry plateaus of 1e100 whose curve cannot be evaluated to the RSS's precision)
    skip_bits = FitStatus.NOT_CONVERGED | FitStatus.TOO_FEW_POINTS | FitStatus.FLAT_RESPONSE
    with np.errstate(invalid="ignore"):
        y_max = np.max(np.where(valid, np.abs(y), 0.0), axis=1, initial=0.0) + 1.0
        extreme = np.maximum(np.abs(params["top"]), np.abs(params["bottom"])) > 1e8 * y_max
    unfinished = ((np.asarray(res.status).reshape(-1) & skip_bits) != 0) | extreme
    close = np.abs(rss - rss_res) <= 1e-6 * rss_res + 1e-12 * scale + 1e-300
    ok = unfinished | ~np.isfinite(rss_res) | ~np.isfinite(rss) | close
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise ValueError(
            f"`response` (and `weights`) must be the data `{name}` was fitted to; at curve {i} the residual sum of "
            f"squares of the fit is {float(rss_res[i]):.6g} but {float(rss[i]):.6g} on the data given."
        )


def internal_params(model: Model, params: dict[str, FloatArray]) -> FloatArray:
    """Internal parameters (``(bottom, top, ln loc, hill[, ln s])`` for the shape families)
    from reported values, stacked on the last axis."""
    cols = []
    for name in model.param_names:
        v = np.asarray(params[name], dtype=np.float64)
        if name in model.log_params:  # the family's log-scale parameters (#13)
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.log(v)
        cols.append(v)
    return np.stack(cols, axis=-1)


def log_icx_grad(model: Model, P: FloatArray, q: float) -> tuple[FloatArray, FloatArray]:
    """``ln ICx`` (relative, ``q`` a fraction) and its gradient on the internal parameters.

    ``P`` is ``(N, p)``.  The gradient comes from the implicit function
    ``f(ln x, P) = target(P)`` (the plateau terms cancel for a relative ICx).
    """
    lx, dtarget = model.log_icx(P, q)  # the family's ICx and d(target)/dP (#13)
    finite = np.isfinite(lx) & np.all(np.isfinite(P), axis=1)
    lx0 = np.where(finite, lx, 0.0)[:, None]
    P0 = np.where(finite[:, None], P, 1.0)
    _, cols = model.evaluate(lx0, P0, jacobian=True)
    J = np.stack([c[:, 0] for c in cols], axis=1) - np.where(finite[:, None], dtarget, 0.0)
    dfdx = model.dlogx(lx0, P0)[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = -J / dfdx[:, None]
    grad = np.where(finite[:, None], grad, np.nan)
    return np.where(finite, lx, np.nan), grad


def free_mask(model: Model, fixed: tuple[str, ...]) -> BoolArray:
    return np.array([name not in fixed for name in model.param_names])


def refuse_dimension_names(instead: str, **given: Any) -> None:
    """Dimension names given with arrays are refused, not ignored (as ``mp.fit(arrays, dim=...)``).

    `given` maps each argument name to its value (``None``: not given); `instead` says
    what the array path uses in their place.
    """
    named = {key: value for key, value in given.items() if value is not None}
    if named:
        names = " and ".join(f"`{key}`" for key in named)
        got = ", ".join(f"{key}={value!r}" for key, value in named.items())
        raise TypeError(
            f"{names} {'apply' if len(named) > 1 else 'applies'} to an xarray.DataArray `conc`; "
            f"got arrays with {got}. {instead}"
        )


def dataarray_data(data: Any, dim: Any, *, first: tuple[Any, ...] = ()) -> tuple[Any, FloatArray]:
    """(concentrations as a Quantity, responses) from a DataArray of responses.

    The responses are transposed to ``(other dims..., *first, dim)``: the
    concentration dimension `dim` last, the dimensions in `first` just before it.
    """
    if dim is None:
        raise TypeError("With an xarray.DataArray of responses, `dim` must name its concentration dimension.")
    if dim not in data.dims:
        raise ShapeError(f"`dim` must be a dimension of the data; got {dim!r}, dimensions {tuple(data.dims)}.")
    if dim not in data.coords:
        raise ShapeError(
            f"The data must have a coordinate {dim!r} holding the concentrations, with .attrs['units'] (e.g. 'uM')."
        )
    coord = data.coords[dim]
    if coord.ndim != 1:
        raise ShapeError(f"The concentration coordinate {dim!r} must be 1-D; got dimensions {coord.dims}.")
    values = coord.data
    unit = coord.attrs.get("units")
    if hasattr(values, "magnitude") and hasattr(values, "units"):
        unit, values = str(values.units), values.magnitude
    if unit is None:
        raise UnitError(f"The concentration coordinate {dim!r} must carry a unit in .attrs['units'] (e.g. 'uM').")
    response = data.data
    if hasattr(response, "magnitude") and hasattr(response, "units"):
        response = response.magnitude
    ordered = data.copy(data=response).transpose(..., *first, dim)
    y = np.asarray(ordered.values, dtype=np.float64)
    return _registry().Quantity(np.asarray(values, dtype=np.float64), str(unit)), y
