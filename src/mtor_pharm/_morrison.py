"""The Morrison (tight-binding, quadratic) inhibition family, ``"morrison"``.

A tight-binding inhibitor depletes its own free concentration: with ``E`` the total
enzyme (active sites), ``I`` the total inhibitor and ``K`` the apparent inhibition
constant, the fraction of enzyme bound is the root of a quadratic (Morrison 1969)

.. math:: \\varphi = \\frac{(E + I + K) - \\sqrt{(E + I + K)^2 - 4EI}}{2E}
                   = \\frac{2I}{(E + I + K) + \\sqrt{(E + I + K)^2 - 4EI}}

and the response is ``bottom + (top - bottom)(1 - φ)``.  The family satisfies
:class:`mtor_pharm.models.ModelFamily` as a :class:`~mtor_pharm._families.CurveFamily`
(``compiled = None``): the engine fits it with the generic batched solver, so standard
errors, ICx and statuses are those of every other family.

Numerics: ``φ`` and ``1 − φ`` are computed from ``I/s``, ``E/s`` and ``K/s`` with
``s = E + I + K`` (scaled in log space, so nothing overflows and ``x = 0`` or ``E = 0``
are exact), in the rationalised form above and with the one difference that could
cancel (``√… − (I − E − K)``) rewritten as ``4IK / (√… + (I − E − K))`` where it is
positive.  ``E = 0`` gives the hyperbola ``K / (K + I)`` exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ._families import CurveFamily
from ._layout import BOTTOM, TOP
from ._typing import BoolArray, FloatArray
from .models import Model, _plateau_cells, _tested_range

__all__ = ["FAMILIES", "Morrison"]

_KI, _E = 2, 3  # internal columns: ln ki_app, ln enzyme
_LN10 = math.log(10.0)
#: start grid of ln ki_app: from 3 decades below the lowest tested concentration to 1 above the highest
_K_GRID = np.linspace(0.0, 1.0, 17)
_K_BELOW, _K_ABOVE = 3.0 * _LN10, 1.0 * _LN10
#: start grid of ln enzyme (when fitted): fractions of the tested log range, and 3 decades below it
_E_GRID = (-0.1, 0.2, 0.5, 0.8, 1.1)


def bound_fraction(
    lx: FloatArray, lk: FloatArray, le: FloatArray, *, derivatives: bool
) -> tuple[FloatArray, ...]:
    """Fraction of enzyme bound ``φ``, ``1 − φ`` and (optionally) ``dφ / d ln K``,
    ``dφ / d ln E`` and ``dφ / d ln I`` at ``ln I = lx``, ``ln K = lk``, ``ln E = le``
    (broadcasting; ``lx = -inf`` is no inhibitor, ``le = -inf`` no enzyme depletion)."""
    lu, lv = lx - lk, le - lk  # ln(I/K), ln(E/K)
    m = np.maximum(np.maximum(lu, lv), 0.0)
    ea, eb, ec = np.exp(lu - m), np.exp(lv - m), np.exp(-m)
    tot = ea + eb + ec
    a, b, c = ea / tot, eb / tot, ec / tot  # I/s, E/s, K/s with s = E + I + K
    R = np.sqrt((a - b) ** 2 + c * c + 2.0 * c * (a + b))  # sqrt(s² − 4EI) / s, no cancellation
    t = a - b - c
    G = np.where(t > 0.0, 4.0 * a * c / (R + np.where(t > 0.0, t, 0.0)), R - t)  # 1 + R − 2a
    one_r = 1.0 + R
    phi = 2.0 * a / one_r
    S = G / one_r
    if not derivatives:
        return phi, S
    dk = -2.0 * a * c / (R * one_r)
    de = -2.0 * a * b * G / (R * one_r * one_r)
    # φ is homogeneous of degree 0 in (I, E, K): the three log-derivatives sum to 0
    return phi, S, dk, de, -(dk + de)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Morrison(CurveFamily):
    """Morrison's tight-binding equation (Prism's "Morrison Ki"):
    ``bottom + (top − bottom) (1 − ((E + x + K) − sqrt((E + x + K)² − 4 E x)) / (2 E))``
    with ``K = ki_app`` and ``E = enzyme``, both concentrations in the unit of ``x``."""

    def _curve(
        self, lx: FloatArray, p: Sequence[FloatArray], *, jacobian: bool
    ) -> tuple[FloatArray, list[FloatArray], FloatArray]:
        bottom, top, lk, le = p
        amp = top - bottom
        if not jacobian:
            _, S = bound_fraction(lx, lk, le, derivatives=False)
            f = bottom + amp * S
            return f, [], f
        phi, S, dk, de, di = bound_fraction(lx, lk, le, derivatives=True)
        f = bottom + amp * S
        zero = 0.0 * f
        return f, [phi + zero, S + zero, -amp * dk + zero, -amp * de + zero], -amp * di + zero

    def start(self, lx: FloatArray, y: FloatArray, w: FloatArray, P_fixed: FloatArray, free: BoolArray) -> FloatArray:
        """A grid in ``ln ki_app`` (× ``ln enzyme`` when it is fitted), with ``bottom`` and
        ``top`` (linear) solved per cell by weighted least squares."""
        lo_x, hi_x = _tested_range(lx, w)
        width = hi_x - lo_x + _K_BELOW + _K_ABOVE
        ks = [lo_x - _K_BELOW + t * width for t in _K_GRID] if free[_KI] else [P_fixed[:, _KI]]
        if free[_E]:
            es = [lo_x + t * (hi_x - lo_x) for t in _E_GRID] + [lo_x - 3.0 * _LN10]
        else:
            es = [P_fixed[:, _E]]
        out = []
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for lk in ks:
                for le in es:
                    _, S = bound_fraction(lx, lk[:, None], le[:, None], derivatives=False)
                    P, _ = _plateau_cells(S[None], y, w, P_fixed, free)
                    P = P[0]
                    P[:, _KI], P[:, _E] = lk, le
                    out.append(P)
        return np.stack(out)

    # ------------------------------------------------------------------ ICx in closed form
    @staticmethod
    def _log_conc(P: FloatArray, phi: FloatArray) -> FloatArray:
        """``ln I`` at which the bound fraction is `phi`: ``I = K φ/(1 − φ) + E φ``
        (NaN outside ``0 < φ < 1``)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            inside = (phi > 0.0) & (phi < 1.0)
            ph = np.where(inside, phi, 0.5)
            out: FloatArray = np.logaddexp(P[:, _KI] + np.log(ph / (1.0 - ph)), P[:, _E] + np.log(ph))
        return np.where(inside, out, np.nan)

    def log_icx(self, P: FloatArray, q: float) -> tuple[FloatArray, FloatArray]:
        """``ln ICx`` in closed form, ``ICx = ki_app q/(1 − q) + enzyme · q`` (``IC50 = ki_app +
        enzyme/2``), whatever the plateaus: the curve has moved the fraction `q` of the way
        from ``top`` (no inhibitor) to ``bottom`` where the bound fraction is `q`.  Also the
        derivative of that target response with respect to the internal parameters."""
        dt = np.zeros_like(P)
        dt[:, BOTTOM], dt[:, TOP] = q, 1.0 - q
        return self._log_conc(P, np.full(P.shape[0], float(q))), dt

    def log_conc_at(self, P: FloatArray, response: float) -> FloatArray:
        """``ln`` of the concentration where the curve equals `response` (NaN if never)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = (P[:, TOP] - float(response)) / (P[:, TOP] - P[:, BOTTOM])
        return self._log_conc(P, phi)


_DESCRIPTION = (
    "Morrison tight-binding (quadratic) inhibition, Prism's 'Morrison Ki' ('Tight inhibition "
    "(Morrison equation)'; top = Vo, ki_app = Ki (1 + S/Km), enzyme = Et): bottom + (top - bottom) "
    "(1 - ((enzyme + x + ki_app) - sqrt((enzyme + x + ki_app)^2 - 4 enzyme x)) / (2 enzyme)); "
    "Morrison 1969, Copeland 2013 ch. 7"
)

def _family(name: str, required: tuple[str, ...], note: str) -> Morrison:
    return Morrison(
        name=name,
        param_names=("bottom", "top", "ki_app", "enzyme"),
        param_kinds=("plateau", "plateau", "conc", "conc"),
        loc_name="ki_app",
        symmetric=False,
        default_fixed={"bottom": 0.0},
        required_fixed=required,
        description=_DESCRIPTION + note,
    )


#: The Morrison families, registered in :data:`mtor_pharm.models.MODELS`: the enzyme
#: concentration given (an assay constant, as in Prism), or fitted too.
FAMILIES: Mapping[str, Model] = {
    "morrison": _family(
        "morrison", ("enzyme",), "; the enzyme concentration is a constant of the assay: give fixed={'enzyme': ...}"
    ),
    "morrison_e": _family(
        "morrison_e", (), "; with the active-enzyme concentration fitted too (identifiable only where binding is "
        "tight: IC50 near enzyme / 2)"
    ),
}
