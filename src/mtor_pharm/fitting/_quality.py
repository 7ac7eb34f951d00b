"""Fit quality: the ambiguity rule, a pure function of a fit's result arrays.

GraphPad Prism calls a fit "ambiguous" when the data do not define some parameter: its
*dependency* on the others exceeds 0.9999 and its confidence interval is very wide
(https://www.graphpad.com/guides/prism/latest/curve-fitting/reg_analysischeck_nonlin_ambiguous.htm;
dependency: https://www.graphpad.com/guides/prism/8/curve-fitting/reg_diagnostics_tab_4_2.htm).
:func:`ambiguous` applies that test and two plainer ones to every curve of a batch.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import special

from .._typing import FloatArray

__all__ = ["AMBIGUITY_RULE", "MAX_CI_DECADES", "MAX_DEPENDENCY", "ambiguous"]

#: Prism's threshold on a parameter's dependency.
MAX_DEPENDENCY = 0.9999
#: Widest 95 % confidence interval of the location parameter (IC50), in decades (100-fold).
MAX_CI_DECADES = 2.0
#: The rule in words (quoted by the docs and by ``STATUS_MESSAGES``).
AMBIGUITY_RULE = (
    "a free parameter has no finite standard error, or its dependency on the others exceeds 0.9999 "
    "(Prism's 'ambiguous'), or the 95% CI of the Hill slope includes 0, or the 95% CI of the IC50 "
    "spans more than 2 decades"
)

_LOCATION = ("ic50", "xmid")


def ambiguous(
    param_names: tuple[str, ...],
    free: NDArray[np.bool_],
    params: FloatArray,
    stderr: FloatArray,
    covariance: FloatArray,
    dof: NDArray[np.integer] | FloatArray,
    determined: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """True for the curves whose fit is ambiguous (see :data:`AMBIGUITY_RULE`).

    Parameters
    ----------
    param_names : tuple of str
        Parameter order of the last axes.
    free : ndarray of bool, shape (p,)
        Which parameters were fitted (not fixed).
    params, stderr : ndarray, shape (N, p)
        Estimates and standard errors on the reported scale (IC50 as a concentration).
    covariance : ndarray, shape (N, p, p)
        Their covariance.
    dof : ndarray, shape (N,)
        Residual degrees of freedom.
    determined : ndarray of bool, shape (N,)
        Curves to judge (the others, e.g. flat or unfitted, are never ambiguous:
        they carry their own status).

    Returns
    -------
    ndarray of bool, shape (N,)

    Notes
    -----
    The dependency of parameter *i* is ``1 − 1 / (C_ii (C⁻¹)_ii)`` with ``C`` the
    covariance of the free parameters; it is invariant to rescaling a parameter
    and computed here from the eigen-decomposition of the correlation matrix.
    A perfect fit (every free standard error exactly 0) is not ambiguous.
    """
    N = params.shape[0]
    out = np.zeros(N, dtype=np.bool_)
    idx = np.flatnonzero(free)
    if idx.size == 0 or N == 0:
        return out
    se = stderr[:, idx]
    finite_se = np.all(np.isfinite(se), axis=1)
    perfect = finite_se & np.all(se == 0.0, axis=1)
    out |= ~finite_se
    judge = determined & finite_se & ~perfect & np.all(se > 0.0, axis=1)
    rows = np.flatnonzero(judge)
    if rows.size:
        C = covariance[np.ix_(rows, idx, idx)]
        d = np.sqrt(np.einsum("nii->ni", C))
        R = C / (d[:, :, None] * d[:, None, :])
        R = 0.5 * (R + np.swapaxes(R, 1, 2))
        if np.all(np.isfinite(R)):
            lam, V = np.linalg.eigh(R)
            tiny = lam[:, 0] <= 1e-12 * np.maximum(lam[:, -1], 1e-300)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                rinv_diag = np.einsum("nik,nk->ni", V * V, 1.0 / np.where(lam > 0, lam, np.nan))
                dependency = 1.0 - 1.0 / rinv_diag
            bad_dep = tiny | np.any(~(dependency <= MAX_DEPENDENCY), axis=1)
        else:
            bad_dep = np.ones(rows.size, dtype=np.bool_)
        out[rows] |= bad_dep
    with np.errstate(invalid="ignore", divide="ignore"):
        t = special.stdtrit(np.where(np.asarray(dof) > 0, np.asarray(dof, dtype=np.float64), np.nan), 0.975)
    if "hill" in param_names and free[param_names.index("hill")]:
        i = param_names.index("hill")
        h, s = params[:, i], stderr[:, i]
        with np.errstate(invalid="ignore"):
            crosses = np.abs(h) <= t * s
        out |= determined & ~perfect & finite_se & crosses
    for name in _LOCATION:
        if name in param_names and free[param_names.index(name)]:
            i = param_names.index(name)
            with np.errstate(invalid="ignore", divide="ignore"):
                half_width = t * stderr[:, i] / params[:, i]  # ln-scale half width
                wide = ~(2.0 * half_width <= MAX_CI_DECADES * math.log(10.0))
            out |= determined & ~perfect & finite_se & wide
    return out & determined
