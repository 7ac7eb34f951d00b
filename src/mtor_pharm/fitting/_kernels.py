"""The compiled per-curve solver (internal; imported on first fit).

Every curve of a block is fitted by the same scalar code, compiled once by numba
(``nogil``, so blocks run on threads in parallel) and cached on disk:

* **start**: the best cell of a (location × hill) grid, with the plateaus solved in
  closed form per cell (the model is linear in ``bottom`` and ``top``);
* **Levenberg–Marquardt** with Moré's diagonal scaling and Nielsen's damping update,
  box bounds by projection with an active set (a parameter on a bound whose descent
  direction points outward is frozen for that step, so a curve whose optimum lies on
  a bound converges to the bounded optimum instead of stalling);
* **variable projection** (``varpro``): where the plateaus are free and unbounded they
  are solved in closed form at every trial point and the step acts on the nonlinear
  parameters only, with Kaufman's reduced normal matrix (the Schur complement of the
  plateau block of ``JᵀWJ``);
* **convergence**: the Gauss–Newton decrement ``gᵀA⁻¹g`` (the RSS reduction a full
  Gauss–Newton step predicts) is ``≤ 1e-14·RSS`` *and* the remaining parameter error,
  estimated from the linear rate of successive Gauss–Newton steps, is ``≤ 1e-9`` on the
  parameters' own scale (ln-location, hill); a curve that stops making progress (damping
  blown up, no RSS decrease over 10 iterations while not converging linearly, or a
  clearly flat curve that barely moves) is stopped and reported as not converged unless
  its decrement is already ``≤ 1e-10·RSS``.

The hot case (logistic, plateaus free and unbounded, location and hill free) has its own
loop on scalars (:func:`_solve_logistic`: the same steps, written out for 2×2, plus Newton
steps on the exact reduced Hessian near the optimum), and dilution series evaluate the
model's exponentials by a chain of products (:func:`_exp_series`).  :func:`finish` turns
the solver's outputs into the reported covariance, standard errors and status flags.

Internal parameters are ``(bottom, top, ln loc, hill[, ln s])``; ``lx`` is ``ln x`` with
``-inf`` for vehicle (x = 0); a point with weight 0 is padding and is ignored.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np

from .._typing import BoolArray, FloatArray, IntArray, Uint8Array
from ..errors import MtorPharmWarning
from ._engine import LOGISTIC, RICHARDS, WEIBULL1
from ._result import FitStatus

_F = TypeVar("_F", bound=Callable[..., Any])


def _cache_probe() -> None:  # pragma: no cover - never called, only decorated
    pass


def _can_cache() -> bool:
    """Whether numba can write its on-disk cache for this file (next to it, in the user's
    cache directory, or in ``NUMBA_CACHE_DIR``); numba refuses ``cache=True`` otherwise."""
    try:
        numba.njit(cache=True)(_cache_probe)
    except RuntimeError:
        return False
    return True


_CACHE = _can_cache()
if not _CACHE:
    warnings.warn(
        "numba finds no writable place for its cache (the package directory, the user's cache "
        "directory and NUMBA_CACHE_DIR are all read-only or unset), so mtor_pharm's fitting engine "
        "is compiled again in every new Python process (about 20 s on the first fit). Set the "
        "environment variable NUMBA_CACHE_DIR to a writable directory to compile it once.",
        MtorPharmWarning,
        stacklevel=2,
    )


def _jit(fn: _F) -> _F:
    return cast(_F, numba.njit(cache=_CACHE, nogil=True, error_model="numpy")(fn))


def _inline(fn: _F) -> _F:
    """A small helper compiled into its callers (no call overhead in the inner loops)."""
    return cast(_F, numba.njit(cache=_CACHE, nogil=True, error_model="numpy", inline="always")(fn))


_DEC_TOL = 1e-14  # converged: GN decrement <= _DEC_TOL * rss
_LINEAR_RATE_MAX = 0.95  # successive GN steps shrinking faster than this: still converging
_STEP_TOL = 1e-9  # ... and the estimated remaining error <= _STEP_TOL * max(|param|, 1)
_STALL_TOL = 1e-10  # accepted as converged if stopped for lack of progress with decrement <= this * rss
_LAM_MAX = 1e16
_TINY = 1e-300
_ZERO_RSS = 1e-28  # an RSS below this fraction of sum(w y^2) is an exact fit
_STALL_EVERY = 10  # iterations between stall checks
_STALL_REL = 1e-6  # RSS fell by less than this (relative) over that span: stalled
_STALL_FLAT_REL = 1e-3  # ... or by less than this while clearly flat
_STALL_FLAT_EVERY = 5  # iterations between the checks of a clearly flat curve
_LAM0 = 0.1  # initial damping (the grid start is coarse)
_NEWTON_DEC = 1e-2  # Newton steps once a Gauss-Newton step would gain less than this fraction of the RSS

# coarse start grid
GRID_T = np.linspace(-0.1, 1.1, 6)  # fractions of each curve's log-concentration range
GRID_HILL = np.array([0.7, 1.6, 4.0])


# ------------------------------------------------------------------ shapes
@_inline
def _shape(family: int, z: float, s: float) -> tuple[float, float, float]:
    """``S(z)``, ``dS/dz`` and (Richards only) ``dS/ds``; exact limits at ``z = ±inf``."""
    if family == LOGISTIC:
        S = 1.0 / (1.0 + math.exp(z))
        return S, S * (S - 1.0), 0.0
    if family == RICHARDS:
        # log(expit(-z)), stable for either sign of z
        le = -z - math.log1p(math.exp(-z)) if z > 0.0 else -math.log1p(math.exp(z))
        S = math.exp(s * le)
        ex = 1.0 / (1.0 + math.exp(-z))
        return S, -s * S * ex, (S * le if S > 0.0 else 0.0)
    if family == WEIBULL1:
        ez = math.exp(z)
        Sz = -math.exp(z - ez) if ez < math.inf else 0.0
        return math.exp(-ez), Sz, 0.0
    emz = math.exp(-z)  # WEIBULL2
    Sz = -math.exp(-z - emz) if emz < math.inf else 0.0
    return -math.expm1(-emz), Sz, 0.0


@_inline
def _clip(v: float, lo: float, hi: float) -> float:
    if v < lo:
        return lo
    if v > hi:
        return hi
    return v


# ------------------------------------------------------------------ model state at P
@_jit
def _state(
    family: int,
    P: FloatArray,
    lx: FloatArray,
    y: FloatArray,
    w: FloatArray,
    free: BoolArray,
    varpro: bool,
    J: FloatArray,
    r: FloatArray,
) -> float:
    """Jacobian columns ``J`` (k, p) and residuals ``r`` at ``P``; returns the weighted RSS.

    With `varpro` the free plateaus are first replaced (in ``P``) by their linear
    least-squares values for this location/hill/s.
    """
    k = lx.shape[0]
    p = P.shape[0]
    s = math.exp(P[4]) if p == 5 else 1.0
    loc = P[2]
    hill = P[3]
    for t in range(k):
        d = lx[t] - loc
        S, Sz, Ss = _shape(family, hill * d, s)
        J[t, 0] = 1.0 - S
        J[t, 1] = S
        J[t, 2] = Sz  # dS/dz, d and dS/ds kept until the amplitude is known
        J[t, 3] = d
        if p == 5:
            J[t, 4] = Ss
    if varpro:
        if free[0] and free[1]:
            g00 = g01 = g11 = b0 = b1 = 0.0
            for t in range(k):
                wt = w[t]
                u, v = J[t, 0], J[t, 1]
                g00 += wt * u * u
                g01 += wt * u * v
                g11 += wt * v * v
                b0 += wt * u * y[t]
                b1 += wt * v * y[t]
            det = g00 * g11 - g01 * g01
            P[0] = (g11 * b0 - g01 * b1) / det
            P[1] = (g00 * b1 - g01 * b0) / det
        else:
            j = 0 if free[0] else 1  # the free plateau; the other one is fixed
            o = 1 - j
            num = den = 0.0
            for t in range(k):
                wt = w[t]
                num += wt * J[t, j] * (y[t] - P[o] * J[t, o])
                den += wt * J[t, j] * J[t, j]
            P[j] = num / den
    amp = P[1] - P[0]
    rss = 0.0
    for t in range(k):
        S = J[t, 1]
        aSz = amp * J[t, 2]
        d = J[t, 3]
        J[t, 2] = -hill * aSz
        J[t, 3] = aSz * d if abs(d) < math.inf else 0.0  # at x = 0, Sz * d -> 0
        if p == 5:
            J[t, 4] = amp * s * J[t, 4]
        rt = P[0] + amp * S - y[t]
        r[t] = rt
        rss += w[t] * rt * rt
    return rss


# ------------------------------------------------------------------ small dense algebra
@_inline
def _cholesky(A: FloatArray, q: int, L: FloatArray) -> bool:
    """Lower Cholesky factor of the leading q×q block of ``A`` into ``L``; False if not SPD."""
    for j in range(q):
        s = A[j, j]
        for t in range(j):
            s -= L[j, t] * L[j, t]
        if not s > 0.0:
            return False
        d = math.sqrt(s)
        L[j, j] = d
        for i in range(j + 1, q):
            v = A[i, j]
            for t in range(j):
                v -= L[i, t] * L[j, t]
            L[i, j] = v / d
    return True


@_inline
def _forward(L: FloatArray, b: FloatArray, q: int, u: FloatArray) -> None:
    for i in range(q):
        v = b[i]
        for t in range(i):
            v -= L[i, t] * u[t]
        u[i] = v / L[i, i]


@_inline
def _backward(L: FloatArray, u: FloatArray, q: int, x: FloatArray) -> None:
    for i in range(q - 1, -1, -1):
        v = u[i]
        for t in range(i + 1, q):
            v -= L[t, i] * x[t]
        x[i] = v / L[i, i]


@_jit
def _gram(J: FloatArray, r: FloatArray, w: FloatArray, fidx: IntArray, M: FloatArray, g: FloatArray) -> None:
    """``M = JᵀWJ`` and ``g = JᵀWr`` over the free columns ``fidx`` (one pass over the points,
    so the sums accumulate side by side)."""
    qf = fidx.shape[0]
    k = r.shape[0]
    for a in range(qf):
        g[a] = 0.0
        for b in range(a + 1):
            M[a, b] = 0.0
    for t in range(k):
        wt = w[t]
        if wt == 0.0:
            continue
        for a in range(qf):
            wa = wt * J[t, fidx[a]]
            g[a] += wa * r[t]
            for b in range(a + 1):
                M[a, b] += wa * J[t, fidx[b]]
    for a in range(qf):
        for b in range(a):
            M[b, a] = M[a, b]


# ------------------------------------------------------------------ start values
@_inline
def _moments(w: FloatArray, y: FloatArray) -> tuple[float, float, float]:
    """``(Σw, Σwy, Σwy²)`` of one curve."""
    sw = sy = syy = 0.0
    for t in range(w.shape[0]):
        sw += w[t]
        sy += w[t] * y[t]
        syy += w[t] * y[t] * y[t]
    return sw, sy, syy


@_inline
def _logistic_cell(E: FloatArray, c: float, w: FloatArray, y: FloatArray, S: FloatArray) -> tuple[float, float, float]:
    """``S = 1 / (1 + E c)`` into `S`, and ``(ΣwS, ΣwS², ΣwSy)``: the logistic at one grid
    cell from the factorised exponentials (``E`` of the cell's hill, ``c`` of its location)."""
    sS = sSS = sSy = 0.0
    for t in range(w.shape[0]):
        St = 1.0 / (1.0 + E[t] * c)
        S[t] = St
        wS = w[t] * St
        sS += wS
        sSS += wS * St
        sSy += wS * y[t]
    return sS, sSS, sSy


@_inline
def _linear_plateaus(sw: float, sy: float, sS: float, sSS: float, sSy: float) -> tuple[float, float]:
    """``(bottom, top - bottom)``: least squares of ``y ≈ bottom + amp S`` from the sums (a
    flat line where ``S`` hardly varies)."""
    det = sw * sSS - sS * sS
    if abs(det) > 1e-12 * sw * sSS:
        amp = (sw * sSy - sS * sy) / det
        return (sy - amp * sS) / sw, amp
    return sy / max(sw, _TINY), 0.0


@_inline
def _grid_hill(hill_free: bool, sign: int, hill0: float, grid_hill: FloatArray, ih: int) -> float:
    """Hill of grid column ``ih``: the fixed value, one sign of the grid, or both signs."""
    if not hill_free:
        return hill0
    nh = grid_hill.shape[0]
    if sign != 0:
        return float(sign * grid_hill[ih])
    return float(grid_hill[ih] if ih < nh else -grid_hill[ih - nh])


@_jit
def _grid_start(
    family: int,
    symmetric: bool,
    P: FloatArray,
    lx: FloatArray,
    y: FloatArray,
    w: FloatArray,
    lx_lo: float,
    lx_hi: float,
    free: BoolArray,
    lo: FloatArray,
    hi: FloatArray,
    sign: int,
    grid_t: FloatArray,
    grid_hill: FloatArray,
    S: FloatArray,
    E: FloatArray,
) -> None:
    """Overwrite the free parameters of ``P`` with the best cell of the start grid."""
    k = lx.shape[0]
    p = P.shape[0]
    if p == 5 and free[4]:
        P[4] = 0.0  # s = 1
    s = math.exp(P[4]) if p == 5 else 1.0
    n_loc = grid_t.shape[0] if free[2] else 1
    nh = grid_hill.shape[0]
    if not free[3]:
        n_hill = 1
    elif sign != 0 or (symmetric and free[0] and free[1]):
        n_hill = nh
    else:
        n_hill = 2 * nh
    unbounded = lo[0] == -math.inf and lo[1] == -math.inf and hi[0] == math.inf and hi[1] == math.inf
    sw, sy, syy = _moments(w, y)
    c = 1.0
    mid = 0.5 * (lx_lo + lx_hi)
    if family == LOGISTIC:
        for ih in range(n_hill):
            hill = _clip(_grid_hill(free[3], sign, P[3], grid_hill, ih), lo[3], hi[3])
            for t in range(k):
                E[ih, t] = math.exp(hill * (lx[t] - mid))
    best = math.inf
    bb, bt, bl, bh = P[0], P[1], P[2], P[3]
    first = True
    for il in range(n_loc):
        loc = lx_lo + grid_t[il] * (lx_hi - lx_lo) if free[2] else P[2]
        loc = _clip(loc, lo[2], hi[2])
        for ih in range(n_hill):
            hill = _clip(_grid_hill(free[3], sign, P[3], grid_hill, ih), lo[3], hi[3])
            # the plateaus for this cell in closed form (S is stored only where needed)
            bottom, top = P[0], P[1]
            rss = math.nan
            fast = family == LOGISTIC
            if fast:
                # e^(hill (lx - loc)) = e^(hill (lx - mid)) e^(-hill (loc - mid)): one exp per cell
                c = math.exp(-hill * (loc - mid))
            if free[0] and free[1]:
                if fast:
                    sS, sSS, sSy = _logistic_cell(E[ih], c, w, y, S)
                else:
                    sS = sSS = sSy = 0.0
                    for t in range(k):
                        St = _shape(family, hill * (lx[t] - loc), s)[0]
                        S[t] = St
                        wS = w[t] * St
                        sS += wS
                        sSS += wS * St
                        sSy += wS * y[t]
                bottom, amp = _linear_plateaus(sw, sy, sS, sSS, sSy)
                top = bottom + amp
                if unbounded:  # RSS at the linear least-squares solution, without the residuals
                    rss = syy - bottom * sy - amp * sSy
            else:
                for t in range(k):
                    S[t] = 1.0 / (1.0 + E[ih, t] * c) if fast else _shape(family, hill * (lx[t] - loc), s)[0]
            if (free[1] or free[0]) and not (free[0] and free[1]):
                fixed = P[0] if free[1] else P[1]  # the fixed plateau
                num = den = 0.0
                for t in range(k):
                    v = S[t] if free[1] else 1.0 - S[t]
                    num += w[t] * v * (y[t] - fixed)
                    den += w[t] * v * v
                amp = num / den
                if not abs(amp) < math.inf:
                    amp = 0.0
                if free[1]:
                    top = fixed + amp
                else:
                    bottom = fixed + amp
            if rss != rss:
                bottom = _clip(bottom, lo[0], hi[0])
                top = _clip(top, lo[1], hi[1])
                rss = 0.0
                for t in range(k):
                    rt = bottom + (top - bottom) * S[t] - y[t]
                    rss += w[t] * rt * rt
            if not rss < math.inf:
                rss = math.inf
            if first or rss < best:
                first = False
                best = rss
                bb, bt, bl, bh = bottom, top, loc, hill
    if free[0]:
        P[0] = bb
    if free[1]:
        P[1] = bt
    if free[2]:
        P[2] = bl
    if free[3]:
        P[3] = bh


# ------------------------------------------------------------------ reduced normal equations
@_jit
def _eval_generic(
    family: int,
    varpro: bool,
    P: FloatArray,
    lx: FloatArray,
    y: FloatArray,
    w: FloatArray,
    free: BoolArray,
    fidx: IntArray,
    nl: int,
    J: FloatArray,
    r: FloatArray,
    M: FloatArray,
    gM: FloatArray,
    A: FloatArray,
    g: FloatArray,
) -> float:
    """RSS at ``P`` and the normal equations ``A``, ``g`` of the step parameters there.

    The step parameters are the free ones after the first `nl` of ``fidx`` (the plateaus
    solved by variable projection); ``A`` is then the Schur complement of the plateau
    block of ``JᵀWJ`` (Kaufman's reduced normal matrix) and ``g`` the matching rows of
    ``JᵀWr`` (the residual is orthogonal to the plateau columns).
    """
    rss = _state(family, P, lx, y, w, free, varpro, J, r)
    _gram(J, r, w, fidx, M, gM)
    q = fidx.shape[0] - nl
    for a in range(q):
        g[a] = gM[nl + a]
        for b in range(q):
            A[a, b] = M[nl + a, nl + b]
    if nl == 1:
        for a in range(q):
            for b in range(q):
                A[a, b] -= M[nl + a, 0] * M[0, nl + b] / M[0, 0]
    elif nl == 2:
        det = M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0]
        for a in range(q):
            ha0, ha1 = M[2 + a, 0], M[2 + a, 1]
            for b in range(q):
                hb0, hb1 = M[0, 2 + b], M[1, 2 + b]
                A[a, b] -= (ha0 * (M[1, 1] * hb0 - M[0, 1] * hb1) + ha1 * (M[0, 0] * hb1 - M[1, 0] * hb0)) / det
    return rss


@_inline
def _exp_series(a: float, b: float, lx: FloatArray, geo: bool, mid: int, step: float, out: FloatArray) -> None:
    """``out[t] = exp(a (lx[t] - b))`` for every point.

    Where the design is geometric (`geo`: ``lx[t] = lx[0] + t step`` to rounding, no
    vehicle, no padding; the usual dilution series) and no term can overflow, two ``exp``
    and a chain of products from the middle point `mid` replace one ``exp`` per point
    (``exp`` is ~40 % of an evaluation's time).  The products add at most ``k/2``
    roundings; the rest of the difference is of the size of the rounding of the exponents,
    which ``exp`` per point has too: a few ulp of ``|a| max(|lx|, |b|)``, relative (about
    1e-14 for hill 1, against the fit's tolerance of 1e-9).
    """
    k = lx.shape[0]
    z = a * (lx[mid] - b)
    r = a * step
    if geo and abs(z) + 0.5 * k * abs(r) < 700.0:
        e0 = math.exp(z)
        up = math.exp(r)
        down = 1.0 / up
        out[mid] = e0
        e = e0
        for t in range(mid + 1, k):
            e *= up
            out[t] = e
        e = e0
        for t in range(mid - 1, -1, -1):
            e *= down
            out[t] = e
    else:
        for t in range(k):
            out[t] = math.exp(a * (lx[t] - b))


@_inline
def _geometric(lx: FloatArray, w: FloatArray) -> tuple[bool, int, float]:
    """Whether the points lie on a geometric design (see :func:`_exp_series`): every point
    present, positive, and ``lx`` evenly spaced to within a few ulp; with the middle
    point and the step."""
    k = lx.shape[0]
    if k < 3:
        return False, 0, 0.0
    step = (lx[k - 1] - lx[0]) / (k - 1)
    for t in range(k):
        if not (w[t] > 0.0 and abs(lx[t] - (lx[0] + t * step)) <= 1e-15 * max(abs(lx[t]), 1.0) * 4.0):
            return False, 0, 0.0
    return True, k // 2, step


@_inline
def _eval_logistic(
    loc: float,
    hill: float,
    lx: FloatArray,
    y: FloatArray,
    w: FloatArray,
    Sv: FloatArray,
    geo: bool,
    mid: int,
    step: float,
) -> tuple[float, float, float, float, float, float, float, float, float, float, float]:
    """The reduced normal equations of the hot case at ``(loc, hill)``, fused into two passes
    over the points: the logistic with both plateaus free and unbounded (variable
    projection), location and hill free.  The plateau basis is ``(1, S)``, which spans the
    same space as ``(1 - S, S)``.

    Returns ``(rss, bottom, top, a00, a01, a11, g0, g1, h00, h01, h11)``: the plateaus'
    linear least-squares values, Kaufman's reduced normal matrix ``A`` and gradient ``g``
    over ``(ln loc, hill)`` (as :func:`_eval_generic`), and ``H``, the exact Hessian (halved)
    of the reduced RSS: the Schur complement of the plateau block of ``JᵀWJ + Σ w r ∇²f``.
    The reduced problem is then solved by Newton steps where they are well defined
    (quadratic instead of linear convergence on curves with large residuals).
    """
    k = lx.shape[0]
    _exp_series(hill, loc, lx, geo, mid, step, Sv)
    sw = sS = sSS = sy = sSy = 0.0
    for t in range(k):
        wt = w[t]
        S = 1.0 / (1.0 + Sv[t])
        Sv[t] = S
        sw += wt
        sS += wt * S
        sSS += wt * S * S
        sy += wt * y[t]
        sSy += wt * S * y[t]
    det = sw * sSS - sS * sS
    amp = (sw * sSy - sS * sy) / det
    bottom = (sy - amp * sS) / sw
    rss = s2 = s3 = sS2 = sS3 = s22 = s23 = s33 = g2 = g3 = 0.0
    c2 = c3 = e22 = e23 = e33 = 0.0  # second-derivative terms of the Hessian
    for t in range(k):
        wt = w[t]
        d = lx[t] - loc
        if not d > -math.inf:
            d = 0.0  # x = 0: S' = S'' = 0 there, and the limits of S' d, S'' d, S'' d^2 are 0 too
        S = Sv[t]
        rt = bottom + amp * S - y[t]
        rss += wt * rt * rt
        Sz = S * (S - 1.0)
        Szz = Sz * (2.0 * S - 1.0)
        aSz = amp * Sz
        v2 = -hill * aSz
        v3 = aSz * d
        wr = wt * rt
        c2 -= wr * hill * Sz
        c3 += wr * Sz * d
        e22 += wr * amp * hill * hill * Szz
        e23 -= wr * amp * (Sz + hill * d * Szz)
        e33 += wr * amp * Szz * d * d
        wv2 = wt * v2
        wv3 = wt * v3
        s2 += wv2
        s3 += wv3
        sS2 += wv2 * S
        sS3 += wv3 * S
        s22 += wv2 * v2
        s23 += wv2 * v3
        s33 += wv3 * v3
        g2 += wv2 * rt
        g3 += wv3 * rt
    # A = V'WV - H' G^-1 H with G = [[sw, sS], [sS, sSS]] and H rows (sum w v, sum w S v)
    i00, i01, i11 = sSS / det, -sS / det, sw / det
    a00 = s22 - (s2 * (i00 * s2 + i01 * sS2) + sS2 * (i01 * s2 + i11 * sS2))
    a01 = s23 - (s2 * (i00 * s3 + i01 * sS3) + sS2 * (i01 * s3 + i11 * sS3))
    a11 = s33 - (s3 * (i00 * s3 + i01 * sS3) + sS3 * (i01 * s3 + i11 * sS3))
    t2, t3 = sS2 + c2, sS3 + c3  # the amplitude column of the cross block gains the r terms
    h00 = s22 + e22 - (s2 * (i00 * s2 + i01 * t2) + t2 * (i01 * s2 + i11 * t2))
    h01 = s23 + e23 - (s2 * (i00 * s3 + i01 * t3) + t2 * (i01 * s3 + i11 * t3))
    h11 = s33 + e33 - (s3 * (i00 * s3 + i01 * t3) + t3 * (i01 * s3 + i11 * t3))
    return rss, bottom, bottom + amp, a00, a01, a11, g2, g3, h00, h01, h11


@_inline
def _gram_logistic(
    P: FloatArray, lx: FloatArray, w: FloatArray, M: FloatArray, Sv: FloatArray, geo: bool, mid: int, step: float
) -> None:
    """``JᵀWJ`` over (bottom, top, ln ic50, hill) of the 4PL at ``P``, in one pass."""
    amp = P[1] - P[0]
    loc = P[2]
    hill = P[3]
    _exp_series(hill, loc, lx, geo, mid, step, Sv)
    m00 = m01 = m02 = m03 = m11 = m12 = m13 = m22 = m23 = m33 = 0.0
    for t in range(lx.shape[0]):
        wt = w[t]
        S = 1.0 / (1.0 + Sv[t])  # at x = 0 (lx = -inf) the limit, 1 or 0
        d = lx[t] - loc
        if not d > -math.inf:
            d = 0.0  # x = 0: S' = 0 there and S' d -> 0
        aSz = amp * S * (S - 1.0)
        j0 = 1.0 - S
        j2 = -hill * aSz
        j3 = aSz * d
        m00 += wt * j0 * j0
        m01 += wt * j0 * S
        m02 += wt * j0 * j2
        m03 += wt * j0 * j3
        m11 += wt * S * S
        m12 += wt * S * j2
        m13 += wt * S * j3
        m22 += wt * j2 * j2
        m23 += wt * j2 * j3
        m33 += wt * j3 * j3
    M[0, 0], M[0, 1], M[0, 2], M[0, 3] = m00, m01, m02, m03
    M[1, 0], M[1, 1], M[1, 2], M[1, 3] = m01, m11, m12, m13
    M[2, 0], M[2, 1], M[2, 2], M[2, 3] = m02, m12, m22, m23
    M[3, 0], M[3, 1], M[3, 2], M[3, 3] = m03, m13, m23, m33


# ------------------------------------------------------------------ LM control (both loops)
@_inline
def _worst(size: float, v: float) -> float:
    """Running maximum of relative step sizes that keeps a NaN."""
    return v if (v > size or v != v) else size


@_inline
def _converged(gn_size: float, step_prev: float, dec: float, rss: float, floor: float) -> tuple[bool, bool]:
    """The convergence test: ``(converged, converging)``.

    Gauss-Newton converges linearly on curves with large residuals (slowly where the IC50
    is poorly determined): the remaining error is about ``step rho / (1 - rho)``, with
    ``rho`` the observed ratio of successive steps, and that is what must be small;
    steady linear convergence (``converging``) is progress, not a stall.
    """
    ratio = gn_size / step_prev if abs(step_prev) < math.inf else 0.5
    rho = min(max(ratio, 0.0), 0.999) if ratio == ratio else ratio
    small = gn_size * rho / (1.0 - rho) <= _STEP_TOL
    conv = ((dec <= _DEC_TOL * rss + floor) and (small or gn_size == 0.0)) or rss <= floor
    return conv, ratio < _LINEAR_RATE_MAX


@_inline
def _damping(accepted: bool, rss: float, rss_t: float, pred: float, lam: float, nu: float) -> tuple[float, float]:
    """Nielsen's update of the damping after a trial step with predicted reduction `pred`."""
    if accepted:
        rho_lm = (rss - rss_t) / pred if pred > 0.0 else 0.0
        return lam * max(1.0 / 3.0, 1.0 - (2.0 * rho_lm - 1.0) ** 3), 2.0
    return lam * nu, nu * 2.0


@_inline
def _stop(
    it: int,
    max_iter: int,
    lam: float,
    nu: float,
    rss: float,
    dec: float,
    converging: bool,
    flat_rss: float,
    rss_ref: float,
    rss_ref_flat: float,
) -> tuple[bool, bool, float, float]:
    """Stop for lack of progress or out of iterations: ``(stop, converged, rss_ref,
    rss_ref_flat)``. Damping blown up, no RSS decrease over ``_STALL_EVERY`` iterations
    while not converging linearly, or a clearly flat curve (RSS above `flat_rss`) that
    barely moves; a curve so stopped is converged after all if its decrement is tiny."""
    blown = lam > _LAM_MAX or nu > 1e30
    stalled = False
    if it % _STALL_EVERY == 0:
        stalled = rss_ref - rss <= _STALL_REL * rss and not converging
        rss_ref = rss
    if it % _STALL_FLAT_EVERY == 0:
        stalled = stalled or (rss > flat_rss and rss_ref_flat - rss <= _STALL_FLAT_REL * rss)
        rss_ref_flat = rss
    stop = blown or stalled or it >= max_iter
    conv = (blown or stalled) and dec <= _STALL_TOL * max(rss, _TINY)
    return stop, conv, rss_ref, rss_ref_flat


# ------------------------------------------------------------------ the hot case, on scalars
@_inline
def _chol2(b00: float, b01: float, b11: float) -> tuple[bool, float, float, float]:
    """Cholesky factor ``(l00, l10, l11)`` of a symmetric 2×2 matrix; False if not SPD."""
    if not b00 > 0.0:
        return False, math.nan, math.nan, math.nan
    l00 = math.sqrt(b00)
    l10 = b01 / l00
    s = b11 - l10 * l10
    if not s > 0.0:
        return False, math.nan, math.nan, math.nan
    return True, l00, l10, math.sqrt(s)


@_inline
def _grid_logistic(
    lx: FloatArray,
    y: FloatArray,
    w: FloatArray,
    lx_lo: float,
    lx_hi: float,
    lo: FloatArray,
    hi: FloatArray,
    sign: int,
    grid_t: FloatArray,
    grid_hill: FloatArray,
    E: FloatArray,
    S: FloatArray,
    geo: bool,
    mid: int,
    step: float,
) -> tuple[float, float]:
    """:func:`_grid_start` for the hot case: the ``(ln loc, hill)`` of the best cell, with
    the plateaus in closed form and the RSS from the normal equations (no residual pass)."""
    nh = grid_hill.shape[0]
    sw, sy, syy = _moments(w, y)
    centre = 0.5 * (lx_lo + lx_hi)
    for ih in range(nh):
        hill = _clip(_grid_hill(True, sign, 0.0, grid_hill, ih), lo[3], hi[3])
        _exp_series(hill, centre, lx, geo, mid, step, E[ih])
    best = math.inf
    bl = bh = math.nan
    first = True
    for il in range(grid_t.shape[0]):
        loc = _clip(lx_lo + grid_t[il] * (lx_hi - lx_lo), lo[2], hi[2])
        for ih in range(nh):
            hill = _clip(_grid_hill(True, sign, 0.0, grid_hill, ih), lo[3], hi[3])
            c = math.exp(-hill * (loc - centre))  # e^(hill (lx - loc)) = E e^(-hill (loc - centre))
            sS, sSS, sSy = _logistic_cell(E[ih], c, w, y, S)
            bottom, amp = _linear_plateaus(sw, sy, sS, sSS, sSy)
            rss = syy - bottom * sy - amp * sSy
            if not rss < math.inf:
                rss = math.inf
            if first or rss < best:
                first = False
                best = rss
                bl, bh = loc, hill
    return bl, bh


@_inline
def _solve_logistic(
    P: FloatArray,
    lx: FloatArray,
    y: FloatArray,
    w: FloatArray,
    lx_lo: float,
    lx_hi: float,
    lo: FloatArray,
    hi: FloatArray,
    flat_rss: float,
    sign: int,
    max_iter: int,
    grid_t: FloatArray,
    grid_hill: FloatArray,
    E: FloatArray,
    Sv: FloatArray,
    M_out: FloatArray,
) -> tuple[float, bool, int]:
    """:func:`_solve_one` for the hot case (logistic, plateaus free and unbounded, location
    and hill free): the same grid start, active set, damping, convergence and stall tests,
    with the 2×2 algebra on scalars, and a Newton step on the exact reduced Hessian once a
    Gauss–Newton step would gain less than ``_NEWTON_DEC`` of the RSS (where the damped
    Newton matrix is positive definite; else the Gauss–Newton step)."""
    lo2, hi2, lo3, hi3 = lo[2], hi[2], lo[3], hi[3]
    geo, mid, step = _geometric(lx, w)
    loc, hill = _grid_logistic(lx, y, w, lx_lo, lx_hi, lo, hi, sign, grid_t, grid_hill, E, Sv, geo, mid, step)
    loc = _clip(loc, lo2, hi2)
    hill = _clip(hill, lo3, hi3)
    rss, bottom, top, a00, a01, a11, g0, g1, h00, h01, h11 = _eval_logistic(loc, hill, lx, y, w, Sv, geo, mid, step)
    if not rss < math.inf:
        rss = math.inf
    floor = _ZERO_RSS * _moments(w, y)[2] + _TINY
    lam = _LAM0
    nu = 2.0
    D0 = D1 = 0.0
    rss_ref = rss_ref_flat = rss
    step_prev = math.inf
    dec = math.inf
    it = 0
    conv = False
    while True:
        it += 1
        # active set: on a bound with the descent direction (-g) pointing outward
        s0, s1 = g0, g1
        b00, b01, b11 = a00, a01, a11
        n00, n01, n11 = h00, h01, h11
        fr0 = (loc <= lo2 and s0 > 0.0) or (loc >= hi2 and s0 < 0.0)
        fr1 = (hill <= lo3 and s1 > 0.0) or (hill >= hi3 and s1 < 0.0)
        if fr0:
            s0 = 0.0
            b00 = n00 = 1.0
            b01 = n01 = 0.0
        if fr1:
            s1 = 0.0
            b11 = n11 = 1.0
            b01 = n01 = 0.0
        # Gauss-Newton decrement and step size: the convergence test (see _solve_one)
        ok, l00, l10, l11 = _chol2(b00, b01, b11)
        if ok:
            u0 = s0 / l00
            u1 = (s1 - l10 * u0) / l11
            dec = u0 * u0 + u1 * u1
            x1 = u1 / l11
            x0 = (u0 - l10 * x1) / l00
            gn_size = _worst(_worst(0.0, abs(x0) / max(abs(loc), 1.0)), abs(x1) / max(abs(hill), 1.0))
        else:
            dec = math.inf
            gn_size = math.nan
        conv, converging = _converged(gn_size, step_prev, dec, rss, floor)
        step_prev = gn_size
        if conv:
            break
        # damped step (More's scaling), Newton's where its damped matrix is SPD
        if b00 > D0:
            D0 = b00
        if b11 > D1:
            D1 = b11
        fl = 1e-12 * max(max(D0, D1), _TINY)
        d0 = lam * max(D0, fl)
        d1 = lam * max(D1, fl)
        okd = newton = False
        m00 = m10 = m11 = math.nan
        if dec <= _NEWTON_DEC * rss:
            okd, m00, m10, m11 = _chol2(n00 + d0, n01, n11 + d1)
            newton = okd
        if not okd:
            okd, m00, m10, m11 = _chol2(b00 + d0, b01, b11 + d1)
        st0 = st1 = math.nan
        if okd:
            u0 = -s0 / m00
            u1 = (-s1 - m10 * u0) / m11
            st1 = u1 / m11
            st0 = (u0 - m10 * st1) / m00
        loc_t = _clip(loc + st0, lo2, hi2)
        hill_t = _clip(hill + st1, lo3, hi3)
        dP0 = loc_t - loc
        dP1 = hill_t - hill
        rss_t, bot_t, top_t, ta00, ta01, ta11, tg0, tg1, th00, th01, th11 = _eval_logistic(
            loc_t, hill_t, lx, y, w, Sv, geo, mid, step
        )
        # predicted reduction of the (projected) step under the quadratic model used
        if newton:
            b00, b01, b11 = n00, n01, n11
        pred = -2.0 * (s0 * dP0 + s1 * dP1) - (b00 * dP0 * dP0 + 2.0 * b01 * dP0 * dP1 + b11 * dP1 * dP1)
        accepted = rss_t < rss  # False for NaN
        lam, nu = _damping(accepted, rss, rss_t, pred, lam, nu)
        if accepted:
            loc, hill, bottom, top, rss = loc_t, hill_t, bot_t, top_t, rss_t
            a00, a01, a11, g0, g1, h00, h01, h11 = ta00, ta01, ta11, tg0, tg1, th00, th01, th11
        stop, conv, rss_ref, rss_ref_flat = _stop(
            it, max_iter, lam, nu, rss, dec, converging, flat_rss, rss_ref, rss_ref_flat
        )
        if stop:
            break
    P[0] = bottom
    P[1] = top
    P[2] = loc
    P[3] = hill
    _gram_logistic(P, lx, w, M_out, Sv, geo, mid, step)  # JᵀWJ at the optimum (the covariance)
    return rss, conv, it


# ------------------------------------------------------------------ one curve
@_jit
def _solve_one(
    family: int,
    symmetric: bool,
    varpro: bool,
    P: FloatArray,
    lx: FloatArray,
    y: FloatArray,
    w: FloatArray,
    lx_lo: float,
    lx_hi: float,
    lo: FloatArray,
    hi: FloatArray,
    flat_rss: float,
    free: BoolArray,
    fidx: IntArray,
    sidx: IntArray,
    sign: int,
    max_iter: int,
    grid_t: FloatArray,
    grid_hill: FloatArray,
    work: FloatArray,
    mats: FloatArray,
    vec: FloatArray,
    Sbuf: FloatArray,
    M_out: FloatArray,
) -> tuple[float, bool, int]:
    """Fit one curve in place (``P``); returns ``(rss, converged, iterations)`` and
    ``JᵀWJ`` over the free parameters at the final ``P`` in ``M_out``."""
    k = lx.shape[0]
    p = P.shape[0]
    qf = fidx.shape[0]
    q = sidx.shape[0]
    nl = qf - q  # leading plateau entries of fidx eliminated by variable projection
    J = work[0, :k, :p]
    r = work[1, :k, 0]
    S = Sbuf[:k]
    E = work[2, :, :k]
    M, A, Ac, At, L, Ld, Ad = mats[0], mats[1], mats[2], mats[3], mats[4], mats[5], mats[6]
    gM, gs, gc, gt, u, gn, step = vec[0], vec[1], vec[2], vec[3], vec[4], vec[5], vec[6]
    D, dP, frozen = vec[7], vec[8], vec[10]
    Pt = vec[9, :p]

    _grid_start(family, symmetric, P, lx, y, w, lx_lo, lx_hi, free, lo, hi, sign, grid_t, grid_hill, S, E)
    for j in range(p):
        P[j] = _clip(P[j], lo[j], hi[j])
    rss = _eval_generic(family, varpro, P, lx, y, w, free, fidx, nl, J, r, M, gM, Ac, gc)
    if not rss < math.inf:
        rss = math.inf
    floor = _ZERO_RSS * _moments(w, y)[2] + _TINY
    lam = _LAM0
    nu = 2.0
    for a in range(q):
        D[a] = 0.0
    rss_ref = rss_ref_flat = rss
    step_prev = math.inf
    it = 0
    conv = False
    while True:
        it += 1
        for a in range(q):
            gs[a] = gc[a]
            for b in range(q):
                A[a, b] = Ac[a, b]
        # active set: on a bound with the descent direction (-g) pointing outward
        for a in range(q):
            j = sidx[a]
            frozen[a] = 1.0 if (P[j] <= lo[j] and gs[a] > 0.0) or (P[j] >= hi[j] and gs[a] < 0.0) else 0.0
        for a in range(q):
            if frozen[a] != 0.0:
                gs[a] = 0.0
                for b in range(q):
                    A[a, b] = A[b, a] = 0.0
                A[a, a] = 1.0
        # Gauss-Newton decrement and step size: the convergence test
        if _cholesky(A, q, L):
            _forward(L, gs, q, u)
            dec = 0.0
            for a in range(q):
                dec += u[a] * u[a]
            _backward(L, u, q, gn)
            gn_size = 0.0
            for a in range(q):
                gn_size = _worst(gn_size, abs(gn[a]) / max(abs(P[sidx[a]]), 1.0))
        else:
            dec = math.inf
            gn_size = math.nan
        # Gauss-Newton converges linearly on curves with large residuals (slowly where the
        # IC50 is poorly determined): the remaining error is about step * rho / (1 - rho),
        # with rho the observed ratio of successive steps, and that is what must be small
        conv, converging = _converged(gn_size, step_prev, dec, rss, floor)
        step_prev = gn_size
        if conv:
            break
        # damped step (More's scaling: running maximum of diag(A))
        dmax = 0.0
        for a in range(q):
            if A[a, a] > D[a]:
                D[a] = A[a, a]
            if D[a] > dmax:
                dmax = D[a]
        fl = 1e-12 * max(dmax, _TINY)
        for a in range(q):
            for b in range(q):
                Ad[a, b] = A[a, b]
            Ad[a, a] = A[a, a] + lam * max(D[a], fl)
        okd = _cholesky(Ad, q, Ld)
        if okd:
            for a in range(q):
                step[a] = -gs[a]
            _forward(Ld, step, q, u)
            _backward(Ld, u, q, step)
        for j in range(p):
            Pt[j] = P[j]
        for a in range(q):
            j = sidx[a]
            Pt[j] = _clip(P[j] + (step[a] if okd else math.nan), lo[j], hi[j])
            dP[a] = Pt[j] - P[j]
        rss_t = _eval_generic(family, varpro, Pt, lx, y, w, free, fidx, nl, J, r, M, gM, At, gt)
        # predicted reduction of the (projected) step under the Gauss-Newton model
        pred = 0.0
        for a in range(q):
            pred -= 2.0 * gs[a] * dP[a]
            for b in range(q):
                pred -= A[a, b] * dP[a] * dP[b]
        accepted = rss_t < rss  # False for NaN
        lam, nu = _damping(accepted, rss, rss_t, pred, lam, nu)
        if accepted:
            for j in range(p):
                P[j] = Pt[j]
            rss = rss_t
            Ac, At = At, Ac
            gc, gt = gt, gc
        stop, conv, rss_ref, rss_ref_flat = _stop(
            it, max_iter, lam, nu, rss, dec, converging, flat_rss, rss_ref, rss_ref_flat
        )
        if stop:
            break
    # JᵀWJ over every free parameter at the final point (for the covariance)
    for j in range(p):
        Pt[j] = P[j]
    _state(family, Pt, lx, y, w, free, varpro, J, r)
    _gram(J, r, w, fidx, M, gM)
    for a in range(qf):
        for b in range(qf):
            M_out[a, b] = M[a, b]
    return rss, conv, it


@_inline
def _skip_row(
    i: int, out_P: FloatArray, out_rss: FloatArray, out_status: Uint8Array, out_it: FloatArray, out_A: FloatArray
) -> None:
    """The outputs of a curve that is not fitted (too few points)."""
    out_P[i, :] = math.nan
    out_rss[i] = math.nan
    out_status[i] = 0
    out_it[i] = 0.0
    out_A[i, :, :] = math.nan


@_inline
def _store_row(
    i: int,
    P: FloatArray,
    rss: float,
    conv: bool,
    it: int,
    lo: FloatArray,
    hi: FloatArray,
    free: BoolArray,
    fidx: IntArray,
    flip: bool,
    T: FloatArray,
    out_P: FloatArray,
    out_rss: FloatArray,
    out_status: Uint8Array,
    out_it: FloatArray,
    out_A: FloatArray,
) -> None:
    """A fitted curve's outputs: the canonical form, its flags, and ``(JᵀWJ)⁻¹`` from the
    ``JᵀWJ`` the solver left in ``out_A[i]`` (see :func:`solve_block`)."""
    st = 0 if conv else _NOT_CONVERGED
    if flip and P[1] < P[0] and -P[3] >= lo[3] and -P[3] <= hi[3]:
        _canonical(P, out_A[i], fidx, T)
    for j in range(P.shape[0]):
        if free[j]:
            tol = max(abs(P[j]), 1.0) * 1e-9
            if P[j] <= lo[j] + tol or P[j] >= hi[j] - tol:
                st |= _AT_BOUND
    _spd_inverse_into(out_A[i], T)
    for j in range(P.shape[0]):
        out_P[i, j] = P[j]
    out_rss[i] = rss
    out_status[i] = st
    out_it[i] = it


@_jit
def solve_block(
    family: int,
    symmetric: bool,
    varpro: bool,
    fit: BoolArray,
    lx: FloatArray,
    y: FloatArray,
    w: FloatArray,
    lx_lo: FloatArray,
    lx_hi: FloatArray,
    P_fixed: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    flat_rss: FloatArray,
    free: BoolArray,
    sign: int,
    flip: bool,
    max_iter: int,
    out_P: FloatArray,
    out_rss: FloatArray,
    out_status: Uint8Array,
    out_it: FloatArray,
    out_A: FloatArray,
) -> None:
    """Fit every row of a block; row ``i`` of the outputs belongs to row ``i`` of the inputs.

    ``out_A`` receives ``(JᵀWJ)⁻¹`` over the free parameters at the optimum (NaN where
    ``JᵀWJ`` is singular): the unscaled covariance; ``out_status`` the flags
    ``NOT_CONVERGED`` and ``AT_BOUND`` (a free parameter within 1e-9 relative of a bound).
    With `flip` (a symmetric family with both plateaus and hill free) a curve is reported
    with ``top >= bottom`` where its bounds hold ``-hill``.  Every output row is written: a
    row with ``fit[i]`` False (too few points) gets NaN parameters, RSS and covariance,
    status 0 and 0 iterations.  The hot case has its own entry point,
    :func:`solve_block_logistic` (compiled only when used).
    """
    n, k = y.shape
    p = P_fixed.shape[1]
    fidx = np.flatnonzero(free)
    if varpro:
        sidx = fidx[fidx >= 2]
    else:
        sidx = fidx.copy()
    work = np.empty((3, max(k, 2 * GRID_HILL.shape[0]), max(p, 2, k)))
    mats = np.zeros((7, 5, 5))
    vec = np.zeros((11, 5))
    Sbuf = np.empty(k)
    P = np.empty(p)
    for i in range(n):
        if not fit[i]:
            _skip_row(i, out_P, out_rss, out_status, out_it, out_A)
            continue
        for j in range(p):
            P[j] = P_fixed[i, j]
        rss, conv, it = _solve_one(
            family,
            symmetric,
            varpro,
            P,
            lx[i],
            y[i],
            w[i],
            lx_lo[i],
            lx_hi[i],
            lo[i],
            hi[i],
            flat_rss[i],
            free,
            fidx,
            sidx,
            sign,
            max_iter,
            GRID_T,
            GRID_HILL,
            work,
            mats,
            vec,
            Sbuf,
            out_A[i],
        )
        _store_row(
            i, P, rss, conv, it, lo[i], hi[i], free, fidx, flip, mats[0], out_P, out_rss, out_status, out_it, out_A
        )


@_jit
def solve_block_logistic(
    fit: BoolArray,
    lx: FloatArray,
    y: FloatArray,
    w: FloatArray,
    lx_lo: FloatArray,
    lx_hi: FloatArray,
    P_fixed: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    flat_rss: FloatArray,
    sign: int,
    flip: bool,
    max_iter: int,
    out_P: FloatArray,
    out_rss: FloatArray,
    out_status: Uint8Array,
    out_it: FloatArray,
    out_A: FloatArray,
) -> None:
    """:func:`solve_block` for the hot case (:func:`_solve_logistic`: the logistic with
    both plateaus free and unbounded, location and hill free)."""
    n, k = y.shape
    free = np.ones(4, dtype=np.bool_)
    fidx = np.arange(4)
    T = np.empty((4, 4))
    Sbuf = np.empty(k)
    E = np.empty((GRID_HILL.shape[0], k))
    P = np.empty(4)
    for i in range(n):
        if not fit[i]:
            _skip_row(i, out_P, out_rss, out_status, out_it, out_A)
            continue
        for j in range(4):
            P[j] = P_fixed[i, j]
        rss, conv, it = _solve_logistic(
            P,
            lx[i],
            y[i],
            w[i],
            lx_lo[i],
            lx_hi[i],
            lo[i],
            hi[i],
            flat_rss[i],
            sign,
            max_iter,
            GRID_T,
            GRID_HILL,
            E,
            Sbuf,
            out_A[i],
        )
        _store_row(i, P, rss, conv, it, lo[i], hi[i], free, fidx, flip, T, out_P, out_rss, out_status, out_it, out_A)


@_inline
def _canonical(P: FloatArray, M: FloatArray, fidx: IntArray, T: FloatArray) -> None:
    """Swap the plateaus and negate hill (the same symmetric curve), with ``M = JᵀWJ`` over
    the free parameters transformed to match (a signed permutation: ``M' = T M Tᵀ``)."""
    P[0], P[1] = P[1], P[0]
    P[3] = -P[3]
    q = fidx.shape[0]
    b0 = b1 = b3 = -1
    for a in range(q):
        if fidx[a] == 0:
            b0 = a
        elif fidx[a] == 1:
            b1 = a
        elif fidx[a] == 3:
            b3 = a
    for a in range(q):
        for b in range(q):
            T[a, b] = M[a, b]
    for a in range(q):
        pa = b1 if a == b0 else (b0 if a == b1 else a)
        for b in range(q):
            pb = b1 if b == b0 else (b0 if b == b1 else b)
            v = T[pa, pb]
            M[a, b] = -v if (a == b3) != (b == b3) else v


# ------------------------------------------------------------------ preparation and covariance
@_inline
def _curve_stats(
    lx: FloatArray, ybar: FloatArray, w: FloatArray, npts: int, within: float, yrange: float, out: FloatArray
) -> None:
    """``out`` = (points, within-replicate SS, SS about the weighted mean, ln of the smallest
    positive and of the largest concentration with data, response range) of one curve."""
    sw = sy = 0.0
    lo = math.inf
    hi = -math.inf
    for c in range(lx.shape[0]):
        if w[c] > 0.0:
            sw += w[c]
            sy += w[c] * ybar[c]
            if lx[c] > -math.inf:  # x > 0
                lo = min(lo, lx[c])
            hi = max(hi, lx[c])
    mean = sy / sw
    ss = 0.0
    for c in range(lx.shape[0]):
        dv = ybar[c] - mean
        ss += w[c] * dv * dv
    out[0] = npts
    out[1] = within
    out[2] = ss + within
    out[3] = lo
    out[4] = hi
    out[5] = yrange


@_jit
def pool_shared(
    y: FloatArray,
    group: IntArray,
    lxu: FloatArray,
    ybar: FloatArray,
    cnt: FloatArray,
    lxk: FloatArray,
    stats: FloatArray,
) -> None:
    """Pool replicates of a design shared by every curve (exactly: same optimum and RSS).

    ``group[j]`` is the distinct concentration of raw point ``j`` (-1: NaN concentration)
    and ``lxu`` the ln of the distinct concentrations.  Fills the means ``ybar`` and counts
    ``cnt`` (n, k), ``lxk`` (``lxu`` where a column has data, else 0) and the per-curve
    ``stats`` of :func:`_curve_stats`.
    """
    n, m = y.shape
    k = lxu.shape[0]
    for i in range(n):
        for c in range(k):
            ybar[i, c] = 0.0
            cnt[i, c] = 0.0
        npts = 0
        ymin = math.inf
        ymax = -math.inf
        for j in range(m):
            v = y[i, j]
            gj = group[j]
            if gj < 0 or v != v:
                continue
            ybar[i, gj] += v
            cnt[i, gj] += 1.0
            npts += 1
            ymin = min(ymin, v)
            ymax = max(ymax, v)
        for c in range(k):
            if cnt[i, c] > 0.0:
                ybar[i, c] /= cnt[i, c]
                lxk[i, c] = lxu[c]
            else:
                lxk[i, c] = 0.0
        within = 0.0
        for j in range(m):
            v = y[i, j]
            gj = group[j]
            if gj < 0 or v != v:
                continue
            dv = v - ybar[i, gj]
            within += dv * dv
        _curve_stats(lxk[i], ybar[i], cnt[i], npts, within, ymax - ymin, stats[i])


@_jit
def mask_rows(
    x: FloatArray,
    y: FloatArray,
    w_user: FloatArray,
    weighted: bool,
    lx: FloatArray,
    yk: FloatArray,
    w: FloatArray,
    stats: FloatArray,
) -> None:
    """Per-curve designs (not pooled): a point is missing where its concentration or response
    is NaN.  Fills ``lx`` (0 where ``w == 0``), the responses ``yk`` (0 where missing), the
    weights ``w`` (``w_user`` where `weighted`, else 1; 0 where missing) and the per-curve
    ``stats`` of :func:`_curve_stats`."""
    n, m = y.shape
    for i in range(n):
        npts = 0
        ymin = math.inf
        ymax = -math.inf
        for j in range(m):
            xv = x[i, j]
            v = y[i, j]
            if xv != xv or v != v:
                yk[i, j] = 0.0
                w[i, j] = 0.0
                lx[i, j] = 0.0
                continue
            npts += 1
            ymin = min(ymin, v)
            ymax = max(ymax, v)
            yk[i, j] = v
            w[i, j] = w_user[i, j] if weighted else 1.0
            lx[i, j] = math.log(xv) if w[i, j] > 0.0 else 0.0
        _curve_stats(lx[i], yk[i], w[i], npts, 0.0, ymax - ymin, stats[i])


@_inline
def _spd_inverse_into(A: FloatArray, L: FloatArray) -> None:
    """Invert the symmetric positive-definite ``A`` in place (NaN where it is not):
    ``A⁻¹ = L⁻ᵀ L⁻¹`` from its Cholesky factor, with ``L`` inverted in place."""
    q = A.shape[0]
    if not _cholesky(A, q, L):
        A[:, :] = math.nan
        return
    for j in range(q):  # column j of L⁻¹ needs the columns >= j of L, still intact
        L[j, j] = 1.0 / L[j, j]
        for i in range(j + 1, q):
            v = 0.0
            for t in range(j, i):
                v -= L[i, t] * L[t, j]
            L[i, j] = v / L[i, i]
    for a in range(q):
        for b in range(a + 1):
            v = 0.0
            for t in range(a, q):
                v += L[t, a] * L[t, b]
            A[a, b] = v
            A[b, a] = v


# ------------------------------------------------------------------ assembly
_NOT_CONVERGED = int(FitStatus.NOT_CONVERGED)  # module constants: compiled in
_AT_BOUND = int(FitStatus.AT_BOUND)
_FLAT_RESPONSE = int(FitStatus.FLAT_RESPONSE)
_TOO_FEW_POINTS = int(FitStatus.TOO_FEW_POINTS)


@_jit
def finish(
    P: FloatArray,
    A: FloatArray,
    rss: FloatArray,
    within: FloatArray,
    npts: IntArray,
    fit: BoolArray,
    free: BoolArray,
    is_log: BoolArray,
    yrange: FloatArray,
    rss0: FloatArray,
    span: float,
    tiny_range: float,
    cov: FloatArray,
    stderr: FloatArray,
    rss_tot: FloatArray,
    F: FloatArray,
    status: Uint8Array,
    runaway: BoolArray,
) -> None:
    """Per-curve results from the solver's, in one pass (``cov`` may be ``A`` itself).

    * ``rss_tot`` (with the within-replicate SS), the covariance ``s² (JᵀWJ)⁻¹`` mapped
      from internal to reported parameters (``exp`` of the `is_log` ones: the delta
      method) and zero for fixed ones, ``stderr`` (N, p) its root diagonal;
    * ``F`` against a flat line; ``status`` (the solver's flags) gains ``NOT_CONVERGED``
      for a ``runaway`` fit: plateaus more than `span` response ranges apart (its
      least-squares infimum lies at infinity).

    A curve that was not fitted gets NaN everywhere and ``TOO_FEW_POINTS``.
    """
    N, p = P.shape
    q = A.shape[1]
    fidx = np.flatnonzero(free)
    pos = np.full(p, -1)
    for a in range(q):
        pos[fidx[a]] = a
    df1 = max(q - 1, 1)
    T = np.empty((q, q))
    dl = np.ones(p)
    for i in range(N):
        if not fit[i]:
            cov[i, :, :] = math.nan
            stderr[i, :] = math.nan
            rss_tot[i] = math.nan
            F[i] = math.nan
            status[i] = _TOO_FEW_POINTS
            runaway[i] = False
            continue
        run = (free[0] or free[1]) and abs(P[i, 1] - P[i, 0]) > span * max(yrange[i], tiny_range)
        if run:
            status[i] |= _NOT_CONVERGED
        runaway[i] = run
        r = rss[i] + within[i]
        rss_tot[i] = r
        dof = npts[i] - q
        s2 = r / max(dof, 1) if dof > 0 else math.nan
        F[i] = ((rss0[i] - r) / df1) / (r / dof)
        for j in range(p):
            dl[j] = math.exp(P[i, j]) if is_log[j] else 1.0
        for a in range(q):
            for b in range(q):
                T[a, b] = A[i, a, b]
        for ja in range(p):
            for jb in range(p):
                a, b = pos[ja], pos[jb]
                if a < 0 or b < 0:
                    cov[i, ja, jb] = 0.0
                    continue
                v = T[a, b] * s2
                j1, j2 = min(ja, jb), max(ja, jb)  # the factors in the order of the parameters
                if is_log[j1]:
                    v *= dl[j1]
                if is_log[j2]:
                    v *= dl[j2]
                cov[i, ja, jb] = v
            stderr[i, ja] = math.sqrt(cov[i, ja, ja])


@_jit
def finish_flat(
    pval: FloatArray,
    fit: BoolArray,
    npts: IntArray,
    q: int,
    rss0: FloatArray,
    alpha: float,
    status: Uint8Array,
    runaway: BoolArray,
    free: BoolArray,
    P: FloatArray,
    cov: FloatArray,
    stderr: FloatArray,
) -> None:
    """After the F test's p-values: NaN where the test does not apply, 1 for a constant
    response, ``FLAT_RESPONSE`` above `alpha`; a flat curve that did not converge (or a
    runaway fit) has no estimates: NaN free parameters and covariance."""
    N, p = P.shape
    for i in range(N):
        if not (fit[i] and npts[i] - q > 0 and q > 1):
            pval[i] = math.nan
        else:
            if pval[i] != pval[i] or rss0[i] <= 1e-300:
                pval[i] = 1.0
            if pval[i] > alpha:
                status[i] |= _FLAT_RESPONSE
        flat_nc = (status[i] & _NOT_CONVERGED) != 0 and (status[i] & _FLAT_RESPONSE) != 0
        if flat_nc or runaway[i]:
            for j in range(p):
                if free[j]:
                    P[i, j] = math.nan
                stderr[i, j] = math.nan
            cov[i, :, :] = math.nan
