"""Labelled and dask-backed dose-response data in, labelled fit results out.

:func:`fit` maps the batched engine behind :func:`mtor_pharm.fit` over an
``xarray.DataArray`` of responses with :func:`xarray.apply_ufunc`: every
block of curves (the whole array when it is numpy-backed, one dask chunk
otherwise) goes through a single vectorized call of :func:`mtor_pharm.fit`,
never through a per-curve Python loop.  A dask-backed input gives a lazy
``Dataset`` that computes on whatever scheduler is active, a
``dask.distributed`` cluster included.

``mp.fit(data_array, dim="concentration")`` forwards here.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import Any, Final

import numpy as np
import pint
import xarray as xr
from numpy.typing import NDArray

from ._typing import FloatArray, IntArray
from .errors import ShapeError, UnitError
from .fitting import FitResult
from .fitting import fit as _fit_arrays
from .fitting._schema import CI_LEVEL, STATUS_ENCODING, status_attrs, variable_attrs
from .models import Model, _lookup_model

__all__ = ["fit"]

#: Names of the two stacked output axes that ``apply_ufunc`` hands back (never user-visible).
_FLOAT_AXIS: Final = "__mtor_pharm_float_outputs__"
_INT_AXIS: Final = "__mtor_pharm_int_outputs__"
#: Integer outputs, in the order of the stacked integer axis.
_INT_NAMES: Final = ("status", "n", "dof")
#: Confidence level of ``ic50_ci_low`` / ``ic50_ci_high``.

_MOLAR: Final = "[substance] / [length] ** 3"
_MASS_CONC: Final = "[mass] / [length] ** 3"



# ----------------------------------------------------------------------------- schema
def _float_names(m: Model) -> tuple[str, ...]:
    """Float variables of the output, in the order of the stacked float axis.

    ``ic50`` is one variable in every family: in the 4PL family it is the
    location parameter itself, elsewhere the IC50 derived from all parameters.
    """
    names: list[str] = []
    for p in m.param_names:
        names += [p, f"{p}_stderr"]
    if "ic50" not in m.param_names:
        names.append("ic50")
    names += ["ic50_ci_low", "ic50_ci_high", "rss", "response_pvalue", "r_squared"]
    return tuple(names)


def _columns(res: FitResult, names: tuple[str, ...]) -> FloatArray:
    """Stack the per-curve float outputs of one block as ``(..., len(names))``."""
    low, high = res.ci("ic50", level=CI_LEVEL)
    cols: dict[str, Any] = {
        "ic50": res.ic50.magnitude,  # NaN where the status marks the IC50 undetermined
        "ic50_ci_low": low.magnitude,
        "ic50_ci_high": high.magnitude,
        "rss": res.rss,
        "response_pvalue": res.response_pvalue,
        "r_squared": res.r_squared,
    }
    for p in res.param_names:
        cols.setdefault(p, res.params[p])
        cols[f"{p}_stderr"] = res.stderr[p]
    return np.stack(
        [np.broadcast_to(np.asarray(cols[name], dtype=np.float64), res.shape) for name in names],
        axis=-1,
    )


# ----------------------------------------------------------------------------- kernel
def _fit_block(
    response: FloatArray,
    conc: FloatArray,
    *,
    model: Model,
    conc_unit: str,
    fixed: Mapping[str, Any] | None,
    bounds: Mapping[str, tuple[Any, Any]] | None,
    molecular_weight: Any,
    workers: int,
    max_iter: int,
    names: tuple[str, ...],
) -> tuple[FloatArray, IntArray]:
    """Fit every curve of one block with one batched call; stack the outputs.

    `response` has shape ``(..., m)``; `conc` has shape ``(m,)`` or one that
    broadcasts against `response` (``apply_ufunc`` drops leading axes that a
    coordinate lacks and inserts length-1 axes for inner ones).
    """
    batch = np.broadcast_shapes(response.shape[:-1], conc.shape[:-1])
    if math.prod(batch) == 0:
        return np.empty((*batch, len(names))), np.empty((*batch, len(_INT_NAMES)), dtype=np.int64)
    res = _fit_arrays(
        conc,
        response,
        model=model,
        conc_unit=conc_unit,
        fixed=fixed,
        bounds=bounds,
        molecular_weight=molecular_weight,
        workers=workers,
        max_iter=max_iter,
    )
    ints = np.stack(
        [np.broadcast_to(np.asarray(getattr(res, k), dtype=np.int64), batch) for k in _INT_NAMES],
        axis=-1,
    )
    return _columns(res, names), ints


# ----------------------------------------------------------------------------- validation
def _registry() -> Any:
    """pint's application registry, looked up at call time (follows the user's swaps)."""
    return pint.get_application_registry()  # type: ignore[no-untyped-call]


def _strip_quantity(obj: xr.DataArray) -> tuple[xr.DataArray, str | None]:
    """Magnitudes and unit string of a DataArray holding a pint Quantity (pint-xarray)."""
    if isinstance(obj.data, pint.Quantity):
        q = obj.data
        return obj.copy(data=q.magnitude), str(q.units)
    units = obj.attrs.get("units")
    return obj, None if units is None else str(units)


def _concentration_unit(coord_name: Hashable, units: str | None, molecular_weight: Any) -> str:
    """Check the coordinate's unit; return the unit string handed to the kernel."""
    where = f"data.coords[{coord_name!r}]"
    if units is None or not units.strip():
        raise UnitError(
            f"`{where}` must carry its concentration unit in .attrs['units'] (e.g. 'uM') or as a "
            f"pint-xarray Quantity; got no unit. Set data[{coord_name!r}].attrs['units'] = 'uM'."
        )
    registry = _registry()
    try:
        unit = registry.Unit(units)
    except Exception as exc:  # pint raises several unrelated types for unparsable strings
        raise UnitError(
            f"`{where}` must have a concentration unit such as 'nM', 'uM' or 'ug/mL'; "
            f"got attrs['units'] = {units!r}, which pint cannot parse ({exc})."
        ) from None
    dims = unit.dimensionality
    if dims == registry.get_dimensionality(_MASS_CONC):
        if molecular_weight is None:
            raise UnitError(
                f"`{where}` is a mass concentration ({units!r}); pass `inhibitor=` or "
                "`molecular_weight=` so it can be converted to molar, or give molar units."
            )
    elif dims != registry.get_dimensionality(_MOLAR):
        raise UnitError(
            f"`{where}` must have units of concentration (e.g. 'uM'); got {units!r} ({dims}). Fix its .attrs['units']."
        )
    return units


def _check_scalar_options(fixed: Mapping[str, Any] | None, bounds: Mapping[str, tuple[Any, Any]] | None) -> None:
    """Per-curve arrays cannot follow dask's blocks; only scalars are accepted here."""
    items: list[tuple[str, Any]] = []
    if isinstance(fixed, Mapping):
        items += [(f"fixed[{k!r}]", v) for k, v in fixed.items()]
    if isinstance(bounds, Mapping):
        for k, b in bounds.items():
            if isinstance(b, tuple | list):
                items += [(f"bounds[{k!r}]", v) for v in b]
    for what, value in items:
        if isinstance(value, str) or value is None:
            continue
        if np.ndim(value) != 0:
            raise TypeError(
                f"`{what}` must be a scalar (number, Quantity or '10 nM'-style string) when "
                f"fitting a DataArray; got an array of shape {np.shape(value)}. Fit per-curve "
                "settings separately (e.g. group the data by them)."
            )


def _check_concentrations(values: NDArray[Any], coord_name: Hashable, unit: str) -> None:
    """Checks on an in-memory coordinate (a lazy one is checked by the kernel at compute time)."""
    where = f"data.coords[{coord_name!r}]"
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"`{where}` must hold numbers; got dtype {values.dtype}.") from None
    if np.isinf(x).any():
        raise ValueError(f"`{where}` must be finite; got {x[np.isinf(x)][0]} {unit}.")
    with np.errstate(invalid="ignore"):
        if (x < 0).any():
            raise ValueError(f"`{where}` must be non-negative (0 marks vehicle; "
                f"log10 values: use mp.units.from_log10); got {x[x < 0][0]} {unit}.")


# ----------------------------------------------------------------------------- attributes
# ----------------------------------------------------------------------------- public
def fit(
    data: xr.DataArray,
    *,
    dim: Hashable | None,
    model: str | Model = "4pl",
    fixed: Mapping[str, Any] | None = None,
    bounds: Mapping[str, tuple[Any, Any]] | None = None,
    molecular_weight: Any = None,
    inhibitor: Any = None,
    workers: int = 1,
    max_iter: int = 200,
    conc_coord: Hashable | None = None,
) -> xr.Dataset:
    """Fit a dose-response model to every curve of a labelled (numpy or dask) array.

    The same batched engine as :func:`mtor_pharm.fit` runs once per block of
    curves through :func:`xarray.apply_ufunc` (``dask="parallelized"``).
    ``mp.fit(data, dim=...)`` calls this function.

    Parameters
    ----------
    data : xarray.DataArray
        Responses; NaN marks a missing point.  Every dimension except `dim`
        indexes curves.  A pint-xarray Quantity is accepted (its unit goes to
        the ``units`` attribute of ``bottom`` and ``top``).
    dim : hashable
        The concentration dimension.  It must not be split over several dask
        chunks; if it is, it is rechunked to one chunk (it is short).
    model : str or Model, default "4pl"
        As in :func:`mtor_pharm.fit`.
    fixed, bounds : mapping, optional
        As in :func:`mtor_pharm.fit`, with scalar values only (number,
        Quantity or string such as ``"10 nM"``).
    molecular_weight, inhibitor : optional
        Convert mass concentrations (µg/mL) to molar, as in :func:`mtor_pharm.fit`;
        give at most one of them.
    workers : int, default 1
        Threads per block inside the engine (dask already runs blocks in parallel).
    max_iter : int, default 200
        Solver iterations per curve.
    conc_coord : hashable, optional
        Name of the coordinate holding the concentrations; default `dim`.  It may
        be a non-index coordinate spanning ``(..., dim)`` (ragged designs: each
        curve its own concentrations, NaN-padded).  Its unit is read from
        ``.attrs["units"]`` or from a pint-xarray Quantity.

    Returns
    -------
    xarray.Dataset
        Over all dimensions of `data` but `dim`, with their coordinates
        (coordinates along `dim` are per point and dropped); lazy when `data`
        is dask-backed.  Variables, float64 unless stated:

        - one per model parameter (``bottom``, ``top``, ``ic50`` or ``xmid``,
          ``hill``, ``s``) and ``<name>_stderr`` for each; fixed parameters
          hold their value and a standard error of 0;
        - ``ic50``: the relative IC50 (:attr:`FitResult.ic50`), NaN where the
          status marks it undetermined (flat, not converged, too few points).
          In the 4PL family this *is* the location parameter and there is no
          second ``ic50`` variable; ``ic50_stderr`` is its standard error;
        - ``ic50_ci_low``, ``ic50_ci_high``: 95 % Wald interval on the log scale
          (:meth:`FitResult.ci`);
        - ``status`` (uint8, :class:`FitStatus` bits described by the CF
          attributes ``flag_masks`` and ``flag_meanings``), ``rss``, ``n`` and
          ``dof`` (int64), ``response_pvalue``.

        Concentration-valued variables carry ``attrs["units"]``: the
        coordinate's unit string (micromolar for mass-concentration input).
        Dataset attributes: ``model``, ``conc_unit``, ``conc_dim``,
        ``fixed`` (space-separated names), ``mtor_pharm_version``.

    Raises
    ------
    TypeError
        `data` is not a DataArray; non-numeric data; array-valued `fixed`/`bounds`.
    ShapeError
        `dim` is missing from `data`, or the concentration coordinate is missing
        or does not span `dim`.
    UnitError
        The concentration coordinate has no unit or not a concentration unit.
    ValueError
        Negative or infinite concentrations, unknown model or parameter
        names, bad bounds.  With dask-backed data, problems in the values
        themselves (infinite responses, NaN concentrations at measured points)
        are raised when the result is computed.

    See Also
    --------
    mtor_pharm.fit : the same fit on numpy arrays, returning a :class:`FitResult`.

    Notes
    -----
    Results are those of :func:`mtor_pharm.fit` on the same arrays: a flat or
    failed curve keeps its row, with status bits and NaN where undetermined.
    The fit runs once per block, however many output variables are computed.
    To get Quantities back, use pint-xarray's ``ds.pint.quantify()``.

    .. versionadded:: 0.1.0

    Examples
    --------
    >>> import xarray as xr
    >>> import mtor_pharm.xarray as mpx
    >>> conc = 10.0 / 3.0 ** np.arange(10)
    >>> ic50 = np.array([0.05, 0.5])
    >>> data = xr.DataArray(
    ...     mp.models.four_pl(conc, 5.0, 100.0, ic50[:, None], 1.2),
    ...     dims=("compound", "concentration"),
    ...     coords={"compound": ["A", "B"], "concentration": ("concentration", conc, {"units": "uM"})},
    ... )
    >>> ds = mpx.fit(data, dim="concentration")
    >>> ds["ic50"].round(4).values.tolist(), ds["ic50"].attrs["units"]
    ([0.05, 0.5], 'uM')
    >>> ds["status"].values.tolist(), ds["compound"].values.tolist()
    ([0, 0], ['A', 'B'])
    """
    # -- the data and its dimension
    if not isinstance(data, xr.DataArray):
        raise TypeError(
            f"`data` must be an xarray.DataArray of responses; got {type(data).__name__}. "
            "For a Dataset, fit one variable at a time: fit(ds['viability'], dim=...)."
        )
    if dim is None:
        raise TypeError("`dim` must name the concentration dimension of `data`; got None.")
    if dim not in data.dims:
        raise ShapeError(f"`dim` must be a dimension of `data`; got {dim!r}, dimensions are {tuple(data.dims)}.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"`max_iter` must be a positive integer; got {max_iter!r}.")
    if molecular_weight is not None and inhibitor is not None:
        raise ValueError(
            "`molecular_weight` and `inhibitor` must not both be given; got "
            f"molecular_weight={molecular_weight!r} and inhibitor={inhibitor!r}. Pass one."
        )
    if not (np.issubdtype(data.dtype, np.integer) or np.issubdtype(data.dtype, np.floating)):
        raise TypeError(f"`data` must hold real numbers; got dtype {data.dtype}.")

    # -- the concentration coordinate and its unit
    coord_name = dim if conc_coord is None else conc_coord
    if coord_name not in data.coords:
        raise ShapeError(
            f"`data` must have a coordinate {coord_name!r} holding the concentrations along "
            f"{dim!r}; got coordinates {list(data.coords)}. Assign one with "
            f"data.assign_coords({{{coord_name!r}: ({dim!r}, values, {{'units': 'uM'}})}})."
        )
    coord, units = _strip_quantity(data.coords[coord_name])
    if dim not in coord.dims:
        raise ShapeError(
            f"`data.coords[{coord_name!r}]` must span the concentration dimension {dim!r}; "
            f"got dimensions {tuple(coord.dims)}."
        )
    if inhibitor is not None:
        from . import registry

        molecular_weight = registry.molecular_weight(inhibitor)
    units = _concentration_unit(coord_name, units, molecular_weight)
    conc = coord.variable
    if isinstance(conc.data, np.ndarray):
        _check_concentrations(conc.data, coord_name, units)

    # -- options: validated by the engine itself on a one-point probe (nothing is fitted)
    _check_scalar_options(fixed, bounds)
    m = _lookup_model(model)
    probe = _fit_arrays(
        np.ones(1),
        np.full(1, np.nan),
        model=m,
        conc_unit=units,
        fixed=fixed,
        bounds=bounds,
        molecular_weight=molecular_weight,
        workers=workers,
        max_iter=max_iter,
    )
    # snapshots: a lazy result must not change if the caller later edits these mappings
    fixed = None if fixed is None else dict(fixed)
    if bounds is not None:
        bounds = {k: (tuple(b) if isinstance(b, list) else b) for k, b in bounds.items()}
    registry_ = _registry()
    # the caller's own string, unless mass concentrations were converted to molar
    out_unit = units if registry_.Unit(units) == registry_.Unit(probe.conc_unit) else probe.conc_unit

    # -- the output schema; refuse clashes with coordinates that will be carried over
    names = _float_names(m)
    kept = [c for c in data.coords if dim not in data.coords[c].dims] + [d for d in data.dims if d != dim]
    clashes = sorted({str(c) for c in kept if c in (*names, *_INT_NAMES)})
    if clashes:
        raise ValueError(
            "`data` must not have dimensions or coordinates named like output variables; "
            f"got {clashes}. Rename them (data.rename(...)) before fitting."
        )

    # -- responses: plain magnitudes, the core dimension in one chunk
    response, response_unit = _strip_quantity(data)
    if response.chunks is not None:
        response = response.chunk({dim: -1})
    if conc.chunks is not None:
        conc = conc.chunk({dim: -1})

    floats, ints = xr.apply_ufunc(
        _fit_block,
        response,
        conc,
        input_core_dims=[[dim], [dim]],
        output_core_dims=[[_FLOAT_AXIS], [_INT_AXIS]],
        dask="parallelized",
        vectorize=False,
        output_dtypes=[np.float64, np.int64],
        dask_gufunc_kwargs={"output_sizes": {_FLOAT_AXIS: len(names), _INT_AXIS: len(_INT_NAMES)}},
        kwargs={
            "model": m,
            "conc_unit": units,
            "fixed": fixed,
            "bounds": bounds,
            "molecular_weight": molecular_weight,
            "workers": workers,
            "max_iter": max_iter,
            "names": names,
        },
        keep_attrs=False,
    )

    variables: dict[Hashable, xr.DataArray] = {}
    for i, name in enumerate(names):
        var = floats.isel({_FLOAT_AXIS: i})
        var.attrs = variable_attrs(name, m, out_unit, response_unit)
        variables[name] = var
    status = ints.isel({_INT_AXIS: 0}).astype(np.uint8)
    status.attrs = status_attrs()
    status.encoding.update(STATUS_ENCODING)
    variables["status"] = status
    variables["n"] = ints.isel({_INT_AXIS: 1})
    variables["n"].attrs = {"long_name": "number of finite points"}
    variables["dof"] = ints.isel({_INT_AXIS: 2})
    variables["dof"].attrs = {"long_name": "residual degrees of freedom (n - free parameters)"}
    order = [*names[:-3], "status", "rss", "n", "dof", "response_pvalue", "r_squared"]

    from ._version import __version__

    fixed_names = [p for p in m.param_names if p in m.default_fixed or (fixed is not None and p in fixed)]
    attrs: dict[str, Any] = {
        "model": m.name,
        "conc_unit": out_unit,
        "conc_dim": str(dim),
        "fixed": " ".join(fixed_names),
        "mtor_pharm_version": __version__,
    }
    return xr.Dataset({name: variables[name] for name in order}, attrs=attrs)
