"""Model families that are not ``bottom + (top - bottom) S(z)``: hormesis and biphasic.

They satisfy the :class:`mtor_pharm.models.ModelFamily` contract as subclasses of
:class:`mtor_pharm.models.Model` with ``compiled = None``: the engine fits them with the
generic batched solver (:mod:`mtor_pharm.fitting._generic`) from the start candidates of
:meth:`CurveFamily.start`, and the results use :meth:`CurveFamily.log_icx` (ICx found
numerically on the falling branch).  Registered in :data:`mtor_pharm.models.MODELS`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from ._layout import BOTTOM, HILL, TOP
from ._typing import BoolArray, FloatArray, IntArray
from .models import (
    START_HILL,
    START_T,
    Model,
    _default_bounds,
    _plateau_cells,
    _target_grad,
    _tested_range,
    linear_cells,
)

__all__ = ["FAMILIES", "Biphasic", "CurveFamily", "Hormesis"]

_ICX_GRID = 2001  # points of the scan for ICx, between the extreme locations +- _ICX_PAD (ln units)
_ICX_PAD = 40.0
_ICX_BISECT = 64
_ICX_CHUNK = 1024


def _no_shape(z: FloatArray, s: FloatArray | None) -> tuple[FloatArray, FloatArray]:
    raise TypeError("this model family has no shape function S(z); use its evaluate() / __call__().")


def _no_inverse(S: FloatArray, s: FloatArray | None) -> FloatArray:
    raise TypeError("this model family has no inverse shape; use its log_icx() / log_conc_at().")


def _logistic(z: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``S = 1 / (1 + e^z)`` and ``dS/dz`` (exact limits at ``z = ±inf``)."""
    S: FloatArray = special.expit(-z)
    return S, -S * (1.0 - S)


def _nanargext(f: FloatArray, ext: Any) -> IntArray:
    """Per row, the first index of the row's extreme under `ext` (``np.fmax``/``np.fmin``:
    NaN ignored; 0 for an all-NaN row)."""
    best = ext.reduce(f, axis=1)
    hit = f == best[:, None]
    return np.asarray(np.argmax(hit, axis=1), dtype=np.int64)


def _z(hill: FloatArray, d: FloatArray) -> FloatArray:
    """``hill · (ln x − ln loc)``; at x = 0 (d = −inf) its limit, ``∓inf`` (0 for hill = 0)."""
    with np.errstate(invalid="ignore"):
        z = hill * d
        out: FloatArray = np.where(np.isnan(z) & ~np.isnan(d), 0.0, z)
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CurveFamily(Model):
    """A family given by its curve on internal parameters (no shape ``S(z)``).

    Subclasses implement :meth:`_curve` (value, Jacobian columns and ``d f / d ln x``,
    broadcasting over their arguments) and :meth:`start`.  ``bottom`` and ``top`` are the
    internal columns 0 and 1; ``hill > 0`` falls from ``top`` (zero dose) to ``bottom``.
    """

    param_kinds: tuple[str, ...]
    _shape: Any = _no_shape
    _inverse: Any = _no_inverse

    @property
    def kinds(self) -> tuple[str, ...]:
        """What each parameter is (see :data:`mtor_pharm.models.PARAM_KINDS`)."""
        return self.param_kinds

    @property
    def compiled(self) -> str | None:
        """``None``: fitted by the generic batched solver."""
        return None

    @property
    def has_s(self) -> bool:
        """No Richards asymmetry."""
        return False

    def default_bounds(self, lx_lo: FloatArray, lx_hi: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Internal (low, high) bounds, shape ``(n, p)`` each, by parameter kind."""
        return _default_bounds(self.kinds, lx_lo, lx_hi)

    # -------------------------------------------------------------- the curve
    def _curve(
        self, lx: FloatArray, p: Sequence[FloatArray], *, jacobian: bool
    ) -> tuple[FloatArray, list[FloatArray], FloatArray]:
        raise NotImplementedError

    def evaluate(self, lx: FloatArray, P: FloatArray, *, jacobian: bool) -> tuple[FloatArray, list[FloatArray]]:
        """Model value and (optionally) its Jacobian columns on internal parameters."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            f, cols, _ = self._curve(lx, [P[:, j : j + 1] for j in range(P.shape[1])], jacobian=jacobian)
        return f, cols

    def dlogx(self, lx: FloatArray, P: FloatArray) -> FloatArray:
        """``d f / d ln x``."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            _, _, g = self._curve(lx, [P[:, j : j + 1] for j in range(P.shape[1])], jacobian=True)
        return g

    def __call__(self, x: ArrayLike, **params: ArrayLike) -> FloatArray:
        """Evaluate the curve at concentrations `x` (concentration parameters in the same unit)."""
        missing = [n for n in self.param_names if n not in params and n not in self.default_fixed]
        if missing:
            raise TypeError(f"{self.name} needs parameters {missing}; got {sorted(params)}.")
        values: Mapping[str, Any] = {**self.default_fixed, **params}
        with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
            lx = np.log(np.asarray(x, dtype=np.float64))
            p = []
            for name, kind in zip(self.param_names, self.kinds, strict=True):
                v = np.asarray(values[name], dtype=np.float64)
                p.append(np.log(v) if kind in ("conc", "log") else v)
            f, _, _ = self._curve(lx, p, jacobian=False)
        return f

    # -------------------------------------------------------------- ICx, numerically
    def _solve_lx(self, P: FloatArray, target: FloatArray, falling: BoolArray | None = None) -> FloatArray:
        """The lowest ``ln x`` where the curve crosses `target` (NaN where it never does), by a
        scan between the extreme locations ± 40 ln units and bisection of the first crossing.

        With `falling` (per curve) the scan starts at the curve's highest point where True and
        at its lowest where False: the crossing on the branch that leaves the peak (a hormesis
        curve may dip below its zero-dose level before it rises to the peak)."""
        n = P.shape[0]
        out = np.full(n, np.nan)
        conc = [j for j, k in enumerate(self.kinds) if k == "conc"]
        u = np.linspace(0.0, 1.0, _ICX_GRID)
        for a in range(0, n, _ICX_CHUNK):
            Pc, tc = P[a : a + _ICX_CHUNK], target[a : a + _ICX_CHUNK]
            ok = np.all(np.isfinite(Pc), axis=1) & np.isfinite(tc)
            if not ok.any():
                continue
            Pc, tc = Pc[ok], tc[ok]
            lo = Pc[:, conc].min(axis=1) - _ICX_PAD
            hi = Pc[:, conc].max(axis=1) + _ICX_PAD
            G = lo[:, None] + u[None, :] * (hi - lo)[:, None]
            f, _ = self.evaluate(G, Pc, jacobian=False)
            d = f - tc[:, None]
            with np.errstate(invalid="ignore"):
                cross = (np.sign(d[:, :-1]) * np.sign(d[:, 1:]) <= 0) & np.isfinite(d[:, :-1]) & np.isfinite(d[:, 1:])
            if falling is not None:
                fc = np.where(np.isfinite(f), f, np.nan)
                peak = np.where(falling[a : a + _ICX_CHUNK][ok], _nanargext(fc, np.fmax), _nanargext(fc, np.fmin))
                cross &= np.arange(cross.shape[1])[None, :] >= peak[:, None]
            has = cross.any(axis=1)
            i = np.argmax(cross, axis=1)
            rows = np.arange(len(Pc))
            left, right = G[rows, i], G[rows, i + 1]
            d_left = d[rows, i]
            for _ in range(_ICX_BISECT):
                mid = 0.5 * (left + right)
                fm, _ = self.evaluate(mid[:, None], Pc, jacobian=False)
                dm = fm[:, 0] - tc
                same = np.sign(dm) == np.sign(d_left)
                left = np.where(same, mid, left)
                d_left = np.where(same, dm, d_left)
                right = np.where(same, right, mid)
            res = np.where(has, 0.5 * (left + right), np.nan)
            idx = np.flatnonzero(ok) + a
            out[idx] = res
        return out

    def log_icx(self, P: FloatArray, q: float) -> tuple[FloatArray, FloatArray]:
        """``ln ICx``: the lowest concentration where the curve has moved the fraction `q` of
        the way from its zero-dose plateau to its high-dose plateau (for a hormesis curve:
        on the falling branch, after the peak), and d(target)/dP for the delta method."""
        hill = P[:, HILL]  # the (first) slope: its sign gives the direction
        bottom, top = P[:, BOTTOM], P[:, TOP]
        target = np.where(hill > 0, top + q * (bottom - top), bottom + q * (top - bottom))
        return self._solve_lx(P, target, falling=hill > 0), _target_grad(P, hill, q)

    def log_conc_at(self, P: FloatArray, response: float) -> FloatArray:
        """``ln`` of the lowest concentration where the curve equals `response` (NaN if never)."""
        return self._solve_lx(P, np.full(P.shape[0], float(response)))

    def canonical(self, P: FloatArray, free: BoolArray) -> FloatArray | None:
        """Per curve, the linear map ``T`` (n, p, p) to the reported form of an equivalent
        parameter vector (``P ← T P``), or ``None`` when the family has a single form."""
        return None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Hormesis(CurveFamily):
    """Brain–Cousens (``alpha = None``: ``h(x) = x``) or Cedergreen–Ritz–Streibig
    (``h(x) = exp(−x^−alpha)``) hormesis:
    ``f(x) = bottom + (top − bottom + f·h(x)) / (1 + (x / xmid)^hill)``."""

    alpha: float | None = None

    def _h(self, lx: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``h(x)`` and ``dh / d ln x``."""
        if self.alpha is None:
            x = np.exp(lx)
            return x, x
        e = np.exp(-self.alpha * lx)
        h = np.exp(-e)
        return h, np.where(h > 0.0, self.alpha * e * h, 0.0)

    def _curve(
        self, lx: FloatArray, p: Sequence[FloatArray], *, jacobian: bool
    ) -> tuple[FloatArray, list[FloatArray], FloatArray]:
        bottom, top, lxmid, hill, fh = p
        h, dh = self._h(lx)
        d = lx - lxmid
        S, Sz = _logistic(_z(hill, d))
        num = top - bottom + fh * h
        f = bottom + num * S
        if not jacobian:
            return f, [], f
        aSz = num * Sz
        cols = [1.0 - S + 0.0 * f, S + 0.0 * f, -hill * aSz, np.where(np.isfinite(d), aSz * d, 0.0), h * S]
        return f, cols, fh * dh * S + aSz * hill

    def start(self, lx: FloatArray, y: FloatArray, w: FloatArray, P_fixed: FloatArray, free: BoolArray) -> FloatArray:
        """A (location × hill > 0) grid; ``bottom``, ``top`` and ``f`` (linear) solved per cell."""
        lo_x, hi_x = _tested_range(lx, w)
        locs = [lo_x + t * (hi_x - lo_x) for t in START_T] if free[2] else [P_fixed[:, 2]]
        hills = list(START_HILL) if free[3] else [P_fixed[:, 3]]
        out = []
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            h, _ = self._h(lx)
            for loc in locs:
                for hill in hills:
                    hh = np.broadcast_to(hill, lo_x.shape)
                    S, _ = _logistic(_z(hh[:, None], lx - loc[:, None]))
                    P, _ = _plateau_cells(S[None], y, w, P_fixed, free, extra=(h * S)[None], extra_col=4)
                    P = P[0]
                    P[:, 2], P[:, 3] = loc, hh
                    out.append(P)
        return np.stack(out)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Biphasic(CurveFamily):
    """Two sites with a fraction (Prism's "Biphasic dose-response"):
    ``bottom + (top − bottom) [frac / (1 + (x/ic50_1)^hill_1) + (1 − frac) / (1 + (x/ic50_2)^hill_2)]``."""

    def _curve(
        self, lx: FloatArray, p: Sequence[FloatArray], *, jacobian: bool
    ) -> tuple[FloatArray, list[FloatArray], FloatArray]:
        bottom, top, l1, h1, l2, h2, frac = p
        d1, d2 = lx - l1, lx - l2
        S1, S1z = _logistic(_z(h1, d1))
        S2, S2z = _logistic(_z(h2, d2))
        M = frac * S1 + (1.0 - frac) * S2
        amp = top - bottom
        f = bottom + amp * M
        if not jacobian:
            return f, [], f
        a1, a2 = amp * frac * S1z, amp * (1.0 - frac) * S2z
        cols = [
            1.0 - M,
            M,
            -h1 * a1,
            np.where(np.isfinite(d1), a1 * d1, 0.0),
            -h2 * a2,
            np.where(np.isfinite(d2), a2 * d2, 0.0),
            amp * (S1 - S2),
        ]
        return f, cols, a1 * h1 + a2 * h2

    def start(self, lx: FloatArray, y: FloatArray, w: FloatArray, P_fixed: FloatArray, free: BoolArray) -> FloatArray:
        """Pairs of grid locations (ic50_1 < ic50_2) × a common hill of either sign, with
        ``bottom`` and the two site amplitudes solved by linear least squares per cell."""
        lo_x, hi_x = _tested_range(lx, w)
        grid = [lo_x + t * (hi_x - lo_x) for t in START_T]
        pairs = list(itertools.combinations(range(len(grid)), 2))
        hills = [1.0, 2.5, -1.0, -2.5]
        out = []
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for (i, j), hill in itertools.product(pairs, hills):
                l1 = grid[i] if free[2] else P_fixed[:, 2]
                l2 = grid[j] if free[4] else P_fixed[:, 4]
                h1 = np.full(lo_x.shape, hill) if free[3] else P_fixed[:, 3]
                h2 = np.full(lo_x.shape, hill) if free[5] else P_fixed[:, 5]
                S1, _ = _logistic(_z(h1[:, None], lx - l1[:, None]))
                S2, _ = _logistic(_z(h2[:, None], lx - l2[:, None]))
                D = np.stack([np.ones_like(S1), S1, S2], axis=-1)[None]
                coef, _ = linear_cells(D, y[None], w)
                b, A1, A2 = coef[0, :, 0], coef[0, :, 1], coef[0, :, 2]
                amp = A1 + A2
                with np.errstate(divide="ignore", invalid="ignore"):
                    fr = np.clip(np.where(amp != 0, A1 / amp, 0.5), 0.0, 1.0)
                P = P_fixed.copy()
                for col, v in ((0, b), (1, b + amp), (2, l1), (3, h1), (4, l2), (5, h2), (6, fr)):
                    if free[col]:
                        P[:, col] = v
                out.append(P)
        return np.stack(out)

    def canonical(self, P: FloatArray, free: BoolArray) -> FloatArray | None:
        """Sites ordered ``ic50_1 ≤ ic50_2`` (swapping them and ``frac ↔ 1 − frac``), then
        ``top ≥ bottom`` (swapping the plateaus and negating both hills): the same curve."""
        n, p = P.shape
        T = np.broadcast_to(np.eye(p), (n, p, p)).copy()
        if free[2:7].all():
            swap = P[:, 4] < P[:, 2]
            S = np.eye(p)
            S[[2, 3, 4, 5]] = S[[4, 5, 2, 3]]
            S[6, 6] = -1.0  # frac -> 1 - frac: the linear part (the shift is applied below)
            P[swap] = P[swap] @ S.T
            P[swap, 6] += 1.0
            T[swap] = S
        if free[0] and free[1] and free[3] and free[5]:
            flip = P[:, 1] < P[:, 0]
            F = np.eye(p)
            F[[0, 1]] = F[[1, 0]]
            F[3, 3] = F[5, 5] = -1.0
            P[flip] = P[flip] @ F.T
            T[flip] = F @ T[flip]
        return T


_PH = ("bottom", "top", "xmid", "hill", "f")
_KH = ("plateau", "plateau", "conc", "slope", "linear")

#: The generic families, registered in :data:`mtor_pharm.models.MODELS`.
FAMILIES: Mapping[str, Model] = {
    "bc5": Hormesis(
        name="bc5",
        param_names=_PH,
        param_kinds=_KH,
        loc_name="xmid",
        symmetric=False,
        description="Brain-Cousens hormesis, drc BC.5 (b = hill, c = bottom, d = top, e = xmid, f = f): "
        "bottom + (top - bottom + f x) / (1 + (x/xmid)^hill)",
    ),
    "bc4": Hormesis(
        name="bc4",
        param_names=_PH,
        param_kinds=_KH,
        loc_name="xmid",
        symmetric=False,
        default_fixed={"bottom": 0.0},
        description="Brain-Cousens hormesis with bottom fixed at 0, drc BC.4",
    ),
    "crs5": Hormesis(
        name="crs5",
        param_names=_PH,
        param_kinds=_KH,
        loc_name="xmid",
        symmetric=False,
        alpha=1.0,
        description="Cedergreen-Ritz-Streibig hormesis with alpha = 1, drc CRS.5a: "
        "bottom + (top - bottom + f exp(-1/x)) / (1 + (x/xmid)^hill)",
    ),
    "crs4": Hormesis(
        name="crs4",
        param_names=_PH,
        param_kinds=_KH,
        loc_name="xmid",
        symmetric=False,
        alpha=1.0,
        default_fixed={"bottom": 0.0},
        description="Cedergreen-Ritz-Streibig hormesis with alpha = 1 and bottom fixed at 0, drc CRS.4a",
    ),
    **{
        f"crs{n}{letter}": Hormesis(
            name=f"crs{n}{letter}",
            param_names=_PH,
            param_kinds=_KH,
            loc_name="xmid",
            symmetric=False,
            alpha=alpha,
            default_fixed={"bottom": 0.0} if n == 4 else {},
            description=f"Cedergreen-Ritz-Streibig hormesis with alpha = {alpha:g}"
            + (" and bottom fixed at 0" if n == 4 else "")
            + f", drc CRS.{n}{letter}",
        )
        for letter, alpha in (("b", 0.5), ("c", 0.25))
        for n in (5, 4)
    },
    "biphasic": Biphasic(
        name="biphasic",
        param_names=("bottom", "top", "ic50_1", "hill_1", "ic50_2", "hill_2", "frac"),
        param_kinds=("plateau", "plateau", "conc", "slope", "conc", "slope", "fraction"),
        loc_name="ic50_1",
        symmetric=True,
        description="Biphasic (two-site) inhibition, Prism's 'Biphasic dose-response' "
        "(HillSlope = -hill): bottom + (top - bottom) [frac / (1 + (x/ic50_1)^hill_1) "
        "+ (1 - frac) / (1 + (x/ic50_2)^hill_2)]",
    ),
}
