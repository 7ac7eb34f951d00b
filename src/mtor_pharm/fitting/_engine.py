"""The batched least-squares engine (internal).

One Levenberg–Marquardt solver for any number of curves:

* residuals and Jacobian columns are ``(n, k)`` arrays over all active curves;
  the normal matrix is a ``q × q`` nested list of ``(n,)`` arrays and is
  factorised by a Cholesky written out over those arrays (no per-curve Python);
* each curve has its own damping, its own accept/reject decision and its own
  convergence test; converged curves leave the working set;
* box bounds are honoured by projection with an active set: a parameter on a
  bound whose gradient points outward is frozen for that step, so a curve whose
  optimum lies on a bound converges to the bounded optimum instead of stalling;
* the start is the best cell of a coarse (location × hill) grid evaluated for
  all curves in one broadcast, with the plateaus solved in closed form per cell
  (the model is linear in ``bottom`` and ``top``: variable projection).

Convergence is declared when the Gauss–Newton decrement ``gᵀ A⁻¹ g`` (the
predicted RSS reduction of a full Gauss–Newton step, on the parameters not
held at a bound) is below ``1e-16 · RSS``: the distance to the optimum is then
below ``1e-8`` standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._typing import BoolArray, FloatArray
from ..models import Model

_DEC_TOL = 1e-16  # converged: GN decrement <= _DEC_TOL * rss
_STALL_TOL = 1e-10  # accepted as converged if damping blew up but decrement <= this * rss
_LAM_MAX = 1e16
_TINY = 1e-300

# coarse start grid
_GRID_T = np.linspace(-0.15, 1.15, 8)  # fractions of each curve's log-concentration range
_GRID_HILL = np.array([0.6, 1.2, 2.5, 5.0])


@dataclass(slots=True)
class Problem:
    """A block of curves, already pooled and masked (see ``_prepare``)."""

    lx: FloatArray  # (n, k) ln x, -inf for x == 0, 0 where w == 0
    y: FloatArray  # (n, k) (mean) responses, 0 where w == 0
    w: FloatArray  # (n, k) weights (replicate counts x user weights), 0 = missing
    lx_lo: FloatArray  # (n,) ln of the smallest positive concentration
    lx_hi: FloatArray  # (n,) ln of the largest concentration
    P_fixed: FloatArray  # (n, p) internal values of fixed parameters (others ignored)
    lo: FloatArray  # (n, p) internal lower bounds
    hi: FloatArray  # (n, p) internal upper bounds


@dataclass(slots=True)
class Solution:
    P: FloatArray  # (n, p) internal parameters
    rss: FloatArray  # (n,) weighted RSS of the pooled problem
    converged: BoolArray
    at_bound: BoolArray
    iterations: FloatArray
    A: FloatArray  # (n, q, q) Gauss-Newton normal matrix J^T W J on the free parameters


# ------------------------------------------------------------------ small dense algebra
def _cholesky(A: list[list[FloatArray]]) -> tuple[list[list[FloatArray]], BoolArray]:
    """Cholesky factor of a batch of SPD matrices given as nested lists of arrays."""
    q = len(A)
    L: list[list[FloatArray]] = [[A[0][0]] * q for _ in range(q)]
    ok = np.ones(A[0][0].shape, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(q):
            s = A[j][j]
            for t in range(j):
                s = s - L[j][t] * L[j][t]
            good = s > 0.0
            ok &= good
            d = np.sqrt(np.where(good, s, np.nan))
            L[j][j] = d
            for i in range(j + 1, q):
                v = A[i][j]
                for t in range(j):
                    v = v - L[i][t] * L[j][t]
                L[i][j] = v / d
    return L, ok


def _forward(L: list[list[FloatArray]], b: list[FloatArray]) -> list[FloatArray]:
    q = len(b)
    u: list[FloatArray] = []
    for i in range(q):
        v = b[i]
        for t in range(i):
            v = v - L[i][t] * u[t]
        u.append(v / L[i][i])
    return u


def _backward(L: list[list[FloatArray]], u: list[FloatArray]) -> list[FloatArray]:
    q = len(u)
    x: list[FloatArray] = [u[0]] * q
    for i in range(q - 1, -1, -1):
        v = u[i]
        for t in range(i + 1, q):
            v = v - L[t][i] * x[t]
        x[i] = v / L[i][i]
    return x


# ------------------------------------------------------------------ start values
def grid_start(model: Model, prob: Problem, free: BoolArray) -> FloatArray:
    """Best cell of a (location × hill) grid, with plateaus solved in closed form."""
    n, k = prob.lx.shape
    p = model.n_params
    P = prob.P_fixed.copy()
    if model.has_s and free[4]:
        P[:, 4] = 0.0  # s = 1
    # candidate locations / hills
    if free[2]:
        span = prob.lx_hi - prob.lx_lo
        locs = prob.lx_lo[:, None] + _GRID_T[None, :] * span[:, None]  # (n, L)
    else:
        locs = P[:, 2:3]
    if free[3]:
        signs_needed = not (model.symmetric and free[0] and free[1])
        hills = np.concatenate([_GRID_HILL, -_GRID_HILL]) if signs_needed else _GRID_HILL
        hills_b = np.broadcast_to(hills[None, :], (n, hills.size))
    else:
        hills_b = P[:, 3:4]
    L_, H_ = locs.shape[1], hills_b.shape[1]
    loc_g = np.repeat(locs, H_, axis=1)  # (n, G)
    hill_g = np.tile(hills_b, (1, L_))
    loc_g = np.clip(loc_g, prob.lo[:, 2:3], prob.hi[:, 2:3])
    hill_g = np.clip(hill_g, prob.lo[:, 3:4], prob.hi[:, 3:4])
    G = loc_g.shape[1]
    log_s = P[:, 4:5, None] if model.has_s else None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        z = hill_g[:, :, None] * (prob.lx[:, None, :] - loc_g[:, :, None])  # (n, G, k)
        S, _ = model.shape(z, log_s)
        S = np.where(prob.w[:, None, :] > 0, S, 0.0)
    w = prob.w[:, None, :]
    y = prob.y[:, None, :]
    if free[0] and free[1]:
        sw = w.sum(axis=2)
        sS = (w * S).sum(axis=2)
        sSS = (w * S * S).sum(axis=2)
        sy = (w * y).sum(axis=2)
        sSy = (w * S * y).sum(axis=2)
        det = sw * sSS - sS * sS
        with np.errstate(invalid="ignore", divide="ignore"):
            b = (sw * sSy - sS * sy) / det  # amplitude top - bottom
            a = (sy - b * sS) / sw
        bad = ~(np.abs(det) > 1e-12 * sw * sSS)
        a = np.where(bad, sy / np.maximum(sw, _TINY), a)
        b = np.where(bad, 0.0, b)
        bottom, top = a, a + b
    elif free[1]:  # bottom fixed
        b0 = P[:, 0:1]
        with np.errstate(invalid="ignore", divide="ignore"):
            amp = (w * S * (y - b0[:, :, None])).sum(axis=2) / (w * S * S).sum(axis=2)
        bottom = np.broadcast_to(b0, (n, G))
        top = b0 + np.nan_to_num(amp)
    elif free[0]:  # top fixed
        t0 = P[:, 1:2]
        R = 1.0 - S
        with np.errstate(invalid="ignore", divide="ignore"):
            amp = (w * R * (y - t0[:, :, None])).sum(axis=2) / (w * R * R).sum(axis=2)
        top = np.broadcast_to(t0, (n, G))
        bottom = t0 + np.nan_to_num(amp)
    else:
        bottom = np.broadcast_to(P[:, 0:1], (n, G))
        top = np.broadcast_to(P[:, 1:2], (n, G))
    bottom = np.clip(bottom, prob.lo[:, 0:1], prob.hi[:, 0:1])
    top = np.clip(top, prob.lo[:, 1:2], prob.hi[:, 1:2])
    resid = bottom[:, :, None] + (top - bottom)[:, :, None] * S - y
    rss = (w * resid * resid).sum(axis=2)
    rss = np.where(np.isfinite(rss), rss, np.inf)
    best = np.argmin(rss, axis=1)
    rows = np.arange(n)
    P[:, 0] = np.where(free[0], bottom[rows, best], P[:, 0])
    P[:, 1] = np.where(free[1], top[rows, best], P[:, 1])
    P[:, 2] = np.where(free[2], loc_g[rows, best], P[:, 2])
    P[:, 3] = np.where(free[3], hill_g[rows, best], P[:, 3])
    del p
    return P


# ------------------------------------------------------------------ the solver
def _normal_equations(
    cols: list[FloatArray], r: FloatArray, w: FloatArray
) -> tuple[list[list[FloatArray]], list[FloatArray]]:
    q = len(cols)
    wc = [w * c for c in cols]
    A: list[list[FloatArray]] = [[cols[0][:, 0]] * q for _ in range(q)]
    for i in range(q):
        for j in range(i + 1):
            v = (wc[i] * cols[j]).sum(axis=1)
            A[i][j] = v
            A[j][i] = v
    g = [(c * r).sum(axis=1) for c in wc]
    return A, g


def solve(
    model: Model,
    prob: Problem,
    free: BoolArray,
    *,
    max_iter: int = 200,
    P0: FloatArray | None = None,
) -> Solution:
    """Least-squares fit of every curve of `prob` (free parameters given by the mask `free`)."""
    n, _ = prob.lx.shape
    p = model.n_params
    fidx = np.flatnonzero(free)
    q = fidx.size
    P = grid_start(model, prob, free) if P0 is None else P0.copy()
    P[:, ~free] = prob.P_fixed[:, ~free]
    P = np.clip(P, prob.lo, prob.hi)

    out_P = P.copy()
    out_rss = np.full(n, np.nan)
    out_conv = np.zeros(n, dtype=bool)
    out_iter = np.zeros(n)

    idx = np.arange(n)
    lx, y, w = prob.lx, prob.y, prob.w
    lo, hi = prob.lo[:, fidx], prob.hi[:, fidx]
    f, cols_all = model.evaluate(lx, P, jacobian=True)
    cols = [cols_all[j] for j in fidx]
    r = f - y
    with np.errstate(invalid="ignore", over="ignore"):
        rss = np.where(w > 0, w * r * r, 0.0).sum(axis=1)
    r = np.where(w > 0, r, 0.0)
    cols = [np.where(w > 0, c, 0.0) for c in cols]
    lam = np.full(n, 1e-3)
    nu = np.full(n, 2.0)
    D = np.zeros((q, n))  # running max of diag(A) (More's scaling)
    it = 0
    finite0 = np.isfinite(rss)
    # curves whose start is not finite cannot be fitted
    if not finite0.all():
        keep = finite0
        out_rss[idx[~keep]] = np.nan
        idx, P, rss, lam, nu, D = idx[keep], P[keep], rss[keep], lam[keep], nu[keep], D[:, keep]
        lx, y, w, lo, hi = lx[keep], y[keep], w[keep], lo[keep], hi[keep]
        r, cols = r[keep], [c[keep] for c in cols]

    while idx.size and it < max_iter:
        it += 1
        A, g = _normal_equations(cols, r, w)
        Pf = P[:, fidx]
        # active set: on a bound with the descent direction (-g) pointing outward
        frozen = [((Pf[:, i] <= lo[:, i]) & (g[i] > 0)) | ((Pf[:, i] >= hi[:, i]) & (g[i] < 0)) for i in range(q)]
        for i in range(q):
            g[i] = np.where(frozen[i], 0.0, g[i])
            for j in range(q):
                if i != j:
                    A[i][j] = np.where(frozen[i] | frozen[j], 0.0, A[i][j])
            A[i][i] = np.where(frozen[i], 1.0, A[i][i])
        # Gauss-Newton decrement (convergence test)
        L, ok = _cholesky(A)
        u = _forward(L, g)
        dec = sum(ui * ui for ui in u)
        dec = np.where(ok, dec, np.inf)
        conv = (dec <= _DEC_TOL * rss) | (rss <= _TINY)
        # damped step
        for i in range(q):
            D[i] = np.maximum(D[i], A[i][i])
        Ad = [row[:] for row in A]
        for i in range(q):
            Ad[i][i] = A[i][i] + lam * np.maximum(D[i], 1e-12 * np.maximum(D.max(axis=0), _TINY))
        Ld, okd = _cholesky(Ad)
        step = _backward(Ld, _forward(Ld, [-gi for gi in g]))
        delta = np.stack(step, axis=1)
        delta = np.where(okd[:, None], delta, np.nan)
        Pt = P.copy()
        Pt[:, fidx] = np.clip(Pf + delta, lo, hi)
        dP = Pt[:, fidx] - Pf
        ft, cols_t_all = model.evaluate(lx, Pt, jacobian=True)
        rt = np.where(w > 0, ft - y, 0.0)
        with np.errstate(invalid="ignore", over="ignore"):
            rss_t = (w * rt * rt).sum(axis=1)
        # predicted reduction of the (projected) step under the linear model
        gd = sum(g[i] * dP[:, i] for i in range(q))
        dAd = sum(A[i][j] * dP[:, i] * dP[:, j] for i in range(q) for j in range(q))
        pred = -(2.0 * gd + dAd)
        actual = rss - rss_t
        accept = np.isfinite(rss_t) & (rss_t < rss) & ~conv
        with np.errstate(invalid="ignore", divide="ignore"):
            rho = np.where(pred > 0, actual / pred, 0.0)
        # Nielsen's damping update
        factor = np.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
        lam = np.where(accept, lam * factor, lam * nu)
        nu = np.where(accept, 2.0, nu * 2.0)
        P = np.where(accept[:, None], Pt, P)
        rss = np.where(accept, rss_t, rss)
        r = np.where(accept[:, None], rt, r)
        cols = [np.where(accept[:, None], np.where(w > 0, cols_t_all[j], 0.0), c) for j, c in zip(fidx, cols, strict=True)]
        stalled = (lam > _LAM_MAX) | (nu > 1e30)
        conv_stall = stalled & (dec <= _STALL_TOL * np.maximum(rss, _TINY))
        done = conv | stalled
        if done.any():
            d_idx = idx[done]
            out_P[d_idx] = P[done]
            out_rss[d_idx] = rss[done]
            out_conv[d_idx] = conv[done] | conv_stall[done]
            out_iter[d_idx] = it
            keep = ~done
            idx, P, rss, lam, nu, D = idx[keep], P[keep], rss[keep], lam[keep], nu[keep], D[:, keep]
            lx, y, w, lo, hi = lx[keep], y[keep], w[keep], lo[keep], hi[keep]
            r, cols = r[keep], [c[keep] for c in cols]
    if idx.size:  # out of iterations
        out_P[idx] = P
        out_rss[idx] = rss
        out_iter[idx] = it

    # Gauss-Newton normal matrix at the solution (for the covariance) and bound flags
    f, cols_all = model.evaluate(prob.lx, out_P, jacobian=True)
    wpos = prob.w > 0
    cols = [np.where(wpos, cols_all[j], 0.0) for j in fidx]
    A, _ = _normal_equations(cols, np.zeros_like(prob.y), prob.w)
    A_arr = np.empty((n, q, q))
    for i in range(q):
        for j in range(q):
            A_arr[:, i, j] = A[i][j]
    Pf = out_P[:, fidx]
    span = np.maximum(np.abs(Pf), 1.0) * 1e-9
    at_bound = ((Pf <= prob.lo[:, fidx] + span) | (Pf >= prob.hi[:, fidx] - span)).any(axis=1)
    del p
    return Solution(P=out_P, rss=out_rss, converged=out_conv, at_bound=at_bound, iterations=out_iter, A=A_arr)
