"""One status policy: the decision rules behind the :class:`FitStatus` bits, as pure numpy.

Every rule here is the one the compiled per-curve path applies (``_kernels.finish`` /
``finish_flat`` and ``_api._assemble``), written once over arrays so that every other
path (global fits today) decides the same way on the same numbers:

* :func:`fittable` -- ``TOO_FEW_POINTS``: more points than free parameters and at least as
  many distinct concentrations (vehicle counts as one);
* :func:`at_bound` -- ``AT_BOUND``: a free parameter within ``1e-9·max(|v|, 1)`` of a bound;
* :func:`runaway` -- ``NOT_CONVERGED`` for plateaus more than ``1e3`` response ranges apart
  (the least-squares infimum lies at infinity);
* :func:`flat_pvalue` / :func:`flat` -- ``FLAT_RESPONSE``: the extra-sum-of-squares F test
  against a flat line, ``alpha = 0.05``;
* :func:`outside_range` -- ``IC50_OUTSIDE_RANGE`` where the IC50 is determined;
* :func:`undetermined_estimates` -- a flat fit that did not converge, or a runaway one,
  has no estimates.

The thresholds are the engine's own (imported from ``_api``, not copied).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from .._typing import BoolArray, FloatArray
from ._api import _DEGENERATE_SPAN, _F_ALPHA, _TINY_RANGE
from ._result import _UNDETERMINED, FitStatus

__all__ = [
    "AT_BOUND_RTOL",
    "at_bound",
    "combine",
    "fittable",
    "flat",
    "flat_pvalue",
    "outside_range",
    "runaway",
    "undetermined_estimates",
]

#: A free parameter this close (relative to ``max(|v|, 1)``) to a bound is ``AT_BOUND``.
AT_BOUND_RTOL = 1e-9
#: Sum of squares about the mean below which a response is constant (p-value 1).
_CONSTANT_SS = 1e-300


def fittable(npts: ArrayLike, distinct: ArrayLike, q: ArrayLike) -> BoolArray:
    """Whether data determine `q` free parameters and leave a residual degree of freedom:
    ``npts > q`` and ``distinct >= q`` (``TOO_FEW_POINTS`` where False)."""
    n, d, qq = np.asarray(npts), np.asarray(distinct), np.asarray(q)
    return np.asarray((n > qq) & (d >= qq))


def at_bound(P: ArrayLike, lo: ArrayLike, hi: ArrayLike) -> BoolArray:
    """Elementwise: a (free) parameter on or within ``AT_BOUND_RTOL·max(|v|, 1)`` of a bound."""
    v, lo_a, hi_a = (np.asarray(a, dtype=np.float64) for a in (P, lo, hi))
    tol = AT_BOUND_RTOL * np.maximum(np.abs(v), 1.0)
    with np.errstate(invalid="ignore"):
        return np.asarray((v <= lo_a + tol) | (v >= hi_a - tol))


def runaway(bottom: ArrayLike, top: ArrayLike, yrange: ArrayLike) -> BoolArray:
    """Plateaus more than ``1e3`` response ranges apart: a degenerate fit (``NOT_CONVERGED``)."""
    b, t, r = (np.asarray(a, dtype=np.float64) for a in (bottom, top, yrange))
    with np.errstate(invalid="ignore"):
        return np.asarray(np.abs(t - b) > _DEGENERATE_SPAN * np.maximum(r, _TINY_RANGE))


def flat_pvalue(rss: ArrayLike, rss0: ArrayLike, npts: ArrayLike, q: ArrayLike) -> FloatArray:
    """p-value of the extra-sum-of-squares F test of a `q`-parameter fit against a flat line.

    ``F = ((rss0 − rss)/max(q − 1, 1)) / (rss/(n − q))`` on ``(max(q − 1, 1), n − q)``
    degrees of freedom, `rss0` the (weighted) sum of squares about the (weighted) mean.
    NaN where the test does not apply (``n ≤ q`` or ``q ≤ 1``); 1 for a constant response
    or an undefined statistic.
    """
    r, r0 = np.asarray(rss, dtype=np.float64), np.asarray(rss0, dtype=np.float64)
    n, qq = np.asarray(npts, dtype=np.float64), np.asarray(q, dtype=np.float64)
    df1 = np.maximum(qq - 1.0, 1.0)
    dof = n - qq
    with np.errstate(invalid="ignore", divide="ignore"):
        F = ((r0 - r) / df1) / (r / dof)
        p = special.fdtrc(df1, np.maximum(dof, 1.0), F)
    p = np.where(np.isnan(p) | (r0 <= _CONSTANT_SS), 1.0, p)
    return np.asarray(np.where((dof > 0) & (qq > 1), p, np.nan), dtype=np.float64)


def flat(pvalue: ArrayLike, alpha: float = _F_ALPHA) -> BoolArray:
    """``FLAT_RESPONSE``: the F test against a flat line does not reject at `alpha`."""
    with np.errstate(invalid="ignore"):
        return np.asarray(np.asarray(pvalue, dtype=np.float64) > alpha)


def outside_range(ic50: ArrayLike, conc_min: ArrayLike, conc_max: ArrayLike, status: ArrayLike) -> BoolArray:
    """``IC50_OUTSIDE_RANGE``: a determined IC50 (status without an undetermined bit) outside
    the tested range ``[conc_min, conc_max]``."""
    c, lo, hi = (np.asarray(a, dtype=np.float64) for a in (ic50, conc_min, conc_max))
    det = (np.asarray(status) & int(_UNDETERMINED)) == 0
    with np.errstate(invalid="ignore"):
        return np.asarray(det & np.isfinite(c) & ((c < lo) | (c > hi)))


def undetermined_estimates(status: ArrayLike, is_runaway: ArrayLike) -> BoolArray:
    """A fit with no estimates (NaN free parameters and covariance): flat and not
    converged, or runaway."""
    s = np.asarray(status)
    nc_flat = ((s & int(FitStatus.NOT_CONVERGED)) != 0) & ((s & int(FitStatus.FLAT_RESPONSE)) != 0)
    return np.asarray(nc_flat | np.asarray(is_runaway, dtype=bool))


def combine(
    *,
    fitted: ArrayLike,
    converged: ArrayLike,
    bound: ArrayLike,
    is_runaway: ArrayLike,
    pvalue: ArrayLike,
) -> np.ndarray:
    """Status bits (uint8) from the decisions above (``IC50_OUTSIDE_RANGE`` comes after, from
    the estimates: :func:`outside_range`).  A curve that is not fitted is only
    ``TOO_FEW_POINTS``."""
    fit_a = np.asarray(fitted, dtype=bool)
    st = np.where(np.asarray(converged, dtype=bool), 0, int(FitStatus.NOT_CONVERGED))
    st |= np.where(np.asarray(is_runaway, dtype=bool), int(FitStatus.NOT_CONVERGED), 0)
    st |= np.where(np.asarray(bound, dtype=bool), int(FitStatus.AT_BOUND), 0)
    st |= np.where(flat(pvalue), int(FitStatus.FLAT_RESPONSE), 0)
    return np.asarray(np.where(fit_a, st, int(FitStatus.TOO_FEW_POINTS)), dtype=np.uint8)
