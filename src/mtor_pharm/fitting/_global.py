"""Block-structured global least squares (internal): many curves, some parameters shared.

A global fit of ``U`` curves has, per curve, a block of ``ql`` local parameters, and ``G``
global columns (a parameter shared by a group of curves is one column).  The Jacobian is
block-sparse: curve ``u``'s residuals depend on its own block and on at most ``pg`` global
columns (``gcol[u]``).  The normal matrix is therefore

    [ D  C ]      D = diag(D_1 … D_U)   (ql × ql each)
    [ Cᵀ S ]      C_u : ql × pg, on the columns gcol[u];   S : G × G

and every linear solve eliminates the local blocks first (the Schur complement
``S − Σ C_uᵀ D_u⁻¹ C_u``, batched over curves), so one Levenberg–Marquardt iteration costs
``O(U·m·p² + G³)`` time and ``O(U·m·p + G²)`` memory, against ``O((U·ql + G)³)`` and
``O((U·ql + G)²)`` for dense normal equations.

The iteration is the compiled per-curve engine's (``_kernels.pyx``): Moré's diagonal
scaling (running maximum of the diagonal), Nielsen's damping update from an initial
damping of 0.1, box bounds by projection with an active set, and convergence when the
Gauss–Newton decrement is ``≤ 1e-14·RSS`` and the remaining parameter error, estimated
from the linear rate of successive Gauss–Newton steps, is ``≤ 1e-9`` on the parameters'
own scale; a fit that stops making progress is converged only if its decrement is
``≤ 1e-10·RSS``.  Those settings are imported from the compiled module, where they are
defined once.

Several independent global fits (``B``, e.g. one per start or one per batch element) are
solved together; fits that finish are dropped from the working set.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from .._typing import BoolArray, FloatArray, IntArray
from ..models import Model
from . import _kernels
from ._layout import COMPILED

__all__ = ["JointCov", "Problem", "Solution", "joint_covariance", "solve"]

# the compiled engine's own settings (one definition, in _kernels.pyx)
_LAM0 = _kernels.LAM0
_DEC_TOL = _kernels.DEC_TOL
_STEP_TOL = _kernels.STEP_TOL
_STALL_TOL = _kernels.STALL_TOL
_LAM_MAX = _kernels.LAM_MAX
_TINY = _kernels.TINY
_ZERO_RSS = _kernels.ZERO_RSS
_STALL_EVERY = _kernels.STALL_EVERY
_STALL_REL = _kernels.STALL_REL
_LINEAR_RATE_MAX = _kernels.LINEAR_RATE_MAX


@dataclass(slots=True)
class Problem:
    """The stacked data of ``B`` global fits, as rows of padded points.

    A row is one curve's data.  Each row belongs to one fit (``fit_of``) and one unit
    (``unit_of``): the curve whose local parameters it uses (itself, or the curve a
    control-only row is attached to).  Units are numbered ``0 … U-1``.
    """

    model: Model
    lx: FloatArray  # (R, m) ln x (-inf at x = 0), 0 where sw == 0
    y: FloatArray  # (R, m) responses, 0 where sw == 0
    sw: FloatArray  # (R, m) square roots of the weights (0 = no point)
    unit_of: IntArray  # (R,) unit of every row
    fit_u: IntArray  # (U,) fit of every unit
    local: tuple[int, ...]  # internal parameter indices estimated per unit
    glob: tuple[int, ...]  # internal parameter indices on global columns
    gcol: IntArray  # (U, pg) global column (0 … G-1 within its fit) of each glob parameter
    G: int
    P_fixed: FloatArray  # (R, p) fixed values on the internal scale (others ignored)
    lo_l: FloatArray  # (U, ql) bounds of the local parameters
    hi_l: FloatArray
    lo_g: FloatArray  # (B, G) bounds of the global columns
    hi_g: FloatArray
    unused_g: BoolArray  # (B, G) columns no unit of the fit uses (held at their start)
    dead_u: BoolArray | None = None  # (U,) units set aside (no data; held at their values)

    @property
    def B(self) -> int:
        return int(self.lo_g.shape[0])

    @property
    def U(self) -> int:
        return int(self.fit_u.shape[0])

    def params(self, tl: FloatArray, tg: FloatArray) -> FloatArray:
        """Internal parameters of every row, (R, p)."""
        P = self.P_fixed.copy()
        u = self.unit_of
        if self.local:
            P[:, list(self.local)] = tl[u]
        if self.glob:
            P[:, list(self.glob)] = tg[self.fit_u[u][:, None], self.gcol[u]]
        return P

    def _rows(self, tl: FloatArray, tg: FloatArray, jacobian: bool) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Every row's ``Σ w J Jᵀ`` (R, q, q) and ``Σ w J (y − f)`` (R, q) over the columns
        ``(*local, *glob)`` (with `jacobian`), and its RSS (R,): from the compiled curve where
        the family has one."""
        order = np.array((*self.local, *self.glob), dtype=np.int64)
        n_rows, q = self.lx.shape[0], order.size
        P = np.ascontiguousarray(self.params(tl, tg))
        if self.model.compiled is not None:
            M = np.empty((n_rows, q, q) if jacobian else (0, 0, 0))
            g = np.empty((n_rows, q) if jacobian else (0, 0))
            row = np.empty(n_rows)
            _kernels.gram_rows(
                COMPILED[self.model.compiled], P, self.lx, self.y, self.sw, order, M, g, row, jacobian
            )
            return M, g, row
        # a family without a compiled shape: its own (numpy) curve and Jacobian
        f, cols = self.model.evaluate(self.lx, P, jacobian=jacobian)
        sw = self.sw
        with np.errstate(invalid="ignore", over="ignore"):
            r = np.where(sw > 0, sw * (self.y - f), 0.0)
            row = np.einsum("rm,rm->r", r, r)
            if not jacobian:
                return np.empty((0, 0, 0)), np.empty((0, 0)), row
            Jt = np.stack([np.where(sw > 0, sw * cols[a], 0.0) for a in order], axis=1)  # (R, q, m)
        M = np.matmul(Jt, Jt.transpose(0, 2, 1))
        g = np.matmul(Jt, r[:, :, None])[:, :, 0]
        return M, g, row

    def rss(self, tl: FloatArray, tg: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Per-row and per-fit RSS."""
        _, _, row = self._rows(tl, tg, jacobian=False)
        return row, _bincount(self.fit_u[self.unit_of], weights=row, minlength=self.B)

    def normal(self, tl: FloatArray, tg: FloatArray) -> tuple[FloatArray, ...]:
        """Blocks of ``JᵀWJ`` and ``JᵀW(y − f)`` and the RSS per fit.

        Returns ``(D (U, ql, ql), C (U, ql, pg), S (B, G, G), gl (U, ql), gg (B, G), rss (B,))``.
        """
        M, gv, row_rss = self._rows(tl, tg, jacobian=True)
        B, U, G = self.B, self.U, self.G
        ql, pg = len(self.local), len(self.glob)
        u = self.unit_of
        identity = u.shape[0] == U and bool(np.all(u == np.arange(U)))
        rss = _bincount(self.fit_u[u], weights=row_rss, minlength=B)
        if not identity:
            M_u = np.zeros((U, *M.shape[1:]))
            gv_u = np.zeros((U, gv.shape[1]))
            np.add.at(M_u, u, M)
            np.add.at(gv_u, u, gv)
            M, gv = M_u, gv_u
        D = np.ascontiguousarray(M[:, :ql, :ql])
        if self.dead_u is not None and self.dead_u.any():  # a unit diagonal: no step
            i = np.arange(ql)
            D[:, i, i] += np.where(self.dead_u, 1.0, 0.0)[:, None]
        gl = np.ascontiguousarray(gv[:, :ql])
        if pg:
            C = np.ascontiguousarray(M[:, :ql, ql:])
            Eg = M[:, ql:, ql:]
            gg_u = gv[:, ql:]
            S = _scatter_gg(Eg, self.fit_u, self.gcol, B, G)
            gg = _scatter_g(gg_u, self.fit_u, self.gcol, B, G)
            if self.unused_g.any():  # a unit diagonal: no step, no singular Schur complement
                j = np.arange(G)
                S[:, j, j] += np.where(self.unused_g, 1.0, 0.0)
        else:
            C = np.zeros((U, ql, 0))
            S = np.zeros((B, 0, 0))
            gg = np.zeros((B, 0))
        return D, C, S, gl, gg, rss


def _bincount(idx: IntArray, weights: FloatArray, minlength: int) -> FloatArray:
    """Weighted ``np.bincount`` (float64)."""
    return np.asarray(np.bincount(idx, weights=weights, minlength=minlength), dtype=np.float64)


def _scatter_gg(M: FloatArray, fit_u: IntArray, gcol: IntArray, B: int, G: int) -> FloatArray:
    """Σ over units of the (pg × pg) pieces `M`, placed at ``(gcol, gcol)`` of their fit."""
    if G == 0:
        return np.zeros((B, 0, 0))
    base = fit_u[:, None, None] * (G * G)
    idx = base + gcol[:, :, None] * G + gcol[:, None, :]
    return _bincount(idx.ravel(), weights=M.ravel(), minlength=B * G * G).reshape(B, G, G)


def _scatter_g(v: FloatArray, fit_u: IntArray, gcol: IntArray, B: int, G: int) -> FloatArray:
    if G == 0:
        return np.zeros((B, 0))
    idx = fit_u[:, None] * G + gcol
    return _bincount(idx.ravel(), weights=v.ravel(), minlength=B * G).reshape(B, G)


def _solve(M: FloatArray, v: FloatArray) -> FloatArray:
    """Batched ``M⁻¹ v`` (v: (..., n) or (..., n, r)); NaN for a singular matrix."""
    vec = v.ndim == M.ndim - 1
    rhs = v[..., None] if vec else v
    if M.shape[-1] == 0:
        return np.zeros(v.shape)
    try:
        out = np.linalg.solve(M, rhs)
    except np.linalg.LinAlgError:
        out = np.full(rhs.shape, np.nan)
        Mf = M.reshape(-1, *M.shape[-2:])
        rf = rhs.reshape(-1, *rhs.shape[-2:])
        of = out.reshape(-1, *rhs.shape[-2:])
        for i in range(Mf.shape[0]):
            with contextlib.suppress(np.linalg.LinAlgError):
                of[i] = np.linalg.solve(Mf[i], rf[i])
    return np.asarray(out[..., 0] if vec else out, dtype=np.float64)


def _block_solve(
    D: FloatArray, C: FloatArray, S: FloatArray, gl: FloatArray, gg: FloatArray, fit_u: IntArray, gcol: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Solve ``[D C; Cᵀ S] [dl; dg] = [gl; gg]`` by eliminating the local blocks."""
    B, G = S.shape[0], S.shape[1]
    ql, pg = C.shape[1], C.shape[2]
    if G == 0:
        return _solve(D, gl), np.zeros((B, 0))
    if ql == 0:
        return np.zeros(gl.shape), _solve(S, gg)
    Y = _solve(D, np.concatenate([C, gl[:, :, None]], axis=2))  # (U, ql, pg + 1)
    CtY = np.einsum("uab,uac->ubc", C, Y)
    Sc = S - _scatter_gg(CtY[:, :, :pg], fit_u, gcol, B, G)
    rhs = gg - _scatter_g(CtY[:, :, pg], fit_u, gcol, B, G)
    dg = _solve(Sc, rhs)
    dl = Y[:, :, pg] - np.einsum("uac,uc->ua", Y[:, :, :pg], dg[fit_u[:, None], gcol])
    return dl, dg


def _quad(
    D: FloatArray, C: FloatArray, S: FloatArray, dl: FloatArray, dg: FloatArray, fit_u: IntArray, gcol: IntArray
) -> FloatArray:
    """``dᵀ A d`` per fit for the block matrix A."""
    B = S.shape[0]
    q_u = np.einsum("ua,uab,ub->u", dl, D, dl)
    if S.shape[1]:
        dgu = dg[fit_u[:, None], gcol]
        q_u = q_u + 2.0 * np.einsum("ua,uab,ub->u", dl, C, dgu)
        q_g = np.einsum("ba,bac,bc->b", dg, S, dg)
    else:
        q_g = np.zeros(B)
    return np.asarray(_bincount(fit_u, weights=q_u, minlength=B) + q_g)


def _fit_max(v_u: FloatArray, fit_u: IntArray, v_g: FloatArray) -> FloatArray:
    """Per-fit maximum over its units' values (U, ql) and its global values (B, G), keeping NaN."""
    B = v_g.shape[0]
    out = np.max(v_g, axis=1, initial=0.0) if v_g.shape[1] else np.zeros(B)
    if v_u.shape[1]:
        per_u = np.max(v_u, axis=1)
        with np.errstate(invalid="ignore"):
            np.maximum.at(out, fit_u, per_u)
        nan_u = np.isnan(per_u)
        if nan_u.any():
            out[fit_u[nan_u]] = np.nan
    if v_g.shape[1]:
        out[np.isnan(v_g).any(axis=1)] = np.nan
    return out


def _take(prob: Problem, fits: IntArray) -> tuple[Problem, IntArray, IntArray]:
    """The sub-problem of the fits `fits` (in that order); returns it with the units and
    rows of the parent that it holds."""
    new_fit = np.full(prob.B, -1, dtype=np.int64)
    new_fit[fits] = np.arange(fits.size)
    units = np.flatnonzero(new_fit[prob.fit_u] >= 0)
    new_unit = np.full(prob.U, -1, dtype=np.int64)
    new_unit[units] = np.arange(units.size)
    rows = np.flatnonzero(new_unit[prob.unit_of] >= 0)
    sub = Problem(
        model=prob.model,
        lx=prob.lx[rows],
        y=prob.y[rows],
        sw=prob.sw[rows],
        unit_of=new_unit[prob.unit_of[rows]],
        fit_u=new_fit[prob.fit_u[units]],
        local=prob.local,
        glob=prob.glob,
        gcol=prob.gcol[units],
        G=prob.G,
        P_fixed=prob.P_fixed[rows],
        lo_l=prob.lo_l[units],
        hi_l=prob.hi_l[units],
        lo_g=prob.lo_g[fits],
        hi_g=prob.hi_g[fits],
        unused_g=prob.unused_g[fits],
        dead_u=None if prob.dead_u is None else prob.dead_u[units],
    )
    return sub, units, rows


@dataclass(slots=True)
class Solution:
    tl: FloatArray  # (U, ql)
    tg: FloatArray  # (B, G)
    rss: FloatArray  # (B,)
    converged: BoolArray  # (B,) the whole fit
    iterations: IntArray  # (B,)
    unit_converged: BoolArray  # (U,) the fit, or else this unit's own and its fit's shared columns settled


def solve(prob: Problem, tl0: FloatArray, tg0: FloatArray, active: BoolArray, max_iter: int) -> Solution:
    """Levenberg–Marquardt on every fit of `prob` marked `active` (the others are left at
    their start, not converged)."""
    B = prob.B
    tl = np.clip(tl0, prob.lo_l, prob.hi_l)
    tg = np.clip(tg0, prob.lo_g, prob.hi_g)
    _, rss_all = prob.rss(tl, tg)
    rss_out = rss_all.copy()
    converged = np.zeros(B, dtype=bool)
    iterations = np.zeros(B, dtype=np.int64)
    unit_conv = np.zeros(prob.U, dtype=bool)
    work = np.flatnonzero(active & np.isfinite(rss_all))
    if work.size == 0:
        return Solution(tl, tg, np.where(active, rss_out, np.nan), converged, iterations, unit_conv)
    sub, units, _ = _take(prob, work)
    st = _State(sub, tl[units], tg[work])
    for it in range(1, max_iter + 1):
        done = st.step(it, max_iter)
        if done.any():
            # write back the finished fits
            fin = np.flatnonzero(done)
            fin_units = np.flatnonzero(np.isin(sub.fit_u, fin))
            tl[units[fin_units]] = st.tl[fin_units]
            tg[work[fin]] = st.tg[fin]
            rss_out[work[fin]] = st.rss[fin]
            converged[work[fin]] = st.conv[fin]
            iterations[work[fin]] = it
            unit_conv[units[fin_units]] = st.conv[sub.fit_u[fin_units]] | (
                st.pinned_u[fin_units] & st.pinned_g[sub.fit_u[fin_units]]
            )
            keep = np.flatnonzero(~done)
            if keep.size == 0:
                work = keep
                break
            sub, kept_units, _ = _take(sub, keep)
            st = st.take(sub, keep, kept_units)
            units = units[kept_units]
            work = work[keep]
    return Solution(tl, tg, np.where(active, rss_out, np.nan), converged, iterations, unit_conv)


class _State:
    """The Levenberg–Marquardt state of the fits still being solved."""

    def __init__(self, prob: Problem, tl: FloatArray, tg: FloatArray, *, fresh: bool = True) -> None:
        self.prob = prob
        self.tl, self.tg = tl, tg
        if not fresh:
            return
        B = prob.B
        self.D, self.C, self.S, self.gl, self.gg, self.rss = prob.normal(tl, tg)
        self.rss = np.where(np.isfinite(self.rss), self.rss, np.inf)
        ysq = np.einsum("rm,rm->r", prob.sw * prob.y, prob.sw * prob.y)
        self.floor = _ZERO_RSS * _bincount(prob.fit_u[prob.unit_of], weights=ysq, minlength=B) + _TINY
        self.lam = np.full(B, _LAM0)
        self.nu = np.full(B, 2.0)
        self.Dl = np.zeros(tl.shape)  # running maxima of the diagonal (Moré's scaling)
        self.Dg = np.zeros(tg.shape)
        self.rss_ref = self.rss.copy()
        self.step_prev = np.full(B, np.inf)
        self.conv = np.zeros(B, dtype=bool)
        # per unit and for each fit's shared columns: the step-size half of the test, so that
        # a curve whose own parameters do not settle is flagged alone (see `Solution`)
        self.prev_u = np.full(prob.U, np.inf)
        self.prev_g = np.full(B, np.inf)
        self.pinned_u = np.zeros(prob.U, dtype=bool)
        self.pinned_g = np.zeros(B, dtype=bool)

    def take(self, prob: Problem, fits: IntArray, units: IntArray) -> _State:
        new = _State(prob, self.tl[units], self.tg[fits], fresh=False)
        new.D, new.C, new.gl, new.Dl = self.D[units], self.C[units], self.gl[units], self.Dl[units]
        new.S, new.gg, new.Dg = self.S[fits], self.gg[fits], self.Dg[fits]
        for name in ("rss", "floor", "lam", "nu", "rss_ref", "step_prev", "conv", "prev_g", "pinned_g"):
            setattr(new, name, getattr(self, name)[fits])
        new.prev_u, new.pinned_u = self.prev_u[units], self.pinned_u[units]
        return new

    def step(self, it: int, max_iter: int) -> BoolArray:
        """One iteration; returns which fits are finished."""
        p = self.prob
        fu, gcol = p.fit_u, p.gcol
        tl, tg = self.tl, self.tg
        # active set: on a bound with the descent direction pointing outward
        fr_l = ((tl <= p.lo_l) & (self.gl < 0)) | ((tl >= p.hi_l) & (self.gl > 0))
        fr_g = ((tg <= p.lo_g) & (self.gg < 0)) | ((tg >= p.hi_g) & (self.gg > 0))
        D, C, S = _freeze(self.D, self.C, self.S, fr_l, fr_g, fu, gcol)
        gl = np.where(fr_l, 0.0, self.gl)
        gg = np.where(fr_g, 0.0, self.gg)
        # Gauss-Newton decrement and relative step size: the convergence test
        nl, ng = _block_solve(D, C, S, gl, gg, fu, gcol)
        dec = _bincount(fu, weights=np.einsum("ua,ua->u", nl, gl), minlength=p.B) + np.einsum("ba,ba->b", ng, gg)
        dec = np.where(np.isfinite(dec), dec, np.inf)
        size = _fit_max(np.abs(nl) / np.maximum(np.abs(tl), 1.0), fu, np.abs(ng) / np.maximum(np.abs(tg), 1.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(np.isfinite(self.step_prev), size / self.step_prev, 0.5)
            rho = np.where(np.isnan(ratio), ratio, np.clip(ratio, 0.0, 0.999))
            small = size * rho / (1.0 - rho) <= _STEP_TOL
        conv = ((dec <= _DEC_TOL * self.rss + self.floor) & (small | (size == 0.0))) | (self.rss <= self.floor)
        converging = ratio < _LINEAR_RATE_MAX
        self.step_prev = size
        rel_l = np.abs(nl) / np.maximum(np.abs(tl), 1.0)
        with np.errstate(invalid="ignore"):
            size_u = np.max(rel_l, axis=1) if nl.shape[1] else np.zeros(p.U)
            size_u = np.where(np.isnan(rel_l).any(axis=1), np.nan, size_u) if nl.shape[1] else size_u
            rel_g = np.abs(ng) / np.maximum(np.abs(tg), 1.0)
            size_g = np.max(rel_g, axis=1, initial=0.0) if ng.shape[1] else np.zeros(p.B)
            size_g = np.where(np.isnan(rel_g).any(axis=1), np.nan, size_g) if ng.shape[1] else size_g
        self.pinned_u, self.prev_u = _pinned(size_u, self.prev_u), size_u
        self.pinned_g, self.prev_g = _pinned(size_g, self.prev_g), size_g
        # damped step (Moré's scaling)
        self.Dl = np.maximum(self.Dl, np.diagonal(D, axis1=1, axis2=2)) if D.shape[1] else self.Dl
        self.Dg = np.maximum(self.Dg, np.diagonal(S, axis1=1, axis2=2)) if S.shape[1] else self.Dg
        dmax = _fit_max(self.Dl, fu, self.Dg)
        fl = 1e-12 * np.maximum(np.where(np.isnan(dmax), 0.0, dmax), _TINY)
        lam = self.lam
        Dd = D.copy()
        if D.shape[1]:
            i = np.arange(D.shape[1])
            Dd[:, i, i] += lam[fu][:, None] * np.maximum(self.Dl, fl[fu][:, None])
        Sd = S.copy()
        if S.shape[1]:
            j = np.arange(S.shape[1])
            Sd[:, j, j] += lam[:, None] * np.maximum(self.Dg, fl[:, None])
        sl, sg = _block_solve(Dd, C, Sd, gl, gg, fu, gcol)
        tl_t = np.clip(tl + sl, p.lo_l, p.hi_l)
        tg_t = np.clip(tg + sg, p.lo_g, p.hi_g)
        dl, dg = tl_t - tl, tg_t - tg
        lin = _bincount(fu, weights=np.einsum("ua,ua->u", dl, gl), minlength=p.B) + np.einsum("ba,ba->b", dg, gg)
        pred = 2.0 * lin
        pred = pred - _quad(D, C, S, dl, dg, fu, gcol)
        _, rss_t = p.rss(tl_t, tg_t)
        with np.errstate(invalid="ignore"):
            accepted = (rss_t < self.rss) & ~conv
        with np.errstate(invalid="ignore", divide="ignore"):
            rho_lm = np.where(pred > 0, (self.rss - rss_t) / pred, 0.0)
        c = 2.0 * rho_lm - 1.0
        self.lam = np.where(accepted, lam * np.maximum(1.0 / 3.0, 1.0 - c * c * c), np.where(conv, lam, lam * self.nu))
        self.nu = np.where(accepted, 2.0, np.where(conv, self.nu, self.nu * 2.0))
        if accepted.any():
            acc_u = accepted[fu]
            self.tl = np.where(acc_u[:, None], tl_t, tl)
            self.tg = np.where(accepted[:, None], tg_t, tg)
            self.rss = np.where(accepted, rss_t, self.rss)
            # new blocks only where accepted (computed for all: the vectorized cost is the same order)
            D2, C2, S2, gl2, gg2, _ = p.normal(self.tl, self.tg)
            self.D = np.where(acc_u[:, None, None], D2, self.D)
            self.C = np.where(acc_u[:, None, None], C2, self.C)
            self.gl = np.where(acc_u[:, None], gl2, self.gl)
            self.S = np.where(accepted[:, None, None], S2, self.S)
            self.gg = np.where(accepted[:, None], gg2, self.gg)
        # stop for lack of progress (the kernel's rule, without its clearly-flat shortcut)
        blown = (self.lam > _LAM_MAX) | (self.nu > 1e30)
        stalled = np.zeros(p.B, dtype=bool)
        if it % _STALL_EVERY == 0:
            stalled = (self.rss_ref - self.rss <= _STALL_REL * self.rss) & ~converging
            self.rss_ref = self.rss.copy()
        stop = blown | stalled | (it >= max_iter)
        self.conv = conv | ((blown | stalled) & (dec <= _STALL_TOL * np.maximum(self.rss, _TINY)))
        return np.asarray(conv | stop)


def _pinned(size: FloatArray, prev: FloatArray) -> BoolArray:
    """The step-size half of the convergence test (remaining error from the linear rate of
    successive Gauss–Newton steps ≤ ``_STEP_TOL``), elementwise."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(np.isfinite(prev), size / prev, 0.5)
        rho = np.where(np.isnan(ratio), ratio, np.clip(ratio, 0.0, 0.999))
        return np.asarray((size * rho / (1.0 - rho) <= _STEP_TOL) | (size == 0.0))


def _freeze(
    D: FloatArray, C: FloatArray, S: FloatArray, fr_l: BoolArray, fr_g: BoolArray, fu: IntArray, gcol: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Zero the rows and columns of frozen parameters (unit diagonal)."""
    if fr_l.any():
        keep = ~fr_l
        D = np.where(keep[:, :, None] & keep[:, None, :], D, 0.0)
        i = np.arange(D.shape[1])
        D[:, i, i] = np.where(fr_l, 1.0, D[:, i, i])
        C = np.where(keep[:, :, None], C, 0.0)
    if fr_g.any():
        keep_g = ~fr_g
        S = np.where(keep_g[:, :, None] & keep_g[:, None, :], S, 0.0)
        j = np.arange(S.shape[1])
        S[:, j, j] = np.where(fr_g, 1.0, S[:, j, j])
        C = np.where(keep_g[fu[:, None], gcol][:, None, :], C, 0.0)
    return D, C, S


@dataclass(slots=True)
class JointCov:
    """``(JᵀWJ)⁻¹`` of a global fit, kept in block form (``O(U)`` memory).

    For units ``u, v`` the covariance of their internal parameter blocks is
    ``δ_uv X_u + Y_u Sinv[gcol_u, gcol_v] Y_vᵀ`` where ``X_u = D_u⁻¹`` on the local rows,
    ``Y_u`` is ``−D_u⁻¹ C_u`` on the local rows and the identity on the global ones, and
    ``Sinv`` is the inverse Schur complement.
    """

    X: FloatArray  # (U, ql, ql)
    Y: FloatArray  # (U, ql + pg, pg): rows local then glob
    Sinv: FloatArray  # (B, G, G)


def joint_covariance(prob: Problem, tl: FloatArray, tg: FloatArray) -> JointCov:
    """The block inverse of ``JᵀWJ`` at ``(tl, tg)``: NaN for a unit whose block, or a fit
    whose Schur complement, is not positive definite."""
    D, C, S, _, _, _ = prob.normal(tl, tg)
    U, _, pg = C.shape
    X = _spd_inv(D)
    E = np.einsum("uab,ubc->uac", X, C)  # D⁻¹ C
    Sc = S - _scatter_gg(np.einsum("uab,uac->ubc", C, E), prob.fit_u, prob.gcol, prob.B, prob.G)
    Sinv = _spd_inv(Sc)
    Y = np.concatenate([-E, np.broadcast_to(np.eye(pg), (U, pg, pg))], axis=1)
    return JointCov(X=X, Y=Y, Sinv=Sinv)


def _spd_inv(A: FloatArray) -> FloatArray:
    """Batched inverse of symmetric positive-definite matrices (equilibrated); NaN where
    not positive definite or not finite."""
    n = A.shape[-1]
    if n == 0:
        return np.zeros(A.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.sqrt(np.abs(np.diagonal(A, axis1=-2, axis2=-1)))
        ok = np.all(np.isfinite(A), axis=(-2, -1)) & np.all(d > 0, axis=-1)
        dd = np.where(ok[..., None], d, 1.0)
        Ssc = np.where(ok[..., None, None], A / dd[..., :, None] / dd[..., None, :], np.eye(n))
    out = np.full(A.shape, np.nan)
    flat_S, flat_o, flat_ok = Ssc.reshape(-1, n, n), out.reshape(-1, n, n), ok.reshape(-1)
    try:
        L = np.linalg.cholesky(flat_S)
        good = np.ones(flat_S.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        L = np.full(flat_S.shape, np.nan)
        good = np.zeros(flat_S.shape[0], dtype=bool)
        for i in range(flat_S.shape[0]):
            try:
                L[i] = np.linalg.cholesky(flat_S[i])
                good[i] = True
            except np.linalg.LinAlgError:
                pass
    good &= flat_ok
    if good.any():
        Li = np.linalg.inv(L[good])
        flat_o[good] = np.einsum("kia,kib->kab", Li, Li)
    dd_f = dd.reshape(-1, n)
    flat_o /= dd_f[:, :, None] * dd_f[:, None, :]
    return out
