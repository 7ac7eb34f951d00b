"""Reference (no-interaction) surfaces and their parameter gradients, vectorized over pairs.

Everything here works on bare float64 arrays in the *fraction unaffected* scale ``u``
(1 = untreated, 0 = full effect), with single-agent 4PL curves
``u(x) = bottom + (top - bottom) / (1 + (x/ic50)**hill)`` given as parameter arrays that
broadcast against the dose grids (typically ``(P, 1, 1)`` against ``(P, nA, nB)``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._typing import BoolArray, FloatArray


class Curve(NamedTuple):
    """4PL parameters (natural scale), each broadcastable to the evaluation grid."""

    bottom: FloatArray
    top: FloatArray
    ic50: FloatArray
    hill: FloatArray

    def expand(self, *axes: int) -> Curve:
        """Insert length-1 axes (for broadcasting a (P,) curve onto a grid)."""
        return Curve(*(np.expand_dims(v, axes) for v in self))


def hill4(x: FloatArray, c: Curve) -> FloatArray:
    """The 4PL at doses `x` (``x = 0`` gives the plateau the curve starts from)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = (x / c.ic50) ** c.hill
        out: FloatArray = c.bottom + (c.top - c.bottom) / (1.0 + r)
    return out


def hill4_grad(x: FloatArray, c: Curve) -> tuple[FloatArray, FloatArray]:
    """Value and gradient (last axis: d/d bottom, top, ic50, hill) of the 4PL at `x`."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = (x / c.ic50) ** c.hill
        s = 1.0 / (1.0 + r)
        span = c.top - c.bottom
        value = c.bottom + span * s
        ds = s * s * r  # = r / (1 + r)^2
        lnx = np.where(x > 0, np.log(np.where(x > 0, x, 1.0) / c.ic50), 0.0)
        g_bottom = 1.0 - s
        g_top = s
        g_ic50 = span * ds * c.hill / c.ic50
        g_hill = -span * ds * lnx
    grad = np.stack(np.broadcast_arrays(g_bottom, g_top, g_ic50, g_hill), axis=-1)
    grad = np.where(np.isfinite(grad), grad, 0.0)
    return value, grad


def active(c: Curve) -> BoolArray:
    """Curves that fall from `top` to `bottom` (an effect that rises with dose): Loewe needs them."""
    with np.errstate(invalid="ignore"):
        out: BoolArray = (c.hill > 0) & (c.top > c.bottom) & np.isfinite(c.ic50) & (c.ic50 > 0)
    return out


def _term(d: FloatArray, u: FloatArray, c: Curve, act: BoolArray) -> FloatArray:
    """``d / X(u)``, with ``X`` the single-agent dose giving `u` (0 past the agent's max, ∞ above its top)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        q = np.clip((u - c.bottom) / (c.top - c.bottom), 0.0, 1.0)
        t = (d / c.ic50) * (q / (1.0 - q)) ** (1.0 / c.hill)
        t = np.where(d == 0, 0.0, t)
    out: FloatArray = np.where(act, t, 0.0)
    return out


class LoeweSolution(NamedTuple):
    reference: FloatArray  # u on the grid
    beyond: BoolArray  # combination wells whose effect lies beyond the weaker agent's maximum
    grad_a: FloatArray  # (..., 4) d reference / d params of A
    grad_b: FloatArray


def loewe(a: FloatArray, b: FloatArray, ca: Curve, cb: Curve, *, iterations: int = 48) -> LoeweSolution:
    """Solve ``a / X_A(u) + b / X_B(u) = 1`` for the Loewe-additive ``u`` at every well.

    Bisection on ``u`` between the weaker agent's maximal effect and the lower top, for
    all wells at once (``G(u)`` is increasing there).  Where even the stronger agent
    alone passes the weaker agent's maximal effect (``G`` ≥ 0 at that bound) no
    Loewe-additive dose pair exists; the reference is then the stronger single agent
    (which is the continuous extension of the equation: the weaker agent contributes
    nothing beyond its maximum) and the well is flagged in ``beyond``.  Margins (one dose
    0) give the single-agent curves.
    """
    a, b = np.broadcast_arrays(a, b)
    act_a, act_b = active(ca), active(cb)
    ua, ga = hill4_grad(a, ca)
    ub, gb = hill4_grad(b, cb)
    hsa = np.minimum(ua, ub)
    inf = np.inf
    lo = np.maximum(np.where(act_a, ca.bottom, -inf), np.where(act_b, cb.bottom, -inf))
    hi = np.minimum(np.where(act_a, ca.top, inf), np.where(act_b, cb.top, inf))
    lo, hi = np.broadcast_arrays(lo, hi)
    both_active = np.broadcast_to(act_a & act_b, lo.shape)
    combo = (a > 0) & (b > 0)

    def G(u: FloatArray) -> FloatArray:
        return _term(a, u, ca, act_a) + _term(b, u, cb, act_b) - 1.0

    with np.errstate(invalid="ignore"):
        g_lo = G(np.where(np.isfinite(lo), lo, 0.0))
        solvable = combo & both_active & np.isfinite(lo) & np.isfinite(hi) & (lo < hi) & (g_lo < 0)
    lo_s = np.where(solvable, lo, 0.0)
    hi_s = np.where(solvable, hi, 1.0)
    for _ in range(iterations):
        mid = 0.5 * (lo_s + hi_s)
        below = G(mid) < 0
        lo_s = np.where(below, mid, lo_s)
        hi_s = np.where(below, hi_s, mid)
    root = 0.5 * (lo_s + hi_s)
    # one agent inactive (not a falling curve): Loewe reduces to the other agent alone
    only_a = combo & ~both_active & np.broadcast_to(act_a, lo.shape)
    only_b = combo & ~both_active & np.broadcast_to(act_b, lo.shape)
    beyond = combo & both_active & ~solvable
    ref = np.where(solvable, root, np.where(only_a, ua, np.where(only_b, ub, hsa)))
    ref = np.where(a == 0, ub, np.where(b == 0, ua, ref))

    # gradients: implicit function theorem on G(u, θ) = 0 where solved, else the single curve used
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dA, dgA_du = _term_grad(a, root, ca)
        dB, dgB_du = _term_grad(b, root, cb)
        denom = (dgA_du + dgB_du)[..., None]
        ia = -dA / denom
        ib = -dB / denom
    fallback_a = only_a | (~only_b & (ua <= ub))  # the single curve used where not solved
    pick_a = ((b == 0) & (a > 0)) | (combo & ~solvable & fallback_a)
    pick_b = (a == 0) | (combo & ~solvable & ~fallback_a)
    grad_a = np.where(solvable[..., None], ia, np.where(pick_a[..., None], ga, 0.0))
    grad_b = np.where(solvable[..., None], ib, np.where(pick_b[..., None], gb, 0.0))
    grad_a = np.where(np.isfinite(grad_a), grad_a, 0.0)
    grad_b = np.where(np.isfinite(grad_b), grad_b, 0.0)
    return LoeweSolution(ref, beyond, grad_a, grad_b)


def _term_grad(d: FloatArray, u: FloatArray, c: Curve) -> tuple[FloatArray, FloatArray]:
    """Derivatives of ``T = (d/ic50) (q/(1-q))**(1/hill)`` w.r.t. (bottom, top, ic50, hill) and u."""
    span = c.top - c.bottom
    q = (u - c.bottom) / span
    T = (d / c.ic50) * (q / (1.0 - q)) ** (1.0 / c.hill)
    k = T / (c.hill * q * (1.0 - q) * span)  # dT/du
    d_bottom = -T / (c.hill * q * span)
    d_top = -T / (c.hill * (1.0 - q) * span)
    d_ic50 = -T / c.ic50
    d_hill = -T * np.log(q / (1.0 - q)) / c.hill**2
    grads = np.stack(np.broadcast_arrays(d_bottom, d_top, d_ic50, d_hill), axis=-1)
    return grads, np.broadcast_to(k, T.shape)


# ---------------------------------------------------------------------------- median effect
class MedianEffect(NamedTuple):
    """``fa/fu = (D/Dm)**m`` per curve, from the linear median-effect plot."""

    dm: FloatArray
    m: FloatArray
    r: FloatArray  # linear correlation coefficient of the median-effect plot
    n: FloatArray  # points used (0 < fa < 1, D > 0)


def median_effect_fit(x: FloatArray, fa: FloatArray) -> MedianEffect:
    """Least squares of ``log(fa/fu)`` on ``log D`` along the last axis (Chou's median-effect plot).

    Points with ``D ≤ 0``, ``fa ≤ 0``, ``fa ≥ 1`` or NaN are not on the plot and are left out
    (as CompuSyn does); fewer than two points give NaN.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = np.isfinite(x) & np.isfinite(fa) & (x > 0) & (fa > 0) & (fa < 1)
        lx = np.where(ok, np.log(np.where(ok, x, 1.0)), 0.0)
        z = np.where(ok, np.log(np.where(ok, fa, 0.5) / (1.0 - np.where(ok, fa, 0.5))), 0.0)
        n = ok.sum(axis=-1).astype(np.float64)
        mx = lx.sum(axis=-1) / n
        mz = z.sum(axis=-1) / n
        dx = np.where(ok, lx - mx[..., None], 0.0)
        dz = np.where(ok, z - mz[..., None], 0.0)
        sxx = (dx * dx).sum(axis=-1)
        sxz = (dx * dz).sum(axis=-1)
        szz = (dz * dz).sum(axis=-1)
        m = sxz / sxx
        c = mz - m * mx
        dm = np.exp(-c / m)
        r = sxz / np.sqrt(sxx * szz)
    bad = (n < 2) | ~(sxx > 0)
    nan = np.nan
    return MedianEffect(np.where(bad, nan, dm), np.where(bad, nan, m), np.where(bad, nan, r), n)


def median_effect_dose(me: MedianEffect, fa: FloatArray) -> FloatArray:
    """Dose giving fraction affected `fa`: ``Dx = Dm (fa/(1-fa))**(1/m)`` (NaN outside 0 < fa < 1)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ok = (fa > 0) & (fa < 1)
        f = np.where(ok, fa, 0.5)
        out: FloatArray = np.where(ok, me.dm * (f / (1.0 - f)) ** (1.0 / me.m), np.nan)
    return out


# ---------------------------------------------------------------------------- windows
def best_window_mean(values: FloatArray, size: int) -> FloatArray:
    """Largest mean over ``size × size`` windows of the last two axes (NaN ignored; all-NaN windows skipped)."""
    from numpy.lib.stride_tricks import sliding_window_view

    finite = np.isfinite(values)
    v = np.where(finite, values, 0.0)
    sums = sliding_window_view(v, (size, size), axis=(-2, -1)).sum(axis=(-2, -1))
    counts = sliding_window_view(finite, (size, size), axis=(-2, -1)).sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.where(counts > 0, counts, 1), -np.inf)
    best = means.reshape(means.shape[:-2] + (-1,)).max(axis=-1)
    out: FloatArray = np.where(np.isfinite(best), best, np.nan)
    return out
