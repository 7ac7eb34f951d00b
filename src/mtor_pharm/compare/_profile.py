"""Profile-likelihood intervals (batched) and confidence / prediction bands."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from .._arrays import readonly
from .._typing import BoolArray, FloatArray
from ..fitting import ConfidenceInterval, FitResult, FitStatus, fit
from ..units import _registry
from ._common import as_fit_result, check_level, check_same_data, conc_in, curve_data, t_quantile
from ._shared import SharedFit

__all__ = ["Band", "BandKind", "ProfileInterval", "bands", "profile_ci"]

#: Kinds of band drawn by :func:`bands`.
BandKind: TypeAlias = Literal["confidence", "prediction"]

_GRID = 10  # grid points per side before root finding
_MAX_REFINE = 40
_BLOCK_FITS = 65536  # profile fits per batched call (bounds the working memory)
_HILL_MAX = 50.0
_LOG_S_MAX = math.log(1e3)
_NO_PROFILE = FitStatus.TOO_FEW_POINTS | FitStatus.NOT_CONVERGED


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ProfileInterval:
    """Profile-likelihood confidence interval of one parameter, for every curve of a batch.

    Attributes
    ----------
    name : str
        The parameter.
    level : float
        Confidence level.
    estimate, low, high : ndarray
        Estimate and limits (batch shape), concentrations in `conc_unit`.  A
        limit not reached inside the search range is ``0`` (lower, for
        concentrations), ``-inf`` (lower, otherwise) or ``+inf`` (upper), with
        `low_found` / `high_found` False: the data do not bound the parameter
        on that side.  NaN for curves not fitted or not converged.
    low_found, high_found : ndarray of bool
        A crossing of the threshold was found on that side.
    threshold : ndarray
        The RSS bound ``RSS_min (1 + F₁,dof(level) / dof)``.
    suboptimal : ndarray of bool
        A profile point reached a lower RSS than the fit itself: the fit is
        not at its global optimum, and the interval is not reliable.
    conc_unit : str or None
        Unit of concentration parameters (``None`` for the others).
    """

    name: str
    level: float
    estimate: FloatArray
    low: FloatArray
    high: FloatArray
    low_found: BoolArray
    high_found: BoolArray
    threshold: FloatArray
    suboptimal: BoolArray
    conc_unit: str | None

    def __post_init__(self) -> None:
        for name in ("estimate", "low", "high", "low_found", "high_found", "threshold", "suboptimal"):
            object.__setattr__(self, name, readonly(getattr(self, name)))

    @property
    def bounded(self) -> BoolArray:
        """True where both limits were found."""
        return readonly(self.low_found & self.high_found)

    def interval(self) -> ConfidenceInterval:
        """``(low, high)``; Quantities for concentration parameters."""
        if self.conc_unit is None:
            return ConfidenceInterval(self.low, self.high)
        registry = _registry()
        return ConfidenceInterval(
            registry.Quantity(self.low, self.conc_unit), registry.Quantity(self.high, self.conc_unit)
        )


def _to_internal(log_scale: bool, v: FloatArray) -> FloatArray:
    if log_scale:
        with np.errstate(divide="ignore", invalid="ignore"):
            out: FloatArray = np.log(v)
        return out
    return v


def _to_reported(log_scale: bool, v: FloatArray) -> FloatArray:
    if log_scale:
        with np.errstate(over="ignore"):
            out: FloatArray = np.exp(v)
        return out
    return v


def profile_ci(
    res: FitResult,
    conc: Any,
    response: ArrayLike,
    *,
    name: str = "ic50",
    level: float = 0.95,
    conc_unit: str | None = None,
    weights: ArrayLike | None = None,
    bounds: Mapping[str, tuple[Any, Any]] | None = None,
    span: float = 4.0,
    xtol: float = 1e-6,
) -> ProfileInterval:
    """Profile-likelihood confidence interval of a parameter for every curve at once.

    The interval is the set of values ``θ`` of the parameter for which the
    best fit with ``θ`` held fixed (every other parameter refitted) has

    ``RSS(θ) ≤ RSS_min · (1 + F_{1,dof}(level) / dof)``,

    the extra-sum-of-squares F test of the fixed-θ model against the full
    fit at ``1 − level`` (Bates & Watts, *Nonlinear regression analysis and
    its applications*, 1988, §6.1; GraphPad Prism's "profile likelihood
    asymmetrical confidence intervals").  It follows the curvature of the
    problem, so it stays honest where the Wald interval of
    :meth:`FitResult.ci` is too short (an IC50 near the edge of the tested
    range, few points, a shallow curve).

    Parameters
    ----------
    res : FitResult
        The fit (any batch shape).
    conc, response : array_like
        The data `res` was fitted to (checked).
    name : str, default "ic50"
        A free parameter of `res`, of any family (``"ic50"``/``"xmid"``,
        ``"hill"``, ``"top"``, ``"bottom"``, ``"s"``; ``"ic50_1"``,
        ``"frac"`` … of the biphasic model).  What the parameter is comes from
        the family's :attr:`~mtor_pharm.models.ModelFamily.kinds`: a
        concentration (kind ``"conc"``) or a positive shape parameter (``"log"``)
        is profiled on the natural-log scale it is fitted on, so its limits are
        positive and asymmetric; the others on their own scale.
    level : float, default 0.95
        Confidence level in (0, 1).
    conc_unit : str, optional
        Unit of a bare `conc` array.
    weights, bounds : optional
        The weights and bounds `res` was fitted with.
    span : float, default 4
        Search range for a concentration parameter: the tested range extended
        by `span` decades on each side.  Other parameters are searched up to
        20 Wald half-widths from the estimate (a slope keeps its sign and
        ``|hill| ≤ 50``; a fraction stays in [0, 1]; a ``"log"`` parameter
        between 1e-3 and 1e3).
    xtol : float, default 1e-6
        Tolerance of the limits on the internal scale (``ln ic50`` for
        concentrations: a relative tolerance).

    Returns
    -------
    ProfileInterval

    Raises
    ------
    ShapeError, ValueError
        Data that are not those of `res`; `name` not a free parameter of the
        model; `level` outside (0, 1); `span` or `xtol` not positive.

    Notes
    -----
    All curves are profiled together: a grid of fixed values on each side of
    the estimate (geometric steps from half a Wald half-width to the end of the
    search range) is fitted in one batched :func:`mtor_pharm.fit` call with
    ``fixed={name: array}``; the first grid point above the threshold brackets
    each limit, which is then refined by Illinois regula falsi on the signed
    root ``τ(θ) = sqrt((RSS(θ) − RSS_min)/s²)``, nearly linear in ``θ``, each
    step again one batched fit over the unfinished limits.  About 20 + 2·6
    fits per curve; a limit with no crossing inside the search range is
    reported open, never extrapolated.

    Examples
    --------
    >>> from mtor_pharm import compare as cmp
    >>> conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
    >>> y = [99, 97, 88, 67, 36, 15, 5]
    >>> res = mp.fit(conc, y)
    >>> prof = cmp.profile_ci(res, conc, y)
    >>> low, high = prof.interval()
    >>> bool(low < res.ic50 < high), low.units
    (True, <Unit('micromolar')>)
    """
    res = as_fit_result(res, "res")
    level = check_level(level)
    if not isinstance(name, str) or name not in res.param_names:
        raise ValueError(
            f"`name` must be a parameter of the {res.model!r} model {list(res.param_names)}; got {name!r}."
        )
    if name in res.fixed:
        raise ValueError(f"`name` must be a free parameter; {name!r} was held fixed in `res`.")
    if isinstance(span, bool) or not isinstance(span, int | float) or not (0 < span < 100):
        raise ValueError(f"`span` must be a positive number of decades; got {span!r}.")
    if isinstance(xtol, bool) or not isinstance(xtol, int | float) or not (0 < xtol < math.inf):
        raise ValueError(f"`xtol` must be a positive finite tolerance, e.g. 1e-6; got {xtol!r}.")
    x, y, w, valid = curve_data(res, conc, response, conc_unit=conc_unit, weights=weights)
    check_same_data(res, x, y, w, valid, "res")
    N = y.shape[0]
    est = np.asarray(res.params[name], dtype=np.float64).reshape(-1)
    # the family says what the parameter is (#13): concentrations ("conc") and positive
    # shape parameters ("log") are profiled on the ln scale they are fitted on
    kind = res.family.kinds[res.family.param_names.index(name)]
    log_scale = name in res.family.log_params
    c = _to_internal(log_scale, est)
    se = np.asarray(res.stderr[name], dtype=np.float64).reshape(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        se_int = se / est if log_scale else se
    rss_min = np.asarray(res.rss, dtype=np.float64).reshape(-1)
    dof = np.asarray(res.dof).reshape(-1)
    t = t_quantile(level, dof)
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = rss_min / np.where(dof > 0, dof, np.nan)
        thr = rss_min + s2 * t * t
    status = np.asarray(res.status).reshape(-1)
    ok = np.isfinite(c) & np.isfinite(thr) & (dof > 0) & ((status & _NO_PROFILE) == 0) & (rss_min > 0)

    # search range on the internal scale, per side
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        half = np.where(np.isfinite(se_int) & (se_int > 0), t * se_int, np.nan)
        if kind == "conc":
            dec = span * math.log(10.0)
            lo = np.log(np.asarray(res.conc_min).reshape(-1)) - dec
            hi = np.log(np.asarray(res.conc_max).reshape(-1)) + dec
        elif kind == "slope":
            D = np.where(np.isfinite(half), 20.0 * half, 10.0 * np.maximum(np.abs(c), 1.0))
            pos = c > 0
            lo = np.where(pos, np.maximum(c - D, 1e-3 * c), np.maximum(c - D, -_HILL_MAX))
            hi = np.where(pos, np.minimum(c + D, _HILL_MAX), np.minimum(c + D, 1e-3 * c))
        elif kind == "log":
            D = np.where(np.isfinite(half), 20.0 * half, 3.0)
            lo, hi = np.maximum(c - D, -_LOG_S_MAX), np.minimum(c + D, _LOG_S_MAX)
        elif kind == "fraction":
            D = np.where(np.isfinite(half), 20.0 * half, 1.0)
            lo, hi = np.maximum(c - D, 0.0), np.minimum(c + D, 1.0)
        else:
            D = np.where(np.isfinite(half), 20.0 * half, 10.0 * np.maximum(np.abs(c), 1.0))
            lo, hi = c - D, c + D
        dmax = np.stack([np.maximum(c - lo, 0.0), np.maximum(hi - c, 0.0)], axis=1)  # (N, 2): down, up
        h0 = np.where(np.isfinite(half)[:, None], 0.5 * half[:, None], dmax / 50.0)
        h0 = np.clip(h0, dmax * 1e-4, dmax / 2.0)
        frac = np.arange(_GRID) / (_GRID - 1)
        offsets = h0[:, :, None] * (dmax / h0)[:, :, None] ** frac[None, None, :]  # (N, 2, G)
    sign = np.array([-1.0, 1.0])
    side_ok = ok[:, None] & (dmax > 0) & np.isfinite(dmax)

    rows = np.flatnonzero(ok)
    low_found = np.zeros(N, dtype=bool)
    high_found = np.zeros(N, dtype=bool)
    limit = np.full((N, 2), np.nan)
    suboptimal = np.zeros(N, dtype=bool)
    if rows.size:
        prof = _Profiler(res, name, log_scale, x, y, w, valid, weights is not None, bounds)
        grid = c[rows, None, None] + sign[None, :, None] * np.where(np.isfinite(offsets[rows]), offsets[rows], 0.0)
        rss_grid = prof.rss(rows, grid.reshape(rows.size, -1)).reshape(rows.size, 2, _GRID)
        suboptimal[rows] = np.any(rss_grid < rss_min[rows, None, None] * (1.0 - 1e-9) - 1e-300, axis=(1, 2))
        above = (rss_grid > thr[rows, None, None]) & side_ok[rows][:, :, None]
        found = above.any(axis=2)  # (n, 2)
        j = np.argmax(above, axis=2)
        outer_d = np.take_along_axis(offsets[rows], j[:, :, None], axis=2)[:, :, 0]
        inner_d = np.where(
            j > 0, np.take_along_axis(offsets[rows], np.maximum(j - 1, 0)[:, :, None], axis=2)[:, :, 0], 0.0
        )
        outer_r = np.take_along_axis(rss_grid, j[:, :, None], axis=2)[:, :, 0]
        inner_r = np.where(
            j > 0,
            np.take_along_axis(rss_grid, np.maximum(j - 1, 0)[:, :, None], axis=2)[:, :, 0],
            rss_min[rows, None],
        )
        d = _refine(
            prof, rows, c[rows], inner_d, outer_d, inner_r, outer_r, found, rss_min[rows], s2[rows], t[rows], xtol
        )
        limit[rows] = np.where(found, c[rows, None] + sign[None, :] * d, np.nan)
        low_found[rows] = found[:, 0]
        high_found[rows] = found[:, 1]
    low_int = np.where(low_found, limit[:, 0], -np.inf)  # exp(-inf) = 0 for concentrations
    high_int = np.where(high_found, limit[:, 1], np.inf)
    low = np.where(ok, _to_reported(log_scale, low_int), np.nan)
    high = np.where(ok, _to_reported(log_scale, high_int), np.nan)
    shape = res.shape
    return ProfileInterval(
        name=name,
        level=level,
        estimate=est.reshape(shape),
        low=low.reshape(shape),
        high=high.reshape(shape),
        low_found=low_found.reshape(shape),
        high_found=high_found.reshape(shape),
        threshold=np.where(ok, thr, np.nan).reshape(shape),
        suboptimal=suboptimal.reshape(shape),
        conc_unit=res.conc_unit if kind == "conc" else None,
    )


class _Profiler:
    """Batched fits of chosen curves with the profiled parameter held at given values."""

    def __init__(
        self,
        res: FitResult,
        name: str,
        log_scale: bool,
        x: FloatArray,
        y: FloatArray,
        w: FloatArray,
        valid: Any,
        weighted: bool,
        bounds: Mapping[str, tuple[Any, Any]] | None,
    ) -> None:
        self.res = res
        self.name = name
        self.log_scale = log_scale
        self.x = np.where(valid, x, np.nan)
        self.y = np.where(valid, y, np.nan)
        self.w = w if weighted else None
        xs = self.x
        self.shared_x = bool(np.all(valid)) and bool(np.all(xs == xs[:1])) if xs.shape[0] else False
        self.bounds = bounds
        self.others = {
            p: np.broadcast_to(np.asarray(res.params[p], dtype=np.float64), res.shape).reshape(-1) for p in res.fixed
        }

    def rss(self, rows: Any, values: FloatArray) -> FloatArray:
        """RSS at fixed internal values ``values`` (n, G) for curves ``rows`` (n,), in blocks of curves."""
        n, G = values.shape
        out = np.empty((n, G))
        step = max(1, _BLOCK_FITS // G)
        for start in range(0, n, step):
            sl = slice(start, start + step)
            out[sl] = self._rss_block(np.asarray(rows)[sl], values[sl])
        return out

    def _rss_block(self, rows: Any, values: FloatArray) -> FloatArray:
        n, G = values.shape
        m = self.y.shape[1]
        y = np.broadcast_to(self.y[rows][:, None, :], (n, G, m))
        x = self.x[0] if self.shared_x else np.broadcast_to(self.x[rows][:, None, :], (n, G, m))
        fixed: dict[str, Any] = {self.name: _to_reported(self.log_scale, values)}
        for p, v in self.others.items():
            fixed[p] = np.broadcast_to(v[rows][:, None], (n, G))
        w = None if self.w is None else np.broadcast_to(self.w[rows][:, None, :], (n, G, m))
        out = fit(x, y, model=self.res.family, conc_unit=self.res.conc_unit, fixed=fixed, bounds=self.bounds, weights=w)
        rss: FloatArray = np.asarray(out.rss, dtype=np.float64)
        return rss


def _refine(
    prof: _Profiler,
    rows: Any,
    c: FloatArray,
    d_in: FloatArray,
    d_out: FloatArray,
    r_in: FloatArray,
    r_out: FloatArray,
    found: Any,
    rss_min: FloatArray,
    s2: FloatArray,
    t: FloatArray,
    xtol: float,
) -> FloatArray:
    """Illinois regula falsi on g(d) = τ(d) − t between d_in (g < 0) and d_out (g > 0), per (curve, side)."""
    sign = np.array([-1.0, 1.0])

    def g(r: FloatArray, s2_: FloatArray, t_: FloatArray, rmin: FloatArray) -> FloatArray:
        with np.errstate(invalid="ignore", divide="ignore"):
            out: FloatArray = np.sqrt(np.maximum(r - rmin, 0.0) / s2_) - t_
        return out

    s2b = np.broadcast_to(s2[:, None], d_in.shape)
    tb = np.broadcast_to(t[:, None], d_in.shape)
    rb = np.broadcast_to(rss_min[:, None], d_in.shape)
    a, b = d_in.copy(), d_out.copy()
    ga, gb = g(r_in, s2b, tb, rb), g(r_out, s2b, tb, rb)
    ga = np.where(np.isfinite(ga), ga, -tb)
    side_a = np.zeros(a.shape, dtype=np.int8)
    best = np.where(found, b, np.nan)
    active = found & np.isfinite(gb) & (np.abs(b - a) > xtol)
    for _ in range(_MAX_REFINE):
        idx = np.argwhere(active)
        if idx.size == 0:
            break
        i, s = idx[:, 0], idx[:, 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            dn = b[i, s] - gb[i, s] * (b[i, s] - a[i, s]) / (gb[i, s] - ga[i, s])
        dn = np.where(np.isfinite(dn), dn, 0.5 * (a[i, s] + b[i, s]))
        lo_ab = np.minimum(a[i, s], b[i, s])
        hi_ab = np.maximum(a[i, s], b[i, s])
        dn = np.clip(dn, lo_ab, hi_ab)
        vals = (c[i] + sign[s] * dn)[:, None]
        r_new = prof.rss(rows[i], vals)[:, 0]
        g_new = g(r_new, s2b[i, s], tb[i, s], rb[i, s])
        g_new = np.where(np.isfinite(g_new), g_new, 0.0)
        pos = g_new > 0
        # replace the endpoint of the same sign; Illinois: halve the kept one's g when it is kept twice
        ai, si = i[pos], s[pos]
        b[ai, si], gb[ai, si] = dn[pos], g_new[pos]
        keep_a = side_a[ai, si] == 1
        ga[ai[keep_a], si[keep_a]] *= 0.5
        side_a[ai, si] = 1
        ni, ns = i[~pos], s[~pos]
        a[ni, ns], ga[ni, ns] = dn[~pos], g_new[~pos]
        keep_b = side_a[ni, ns] == -1
        gb[ni[keep_b], ns[keep_b]] *= 0.5
        side_a[ni, ns] = -1
        best[i, s] = dn
        done = (np.abs(b[i, s] - a[i, s]) <= xtol * np.maximum(1.0, np.abs(dn))) | (np.abs(g_new) <= 1e-9)
        active[i[done], s[done]] = False
    out: FloatArray = np.where(found, best, np.nan)
    return out


# ============================================================================ bands
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Band:
    """Pointwise confidence or prediction band of fitted curves.

    Attributes
    ----------
    conc : ndarray, shape (k,)
        Concentrations, in `conc_unit`.
    response, low, high : ndarray, shape (..., k)
        Fitted curve and band limits (batch shape of the fit, then `conc`).
    level : float
    kind : str
        ``"confidence"`` (where the true curve is) or ``"prediction"`` (where a
        new measurement falls).
    conc_unit : str
    """

    conc: FloatArray
    response: FloatArray
    low: FloatArray
    high: FloatArray
    level: float
    kind: str
    conc_unit: str

    def __post_init__(self) -> None:
        for name in ("conc", "response", "low", "high"):
            object.__setattr__(self, name, readonly(getattr(self, name)))


def bands(
    fit: FitResult | SharedFit,
    conc: Any,
    *,
    level: float = 0.95,
    kind: BandKind = "confidence",
    conc_unit: str | None = None,
) -> Band:
    """Confidence or prediction band of fitted curves at concentrations `conc` (for plotting).

    Parameters
    ----------
    fit : FitResult or SharedFit
        Fitted curves (SharedFit bands use the joint covariance of each curve
        and the pooled variance).
    conc : Quantity or array_like, shape (k,)
        Where to evaluate, any concentration unit (0 = vehicle).
    level : float, default 0.95
        Confidence level in (0, 1).
    kind : {"confidence", "prediction"}, default "confidence"
        Band for the curve itself, or for one new measurement (adds the
        residual variance ``s² = RSS/dof``; with a weighted fit, for a point of
        weight 1).
    conc_unit : str, optional
        Unit of a bare `conc` array.

    Returns
    -------
    Band
        Shapes ``batch + (k,)``.

    Raises
    ------
    ValueError
        `level` outside (0, 1), unknown `kind`.

    Notes
    -----
    Delta method: ``var f(x) = g(x)ᵀ C g(x)`` with ``g`` the model's Jacobian on
    the internal parameters and ``C`` their covariance; limits
    ``f ± t_{dof} sqrt(var [+ s²])``, pointwise (not simultaneous), as drc's
    ``predict(interval=)`` and Prism's bands.

    Examples
    --------
    >>> from mtor_pharm import compare as cmp
    >>> conc = mp.Q_([0.01, 0.03, 0.1, 0.3, 1, 3, 10], "uM")
    >>> res = mp.fit(conc, [99, 97, 88, 67, 36, 15, 5])
    >>> band = cmp.bands(res, mp.dilution_series("10 uM", factor=10, n=5))
    >>> bool(np.all(band.low < band.response)), bool(np.all(band.response < band.high))
    (True, True)
    """
    level = check_level(level)
    if kind not in ("confidence", "prediction"):
        raise ValueError(f"`kind` must be 'confidence' or 'prediction'; got {kind!r}.")
    if not isinstance(fit, FitResult | SharedFit):
        raise TypeError(f"`fit` must be a FitResult or SharedFit; got {type(fit).__name__}.")
    xq = conc_in(conc, fit.conc_unit, conc_unit=conc_unit)
    if xq.ndim != 1:
        raise ValueError(f"`conc` must be 1-D; got shape {xq.shape}.")
    p = len(fit.param_names)
    model = fit.family
    if isinstance(fit, SharedFit):
        k_c = fit.n_curves
        P = fit.fit_scale_params().reshape(-1, p)
        C = fit._internal_cov_diag().reshape(-1, p, p)
        dof = np.repeat(np.asarray(fit.dof).reshape(-1), k_c)
        s2 = np.repeat(np.asarray(fit.sigma).reshape(-1) ** 2, k_c)
        shape = (*fit.shape, k_c)
    else:
        P = fit.fit_scale_params().reshape(-1, p)
        C = fit.fit_scale_covariance().reshape(-1, p, p)
        dof = np.asarray(fit.dof).reshape(-1)
        s2 = np.asarray(fit.sigma).reshape(-1) ** 2
        shape = fit.shape
    free = np.array([name not in fit.fixed for name in fit.param_names])
    C = np.where(free[None, :, None] & free[None, None, :], C, 0.0)
    with np.errstate(divide="ignore"):
        lx = np.broadcast_to(np.log(xq)[None, :], (P.shape[0], xq.size))
    Pf = np.where(np.isfinite(P), P, 0.0)
    f, cols = model.evaluate(lx, Pf, jacobian=True)
    G = np.stack([np.broadcast_to(col, f.shape) for col in cols], axis=-1)
    G = np.where(np.isfinite(G), G, 0.0)
    var = np.einsum("nki,nij,nkj->nk", G, C, G)
    if kind == "prediction":
        var = var + s2[:, None]
    t = t_quantile(level, dof)[:, None]
    with np.errstate(invalid="ignore"):
        half = t * np.sqrt(var)
    bad = ~np.all(np.isfinite(P), axis=1)[:, None]
    f = np.where(bad, np.nan, f)
    return Band(
        conc=xq,
        response=f.reshape(*shape, xq.size),
        low=(f - half).reshape(*shape, xq.size),
        high=(f + half).reshape(*shape, xq.size),
        level=level,
        kind=kind,
        conc_unit=fit.conc_unit,
    )
