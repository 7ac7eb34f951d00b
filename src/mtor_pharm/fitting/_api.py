"""``mp.fit``: validation, pooling, blocking, and assembly of the result."""

from __future__ import annotations

import functools
import itertools
import math
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from .._molecular_weight import molecular_weight_of
from .._typing import BoolArray, ConcentrationLike, FloatArray, Unit
from ..errors import ShapeError, UnitError, _warn
from ..models import MODELS, Model, _lookup_model, _param_hint
from ..units import _registry, as_concentration, is_complex, is_quantity
from . import _engine, _layout
from ._result import FitResult, FitStatus

__all__ = ["fit"]

#: Default bounds, beyond which an estimate is meaningless for a dose-response curve.
_LOC_DECADES = 6.0  # location within 10^6 of the tested range on either side
_HILL_MAX = 50.0
_LOG_S_MAX = math.log(1e3)
_BLOCK = 4096
_MIN_PART = 512  # curves per worker thread at least (a thread costs ~0.1 ms)


def _real(value: Any, name: str) -> FloatArray:
    """`value` as a float64 array (read only: never written to), for argument `name`.

    A masked array reads as NaN where masked; complex, boolean, text and object input is
    refused with an error naming the argument (never converted: the imaginary part would
    be lost, text would fail deep inside numpy)."""
    if is_quantity(value):
        raise TypeError(
            f"`{name}` must be plain numbers; got a Quantity in {value.units!s}. Pass its magnitude "
            "(`.magnitude`) after converting it to the unit you mean."
        )
    if isinstance(value, np.ma.MaskedArray):
        value = np.ma.filled(value.astype(np.float64) if value.dtype.kind in "iuf" else value, np.nan)
    arr = value if isinstance(value, np.ndarray) else None
    if arr is None:
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise TypeError(f"`{name}` must be an array of real numbers; got {type(value).__name__} ({exc}).") from None
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(
            f"`{name}` must be real; got complex values (dtype {arr.dtype}). Pass the real part explicitly."
        )
    if kind not in "iuf":
        raise TypeError(
            f"`{name}` must be an array of real numbers (int or float); got dtype {arr.dtype} "
            f"({type(value).__name__}). Convert text or objects to numbers first."
        )
    try:
        return np.asarray(arr, dtype=np.float64)
    except OverflowError:
        raise ValueError(f"`{name}` has a value too large for a float64.") from None


def _as_response(response: ArrayLike) -> FloatArray:
    y = _real(response, "response")
    if y.ndim == 0:
        raise ShapeError("`response` must have at least one dimension (the concentration axis); got a scalar.")
    return y


#: Response magnitudes the sums of squares can hold (their squares stay inside float64 for any
#: realistic number of points); a readout outside them is to be rescaled, not fitted.
_RESPONSE_MAX = 1e153
_RESPONSE_MIN = 1e-150


def _out_of_range(y: FloatArray) -> BoolArray:
    """Curves (last axis = points) whose responses overflow or underflow the sums of squares:
    some |y| above ``_RESPONSE_MAX``, or every nonzero |y| below ``_RESPONSE_MIN`` when the whole
    batch is that small (an infinite response counts as too large)."""
    def largest(axis: int | None) -> Any:  # NaN-ignoring reductions, no temporaries of the size of `y`
        return np.fmax(np.abs(np.fmax.reduce(y, axis=axis)), np.abs(np.fmin.reduce(y, axis=axis)))

    with np.errstate(invalid="ignore"):
        if y.size == 0 or not (largest(None) > _RESPONSE_MAX or 0 < largest(None) < _RESPONSE_MIN):
            # the whole batch inside the range (one pass over it, the common case); a curve of
            # tiny values among curves of ordinary ones is not looked for
            return np.zeros(y.shape[:-1], dtype=bool)
        per_curve = largest(-1)
        return np.asarray((per_curve > _RESPONSE_MAX) | ((per_curve > 0) & (per_curve < _RESPONSE_MIN)))


def _check_finite_response(y: FloatArray) -> None:
    if np.isinf(y).any():
        where = tuple(int(i) for i in np.argwhere(np.isinf(y))[0])
        raise ValueError(f"`response` must be finite or NaN (missing); got {y[where]} at index {where}.")
    if np.any(_out_of_range(y)):
        raise ValueError(
            f"`response` must lie within ±{_RESPONSE_MAX:g} and not all below {_RESPONSE_MIN:g} in magnitude "
            "(the sums of squares of the fit overflow or underflow float64); got values up to "
            f"{float(np.nanmax(np.abs(y))):.3g}. Rescale the readout (e.g. to percent of control)."
        )


def check_options(max_iter: Any, workers: Any, share: Any, progress: Any = None) -> None:
    """The plain options of :func:`fit` (checked before any data are touched)."""
    for name, v, hi in (("max_iter", max_iter, 1_000_000), ("workers", workers, 1024)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or not 1 <= v <= hi:
            raise ValueError(f"`{name}` must be an integer from 1 to {hi:,}; got {v!r}.")
    if share is not None and (isinstance(share, str) or not isinstance(share, Sequence | set | frozenset | Mapping)
                              or not all(isinstance(n, str) for n in share)):
        raise TypeError(
            f"`share` must be a sequence of parameter names, e.g. ('hill', 'top'), or a mapping of parameter "
            f"name to groups (partial sharing); got {share!r}."
        )
    if progress is not None and not callable(progress):
        raise TypeError(f"`progress` must be a callable progress(done, total) or None; got {progress!r}.")


#: Bytes of working memory per curve point and per curve (inputs pooled, outputs, results).
_BYTES_PER_POINT = 8 * 6
_BYTES_PER_CURVE = 8 * 60


def _check_memory(N: int, m: int, p: int) -> None:
    """Refuse, before any work, a batch whose working memory exceeds the machine's."""
    need = N * (m * _BYTES_PER_POINT + (p * p + 10) * _BYTES_PER_CURVE // 10)
    if need < 2**30:  # under a GiB: no need to ask the system
        return
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not on this platform
        return
    if need > total:
        raise ShapeError(
            f"`response` holds {N:,} curves of {m} points: fitting them needs about {need / 2**30:.1f} GiB, "
            f"more than this machine's {total / 2**30:.1f} GiB. Fit the batch in parts, or lazily with "
            "dask (mp.fit on a chunked xarray.DataArray)."
        )


def _scalar_param(name: str, value: Any, unit: Unit, what: str, m: Model) -> Any:
    """Convert a fixed value / bound given for parameter `name` to the internal scale; a
    fixed value must be finite there (a bound may be infinite: no bound)."""
    out = _internal_param(name, value, unit, what, m)
    logged = name in m.conc_params or name in m.log_params  # ln of the value: 0 -> -inf is allowed
    if what == "fixed" and not np.all(np.isfinite(out) | (logged & (out == -np.inf))):
        raise ValueError(f"`fixed[{name!r}]` must be a finite number; got {value!r}.")
    return out


def _internal_param(name: str, value: Any, unit: Unit, what: str, m: Model) -> Any:
    if name in m.conc_params:
        if isinstance(value, str) or is_quantity(value):
            mag, u = as_concentration(value, name=f"{what}[{name!r}]", accepts=frozenset())
            mag = mag * _registry().Quantity(1.0, u).to(unit).magnitude
        else:
            mag = _real(value, f"{what}[{name!r}]")
        if np.any(mag < 0) or np.any(np.isnan(mag)):
            raise ValueError(f"`{what}[{name!r}]` must be a non-negative concentration; got {value!r}.")
        with np.errstate(divide="ignore"):
            return np.log(mag)
    if (isinstance(value, str) or is_quantity(value)):
        raise UnitError(f"`{what}[{name!r}]` must be a plain number; got {value!r}.")
    arr = _real(value, f"{what}[{name!r}]")
    if name in m.log_params:
        if np.any(arr < 0) or np.any(np.isnan(arr)):
            raise ValueError(f"`{what}[{name!r}]` must be a positive number; got {value!r}.")
        with np.errstate(divide="ignore"):
            return np.log(arr)
    if np.any(np.isnan(arr)):
        raise ValueError(f"`{what}[{name!r}]` must not be NaN; got {value!r}.")
    return arr


def as_weights(weights: ArrayLike, shape: tuple[int, ...]) -> FloatArray:
    """Validate per-point weights and broadcast them (read-only view) to the response `shape`."""
    w_arr = _real(weights, "weights")
    try:
        w = np.broadcast_to(w_arr, shape)
    except ValueError:
        raise ShapeError(f"`weights` of shape {w_arr.shape} must broadcast to `response` {shape}.") from None
    if not np.all(np.isfinite(w) & (w >= 0)):
        raise ValueError("`weights` must be finite and non-negative.")
    return w


def _check_names(mapping: Mapping[str, Any] | None, model: Model, what: str) -> dict[str, Any]:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise TypeError(f"`{what}` must be a mapping of parameter name to value; got {type(mapping).__name__}.")
    unknown = [k for k in mapping if k not in model.param_names]
    if unknown:
        raise ValueError(
            f"`{what}` names unknown parameter(s) {unknown} for model {model.name!r}; known: {list(model.param_names)}."
            f"{_param_hint(unknown[0], model.param_names)}"
        )
    return dict(mapping)


def fit(
    conc: ConcentrationLike,
    response: ArrayLike,
    *,
    model: str | Model = "4pl",
    conc_unit: str | None = None,
    fixed: Mapping[str, Any] | None = None,
    bounds: Mapping[str, tuple[Any, Any]] | None = None,
    weights: ArrayLike | None = None,
    molecular_weight: Any = None,
    inhibitor: Any = None,
    workers: int = 1,
    max_iter: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> FitResult:
    """Fit one curve or a batch of curves given as arrays (the engine behind :func:`mtor_pharm.fit`).

    Takes the parameters of :func:`mtor_pharm.fit` except the DataArray and global-fit
    ones, which the façade dispatches to :mod:`mtor_pharm.xarray` and
    :func:`mtor_pharm.compare.fit_shared`.

    Examples
    --------
    >>> from mtor_pharm.fitting import fit
    >>> res = fit(mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM"), [99, 97, 88, 67, 36, 15, 5])
    >>> bool(res.converged)
    True
    """
    check_options(max_iter, workers, None, progress)
    if response is None:
        raise TypeError("fit() missing `response`: pass fit(conc, response) or fit(data_array, dim=...).")
    m = _lookup_model(model)
    fixed_d = {**m.default_fixed, **_check_names(fixed, m, "fixed")}
    missing = [name for name in m.required_fixed if name not in fixed_d]
    if missing:
        example = ", ".join(f"{name!r}: ..." for name in missing)
        # a registered family of the same parameters that fits them: the way out, if any
        fits_them = [
            f.name for f in MODELS.values()
            if f.param_names == m.param_names and not set(missing) & {*f.required_fixed, *f.default_fixed}
        ]
        hint = f" To fit {', '.join(missing)} as well, use model={fits_them[0]!r}." if fits_them else ""
        raise ValueError(
            f"model {m.name!r} needs `fixed` to give {', '.join(repr(n) for n in missing)}, a constant of the "
            f"assay (e.g. fixed={{{example}}} in the unit of `conc`, or a Quantity such as '1 nM'); got "
            f"fixed={fixed!r}.{hint}"
        )
    bounds_d = _check_names(bounds, m, "bounds")
    if inhibitor is not None:
        if molecular_weight is not None:
            raise ValueError(
                "Pass either `inhibitor` or `molecular_weight`, not both: the inhibitor's molecular "
                f"weight would silently replace molecular_weight={molecular_weight!r}."
            )
        molecular_weight = molecular_weight_of(inhibitor)  # looked up only for mass concentrations
    conc_mag = conc.magnitude if is_quantity(conc) else conc
    labelled = isinstance(conc_mag, list | tuple) and any(isinstance(c, str) or is_quantity(c) for c in conc_mag)
    if not labelled and (isinstance(conc_mag, np.ndarray | list | tuple) or np.isscalar(conc_mag)):
        if is_complex(conc_mag, "conc"):
            raise TypeError("`conc` must be real; got complex values. Pass the real part explicitly.")
        if isinstance(conc_mag, np.ma.MaskedArray):  # masked concentrations are padding (NaN)
            filled = _real(conc_mag, "conc")
            conc = _registry().Quantity(filled, conc.units) if is_quantity(conc) else filled
    x, unit = as_concentration(conc, conc_unit=conc_unit, molecular_weight=molecular_weight)
    y = _as_response(response)
    if x.ndim == 0:
        raise ShapeError("`conc` must have at least one dimension (the concentration axis); got a scalar.")
    if x.shape[-1] != y.shape[-1]:
        raise ShapeError(
            f"`conc` and `response` must have the same last (concentration) axis; "
            f"got {x.shape[-1]} concentrations for {y.shape[-1]} responses (shapes {x.shape} and {y.shape})."
        )
    try:
        batch = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
    except ValueError:
        raise ShapeError(
            f"`conc` of shape {x.shape} and `response` of shape {y.shape} do not broadcast "
            "(conc must be (m,) or share the batch shape of response)."
        ) from None
    _check_memory(math.prod(batch), y.shape[-1], m.n_params)
    xb = x if x.shape[:-1] == batch else np.broadcast_to(x, (*batch, x.shape[-1]))
    yb = y if y.shape[:-1] == batch else np.broadcast_to(y, (*batch, y.shape[-1]))
    # Invalid data in one curve of a batch (an infinite response; with one design per curve, a
    # negative, infinite or NaN-with-a-response concentration) flag that curve, not the batch.
    # One curve, or a design shared by every curve, is refused as a whole.
    per_curve_x = x.ndim > 1 and x.shape[:-1] == batch and bool(batch)
    invalid: BoolArray = np.zeros(batch, dtype=bool)
    if batch:
        with np.errstate(invalid="ignore"):
            invalid = _out_of_range(yb)  # an infinite response included
            if per_curve_x:
                invalid |= (np.isinf(xb) | (xb < 0) | (np.isnan(xb) & ~np.isnan(yb))).any(axis=-1)
    if invalid.any():
        xb, yb = np.array(xb, copy=True), np.array(yb, copy=True)  # the caller's arrays stay as given
        yb[invalid] = np.nan
        if per_curve_x:
            xb[invalid] = np.nan
    if not batch:
        _check_finite_response(yb)  # one curve: refused as a whole (a batch flagged its curves above)
    if per_curve_x:
        x = xb  # the design with the invalid curves blanked
    # the design's checks on the design itself (a shared one is not scanned once per curve)
    if np.isinf(x).any():
        raise ValueError(f"`conc` must be finite; got {x[np.isinf(x)][0]} {unit!s}.")
    if (x < 0).any():  # NaN compares False, silently
        raise ValueError(
            f"`conc` must be non-negative (0 marks vehicle); got {x[x < 0][0]} {unit!s}. Concentrations "
            "given as log10 (Prism's X column) must be converted explicitly: mp.units.from_log10."
        )
    nan_x = np.isnan(xb) & ~np.isnan(yb) if np.isnan(x).any() else np.zeros(0, dtype=bool)
    if nan_x.any():
        where = tuple(int(i) for i in np.argwhere(nan_x)[0])
        raise ValueError(
            f"`conc` is NaN at index {where} where `response` is {yb[where]}; NaN concentrations "
            "may only pad ragged designs where the response is NaN too."
        )
    w_user = None if weights is None else as_weights(weights, yb.shape)

    fixed_int = {k: _scalar_param(k, v, unit, "fixed", m) for k, v in fixed_d.items()}
    bounds_int: dict[str, tuple[Any, Any]] = {}
    for k, b in bounds_d.items():
        if not (isinstance(b, tuple | list) and len(b) == 2):
            raise ValueError(f"`bounds[{k!r}]` must be a (low, high) pair; got {b!r}.")
        lo_b = _scalar_param(k, b[0], unit, "bounds", m) if b[0] is not None else -np.inf
        hi_b = _scalar_param(k, b[1], unit, "bounds", m) if b[1] is not None else np.inf
        if np.any(np.asarray(lo_b) >= np.asarray(hi_b)):
            raise ValueError(f"`bounds[{k!r}]` must have low < high; got {b!r}.")
        if np.ndim(lo_b) or np.ndim(hi_b):
            raise ShapeError(f"`bounds[{k!r}]` must be a pair of scalars (one box for every curve); got {b!r}.")
        bounds_int[k] = (lo_b, hi_b)
    for k, v in fixed_int.items():  # a fixed value must satisfy its own bounds
        if k in bounds_int and np.any((v < bounds_int[k][0]) | (v > bounds_int[k][1])):
            raise ValueError(
                f"`fixed[{k!r}]` = {fixed_d[k]!r} lies outside `bounds[{k!r}]` = {bounds_d[k]!r}; "
                "drop one of the two or make them agree."
            )

    N = math.prod(batch)
    m_pts = y.shape[-1]
    x2 = xb.reshape(N, m_pts)
    y2 = yb.reshape(N, m_pts)
    w2 = None if w_user is None else w_user.reshape(N, m_pts)
    shared = x.ndim == 1
    p = m.n_params
    free = np.array([name not in fixed_d for name in m.param_names])
    fixed_arr = np.zeros((N, p))
    for i, name in enumerate(m.param_names):
        if name in fixed_int:
            try:
                fixed_arr[:, i] = np.broadcast_to(fixed_int[name], batch).reshape(N)
            except ValueError:
                raise ShapeError(
                    f"`fixed[{name!r}]` must be a scalar or broadcast to the batch shape {batch}; "
                    f"got shape {np.shape(fixed_int[name])}."
                ) from None

    prep = _Prepared(N)
    q = int(free.sum())
    n_parts = min(workers, max(1, N // _MIN_PART))
    edges = [N * i // n_parts for i in range(n_parts + 1)]
    parts = [slice(a, b) for a, b in itertools.pairwise(edges)]
    design = _shared_design(x) if shared else None
    # median of F(q - 1, dof) for every possible dof (fdtri costs ~2 us a call)
    f_half = _f_medians(max(q - 1, 1), max(m_pts, 1))
    # An asymmetric family keeps its own shape only with top >= bottom (the sign of hill
    # then gives the direction): with top < bottom a Weibull-1 curve is a Weibull-2 curve
    # and a 5PL changes its asymmetry.  Start once for each direction (hill > 0 falling,
    # hill < 0 rising) and keep the better optimum with top >= bottom (#13).
    signs = (1, -1) if (m.compiled is not None and not m.symmetric and free[_layout.HILL]) else (0,)
    total = N * len(signs)
    finished = [0]
    lock = threading.Lock()

    def tick(k: int) -> None:
        with lock:
            finished[0] += k
            done = finished[0]
        if progress is not None:
            progress(done, total)

    outs = [_engine.Outputs(N, p, q, progress=tick if progress is not None else None) for _ in signs]
    kernel = _engine.make_kernel(m, free, bounded_plateau=bool({"bottom", "top"} & bounds_int.keys()))
    conc_cols = np.flatnonzero([k == "conc" for k in m.kinds])
    fin = _Finished(m, N, q, outs[0])

    def run(rows: slice) -> None:
        """Prepare, fit and finish rows `rows` (on its own thread with `workers` > 1)."""
        if rows.stop == rows.start:
            return
        chunks = _chunks(
            m, x if shared else x2, y2, w2, design, f_half, free, fixed_arr, bounds_int, prep, rows.start, rows.stop
        )
        for chunk in chunks:  # pooled once, fitted from each start
            for sign, out in zip(signs, outs, strict=True):
                _engine.solve(m, (chunk,), free, out, kernel=kernel, sign=sign, max_iter=max_iter)
        out = outs[0]
        for other in outs[1:]:
            _keep_better(out, other, rows)
        out.P[rows, conc_cols] += prep.centre[rows, None]  # back from the solver's origin
        # curves that were not fitted still report the values of their fixed parameters
        for j in np.flatnonzero(~free):
            out.P[rows, j] = fixed_arr[rows, j]
        _finish(m, prep, out, free, fin, rows)

    if len(parts) == 1:
        run(parts[0])
    else:
        with ThreadPoolExecutor(max_workers=len(parts)) as pool:
            list(pool.map(run, parts))
    _warn_upside_down(m, fixed_int, outs[0].P, batch)
    if invalid.any():  # not fitted (no usable data), and why
        outs[0].status[invalid.reshape(-1)] = int(FitStatus.TOO_FEW_POINTS | FitStatus.INVALID_DATA)
    return _assemble(m, prep, outs[0], fin, free, batch, unit)


def _warn_upside_down(m: Model, fixed: Mapping[str, Any], P: FloatArray, batch: tuple[int, ...]) -> None:
    """Warn where a fixed hill left ``top < bottom``: the data run the other way from the
    fixed slope's sign (often Prism's HillSlope, whose sign is the opposite of ``hill``).

    With hill free the engine reports the same curve with ``top >= bottom`` (hill negated);
    with hill fixed it cannot, so the reported plateaus are swapped against the convention
    (``top`` is then the high-dose plateau of a falling curve).  Nothing is changed: the
    fit is the least-squares answer to the model asked for."""
    names = m.param_names
    if "hill" not in fixed or not {"bottom", "top"} <= set(names) or {"bottom", "top"} <= fixed.keys():
        return
    with np.errstate(invalid="ignore"):
        upside = P[:, names.index("top")] < P[:, names.index("bottom")]
    n_up = int(upside.sum())
    if n_up == 0:
        return
    first = tuple(int(i) for i in np.unravel_index(int(np.flatnonzero(upside)[0]), batch)) if batch else ()
    hill = np.broadcast_to(np.asarray(fixed["hill"], dtype=float), batch).reshape(-1)[np.flatnonzero(upside)[0]]
    where = f" (first at index {first})" if batch else ""
    _warn(
        f"fixed hill = {hill:g} left top < bottom on {n_up} of {upside.size} curve(s){where}: the data "
        f"{'fall' if hill < 0 else 'rise'} with dose, but hill {'< 0 rises' if hill < 0 else '> 0 falls'}. "
        "Here hill > 0 is a falling (inhibition) curve, the opposite sign of GraphPad Prism's HillSlope: "
        f"Prism's 'standard slope' HillSlope = {hill:g} is fixed={{'hill': {-hill:g}}}. The plateaus are "
        "reported as fitted (top is the high-dose plateau when hill < 0)."
    )


def _keep_better(out: _engine.Outputs, other: _engine.Outputs, rows: slice) -> None:
    """Rows `rows` of `out` become the better of the two starts' optima: the lower RSS among
    those with ``top >= bottom`` (the family's own shape).  Where neither start has it, the
    lower RSS is kept and flagged ``NOT_CONVERGED``: the family's optimum was not reached."""
    with np.errstate(invalid="ignore"):
        ok_a = out.P[rows, 1] >= out.P[rows, 0]
        ok_b = other.P[rows, 1] >= other.P[rows, 0]
    rss_a = np.where(np.isnan(out.rss[rows]), np.inf, out.rss[rows])
    rss_b = np.where(np.isnan(other.rss[rows]), np.inf, other.rss[rows])
    neither = ~ok_a & ~ok_b
    better = np.where(ok_a == ok_b, rss_b < rss_a, ok_b)
    for a, b in ((out.P, other.P), (out.rss, other.rss), (out.A, other.A), (out.status, other.status)):
        a[rows][better] = b[rows][better]
    out.status[rows][neither & ~np.isnan(out.rss[rows])] |= np.uint8(FitStatus.NOT_CONVERGED)
    out.iterations[rows] += other.iterations[rows]


@functools.lru_cache(maxsize=64)
def _t975(m: int) -> FloatArray:
    """Student's 0.975 quantile for dof = 0 … m (NaN at 0; read-only)."""
    dof = np.arange(m + 1, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out: FloatArray = np.asarray(special.stdtrit(np.where(dof > 0, dof, np.nan), 0.975), dtype=np.float64)
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=64)
def _f_medians(df1: int, m: int) -> FloatArray:
    """Median of F(df1, dof) for dof = 1 … m (read-only; ``fdtri`` costs ~2 µs a call)."""
    out: FloatArray = np.asarray(special.fdtri(df1, np.arange(1, m + 1), 0.5), dtype=np.float64)
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=256)
def _unit_name(unit: Unit) -> str:
    """``str(unit)`` (pint's formatter costs ~40 µs a call; units are immutable)."""
    return str(unit)


class _Prepared:
    """Per-curve quantities computed while preparing the chunks (every row is written)."""

    def __init__(self, N: int) -> None:
        self.n = np.empty(N, dtype=np.int64)
        self.rss0 = np.empty(N)
        self.within = np.empty(N)
        self.lx_lo = np.empty(N)
        self.lx_hi = np.empty(N)
        self.centre = np.empty(N)  # ln x of the middle of the tested range: the solver's origin
        self.fittable = np.empty(N, dtype=bool)
        self.yrange = np.empty(N)  # range of the finite responses


def _shared_design(x: FloatArray) -> _SharedDesign:
    """The pooling order of a shared design, remembered for small designs (a screen of single
    fits on one dilution series sorts it once)."""
    if x.size > 256:
        return _SharedDesign(x)
    return _cached_design(x.tobytes())


@functools.lru_cache(maxsize=128)
def _cached_design(raw: bytes) -> _SharedDesign:
    return _SharedDesign(np.frombuffer(raw, dtype=np.float64))


class _SharedDesign:
    """A concentration design shared by every curve: the stable order of its points by
    concentration (NaN last) and its number of distinct concentrations, for pooling."""

    def __init__(self, x: FloatArray) -> None:
        self.order = np.argsort(x, kind="stable").astype(np.int64)
        self.order.flags.writeable = False
        finite = x[~np.isnan(x)]
        self.k = int(np.count_nonzero(np.diff(np.sort(finite)))) + 1 if finite.size else 0


class _Finished:
    """The per-curve results beyond the solver's, filled part by part by :func:`_finish`."""

    def __init__(self, m: Model, N: int, q: int, out: _engine.Outputs) -> None:
        p = m.n_params
        # the covariance in place of the solver's (JᵀWJ)⁻¹ when every parameter is free
        self.cov = out.A if q == p else np.empty((N, p, p))
        self.stderr = np.empty((N, p))
        self.rss = np.empty(N)
        self.pvalue = np.empty(N)
        self.is_log = np.array([name in m.log_params for name in m.param_names])


def _finish(m: Model, prep: _Prepared, out: _engine.Outputs, free: BoolArray, fin: _Finished, rows: slice) -> None:
    """Covariance, standard errors, the F test and every status bit for rows `rows`, in one
    compiled pass (it releases the GIL, so parts finish in parallel)."""
    from . import _kernels

    names = m.param_names
    loc = next((names.index(k) for k in ("ic50", "xmid") if k in names and free[names.index(k)]), -1)
    hill = names.index("hill") if "hill" in names and free[names.index("hill")] else -1
    n, P = prep.n[rows], out.P[rows]
    _kernels.finish(
        P, out.A[rows], out.rss[rows], prep.within[rows], n, prep.fittable[rows], free, fin.is_log,
        prep.yrange[rows], prep.rss0[rows],
        _t975(m.n_params + int(n.max(initial=0))), loc, loc >= 0 and names[loc] in m.log_params, hill,
        m.loc_name == "ic50", prep.lx_lo[rows], prep.lx_hi[rows],
        P, fin.cov[rows], fin.stderr[rows], fin.rss[rows], fin.pvalue[rows], out.status[rows],
    )


_NO_ORDER = np.empty(0, dtype=np.int64)
_ONE = np.ones((1, 1))


def _pool(
    x: FloatArray, y: FloatArray, w_user: FloatArray | None, design: _SharedDesign | None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Pool replicate points at equal concentrations (exactly: same optimum and RSS).

    Returns ``(lx, ybar, w, stats)``: ln concentrations in increasing order (0 where
    ``w == 0``), (weighted mean) responses and summed weights (replicate counts, or user
    weights; 0 = no data), all (n, k), and per curve ``stats`` (n, 7) = (points,
    within-replicate SS, SS about the weighted mean, ln of the smallest positive and of the
    largest concentration with data, response range, distinct concentrations with data,
    counted up to 16).  Shared and per-curve designs, weighted or not, go through the same
    compiled pooling, so the same data give bitwise the same fit whichever way they come.
    """
    from . import _kernels

    n = y.shape[0]
    weighted = w_user is not None
    wu = w_user if w_user is not None else _ONE  # read only when weighted
    if design is not None:
        xx = x.reshape(1, -1)
        order, k = design.order, design.k
    else:
        xx, order = x, _NO_ORDER
        k = _kernels.count_columns(xx, y, wu, weighted)
    k = max(k, 1)
    lx, ybar, w = np.empty((n, k)), np.empty((n, k)), np.empty((n, k))
    stats = np.empty((n, 7))
    _kernels.pool(xx, y, wu, weighted, order, lx, ybar, w, stats)
    return lx, ybar, w, stats


def _chunks(
    m: Model,
    x: FloatArray,
    y: FloatArray,
    w_user: FloatArray | None,
    design: _SharedDesign | None,
    f_half: FloatArray,
    free: BoolArray,
    fixed_arr: FloatArray,
    bounds_int: Mapping[str, tuple[Any, Any]],
    prep: _Prepared,
    start: int,
    stop: int,
) -> Iterator[_engine.Chunk]:
    """Pool, mask and bound rows ``start:stop`` block by block, recording per-curve facts in `prep`."""
    from . import _kernels

    q = int(free.sum())
    p = m.n_params
    lo_user, hi_user = np.full(p, np.nan), np.full(p, np.nan)
    for name, (b_lo, b_hi) in bounds_int.items():
        lo_user[m.param_names.index(name)] = b_lo
        hi_user[m.param_names.index(name)] = b_hi
    conc = np.array([k == "conc" for k in m.kinds])
    for b0 in range(start, stop, _BLOCK):
        b1 = min(b0 + _BLOCK, stop)
        sl = slice(b0, b1)
        n = b1 - b0
        xb = x if design is not None else x[sl]
        lx, ybar, w, stats = _pool(xb, y[sl], None if w_user is None else w_user[sl], design)
        # which curves are fitted (#17: more points than free parameters and as many distinct
        # concentrations), the solver's origin in the middle of each curve's tested range (a
        # change of unit leaves the problem the same, #17), the flat-curve threshold, bounds
        lx_lo, lx_hi, flat_rss = np.empty(n), np.empty(n), np.empty(n)
        lo, hi, P_fixed = np.empty((n, p)), np.empty((n, p)), np.empty((n, p))
        fittable = prep.fittable[sl]
        _kernels.prepare(
            stats, lx, w, q, f_half, fixed_arr[sl], lo_user, hi_user, _LOC_DECADES * math.log(10.0), _HILL_MAX,
            _LOG_S_MAX, prep.n[sl], fittable, prep.centre[sl], lx_lo, lx_hi, flat_rss, lo, hi, P_fixed,
        )
        prep.rss0[sl] = stats[:, 2]
        prep.within[sl] = stats[:, 1]
        prep.lx_lo[sl] = stats[:, 3]
        prep.lx_hi[sl] = stats[:, 4]
        if m.compiled is None:
            # a family without a compiled shape declares its own columns: its default bounds
            # by parameter kind, and every concentration column moved to the solver's origin
            centre = prep.centre[sl]
            lo, hi = m.default_bounds(lx_lo, lx_hi)
            for name, (b_lo, b_hi) in bounds_int.items():
                i = m.param_names.index(name)
                lo[:, i] = b_lo - centre if conc[i] else b_lo
                hi[:, i] = b_hi - centre if conc[i] else b_hi
            P_fixed = fixed_arr[sl].copy()
            P_fixed[:, conc] -= centre[:, None]
        prep.yrange[sl] = stats[:, 5]
        yield _engine.Chunk(
            start=b0,
            stop=b1,
            prob=_engine.Problem(
                fit=fittable,
                lx=lx,
                y=ybar,
                w=w,
                lx_lo=lx_lo,
                lx_hi=lx_hi,
                P_fixed=P_fixed,
                lo=lo,
                hi=hi,
                flat_rss=flat_rss,
                centre=prep.centre[sl],
            ),
        )


def _assemble(
    m: Model,
    prep: _Prepared,
    out: _engine.Outputs,
    fin: _Finished,
    free: BoolArray,
    batch: tuple[int, ...],
    unit: Unit,
) -> FitResult:
    p = m.n_params
    q = int(free.sum())
    P, status, cov, se, rss, pval = out.P, out.status, fin.cov, fin.stderr, fin.rss, fin.pvalue
    dof = prep.n - q
    params: dict[str, FloatArray] = {}
    stderr: dict[str, FloatArray] = {}
    log_params = m.log_params
    with np.errstate(over="ignore"):
        for i, name in enumerate(m.param_names):
            v = P[:, i]
            params[name] = (np.exp(v) if name in log_params else v).reshape(batch)
            stderr[name] = se[:, i].reshape(batch)
        xmin, xmax = np.exp(prep.lx_lo), np.exp(prep.lx_hi)
    status_arr = status.reshape(batch)
    conc_min, conc_max = xmin.reshape(batch), xmax.reshape(batch)
    fields: dict[str, Any] = dict(
        params=params,
        stderr=stderr,
        covariance=cov.reshape(*batch, p, p),
        rss=rss.reshape(batch),
        n=prep.n.reshape(batch),
        dof=dof.reshape(batch),
        response_pvalue=pval.reshape(batch),
        conc_min=conc_min,
        conc_max=conc_max,
        iterations=out.iterations.reshape(batch),
        tss=prep.rss0.reshape(batch),  # (weighted) SS about the mean, for R² (#14)
    )
    for v in (*params.values(), *stderr.values(), *(f for f in fields.values() if isinstance(f, np.ndarray))):
        v.flags.writeable = False  # built here and owned by the result: no defensive copies
    result = FitResult(
        model=m.name,
        param_names=m.param_names,
        fixed=tuple(name for name, f in zip(m.param_names, free, strict=True) if not f),
        status=status_arr,
        conc_unit=_unit_name(unit),
        _model=m,
        **fields,
    )
    if m.loc_name != "ic50":  # IC50 outside the tested range, where it is determined
        ic50 = np.asarray(result.ic50.magnitude).reshape(-1)
        with np.errstate(invalid="ignore"):
            outside = np.isfinite(ic50) & ((ic50 < xmin) | (ic50 > xmax))
        if np.any(outside):
            result = result.with_flags(np.where(outside, FitStatus.IC50_OUTSIDE_RANGE, 0).reshape(batch))
    return result
