"""Global fits: several curves fitted jointly with chosen parameters shared."""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pint
from numpy.typing import ArrayLike, NDArray

from .._arrays import is_dataarray, readonly
from .._typing import BoolArray, FloatArray, IntArray, Quantity
from ..errors import ShapeError, UnitError
from ..fitting import ConfidenceInterval, FitStatus, fit
from ..fitting._quality import ambiguous
from ..fitting._result import _UNDETERMINED, InformationCriteria
from ..models import Model, get_model
from ..units import _registry, as_concentration
from ._common import LOG_PARAMS, check_level, check_percent, dataarray_data, log_icx_grad, response_array, t_quantile

__all__ = ["SharedFit", "fit_shared"]

_LOC_DECADES = 6.0
_HILL_MAX = 50.0
_LOG_S_MAX = math.log(1e3)
_DEC_TOL = 1e-15
_STALL_TOL = 1e-10
_LAM_MAX = 1e16


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SharedFit(InformationCriteria):
    """A global fit: ``k`` curves fitted jointly, some parameters shared.

    Every array carries the batch shape ``(...)`` of independent global fits,
    followed by the curve axis ``k`` where the quantity is per curve.

    Attributes
    ----------
    model : str
        Model family.
    param_names : tuple of str
        Reported parameter names, in model order.
    share : tuple of str
        Parameters common to all ``k`` curves of a global fit.
    fixed : tuple of str
        Parameters held fixed.
    labels : tuple
        Curve labels along the curve axis (indices ``0..k-1`` unless given by
        `groups` or the xarray dimension).
    params, stderr : mapping of str to ndarray, shape (..., k)
        Estimates and asymptotic standard errors per curve; a shared parameter
        repeats its one value on every curve.  Concentrations in `conc_unit`.
    covariance : ndarray, shape (..., k, p, k, p)
        Joint covariance ``s² (JᵀWJ)⁻¹`` of every curve's parameters (reported
        scale): ``covariance[..., i, a, j, b]`` is ``Cov(param a of curve i,
        param b of curve j)``.  ``s² = RSS / dof`` is the pooled residual
        variance of the global fit (drc's convention).
    rss : ndarray, shape (...)
        Residual sum of squares over all curves.
    n, dof : ndarray of int, shape (...)
        Points, and points minus free parameters, of each global fit.
    status : ndarray of uint8, shape (..., k)
        :class:`~mtor_pharm.FitStatus` bits per curve (convergence, bounds and
        too-few-points bits concern the whole global fit).
    conc_unit : str
        Unit of concentration parameters.
    conc_min, conc_max : ndarray, shape (..., k)
        Tested range of each curve.
    iterations : ndarray of int, shape (...)
        Levenberg–Marquardt iterations.
    """

    model: str
    param_names: tuple[str, ...]
    share: tuple[str, ...]
    fixed: tuple[str, ...]
    labels: tuple[Any, ...]
    params: Mapping[str, FloatArray]
    stderr: Mapping[str, FloatArray]
    covariance: FloatArray
    rss: FloatArray
    n: IntArray
    dof: IntArray
    status: NDArray[np.uint8]
    conc_unit: str
    conc_min: FloatArray
    conc_max: FloatArray
    iterations: IntArray
    _model: Model = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("params", "stderr"):
            value = getattr(self, name)
            object.__setattr__(self, name, MappingProxyType({k: readonly(v) for k, v in value.items()}))
        for name in ("covariance", "rss", "n", "dof", "status", "conc_min", "conc_max", "iterations"):
            object.__setattr__(self, name, readonly(getattr(self, name)))

    # ------------------------------------------------------------------ basics
    @property
    def shape(self) -> tuple[int, ...]:
        """Batch shape of the independent global fits (without the curve axis)."""
        return tuple(self.rss.shape)

    @property
    def n_curves(self) -> int:
        """Curves per global fit (``k``)."""
        return len(self.labels)

    @property
    def n_free(self) -> int:
        """Free parameters of one global fit."""
        per_curve = [p for p in self.param_names if p not in self.fixed and p not in self.share]
        shared = [p for p in self.param_names if p not in self.fixed and p in self.share]
        return len(shared) + self.n_curves * len(per_curve)

    @property
    def converged(self) -> NDArray[np.bool_]:
        """True where the global fit reached its least-squares optimum, shape (..., k)."""
        return readonly((self.status & FitStatus.NOT_CONVERGED) == 0)

    @property
    def sigma(self) -> FloatArray:
        """Pooled residual standard deviation ``sqrt(RSS / dof)``, shape (...)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out: FloatArray = np.sqrt(self.rss / np.where(self.dof > 0, self.dof, np.nan))
        return out

    def index(self, label: Any) -> int:
        """Position of a curve label on the curve axis.

        Examples
        --------
        >>> from mtor_pharm import compare as cmp
        >>> x = 10.0 / 3.0 ** np.arange(8)
        >>> y = mp.models.four_pl(x, 0, 100, np.array([[0.1], [1.0]]), 1.0)
        >>> sf = cmp.fit_shared(x, y, conc_unit="uM", share=("hill",))
        >>> sf.index(1)
        1
        """
        is_int = isinstance(label, int | np.integer) and not isinstance(label, bool)
        if is_int and label not in self.labels and -self.n_curves <= int(label) < self.n_curves:
            return int(label) % self.n_curves
        for i, lab in enumerate(self.labels):
            if lab == label:
                return i
        raise LookupError(f"curve label must be one of {list(self.labels)}; got {label!r}.")

    # ------------------------------------------------------------------ internal scale
    def _internal(self) -> FloatArray:
        """Internal ``(bottom, top, ln loc, hill[, ln s])``, shape (..., k, p)."""
        cols = []
        for name in self.param_names:
            v = np.asarray(self.params[name], dtype=np.float64)
            if name in LOG_PARAMS:
                with np.errstate(divide="ignore", invalid="ignore"):
                    v = np.log(v)
            cols.append(v)
        return np.stack(cols, axis=-1)

    def _scale(self) -> FloatArray:
        scale = np.ones((*self.shape, self.n_curves, len(self.param_names)))
        for i, name in enumerate(self.param_names):
            if name in LOG_PARAMS:
                scale[..., i] = self.params[name]
        return scale

    def _internal_cov(self) -> FloatArray:
        """Joint covariance of the internal parameters, shape (..., k, p, k, p)."""
        s = self._scale()
        with np.errstate(divide="ignore", invalid="ignore"):
            out: FloatArray = self.covariance / (s[..., :, :, None, None] * s[..., None, None, :, :])
        return out

    def _log_icx(self, q: float) -> tuple[FloatArray, FloatArray]:
        """ln ICx (shape (..., k)) and its gradient on the internal parameters (..., k, p)."""
        p = len(self.param_names)
        P = self._internal().reshape(-1, p)
        lx, grad = log_icx_grad(self._model, P, q)
        free = np.array([name not in self.fixed for name in self.param_names])
        grad = np.where(free[None, :], grad, 0.0)
        return lx.reshape(*self.shape, self.n_curves), grad.reshape(*self.shape, self.n_curves, p)

    def _quantity(self, values: ArrayLike) -> Quantity:
        arr = np.asarray(values, dtype=np.float64)
        return _registry().Quantity(arr, self.conc_unit)

    # ------------------------------------------------------------------ derived
    @property
    def ic50(self) -> Quantity:
        """Relative IC50 of every curve, shape (..., k), in `conc_unit`."""
        return self.icx(50)

    def icx(self, p: float) -> Quantity:
        """Relative ICx of every curve (``p`` percent), shape (..., k).

        NaN where the global fit did not converge or had too few points.
        """
        lx, _ = self._log_icx(check_percent(p))
        bad = (self.status & (FitStatus.NOT_CONVERGED | FitStatus.TOO_FEW_POINTS)) != 0
        with np.errstate(over="ignore"):
            return self._quantity(np.where(bad, np.nan, np.exp(lx)))

    def ci(self, name: str, *, level: float = 0.95) -> ConfidenceInterval:
        """Wald interval with the t distribution on the pooled ``dof``, per curve.

        Concentration parameters, ``s`` and ``"ic<p>"`` use the log scale, as
        :meth:`FitResult.ci`.

        Examples
        --------
        >>> from mtor_pharm import compare as cmp
        >>> x = 10.0 / 3.0 ** np.arange(8)
        >>> rng = np.random.default_rng(0)
        >>> y = mp.models.four_pl(x, 0, 100, np.array([[0.1], [1.0]]), 1.0) + rng.normal(0, 2, (2, 8))
        >>> low, high = cmp.fit_shared(x, y, conc_unit="uM").ci("ic50")
        >>> bool(np.all(low.magnitude < [0.1, 1.0])), bool(np.all(high.magnitude > [0.1, 1.0]))
        (True, True)
        """
        level = check_level(level)
        t = t_quantile(level, self.dof)[..., None]
        bad = (self.status & (FitStatus.NOT_CONVERGED | FitStatus.TOO_FEW_POINTS)) != 0
        if name.startswith("ic") and name not in self.params:
            try:
                q = check_percent(float(name[2:]), "name")
            except ValueError:
                q = math.nan
            if not math.isnan(q):
                lx, grad = self._log_icx(q)
                C = self._internal_cov()
                k = self.n_curves
                diag = np.stack([C[..., j, :, j, :] for j in range(k)], axis=-3)
                se = np.sqrt(np.einsum("...i,...ij,...j->...", grad, diag, grad))
                with np.errstate(over="ignore", invalid="ignore"):
                    low = np.where(bad, np.nan, np.exp(lx - t * se))
                    high = np.where(bad, np.nan, np.exp(lx + t * se))
                return ConfidenceInterval(self._quantity(low), self._quantity(high))
        if name not in self.params:
            known = ", ".join(repr(k) for k in (*self.param_names, "ic<p>"))
            raise KeyError(f"`name` must be one of {known}; got {name!r}.")
        est = np.asarray(self.params[name])
        se = np.asarray(self.stderr[name])
        if name in LOG_PARAMS:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                low = np.where(bad, np.nan, est * np.exp(-t * se / est))
                high = np.where(bad, np.nan, est * np.exp(t * se / est))
            if name == "s":
                return ConfidenceInterval(low, high)
            return ConfidenceInterval(self._quantity(low), self._quantity(high))
        return ConfidenceInterval(est - t * se, est + t * se)

    def __repr__(self) -> str:
        return (
            f"<SharedFit {self.model}: {int(np.prod(self.shape))} global fit(s) of {self.n_curves} curves, "
            f"shared {list(self.share)}; unit {self.conc_unit}>"
        )


# ============================================================================ input handling
def _from_dataarray(data: Any, dim: Any, over: Any) -> tuple[Any, FloatArray, tuple[Any, ...]]:
    """(conc Quantity, responses (..., k, m), labels) from a DataArray."""
    if dim is None or over is None:
        raise TypeError("With an xarray.DataArray, `dim` (concentrations) and `over` (curves) must both be given.")
    if over not in data.dims:
        raise ShapeError(f"`over` must be a dimension of the data; got {over!r}, dimensions {tuple(data.dims)}.")
    if dim == over:
        raise ValueError(f"`dim` and `over` must be different dimensions; got {dim!r} for both.")
    q, y = dataarray_data(data, dim, first=(over,))
    labels = tuple(data.coords[over].values.tolist()) if over in data.coords else tuple(range(data.sizes[over]))
    return q, y, labels


def _from_groups(
    conc: Any, response: Any, groups: Any, weights: Any, conc_unit: str | None
) -> tuple[FloatArray, Any, FloatArray, FloatArray | None, tuple[Any, ...]]:
    x, unit = as_concentration(conc, conc_unit=conc_unit)
    y = response_array(response)
    g = np.asarray(groups)
    if not (x.ndim == 1 and y.ndim == 1 and g.ndim == 1 and x.shape == y.shape == g.shape):
        raise ShapeError(
            "With `groups`, `conc`, `response` and `groups` must be 1-D and of equal length (one entry per point); "
            f"got shapes {x.shape}, {y.shape} and {g.shape}."
        )
    w = None if weights is None else np.broadcast_to(np.asarray(weights, dtype=np.float64), y.shape)
    uniq, first, inverse = np.unique(g, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    cid = rank[inverse.reshape(-1)]
    k = uniq.size
    counts = np.bincount(cid, minlength=k)
    m = int(counts.max())
    pos = np.zeros(y.size, dtype=np.int64)
    for j in range(k):  # k is the number of curves of one global fit: small
        sel = np.flatnonzero(cid == j)
        pos[sel] = np.arange(sel.size)
    X = np.full((k, m), np.nan)
    Y = np.full((k, m), np.nan)
    X[cid, pos] = x
    Y[cid, pos] = y
    W = None
    if w is not None:
        W = np.zeros((k, m))
        W[cid, pos] = w
    labels = tuple(uniq[order].tolist())
    return X, unit, Y, W, labels


# ============================================================================ the solver
@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the all-NaN warnings of nan-reductions over curves without data."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _solve(M: FloatArray, v: FloatArray) -> FloatArray:
    try:
        return np.asarray(np.linalg.solve(M, v[..., None])[..., 0], dtype=np.float64)
    except np.linalg.LinAlgError:
        res = np.full(v.shape, np.nan)
        for i in range(M.shape[0]):
            try:
                res[i] = np.linalg.solve(M[i], v[i])
            except np.linalg.LinAlgError:
                res[i] = np.linalg.lstsq(M[i], v[i], rcond=None)[0]
        return res


def _inverse(A: FloatArray) -> FloatArray:
    out = np.full(A.shape, np.nan)
    for i in range(A.shape[0]):
        d = np.sqrt(np.abs(np.diag(A[i])))
        if not np.all(np.isfinite(A[i])) or np.any(d == 0):
            continue
        S = A[i] / d[:, None] / d[None, :]  # equilibrated
        if np.linalg.cond(S) > 1e14:
            continue
        out[i] = np.linalg.inv(S) / d[:, None] / d[None, :]
    return out


class _Problem:
    """The stacked least-squares problem of a batch of global fits."""

    def __init__(
        self, model: Model, lx: FloatArray, y: FloatArray, sw: FloatArray, P_fixed: FloatArray, idx: IntArray
    ) -> None:
        self.model = model
        self.lx, self.y, self.sw = lx, y, sw  # (B, k, m)
        self.P_fixed = P_fixed  # (B, k, p)
        self.idx = idx  # (k, p): column of theta, -1 when fixed
        self.free = [a for a in range(idx.shape[1]) if idx[0, a] >= 0]
        self.Q = int(idx.max()) + 1 if idx.size and idx.max() >= 0 else 0

    def unpack(self, theta: FloatArray, rows: IntArray) -> FloatArray:
        P = self.P_fixed[rows].copy()
        for a in self.free:
            P[:, :, a] = theta[:, self.idx[:, a]]
        return P

    def residuals(self, theta: FloatArray, rows: IntArray, jac: bool) -> tuple[FloatArray, FloatArray | None]:
        P = self.unpack(theta, rows)
        b, k, m = self.y[rows].shape
        p = P.shape[-1]
        f, cols = self.model.evaluate(self.lx[rows].reshape(b * k, m), P.reshape(b * k, p), jacobian=jac)
        sw = self.sw[rows]
        with np.errstate(invalid="ignore", over="ignore"):
            r = np.where(sw > 0, sw * (self.y[rows] - f.reshape(b, k, m)), 0.0)
        if not jac:
            return r, None
        G = np.stack([cols[a].reshape(b, k, m) for a in self.free], axis=-1)
        with np.errstate(invalid="ignore", over="ignore"):
            G = np.where(sw[..., None] > 0, G * sw[..., None], 0.0)
        return r, G

    def normal(self, G: FloatArray, r: FloatArray) -> tuple[FloatArray, FloatArray]:
        b = G.shape[0]
        Nm = np.einsum("bkmi,bkmj->bkij", G, G)
        gv = np.einsum("bkmi,bkm->bki", G, r)
        Q = self.Q
        A = np.zeros((b, Q, Q))
        g = np.zeros((b, Q))
        base = np.arange(b)[:, None]
        A_flat = A.reshape(-1)  # views: np.add.at accumulates repeated (shared) columns
        g_flat = g.reshape(-1)
        for ii, a in enumerate(self.free):
            ia = self.idx[:, a][None, :]
            np.add.at(g_flat, (base * Q + ia).ravel(), gv[:, :, ii].ravel())
            for jj, c in enumerate(self.free):
                flat = base * (Q * Q) + ia * Q + self.idx[:, c][None, :]
                np.add.at(A_flat, flat.ravel(), Nm[:, :, ii, jj].ravel())
        return A, g


def _lm(
    prob: _Problem, theta: FloatArray, lo: FloatArray, hi: FloatArray, active: BoolArray, max_iter: int
) -> tuple[FloatArray, FloatArray, BoolArray, IntArray, FloatArray]:
    """Batched Levenberg–Marquardt with projection on box bounds; returns
    ``(theta, rss, converged, iterations, A)``."""
    B, Q = theta.shape
    theta = np.clip(theta, lo, hi)
    rows_all = np.arange(B)
    r, G = prob.residuals(theta, rows_all, True)
    assert G is not None
    cost = (r**2).sum(axis=(1, 2))
    A, g = prob.normal(G, r)
    scale = (prob.sw**2 * np.where(prob.sw > 0, prob.y, 0.0) ** 2).sum(axis=(1, 2)) + 1.0
    lam = np.full(B, 1e-3)
    nu = np.full(B, 2.0)
    done = ~active | ~np.isfinite(cost)
    converged = np.zeros(B, dtype=bool)
    iterations = np.zeros(B, dtype=np.int64)
    eye = np.eye(Q)
    for _ in range(max_iter):
        rows = np.flatnonzero(~done)
        if rows.size == 0:
            break
        iterations[rows] += 1
        th, Ar, gr = theta[rows], A[rows], g[rows]
        tol_b = 1e-12 * np.maximum(np.abs(th), 1.0)
        frozen = ((th >= hi[rows] - tol_b) & (gr > 0)) | ((th <= lo[rows] + tol_b) & (gr < 0))
        keep = ~frozen
        Am = np.where(keep[:, :, None] & keep[:, None, :], Ar, 0.0) + np.where(frozen, 1.0, 0.0)[:, :, None] * eye
        gm = np.where(keep, gr, 0.0)
        D = np.diagonal(Am, axis1=1, axis2=2).copy()
        D = np.maximum(D, 1e-12 * D.max(axis=1, keepdims=True) + 1e-300)
        # convergence: Gauss-Newton decrement on the parameters not held at a bound
        step_gn = _solve(Am + 1e-12 * D[:, :, None] * eye, gm)
        dec = np.einsum("bi,bi->b", gm, step_gn)
        floor = 1e-28 * scale[rows]
        ok = np.isfinite(dec) & (dec <= _DEC_TOL * cost[rows] + floor)
        if ok.any():
            done[rows[ok]] = True
            converged[rows[ok]] = True
        rows, th, Am, gm, D = rows[~ok], th[~ok], Am[~ok], gm[~ok], D[~ok]
        if rows.size == 0:
            break
        step = _solve(Am + lam[rows][:, None, None] * D[:, :, None] * eye, gm)
        trial = np.clip(th + step, lo[rows], hi[rows])
        step = trial - th
        r_t, _ = prob.residuals(trial, rows, False)
        cost_t = (r_t**2).sum(axis=(1, 2))
        pred = 2.0 * np.einsum("bi,bi->b", step, gm) - np.einsum("bi,bij,bj->b", step, Am, step)
        with np.errstate(invalid="ignore", divide="ignore"):
            rho = (cost[rows] - cost_t) / pred
        accept = np.isfinite(cost_t) & (cost_t < cost[rows])
        acc = rows[accept]
        if acc.size:
            theta[acc] = trial[accept]
            cost[acc] = cost_t[accept]
            r_a, G_a = prob.residuals(theta[acc], acc, True)
            assert G_a is not None
            A[acc], g[acc] = prob.normal(G_a, r_a)
            rho_a = np.where(np.isfinite(rho[accept]), rho[accept], 0.0)
            lam[acc] *= np.maximum(1.0 / 3.0, 1.0 - (2.0 * rho_a - 1.0) ** 3)
            nu[acc] = 2.0
        rej = rows[~accept]
        if rej.size:
            lam[rej] *= nu[rej]
            nu[rej] *= 2.0
            stalled = rej[lam[rej] > _LAM_MAX]
            if stalled.size:
                done[stalled] = True
                dec_s = dec[~ok][~accept][lam[rej] > _LAM_MAX]
                converged[stalled] = dec_s <= _STALL_TOL * cost[stalled] + 1e-28 * scale[stalled]
    return theta, cost, converged, iterations, A


# ============================================================================ public function
def fit_shared(
    conc: Any,
    response: ArrayLike | None = None,
    *,
    share: Sequence[str] = ("hill", "top", "bottom"),
    axis: int = -2,
    groups: ArrayLike | None = None,
    dim: Any = None,
    over: Any = None,
    model: str | Model = "4pl",
    conc_unit: str | None = None,
    fixed: Mapping[str, Any] | None = None,
    weights: ArrayLike | None = None,
    max_iter: int = 200,
) -> SharedFit:
    """Fit several curves jointly, with the parameters named in `share` common to all of them.

    Three ways to say which curves form one global fit:

    - arrays: `response` of shape ``(..., m)``; the curves of one global fit lie
      along `axis` (default ``-2``, the axis before the concentrations); every
      other batch index is a separate global fit, all solved together;
    - ``groups=``: tidy data, `conc`, `response` and `groups` 1-D with one entry
      per point; the curves are the distinct group labels (drc's ``curveid``);
    - xarray: `conc` is a DataArray of responses with a concentration coordinate
      `dim` (carrying ``attrs["units"]``); the curves lie along dimension `over`.

    Parameters
    ----------
    conc : Quantity, array_like or xarray.DataArray
        Concentrations, shape ``(m,)`` or that of `response` (NaN-padded ragged
        designs); or a DataArray of responses (with `dim` and `over`).
    response : array_like, optional
        Responses; NaN marks a missing point.
    share : sequence of str, default ("hill", "top", "bottom")
        Parameters common to the curves of a global fit; the others are
        estimated per curve.  ``()`` fits the curves separately (with a pooled
        variance); adding ``"ic50"`` gives the model of equal potency.
    axis : int, default -2
        Axis of `response` along which curves share parameters (not the last).
    groups : array_like, optional
        Curve label of every point (tidy data).
    dim, over : hashable, optional
        With a DataArray: the concentration dimension and the curve dimension.
    model : str, default "4pl"
        As in :func:`mtor_pharm.fit`.
    conc_unit : str, optional
        Unit of a bare `conc` array.
    fixed : mapping, optional
        Fixed parameters; values scalar or broadcastable to the per-curve shape
        ``(..., k)`` of the result.
    weights : array_like, optional
        Per-point weights (RSS = Σ w·r²), broadcastable to `response`.
    max_iter : int, default 200
        Levenberg–Marquardt iterations.

    Returns
    -------
    SharedFit

    Raises
    ------
    ShapeError
        Shapes that do not fit together, `axis` on the concentration axis.
    UnitError
        Concentrations without a unit.
    ValueError
        Unknown parameter names in `share` or `fixed`; a shared parameter fixed
        to different values on different curves.

    Notes
    -----
    The stacked problem (all curves of a global fit, parameters on the internal
    scale ``(bottom, top, ln ic50, hill[, ln s])``) is solved by a batched
    Levenberg–Marquardt written over the block structure of the Jacobian, from
    starts given by separate fits (shared parameters start at the median).
    Dense normal equations of size ``n_free × n_free`` per global fit make it
    fast for many small global fits (thousands of pairs or triples in one call)
    and fine up to a few hundred curves per global fit.  Standard errors use the
    pooled residual variance ``RSS / (n − n_free)`` of the global fit, as drc's
    ``drm`` with ``curveid``.

    Examples
    --------
    >>> from mtor_pharm import compare as cmp
    >>> x = 10.0 / 3.0 ** np.arange(8)                       # uM
    >>> true_ic50 = np.array([[0.05], [0.5]])                 # two inhibitors
    >>> rng = np.random.default_rng(1)
    >>> y = mp.models.four_pl(x, 5, 100, true_ic50, 1.2) + rng.normal(0, 2, (2, 8))
    >>> sf = cmp.fit_shared(x, y, conc_unit="uM", share=("hill", "top", "bottom"))
    >>> sf.ic50.magnitude.round(2).tolist(), float(sf.params["hill"][0]) == float(sf.params["hill"][1])
    ([0.05, 0.5], True)
    """
    labels: tuple[Any, ...]
    W_in: Any = weights
    if is_dataarray(conc):
        if response is not None:
            raise TypeError("`response` must be None when `conc` is an xarray.DataArray of responses.")
        if groups is not None:
            raise TypeError("`groups` cannot be combined with a DataArray; the curves lie along `over`.")
        q, Y, labels = _from_dataarray(conc, dim, over)
        X, unit = as_concentration(q)
        if weights is not None:
            raise TypeError("`weights` are not supported with a DataArray yet; pass numpy arrays.")
    elif groups is not None:
        if response is None:
            raise TypeError("fit_shared() missing `response`.")
        X, unit, Y, W_in, labels = _from_groups(conc, response, groups, weights, conc_unit)
    else:
        if response is None:
            raise TypeError("fit_shared() missing `response`: pass fit_shared(conc, response) or a DataArray.")
        X, unit = as_concentration(conc, conc_unit=conc_unit)
        Y0 = response_array(response)
        if Y0.ndim < 2:
            raise ShapeError(f"`response` must have a curve axis and a concentration axis; got shape {Y0.shape}.")
        if isinstance(axis, bool) or not isinstance(axis, int | np.integer) or not -Y0.ndim <= axis < Y0.ndim:
            raise ShapeError(f"`axis` must be an axis of `response` (ndim {Y0.ndim}); got {axis!r}.")
        ax = int(axis) % Y0.ndim
        if ax == Y0.ndim - 1:
            raise ShapeError("`axis` must index curves, not the last (concentration) axis of `response`.")
        if X.ndim not in (1, Y0.ndim):
            raise ShapeError(
                f"`conc` must be 1-D (shared) or have the dimensions of `response`; "
                f"got shapes {X.shape} and {Y0.shape}."
            )
        Y = np.moveaxis(Y0, ax, -2)
        if X.ndim > 1:
            X = np.moveaxis(X, ax, -2)
        if weights is not None:
            w_arr = np.asarray(weights, dtype=np.float64)
            try:
                W_in = np.moveaxis(np.broadcast_to(w_arr, Y0.shape), ax, -2)
            except ValueError:
                raise ShapeError(f"`weights` of shape {w_arr.shape} must broadcast to `response` {Y0.shape}.") from None
        labels = tuple(range(Y.shape[-2]))
    return _fit_shared_arrays(X, unit, Y, W_in, labels, share, model, fixed, max_iter)


def _fit_shared_arrays(
    X: FloatArray,
    unit: Any,
    Y: FloatArray,
    W_in: Any,
    labels: tuple[Any, ...],
    share: Sequence[str],
    model: str | Model,
    fixed: Mapping[str, Any] | None,
    max_iter: int,
) -> SharedFit:
    m = get_model(model)
    names = m.param_names
    p = len(names)
    if isinstance(share, str) or not isinstance(share, Sequence):
        raise TypeError(f"`share` must be a sequence of parameter names, e.g. ('hill',); got {share!r}.")
    unknown = [s for s in share if s not in names]
    if unknown:
        raise ValueError(f"`share` names unknown parameter(s) {unknown} for model {m.name!r}; known: {list(names)}.")
    if fixed is not None and not isinstance(fixed, Mapping):
        raise TypeError(f"`fixed` must be a mapping of parameter name to value; got {type(fixed).__name__}.")
    fixed_d = {**m.default_fixed, **(dict(fixed) if fixed else {})}
    unknown = [s for s in fixed_d if s not in names]
    if unknown:
        raise ValueError(f"`fixed` names unknown parameter(s) {unknown} for model {m.name!r}; known: {list(names)}.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"`max_iter` must be a positive integer; got {max_iter!r}.")
    if np.isinf(X).any():
        raise ValueError("`conc` must be finite.")
    with np.errstate(invalid="ignore"):
        if (X < 0).any():
            raise ValueError(f"`conc` must be non-negative (0 marks vehicle; "
                f"log10 values: use mp.units.from_log10); got {X[X < 0][0]} {unit!s}.")
    k, n_pts = Y.shape[-2], Y.shape[-1]
    if X.shape[-1] != n_pts:
        raise ShapeError(f"`conc` and `response` must have the same last axis; got {X.shape[-1]} and {n_pts}.")
    try:
        full = np.broadcast_shapes(X.shape, Y.shape)
    except ValueError:
        raise ShapeError(f"`conc` of shape {X.shape} does not broadcast to `response` {Y.shape}.") from None
    batch = full[:-2]
    B = math.prod(batch)
    Xb = np.broadcast_to(X, full).reshape(B, k, n_pts)
    Yb = np.broadcast_to(Y, full).reshape(B, k, n_pts)
    if W_in is None:
        Wb = np.ones((B, k, n_pts))
    else:
        Wb = np.broadcast_to(np.asarray(W_in, dtype=np.float64), full).reshape(B, k, n_pts)
        if not np.all(np.isfinite(Wb) & (Wb >= 0)):
            raise ValueError("`weights` must be finite and non-negative.")
    nan_x = np.isnan(Xb) & ~np.isnan(Yb)
    if nan_x.any():
        raise ValueError("`conc` is NaN where `response` is measured; NaN concentrations may only pad ragged designs.")
    valid = ~np.isnan(Yb) & ~np.isnan(Xb)
    unit_str = str(unit)

    # fixed values on the internal scale, shape (B, k)
    fixed_int: dict[str, FloatArray] = {}
    for name, value in fixed_d.items():
        if name in ("ic50", "xmid") and isinstance(value, pint.Quantity | str):
            mag, u = as_concentration(value, name=f"fixed[{name!r}]")
            arr = mag * float(_registry().Quantity(1.0, u).to(unit).magnitude)
        elif isinstance(value, pint.Quantity | str):
            raise UnitError(f"`fixed[{name!r}]` must be a plain number; got {value!r}.")
        else:
            arr = np.asarray(value, dtype=np.float64)
        try:
            arr_b = np.broadcast_to(arr, (*batch, k)).reshape(B, k)
        except ValueError:
            raise ShapeError(
                f"`fixed[{name!r}]` of shape {np.shape(arr)} must broadcast to the per-curve shape {(*batch, k)}."
            ) from None
        if np.isnan(arr_b).any():
            raise ValueError(f"`fixed[{name!r}]` must not be NaN.")
        if name in LOG_PARAMS:
            if (arr_b <= 0).any():
                raise ValueError(f"`fixed[{name!r}]` must be positive; got {value!r}.")
            arr_b = np.log(arr_b)
        if name in share and not np.all(arr_b == arr_b[:, :1]):
            raise ValueError(f"`share` names {name!r}, which `fixed` sets to different values on different curves.")
        fixed_int[name] = arr_b
    share_t = tuple(s for s in names if s in share)
    fixed_t = tuple(s for s in names if s in fixed_d)

    # parameter layout: shared free parameters first, then per-curve blocks
    idx = np.full((k, p), -1, dtype=np.int64)
    col = 0
    for a, name in enumerate(names):
        if name in share_t and name not in fixed_d:
            idx[:, a] = col
            col += 1
    per_curve = [a for a, name in enumerate(names) if name not in share_t and name not in fixed_d]
    for j in range(k):
        for a in per_curve:
            idx[j, a] = col
            col += 1
    Q = col

    # tested ranges
    with np.errstate(divide="ignore"):
        lxv = np.where(valid & (Xb > 0), np.log(np.where(valid & (Xb > 0), Xb, 1.0)), np.nan)
    with _quiet():
        lx_lo = np.nanmin(lxv, axis=2)
        lx_hi = np.nanmax(lxv, axis=2)
    n_curve = valid.sum(axis=2)
    n_total = n_curve.sum(axis=1)
    fittable = (n_total > Q) & np.all((n_curve >= len(per_curve)) & np.isfinite(lx_lo), axis=1)

    # starts from separate fits (one batched call)
    sep = fit(
        np.where(valid, Xb, np.nan).reshape(B * k, n_pts),
        np.where(valid, Yb, np.nan).reshape(B * k, n_pts),
        model=m,
        conc_unit=unit_str,
        fixed={name: (np.exp(v) if name in LOG_PARAMS else v).reshape(B * k) for name, v in fixed_int.items()} or None,
        weights=None if W_in is None else Wb.reshape(B * k, n_pts),
    )
    P_sep = np.stack(
        [
            np.log(np.asarray(sep.params[name])) if name in LOG_PARAMS else np.asarray(sep.params[name])
            for name in names
        ],
        axis=-1,
    ).reshape(B, k, p)
    with _quiet():
        yv = np.where(valid, Yb, np.nan)
        defaults = np.stack(
            [
                np.nanmin(yv, axis=2),
                np.nanmax(yv, axis=2),
                0.5 * (lx_lo + lx_hi),
                np.ones((B, k)),
                *([np.zeros((B, k))] if m.has_s else []),
            ],
            axis=-1,
        )
    P0 = np.where(np.isfinite(P_sep), P_sep, defaults)
    P0 = np.where(np.isfinite(P0), P0, 0.0)
    P_fixed = np.zeros((B, k, p))
    for a, name in enumerate(names):
        if name in fixed_int:
            P_fixed[:, :, a] = fixed_int[name]
    lo = np.full((B, Q), -np.inf)
    hi = np.full((B, Q), np.inf)
    with _quiet():
        dec = _LOC_DECADES * math.log(10.0)
        for a, name in enumerate(names):
            if name in fixed_d:
                continue
            if a == 2:
                lo_a, hi_a = lx_lo - dec, lx_hi + dec
            elif a == 3:
                lo_a, hi_a = np.full((B, k), -_HILL_MAX), np.full((B, k), _HILL_MAX)
            elif a == 4:
                lo_a, hi_a = np.full((B, k), -_LOG_S_MAX), np.full((B, k), _LOG_S_MAX)
            else:
                lo_a, hi_a = np.full((B, k), -np.inf), np.full((B, k), np.inf)
            if name in share_t:
                lo[:, idx[0, a]] = np.nanmin(lo_a, axis=1)
                hi[:, idx[0, a]] = np.nanmax(hi_a, axis=1)
            else:
                lo[:, idx[:, a]] = lo_a
                hi[:, idx[:, a]] = hi_a
    lo = np.where(np.isnan(lo), -np.inf, lo)
    hi = np.where(np.isnan(hi), np.inf, hi)

    def start(shared_values: FloatArray, per_curve: FloatArray) -> FloatArray:
        """theta from shared values (B, p) and per-curve values (B, k, p)."""
        theta = np.zeros((B, Q))
        for a, name in enumerate(names):
            if name in fixed_d:
                continue
            if name in share_t:
                theta[:, idx[0, a]] = shared_values[:, a]
            else:
                theta[:, idx[:, a]] = per_curve[:, :, a]
        return np.where(np.isfinite(theta), theta, 0.0)

    with _quiet():
        median = np.nanmedian(P0, axis=1)
    starts = [start(median, P0)]
    # the pooled fit (every parameter shared) is a coherent second start, alone and under the separate fits
    pooled_fixed: dict[str, FloatArray] = {}
    constant = True
    for name, v in fixed_int.items():
        constant &= bool(np.all(v == v[:, :1]))
        pooled_fixed[name] = np.exp(v[:, 0]) if name in LOG_PARAMS else v[:, 0]
    if constant and k > 1:
        pooled = fit(
            np.where(valid, Xb, np.nan).reshape(B, k * n_pts),
            np.where(valid, Yb, np.nan).reshape(B, k * n_pts),
            model=m,
            conc_unit=unit_str,
            fixed=pooled_fixed or None,
            weights=None if W_in is None else Wb.reshape(B, k * n_pts),
        )
        P_pool = np.stack(
            [
                np.log(np.asarray(pooled.params[name])) if name in LOG_PARAMS else np.asarray(pooled.params[name])
                for name in names
            ],
            axis=-1,
        ).reshape(B, p)
        P_pool = np.where(np.isfinite(P_pool), P_pool, median)
        starts += [start(P_pool, np.broadcast_to(P_pool[:, None, :], (B, k, p))), start(P_pool, P0)]

    with np.errstate(divide="ignore"):
        lx = np.where(valid, np.log(np.where(valid, Xb, 1.0)), 0.0)
    prob = _Problem(m, lx, np.where(valid, Yb, 0.0), np.sqrt(np.where(valid, Wb, 0.0)), P_fixed, idx)
    theta, rss, converged, iterations, A = _lm(prob, starts[0], lo, hi, fittable, max_iter)
    for theta0 in starts[1:]:
        th2, rss2, conv2, it2, A2 = _lm(prob, theta0, lo, hi, fittable, max_iter)
        better = np.isfinite(rss2) & ~(rss2 >= rss * (1.0 - 1e-12))
        theta[better], rss[better], converged[better], A[better] = th2[better], rss2[better], conv2[better], A2[better]
        iterations += it2

    # covariance s^2 A^-1 on theta, expanded to (B, k, p, k, p) on the reported scale
    dof = n_total - Q
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = np.where(dof > 0, rss / np.maximum(dof, 1), np.nan)
    C = _inverse(A) * s2[:, None, None] if Q else np.zeros((B, 0, 0))
    P = prob.unpack(theta, np.arange(B))
    report = P.copy()
    dscale = np.ones((B, k, p))
    for a, name in enumerate(names):
        if name in LOG_PARAMS:
            with np.errstate(over="ignore"):
                report[:, :, a] = np.exp(P[:, :, a])
            dscale[:, :, a] = report[:, :, a]
    cov = np.zeros((B, k, p, k, p))
    free_a = [a for a in range(p) if idx[0, a] >= 0]
    for a in free_a:
        for b in free_a:
            cov[:, :, a, :, b] = C[:, idx[:, a][:, None], idx[:, b][None, :]]
    cov *= dscale[:, :, :, None, None] * dscale[:, None, None, :, :]

    # statuses
    status = np.zeros((B, k), dtype=np.uint8)
    status |= np.where(~fittable, FitStatus.TOO_FEW_POINTS, 0).astype(np.uint8)[:, None]
    status |= np.where(fittable & ~converged, FitStatus.NOT_CONVERGED, 0).astype(np.uint8)[:, None]
    tol_b = 1e-9 * np.maximum(np.abs(theta), 1.0)
    at_bound = ((theta <= lo + tol_b) | (theta >= hi - tol_b)).any(axis=1) if Q else np.zeros(B, dtype=bool)
    status |= np.where(fittable & at_bound, FitStatus.AT_BOUND, 0).astype(np.uint8)[:, None]
    bad = ~fittable
    report[bad] = np.where(np.isin(np.arange(p), free_a)[None, :], np.nan, report[bad])
    cov[bad] = np.nan
    rss = np.where(fittable, rss, np.nan)
    with np.errstate(over="ignore"):
        conc_min, conc_max = np.exp(lx_lo), np.exp(lx_hi)
    lx50, _ = log_icx_grad(m, np.where(np.isfinite(P), P, np.nan).reshape(B * k, p), 0.5)
    with np.errstate(over="ignore", invalid="ignore"):
        ic50 = np.exp(lx50.reshape(B, k))
        outside = fittable[:, None] & np.isfinite(ic50) & ((ic50 < conc_min) | (ic50 > conc_max))
    status |= np.where(outside, FitStatus.IC50_OUTSIDE_RANGE, 0).astype(np.uint8)

    params = {name: report[:, :, a].reshape(*batch, k) for a, name in enumerate(names)}
    idx_diag = np.arange(k)
    var = cov[:, idx_diag, :, idx_diag, :]  # (k, B, p, p)
    # the ambiguity rule of mp.fit (#14), per curve on its marginal covariance
    free_mask = np.isin(np.arange(p), free_a)
    for i in range(k):
        with np.errstate(invalid="ignore"):
            se_i = np.sqrt(np.einsum("baa->ba", var[i]))
        determined = (status[:, i] & _UNDETERMINED) == 0
        vague = ambiguous(names, free_mask, report[:, i, :], se_i, var[i], dof, determined)
        status[:, i] |= np.where(vague, FitStatus.AMBIGUOUS, 0).astype(np.uint8)
    stderr = {
        name: np.sqrt(np.maximum(np.moveaxis(var[:, :, a, a], 0, 1), 0.0)).reshape(*batch, k)
        for a, name in enumerate(names)
    }
    for name in names:
        if name in fixed_d:
            stderr[name] = np.broadcast_to(np.where(bad, np.nan, 0.0)[:, None], (B, k)).reshape(*batch, k)
    return SharedFit(
        model=m.name,
        param_names=names,
        share=share_t,
        fixed=fixed_t,
        labels=labels,
        params=params,
        stderr=stderr,
        covariance=cov.reshape(*batch, k, p, k, p),
        rss=rss.reshape(batch),
        n=n_total.reshape(batch),
        dof=dof.reshape(batch),
        status=status.reshape(*batch, k),
        conc_unit=str(sep.conc_unit),
        conc_min=conc_min.reshape(*batch, k),
        conc_max=conc_max.reshape(*batch, k),
        iterations=iterations.reshape(batch),
        _model=m,
    )
