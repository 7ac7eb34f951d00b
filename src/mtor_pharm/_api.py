"""``mp.fit``: the one entry point, above the engine, the global fits and xarray.

It validates the options every route shares, then dispatches: an ``xarray.DataArray``
goes to :func:`mtor_pharm.xarray.fit`, ``share=`` to :func:`mtor_pharm.compare.fit_shared`,
arrays to the engine (:func:`mtor_pharm.fitting.fit`).  The layers below never import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from numpy.typing import ArrayLike

from ._arrays import is_dataarray
from ._typing import ConcentrationLike
from .fitting import FitResult
from .fitting import fit as _fit_arrays
from .fitting._api import check_options
from .models import Model, _lookup_model

if TYPE_CHECKING:
    import xarray as xr

    from .compare import SharedFit

__all__ = ["fit"]


@overload
def fit(
    conc: xr.DataArray,
    response: None = None,
    *,
    model: str | Model = ...,
    conc_unit: str | None = ...,
    fixed: Mapping[str, Any] | None = ...,
    bounds: Mapping[str, tuple[Any, Any]] | None = ...,
    weights: ArrayLike | None = ...,
    molecular_weight: Any = ...,
    inhibitor: Any = ...,
    dim: str | None = ...,
    conc_coord: str | None = ...,
    share: None = ...,
    along: int | str = ...,
    workers: int = ...,
    max_iter: int = ...,
    progress: Callable[[int, int], None] | None = ...,
) -> xr.Dataset: ...
@overload
def fit(
    conc: ConcentrationLike,
    response: ArrayLike | None = None,
    *,
    model: str | Model = ...,
    conc_unit: str | None = ...,
    fixed: Mapping[str, Any] | None = ...,
    bounds: Mapping[str, tuple[Any, Any]] | None = ...,
    weights: ArrayLike | None = ...,
    molecular_weight: Any = ...,
    inhibitor: Any = ...,
    dim: str | None = ...,
    conc_coord: str | None = ...,
    share: Sequence[str] | Mapping[str, Any],
    along: int | str = ...,
    workers: int = ...,
    max_iter: int = ...,
    progress: Callable[[int, int], None] | None = ...,
) -> SharedFit: ...
@overload
def fit(
    conc: ConcentrationLike,
    response: ArrayLike,
    *,
    model: str | Model = ...,
    conc_unit: str | None = ...,
    fixed: Mapping[str, Any] | None = ...,
    bounds: Mapping[str, tuple[Any, Any]] | None = ...,
    weights: ArrayLike | None = ...,
    molecular_weight: Any = ...,
    inhibitor: Any = ...,
    dim: None = ...,
    conc_coord: None = ...,
    share: None = ...,
    along: int | str = ...,
    workers: int = ...,
    max_iter: int = ...,
    progress: Callable[[int, int], None] | None = ...,
) -> FitResult: ...
def fit(
    conc: Any,
    response: ArrayLike | None = None,
    *,
    model: str | Model = "4pl",
    conc_unit: str | None = None,
    fixed: Mapping[str, Any] | None = None,
    bounds: Mapping[str, tuple[Any, Any]] | None = None,
    weights: ArrayLike | None = None,
    molecular_weight: Any = None,
    inhibitor: Any = None,
    dim: str | None = None,
    conc_coord: str | None = None,
    share: Sequence[str] | Mapping[str, Any] | None = None,
    along: int | str = -2,
    workers: int = 1,
    max_iter: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> FitResult | SharedFit | xr.Dataset:
    """Fit a dose-response model to one curve or to a whole batch of curves.

    Parameters
    ----------
    conc : Quantity, str sequence, array_like or xarray.DataArray, shape (m,) or (..., m)
        Concentrations ([substance]/[volume]); 0 marks vehicle controls; NaN marks
        padding in ragged designs (the response there must be NaN too).  An
        ``xarray.DataArray`` of responses may be passed instead, with `dim` naming
        its concentration dimension (see :func:`mtor_pharm.xarray.fit`).
    response : array_like, shape (m,) or (..., m)
        Responses; NaN marks a missing point (masked, never dropped from the result).
    model : str, default "4pl"
        ``"4pl"``, ``"3pl"``, ``"2pl"``/``"hill"``, ``"5pl"``, ``"weibull1"``, ``"weibull2"``,
        ``"lognormal"``, ``"bc5"``, ``"bc4"``, ``"crs5"``, ``"crs4"``, ``"biphasic"``, or a
        :class:`~mtor_pharm.models.Model` (see :mod:`mtor_pharm.models` and the families page).
    conc_unit : str, optional
        Unit of a bare `conc` array, e.g. ``"uM"``.
    fixed : mapping, optional
        Parameters held fixed, e.g. ``{"bottom": 0}``; values may be arrays of the batch shape.
        Concentration parameters accept Quantities.
    bounds : mapping of name to (low, high), optional
        Box bounds overriding the defaults (location within 10⁶× of the tested range,
        ``|hill| ≤ 50``, ``1e-3 ≤ s ≤ 1e3``; plateaus unbounded).
    weights : array_like, optional
        Per-point weights ``w`` (RSS = Σ w·r²), broadcastable to `response`.
    molecular_weight, inhibitor : optional
        Convert mass concentrations (µg/mL) to molar through this molar mass, or the
        molecular weight of this registry inhibitor (name or ``Inhibitor``).
    dim : str, optional
        Concentration dimension when `conc` is an ``xarray.DataArray``.
    conc_coord : str, optional
        With a DataArray: the coordinate holding the concentrations, when it is not
        `dim` itself (e.g. a 2-D coordinate of a ragged design).
    share : sequence of str or mapping, optional
        A global fit: these parameters are common to all curves along `along`, the
        others estimated per curve (e.g. ``share=("hill", "top", "bottom")``); a mapping
        shares a parameter within groups of curves (e.g. ``{"hill": compound_per_curve}``,
        drc's ``pmodels``).  Returns a :class:`mtor_pharm.compare.SharedFit`; see
        :func:`mtor_pharm.compare.fit_shared`.
    along : int or str, default -2
        With `share`: the axis of `response` (int), or the dimension of a DataArray (str),
        along which the parameters are shared.
    workers : int, default 1
        Threads over blocks of curves (the compiled solver releases the GIL: two
        workers fit a large batch nearly twice as fast on two cores).  The result
        does not depend on it.
    max_iter : int, default 200
        Solver iterations per curve.
    progress : callable, optional
        Called as ``progress(done, total)`` as curves finish (``done`` counts curve fits,
        which is twice the batch for the asymmetric families: ``total`` says so).  An
        exception raised by the callback propagates unchanged and stops the fit.

    Returns
    -------
    FitResult
        Arrays have the batch shape ``(...)`` (``()`` for one curve).  An
        ``xarray.Dataset`` when `conc` is a DataArray.

    Raises
    ------
    UnitError
        `conc` has no unit or not a concentration unit.
    ShapeError
        `conc` and `response` do not broadcast.
    ValueError
        Negative or infinite concentrations, unknown model or parameter names.

    Notes
    -----
    4PL: ``y = bottom + (top - bottom) / (1 + (x/ic50)**hill)``.  ``hill > 0`` is a
    falling curve, the sign of drc's ``LL.4`` ``b`` and the opposite of Prism's
    HillSlope.  For the symmetric 4PL family the result is reported with
    ``top ≥ bottom`` so that the sign of ``hill`` gives the direction.

    The engine is a compiled Levenberg–Marquardt on ``(bottom, top, ln ic50, hill)``
    with variable projection for free plateaus, started from the best cell of a grid
    with closed-form plateaus, run per curve (a curve's result does not depend on the
    rest of the batch); replicate points at the same concentration are pooled exactly
    (same optimum, RSS and covariance as the unpooled problem).  It is compiled when the
    package is installed: nothing is compiled at run time.  Standard errors use the
    Gauss–Newton covariance ``s² (JᵀWJ)⁻¹`` with ``s² = RSS/dof``.  A curve is fitted
    only when it has more points (of positive weight) than free parameters and at least
    as many distinct concentrations; otherwise it gets ``TOO_FEW_POINTS`` and NaN.

    Examples
    --------
    >>> conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
    >>> res = mp.fit(conc, [99, 97, 88, 67, 36, 15, 5])
    >>> bool(res.converged), res.ic50.units
    (True, <Unit('micromolar')>)
    >>> round(float(res.params["hill"]), 2)
    1.09
    """
    check_options(max_iter, workers, share, progress)
    if not is_dataarray(conc) and (dim is not None or conc_coord is not None):
        raise TypeError("`dim` and `conc_coord` apply to an xarray.DataArray `conc`; got arrays.")
    if share is None and not (isinstance(along, int) and along == -2):
        raise TypeError(f"`along` applies to global fits (with `share=`); got along={along!r} without `share`.")
    if share is not None:
        from .compare import fit_shared

        if inhibitor is not None or molecular_weight is not None or bounds is not None:
            raise ValueError("`share=` does not take `inhibitor`, `molecular_weight` or `bounds` yet; convert first.")
        by_dim = isinstance(along, str)
        if by_dim and not is_dataarray(conc):
            raise TypeError(
                f"`along` names a dimension ({along!r}) only for an xarray.DataArray `conc`; with arrays give "
                "the axis of `response` along which the parameters are shared (an int, default -2)."
            )
        if not by_dim and (isinstance(along, bool) or not isinstance(along, int)):
            raise TypeError(f"`along` must be an axis (int) or, for a DataArray, a dimension name; got {along!r}.")
        return fit_shared(
            conc,
            response,
            share=share if isinstance(share, Mapping) else tuple(share),
            axis=-2 if by_dim else int(along),
            dim=dim,
            over=along if by_dim else None,
            model=_lookup_model(model).name,
            conc_unit=conc_unit,
            fixed=fixed,
            weights=weights,
            max_iter=max_iter,
        )
    if is_dataarray(conc):
        from . import xarray as mpx

        if response is not None:
            raise TypeError("`response` must be None when `conc` is an xarray.DataArray of responses.")
        _refuse_for_dataarray(conc_unit=conc_unit, weights=weights, progress=progress)
        return mpx.fit(
            conc,
            dim=dim,
            model=model,
            fixed=fixed,
            bounds=bounds,
            molecular_weight=molecular_weight,
            inhibitor=inhibitor,
            workers=workers,
            max_iter=max_iter,
            conc_coord=conc_coord,
        )
    if response is None:
        raise TypeError("fit() missing `response`: pass fit(conc, response) or fit(data_array, dim=...).")
    return _fit_arrays(
        conc,
        response,
        model=model,
        conc_unit=conc_unit,
        fixed=fixed,
        bounds=bounds,
        weights=weights,
        molecular_weight=molecular_weight,
        inhibitor=inhibitor,
        workers=workers,
        max_iter=max_iter,
        progress=progress,
    )


#: What a DataArray fit does instead of each array-only argument.
_DATAARRAY_INSTEAD = {
    "conc_unit": "the unit comes from the concentration coordinate's `units` attribute, e.g. "
    "coords={'conc': ('dose', values, {'units': 'uM'})}",
    "weights": "mask a point with NaN, or fit the arrays: mp.fit(mp.Q_(conc, unit), data.values, weights=...)",
    "progress": "a DataArray fit runs per block through xarray (and dask); for dask, use dask.diagnostics.ProgressBar",
}


def _refuse_for_dataarray(**given: Any) -> None:
    """Arguments of the array path that a DataArray fit has no use for are refused, not dropped."""
    for name, value in given.items():
        if value is not None:
            raise TypeError(
                f"`{name}` does not apply when `conc` is an xarray.DataArray; got {name}={value!r}: "
                f"{_DATAARRAY_INSTEAD[name]}."
            )
