"""The generic batched solver (internal): any :class:`~mtor_pharm.models.ModelFamily`
without a compiled shape (``compiled is None``), vectorized over a block of curves.

It takes the same :class:`._engine.Problem` as the compiled solver and writes the same
:class:`._engine.Outputs` rows, so the result assembly, the covariance, the standard
errors and the status rules (``_api._finish``: flat response, runaway plateaus, too few
points) are those of the compiled path:

* **starts**: the family's start candidates (:meth:`ModelFamily.start`, a grid with the
  linear parameters solved per cell), the best :data:`_KEEP` by RSS each refined;
* **Levenberg–Marquardt** with Moré's diagonal scaling and Nielsen's damping update,
  bounds by projection with an active set (a parameter on a bound whose descent direction
  points outward is frozen for that step), on the family's analytic Jacobian;
* **convergence** as in the compiled solver: the Gauss–Newton decrement ``gᵀA⁻¹g`` is
  ``≤ 1e-14·RSS`` and the Gauss–Newton step is ``≤ 1e-9`` of each parameter's scale; a
  curve whose damping blows up or whose RSS falls by less than 1e-10 (relative) over 10
  iterations stops, converged only if its decrement is ``≤ 1e-10·RSS`` (a slow but
  steady linear convergence is not a stall); otherwise ``NOT_CONVERGED`` after
  ``max_iter``.  ``AT_BOUND``: a free parameter within 1e-9 (relative) of a bound.

The solver works on the caller's ``ln x`` (the block's centring is undone: a family such
as Brain–Cousens has a term linear in ``x`` itself) and hands back centred locations.
"""

from __future__ import annotations

import numpy as np

from .._layout import BOTTOM, TOP
from .._typing import BoolArray, FloatArray, IntArray
from ..models import Model
from . import _kernels, _status
from ._result import FitStatus

__all__ = ["solve_block"]

_KEEP = 3  # start candidates refined per curve
# the compiled engine's settings (one definition, in _kernels.pyx) ...
_LAM_MAX = _kernels.LAM_MAX
_DEC_TOL = _kernels.DEC_TOL
_STEP_TOL = _kernels.STEP_TOL
_STALL_TOL = _kernels.STALL_TOL
_STALL_EVERY = _kernels.STALL_EVERY
_ZERO_RSS = _kernels.ZERO_RSS
_BOUND_TOL = _kernels.AT_BOUND_RTOL
_NEWTON_DEC = _kernels.NEWTON_DEC
_FD_REL = _kernels.FD_REL
# ... and the two this solver sets apart: its starts are the family's own refined candidates
# (less damping than after the compiled coarse grid), and, having no linear-rate estimate,
# it calls a curve stalled only when its RSS stops falling at all
_LAM0 = 1e-3
_STALL_REL = 1e-10  # RSS fell by less than this (relative) over _STALL_EVERY iterations: stalled


def _rss(model: Model, lx: FloatArray, y: FloatArray, w: FloatArray, P: FloatArray) -> FloatArray:
    f, _ = model.evaluate(lx, P, jacobian=False)
    r = np.where(w > 0, y - f, 0.0)
    out: FloatArray = np.einsum("nk,nk->n", w, r * r)
    return np.where(np.isfinite(out), out, np.inf)


def _newton_matrix(
    model: Model, lx: FloatArray, y: FloatArray, w: FloatArray, P: FloatArray, g: FloatArray,
    fidx: IntArray, hi: FloatArray,
) -> FloatArray:
    """Half the Hessian of the RSS over the free parameters, ``-d(JᵀWr)/dP``, from forward
    differences of the exact gradient `g` (each step away from the nearer upper bound),
    symmetrized; shape (m, q, q)."""
    m, q = P.shape[0], fidx.size
    H = np.empty((m, q, q))
    for b, j in enumerate(fidx):
        h = _FD_REL * np.maximum(np.abs(P[:, j]), 1.0)
        h = np.where(P[:, j] + h > hi[:, j], -h, h)
        Pb = P.copy()
        Pb[:, j] = P[:, j] + h
        h = Pb[:, j] - P[:, j]
        f, cols = model.evaluate(lx, Pb, jacobian=True)
        J = np.stack([cols[i] for i in fidx], axis=-1)
        J = np.where(np.isfinite(J), J, 0.0)
        r = np.where(w > 0, y - f, 0.0)
        gb = np.einsum("mkq,mk,mk->mq", J, w, r)
        H[:, :, b] = -(gb - g) / h[:, None]
    out: FloatArray = 0.5 * (H + np.swapaxes(H, 1, 2))
    return out


def _solve(A: FloatArray, b: FloatArray) -> FloatArray:
    """Solve the stacked systems ``A x = b``; a singular one (only) by its pseudo-inverse, so
    a curve's steps never depend on the other curves of the block."""
    try:
        out: FloatArray = np.asarray(np.linalg.solve(A, b[..., None])[..., 0], dtype=np.float64)
    except np.linalg.LinAlgError:
        out = np.empty_like(b)
        for i in range(A.shape[0]):
            try:
                out[i] = np.linalg.solve(A[i], b[i])
            except np.linalg.LinAlgError:
                out[i] = np.linalg.pinv(A[i]) @ b[i]
    return out


def _lm(
    model: Model,
    lx: FloatArray,
    y: FloatArray,
    w: FloatArray,
    P: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    free: BoolArray,
    floor: FloatArray,
    max_iter: int,
) -> tuple[FloatArray, FloatArray, BoolArray, FloatArray]:
    """Levenberg–Marquardt from `P` (modified in place) for every row; returns
    ``(P, rss, converged, iterations)``."""
    n = P.shape[0]
    fidx = np.flatnonzero(free)
    q = fidx.size
    rss = _rss(model, lx, y, w, P)
    lam = np.full(n, _LAM0)
    nu = np.full(n, 2.0)
    dscale = np.zeros((n, q))
    active = np.isfinite(rss)
    conv = np.zeros(n, dtype=bool)
    its = np.zeros(n)
    last = rss.copy()
    eye = np.eye(q)
    for it in range(max_iter):
        if not active.any():
            break
        rows = np.flatnonzero(active)
        Pa, lxa, ya, wa = P[rows], lx[rows], y[rows], w[rows]
        f, cols = model.evaluate(lxa, Pa, jacobian=True)
        J = np.stack([cols[j] for j in fidx], axis=-1)  # (m, k, q)
        J = np.where(np.isfinite(J), J, 0.0)
        r = np.where(wa > 0, ya - f, 0.0)
        A = np.einsum("mkq,mk,mkr->mqr", J, wa, J)
        g = np.einsum("mkq,mk,mk->mq", J, wa, r)
        # active set: a parameter on a bound whose descent direction points outward is frozen
        lo_f, hi_f, Pf = lo[rows][:, fidx], hi[rows][:, fidx], Pa[:, fidx]
        tol = np.maximum(np.abs(Pf), 1.0) * _BOUND_TOL
        frozen = ((Pf <= lo_f + tol) & (g < 0)) | ((Pf >= hi_f - tol) & (g > 0))
        keep = ~frozen
        Ak = np.where(keep[:, :, None] & keep[:, None, :], A, 0.0) + eye * frozen[:, :, None]
        gk = np.where(keep, g, 0.0)
        diag = np.einsum("mqq->mq", Ak)
        dscale[rows] = np.maximum(dscale[rows], diag)
        D = np.maximum(dscale[rows], 1e-300)
        # Gauss-Newton step and decrement (the convergence test)
        gn = _solve(Ak, gk)
        dec = np.einsum("mq,mq->m", gk, gn)
        small = np.all(np.abs(gn) <= _STEP_TOL * np.maximum(np.abs(Pf), 1.0), axis=1)
        done = ((dec <= _DEC_TOL * rss[rows] + floor[rows]) & small) | (rss[rows] <= floor[rows])
        # damped step, projected on the bounds: Newton's (the matrix from forward differences
        # of the exact gradient) where a Gauss-Newton step would gain less than _NEWTON_DEC
        # of the RSS and the damped Newton matrix is positive definite, else Gauss-Newton's
        damp = lam[rows, None, None] * (eye * D[:, :, None])
        M = Ak
        near = ~done & (dec <= _NEWTON_DEC * rss[rows])
        if near.any():
            H = _newton_matrix(model, lxa[near], ya[near], wa[near], Pa[near], g[near], fidx, hi[rows][near])
            H = np.where(keep[near][:, :, None] & keep[near][:, None, :], H, 0.0) + eye * frozen[near][:, :, None]
            Hd = H + damp[near]
            with np.errstate(invalid="ignore"):
                ok = np.isfinite(Hd).all(axis=(1, 2))
                ok[ok] = np.linalg.eigvalsh(Hd[ok])[:, 0] > 0.0
            M = Ak.copy()
            sel = np.flatnonzero(near)[ok]
            M[sel] = H[ok]
        step = _solve(M + damp, gk)
        Pt = Pa.copy()
        Pt[:, fidx] = np.clip(Pf + step, lo_f, hi_f)
        rss_t = _rss(model, lxa, ya, wa, Pt)
        d = Pt[:, fidx] - Pf
        pred = 2.0 * np.einsum("mq,mq->m", d, gk) - np.einsum("mq,mqr,mr->m", d, M, d)
        accepted = (rss_t < rss[rows]) & ~done
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = (rss[rows] - rss_t) / pred
        shrink = np.maximum(1.0 / 3.0, 1.0 - (2.0 * np.where(np.isfinite(rho), rho, 0.0) - 1.0) ** 3)
        lam_new = np.where(accepted, lam[rows] * shrink, lam[rows] * nu[rows])
        nu_new = np.where(accepted, 2.0, nu[rows] * 2.0)
        P[rows] = np.where(accepted[:, None], Pt, Pa)
        rss[rows] = np.where(accepted, rss_t, rss[rows])
        lam[rows], nu[rows] = lam_new, nu_new
        its[rows] += ~done
        conv[rows] |= done
        stop = done | (lam_new > _LAM_MAX) | (nu_new > 1e30)
        if (it + 1) % _STALL_EVERY == 0:
            stalled = rss[rows] > last[rows] * (1.0 - _STALL_REL)
            stop |= stalled
            last[rows] = rss[rows]
        # stopped for lack of progress: converged if the decrement is already negligible
        conv[rows] |= stop & ~done & (dec <= _STALL_TOL * np.maximum(rss[rows], 1e-300))
        active[rows] = ~stop
    return P, rss, conv, its


def solve_block(
    model: Model,
    fit: BoolArray,
    lx: FloatArray,
    y: FloatArray,
    w: FloatArray,
    centre: FloatArray,
    P_fixed: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    free: BoolArray,
    max_iter: int,
    out_P: FloatArray,
    out_rss: FloatArray,
    out_status: np.ndarray,
    out_it: FloatArray,
    out_A: FloatArray,
) -> None:
    """Fit every row of a block (the generic counterpart of ``_kernels.solve_block``).

    Row ``i`` of the outputs belongs to row ``i`` of the inputs; ``out_A`` receives
    ``(JᵀWJ)⁻¹`` over the free parameters (NaN where singular); a row with ``fit[i]``
    False gets NaN, status 0 and 0 iterations."""
    q = int(free.sum())
    out_P[...] = np.nan
    out_rss[...] = np.nan
    out_status[...] = 0
    out_it[...] = 0.0
    out_A[...] = np.nan
    rows = np.flatnonzero(fit)
    if rows.size == 0:
        return
    conc = np.array([k == "conc" for k in model.kinds])
    c = centre[rows, None]
    wr = w[rows]
    lxr = np.where(wr > 0, lx[rows] + c, lx[rows])  # the caller's ln x again
    yr = y[rows]
    Pf = P_fixed[rows].copy()
    Pf[:, conc] += c
    lor, hir = lo[rows].copy(), hi[rows].copy()
    lor[:, conc] += c
    hir[:, conc] += c
    with np.errstate(all="ignore"):
        floor = _ZERO_RSS * np.einsum("nk,nk->n", wr, yr * yr)  # inf for responses ~1e160: no floor
        cand = model.start(lxr, yr, wr, Pf, free)  # (s, m, p)
        cand = np.where(free[None, None, :], np.clip(cand, lor[None], hir[None]), Pf[None])
        s, m = cand.shape[0], cand.shape[1]
        rss_c = np.stack([_rss(model, lxr, yr, wr, cand[i]) for i in range(s)])
        rss_c = np.where(np.isfinite(cand).all(axis=2), rss_c, np.inf)
        # an asymmetric shape family keeps its own shape only with top >= bottom (with
        # top < bottom it is another family's curve, e.g. Weibull-1 turned Weibull-2): the
        # starts and the optimum are taken with top >= bottom where the plateaus are free,
        # as in the compiled engine (NOT_CONVERGED where no start reaches one)
        ordered = (
            type(model).evaluate is Model.evaluate and not model.symmetric and bool(free[BOTTOM]) and bool(free[TOP])
        )
        if ordered:
            rss_c = np.where(cand[:, :, TOP] >= cand[:, :, BOTTOM], rss_c, np.inf)
        keep = min(_KEEP, s)
        best = np.argsort(rss_c, axis=0, kind="stable")[:keep]  # (keep, m)
        P0 = np.concatenate([cand[best[j], np.arange(m)] for j in range(keep)])
        def rep(a: FloatArray) -> FloatArray:
            return np.concatenate([a] * keep)

        P, rss, conv, its = _lm(
            model, rep(lxr), rep(yr), rep(wr), P0, rep(lor), rep(hir), free, rep(floor), max_iter
        )
        rss = np.where(np.isfinite(rss), rss, np.inf)
        if ordered:
            unordered = P[:, TOP] < P[:, BOTTOM]
            conv = conv & ~unordered
            rss = np.where(unordered, np.inf, rss)
        rss = rss.reshape(keep, m)
        # the lowest RSS; a start that converged to the same optimum (RSS within 1e-8) is preferred
        same = (rss <= rss.min(axis=0) * (1.0 + 1e-8)) & conv.reshape(keep, m)
        pick = np.where(same.any(axis=0), np.argmax(same, axis=0), np.argmin(rss, axis=0))
        sel = pick * m + np.arange(m)
        P, rss_b, conv, its_tot = P[sel], rss.min(axis=0), conv[sel], its.reshape(keep, m).sum(axis=0)
        if ordered:  # no start reached an optimum with top >= bottom: its RSS, not converged
            rss_b = np.where(np.isfinite(rss_b), rss_b, _rss(model, lxr, yr, wr, P))

        # the reported form of the same curve (e.g. biphasic sites in order), then JᵀWJ there
        model.canonical(P, free)
        _, cols = model.evaluate(lxr, P, jacobian=True)
        fidx = np.flatnonzero(free)
        J = np.stack([cols[j] for j in fidx], axis=-1)
        A = np.einsum("mkq,mk,mkr->mqr", J, wr, J)
        Ainv = np.full((m, q, q), np.nan)
        good = np.isfinite(A).all(axis=(1, 2))
        if good.any():
            cond_ok = np.linalg.cond(A[good]) < 1e15
            inv = np.full((int(good.sum()), q, q), np.nan)
            if cond_ok.any():
                inv[cond_ok] = np.linalg.inv(A[good][cond_ok])
            Ainv[good] = inv

    status = np.where(conv, 0, int(FitStatus.NOT_CONVERGED)).astype(np.uint8)
    on_bound = _status.at_bound(P[:, fidx], lor[:, fidx], hir[:, fidx]).any(axis=1)
    status |= np.where(on_bound, int(FitStatus.AT_BOUND), 0).astype(np.uint8)
    P[:, conc] -= c  # back to the block's centred locations (the caller adds the centre)
    out_P[rows] = P
    out_rss[rows] = np.where(np.isfinite(rss_b), rss_b, np.nan)
    out_status[rows] = status
    out_it[rows] = its_tot
    out_A[rows] = Ainv
