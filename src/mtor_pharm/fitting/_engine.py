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
held at a bound) is below ``1e-14 · RSS``: the distance to the optimum is then
below about ``1e-7 · sqrt(dof)`` standard errors, and the RSS within 1e-14 of its minimum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .._typing import BoolArray, FloatArray
from ..models import Model

_DEC_TOL = 1e-14  # converged: GN decrement <= _DEC_TOL * rss
_LINEAR_RATE_MAX = 0.95  # successive GN steps shrinking faster than this: still converging
_STEP_TOL = 1e-9  # ... and the estimated remaining error <= _STEP_TOL * max(|param|, 1)
_STALL_TOL = 1e-10  # accepted as converged if damping blew up but decrement <= this * rss
_LAM_MAX = 1e16
_TINY = 1e-300

# coarse start grid
_GRID_T = np.linspace(-0.1, 1.1, 6)  # fractions of each curve's log-concentration range
_GRID_HILL = np.array([0.7, 1.6, 4.0])


@dataclass(slots=True)
class Problem:
    """A block of curves, already pooled and masked (see ``_api._chunks``)."""

    lx: FloatArray  # (n, k) ln x, -inf for x == 0, 0 where w == 0
    y: FloatArray  # (n, k) (mean) responses, 0 where w == 0
    w: FloatArray  # (n, k) weights (replicate counts x user weights), 0 = missing
    lx_lo: FloatArray  # (n,) ln of the smallest positive concentration
    lx_hi: FloatArray  # (n,) ln of the largest concentration
    P_fixed: FloatArray  # (n, p) internal values of fixed parameters (others ignored)
    lo: FloatArray  # (n, p) internal lower bounds
    hi: FloatArray  # (n, p) internal upper bounds
    # (n,) a (pooled) RSS above which the curve is clearly flat (F test p > 0.5 against a
    # flat line); such a curve that stops making progress is not iterated further
    flat_rss: FloatArray | None = None


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
_GRID_ROWS = 256  # curves per grid sub-block: (rows, cells, points) temporaries stay in cache


def grid_start(model: Model, prob: Problem, free: BoolArray, sign: int = 0) -> FloatArray:
    """Best cell of a (location × hill) grid, in cache-sized sub-blocks (see :func:`_grid_block`)."""
    n = prob.lx.shape[0]
    if n <= _GRID_ROWS:
        return _grid_block(model, prob, free, sign)
    parts = []
    for a in range(0, n, _GRID_ROWS):
        sl = slice(a, a + _GRID_ROWS)
        sub = Problem(
            lx=prob.lx[sl],
            y=prob.y[sl],
            w=prob.w[sl],
            lx_lo=prob.lx_lo[sl],
            lx_hi=prob.lx_hi[sl],
            P_fixed=prob.P_fixed[sl],
            lo=prob.lo[sl],
            hi=prob.hi[sl],
        )
        parts.append(_grid_block(model, sub, free, sign))
    return np.concatenate(parts)


def _grid_block(model: Model, prob: Problem, free: BoolArray, sign: int = 0) -> FloatArray:
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
        S, _ = model.shape(z, log_s)  # padded points (w = 0) have finite S and do not count
    w = prob.w[:, None, :]
    y = prob.y[:, None, :]
    rss: FloatArray | None = None
    unbounded = bool(np.isinf(prob.lo[:, :2]).all() and np.isinf(prob.hi[:, :2]).all())
    if free[0] and free[1]:
        wS = w * S
        sw = _rowsum(w)
        sS = _rowsum(wS)
        sSS = _rowsum(wS * S)
        sy = _rowsum(w * y)
        sSy = _rowsum(wS * y)
        det = sw * sSS - sS * sS
        with np.errstate(invalid="ignore", divide="ignore"):
            b = (sw * sSy - sS * sy) / det  # amplitude top - bottom
            a = (sy - b * sS) / sw
        bad = ~(np.abs(det) > 1e-12 * sw * sSS)
        a = np.where(bad, sy / np.maximum(sw, _TINY), a)
        b = np.where(bad, 0.0, b)
        bottom, top = a, a + b
        if unbounded:  # RSS at the linear least-squares solution, without the residuals
            rss = _rowsum(prob.w * prob.y * prob.y)[:, None] - a * sy - b * sSy
    elif free[1]:  # bottom fixed
        b0 = P[:, 0:1]
        with np.errstate(invalid="ignore", divide="ignore"):
            amp = _rowsum(w * S * (y - b0[:, :, None])) / _rowsum(w * S * S)
        bottom = np.broadcast_to(b0, (n, G))
        top = b0 + np.nan_to_num(amp)
    elif free[0]:  # top fixed
        t0 = P[:, 1:2]
        R = 1.0 - S
        with np.errstate(invalid="ignore", divide="ignore"):
            amp = _rowsum(w * R * (y - t0[:, :, None])) / _rowsum(w * R * R)
        top = np.broadcast_to(t0, (n, G))
        bottom = t0 + np.nan_to_num(amp)
    else:
        bottom = np.broadcast_to(P[:, 0:1], (n, G))
        top = np.broadcast_to(P[:, 1:2], (n, G))
    if rss is None:
        bottom = np.clip(bottom, prob.lo[:, 0:1], prob.hi[:, 0:1])
        top = np.clip(top, prob.lo[:, 1:2], prob.hi[:, 1:2])
        resid = bottom[:, :, None] + (top - bottom)[:, :, None] * S - y
        rss = _rowsum(w * resid * resid)
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

    def __init__(self, N: int, p: int, q: int, *, progress: Callable[[int], None] | None = None) -> None:
        self.P = np.full((N, p), np.nan)
        self.rss = np.full(N, np.nan)
        self.converged = np.zeros(N, dtype=bool)
        self.iterations = np.zeros(N)
        self.A = np.full((N, q, q), np.nan)
        #: called with the number of curves that just finished (for progress displays)
        self.progress = progress


def _rowsum(a: FloatArray) -> FloatArray:
    """Sum over the last (short) axis.

    ``einsum`` is several times faster than ``a.sum(axis=-1)`` for the 5-50 points of a
    dose-response curve and, unlike a BLAS matrix-vector product, adds each row in the
    same order whatever the batch around it, so a curve's result does not depend on
    which other curves share its block.
    """
    out: FloatArray = np.einsum("...k->...", a)
    return out


def _gram(cols: list[FloatArray], w: FloatArray) -> list[list[FloatArray]]:
    """``Σ w c_i c_j`` for a list of (n, k) columns, as a nested list of (n,) arrays."""
    q = len(cols)
    A: list[list[FloatArray]] = [[w[:, 0]] * q for _ in range(q)]
    for i in range(q):
        wc = w * cols[i]
        for j in range(i + 1):
            v = _rowsum(wc * cols[j])
            A[i][j] = v
            A[j][i] = v
    return A


def _solve_small(G: list[list[FloatArray]], b: list[FloatArray]) -> list[FloatArray]:
    """Solve the 1x1 or 2x2 systems ``G x = b`` in closed form (NaN where singular)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if len(b) == 1:
            return [b[0] / G[0][0]]
        det = G[0][0] * G[1][1] - G[0][1] * G[1][0]
        return [(G[1][1] * b[0] - G[0][1] * b[1]) / det, (G[0][0] * b[1] - G[1][0] * b[0]) / det]


# ------------------------------------------------------------------ kernels
class _Kernel:
    """How one iteration's normal equations and a trial's RSS are computed.

    Two kernels share the damping, bound and convergence logic of :func:`solve`:
    ``_Full`` runs Levenberg–Marquardt on every free parameter; ``_VarPro`` solves the
    plateaus (which enter linearly) in closed form for every trial location/hill and
    runs Levenberg–Marquardt on the nonlinear parameters only, with Kaufman's Jacobian.
    """

    #: internal indices of the parameters the LM step acts on
    step_idx: NDArray[np.int64]

    def __init__(self, model: Model, free: BoolArray) -> None:
        self.model = model
        self.free = free
        self.fidx = np.flatnonzero(free)

    def start(
        self, ws: _WorkingSet, P: FloatArray, lx: FloatArray, y: FloatArray, w: FloatArray
    ) -> dict[str, FloatArray]:
        raise NotImplementedError

    def normal(self, ws: _WorkingSet) -> tuple[list[list[FloatArray]], list[FloatArray]]:
        raise NotImplementedError

    def trial(self, ws: _WorkingSet, Pt: FloatArray) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
        """RSS at the trial point, the trial parameters (linear ones filled in) and state to keep."""
        raise NotImplementedError

    def full_normal(self, P: FloatArray, lx: FloatArray, w: FloatArray) -> list[list[FloatArray]]:
        """``JᵀWJ`` over all free parameters (for the covariance)."""
        _, cols = self.model.evaluate(lx, P, jacobian=True)
        return _gram([cols[j] for j in self.fidx], w)


class _Full(_Kernel):
    def __init__(self, model: Model, free: BoolArray) -> None:
        super().__init__(model, free)
        self.step_idx = self.fidx

    def _state(
        self, P: FloatArray, lx: FloatArray, y: FloatArray, w: FloatArray
    ) -> tuple[FloatArray, dict[str, FloatArray]]:
        f, cols = self.model.evaluate(lx, P, jacobian=True)
        r = f - y
        with np.errstate(invalid="ignore", over="ignore"):
            rss = _rowsum(w * r * r)
        return rss, {"r": r, "cols": np.stack([cols[j] for j in self.fidx], axis=1)}

    def start(
        self, ws: _WorkingSet, P: FloatArray, lx: FloatArray, y: FloatArray, w: FloatArray
    ) -> dict[str, FloatArray]:
        rss, st = self._state(P, lx, y, w)
        st["rss"] = rss
        return st

    def normal(self, ws: _WorkingSet) -> tuple[list[list[FloatArray]], list[FloatArray]]:
        cols = [ws.x["cols"][:, i] for i in range(self.fidx.size)]
        wr = ws.w * ws.x["r"]
        A = _gram(cols, ws.w)
        ws.full_A = [row[:] for row in A]  # _iterate replaces entries of A for frozen parameters
        return A, [_rowsum(c * wr) for c in cols]

    def trial(self, ws: _WorkingSet, Pt: FloatArray) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
        rss, st = self._state(Pt, ws.lx, ws.y, ws.w)
        return rss, Pt, st


class _VarPro(_Kernel):
    """Variable projection for ``y = bottom + (top - bottom) S(z)`` with unbounded plateaus."""

    def __init__(self, model: Model, free: BoolArray) -> None:
        super().__init__(model, free)
        self.step_idx = np.array([j for j in self.fidx if j >= 2], dtype=np.int64)
        self.lin = [j for j in (0, 1) if free[j]]

    def _basis(self, S: FloatArray, P: FloatArray) -> tuple[list[FloatArray], FloatArray]:
        """Free linear basis columns and the fixed offset ``c`` so that f = c + Σ β φ."""
        if self.lin == [0, 1]:
            return [np.ones_like(S), S], np.zeros_like(S)
        if self.lin == [1]:  # bottom fixed
            b0 = P[:, 0:1]
            return [S], b0 * (1.0 - S)
        t0 = P[:, 1:2]  # top fixed
        return [1.0 - S], t0 * S

    def _linear(
        self, S: FloatArray, P: FloatArray, y: FloatArray, w: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, list[FloatArray], list[list[FloatArray]]]:
        """Optimal plateaus for shape S; returns (P with plateaus, residual, rss, basis, Gram)."""
        phi, c = self._basis(S, P)
        G = _gram(phi, w)
        yc = y - c
        beta = _solve_small(G, [_rowsum(w * ph * yc) for ph in phi])
        P = P.copy()
        if self.lin == [0, 1]:
            P[:, 0] = beta[0]
            P[:, 1] = beta[0] + beta[1]
            f = beta[0][:, None] + beta[1][:, None] * S
        elif self.lin == [1]:  # f = bottom (1 - S) + top S, bottom fixed
            P[:, 1] = beta[0]
            f = c + beta[0][:, None] * S
        else:  # top fixed
            P[:, 0] = beta[0]
            f = c + beta[0][:, None] * (1.0 - S)
        r = f - y
        with np.errstate(invalid="ignore", over="ignore"):
            rss = _rowsum(w * r * r)
        return P, r, rss, phi, G

    def _shape(self, P: FloatArray, lx: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray | None]:
        m = self.model
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            d = lx - P[:, 2:3]
            z = P[:, 3:4] * d
            log_s = P[:, 4:5] if m.has_s else None
            S, Sz = m.shape(z, log_s)
        return S, Sz, d, (z if m.has_s else None)

    def _state(
        self, P: FloatArray, lx: FloatArray, y: FloatArray, w: FloatArray
    ) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
        S, Sz, _, z = self._shape(P, lx)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            P2, r, rss, _, G = self._linear(S, P, y, w)
        st = {"r": r, "S": S, "Sz": Sz}
        # the basis Gram matrix at this point, reused by the next normal()
        for a in range(len(G)):
            for b in range(a + 1):
                st[f"G{a}{b}"] = G[a][b]
        if z is not None:
            st["z"] = z
        return rss, P2, st

    def start(
        self, ws: _WorkingSet, P: FloatArray, lx: FloatArray, y: FloatArray, w: FloatArray
    ) -> dict[str, FloatArray]:
        rss, P2, st = self._state(P, lx, y, w)
        P[:] = P2
        st["rss"] = rss
        return st

    def normal(self, ws: _WorkingSet) -> tuple[list[list[FloatArray]], list[FloatArray]]:
        P = ws.P
        S, Sz = ws.x["S"], ws.x["Sz"]
        amp = (P[:, 1] - P[:, 0])[:, None]
        with np.errstate(invalid="ignore"):
            d = ws.lx - P[:, 2:3]
            aSz = amp * Sz
            v: list[FloatArray] = []
            for j in self.step_idx:
                if j == 2:
                    v.append(-P[:, 3:4] * aSz)
                elif j == 3:
                    v.append(np.where(np.isfinite(d), aSz * d, 0.0))
                else:
                    from ..models import _dshape_ds_richards

                    v.append(amp * np.exp(P[:, 4:5]) * _dshape_ds_richards(ws.x["z"], S))
        w = ws.w
        G = self._cached_gram(ws)
        wv = [w * vj for vj in v]
        sv = [_rowsum(a) for a in wv]  # Σ w v_j
        svS = [_rowsum(a * S) for a in wv]  # Σ w S v_j
        if self.lin == [0, 1]:
            h = [[sv[j], svS[j]] for j in range(len(v))]
        elif self.lin == [1]:
            h = [[svS[j]] for j in range(len(v))]
        else:
            h = [[sv[j] - svS[j]] for j in range(len(v))]
        Gh = [_solve_small(G, hj) for hj in h]
        q = len(v)
        V: list[list[FloatArray]] = [[sv[0]] * q for _ in range(q)]
        for i in range(q):
            for j in range(i + 1):
                V[i][j] = V[j][i] = _rowsum(wv[i] * v[j])
        A = [[V[i][j] - sum(h[i][t] * Gh[j][t] for t in range(len(G))) for j in range(q)] for i in range(q)]
        ws.full_A = self._full_from_pieces(G, h, V)
        r = ws.x["r"]
        g = [_rowsum(a * r) for a in wv]
        return A, g

    @staticmethod
    def _cached_gram(ws: _WorkingSet) -> list[list[FloatArray]]:
        if "G11" in ws.x:
            return [[ws.x["G00"], ws.x["G10"]], [ws.x["G10"], ws.x["G11"]]]
        return [[ws.x["G00"]]]

    def _full_from_pieces(
        self, G: list[list[FloatArray]], h: list[list[FloatArray]], V: list[list[FloatArray]]
    ) -> list[list[FloatArray]]:
        """``JᵀWJ`` over all free parameters, from the Gram pieces of the basis and the
        nonlinear columns: the free plateau columns are ``1 - S`` (bottom) and ``S`` (top),
        i.e. the basis itself when one plateau is fixed and ``(φ0 - φ1, φ1)`` for ``(1, S)``."""
        if self.lin == [0, 1]:
            lin = [[G[0][0] - 2.0 * G[0][1] + G[1][1], G[0][1] - G[1][1]], [G[0][1] - G[1][1], G[1][1]]]
            cross = [[hj[0] - hj[1], hj[1]] for hj in h]  # cross[j][l]: nonlinear j x plateau l
        else:
            lin = G
            cross = h
        nl, q = len(lin), len(V)
        F: list[list[FloatArray]] = [[G[0][0]] * (nl + q) for _ in range(nl + q)]
        for a in range(nl):
            for b in range(nl):
                F[a][b] = lin[a][b]
            for j in range(q):
                F[a][nl + j] = F[nl + j][a] = cross[j][a]
        for i in range(q):
            for j in range(q):
                F[nl + i][nl + j] = V[i][j]
        return F

    def trial(self, ws: _WorkingSet, Pt: FloatArray) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
        rss, P2, st = self._state(Pt, ws.lx, ws.y, ws.w)
        return rss, P2, st


def make_kernel(model: Model, free: BoolArray, lo: FloatArray, hi: FloatArray) -> _Kernel:
    """Variable projection where the plateaus are free of bounds, plain LM otherwise."""
    bounded_plateau = bool(np.isfinite(lo[:, :2]).any() or np.isfinite(hi[:, :2]).any())
    if bounded_plateau or not (free[0] or free[1]) or not free[2:].any():
        return _Full(model, free)
    return _VarPro(model, free)


# ------------------------------------------------------------------ the solver
_BASE = (
    "idx",
    "P",
    "rss",
    "lam",
    "nu",
    "D",
    "lx",
    "y",
    "w",
    "lo",
    "hi",
    "it",
    "rss_ref",
    "floor",
    "flat_rss",
    "step_prev",
)
_STALL_FLAT_REL = 1e-3  # ... or by less than this while clearly flat
_ZERO_RSS = 1e-28  # an RSS below this fraction of sum(w y^2) is an exact fit
_STALL_EVERY = 10  # iterations between stall checks
_STALL_REL = 1e-6  # a curve whose RSS fell by less than this (relative) over that span has stalled


class _WorkingSet:
    """The curves currently being iterated, as parallel arrays (axis 0 = curve)."""

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
    it: FloatArray
    rss_ref: FloatArray
    floor: FloatArray
    flat_rss: FloatArray
    step_prev: FloatArray  # scaled size of the previous Gauss-Newton step

    def __init__(self, kernel: _Kernel) -> None:
        self.kernel = kernel
        self.size = 0
        self.x: dict[str, FloatArray] = {}
        #: JᵀWJ over all free parameters at the current P, set by ``kernel.normal``
        self.full_A: list[list[FloatArray]] = []

    def add(self, model: Model, chunk: Chunk) -> None:
        k = self.kernel
        prob = chunk.prob
        free = k.free
        P = grid_start(model, prob, free, chunk.sign)
        P[:, ~free] = prob.P_fixed[:, ~free]
        P = np.clip(P, prob.lo, prob.hi)
        st = k.start(self, P, prob.lx, prob.y, prob.w)
        rss = st.pop("rss")
        rss = np.where(np.isfinite(rss), rss, np.inf)
        n = P.shape[0]
        sidx = k.step_idx
        new = {
            "idx": chunk.index,
            "P": P,
            "rss": rss,
            "lam": np.full(n, 0.1),
            "nu": np.full(n, 2.0),
            "D": np.zeros((n, sidx.size)),
            "lx": prob.lx,
            "y": prob.y,
            "w": prob.w,
            "lo": prob.lo[:, sidx],
            "hi": prob.hi[:, sidx],
            "it": np.zeros(n),
            "rss_ref": rss.copy(),
            "floor": _ZERO_RSS * _rowsum(prob.w * prob.y * prob.y) + _TINY,
            "flat_rss": np.full(n, np.inf) if prob.flat_rss is None else prob.flat_rss,
            "step_prev": np.full(n, np.inf),
        }
        if self.size == 0:
            for name, v in new.items():
                setattr(self, name, v)
            self.x = st
        else:
            for name, v in new.items():
                setattr(self, name, np.concatenate([getattr(self, name), v]))
            self.x = {name: np.concatenate([self.x[name], v]) for name, v in st.items()}
        self.size += n

    def keep(self, mask: BoolArray) -> None:
        for name in _BASE:
            setattr(self, name, getattr(self, name)[mask])
        self.x = {name: v[mask] for name, v in self.x.items()}
        self.size = int(mask.sum())


def solve(
    model: Model,
    chunks: Iterable[Chunk],
    free: BoolArray,
    out: Outputs,
    *,
    kernel: _Kernel | None = None,
    max_iter: int = 200,
    target: int = 4096,
) -> None:
    """Fit every curve of every chunk; results are written into `out` as curves finish.

    The working set is refilled from `chunks` whenever it falls below half of
    `target`, so every iteration stays vectorized over many curves.
    """
    ws = _WorkingSet(kernel or _Full(model, free))
    feed: Iterator[Chunk] = iter(chunks)
    exhausted = False
    while True:
        while not exhausted and ws.size < target // 2:
            nxt = next(feed, None)
            if nxt is None:
                exhausted = True
            else:
                ws.add(model, nxt)
        if ws.size == 0:
            break
        _iterate(ws, out, max_iter)


def _finish(ws: _WorkingSet, done: BoolArray, conv: BoolArray, out: Outputs) -> None:
    if not done.any():
        return
    d_idx = ws.idx[done]
    if out.progress is not None:
        out.progress(int(d_idx.size))
    P = ws.P[done]
    out.P[d_idx] = P
    out.rss[d_idx] = ws.rss[done]
    out.converged[d_idx] = conv[done]
    out.iterations[d_idx] = ws.it[done]
    # converged curves stopped where the last normal matrix was computed: reuse it;
    # the others may have moved since, so recompute theirs at the final parameters
    fresh = done & ~conv
    q = len(ws.full_A)
    for i in range(q):
        for j in range(q):
            out.A[d_idx, i, j] = ws.full_A[i][j][done]
    if fresh.any():
        A = ws.kernel.full_normal(ws.P[fresh], ws.lx[fresh], ws.w[fresh])
        f_idx = ws.idx[fresh]
        for i in range(q):
            for j in range(q):
                out.A[f_idx, i, j] = A[i][j]
    ws.keep(~done)


def _iterate(ws: _WorkingSet, out: Outputs, max_iter: int) -> None:
    """One Levenberg–Marquardt iteration over the whole working set."""
    kernel = ws.kernel
    sidx = kernel.step_idx
    q = sidx.size
    ws.it += 1
    A, g = kernel.normal(ws)
    Pf = ws.P[:, sidx]
    lo, hi = ws.lo, ws.hi
    # active set: on a bound with the descent direction (-g) pointing outward
    for i in range(q):
        frozen = ((Pf[:, i] <= lo[:, i]) & (g[i] > 0)) | ((Pf[:, i] >= hi[:, i]) & (g[i] < 0))
        if not frozen.any():
            continue
        g[i] = np.where(frozen, 0.0, g[i])
        for j in range(q):
            if i != j:
                A[i][j] = np.where(frozen, 0.0, A[i][j])
                A[j][i] = A[i][j]
        A[i][i] = np.where(frozen, 1.0, A[i][i])
    # Gauss-Newton decrement: the convergence test
    L, ok = _cholesky(A)
    u = _forward(L, g)
    dec = u[0] * u[0]
    for ui in u[1:]:
        dec = dec + ui * ui
    dec = np.where(ok, dec, np.inf)
    rss = ws.rss
    # ... and the parameters themselves are pinned down on their own scale (ln-location, hill):
    # Gauss-Newton converges linearly on curves with large residuals, slowly where the IC50 is
    # poorly determined: the remaining error is about step * rho / (1 - rho), with rho the
    # observed ratio of successive steps, and that is what must be small.
    gn = _backward(L, u)
    gn_size = np.zeros(ws.size)
    for i, j in enumerate(sidx):
        gn_size = np.maximum(gn_size, np.abs(gn[i]) / np.maximum(np.abs(ws.P[:, j]), 1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(np.isfinite(ws.step_prev), gn_size / ws.step_prev, 0.5)
        rho = np.clip(ratio, 0.0, 0.999)
    converging = ratio < _LINEAR_RATE_MAX  # steady linear convergence is progress, not a stall
    small = gn_size * rho / (1.0 - rho) <= _STEP_TOL
    ws.step_prev = gn_size
    conv = ((dec <= _DEC_TOL * rss + ws.floor) & (small | (gn_size == 0))) | (rss <= ws.floor)
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
    for i, j in enumerate(sidx):
        Pt[:, j] = np.clip(Pf[:, i] + np.where(okd, step[i], np.nan), lo[:, i], hi[:, i])
        dP[:, i] = Pt[:, j] - Pf[:, i]
    rss_t, Pt, st = kernel.trial(ws, Pt)
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
        acc = np.flatnonzero(accept)
        ws.P[acc] = Pt[acc]
        ws.rss = np.where(accept, rss_t, rss)
        for name, v in st.items():
            ws.x[name][acc] = v[acc]
    # stop: converged, damping blown up, stalled (no progress over a span), or out of iterations
    blown = (ws.lam > _LAM_MAX) | (ws.nu > 1e30)
    check = (ws.it % _STALL_EVERY) == 0
    progress = ws.rss_ref - ws.rss
    stalled = check & (
        ((progress <= _STALL_REL * ws.rss) & ~converging)
        | ((ws.rss > ws.flat_rss) & (progress <= _STALL_FLAT_REL * ws.rss))
    )
    ws.rss_ref = np.where(check, ws.rss, ws.rss_ref)
    conv_loose = dec <= _STALL_TOL * np.maximum(ws.rss, _TINY)
    done = conv | blown | stalled | (ws.it >= max_iter)
    _finish(ws, done, conv | ((blown | stalled) & conv_loose), out)
