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

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

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
def grid_start(model: Model, prob: Problem, free: BoolArray, sign: int = 0) -> FloatArray:
    """Best cell of a (location × hill) grid, with plateaus solved in closed form.

    `sign` restricts the grid to rising (-1) or falling (+1) hills; 0 uses both
    (or only positive hills where the family is symmetric and both plateaus are free).
    """
    n = prob.lx.shape[0]
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
        if sign:
            hills = sign * _GRID_HILL
        else:
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
    return P


# ------------------------------------------------------------------ the solver
@dataclass(slots=True)
class Chunk:
    """A prepared piece of the batch: its global row indices, its problem, and the
    sign of hill its start is restricted to (0: any)."""

    index: NDArray[np.int64]
    prob: Problem
    sign: int = 0


class Outputs:
    """Per-curve solver outputs for the whole batch, written as curves finish."""

    def __init__(self, N: int, p: int, q: int) -> None:
        self.P = np.full((N, p), np.nan)
        self.rss = np.full(N, np.nan)
        self.converged = np.zeros(N, dtype=bool)
        self.iterations = np.zeros(N)
        self.A = np.full((N, q, q), np.nan)


_STATE = ("idx", "P", "rss", "lam", "nu", "D", "lx", "y", "w", "lo", "hi", "r", "cols", "it", "rss_ref", "floor")
_ZERO_RSS = 1e-28  # an RSS below this fraction of sum(w y^2) is an exact fit


class _WorkingSet:
    """The curves currently being iterated, as parallel arrays."""

    idx: NDArray[np.int64]
    P: FloatArray
    rss: FloatArray
    lam: FloatArray
    nu: FloatArray
    D: FloatArray
    lx: FloatArray
    y: FloatArray
    w: FloatArray
    lo: FloatArray
    hi: FloatArray
    r: FloatArray
    cols: FloatArray
    it: FloatArray
    rss_ref: FloatArray
    floor: FloatArray

    def __init__(self, q: int) -> None:
        self.q = q
        self.size = 0

    def add(self, model: Model, chunk: Chunk, free: BoolArray, fidx: NDArray[np.int64]) -> None:
        prob = chunk.prob
        P = grid_start(model, prob, free, chunk.sign)
        P[:, ~free] = prob.P_fixed[:, ~free]
        P = np.clip(P, prob.lo, prob.hi)
        w = prob.w
        f, cols_all = model.evaluate(prob.lx, P, jacobian=True)
        wpos = w > 0
        r = np.where(wpos, f - prob.y, 0.0)
        with np.errstate(invalid="ignore", over="ignore"):
            rss = (w * r * r).sum(axis=1)
        n = P.shape[0]
        new = {
            "idx": chunk.index,
            "P": P,
            "rss": np.where(np.isfinite(rss), rss, np.inf),
            "lam": np.full(n, 1e-3),
            "nu": np.full(n, 2.0),
            "D": np.zeros((n, self.q)),
            "lx": prob.lx,
            "y": prob.y,
            "w": w,
            "lo": prob.lo[:, fidx],
            "hi": prob.hi[:, fidx],
            "r": r,
            "cols": np.stack([np.where(wpos, cols_all[j], 0.0) for j in fidx], axis=0),
            "it": np.zeros(n),
            "rss_ref": np.where(np.isfinite(rss), rss, np.inf),
            "floor": _ZERO_RSS * (w * prob.y * prob.y).sum(axis=1) + _TINY,
        }
        if self.size == 0:
            for k, v in new.items():
                setattr(self, k, v)
        else:
            for k, v in new.items():
                axis = 1 if k == "cols" else 0
                setattr(self, k, np.concatenate([getattr(self, k), v], axis=axis))
        self.size += n

    def keep(self, mask: BoolArray) -> None:
        for k in _STATE:
            v = getattr(self, k)
            setattr(self, k, v[:, mask] if k == "cols" else v[mask])
        self.size = int(mask.sum())


def _normal_matrix(cols: FloatArray, w: FloatArray) -> list[list[FloatArray]]:
    q = cols.shape[0]
    wc = cols * w[None]
    A: list[list[FloatArray]] = [[w[:, 0]] * q for _ in range(q)]
    for i in range(q):
        for j in range(i + 1):
            v = (wc[i] * cols[j]).sum(axis=1)
            A[i][j] = v
            A[j][i] = v
    return A


_STALL_EVERY = 10  # iterations between stall checks
_STALL_REL = 1e-9  # a curve whose RSS fell by less than this (relative) over that span has stalled


def solve(
    model: Model,
    chunks: Iterable[Chunk],
    free: BoolArray,
    out: Outputs,
    *,
    max_iter: int = 200,
    target: int = 4096,
) -> None:
    """Fit every curve of every chunk; results are written into `out` as curves finish.

    The working set is refilled from `chunks` whenever it falls below half of
    `target`, so every iteration stays vectorized over many curves.
    """
    fidx = np.flatnonzero(free)
    q = fidx.size
    ws = _WorkingSet(q)
    feed: Iterator[Chunk] = iter(chunks)
    exhausted = False
    while True:
        while not exhausted and ws.size < target // 2:
            nxt = next(feed, None)
            if nxt is None:
                exhausted = True
            else:
                ws.add(model, nxt, free, fidx)
        if ws.size == 0:
            break
        _iterate(model, ws, fidx, out, max_iter)


def _finish(ws: _WorkingSet, done: BoolArray, conv: BoolArray, out: Outputs) -> None:
    if not done.any():
        return
    d_idx = ws.idx[done]
    out.P[d_idx] = ws.P[done]
    out.rss[d_idx] = ws.rss[done]
    out.converged[d_idx] = conv[done]
    out.iterations[d_idx] = ws.it[done]
    A = _normal_matrix(ws.cols[:, done], ws.w[done])
    q = len(A)
    for i in range(q):
        for j in range(q):
            out.A[d_idx, i, j] = A[i][j]
    ws.keep(~done)


def _iterate(model: Model, ws: _WorkingSet, fidx: NDArray[np.int64], out: Outputs, max_iter: int) -> None:
    """One Levenberg–Marquardt iteration over the whole working set."""
    q = fidx.size
    ws.it += 1
    A = _normal_matrix(ws.cols, ws.w)
    g = [(ws.cols[i] * (ws.w * ws.r)).sum(axis=1) for i in range(q)]
    Pf = ws.P[:, fidx]
    lo, hi = ws.lo, ws.hi
    # active set: on a bound with the descent direction (-g) pointing outward
    frozen = [((Pf[:, i] <= lo[:, i]) & (g[i] > 0)) | ((Pf[:, i] >= hi[:, i]) & (g[i] < 0)) for i in range(q)]
    any_frozen = [bool(fz.any()) for fz in frozen]
    for i in range(q):
        if not any_frozen[i]:
            continue
        g[i] = np.where(frozen[i], 0.0, g[i])
        for j in range(q):
            if i != j:
                A[i][j] = np.where(frozen[i], 0.0, A[i][j])
                A[j][i] = A[i][j]
        A[i][i] = np.where(frozen[i], 1.0, A[i][i])
    # Gauss-Newton decrement: the convergence test
    L, ok = _cholesky(A)
    u = _forward(L, g)
    dec = u[0] * u[0]
    for ui in u[1:]:
        dec = dec + ui * ui
    dec = np.where(ok, dec, np.inf)
    rss = ws.rss
    conv = (dec <= _DEC_TOL * rss + ws.floor) | (rss <= ws.floor)
    # damped step (More's scaling: running maximum of diag(A))
    dmax = np.zeros(ws.size)
    for i in range(q):
        ws.D[:, i] = np.maximum(ws.D[:, i], A[i][i])
        dmax = np.maximum(dmax, ws.D[:, i])
    floor = 1e-12 * np.maximum(dmax, _TINY)
    Ad = [row[:] for row in A]
    for i in range(q):
        Ad[i][i] = A[i][i] + ws.lam * np.maximum(ws.D[:, i], floor)
    Ld, okd = _cholesky(Ad)
    step = _backward(Ld, _forward(Ld, [-gi for gi in g]))
    Pt = ws.P.copy()
    dP = np.empty_like(Pf)
    for i, j in enumerate(fidx):
        Pt[:, j] = np.clip(Pf[:, i] + np.where(okd, step[i], np.nan), lo[:, i], hi[:, i])
        dP[:, i] = Pt[:, j] - Pf[:, i]
    ft, cols_t = model.evaluate(ws.lx, Pt, jacobian=True)
    wpos = ws.w > 0
    rt = np.where(wpos, ft - ws.y, 0.0)
    with np.errstate(invalid="ignore", over="ignore"):
        rss_t = (ws.w * rt * rt).sum(axis=1)
    # predicted reduction of the (projected) step under the linear model
    gd = g[0] * dP[:, 0]
    for i in range(1, q):
        gd = gd + g[i] * dP[:, i]
    dAd = np.zeros(ws.size)
    for i in range(q):
        for j in range(q):
            dAd = dAd + A[i][j] * dP[:, i] * dP[:, j]
    pred = -(2.0 * gd + dAd)
    actual = rss - rss_t
    accept = np.isfinite(rss_t) & (rss_t < rss) & ~conv
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(pred > 0, actual / pred, 0.0)
    factor = np.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
    ws.lam = np.where(accept, ws.lam * factor, ws.lam * ws.nu)
    ws.nu = np.where(accept, 2.0, ws.nu * 2.0)
    if accept.any():
        ws.P = np.where(accept[:, None], Pt, ws.P)
        ws.rss = np.where(accept, rss_t, rss)
        ws.r = np.where(accept[:, None], rt, ws.r)
        new_cols = np.stack([np.where(wpos, cols_t[j], 0.0) for j in fidx], axis=0)
        ws.cols = np.where(accept[None, :, None], new_cols, ws.cols)
    # stop: converged, damping blown up, stalled (no progress over a span), or out of iterations
    blown = (ws.lam > _LAM_MAX) | (ws.nu > 1e30)
    check = (ws.it % _STALL_EVERY) == 0
    stalled = check & (ws.rss_ref - ws.rss <= _STALL_REL * ws.rss)
    ws.rss_ref = np.where(check, ws.rss, ws.rss_ref)
    conv_loose = dec <= _STALL_TOL * np.maximum(ws.rss, _TINY)
    done = conv | blown | stalled | (ws.it >= max_iter)
    _finish(ws, done, conv | ((blown | stalled) & conv_loose), out)
