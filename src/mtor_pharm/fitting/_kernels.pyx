# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False, infer_types=False, embedsignature=False
"""The compiled per-curve solver (internal), built ahead of time with the package.

Every curve of a block is fitted by the same scalar C code (Cython, the GIL released, so
blocks given to different threads run on different cores):

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
  its decrement is already ``≤ 1e-10·RSS``; a curve that stalls while creeping towards
  a near bound is put on that bound and goes on, kept there if it then converges to an
  RSS at most ``1e-9`` (relative) above the stalled one;
* **Newton steps** near the optimum (once a Gauss–Newton step would gain less than 1 %
  of the RSS), where the damped Newton matrix is positive definite: the general loop
  takes the matrix from forward differences of the exact (reduced) gradient, so the
  same data in another concentration unit converge to the same point to ~1e-9.

The hot case (logistic, plateaus free and unbounded, location and hill free) has its own
loop on scalars (:func:`_solve_logistic`: the same steps, written out for 2×2, with
Newton steps on the exact reduced Hessian near the optimum), and dilution series evaluate the
model's exponentials by a chain of products (:func:`_exp_series`).  :func:`finish` turns
the solver's outputs into the reported covariance, standard errors and status flags.

Internal parameters are ``(bottom, top, ln loc, hill[, ln s])``; ``lx`` is ``ln x`` with
``-inf`` for vehicle (x = 0); a point with weight 0 is padding and is ignored.

The entry points (``solve_block``, ``solve_block_logistic``, ``pool_shared``,
``mask_rows``, ``finish``, ``finish_flat``) take C-contiguous float64 arrays, bool arrays
as numpy ``bool_`` and integer arrays as ``int64``; they write into the output arrays
given and return nothing.  Min and max follow Python's rule (``max(a, b)`` is ``b`` only
if ``b > a``), so NaN propagates exactly as in the reference implementation.
"""

from libc.math cimport INFINITY, NAN, erfc, exp, expm1, fabs, log, log1p, sqrt
from libc.stdint cimport int64_t, uint8_t
from scipy.special.cython_special cimport fdtrc

import numpy as np

from ._layout import LOGISTIC as _PY_LOGISTIC
from ._layout import LOGNORMAL as _PY_LOGNORMAL
from ._layout import RICHARDS as _PY_RICHARDS
from ._layout import WEIBULL1 as _PY_WEIBULL1
from ._layout import WEIBULL2 as _PY_WEIBULL2
from ._quality import MAX_CI_DECADES, MAX_DEPENDENCY
from ._result import FitStatus

ctypedef double[::1] vec_t
ctypedef const double[::1] cvec_t
ctypedef double[:, ::1] mat_t
ctypedef const double[:, ::1] cmat_t
ctypedef const uint8_t[::1] cflags_t

# the family numbers and status bits, defined once elsewhere and read here at import
cdef int LOGISTIC = _PY_LOGISTIC
cdef int RICHARDS = _PY_RICHARDS
cdef int WEIBULL1 = _PY_WEIBULL1
cdef int WEIBULL2 = _PY_WEIBULL2
cdef int LOGNORMAL = _PY_LOGNORMAL
cdef double _SQRT1_2 = 0.70710678118654752440  # 1 / sqrt(2)
cdef double _INV_SQRT_2PI = 0.39894228040143267794  # 1 / sqrt(2 pi)
cdef double _LOGNORMAL_HILL = 0.6266570686577501  # sqrt(pi / 8): same midpoint slope as the logistic
cdef uint8_t _NOT_CONVERGED = int(FitStatus.NOT_CONVERGED)
cdef uint8_t _AT_BOUND = int(FitStatus.AT_BOUND)
cdef uint8_t _FLAT_RESPONSE = int(FitStatus.FLAT_RESPONSE)
cdef uint8_t _TOO_FEW_POINTS = int(FitStatus.TOO_FEW_POINTS)
cdef uint8_t _AMBIGUOUS = int(FitStatus.AMBIGUOUS)
cdef uint8_t _IC50_OUTSIDE_RANGE = int(FitStatus.IC50_OUTSIDE_RANGE)
cdef uint8_t _UNDETERMINED = _FLAT_RESPONSE | _TOO_FEW_POINTS | _NOT_CONVERGED

# The Levenberg-Marquardt settings, importable: the global solver (`_global`) and the
# generic one (`_generic`) iterate with these very numbers
DEC_TOL = 1e-14
LINEAR_RATE_MAX = 0.95
STEP_TOL = 1e-9
STALL_TOL = 1e-10
LAM_MAX = 1e16
TINY = 1e-300
ZERO_RSS = 1e-28
STALL_EVERY = 10
STALL_REL = 1e-6
LAM0 = 0.1
cdef double _DEC_TOL = DEC_TOL  # converged: GN decrement <= _DEC_TOL * rss
cdef double _LINEAR_RATE_MAX = LINEAR_RATE_MAX  # successive GN steps shrinking faster than this: still converging
cdef double _STEP_TOL = STEP_TOL  # ... and the estimated remaining error <= _STEP_TOL * max(|param|, 1)
cdef double _STALL_TOL = STALL_TOL  # converged if stopped for lack of progress with decrement <= this * rss
cdef double _LAM_MAX = LAM_MAX
cdef double _TINY = TINY
cdef double _ZERO_RSS = ZERO_RSS  # an RSS below this fraction of sum(w y^2) is an exact fit
cdef int _STALL_EVERY = STALL_EVERY  # iterations between stall checks
cdef double _STALL_REL = STALL_REL  # RSS fell by less than this (relative) over that span: stalled
cdef double _STALL_FLAT_REL = 1e-3  # ... or by less than this while clearly flat
cdef int _STALL_FLAT_EVERY = 5  # iterations between the checks of a clearly flat curve
cdef double _LAM0 = LAM0  # initial damping (the grid start is coarse)
NEWTON_DEC = 1e-2
FD_REL = 1e-7
cdef double _NEWTON_DEC = NEWTON_DEC  # Newton steps once a GN step would gain less than this fraction of the RSS
cdef double _SNAP = 1e-2  # a stalled parameter this close to a bound (own scale) is tried on it
cdef double _SNAP_RSS = 1e-9  # ... kept there (the others refitted) if the RSS rises by at most this (relative)
cdef double _FD_REL = FD_REL  # relative step of the forward differences of the exact gradient (general loop's Newton matrix)
cdef int _MAXP = 5  # parameters of the largest compiled family
cdef int _MAX_DISTINCT = 15  # distinct concentrations counted per curve (seen[16] in _curve_stats)
cdef double _MAX_DEPENDENCY = MAX_DEPENDENCY
cdef double _MAX_CI_LN = MAX_CI_DECADES * log(10.0)  # widest IC50 interval, on the ln scale

#: the family numbers :func:`solve_block` accepts (any other is refused, never fitted as another)
SHAPE_FAMILIES = frozenset((_PY_LOGISTIC, _PY_RICHARDS, _PY_WEIBULL1, _PY_WEIBULL2, _PY_LOGNORMAL))

# coarse start grid
GRID_T = np.linspace(-0.1, 1.1, 6)  # fractions of each curve's log-concentration range
GRID_HILL = np.array([0.7, 1.6, 4.0])


# ------------------------------------------------------------------ scalar helpers
cdef inline double _max(double a, double b) noexcept nogil:
    """Python's ``max(a, b)``: ``b`` only if ``b > a`` (so a NaN in `a` is kept)."""
    return b if b > a else a


cdef inline double _min(double a, double b) noexcept nogil:
    """Python's ``min(a, b)``: ``b`` only if ``b < a``."""
    return b if b < a else a


cdef inline double _clip(double v, double lo, double hi) noexcept nogil:
    if v < lo:
        return lo
    if v > hi:
        return hi
    return v


# ------------------------------------------------------------------ shapes
# ------------------------------------------------------------------ the status rules
# The rules behind the FitStatus bits, written once: the per-curve passes below call them
# per curve, and ``fitting._status`` (the global fits' statuses) calls them over arrays
# through the ``rule_*`` entry points at the end of this module.
AT_BOUND_RTOL = 1e-9  # a free parameter this close (relative to max(|v|, 1)) to a bound: AT_BOUND
DEGENERATE_SPAN = 1e3  # plateaus further apart than this many response ranges: a runaway fit
TINY_RANGE = 1e-300  # the response range below which a curve's range counts as this
F_ALPHA = 0.05  # the F test against a flat line that does not reject at this level: FLAT_RESPONSE
CONSTANT_SS = 1e-300  # a sum of squares about the mean at or below this: a constant response (p = 1)
cdef double _AT_BOUND_RTOL = AT_BOUND_RTOL
cdef double _DEGENERATE_SPAN = DEGENERATE_SPAN
cdef double _TINY_RANGE = TINY_RANGE
cdef double _F_ALPHA = F_ALPHA
cdef double _CONSTANT_SS = CONSTANT_SS


cdef inline bint _rule_fittable(double npts, double distinct, double q) noexcept nogil:
    """``TOO_FEW_POINTS`` where False: more points than free parameters, and at least as
    many distinct concentrations (vehicle counts as one)."""
    return npts > q and distinct >= q


cdef inline bint _rule_at_bound(double v, double lo, double hi) noexcept nogil:
    """``AT_BOUND``: a free parameter on or within ``AT_BOUND_RTOL·max(|v|, 1)`` of a bound."""
    cdef double tol = _max(fabs(v), 1.0) * _AT_BOUND_RTOL
    return v <= lo + tol or v >= hi - tol


cdef inline bint _rule_runaway(double bottom, double top, double yrange) noexcept nogil:
    """``NOT_CONVERGED`` (no estimates): plateaus more than ``DEGENERATE_SPAN`` response
    ranges apart, the least-squares infimum lying at infinity."""
    return fabs(top - bottom) > _DEGENERATE_SPAN * _max(yrange, _TINY_RANGE)


cdef inline double _rule_flat_pvalue(double rss, double rss0, double npts, double q) noexcept nogil:
    """p-value of the extra-sum-of-squares F test of a `q`-parameter fit against a flat line:
    ``F = ((rss0 − rss)/max(q − 1, 1)) / (rss/(n − q))``; NaN where it does not apply
    (``n ≤ q`` or ``q ≤ 1``), 1 for a constant response or an undefined statistic."""
    cdef double df1 = q - 1.0 if q - 1.0 > 1.0 else 1.0
    cdef double dof = npts - q
    if not (dof > 0.0 and q > 1.0):
        return NAN
    cdef double F = ((rss0 - rss) / df1) / (rss / dof)
    cdef double pv = fdtrc(df1, dof if dof > 1.0 else 1.0, F)
    if pv != pv or rss0 <= _CONSTANT_SS:
        pv = 1.0
    return pv


cdef inline bint _rule_flat(double pvalue) noexcept nogil:
    """``FLAT_RESPONSE``: the F test against a flat line does not reject at ``F_ALPHA``."""
    return pvalue > _F_ALPHA


cdef inline bint _rule_outside_range(double ic50, double conc_min, double conc_max) noexcept nogil:
    """``IC50_OUTSIDE_RANGE`` for a determined curve: a finite IC50 outside the tested range."""
    return fabs(ic50) < INFINITY and (ic50 < conc_min or ic50 > conc_max)


cdef inline (double, double, double) _shape(int family, double z, double s) noexcept nogil:
    """``S(z)``, ``dS/dz`` and (Richards only) ``dS/ds``; exact limits at ``z = ±inf``."""
    cdef double S, le, ex, ez, Sz, emz
    if family == LOGISTIC:
        S = 1.0 / (1.0 + exp(z))
        return S, S * (S - 1.0), 0.0
    if family == RICHARDS:
        # log(expit(-z)), stable for either sign of z
        le = (-z - log1p(exp(-z))) if z > 0.0 else -log1p(exp(z))
        S = exp(s * le)
        ex = 1.0 / (1.0 + exp(-z))
        return S, -s * S * ex, (S * le if S > 0.0 else 0.0)
    if family == WEIBULL1:
        ez = exp(z)
        Sz = -exp(z - ez) if ez < INFINITY else 0.0
        return exp(-ez), Sz, 0.0
    if family == LOGNORMAL:
        # S = Phi(-z) = erfc(z / sqrt 2) / 2, dS/dz = -phi(z) (exactly 0 at z = +-inf)
        return 0.5 * erfc(z * _SQRT1_2), -_INV_SQRT_2PI * exp(-0.5 * z * z), 0.0
    if family == WEIBULL2:
        emz = exp(-z)
        Sz = -exp(-z - emz) if emz < INFINITY else 0.0
        return -expm1(-emz), Sz, 0.0
    return NAN, NAN, NAN  # not reached: solve_block refuses an unknown family


# ------------------------------------------------------------------ model state at P
cdef double _state(
    int family, double[::1] P, cvec_t lx, cvec_t y, cvec_t w, cflags_t free, bint varpro, mat_t J, vec_t r
) noexcept nogil:
    """Jacobian columns ``J`` (k, p) and residuals ``r`` at ``P``; returns the weighted RSS.

    With `varpro` the free plateaus are first replaced (in ``P``) by their linear
    least-squares values for this location/hill/s.
    """
    cdef Py_ssize_t k = lx.shape[0]
    cdef Py_ssize_t p = P.shape[0]
    cdef Py_ssize_t t
    cdef int j, o
    cdef double s = exp(P[4]) if p == 5 else 1.0
    cdef double loc = P[2]
    cdef double hill = P[3]
    cdef double d, S, Sz, Ss, wt, u, v, g00, g01, g11, b0, b1, det, num, den, amp, rss, aSz, rt
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
                u = J[t, 0]
                v = J[t, 1]
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
        J[t, 3] = aSz * d if fabs(d) < INFINITY else 0.0  # at x = 0, Sz * d -> 0
        if p == 5:
            J[t, 4] = amp * s * J[t, 4]
        rt = P[0] + amp * S - y[t]
        r[t] = rt
        rss += w[t] * rt * rt
    return rss


# ------------------------------------------------------------------ small dense algebra
cdef inline bint _cholesky(mat_t A, int q, mat_t L) noexcept nogil:
    """Lower Cholesky factor of the leading q×q block of ``A`` into ``L``; False if not SPD."""
    cdef int i, j, t
    cdef double s, d, v
    for j in range(q):
        s = A[j, j]
        for t in range(j):
            s -= L[j, t] * L[j, t]
        if not s > 0.0:
            return False
        d = sqrt(s)
        L[j, j] = d
        for i in range(j + 1, q):
            v = A[i, j]
            for t in range(j):
                v -= L[i, t] * L[j, t]
            L[i, j] = v / d
    return True


cdef inline void _forward(mat_t L, vec_t b, int q, vec_t u) noexcept nogil:
    cdef int i, t
    cdef double v
    for i in range(q):
        v = b[i]
        for t in range(i):
            v -= L[i, t] * u[t]
        u[i] = v / L[i, i]


cdef inline void _backward(mat_t L, vec_t u, int q, vec_t x) noexcept nogil:
    cdef int i, t
    cdef double v
    for i in range(q - 1, -1, -1):
        v = u[i]
        for t in range(i + 1, q):
            v -= L[t, i] * x[t]
        x[i] = v / L[i, i]


cdef void _gram(mat_t J, vec_t r, cvec_t w, const int64_t[::1] fidx, mat_t M, vec_t g) noexcept nogil:
    """``M = JᵀWJ`` and ``g = JᵀWr`` over the free columns ``fidx`` (one pass over the points,
    so the sums accumulate side by side)."""
    cdef Py_ssize_t qf = fidx.shape[0]
    cdef Py_ssize_t k = r.shape[0]
    cdef Py_ssize_t a, b, t
    cdef double wt, wa
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
cdef inline (double, double, double) _moments(cvec_t w, cvec_t y) noexcept nogil:
    """``(Σw, Σwy, Σwy²)`` of one curve."""
    cdef double sw = 0.0, sy = 0.0, syy = 0.0
    cdef Py_ssize_t t
    for t in range(w.shape[0]):
        sw += w[t]
        sy += w[t] * y[t]
        syy += w[t] * y[t] * y[t]
    return sw, sy, syy


cdef inline (double, double, double) _logistic_cell(
    const double[::1] E, double c, cvec_t w, cvec_t y, vec_t S
) noexcept nogil:
    """``S = 1 / (1 + E c)`` into `S`, and ``(ΣwS, ΣwS², ΣwSy)``: the logistic at one grid
    cell from the factorised exponentials (``E`` of the cell's hill, ``c`` of its location)."""
    cdef double sS = 0.0, sSS = 0.0, sSy = 0.0, St, wS
    cdef Py_ssize_t t
    for t in range(w.shape[0]):
        St = 1.0 / (1.0 + E[t] * c)
        S[t] = St
        wS = w[t] * St
        sS += wS
        sSS += wS * St
        sSy += wS * y[t]
    return sS, sSS, sSy


cdef inline (double, double) _linear_plateaus(double sw, double sy, double sS, double sSS, double sSy) noexcept nogil:
    """``(bottom, top - bottom)``: least squares of ``y ≈ bottom + amp S`` from the sums (a
    flat line where ``S`` hardly varies)."""
    cdef double det = sw * sSS - sS * sS
    cdef double amp
    if fabs(det) > 1e-12 * sw * sSS:
        amp = (sw * sSy - sS * sy) / det
        return (sy - amp * sS) / sw, amp
    return sy / _max(sw, _TINY), 0.0


cdef inline double _grid_hill(bint hill_free, int sign, double hill0, cvec_t grid_hill, Py_ssize_t ih) noexcept nogil:
    """Hill of grid column ``ih``: the fixed value, one sign of the grid, or both signs."""
    if not hill_free:
        return hill0
    cdef Py_ssize_t nh = grid_hill.shape[0]
    if sign != 0:
        return <double>sign * grid_hill[ih]
    return grid_hill[ih] if ih < nh else -grid_hill[ih - nh]


cdef void _grid_start(
    int family,
    bint symmetric,
    vec_t P,
    cvec_t lx,
    cvec_t y,
    cvec_t w,
    double lx_lo,
    double lx_hi,
    cflags_t free,
    cvec_t lo,
    cvec_t hi,
    int sign,
    cvec_t grid_t,
    cvec_t grid_hill,
    vec_t S,
    mat_t E,
) noexcept nogil:
    """Overwrite the free parameters of ``P`` with the best cell of the start grid."""
    cdef Py_ssize_t k = lx.shape[0]
    cdef Py_ssize_t p = P.shape[0]
    cdef Py_ssize_t t, il, ih, n_loc, n_hill
    cdef Py_ssize_t nh = grid_hill.shape[0]
    cdef double s, c, mid, best, bb, bt, bl, bh, loc, hill, bottom, top, rss, amp, fixed, num, den, v, rt, St, wS
    cdef double sw, sy, syy, sS, sSS, sSy
    cdef bint unbounded, first, fast
    if p == 5 and free[4]:
        P[4] = 0.0  # s = 1
    s = exp(P[4]) if p == 5 else 1.0
    n_loc = grid_t.shape[0] if free[2] else 1
    if not free[3]:
        n_hill = 1
    elif sign != 0 or (symmetric and free[0] and free[1]):
        n_hill = nh
    else:
        n_hill = 2 * nh
    unbounded = lo[0] == -INFINITY and lo[1] == -INFINITY and hi[0] == INFINITY and hi[1] == INFINITY
    sw, sy, syy = _moments(w, y)
    c = 1.0
    mid = 0.5 * (lx_lo + lx_hi)
    if family == LOGISTIC:
        for ih in range(n_hill):
            hill = _clip(_grid_hill(free[3], sign, P[3], grid_hill, ih), lo[3], hi[3])
            for t in range(k):
                E[ih, t] = exp(hill * (lx[t] - mid))
    best = INFINITY
    bb, bt, bl, bh = P[0], P[1], P[2], P[3]
    first = True
    for il in range(n_loc):
        loc = (lx_lo + grid_t[il] * (lx_hi - lx_lo)) if free[2] else P[2]
        loc = _clip(loc, lo[2], hi[2])
        for ih in range(n_hill):
            hill = _grid_hill(free[3], sign, P[3], grid_hill, ih)
            if family == LOGNORMAL and free[3]:
                # Phi(-z) is as steep at its midpoint as the logistic at 1.6 z (its tails are
                # lighter): the same grid of shapes, on the log-normal's hill scale
                hill *= _LOGNORMAL_HILL
            hill = _clip(hill, lo[3], hi[3])
            # the plateaus for this cell in closed form (S is stored only where needed)
            bottom, top = P[0], P[1]
            rss = NAN
            fast = family == LOGISTIC
            if fast:
                # e^(hill (lx - loc)) = e^(hill (lx - mid)) e^(-hill (loc - mid)): one exp per cell
                c = exp(-hill * (loc - mid))
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
                    S[t] = (1.0 / (1.0 + E[ih, t] * c)) if fast else _shape(family, hill * (lx[t] - loc), s)[0]
            if (free[1] or free[0]) and not (free[0] and free[1]):
                fixed = P[0] if free[1] else P[1]  # the fixed plateau
                num = den = 0.0
                for t in range(k):
                    v = S[t] if free[1] else 1.0 - S[t]
                    num += w[t] * v * (y[t] - fixed)
                    den += w[t] * v * v
                amp = num / den
                if not fabs(amp) < INFINITY:
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
            if not rss < INFINITY:
                rss = INFINITY
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
cdef double _eval_generic(
    int family,
    bint varpro,
    vec_t P,
    cvec_t lx,
    cvec_t y,
    cvec_t w,
    cflags_t free,
    const int64_t[::1] fidx,
    int nl,
    mat_t J,
    vec_t r,
    mat_t M,
    vec_t gM,
    mat_t A,
    vec_t g,
) noexcept nogil:
    """RSS at ``P`` and the normal equations ``A``, ``g`` of the step parameters there.

    The step parameters are the free ones after the first `nl` of ``fidx`` (the plateaus
    solved by variable projection); ``A`` is then the Schur complement of the plateau
    block of ``JᵀWJ`` (Kaufman's reduced normal matrix) and ``g`` the matching rows of
    ``JᵀWr`` (the residual is orthogonal to the plateau columns).
    """
    cdef double rss = _state(family, P, lx, y, w, free, varpro, J, r)
    cdef Py_ssize_t q = fidx.shape[0] - nl
    cdef Py_ssize_t a, b
    cdef double det, ha0, ha1, hb0, hb1
    _gram(J, r, w, fidx, M, gM)
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


cdef inline void _exp_series_c(
    double a, double b, cvec_t lx, bint geo, Py_ssize_t mid, double step, vec_t out
) noexcept nogil:
    """``out[t] = exp(a (lx[t] - b))`` for every point.

    Where the design is geometric (`geo`: ``lx[t] = lx[0] + t step`` to rounding, no
    vehicle, no padding; the usual dilution series) and no term can overflow, two ``exp``
    and a chain of products from the middle point `mid` replace one ``exp`` per point
    (``exp`` is ~40 % of an evaluation's time).  The products add at most ``k/2``
    roundings; the rest of the difference is of the size of the rounding of the exponents,
    which ``exp`` per point has too: a few ulp of ``|a| max(|lx|, |b|)``, relative (about
    1e-14 for hill 1, against the fit's tolerance of 1e-9).
    """
    cdef Py_ssize_t k = lx.shape[0]
    cdef Py_ssize_t t
    cdef double z = a * (lx[mid] - b)
    cdef double r = a * step
    cdef double e0, up, down, e
    if geo and fabs(z) + 0.5 * k * fabs(r) < 700.0:
        e0 = exp(z)
        up = exp(r)
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
            out[t] = exp(a * (lx[t] - b))


cdef inline (bint, Py_ssize_t, double) _geometric_c(cvec_t lx, cvec_t w) noexcept nogil:
    """Whether the points lie on a geometric design (see :func:`_exp_series`): every point
    present, positive, and ``lx`` evenly spaced to within a few ulp; with the middle
    point and the step."""
    cdef Py_ssize_t k = lx.shape[0]
    cdef Py_ssize_t t
    if k < 3:
        return False, 0, 0.0
    cdef double step = (lx[k - 1] - lx[0]) / (k - 1)
    for t in range(k):
        if not (w[t] > 0.0 and fabs(lx[t] - (lx[0] + t * step)) <= 1e-15 * _max(fabs(lx[t]), 1.0) * 4.0):
            return False, 0, 0.0
    return True, k // 2, step


ctypedef (double, double, double, double, double, double, double, double, double, double, double) eval11_t


cdef inline eval11_t _eval_logistic(
    double loc,
    double hill,
    cvec_t lx,
    cvec_t y,
    cvec_t w,
    vec_t Sv,
    bint geo,
    Py_ssize_t mid,
    double step,
) noexcept nogil:
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
    cdef Py_ssize_t k = lx.shape[0]
    cdef Py_ssize_t t
    cdef double sw = 0.0, sS = 0.0, sSS = 0.0, sy = 0.0, sSy = 0.0
    cdef double wt, S, det, amp, bottom, d, rt, Sz, Szz, aSz, v2, v3, wr, wv2, wv3
    cdef double rss = 0.0, s2 = 0.0, s3 = 0.0, sS2 = 0.0, sS3 = 0.0, s22 = 0.0, s23 = 0.0, s33 = 0.0
    cdef double g2 = 0.0, g3 = 0.0
    cdef double c2 = 0.0, c3 = 0.0, e22 = 0.0, e23 = 0.0, e33 = 0.0  # second-derivative terms of the Hessian
    cdef double i00, i01, i11, a00, a01, a11, t2, t3, h00, h01, h11
    _exp_series_c(hill, loc, lx, geo, mid, step, Sv)
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
    for t in range(k):
        wt = w[t]
        d = lx[t] - loc
        if not d > -INFINITY:
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


cdef inline void _gram_logistic(
    vec_t P, cvec_t lx, cvec_t w, mat_t M, vec_t Sv, bint geo, Py_ssize_t mid, double step
) noexcept nogil:
    """``JᵀWJ`` over (bottom, top, ln ic50, hill) of the 4PL at ``P``, in one pass."""
    cdef double amp = P[1] - P[0]
    cdef double loc = P[2]
    cdef double hill = P[3]
    cdef double m00 = 0.0, m01 = 0.0, m02 = 0.0, m03 = 0.0, m11 = 0.0, m12 = 0.0, m13 = 0.0
    cdef double m22 = 0.0, m23 = 0.0, m33 = 0.0
    cdef double wt, S, d, aSz, j0, j2, j3
    cdef Py_ssize_t t
    _exp_series_c(hill, loc, lx, geo, mid, step, Sv)
    for t in range(lx.shape[0]):
        wt = w[t]
        S = 1.0 / (1.0 + Sv[t])  # at x = 0 (lx = -inf) the limit, 1 or 0
        d = lx[t] - loc
        if not d > -INFINITY:
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
cdef inline double _worst(double size, double v) noexcept nogil:
    """Running maximum of relative step sizes that keeps a NaN."""
    return v if (v > size or v != v) else size


cdef inline (bint, bint) _converged(double gn_size, double step_prev, double dec, double rss, double floor) noexcept nogil:
    """The convergence test: ``(converged, converging)``.

    Gauss-Newton converges linearly on curves with large residuals (slowly where the IC50
    is poorly determined): the remaining error is about ``step rho / (1 - rho)``, with
    ``rho`` the observed ratio of successive steps, and that is what must be small;
    steady linear convergence (``converging``) is progress, not a stall.
    """
    cdef double ratio = gn_size / step_prev if fabs(step_prev) < INFINITY else 0.5
    cdef double rho = _min(_max(ratio, 0.0), 0.999) if ratio == ratio else ratio
    cdef bint small = gn_size * rho / (1.0 - rho) <= _STEP_TOL
    cdef bint conv = ((dec <= _DEC_TOL * rss + floor) and (small or gn_size == 0.0)) or rss <= floor
    return conv, ratio < _LINEAR_RATE_MAX


cdef inline (double, double) _damping(bint accepted, double rss, double rss_t, double pred, double lam, double nu) noexcept nogil:
    """Nielsen's update of the damping after a trial step with predicted reduction `pred`."""
    cdef double rho_lm, c
    if accepted:
        rho_lm = (rss - rss_t) / pred if pred > 0.0 else 0.0
        c = 2.0 * rho_lm - 1.0
        return lam * _max(1.0 / 3.0, 1.0 - c * c * c), 2.0
    return lam * nu, nu * 2.0


cdef inline (bint, bint, double, double) _stop(
    int it,
    int max_iter,
    double lam,
    double nu,
    double rss,
    double dec,
    bint converging,
    double flat_rss,
    double rss_ref,
    double rss_ref_flat,
) noexcept nogil:
    """Stop for lack of progress or out of iterations: ``(stop, converged, rss_ref,
    rss_ref_flat)``. Damping blown up, no RSS decrease over ``_STALL_EVERY`` iterations
    while not converging linearly, or a clearly flat curve (RSS above `flat_rss`) that
    barely moves; a curve so stopped is converged after all if its decrement is tiny."""
    cdef bint blown = lam > _LAM_MAX or nu > 1e30
    cdef bint stalled = False
    if it % _STALL_EVERY == 0:
        stalled = rss_ref - rss <= _STALL_REL * rss and not converging
        rss_ref = rss
    if it % _STALL_FLAT_EVERY == 0:
        stalled = stalled or (rss > flat_rss and rss_ref_flat - rss <= _STALL_FLAT_REL * rss)
        rss_ref_flat = rss
    cdef bint stop = blown or stalled or it >= max_iter
    cdef bint conv = (blown or stalled) and dec <= _STALL_TOL * _max(rss, _TINY)
    return stop, conv, rss_ref, rss_ref_flat


# ------------------------------------------------------------------ the hot case, on scalars
cdef inline (bint, double, double, double) _chol2(double b00, double b01, double b11) noexcept nogil:
    """Cholesky factor ``(l00, l10, l11)`` of a symmetric 2×2 matrix; False if not SPD."""
    if not b00 > 0.0:
        return False, NAN, NAN, NAN
    cdef double l00 = sqrt(b00)
    cdef double l10 = b01 / l00
    cdef double s = b11 - l10 * l10
    if not s > 0.0:
        return False, NAN, NAN, NAN
    return True, l00, l10, sqrt(s)


cdef inline (double, double) _grid_logistic(
    cvec_t lx,
    cvec_t y,
    cvec_t w,
    double lx_lo,
    double lx_hi,
    cvec_t lo,
    cvec_t hi,
    int sign,
    cvec_t grid_t,
    cvec_t grid_hill,
    mat_t E,
    vec_t S,
    bint geo,
    Py_ssize_t mid,
    double step,
) noexcept nogil:
    """:func:`_grid_start` for the hot case: the ``(ln loc, hill)`` of the best cell, with
    the plateaus in closed form and the RSS from the normal equations (no residual pass)."""
    cdef Py_ssize_t nh = grid_hill.shape[0]
    cdef Py_ssize_t ih, il
    cdef double sw, sy, syy, hill, loc, c, sS, sSS, sSy, bottom, amp, rss
    cdef double centre = 0.5 * (lx_lo + lx_hi)
    sw, sy, syy = _moments(w, y)
    for ih in range(nh):
        hill = _clip(_grid_hill(True, sign, 0.0, grid_hill, ih), lo[3], hi[3])
        _exp_series_c(hill, centre, lx, geo, mid, step, E[ih])
    cdef double best = INFINITY
    cdef double bl = NAN, bh = NAN
    cdef bint first = True
    for il in range(grid_t.shape[0]):
        loc = _clip(lx_lo + grid_t[il] * (lx_hi - lx_lo), lo[2], hi[2])
        for ih in range(nh):
            hill = _clip(_grid_hill(True, sign, 0.0, grid_hill, ih), lo[3], hi[3])
            c = exp(-hill * (loc - centre))  # e^(hill (lx - loc)) = E e^(-hill (loc - centre))
            sS, sSS, sSy = _logistic_cell(E[ih], c, w, y, S)
            bottom, amp = _linear_plateaus(sw, sy, sS, sSS, sSy)
            rss = syy - bottom * sy - amp * sSy
            if not rss < INFINITY:
                rss = INFINITY
            if first or rss < best:
                first = False
                best = rss
                bl, bh = loc, hill
    return bl, bh


cdef (double, bint, int) _solve_logistic(
    vec_t P,
    cvec_t lx,
    cvec_t y,
    cvec_t w,
    double lx_lo,
    double lx_hi,
    cvec_t lo,
    cvec_t hi,
    double flat_rss,
    int sign,
    int max_iter,
    cvec_t grid_t,
    cvec_t grid_hill,
    mat_t E,
    vec_t Sv,
    mat_t M_out,
) noexcept nogil:
    """:func:`_solve_one` for the hot case (logistic, plateaus free and unbounded, location
    and hill free): the same grid start, active set, damping, convergence and stall tests,
    with the 2×2 algebra on scalars, and a Newton step on the exact reduced Hessian once a
    Gauss–Newton step would gain less than ``_NEWTON_DEC`` of the RSS (where the damped
    Newton matrix is positive definite; else the Gauss–Newton step)."""
    cdef double lo2 = lo[2], hi2 = hi[2], lo3 = lo[3], hi3 = hi[3]
    cdef bint geo
    cdef Py_ssize_t mid
    cdef double step
    geo, mid, step = _geometric_c(lx, w)
    cdef double loc, hill, rss, bottom, top, a00, a01, a11, g0, g1, h00, h01, h11
    loc, hill = _grid_logistic(lx, y, w, lx_lo, lx_hi, lo, hi, sign, grid_t, grid_hill, E, Sv, geo, mid, step)
    loc = _clip(loc, lo2, hi2)
    hill = _clip(hill, lo3, hi3)
    rss, bottom, top, a00, a01, a11, g0, g1, h00, h01, h11 = _eval_logistic(loc, hill, lx, y, w, Sv, geo, mid, step)
    if not rss < INFINITY:
        rss = INFINITY
    cdef double floor = _ZERO_RSS * _moments(w, y)[2] + _TINY
    cdef double lam = _LAM0
    cdef double nu = 2.0
    cdef double D0 = 0.0, D1 = 0.0
    cdef double rss_ref = rss, rss_ref_flat = rss
    cdef double step_prev = INFINITY
    cdef double dec = INFINITY
    cdef int it = 0
    cdef bint conv = False
    cdef double s0, s1, b00, b01, b11, n00, n01, n11, l00, l10, l11, u0, u1, x0, x1, gn_size
    cdef double fl, d0, d1, m00, m10, m11, st0, st1, loc_t, hill_t, dP0, dP1, pred
    cdef double rss_t, bot_t, top_t, ta00, ta01, ta11, tg0, tg1, th00, th01, th11
    cdef bint fr0, fr1, ok, converging, okd, newton, accepted, stop
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
            gn_size = _worst(_worst(0.0, fabs(x0) / _max(fabs(loc), 1.0)), fabs(x1) / _max(fabs(hill), 1.0))
        else:
            dec = INFINITY
            gn_size = NAN
        conv, converging = _converged(gn_size, step_prev, dec, rss, floor)
        step_prev = gn_size
        if conv:
            break
        # damped step (More's scaling), Newton's where its damped matrix is SPD
        if b00 > D0:
            D0 = b00
        if b11 > D1:
            D1 = b11
        fl = 1e-12 * _max(_max(D0, D1), _TINY)
        d0 = lam * _max(D0, fl)
        d1 = lam * _max(D1, fl)
        okd = newton = False
        m00 = m10 = m11 = NAN
        if dec <= _NEWTON_DEC * rss:
            okd, m00, m10, m11 = _chol2(n00 + d0, n01, n11 + d1)
            newton = okd
        if not okd:
            okd, m00, m10, m11 = _chol2(b00 + d0, b01, b11 + d1)
        st0 = st1 = NAN
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
cdef (double, bint, int) _solve_one(
    int family,
    bint symmetric,
    bint varpro,
    vec_t P,
    cvec_t lx,
    cvec_t y,
    cvec_t w,
    double lx_lo,
    double lx_hi,
    cvec_t lo,
    cvec_t hi,
    double flat_rss,
    cflags_t free,
    const int64_t[::1] fidx,
    const int64_t[::1] sidx,
    int sign,
    int max_iter,
    cvec_t grid_t,
    cvec_t grid_hill,
    mat_t J,
    vec_t r,
    mat_t E,
    double[:, :, ::1] mats,
    mat_t vec,
    vec_t S,
    mat_t M_out,
) noexcept nogil:
    """Fit one curve in place (``P``); returns ``(rss, converged, iterations)`` and
    ``JᵀWJ`` over the free parameters at the final ``P`` in ``M_out``."""
    cdef Py_ssize_t p = P.shape[0]
    cdef Py_ssize_t qf = fidx.shape[0]
    cdef Py_ssize_t q = sidx.shape[0]
    cdef int nl = <int>(qf - q)  # leading plateau entries of fidx eliminated by variable projection
    cdef mat_t M = mats[0]
    cdef mat_t A = mats[1]
    cdef mat_t Ac = mats[2]
    cdef mat_t At = mats[3]
    cdef mat_t L = mats[4]
    cdef mat_t Ld = mats[5]
    cdef mat_t Ad = mats[6]
    cdef mat_t H = mats[7]
    cdef mat_t Tm
    cdef vec_t gM = vec[0]
    cdef vec_t gs = vec[1]
    cdef vec_t gc = vec[2]
    cdef vec_t gt = vec[3]
    cdef vec_t u = vec[4]
    cdef vec_t gn = vec[5]
    cdef vec_t step = vec[6]
    cdef vec_t D = vec[7]
    cdef vec_t dP = vec[8]
    cdef vec_t Pt = vec[9, :p]
    cdef vec_t frozen = vec[10]
    cdef vec_t Tv
    cdef Py_ssize_t a, b, j
    cdef double rss, floor, lam, nu, rss_ref, rss_ref_flat, step_prev, dec, gn_size, dmax, fl, rss_t, pred, h, v
    cdef int it
    cdef bint conv, converging, okd, accepted, stop, newton
    cdef bint snapped = False
    cdef double rss_s = NAN  # RSS where a stalled curve was put on a bound (NaN: it was not)
    cdef vec_t Ps = vec[11]
    cdef vec_t pinned = vec[12]  # 1: held on the bound it was put on (see the stall below)

    _grid_start(family, symmetric, P, lx, y, w, lx_lo, lx_hi, free, lo, hi, sign, grid_t, grid_hill, S, E)
    for j in range(p):
        P[j] = _clip(P[j], lo[j], hi[j])
    rss = _eval_generic(family, varpro, P, lx, y, w, free, fidx, nl, J, r, M, gM, Ac, gc)
    if not rss < INFINITY:
        rss = INFINITY
    floor = _ZERO_RSS * _moments(w, y)[2] + _TINY
    lam = _LAM0
    nu = 2.0
    for a in range(q):
        D[a] = 0.0
        pinned[a] = 0.0
    rss_ref = rss_ref_flat = rss
    step_prev = INFINITY
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
            frozen[a] = 1.0 if (P[j] <= lo[j] and gs[a] > 0.0) or (P[j] >= hi[j] and gs[a] < 0.0) else pinned[a]
        for a in range(q):
            if frozen[a] != 0.0:
                gs[a] = 0.0
                for b in range(q):
                    A[a, b] = 0.0
                    A[b, a] = 0.0
                A[a, a] = 1.0
        # Gauss-Newton decrement and step size: the convergence test
        if _cholesky(A, <int>q, L):
            _forward(L, gs, <int>q, u)
            dec = 0.0
            for a in range(q):
                dec += u[a] * u[a]
            _backward(L, u, <int>q, gn)
            gn_size = 0.0
            for a in range(q):
                gn_size = _worst(gn_size, fabs(gn[a]) / _max(fabs(P[sidx[a]]), 1.0))
        else:
            dec = INFINITY
            gn_size = NAN
        # Gauss-Newton converges linearly on curves with large residuals (slowly where the
        # IC50 is poorly determined): the remaining error is about step * rho / (1 - rho),
        # with rho the observed ratio of successive steps, and that is what must be small
        conv, converging = _converged(gn_size, step_prev, dec, rss, floor)
        step_prev = gn_size
        if conv:
            break
        # damped step (More's scaling: running maximum of diag(A)), Newton's where its damped
        # matrix is SPD once a Gauss-Newton step would gain less than _NEWTON_DEC of the RSS
        dmax = 0.0
        for a in range(q):
            if A[a, a] > D[a]:
                D[a] = A[a, a]
            if D[a] > dmax:
                dmax = D[a]
        fl = 1e-12 * _max(dmax, _TINY)
        okd = newton = False
        if dec <= _NEWTON_DEC * rss:
            # Newton's matrix: forward differences of the exact (reduced) gradient, each
            # step taken away from the nearer bound and read back as represented
            for b in range(q):
                j = sidx[b]
                h = _FD_REL * _max(fabs(P[j]), 1.0)
                if P[j] + h > hi[j]:
                    h = -h
                for a in range(p):
                    Pt[a] = P[a]
                Pt[j] = P[j] + h
                h = Pt[j] - P[j]
                _eval_generic(family, varpro, Pt, lx, y, w, free, fidx, nl, J, r, M, gM, At, gt)
                for a in range(q):
                    H[a, b] = (gt[a] - gc[a]) / h
            for a in range(q):
                for b in range(a):
                    v = 0.5 * (H[a, b] + H[b, a])
                    H[a, b] = v
                    H[b, a] = v
            for a in range(q):
                if frozen[a] != 0.0:
                    for b in range(q):
                        H[a, b] = 0.0
                        H[b, a] = 0.0
                    H[a, a] = 1.0
            for a in range(q):
                for b in range(q):
                    Ad[a, b] = H[a, b]
                Ad[a, a] = H[a, a] + lam * _max(D[a], fl)
            okd = _cholesky(Ad, <int>q, Ld)
            newton = okd
        if not okd:
            for a in range(q):
                for b in range(q):
                    Ad[a, b] = A[a, b]
                Ad[a, a] = A[a, a] + lam * _max(D[a], fl)
            okd = _cholesky(Ad, <int>q, Ld)
        if okd:
            for a in range(q):
                step[a] = -gs[a]
            _forward(Ld, step, <int>q, u)
            _backward(Ld, u, <int>q, step)
        for j in range(p):
            Pt[j] = P[j]
        for a in range(q):
            j = sidx[a]
            Pt[j] = _clip(P[j] + (step[a] if okd else NAN), lo[j], hi[j])
            dP[a] = Pt[j] - P[j]
        rss_t = _eval_generic(family, varpro, Pt, lx, y, w, free, fidx, nl, J, r, M, gM, At, gt)
        # predicted reduction of the (projected) step under the quadratic model used
        Tm = H if newton else A
        pred = 0.0
        for a in range(q):
            pred -= 2.0 * gs[a] * dP[a]
            for b in range(q):
                pred -= Tm[a, b] * dP[a] * dP[b]
        accepted = rss_t < rss  # False for NaN
        lam, nu = _damping(accepted, rss, rss_t, pred, lam, nu)
        if accepted:
            for j in range(p):
                P[j] = Pt[j]
            rss = rss_t
            Tm = Ac
            Ac = At
            At = Tm
            Tv = gc
            gc = gt
            gt = Tv
        stop, conv, rss_ref, rss_ref_flat = _stop(
            it, max_iter, lam, nu, rss, dec, converging, flat_rss, rss_ref, rss_ref_flat
        )
        if stop and not conv and it < max_iter and not snapped:
            # stalled while creeping towards a bound along a flat direction (a runaway
            # asymmetry or plateau): put the parameters that head for a near bound on it and
            # go on from there, holding them there; kept if that converges to an RSS at most
            # _SNAP_RSS (relative) above the stalled one, else the stalled point is restored
            # (after the loop)
            okd = False
            for j in range(p):
                Pt[j] = P[j]
                Ps[j] = P[j]
            for a in range(q):
                j = sidx[a]
                h = _SNAP * _max(fabs(P[j]), 1.0)
                if gc[a] < 0.0 and hi[j] - P[j] <= h:
                    Pt[j] = hi[j]
                    pinned[a] = 1.0
                    okd = True
                elif gc[a] > 0.0 and P[j] - lo[j] <= h:
                    Pt[j] = lo[j]
                    pinned[a] = 1.0
                    okd = True
            if okd:
                snapped = True
                rss_t = _eval_generic(family, varpro, Pt, lx, y, w, free, fidx, nl, J, r, M, gM, At, gt)
                if rss_t < INFINITY:
                    rss_s = rss
                    for j in range(p):
                        P[j] = Pt[j]
                    rss = rss_ref = rss_ref_flat = rss_t
                    Tm = Ac
                    Ac = At
                    At = Tm
                    Tv = gc
                    gc = gt
                    gt = Tv
                    lam = _LAM0
                    nu = 2.0
                    step_prev = INFINITY
                    stop = False
        if stop:
            break
    if rss_s == rss_s and not (conv and rss <= rss_s * (1.0 + _SNAP_RSS)):
        for j in range(p):  # the bound did not hold up: back to where the curve stalled
            P[j] = Ps[j]
        rss = rss_s
        conv = False
    # JᵀWJ over every free parameter at the final point (for the covariance)
    for j in range(p):
        Pt[j] = P[j]
    _state(family, Pt, lx, y, w, free, varpro, J, r)
    _gram(J, r, w, fidx, M, gM)
    for a in range(qf):
        for b in range(qf):
            M_out[a, b] = M[a, b]
    return rss, conv, it


cdef inline void _skip_row(
    Py_ssize_t i, mat_t out_P, vec_t out_rss, uint8_t[::1] out_status, vec_t out_it, double[:, :, ::1] out_A
) noexcept nogil:
    """The outputs of a curve that is not fitted (too few points)."""
    cdef Py_ssize_t a, b
    for a in range(out_P.shape[1]):
        out_P[i, a] = NAN
    out_rss[i] = NAN
    out_status[i] = 0
    out_it[i] = 0.0
    for a in range(out_A.shape[1]):
        for b in range(out_A.shape[2]):
            out_A[i, a, b] = NAN


cdef inline void _canonical(vec_t P, mat_t M, const int64_t[::1] fidx, mat_t T) noexcept nogil:
    """Swap the plateaus and negate hill (the same symmetric curve), with ``M = JᵀWJ`` over
    the free parameters transformed to match (a signed permutation: ``M' = T M Tᵀ``)."""
    cdef double tmp = P[0]
    P[0] = P[1]
    P[1] = tmp
    P[3] = -P[3]
    cdef Py_ssize_t q = fidx.shape[0]
    cdef Py_ssize_t a, b, pa, pb
    cdef Py_ssize_t b0 = -1, b1 = -1, b3 = -1
    cdef double v
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


cdef inline void _spd_inverse_into(mat_t A, mat_t L) noexcept nogil:
    """Invert the symmetric positive-definite ``A`` in place (NaN where it is not):
    ``A⁻¹ = L⁻ᵀ L⁻¹`` from its Cholesky factor, with ``L`` inverted in place."""
    cdef Py_ssize_t q = A.shape[0]
    cdef Py_ssize_t i, j, t, a, b
    cdef double v
    if not _cholesky(A, <int>q, L):
        for a in range(q):
            for b in range(q):
                A[a, b] = NAN
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


cdef inline void _store_row(
    Py_ssize_t i,
    vec_t P,
    double rss,
    bint conv,
    int it,
    cvec_t lo,
    cvec_t hi,
    cflags_t free,
    const int64_t[::1] fidx,
    bint flip,
    mat_t T,
    mat_t out_P,
    vec_t out_rss,
    uint8_t[::1] out_status,
    vec_t out_it,
    double[:, :, ::1] out_A,
) noexcept nogil:
    """A fitted curve's outputs: the canonical form, its flags, and ``(JᵀWJ)⁻¹`` from the
    ``JᵀWJ`` the solver left in ``out_A[i]`` (see :func:`solve_block`)."""
    cdef uint8_t st = 0 if conv else _NOT_CONVERGED
    cdef Py_ssize_t j
    if flip and P[1] < P[0] and -P[3] >= lo[3] and -P[3] <= hi[3]:
        _canonical(P, out_A[i], fidx, T)
    for j in range(P.shape[0]):
        if free[j] and _rule_at_bound(P[j], lo[j], hi[j]):
            st |= _AT_BOUND
    _spd_inverse_into(out_A[i], T)
    for j in range(P.shape[0]):
        out_P[i, j] = P[j]
    out_rss[i] = rss
    out_status[i] = st
    out_it[i] = it


cdef inline const uint8_t[::1] _flags(object a):
    """A bool array as bytes (0/1) for the compiled code."""
    return np.ascontiguousarray(a, dtype=np.bool_).view(np.uint8)


def solve_block(
    int family,
    bint symmetric,
    bint varpro,
    fit,
    cmat_t lx,
    cmat_t y,
    cmat_t w,
    cvec_t lx_lo,
    cvec_t lx_hi,
    cmat_t P_fixed,
    cmat_t lo,
    cmat_t hi,
    cvec_t flat_rss,
    free,
    int sign,
    bint flip,
    int max_iter,
    mat_t out_P,
    vec_t out_rss,
    uint8_t[::1] out_status,
    vec_t out_it,
    double[:, :, ::1] out_A,
):
    """Fit every row of a block; row ``i`` of the outputs belongs to row ``i`` of the inputs.

    ``out_A`` receives ``(JᵀWJ)⁻¹`` over the free parameters at the optimum (NaN where
    ``JᵀWJ`` is singular): the unscaled covariance; ``out_status`` the flags
    ``NOT_CONVERGED`` and ``AT_BOUND`` (a free parameter within 1e-9 relative of a bound).
    With `flip` (a symmetric family with both plateaus and hill free) a curve is reported
    with ``top >= bottom`` where its bounds hold ``-hill``.  Every output row is written: a
    row with ``fit[i]`` False (too few points) gets NaN parameters, RSS and covariance,
    status 0 and 0 iterations.  The hot case has its own entry point,
    :func:`solve_block_logistic`.  Runs without the GIL.
    """
    if family not in SHAPE_FAMILIES:
        raise ValueError(
            f"`family` must be one of the compiled shape families {sorted(SHAPE_FAMILIES)}; got {family!r}."
        )
    cdef const uint8_t[::1] fit_c = _flags(fit)
    cdef const uint8_t[::1] free_c = _flags(free)
    cdef Py_ssize_t n = y.shape[0]
    cdef Py_ssize_t k = y.shape[1]
    cdef Py_ssize_t p = P_fixed.shape[1]
    fidx_a = np.flatnonzero(np.asarray(free_c)).astype(np.int64)
    cdef const int64_t[::1] fidx = fidx_a
    cdef const int64_t[::1] sidx = fidx_a[fidx_a >= 2].copy() if varpro else fidx_a.copy()
    cdef cvec_t grid_t = GRID_T
    cdef cvec_t grid_hill = GRID_HILL
    cdef mat_t J = np.empty((max(k, 1), _MAXP))
    cdef vec_t r = np.empty(max(k, 1))
    cdef mat_t E = np.empty((2 * GRID_HILL.shape[0], max(k, 1)))
    cdef double[:, :, ::1] mats = np.zeros((8, _MAXP, _MAXP))
    cdef mat_t vec = np.zeros((13, _MAXP))
    cdef vec_t S = np.empty(max(k, 1))
    cdef vec_t P = np.empty(p)
    cdef Py_ssize_t i, j
    cdef double rss
    cdef bint conv
    cdef int it
    with nogil:
        for i in range(n):
            if not fit_c[i]:
                _skip_row(i, out_P, out_rss, out_status, out_it, out_A)
                continue
            for j in range(p):
                P[j] = P_fixed[i, j]
            rss, conv, it = _solve_one(
                family, symmetric, varpro, P, lx[i], y[i], w[i], lx_lo[i], lx_hi[i], lo[i], hi[i],
                flat_rss[i], free_c, fidx, sidx, sign, max_iter, grid_t, grid_hill,
                J[:k], r[:k], E, mats, vec, S[:k], out_A[i],
            )
            _store_row(
                i, P, rss, conv, it, lo[i], hi[i], free_c, fidx, flip, mats[0], out_P, out_rss, out_status, out_it,
                out_A,
            )


def solve_block_logistic(
    fit,
    cmat_t lx,
    cmat_t y,
    cmat_t w,
    cvec_t lx_lo,
    cvec_t lx_hi,
    cmat_t P_fixed,
    cmat_t lo,
    cmat_t hi,
    cvec_t flat_rss,
    int sign,
    bint flip,
    int max_iter,
    mat_t out_P,
    vec_t out_rss,
    uint8_t[::1] out_status,
    vec_t out_it,
    double[:, :, ::1] out_A,
):
    """:func:`solve_block` for the hot case (:func:`_solve_logistic`: the logistic with
    both plateaus free and unbounded, location and hill free).  Runs without the GIL."""
    cdef const uint8_t[::1] fit_c = _flags(fit)
    cdef Py_ssize_t n = y.shape[0]
    cdef Py_ssize_t k = y.shape[1]
    cdef const uint8_t[::1] free_c = np.ones(4, dtype=np.uint8)
    cdef const int64_t[::1] fidx = np.arange(4, dtype=np.int64)
    cdef cvec_t grid_t = GRID_T
    cdef cvec_t grid_hill = GRID_HILL
    cdef mat_t T = np.empty((4, 4))
    cdef vec_t Sv = np.empty(max(k, 1))
    cdef mat_t E = np.empty((GRID_HILL.shape[0], max(k, 1)))
    cdef vec_t P = np.empty(4)
    cdef Py_ssize_t i, j
    cdef double rss
    cdef bint conv
    cdef int it
    with nogil:
        for i in range(n):
            if not fit_c[i]:
                _skip_row(i, out_P, out_rss, out_status, out_it, out_A)
                continue
            for j in range(4):
                P[j] = P_fixed[i, j]
            rss, conv, it = _solve_logistic(
                P, lx[i], y[i], w[i], lx_lo[i], lx_hi[i], lo[i], hi[i], flat_rss[i], sign, max_iter,
                grid_t, grid_hill, E[:, :k], Sv[:k], out_A[i],
            )
            _store_row(i, P, rss, conv, it, lo[i], hi[i], free_c, fidx, flip, T, out_P, out_rss, out_status, out_it, out_A)


# ------------------------------------------------------------------ preparation and covariance
cdef inline void _curve_stats(
    cvec_t lx, cvec_t ybar, cvec_t w, int64_t npts, double within, double yrange, vec_t out
) noexcept nogil:
    """``out`` = (points, within-replicate SS, SS about the weighted mean, ln of the smallest
    positive and of the largest concentration with data, response range, distinct
    concentrations with data) of one curve.  Points and concentrations count only where the
    weight is positive; distinct concentrations are counted up to ``_MAX_DISTINCT + 1``
    (enough to tell whether they can determine the parameters of any family, the generic
    ones included)."""
    cdef double sw = 0.0, sy = 0.0, mean, ss, dv
    cdef double lo = INFINITY
    cdef double hi = -INFINITY
    cdef double seen[16]
    cdef int nd = 0, e
    cdef bint new
    cdef Py_ssize_t c
    for c in range(lx.shape[0]):
        if w[c] > 0.0:
            sw += w[c]
            sy += w[c] * ybar[c]
            if lx[c] > -INFINITY:  # x > 0
                lo = _min(lo, lx[c])
            hi = _max(hi, lx[c])
            if nd <= _MAX_DISTINCT:
                new = True
                for e in range(nd):
                    if seen[e] == lx[c]:
                        new = False
                        break
                if new:
                    seen[nd] = lx[c]
                    nd += 1
    mean = sy / sw
    ss = 0.0
    for c in range(lx.shape[0]):
        dv = ybar[c] - mean
        ss += w[c] * dv * dv
    out[0] = <double>npts
    out[1] = within
    out[2] = ss + within
    out[3] = lo
    out[4] = hi
    out[5] = yrange
    out[6] = <double>nd


cdef inline bint _after(
    const double[:, :] x, const double[:, :] y, const double[:, :] w, bint weighted, Py_ssize_t xi, Py_ssize_t i,
    int64_t a, int64_t b
) noexcept nogil:
    """Whether point `a` of row `i` sorts after point `b`: by concentration (row `xi` of
    `x`), then response, then weight (`w` is read only when `weighted`)."""
    if x[xi, a] != x[xi, b]:
        return x[xi, a] > x[xi, b]
    if y[i, a] != y[i, b]:
        return y[i, a] > y[i, b]
    return weighted and w[i, a] > w[i, b]


def pool(
    const double[:, :] x,
    const double[:, :] y,
    const double[:, :] w_user,
    bint weighted,
    const int64_t[::1] order,
    mat_t lx,
    mat_t ybar,
    mat_t wsum,
    mat_t stats,
):
    """Pool the replicate points of every curve (exactly: same optimum and RSS) into columns
    in increasing concentration; returns the largest number of columns a curve uses.

    A point takes part where its concentration and response are not NaN and its weight
    (`w_user` where `weighted`, else 1) is positive.  Points at the same concentration
    become one column with weight ``W = Σw``, mean ``ȳ = Σwy / W`` and within-replicate
    sum of squares ``Σw(y - ȳ)²``, summed in the order of (concentration, response,
    weight), so the result depends neither on the order of the points nor on the form of
    the design.  `order` is the order by concentration of a design shared by every row
    (`x` is then its one row, shape (1, m); the order saves most of the sorting); empty: each row is
    sorted here.  Fills ``lx`` (ln concentration,
    ``-inf`` for vehicle, 0 in unused columns), ``ybar``, ``wsum`` (0 in unused columns) and
    the per-curve ``stats`` of :func:`_curve_stats`.  One code path for shared, per-curve,
    weighted and unweighted designs, so they give bitwise-identical fits.  Runs without
    the GIL.
    """
    cdef Py_ssize_t n = y.shape[0]
    cdef Py_ssize_t m = y.shape[1]
    cdef Py_ssize_t k = lx.shape[1]
    cdef bint shared = order.shape[0] == m
    cdef Py_ssize_t xi
    cdef int64_t[::1] idx = np.empty(max(m, 1), dtype=np.int64)
    cdef Py_ssize_t i, j, a, b, c, cnt, used = 0
    cdef int64_t t
    cdef int64_t npts
    cdef double xv, v, wt, prev, ymin, ymax, within, dv
    with nogil:
        for i in range(n):
            xi = 0 if shared else i  # a shared design is one row of x
            # the usable points of row i, sorted by (x, y, w): a canonical order, so that
            # neither the order of the points nor the design's form changes the sums
            cnt = 0
            for a in range(m):
                t = order[a] if shared else a
                xv = x[xi, t]
                v = y[i, t]
                wt = w_user[i, t] if weighted else 1.0
                if xv != xv or v != v or not wt > 0.0:
                    continue
                b = cnt  # insertion sort (a shared design arrives sorted by x: only ties move)
                while b > 0 and _after(x, y, w_user, weighted, xi, i, idx[b - 1], t):
                    idx[b] = idx[b - 1]
                    b -= 1
                idx[b] = t
                cnt += 1
            for c in range(k):
                lx[i, c] = 0.0
                ybar[i, c] = 0.0
                wsum[i, c] = 0.0
            c = -1
            npts = 0
            ymin = INFINITY
            ymax = -INFINITY
            prev = NAN
            for a in range(cnt):
                t = idx[a]
                v = y[i, t]
                wt = w_user[i, t] if weighted else 1.0
                if v != v or not wt > 0.0:
                    continue
                xv = x[xi, t]
                if c < 0 or xv != prev:
                    c += 1
                    lx[i, c] = log(xv)
                    prev = xv
                wsum[i, c] += wt
                ybar[i, c] += wt * v
                npts += 1
                ymin = _min(ymin, v)
                ymax = _max(ymax, v)
            for b in range(c + 1):
                ybar[i, b] /= wsum[i, b]
            within = 0.0
            c = -1
            for a in range(cnt):
                t = idx[a]
                v = y[i, t]
                wt = w_user[i, t] if weighted else 1.0
                if v != v or not wt > 0.0:
                    continue
                xv = x[xi, t]
                if c < 0 or xv != prev:
                    c += 1
                    prev = xv
                dv = v - ybar[i, c]
                within += wt * dv * dv
            if c + 1 > used:
                used = c + 1
            _curve_stats(lx[i], ybar[i], wsum[i], npts, within, ymax - ymin, stats[i])
    return used


def count_columns(const double[:, :] x, const double[:, :] y, const double[:, :] w_user, bint weighted):
    """The most distinct concentrations (with a usable point) of any row: the columns
    :func:`pool` needs for a per-curve design."""
    cdef Py_ssize_t n = y.shape[0]
    cdef Py_ssize_t m = y.shape[1]
    cdef double[::1] buf = np.empty(max(m, 1))
    cdef Py_ssize_t i, j, b, cnt, d, most = 0
    cdef double xv, wt
    with nogil:
        for i in range(n):
            cnt = 0
            for j in range(m):
                xv = x[i, j]
                wt = w_user[i, j] if weighted else 1.0
                if xv != xv or y[i, j] != y[i, j] or not wt > 0.0:
                    continue
                b = cnt
                while b > 0 and buf[b - 1] > xv:
                    buf[b] = buf[b - 1]
                    b -= 1
                buf[b] = xv
                cnt += 1
            d = 0
            for j in range(cnt):
                if j == 0 or buf[j] != buf[j - 1]:
                    d += 1
            if d > most:
                most = d
    return most


def prepare(
    cmat_t stats,
    mat_t lx,
    cmat_t w,
    int q,
    cvec_t f_half,
    cmat_t fixed,
    cvec_t lo_user,
    cvec_t hi_user,
    double loc_span,
    double hill_max,
    double log_s_max,
    int64_t[::1] npts,
    fittable,
    vec_t centre,
    vec_t lx_lo,
    vec_t lx_hi,
    vec_t flat_rss,
    mat_t lo,
    mat_t hi,
    mat_t P_fixed,
):
    """Everything the solver needs beyond the pooled data, one pass per curve.

    From :func:`pool`'s ``stats``: the points ``npts``; whether the curve is fitted
    (``fittable``: more points than the `q` free parameters, at least `q` distinct
    concentrations, a positive one among them); ``centre``, the middle of its tested ln
    range, which becomes the solver's origin (``lx`` is shifted in place where it has
    data, and so are ``lx_lo``/``lx_hi``, the location bounds and a fixed location), so
    that a change of concentration unit leaves the problem the same; ``flat_rss``, the
    pooled RSS above which the F test against a flat line has p > 0.5 (``f_half[dof - 1]``
    is the median of F(q - 1, dof)); the bounds: the location within `loc_span` (ln) of
    the tested range, ``|hill| <= hill_max``, ``|ln s| <= log_s_max``, the plateaus free,
    each replaced by ``lo_user``/``hi_user`` where those are not NaN (the location in ln
    concentration).  Runs without the GIL.
    """
    cdef uint8_t[::1] fit_c = np.asarray(fittable).view(np.uint8)
    cdef Py_ssize_t n = stats.shape[0]
    cdef Py_ssize_t k = lx.shape[1]
    cdef Py_ssize_t p = lo.shape[1]
    cdef Py_ssize_t i, j, c
    cdef int64_t m, dof
    cdef int df1 = q - 1 if q > 1 else 1
    cdef double ctr, lo_j, hi_j
    cdef bint ok
    with nogil:
        for i in range(n):
            m = <int64_t>stats[i, 0]
            npts[i] = m
            ok = _rule_fittable(<double>m, stats[i, 6], <double>q) and fabs(stats[i, 3]) < INFINITY
            fit_c[i] = ok
            ctr = 0.5 * (stats[i, 3] + stats[i, 4]) if ok else 0.0
            centre[i] = ctr
            for c in range(k):
                if w[i, c] > 0.0:
                    lx[i, c] = lx[i, c] - ctr
            lx_lo[i] = stats[i, 3] - ctr
            lx_hi[i] = stats[i, 4] - ctr
            dof = m - q if m - q > 1 else 1
            flat_rss[i] = stats[i, 2] / (1.0 + f_half[dof - 1] * df1 / dof) - stats[i, 1]
            for j in range(p):
                P_fixed[i, j] = fixed[i, j] - ctr if j == 2 else fixed[i, j]
                if j == 2:
                    lo_j = lx_lo[i] - loc_span
                    hi_j = lx_hi[i] + loc_span
                elif j == 3:
                    lo_j = -hill_max
                    hi_j = hill_max
                elif j == 4:
                    lo_j = -log_s_max
                    hi_j = log_s_max
                else:
                    lo_j = -INFINITY
                    hi_j = INFINITY
                if lo_user[j] == lo_user[j]:
                    lo_j = lo_user[j] - ctr if j == 2 else lo_user[j]
                if hi_user[j] == hi_user[j]:
                    hi_j = hi_user[j] - ctr if j == 2 else hi_user[j]
                lo[i, j] = lo_j
                hi[i, j] = hi_j


# ------------------------------------------------------------------ assembly
cdef inline bint _too_dependent(double[:, ::1] C, const int64_t[::1] fidx, mat_t R, vec_t d) noexcept nogil:
    """Whether some free parameter's dependency ``1 - 1 / (C_ii (C⁻¹)_ii)`` exceeds
    ``MAX_DEPENDENCY``, from the Cholesky factor of the correlation matrix (as
    :func:`._quality.ambiguous`: a pivot below 1e-12 is a dependency of 1)."""
    cdef Py_ssize_t q = fidx.shape[0]
    cdef Py_ssize_t i, j, k
    cdef double acc, dj, dep
    for i in range(q):
        d[i] = sqrt(C[fidx[i], fidx[i]])
    for i in range(q):
        for j in range(q):
            R[i, j] = C[fidx[i], fidx[j]] / (d[i] * d[j])
            if not fabs(R[i, j]) < INFINITY:
                return True
    for j in range(q):  # R = L Lᵀ, L in the lower triangle of R
        dj = R[j, j]
        for k in range(j):
            dj -= R[j, k] * R[j, k]
        if not dj > 1e-12 * fabs(R[j, j]):
            return True
        R[j, j] = sqrt(dj)
        for i in range(j + 1, q):
            acc = R[i, j]
            for k in range(j):
                acc -= R[i, k] * R[j, k]
            R[i, j] = acc / R[j, j]
    for i in range(q):  # L⁻¹ in the upper triangle (transposed), then (R⁻¹)_jj = Σ_k (L⁻¹)_kj²
        R[i, i] = 1.0 / R[i, i]
        for j in range(i):
            acc = R[i, j] * R[j, j]
            for k in range(j + 1, i):
                acc += R[i, k] * R[k, j]
            R[j, i] = -acc * R[i, i]
    for j in range(q):
        acc = R[j, j] * R[j, j]
        for k in range(j + 1, q):
            acc += R[j, k] * R[j, k]
        dep = 1.0 - 1.0 / acc
        if not dep <= _MAX_DEPENDENCY:
            return True
    return False


def finish(
    cmat_t P,
    double[:, :, ::1] A,
    cvec_t rss,
    cvec_t within,
    const int64_t[::1] npts,
    fit,
    free,
    is_log,
    cvec_t yrange,
    cvec_t rss0,
    cvec_t t975,
    Py_ssize_t loc,
    bint loc_log,
    Py_ssize_t hill,
    bint ic50_range,
    cvec_t lx_lo,
    cvec_t lx_hi,
    mat_t P_out,
    double[:, :, ::1] cov,
    mat_t stderr,
    vec_t rss_tot,
    vec_t pval,
    uint8_t[::1] status,
):
    """Per-curve results from the solver's, in one pass (``cov`` may be ``A`` itself,
    ``P_out`` may be ``P``).

    * ``rss_tot`` (with the within-replicate SS), the covariance ``s² (JᵀWJ)⁻¹`` mapped
      from internal to reported parameters (``exp`` of the `is_log` ones: the delta
      method) and zero for fixed ones, ``stderr`` (N, p) its root diagonal;
    * ``NOT_CONVERGED`` for a runaway fit: plateaus more than ``DEGENERATE_SPAN`` response ranges apart
      (its least-squares infimum lies at infinity);
    * ``pval``, the extra-sum-of-squares F test against a flat line (NaN where it does not
      apply, 1 for a constant response), and ``FLAT_RESPONSE`` above ``F_ALPHA`` (the status rules above); a flat
      curve that did not converge, or a runaway fit, has no estimates: NaN free parameters,
      standard errors and covariance;
    * ``AMBIGUOUS`` for a determined curve its data do not pin down (the rule of
      :func:`._quality.ambiguous`: a free standard error that is not finite, a dependency
      above ``MAX_DEPENDENCY``, a 95 % interval of hill (column `hill`) containing 0 or
      one of the location (column `loc`) wider than ``MAX_CI_DECADES`` decades; -1: not
      free; ``t975[dof]`` is Student's 0.975 quantile, NaN at dof 0);
    * with `ic50_range` (the 4PL family), ``IC50_OUTSIDE_RANGE`` where a determined IC50
      lies outside ``exp(lx_lo) … exp(lx_hi)``.

    A curve that was not fitted gets NaN everywhere and ``TOO_FEW_POINTS``.  Runs without
    the GIL.
    """
    cdef const uint8_t[::1] fit_c = _flags(fit)
    cdef const uint8_t[::1] free_c = _flags(free)
    cdef const uint8_t[::1] is_log_c = _flags(is_log)
    cdef Py_ssize_t N = P.shape[0]
    cdef Py_ssize_t p = P.shape[1]
    cdef Py_ssize_t q = A.shape[1]
    fidx_a = np.flatnonzero(np.asarray(free_c)).astype(np.int64)
    cdef const int64_t[::1] fidx = fidx_a
    cdef int64_t[::1] pos = np.full(p, -1, dtype=np.int64)
    cdef Py_ssize_t a, b, i, j, ja, jb, j1, j2, nt = t975.shape[0]
    for a in range(q):
        pos[fidx_a[a]] = a
    cdef mat_t T = np.empty((max(q, 1), max(q, 1)))
    cdef mat_t R = np.empty((max(q, 1), max(q, 1)))
    cdef vec_t d = np.empty(max(q, 1))
    cdef vec_t dl = np.ones(p)
    cdef bint run, finite, perfect, positive, vague
    cdef double r, s2, v, pv, se, t, value, half, ic50
    cdef int64_t dof
    with nogil:
        for i in range(N):
            for j in range(p):
                P_out[i, j] = P[i, j]
            if not fit_c[i]:
                for a in range(p):
                    for b in range(p):
                        cov[i, a, b] = NAN
                    stderr[i, a] = NAN
                rss_tot[i] = NAN
                pval[i] = NAN
                status[i] = _TOO_FEW_POINTS
                continue
            run = (free_c[0] or free_c[1]) and _rule_runaway(P[i, 0], P[i, 1], yrange[i])
            if run:
                status[i] |= _NOT_CONVERGED
            r = rss[i] + within[i]
            rss_tot[i] = r
            dof = npts[i] - q
            s2 = r / (<double>dof if dof > 1 else 1.0) if dof > 0 else NAN
            for j in range(p):
                dl[j] = exp(P[i, j]) if is_log_c[j] else 1.0
            for a in range(q):
                for b in range(q):
                    T[a, b] = A[i, a, b]
            for ja in range(p):
                for jb in range(p):
                    a = pos[ja]
                    b = pos[jb]
                    if a < 0 or b < 0:
                        cov[i, ja, jb] = 0.0
                        continue
                    v = T[a, b] * s2
                    j1 = ja if ja < jb else jb  # the factors in the order of the parameters
                    j2 = jb if ja < jb else ja
                    if is_log_c[j1]:
                        v *= dl[j1]
                    if is_log_c[j2]:
                        v *= dl[j2]
                    cov[i, ja, jb] = v
                stderr[i, ja] = sqrt(cov[i, ja, ja])
            # extra-sum-of-squares F test against a flat line (1 parameter)
            pv = _rule_flat_pvalue(r, rss0[i], <double>npts[i], <double>q)
            if _rule_flat(pv):
                status[i] |= _FLAT_RESPONSE
            pval[i] = pv
            if ((status[i] & _NOT_CONVERGED) != 0 and (status[i] & _FLAT_RESPONSE) != 0) or run:
                for j in range(p):
                    if free_c[j]:
                        P_out[i, j] = NAN
                    stderr[i, j] = NAN
                for a in range(p):
                    for b in range(p):
                        cov[i, a, b] = NAN
            if status[i] & _UNDETERMINED:
                continue
            if ic50_range:
                ic50 = exp(P_out[i, 2])  # the 4PL's location, ln ic50 (free or fixed)
                if _rule_outside_range(ic50, exp(lx_lo[i]), exp(lx_hi[i])):
                    status[i] |= _IC50_OUTSIDE_RANGE
            if q == 0:
                continue
            # the ambiguity rule
            finite = perfect = positive = True
            for a in range(q):
                se = stderr[i, fidx[a]]
                if not fabs(se) < INFINITY:
                    finite = False
                if se != 0.0:
                    perfect = False
                if not se > 0.0:
                    positive = False
            vague = not finite
            if finite and not perfect:
                if positive and _too_dependent(cov[i], fidx, R, d):
                    vague = True
                t = t975[dof] if 0 <= dof < nt else NAN
                if hill >= 0 and fabs(P_out[i, hill]) <= t * stderr[i, hill]:
                    vague = True
                if loc >= 0:
                    value = exp(P_out[i, loc]) if loc_log else P_out[i, loc]
                    half = t * stderr[i, loc] / value  # ln-scale half width
                    if not 2.0 * half <= _MAX_CI_LN:
                        vague = True
            if vague:
                status[i] |= _AMBIGUOUS


# ------------------------------------------------------------------ the global fits' rows
def gram_rows(
    int family,
    cmat_t P,
    cmat_t lx,
    cmat_t y,
    cmat_t sw,
    const int64_t[::1] order,
    double[:, :, ::1] M,
    mat_t g,
    vec_t rss,
    bint jacobian,
):
    """Each row's share of a global fit's normal equations, on the compiled curve.

    For row ``i`` (a curve's points, parameters ``P[i]`` on the internal scale, square-root
    weights ``sw[i]``; a point with ``sw = 0`` is padding): ``rss[i] = Σ w (y − f)²`` with
    ``w = sw²``, and with `jacobian` ``M[i] = Σ w J_a J_b`` and ``g[i] = Σ w J_a (y − f)``
    over the internal columns `order` (``J = ∂f/∂P``).  Runs without the GIL.
    """
    if family not in SHAPE_FAMILIES:
        raise ValueError(f"`family` must be one of the compiled shape families {sorted(SHAPE_FAMILIES)}; got {family!r}.")
    cdef Py_ssize_t R = P.shape[0]
    cdef Py_ssize_t p = P.shape[1]
    cdef Py_ssize_t m = lx.shape[1]
    cdef Py_ssize_t q = order.shape[0]
    cdef mat_t J = np.empty((max(m, 1), _MAXP))
    cdef vec_t r = np.empty(max(m, 1))
    cdef vec_t w = np.empty(max(m, 1))
    cdef vec_t Pi = np.empty(max(p, 1))
    cdef const uint8_t[::1] free = np.ones(max(p, 1), dtype=np.uint8)
    cdef Py_ssize_t i, t, a, b, ja, jb
    cdef double acc, wt
    with nogil:
        for i in range(R):
            for t in range(m):
                w[t] = sw[i, t] * sw[i, t]
            for a in range(p):
                Pi[a] = P[i, a]
            _state(family, Pi, lx[i], y[i], w[:m], free, False, J[:m], r[:m])
            acc = 0.0
            for t in range(m):
                if w[t] > 0.0:
                    acc += w[t] * r[t] * r[t]
            rss[i] = acc
            if not jacobian:
                continue
            for a in range(q):
                ja = order[a]
                acc = 0.0
                for t in range(m):
                    if w[t] > 0.0:
                        acc -= w[t] * J[t, ja] * r[t]  # r = f - y
                g[i, a] = acc
                for b in range(a + 1):
                    jb = order[b]
                    acc = 0.0
                    for t in range(m):
                        wt = w[t]
                        if wt > 0.0:
                            acc += wt * J[t, ja] * J[t, jb]
                    M[i, a, b] = acc
                    M[i, b, a] = acc


# ------------------------------------------------------------------ the status rules over arrays
def rule_fittable(const double[::1] npts, const double[::1] distinct, const double[::1] q, uint8_t[::1] out):
    """:func:`_rule_fittable` elementwise (1-D arrays of one length; for ``fitting._status``)."""
    cdef Py_ssize_t i
    with nogil:
        for i in range(out.shape[0]):
            out[i] = _rule_fittable(npts[i], distinct[i], q[i])


def rule_at_bound(const double[::1] v, const double[::1] lo, const double[::1] hi, uint8_t[::1] out):
    """:func:`_rule_at_bound` elementwise (1-D arrays of one length)."""
    cdef Py_ssize_t i
    with nogil:
        for i in range(out.shape[0]):
            out[i] = _rule_at_bound(v[i], lo[i], hi[i])


def rule_runaway(const double[::1] bottom, const double[::1] top, const double[::1] yrange, uint8_t[::1] out):
    """:func:`_rule_runaway` elementwise (1-D arrays of one length)."""
    cdef Py_ssize_t i
    with nogil:
        for i in range(out.shape[0]):
            out[i] = _rule_runaway(bottom[i], top[i], yrange[i])


def rule_flat_pvalue(
    const double[::1] rss, const double[::1] rss0, const double[::1] npts, const double[::1] q, double[::1] out
):
    """:func:`_rule_flat_pvalue` elementwise (1-D arrays of one length)."""
    cdef Py_ssize_t i
    with nogil:
        for i in range(out.shape[0]):
            out[i] = _rule_flat_pvalue(rss[i], rss0[i], npts[i], q[i])


def rule_flat(const double[::1] pvalue, uint8_t[::1] out):
    """:func:`_rule_flat` elementwise."""
    cdef Py_ssize_t i
    with nogil:
        for i in range(out.shape[0]):
            out[i] = _rule_flat(pvalue[i])


def rule_outside_range(const double[::1] ic50, const double[::1] conc_min, const double[::1] conc_max, uint8_t[::1] out):
    """:func:`_rule_outside_range` elementwise (1-D arrays of one length)."""
    cdef Py_ssize_t i
    with nogil:
        for i in range(out.shape[0]):
            out[i] = _rule_outside_range(ic50[i], conc_min[i], conc_max[i])


# ------------------------------------------------------------------ for the tests
def _geometric(lx, w):
    """:func:`_geometric_c` from Python (tests): ``(geometric, mid, step)``."""
    return _geometric_c(np.ascontiguousarray(lx, dtype=np.float64), np.ascontiguousarray(w, dtype=np.float64))


def _exp_series(double a, double b, lx, bint geo, Py_ssize_t mid, double step, vec_t out):
    """:func:`_exp_series_c` from Python (tests)."""
    _exp_series_c(a, b, np.ascontiguousarray(lx, dtype=np.float64), geo, mid, step, out)
