"""One status policy: the rules behind the :class:`FitStatus` bits, over arrays.

The rules are written once, as compiled functions (the "status rules" section of
``_kernels.pyx``): the per-curve passes (``_kernels.prepare``, the solver's results row and
``_kernels.finish``, used by every per-curve fit, compiled or generic) call them curve by
curve, and this module calls the same functions elementwise for every other path (the
global fits), so a flag means the same thing from every entry point:

* :func:`fittable` -- ``TOO_FEW_POINTS`` where False: more points than free parameters and
  at least as many distinct concentrations (vehicle counts as one);
* :func:`at_bound` -- ``AT_BOUND``: a free parameter within ``1e-9·max(|v|, 1)`` of a bound;
* :func:`runaway` -- ``NOT_CONVERGED`` for plateaus more than ``1e3`` response ranges apart
  (the least-squares infimum lies at infinity);
* :func:`flat_pvalue` / :func:`flat` -- ``FLAT_RESPONSE``: the extra-sum-of-squares F test
  against a flat line, ``alpha = 0.05``;
* :func:`outside_range` -- ``IC50_OUTSIDE_RANGE`` where the IC50 is determined;
* :func:`undetermined_estimates` -- a flat fit that did not converge, or a runaway one,
  has no estimates; :func:`combine` assembles the bits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._typing import BoolArray, FloatArray
from . import _kernels
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
AT_BOUND_RTOL = _kernels.AT_BOUND_RTOL


def _elementwise(rule: Callable[..., None], args: tuple[ArrayLike, ...], dtype: Any) -> Any:
    """`rule` (a compiled ``rule_*`` entry point) over the broadcast of `args`."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in args))
    shape = arrays[0].shape
    flat_in = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    out = np.empty(flat_in[0].size, dtype=dtype)
    rule(*flat_in, out)
    return out.reshape(shape).view(np.bool_) if dtype == np.uint8 else out.reshape(shape)


def fittable(npts: ArrayLike, distinct: ArrayLike, q: ArrayLike) -> BoolArray:
    """Whether data determine `q` free parameters and leave a residual degree of freedom:
    ``npts > q`` and ``distinct >= q`` (``TOO_FEW_POINTS`` where False)."""
    out: BoolArray = _elementwise(_kernels.rule_fittable, (npts, distinct, q), np.uint8)
    return out


def at_bound(P: ArrayLike, lo: ArrayLike, hi: ArrayLike) -> BoolArray:
    """Elementwise: a (free) parameter on or within ``AT_BOUND_RTOL·max(|v|, 1)`` of a bound."""
    out: BoolArray = _elementwise(_kernels.rule_at_bound, (P, lo, hi), np.uint8)
    return out


def runaway(bottom: ArrayLike, top: ArrayLike, yrange: ArrayLike) -> BoolArray:
    """Plateaus more than ``1e3`` response ranges apart: a degenerate fit (``NOT_CONVERGED``)."""
    out: BoolArray = _elementwise(_kernels.rule_runaway, (bottom, top, yrange), np.uint8)
    return out


def flat_pvalue(rss: ArrayLike, rss0: ArrayLike, npts: ArrayLike, q: ArrayLike) -> FloatArray:
    """p-value of the extra-sum-of-squares F test of a `q`-parameter fit against a flat line.

    ``F = ((rss0 − rss)/max(q − 1, 1)) / (rss/(n − q))`` on ``(max(q − 1, 1), n − q)``
    degrees of freedom, `rss0` the (weighted) sum of squares about the (weighted) mean.
    NaN where the test does not apply (``n ≤ q`` or ``q ≤ 1``); 1 for a constant response
    or an undefined statistic.
    """
    out: FloatArray = _elementwise(_kernels.rule_flat_pvalue, (rss, rss0, npts, q), np.float64)
    return out


def flat(pvalue: ArrayLike) -> BoolArray:
    """``FLAT_RESPONSE``: the F test against a flat line does not reject at alpha 0.05."""
    out: BoolArray = _elementwise(_kernels.rule_flat, (pvalue,), np.uint8)
    return out


def outside_range(ic50: ArrayLike, conc_min: ArrayLike, conc_max: ArrayLike, status: ArrayLike) -> BoolArray:
    """``IC50_OUTSIDE_RANGE``: a determined IC50 (status without an undetermined bit) outside
    the tested range ``[conc_min, conc_max]``."""
    det = (np.asarray(status) & int(_UNDETERMINED)) == 0
    rule: BoolArray = _elementwise(_kernels.rule_outside_range, (ic50, conc_min, conc_max), np.uint8)
    return np.asarray(det & rule)


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
